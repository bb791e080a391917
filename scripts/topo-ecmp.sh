#!/usr/bin/env bash
# A site of several LB hosts behind a router that spreads a VIP over them by
# ECMP, the VIP announced over BGP by health (IPv4):
#
#   PREFIXclient  198.18.1.1    default via the router
#   PREFIXrouter  198.18.1.254 (client side), 198.18.0.254 on the bridge;
#                 BIRD, AS 64513: BGP + BFD to every LB, multipath routes,
#                 L4 hashing (fib_multipath_hash_policy=1)
#   PREFIXlbN     198.18.0.(1+N) on the bridge; xlbd (announce: table 100,
#                 protocol 200) and BIRD, AS 64512: learns table 100, BGP +
#                 BFD to the router, next hop self
#   PREFIXbeN     198.18.0.1N on the bridge, nginx (scripts/topo.sh's; /slow
#                 here is 2.5 MiB at 256 KiB/s, 10 s), the VIP on lo; L2 DSR:
#                 answers the client through the router
#   PREFIXsw      bridge br0 joining router, LBs and backends
#
# VIP 198.18.100.10:80/tcp, maglev over every backend, http health checks
# every 500 ms, fall 2. The LB hosts hand flows off to each other (handoff:,
# UDP port 4790, a key made for the site). Every daemon is started here and stopped by the PID
# it recorded (bird: its pidfile) under /run/xlbt/PREFIX; "down" removes
# all of it. Needs a build (make) and bird2 (make deps).
#
# usage: topo-ecmp.sh up   [-p PREFIX] [-l LBS] [-n BACKENDS]
#        topo-ecmp.sh down [-p PREFIX]
#        topo-ecmp.sh kill-lb [-p PREFIX] N   # hard: kill -9 xlbd and bird, pull eth0
#        topo-ecmp.sh stop-lb [-p PREFIX] N   # gently, after xlbctl lb withdraw
#        topo-ecmp.sh add-lb  [-p PREFIX] N   # one more LB host, a peer of the router
#        topo-ecmp.sh nginx-start [-p PREFIX] N  # again, after a test stopped it
#        topo-ecmp.sh env  [-p PREFIX]        # names, for scripts to eval
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/lib.sh"
prefix=xlbt-
lbs=3
backends=3
cmd=${1:-}
shift || true
arg=
while [ $# -gt 0 ]; do
	case $1 in
	-p) prefix=$2; shift 2 ;;
	-l) lbs=$2; shift 2 ;;
	-n) backends=$2; shift 2 ;;
	[0-9]*) arg=$1; shift ;;
	*) echo "topo-ecmp.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
case "$lbs$backends" in
[1-9][1-9]) ;;
*) echo "topo-ecmp.sh: -l and -n take 1..9" >&2; exit 2 ;;
esac

run_dir=/run/xlbt/${prefix%-}
sw=${prefix}sw
client=${prefix}client
router=${prefix}router
VIP=198.18.100.10
BFD='min rx interval 100 ms; min tx interval 100 ms; multiplier 3;'
# quick (re)connects: a site comes up in any order
BGP_TIMERS='connect delay time 1; connect retry time 2; error wait time 1, 5;'

lb_ns() { echo "${prefix}lb$1"; }
lb_v4() { echo "198.18.0.$((1 + $1))"; }
lb_dir() { echo "$run_dir/lb$1"; }
be_ns() { echo "${prefix}be$1"; }

# bridge_port NS NAME ADDR/LEN PORT: a veth from NS into the bridge
bridge_port() {
	ip link add "$2" numtxqueues 2 numrxqueues 2 type veth peer name "$4" \
		numtxqueues 2 numrxqueues 2
	ip link set "$2" netns "$1"
	ip link set "$4" netns "$sw"
	ip -n "$1" link set "$2" name eth0
	ip -n "$1" addr add "$3" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" link set lo up
	ip -n "$sw" link set "$4" master br0
	ip -n "$sw" link set "$4" up
}

