#!/usr/bin/env bash
# Several LB hosts behind ECMP (scripts/topo-ecmp.sh): the router learns
# the VIP from every xlbd over BGP (BIRD), new connections spread over the
# hosts and backends, the route follows health, and established
# connections survive losing a host because every host builds the same
# Maglev table. Prints TAP and the measured figures.
set -u
. "$(dirname "$0")/../lib.sh"

P=xlbt-m$$-
TOPO=$TOP/scripts/topo-ecmp.sh
cleanup() {
	local f pid
	for f in "${RUN_DIR:-/nonexistent}"/stream*.pid "${RUN_DIR:-/nonexistent}"/slow*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null || true
	done
	bash "$TOPO" down -p "$P"
}
trap cleanup EXIT INT TERM

FALL=2 INTERVAL_MS=500 # as the site's health checks
SLOW_SIZE=2621440      # topo-ecmp.sh's /slow
if ! bash "$TOPO" up -p "$P"; then
	not_ok "the site comes up"
	tap_end
	exit 1
fi
eval "$(bash "$TOPO" env -p "$P")"
ok "the site comes up: a router, 3 LB hosts with xlbd and BIRD, 3 backends"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
lbctl() { # N ARGS...
	local n=$1
	shift
	"$XLBCTL" -s "$RUN_DIR/lb$n/xlbd.sock" "$@"
}
lb_v4_of() { echo "198.18.0.$((1 + $1))"; }
hops() { ip -n "$ROUTER" route show "$VIP" | grep -o 'via 198\.18\.0\.[0-9]*' | awk '{print $2}' | sort | tr '\n' ' '; }
hops_are() { [ "$(hops)" = "$1" ]; }
no_route() { [ -z "$(ip -n "$ROUTER" route show "$VIP")" ]; }
vip_packets() { "$XLBCTL" -s "$RUN_DIR/lb$1/xlbd.sock" -j vip show "$VIP:80/tcp" | jq '.vips[0].packets'; }
all_up() { # LB
	[ "$("$XLBCTL" -s "$RUN_DIR/lb$1/xlbd.sock" -j backend show "$VIP:80/tcp" |
		jq '[.backends[] | select(.state == "up")] | length')" = 3 ]
}
nginx_kill() { # N
	kill "$(cat "$RUN_DIR/nginx-be$1/nginx.pid")"
}
nginx_start() { bash "$TOPO" nginx-start -p "$P" "$1"; }

# ---- a. the router learns a multipath route over BGP ----
ALL="198.18.0.2 198.18.0.3 198.18.0.4 "
check "a: the router has a multipath route to the VIP via all three LB hosts" \
	wait_for 20 hops_are "$ALL"
echo "# $(ip -n "$ROUTER" route show "$VIP" | tr '\n\t' '  ')"
check "a: ...installed by BIRD (proto bird)" \
	sh -c "ip -n '$ROUTER' route show '$VIP' | grep -q 'proto bird'"
expect_eq "a: ...learned over BGP from the three LB hosts" \
	"$(ip netns exec "$ROUTER" birdc -s "$RUN_DIR/router/bird.ctl" show route "$VIP/32" |
		grep -c 'unicast \[lb[123] .*AS64512i')" 3
expect_eq "a: BFD is up with each LB host" \
	"$(ip netns exec "$ROUTER" birdc -s "$RUN_DIR/router/bird.ctl" show bfd sessions | grep -c ' Up ')" 3

# ---- b. spread ----
for i in 1 2 3; do wait_for 10 all_up "$i" || not_ok "b: lb$i sees every backend up"; done
for i in 1 2 3; do before[i]=$(vip_packets "$i"); done
args=()
for i in $(seq 1 300); do args+=(-o /dev/stdout "http://$VIP/"); done
answers=$(ip netns exec "$CLIENT" curl -s -m 30 -H 'Connection: close' "${args[@]}" | awk '{print $2}')
expect_eq "b: 300 new connections all answered" "$(echo "$answers" | grep -c '^be[123]$')" 300
spread=
for i in 1 2 3; do
	d[i]=$(($(vip_packets "$i") - before[i]))
	spread+="lb$i=${d[i]} "
done
echo "# VIP packets per LB host: $spread; answers per backend: $(echo "$answers" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')"
check "b: every LB host's XDP forwarded part of them (>= 10% each)" \
	test "${d[1]}" -ge 150 -a "${d[2]}" -ge 150 -a "${d[3]}" -ge 150
