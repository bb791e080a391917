#!/usr/bin/env bash
# End to end, L3 DSR: the backends sit behind a router, on another subnet
# than the LB; xlbd forwards by ipip (IPIP, IP6IP6 with hashed sources,
# 4in6) and the backends take the outer header off with build/xlb-decap.
# The LB's way to the backends has an MTU of 1400: uploads need its ICMP
# too-big answers. The router's way back to the client gets a smaller MTU
# too: downloads need the router's errors routed to the flow's backend.
# Prints TAP; the site goes away on exit, also on failure.
set -u
. "$(dirname "$0")/../lib.sh"

V4=198.18.100.10
V6=2001:db8:100::10
V4IN6=198.18.100.11
SOCAT_PIDS=()

cleanup() {
	local pid
	for pid in "${SOCAT_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	site_down
}
trap cleanup EXIT INT TERM

site_up "xlbt-l3$$-" -n 2 --nginx --l3
CLIENT=${SITE}client
ROUTER=${SITE}router

# a byte counter on every backend, for uploads: answers how many bytes it got
for i in 1 2; do
	ip netns exec "${SITE}be$i" socat TCP6-LISTEN:9000,fork,reuseaddr,ipv6only=0 \
		SYSTEM:'wc -c' 2>/dev/null &
	SOCAT_PIDS+=($!)
	echo $! >"$RUN/socat$i.pid"
done

# examples/xlb-l3.yaml, and a VIP per family for the uploads
tcp_health='{ check: tcp, interval: 300ms, timeout: 200ms, rise: 1, fall: 2 }'
cp "$TOP/examples/xlb-l3.yaml" "$RUN/xlb.yaml"
cat >>"$RUN/xlb.yaml" <<EOF
  - vip: "$V4:9000/tcp"
    forward: ipip
    health: $tcp_health
    backends: [{ address: 198.18.2.11 }, { address: 198.18.2.12 }]
  - vip: "[$V6]:9000/tcp"
    forward: ipip
    health: $tcp_health
    backends: [{ address: "2001:db8:2::11" }, { address: "2001:db8:2::12" }]
EOF
check_start "xlbd starts with forward ipip VIPs" "$RUN/xlb.yaml"

all_up() { # VIP N
	[ "$(ctl -j backend show "$1" | jq '[.backends[] | select(.state == "up")] | length')" = "$2" ]
}
every_vip_up() {
	all_up "$V4:80/tcp" 2 && all_up "[$V6]:80/tcp" 2 && all_up "$V4IN6:80/tcp" 2 &&
		all_up "$V4:9000/tcp" 2 && all_up "[$V6]:9000/tcp" 2
}
if wait_for 15 every_vip_up; then
	ok "health checks reach the backends through the router"
else
	not_ok "health checks reach the backends through the router" "$(ctl backend show)"
fi
expect_eq "status names the encap sources" \
	"$(ctl -j status | jq -c .encap_source)" '{"ipv4":"198.18.3.2","ipv6":"2001:db8:3::100/120"}'

stat() { ctl -j stats | jq ".global.$1"; }
decap_count() { # BACKEND
	ip netns exec "${SITE}be$1" "$BUILD/xlb-decap" -d "$RUN/decap-bpf/be$1" show dev eth0 |
		awk '$1 == "decap" {print $2}'
}

# get N URL: N requests on new connections; the backends' names, counted
get() {
	local n=$1 url=$2 args=() i
	for i in $(seq 1 "$n"); do args+=(-o /dev/stdout "$url"); done
	ip netns exec "$CLIENT" curl -s -g -m 5 -H 'Connection: close' "${args[@]}" |
		awk '{print $2}' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '
}
served_by_both() { # COUNTS N: both backends answered, N in all
	local a b
	a=$(grep -o 'be1=[0-9]*' <<<"$1" | cut -d= -f2)
	b=$(grep -o 'be2=[0-9]*' <<<"$1" | cut -d= -f2)
	[ -n "$a" ] && [ -n "$b" ] && [ $((a + b)) = "$2" ]
}
for url in "http://$V4/" "http://[$V6]/" "http://$V4IN6/"; do
	got=$(get 40 "$url")
	if served_by_both "$got" 40; then
		ok "40 of 40 requests to $url answered, by both backends ($got)"
	else
		not_ok "40 of 40 requests to $url answered, by both backends" "got: $got"
	fi
