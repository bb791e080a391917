#!/usr/bin/env bash
# The Maglev table digest in vip show: three xlbd hosts, each in a namespace
# of its own, with the same backends listed in other orders (and other ids)
# show the same digest; another weight or another set, another digest.
# Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

P=xlbt-g$$-
RUN=/run/xlbt/g$$
PIDS=
cleanup() {
	local pid h
	for pid in $PIDS; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for h in 1 2 3; do
		if [ -d "$RUN/bpf$h" ]; then
			ip netns exec "${P}h$h" "$XLBD" --teardown --bpffs "$RUN/bpf$h/xlb" >/dev/null 2>&1
			umount "$RUN/bpf$h" 2>/dev/null
		fi
		ip netns del "${P}h$h" 2>/dev/null
	done
	rm -rf "$RUN"
}
trap cleanup EXIT INT TERM
mkdir -p "$RUN"

# host H: eth0 (a veth; its peer has no XDP, nothing is sent) and the
# backends' MACs as permanent neighbours, so that they are up at once
host_up() { # H
	local ns=${P}h$1 i
	ip netns add "$ns"
	ip -n "$ns" link add eth0 type veth peer name peer0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set peer0 up
	ip -n "$ns" addr add 198.18.0.2/24 dev eth0
	for i in 11 12 13 14; do
		ip -n "$ns" neigh add "198.18.0.$i" lladdr "02:00:5e:00:00:$i" nud permanent dev eth0
	done
	mkdir -p "$RUN/bpf$1"
	mount -t bpf bpf "$RUN/bpf$1"
}

start_host() { # H CONFIG
	ip netns exec "${P}h$1" "$XLBD" -c "$2" --bpffs "$RUN/bpf$1/xlb" --socket "$RUN/h$1.sock" \
		--state-dir "$RUN/state$1" >>"$RUN/h$1.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 10 "$XLBCTL" -s "$RUN/h$1.sock" status
}

conf() { # FILE ADDR[=WEIGHT]... : one VIP with these backends, in this order
	local f=$1 b a w
	shift
	{
		echo "interfaces: [eth0]"
		echo "vips:"
		# host 2 has one more VIP first: its backend ids differ from host 1's
		[ "$f" = "$RUN/h2.yaml" ] && printf '  - vip: 198.18.100.20:80/tcp\n    health: { check: none }\n    backends: [{ address: 198.18.0.14 }]\n'
		echo "  - vip: 198.18.100.10:80/tcp"
		echo "    health: { check: none }"
		echo "    backends:"
		for b in "$@"; do
			a=${b%%=*}
			w=${b#*=}
			[ "$w" = "$b" ] && w=100
			echo "      - { address: $a, weight: $w }"
		done
	} >"$f"
}

digest() { # H
	"$XLBCTL" -s "$RUN/h$1.sock" -j vip show 198.18.100.10:80/tcp | jq -r '.vips[0].table_digest'
}
# 3 up, and their table written (it follows within the coalescing interval)
up3() {
	[ "$("$XLBCTL" -s "$RUN/h$1.sock" -j vip show 198.18.100.10:80/tcp | jq -r '.vips[0].up')" = 3 ] &&
		[ "$("$XLBCTL" -s "$RUN/h$1.sock" -j status | jq -r .tables_pending)" = 0 ]
}
ids() { "$XLBCTL" -s "$RUN/h$1.sock" -j backend show 198.18.100.10:80/tcp | jq -c '[.backends[] | {address, id}] | sort_by(.address) | map(.id)'; }

for h in 1 2 3; do host_up "$h"; done
conf "$RUN/h1.yaml" 198.18.0.11 198.18.0.12 198.18.0.13
conf "$RUN/h2.yaml" 198.18.0.13 198.18.0.11 198.18.0.12
conf "$RUN/h3.yaml" 198.18.0.12 198.18.0.13 198.18.0.11
for h in 1 2 3; do
	if start_host "$h" "$RUN/h$h.yaml" && wait_for 10 up3 "$h"; then
		ok "host $h serves with 3 backends up"
	else
		not_ok "host $h serves with 3 backends up" "$(tail -5 "$RUN/h$h.log")"
	fi
done

d1=$(digest 1) d2=$(digest 2) d3=$(digest 3)
echo "# digests: $d1 $d2 $d3; backend ids: $(ids 1) $(ids 2) $(ids 3)"
check "a digest is 16 hex digits" sh -c "echo '$d1' | grep -qE '^[0-9a-f]{16}\$'"
check "the ids differ between hosts 1 and 2" test "$(ids 1)" != "$(ids 2)"
expect_eq "hosts 1 and 2 agree (other order, other ids)" "$d2" "$d1"
expect_eq "hosts 1 and 3 agree" "$d3" "$d1"
check "the text table shows it" sh -c "'$XLBCTL' -s '$RUN/h1.sock' vip show | grep '^198.18.100.10:80/tcp ' | grep -q '$d1'"

# another weight on host 3, by the control socket
"$XLBCTL" -s "$RUN/h3.sock" backend set 198.18.100.10:80/tcp 198.18.0.12 weight 200
w3=$(digest 3)
check "another weight: another digest" test "$w3" != "$d1"
"$XLBCTL" -s "$RUN/h3.sock" backend set 198.18.100.10:80/tcp 198.18.0.12 weight 100
expect_eq "the weight back: the same digest again" "$(digest 3)" "$d1"

# another set on host 2: a fourth backend
"$XLBCTL" -s "$RUN/h2.sock" backend add 198.18.100.10:80/tcp 198.18.0.14
wait_for 5 sh -c "[ \"\$('$XLBCTL' -s '$RUN/h2.sock' -j vip show 198.18.100.10:80/tcp | jq -r '.vips[0].up')\" = 4 ]"
# up is at once; the table follows within the coalescing interval
wait_for 5 sh -c "[ \"\$('$XLBCTL' -s '$RUN/h2.sock' -j status | jq -r .tables_pending)\" = 0 ]"
s2=$(digest 2)
check "another set: another digest" test "$s2" != "$d1"
check "and not the other weight's" test "$s2" != "$w3"
"$XLBCTL" -s "$RUN/h2.sock" backend del 198.18.100.10:80/tcp 198.18.0.14
expect_eq "the set back: the same digest again" "$(digest 2)" "$d1"

# a backend down is out of the table: the digest says so
"$XLBCTL" -s "$RUN/h1.sock" backend set 198.18.100.10:80/tcp 198.18.0.13 disable
check "a disabled backend changes the digest" test "$(digest 1)" != "$d1"
tap_end
