#!/usr/bin/env bash
# A spoofed-ACK flood cannot break established connections. 100 real
# downloads from nginx are held in flight, and 100 more connections have
# seen only their handshake; the VIP is flooded with ACKs from random
# sources (the project's generator, xlb-gen) amounting to hundreds of
# times the connection table's size; a backend is added meanwhile, which
# changes the Maglev table, and then the idle connections ask for their
# download. Every download completes intact. Where the flood's packets
# evict flows, the evicted ones are picked again from the new table, a
# quarter of them land on the new backend, and it resets them. (The first
# design, every unknown non-SYN inserted, fails so on the idle ones: its
# LRU evicts entries no packet has referenced since their insert, while a
# busy download's entry sits on the LRU's active list.) Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

V4=198.18.100.10
N=100                 # downloads of the site's /slow, which nginx sends at 256 KiB/s:
SIZE=$((4096 * 1024)) # about 16 s each, in flight through the flood
CT=1024               # conntrack.size: the smallest allowed
FLOOD_PPS=50000
FLOOD1=100000         # before the backend is added
FLOOD2=250000         # from the add until well after the table changed
XLBGEN=$BUILD/xlb-gen

cleanup() {
	local f
	for f in "${RUN:-/nonexistent}"/dl*.pid "${RUN:-/nonexistent}"/{flood,idle}.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	site_down
}
trap cleanup EXIT INT TERM

be4_up() {
	[ "$(ctl -j backend show "$V4:80/tcp" |
		jq -r '.backends[] | select(.address == "198.18.0.14") | .state')" = up ]
}
established() { ip netns exec "$CLIENT" ss -Htn state established dst "$V4" | wc -l; }
all_established() { [ "$(established)" -ge $((2 * N)) ]; }
# each connection's handshake ACK promotes it into the main table (a table without promotion: at once)
promoted() { ctl -j stats | jq -e ".global | (has(\"ct_promoted\") | not) or .ct_promoted >= $((2 * N))" >/dev/null; }

site_up "xlbt-f$$-" -n 4 --nginx
CLIENT=${SITE}client
cat >"$RUN/xlb.yaml" <<CONF
interfaces: [eth0]
conntrack: { size: $CT }
vips:
  - vip: "$V4:80/tcp"
    health: { check: http, path: /healthz, interval: 500ms, timeout: 300ms, rise: 2, fall: 2 }
    backends:
      - { address: 198.18.0.11 }
      - { address: 198.18.0.12 }
      - { address: 198.18.0.13 }
CONF
# random bytes, the same on every backend: a download that moved would still be cut
head -c "$SIZE" /dev/urandom >"$RUN/slow.bin"
want_sum=$(sha256sum <"$RUN/slow.bin" | cut -d' ' -f1)
for i in 1 2 3 4; do cp "$RUN/slow.bin" "$RUN/nginx-be$i/www/slow"; done
check_start "xlbd starts with conntrack.size $CT" "$RUN/xlb.yaml"
check "three backends up" wait_for 15 bash -c \
	"[ \"\$($XLBCTL -s $SOCK -j backend show $V4:80/tcp | jq '[.backends[] | select(.state == \"up\")] | length')\" = 3 ]"
# xlb-gen's frames leave the client's veth by XDP_TX: the far end needs an XDP program
ip -n "${SITE}sw" link set dev p-client xdp obj "$BUILD/pass.bpf.o" sec xdp
lb_mac=$(ip -n "${SITE}lb" -j link show eth0 | jq -r '.[0].address')

ip netns exec "$CLIENT" /usr/bin/python3 "$TOP/tests/e2e/flood_clients.py" "$V4" 80 "$N" /slow \
	"$RUN/go" "$RUN/idle.out" 60 >"$RUN/idle.log" 2>&1 &
echo $! >"$RUN/idle.pid"
check "$N connections established and left idle" wait_for 10 grep -q "^connected $N" "$RUN/idle.log"
for i in $(seq 1 "$N"); do
	ip netns exec "$CLIENT" curl -s -m 60 -o "$RUN/dl$i.body" \
		-w '%{http_code} %{size_download}\n' "http://$V4/slow" >"$RUN/dl$i.out" 2>/dev/null &
	echo $! >"$RUN/dl$i.pid"
done
check "...and $N downloads" wait_for 10 all_established
check "...and promoted into the main table" wait_for 5 promoted
ctl -j stats | jq -c .global >"$RUN/stats.before"
rebuilds0=$(ctl -j status | jq .table_rebuilds)

