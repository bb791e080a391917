// SPDX-License-Identifier: GPL-2.0
/*
 * The xlbd config file.
 *
 * libcyaml loads the YAML against a schema in which every scalar is a
 * string, so that all numbers, durations and addresses go through the same
 * parsers (user/syntax.c) as xlbctl's, with the same messages. The loaded
 * tree is then checked and converted into struct xlb_config.
 *
 * Error messages carry the line of the offending key. libcyaml's own line
 * numbers point wherever its parser happened to be, so the path it logs is
 * walked again in a libyaml document of the same text to find the key;
 * errors found after loading use the same walk.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cyaml/cyaml.h>
#include <yaml.h>
#include <zlib.h>

#include "config.h"
#include "names.h"
#include "syntax.h"
#include "validate.h"

#define MS_PER_S	1000ull

/* Longest path: "vips[511].backends[65534].health.timeout" */
#define PATH_MAX_LEN		160
#define CY_LINE_MAX		256
#define CY_BT_MAX		16	/* deeper than our schema ever nests */

/* The YAML as libcyaml loads it: every scalar a string, NULL if absent. */
struct y_timing {
	char *interval, *timeout, *rise, *fall;
};

struct y_health {
	char *check, *path, *port, *interval, *timeout, *rise, *fall;
};

struct y_backend {
	char *address, *weight, *state;
	struct y_timing *health;
};

struct y_vip {
	char *vip, *scheduler, *forward;
	struct y_health *health;
	struct y_backend *backends;
	unsigned int backends_count;
};

struct y_conntrack {
	char *size, *tcp_idle, *udp_idle;
};

struct y_encap {
	char *ipv4, *ipv6;
};

struct y_config {
	struct y_encap *encap_source;
	char **interfaces;
	unsigned int interfaces_count;
	char *xdp_mode;
	struct y_conntrack *conntrack;
	char *metrics;
	struct y_vip *vips;
	unsigned int vips_count;
};

#define OPT_STR(key, type, member) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_OPTIONAL, type, member, \
			       0, CYAML_UNLIMITED)
#define REQ_STR(key, type, member) \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_DEFAULT, type, member, \
			       0, CYAML_UNLIMITED)
/* An empty or null value for a list or mapping means "none given". */
#define OPT_NULL (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER_NULL_STR)

