// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb_explain() against the real XDP program, on 10,000 random flows
 * over VIPs of every kind, replayed after backend changes and idle
 * timeouts: for every packet, what explain_assert.h's check_flow says.
 *
 * Runs inside a network namespace made by tests/run.sh, which provides the
 * veth pair xlbt-pkt0/xlbt-pkt1: xlbt-pkt0 is in tx_ports (redirect),
 * xlbt-pkt1 is not (dropped redirect).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "explain_assert.h"
#include "xlb_check.h"
#include "../../user/lib/block.h"
#include "../../user/lib/vip_limits.h"

#define NFLOWS 10000

/* ---- random flows ---- */

static __u64 rng = 0x786c622165787031ULL; /* fixed seed: the same flows every run */

static __u32 below(__u32 n)
{
	__u64 z;

	/* splitmix64 */
	rng += 0x9e3779b97f4a7c15ULL;
	z = rng;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return n ? (__u32)(z % n) : 0;
}

/* Addresses that are not VIPs but share a VIP's bit in the address filter. */
static char collide4[INET6_ADDRSTRLEN], collide6[INET6_ADDRSTRLEN];

static const __u16 vip_ports[] = { 80, 53, 8080, 443 };

static void random_flow(struct tflow *f)
{
	__u32 r;

	memset(f, 0, sizeof(*f));
	f->family = below(100) < 60 ? 4 : 6;
	r = below(100);
	if (f->family == 4) {
		snprintf(f->saddr, sizeof(f->saddr), "198.18.%u.%u", below(100),
			 1 + below(254));
		if (r < 55)
			snprintf(f->daddr, sizeof(f->daddr), "198.18.100.10");
		else if (r < 65)
			snprintf(f->daddr, sizeof(f->daddr), "198.18.100.20");
		else if (r < 75)
			snprintf(f->daddr, sizeof(f->daddr), "%s", collide4);
		else if (r < 85)
			snprintf(f->daddr, sizeof(f->daddr), "198.18.100.%u", 30 + below(200));
		else
			snprintf(f->daddr, sizeof(f->daddr), "10.%u.%u.%u", below(256),
				 below(256), 1 + below(254));
		f->ip_opt_words = below(100) < 10 ? 1 + below(3) : 0;
	} else {
		snprintf(f->saddr, sizeof(f->saddr), "2001:db8::%x:%x", below(0x10000),
			 1 + below(0xfffe));
		if (r < 50)
			snprintf(f->daddr, sizeof(f->daddr), "2001:db8:100::10");
		else if (r < 65)
			snprintf(f->daddr, sizeof(f->daddr), "2001:db8:100::20");
		else if (r < 75)
			snprintf(f->daddr, sizeof(f->daddr), "%s", collide6);
		else
			snprintf(f->daddr, sizeof(f->daddr), "2001:db8:%x::%x",
				 0x100 + below(2), 0x30 + below(0xff00));
		f->ext_hdrs = below(100) < 10 ? 1 + below(2) : 0;
	}
	f->proto = below(100) < 60 ? IPPROTO_TCP : IPPROTO_UDP;
	f->sport = 1024 + below(64512);
	f->dport = below(100) < 85 ? vip_ports[below(4)] : 1 + below(65535);
	r = below(100);
	f->nvlan = r < 10 ? 1 : r < 15 ? 2 : 0;
	f->payload = below(65);
}

static __u8 random_flags(__u8 proto)
{
	__u32 r = below(100);

	if (proto != IPPROTO_TCP)
		return 0;
	/* FIN 0x01 and RST 0x04 end flows */
	return r < 30 ? SYN : r < 80 ? ACK : r < 85 ? SYN | ACK : r < 93 ? (ACK | 0x01) : 0x04;
}

/*
 * VIPs on two addresses per family: exact ports next to a port-0 VIP,
 * Maglev, source hash, rr with persist and lc, a VIP without backends,
 * backends that go down or drain; backends on lo (TX), on xlbt-pkt0 (in tx_ports: redirect) and
 * on xlbt-pkt1 (not in tx_ports: dropped).
 */
