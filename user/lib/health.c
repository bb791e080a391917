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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <curl/curl.h>

#include "health.h"
#include "syntax.h"

#define NSEC_PER_USEC		1000ull
#define NSEC_PER_MSEC		1000000ull
#define NSEC_PER_SEC		1000000000ull

#define FIRST_CHECK_SPREAD_MAX	(1000 * NSEC_PER_MSEC)
/* curl enforces the check timeout; this only catches a transfer curl lost */
#define HTTP_GUARD		(1000 * NSEC_PER_MSEC)
/* the status line is all we need; a huge body must not hold the check */
#define HTTP_BODY_MAX		(64 * 1024)
#define HTTP_URL_MAX		384

#define HSOCK_CHUNK		64
#define BUCKETS_MIN		64

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct hc_target;

struct hsock {
	struct xlb_evsrc src;		/* src.fd < 0 while the slot is free */
	struct hsock *next_free;
	struct hc_target *owner;	/* tcp probe: its target; curl: NULL */
	__u32 events;			/* EPOLLIN / EPOLLOUT asked for */
};

struct hsock_chunk {
	struct hsock_chunk *next;
	struct hsock socks[HSOCK_CHUNK];
};

enum hc_phase {
	PHASE_IDLE,
	PHASE_TCP,
	PHASE_HTTP,
};

struct hc_target {
	__u64 id;
	struct hc_target *hnext;	/* hash chain */
	struct xlb_health_target cfg;
	struct xlb_health_result res;
	enum hc_phase phase;
	int heap_idx;			/* -1: no deadline */
	__u64 due_ns;
	__u64 started_ns;		/* current or last check, 0 = none yet */
	__u32 seq;			/* checks started; feeds the jitter */
	struct hsock *probe;		/* PHASE_TCP */
	CURL *easy;			/* kept across checks once created */
	size_t body_bytes;
	int body_capped;
};

struct xlb_health {
	int epfd;
	xlb_health_cb cb;
	void *ctx;

	struct hc_target **buckets;
	__u32 nbuckets, ntargets;

	struct hc_target **heap;
	__u32 nheap, heap_cap;
	struct xlb_evsrc sched;		/* timerfd at heap[0]->due_ns */
	__u64 sched_armed_ns;		/* 0: disarmed or fired */

	CURLM *multi;
	struct xlb_evsrc curl_timer;
	int curl_inited;

	struct hsock_chunk *chunks;
	struct hsock *free_socks;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NSEC_PER_SEC + (__u64)ts.tv_nsec;
}

/* splitmix64 finaliser: ids are often sequential, buckets and jitter must not be */
static __u64 mix64(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static int is_http(__u32 kind)
{
	return kind == XLB_CHECK_HTTP || kind == XLB_CHECK_HTTPS;
}

/* ---- id hash ---------------------------------------------------------- */

static struct hc_target **bucket_of(struct xlb_health *h, __u64 id)
{
	return &h->buckets[mix64(id) & (h->nbuckets - 1)];
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
static void sched_at(struct xlb_health *h, struct hc_target *t, __u64 due)
{
	heap_remove(h, t);
	t->due_ns = due;
	heap_place(h, h->nheap++, t);
	heap_sift_up(h, h->nheap - 1);
}

/* Called once at the end of every entry point rather than per heap change. */
static void sched_arm(struct xlb_health *h)
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
	__u64 r = mix64(t->id ^ ((__u64)t->seq << 40));

	return ival - ival / 20 + (span ? r % (span + 1) : 0);
}

/* first check within min(interval / 10, 1 s), spread by id */
static __u64 first_delay_ns(const struct hc_target *t)
{
	__u64 span = (__u64)t->cfg.interval_ms * NSEC_PER_MSEC / 10;

	if (span > FIRST_CHECK_SPREAD_MAX)
		span = FIRST_CHECK_SPREAD_MAX;
	return span ? mix64(t->id) % (span + 1) : 0;
}

/* ---- socket slots ----------------------------------------------------- */

static void hsock_idle(struct xlb_evsrc *src, uint32_t events)
{
	(void)src;
	(void)events;
}

static struct hsock *hsock_get(struct xlb_health *h)
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

static void hsock_put(struct xlb_health *h, struct hsock *hs)
{
	hs->src.fd = -1;
	hs->src.fn = hsock_idle;
	hs->owner = NULL;
	hs->events = 0;
	hs->next_free = h->free_socks;
	h->free_socks = hs;
}

/* What the socket is ready for right now (0: a stale event). */
static short sock_ready(int fd, __u32 events)
{
	struct pollfd p = { .fd = fd, .events = (short)events };

	if (poll(&p, 1, 0) <= 0)
		return 0;
	return p.revents;
}

/* ---- results ---------------------------------------------------------- */

static const char *errno_reason(int err)
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

static void check_done(struct xlb_health *h, struct hc_target *t, int ok,
		       const char *reason)
{
	struct xlb_health_result *r = &t->res;
	struct xlb_health_result copy;
	__u64 now = now_ns(), next, lat_us;
	int was_up = r->up;

	t->phase = PHASE_IDLE;
	lat_us = (now - t->started_ns) / NSEC_PER_USEC;
	r->latency_us = lat_us > UINT_MAX ? UINT_MAX : (__u32)lat_us;
	r->checks++;
	snprintf(r->last, sizeof(r->last), "%s", reason);
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
	sched_at(h, t, next > now ? next : now);

	/* last: the callback may delete t */
	if (r->up != was_up && h->cb) {
		copy = *r;
		h->cb(h->ctx, t->id, copy.up, &copy);
	}
}

/* A local failure: not the backend's fault, so no result, try again later. */
static void check_skip(struct xlb_health *h, struct hc_target *t,
		       const char *what, const char *why)
{
	__u64 now = now_ns(), next;

	t->phase = PHASE_IDLE;
	snprintf(t->res.last, sizeof(t->res.last), "local error: %s: %s", what, why);
	next = t->started_ns + next_interval_ns(t);
	sched_at(h, t, next > now ? next : now);
}

/* ---- tcp -------------------------------------------------------------- */

static socklen_t target_sockaddr(const struct hc_target *t,
				 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (xlb_addr_is_v4(t->cfg.addr)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->cfg.port);
		memcpy(&sin->sin_addr, &t->cfg.addr[3], 4);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(t->cfg.port);
		memcpy(&sin6->sin6_addr, t->cfg.addr, 16);
		return sizeof(*sin6);
	}
}

