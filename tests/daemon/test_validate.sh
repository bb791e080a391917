#!/usr/bin/env bash
# What xlbd refuses, whichever way it comes: the control socket (raw and
# through xlbctl), the config file at start and on reload, and state.json.
# Each refusal has its own message and leaves the state as it was.
# Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

P=xlbt-v$$-
writer=
cleanup() {
	[ -n "$writer" ] && kill "$writer" 2>/dev/null
	site_down
}
trap cleanup EXIT INT TERM

site_up "$P" -n 2
LB=${P}lb
V80=198.18.100.10:80/tcp
CONF=$RUN/xlb.yaml
cat >"$CONF" <<EOF
interfaces: [eth0]
vips:
  - vip: $V80
    health: { check: none }
    backends:
      - { address: 198.18.0.11 }
EOF

raw() { socat -t 5 - "UNIX-CONNECT:$SOCK"; }
state() { jq -c . "$STATE/state.json"; }
vips() { ctl -j vip show | jq -c '[.vips[] | {vip, health}]'; }
bad() { # EXIT MESSAGE ARGS...: xlbctl fails with that status and message
	local want_rc=$1 want=$2 out rc
	shift 2
	out=$(ctl "$@" 2>&1 >/dev/null)
	rc=$?
	expect_eq "refused: xlbctl $*" "rc=$rc $out" "rc=$want_rc $want"
}
# xlbd_refuses DESC CONFIG STATE_DIR WANT: a start that fails with WANT, last line of its output
xlbd_refuses() {
	local out rc
	out=$(timeout 10 ip netns exec "$LB" "$XLBD" -c "$2" --bpffs "$RUN/bpf/refused" \
		--socket "$RUN/refused.sock" --state-dir "$3" 2>&1)
	rc=$?
	expect_eq "$1" "$rc $(echo "$out" | tail -1 | untimed)" "1 $4"
	ip netns exec "$LB" "$XLBD" --teardown --bpffs "$RUN/bpf/refused" >/dev/null 2>&1
}

check_start "xlbd starts" "$CONF"
vips_before=$(vips)
view_before=$(backend_view)
state_before=$(state)

# ---- an HTTP check's path goes into the request line: no spaces ----
expect_eq "vip add with a path holding a space is refused" \
	"$(printf '{"cmd":"vip-add","vip":"198.18.100.20:80/tcp","check":"http","path":"/a b"}\n' | raw)" \
	'{"ok":false,"error":"path: bad path (no spaces or control characters) '"'"'/a b'"'"'"}'
expect_eq "and no VIP is created" "$(vips)" "$vips_before"
expect_eq "and state.json is unchanged" "$(state)" "$state_before"
check "a later backend add on another VIP works" ctl backend add "$V80" 198.18.0.12
expect_eq "and shows" "$(ctl -j backend show "$V80" | jq -c '[.backends[].address]')" \
	'["198.18.0.11","198.18.0.12"]'
ctl backend del "$V80" 198.18.0.12 >/dev/null
view_before=$(backend_view)
state_before=$(state)

# ---- the control socket says what the file says (one validator) ----
expect_eq "an interval below the minimum: the file's message" \
	"$(printf '{"cmd":"vip-add","vip":"198.18.100.20:80/tcp","interval":"50ms"}\n' | raw)" \
	'{"ok":false,"error":"interval: out of range (100ms..1h) '"'"'50ms'"'"'"}'
expect_eq "a timeout not below the interval: the file's message" \
	"$(printf '{"cmd":"vip-add","vip":"198.18.100.20:80/tcp","interval":"1s","timeout":"1s"}\n' | raw)" \
	'{"ok":false,"error":"timeout: timeout 1s must be less than interval 1s"}'
check "the README's vip add ... interval 1s: the default timeout gives way" \
	ctl vip add 198.18.100.21:80/tcp check http /healthz interval 1s
expect_eq "... to half the interval" \
	"$(ctl -j vip show 198.18.100.21:80/tcp | jq -c '.vips[0].health | [.interval, .timeout]')" '["1s","500ms"]'
ctl vip del 198.18.100.21:80/tcp >/dev/null
expect_eq "check_port 0 (the VIP's port), as the file allows" \
	"$(printf '{"cmd":"vip-add","vip":"198.18.100.20:80/tcp","check_port":0}\n' | raw)" '{"ok":true}'
ctl vip del 198.18.100.20:80/tcp >/dev/null
state_before=$(state)

# ---- unicast addresses only ----
bad 1 "xlbctl: not a unicast address '224.0.0.5'" vip add 224.0.0.5:80/tcp
bad 1 "xlbctl: not a unicast address '255.255.255.255'" vip add 255.255.255.255:80/tcp
bad 1 "xlbctl: not a unicast address '0.0.0.0'" vip add 0.0.0.0:80/tcp
bad 1 "xlbctl: not a unicast address '127.0.0.1'" vip add 127.0.0.1:80/tcp
bad 1 "xlbctl: not a unicast address 'ff02::1'" vip add "[ff02::1]:80/tcp"
bad 1 "xlbctl: not a unicast address '::'" vip add "[::]:80/tcp"
bad 1 "xlbctl: not a unicast address '::1'" vip add "[::1]:80/tcp"
bad 1 "xlbctl: not a unicast address '224.0.0.5'" backend add "$V80" 224.0.0.5
bad 1 "xlbctl: not a unicast address '255.255.255.255'" backend add "$V80" 255.255.255.255
bad 1 "xlbctl: not a unicast address '0.0.0.0'" backend add "$V80" 0.0.0.0
bad 1 "xlbctl: not a unicast address '127.0.0.1'" backend add "$V80" 127.0.0.1
expect_eq "the refusals left the VIPs unchanged" "$(vips)" "$vips_before"
expect_eq "and the backends" "$(backend_view)" "$view_before"
expect_eq "and state.json" "$(state)" "$state_before"

