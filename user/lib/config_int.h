/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the config loader (config.c): the YAML as libcyaml loads it
 * (config_schema.c), the libyaml document its line numbers come from and
 * the messages that carry them (config_doc.c).
 */
#ifndef XLB_CONFIG_INT_H
#define XLB_CONFIG_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <cyaml/cyaml.h>
#include <yaml.h>

#include "config.h"

/* Longest path: "vips[511].backends[65534].health.timeout" */
#define PATH_MAX_LEN		160
#define CY_LINE_MAX		256
#define CY_BT_MAX		16	/* deeper than our schema ever nests */

/* The YAML as libcyaml loads it: every scalar a string, NULL if absent. */
struct y_timing {
	char *interval, *timeout, *rise, *fall;
};

struct y_health {
	char *check, *path, *port, *via, *interval, *timeout, *rise, *fall;
};

struct y_backend {
	char *address, *weight, *state;
	struct y_timing *health;
};

/* blocklist: { scope, block: [PREFIX...], allow: [PREFIX...] }, global or per VIP */
struct y_blocklist {
	char *scope;
	char **block, **allow;
	unsigned int block_count, allow_count;
};

/* limits: { new_flows_per_s, burst, max_conns, prefix_v4, prefix_v6 } */
struct y_limits {
	char *new_flows_per_s, *burst, *max_conns, *prefix_v4, *prefix_v6;
};

struct y_vip {
	char *vip, *scheduler, *forward, *min_up;
	char *persist, *persist_prefix_v4, *persist_prefix_v6;
	struct y_blocklist *blocklist;
	struct y_limits *limits;
	struct y_health *health;
	struct y_backend *backends;
	unsigned int backends_count;
};

struct y_conntrack {
	char *size, *tcp_idle, *udp_idle, *tcp_closing;
};

struct y_encap {
	char *ipv4, *ipv6;
};

struct y_announce {
	char *table, *protocol;
};

struct y_handoff {
	char *key, *port;
	char **peers;
	unsigned int peers_count;
};

struct y_config {
	struct y_encap *encap_source;
	struct y_announce *announce;
	struct y_handoff *handoff;
	char **interfaces;
	unsigned int interfaces_count;
	char *xdp_mode;
	struct y_conntrack *conntrack;
	char *metrics;
	char **metrics_allow;
	unsigned int metrics_allow_count;
	struct y_vip *vips;
	unsigned int vips_count;
	struct y_blocklist *blocklist;
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

/* config_schema.c */
extern const cyaml_schema_value_t cfg_schema;
void cfg_cy_log_fn(cyaml_log_t level, void *ctx, const char *fmt, va_list args);
/* The error that stopped libcyaml, as "FILE:LINE: path: what" in c->err. */
int cfg_cyaml_error(struct cfg_ctx *c, const struct cy_log *log, cyaml_err_t cerr);

/* config_block.c: blocklist: (vip NULL) or a VIP's, at path prefix, into cfg->block */
int cfg_conv_blocklist(struct cfg_ctx *c, const char *prefix, const struct y_blocklist *y,
		       const struct vip_key *vip, struct xlb_config *cfg);

/* config_doc.c: lines are 1-based */
yaml_node_t *cfg_path_node(yaml_document_t *doc, const char *path, int *line);
int cfg_path_line(yaml_document_t *doc, const char *path);
int cfg_key_line(yaml_document_t *doc, const char *path, const char *key, int nth);
void cfg_report(struct cfg_ctx *c, int line, const char *path, const char *msg);
void cfg_join(char *buf, size_t len, const char *prefix, const char *key);
__attribute__((format(printf, 4, 5)))
int cfg_err(struct cfg_ctx *c, const char *prefix, const char *key, const char *fmt, ...);
/* Parse the text into c->doc, refusing what libcyaml would mishandle. */
int cfg_load_doc(struct cfg_ctx *c, const char *yaml, size_t len);
int cfg_doc_is_empty(yaml_document_t *doc);

#endif /* XLB_CONFIG_INT_H */
