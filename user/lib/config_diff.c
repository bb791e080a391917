// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What a reload would change, field by field (xlbctl reload dry-run). The
 * fields are state.json's (xlb_vip_cfg_to_json), so a field the daemon keeps
 * is a field the diff shows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "config_diff.h"
#include "config_write.h"
#include "syntax.h"

struct diff {
	struct json_object *out;
	int err;
};

static void line(struct diff *df, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(struct diff *df, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_object_array_add(df->out, json_object_new_string(buf)))
		df->err = -ENOMEM;
}

static const char *text(struct json_object *v)
{
	if (!v)
		return "(none)";
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/* Every field of a and b that differs, as "WHAT: key.sub: old -> new". */
static void diff_fields(struct diff *df, const char *what, const char *prefix,
			struct json_object *a, struct json_object *b)
{
	struct json_object_iterator it, end;
	struct json_object *o;
	int pass;

	/* a's keys, then those only b has */
	for (pass = 0; pass < 2; pass++) {
		struct json_object *from = pass ? b : a, *other = pass ? a : b;

		it = json_object_iter_begin(from);
		end = json_object_iter_end(from);
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
			const char *k = json_object_iter_peek_name(&it);
			struct json_object *va = pass ? NULL : json_object_iter_peek_value(&it), *vb;
			char path[256];

			if (pass && json_object_object_get_ex(other, k, &o))
				continue;
			if (pass) {
				vb = json_object_iter_peek_value(&it);
			} else {
				vb = json_object_object_get_ex(b, k, &o) ? o : NULL;
			}
			snprintf(path, sizeof(path), "%s%s", prefix, k);
			if (va && vb && json_object_is_type(va, json_type_object) &&
			    json_object_is_type(vb, json_type_object)) {
				char sub[260];

				snprintf(sub, sizeof(sub), "%s.", path);
				diff_fields(df, what, sub, va, vb);
				continue;
			}
			if (va && vb && !strcmp(text(va), text(vb)))
				continue;
			line(df, "%s: %s: %s -> %s", what, path, text(va), text(vb));
		}
	}
}

static int backend_cmp(const void *pa, const void *pb)
{
	return xlb_addr_cmp((*(const struct xlb_backend_cfg *const *)pa)->addr,
			    (*(const struct xlb_backend_cfg *const *)pb)->addr);
}

static const struct xlb_backend_cfg **sorted_backends(const struct xlb_backend_cfg *const *in,
						       const struct xlb_backend_cfg *arr, __u32 n)
{
	const struct xlb_backend_cfg **o = calloc(n + 1, sizeof(*o));
	__u32 i;

	if (!o)
		return NULL;
	for (i = 0; i < n; i++)
		o[i] = in ? in[i] : &arr[i];
	qsort(o, n, sizeof(*o), backend_cmp);
	return o;
}

static void backend_line(struct diff *df, char sign, const char *vip,
			 const struct xlb_backend_cfg *b)
{
	struct json_object *o = xlb_backend_cfg_to_json(b), *v;

	line(df, "%c %s: backend %s (weight %u, %s)", sign, vip,
	     json_object_object_get_ex(o, "address", &v) ? json_object_get_string(v) : "?",
	     b->weight, json_object_object_get_ex(o, "admin", &v) ? json_object_get_string(v) : "?");
	json_object_put(o);
}

/* One VIP in both: its settings, then its backends by address. */
static void diff_vip(struct diff *df, const struct xlb_vip_cfg *a,
		     const struct xlb_backend_cfg *const *abs, __u32 na,
		     const struct xlb_vip_cfg *b)
{
	const struct xlb_backend_cfg **as = sorted_backends(abs, NULL, na);
	const struct xlb_backend_cfg **bs = sorted_backends(NULL, b->backends, b->nbackends);
	struct json_object *ja = xlb_vip_cfg_to_json(a), *jb = xlb_vip_cfg_to_json(b);
	char vip[XLB_VIP_STR_MAX], what[XLB_VIP_STR_MAX + XLB_ADDR_STR_MAX + 16];
	__u32 i = 0, j = 0;

	xlb_format_vip(&a->key, vip, sizeof(vip));
	diff_fields(df, vip, "", ja, jb);
	json_object_put(ja);
	json_object_put(jb);
	if (!as || !bs) {
		df->err = -ENOMEM;
		goto out;
	}
	while (i < na || j < b->nbackends) {
		int r = i == na ? 1 : j == b->nbackends ? -1 : xlb_addr_cmp(as[i]->addr, bs[j]->addr);

		if (r < 0) {
			backend_line(df, '-', vip, as[i++]);
		} else if (r > 0) {
			backend_line(df, '+', vip, bs[j++]);
		} else {
			char addr[XLB_ADDR_STR_MAX];

			xlb_format_addr(as[i]->addr, addr, sizeof(addr));
			snprintf(what, sizeof(what), "%s: backend %s", vip, addr);
			ja = xlb_backend_cfg_to_json(as[i++]);
			jb = xlb_backend_cfg_to_json(bs[j++]);
			diff_fields(df, what, "", ja, jb);
			json_object_put(ja);
			json_object_put(jb);
		}
	}
out:
	free(as);
	free(bs);
}

