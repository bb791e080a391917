/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header surgery for L3 DSR: push an outer IPv4/IPv6 header after the link
 * header, or turn a packet into the ICMP too-big answer to its sender.
 * Both keep the Ethernet header and VLAN tags as they came. After every
 * bpf_xdp_adjust_head/tail the packet pointers are loaded and checked anew.
 */
#ifndef XLB_ENCAP_H
#define XLB_ENCAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.h"

/* sys/socket.h is not for BPF programs */
#define XLB_AF_INET 2
#define XLB_AF_INET6 10

#define XLB_L2_MAX 22 /* Ethernet and two VLAN tags */
#define XLB_ICMP_TOS 0xc0 /* internetwork control, as routers send errors */
/* Quote as much as RFC 1812 / RFC 4443 allow: 576 and 1280 bytes in all. */
#define XLB_ICMP4_QUOTE_MAX (576 - 20 - 8)
#define XLB_ICMP6_QUOTE_MAX (1280 - 40 - 8)
#define XLB_CSUM_CHUNK 64

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __always_inline __u16 ipv4_hdr_csum(const struct iphdr *iph)
{
	const __u16 *word = (const __u16 *)iph;
	__u64 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += word[i];
	return csum_fold(sum);
}

/*
 * Unfolded sum of n bytes at p (n a multiple of 4, at most 8 + the largest
 * quote): 64-byte helper calls, then 4-byte ones. -1 if p + n is beyond end.
 */
static __always_inline __s64 csum_region(void *p, __u32 n, void *end, __s64 sum)
{
	__u32 off = 0;
	int i;

#pragma unroll
	for (i = 0; i < (8 + XLB_ICMP6_QUOTE_MAX) / XLB_CSUM_CHUNK; i++) {
		if (off + XLB_CSUM_CHUNK > n)
			break;
		if (p + off + XLB_CSUM_CHUNK > end)
			return -1;
		sum = bpf_csum_diff(NULL, 0, p + off, XLB_CSUM_CHUNK, sum);
		off += XLB_CSUM_CHUNK;
	}
#pragma unroll
	for (i = 0; i < XLB_CSUM_CHUNK / 4; i++) {
		if (off + 4 > n)
			break;
		if (p + off + 4 > end)
			return -1;
		sum = bpf_csum_diff(NULL, 0, p + off, 4, sum);
		off += 4;
	}
	return off == n ? sum : -1;
}

/* Keep the link header: saved before the head moves, written back after. */
static __always_inline int l2_save(struct xdp_md *ctx, __u8 *l2)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (data + XLB_L2_MAX > end)
		return -1;
	__builtin_memcpy(l2, data, XLB_L2_MAX);
	return 0;
}

/*
 * Grow the head by room bytes and put the link header back at the front.
 * What followed the link header now starts room bytes after it. The whole
 * saved block is written: bytes past l2_len are overwritten by the caller.
 */
static __always_inline int l2_grow(struct xdp_md *ctx, const __u8 *l2, int room)
{
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, -room))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + XLB_L2_MAX > end)
		return -1;
	__builtin_memcpy(data, l2, XLB_L2_MAX);
	return 0;
}

/* The outer addresses, by reference: no copies on the way to the packet. */
struct encap_outer {
	const __be32 *saddr; /* its first three words; the last is saddr_last */
	const __be32 *daddr;
	__be32 saddr_last;
	__u32 flow_label;    /* IPv6 outer only */
	__u8 outer6;
};

/*
 * Make room for an outer header of room bytes after a plain Ethernet
 * header. VLAN tags go: the FIB's egress is an untagged device (the helper
 * reports no VLAN), so the frame leaves untagged. The MACs move to the new
 * front (the caller sets the next hop's; a frame passed to the kernel
 * keeps these) and the ethertype becomes proto. Returns 0 with
 * data + 14 + room within the frame, or -1.
 */
static __always_inline int l2_push_by(struct xdp_md *ctx, const int grow, __u16 proto)
{
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, -grow))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + grow + ETH_HLEN > end)
		return -1;
	__builtin_memcpy(data, data + grow, 2 * ETH_ALEN); /* grow >= 12: no overlap */
	*(__be16 *)(data + 12) = bpf_htons(proto);
	return 0;
}

