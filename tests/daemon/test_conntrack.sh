#!/usr/bin/env bash
# xlbctl conntrack list and flush (issue 16, part 2) on a real xlbd: flows
# the data plane made (probe flow: SYN, ACK, FIN through the attached
# program) and flows written into flows4 (probe ct-fill); rows, filters,
# the -n bound, JSON, flush by VIP and by backend, the live counts after a
# flush, what the next packet of a flushed flow does, the errors; then a
# table of 1M entries: listed and flushed in bounded slices while status
# keeps answering. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

P=xlbt-k$$-
LIST_PID=
cleanup() {
	[ -n "$LIST_PID" ] && kill "$LIST_PID" 2>/dev/null && wait "$LIST_PID" 2>/dev/null
	site_down
}
trap cleanup EXIT INT TERM

site_up "$P" -n 3
LB=${P}lb
V80=198.18.100.10:80/tcp
V81=198.18.100.11:80/tcp
VRR=198.18.100.12:80/tcp
V6="[2001:db8:100::10]:80/tcp"
CONF=$RUN/xlb.yaml
cat >"$CONF" <<EOF
interfaces: [eth0]
conntrack: { size: 65536 }
vips:
  - vip: $V80
    health: { check: none }
    backends: [ { address: 198.18.0.11 }, { address: 198.18.0.12 }, { address: 198.18.0.13 } ]
  - vip: $V81
    health: { check: none }
    backends: [ { address: 198.18.0.11 } ]
  - vip: $VRR
    scheduler: rr
    health: { check: none }
    backends: [ { address: 198.18.0.11 }, { address: 198.18.0.12 } ]
  - vip: "$V6"
    health: { check: none }
    backends: [ { address: "2001:db8::11" } ]
EOF

check_start "xlbd starts" "$CONF"
all_up() { [ "$(ctl -j backend show | jq '[.backends[] | select(.state == "up")] | length')" = 7 ]; }
check "backends up" wait_for 15 all_up
flow() { # SPORT VIP [syn|fin] -> "TX mac"
	ip netns exec "$LB" "$PROBE" flow "$PIN" eth0 198.18.0.1 "$@"
}
flow6() { ip netns exec "$LB" "$PROBE" flow "$PIN" eth0 2001:db8::1 "$@"; }
id_of() { ctl -j backend show "$1" | jq -r --arg a "$2" '.backends[] | select(.address == $a) | .id'; }
active() { ctl -j backend show "$1" | jq -r --arg a "$2" '.backends[] | select(.address == $a) | .active_flows'; }
stat() { ctl -j stats | jq ".global.$1"; }
walks() { ctl -j status | jq .flow_walk.walks; }
# after_walks N: until N more walks of the tables are complete
after_walks() { local w0; w0=$(walks); wait_for 40 bash -c "[ \$($XLBCTL -s $SOCK -j status | jq .flow_walk.walks) -ge $((w0 + $1)) ]"; }
list() { ctl -j conntrack list "$@"; }
matched() { list "$@" | jq .matched; }

# ---- flows the data plane made: 3 established, 1 on probation, 1 closing, 1 IPv6 ----
for sp in 40001 40002 40003 40004; do flow $sp "$V81" syn >/dev/null; flow $sp "$V81" >/dev/null; done
flow 40004 "$V81" fin >/dev/null
flow 40010 "$V81" syn >/dev/null
flow6 40020 "$V6" syn >/dev/null
flow6 40020 "$V6" >/dev/null
# ---- and written: 100 on V81's backend, 40 and 20 on two of V80's ----
i81=$(id_of "$V81" 198.18.0.11)
i11=$(id_of "$V80" 198.18.0.11)
i12=$(id_of "$V80" 198.18.0.12)
expect_eq "100 flows of $V81 written" "$("$PROBE" ct-fill "$PIN" 100 "$V81" "$i81")" 100
expect_eq "40 flows of $V80 on .11 written" "$("$PROBE" ct-fill "$PIN" 40 "$V80" "$i11")" 40
expect_eq "20 flows of $V80 on .12 written" "$("$PROBE" ct-fill "$PIN" 20 "$V80" "$i12" 40)" 20
TOTAL=166 # 100 + 40 + 20 + 4 made by packets on V81, 1 on probation + 1 IPv6

