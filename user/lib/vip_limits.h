/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-client limits (README, "Under attack"): a VIP's settings as the
 * config, state.json and xlbctl give them, the data plane's buckets and
 * counts (maps/limit_maps.h), and the correction of the live counts from
 * a walk of the main tables.
 */
#ifndef XLB_USER_LIMITS_H
#define XLB_USER_LIMITS_H

#include <stddef.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include "../../maps/xlb_maps.h"

#define XLB_LIMIT_PREFIX4_DEFAULT 32
#define XLB_LIMIT_PREFIX6_DEFAULT 64

/* limits: { new_flows_per_s, burst, max_conns, prefix_v4, prefix_v6 }; 0: that limit off. */
struct xlb_limits_cfg {
	__u32 rate;      /* new flows per second per client prefix */
	__u32 burst;     /* bucket depth; default: rate */
	__u32 max_conns; /* live flows per client prefix */
	__u8 prefix4, prefix6;
	__u8 pad[2];
};

void xlb_limits_default(struct xlb_limits_cfg *l);
static inline int xlb_limits_on(const struct xlb_limits_cfg *l)
{
	return l->rate || l->max_conns;
}
int xlb_limits_equal(const struct xlb_limits_cfg *a, const struct xlb_limits_cfg *b);
/* Ranges; *key names the bad one ("limits.burst"). 0 or -EINVAL with err. */
int xlb_limits_check(const struct xlb_limits_cfg *l, const char **key, char *err, size_t errlen);
/* The data plane's form (flags 0 when no limit is on). */
void xlb_limits_to_dp(const struct xlb_limits_cfg *l, struct vip_filter *vf);
/* "rate 100/s burst 20, max 10 conns per /24 (v4) /64 (v6)" or "none" */
void xlb_limits_format(const struct xlb_limits_cfg *l, char *buf, size_t len);
/* The key of a client (16-byte form) of VIP vip_id, as bpf/limits.h makes it. */
void xlb_limit_key(const __be32 saddr[4], __u32 vip_id, __u8 prefix4, __u8 prefix6,
		   struct limit_key *k);

/*
 * JSON (state.json, vip show -j, the control protocol): {"new_flows_per_s",
 * "burst", "max_conns", "prefix_v4", "prefix_v6"}, limits off left out. From:
 * absent members keep l's values; a bad type or range is -EINVAL.
 */
struct json_object;
struct json_object *xlb_limits_to_json(const struct xlb_limits_cfg *l);
int xlb_limits_from_json(struct json_object *o, struct xlb_limits_cfg *l);

/* ---- the data plane's maps ---- */
struct xlb_limits_dp {
	int state_fd, base_fd, drops_fd;
	int ncpus;
};

int xlb_limits_dp_open(struct xlb_limits_dp *l, struct bpf_object *obj);
/* A VIP's refusals by reason, summed over CPUs. */
int xlb_limits_dp_drops(const struct xlb_limits_dp *l, __u32 vip_id, struct limit_drops *out);
/* A key's bucket and counts (zeros if absent: *found 0) and its base. */
int xlb_limits_dp_get(const struct xlb_limits_dp *l, const struct limit_key *k,
		      struct limit_state *s, __s64 *base, int *found);
/* A VIP's keys go (a VIP removed, its limits changed): its buckets and bases. */
int xlb_limits_dp_forget(const struct xlb_limits_dp *l, __u32 vip_id);

/*
 * The correction (user/xlbd/limits.c runs it with the flow walk):
 * snapshot opened and closed of every key, count the walk's live entries
 * per key, then write base = counted - (opened - closed at the snapshot),
 * so that live = base + opened - closed now; bases of 0 are deleted.
 */
struct xlb_limits_walk;
struct xlb_limits_walk *xlb_limits_walk_new(void);
void xlb_limits_walk_free(struct xlb_limits_walk *w);
int xlb_limits_walk_snapshot(struct xlb_limits_walk *w, const struct xlb_limits_dp *l);
int xlb_limits_walk_visit(struct xlb_limits_walk *w, const struct limit_key *k);
/* Bases written and deleted: how many keys have a base now, or -errno. */
int xlb_limits_walk_apply(struct xlb_limits_walk *w, const struct xlb_limits_dp *l);

#endif /* XLB_USER_LIMITS_H */
