// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The control commands on VIPs: vip add, vip set, vip del, vip show. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "digest.h"
#include "syntax.h"
#include "validate.h"
#include "xlbd.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Write the message to err; returns -EINVAL. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The health-check options of vip add, over h's defaults. */
static int get_health(struct json_object *req, struct xlb_health_cfg *h, char *err,
		      size_t errlen)
{
	const char *s;
	char kinds[64];
	__u32 port;
	int ret;

	if ((ret = xlb_proto_get_opt_str(req, "check", &s, err, errlen)) < 0)
		return -EINVAL;
	if (ret && xlb_value_of(xlb_check_names, s, &h->kind)) {
		xlb_names_list(xlb_check_names, " or ", kinds, sizeof(kinds));
		return fail(err, errlen, "check: bad check kind (%s)", kinds);
	}
	if ((ret = xlb_proto_get_opt_str(req, "path", &s, err, errlen)) < 0)
		return -EINVAL;
	if (ret) {
		/* checked here only because a longer one would not fit; the rest: validate.c */
		if (strlen(s) >= sizeof(h->path) && xlb_http_path_check(s, err, errlen))
			return -EINVAL;
		snprintf(h->path, sizeof(h->path), "%s", s);
	}
	/* 0, as in the file: the VIP's port */
	if (xlb_proto_get_opt_u32(req, "check_port", 0, 65535, &port, err, errlen) < 0)
		return -EINVAL;
	if (json_object_object_get_ex(req, "check_port", NULL))
		h->port = port;
	if ((ret = xlb_proto_get_opt_str(req, "check_via", &s, err, errlen)) < 0)
		return -EINVAL;
	if (ret && xlb_value_of(xlb_check_via_names, s, &port))
		return fail(err, errlen, "check-via: bad value (backend or vip)");
	if (ret)
		h->via = (__u8)port;
	/* ranges and timeout < interval: xlb_vip_settings_check, as for the file */
	if (get_duration(req, "interval", &h->interval_ms, err, errlen) < 0 ||
	    get_duration(req, "timeout", &h->timeout_ms, err, errlen) < 0 ||
	    xlb_proto_get_opt_u32(req, "rise", 0, UINT32_MAX, &h->rise, err, errlen) < 0 ||
	    xlb_proto_get_opt_u32(req, "fall", 0, UINT32_MAX, &h->fall, err, errlen) < 0)
		return -EINVAL;
	if (!json_object_object_get_ex(req, "timeout", NULL))
		xlb_health_timeout_derive(h);
	return 0;
}

/* vip add's name for a key of validate.c; "" for the VIP itself, said without one. */
static const char *option_name(const char *key)
{
	if (!strcmp(key, "vip"))
		return "";
	if (!strcmp(key, "scheduler"))
		return "sched";
	static const char *const limit_words[][2] = {
		{ "limits.new_flows_per_s", "limit-rate" }, { "limits.burst", "limit-burst" },
		{ "limits.max_conns", "limit-conns" },      { "limits.prefix_v4", "limit-prefix-v4" },
		{ "limits.prefix_v6", "limit-prefix-v6" },
	};
	size_t i;

	for (i = 0; i < sizeof(limit_words) / sizeof(limit_words[0]); i++)
		if (!strcmp(key, limit_words[i][0]))
			return limit_words[i][1];
	if (!strcmp(key, "health.via"))
		return "check-via";
	return strncmp(key, "health.", 7) ? key : key + 7;
}

/* persist and its prefixes; ranges: xlb_vip_settings_check, as for the file. */
static int get_persist(struct json_object *req, struct xlb_vip_cfg *v, char *err, size_t errlen)
{
	__u32 p4 = XLB_PERSIST_PREFIX4_DEFAULT, p6 = XLB_PERSIST_PREFIX6_DEFAULT;

	xlb_vip_persist_default(v);
	v->persist_ms = UINT32_MAX; /* absent: stays so */
	if (get_duration(req, "persist", &v->persist_ms, err, errlen) < 0)
		return -EINVAL;
	/* as in the file: absent is off, 0 is out of range (validate.c) */
	if (v->persist_ms == 0)
		return fail(err, errlen, "persist: out of range (1s..24h)");
	if (v->persist_ms == UINT32_MAX)
		v->persist_ms = 0;
	if (xlb_proto_get_opt_u32(req, "persist_prefix_v4", 1, 32, &p4, err, errlen) < 0 ||
	    xlb_proto_get_opt_u32(req, "persist_prefix_v6", 1, 128, &p6, err, errlen) < 0)
		return -EINVAL;
	if (!v->persist_ms && (json_object_object_get_ex(req, "persist_prefix_v4", NULL) ||
			       json_object_object_get_ex(req, "persist_prefix_v6", NULL)))
		return fail(err, errlen, "a persist prefix needs persist DURATION");
	v->persist_prefix4 = (__u8)p4;
	v->persist_prefix6 = (__u8)p6;
	return 0;
}

