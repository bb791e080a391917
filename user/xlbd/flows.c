// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Live flows per backend. LRU evictions and idle expiries are silent in the
 * data plane, so xlbd counts the main tables (flows4, flows6) itself, in a
 * walk done in slices from the event loop, and adds what the data plane
 * counts per backend between walks (backend_flows: opened, closed):
 *
 *   live = entries counted by the last complete walk
 *          + opened - closed since that walk started
 *          - those conntrack flush deleted since (counted as closes)
 *
 * An entry counts when it is established (not closing), within its
 * protocol's idle timeout, and names its backend's id and generation; a
 * backend counts its flows while it keeps them (up or drain).
 *
 * The bound: a count is over by the flows evicted or expired since the
 * start of the last complete walk (nothing subtracts those until the next
 * walk), and off by at most the flows opened or closed during that walk
 * (a flow the walk counted and the deltas count too, or neither). Flows
 * the hand-off inserts are counted from the next walk. A walk starts at
 * most every FLOWS_PERIOD_MS and takes a slice every FLOWS_SLICE_MS of
 * about FLOWS_SLICE_US of work, a batch more at most: two batches of 4096
 * entries, 2.2 ms (4 to 7 ms the longest measured). So W, the time between
 * corrections, is FLOWS_PERIOD_MS for tables up to about 100K entries; 1M
 * entries are walked in 6.5 s (123 slices, tests/e2e/test_counts.sh),
 * both tables of the default size full (2M) in about 13 s.
 *
 * A drain is complete (backend show: "drained") when the count is 0 and
 * the last complete walk started with the backend already in drain: at
 * most a period plus a walk after its last flow ended.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/timerfd.h>
#include <bpf/bpf.h>
#include "xlbd.h"

#define FLOWS_PERIOD_MS 1000
#define FLOWS_SLICE_MS 50
#define FLOWS_SLICE_US 2000
#define FLOWS_BATCH 4096 /* entries per table read */
#define SNAP_CHUNK 1024  /* backend ids per counter read */

/* Per backend id: what a walk counted, and the data plane's counts at its start. */
struct flow_base {
	__u32 live;
	__u32 gen; /* the id's generation at the start */
	__u64 opened, closed;
	__u64 flushed; /* xlbd's flushed count at the start */
	__u8 draining; /* its backend was in drain at the start */
};

struct xlb_flows {
	struct xlb_evsrc src; /* timerfd */
	/* the walk in progress */
	struct flow_base *cur;
	int walking, snapping;
	__u32 snap_next, snap_end; /* ids [snap_next, snap_end) still to read */
	struct xlb_flow_walk cursor;
	__u32 tick, tcp_ticks, udp_ticks;
	__u64 started_ms, entries, slices, busy_us, max_slice_us;
	/* the last complete walk */
	struct flow_base *base;
	__u64 walks, walk_ms, walk_entries, walk_slices, walk_busy_us, walk_max_slice_us;
	__u64 start_ms; /* xlbd's start */
	int legacy_unpinned;
	/* live entries conntrack flush deleted, per id: counted as closes (flows_flushed) */
	__u64 *flushed;
	/* scratch for counter reads */
	__u32 *snap_keys;
	struct flow_counts *snap_vals;
};

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000ull + (__u64)ts.tv_nsec / 1000;
}

static void arm(struct xlb_flows *f, __u64 ms)
{
	struct itimerspec t = { .it_value = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 } };

	timerfd_settime(f->src.fd, 0, &t, NULL);
}

/*
 * Which ids belong to a draining backend as the walk starts: only a walk
 * begun after the drain says it is complete (a flow the hand-off inserted
 * before is not in the data plane's deltas, only in a later walk).
 */
