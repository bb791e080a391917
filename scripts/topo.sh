#!/usr/bin/env bash
# A test site in network namespaces, joined by veth pairs to a bridge:
#
#   PREFIXclient  198.18.0.1   2001:db8::1    routes the VIPs via the LB
#   PREFIXlb      198.18.0.2   2001:db8::2    xlbd attaches to its eth0
#   PREFIXbeN     198.18.0.1N  2001:db8::1N   VIPs on lo, answers the client directly
#   PREFIXsw      bridge br0 joining them all
#
# VIPs: 198.18.100.10 and .11, 2001:db8:100::10 and ::11 (on every backend's lo).
#
# With --apps N, N plain hosts behind the backends (no VIP), on the bridge:
#   PREFIXappN    198.18.0.20N 2001:db8::20N  (scripts/site.sh runs its app servers there)
#
# With --l3 the backends sit behind a router instead, for forward ipip:
#
#   PREFIXclient  198.18.0.1   2001:db8::1     default via the router
#   PREFIXrouter  .0.254 client side; .1.254 LB in; .3.254 LB out (MTU 1400);
#                 .2.254 backend side (and 2001:db8:N::254 alike); routes the
#                 VIPs to the LB
#   PREFIXlb      eth0 198.18.1.2 2001:db8:1::2 (in), eth1 198.18.3.2
#                 2001:db8:3::2 (out, MTU 1400: a smaller path to the backends)
#   PREFIXbeN     198.18.2.1N  2001:db8:2::1N  on bridge PREFIXsw, answers the
#                 client through the router; build/xlb-decap on eth0 takes
#                 packets from 198.18.3.2 and 2001:db8:3::/64
# Each backend's nginx serves / (a page naming it), /healthz (500 while
# the file unhealthy exists in its folder), /big (4 MiB), /slow (1 MiB
# at 256 KiB/s) and /paced/FILE?rate=R (www/paced/FILE at R bytes/s), with
# an X-Backend header.
#
# usage: topo.sh up   [-p PREFIX] [-n BACKENDS] [--apps N] [--nginx] [--no-ipv6] [--l3]
#        topo.sh down [-p PREFIX]
#        topo.sh nginx-stop|nginx-start [-p PREFIX] N   # one backend's nginx
#        topo.sh env  [-p PREFIX]     # print the names, for scripts to eval
#
# veth and XDP, as measured on this machine kind:
# - A frame the LB sends with XDP_TX or XDP_REDIRECT into a veth is dropped
#   (xdp_tx_errors, or rx drops on the peer) unless the peer has an XDP
#   program attached. The bridge-side peer of the LB gets a plain XDP_PASS
#   program (bpf/pass.bpf.c). GRO on the peer alone was not enough.
# - TCP a namespace sends over a veth carries a partial (offloaded)
#   checksum. Forwarded unchanged by XDP it arrives bad and the backend
#   never answers, so tx checksum offload is off on the client.
# - veths get 2 queues each so both cores are used.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
prefix=xlbt-
backends=3
nginx=0
ipv6=1
l3=0
apps=0
cmd=${1:-}
shift || true
be_arg=
while [ $# -gt 0 ]; do
	case $1 in
	-p) prefix=$2; shift 2 ;;
	-n) backends=$2; shift 2 ;;
	--apps) apps=$2; shift 2 ;;
	--nginx) nginx=1; shift ;;
	--no-ipv6) ipv6=0; shift ;;
	--l3) l3=1; shift ;;
	[0-9]*) be_arg=$1; shift ;;
	*) echo "topo.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
case $backends in
[1-9] | [1-8][0-9]) ;;
*) echo "topo.sh: -n takes 1..89 backends" >&2; exit 2 ;;
esac
case $apps in
[0-9]) ;;
*) echo "topo.sh: --apps takes 0..9 hosts" >&2; exit 2 ;;
esac
[ "$apps" = 0 ] || [ "$l3" = 0 ] || { echo "topo.sh: --apps is for the L2 site, not --l3" >&2; exit 2; }

