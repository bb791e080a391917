// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet tests of ICMP errors about VIP flows: a router's too-big (or
 * other) error quoting a packet a backend sent reaches that flow's
 * backend, encapsulated (forward ipip) or with its MACs rewritten (l2dsr);
 * malformed or foreign quotes are dropped or left to the host. The real
 * XDP object and the kernel's own FIB, in the network encap_net.c makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <bpf/libbpf.h>
#include "../../user/lib/explain.h"
#include "encap_assert.h"

/*
 * A router's error about a packet the backend sent (VIP:80 -> client:sport):
 * it quotes quote_len bytes of that packet's IP packet.
 */
/* ext_hdrs, frag: the quoted IPv6 packet's own (see struct pkt_spec) */
static size_t build_icmp_error_ext(int family, __u16 sport, size_t quote_len, int ext_hdrs,
				   int frag, __u8 *buf)
{
	struct pkt_spec r = {
		.family = family, .proto = IPPROTO_TCP,
		.saddr = family == 4 ? VIP4 : VIP6, .daddr = family == 4 ? CLIENT4 : CLIENT6,
		.sport = 80, .dport = sport, .tcp_flags = 0x18, .payload = 1400, .df = 1,
		.ext_hdrs = ext_hdrs, .frag = frag,
	};
	__u8 reply[PKT_MAX];
	size_t l3_len, hdr = family == 4 ? 28 : 48;
	__u8 *ip = buf + 14, *icmp = ip + hdr - 8;
	__be32 a[4];

	pkt_build(&r, reply);
	if (quote_len > 1200)
		quote_len = 1200;
	memset(buf, 0, 14 + hdr);
	mac_set(buf, FIXTURE_LB_MAC);
	mac_set(buf + 6, 0x54);
	pkt_put16(buf + 12, family == 4 ? ETH_P_IP : ETH_P_IPV6);
	l3_len = hdr + quote_len;
	if (family == 4) {
		ip[0] = 0x45;
		pkt_put16(ip + 2, l3_len);
		ip[8] = 64;
		ip[9] = IPPROTO_ICMP;
		parse16(ROUTER4, a);
		memcpy(ip + 12, &a[3], 4);
		parse16(VIP4, a);
		memcpy(ip + 16, &a[3], 4);
		pkt_put16(ip + 10, fold(sum16(0, ip, 20)));
		icmp[0] = 3;
		icmp[1] = 4;
		pkt_put16(icmp + 6, 1400);
	} else {
		ip[0] = 0x60;
		pkt_put16(ip + 4, l3_len - 40);
		ip[6] = IPPROTO_ICMPV6;
		ip[7] = 64;
		parse16(ROUTER6, a);
		memcpy(ip + 8, a, 16);
		parse16(VIP6, a);
		memcpy(ip + 24, a, 16);
		icmp[0] = 2;
		pkt_put32(icmp + 4, 1400);
	}
	memcpy(icmp + 8, reply + 14, quote_len);
	return 14 + l3_len;
}

static size_t build_icmp_error(int family, __u16 sport, size_t quote_len, __u8 *buf)
{
	return build_icmp_error_ext(family, sport, quote_len, 0, 0, buf);
}

/* Backends 2001:db8:60::11 and on, n of them. */
static void add_backends6(const struct vip_key *k, __u32 n)
{
	char addr[48];
	__u32 i;

	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:60::%x", 0x11 + i);
		add_backend(k, addr, 0x11 + i);
	}
}

/*
 * The error about flow s's reply (its quote with ext_hdrs and frag, see
 * build_icmp_error_ext) reaches the backend the flow went to.
 */
