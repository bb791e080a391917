// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
/*
 * The schedulers (README, "Schedulers"; bpf/sched.h): rr and wrr shares,
 * the two choices of lc, wlc and lt against loads written as xlbd writes
 * them, persist, drain and disable, and explain's agreement. The real
 * program through BPF_PROG_TEST_RUN, on one CPU (the fixture's).
 */
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "l2dsr_assert.h"
#include "../../user/lib/explain.h"

#define NS FIXTURE_NS
#define SYN 0x02
#define ACK 0x10
#define NB 4 /* backends a test may use: MACs 0x11.. */

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

static const char *const addrs[NB] = { "198.18.0.11", "198.18.0.12", "198.18.0.13",
				       "198.18.0.14" };

/* Backends 0..n-1 of the VIP, weights w (NULL: 100 each). */
static void backends(const struct vip_key *k, int n, const __u32 *w)
{
	struct xlb_backend_spec spec;
	int i;

	for (i = 0; i < n; i++) {
		add_backend(k, addrs[i], 0x11 + i);
		if (!w)
			continue;
		spec = fx_backend_find(&F, k, addrs[i])->spec;
		spec.weight = w[i];
		assert_int_equal(xlb_lb_backend_update(F.lb, k, &spec), 0);
	}
}

/* A new flow from port sport: the index of the backend its SYN went to. */
static int new_flow(const char *client, __u16 sport)
{
	struct pkt_spec s = tcp4(sport, SYN);

	s.saddr = client;
	return expect_tx(&s) - 0x11;
}

/* n new flows from one client, ports from sport up: how many each backend got. */
static void count_new(const char *client, __u16 sport, int n, int got[NB])
{
	int i, b;

	memset(got, 0, NB * sizeof(*got));
	for (i = 0; i < n; i++) {
		b = new_flow(client, (__u16)(sport + i));
		assert_true(b >= 0 && b < NB);
		got[b]++;
	}
}

static void set_load_fr(const struct vip_key *k, int i, __u64 flows, __u64 rate, __u32 epoch,
			__u64 flow_rate)
{
	struct backend_load l = { .flows = flows, .rate = rate, .epoch = epoch,
				  .flow_rate = flow_rate };
	struct xlb_lb_backend *b = fx_backend_find(&F, k, addrs[i]);

	l.weight = b->spec.weight;
	assert_int_equal(xlb_dp_backend_load_set(&F.dp, b->id, &l), 0);
}

static void set_load(const struct vip_key *k, int i, __u64 flows, __u64 rate, __u32 epoch)
{
	set_load_fr(k, i, flows, rate, epoch, 0);
}

static void set_persist(const struct vip_key *k, __u64 ns, __u8 p4, __u8 p6)
{
	struct vip_sched ps = { .persist_ticks = XLB_TIMEOUT_TICKS(ns),
				.persist_prefix4 = p4, .persist_prefix6 = p6 };

	assert_int_equal(xlb_lb_vip_persist(F.lb, k, &ps), 0);
}

/* rr: equal turns whatever the weights (as IPVS), in a fixed order. */
static void test_rr_equal_turns(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_RR);
	const __u32 w[3] = { 1, 2, 3 };
	int got[NB], first[3], i;

	(void)state;
	backends(&k, 3, w);
	for (i = 0; i < 3; i++)
		first[i] = new_flow(CLIENT4, (__u16)(1000 + i));
	/* one round names each backend once */
	assert_true(first[0] != first[1] && first[1] != first[2] && first[0] != first[2]);
	count_new(CLIENT4, 2000, 300, got);
	assert_int_equal(got[0], 100);
	assert_int_equal(got[1], 100);
	assert_int_equal(got[2], 100);
}

/* wrr 1:2:3 over 3,000 new flows: exact shares on one CPU, turns spread within a round. */
static void test_wrr_shares(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_WRR);
	const __u32 w[3] = { 100, 200, 300 };
	int got[NB], seq[6], i, run = 0, longest = 0;

	(void)state;
	backends(&k, 3, w);
	count_new(CLIENT4, 1000, 3000, got);
	assert_int_equal(got[0], 500);
	assert_int_equal(got[1], 1000);
	assert_int_equal(got[2], 1500);
	/* C B A C B C: no backend twice running */
	for (i = 0; i < 6; i++) {
		seq[i] = new_flow(CLIENT4, (__u16)(5000 + i));
		run = i && seq[i] == seq[i - 1] ? run + 1 : 1;
		longest = run > longest ? run : longest;
	}
	assert_true(longest <= 1);
	assert_int_equal(stat(XLB_STAT_CT_MISS), 3006);
}

