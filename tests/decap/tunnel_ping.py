#!/usr/bin/python3
"""Send one ping to a VIP the way a load balancer forwards it for L3 DSR,
encapsulated, and wait for the backend's plain answer from the VIP.

usage: tunnel_ping.py IFACE DST_MAC OUTER_SRC OUTER_DST CLIENT VIP [TIMEOUT]

Sends on IFACE to DST_MAC an IPv4 or IPv6 packet from OUTER_SRC to
OUTER_DST carrying an echo request from CLIENT to VIP (IPIP, 6in4, 4in6
or IP6IP6, by the families). Exit 0 and print "reply" when the echo reply
from VIP to CLIENT comes back on IFACE, 1 after TIMEOUT seconds (2).
Standard library only: raw AF_PACKET sockets.
"""
import ipaddress
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x4242, 0x4000,
                      64, proto, 0, src.packed, dst.packed)
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def ipv6(src, dst, nexthdr, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nexthdr, 64,
                       src.packed, dst.packed) + payload


def echo_request(client, vip, ident):
    data = b"xlb-decap" * 4
    if vip.version == 4:
        icmp = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + data
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        return ipv4(client, vip, socket.IPPROTO_ICMP, icmp)
    icmp = struct.pack("!BBHHH", 128, 0, 0, ident, 1) + data
    pseudo = client.packed + vip.packed + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
    return ipv6(client, vip, 58, icmp)


def is_reply(frame, client, vip, ident):
    etype = struct.unpack("!H", frame[12:14])[0]
    l3 = frame[14:]
    if vip.version == 4 and etype == 0x0800 and len(l3) >= 28:
        ihl = (l3[0] & 0xF) * 4
        icmp = l3[ihl:]
        return (l3[9] == 1 and l3[12:16] == vip.packed and l3[16:20] == client.packed
                and icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident)
    if vip.version == 6 and etype == 0x86DD and len(l3) >= 48:
        icmp = l3[40:]
        return (l3[6] == 58 and l3[8:24] == vip.packed and l3[24:40] == client.packed
                and icmp[0] == 129 and struct.unpack("!H", icmp[4:6])[0] == ident)
    return False


def main():
    iface, dst_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
    outer_src, outer_dst, client, vip = (ipaddress.ip_address(a) for a in sys.argv[3:7])
    timeout = float(sys.argv[7]) if len(sys.argv) > 7 else 2.0
    ident = os.getpid() & 0xFFFF

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    src_mac = sock.getsockname()[4]
    inner = echo_request(client, vip, ident)
    proto = 4 if vip.version == 4 else 41
    if outer_src.version == 4:
        outer, etype = ipv4(outer_src, outer_dst, proto, inner), 0x0800
    else:
        outer, etype = ipv6(outer_src, outer_dst, proto, inner), 0x86DD
    sock.send(dst_mac + src_mac + struct.pack("!H", etype) + outer)

    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return 1
        frame, addr = sock.recvfrom(65535)
        if addr[2] != PACKET_OUTGOING and is_reply(frame, client, vip, ident):
            print("reply")
            return 0


if __name__ == "__main__":
    sys.exit(main())
