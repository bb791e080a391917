// SPDX-License-Identifier: GPL-2.0
/*
 * Health-check engine (see health.h for the contract).
 *
 * Timers: one timerfd for every target, armed at the earliest deadline of a
 * min-heap. A target's deadline is its next check's start while idle and its
 * check's timeout while one runs, so a target is in the heap at most once
 * and hundreds of targets cost one fd. libcurl's single timeout gets a
 * second timerfd (CURLMOPT_TIMERFUNCTION).
 *
 * Sockets: tcp probes and the sockets curl asks us to watch live in hsock
 * slots that are recycled but never freed before the engine. epoll_wait may
 * hand the loop an event for a socket that an earlier handler of the same
 * batch closed (a callback deleting a target, curl closing a connection);
 * that event then lands on valid memory, and since each handler first asks
 * poll() with a zero timeout whether the slot's current socket is really
 * ready, a stale or recycled slot is harmless.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "hash.h"
#include "health_int.h"

#define BUCKETS_MIN		64
#define FIRST_CHECK_SPREAD_MAX	(1000 * NSEC_PER_MSEC)

__u64 hc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NSEC_PER_SEC + (__u64)ts.tv_nsec;
}

int hc_via(const struct hc_target *t)
{
	return t->cfg.via[0] || t->cfg.via[1] || t->cfg.via[2] || t->cfg.via[3];
}

/*
 * Unmarked, the check would take the main table's way to the VIP, or none:
 * it fails (not skipped, which would keep an adopted backend up unchecked).
 */
int hc_via_mark(struct xlb_health *h, struct hc_target *t, int fd)
{
	char why[96];

	if (!t->cfg.mark) {
		hc_check_done(h, t, 0, "no routing mark");
		return -1;
	}
	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &t->cfg.mark, sizeof(t->cfg.mark))) {
		snprintf(why, sizeof(why), "cannot set SO_MARK: %s", strerror(errno));
		hc_check_done(h, t, 0, why);
		return -1;
	}
	return 0;
}

static int is_http(__u32 kind)
{
	return kind == XLB_CHECK_HTTP || kind == XLB_CHECK_HTTPS;
}

/* ---- id hash ---------------------------------------------------------- */

static struct hc_target **bucket_of(struct xlb_health *h, __u64 id)
{
	return &h->buckets[xlb_mix64(id) & (h->nbuckets - 1)];
}

static struct hc_target *target_find(struct xlb_health *h, __u64 id)
{
	struct hc_target *t;

	for (t = *bucket_of(h, id); t; t = t->hnext)
		if (t->id == id)
			return t;
	return NULL;
}

static void target_link(struct xlb_health *h, struct hc_target *t)
{
	struct hc_target **b = bucket_of(h, t->id);

	t->hnext = *b;
	*b = t;
	h->ntargets++;
}

static void target_unlink(struct xlb_health *h, struct hc_target *t)
{
	struct hc_target **pp;

	for (pp = bucket_of(h, t->id); *pp; pp = &(*pp)->hnext) {
		if (*pp == t) {
			*pp = t->hnext;
			h->ntargets--;
			return;
		}
	}
}

/* Keep chains short; a failed grow only costs lookup speed. */
static void buckets_grow(struct xlb_health *h)
{
	struct hc_target **old = h->buckets, *t, *next;
	__u32 n = h->nbuckets * 2, i;

	h->buckets = calloc(n, sizeof(*h->buckets));
	if (!h->buckets) {
		h->buckets = old;
		return;
	}
	h->nbuckets = n;
	h->ntargets = 0;
	for (i = 0; i < n / 2; i++) {
		for (t = old[i]; t; t = next) {
			next = t->hnext;
			target_link(h, t);
		}
	}
	free(old);
}

/* ---- deadline heap ---------------------------------------------------- */

static void heap_place(struct xlb_health *h, __u32 i, struct hc_target *t)
{
	h->heap[i] = t;
	t->heap_idx = (int)i;
}

