// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl lb show | withdraw | announce: the whole host in or out of service */
#include <stdio.h>
#include <stdlib.h>
#include "xlbctl.h"

static void print_lb(struct json_object *reply)
{
	struct json_object *on = member(reply, "announce", json_type_boolean);
	struct json_object *out = member(reply, "withdrawn", json_type_boolean);
	char *table, *proto, *routes, *changes;

	if (!on || !json_object_get_boolean(on)) {
		puts("announce: off (no announce: in the config file)");
		return;
	}
	table = cell(reply, "table");
	proto = cell(reply, "protocol");
	routes = cell(reply, "routes");
	changes = cell(reply, "changes");
	printf("announce: routing table %s, protocol %s\n", table, proto);
	printf("host: %s\n", out && json_object_get_boolean(out) ?
	       "withdrawn (xlbctl lb announce puts it back)" : "announcing");
	printf("routes: %s\nchanges: %s\n", routes, changes);
	free(table);
	free(proto);
	free(routes);
	free(changes);
}

static int lb_request(struct cmd *c, const char *cmd, void (*print_human)(struct json_object *))
{
	int ret = no_more_args(c);

	return send_unless(ret, new_request(cmd), print_human);
}

static int lb_show(struct cmd *c)
{
	return lb_request(c, "lb-show", print_lb);
}

static int lb_withdraw(struct cmd *c)
{
	return lb_request(c, "lb-withdraw", NULL);
}

static int lb_announce(struct cmd *c)
{
	return lb_request(c, "lb-announce", NULL);
}

static const struct verb verbs[] = {
	{ { .name = "show", .alias = "s" }, lb_show },
	{ { .name = "withdraw", .full = true }, lb_withdraw },
	{ { .name = "announce" }, lb_announce },
	{ { .name = "help" }, object_help },
};

int do_lb(struct cmd *c)
{
	return run_verb(c, verbs, sizeof(verbs) / sizeof(verbs[0]), "show");
}
