// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the health-check engine (user/health.c).
 *
 * Each test runs its own epoll loop, in which the engine's fds and the
 * test's own tiny TCP/HTTP servers are all xlb_evsrc sources, as in xlbd.
 * Loopback only (127.0.0.1, ::1); meant to run in a private network
 * namespace (tests/unit/in_netns.sh) so fixed port numbers are free.
 * Waits drive the loop until the expected callback or a 5 s deadline, never
 * sleep. Figures are "# ..." lines, TAP comments under CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#define _GNU_SOURCE	/* accept4 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "../../user/lib/health.h"
#include "unit_loop.h"

#define DEADLINE_MS	T(5000)
#define MAX_EVENTS	1024
#define MAX_SERVERS	8
#define MANY		300
/* closed ports below the ephemeral range, so a probe cannot self-connect */
#define CLOSED_PORT	19999
#define MANY_PORT_BASE	20000

struct cb_event {
	__u64 id;
	int up;
	struct xlb_health_result r;
};

struct server;

struct fixture {
	int epfd;
	struct xlb_health *h;
	struct cb_event ev[MAX_EVENTS];
	unsigned int nev;
	int quiet;		/* no log line per callback */
	int del_in_cb;		/* the callback deletes the target it reports */
	struct server *srv[MAX_SERVERS];
};

/* ---- loop ------------------------------------------------------------- */

typedef int (*cond_fn)(struct fixture *f, const void *arg);

/* Drive the loop until cond holds or ms pass; returns whether it held. */
static int run_until(struct fixture *f, cond_fn cond, const void *arg, int ms)
{
	__u64 deadline = mono_ms() + (__u64)ms;

	while (!cond || !cond(f, arg)) {
		__u64 now = mono_ms();

		if (now >= deadline)
			return cond ? cond(f, arg) : 1;
		loop_once(f->epfd, (int)(deadline - now));
	}
	return 1;
}

/* For checks that something does NOT happen: a bounded stretch of loop. */
static void run_for(struct fixture *f, int ms)
{
	run_until(f, NULL, NULL, ms);
}

struct nth_event {
	__u64 id;
	unsigned int n;
};

static int find_event(struct fixture *f, __u64 id, unsigned int n)
{
	unsigned int i, seen = 0;

	for (i = 0; i < f->nev; i++)
		if (f->ev[i].id == id && ++seen == n)
			return (int)i;
	return -1;
}

static int has_nth_event(struct fixture *f, const void *arg)
{
	const struct nth_event *w = arg;

	return find_event(f, w->id, w->n) >= 0;
}

/* The n-th (1-based) callback for id, waited for up to DEADLINE_MS. */
static const struct cb_event *wait_event(struct fixture *f, __u64 id,
					 unsigned int n)
{
	struct nth_event w = { .id = id, .n = n };
	__u64 start = mono_ms();
	int i;

	run_until(f, has_nth_event, &w, DEADLINE_MS);
	i = find_event(f, id, n);
	if (i < 0)
		fail_msg("no callback #%u for id %llu within %u ms", n,
			 (unsigned long long)id, DEADLINE_MS);
	printf("# id %llu callback #%u after %llu ms\n", (unsigned long long)id,
	       n, (unsigned long long)(mono_ms() - start));
	return &f->ev[i];
}

/* The n-th callback for id: up or down, for this reason, after this many checks. */
static const struct cb_event *expect_event(struct fixture *f, __u64 id, unsigned int n,
					   int up, const char *last, __u64 checks)
{
	const struct cb_event *e = wait_event(f, id, n);

	assert_int_equal(e->up, up);
	assert_string_equal(e->r.last, last);
	assert_int_equal(e->r.checks, checks);
	return e;
}

static int has_n_events(struct fixture *f, const void *arg)
{
	return f->nev >= *(const unsigned int *)arg;
}

