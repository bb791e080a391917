// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
/*
 * The connection tables (README, "Connection table"): probation and
 * promotion, what a flood can and cannot evict, closing, port reuse, the
 * per-backend open/close counts, and an older build's table read after an
 * upgrade. The real program through BPF_PROG_TEST_RUN, as test_packets.
 */
#include <pthread.h>
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

#define NS FIXTURE_NS
#define TICK (1ULL << XLB_TICK_SHIFT)
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define ACK 0x10

/* The flood test's main table: per family, split between the CPUs' LRU lists. */
#define FLOOD_CT_SIZE 32768
#define FLOOD_FLOWS 10000

/* On one CPU (the fixture's), whose LRU list takes every insert, as one RSS queue would. */
static int setup_flood(void **state)
{
	(void)state;
	return fixture_open_sized(&F, FLOOD_CT_SIZE, 0) ? -1 : 0;
}

static int setup_legacy(void **state)
{
	(void)state;
	return fixture_open_sized(&F, 65536, 1024) ? -1 : 0;
}

static __u32 main_entries(int fd, __u32 key_size)
{
	__u8 key[64], next[64];
	__u32 n = 0;
	int err;

	for (err = bpf_map_get_next_key(fd, NULL, next); !err && n < 10000000;
	     err = bpf_map_get_next_key(fd, key, next)) {
		memcpy(key, next, key_size);
		n++;
	}
	return n;
}

static struct flow_state main_entry(const struct pkt_spec *s)
{
	struct flow_key key = {};
	struct flow_state st = {};

	addr_parse16(s->saddr, key.saddr);
	addr_parse16(s->daddr, key.daddr);
	key.sport = htons(s->sport);
	key.dport = htons(s->dport);
	key.proto = s->proto;
	assert_int_equal(xlb_dp_flow_lookup(&F.dp, XLB_FLOW_TABLE_MAIN, &key, &st), 0);
	return st;
}

static __u8 send_flags(struct pkt_spec *s, __u8 flags)
{
	s->tcp_flags = flags;
	return expect_tx(s);
}

/* A whole handshake and some data: in the main table. */
static __u8 establish(struct pkt_spec *s)
{
	__u8 be = send_flags(s, SYN);

	assert_int_equal(send_flags(s, ACK), be);
	assert_int_equal(send_flags(s, ACK), be);
	return be;
}

/* The VIP's table, read once per change (table_pick reads it for every call). */
static __u32 cached[XLB_MAGLEV_SIZE];

static void table_load(const struct vip_key *k)
{
	assert_int_equal(xlb_dp_table_get(&F.dp, xlb_lb_vip_find(F.lb, k)->id, cached), 0);
}

static __u8 table_mac(const struct vip_key *k, const struct pkt_spec *s)
{
	__be32 sa[4], da[4];

	addr_parse16(s->saddr, sa);
	addr_parse16(s->daddr, da);
	return mac_of_id(k, cached[xlb_hash_flow(sa, da, htons(s->sport), htons(s->dport),
						 s->proto) % XLB_MAGLEV_SIZE]);
}

static void add_backends(const struct vip_key *k, int from, int n)
{
	char addr[32];
	int i;

	for (i = from; i < from + n; i++) {
		snprintf(addr, sizeof(addr), "198.18.0.%d", 11 + i);
		add_backend(k, addr, 0x11 + i);
	}
}

/*
 * SYN, handshake ACK, the backend set changes, then data: the ACK alone
 * promoted the flow, so it stays. IPv4 and IPv6 (flows4, flows6).
 */
