// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus metrics endpoint (see metrics.h for the contract; the text
 * writer is metrics_text.c).
 *
 * libmicrohttpd runs with MHD_USE_EPOLL and no internal thread: it keeps
 * its listening and client sockets in an epoll fd of its own, which we nest
 * in the daemon's epoll. Whenever that fd is readable, or our timerfd
 * fires, MHD_run() does all the ready work without blocking, and the
 * timerfd is re-armed for the earlier of MHD_get_timeout() and the next
 * request deadline: MHD needs a run by then to close idle connections, and
 * asks for 0 ms when it stopped with ready sockets still queued (its
 * sockets are edge-triggered, so no new event would come for them).
 *
 * MHD's own timeout restarts at every byte, so a client trickling one a
 * second would hold its connection for ever. Each connection therefore
 * carries a deadline of ours (NOTIFY_CONNECTION, NOTIFY_COMPLETED); past
 * it we shut the socket down, MHD reads the end of the stream and closes
 * the connection the usual way, callbacks and all.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
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

#define MHD_MSG_MAX	160
#define METRICS_SNDBUF	(256 << 10)

/* A client connection, in xlb_metrics.conns; the deadline is for its next step. */
struct metrics_conn {
	struct metrics_conn *prev, *next;
	int fd;
	__u64 deadline_us;		/* 0: none (already shut down) */
};

struct xlb_metrics {
	struct MHD_Daemon *mhd;
	int epfd;
	struct xlb_evsrc io;		/* MHD's epoll fd, not ours to close */
	struct xlb_evsrc timer;		/* timerfd at MHD's next timeout or deadline */
	xlb_metrics_render_fn render;
	void *ctx;
	struct xlb_metrics_opts opts;	/* opts.allow points at our copy */
	struct metrics_conn conns;	/* list head */
	struct MHD_Response *cached;	/* the last 200, ours until it goes stale */
	__u64 cached_at_us;		/* when its render started */
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

static struct MHD_Response *render_scrape(struct xlb_metrics *m, unsigned int *status)
{
	struct MHD_Response *resp;
	struct xlb_prom *w;
	char body[128], *text = NULL;
	size_t len = 0;
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
	ret = ret ?: xlb_prom_error(w);
	if (!ret) {
		text = xlb_prom_take(w, &len);
		ret = text ? 0 : -ENOMEM;
	}
	m->last_us = now_us() - t0;
	m->last_bytes = ret ? 0 : len;
	if (ret)
		goto fail;
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(text);
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
 * The answer to a scrape. With opts.cache_ms, a 200 is kept and answers
 * every scrape until it is that old, so N scrapers cost one render per
 * period; *cached then says the response is the cache's, not the caller's
 * to destroy (MHD holds its own reference while it sends it).
 */
static struct MHD_Response *scrape(struct xlb_metrics *m, unsigned int *status, int *cached)
{
	struct MHD_Response *resp;
	__u64 t0 = now_us();

	*cached = 0;
	if (m->cached && t0 - m->cached_at_us < (__u64)m->opts.cache_ms * 1000) {
		*status = MHD_HTTP_OK;
		*cached = 1;
		return m->cached;
	}
	if (m->cached) {
		MHD_destroy_response(m->cached);
		m->cached = NULL;
	}
	resp = render_scrape(m, status);
	if (resp && *status == MHD_HTTP_OK && m->opts.cache_ms) {
		m->cached = resp;
		m->cached_at_us = t0;
		*cached = 1;
	}
	return resp;
}

static struct metrics_conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

static void conn_deadline(struct MHD_Connection *conn, unsigned int s)
{
	struct metrics_conn *c = conn_of(conn);

	if (c && c->deadline_us)
		c->deadline_us = now_us() + (__u64)s * 1000000;
}

/* Every connection starts with XLB_METRICS_REQUEST_DEADLINE_S to send a request. */
static void on_conn(void *cls, struct MHD_Connection *conn, void **socket_ctx,
		    enum MHD_ConnectionNotificationCode code)
{
	struct xlb_metrics *m = cls;
	const union MHD_ConnectionInfo *info;
	struct metrics_conn *c = *socket_ctx;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (c) {
			c->prev->next = c->next;
			c->next->prev = c->prev;
			free(c);
		}
		*socket_ctx = NULL;
		return;
	}
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	c = info ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		/* a connection without a deadline is what we are here to prevent */
		if (info)
			shutdown(info->connect_fd, SHUT_RDWR);
		return;
	}
	c->fd = info->connect_fd;
	/* each send() MHD makes, and so each of its runs, copies at most this */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &(int){ METRICS_SNDBUF }, sizeof(int));
	c->deadline_us = now_us() + XLB_METRICS_REQUEST_DEADLINE_S * 1000000ull;
	c->next = m->conns.next;
	c->prev = &m->conns;
	c->next->prev = c;
	m->conns.next = c;
	*socket_ctx = c;
}

