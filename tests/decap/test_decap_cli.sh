#!/usr/bin/env bash
# xlb-decap, the command: attach, show, attach again (in place), detach,
# and its error messages and exit codes. Then real packets: a tunnelled
# ping to a VIP on lo, sent from the veth peer, is decapsulated by the
# attached program and answered directly from the VIP. Prints TAP.
#
# Everything lives in its own namespace and its own bpffs (pins under /sys
# would not outlive "ip netns exec"), removed on exit.
set -u
. "$(dirname "$0")/../lib.sh"

DECAP=$BUILD/xlb-decap
NS=xlbt-dcp-$$
NS2=xlbt-dcp2-$$
RUN=/run/xlbt/dcp-$$
BASE=$RUN/bpf/xlb-decap
HERE=$(cd "$(dirname "$0")" && pwd)

cleanup() {
	ip netns del "$NS" 2>/dev/null || true # its veths go, and so do the links
	ip netns del "$NS2" 2>/dev/null || true
	umount "$RUN/bpf" 2>/dev/null || true
	rm -rf "$RUN"
}
trap cleanup EXIT INT TERM

in_ns() { ip netns exec "$NS" "$@"; }
dcp() { in_ns "$DECAP" -d "$BASE" "$@"; }
mac_of() { ip -n "$NS" -j link show "$1" | jq -r '.[0].address'; }
xdp_prog() { ip -n "$NS" -j link show "$1" | jq -r '.[0].xdp.prog.name // "none"'; }
counter() { dcp -j show dev dcp0 | jq -r ".counters.$1"; }

# expect_fail DESC CODE MESSAGE CMD...: CMD exits with CODE and says exactly MESSAGE on stderr.
expect_fail() {
	local desc=$1 code=$2 msg=$3 out rc
	shift 3
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$code" ] && [ "$out" = "$msg" ]; then
		ok "$desc"
	else
		not_ok "$desc" "exit $rc, want $code" "got:  $out" "want: $msg"
	fi
}

mkdir -p "$RUN/bpf"
if ! { ip netns add "$NS" &&
	mount -t bpf bpf "$RUN/bpf" &&
	ip -n "$NS" link add dcp0 type veth peer name dcp1 &&
	in_ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 &&
	ip -n "$NS" link set lo up && ip -n "$NS" link set dcp0 up && ip -n "$NS" link set dcp1 up &&
	ip -n "$NS" addr add 198.18.100.10/32 dev lo &&
	ip -n "$NS" addr add 2001:db8:100::10/128 dev lo &&
	ip -n "$NS" addr add 198.18.0.21/24 dev dcp0 &&
	ip -n "$NS" addr add 2001:db8:1::21/64 dev dcp0 nodad; }; then
	not_ok "namespace $NS with a veth pair and a bpffs"
	tap_end
	exit 1
fi

# ---- attach, show, attach again, detach

check "attach" dcp attach dev dcp0 source 198.18.0.0/24 source 2001:db8:1::/48 \
	vip 198.18.100.10 vip 2001:db8:100::10
expect_eq "attached: the program is on dcp0" "$(xdp_prog dcp0)" xlb_decap
expect_eq "attached: link and maps pinned by name" \
	"$(ls "$BASE/dcp0" | tr '\n' ' ')" "decap_sources decap_stats decap_vips link "
expect_eq "show: sources and VIPs" "$(dcp show dev dcp0 | awk '$1 == "source" || $1 == "vip"' | tr -s ' ')" \
	" source 198.18.0.0/24
 source 2001:db8:1::/48
 vip 198.18.100.10
 vip 2001:db8:100::10"
# every counter by name; the kernel's own IPv6 chatter (MLD, router
# solicitations) may already count as pass_not_encap, so only its name is checked
expect_eq "show: every counter, nothing decapsulated yet" \
	"$(dcp show dev dcp0 | awk 'NR > 5 {print $1, ($1 == "pass_not_encap" ? "-" : $2)}' | tr '\n' ' ')" \
	"decap 0 pass_not_encap - pass_fragment 0 pass_foreign_source 0 pass_not_vip 0 drop_malformed 0 drop_ecn 0 "
expect_eq "show -j" "$(dcp show dev dcp0 -j | jq -c '[.dev, .sources, .vips, (.counters | keys | length)]')" \
	'["dcp0",["198.18.0.0/24","2001:db8:1::/48"],["198.18.100.10","2001:db8:100::10"],7]'
prog=$(dcp -j show dev dcp0 | jq .prog_id)

