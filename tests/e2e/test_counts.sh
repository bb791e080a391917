#!/usr/bin/env bash
# Live counts end to end (issue 12, test 3): 300 real connections through
# the VIP to nginx; 100 closed by the client, 100 ended by nginx so that the
# load balancer only sees them go quiet (they idle out), and a churn of
# short connections larger than the connection table (it evicts). xlbd's
# count of each backend's live flows (backend show -j: active_flows) must
# match what `ss` shows established on that backend, within the bound of
# user/xlbd/flows.c: over by the flows evicted or expired since the last
# complete walk started, which a walk a second corrects. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

V4=198.18.100.10
VIP=$V4:80/tcp
BES="198.18.0.11 198.18.0.12 198.18.0.13"
HOLD_PID=
CHURN_PIDS=()
cleanup() {
	local p
	for p in $HOLD_PID "${CHURN_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	site_down
}
trap cleanup EXIT INT TERM

site_up "xlbt-c$$-" -n 3 --nginx
CLIENT=${SITE}client
LB=${SITE}lb
# the smallest table (1024 a family) and idle timeout (1 s is the least) the config takes, near
cat >"$RUN/xlb.yaml" <<EOF
interfaces: [eth0]
conntrack: { size: 1024, tcp_idle: 3s, udp_idle: 2s }
metrics: 198.18.0.2:9100
vips:
  - vip: $VIP
    health: { check: http, path: /healthz, interval: 500ms, timeout: 300ms, rise: 2, fall: 2 }
    backends: [ { address: 198.18.0.11 }, { address: 198.18.0.12 }, { address: 198.18.0.13 } ]
EOF
all_up() { [ "$(ctl -j backend show | jq '[.backends[] | select(.state == "up")] | length')" = 3 ]; }

# ---- an older build's connection table: adopted, then unpinned after tcp_idle ----
# its layout (flow_key -> flow_entry, BPF_F_NO_COMMON_LRU), pinned where the older build left it
mkdir -p "$PIN"
bpftool map create "$PIN/conntrack" type lru_hash key 40 value 16 entries 4096 name conntrack flags 2
map_id() { bpftool -j map show pinned "$PIN/conntrack" | jq .id; }
old_id=$(map_id)
t0=$(date +%s%N)
check_start "xlbd starts over an older build's connection table" "$RUN/xlb.yaml"
check "the log says it was adopted" grep -q "adopted an older build's connection table (4096 entries)" "$RUN/xlbd.log"
check "it is unpinned once the longer idle timeout (tcp, 3 s) has passed" wait_for 10 bash -c "! test -e $PIN/conntrack"
ms=$((($(date +%s%N) - t0) / 1000000))
check "...not before ($ms ms after the start)" test "$ms" -ge 3000
check "the log says so" grep -q "unpinned the older build's connection table $PIN/conntrack" "$RUN/xlbd.log"
check "backends up" wait_for 15 all_up
prog=$(ctl -j status | jq .prog_id)
xlbd_stop TERM
lines=$(wc -l <"$RUN/xlbd.log")
check_start "xlbd restarts" "$RUN/xlb.yaml"
check "the next start loads a program without it" test "$(ctl -j status | jq .prog_id)" != "$prog"
check "...and pins its stand-in, not the old table" \
	test "$(bpftool -j map show pinned "$PIN/conntrack" | jq .max_entries)" -lt 4096 -a "$(map_id)" != "$old_id"
check "...which is no older build's table" \
	bash -c "! tail -n +$((lines + 1)) $RUN/xlbd.log | grep -q \"adopted an older build's\""
prog=$(ctl -j status | jq .prog_id)
xlbd_stop TERM
check_start "xlbd restarts again" "$RUN/xlb.yaml"
expect_eq "...and keeps the running program" "$(ctl -j status | jq .prog_id)" "$prog"
check "backends up" wait_for 15 all_up

