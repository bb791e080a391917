#!/usr/bin/env bash
# xlbd --check, and what a reload refuses: a file that removes every VIP or
# more than half of them (unless forced), and keys only a restart applies.
# Each refusal leaves the running VIPs and state.json as they were.
# Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

P=xlbt-r$$-
cleanup() {
	site_down
}
trap cleanup EXIT INT TERM

site_up "$P" -n 2
LB=${P}lb
CONF=$RUN/xlb.yaml
# conf FILE N: the first N of three VIPs, with check none (no health traffic)
conf() {
	local i
	{
		echo "conntrack: { size: 65536 }"
		echo "vips:"
		for i in $(seq 1 "$2"); do
			echo "  - vip: 198.18.100.1$i:80/tcp"
			echo "    health: { check: none }"
			echo "    backends: [{ address: 198.18.0.11 }, { address: 198.18.0.12 }]"
		done
	} >"$1"
}
conf "$CONF" 3
vips() { ctl -j vip show | jq -c '[.vips[].vip]'; }
state() { jq -c . "$STATE/state.json"; }
ALL3='["198.18.100.11:80/tcp","198.18.100.12:80/tcp","198.18.100.13:80/tcp"]'

# ---- xlbd --check: the file checked, nothing touched ----
out=$("$XLBD" --check -c "$CONF" -i eth0 --bpffs "$RUN/bpf/check" --socket "$RUN/check.sock" \
	--state-dir "$RUN/check-state" 2>&1)
expect_eq "--check: a good file is ok, with a summary" "$? $out" "0 $CONF: ok (3 VIPs, 6 backends)"
check "--check: no pin folder, socket or state folder made" \
	test ! -e "$RUN/bpf/check" -a ! -e "$RUN/check.sock" -a ! -e "$RUN/check-state"
printf 'vips:\n  - vip: 198.18.100.10:80/tcp\n    backends:\n      - { address: 198.18.0.300 }\n' \
	>"$RUN/bad.yaml"
out=$("$XLBD" --check -c "$RUN/bad.yaml" -i eth0 2>&1)
expect_eq "--check: a bad file gives its file:line error and exit 1" "$? $out" \
	"1 xlbd: error: $RUN/bad.yaml:4: vips[0].backends[0].address: bad IPv4 address '198.18.0.300'"
out=$("$XLBD" --check -c "$CONF" 2>&1)
expect_eq "--check: no interface anywhere is refused, as at start" "$? $out" \
	"1 xlbd: error: no interface: give -i IFACE or interfaces: in $CONF"

# -i on the command line: the file's interfaces: (none) is not compared at reload
check_start "xlbd starts with three VIPs" "$CONF" -i eth0
out=$(ip netns exec "$LB" "$XLBD" --check -c "$CONF" -i eth0 --bpffs "$PIN" 2>&1)
expect_eq "--check beside a running xlbd, on its --bpffs: ok (no lock taken)" "$? $out" \
	"0 $CONF: ok (3 VIPs, 6 backends)"
expect_eq "the three VIPs run" "$(vips)" "$ALL3"
state_before=$(state)

# refused RC MESSAGE DESC [ARGS...]: reload exits RC with MESSAGE; VIPs and state.json unchanged
refused() {
	local want_rc=$1 want=$2 desc=$3 out rc
	shift 3
	out=$(ctl reload "$@" 2>&1)
	rc=$?
	expect_eq "$desc" "$rc $out" "$want_rc $want"
	expect_eq "... the running VIPs unchanged" "$(vips)" "$ALL3"
	expect_eq "... state.json unchanged" "$(state)" "$state_before"
}
cp "$CONF" "$RUN/good.yaml"

# ---- VIPs removed ----
: >"$CONF"
refused 1 "xlbctl: $CONF would remove all 3 running VIPs; nothing changed (xlbctl reload force applies it)" \
	"an empty file is refused"
