/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Limits of the control plane, in one place: the config file, state.json,
 * the control socket (xlbd and xlbctl) all check against these. The data
 * plane's sizes (XLB_MAX_VIPS, XLB_MAX_BACKENDS, ...) stay in maps/xlb_maps.h.
 * Not named limits.h: with -Iuser/lib that would hide the system header.
 */
#ifndef XLB_LIMITS_H
#define XLB_LIMITS_H

#include "../../maps/xlb_maps.h"

/* Interfaces xlbd attaches to, and the longest name (with its NUL). */
#define XLB_MAX_IFACES		8
#define XLB_IFNAME_MAX		16

/* VIPs and (VIP, backend) pairs operators may ask for; id 0 is never used. */
#define XLB_CP_MAX_VIPS		XLB_MAX_VIPS
#define XLB_CP_MAX_BACKENDS	(XLB_MAX_BACKENDS - 1)

/* An HTTP(S) check's GET path, with its NUL. */
#define XLB_HTTP_PATH_MAX	256

/* Backend weight; a backend without one gets the default. 0 drains it, as in IPVS. */
#define XLB_WEIGHT_MIN		0
#define XLB_WEIGHT_MAX		65535
#define XLB_WEIGHT_DEFAULT	100

/* Health check timing: interval, timeout (below the interval), rise, fall. */
#define XLB_INTERVAL_MIN_MS	100
#define XLB_TIMEOUT_MIN_MS	10
#define XLB_CHECK_TIME_MAX_MS	3600000	/* interval and timeout: at most 1h */
#define XLB_INTERVAL_MAX_MS	XLB_CHECK_TIME_MAX_MS
#define XLB_TIMEOUT_MAX_MS	XLB_CHECK_TIME_MAX_MS
#define XLB_RISE_FALL_MIN	1
#define XLB_RISE_FALL_MAX	100
/* health.via: vip: one mark and routing table per backend address (via.h); a power of 2 */
#ifndef XLB_VIA_MAX
#define XLB_VIA_MAX		4096	/* the variant build (Makefile) has 8, for the tests */
#endif

/* Announcing VIPs through a routing table (announce:, min_up:). */
#define XLB_MIN_UP_DEFAULT	1
#define XLB_MIN_UP_MAX		XLB_CP_MAX_BACKENDS
#define XLB_ROUTE_TABLE_MIN	1
#define XLB_ROUTE_TABLE_MAX	0xfffffffful	/* but not 253..255: default, main, local */
#define XLB_ROUTE_PROTO_MIN	5		/* 0..4: the kernel's own (RTPROT_*) */
#define XLB_ROUTE_PROTO_MAX	255

/* Connection tracking: table size and idle timeouts. */
#define XLB_CT_SIZE_MIN		1024
#define XLB_CT_SIZE_MAX		100000000
#define XLB_IDLE_MIN_MS		1000ull
#define XLB_IDLE_MAX_MS		(168 * 3600000ull)	/* a week */

/* persist: how long a client prefix keeps its backend, and the prefix. */
#define XLB_PERSIST_MIN_MS	1000ull
#define XLB_PERSIST_MAX_MS	(24 * 3600000ull)	/* a day */
#define XLB_PERSIST_PREFIX4_DEFAULT	32
#define XLB_PERSIST_PREFIX6_DEFAULT	64

/* Files and lines. */
#define XLB_CONFIG_FILE_MAX	(64 << 20)
#define XLB_ERR_MAX		512	/* one error message line */
#define XLB_METRICS_ADDR_MAX	64	/* "ADDR:PORT" of the metrics listener */
#define XLB_METRICS_ALLOW_MAX	64	/* metrics_allow: prefixes */
#define XLB_DIGEST_MAX		64	/* the config file's digest, with its NUL */

/* Control socket: longest request line (without '\n') and reply. */
#define XLB_PROTO_MAX_LINE	65536
#define XLB_PROTO_MAX_REPLY	(64u << 20)
#define XLB_PROTO_TIMEOUT_MS	5000

#endif /* XLB_LIMITS_H */
