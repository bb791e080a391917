#!/usr/bin/env bash
# A pinned XDP link outlives its interface: after the LB's eth0 is deleted
# and made again (same name, new ifindex), or when the configured XDP mode
# changes, a restarted xlbd must attach anew, not adopt the stale link.
# Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

V4=198.18.100.10
OTHER=
cleanup() {
	[ -n "${OPID:-}" ] && kill "$OPID" 2>/dev/null
	[ -n "$OTHER" ] && ip netns del "$OTHER" 2>/dev/null
	site_down
}
trap cleanup EXIT INT TERM

all_up() { # N
	[ "$(ctl -j backend show "$V4:80/tcp" | jq '[.backends[] | select(.state == "up")] | length')" = "$1" ]
}

# served N: N requests on new connections, each answered by a backend
served() {
	local n=$1 got
	got=$(for i in $(seq 1 "$n"); do
		ip netns exec "${SITE}client" curl -s -m 2 -H 'Connection: close' "http://$V4/"
	done | grep -c '^backend be')
	[ "$got" = "$n" ]
}

lb_link() { ip -n "${SITE}lb" -j -d link show eth0; }
ifindex() { lb_link | jq '.[0].ifindex'; }
xdp_prog() { lb_link | jq '.[0].xdp.prog.id // 0'; }
xdp_mode() { lb_link | jq -r '.[0].xdp.mode // "none"'; } # 1 native, 2 generic

# the LB's eth0 gone and back, as topo.sh makes it (p-lb: its bridge port)
recreate_eth0() {
	local lb=${SITE}lb sw=${SITE}sw
	ip -n "$lb" link del eth0
	ip -n "$lb" link add eth0 numtxqueues 2 numrxqueues 2 type veth \
		peer name p-lb netns "$sw" numtxqueues 2 numrxqueues 2
	ip -n "$lb" addr add 198.18.0.2/24 dev eth0
	ip -n "$lb" addr add 2001:db8::2/64 dev eth0 nodad
	ip -n "$lb" link set eth0 up
	ip netns exec "$lb" ethtool -K eth0 tx off >/dev/null
	ip -n "$sw" link set p-lb master br0
	ip -n "$sw" link set p-lb up
	ip -n "$sw" link set dev p-lb xdp obj "$BUILD/pass.bpf.o" sec xdp
}


site_up "xlbt-rl$$-" -n 2 --nginx
http_vip_conf "$RUN/xlb.yaml" "eth0"

# the stats map as builds before its fixed size made it (32 counters): adopted
mkdir -p "$PIN"
bpftool map create "$PIN/stats" type percpu_array key 4 value 8 entries 32 name stats
old_stats=$(bpftool -j map show pinned "$PIN/stats" | jq .id)
check_start "xlbd starts on eth0" "$RUN/xlb.yaml"
check "backends up" wait_for 15 all_up 2
check "the VIP serves" served 10
expect_eq "an older build's 32-slot stats map is adopted, not refused" \
	"$(bpftool -j map show pinned "$PIN/stats" | jq '"\(.id) \(.max_entries)"')" "\"$old_stats 32\""
check "and counts" test "$(ctl -j stats | jq .global.ct_hit)" -gt 0
expect_eq "status shows the mode the link runs in" "$(ctl -j status | jq -r .xdp_mode)" native

# a link made in native mode does not serve a generic configuration
xlbd_stop TERM
expect_eq "before: native mode" "$(xdp_mode)" 1
lines=$(wc -l <"$RUN/xlbd.log")
check_start "xlbd starts with --xdp-mode generic" "$RUN/xlb.yaml" --xdp-mode generic
check "xlbd says the native link is stale" \
	bash -c "tail -n +$((lines + 1)) '$RUN/xlbd.log' | grep 'is stale' | grep -q 'runs in native mode, generic is configured'"
expect_eq "eth0 runs xlbd's program in generic mode" "$(xdp_mode) $(xdp_prog)" "2 $(ctl -j status | jq .prog_id)"
check "the VIP serves in generic mode" wait_for 10 served 10
expect_eq "status shows generic, as the link runs" "$(ctl -j status | jq -r .xdp_mode)" generic

# and a link that serves as configured is adopted, not remade
xlbd_stop TERM
prog=$(xdp_prog)
lines=$(wc -l <"$RUN/xlbd.log")
check_start "xlbd restarts, generic mode" "$RUN/xlb.yaml" --xdp-mode generic
check "the live link is adopted" bash -c "tail -n +$((lines + 1)) '$RUN/xlbd.log' | grep -q 'adopted the running XDP on eth0'"
expect_eq "the same program runs" "$(xdp_prog) $(ctl -j status | jq .prog_id)" "$prog $prog"

# a pin named like a link that is not xlb's is left alone at start
bpftool prog load "$BUILD/pass.bpf.o" "$PIN/link_foreign"
xlbd_stop TERM
lines=$(wc -l <"$RUN/xlbd.log")
check_start "xlbd restarts with a foreign link_* pin beside its own" "$RUN/xlb.yaml" --xdp-mode generic
check "the foreign pin is still there" bpftool prog show pinned "$PIN/link_foreign"
check "xlbd says it left it in place" \
	bash -c "tail -n +$((lines + 1)) '$RUN/xlbd.log' | grep -q 'link_foreign is not an XDP link of xlb.s in this namespace: left in place'"
rm -f "$PIN/link_foreign"

