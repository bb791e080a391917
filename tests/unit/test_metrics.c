// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the metrics endpoint (user/metrics.c): the Prometheus text
 * writer, then the HTTP server in the test's own epoll loop, as in xlbd,
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
#include <math.h>
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
#include <sys/wait.h>

#include "../../user/lib/evloop.h"
#include "../../user/lib/metrics.h"

/* valgrind is slow: XLB_TEST_TIME_SCALE=N stretches every wait */
static unsigned int time_scale = 1;
#define T(ms)		((ms) * time_scale)
#define DEADLINE_MS	T(5000)
#define PORT		19100
#define PORT_V6		19101
#define PORT_ANY	19102
#define PROMTOOL	"/usr/bin/promtool"

struct fixture {
	int epfd;
	struct xlb_metrics *m;
	int fail;		/* render returns this */
	int bad_sample;		/* render misuses the writer, returns 0 */
	unsigned int big;	/* extra samples */
	unsigned int renders;
};

/* ---- loop ------------------------------------------------------------- */

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static void loop_once(struct fixture *f, int timeout_ms)
{
	struct epoll_event evs[64];
	int i, n;

	n = epoll_wait(f->epfd, evs, 64, timeout_ms);
	for (i = 0; i < n; i++) {
		struct xlb_evsrc *src = evs[i].data.ptr;

		src->fn(src, evs[i].events);
	}
}

/* Drive the loop until *done is set or ms pass; return *done. */
static int run_until(struct fixture *f, const int *done, unsigned int ms)
{
	__u64 deadline = mono_ms() + ms;

	while (!*done && mono_ms() < deadline)
		loop_once(f, 20);
	return *done;
}

/* ---- exposition the test render writes ---------------------------------- */

static int write_expo(struct xlb_prom *w, unsigned int n, unsigned int big)
{
	char name[32];
	unsigned int i;
	int ret;

	ret = xlb_prom_family(w, "xlb_test_scrapes_total", "counter", "Scrapes so far.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_test_scrapes_total", NULL, n);
	ret = ret ?: xlb_prom_family(w, "xlb_test_backend_up", "gauge",
				     "1 if the backend passes its health checks.");
	for (i = 0; !ret && i < 2 + big; i++) {
		const char *const labels[] = { "vip", "198.18.0.10:80", "backend", name, NULL };

		snprintf(name, sizeof(name), "10.0.%u.%u:8080", i / 250, i % 250);
		ret = xlb_prom_sample(w, "xlb_test_backend_up", labels, i & 1);
	}
	return ret;
}

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

/* ---- writer ---------------------------------------------------------------- */