static void mark_draining(struct xlbd *d, struct xlb_flows *f)
{
	struct xlb_lb_backend *lb;
	struct xlb_lb_vip *lv;
	const char *why;
	__u32 i, j;

	for (i = 0; i < d->state.nvips; i++) {
		struct xlb_state_vip *v = &d->state.vips[i];

		lv = NULL;
		for (j = 0; j < v->nbackends; j++) {
			if (effective_state(&v->backends[j], &why) != XLB_BE_DRAIN)
				continue;
			if (!lv)
				lv = xlb_lb_vip_find(d->lb, &v->cfg.key);
			lb = lv ? xlb_lb_backend_find(lv, v->backends[j].cfg.addr) : NULL;
			if (lb && lb->id < XLB_MAX_BACKENDS)
				f->cur[lb->id].draining = 1;
		}
	}
}

static void walk_start(struct xlbd *d, struct xlb_flows *f)
{
	__u32 i, hi = 0;

	memset(f->cur, 0, XLB_MAX_BACKENDS * sizeof(*f->cur));
	/* ids never handed out have generation 0 and counters 0: no need to read them */
	for (i = 1; i < XLB_MAX_BACKENDS; i++)
		if (d->lb->backend_gen[i]) {
			f->cur[i].gen = d->lb->backend_gen[i];
			f->cur[i].flushed = f->flushed[i];
			hi = i;
		}
	mark_draining(d, f);
	limits_walk_start(d);
	memset(&f->cursor, 0, sizeof(f->cursor));
	f->walking = f->snapping = 1;
	f->snap_next = 1;
	f->snap_end = hi + 1;
	f->started_ms = now_us() / 1000;
	f->entries = f->slices = f->busy_us = f->max_slice_us = 0;
	f->tcp_ticks = XLB_TIMEOUT_TICKS(d->file.tcp_idle_ms * 1000000ull);
	f->udp_ticks = XLB_TIMEOUT_TICKS(d->file.udp_idle_ms * 1000000ull);
}

/* The opened and closed counts of ids [snap_next, snap_next + SNAP_CHUNK), summed over CPUs. */
static int snap_chunk(struct xlbd *d, struct xlb_flows *f)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int ncpus = d->at.dp.ncpus, ret;
	__u32 in = f->snap_next - 1, out, n = SNAP_CHUNK, i, id;
	struct flow_counts *v;

	if (f->snap_next >= f->snap_end) {
		f->snapping = 0;
		return 0;
	}
	if (f->snap_end - f->snap_next < n)
		n = f->snap_end - f->snap_next;
	/* an array's batch cursor is the last key read: start after snap_next - 1 */
	ret = bpf_map_lookup_batch(d->at.dp.backend_flows_fd, &in, &out, f->snap_keys,
				   f->snap_vals, &n, &opts);
	if (ret && errno != ENOENT)
		return -errno;
	for (i = 0; i < n; i++) {
		int cpu;

		id = f->snap_keys[i];
		if (id >= XLB_MAX_BACKENDS)
			continue;
		v = f->snap_vals + (size_t)i * ncpus;
		for (cpu = 0; cpu < ncpus; cpu++) {
			f->cur[id].opened += v[cpu].opened;
			f->cur[id].closed += v[cpu].closed;
		}
	}
	f->snap_next = n ? f->snap_keys[n - 1] + 1 : f->snap_end;
	if (ret || f->snap_next >= f->snap_end)
		f->snapping = 0;
	return 0;
}

struct visit_ctx {
	struct xlbd *d;
	struct xlb_flows *f;
	__u64 seen;
};

static void visit(void *arg, const struct flow_key *key, const struct flow_state *st)
{
	struct visit_ctx *c = arg;
	struct xlb_flows *f = c->f;
	const struct xlb_lb *lb = c->d->lb;
	__u32 id = st->backend_id, timeout = key->proto == IPPROTO_TCP ? f->tcp_ticks : f->udp_ticks;

	c->seen++;
	/* as the data plane judges it (bpf/xlb.bpf.c, flow_alive) */
	if (st->state != XLB_FLOW_ESTABLISHED || !XLB_TICK_ALIVE(st->seen, f->tick, timeout) ||
	    id >= XLB_MAX_BACKENDS || !lb->backend_used[id] || st->backend_gen != lb->backend_gen[id])
		return;
	f->cur[id].live++;
	limits_walk_visit(key, st);
}