run_dir=/run/xlbt/${prefix%-}
sw=${prefix}sw
client=${prefix}client
lb=${prefix}lb
router=${prefix}router
[ -f "$run_dir/l3" ] && l3=1
decap_pins=$run_dir/decap-bpf

be_ns() { echo "${prefix}be$1"; }
be_net=0
[ "$l3" = 1 ] && be_net=2
be_v4() { echo "198.18.$be_net.$((10 + $1))"; }
be_v6() { if [ "$l3" = 1 ]; then echo "2001:db8:2::$((10 + $1))"; else echo "2001:db8::$((10 + $1))"; fi; }

# link names are per namespace, but the bridge ports must be unique there
link_up() { # NS NAME ADDR4 ADDR6 PORT
	local ns=$1 name=$2 port=$5
	ip link add "$name" numtxqueues 2 numrxqueues 2 type veth peer name "$port" \
		numtxqueues 2 numrxqueues 2
	ip link set "$name" netns "$ns"
	ip link set "$port" netns "$sw"
	ip -n "$ns" link set "$name" name eth0
	ip -n "$ns" addr add "$3/24" dev eth0
	[ "$ipv6" = 1 ] && ip -n "$ns" addr add "$4/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	ip -n "$sw" link set "$port" master br0
	ip -n "$sw" link set "$port" up
}

# p2p NS1 NAME1 ADDR4/LEN ADDR6/LEN NS2 NAME2 ADDR4/LEN ADDR6/LEN MTU: a veth between two namespaces
p2p() {
	ip link add "xlbtp$$" numtxqueues 2 numrxqueues 2 type veth peer name "xlbtq$$" \
		numtxqueues 2 numrxqueues 2
	ip link set "xlbtp$$" netns "$1"
	ip link set "xlbtq$$" netns "$5"
	ip -n "$1" link set "xlbtp$$" name "$2" mtu "$9"
	ip -n "$5" link set "xlbtq$$" name "$6" mtu "$9"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$5" addr add "$7" dev "$6"
	if [ "$ipv6" = 1 ]; then
		ip -n "$1" addr add "$4" dev "$2" nodad
		ip -n "$5" addr add "$8" dev "$6" nodad
	fi
	ip -n "$1" link set "$2" up
	ip -n "$5" link set "$6" up
}

