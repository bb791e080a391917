// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lb.h"
#include "digest.h"
#include "maglev.h"
#include "rotation.h"

/* the copy of a table keeps ids in 16 bits */
_Static_assert(XLB_MAX_BACKENDS <= 65536, "backend ids must fit the held copy");

void xlb_vip_table_free(struct xlb_vip_table *t)
{
	xlb_dp_table_unmap(t->mem);
	if (t->held)
		close(t->fd);
	free(t->held);
	memset(t, 0, sizeof(*t));
}

int xlb_vip_table_build(const struct xlb_lb_vip *vip, __u32 *table, __u64 *digest)
{
	struct maglev_backend *mb;
	__u32 *ids, n = 0, i;
	int err;

	mb = calloc(vip->nbackends + 1, sizeof(*mb));
	ids = calloc(vip->nbackends + 1, sizeof(*ids));
	if (!mb || !ids) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < vip->nbackends; i++) {
		if (!xlb_lb_in_table(&vip->backends[i].spec))
			continue;
		memcpy(mb[n].key, vip->backends[i].spec.addr, 16);
		/* rr and lc ignore weights, as in IPVS (0 still drains: not in the table) */
		mb[n].weight = vip->sched == XLB_SCHED_RR || vip->sched == XLB_SCHED_LC ?
				       1 : vip->backends[i].spec.weight;
		ids[n++] = vip->backends[i].id;
	}
	if (vip->sched == XLB_SCHED_RR || vip->sched == XLB_SCHED_WRR) {
		err = xlb_rotation_build(mb, n, XLB_MAGLEV_SIZE, table);
		err = err < 0 ? err : 0;
	} else {
		err = maglev_build(mb, n, XLB_MAGLEV_SIZE, table);
	}
	if (err)
		goto out;
	/* by address, before slots become ids: ids differ between hosts */
	*digest = xlb_table_digest(table, XLB_MAGLEV_SIZE, mb, n);
	for (i = 0; i < XLB_MAGLEV_SIZE; i++)
		table[i] = table[i] == MAGLEV_EMPTY ? XLB_NO_BACKEND : ids[table[i]];
out:
	free(mb);
	free(ids);
	return err ?: (int)n;
}

int xlb_vip_table_write(struct xlb_dp *dp, struct xlb_vip_table *t, const __u32 *table,
			__u32 *slots, __u32 *ids, __u32 max)
{
	__u32 n = 0, done, i;
	int err, fd;

	if (!t->held) {
		fd = xlb_dp_table_new(dp, &t->mem);
		if (fd < 0)
			return fd;
		t->held = calloc(XLB_MAGLEV_SIZE, sizeof(*t->held)); /* as the new map: all 0 */
		if (!t->held) {
			xlb_dp_table_unmap(t->mem);
			t->mem = NULL;
			close(fd);
			return -ENOMEM;
		}
		t->fd = fd;
	}
	if (t->mem) {
		/* the backends a slot now names were written before: keep that order */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		for (i = 0; i < XLB_MAGLEV_SIZE; i++) {
			if (t->held[i] == table[i])
				continue;
			__atomic_store_n(&t->mem[i * (XLB_TABLE_STRIDE / sizeof(__u32))], table[i],
					 __ATOMIC_RELAXED);
			t->held[i] = (__u16)table[i];
			n++;
		}
		return n < max ? (int)n : (int)max;
	}
	for (i = 0; i < XLB_MAGLEV_SIZE; i++) {
		if (t->held[i] == table[i])
			continue;
		slots[n] = i;
		ids[n++] = table[i];
	}
	done = n < max ? n : max;
	err = xlb_dp_table_write(t->fd, slots, ids, &done);
	/* what was written is held, also when the batch stopped part way */
	for (i = 0; i < done && i < n; i++)
		t->held[slots[i]] = ids[i];
	return err ?: (int)n;
}

/* ---- when tables are written: coalescing (lb.h) ---- */

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

void xlb_lb_vip_mark(struct xlb_lb *lb, struct xlb_lb_vip *vip, int urgent)
{
	if (!vip->dirty)
		vip->dirty_ms = now_ms();
	vip->dirty = 1;
	vip->urgent |= urgent;
	vip->change_seq = ++lb->changes;
}

