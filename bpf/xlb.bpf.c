// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb's XDP data plane: match VIPs, keep flows on their backend, pick new
 * backends by the VIP's scheduler (sched.h), and forward by direct server return.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.h"
#include "encap.h"
#include "hash.h"
#include "maps.bpf.h"

/* Load-time settings (user space sets them before load). */
const volatile __u64 tcp_idle_ns = 300ULL * 1000000000ULL;
const volatile __u64 udp_idle_ns = 30ULL * 1000000000ULL;
/* A TCP flow after a FIN or RST from the client: the last ACKs, a retransmitted RST. */
const volatile __u64 tcp_closing_ns = 10ULL * 1000000000ULL;
/* The loader adopted an older build's table (map conntrack): look there last. */
const volatile __u32 legacy_ct = 0;
const volatile __u32 use_fake_clock = 0; /* tests drive time through fake_clock_ns */
/* How long a FIB answer for an ipip backend is used: route and neighbour changes apply within it. */
const volatile __u64 nexthop_ttl_ns = 100ULL * 1000000ULL;
/* ICMP too-big answers, per CPU: rate per second and burst */
const volatile __u64 icmp_rate = 1000;
const volatile __u64 icmp_burst = 50;

__u64 fake_clock_ns = 0;

/* Coarse time is a fraction of the cost of ktime_get_ns and plenty for idle timeouts. */
static __always_inline __u64 xlb_now(void)
{
	if (use_fake_clock)
		return fake_clock_ns;
	return bpf_ktime_get_coarse_ns();
}

static __always_inline void stat_inc(__u32 reason)
{
	__u64 *count = bpf_map_lookup_elem(&stats, &reason);

	if (count)
		*count += 1;
}

/* A reason of class DROP drops; every other reason a packet leaves by passes. */
XLB_STAT_VERDICT_FN(verdict_of, XLB_STATS)

static __always_inline int count_and_leave(__u32 reason)
{
	stat_inc(reason);
	return verdict_of(reason);
}

static __always_inline void traffic_add(void *map, __u32 id, __u32 bytes,
					__u32 new_flow)
{
	struct traffic_stats *t = bpf_map_lookup_elem(map, &id);

	if (t) {
		t->packets += 1;
		t->bytes += bytes;
		t->new_flows += new_flow;
	}
}

#include "limits.h"
#include "flows.h"
#include "sched.h"

static __always_inline int maybe_vip_addr(const __be32 addr[4])
{
	__u32 bit = xlb_addr_bit(addr), word = bit >> 6;
	__u64 *bits = bpf_map_lookup_elem(&vip_addr_bits, &word);

	return bits && (*bits & (1ULL << (bit & 63)));
}

static __always_inline int is_vip_addr(const __be32 addr[4])
{
	struct vip_key key = {};

	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	return bpf_map_lookup_elem(&vip_addrs, &key) != NULL;
}

