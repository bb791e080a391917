// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The loads lc, wlc and lt compare (bpf/sched.h): every XLB_LOAD_PERIOD_MS
 * each backend of such a VIP gets its live flows (flows.c's count), its
 * weight, and the bytes per second xlb sent it, averaged over about a
 * second (DSR: only the client's direction passes xlb; a download shows
 * as its ACKs). At most LOAD_SLICE backends per period, so with more the
 * loads are older: n backends are refreshed every ceil(n / LOAD_SLICE)
 * periods. Between refreshes, each CPU adds its own new picks (for lt,
 * each pick as the VIP's bytes/s per live flow). Until the first walk of
 * the tables has counted the flows, nothing is written: an adopted data
 * plane keeps the previous daemon's loads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/timerfd.h>
#include "xlbd.h"

#define LOAD_SLICE 4096
#define RATE_WINDOW_MS 1000 /* the rate's time constant */

struct backend_rate {
	__u32 gen;        /* the id's generation these are of */
	__u64 bytes, ms;  /* at the last refresh */
	double rate;      /* bytes per second */
	__u64 flows;      /* live flows at the last refresh */
};

struct xlb_load_state {
	struct xlb_evsrc src;
	struct backend_rate *rates; /* by backend id */
	__u64 next;                 /* the ordinal where the next slice starts */
	__u32 epoch;
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static int needs_load(__u8 sched)
{
	return sched == XLB_SCHED_LC || sched == XLB_SCHED_WLC || sched == XLB_SCHED_LT;
}

static void refresh(struct xlbd *d, struct xlb_load_state *s, const struct xlb_lb_backend *b,
		    __u64 ms, __u64 flow_rate)
{
	struct backend_rate *r = &s->rates[b->id];
	struct backend_load l = {};
	struct traffic_stats ts;
	long long flows = flows_active(d, b);
	double dt, inst;

	/* not counted yet (the first walk of a start): the previous daemon's load stays */
	if (flows < 0 || xlb_dp_backend_stats(&d->at.dp, b->id, &ts))
		return;
	if (r->gen != d->lb->backend_gen[b->id] || ts.bytes < r->bytes) {
		memset(r, 0, sizeof(*r));
		r->gen = d->lb->backend_gen[b->id];
	} else if (ms > r->ms) {
		dt = (double)(ms - r->ms);
		inst = (double)(ts.bytes - r->bytes) * 1000.0 / dt;
		r->rate += (inst - r->rate) * (dt < RATE_WINDOW_MS ? dt / RATE_WINDOW_MS : 1.0);
	}
	r->bytes = ts.bytes;
	r->ms = ms;
	r->flows = (__u64)flows;
	l.flows = r->flows;
	l.rate = (__u64)r->rate;
	l.flow_rate = flow_rate;
	l.weight = b->spec.weight;
	l.epoch = ++s->epoch;
	xlb_dp_backend_load_set(&d->at.dp, b->id, &l);
}

/* lt: what a new flow is expected to add, the VIP's bytes/s per live flow at the last counts. */
static __u64 vip_flow_rate(const struct xlb_load_state *s, const struct xlb_lb_vip *lv)
{
	double rate = 0;
	__u64 flows = 0;
	__u32 j;

	if (lv->sched != XLB_SCHED_LT)
		return 0;
	for (j = 0; j < lv->nbackends; j++) {
		rate += s->rates[lv->backends[j].id].rate;
		flows += s->rates[lv->backends[j].id].flows;
	}
	return flows ? (__u64)(rate / (double)flows) : 0;
}

static void on_timer(struct xlb_evsrc *src, uint32_t events)
{
	struct xlbd *d = src->ctx;
	struct xlb_load_state *s = d->load;
	__u64 expirations, ordinal = 0, ms = now_ms(), end, flow_rate;
	__u32 i, j;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	end = s->next + LOAD_SLICE;
	for (i = 0; i < XLB_MAX_VIPS; i++) {
		const struct xlb_lb_vip *lv = &d->lb->vips[i];

		if (!lv->in_use || !needs_load(lv->sched))
			continue;
		flow_rate = vip_flow_rate(s, lv);
		for (j = 0; j < lv->nbackends; j++, ordinal++)
			if (ordinal >= s->next && ordinal < end)
				refresh(d, s, &lv->backends[j], ms, flow_rate);
	}
	s->next = end < ordinal ? end : 0;
}

int load_start(struct xlbd *d)
{
	struct xlb_load_state *s = calloc(1, sizeof(*s));
	struct itimerspec t = {
		.it_value = { 0, XLB_LOAD_PERIOD_MS * 1000000L },
		.it_interval = { 0, XLB_LOAD_PERIOD_MS * 1000000L },
	};
	int fd = -1;

	if (s)
		s->rates = calloc(XLB_MAX_BACKENDS, sizeof(*s->rates));
	if (s && s->rates)
		fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || xlb_ev_add(d->epfd, &s->src, fd, EPOLLIN, on_timer, d) ||
	    timerfd_settime(fd, 0, &t, NULL)) {
		logmsg(LOG_ERR, "scheduler loads: cannot start: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		if (s)
			free(s->rates);
		free(s);
		return -ENOMEM;
	}
	d->load = s;
	return 0;
}

void load_stop(struct xlbd *d)
{
	struct xlb_load_state *s = d->load;

	if (!s)
		return;
	xlb_ev_del(d->epfd, &s->src);
	close(s->src.fd);
	free(s->rates);
	free(s);
	d->load = NULL;
}
