// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "names.h"
#include "syntax.h"
#include "validate.h"

__attribute__((format(printf, 5, 6)))
static int refuse(const char **key, const char *which, char *err, size_t errlen,
		  const char *fmt, ...)
{
	va_list ap;

	if (key)
		*key = which;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Not 0/8, 127/8, 224/4 or 255.255.255.255; not ::, ::1 or ff00::/8. */
static int is_unicast(const __be32 a[4])
{
	__u32 low = ntohl(a[3]), top = low >> 24;

	if (xlb_addr_is_v4(a))
		return top != 0 && top != 127 && (top & 0xf0) != 0xe0 && low != 0xffffffff;
	if ((ntohl(a[0]) >> 24) == 0xff)
		return 0;
	return a[0] || a[1] || a[2] || low > 1;
}

int xlb_unicast_check(const __be32 a[4], char *err, size_t errlen)
{
	char text[XLB_ADDR_STR_MAX];

	if (is_unicast(a))
		return 0;
	xlb_format_addr(a, text, sizeof(text));
	return refuse(NULL, NULL, err, errlen, "not a unicast address '%s'", text);
}

int xlb_http_path_check(const char *path, char *err, size_t errlen)
{
	char q[XLB_QUOTE_MAX];
	const char *why = NULL;

	if (path[0] != '/')
		why = "bad path (must start with '/')";
	else if (xlb_has_space_or_ctl(path))
		why = "bad path (no spaces or control characters)";
	else if (strlen(path) >= XLB_HTTP_PATH_MAX)
		why = "path too long (max 255 chars)";
	if (!why)
		return 0;
	return refuse(NULL, NULL, err, errlen, "%s '%s'", why, xlb_quote(path, q, sizeof(q)));
}

/* "out of range (100ms..1h) '50ms'", as a duration parsed from the file. */
static int ms_in_range(__u32 ms, __u32 min, __u32 max, const char **key, const char *which,
		       char *err, size_t errlen)
{
	char a[24], b[24], v[24];

	if (ms >= min && ms <= max)
		return 0;
	xlb_format_duration_ms(min, a, sizeof(a));
	xlb_format_duration_ms(max, b, sizeof(b));
	xlb_format_duration_ms(ms, v, sizeof(v));
	return refuse(key, which, err, errlen, "out of range (%s..%s) '%s'", a, b, v);
}

static int u32_in_range(__u32 n, __u32 min, __u32 max, const char **key, const char *which,
			char *err, size_t errlen)
{
	if (n >= min && n <= max)
		return 0;
	return refuse(key, which, err, errlen, "out of range (%u..%u) '%u'", min, max, n);
}

static int timeout_below_interval(__u32 timeout, __u32 interval, const char **key,
				  char *err, size_t errlen)
{
	char a[24], b[24];

	if (timeout < interval)
		return 0;
	xlb_format_duration_ms(timeout, a, sizeof(a));
	xlb_format_duration_ms(interval, b, sizeof(b));
	return refuse(key, "health.timeout", err, errlen,
		      "timeout %s must be less than interval %s", a, b);
}

/* Interval, timeout, rise and fall; 0 is allowed (inherit) for a backend. */
static int timing_check(const __u32 t[4], int zero_ok, const char **key, char *err,
			size_t errlen)
{
	static const char *const keys[] = { "health.interval", "health.timeout",
					    "health.rise", "health.fall" };
	int i, ret = 0;

	for (i = 0; i < 4 && !ret; i++) {
		if (zero_ok && !t[i])
			continue;
		if (i == 0)
			ret = ms_in_range(t[i], XLB_INTERVAL_MIN_MS, XLB_INTERVAL_MAX_MS, key,
					  keys[i], err, errlen);
		else if (i == 1)
			ret = ms_in_range(t[i], XLB_TIMEOUT_MIN_MS, XLB_TIMEOUT_MAX_MS, key,
					  keys[i], err, errlen);
		else
			ret = u32_in_range(t[i], XLB_RISE_FALL_MIN, XLB_RISE_FALL_MAX, key,
					   keys[i], err, errlen);
	}
	return ret;
}

static int name_known(const struct xlb_name *table, unsigned int value, const char *what,
		      const char *last_sep, const char **key, const char *which, char *err,
		      size_t errlen)
{
	char names[96];

	if (xlb_name_valid(table, value))
		return 0;
	xlb_names_list(table, last_sep, names, sizeof(names));
	return refuse(key, which, err, errlen, "bad %s (%s)", what, names);
}

int xlb_vip_settings_check(const struct xlb_vip_cfg *v, const char **key, char *err,
			   size_t errlen)
{
	const struct xlb_health_cfg *h = &v->health;
	const __u32 timing[4] = { h->interval_ms, h->timeout_ms, h->rise, h->fall };
	int ret;

	if (xlb_unicast_check(v->key.addr, err, errlen)) {
		if (key)
			*key = "vip";
		return -EINVAL;
	}
	ret = name_known(xlb_sched_names, v->sched, "scheduler", " or ", key, "scheduler",
			 err, errlen);
	ret = ret ?: name_known(xlb_forward_names, v->forward, "forwarding mode", ", ", key,
				"forward", err, errlen);
	ret = ret ?: name_known(xlb_check_names, h->kind, "check", " or ", key, "health.check",
				err, errlen);
	ret = ret ?: name_known(xlb_check_via_names, h->via, "via", " or ", key, "health.via",
				err, errlen);
	if (ret)
		return ret;
	/* the kernel here has no ipip devices to send an encapsulated check through */
	if (h->via == XLB_CHECK_VIA_VIP && v->forward != XLB_FWD_L2DSR)
		return refuse(key, "health.via", err, errlen,
			      "via vip needs forward l2dsr (an ipip check would have to be "
			      "encapsulated)");
	/* a path that does not fit is not NUL-terminated: check its length first */
	if (!memchr(h->path, '\0', sizeof(h->path)))
		return refuse(key, "health.path", err, errlen, "path too long (max 255 chars)");
	ret = xlb_http_path_check(h->path, err, errlen);
	if (ret) {
		if (key)
			*key = "health.path";
		return ret;
	}
	ret = timing_check(timing, 0, key, err, errlen);
	ret = ret ?: timeout_below_interval(h->timeout_ms, h->interval_ms, key, err, errlen);
	ret = ret ?: u32_in_range(v->min_up, 1, XLB_MIN_UP_MAX, key, "min_up", err, errlen);
	ret = ret ?: xlb_limits_check(&v->limits, key, err, errlen);
	if (ret || !v->persist_ms)
		return ret;
	ret = u32_in_range(v->persist_ms, XLB_PERSIST_MIN_MS, XLB_PERSIST_MAX_MS, key, "persist",
			   err, errlen);
	ret = ret ?: u32_in_range(v->persist_prefix4, 1, 32, key, "persist_prefix_v4", err, errlen);
	return ret ?: u32_in_range(v->persist_prefix6, 1, 128, key, "persist_prefix_v6", err,
				   errlen);
}

int xlb_vip_encap_check(const struct xlb_vip_cfg *v, const struct encap_config *e, char *err,
			size_t errlen)
{
	int v4 = xlb_addr_is_v4(v->key.addr);

	if (v->forward != XLB_FWD_IPIP || (e->v6.flags & XLB_ENCAP_F_SET) ||
	    (v4 && (e->v4.flags & XLB_ENCAP_F_SET)))
		return 0;
	snprintf(err, errlen, "forward ipip needs %s", v4 ? "encap_source.ipv4 or encap_source.ipv6" :
		 "encap_source.ipv6 (an IPv6 VIP's backends are IPv6)");
	return -EINVAL;
}

void xlb_vip_persist_default(struct xlb_vip_cfg *v)
{
	v->persist_ms = 0;
	v->persist_prefix4 = XLB_PERSIST_PREFIX4_DEFAULT;
	v->persist_prefix6 = XLB_PERSIST_PREFIX6_DEFAULT;
}

int xlb_backend_settings_check(const struct xlb_backend_cfg *b, const struct xlb_vip_cfg *v,
			       const char **key, char *err, size_t errlen)
{
	const __u32 timing[4] = { b->interval_ms, b->timeout_ms, b->rise, b->fall };
	int ret;

	ret = xlb_unicast_check(b->addr, err, errlen);
	ret = ret ?: xlb_check_backend_family(v->forward, v->key.addr, b->addr, err, errlen);
	if (ret) {
		if (key)
			*key = "address";
		return ret;
	}
	ret = u32_in_range(b->weight, XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, key, "weight", err,
			   errlen);
	ret = ret ?: name_known(xlb_admin_names, b->admin, "state", " or ", key, "state", err,
				errlen);
	ret = ret ?: timing_check(timing, 1, key, err, errlen);
	if (ret || (!b->interval_ms && !b->timeout_ms))
		return ret;
	return timeout_below_interval(b->timeout_ms ?: v->health.timeout_ms,
				      b->interval_ms ?: v->health.interval_ms, key, err, errlen);
}

__u32 xlb_backend_admin(const struct xlb_backend_cfg *b)
{
	return b->admin == XLB_ADMIN_ENABLED && !b->weight ? XLB_ADMIN_DRAIN : b->admin;
}

int xlb_vip_index(const struct xlb_vip_cfg *vips, __u32 n, const struct vip_key *key)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (!memcmp(&vips[i].key, key, sizeof(*key)))
			return (int)i;
	return -1;
}

