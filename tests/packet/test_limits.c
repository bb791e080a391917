// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet tests of the per-client limits (bpf/limits.h) on the fixture's
 * fake clock: the bucket lets in exactly burst + rate * t, a second client
 * and established flows are untouched, prefixes group clients, the cap
 * counts promotion and close, the walk's correction takes expired flows
 * off, and a flood of sources through the LRU refuses no known client.
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
#include <netinet/in.h>
#include <bpf/libbpf.h>
#include "l2dsr_assert.h"
#include "../../user/lib/block.h"
#include "../../user/lib/vip_limits.h"

#define MS 1000000ULL

static struct xlb_block_dp B;
static struct xlb_limits_dp LD;

static int setup(void **state)
{
	if (fx_setup(state))
		return -1;
	if (xlb_block_dp_open(&B, F.skel->obj))
		return -1;
	return xlb_limits_dp_open(&LD, F.skel->obj) ? -1 : 0;
}

static int teardown(void **state)
{
	xlb_block_dp_close(&B);
	return fx_teardown(state);
}

static __u32 vid_of(const struct vip_key *k)
{
	struct xlb_lb_vip *v = xlb_lb_vip_find(F.lb, k);

	assert_non_null(v);
	return v->id;
}

static void set_limits(const struct vip_key *k, __u32 rate, __u32 burst, __u32 conns,
		       __u8 p4, __u8 p6)
{
	struct xlb_limits_cfg l = { rate, burst, conns, p4, p6, { 0 } };
	struct vip_filter vf;
	char err[128];

	assert_int_equal(xlb_limits_check(&l, NULL, err, sizeof(err)), 0);
	xlb_limits_to_dp(&l, &vf);
	assert_int_equal(xlb_block_dp_limits(&B, vid_of(k), &vf), 0);
}

/* One packet of client saddr's flow from sport: the verdict. */
static int send1(int family, const char *saddr, __u16 sport, __u8 flags)
{
	struct pkt_spec s = family == 4 ? tcp4(sport, flags) : tcp6(sport, flags);
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len;

	s.saddr = saddr;
	len = pkt_build(&s, in);
	return run(in, len, out, NULL);
}

static int syn(const char *saddr, __u16 sport)
{
	return send1(4, saddr, sport, 0x02);
}

/* A connection: SYN, then the handshake's ACK promotes it. 1 if both went on. */
static int connect4(const char *saddr, __u16 sport)
{
	if (syn(saddr, sport) != XDP_TX)
		return 0;
	assert_int_equal(send1(4, saddr, sport, 0x10), XDP_TX);
	return 1;
}

static struct limit_drops drops(const struct vip_key *k)
{
	struct limit_drops d;

	assert_int_equal(xlb_limits_dp_drops(&LD, vid_of(k), &d), 0);
	return d;
}

/* ---- new flows per second ---- */

/*
 * Client A opens 3 flows every 10 ms for 2 s against 10/s burst 5: exactly
 * 5 + 10 * 2 go through. Client B, one flow every 100 ms meanwhile, loses none.
 */
static void test_rate_exact(void **state)
{
	struct vip_key k = vip4_with_3();
	__u64 *clock = fixture_clock(&F), t0 = *clock;
	__u32 a_ok = 0, a_sent = 0, b_ok = 0, b_sent = 0, step, i;
	__u16 sport = 1000;

	(void)state;
	set_limits(&k, 10, 5, 0, 32, 64);
	for (step = 0; step <= 200; step++) {
		*clock = t0 + step * 10 * MS;
		for (i = 0; i < 3; i++, a_sent++)
			a_ok += syn("198.18.1.1", sport++) == XDP_TX;
		if (step % 10 == 0) {
			b_ok += syn("198.18.1.2", sport++) == XDP_TX;
			b_sent++;
		}
	}
	assert_int_equal(a_ok, 5 + 10 * 2);
	assert_int_equal(b_ok, b_sent);
	assert_int_equal(stat(XLB_STAT_DROP_LIMIT_RATE), a_sent - a_ok);
	assert_int_equal(drops(&k).rate, a_sent - a_ok);
	assert_int_equal(drops(&k).conns, 0);
}