static void error_follows_flow6(const struct pkt_spec *s, int ext_hdrs, int frag)
{
	__u8 in[PKT_MAX], flow_out[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(s, in);

	assert_verdict(run(in, len, flow_out, NULL), XDP_REDIRECT);
	len = build_icmp_error_ext(6, s->sport, 1232, ext_hdrs, frag, in);
	assert_verdict(run(in, len, out, NULL), XDP_REDIRECT);
	/* the same outer destination */
	assert_memory_equal(out + 14 + 24, flow_out + 14 + 24, 16);
}

/* The outer destination of an encapsulated frame: the backend. */
static __u32 outer_dst4(const __u8 *out)
{
	__u32 a;

	memcpy(&a, out + 14 + 16, 4);
	return a;
}

static void test_icmp_follows_flow(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, XLB_FWD_IPIP);
	__u8 in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	__u32 flow_be[200], out_len, i, moved = 0;
	__be32 src[4], dst[4];
	size_t len, want_len;
	char addr[32];
	struct pkt_spec s;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(addr, sizeof(addr), "198.18.60.%u", 11 + i);
		add_backend(&k, addr, 0x11 + i);
	}
	/* 200 established flows (seen twice: in the main table), each on some backend */
	for (i = 0; i < 200; i++) {
		s = encap_client_tcp(4, 20000 + i, 10);
		len = pkt_build(&s, in);
		assert_verdict(run(in, len, out, &out_len), XDP_REDIRECT);
		assert_verdict(run(in, len, out, &out_len), XDP_REDIRECT);
		flow_be[i] = outer_dst4(out);
	}
	assert_int_equal(stat(XLB_STAT_CT_PROMOTED), 200);
	/* the error about each flow's reply reaches that flow's backend */
	for (i = 0; i < 200; i++) {
		len = build_icmp_error(4, 20000 + i, 576 - 28, in);
		assert_verdict(run(in, len, out, &out_len), XDP_REDIRECT);
		assert_int_equal(outer_dst4(out), flow_be[i]);
	}
	assert_int_equal(stat(XLB_STAT_ICMP_ROUTED), 200);
	/* the ICMP packet itself travels unchanged inside */
	parse16(SRC4, src);
	memset(dst, 0, sizeof(dst));
	dst[2] = htonl(0xffff);
	dst[3] = flow_be[199];
	s = encap_client_tcp(4, 20000 + 199, 10);
	want_len = encap_expect(in, 14, 0, src, dst, 0, out, want);
	fx_assert_bytes(out, out_len, want, want_len);

	/* more backends: Maglev would move some flows, the table keeps them */
	for (i = 4; i < 12; i++) {
		snprintf(addr, sizeof(addr), "198.18.60.%u", 11 + i);
		add_backend(&k, addr, 0x11 + i);
	}
	for (i = 0; i < 200; i++) {
		struct xlb_explain e;
		struct flow_key f = {};

		s = encap_client_tcp(4, 20000 + i, 10);
		addr_parse16(CLIENT4, f.saddr);
		addr_parse16(VIP4, f.daddr);
		f.sport = htons(20000 + i);
		f.dport = htons(80);
		f.proto = IPPROTO_TCP;
		assert_int_equal(xlb_explain(&F.dp, &f, 0x10, FIXTURE_LO, FIXTURE_START,
					     &FIXTURE_TIMEOUTS, &e), 0);
		moved += e.table_backend_id != e.backend_id;
		len = build_icmp_error(4, 20000 + i, 64, in);
		assert_verdict(run(in, len, out, &out_len), XDP_REDIRECT);
		assert_int_equal(outer_dst4(out), flow_be[i]);
	}
	assert_true(moved > 0);
	/* errors neither count as flow packets nor keep flows alive */
	assert_int_equal(stat(XLB_STAT_CT_HIT), 0);
	assert_int_equal(stat(XLB_STAT_CT_MISS), 200);
}

static void test_icmp6_untracked_uses_maglev(void **state)
{
	struct vip_key k = add_vip(VIP6, 80, XLB_FWD_IPIP);
	struct pkt_spec s;
	__u32 i;

	(void)state;
	add_backends6(&k, 5);
	/* bare SYNs are not tracked: the error must find the same backend by hash */
	for (i = 0; i < 100; i++) {
		s = encap_client_tcp(6, 30000 + i, 0);
		s.tcp_flags = 0x02;
		error_follows_flow6(&s, 0, 0);
	}
	assert_int_equal(stat(XLB_STAT_ICMP_ROUTED), 100);
}

/* A quoted IPv6 packet with extension headers, or a first fragment, is routed too. */
static void test_icmp6_quote_ext_headers(void **state)
{
	struct vip_key k = add_vip(VIP6, 80, XLB_FWD_IPIP);
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec s;
	size_t len;
	__u32 i;

	(void)state;
	add_backends6(&k, 5);
	for (i = 0; i < 30; i++) {
		s = encap_client_tcp(6, 31000 + i, 10);
		/* two destination-options headers; a first fragment: its ports are there */
		error_follows_flow6(&s, 2, 0);
		error_follows_flow6(&s, 0, 1);
	}
	assert_int_equal(stat(XLB_STAT_ICMP_ROUTED), 60);
	/* a later fragment has none: the host's, as other ICMP */
	len = build_icmp_error_ext(6, 31000, 1232, 0, 2, in);
	assert_verdict(run(in, len, out, NULL), XDP_PASS);
	assert_int_equal(stat(XLB_STAT_ICMP), 1);
	/* an extension header cut short by the quote */
	len = build_icmp_error_ext(6, 31000, 40 + 4, 1, 0, in);
	assert_verdict(run(in, len, out, NULL), XDP_DROP);
	assert_int_equal(stat(XLB_STAT_DROP_ICMP_TRUNC), 1);
}

