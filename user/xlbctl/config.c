// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl config dump: the desired state as YAML that xlbd -c loads. */
#include <stdio.h>
#include "xlbctl.h"

static void print_yaml(struct json_object *reply)
{
	struct json_object *y = member(reply, "yaml", json_type_string);

	if (y)
		fputs(json_object_get_string(y), stdout);
}

static int config_dump(struct cmd *c)
{
	int ret = no_more_args(c);

	return send_unless(ret, new_request("config-dump"), print_yaml);
}

static const struct verb verbs[] = {
	{ { .name = "dump" }, config_dump },
	{ { .name = "help" }, object_help },
};

int do_config(struct cmd *c)
{
	return run_verb(c, verbs, sizeof(verbs) / sizeof(verbs[0]), "dump");
}