/* limits: {new_flows_per_s, burst, max_conns, prefix_v4, prefix_v6}; burst defaults to the rate. */
static int get_limits(struct json_object *req, struct xlb_vip_cfg *v, char *err, size_t errlen)
{
	struct json_object *o;

	xlb_limits_default(&v->limits);
	if (!json_object_object_get_ex(req, "limits", &o))
		return 0;
	if (xlb_limits_from_json(o, &v->limits))
		return fail(err, errlen, "limits: bad value");
	if (v->limits.rate && !json_object_object_get_ex(o, "burst", NULL))
		v->limits.burst = v->limits.rate;
	return 0;
}

static const char *const vip_keys[] = { "vip", "sched", "forward", "check", "path",
					"check_port", "check_via", "interval", "timeout", "rise",
					"fall", "min_up", "persist", "persist_prefix_v4",
					"persist_prefix_v6", "limits", NULL };

/* A VIP's settings from a vip add request, over the defaults, checked as the file's are. */
static int vip_from_request(struct json_object *req, struct xlb_vip_cfg *cfg, char *err,
			    size_t errlen)
{
	const char *s, *key;
	char why[128], msg[256];
	int ret;

	if (xlb_proto_check_keys(req, vip_keys, err, errlen) ||
	    get_vip(req, "vip", 1, &cfg->key, err, errlen) < 0)
		return -EINVAL;
	cfg->sched = XLB_SCHED_MAGLEV;
	cfg->forward = XLB_FWD_L2DSR;
	xlb_health_cfg_default(&cfg->health);
	cfg->min_up = XLB_MIN_UP_DEFAULT;
	if (xlb_proto_get_opt_u32(req, "min_up", 1, XLB_MIN_UP_MAX, &cfg->min_up, err,
				  errlen) < 0)
		return -EINVAL;
	if (get_persist(req, cfg, err, errlen) || get_limits(req, cfg, err, errlen))
		return -EINVAL;
	if ((ret = xlb_proto_get_opt_str(req, "sched", &s, err, errlen)) < 0)
		return -EINVAL;
	if (ret && xlb_parse_sched(s, &cfg->sched, why, sizeof(why)))
		return fail(err, errlen, "sched: %s", why);
	if ((ret = xlb_proto_get_opt_str(req, "forward", &s, err, errlen)) < 0)
		return -EINVAL;
	if (ret && xlb_parse_forward(s, &cfg->forward, why, sizeof(why)))
		return fail(err, errlen, "forward: %s", why);
	if (get_health(req, &cfg->health, err, errlen))
		return -EINVAL;
	if (xlb_vip_settings_check(cfg, &key, msg, sizeof(msg)))
		return fail(err, errlen, "%s%s%s", option_name(key), option_name(key)[0] ? ": " : "",
			    msg);
	return 0;
}

struct json_object *cmd_vip_add(struct xlbd *d, struct json_object *req)
{
	struct xlb_vip_cfg cfg = {};
	struct xlb_state_vip *v;
	char err[256], why[128], unsaved[XLB_ERR_MAX];
	int ret;

