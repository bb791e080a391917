#!/usr/bin/env bash
# xlbctl doctor on the LB and xlb-decap doctor on a backend, on the L3
# site (scripts/topo.sh --l3: ipip VIPs, nginx backends with xlb-decap):
# the healthy site has no finding; then each mistake that makes packets
# vanish is made, doctor names it (the exact line, its fix, exit 1), and
# undoing it clears the finding. Prints TAP; the site goes away on exit.
set -u
. "$(dirname "$0")/../lib.sh"

trap site_down EXIT INT TERM

site_up "xlbt-dr$$-" -n 2 --nginx --l3
LB=${SITE}lb
BE1=${SITE}be1
ROUTER=${SITE}router
V4=198.18.100.10
VIPS=("$V4:80/tcp" "[2001:db8:100::10]:80/tcp" "198.18.100.11:80/tcp")

# The healthy L3 site: the way to the backends carries a full client packet
# once encapsulated (1500 + 40), and the LB's interfaces take IPIP packets
# it passes to its own kernel (accept_local), as README's L3 DSR asks.
ip -n "$LB" link set eth1 mtu 1540
ip -n "$ROUTER" link set ro mtu 1540
ip netns exec "$LB" sysctl -qw net.ipv4.conf.eth0.accept_local=1 net.ipv4.conf.eth1.accept_local=1
cp "$TOP/examples/xlb-l3.yaml" "$RUN/xlb.yaml"
check_start "xlbd starts on the L3 site" "$RUN/xlb.yaml"

ups() { ctl -j backend show | jq '[.backends[] | select(.state == "up")] | length'; }
all_up() { [ "$(ups)" = 6 ]; }
wait_for 15 all_up
expect_eq "every backend is up" "$(ups)" 6

lbdoc() { ip netns exec "$LB" "$XLBCTL" -s "$SOCK" "$@" doctor; }
bedoc() { ip netns exec "$BE1" "$BUILD/xlb-decap" -d "$RUN/decap-bpf/be1" doctor "${VIPS[@]}" "$@"; }

# clean DESC CMD...: exit 0, and no line but ok ones and the summary
clean() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && ! grep -qvE '^ok |^[0-9]+ ok, 0 warn, 0 fail$' <<<"$out"; then
		ok "$desc"
	else
		not_ok "$desc" "exit $rc" "$out"
	fi
}

# finding DESC RC LINE FIX CMD...: CMD exits RC and prints LINE whole, FIX under it
finding() {
	local desc=$1 rc_want=$2 line=$3 fix=$4 out rc
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$rc_want" ] && grep -A1 -Fx -- "$line" <<<"$out" | tail -n +2 |
		grep -qFx -- "     fix: $fix"; then
		ok "$desc"
	else
		not_ok "$desc" "exit $rc (want $rc_want)" "want: $line" "want:      fix: $fix" "got:" "$out"
	fi
}

clean "xlbctl doctor: the healthy LB has no finding" lbdoc
clean "xlb-decap doctor: the healthy backend has no finding" bedoc
expect_eq "xlbctl -j doctor: a list of findings, each {check, status, subject, detail, fix}" \
	"$(lbdoc -j | jq -c '([.[] | keys] | unique), ([.[].status] | unique)')" \
	'[["check","detail","fix","status","subject"]]
["ok"]'
expect_eq "xlb-decap -j doctor: the same list" \
	"$(bedoc -j | jq -c '([.[] | keys] | unique), ([.[] | .check] | unique)')" \
	'[["check","detail","fix","status","subject"]]
["arp_announce","arp_ignore","decap","listener","loopback","rp_filter"]'

# ---- on the backend ----

ip -n "$BE1" addr del "$V4/32" dev lo
finding "the VIP removed from the backend's loopback is named" 1 \
	"fail loopback $V4: not on lo: this host does not take the VIP's packets as its own" \
	"ip addr add $V4/32 dev lo" bedoc
ip -n "$BE1" addr add "$V4/32" dev lo
clean "the VIP back on lo clears it" bedoc

ip netns exec "$BE1" sysctl -qw net.ipv4.conf.all.rp_filter=1
finding "strict rp_filter on the backend is named, for the decapsulated packets" 1 \
	"warn rp_filter eth0: rp_filter=1 (strict): decapsulated packets from a client whose route back leaves by another interface are dropped" \
	"sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 (or 2, loose)" bedoc
# a second interface the default route does not leave by: strict drops there for sure
ip -n "$BE1" link add xlbtv0 type veth peer name xlbtv1
ip -n "$BE1" addr add 198.18.9.1/24 dev xlbtv0
ip -n "$BE1" link set xlbtv1 up
ip -n "$BE1" link set xlbtv0 up
finding "strict rp_filter where the default route leaves by another interface fails" 1 \
	"fail rp_filter xlbtv0: rp_filter=1 (strict) and the default route leaves by eth0: packets to the VIPs (L2 DSR) from clients arriving on xlbtv0 are dropped" \
	"sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.xlbtv0.rp_filter=0 (or 2, loose)" bedoc