static void heap_sift_up(struct xlb_health *h, __u32 i)
{
	struct hc_target *t = h->heap[i];

	while (i > 0) {
		__u32 parent = (i - 1) / 2;

		if (h->heap[parent]->due_ns <= t->due_ns)
			break;
		heap_place(h, i, h->heap[parent]);
		i = parent;
	}
	heap_place(h, i, t);
}

static void heap_sift_down(struct xlb_health *h, __u32 i)
{
	struct hc_target *t = h->heap[i];

	for (;;) {
		__u32 child = 2 * i + 1;

		if (child >= h->nheap)
			break;
		if (child + 1 < h->nheap &&
		    h->heap[child + 1]->due_ns < h->heap[child]->due_ns)
			child++;
		if (h->heap[child]->due_ns >= t->due_ns)
			break;
		heap_place(h, i, h->heap[child]);
		i = child;
	}
	heap_place(h, i, t);
}

static void heap_remove(struct xlb_health *h, struct hc_target *t)
{
	struct hc_target *last;
	__u32 i;

	if (t->heap_idx < 0)
		return;
	i = (__u32)t->heap_idx;
	t->heap_idx = -1;
	last = h->heap[--h->nheap];
	if (last == t)
		return;
	heap_place(h, i, last);
	heap_sift_up(h, i);
	heap_sift_down(h, (__u32)last->heap_idx);
}

/* Cannot fail: add reserves one heap slot per target. */
void hc_sched_at(struct xlb_health *h, struct hc_target *t, __u64 due)
{
	heap_remove(h, t);
	t->due_ns = due;
	heap_place(h, h->nheap++, t);
	heap_sift_up(h, h->nheap - 1);
}

/* Called once at the end of every entry point rather than per heap change. */
void hc_sched_arm(struct xlb_health *h)
{
	struct itimerspec its = { 0 };
	__u64 due = h->nheap ? h->heap[0]->due_ns : 0;

	if (due == h->sched_armed_ns)
		return;
	if (due) {
		its.it_value.tv_sec = (time_t)(due / NSEC_PER_SEC);
		its.it_value.tv_nsec = (long)(due % NSEC_PER_SEC);
	}
	if (!timerfd_settime(h->sched.fd, TFD_TIMER_ABSTIME, &its, NULL))
		h->sched_armed_ns = due;
}

/* interval +- 5 %, a fixed function of (id, check number) */
static __u64 next_interval_ns(const struct hc_target *t)
{
	__u64 ival = (__u64)t->cfg.interval_ms * NSEC_PER_MSEC;
	__u64 span = ival / 10;
	__u64 r = xlb_mix64(t->id ^ ((__u64)t->seq << 40));

	return ival - ival / 20 + (span ? r % (span + 1) : 0);
}

/* first check within min(interval / 10, 1 s), spread by id */
static __u64 first_delay_ns(const struct hc_target *t)
{
	__u64 span = (__u64)t->cfg.interval_ms * NSEC_PER_MSEC / 10;

	if (span > FIRST_CHECK_SPREAD_MAX)
		span = FIRST_CHECK_SPREAD_MAX;
	return span ? xlb_mix64(t->id) % (span + 1) : 0;
}

/* ---- socket slots ----------------------------------------------------- */

static void hsock_idle(struct xlb_evsrc *src, uint32_t events)
{
	(void)src;
	(void)events;
}

struct hsock *hc_sock_get(struct xlb_health *h)
{
	struct hsock *hs;

	if (!h->free_socks) {
		struct hsock_chunk *c = calloc(1, sizeof(*c));
		int i;

		if (!c)
			return NULL;
		c->next = h->chunks;
		h->chunks = c;
		for (i = HSOCK_CHUNK - 1; i >= 0; i--) {
			c->socks[i].src.fd = -1;
			c->socks[i].src.fn = hsock_idle;
			c->socks[i].src.ctx = h;
			c->socks[i].next_free = h->free_socks;
			h->free_socks = &c->socks[i];
		}
	}
	hs = h->free_socks;
	h->free_socks = hs->next_free;
	hs->next_free = NULL;
	return hs;
}