router_up() {
	ip netns add "$router"
	ip netns exec "$router" sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1
	bridge_port "$router" "xlbter$$" 198.18.0.254/24 p-router
	ip netns add "$client"
	ip -n "$client" link set lo up
	ip link add "xlbtec$$" type veth peer name "xlbted$$"
	ip link set "xlbtec$$" netns "$client"
	ip link set "xlbted$$" netns "$router"
	ip -n "$client" link set "xlbtec$$" name eth0
	ip -n "$router" link set "xlbted$$" name rc
	ip -n "$client" addr add 198.18.1.1/24 dev eth0
	ip -n "$router" addr add 198.18.1.254/24 dev rc
	ip -n "$client" link set eth0 up
	ip -n "$router" link set rc up
	ip -n "$client" route add default via 198.18.1.254
	# see topo.sh: forwarded by XDP, an offloaded checksum arrives bad
	ip netns exec "$client" ethtool -K eth0 tx off >/dev/null
	local dev
	for dev in eth0 rc; do ip netns exec "$router" ethtool -K "$dev" gro off >/dev/null 2>&1 || true; done

	local i
	for i in $(seq 1 "$lbs"); do router_peer "$i"; done
	cat >"$run_dir/router/bird.conf" <<EOF
log "$run_dir/router/bird.log" all;
router id 198.18.0.254;
protocol device { }
# every equal BGP path into the kernel: one multipath route per VIP
protocol kernel {
	merge paths on;
	ipv4 { import none; export where source = RTS_BGP; };
}
protocol bfd { interface "eth0" { $BFD }; }
template bgp lb {
	local 198.18.0.254 as 64513;
	bfd on;
	$BGP_TIMERS
	ipv4 { import where net ~ [ 198.18.100.0/24{32,32} ]; export none; };
}
include "$run_dir/router/peers.conf";
EOF
	bird_start router "$router"
}

# router_peer N: the router's BGP session to LB host N
router_peer() {
	echo "protocol bgp lb$1 from lb { neighbor $(lb_v4 "$1") as 64512; }" >>"$run_dir/router/peers.conf"
}

# bird_start DIRNAME NS: this site's bird in NS, never the system one
bird_start() {
	local d=$run_dir/$1
	ip netns exec "$2" bird -c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid"
	wait_for 5 test -s "$d/bird.pid"
}

lb_up() { # N
	local ns d addr
	ns=$(lb_ns "$1") d=$(lb_dir "$1") addr=$(lb_v4 "$1")
	ip netns add "$ns"
	bridge_port "$ns" "xlbtel$1$$" "$addr/24" "p-lb$1"
	ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
	# XDP_TX into a veth needs an XDP program on the peer (topo.sh)
	ip -n "$sw" link set dev "p-lb$1" xdp obj "$TOP/build/pass.bpf.o" sec xdp
	# xlb's XDP takes a VIP's packets sent to any unicast MAC: flooded
	# frames meant for a dead LB host would reach the others and hide what
	# BFD and BGP do. Switches flood unknown unicast; here not to the LBs.
	ip netns exec "$sw" bridge link set dev "p-lb$1" flood off
	ip -n "$ns" route add default via 198.18.0.254

	local i bes= peers=
	for i in $(seq 1 "$backends"); do bes+="      - { address: 198.18.0.1$i }"$'\n'; done
	# every other LB host, and room for one added later (add-lb)
	for i in $(seq 1 $((lbs + 1))); do [ "$i" = "$1" ] || peers+="${peers:+, }$(lb_v4 "$i")"; done
	cat >"$d/xlb.yaml" <<EOF
interfaces: [eth0]
conntrack: { size: 65536 }
announce: { table: 100, protocol: 200 }
handoff: { key: $(cat "$run_dir/handoff.key"), port: 4790, peers: [$peers] }
vips:
  - vip: "$VIP:80/tcp"
    health: { check: http, path: /healthz, interval: 500ms, timeout: 300ms, rise: 1, fall: 2 }
    backends:
$bes
EOF
	mkdir -p "$d/bpf"
	mount -t bpf bpf "$d/bpf"
	ip netns exec "$ns" "$XLBD" -c "$d/xlb.yaml" --bpffs "$d/bpf/xlb" --socket "$d/xlbd.sock" \
		--state-dir "$d/state" >>"$d/xlbd.log" 2>&1 &
	echo $! >"$d/xlbd.pid"

	cat >"$d/bird.conf" <<EOF
log "$d/bird.log" all;
router id $addr;
protocol device { }
# xlbd's routes: one per announced VIP in table 100, protocol 200
protocol kernel xlb {
	kernel table 100;
	learn;
	scan time 2;
	ipv4 { import where krt_source = 200; export none; };
}
protocol bfd { interface "eth0" { $BFD }; }
protocol bgp uplink {
	local $addr as 64512;
	neighbor 198.18.0.254 as 64513;
	bfd on;
	$BGP_TIMERS
	ipv4 { import none; export where proto = "xlb"; next hop self; };
}
EOF
	bird_start "lb$1" "$ns"
}

backend_up() { # N
	local ns
	ns=$(be_ns "$1")
	ip netns add "$ns"
	bridge_port "$ns" "xlbteb$1$$" "198.18.0.1$1/24" "p-be$1"
	ip -n "$ns" route add default via 198.18.0.254
	# DSR: the VIP on lo, never answered for on eth0
	ip -n "$ns" addr add "$VIP/32" dev lo
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.rp_filter=0 \
		net.ipv4.conf.all.rp_filter=0
	nginx_start "$1"
}

