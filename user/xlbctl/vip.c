// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl vip add | set | del | show */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "names.h"
#include "syntax.h"
#include "xlbctl.h"

/* A health-check duration in [min_ms, XLB_CHECK_TIME_MAX_MS], as xlbd wants it. */
static int parse_duration(const char *keyword, const char *arg, __u64 min_ms, __u64 max_ms,
			  __u64 *ms)
{
	char err[128], lo[32], hi[32];

	if (xlb_parse_duration_ms(arg, ms, err, sizeof(err)))
		return usage_error("%s: %s", keyword, err);
	if (*ms < min_ms || *ms > max_ms) {
		xlb_format_duration_ms(min_ms, lo, sizeof(lo));
		xlb_format_duration_ms(max_ms, hi, sizeof(hi));
		return usage_error("%s: out of range (%s..%s)", keyword, lo, hi);
	}
	return 0;
}

/* The GET path goes into an HTTP request line as is. */
static int check_http_path(const char *path)
{
	if (path[0] != '/')
		return usage_error("invalid path '%s': must start with '/'", path);
	if (strlen(path) >= XLB_HTTP_PATH_MAX)
		return usage_error("invalid path '%s': longer than %d bytes", path,
				   XLB_HTTP_PATH_MAX - 1);
	if (xlb_has_space_or_ctl(path))
		return usage_error("invalid path '%s': spaces and control characters are not allowed",
				   path);
	return 0;
}

/* "http:80/healthz", "tcp:8080", "none" */
static char *check_cell(struct json_object *vip)
{
	struct json_object *health = member(vip, "health", json_type_object);
	struct json_object *kind, *port, *path, *via;
	char *text;
	int by_vip;

	if (!health || !(kind = member(health, "check", json_type_string)))
		return strdup("-");
	port = member(health, "port", json_type_int);
	path = member(health, "path", json_type_string);
	via = member(health, "via", json_type_string);
	by_vip = via && !strcmp(json_object_get_string(via), "vip");
	if (asprintf(&text, "%s%s%s%s%s", json_object_get_string(kind),
		     port ? ":" : "", port ? json_object_get_string(port) : "",
		     path ? json_object_get_string(path) : "", by_vip ? " via vip" : "") < 0)
		return NULL;
	return text;
}

/* "rr", or "rr persist 5m" */
static char *sched_cell(struct json_object *vip)
{
	struct json_object *persist = member(vip, "persist", json_type_string);
	char *text, *sched = cell(vip, "sched");

	if (!persist || !sched)
		return sched;
	if (asprintf(&text, "%s persist %s", sched, json_object_get_string(persist)) < 0)
		text = NULL;
	free(sched);
	return text;
}

/* "100/s burst 20, 10 conns per /32 /64" (the limits' own words), or "-" */
static char *limits_cell(struct json_object *vip)
{
	struct json_object *l = member(vip, "limits", json_type_object), *m;
	struct xlb_limits_cfg cfg;
	char buf[128];

	if (!l)
		return strdup("-");
	xlb_limits_default(&cfg);
	if (xlb_limits_from_json(l, &cfg))
		return strdup("?");
	xlb_limits_format(&cfg, buf, sizeof(buf));
	m = member(l, "dropped_rate", json_type_int);
	if (m) {
		size_t n = strlen(buf);

		snprintf(buf + n, sizeof(buf) - n, "; dropped %s rate",
			 json_object_get_string(m));
		m = member(l, "dropped_conns", json_type_int);
		n = strlen(buf);
		if (m)
			snprintf(buf + n, sizeof(buf) - n, " %s conns", json_object_get_string(m));
	}
	return strdup(buf);
}

/* Does any VIP of the reply have member key? Its column shows only then. */
static bool any_has(struct json_object *vips, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (json_object_object_get_ex(json_object_array_get_idx(vips, i), key, NULL))
			return true;
	return false;
}

static void print_vips(struct json_object *reply)
{
	/* TABLE: the Maglev table's digest; ANNOUNCED, WHY: with announce: only */
	static const char *const heads[] = {
		"VIP", "SCHED", "FORWARD", "CHECK", "BACKENDS", "UP", "ACTIVE", "PACKETS", "BYTES",
		"FLOWS", "TABLE", "ANNOUNCED", "WHY", "LIMITS",
	};
	static const char *const keys[] = { "table_digest", "announced", "announce_reason" };
	static const bool right[] = { 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
	struct json_object *vips = member(reply, "vips", json_type_array);
	size_t i, k, n = vips ? json_object_array_length(vips) : 0;
	bool show[3] = { any_has(vips, n, keys[0]), any_has(vips, n, keys[1]),
			 any_has(vips, n, keys[1]) };
	bool show_limits = any_has(vips, n, "limits");
	const char *h[TABLE_MAX_COLS];
	bool r[TABLE_MAX_COLS];
	struct table t = { .ncols = 10, .heads = h, .right = r };

	memcpy(h, heads, 10 * sizeof(*h));
	memcpy(r, right, 10 * sizeof(*r));
	for (k = 0; k < 3; k++)
		if (show[k]) {
			h[t.ncols] = heads[10 + k];
			r[t.ncols++] = false;
		}
	if (show_limits) {
		h[t.ncols] = heads[13];
		r[t.ncols++] = false;
	}
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(vips, i);
		char *row[TABLE_MAX_COLS] = {
			cell(v, "vip"), sched_cell(v), cell(v, "forward"), check_cell(v),
			cell(v, "backends"), cell(v, "up"), cell(v, "active_flows"),
			cell(v, "packets"), cell(v, "bytes"), cell(v, "flows"),
		};
		size_t c = 10;

		for (k = 0; k < 3; k++)
			if (show[k])
				row[c++] = cell(v, keys[k]);
		if (show_limits)
			row[c++] = limits_cell(v);
		table_add(&t, row);
	}
	table_flush(&t);
}

