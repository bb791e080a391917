# Shared by the rebuild test and bench: an LB namespace PREFIXlb and a
# backends' namespace PREFIXbe joined by veth xlbt-r0 (198.18.0.2/24) ~
# xlbt-r1 (198.18.0.3/24), 198.19.0.0/16 routed from the LB to the backends,
# a bpffs at RUN/bpf.
# shellcheck shell=bash

# pair_up PREFIX RUN: make it all; sets be_mac to xlbt-r1's MAC
pair_up() {
	local p=$1 run=$2
	mkdir -p "$run/bpf"
	mount -t bpf bpf "$run/bpf"
	ip netns add "${p}lb"
	ip netns add "${p}be"
	ip -n "${p}lb" link add xlbt-r0 type veth peer name xlbt-r1 netns "${p}be"
	ip -n "${p}lb" link set lo up
	ip -n "${p}be" link set lo up
	ip -n "${p}lb" link set xlbt-r0 up
	ip -n "${p}be" link set xlbt-r1 up
	ip -n "${p}lb" addr add 198.18.0.2/24 dev xlbt-r0
	ip -n "${p}be" addr add 198.18.0.3/24 dev xlbt-r1
	ip -n "${p}lb" route add 198.19.0.0/16 dev xlbt-r0
	be_mac=$(ip -n "${p}be" -j link show xlbt-r1 | jq -r '.[0].address')
}

# pair_down PREFIX RUN XLBD: the pins of an xlbd on RUN/bpf/xlb torn down,
# the bpffs unmounted, both namespaces and RUN removed
pair_down() {
	ip netns exec "${1}lb" "$3" --teardown --bpffs "$2/bpf/xlb" >/dev/null 2>&1
	umount "$2/bpf" 2>/dev/null
	ip netns del "${1}lb" 2>/dev/null
	ip netns del "${1}be" 2>/dev/null
	rm -rf "$2"
}