/* Drain and disable, as Maglev: no new flows; a drained backend keeps its own. */
static void test_rr_drain_disable(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_RR);
	struct pkt_spec s = tcp4(999, SYN);
	int got[NB], held;

	(void)state;
	backends(&k, 3, NULL);
	held = expect_tx(&s) - 0x11;
	s.tcp_flags = ACK;
	assert_int_equal(expect_tx(&s) - 0x11, held);
	fx_backend_state(&F, &k, addrs[held], XLB_BE_DRAIN);
	count_new(CLIENT4, 1000, 60, got);
	assert_int_equal(got[held], 0);
	assert_int_equal(got[(held + 1) % 3], 30);
	assert_int_equal(got[(held + 2) % 3], 30);
	assert_int_equal(expect_tx(&s) - 0x11, held); /* established: stays */
	fx_backend_state(&F, &k, addrs[(held + 1) % 3], XLB_BE_DISABLED);
	count_new(CLIENT4, 2000, 30, got);
	assert_int_equal(got[(held + 2) % 3], 30);
}

/*
 * lc: the most loaded of three never wins; equal loads stay level, since
 * each pick counts at once on its CPU (one flow more per backend per round).
 */
static void test_lc_two_choices(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_LC);
	int got[NB], i;

	(void)state;
	backends(&k, 3, NULL);
	set_load(&k, 0, 1000, 0, 1);
	set_load(&k, 1, 0, 0, 1);
	set_load(&k, 2, 0, 0, 1);
	count_new(CLIENT4, 1000, 300, got);
	assert_int_equal(got[0], 0);
	assert_true(got[1] > 100 && got[2] > 100);

	for (i = 0; i < 3; i++)
		set_load(&k, i, 0, 0, 2); /* a new epoch: picks since start from 0 */
	count_new(CLIENT4, 2000, 300, got);
	for (i = 0; i < 3; i++)
		assert_true(got[i] >= 98 && got[i] <= 102);
}

/*
 * lc with short connections: flows picked and closed since the last count
 * weigh nothing, so the backend holding long ones gets none of them.
 */
static void test_lc_short_flows(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_LC);
	struct pkt_spec s;
	int i, b, on_busy = 0;

	(void)state;
	backends(&k, 2, NULL);
	set_load(&k, 0, 10, 0, 1); /* ten long flows */
	set_load(&k, 1, 0, 0, 1);
	for (i = 0; i < 100; i++) {
		s = tcp4((__u16)(3000 + i), SYN);
		b = expect_tx(&s) - 0x11;
		on_busy += b == 0;
		s.tcp_flags = ACK;
		expect_tx(&s);
		s.tcp_flags = ACK | 0x01; /* FIN */
		expect_tx(&s);
	}
	assert_int_equal(on_busy, 0);
}

/* wlc: candidates drawn by weight, flows compared per weight: 1:3 shares. */
static void test_wlc_weights(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_WLC);
	const __u32 w[2] = { 100, 300 };
	int got[NB];

	(void)state;
	backends(&k, 2, w);
	set_load(&k, 0, 0, 0, 1);
	set_load(&k, 1, 0, 0, 1);
	count_new(CLIENT4, 1000, 400, got);
	assert_true(got[0] >= 97 && got[0] <= 103);
	assert_int_equal(got[0] + got[1], 400);
}

/* lt: a backend that receives more bytes/s gets no new flow while two others are idle. */
static void test_lt_rate(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_LT);
	int got[NB];

	(void)state;
	backends(&k, 3, NULL);
	set_load(&k, 0, 5, 10000000, 1);
	set_load(&k, 1, 5, 0, 1);
	set_load(&k, 2, 5, 0, 1);
	count_new(CLIENT4, 1000, 200, got);
	assert_int_equal(got[0], 0);
	assert_true(abs(got[1] - got[2]) <= 2);

	/*
	 * Picks between two counts add a flow's bytes/s each: 1,000 B/s
	 * against 2,000 at 100 B/s a flow, A takes 10 more, then they share
	 * (without it, every one of them would go to A until the next count).
	 */
	fx_backend_del(&F, &k, addrs[2]);
	set_load_fr(&k, 0, 5, 1000, 2, 100);
	set_load_fr(&k, 1, 5, 2000, 2, 100);
	count_new(CLIENT4, 2000, 100, got);
	assert_true(got[0] >= 53 && got[0] <= 57);
}

static int next_of_last;

/* What explain says a SYN from client:sport to the VIP gets: the backend's index. */
static int next_of(const struct vip_key *k, const char *client, __u16 sport, struct xlb_explain *e)
{
	const struct xlb_explain_timeouts t = FIXTURE_TIMEOUTS;
	struct flow_key fk = {};

	addr_parse16(client, fk.saddr);
	memcpy(fk.daddr, k->addr, sizeof(fk.daddr));
	fk.sport = htons(sport);
	fk.dport = k->port;
	fk.proto = k->proto;
	assert_int_equal(xlb_explain(&F.dp, &fk, SYN, FIXTURE_LO, *fixture_clock(&F), &t, e), 0);
	next_of_last = mac_of_id(k, e->backend_id) - 0x11;
	return next_of_last;
}

