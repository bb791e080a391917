// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Health checks through the VIP (health.via: vip): a slot (socket mark and
 * routing table, via.h) per backend address that a VIP checks this way,
 * handed out when its check is set up (health_target), and in the slot's
 * table a route to each such VIP's address via the backend, on the
 * interface the neighbour code found it on.
 *
 * The rules and routes follow the state at the end of a loop turn in which
 * something changed (via_sync), as the announced routes do; unlike those
 * they go at exit (no check runs without xlbd) and a start first removes
 * whatever a crashed xlbd left.
 *
 * One xlbd per network namespace has them (xlb_via_lock, taken when a VIP
 * first checks through its VIP, given back when none does): another one
 * there never touches a rule, and refuses a VIP checked through its VIP. A check without a mark fails (health.c): a
 * backend is never left up unchecked; via_sync asks again for the marks.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "hash.h"
#include "health.h"
#include "plural.h"
#include "syntax.h"
#include "validate.h"
#include "via.h"
#include "xlbd.h"

/* chains by address mask the hash with XLB_VIA_MAX - 1 and link slots by __s16 */
_Static_assert(XLB_VIA_MAX && !(XLB_VIA_MAX & (XLB_VIA_MAX - 1)) && XLB_VIA_MAX <= 32768,
	       "XLB_VIA_MAX: a power of 2, at most 32768");

struct via_slot {
	__be32 addr[4];
	__u8 used, wanted;
	__s16 next;                     /* hash chain, -1 at its end */
};

struct via_route {
	__u32 slot;
	__be32 vip[4];
	__be32 gw[4];
	int ifindex;
};

struct xlb_via_rt {
	int lock_fd;                    /* the namespace's lock; -1: not held (another's: see why) */
	int setup_failed;               /* netlink or the first flush failed: said so once */
	time_t setup_retry;             /* via_setup again at this second */
	char why[256];                  /* without the lock: why, as refusals say it */
	struct xlb_via *nl;             /* NULL: no lock, or netlink failed at start; no slots */
	struct via_slot *slots;         /* XLB_VIA_MAX of them */
	__s16 *heads;                   /* XLB_VIA_MAX chains of slots by address */
	__u32 nused;
	struct via_route *have, *want;  /* sorted by (slot, vip) */
	__u32 nhave, nwant, cap;
	int dirty;
	time_t retry;                   /* a change failed: again at this second */
	int failing;                    /* the last sync failed: its errors are logged already */
	int rp_warned[XLB_MAX_IFACES];  /* ifindex warned about rp_filter */
	__u32 nomark;                   /* checks given no mark since the last sync */
	int nomark_err;                 /* why the last of them got none */
	int nomark_logged;              /* said so: the next line is when every check has one */
	int full;                       /* every slot wanted, found this turn: no new search */
	time_t mark_retry;              /* marks_retry again at this second */
};

static int route_cmp(const void *pa, const void *pb)
{
	const struct via_route *a = pa, *b = pb;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	return memcmp(a->vip, b->vip, sizeof(a->vip));
}

static int cfg_has_via(const struct xlb_config *cfg)
{
	__u32 i;

	for (i = 0; i < cfg->nvips; i++)
		if (cfg->vips[i].health.via == XLB_CHECK_VIA_VIP)
			return 1;
	return 0;
}

static int state_has_via(const struct xlbd *d)
{
	__u32 i;

	for (i = 0; i < d->state.nvips; i++)
		if (d->state.vips[i].cfg.health.via == XLB_CHECK_VIA_VIP)
			return 1;
	return 0;
}

/*
 * The namespace's lock, taken when a VIP first needs it (not at every start:
 * an xlbd without such VIPs must not keep another from them), and with it
 * the rules a crashed xlbd left removed. 0 (held; a netlink failure makes
 * such checks fail, as they must), or -EBUSY with the holder in r->why.
 */
