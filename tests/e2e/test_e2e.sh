#!/usr/bin/env bash
# End to end: real clients (curl, wrk, scapy) through a VIP to nginx
# backends answering by direct server return. Each scenario builds its own
# site of namespaces and removes it, also when it fails. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

V4=198.18.100.10
V6=2001:db8:100::10
cleanup() {
	site_down
}
trap cleanup EXIT INT TERM

# conf FILE [BACKENDS]: VIP :80 over IPv4 (maglev) and IPv6, :80 on .11
# (source-hash), fast http checks, backends 1..BACKENDS.
conf() {
	local file=$1 n=${2:-3} i
	{
		echo "interfaces: [eth0]"
		echo "conntrack: { size: 65536 }"
		echo "vips:"
		for vip in "$V4:80/tcp" "[$V6]:80/tcp" "198.18.100.11:80/tcp"; do
			echo "  - vip: \"$vip\""
			[ "$vip" = 198.18.100.11:80/tcp ] && echo "    scheduler: source-hash"
			echo "    health: { check: http, path: /healthz, interval: 500ms, timeout: 300ms, rise: 2, fall: 2 }"
			echo "    backends:"
			for i in $(seq 1 "$n"); do
				case $vip in
				\[*) echo "      - { address: \"2001:db8::1$i\" }" ;;
				*) echo "      - { address: 198.18.0.1$i }" ;;
				esac
			done
		done
	} >"$file"
}

all_up() { # VIP N
	[ "$(ctl -j backend show "$1" | jq '[.backends[] | select(.state == "up")] | length')" = "$2" ]
}

# scenario NAME BACKENDS_IN_SITE BACKENDS_IN_CONFIG: a fresh site with xlbd serving.
scenario() {
	site_down
	echo "# ---- $1"
	site_up "xlbt-e$$-$2$3-" -n "$2" --nginx
	CLIENT=${SITE}client
	conf "$RUN/xlb.yaml" "$3"
	check_start "$1: xlbd starts" "$RUN/xlb.yaml"
	wait_for 15 all_up "$V4:80/tcp" "$3" && wait_for 5 all_up "[$V6]:80/tcp" "$3" &&
		wait_for 5 all_up 198.18.100.11:80/tcp "$3" ||
		not_ok "$1: backends up" "$(ctl backend show)"
}

# get N URL: N requests, each on a new connection; one line per answer,
# the backend's name.
get() {
	local n=$1 url=$2 args=() i
	for i in $(seq 1 "$n"); do args+=(-o /dev/stdout "$url"); done
	ip netns exec "$CLIENT" curl -s -g -m 5 -H 'Connection: close' "${args[@]}" |
		awk '{print $2}'
}

