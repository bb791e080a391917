// SPDX-License-Identifier: GPL-2.0
/*
 * blocklist: in the config file, global and per VIP (README, "Under
 * attack"). Linear in the number of prefixes: 100,000 of them are read in
 * a fraction of a second (duplicates are found by sorting, lines are only
 * looked up for a message).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config_int.h"
#include "syntax.h"

/* One list (allow or not) of prefix's strings into cfg->block. */
static int conv_list(struct cfg_ctx *c, const char *prefix, const char *key, char **items,
		     unsigned int n, int allow, const struct vip_key *vip, struct xlb_config *cfg)
{
	struct xlb_block_rule r = { .allow = allow, .id = XLB_BLOCK_NO_ID };
	struct xlb_blocklist view;
	char p[PATH_MAX_LEN], why[XLB_ERR_MAX], text[XLB_BLOCK_RULE_STR_MAX], q[XLB_QUOTE_MAX];
	__u32 i, start = cfg->block.n, dup, first;
	int ret;

	if (vip) {
		r.vip = *vip;
		r.has_vip = 1;
	}
	if (n > XLB_BLOCK_RULES_MAX - cfg->block.n) {
		snprintf(p, sizeof(p), "%s.%s[%u]", prefix, key, XLB_BLOCK_RULES_MAX - cfg->block.n);
		return cfg_err(c, p, NULL, "too many blocklist and allowlist prefixes in all (max %d)",
			       XLB_BLOCK_RULES_MAX);
	}
	for (i = 0; i < n; i++) {
		if (xlb_block_prefix_parse(items[i], &r.pfx, why, sizeof(why))) {
			snprintf(p, sizeof(p), "%s.%s[%u]", prefix, key, i);
			return cfg_err(c, p, NULL, "%s '%s'", why, xlb_quote(items[i], q, sizeof(q)));
		}
		if (xlb_blocklist_append(&cfg->block, &r)) {
			snprintf(c->err, c->errlen, "%s: out of memory", c->name);
			return -ENOMEM;
		}
	}
	/* one list of one scope: the only place a rule can repeat */
	view = (struct xlb_blocklist){ .rules = cfg->block.rules + start, .n = n };
	ret = xlb_blocklist_find_dup(&view, &dup, &first);
	if (ret < 0) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
		return ret;
	}
	if (!ret)
		return 0;
	xlb_block_prefix_format(&view.rules[dup].pfx, text, sizeof(text));
	snprintf(p, sizeof(p), "%s.%s[%u]", prefix, key, first);
	ret = cfg_path_line(c->doc, p);
	snprintf(p, sizeof(p), "%s.%s[%u]", prefix, key, dup);
	return cfg_err(c, p, NULL, "duplicate prefix %s (first at line %d)", text, ret);
}

int cfg_conv_blocklist(struct cfg_ctx *c, const char *prefix, const struct y_blocklist *y,
		       const struct vip_key *vip, struct xlb_config *cfg)
{
	char q[XLB_QUOTE_MAX];
	int err;

	if (!y)
		return 0;
	if (y->scope) {
		if (vip)
			return cfg_err(c, prefix, "scope", "is the global blocklist's only");
		if (!strcmp(y->scope, "all"))
			cfg->block.scope_all = 1;
		else if (strcmp(y->scope, "vips"))
			return cfg_err(c, prefix, "scope", "bad scope (vips or all) '%s'",
				       xlb_quote(y->scope, q, sizeof(q)));
	}
	err = conv_list(c, prefix, "block", y->block, y->block_count, 0, vip, cfg);
	return err ?: conv_list(c, prefix, "allow", y->allow, y->allow_count, 1, vip, cfg);
}
