// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The source filters in xlbd (README, "Under attack"): the desired rules
 * are d->state.block, the tries follow them (block_sync), and the
 * commands block add, del and show; their metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "syntax.h"
#include "plural.h"
#include "xlb.skel.h"
#include "xlbd.h"

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* per-rule metric series: the most hit, at most this many (100,000 rules would swamp a scrape) */
#define BLOCK_METRIC_RULES 1000
/* reload's report names at most this many rules, then counts the rest */
#define BLOCK_REPORT_RULES 32

static struct xlb_block_dp block_dp;
static int block_open_ret = 1; /* 1: not yet opened */

struct xlb_block_dp *block_dp_get(struct xlbd *d)
{
	if (block_open_ret == 1) {
		block_open_ret = xlb_block_dp_open(&block_dp, d->at.skel->obj);
		if (block_open_ret)
			logmsg(LOG_ERR, "cannot open the blocklist maps: %s",
			       strerror(-block_open_ret));
		else if (block_dp.nloaded)
			logmsg(LOG_INFO, "adopted %u pinned blocklist rule%s", block_dp.nloaded,
			       xlb_s(block_dp.nloaded));
	}
	return block_open_ret ? NULL : &block_dp;
}

static int vip_id(void *ctx, const struct vip_key *key)
{
	struct xlb_lb_vip *v = xlb_lb_vip_find(((struct xlbd *)ctx)->lb, key);

	return v ? (int)v->id : -1;
}

static int vip_kept(void *ctx, const struct vip_key *key)
{
	return xlb_state_find_vip(&((struct xlbd *)ctx)->state, (struct vip_key *)key) != NULL;
}

int block_sync(struct xlbd *d)
{
	struct xlb_block_dp *b = block_dp_get(d);
	__u32 gone = xlb_blocklist_prune(&d->state.block, vip_kept, d);
	int ret;

	if (gone)
		logmsg(LOG_INFO, "%u blocklist rule%s left with their VIP", gone, xlb_s(gone));
	if (!b)
		return block_open_ret;
	ret = xlb_block_dp_sync(b, &d->state.block, vip_id, d);
	if (ret)
		logmsg(LOG_ERR, "cannot write the blocklist: %s", strerror(-ret));
	return ret;
}

/* Rules of a that b lacks, into arr as "block RULE" (a few, then a count). */
static int report(struct json_object *arr, const struct xlb_blocklist *a,
		  const struct xlb_blocklist *b)
{
	__u32 *ix = malloc(((size_t)a->n + 1) * sizeof(*ix)), n, i;
	char text[XLB_BLOCK_RULE_STR_MAX + 16];

	if (!ix || xlb_blocklist_minus(a, b, ix, &n)) {
		free(ix);
		return -ENOMEM;
	}
	for (i = 0; i < n && i < BLOCK_REPORT_RULES; i++) {
		memcpy(text, "block ", 6);
		xlb_block_rule_format(&a->rules[ix[i]], text + 6, sizeof(text) - 6);
		json_object_array_add(arr, json_object_new_string(text));
	}
	if (n > BLOCK_REPORT_RULES) {
		snprintf(text, sizeof(text), "and %u more blocklist rule%s", n - BLOCK_REPORT_RULES,
			 xlb_s(n - BLOCK_REPORT_RULES));
		json_object_array_add(arr, json_object_new_string(text));
	}
	free(ix);
	return 0;
}

int block_apply(struct xlbd *d, const struct xlb_blocklist *want, struct json_object *added,
		struct json_object *changed, struct json_object *removed)
{
	struct xlb_blocklist next, prev;
	int ret;

	if (xlb_blocklist_copy(&next, want))
		return -ENOMEM;
	ret = report(added, want, &d->state.block);
	ret = ret ?: report(removed, &d->state.block, want);
	if (!ret && next.scope_all != d->state.block.scope_all)
		json_object_array_add(changed, json_object_new_string(
			next.scope_all ? "blocklist scope all" : "blocklist scope vips"));
	prev = d->state.block;
	d->state.block = next;
	ret = ret ?: block_sync(d);
	if (ret) {
		/* the tries are as they were (xlb_block_dp_sync undoes): so is the list */
		xlb_blocklist_free(&d->state.block);
		d->state.block = prev;
		return ret;
	}
	xlb_blocklist_free(&prev);
	if (!ret && block_open_ret == 0)
		logmsg(LOG_INFO, "blocklist: %u rule%s written in %.1f ms", d->state.block.n,
		       xlb_s(d->state.block.n), block_dp.last_sync_ms);
	return ret;
}

