// SPDX-License-Identifier: GPL-2.0
/*
 * The xlbd config file.
 *
 * libcyaml loads the YAML against a schema in which every scalar is a
 * string, so that all numbers, durations and addresses go through the same
 * parsers (user/syntax.c) as xlbctl's, with the same messages. The loaded
 * tree is then checked and converted into struct xlb_config.
 *
 * Error messages carry the line of the offending key, found in a libyaml
 * document of the same text (config_doc.c), for libcyaml's errors
 * (config_schema.c) as for those found after loading.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "config_int.h"
#include "config_write.h"
#include "handoff.h"
#include "names.h"
#include "syntax.h"
#include "validate.h"

#define MS_PER_S	1000ull

void xlb_health_cfg_default(struct xlb_health_cfg *h)
{
	memset(h, 0, sizeof(*h));
	h->kind = XLB_CHECK_TCP;
	strcpy(h->path, "/");
	h->interval_ms = 2000;
	h->timeout_ms = 1000;
	h->rise = 2;
	h->fall = 3;
}

void xlb_health_timeout_derive(struct xlb_health_cfg *h)
{
	__u32 half = h->interval_ms / 2;

	if (h->timeout_ms < h->interval_ms)
		return;
	h->timeout_ms = half > XLB_TIMEOUT_MIN_MS ? half : XLB_TIMEOUT_MIN_MS;
}

void xlb_config_free(struct xlb_config *cfg)
{
	__u32 i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->nvips; i++)
		free(cfg->vips[i].backends);
	free(cfg->vips);
	xlb_blocklist_free(&cfg->block);
	memset(cfg, 0, sizeof(*cfg));
}

static void config_defaults(struct xlb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->xdp_mode = XLB_XDP_NATIVE;
	cfg->ct_size = XLB_CT_SIZE;
	cfg->tcp_idle_ms = 300 * MS_PER_S;
	cfg->udp_idle_ms = 30 * MS_PER_S;
	cfg->tcp_closing_ms = 10 * MS_PER_S;
}

/* "<reason> '<value>'" */
static int val_err(struct cfg_ctx *c, const char *prefix, const char *key,
		   const char *reason, const char *val)
{
	char q[XLB_QUOTE_MAX];

	return cfg_err(c, prefix, key, "%s '%s'", reason, xlb_quote(val, q, sizeof(q)));
}

/* Typed getters: a NULL value (key absent) leaves *out as it is. */

static int get_u32(struct cfg_ctx *c, const char *prefix, const char *key,
		   const char *val, __u32 min, __u32 max, __u32 *out)
{
	char why[64];

	if (val && xlb_parse_u32(val, min, max, out, why, sizeof(why)))
		return val_err(c, prefix, key, why, val);
	return 0;
}

static int get_ms(struct cfg_ctx *c, const char *prefix, const char *key,
		  const char *val, __u64 min, __u64 max, __u64 *out)
{
	char why[64], a[24], b[24];
	__u64 ms;

	if (!val)
		return 0;
	if (xlb_parse_duration_ms(val, &ms, why, sizeof(why)))
		return val_err(c, prefix, key, why, val);
	if (ms < min || ms > max) {
		xlb_format_duration_ms(min, a, sizeof(a));
		xlb_format_duration_ms(max, b, sizeof(b));
		snprintf(why, sizeof(why), "out of range (%s..%s)", a, b);
		return val_err(c, prefix, key, why, val);
	}
	*out = ms;
	return 0;
}

static int get_ms32(struct cfg_ctx *c, const char *prefix, const char *key,
		    const char *val, __u64 min, __u64 max, __u32 *out)
{
	__u64 ms = *out;
	int err;

	err = get_ms(c, prefix, key, val, min, max, &ms);
	if (!err)
		*out = (__u32)ms;	/* max fits: callers pass <= 1h */
	return err;
}

/* "bad <what> (<a>, <b> or <c>) '<value>'" if val is not a name in table. */
static int get_enum(struct cfg_ctx *c, const char *prefix, const char *key,
		    const char *val, const struct xlb_name *table,
		    const char *what, __u32 *out)
{
	char names[96], reason[128];

	if (!val || !xlb_value_of(table, val, out))
		return 0;
	xlb_names_list(table, " or ", names, sizeof(names));
	snprintf(reason, sizeof(reason), "bad %s (%s)", what, names);
	return val_err(c, prefix, key, reason, val);
}

