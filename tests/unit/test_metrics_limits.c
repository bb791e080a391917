// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for what keeps the metrics endpoint (user/lib/metrics.c)
 * reachable under abuse: the per-address connection limit, the request
 * deadline a trickling client cannot extend, the cached answer, the
 * allowlist, and the prefixes it is made of (syntax.c).
 *
 * The server runs its epoll loop in a thread, as xlbd's loop would; the
 * test's clients are plain blocking sockets from chosen 127.0.0.x
 * addresses. Loopback only, in a private network namespace
 * (tests/unit/in_netns.sh), so the fixed port is free.
 */
#define _GNU_SOURCE	/* strcasestr */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "../../user/lib/evloop.h"
#include "../../user/lib/metrics.h"
#include "../../user/lib/syntax.h"

#define PORT		19110
#define REQ		"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n"

struct server {
	int epfd;
	struct xlb_metrics *m;
	pthread_t thread;
	int stop;		/* __atomic */
	unsigned int renders;	/* __atomic */
};

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static int render(void *ctx, struct xlb_prom *w)
{
	struct server *s = ctx;
	unsigned int n = __atomic_add_fetch(&s->renders, 1, __ATOMIC_SEQ_CST);

	xlb_prom_family(w, "xlb_test_renders_total", "counter", "Renders so far.");
	return xlb_prom_sample_u64(w, "xlb_test_renders_total", NULL, n);
}

static void *serve(void *arg)
{
	struct server *s = arg;
	struct epoll_event evs[16];
	int i, n;

	while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
		n = epoll_wait(s->epfd, evs, 16, 20);
		for (i = 0; i < n; i++) {
			struct xlb_evsrc *src = evs[i].data.ptr;

			src->fn(src, evs[i].events);
		}
	}
	return NULL;
}

static struct server *running;	/* stopped by teardown, also after a failure */

static struct server *server_start(const struct xlb_metrics_opts *opts)
{
	struct server *s = calloc(1, sizeof(*s));
	char err[256];

	assert_non_null(s);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(s->epfd >= 0);
	s->m = xlb_metrics_new_opts(s->epfd, "127.0.0.1:19110", opts, render, s, err, sizeof(err));
	if (!s->m)
		print_message("# %s\n", err);
	assert_non_null(s->m);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
	running = s;
	return s;
}

static void server_stop(struct server *s)
{
	running = NULL;
	__atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(s->thread, NULL);
	xlb_metrics_free(s->m);
	close(s->epfd);
	free(s);
}

/* A connection from 127.0.0.<host>; reads give up after timeout_ms. */
static int client(int host, int timeout_ms)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	src.sin_addr.s_addr = htonl(0x7f000000 | host);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dst.sin_port = htons(PORT);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/*
 * One answer on fd: its status and body (the value of the one sample) in
 * *value; -ETIMEDOUT if nothing came, -EPIPE if the server closed first.
 */
