// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-client limits: settings, the data plane's maps, the walk's correction (vip_limits.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include "../../bpf/hash.h"
#include "vip_limits.h"
#include "plural.h"
#include "syntax.h"

void xlb_limits_default(struct xlb_limits_cfg *l)
{
	memset(l, 0, sizeof(*l));
	l->prefix4 = XLB_LIMIT_PREFIX4_DEFAULT;
	l->prefix6 = XLB_LIMIT_PREFIX6_DEFAULT;
}

int xlb_limits_equal(const struct xlb_limits_cfg *a, const struct xlb_limits_cfg *b)
{
	return a->rate == b->rate && a->burst == b->burst && a->max_conns == b->max_conns &&
	       a->prefix4 == b->prefix4 && a->prefix6 == b->prefix6;
}

static int out_of_range(const char **key, const char *name, __u32 v, __u32 lo, __u32 hi,
			char *err, size_t errlen)
{
	if (v >= lo && v <= hi)
		return 0;
	if (key)
		*key = name;
	snprintf(err, errlen, "%u out of range (%u..%u)", v, lo, hi);
	return -EINVAL;
}

int xlb_limits_check(const struct xlb_limits_cfg *l, const char **key, char *err, size_t errlen)
{
	int ret = 0;

	if (l->rate)
		ret = out_of_range(key, "limits.new_flows_per_s", l->rate, 1, XLB_LIMIT_RATE_MAX,
				   err, errlen) ?:
		      out_of_range(key, "limits.burst", l->burst, 1, XLB_LIMIT_BURST_MAX, err,
				   errlen);
	else if (l->burst) {
		if (key)
			*key = "limits.burst";
		snprintf(err, errlen, "burst needs new_flows_per_s");
		return -EINVAL;
	}
	if (!ret && l->max_conns)
		ret = out_of_range(key, "limits.max_conns", l->max_conns, 1, XLB_LIMIT_CONNS_MAX,
				   err, errlen);
	if (ret || !xlb_limits_on(l))
		return ret;
	ret = out_of_range(key, "limits.prefix_v4", l->prefix4, 1, 32, err, errlen);
	return ret ?: out_of_range(key, "limits.prefix_v6", l->prefix6, 1, 128, err, errlen);
}

void xlb_limits_to_dp(const struct xlb_limits_cfg *l, struct vip_filter *vf)
{
	memset(vf, 0, sizeof(*vf));
	if (!xlb_limits_on(l))
		return;
	vf->flags = XLB_FILTER_LIMITS;
	vf->new_flows_per_s = l->rate;
	vf->burst = l->burst;
	vf->max_conns = l->max_conns;
	vf->prefix_v4 = l->prefix4;
	vf->prefix_v6 = l->prefix6;
}

void xlb_limits_format(const struct xlb_limits_cfg *l, char *buf, size_t len)
{
	int n = 0;

	if (!xlb_limits_on(l)) {
		snprintf(buf, len, "none");
		return;
	}
	buf[0] = '\0';
	if (l->rate)
		n = snprintf(buf, len, "%u new flows/s burst %u", l->rate, l->burst);
	if (l->max_conns && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "%s%u conn%s", n ? ", " : "", l->max_conns,
			      xlb_s(l->max_conns));
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " per /%u (v4) /%u (v6)", l->prefix4, l->prefix6);
}

void xlb_limit_key(const __be32 saddr[4], __u32 vip_id, __u8 prefix4, __u8 prefix6,
		   struct limit_key *k)
{
	memset(k, 0, sizeof(*k));
	k->vip_id = vip_id;
	xlb_addr_mask(saddr, xlb_addr_is_v4(saddr) ? 96u + prefix4 : prefix6, k->addr);
}

static const char *const json_keys[5] = { "new_flows_per_s", "burst", "max_conns", "prefix_v4",
					    "prefix_v6" };

struct json_object *xlb_limits_to_json(const struct xlb_limits_cfg *l)
{
	struct json_object *o = json_object_new_object();
	const __u32 v[5] = { l->rate, l->burst, l->max_conns, l->prefix4, l->prefix6 };
	int i;

	for (i = 0; i < 5; i++)
		if (v[i] || i >= 3)
			json_object_object_add(o, json_keys[i], json_object_new_int64(v[i]));
	return o;
}

int xlb_limits_from_json(struct json_object *o, struct xlb_limits_cfg *l)
{
	const __u32 max[5] = { XLB_LIMIT_RATE_MAX, XLB_LIMIT_BURST_MAX, XLB_LIMIT_CONNS_MAX, 32, 128 };
	__u32 v[5] = { l->rate, l->burst, l->max_conns, l->prefix4, l->prefix6 };
	struct json_object *m;
	int64_t n;
	int i;

	if (!json_object_is_type(o, json_type_object))
		return -EINVAL;
	for (i = 0; i < 5; i++) {
		if (!json_object_object_get_ex(o, json_keys[i], &m))
			continue;
		if (!json_object_is_type(m, json_type_int))
			return -EINVAL;
		n = json_object_get_int64(m);
		if (n < 0 || n > max[i])
			return -EINVAL;
		v[i] = (__u32)n;
	}
	l->rate = v[0];
	l->burst = v[1];
	l->max_conns = v[2];
	l->prefix4 = (__u8)v[3];
	l->prefix6 = (__u8)v[4];
	return 0;
}
