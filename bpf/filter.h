/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Source filters (README, "Under attack"): the allowlist, then the
 * blocklist, global and per VIP, before any connection-table lookup.
 * Maps and keys: maps/filter_maps.h. Included by xlb.bpf.c after
 * find_vip() and count_and_leave().
 */
#ifndef XLB_FILTER_H
#define XLB_FILTER_H

/* The rule of one list and scope matching the packet's source, if longer than *best. */
static __always_inline void rule_ask(const __be32 saddr[4], __u8 family, __u32 kind,
				     __u32 scope, struct block_rule **best)
{
	struct block_rule *r;

	if (family == 4) {
		struct block4_key k = {
			.prefixlen = XLB_BLOCK_TAG_BITS + 32,
			.tag = bpf_htonl(XLB_BLOCK_TAG(kind, scope)),
			.addr = saddr[3],
		};

		r = bpf_map_lookup_elem(&block4, &k);
	} else {
		struct block6_key k = {
			.prefixlen = XLB_BLOCK_TAG_BITS + 128,
			.tag = bpf_htonl(XLB_BLOCK_TAG(kind, scope)),
		};

		__builtin_memcpy(k.addr, saddr, sizeof(k.addr));
		r = bpf_map_lookup_elem(&block6, &k);
	}
	if (r && (!*best || r->len > (*best)->len))
		*best = r;
}

static __always_inline void rule_hit(const struct block_rule *r)
{
	__u32 id = r->id;
	__u64 *n = bpf_map_lookup_elem(&block_hits, &id);

	if (n)
		*n += 1;
}

/*
 * One list (kind) of the global scope (gflags) and of a VIP's (vflags,
 * scope vid): the longest matching rule of either, counted. 1 if one matched.
 */
static __always_inline int list_match(const __be32 saddr[4], __u8 family, __u32 kind,
				      __u32 gflags, __u32 vflags, __u32 vid)
{
	__u32 bit = family == 4 ? (kind == XLB_BLOCK_ALLOW ? XLB_FILTER_ALLOW4 : XLB_FILTER_DROP4) :
				  (kind == XLB_BLOCK_ALLOW ? XLB_FILTER_ALLOW6 : XLB_FILTER_DROP6);
	struct block_rule *best = NULL;

	if (gflags & bit)
		rule_ask(saddr, family, kind, XLB_BLOCK_GLOBAL, &best);
	if (vflags & bit)
		rule_ask(saddr, family, kind, vid, &best);
	if (!best)
		return 0;
	rule_hit(best);
	return 1;
}

/*
 * A VIP candidate's source: XLB_PARSE_OK to go on (*allowed set when an
 * allow rule matched: it is not limited either), or the drop reason. The
 * VIP is looked up only if some VIP has rules of its own.
 */
static __always_inline __u32 filter_source(const struct packet *pkt, __u32 *allowed)
{
	__u32 zero = 0, vflags = 0, vid = 0;
	struct filter_config *cfg = bpf_map_lookup_elem(&filter_config, &zero);
	struct vip_filter *vf = NULL;
	struct vip_meta *vip;

	if (!cfg || !cfg->flags)
		return XLB_PARSE_OK;
	/*
	 * Without scope: all the lists are for VIP addresses' traffic: a
	 * packet to an address that only shares a VIP's filter bit is not
	 * filtered (the host's own, say). A VIP address's other ports are.
	 */
	if (!(cfg->flags & XLB_FILTER_SCOPE_ALL) &&
	    (cfg->flags & (pkt->family == 4 ? XLB_FILTER_ALLOW4 | XLB_FILTER_DROP4 :
					      XLB_FILTER_ALLOW6 | XLB_FILTER_DROP6)) &&
	    !is_vip_addr(pkt->flow.daddr))
		return XLB_PARSE_OK;
	if (cfg->flags & XLB_FILTER_VIP_RULES) {
		vip = find_vip(pkt);
		if (vip) {
			vid = vip->id;
			vf = bpf_map_lookup_elem(&vip_filter, &vid);
			if (vf)
				vflags = vf->flags;
		}
	}
	if (list_match(pkt->flow.saddr, pkt->family, XLB_BLOCK_ALLOW, cfg->flags, vflags, vid)) {
		*allowed = 1;
		stat_inc(XLB_STAT_ALLOWED);
		return XLB_PARSE_OK;
	}
	if (list_match(pkt->flow.saddr, pkt->family, XLB_BLOCK_DROP, cfg->flags, vflags, vid))
		return XLB_STAT_DROP_BLOCKED;
	return XLB_PARSE_OK;
}

/*
 * scope: all. A packet classify() leaves to the kernel (not for a VIP, or
 * ICMP, or a VIP address's other ports) is checked against the global
 * lists too. Non-IP frames (ARP) and IPv6 neighbour discovery always
 * pass: blocking them would cut the host off its own link. Returns the
 * reason the packet leaves by.
 */
static __always_inline __u32 filter_other(struct xdp_md *ctx, __u32 reason)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct packet p = {};
	__u32 zero = 0, flags;
	struct filter_config *cfg;
	struct ipv6hdr *ip6;
	struct iphdr *iph;
	__u8 *icmp6_type;
	__be16 proto;

	if (reason == XLB_STAT_PASS_NON_IP || reason == XLB_STAT_PASS_SHORT ||
	    verdict_of(reason) != XDP_PASS)
		return reason;
	cfg = bpf_map_lookup_elem(&filter_config, &zero);
	if (!cfg || !(cfg->flags & XLB_FILTER_SCOPE_ALL))
		return reason;
	flags = cfg->flags;
	proto = parse_eth(&c, &p);
	if (proto == bpf_htons(ETH_P_IP)) {
		iph = PULL(&c, struct iphdr);
		if (!iph)
			return reason;
		addr_from_ipv4(p.flow.saddr, iph->saddr);
		p.family = 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = PULL(&c, struct ipv6hdr);
		if (!ip6)
			return reason;
		/* router and neighbour solicitations, advertisements, redirects (133..137) */
		if (ip6->nexthdr == IPPROTO_ICMPV6) {
			icmp6_type = PULL(&c, __u8);
			if (icmp6_type && *icmp6_type >= 133 && *icmp6_type <= 137)
				return reason;
		}
		addr_from_ipv6(p.flow.saddr, &ip6->saddr);
		p.family = 6;
	} else {
		return reason;
	}
	if (list_match(p.flow.saddr, p.family, XLB_BLOCK_ALLOW, flags, 0, 0))
		return reason;
	if (list_match(p.flow.saddr, p.family, XLB_BLOCK_DROP, flags, 0, 0))
		return XLB_STAT_DROP_BLOCKED_NOT_VIP;
	return reason;
}

#endif /* XLB_FILTER_H */
