#!/usr/bin/env bash
# Part of make bench: with 100 VIPs x 100 backends (10,000 backends), how
# long xlbd takes to start and to restart adopting them, how long a
# Prometheus scrape takes, and what it does to the control socket
# meanwhile. Prints a Markdown table and BENCH lines.
set -euo pipefail
. "$(dirname "$0")/fleet.sh"
build=$(cd "${1:-build}" && pwd)
ns="xlbt-scrape-$$"
run="/run/xlbt/scrape-$$"
scrapes=20
pid=

cleanup() {
	set +e
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns exec "$ns" "$build/xlbd" --teardown --bpffs "$run/bpf/xlb" >/dev/null 2>&1 || true
	umount "$run/bpf" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup EXIT INT TERM

mkdir -p "$run/bpf"
mount -t bpf bpf "$run/bpf"
ip netns add "$ns"
ip -n "$ns" link add xlbt-s0 type veth peer name xlbt-s1
ip -n "$ns" link set lo up
ip -n "$ns" link set xlbt-s0 up
ip -n "$ns" link set xlbt-s1 up
ip -n "$ns" addr add 198.18.0.2/24 dev xlbt-s0
ip -n "$ns" addr add 198.19.255.254/16 dev xlbt-s0
# every backend's MAC known up front, so all 10,000 are in service
fleet_neigh "$ns" xlbt-s0
fleet_conf xlbt-s0 "{ check: none }" "metrics: 198.18.0.2:9100" >"$run/xlb.yaml"

# start_xlbd: launch xlbd (sets pid), wait until its socket answers status
# (up to 60 s); sets took_ms to how long that took and cpu_ms to the CPU
# time xlbd used meanwhile (the rest is waiting, mostly on the kernel)
start_xlbd() {
	local t0
	t0=$(date +%s%N)
	fleet_xlbd "$ns"
	took_ms=$(awk -v d=$(($(date +%s%N) - t0)) 'BEGIN {printf "%.0f", d / 1e6}')
	if ! "$build/xlbctl" -s "$run/sock" status >/dev/null 2>&1; then
		echo "scrape bench: xlbd did not start" >&2
		tail -3 "$run/log" >&2
		return 1
	fi
	cpu_ms=$(awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.0f", ($12 + $13) * 1000 / hz}' "/proc/$pid/stat")
}
start_xlbd
start_ms=$took_ms start_cpu_ms=$cpu_ms
up=0
for _ in $(seq 1 600); do # up to 60 s for 10,000 backends
	up=$("$build/xlbctl" -s "$run/sock" -j vip show 2>/dev/null | jq '[.vips[].up] | add // 0' || echo 0)
	[ "$up" = 10000 ] && break
	sleep 0.1
done
if [ "$up" != 10000 ]; then
	echo "scrape bench: only $up of 10000 backends came up" >&2
	tail -3 "$run/log" >&2
	exit 1
fi

times=()
for _ in $(seq 1 "$scrapes"); do
	times+=("$(ip netns exec "$ns" curl -s -o "$run/metrics" -w '%{time_total}' http://198.18.0.2:9100/metrics)")
done
bytes=$(stat -c %s "$run/metrics")
samples=$(grep -vc '^#' "$run/metrics")
median_ms=$(printf '%s\n' "${times[@]}" | sort -n | awk -v n="$scrapes" 'NR == int(n / 2) + 1 {printf "%.1f", $1 * 1000}')
max_ms=$(printf '%s\n' "${times[@]}" | sort -n | tail -1 | awk '{printf "%.1f", $1 * 1000}')

# a control request while a scrape is running waits for it at most
ip netns exec "$ns" curl -s -o /dev/null http://198.18.0.2:9100/metrics &
scrape_pid=$!
sleep 0.03 # into the scrape (a benchmark's timing, not a test's condition)
t0=$(date +%s%N)
"$build/xlbctl" -s "$run/sock" status >/dev/null
ctl_ms=$(awk -v d=$(($(date +%s%N) - t0)) 'BEGIN {printf "%.1f", d / 1e6}')
wait "$scrape_pid"

# a restart adopts the pinned maps and the 10,000 backends in them
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
start_xlbd
restart_ms=$took_ms restart_cpu_ms=$cpu_ms
grep -q "adopted the maps pinned" "$run/log" || { echo "scrape bench: the restart did not adopt" >&2; exit 1; }

echo "| 100 VIPs x 100 backends | value |"
echo "|---|---:|"
echo "| median of $scrapes scrapes | $median_ms ms |"
echo "| slowest | $max_ms ms |"
echo "| size | $((bytes / 1024)) KiB, $samples samples |"
echo "| an xlbctl status issued during a scrape | $ctl_ms ms |"
echo "| xlbd start, until status answers | $start_ms ms ($start_cpu_ms ms CPU) |"
echo "| xlbd restart adopting them, until status answers | $restart_ms ms ($restart_cpu_ms ms CPU) |"
echo
echo "BENCH scrape_100x100_ms $median_ms -"
echo "BENCH start_10000_backends_ms $start_ms -"
echo "BENCH restart_10000_backends_ms $restart_ms -"