/* Netlink and the stale rules removed, with the lock held: 0 or -errno (logged unless quiet). */
static int via_setup(struct xlb_via_rt *r, int quiet)
{
	unsigned int removed = 0;
	int ret;

	ret = xlb_via_open(&r->nl);
	ret = ret ?: xlb_via_flush(r->nl, &removed);
	if (ret == -EINTR) /* the dump changed as it was read: once more */
		ret = xlb_via_flush(r->nl, &removed);
	if (ret) {
		if (!quiet && !r->setup_failed)
			logmsg(LOG_WARN, "check via the VIP: cannot set up policy routing: %s; such "
			       "checks fail, tried again each second", strerror(-ret));
		r->setup_failed = 1;
		xlb_via_close(r->nl);
		r->nl = NULL;
		r->setup_retry = time(NULL) + 1;
		return ret;
	}
	if (r->setup_failed)
		logmsg(LOG_INFO, "check via the VIP: policy routing set up");
	r->setup_failed = 0;
	if (removed)
		logmsg(LOG_INFO, "check via the VIP: removed %u stale rule%s and route%s of a "
		       "previous xlbd", removed, xlb_s(removed), xlb_s(removed));
	return 0;
}

static int via_acquire_quiet(struct xlb_via_rt *r, int quiet)
{
	if (r->lock_fd >= 0)
		return 0;
	r->lock_fd = xlb_via_lock(r->why, sizeof(r->why));
	if (r->lock_fd < 0)
		return -EBUSY;
	via_setup(r, quiet); /* a failure makes such checks fail, and via_sync tries again */
	return 0;
}

static int via_acquire(struct xlb_via_rt *r)
{
	return via_acquire_quiet(r, 0);
}

/* Nothing checked through a VIP any more: the lock goes back, for another xlbd. */
static void via_release(struct xlb_via_rt *r)
{
	xlb_via_close(r->nl);
	r->nl = NULL;
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	r->lock_fd = -1;
}

/* Could the lock be had? Taken and given back at once: nothing removed, none kept. */
static int via_probe(struct xlb_via_rt *r)
{
	int fd;

	if (r->lock_fd >= 0)
		return 0;
	fd = xlb_via_lock(r->why, sizeof(r->why));
	if (fd < 0)
		return -EBUSY;
	close(fd);
	return 0;
}

int via_config_check(struct xlbd *d, const struct xlb_config *cfg, const char *name, int probe,
		     char *err, size_t errlen)
{
	struct xlb_via_rt *r = d->via;
	__u32 i;

	if (!cfg_has_via(cfg) || (r && !(probe ? via_probe(r) : via_acquire(r))))
		return 0;
	for (i = 0; i < cfg->nvips; i++) {
		const struct xlb_vip_cfg *v = &cfg->vips[i];

		if (v->health.via != XLB_CHECK_VIA_VIP)
			continue;
		if (v->line)
			snprintf(err, errlen, "%s:%d: vips[%u].health.via: %s", name, v->line, i,
				 r ? r->why : "not set up");
		else
			snprintf(err, errlen, "%s: vips[%u].health.via: %s", name, i,
				 r ? r->why : "not set up");
		break;
	}
	return -EBUSY;
}

int via_start(struct xlbd *d, const struct xlb_config *cfg, int from_state)
{
	struct xlb_via_rt *r = calloc(1, sizeof(*r));
	char err[XLB_ERR_MAX], name[PATH_MAX];
	int ret;

	if (r) {
		r->slots = calloc(XLB_VIA_MAX, sizeof(*r->slots));
		r->heads = malloc(XLB_VIA_MAX * sizeof(*r->heads));
	}
	if (!r || !r->slots || !r->heads) {
		logmsg(LOG_ERR, "cannot start: %s", strerror(ENOMEM));
		if (r) {
			free(r->slots);
			free(r->heads);
		}
		free(r);
		return -ENOMEM;
	}
	memset(r->heads, 0xff, XLB_VIA_MAX * sizeof(*r->heads)); /* every chain empty: -1 */
	r->lock_fd = -1;
	d->via = r;
	if (from_state)
		snprintf(name, sizeof(name), "%s/state.json", d->state_dir);
	else
		snprintf(name, sizeof(name), "%s", d->config_path);
	ret = via_config_check(d, cfg, name, 0, err, sizeof(err));
	if (ret) {
		logmsg(LOG_ERR, "%s", err);
		via_stop(d);
		return ret;
	}
	if (cfg_has_via(cfg))
		return 0;
	/* none wanted: what a crashed xlbd left is removed if the lock is free, and it goes back */
	if (!via_acquire_quiet(r, 1))
		via_release(r);
	return 0;
}

