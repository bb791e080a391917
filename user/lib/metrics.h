/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prometheus metrics endpoint: GET /metrics over plain HTTP, served by
 * libmicrohttpd inside the daemon's one epoll loop (evloop.h), no threads.
 * xlb_metrics_new() registers two sources in the caller's epoll: MHD's own
 * epoll fd (its listening and client sockets) and a timerfd armed from
 * MHD_get_timeout() after every run, which closes idle connections and
 * finishes work MHD left pending. The caller only dispatches
 * src->fn(src, events); there is nothing to call from its periodic timer.
 *
 * Each scrape (each period, with opts.cache_ms) calls render once,
 * synchronously from the loop, with a fresh text writer; the text it
 * leaves becomes the response body.
 *   GET|HEAD /metrics  200, Content-Type XLB_METRICS_CONTENT_TYPE
 *   render or writer error  500
 *   another path  404;  another method  405 (Allow: GET, HEAD)
 *
 * Slow or silent clients cannot pin the endpoint:
 *   - at most XLB_METRICS_MAX_CONNS connections at a time (more wait in
 *     the listen backlog), and opts.per_ip_conns from one address (more
 *     are closed at once);
 *   - a connection that has not sent a whole request (its headers) within
 *     XLB_METRICS_REQUEST_DEADLINE_S of opening, or of its previous
 *     answer, is closed, however many bytes it trickles meanwhile; an
 *     answer not taken within XLB_METRICS_ANSWER_DEADLINE_S is cut;
 *   - any connection idle for XLB_METRICS_CONN_TIMEOUT_S is closed;
 *   - with opts.allow, a client outside those prefixes is closed at accept.
 * With opts.cache_ms a rendered 200 answers every scrape for that long,
 * so N scrapers cost one render per period, not N.
 *
 * Errors are negative errno values.
 */
#ifndef XLB_METRICS_H
#define XLB_METRICS_H

#include <stddef.h>
#include <linux/types.h>
#include "syntax.h"

#define XLB_METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define XLB_METRICS_MAX_CONNS		64
#define XLB_METRICS_CONN_TIMEOUT_S	10
#define XLB_METRICS_REQUEST_DEADLINE_S	5
#define XLB_METRICS_ANSWER_DEADLINE_S	30
/* What xlbd uses: Prometheus needs one connection, HA pairs one each */
#define XLB_METRICS_PER_IP_CONNS	4
#define XLB_METRICS_CACHE_MS		1000
/* a runaway render fails with -E2BIG instead of eating the memory */
#define XLB_PROM_MAX_BYTES		(64u << 20)

struct xlb_metrics;

/*
 * Prometheus text exposition format 0.0.4 writer. Every call either writes
 * whole lines or nothing. The first error sticks: later calls return it
 * and write nothing, and a scrape whose writer failed answers 500, so a
 * render may ignore return values and still never serve a partial text.
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"; help and label values
 * must be UTF-8 (-EILSEQ).
 */
struct xlb_prom;

/*
 * Start a family: "# HELP name help\n# TYPE name type\n". type is "counter"
 * (name must end in _total) or "gauge" (must not); help must not be empty.
 * A family may appear only once per exposition, and its samples must
 * follow it before the next family. -EINVAL for a bad or repeated name, a
 * bad type or an empty help.
 */
int xlb_prom_family(struct xlb_prom *w, const char *name, const char *type,
		    const char *help);

/*
 * One sample of the current family, whose name it must carry (-EINVAL
 * otherwise): name{l1="v1",l2="v2"} value. labels is NULL or a
 * NULL-terminated array of alternating name, value. Values print with 15
 * to 17 significant digits, the fewest that read back exactly (0.1, not
 * 0.10000000000000001), or as NaN, +Inf, -Inf.
 */
int xlb_prom_sample(struct xlb_prom *w, const char *name,
		    const char *const *labels, double value);
/* The same with an exact integer (a double loses above 2^53). */
int xlb_prom_sample_u64(struct xlb_prom *w, const char *name,
			const char *const *labels, __u64 value);

/* The first error so far, or 0. */
int xlb_prom_error(const struct xlb_prom *w);
/* The text, now the caller's to free(), and its length; w is left empty. NULL without memory. */
char *xlb_prom_take(struct xlb_prom *w, size_t *len);

/* A writer on a plain buffer. NULL (errno set) on failure. */
struct xlb_prom *xlb_prom_new(void);
/* The text so far, NUL-terminated; len (if not NULL) set to its length. */
const char *xlb_prom_text(struct xlb_prom *w, size_t *len);
void xlb_prom_free(struct xlb_prom *w);

/*
 * Write the whole exposition for one scrape into w; 0, or -errno to answer
 * HTTP 500. Runs inside the event loop: it must not block, nor call
 * xlb_metrics_free().
 */
typedef int (*xlb_metrics_render_fn)(void *ctx, struct xlb_prom *w);

/*
 * Serve /metrics on addr, exactly as given: "198.18.0.2:9100",
 * "[2001:db8::2]:9100", "0.0.0.0:9100", "[fe80::1%eth0]:9100"; numeric
 * only, port 1-65535, IPv6 sockets are IPv6-only, SO_REUSEADDR set.
 * NULL with errno set and a one-line reason in err on failure (EINVAL for
 * a malformed addr). epfd stays the caller's.
 */
struct xlb_metrics *xlb_metrics_new(int epfd, const char *addr,
				    xlb_metrics_render_fn render, void *ctx,
				    char *err, size_t errlen);

/* Zero is off for each. */
struct xlb_metrics_opts {
	unsigned int per_ip_conns;	/* connections at a time from one address */
	unsigned int cache_ms;		/* how long a rendered 200 answers scrapes */
	const struct xlb_prefix *allow;	/* nallow prefixes clients must be in; copied */
	size_t nallow;
};

/* xlb_metrics_new with opts (NULL: all off, which is what xlb_metrics_new does). */
struct xlb_metrics *xlb_metrics_new_opts(int epfd, const char *addr,
					 const struct xlb_metrics_opts *opts,
					 xlb_metrics_render_fn render, void *ctx,
					 char *err, size_t errlen);
/* Closes every connection. Not from inside render. NULL is a no-op. */
void xlb_metrics_free(struct xlb_metrics *m);

/*
 * The last scrape that called render (a cached answer does not): its
 * render time in µs and body size in bytes (0 if it answered 500). Both 0
 * before the first scrape.
 */
void xlb_metrics_last_scrape(struct xlb_metrics *m, __u64 *us, size_t *bytes);

#endif /* XLB_METRICS_H */
