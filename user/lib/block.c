// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Source filters: the rules, and the data plane's tries made to hold them (block.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "block.h"

int xlb_block_prefix_parse(const char *s, struct xlb_prefix *p, char *err, size_t errlen)
{
	char addr[XLB_BLOCK_STR_MAX], canon[XLB_BLOCK_STR_MAX];
	const char *slash = strchr(s, '/');
	__be32 a[4];
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n >= sizeof(addr)) {
		snprintf(err, errlen, "bad address");
		return -EINVAL;
	}
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (xlb_parse_addr(addr, a, err, errlen) || xlb_parse_prefix(s, p, err, errlen))
		return -EINVAL;
	if (memcmp(a, p->addr, sizeof(a))) {
		xlb_block_prefix_format(p, canon, sizeof(canon));
		snprintf(err, errlen, "host bits set (%s?)", canon);
		return -EINVAL;
	}
	return 0;
}

void xlb_block_prefix_format(const struct xlb_prefix *p, char *buf, size_t len)
{
	char a[XLB_ADDR_STR_MAX];
	int v4 = xlb_addr_is_v4(p->addr);

	xlb_format_addr(p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, v4 ? p->len - 96u : p->len);
}

void xlb_blocklist_free(struct xlb_blocklist *l)
{
	free(l->rules);
	memset(l, 0, sizeof(*l));
}

