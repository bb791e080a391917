// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the metrics endpoint (user/metrics.c): the HTTP server in
 * the test's own epoll loop, as in xlbd (the text writer: test_prom.c),
 * fetched by raw nonblocking HTTP clients that are sources of the same loop
 * (so a test can also be a client that connects and says nothing).
 *
 * Loopback only (127.0.0.1, ::1); meant to run in a private network
 * namespace (tests/unit/in_netns.sh) so fixed port numbers are free.
 * Waits drive the loop until the client is done or a deadline, never sleep.
 * Figures are "# ..." lines, TAP comments under CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#define _GNU_SOURCE	/* strcasestr */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "../../user/lib/evloop.h"
#include "../../user/lib/metrics.h"
#include "unit_expo.h"
#include "unit_loop.h"

#define DEADLINE_MS	T(5000)
#define PORT		19100
#define PORT_V6		19101
#define PORT_ANY	19102

struct fixture {
	int epfd;
	struct xlb_metrics *m;
	int fail;		/* render returns this */
	int bad_sample;		/* render misuses the writer, returns 0 */
	unsigned int big;	/* extra samples */
	unsigned int renders;
};

/* ---- loop ------------------------------------------------------------- */

/* Drive the loop until *done is set or ms pass; return *done. */
static int run_until(struct fixture *f, const int *done, unsigned int ms)
{
	__u64 deadline = mono_ms() + ms;

	while (!*done && mono_ms() < deadline)
		loop_once(f->epfd, 20);
	return *done;
}

/* ---- the render --------------------------------------------------------- */

static int render(void *ctx, struct xlb_prom *w)
{
	struct fixture *f = ctx;

	f->renders++;
	if (f->fail)
		return f->fail;
	write_expo(w, f->renders, f->big);
	if (f->bad_sample)
		xlb_prom_sample(w, "not_the_family", NULL, 1);
	return 0;
}

/* What the render writes at its nth call: caller frees. */
static char *expected_expo(unsigned int n, unsigned int big)
{
	struct xlb_prom *w = xlb_prom_new();
	char *s;

	assert_non_null(w);
	assert_int_equal(write_expo(w, n, big), 0);
	s = strdup(xlb_prom_text(w, NULL));
	xlb_prom_free(w);
	return s;
}

/* ---- raw HTTP client ---------------------------------------------------- */

struct client {
	struct xlb_evsrc src;
	int epfd;
	char req[1024];
	size_t reqlen, sent;
	char *buf;			/* response so far, NUL-terminated */
	size_t len, cap;
	int keepalive;			/* done at Content-Length, not at EOF */
	int done;			/* 1, or -errno */
	int eof;
	/* parsed once done */
	int status;
	const char *body;
	size_t body_len;
};

static void client_watch(struct client *c, __u32 events)
{
	struct epoll_event ev = { .events = events, .data.ptr = &c->src };

	assert_int_equal(epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->src.fd, &ev), 0);
}

/* Parse what came so far; 1 if it is a whole response. */
static int client_parse(struct client *c)
{
	char *end, *cl;
	size_t hdr;

	end = strstr(c->buf, "\r\n\r\n");
	if (!end || sscanf(c->buf, "HTTP/1.%*c %d ", &c->status) != 1)
		return 0;
	hdr = end + 4 - c->buf;
	c->body = c->buf + hdr;
	c->body_len = c->len - hdr;
	if (!c->keepalive)
		return c->eof;
	cl = strcasestr(c->buf, "\r\nContent-Length:");
	return cl && cl < end && c->body_len >= strtoul(cl + 17, NULL, 10);
}

