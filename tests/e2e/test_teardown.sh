#!/usr/bin/env bash
# xlbd --teardown removes only what is xlb's in the pin folder: the maps
# of its object and the link_* pins of its XDP program. Another tool's
# pins there (a map, a program pinned as link_*, a folder) stay, and so
# does the folder then. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

cleanup() {
	site_down
}
trap cleanup EXIT INT TERM

lb_xdp_prog() { ip -n "${SITE}lb" -j -d link show eth0 | jq '.[0].xdp.prog.id // 0'; }
pins() { ls "$PIN" | tr '\n' ' '; }
teardown() { ip netns exec "${SITE}lb" "$XLBD" --teardown --bpffs "$PIN"; }

site_up "xlbt-td$$-" -n 1
cat >"$RUN/xlb.yaml" <<CONF
interfaces: [eth0]
vips:
  - vip: "198.18.100.10:80/tcp"
    backends:
      - { address: 198.18.0.11 }
CONF

check_start "xlbd starts on eth0" "$RUN/xlb.yaml"
xlbd_stop TERM
check "after a stop, eth0 still runs xlb's program" test "$(lb_xdp_prog)" != 0
xlb_pins=$(pins)
echo "# xlb's pins: $xlb_pins"

# another tool's pins in the same folder
if ! { bpftool map create "$PIN/foreign" type array key 4 value 4 entries 1 name foreign &&
	bpftool prog load "$BUILD/pass.bpf.o" "$PIN/link_other" &&
	mkdir "$PIN/other-tool" &&
	bpftool map create "$PIN/other-tool/m" type array key 4 value 4 entries 1 name other_m; }; then
	not_ok "another tool's pins in $PIN"
	tap_end
	exit 1
fi
foreign_id=$(bpftool -j map show pinned "$PIN/foreign" | jq .id)

out=$(teardown 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
expect_eq "--teardown succeeds" "$rc" 0
expect_eq "only the other tool's pins are left" "$(pins)" "foreign link_other other-tool "
expect_eq "the foreign map is the same map, untouched" \
	"$(bpftool -j map show pinned "$PIN/foreign" | jq .id)" "$foreign_id"
check "the program pinned as link_other is still pinned" bpftool prog show pinned "$PIN/link_other"
check "the other tool's folder keeps its pin" bpftool map show pinned "$PIN/other-tool/m"
expect_eq "eth0 runs no XDP program" "$(lb_xdp_prog)" 0
check "it says the folder stays, and why" \
	grep -q "$PIN is left in place: it holds 3 entries that are not xlb's" <<<"$out"
check "it says link_other is not xlb's" grep -q "link_other is not an XDP link of xlb's" <<<"$out"

# without the other tool's pins the folder goes too, a defunct link
# (its interface deleted) with it
rm -r "$PIN/foreign" "$PIN/link_other" "$PIN/other-tool"
check_start "xlbd starts again" "$RUN/xlb.yaml" # not in check: its pid must reach xlbd_stop
xlbd_stop TERM
ip -n "${SITE}lb" link del eth0
expect_eq "eth0 gone: the pinned link is defunct" \
	"$(bpftool -j link show pinned "$PIN/link_eth0" | jq '.ifindex // 0')" 0
check "--teardown, nothing foreign" teardown
check "the folder is gone" test ! -e "$PIN"
check "--teardown again: nothing to do" teardown

site_down
SITE=
tap_end