check "attach again, other sets" dcp attach dev dcp0 source 198.18.0.0/16 vip 2001:db8:100::10 \
	vip 198.18.100.11 vip 198.18.100.11
expect_eq "attach again: sets replaced, repeats kept once" \
	"$(dcp -j show dev dcp0 | jq -c '[.sources, .vips]')" \
	'[["198.18.0.0/16"],["198.18.100.11","2001:db8:100::10"]]'
expect_eq "attach again: the same program, not re-attached" "$(dcp -j show dev dcp0 | jq .prog_id)" "$prog"
check "attach again, the first sets" dcp attach dev dcp0 source 198.18.0.0/24 \
	source 2001:db8:1::/48 vip 198.18.100.10 vip 2001:db8:100::10
# counters aside: the kernel's own IPv6 chatter may arrive meanwhile
before=$(dcp -j show dev dcp0 | jq -c 'del(.counters)')
check "attach again, the same sets" dcp attach dev dcp0 source 2001:db8:1::/48 \
	source 198.18.0.0/24 vip 2001:db8:100::10 vip 198.18.100.10
expect_eq "attach is idempotent" "$(dcp -j show dev dcp0 | jq -c 'del(.counters)')" "$before"

# commands and keywords by any unique prefix, as in xlbctl
expect_eq "prefixes: 's d dcp0' is show dev dcp0" "$(dcp -j s d dcp0 | jq -c 'del(.counters)')" "$before"
check "prefixes: 'at d dcp0 so ... v ...' is attach" dcp at d dcp0 so 2001:db8:1::/48 \
	so 198.18.0.0/24 v 2001:db8:100::10 v 198.18.100.10
expect_eq "... and changed nothing" "$(dcp -j show dev dcp0 | jq -c 'del(.counters)')" "$before"
expect_eq "prefixes: 'h' is help" "$(dcp h | head -1)" "Usage: xlb-decap [-d DIR] [-j] [-v] COMMAND"

# ---- real packets through the attached program

if command -v python3 >/dev/null; then
	peer=$(mac_of dcp1) me=$(mac_of dcp0)
	# the answers go straight back to the client, through the peer
	ip -n "$NS" route add 198.18.200.0/24 dev dcp0
	ip -n "$NS" route add 2001:db8:200::/64 dev dcp0
	ip -n "$NS" neigh add 198.18.200.1 lladdr "$peer" dev dcp0 nud permanent
	ip -n "$NS" neigh add 2001:db8:200::1 lladdr "$peer" dev dcp0 nud permanent
	ping_via() { # OUTER_SRC OUTER_DST CLIENT VIP
		in_ns python3 "$HERE/tunnel_ping.py" dcp1 "$me" "$@" 2
	}
	check "IPIP ping to the VIP answered from the VIP" \
		ping_via 198.18.0.1 198.18.0.21 198.18.200.1 198.18.100.10
	check "IP6IP6 ping answered" ping_via 2001:db8:1::1 2001:db8:1::21 2001:db8:200::1 2001:db8:100::10
	check "4in6 ping answered" ping_via 2001:db8:1::1 2001:db8:1::21 198.18.200.1 198.18.100.10
	check "6in4 ping answered" ping_via 198.18.0.1 198.18.0.21 2001:db8:200::1 2001:db8:100::10
	expect_eq "decap counted 4" "$(counter decap)" 4
	if ping_via 198.18.1.1 198.18.0.21 198.18.200.1 198.18.100.10 >/dev/null; then
		not_ok "foreign source: not decapsulated, no answer"
	else
		ok "foreign source: not decapsulated, no answer"
	fi
	expect_eq "pass_foreign_source counted 1" "$(counter pass_foreign_source)" 1
else
	for i in 1 2 3 4 5 6 7; do ok "real packets # SKIP no python3"; done
fi

# ---- errors

expect_fail "bad address: exit 2, one line" 2 'xlb-decap: source "10.0.0.300/8": bad address' \
	dcp attach dev dcp0 source 10.0.0.300/8 vip 198.18.100.10
expect_fail "host bits set: refused, the prefix named" 2 \
	'xlb-decap: source "198.18.0.0/8": host bits set (the prefix is 198.0.0.0/8)' \
	dcp attach dev dcp0 source 198.18.0.0/8 vip 198.18.100.10
expect_fail "bad prefix length" 2 'xlb-decap: source "198.18.0.0/33": bad prefix length (0..32)' \
	dcp attach dev dcp0 source 198.18.0.0/33 vip 198.18.100.10
expect_fail "a VIP is no prefix" 2 'xlb-decap: vip "198.18.100.10/32": a VIP is one address, not a prefix' \
	dcp attach dev dcp0 source 198.18.0.0/24 vip 198.18.100.10/32