# flood XLB-GEN-ARGS...: spoofed ACKs from random sources in 198.19.0.0/16
flood() {
	ip netns exec "$CLIENT" "$XLBGEN" --dev eth0 --dst-mac "$lb_mac" --dst "$V4" --dport 80 \
		--proto ack --random --prefix 198.19.0.0/16 --rate "$FLOOD_PPS" --threads 2 --time 30 "$@"
}
flood --count "$FLOOD1" --seed 1 >"$RUN/flood1.out" 2>&1
echo "# $(head -1 "$RUN/flood1.out")"
flood --count "$FLOOD2" --seed 2 >"$RUN/flood2.out" 2>&1 &
echo $! >"$RUN/flood.pid"
ctl backend add "$V4:80/tcp" 198.18.0.14 >/dev/null
if wait_for 10 be4_up; then
	ok "the backend added during the flood comes up"
else
	not_ok "the backend added during the flood comes up" "$(ctl backend show)"
fi
rebuilt() { [ "$(ctl -j status | jq .table_rebuilds)" -gt "$rebuilds0" ]; }
check "...and the VIP's table is rebuilt with it" wait_for 5 rebuilt
check "...while the flood goes on" kill -0 "$(cat "$RUN/flood.pid")"
touch "$RUN/go" # the idle connections ask for their download, into the flood
wait "$(cat "$RUN/flood.pid")"
rm -f "$RUN/flood.pid"
echo "# $(head -1 "$RUN/flood2.out")"
ctl -j stats | jq -c .global >"$RUN/stats.after"
downloads_running() {
	local i
	for i in $(seq 1 "$N"); do kill -0 "$(cat "$RUN/dl$i.pid")" 2>/dev/null || return 1; done
}
check "the $N downloads are still in flight when the flood ends" downloads_running

intact=0
for i in $(seq 1 "$N"); do
	wait "$(cat "$RUN/dl$i.pid")" 2>/dev/null
	rm -f "$RUN/dl$i.pid"
	[ "$(cat "$RUN/dl$i.out" 2>/dev/null)" = "200 $SIZE" ] &&
		[ "$(sha256sum <"$RUN/dl$i.body" | cut -d' ' -f1)" = "$want_sum" ] &&
		intact=$((intact + 1))
done
expect_eq "all $N downloads complete intact (size and sha256)" "$intact" "$N"
wait "$(cat "$RUN/idle.pid")"
rm -f "$RUN/idle.pid"
expect_eq "all $N connections idle since their handshake download intact after the change" \
	"$(grep -c "^200 $SIZE $want_sum " "$RUN/idle.out")" "$N"
echo "# the idle ones, by backend and outcome: $(awk '{print $4, $1, $5}' "$RUN/idle.out" |
	sort | uniq -c | awk '{print $2 "/" $3 "/" $4 "=" $1}' | tr '\n' ' ')"

sent=0
for f in flood1 flood2; do
	s=$(awk '/^GEN / {for (i = 2; i <= NF; i++) if ($i ~ /^sent=/) print substr($i, 6)}' \
		"$RUN/$f.out")
	sent=$((sent + ${s:-0}))
done
delta() { jq -n --argjson a "$(cat "$RUN/stats.after")" --argjson b "$(cat "$RUN/stats.before")" \
	"(\$a.$1 // 0) - (\$b.$1 // 0)"; }
miss=$(delta ct_miss)
echo "# flood: $sent spoofed ACKs sent; xlb: ct_miss +$miss," \
	"ct_probation_overwrite +$(delta ct_probation_overwrite), ct_probation_busy +$(delta ct_probation_busy)," \
	"ct_promoted +$(delta ct_promoted)," \
	"ct_hit +$(delta ct_hit)"
check "the flood was sent: at least $((FLOOD1 + FLOOD2)) spoofed ACKs" \
	test "$sent" -ge $((FLOOD1 + FLOOD2))
check "xlb saw the flood: ct_miss grew by about as many (85%..100% + 1000)" \
	test "$miss" -ge $((sent * 85 / 100)) -a "$miss" -le $((sent + 1000))
answers=$(for i in $(seq 1 40); do
	ip netns exec "$CLIENT" curl -s -m 2 -H 'Connection: close' "http://$V4/"
done | awk '{print $2}')
check "the new backend takes new connections" grep -q be4 <<<"$answers"

site_down
SITE=
tap_end
