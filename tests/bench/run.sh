#!/usr/bin/env bash
# make bench: run the benchmark in its own namespace and keep the latest
# table in docs/benchmarks.md.
set -euo pipefail
build=${1:-build}
repeat=${BENCH_REPEAT:-1000000}
ns="xlbt-bench-$$"
out=$(mktemp)

cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -f "$out"
}
trap cleanup EXIT INT TERM

ip netns add "$ns"
ip -n "$ns" link add xlbt-b0 type veth peer name xlbt-b1
# bpf_fib_lookup needs forwarding on
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$ns" link set lo up
ip -n "$ns" link set xlbt-b0 up
ip -n "$ns" link set xlbt-b1 up
ip -n "$ns" addr add 198.18.0.2/24 dev xlbt-b0
ip -n "$ns" neigh add 198.18.0.11 lladdr 02:00:5e:10:00:11 dev xlbt-b0 nud permanent
# forward ipip rows: backends behind that gateway
ip -n "$ns" addr add 2001:db8::2/64 dev xlbt-b0 nodad
ip -n "$ns" neigh add 2001:db8::11 lladdr 02:00:5e:10:00:11 dev xlbt-b0 nud permanent
ip -n "$ns" route add 198.18.60.0/24 via 198.18.0.11
ip -n "$ns" -6 route add 2001:db8:60::/64 via 2001:db8::11

ip netns exec "$ns" "$build/bench" "$repeat" | tee "$out"
bash "$(dirname "$0")/live.sh" "$build" | tee -a "$out"
bash "$(dirname "$0")/scrape.sh" "$build" | tee -a "$out"
bash "$(dirname "$0")/rebuild.sh" "$build" | tee -a "$out"

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` ($(date -u +%Y-%m-%d), kernel $(uname -r)," \
		"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'))."
	echo "The machine is shared and noisy: compare the ratios to the floor, measured in the same run."
	echo
	grep -v '^BENCH' "$out"
} >docs/benchmarks.md
echo "bench: table written to docs/benchmarks.md"
