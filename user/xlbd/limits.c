// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-client limits in xlbd (README, "Under attack"): a VIP's settings
 * pushed to its vip_filter entry, its refusals for vip show and the
 * metrics, and the live counts' correction, run with the flow walk
 * (flows.c):
 *
 *   live(key) = base + opened - closed
 *   base      = the walk's live entries of the key
 *               - (opened - closed when the walk started)
 *
 * The bound, as for the backends' counts: a key's count is over by its
 * flows evicted or idled out since the last complete walk began, and off
 * by at most its flows opened or closed during that walk; each walk
 * starts it over, so nothing leaks for longer than a period plus a walk.
 * A bucket evicted from the LRU loses its opened and closed: the count is
 * then under (the client may open more) until the next walk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "xlb.skel.h"
#include "xlbd.h"

static struct xlb_limits_dp ldp;
static int ldp_ret = 1; /* 1: not yet opened */
static struct xlb_limits_walk *walk;
static int walking;
/* per backend id, while a walk runs: its VIP id + 1 if that VIP caps live flows, else 0 */
static __u16 *vip_of;
static __u8 prefix4[XLB_MAX_VIPS], prefix6[XLB_MAX_VIPS];

static struct xlb_limits_dp *ldp_get(struct xlbd *d)
{
	if (ldp_ret == 1) {
		ldp_ret = xlb_limits_dp_open(&ldp, d->at.skel->obj);
		if (ldp_ret)
			logmsg(LOG_ERR, "cannot open the limit maps: %s", strerror(-ldp_ret));
	}
	return ldp_ret ? NULL : &ldp;
}

static struct xlb_lb_vip *lb_vip(struct xlbd *d, const struct xlb_state_vip *v)
{
	return xlb_lb_vip_find(d->lb, &v->cfg.key);
}

int limits_push(struct xlbd *d, const struct xlb_state_vip *v, int forget)
{
	struct xlb_block_dp *b = block_dp_get(d);
	struct xlb_limits_dp *l = ldp_get(d);
	struct xlb_lb_vip *lv = lb_vip(d, v);
	struct vip_filter vf;
	int ret;

	if (!b || !l || !lv)
		return -ENOENT;
	xlb_limits_to_dp(&v->cfg.limits, &vf);
	ret = xlb_block_dp_limits(b, lv->id, &vf);
	if (ret)
		logmsg(LOG_ERR, "cannot write the limits of VIP id %u: %s", lv->id, strerror(-ret));
	/* other prefixes or none: the old keys' buckets and counts mean nothing now */
	if (!ret && forget)
		xlb_limits_dp_forget(l, lv->id);
	return ret;
}

void limits_clear(struct xlbd *d, const struct xlb_state_vip *v)
{
	struct xlb_block_dp *b = block_dp_get(d);
	struct xlb_lb_vip *lv = lb_vip(d, v);

	if (!b || !lv)
		return;
	xlb_block_dp_limits(b, lv->id, NULL);
	if (xlb_limits_on(&v->cfg.limits) && ldp_get(d))
		xlb_limits_dp_forget(&ldp, lv->id);
}

void limits_show(struct xlbd *d, const struct xlb_state_vip *v, struct json_object *o)
{
	struct xlb_lb_vip *lv = lb_vip(d, v);
	struct limit_drops dr;
	struct json_object *j;

	if (!xlb_limits_on(&v->cfg.limits))
		return;
	j = xlb_limits_to_json(&v->cfg.limits);
	if (lv && ldp_get(d) && !xlb_limits_dp_drops(&ldp, lv->id, &dr)) {
		add_u64(j, "dropped_rate", dr.rate);
		add_u64(j, "dropped_conns", dr.conns);
	}
	json_object_object_add(o, "limits", j);
}

int limits_metrics(struct xlbd *d, struct xlb_prom *w)
{
	static const char *const reasons[2] = { "rate", "conns" };
	char vip[XLB_VIP_STR_MAX];
	struct limit_drops dr;
	struct xlb_lb_vip *lv;
	__u32 i;
	int r, ret = 0;

	if (!ldp_get(d))
		return 0;
	ret = xlb_prom_family(w, "xlb_vip_limit_dropped_total", "counter",
			"New flows a VIP's per-client limits refused, by reason (rate: new_flows_per_s, conns: max_conns).");
	for (i = 0; i < d->state.nvips; i++) {
		if (!xlb_limits_on(&d->state.vips[i].cfg.limits))
			continue;
		lv = lb_vip(d, &d->state.vips[i]);
		if (!lv || xlb_limits_dp_drops(&ldp, lv->id, &dr))
			continue;
		xlb_format_vip(&lv->key, vip, sizeof(vip));
		for (r = 0; r < 2; r++)
			ret = ret ?: xlb_prom_sample_u64(w, "xlb_vip_limit_dropped_total",
							 (const char *const[]){ "vip", vip, "reason",
										reasons[r], NULL },
							 r ? dr.conns : dr.rate);
	}
	return ret;
}

/* ---- the correction, with the flow walk ---- */

void limits_walk_start(struct xlbd *d)
{
	struct xlb_lb_vip *lv;
	__u32 i, j, any = 0;

	walking = 0;
	if (!ldp_get(d))
		return;
	if (!vip_of && !(vip_of = calloc(XLB_MAX_BACKENDS, sizeof(*vip_of))))
		return;
	memset(vip_of, 0, XLB_MAX_BACKENDS * sizeof(*vip_of));
	for (i = 0; i < d->state.nvips; i++) {
		const struct xlb_limits_cfg *l = &d->state.vips[i].cfg.limits;

		if (!l->max_conns || !(lv = lb_vip(d, &d->state.vips[i])))
			continue;
		prefix4[lv->id] = l->prefix4;
		prefix6[lv->id] = l->prefix6;
		for (j = 0; j < lv->nbackends; j++)
			if (lv->backends[j].id < XLB_MAX_BACKENDS)
				vip_of[lv->backends[j].id] = (__u16)(lv->id + 1);
		any = 1;
	}
	if (!any)
		return; /* nothing capped: bases stay as they are (none once the VIPs went) */
	if (!walk && !(walk = xlb_limits_walk_new()))
		return;
	if (xlb_limits_walk_snapshot(walk, &ldp)) {
		logmsg(LOG_WARN, "limits: cannot read the client counts");
		return;
	}
	walking = 1;
}

void limits_walk_visit(const struct flow_key *key, const struct flow_state *st)
{
	struct limit_key k;
	__u32 vid;

	if (!walking || st->backend_id >= XLB_MAX_BACKENDS || !vip_of[st->backend_id])
		return;
	vid = vip_of[st->backend_id] - 1u;
	xlb_limit_key(key->saddr, vid, prefix4[vid], prefix6[vid], &k);
	if (xlb_limits_walk_visit(walk, &k))
		walking = 0; /* out of memory: this walk corrects nothing */
}

void limits_walk_end(struct xlbd *d)
{
	int ret;

	(void)d;
	if (!walking)
		return;
	walking = 0;
	ret = xlb_limits_walk_apply(walk, &ldp);
	if (ret < 0)
		logmsg(LOG_WARN, "limits: cannot write the count corrections: %s", strerror(-ret));
}
