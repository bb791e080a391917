// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the config file loader (user/config.c). The messages are
 * what an operator sees, so invalid configs assert the exact string.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../user/lib/config.h"
#include "../../user/lib/state.h"
#include "../../user/lib/syntax.h"
#include "../../user/lib/validate.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int parse(const char *yaml, struct xlb_config *cfg, char *err)
{
	return xlb_config_parse(yaml, strlen(yaml), "t.yaml", cfg, err,
				XLB_ERR_MAX);
}

static void assert_addr(const __be32 a[4], const char *want)
{
	char buf[XLB_ADDR_STR_MAX];

	xlb_format_addr(a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void assert_vip(const struct vip_key *k, const char *want)
{
	char buf[XLB_VIP_STR_MAX];

	xlb_format_vip(k, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(k->flags, 0);
}

/* timing: the overrides interval, timeout (ms), rise and fall; 0 = the VIP's */
static void assert_backend(const struct xlb_backend_cfg *b, const char *addr, __u32 weight,
			   __u32 admin, const __u32 timing[4], int line)
{
	assert_addr(b->addr, addr);
	assert_int_equal(b->weight, weight);
	assert_int_equal(b->admin, admin);
	assert_int_equal(b->interval_ms, timing[0]);
	assert_int_equal(b->timeout_ms, timing[1]);
	assert_int_equal(b->rise, timing[2]);
	assert_int_equal(b->fall, timing[3]);
	assert_int_equal(b->line, line);
}

static const char full_yaml[] =
	"# every key\n"						/* 1 */
	"interfaces: [eth0, ens1f0]\n"
	"xdp_mode: generic\n"
	"conntrack: { size: 2000000, tcp_idle: 10m, udp_idle: 45s, tcp_closing: 4s }\n"
	"metrics: 198.18.0.2:9100\n"				/* 5 */
	"vips:\n"
	"  - vip: 192.0.2.10:80/tcp\n"
	"    scheduler: source-hash\n"
	"    forward: l2dsr\n"
	"    health: { check: http, path: /healthz, port: 8080, interval: 3s,\n" /* 10 */
	"              timeout: 1500ms, rise: 4, fall: 5 }\n"
	"    backends:\n"
	"      - { address: 198.18.0.11, weight: 100 }\n"
	"      - { address: 198.18.0.12, weight: 65535, state: drain }\n"
	"      - address: 198.18.0.13\n"			/* 15 */
	"        weight: 1\n"
	"        state: disabled\n"
	"        health: { interval: 1s, timeout: 500ms, rise: 1, fall: 2 }\n"
	"      - { address: 198.18.0.14, state: enabled, health: { timeout: 2s } }\n"
	"  - vip: \"[2001:db8::10]:443/udp\"\n"		/* 20 */
	"    scheduler: maglev\n"
	"    health:\n"
	"      check: https\n"
	"      path: /\n"
	"    backends:\n"					/* 25 */
	"      - address: 2001:db8::1\n"
	"      - address: 2001:DB8::2\n"
	"  - vip: 192.0.2.10:0/udp\n"
	"    health: { check: none }\n"
	"  - vip: 192.0.2.11:53/udp\n"				/* 30 */
	"    health: { check: tcp, port: 0 }\n"
	"    backends: []\n";

static void test_full(void **state)
{
	struct xlb_config cfg;
	const struct xlb_vip_cfg *v;
	char err[XLB_ERR_MAX] = "";

	(void)state;
	assert_int_equal(parse(full_yaml, &cfg, err), 0);
	assert_string_equal(err, "");

	assert_int_equal(cfg.nifaces, 2);
	assert_string_equal(cfg.ifaces[0], "eth0");
	assert_string_equal(cfg.ifaces[1], "ens1f0");
	assert_int_equal(cfg.xdp_mode, XLB_XDP_GENERIC);
	assert_int_equal(cfg.ct_size, 2000000);
	assert_int_equal(cfg.tcp_idle_ms, 600000);
	assert_int_equal(cfg.udp_idle_ms, 45000);
	assert_int_equal(cfg.tcp_closing_ms, 4000);
	assert_string_equal(cfg.metrics, "198.18.0.2:9100");
	assert_int_equal(cfg.nvips, 4);

	v = &cfg.vips[0];
	assert_vip(&v->key, "192.0.2.10:80/tcp");
	assert_int_equal(v->line, 7);
	assert_int_equal(v->sched, XLB_SCHED_SOURCE_HASH);
	assert_int_equal(v->forward, XLB_FWD_L2DSR);
	assert_int_equal(v->health.kind, XLB_CHECK_HTTP);
	assert_string_equal(v->health.path, "/healthz");
	assert_int_equal(v->health.port, 8080);
	assert_int_equal(v->health.interval_ms, 3000);
	assert_int_equal(v->health.timeout_ms, 1500);
	assert_int_equal(v->health.rise, 4);
	assert_int_equal(v->health.fall, 5);
	assert_int_equal(v->nbackends, 4);

	assert_backend(&v->backends[0], "198.18.0.11", 100, XLB_ADMIN_ENABLED,
		       (const __u32[]){ 0, 0, 0, 0 }, 13);
	assert_backend(&v->backends[1], "198.18.0.12", 65535, XLB_ADMIN_DRAIN,
		       (const __u32[]){ 0, 0, 0, 0 }, 14);
	assert_backend(&v->backends[2], "198.18.0.13", 1, XLB_ADMIN_DISABLED,
		       (const __u32[]){ 1000, 500, 1, 2 }, 15);
	/* Override timeout 2s < the VIP's interval 3s: accepted. */
	assert_backend(&v->backends[3], "198.18.0.14", 100, XLB_ADMIN_ENABLED,
		       (const __u32[]){ 0, 2000, 0, 0 }, 19);

	v = &cfg.vips[1];
	assert_vip(&v->key, "[2001:db8::10]:443/udp");
	assert_int_equal(v->line, 20);
	assert_int_equal(v->sched, XLB_SCHED_MAGLEV);
	assert_int_equal(v->health.kind, XLB_CHECK_HTTPS);
	assert_string_equal(v->health.path, "/");
	assert_int_equal(v->health.port, 0);
	assert_int_equal(v->health.interval_ms, 2000);
	assert_int_equal(v->health.timeout_ms, 1000);
	assert_int_equal(v->nbackends, 2);
	assert_addr(v->backends[0].addr, "2001:db8::1");
	assert_addr(v->backends[1].addr, "2001:db8::2");
	assert_int_equal(v->backends[1].line, 27);

	/* Port-0 VIP: the check port stays 0 for the daemon to pick. */
	v = &cfg.vips[2];
	assert_vip(&v->key, "192.0.2.10:0/udp");
	assert_int_equal(v->health.kind, XLB_CHECK_NONE);
	assert_int_equal(v->health.port, 0);
	assert_int_equal(v->nbackends, 0);
	assert_null(v->backends);

	v = &cfg.vips[3];
	assert_vip(&v->key, "192.0.2.11:53/udp");
	assert_int_equal(v->health.kind, XLB_CHECK_TCP);
	assert_int_equal(v->nbackends, 0);

	xlb_config_free(&cfg);
	assert_null(cfg.vips);
	assert_int_equal(cfg.nvips, 0);
}

/* weight: 0 drains, as in IPVS; with state enabled drain wins, disabled stays disabled. */
static void test_weight_zero(void **state)
{
	static const char yaml[] =
		"vips:\n"
		"  - vip: 198.18.0.10:80/tcp\n"
		"    backends:\n"
		"      - { address: 198.18.1.1, weight: 0 }\n"
		"      - { address: 198.18.1.2, weight: 0, state: enabled }\n"
		"      - { address: 198.18.1.3, weight: 0, state: drain }\n"
		"      - { address: 198.18.1.4, weight: 0, state: disabled }\n"
		"      - { address: 198.18.1.5, weight: 1 }\n";
	static const __u32 want[] = { XLB_ADMIN_DRAIN, XLB_ADMIN_DRAIN, XLB_ADMIN_DRAIN,
				      XLB_ADMIN_DISABLED, XLB_ADMIN_ENABLED };
	struct xlb_config cfg;
	char err[XLB_ERR_MAX] = "";
	__u32 i;

	(void)state;
	assert_int_equal(parse(yaml, &cfg, err), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.vips[0].nbackends, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(cfg.vips[0].backends[i].weight, i == 4 ? 1 : 0);
		assert_int_equal(xlb_backend_admin(&cfg.vips[0].backends[i]), want[i]);
	}
	/* the weight, not the state, holds the drain: state.json keeps it as written */
	assert_int_equal(cfg.vips[0].backends[1].admin, XLB_ADMIN_ENABLED);
	xlb_config_free(&cfg);
}

static void assert_defaults(const struct xlb_config *cfg)
{
	assert_int_equal(cfg->nifaces, 0);
	assert_int_equal(cfg->xdp_mode, XLB_XDP_NATIVE);
	assert_int_equal(cfg->ct_size, XLB_CT_SIZE);
	assert_int_equal(cfg->tcp_idle_ms, 300000);
	assert_int_equal(cfg->udp_idle_ms, 30000);
	assert_int_equal(cfg->tcp_closing_ms, 10000);
	assert_string_equal(cfg->metrics, "");
}

static void test_defaults(void **state)
{
	static const char yaml[] =
		"vips:\n"
		"  - vip: 192.0.2.10:80/tcp\n"
		"    backends:\n"
		"      - address: 198.18.0.11\n";
	struct xlb_health_cfg h;
	struct xlb_config cfg;
	const struct xlb_vip_cfg *v;
	char err[XLB_ERR_MAX];

	(void)state;
	xlb_health_cfg_default(&h);
	assert_int_equal(h.kind, XLB_CHECK_TCP);
	assert_string_equal(h.path, "/");
	assert_int_equal(h.port, 0);
	assert_int_equal(h.interval_ms, 2000);
	assert_int_equal(h.timeout_ms, 1000);
	assert_int_equal(h.rise, 2);
	assert_int_equal(h.fall, 3);

	assert_int_equal(parse(yaml, &cfg, err), 0);
	assert_defaults(&cfg);
	assert_int_equal(cfg.nvips, 1);
	v = &cfg.vips[0];
	assert_int_equal(v->sched, XLB_SCHED_MAGLEV);
	assert_int_equal(v->forward, XLB_FWD_L2DSR);
	assert_memory_equal(&v->health, &h, sizeof(h));
	assert_int_equal(v->nbackends, 1);
	assert_int_equal(v->backends[0].weight, 100);
	assert_int_equal(v->backends[0].admin, XLB_ADMIN_ENABLED);
	assert_int_equal(v->backends[0].interval_ms, 0);
	assert_int_equal(v->backends[0].timeout_ms, 0);
	assert_int_equal(v->backends[0].rise, 0);
	assert_int_equal(v->backends[0].fall, 0);
	assert_int_equal(v->backends[0].line, 4);
	xlb_config_free(&cfg);
}

/* announce: off unless given; min_up 1 unless given; both as written. */
static void test_announce(void **state)
{
	static const char yaml[] =
		"announce: { table: 100, protocol: 200 }\n"
		"vips:\n"
		"  - vip: 192.0.2.10:80/tcp\n"
		"    min_up: 2\n"
		"  - vip: 192.0.2.10:443/tcp\n";
	struct xlb_config cfg;
	char err[XLB_ERR_MAX];

	(void)state;
	assert_int_equal(parse("vips:\n  - vip: 192.0.2.10:80/tcp\n", &cfg, err), 0);
	assert_int_equal(cfg.announce.table, 0);
	assert_int_equal(cfg.vips[0].min_up, 1);
	assert_int_equal(cfg.host_withdrawn, 0);
	xlb_config_free(&cfg);

	assert_int_equal(parse("metrics_allow: [198.18.0.0/15, \"2001:db8::/32\"]\n", &cfg, err), 0);
	assert_int_equal(cfg.nmetrics_allow, 2);
	assert_int_equal(cfg.metrics_allow[0].len, 96 + 15); /* v4-mapped */
	assert_int_equal(cfg.metrics_allow[1].len, 32);
	xlb_config_free(&cfg);

	assert_int_equal(parse(yaml, &cfg, err), 0);
	assert_int_equal(cfg.announce.table, 100);
	assert_int_equal(cfg.announce.protocol, 200);
	assert_int_equal(cfg.vips[0].min_up, 2);
	assert_int_equal(cfg.vips[1].min_up, 1);
	xlb_config_free(&cfg);
}

/* scheduler and persist as written; persist off, its prefixes /32 and /64 unless given. */
static void test_sched_persist(void **state)
{
	static const char yaml[] =
		"vips:\n"
		"  - vip: 192.0.2.10:80/tcp\n"
		"    scheduler: wrr\n"
		"    persist: 5m\n"
		"    persist_prefix_v4: 24\n"
		"  - vip: 192.0.2.10:443/tcp\n"
		"    scheduler: lt\n"
		"    health: { interval: 1s }\n";
	struct xlb_config cfg;
	char err[XLB_ERR_MAX];

	(void)state;
	assert_int_equal(parse(yaml, &cfg, err), 0);
	assert_int_equal(cfg.vips[0].sched, XLB_SCHED_WRR);
	assert_int_equal(cfg.vips[0].persist_ms, 300000);
	assert_int_equal(cfg.vips[0].persist_prefix4, 24);
	assert_int_equal(cfg.vips[0].persist_prefix6, 64);
	assert_int_equal(cfg.vips[1].sched, XLB_SCHED_LT);
	/* no timeout given: the default 1s, or half an interval it does not fit */
	assert_int_equal(cfg.vips[0].health.timeout_ms, 1000);
	assert_int_equal(cfg.vips[1].health.interval_ms, 1000);
	assert_int_equal(cfg.vips[1].health.timeout_ms, 500);
	assert_int_equal(cfg.vips[1].persist_ms, 0);
	assert_int_equal(cfg.vips[1].persist_prefix4, 32);
	xlb_config_free(&cfg);
}

/* Nothing at all, or only comments or nulls, is a valid empty config. */
static void test_empty(void **state)
{
	static const char *const empty[] = {
		"", "\n", "# just a comment\n\n   # another\n", "---\n",
		"--- ~\n", "---\n...\n", "vips:\n", "vips: []\n",
		"conntrack:\nvips: ~\n", "{}\n",
	};
	struct xlb_config cfg;
	char err[XLB_ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(empty); i++) {
		memset(&cfg, 0xa5, sizeof(cfg));
		err[0] = '\0';
		if (parse(empty[i], &cfg, err)) {
			print_error("'%s': %s\n", empty[i], err);
			fail();
		}
		assert_defaults(&cfg);
		assert_int_equal(cfg.nvips, 0);
		assert_null(cfg.vips);
		xlb_config_free(&cfg);
	}
}

struct bad_case {
	const char *yaml;
	const char *err;
};

#define VIP4 "vips:\n  - vip: 192.0.2.10:80/tcp\n"
#define VIP6 "vips:\n  - vip: \"[2001:db8::10]:80/tcp\"\n"
#define BE "    backends:\n      - address: 198.18.0.11\n"

static const struct bad_case bad[] = {
	/* schema: unknown keys, wrong types, missing and repeated keys */
	{ "interfaces: [eth0]\nfoo: 1\n",
	  "t.yaml:2: unknown key 'foo'" },
	{ VIP4 BE "        wieght: 5\n",
	  "t.yaml:5: vips[0].backends[0]: unknown key 'wieght'" },
	{ VIP4 "    health: { check: tcp, intreval: 2s }\n",
	  "t.yaml:3: vips[0].health: unknown key 'intreval'" },
	{ VIP4 BE "        health: { check: tcp }\n",
	  "t.yaml:5: vips[0].backends[0].health: unknown key 'check'" },
	{ "conntrack:\n  size: 2048\n  Size: 4096\n",
	  "t.yaml:3: conntrack: unknown key 'Size'" },
	{ "interfaces: eth0\n",
	  "t.yaml:1: interfaces: expected a list, got a single value" },
	{ "interfaces:\n",
	  "t.yaml:1: interfaces: expected a list, got a single value" },
	{ "interfaces: [eth0, [eth1]]\n",
	  "t.yaml:1: interfaces[1]: expected a single value, got a list" },
	{ VIP4 "    backends: { address: 198.18.0.11 }\n",
	  "t.yaml:3: vips[0].backends: expected a list, got a mapping" },
	{ VIP4 BE "        weight: [1]\n",
	  "t.yaml:5: vips[0].backends[0].weight: expected a single value, got a list" },
	{ VIP4 "    health: http\n",
	  "t.yaml:3: vips[0].health: expected a mapping, got a single value" },
	{ "vips:\n  - scheduler: maglev\n    forward: l2dsr\n",
	  "t.yaml:2: vips[0]: missing key 'vip'" },
	{ VIP4 "    backends:\n      - address: 198.18.0.11\n      - {}\n",
	  "t.yaml:5: vips[0].backends[1]: missing key 'address'" },
	{ VIP4 "    scheduler: maglev\n    scheduler: source-hash\n",
	  "t.yaml:4: vips[0]: duplicate key 'scheduler'" },
	{ "- vip: 192.0.2.10:80/tcp\n",
	  "t.yaml:1: expected a mapping at the top level" },
	{ "a: 1\n---\nb: 2\n",
	  "t.yaml:3: only one YAML document is allowed" },

	{ "? [a]\n: b\n",
	  "t.yaml:1: expected a key name, got a list" },
	{ "xdp_mode: \"native\\0\"\n",
	  "t.yaml:1: NUL character in a value" },
	{ "vips: &a [*a]\n",
	  "t.yaml:1: vips: recursive alias 'a'" },

	/* YAML syntax */
	{ VIP4 "   backends: []\n",
	  "t.yaml:3: YAML syntax error: did not find expected '-' indicator (while parsing a block collection at line 2)" },
	{ "interfaces: [eth0\nxdp_mode: native\n",
	  "t.yaml:2: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 1)" },
	{ "vips:\n\t- vip: 192.0.2.10:80/tcp\n",
	  "t.yaml:2: YAML syntax error: found character that cannot start any token" },
	{ "xdp_mode: native\nmetrics: a: b\n",
	  "t.yaml:2: YAML syntax error: mapping values are not allowed in this context" },
	{ "xdp_mode: *mode\n",
	  "t.yaml:1: YAML syntax error: found undefined alias" },

	/* interfaces, xdp_mode, conntrack, metrics */
	{ "interfaces: [a, b, c, d, e, f, g, h, i]\n",
	  "t.yaml:1: interfaces: too many interfaces (9, max 8)" },
	{ "interfaces: []\n",
	  "t.yaml:1: interfaces: no interfaces listed (1 to 8)" },
	{ "interfaces:\n  - eth0\n  - eth1\n  - eth0\n",
	  "t.yaml:4: interfaces[2]: duplicate interface 'eth0' (first at line 2)" },
	{ "interfaces: [eth0, a-very-long-name0]\n",
	  "t.yaml:1: interfaces[1]: interface name too long (max 15 chars) 'a-very-long-name0'" },
	{ "interfaces: [\"eth 0\"]\n",
	  "t.yaml:1: interfaces[0]: bad interface name 'eth 0'" },
	{ "interfaces: [\"\"]\n",
	  "t.yaml:1: interfaces[0]: empty interface name" },
	{ "metrics_allow:\n  - 198.18.0.0/15\n  - 198.18.0.300/32\n",
	  "t.yaml:3: metrics_allow[1]: bad IPv4 address '198.18.0.300/32'" },
	{ "xdp_mode: skb\n",
	  "t.yaml:1: xdp_mode: bad XDP mode (native or generic) 'skb'" },
	{ "conntrack:\n  size: 1023\n",
	  "t.yaml:2: conntrack.size: out of range (1024..100000000) '1023'" },
	{ "conntrack: { size: 100000001 }\n",
	  "t.yaml:1: conntrack.size: out of range (1024..100000000) '100000001'" },
	{ "conntrack: { size: 1e6 }\n",
	  "t.yaml:1: conntrack.size: not a number '1e6'" },
	{ "conntrack:\n  tcp_idle: 300\n",
	  "t.yaml:2: conntrack.tcp_idle: bad duration (e.g. 2s, 500ms) '300'" },
	{ "conntrack:\n  udp_idle: 0s\n",
	  "t.yaml:2: conntrack.udp_idle: out of range (1s..168h) '0s'" },
	{ "conntrack:\n  tcp_closing: 500ms\n",
	  "t.yaml:2: conntrack.tcp_closing: out of range (1s..168h) '500ms'" },
	{ "metrics: 198.18.0.2\n",
	  "t.yaml:1: metrics: missing port '198.18.0.2'" },
	{ "metrics: 198.18.0.2:0\n",
	  "t.yaml:1: metrics: bad port '198.18.0.2:0'" },
	/* the old reader took six digits here as port 9100 */
	{ "metrics: 198.18.0.2:009100\n",
	  "t.yaml:1: metrics: bad port '198.18.0.2:009100'" },
	{ "metrics: \"[2001:db8::2]:009100\"\n",
	  "t.yaml:1: metrics: bad port '[2001:db8::2]:009100'" },
	{ "metrics: \"2001:db8::2:9100\"\n",
	  "t.yaml:1: metrics: IPv6 address needs brackets '2001:db8::2:9100'" },
	{ "metrics: localhost:9100\n",
	  "t.yaml:1: metrics: bad IPv4 address 'localhost:9100'" },

	/* VIPs */
	{ "vips:\n  - vip: 192.0.2.300:80/tcp\n",
	  "t.yaml:2: vips[0].vip: bad IPv4 address '192.0.2.300:80/tcp'" },
	{ "vips:\n  - vip: 2001:db8::10:80/tcp\n",
	  "t.yaml:2: vips[0].vip: IPv6 address needs brackets '2001:db8::10:80/tcp'" },
	{ "vips:\n  - vip: 192.0.2.10:80/sctp\n",
	  "t.yaml:2: vips[0].vip: bad protocol (tcp or udp) '192.0.2.10:80/sctp'" },
	{ "vips:\n  - vip: 192.0.2.10:65536/tcp\n",
	  "t.yaml:2: vips[0].vip: bad port '192.0.2.10:65536/tcp'" },
	{ "vips:\n  - vip: 192.0.2.10:80/tcp\n  - vip: 192.0.2.10:80/udp\n"
	  "  - vip: 192.0.2.10:80/tcp\n",
	  "t.yaml:4: vips[2].vip: duplicate VIP 192.0.2.10:80/tcp (first at line 2)" },
	{ "vips:\n  - vip: \"[2001:db8::10]:80/tcp\"\n"
	  "  - vip: \"[2001:DB8:0::10]:80/tcp\"\n",
	  "t.yaml:3: vips[1].vip: duplicate VIP [2001:db8::10]:80/tcp (first at line 2)" },
	{ VIP4 "    scheduler: random\n",
	  "t.yaml:3: vips[0].scheduler: bad scheduler (maglev, source-hash, rr, wrr, lc, wlc or lt) 'random'" },
	{ VIP4 "    forward: nat\n",
	  "t.yaml:3: vips[0].forward: bad forwarding mode (l2dsr, ipip) 'nat'" },

	/* health checks */
	{ VIP4 "    health: { check: icmp }\n",
	  "t.yaml:3: vips[0].health.check: bad check (none, tcp, http or https) 'icmp'" },
	{ VIP4 "    health:\n      check: http\n      path: healthz\n",
	  "t.yaml:5: vips[0].health.path: bad path (must start with '/') 'healthz'" },
	{ VIP4 "    health: { check: http, path: \"/a b\" }\n",
	  "t.yaml:3: vips[0].health.path: bad path (no spaces or control characters) '/a b'" },
	{ VIP4 "    health: { via: loopback }\n",
	  "t.yaml:3: vips[0].health.via: bad via (backend or vip) 'loopback'" },
	{ "encap_source: { ipv4: 192.0.2.1 }\n" VIP4 "    forward: ipip\n    health:\n      via: vip\n",
	  "t.yaml:6: vips[0].health.via: via vip needs forward l2dsr (an ipip check would have to be encapsulated)" },
	{ VIP4 "    health: { port: 65536 }\n",
	  "t.yaml:3: vips[0].health.port: out of range (0..65535) '65536'" },
	{ VIP4 "    health:\n      interval: 2\n",
	  "t.yaml:4: vips[0].health.interval: bad duration (e.g. 2s, 500ms) '2'" },
	{ VIP4 "    health:\n      interval: 1.5s\n",
	  "t.yaml:4: vips[0].health.interval: bad duration (e.g. 2s, 500ms) '1.5s'" },
	{ VIP4 "    health:\n      interval: 50ms\n",
	  "t.yaml:4: vips[0].health.interval: out of range (100ms..1h) '50ms'" },
	{ VIP4 "    health:\n      interval: 61m\n",
	  "t.yaml:4: vips[0].health.interval: out of range (100ms..1h) '61m'" },
	{ VIP4 "    health:\n      timeout: 5ms\n",
	  "t.yaml:4: vips[0].health.timeout: out of range (10ms..1h) '5ms'" },
	/* would wrap to 0 in 32 bits */
	{ VIP4 "    health:\n      timeout: 4294967296ms\n",
	  "t.yaml:4: vips[0].health.timeout: out of range (10ms..1h) '4294967296ms'" },
	{ VIP4 "    health:\n      interval: 2s\n      timeout: 2s\n",
	  "t.yaml:5: vips[0].health.timeout: timeout 2s must be less than interval 2s" },
	{ VIP4 "    health:\n      check: tcp\n      interval: 500ms\n      timeout: 1s\n",
	  "t.yaml:6: vips[0].health.timeout: timeout 1s must be less than interval 500ms" },
	{ VIP4 "    health:\n      rise: 0\n",
	  "t.yaml:4: vips[0].health.rise: out of range (1..100) '0'" },
	{ VIP4 "    health:\n      fall: 101\n",
	  "t.yaml:4: vips[0].health.fall: out of range (1..100) '101'" },
	{ VIP4 "    health:\n      fall: -1\n",
	  "t.yaml:4: vips[0].health.fall: not a number '-1'" },

	/* backends */
	{ VIP4 "    backends:\n      - address: 198.18.0.11\n"
	  "      - address: 198.18.0.300\n",
	  "t.yaml:5: vips[0].backends[1].address: bad IPv4 address '198.18.0.300'" },
	{ VIP6 "    backends:\n      - address: 2001:db8::zz\n",
	  "t.yaml:4: vips[0].backends[0].address: bad IPv6 address '2001:db8::zz'" },
	{ VIP4 "    backends:\n      - address: 2001:db8::1\n",
	  "t.yaml:4: vips[0].backends[0].address: IPv6 backend for an IPv4 VIP (only forward ipip carries one)" },
	{ VIP6 "    backends:\n      - address: 198.18.0.11\n",
	  "t.yaml:4: vips[0].backends[0].address: IPv4 backend for an IPv6 VIP" },
	/* forward ipip: sources and families */
	{ "encap_source: { ipv6: \"2001:db8::1\" }\n" VIP4 "    forward: ipip\n    backends:\n      - address: 198.18.0.11\n",
	  "t.yaml:6: vips[0].backends[0].address: forward ipip needs encap_source.ipv4 for this backend" },
	{ "encap_source: { ipv4: 198.18.0.2 }\n" VIP4 "    forward: ipip\n    backends:\n"
	  "      - address: 2001:db8::11\n",
	  "t.yaml:6: vips[0].backends[0].address: forward ipip needs encap_source.ipv6 for this backend" },
	{ "encap_source: { ipv6: 2001:db8::2 }\n" VIP6 "    forward: ipip\n    backends:\n"
	  "      - address: 198.18.0.11\n",
	  "t.yaml:6: vips[0].backends[0].address: IPv4 backend for an IPv6 VIP" },
	{ "encap_source:\n  ipv4: 198.18.0.300\n",
	  "t.yaml:2: encap_source.ipv4: bad IPv4 address '198.18.0.300'" },
	{ "encap_source:\n  ipv4: 2001:db8::2\n",
	  "t.yaml:2: encap_source.ipv4: not an IPv4 address '2001:db8::2'" },
	{ "encap_source:\n  ipv6: 2001:db8::/64\n",
	  "t.yaml:2: encap_source.ipv6: prefix too short (at least /96) '2001:db8::/64'" },
	{ "encap_source:\n  ipv4: 198.18.0.0/15\n",
	  "t.yaml:2: encap_source.ipv4: prefix too short (at least /16) '198.18.0.0/15'" },
	{ "encap_source:\n  ipv4: 198.18.0.0/33\n",
	  "t.yaml:2: encap_source.ipv4: bad prefix length '198.18.0.0/33'" },
	{ VIP4 "    backends:\n      - { address: 198.18.0.1 }\n"
	  "      - { address: 198.18.0.2 }\n      - { address: 198.18.0.1 }\n",
	  "t.yaml:6: vips[0].backends[2].address: duplicate backend 198.18.0.1 (first at line 4)" },
	/* unicast VIPs and backends only */
	{ "vips:\n  - vip: 224.0.0.5:80/tcp\n",
	  "t.yaml:2: vips[0].vip: not a unicast address '224.0.0.5'" },
	{ "vips:\n  - vip: 255.255.255.255:80/tcp\n",
	  "t.yaml:2: vips[0].vip: not a unicast address '255.255.255.255'" },
	{ "vips:\n  - vip: 0.0.0.0:80/tcp\n",
	  "t.yaml:2: vips[0].vip: not a unicast address '0.0.0.0'" },
	{ VIP4 "  - vip: 127.0.0.1:80/tcp\n",
	  "t.yaml:3: vips[1].vip: not a unicast address '127.0.0.1'" },
	{ "vips:\n  - vip: \"[ff02::1]:80/tcp\"\n",
	  "t.yaml:2: vips[0].vip: not a unicast address 'ff02::1'" },
	{ "vips:\n  - vip: \"[::]:80/tcp\"\n",
	  "t.yaml:2: vips[0].vip: not a unicast address '::'" },
	{ "vips:\n  - vip: \"[::1]:80/tcp\"\n",
	  "t.yaml:2: vips[0].vip: not a unicast address '::1'" },
	{ VIP4 BE "      - address: 224.0.0.5\n",
	  "t.yaml:5: vips[0].backends[1].address: not a unicast address '224.0.0.5'" },
	{ VIP4 "    backends:\n      - { address: 255.255.255.255 }\n",
	  "t.yaml:4: vips[0].backends[0].address: not a unicast address '255.255.255.255'" },
	{ VIP4 "    backends:\n      - { address: 0.1.2.3 }\n",
	  "t.yaml:4: vips[0].backends[0].address: not a unicast address '0.1.2.3'" },
	{ VIP4 "    backends:\n      - { address: 127.9.9.9 }\n",
	  "t.yaml:4: vips[0].backends[0].address: not a unicast address '127.9.9.9'" },
	{ VIP6 "    backends:\n      - { address: \"ff02::1\" }\n",
	  "t.yaml:4: vips[0].backends[0].address: not a unicast address 'ff02::1'" },
	{ VIP6 "    backends:\n      - { address: \"::\" }\n",
	  "t.yaml:4: vips[0].backends[0].address: not a unicast address '::'" },
	{ VIP6 "    backends:\n      - { address: \"::1\" }\n",
	  "t.yaml:4: vips[0].backends[0].address: not a unicast address '::1'" },
	{ VIP4 BE "        weight: 70000\n",
	  "t.yaml:5: vips[0].backends[0].weight: out of range (0..65535) '70000'" },
	{ VIP4 BE "        weight: heavy\n",
	  "t.yaml:5: vips[0].backends[0].weight: not a number 'heavy'" },
	{ VIP4 BE "        state: down\n",
	  "t.yaml:5: vips[0].backends[0].state: bad state (enabled, drain or disabled) 'down'" },
	{ VIP4 BE "        health:\n          timeout: 3s\n",
	  "t.yaml:6: vips[0].backends[0].health.timeout: timeout 3s must be less than interval 2s" },
	{ VIP4 BE "        health:\n          interval: 1s\n",
	  "t.yaml:6: vips[0].backends[0].health.interval: timeout 1s must be less than interval 1s" },
	{ VIP4 BE "        health: { rise: 0 }\n",
	  "t.yaml:5: vips[0].backends[0].health.rise: out of range (1..100) '0'" },
	{ VIP4 BE "        health: { interval: 10ms }\n",
	  "t.yaml:5: vips[0].backends[0].health.interval: out of range (100ms..1h) '10ms'" },

	/* announce: and min_up */
	{ "announce: { table: 254, protocol: 200 }\n",
	  "t.yaml:1: announce.table: is the kernel's default, main or local table (253..255) '254'" },
	{ "announce:\n  table: 0\n  protocol: 200\n",
	  "t.yaml:2: announce.table: out of range (1..4294967295) '0'" },
	{ "announce: { table: 100, protocol: 4 }\n",
	  "t.yaml:1: announce.protocol: out of range (5..255) '4'" },
	{ "announce:\n  table: 100\n  protocol: 256\n",
	  "t.yaml:3: announce.protocol: out of range (5..255) '256'" },
	{ "announce: { table: main, protocol: 200 }\n",
	  "t.yaml:1: announce.table: not a number 'main'" },
	{ "announce:\n  table: 100\n",
	  "t.yaml:1: announce: missing key 'protocol'" },
	{ "announce:\n  table: 100\n  protocol: 200\n  mode: file\n",
	  "t.yaml:4: announce: unknown key 'mode'" },
	{ VIP4 "    forward: ipip\n",
	  "t.yaml:3: vips[0].forward: forward ipip needs encap_source.ipv4 or encap_source.ipv6" },
	{ "encap_source: { ipv4: 192.0.2.1 }\nvips:\n  - vip: \"[2001:db8::10]:80/tcp\"\n    forward: ipip\n",
	  "t.yaml:4: vips[0].forward: forward ipip needs encap_source.ipv6 (an IPv6 VIP's backends are IPv6)" },
	{ VIP4 "    persist: 500ms\n",
	  "t.yaml:3: vips[0].persist: out of range (1s..24h) '500ms'" },
	{ VIP4 "    persist: 1m\n    persist_prefix_v6: 129\n",
	  "t.yaml:4: vips[0].persist_prefix_v6: out of range (1..128) '129'" },
	{ VIP4 "    persist_prefix_v4: 24\n",
	  "t.yaml:3: vips[0].persist_prefix_v4: a persist prefix needs persist: DURATION" },
	{ VIP4 "    min_up: 0\n",
	  "t.yaml:3: vips[0].min_up: out of range (1..65535) '0'" },
	{ VIP4 "    min_up: many\n",
	  "t.yaml:3: vips[0].min_up: not a number 'many'" },

	/* messages stay on one line whatever the value holds */
	{ VIP4 "    scheduler: |\n      maglev\n      x\n",
	  "t.yaml:3: vips[0].scheduler: bad scheduler (maglev, source-hash, rr, wrr, lc, wlc or lt) 'maglev?x?'" },
};

static void test_bad(void **state)
{
	struct xlb_config cfg, orig;
	char err[XLB_ERR_MAX];
	int failures = 0;
	size_t i;

	(void)state;
	assert_true(ARRAY_SIZE(bad) >= 20);
	memset(&orig, 0x5a, sizeof(orig));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret;

		cfg = orig;
		err[0] = '\0';
		ret = parse(bad[i].yaml, &cfg, err);
		if (ret != -EINVAL || strcmp(err, bad[i].err)) {
			print_error("case %zu: ret %d\n  got:  %s\n  want: %s\n",
				    i, ret, err, bad[i].err);
			failures++;
		}
		if (memcmp(&cfg, &orig, sizeof(cfg))) {
			print_error("case %zu: cfg was written\n", i);
			failures++;
		}
		if (strchr(err, '\n')) {
			print_error("case %zu: message has a newline\n", i);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* Growable text buffer for generated configs. */
struct text {
	char *buf;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3)))
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap * 2 + n + 1;
		t->buf = realloc(t->buf, t->cap);
		assert_non_null(t->buf);
	}
	t->len += n;
}

static void test_vip_limit(void **state)
{
	struct text t = { .buf = malloc(1), .cap = 1 };
	struct xlb_config cfg;
	char err[XLB_ERR_MAX], want[XLB_ERR_MAX];
	int i;

	(void)state;
	t.buf[0] = '\0';
	add(&t, "vips:\n");
	for (i = 0; i < XLB_MAX_VIPS; i++)
		add(&t, "  - vip: 10.%d.%d.1:80/tcp\n", i >> 8, i & 0xff);
	assert_int_equal(parse(t.buf, &cfg, err), 0);
	assert_int_equal(cfg.nvips, XLB_MAX_VIPS);
	xlb_config_free(&cfg);

	add(&t, "  - vip: 10.255.255.1:80/tcp\n");
	assert_int_equal(parse(t.buf, &cfg, err), -EINVAL);
	snprintf(want, sizeof(want), "t.yaml:1: vips: too many VIPs (%d, max %d)",
		 XLB_MAX_VIPS + 1, XLB_MAX_VIPS);
	assert_string_equal(err, want);
	free(t.buf);
}

/*
 * XLB_MAX_BACKENDS - 1 backends in total is the most that fits; spread
 * over many VIPs, and one more is refused at the first backend too many.
 */
static void test_backend_limit(void **state)
{
	const int per_vip = 128, nvips = XLB_MAX_BACKENDS / per_vip;
	struct text t = { .buf = malloc(1), .cap = 1 };
	struct xlb_config cfg;
	char err[XLB_ERR_MAX], want[XLB_ERR_MAX];
	int i, j, line;

	(void)state;
	assert_true(nvips <= XLB_MAX_VIPS);
	t.buf[0] = '\0';
	add(&t, "vips:\n");
	for (i = 0; i < nvips; i++) {
		add(&t, "  - vip: 10.%d.%d.1:80/tcp\n    backends:\n",
		    i >> 8, i & 0xff);
		for (j = 0; j < per_vip; j++)
			add(&t, "      - {address: 198.18.0.%d}\n", j + 1);
	}
	/* Line of the last backend: 1 + per VIP (2 + per_vip) lines. */
	line = 1 + (nvips - 1) * (2 + per_vip) + 2 + per_vip;
	assert_int_equal(parse(t.buf, &cfg, err), -EINVAL);
	snprintf(want, sizeof(want),
		 "t.yaml:%d: vips[%d].backends[%d]: too many backends in total (max %d)",
		 line, nvips - 1, per_vip - 1, XLB_MAX_BACKENDS - 1);
	assert_string_equal(err, want);

	/* Drop the last backend: exactly at the limit. */
	t.len -= strlen("      - {address: 198.18.0.128}\n");
	t.buf[t.len] = '\0';
	assert_int_equal(parse(t.buf, &cfg, err), 0);
	assert_int_equal(cfg.nvips, nvips);
	assert_int_equal(cfg.vips[nvips - 1].nbackends, per_vip - 1);
	xlb_config_free(&cfg);
	free(t.buf);
}

/* health.via: the key, its default, and the cap on backend addresses checked that way. */
static void test_check_via(void **state)
{
	struct text t = { .buf = malloc(1), .cap = 1 };
	const int first = 3000, second = XLB_VIA_MAX - first + 1;
	struct xlb_config cfg;
	char err[XLB_ERR_MAX], want[XLB_ERR_MAX];
	int i;

	(void)state;
	assert_int_equal(parse(VIP4 "    health: { check: http, path: /h, via: vip }\n"
			       "  - vip: 192.0.2.11:80/tcp\n    health: { via: backend }\n"
			       "  - vip: 192.0.2.12:80/tcp\n", &cfg, err), 0);
	assert_int_equal(cfg.vips[0].health.via, XLB_CHECK_VIA_VIP);
	assert_int_equal(cfg.vips[0].health.kind, XLB_CHECK_HTTP);
	assert_int_equal(cfg.vips[1].health.via, XLB_CHECK_VIA_BACKEND);
	assert_int_equal(cfg.vips[2].health.via, XLB_CHECK_VIA_BACKEND);
	xlb_config_free(&cfg);

	/* 3000 + 1097 distinct addresses: one too many, named at the second VIP */
	t.buf[0] = '\0';
	add(&t, "vips:\n  - vip: 10.0.0.1:80/tcp\n    health: { via: vip }\n    backends:\n");
	for (i = 0; i < first; i++)
		add(&t, "      - {address: 198.18.%d.%d}\n", i >> 8, i & 0xff);
	add(&t, "  - vip: 10.0.0.2:80/tcp\n    health: { via: vip }\n    backends:\n");
	for (i = first; i < first + second; i++)
		add(&t, "      - {address: 198.18.%d.%d}\n", i >> 8, i & 0xff);
	assert_int_equal(parse(t.buf, &cfg, err), -EINVAL);
	snprintf(want, sizeof(want), "t.yaml:%d: vips[1].health.via: more than %d backend "
		 "addresses checked via a VIP (%d)", 5 + first + 1, XLB_VIA_MAX, first + second);
	assert_string_equal(err, want);
	free(t.buf);

	/* the same addresses in a second via VIP count once: exactly at the cap */
	t = (struct text){ .buf = malloc(1), .cap = 1 };
	t.buf[0] = '\0';
	add(&t, "vips:\n  - vip: 10.0.0.1:80/tcp\n    health: { via: vip }\n    backends:\n");
	for (i = 0; i < XLB_VIA_MAX; i++)
		add(&t, "      - {address: 198.18.%d.%d}\n", i >> 8, i & 0xff);
	add(&t, "  - vip: 10.0.0.2:80/tcp\n    health: { via: vip }\n    backends:\n");
	for (i = 0; i < 100; i++)
		add(&t, "      - {address: 198.18.%d.%d}\n", i >> 8, i & 0xff);
	/* and a VIP checked on the backends' addresses does not count */
	add(&t, "  - vip: 10.0.0.3:80/tcp\n    backends:\n      - {address: 198.19.0.1}\n");
	assert_int_equal(parse(t.buf, &cfg, err), 0);
	assert_int_equal(cfg.nvips, 3);
	xlb_config_free(&cfg);
	free(t.buf);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/xlb-test-config-XXXXXX";
	struct xlb_config cfg;
	char err[XLB_ERR_MAX], want[XLB_ERR_MAX];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(full_yaml, f);
	fclose(f);

	assert_int_equal(xlb_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nvips, 4);
	assert_int_equal(cfg.vips[0].nbackends, 4);
	xlb_config_free(&cfg);

	/* The file name is the message prefix. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("xdp_mode: native\nvips:\n  - vip: 192.0.2.10:80\n", f);
	fclose(f);
	assert_int_equal(xlb_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3: vips[0].vip: missing protocol '192.0.2.10:80'", path);
	assert_string_equal(err, want);

	unlink(path);
	assert_int_equal(xlb_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory",
		 path);
	assert_string_equal(err, want);

	assert_int_equal(xlb_config_load("/", &cfg, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "/: cannot read: Is a directory");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * The digest is of the content parsed, not of the bytes, nor of the file
 * read again later: comments, layout and the order of VIPs and backends
 * are no change; any value is. The bytes' digest, the form state.json
 * files of earlier versions hold, still matches.
 */
static void test_digest(void **state)
{
	static const char *const same[] = {
		"interfaces: [eth0]\nvips:\n  - vip: 198.18.100.1:80/tcp\n    backends: [{ address: 198.18.0.11 }, { address: 198.18.0.12 }]\n  - vip: 198.18.100.2:80/tcp\n",
		"# a comment\ninterfaces:\n  - eth0   # the NIC\n\nvips:\n  - { vip: 198.18.100.2:80/tcp }\n  - vip: 198.18.100.1:80/tcp\n    backends:\n      - address: 198.18.0.12\n      - { address: 198.18.0.11, weight: 100 }\n",
	};
	static const char *const other[] = {
		"interfaces: [eth1]\nvips:\n  - vip: 198.18.100.1:80/tcp\n    backends: [{ address: 198.18.0.11 }, { address: 198.18.0.12 }]\n  - vip: 198.18.100.2:80/tcp\n",
		"interfaces: [eth0]\nvips:\n  - vip: 198.18.100.1:80/tcp\n    backends: [{ address: 198.18.0.11, weight: 99 }, { address: 198.18.0.12 }]\n  - vip: 198.18.100.2:80/tcp\n",
		"interfaces: [eth0]\nvips:\n  - vip: 198.18.100.1:80/tcp\n    health: { check: http, path: /x }\n    backends: [{ address: 198.18.0.11 }, { address: 198.18.0.12 }]\n  - vip: 198.18.100.2:80/tcp\n",
		"interfaces: [eth0]\nvips:\n  - vip: 198.18.100.1:80/tcp\n    backends: [{ address: 198.18.0.11 }, { address: 198.18.0.12 }]\n  - vip: 198.18.100.2:80/tcp\n    persist: 5m\n",
		"interfaces: [eth0]\nblocklist: { block: [198.18.5.0/24] }\nvips:\n  - vip: 198.18.100.1:80/tcp\n    backends: [{ address: 198.18.0.11 }, { address: 198.18.0.12 }]\n  - vip: 198.18.100.2:80/tcp\n",
		"interfaces: [eth0]\nencap_source: { ipv4: 198.18.0.2 }\nvips:\n  - vip: 198.18.100.1:80/tcp\n    backends: [{ address: 198.18.0.11 }, { address: 198.18.0.12 }]\n  - vip: 198.18.100.2:80/tcp\n",
	};
	char path[] = "/tmp/xlb-test-config-XXXXXX";
	struct xlb_config cfg, edited, legacy;
	char err[XLB_ERR_MAX], first[XLB_DIGEST_MAX];
	struct xlb_state s;
	size_t i;
	int fd;

	(void)state;
	assert_int_equal(parse(same[0], &cfg, err), 0);
	assert_true(!strncmp(cfg.digest, "yaml-crc32:", 11));
	snprintf(first, sizeof(first), "%s", cfg.digest);
	xlb_config_free(&cfg);
	assert_int_equal(parse(same[1], &cfg, err), 0);
	assert_string_equal(cfg.digest, first);
	xlb_config_free(&cfg);
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		assert_int_equal(parse(other[i], &cfg, err), 0);
		if (!strcmp(cfg.digest, first))
			fail_msg("other[%zu] has the same digest as same[0]", i);
		xlb_config_free(&cfg);
	}
	/* the bytes' digest, as earlier versions saved it */
	assert_int_equal(parse("interfaces: [eth0]\n", &legacy, err), 0);
	assert_string_equal(legacy.bytes_digest, "crc32:adfd06d0:19");
	assert_true(xlb_state_digest_matches("crc32:adfd06d0:19", NULL, &legacy));
	assert_false(xlb_state_digest_matches("crc32:adfd06d0:20", NULL, &legacy));
	/* a later build that writes the content otherwise: the same bytes still match */
	assert_true(xlb_state_digest_matches("yaml-crc32:00000000:1", "crc32:adfd06d0:19", &legacy));
	assert_false(xlb_state_digest_matches("yaml-crc32:00000000:1", "crc32:adfd06d0:20", &legacy));
	assert_false(xlb_state_digest_matches("yaml-crc32:00000000:1", "", &legacy));
	xlb_config_free(&legacy);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, same[0]);
	assert_int_equal(xlb_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.digest, first);
	xlb_state_init(&s);
	xlb_state_set_digest(&s, &cfg);
	assert_string_equal(s.digest, first);

	/* edited after loading: what was loaded keeps its digest */
	write_file(path, other[0]);
	assert_string_equal(cfg.digest, first);
	assert_int_equal(xlb_config_load(path, &edited, err, sizeof(err)), 0);
	assert_true(xlb_state_digest_matches(s.digest, s.bytes_digest, &cfg));
	assert_false(xlb_state_digest_matches(s.digest, s.bytes_digest, &edited));
	xlb_state_free(&s);
	xlb_config_free(&cfg);
	xlb_config_free(&edited);
	unlink(path);
}

/* A short or missing err buffer is fine. */
static void test_err_buffer(void **state)
{
	struct xlb_config cfg;
	char err[8];

	(void)state;
	assert_int_equal(parse("xdp_mode: x\n", &cfg, NULL), -EINVAL);
	assert_int_equal(xlb_config_parse("xdp_mode: x\n", 12, "t.yaml", &cfg,
					  err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.yaml:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_weight_zero),
		cmocka_unit_test(test_sched_persist),
		cmocka_unit_test(test_announce),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_vip_limit),
		cmocka_unit_test(test_backend_limit),
		cmocka_unit_test(test_check_via),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_err_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