/* Over the limit, established flows, and a SYN retransmitted on probation, go on. */
static void test_established_untouched(void **state)
{
	struct vip_key k = vip4_with_3();
	__u64 *clock = fixture_clock(&F);
	int i;

	(void)state;
	set_limits(&k, 1, 1, 0, 32, 64);
	assert_true(connect4("198.18.2.1", 2000));
	assert_int_equal(syn("198.18.2.1", 2001), XDP_DROP);
	for (i = 0; i < 50; i++)
		assert_int_equal(send1(4, "198.18.2.1", 2000, 0x10), XDP_TX);
	assert_int_equal(syn("198.18.2.1", 2000), XDP_TX); /* a SYN on the established entry */
	*clock += 1000 * MS;
	assert_int_equal(syn("198.18.2.1", 2002), XDP_TX); /* the token of the second since */
	assert_int_equal(syn("198.18.2.1", 2002), XDP_TX); /* retransmitted: on probation, no token */
	assert_int_equal(syn("198.18.2.1", 2003), XDP_DROP);
	assert_int_equal(stat(XLB_STAT_DROP_LIMIT_RATE), 2);
}

/* prefix_v4 24 groups a /24; the default /64 groups an IPv6 /64; the other prefix has its own. */
static void test_prefixes(void **state)
{
	struct vip_key k4 = vip4_with_3(), k6 = add_vip(VIP6, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);

	(void)state;
	add_backend(&k6, "2001:db8::11", 0x11);
	set_limits(&k4, 1, 2, 0, 24, 64);
	set_limits(&k6, 1, 2, 0, 32, 64);
	assert_int_equal(syn("198.18.7.1", 3000), XDP_TX);
	assert_int_equal(syn("198.18.7.2", 3001), XDP_TX);
	assert_int_equal(syn("198.18.7.3", 3002), XDP_DROP);
	assert_int_equal(syn("198.18.8.1", 3003), XDP_TX);
	assert_int_equal(send1(6, "2001:db8:1::1", 3000, 0x02), XDP_TX);
	assert_int_equal(send1(6, "2001:db8:1::2", 3001, 0x02), XDP_TX);
	assert_int_equal(send1(6, "2001:db8:1::3", 3002, 0x02), XDP_DROP);
	assert_int_equal(send1(6, "2001:db8:2::1", 3003, 0x02), XDP_TX);
	assert_int_equal(drops(&k4).rate, 1);
	assert_int_equal(drops(&k6).rate, 1);
}

static int vip_id_fn(void *ctx, const struct vip_key *key)
{
	struct xlb_lb_vip *v = xlb_lb_vip_find(ctx, key);

	return v ? (int)v->id : -1;
}

/* An allowlisted client is never limited. */
static void test_allowlisted(void **state)
{
	struct vip_key k = vip4_with_3();
	struct xlb_blocklist l = {};
	struct xlb_block_rule r = { .allow = 1 };
	char err[128];
	int i;

	(void)state;
	set_limits(&k, 1, 1, 1, 32, 64);
	assert_int_equal(xlb_block_prefix_parse("198.18.9.0/24", &r.pfx, err, sizeof(err)), 0);
	assert_int_equal(xlb_blocklist_append(&l, &r), 0);
	assert_int_equal(xlb_block_dp_sync(&B, &l, vip_id_fn, F.lb), 0);
	for (i = 0; i < 20; i++)
		assert_true(connect4("198.18.9.1", (__u16)(7000 + i)));
	assert_true(connect4("198.18.10.1", 7000));
	assert_int_equal(syn("198.18.10.1", 7001), XDP_DROP);
	xlb_blocklist_free(&l);
}

/* ---- live flows ---- */

struct walk_ctx {
	struct xlb_limits_walk *w;
	__u32 vip_id, tick, timeout;
};

static void visit(void *arg, const struct flow_key *key, const struct flow_state *st)
{
	struct walk_ctx *c = arg;
	struct limit_key lk;

	if (st->state != XLB_FLOW_ESTABLISHED || !XLB_TICK_ALIVE(st->seen, c->tick, c->timeout))
		return;
	xlb_limit_key(key->saddr, c->vip_id, 32, 64, &lk);
	assert_int_equal(xlb_limits_walk_visit(c->w, &lk), 0);
}