# The router side of the LB's links: XDP_TX and XDP_REDIRECT from the LB
# need an XDP program on the receiving peer; GRO would merge encapsulated
# segments into packets larger than a backend's XDP program may take.
router_up() {
	local r=$router dev
	ip netns add "$r"
	ip -n "$r" link set lo up
	ip netns exec "$r" sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	[ "$ipv6" = 1 ] && ip netns exec "$r" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip netns add "$client"
	ip -n "$client" link set lo up
	p2p "$client" eth0 198.18.0.1/24 2001:db8::1/64 "$r" rc 198.18.0.254/24 2001:db8::254/64 1500
	ip -n "$client" route add default via 198.18.0.254
	[ "$ipv6" = 1 ] && ip -n "$client" -6 route add default via 2001:db8::254
	ip netns exec "$client" ethtool -K eth0 tx off >/dev/null

	ip netns add "$lb"
	ip -n "$lb" link set lo up
	p2p "$lb" eth0 198.18.1.2/24 2001:db8:1::2/64 "$r" rl 198.18.1.254/24 2001:db8:1::254/64 1500
	p2p "$lb" eth1 198.18.3.2/24 2001:db8:3::2/64 "$r" ro 198.18.3.254/24 2001:db8:3::254/64 1400
	ip netns exec "$lb" sysctl -qw net.ipv4.conf.all.forwarding=1
	[ "$ipv6" = 1 ] && ip netns exec "$lb" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip -n "$lb" route add default via 198.18.1.254
	ip -n "$lb" route add 198.18.2.0/24 via 198.18.3.254 dev eth1
	if [ "$ipv6" = 1 ]; then
		ip -n "$lb" -6 route add default via 2001:db8:1::254
		ip -n "$lb" -6 route add 2001:db8:2::/64 via 2001:db8:3::254 dev eth1
	fi
	for dev in rl ro; do
		ip -n "$r" link set dev "$dev" xdp obj "$top/build/pass.bpf.o" sec xdp
	done
	for dev in rc rl ro; do
		ip netns exec "$r" ethtool -K "$dev" gro off >/dev/null 2>&1 || true
	done
	ip -n "$r" route add 198.18.100.0/24 via 198.18.1.2
	[ "$ipv6" = 1 ] && ip -n "$r" -6 route add 2001:db8:100::/64 via 2001:db8:1::2

	# the backend side: a bridge, as in the L2 site
	ip link add "xlbtr$$" type veth peer name p-router
	ip link set "xlbtr$$" netns "$r"
	ip link set p-router netns "$sw"
	ip -n "$r" link set "xlbtr$$" name rb
	ip -n "$r" addr add 198.18.2.254/24 dev rb
	[ "$ipv6" = 1 ] && ip -n "$r" addr add 2001:db8:2::254/64 dev rb nodad
	ip -n "$r" link set rb up
	ip netns exec "$r" ethtool -K rb gro off >/dev/null 2>&1 || true
	ip -n "$sw" link set p-router master br0
	ip -n "$sw" link set p-router up
	mkdir -p "$decap_pins"
	mount -t bpf bpf "$decap_pins"
	touch "$run_dir/l3"
}

# forward ipip reaches the backend encapsulated: xlb-decap takes it off
backend_l3() { # N
	local ns
	ns=$(be_ns "$1")
	ip -n "$ns" route add default via 198.18.2.254
	[ "$ipv6" = 1 ] && ip -n "$ns" -6 route add default via 2001:db8:2::254
	ip netns exec "$ns" "$top/build/xlb-decap" -d "$decap_pins/be$1" attach dev eth0 \
		source 198.18.3.2 source 2001:db8:3::/64 \
		vip 198.18.100.10 vip 198.18.100.11 vip 2001:db8:100::10 vip 2001:db8:100::11 \
		>/dev/null
}

up() {
	if ip netns list | grep -qw "^$sw"; then
		echo "topo.sh: $sw exists; run 'topo.sh down -p $prefix' first" >&2
		exit 1
	fi
	[ -f "$top/build/pass.bpf.o" ] || { echo "topo.sh: build first (make)" >&2; exit 1; }
	mkdir -p "$run_dir"
	ip netns add "$sw"
	# A switch forwards frames as they are; the kernel's bridge would hand
	# them to netfilter, which drops malformed IP before the LB sees it.
	ip netns exec "$sw" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 \
		2>/dev/null || true
	ip -n "$sw" link add br0 type bridge
	ip -n "$sw" link set br0 up

	if [ "$l3" = 1 ]; then
		router_up
	else
		ip netns add "$client"
		link_up "$client" xlbtc$$ 198.18.0.1 2001:db8::1 p-client
		ip -n "$client" route add 198.18.100.0/24 via 198.18.0.2
		[ "$ipv6" = 1 ] && ip -n "$client" -6 route add 2001:db8:100::/64 via 2001:db8::2
		ip netns exec "$client" ethtool -K eth0 tx off >/dev/null

		ip netns add "$lb"
		link_up "$lb" xlbtl$$ 198.18.0.2 2001:db8::2 p-lb
		ip netns exec "$lb" ethtool -K eth0 tx off >/dev/null
		ip -n "$sw" link set dev p-lb xdp obj "$top/build/pass.bpf.o" sec xdp
	fi

	for i in $(seq 1 "$backends"); do
		local ns
		ns=$(be_ns "$i")
		ip netns add "$ns"
		link_up "$ns" "xlbtb$i$$" "$(be_v4 "$i")" "$(be_v6 "$i")" "p-be$i"
		# DSR: the VIPs live on lo; never answer ARP for them on eth0
		ip -n "$ns" addr add 198.18.100.10/32 dev lo
		ip -n "$ns" addr add 198.18.100.11/32 dev lo
		if [ "$ipv6" = 1 ]; then
			ip -n "$ns" addr add 2001:db8:100::10/128 dev lo nodad
			ip -n "$ns" addr add 2001:db8:100::11/128 dev lo nodad
		fi
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.rp_filter=0 \
			net.ipv4.conf.all.rp_filter=0
		[ "$l3" = 1 ] && backend_l3 "$i"
		[ "$nginx" = 1 ] && nginx_start "$i"
	done
	for i in $(seq 1 "$apps"); do
		ip netns add "${prefix}app$i"
		link_up "${prefix}app$i" "xlbta$i$$" "198.18.0.20$i" "2001:db8::20$i" "p-app$i"
	done
	return 0
}

