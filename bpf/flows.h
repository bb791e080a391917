/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The connection tables of the data plane (README, "Connection table"):
 * the per-CPU flow cache, the main tables flows4/flows6, probation, an
 * older build's table, and flow_lookup(), which asks them in that order.
 * Included by xlb.bpf.c after its load-time settings and stat_inc().
 */
#ifndef XLB_FLOWS_H
#define XLB_FLOWS_H

static __always_inline __u64 idle_timeout(__u8 proto)
{
	return proto == IPPROTO_TCP ? tcp_idle_ns : udp_idle_ns;
}

/* Within its timeout (XLB_TICK_ALIVE: another CPU may have stamped it a tick after ours). */
static __always_inline int flow_alive(__u32 seen, __u32 tick, __u8 proto, __u8 state)
{
	__u64 timeout = state == XLB_FLOW_CLOSING ? tcp_closing_ns : idle_timeout(proto);

	return XLB_TICK_ALIVE(seen, tick, XLB_TIMEOUT_TICKS(timeout));
}

static __always_inline int bare_syn(const struct packet *pkt)
{
	return pkt->flow.proto == IPPROTO_TCP &&
	       (pkt->tcp_flags & (XLB_TCP_SYN | XLB_TCP_ACK)) == XLB_TCP_SYN;
}

static __always_inline int ends_flow(const struct packet *pkt)
{
	return pkt->flow.proto == IPPROTO_TCP && (pkt->tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST));
}

/* The backend a table entry names, if it still serves the entry's flows. */
static __always_inline struct backend *flow_backend(__u32 id, __u32 gen)
{
	struct backend *be = bpf_map_lookup_elem(&backends, &id);

	if (be && be->gen == gen && (be->flags & XLB_BACKEND_F_KEEP_FLOWS))
		return be;
	return NULL;
}

static __always_inline void flow_count(__u32 backend_id, __u32 opened, __u32 closed)
{
	struct flow_counts *c = bpf_map_lookup_elem(&backend_flows, &backend_id);
	struct backend_live *lv;

	if (c) {
		c->opened += opened;
		c->closed += closed;
	}
	/* a backend lc, wlc or lt picks: its closes, shared (sched.h load_of) */
	lv = closed ? bpf_map_lookup_elem(&backend_live, &backend_id) : NULL;
	if (lv && lv->picks)
		__sync_fetch_and_add(&lv->closes, closed);
}

static __always_inline void flow4_key_of(const struct packet *pkt, struct flow4_key *k4)
{
	k4->saddr = pkt->flow.saddr[3];
	k4->daddr = pkt->flow.daddr[3];
	k4->sport = pkt->flow.sport;
	k4->dport = pkt->flow.dport;
	k4->proto = pkt->flow.proto;
}

static __always_inline struct flow_state *main_lookup(const struct packet *pkt,
						      const struct flow4_key *k4)
{
	if (pkt->family == 4)
		return bpf_map_lookup_elem(&flows4, k4);
	return bpf_map_lookup_elem(&flows6, &pkt->flow);
}

/* A flow seen again (or met in the legacy table) enters the main table. 0 or -errno. */
static __always_inline long promote(const struct packet *pkt, const struct flow4_key *k4,
				    __u32 vip_id, __u32 backend_id, __u32 gen, __u32 tick,
				    __u32 reason)
{
	struct flow_state st = {
		.backend_id = backend_id,
		.backend_gen = gen,
		.seen = tick,
		.state = ends_flow(pkt) ? XLB_FLOW_CLOSING : XLB_FLOW_ESTABLISHED,
	};
	long err;

	if (pkt->family == 4)
		err = bpf_map_update_elem(&flows4, k4, &st, BPF_ANY);
	else
		err = bpf_map_update_elem(&flows6, &pkt->flow, &st, BPF_ANY);
	if (err) {
		stat_inc(XLB_STAT_CT_INSERT_FAILED);
		return err;
	}
	stat_inc(reason);
	flow_count(backend_id, 1, st.state == XLB_FLOW_CLOSING);
	limit_conn(pkt, vip_id, st.state == XLB_FLOW_CLOSING);
	if (st.state == XLB_FLOW_CLOSING)
		stat_inc(XLB_STAT_CT_CLOSING);
	return 0;
}

