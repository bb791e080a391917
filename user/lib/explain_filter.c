// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Explain's side of the source filters and per-client limits: test for
 * test as bpf/filter.h filter_source() and bpf/limits.h limit_new_flow().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "../../bpf/hash.h"
#include "explain_int.h"
#include "syntax.h"

static int lookup(int fd, const void *key, void *value)
{
	if (!bpf_map_lookup_elem(fd, key, value))
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

static int family_of(const struct xlb_explain *e)
{
	return xlb_addr_is_v4(e->flow.daddr) ? 4 : 6;
}

/* rule_ask(): the list's longest match in one scope, if longer than *best. */
static int rule_ask(struct xlb_dp *dp, const struct xlb_explain *e, __u32 kind, __u32 scope,
		    struct block_rule *best, int *found, int *global)
{
	struct block_rule r;
	int err;

	if (family_of(e) == 4) {
		struct block4_key k = { .prefixlen = XLB_BLOCK_TAG_BITS + 32,
					.tag = htonl(XLB_BLOCK_TAG(kind, scope)),
					.addr = e->flow.saddr[3] };

		err = lookup(dp->block4_fd, &k, &r);
	} else {
		struct block6_key k = { .prefixlen = XLB_BLOCK_TAG_BITS + 128,
					.tag = htonl(XLB_BLOCK_TAG(kind, scope)) };

		memcpy(k.addr, e->flow.saddr, sizeof(k.addr));
		err = lookup(dp->block6_fd, &k, &r);
	}
	if (err > 0 && (!*found || r.len > best->len)) {
		*best = r;
		*found = 1;
		*global = scope == XLB_BLOCK_GLOBAL;
	}
	return err < 0 ? err : 0;
}

static int list_match(struct xlb_dp *dp, struct xlb_explain *e, __u32 kind, __u32 gflags,
		      __u32 vflags, __u32 vid, int *found)
{
	int v4 = family_of(e) == 4, err = 0;
	__u32 bit = v4 ? (kind == XLB_BLOCK_ALLOW ? XLB_FILTER_ALLOW4 : XLB_FILTER_DROP4) :
			 (kind == XLB_BLOCK_ALLOW ? XLB_FILTER_ALLOW6 : XLB_FILTER_DROP6);

	*found = 0;
	if (gflags & bit)
		err = rule_ask(dp, e, kind, XLB_BLOCK_GLOBAL, &e->filter.rule, found,
			       &e->filter.rule_global);
	if (!err && (vflags & bit))
		err = rule_ask(dp, e, kind, vid, &e->filter.rule, found, &e->filter.rule_global);
	return err;
}

int xlb_explain_filter(struct xlb_dp *dp, struct xlb_explain *e)
{
	struct filter_config cfg = {};
	__u32 zero = 0, vflags = 0, vid = 0;
	int err, found;

	/* the VIP's limits, which limit_new_flow() reads itself */
	if (e->vip_found) {
		vid = e->vip.id;
		err = lookup(dp->vip_filter_fd, &vid, &e->filter.vf);
		if (err < 0)
			return err;
	}
	err = lookup(dp->filter_config_fd, &zero, &cfg);
	if (err <= 0 || !cfg.flags)
		return err < 0 ? err : 0;
	if (!e->vip_addr && !(cfg.flags & XLB_FILTER_SCOPE_ALL))
		return 0; /* the lists are for VIP addresses' traffic */
	if ((cfg.flags & XLB_FILTER_VIP_RULES) && e->vip_found)
		vflags = e->filter.vf.flags;
	err = list_match(dp, e, XLB_BLOCK_ALLOW, cfg.flags, vflags, vid, &found);
	if (err || found) {
		e->filter.allowed = found;
		return err;
	}
	err = list_match(dp, e, XLB_BLOCK_DROP, cfg.flags, vflags, vid, &found);
	e->filter.blocked = found;
	return err;
}

int xlb_explain_limits(struct xlb_dp *dp, struct xlb_explain *e, __u64 now_ns)
{
	struct xlb_explain_filter *f = &e->filter;
	__u64 cost, depth, tat;
	__s64 base = 0;
	int err;

	if (f->allowed || !(f->vf.flags & XLB_FILTER_LIMITS))
		return 0;
	f->limited = 1;
	memset(&f->key, 0, sizeof(f->key));
	f->key.vip_id = e->vip.id;
	xlb_addr_mask(e->flow.saddr, family_of(e) == 4 ? 96 + f->vf.prefix_v4 : f->vf.prefix_v6,
		      f->key.addr);
	err = lookup(dp->limit_state_fd, &f->key, &f->state);
	if (err < 0)
		return err;
	f->has_state = err;
	err = lookup(dp->limit_base_fd, &f->key, &base);
	if (err < 0)
		return err;
	f->live = base + (f->has_state ? (__s64)(f->state.opened - f->state.closed) : 0);
	if (f->vf.max_conns && f->live >= (__s64)f->vf.max_conns) {
		f->drop = XLB_STAT_DROP_LIMIT_CONNS;
		return 0;
	}
	if (!f->vf.new_flows_per_s)
		return 0;
	cost = 1000000000ULL / f->vf.new_flows_per_s;
	depth = cost * f->vf.burst;
	tat = f->has_state && f->state.tat_ns > now_ns ? f->state.tat_ns : now_ns;
	if (tat - now_ns > depth) /* limit_take(): a bucket of an older setting */
		tat = now_ns + depth;
	/* limit_take(): a token while tat + cost - now <= depth */
	f->tokens = tat - now_ns + cost > depth ? 0 : (depth - (tat - now_ns)) / cost;
	if (f->has_state && tat + cost - now_ns > depth)
		f->drop = XLB_STAT_DROP_LIMIT_RATE;
	return 0;
}

void xlb_explain_filter_text(const struct xlb_explain *e, char *buf, size_t len)
{
	const struct xlb_explain_filter *f = &e->filter;
	char addr[XLB_ADDR_STR_MAX], rule[XLB_ADDR_STR_MAX + 40] = "", lim[160] = "";
	__be32 masked[4];
	int v4 = family_of(e) == 4;

	if (f->allowed || f->blocked) {
		xlb_addr_mask(e->flow.saddr, (v4 ? 96 : 0) + f->rule.len, masked);
		xlb_format_addr(masked, addr, sizeof(addr));
		snprintf(rule, sizeof(rule), "; source %s by %s/%u (%s)",
			 f->allowed ? "allowed" : "blocked", addr, f->rule.len,
			 f->rule_global ? "global" : "the VIP's");
	}
	if (f->limited) {
		xlb_format_addr(f->key.addr, addr, sizeof(addr));
		snprintf(lim, sizeof(lim), "; limits of %s/%u: %lld live%s%u, %llu new flows left "
			 "(%u/s, burst %u)%s",
			 addr, v4 ? f->vf.prefix_v4 : f->vf.prefix_v6, (long long)f->live,
			 f->vf.max_conns ? " of max " : " (no max)", f->vf.max_conns,
			 (unsigned long long)f->tokens, f->vf.new_flows_per_s, f->vf.burst,
			 f->drop == XLB_STAT_DROP_LIMIT_CONNS ? ": at the cap, refused" :
			 f->drop == XLB_STAT_DROP_LIMIT_RATE ? ": over the rate, refused" : "");
	}
	snprintf(buf, len, "%s%s", rule, lim);
}

struct json_object *xlb_explain_filter_json(const struct xlb_explain *e)
{
	const struct xlb_explain_filter *f = &e->filter;
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "allowed", json_object_new_boolean(f->allowed));
	json_object_object_add(o, "blocked", json_object_new_boolean(f->blocked));
	if (f->allowed || f->blocked) {
		json_object_object_add(o, "rule_len", json_object_new_int((int)f->rule.len));
		json_object_object_add(o, "rule_global", json_object_new_boolean(f->rule_global));
	}
	if (f->limited) {
		json_object_object_add(o, "live", json_object_new_int64(f->live));
		json_object_object_add(o, "max_conns", json_object_new_int64(f->vf.max_conns));
		json_object_object_add(o, "tokens", json_object_new_int64((int64_t)f->tokens));
		json_object_object_add(o, "new_flows_per_s",
				       json_object_new_int64(f->vf.new_flows_per_s));
		json_object_object_add(o, "burst", json_object_new_int64(f->vf.burst));
		json_object_object_add(o, "refused", json_object_new_boolean(f->drop != 0));
	}
	return o;
}