static void client_ev(struct xlb_evsrc *src, uint32_t events)
{
	struct client *c = src->ctx;
	ssize_t n;

	(void)events;
	if (c->done)
		return;
	if (c->sent < c->reqlen) {
		n = send(src->fd, c->req + c->sent, c->reqlen - c->sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN)
			c->done = -errno;
		if (n > 0)
			c->sent += n;
		if (c->sent == c->reqlen)
			client_watch(c, EPOLLIN);
		return;
	}
	for (;;) {
		if (c->cap - c->len < 4096) {
			c->cap = c->cap ? 2 * c->cap : 16384;
			c->buf = realloc(c->buf, c->cap);
			assert_non_null(c->buf);
		}
		n = recv(src->fd, c->buf + c->len, c->cap - c->len - 1, 0);
		if (n < 0) {
			if (errno != EAGAIN)
				c->done = -errno;
			return;
		}
		c->len += n;
		c->buf[c->len] = '\0';
		c->eof = !n;
		if (client_parse(c)) {
			c->done = 1;
			return;
		}
		if (!n) {
			/* closed without a whole response */
			c->done = -EPROTO;
			return;
		}
	}
}

static struct client *client_open(struct fixture *f, int family, __u16 port)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage ss = {};
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct client *c;
	int fd;

	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
	}
	if (connect(fd, (struct sockaddr *)&ss, sizeof(ss)) && errno != EINPROGRESS)
		c->done = -errno;
	c->src.fd = fd;
	c->src.fn = client_ev;
	c->src.ctx = c;
	c->epfd = f->epfd;
	ev.data.ptr = &c->src;
	assert_int_equal(epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev), 0);
	return c;
}

/* Send a request (raw text) on c, starting a new response. */
static void client_send(struct client *c, const char *req, int keepalive)
{
	c->reqlen = strlen(req);
	assert_true(c->reqlen < sizeof(c->req));
	memcpy(c->req, req, c->reqlen);
	c->sent = 0;
	c->len = 0;
	if (c->buf)
		c->buf[0] = '\0';
	c->keepalive = keepalive;
	c->done = 0;
	c->status = 0;
	client_watch(c, EPOLLOUT);
}

static void client_close(struct client *c)
{
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->src.fd, NULL);
	close(c->src.fd);
	free(c->buf);
	free(c);
}

/* The value of header name, copied into val; 0 if found. */
static int client_header(const struct client *c, const char *name, char *val, size_t len)
{
	size_t n = strlen(name);
	const char *p = strstr(c->buf, "\r\n"), *e;

	while (p && p + 2 < c->body) {
		p += 2;
		e = strstr(p, "\r\n");
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			snprintf(val, len, "%.*s", (int)(e - p), p);
			return 0;
		}
		p = e;
	}
	return -ENOENT;
}

/* One request on a new connection, closed by the server after it. */
static struct client *fetch(struct fixture *f, int family, __u16 port,
			    const char *method, const char *path, const char *body)
{
	struct client *c = client_open(f, family, port);
	char req[1024];

	snprintf(req, sizeof(req),
		 "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n%s%s%s",
		 method, path, body ? "Content-Type: application/x-www-form-urlencoded\r\n" : "",
		 body ? "Content-Length: 3\r\n\r\n" : "\r\n", body ? body : "");
	client_send(c, req, 0);
	run_until(f, &c->done, DEADLINE_MS);
	return c;
}