static int answer(int fd, unsigned long *value)
{
	char buf[4096], *body, *cl;
	size_t len = 0;
	ssize_t n;
	int status;

	for (;;) {
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -EPIPE;
		if (n == 0)
			return -EPIPE;
		len += n;
		buf[len] = '\0';
		body = strstr(buf, "\r\n\r\n");
		cl = strcasestr(buf, "Content-Length: ");
		if (body && cl && len >= (size_t)(body + 4 - buf) + strtoul(cl + 16, NULL, 10))
			break;
	}
	assert_int_equal(sscanf(buf, "HTTP/1.1 %d", &status), 1);
	if (value)
		*value = strtoul(strstr(body, "\nxlb_test_renders_total ") + 24, NULL, 10);
	return status;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

static int scrape(int host, unsigned long *value)
{
	int fd = client(host, 3000), ret;

	send_str(fd, REQ);
	ret = answer(fd, value);
	close(fd);
	return ret;
}

static int teardown(void **state)
{
	(void)state;
	if (running)
		server_stop(running);
	return 0;
}

/* ---- per-address limit -------------------------------------------------- */

static void test_per_ip_limit(void **state)
{
	struct xlb_metrics_opts o = { .per_ip_conns = 2 };
	struct server *s = server_start(&o);
	int a = client(2, 300), b = client(2, 300), c, ret;
	__u64 t0;

	(void)state;
	/* the two are held open, silent... */
	assert_int_equal(answer(a, NULL), -ETIMEDOUT);
	assert_int_equal(answer(b, NULL), -ETIMEDOUT);
	/* ...a third from the same address is closed at once, request or not */
	c = client(2, 2000);
	(void)!send(c, REQ, strlen(REQ), MSG_NOSIGNAL);	/* may already find it closed */
	assert_int_equal(answer(c, NULL), -EPIPE);
	close(c);
	/* another address is served */
	assert_int_equal(scrape(3, NULL), 200);
	/* the address gets its slot back once the server has seen one close */
	close(a);
	t0 = mono_ms();
	while ((ret = scrape(2, NULL)) == -EPIPE && mono_ms() - t0 < 2000)
		usleep(10 * 1000);
	assert_int_equal(ret, 200);
	close(b);
	server_stop(s);
}

/* ---- request deadline ----------------------------------------------------- */

/* A byte every 500 ms keeps MHD's idle timer from ever firing; the deadline still does. */
static void test_trickle_cut(void **state)
{
	struct server *s = server_start(NULL);
	int fd = client(2, 100), ret = -ETIMEDOUT;
	__u64 t0 = mono_ms(), took;

	(void)state;
	send_str(fd, "GET /metrics HTTP/1.1\r\nHost: test\r\nX-Slow: ");
	while (ret == -ETIMEDOUT && mono_ms() - t0 < (XLB_METRICS_REQUEST_DEADLINE_S + 3) * 1000) {
		if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
			break;
		ret = answer(fd, NULL);
		if (ret == -ETIMEDOUT)
			usleep(400 * 1000);
	}
	took = mono_ms() - t0;
	print_message("# a trickling request was closed after %llu ms\n", (unsigned long long)took);
	assert_true(ret == -ETIMEDOUT || ret == -EPIPE);
	assert_true(took >= XLB_METRICS_REQUEST_DEADLINE_S * 1000 - 100);
	assert_true(took <= XLB_METRICS_REQUEST_DEADLINE_S * 1000 + 1500);
	close(fd);
	assert_int_equal(__atomic_load_n(&s->renders, __ATOMIC_SEQ_CST), 0);
	server_stop(s);
}

/* A slow but whole request is answered; each answer restarts the clock for the next. */
static void test_deadline_per_request(void **state)
{
	struct server *s = server_start(NULL);
	const char *p = REQ;
	int fd = client(2, 3000);
	__u64 t0 = mono_ms();

	(void)state;
	for (; *p; p++) {
		assert_int_equal(send(fd, p, 1, MSG_NOSIGNAL), 1);
		usleep(40 * 1000);	/* 35 bytes: about 1.4 s */
	}
	assert_int_equal(answer(fd, NULL), 200);
	/* past the first deadline counted from the connect, not from that answer */
	usleep((XLB_METRICS_REQUEST_DEADLINE_S * 1000 - (mono_ms() - t0) + 1000) * 1000);
	send_str(fd, REQ);
	assert_int_equal(answer(fd, NULL), 200);
	close(fd);
	server_stop(s);
}

/* ---- cache ------------------------------------------------------------------ */

static void test_cache(void **state)
{
	struct xlb_metrics_opts o = { .cache_ms = 500 };
	struct server *s = server_start(&o);
	unsigned long v1, v2, v3;
	__u64 t0 = mono_ms();
	int i, fd;

	(void)state;
	assert_int_equal(scrape(2, &v1), 200);
	/* ten more scrapes, kept-alive and not, inside the period: no render */
	fd = client(3, 3000);
	for (i = 0; i < 5; i++) {
		send_str(fd, REQ);
		assert_int_equal(answer(fd, &v2), 200);
		assert_int_equal(v2, v1);
		assert_int_equal(scrape(4, &v2), 200);
		assert_int_equal(v2, v1);
	}
	assert_true(mono_ms() - t0 < 500);
	assert_int_equal(__atomic_load_n(&s->renders, __ATOMIC_SEQ_CST), 1);
	usleep(600 * 1000);
	send_str(fd, REQ);
	assert_int_equal(answer(fd, &v3), 200);
	assert_int_equal(v3, v1 + 1);
	close(fd);
	server_stop(s);
}

/* Without cache_ms every scrape renders, as before. */
static void test_no_cache(void **state)
{
	struct server *s = server_start(NULL);
	unsigned long v;
	int i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		assert_int_equal(scrape(2, &v), 200);
		assert_int_equal(v, (unsigned long)i);
	}
	server_stop(s);
}

