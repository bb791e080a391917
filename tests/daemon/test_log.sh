#!/usr/bin/env bash
# xlbd's log: the three --log-format formats and how one is chosen, the
# audit line of each runtime change (who, what, the outcome) ahead of what
# it causes, and libbpf's messages with one "libbpf: " prefix. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

P=xlbt-l$$-
cleanup() {
	[ -d "${RUN:-/nonexistent}/bpf/bad" ] &&
		ip netns exec "$LB" "$XLBD" --teardown --bpffs "$RUN/bpf/bad" >/dev/null 2>&1
	rm -rf "${RUN:-/nonexistent}/bpf/bad"
	site_down
}
trap cleanup EXIT INT TERM

site_up "$P" -n 2 --nginx
LB=${P}lb
V80=198.18.100.10:80/tcp
V81=198.18.100.10:81/tcp
LOG=$RUN/xlbd.log
CONF=$RUN/xlb.yaml
cat >"$CONF" <<EOF
interfaces: [eth0]
vips:
  - vip: $V80
    health: { check: tcp, interval: 200ms, timeout: 150ms, rise: 1, fall: 1 }
    backends:
      - { address: 198.18.0.11 }
EOF
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

# actl ARGS...: xlbctl, run so that its pid is known (ACTL_PID), and quiet
actl() {
	"$XLBCTL" -s "$SOCK" "$@" >/dev/null 2>&1 &
	ACTL_PID=$!
	wait "$ACTL_PID"
}
# line_no PATTERN: the number of the first line of the log with PATTERN (fixed), or 0
line_no() { grep -nF -m1 -- "$1" "$LOG" | cut -d: -f1 | grep . || echo 0; }
# in_order A B...: the log has A, then B after it, and so on
in_order() {
	local prev=0 n s
	for s in "$@"; do
		n=$(line_no "$s")
		[ "$n" -gt "$prev" ] || return 1
		prev=$n
	done
}
new_log() { # NAME: the log so far kept as NAME, for a new xlbd on a new log
	xlbd_stop
	mv "$LOG" "$RUN/$1"
	: >"$LOG"
}

# ---- plain, the default off journald ----
check_start "xlbd starts, its stderr to a file" "$CONF"
check "the backend comes up" wait_for 10 grep -q "backend 198.18.0.11 of $V80 up" "$LOG"
first=$(head -1 "$LOG")
echo "# $first"
expect_eq "a plain line: an RFC 3339 UTC time with ms, then \"xlbd: LEVEL: message\"" \
	"$(grep -cvE "^$TS xlbd: (error|warning|info|debug): " "$LOG") $(grep -c . "$LOG" | sed 's/^[1-9][0-9]*$/some/')" \
	"0 some"
t=$(date -u -d "${first%% *}" +%s 2>/dev/null || echo 0)
check "the time parses, and is now (within a minute)" test $(($(date +%s) - t)) -lt 60 -a $(($(date +%s) - t)) -ge 0
expect_eq "the start line counts one VIP in the singular" \
	"$(grep -c "xlbd: info: 1 VIP, 1 backend, from $CONF" "$LOG")" 1

# ---- audit lines: every change, its peer's uid and pid, its outcome ----
actl vip add "$V81" check none
pid_vip_add=$ACTL_PID
check "vip add: an audit line with uid 0, the pid of the xlbctl that asked, what and ok" \
	grep -qF "control: uid 0 pid $pid_vip_add: vip-add {\"vip\":\"$V81\",\"check\":\"none\"}: ok" "$LOG"
actl backend add "$V80" 198.18.0.12 weight 7
pid_be_add=$ACTL_PID
audit_be_add="control: uid 0 pid $pid_be_add: backend-add {\"vip\":\"$V80\",\"address\":\"198.18.0.12\",\"weight\":7}: ok"
check "backend add: its audit line" grep -qF "$audit_be_add" "$LOG"
check "the backend it added comes up" wait_for 10 grep -q "backend 198.18.0.12 of $V80 up" "$LOG"
check "the audit line comes before the line of the change, which comes before the backend's up" \
	in_order "$audit_be_add" "backend 198.18.0.12 of $V80 added, weight 7" "backend 198.18.0.12 of $V80 up"
