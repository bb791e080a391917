// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A config as YAML that xlbd -c loads: what `xlbctl config dump` prints,
 * and, of a parsed file, the text its digest is taken of (so a comment or
 * a reordering is no change). Written in the file's own keys; every string
 * is double-quoted, so none needs YAML's rules.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "config_write.h"
#include "names.h"
#include "syntax.h"

static void q(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void dur(FILE *f, const char *key, __u64 ms)
{
	char buf[32];

	xlb_format_duration_ms(ms, buf, sizeof(buf));
	fprintf(f, "%s: %s", key, buf);
}

static void addr(FILE *f, const __be32 a[4])
{
	char buf[XLB_ADDR_STR_MAX];

	xlb_format_addr(a, buf, sizeof(buf));
	q(f, buf);
}

/* The rules of one VIP (vip NULL: the global ones) as blocklist: { block, allow }. */
void xlb_config_write_blocklist(FILE *f, const struct xlb_blocklist *b, const struct vip_key *vip,
				const char *indent)
{
	char buf[XLB_ADDR_STR_MAX + 8];
	int list, n = 0;
	__u32 i;

	for (i = 0; i < b->n; i++)
		n += vip ? b->rules[i].has_vip && !memcmp(&b->rules[i].vip, vip, sizeof(*vip)) :
			   !b->rules[i].has_vip;
	if (!n && (vip || !b->scope_all))
		return;
	fprintf(f, "%sblocklist:\n", indent);
	if (!vip && b->scope_all)
		fprintf(f, "%s  scope: \"all\"\n", indent);
	for (list = 0; list < 2; list++) {
		const char *sep = "[";

		fprintf(f, "%s  %s: ", indent, list ? "allow" : "block");
		for (i = 0; i < b->n; i++) {
			const struct xlb_block_rule *r = &b->rules[i];

			if (r->allow != list || (vip ? !r->has_vip || memcmp(&r->vip, vip, sizeof(*vip))
						     : r->has_vip))
				continue;
			xlb_block_prefix_format(&r->pfx, buf, sizeof(buf));
			fputs(sep, f);
			q(f, buf);
			sep = ", ";
		}
		fputs(sep[0] == '[' ? "[]\n" : "]\n", f);
	}
}

void xlb_config_write_vip(FILE *f, const struct xlb_vip_cfg *c,
			  const struct xlb_backend_cfg *const *bs, __u32 nbackends,
			  const struct xlb_blocklist *block)
{
	char buf[XLB_VIP_STR_MAX];
	__u32 j;

	xlb_format_vip(&c->key, buf, sizeof(buf));
	fputs("  - vip: ", f);
	q(f, buf);
	fprintf(f, "\n    scheduler: %s\n    forward: %s\n", xlb_sched_name(c->sched),
		xlb_forward_name(c->forward));
	fprintf(f, "    health: { check: %s", xlb_name_of(xlb_check_names, c->health.kind));
	if (c->health.kind >= XLB_CHECK_HTTP) {
		fputs(", path: ", f);
		q(f, c->health.path);
	}
	if (c->health.port)
		fprintf(f, ", port: %u", c->health.port);
	if (c->health.via != XLB_CHECK_VIA_BACKEND)
		fprintf(f, ", via: %s", xlb_name_of(xlb_check_via_names, c->health.via));
	dur(f, ", interval", c->health.interval_ms);
	dur(f, ", timeout", c->health.timeout_ms);
	fprintf(f, ", rise: %u, fall: %u }\n", c->health.rise, c->health.fall);
	fprintf(f, "    min_up: %u\n", c->min_up);
	if (c->persist_ms) {
		dur(f, "    persist", c->persist_ms);
		fprintf(f, "\n    persist_prefix_v4: %u\n    persist_prefix_v6: %u\n",
			c->persist_prefix4, c->persist_prefix6);
	}
	if (xlb_limits_on(&c->limits)) {
		const char *sep = "";

		fputs("    limits: { ", f);
		if (c->limits.rate) {
			fprintf(f, "new_flows_per_s: %u, burst: %u", c->limits.rate, c->limits.burst);
			sep = ", ";
		}
		if (c->limits.max_conns)
			fprintf(f, "%smax_conns: %u", sep, c->limits.max_conns);
		fprintf(f, ", prefix_v4: %u, prefix_v6: %u }\n", c->limits.prefix4, c->limits.prefix6);
	}
	xlb_config_write_blocklist(f, block, &c->key, "    ");
	fputs(nbackends ? "    backends:\n" : "    backends: []\n", f);
	for (j = 0; j < nbackends; j++) {
		const struct xlb_backend_cfg *b = bs[j];

		fputs("      - { address: ", f);
		addr(f, b->addr);
		fprintf(f, ", weight: %u, state: %s", b->weight, xlb_name_of(xlb_admin_names, b->admin));
		if (b->interval_ms || b->timeout_ms || b->rise || b->fall) {
			fputs(", health: { ", f);
			const char *sep = "";
			if (b->interval_ms) {
				dur(f, "interval", b->interval_ms);
				sep = ", ";
			}
			if (b->timeout_ms) {
				fputs(sep, f);
				dur(f, "timeout", b->timeout_ms);
				sep = ", ";
			}
			if (b->rise) {
				fprintf(f, "%srise: %u", sep, b->rise);
				sep = ", ";
			}
			if (b->fall)
				fprintf(f, "%sfall: %u", sep, b->fall);
			fputs(" }", f);
		}
		fputs(" }\n", f);
	}
}

void xlb_config_write_top(FILE *f, const struct xlb_config *c)
{
	char buf[XLB_ADDR_STR_MAX + 8];
	__u32 i;

	fputs("interfaces: [", f);
	for (i = 0; i < c->nifaces; i++) {
		fputs(i ? ", " : "", f);
		q(f, c->ifaces[i]);
	}
	fprintf(f, "]\nxdp_mode: %s\n", xlb_name_of(xlb_xdp_mode_names, c->xdp_mode));
	fprintf(f, "conntrack: { size: %u", c->ct_size);
	dur(f, ", tcp_idle", c->tcp_idle_ms);
	dur(f, ", udp_idle", c->udp_idle_ms);
	dur(f, ", tcp_closing", c->tcp_closing_ms);
	fputs(" }\n", f);
	if (c->metrics[0]) {
		fputs("metrics: ", f);
		q(f, c->metrics);
		fputc('\n', f);
	}
	if (c->nmetrics_allow) {
		fputs("metrics_allow: [", f);
		for (i = 0; i < c->nmetrics_allow; i++) {
			fputs(i ? ", " : "", f);
			xlb_block_prefix_format(&c->metrics_allow[i], buf, sizeof(buf));
			q(f, buf);
		}
		fputs("]\n", f);
	}
	if ((c->encap.v4.flags | c->encap.v6.flags) & XLB_ENCAP_F_SET) {
		fputs("encap_source:\n", f);
		if (c->encap.v4.flags & XLB_ENCAP_F_SET) {
			xlb_format_encap_source(&c->encap.v4, buf, sizeof(buf));
			fputs("  ipv4: ", f);
			q(f, buf);
			fputc('\n', f);
		}
		if (c->encap.v6.flags & XLB_ENCAP_F_SET) {
			xlb_format_encap_source(&c->encap.v6, buf, sizeof(buf));
			fputs("  ipv6: ", f);
			q(f, buf);
			fputc('\n', f);
		}
	}
	if (c->announce.table)
		fprintf(f, "announce: { table: %u, protocol: %u }\n", c->announce.table,
			c->announce.protocol);
	if (c->handoff.port) {
		fprintf(f, "handoff:\n  port: %u\n  key: \"", c->handoff.port);
		for (i = 0; i < sizeof(c->handoff.key); i++)
			fprintf(f, "%02x", c->handoff.key[i]);
		fputs("\"\n  peers: [", f);
		for (i = 0; i < c->handoff.npeers; i++) {
			fputs(i ? ", " : "", f);
			addr(f, c->handoff.peers[i]);
		}
		fputs("]\n", f);
	}
}

int xlb_addr_cmp(const __be32 a[4], const __be32 b[4])
{
	int a4 = xlb_addr_is_v4(a), b4 = xlb_addr_is_v4(b);

	if (a4 != b4) /* as operators read them: IPv4 first, then numerically */
		return b4 - a4;
	return memcmp(a, b, 4 * sizeof(a[0]));
}

int xlb_vip_key_cmp(const struct vip_key *a, const struct vip_key *b)
{
	int r = xlb_addr_cmp(a->addr, b->addr);

	if (r)
		return r;
	if (a->port != b->port)
		return ntohs(a->port) < ntohs(b->port) ? -1 : 1;
	return (int)a->proto - (int)b->proto;
}

static int vip_cfg_cmp(const void *pa, const void *pb)
{
	return xlb_vip_key_cmp(&(*(const struct xlb_vip_cfg *const *)pa)->key,
			       &(*(const struct xlb_vip_cfg *const *)pb)->key);
}

static int backend_cfg_cmp(const void *pa, const void *pb)
{
	return xlb_addr_cmp((*(const struct xlb_backend_cfg *const *)pa)->addr,
			    (*(const struct xlb_backend_cfg *const *)pb)->addr);
}

int xlb_config_write(FILE *f, const struct xlb_config *c)
{
	const struct xlb_vip_cfg **vs = calloc(c->nvips + 1, sizeof(*vs));
	const struct xlb_backend_cfg **bs;
	__u32 i, j;

	if (!vs)
		return -ENOMEM;
	for (i = 0; i < c->nvips; i++)
		vs[i] = &c->vips[i];
	qsort(vs, c->nvips, sizeof(*vs), vip_cfg_cmp);
	xlb_config_write_top(f, c);
	xlb_config_write_blocklist(f, &c->block, NULL, "");
	fputs(c->nvips ? "vips:\n" : "vips: []\n", f);
	for (i = 0; i < c->nvips; i++) {
		bs = calloc(vs[i]->nbackends + 1, sizeof(*bs));
		if (!bs) {
			free(vs);
			return -ENOMEM;
		}
		for (j = 0; j < vs[i]->nbackends; j++)
			bs[j] = &vs[i]->backends[j];
		qsort(bs, vs[i]->nbackends, sizeof(*bs), backend_cfg_cmp);
		xlb_config_write_vip(f, vs[i], bs, vs[i]->nbackends, &c->block);
		free(bs);
	}
	free(vs);
	return 0;
}

int xlb_config_content_digest(const struct xlb_config *c, char *out, size_t outlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int err;

	if (!f)
		return -ENOMEM;
	err = xlb_config_write(f, c);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (!err)
		snprintf(out, outlen, "yaml-crc32:%08lx:%zu",
			 crc32_z(crc32(0L, Z_NULL, 0), (const Bytef *)text, len), len);
	free(text);
	return err;
}
