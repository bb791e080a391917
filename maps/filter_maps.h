/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Source filters (README, "Under attack"): the blocklist and allowlist of
 * client prefixes, global or per VIP, and their per-rule hit counters.
 * Included by xlb_maps.h; bpf/filter.h is the data plane's side.
 *
 * One LPM trie per family holds every rule: the key is a 32-bit tag (the
 * list, allow or block, and the scope, a VIP id or global) followed by
 * the client address, and a rule's prefix length covers the whole tag. A
 * lookup with one tag therefore only ever meets rules of that list and
 * scope. One trie per family rather than one per (list, scope): the
 * capacity is shared by whatever mix of global and per-VIP rules a site
 * has, a VIP needs no map of its own, and the pinned set stays fixed.
 */
#ifndef XLB_FILTER_MAPS_H
#define XLB_FILTER_MAPS_H

#include <linux/types.h>

#ifndef XLB_BLOCK_RULES_MAX
#define XLB_BLOCK_RULES_MAX 131072 /* rules of both families, lists and scopes */
#endif

#define XLB_BLOCK_GLOBAL 0xffff /* scope of a global rule (VIP ids are below XLB_MAX_VIPS) */
enum xlb_block_kind {
	XLB_BLOCK_ALLOW = 1, /* never blocked (nor limited): asked first */
	XLB_BLOCK_DROP = 2,
};
/* The tag in host order; keys hold it big-endian, so the trie's bits run tag first. */
#define XLB_BLOCK_TAG(kind, scope) (((__u32)(kind) << 16) | (__u32)(scope))
#define XLB_BLOCK_TAG_BITS 32

struct block4_key {
	__u32 prefixlen; /* XLB_BLOCK_TAG_BITS + the prefix's length */
	__be32 tag;
	__be32 addr;
};

struct block6_key {
	__u32 prefixlen;
	__be32 tag;
	__be32 addr[4];
};

/* A rule: its id (the slot of its hit counter) and its prefix's length. */
struct block_rule {
	__u32 id;
	__u32 len; /* of the address part: the longer of a global and a VIP match wins */
};

/* filter_config[0] and vip_filter[VIP id]: which lists have rules, so empty ones cost nothing. */
#define XLB_FILTER_ALLOW4 0x01
#define XLB_FILTER_DROP4 0x02
#define XLB_FILTER_ALLOW6 0x04
#define XLB_FILTER_DROP6 0x08
#define XLB_FILTER_VIP_RULES 0x10 /* filter_config only: some VIP has rules of its own */
#define XLB_FILTER_SCOPE_ALL 0x20 /* filter_config only: global lists for every packet */

struct filter_config {
	__u32 flags;
	__u32 pad;
};

/* vip_filter[VIP id]: the VIP's lists, and its per-client limits (0: none). */
#define XLB_FILTER_LIMITS 0x40 /* vip_filter only: limits below apply */
struct vip_filter {
	__u32 flags;
	__u32 new_flows_per_s; /* token bucket rate per client prefix; 0: no rate limit */
	__u32 burst;           /* bucket depth, in new flows */
	__u32 max_conns;       /* live flows per client prefix; 0: no cap */
	__u8 prefix_v4;        /* client prefix lengths the limits count by */
	__u8 prefix_v6;
	__u8 pad[6];
};

#include "limit_maps.h"

#endif /* XLB_FILTER_MAPS_H */