/* Parse up to the point where the packet is a forwarding candidate. */
static __always_inline __u32 classify(struct xdp_md *ctx, struct packet *pkt)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct ipv6hdr *ip6;
	struct iphdr *iph;
	__u32 reason, l4_len = 0;
	__be16 proto;

	pkt->len = ctx->data_end - ctx->data;
	proto = parse_eth(&c, pkt);
	if (!proto)
		return XLB_STAT_PASS_SHORT;

	if (proto == bpf_htons(ETH_P_IP)) {
		iph = PULL(&c, struct iphdr);
		if (!iph)
			return XLB_STAT_PASS_SHORT;
		addr_from_ipv4(pkt->flow.daddr, iph->daddr);
		if (!maybe_vip_addr(pkt->flow.daddr))
			return XLB_STAT_PASS_NON_VIP;
		reason = parse_ipv4_rest(&c, iph, pkt, &l4_len);
		addr_from_ipv4(pkt->flow.saddr, iph->saddr);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = PULL(&c, struct ipv6hdr);
		if (!ip6)
			return XLB_STAT_PASS_SHORT;
		addr_from_ipv6(pkt->flow.daddr, &ip6->daddr);
		/*
		 * A v4-mapped destination never travels as IPv6 (RFC 4291 2.5.5.2),
		 * and it would share an IPv4 VIP's key and its flows' entries.
		 */
		if (!maybe_vip_addr(pkt->flow.daddr) || xlb_is_v4mapped(pkt->flow.daddr))
			return XLB_STAT_PASS_NON_VIP;
		reason = parse_ipv6_rest(&c, ip6, pkt, &l4_len);
		addr_from_ipv6(pkt->flow.saddr, &ip6->saddr);
	} else {
		return XLB_STAT_PASS_NON_IP;
	}

	if (reason == XLB_PARSE_OK) {
		if (pkt->fragment) {
			if (pkt->flow.proto == IPPROTO_TCP || pkt->flow.proto == IPPROTO_UDP)
				return XLB_PARSE_OK;
			if (pkt->flow.proto == IPPROTO_ICMP ||
			    pkt->flow.proto == IPPROTO_ICMPV6)
				reason = XLB_STAT_ICMP;
			else
				reason = XLB_STAT_PASS_VIP_NO_PORT;
		} else {
			reason = parse_l4(&c, pkt, l4_len);
		}
	}
	/* Only a packet that is surely for a VIP address is dropped or counted as ours. */
	if (reason != XLB_PARSE_OK && !is_vip_addr(pkt->flow.daddr))
		return XLB_STAT_PASS_NON_VIP;
	return reason;
}

/*
 * The VIP for this packet: exact port, then the address's port-0 VIP.
 * Fragments carry no usable port: they go to the one VIP that user space
 * named for this address's fragments (see README, "Fragments").
 */
static __always_inline struct vip_meta *find_vip(const struct packet *pkt)
{
	struct vip_key key = {};
	struct vip_meta *vip;

	__builtin_memcpy(key.addr, pkt->flow.daddr, sizeof(key.addr));
	key.proto = pkt->flow.proto;
	if (pkt->fragment) {
		key.flags = XLB_VIPKEY_F_FRAG;
		return bpf_map_lookup_elem(&vips, &key);
	}
	key.port = pkt->flow.dport;
	vip = bpf_map_lookup_elem(&vips, &key);
	if (vip)
		return vip;
	key.port = 0;
	return bpf_map_lookup_elem(&vips, &key);
}