void via_stop(struct xlbd *d)
{
	struct xlb_via_rt *r = d->via;
	unsigned int removed = 0;

	if (!r)
		return;
	if (r->nl && r->nused + r->nhave && xlb_via_flush(r->nl, &removed))
		logmsg(LOG_WARN, "check via the VIP: cannot remove every rule and route");
	xlb_via_close(r->nl);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	free(r->have);
	free(r->want);
	free(r->slots);
	free(r->heads);
	free(r);
	d->via = NULL;
}

void via_dirty(struct xlbd *d)
{
	if (d->via)
		d->via->dirty = 1;
}

static __s16 *chain_of(const struct xlb_via_rt *r, const __be32 addr[4])
{
	__u64 lo, hi;

	memcpy(&lo, addr, 8);
	memcpy(&hi, addr + 2, 8);
	return &r->heads[xlb_mix64(lo ^ xlb_mix64(hi)) & (XLB_VIA_MAX - 1)];
}

static int slot_find(const struct xlb_via_rt *r, const __be32 addr[4])
{
	int i;

	for (i = *chain_of(r, addr); i >= 0; i = r->slots[i].next)
		if (!memcmp(r->slots[i].addr, addr, 16))
			return i;
	return -1;
}

static void slot_unlink(struct xlb_via_rt *r, int slot)
{
	__s16 *pp;

	for (pp = chain_of(r, r->slots[slot].addr); *pp >= 0; pp = &r->slots[*pp].next) {
		if (*pp == slot) {
			*pp = r->slots[slot].next;
			break;
		}
	}
	r->slots[slot].used = 0;
	r->nused--;
}

/* Which slots the state checks through: the VIPs' via and forward as compute_wants reads them. */
static void mark_wanted(struct xlbd *d, struct xlb_via_rt *r)
{
	__u32 i, j;
	int s;

	for (i = 0; i < XLB_VIA_MAX; i++)
		r->slots[i].wanted = 0;
	for (i = 0; i < d->state.nvips; i++) {
		const struct xlb_state_vip *v = &d->state.vips[i];

		if (v->cfg.health.via != XLB_CHECK_VIA_VIP || v->cfg.forward != XLB_FWD_L2DSR)
			continue;
		for (j = 0; j < v->nbackends; j++) {
			s = slot_find(r, v->backends[j].cfg.addr);
			if (s >= 0)
				r->slots[s].wanted = 1;
		}
	}
}

/* Slot's routes, rule and unreachable default out of the kernel, then the slot is free. */
static int slot_release(struct xlb_via_rt *r, __u32 slot)
{
	struct via_slot *s = &r->slots[slot];
	__u32 i, n = 0;
	int ret = 0, e;

	for (i = 0; i < r->nhave; i++) {
		if (r->have[i].slot == slot) {
			e = xlb_via_route(r->nl, slot, r->have[i].vip, r->have[i].gw, 0, 0);
			if (!e)
				continue;
			ret = ret ?: e;
		}
		r->have[n++] = r->have[i];
	}
	r->nhave = n;
	ret = ret ?: xlb_via_slot(r->nl, slot, xlb_addr_is_v4(s->addr), 0);
	if (ret) {
		if (!r->failing)
			logmsg(LOG_ERR, "check via the VIP: cannot remove the rule of mark 0x%x: %s",
			       XLB_VIA_BASE + slot, strerror(-ret));
		return ret;
	}
	slot_unlink(r, (int)slot);
	return 0;
}

