/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For unit tests that run the library in their own epoll loop, as xlbd
 * does: the clock, one turn of the loop, and the time scale every wait
 * goes through T(): valgrind runs the code slowly (the first time above
 * all), so timings stretch under it, or by XLB_TEST_TIME_SCALE=N.
 */
#ifndef XLB_UNIT_LOOP_H
#define XLB_UNIT_LOOP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <linux/types.h>
#include "../../user/lib/evloop.h"

static unsigned int time_scale = 1;
#define T(ms)		((ms) * time_scale)

/* From the environment; line-buffered stdout so figures interleave with TAP. */
static inline void time_scale_init(void)
{
	const char *scale = getenv("XLB_TEST_TIME_SCALE");
	const char *preload = getenv("LD_PRELOAD");

	if (scale && atoi(scale) > 0)
		time_scale = (unsigned int)atoi(scale);
	else if (preload && strstr(preload, "vgpreload"))
		time_scale = 4;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (time_scale > 1)
		printf("# timings x%u\n", time_scale);
}

static inline __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* Wait up to timeout_ms for events and hand each to its source. */
static inline void loop_once(int epfd, int timeout_ms)
{
	struct epoll_event evs[64];
	int i, n;

	n = epoll_wait(epfd, evs, 64, timeout_ms);
	for (i = 0; i < n; i++) {
		struct xlb_evsrc *src = evs[i].data.ptr;

		src->fn(src, evs[i].events);
	}
}

#endif /* XLB_UNIT_LOOP_H */
