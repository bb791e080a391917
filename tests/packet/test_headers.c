// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet tests of header parsing, on the real XDP object: what is not a
 * VIP's passes untouched, truncated and malformed headers are dropped and
 * counted, and the header variants (IPv4 options, IPv6 extension headers,
 * VLAN tags, fragments) are forwarded as the plain packet would be.
 *
 * Runs inside a network namespace made by tests/run.sh.
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

/* ---- what is not ours ---- */

static void test_non_vip_untouched(void **state)
{
	struct pkt_spec s = tcp4(40000, 0x10), s6 = tcp6(40000, 0x10);

	(void)state;
	vip4_with_3();
	s.daddr = "198.18.100.11";
	expect_untouched(&s, XDP_PASS);
	s6.daddr = "2001:db8:100::11";
	expect_untouched(&s6, XDP_PASS);
	assert_int_equal(stat(XLB_STAT_PASS_NON_VIP), 2);
}

/*
 * An address that shares a VIP's bit in the fast filter is still not a
 * VIP: whatever it receives, valid or not, passes untouched.
 */
static void test_filter_collision_not_vip(void **state)
{
	struct vip_key k = add_vip(VIP6, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp6(40000, 0x10);
	__u32 want = xlb_addr_bit(k.addr), i;
	__be32 a[4];
	char str[INET6_ADDRSTRLEN];
	__u8 p[PKT_MAX], out[PKT_MAX];
	size_t len;

	(void)state;
	add_backend(&k, "2001:db8::11", 0x11);
	addr_parse16("2001:db8:200::", a);
	for (i = 1; i < 50000000; i++) {
		a[3] = htonl(i);
		if (xlb_addr_bit(a) == want)
			break;
	}
	assert_int_equal(xlb_addr_bit(a), want);
	inet_ntop(AF_INET6, a, str, sizeof(str));
	s.daddr = str;
	expect_untouched(&s, XDP_PASS);
	s.tcp_flags = 0x02;
	expect_untouched(&s, XDP_PASS);
	s.proto = IPPROTO_ICMPV6;
	expect_untouched(&s, XDP_PASS);
	s.proto = IPPROTO_TCP;
	s.frag = 2;
	expect_untouched(&s, XDP_PASS);
	s.frag = 0;
	len = pkt_build(&s, p);
	assert_int_equal(run(p, len - 5, out, NULL), XDP_PASS);
	assert_int_equal(stat(XLB_STAT_PASS_NON_VIP), 5);
	assert_int_equal(stat(XLB_STAT_ICMP), 0);
	assert_int_equal(stat(XLB_STAT_DROP_L3_TRUNC), 0);
	/* the VIP itself still works */
	s = tcp6(40000, 0x10);
	assert_int_equal(expect_tx(&s), 0x11);
}

static void test_vip_other_port_or_proto_untouched(void **state)
{
	struct pkt_spec s = tcp4(40000, 0x10);

	(void)state;
	vip4_with_3();
	s.dport = 81;
	expect_untouched(&s, XDP_PASS);
	s.dport = 80;
	s.proto = IPPROTO_UDP;
	expect_untouched(&s, XDP_PASS);
	s.proto = 47; /* GRE */
	expect_untouched(&s, XDP_PASS);
	assert_int_equal(stat(XLB_STAT_PASS_VIP_NO_PORT), 3);
	assert_int_equal(stat(XLB_STAT_CT_MISS), 0);
}

static void test_non_ip_and_icmp_pass(void **state)
{
	struct pkt_spec s = tcp4(0, 0);

	(void)state;
	vip4_with_3();
	s.proto = IPPROTO_ICMP;
	expect_untouched(&s, XDP_PASS);
	s.family = 6;
	s.saddr = CLIENT6;
	s.daddr = VIP6;
	add_vip(VIP6, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	s.proto = IPPROTO_ICMPV6;
	expect_untouched(&s, XDP_PASS);
	assert_int_equal(stat(XLB_STAT_ICMP), 2);
	s.ether_type = ETH_P_ARP;
	expect_untouched(&s, XDP_PASS);
	assert_int_equal(stat(XLB_STAT_PASS_NON_IP), 1);
}

/*
 * Every truncation of a valid VIP packet: never forwarded. Cut before the
 * destination address is complete, it cannot be recognised and passes;
 * after, its IP length exceeds the packet and it is dropped.
 */
static void truncations(const struct pkt_spec *s, size_t daddr_end)
{
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(s, in), cut;
	__u64 passed = 0, dropped = 0;
	int ret;

	for (cut = 1; cut < len; cut++) {
		ret = run(in, cut, out, NULL);
		if (cut < ETH_HLEN) {
			/* the kernel refuses frames shorter than Ethernet */
			assert_int_equal(ret, -EINVAL);
		} else if (cut < daddr_end) {
			assert_int_equal(ret, XDP_PASS);
			passed++;
		} else {
			assert_int_equal(ret, XDP_DROP);
			dropped++;
		}
	}
	assert_int_equal(stat(XLB_STAT_PASS_SHORT), passed);
	assert_int_equal(stat(XLB_STAT_DROP_L3_TRUNC), dropped);
	assert_int_equal(stat(XLB_STAT_TX), 0);
	/* and the whole packet still goes through */
	expect_tx(s);
}

static void test_truncated_tcp4(void **state)
{
	struct pkt_spec s = tcp4(40000, 0x10);

	(void)state;
	vip4_with_3();
	truncations(&s, ETH_HLEN + 20);
}

static void test_truncated_tcp6(void **state)
{
	struct vip_key k = add_vip(VIP6, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp6(40000, 0x10);

	(void)state;
	add_backend(&k, "2001:db8::11", 0x11);
	truncations(&s, ETH_HLEN + 40);
}

static void test_malformed_ipv4(void **state)
{
	struct pkt_spec s = tcp4(40000, 0x10);
	__u8 p[PKT_MAX];
	size_t len, l3 = ETH_HLEN, l4 = ETH_HLEN + 20;

	(void)state;
	vip4_with_3();
	len = pkt_build(&s, p);
	p[l3] = 0x44; /* IHL 4 */
	expect_drop(p, len, XLB_STAT_DROP_BAD_IHL);
	len = pkt_build(&s, p);
	p[l3] = 0x65; /* version 6 in an IPv4 frame */
	expect_drop(p, len, XLB_STAT_DROP_BAD_VERSION);
	len = pkt_build(&s, p);
	p[l3 + 2] = 0;
	p[l3 + 3] = 19; /* total length < header */
	expect_drop(p, len, XLB_STAT_DROP_BAD_LEN);
	len = pkt_build(&s, p);
	p[l3] = 0x4f; /* IHL 15: options run past the IP length */
	expect_drop(p, len, XLB_STAT_DROP_BAD_LEN);
	len = pkt_build(&s, p);
	p[l3 + 2] = 0;
	p[l3 + 3] = 30; /* IP says 10 bytes of TCP */
	expect_drop(p, len, XLB_STAT_DROP_L4_TRUNC);
	len = pkt_build(&s, p);
	p[l4 + 12] = 0x40; /* data offset 4 */
	expect_drop(p, len, XLB_STAT_DROP_BAD_TCP_DOFF);
	len = pkt_build(&s, p);
	p[l4 + 12] = 0xf0; /* data offset 15 = 60 bytes > 30 left */
	expect_drop(p, len, XLB_STAT_DROP_BAD_TCP_DOFF);
	assert_int_equal(stat(XLB_STAT_TX), 0);
}

static void test_malformed_udp(void **state)
{
	struct vip_key k = add_vip(VIP4, 53, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp4(5353, 0);
	__u8 p[PKT_MAX];
	size_t len, l4 = ETH_HLEN + 20;

	(void)state;
	add_backend(&k, "198.18.0.11", 0x11);
	s.proto = IPPROTO_UDP;
	s.dport = 53;
	len = pkt_build(&s, p);
	p[l4 + 4] = 0;
	p[l4 + 5] = 7;
	expect_drop(p, len, XLB_STAT_DROP_BAD_UDP_LEN);
	len = pkt_build(&s, p);
	p[l4 + 5] = 200;
	expect_drop(p, len, XLB_STAT_DROP_BAD_UDP_LEN);
}

/* ---- header variants ---- */

static void test_ipv4_options(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec s = tcp4(40000, 0x10);
	int words;

	(void)state;
	for (words = 1; words <= 10; words++) {
		s.ip_opt_words = words;
		assert_int_equal(expect_tx(&s), mac_of_id(&k, table_pick(&k, &s, 0)));
	}
}

static void test_ipv6_ext_headers(void **state)
{
	struct vip_key k = add_vip(VIP6, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp6(40000, 0x10);
	__u8 p[PKT_MAX];
	size_t len;
	int n;

	(void)state;
	add_backend(&k, "2001:db8::11", 0x11);
	add_backend(&k, "2001:db8::12", 0x12);
	for (n = 1; n <= XLB_MAX_EXT_HDRS; n++) {
		s.ext_hdrs = n;
		assert_int_equal(expect_tx(&s), mac_of_id(&k, table_pick(&k, &s, 0)));
	}
	s.ext_hdrs = XLB_MAX_EXT_HDRS + 1;
	len = pkt_build(&s, p);
	expect_drop(p, len, XLB_STAT_DROP_EXT_LIMIT);
	/* an extension header that claims more than the packet holds */
	s.ext_hdrs = 2;
	len = pkt_build(&s, p);
	p[ETH_HLEN + 40 + 8 + 1] = 200;
	expect_drop(p, len, XLB_STAT_DROP_EXT_TRUNC);
	assert_int_equal(stat(XLB_STAT_TX), XLB_MAX_EXT_HDRS);
}

static void test_vlan_tags(void **state)
{
	struct vip_key k = vip4_with_3();
	struct pkt_spec s = tcp4(40000, 0x10);
	__u8 want = mac_of_id(&k, table_pick(&k, &s, 0));

	(void)state;
	s.nvlan = 1;
	assert_int_equal(expect_tx(&s), want);
	s.nvlan = 2;
	s.vlan_tpid[0] = 0x88a8; /* 802.1ad outer, 802.1Q inner */
	assert_int_equal(expect_tx(&s), want);
	s.nvlan = 3; /* deeper than we parse: not IP to us */
	expect_untouched(&s, XDP_PASS);
	assert_int_equal(stat(XLB_STAT_PASS_NON_IP), 1);
}

/*
 * Fragments: the VIP named for the address's fragments takes them, hashed
 * on addresses and protocol only, so first and later fragments of one
 * datagram reach one backend; no connection-table entry is made.
 */
static void test_fragments(void **state)
{
	struct vip_key k = add_vip(VIP4, 53, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	struct pkt_spec s = tcp4(5353, 0), s6;
	__u8 first, later, p[PKT_MAX];
	__u32 i;
	size_t len;

	(void)state;
	for (i = 0; i < 8; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "198.18.0.%u", 11 + i);
		add_backend(&k, addr, 0x11 + i);
	}
	s.proto = IPPROTO_UDP;
	s.dport = 53;
	s.frag = 1;
	first = expect_tx(&s);
	s.frag = 2;
	later = expect_tx(&s);
	assert_int_equal(first, later);
	s.sport = 0;
	s.dport = 0;
	assert_int_equal(first, mac_of_id(&k, table_pick(&k, &s, 0)));
	assert_int_equal(stat(XLB_STAT_FRAGMENT), 2);
	assert_int_equal(stat(XLB_STAT_CT_MISS), 0);

	/* IPv6 fragment header, first and later */
	k = add_vip(VIP6, 53, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	add_backend(&k, "2001:db8::11", 0x31);
	add_backend(&k, "2001:db8::12", 0x32);
	s6 = tcp6(5353, 0);
	s6.proto = IPPROTO_UDP;
	s6.dport = 53;
	s6.frag = 1;
	first = expect_tx(&s6);
	s6.frag = 2;
	assert_int_equal(expect_tx(&s6), first);

	/* two ports on one address and no port-0 VIP: no VIP owns fragments */
	add_vip(VIP4, 54, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	len = pkt_build(&s, p);
	expect_drop(p, len, XLB_STAT_DROP_FRAG_NO_VIP);
	/* a port-0 VIP takes them */
	k = add_vip(VIP4, 0, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	add_backend(&k, "198.18.0.99", 0x99);
	assert_int_equal(expect_tx(&s), 0x99);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_non_vip_untouched),
		T(test_filter_collision_not_vip),
		T(test_vip_other_port_or_proto_untouched),
		T(test_non_ip_and_icmp_pass),
		T(test_truncated_tcp4),
		T(test_truncated_tcp6),
		T(test_malformed_ipv4),
		T(test_malformed_udp),
		T(test_ipv4_options),
		T(test_ipv6_ext_headers),
		T(test_vlan_tags),
		T(test_fragments),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
