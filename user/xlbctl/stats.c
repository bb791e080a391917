// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl stats [VIP]: every counter, once. */
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
	struct json_object *global = member(reply, "global", json_type_object);
	struct json_object *vips = member(reply, "vips", json_type_array);
	struct json_object *bes = member(reply, "backends", json_type_array);
	size_t i, n;

	if (global) {
		json_object_object_foreach(global, key, val) {
			char *row[] = { strdup(key), strdup(json_object_get_string(val)) };

			table_add(&g, row);
		}
		table_flush(&g);
	}
	n = vips ? json_object_array_length(vips) : 0;
	if (n)
		putchar('\n');
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(vips, i);
		char *row[] = { cell(e, "vip"), cell(e, "packets"), cell(e, "bytes"), cell(e, "flows") };

		table_add(&v, row);
	}
	table_flush(&v);
	n = bes ? json_object_array_length(bes) : 0;
	if (n)
		putchar('\n');
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(bes, i);
		char *row[] = { cell(e, "vip"), cell(e, "address"), cell(e, "state"),
				cell(e, "packets"), cell(e, "bytes"), cell(e, "flows") };

		table_add(&b, row);
	}
	table_flush(&b);
}

int do_stats(struct cmd *c)
{
	return show(c, "stats", print_stats);
}