static void test_handshake_then_change_stays(void **state)
{
	struct vip_key k4 = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct vip_key k6 = add_vip(VIP6, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s;
	__u8 be4[300], be6[300];
	int i, moved = 0;

	(void)state;
	add_backends(&k4, 0, 2);
	add_backend(&k6, "2001:db8::11", 0x11);
	add_backend(&k6, "2001:db8::12", 0x12);
	for (i = 0; i < 300; i++) {
		s = tcp4(20000 + i, SYN);
		be4[i] = send_flags(&s, SYN);
		assert_int_equal(send_flags(&s, ACK), be4[i]);
		s = tcp6(20000 + i, SYN);
		be6[i] = send_flags(&s, SYN);
		assert_int_equal(send_flags(&s, ACK), be6[i]);
	}
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 600);
	add_backends(&k4, 2, 3);
	add_backend(&k6, "2001:db8::13", 0x13);
	add_backend(&k6, "2001:db8::14", 0x14);
	table_load(&k4);
	for (i = 0; i < 300; i++) {
		s = tcp4(20000 + i, ACK);
		moved += table_mac(&k4, &s) != be4[i];
		assert_int_equal(send_flags(&s, ACK), be4[i]);
	}
	table_load(&k6);
	for (i = 0; i < 300; i++) {
		s = tcp6(20000 + i, ACK);
		moved += table_mac(&k6, &s) != be6[i];
		assert_int_equal(send_flags(&s, ACK), be6[i]);
	}
	/* the table alone would have moved these */
	assert_true(moved > 100);
	assert_int_equal(stat(XLB_STAT_CT_HIT), 600);
}

/*
 * A flow first seen mid-stream (an ACK: another LB carried it before)
 * is on probation; the table changes; its next packet still finds its
 * backend there, and promotes it.
 */
static void test_probation_holds_across_change(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s;
	__u8 be[64];
	int i, moved = 0;

	(void)state;
	add_backends(&k, 0, 2);
	for (i = 0; i < 64; i++) {
		s = tcp4(30000 + i, ACK);
		be[i] = send_flags(&s, ACK);
	}
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 0);
	add_backends(&k, 2, 3);
	table_load(&k);
	for (i = 0; i < 64; i++) {
		s = tcp4(30000 + i, ACK);
		moved += table_mac(&k, &s) != be[i];
		assert_int_equal(send_flags(&s, ACK), be[i]);
	}
	assert_true(moved > 20);
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 64);
	assert_int_equal(stat(XLB_STAT_CT_PROBATION_HIT), 64);
}

