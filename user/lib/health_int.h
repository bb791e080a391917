/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the health-check engine: the engine and its scheduling
 * (health.c), the tcp probe (health_tcp.c) and http(s) over curl multi
 * (health_http.c). Every function runs from the caller's event loop.
 */
#ifndef XLB_HEALTH_INT_H
#define XLB_HEALTH_INT_H

#include <stddef.h>
#include <curl/curl.h>

#include "health.h"

#define NSEC_PER_USEC		1000ull
#define NSEC_PER_MSEC		1000000ull
#define NSEC_PER_SEC		1000000000ull

#define HSOCK_CHUNK		64

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct hc_target;

struct hsock {
	struct xlb_evsrc src;		/* src.fd < 0 while the slot is free */
	struct hsock *next_free;
	struct hc_target *owner;	/* tcp probe: its target; curl: NULL */
	__u32 events;			/* EPOLLIN / EPOLLOUT asked for */
};

struct hsock_chunk {
	struct hsock_chunk *next;
	struct hsock socks[HSOCK_CHUNK];
};

enum hc_phase {
	PHASE_IDLE,
	PHASE_TCP,
	PHASE_HTTP,
};

struct hc_target {
	__u64 id;
	struct hc_target *hnext;	/* hash chain */
	struct xlb_health_target cfg;
	struct xlb_health_result res;
	enum hc_phase phase;
	int heap_idx;			/* -1: no deadline */
	__u64 due_ns;
	__u64 started_ns;		/* current or last check, 0 = none yet */
	__u32 seq;			/* checks started; feeds the jitter */
	struct hsock *probe;		/* PHASE_TCP */
	CURL *easy;			/* kept across checks once created */
	struct curl_slist *connect_to;	/* via: CURLOPT_CONNECT_TO of the last check */
	size_t body_bytes;
	int body_capped;
};

struct xlb_health {
	int epfd;
	xlb_health_cb cb;
	void *ctx;

	struct hc_target **buckets;
	__u32 nbuckets, ntargets;

	struct hc_target **heap;
	__u32 nheap, heap_cap;
	struct xlb_evsrc sched;		/* timerfd at heap[0]->due_ns */
	__u64 sched_armed_ns;		/* 0: disarmed or fired */

	CURLM *multi;
	struct xlb_evsrc curl_timer;
	int curl_inited;

	struct hsock_chunk *chunks;
	struct hsock *free_socks;
};

/* health.c */
__u64 hc_now_ns(void);
/* Checked through the VIP (cfg.via set)? */
int hc_via(const struct hc_target *t);
/* Through the VIP: fd's mark (fd < 0: only that there is one); 0, or -1 and the check failed. */
int hc_via_mark(struct xlb_health *h, struct hc_target *t, int fd);
int hc_timer_init(struct xlb_health *h, struct xlb_evsrc *src, xlb_ev_fn fn);
/* A free socket slot, or NULL (out of memory); back with hc_sock_put. */
struct hsock *hc_sock_get(struct xlb_health *h);
void hc_sock_put(struct xlb_health *h, struct hsock *hs);
/* What the socket is ready for right now (0: a stale event). */
short hc_sock_ready(int fd, __u32 events);
/* Deadlines: set t's, and arm the timer once at the end of an entry point. */
void hc_sched_at(struct xlb_health *h, struct hc_target *t, __u64 due);
void hc_sched_arm(struct xlb_health *h);
const char *hc_errno_reason(int err);
/* The check's result; the callback, if any, runs last and may delete t. */
void hc_check_done(struct xlb_health *h, struct hc_target *t, int ok, const char *reason);
/* A local failure: no result, the next check at the usual time. */
void hc_check_skip(struct xlb_health *h, struct hc_target *t, const char *what,
		   const char *why);

/* health_tcp.c */
void hc_tcp_start(struct xlb_health *h, struct hc_target *t);
void hc_tcp_abort(struct xlb_health *h, struct hc_target *t);

/* health_http.c */
int hc_http_init(struct xlb_health *h);
void hc_http_free(struct xlb_health *h);
void hc_http_start(struct xlb_health *h, struct hc_target *t);
void hc_http_abort(struct xlb_health *h, struct hc_target *t);
void hc_http_target_free(struct hc_target *t);

#endif /* XLB_HEALTH_INT_H */