/* Ids of deleted backends, after a grace period with no table naming them. */
void xlb_lb_vip_release_ids(struct xlb_lb *lb, struct xlb_lb_vip *vip)
{
	__u32 i;

	for (i = 0; i < vip->nunreleased; i++)
		lb->backend_used[vip->unreleased[i]] = 0;
	vip->nunreleased = 0;
}

/* The VIP's table as its backends are now, in lb->table: built again only after a change. */
static int table_build(struct xlb_lb *lb, struct xlb_lb_vip *v)
{
	int n;

	if (lb->table_vip == v && lb->table_seq == v->change_seq)
		return lb->table_count;
	lb->table_vip = NULL;
	n = xlb_vip_table_build(v, lb->table, &lb->table_digest_built);
	if (n >= 0) {
		lb->table_vip = v;
		lb->table_seq = v->change_seq;
		lb->table_count = n;
	}
	return n;
}

/*
 * One step of writing a VIP's table: up to max slots of its own map, in
 * place (lbtable.h). Without a mapped table, a VIP whose table becomes
 * empty is pointed at one shared empty map instead of writing zeros into
 * all of its own by syscall: its own map is then written out of sight, and
 * pointed at again when it has backends.
 * Returns 1 when the table is done (the VIP queued on al if maglev_tables
 * must point elsewhere, or a grace period must free deleted backends'
 * ids), 0 when there is more to write, or -errno.
 */
static int table_step(struct xlb_lb *lb, struct xlb_lb_vip *v, __u32 max,
		      struct xlb_table_attach *al)
{
	struct xlb_vip_table *t = &v->table;
	int n, want_empty, changed;

	n = table_build(lb, v);
	if (n < 0)
		return n;
	/*
	 * The first table is the VIP's own, empty or not: backends coming up
	 * need no attach. A mapped table is emptied in place too: swapping in
	 * the shared one costs a grace period (tens of ms) in the loop.
	 */
	want_empty = n == 0 && t->points != XLB_TABLE_NONE && !t->mem;
	if (!want_empty) {
		n = xlb_vip_table_write(lb->dp, t, lb->table, lb->slots, lb->ids, max);
		if (n < 0)
			return n;
		if ((__u32)n > max) {
			v->partial = 1;
			return 0;
		}
	}
	changed = t->points != (want_empty ? XLB_TABLE_EMPTY : XLB_TABLE_OWN) || n > 0 ||
		  v->partial;
	lb->rebuilds += changed;
	v->table_digest = lb->table_digest_built; /* written whole: what packets now meet */
	v->partial = 0;
	v->dirty = 0;
	v->urgent = 0;
	v->written_ms = now_ms();
	if (t->points != (want_empty ? XLB_TABLE_EMPTY : XLB_TABLE_OWN) || v->nunreleased) {
		al->to_empty[al->n] = want_empty;
		al->vips[al->n++] = v;
	}
	return 1;
}

/* Point maglev_tables where the queued VIPs' tables now are, in one call. */
static int attach_flush(struct xlb_lb *lb, struct xlb_table_attach *al)
{
	__u32 i;
	int err;

	if (!al->n)
		return 0;
	if (lb->empty_fd < 0) {
		err = xlb_dp_table_new(lb->dp, NULL);
		if (err < 0)
			goto failed;
		lb->empty_fd = err;
	}
	for (i = 0; i < al->n; i++) {
		lb->attach_ids[i] = al->vips[i]->id;
		lb->attach_fds[i] = al->to_empty[i] ? lb->empty_fd : al->vips[i]->table.fd;
	}
	/* returns after a grace period: nothing reads what they pointed at before */
	err = xlb_dp_table_attach(lb->dp, lb->attach_ids, lb->attach_fds, al->n);
	if (err)
		goto failed;
	for (i = 0; i < al->n; i++) {
		al->vips[i]->table.points = al->to_empty[i] ? XLB_TABLE_EMPTY : XLB_TABLE_OWN;
		xlb_lb_vip_release_ids(lb, al->vips[i]);
	}
	al->n = 0;
	return 0;
failed:
	for (i = 0; i < al->n; i++)
		xlb_lb_vip_mark(lb, al->vips[i], 0); /* again an interval on */
	al->n = 0;
	return err;
}

