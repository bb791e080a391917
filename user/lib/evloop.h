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

#endif /* XLB_EVLOOP_H */
