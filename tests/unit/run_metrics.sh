#!/usr/bin/env bash
# Run the metrics unit test in a private network namespace, so its
# loopback ports are its own: run_metrics.sh [CMD...] (default ./test_metrics),
# e.g. run_metrics.sh valgrind --leak-check=full build/test_metrics.
set -u
ns="xlbt-m$$"

cleanup() {
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

[ $# -gt 0 ] || set -- ./test_metrics
ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up || exit 1
ip netns exec "$ns" "$@"