static void tcp_abort(struct xlb_health *h, struct hc_target *t)
{
	if (!t->probe)
		return;
	/* never dup'ed, so close() also drops it from the epoll */
	close(t->probe->src.fd);
	hsock_put(h, t->probe);
	t->probe = NULL;
	t->phase = PHASE_IDLE;
}

static void tcp_ready(struct xlb_evsrc *src, uint32_t events)
{
	struct hsock *hs = container_of(src, struct hsock, src);
	struct xlb_health *h = src->ctx;
	struct hc_target *t = hs->owner;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)events;
	if (src->fd < 0 || !t || !sock_ready(src->fd, POLLOUT))
		return;
	if (getsockopt(src->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	tcp_abort(h, t);
	check_done(h, t, !err, err ? errno_reason(err) : "ok");
	sched_arm(h);
}

static void tcp_start(struct xlb_health *h, struct hc_target *t)
{
	struct sockaddr_storage ss;
	socklen_t len = target_sockaddr(t, &ss);
	struct hsock *hs;
	int fd, err;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		check_skip(h, t, "socket", strerror(errno));
		return;
	}
	if (!connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		check_done(h, t, 1, "ok");
		return;
	}
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		check_done(h, t, 0, errno_reason(err));
		return;
	}

	hs = hsock_get(h);
	if (!hs) {
		close(fd);
		check_skip(h, t, "socket slot", strerror(ENOMEM));
		return;
	}
	hs->owner = t;
	hs->events = EPOLLOUT;
	err = -xlb_ev_add(h->epfd, &hs->src, fd, EPOLLOUT, tcp_ready, h);
	if (err) {
		close(fd);
		hsock_put(h, hs);
		check_skip(h, t, "epoll", strerror(err));
		return;
	}
	t->probe = hs;
	t->phase = PHASE_TCP;
	sched_at(h, t, t->started_ns + (__u64)t->cfg.timeout_ms * NSEC_PER_MSEC);
}

/* ---- http(s) over curl multi ------------------------------------------ */

static void http_abort(struct xlb_health *h, struct hc_target *t)
{
	if (t->phase != PHASE_HTTP)
		return;
	curl_multi_remove_handle(h->multi, t->easy);
	t->phase = PHASE_IDLE;
}

static const char *curl_reason(CURLcode code, long oserr)
{
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_COULDNT_CONNECT:
		return oserr ? errno_reason((int)oserr) : "connect failed";
	case CURLE_SEND_ERROR:
		return oserr ? errno_reason((int)oserr) : "send failed";
	case CURLE_RECV_ERROR:
		return oserr ? errno_reason((int)oserr) : "receive failed";
	case CURLE_GOT_NOTHING:
		return "empty reply";
	case CURLE_WEIRD_SERVER_REPLY:
		return "bad HTTP reply";
	case CURLE_SSL_CONNECT_ERROR:
		return "TLS handshake failed";
	default:
		return curl_easy_strerror(code);
	}
}