/* vip add VIP [sched S] [forward F] [check KIND [PATH]] [check-port P] ... */
enum vip_add_keyword {
	KW_SCHED, KW_FORWARD, KW_CHECK, KW_CHECK_PORT, KW_CHECK_VIA, KW_INTERVAL, KW_TIMEOUT,
	KW_RISE, KW_FALL, KW_MIN_UP, KW_PERSIST, KW_PERSIST_V4, KW_PERSIST_V6,
	KW_LIMIT_RATE, KW_LIMIT_BURST, KW_LIMIT_CONNS, KW_LIMIT_V4, KW_LIMIT_V6,
};

static const struct xlb_cli_word vip_add_words[] = {
	[KW_SCHED] = { .name = "sched" },
	[KW_FORWARD] = { .name = "forward" },
	[KW_CHECK] = { .name = "check" },
	[KW_CHECK_PORT] = { .name = "check-port" },
	[KW_CHECK_VIA] = { .name = "check-via" },
	[KW_INTERVAL] = { .name = "interval" },
	[KW_TIMEOUT] = { .name = "timeout" },
	[KW_RISE] = { .name = "rise" },
	[KW_FALL] = { .name = "fall" },
	[KW_MIN_UP] = { .name = "min-up" },
	[KW_PERSIST] = { .name = "persist" },
	[KW_PERSIST_V4] = { .name = "persist-prefix-v4" },
	[KW_PERSIST_V6] = { .name = "persist-prefix-v6" },
	[KW_LIMIT_RATE] = { .name = "limit-rate" },
	[KW_LIMIT_BURST] = { .name = "limit-burst" },
	[KW_LIMIT_CONNS] = { .name = "limit-conns" },
	[KW_LIMIT_V4] = { .name = "limit-prefix-v4" },
	[KW_LIMIT_V6] = { .name = "limit-prefix-v6" },
};

/* limit-*: members of the request's "limits" object (ranges: vip_limits.h, as for the file). */
static int limit_option(struct json_object *req, int kw, const char *name, const char *val)
{
	static const char *const member_of[] = { "new_flows_per_s", "burst", "max_conns",
						 "prefix_v4", "prefix_v6" };
	static const __u32 max[] = { XLB_LIMIT_RATE_MAX, XLB_LIMIT_BURST_MAX, XLB_LIMIT_CONNS_MAX,
				     32, 128 };
	struct json_object *l;
	int i = kw - KW_LIMIT_RATE, ret;
	__u32 n;

	ret = parse_number(name, val, 1, max[i], &n);
	if (ret)
		return ret;
	if (!json_object_object_get_ex(req, "limits", &l)) {
		l = json_object_new_object();
		json_object_object_add(req, "limits", l);
	}
	add_int(l, member_of[i], n);
	return 0;
}

