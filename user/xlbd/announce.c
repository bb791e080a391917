// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Announcing VIPs by health: one host route per VIP address in a routing
 * table of xlbd's own (route.c), for a routing daemon to export. An
 * address is announced while one of its VIPs has at least min_up backends
 * up and the host is not withdrawn (xlbctl lb withdraw).
 *
 * The routes outlive xlbd, as the data plane does: an exit or a crash
 * withdraws nothing, and a start reconciles the table (adds what is
 * missing, removes its own routes nothing wants), so a restart does not
 * flap. Only xlbd --teardown withdraws everything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "route.h"
#include "plural.h"
#include "syntax.h"
#include "xlbd.h"

struct ann_addr {
	__be32 addr[4];
	__u8 plen;
	__u8 want, have; /* wanted by a VIP now; in the kernel table */
	int err;         /* of the last failed change, logged once */
	int cause;       /* the VIP that decided want, -1 if none */
};

struct xlb_announce {
	struct xlb_route *rt;
	struct xlb_announce_cfg cfg;
	struct ann_addr *addrs;
	__u32 n, cap;
	__u64 changes;
};

static __u8 host_len(const __be32 addr[4])
{
	return xlb_addr_is_v4(addr) ? 32 : 128;
}

static struct ann_addr *addr_get(struct xlb_announce *a, const __be32 addr[4], __u8 plen)
{
	struct ann_addr *e;
	__u32 i;

	for (i = 0; i < a->n; i++)
		if (a->addrs[i].plen == plen && !memcmp(a->addrs[i].addr, addr, 16))
			return &a->addrs[i];
	if (a->n == a->cap) {
		__u32 cap = a->cap ? a->cap * 2 : 16;
		void *p = realloc(a->addrs, cap * sizeof(*a->addrs));

		if (!p)
			return NULL;
		a->addrs = p;
		a->cap = cap;
	}
	e = &a->addrs[a->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, addr, 16);
	e->plen = plen;
	e->cause = -1;
	return e;
}

static __u32 backends_up(const struct xlb_state_vip *v)
{
	__u32 i, up = 0;

	for (i = 0; i < v->nbackends; i++)
		up += v->backends[i].state == XLB_BE_UP;
	return up;
}

static int vip_wants(const struct xlbd *d, const struct xlb_state_vip *v)
{
	return !d->state.withdrawn && backends_up(v) >= v->cfg.min_up;
}

/* Why v's address is (or is not) wanted, as far as v goes. */
static void vip_reason(const struct xlbd *d, const struct xlb_state_vip *v, char *buf,
		       size_t len)
{
	__u32 up = backends_up(v);

	if (d->state.withdrawn)
		snprintf(buf, len, "host withdrawn (xlbctl lb withdraw)");
	else if (up >= v->cfg.min_up)
		snprintf(buf, len, "%u of %u backend%s up (min_up %u)", up, v->nbackends,
			 xlb_s(v->nbackends), v->cfg.min_up);
	else
		snprintf(buf, len, "%u of %u backend%s up, fewer than min_up %u", up, v->nbackends,
			 xlb_s(v->nbackends), v->cfg.min_up);
}

/* Each address's want, and the VIP that decided it. */
static int compute_wants(struct xlbd *d, struct xlb_announce *a)
{
	struct ann_addr *e;
	__u32 i;

	for (i = 0; i < a->n; i++) {
		a->addrs[i].want = 0;
		a->addrs[i].cause = -1;
	}
	for (i = 0; i < d->state.nvips; i++) {
		const struct xlb_state_vip *v = &d->state.vips[i];

		e = addr_get(a, v->cfg.key.addr, host_len(v->cfg.key.addr));
		if (!e)
			return -ENOMEM;
		if (!e->want && vip_wants(d, v)) {
			e->want = 1;
			e->cause = i;
		} else if (!e->want && e->cause < 0) {
			e->cause = i;
		}
	}
	return 0;
}

