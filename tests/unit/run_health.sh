#!/usr/bin/env bash
# Run the health-check unit test in a private network namespace, so its
# loopback ports are its own: run_health.sh [CMD...] (default ./test_health),
# e.g. run_health.sh valgrind --leak-check=full build/test_health.
set -u
ns="xlbt-h$$"

cleanup() {
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

[ $# -gt 0 ] || set -- ./test_health
ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up || exit 1
ip netns exec "$ns" "$@"
