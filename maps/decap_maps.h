/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The contract between the backend-side decapsulation program
 * (bpf/decap.bpf.c) and xlb-decap: map keys, values, limits and counter
 * indexes. Same conventions as maps/xlb_maps.h: fixed layouts, explicit
 * padding, IPv4 addresses stored v4-mapped (::ffff:a.b.c.d).
 */
#ifndef XLB_DECAP_MAPS_H
#define XLB_DECAP_MAPS_H

#include <linux/types.h>

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

/* Per-CPU counters, by outcome. Keep XLB_DECAP_STAT_NAMES in step. */
enum xlb_decap_stat {
	XLB_DECAP_STAT_DECAP,               /* outer header stripped, inner passed up */
	XLB_DECAP_STAT_PASS_NOT_ENCAP,      /* not IPv4/IPv6 carrying protocol 4 or 41 */
	XLB_DECAP_STAT_PASS_FRAGMENT,       /* outer IPv4 fragment: left to the stack */
	XLB_DECAP_STAT_PASS_FOREIGN_SOURCE, /* outer source not a load balancer prefix */
	XLB_DECAP_STAT_PASS_NOT_VIP,        /* inner destination not a local VIP */
	XLB_DECAP_STAT_DROP_MALFORMED,      /* from a load balancer, but cannot be decapsulated */
	XLB_DECAP_STAT_DROP_ECN,            /* outer CE, inner not ECN-capable (RFC 6040) */
	XLB_DECAP_STAT_MAX,
};

#define XLB_DECAP_STAT_NAMES                                                   \
	[XLB_DECAP_STAT_DECAP] = "decap",                                      \
	[XLB_DECAP_STAT_PASS_NOT_ENCAP] = "pass_not_encap",                    \
	[XLB_DECAP_STAT_PASS_FRAGMENT] = "pass_fragment",                      \
	[XLB_DECAP_STAT_PASS_FOREIGN_SOURCE] = "pass_foreign_source",          \
	[XLB_DECAP_STAT_PASS_NOT_VIP] = "pass_not_vip",                        \
	[XLB_DECAP_STAT_DROP_MALFORMED] = "drop_malformed",                    \
	[XLB_DECAP_STAT_DROP_ECN] = "drop_ecn",

#endif /* XLB_DECAP_MAPS_H */