/* Make the kernel table hold e as wanted; log the change and its cause. */
static void apply_one(struct xlbd *d, struct xlb_announce *a, struct ann_addr *e)
{
	char addr[XLB_ADDR_STR_MAX], vip[XLB_VIP_STR_MAX], why[128], err[128];
	const struct xlb_state_vip *v = e->cause >= 0 ? &d->state.vips[e->cause] : NULL;
	int ret;

	ret = e->want ? xlb_route_add(a->rt, e->addr) : xlb_route_del(a->rt, e->addr, e->plen);
	xlb_format_addr(e->addr, addr, sizeof(addr));
	if (ret) {
		if (ret != e->err) {
			libbpf_strerror(ret, err, sizeof(err));
			logmsg(LOG_ERR, "cannot %s %s/%u in table %u: %s",
			       e->want ? "announce" : "withdraw", addr, e->plen, a->cfg.table, err);
		}
		e->err = ret;
		return;
	}
	e->err = 0;
	e->have = e->want;
	a->changes++;
	if (v) {
		xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
		vip_reason(d, v, why, sizeof(why));
		logmsg(LOG_INFO, "%s %s/%u: %s: %s", e->want ? "announced" : "withdrew", addr,
		       e->plen, vip, why);
	} else {
		logmsg(LOG_INFO, "withdrew %s/%u: no VIP on it", addr, e->plen);
	}
}

void announce_sync(struct xlbd *d)
{
	struct xlb_announce *a = d->announce;
	__u32 i;

	if (!a)
		return;
	if (compute_wants(d, a)) {
		logmsg(LOG_ERR, "cannot announce: %s", strerror(ENOMEM));
		return;
	}
	for (i = 0; i < a->n; i++)
		if (a->addrs[i].want != a->addrs[i].have)
			apply_one(d, a, &a->addrs[i]);
	/* forget what is neither wanted nor there: a VIP removed */
	for (i = 0; i < a->n;) {
		if (!a->addrs[i].want && !a->addrs[i].have && a->addrs[i].cause < 0)
			a->addrs[i] = a->addrs[--a->n];
		else
			i++;
	}
}

static void found(void *ctx, const __be32 addr[4], __u8 plen)
{
	struct xlb_announce *a = ctx;
	struct ann_addr *e = addr_get(a, addr, plen);

	if (e)
		e->have = 1;
}

int announce_start(struct xlbd *d)
{
	struct xlb_announce *a;
	char err[128];
	int ret;

	if (!d->file.announce.table)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = d->file.announce;
	ret = xlb_route_open(a->cfg.table, a->cfg.protocol, &a->rt);
	ret = ret ?: xlb_route_list(a->rt, found, a);
	if (ret) {
		libbpf_strerror(ret, err, sizeof(err));
		logmsg(LOG_ERR, "cannot read routing table %u: %s", a->cfg.table, err);
		xlb_route_close(a->rt);
		free(a->addrs);
		free(a);
		return ret;
	}
	logmsg(LOG_INFO, "announcing in routing table %u, protocol %u: %u route%s of ours there%s",
	       a->cfg.table, a->cfg.protocol, a->n, xlb_s(a->n),
	       d->state.withdrawn ? "; the host is withdrawn (xlbctl lb withdraw)" : "");
	d->announce = a;
	announce_sync(d);
	return 0;
}

void announce_stop(struct xlbd *d)
{
	if (!d->announce)
		return;
	xlb_route_close(d->announce->rt);
	free(d->announce->addrs);
	free(d->announce);
	d->announce = NULL;
}

static void count_found(void *ctx, const __be32 addr[4], __u8 plen)
{
	struct xlb_announce *a = ctx;

	if (!addr_get(a, addr, plen))
		logmsg(LOG_ERR, "out of memory listing routes");
}