static int addr_ent_cmp(const void *pa, const void *pb)
{
	const struct xlb_addr_owner *a = pa, *b = pb;
	int r = memcmp(a->addr, b->addr, sizeof(a->addr));

	if (r)
		return r;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Sorting keeps this n log n for a VIP with tens of thousands of backends. */
int xlb_find_dup_backend(const struct xlb_vip_cfg *v, __u32 *dup, __u32 *first)
{
	struct xlb_addr_owner *e;
	__u32 i, found = ~0u, orig = 0, run = 0;

	if (v->nbackends < 2)
		return 0;
	e = calloc(v->nbackends, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (i = 0; i < v->nbackends; i++) {
		memcpy(e[i].addr, v->backends[i].addr, sizeof(e[i].addr));
		e[i].idx = i;
	}
	qsort(e, v->nbackends, sizeof(*e), addr_ent_cmp);
	for (i = 1; i < v->nbackends; i++) {
		if (memcmp(e[i].addr, e[i - 1].addr, sizeof(e[i].addr))) {
			run = i;
			continue;
		}
		if (e[i].idx < found) {
			found = e[i].idx;
			orig = e[run].idx;
		}
	}
	free(e);
	if (found == ~0u)
		return 0;
	*dup = found;
	*first = orig;
	return 1;
}

static int owner_cmp(const void *pa, const void *pb)
{
	const struct xlb_addr_owner *a = pa, *b = pb;

	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

__u32 xlb_addrs_over(struct xlb_addr_owner *e, __u32 n, __u32 max, __u32 *distinct)
{
	__u32 i, count = 0;

	qsort(e, n, sizeof(*e), addr_ent_cmp);
	/* an address counts for its lowest owner, the first of its sorted run: kept in e[].idx */
	for (i = 0; i < n; i++)
		if (!i || memcmp(e[i].addr, e[i - 1].addr, sizeof(e[i].addr)))
			e[count++].idx = e[i].idx;
	*distinct = count;
	if (count <= max)
		return ~0u;
	/* in owner order, the address that passes max is the (max + 1)th */
	qsort(e, count, sizeof(*e), owner_cmp);
	return e[max].idx;
}

int xlb_via_cap_over(const struct xlb_vip_cfg *vips, __u32 nvips, __u32 *at, __u32 *distinct)
{
	struct xlb_addr_owner *e;
	__u32 i, j, n = 0;

	for (i = 0; i < nvips; i++)
		if (vips[i].health.via == XLB_CHECK_VIA_VIP)
			n += vips[i].nbackends;
	*distinct = n;
	if (n <= XLB_VIA_MAX)
		return 0;
	e = calloc(n, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (i = 0, n = 0; i < nvips; i++) {
		if (vips[i].health.via != XLB_CHECK_VIA_VIP)
			continue;
		for (j = 0; j < vips[i].nbackends; j++, n++) {
			memcpy(e[n].addr, vips[i].backends[j].addr, sizeof(e[n].addr));
			e[n].idx = i;
		}
	}
	*at = xlb_addrs_over(e, n, XLB_VIA_MAX, distinct);
	free(e);
	return *at != ~0u;
}