# ss_of N: connections established to the VIP on backend N (1..3)
ss_of() {
	local out
	out=$(ip netns exec "${SITE}be$1" ss -Htn state established src "$V4:80") || { echo "?"; return 1; }
	[ -z "$out" ] && echo 0 || wc -l <<<"$out"
}
# xlb_of ADDR: xlbd's live flows of that backend ("null" while unknown)
xlb_of() { ctl -j backend show "$VIP" | jq -r --arg a "$1" '.backends[] | select(.address == $a) | .active_flows'; }
ss_total() {
	local a b c
	a=$(ss_of 1) && b=$(ss_of 2) && c=$(ss_of 3) && echo $((a + b + c)) || echo "?"
}
ss_is() { [ "$(ss_total)" = "$1" ]; }
xlb_total() { ctl -j backend show "$VIP" | jq '[.backends[].active_flows] | add'; }
# "xlb/ss" per backend, for the log
both() {
	local i=1 a out=
	for a in $BES; do out+="$a $(xlb_of "$a")/$(ss_of $i)  "; i=$((i + 1)); done
	echo "$out"
}
# every backend's count is what ss shows
match() {
	local i=1 a
	for a in $BES; do
		[ "$(xlb_of "$a")" = "$(ss_of $i)" ] || return 1
		i=$((i + 1))
	done
}
# within SLACK: ss <= xlb <= ss + SLACK, in total
within() {
	local x s
	x=$(xlb_total) s=$(ss_total)
	[ "$x" -ge "$s" ] && [ "$x" -le $((s + $1)) ]
}
stat() { ctl -j stats | jq ".global.$1"; }
# hold CMD: to the client; bounded, should it have died (a FIFO write waits for a reader)
hold() { timeout 5 sh -c 'echo "$1" >"$2"' _ "$1" "$RUN/hold.ctl"; }
said() { grep -qx "$1" "$RUN/hold.status"; }
# waited DESC SECONDS CMD...: a check that also logs how long it took
waited() {
	local desc=$1 limit=$2 t0
	shift 2
	t0=$(date +%s%N)
	check "$desc" wait_for "$limit" "$@"
	echo "# took $((($(date +%s%N) - t0) / 1000000)) ms; xlb/ss: $(both)"
}

check "the first walk of the connection tables is complete" \
	wait_for 5 bash -c "[ \"\$($XLBCTL -s $SOCK -j status | jq '.flow_walk.walks')\" -ge 1 ]"
expect_eq "no flows yet: every backend counts 0" "$(xlb_total)" 0

# ---- 300 connections, held ----
mkfifo "$RUN/hold.ctl"
: >"$RUN/hold.status"
ip netns exec "$CLIENT" python3 "$TOP/tests/e2e/hold_conns.py" "$V4" 300 "$RUN/hold.ctl" \
	"$RUN/hold.status" 240 >"$RUN/hold.log" 2>&1 &
HOLD_PID=$!
check "the client holds 300 connections" wait_for 30 said "open 300"
check "ss: 300 established on the backends" wait_for 10 ss_is 300
waited "300 open: each backend's count is what ss shows" 5 match
check "every backend has some of them" bash -c "[ $(ss_of 1) -gt 0 ] && [ $(ss_of 2) -gt 0 ] && [ $(ss_of 3) -gt 0 ]"
expect_eq "vip show: ACTIVE is the sum, 300" "$(ctl -j vip show "$VIP" | jq '.vips[0].active_flows')" 300

# ---- 100 closed by the client: counted at once (closed since the walk) ----
hold "close 100"
check "the client closed 100" wait_for 10 said "closed 100"
waited "100 closed: each backend's count is what ss shows" 5 match
expect_eq "200 left" "$(xlb_total)" 200

# ---- 100 ended by nginx: the load balancer sees them go quiet ----
hold "idle 100"
check "nginx ended 100" wait_for 10 said "idle 100"
check "ss: 100 established" wait_for 10 ss_is 100
check "until they expire, xlbd counts at most those 100 more than ss" within 100
waited "after tcp_idle and a walk: each backend's count is what ss shows" 10 match

# ---- churn: 4 times the table's 1024 entries (512 a CPU), so the LRU evicts ----
promoted0=$(stat ct_promoted)
closing0=$(stat ct_closing)
args=()
for i in $(seq 1 2048); do args+=(-o /dev/null "http://$V4/"); done
for j in 1 2; do
	ip netns exec "$CLIENT" curl -s -m 5 -H 'Connection: close' -w '%{http_code}\n' "${args[@]}" \
		>"$RUN/churn$j.out" &
	CHURN_PIDS+=($!)