/* Conversion and checks */

static int check_ifname(struct cfg_ctx *c, const char *prefix, const char *s)
{
	char q[XLB_QUOTE_MAX];

	if (!*s)
		return cfg_err(c, prefix, NULL, "empty interface name");
	if (strlen(s) >= XLB_IFNAME_MAX)
		return cfg_err(c, prefix, NULL,
			       "interface name too long (max %d chars) '%s'",
			       XLB_IFNAME_MAX - 1, xlb_quote(s, q, sizeof(q)));
	/* What the kernel refuses in a device name. */
	if (!strcmp(s, ".") || !strcmp(s, "..") || strpbrk(s, "/:") ||
	    xlb_has_space_or_ctl(s))
		return val_err(c, prefix, NULL, "bad interface name", s);
	return 0;
}

static int conv_ifaces(struct cfg_ctx *c, const struct y_config *y,
		       struct xlb_config *cfg)
{
	char p[32], first[32];
	unsigned int i, j;
	int line, err;

	if (!y->interfaces_count) {
		/* Absent is fine (xlbd -i); an empty list is not. */
		if (cfg_path_node(c->doc, "interfaces", &line))
			return cfg_err(c, "interfaces", NULL,
				       "no interfaces listed (1 to %d)",
				       XLB_MAX_IFACES);
		return 0;
	}
	if (y->interfaces_count > XLB_MAX_IFACES)
		return cfg_err(c, "interfaces", NULL,
			       "too many interfaces (%u, max %d)",
			       y->interfaces_count, XLB_MAX_IFACES);
	for (i = 0; i < y->interfaces_count; i++) {
		snprintf(p, sizeof(p), "interfaces[%u]", i);
		err = check_ifname(c, p, y->interfaces[i]);
		if (err)
			return err;
		for (j = 0; j < i; j++) {
			if (strcmp(y->interfaces[i], y->interfaces[j]))
				continue;
			snprintf(first, sizeof(first), "interfaces[%u]", j);
			return cfg_err(c, p, NULL,
				       "duplicate interface '%s' (first at line %d)",
				       y->interfaces[i],
				       cfg_path_line(c->doc, first));
		}
		strcpy(cfg->ifaces[i], y->interfaces[i]);
	}
	cfg->nifaces = y->interfaces_count;
	return 0;
}

/* metrics_allow: [PREFIX, ...]: the scrapers' addresses */
static int conv_metrics_allow(struct cfg_ctx *c, const struct y_config *y,
			      struct xlb_config *cfg)
{
	char p[32], why[128];
	__u32 i;

	if (y->metrics_allow_count > XLB_METRICS_ALLOW_MAX)
		return cfg_err(c, "metrics_allow", NULL, "too many prefixes (%u, max %d)",
			       y->metrics_allow_count, XLB_METRICS_ALLOW_MAX);
	for (i = 0; i < y->metrics_allow_count; i++) {
		snprintf(p, sizeof(p), "metrics_allow[%u]", i);
		if (xlb_parse_prefix(y->metrics_allow[i], &cfg->metrics_allow[i], why,
				     sizeof(why)))
			return val_err(c, p, NULL, why, y->metrics_allow[i]);
	}
	cfg->nmetrics_allow = y->metrics_allow_count;
	return 0;
}

/* announce: { table, protocol }: both required, a table no rule uses by default */
static int conv_announce(struct cfg_ctx *c, const struct y_announce *y,
			 struct xlb_announce_cfg *a)
{
	int err;

	if (!y)
		return 0;
	err = get_u32(c, "announce", "table", y->table, XLB_ROUTE_TABLE_MIN,
		      XLB_ROUTE_TABLE_MAX, &a->table);
	if (!err && a->table >= 253 && a->table <= 255)
		err = val_err(c, "announce", "table",
			      "is the kernel's default, main or local table (253..255)", y->table);
	if (!err)
		err = get_u32(c, "announce", "protocol", y->protocol, XLB_ROUTE_PROTO_MIN,
			      XLB_ROUTE_PROTO_MAX, &a->protocol);
	if (err)
		memset(a, 0, sizeof(*a));
	return err;
}