static __u32 xorshift(__u32 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * The flood: 10,000 established flows, then single-packet ACKs
 * from random sources, twice the main table's size, then a backend more.
 * Every flow still reaches its backend: the flood only ever overwrote
 * probation slots. (The design before probation kept none of them: every
 * flood packet was inserted into the one table, which evicted them all.)
 */
static void test_flood_does_not_evict(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	static __u8 be[FLOOD_FLOWS];
	__u8 in[PKT_MAX], out[PKT_MAX];
	char src[32];
	struct pkt_spec s;
	__u32 seed = 0x12345678, r, i, moved = 0, kept = 0;
	__u64 misses, promoted;
	size_t len;

	(void)state;
	add_backends(&k, 0, 3);
	for (i = 0; i < FLOOD_FLOWS; i++) {
		s = tcp4(10000 + i % 50000, SYN);
		snprintf(src, sizeof(src), "198.18.%u.%u", 1 + i / 50000, 1 + i % 200);
		s.saddr = src;
		s.sport = 1024 + i;
		be[i] = establish(&s);
	}
	assert_int_equal(main_entries(F.dp.flows4_fd, sizeof(struct flow4_key)), FLOOD_FLOWS);
	misses = stat(XLB_STAT_CT_MISS);
	promoted = stat(XLB_STAT_CT_PROMOTED);

	for (i = 0; i < 2 * FLOOD_CT_SIZE; i++) {
		r = xorshift(&seed);
		snprintf(src, sizeof(src), "198.19.%u.%u", (r >> 8) & 0xff, r & 0xff);
		s = tcp4((__u16)(r >> 16) | 1024, ACK);
		s.saddr = src;
		len = pkt_build(&s, in);
		assert_verdict(run(in, len, out, NULL), XDP_TX);
	}
	print_message("# flood: %u packets, probation slots busy %llu, overwritten %llu, promoted %llu\n",
		      2 * FLOOD_CT_SIZE, (unsigned long long)stat(XLB_STAT_CT_PROBATION_BUSY),
		      (unsigned long long)stat(XLB_STAT_CT_PROBATION_OVERWRITE),
		      (unsigned long long)(stat(XLB_STAT_CT_PROMOTED) - promoted));
	assert_true(stat(XLB_STAT_CT_MISS) - misses > 2 * FLOOD_CT_SIZE * 9 / 10);
	/* ACKs start no flow: they take each other's slots, never a start's */
	assert_true(stat(XLB_STAT_CT_PROBATION_OVERWRITE) > FLOOD_CT_SIZE);
	assert_true(stat(XLB_STAT_CT_PROMOTED) - promoted < 64); /* repeats of a random tuple */

	add_backend(&k, "198.18.0.20", 0x20);
	table_load(&k);
	for (i = 0; i < FLOOD_FLOWS; i++) {
		snprintf(src, sizeof(src), "198.18.%u.%u", 1 + i / 50000, 1 + i % 200);
		s = tcp4(1024 + i, ACK);
		s.saddr = src;
		moved += table_mac(&k, &s) != be[i];
		kept += send_flags(&s, ACK) == be[i];
	}
	print_message("# %u of %u flows kept their backend; the table alone moves %u\n", kept,
		      FLOOD_FLOWS, moved);
	assert_true(moved > FLOOD_FLOWS / 10);
	assert_int_equal(kept, FLOOD_FLOWS);
}

/* A SYN flood of random tuples puts nothing in the main table. */
static void test_syn_flood_stays_out(void **state)
{
	struct vip_key k = vip4_with_3();
	__u8 in[PKT_MAX], out[PKT_MAX];
	__u32 seed = 42, r, i;
	char src[32];
	struct pkt_spec s;

	(void)state;
	(void)k;
	for (i = 0; i < 3 * XLB_PROBATION_SLOTS; i++) {
		r = xorshift(&seed);
		snprintf(src, sizeof(src), "198.19.%u.%u", (r >> 8) & 0xff, r & 0xff);
		s = tcp4((__u16)(r >> 16) | 1024, SYN);
		s.saddr = src;
		assert_verdict(run(in, pkt_build(&s, in), out, NULL), XDP_TX);
	}
	assert_int_equal(main_entries(F.dp.flows4_fd, sizeof(struct flow4_key)), 0);
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 0);
}

/* Over the closing timeout, in whole ticks: the entry has expired. */
#define PAST_CLOSING (FIXTURE_TCP_CLOSING + 2 * TICK)

/* FIN and RST from the client: closing, still on its backend, then expired. */
static void test_fin_rst_close(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec fin = tcp4(40000, ACK), rst = tcp4(40001, ACK);
	__u8 be_fin, be_rst;

	(void)state;
	(void)k;
	be_fin = establish(&fin);
	be_rst = establish(&rst);
	assert_int_equal(send_flags(&fin, FIN | ACK), be_fin);
	assert_int_equal(main_entry(&fin).state, XLB_FLOW_CLOSING);
	assert_int_equal(send_flags(&rst, RST), be_rst);
	assert_int_equal(main_entry(&rst).state, XLB_FLOW_CLOSING);
	assert_int_equal(stat(XLB_STAT_CT_CLOSING), 2);
	/* the last ACKs of the teardown still reach it; a second FIN counts nothing */
	assert_int_equal(send_flags(&fin, ACK), be_fin);
	assert_int_equal(send_flags(&fin, FIN | ACK), be_fin);
	assert_int_equal(stat(XLB_STAT_CT_CLOSING), 2);
	/* within the closing timeout of its last packet: kept ... */
	*fixture_clock(&F) += FIXTURE_TCP_CLOSING - TICK;
	assert_int_equal(send_flags(&fin, ACK), be_fin);
	assert_int_equal(stat(XLB_STAT_CT_HIT), 2 + 4 + 1);
	/* ... past it: expired, a fresh pick is written over it (no idle timeout of 300 s) */
	*fixture_clock(&F) += PAST_CLOSING;
	send_flags(&rst, ACK);
	assert_int_equal(stat(XLB_STAT_CT_HIT), 2 + 4 + 1);
	assert_int_equal(main_entry(&rst).state, XLB_FLOW_ESTABLISHED);
}