static void assert_scrape_ok(struct fixture *f, struct client *c, unsigned int n)
{
	char ctype[128], *want = expected_expo(n, f->big);

	assert_int_equal(c->done, 1);
	assert_int_equal(c->status, 200);
	assert_int_equal(client_header(c, "Content-Type", ctype, sizeof(ctype)), 0);
	assert_string_equal(ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_int_equal(c->body_len, strlen(want));
	assert_memory_equal(c->body, want, c->body_len);
	free(want);
}

/* ---- fixtures ------------------------------------------------------------ */

static int setup_epoll(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	*state = f;
	return f->epfd < 0 ? -1 : 0;
}

static int setup_server(void **state)
{
	struct fixture *f;
	char err[256];

	if (setup_epoll(state))
		return -1;
	f = *state;
	f->m = xlb_metrics_new(f->epfd, "127.0.0.1:19100", render, f, err, sizeof(err));
	if (!f->m) {
		fprintf(stderr, "# %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	xlb_metrics_free(f->m);
	close(f->epfd);
	free(f);
	return 0;
}

/* ---- server --------------------------------------------------------------- */

static void test_get(void **state)
{
	struct fixture *f = *state;
	struct client *c;
	size_t bytes;
	__u64 us;

	xlb_metrics_last_scrape(f->m, &us, &bytes);
	assert_int_equal(bytes, 0);
	c = fetch(f, AF_INET, PORT, "GET", "/metrics", NULL);
	assert_scrape_ok(f, c, 1);
	xlb_metrics_last_scrape(f->m, &us, &bytes);
	assert_int_equal(bytes, c->body_len);
	print_message("# scrape: %zu bytes in %llu us\n", bytes, (unsigned long long)us);
	client_close(c);

	/* exactly the address given: not on ::1 */
	c = fetch(f, AF_INET6, PORT, "GET", "/metrics", NULL);
	assert_int_equal(c->done, -ECONNREFUSED);
	client_close(c);
	assert_int_equal(f->renders, 1);
}

static void test_get_v6(void **state)
{
	struct fixture *f = *state;
	struct client *c;
	char err[256];

	f->m = xlb_metrics_new(f->epfd, "[::1]:19101", render, f, err, sizeof(err));
	assert_non_null(f->m);
	c = fetch(f, AF_INET6, PORT_V6, "GET", "/metrics", NULL);
	assert_scrape_ok(f, c, 1);
	client_close(c);
	/* IPv6 only, no v4-mapped 127.0.0.1 */
	c = fetch(f, AF_INET, PORT_V6, "GET", "/metrics", NULL);
	assert_int_equal(c->done, -ECONNREFUSED);
	client_close(c);
}

/* 0.0.0.0 and :: on one port at once: the IPv6 socket is IPv6-only. */
static void test_any(void **state)
{
	struct fixture *f = *state;
	struct xlb_metrics *m6;
	struct client *c;
	char err[256];

	f->m = xlb_metrics_new(f->epfd, "0.0.0.0:19102", render, f, err, sizeof(err));
	assert_non_null(f->m);
	m6 = xlb_metrics_new(f->epfd, "[::]:19102", render, f, err, sizeof(err));
	if (!m6)
		print_message("# %s\n", err);
	assert_non_null(m6);
	c = fetch(f, AF_INET, PORT_ANY, "GET", "/metrics", NULL);
	assert_scrape_ok(f, c, 1);
	client_close(c);
	c = fetch(f, AF_INET6, PORT_ANY, "GET", "/metrics", NULL);
	assert_scrape_ok(f, c, 2);
	client_close(c);
	xlb_metrics_free(m6);
}

static void test_not_found(void **state)
{
	static const char *const paths[] = { "/other", "/", "/metrics/", "/metricsx", "/Metrics" };
	struct fixture *f = *state;
	struct client *c;
	unsigned int i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		c = fetch(f, AF_INET, PORT, "GET", paths[i], NULL);
		assert_int_equal(c->done, 1);
		assert_int_equal(c->status, 404);
		client_close(c);
	}
	/* the query string is not part of the path */
	c = fetch(f, AF_INET, PORT, "GET", "/metrics?x=1", NULL);
	assert_scrape_ok(f, c, 1);
	client_close(c);
	assert_int_equal(f->renders, 1);
}

static void test_method(void **state)
{
	static const char *const methods[] = { "PUT", "DELETE", "OPTIONS" };
	struct fixture *f = *state;
	struct client *c;
	char val[64];
	unsigned int i;

	c = fetch(f, AF_INET, PORT, "POST", "/metrics", "x=1");
	assert_int_equal(c->done, 1);
	assert_int_equal(c->status, 405);
	assert_int_equal(client_header(c, "Allow", val, sizeof(val)), 0);
	assert_string_equal(val, "GET, HEAD");
	client_close(c);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		c = fetch(f, AF_INET, PORT, methods[i], "/metrics", NULL);
		assert_int_equal(c->done, 1);
		assert_int_equal(c->status, 405);
		client_close(c);
	}
	assert_int_equal(f->renders, 0);

	/* HEAD: the headers of a GET, no body */
	c = fetch(f, AF_INET, PORT, "HEAD", "/metrics", NULL);
	assert_int_equal(c->done, 1);
	assert_int_equal(c->status, 200);
	assert_int_equal(c->body_len, 0);
	assert_int_equal(client_header(c, "Content-Type", val, sizeof(val)), 0);
	assert_string_equal(val, XLB_METRICS_CONTENT_TYPE);
	client_close(c);
}

static void test_render_error(void **state)
{
	struct fixture *f = *state;
	struct client *c;
	size_t bytes;

	f->fail = -EIO;
	c = fetch(f, AF_INET, PORT, "GET", "/metrics", NULL);
	assert_int_equal(c->done, 1);
	assert_int_equal(c->status, 500);
	assert_non_null(strstr(c->body, strerror(EIO)));
	client_close(c);
	xlb_metrics_last_scrape(f->m, NULL, &bytes);
	assert_int_equal(bytes, 0);

	/* a writer error the render ignored is an error too */
	f->fail = 0;
	f->bad_sample = 1;
	c = fetch(f, AF_INET, PORT, "GET", "/metrics", NULL);
	assert_int_equal(c->done, 1);
	assert_int_equal(c->status, 500);
	assert_non_null(strstr(c->body, strerror(EINVAL)));
	client_close(c);

	f->bad_sample = 0;
	c = fetch(f, AF_INET, PORT, "GET", "/metrics", NULL);
	assert_scrape_ok(f, c, 3);
	client_close(c);
}

static void test_many(void **state)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n";
	struct fixture *f = *state;
	struct client *c;
	unsigned int i;
	__u64 t0 = mono_ms();

	for (i = 1; i <= 50; i++) {
		c = fetch(f, AF_INET, PORT, "GET", "/metrics", NULL);
		assert_scrape_ok(f, c, i);
		client_close(c);
	}
	print_message("# 50 scrapes, a connection each: %llu ms\n",
		      (unsigned long long)(mono_ms() - t0));

	/* as Prometheus does: one kept-alive connection */
	c = client_open(f, AF_INET, PORT);
	for (i = 51; i <= 100; i++) {
		client_send(c, req, 1);
		run_until(f, &c->done, DEADLINE_MS);
		if (c->done != 1)
			print_message("# %u %d: %s\n", i, c->done, c->buf);
		assert_scrape_ok(f, c, i);
	}
	client_close(c);
	assert_int_equal(f->renders, 100);
}