/* handoff: { key: 64 hex digits, port, peers: [ADDR, ...] } */
static int conv_handoff(struct cfg_ctx *c, const struct y_handoff *y, struct xlb_handoff_cfg *h)
{
	char p[32], why[64];
	__u32 i, port;
	int err;

	if (!y)
		return 0;
	if (xlb_handoff_key_parse(y->key, h->key))
		/* not quoted back: it is a secret */
		return cfg_err(c, "handoff", "key", "is not 64 hex digits (32 bytes)");
	err = get_u32(c, "handoff", "port", y->port, 1, 65535, &port);
	if (err)
		return err;
	if (y->peers_count > XLB_HANDOFF_PEERS_MAX)
		return cfg_err(c, "handoff.peers", NULL, "too many peers (%u, max %d)",
			       y->peers_count, XLB_HANDOFF_PEERS_MAX);
	for (i = 0; i < y->peers_count; i++) {
		snprintf(p, sizeof(p), "handoff.peers[%u]", i);
		if (xlb_parse_addr(y->peers[i], h->peers[i], why, sizeof(why)))
			return val_err(c, p, NULL, why, y->peers[i]);
	}
	h->npeers = y->peers_count;
	h->port = (__u16)port;
	return 0;
}

static int conv_global(struct cfg_ctx *c, const struct y_config *y,
		       struct xlb_config *cfg)
{
	const struct y_conntrack *ct = y->conntrack;
	struct xlb_endpoint ep;
	char why[64];
	int err;

	err = conv_ifaces(c, y, cfg);
	if (err)
		return err;
	err = get_enum(c, "", "xdp_mode", y->xdp_mode, xlb_xdp_mode_names,
		       "XDP mode", &cfg->xdp_mode);
	if (err)
		return err;
	if (ct) {
		err = get_u32(c, "conntrack", "size", ct->size, XLB_CT_SIZE_MIN,
			      XLB_CT_SIZE_MAX, &cfg->ct_size);
		if (!err)
			err = get_ms(c, "conntrack", "tcp_idle", ct->tcp_idle,
				     XLB_IDLE_MIN_MS, XLB_IDLE_MAX_MS, &cfg->tcp_idle_ms);
		if (!err)
			err = get_ms(c, "conntrack", "udp_idle", ct->udp_idle,
				     XLB_IDLE_MIN_MS, XLB_IDLE_MAX_MS, &cfg->udp_idle_ms);
		if (!err)
			err = get_ms(c, "conntrack", "tcp_closing", ct->tcp_closing,
				     XLB_IDLE_MIN_MS, XLB_IDLE_MAX_MS, &cfg->tcp_closing_ms);
		if (err)
			return err;
	}
	if (y->metrics) {
		if (strlen(y->metrics) >= sizeof(cfg->metrics))
			return val_err(c, "", "metrics", "too long", y->metrics);
		if (xlb_parse_endpoint(y->metrics, 0, &ep, why, sizeof(why)))
			return val_err(c, "", "metrics", why, y->metrics);
		strcpy(cfg->metrics, y->metrics);
	}
	err = conv_metrics_allow(c, y, cfg);
	if (err)
		return err;
	err = conv_announce(c, y->announce, &cfg->announce);
	if (err)
		return err;
	err = conv_handoff(c, y->handoff, &cfg->handoff);
	if (err) {
		memset(&cfg->handoff, 0, sizeof(cfg->handoff));
		return err;
	}
	if (y->encap_source && y->encap_source->ipv4 &&
	    xlb_parse_encap_source(y->encap_source->ipv4, 4, &cfg->encap.v4, why, sizeof(why)))
		return val_err(c, "encap_source", "ipv4", why, y->encap_source->ipv4);
	if (y->encap_source && y->encap_source->ipv6 &&
	    xlb_parse_encap_source(y->encap_source->ipv6, 6, &cfg->encap.v6, why, sizeof(why)))
		return val_err(c, "encap_source", "ipv6", why, y->encap_source->ipv6);
	return 0;
}

/*
 * A check's timing relation, refused by validate.c on "health.timeout", is
 * reported on whichever of the two keys is written, timeout first.
 */