expect_fail "no vip" 2 'xlb-decap: attach: at least one vip ADDR is needed' \
	dcp attach dev dcp0 source 198.18.0.0/24
expect_fail "no source" 2 'xlb-decap: attach: at least one source PREFIX is needed' \
	dcp attach dev dcp0 vip 198.18.100.10
expect_fail "no dev" 2 'xlb-decap: detach: missing dev IF' dcp detach
expect_fail "unknown keyword" 2 'xlb-decap: detach: unexpected argument "source"' \
	dcp detach dev dcp0 source 198.18.0.0/24
expect_fail "unknown command" 2 'xlb-decap: unknown command "up" (attach, detach, show or doctor)' dcp up dev dcp0
expect_fail "detach is typed in full" 2 \
	'xlb-decap: "det" is short for "detach": destructive commands are typed in full' dcp det dev dcp0
expect_fail "a keyword another command takes" 2 'xlb-decap: show: unexpected argument "v"' \
	dcp show dev dcp0 v 198.18.100.10
expect_fail "a prefix names the keyword in messages" 2 'xlb-decap: attach: dev needs a value' \
	dcp attach source 198.18.0.0/24 d
expect_fail "an IPv4-mapped VIP" 2 'xlb-decap: vip "::ffff:198.18.100.10": IPv4-mapped; give the IPv4 address' \
	dcp attach dev dcp0 source 198.18.0.0/24 vip ::ffff:198.18.100.10
expect_fail "an IPv4-mapped source" 2 \
	'xlb-decap: source "::ffff:198.18.0.0/120": overlaps ::ffff:0:0/96, the IPv4-mapped range; give IPv4 prefixes as IPv4' \
	dcp attach dev dcp0 source ::ffff:198.18.0.0/120 vip 198.18.100.10
expect_fail "an IPv6 source over the IPv4-mapped range" 2 \
	'xlb-decap: source "::/64": overlaps ::ffff:0:0/96, the IPv4-mapped range; give IPv4 prefixes as IPv4' \
	dcp attach dev dcp0 source ::/64 vip 198.18.100.10
expect_fail "a control character in a message: one line" 2 \
	'xlb-decap: unknown command "up?dev" (attach, detach, show or doctor)' dcp $'up\ndev'
expect_fail "no such interface: exit 1" 1 'xlb-decap: dev "nope0": no such interface' \
	dcp attach dev nope0 source 198.18.0.0/24 vip 198.18.100.10
expect_fail "show, not attached: exit 1" 1 \
	"xlb-decap: dev \"dcp1\": not attached (no $BASE/dcp1/link)" dcp show dev dcp1
expect_eq "show without dev: every attachment, as show dev gives each" \
	"$(dcp show)" "$(dcp show dev dcp0)"
expect_eq "show -j without dev: the list of them" \
	"$(dcp -j show | jq -c '[.attachments[] | del(.counters)]')" "[$(dcp -j show dev dcp0 | jq -c 'del(.counters)')]"
# a folder whose "link" is a map: reported, and the other attachments still shown
mkdir -p "$BASE/bogus0"
if in_ns bpftool map create "$BASE/bogus0/link" type array key 4 value 4 entries 1 name bogus 2>/dev/null; then
	out=$(dcp show 2>"$RUN/err")
	expect_eq "show: a folder it cannot read is reported, exit 1, the others still shown" \
		"$? $(grep -c '^dev dcp0 ' <<<"$out") $(grep -c bogus0 "$RUN/err")" "1 1 1"
	rm -f "$BASE/bogus0/link"
else
	ok "show: a folder it cannot read # SKIP bpftool cannot pin a map here"
fi
rmdir "$BASE/bogus0"
out=$(in_ns "$DECAP" -d "$RUN/bpf/none" show)
expect_eq "show without dev, nothing attached: says so, exit 0" "$? $out" \
	"0 nothing attached (no interface under $RUN/bpf/none)"
expect_eq "... and -j gives an empty list" "$(in_ns "$DECAP" -d "$RUN/bpf/none" -j show)" '{"attachments":[]}'
out=$(dcp -j attach dev dcp0 source 198.18.0.0/99 vip 198.18.100.10 2>&1 >"$RUN/stdout")
rc=$?
expect_eq "-j: the error as JSON on stderr (as xlbctl's), exit 2, stdout empty" \
	"$rc $(jq -r .error <<<"$out") $(wc -c <"$RUN/stdout")" \
	'2 source "198.18.0.0/99": bad prefix length (0..32) 0'
