/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Backend MACs for L2 DSR, from the kernel's neighbour table over netlink:
 * a dump at start, then every change as it happens.
 */
#ifndef XLB_NEIGH_H
#define XLB_NEIGH_H

#include <linux/types.h>
#include "evloop.h"

struct xlb_neigh;

/* A MAC became known or changed (known = 1), or was lost (known = 0). */
typedef void (*xlb_neigh_cb)(void *ctx, const __be32 addr[4], int known,
			     int ifindex, const __u8 mac[6]);

struct xlb_neigh *xlb_neigh_new(int epfd, xlb_neigh_cb cb, void *ctx);
void xlb_neigh_free(struct xlb_neigh *n);
/* 0 and the entry if the kernel has a usable MAC for addr, else -ENOENT. */
int xlb_neigh_lookup(struct xlb_neigh *n, const __be32 addr[4], int *ifindex,
		     __u8 mac[6]);
/* Make the kernel resolve addr: send it one UDP datagram (discard port). */
void xlb_neigh_solicit(const __be32 addr[4]);

#endif /* XLB_NEIGH_H */