void hc_sock_put(struct xlb_health *h, struct hsock *hs)
{
	hs->src.fd = -1;
	hs->src.fn = hsock_idle;
	hs->owner = NULL;
	hs->events = 0;
	hs->next_free = h->free_socks;
	h->free_socks = hs;
}

/* What the socket is ready for right now (0: a stale event). */
short hc_sock_ready(int fd, __u32 events)
{
	struct pollfd p = { .fd = fd, .events = (short)events };

	if (poll(&p, 1, 0) <= 0)
		return 0;
	return p.revents;
}

/* ---- results ---------------------------------------------------------- */

const char *hc_errno_reason(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "connect refused";
	case ETIMEDOUT:
		return "timeout";
	case EHOSTUNREACH:
		return "no route to host";
	case ENETUNREACH:
		return "network unreachable";
	case ECONNRESET:
		return "connection reset";
	case EADDRNOTAVAIL:
		return "address not available";
	case EACCES:
	case EPERM:
		return "connect not permitted";
	default:
		return strerror(err);
	}
}

void hc_check_done(struct xlb_health *h, struct hc_target *t, int ok,
		   const char *reason)
{
	struct xlb_health_result *r = &t->res;
	struct xlb_health_result copy;
	__u64 now = hc_now_ns(), next, lat_us;
	int was_up = r->up;

	t->phase = PHASE_IDLE;
	lat_us = (now - t->started_ns) / NSEC_PER_USEC;
	r->latency_us = lat_us > UINT_MAX ? UINT_MAX : (__u32)lat_us;
	r->checks++;
	snprintf(r->last, sizeof(r->last), "%s%s", reason, hc_via(t) ? " via VIP" : "");
	if (ok) {
		r->fail_streak = 0;
		if (r->ok_streak < UINT_MAX)
			r->ok_streak++;
		if (!r->up && r->ok_streak >= t->cfg.rise)
			r->up = 1;
	} else {
		r->failures++;
		r->ok_streak = 0;
		if (r->fail_streak < UINT_MAX)
			r->fail_streak++;
		if (r->up && r->fail_streak >= t->cfg.fall)
			r->up = 0;
	}

	next = t->started_ns + next_interval_ns(t);
	hc_sched_at(h, t, next > now ? next : now);

	/* last: the callback may delete t */
	if (r->up != was_up && h->cb) {
		copy = *r;
		h->cb(h->ctx, t->id, copy.up, &copy);
	}
}

/* A local failure: not the backend's fault, so no result, try again later. */
void hc_check_skip(struct xlb_health *h, struct hc_target *t,
		   const char *what, const char *why)
{
	__u64 now = hc_now_ns(), next;

	t->phase = PHASE_IDLE;
	snprintf(t->res.last, sizeof(t->res.last), "local error: %s: %s", what, why);
	next = t->started_ns + next_interval_ns(t);
	hc_sched_at(h, t, next > now ? next : now);
}

/* ---- scheduling ------------------------------------------------------- */

/* kind none: no probe, just the promised transition to up */
static void none_check(struct xlb_health *h, struct hc_target *t)
{
	struct xlb_health_result copy;

	snprintf(t->res.last, sizeof(t->res.last), "no check");
	if (t->res.up)
		return;
	t->res.up = 1;
	if (h->cb) {
		copy = t->res;
		h->cb(h->ctx, t->id, 1, &copy);
	}
}

static void target_due(struct xlb_health *h, struct hc_target *t, __u64 now)
{
	switch (t->phase) {
	case PHASE_TCP:
		hc_tcp_abort(h, t);
		hc_check_done(h, t, 0, "timeout");
		return;
	case PHASE_HTTP:
		hc_http_abort(h, t);
		hc_check_done(h, t, 0, "timeout");
		return;
	case PHASE_IDLE:
		break;
	}

	t->started_ns = now;
	t->seq++;
	switch (t->cfg.kind) {
	case XLB_CHECK_TCP:
		hc_tcp_start(h, t);
		break;
	case XLB_CHECK_HTTP:
	case XLB_CHECK_HTTPS:
		hc_http_start(h, t);
		break;
	default:
		none_check(h, t);
		break;
	}
}

