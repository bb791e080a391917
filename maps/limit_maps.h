/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-client limits (README, "Under attack"): new flows per second and
 * live flows per (VIP, client prefix). The VIP's settings are in its
 * vip_filter entry (filter_maps.h); bpf/limits.h is the data plane's side,
 * user/xlbd/limits.c the walk that corrects the live counts.
 */
#ifndef XLB_LIMIT_MAPS_H
#define XLB_LIMIT_MAPS_H

#include <linux/types.h>

#ifndef XLB_LIMIT_CLIENTS
#define XLB_LIMIT_CLIENTS 262144 /* client prefixes with a bucket, all VIPs: an LRU */
#endif
#define XLB_LIMIT_RATE_MAX 1000000  /* new_flows_per_s */
#define XLB_LIMIT_BURST_MAX 1000000
#define XLB_LIMIT_CONNS_MAX 100000000

/* A client prefix of a VIP: the address masked to the VIP's prefix_v4/_v6 (16-byte form). */
struct limit_key {
	__u32 vip_id;
	__u32 pad;
	__be32 addr[4];
};

/*
 * limit_state: one per key, shared by the CPUs. tat_ns is the bucket as a
 * theoretical arrival time (GCRA): a new flow is let in while
 * max(tat, now) + cost <= now + burst * cost, cost = 1 s / rate; an unknown
 * key is a full bucket (tat 0). opened and closed count the key's flows
 * entering the main table and moving to closing (atomic adds).
 */
struct limit_state {
	__u64 tat_ns;
	__u64 opened;
	__u64 closed;
};

/*
 * limit_base (written by xlbd only): a key's live flows are
 * base + opened - closed. The walk of the main tables sets base, so that
 * evicted and expired entries, silent in the data plane, stop counting.
 * Absent: 0.
 */
typedef __s64 limit_base_t;

/* limit_drops[VIP id], per CPU: new flows refused, by reason. */
struct limit_drops {
	__u64 rate;
	__u64 conns;
};

#endif /* XLB_LIMIT_MAPS_H */
