#!/usr/bin/python3
"""Send malformed packets at a VIP and print, as JSON, how many of each
kind went out, keyed by the xlb counter each kind must land in.

usage: malformed.py IFACE LB_MAC VIP4 VIP6 PORT ROUNDS [random]

Without "random", each kind lands in one known counter. With it, only
random bytes after a valid Ethernet header, addressed to the VIP, whose
counters depend on the bytes.
"""
import json
import random
import sys

from scapy.all import IP, TCP, UDP, Ether, IPv6, IPv6ExtHdrDestOpt, \
    IPv6ExtHdrHopByHop, IPv6ExtHdrFragment, Raw, conf, get_if_hwaddr, sendp

conf.verb = 0
iface, lb_mac, vip4, vip6, port, rounds = sys.argv[1:7]
port, rounds = int(port), int(rounds)
random_only = len(sys.argv) > 7 and sys.argv[7] == "random"
rng = random.Random(4242)  # the same packets every run
src4, src6 = "198.18.0.1", "2001:db8::1"
# the source MAC given: scapy would leave 00:00:.. for a frame it cannot
# route, and a bridge drops frames from an invalid source
me = get_if_hwaddr(iface)
eth4 = Ether(src=me, dst=lb_mac, type=0x0800)
eth6 = Ether(src=me, dst=lb_mac, type=0x86DD)
sent = {}
frames = []


def add(counter, frame):
    sent[counter] = sent.get(counter, 0) + 1
    frames.append(frame)


def tcp4(**kw):
    return IP(src=src4, dst=vip4, **kw) / TCP(sport=rng.randrange(1024, 65535),
                                             dport=port, flags="A") / Raw(b"x" * 20)


def fixed_round():
    good4 = bytes(eth4 / tcp4())
    # IP total length says more than the frame holds
    add("drop_malformed_l3_trunc", good4[:14 + 20 + 8])
    # IHL below 5
    b = bytearray(good4)
    b[14] = 0x43
    add("drop_malformed_bad_ihl", bytes(b))
    # version 6 in an IPv4 frame
    b = bytearray(good4)
    b[14] = 0x65
    add("drop_malformed_bad_version", bytes(b))
    # TCP data offset below 5, and beyond the segment
    add("drop_malformed_bad_tcp_doff", bytes(eth4 / IP(src=src4, dst=vip4) /
                                             TCP(dport=port, dataofs=2) / Raw(b"y" * 8)))
    add("drop_malformed_bad_tcp_doff", bytes(eth4 / IP(src=src4, dst=vip4) /
                                             TCP(dport=port, dataofs=15) / Raw(b"y" * 8)))
    # IP length that leaves no room for the TCP header
    add("drop_malformed_l4_trunc", bytes(eth4 / IP(src=src4, dst=vip4, proto=6, len=30) /
                                         Raw(b"z" * 10)))
    # fragments: the VIP takes them (first and later), hashed on addresses
    add("fragment", bytes(eth4 / IP(src=src4, dst=vip4, flags="MF", id=rng.randrange(65536)) /
                          TCP(dport=port) / Raw(b"f" * 64)))
    add("fragment", bytes(eth4 / IP(src=src4, dst=vip4, proto=6, frag=100, id=rng.randrange(65536)) /
                          Raw(b"f" * 64)))
    # IPv6: one extension header too many, and one that runs off the end
    chain = IPv6ExtHdrHopByHop()
    for _ in range(4):
        chain = chain / IPv6ExtHdrDestOpt()
    add("drop_malformed_ext_limit", bytes(eth6 / IPv6(src=src6, dst=vip6) / chain /
                                          TCP(dport=port)))
    b = bytearray(bytes(eth6 / IPv6(src=src6, dst=vip6) / IPv6ExtHdrDestOpt() /
                        TCP(dport=port)))
    b[14 + 40 + 1] = 200  # header length far past the packet
    add("drop_malformed_ext_trunc", bytes(b))
    add("fragment", bytes(eth6 / IPv6(src=src6, dst=vip6) /
                          IPv6ExtHdrFragment(nh=6, offset=100, id=rng.randrange(1 << 32)) /
                          Raw(b"f" * 64)))
    # UDP length beyond the datagram: malformed, on a VIP address
    add("drop_malformed_bad_udp_len", bytes(eth4 / IP(src=src4, dst=vip4) /
                                  UDP(dport=port, len=200) / Raw(b"u" * 8)))


def random_round():
    """Random bytes after a valid Ethernet header, addressed to the VIP."""
    for _ in range(4):
        junk = bytearray(rng.randbytes(rng.randrange(20, 80)))
        junk[0] = 0x45 if rng.random() < 0.5 else rng.randrange(256)
        junk[16:20] = bytes(int(x) for x in vip4.split("."))
        add("random", bytes(eth4) + bytes(junk))


for _ in range(rounds):
    random_round() if random_only else fixed_round()

sendp([Raw(f) for f in frames], iface=iface)
sent["total"] = len(frames)
print(json.dumps(sent, sort_keys=True))
