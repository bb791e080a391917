/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A new flow's backend: the VIP's scheduler over the VIP's table, which
 * user space fills for it (README, "Schedulers"). Included by xlb.bpf.c
 * after the maps and the packet's helpers.
 */
#ifndef XLB_SCHED_H
#define XLB_SCHED_H

#include "hash.h"
#include "sched_pick.h"

static __always_inline __u32 table_slot(void *table, __u32 slot)
{
	__u32 *id = bpf_map_lookup_elem(table, &slot);

	return id ? *id : XLB_NO_BACKEND;
}

/*
 * rr, wrr: this CPU's next slot of the rotation. A cursor per CPU needs no
 * atomics; every CPU walks the whole rotation, so each CPU's flows, and
 * so their sum, keep the weights' shares.
 */
static __always_inline __u32 rotation_next(__u32 vip_id)
{
	__u64 *cursor = bpf_map_lookup_elem(&sched_cursor, &vip_id), slot;

	if (!cursor)
		return 0;
	slot = *cursor;
	if (slot >= XLB_MAGLEV_SIZE)
		slot = 0;
	*cursor = slot + 1;
	return (__u32)slot;
}

/* xlbd's count at its last write, plus this CPU's own picks since. */
static __always_inline struct xlb_load load_of(__u32 id, struct backend_pending **pending)
{
	struct backend_load *l = bpf_map_lookup_elem(&backend_load, &id);
	struct backend_pending *p = bpf_map_lookup_elem(&backend_pending, &id);
	struct backend_live *lv = bpf_map_lookup_elem(&backend_live, &id);
	struct xlb_load out = {};
	__u64 picks, closes;

	*pending = NULL;
	if (!l || !p || !lv)
		return out;
	out.flows = l->flows;
	out.rate = l->rate;
	out.flow_rate = l->flow_rate;
	out.weight = l->weight;
	picks = lv->picks;
	closes = lv->closes;
	if (p->epoch != l->epoch) {
		p->epoch = l->epoch;
		p->count = 0;
		p->picks_base = picks;
		p->closes_base = closes;
	}
	/* every CPU's picks since, less their closes: flows opened and gone weigh nothing */
	picks -= p->picks_base;
	closes -= p->closes_base;
	out.flows = picks >= closes ? out.flows + (picks - closes) :
		    out.flows > closes - picks ? out.flows - (closes - picks) : 0;
	out.pending = p->count;
	*pending = p;
	return out;
}

/*
 * lc, wlc, lt: the power of two choices. The flow's hash names two slots
 * of the table (weighted Maglev for wlc and lt: candidates drawn by weight,
 * as IPVS's twos), and the less loaded backend of the two wins. Two, not
 * all: a new flow costs the same for 3 backends or 3,000, and counts that
 * are up to XLB_LOAD_PERIOD_MS old do not send every new flow to the one
 * backend that looked least loaded at the last count.
 */
static __always_inline __u32 least_of_two(void *table, __u8 sched, __u32 hash)
{
	struct backend_pending *pa, *pb;
	struct xlb_load la, lb;
	__u32 a, b = XLB_NO_BACKEND, slot, i;

	a = table_slot(table, xlb_p2c_slot(hash, 0));
	slot = xlb_p2c_slot(hash, 1);
	for (i = 0; i < XLB_P2C_PROBES; i++) {
		b = table_slot(table, slot);
		if (b != a)
			break;
		slot = slot + 1 < XLB_MAGLEV_SIZE ? slot + 1 : 0;
	}
	if (a == XLB_NO_BACKEND)
		return XLB_NO_BACKEND;
	la = load_of(a, &pa);
	if (b != a && b != XLB_NO_BACKEND) {
		lb = load_of(b, &pb);
		if (!xlb_load_first_wins(sched, &la, &lb)) {
			a = b;
			pa = pb;
		}
	}
	if (pa) {
		struct backend_live *lv = bpf_map_lookup_elem(&backend_live, &a);

		pa->count += 1;
		if (lv)
			__sync_fetch_and_add(&lv->picks, 1);
	}
	return a;
}

/* The client's address, masked to the VIP's persist prefix. */
static __always_inline void persist_key_of(const struct packet *pkt, __u32 vip_id,
					   const struct vip_sched *vs, struct persist_key *k)
{
	k->vip_id = vip_id;
	k->pad = 0;
	xlb_addr_mask(pkt->flow.saddr,
		      pkt->family == 4 ? 96 + vs->persist_prefix4 : vs->persist_prefix6, k->addr);
}