ip -n "$BE1" link del xlbtv0
ip netns exec "$BE1" sysctl -qw net.ipv4.conf.all.rp_filter=0
clean "rp_filter off clears it" bedoc

# eth0 takes every IPv4 VIP tunnelled (xlb-decap): ARP for them matters there only on-link
TUN="; the VIPs come tunnelled to eth0 (xlb-decap): this matters only where the segment sends a VIP's traffic on-link (L2 DSR)"
ip netns exec "$BE1" sysctl -qw net.ipv4.conf.all.arp_ignore=0
finding "arp_ignore 0 where the VIPs come tunnelled warns" 1 \
	"warn arp_ignore eth0: arp_ignore=0: eth0 answers ARP for the VIPs on lo, so the segment may send VIP traffic here, past the LB$TUN" \
	"sysctl -w net.ipv4.conf.all.arp_ignore=1" bedoc
finding "and fails with an IPv4 VIP xlb-decap does not take (L2 DSR)" 1 \
	"fail arp_ignore eth0: arp_ignore=0: eth0 answers ARP for the VIPs on lo, so the segment may send VIP traffic here, past the LB" \
	"sysctl -w net.ipv4.conf.all.arp_ignore=1" bedoc 198.18.100.12
ip netns exec "$BE1" sysctl -qw net.ipv4.conf.all.arp_ignore=1
ip netns exec "$BE1" sysctl -qw net.ipv4.conf.all.arp_announce=0
finding "arp_announce 0 where the VIPs come tunnelled warns" 1 \
	"warn arp_announce eth0: arp_announce=0: ARP requests from eth0 may give a VIP as their source, and the segment learns this host's MAC for it$TUN" \
	"sysctl -w net.ipv4.conf.all.arp_announce=2" bedoc
ip -n "$BE1" link add xlbtv0 type veth peer name xlbtv1
ip -n "$BE1" addr add 198.18.9.1/24 dev xlbtv0
ip -n "$BE1" link set xlbtv1 up
ip -n "$BE1" link set xlbtv0 up
finding "and fails on an interface without xlb-decap" 1 \
	"fail arp_announce xlbtv0: arp_announce=0: ARP requests from xlbtv0 may give a VIP as their source, and the segment learns this host's MAC for it" \
	"sysctl -w net.ipv4.conf.all.arp_announce=2" bedoc
ip -n "$BE1" link del xlbtv0
ip netns exec "$BE1" sysctl -qw net.ipv4.conf.all.arp_announce=2
clean "arp_ignore 1 and arp_announce 2 clear them" bedoc

# more interfaces with IPv4 than doctor checks: it says how many it left out
for i in $(seq 1 35); do
	echo "link add xlbtw$i type veth peer name xlbtx$i"
	echo "addr add 198.18.20.$i/32 dev xlbtw$i"
	echo "addr add 198.18.21.$i/32 dev xlbtx$i"
	echo "link set xlbtw$i up"
	echo "link set xlbtx$i up"
done | ip -n "$BE1" -batch -
finding "interfaces past the 64 checked are counted" 1 \
	"warn sysctls interfaces: 71 interfaces with IPv4, 7 not checked (the first 64 are)" \
	"sysctl net.ipv4.conf.IF (arp_ignore, arp_announce, rp_filter) on the others, with all's" bedoc
for i in $(seq 1 35); do echo "link del xlbtw$i"; done | ip -n "$BE1" -batch -
clean "and gone with them" bedoc
# so are attachments' folders past the 64 looked at
for i in $(seq 1 70); do mkdir "$RUN/decap-bpf/be1/xlbtf$i"; done
finding "attachment folders past the 64 looked at are counted" 1 \
	"warn decap $RUN/decap-bpf/be1: 71 interfaces' folders here, 7 not looked at (at most 64): their attachments and VIPs are not checked" \
	"xlb-decap doctor dev IF checks one" bedoc
for i in $(seq 1 70); do rmdir "$RUN/decap-bpf/be1/xlbtf$i"; done
clean "and gone with them" bedoc

bash "$TOP/scripts/topo.sh" nginx-stop -p "$SITE" 1
finding "the backend's listener stopped is named" 1 \
	"fail listener $V4:80/tcp: nothing listens on port 80: connections to the VIP are refused" \
	"start the service, bound to the VIP or to 0.0.0.0 or [::]" bedoc