/*
 * Port reuse: a SYN on a closing flow's tuple is a new connection and gets
 * a fresh pick; its handshake then stays there. A SYN on an established
 * flow (a retransmission, or a FIN never seen) keeps its backend.
 */
/* An established flow the current table would send elsewhere, other than not. */
static struct pkt_spec moved_flow(const struct vip_key *k, int first, int n, int not)
{
	struct pkt_spec s;
	int i;

	table_load(k);
	for (i = first; i < first + n; i++) {
		s = tcp4(i, ACK);
		if (i != not && table_mac(k, &s) != mac_of_id(k, main_entry(&s).backend_id))
			return s;
	}
	fail_msg("no flow the table moves");
	return s;
}

static void test_syn_reopens_closing(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s, est;
	__u8 old_be, new_be;
	int i;

	(void)state;
	add_backends(&k, 0, 2);
	for (i = 0; i < 100; i++) {
		s = tcp4(41000 + i, SYN);
		establish(&s);
	}
	add_backends(&k, 2, 3);
	s = moved_flow(&k, 41000, 100, -1);
	old_be = send_flags(&s, ACK);
	new_be = mac_of_id(&k, table_pick(&k, &s, 0));
	assert_int_not_equal(old_be, new_be);

	send_flags(&s, FIN | ACK);
	assert_int_equal(send_flags(&s, SYN), new_be);
	assert_int_equal(stat(XLB_STAT_CT_REOPENED), 1);
	assert_int_equal(main_entry(&s).state, XLB_FLOW_ESTABLISHED);
	assert_int_equal(send_flags(&s, ACK), new_be);
	assert_int_equal(send_flags(&s, ACK), new_be);

	/* established: a SYN stays where the flow is */
	est = moved_flow(&k, 41000, 100, s.sport);
	old_be = send_flags(&est, ACK);
	assert_int_equal(send_flags(&est, SYN), old_be);
	assert_int_equal(send_flags(&est, ACK), old_be);
	assert_int_equal(stat(XLB_STAT_CT_REOPENED), 1);
}

static struct flow_counts counts_of(const struct vip_key *k)
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(F.lb, k);
	struct flow_counts sum = {}, c;
	__u32 i;

	for (i = 0; i < vip->nbackends; i++) {
		assert_int_equal(xlb_dp_backend_flows(&F.dp, vip->backends[i].id, &c), 0);
		sum.opened += c.opened;
		sum.closed += c.closed;
	}
	return sum;
}

/* Each backend's opened and closed: what xlbd adds to its count of the tables. */
static void test_backend_flow_counts(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec s;
	struct flow_counts c;
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		s = tcp4(42000 + i, SYN);
		establish(&s);
	}
	s = tcp4(42100, SYN);
	send_flags(&s, SYN); /* on probation: not opened */
	c = counts_of(&k);
	assert_int_equal(c.opened, 5);
	assert_int_equal(c.closed, 0);
	s = tcp4(42000, ACK);
	send_flags(&s, FIN | ACK);
	s = tcp4(42001, ACK);
	send_flags(&s, RST);
	send_flags(&s, RST);
	c = counts_of(&k);
	assert_int_equal(c.opened, 5);
	assert_int_equal(c.closed, 2);
	s = tcp4(42000, SYN);
	send_flags(&s, SYN); /* reopened: a new flow in its entry */
	c = counts_of(&k);
	assert_int_equal(c.opened, 6);
	assert_int_equal(c.closed, 2);
}

static void legacy_put(const struct pkt_spec *s, __u32 backend_id, __u64 last_seen_ns)
{
	struct flow_key key = {};
	struct flow_entry e = { .backend_id = backend_id, .backend_gen = 1,
				.last_seen_ns = last_seen_ns };

	addr_parse16(s->saddr, key.saddr);
	addr_parse16(s->daddr, key.daddr);
	key.sport = htons(s->sport);
	key.dport = htons(s->dport);
	key.proto = s->proto;
	assert_int_equal(bpf_map_update_elem(F.dp.legacy_ct_fd, &key, &e, BPF_ANY), 0);
}