/* A packet of a flow in the main table: its last-seen tick, and its end. */
static __always_inline void flow_touch(struct flow_state *st, const struct packet *pkt,
				       __u32 vip_id, __u32 tick)
{
	if (ends_flow(pkt) && st->state != XLB_FLOW_CLOSING) {
		st->state = XLB_FLOW_CLOSING;
		st->seen = tick;
		flow_count(st->backend_id, 0, 1);
		limit_conn(pkt, vip_id, 1);
		stat_inc(XLB_STAT_CT_CLOSING);
		return;
	}
	/* a cache line written only when the tick moved: ~60 times a second at most */
	if (st->seen != tick)
		st->seen = tick;
}

/* Every input bit reaches the slot: clients often differ only in an address's or port's last byte. */
static __always_inline __u32 cache_index(__u32 h)
{
	return xlb_hash_final(h, 0) & (XLB_FLOW_CACHE_SLOTS - 1);
}

static __always_inline struct flow_cache4 *cache4_slot(const struct flow4_key *k4)
{
	__u32 slot = cache_index(k4->saddr ^ xlb_rotl32(k4->daddr, 13) ^
				 ((__u32)k4->sport << 16 | k4->dport));

	return bpf_map_lookup_elem(&flow_cache4, &slot);
}

static __always_inline struct flow_cache6 *cache6_slot(const struct flow_key *k)
{
	__u32 slot = cache_index(k->saddr[0] ^ k->saddr[1] ^ xlb_rotl32(k->saddr[2], 7) ^
				 xlb_rotl32(k->saddr[3], 17) ^ xlb_rotl32(k->daddr[3], 13) ^
				 ((__u32)k->sport << 16 | k->dport));

	return bpf_map_lookup_elem(&flow_cache6, &slot);
}