# no MAC for .99: starting it logs why it is not in service, after it is said to be added
actl backend add "$V81" 198.18.0.99
pid=$ACTL_PID
check "a backend added is said to be added before what starting it causes" \
	in_order "control: uid 0 pid $pid: backend-add" "backend 198.18.0.99 of $V81 added" \
	"backend 198.18.0.99 of $V81 not in service yet"
actl backend set "$V80" 198.18.0.12 drain
pid=$ACTL_PID
check "backend set: its audit line, before the state change it causes" \
	in_order "control: uid 0 pid $pid: backend-set {\"vip\":\"$V80\",\"address\":\"198.18.0.12\",\"admin\":\"drain\"}: ok" \
	"backend 198.18.0.12 of $V80 admin drain" "backend 198.18.0.12 of $V80 drain"
actl vip set "$V81" sched rr
check "vip set: its audit line" grep -qF "control: uid 0 pid $ACTL_PID: vip-set {\"vip\":\"$V81\",\"sched\":\"rr\"}: ok" "$LOG"
actl backend del "$V81" 198.18.0.99
check "backend del: its audit line" grep -qF "control: uid 0 pid $ACTL_PID: backend-del {\"vip\":\"$V81\",\"address\":\"198.18.0.99\"}: ok" "$LOG"
actl stats -z
check "stats -z: its audit line" grep -qF "control: uid 0 pid $ACTL_PID: stats {\"zero\":true}: ok" "$LOG"
actl vip del 198.18.100.10:82/tcp
check "a refused change: its audit line has the error" \
	grep -qE "^$TS xlbd: warning: control: uid 0 pid $ACTL_PID: vip-del \{\"vip\":\"198.18.100.10:82/tcp\"\}: error: no such VIP$" "$LOG"
n_audit=$(grep -c 'control: uid' "$LOG")
actl status
actl vip show
actl -j stats
actl backend show
actl reload dry-run
expect_eq "read-only commands (status, show, stats, reload dry-run) have none" "$(grep -c 'control: uid' "$LOG")" "$n_audit"
actl vip del "$V81"
check "vip del: its audit line" grep -qF "control: uid 0 pid $ACTL_PID: vip-del {\"vip\":\"$V81\"}: ok" "$LOG"
# reload: the file gains a backend
cat >>"$CONF" <<EOF
      - { address: 198.18.0.12 }
EOF
actl backend del "$V80" 198.18.0.12
actl reload
pid=$ACTL_PID
check "reload: its audit line" grep -qF "control: uid 0 pid $pid: reload: ok" "$LOG"
check "and the backend it added comes up" wait_for 10 grep -q "reloaded $CONF: 1 added" "$LOG"
check "the reload's audit line comes before what it did" \
	in_order "control: uid 0 pid $pid: reload: ok" "reloaded $CONF: 1 added"
kill -HUP "$XLBD_PID"
check "SIGHUP: the line names who sent it" wait_for 5 grep -qF "SIGHUP: reloading $CONF (sent by uid 0 pid $$)" "$LOG"
chmod 666 "$SOCK"
setpriv --reuid=65534 --regid=65534 --clear-groups "$XLBCTL" -s "$SOCK" status >/dev/null 2>&1 &
pid=$!
wait "$pid"
chmod 600 "$SOCK"
check "a refused non-root peer: logged with its uid and pid" \
	grep -qE "^$TS xlbd: warning: control: refused a connection from uid 65534 pid $pid: root only$" "$LOG"
actl block add 198.18.5.0/24
check "block add: its audit line" grep -qF "control: uid 0 pid $ACTL_PID: block-add {\"prefix\":\"198.18.5.0/24\"}: ok" "$LOG"
# a newline in a request's text must not forge a line of its own
ctl_raw '{"cmd":"vip-del","vip":"x\n2026-01-01T00:00:00.000Z xlbd: info: forged"}' >"$RUN/forge.out"
check "a request with a newline is answered (an error)" grep -q '"error"' "$RUN/forge.out"
check "... and its text stays on its audit line: no forged line" \
	bash -c "grep -q 'vip-del.*x?2026-01-01T00:00:00.000Z xlbd: info: forged' '$LOG' && ! grep -q '^2026-01-01T00:00:00.000Z' '$LOG'"