	if (vip_from_request(req, &cfg, err, sizeof(err)))
		ERR_REPLY("%s", err);
	if (xlb_vip_encap_check(&cfg, &d->file.encap, why, sizeof(why)))
		ERR_REPLY("%s in %s", why, d->config_path);
	if (xlb_state_find_vip(&d->state, &cfg.key))
		ERR_REPLY("VIP already exists");
	if (cfg.health.via == XLB_CHECK_VIA_VIP && via_room(d, NULL, NULL, err, sizeof(err)))
		ERR_REPLY("check-via: %s", err);
	if (d->state.nvips >= XLB_CP_MAX_VIPS)
		ERR_REPLY("too many VIPs (at most %d)", XLB_CP_MAX_VIPS);
	ret = xlb_state_vip_insert(&d->state, &cfg, &v);
	if (ret)
		return err_from(ret, "cannot add VIP");
	if (save_state(d, unsaved, sizeof(unsaved))) {
		xlb_state_vip_remove(&d->state, v - d->state.vips);
		return unsaved_reply(unsaved);
	}
	/* said before starting it, so the log has what starting it causes after it */
	xlb_format_vip(&cfg.key, err, sizeof(err));
	logmsg(LOG_INFO, "VIP %s added (%s, %s)", err, xlb_sched_name(cfg.sched),
	       xlb_forward_name(cfg.forward));
	ret = vip_start(d, v);
	if (ret) {
		vip_stop(d, v);
		xlb_state_vip_remove(&d->state, v - d->state.vips);
		logmsg(LOG_ERR, "VIP %s removed again: it did not start", err);
		return start_failed_reply(d, ret, "cannot add VIP");
	}
	return xlb_proto_ok();
}

/* v's settings as the vip add request that makes them. */
static struct json_object *vip_request_of(const struct xlb_state_vip *v)
{
	const struct xlb_vip_cfg *c = &v->cfg;
	struct json_object *r = json_object_new_object(), *l;
	char buf[XLB_VIP_STR_MAX];

	xlb_format_vip(&c->key, buf, sizeof(buf));
	json_object_object_add(r, "vip", json_object_new_string(buf));
	json_object_object_add(r, "sched", json_object_new_string(xlb_sched_name(c->sched)));
	json_object_object_add(r, "forward", json_object_new_string(xlb_forward_name(c->forward)));
	json_object_object_add(r, "check", json_object_new_string(
				       xlb_name_of(xlb_check_names, c->health.kind)));
	if (c->health.kind >= XLB_CHECK_HTTP)
		json_object_object_add(r, "path", json_object_new_string(c->health.path));
	if (c->health.port)
		add_u64(r, "check_port", c->health.port);
	json_object_object_add(r, "check_via", json_object_new_string(
				       xlb_name_of(xlb_check_via_names, c->health.via)));
	xlb_format_duration_ms(c->health.interval_ms, buf, sizeof(buf));
	json_object_object_add(r, "interval", json_object_new_string(buf));
	xlb_format_duration_ms(c->health.timeout_ms, buf, sizeof(buf));
	json_object_object_add(r, "timeout", json_object_new_string(buf));
	add_u64(r, "rise", c->health.rise);
	add_u64(r, "fall", c->health.fall);
	add_u64(r, "min_up", c->min_up);
	if (c->persist_ms) {
		xlb_format_duration_ms(c->persist_ms, buf, sizeof(buf));
		json_object_object_add(r, "persist", json_object_new_string(buf));
		add_u64(r, "persist_prefix_v4", c->persist_prefix4);
		add_u64(r, "persist_prefix_v6", c->persist_prefix6);
	}
	if (xlb_limits_on(&c->limits)) {
		l = json_object_new_object();
		if (c->limits.rate) {
			add_u64(l, "new_flows_per_s", c->limits.rate);
			add_u64(l, "burst", c->limits.burst);
		}
		if (c->limits.max_conns)
			add_u64(l, "max_conns", c->limits.max_conns);
		add_u64(l, "prefix_v4", c->limits.prefix4);
		add_u64(l, "prefix_v6", c->limits.prefix6);
		json_object_object_add(r, "limits", l);
	}
	return r;
}

/*
 * The vip set request over the VIP's current settings: what it names
 * replaces them, limits member by member; "persist": "off" ends persist; a
 * new check kind without a path drops the old path.
 */