static void test_prom_text(void **state)
{
	static const char *const vip[] = { "vip", "198.18.0.10:80", "proto", "tcp", NULL };
	static const char *const none[] = { NULL };
	static const char want[] =
		"# HELP xlb_packets_total Packets seen by the data plane.\n"
		"# TYPE xlb_packets_total counter\n"
		"xlb_packets_total{vip=\"198.18.0.10:80\",proto=\"tcp\"} 42\n"
		"xlb_packets_total 7\n"
		"# HELP xlb_backends_up Healthy backends.\n"
		"# TYPE xlb_backends_up gauge\n"
		"xlb_backends_up 3\n"
		"xlb_backends_up{vip=\"198.18.0.10:80\",proto=\"tcp\"} 0.25\n";
	struct xlb_prom *w = xlb_prom_new();
	size_t len;

	(void)state;
	assert_non_null(w);
	assert_string_equal(xlb_prom_text(w, &len), "");
	assert_int_equal(len, 0);
	assert_int_equal(xlb_prom_family(w, "xlb_packets_total", "counter",
					 "Packets seen by the data plane."), 0);
	assert_int_equal(xlb_prom_sample_u64(w, "xlb_packets_total", vip, 42), 0);
	assert_int_equal(xlb_prom_sample_u64(w, "xlb_packets_total", NULL, 7), 0);
	assert_int_equal(xlb_prom_family(w, "xlb_backends_up", "gauge", "Healthy backends."), 0);
	assert_int_equal(xlb_prom_sample(w, "xlb_backends_up", none, 3), 0);
	assert_int_equal(xlb_prom_sample(w, "xlb_backends_up", vip, 0.25), 0);
	assert_string_equal(xlb_prom_text(w, &len), want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(xlb_prom_error(w), 0);
	xlb_prom_free(w);
}

static void test_prom_escape(void **state)
{
	static const char *const labels[] = {
		"path", "C:\\dir\\", "says", "\"hi\"", "lines", "one\ntwo",
		"utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NULL
	};
	static const char want[] =
		"# HELP xlb_odd A \\\\ \"quoted\" help\\nover two lines.\n"
		"# TYPE xlb_odd gauge\n"
		"xlb_odd{path=\"C:\\\\dir\\\\\",says=\"\\\"hi\\\"\",lines=\"one\\ntwo\","
		"utf8=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"} 1\n";
	struct xlb_prom *w = xlb_prom_new();

	(void)state;
	assert_int_equal(xlb_prom_family(w, "xlb_odd", "gauge",
					 "A \\ \"quoted\" help\nover two lines."), 0);
	assert_int_equal(xlb_prom_sample(w, "xlb_odd", labels, 1), 0);
	assert_string_equal(xlb_prom_text(w, NULL), want);
	xlb_prom_free(w);
}

/* The value text of one gauge sample written with v. */
static void check_value(double v, const char *want)
{
	struct xlb_prom *w = xlb_prom_new();
	const char *s;

	assert_int_equal(xlb_prom_family(w, "g", "gauge", "g"), 0);
	assert_int_equal(xlb_prom_sample(w, "g", NULL, v), 0);
	s = strrchr(xlb_prom_text(w, NULL), ' ');
	assert_non_null(s);
	assert_int_equal(strlen(s + 1), strlen(want) + 1);
	assert_memory_equal(s + 1, want, strlen(want));
	xlb_prom_free(w);
}