static void http_finish(struct xlb_health *h, struct hc_target *t,
			CURLcode code)
{
	char reason[XLB_HEALTH_LAST_MAX];
	long status = 0, oserr = 0;
	int ok = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &oserr);
	http_abort(h, t);

	if (code == CURLE_WRITE_ERROR && t->body_capped)
		code = CURLE_OK;
	if (code != CURLE_OK) {
		snprintf(reason, sizeof(reason), "%s", curl_reason(code, oserr));
	} else if (status >= 200 && status < 400) {
		ok = 1;
		snprintf(reason, sizeof(reason), "ok");
	} else {
		snprintf(reason, sizeof(reason), "HTTP %ld", status);
	}
	check_done(h, t, ok, reason);
}

/* Finished transfers; run after every curl_multi_socket_action(). */
static void http_drain(struct xlb_health *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		struct hc_target *t = NULL;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		t = (struct hc_target *)priv;
		if (t && t->easy == msg->easy_handle && t->phase == PHASE_HTTP)
			http_finish(h, t, msg->data.result);
	}
}

static void curl_sock_ready(struct xlb_evsrc *src, uint32_t events)
{
	struct hsock *hs = container_of(src, struct hsock, src);
	struct xlb_health *h = src->ctx;
	int mask = 0, running;
	short rev;

	(void)events;
	if (src->fd < 0)
		return;
	rev = sock_ready(src->fd, hs->events);
	if (!rev)
		return;
	if (rev & (POLLIN | POLLHUP))
		mask |= CURL_CSELECT_IN;
	if (rev & POLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (rev & POLLERR)
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, src->fd, mask, &running);
	http_drain(h);
	sched_arm(h);
}

static void curl_timer_fired(struct xlb_evsrc *src, uint32_t events)
{
	struct xlb_health *h = src->ctx;
	__u64 expirations;
	int running;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN)
		return;	/* stale: re-armed since */
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_drain(h);
	sched_arm(h);
}

/* CURLMOPT_SOCKETFUNCTION: mirror curl's interest in our epoll. */
static int curl_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp,
			void *socketp)
{
	struct xlb_health *h = userp;
	struct hsock *hs = socketp;
	uint32_t events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (hs) {
			/* curl may keep the socket open; it must leave the epoll */
			xlb_ev_del(h->epfd, &hs->src);
			hsock_put(h, hs);
		}
		return 0;
	}

	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (!hs) {
		hs = hsock_get(h);
		if (!hs)
			return -1;
		if (xlb_ev_add(h->epfd, &hs->src, s, events, curl_sock_ready, h)) {
			hsock_put(h, hs);
			return -1;
		}
		curl_multi_assign(h->multi, s, hs);
	} else if (xlb_ev_mod(h->epfd, &hs->src, events)) {
		return -1;
	}
	hs->events = events;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 disarms, 0 means "as soon as possible". */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct xlb_health *h = userp;
	struct itimerspec its = { 0 };

	(void)multi;
	if (timeout_ms == 0) {
		its.it_value.tv_nsec = 1;
	} else if (timeout_ms > 0) {
		its.it_value.tv_sec = timeout_ms / 1000;
		its.it_value.tv_nsec = (timeout_ms % 1000) * (long)NSEC_PER_MSEC;
	}
	return timerfd_settime(h->curl_timer.fd, 0, &its, NULL) ? -1 : 0;
}

static size_t http_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct hc_target *t = userp;
	size_t len = size * nmemb;

	(void)data;
	t->body_bytes += len;
	if (t->body_bytes > HTTP_BODY_MAX) {
		t->body_capped = 1;
		return 0;	/* abort: CURLE_WRITE_ERROR, status already known */
	}
	return len;
}

static int http_easy_new(struct hc_target *t)
{
	CURL *e = curl_easy_init();

	if (!e)
		return -ENOMEM;
	if (curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)t) ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_PROXY, "") ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) ||
	    /* self-signed backend certificates are the norm: see health.h */
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) ||
	    /* each check proves the backend still accepts connections */
	    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) ||
	    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "xlb-health/1") ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_body) ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, t)) {
		curl_easy_cleanup(e);
		return -EINVAL;
	}
	t->easy = e;
	return 0;
}

