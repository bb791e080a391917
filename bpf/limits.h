/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-client limits (README, "Under attack"): new flows per second (a
 * token bucket) and live flows (a cap) per (VIP, client prefix). Maps and
 * keys: maps/limit_maps.h; the VIP's settings: its vip_filter entry.
 * Included by xlb.bpf.c before flows.h (which counts flows opened and
 * closed here) after stat_inc().
 *
 * Across CPUs (a client's flows spread over them by RSS) the state is
 * shared and updated without locks: a bucket in use is charged with an
 * atomic add, so no charge is lost, but the check reads it before the add,
 * and a bucket refilled from idle is a plain store. A key therefore lets
 * in at most burst + rate * t + (CPUs - 1) new flows over t; on one CPU
 * exactly burst + rate * t (rounded down). opened and closed are atomic
 * adds; the cap's check and the add at promotion are apart, so flows
 * still on probation (their first round trip) are not yet counted.
 */
#ifndef XLB_LIMITS_H
#define XLB_LIMITS_H

/* The client's address masked to the VIP's limit prefix. */
static __always_inline void limit_key_of(const __be32 saddr[4], __u8 family, __u32 vip_id,
					 const struct vip_filter *vf, struct limit_key *k)
{
	k->vip_id = vip_id;
	k->pad = 0;
	xlb_addr_mask(saddr, family == 4 ? 96 + vf->prefix_v4 : vf->prefix_v6, k->addr);
}

static __always_inline void limit_drop(__u32 vip_id, int conns)
{
	struct limit_drops *d = bpf_map_lookup_elem(&limit_drops, &vip_id);

	if (!d)
		return;
	if (conns)
		d->conns += 1;
	else
		d->rate += 1;
}

/* The key's live flows: xlbd's base from its last walk plus the data plane's counts since. */
static __always_inline __s64 limit_live(const struct limit_key *k, const struct limit_state *s)
{
	limit_base_t *base = bpf_map_lookup_elem(&limit_base, k);
	__s64 n = base ? *base : 0;

	if (s)
		n += (__s64)(s->opened - s->closed);
	return n;
}

/*
 * One token of the bucket (GCRA, in nanoseconds of credit): 1 if taken.
 * tat >= now: the bucket is in use, charged atomically; tat < now: it is
 * full again, set to now + cost.
 */
static __always_inline int limit_take(struct limit_state *s, __u64 cost, __u64 depth, __u64 now)
{
	__u64 tat = *(volatile __u64 *)&s->tat_ns;

	if (tat < now)
		tat = now;
	/* a bucket of an older, slower setting (a reload) is no deeper than this one */
	if (tat - now > depth) {
		tat = now + depth;
		s->tat_ns = tat;
	}
	if (tat + cost - now > depth)
		return 0;
	if (tat == now)
		s->tat_ns = now + cost;
	else
		__sync_fetch_and_add(&s->tat_ns, cost);
	return 1;
}

/*
 * A real new flow (not a fragment, ICMP error or retransmitted SYN) of a
 * client that is not allowlisted: XLB_PARSE_OK, or the reason it is
 * dropped (counted per VIP here).
 */
static __always_inline __u32 limit_new_flow(const struct packet *pkt, __u32 vip_id, __u64 now)
{
	/* looked up again, not carried from filter_source(): one pointer less to verify along */
	struct vip_filter *vf = bpf_map_lookup_elem(&vip_filter, &vip_id);
	struct limit_state *s, fresh = {};
	limit_base_t *base;
	struct limit_key k;
	__u64 cost, closed, old;

	if (!vf || !(vf->flags & XLB_FILTER_LIMITS) || !(vf->max_conns || vf->new_flows_per_s))
		return XLB_PARSE_OK;
	limit_key_of(pkt->flow.saddr, pkt->family, vip_id, vf, &k);
	s = bpf_map_lookup_elem(&limit_state, &k);
	if (!s) {
		/* an unknown client: a full bucket (tat 0), no flows */
		bpf_map_update_elem(&limit_state, &k, &fresh, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&limit_state, &k); /* ours, or another CPU's just made */
		if (!s)
			return XLB_PARSE_OK;
	}
	/*
	 * The cap takes its place at admission, not at promotion: a client's
	 * SYNs sent at once are each counted before the next is let in (the
	 * add returns the count it moved from). A flow that never gets past
	 * its handshake is forgotten by xlbd's next walk of the tables.
	 */
	if (vf->max_conns) {
		base = bpf_map_lookup_elem(&limit_base, &k);
		closed = *(volatile __u64 *)&s->closed;
		old = __sync_fetch_and_add(&s->opened, 1);
		if ((base ? *base : 0) + (__s64)(old - closed) >= (__s64)vf->max_conns) {
			__sync_fetch_and_sub(&s->opened, 1);
			limit_drop(vip_id, 1);
			return XLB_STAT_DROP_LIMIT_CONNS;
		}
	}
	if (!vf->new_flows_per_s)
		return XLB_PARSE_OK;
	cost = 1000000000ULL / vf->new_flows_per_s;
	if (!limit_take(s, cost, cost * vf->burst, now)) {
		if (vf->max_conns)
			__sync_fetch_and_sub(&s->opened, 1);
		limit_drop(vip_id, 0);
		return XLB_STAT_DROP_LIMIT_RATE;
	}
	return XLB_PARSE_OK;
}

/*
 * A flow of VIP vip_id entering the main table (opened) or moving to
 * closing (closed): the client prefix's live count, if the VIP caps it.
 */
static __always_inline void limit_conn(const struct packet *pkt, __u32 vip_id, __u32 closed)
{
	struct vip_filter *vf = bpf_map_lookup_elem(&vip_filter, &vip_id);
	struct limit_state *s;
	struct limit_key k;

	if (!closed || !vf || !(vf->flags & XLB_FILTER_LIMITS) || !vf->max_conns)
		return;
	limit_key_of(pkt->flow.saddr, pkt->family, vip_id, vf, &k);
	s = bpf_map_lookup_elem(&limit_state, &k);
	if (s) /* else its counts went with the entry: the walk has it */
		__sync_fetch_and_add(&s->closed, closed);
}

#endif /* XLB_LIMITS_H */