static void test_prom_numbers(void **state)
{
	static const struct {
		__u64 v;
		const char *s;
	} ints[] = {
		{ 0, "0" },
		{ 9007199254740993ull, "9007199254740993" },	/* 2^53 + 1 */
		{ 12345678901234567890ull, "12345678901234567890" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	struct xlb_prom *w = xlb_prom_new();
	char line[64], num[32];
	unsigned int i, bad = 0;
	__u64 x = 0x9e3779b97f4a7c15ull;
	double v;

	(void)state;
	assert_int_equal(xlb_prom_family(w, "c_total", "counter", "c"), 0);
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		assert_int_equal(xlb_prom_sample_u64(w, "c_total", NULL, ints[i].v), 0);
		snprintf(line, sizeof(line), "\nc_total %s\n", ints[i].s);
		assert_non_null(strstr(xlb_prom_text(w, NULL), line));
	}
	xlb_prom_free(w);

	check_value(0, "0");
	check_value(3, "3");
	check_value(-0.5, "-0.5");
	check_value(0.1, "0.1");
	check_value(1.0 / 3, "0.3333333333333333");
	check_value(2.0 / 3, "0.6666666666666666");
	check_value(123456789012.0, "123456789012");
	check_value(9007199254740992.0, "9007199254740992");
	check_value(1e300, "1e+300");
	check_value(5e-324, "4.94065645841247e-324");	/* subnormal: 15 digits do */
	check_value(NAN, "NaN");
	check_value(INFINITY, "+Inf");
	check_value(-INFINITY, "-Inf");

	/* any finite double reads back exactly */
	for (i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(&v, &x, sizeof(v));
		if (!isfinite(v))
			continue;
		w = xlb_prom_new();
		xlb_prom_family(w, "g", "gauge", "g");
		xlb_prom_sample(w, "g", NULL, v);
		snprintf(num, sizeof(num), "%s", strrchr(xlb_prom_text(w, NULL), ' ') + 1);
		bad += strtod(num, NULL) != v;
		xlb_prom_free(w);
	}
	assert_int_equal(bad, 0);
}

#define HDR	"# HELP g A gauge.\n# TYPE g gauge\n"

/* A fresh writer with family g: sample(labels) fails with err, writes nothing. */
static void check_sample_err(const char *name, const char *const *labels, int err)
{
	struct xlb_prom *w = xlb_prom_new();

	assert_int_equal(xlb_prom_family(w, "g", "gauge", "A gauge."), 0);
	assert_int_equal(xlb_prom_sample(w, name, labels, 1), err);
	assert_string_equal(xlb_prom_text(w, NULL), HDR);
	xlb_prom_free(w);
}

static void check_family_err(const char *name, const char *type, const char *help, int err)
{
	struct xlb_prom *w = xlb_prom_new();

	assert_int_equal(xlb_prom_family(w, name, type, help), err);
	assert_string_equal(xlb_prom_text(w, NULL), "");
	assert_int_equal(xlb_prom_error(w), err);
	xlb_prom_free(w);
}

static void test_prom_invalid(void **state)
{
	struct xlb_prom *w;

	(void)state;
	check_family_err("1abc", "gauge", "h", -EINVAL);
	check_family_err("a-b", "gauge", "h", -EINVAL);
	check_family_err("", "gauge", "h", -EINVAL);
	check_family_err(NULL, "gauge", "h", -EINVAL);
	check_family_err("g", "histogram", "h", -EINVAL);
	check_family_err("g", NULL, "h", -EINVAL);
	check_family_err("xlb_packets", "counter", "h", -EINVAL);
	check_family_err("_total", "counter", "h", -EINVAL);
	check_family_err("xlb_up_total", "gauge", "h", -EINVAL);
	check_family_err("g", "gauge", NULL, -EINVAL);
	check_family_err("g", "gauge", "", -EINVAL);
	check_family_err("g", "gauge", "bad \xff byte", -EILSEQ);

	check_sample_err("h", NULL, -EINVAL);
	check_sample_err(NULL, NULL, -EINVAL);
	check_sample_err("gg", NULL, -EINVAL);
	check_sample_err("g", (const char *const[]){ "1x", "v", NULL }, -EINVAL);
	check_sample_err("g", (const char *const[]){ "a:b", "v", NULL }, -EINVAL);
	check_sample_err("g", (const char *const[]){ "__name__", "v", NULL }, -EINVAL);
	check_sample_err("g", (const char *const[]){ "a", NULL }, -EINVAL);
	check_sample_err("g", (const char *const[]){ "a", "1", "b", "2", "a", "3", NULL },
			 -EINVAL);
	check_sample_err("g", (const char *const[]){ "a", "\xc3\x28", NULL }, -EILSEQ);
	check_sample_err("g", (const char *const[]){ "a", "\xc0\xaf", NULL }, -EILSEQ);
	check_sample_err("g", (const char *const[]){ "a", "\xed\xa0\x80", NULL }, -EILSEQ);
	check_sample_err("g", (const char *const[]){ "a", "\xf4\x90\x80\x80", NULL }, -EILSEQ);
	check_sample_err("g", (const char *const[]){ "a", "cut \xe2\x82", NULL }, -EILSEQ);

	/* a sample before any family */
	w = xlb_prom_new();
	assert_int_equal(xlb_prom_sample(w, "g", NULL, 1), -EINVAL);
	xlb_prom_free(w);

	/* a family twice, even after another; then the error sticks */
	w = xlb_prom_new();
	assert_int_equal(xlb_prom_family(w, "g", "gauge", "A gauge."), 0);
	assert_int_equal(xlb_prom_family(w, "h", "gauge", "Another."), 0);
	assert_int_equal(xlb_prom_family(w, "g", "gauge", "A gauge."), -EINVAL);
	assert_int_equal(xlb_prom_sample(w, "h", NULL, 1), -EINVAL);
	assert_int_equal(xlb_prom_error(w), -EINVAL);
	assert_string_equal(xlb_prom_text(w, NULL),
			    HDR "# HELP h Another.\n# TYPE h gauge\n");
	xlb_prom_free(w);
}

/*
 * promtool parses the text as Prometheus would and lints it: exit 0 and
 * not a word of output.
 */
static void test_prom_promtool(void **state)
{
	static const char *const states[] = { "up", "down", "draining" };
	char out[] = "/tmp/xlb-promtool-XXXXXX", cmd[128], res[1024];
	struct xlb_prom *w = xlb_prom_new();
	const char *text;
	unsigned int i;
	FILE *p, *o;
	size_t len;
	int fd, st;

	(void)state;
	if (access(PROMTOOL, X_OK)) {
		xlb_prom_free(w);
		skip();
	}
	assert_int_equal(write_expo(w, 12, 10), 0);
	xlb_prom_family(w, "xlb_vip_packets_total", "counter",
			"Packets to a VIP, by verdict.\nFrom the data plane's per-CPU counters.");
	for (i = 0; i < 3; i++) {
		const char *const l[] = { "vip", "[2001:db8::10]:443", "verdict",
					  states[i], "note", "a \"quoted\" \\ value\n", NULL };

		xlb_prom_sample_u64(w, "xlb_vip_packets_total", l, UINT64_MAX - i);
	}
	xlb_prom_family(w, "xlb_scrape_duration_seconds", "gauge", "Render time of a scrape.");
	xlb_prom_sample(w, "xlb_scrape_duration_seconds", NULL, 0.000123);
	xlb_prom_family(w, "xlb_odd_values", "gauge", "NaN and infinities.");
	xlb_prom_sample(w, "xlb_odd_values", (const char *const[]){ "v", "nan", NULL }, NAN);
	xlb_prom_sample(w, "xlb_odd_values", (const char *const[]){ "v", "inf", NULL }, INFINITY);
	xlb_prom_sample(w, "xlb_odd_values", (const char *const[]){ "v", "-inf", NULL }, -INFINITY);
	assert_int_equal(xlb_prom_error(w), 0);
	text = xlb_prom_text(w, &len);

	fd = mkstemp(out);
	assert_true(fd >= 0);
	snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics >%s 2>&1", out);
	p = popen(cmd, "w");
	assert_non_null(p);
	assert_int_equal(fwrite(text, 1, len, p), len);
	st = pclose(p);
	o = fdopen(fd, "r");
	assert_non_null(o);
	len = fread(res, 1, sizeof(res) - 1, o);
	res[len] = '\0';
	fclose(o);
	unlink(out);
	if (len)
		print_message("# promtool: %s\n", res);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(len, 0);
	xlb_prom_free(w);
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
		loop_once(f, 5);
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
		loop_once(f, 5);
	t0 = mono_ms();
	c = client_open(f, AF_INET, PORT);
	client_send(c, "GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", 0);
	run_until(f, &c->done, T(XLB_METRICS_CONN_TIMEOUT_S * 1000 + 5000));
	print_message("# scrape past %d silent clients: %llu ms\n", XLB_METRICS_MAX_CONNS,
		      (unsigned long long)(mono_ms() - t0));
	assert_scrape_ok(f, c, 1);
	client_close(c);
	for (i = 0; i < XLB_METRICS_MAX_CONNS; i++) {
		loop_once(f, 0);
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
		cmocka_unit_test(test_prom_text),
		cmocka_unit_test(test_prom_escape),
		cmocka_unit_test(test_prom_numbers),
		cmocka_unit_test(test_prom_invalid),
		cmocka_unit_test(test_prom_promtool),
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
	const char *scale = getenv("XLB_TEST_TIME_SCALE");
	const char *preload = getenv("LD_PRELOAD");

	if (scale && atoi(scale) > 0)
		time_scale = (unsigned int)atoi(scale);
	else if (preload && strstr(preload, "vgpreload"))
		time_scale = 4;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (time_scale > 1)
		printf("# timings x%u\n", time_scale);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
