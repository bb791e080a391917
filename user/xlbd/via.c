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
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hash.h"
#include "plural.h"
#include "syntax.h"
#include "validate.h"
#include "via.h"
#include "xlbd.h"

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
	struct xlb_via *nl;             /* NULL: netlink failed at start; no slots */
	struct via_slot *slots;         /* XLB_VIA_MAX of them */
	__s16 *heads;                   /* XLB_VIA_MAX chains of slots by address */
	__u32 nused;
	struct via_route *have, *want;  /* sorted by (slot, vip) */
	__u32 nhave, nwant, cap;
	int dirty;
	time_t retry;                   /* a change failed: again at this second */
	int failing;                    /* the last sync failed: its errors are logged already */
	int rp_warned[XLB_MAX_IFACES];  /* ifindex warned about rp_filter */
};

static int route_cmp(const void *pa, const void *pb)
{
	const struct via_route *a = pa, *b = pb;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	return memcmp(a->vip, b->vip, sizeof(a->vip));
}

int via_start(struct xlbd *d)
{
	struct xlb_via_rt *r = calloc(1, sizeof(*r));
	unsigned int removed = 0;
	int ret;

	if (!r)
		return -ENOMEM;
	r->slots = calloc(XLB_VIA_MAX, sizeof(*r->slots));
	r->heads = malloc(XLB_VIA_MAX * sizeof(*r->heads));
	if (!r->slots || !r->heads) {
		free(r->slots);
		free(r->heads);
		free(r);
		return -ENOMEM;
	}
	memset(r->heads, 0xff, XLB_VIA_MAX * sizeof(*r->heads)); /* every chain empty: -1 */
	d->via = r;
	ret = xlb_via_open(&r->nl);
	ret = ret ?: xlb_via_flush(r->nl, &removed);
	if (ret) {
		logmsg(LOG_WARN, "check via the VIP: cannot set up policy routing: %s; such "
		       "checks are skipped", strerror(-ret));
		xlb_via_close(r->nl);
		r->nl = NULL;
		return 0;
	}
	if (removed)
		logmsg(LOG_INFO, "check via the VIP: removed %u stale rule%s and route%s of a "
		       "previous xlbd", removed, xlb_s(removed), xlb_s(removed));
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

__u32 via_mark(struct xlbd *d, const __be32 addr[4])
{
	struct xlb_via_rt *r = d->via;
	char a[XLB_ADDR_STR_MAX];
	int i, ret;

	if (!r || !r->nl)
		return 0;
	r->dirty = 1;
	i = slot_find(r, addr);
	if (i >= 0)
		return XLB_VIA_BASE + (__u32)i;
	for (i = 0; i < XLB_VIA_MAX && r->slots[i].used; i++)
		;
	xlb_format_addr(addr, a, sizeof(a));
	if (i == XLB_VIA_MAX) {
		/* the config and the commands keep below this: see via_room */
		logmsg(LOG_ERR, "check via the VIP of backend %s: all %d marks taken", a,
		       XLB_VIA_MAX);
		return 0;
	}
	/* now, not at the end of the turn: the first check may come before */
	ret = xlb_via_slot(r->nl, (__u32)i, xlb_addr_is_v4(addr), 1);
	if (ret) {
		logmsg(LOG_ERR, "check via the VIP of backend %s: cannot add its routing rule: %s",
		       a, strerror(-ret));
		return 0;
	}
	memcpy(r->slots[i].addr, addr, 16);
	r->slots[i].used = 1;
	r->slots[i].next = *chain_of(r, addr);
	*chain_of(r, addr) = (__s16)i;
	r->nused++;
	return XLB_VIA_BASE + (__u32)i;
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
	for (i = 0; i < XLB_VIA_MAX; i++)
		r->slots[i].wanted = 0;
	for (i = 0; i < d->state.nvips; i++) {
		const struct xlb_state_vip *v = &d->state.vips[i];

		if (v->cfg.health.via != XLB_CHECK_VIA_VIP || v->cfg.forward != XLB_FWD_L2DSR)
			continue;
		for (j = 0; j < v->nbackends; j++) {
			const struct xlb_state_backend *b = &v->backends[j];

			s = slot_find(r, b->cfg.addr);
			if (s < 0)
				continue;
			r->slots[s].wanted = 1;
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

	if (!r || !r->nl || (!r->dirty && (!r->retry || time(NULL) < r->retry)))
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

		if (!s->used || s->wanted)
			continue;
		ret = xlb_via_slot(r->nl, i, xlb_addr_is_v4(s->addr), 0);
		if (ret) {
			if (!r->failing)
				logmsg(LOG_ERR, "check via the VIP: cannot remove the rule of mark "
				       "0x%x: %s", XLB_VIA_BASE + i, strerror(-ret));
			failed = 1;
			continue;
		}
		slot_unlink(r, (int)i);
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
