# Shared by the benches: 100 VIPs (198.18.200.0-99:80/tcp) of 100 backends
# each (198.19.VIP.1-100), 10,000 in all, and an xlbd serving them out of
# $run (build and run are the bench's own).
# shellcheck shell=bash

# fleet_neigh NS DEV [MAC]: every backend's neighbour entry on DEV in NS,
# permanent, all at MAC or each at its own 02:00:5e:20:VIP:BACKEND
fleet_neigh() {
	local v b
	for v in $(seq 0 99); do
		for b in $(seq 1 100); do
			echo "neigh add 198.19.$v.$b lladdr ${3:-02:00:5e:20:$(printf '%02x:%02x' "$v" "$b")} dev $2 nud permanent"
		done
	done | ip -n "$1" -batch -
}

# fleet_conf IFACE HEALTH [LINE...]: the config on stdout, the VIPs checked
# with HEALTH (a flow mapping), each LINE a top-level key before vips
fleet_conf() {
	local iface=$1 health=$2 v b
	shift 2
	echo "interfaces: [$iface]"
	echo "conntrack: { size: 65536 }"
	[ $# -gt 0 ] && printf '%s\n' "$@"
	echo "vips:"
	for v in $(seq 0 99); do
		echo "  - vip: 198.18.200.$v:80/tcp"
		echo "    health: $health"
		echo "    backends:"
		for b in $(seq 1 100); do echo "      - { address: 198.19.$v.$b }"; done
	done
}

# fleet_xlbd NS: start xlbd in NS on $run/xlb.yaml (sets pid) and wait, up
# to 60 s, until its socket answers status or it has exited
fleet_xlbd() {
	local i
	ip netns exec "$1" "$build/xlbd" -c "$run/xlb.yaml" --bpffs "$run/bpf/xlb" --socket "$run/sock" \
		--state-dir "$run/state" >>"$run/log" 2>&1 &
	pid=$!
	for i in $(seq 1 6000); do
		"$build/xlbctl" -s "$run/sock" status >/dev/null 2>&1 && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
}