/* ---- commands ---- */

/* The rule a request names: prefix, vip (optional), allow (optional). */
static int get_rule(struct xlbd *d, struct json_object *req, struct xlb_block_rule *r, char *err,
		    size_t errlen)
{
	static const char *const keys[] = { "prefix", "vip", "allow", NULL };
	struct json_object *allow;
	const char *s;
	char why[128], q[XLB_QUOTE_MAX];
	int has;

	memset(r, 0, sizeof(*r));
	r->id = XLB_BLOCK_NO_ID;
	if (xlb_proto_check_keys(req, keys, err, errlen) ||
	    xlb_proto_get_str(req, "prefix", &s, err, errlen) ||
	    (has = get_vip(req, "vip", 0, &r->vip, err, errlen)) < 0)
		return -EINVAL;
	if (xlb_block_prefix_parse(s, &r->pfx, why, sizeof(why))) {
		snprintf(err, errlen, "invalid prefix '%s': %s", xlb_quote(s, q, sizeof(q)), why);
		return -EINVAL;
	}
	if (json_object_object_get_ex(req, "allow", &allow) &&
	    !json_object_is_type(allow, json_type_boolean)) {
		snprintf(err, errlen, "allow: not a boolean");
		return -EINVAL;
	}
	r->allow = allow && json_object_get_boolean(allow);
	r->has_vip = has > 0;
	if (has > 0 && !xlb_state_find_vip(&d->state, &r->vip)) {
		snprintf(err, errlen, "no such VIP");
		return -ENOENT;
	}
	return 0;
}

struct json_object *cmd_block_add(struct xlbd *d, struct json_object *req)
{
	struct xlb_block_rule r;
	char err[XLB_ERR_MAX], text[XLB_BLOCK_RULE_STR_MAX];
	int ret;

	if (get_rule(d, req, &r, err, sizeof(err)))
		ERR_REPLY("%s", err);
	if (xlb_blocklist_find(&d->state.block, &r) >= 0)
		ERR_REPLY("rule already exists");
	if (d->state.block.n >= XLB_BLOCK_RULES_MAX)
		ERR_REPLY("too many blocklist rules (at most %d)", XLB_BLOCK_RULES_MAX);
	if (xlb_blocklist_append(&d->state.block, &r))
		return err_from(-ENOMEM, "cannot add the rule");
	if (save_state(d, err, sizeof(err))) {
		xlb_blocklist_remove(&d->state.block, d->state.block.n - 1);
		return unsaved_reply(err);
	}
	xlb_block_rule_format(&r, text, sizeof(text));
	logmsg(LOG_INFO, "blocklist rule %s added", text); /* before what writing it logs */
	ret = block_sync(d);
	if (ret) {
		/* not in the data plane: not in the state either, on disk too */
		xlb_blocklist_remove(&d->state.block, d->state.block.n - 1);
		save_state(d, err, sizeof(err));
		logmsg(LOG_ERR, "blocklist rule %s removed again: it was not written", text);
		return start_failed_reply(d, ret, "cannot add the rule");
	}
	return xlb_proto_ok();
}

struct json_object *cmd_block_del(struct xlbd *d, struct json_object *req)
{
	struct xlb_block_rule r, old;
	char err[XLB_ERR_MAX], text[XLB_BLOCK_RULE_STR_MAX];
	int i, ret;

	if (get_rule(d, req, &r, err, sizeof(err)))
		ERR_REPLY("%s", err);
	i = xlb_blocklist_find(&d->state.block, &r);
	if (i < 0)
		ERR_REPLY("no such rule");
	old = d->state.block.rules[i];
	xlb_blocklist_remove(&d->state.block, i);
	if (save_state(d, err, sizeof(err))) {
		xlb_blocklist_append(&d->state.block, &old); /* room: it was there */
		return unsaved_reply(err);
	}
	xlb_block_rule_format(&r, text, sizeof(text));
	logmsg(LOG_INFO, "blocklist rule %s removed", text); /* before what writing it logs */
	ret = block_sync(d);
	if (ret) {
		/* still in the data plane: still in the state, on disk too */
		xlb_blocklist_append(&d->state.block, &old);
		save_state(d, err, sizeof(err));
		logmsg(LOG_ERR, "blocklist rule %s kept: the removal was not written", text);
		return start_failed_reply(d, ret, "cannot remove the rule");
	}
	return xlb_proto_ok();
}

