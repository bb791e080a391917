/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's one event loop: every fd is registered in one epoll with
 * data.ptr pointing at an xlb_evsrc, whose handler runs when it is ready.
 * Modules embed an xlb_evsrc per fd they own.
 */
#ifndef XLB_EVLOOP_H
#define XLB_EVLOOP_H

#include <stdint.h>

struct xlb_evsrc;
typedef void (*xlb_ev_fn)(struct xlb_evsrc *src, uint32_t events);

struct xlb_evsrc {
	int fd;
	xlb_ev_fn fn;
	void *ctx;
};

/*
 * Register fd in epfd for events with src as its data.ptr, src filled in
 * (fd, fn, ctx); modify its events; remove it. 0 or -errno.
 */
int xlb_ev_add(int epfd, struct xlb_evsrc *src, int fd, uint32_t events, xlb_ev_fn fn,
	       void *ctx);
int xlb_ev_mod(int epfd, struct xlb_evsrc *src, uint32_t events);
int xlb_ev_del(int epfd, struct xlb_evsrc *src);

#endif /* XLB_EVLOOP_H */
