/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Inside explain: what explain.c and explain_sched.c share. */
#ifndef XLB_EXPLAIN_INT_H
#define XLB_EXPLAIN_INT_H

#include "explain.h"

/* The packet starts a flow: a bare SYN, a UDP datagram (bpf/sched.h pick_mode). */
int xlb_explain_starts_flow(const struct xlb_explain *e);

/* One slot of a VIP's table as the program reads it: 1 found, 0 not, or -errno. */
int xlb_explain_slot(struct xlb_dp *dp, __u32 vip_id, __u32 slot, __u32 *backend_id);

/*
 * Step 4 for schedulers other than a plain hash, and for persist: sets
 * e->sched, e->slot and e->table_backend_id as bpf/sched.h would.
 */
int xlb_explain_sched(struct xlb_dp *dp, struct xlb_explain *e, __u64 now_ns);
void xlb_explain_sched_step(const struct xlb_explain *e, char *buf, size_t len);
struct json_object *xlb_explain_sched_json(const struct xlb_explain *e);

/* filter_source(): the allowlist, then the blocklist (explain_filter.c). */
int xlb_explain_filter(struct xlb_dp *dp, struct xlb_explain *e);
/* limit_new_flow() for a flow's first packet: sets e->filter.drop if it is refused. */
int xlb_explain_limits(struct xlb_dp *dp, struct xlb_explain *e, __u64 now_ns);
/* "; source allowed by ..., limits ..." after step 1's text, or nothing. */
void xlb_explain_filter_text(const struct xlb_explain *e, char *buf, size_t len);
struct json_object *xlb_explain_filter_json(const struct xlb_explain *e);

#endif /* XLB_EXPLAIN_INT_H */
