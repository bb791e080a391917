// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The blocklist in state.json: one string a rule, the text xlbctl shows (block.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "state_block.h"

static int has_vip(const struct xlb_state *s, const struct vip_key *key)
{
	__u32 i;

	for (i = 0; i < s->nvips; i++)
		if (!memcmp(&s->vips[i].cfg.key, key, sizeof(*key)))
			return 1;
	return 0;
}

struct json_object *xlb_state_block_to_json(const struct xlb_state *s)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	char text[XLB_BLOCK_RULE_STR_MAX];
	__u32 i;

	json_object_object_add(o, "scope", json_object_new_string(s->block.scope_all ? "all" :
										      "vips"));
	for (i = 0; i < s->block.n; i++) {
		/* a view without a VIP (save_state_without) is without its rules too */
		if (s->block.rules[i].has_vip && !has_vip(s, &s->block.rules[i].vip))
			continue;
		xlb_block_rule_format(&s->block.rules[i], text, sizeof(text));
		json_object_array_add(arr, json_object_new_string(text));
	}
	json_object_object_add(o, "rules", arr);
	return o;
}

static int fail(char *err, size_t errlen, const char *path, const char *where, const char *why)
{
	snprintf(err, errlen, "%s: %s: %s; fix or remove the file", path, where, why);
	return -EINVAL;
}

int xlb_state_block_from_json(struct json_object *root, struct xlb_config *cfg, const char *path,
			      char *err, size_t errlen)
{
	struct json_object *o, *arr, *scope, *item;
	char where[64], why[XLB_ERR_MAX], text[XLB_BLOCK_RULE_STR_MAX];
	struct xlb_block_rule r;
	__u32 i, n, dup, first;
	int ret;

	/* absent in files saved before the blocklist existed: none */
	if (!json_object_object_get_ex(root, "blocklist", &o))
		return 0;
	if (!json_object_object_get_ex(o, "scope", &scope) ||
	    !json_object_is_type(scope, json_type_string) ||
	    (strcmp(json_object_get_string(scope), "vips") &&
	     strcmp(json_object_get_string(scope), "all")))
		return fail(err, errlen, path, "blocklist.scope", "not vips or all");
	cfg->block.scope_all = !strcmp(json_object_get_string(scope), "all");
	if (!json_object_object_get_ex(o, "rules", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return fail(err, errlen, path, "blocklist.rules", "not a list");
	n = json_object_array_length(arr);
	if (n > XLB_BLOCK_RULES_MAX) {
		snprintf(why, sizeof(why), "too many rules (%u, max %d)", n, XLB_BLOCK_RULES_MAX);
		return fail(err, errlen, path, "blocklist.rules", why);
	}
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(arr, i);
		snprintf(where, sizeof(where), "blocklist.rules[%u]", i);
		if (!json_object_is_type(item, json_type_string))
			return fail(err, errlen, path, where, "not a string");
		if (xlb_block_rule_parse(json_object_get_string(item), &r, why, sizeof(why)))
			return fail(err, errlen, path, where, why);
		if (r.has_vip && !xlb_config_find_vip(cfg, &r.vip))
			return fail(err, errlen, path, where, "no such VIP");
		if (xlb_blocklist_append(&cfg->block, &r))
			return -ENOMEM;
	}
	ret = xlb_blocklist_find_dup(&cfg->block, &dup, &first);
	if (ret <= 0)
		return ret;
	xlb_block_rule_format(&cfg->block.rules[dup], text, sizeof(text));
	snprintf(where, sizeof(where), "blocklist.rules[%u]", dup);
	snprintf(why, sizeof(why), "duplicate rule %s (first at rules[%u])", text, first);
	return fail(err, errlen, path, where, why);
}