static __always_inline int l2_push(struct xdp_md *ctx, __u32 l2_len, const int room, __u16 proto)
{
	if (l2_len == ETH_HLEN)
		return l2_push_by(ctx, room, proto);
	if (l2_len == ETH_HLEN + 4)
		return l2_push_by(ctx, room - 4, proto);
	if (l2_len == ETH_HLEN + 8)
		return l2_push_by(ctx, room - 8, proto);
	return -1;
}

/*
 * Outer header for the packet in pkt: IPIP, IP6IP6 or 4in6, written a word
 * at a time. ip_id: the outer IPv4 id.
 */
static __always_inline int encap_push(struct xdp_md *ctx, const struct packet *pkt,
				      const struct encap_outer *o, __be16 ip_id)
{
	__u32 inner_len = pkt->l3_len, w0, w1, w2, sum;
	void *data, *end;
	__u32 *out;

	if (o->outer6) {
		if (l2_push(ctx, pkt->l2_len, sizeof(struct ipv6hdr), ETH_P_IPV6))
			return -1;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		out = data + ETH_HLEN;
		if ((void *)out + sizeof(struct ipv6hdr) > end)
			return -1;
		/* version, class, label; payload length, next header, hop limit */
		w0 = bpf_htonl(6 << 28 | (__u32)pkt->tos << 20 | (o->flow_label & 0xfffff));
		w1 = bpf_htonl(inner_len << 16 |
			       (__u32)(pkt->family == 6 ? IPPROTO_IPV6 : IPPROTO_IPIP) << 8 |
			       XLB_IPIP_TTL);
		*(__u64 *)&out[0] = w0 | (__u64)w1 << 32;
		*(__u64 *)&out[2] = o->saddr[0] | (__u64)o->saddr[1] << 32;
		*(__u64 *)&out[4] = o->saddr[2] | (__u64)o->saddr_last << 32;
		*(__u64 *)&out[6] = o->daddr[0] | (__u64)o->daddr[1] << 32;
		*(__u64 *)&out[8] = o->daddr[2] | (__u64)o->daddr[3] << 32;
		return 0;
	}
	if (pkt->family != 4) /* user space never pairs an IPv6 VIP with an IPv4 backend */
		return -1;
	if (l2_push(ctx, pkt->l2_len, sizeof(struct iphdr), ETH_P_IP))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	out = data + ETH_HLEN;
	if ((void *)out + sizeof(struct iphdr) > end)
		return -1;
	/* version 4, IHL 5, the inner TOS, total length; the id; RFC 2003: the inner DF */
	w0 = bpf_htonl(0x45u << 24 | (__u32)pkt->tos << 16 | (inner_len + sizeof(struct iphdr)));
	w1 = bpf_htonl((__u32)bpf_ntohs(ip_id) << 16 | (pkt->df ? XLB_IP_DF : 0));
	w2 = bpf_htonl((__u32)XLB_IPIP_TTL << 24 | (__u32)IPPROTO_IPIP << 16);
	sum = (w0 & 0xffff) + (w0 >> 16) + (w1 & 0xffff) + (w1 >> 16) + (w2 & 0xffff) +
	      (w2 >> 16) + (o->saddr_last & 0xffff) + (o->saddr_last >> 16) +
	      (o->daddr[3] & 0xffff) + (o->daddr[3] >> 16);
	/* the checksum's two bytes go in place; 8-byte stores where they fit */
	out[0] = w0;
	*(__u64 *)&out[1] = w1 | (__u64)(w2 | (__u32)csum_fold(sum) << 16) << 32;
	*(__u64 *)&out[3] = o->saddr_last | (__u64)o->daddr[3] << 32;
	return 0;
}

struct icmp6_pseudo {
	__be32 saddr[4];
	__be32 daddr[4];
	__be32 len;
	__be32 nexthdr;
};

/*
 * Turn the packet into "fragmentation needed" (IPv4) or "packet too big"
 * (IPv6) from the VIP to the client, quoting the start of the packet, with
 * the link header's addresses swapped: it leaves the way it came.
 */
