// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet tests: the real XDP object, maps filled as the daemon fills them
 * (through user/lb.c), crafted packets through BPF_PROG_TEST_RUN, and
 * assertions on the verdict, the exact output bytes and the counters:
 * forwarding, the connection table, the schedulers, the counters. How
 * headers are parsed is test_headers.c.
 *
 * Runs inside a network namespace made by tests/run.sh, which provides the
 * veth pair xlbt-pkt0/xlbt-pkt1 for the redirect case.
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
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "l2dsr_assert.h"

#define NS FIXTURE_NS

/* ---- forwarding ---- */

static void test_tcp4_to_vip_tx(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec s = tcp4(40000, 0x10);

	(void)state;
	assert_int_equal(expect_tx(&s), mac_of_id(&k, table_pick(&k, &s, 0)));
}

static void test_tcp6_to_vip_tx(void **state)
{
	struct vip_key k = add_vip(VIP6, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp6(40000, 0x10);

	(void)state;
	add_backend(&k, "2001:db8::11", 0x11);
	add_backend(&k, "2001:db8::12", 0x12);
	assert_int_equal(expect_tx(&s), mac_of_id(&k, table_pick(&k, &s, 0)));
}

static void test_udp4_udp6_to_vip_tx(void **state)
{
	struct vip_key k4 = add_vip(VIP4, 53, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	struct vip_key k6 = add_vip(VIP6, 53, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	struct pkt_spec s4 = tcp4(5353, 0), s6 = tcp6(5353, 0);

	(void)state;
	add_backend(&k4, "198.18.0.11", 0x11);
	add_backend(&k4, "198.18.0.12", 0x12);
	add_backend(&k6, "2001:db8::11", 0x21);
	add_backend(&k6, "2001:db8::12", 0x22);
	s4.proto = s6.proto = IPPROTO_UDP;
	s4.dport = s6.dport = 53;
	assert_int_equal(expect_tx(&s4), mac_of_id(&k4, table_pick(&k4, &s4, 0)));
	assert_int_equal(expect_tx(&s6), mac_of_id(&k6, table_pick(&k6, &s6, 0)));
}

static void test_port0_vip_matches_every_port(void **state)
{
	struct vip_key k = add_vip(VIP4, 0, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp4(40000, 0x10);
	__u16 ports[] = { 1, 80, 443, 8080, 65535 };
	__u32 i;

	(void)state;
	add_backend(&k, "198.18.0.11", 0x11);
	for (i = 0; i < 5; i++) {
		s.dport = ports[i];
		assert_int_equal(expect_tx(&s), 0x11);
	}
	/* UDP is another protocol: not this VIP */
	s.proto = IPPROTO_UDP;
	expect_untouched(&s, XDP_PASS);
}

static void test_redirect_other_interface(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct xlb_backend_spec b;
	struct pkt_spec s = tcp4(40000, 0x10);
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(&s, in);
	int egress = if_nametoindex("xlbt-pkt0");

	(void)state;
	assert_true(egress > 0);
	assert_int_equal(fixture_backend_spec("198.18.0.11", 0x11, egress, &b), 0);
	b.weight = 1;
	assert_true(xlb_lb_backend_add(F.lb, &k, &b) > 0);
	/* not in the devmap yet: dropped and counted */
	assert_int_equal(run(in, len, out, NULL), XDP_DROP);
	assert_int_equal(stat(XLB_STAT_DROP_REDIRECT), 1);
	assert_int_equal(xlb_dp_tx_port_add(&F.dp, egress), 0);
	assert_int_equal(run(in, len, out, NULL), XDP_REDIRECT);
	assert_int_equal(out[5], 0x11);
	assert_int_equal(stat(XLB_STAT_REDIRECT), 1);
	/* the dropped one is not the VIP's traffic, the redirected one is */
	assert_int_equal(fx_vip_traffic(&F, &k).packets, 1);
	assert_int_equal(fx_vip_traffic(&F, &k).bytes, len);
}

/* ---- the connection table ---- */

/*
 * A flow's first packet, a SYN too, is on probation; a retransmitted SYN
 * proves nothing; the handshake ACK promotes it to the main table.
 */
static void test_first_packet_on_probation(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec syn = tcp4(40000, 0x02), ack = tcp4(40000, 0x10);
	struct traffic_stats ts;

	(void)state;
	expect_tx(&syn);
	assert_int_equal(stat(XLB_STAT_CT_MISS), 1);
	expect_tx(&syn);
	assert_int_equal(stat(XLB_STAT_CT_PROBATION_HIT), 1);
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 0);
	expect_tx(&ack);
	assert_int_equal(stat(XLB_STAT_CT_PROBATION_HIT), 2);
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 1);
	expect_tx(&ack);
	assert_int_equal(stat(XLB_STAT_CT_MISS), 1);
	assert_int_equal(stat(XLB_STAT_CT_HIT), 1);
	ts = fx_vip_traffic(&F, &k);
	assert_int_equal(ts.new_flows, 1);
	assert_int_equal(ts.packets, 4);
}

/* Find a client port whose flow the table sends to the backend with mac_last. */
static __u16 port_for(const struct vip_key *k, __u8 mac_last, __u16 from)
{
	struct pkt_spec s = tcp4(0, 0x10);
	__u16 p;

	for (p = from; p < from + 2000; p++) {
		s.sport = p;
		if (mac_of_id(k, table_pick(k, &s, 0)) == mac_last)
			return p;
	}
	fail_msg("no port maps to backend %02x", mac_last);
	return 0;
}

static void test_established_flow_sticks(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp4(0, 0x10);
	__u8 be;
	int i, moved = 0;

	(void)state;
	add_backend(&k, "198.18.0.11", 0x11);
	add_backend(&k, "198.18.0.12", 0x12);
	/* 200 flows established on 2 backends: seen twice, in the main table */
	for (i = 0; i < 200; i++) {
		s.sport = 30000 + i;
		expect_tx(&s);
		expect_tx(&s);
	}
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 200);
	/* a third backend takes a third of the table ... */
	add_backend(&k, "198.18.0.13", 0x13);
	for (i = 0; i < 200; i++) {
		s.sport = 30000 + i;
		be = expect_tx(&s);
		assert_true(be == 0x11 || be == 0x12);
		moved += mac_of_id(&k, table_pick(&k, &s, 0)) == 0x13;
	}
	/* ... so some of these flows would have moved without the table */
	assert_true(moved > 20);

	/* removing another backend leaves a flow on 0x11 where it is */
	s.sport = port_for(&k, 0x11, 50000);
	assert_int_equal(expect_tx(&s), 0x11);
	fx_backend_del(&F, &k, "198.18.0.12");
	assert_int_equal(expect_tx(&s), 0x11);

	/* a flow whose backend is removed moves */
	fx_backend_del(&F, &k, "198.18.0.11");
	assert_int_equal(expect_tx(&s), 0x13);
}

static void test_drain_keeps_down_moves(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec s = tcp4(0, 0x10), fresh = tcp4(0, 0x10);
	int i;

	(void)state;
	s.sport = port_for(&k, 0x12, 20000);
	assert_int_equal(expect_tx(&s), 0x12);
	fx_backend_state(&F, &k, "198.18.0.12", XLB_BE_DRAIN);
	/* established flow stays on the drained backend */
	assert_int_equal(expect_tx(&s), 0x12);
	/* new flows avoid it */
	for (i = 0; i < 300; i++) {
		fresh.sport = 40000 + i;
		assert_int_not_equal(expect_tx(&fresh), 0x12);
	}
	/* down: its flows move too */
	fx_backend_state(&F, &k, "198.18.0.12", XLB_BE_DOWN);
	assert_int_not_equal(expect_tx(&s), 0x12);
	/* back up, the flow stays where it moved (a fresh entry was made) */
	fx_backend_state(&F, &k, "198.18.0.12", XLB_BE_UP);
	assert_int_not_equal(expect_tx(&s), 0x12);
}

/*
 * A flow in the main table, idle for within: the entry is used; then idle
 * for beyond: a fresh pick is written over it.
 */
static void idle_expires(const struct pkt_spec *s, __u64 within, __u64 beyond)
{
	__u64 hits = stat(XLB_STAT_CT_HIT), misses = stat(XLB_STAT_CT_MISS);

	expect_tx(s);
	expect_tx(s); /* promoted */
	*fixture_clock(&F) += within;
	expect_tx(s);
	assert_int_equal(stat(XLB_STAT_CT_HIT), hits + 1);
	*fixture_clock(&F) += beyond;
	expect_tx(s);
	assert_int_equal(stat(XLB_STAT_CT_HIT), hits + 1);
	assert_int_equal(stat(XLB_STAT_CT_MISS), misses + 2);
}

static void test_idle_timeout_per_protocol(void **state)
{
	struct vip_key k = add_vip(VIP4, 0, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	struct pkt_spec u = tcp4(7000, 0), t = tcp4(7000, 0x10);

	(void)state;
	vip4_with_3();
	add_backend(&k, "198.18.0.21", 0x21);
	u.proto = IPPROTO_UDP;
	/* UDP: 29 s idle is within udp_idle 30 s, 31 s is not */
	idle_expires(&u, 29 * NS, 31 * NS);
	/* TCP: 31 s idle is well within 300 s, 301 s is not */
	idle_expires(&t, 31 * NS, 301 * NS);
	assert_int_equal(stat(XLB_STAT_CT_HIT), 2);
	assert_int_equal(stat(XLB_STAT_CT_MISS), 4);
}

/* ---- schedulers ---- */

static void test_source_hash_one_backend(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_SOURCE_HASH);
	struct pkt_spec s = tcp4(0, 0x02);
	__u8 first = 0, seen[256] = {};
	int i, distinct = 0;
	char addr[32];

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(addr, sizeof(addr), "198.18.0.%d", 11 + i);
		add_backend(&k, addr, 0x11 + i);
	}
	for (i = 0; i < 1000; i++) {
		__u8 be;

		s.sport = 10000 + i;
		be = expect_tx(&s);
		if (!i)
			first = be;
		assert_int_equal(be, first);
	}
	assert_int_equal(first, mac_of_id(&k, table_pick(&k, &s, 1)));
	/* other clients spread over the backends */
	for (i = 0; i < 64; i++) {
		snprintf(addr, sizeof(addr), "198.19.1.%d", i);
		s.saddr = addr;
		if (!seen[expect_tx(&s)]++)
			distinct++;
	}
	assert_int_equal(distinct, 4);
}

