#!/usr/bin/env bash
# Part of make bench: 100 VIPs x 100 backends (10,000) behind real TCP
# health checks (interval 1 s, rise 1, fall 2). How long until every
# backend is in a table after xlbd starts, how long until every one is out
# of service after their port closes, and how long `xlbctl status` takes
# meanwhile. The data plane is read through the pins (probe in-service maps
# the tables, so a poll takes milliseconds, not the 1.5 s a batched read of
# 6.5M slots took), so a daemon that does not answer cannot hide how far
# it got.
# Prints a Markdown table and BENCH lines.
#   usage: rebuild.sh [BUILD]   (PROBE=... picks another probe binary)
set -euo pipefail
. "$(dirname "$0")/fleet.sh"
. "$(dirname "$0")/../pair.sh"
build=$(cd "${1:-build}" && pwd)
probe=${PROBE:-$build/probe}
limit_s=${BENCH_REBUILD_LIMIT:-60} # per phase; the build before coalescing needed minutes
p="xlbt-rb$$-"
run="/run/xlbt/rebuild-$$"
interval_ms=1000 fall=2
pid= listener= sampler=

cleanup() {
	set +e
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null
	[ -n "$listener" ] && kill "$listener" 2>/dev/null && wait "$listener" 2>/dev/null
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "${BENCH_KEEP_LOG:-}" ] && cp "$run/log" "$BENCH_KEEP_LOG"
	pair_down "$p" "$run" "$build/xlbd"
}
trap cleanup EXIT INT TERM

pair_up "$p" "$run"
# every backend address is local in the backends' namespace: one listener serves all
ip -n "${p}be" route add local 198.19.0.0/16 dev lo
fleet_neigh "${p}lb" xlbt-r0 "$be_mac"
fleet_conf xlbt-r0 "{ check: tcp, interval: ${interval_ms}ms, timeout: 500ms, rise: 1, fall: $fall }" \
	>"$run/xlb.yaml"

listen() {
	ip netns exec "${p}be" python3 "$(dirname "$0")/../accept_all.py" 4096 &
	listener=$!
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# in_service: "named N serving M" over every table, from the pins
in_service() { "$probe" in-service "$run/bpf/xlb" 2>/dev/null || echo "named ? serving ?"; }

# wait_count WHAT WANT: until in_service's WHAT (named or serving) is WANT,
# polling every 100 ms, up to limit_s; sets done_ms (the time, or empty) and last
wait_count() {
	local end=$(($(now_ms) + limit_s * 1000)) got
	done_ms=
	while [ "$(now_ms)" -lt "$end" ]; do
		last=$(in_service)
		got=${last#*"$1" }
		[ "${got%% *}" = "$2" ] && { done_ms=$(now_ms); return 0; }
		sleep 0.1
	done
	return 0
}

# secs FROM: seconds since FROM ms to done_ms, or "> limit (counts)"
secs() {
	if [ -n "$done_ms" ]; then
		awk -v d=$((done_ms - $1)) 'BEGIN {printf "%.1f", d / 1000}'
	else
		echo "> $limit_s ($last)"
	fi
}

# status latency every 50 ms, "time_ms latency_ms" (5000: no answer in 5 s)
sample_status() {
	local t0 t1
	while :; do
		t0=$(date +%s%N)
		timeout 5 "$build/xlbctl" -s "$run/sock" status >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		echo "$((t0 / 1000000)) $(((t1 - t0) / 1000000))"
		sleep 0.05
	done >"$run/status.lat"
}

# max_latency FROM TO: slowest status begun in [FROM, TO] ms, and how many
max_latency() {
	awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b { n++; if ($2 > m) m = $2 }
		END { printf "%d ms (%d samples)", m, n }' "$run/status.lat"
}

rebuilds() {
	timeout 5 "$build/xlbctl" -s "$run/sock" -j status 2>/dev/null |
		jq -r '.table_rebuilds // "-"' 2>/dev/null || echo "-"
}

listen
fleet_xlbd "${p}lb"
serving_ms=$(now_ms)
sample_status &
sampler=$!

wait_count serving 10000
up_done=${done_ms:-$(now_ms)}
up_s=$(secs "$serving_ms")
up_lat=$(max_latency "$serving_ms" "$up_done")
up_rebuilds=$(rebuilds)

kill "$listener"
wait "$listener" 2>/dev/null || true
listener=
kill_ms=$(now_ms)
wait_count serving 0
down_s=$(secs "$kill_ms")
wait_count named 0
down_done=${done_ms:-$(now_ms)}
out_s=$(secs "$kill_ms")
down_lat=$(max_latency "$kill_ms" "$down_done")
down_rebuilds=$(rebuilds)

echo "| 100 VIPs x 100 backends, tcp checks every 1 s, rise 1, fall $fall | value |"
echo "|---|---:|"
echo "| every backend in a table, after xlbd first answers (checks pass after that: target ≤ 3 s) | $up_s s |"
echo "| slowest xlbctl status meanwhile (target < 100 ms) | $up_lat |"
echo "| every backend out of service, after their port closes (target ≤ $((fall * interval_ms / 1000 + 1)) s) | $down_s s |"
echo "| every backend out of every table, after their port closes | $out_s s |"
echo "| slowest xlbctl status meanwhile (target < 100 ms) | $down_lat |"
echo "| table rebuilds: after coming up, after going down | $up_rebuilds, $down_rebuilds |"
echo
echo "BENCH rebuild_up_10000_s $up_s -"
echo "BENCH rebuild_down_10000_s $down_s -"
