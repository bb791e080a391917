/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The contract between the backend-side decapsulation program
 * (bpf/decap.bpf.c) and xlb-decap: map keys, values, limits and counter
 * table. Same conventions as maps/xlb_maps.h: fixed layouts, explicit
 * padding, IPv4 addresses stored v4-mapped (::ffff:a.b.c.d).
 */
#ifndef XLB_DECAP_MAPS_H
#define XLB_DECAP_MAPS_H

#include <linux/types.h>
#include "stat_table.h"

/* Limits. Tests shrink them with -D. */
#ifndef XLB_DECAP_MAX_SOURCES
#define XLB_DECAP_MAX_SOURCES 64 /* load balancer source prefixes */
#endif
#ifndef XLB_DECAP_MAX_VIPS
#define XLB_DECAP_MAX_VIPS 256 /* VIP addresses this backend serves */
#endif

/* IPv4 prefixes are v4-mapped: prefixlen = 96 + the IPv4 length. */
#define XLB_DECAP_V4_PREFIX_BASE 96

/* decap_sources: LPM trie key; the value is a __u32, always 1. */
struct decap_source_key {
	__u32 prefixlen;
	__be32 addr[4];
};

/* decap_vips: hash key; the value is a __u32, always 1. */
struct decap_vip_key {
	__be32 addr[4];
};

/*
 * Per-CPU counters, by outcome: ONE table, in the form and under the
 * rules of stat_table.h (append only, fixed indexes). The pinned map has
 * XLB_DECAP_STAT_SLOTS slots whatever the table holds, so a new counter
 * keeps the map a running program and xlb-decap share.
 */
#define XLB_DECAP_STAT_SLOTS 64 /* max_entries of decap_stats: never change it */

#define XLB_DECAP_STATS(X)                                                                 \
	X(DECAP, 0, "decap", INFO)                             /* outer header stripped, inner passed up */ \
	X(PASS_NOT_ENCAP, 1, "pass_not_encap", PASS)           /* not IPv4/IPv6 carrying protocol 4 or 41 */ \
	X(PASS_FRAGMENT, 2, "pass_fragment", PASS)             /* outer IPv4 fragment: left to the stack */ \
	X(PASS_FOREIGN_SOURCE, 3, "pass_foreign_source", PASS) /* outer source not a load balancer prefix */ \
	X(PASS_NOT_VIP, 4, "pass_not_vip", PASS)               /* inner destination not a local VIP */ \
	X(DROP_MALFORMED, 5, "drop_malformed", DROP) /* from a load balancer, but cannot be decapsulated */ \
	X(DROP_ECN, 6, "drop_ecn", DROP)             /* outer CE, inner not ECN-capable (RFC 6040) */

#define XLB_DECAP_STAT_ENUM_(id, idx, name, cls) XLB_DECAP_STAT_##id = (idx),
/* XLB_DECAP_STAT_MAX: one past the last (highest) index; below it may be gaps. */
enum xlb_decap_stat {
	XLB_DECAP_STATS(XLB_DECAP_STAT_ENUM_)
	XLB_DECAP_STAT_MAX,
};
#undef XLB_DECAP_STAT_ENUM_

#define XLB_DECAP_STAT_SEQ_(id, idx, name, cls) XLB_DECAP_STAT_SEQ_##id,
enum { XLB_DECAP_STATS(XLB_DECAP_STAT_SEQ_) XLB_DECAP_STAT_COUNT /* counters defined */ };
#undef XLB_DECAP_STAT_SEQ_

XLB_STAT_TABLE_RULES(XLB_DECAP_STATS, xlb_decap_stats, XLB_DECAP_STAT_MAX, XLB_DECAP_STAT_SLOTS)

/* Initializers of arrays by index: names[XLB_DECAP_STAT_MAX] = { XLB_DECAP_STAT_NAMES } */
#define XLB_DECAP_STAT_NAME_(id, idx, name, cls) [idx] = name,
#define XLB_DECAP_STAT_NAMES XLB_DECAP_STATS(XLB_DECAP_STAT_NAME_)
#define XLB_DECAP_STAT_CLASS_(id, idx, name, cls) [idx] = XLB_STAT_CLASS_##cls,
#define XLB_DECAP_STAT_CLASSES XLB_DECAP_STATS(XLB_DECAP_STAT_CLASS_)

#endif /* XLB_DECAP_MAPS_H */