static void on_health(void *ctx, __u64 id, int up,
		      const struct xlb_health_result *r)
{
	struct fixture *f = ctx;

	assert_true(f->nev < MAX_EVENTS);
	f->ev[f->nev].id = id;
	f->ev[f->nev].up = up;
	f->ev[f->nev].r = *r;
	f->nev++;
	if (!f->quiet)
		printf("# id %llu %s: %s (%u/%u), %llu checks, %llu failed, %u us\n",
		       (unsigned long long)id, up ? "up" : "down", r->last,
		       up ? r->ok_streak : r->fail_streak, up ? r->rise : r->fall,
		       (unsigned long long)r->checks,
		       (unsigned long long)r->failures, r->latency_us);
	if (f->del_in_cb)
		assert_int_equal(xlb_health_del(f->h, id), 0);
}

static int thread_count(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(fp);
	return n;
}

/* ---- test servers: a listener that accepts, optionally speaking HTTP --- */

struct conn {
	struct xlb_evsrc src;
	struct server *srv;
	struct conn *next;
	size_t len;
	char buf[4096];
};

struct server {
	struct xlb_evsrc src;		/* listener, fd -1 while stopped */
	struct fixture *f;
	int family;
	__u16 port;
	int http;
	int status;			/* http: reply code, 0 = never answer */
	int accepts;
	int open_conns;
	char host[64], path[256];	/* of the last request */
	struct conn *conns;
};