check "b: every backend answered" \
	test "$(echo "$answers" | sort -u | tr '\n' ' ')" = "be1 be2 be3 "

# ---- c. withdraw and announce by health ----
limit=$((FALL * INTERVAL_MS + 1000))
t0=$(now_ms)
for i in 1 2 3; do nginx_kill "$i"; done
if wait_for 10 no_route; then
	lost=$(($(now_ms) - t0))
	echo "# every backend stopped: the router lost the route after $lost ms (limit $limit ms)"
	check "c: every backend down: the router loses the route within fall x interval + 1 s" \
		test "$lost" -le "$limit"
else
	not_ok "c: every backend down: the router loses the route" "$(ip -n "$ROUTER" route show "$VIP")"
fi
expect_eq "c: every LB host says why" \
	"$(for i in 1 2 3; do lbctl "$i" -j vip show | jq -r '.vips[0] | "\(.announced) \(.announce_reason)"'; done | sort -u)" \
	"no 0 of 3 backends up, fewer than min_up 1"
t0=$(now_ms)
nginx_start 1
if wait_for 10 hops_are "$ALL"; then
	echo "# one backend back: the route returned via all three hosts after $(($(now_ms) - t0)) ms"
	ok "c: one backend back: the route returns via all three hosts"
else
	not_ok "c: one backend back: the route returns" "$(ip -n "$ROUTER" route show "$VIP")"
fi
nginx_start 2
nginx_start 3
for i in 1 2 3; do wait_for 10 all_up "$i" || not_ok "c: lb$i sees every backend up again"; done

# ---- d. losing an LB host under load ----
SLOW=200 # the issue holds 200 long-lived connections
for i in $(seq 1 "$SLOW"); do
	# paced by nginx (the site's /slow): about 10 s each
	ip netns exec "$CLIENT" curl -s -m 40 -o /dev/null \
		-w '%{http_code} %{size_download}\n' "http://$VIP/slow" >"$RUN_DIR/slow$i.out" 2>/dev/null &
	echo $! >"$RUN_DIR/slow$i.pid"
done
established() { ip netns exec "$CLIENT" ss -Htn state established dst "$VIP" | wc -l; }
all_established() { [ "$(established)" -ge "$SLOW" ]; }
check "d: $SLOW long-lived downloads established" wait_for 10 all_established

# stream WORKER [CONNECT_TIMEOUT MAX_TIME]: new requests one after another,
# until RUN_DIR/stop, one line each: START END RC (ms)
stream() {
	local n s e rc end=$(($(now_ms) + 40000))
	for n in $(seq 1 4000); do
		[ -f "$RUN_DIR/stop" ] || [ "$(now_ms)" -gt "$end" ] && break
		s=$(now_ms)
		ip netns exec "$CLIENT" curl -s -o /dev/null --connect-timeout "${2:-0.3}" -m "${3:-1}" \
			-H 'Connection: close' "http://$VIP/"
		rc=$?
		e=$(now_ms)
		echo "$s $e $rc"
	done >"$RUN_DIR/stream$1.log"
}
for w in 1 2 3 4; do
	stream "$w" &
	echo $! >"$RUN_DIR/stream$w.pid"
done

# the victim carries live connections right before it dies
p1=$(vip_packets 1)
lb1_busy() { [ "$(vip_packets 1)" -gt $((p1 + 100)) ]; }
wait_for 3 lb1_busy ||
	not_ok "d: lb1 carries part of the downloads"
echo "# lb1 forwarded $(($(vip_packets 1) - p1)) packets of the load just before the kill"
check "d: right before the kill all $SLOW downloads are still open" all_established
kill_at=$(now_ms)
bash "$TOPO" kill-lb -p "$P" 1
if wait_for 5 hops_are "198.18.0.3 198.18.0.4 "; then
	echo "# lb1 killed: the router dropped it from the route after $(($(now_ms) - kill_at)) ms"
	ok "d: lb1 killed: the router drops it from the route (BFD)"
else
	not_ok "d: lb1 killed: the router drops it from the route" "$(ip -n "$ROUTER" route show "$VIP")"
fi

survived=0
for i in $(seq 1 "$SLOW"); do
	wait "$(cat "$RUN_DIR/slow$i.pid")" 2>/dev/null
	[ "$(cat "$RUN_DIR/slow$i.out" 2>/dev/null)" = "200 $SLOW_SIZE" ] && survived=$((survived + 1))
	rm -f "$RUN_DIR/slow$i.pid"