static void test_big(void **state)
{
	struct fixture *f = *state;
	struct client *c;
	size_t bytes;
	__u64 us;

	f->big = 20000;
	c = fetch(f, AF_INET, PORT, "GET", "/metrics", NULL);
	assert_scrape_ok(f, c, 1);
	xlb_metrics_last_scrape(f->m, &us, &bytes);
	print_message("# big scrape: %zu bytes, rendered in %llu us\n", bytes,
		      (unsigned long long)us);
	assert_true(bytes > 1000000);
	client_close(c);
}

/* Silent and half-sent requests do not hold up anyone else's scrape. */
static void test_idle_client(void **state)
{
	struct fixture *f = *state;
	struct client *idle, *half, *c;
	unsigned int i;

	idle = client_open(f, AF_INET, PORT);
	half = client_open(f, AF_INET, PORT);
	client_send(half, "GET /metr", 0);
	for (i = 0; i < 20; i++)
		loop_once(f->epfd, 5);
	for (i = 1; i <= 5; i++) {
		c = fetch(f, AF_INET, PORT, "GET", "/metrics", NULL);
		assert_scrape_ok(f, c, i);
		client_close(c);
	}
	assert_int_equal(idle->done, 0);
	assert_int_equal(half->done, 0);
	client_close(idle);
	client_close(half);
}

/*
 * XLB_METRICS_MAX_CONNS silent clients take every slot; the next scrape
 * waits in the backlog until MHD times them out, which only the timerfd
 * can make happen: nothing else moves meanwhile.
 */