expect_eq "a refused attach changed nothing" "$(dcp -j show dev dcp0 | jq -c '[.sources, .vips]')" \
	'[["198.18.0.0/24","2001:db8:1::/48"],["198.18.100.10","2001:db8:100::10"]]'
if in_ns ip link set dev dcp1 xdp obj "$BUILD/pass.bpf.o" sec xdp 2>/dev/null; then
	expect_fail "another XDP program on the interface: exit 1" 1 \
		'xlb-decap: dev "dcp1": another XDP program is attached' \
		dcp attach dev dcp1 source 198.18.0.0/24 vip 198.18.100.10
	expect_eq "the refused attach left no pins" "$(ls "$BASE")" dcp0
	in_ns ip link set dev dcp1 xdp off
else
	ok "another XDP program # SKIP cannot attach pass.bpf.o"
	ok "no pins left # SKIP"
fi

expect_fail "the default pins under ip netns exec: refused, not lost" 1 \
	"xlb-decap: no bpffs at /sys/fs/bpf (under ip netns exec there is none): mount one there, or use -d DIR on one" \
	in_ns "$DECAP" attach dev dcp1 source 198.18.0.0/24 vip 198.18.100.10
expect_eq "... and nothing attached" "$(xdp_prog dcp1)" none

# one bpffs, two namespaces with a dcp0 each: the pins are the first one's
if ip netns add "$NS2" && ip -n "$NS2" link add dcp0 type veth peer name dcp1 &&
	ip -n "$NS2" link set dcp0 up; then
	out=$(ip netns exec "$NS2" "$DECAP" -d "$BASE" show dev dcp0 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -q "holds another network namespace's link" <<<"$out"; then
		ok "another namespace's pins: show refuses (exit 1)"
	else
		not_ok "another namespace's pins: show refuses (exit 1)" "exit $rc: $out"
	fi
	ip netns exec "$NS2" "$DECAP" -d "$BASE" detach dev dcp0 >/dev/null 2>&1
	expect_eq "... and detach there leaves this one attached" "$(xdp_prog dcp0)" xlb_decap
else
	not_ok "a second namespace $NS2"
fi

# map pins without a link (an interrupted attach): detach clears them
mkdir -p "$BASE/dcp1" &&
	bpftool map pin pinned "$BASE/dcp0/decap_stats" "$BASE/dcp1/decap_stats" &&
	expect_fail "detach without a link: exit 1" 1 \
		"xlb-decap: dev \"dcp1\": not attached (no $BASE/dcp1/link)" dcp detach dev dcp1
expect_eq "... and the stray map pins are gone" "$(ls "$BASE")" dcp0

# a stats pin of another size (an older build's, with fewer slots) is no
# reason to detach: attach refills the sets, show reads the slots it has
keep=$BASE/dcp1-stats # bpffs has no rename: a second pin keeps the map
if bpftool map pin pinned "$BASE/dcp0/decap_stats" "$keep" && rm "$BASE/dcp0/decap_stats" &&
	bpftool map create "$BASE/dcp0/decap_stats" type percpu_array key 4 value 8 entries 4 name decap_stats; then
	check "a smaller stats pin: attach again" dcp attach dev dcp0 source 198.18.0.0/16 vip 198.18.100.10
	expect_eq "... the sets replaced" "$(dcp -j show dev dcp0 | jq -c '[.sources, .vips]')" \
		'[["198.18.0.0/16"],["198.18.100.10"]]'
	expect_eq "... show: every counter, those beyond its slots 0" \
		"$(dcp -j show dev dcp0 | jq -c '[[.counters | keys_unsorted[]], .counters.drop_ecn]')" \
		'[["decap","pass_not_encap","pass_fragment","pass_foreign_source","pass_not_vip","drop_malformed","drop_ecn"],0]'
	rm "$BASE/dcp0/decap_stats"
fi
if [ -e "$keep" ]; then
	bpftool map pin pinned "$keep" "$BASE/dcp0/decap_stats"
	rm "$keep"
else
	not_ok "a smaller stats pin in place of $BASE/dcp0/decap_stats"
fi

# ---- detach

check "detach" dcp detach dev dcp0
expect_eq "detached: no program on dcp0" "$(xdp_prog dcp0)" none
expect_eq "detached: the folder is gone" "$(ls "$BASE")" ""
expect_fail "detach, not attached: exit 1" 1 \
	"xlb-decap: dev \"dcp0\": not attached (no $BASE/dcp0/link)" dcp detach dev dcp0

tap_end