done
d1=$(decap_count 1) d2=$(decap_count 2)
if [ "${d1:-0}" -gt 0 ] && [ "${d2:-0}" -gt 0 ]; then
	ok "both backends decapsulated what they served (be1 $d1, be2 $d2 packets)"
else
	not_ok "both backends decapsulated what they served" "be1: $d1 be2: $d2"
fi

be_of_flow=$(ctl explain 198.18.0.1:40000 "$V4:80/tcp" | grep -o 'encapsulate (IPIP) to 198\.18\.2\.1[12]')
if [ -n "$be_of_flow" ]; then
	ok "explain names the encapsulation and the backend ($be_of_flow)"
else
	not_ok "explain names the encapsulation and the backend" "$(ctl explain 198.18.0.1:40000 "$V4:80/tcp")"
fi

# Replies go around the LB: what the router gets from the LB is a fraction
# of what it hands the client.
rx_from_lb() {
	local dev sum=0 n
	for dev in rl ro; do
		n=$(ip -n "$ROUTER" -j -s link show "$dev" | jq '.[0].stats64.rx.bytes')
		sum=$((sum + n))
	done
	echo "$sum"
}
tx_to_client() { ip -n "$ROUTER" -j -s link show rc | jq '.[0].stats64.tx.bytes'; }
lb0=$(rx_from_lb) c0=$(tx_to_client)
size=$(ip netns exec "$CLIENT" curl -s -m 20 -o /dev/null -w '%{size_download}' "http://$V4/big")
lb1=$(rx_from_lb) c1=$(tx_to_client)
if [ "$size" = 4194304 ] && [ $((c1 - c0)) -ge 4194304 ] && [ $((lb1 - lb0)) -lt 1048576 ]; then
	ok "4 MiB download: the reply went straight from the backend to the client ($((c1 - c0)) bytes to the client, $((lb1 - lb0)) through the LB)"
else
	not_ok "4 MiB download: the reply went straight from the backend to the client" \
		"size $size, to client $((c1 - c0)), from LB $((lb1 - lb0))"
fi

# Uploads: the client's full-size segments do not fit the LB's 1400-byte
# way once encapsulated. The LB answers too-big; the client's TCP adapts.
upload() { # ADDR
	head -c 2000000 /dev/zero |
		ip netns exec "$CLIENT" timeout 30 socat -t 20 - "TCP:$1:9000" 2>/dev/null | tr -d ' '
}
tb0=$(stat icmp_too_big_sent)
expect_eq "2 MB upload to $V4 arrives whole" "$(upload "$V4")" 2000000
tb1=$(stat icmp_too_big_sent)
mtu4=$(ip -n "$CLIENT" route get "$V4" | grep -o 'mtu [0-9]*')
if [ $((tb1 - tb0)) -gt 0 ] && [ "$mtu4" = "mtu 1380" ]; then
	ok "the LB told the IPv4 client: frag-needed, MTU 1400 - 20 ($((tb1 - tb0)) sent; client route: $mtu4)"
else
	not_ok "the LB told the IPv4 client: frag-needed, MTU 1400 - 20" "sent $((tb1 - tb0)), client route: $mtu4"
fi
expect_eq "2 MB upload to [$V6] arrives whole" "$(upload "[$V6]")" 2000000
tb2=$(stat icmp_too_big_sent)
mtu6=$(ip -n "$CLIENT" -6 route get "$V6" | grep -o 'mtu [0-9]*')
if [ $((tb2 - tb1)) -gt 0 ] && [ "$mtu6" = "mtu 1360" ]; then
	ok "the LB told the IPv6 client: packet too big, MTU 1400 - 40 ($((tb2 - tb1)) sent; client route: $mtu6)"
else
	not_ok "the LB told the IPv6 client: packet too big, MTU 1400 - 40" "sent $((tb2 - tb1)), client route: $mtu6"
fi

