// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl backend add | del | set | show */
#include <stdbool.h>
#include "config.h"
#include "xlbctl.h"

static void print_backends(struct json_object *reply)
{
	static const char *const heads[] = {
		"VIP", "ADDRESS", "WEIGHT", "STATE", "LAST-CHECK", "OK", "FAIL",
		"ACTIVE", "FLOWS", "PACKETS", "BYTES",
	};
	static const bool right[] = { 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1 };
	/* ACTIVE: live flows now; FLOWS: flows entered into the table so far */
	static const char *const keys[] = {
		"vip", "address", "weight", "state", "last_check", "ok_streak", "fail_streak",
		"active_flows", "flows", "packets", "bytes",
	};
	struct table t = { .ncols = 11, .heads = heads, .right = right };

	table_add_list(&t, member(reply, "backends", json_type_array), keys);
	table_flush(&t);
}

static const struct xlb_cli_word backend_add_words[] = {
	{ .name = "weight" },
};

/* The N of "weight N". */
static int take_weight(struct cmd *c, struct json_object *req)
{
	const char *val = next_arg(c);
	__u32 weight;
	int ret;

	if (!val)
		return usage_error("'%s': missing weight value", c->what);
	ret = parse_number("weight", val, XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &weight);
	if (!ret)
		add_int(req, "weight", weight);
	return ret;
}

static int backend_add(struct cmd *c)
{
	struct json_object *req = new_request("backend-add");
	unsigned int seen = 0;
	int ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	while (!ret && next_keyword(c, backend_add_words, 1, &seen, &ret) >= 0)
		ret = take_weight(c, req);
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
	bool changed = false;
	int op, ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	while (!ret && (op = next_keyword(c, backend_set_words, sizeof(backend_set_words) /
					  sizeof(backend_set_words[0]), NULL, &ret)) >= 0) {
		if (changed) {
			ret = usage_error("'%s': only one of weight, drain, undrain, disable, enable",
					  c->what);
			break;
		}
		changed = true;
		if (op == SET_WEIGHT)
			ret = take_weight(c, req);
		else
			add_str(req, "admin", backend_set_words[op].name);
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