bad_conf=$RUN/bad.yaml
printf 'interfaces: [eth0]\nvips:\n  - vip: 224.0.0.5:80/tcp\n' >"$bad_conf"
xlbd_refuses "a multicast VIP in the config file is refused at start, with file:line" \
	"$bad_conf" "$RUN/refused" \
	"xlbd: error: $bad_conf:3: vips[0].vip: not a unicast address '224.0.0.5'"
cp "$CONF" "$RUN/good.yaml"
printf 'interfaces: [eth0]\nvips:\n  - vip: %s\n    backends:\n      - { address: 127.0.0.1 }\n' \
	"$V80" >"$CONF"
out=$(ctl reload 2>&1)
expect_eq "a loopback backend in the config file is refused on reload" "$? $out" \
	"1 xlbctl: $CONF:5: vips[0].backends[0].address: not a unicast address '127.0.0.1'"
expect_eq "and the running state is unchanged" "$(backend_view)" "$view_before"
cp "$RUN/good.yaml" "$CONF"

# ---- state.json: what the config loader refuses, the state loader refuses ----
mkdir -p "$RUN/dup"
jq '.vips += [.vips[0]]' "$STATE/state.json" >"$RUN/dup/state.json"
xlbd_refuses "a state.json with a VIP twice is refused" "$CONF" "$RUN/dup" \
	"xlbd: error: $RUN/dup/state.json: vips[1].vip: duplicate VIP $V80 (first at vips[0]); fix or remove the file"
jq '.vips[0].backends += [.vips[0].backends[0]]' "$STATE/state.json" >"$RUN/dup/state.json"
xlbd_refuses "a state.json with a backend twice in a VIP is refused" "$CONF" "$RUN/dup" \
	"xlbd: error: $RUN/dup/state.json: vips[0].backends[1].address: duplicate backend 198.18.0.11 (first at backends[0]); fix or remove the file"
jq '.vips[0].backends[0].address = "224.0.0.5"' "$STATE/state.json" >"$RUN/dup/state.json"
xlbd_refuses "a state.json with a multicast backend is refused" "$CONF" "$RUN/dup" \
	"xlbd: error: $RUN/dup/state.json: vips[0].backends[0].address: not a unicast address '224.0.0.5'; fix or remove the file"
check "the first xlbd still serves" ctl status

# ---- permissions: each says what is missing ----
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
out=$(nobody "$XLBCTL" -s "$SOCK" status 2>&1)
expect_eq "xlbctl without permission on the socket says so, not that xlbd is down (exit 1)" \
	"$? $out" "1 xlbctl: permission denied on $SOCK: run as root"
out=$(nobody "$XLBCTL" -j -s "$SOCK" status 2>&1)
expect_eq "... and with -j" "$? $out" "1 {\"error\":\"permission denied on $SOCK: run as root\"}"
out=$(nobody "$XLBCTL" -s "$RUN/none.sock" status 2>&1)
expect_eq "no socket at all: the daemon is not running (exit 3)" "$? $out" \
	"3 xlbctl: daemon not running (connect $RUN/none.sock: No such file or directory)"
out=$(timeout 10 ip netns exec "$LB" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$XLBD" -c "$CONF" --bpffs "$RUN/bpf/nobody" --socket "$RUN/nobody.sock" \
	--state-dir "$RUN/nobody" 2>&1)
expect_eq "xlbd without root says it needs root, and nothing else" "$? $(untimed <<<"$out")" \
	"1 xlbd: error: needs root (CAP_BPF and CAP_NET_ADMIN) to load and attach XDP; running as uid 65534"
check "and leaves nothing behind" test ! -e "$RUN/bpf/nobody" -a ! -e "$RUN/nobody.sock" -a ! -e "$RUN/nobody"
out=$(nobody "$XLBD" --help 2>&1)
expect_eq "xlbd --help needs no root" "$?" 0
check "the first xlbd still serves" ctl status

# ---- the digest recorded is of the text applied, not of the file read again ----
# Through a FIFO with one writer the text can be read once only: a second
# read for the digest would wait for a writer that never comes.
xlbd_stop TERM
ip netns exec "$LB" "$XLBD" --teardown --bpffs "$PIN" >/dev/null 2>&1
mkfifo "$RUN/fifo.yaml"
cat "$CONF" >"$RUN/fifo.yaml" &
writer=$!
STATE=$RUN/fifo-state
check_start "xlbd starts from a config read once, through a FIFO" "$RUN/fifo.yaml"
# blocked in open(), xlbd does not see its signals: SIGKILL
xlbd_serving || { kill -KILL "$XLBD_PID"; xlbd_stop; }
want=$(python3 -c 'import sys, zlib; d = open(sys.argv[1], "rb").read()
print("crc32:%08x:%d" % (zlib.crc32(d), len(d)))' "$CONF")
expect_eq "state.json records the digest of the text applied (its bytes')" \
	"$(jq -r .config_bytes_digest "$STATE/state.json" 2>&1)" "$want"
check "... beside the digest of its content" \
	grep -qE '^yaml-crc32:[0-9a-f]{8}:[0-9]+$' <<<"$(jq -r .config_digest "$STATE/state.json")"

tap_end