nginx_start() { # N
	bash "$here/topo.sh" nginx-start -p "$prefix" --no-ipv6 "$1"
	# nginx sends /slow at 256 KiB/s: 2.5 MiB make a 10 s connection
	head -c 2621440 /dev/zero >"$run_dir/nginx-be$1/www/slow"
}

lb_serving() { # N
	"$XLBCTL" -s "$(lb_dir "$1")/xlbd.sock" status >/dev/null
}

up() {
	if ip netns list | grep -qw "^$sw"; then
		echo "topo-ecmp.sh: $sw exists; run 'topo-ecmp.sh down -p $prefix' first" >&2
		exit 1
	fi
	[ -x "$XLBD" ] && [ -f "$TOP/build/pass.bpf.o" ] || { echo "topo-ecmp.sh: build first (make)" >&2; exit 1; }
	command -v bird >/dev/null || { echo "topo-ecmp.sh: no bird; run make deps" >&2; exit 1; }
	local i
	mkdir -p "$run_dir/router"
	# the site's shared hand-off key
	od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$run_dir/handoff.key"
	for i in $(seq 1 "$lbs"); do mkdir -p "$(lb_dir "$i")"; done
	ip netns add "$sw"
	ip netns exec "$sw" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
	ip -n "$sw" link add br0 type bridge
	ip -n "$sw" link set br0 up
	for i in $(seq 1 "$backends"); do backend_up "$i"; done
	router_up
	for i in $(seq 1 "$lbs"); do lb_up "$i"; done
	for i in $(seq 1 "$lbs"); do
		wait_for 10 lb_serving "$i" || { echo "topo-ecmp.sh: xlbd on lb$i does not serve" >&2; exit 1; }
	done
}

stop_pidfile() { # FILE [SIGNAL]
	local pid
	pid=$(cat "$1" 2>/dev/null || true)
	[ -n "$pid" ] && kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	rm -f "$1"
}

# kill_lb N: the host dies. The cable goes first, with the XDP program on
# it: a bird killed on a live link would close its BGP session, and a dead
# host says nothing; BFD has to find out.
kill_lb() {
	local d
	d=$(lb_dir "$1")
	ip -n "$(lb_ns "$1")" link del eth0
	stop_pidfile "$d/xlbd.pid" KILL
	stop_pidfile "$d/bird.pid" KILL
}

# stop_lb N: maintenance, after xlbctl lb withdraw took the host's routes
# away: xlbd and bird stop, the host stays on the segment
stop_lb() {
	local d
	d=$(lb_dir "$1")
	stop_pidfile "$d/xlbd.pid"
	stop_pidfile "$d/bird.pid"
}

# add_lb N: a new LB host joins the site, the router learns of its peer
add_lb() {
	if ip netns list | grep -qw "^$(lb_ns "$1")"; then
		echo "topo-ecmp.sh: $(lb_ns "$1") exists" >&2
		exit 1
	fi
	mkdir -p "$(lb_dir "$1")"
	lb_up "$1"
	router_peer "$1"
	ip netns exec "$router" birdc -s "$run_dir/router/bird.ctl" configure >/dev/null
	wait_for 10 lb_serving "$1" || { echo "topo-ecmp.sh: xlbd on lb$1 does not serve" >&2; exit 1; }
}

down() {
	local f d ns
	for f in "$run_dir"/*/*.pid; do
		[ -f "$f" ] && stop_pidfile "$f"
	done
	for d in "$run_dir"/lb*; do
		[ -d "$d/bpf" ] || continue
		# the pinned data plane goes with its bpffs
		umount "$d/bpf" 2>/dev/null || true
	done
	for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix" || true); do
		case $ns in
		"$sw" | "$client" | "$router" | "${prefix}"lb[0-9] | "${prefix}"be[0-9]) ip netns del "$ns" 2>/dev/null || true ;;
		esac
	done
	rm -rf "$run_dir"
}

case $cmd in
up) up ;;
down) down ;;
kill-lb) kill_lb "$arg" ;;
stop-lb) stop_lb "$arg" ;;
add-lb) add_lb "$arg" ;;
nginx-start) nginx_start "$arg" ;;
env)
	echo "SW=$sw CLIENT=$client ROUTER=$router RUN_DIR=$run_dir VIP=$VIP"
	for i in $(seq 1 "$lbs"); do echo "LB$i=$(lb_ns "$i") LB${i}_SOCK=$(lb_dir "$i")/xlbd.sock"; done
	for i in $(seq 1 "$backends"); do echo "BE$i=$(be_ns "$i")"; done
	;;
*) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
