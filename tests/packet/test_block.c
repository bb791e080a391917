// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet tests of the source filters (bpf/filter.h): rules loaded through
 * user/lib/block.c as xlbd loads them, crafted packets through
 * BPF_PROG_TEST_RUN, asserting verdicts, bytes and which rule's hit
 * counter moved: the longest match wins (IPv4, IPv6, global against
 * per-VIP), the allowlist comes first, scope all, and a sync keeps a
 * staying rule's id and hits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <bpf/libbpf.h>
#include "l2dsr_assert.h"
#include "../../user/lib/block.h"

static struct xlb_block_dp B;
static struct xlb_blocklist L;
static __u64 hits[XLB_BLOCK_RULES_MAX];

static int setup(void **state)
{
	if (fx_setup(state))
		return -1;
	memset(&L, 0, sizeof(L));
	return xlb_block_dp_open(&B, F.skel->obj) ? -1 : 0;
}

static int teardown(void **state)
{
	xlb_block_dp_close(&B);
	xlb_blocklist_free(&L);
	return fx_teardown(state);
}

static int vip_id(void *ctx, const struct vip_key *key)
{
	struct xlb_lb_vip *v = xlb_lb_vip_find(ctx, key);

	return v ? (int)v->id : -1;
}

/* A rule into L (vip NULL: global); its index. */
static __u32 rule(const char *prefix, const struct vip_key *vip, int allow)
{
	struct xlb_block_rule r = { .allow = allow };
	char err[128];

	assert_int_equal(xlb_block_prefix_parse(prefix, &r.pfx, err, sizeof(err)), 0);
	if (vip) {
		r.vip = *vip;
		r.has_vip = 1;
	}
	assert_int_equal(xlb_blocklist_append(&L, &r), 0);
	return L.n - 1;
}

static void sync_rules(void)
{
	assert_int_equal(xlb_block_dp_sync(&B, &L, vip_id, F.lb), 0);
}

/* The hits of rule i of L. */
static __u64 hits_of(__u32 i)
{
	assert_int_not_equal(L.rules[i].id, XLB_BLOCK_NO_ID);
	assert_int_equal(xlb_block_dp_hits(&B, hits), 0);
	return hits[L.rules[i].id];
}

static struct pkt_spec from(struct pkt_spec s, const char *saddr)
{
	s.saddr = saddr;
	return s;
}

static void expect_blocked(const struct pkt_spec *s)
{
	__u8 in[PKT_MAX];
	size_t len = pkt_build(s, in);

	expect_drop(in, len, XLB_STAT_DROP_BLOCKED);
}

/* s sent from saddr: dropped as blocked, forwarded, passed untouched */
static void blocked_from(struct pkt_spec s, const char *saddr)
{
	s = from(s, saddr);
	expect_blocked(&s);
}

static void tx_from(struct pkt_spec s, const char *saddr)
{
	s = from(s, saddr);
	expect_tx(&s);
}

static void passed_from(struct pkt_spec s, const char *saddr)
{
	s = from(s, saddr);
	expect_untouched(&s, XDP_PASS);
}

/* ---- the longest match ---- */

#define OUTSIDE4 CLIENT4 /* 198.18.0.1: in no rule below */

static void test_v4_longest_match_wins(void **state)
{
	struct vip_key k = vip4_with_3();
	__u32 wide, narrow, other;
	__u64 miss;

	(void)state;
	(void)k;
	wide = rule("198.18.64.0/18", NULL, 0);
	narrow = rule("198.18.65.0/24", NULL, 0);
	other = rule("198.19.0.0/16", NULL, 0);
	sync_rules();
	miss = stat(XLB_STAT_CT_MISS);
	blocked_from(tcp4(40000, 0x02), "198.18.65.7");
	assert_int_equal(hits_of(narrow), 1);
	assert_int_equal(hits_of(wide), 0);
	blocked_from(tcp4(40000, 0x10), "198.18.66.1");
	assert_int_equal(hits_of(wide), 1);
	assert_int_equal(hits_of(narrow), 1);
	assert_int_equal(hits_of(other), 0);
	/* dropped before the connection tables: no fresh pick was made */
	assert_int_equal(stat(XLB_STAT_CT_MISS), miss);
	/* a source in no rule is served, its bytes untouched but the MACs */
	tx_from(tcp4(40001, 0x02), OUTSIDE4);
	assert_int_equal(stat(XLB_STAT_DROP_BLOCKED), 2);
}