# the interface deleted and made again under the pinned link
xlbd_stop TERM
old_index=$(ifindex)
recreate_eth0
new_index=$(ifindex)
echo "# eth0 was ifindex $old_index, is $new_index now; xdp on it: prog $(xdp_prog)"
check "eth0 is a new interface, with no XDP program" test "$new_index" != "$old_index" -a "$(xdp_prog)" = 0

lines=$(wc -l <"$RUN/xlbd.log")
check_start "xlbd starts again on the new eth0" "$RUN/xlb.yaml" --xdp-mode generic
check "xlbd says the pinned link was stale and attaches anew" \
	bash -c "tail -n +$((lines + 1)) '$RUN/xlbd.log' | grep 'is stale' | grep -q 'interface went away'"
expect_eq "the new eth0 runs xlbd's program (ip link)" "$(xdp_prog)" "$(ctl -j status | jq .prog_id)"
expect_eq "the pinned link is the one eth0 runs (bpftool)" \
	"$(bpftool -j link show pinned "$PIN/link_eth0" | jq .prog_id)" "$(xdp_prog)"
check "backends up again" wait_for 15 all_up 2
check "the VIP serves through the new eth0" served 20

# the same pins seen from another namespace: its eth0 (maybe the same
# ifindex) does not run the pinned link, which serves the site's LB
OTHER="xlbt-rl$$-other"
ip netns add "$OTHER"
ip -n "$OTHER" link add eth0 type veth peer name eth1
ip -n "$OTHER" link set eth0 up
ip -n "$OTHER" link set eth1 up
prog=$(xdp_prog)
# one daemon per data plane: while the site's xlbd runs, any other is refused before it
# touches a map, naming the first (here from its own namespace, and from another)
maps_before=$(bpftool -j map show | jq -c '[.[] | select(.name == "vips" or .name == "backends") | .id]')
vips_before=$(ctl -j vip show | jq -c '[.vips[].vip]')
for ns in "${SITE}lb" "$OTHER"; do
	out=$(timeout 20 ip netns exec "$ns" "$XLBD" -c "$RUN/xlb.yaml" --bpffs "$PIN" \
		--socket "$RUN/second.sock" --state-dir "$RUN/second-state" 2>&1)
	rc=$?
	check "a second xlbd on the same pins ($ns) is refused, naming the first" \
		bash -c "[ $rc -ne 0 ] && grep -q \"another xlbd (pid $XLBD_PID) serves the data plane pinned in $PIN\" <<<\"\$1\"" _ "$out"
done
expect_eq "...and the first still serves every VIP" "$(ctl -j vip show | jq -c '[.vips[].vip]')" "$vips_before"
check "...with its maps untouched" test "$(bpftool -j map show | jq -c '[.[] | select(.name == "vips" or .name == "backends") | .id]')" = "$maps_before"
out=$(ip netns exec "${SITE}lb" "$XLBD" --teardown --bpffs "$PIN" 2>&1)
rc=$?
check "--teardown under a running xlbd is refused" \
	bash -c "[ $rc -ne 0 ] && grep -q \"another xlbd (pid $XLBD_PID)\" <<<\"\$1\"" _ "$out"
check "...and the VIP still serves" served 10
# without a daemon (the data plane forwards on), another namespace's xlbd meets the link check
xlbd_stop TERM
out=$(timeout 20 ip netns exec "$OTHER" "$XLBD" -c "$RUN/xlb.yaml" --bpffs "$PIN" \
	--xdp-mode generic --socket "$RUN/other.sock" --state-dir "$RUN/other-state" 2>&1)
rc=$?
echo "# other namespace's xlbd: rc $rc, $(grep error <<<"$out" | tail -1)"
check "an xlbd of another namespace on the same pins is refused" \
	bash -c "[ $rc -ne 0 ] && grep -q \"another namespace's or interface's link\" <<<\"\$1\"" _ "$out"
expect_eq "the site's eth0 still runs the pinned program" "$(xdp_prog)" "$prog"
expect_eq "the other namespace's eth0 runs nothing" \
	"$(ip -n "$OTHER" -j -d link show eth0 | jq '.[0].xdp.prog.id // 0')" 0
check "the VIP still serves" served 10

# a mode change the driver cannot make leaves the old mode running (lo has
# no native XDP)
opin="$RUN/bpf/other"
ostart() { # MODE: xlbd on the other namespace's lo, until it serves or exits
	ip netns exec "$OTHER" "$XLBD" -c "$RUN/xlb.yaml" -i lo --xdp-mode "$1" --bpffs "$opin" \
		--socket "$RUN/other.sock" --state-dir "$RUN/other-state" >>"$RUN/other.log" 2>&1 &
	OPID=$!
	wait_for 10 bash -c "! kill -0 $OPID || $XLBCTL -s $RUN/other.sock status"
}
ip -n "$OTHER" link set lo up
ostart generic
lo_mode() { ip -n "$OTHER" -j -d link show lo | jq -r '.[0].xdp.mode // "none"'; }
expect_eq "lo runs xlb in generic mode" "$(lo_mode)" 2
kill "$OPID"; wait "$OPID" 2>/dev/null
ostart native
wait "$OPID" 2>/dev/null
orc=$?
echo "# native on lo: rc $orc, $(grep error "$RUN/other.log" | tail -1)"
check "native on lo is refused, and says generic runs again" \
	bash -c "[ $orc -ne 0 ] && grep error '$RUN/other.log' | tail -1 | grep -q 'natively.*it runs xlb in generic mode again'"
expect_eq "lo still runs xlb in generic mode" "$(lo_mode)" 2
ip netns exec "$OTHER" "$XLBD" --teardown --bpffs "$opin" >/dev/null 2>&1

site_down
SITE=
tap_end
