// SPDX-License-Identifier: GPL-2.0
/* The tcp probe: a nonblocking connect; connected = healthy (see health.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "health_int.h"
#include "syntax.h"

/* The backend's address, or the VIP's when checked through it. */
static socklen_t target_sockaddr(const struct hc_target *t,
				 struct sockaddr_storage *ss)
{
	const __be32 *a = hc_via(t) ? t->cfg.via : t->cfg.addr;

	memset(ss, 0, sizeof(*ss));
	if (xlb_addr_is_v4(a)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->cfg.port);
		memcpy(&sin->sin_addr, &a[3], 4);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(t->cfg.port);
		memcpy(&sin6->sin6_addr, a, 16);
		return sizeof(*sin6);
	}
}

void hc_tcp_abort(struct xlb_health *h, struct hc_target *t)
{
	if (!t->probe)
		return;
	/* never dup'ed, so close() also drops it from the epoll */
	close(t->probe->src.fd);
	hc_sock_put(h, t->probe);
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
	if (src->fd < 0 || !t || !hc_sock_ready(src->fd, POLLOUT))
		return;
	if (getsockopt(src->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	hc_tcp_abort(h, t);
	hc_check_done(h, t, !err, err ? hc_errno_reason(err) : "ok");
	hc_sched_arm(h);
}

void hc_tcp_start(struct xlb_health *h, struct hc_target *t)
{
	struct sockaddr_storage ss;
	socklen_t len = target_sockaddr(t, &ss);
	struct hsock *hs;
	int fd, err;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		hc_check_skip(h, t, "socket", strerror(errno));
		return;
	}
	if (hc_via(t) && hc_via_mark(h, t, fd)) {
		close(fd);
		return;
	}
	if (!connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		hc_check_done(h, t, 1, "ok");
		return;
	}
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		hc_check_done(h, t, 0, hc_errno_reason(err));
		return;
	}

	hs = hc_sock_get(h);
	if (!hs) {
		close(fd);
		hc_check_skip(h, t, "socket slot", strerror(ENOMEM));
		return;
	}
	hs->owner = t;
	hs->events = EPOLLOUT;
	err = -xlb_ev_add(h->epfd, &hs->src, fd, EPOLLOUT, tcp_ready, h);
	if (err) {
		close(fd);
		hc_sock_put(h, hs);
		hc_check_skip(h, t, "epoll", strerror(err));
		return;
	}
	t->probe = hs;
	t->phase = PHASE_TCP;
	hc_sched_at(h, t, t->started_ns + (__u64)t->cfg.timeout_ms * NSEC_PER_MSEC);
}