# ---- list ----
out=$(list)
expect_eq "list -j: every entry matches" "$(jq .matched <<<"$out")" $TOTAL
expect_eq "list -j: 100 shown by default" "$(jq '.entries | length' <<<"$out") $(jq .shown <<<"$out")" "100 100"
expect_eq "list -j: complete, nothing stale" "$(jq -c '[.complete, .stale]' <<<"$out")" "[true,0]"
expect_eq "list -j: each slice within its bound (10 ms of work, 100 ms with a busy host)" "$(jq '.max_busy_us < 100000' <<<"$out")" true
row() { list "$V81" -n 10000 | jq -c --arg c "$1" '.entries[] | select(.client == $c) | [.vip, .backend, .state]'; }
expect_eq "a row: client, VIP, backend, established" "$(row 198.18.0.1:40001)" "[\"$V81\",\"198.18.0.11\",\"established\"]"
expect_eq "a flow after its FIN: closing" "$(row 198.18.0.1:40004)" "[\"$V81\",\"198.18.0.11\",\"closing\"]"
expect_eq "a flow seen once: probation" "$(row 198.18.0.1:40010)" "[\"$V81\",\"198.18.0.11\",\"probation\"]"
expect_eq "an IPv6 flow" "$(list "$V6" | jq -c '.entries[] | [.client, .vip, .backend, .state]')" \
	"[\"[2001:db8::1]:40020\",\"$V6\",\"2001:db8::11\",\"established\"]"
check "idle ages: the packets' are under 10 s" test "$(list "$V81" | jq '[.entries[].idle_ms] | max')" -lt 10000
expect_eq "filter by VIP" "$(matched "$V81")" 105
expect_eq "filter by VIP and backend" "$(list "$V80" 198.18.0.12 | jq -c '[.matched, ([.entries[].backend] | unique)]')" \
	'[20,["198.18.0.12"]]'
expect_eq "filter by backend across VIPs" "$(matched 198.18.0.11)" 145
expect_eq "-n 5: 5 shown of all" "$(list -n 5 | jq -c '[.shown, .matched]')" "[5,$TOTAL]"
expect_eq "-n 0: counts only" "$(list -n 0 | jq -c '[.shown, .matched]')" "[0,$TOTAL]"
expect_eq "-n 10000: all of them" "$(list -n 10000 | jq .shown)" $TOTAL
expect_eq "shown sorted: VIP, backend, client" "$(list -n 10000 | jq '[.entries[] | [.vip, .backend, .client]] as $r | $r == ($r | sort)')" true
out=$(ctl conntrack list "$V80" 198.18.0.12 -n 3)
expect_eq "text: a header" "$(head -1 <<<"$out" | tr -s ' ')" "CLIENT VIP BACKEND STATE IDLE"
expect_eq "text: 3 rows" "$(sed -n '2,4p' <<<"$out" | awk '{print $2, $3, $4}' | sort -u)" "$V80 198.18.0.12 established"
expect_eq "text: matched and shown" "$(tail -1 <<<"$out")" "20 matching entries, 3 shown (-n 3); 0 stale, $TOTAL scanned"
expect_eq "ct, show and a prefix of list work" "$(ctl -j ct show "$V81" | jq .matched) $(ctl -j conntrack l "$V81" | jq .matched)" "105 105"

# ---- errors: a message, non-zero, nothing changed ----
err() { # EXIT MESSAGE ARGS...: exit status and stderr of xlbctl ARGS
	local want=$1 msg=$2 got out
	shift 2
	out=$(ctl "$@" 2>&1 >/dev/null)
	got=$?
	expect_eq "$* -> $want: $msg" "$got $out" "$want xlbctl: $msg"
}
err 1 "no such VIP" conntrack list 198.18.100.99:80/tcp
err 1 "no such VIP" conntrack flush 198.18.100.99:80/tcp
err 1 "no such backend 198.18.0.13 in that VIP" conntrack list "$V81" 198.18.0.13
err 1 "no such backend 198.18.0.99 in any VIP" conntrack flush 198.18.0.99
err 2 "invalid VIP '198.18.100.300:80/tcp': bad IPv4 address" conntrack list 198.18.100.300:80/tcp
err 2 "invalid backend address '198.18.0.300': bad IPv4 address" conntrack list "$V80" 198.18.0.300
err 2 "-n: out of range (0..10000)" conntrack list -n 10001
err 2 "-n: not a number" conntrack list -n many
err 2 "'conntrack list': -n needs a number" conntrack list -n
err 2 "'conntrack flush': unexpected argument '-n'" conntrack flush -n 5
err 2 "'f' is short for 'flush': destructive verbs are typed in full" conntrack f
err 2 "'flus' is short for 'flush': destructive verbs are typed in full" conntrack flus "$V80"
expect_eq "flush --help: its usage" "$(ctl conntrack flush --help)" \
	"xlbctl conntrack flush [VIP] [BACKEND]   (typed in full: the next packet is scheduled again)"
