// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl block add | del | show: the source blocklist and allowlist (README, "Under attack") */
#include <stdio.h>
#include <stdlib.h>
#include "block.h"
#include "syntax.h"
#include "xlbctl.h"

static void print_rules(struct json_object *reply)
{
	static const char *const heads[] = { "PREFIX", "VIP", "LIST", "HITS" };
	static const char *const keys[] = { "prefix", "vip", "list", "hits" };
	static const bool right[] = { 0, 0, 0, 1 };
	struct table t = { .ncols = 4, .heads = heads, .right = right };
	struct json_object *scope = member(reply, "scope", json_type_string);

	printf("scope: %s\n", scope ? json_object_get_string(scope) : "-");
	table_add_list(&t, member(reply, "rules", json_type_array), keys);
	table_flush(&t);
}

/* PREFIX [vip VIP] [allow], into req */
static int take_rule(struct cmd *c, struct json_object *req)
{
	static const struct xlb_cli_word words[] = { { .name = "vip" }, { .name = "allow" } };
	const char *arg = next_arg(c);
	char err[128], text[XLB_BLOCK_STR_MAX];
	struct xlb_prefix p;
	unsigned int seen = 0;
	int kw, ret = 0;

	if (!arg)
		return usage_error("missing prefix");
	if (xlb_block_prefix_parse(arg, &p, err, sizeof(err)))
		return usage_error("invalid prefix '%s': %s", arg, err);
	xlb_block_prefix_format(&p, text, sizeof(text));
	add_str(req, "prefix", text);
	while ((kw = next_keyword(c, words, 2, &seen, &ret)) >= 0) {
		if (kw == 0 && (ret = take_vip(c, req)))
			return ret;
		if (kw == 1)
			json_object_object_add(req, "allow", json_object_new_boolean(1));
	}
	return ret;
}

static int block_change(struct cmd *c, const char *cmd)
{
	struct json_object *req = new_request(cmd);

	return send_unless(take_rule(c, req), req, NULL);
}

static int block_add(struct cmd *c)
{
	return block_change(c, "block-add");
}

static int block_del(struct cmd *c)
{
	return block_change(c, "block-del");
}

static int block_show(struct cmd *c)
{
	return show(c, "block-show", print_rules);
}

static const struct verb verbs[] = {
	{ { .name = "add" }, block_add },
	{ { .name = "del", .alias = "delete", .full = true }, block_del },
	{ { .name = "show", .alias = "s" }, block_show },
	{ { .name = "help" }, object_help },
};

int do_block(struct cmd *c)
{
	return run_verb(c, verbs, sizeof(verbs) / sizeof(verbs[0]), "show");
}