static int settings_err(struct cfg_ctx *c, const char *prefix, const char *key,
			const char *why, int timeout_written)
{
	char p[PATH_MAX_LEN];

	if (!strcmp(key, "health.timeout") && !timeout_written)
		key = "health.interval";
	/* "health.x" under prefix: split so that the path is walked whole */
	cfg_join(p, sizeof(p), prefix, key);
	return cfg_err(c, p, NULL, "%s", why);
}

/* Where a check's interval, timeout, rise and fall go. */
struct timing_out {
	__u32 *interval_ms, *timeout_ms, *rise, *fall;
};

static int get_timing(struct cfg_ctx *c, const char *hp, const char *interval,
		      const char *timeout, const char *rise, const char *fall,
		      struct timing_out out)
{
	int err;

	err = get_ms32(c, hp, "interval", interval, XLB_INTERVAL_MIN_MS, XLB_INTERVAL_MAX_MS,
		       out.interval_ms);
	if (!err)
		err = get_ms32(c, hp, "timeout", timeout, XLB_TIMEOUT_MIN_MS, XLB_TIMEOUT_MAX_MS,
			       out.timeout_ms);
	if (!err)
		err = get_u32(c, hp, "rise", rise, XLB_RISE_FALL_MIN, XLB_RISE_FALL_MAX, out.rise);
	if (!err)
		err = get_u32(c, hp, "fall", fall, XLB_RISE_FALL_MIN, XLB_RISE_FALL_MAX, out.fall);
	return err;
}

/* The health check of a VIP, over the defaults. */
static int conv_health(struct cfg_ctx *c, const char *vp,
		       const struct y_health *y, struct xlb_health_cfg *h)
{
	char hp[PATH_MAX_LEN + 8], why[XLB_ERR_MAX];
	__u32 port = 0, via = XLB_CHECK_VIA_BACKEND;
	int err;

	xlb_health_cfg_default(h);
	if (!y)
		return 0;
	snprintf(hp, sizeof(hp), "%s.health", vp);

	err = get_enum(c, hp, "check", y->check, xlb_check_names, "check", &h->kind);
	if (err)
		return err;
	if (y->path) {
		if (xlb_http_path_check(y->path, why, sizeof(why)))
			return cfg_err(c, hp, "path", "%s", why);
		strcpy(h->path, y->path);
	}
	err = get_u32(c, hp, "port", y->port, 0, 65535, &port);
	if (err)
		return err;
	h->port = (__u16)port;
	err = get_enum(c, hp, "via", y->via, xlb_check_via_names, "via", &via);
	if (err)
		return err;
	h->via = (__u8)via;
	err = get_timing(c, hp, y->interval, y->timeout, y->rise, y->fall,
			 (struct timing_out){ &h->interval_ms, &h->timeout_ms, &h->rise, &h->fall });
	if (!err && !y->timeout)
		xlb_health_timeout_derive(h);
	return err;
}

/* Per-backend timing overrides; 0 in b means "the VIP's". */
static int conv_timing(struct cfg_ctx *c, const char *bp,
		       const struct y_timing *y, struct xlb_backend_cfg *b)
{
	char hp[PATH_MAX_LEN + 8];

	if (!y)
		return 0;
	snprintf(hp, sizeof(hp), "%s.health", bp);
	return get_timing(c, hp, y->interval, y->timeout, y->rise, y->fall,
			  (struct timing_out){ &b->interval_ms, &b->timeout_ms, &b->rise, &b->fall });
}

static int conv_backend(struct cfg_ctx *c, const char *bp,
			const struct y_backend *y, const struct xlb_vip_cfg *v,
			struct xlb_backend_cfg *b)
{
	char why[XLB_ERR_MAX];
	const char *key;
	int err;

	if (xlb_parse_addr(y->address, b->addr, why, sizeof(why)))
		return val_err(c, bp, "address", why, y->address);
	if (xlb_check_backend_family(v->forward, v->key.addr, b->addr, why, sizeof(why)))
		return cfg_err(c, bp, "address", "%s", why);
	b->weight = XLB_WEIGHT_DEFAULT;
	err = get_u32(c, bp, "weight", y->weight, XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &b->weight);
	if (!err)
		err = get_enum(c, bp, "state", y->state, xlb_admin_names, "state", &b->admin);
	if (!err)
		err = conv_timing(c, bp, y->health, b);
	b->line = cfg_path_line(c->doc, bp);
	if (!err && xlb_backend_settings_check(b, v, &key, why, sizeof(why)))
		err = settings_err(c, bp, key, why, y->health && y->health->timeout);
	return err;
}

