// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl backend add | del | set | show */
#include <stdbool.h>
#include "config.h"
#include "xlbctl.h"

static void print_backends(struct json_object *reply)
{
	static const char *const heads[] = {
		"VIP", "ADDRESS", "WEIGHT", "STATE", "LAST-CHECK", "OK", "FAIL",
		"FLOWS", "PACKETS", "BYTES",
	};
	static const bool right[] = { 0, 0, 1, 0, 0, 1, 1, 1, 1, 1 };
	struct table t = { .ncols = 10, .heads = heads, .right = right };
	struct json_object *list = member(reply, "backends", json_type_array);
	size_t i, n = list ? json_object_array_length(list) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *b = json_object_array_get_idx(list, i);
		char *row[] = {
			cell(b, "vip"), cell(b, "address"), cell(b, "weight"),
			cell(b, "state"), cell(b, "last_check"), cell(b, "ok_streak"),
			cell(b, "fail_streak"), cell(b, "flows"), cell(b, "packets"),
			cell(b, "bytes"),
		};

		table_add(&t, row);
	}
	table_flush(&t);
}

static const struct xlb_cli_word backend_add_words[] = {
	{ .name = "weight" },
};

static int backend_add(struct cmd *c)
{
	struct json_object *req = new_request("backend-add");
	const char *arg, *val;
	bool have_weight = false;
	__u32 weight;
	int ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	while (!ret && (arg = next_arg(c))) {
		if (lookup_keyword(c, backend_add_words, 1, arg, &ret) < 0)
			break;
		if (have_weight) {
			ret = usage_error("'%s': duplicate keyword 'weight'", c->what);
			break;
		}
		have_weight = true;
		val = next_arg(c);
		if (!val) {
			ret = usage_error("'%s': missing weight value", c->what);
			break;
		}
		ret = parse_number("weight", val, XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &weight);
		if (!ret)
			add_int(req, "weight", weight);
	}
	return send_unless(ret, req, NULL);
}

static int backend_del(struct cmd *c)
{
	struct json_object *req = new_request("backend-del");
	int ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	if (!ret)
		ret = no_more_args(c);
	return send_unless(ret, req, NULL);
}

/* backend set VIP ADDR weight N | drain | undrain | disable | enable: one change. */
enum { SET_WEIGHT, SET_DRAIN, SET_UNDRAIN, SET_DISABLE, SET_ENABLE };

static const struct xlb_cli_word backend_set_words[] = {
	[SET_WEIGHT] = { .name = "weight" },
	[SET_DRAIN] = { .name = "drain" },
	[SET_UNDRAIN] = { .name = "undrain" },
	[SET_DISABLE] = { .name = "disable" },
	[SET_ENABLE] = { .name = "enable" },
};

static int backend_set(struct cmd *c)
{
	struct json_object *req = new_request("backend-set");
	const char *arg, *val;
	bool changed = false;
	__u32 weight;
	int op, ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	while (!ret && (arg = next_arg(c))) {
		op = lookup_keyword(c, backend_set_words,
				    sizeof(backend_set_words) / sizeof(backend_set_words[0]),
				    arg, &ret);
		if (op < 0)
			break;
		if (changed) {
			ret = usage_error("'%s': only one of weight, drain, undrain, disable, enable",
					  c->what);
			break;
		}
		changed = true;
		if (op != SET_WEIGHT) {
			add_str(req, "admin", backend_set_words[op].name);
			continue;
		}
		val = next_arg(c);
		if (!val) {
			ret = usage_error("'%s': missing weight value", c->what);
			break;
		}
		ret = parse_number("weight", val, XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &weight);
		if (!ret)
			add_int(req, "weight", weight);
	}
	if (!ret && !changed)
		ret = usage_error("'%s': nothing to set (weight N, drain, undrain, disable or enable)",
				  c->what);
	return send_unless(ret, req, NULL);
}

static int backend_show(struct cmd *c)
{
	return show(c, "backend-show", print_backends);
}

static const struct verb verbs[] = {
	{ { .name = "add" }, backend_add },
	{ { .name = "del", .alias = "delete" }, backend_del },
	{ { .name = "set" }, backend_set },
	{ { .name = "show", .alias = "s" }, backend_show },
	{ { .name = "help" }, object_help },
};

int do_backend(struct cmd *c)
{
	return run_verb(c, verbs, sizeof(verbs) / sizeof(verbs[0]), "show");
}