check "list -h: its usage" bash -c "$XLBCTL -s $SOCK ct list -h | grep -q '^xlbctl conntrack list \[VIP\] \[BACKEND\] \[-n N\]'"
expect_eq "-j: the error as JSON on stderr" "$(ctl -j conntrack list 198.18.100.99:80/tcp 2>&1 >/dev/null)" '{"error":"no such VIP"}'
expect_eq "nothing was flushed" "$(matched)" $TOTAL

# ---- flush, and the live counts ----
check "a walk counted them" after_walks 2
expect_eq "before: the live counts of V80's .11, .12 and V81's .11" \
	"$(active "$V80" 198.18.0.11) $(active "$V80" 198.18.0.12) $(active "$V81" 198.18.0.11)" "40 20 103"
expect_eq "flush VIP BACKEND: the text" "$(ctl conntrack flush "$V80" 198.18.0.11)" "deleted 40 entries (40 live, 0 stale)"
check "the log names it" grep -q "info: conntrack flush of $V80, 198.18.0.11: 40 deleted in its first slice$" "$RUN/xlbd.log"
expect_eq "...at once: the backend counts 0, its neighbour still 20" \
	"$(active "$V80" 198.18.0.11) $(active "$V80" 198.18.0.12)" "0 20"
expect_eq "...its entries are gone, the others stay" "$(matched "$V80") $(matched "$V81")" "20 105"
expect_eq "flush VIP -j" "$(ctl -j conntrack flush "$V81" | jq -c '[.deleted, .matched, .complete]')" "[105,105,true]"
expect_eq "...at once: V81's backend counts 0" "$(active "$V81" 198.18.0.11)" 0
expect_eq "...the other VIPs' entries stay" "$(matched "$V80") $(matched "$V6")" "20 1"
check "a walk after the flushes" after_walks 2
expect_eq "after it: the counts are still right" \
	"$(active "$V80" 198.18.0.11) $(active "$V80" 198.18.0.12) $(active "$V81" 198.18.0.11)" "0 20 0"
expect_eq "a second flush finds nothing" "$(ctl conntrack flush "$V81")" "deleted 0 entries (0 live, 0 stale)"

# ---- a flushed flow's next packet (README: conntrack flush) ----
# maglev: the table's pick again, on probation, then back in the main table
flow 40001 "$V81" >/dev/null
expect_eq "maglev: the next ACK is picked again, on probation" "$(row 198.18.0.1:40001)" "[\"$V81\",\"198.18.0.11\",\"probation\"]"
flow 40001 "$V81" >/dev/null
expect_eq "...and the one after is established again" "$(row 198.18.0.1:40001)" "[\"$V81\",\"198.18.0.11\",\"established\"]"
# rr: only a first packet is scheduled; an ACK that no table holds goes by hash, unwritten
flow 41001 "$VRR" syn >/dev/null
flow 41001 "$VRR" >/dev/null
expect_eq "rr: a flow established" "$(list "$VRR" | jq -r '.entries[0].state')" established
expect_eq "flush it" "$(ctl -j conntrack flush "$VRR" | jq .deleted)" 1
mid0=$(stat ct_miss_midflow)
flow 41001 "$VRR" >/dev/null
flow 41001 "$VRR" >/dev/null
expect_eq "rr: its ACKs are sent by hash (ct_miss_midflow +2)" "$(($(stat ct_miss_midflow) - mid0))" 2
expect_eq "...and never written again" "$(matched "$VRR")" 0
expect_eq "flush with no filter: everything" "$(ctl -j conntrack flush | jq .deleted)" 22
expect_eq "the tables are empty" "$(matched)" 0