/* Duplicate backend addresses in one VIP: the first repeat in file order. */
static int check_dup_backends(struct cfg_ctx *c, const char *vp,
			      const struct xlb_vip_cfg *v)
{
	char p[PATH_MAX_LEN], addr[XLB_ADDR_STR_MAX];
	__u32 dup, first;
	int ret = xlb_find_dup_backend(v, &dup, &first);

	if (ret == -ENOMEM) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
		return ret;
	}
	if (!ret)
		return 0;
	xlb_format_addr(v->backends[dup].addr, addr, sizeof(addr));
	snprintf(p, sizeof(p), "%s.backends[%u]", vp, dup);
	return cfg_err(c, p, "address", "duplicate backend %s (first at line %d)",
		       addr, v->backends[first].line);
}

/* VIP n of cfg; the ones before it are done, for duplicates and totals. */
static int get_persist(struct cfg_ctx *c, const char *vp, const struct y_vip *y,
		       struct xlb_vip_cfg *v)
{
	__u32 p4 = XLB_PERSIST_PREFIX4_DEFAULT, p6 = XLB_PERSIST_PREFIX6_DEFAULT;
	int err;

	xlb_vip_persist_default(v);
	err = get_ms32(c, vp, "persist", y->persist, XLB_PERSIST_MIN_MS, XLB_PERSIST_MAX_MS,
		       &v->persist_ms);
	err = err ?: get_u32(c, vp, "persist_prefix_v4", y->persist_prefix_v4, 1, 32, &p4);
	err = err ?: get_u32(c, vp, "persist_prefix_v6", y->persist_prefix_v6, 1, 128, &p6);
	if (err)
		return err;
	if (!y->persist && (y->persist_prefix_v4 || y->persist_prefix_v6))
		return cfg_err(c, vp, y->persist_prefix_v4 ? "persist_prefix_v4" : "persist_prefix_v6",
			       "a persist prefix needs persist: DURATION");
	v->persist_prefix4 = (__u8)p4;
	v->persist_prefix6 = (__u8)p6;
	return 0;
}

/* limits: the ranges are xlb_limits_check's, with the other settings; burst defaults to the rate. */
static int get_limits(struct cfg_ctx *c, const char *vp, const struct y_limits *y,
		      struct xlb_vip_cfg *v)
{
	struct xlb_limits_cfg *l = &v->limits;
	__u32 p4 = XLB_LIMIT_PREFIX4_DEFAULT, p6 = XLB_LIMIT_PREFIX6_DEFAULT;
	char lp[PATH_MAX_LEN];
	int err;

	xlb_limits_default(l);
	if (!y)
		return 0;
	snprintf(lp, sizeof(lp), "%s.limits", vp);
	err = get_u32(c, lp, "new_flows_per_s", y->new_flows_per_s, 1, XLB_LIMIT_RATE_MAX, &l->rate);
	err = err ?: get_u32(c, lp, "burst", y->burst, 1, XLB_LIMIT_BURST_MAX, &l->burst);
	err = err ?: get_u32(c, lp, "max_conns", y->max_conns, 1, XLB_LIMIT_CONNS_MAX,
			     &l->max_conns);
	err = err ?: get_u32(c, lp, "prefix_v4", y->prefix_v4, 1, 32, &p4);
	err = err ?: get_u32(c, lp, "prefix_v6", y->prefix_v6, 1, 128, &p6);
	if (err)
		return err;
	if (l->rate && !y->burst)
		l->burst = l->rate;
	l->prefix4 = (__u8)p4;
	l->prefix6 = (__u8)p6;
	return 0;
}

static int conv_vip(struct cfg_ctx *c, const char *vp, const struct y_vip *y,
		    struct xlb_config *cfg, __u32 n, __u32 *total)
{
	struct xlb_vip_cfg *v = &cfg->vips[n];
	char why[XLB_ERR_MAX], bp[PATH_MAX_LEN];
	const char *key;
	__u32 i;
	int err, dup;