done
wait_for 60 bash -c "[ \$(cat $RUN/churn1.out $RUN/churn2.out | wc -l) -ge 4096 ]"
expect_eq "4096 short connections answered" "$(grep -c '^200$' "$RUN/churn1.out" "$RUN/churn2.out" |
	awk -F: '{s += $2} END {print s}')" 4096
promoted=$(($(stat ct_promoted) - promoted0))
echo "# promoted during the churn: $promoted (4096 short flows; more: live flows evicted and put back)"
check "4096 flows entered the main table of 1024: it evicted" test "$promoted" -ge 4096
check "the main table holds no more than its size" test "$("$PROBE" ct-count "$PIN")" -le 1024
check "the churn's flows were closed" test $(($(stat ct_closing) - closing0)) -ge 4096
waited "after the churn and a walk: each backend's count is what ss shows" 10 match
check "the live connections all lived" bash -c "! grep -q '^errors' $RUN/hold.status"

# ---- what operators see ----
expect_eq "vip show -j: active_flows 100" "$(ctl -j vip show "$VIP" | jq '.vips[0].active_flows')" 100
check "backend show has an ACTIVE column" bash -c "$XLBCTL -s $SOCK backend show | head -1 | grep -q ' ACTIVE '"
check "vip show has an ACTIVE column" bash -c "$XLBCTL -s $SOCK vip show | head -1 | grep -q ' ACTIVE '"
expect_eq "top -j: the VIP's active_flows" "$(ctl -j top -n 1 | jq '.vips[0].active_flows')" 100
ip netns exec "$LB" curl -s -m 5 http://198.18.0.2:9100/metrics >"$RUN/metrics.txt"
expect_eq "metrics: xlb_vip_active_flows is 100" \
	"$(awk -v v="xlb_vip_active_flows{vip=\"$VIP\"}" '$1 == v {print $2}' "$RUN/metrics.txt")" 100
expect_eq "metrics: the backends' xlb_backend_active_flows add up to 100" \
	"$(awk '/^xlb_backend_active_flows\{/ {s += $2} END {print s}' "$RUN/metrics.txt")" 100
for c in promoted probation_hits closing insert_failures legacy_hits; do
	check "metrics: xlb_conntrack_${c}_total" grep -q "^xlb_conntrack_${c}_total " "$RUN/metrics.txt"
done

# ---- the rest closed ----
hold quit
wait "$HOLD_PID"
HOLD_PID=
waited "all closed: every count is 0, as ss" 5 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show | jq '[.backends[].active_flows] | add')\" = 0 ]"
expect_eq "ss: none established" "$(ss_total)" 0
ctl -j status | jq -c '.flow_walk' | sed 's/^/# flow_walk: /'

# ---- a full table of the default size: walked in slices, xlbctl served meanwhile ----
xlbd_stop
ip netns exec "$LB" "$XLBD" --teardown --bpffs "$PIN" >/dev/null 2>&1
sed -i 's/^conntrack: .*/conntrack: { size: 1000000 }/' "$RUN/xlb.yaml"
check_start "xlbd starts with a table of 1M flows a family" "$RUN/xlb.yaml"
check "backends up" wait_for 15 all_up
id=$(ctl -j backend show "$VIP" | jq '.backends[0].id')
# 122 x 8192: the same share for each CPU's half of the LRU table, so none is evicted
FULL=999424
expect_eq "$FULL live flows written into flows4" "$("$PROBE" ct-fill "$PIN" $FULL "$VIP" "$id")" $FULL
out=$(python3 "$TOP/tests/e2e/ctl_latency.py" "$SOCK" 60)
echo "# status during the walk: $out"
read -r _ walked _ answers _ max_ms _ _ _ walk_ms _ entries _ _ <<<"$out"
expect_eq "a walk of the full table completes" "${walked:-}" 1
check "the walk read every entry" test "${entries:-0}" -ge $FULL
check "status answered within 100 ms all along (the walk in one go takes about 300)" \
	awk -v m="${max_ms:-999}" 'BEGIN { exit !(m < 100) }'
echo "# $answers answers; the walk took $walk_ms ms"
expect_eq "the backend counts them" "$(xlb_of "$(ctl -j backend show "$VIP" | jq -r '.backends[0].address')")" $FULL

tap_end
