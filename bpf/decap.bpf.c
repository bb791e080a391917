// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Backend side of L3 direct server return: strip the outer IPv4/IPv6
 * header the load balancer put around a client packet (IPIP, 6in4, 4in6,
 * IP6IP6), so the inner packet reaches this host's stack as if it had
 * arrived plain. Backends need no tunnel device and no ipip module.
 *
 * The rule for what is not ours: a packet is passed untouched unless it is
 * a tunnel packet from a load balancer prefix to a local VIP. A tunnel
 * packet from a load balancer that cannot be decapsulated safely is
 * dropped. Every outcome is counted (XLB_DECAP_STATS), and the class of
 * its counter decides the verdict.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.h"
#include "../maps/decap_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XLB_DECAP_MAX_SOURCES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* LPM tries require it */
	__type(key, struct decap_source_key);
	__type(value, __u32);
} decap_sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_DECAP_MAX_VIPS);
	__type(key, struct decap_vip_key);
	__type(value, __u32);
} decap_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DECAP_STAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} decap_stats SEC(".maps");

#define DECAP_GO XLB_DECAP_STAT_SLOTS /* not a stat: strip the outer header */

/* The L2 header as it arrived: Ethernet and up to two VLAN tags. */
struct l2_hdr {
	struct ethhdr eth;
	struct vlan_hdr vlan[2];
};

/* What classify() found: enough to strip the outer header. */
struct tunnel {
	__u32 nvlan;
	__u32 l2_len;
	__u32 outer_len; /* outer IP header, IPv4 options included */
	__u32 inner_len; /* what the outer header says follows it */
	__be16 inner_ethertype;
	__u8 outer_ecn;
};

static __always_inline void stat_inc(__u32 reason)
{
	__u64 *count = bpf_map_lookup_elem(&decap_stats, &reason);

	if (count)
		*count += 1; /* per-CPU: no atomics needed */
}

/* A reason of class DROP drops; every other reason a packet leaves by passes. */
XLB_STAT_VERDICT_FN(verdict_of, XLB_DECAP_STATS)

static __always_inline int is_tunnel_proto(__u8 proto)
{
	return proto == IPPROTO_IPIP || proto == IPPROTO_IPV6;
}

/* ::ffff:a.b.c.d never appears on the wire: it must not match an IPv4 entry */
static __always_inline int is_v4_mapped(const __be32 addr[4])
{
	return !addr[0] && !addr[1] && addr[2] == bpf_htonl(0xffff);
}

static __always_inline int from_lb(const __be32 saddr[4])
{
	struct decap_source_key key = { .prefixlen = 128 };

	__builtin_memcpy(key.addr, saddr, sizeof(key.addr));
	return bpf_map_lookup_elem(&decap_sources, &key) != NULL;
}

static __always_inline int is_local_vip(const __be32 daddr[4])
{
	struct decap_vip_key key;

	__builtin_memcpy(key.addr, daddr, sizeof(key.addr));
	return bpf_map_lookup_elem(&decap_vips, &key) != NULL;
}