static const cyaml_schema_field_t timing_fields[] = {
	OPT_STR("interval", struct y_timing, interval),
	OPT_STR("timeout", struct y_timing, timeout),
	OPT_STR("rise", struct y_timing, rise),
	OPT_STR("fall", struct y_timing, fall),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t health_fields[] = {
	OPT_STR("check", struct y_health, check),
	OPT_STR("path", struct y_health, path),
	OPT_STR("port", struct y_health, port),
	OPT_STR("interval", struct y_health, interval),
	OPT_STR("timeout", struct y_health, timeout),
	OPT_STR("rise", struct y_health, rise),
	OPT_STR("fall", struct y_health, fall),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t backend_fields[] = {
	REQ_STR("address", struct y_backend, address),
	OPT_STR("weight", struct y_backend, weight),
	OPT_STR("state", struct y_backend, state),
	CYAML_FIELD_MAPPING_PTR("health", OPT_NULL, struct y_backend, health,
				timing_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t backend_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct y_backend,
			    backend_fields),
};

static const cyaml_schema_field_t vip_fields[] = {
	REQ_STR("vip", struct y_vip, vip),
	OPT_STR("scheduler", struct y_vip, scheduler),
	OPT_STR("forward", struct y_vip, forward),
	CYAML_FIELD_MAPPING_PTR("health", OPT_NULL, struct y_vip, health,
				health_fields),
	CYAML_FIELD_SEQUENCE("backends", OPT_NULL, struct y_vip, backends,
			     &backend_schema, 0, CYAML_UNLIMITED),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t vip_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct y_vip, vip_fields),
};

static const cyaml_schema_field_t conntrack_fields[] = {
	OPT_STR("size", struct y_conntrack, size),
	OPT_STR("tcp_idle", struct y_conntrack, tcp_idle),
	OPT_STR("udp_idle", struct y_conntrack, udp_idle),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t encap_fields[] = {
	OPT_STR("ipv4", struct y_encap, ipv4),
	OPT_STR("ipv6", struct y_encap, ipv6),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t ifname_schema = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t config_fields[] = {
	/* No null here: "interfaces:" with nothing after it is a mistake. */
	CYAML_FIELD_SEQUENCE("interfaces",
			     CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			     struct y_config, interfaces, &ifname_schema,
			     0, CYAML_UNLIMITED),
	OPT_STR("xdp_mode", struct y_config, xdp_mode),
	CYAML_FIELD_MAPPING_PTR("conntrack", OPT_NULL, struct y_config,
				conntrack, conntrack_fields),
	OPT_STR("metrics", struct y_config, metrics),
	CYAML_FIELD_MAPPING_PTR("encap_source", OPT_NULL, struct y_config,
				encap_source, encap_fields),
	CYAML_FIELD_SEQUENCE("vips", OPT_NULL, struct y_config, vips,
			     &vip_schema, 0, CYAML_UNLIMITED),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t config_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct y_config,
			    config_fields),
};

/* What libcyaml logged about the error that stopped it. */
struct cy_log {
	char msg[CY_LINE_MAX];
	char bt[CY_BT_MAX][CY_LINE_MAX];	/* innermost first */
	unsigned int nbt;
};

struct cfg_ctx {
	const char *name;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

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

void xlb_config_free(struct xlb_config *cfg)
{
	__u32 i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->nvips; i++)
		free(cfg->vips[i].backends);
	free(cfg->vips);
	memset(cfg, 0, sizeof(*cfg));
}

static void config_defaults(struct xlb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->xdp_mode = XLB_XDP_NATIVE;
	cfg->ct_size = XLB_CT_SIZE;
	cfg->tcp_idle_ms = 300 * MS_PER_S;
	cfg->udp_idle_ms = 30 * MS_PER_S;
}

/* Document walking, for line numbers. Lines are 1-based from here on. */

static int node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

/* Value of the nth (1-based) occurrence of key in a mapping node. */
static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *n,
			    const char *key, size_t klen, int nth,
			    yaml_node_t **knode)
{
	yaml_node_pair_t *p;

	if (!n || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (!k || k->type != YAML_SCALAR_NODE ||
		    k->data.scalar.length != klen ||
		    memcmp(k->data.scalar.value, key, klen) || --nth)
			continue;
		*knode = k;
		return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static yaml_node_t *seq_get(yaml_document_t *doc, yaml_node_t *n,
			    unsigned long idx)
{
	if (!n || n->type != YAML_SEQUENCE_NODE ||
	    idx >= (unsigned long)(n->data.sequence.items.top -
				   n->data.sequence.items.start))
		return NULL;
	return yaml_document_get_node(doc, n->data.sequence.items.start[idx]);
}

/*
 * Follow a path like "vips[1].backends[0].address" and return its node, or
 * NULL. *line gets the line of the deepest step found (the key for a
 * mapping step), so a message always has the closest line we know.
 */
static yaml_node_t *path_node(yaml_document_t *doc, const char *path,
			      int *line)
{
	yaml_node_t *n = yaml_document_get_root_node(doc), *k;
	const char *p = path;
	char *end;

	*line = n ? node_line(n) : 1;
	while (n && *p) {
		size_t len = strcspn(p, ".[");

		if (len) {
			n = map_get(doc, n, p, len, 1, &k);
			if (!n)
				return NULL;
			*line = node_line(k);
			p += len;
		}
		while (n && *p == '[') {
			n = seq_get(doc, n, strtoul(p + 1, &end, 10));
			if (!n)
				return NULL;
			*line = node_line(n);
			p = *end == ']' ? end + 1 : end;
		}
		if (*p == '.')
			p++;
	}
	return n;
}

static int path_line(yaml_document_t *doc, const char *path)
{
	int line;

	path_node(doc, path, &line);
	return line;
}

/* Line of the nth occurrence of key in the mapping at path. */
static int key_line(yaml_document_t *doc, const char *path, const char *key,
		    int nth)
{
	yaml_node_t *n, *k;
	int line;

	n = path_node(doc, path, &line);
	if (n && map_get(doc, n, key, strlen(key), nth, &k))
		line = node_line(k);
	return line;
}

/* Messages */

static void report(struct cfg_ctx *c, int line, const char *path,
		   const char *msg)
{
	if (!c->err || !c->errlen)
		return;
	if (*path)
		snprintf(c->err, c->errlen, "%s:%d: %s: %s", c->name, line,
			 path, msg);
	else
		snprintf(c->err, c->errlen, "%s:%d: %s", c->name, line, msg);
}

static void join(char *buf, size_t len, const char *prefix, const char *key)
{
	if (!key)
		snprintf(buf, len, "%s", prefix);
	else if (!*prefix)
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%s.%s", prefix, key);
}

/* Error at prefix.key (either may be empty/NULL), on that key's line. */
__attribute__((format(printf, 4, 5)))
static int cfg_err(struct cfg_ctx *c, const char *prefix, const char *key,
		   const char *fmt, ...)
{
	char path[PATH_MAX_LEN], msg[XLB_ERR_MAX];
	va_list ap;

	join(path, sizeof(path), prefix, key);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(c, path_line(c->doc, path), path, msg);
	return -EINVAL;
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

/* libcyaml's errors */

static void cy_log_fn(cyaml_log_t level, void *ctx, const char *fmt,
		      va_list args)
{
	struct cy_log *log = ctx;
	char line[CY_LINE_MAX];
	size_t n;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(line, sizeof(line), fmt, args);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';

	if (!strncmp(line, "  in ", 5)) {
		if (log->nbt < CY_BT_MAX)
			strcpy(log->bt[log->nbt++], line);
	} else if (!log->msg[0] && strcmp(line, "Load: Backtrace:")) {
		strcpy(log->msg, line);
	}
}

/*
 * One backtrace line to a path step: "  in mapping field 'x' (line: ...)"
 * gives ".x", "  in sequence entry 'N' (...)" gives "[N-1]" (libcyaml
 * counts entries from 1), "  in mapping (...)" nothing. The older
 * "field: x" / "entry: N" forms are understood too.
 */
static void bt_step(const char *bt, char *path, size_t len)
{
	static const char field[] = "  in mapping field", entry[] = "  in sequence entry";
	size_t used = strlen(path), n;
	const char *p;

	if (!strncmp(bt, field, sizeof(field) - 1)) {
		p = bt + sizeof(field) - 1;
		p += strspn(p, ": '");
		n = strcspn(p, "' ");
		snprintf(path + used, len - used, "%s%.*s", used ? "." : "",
			 (int)n, p);
	} else if (!strncmp(bt, entry, sizeof(entry) - 1)) {
		unsigned long i;

		p = bt + sizeof(entry) - 1;
		p += strspn(p, ": '");
		i = strtoul(p, NULL, 10);
		if (i > 0)
			snprintf(path + used, len - used, "[%lu]", i - 1);
	}
}

static const char *cy_kind(const char *s)
{
	if (!strncmp(s, "SEQUENCE", 8))
		return "a list";
	if (!strncmp(s, "MAPPING", 7))
		return "a mapping";
	return "a single value";
}

static int cyaml_error(struct cfg_ctx *c, const struct cy_log *log,
		       cyaml_err_t cerr)
{
	static const char unknown[] = "Load: Unexpected key: ";
	static const char missing[] = "Load: Missing required mapping field: ";
	static const char twice[] = "Load: Mapping field already seen: ";
	static const char expect[] = "Load: Expecting ";
	static const char noanchor[] = "Load: No anchor found for alias: ";
	char path[PATH_MAX_LEN] = "", msg[XLB_ERR_MAX], q[XLB_QUOTE_MAX];
	const char *m = log->msg;
	unsigned int i, skip = 0;
	int line;

	if (cerr == CYAML_ERR_OOM) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
		return -ENOMEM;
	}

	/*
	 * For a missing or repeated key, libcyaml's innermost step names
	 * whichever field it saw last: the message is about the mapping.
	 */
	if ((!strncmp(m, missing, sizeof(missing) - 1) ||
	     !strncmp(m, twice, sizeof(twice) - 1)) && log->nbt &&
	    strstr(log->bt[0], "in mapping field"))
		skip = 1;
	for (i = log->nbt; i > skip; i--)
		bt_step(log->bt[i - 1], path, sizeof(path));
	line = path_line(c->doc, path);

	if (!strncmp(m, unknown, sizeof(unknown) - 1)) {
		m += sizeof(unknown) - 1;
		line = key_line(c->doc, path, m, 1);
		snprintf(msg, sizeof(msg), "unknown key '%s'",
			 xlb_quote(m, q, sizeof(q)));
	} else if (!strncmp(m, missing, sizeof(missing) - 1)) {
		m += sizeof(missing) - 1;
		snprintf(msg, sizeof(msg), "missing key '%s'",
			 xlb_quote(m, q, sizeof(q)));
	} else if (!strncmp(m, twice, sizeof(twice) - 1)) {
		m += sizeof(twice) - 1;
		line = key_line(c->doc, path, m, 2);
		snprintf(msg, sizeof(msg), "duplicate key '%s'",
			 xlb_quote(m, q, sizeof(q)));
	} else if (!strncmp(m, expect, sizeof(expect) - 1)) {
		const char *got = strstr(m, "got event: ");

		m += sizeof(expect) - 1;
		snprintf(msg, sizeof(msg), "expected %s, got %s", cy_kind(m),
			 got ? cy_kind(got + 11) : "something else");
	} else if (!strncmp(m, noanchor, sizeof(noanchor) - 1)) {
		/* libyaml has vouched for every alias: this one is inside its anchor. */
		m += sizeof(noanchor) - 1;
		snprintf(msg, sizeof(msg), "recursive alias %s",
			 xlb_quote(m, q, sizeof(q)));
	} else if (!strncmp(m, "Load: ", 6)) {
		snprintf(msg, sizeof(msg), "%s", xlb_quote(m + 6, q, sizeof(q)));
	} else {
		snprintf(msg, sizeof(msg), "%s", cyaml_strerror(cerr));
	}
	report(c, line, path, msg);
	return -EINVAL;
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
		if (path_node(c->doc, "interfaces", &line))
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
				       path_line(c->doc, first));
		}
		strcpy(cfg->ifaces[i], y->interfaces[i]);
	}
	cfg->nifaces = y->interfaces_count;
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
	join(p, sizeof(p), prefix, key);
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
	__u32 port = 0;
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
	return get_timing(c, hp, y->interval, y->timeout, y->rise, y->fall,
			  (struct timing_out){ &h->interval_ms, &h->timeout_ms, &h->rise, &h->fall });
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
	b->line = path_line(c->doc, bp);
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
static int conv_vip(struct cfg_ctx *c, const char *vp, const struct y_vip *y,
		    struct xlb_config *cfg, __u32 n, __u32 *total)
{
	struct xlb_vip_cfg *v = &cfg->vips[n];
	char why[XLB_ERR_MAX], bp[PATH_MAX_LEN];
	const char *key;
	__u32 i;
	int err, dup;

	v->line = path_line(c->doc, vp);
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
	if (xlb_vip_settings_check(v, &key, why, sizeof(why)))
		return settings_err(c, vp, key, why, y->health && y->health->timeout);

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
	return 0;
}

/* libyaml's own complaint about the text, with its line. */
static int yaml_error(struct cfg_ctx *c, yaml_parser_t *parser,
		      const char *yaml, size_t len)
{
	size_t line = parser->problem_mark.line + 1, i;
	int n;

	if (parser->error == YAML_MEMORY_ERROR) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
		return -ENOMEM;
	}
	if (parser->error == YAML_READER_ERROR) {
		/* Reader errors give a byte offset, not a mark. */
		line = 1;
		for (i = 0; i < parser->problem_offset && i < len; i++)
			line += yaml[i] == '\n';
	}
	n = snprintf(c->err, c->errlen, "%s:%zu: YAML syntax error: %s",
		     c->name, line,
		     parser->problem ? parser->problem : "unknown error");
	/* Where an unclosed construct began is often the real mistake. */
	if (parser->context && parser->context_mark.line + 1 != line &&
	    n > 0 && (size_t)n < c->errlen)
		snprintf(c->err + n, c->errlen - n, " (%s at line %zu)",
			 parser->context, parser->context_mark.line + 1);
	return -EINVAL;
}