conf "$CONF" 1
refused 1 "xlbctl: $CONF would remove 2 of the 3 running VIPs, more than half; nothing changed (xlbctl reload force applies it)" \
	"a file truncated to one of three VIPs is refused"
kill -HUP "$XLBD_PID"
check "SIGHUP is never forced: the refusal is logged" wait_for 5 grep -q \
	"reload refused: $CONF would remove 2 of the 3 running VIPs" "$RUN/xlbd.log"
expect_eq "... the running VIPs unchanged" "$(vips)" "$ALL3"
expect_eq "a raw request: force must be a boolean" \
	"$(printf '{"cmd":"reload","force":"yes"}\n' | socat -t 5 - "UNIX-CONNECT:$SOCK")" \
	'{"ok":false,"error":"force: not a boolean"}'
refused 2 "xlbctl: 'reload': spell out 'force' (it overrides a safety check)" \
	"force is spelled out, not abbreviated" fo

# ---- keys only a restart applies ----
sed 's/size: 65536/size: 131072/' "$RUN/good.yaml" >"$CONF"
echo "  - { vip: 198.18.100.14:80/tcp, health: { check: none }, backends: [{ address: 198.18.0.11 }] }" >>"$CONF"
refused 1 "xlbctl: $CONF: conntrack.size changes only at a restart; nothing changed" \
	"a changed conntrack.size is refused, naming it (and the new VIP is not added)"
refused 1 "xlbctl: $CONF: conntrack.size changes only at a restart; nothing changed" \
	"... force does not override it" force
sed 's/size: 65536 }/size: 131072, tcp_idle: 60s }/' "$RUN/good.yaml" >"$CONF"
echo 'metrics_allow: [198.18.0.0/24]' >>"$CONF"
refused 1 "xlbctl: $CONF: conntrack.size, conntrack.tcp_idle, metrics_allow change only at a restart; nothing changed" \
	"several keys are named in one line"
{ echo "interfaces: [eth0, eth1]"; cat "$RUN/good.yaml"; } >"$CONF"
out=$(ctl reload 2>&1)
expect_eq "interfaces: from the file is not compared when -i gave them" "$? $out" "0 no changes"

# ---- a normal reload, then forced ones ----
sed '0,/address: 198.18.0.12 }/s//address: 198.18.0.12, weight: 50 }/' "$RUN/good.yaml" >"$CONF"
expect_eq "a normal reload still works" "$(ctl reload 2>&1)" \
	"changed: backend 198.18.0.12 of 198.18.100.11:80/tcp"
state_before=$(state)
conf "$CONF" 2
expect_eq "one VIP of three removed: not more than half, applied" "$(ctl reload 2>&1 | tr '\n' '|')" \
	"changed: backend 198.18.0.12 of 198.18.100.11:80/tcp|removed: 198.18.100.13:80/tcp|"
conf "$CONF" 1
out=$(ctl reload 2>&1)
expect_eq "one VIP of two removed: half, applied" "$? $out" "0 removed: 198.18.100.12:80/tcp"
conf "$CONF" 3
ctl reload >/dev/null
conf "$CONF" 1
expect_eq "the truncated file, forced: applied" "$(ctl reload force 2>&1 | tr '\n' '|')" \
	"removed: 198.18.100.12:80/tcp|removed: 198.18.100.13:80/tcp|"
expect_eq "... one VIP runs" "$(vips)" '["198.18.100.11:80/tcp"]'
: >"$CONF"
out=$(ctl reload 2>&1)
expect_eq "the only VIP removed, unforced: refused" "$? $out" \
	"1 xlbctl: $CONF would remove the 1 running VIP; nothing changed (xlbctl reload force applies it)"
out=$(ctl reload force 2>&1)
expect_eq "the empty file, forced: then refused for its conntrack.size (the default)" "$? $out" \
	"1 xlbctl: $CONF: conntrack.size changes only at a restart; nothing changed"