/* Numeric host, so curl resolves it without its resolver thread. */
static void http_url(const struct hc_target *t, char *buf, size_t len)
{
	const char *scheme = t->cfg.kind == XLB_CHECK_HTTPS ? "https" : "http";
	char a[INET6_ADDRSTRLEN];

	if (xlb_addr_is_v4(t->cfg.addr)) {
		inet_ntop(AF_INET, &t->cfg.addr[3], a, sizeof(a));
		snprintf(buf, len, "%s://%s:%u%s", scheme, a, t->cfg.port,
			 t->cfg.path);
	} else {
		inet_ntop(AF_INET6, t->cfg.addr, a, sizeof(a));
		snprintf(buf, len, "%s://[%s]:%u%s", scheme, a, t->cfg.port,
			 t->cfg.path);
	}
}

static void http_start(struct xlb_health *h, struct hc_target *t)
{
	char url[HTTP_URL_MAX];
	CURLMcode mc;

	if (!t->easy && http_easy_new(t)) {
		check_skip(h, t, "curl", "cannot create handle");
		return;
	}
	http_url(t, url, sizeof(url));
	if (curl_easy_setopt(t->easy, CURLOPT_URL, url) ||
	    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)t->cfg.timeout_ms)) {
		check_skip(h, t, "curl", "cannot set URL");
		return;
	}
	t->body_bytes = 0;
	t->body_capped = 0;
	mc = curl_multi_add_handle(h->multi, t->easy);
	if (mc != CURLM_OK) {
		check_skip(h, t, "curl", curl_multi_strerror(mc));
		return;
	}
	t->phase = PHASE_HTTP;
	sched_at(h, t, t->started_ns +
		 (__u64)t->cfg.timeout_ms * NSEC_PER_MSEC + HTTP_GUARD);
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
		tcp_abort(h, t);
		check_done(h, t, 0, "timeout");
		return;
	case PHASE_HTTP:
		http_abort(h, t);
		check_done(h, t, 0, "timeout");
		return;
	case PHASE_IDLE:
		break;
	}

	t->started_ns = now;
	t->seq++;
	switch (t->cfg.kind) {
	case XLB_CHECK_TCP:
		tcp_start(h, t);
		break;
	case XLB_CHECK_HTTP:
	case XLB_CHECK_HTTPS:
		http_start(h, t);
		break;
	default:
		none_check(h, t);
		break;
	}
}

static void sched_fired(struct xlb_evsrc *src, uint32_t events)
{
	struct xlb_health *h = src->ctx;
	__u64 expirations, now;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	h->sched_armed_ns = 0;
	now = now_ns();
	/* every new deadline is later than now, so this ends */
	while (h->nheap && h->heap[0]->due_ns <= now) {
		struct hc_target *t = h->heap[0];

		heap_remove(h, t);
		target_due(h, t, now);
	}
	sched_arm(h);
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
	if (memcmp(a->addr, b->addr, sizeof(a->addr)) || a->port != b->port)
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
	tcp_abort(h, t);
	http_abort(h, t);
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
	sched_at(h, t, now_ns() + first_delay_ns(t));
}

static void target_free(struct xlb_health *h, struct hc_target *t)
{
	target_stop(h, t);
	if (t->easy)
		curl_easy_cleanup(t->easy);
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
	sched_arm(h);
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
			now = now_ns();
			next = t->started_ns + next_interval_ns(t);
			sched_at(h, t, next > now ? next : now);
		}
	}
	sched_arm(h);
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
	sched_arm(h);
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

static int timer_src_init(struct xlb_health *h, struct xlb_evsrc *src,
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

	err = timer_src_init(h, &h->sched, sched_fired);
	if (err)
		goto fail;
	err = timer_src_init(h, &h->curl_timer, curl_timer_fired);
	if (err)
		goto fail;

	/* reference-counted by libcurl, so other users in the daemon are fine */
	err = -EIO;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		goto fail;
	h->curl_inited = 1;
	err = -ENOMEM;
	h->multi = curl_multi_init();
	if (!h->multi)
		goto fail;
	err = -EINVAL;
	if (curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb) ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h))
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
	/* may still call curl_sock_cb for cached connections: slots stay until after */
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->curl_inited)
		curl_global_cleanup();
	if (h->sched.fd >= 0)
		close(h->sched.fd);
	if (h->curl_timer.fd >= 0)
		close(h->curl_timer.fd);
	while ((c = h->chunks)) {
		h->chunks = c->next;
		free(c);
	}
	free(h->heap);
	free(h->buckets);
	free(h);
}
