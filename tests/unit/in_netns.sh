#!/usr/bin/env bash
# Run a command in a private network namespace with only lo up, so the
# loopback ports it uses are its own: in_netns.sh CMD [ARGS...]
# (e.g. in_netns.sh valgrind --leak-check=full build/test_health).
set -u
ns="xlbt-u$$"

cleanup() {
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

[ $# -gt 0 ] || { echo "usage: in_netns.sh CMD [ARGS...]" >&2; exit 2; }
ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up || exit 1
ip netns exec "$ns" "$@"
