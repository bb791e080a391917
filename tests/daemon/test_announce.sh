#!/usr/bin/env bash
# Announcing VIPs by health through a routing table of xlbd's own (announce:):
# routes follow the backends, min_up, lb withdraw/announce across a restart,
# kill -9 withdraws nothing, a restart does not flap, --teardown withdraws
# all, foreign routes are never touched. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

P=xlbt-a$$-
cleanup() { site_down; }
trap cleanup EXIT INT TERM

site_up "$P" -n 2 --nginx --no-ipv6
LB=${P}lb
V80=198.18.100.10:80/tcp
V81=198.18.100.11:80/tcp
CONF=$RUN/xlb.yaml
cat >"$CONF" <<EOF2
interfaces: [eth0]
announce: { table: 100, protocol: 200 }
vips:
  - vip: $V80
    health: { check: tcp, interval: 300ms, timeout: 200ms, rise: 1, fall: 2 }
    backends:
      - { address: 198.18.0.11 }
      - { address: 198.18.0.12 }
  - vip: $V81
    min_up: 2
    health: { check: tcp, interval: 300ms, timeout: 200ms, rise: 1, fall: 2 }
    backends:
      - { address: 198.18.0.11 }
      - { address: 198.18.0.12 }
EOF2

routes() { ip -n "$LB" -4 route show table 100 proto 200 | awk '{ print $1 }' | sort | tr '\n' ' '; }
routes_are() { [ "$(routes)" = "$1" ]; }
vipf() { ctl -j vip show "$1" | jq -r ".vips[0].$2"; }
metric() { ip netns exec "$LB" curl -s "http://127.0.0.1:9911/metrics" | grep "^$1" ; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# a route of someone else in the same table, and one of ours elsewhere: never touched
ip -n "$LB" route add 198.18.100.99/32 dev lo table 100 proto 201
ip -n "$LB" route add 198.18.100.98/32 dev lo table 101 proto 200

check_start "xlbd starts with announce:" "$CONF" --metrics 127.0.0.1:9911
check "both VIPs are announced while their backends are up" \
	wait_for 10 routes_are "198.18.100.10 198.18.100.11 "
expect_eq "vip show says announced, and why" \
	"$(ctl -j vip show $V81 | jq -c '.vips[0] | [.announced, .announce_reason, .min_up]')" \
	'["yes","2 of 2 backends up (min_up 2)",2]'
check "the text table has the column" sh -c "'$XLBCTL' -s '$SOCK' vip show | grep -q 'ANNOUNCED'"
check "the route goes to lo, a table no rule uses" \
	sh -c "ip -n '$LB' route show table 100 proto 200 | grep -q '^198.18.100.10 dev lo'"
check "the gauge" sh -c "ip netns exec '$LB' curl -s http://127.0.0.1:9911/metrics | grep -q '^xlb_vip_announced{vip=\"$V80\"} 1'"

# ---- min_up: one backend down withdraws the VIP that wants 2 ----
bash "$TOP/scripts/topo.sh" nginx-stop -p "$P" 2
check "min_up 2 with one backend up: withdrawn, the other stays" \
	wait_for 10 routes_are "198.18.100.10 "
expect_eq "and vip show says why" "$(vipf $V81 announce_reason)" "1 of 2 backends up, fewer than min_up 2"
check "the log names the route, the VIP and the cause" \
	grep -q "withdrew 198.18.100.11/32: $V81: 1 of 2 backends up, fewer than min_up 2" "$RUN/xlbd.log"

# ---- every backend down: withdrawn within fall x interval + 1 s ----
t0=$(date +%s%N)
bash "$TOP/scripts/topo.sh" nginx-stop -p "$P" 1
t_stopped=$(date +%s%N)
wait_for 10 routes_are ""
t_gone=$(ms_since "$t_stopped")
expect_eq "no backend up: the route is gone" "$(routes)" ""
echo "# nginx gone after $(((t_stopped - t0) / 1000000)) ms; route withdrawn ${t_gone} ms after that (fall 2 x 300ms + 1s = 1600 ms)"
check "within fall x interval + 1 s" test "$t_gone" -le 1600
expect_eq "vip show: not announced" "$(vipf $V80 announced)" "no"

bash "$TOP/scripts/topo.sh" nginx-start -p "$P" 1
check "one backend back: its route returns" wait_for 10 routes_are "198.18.100.10 "
bash "$TOP/scripts/topo.sh" nginx-start -p "$P" 2
check "both back" wait_for 10 routes_are "198.18.100.10 198.18.100.11 "
changes=$(ip netns exec "$LB" curl -s http://127.0.0.1:9911/metrics | awk '/^xlb_announce_changes_total/ { print $2 }')
expect_eq "each change counted (2 initial, 2 withdrawn, 2 back)" "$changes" 6

# ---- lb withdraw: persisted, survives a restart ----
check "lb withdraw" ctl lb withdraw
expect_eq "no route left" "$(routes)" ""
check "lb show says so" sh -c "'$XLBCTL' -s '$SOCK' lb show | grep -q '^host: withdrawn'"
check "state.json has it" test "$(jq .withdrawn "$STATE/state.json")" = true
xlbd_stop
check_start "xlbd restarts" "$CONF"
expect_eq "still withdrawn after the restart" "$(ctl -j lb show | jq -c '[.withdrawn, .routes]')" '[true,0]'
expect_eq "and nothing announced" "$(routes)" ""
check "lb announce" ctl lb announce
check "routes are back" wait_for 5 routes_are "198.18.100.10 198.18.100.11 "

# ---- kill -9: nothing withdrawn; a restart does not flap ----
before=$(ip -n "$LB" -d route show table 100 proto 200)
ip -n "$LB" monitor route >"$RUN/monitor.log" 2>&1 &
MON=$!
xlbd_stop KILL
expect_eq "kill -9 leaves the routes" "$(routes)" "198.18.100.10 198.18.100.11 "
check_start "xlbd restarts after kill -9" "$CONF"
check "it has read the table" grep -q "2 routes of ours there" "$RUN/xlbd.log"
ctl status >/dev/null
expect_eq "same routes after the restart" "$(ip -n "$LB" -d route show table 100 proto 200)" "$before"
kill "$MON" 2>/dev/null; wait "$MON" 2>/dev/null
expect_eq "no route was withdrawn or added during the restart (ip monitor)" \
	"$(grep -c 'table 100' "$RUN/monitor.log")" 0

# ---- a VIP removed at runtime: its route goes ----
ctl vip del $V81
check "a removed VIP's route goes" wait_for 5 routes_are "198.18.100.10 "

# ---- teardown withdraws everything of ours, nothing else ----
xlbd_stop
ip netns exec "$LB" "$XLBD" --teardown -c "$CONF" --bpffs "$PIN" >>"$RUN/xlbd.log" 2>&1
expect_eq "--teardown withdraws every route of ours" "$(routes)" ""
expect_eq "the foreign route in table 100 is untouched" \
	"$(ip -n "$LB" route show table 100 | sed 's/ *$//')" "198.18.100.99 dev lo proto 201 scope link"
check "so is ours in another table" \
	sh -c "ip -n '$LB' route show table 101 proto 200 | grep -q 198.18.100.98"

# ---- bad config: FILE:LINE errors ----
bad() { # YAML -> the error line
	printf '%s\n' "$1" >"$RUN/bad.yaml"
	ip netns exec "$LB" "$XLBD" -c "$RUN/bad.yaml" --bpffs "$PIN" --socket "$RUN/bad.sock" \
		--state-dir "$RUN/badstate" 2>&1 | head -1 | sed 's/^.*xlbd[^:]*: //'
}
expect_eq "table 254 is refused with FILE:LINE" "$(bad "interfaces: [eth0]
announce: { table: 254, protocol: 200 }")" \
	"error: $RUN/bad.yaml:2: announce.table: is the kernel's default, main or local table (253..255) '254'"
expect_eq "min_up 0 is refused with FILE:LINE" "$(bad "interfaces: [eth0]
vips:
  - vip: $V80
    min_up: 0")" "error: $RUN/bad.yaml:4: vips[0].min_up: out of range (1..65535) '0'"
tap_end