static struct vip_key web4, any4, dns4, empty4, web6, any6, one6, rr4;

static void build_world(void)
{
	__u32 pkt0 = egress_ifindex("xlbt-pkt0"), pkt1 = egress_ifindex("xlbt-pkt1");
	struct vip_sched persist = {};

	web4 = add_vip("198.18.100.10", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	any4 = add_vip("198.18.100.10", 0, IPPROTO_TCP, XLB_SCHED_SOURCE_HASH);
	dns4 = add_vip("198.18.100.10", 53, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	empty4 = add_vip("198.18.100.20", 8080, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	web6 = add_vip("2001:db8:100::10", 443, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	any6 = add_vip("2001:db8:100::10", 0, IPPROTO_UDP, XLB_SCHED_SOURCE_HASH);
	one6 = add_vip("2001:db8:100::20", 80, IPPROTO_TCP, XLB_SCHED_LC);
	/* the stateful schedulers: a rotation with persist by /24, two choices */
	rr4 = add_vip("198.18.100.20", 80, IPPROTO_TCP, XLB_SCHED_RR);
	persist.persist_ticks = XLB_TIMEOUT_TICKS(60 * FIXTURE_NS);
	persist.persist_prefix4 = 24;
	persist.persist_prefix6 = 64;
	assert_int_equal(xlb_lb_vip_persist(F.lb, &rr4, &persist), 0);

	add_backend(&web4, "198.18.0.11", 0x11);
	add_backend(&web4, "198.18.0.12", 0x12);
	add_backend(&web4, "198.18.0.13", 0x13);
	add_backend_on(&web4, "198.18.0.14", 0x14, pkt0);
	add_backend(&any4, "198.18.0.21", 0x21);
	add_backend(&any4, "198.18.0.22", 0x22);
	add_backend(&dns4, "198.18.0.31", 0x31);
	add_backend(&dns4, "198.18.0.32", 0x32);
	add_backend_on(&dns4, "198.18.0.33", 0x33, pkt0);
	add_backend_on(&dns4, "198.18.0.34", 0x34, pkt1);
	add_backend(&web6, "2001:db8::41", 0x41);
	add_backend(&web6, "2001:db8::42", 0x42);
	add_backend(&web6, "2001:db8::43", 0x43);
	add_backend(&any6, "2001:db8::51", 0x51);
	add_backend_on(&any6, "2001:db8::52", 0x52, pkt0);
	add_backend(&one6, "2001:db8::61", 0x61);
	add_backend(&one6, "2001:db8::62", 0x62);
	add_backend(&rr4, "198.18.0.71", 0x71);
	add_backend(&rr4, "198.18.0.72", 0x72);
	add_backend(&rr4, "198.18.0.73", 0x73);
	assert_int_equal(xlb_dp_tx_port_add(&F.dp, pkt0), 0);

	find_collision("198.18.100.10", "10.200.0.0", collide4);
	find_collision("2001:db8:100::10", "2001:db8:200::", collide6);
}

/*
 * After traffic: add a backend, remove one, drain one, take two down, and
 * hand a removed backend's id to a new one (its generation moves on).
 */
static void change_backends(void)
{
	__u32 reused;

	add_backend(&web4, "198.18.0.15", 0x15);
	fx_backend_del(&F, &web4, "198.18.0.12");
	fx_backend_state(&F, &web4, "198.18.0.13", XLB_BE_DRAIN);
	fx_backend_state(&F, &any4, "198.18.0.22", XLB_BE_DOWN);
	fx_backend_state(&F, &one6, "2001:db8::61", XLB_BE_DOWN);
	fx_backend_state(&F, &rr4, "198.18.0.72", XLB_BE_DRAIN);
	reused = fx_backend_find(&F, &web6, "2001:db8::42")->id;
	fx_backend_del(&F, &web6, "2001:db8::42");
	F.lb->next_backend_id = reused;
	assert_int_equal(add_backend(&web6, "2001:db8::44", 0x44), reused);
}

static void print_counts(const char *pass, const struct counts *c)
{
	print_message("# %s: %u packets: conntrack entry used %u, entry not used %u, "
		      "no entry %u; pass %u, drop %u\n",
		      pass, c->total, c->ct_used, c->ct_unused, c->ct_none, c->pass, c->drop);
	print_message("#   tx %u, redirect %u, drop_redirect %u, drop_no_backend %u, "
		      "pass_non_vip %u (filter collisions %u), pass_vip_no_port %u\n",
		      c->tx, c->redirect, c->drop_redirect, c->drop_no_backend,
		      c->pass_non_vip, c->collision, c->pass_no_port);
	print_message("#   port-0 VIP %u, source hash %u, on probation %u, probation used %u, "
		      "promoted %u, closing %u, rewritten %u, reopened %u; unused: gen %u, "
		      "down %u, idle %u\n",
		      c->port0, c->src_hash, c->inserted, c->probation_used, c->promoted,
		      c->closing, c->rewritten, c->reopened, c->why_gen, c->why_down, c->why_idle);
}

static void add_counts(struct counts *sum, const struct counts *c)
{
	unsigned int *s = (unsigned int *)sum;
	const unsigned int *a = (const unsigned int *)c;
	size_t i;

	for (i = 0; i < sizeof(*c) / sizeof(*a); i++)
		s[i] += a[i];
}

static struct tflow flows[NFLOWS];

/* Replay every flow of pass 1, as its next packet: a SYN is answered by an ACK. */
static void replay(const char *name, struct counts *total)
{
	struct counts c = {};
	struct tflow f;
	int i;

	for (i = 0; i < NFLOWS; i++) {
		f = flows[i];
		if (f.flags & SYN)
			f.flags = ACK;
		check_flow(&f, &c);
	}
	print_counts(name, &c);
	assert_true(c.ct_used > 0);
	add_counts(total, &c);
}


/* Pass 1: new flows, and later packets of some of them; every 100 packets the clock moves by step. */
static void first_pass(struct counts *c, __u64 step)
{
	int i;

	for (i = 0; i < NFLOWS; i++) {
		if (i && below(100) < 30) {
			flows[i] = flows[below(i)];
			flows[i].flags = random_flags(flows[i].proto);
		} else {
			random_flow(&flows[i]);
			flows[i].flags = random_flags(flows[i].proto);
		}
		check_flow(&flows[i], c);
		if (i % 100 == 0)
			*fixture_clock(&F) += step;
	}
}
static void test_random_flows_agree(void **state)
{
	struct counts c = {}, total = {};

	(void)state;
	build_world();

	first_pass(&c, 0);
	print_counts("pass 1, random flows", &c);
	assert_true(c.ct_used > 0);
	assert_true(c.ct_none > 0);
	assert_true(c.pass > 0);
	assert_true(c.drop > 0);
	assert_true(c.tx > 0 && c.redirect > 0 && c.drop_redirect > 0);
	assert_true(c.drop_no_backend > 0 && c.pass_non_vip > 0 && c.pass_no_port > 0);
	assert_true(c.collision > 0 && c.port0 > 0 && c.src_hash > 0);
	assert_true(c.inserted > 0 && c.probation_used > 0 && c.promoted > 0 && c.closing > 0);
	add_counts(&total, &c);

	replay("pass 2, seen flows", &total);

	change_backends();
	replay("pass 3, after backend changes", &total);

	*fixture_clock(&F) += UDP_IDLE + 1 * NS;
	replay("pass 4, after the UDP idle timeout", &total);

	*fixture_clock(&F) += TCP_IDLE + 1 * NS;
	replay("pass 5, after the TCP idle timeout", &total);

	print_counts("all passes", &total);
	assert_true(total.ct_unused > 0);
	assert_true(total.why_gen > 0 && total.why_down > 0 && total.why_idle > 0);
	assert_true(total.promoted > 0 && total.rewritten > 0);
}

static int vip_id_of(void *ctx, const struct vip_key *key)
{
	struct xlb_lb_vip *v = xlb_lb_vip_find(ctx, key);

	return v ? (int)v->id : -1;
}

static void block_rule(struct xlb_blocklist *l, const char *prefix, const struct vip_key *vip,
		       int allow)
{
	struct xlb_block_rule r = { .allow = allow };
	char err[128];

	assert_int_equal(xlb_block_prefix_parse(prefix, &r.pfx, err, sizeof(err)), 0);
	if (vip) {
		r.vip = *vip;
		r.has_vip = 1;
	}
	assert_int_equal(xlb_blocklist_append(l, &r), 0);
}

/*
 * The same world with source filters and limits: global and per-VIP block
 * rules, an allow rule inside a blocked prefix, per-client limits on two
 * VIPs (a cap, a rate): explain must say what the program does.
 */
static void random_filters(int with_rules)
{
	struct xlb_limits_cfg lim = { 20, 3, 2, 20, 64, { 0 } };
	struct xlb_blocklist l = {};
	struct xlb_block_dp b;
	struct vip_filter vf;
	struct counts c = {}, total = {};
	char err[128];

	build_world();
	assert_int_equal(xlb_block_dp_open(&b, F.skel->obj), 0);
	if (with_rules) {
		block_rule(&l, "198.18.7.0/24", NULL, 0);
		block_rule(&l, "198.18.7.128/25", NULL, 1);
		block_rule(&l, "198.18.8.0/24", &web4, 0);
		block_rule(&l, "198.18.9.0/24", &dns4, 1);
		block_rule(&l, "2001:db8::/100", NULL, 0);
	}
	assert_int_equal(xlb_block_dp_sync(&b, &l, vip_id_of, F.lb), 0);
	assert_int_equal(xlb_limits_check(&lim, NULL, err, sizeof(err)), 0);
	xlb_limits_to_dp(&lim, &vf);
	assert_int_equal(xlb_block_dp_limits(&b, xlb_lb_vip_find(F.lb, &dns4)->id, &vf), 0);
	lim = (struct xlb_limits_cfg){ 5, 2, 0, 32, 64, { 0 } }; /* the v6 clients: one /64 */
	assert_int_equal(xlb_limits_check(&lim, NULL, err, sizeof(err)), 0);
	xlb_limits_to_dp(&lim, &vf);
	assert_int_equal(xlb_block_dp_limits(&b, xlb_lb_vip_find(F.lb, &web6)->id, &vf), 0);

	first_pass(&c, NS / 10); /* buckets refill as the flows go by */
	add_counts(&total, &c);
	replay("filters, seen flows", &total);
	print_counts("filters, all passes", &total);
	print_message("# blocked %llu, allowed %llu, over the rate %llu, at the cap %llu\n",
		      (unsigned long long)xlb_check_stat(&F.dp, XLB_STAT_DROP_BLOCKED),
		      (unsigned long long)xlb_check_stat(&F.dp, XLB_STAT_ALLOWED),
		      (unsigned long long)xlb_check_stat(&F.dp, XLB_STAT_DROP_LIMIT_RATE),
		      (unsigned long long)xlb_check_stat(&F.dp, XLB_STAT_DROP_LIMIT_CONNS));
	assert_true(!with_rules || (xlb_check_stat(&F.dp, XLB_STAT_DROP_BLOCKED) > 0 &&
				    xlb_check_stat(&F.dp, XLB_STAT_ALLOWED) > 0));
	assert_true(xlb_check_stat(&F.dp, XLB_STAT_DROP_LIMIT_RATE) > 0 && xlb_check_stat(&F.dp, XLB_STAT_DROP_LIMIT_CONNS) > 0);
	xlb_block_dp_close(&b);
	xlb_blocklist_free(&l);
}

static void test_random_filters_agree(void **state)
{
	(void)state;
	random_filters(1);
}

/* Limits and no rule: the limits apply without the filters' per-packet work. */
static void test_random_limits_agree(void **state)
{
	(void)state;
	random_filters(0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_random_flows_agree),
		T(test_random_filters_agree),
		T(test_random_limits_agree),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