/* persist: one client keeps its backend across ports and a new backend; a prefix shares it; then it times out. */
static void test_persist(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_RR);
	struct xlb_explain e;
	int got[NB], b, other, i;

	(void)state;
	backends(&k, 3, NULL);
	set_persist(&k, 10 * NS, 24, 64);
	b = new_flow(CLIENT4, 1000);
	count_new(CLIENT4, 1001, 49, got);
	assert_int_equal(got[b], 49);
	add_backend(&k, addrs[3], 0x14);
	count_new(CLIENT4, 2000, 20, got);
	assert_int_equal(got[b], 20);
	count_new("198.18.0.77", 3000, 5, got); /* the same /24 */
	assert_int_equal(got[b], 5);
	assert_int_equal(stat(XLB_STAT_PERSIST_HIT), 49 + 20 + 5);

	/* within its time from the last new flow: kept */
	*fixture_clock(&F) += 9 * NS;
	assert_int_equal(new_flow(CLIENT4, 4000), b);
	/* its backend drained: another, which then persists */
	fx_backend_state(&F, &k, addrs[b], XLB_BE_DRAIN);
	other = new_flow(CLIENT4, 4001);
	assert_int_not_equal(other, b);
	count_new(CLIENT4, 4002, 10, got);
	assert_int_equal(got[other], 10);
	/*
	 * 10 s after its last new flow the entry is expired: the rotation picks
	 * again. Other clients turn the rotation until its next is not other.
	 */
	*fixture_clock(&F) += 10 * NS + 2 * (1ULL << XLB_TICK_SHIFT);
	for (i = 0; i < 4 && next_of(&k, CLIENT4, 6000, &e) == other; i++)
		new_flow(i & 1 ? "198.18.1.1" : "198.18.2.1", 6000);
	assert_int_not_equal(next_of(&k, CLIENT4, 6000, &e), other);
	assert_true(e.sched.persist_found && !e.sched.persist_used);
	assert_string_equal(e.sched.persist_why, "expired");
	assert_int_equal(new_flow(CLIENT4, 6000), next_of_last);
}

/* persist /32 keeps two clients of one /24 apart; IPv6 keys by /64. */
static void test_persist_prefixes(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_RR);
	struct vip_key k6 = add_vip(VIP6, 80, IPPROTO_TCP, XLB_SCHED_RR);
	struct pkt_spec s;
	int a, c, i, first;

	(void)state;
	backends(&k, 3, NULL);
	set_persist(&k, 60 * NS, 32, 64);
	a = new_flow("198.18.0.1", 1000);
	c = new_flow("198.18.0.2", 1000);
	assert_int_not_equal(a, c); /* rr's next turn: the /24 is not one client */
	assert_int_equal(new_flow("198.18.0.1", 1001), a);
	assert_int_equal(new_flow("198.18.0.2", 1001), c);

	add_backend(&k6, "2001:db8::11", 0x21);
	add_backend(&k6, "2001:db8::12", 0x22);
	set_persist(&k6, 60 * NS, 32, 64);
	s = tcp6(1000, SYN);
	first = expect_tx(&s);
	for (i = 0; i < 5; i++) {
		s = tcp6((__u16)(2000 + i), SYN);
		s.saddr = i & 1 ? "2001:db8::1:2" : "2001:db8::ffff:1"; /* same /64 */
		assert_int_equal(expect_tx(&s), first);
	}
	s.saddr = "2001:db8:0:1::1"; /* another /64: the rotation's next */
	assert_int_not_equal(expect_tx(&s), first);
}

/*
 * Only a flow's first packet is scheduled: an ACK flood between SYNs and
 * their ACKs (one-packet tuples, as spoofed; half to the rr VIP, half to a
 * Maglev VIP beside it) neither moves a handshake, nor turns the rotation,
 * nor writes persist entries, nor takes the SYNs' probation slots.
 */
