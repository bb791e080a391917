/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A VIP's Maglev table in the data plane: one inner map of maglev_tables,
 * made once and then written in place, only the slots that change.
 *
 * Why in place and not a fresh map swapped in per change: a swap is a
 * map-in-map update, which returns only after an RCU grace period, and a
 * fresh map is written whole (65,537 slots); measured at 100 VIPs x 100
 * backends that was ~40 ms per change, and 10,000 health transitions
 * queued for minutes. A change of one backend of n moves about 1/n of the
 * slots, and those are all that is written here.
 *
 * Why that is safe: a packet reads one slot of one table (pick_backend),
 * and each slot is one aligned 4-byte value, stored whole. While a table
 * is being written every slot holds its old or its new backend, so every
 * packet meets a table that is the old one or the new one for its slot;
 * no mix can send it anywhere else. What a slot may name is kept valid
 * across the write by lb.c: a backend is written to the backends map
 * before a table names it, one leaving is out of service (no KEEP_FLOWS:
 * a packet that still finds it in a slot is dropped, never sent to it)
 * before its slots move, and its id is handed out again only after its
 * table no longer names it and a grace period has passed (the attach).
 */
#ifndef XLB_LBTABLE_H
#define XLB_LBTABLE_H

#include <linux/types.h>
#include "../../maps/xlb_maps.h"

struct xlb_dp;
struct xlb_lb_vip;

enum {
	XLB_TABLE_NONE,  /* maglev_tables holds nothing of ours for the VIP (or a previous daemon's map) */
	XLB_TABLE_OWN,   /* its own map */
	XLB_TABLE_EMPTY, /* the shared empty map: the VIP has no backend in service */
};

struct xlb_vip_table {
	__u16 *held;     /* what its own inner map holds, by slot; NULL: no map yet */
	int fd;          /* its own inner map, when held */
	__u32 *mem;      /* its slots, mapped (mmapable tables), or NULL */
	__u8 points;     /* where maglev_tables points for the VIP: XLB_TABLE_* */
};

/* VIPs whose maglev_tables entry is to change, all in one call (lbtable.c). */
struct xlb_table_attach {
	__u32 n;
	struct xlb_lb_vip *vips[XLB_MAX_VIPS];
	__u8 to_empty[XLB_MAX_VIPS];
};

void xlb_vip_table_free(struct xlb_vip_table *t);

/* table[slot] = the backend id the VIP's backends give it; returns how many are in it, or -errno. */
int xlb_vip_table_build(const struct xlb_lb_vip *vip, __u32 *table, __u64 *digest);

/*
 * Make the inner map hold table (a new map, all XLB_NO_BACKEND, the first
 * time): one batch of the slots that differ, at most max of them, with
 * slots and ids as scratch (XLB_MAGLEV_SIZE each). A mapped table is
 * written whole, as memory: each slot one aligned 4-byte store, the same
 * one-slot-at-a-time change the batch makes, at a fraction of its cost.
 * Returns how many slots differed (more than max: not done yet), or -errno.
 */
int xlb_vip_table_write(struct xlb_dp *dp, struct xlb_vip_table *t, const __u32 *table,
			__u32 *slots, __u32 *ids, __u32 max);

/* For lb.c: a VIP's table changed; the ids of its deleted backends freed. */
struct xlb_lb;
void xlb_lb_vip_mark(struct xlb_lb *lb, struct xlb_lb_vip *vip, int urgent);
void xlb_lb_vip_release_ids(struct xlb_lb *lb, struct xlb_lb_vip *vip);
/* Write the tables of vips[0..n-1] now, whole (one that fails stays dirty). */
int xlb_lb_tables_write(struct xlb_lb *lb, struct xlb_lb_vip **vips, __u32 n);

#endif /* XLB_LBTABLE_H */
