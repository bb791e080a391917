/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Crafted test packets: Ethernet, VLAN, IPv4/IPv6 (+options, extension headers, fragments), TCP/UDP/ICMP. */
#ifndef XLB_TEST_PKT_H
#define XLB_TEST_PKT_H

#include <stddef.h>
#include <linux/types.h>

#define PKT_MAX 2048

struct pkt_spec {
	int family;              /* 4 or 6 */
	__u8 proto;              /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, other */
	const char *saddr;
	const char *daddr;
	__u16 sport, dport;
	__u8 tcp_flags;          /* default (0) means ACK */
	__u8 smac[6], dmac[6];
	int nvlan;               /* 0..3 tags */
	__u16 vlan_tpid[3];      /* 0 means 0x8100 */
	int ip_opt_words;        /* IPv4 options, in 4-byte words (0..10) */
	int ext_hdrs;            /* IPv6 extension headers before L4 (dest options) */
	int frag;                /* 1 = first fragment (MF), 2 = non-first fragment */
	__u16 ether_type;        /* override, e.g. ARP; 0 = from family */
	int payload;             /* bytes of L4 payload */
	int df;                  /* IPv4 don't-fragment */
	__u8 tos;                /* IPv4 TOS / IPv6 traffic class */
};

/* Build the packet into buf (at least PKT_MAX). Returns its length. */
size_t pkt_build(const struct pkt_spec *s, __u8 *buf);

/* Offsets of interest in a built packet. */
size_t pkt_l3_offset(const struct pkt_spec *s);
size_t pkt_l4_offset(const struct pkt_spec *s);

/* One frame through an XDP program (BPF_PROG_TEST_RUN): the verdict, or -errno. */
int pkt_run(int prog_fd, __u32 ingress_ifindex, const __u8 *in, size_t len, __u8 *out,
	    __u32 *out_len);

/* RFC 1071: an unfolded sum of 16-bit big-endian words; the checksum, in network order. */
__u32 pkt_csum_add(__u32 sum, const void *data, size_t len);
__u16 pkt_csum_fold(__u32 sum);

/* Big-endian stores at any offset: frame headers are rarely aligned. */
void pkt_put16(__u8 *p, __u16 v);
void pkt_put32(__u8 *p, __u32 v);

/* Parse "a.b.c.d" or IPv6 into the 16-byte form the maps use (v4-mapped). */
int addr_parse16(const char *str, __be32 out[4]);
void mac_set(__u8 mac[6], __u8 last);

#endif