int xlb_lb_tables_write(struct xlb_lb *lb, struct xlb_lb_vip **vips, __u32 n)
{
	struct xlb_table_attach *al = &lb->attach;
	__u32 i;
	int err = 0, ret;

	for (i = 0; i < n; i++) {
		ret = table_step(lb, vips[i], XLB_MAGLEV_SIZE, al);
		if (ret < 0) {
			err = err ?: ret;
			vips[i]->dirty_ms = now_ms(); /* again after an interval, not in a loop */
		}
	}
	ret = attach_flush(lb, al);
	return err ?: ret;
}

int xlb_lb_flush_since(struct xlb_lb *lb, __u64 mark)
{
	struct xlb_lb_vip *list[XLB_MAX_VIPS];
	__u32 i, n = 0;

	if (lb->adopting)
		return 0; /* adopt_finish writes them */
	for (i = 0; i < XLB_MAX_VIPS; i++)
		if (lb->vips[i].in_use && lb->vips[i].dirty && lb->vips[i].change_seq > mark)
			list[n++] = &lb->vips[i];
	return xlb_lb_tables_write(lb, list, n);
}

int xlb_lb_flush(struct xlb_lb *lb)
{
	return xlb_lb_flush_since(lb, 0);
}

__u64 xlb_lb_changes(const struct xlb_lb *lb)
{
	return lb->changes;
}

void xlb_lb_set_coalesce(struct xlb_lb *lb, __u32 ms)
{
	lb->coalesce_ms = ms;
}

__u32 xlb_lb_tables_pending(const struct xlb_lb *lb)
{
	__u32 i, n = 0;

	for (i = 0; i < XLB_MAX_VIPS; i++)
		n += lb->vips[i].in_use && lb->vips[i].dirty;
	return n;
}

/* A loss at once unless written within the interval; a gain an interval after it came. */
static __u64 due_at(const struct xlb_lb *lb, const struct xlb_lb_vip *v)
{
	__u64 next = v->written_ms + lb->coalesce_ms;

	if (v->urgent)
		return v->dirty_ms > next ? v->dirty_ms : next;
	return v->dirty_ms + lb->coalesce_ms;
}

/* The dirty VIP due first, and when; NULL if none is dirty. */
static struct xlb_lb_vip *oldest_dirty(struct xlb_lb *lb, __u64 *due_ms)
{
	struct xlb_lb_vip *best = NULL;
	__u64 due, best_due = 0;
	__u32 i;

	for (i = 0; i < XLB_MAX_VIPS; i++) {
		struct xlb_lb_vip *v = &lb->vips[i];

		if (!v->in_use || !v->dirty)
			continue;
		due = due_at(lb, v);
		if (!best || due < best_due) {
			best = v;
			best_due = due;
		}
	}
	*due_ms = best_due;
	return best;
}

/*
 * Slots written per step: a step of a whole table takes about 3 ms here
 * (kernel 6.18, 2 CPUs); a table left part way is safe (lbtable.h).
 */
#define XLB_TABLE_STEP_SLOTS 16384

int xlb_lb_tables_due(struct xlb_lb *lb, __u32 budget_ms)
{
	__u64 now = now_ms(), start = now, due = 0;
	struct xlb_lb_vip *v;
	int ret = -1;

	if (lb->adopting || lb->batch)
		return -1;
	while ((v = oldest_dirty(lb, &due)) && due <= now) {
		if (table_step(lb, v, XLB_TABLE_STEP_SLOTS, &lb->attach) < 0)
			v->dirty_ms = now; /* tried again an interval on */
		now = now_ms();
		if (now >= start + budget_ms) {
			ret = 0; /* the events first, then on */
			break;
		}
	}
	attach_flush(lb, &lb->attach);
	if (ret && v && oldest_dirty(lb, &due))
		ret = due > now ? (int)(due - now) : 0;
	return ret;
}