/*
 * After an upgrade: flows of the older build's table keep their backend,
 * and move into the main table; an expired one is not used.
 */
static void test_legacy_table_read(void **state)
{
	struct vip_key k = vip4_with_3();
	struct xlb_lb_vip *vip = xlb_lb_vip_find(F.lb, &k);
	struct pkt_spec s = tcp4(0, ACK), old = tcp4(0, ACK);
	__u32 id = 0, i;
	__u8 mac = 0;

	(void)state;
	s.sport = 43000;
	/* another backend than the table's pick */
	for (i = 0; i < vip->nbackends; i++)
		if (vip->backends[i].id != table_pick(&k, &s, 0))
			id = vip->backends[i].id, mac = vip->backends[i].spec.mac[5];
	legacy_put(&s, id, *fixture_clock(&F) - 5 * NS);
	assert_int_equal(send_flags(&s, ACK), mac);
	assert_int_equal(stat(XLB_STAT_CT_LEGACY_HIT), 1);
	assert_int_equal(main_entry(&s).backend_id, id);
	assert_int_equal(send_flags(&s, ACK), mac);
	assert_int_equal(stat(XLB_STAT_CT_HIT), 1);
	assert_int_equal(stat(XLB_STAT_CT_LEGACY_HIT), 1);
	/* moved, not copied: the old table no longer holds it */
	assert_int_equal(main_entries(F.dp.legacy_ct_fd, sizeof(struct flow_key)), 0);

	/* a SYN from a tuple of the old table is a new connection: the table's pick */
	s.sport = 43002;
	for (i = 0; i < vip->nbackends; i++)
		if (vip->backends[i].id != table_pick(&k, &s, 0))
			id = vip->backends[i].id;
	legacy_put(&s, id, *fixture_clock(&F) - NS);
	assert_int_equal(send_flags(&s, SYN), mac_of_id(&k, table_pick(&k, &s, 0)));
	assert_int_equal(stat(XLB_STAT_CT_LEGACY_HIT), 1);

	/* idle beyond tcp_idle in the old table: the table's pick */
	old.sport = 43001;
	for (i = 0; i < vip->nbackends; i++)
		if (vip->backends[i].id != table_pick(&k, &old, 0))
			id = vip->backends[i].id;
	legacy_put(&old, id, *fixture_clock(&F) - FIXTURE_TCP_IDLE - NS);
	assert_int_equal(send_flags(&old, ACK), mac_of_id(&k, table_pick(&k, &old, 0)));
	assert_int_equal(stat(XLB_STAT_CT_LEGACY_HIT), 1);
}


static int main_get(const struct pkt_spec *s, struct flow_state *st)
{
	struct flow_key key = {};

	addr_parse16(s->saddr, key.saddr);
	addr_parse16(s->daddr, key.daddr);
	key.sport = htons(s->sport);
	key.dport = htons(s->dport);
	key.proto = s->proto;
	return xlb_dp_flow_lookup(&F.dp, XLB_FLOW_TABLE_MAIN, &key, st);
}

/*
 * An IPv6 frame addressed ::ffff:CLIENT4 -> ::ffff:VIP4 would share the
 * IPv4 flow's key (probation, the older build's table): a v4-mapped
 * destination is never a VIP address, and the IPv4 flow is untouched.
 */
static void test_v4mapped_is_not_the_vip(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec v4 = tcp4(5555, SYN), v6;
	__u8 be;

	(void)state;
	add_backends(&k, 0, 2);
	be = send_flags(&v4, SYN);
	v6 = v4;
	v6.family = 6;
	v6.saddr = "::ffff:198.18.0.1";
	v6.daddr = "::ffff:198.18.100.10";
	v6.tcp_flags = ACK;
	expect_untouched(&v6, XDP_PASS);
	assert_int_equal(stat(XLB_STAT_PASS_NON_VIP), 1);
	assert_int_equal(send_flags(&v4, ACK), be);
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 1);
	assert_int_equal(stat(XLB_STAT_CT_MISS), 1);
}