int announce_teardown(const char *config_path)
{
	struct xlb_announce a = {};
	struct xlb_config cfg = {};
	char err[XLB_ERR_MAX];
	__u32 i;
	int ret;

	ret = xlb_config_load(config_path, &cfg, err, sizeof(err));
	if (ret == -ENOENT)
		return 0; /* no config: nothing of ours to know of */
	if (ret) {
		logmsg(LOG_ERR, "%s: the routes of announce: stay", err);
		return ret;
	}
	a.cfg = cfg.announce;
	xlb_config_free(&cfg);
	if (!a.cfg.table)
		return 0;
	ret = xlb_route_open(a.cfg.table, a.cfg.protocol, &a.rt);
	ret = ret ?: xlb_route_list(a.rt, count_found, &a);
	for (i = 0; !ret && i < a.n; i++)
		ret = xlb_route_del(a.rt, a.addrs[i].addr, a.addrs[i].plen);
	if (ret) {
		libbpf_strerror(ret, err, sizeof(err));
		logmsg(LOG_ERR, "cannot withdraw the routes in table %u: %s", a.cfg.table, err);
	} else {
		logmsg(LOG_INFO, "withdrew %u route%s of protocol %u from table %u", a.n,
		       xlb_s(a.n), a.cfg.protocol, a.cfg.table);
	}
	xlb_route_close(a.rt);
	free(a.addrs);
	return ret;
}

/* Is v's address in the table now? */
static int vip_announced(const struct xlb_announce *a, const struct xlb_state_vip *v)
{
	__u32 i;

	for (i = 0; i < a->n; i++)
		if (a->addrs[i].plen == host_len(v->cfg.key.addr) &&
		    !memcmp(a->addrs[i].addr, v->cfg.key.addr, 16))
			return a->addrs[i].have;
	return 0;
}

void announce_json(struct xlbd *d, const struct xlb_state_vip *v, struct json_object *o)
{
	char why[160];
	size_t n;
	int on;

	if (!d->announce)
		return;
	on = vip_announced(d->announce, v);
	vip_reason(d, v, why, sizeof(why));
	n = strlen(why);
	/* the address is shared: another VIP on it may keep it */
	if (on && !vip_wants(d, v))
		snprintf(why + n, sizeof(why) - n, "; another VIP on the address keeps it");
	json_object_object_add(o, "announced", json_object_new_string(on ? "yes" : "no"));
	json_object_object_add(o, "announce_reason", json_object_new_string(why));
	add_u64(o, "min_up", v->cfg.min_up);
}

int announce_metrics(struct xlbd *d, struct xlb_prom *w)
{
	char vip[XLB_VIP_STR_MAX];
	__u32 i;
	int ret;

	if (!d->announce)
		return 0;
	ret = xlb_prom_family(w, "xlb_vip_announced", "gauge",
			      "1 if the VIP's address is in the announce routing table.");
	for (i = 0; i < d->state.nvips && !ret; i++) {
		xlb_format_vip(&d->state.vips[i].cfg.key, vip, sizeof(vip));
		ret = xlb_prom_sample_u64(w, "xlb_vip_announced", (const char *const[]){ "vip", vip, NULL },
					  vip_announced(d->announce, &d->state.vips[i]));
	}
	ret = ret ?: xlb_prom_family(w, "xlb_announce_changes_total", "counter",
				     "Routes added to or removed from the announce routing table.");
	return ret ?: xlb_prom_sample_u64(w, "xlb_announce_changes_total", NULL,
					  d->announce->changes);
}

void announce_show(struct xlbd *d, struct json_object *o)
{
	struct xlb_announce *a = d->announce;
	__u32 i, n = 0;

	json_object_object_add(o, "announce", json_object_new_boolean(!!a));
	json_object_object_add(o, "withdrawn", json_object_new_boolean(d->state.withdrawn));
	handoff_show(d, o);
	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		n += a->addrs[i].have;
	add_u64(o, "table", a->cfg.table);
	add_u64(o, "protocol", a->cfg.protocol);
	add_u64(o, "routes", n);
	add_u64(o, "changes", a->changes);
}