static void overlay(struct json_object *base, struct json_object *req)
{
	struct json_object *bl, *val;
	const char *check;

	if (json_object_object_get_ex(req, "persist", &val) &&
	    json_object_is_type(val, json_type_string) &&
	    !strcmp(json_object_get_string(val), "off")) {
		json_object_object_del(base, "persist");
		json_object_object_del(base, "persist_prefix_v4");
		json_object_object_del(base, "persist_prefix_v6");
		json_object_object_del(req, "persist");
	}
	if (json_object_object_get_ex(req, "check", &val) && (check = json_object_get_string(val)) &&
	    strcmp(check, "http") && strcmp(check, "https"))
		json_object_object_del(base, "path");
	json_object_object_foreach(req, key, v) {
		if (!strcmp(key, "cmd"))
			continue;
		if (!strcmp(key, "limits") && json_object_is_type(v, json_type_object) &&
		    json_object_object_get_ex(base, "limits", &bl)) {
			json_object_object_foreach(v, lk, lv)
				json_object_object_add(bl, lk, json_object_get(lv));
			continue;
		}
		json_object_object_add(base, key, json_object_get(v));
	}
	/* a new rate sets its own burst, as at vip add */
	if (json_object_object_get_ex(req, "limits", &val) &&
	    json_object_object_get_ex(val, "new_flows_per_s", NULL) &&
	    !json_object_object_get_ex(val, "burst", NULL) &&
	    json_object_object_get_ex(base, "limits", &bl))
		json_object_object_del(bl, "burst");
}

/* A copy of the state with v's settings as cfg, for saving before applying. */
static int save_with(struct xlbd *d, const struct xlb_state_vip *v, const struct xlb_vip_cfg *cfg,
		     char *err, size_t errlen)
{
	struct xlb_state view = d->state;
	int ret;

	view.vips = calloc(d->state.nvips + 1, sizeof(*view.vips));
	if (!view.vips)
		return fail(err, errlen, "cannot save the runtime state: %s", strerror(ENOMEM));
	memcpy(view.vips, d->state.vips, d->state.nvips * sizeof(*view.vips));
	view.vips[v - d->state.vips].cfg = *cfg;
	ret = xlb_state_save(&view, d->state_dir, err, errlen);
	if (ret && !err[0])
		snprintf(err, errlen, "cannot save the runtime state in %s: %s", d->state_dir,
			 strerror(-ret));
	free(view.vips);
	return ret;
}

/* vip set VIP [as vip add]: the VIP's settings at run time; its backends and flows stay. */
struct json_object *cmd_vip_set(struct xlbd *d, struct json_object *req)
{
	struct json_object *merged;
	struct xlb_vip_cfg cfg = {};
	struct xlb_state_vip *v;
	struct vip_key key;
	char err[256], unsaved[XLB_ERR_MAX];
	__u32 i;
	int ret;

	if (xlb_proto_check_keys(req, vip_keys, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0)
		ERR_REPLY("%s", err);
	v = xlb_state_find_vip(&d->state, &key);
	if (!v)
		ERR_REPLY("no such VIP");
	merged = vip_request_of(v);
	overlay(merged, req);
	ret = vip_from_request(merged, &cfg, err, sizeof(err));
	json_object_put(merged);
	if (ret)
		ERR_REPLY("%s", err);
	if (cfg.health.via == XLB_CHECK_VIA_VIP && via_room(d, v, NULL, err, sizeof(err)))
		ERR_REPLY("check-via: %s", err);
	/* forward ipip: a source for the VIP, and for each backend's family */
	if (xlb_vip_encap_check(&cfg, &d->file.encap, err, sizeof(err)))
		ERR_REPLY("%s in %s", err, d->config_path);
	for (i = 0; i < v->nbackends; i++)
		if (!encap_source_for(cfg.forward, v->backends[i].cfg.addr, &d->file.encap))
			ERR_REPLY("no encap_source.%s in %s for backend %s",
				  xlb_addr_is_v4(v->backends[i].cfg.addr) ? "ipv4" : "ipv6",
				  d->config_path, (xlb_format_addr(v->backends[i].cfg.addr, unsaved,
								  sizeof(unsaved)), unsaved));
	unsaved[0] = '\0';
	if (save_with(d, v, &cfg, unsaved, sizeof(unsaved)))
		return unsaved_reply(unsaved);
	xlb_format_vip(&key, err, sizeof(err));
	logmsg(LOG_INFO, "VIP %s changed (%s, %s)", err, xlb_sched_name(cfg.sched),
	       xlb_forward_name(cfg.forward));
	ret = vip_settings_apply(d, v, &cfg); /* after: it logs what the change causes */
	if (ret)
		return err_from(ret, "cannot change VIP");
	return xlb_proto_ok();
}

struct json_object *cmd_vip_del(struct xlbd *d, struct json_object *req)
{
	static const char *const keys[] = { "vip", NULL };
	struct xlb_state_vip *v;
	struct vip_key key;
	char err[256], unsaved[XLB_ERR_MAX];

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0)
		ERR_REPLY("%s", err);
	v = xlb_state_find_vip(&d->state, &key);
	if (!v)
		ERR_REPLY("no such VIP");
	if (save_state_without(d, v, NULL, unsaved, sizeof(unsaved)))
		return unsaved_reply(unsaved);
	xlb_format_vip(&key, err, sizeof(err));
	logmsg(LOG_INFO, "VIP %s removed", err);
	vip_stop(d, v);
	xlb_state_vip_remove(&d->state, v - d->state.vips);
	block_sync(d); /* its blocklist rules go with it */
	return xlb_proto_ok();
}

