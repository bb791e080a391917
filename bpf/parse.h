/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet parsing for the XDP data plane. Every header is taken through a
 * cursor that checks it lies inside the packet before it is read.
 *
 * The rule for what is not ours: until the destination address is known to
 * be a VIP address, a packet is passed untouched (too short, not IP, not a
 * VIP). Once it is, a packet that cannot be parsed safely is dropped, and
 * every outcome is counted under its reason (enum xlb_stat).
 */
#ifndef XLB_PARSE_H
#define XLB_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../maps/xlb_maps.h"

#define XLB_PARSE_OK XLB_STAT_SLOTS /* not a stat: go on to forwarding */

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#define XLB_IP_DF 0x4000
#define XLB_IP_MF 0x2000
#define XLB_IP_OFFSET 0x1fff
#define XLB_IP6_OFFSET 0xfff8 /* fragment offset bits of frag_off */

struct cursor {
	void *pos;
	void *end;
};

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct ipv6_ext_hdr {
	__u8 nexthdr;
	__u8 hdrlen; /* in 8-byte units, not counting the first 8 */
	__u8 data[6];
};

struct ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

struct packet {
	struct flow_key flow;
	struct ethhdr *eth;
	__u32 len;     /* whole frame */
	__u16 l3_len;  /* IP packet as its header gives it (no link padding) */
	__be16 ip_id;  /* IPv4 identification, copied to an IPIP outer header */
	__u8 l2_len;   /* Ethernet plus VLAN tags: 14, 18 or 22 */
	__u8 family;   /* 4 or 6 */
	__u8 tos;      /* IPv4 TOS or IPv6 traffic class */
	__u8 df;       /* IPv4 don't-fragment */
	__u8 fragment; /* ports unknown or not used: hash on addresses only */
	__u8 tcp_flags;
	__u8 icmp_error; /* too-big error: flow is the quoted packet's tuple, reversed */
	__u8 answered;   /* turned into an ICMP answer to the client */
};

#define XLB_TCP_FIN 0x01
#define XLB_TCP_SYN 0x02
#define XLB_TCP_RST 0x04
#define XLB_TCP_ACK 0x10

/* Return the header at the cursor and step over it, or NULL if it is cut. */
static __always_inline void *cursor_pull(struct cursor *c, __u32 len)
{
	void *hdr = c->pos;

	if (c->pos + len > c->end)
		return NULL;
	c->pos += len;
	return hdr;
}

#define PULL(c, type) ((type *)cursor_pull(c, sizeof(type)))

static __always_inline void addr_from_ipv4(__be32 out[4], __be32 v4)
{
	out[0] = 0;
	out[1] = 0;
	out[2] = bpf_htonl(0xffff);
	out[3] = v4;
}

static __always_inline void addr_from_ipv6(__be32 out[4],
					   const struct in6_addr *a)
{
	out[0] = a->in6_u.u6_addr32[0];
	out[1] = a->in6_u.u6_addr32[1];
	out[2] = a->in6_u.u6_addr32[2];
	out[3] = a->in6_u.u6_addr32[3];
}

/* Ethernet and up to two 802.1Q/802.1ad tags. Returns the ethertype or 0 if cut. */
static __always_inline __be16 parse_eth(struct cursor *c, struct packet *pkt)
{
	struct vlan_hdr *vlan;
	__be16 proto;
	int i;

	pkt->eth = PULL(c, struct ethhdr);
	if (!pkt->eth)
		return 0;
	proto = pkt->eth->h_proto;
#pragma unroll
	for (i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		vlan = PULL(c, struct vlan_hdr);
		if (!vlan)
			return 0;
		proto = vlan->encap_proto;
	}
	pkt->l2_len = c->pos - (void *)pkt->eth;
	return proto;
}

/*
 * IPv4 from the point the destination is known to be a VIP address.
 * *l4_len is what the IP header says follows it.
 */
static __always_inline __u32 parse_ipv4_rest(struct cursor *c, struct iphdr *iph,
					    struct packet *pkt, __u32 *l4_len)
{
	__u32 hdr_len, tot_len;