struct json_object *cmd_block_show(struct xlbd *d, struct json_object *req)
{
	struct xlb_block_dp *b = block_dp_get(d);
	struct json_object *reply, *arr;
	struct vip_key key;
	char err[256], text[XLB_BLOCK_STR_MAX];
	__u64 *hits = calloc(XLB_BLOCK_RULES_MAX, sizeof(*hits));
	__u32 i;
	int has;

	has = get_vip_filter(d, req, &key, err, sizeof(err));
	if (has < 0 || !hits) {
		free(hits);
		ERR_REPLY("%s", has < 0 ? err : "out of memory");
	}
	if (b)
		xlb_block_dp_hits(b, hits);
	reply = xlb_proto_ok();
	arr = json_object_new_array();
	json_object_object_add(reply, "scope", json_object_new_string(
				       d->state.block.scope_all ? "all" : "vips"));
	for (i = 0; i < d->state.block.n; i++) {
		const struct xlb_block_rule *r = &d->state.block.rules[i];
		struct json_object *o;

		if (has && (!r->has_vip || memcmp(&r->vip, &key, sizeof(key))))
			continue;
		o = json_object_new_object();
		xlb_block_prefix_format(&r->pfx, text, sizeof(text));
		json_object_object_add(o, "prefix", json_object_new_string(text));
		if (r->has_vip) {
			xlb_format_vip(&r->vip, text, sizeof(text));
			json_object_object_add(o, "vip", json_object_new_string(text));
		}
		json_object_object_add(o, "list", json_object_new_string(r->allow ? "allow" : "block"));
		if (r->id != XLB_BLOCK_NO_ID)
			add_u64(o, "hits", hits[r->id]);
		json_object_array_add(arr, o);
	}
	json_object_object_add(reply, "rules", arr);
	free(hits);
	return reply;
}

/* ---- metrics ---- */

static const __u64 *sort_hits;

static int by_hits(const void *x, const void *y)
{
	__u64 a = sort_hits[*(const __u32 *)x], b = sort_hits[*(const __u32 *)y];

	return (a < b) - (a > b);
}

int block_metrics(struct xlbd *d, struct xlb_prom *w)
{
	struct xlb_block_dp *b = block_dp_get(d);
	const struct xlb_blocklist *l = &d->state.block;
	__u64 *hits = calloc(XLB_BLOCK_RULES_MAX, sizeof(*hits)), n[2] = { 0, 0 };
	__u32 *ids = calloc((size_t)l->n + 1, sizeof(*ids)), *rule_of, i, nids = 0;
	char prefix[XLB_BLOCK_STR_MAX], vip[XLB_VIP_STR_MAX];
	int ret = -ENOMEM;

	rule_of = calloc(XLB_BLOCK_RULES_MAX, sizeof(*rule_of));
	if (!hits || !ids || !rule_of || !b)
		goto out;
	ret = xlb_block_dp_hits(b, hits);
	for (i = 0; i < l->n && !ret; i++) {
		n[l->rules[i].allow]++;
		if (l->rules[i].id != XLB_BLOCK_NO_ID && hits[l->rules[i].id]) {
			rule_of[l->rules[i].id] = i;
			ids[nids++] = l->rules[i].id;
		}
	}
	ret = ret ?: xlb_prom_family(w, "xlb_block_rules", "gauge",
				     "Blocklist and allowlist rules, by list.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_block_rules", L("list", "block"), n[0]);
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_block_rules", L("list", "allow"), n[1]);
	sort_hits = hits;
	qsort(ids, nids, sizeof(*ids), by_hits);
	ret = ret ?: xlb_prom_family(w, "xlb_block_rule_hits_total", "counter",
				     "Packets a blocklist or allowlist rule matched (the 1000 most hit rules).");
	for (i = 0; i < nids && i < BLOCK_METRIC_RULES && !ret; i++) {
		const struct xlb_block_rule *r = &l->rules[rule_of[ids[i]]];

		xlb_block_prefix_format(&r->pfx, prefix, sizeof(prefix));
		if (r->has_vip)
			xlb_format_vip(&r->vip, vip, sizeof(vip));
		ret = xlb_prom_sample_u64(w, "xlb_block_rule_hits_total",
					  L("prefix", prefix, "vip", r->has_vip ? vip : "",
					    "list", r->allow ? "allow" : "block"),
					  hits[ids[i]]);
	}
out:
	free(hits);
	free(ids);
	free(rule_of);
	return ret;
}