/* Every slot taken: those no VIP checks through any more (a reload's gone backends) go now. */
static int slot_reclaim(struct xlbd *d, struct xlb_via_rt *r)
{
	__u32 i;
	int found = -1;

	mark_wanted(d, r);
	for (i = 0; i < XLB_VIA_MAX; i++)
		if (r->slots[i].used && !r->slots[i].wanted && !slot_release(r, i) && found < 0)
			found = (int)i;
	return found;
}

__u32 via_mark(struct xlbd *d, const __be32 addr[4])
{
	struct xlb_via_rt *r = d->via;
	int i, ret;

	if (!r)
		return 0;
	if (!r->nl) { /* no netlink yet: counted, so that via_sync asks again once there is */
		r->nomark++;
		r->nomark_err = EAGAIN;
		return 0;
	}
	r->dirty = 1;
	i = slot_find(r, addr);
	if (i >= 0)
		return XLB_VIA_BASE + (__u32)i;
	for (i = 0; i < XLB_VIA_MAX && r->slots[i].used; i++)
		;
	if (i == XLB_VIA_MAX && !r->full) {
		i = slot_reclaim(d, r);
		r->full = i < 0; /* until the next sync: each search walks the whole state */
	}
	if (i < 0 || i == XLB_VIA_MAX) {
		/* the config and the commands keep below the cap, but not within a turn */
		r->nomark++;
		r->nomark_err = ENOSPC;
		return 0;
	}
	/* now, not at the end of the turn: the first check may come before */
	ret = xlb_via_slot(r->nl, (__u32)i, xlb_addr_is_v4(addr), 1);
	if (ret) {
		r->nomark++;
		r->nomark_err = -ret;
		return 0;
	}
	memcpy(r->slots[i].addr, addr, 16);
	r->slots[i].used = 1;
	r->slots[i].next = *chain_of(r, addr);
	*chain_of(r, addr) = (__s16)i;
	r->nused++;
	return XLB_VIA_BASE + (__u32)i;
}

/*
 * Checks left without a mark (every slot taken within one turn, or the rule
 * refused) get one as slots free up: a new target, so a new first check.
 * One line while some have none, one when all have.
 */
static void marks_retry(struct xlbd *d, struct xlb_via_rt *r)
{
	struct xlb_health_target t;
	__u32 i, j;

	r->nomark = 0;
	r->full = 0;
	for (i = 0; i < d->state.nvips; i++) {
		struct xlb_state_vip *v = &d->state.vips[i];

		for (j = 0; j < v->nbackends; j++) {
			struct xlb_state_backend *b = &v->backends[j];

			if (!b->via || b->via_mark)
				continue;
			health_target(d, v, b, &t);
			if (t.mark)
				xlb_health_update(d->health, b->hid, &t);
		}
	}
}

static void marks_log(struct xlb_via_rt *r)
{
	char why[64];

	if (r->nomark && !r->nomark_logged) {
		if (r->nomark_err == ENOSPC)
			snprintf(why, sizeof(why), "all %d marks taken", XLB_VIA_MAX);
		else
			snprintf(why, sizeof(why), "cannot add the rule: %s", strerror(r->nomark_err));
		logmsg(LOG_ERR, "check via the VIP: %u check%s without a routing mark (%s) "
		       "fail%s until one is free, tried again each second", r->nomark,
		       xlb_s(r->nomark), why, r->nomark == 1 ? "s" : "");
	} else if (!r->nomark && r->nomark_logged) {
		logmsg(LOG_INFO, "check via the VIP: every check has its routing mark again");
	}
	r->nomark_logged = !!r->nomark;
}

static int want_add(struct xlb_via_rt *r, __u32 slot, const __be32 vip[4], const __be32 gw[4],
		    int ifindex)
{
	struct via_route *e;

	if (r->nwant == r->cap) {
		__u32 cap = r->cap ? r->cap * 2 : 64;
		void *w = realloc(r->want, cap * sizeof(*r->want));

		if (!w)
			return -ENOMEM;
		r->want = w;
		r->cap = cap;
	}
	e = &r->want[r->nwant++];
	e->slot = slot;
	memcpy(e->vip, vip, 16);
	memcpy(e->gw, gw, 16);
	e->ifindex = ifindex;
	return 0;
}