static void vip_line(struct diff *df, char sign, const struct xlb_vip_cfg *c, __u32 nbackends)
{
	char vip[XLB_VIP_STR_MAX];

	xlb_format_vip(&c->key, vip, sizeof(vip));
	line(df, "%c %s (%u backend%s)", sign, vip, nbackends, nbackends == 1 ? "" : "s");
}

static int state_vip_cmp(const void *pa, const void *pb)
{
	return xlb_vip_key_cmp(&(*(const struct xlb_state_vip *const *)pa)->cfg.key,
			       &(*(const struct xlb_state_vip *const *)pb)->cfg.key);
}

static int cfg_vip_cmp(const void *pa, const void *pb)
{
	return xlb_vip_key_cmp(&(*(const struct xlb_vip_cfg *const *)pa)->key,
			       &(*(const struct xlb_vip_cfg *const *)pb)->key);
}

static void diff_vips(struct diff *df, const struct xlb_state *run, const struct xlb_config *want)
{
	const struct xlb_state_vip **rs = calloc(run->nvips + 1, sizeof(*rs));
	const struct xlb_vip_cfg **ws = calloc(want->nvips + 1, sizeof(*ws));
	__u32 i = 0, j = 0, k;

	if (!rs || !ws) {
		df->err = -ENOMEM;
		goto out;
	}
	for (k = 0; k < run->nvips; k++)
		rs[k] = &run->vips[k];
	for (k = 0; k < want->nvips; k++)
		ws[k] = &want->vips[k];
	qsort(rs, run->nvips, sizeof(*rs), state_vip_cmp);
	qsort(ws, want->nvips, sizeof(*ws), cfg_vip_cmp);
	while (i < run->nvips || j < want->nvips) {
		int r = i == run->nvips ? 1 : j == want->nvips ? -1 :
			xlb_vip_key_cmp(&rs[i]->cfg.key, &ws[j]->key);

		if (r < 0) {
			vip_line(df, '-', &rs[i]->cfg, rs[i]->nbackends);
			i++;
		} else if (r > 0) {
			vip_line(df, '+', ws[j], ws[j]->nbackends);
			j++;
		} else {
			const struct xlb_backend_cfg **bs = calloc(rs[i]->nbackends + 1, sizeof(*bs));

			if (!bs) {
				df->err = -ENOMEM;
				break;
			}
			for (k = 0; k < rs[i]->nbackends; k++)
				bs[k] = &rs[i]->backends[k].cfg;
			diff_vip(df, &rs[i]->cfg, bs, rs[i]->nbackends, ws[j]);
			free(bs);
			i++;
			j++;
		}
	}
out:
	free(rs);
	free(ws);
}

/* Rules in a that b lacks, as "SIGN blocklist RULE" (allow rules say so): O(n log n). */
static void rules_missing(struct diff *df, char sign, const struct xlb_blocklist *a,
			  const struct xlb_blocklist *b)
{
	char buf[XLB_BLOCK_RULE_STR_MAX];
	__u32 *idx = calloc(a->n + 1, sizeof(*idx)), n = 0, i;

	if (!idx || xlb_blocklist_minus(a, b, idx, &n)) {
		df->err = -ENOMEM;
		free(idx);
		return;
	}
	for (i = 0; i < n; i++) {
		xlb_block_rule_format(&a->rules[idx[i]], buf, sizeof(buf));
		line(df, "%c blocklist %s", sign, buf);
	}
	free(idx);
}

static void diff_encap(struct diff *df, const char *key, const struct encap_source *a,
		       const struct encap_source *b)
{
	char fa[XLB_ADDR_STR_MAX + 32] = "(none)", fb[XLB_ADDR_STR_MAX + 32] = "(none)";

	if (a->flags & XLB_ENCAP_F_SET)
		xlb_format_encap_source(a, fa, sizeof(fa));
	if (b->flags & XLB_ENCAP_F_SET)
		xlb_format_encap_source(b, fb, sizeof(fb));
	if (strcmp(fa, fb))
		line(df, "encap_source.%s: %s -> %s", key, fa, fb);
}

int xlb_config_diff(const struct xlb_state *run, const struct encap_config *run_encap,
		    const struct xlb_config *want, struct json_object *out)
{
	struct diff df = { .out = out };

	diff_encap(&df, "ipv4", &run_encap->v4, &want->encap.v4);
	diff_encap(&df, "ipv6", &run_encap->v6, &want->encap.v6);
	if (run->block.scope_all != want->block.scope_all)
		line(&df, "blocklist.scope: %s -> %s", run->block.scope_all ? "all" : "vips",
		     want->block.scope_all ? "all" : "vips");
	rules_missing(&df, '-', &run->block, &want->block);
	rules_missing(&df, '+', &want->block, &run->block);
	diff_vips(&df, run, want);
	return df.err;
}