# Downloads over a smaller way back: the router's errors go to the VIP,
# that is to the LB, which must hand each to the backend of its flow.
ip -n "$ROUTER" route add 198.18.0.1/32 dev rc mtu lock 1300
ip -n "$ROUTER" -6 route add 2001:db8::1/128 dev rc mtu lock 1300
for url in "http://$V4/big" "http://[$V6]/big"; do
	r0=$(stat icmp_routed)
	size=$(ip netns exec "$CLIENT" curl -s -g -m 20 -o /dev/null -w '%{size_download}' "$url")
	r1=$(stat icmp_routed)
	if [ "$size" = 4194304 ] && [ $((r1 - r0)) -gt 0 ]; then
		ok "4 MiB download from $url over a 1300-byte way back ($((r1 - r0)) router errors routed to the backend)"
	else
		not_ok "4 MiB download from $url over a 1300-byte way back" \
			"size $size, errors routed $((r1 - r0))"
	fi
done
# run-time changes: an ipip VIP added by xlbctl, serving, kept across a restart
check "xlbctl vip add $V4:8080/tcp forward ipip" ctl vip add "$V4:8080/tcp" forward ipip check none
check "xlbctl backend add, IPv6 (4in6)" ctl backend add "$V4:8080/tcp" 2001:db8:2::12
out=$(ctl backend add "[$V6]:80/tcp" 198.18.2.13 2>&1)
expect_eq "an IPv4 backend for an IPv6 ipip VIP: refused" "$? $out" \
	"1 xlbctl: IPv4 backend for an IPv6 VIP"
ip netns exec "${SITE}be2" socat TCP6-LISTEN:8080,reuseaddr,ipv6only=0 SYSTEM:'echo be2' \
	2>/dev/null &
SOCAT_PIDS+=($!)
echo $! >"$RUN/socat8080.pid"
listening() { ip netns exec "${SITE}be2" ss -Hltn 'sport = :8080' | grep -q LISTEN; }
wait_for 5 listening
expect_eq "the run-time VIP serves through 4in6" \
	"$(ip netns exec "$CLIENT" timeout 5 socat -T 3 - "TCP:$V4:8080" </dev/null 2>/dev/null)" be2
xlbd_stop TERM
check_start "xlbd restarts" "$RUN/xlb.yaml"
expect_eq "... with the run-time VIP still forward ipip" \
	"$(ctl -j vip show "$V4:8080/tcp" | jq -r '.vips[0].forward')" ipip

expect_eq "nothing dropped for want of a route or a source" \
	"$(ctl -j stats | jq -c '[.global.drop_no_route, .global.drop_no_encap_source, .global.drop_encap]')" \
	"[0,0,0]"

# A next hop nobody has resolved: the data plane passes the packet (the
# kernel drops an IPv4 one from a local source as martian), xlbd sees
# pass_no_neigh grow and makes the kernel resolve it; the client's
# retransmission gets through. No health check helps: check none, and
# nothing else goes to that backend.
cat >"$RUN/xlb.yaml" <<EOF
interfaces: [eth0, eth1]
conntrack: { size: 65536 }
encap_source: { ipv4: 198.18.3.2 }
vips:
  - vip: "$V4:80/tcp"
    forward: ipip
    health: { check: none }
    backends: [{ address: 198.18.2.12 }]
EOF
check "reload (forced: it removes five of six VIPs): one VIP, one backend, no health checks" ctl reload force
ip -n "$ROUTER" addr add 198.18.3.253/24 dev ro
ip -n "${SITE}lb" route add 198.18.2.12/32 via 198.18.3.253 dev eth1
nn0=$(stat pass_no_neigh)
got=$(ip netns exec "$CLIENT" curl -s -m 10 "http://$V4/" | awk '{print $2}')
nn1=$(stat pass_no_neigh)
if [ "$got" = be2 ] && [ $((nn1 - nn0)) -gt 0 ]; then
	ok "an unresolved next hop: resolved at xlbd's prompt, the request served ($((nn1 - nn0)) passed meanwhile)"
else
	not_ok "an unresolved next hop: resolved at xlbd's prompt, the request served" \
		"answer '$got', pass_no_neigh +$((nn1 - nn0))" "$(ip -n "${SITE}lb" neigh show dev eth1)"
fi

tap_end