/* Every slot and route the state asks for now. */
static int compute_wants(struct xlbd *d, struct xlb_via_rt *r)
{
	__u32 i, j, k, n;
	int s;

	r->nwant = 0;
	mark_wanted(d, r);
	for (i = 0; i < d->state.nvips; i++) {
		const struct xlb_state_vip *v = &d->state.vips[i];

		if (v->cfg.health.via != XLB_CHECK_VIA_VIP || v->cfg.forward != XLB_FWD_L2DSR)
			continue;
		for (j = 0; j < v->nbackends; j++) {
			const struct xlb_state_backend *b = &v->backends[j];

			s = slot_find(r, b->cfg.addr);
			if (s < 0)
				continue;
			if (b->mac_known && b->ifindex &&
			    want_add(r, (__u32)s, v->cfg.key.addr, b->cfg.addr, b->ifindex))
				return -ENOMEM;
		}
	}
	qsort(r->want, r->nwant, sizeof(*r->want), route_cmp);
	/* VIPs of one address (several ports) share a route */
	for (k = 0, n = 0; k < r->nwant; k++)
		if (!n || route_cmp(&r->want[k], &r->want[n - 1]))
			r->want[n++] = r->want[k];
	r->nwant = n;
	return 0;
}

static void rp_filter_warn(struct xlb_via_rt *r, const struct via_route *e)
{
	char name[IF_NAMESIZE], path[96];
	int all = 0, dev = 0, i;
	FILE *f;

	if (!xlb_addr_is_v4(e->vip) || !if_indextoname(e->ifindex, name))
		return;
	for (i = 0; i < XLB_MAX_IFACES && r->rp_warned[i]; i++)
		if (r->rp_warned[i] == e->ifindex)
			return;
	if (i == XLB_MAX_IFACES)
		return;
	r->rp_warned[i] = e->ifindex;
	f = fopen("/proc/sys/net/ipv4/conf/all/rp_filter", "r");
	if (f && fscanf(f, "%d", &all) != 1)
		all = 0;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", name);
	f = fopen(path, "r");
	if (f && fscanf(f, "%d", &dev) != 1)
		dev = 0;
	if (f)
		fclose(f);
	/* the kernel takes the larger; strict mode finds no way back to a VIP here */
	if ((all > dev ? all : dev) == 1)
		logmsg(LOG_WARN, "check via the VIP: rp_filter is 1 (strict) on %s, which drops "
		       "the backends' answers from the VIP: set it to 0, or to 2 with a route "
		       "covering the VIPs", name);
}

/* Once per run of failing syncs: a retry each second must not flood the log. */
static void route_log(const struct xlb_via_rt *r, const struct via_route *e, const char *what,
		      int err)
{
	char vip[XLB_ADDR_STR_MAX], gw[XLB_ADDR_STR_MAX];

	if (r->failing)
		return;
	xlb_format_addr(e->vip, vip, sizeof(vip));
	xlb_format_addr(e->gw, gw, sizeof(gw));
	logmsg(LOG_ERR, "check via the VIP: cannot %s the route to %s via %s: %s", what, vip, gw,
	       strerror(-err));
}

