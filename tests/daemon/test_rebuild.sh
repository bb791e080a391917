#!/usr/bin/env bash
# Table rebuilds under health churn: a burst of changes on one VIP writes its
# table a few times, not once per change; the table ends exactly as Maglev
# makes it from the backends in service; a backend going down is out of
# service at once and out of the table within the coalescing bound.
# 40 backends, all local addresses of one namespace behind one listener.
# Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../pair.sh"

P=xlbt-rb$$-
RUN=/run/xlbt/rebuild-test-$$
PIN=$RUN/bpf/xlb
SOCK=$RUN/xlbd.sock
N=40
VIP=198.18.210.1:80/tcp
XLBD_PID= LISTENER=
cleanup() {
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null && wait "$LISTENER" 2>/dev/null
	[ -n "$XLBD_PID" ] && kill "$XLBD_PID" 2>/dev/null && wait "$XLBD_PID" 2>/dev/null
	pair_down "$P" "$RUN" "$XLBD"
}
trap cleanup EXIT INT TERM

pair_up "$P" "$RUN"
{
	echo "interfaces: [xlbt-r0]"
	echo "conntrack: { size: 65536 }"
	echo "vips:"
	echo "  - vip: $VIP"
	echo "    health: { check: tcp, interval: 300ms, timeout: 200ms, rise: 1, fall: 1 }"
	echo "    backends:"
} >"$RUN/xlb.yaml"
ALL=
for b in $(seq 1 $N); do
	ip -n "${P}be" addr add "198.19.0.$b/32" dev lo
	ip -n "${P}lb" neigh add "198.19.0.$b" lladdr "$be_mac" dev xlbt-r0 nud permanent
	echo "      - { address: 198.19.0.$b }" >>"$RUN/xlb.yaml"
	ALL="$ALL 198.19.0.$b=100"
done

listen() {
	ip netns exec "${P}be" python3 "$TOP/tests/accept_all.py" 1024 &
	LISTENER=$!
}
ctl() { "$XLBCTL" -s "$SOCK" "$@"; }
states() { ctl -j backend show "$VIP" | jq -r '[.backends[].state] | unique | join(" ")'; }
state_is() { [ "$(states)" = "$1" ]; }
state_of() { ctl -j backend show "$VIP" | jq -r --arg a "$1" '.backends[] | select(.address == $a) | .state'; }
status() { ctl -j status | jq -r ".$1 // -1"; } # -1: not reported
settled() { [ "$(status tables_pending)" = 0 ]; }
table() { "$PROBE" table-check "$PIN" "$VIP" "$@"; }

listen
ip netns exec "${P}lb" "$XLBD" -c "$RUN/xlb.yaml" --bpffs "$PIN" --socket "$SOCK" \
	--state-dir "$RUN/state" >>"$RUN/xlbd.log" 2>&1 &
XLBD_PID=$!
check "xlbd starts" wait_for 10 ctl status
check "the $N backends come up" wait_for 20 state_is up
check "status counts table rebuilds" bash -c "[ \"\$($XLBCTL -s $SOCK -j status | jq '.table_rebuilds | type')\" = '\"number\"' ]"
check "and none is pending once settled" wait_for 5 settled
# shellcheck disable=SC2086
check "the table is Maglev's of the $N backends, slot by slot" table $ALL

# ---- a burst: every backend down at once ----
r0=$(status table_rebuilds)
kill "$LISTENER"
wait "$LISTENER" 2>/dev/null
LISTENER=
check "closing the port takes all $N down" wait_for 10 state_is down
check "their tables settle" wait_for 5 settled
r1=$(status table_rebuilds)
echo "# $N backends down: $((r1 - r0)) table rebuilds"
check "a burst of $N changes writes the table a few times, not $N" test $((r1 - r0)) -ge 1 -a $((r1 - r0)) -le 8
check "the table ends empty" table
expect_eq "the data plane sends new flows to none of them" "$("$PROBE" in-service "$PIN")" "named 0 serving 0"

# ---- and back up ----
listen
check "they all come back" wait_for 20 state_is up
check "their tables settle again" wait_for 5 settled
r2=$(status table_rebuilds)
echo "# $N backends up: $((r2 - r1)) table rebuilds"
check "coming back writes the table a few times, not $N" test $((r2 - r1)) -ge 1 -a $((r2 - r1)) -le 8
# shellcheck disable=SC2086
check "the table is again exactly Maglev's of the $N" table $ALL

# ---- one backend down: out of service at once, out of the table within the bound ----
# bound: the coalescing interval (100 ms) plus the writes queued before it;
# 2 s leaves room for a loaded test machine
ip -n "${P}be" addr del 198.19.0.7/32 dev lo
check "a backend whose address goes away goes down" wait_for 10 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show $VIP | jq -r '.backends[] | select(.address == \"198.19.0.7\") | .state')\" = down ]"
serving=$("$PROBE" in-service "$PIN")
check "once down it takes no new flow, even while the table still names it" \
	test "${serving##* }" = $((N - 1))
t0=$(date +%s%N)
rest=${ALL/ 198.19.0.7=100/}
# shellcheck disable=SC2086
check "and leaves the table within the bound" wait_for 2 table $rest
echo "# out of the table $((($(date +%s%N) - t0) / 1000000)) ms after it was seen down"
tap_end