static void test_ack_flood_moves_no_handshake(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_RR);
	struct vip_key m = add_vip(VIP4, 81, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s;
	char src[32];
	int syn[200], i, moved = 0, next, again;
	struct xlb_explain e;

	(void)state;
	backends(&k, 3, NULL);
	add_backend(&m, addrs[0], 0x11);
	set_persist(&k, 60 * NS, 32, 64);
	for (i = 0; i < 200; i++) {
		snprintf(src, sizeof(src), "198.18.1.%d", 1 + i);
		syn[i] = new_flow(src, 1000);
	}
	next = next_of(&k, "198.18.2.1", 1000, &e);
	for (i = 0; i < 32768; i++) { /* four times the probation slots */
		snprintf(src, sizeof(src), "198.19.%d.%d", (i >> 8) & 0xff, i & 0xff);
		s = tcp4((__u16)(1024 + i), ACK);
		s.saddr = src;
		s.dport = i & 1 ? 81 : 80;
		expect_tx(&s);
	}
	assert_int_equal(stat(XLB_STAT_CT_MISS_MIDFLOW), 16384);
	assert_int_equal(stat(XLB_STAT_PERSIST_WRITE), 200);
	for (i = 0; i < 200; i++) {
		snprintf(src, sizeof(src), "198.18.1.%d", 1 + i);
		s = tcp4(1000, ACK);
		s.saddr = src;
		moved += expect_tx(&s) - 0x11 != syn[i];
	}
	assert_int_equal(moved, 0);
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 200);
	/* the rotation's next turn is where it was before the flood */
	again = new_flow("198.18.2.1", 1000);
	assert_int_equal(again, next);
}

/* rr's cursors are per CPU, and explain reads each: a flow on CPU 1 turns CPU 1's. */
static void test_cursor_per_cpu(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_RR);
	struct xlb_explain e;
	cpu_set_t one;
	int i;

	(void)state;
	if (libbpf_num_possible_cpus() < 2 || F.dp.ncpus < 2)
		skip();
	backends(&k, 3, NULL);
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		skip();
	for (i = 0; i < 5; i++)
		new_flow(CLIENT4, (__u16)(1000 + i));
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	next_of(&k, CLIENT4, 2000, &e);
	assert_int_equal(e.sched.ncpus >= 2, 1);
	assert_int_equal(e.sched.cursor[0], 0);
	assert_int_equal(e.sched.cursor[1], 5);
}

/* explain names the scheduler, the candidates and the pick the program then makes. */
static void test_explain_agrees(void **state)
{
	struct vip_key rr = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_RR);
	struct vip_key lc = add_vip(VIP4, 81, IPPROTO_TCP, XLB_SCHED_LC);
	const struct xlb_explain_timeouts t = FIXTURE_TIMEOUTS;
	struct flow_key fk = {};
	struct xlb_explain e;
	struct pkt_spec s;
	char line[XLB_EXPLAIN_LINE_MAX];
	int i;

	(void)state;
	backends(&rr, 3, NULL);
	add_backend(&lc, addrs[0], 0x11);
	add_backend(&lc, addrs[1], 0x12);
	add_backend(&lc, addrs[2], 0x13);
	set_load(&lc, 0, 7, 0, 1);
	set_load(&lc, 1, 3, 0, 1);
	set_load(&lc, 2, 5, 0, 1);
	addr_parse16(CLIENT4, fk.saddr);
	addr_parse16(VIP4, fk.daddr);
	fk.proto = IPPROTO_TCP;
	for (i = 0; i < 20; i++) {
		s = tcp4((__u16)(7000 + i), SYN);
		s.dport = i & 1 ? 81 : 80;
		fk.sport = htons(s.sport);
		fk.dport = htons(s.dport);
		assert_int_equal(xlb_explain(&F.dp, &fk, SYN, FIXTURE_LO, *fixture_clock(&F), &t, &e), 0);
		assert_int_equal(e.sched.used, 1);
		assert_int_equal(mac_of_id(i & 1 ? &lc : &rr, e.backend_id), expect_tx(&s));
	}
	xlb_explain_step(&e, 3, NULL, line, sizeof(line));
	assert_non_null(strstr(line, "4. sched: lc: slot "));
	assert_non_null(strstr(line, " vs slot "));
	s = tcp4(9000, SYN);
	fk.sport = htons(9000);
	fk.dport = htons(80);
	assert_int_equal(xlb_explain(&F.dp, &fk, SYN, FIXTURE_LO, *fixture_clock(&F), &t, &e), 0);
	xlb_explain_step(&e, 3, NULL, line, sizeof(line));
	assert_non_null(strstr(line, "4. sched: rr: next slot cpu0 "));
	assert_int_equal(mac_of_id(&rr, e.backend_id), expect_tx(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rr_equal_turns),
		T(test_wrr_shares),
		T(test_rr_drain_disable),
		T(test_lc_two_choices),
		T(test_lc_short_flows),
		T(test_wlc_weights),
		T(test_lt_rate),
		T(test_persist),
		T(test_persist_prefixes),
		T(test_explain_agrees),
		T(test_ack_flood_moves_no_handshake),
		T(test_cursor_per_cpu),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
