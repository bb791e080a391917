// SPDX-License-Identifier: GPL-2.0
/*
 * http(s) checks over libcurl's multi interface (see health.h), whose
 * sockets and single timeout are mirrored into the engine's epoll.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "health_int.h"
#include "syntax.h"

/* curl enforces the check timeout; this only catches a transfer curl lost */
#define HTTP_GUARD		(1000 * NSEC_PER_MSEC)
/* the status line is all we need; a huge body must not hold the check */
#define HTTP_BODY_MAX		(64 * 1024)
#define HTTP_URL_MAX		384

void hc_http_abort(struct xlb_health *h, struct hc_target *t)
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
		return oserr ? hc_errno_reason((int)oserr) : "connect failed";
	case CURLE_SEND_ERROR:
		return oserr ? hc_errno_reason((int)oserr) : "send failed";
	case CURLE_RECV_ERROR:
		return oserr ? hc_errno_reason((int)oserr) : "receive failed";
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
	hc_http_abort(h, t);

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
	hc_check_done(h, t, ok, reason);
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
	rev = hc_sock_ready(src->fd, hs->events);
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
	hc_sched_arm(h);
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
	hc_sched_arm(h);
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
			hc_sock_put(h, hs);
		}
		return 0;
	}

	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (!hs) {
		hs = hc_sock_get(h);
		if (!hs)
			return -1;
		if (xlb_ev_add(h->epfd, &hs->src, s, events, curl_sock_ready, h)) {
			hc_sock_put(h, hs);
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

/* Through the VIP: the routing mark on curl's socket (health.via: vip). */
static int http_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	struct hc_target *t = clientp;

	if (purpose != CURLSOCKTYPE_IPCXN || !hc_via(t))
		return CURL_SOCKOPT_OK;
	return setsockopt(fd, SOL_SOCKET, SO_MARK, &t->cfg.mark, sizeof(t->cfg.mark)) ?
		       CURL_SOCKOPT_ERROR : CURL_SOCKOPT_OK;
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
	    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, http_sockopt) ||
	    curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, t) ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_body) ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, t)) {
		curl_easy_cleanup(e);
		return -EINVAL;
	}
	t->easy = e;
	return 0;
}

/* "198.18.0.11" or "[2001:db8::11]", as a URL names a host. */
static void url_host(const __be32 addr[4], char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (xlb_addr_is_v4(addr)) {
		inet_ntop(AF_INET, &addr[3], a, sizeof(a));
		snprintf(buf, len, "%s", a);
	} else {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		snprintf(buf, len, "[%s]", a);
	}
}

/* Numeric host, so curl resolves it without its resolver thread. */
static void http_url(const struct hc_target *t, char *buf, size_t len)
{
	const char *scheme = t->cfg.kind == XLB_CHECK_HTTPS ? "https" : "http";
	char a[INET6_ADDRSTRLEN + 2];

	url_host(t->cfg.addr, a, sizeof(a));
	snprintf(buf, len, "%s://%s:%u%s", scheme, a, t->cfg.port, t->cfg.path);
}

/*
 * Through the VIP: the URL (and so Host) names the backend as always, and
 * curl connects to the VIP instead; none otherwise. 0 or -ENOMEM.
 */
static int http_connect_to(struct hc_target *t)
{
	char a[INET6_ADDRSTRLEN + 2], v[INET6_ADDRSTRLEN + 2], spec[2 * sizeof(a) + 16];

	curl_slist_free_all(t->connect_to);
	t->connect_to = NULL;
	if (!hc_via(t))
		return 0;
	url_host(t->cfg.addr, a, sizeof(a));
	url_host(t->cfg.via, v, sizeof(v));
	snprintf(spec, sizeof(spec), "%s:%u:%s:%u", a, t->cfg.port, v, t->cfg.port);
	t->connect_to = curl_slist_append(NULL, spec);
	return t->connect_to ? 0 : -ENOMEM;
}

void hc_http_start(struct xlb_health *h, struct hc_target *t)
{
	char url[HTTP_URL_MAX];
	CURLMcode mc;

	if (hc_via(t) && hc_via_mark(h, t, -1))
		return;
	if (!t->easy && http_easy_new(t)) {
		hc_check_skip(h, t, "curl", "cannot create handle");
		return;
	}
	http_url(t, url, sizeof(url));
	if (http_connect_to(t) ||
	    curl_easy_setopt(t->easy, CURLOPT_CONNECT_TO, t->connect_to) ||
	    curl_easy_setopt(t->easy, CURLOPT_URL, url) ||
	    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)t->cfg.timeout_ms)) {
		hc_check_skip(h, t, "curl", "cannot set URL");
		return;
	}
	t->body_bytes = 0;
	t->body_capped = 0;
	mc = curl_multi_add_handle(h->multi, t->easy);
	if (mc != CURLM_OK) {
		hc_check_skip(h, t, "curl", curl_multi_strerror(mc));
		return;
	}
	t->phase = PHASE_HTTP;
	hc_sched_at(h, t, t->started_ns +
		 (__u64)t->cfg.timeout_ms * NSEC_PER_MSEC + HTTP_GUARD);
}

void hc_http_target_free(struct hc_target *t)
{
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->connect_to);
}

int hc_http_init(struct xlb_health *h)
{
	int err;

	err = hc_timer_init(h, &h->curl_timer, curl_timer_fired);
	if (err)
		return err;
	/* reference-counted by libcurl, so other users in the daemon are fine */
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -EIO;
	h->curl_inited = 1;
	h->multi = curl_multi_init();
	if (!h->multi)
		return -ENOMEM;
	if (curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb) ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h))
		return -EINVAL;
	return 0;
}

/* Before the socket slots go: cleanup may still call curl_sock_cb. */
void hc_http_free(struct xlb_health *h)
{
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->curl_inited)
		curl_global_cleanup();
	if (h->curl_timer.fd >= 0)
		close(h->curl_timer.fd);
}
