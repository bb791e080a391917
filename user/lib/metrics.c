// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus metrics endpoint (see metrics.h for the contract).
 *
 * libmicrohttpd runs with MHD_USE_EPOLL and no internal thread: it keeps
 * its listening and client sockets in an epoll fd of its own, which we nest
 * in the daemon's epoll. Whenever that fd is readable, or our timerfd
 * fires, MHD_run() does all the ready work without blocking, and the
 * timerfd is re-armed from MHD_get_timeout(): MHD needs a run by then to
 * close idle connections, and asks for 0 ms when it stopped with ready
 * sockets still queued (its sockets are edge-triggered, so no new event
 * would come for them).
 *
 * Numbers are formatted with the C locale's decimal point, the only one
 * the daemon uses.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <microhttpd.h>

#include "evloop.h"
#include "metrics.h"
#include "syntax.h"

#define PROM_BUF_MIN	4096
#define PROM_NUM_MAX	32
#define MHD_MSG_MAX	160

/* ---- text writer ------------------------------------------------------ */

struct prom_family {
	size_t off, len;		/* its name, inside buf */
};

struct xlb_prom {
	char *buf;			/* NUL-terminated when not NULL */
	size_t len, cap;
	int err;			/* first error, sticky */
	/* every family so far, the last one current: a repeated family makes
	 * Prometheus reject the whole scrape */
	struct prom_family *fam;
	size_t nfam, fam_cap;
};

struct xlb_prom *xlb_prom_new(void)
{
	return calloc(1, sizeof(struct xlb_prom));
}

void xlb_prom_free(struct xlb_prom *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w->fam);
	free(w);
}

const char *xlb_prom_text(struct xlb_prom *w, size_t *len)
{
	if (len)
		*len = w->len;
	return w->buf ? w->buf : "";
}

int xlb_prom_error(const struct xlb_prom *w)
{
	return w->err;
}

/* Drop the partial line written since start and remember the error. */
static int prom_fail(struct xlb_prom *w, size_t start, int err)
{
	w->len = start;
	if (w->buf)
		w->buf[start] = '\0';
	if (!w->err)
		w->err = err;
	return err;
}

static int prom_reserve(struct xlb_prom *w, size_t n)
{
	size_t need, cap;
	char *p;

	if (n >= XLB_PROM_MAX_BYTES - w->len)
		return -E2BIG;
	need = w->len + n + 1;
	if (need <= w->cap)
		return 0;
	cap = w->cap ? w->cap : PROM_BUF_MIN;
	while (cap < need)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p)
		return -ENOMEM;
	w->buf = p;
	w->cap = cap;
	return 0;
}

static int prom_put(struct xlb_prom *w, const char *s, size_t n)
{
	int ret = prom_reserve(w, n);

	if (ret)
		return ret;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
	return 0;
}

static int prom_puts(struct xlb_prom *w, const char *s)
{
	return prom_put(w, s, strlen(s));
}

/* s with \ and newline escaped, and " too in label values (quote). */
static int prom_put_escaped(struct xlb_prom *w, const char *s, int quote)
{
	size_t n = strlen(s);
	char *p;
	int ret;

	ret = prom_reserve(w, 2 * n);
	if (ret)
		return ret;
	p = w->buf + w->len;
	for (; *s; s++) {
		if (*s == '\\' || (*s == '"' && quote)) {
			*p++ = '\\';
			*p++ = *s;
		} else if (*s == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else {
			*p++ = *s;
		}
	}
	*p = '\0';
	w->len = p - w->buf;
	return 0;
}

static int is_alpha_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Metric names may hold ':', label names may not. */
static int name_ok(const char *s, int colon)
{
	size_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; s[i]; i++)
		if (!is_alpha_(s[i]) && !(colon && s[i] == ':') &&
		    !(i && s[i] >= '0' && s[i] <= '9'))
			return 0;
	return 1;
}

/* Prometheus refuses a whole scrape over one invalid UTF-8 string. */
static int utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp, min, n, i;

	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1, cp = *p & 0x1f, min = 0x80;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2, cp = *p & 0x0f, min = 0x800;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3, cp = *p & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		/* a NUL fails the continuation test, so no overrun */
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates and beyond Unicode */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

static const struct prom_family *family_find(const struct xlb_prom *w,
					     const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < w->nfam; i++)
		if (w->fam[i].len == len && !memcmp(w->buf + w->fam[i].off, name, len))
			return &w->fam[i];
	return NULL;
}