nginx_start() { # N
	local ns dir
	ns=$(be_ns "$1")
	dir="$run_dir/nginx-be$1"
	mkdir -p "$dir/www/paced"
	echo "backend be$1 $(be_v4 "$1")" >"$dir/www/index.html"
	echo ok >"$dir/www/healthz"
	# files for large and for throttled downloads
	head -c 4194304 /dev/zero >"$dir/www/big"
	head -c 1048576 /dev/zero >"$dir/www/slow"
	cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $dir/tmp;
	proxy_temp_path $dir/tmp;
	fastcgi_temp_path $dir/tmp;
	uwsgi_temp_path $dir/tmp;
	scgi_temp_path $dir/tmp;
	keepalive_requests 1000000;
	server {
		listen 80 reuseport;
		$( [ "$ipv6" = 1 ] && echo "listen [::]:80 reuseport;" )
		root $dir/www;
		add_header X-Backend be$1 always;
		location = /slow { limit_rate 256k; }
		# /paced/FILE?rate=R: a file a test puts there (maybe one per backend)
		# at R bytes/s (k, m suffixes); without rate, as fast as it goes
		location /paced/ { limit_rate \$arg_rate; }
		# health checks fail while the file "unhealthy" exists
		location = /healthz { if (-f $dir/unhealthy) { return 500; } }
	}
}
EOF
	mkdir -p "$dir/tmp"
	ip netns exec "$ns" nginx -c "$dir/nginx.conf"
}

nginx_stop() { # N
	local pidfile="$run_dir/nginx-be$1/nginx.pid" pid i
	pid=$(cat "$pidfile" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do # up to 5 s for it to let go of the port
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
}

down() {
	local pidfile pid ns
	# processes this site started, by the PIDs they recorded
	for pidfile in "$run_dir"/*.pid "$run_dir"/*/*.pid; do
		[ -f "$pidfile" ] || continue
		pid=$(cat "$pidfile" 2>/dev/null || true)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix" || true); do
		case $ns in
		"$sw" | "$client" | "$lb" | "$router" | "${prefix}"be* | "${prefix}"app*) ip netns del "$ns" 2>/dev/null || true ;;
		esac
	done
	umount "$decap_pins" 2>/dev/null || true
	rm -rf "$run_dir"
}

case $cmd in
up) up ;;
down) down ;;
nginx-stop) nginx_stop "$be_arg" ;;
nginx-start) nginx_start "$be_arg" ;;
env)
	echo "SW=$sw CLIENT=$client LB=$lb ROUTER=$router RUN_DIR=$run_dir"
	for i in $(seq 1 "$backends"); do echo "BE$i=$(be_ns "$i")"; done
	for i in $(seq 1 "$apps"); do echo "APP$i=${prefix}app$i"; done
	;;
*) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
