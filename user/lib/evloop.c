// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <sys/epoll.h>

#include "evloop.h"

static int ctl(int epfd, int op, struct xlb_evsrc *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(epfd, op, src->fd, &ev) ? -errno : 0;
}

int xlb_ev_add(int epfd, struct xlb_evsrc *src, int fd, uint32_t events, xlb_ev_fn fn,
	       void *ctx)
{
	src->fd = fd;
	src->fn = fn;
	src->ctx = ctx;
	return ctl(epfd, EPOLL_CTL_ADD, src, events);
}

int xlb_ev_mod(int epfd, struct xlb_evsrc *src, uint32_t events)
{
	return ctl(epfd, EPOLL_CTL_MOD, src, events);
}

int xlb_ev_del(int epfd, struct xlb_evsrc *src)
{
	return ctl(epfd, EPOLL_CTL_DEL, src, 0);
}
