/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The load balancer's state in user space: VIPs, their backends and the
 * ids they use in the maps. Every change is pushed to the data plane at
 * once, in an order that never lets a packet see a half-made change.
 */
#ifndef XLB_LB_H
#define XLB_LB_H

#include <linux/types.h>
#include "dataplane.h"
#include "lbtable.h"

enum xlb_backend_state {
	XLB_BE_UP,       /* in the Maglev table */
	XLB_BE_DOWN,     /* failing checks: out, its flows move */
	XLB_BE_DRAIN,    /* admin: no new flows, established flows stay */
	XLB_BE_DISABLED, /* admin: out, its flows move */
};

struct xlb_backend_spec {
	__be32 addr[4];
	__u32 weight;
	__u32 state; /* enum xlb_backend_state */
	__u8 mac[6];
	__u8 src_mac[6];
	__u32 ifindex;
};

struct xlb_lb_backend {
	struct xlb_backend_spec spec;
	__u32 id;
	struct backend written; /* what the map holds, to skip needless writes */
};

struct xlb_lb_vip {
	struct vip_key key;
	__u8 sched;
	__u8 forward;
	__u8 in_use;
	__u8 dirty;        /* its table is not written as its backends now are */
	__u8 partial;      /* part of a write is in: counted as a rebuild when done */
	__u8 urgent;       /* a backend left it: written at once unless written within coalesce_ms */
	__u64 dirty_ms;    /* since when (CLOCK_MONOTONIC): written by then + coalesce_ms */
	__u64 written_ms;  /* when its table was last written */
	__u64 change_seq;  /* lb->changes at its last change */
	struct xlb_vip_table table;
	__u32 *unreleased; /* ids of deleted backends: free once the table no longer names them */
	__u32 nunreleased;
	__u32 id;
	struct xlb_lb_backend *backends;
	__u32 nbackends;
	__u32 cap;
	__u32 *by_addr;   /* open addressing: index + 1 into backends, 0 = free */
	__u32 by_addr_cap; /* a power of two, at least twice cap */
	__u64 table_digest; /* of the table last pushed, by address (digest.c) */
	struct vip_sched persist; /* persist_ticks 0: no persist */
};

struct xlb_lb {
	struct xlb_dp *dp;
	struct xlb_lb_vip vips[XLB_MAX_VIPS]; /* index = VIP id */
	__u32 backend_gen[XLB_MAX_BACKENDS];
	__u8 backend_used[XLB_MAX_BACKENDS];
	__u32 next_backend_id; /* ids are handed out round-robin, not reused at once */
	__u32 *table, *slots, *ids; /* scratch for table builds and writes */
	__u32 coalesce_ms;     /* 0: a table is written at each change (outside batches) */
	__u64 changes;         /* table-changing calls so far */
	__u64 rebuilds;        /* table writes that changed slots */
	const struct xlb_lb_vip *table_vip; /* whose build lb->table holds, at which change */
	__u64 table_seq;
	int table_count;       /* backends in that build */
	__u64 table_digest_built; /* of that build, by address (digest.c) */
	int empty_fd;          /* the shared empty table (lbtable.c), or -1 */
	struct xlb_table_attach attach;
	__u32 attach_ids[XLB_MAX_VIPS];
	int attach_fds[XLB_MAX_VIPS];
	struct backend *adopting; /* the backends map as a previous daemon left it */
	__u32 *adopt_index;       /* (VIP id, address) -> id in adopting that keeps flows */
	__u8 vip_reserved[XLB_MAX_VIPS]; /* adopting: ids the pinned maps still use */
	int batch;                /* depth of xlb_lb_batch_begin/end */
};

struct xlb_lb *xlb_lb_new(struct xlb_dp *dp);
void xlb_lb_free(struct xlb_lb *lb);

/* In the table: up, with a weight. */
static inline int xlb_lb_in_table(const struct xlb_backend_spec *spec)
{
	return spec->state == XLB_BE_UP && spec->weight > 0;
}

struct xlb_lb_vip *xlb_lb_vip_find(struct xlb_lb *lb, const struct vip_key *key);
/* O(1): each VIP indexes its backends by address. */
struct xlb_lb_backend *xlb_lb_backend_find(struct xlb_lb_vip *vip,
					   const __be32 addr[4]);

/*
 * Adoption of a data plane left by a previous daemon. Between begin and
 * finish, adding a VIP or backend that is already in the maps takes over
 * its id (and generation), so established flows and counters carry on;
 * finish removes whatever was in the maps but was not added again.
 */
int xlb_lb_adopt_begin(struct xlb_lb *lb);
/*
 * Many changes at once (a config applied, a reload): each VIP's table is
 * rebuilt once, at the end, instead of after every backend.
 */
void xlb_lb_batch_begin(struct xlb_lb *lb);
int xlb_lb_batch_end(struct xlb_lb *lb);    /* rebuilds when the outermost batch ends */
int xlb_lb_flush(struct xlb_lb *lb);        /* rebuild stale tables now, batch or not */

/*
 * Coalescing (the daemon): with coalesce_ms set, a change outside a batch
 * only marks its VIP dirty; xlb_lb_tables_due() writes its table at most
 * once per coalesce_ms and always after its last change. A backend joining
 * waits coalesce_ms (more join with it). A backend leaving is out of
 * service at once (new flows that still meet it in the table are dropped,
 * not sent to it) and out of the table at the next loop turn, or within
 * coalesce_ms of the table's last write, plus the time the writes due
 * before it take (earliest due first): the bound on that drop window.
 */
void xlb_lb_set_coalesce(struct xlb_lb *lb, __u32 ms);
/*
 * Write due tables, oldest change first, until about budget_ms have gone
 * (at least one). Returns the ms until the next one is due (0: some are
 * due now), or -1 when none is dirty: an epoll_wait timeout.
 */
int xlb_lb_tables_due(struct xlb_lb *lb, __u32 budget_ms);
/* A mark before a call, then the tables of the VIPs it changed written now. */
__u64 xlb_lb_changes(const struct xlb_lb *lb);
int xlb_lb_flush_since(struct xlb_lb *lb, __u64 mark);
/* VIPs whose table waits to be written. */
__u32 xlb_lb_tables_pending(const struct xlb_lb *lb);
int xlb_lb_adopt_finish(struct xlb_lb *lb);
/* Would adding addr to the VIP take over a backend that serves flows now? */
int xlb_lb_adoptable(struct xlb_lb *lb, const struct vip_key *key, const __be32 addr[4]);

/* Each returns 0 (or the new id for *_add) or a negative errno. */
int xlb_lb_vip_add(struct xlb_lb *lb, const struct vip_key *key, __u8 sched,
		   __u8 forward);
int xlb_lb_vip_del(struct xlb_lb *lb, const struct vip_key *key);
int xlb_lb_vip_update(struct xlb_lb *lb, const struct vip_key *key, __u8 sched,
		      __u8 forward);
/* persist: a client prefix keeps its backend (persist_ticks 0: off). */
int xlb_lb_vip_persist(struct xlb_lb *lb, const struct vip_key *key, const struct vip_sched *ps);
int xlb_lb_backend_add(struct xlb_lb *lb, const struct vip_key *key,
		       const struct xlb_backend_spec *spec);
/* Replace a backend's spec (weight, state, MAC, ...); the address identifies it. */
int xlb_lb_backend_update(struct xlb_lb *lb, const struct vip_key *key,
			  const struct xlb_backend_spec *spec);
int xlb_lb_backend_del(struct xlb_lb *lb, const struct vip_key *key,
		       const __be32 addr[4]);

#endif /* XLB_LB_H */