/* Idle past half the u32 tick range (1.14 years) is still idle: not young again. */
static void test_long_idle_stays_expired(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec s = tcp4(6000, SYN);
	struct flow_state st;
	__u64 hits;

	(void)state;
	(void)k;
	establish(&s);
	hits = stat(XLB_STAT_CT_HIT);
	*fixture_clock(&F) += FIXTURE_TCP_IDLE + 2 * TICK + (1ULL << 31) * TICK;
	assert_int_equal(main_get(&s, &st), 0);
	send_flags(&s, ACK);
	assert_int_equal(stat(XLB_STAT_CT_HIT), hits);
	assert_int_equal(stat(XLB_STAT_CT_MISS), 2);
}


static __u32 probation_hash_of(const struct pkt_spec *s)
{
	__be32 sa[4], da[4];

	addr_parse16(s->saddr, sa);
	addr_parse16(s->daddr, da);
	return xlb_hash_entropy(sa, da, htons(s->sport), htons(s->dport), s->proto);
}

/*
 * Two flows first seen mid-stream whose first probation slots are one,
 * their packets alternating: each keeps its place in its other slot, so
 * both are promoted at their second packet (with one slot each, they
 * would overwrite each other for ever, and never be promoted).
 */
static void test_probation_slot_sharers(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec a = tcp4(30000, ACK), b = tcp4(0, ACK);
	__u32 ha = probation_hash_of(&a), p;
	__u8 be_a, be_b;

	(void)state;
	(void)k;
	for (p = 30001; p < 65535; p++) {
		b.sport = p;
		if (xlb_probation_slot(probation_hash_of(&b), 0) == xlb_probation_slot(ha, 0) &&
		    xlb_probation_slot(probation_hash_of(&b), 1) != xlb_probation_slot(ha, 1))
			break;
	}
	assert_true(p < 65535);
	be_a = send_flags(&a, ACK);
	be_b = send_flags(&b, ACK);
	assert_int_equal(stat(XLB_STAT_CT_PROBATION_OVERWRITE), 0);
	assert_int_equal(send_flags(&a, ACK), be_a);
	assert_int_equal(send_flags(&b, ACK), be_b);
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 2);
	assert_int_equal(main_entries(F.dp.flows4_fd, sizeof(struct flow4_key)), 2);
}

/*
 * Another CPU rewrites a probation slot while this one reads it: a flow
 * is promoted with the backend its own write named, never the other's.
 * A flood on CPU 1 of tuples in the victims' first slot, picked to another
 * backend; on CPU 0, SYN and ACK of real flows. No table change at all.
 * (With two slots a flow, most victims now find their second slot free:
 * the flood, confined to one slot, can no longer keep them out.)
 */
#define VICTIMS 20000
#define FLOODERS 256
static struct pkt_spec victims[VICTIMS];
static char victim_src[VICTIMS][32];
static __u8 flood_pkt[FLOODERS][PKT_MAX];
static size_t flood_len[FLOODERS];
static char flood_src[FLOODERS][32];
static volatile int stop_flood;
static __u64 flood_sent;

static __u32 slot_of(const struct pkt_spec *s)
{
	__be32 sa[4], da[4];

	addr_parse16(s->saddr, sa);
	addr_parse16(s->daddr, da);
	return xlb_hash_entropy(sa, da, htons(s->sport), htons(s->dport), s->proto) &
	       (XLB_PROBATION_SLOTS - 1);
}

static void *flooder(void *arg)
{
	cpu_set_t one;
	__u8 out[PKT_MAX];
	__u32 i = 0;

	(void)arg;
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	while (!stop_flood) {
		pkt_run(F.prog_fd, FIXTURE_LO, flood_pkt[i], flood_len[i], out, NULL);
		i = (i + 1) % FLOODERS;
		flood_sent++;
	}
	return NULL;
}