/* A request answered: the next one on a kept-alive connection gets a fresh deadline. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)req_cls;
	(void)toe;
	conn_deadline(conn, XLB_METRICS_REQUEST_DEADLINE_S);
}

/* Only addresses inside opts.allow, when it has any. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	const struct xlb_metrics *m = cls;
	__be32 a[4] = { 0, 0, htonl(0xffff), 0 };
	size_t i;

	if (!m->opts.nallow)
		return MHD_YES;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		a[3] = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, sizeof(a));
	else
		return MHD_NO;
	for (i = 0; i < m->opts.nallow; i++)
		if (xlb_prefix_contains(&m->opts.allow[i], a))
			return MHD_YES;
	return MHD_NO;
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
	int get, cached = 0;

	(void)version;
	(void)upload_data;
	/* the headers are in: now the answer has its own time to go out */
	if (!*req_cls)
		conn_deadline(conn, XLB_METRICS_ANSWER_DEADLINE_S);
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
		resp = scrape(m, &status, &cached);
	}
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(conn, status, resp);
	if (!cached)
		MHD_destroy_response(resp);
	return ret;
}

/*
 * Shut down every connection past its deadline; return how long until the
 * next one is due, in µs, or UINT64_MAX. The shutdown wakes MHD's epoll,
 * whose next run reads the end of the stream and closes the connection.
 */
static __u64 cut_late(struct xlb_metrics *m)
{
	__u64 now = now_us(), next = UINT64_MAX;
	struct metrics_conn *c;

	for (c = m->conns.next; c != &m->conns; c = c->next) {
		if (!c->deadline_us)
			continue;
		if (c->deadline_us <= now) {
			shutdown(c->fd, SHUT_RDWR);
			c->deadline_us = 0;
		} else if (c->deadline_us - now < next) {
			next = c->deadline_us - now;
		}
	}
	return next;
}

static void metrics_run(struct xlb_metrics *m)
{
	struct itimerspec its = {};
	MHD_UNSIGNED_LONG_LONG ms;
	__u64 us;

	MHD_run(m->mhd);
	us = cut_late(m);
	if (MHD_get_timeout(m->mhd, &ms) == MHD_YES && ms * 1000 < us)
		us = ms * 1000;
	if (us != UINT64_MAX) {
		its.it_value.tv_sec = us / 1000000;
		its.it_value.tv_nsec = (us % 1000000) * 1000;
		/* "run now": a zero it_value would disarm the timer */
		if (!us)
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
	return xlb_metrics_new_opts(epfd, addr, NULL, render, ctx, err, errlen);
}

/* The copy of opts m keeps, allow and all; -ENOMEM. */
static int keep_opts(struct xlb_metrics *m, const struct xlb_metrics_opts *opts)
{
	struct xlb_prefix *allow;

	if (!opts)
		return 0;
	m->opts = *opts;
	m->opts.allow = NULL;
	if (!opts->nallow)
		return 0;
	allow = calloc(opts->nallow, sizeof(*allow));
	if (!allow)
		return -ENOMEM;
	memcpy(allow, opts->allow, opts->nallow * sizeof(*allow));
	m->opts.allow = allow;
	return 0;
}

/* libmicrohttpd on ss, polled from our loop: returns its epoll fd or -errno. */
static int mhd_start(struct xlb_metrics *m, const struct sockaddr_storage *ss,
		     const char *addr, char *err, size_t errlen)
{
	const union MHD_DaemonInfo *info;
	unsigned int flags;
	int ret, fd;

	/* MHD sets SO_REUSEADDR on the socket it creates, and IPV6_V6ONLY */
	flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	m->mhd = MHD_start_daemon(flags, 0, on_accept, m, on_request, m,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
				  MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
				  MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned int)XLB_METRICS_MAX_CONNS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, m->opts.per_ip_conns,
				  MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned int)XLB_METRICS_CONN_TIMEOUT_S,
				  MHD_OPTION_NOTIFY_CONNECTION, on_conn, m,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, m,
				  MHD_OPTION_END);
	if (!m->mhd) {
		/* MHD keeps the failed call's errno, else says why in its log */
		ret = errno ? -errno : -EIO;
		set_err(err, errlen, "cannot serve metrics on %s: %s", addr,
			errno || !m->mhd_msg[0] ? strerror(-ret) : m->mhd_msg);
		return ret;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	fd = info ? info->epoll_fd : -1;
	if (fd < 0) {
		ret = -EIO;
		set_err(err, errlen, "metrics: MHD has no epoll fd");
		return ret;
	}
	return fd;
}

struct xlb_metrics *xlb_metrics_new_opts(int epfd, const char *addr,
					 const struct xlb_metrics_opts *opts,
					 xlb_metrics_render_fn render, void *ctx,
					 char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct xlb_metrics *m;
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
	m->timer.fd = -1;
	m->conns.next = m->conns.prev = &m->conns;
	if (keep_opts(m, opts)) {
		ret = -ENOMEM;
		set_err(err, errlen, "metrics: out of memory");
		goto fail;
	}
	m->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->timer.fd < 0) {
		ret = -errno;
		set_err(err, errlen, "metrics: timerfd: %s", strerror(-ret));
		goto fail;
	}

	fd = mhd_start(m, &ss, addr, err, errlen);
	if (fd < 0) {
		ret = fd;
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
	/* closes every connection, and each one's NOTIFY_CLOSED frees its entry */
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	if (m->cached)
		MHD_destroy_response(m->cached);
	free((void *)m->opts.allow);
	free(m);
}

void xlb_metrics_last_scrape(struct xlb_metrics *m, __u64 *us, size_t *bytes)
{
	if (us)
		*us = m->last_us;
	if (bytes)
		*bytes = m->last_bytes;
}