/* A thin wrapper: tests and benchmarks may stand in for the FIB. */
static __always_inline long xlb_fib_lookup(struct xdp_md *ctx, struct bpf_fib_lookup *fib)
{
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

static __always_inline int send_back_out(struct xdp_md *ctx, __u32 ifindex)
{
	int action;

	if (ifindex == ctx->ingress_ifindex) {
		stat_inc(XLB_STAT_TX);
		return XDP_TX;
	}
	action = bpf_redirect_map(&tx_ports, ifindex, XDP_DROP);
	stat_inc(action == XDP_REDIRECT ? XLB_STAT_REDIRECT : XLB_STAT_DROP_REDIRECT);
	return action;
}

/* A client that may be answered: unicast, from a routable address. */
static __always_inline int answerable(const struct packet *pkt)
{
	const __be32 *a = pkt->flow.saddr;
	__u32 first;

	if (pkt->eth->h_dest[0] & 1) /* sent to a group MAC */
		return 0;
	if (pkt->family == 4) {
		first = bpf_ntohl(a[3]) >> 24;
		/* 0/8, 127/8, 224/3 (multicast, reserved, broadcast) */
		return first != 0 && first != 127 && first < 224;
	}
	/* ::, ::1, ff00::/8, v4-mapped */
	if (!(a[0] | a[1] | a[2]) && (!a[3] || a[3] == bpf_htonl(1)))
		return 0;
	return (bpf_ntohl(a[0]) >> 24) != 0xff && !xlb_is_v4mapped(a);
}

/*
 * RFC 4443 2.4(f), RFC 1812 4.3.2.8: errors are rate-limited. A token
 * bucket per CPU, kept in nanoseconds of credit: each answer costs
 * 1 s / icmp_rate, and the credit holds at most icmp_burst answers.
 */
static __always_inline int icmp_token_take(__u64 now)
{
	__u64 cost = 1000000000ULL / icmp_rate, cap = cost * icmp_burst, credit;
	__u32 zero = 0;
	struct icmp_bucket *b = bpf_map_lookup_elem(&icmp_buckets, &zero);

	if (!b)
		return 0;
	credit = now < b->last_ns || now - b->last_ns >= cap ? cap :
								b->credit_ns + (now - b->last_ns);
	if (credit > cap)
		credit = cap;
	b->last_ns = now;
	if (credit < cost) {
		b->credit_ns = credit;
		return 0;
	}
	b->credit_ns = credit - cost;
	return 1;
}

/*
 * Over the path MTU: tell the client, where it may be told. An ICMP error
 * is never answered; IPv4 without DF would need fragmenting, which XDP
 * cannot do; an MTU below the family's minimum cannot be asked for; nor
 * are broadcast, multicast or unroutable sources answered. All dropped.
 */
static __always_inline int answer_too_big(struct xdp_md *ctx, struct packet *pkt,
					  __u32 mtu, __u64 now)
{
	if (pkt->icmp_error || (pkt->family == 4 && !pkt->df) ||
	    mtu < (pkt->family == 6 ? 1280 : 68) || !answerable(pkt))
		return count_and_leave(XLB_STAT_DROP_TOO_BIG);
	if (!icmp_token_take(now))
		return count_and_leave(XLB_STAT_DROP_ICMP_RATELIMIT);
	if (icmp_too_big_build(ctx, pkt, mtu))
		return count_and_leave(XLB_STAT_DROP_ENCAP);
	pkt->answered = 1;
	stat_inc(XLB_STAT_ICMP_TOO_BIG);
	return XDP_TX;
}

/* Source within the configured prefix: the low bits come from the flow hash. */
static __always_inline __be32 encap_source_last(const struct encap_source *src, __u32 hash)
{
	__u32 mask;

	if (!src->hash_bits)
		return src->addr[3];
	mask = src->hash_bits >= 32 ? ~0u : (1u << src->hash_bits) - 1;
	return bpf_htonl((bpf_ntohl(src->addr[3]) & ~mask) | (hash & mask));
}

/*
 * The FIB's answer for the way to the backend: egress, MACs and the MTU.
 * Asked with the configured source as it is (not hashed) and no TOS, so the
 * answer is the backend's, whatever the flow: the same for every packet
 * the cache serves. Returns a BPF_FIB_LKUP_RET_* code; only a whole answer
 * is kept.
 */
static __always_inline long nexthop_refresh(struct xdp_md *ctx, const struct encap_source *src,
					    const struct backend *be, __u32 backend_id,
					    __u64 now, struct nexthop_entry *nh)
{
	struct bpf_fib_lookup fib = {};
	long rc;

	fib.ifindex = ctx->ingress_ifindex;
	if (xlb_is_v4mapped(be->addr)) {
		fib.family = XLB_AF_INET;
		fib.ipv4_src = src->addr[3];
		fib.ipv4_dst = be->addr[3];
	} else {
		fib.family = XLB_AF_INET6;
		__builtin_memcpy(fib.ipv6_src, src->addr, 16);
		__builtin_memcpy(fib.ipv6_dst, be->addr, 16);
	}
	rc = xlb_fib_lookup(ctx, &fib); /* tot_len 0: no MTU check here */
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return rc;
	nh->ifindex = fib.ifindex;
	__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
	/* on success the helper returns the way's MTU (5.12+); 0: not told */
	nh->mtu = fib.mtu_result ?: 0xffff;
	nh->backend_id = backend_id;
	nh->backend_gen = be->gen;
	nh->expires_ns = now + nexthop_ttl_ns;
	return rc;
}

static __always_inline int forward_encap(struct xdp_md *ctx, struct packet *pkt,
					 const struct backend *be, __u32 backend_id, __u64 now)
{
	struct encap_outer o;
	struct nexthop_entry *nh;
	struct encap_config *cfg;
	const struct encap_source *src;
	__u32 zero = 0, hash = 0, olen, slot;
	__be16 ip_id = pkt->ip_id;
	struct ethhdr *eth;
	long rc;

	o.outer6 = !xlb_is_v4mapped(be->addr);
	if (pkt->family == 6 && !o.outer6) /* user space never pairs these */
		return count_and_leave(XLB_STAT_DROP_ENCAP);
	cfg = bpf_map_lookup_elem(&encap_config, &zero);
	if (!cfg)
		return count_and_leave(XLB_STAT_DROP_NO_ENCAP_SRC);
	src = o.outer6 ? &cfg->v6 : &cfg->v4;
	if (!(src->flags & XLB_ENCAP_F_SET))
		return count_and_leave(XLB_STAT_DROP_NO_ENCAP_SRC);

	slot = backend_id & (XLB_NEXTHOP_SLOTS - 1);
	nh = bpf_map_lookup_elem(&nexthop_cache, &slot);
	if (!nh)
		return count_and_leave(XLB_STAT_DROP_NO_ROUTE);
	rc = BPF_FIB_LKUP_RET_SUCCESS;
	if (nh->backend_id != backend_id || nh->backend_gen != be->gen ||
	    (__s64)(nh->expires_ns - now) <= 0 || !nh->expires_ns)
		rc = nexthop_refresh(ctx, src, be, backend_id, now, nh);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return count_and_leave(XLB_STAT_DROP_NO_ROUTE);
	olen = o.outer6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS && pkt->l3_len + olen > nh->mtu)
		return answer_too_big(ctx, pkt, nh->mtu > olen ? nh->mtu - olen : 0, now);

	/* entropy only where something uses it: a hashed source, the IPv6 flow label */
	if (src->hash_bits || o.outer6)
		hash = xlb_hash_entropy(pkt->flow.saddr, pkt->flow.daddr, pkt->flow.sport,
					pkt->flow.dport, pkt->flow.proto);
	o.saddr = src->addr;
	o.saddr_last = encap_source_last(src, hash);
	o.daddr = be->addr;
	o.flow_label = hash;
	/* RFC 6864: an outer packet that may be fragmented needs an id of its own */
	if (!pkt->df)
		ip_id = bpf_get_prandom_u32();

	/* link padding would sit between the outer packet's end and the frame's */
	if (pkt->len > pkt->l2_len + pkt->l3_len &&
	    bpf_xdp_adjust_tail(ctx, (int)(pkt->l2_len + pkt->l3_len) - (int)pkt->len))
		return count_and_leave(XLB_STAT_DROP_ENCAP);
	if (encap_push(ctx, pkt, &o, ip_id))
		return count_and_leave(XLB_STAT_DROP_ENCAP);
	/* the kernel resolves the next hop and forwards this one itself */
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return count_and_leave(XLB_STAT_PASS_NO_NEIGH);

	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return count_and_leave(XLB_STAT_DROP_ENCAP);
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	return send_back_out(ctx, nh->ifindex);
}