static void test_probation_race_moves_flows(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	__u32 a, b, slot, nv = 0, nf = 0, x, i, moved = 0, promoted = 0, missed = 0;
	struct pkt_spec s;
	struct flow_state st;
	pthread_t t;
	__u8 mac_a;

	(void)state;
	if (libbpf_num_possible_cpus() < 2)
		skip();
	a = add_backend(&k, "198.18.0.11", 0x11);
	b = add_backend(&k, "198.18.0.12", 0x12);
	mac_a = 0x11;
	(void)b;
	s = tcp4(1024, SYN);
	s.saddr = "198.18.0.1";
	slot = slot_of(&s);
	/* victims: backend a, the slot; flood tuples: backend b, the same slot */
	{
		static __u32 tab[XLB_MAGLEV_SIZE];
		__be32 sa[4], da[4];

		assert_int_equal(xlb_dp_table_get(&F.dp, xlb_lb_vip_find(F.lb, &k)->id, tab), 0);
		addr_parse16(VIP4, da);
		addr_parse16("198.18.0.1", sa);
		for (x = 0; nv < VICTIMS || nf < FLOODERS; x++) {
			__u16 sport = 1024 + (x & 0x3fff);
			__u32 pick;

			sa[3] = htonl((198u << 24) | ((18u + (x >> 30 & 1)) << 16) |
				      (((x >> 22) & 0xff) << 8) | ((x >> 14) & 0xff));
			if ((xlb_hash_entropy(sa, da, htons(sport), htons(80), IPPROTO_TCP) &
			     (XLB_PROBATION_SLOTS - 1)) != slot)
				continue;
			pick = tab[xlb_hash_flow(sa, da, htons(sport), htons(80), IPPROTO_TCP) %
				   XLB_MAGLEV_SIZE];
			s = tcp4(sport, SYN);
			if (pick == a && nv < VICTIMS) {
				inet_ntop(AF_INET, &sa[3], victim_src[nv], 32);
				victims[nv] = s;
				victims[nv].saddr = victim_src[nv];
				nv++;
			} else if (pick != a && nf < FLOODERS) {
				inet_ntop(AF_INET, &sa[3], flood_src[nf], 32);
				s.saddr = flood_src[nf];
				s.tcp_flags = ACK;
				flood_len[nf] = pkt_build(&s, flood_pkt[nf]);
				nf++;
			}
		}
	}
	assert_int_equal(pthread_create(&t, NULL, flooder, NULL), 0);
	for (i = 0; i < 10 * VICTIMS; i++) {
		struct flow4_key k4 = {};
		__be32 a16[4];

		s = victims[i % VICTIMS];
		addr_parse16(s.saddr, a16);
		k4.saddr = a16[3];
		addr_parse16(s.daddr, a16);
		k4.daddr = a16[3];
		k4.sport = htons(s.sport);
		k4.dport = htons(s.dport);
		k4.proto = IPPROTO_TCP;
		bpf_map_delete_elem(F.dp.flows4_fd, &k4); /* the tuple anew */
		assert_int_equal(send_flags(&s, SYN), mac_a);
		assert_int_equal(send_flags(&s, ACK), mac_a);
		if (main_get(&s, &st)) {
			missed++;
			continue;
		}
		promoted++;
		if (st.backend_id != a)
			moved++;
	}
	stop_flood = 1;
	pthread_join(t, NULL);
	print_message("# %u victims, %llu flood packets on CPU 1: promoted %u, missed %u, "
		      "promoted onto the flood's backend %u\n", 10 * VICTIMS,
		      (unsigned long long)flood_sent, promoted, missed, moved);
	/* no backend change at all: every promoted victim must name a */
	assert_true(promoted > 100);
	assert_int_equal(moved, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_handshake_then_change_stays),
		T(test_probation_holds_across_change),
		cmocka_unit_test_setup_teardown(test_flood_does_not_evict, setup_flood, fx_teardown),
		T(test_syn_flood_stays_out),
		T(test_fin_rst_close),
		T(test_syn_reopens_closing),
		T(test_backend_flow_counts),
		cmocka_unit_test_setup_teardown(test_legacy_table_read, setup_legacy, fx_teardown),
		T(test_v4mapped_is_not_the_vip),
		T(test_long_idle_stays_expired),
		T(test_probation_race_moves_flows),
		T(test_probation_slot_sharers),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