done
touch "$RUN_DIR/stop"
for w in 1 2 3 4; do wait "$(cat "$RUN_DIR/stream$w.pid")" 2>/dev/null; rm -f "$RUN_DIR/stream$w.pid"; done
echo "# established connections that survived losing lb1: $survived of $SLOW"
check "d: established connections survive losing a host (floor 99%)" \
	test "$survived" -ge $((SLOW * 99 / 100))

# outage: from the kill to the end of the last request that failed
read -r total failed outage < <(cat "$RUN_DIR"/stream*.log |
	awk -v k="$kill_at" '{ n++ } $3 != 0 && $1 >= k - 1000 { f++; if ($2 - k > o) o = $2 - k }
		END { print n + 0, f + 0, o + 0 }')
echo "# new requests: $total in all, $failed failed; they failed until $outage ms after the kill"
echo "# ...of them $(cat "$RUN_DIR"/stream*.log | awk -v k="$kill_at" '$1 >= k && $1 < k + 1000' | wc -l) started in the second after it"
check "d: new requests kept being served after the kill" \
	sh -c "awk -v k=$kill_at '\$1 > k + 2000 && \$3 == 0' '$RUN_DIR'/stream*.log | grep -q ."
check "d: new requests failed for under 1 s" test "$outage" -lt 1000
rm -f "$RUN_DIR/stop" "$RUN_DIR"/stream*.log

# ---- a load for e and f: downloads plus a stream of new requests ----
# Lenient timeouts (a SYN may be retransmitted): a failure here is a
# connection that broke, not one that was slow.
# not under check: its $(...) would wait for the whole load
load_start() { # TAG
	local i w
	rm -f "$RUN_DIR/stop"
	for i in $(seq 1 "$SLOW"); do
		ip netns exec "$CLIENT" curl -s -m 40 -o /dev/null \
			-w '%{http_code} %{size_download}\n' "http://$VIP/slow" >"$RUN_DIR/slow$1$i.out" 2>/dev/null &
		echo $! >"$RUN_DIR/slow$1$i.pid"
	done
	for w in 1 2 3 4; do
		stream "$1$w" 2 5 &
		echo $! >"$RUN_DIR/stream$1$w.pid"
	done
}
# load_end TAG: waits for the downloads, stops the stream; sets survived,
# requests, failed
load_end() {
	local i w
	survived=0
	for i in $(seq 1 "$SLOW"); do
		wait "$(cat "$RUN_DIR/slow$1$i.pid")" 2>/dev/null
		[ "$(cat "$RUN_DIR/slow$1$i.out" 2>/dev/null)" = "200 $SLOW_SIZE" ] && survived=$((survived + 1))
		rm -f "$RUN_DIR/slow$1$i.pid"
	done
	touch "$RUN_DIR/stop"
	for w in 1 2 3 4; do wait "$(cat "$RUN_DIR/stream$1$w.pid")" 2>/dev/null; rm -f "$RUN_DIR/stream$1$w.pid"; done
	read -r requests failed < <(cat "$RUN_DIR"/stream"$1"?.log | awk '{ n++ } $3 != 0 { f++ } END { print n + 0, f + 0 }')
}
# quiet N: lb N's XDP forwards no VIP packet for half a second
quiet() {
	local p
	p=$(vip_packets "$1")
	sleep 0.5
	[ "$(vip_packets "$1")" = "$p" ]
}
# busy N FROM: lb N forwarded 100 VIP packets more than FROM
busy() { [ "$(vip_packets "$1")" -gt $(($2 + 100)) ]; }

# ---- e. maintenance: lb withdraw on a host under load ----
load_start e
check "e: $SLOW downloads established, new requests streaming" wait_for 10 all_established
p2=$(vip_packets 2)
check "e: lb2 carries part of the load" wait_for 3 busy 2 "$p2"
t0=$(now_ms)
lbctl 2 lb withdraw >/dev/null
if wait_for 10 hops_are "198.18.0.4 "; then
	echo "# lb withdraw on lb2: the router dropped it from the route after $(($(now_ms) - t0)) ms (BGP withdraw)"
	ok "e: lb withdraw: the router drops lb2 from the route"
else
	not_ok "e: lb withdraw: the router drops lb2 from the route" "$(ip -n "$ROUTER" route show "$VIP")"
fi
expect_eq "e: lb2 says why" "$(lbctl 2 -j vip show | jq -r '.vips[0] | "\(.announced) \(.announce_reason)"')" \
	"no host withdrawn (xlbctl lb withdraw)"
check "e: lb2 forwards until the router stops sending, then nothing" wait_for 5 quiet 2
echo "# lb2 forwarded $(($(vip_packets 2) - p2)) VIP packets of the load until then"
bash "$TOPO" stop-lb -p "$P" 2
load_end e
echo "# maintenance of lb2 under load: $survived of $SLOW downloads complete; new requests: $requests, $failed failed"
expect_eq "e: every download survives the maintenance" "$survived" "$SLOW"
expect_eq "e: no new request failed" "$failed" 0
check "e: new requests were served all along" test "$requests" -ge 40

# ---- f. adding an LB host under load ----
load_start f
check "f: $SLOW downloads established, new requests streaming" wait_for 10 all_established
t0=$(now_ms)
if ! bash "$TOPO" add-lb -p "$P" 4; then
	not_ok "f: lb4 comes up"
fi
if wait_for 20 hops_are "198.18.0.4 198.18.0.5 "; then
	echo "# lb4 added: in the router's route after $(($(now_ms) - t0)) ms"
	ok "f: lb4 joins: the router's route goes via lb3 and lb4"
else
	not_ok "f: lb4 joins the route" "$(ip -n "$ROUTER" route show "$VIP")"
fi
p4=$(vip_packets 4)
check "f: ECMP moves flows onto lb4" wait_for 5 busy 4 "$p4"
check "f: lb4 took established downloads (all $SLOW still open)" all_established
load_end f
echo "# lb4 forwarded $(vip_packets 4) VIP packets; $survived of $SLOW downloads complete; new requests: $requests, $failed failed"
expect_eq "f: every download survives lb4 joining" "$survived" "$SLOW"
expect_eq "f: no new request failed" "$failed" 0

# ---- g. flows survive losing a host after the backend set changed ----
# be3 out of every table, 200 downloads over be1 and be2, be3 back: about a
# third of the slots move to it, and the flows on them stay on be1 or be2
# only through the connection table of the host carrying them, which hands
# them off to its peers. Then that host dies.
ho() { lbctl "$1" -j lb show | jq ".handoff.$2"; }
be3() { for n in 3 4; do lbctl "$n" backend set "$VIP:80/tcp" 198.18.0.13 "$1" >/dev/null; done; }
be3 disable
SLOW=200
load_start g
check "g: $SLOW downloads established on be1 and be2" wait_for 10 all_established
for n in 3 4; do walks[n]=$(ho "$n" walks) sent[n]=$(ho "$n" sent_flows) got[n]=$(ho "$n" received_flows); done
t0=$(now_ms)
be3 enable
handed_off() { # every walk done, every flow sent received by the other host
	[ "$(ho 3 walks)" -gt "${walks[3]}" ] && [ "$(ho 4 walks)" -gt "${walks[4]}" ] &&
		[ $(($(ho 4 received_flows) - got[4])) -ge $(($(ho 3 sent_flows) - sent[3])) ] &&
		[ $(($(ho 3 received_flows) - got[3])) -ge $(($(ho 4 sent_flows) - sent[4])) ]
}
check "g: be3 back: the moved flows are handed off" wait_for 5 handed_off
took=$(($(now_ms) - t0))
for n in 3 4; do moved[n]=$(($(ho "$n" sent_flows) - sent[n])); done
echo "# hand-off: lb3 sent ${moved[3]} flows, lb4 ${moved[4]}; in $(($(ho 3 sent_datagrams) + $(ho 4 sent_datagrams))) datagrams in all; $took ms from be3 enabled to received (walks: lb3 $(ho 3 last_walk_us) us, lb4 $(ho 4 last_walk_us) us); inserted, the same, kept as they were: lb3 $(ho 3 inserted) $(ho 3 present) $(ho 3 kept), lb4 $(ho 4 inserted) $(ho 4 present) $(ho 4 kept)"
victim=3 other=4
[ "${moved[4]}" -gt "${moved[3]}" ] && victim=4 other=3
check "g: lb$victim carries moved flows" test "${moved[victim]}" -gt 0
check "g: right before the kill all $SLOW downloads are still open" all_established
bash "$TOPO" kill-lb -p "$P" "$victim"
check "g: lb$victim killed: the router drops it" wait_for 5 hops_are "$(lb_v4_of "$other") "
load_end g
echo "# lb$victim killed, carrying ${moved[victim]} moved flows: $survived of $SLOW downloads complete"
expect_eq "g: every download survives, the ${moved[victim]} moved ones too" "$survived" "$SLOW"

tap_end