/* The upgrade test's rebuilt data plane counts in its own counter and map. */
static __always_inline void variant_count(void)
{
#ifdef XLB_VARIANT
	__u32 zero = 0;
	__u64 *seen = bpf_map_lookup_elem(&variant_map, &zero);

	if (seen)
		*seen += 1;
	stat_inc(XLB_STAT_VARIANT_SEEN);
#endif
}

#include "filter.h"

static __always_inline int xlb_process(struct xdp_md *ctx)
{
	struct packet pkt = {};
	struct flow4_key k4 = {};
	struct vip_meta *vip;
	struct backend *be = NULL;
	struct flow_state *stale = NULL;
	__u32 reason, backend_id = 0, vip_id, tick, phash = 0, new_flow = 0, allowed = 0;
	int mode;
	__u64 now;
	int action;

	reason = classify(ctx, &pkt);
	if (reason != XLB_PARSE_OK)
		return count_and_leave(filter_other(ctx, reason));
	reason = filter_source(&pkt, &allowed);
	if (reason != XLB_PARSE_OK)
		return count_and_leave(reason);

	now = xlb_now();
	tick = XLB_NS_TO_TICKS(now);
	if (!pkt.fragment) {
		if (pkt.family == 4)
			flow4_key_of(&pkt, &k4);
		be = flow_lookup(&pkt, &k4, &phash, now, tick, &backend_id, &stale);
		if (be) {
			vip_id = be->vip_id;
			goto forward;
		}
	}

	vip = find_vip(&pkt);
	if (!vip) {
		if (!is_vip_addr(pkt.flow.daddr))
			return count_and_leave(XLB_STAT_PASS_NON_VIP);
		return count_and_leave(pkt.fragment ? XLB_STAT_DROP_FRAG_NO_VIP :
						      XLB_STAT_PASS_VIP_NO_PORT);
	}
	if (!pkt.icmp_error)
		stat_inc(pkt.fragment ? XLB_STAT_FRAGMENT : XLB_STAT_CT_MISS);
	vip_id = vip->id;
	mode = pick_mode(&pkt);
	/* limits count flows a client starts: not a segment whose entry was lost */
	if (mode == XLB_PICK_NEW && !allowed) {
		reason = limit_new_flow(&pkt, vip_id, now);
		if (reason != XLB_PARSE_OK)
			return count_and_leave(reason);
	}
	backend_id = pick_backend(&pkt, vip, tick, mode);
	be = bpf_map_lookup_elem(&backends, &backend_id);
	if (!be || backend_id == XLB_NO_BACKEND ||
	    !(be->flags & XLB_BACKEND_F_KEEP_FLOWS))
		return count_and_leave(XLB_STAT_DROP_NO_BACKEND);
	/*
	 * Fragments carry no tuple; an ICMP error is not a flow of its own.
	 * A stateful scheduler's flow is written by its first packet only: a
	 * later one (a lost entry, a spoofed ACK) would write a pick its SYN
	 * did not make, over a slot a handshake may hold.
	 */
	if (mode == XLB_PICK_PEEK && XLB_SCHED_STATEFUL(vip->sched)) {
		stat_inc(XLB_STAT_CT_MISS_MIDFLOW);
	} else if (mode != XLB_PICK_HASH) {
		new_flow = 1;
		if (stale) /* a flow the main table knew: its entry, no insert */
			flow_restart(stale, &pkt, vip_id, backend_id, be->gen, tick);
		else
			new_flow = probation_write(&pkt, phash, backend_id, be->gen, tick,
						   mode == XLB_PICK_NEW);
	}

forward:
	variant_count();
	if (be->flags & XLB_BACKEND_F_ENCAP) {
		action = forward_encap(ctx, &pkt, be, backend_id, now);
	} else {
		__builtin_memcpy(pkt.eth->h_dest, be->mac, ETH_ALEN);
		__builtin_memcpy(pkt.eth->h_source, be->src_mac, ETH_ALEN);
		action = send_back_out(ctx, be->ifindex);
	}
	if (pkt.icmp_error && action != XDP_DROP)
		stat_inc(XLB_STAT_ICMP_ROUTED);
	/* a packet that was not sent on is not the VIP's or the backend's traffic */
	if (action != XDP_DROP && !pkt.answered) {
		traffic_add(&vip_stats, vip_id, pkt.len, new_flow);
		traffic_add(&backend_stats, backend_id, pkt.len, new_flow);
	}
	return action;
}

SEC("xdp")
int xlb_xdp(struct xdp_md *ctx)
{
	return xlb_process(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