/* The walk's next slice: counters first, then the tables, for about FLOWS_SLICE_US. */
static void slice(struct xlbd *d, struct xlb_flows *f)
{
	struct visit_ctx c = { .d = d, .f = f };
	__u64 t0 = now_us(), spent = 0;
	struct flow_base *t;
	int ret = 0;

	f->tick = xlb_ticks_now();
	while (f->walking && spent < FLOWS_SLICE_US) {
		if (f->snapping) {
			ret = snap_chunk(d, f);
		} else {
			ret = xlb_dp_flow_walk(&d->at.dp, &f->cursor, FLOWS_BATCH, visit, &c);
			if (ret == 0)
				f->walking = 0;
		}
		if (ret < 0) {
			logmsg(LOG_WARN, "flow count: cannot read the connection tables: %s; "
			       "starting over", strerror(-ret));
			f->walking = 0;
			break;
		}
		spent = now_us() - t0;
	}
	f->entries += c.seen;
	f->slices++;
	f->busy_us += spent;
	if (spent > f->max_slice_us)
		f->max_slice_us = spent;
	if (f->walking || ret < 0)
		return;
	limits_walk_end(d);
	t = f->base;
	f->base = f->cur;
	f->cur = t;
	f->walks++;
	f->walk_ms = now_us() / 1000 - f->started_ms;
	f->walk_entries = f->entries;
	f->walk_slices = f->slices;
	f->walk_busy_us = f->busy_us;
	f->walk_max_slice_us = f->max_slice_us;
}

/*
 * An older build's connection table the program adopted at start: once
 * the longer idle timeout has passed, each of its entries has moved to the
 * main tables or expired. The pin goes, the running program keeps its
 * reference, and the next start loads a program without it.
 */
static void legacy_unpin(struct xlbd *d, struct xlb_flows *f)
{
	__u64 idle_ms = d->file.tcp_idle_ms > d->file.udp_idle_ms ? d->file.tcp_idle_ms :
								      d->file.udp_idle_ms;
	char path[512];

	if (!d->at.legacy_ct_entries || f->legacy_unpinned || now_us() / 1000 - f->start_ms < idle_ms)
		return;
	f->legacy_unpinned = 1;
	snprintf(path, sizeof(path), "%s/%s", d->pin_dir, XLB_LEGACY_CT_PIN);
	if (unlink(path) && errno != ENOENT)
		logmsg(LOG_WARN, "cannot unpin the older build's connection table %s: %s", path,
		       strerror(errno));
	else
		logmsg(LOG_INFO, "unpinned the older build's connection table %s: its flows have "
		       "moved or expired (%llu s idle); the next start runs without it", path,
		       (unsigned long long)(idle_ms / 1000));
}

static void on_timer(struct xlb_evsrc *src, uint32_t events)
{
	struct xlbd *d = src->ctx;
	struct xlb_flows *f = d->flows;
	__u64 expirations, since;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	legacy_unpin(d, f);
	since = now_us() / 1000 - f->started_ms;
	if (!f->walking && since >= FLOWS_PERIOD_MS)
		walk_start(d, f);
	if (f->walking)
		slice(d, f);
	since = now_us() / 1000 - f->started_ms;
	arm(f, f->walking || since >= FLOWS_PERIOD_MS ? FLOWS_SLICE_MS : FLOWS_PERIOD_MS - since);
}

int flows_start(struct xlbd *d)
{
	struct xlb_flows *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -ENOMEM;
	f->cur = calloc(XLB_MAX_BACKENDS, sizeof(*f->cur));
	f->base = calloc(XLB_MAX_BACKENDS, sizeof(*f->base));
	f->flushed = calloc(XLB_MAX_BACKENDS, sizeof(*f->flushed));
	f->snap_keys = calloc(SNAP_CHUNK, sizeof(*f->snap_keys));
	f->snap_vals = calloc((size_t)SNAP_CHUNK * d->at.dp.ncpus, sizeof(*f->snap_vals));
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!f->cur || !f->base || !f->flushed || !f->snap_keys || !f->snap_vals || fd < 0 ||
	    xlb_ev_add(d->epfd, &f->src, fd, EPOLLIN, on_timer, d)) {
		logmsg(LOG_ERR, "flow count: cannot start: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		d->flows = f;
		f->src.fd = -1;
		flows_stop(d);
		return -ENOMEM;
	}
	d->flows = f;
	f->start_ms = now_us() / 1000;
	f->started_ms = f->start_ms - FLOWS_PERIOD_MS; /* the first walk at the first tick */
	arm(f, 1);
	return 0;
}

