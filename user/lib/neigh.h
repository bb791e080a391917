/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Backend MACs for L2 DSR, from the kernel's neighbour table over netlink.
 *
 * Only watched addresses (the backends) are held, in a hash table. Each
 * one's MAC is the kernel's neighbour entry on the interface the kernel
 * routes that address through (asked with RTM_GETROUTE, asked again when a
 * route changes): an entry for the address on any other interface is an
 * ignored claim, counted. NOARP entries and multicast or broadcast
 * link-layer addresses are refused.
 */
#ifndef XLB_NEIGH_H
#define XLB_NEIGH_H

#include <linux/types.h>
#include "evloop.h"

struct xlb_neigh;

enum xlb_neigh_event {
	XLB_NEIGH_LOST,    /* no usable MAC any more (or the route changed) */
	XLB_NEIGH_KNOWN,   /* a MAC became known or changed */
	XLB_NEIGH_IGNORED, /* a claim from another interface: ifindex and mac are the claim's */
};

/* Something changed for a watched address. */
typedef void (*xlb_neigh_cb)(void *ctx, const __be32 addr[4], int event,
			     int ifindex, const __u8 mac[6]);

struct xlb_neigh_stats {
	__u64 entries; /* addresses held: the watched ones */
	__u64 ignored; /* claims for them from an interface they are not routed through */
};

struct xlb_neigh *xlb_neigh_new(int epfd, xlb_neigh_cb cb, void *ctx);
void xlb_neigh_free(struct xlb_neigh *n);
/* Hold addr from now on; counted, one unwatch per watch. 0 or -ENOMEM. */
int xlb_neigh_watch(struct xlb_neigh *n, const __be32 addr[4]);
void xlb_neigh_unwatch(struct xlb_neigh *n, const __be32 addr[4]);
/*
 * 0 and the MAC on the interface addr is routed through; *ifindex is that
 * interface whenever there is a route. Else -ENOENT (MAC not known yet, or
 * addr not watched), -ENETUNREACH (no route), -EREMOTE (routed via a
 * gateway, not on-link), -EADDRNOTAVAIL (not a unicast address) or -EPERM
 * (the kernel's entry is NOARP or not a unicast MAC).
 */
int xlb_neigh_lookup(struct xlb_neigh *n, const __be32 addr[4], int *ifindex,
		     __u8 mac[6]);
void xlb_neigh_get_stats(const struct xlb_neigh *n, struct xlb_neigh_stats *s);
/* Make the kernel resolve addr: send it one UDP datagram (discard port). */
void xlb_neigh_solicit(const __be32 addr[4]);

#endif /* XLB_NEIGH_H */