/* After a loop turn that changed something: rules and routes as the state wants them. */
void via_sync(struct xlbd *d)
{
	struct xlb_via_rt *r = d->via;
	struct via_route *keep;
	__u32 i = 0, j = 0, n = 0;
	int failed = 0, c, ret;

	if (r && r->lock_fd >= 0 && !r->nused && !r->nhave && !state_has_via(d)) {
		via_release(r);
		return;
	}
	/* held, but netlink failed: again each second, then the marks the checks went without */
	if (r && r->lock_fd >= 0 && !r->nl && time(NULL) >= r->setup_retry && !via_setup(r, 0)) {
		r->dirty = 1;
		r->mark_retry = 0; /* the checks that went without: now */
	}
	if (!r || !r->nl)
		return;
	/* at once after a turn that left one without, then each second: before the routes */
	if (r->nomark && time(NULL) >= r->mark_retry) {
		marks_retry(d, r);
		marks_log(r);
		r->mark_retry = r->nomark ? time(NULL) + 1 : 0;
	}
	if (!r->dirty && (!r->retry || time(NULL) < r->retry))
		return;
	r->dirty = 0;
	r->retry = 0;
	if (compute_wants(d, r)) {
		r->retry = time(NULL) + 1;
		return;
	}
	/* merge: have and want both sorted; what is in the kernel after, in keep */
	keep = malloc((r->nhave + r->nwant + 1) * sizeof(*keep));
	if (!keep) {
		r->retry = time(NULL) + 1;
		return;
	}
	while (i < r->nhave || j < r->nwant) {
		c = i == r->nhave ? 1 : j == r->nwant ? -1 : route_cmp(&r->have[i], &r->want[j]);
		if (c < 0) {
			ret = xlb_via_route(r->nl, r->have[i].slot, r->have[i].vip, r->have[i].gw, 0, 0);
			if (ret) {
				route_log(r, &r->have[i], "remove", ret);
				keep[n++] = r->have[i];
				failed = 1;
			}
			i++;
			continue;
		}
		if (c == 0 && r->have[i].ifindex == r->want[j].ifindex &&
		    !memcmp(r->have[i].gw, r->want[j].gw, 16)) {
			keep[n++] = r->have[i];
			i++, j++;
			continue;
		}
		ret = xlb_via_route(r->nl, r->want[j].slot, r->want[j].vip, r->want[j].gw,
				    r->want[j].ifindex, 1);
		if (ret) {
			route_log(r, &r->want[j], "add", ret);
			failed = 1;
			if (c == 0)
				keep[n++] = r->have[i];
		} else {
			rp_filter_warn(r, &r->want[j]);
			keep[n++] = r->want[j];
		}
		if (c == 0)
			i++;
		j++;
	}
	free(r->have);
	r->have = keep;
	r->nhave = n;
	/* slots no VIP checks through any more: their rule and table go */
	for (i = 0; i < XLB_VIA_MAX; i++) {
		struct via_slot *s = &r->slots[i];

		if (s->used && !s->wanted && slot_release(r, i))
			failed = 1;
	}
	if (failed)
		r->retry = time(NULL) + 1;
	r->failing = failed;
}

/*
 * Room for the slots a change needs: v's backends (v NULL: none) and addr
 * (NULL: none) counted with those of every VIP checked through its VIP.
 */
int via_room(struct xlbd *d, const struct xlb_state_vip *v, const __be32 *addr, char *err,
	     size_t errlen)
{
	struct xlb_addr_owner *e;
	__u32 i, j, n = 0, distinct, at;

	if (d->via && via_acquire(d->via)) {
		snprintf(err, errlen, "%s", d->via->why);
		return -EBUSY;
	}
	for (i = 0; i < d->state.nvips; i++)
		n += d->state.vips[i].nbackends;
	if (n + 1 <= XLB_VIA_MAX)
		return 0;
	e = calloc(n + 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (i = 0, n = 0; i < d->state.nvips; i++) {
		const struct xlb_state_vip *w = &d->state.vips[i];

		if (w != v && w->cfg.health.via != XLB_CHECK_VIA_VIP)
			continue;
		for (j = 0; j < w->nbackends; j++)
			memcpy(e[n++].addr, w->backends[j].cfg.addr, 16);
	}
	if (addr)
		memcpy(e[n++].addr, addr, 16);
	at = xlb_addrs_over(e, n, XLB_VIA_MAX, &distinct);
	free(e);
	if (at == ~0u)
		return 0;
	snprintf(err, errlen, "more than %d backend addresses checked via a VIP (%u)", XLB_VIA_MAX,
		 distinct);
	return -ENOSPC;
}

void via_show(struct xlbd *d, struct json_object *o)
{
	struct json_object *v = json_object_new_object();

	json_object_object_add(v, "backends", json_object_new_int64(d->via ? d->via->nused : 0));
	json_object_object_add(v, "routes", json_object_new_int64(d->via ? d->via->nhave : 0));
	json_object_object_add(o, "check_via", v);
}