counts() { sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '; }

flows_of() { # VIP ADDR
	ctl -j backend show "$1" | jq -r --arg a "$2" '.backends[] | select(.address == $a) | .flows'
}

in_range() { # X LO HI
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# wrk_run SECONDS OUT: keep-alive load on the IPv4 VIP, in the background.
wrk_run() {
	ip netns exec "$CLIENT" wrk -t 2 -c 16 -d "$1"s "http://$V4/" >"$2" 2>&1 &
	WRK_PID=$!
	echo "$WRK_PID" >"$RUN/wrk.pid"
}


vip_packets() { ctl -j vip show "$V4:80/tcp" | jq '.vips[0].packets'; }
load_flowing() { [ "$(vip_packets)" -gt "$1" ]; }

# ---- 1. serve ----
scenario serve 3 3
for fam in 4 6; do
	url="http://$V4/"
	vip=$V4:80/tcp
	[ $fam = 6 ] && url="http://[$V6]/" && vip="[$V6]:80/tcp"
	answers=$(get 300 "$url")
	expect_eq "IPv$fam: 300 requests on new connections all succeed" "$(echo "$answers" | grep -c be)" 300
	dist=$(echo "$answers" | counts)
	echo "# IPv$fam distribution: $dist"
	ok_dist=1
	for be in be1 be2 be3; do
		n=$(echo "$answers" | grep -c "^$be$")
		in_range "$n" 60 141 || ok_dist=0
	done
	expect_eq "IPv$fam: each backend answers 20%..47%" "$ok_dist" 1
	want=$(for i in 1 2 3; do
		a=198.18.0.1$i
		[ $fam = 6 ] && a=2001:db8::1$i
		echo "$a=$(echo "$answers" | grep -c "^be$i$")"
	done | tr '\n' ' ')
	got=$(ctl -j backend show "$vip" | jq -r '.backends[] | "\(.address)=\(.flows)"' | tr '\n' ' ')
	expect_eq "IPv$fam: backend show counts the same flows" "$got" "$want"
done

# ---- 2. direct server return ----
lb_rx() { ip -n "${SITE}lb" -j -s link show eth0 | jq ".[0].stats64.rx.$1"; }
lb_tx() { ip -n "${SITE}lb" -j -s link show eth0 | jq ".[0].stats64.tx.$1"; }
cl() { ip -n "$CLIENT" -j -s link show eth0 | jq ".[0].stats64.$1"; }
vip_bytes() { ctl -j vip show "$V4:80/tcp" | jq '.vips[0].bytes'; }
p0=$(vip_packets) b0=$(vip_bytes) lrp=$(lb_rx packets) lrb=$(lb_rx bytes) ltb=$(lb_tx bytes)
ctp=$(cl tx.packets) ctb=$(cl tx.bytes) crb=$(cl rx.bytes)
for i in $(seq 1 10); do
	ip netns exec "$CLIENT" curl -s -m 10 -o /dev/null "http://$V4/big"
done
dp=$(($(vip_packets) - p0)) db=$(($(vip_bytes) - b0))
dlrp=$(($(lb_rx packets) - lrp)) dlrb=$(($(lb_rx bytes) - lrb)) dltb=$(($(lb_tx bytes) - ltb))
dctp=$(($(cl tx.packets) - ctp)) dctb=$(($(cl tx.bytes) - ctb)) dcrb=$(($(cl rx.bytes) - crb))
echo "# client sent $dctp packets / $dctb bytes, received $dcrb bytes"
echo "# LB eth0 received $dlrp packets / $dlrb bytes; XDP forwarded $dp packets / $db bytes for the VIP; LB stack sent $dltb bytes"
check "DSR: the client received the 40 MiB, the LB's interface did not" \
	test "$dcrb" -gt 41943040 -a "$dlrb" -lt $((dcrb / 20))
check "DSR: XDP forwarded every packet the client sent to the VIP" \
	test "$dp" -ge $((dctp - 40)) -a "$dp" -le "$dctp"
check "DSR: ...and their bytes (within ARP/ND noise)" \
	test "$db" -ge $((dctb - 4000)) -a "$db" -le "$dctb"
check "DSR: the LB interface received the forwarded packets and little else" \
	test "$dlrp" -ge "$dp" -a "$dlrp" -lt $((dp + 400))

# ---- 3. session persistence ----
answers=$(get 100 "http://198.18.100.11/")
expect_eq "source-hash: 100 connections from one client land on one backend" \
	"$(echo "$answers" | sort -u | wc -l) $(echo "$answers" | wc -l)" "1 100"

# ---- 4. failover ----
scenario failover 3 3
log=$RUN/loop.log
(
	end=$(($(date +%s%N) + 9000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		# stamped when sent: a request sent before the stop may end after it
		t=$(date +%s%N)
		r=$(ip netns exec "$CLIENT" curl -s -m 1 -o /dev/null -w '%{http_code} %header{x-backend}' \
			-H 'Connection: close' "http://$V4/")
		echo "$t $r"
	done
) >"$log" &
loop=$!
echo "$loop" >"$RUN/loop.pid"
wait_for 5 test -s "$log"
t_stop=$(date +%s%N)
be2_pid=$(cat "$RUN/nginx-be2/nginx.pid")
kill "$be2_pid"
wait_for 10 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show $V4:80/tcp | jq -r '.backends[1].state')\" = down ]"
t_down=$(date +%s%N)
wait_for 5 bash -c "! kill -0 $be2_pid"
t_gone=$(date +%s%N) # nginx has exited: nothing sent from now on can reach it
wait "$loop"
last_fail=$(awk -v t="$t_stop" '$1 > t && $2 != "200" {l = $1} END {printf "%.0f\n", l + 0}' "$log")
fails=$(awk -v t="$t_stop" '$1 > t && $2 != "200"' "$log" | wc -l)
detect_ms=$(((t_down - t_stop) / 1000000))
outage_ms=$(( last_fail ? (last_fail - t_stop) / 1000000 : 0 ))
echo "# be2 stopped: marked down after $detect_ms ms; $fails failed requests, the last $outage_ms ms after the stop"
check "failover: detected within fall x interval + interval (1500 ms)" test "$detect_ms" -le 1500
check "failover: no request fails later than 1500 ms after the stop" test "$outage_ms" -le 1500
check "failover: be2 answered nothing sent after it exited" \
	bash -c "! awk -v t=$t_gone '\$1 > t && \$3 == \"be2\"' $log | grep -q ."
flows_be2=$(flows_of "$V4:80/tcp" 198.18.0.12)
answers=$(get 200 "http://$V4/")
expect_eq "failover: 200 further requests all succeed" "$(echo "$answers" | grep -c be)" 200
expect_eq "failover: none of them went to be2" "$(flows_of "$V4:80/tcp" 198.18.0.12)" "$flows_be2"
bash "$TOP/scripts/topo.sh" nginx-stop -p "$SITE" 2 # until it is gone
bash "$TOP/scripts/topo.sh" nginx-start -p "$SITE" 2
check "failover: be2 back in service after rise checks" wait_for 10 all_up "$V4:80/tcp" 3
check "failover: and answers again" bash -c "for i in \$(seq 1 60); do ip netns exec $CLIENT curl -s -m 2 -H 'Connection: close' http://$V4/; done | grep -q be2"

# ---- 5. drain ----
scenario drain 3 3
ip netns exec "$CLIENT" curl -s -m 30 -D "$RUN/slow.hdr" -o "$RUN/slow.body" "http://$V4/slow" &
dl=$!
echo "$dl" >"$RUN/dl.pid"
wait_for 5 grep -qi '^x-backend' "$RUN/slow.hdr"
be=$(awk -F': ' 'tolower($1) == "x-backend" {print $2}' "$RUN/slow.hdr" | tr -d '\r')
addr=198.18.0.1${be#be}
ctl backend set "$V4:80/tcp" "$addr" drain
answers=$(get 60 "http://$V4/")
expect_eq "drain: 60 new connections all succeed" "$(echo "$answers" | grep -c be)" 60
check "drain: none of them reach the drained $be" bash -c "! echo '$answers' | grep -q '^$be$'"
wait "$dl"
rc=$?
expect_eq "drain: the running download from $be completes (1 MiB at 256 KiB/s)" \
	"$rc $(stat -c %s "$RUN/slow.body")" "0 1048576"

# ---- 6. add and remove backends under load ----
scenario "add and remove under load" 4 3
wrk_run 10 "$RUN/wrk.out"
wait_for 5 load_flowing 1000
ctl backend add "$V4:80/tcp" 198.18.0.14
check "add under load: be4 comes up" wait_for 5 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show $V4:80/tcp | jq -r '.backends[3].state')\" = up ]"
on_be1=$(ip netns exec "${SITE}be1" ss -Htn state established '( sport = :80 )' | wc -l)
ctl backend del "$V4:80/tcp" 198.18.0.11
wait "$WRK_PID"
read -r sock_err non2xx reqs < <(wrk_errors "$RUN/wrk.out")
echo "# wrk: $reqs requests, $sock_err socket errors, $non2xx non-2xx; $on_be1 connections were on the removed be1"
check "add/remove under load: errors only on the removed backend's connections" \
	test "$sock_err" -le "$on_be1" -a "$non2xx" = 0 -a "$reqs" -gt 1000
answers=$(get 60 "http://$V4/")
check "add/remove under load: the new backend takes new connections" bash -c "echo '$answers' | grep -q be4"
check "add/remove under load: the removed one takes none" bash -c "! echo '$answers' | grep -q be1"

# ---- 7. daemon crash and restart under load ----
scenario "crash under load" 3 3
view=$(backend_view)
wrk_run 8 "$RUN/wrk.out"
wait_for 5 load_flowing 1000
xlbd_stop KILL
check_start "crash: xlbd restarts during the load" "$RUN/xlb.yaml"
wait "$WRK_PID"
read -r sock_err non2xx reqs < <(wrk_errors "$RUN/wrk.out")
echo "# wrk across kill -9 and restart: $reqs requests, $sock_err socket errors, $non2xx non-2xx"
expect_eq "crash: wrk sees zero socket errors and zero non-2xx" "$sock_err $non2xx" "0 0"
check "crash: wrk got through" test "$reqs" -gt 1000
check "crash: after the restart xlbctl shows the same state" wait_for 5 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show | jq -c '[.backends[] | {vip, address, weight, admin, state}]')\" = '$view' ]"

# ---- 8. data-plane upgrade under load ----
# nonzero_bytes MAP: nonzero bytes of entry 0 over all CPUs (bpftool gives bytes)
nonzero_bytes() { bpftool -j map dump pinned "$1" | jq '[.[0].values[].value[] | select(. != "0x00")] | length'; }
variant_seen() { ctl -j stats | jq '.global.variant_seen // 0'; }
counts_variant() { [ "$(variant_seen)" -gt 0 ]; }
scenario "upgrade under load" 3 3
old_prog=$(ctl -j status | jq .prog_id)
old_maps=$(map_ids)
wrk_run 8 "$RUN/wrk.out"
wait_for 5 load_flowing 1000
xlbd_stop TERM
XLBD=$BUILD/variant/xlbd check_start "upgrade: xlbd with a rebuilt object starts during the load" "$RUN/xlb.yaml"
wait "$WRK_PID"
read -r sock_err non2xx reqs < <(wrk_errors "$RUN/wrk.out")
echo "# wrk across the upgrade: $reqs requests, $sock_err socket errors, $non2xx non-2xx"
check "upgrade: the program was replaced in place" grep -q "replaced the running XDP on eth0" "$RUN/xlbd.log"
check "upgrade: a new program id" test "$(ctl -j status | jq .prog_id)" != "$old_prog"
expect_eq "upgrade: wrk sees zero socket errors and zero non-2xx" "$sock_err $non2xx" "0 0"
check "upgrade: wrk got through" test "$reqs" -gt 1000
new_maps=$(map_ids)
echo "# pinned maps before: $old_maps"
echo "# pinned maps after:  $new_maps"
expect_eq "upgrade: every adopted map keeps its id" "$(echo "$new_maps" | sed 's/variant_map=[0-9]* //')" "$old_maps"
check "upgrade: the new map is pinned" test -n "$(bpftool -j map show pinned "$PIN/variant_map" | jq -r 'select(.name == "variant_map")')"
check "upgrade: the new program counts in the new map" test "$(nonzero_bytes "$PIN/variant_map")" -gt 0
check "upgrade: the new counter is in xlbctl stats and counts" counts_variant
up_prog=$(ctl -j status | jq .prog_id)
lines=$(wc -l <"$RUN/xlbd.log")
xlbd_stop TERM
XLBD=$BUILD/variant/xlbd check_start "upgrade: the new build restarts over its own pins" "$RUN/xlb.yaml"
check "upgrade: ...and keeps the running program" bash -c "tail -n +$((lines + 1)) '$RUN/xlbd.log' | grep -q 'adopted the running XDP on eth0'"
expect_eq "upgrade: ...same program id" "$(ctl -j status | jq .prog_id)" "$up_prog"
wrk_run 4 "$RUN/wrk.out"
wait_for 5 load_flowing "$(vip_packets)"
xlbd_stop TERM
check_start "downgrade: the old build starts over the new build's pins, under load" "$RUN/xlb.yaml"
wait "$WRK_PID"
read -r sock_err non2xx reqs < <(wrk_errors "$RUN/wrk.out")
echo "# wrk across the downgrade: $reqs requests, $sock_err socket errors, $non2xx non-2xx"
expect_eq "downgrade: wrk sees zero socket errors and zero non-2xx" "$sock_err $non2xx" "0 0"
check "downgrade: the program was replaced in place" test "$(ctl -j status | jq .prog_id)" != "$up_prog"
expect_eq "downgrade: the maps keep their ids" "$(map_ids)" "$new_maps"
expect_eq "downgrade: the old build does not know the new counter" "$(ctl -j stats | jq '.global | has("variant_seen")')" false

# ---- 9. config reload ----
scenario reload 3 3
id6=$("$PROBE" table-id "$PIN" "[$V6]:80/tcp")
id11=$("$PROBE" table-id "$PIN" 198.18.100.11:80/tcp)
rebuilds=$(ctl -j status | jq '.table_rebuilds')
conf "$RUN/xlb.yaml" 3
sed -i 's/      - { address: 198.18.0.13 }//' "$RUN/xlb.yaml"     # remove be3 from both v4 VIPs
sed -i '0,/      - { address: 198.18.0.11 }/s//      - { address: 198.18.0.11, weight: 300 }/' "$RUN/xlb.yaml"
cat >>"$RUN/xlb.yaml" <<EOF
  - vip: "[2001:db8:100::11]:80/tcp"
    health: { check: http, path: /healthz, interval: 500ms, timeout: 300ms }
    backends:
      - { address: "2001:db8::12" }
EOF
reply=$(ctl -j reload)
expect_eq "reload: reports the new VIP, the weight and the removals" \
	"$(echo "$reply" | jq -c '[.added, .changed, .removed]')" \
	'[["[2001:db8:100::11]:80/tcp","backend 2001:db8::12 of [2001:db8:100::11]:80/tcp"],["backend 198.18.0.11 of 198.18.100.10:80/tcp"],["backend 198.18.0.13 of 198.18.100.10:80/tcp","backend 198.18.0.13 of 198.18.100.11:80/tcp"]]'
expect_eq "reload: the untouched IPv6 VIP keeps its table" "$("$PROBE" table-id "$PIN" "[$V6]:80/tcp")" "$id6"
# tables are written in place: the two changed VIPs' tables rewritten, the same maps
check "reload: changed VIPs' tables were rewritten" test "$(ctl -j status | jq '.table_rebuilds')" -ge $((rebuilds + 2))
check "reload: in place, in the same maps" test "$("$PROBE" table-id "$PIN" 198.18.100.11:80/tcp)" = "$id11"
check "reload: the new VIP serves" wait_for 10 bash -c "ip netns exec $CLIENT curl -s -g -m 2 'http://[2001:db8:100::11]/' | grep -q be2"
answers=$(get 100 "http://$V4/")
check "reload: the removed backend gets no new connections" bash -c "! echo '$answers' | grep -q be3"
n1=$(echo "$answers" | grep -c be1)
echo "# after reload, weight 300 vs 100: be1 $n1 of 100"
check "reload: the weight applies (be1 takes about 3/4)" in_range "$n1" 60 90

# ---- 10. bad input end to end ----
scenario "malformed packets" 3 3
lb_mac=$(ip -n "${SITE}lb" -j link show eth0 | jq -r '.[0].address')
xdp_packets() { ip netns exec "${SITE}lb" ethtool -S eth0 | awk '/rx_queue_.*_xdp_packets/ {s += $2} END {print s}'; }
xa=$(xdp_packets)
ctl -j stats | jq -c .global >"$RUN/stats.before"
xb=$(xdp_packets)
( get 100 "http://$V4/" >"$RUN/served" ) &
served=$!
sent=$(ip netns exec "$CLIENT" /usr/bin/python3 "$TOP/tests/e2e/malformed.py" eth0 "$lb_mac" "$V4" "$V6" 80 20)
ctl -j stats | jq -c .global >"$RUN/stats.mid"
sent_random=$(ip netns exec "$CLIENT" /usr/bin/python3 "$TOP/tests/e2e/malformed.py" eth0 "$lb_mac" "$V4" "$V6" 80 20 random)
wait "$served"
xc=$(xdp_packets)
ctl -j stats | jq -c .global >"$RUN/stats.after"
xd=$(xdp_packets)
echo "# sent: $sent, then $sent_random"
expect_eq "malformed: real requests kept being served meanwhile" "$(grep -c be "$RUN/served")" 100
delta() { # KEY FROM TO
	jq -n --argjson a "$(cat "$RUN/stats.$3")" --argjson b "$(cat "$RUN/stats.$2")" "\$a.$1 - \$b.$1"
}
for reason in $(echo "$sent" | jq -r 'keys[] | select(. != "total")'); do
	expect_eq "malformed: $reason counts every one sent" "$(delta "$reason" before mid)" \
		"$(echo "$sent" | jq ".$reason")"
done
drops=$(jq -n --argjson a "$(cat "$RUN/stats.after")" --argjson b "$(cat "$RUN/stats.mid")" \
	'[$a | to_entries[] | select(.key | startswith("drop_malformed")) | .value - $b[.key]] | add')
expect_eq "malformed: random bytes to the VIP are all dropped as malformed" "$drops" \
	"$(echo "$sent_random" | jq .total)"
terminal=$(jq -n --argjson a "$(cat "$RUN/stats.after")" --argjson b "$(cat "$RUN/stats.before")" \
	'[$a | to_entries[] | select(.key | test("^(pass_|drop_|tx$|redirect$|icmp$)")) | .value - $b[.key]] | add')
# health checks keep packets coming: the counters were read between two
# readings of the interface's XDP packet count, on each side
echo "# XDP saw $((xc - xb))..$((xd - xa)) packets; outcomes counted: $terminal"
check "malformed: every packet XDP saw is counted under exactly one outcome" \
	test "$terminal" -ge $((xc - xb)) -a "$terminal" -le $((xd - xa))

site_down
SITE=
tap_end