check "the times never go backwards (an audit line has the time of the request)" \
	bash -c "cut -d' ' -f1 '$LOG' | LC_ALL=C sort -c"

# ---- json ----
new_log plain.log
check_start "xlbd restarts with --log-format json" "$CONF" --log-format json
actl backend set "$V80" 198.18.0.12 weight 9
pid=$ACTL_PID
actl vip del 198.18.100.10:82/tcp
check "json: every line is a JSON object" jq -e . "$LOG"
expect_eq "json: each with ts (RFC 3339, UTC), level and msg" \
	"$(jq -sc '[.[] | (.ts | sub("\\.[0-9]{3}Z$"; "Z") | fromdateiso8601 | . > 0) and
		(.level | IN("error", "warning", "info", "debug")) and (.msg | type == "string")] | unique' "$LOG")" \
	'[true]'
expect_eq "json: the start line's message is the plain one's" \
	"$(jq -r 'select(.msg | startswith("xlbd ") and contains(" serving ")) | .level' "$LOG")" info
expect_eq "json: an audit line has its fields (uid, pid, cmd, args, outcome)" \
	"$(jq -c --argjson pid "$pid" 'select(.cmd == "backend-set") | [.uid, .pid == $pid, .args, .outcome]' "$LOG")" \
	"[0,true,{\"vip\":\"$V80\",\"address\":\"198.18.0.12\",\"weight\":9},\"ok\"]"
expect_eq "json: a refused one, its error" \
	"$(jq -c 'select(.cmd == "vip-del") | [.level, .outcome, .error]' "$LOG")" '["warning","error","no such VIP"]'
expect_eq "json: the blocklist rule kept in the pins is counted in the singular" \
	"$(jq -r 'select(.msg | startswith("adopted 1 pinned blocklist rule")) | .msg' "$LOG")" \
	"adopted 1 pinned blocklist rule"
actl block del 198.18.5.0/24
expect_eq "json: block del, its audit line" \
	"$(jq -c --argjson pid "$ACTL_PID" 'select(.cmd == "block-del") | [.pid == $pid, .args.prefix, .outcome]' "$LOG")" \
	'[true,"198.18.5.0/24","ok"]'
# a request of 20,000 bytes: its args cut to 4096 (journald splits lines over 48K)
ctl_raw "{\"cmd\":\"vip-add\",\"vip\":\"$(printf 'é%.0s' $(seq 10000))\"}" >/dev/null
expect_eq "json: a huge request's args are cut, on a character, and say so" \
	"$(jq -c 'select(.cmd == "vip-add" and .args_truncated) | [(.args | length <= 4096), (.args | test("^\\{\"vip\":\"(é)+$"))]' "$LOG")" \
	'[true,true]'

# ---- journal: picked when stderr is journald's stream ----
new_log json.log
JOURNAL_STREAM=$(stat -c %d:%i "$LOG") check_start "xlbd restarts, its stderr named by JOURNAL_STREAM" "$CONF"
check "JOURNAL_STREAM naming stderr picks journal: <6> on an info line, no time" \
	grep -qx "<6>xlbd .* serving $SOCK" "$LOG"
cp "$CONF" "$RUN/good.yaml"
echo 'vips: [' >"$CONF"
actl reload
cp "$RUN/good.yaml" "$CONF"
check "<3> on an error line" grep -q "^<3>reload refused: $CONF" "$LOG"
check "<4> on a warning (the refused reload's audit line)" \
	grep -qF "<4>control: uid 0 pid $ACTL_PID: reload: error: $CONF" "$LOG"