static void test_v6_longest_match_wins(void **state)
{
	struct vip_key k = add_vip(VIP6, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp6(40000, 0x02);
	__u32 wide, narrow, v4;

	(void)state;
	add_backend(&k, "2001:db8::11", 0x11);
	wide = rule("2001:db8:bad::/48", NULL, 0);
	narrow = rule("2001:db8:bad:1::/64", NULL, 0);
	v4 = rule("198.18.0.0/15", NULL, 0); /* the other family's rules never match */
	sync_rules();
	blocked_from(s, "2001:db8:bad:1::99");
	assert_int_equal(hits_of(narrow), 1);
	assert_int_equal(hits_of(wide), 0);
	blocked_from(s, "2001:db8:bad:2::1");
	assert_int_equal(hits_of(wide), 1);
	expect_tx(&s); /* 2001:db8::1 */
	assert_int_equal(hits_of(v4), 0);
}

/* Two VIPs on one address: per-VIP rules apply to theirs only, the longer of global and VIP wins. */
static void test_global_and_per_vip(void **state)
{
	struct vip_key a = vip4_with_3(), b = add_vip(VIP4, 81, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec to_a = tcp4(40000, 0x02), to_b = to_a;
	__u32 g18, a24, a_only, g24, a16;

	(void)state;
	add_backend(&b, "198.18.0.21", 0x21);
	to_b.dport = 81;
	g18 = rule("198.18.64.0/18", NULL, 0);
	a24 = rule("198.18.65.0/24", &a, 0);
	a_only = rule("198.18.200.0/24", &a, 0);
	g24 = rule("198.19.1.0/24", NULL, 0);
	a16 = rule("198.19.0.0/16", &a, 0);
	sync_rules();

	blocked_from(to_a, "198.18.65.1");
	assert_int_equal(hits_of(a24), 1);
	assert_int_equal(hits_of(g18), 0);
	blocked_from(to_b, "198.18.65.1");
	assert_int_equal(hits_of(g18), 1);
	assert_int_equal(hits_of(a24), 1);

	blocked_from(to_a, "198.18.200.9");
	assert_int_equal(hits_of(a_only), 1);
	tx_from(to_b, "198.18.200.9");

	/* the global rule is the longer one here */
	blocked_from(to_a, "198.19.1.1");
	assert_int_equal(hits_of(g24), 1);
	assert_int_equal(hits_of(a16), 0);
	blocked_from(to_a, "198.19.2.1");
	assert_int_equal(hits_of(a16), 1);
	tx_from(to_b, "198.19.2.1");
}

/* ---- the allowlist ---- */

static void test_allowlist_first(void **state)
{
	struct vip_key a = vip4_with_3(), b = add_vip(VIP4, 81, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec to_a = tcp4(40000, 0x02), to_b = to_a;
	__u32 block, allow5, allow7a, allow_wide, block_in;

	(void)state;
	add_backend(&b, "198.18.0.21", 0x21);
	to_b.dport = 81;
	block = rule("198.18.64.0/18", NULL, 0);
	allow5 = rule("198.18.64.5", NULL, 1);
	allow7a = rule("198.18.64.7/32", &a, 1);
	/* an allow entry wins even over a longer block inside it */
	allow_wide = rule("198.19.0.0/16", NULL, 1);
	block_in = rule("198.19.7.0/24", NULL, 0);
	sync_rules();

	tx_from(to_a, "198.18.64.5");
	assert_int_equal(hits_of(allow5), 1);
	assert_int_equal(hits_of(block), 0);
	assert_int_equal(stat(XLB_STAT_ALLOWED), 1);
	blocked_from(to_a, "198.18.64.6");
	assert_int_equal(hits_of(block), 1);

	tx_from(to_a, "198.18.64.7");
	assert_int_equal(hits_of(allow7a), 1);
	blocked_from(to_b, "198.18.64.7");
	assert_int_equal(hits_of(block), 2);

	tx_from(to_b, "198.19.7.1");
	assert_int_equal(hits_of(allow_wide), 1);
	assert_int_equal(hits_of(block_in), 0);
	assert_int_equal(stat(XLB_STAT_ALLOWED), 3);
}

/* ---- scope ---- */

static void test_scope_all(void **state)
{
	struct pkt_spec host = tcp4(40000, 0x10), arp, nd = tcp6(40000, 0x10);
	__u8 in[PKT_MAX], out[PKT_MAX];
	__u32 r4, r6, ok;
	size_t len;

	(void)state;
	vip4_with_3();
	host.daddr = "198.18.0.2"; /* the LB host itself */
	host.saddr = "198.18.64.1";
	r4 = rule("198.18.64.0/18", NULL, 0);
	r6 = rule("2001:db8:bad::/48", NULL, 0);
	ok = rule("198.18.64.9", NULL, 1);
	sync_rules();
	/* scope vips: the host's own traffic is not filtered */
	expect_untouched(&host, XDP_PASS);
	assert_int_equal(hits_of(r4), 0);

	L.scope_all = 1;
	sync_rules();
	len = pkt_build(&host, in);
	expect_drop(in, len, XLB_STAT_DROP_BLOCKED_NOT_VIP);
	assert_int_equal(hits_of(r4), 1);
	passed_from(host, "198.18.64.9");
	assert_int_equal(hits_of(ok), 1);
	/* ARP and neighbour discovery always pass */
	arp = host;
	arp.ether_type = ETH_P_ARP;
	expect_untouched(&arp, XDP_PASS);
	nd.proto = IPPROTO_ICMPV6;
	nd.saddr = "2001:db8:bad::1";
	nd.daddr = "2001:db8::2";
	len = pkt_build(&nd, in);
	in[pkt_l4_offset(&nd)] = 135; /* neighbour solicitation */
	assert_verdict(run(in, len, out, NULL), XDP_PASS);
	in[pkt_l4_offset(&nd)] = 128; /* an echo request is filtered */
	expect_drop(in, len, XLB_STAT_DROP_BLOCKED_NOT_VIP);
	assert_int_equal(hits_of(r6), 1);
}

/* ---- changes ---- */

/* A block meets established flows too; a staying rule keeps its id and hits; unblocking restores. */
static void test_sync_changes(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec s = tcp4(40000, 0x02), ack = tcp4(40000, 0x10);
	__u32 keep, gone, id;

	(void)state;
	(void)k;
	s.saddr = ack.saddr = "198.18.64.1";
	expect_tx(&s);
	expect_tx(&ack); /* promoted: an established flow */
	keep = rule("198.18.70.0/24", NULL, 0);
	gone = rule("198.18.64.0/24", NULL, 0);
	sync_rules();
	expect_blocked(&ack);
	assert_int_equal(hits_of(gone), 1);
	blocked_from(ack, "198.18.70.1");
	id = L.rules[keep].id;

	xlb_blocklist_remove(&L, gone);
	keep = 0;
	rule("2001:db8::/32", &k, 0);
	sync_rules();
	assert_int_equal(L.rules[keep].id, id);
	assert_int_equal(hits_of(keep), 1);
	expect_tx(&ack); /* its entry held it: the same backend as before the block */
	blocked_from(ack, "198.18.70.1");
	assert_int_equal(hits_of(keep), 2);

	/* a VIP's rules leave with it: nothing is left to look up */
	xlb_blocklist_free(&L);
	sync_rules();
	assert_int_equal(B.nloaded, 0);
	tx_from(ack, "198.18.70.1");
}

/* ---- the text forms ---- */

static void test_prefix_errors(void **state)
{
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "198.18.5.1/24", "host bits set (198.18.5.0/24?)" },
		{ "198.18.5.0/33", "bad prefix length" },
		{ "198.18.5.0/", "bad prefix length" },
		{ "198.18.5.300/32", "bad IPv4 address" },
		{ "2001:db8:bad::1/48", "host bits set (2001:db8:bad::/48?)" },
		{ "2001:db8::/129", "bad prefix length" },
		{ "2001:db8:::/48", "bad IPv6 address" },
	};
	struct xlb_prefix p;
	char err[128], text[XLB_BLOCK_STR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xlb_block_prefix_parse(bad[i].in, &p, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
	}
	assert_int_equal(xlb_block_prefix_parse("198.18.5.0/24", &p, err, sizeof(err)), 0);
	xlb_block_prefix_format(&p, text, sizeof(text));
	assert_string_equal(text, "198.18.5.0/24");
	assert_int_equal(xlb_block_prefix_parse("2001:db8::1", &p, err, sizeof(err)), 0);
	xlb_block_prefix_format(&p, text, sizeof(text));
	assert_string_equal(text, "2001:db8::1/128");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_v4_longest_match_wins),
		T(test_v6_longest_match_wins),
		T(test_global_and_per_vip),
		T(test_allowlist_first),
		T(test_scope_all),
		T(test_sync_changes),
		T(test_prefix_errors),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