static int grow(struct xlb_blocklist *l, __u32 want)
{
	struct xlb_block_rule *r;
	__u32 cap = l->cap ? l->cap : 16;

	if (want <= l->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	r = realloc(l->rules, (size_t)cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	l->rules = r;
	l->cap = cap;
	return 0;
}

int xlb_blocklist_copy(struct xlb_blocklist *dst, const struct xlb_blocklist *src)
{
	struct xlb_blocklist t = { .scope_all = src->scope_all };

	if (grow(&t, src->n))
		return -ENOMEM;
	if (src->n)
		memcpy(t.rules, src->rules, (size_t)src->n * sizeof(*t.rules));
	t.n = src->n;
	*dst = t;
	return 0;
}

int xlb_blocklist_append(struct xlb_blocklist *l, const struct xlb_block_rule *r)
{
	if (grow(l, l->n + 1))
		return -ENOMEM;
	l->rules[l->n++] = *r;
	return 0;
}

void xlb_blocklist_remove(struct xlb_blocklist *l, __u32 idx)
{
	memmove(&l->rules[idx], &l->rules[idx + 1], (size_t)(l->n - idx - 1) * sizeof(*l->rules));
	l->n--;
}

/* The order of rules by what makes them the same rule: prefix, list, scope. */
static int rule_cmp(const struct xlb_block_rule *a, const struct xlb_block_rule *b)
{
	int c = memcmp(a->pfx.addr, b->pfx.addr, sizeof(a->pfx.addr));

	if (c)
		return c;
	if (a->pfx.len != b->pfx.len)
		return a->pfx.len < b->pfx.len ? -1 : 1;
	if (a->allow != b->allow)
		return a->allow < b->allow ? -1 : 1;
	if (a->has_vip != b->has_vip)
		return a->has_vip < b->has_vip ? -1 : 1;
	return a->has_vip ? memcmp(&a->vip, &b->vip, sizeof(a->vip)) : 0;
}

int xlb_blocklist_find(const struct xlb_blocklist *l, const struct xlb_block_rule *r)
{
	__u32 i;

	for (i = 0; i < l->n; i++)
		if (!rule_cmp(&l->rules[i], r))
			return (int)i;
	return -1;
}

static const struct xlb_block_rule *sort_base;

static int idx_cmp(const void *x, const void *y)
{
	__u32 a = *(const __u32 *)x, b = *(const __u32 *)y;
	int c = rule_cmp(&sort_base[a], &sort_base[b]);

	return c ? c : (a > b) - (a < b); /* the first in file order first */
}

/* The indexes of l's rules in rule order (caller frees). */
static __u32 *sorted_index(const struct xlb_blocklist *l)
{
	__u32 *ix = malloc(((size_t)l->n + 1) * sizeof(*ix)), i;

	if (!ix)
		return NULL;
	for (i = 0; i < l->n; i++)
		ix[i] = i;
	sort_base = l->rules;
	qsort(ix, l->n, sizeof(*ix), idx_cmp);
	return ix;
}

int xlb_blocklist_find_dup(const struct xlb_blocklist *l, __u32 *dup, __u32 *first)
{
	__u32 *ix = sorted_index(l), i, best = 0;
	int found = 0;

	if (!ix)
		return -ENOMEM;
	/* the repeat that comes first in the file */
	for (i = 1; i < l->n; i++)
		if (!rule_cmp(&l->rules[ix[i - 1]], &l->rules[ix[i]]) &&
		    (!found || ix[i] < best)) {
			best = ix[i];
			*first = ix[i - 1];
			found = 1;
		}
	free(ix);
	if (found) {
		/* the first of that rule's copies */
		*dup = best;
		for (i = 0; i < best; i++)
			if (!rule_cmp(&l->rules[i], &l->rules[best])) {
				*first = i;
				break;
			}
	}
	return found;
}

int xlb_blocklist_minus(const struct xlb_blocklist *a, const struct xlb_blocklist *b,
			__u32 *out, __u32 *nout)
{
	__u32 *ia = sorted_index(a), *ib = sorted_index(b), i = 0, j = 0;
	int c;

	*nout = 0;
	if (!ia || !ib) {
		free(ia);
		free(ib);
		return -ENOMEM;
	}
	while (i < a->n) {
		c = j < b->n ? rule_cmp(&a->rules[ia[i]], &b->rules[ib[j]]) : -1;
		if (c < 0)
			out[(*nout)++] = ia[i++];
		else if (c > 0)
			j++;
		else
			i++;
	}
	free(ia);
	free(ib);
	return 0;
}

__u32 xlb_blocklist_prune(struct xlb_blocklist *l, int (*keep)(void *ctx, const struct vip_key *),
			  void *ctx)
{
	__u32 i, n = 0;

	for (i = 0; i < l->n; i++)
		if (!l->rules[i].has_vip || keep(ctx, &l->rules[i].vip))
			l->rules[n++] = l->rules[i];
	i = l->n - n;
	l->n = n;
	return i;
}

/* "PREFIX [vip VIP] [allow]": the text form of state.json, xlbctl's replies and reload's report. */
void xlb_block_rule_format(const struct xlb_block_rule *r, char *buf, size_t len)
{
	char p[XLB_BLOCK_STR_MAX], v[XLB_VIP_STR_MAX] = "";

	xlb_block_prefix_format(&r->pfx, p, sizeof(p));
	if (r->has_vip)
		xlb_format_vip(&r->vip, v, sizeof(v));
	snprintf(buf, len, "%s%s%s%s", p, r->has_vip ? " vip " : "", v, r->allow ? " allow" : "");
}

int xlb_block_rule_parse(const char *s, struct xlb_block_rule *r, char *err, size_t errlen)
{
	char buf[XLB_BLOCK_RULE_STR_MAX], *save = NULL, *w;

	memset(r, 0, sizeof(*r));
	r->id = XLB_BLOCK_NO_ID;
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "rule too long");
		return -EINVAL;
	}
	strcpy(buf, s);
	w = strtok_r(buf, " ", &save);
	if (!w || xlb_block_prefix_parse(w, &r->pfx, err, errlen))
		return w ? -EINVAL : (snprintf(err, errlen, "missing prefix"), -EINVAL);
	while ((w = strtok_r(NULL, " ", &save))) {
		if (!strcmp(w, "allow") && !r->allow) {
			r->allow = 1;
		} else if (!strcmp(w, "vip") && !r->has_vip) {
			w = strtok_r(NULL, " ", &save);
			if (!w || xlb_parse_vip(w, &r->vip, err, errlen))
				return w ? -EINVAL : (snprintf(err, errlen, "missing VIP"), -EINVAL);
			r->has_vip = 1;
		} else {
			snprintf(err, errlen, "unexpected '%.32s'", w);
			return -EINVAL;
		}
	}
	return 0;
}