/* The kernel's ipip would drop a bad outer checksum in ip_rcv; so do we. */
static __always_inline int ipv4_csum_ok(const struct iphdr *iph, __u32 hdr_len,
					const void *end)
{
	const __u32 *word = (const __u32 *)iph;
	__u64 sum = 0;
	int i;

	for (i = 0; i < 15; i++) { /* bounded: IHL is at most 15 words */
		/* the header is known to be whole: the end check is for the verifier */
		if (i * 4 >= hdr_len || (const void *)(word + i + 1) > end)
			break;
		sum += word[i];
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * The inner packet: the header must be whole, of the family the outer
 * protocol names, and no longer than what the outer header carries.
 */
static __always_inline __u32 parse_inner(struct cursor *c, __u8 outer_proto,
					 struct tunnel *t, __be32 daddr[4])
{
	struct ipv6hdr *ip6;
	struct iphdr *iph;
	__u32 len;

	if (outer_proto == IPPROTO_IPIP) {
		iph = PULL(c, struct iphdr);
		if (!iph || t->inner_len < sizeof(*iph) || iph->version != 4 ||
		    iph->ihl < 5)
			return XLB_DECAP_STAT_DROP_MALFORMED;
		len = bpf_ntohs(iph->tot_len);
		if (len < iph->ihl * 4 || len > t->inner_len)
			return XLB_DECAP_STAT_DROP_MALFORMED;
		addr_from_ipv4(daddr, iph->daddr);
		t->inner_ethertype = bpf_htons(ETH_P_IP);
		return DECAP_GO;
	}
	ip6 = PULL(c, struct ipv6hdr);
	if (!ip6 || t->inner_len < sizeof(*ip6) || ip6->version != 6)
		return XLB_DECAP_STAT_DROP_MALFORMED;
	if (sizeof(*ip6) + bpf_ntohs(ip6->payload_len) > t->inner_len)
		return XLB_DECAP_STAT_DROP_MALFORMED;
	addr_from_ipv6(daddr, &ip6->daddr);
	if (is_v4_mapped(daddr))
		return XLB_DECAP_STAT_PASS_NOT_VIP;
	t->inner_ethertype = bpf_htons(ETH_P_IPV6);
	return DECAP_GO;
}

#define XLB_ECN_MASK 3
#define XLB_ECN_CE 3

/*
 * RFC 6040: congestion marked on the outer header on the way must reach
 * the inner one, or the endpoints never hear of it. Outer CE: an ECN-capable
 * inner packet becomes CE; one that is not is dropped (as the kernel's
 * tunnels do), since dropping is how congestion is told to it.
 */
static __always_inline __u32 ecn_decap(void *inner, void *end, __u8 outer_proto)
{
	struct ipv6hdr *ip6 = inner;
	struct iphdr *iph = inner;
	__u32 sum;
	__u16 old;

	if (outer_proto == IPPROTO_IPIP) {
		if ((void *)(iph + 1) > end)
			return XLB_DECAP_STAT_DROP_MALFORMED;
		if (!(iph->tos & XLB_ECN_MASK))
			return XLB_DECAP_STAT_DROP_ECN;
		/* RFC 1624 incremental update of the word holding the TOS */
		old = *(__u16 *)iph;
		iph->tos |= XLB_ECN_CE;
		sum = (__u16)~iph->check + (__u16)~old + *(__u16 *)iph;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		iph->check = ~sum;
		return DECAP_GO;
	}
	if ((void *)(ip6 + 1) > end)
		return XLB_DECAP_STAT_DROP_MALFORMED;
	if (!((bpf_ntohl(*(__be32 *)ip6) >> 20) & XLB_ECN_MASK))
		return XLB_DECAP_STAT_DROP_ECN;
	*(__be32 *)ip6 |= bpf_htonl(XLB_ECN_CE << 20);
	return DECAP_GO;
}

static __always_inline __u32 classify(struct xdp_md *ctx, struct tunnel *t)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	__be32 saddr[4], daddr[4];
	struct vlan_hdr *vlan;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct iphdr *iph;
	__u32 tot_len, reason;
	__u8 outer_proto;
	__be16 proto;
	void *l3;
	int i;

	eth = PULL(&c, struct ethhdr);
	if (!eth)
		return XLB_DECAP_STAT_PASS_NOT_ENCAP;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		vlan = PULL(&c, struct vlan_hdr);
		if (!vlan)
			return XLB_DECAP_STAT_PASS_NOT_ENCAP;
		proto = vlan->encap_proto;
		t->nvlan++;
	}
	l3 = c.pos;
	t->l2_len = sizeof(*eth) + t->nvlan * sizeof(*vlan);

	if (proto == bpf_htons(ETH_P_IP)) {
		iph = PULL(&c, struct iphdr);
		if (!iph || !is_tunnel_proto(iph->protocol))
			return XLB_DECAP_STAT_PASS_NOT_ENCAP;
		if (iph->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET))
			return XLB_DECAP_STAT_PASS_FRAGMENT;
		addr_from_ipv4(saddr, iph->saddr);
		if (!from_lb(saddr))
			return XLB_DECAP_STAT_PASS_FOREIGN_SOURCE;
		t->outer_len = iph->ihl * 4;
		tot_len = bpf_ntohs(iph->tot_len);
		if (iph->version != 4 || t->outer_len < sizeof(*iph) ||
		    tot_len < t->outer_len || l3 + tot_len > c.end)
			return XLB_DECAP_STAT_DROP_MALFORMED;
		if (!cursor_pull(&c, t->outer_len - sizeof(*iph)) ||
		    !ipv4_csum_ok(iph, t->outer_len, c.end))
			return XLB_DECAP_STAT_DROP_MALFORMED;
		t->inner_len = tot_len - t->outer_len;
		outer_proto = iph->protocol;
		t->outer_ecn = iph->tos & XLB_ECN_MASK;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		/* extension headers are not expected from a load balancer: not ours */
		ip6 = PULL(&c, struct ipv6hdr);
		if (!ip6 || !is_tunnel_proto(ip6->nexthdr))
			return XLB_DECAP_STAT_PASS_NOT_ENCAP;
		addr_from_ipv6(saddr, &ip6->saddr);
		if (is_v4_mapped(saddr) || !from_lb(saddr))
			return XLB_DECAP_STAT_PASS_FOREIGN_SOURCE;
		t->outer_len = sizeof(*ip6);
		t->inner_len = bpf_ntohs(ip6->payload_len);
		if (ip6->version != 6 || c.pos + t->inner_len > c.end)
			return XLB_DECAP_STAT_DROP_MALFORMED;
		outer_proto = ip6->nexthdr;
		t->outer_ecn = (bpf_ntohl(*(__be32 *)ip6) >> 20) & XLB_ECN_MASK;
	} else {
		return XLB_DECAP_STAT_PASS_NOT_ENCAP;
	}

	reason = parse_inner(&c, outer_proto, t, daddr);
	if (reason != DECAP_GO)
		return reason;
	if (!is_local_vip(daddr))
		return XLB_DECAP_STAT_PASS_NOT_VIP;
	if (t->outer_ecn == XLB_ECN_CE)
		return ecn_decap(l3 + t->outer_len, c.end, outer_proto);
	return DECAP_GO;
}