static void test_conn_limit(void **state)
{
	struct fixture *f = *state;
	struct client *idle[XLB_METRICS_MAX_CONNS], *c;
	unsigned int i, closed = 0;
	__u64 t0;

	for (i = 0; i < XLB_METRICS_MAX_CONNS; i++)
		idle[i] = client_open(f, AF_INET, PORT);
	for (i = 0; i < 20; i++)
		loop_once(f->epfd, 5);
	t0 = mono_ms();
	c = client_open(f, AF_INET, PORT);
	client_send(c, "GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", 0);
	run_until(f, &c->done, T(XLB_METRICS_CONN_TIMEOUT_S * 1000 + 5000));
	print_message("# scrape past %d silent clients: %llu ms\n", XLB_METRICS_MAX_CONNS,
		      (unsigned long long)(mono_ms() - t0));
	assert_scrape_ok(f, c, 1);
	client_close(c);
	for (i = 0; i < XLB_METRICS_MAX_CONNS; i++) {
		loop_once(f->epfd, 0);
		closed += idle[i]->done != 0;
		client_close(idle[i]);
	}
	assert_int_equal(closed, XLB_METRICS_MAX_CONNS);
}

static void test_bad_addr(void **state)
{
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:", ":9100", "127.0.0.1:0", "127.0.0.1:65536",
		"127.0.0.1:091000", "127.0.0.1:+80", "127.0.0.1:80x", "127.1:9100",
		"localhost:9100", "::1:9100", "[::1]9100", "[::1]", "[127.0.0.1]:9100",
		"[::1]:", "", "1.2.3.4.5:80",
	};
	struct fixture *f = *state;
	struct xlb_metrics *m;
	char err[256];
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		err[0] = '\0';
		m = xlb_metrics_new(f->epfd, bad[i], render, f, err, sizeof(err));
		if (m)
			print_message("# accepted \"%s\"\n", bad[i]);
		assert_null(m);
		assert_int_equal(errno, EINVAL);
		assert_non_null(strstr(err, bad[i]));
		assert_null(strchr(err, '\n'));
	}
	m = xlb_metrics_new(f->epfd, NULL, render, f, err, sizeof(err));
	assert_null(m);
	assert_int_equal(errno, EINVAL);
	m = xlb_metrics_new(f->epfd, "[fe80::1%xlbnosuch0]:9100", render, f, err, sizeof(err));
	assert_null(m);
	assert_int_equal(errno, ENODEV);
	print_message("# %s\n", err);
	/* an address this host does not have */
	m = xlb_metrics_new(f->epfd, "198.18.0.2:9100", render, f, err, sizeof(err));
	assert_null(m);
	assert_int_equal(errno, EADDRNOTAVAIL);
	print_message("# %s\n", err);
	/* the interface exists here */
	m = xlb_metrics_new(f->epfd, "[::1%lo]:19103", render, f, err, sizeof(err));
	assert_non_null(m);
	xlb_metrics_free(m);
}

static void test_addr_in_use(void **state)
{
	struct fixture *f = *state;
	struct xlb_metrics *m;
	char err[256];

	m = xlb_metrics_new(f->epfd, "127.0.0.1:19100", render, f, err, sizeof(err));
	assert_null(m);
	assert_int_equal(errno, EADDRINUSE);
	assert_non_null(strstr(err, "127.0.0.1:19100"));
	print_message("# %s\n", err);
}

/*
 * A restart right after a scrape binds again: the server closed first, so
 * its side of the connection sits in TIME_WAIT, which only SO_REUSEADDR
 * lets a new listener past.
 */
static void test_restart(void **state)
{
	struct fixture *f = *state;
	struct client *c;
	char err[256];

	c = fetch(f, AF_INET, PORT, "GET", "/metrics", NULL);
	assert_scrape_ok(f, c, 1);
	client_close(c);
	xlb_metrics_free(f->m);
	f->m = xlb_metrics_new(f->epfd, "127.0.0.1:19100", render, f, err, sizeof(err));
	if (!f->m)
		print_message("# %s\n", err);
	assert_non_null(f->m);
	c = fetch(f, AF_INET, PORT, "GET", "/metrics", NULL);
	assert_scrape_ok(f, c, 2);
	client_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_get_v6, setup_epoll, teardown),
		cmocka_unit_test_setup_teardown(test_any, setup_epoll, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_method, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_render_error, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_big, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_idle_client, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_conn_limit, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_bad_addr, setup_epoll, teardown),
		cmocka_unit_test_setup_teardown(test_addr_in_use, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup_server, teardown),
	};
	time_scale_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