int xlb_prom_family(struct xlb_prom *w, const char *name, const char *type,
		    const char *help)
{
	size_t start = w->len, len, off;
	struct prom_family *fam;
	int ret, total;

	if (w->err)
		return w->err;
	if (!name_ok(name, 1) || !type || !help || !*help)
		return prom_fail(w, start, -EINVAL);
	len = strlen(name);
	/* "_total" on counters and only on them, as promtool lints */
	total = len > 6 && !strcmp(name + len - 6, "_total");
	if (strcmp(type, total ? "counter" : "gauge"))
		return prom_fail(w, start, -EINVAL);
	if (!utf8_ok(help))
		return prom_fail(w, start, -EILSEQ);
	if (family_find(w, name, len))
		return prom_fail(w, start, -EINVAL);
	if (w->nfam == w->fam_cap) {
		size_t cap = w->fam_cap ? 2 * w->fam_cap : 16;

		fam = realloc(w->fam, cap * sizeof(*fam));
		if (!fam)
			return prom_fail(w, start, -ENOMEM);
		w->fam = fam;
		w->fam_cap = cap;
	}

	ret = prom_puts(w, "# HELP ");
	off = w->len;
	ret = ret ?: prom_put(w, name, len);
	ret = ret ?: prom_puts(w, " ");
	ret = ret ?: prom_put_escaped(w, help, 0);
	ret = ret ?: prom_puts(w, "\n# TYPE ");
	ret = ret ?: prom_put(w, name, len);
	ret = ret ?: prom_puts(w, " ");
	ret = ret ?: prom_puts(w, type);
	ret = ret ?: prom_puts(w, "\n");
	if (ret)
		return prom_fail(w, start, ret);
	w->fam[w->nfam].off = off;
	w->fam[w->nfam].len = len;
	w->nfam++;
	return 0;
}

static int labels_ok(const char *const *labels)
{
	size_t i, j;

	for (i = 0; labels && labels[i]; i += 2) {
		if (!name_ok(labels[i], 0) || !strncmp(labels[i], "__", 2) ||
		    !labels[i + 1])
			return -EINVAL;
		if (!utf8_ok(labels[i + 1]))
			return -EILSEQ;
		for (j = 0; j < i; j += 2)
			if (!strcmp(labels[i], labels[j]))
				return -EINVAL;
	}
	return 0;
}

static int prom_sample(struct xlb_prom *w, const char *name,
		       const char *const *labels, const char *value)
{
	size_t start = w->len, i;
	const struct prom_family *cur;
	int ret;

	if (w->err)
		return w->err;
	/* samples of a family must follow its TYPE line and carry its name */
	cur = w->nfam ? &w->fam[w->nfam - 1] : NULL;
	if (!name || !cur || strlen(name) != cur->len ||
	    memcmp(w->buf + cur->off, name, cur->len))
		return prom_fail(w, start, -EINVAL);
	ret = labels_ok(labels);
	if (ret)
		return prom_fail(w, start, ret);

	ret = prom_puts(w, name);
	for (i = 0; labels && labels[i]; i += 2) {
		ret = ret ?: prom_puts(w, i ? "," : "{");
		ret = ret ?: prom_puts(w, labels[i]);
		ret = ret ?: prom_puts(w, "=\"");
		ret = ret ?: prom_put_escaped(w, labels[i + 1], 1);
		ret = ret ?: prom_puts(w, "\"");
	}
	if (labels && labels[0])
		ret = ret ?: prom_puts(w, "}");
	ret = ret ?: prom_puts(w, " ");
	ret = ret ?: prom_puts(w, value);
	ret = ret ?: prom_puts(w, "\n");
	return ret ? prom_fail(w, start, ret) : 0;
}

/*
 * The shortest of %.15g, %.16g, %.17g that reads back as v: %g drops
 * trailing zeros, and any double whose shortest round-trip form has at
 * most 15 digits comes out of %.15g as that form (0.1, not
 * 0.10000000000000001).
 */