/* xlbd's correction, as user/xlbd/limits.c runs it: snapshot, walk, bases. */
static int correct(const struct vip_key *k)
{
	struct walk_ctx c = { .vip_id = vid_of(k) };
	struct xlb_flow_walk cur = {};
	int n, kept;

	c.w = xlb_limits_walk_new();
	assert_non_null(c.w);
	c.tick = XLB_NS_TO_TICKS(*fixture_clock(&F));
	c.timeout = XLB_TIMEOUT_TICKS(FIXTURE_TCP_IDLE);
	assert_int_equal(xlb_limits_walk_snapshot(c.w, &LD), 0);
	do
		n = xlb_dp_flow_walk(&F.dp, &cur, 4096, visit, &c);
	while (n > 0);
	assert_int_equal(n, 0);
	kept = xlb_limits_walk_apply(c.w, &LD);
	assert_true(kept >= 0);
	xlb_limits_walk_free(c.w);
	return kept;
}

static __s64 live_of(const char *saddr, const struct vip_key *k)
{
	struct limit_state s;
	struct limit_key lk;
	__be32 a[4];
	__s64 base;
	int found;

	addr_parse16(saddr, a);
	xlb_limit_key(a, vid_of(k), 32, 64, &lk);
	assert_int_equal(xlb_limits_dp_get(&LD, &lk, &s, &base, &found), 0);
	return base + (__s64)(s.opened - s.closed);
}

/*
 * max_conns 2: two connections, the third refused; a FIN frees a place;
 * flows that idle out keep their places until the walk's correction.
 */
static void test_cap(void **state)
{
	struct vip_key k = vip4_with_3();
	__u64 *clock = fixture_clock(&F);

	(void)state;
	set_limits(&k, 0, 0, 2, 32, 64);
	assert_true(connect4("198.18.3.1", 4001));
	assert_int_equal(syn("198.18.3.1", 4002), XDP_TX);
	/* counted at admission, on probation still: the cap holds SYNs sent at once */
	assert_int_equal(live_of("198.18.3.1", &k), 2);
	assert_int_equal(send1(4, "198.18.3.1", 4002, 0x10), XDP_TX);
	assert_int_equal(live_of("198.18.3.1", &k), 2);
	assert_int_equal(syn("198.18.3.1", 4003), XDP_DROP);
	assert_int_equal(stat(XLB_STAT_DROP_LIMIT_CONNS), 1);
	assert_int_equal(drops(&k).conns, 1);
	assert_true(connect4("198.18.3.2", 4003)); /* another client: its own count */
	/* established flows at the cap go on */
	assert_int_equal(send1(4, "198.18.3.1", 4001, 0x10), XDP_TX);
	/* the client's FIN: closing, no longer live */
	assert_int_equal(send1(4, "198.18.3.1", 4001, 0x11), XDP_TX);
	assert_int_equal(live_of("198.18.3.1", &k), 1);
	assert_true(connect4("198.18.3.1", 4003));
	assert_int_equal(syn("198.18.3.1", 4004), XDP_DROP);
	/* the walk agrees: nothing to correct */
	assert_int_equal(correct(&k), 0);
	assert_int_equal(live_of("198.18.3.1", &k), 2);

	/* both idle out: silent in the data plane, the count stays */
	*clock += FIXTURE_TCP_IDLE + 1000 * MS;
	assert_int_equal(live_of("198.18.3.1", &k), 2);
	assert_int_equal(syn("198.18.3.1", 4005), XDP_DROP);
	/* the walk's base takes them off */
	assert_int_equal(correct(&k), 2); /* both clients' keys */
	assert_int_equal(live_of("198.18.3.1", &k), 0);
	assert_true(connect4("198.18.3.1", 4005));
	assert_true(connect4("198.18.3.1", 4006));
	assert_int_equal(syn("198.18.3.1", 4007), XDP_DROP);
	assert_int_equal(live_of("198.18.3.1", &k), 2);
	/* a reused port after the FIN: a new flow, counted again */
	assert_int_equal(send1(4, "198.18.3.1", 4005, 0x04), XDP_TX); /* RST */
	assert_true(connect4("198.18.3.1", 4005));
	assert_int_equal(live_of("198.18.3.1", &k), 2);
	assert_int_equal(correct(&k), 2); /* both keep the base of their expired flows */
	assert_int_equal(live_of("198.18.3.1", &k), 2);
	assert_int_equal(live_of("198.18.3.2", &k), 0);
}