	v->line = cfg_path_line(c->doc, vp);
	if (xlb_parse_vip(y->vip, &v->key, why, sizeof(why)))
		return val_err(c, vp, "vip", why, y->vip);
	dup = xlb_vip_index(cfg->vips, n, &v->key);
	if (dup >= 0) {
		xlb_format_vip(&v->key, why, sizeof(why));
		return cfg_err(c, vp, "vip", "duplicate VIP %s (first at line %d)",
			       why, cfg->vips[dup].line);
	}
	if (y->scheduler && xlb_parse_sched(y->scheduler, &v->sched, why,
					    sizeof(why)))
		return val_err(c, vp, "scheduler", why, y->scheduler);
	if (y->forward && xlb_parse_forward(y->forward, &v->forward, why,
					    sizeof(why)))
		return val_err(c, vp, "forward", why, y->forward);
	err = conv_health(c, vp, y->health, &v->health);
	if (err)
		return err;
	v->min_up = XLB_MIN_UP_DEFAULT;
	err = get_u32(c, vp, "min_up", y->min_up, 1, XLB_MIN_UP_MAX, &v->min_up);
	err = err ?: get_persist(c, vp, y, v);
	err = err ?: get_limits(c, vp, y->limits, v);
	if (err)
		return err;
	if (xlb_vip_settings_check(v, &key, why, sizeof(why)))
		return settings_err(c, vp, key, why, y->health && y->health->timeout);
	if (xlb_vip_encap_check(v, &cfg->encap, why, sizeof(why)))
		return cfg_err(c, vp, "forward", "%s", why);
	snprintf(bp, sizeof(bp), "%s.blocklist", vp);
	err = cfg_conv_blocklist(c, bp, y->blocklist, &v->key, cfg);
	if (err)
		return err;

	if (!y->backends_count)
		return 0;
	if (y->backends_count > XLB_CP_MAX_BACKENDS - *total) {
		snprintf(bp, sizeof(bp), "%s.backends[%u]", vp,
			 XLB_CP_MAX_BACKENDS - *total);
		return cfg_err(c, bp, NULL, "too many backends in total (max %d)",
			       XLB_CP_MAX_BACKENDS);
	}
	v->backends = calloc(y->backends_count, sizeof(*v->backends));
	if (!v->backends) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
		return -ENOMEM;
	}
	v->nbackends = y->backends_count;
	*total += v->nbackends;
	for (i = 0; i < v->nbackends; i++) {
		snprintf(bp, sizeof(bp), "%s.backends[%u]", vp, i);
		err = conv_backend(c, bp, &y->backends[i], v, &v->backends[i]);
		if (err)
			return err;
		if (v->forward == XLB_FWD_IPIP &&
		    !((xlb_addr_is_v4(v->backends[i].addr) ? &cfg->encap.v4 : &cfg->encap.v6)->flags &
		      XLB_ENCAP_F_SET))
			return cfg_err(c, bp, "address", "forward ipip needs encap_source.%s for this backend",
				       xlb_addr_is_v4(v->backends[i].addr) ? "ipv4" : "ipv6");
	}
	return check_dup_backends(c, vp, v);
}

/* health.via: vip: at most XLB_VIA_MAX backend addresses, named at the VIP that passes it. */
static int via_cap_check(struct cfg_ctx *c, const struct xlb_config *cfg)
{
	__u32 at, distinct;
	char vp[48];
	int ret = xlb_via_cap_over(cfg->vips, cfg->nvips, &at, &distinct);

	if (ret < 0) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
		return ret;
	}
	if (!ret)
		return 0;
	snprintf(vp, sizeof(vp), "vips[%u].health", at);
	return cfg_err(c, vp, "via", "more than %d backend addresses checked via a VIP (%u)",
		       XLB_VIA_MAX, distinct);
}

static int conv_vips(struct cfg_ctx *c, const struct y_config *y,
		     struct xlb_config *cfg)
{
	__u32 i, total = 0;
	char vp[32];
	int err;