# ---- 1M entries: bounded slices, status answering all along ----
xlbd_stop
ip netns exec "$LB" "$XLBD" --teardown --bpffs "$PIN" >/dev/null 2>&1
sed -i 's/^conntrack: .*/conntrack: { size: 1000000 }/' "$CONF"
check_start "xlbd starts with a table of 1M flows a family" "$CONF"
check "backends up" wait_for 15 all_up
i11=$(id_of "$V80" 198.18.0.11)
FULL=999424 # 122 x 8192: each CPU's share of the LRU table alike, so none is evicted
expect_eq "$FULL flows written into flows4" "$("$PROBE" ct-fill "$PIN" $FULL "$V80" "$i11")" $FULL
# one request, as xlbctl's first: a slice of the table and the cursor to go on from
out=$(ctl_raw '{"cmd":"conntrack-list","limit":0}')
check "1M: one request reads a slice and says the scan goes on ($(jq -c '{scanned, busy_us, table, pos}' <<<"$out"))" \
	jq -e '.ok and .scanned >= 4096 and .scanned <= 65536 + 4096 and .table == 0 and .pos > 0' <<<"$out"
ctl -j conntrack list -n 10 >"$RUN/list.json" 2>&1 &
LIST_PID=$!
t0=$(date +%s%N)
max=0 fails=0 asks=0
while kill -0 "$LIST_PID" 2>/dev/null && [ $asks -lt 2000 ]; do
	a=$(date +%s%N)
	ctl status >/dev/null 2>&1 || fails=$((fails + 1))
	b=$((($(date +%s%N) - a) / 1000000))
	[ $b -gt $max ] && max=$b
	asks=$((asks + 1))
done
wait "$LIST_PID"
rc=$?
LIST_PID=
ms=$((($(date +%s%N) - t0) / 1000000))
out=$(cat "$RUN/list.json")
echo "# 1M list: $ms ms, $(jq -c '{requests, max_busy_us, scanned}' <<<"$out" 2>/dev/null); status: $asks answers, slowest $max ms"
expect_eq "1M: list exits 0, complete, every entry counted, 10 shown" \
	"$rc $(jq -c '[.complete, .matched, .shown]' <<<"$out")" "0 [true,$FULL,10]"
# a slice is about 10 ms; one request for the lot would take some 300
check "1M: in many slices, each within its bound" jq -e '.requests > 20 and .max_busy_us < 100000' <<<"$out"
expect_eq "1M: status answered every time during the list" "$fails" 0
check "1M: status answered meanwhile, the slowest within 150 ms ($max ms, $asks answers)" test "$asks" -gt 0 -a "$max" -lt 150
check "a walk counted them" after_walks 2
expect_eq "1M: the backend counts them" "$(active "$V80" 198.18.0.11)" $FULL
t0=$(date +%s%N)
audits=$(grep -c 'control: uid 0 pid [0-9]*: conntrack-flush' "$RUN/xlbd.log")
out=$(ctl -j conntrack flush "$V80" 198.18.0.11)
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# 1M flush: $ms ms, $(jq -c '{requests, max_busy_us}' <<<"$out")"
expect_eq "1M: flush deletes them all" "$(jq -c '[.deleted, .complete]' <<<"$out")" "[$FULL,true]"
check "1M: flush in slices, each within its bound" jq -e '.requests > 20 and .max_busy_us < 100000' <<<"$out"
expect_eq "1M: one audit line for the flush, not one per slice" \
	"$(grep -c 'control: uid 0 pid [0-9]*: conntrack-flush' "$RUN/xlbd.log")" "$((audits + 1))"
# a first slice sent with its cursor spelled out (0, 0) is audited all the same
ctl_raw '{"cmd":"conntrack-flush","table":0,"pos":0}' >/dev/null
expect_eq "a flush from cursor 0/0: audited" \
	"$(grep -c 'control: uid 0 pid [0-9]*: conntrack-flush' "$RUN/xlbd.log")" "$((audits + 2))"
ctl_raw '{"cmd":"conntrack-flush","table":0,"pos":5}' >/dev/null
expect_eq "a flush from a cursor xlbd did not hand out: audited" \
	"$(grep -c 'control: uid 0 pid [0-9]*: conntrack-flush' "$RUN/xlbd.log")" "$((audits + 3))"
expect_eq "1M: the count is 0 right after" "$(active "$V80" 198.18.0.11)" 0
expect_eq "1M: the table is empty" "$("$PROBE" ct-count "$PIN")" 0
check "status answers" ctl status

tap_end
