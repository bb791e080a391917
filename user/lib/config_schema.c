// SPDX-License-Identifier: GPL-2.0
/*
 * The config file's schema for libcyaml, in which every scalar is a string
 * (see config.c), and libcyaml's errors in our words: the path it logs is
 * walked again in the libyaml document (config_doc.c) for the key's line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "syntax.h"

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
	OPT_STR("via", struct y_health, via),
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

static const cyaml_schema_value_t prefix_schema = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t blocklist_fields[] = {
	OPT_STR("scope", struct y_blocklist, scope),
	CYAML_FIELD_SEQUENCE("block", OPT_NULL, struct y_blocklist, block, &prefix_schema, 0,
			     CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("allow", OPT_NULL, struct y_blocklist, allow, &prefix_schema, 0,
			     CYAML_UNLIMITED),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t limits_fields[] = {
	OPT_STR("new_flows_per_s", struct y_limits, new_flows_per_s),
	OPT_STR("burst", struct y_limits, burst),
	OPT_STR("max_conns", struct y_limits, max_conns),
	OPT_STR("prefix_v4", struct y_limits, prefix_v4),
	OPT_STR("prefix_v6", struct y_limits, prefix_v6),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t vip_fields[] = {
	REQ_STR("vip", struct y_vip, vip),
	OPT_STR("scheduler", struct y_vip, scheduler),
	OPT_STR("forward", struct y_vip, forward),
	OPT_STR("min_up", struct y_vip, min_up),
	OPT_STR("persist", struct y_vip, persist),
	OPT_STR("persist_prefix_v4", struct y_vip, persist_prefix_v4),
	OPT_STR("persist_prefix_v6", struct y_vip, persist_prefix_v6),
	CYAML_FIELD_MAPPING_PTR("health", OPT_NULL, struct y_vip, health,
				health_fields),
	CYAML_FIELD_SEQUENCE("backends", OPT_NULL, struct y_vip, backends,
			     &backend_schema, 0, CYAML_UNLIMITED),
	CYAML_FIELD_MAPPING_PTR("blocklist", OPT_NULL, struct y_vip, blocklist, blocklist_fields),
	CYAML_FIELD_MAPPING_PTR("limits", OPT_NULL, struct y_vip, limits, limits_fields),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t vip_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct y_vip, vip_fields),
};

static const cyaml_schema_field_t conntrack_fields[] = {
	OPT_STR("size", struct y_conntrack, size),
	OPT_STR("tcp_idle", struct y_conntrack, tcp_idle),
	OPT_STR("udp_idle", struct y_conntrack, udp_idle),
	OPT_STR("tcp_closing", struct y_conntrack, tcp_closing),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t encap_fields[] = {
	OPT_STR("ipv4", struct y_encap, ipv4),
	OPT_STR("ipv6", struct y_encap, ipv6),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t announce_fields[] = {
	REQ_STR("table", struct y_announce, table),
	REQ_STR("protocol", struct y_announce, protocol),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t ifname_schema = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t handoff_fields[] = {
	REQ_STR("key", struct y_handoff, key),
	REQ_STR("port", struct y_handoff, port),
	CYAML_FIELD_SEQUENCE("peers", CYAML_FLAG_POINTER, struct y_handoff, peers,
			     &ifname_schema, 1, CYAML_UNLIMITED),
	CYAML_FIELD_END
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
	CYAML_FIELD_SEQUENCE("metrics_allow", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			     struct y_config, metrics_allow, &ifname_schema, 0, CYAML_UNLIMITED),
	CYAML_FIELD_MAPPING_PTR("encap_source", OPT_NULL, struct y_config,
				encap_source, encap_fields),
	/* not OPT_NULL: "announce:" alone would turn it off unseen */
	CYAML_FIELD_MAPPING_PTR("announce", CYAML_FLAG_OPTIONAL, struct y_config,
				announce, announce_fields),
	CYAML_FIELD_MAPPING_PTR("handoff", CYAML_FLAG_OPTIONAL, struct y_config,
				handoff, handoff_fields),
	CYAML_FIELD_SEQUENCE("vips", OPT_NULL, struct y_config, vips,
			     &vip_schema, 0, CYAML_UNLIMITED),
	CYAML_FIELD_MAPPING_PTR("blocklist", OPT_NULL, struct y_config, blocklist,
				blocklist_fields),
	CYAML_FIELD_END
};

const cyaml_schema_value_t cfg_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct y_config,
			    config_fields),
};

/* libcyaml's errors */

void cfg_cy_log_fn(cyaml_log_t level, void *ctx, const char *fmt,
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

int cfg_cyaml_error(struct cfg_ctx *c, const struct cy_log *log,
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
	line = cfg_path_line(c->doc, path);

	if (!strncmp(m, unknown, sizeof(unknown) - 1)) {
		m += sizeof(unknown) - 1;
		line = cfg_key_line(c->doc, path, m, 1);
		snprintf(msg, sizeof(msg), "unknown key '%s'",
			 xlb_quote(m, q, sizeof(q)));
	} else if (!strncmp(m, missing, sizeof(missing) - 1)) {
		m += sizeof(missing) - 1;
		snprintf(msg, sizeof(msg), "missing key '%s'",
			 xlb_quote(m, q, sizeof(q)));
	} else if (!strncmp(m, twice, sizeof(twice) - 1)) {
		m += sizeof(twice) - 1;
		line = cfg_key_line(c->doc, path, m, 2);
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
	cfg_report(c, line, path, msg);
	return -EINVAL;
}