static int is_null(const char *s)
{
	return !strcmp(s, "") || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* A document that holds nothing: no node, or a lone null ("---"). */
static int doc_is_empty(yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);

	if (!root)
		return 1;
	return root->type == YAML_SCALAR_NODE &&
	       root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       is_null((const char *)root->data.scalar.value);
}

/*
 * What libcyaml would mishandle: a list or mapping used as a key (it has
 * no message for that) and a NUL inside a value (C strings end there).
 */
static int check_nodes(struct cfg_ctx *c)
{
	yaml_node_t *n, *k;
	yaml_node_pair_t *p;

	for (n = c->doc->nodes.start; n < c->doc->nodes.top; n++) {
		if (n->type == YAML_SCALAR_NODE &&
		    memchr(n->data.scalar.value, '\0', n->data.scalar.length)) {
			snprintf(c->err, c->errlen,
				 "%s:%d: NUL character in a value", c->name,
				 node_line(n));
			return -EINVAL;
		}
		if (n->type != YAML_MAPPING_NODE)
			continue;
		for (p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			k = yaml_document_get_node(c->doc, p->key);
			if (!k || k->type == YAML_SCALAR_NODE)
				continue;
			snprintf(c->err, c->errlen,
				 "%s:%d: expected a key name, got %s", c->name,
				 node_line(k), k->type == YAML_SEQUENCE_NODE ?
				 "a list" : "a mapping");
			return -EINVAL;
		}
	}
	return 0;
}

