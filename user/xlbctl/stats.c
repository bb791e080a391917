// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl stats [-z] [VIP]: every counter, once (since the last -z). */
#include <stdio.h>
#include <string.h>
#include "xlbctl.h"

/* Global counters by reason, then traffic per VIP and per backend. */
static void print_stats(struct json_object *reply)
{
	static const char *const gheads[] = { "COUNTER", "VALUE" };
	static const bool gright[] = { 0, 1 };
	static const char *const vheads[] = { "VIP", "PACKETS", "BYTES", "FLOWS" };
	static const bool vright[] = { 0, 1, 1, 1 };
	static const char *const bheads[] = { "VIP", "BACKEND", "STATE", "PACKETS", "BYTES", "FLOWS" };
	static const bool bright[] = { 0, 0, 0, 1, 1, 1 };
	struct table g = { .ncols = 2, .heads = gheads, .right = gright };
	struct table v = { .ncols = 4, .heads = vheads, .right = vright };
	struct table b = { .ncols = 6, .heads = bheads, .right = bright };
	static const char *const vkeys[] = { "vip", "packets", "bytes", "flows" };
	static const char *const bkeys[] = { "vip", "address", "state", "packets", "bytes", "flows" };
	struct json_object *global = member(reply, "global", json_type_object);

	if (global) {
		json_object_object_foreach(global, key, val) {
			char *row[] = { strdup(key), strdup(json_object_get_string(val)) };

			table_add(&g, row);
		}
		table_flush(&g);
	}
	/* A blank line before each table that has rows. */
	table_add_list(&v, member(reply, "vips", json_type_array), vkeys);
	if (v.rows)
		putchar('\n');
	table_flush(&v);
	table_add_list(&b, member(reply, "backends", json_type_array), bkeys);
	if (b.rows)
		putchar('\n');
	table_flush(&b);
}

/* stats [-z] [VIP]: -z shows the counters, then xlbd counts from zero again for stats. */
int do_stats(struct cmd *c)
{
	struct json_object *req = new_request("stats");
	const char *vip = NULL, *arg;
	int ret = 0;

	while (!ret && (arg = next_arg(c))) {
		if (!strcmp(arg, "-z") || !strcmp(arg, "--zero"))
			json_object_object_add(req, "zero", json_object_new_boolean(1));
		else if (!vip)
			vip = arg;
		else
			ret = usage_error("'%s': unexpected argument '%s'", c->what, arg);
	}
	if (!ret && vip) {
		char *one[] = { (char *)vip };
		struct cmd v = { .obj = c->obj, .argc = 1, .argv = one };

		memcpy(v.what, c->what, sizeof(v.what));
		ret = take_vip(&v, req);
	}
	return send_unless(ret, req, print_stats);
}