	if (iph->version != 4)
		return XLB_STAT_DROP_BAD_VERSION;
	hdr_len = iph->ihl * 4;
	if (hdr_len < sizeof(*iph))
		return XLB_STAT_DROP_BAD_IHL;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < hdr_len)
		return XLB_STAT_DROP_BAD_LEN;
	if ((void *)iph + tot_len > c->end)
		return XLB_STAT_DROP_L3_TRUNC;
	/* options: step over them */
	if (!cursor_pull(c, hdr_len - sizeof(*iph)))
		return XLB_STAT_DROP_L3_TRUNC;
	*l4_len = tot_len - hdr_len;
	pkt->flow.proto = iph->protocol;
	pkt->family = 4;
	pkt->l3_len = tot_len;
	pkt->tos = iph->tos;
	pkt->ip_id = iph->id;
	pkt->df = !!(iph->frag_off & bpf_htons(XLB_IP_DF));
	if (iph->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET))
		pkt->fragment = 1;
	return XLB_PARSE_OK;
}

static __always_inline int ipv6_is_ext_hdr(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_FRAGMENT;
}

/* IPv6 from the point the destination is known to be a VIP address. */
static __always_inline __u32 parse_ipv6_rest(struct cursor *c, struct ipv6hdr *ip6,
					    struct packet *pkt, __u32 *l4_len)
{
	struct ipv6_ext_hdr *ext;
	struct ipv6_frag *frag;
	__u32 payload_len, ext_len, consumed = 0;
	__u8 nexthdr;
	int i;

	if (ip6->version != 6)
		return XLB_STAT_DROP_BAD_VERSION;
	payload_len = bpf_ntohs(ip6->payload_len);
	if ((void *)(ip6 + 1) + payload_len > c->end)
		return XLB_STAT_DROP_L3_TRUNC;
	pkt->family = 6;
	pkt->l3_len = sizeof(*ip6) + payload_len;
	pkt->tos = (bpf_ntohs(*(__be16 *)ip6) >> 4) & 0xff;
	nexthdr = ip6->nexthdr;
#pragma unroll
	for (i = 0; i < XLB_MAX_EXT_HDRS; i++) {
		if (!ipv6_is_ext_hdr(nexthdr))
			break;
		if (nexthdr == IPPROTO_FRAGMENT) {
			frag = PULL(c, struct ipv6_frag);
			if (!frag)
				return XLB_STAT_DROP_EXT_TRUNC;
			/* what follows may be payload: stop, ports are not used */
			pkt->fragment = 1;
			pkt->flow.proto = frag->nexthdr;
			*l4_len = 0;
			return XLB_PARSE_OK;
		}
		ext = PULL(c, struct ipv6_ext_hdr);
		if (!ext)
			return XLB_STAT_DROP_EXT_TRUNC;
		ext_len = (ext->hdrlen + 1) * 8;
		if (!cursor_pull(c, ext_len - sizeof(*ext)))
			return XLB_STAT_DROP_EXT_TRUNC;
		consumed += ext_len;
		nexthdr = ext->nexthdr;
	}
	if (ipv6_is_ext_hdr(nexthdr))
		return XLB_STAT_DROP_EXT_LIMIT;
	if (consumed > payload_len)
		return XLB_STAT_DROP_EXT_TRUNC;
	*l4_len = payload_len - consumed;
	pkt->flow.proto = nexthdr;
	return XLB_PARSE_OK;
}

#define XLB_ICMP_DEST_UNREACH 3
#define XLB_ICMP_FRAG_NEEDED 4
#define XLB_ICMPV6_PKT_TOOBIG 2

/*
 * A too-big error sent to a VIP address quotes a packet a backend sent
 * (VIP -> client). Its tuple, reversed, is the flow's own tuple: the error
 * then takes the flow's way to the backend, which must lower its path MTU.
 */