/*
 * Move the L2 header forward over the outer IP header and drop anything
 * after the inner packet. Returns 0, or -1 if a helper refused (the
 * packet may then be half done, so it must be dropped).
 */
static __always_inline int strip_outer(struct xdp_md *ctx, const struct tunnel *t)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 frame_len = end - data;
	__u32 want_len = t->l2_len + t->outer_len + t->inner_len;
	struct l2_hdr l2;

	/* a copy: old and new L2 overlap when two tags outgrow a 20-byte header */
	if (data + sizeof(l2) > end)
		return -1; /* cannot happen: an IP header follows L2 */
	__builtin_memcpy(&l2, data, sizeof(l2));
	if (t->nvlan == 0)
		l2.eth.h_proto = t->inner_ethertype;
	else if (t->nvlan == 1)
		l2.vlan[0].encap_proto = t->inner_ethertype;
	else
		l2.vlan[1].encap_proto = t->inner_ethertype;

	if (frame_len > want_len && bpf_xdp_adjust_tail(ctx, (int)want_len - (int)frame_len))
		return -1;
	if (bpf_xdp_adjust_head(ctx, t->outer_len))
		return -1;

	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(l2.eth) > end)
		return -1;
	__builtin_memcpy(data, &l2.eth, sizeof(l2.eth));
	if (t->nvlan > 0) {
		if (data + sizeof(l2.eth) + sizeof(l2.vlan[0]) > end)
			return -1;
		__builtin_memcpy(data + sizeof(l2.eth), &l2.vlan[0], sizeof(l2.vlan[0]));
	}
	if (t->nvlan > 1) {
		if (data + sizeof(l2) > end)
			return -1;
		__builtin_memcpy(data + sizeof(l2.eth) + sizeof(l2.vlan[0]), &l2.vlan[1],
				 sizeof(l2.vlan[1]));
	}
	return 0;
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	struct tunnel t = {};
	__u32 reason = classify(ctx, &t);

	if (reason != DECAP_GO) {
		stat_inc(reason);
		return verdict_of(reason);
	}
	if (strip_outer(ctx, &t)) {
		/* helpers only refuse frames under 14 bytes; the inner IP header rules that out */
		stat_inc(XLB_DECAP_STAT_DROP_MALFORMED);
		return XDP_DROP;
	}
	stat_inc(XLB_DECAP_STAT_DECAP);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