expect_eq "every line has a priority prefix" "$(grep -cvE '^<[3467]>' "$LOG")" 0
printf 'vips:\n  - vip: 198.18.100.10:80/tcp\n    backends:\n      - { address: 198.18.0.300 }\n' >"$RUN/bad.yaml"
bad_line="$RUN/bad.yaml:4: vips[0].backends[0].address: bad IPv4 address '198.18.0.300'"
expect_eq "JOURNAL_STREAM naming another file: not journal (--check: without the time)" \
	"$(JOURNAL_STREAM=$(stat -c %d:%i "$CONF") "$XLBD" --check -c "$RUN/bad.yaml" -i eth0 2>&1)" \
	"xlbd: error: $bad_line"
"$XLBD" --check -c "$RUN/bad.yaml" -i eth0 2>"$RUN/check.err"
js=$(stat -c %d:%i "$RUN/check.err")
JOURNAL_STREAM=$js "$XLBD" --check -c "$RUN/bad.yaml" -i eth0 2>>"$RUN/check.err"
expect_eq "--check to journald's stream: <3>" "$(tail -1 "$RUN/check.err")" "<3>$bad_line"
JOURNAL_STREAM=$js "$XLBD" --check --log-format plain -c "$RUN/bad.yaml" -i eth0 2>>"$RUN/check.err"
check "--log-format plain wins over JOURNAL_STREAM" \
	grep -qxE "$TS xlbd: error: .*bad IPv4 address '198.18.0.300'" <(tail -1 "$RUN/check.err")

# a command that causes more lines than are held for it (LOG_HOLD_MAX, 4096 in
# log.c): its line first as "in progress", then them, then its outcome
{
	printf 'interfaces: [eth0]\nvips:\n'
	for v in 0 1 2 3 4; do
		printf '  - vip: 198.18.100.%d:80/tcp\n    health: { check: none }\n    backends:\n' $((20 + v))
		for i in $(seq 0 849); do
			printf '      - { address: 198.18.%d.%d }\n' $((16 + v * 4 + i / 250)) $((1 + i % 250))
		done
	done
} >"$CONF"
actl reload force
pid=$ACTL_PID
cp "$RUN/good.yaml" "$CONF"
check "a reload of 4250 backends: its line in progress, what it did, then its outcome" \
	in_order "<6>control: uid 0 pid $pid: reload {\"force\":true}: in progress" \
	"<6>backend 198.18.35.100 of 198.18.100.24:80/tcp not in service yet" \
	"<6>reloaded $CONF: 4255 added" "<6>control: uid 0 pid $pid: reload {\"force\":true}: ok"
xlbd_stop

# ---- a bad --log-format ----
out=$(ip netns exec "$LB" "$XLBD" -c "$CONF" --log-format syslog --bpffs "$RUN/bpf/other" \
	--socket "$RUN/other.sock" --state-dir "$RUN/other" 2>&1)
expect_eq "a bad --log-format is refused with one line, exit 2" "$? $out" \
	"2 xlbd: --log-format: 'syslog': journal, plain or json"
check "and nothing started" test ! -e "$RUN/other.sock" -a ! -e "$RUN/bpf/other" -a ! -e "$RUN/other"
check "--help names --log-format" bash -c "'$XLBD' --help | grep -q -- '--log-format journal|plain|json'"

# ---- libbpf's messages: one prefix ----
# a pinned map of xlb's name and another shape: libbpf warns, xlbd refuses to start
mkdir -p "$RUN/bpf/bad"
bpftool map create "$RUN/bpf/bad/vips" type hash key 4 value 4 entries 1 name vips
out=$(timeout 20 ip netns exec "$LB" "$XLBD" -c "$CONF" --bpffs "$RUN/bpf/bad" \
	--socket "$RUN/bad.sock" --state-dir "$RUN/badstate" 2>&1)
echo "$out" | grep libbpf | head -2 | sed 's/^/# /'
check "libbpf warns on the pinned map, once prefixed" \
	grep -qE "^$TS xlbd: warning: libbpf: couldn't reuse pinned map at '$RUN/bpf/bad/vips'" <<<"$out"
expect_eq "no line says libbpf: libbpf:" "$(grep -c 'libbpf: libbpf:' <<<"$out")" 0

xlbd_stop
tap_end