be1_down() { ctl -j backend show "$V4:80/tcp" | jq -e '.backends[] | select(.address == "198.18.2.11" and .state == "down")'; }
wait_for 10 be1_down
finding "and xlbctl doctor names the backend xlbd took down" 1 \
	"warn backend 198.18.2.11 of $V4:80/tcp: down: failing health checks (last check: connect refused)" \
	"xlb-decap doctor on the backend; xlbctl backend show VIP" lbdoc
bash "$TOP/scripts/topo.sh" nginx-start -p "$SITE" 1
clean "the listener back clears it" bedoc
wait_for 15 all_up
clean "and xlbctl doctor's finding once the backend is up" lbdoc

ip netns exec "$BE1" "$BUILD/xlb-decap" -d "$RUN/decap-bpf/be1" detach dev eth0
finding "the decap program detached is named (dev given)" 1 \
	"fail decap eth0: not attached (no $RUN/decap-bpf/be1/eth0/link): tunnelled packets reach the stack encapsulated and are dropped" \
	"xlb-decap attach dev eth0 source LB_PREFIX vip VIP ..." bedoc dev eth0
ip netns exec "$BE1" "$BUILD/xlb-decap" -d "$RUN/decap-bpf/be1" attach dev eth0 \
	source 198.18.3.2 source 2001:db8:3::/64 vip "$V4" vip 198.18.100.11 vip 2001:db8:100::10
finding "a VIP given but not among the attachment's VIPs is named" 1 \
	"warn decap 2001:db8:100::11: not among the VIPs of xlb-decap's attachments: its tunnelled packets pass undecapsulated (pass_not_vip)" \
	"xlb-decap attach dev IF source ... vip VIP (give every VIP: attach replaces them)" \
	bedoc dev eth0 2001:db8:100::11
ip netns exec "$BE1" "$BUILD/xlb-decap" -d "$RUN/decap-bpf/be1" attach dev eth0 \
	source 198.18.3.2 source 2001:db8:3::/64 vip "$V4" vip 198.18.100.11 vip 2001:db8:100::10 \
	vip 2001:db8:100::11
clean "attached again with every VIP clears it" bedoc dev eth0 2001:db8:100::11
out=$(ip netns exec "$BE1" "$BUILD/xlb-decap" -d "$RUN/decap-bpf/be1" doctor 2>&1)
rc=$?
expect_eq "without arguments the attachment's 4 VIPs are checked" \
	"$(grep -c '^ok   loopback' <<<"$out") $rc" "4 0"

# ---- on the LB ----

ip -n "$LB" link set eth1 mtu 1300
finding "an MTU below what IP6IP6 needs fails" 1 \
	"fail mtu 2001:db8:2::11 of [2001:db8:100::10]:80/tcp: eth1 MTU 1300 less 40 bytes of IPv6 outer header is below the IPv6 minimum of 1280: a packet too big for it is dropped, not answered (drop_too_big), and the client's connection stalls" \
	"ip link set dev eth1 mtu 1540 (and every link on the way), or lower the clients' MTU" lbdoc
finding "and below a full IPIP packet warns" 1 \
	"warn mtu 198.18.2.11 of $V4:80/tcp: eth1 MTU 1300: a 1500-byte packet needs 1520 once encapsulated: clients depend on the LB's too-big answers, and stall where ICMP is filtered" \
	"ip link set dev eth1 mtu 1520 (and every link on the way), or lower the clients' MTU" lbdoc
ip -n "$LB" link set eth1 mtu 1540
clean "the MTU back clears them" lbdoc

ip netns exec "$LB" sysctl -qw net.ipv4.conf.eth0.rp_filter=1
finding "strict rp_filter on the LB, where IPIP needs it off, is named" 1 \
	"warn rp_filter eth0: rp_filter=1 (strict): an IPIP packet passed to the kernel while its next hop is resolved (pass_no_neigh) fails the reverse-path check of its local source and is dropped" \
	"sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0" lbdoc
ip netns exec "$LB" sysctl -qw net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth0.accept_local=0
finding "accept_local off is named" 1 \
	"warn accept_local eth0: accept_local=0: an IPIP packet passed to the kernel while its next hop is resolved (pass_no_neigh) has a local source and is dropped as a martian" \
	"sysctl -w net.ipv4.conf.eth0.accept_local=1" lbdoc
ip netns exec "$LB" sysctl -qw net.ipv4.conf.eth0.accept_local=1
clean "rp_filter off and accept_local on clear them" lbdoc

ip netns exec "$LB" sysctl -qw net.ipv6.conf.all.forwarding=0
finding "IPv6 forwarding off is named" 1 \
	"fail forwarding net.ipv6.conf.eth0.forwarding: off on eth0: the FIB helper answers nothing for packets arriving there, so each one of an ipip VIP with IPv6 backends is dropped (drop_no_route)" \
	"sysctl -w net.ipv6.conf.all.forwarding=1" lbdoc
