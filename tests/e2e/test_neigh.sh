#!/usr/bin/env bash
# Backend MACs against forged neighbours. The LB's eth0 faces the client
# and the backends; its eth1, also attached, faces another segment with an
# attacker namespace. A claim for a backend's address from eth1's segment
# must not divert the backend's traffic; a backend's MAC follows the route
# the kernel has for it; an ARP flood from new senders must not grow xlbd;
# NOARP and multicast MACs are no backend MAC. Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"

V4=198.18.100.10
ATK=
SYN_PID=
FLOOD=10000
# xlbd's RSS may grow this much over the flood (KiB): page-sized noise, not
# the flood's senders (the old cache grew by some 24 KiB over this flood)
RSS_MARGIN_KB=${RSS_MARGIN_KB:-16}

cleanup() {
	[ -n "$SYN_PID" ] && kill "$SYN_PID" 2>/dev/null
	[ -n "$ATK" ] && ip netns del "$ATK" 2>/dev/null
	site_down
}
trap cleanup EXIT INT TERM

status() { ctl -j status | jq -r ".$1"; }
field() { # VIP ADDR FIELD
	ctl -j backend show "$1" | jq -r --arg a "$2" ".backends[] | select(.address == \$a) | .$3"
}
field_is() { [ "$(field "$1" "$2" "$3")" = "$4" ]; }
all_up() { [ "$(ctl -j backend show "$V4:80/tcp" | jq '[.backends[] | select(.state == "up")] | length')" = 2 ]; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$XLBD_PID/status"; }
kernel_neighbours() { ip -n "${SITE}lb" -4 neigh show | wc -l; }

# served N: N requests on new connections, each answered by a backend
served() {
	local n=$1 got
	got=$(for _ in $(seq 1 "$n"); do
		ip netns exec "${SITE}client" curl -s -m 2 -H 'Connection: close' "http://$V4/"
	done | grep -c '^backend be')
	[ "$got" = "$n" ] || { echo "$got of $n answered"; return 1; }
}

# syn_count_start / syn_count_stop: SYNs to the VIP that reach the
# attacker's eth0, counted by a packet socket there (ready when it has
# bound). Sets SYN_PID: call it directly, never in a subshell.
syn_count_start() {
	rm -f "$RUN/syns" "$RUN/syns.ready" "$RUN/syns.stop"
	ip netns exec "$ATK" timeout 60 /usr/bin/python3 - "$V4" "$RUN/syns" <<'PY' &
import os
import select
import socket
import sys

vip, out = socket.inet_aton(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
s.bind(("eth0", 0))
open(out + ".ready", "w").close()
syns = 0
while not os.path.exists(out + ".stop"):
    if not select.select([s], [], [], 0.1)[0]:
        continue
    f = s.recv(2048)
    ihl = (f[14] & 15) * 4 if len(f) > 34 else 0
    # IPv4, TCP, to the VIP, SYN without ACK
    if f[12:14] == b"\x08\x00" and f[23] == 6 and f[30:34] == vip and \
            len(f) > 14 + ihl + 13 and f[14 + ihl + 13] & 0x12 == 0x02:
        syns += 1
open(out, "w").write("%d\n" % syns)
PY
	SYN_PID=$!
}
syn_count_stop() {
	touch "$RUN/syns.stop"
	wait "$SYN_PID"
	SYN_PID=
}

# arp SENDER_IP SENDER_MAC [COUNT]: ARP requests for the LB's eth1 address
# from the attacker's segment; the kernel learns the sender of a request for
# its own address. COUNT > 1: senders SENDER_IP + i and SENDER_MAC + i.
arp() {
	ip netns exec "$ATK" timeout 120 /usr/bin/python3 - "$@" <<'PY'
import ipaddress
import sys

from scapy.all import ARP, Ether, conf, sendp

conf.verb = 0
ip0 = int(ipaddress.IPv4Address(sys.argv[1]))
mac0 = int(sys.argv[2].replace(":", ""), 16)
count = int(sys.argv[3]) if len(sys.argv) > 3 else 1


def mac(i):
    h = "%012x" % (mac0 + i)
    return ":".join(h[j:j + 2] for j in range(0, 12, 2))


frames = [Ether(src=mac(i), dst="ff:ff:ff:ff:ff:ff") /
          ARP(op=1, hwsrc=mac(i), psrc=str(ipaddress.IPv4Address(ip0 + i)),
              hwdst="00:00:00:00:00:00", pdst="198.18.4.2")
          for i in range(count)]
sendp(frames, iface="eth0")
PY
}

site_up "xlbt-ng$$-" -n 2 --nginx --no-ipv6
LB=${SITE}lb
ATK=${SITE}atk
ip netns add "$ATK"
ip -n "$ATK" link set lo up
ip -n "$LB" link add eth1 numtxqueues 2 numrxqueues 2 type veth \
	peer name eth0 netns "$ATK" numtxqueues 2 numrxqueues 2
ip -n "$LB" addr add 198.18.4.2/24 dev eth1
ip -n "$ATK" addr add 198.18.4.66/24 dev eth0
ip -n "$LB" link set eth1 up
ip -n "$ATK" link set eth0 up
ip netns exec "$LB" ethtool -K eth1 tx off >/dev/null
# frames the LB redirects into eth1 arrive only with an XDP program on the peer
ip -n "$ATK" link set dev eth0 xdp obj "$BUILD/pass.bpf.o" sec xdp
# the kernel takes the claims whatever the host's default (the test is of xlbd)
ip netns exec "$LB" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
atk_mac=$(ip -n "$ATK" -j link show eth0 | jq -r '.[0].address')
be1_mac=$(ip -n "${SITE}be1" -j link show eth0 | jq -r '.[0].address')
be2_mac=$(ip -n "${SITE}be2" -j link show eth0 | jq -r '.[0].address')

http_vip_conf "$RUN/xlb.yaml" "eth0, eth1"

check_start "xlbd starts on eth0 and eth1" "$RUN/xlb.yaml"
check "backends up" wait_for 15 all_up
check "the VIP serves" served 10
expect_eq "xlbd holds the backends' addresses only" "$(status neigh_entries)" 2
expect_eq "no claim ignored yet" "$(status neigh_ignored)" 0

# ---- a claim for be1's address from eth1's segment ----
arp 198.18.0.11 "$atk_mac"
check "the LB's kernel took the claim on eth1 (the attack landed)" \
	wait_for 5 bash -c "ip -n '$LB' neigh show 198.18.0.11 dev eth1 | grep -q '$atk_mac'"
check "xlbd counts the claim as ignored" wait_for 5 bash -c "[ \$($XLBCTL -s $SOCK -j status | jq .neigh_ignored) -ge 1 ]"
check "and logs it" grep -q "ignored a neighbour entry for backend 198.18.0.11 at $atk_mac on eth1" "$RUN/xlbd.log"
syn_count_start
check "a SYN counter runs on the attacker's interface" wait_for 10 test -e "$RUN/syns.ready"
check "the VIP still serves: every request answered by a backend" served 20
syn_count_stop
expect_eq "the attacker's interface sees no SYN to the VIP" "$(cat "$RUN/syns")" 0
expect_eq "be1 keeps its own MAC" "$(field "$V4:80/tcp" 198.18.0.11 mac)" "$be1_mac"
expect_eq "and stays up" "$(field "$V4:80/tcp" 198.18.0.11 state)" up

# ---- a backend's MAC follows the kernel's route for it ----
ip -n "$LB" route add 198.18.0.12/32 dev eth1
check "be2 routed through eth1: xlbd follows, no MAC there yet" \
	wait_for 5 field_is "$V4:80/tcp" 198.18.0.12 reason "MAC unknown (resolving)"
ip -n "$LB" route del 198.18.0.12/32 dev eth1
check "route gone: be2 is back with its MAC on eth0" \
	wait_for 15 bash -c "[ \"\$($XLBCTL -s $SOCK -j backend show $V4:80/tcp | jq -r '.backends[] | select(.address == \"198.18.0.12\") | .state + \" \" + .mac')\" = 'up $be2_mac' ]"

# ---- NOARP and multicast link-layer addresses are no backend MAC ----
ctl vip add 198.18.100.11:80/tcp check none >/dev/null
ip -n "$LB" neigh replace 198.18.0.51 lladdr 01:00:5e:00:00:51 nud permanent dev eth0
ip -n "$LB" neigh replace 198.18.0.52 lladdr 02:00:5e:00:00:52 nud noarp dev eth0
ctl backend add 198.18.100.11:80/tcp 198.18.0.51 >/dev/null
ctl backend add 198.18.100.11:80/tcp 198.18.0.52 >/dev/null
for a in 198.18.0.51 198.18.0.52; do
	expect_eq "$a: a multicast or NOARP neighbour entry keeps it out of service" \
		"$(ctl -j backend show 198.18.100.11:80/tcp | jq -c --arg a "$a" '.backends[] | select(.address == $a) | [.state, .reason]')" \
		'["down","its neighbour entry is NOARP or not a unicast MAC"]'
done
ctl vip del 198.18.100.11:80/tcp >/dev/null
ip -n "$LB" neigh del 198.18.0.51 dev eth0
ip -n "$LB" neigh del 198.18.0.52 dev eth0
expect_eq "a removed VIP's backends are no longer held" "$(status neigh_entries)" 2

# ---- an ARP flood from $FLOOD new senders ----
# a claim with a MAC not seen before: when xlbd has counted it, it has read
# every neighbour event the kernel sent before it
marks=0
marker_seen() {
	marks=$((marks + 1))
	arp 198.18.0.11 "02:00:5e:77:00:$(printf %02x "$marks")"
	[ "$(status neigh_ignored)" -gt "$1" ]
}
entries0=$(status neigh_entries)
rss0=$(rss_kb)
start=$(date +%s)
arp 198.19.0.1 02:00:5e:80:00:00 "$FLOOD"
echo "# flood of $FLOOD sent in $(($(date +%s) - start)) s; the kernel holds $(kernel_neighbours) IPv4 neighbours"
check "xlbd has read the flood" wait_for 20 marker_seen "$(status neigh_ignored)"
entries1=$(status neigh_entries)
rss1=$(rss_kb)
echo "# neighbour entries $entries0 -> $entries1, VmRSS $rss0 -> $rss1 KiB"
expect_eq "xlbd's neighbour entries stay flat" "$entries1" "$entries0"
check "xlbd's RSS stays flat (within $RSS_MARGIN_KB KiB)" test $((rss1 - rss0)) -le "$RSS_MARGIN_KB"
check "backends still up" all_up
check "and served" served 20

site_down
SITE=
tap_end
