/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Host routes in a kernel routing table of xlbd's own, over netlink: one
 * per announced VIP address, "ADDR/32 (or /128) dev lo table T proto P".
 * No rule looks the table up, so the routes change no forwarding; a
 * routing daemon (BIRD's kernel protocol with learn) imports them. Only
 * routes of protocol P in table T are ever read or removed.
 */
#ifndef XLB_ROUTE_H
#define XLB_ROUTE_H

#include <linux/types.h>

struct xlb_route;

/* 0 or a negative errno; *out is NULL on error. */
int xlb_route_open(__u32 table, __u8 protocol, struct xlb_route **out);
void xlb_route_close(struct xlb_route *r);
/* addr as a host route (/32 for v4-mapped, else /128); one already there is 0. */
int xlb_route_add(struct xlb_route *r, const __be32 addr[4]);
/* The route addr/plen of r's protocol in r's table; one not there is 0. */
int xlb_route_del(struct xlb_route *r, const __be32 addr[4], __u8 plen);
/* Every route of r's protocol in r's table, both families: cb per route. */
typedef void (*xlb_route_cb)(void *ctx, const __be32 addr[4], __u8 plen);
int xlb_route_list(struct xlb_route *r, xlb_route_cb cb, void *ctx);

#endif /* XLB_ROUTE_H */
