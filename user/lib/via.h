/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Policy routing for health checks through the VIP (health.via: vip), over
 * netlink. Slot N (one per backend address checked this way) is a socket
 * mark and a routing table, both XLB_VIA_BASE + N, with
 *   rule  "fwmark M/0xffffffff lookup T pref XLB_VIA_PREF proto XLB_VIA_PROTO"
 *   route "unreachable default table T proto XLB_VIA_PROTO" (a marked socket
 *         never falls through to the main table, where the VIP might route
 *         back into the data plane)
 *   route "VIP/32 (/128) via BACKEND dev IF table T proto XLB_VIA_PROTO"
 * so a check socket with mark M connecting to the VIP reaches that backend.
 * Only rules of that priority and protocol and routes of that protocol, in
 * tables of the range, are ever removed: they are xlb's.
 */
#ifndef XLB_VIA_H
#define XLB_VIA_H

#include <stddef.h>
#include <linux/types.h>
#include "xlb_limits.h"			/* XLB_VIA_MAX: backend addresses checked via a VIP */

#define XLB_VIA_BASE	0x786c0000u	/* "xl": mark and table of slot 0 */
#define XLB_VIA_PREF	100		/* before the main table's rule (32766) */
#define XLB_VIA_PROTO	120		/* 0x78, "x": the rules' and routes' tag */

struct xlb_via;

/*
 * One xlbd per network namespace has the rules: an exclusive flock on
 * /run/xlb/via-<inode of /proc/self/ns/net>.lock, held while the returned fd
 * is open. Another holder: -EBUSY, and err names its pid; any error: err says it.
 */
int xlb_via_lock(char *err, size_t errlen);
/* 0 or a negative errno; *out is NULL on error. */
int xlb_via_open(struct xlb_via **out);
void xlb_via_close(struct xlb_via *v);
/* Every rule and route of xlb's (after a crash, at exit); *removed counts them. */
int xlb_via_flush(struct xlb_via *v, unsigned int *removed);
/* Slot's rule and unreachable default for a family (v4 non-zero: IPv4); add or remove. */
int xlb_via_slot(struct xlb_via *v, __u32 slot, int v4, int add);
/* The route to vip via gw on ifindex in slot's table: add (or replace) or remove. */
int xlb_via_route(struct xlb_via *v, __u32 slot, const __be32 vip[4], const __be32 gw[4],
		  int ifindex, int add);

#endif /* XLB_VIA_H */