/* 128: at 100 x 100 the slowest status while all start was 27-56 ms (256: 40-97 ms) */
#define HC_STARTS_PER_TURN 128

static void sched_fired(struct xlb_evsrc *src, uint32_t events)
{
	struct xlb_health *h = src->ctx;
	__u64 expirations, now;
	__u32 started = 0;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	h->sched_armed_ns = 0;
	now = hc_now_ns();
	/*
	 * Every new deadline is later than now, so this ends. At most
	 * HC_STARTS_PER_TURN checks start per turn of the loop: the rest are
	 * due at once, after the loop has served what else is ready (a site's
	 * first checks, all due within 100 ms, would hold it for a second).
	 */
	while (h->nheap && h->heap[0]->due_ns <= now && started++ < HC_STARTS_PER_TURN) {
		struct hc_target *t = h->heap[0];

		heap_remove(h, t);
		target_due(h, t, now);
	}
	hc_sched_arm(h);
}

/* ---- API -------------------------------------------------------------- */

static int path_valid(const char *path)
{
	const char *p, *end = memchr(path, '\0', XLB_HTTP_PATH_MAX);

	if (!end || (path[0] && path[0] != '/'))
		return 0;
	/* it goes into the request line as is */
	for (p = path; p < end; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

static int target_valid(const struct xlb_health_target *t)
{
	if (!t || t->kind > XLB_CHECK_HTTPS)
		return 0;
	if (t->kind == XLB_CHECK_NONE)
		return 1;
	if (!t->port || !t->interval_ms || !t->timeout_ms || !t->rise || !t->fall)
		return 0;
	return !is_http(t->kind) || path_valid(t->path);
}

/* Same address, port, kind and (for http) path: results still apply. */
static int same_check(const struct xlb_health_target *a,
		      const struct xlb_health_target *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == XLB_CHECK_NONE)
		return 1;
	if (memcmp(a->addr, b->addr, sizeof(a->addr)) || a->port != b->port ||
	    memcmp(a->via, b->via, sizeof(a->via)) || a->mark != b->mark)
		return 0;
	return !is_http(a->kind) || !strcmp(a->path, b->path);
}

static void target_set_cfg(struct hc_target *t,
			   const struct xlb_health_target *cfg)
{
	t->cfg = *cfg;
	if (!t->cfg.path[0])
		strcpy(t->cfg.path, "/");
	t->res.rise = cfg->rise;
	t->res.fall = cfg->fall;
}

static void target_stop(struct xlb_health *h, struct hc_target *t)
{
	hc_tcp_abort(h, t);
	hc_http_abort(h, t);
	heap_remove(h, t);
}

/* A new or re-pointed target: first check soon, unless there is none to run. */
static void target_restart(struct xlb_health *h, struct hc_target *t)
{
	t->res.ok_streak = 0;
	t->res.fail_streak = 0;
	if (t->cfg.kind == XLB_CHECK_NONE && t->res.up) {
		snprintf(t->res.last, sizeof(t->res.last), "no check");
		return;
	}
	snprintf(t->res.last, sizeof(t->res.last), "pending");
	hc_sched_at(h, t, hc_now_ns() + first_delay_ns(t));
}

static void target_free(struct xlb_health *h, struct hc_target *t)
{
	target_stop(h, t);
	hc_http_target_free(t);
	free(t);
}

int xlb_health_add(struct xlb_health *h, __u64 id,
		   const struct xlb_health_target *cfg)
{
	struct hc_target *t;

	if (!h || !target_valid(cfg))
		return -EINVAL;
	if (target_find(h, id))
		return -EEXIST;

	/* one heap slot per target, so scheduling never allocates */
	if (h->heap_cap <= h->ntargets) {
		__u32 cap = h->heap_cap ? h->heap_cap * 2 : BUCKETS_MIN;
		struct hc_target **heap = realloc(h->heap, cap * sizeof(*heap));

		if (!heap)
			return -ENOMEM;
		h->heap = heap;
		h->heap_cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (h->ntargets >= h->nbuckets)
		buckets_grow(h);

	t->id = id;
	t->heap_idx = -1;
	target_set_cfg(t, cfg);
	t->res.up = !!cfg->initially_up;
	target_link(h, t);
	target_restart(h, t);
	hc_sched_arm(h);
	return 0;
}

int xlb_health_update(struct xlb_health *h, __u64 id,
		      const struct xlb_health_target *cfg)
{
	struct hc_target *t;
	__u64 now, next;

	if (!h || !target_valid(cfg))
		return -EINVAL;
	t = target_find(h, id);
	if (!t)
		return -ENOENT;

	if (!same_check(&t->cfg, cfg)) {
		target_stop(h, t);
		target_set_cfg(t, cfg);
		target_restart(h, t);
	} else {
		target_set_cfg(t, cfg);
		/* idle and checked before: the new interval counts from then */
		if (t->phase == PHASE_IDLE && t->heap_idx >= 0 && t->started_ns) {
			now = hc_now_ns();
			next = t->started_ns + next_interval_ns(t);
			hc_sched_at(h, t, next > now ? next : now);
		}
	}
	hc_sched_arm(h);
	return 0;
}

int xlb_health_del(struct xlb_health *h, __u64 id)
{
	struct hc_target *t;

	if (!h)
		return -EINVAL;
	t = target_find(h, id);
	if (!t)
		return -ENOENT;
	target_unlink(h, t);
	target_free(h, t);
	hc_sched_arm(h);
	return 0;
}

int xlb_health_get(struct xlb_health *h, __u64 id,
		   struct xlb_health_result *out)
{
	struct hc_target *t;

	if (!h || !out)
		return -EINVAL;
	t = target_find(h, id);
	if (!t)
		return -ENOENT;
	*out = t->res;
	return 0;
}

int hc_timer_init(struct xlb_health *h, struct xlb_evsrc *src,
		  xlb_ev_fn fn)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	src->fd = fd;
	if (fd < 0)
		return -errno;
	return xlb_ev_add(h->epfd, src, fd, EPOLLIN, fn, h);
}

struct xlb_health *xlb_health_new(int epfd, xlb_health_cb cb, void *ctx)
{
	struct xlb_health *h;
	int err;

	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->epfd = epfd;
	h->cb = cb;
	h->ctx = ctx;
	h->sched.fd = -1;
	h->curl_timer.fd = -1;

	err = -ENOMEM;
	h->nbuckets = BUCKETS_MIN;
	h->buckets = calloc(h->nbuckets, sizeof(*h->buckets));
	if (!h->buckets)
		goto fail;

	err = hc_timer_init(h, &h->sched, sched_fired);
	if (err)
		goto fail;
	err = hc_http_init(h);
	if (err)
		goto fail;
	return h;

fail:
	xlb_health_free(h);
	errno = -err;
	return NULL;
}

void xlb_health_free(struct xlb_health *h)
{
	struct hsock_chunk *c;
	__u32 i;

	if (!h)
		return;
	for (i = 0; h->buckets && i < h->nbuckets; i++) {
		while (h->buckets[i]) {
			struct hc_target *t = h->buckets[i];

			h->buckets[i] = t->hnext;
			target_free(h, t);
		}
	}
	/* may still need socket slots for cached connections: they stay until after */
	hc_http_free(h);
	if (h->sched.fd >= 0)
		close(h->sched.fd);
	while ((c = h->chunks)) {
		h->chunks = c->next;
		free(c);
	}
	free(h->heap);
	free(h->buckets);
	free(h);
}