echo "conntrack: { size: 65536 }" >"$CONF"
expect_eq "a file without VIPs, forced: applied" "$(ctl -j reload force | jq -c .removed)" \
	'["198.18.100.11:80/tcp"]'
expect_eq "... no VIP runs" "$(vips)" '[]'
expect_eq "... and state.json says so" "$(jq -c '.vips | length' "$STATE/state.json")" 0
cp "$RUN/good.yaml" "$CONF"
out=$(ctl reload 2>&1)
expect_eq "from no VIP, a reload adds them unforced" "$? $(vips)" "0 $ALL3"

# ---- reload dry-run: every field it would change, nothing applied ----
ctl backend set 198.18.100.11:80/tcp 198.18.0.11 weight 77 >/dev/null
state_before=$(state)
{
	echo "conntrack: { size: 65536 }"
	echo "blocklist: { block: [198.18.5.0/24] }"
	echo "vips:"
	echo "  - vip: 198.18.100.11:80/tcp"
	echo "    scheduler: wrr"
	echo "    health: { check: tcp, interval: 2s }"
	echo "    backends: [{ address: 198.18.0.11, weight: 5 }, { address: 198.18.0.13 }]"
	echo "  - vip: 198.18.100.12:80/tcp"
	echo "    health: { check: none }"
	echo "    backends: [{ address: 198.18.0.11 }, { address: 198.18.0.12, state: drain }]"
	echo "  - vip: 198.18.100.14:80/tcp"
	echo "    health: { check: none }"
	echo "    backends: [{ address: 198.18.0.12 }]"
} >"$CONF"
out=$(ctl reload dry-run 2>&1)
expect_eq "dry-run lists each field that would change, with its old and new value" "$? $out" "0 + blocklist 198.18.5.0/24
198.18.100.11:80/tcp: sched: maglev -> wrr
198.18.100.11:80/tcp: health.check: none -> tcp
198.18.100.11:80/tcp: backend 198.18.0.11: weight: 77 -> 5
- 198.18.100.11:80/tcp: backend 198.18.0.12 (weight 100, enabled)
+ 198.18.100.11:80/tcp: backend 198.18.0.13 (weight 100, enabled)
198.18.100.12:80/tcp: backend 198.18.0.12: admin: enabled -> drain
- 198.18.100.13:80/tcp (2 backends)
+ 198.18.100.14:80/tcp (1 backend)"
expect_eq "... and applies none of it" "$(state)" "$state_before"
expect_eq "... the running VIPs unchanged" "$(vips)" "$ALL3"
expect_eq "--dry-run is the same, and -j gives the lines" \
	"$(ctl -j reload --dry-run | jq -c '[.dry_run, (.diff | length), .diff[3]]')" \
	'[true,9,"198.18.100.11:80/tcp: backend 198.18.0.11: weight: 77 -> 5"]'
cp "$RUN/good.yaml" "$CONF"
sed -i '1i # a comment' "$CONF"
expect_eq "a file that changes only the runtime change's field: that one line" \
	"$(ctl reload dry-run 2>&1)" "198.18.100.11:80/tcp: backend 198.18.0.11: weight: 77 -> 100"
: >"$CONF"
out=$(ctl reload dry-run 2>&1)
expect_eq "a dry run of a file a reload would refuse: the refusal" "$? $out" \
	"1 xlbctl: $CONF would remove all 3 running VIPs; nothing changed (xlbctl reload force applies it)"
printf 'vips:\n  - vip: 198.18.100.11:80/tcp\n    backends:\n      - { address: 198.18.0.300 }\n' >"$CONF"
out=$(ctl reload dry-run 2>&1)
expect_eq "a dry run of a bad file: its file:line error" "$? $out" \
	"1 xlbctl: $CONF:4: vips[0].backends[0].address: bad IPv4 address '198.18.0.300'"
expect_eq "... state.json still unchanged" "$(state)" "$state_before"
cp "$RUN/good.yaml" "$CONF"

tap_end
