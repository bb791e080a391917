/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The schedulers' choices that user space must repeat bit for bit (xlbctl
 * explain, tests): which two slots a flow's candidates come from, and
 * which of two loads wins. Built into the XDP program and into user space.
 */
#ifndef XLB_SCHED_PICK_H
#define XLB_SCHED_PICK_H

#include <linux/types.h>
#include "hash.h"

/* Slots after the second candidate's tried while they name the first's backend. */
#define XLB_P2C_PROBES 4

/* Candidate i (0 or 1) of a flow: its slot of the VIP's table. */
static __always_inline __u32 xlb_p2c_slot(__u32 hash, int i)
{
	return (i ? xlb_hash_final(hash, 2) : hash) % XLB_MAGLEV_SIZE;
}

struct xlb_load {
	__u64 flows;     /* with the picks since xlbd's count */
	__u64 rate;
	__u64 flow_rate; /* lt: what each pick since adds to rate */
	__u64 pending;   /* the picks since */
	__u32 weight;
};

/* lt: a backend's bytes/s, with what the picks since xlbd's count add; kept below 2^40. */
static __always_inline __u64 xlb_load_rate(const struct xlb_load *l)
{
	__u64 r = l->rate + l->pending * l->flow_rate;

	return r < (1ull << 40) ? r : (1ull << 40);
}

/*
 * Whether candidate a wins over b (ties go to a, the flow's first slot, so
 * they spread as the hash does). lc: fewer flows; wlc: fewer flows per
 * weight; lt: fewer bytes/s per weight (each pick since the last count
 * adding a flow's share, so picks between counts do not all go to one),
 * then as wlc. Products, not quotients: flows < 2^32, rates < 2^40 and
 * weights < 2^16 cannot overflow.
 */
static __always_inline int xlb_load_first_wins(__u8 sched, const struct xlb_load *a,
					       const struct xlb_load *b)
{
	__u64 wa = a->weight ? a->weight : 1, wb = b->weight ? b->weight : 1;
	__u64 ra = xlb_load_rate(a) * wb, rb = xlb_load_rate(b) * wa;

	if (sched == XLB_SCHED_LC)
		return a->flows <= b->flows;
	if (sched == XLB_SCHED_LT && ra != rb)
		return ra < rb;
	return a->flows * wb <= b->flows * wa;
}

#endif /* XLB_SCHED_PICK_H */