static void format_double(char *buf, size_t len, double v)
{
	int prec;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

int xlb_prom_sample(struct xlb_prom *w, const char *name,
		    const char *const *labels, double value)
{
	char num[PROM_NUM_MAX];

	format_double(num, sizeof(num), value);
	return prom_sample(w, name, labels, num);
}

int xlb_prom_sample_u64(struct xlb_prom *w, const char *name,
			const char *const *labels, __u64 value)
{
	char num[PROM_NUM_MAX];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
	return prom_sample(w, name, labels, num);
}

/* ---- HTTP server -------------------------------------------------------- */

struct xlb_metrics {
	struct MHD_Daemon *mhd;
	int epfd;
	struct xlb_evsrc io;		/* MHD's epoll fd, not ours to close */
	struct xlb_evsrc timer;		/* timerfd at MHD's next timeout */
	xlb_metrics_render_fn render;
	void *ctx;
	__u64 last_us;
	size_t last_bytes;
	char mhd_msg[MHD_MSG_MAX];	/* MHD's last complaint: why a start failed */
};

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct xlb_metrics *m = cls;
	size_t n;

	vsnprintf(m->mhd_msg, sizeof(m->mhd_msg), fmt, ap);
	n = strlen(m->mhd_msg);
	while (n && (m->mhd_msg[n - 1] == '\n' || m->mhd_msg[n - 1] == '.'))
		m->mhd_msg[--n] = '\0';
}

#define TEXT_TYPE	"text/plain; charset=utf-8"

/* resp with a Content-Type; NULL (MHD drops the connection) without memory. */
static struct MHD_Response *typed(struct MHD_Response *resp, const char *type)
{
	if (resp && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					    type) != MHD_YES) {
		MHD_destroy_response(resp);
		return NULL;
	}
	return resp;
}

static struct MHD_Response *text_response(const char *body)
{
	return typed(MHD_create_response_from_buffer(strlen(body), (void *)body,
						     MHD_RESPMEM_PERSISTENT), TEXT_TYPE);
}

static struct MHD_Response *scrape(struct xlb_metrics *m, unsigned int *status)
{
	struct MHD_Response *resp;
	struct xlb_prom *w;
	char body[128];
	__u64 t0;
	int ret;

	w = xlb_prom_new();
	if (!w) {
		ret = -ENOMEM;
		goto fail;
	}
	t0 = now_us();
	ret = m->render(m->ctx, w);
	if (ret > 0)
		ret = -ret;
	ret = ret ?: w->err;
	/* an empty exposition is valid and still needs a buffer to hand over */
	ret = ret ?: prom_reserve(w, 0);
	m->last_us = now_us() - t0;
	m->last_bytes = ret ? 0 : w->len;
	if (ret)
		goto fail;
	resp = MHD_create_response_from_buffer(w->len, w->buf, MHD_RESPMEM_MUST_FREE);
	if (resp)
		w->buf = NULL;		/* MHD frees it with the response */
	*status = MHD_HTTP_OK;
	resp = typed(resp, XLB_METRICS_CONTENT_TYPE);
	goto out;
fail:
	snprintf(body, sizeof(body), "metrics render failed: %s\n", strerror(-ret));
	*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	resp = typed(MHD_create_response_from_buffer(strlen(body), body,
						     MHD_RESPMEM_MUST_COPY), TEXT_TYPE);
out:
	xlb_prom_free(w);
	return resp;
}

/*
 * MHD calls this once the headers are in, then again for each piece of
 * body and once more at its end. An answer queued at the first call is
 * "early": MHD skips the body and closes the connection after it, which
 * suits refusals (a POST body is never read) but would cost a scraper its
 * kept-alive connection, so GET and HEAD are answered at the end.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static int headers_seen;
	struct xlb_metrics *m = cls;
	struct MHD_Response *resp;
	unsigned int status;
	enum MHD_Result ret;
	int get;

	(void)version;
	(void)upload_data;
	get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	if (get && !*req_cls) {
		*req_cls = &headers_seen;
		return MHD_YES;
	}
	if (get && *upload_data_size) {
		*upload_data_size = 0;		/* a GET body means nothing */
		return MHD_YES;
	}
	if (strcmp(url, "/metrics")) {
		status = MHD_HTTP_NOT_FOUND;
		resp = text_response("not found: try /metrics\n");
	} else if (!get) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		resp = text_response("method not allowed\n");
		if (resp && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
						    "GET, HEAD") != MHD_YES) {
			MHD_destroy_response(resp);
			resp = NULL;
		}
	} else {
		resp = scrape(m, &status);
	}
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void metrics_run(struct xlb_metrics *m)
{
	struct itimerspec its = {};
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(m->mhd);
	if (MHD_get_timeout(m->mhd, &ms) == MHD_YES) {
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000;
		/* "run now": a zero it_value would disarm the timer */
		if (!ms)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(m->timer.fd, 0, &its, NULL);
}

static void on_io(struct xlb_evsrc *src, uint32_t events)
{
	(void)events;
	metrics_run(src->ctx);
}

static void on_timer(struct xlb_evsrc *src, uint32_t events)
{
	__u64 expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN)
		return;
	metrics_run(src->ctx);
}

