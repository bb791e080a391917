/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Backend health checks, run inside the daemon's one epoll loop (evloop.h):
 * no threads, no blocking calls. The engine registers its own fds in the
 * epoll given to xlb_health_new(), each with data.ptr = a struct xlb_evsrc
 * it owns; the loop only has to call src->fn(src, events).
 *
 * Kinds (enum xlb_check_kind):
 *   none   always up, never connects.
 *   tcp    nonblocking connect to addr:port; connected = healthy.
 *   http   GET path; 2xx/3xx = healthy, anything else fails ("HTTP 500").
 *   https  the same over TLS with certificate and host name verification
 *          OFF: backends commonly use self-signed certificates, and a
 *          health check asks "does it answer", not "is it who it says".
 * HTTP uses libcurl's multi interface: numeric URLs (no resolver thread),
 * no proxy, a fresh connection per check, Host: ADDR:PORT as curl derives
 * it from the URL, no redirects followed.
 *
 * State machine per target: it starts up or down as the caller says; rise
 * consecutive successes while down make it up, fall consecutive failures
 * while up make it down. Every transition, and only a transition, calls
 * the callback, always from an event handler, never from the API calls.
 *
 * A check through the VIP (via set) says so in every result: "ok via VIP",
 * "timeout via VIP", "connect refused via VIP".
 *
 * Local errors (out of fds or memory) are not the backend's fault: such a
 * check is skipped and retried next interval, the state and counters stay
 * as they were, and last says why.
 *
 * Errors are negative errno values.
 */
#ifndef XLB_HEALTH_H
#define XLB_HEALTH_H

#include <linux/types.h>
#include "config.h"
#include "evloop.h"

#define XLB_HEALTH_LAST_MAX 64

struct xlb_health;

struct xlb_health_result {
	int up;
	__u32 ok_streak, fail_streak;     /* consecutive results, one is 0 */
	__u32 rise, fall;                 /* as configured, for "(3/3)" */
	__u64 checks, failures;           /* totals since add */
	__u32 latency_us;                 /* of the last check, ok or not */
	char last[XLB_HEALTH_LAST_MAX];   /* "ok", "connect refused", "HTTP 500", "timeout", ... */
};

/*
 * Called on every up/down transition with the target's id and the result
 * that caused it. It may call xlb_health_add/update/del/get (even del of
 * this id) but not xlb_health_free.
 */
typedef void (*xlb_health_cb)(void *ctx, __u64 id, int up,
			      const struct xlb_health_result *r);

struct xlb_health_target {
	__be32 addr[4];                   /* IPv4 as ::ffff:a.b.c.d */
	__u16 port;                       /* ignored for kind none */
	__u16 pad;
	__u32 kind;                       /* enum xlb_check_kind */
	char path[XLB_HTTP_PATH_MAX];     /* http(s); "" means "/" */
	__u32 interval_ms, timeout_ms, rise, fall;
	int initially_up;
	/*
	 * Through the VIP (health.via: vip): connect to via, not addr, with
	 * socket mark mark, which policy routing steers to addr (via.h); an
	 * http(s) request still names addr:port in Host. All zero: addr.
	 * mark 0 with via set: each check fails ("no routing mark via VIP").
	 */
	__be32 via[4];
	__u32 mark;
};

/* NULL (errno set) on failure. epfd stays the caller's. */
struct xlb_health *xlb_health_new(int epfd, xlb_health_cb cb, void *ctx);
/* Aborts every check, no callbacks. Not from inside the callback. */
void xlb_health_free(struct xlb_health *h);

/*
 * Start checking a target; the first check runs within min(interval / 10,
 * 1 s), later ones every interval +- 5 %, the jitter a fixed function of
 * (id, check number) so runs are repeatable. A down target of kind none
 * goes up (with a callback) at its first "check".
 * -EEXIST, -EINVAL (bad kind, port 0, zero timing, bad path), -ENOMEM.
 */
int xlb_health_add(struct xlb_health *h, __u64 id,
		   const struct xlb_health_target *t);
/*
 * Change a target's check. Only timing or rise/fall changed: everything is
 * kept, the new interval counts from the last check's start and the new
 * timeout from the next check. Address, port, kind or path changed: the
 * in-flight check is dropped, streaks and last restart, up/down is kept
 * (a transition only ever comes from a result) and a check runs soon.
 * initially_up is ignored. -ENOENT, -EINVAL.
 */
int xlb_health_update(struct xlb_health *h, __u64 id,
		      const struct xlb_health_target *t);
/* Stop checking: the in-flight check is aborted, no callback. -ENOENT. */
int xlb_health_del(struct xlb_health *h, __u64 id);
int xlb_health_get(struct xlb_health *h, __u64 id,
		   struct xlb_health_result *out);

#endif /* XLB_HEALTH_H */