/*
 * The prefix's backend, while it takes new flows and the prefix is within
 * its time. refresh: a new flow of the prefix, which restarts its time.
 */
static __always_inline __u32 persist_find(const struct persist_key *k, __u32 vip_id,
					  const struct vip_sched *vs, __u32 tick, int refresh)
{
	struct persist_entry *e = bpf_map_lookup_elem(&persist, k);
	struct backend *be;

	if (!e || !XLB_TICK_ALIVE(e->seen, tick, vs->persist_ticks))
		return XLB_NO_BACKEND;
	be = bpf_map_lookup_elem(&backends, &e->backend_id);
	if (!be || be->gen != e->backend_gen || be->vip_id != vip_id ||
	    !(be->flags & XLB_BACKEND_F_NEW_FLOWS))
		return XLB_NO_BACKEND;
	if (refresh && e->seen != tick)
		e->seen = tick;
	return e->backend_id;
}

static __always_inline void persist_write(const struct persist_key *k, __u32 backend_id,
					  __u32 tick)
{
	struct backend *be = bpf_map_lookup_elem(&backends, &backend_id);
	struct persist_entry e = { .backend_id = backend_id, .seen = tick };

	if (!be)
		return;
	e.backend_gen = be->gen;
	if (!bpf_map_update_elem(&persist, k, &e, BPF_ANY))
		stat_inc(XLB_STAT_PERSIST_WRITE);
}

/* How pick_backend() may pick: what a packet that no table holds is. */
enum xlb_pick {
	XLB_PICK_HASH, /* a fragment or an ICMP error: not a flow */
	XLB_PICK_PEEK, /* a TCP packet that is not a bare SYN: a flow already begun */
	XLB_PICK_NEW,  /* a flow's first packet: a bare SYN, a UDP datagram */
};

static __always_inline int pick_mode(const struct packet *pkt)
{
	if (pkt->fragment || pkt->icmp_error)
		return XLB_PICK_HASH;
	return pkt->flow.proto == IPPROTO_TCP && !bare_syn(pkt) ? XLB_PICK_PEEK : XLB_PICK_NEW;
}

/*
 * The backend for a packet that no table holds. Only a flow's first packet
 * is scheduled and changes scheduler state (a rotation's turn, a pick
 * counted as load, a persist entry): anything else, a spoofed ACK or a
 * flow whose entry was lost, would move a live connection or let a flood
 * steer the scheduler. Those get their persist entry, if any (read, not
 * renewed), else the hash's slot: what Maglev gives, whatever the
 * scheduler.
 */
static __always_inline __u32 pick_backend(const struct packet *pkt, const struct vip_meta *vip,
					  __u32 tick, int mode)
{
	struct persist_key pk;
	struct vip_sched *vs = NULL;
	__u32 hash, id, vip_id = vip->id;
	void *table;

	table = bpf_map_lookup_elem(&maglev_tables, &vip_id);
	if (!table)
		return XLB_NO_BACKEND;
	if (vip->sched == XLB_SCHED_SOURCE_HASH)
		hash = xlb_hash_addr(pkt->flow.saddr);
	else
		hash = xlb_hash_flow(pkt->flow.saddr, pkt->flow.daddr, pkt->flow.sport,
				     pkt->flow.dport, pkt->flow.proto);
	if (mode == XLB_PICK_HASH)
		return table_slot(table, hash % XLB_MAGLEV_SIZE);

	if (vip->flags & XLB_VIP_F_PERSIST) {
		vs = bpf_map_lookup_elem(&vip_sched, &vip_id);
		if (vs) {
			persist_key_of(pkt, vip_id, vs, &pk);
			id = persist_find(&pk, vip_id, vs, tick, mode == XLB_PICK_NEW);
			if (id != XLB_NO_BACKEND) {
				if (mode == XLB_PICK_NEW)
					stat_inc(XLB_STAT_PERSIST_HIT);
				return id;
			}
		}
	}
	if (mode != XLB_PICK_NEW)
		return table_slot(table, hash % XLB_MAGLEV_SIZE);
	switch (vip->sched) {
	case XLB_SCHED_RR:
	case XLB_SCHED_WRR:
		id = table_slot(table, rotation_next(vip_id));
		break;
	case XLB_SCHED_LC:
	case XLB_SCHED_WLC:
	case XLB_SCHED_LT:
		id = least_of_two(table, vip->sched, hash);
		break;
	default:
		id = table_slot(table, hash % XLB_MAGLEV_SIZE);
	}
	if (vs && id != XLB_NO_BACKEND)
		persist_write(&pk, id, tick);
	return id;
}

#endif /* XLB_SCHED_H */