static __always_inline int same_flow4(const struct flow4_key *a, const struct flow4_key *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline int same_flow(const struct flow_key *a, const struct flow_key *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/*
 * The cache's answer, if the main table gave it for this flow in this very
 * tick. A FIN or RST changes the entry: it goes to the table.
 */
static __always_inline struct backend *cache_find(const struct packet *pkt,
						  const struct flow4_key *k4, __u32 tick,
						  __u32 *backend_id)
{
	__u32 id, gen, at, valid;

	if (ends_flow(pkt))
		return NULL;
	if (pkt->family == 4) {
		struct flow_cache4 *c = cache4_slot(k4);

		if (!c || !same_flow4(&c->key, k4))
			return NULL;
		id = c->backend_id, gen = c->backend_gen, at = c->tick, valid = c->valid;
	} else {
		struct flow_cache6 *c = cache6_slot(&pkt->flow);

		if (!c || !same_flow(&c->key, &pkt->flow))
			return NULL;
		id = c->backend_id, gen = c->backend_gen, at = c->tick, valid = c->valid;
	}
	if (!valid || at != tick)
		return NULL;
	*backend_id = id;
	return flow_backend(id, gen);
}

/* After a main-table hit: an established flow is cached for this tick, a closing one is not. */
static __always_inline void cache_fill(const struct packet *pkt, const struct flow4_key *k4,
				       const struct flow_state *st, __u32 tick)
{
	__u32 valid = st->state == XLB_FLOW_ESTABLISHED;

	if (pkt->family == 4) {
		struct flow_cache4 *c = cache4_slot(k4);

		if (!c)
			return;
		c->key = *k4;
		c->backend_id = st->backend_id;
		c->backend_gen = st->backend_gen;
		c->tick = tick;
		c->valid = valid;
	} else {
		struct flow_cache6 *c = cache6_slot(&pkt->flow);

		if (!c)
			return;
		c->key = pkt->flow;
		c->backend_id = st->backend_id;
		c->backend_gen = st->backend_gen;
		c->tick = tick;
		c->valid = valid;
	}
}

/* A main-table entry that was not used takes the flow's fresh pick, in place. */
static __always_inline void flow_restart(struct flow_state *st, const struct packet *pkt,
					 __u32 vip_id, __u32 backend_id, __u32 gen, __u32 tick)
{
	__u8 state = ends_flow(pkt) ? XLB_FLOW_CLOSING : XLB_FLOW_ESTABLISHED;

	/* the client's live count: the old flow (if it counted) out, the new one in */
	limit_conn(pkt, vip_id, (st->state == XLB_FLOW_ESTABLISHED) + (state == XLB_FLOW_CLOSING));

	/* the flow it held ends here: its backend's count goes down (README, live counts) */
	if (st->state == XLB_FLOW_ESTABLISHED)
		flow_count(st->backend_id, 0, 1);
	st->backend_id = backend_id;
	st->backend_gen = gen;
	st->seen = tick;
	st->state = state;
	flow_count(backend_id, 1, state == XLB_FLOW_CLOSING);
	if (state == XLB_FLOW_CLOSING)
		stat_inc(XLB_STAT_CT_CLOSING);
}

/* Slot i (0 or 1) of the flow's two, if it holds this flow whole and alive. */
static __always_inline struct flow_probation *probation_slot(const struct packet *pkt,
							     __u32 phash, int i, __u32 tick,
							     __u32 *backend_id, __u32 *backend_gen)
{
	__u32 slot = xlb_probation_slot(phash, i), id, gen;
	struct flow_probation *p = bpf_map_lookup_elem(&flow_probation, &slot);

	if (!p)
		return NULL;
	/* read once: another CPU may be rewriting the slot, the check says which write we read */
	id = *(volatile __u32 *)&p->backend_id;
	gen = *(volatile __u32 *)&p->backend_gen;
	if (*(volatile __u32 *)&p->check != xlb_probation_check(phash, id, gen) ||
	    !same_flow(&p->key, &pkt->flow) ||
	    !flow_alive(p->seen, tick, pkt->flow.proto, XLB_FLOW_ESTABLISHED))
		return NULL;
	*backend_id = id;
	*backend_gen = gen;
	return p;
}

static __always_inline struct flow_probation *probation_find(const struct packet *pkt,
							     __u32 phash, __u32 tick,
							     __u32 *backend_id, __u32 *backend_gen)
{
	struct flow_probation *p = probation_slot(pkt, phash, 0, tick, backend_id, backend_gen);

	return p ?: probation_slot(pkt, phash, 1, tick, backend_id, backend_gen);
}

/* A slot holding a flow still on probation (promotion clears check). */
static __always_inline int probation_held(const struct flow_probation *p, __u32 tick)
{
	return p->check && flow_alive(p->seen, tick, p->key.proto, XLB_FLOW_ESTABLISHED);
}

/*
 * A flow's first packet: the slot that holds this flow already (its entry
 * was not used), else the first of its two that is free, else the one
 * whose flow was seen longer ago. evict 0 (a packet that does not start a
 * flow: a spoofed ACK looks like one): never over a slot a flow's start
 * wrote, so an ACK flood cannot push a handshake out between its SYN and
 * its ACK; such packets do take each other's, so a flood of them churns
 * and a repeated spoofed tuple rarely finds its slot again (promotion).
 * Returns 1 if written.
 */
static __always_inline int probation_write(const struct packet *pkt, __u32 phash,
					   __u32 backend_id, __u32 gen, __u32 tick, int evict)
{
	__u32 s0 = xlb_probation_slot(phash, 0), s1 = xlb_probation_slot(phash, 1);
	struct flow_probation *p = bpf_map_lookup_elem(&flow_probation, &s0);
	struct flow_probation *q = bpf_map_lookup_elem(&flow_probation, &s1);

	if (!p || !q)
		return 0;
	if (same_flow(&q->key, &pkt->flow) && !same_flow(&p->key, &pkt->flow))
		p = q;
	else if (!same_flow(&p->key, &pkt->flow) && probation_held(p, tick)) {
		struct flow_probation *other = q;

		if (!probation_held(q, tick) || (__s32)(p->seen - q->seen) > 0) {
			other = p;
			p = q;
		}
		if (probation_held(p, tick)) {
			if (!evict && (p->flags & XLB_PROBATION_F_START))
				p = other; /* both held: the other, if no start wrote it */
			if (!evict && (p->flags & XLB_PROBATION_F_START)) {
				stat_inc(XLB_STAT_CT_PROBATION_BUSY);
				return 0;
			}
			stat_inc(XLB_STAT_CT_PROBATION_OVERWRITE);
		}
	}
	/* a reader on another CPU meets a slot being written as empty (no store is elided) */
	*(volatile __u32 *)&p->check = 0;
	asm volatile("" ::: "memory");
	__builtin_memcpy(&p->key, &pkt->flow, sizeof(p->key));
	p->backend_id = backend_id;
	p->backend_gen = gen;
	p->seen = tick;
	p->flags = evict ? XLB_PROBATION_F_START : 0;
	asm volatile("" ::: "memory");
	*(volatile __u32 *)&p->check = xlb_probation_check(phash, backend_id, gen);
	return 1;
}

/*
 * The tables, in the order they are asked (README, "Connection table"):
 * the family's main table, probation, an older build's table. Returns the
 * backend the flow is held on, or NULL for a fresh pick. *stale is a main
 * entry of this tuple that is not used (its backend changed, it expired,
 * or a SYN starts a closing tuple again): the fresh pick is written over it.
 */
static __always_inline struct backend *flow_lookup(const struct packet *pkt,
						   const struct flow4_key *k4, __u32 *phash,
						   __u64 now, __u32 tick, __u32 *backend_id,
						   struct flow_state **stale)
{
	struct flow_probation *p;
	__u32 pid = 0, pgen = 0;
	struct flow_entry *old;
	struct flow_state *st;
	struct backend *be;

	be = cache_find(pkt, k4, tick, backend_id);
	if (be) {
		if (!pkt->icmp_error)
			stat_inc(XLB_STAT_CT_HIT);
		return be;
	}
	st = main_lookup(pkt, k4);
	if (st && (be = flow_backend(st->backend_id, st->backend_gen)) &&
	    flow_alive(st->seen, tick, pkt->flow.proto, st->state)) {
		if (st->state == XLB_FLOW_CLOSING && bare_syn(pkt)) {
			*stale = st; /* port reuse: the new connection gets a fresh pick */
			stat_inc(XLB_STAT_CT_REOPENED);
			return NULL;
		}
		*backend_id = st->backend_id;
		/* an ICMP error says nothing of the flow's life */
		if (!pkt->icmp_error) {
			/* a flow seen before in this tick is busy: worth a cache slot */
			int busy = st->seen == tick;

			flow_touch(st, pkt, be->vip_id, tick);
			stat_inc(XLB_STAT_CT_HIT);
			if (busy || st->state != XLB_FLOW_ESTABLISHED)
				cache_fill(pkt, k4, st, tick);
		}
		return be;
	}
	*stale = st;

	/* the probation slot's hash: only flows the main table does not hold pay for it */
	*phash = xlb_hash_entropy(pkt->flow.saddr, pkt->flow.daddr, pkt->flow.sport,
				  pkt->flow.dport, pkt->flow.proto);
	p = probation_find(pkt, *phash, tick, &pid, &pgen);
	if (p && (be = flow_backend(pid, pgen))) {
		*backend_id = pid;
		if (pkt->icmp_error)
			return be;
		stat_inc(XLB_STAT_CT_PROBATION_HIT);
		if (bare_syn(pkt)) { /* a retransmitted SYN proves nothing */
			p->seen = tick;
			return be;
		}
		/* the slot is free for the next new flow, once the flow is safe in the table */
		if (!promote(pkt, k4, be->vip_id, pid, pgen, tick, XLB_STAT_CT_PROMOTED))
			*(volatile __u32 *)&p->check = 0;
		return be;
	}

	if (!legacy_ct || st)
		return NULL; /* the main table's word is newer */
	if (bare_syn(pkt)) { /* a new connection: the old one's entry must not come back */
		bpf_map_delete_elem(&conntrack, &pkt->flow);
		return NULL;
	}
	old = bpf_map_lookup_elem(&conntrack, &pkt->flow);
	if (!old || !(be = flow_backend(old->backend_id, old->backend_gen)) ||
	    (__s64)(now - old->last_seen_ns) > (__s64)idle_timeout(pkt->flow.proto))
		return NULL;
	*backend_id = old->backend_id;
	/* moved, not copied: once the main entry closes or expires, the old one must not revive it */
	if (!pkt->icmp_error &&
	    !promote(pkt, k4, be->vip_id, old->backend_id, old->backend_gen, tick,
		     XLB_STAT_CT_LEGACY_HIT))
		bpf_map_delete_elem(&conntrack, &pkt->flow);
	return be;
}

#endif /* XLB_FLOWS_H */