static void test_maglev_spread_100k(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp4(0, 0x02);
	__u8 in[PKT_MAX], out[PKT_MAX];
	__u32 count[4] = {}, i;
	char addr[32];
	size_t len;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(addr, sizeof(addr), "198.18.0.%u", 11 + i);
		add_backend(&k, addr, 0x11 + i);
	}
	for (i = 0; i < 100000; i++) {
		snprintf(addr, sizeof(addr), "198.19.%u.%u", (i >> 8) & 0xff, i & 0xff);
		s.saddr = addr;
		s.sport = 1024 + (i % 50000);
		len = pkt_build(&s, in);
		assert_int_equal(run(in, len, out, NULL), XDP_TX);
		assert_true(out[5] >= 0x11 && out[5] <= 0x14);
		count[out[5] - 0x11]++;
	}
	for (i = 0; i < 4; i++) {
		double share = count[i] / 1000.0; /* percent */

		print_message("# maglev spread: backend %u took %.2f%% of 100000 flows\n",
			      i, share);
		/* within 3% of 25%: 24.25% .. 25.75% */
		assert_true(share >= 24.25 && share <= 25.75);
	}
}

static void test_no_backend_dropped(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp4(40000, 0x10);
	__u8 p[PKT_MAX];
	size_t len = pkt_build(&s, p);

	(void)state;
	expect_drop(p, len, XLB_STAT_DROP_NO_BACKEND);
	add_backend(&k, "198.18.0.11", 0x11);
	assert_int_equal(expect_tx(&s), 0x11);
	fx_backend_state(&F, &k, "198.18.0.11", XLB_BE_DOWN);
	expect_drop(p, len, XLB_STAT_DROP_NO_BACKEND);
	fx_backend_state(&F, &k, "198.18.0.11", XLB_BE_DISABLED);
	expect_drop(p, len, XLB_STAT_DROP_NO_BACKEND);
	assert_int_equal(stat(XLB_STAT_DROP_NO_BACKEND), 3);
}