void flows_stop(struct xlbd *d)
{
	struct xlb_flows *f = d->flows;

	if (!f)
		return;
	if (f->src.fd >= 0)
		close(f->src.fd);
	free(f->cur);
	free(f->base);
	free(f->flushed);
	free(f->snap_keys);
	free(f->snap_vals);
	free(f);
	d->flows = NULL;
}

long long flows_active(struct xlbd *d, const struct xlb_lb_backend *b)
{
	struct xlb_flows *f = d->flows;
	const struct flow_base *base;
	struct flow_counts now;
	long long n;

	if (!f || !f->walks || !b || xlb_dp_backend_flows(&d->at.dp, b->id, &now))
		return -1;
	if (!(b->written.flags & XLB_BACKEND_F_KEEP_FLOWS))
		return 0; /* its flows move at their next packet */
	base = &f->base[b->id];
	n = (long long)(now.opened - base->opened) - (long long)(now.closed - base->closed) -
	    (long long)(f->flushed[b->id] - base->flushed);
	/* an id handed to another backend since: its entries are not this one's */
	if (base->gen == d->lb->backend_gen[b->id])
		n += base->live;
	return n > 0 ? n : 0;
}

int flows_drained(struct xlbd *d, const struct xlb_lb_backend *b)
{
	struct xlb_flows *f = d->flows;

	return f && b && f->base[b->id].draining && f->base[b->id].gen == d->lb->backend_gen[b->id] &&
	       flows_active(d, b) == 0;
}

/*
 * conntrack flush deleted n live entries of id (established, alive, of its
 * generation): they count as closes from now on. A walk under way may
 * have counted them already, or not: it starts over, so the next complete
 * walk is exact about them.
 */
void flows_flushed(struct xlbd *d, __u32 id, __u32 n)
{
	struct xlb_flows *f = d->flows;

	if (f && id < XLB_MAX_BACKENDS)
		f->flushed[id] += n;
}

void flows_walk_again(struct xlbd *d)
{
	struct xlb_flows *f = d->flows;

	if (!f || !f->walking)
		return;
	f->walking = 0;
	f->started_ms = now_us() / 1000 - FLOWS_PERIOD_MS;
	arm(f, FLOWS_SLICE_MS);
}

__u64 flows_walks(struct xlbd *d)
{
	return d->flows ? d->flows->walks : 0;
}

long long flows_vip_active(struct xlbd *d, const struct xlb_lb_vip *lv)
{
	long long sum = 0, n;
	__u32 i;

	if (!lv)
		return -1;
	for (i = 0; i < lv->nbackends; i++) {
		n = flows_active(d, &lv->backends[i]);
		if (n < 0)
			return -1;
		sum += n;
	}
	return sum;
}

void add_active(struct json_object *o, long long n)
{
	if (n >= 0)
		add_u64(o, "active_flows", (__u64)n);
}

void flows_show(struct xlbd *d, struct json_object *o)
{
	struct xlb_flows *f = d->flows;
	struct json_object *j;

	if (!f)
		return;
	j = json_object_new_object();
	add_u64(j, "walks", f->walks);
	add_u64(j, "last_ms", f->walk_ms);
	add_u64(j, "last_entries", f->walk_entries);
	add_u64(j, "last_slices", f->walk_slices);
	add_u64(j, "last_busy_us", f->walk_busy_us);
	add_u64(j, "last_max_slice_us", f->walk_max_slice_us);
	json_object_object_add(o, "flow_walk", j);
}