/*
 * An IPv4 packet of protocol ICMPv6 (58) with a too-big type is not an
 * error about an IPv4 flow: passed as other ICMP, its quote never read
 * (as an IPv6 one, it could name any flow).
 */
static void test_icmp_family_mismatch(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, XLB_FWD_IPIP);
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len;

	(void)state;
	add_backend(&k, "198.18.60.11", 0x11);
	len = build_icmp_error(4, 20000, 64, in);
	in[14 + 9] = IPPROTO_ICMPV6;
	in[14 + 20] = 2; /* ICMPv6 packet too big */
	assert_verdict(run(in, len, out, NULL), XDP_PASS);
	assert_int_equal(stat(XLB_STAT_ICMP), 1);
	assert_int_equal(stat(XLB_STAT_ICMP_ROUTED), 0);
}

static void test_icmp_l2dsr_vip(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, XLB_FWD_L2DSR);
	__u8 in[PKT_MAX], out[PKT_MAX], mac[6];
	__u32 out_len, i;
	size_t len;
	struct pkt_spec s;

	(void)state;
	add_backend(&k, "198.18.0.11", 0x11);
	add_backend(&k, "198.18.0.12", 0x12);
	add_backend(&k, "198.18.0.13", 0x13);
	for (i = 0; i < 50; i++) {
		s = encap_client_tcp(4, 25000 + i, 10);
		len = pkt_build(&s, in);
		assert_verdict(run(in, len, out, NULL), XDP_TX);
		memcpy(mac, out, 6);
		len = build_icmp_error(4, 25000 + i, 100, in);
		assert_verdict(run(in, len, out, &out_len), XDP_TX);
		assert_memory_equal(out, mac, 6);
		/* only the MACs change */
		assert_int_equal(out_len, len);
		assert_memory_equal(out + 12, in + 12, len - 12);
	}
}

static void test_icmp_malformed_dropped(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, XLB_FWD_IPIP), k6;
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len, q;
	__u64 trunc = 0;

	(void)state;
	add_backend(&k, "198.18.60.11", 0x11);
	k6 = add_vip(VIP6, 80, XLB_FWD_IPIP);
	add_backend(&k6, "2001:db8:60::11", 0x11);
	/* every quote too short for the inner header and the ports */
	for (q = 0; q < 24; q++) {
		len = build_icmp_error(4, 20000, q, in);
		assert_verdict(run(in, len, out, NULL), XDP_DROP);
		assert_int_equal(stat(XLB_STAT_DROP_ICMP_TRUNC), ++trunc);
	}
	for (q = 0; q < 44; q++) {
		len = build_icmp_error(6, 20000, q, in);
		assert_verdict(run(in, len, out, NULL), XDP_DROP);
		assert_int_equal(stat(XLB_STAT_DROP_ICMP_TRUNC), ++trunc);
	}
	/* the quote reaches past the IP packet's own length */
	len = build_icmp_error(4, 20000, 64, in);
	pkt_put16(in + 14 + 2, 28 + 22);
	assert_verdict(run(in, len, out, NULL), XDP_DROP);
	assert_int_equal(stat(XLB_STAT_DROP_ICMP_TRUNC), ++trunc);
	/* a quoted header that is not IPv4 */
	len = build_icmp_error(4, 20000, 64, in);
	in[14 + 28] = 0x65;
	assert_verdict(run(in, len, out, NULL), XDP_DROP);
	assert_int_equal(stat(XLB_STAT_DROP_ICMP_INNER), 1);
	/* a quoted packet the VIP did not send */
	len = build_icmp_error(4, 20000, 64, in);
	in[14 + 28 + 15] ^= 1;
	assert_verdict(run(in, len, out, NULL), XDP_DROP);
	assert_int_equal(stat(XLB_STAT_DROP_ICMP_INNER), 2);
	/* other ICMP to the VIP address is the host's, as before */
	len = build_icmp_error(4, 20000, 64, in);
	in[14 + 20] = 8; /* echo request */
	assert_verdict(run(in, len, out, NULL), XDP_PASS);
	assert_int_equal(stat(XLB_STAT_ICMP), 1);
	assert_int_equal(stat(XLB_STAT_ICMP_ROUTED), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, encap_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_icmp_follows_flow),
		T(test_icmp6_untracked_uses_maglev),
		T(test_icmp6_quote_ext_headers),
		T(test_icmp_l2dsr_vip),
		T(test_icmp_family_mismatch),
		T(test_icmp_malformed_dropped),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests_name("icmp_route", tests, encap_group_setup, NULL);
}