/* Rare, and large: a function of its own keeps it off the hot path's code. */
static __attribute__((noinline)) int icmp_too_big_build(struct xdp_md *ctx, const struct packet *pkt,
					      __u32 mtu)
{
	__u32 l2_len = pkt->l2_len, quote, hdr_len, cur_len, new_len;
	__u8 l2[XLB_L2_MAX], mac[ETH_ALEN];
	struct icmp6_pseudo ph;
	struct ipv6hdr *ip6;
	struct iphdr *iph;
	void *data, *end;
	__u8 *icmp;
	__s64 sum;
	int six = pkt->family == 6;

	quote = pkt->l3_len;
	if (quote > (six ? XLB_ICMP6_QUOTE_MAX : XLB_ICMP4_QUOTE_MAX))
		quote = six ? XLB_ICMP6_QUOTE_MAX : XLB_ICMP4_QUOTE_MAX;
	quote &= ~3u; /* the checksum helper takes whole words */
	hdr_len = six ? sizeof(*ip6) + 8 : sizeof(*iph) + 8;
	if (l2_len > XLB_L2_MAX || l2_save(ctx, l2))
		return -1;
	__builtin_memcpy(mac, l2, ETH_ALEN);
	__builtin_memcpy(l2, l2 + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(l2 + ETH_ALEN, mac, ETH_ALEN);
	if (l2_grow(ctx, l2, hdr_len))
		return -1;

	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	cur_len = end - data;
	new_len = l2_len + hdr_len + quote;
	if (cur_len > new_len && bpf_xdp_adjust_tail(ctx, (int)new_len - (int)cur_len))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;

	if (six) {
		ip6 = data + l2_len;
		icmp = (__u8 *)(ip6 + 1);
		if ((void *)(icmp + 8) > end)
			return -1;
		*(__be32 *)ip6 = bpf_htonl(6 << 28);
		ip6->payload_len = bpf_htons(8 + quote);
		ip6->nexthdr = IPPROTO_ICMPV6;
		ip6->hop_limit = XLB_IPIP_TTL;
		__builtin_memcpy(&ip6->saddr, pkt->flow.daddr, 16);
		__builtin_memcpy(&ip6->daddr, pkt->flow.saddr, 16);
		icmp[0] = XLB_ICMPV6_PKT_TOOBIG;
		icmp[1] = 0;
		*(__u16 *)(icmp + 2) = 0;
		*(__be32 *)(icmp + 4) = bpf_htonl(mtu);
		__builtin_memcpy(ph.saddr, pkt->flow.daddr, 16);
		__builtin_memcpy(ph.daddr, pkt->flow.saddr, 16);
		ph.len = bpf_htonl(8 + quote);
		ph.nexthdr = bpf_htonl(IPPROTO_ICMPV6);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		iph = data + l2_len;
		icmp = (__u8 *)(iph + 1);
		if ((void *)(icmp + 8) > end)
			return -1;
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = XLB_ICMP_TOS;
		iph->tot_len = bpf_htons(sizeof(*iph) + 8 + quote);
		iph->id = 0;
		iph->frag_off = 0;
		iph->ttl = XLB_IPIP_TTL;
		iph->protocol = IPPROTO_ICMP;
		iph->check = 0;
		iph->saddr = pkt->flow.daddr[3];
		iph->daddr = pkt->flow.saddr[3];
		iph->check = ipv4_hdr_csum(iph);
		icmp[0] = XLB_ICMP_DEST_UNREACH;
		icmp[1] = XLB_ICMP_FRAG_NEEDED;
		*(__u16 *)(icmp + 2) = 0;
		*(__be16 *)(icmp + 4) = 0;
		*(__be16 *)(icmp + 6) = bpf_htons(mtu);
		sum = 0;
	}
	sum = csum_region(icmp, 8 + quote, end, sum);
	if (sum < 0)
		return -1;
	*(__u16 *)(icmp + 2) = csum_fold(sum);
	return 0;
}

#endif /* XLB_ENCAP_H */