static void conn_free(struct conn *c)
{
	struct server *s = c->srv;
	struct conn **pp;

	for (pp = &s->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	close(c->src.fd);
	s->open_conns--;
	free(c);
}

/* Copy the text after "key" up to end (exclusive) or a CR into out. */
static void copy_field(const char *from, const char *end, char *out, size_t len)
{
	size_t n = 0;

	while (from + n < end && from[n] != '\r' && n + 1 < len)
		n++;
	memcpy(out, from, n);
	out[n] = '\0';
}

static void http_answer(struct conn *c)
{
	struct server *s = c->srv;
	char resp[128], *sp1, *sp2, *host;
	int n;

	sp1 = strchr(c->buf, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp2)
		copy_field(sp1 + 1, sp2, s->path, sizeof(s->path));
	host = strstr(c->buf, "\r\nHost: ");
	if (host)
		copy_field(host + 8, c->buf + c->len, s->host, sizeof(s->host));

	n = snprintf(resp, sizeof(resp),
		     "HTTP/1.1 %d Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		     s->status);
	assert_int_equal(write(c->src.fd, resp, (size_t)n), n);
	conn_free(c);
}

static void conn_ready(struct xlb_evsrc *src, uint32_t events)
{
	struct conn *c = src->ctx;
	ssize_t n;

	(void)events;
	n = read(src->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		conn_free(c);	/* the checker hung up */
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (c->srv->status && strstr(c->buf, "\r\n\r\n"))
		http_answer(c);
}

static void server_accept(struct xlb_evsrc *src, uint32_t events)
{
	struct server *s = src->ctx;
	int fd;

	(void)events;
	while ((fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;

		s->accepts++;
		if (!s->http) {
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		assert_non_null(c);
		c->srv = s;
		c->src.fd = fd;
		c->src.fn = conn_ready;
		c->src.ctx = c;
		c->next = s->conns;
		s->conns = c;
		s->open_conns++;
		ev.data.ptr = &c->src;
		assert_int_equal(epoll_ctl(s->f->epfd, EPOLL_CTL_ADD, fd, &ev), 0);
	}
}

/* (Re)open the listener on s->port, or on a fresh port if it is 0. */
static void server_start(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->src };
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, one = 1;

	fd = socket(s->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	if (s->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(s->port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), 0);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(s->port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 1024), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	s->port = ntohs(s->family == AF_INET ?
			((struct sockaddr_in *)&ss)->sin_port :
			((struct sockaddr_in6 *)&ss)->sin6_port);
	s->src.fd = fd;
	assert_int_equal(epoll_ctl(s->f->epfd, EPOLL_CTL_ADD, fd, &ev), 0);
}

/* Close the listener: new connects are refused, open conns stay. */
static void server_stop(struct server *s)
{
	if (s->src.fd < 0)
		return;
	close(s->src.fd);
	s->src.fd = -1;
}

/* http: status 0 accepts and never answers; tcp: http = 0. */
static struct server *server_new(struct fixture *f, int family, int http,
				 int status)
{
	struct server *s = calloc(1, sizeof(*s));
	int i;

	assert_non_null(s);
	for (i = 0; i < MAX_SERVERS && f->srv[i]; i++)
		;
	assert_true(i < MAX_SERVERS);
	f->srv[i] = s;
	s->f = f;
	s->family = family;
	s->http = http;
	s->status = status;
	s->src.fd = -1;
	s->src.fn = server_accept;
	s->src.ctx = s;
	server_start(s);
	return s;
}

static void server_free(struct server *s)
{
	server_stop(s);
	while (s->conns)
		conn_free(s->conns);
	free(s);
}

/* ---- targets ---------------------------------------------------------- */

static void target_init(struct xlb_health_target *t, int family, __u16 port,
			__u32 kind)
{
	memset(t, 0, sizeof(*t));
	if (family == AF_INET) {
		t->addr[2] = htonl(0xffff);
		t->addr[3] = htonl(INADDR_LOOPBACK);
	} else {
		memcpy(t->addr, &in6addr_loopback, 16);
	}
	t->port = port;
	t->kind = kind;
	t->interval_ms = T(50);
	t->timeout_ms = T(40);
	t->rise = 2;
	t->fall = 3;
}

/* ---- fixture ---------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (f->epfd < 0)
		return -1;
	f->h = xlb_health_new(f->epfd, on_health, f);
	if (!f->h)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int i;

	/* the engine first: its checks may still hold server connections */
	xlb_health_free(f->h);
	for (i = 0; i < MAX_SERVERS; i++)
		if (f->srv[i])
			server_free(f->srv[i]);
	close(f->epfd);
	free(f);
	return 0;
}

/* ---- tests ------------------------------------------------------------ */

/* Up after exactly rise successes, down after exactly fall refusals, up again. */
static void test_tcp_rise_fall(void **state)
{
	struct fixture *f = *state;
	struct server *s = server_new(f, AF_INET, 0, 0);
	struct xlb_health_target t;
	const struct cb_event *e;

	target_init(&t, AF_INET, s->port, XLB_CHECK_TCP);
	assert_int_equal(xlb_health_add(f->h, 1, &t), 0);

	e = expect_event(f, 1, 1, 1, "ok", 2);
	assert_int_equal(e->r.ok_streak, 2);
	assert_int_equal(e->r.failures, 0);
	assert_int_equal(e->r.rise, 2);

	server_stop(s);
	e = expect_event(f, 1, 2, 0, "connect refused", 5);
	assert_int_equal(e->r.fail_streak, 3);
	assert_int_equal(e->r.fall, 3);
	assert_int_equal(e->r.failures, 3);

	server_start(s);
	e = expect_event(f, 1, 3, 1, "ok", 7);
	assert_int_equal(e->r.ok_streak, 2);
	assert_int_equal(e->r.failures, 3);
	assert_int_equal(f->nev, 3);
	assert_true(s->accepts >= 2);	/* the first two at least were served */
}

static void test_http_status(void **state)
{
	struct fixture *f = *state;
	struct server *s = server_new(f, AF_INET, 1, 200);
	struct xlb_health_target t;
	const struct cb_event *e;
	char host[64];

	target_init(&t, AF_INET, s->port, XLB_CHECK_HTTP);
	strcpy(t.path, "/healthz?full=1");
	t.interval_ms = T(100);
	t.timeout_ms = T(50);
	t.fall = 2;
	assert_int_equal(xlb_health_add(f->h, 7, &t), 0);

	expect_event(f, 7, 1, 1, "ok", 2);
	snprintf(host, sizeof(host), "127.0.0.1:%u", s->port);
	assert_string_equal(s->host, host);
	assert_string_equal(s->path, "/healthz?full=1");
	assert_int_equal(thread_count(), 1);

	s->status = 500;
	e = expect_event(f, 7, 2, 0, "HTTP 500", 4);
	assert_int_equal(e->r.fail_streak, 2);

	/* 3xx counts as healthy: redirects are not followed */
	s->status = 302;
	expect_event(f, 7, 3, 1, "ok", 6);
	assert_int_equal(thread_count(), 1);
}

/* A server that accepts and never answers; and a refused HTTP connect. */
static void test_http_timeout_refused(void **state)
{
	struct fixture *f = *state;
	struct server *s = server_new(f, AF_INET, 1, 0);
	struct xlb_health_target t;
	const struct cb_event *e;

	target_init(&t, AF_INET, s->port, XLB_CHECK_HTTP);
	t.interval_ms = T(100);
	t.timeout_ms = T(50);
	t.fall = 1;
	t.initially_up = 1;
	assert_int_equal(xlb_health_add(f->h, 1, &t), 0);
	t.port = CLOSED_PORT;
	assert_int_equal(xlb_health_add(f->h, 2, &t), 0);

	e = expect_event(f, 1, 1, 0, "timeout", 1);
	assert_true(e->r.latency_us >= T(45000));
	assert_true(s->accepts >= 1);

	expect_event(f, 2, 1, 0, "connect refused", 1);
}

/* kind none: up without a probe, and no connection ever reaches the port. */
static void test_none(void **state)
{
	struct fixture *f = *state;
	struct server *s = server_new(f, AF_INET, 0, 0);
	struct xlb_health_target t;
	struct xlb_health_result r;
	int fd;

	target_init(&t, AF_INET, s->port, XLB_CHECK_NONE);
	t.initially_up = 1;
	assert_int_equal(xlb_health_add(f->h, 1, &t), 0);
	t.initially_up = 0;
	assert_int_equal(xlb_health_add(f->h, 2, &t), 0);

	expect_event(f, 2, 1, 1, "no check", 0);

	run_for(f, T(300));	/* six intervals */
	assert_int_equal(f->nev, 1);
	fd = accept(s->src.fd, NULL, NULL);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(s->accepts, 0);
	assert_int_equal(xlb_health_get(f->h, 1, &r), 0);
	assert_int_equal(r.up, 1);
	assert_int_equal(r.checks, 0);
}

static void test_ipv6(void **state)
{
	struct fixture *f = *state;
	struct server *s = server_new(f, AF_INET6, 0, 0);
	struct server *web = server_new(f, AF_INET6, 1, 204);
	struct xlb_health_target t;
	char host[64];

	target_init(&t, AF_INET6, s->port, XLB_CHECK_TCP);
	t.rise = 1;
	t.fall = 1;
	assert_int_equal(xlb_health_add(f->h, 1, &t), 0);
	expect_event(f, 1, 1, 1, "ok", 1);

	server_stop(s);
	expect_event(f, 1, 2, 0, "connect refused", 2);

	target_init(&t, AF_INET6, web->port, XLB_CHECK_HTTP);
	t.rise = 1;
	assert_int_equal(xlb_health_add(f->h, 2, &t), 0);
	expect_event(f, 2, 1, 1, "ok", 1);
	snprintf(host, sizeof(host), "[::1]:%u", web->port);
	assert_string_equal(web->host, host);
	assert_string_equal(web->path, "/");
}

/* 300 closed ports, every third checked over HTTP: all down, one thread. */
static void test_many(void **state)
{
	struct fixture *f = *state;
	struct xlb_health_target t;
	unsigned int i, want = MANY;
	char seen[MANY] = { 0 };
	__u64 start;
	int threads_during;

	f->quiet = 1;
	for (i = 0; i < MANY; i++) {
		target_init(&t, AF_INET, (__u16)(MANY_PORT_BASE + i),
			    i % 3 ? XLB_CHECK_TCP : XLB_CHECK_HTTP);
		t.interval_ms = T(100);
		t.timeout_ms = T(50);
		t.fall = 2;
		t.initially_up = 1;
		assert_int_equal(xlb_health_add(f->h, 1000 + i, &t), 0);
	}
	start = mono_ms();
	want = 1;
	run_until(f, has_n_events, &want, DEADLINE_MS);
	threads_during = thread_count();
	want = MANY;
	run_until(f, has_n_events, &want, DEADLINE_MS);
	printf("# %u of %u down after %llu ms, threads %d during, %d after\n",
	       f->nev, MANY, (unsigned long long)(mono_ms() - start),
	       threads_during, thread_count());
	assert_int_equal(f->nev, MANY);
	assert_int_equal(threads_during, 1);
	assert_int_equal(thread_count(), 1);

	for (i = 0; i < f->nev; i++) {
		const struct cb_event *e = &f->ev[i];

		assert_true(e->id >= 1000 && e->id < 1000 + MANY);
		assert_int_equal(seen[e->id - 1000], 0);
		seen[e->id - 1000] = 1;
		assert_int_equal(e->up, 0);
		assert_int_equal(e->r.fail_streak, 2);
		assert_int_equal(e->r.checks, 2);
		assert_string_equal(e->r.last, "connect refused");
	}
}

static int conns_closed(struct fixture *f, const void *arg)
{
	(void)f;
	return ((const struct server *)arg)->open_conns == 0;
}

static int accepted_one(struct fixture *f, const void *arg)
{
	(void)f;
	return ((const struct server *)arg)->accepts >= 1;
}

/* del: no more probes or callbacks, in-flight checks aborted, del from the callback. */
static void test_del(void **state)
{
	struct fixture *f = *state;
	struct server *s = server_new(f, AF_INET, 0, 0);
	struct server *mute = server_new(f, AF_INET, 1, 0);
	struct xlb_health_target t;
	struct xlb_health_result r;
	int accepts;

	target_init(&t, AF_INET, s->port, XLB_CHECK_TCP);
	t.rise = 1;
	assert_int_equal(xlb_health_add(f->h, 1, &t), 0);
	wait_event(f, 1, 1);
	assert_int_equal(xlb_health_del(f->h, 1), 0);
	assert_int_equal(xlb_health_del(f->h, 1), -ENOENT);
	assert_int_equal(xlb_health_get(f->h, 1, &r), -ENOENT);
	run_for(f, T(20));		/* let the server take what was already sent */
	accepts = s->accepts;
	run_for(f, T(300));
	assert_int_equal(s->accepts, accepts);
	assert_int_equal(f->nev, 1);

	/* an HTTP check in flight: del must hang up on the server */
	target_init(&t, AF_INET, mute->port, XLB_CHECK_HTTP);
	t.timeout_ms = T(2000);
	assert_int_equal(xlb_health_add(f->h, 2, &t), 0);
	assert_true(run_until(f, accepted_one, mute, DEADLINE_MS));
	assert_int_equal(xlb_health_del(f->h, 2), 0);
	assert_true(run_until(f, conns_closed, mute, DEADLINE_MS));
	run_for(f, T(100));
	assert_int_equal(f->nev, 1);

	/* the callback deletes the target it reports on */
	f->del_in_cb = 1;
	server_stop(s);
	target_init(&t, AF_INET, s->port, XLB_CHECK_TCP);
	t.fall = 1;
	t.initially_up = 1;
	assert_int_equal(xlb_health_add(f->h, 3, &t), 0);
	wait_event(f, 3, 1);
	assert_int_equal(xlb_health_get(f->h, 3, &r), -ENOENT);
	run_for(f, T(200));
	assert_int_equal(f->nev, 2);
}

/* Argument checks, and what update keeps. */
static void test_add_update(void **state)
{
	struct fixture *f = *state;
	struct server *s = server_new(f, AF_INET, 0, 0);
	struct xlb_health_target t, bad;
	struct xlb_health_result r, r2;
	const struct cb_event *e;

	target_init(&t, AF_INET, s->port, XLB_CHECK_TCP);
	t.rise = 1;
	t.fall = 2;
	assert_int_equal(xlb_health_add(f->h, 5, &t), 0);
	assert_int_equal(xlb_health_add(f->h, 5, &t), -EEXIST);
	assert_int_equal(xlb_health_update(f->h, 6, &t), -ENOENT);
	assert_int_equal(xlb_health_add(f->h, 6, NULL), -EINVAL);
	bad = t;
	bad.kind = 9;
	assert_int_equal(xlb_health_add(f->h, 6, &bad), -EINVAL);
	bad = t;
	bad.port = 0;
	assert_int_equal(xlb_health_add(f->h, 6, &bad), -EINVAL);
	bad = t;
	bad.interval_ms = 0;
	assert_int_equal(xlb_health_add(f->h, 6, &bad), -EINVAL);
	bad = t;
	bad.kind = XLB_CHECK_HTTP;
	strcpy(bad.path, "health");
	assert_int_equal(xlb_health_add(f->h, 6, &bad), -EINVAL);
	strcpy(bad.path, "/a b");
	assert_int_equal(xlb_health_update(f->h, 5, &bad), -EINVAL);

	e = wait_event(f, 5, 1);
	assert_int_equal(e->up, 1);

	/* timing only: state, streaks and totals stay */
	assert_int_equal(xlb_health_get(f->h, 5, &r), 0);
	t.interval_ms = T(60);
	t.timeout_ms = T(30);
	t.fall = 3;
	assert_int_equal(xlb_health_update(f->h, 5, &t), 0);
	assert_int_equal(xlb_health_get(f->h, 5, &r2), 0);
	assert_int_equal(r2.up, 1);
	assert_int_equal(r2.ok_streak, r.ok_streak);
	assert_int_equal(r2.checks, r.checks);
	assert_int_equal(r2.fall, 3);

	/* re-pointed at a closed port: streaks restart, up stays until fall fails */
	server_stop(s);
	t.port = CLOSED_PORT;
	assert_int_equal(xlb_health_update(f->h, 5, &t), 0);
	assert_int_equal(xlb_health_get(f->h, 5, &r2), 0);
	assert_int_equal(r2.up, 1);
	assert_int_equal(r2.ok_streak, 0);
	assert_string_equal(r2.last, "pending");
	e = wait_event(f, 5, 2);
	assert_int_equal(e->up, 0);
	assert_int_equal(e->r.fail_streak, 3);
	assert_int_equal(e->r.checks, r.checks + 3);
	assert_string_equal(e->r.last, "connect refused");
}

/*
 * Through the VIP without a routing mark (every mark taken, the rule
 * refused): each check fails, so a backend up at start goes down; none
 * reaches the server unmarked.
 */
static void test_via_no_mark(void **state)
{
	struct fixture *f = *state;
	struct server *s = server_new(f, AF_INET, 1, 200);
	struct xlb_health_target t;

	target_init(&t, AF_INET, s->port, XLB_CHECK_TCP);
	memcpy(t.via, t.addr, sizeof(t.via));
	t.mark = 0;
	t.fall = 2;
	t.initially_up = 1;
	assert_int_equal(xlb_health_add(f->h, 1, &t), 0);
	t.kind = XLB_CHECK_HTTP;
	assert_int_equal(xlb_health_add(f->h, 2, &t), 0);

	expect_event(f, 1, 1, 0, "no routing mark via VIP", 2);
	expect_event(f, 2, 1, 0, "no routing mark via VIP", 2);
	assert_int_equal(s->accepts, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tcp_rise_fall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_timeout_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_via_no_mark, setup, teardown),
	};

	time_scale_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
