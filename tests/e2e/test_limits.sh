#!/usr/bin/env bash
# Per-client limits end to end (issue 14, part 2): client A (198.18.0.1)
# opening connections as fast as it can gets burst + rate * t (+-2) over the
# interval it measured while client B (198.18.0.5) at the same time loses
# none; then, after a reload to a cap, A holding N connections is refused
# its N+1th and is served again once it closes one; B is served all along.
# Bad limits are refused with their line. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

V4=198.18.100.10
VIP=$V4:80/tcp
A=198.18.0.1
B=198.18.0.5
RATE=20
BURST=10
CONNS=3
HOLD_PID=
cleanup() {
	[ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null
	site_down
}
trap cleanup EXIT INT TERM

site_up "xlbt-l$$-" -n 2 --nginx
CLIENT=${SITE}client
ip -n "$CLIENT" addr add "$B/24" dev eth0
conf() { # LIMITS-YAML: the site's config with that VIP limits: line
	http_vip_conf "$RUN/xlb.yaml" eth0
	sed -i "s|^    health:|    limits: $1\n    health:|" "$RUN/xlb.yaml"
	echo "metrics: 198.18.0.2:9100" >>"$RUN/xlb.yaml"
}
served() { # SRC: one request from SRC is answered by a backend
	ip netns exec "$CLIENT" curl -s -m 2 --interface "$1" "http://$V4/" | grep -q '^backend'
}
refused() { ! served "$@"; }
all_up() { [ "$(ctl -j backend show "$VIP" | jq '[.backends[] | select(.state == "up")] | length')" = 2 ]; }
vipj() { ctl -j vip show "$VIP" | jq -c ".vips[0].limits$1"; }

conf "{ new_flows_per_s: $RATE, burst: $BURST }"
check_start "xlbd starts with limits in the file" "$RUN/xlb.yaml"
check "backends up" wait_for 15 all_up
expect_eq "vip show -j: the limits" "$(vipj '| {new_flows_per_s, burst, max_conns, prefix_v4, prefix_v6}')" \
	"{\"new_flows_per_s\":$RATE,\"burst\":$BURST,\"max_conns\":null,\"prefix_v4\":32,\"prefix_v6\":64}"
check "vip show: the LIMITS column" bash -c "$XLBCTL -s $SOCK vip show | grep -q '$RATE new flows/s burst $BURST per /32 (v4) /64 (v6)'"

# ---- the rate: A as fast as it can, B politely, at the same time ----
ip netns exec "$CLIENT" python3 "$TOP/tests/e2e/open_fast.py" "$B" "$V4" 3 1 150 >"$RUN/b.out" 2>&1 &
B_PID=$!
ip netns exec "$CLIENT" python3 "$TOP/tests/e2e/open_fast.py" "$A" "$V4" 3 >"$RUN/a.out" 2>&1
wait "$B_PID"
read -r _ a_try _ a_ok _ a_ms <"$RUN/a.out"
read -r _ b_try _ b_ok _ _ <"$RUN/b.out"
want=$((BURST + RATE * a_ms / 1000))
echo "# A: $a_try attempts, $a_ok accepted in $a_ms ms (burst + rate * t = $want); B: $b_ok of $b_try"
check "A tried far more than the limit ($a_try)" test "$a_try" -gt $((want * 3))
check "A got burst + rate * t = $want (+-2): $a_ok" test "$a_ok" -ge $((want - 2)) -a "$a_ok" -le $((want + 2))
check "B, at the same time, lost none ($b_ok of $b_try)" test "$b_try" -ge 10 -a "$b_ok" = "$b_try"
dropped=$(vipj .dropped_rate)
check "vip show counts A's refusals ($dropped)" test "$dropped" -ge $((a_try - a_ok - 2)) -a "$dropped" -le "$a_try"
check "stats: drop_limit_rate" bash -c "[ \"\$($XLBCTL -s $SOCK -j stats | jq '.global.drop_limit_rate')\" = $dropped ]"
check "metrics: xlb_vip_limit_dropped_total{reason=rate}" bash -c \
	"ip netns exec ${SITE}lb curl -s http://198.18.0.2:9100/metrics | grep -q 'xlb_vip_limit_dropped_total{vip=\"$VIP\",reason=\"rate\"} $dropped'"

# ---- the cap, after a reload ----
conf "{ max_conns: $CONNS }"
out=$(ctl reload)
check "reload reports the VIP changed" grep -q "$VIP" <<<"$out"
expect_eq "vip show -j: the cap" "$(vipj '| {new_flows_per_s, max_conns}')" "{\"new_flows_per_s\":null,\"max_conns\":$CONNS}"
mkfifo "$RUN/hold.ctl"
: >"$RUN/hold.status"
ip netns exec "$CLIENT" python3 "$TOP/tests/e2e/hold_conns.py" "$V4" "$CONNS" "$RUN/hold.ctl" \
	"$RUN/hold.status" 120 >"$RUN/hold.log" 2>&1 &
HOLD_PID=$!
hold() { timeout 5 sh -c 'echo "$1" >"$2"' _ "$1" "$RUN/hold.ctl"; }
said() { grep -qx "$1" "$RUN/hold.status"; }
check "A holds $CONNS connections" wait_for 15 said "open $CONNS"
check "A's connection $((CONNS + 1)) is refused" refused "$A"
check "B is served meanwhile" served "$B"
check "the refusal is counted (dropped_conns)" test "$(vipj .dropped_conns)" -ge 1
check "A's held connections still work (no errors)" bash -c "! grep -q '^errors' $RUN/hold.status"
hold "close 1"
check "A closed one" wait_for 5 said "closed 1"
check "A is served again (bounded wait for the count)" wait_for 5 served "$A"
hold quit
wait "$HOLD_PID" 2>/dev/null
HOLD_PID=
check "with A's connections gone, A is served" wait_for 5 served "$A"

# ---- bad limits ----
cp "$RUN/xlb.yaml" "$RUN/good.yaml"
conf "{ new_flows_per_s: 0 }"
out=$(ctl reload 2>&1)
echo "# $out"
check "reload refuses limits.new_flows_per_s 0 with its line" \
	grep -q "xlb.yaml:5: vips\[0\].limits.new_flows_per_s: out of range (1..1000000) '0'" <<<"$out"
expect_eq "...and the cap stays" "$(vipj .max_conns)" "$CONNS"
out=$($XLBCTL -s "$SOCK" vip add 198.18.100.11:80/tcp limit-burst 5 2>&1)
check "vip add: limit-burst alone is refused" grep -q "limit-burst and limit-prefix-\* need limit-rate or limit-conns" <<<"$out"
out=$($XLBCTL -s "$SOCK" vip add 198.18.100.11:80/tcp limit-rate 0 2>&1)
check "vip add: limit-rate 0 is refused" grep -q "limit-rate" <<<"$out"
check "vip add with limits" ctl vip add 198.18.100.11:80/tcp limit-rate 5 limit-conns 2 limit-prefix-v4 24
expect_eq "...shown" "$(ctl -j vip show 198.18.100.11:80/tcp | jq -c '.vips[0].limits | {new_flows_per_s, burst, max_conns, prefix_v4}')" \
	'{"new_flows_per_s":5,"burst":5,"max_conns":2,"prefix_v4":24}'
check "...and saved in state.json" bash -c "jq -e '.vips[] | select(.vip == \"198.18.100.11:80/tcp\") | .limits.max_conns == 2' $STATE/state.json"
tap_end