/* A reload to a faster rate: a bucket spent at the slow one is no deeper than the new one. */
static void test_rate_raised(void **state)
{
	struct vip_key k = vip4_with_3();
	int i, in = 0;

	(void)state;
	set_limits(&k, 1, 50, 0, 32, 64);
	for (i = 0; i < 60; i++)
		in += syn("198.18.5.1", (__u16)(6000 + i)) == XDP_TX;
	assert_int_equal(in, 50);
	set_limits(&k, 1000, 5, 0, 32, 64);
	/* spent: the bucket is the new one, empty (not 50 s of the old), and refills at 1000/s */
	assert_int_equal(syn("198.18.5.1", 7000), XDP_DROP);
	*fixture_clock(&F) += 5 * MS;
	for (i = 0, in = 0; i < 10; i++)
		in += syn("198.18.5.1", (__u16)(7001 + i)) == XDP_TX;
	assert_int_equal(in, 5);
}

/* max_conns against parallel opens: ten SYNs before any ACK, two let in. */
static void test_cap_parallel(void **state)
{
	struct vip_key k = vip4_with_3();
	int i, in = 0;

	(void)state;
	set_limits(&k, 0, 0, 2, 32, 64);
	for (i = 0; i < 10; i++)
		in += syn("198.18.4.1", (__u16)(5000 + i)) == XDP_TX;
	assert_int_equal(in, 2);
	for (i = 0; i < 10; i++)
		send1(4, "198.18.4.1", (__u16)(5000 + i), 0x10);
	assert_int_equal(live_of("198.18.4.1", &k), 2);
	assert_int_equal(stat(XLB_STAT_DROP_LIMIT_CONNS), 8);
}

/*
 * Twice the bucket table's size in sources, one new flow each, all let in
 * (each meets a full bucket); the known client before and after is served,
 * and still limited after it (its bucket was made again, not refused).
 */
static void test_flood_lru(void **state)
{
	struct vip_key k = add_vip(VIP6, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	__u64 *clock = fixture_clock(&F);
	__u32 i, ok = 0, n = XLB_LIMIT_CLIENTS * 2;
	char src[64];

	(void)state;
	add_backend(&k, "2001:db8::11", 0x11);
	set_limits(&k, 1, 1, 0, 32, 64);
	assert_int_equal(send1(6, "2001:db8:1::1", 5000, 0x02), XDP_TX);
	assert_int_equal(send1(6, "2001:db8:1::1", 5001, 0x02), XDP_DROP);
	for (i = 0; i < n; i++) {
		/* a /64 each */
		snprintf(src, sizeof(src), "2001:db8:%x:%x::9", 0x100 + (i >> 16), i & 0xffff);
		ok += send1(6, src, 6000, 0x02) == XDP_TX;
	}
	assert_int_equal(ok, n);
	assert_int_equal(stat(XLB_STAT_DROP_LIMIT_RATE), 1);
	*clock += 1000 * MS;
	assert_int_equal(send1(6, "2001:db8:1::1", 5002, 0x02), XDP_TX);
	assert_int_equal(send1(6, "2001:db8:1::1", 5003, 0x02), XDP_DROP);
	/*
	 * The table is full of the flood's buckets, yet a client never seen
	 * gets one (an idle one is evicted for it) and is limited: a table
	 * that refused inserts would let it through unlimited.
	 */
	assert_int_equal(send1(6, "2001:db8:2::1", 5000, 0x02), XDP_TX);
	assert_int_equal(send1(6, "2001:db8:2::1", 5001, 0x02), XDP_DROP);
	assert_int_equal(stat(XLB_STAT_DROP_LIMIT_RATE), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rate_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_established_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowlisted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_parallel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_raised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_lru, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