/* "A.B.C.D:PORT" or "[IPV6[%IFACE]]:PORT", numeric only (syntax.h). */
static int parse_addr(const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct xlb_endpoint ep;

	memset(ss, 0, sizeof(*ss));
	if (xlb_parse_endpoint(addr, XLB_EP_ZONE, &ep, NULL, 0))
		return -EINVAL;
	if (xlb_addr_is_v4(ep.addr)) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(ep.port);
		sin->sin_addr.s_addr = ep.addr[3];
		return 0;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(ep.port);
	memcpy(&sin6->sin6_addr, ep.addr, sizeof(sin6->sin6_addr));
	if (ep.zone[0]) {
		sin6->sin6_scope_id = if_nametoindex(ep.zone);
		if (!sin6->sin6_scope_id)
			return -ENODEV;
	}
	return 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

struct xlb_metrics *xlb_metrics_new(int epfd, const char *addr,
				    xlb_metrics_render_fn render, void *ctx,
				    char *err, size_t errlen)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct xlb_metrics *m;
	unsigned int flags;
	int ret, fd;

	set_err(err, errlen, "%s", "");
	if (!render) {
		set_err(err, errlen, "metrics: no render function");
		errno = EINVAL;
		return NULL;
	}
	ret = parse_addr(addr, &ss);
	if (ret == -ENODEV) {
		set_err(err, errlen, "metrics address %s: no such interface", addr);
		errno = ENODEV;
		return NULL;
	}
	if (ret) {
		set_err(err, errlen, "metrics address \"%s\": expected IPV4:PORT or [IPV6]:PORT",
			addr ? addr : "(null)");
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		set_err(err, errlen, "metrics: out of memory");
		return NULL;
	}
	m->epfd = epfd;
	m->render = render;
	m->ctx = ctx;
	m->io.fd = -1;
	m->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->timer.fd < 0) {
		ret = -errno;
		set_err(err, errlen, "metrics: timerfd: %s", strerror(-ret));
		goto fail;
	}

	/* MHD sets SO_REUSEADDR on the socket it creates, and IPV6_V6ONLY */
	flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned int)XLB_METRICS_MAX_CONNS,
				  MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned int)XLB_METRICS_CONN_TIMEOUT_S,
				  MHD_OPTION_END);
	if (!m->mhd) {
		/* MHD keeps the failed call's errno, else says why in its log */
		ret = errno ? -errno : -EIO;
		set_err(err, errlen, "cannot serve metrics on %s: %s", addr,
			errno || !m->mhd_msg[0] ? strerror(-ret) : m->mhd_msg);
		goto fail;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	fd = info ? info->epoll_fd : -1;
	if (fd < 0) {
		ret = -EIO;
		set_err(err, errlen, "metrics: MHD has no epoll fd");
		goto fail;
	}
	ret = xlb_ev_add(m->epfd, &m->io, fd, EPOLLIN, on_io, m);
	if (ret)
		goto fail_epoll;
	ret = xlb_ev_add(m->epfd, &m->timer, m->timer.fd, EPOLLIN, on_timer, m);
	if (ret)
		goto fail_epoll;
	metrics_run(m);
	return m;

fail_epoll:
	set_err(err, errlen, "metrics: epoll: %s", strerror(-ret));
fail:
	xlb_metrics_free(m);
	errno = -ret;
	return NULL;
}

void xlb_metrics_free(struct xlb_metrics *m)
{
	if (!m)
		return;
	/* a failed add leaves nothing to delete: the ENOENT is harmless */
	if (m->io.fd >= 0)
		xlb_ev_del(m->epfd, &m->io);
	if (m->timer.fd >= 0) {
		xlb_ev_del(m->epfd, &m->timer);
		close(m->timer.fd);
	}
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	free(m);
}

void xlb_metrics_last_scrape(struct xlb_metrics *m, __u64 *us, size_t *bytes)
{
	if (us)
		*us = m->last_us;
	if (bytes)
		*bytes = m->last_bytes;
}