static __always_inline __u32 parse_icmp_quote(struct cursor *c, struct packet *pkt,
					      void *icmp, __u32 l4_len)
{
	__be32 client[4], vip[4];
	struct ipv6_ext_hdr *ext;
	struct ipv6hdr *ip6;
	struct iphdr *iph;
	__be16 *ports;
	__u8 proto;
	int i;

	if (pkt->flow.proto == IPPROTO_ICMP) {
		iph = PULL(c, struct iphdr);
		if (!iph)
			return XLB_STAT_DROP_ICMP_TRUNC;
		if (iph->version != 4 || iph->ihl < 5)
			return XLB_STAT_DROP_ICMP_INNER;
		if (!cursor_pull(c, iph->ihl * 4 - sizeof(*iph)))
			return XLB_STAT_DROP_ICMP_TRUNC;
		/* a later fragment carries no ports: not ours to route */
		if (iph->frag_off & bpf_htons(XLB_IP_OFFSET))
			return XLB_STAT_ICMP;
		proto = iph->protocol;
		addr_from_ipv4(client, iph->daddr);
		addr_from_ipv4(vip, iph->saddr);
	} else {
		ip6 = PULL(c, struct ipv6hdr);
		if (!ip6)
			return XLB_STAT_DROP_ICMP_TRUNC;
		if (ip6->version != 6)
			return XLB_STAT_DROP_ICMP_INNER;
		proto = ip6->nexthdr;
		addr_from_ipv6(client, &ip6->daddr);
		addr_from_ipv6(vip, &ip6->saddr);
		/* the quoted packet's own extension headers, as parse_ipv6_rest takes them */
#pragma unroll
		for (i = 0; i < XLB_MAX_EXT_HDRS; i++) {
			if (!ipv6_is_ext_hdr(proto))
				break;
			ext = PULL(c, struct ipv6_ext_hdr);
			if (!ext)
				return XLB_STAT_DROP_ICMP_TRUNC;
			/* a later fragment carries no ports */
			if (proto == IPPROTO_FRAGMENT &&
			    (((struct ipv6_frag *)ext)->frag_off & bpf_htons(XLB_IP6_OFFSET)))
				return XLB_STAT_ICMP;
			if (proto != IPPROTO_FRAGMENT &&
			    !cursor_pull(c, (ext->hdrlen + 1) * 8 - sizeof(*ext)))
				return XLB_STAT_DROP_ICMP_TRUNC;
			proto = ext->nexthdr;
		}
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return XLB_STAT_ICMP;
	ports = cursor_pull(c, 4);
	if (!ports || c->pos - icmp > l4_len)
		return XLB_STAT_DROP_ICMP_TRUNC;
	/* the error was sent to the quoted packet's source, which must be this VIP */
	if ((vip[0] ^ pkt->flow.daddr[0]) | (vip[1] ^ pkt->flow.daddr[1]) |
	    (vip[2] ^ pkt->flow.daddr[2]) | (vip[3] ^ pkt->flow.daddr[3]))
		return XLB_STAT_DROP_ICMP_INNER;
	__builtin_memcpy(pkt->flow.saddr, client, sizeof(client));
	pkt->flow.proto = proto;
	pkt->flow.sport = ports[1];
	pkt->flow.dport = ports[0];
	pkt->icmp_error = 1;
	return XLB_PARSE_OK;
}

static __always_inline __u32 parse_l4(struct cursor *c, struct packet *pkt,
				      __u32 l4_len)
{
	struct tcphdr *tcp;
	struct udphdr *udp;
	__u32 len;

	if (pkt->flow.proto == IPPROTO_TCP) {
		tcp = PULL(c, struct tcphdr);
		if (!tcp || l4_len < sizeof(*tcp))
			return XLB_STAT_DROP_L4_TRUNC;
		len = tcp->doff * 4;
		if (len < sizeof(*tcp) || len > l4_len)
			return XLB_STAT_DROP_BAD_TCP_DOFF;
		pkt->flow.sport = tcp->source;
		pkt->flow.dport = tcp->dest;
		pkt->tcp_flags = ((__u8 *)tcp)[13];
		return XLB_PARSE_OK;
	}
	if (pkt->flow.proto == IPPROTO_UDP) {
		udp = PULL(c, struct udphdr);
		if (!udp || l4_len < sizeof(*udp))
			return XLB_STAT_DROP_L4_TRUNC;
		len = bpf_ntohs(udp->len);
		if (len < sizeof(*udp) || len > l4_len)
			return XLB_STAT_DROP_BAD_UDP_LEN;
		pkt->flow.sport = udp->source;
		pkt->flow.dport = udp->dest;
		return XLB_PARSE_OK;
	}
	if (pkt->flow.proto == IPPROTO_ICMP || pkt->flow.proto == IPPROTO_ICMPV6) {
		/* type, code, checksum and 4 more bytes */
		__u8 *icmp = cursor_pull(c, 8);

		if (!icmp || l4_len < 8)
			return XLB_STAT_DROP_L4_TRUNC;
		/* an error quotes its own family's packet: ICMPv6 in IPv4 is not one */
		if (pkt->flow.proto != (pkt->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6))
			return XLB_STAT_ICMP;
		if (pkt->flow.proto == IPPROTO_ICMP ?
			    icmp[0] == XLB_ICMP_DEST_UNREACH && icmp[1] == XLB_ICMP_FRAG_NEEDED :
			    icmp[0] == XLB_ICMPV6_PKT_TOOBIG)
			return parse_icmp_quote(c, pkt, icmp, l4_len);
		return XLB_STAT_ICMP;
	}
	return XLB_STAT_PASS_VIP_NO_PORT;
}

#endif /* XLB_PARSE_H */