static int load_doc(struct cfg_ctx *c, const char *yaml, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root;
	int err = 0;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, c->doc)) {
		err = yaml_error(c, &parser, yaml, len);
		goto out;
	}
	/* libcyaml reads only the first document: refuse to drop the rest. */
	if (!yaml_parser_load(&parser, &extra)) {
		err = yaml_error(c, &parser, yaml, len);
		goto out_doc;
	}
	root = yaml_document_get_root_node(&extra);
	if (root) {
		snprintf(c->err, c->errlen,
			 "%s:%d: only one YAML document is allowed", c->name,
			 node_line(root));
		err = -EINVAL;
	}
	yaml_document_delete(&extra);
	if (err)
		goto out_doc;

	err = check_nodes(c);
	if (err)
		goto out_doc;
	root = yaml_document_get_root_node(c->doc);
	if (!doc_is_empty(c->doc) && root->type != YAML_MAPPING_NODE) {
		snprintf(c->err, c->errlen,
			 "%s:%d: expected a mapping at the top level",
			 c->name, node_line(root));
		err = -EINVAL;
		goto out_doc;
	}
	goto out;
out_doc:
	yaml_document_delete(c->doc);
out:
	yaml_parser_delete(&parser);
	return err;
}

int xlb_config_parse(const char *yaml, size_t len, const char *name,
		     struct xlb_config *cfg, char *err, size_t errlen)
{
	struct cy_log log = {};
	cyaml_config_t cy = {
		.log_fn = cy_log_fn,
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
	/* of these bytes: a later edit of the file is not what was applied */
	snprintf(tmp.digest, sizeof(tmp.digest), "crc32:%08lx:%zu",
		 crc32_z(crc32(0L, Z_NULL, 0), (const Bytef *)yaml, len), len);
	ret = load_doc(&c, yaml, len);
	if (ret)
		return ret;
	if (doc_is_empty(&doc))
		goto done;

	cerr = cyaml_load_data((const uint8_t *)yaml, len, &cy, &config_schema,
			       (cyaml_data_t **)&y, NULL);
	if (cerr != CYAML_OK) {
		ret = cyaml_error(&c, &log, cerr);
		goto out_doc;
	}
	if (!y)
		goto done;

	ret = conv_global(&c, y, &tmp);
	if (!ret)
		ret = conv_vips(&c, y, &tmp);
	cyaml_free(&cy, &config_schema, y, 0);
	if (ret) {
		xlb_config_free(&tmp);
		goto out_doc;
	}
done:
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