static struct json_object *vip_json(struct xlbd *d, struct xlb_state_vip *v)
{
	struct json_object *o = json_object_new_object(), *h = json_object_new_object();
	struct xlb_lb_vip *lv = xlb_lb_vip_find(d->lb, &v->cfg.key);
	struct traffic_stats ts = {};
	char buf[XLB_VIP_STR_MAX];
	__u32 i, up = 0;

	if (lv)
		xlb_dp_vip_stats(&d->at.dp, lv->id, &ts);
	for (i = 0; i < v->nbackends; i++)
		up += v->backends[i].state == XLB_BE_UP;
	xlb_format_vip(&v->cfg.key, buf, sizeof(buf));
	json_object_object_add(o, "vip", json_object_new_string(buf));
	json_object_object_add(o, "sched", json_object_new_string(xlb_sched_name(v->cfg.sched)));
	json_object_object_add(o, "forward",
			       json_object_new_string(xlb_forward_name(v->cfg.forward)));
	json_object_object_add(h, "check", json_object_new_string(
				       xlb_name_of(xlb_check_names, v->cfg.health.kind)));
	if (v->cfg.health.kind >= XLB_CHECK_HTTP)
		json_object_object_add(h, "path", json_object_new_string(v->cfg.health.path));
	add_u64(h, "port", v->cfg.health.port);
	json_object_object_add(h, "via", json_object_new_string(
				       xlb_name_of(xlb_check_via_names, v->cfg.health.via)));
	xlb_format_duration_ms(v->cfg.health.interval_ms, buf, sizeof(buf));
	json_object_object_add(h, "interval", json_object_new_string(buf));
	xlb_format_duration_ms(v->cfg.health.timeout_ms, buf, sizeof(buf));
	json_object_object_add(h, "timeout", json_object_new_string(buf));
	add_u64(h, "rise", v->cfg.health.rise);
	add_u64(h, "fall", v->cfg.health.fall);
	json_object_object_add(o, "health", h);
	if (v->cfg.persist_ms) {
		xlb_format_duration_ms(v->cfg.persist_ms, buf, sizeof(buf));
		json_object_object_add(o, "persist", json_object_new_string(buf));
		add_u64(o, "persist_prefix_v4", v->cfg.persist_prefix4);
		add_u64(o, "persist_prefix_v6", v->cfg.persist_prefix6);
	}
	limits_show(d, v, o);
	add_u64(o, "backends", v->nbackends);
	add_u64(o, "up", up);
	add_active(o, flows_vip_active(d, lv));
	add_traffic(o, &ts);
	if (lv) {
		xlb_table_digest_format(lv->table_digest, buf, sizeof(buf));
		json_object_object_add(o, "table_digest", json_object_new_string(buf));
	}
	announce_json(d, v, o);
	return o;
}

struct json_object *cmd_vip_show(struct xlbd *d, struct json_object *req)
{
	struct json_object *reply, *arr;
	struct xlb_state_vip **sorted;
	struct vip_key key;
	char err[256];
	int has;
	__u32 i;

	has = get_vip_filter(d, req, &key, err, sizeof(err));
	if (has < 0)
		ERR_REPLY("%s", err);
	sorted = vips_sorted(d);
	if (!sorted)
		ERR_REPLY("out of memory");
	reply = xlb_proto_ok();
	arr = json_object_new_array();
	for (i = 0; i < d->state.nvips; i++)
		if (vip_selected(sorted[i], has, &key))
			json_object_array_add(arr, vip_json(d, sorted[i]));
	free(sorted);
	json_object_object_add(reply, "vips", arr);
	return reply;
}