static void test_vip_delete_stops_forwarding(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec s = tcp4(40000, 0x10);

	(void)state;
	expect_tx(&s);
	assert_int_equal(xlb_lb_vip_del(F.lb, &k), 0);
	/* the established flow does not outlive its VIP */
	expect_untouched(&s, XDP_PASS);
	assert_int_equal(stat(XLB_STAT_PASS_NON_VIP), 1);
}

/* ---- counters ---- */

/* Send s (its first cut bytes; 0: all), and count one more where it must be counted. */
static void send_counted(const struct pkt_spec *s, size_t cut, __u64 *want)
{
	__u8 p[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(s, p);

	run(p, cut ?: len, out, NULL);
	++*want;
}

static void test_counters_exact(void **state)
{
	struct vip_key k = vip4_with_3(), empty;
	struct pkt_spec s;
	__u64 want[XLB_STAT_MAX] = {}, got[XLB_STAT_MAX];
	struct traffic_stats vs, bs, sum = {};
	__u8 p[PKT_MAX], out[PKT_MAX];
	__u64 bytes = 0;
	size_t len;
	__u32 i;
	int ret;
	struct xlb_lb_vip *vip;

	(void)state;
	empty = add_vip(VIP4, 443, IPPROTO_TCP, XLB_SCHED_MAGLEV);

	s = tcp4(1, 0);
	s.ether_type = ETH_P_ARP;
	send_counted(&s, 0, &want[XLB_STAT_PASS_NON_IP]);
	s = tcp4(1, 0x10);
	send_counted(&s, ETH_HLEN + 10, &want[XLB_STAT_PASS_SHORT]);
	s.daddr = "198.18.200.1";
	send_counted(&s, 0, &want[XLB_STAT_PASS_NON_VIP]);
	send_counted(&s, 0, &want[XLB_STAT_PASS_NON_VIP]);
	s = tcp4(1, 0x10);
	s.dport = 8080;
	send_counted(&s, 0, &want[XLB_STAT_PASS_VIP_NO_PORT]);
	s = tcp4(1, 0);
	s.proto = IPPROTO_ICMP;
	send_counted(&s, 0, &want[XLB_STAT_ICMP]);

	/* one TCP connection: SYN, then 4 packets */
	s = tcp4(33333, 0x02);
	len = pkt_build(&s, p);
	assert_int_equal(run(p, len, out, NULL), XDP_TX);
	bytes += len;
	s.tcp_flags = 0x10;
	for (i = 0; i < 4; i++) {
		len = pkt_build(&s, p);
		assert_int_equal(run(p, len, out, NULL), XDP_TX);
		bytes += len;
	}
	want[XLB_STAT_CT_MISS] += 1;          /* the SYN: on probation */
	want[XLB_STAT_CT_PROBATION_HIT] += 1; /* the first ACK ... */
	want[XLB_STAT_CT_PROMOTED] += 1;      /* ... moves it to the main table */
	want[XLB_STAT_CT_HIT] += 3;
	want[XLB_STAT_TX] += 5;

	s.ip_opt_words = 0;
	len = pkt_build(&s, p);
	p[ETH_HLEN] = 0x43;
	assert_int_equal(run(p, len, out, NULL), XDP_DROP);
	want[XLB_STAT_DROP_BAD_IHL]++;

	s = tcp4(1, 0x10);
	s.dport = 443;
	assert_int_equal(run(p, pkt_build(&s, p), out, NULL), XDP_DROP);
	want[XLB_STAT_CT_MISS]++;
	want[XLB_STAT_DROP_NO_BACKEND]++;

	fx_counters(&F, got);
	fx_assert_counters(got, want, XLB_STAT_MAX, xlb_stat_names);

	vip = xlb_lb_vip_find(F.lb, &k);
	vs = fx_vip_traffic(&F, &k);
	assert_int_equal(vs.packets, 5);
	assert_int_equal(vs.bytes, bytes);
	assert_int_equal(vs.new_flows, 1);
	for (i = 0; i < vip->nbackends; i++) {
		ret = xlb_dp_backend_stats(&F.dp, vip->backends[i].id, &bs);
		assert_int_equal(ret, 0);
		assert_true(bs.packets == 0 || bs.packets == 5);
		sum.packets += bs.packets;
		sum.bytes += bs.bytes;
		sum.new_flows += bs.new_flows;
	}
	assert_int_equal(sum.packets, 5);
	assert_int_equal(sum.bytes, bytes);
	assert_int_equal(sum.new_flows, 1);
	assert_int_equal(fx_vip_traffic(&F, &empty).packets, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tcp4_to_vip_tx),
		T(test_tcp6_to_vip_tx),
		T(test_udp4_udp6_to_vip_tx),
		T(test_port0_vip_matches_every_port),
		T(test_redirect_other_interface),
		T(test_first_packet_on_probation),
		T(test_established_flow_sticks),
		T(test_drain_keeps_down_moves),
		T(test_idle_timeout_per_protocol),
		T(test_source_hash_one_backend),
		T(test_maglev_spread_100k),
		T(test_no_backend_dropped),
		T(test_vip_delete_stops_forwarding),
		T(test_counters_exact),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