# the devices on again, all off: the kernel does not forward what XDP passes it
ip netns exec "$LB" sysctl -qw net.ipv6.conf.eth0.forwarding=1 net.ipv6.conf.eth1.forwarding=1
finding "IPv6 all.forwarding off with the devices on warns" 1 \
	"warn forwarding net.ipv6.conf.all.forwarding: off, though on for eth0: a packet passed to the kernel while its next hop is resolved (pass_no_neigh) is not forwarded" \
	"sysctl -w net.ipv6.conf.all.forwarding=1" lbdoc
ip netns exec "$LB" sysctl -qw net.ipv6.conf.all.forwarding=1
clean "forwarding on clears it" lbdoc

# all on, one ingress device off: the FIB helper reads the device's value
ip netns exec "$LB" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv4.conf.eth0.forwarding=0
finding "IPv4 forwarding off on one interface, all on, is named" 1 \
	"fail forwarding net.ipv4.conf.eth0.forwarding: off on eth0: the FIB helper answers nothing for packets arriving there, so each one of an ipip VIP with IPv4 backends is dropped (drop_no_route)" \
	"sysctl -w net.ipv4.conf.eth0.forwarding=1" lbdoc
ip netns exec "$LB" sysctl -qw net.ipv4.conf.eth0.forwarding=1
ip netns exec "$LB" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.eth1.forwarding=0
finding "IPv6 forwarding off on one interface, all on, is named" 1 \
	"fail forwarding net.ipv6.conf.eth1.forwarding: off on eth1: the FIB helper answers nothing for packets arriving there, so each one of an ipip VIP with IPv6 backends is dropped (drop_no_route)" \
	"sysctl -w net.ipv6.conf.eth1.forwarding=1" lbdoc
ip netns exec "$LB" sysctl -qw net.ipv6.conf.eth1.forwarding=1
clean "the devices' forwarding on clears them" lbdoc

# a backend whose next hop nobody answers: an l2dsr one on eth1's segment, where no host is
ctl vip add 198.18.100.12:80/tcp check none
ctl backend add 198.18.100.12:80/tcp 198.18.3.99
neigh_failed() { lbdoc | grep -q 'neigh 198.18.3.99 .*(failed)'; }
wait_for 10 neigh_failed
finding "a backend's next hop that does not answer ARP is named" 1 \
	"fail neigh 198.18.3.99 of 198.18.100.12:80/tcp: next hop 198.18.3.99 on eth1 does not answer ARP/ND (failed): its packets are not sent" \
	"ping 198.18.3.99 from the LB; ip neigh show 198.18.3.99 on eth1" lbdoc
finding "and so is its VIP with no backend in service" 1 \
	"fail vip 198.18.100.12:80/tcp: no backend in service: its packets are dropped (drop_no_backend)" \
	"xlbctl backend show VIP gives each backend's reason; xlb-decap doctor on the backends" lbdoc
ctl vip delete 198.18.100.12:80/tcp
clean "the VIP removed clears them" lbdoc

out=$(ip netns exec "$LB" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$XLBCTL" -s "$SOCK" doctor 2>&1)
rc=$?
expect_eq "xlbctl doctor without permission on the socket: exit 2, and says so" \
	"$rc $(head -1 <<<"$out" | grep -o 'permission denied')" "2 permission denied"

# generic XDP: the mode the link really runs in, and GRO ahead of it
xlbd_stop
check_start "xlbd restarts in generic XDP mode" "$RUN/xlb.yaml" --xdp-mode generic
wait_for 15 all_up
finding "generic XDP is named, with the fix" 1 \
	"warn xdp eth0: generic XDP (skb mode): the program runs after the kernel has built an skb and merged segments (GRO), much slower than native" \
	"xdp_mode: native in the config (or --xdp-mode native), then restart xlbd, if the driver of eth0 has native XDP" lbdoc
ip netns exec "$LB" ethtool -K eth0 gro on >/dev/null
finding "GRO on ahead of generic XDP is named" 1 \
	"warn offload eth0: GRO on with generic XDP: the program sees merged segments with partial checksums and forwards them as one packet" \
	"ethtool -K eth0 gro off (or native XDP)" lbdoc
ip netns exec "$LB" ethtool -K eth0 gro off >/dev/null
out=$(lbdoc)
expect_eq "GRO off clears that one" "$(grep -c '^warn offload' <<<"$out")" 0
xlbd_stop
check_start "xlbd restarts native" "$RUN/xlb.yaml"
wait_for 15 all_up
clean "native XDP clears it" lbdoc

xlbd_stop
finding "no daemon: exit 2, and the reason" 2 \
	"fail daemon $SOCK: daemon not running (connect $SOCK: No such file or directory)" \
	"start xlbd (systemctl start xlbd), or name its socket with -s SOCKET" lbdoc

tap_end