static int vip_add_option(struct cmd *c, struct json_object *req, int kw,
			  const char *val, __u64 *interval, __u64 *timeout)
{
	const char *name = vip_add_words[kw].name, *path;
	char err[128], text[32];
	unsigned int kind;
	__u64 *ms, persist;
	__u32 n;
	__u8 u8;
	int ret;

	switch (kw) {
	case KW_SCHED:
		if (xlb_parse_sched(val, &u8, err, sizeof(err)))
			return usage_error("sched: %s", err);
		add_str(req, "sched", xlb_sched_name(u8));
		return 0;
	case KW_FORWARD:
		if (xlb_parse_forward(val, &u8, err, sizeof(err)))
			return usage_error("forward: %s", err);
		add_str(req, "forward", xlb_forward_name(u8));
		return 0;
	case KW_CHECK:
		if (xlb_value_of(xlb_check_names, val, &kind)) {
			xlb_names_list(xlb_check_names, " or ", err, sizeof(err));
			return usage_error("check: unknown kind '%s' (%s)", val, err);
		}
		add_str(req, "check", val);
		if (kind != XLB_CHECK_HTTP && kind != XLB_CHECK_HTTPS)
			return 0;
		path = next_arg(c);
		if (!path)
			return usage_error("'%s': missing path for 'check %s'", c->what, val);
		ret = check_http_path(path);
		if (ret)
			return ret;
		add_str(req, "path", path);
		return 0;
	case KW_CHECK_PORT:
		ret = parse_number(name, val, 1, 65535, &n);
		if (!ret)
			add_int(req, "check_port", n);
		return ret;
	case KW_CHECK_VIA:
		if (xlb_value_of(xlb_check_via_names, val, &kind))
			return usage_error("check-via: unknown value '%s' (backend or vip)", val);
		add_str(req, "check_via", val);
		return 0;
	case KW_INTERVAL:
	case KW_TIMEOUT:
		ms = kw == KW_INTERVAL ? interval : timeout;
		ret = parse_duration(name, val, kw == KW_INTERVAL ? XLB_INTERVAL_MIN_MS :
				     XLB_TIMEOUT_MIN_MS, XLB_CHECK_TIME_MAX_MS, ms);
		if (ret)
			return ret;
		xlb_format_duration_ms(*ms, text, sizeof(text));
		add_str(req, name, text);
		return 0;
	case KW_RISE:
	case KW_FALL:
		ret = parse_number(name, val, 1, XLB_RISE_FALL_MAX, &n);
		if (!ret)
			add_int(req, name, n);
		return ret;
	case KW_MIN_UP:
		ret = parse_number(name, val, 1, XLB_MIN_UP_MAX, &n);
		if (!ret)
			add_int(req, "min_up", n);
		return ret;
	case KW_PERSIST:
		if (!strcmp(c->what, "vip set") && !strcmp(val, "off")) {
			add_str(req, "persist", "off");
			return 0;
		}
		ret = parse_duration(name, val, XLB_PERSIST_MIN_MS, XLB_PERSIST_MAX_MS, &persist);
		if (!ret) {
			xlb_format_duration_ms(persist, text, sizeof(text));
			add_str(req, "persist", text);
		}
		return ret;
	case KW_PERSIST_V4:
	case KW_PERSIST_V6:
		ret = parse_number(name, val, 1, kw == KW_PERSIST_V4 ? 32 : 128, &n);
		if (!ret)
			add_int(req, kw == KW_PERSIST_V4 ? "persist_prefix_v4" : "persist_prefix_v6", n);
		return ret;
	case KW_LIMIT_RATE:
	case KW_LIMIT_BURST:
	case KW_LIMIT_CONNS:
	case KW_LIMIT_V4:
	case KW_LIMIT_V6:
		return limit_option(req, kw, name, val);
	}
	return usage_error("'%s': internal error: keyword %d", c->what, kw);
}

/* vip add, and vip set (the same words, over the VIP's settings: xlbd checks the result). */
static int vip_settings(struct cmd *c, int set)
{
	struct json_object *req = new_request(set ? "vip-set" : "vip-add"), *lim = NULL;
	__u64 interval = 0, timeout = 0;
	unsigned int seen = 0;
	const char *val;
	int kw, ret;

	ret = take_vip(c, req);
	while (!ret && (kw = next_keyword(c, vip_add_words, sizeof(vip_add_words) /
					  sizeof(vip_add_words[0]), &seen, &ret)) >= 0) {
		val = next_arg(c);
		if (!val) {
			ret = usage_error("'%s': missing %s value", c->what, vip_add_words[kw].name);
			break;
		}
		ret = vip_add_option(c, req, kw, val, &interval, &timeout);
	}
	if (set)
		return send_unless(ret, req, NULL);
	if (!ret && json_object_object_get_ex(req, "limits", &lim) &&
	    !json_object_object_get_ex(lim, "new_flows_per_s", NULL) &&
	    !json_object_object_get_ex(lim, "max_conns", NULL))
		ret = usage_error("'%s': limit-burst and limit-prefix-* need limit-rate or limit-conns",
				  c->what);
	else if (!ret && lim && json_object_object_get_ex(lim, "burst", NULL) &&
		 !json_object_object_get_ex(lim, "new_flows_per_s", NULL))
		ret = usage_error("'%s': limit-burst needs limit-rate", c->what);
	/* Only when both are given: the daemon knows the defaults. */
	if (!ret && interval && timeout && timeout >= interval)
		ret = usage_error("'%s': timeout must be shorter than interval", c->what);
	return send_unless(ret, req, NULL);
}

static int vip_add(struct cmd *c)
{
	return vip_settings(c, 0);
}

static int vip_set(struct cmd *c)
{
	return vip_settings(c, 1);
}

static int vip_del(struct cmd *c)
{
	struct json_object *req = new_request("vip-del");
	int ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = no_more_args(c);
	return send_unless(ret, req, NULL);
}

static int vip_show(struct cmd *c)
{
	return show(c, "vip-show", print_vips);
}

static const struct verb verbs[] = {
	{ { .name = "add" }, vip_add },
	{ { .name = "set" }, vip_set },
	{ { .name = "del", .alias = "delete", .full = true }, vip_del },
	{ { .name = "show", .alias = "s" }, vip_show },
	{ { .name = "help" }, object_help },
};

int do_vip(struct cmd *c)
{
	return run_verb(c, verbs, sizeof(verbs) / sizeof(verbs[0]), "show");
}