	if (!y->vips_count)
		return 0;
	if (y->vips_count > XLB_CP_MAX_VIPS)
		return cfg_err(c, "vips", NULL, "too many VIPs (%u, max %d)",
			       y->vips_count, XLB_CP_MAX_VIPS);
	cfg->vips = calloc(y->vips_count, sizeof(*cfg->vips));
	if (!cfg->vips) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
		return -ENOMEM;
	}
	/* Counted as filled so that xlb_config_free() sees every array. */
	cfg->nvips = y->vips_count;
	for (i = 0; i < cfg->nvips; i++) {
		snprintf(vp, sizeof(vp), "vips[%u]", i);
		err = conv_vip(c, vp, &y->vips[i], cfg, i, &total);
		if (err)
			return err;
	}
	return via_cap_check(c, cfg);
}

int xlb_config_parse(const char *yaml, size_t len, const char *name,
		     struct xlb_config *cfg, char *err, size_t errlen)
{
	struct cy_log log = {};
	cyaml_config_t cy = {
		.log_fn = cfg_cy_log_fn,
		.log_ctx = &log,
		.mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR,
		.flags = CYAML_CFG_DEFAULT,
	};
	char dummy[1];
	yaml_document_t doc;
	struct cfg_ctx c = {
		.name = name ? name : "config",
		.doc = &doc,
		.err = err && errlen ? err : dummy,
		.errlen = err && errlen ? errlen : sizeof(dummy),
	};
	struct y_config *y = NULL;
	struct xlb_config tmp;
	cyaml_err_t cerr;
	int ret;

	c.err[0] = '\0';
	if (!yaml)
		yaml = "";	/* libyaml asserts on a NULL input */
	config_defaults(&tmp);
	/* of these bytes (what builds before the content digest saved): a later edit is not what was applied */
	snprintf(tmp.bytes_digest, sizeof(tmp.bytes_digest), "crc32:%08lx:%zu",
		 crc32_z(crc32(0L, Z_NULL, 0), (const Bytef *)yaml, len), len);
	ret = cfg_load_doc(&c, yaml, len);
	if (ret)
		return ret;
	if (cfg_doc_is_empty(&doc))
		goto done;

	cerr = cyaml_load_data((const uint8_t *)yaml, len, &cy, &cfg_schema,
			       (cyaml_data_t **)&y, NULL);
	if (cerr != CYAML_OK) {
		ret = cfg_cyaml_error(&c, &log, cerr);
		goto out_doc;
	}
	if (!y)
		goto done;

	ret = conv_global(&c, y, &tmp);
	if (!ret)
		ret = cfg_conv_blocklist(&c, "blocklist", y->blocklist, NULL, &tmp);
	if (!ret)
		ret = conv_vips(&c, y, &tmp);
	cyaml_free(&cy, &cfg_schema, y, 0);
	if (ret) {
		xlb_config_free(&tmp);
		goto out_doc;
	}
done:
	/* of the content: a comment, the layout or the order of VIPs is no change */
	ret = xlb_config_content_digest(&tmp, tmp.digest, sizeof(tmp.digest));
	if (ret) {
		snprintf(c.err, c.errlen, "%s: out of memory", c.name);
		xlb_config_free(&tmp);
		goto out_doc;
	}
	*cfg = tmp;
out_doc:
	yaml_document_delete(&doc);
	return ret;
}

int xlb_config_load(const char *path, struct xlb_config *cfg, char *err,
		    size_t errlen)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nbuf;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f)
		goto fail;
	/* Read to EOF rather than trust st_size: stdin and pipes work too. */
	for (;;) {
		if (len == cap) {
			if (cap >= XLB_CONFIG_FILE_MAX) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap ? cap * 2 : 4096;
			nbuf = realloc(buf, cap);
			if (!nbuf)
				goto fail;
			buf = nbuf;
		}
		len += fread(buf + len, 1, cap - len, f);
		if (ferror(f))
			goto fail;
		if (feof(f))
			break;
	}
	fclose(f);
	ret = xlb_config_parse(buf, len, path, cfg, err, errlen);
	free(buf);
	return ret;
fail:
	ret = -errno;
	if (ret == 0)
		ret = -EIO;
	if (err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-ret));
	if (f)
		fclose(f);
	free(buf);
	return ret;
}