/* ---- allowlist ------------------------------------------------------------- */

static void test_allow(void **state)
{
	struct xlb_prefix allow[2];
	struct xlb_metrics_opts o = { .allow = allow, .nallow = 2 };
	struct server *s;
	int fd;

	(void)state;
	assert_int_equal(xlb_parse_prefix("127.0.0.2", &allow[0], NULL, 0), 0);
	assert_int_equal(xlb_parse_prefix("127.0.1.0/24", &allow[1], NULL, 0), 0);
	s = server_start(&o);
	assert_int_equal(scrape(2, NULL), 200);
	assert_int_equal(scrape(0x1ff, NULL), 200);	/* 127.0.1.255 */
	fd = client(3, 2000);
	(void)!send(fd, REQ, strlen(REQ), MSG_NOSIGNAL);	/* may already find it closed */
	assert_int_equal(answer(fd, NULL), -EPIPE);
	close(fd);
	assert_int_equal(__atomic_load_n(&s->renders, __ATOMIC_SEQ_CST), 2);
	server_stop(s);
}

static void check_prefix(const char *s, const char *in, const char *out)
{
	struct xlb_prefix p;
	__be32 a[4];
	char err[64];

	assert_int_equal(xlb_parse_prefix(s, &p, err, sizeof(err)), 0);
	assert_int_equal(xlb_parse_addr(in, a, NULL, 0), 0);
	assert_true(xlb_prefix_contains(&p, a));
	assert_int_equal(xlb_parse_addr(out, a, NULL, 0), 0);
	assert_false(xlb_prefix_contains(&p, a));
}

static void test_prefix(void **state)
{
	static const struct {
		const char *s, *why;
	} bad[] = {
		{ "198.18.0.0/33", "bad prefix length" }, { "198.18.0.0/", "bad prefix length" },
		{ "198.18.0.0/2x", "bad prefix length" }, { "198.18.0.0/-1", "bad prefix length" },
		{ "2001:db8::/129", "bad prefix length" }, { "198.18.0.0/0024", "bad prefix length" },
		{ "198.18.0/24", "bad IPv4 address" }, { "2001:db8::g/32", "bad IPv6 address" },
		{ "", "bad IPv4 address" },
	};
	struct xlb_prefix p;
	char err[64];
	size_t i;

	(void)state;
	check_prefix("198.18.0.0/24", "198.18.0.255", "198.18.1.0");
	check_prefix("198.18.0.7/24", "198.18.0.1", "198.19.0.1");	/* host bits ignored */
	check_prefix("198.18.0.7", "198.18.0.7", "198.18.0.8");
	check_prefix("198.18.0.0/15", "198.19.255.255", "198.20.0.0");
	check_prefix("0.0.0.0/0", "198.18.0.1", "2001:db8::1");		/* IPv4 only */
	check_prefix("2001:db8::/32", "2001:db8:ffff::1", "2001:db9::1");
	check_prefix("2001:db8::1", "2001:db8::1", "2001:db8::2");
	/* IPv4 lives in ::ffff:0:0/96, so ::/0 is everyone */
	assert_int_equal(xlb_parse_prefix("::/0", &p, NULL, 0), 0);
	assert_int_equal(p.len, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(xlb_parse_prefix(bad[i].s, &p, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix),
		cmocka_unit_test_teardown(test_per_ip_limit, teardown),
		cmocka_unit_test_teardown(test_trickle_cut, teardown),
		cmocka_unit_test_teardown(test_deadline_per_request, teardown),
		cmocka_unit_test_teardown(test_cache, teardown),
		cmocka_unit_test_teardown(test_no_cache, teardown),
		cmocka_unit_test_teardown(test_allow, teardown),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
