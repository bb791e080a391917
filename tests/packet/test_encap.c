// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet tests of L3 DSR: forward ipip (IPIP, IP6IP6, 4in6) and the ICMP
 * too-big answer. The real XDP object and the kernel's own FIB, in the
 * network encap_net.c makes. Expected packets are built field by field,
 * and checksums are verified with the test's own RFC 1071 sum. The
 * routing of ICMP errors to a flow's backend is test_icmp_route.c.
 *
 * The packets one VIP and one backend make are a table (cases[]): one
 * cmocka test per row; what needs more than one VIP, a change between
 * packets or a clock is a test of its own.
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
#include "../../user/lib/syntax.h"
#include "../../bpf/hash.h"
#include "encap_assert.h"

/* the packet a row was at, when it failed */
static char current[128];

static int teardown(void **state)
{
	if (current[0])
		print_message("# failed at: %s\n", current);
	current[0] = 0;
	return fx_teardown(state);
}

static __u32 flow_hash(const struct pkt_spec *s)
{
	__be32 sa[4], da[4];

	addr_parse16(s->saddr, sa);
	addr_parse16(s->daddr, da);
	return xlb_hash_entropy(sa, da, htons(s->sport), htons(s->dport), s->proto);
}

/* ---- too big ---- */

/* What the LB must answer: MACs swapped, IP/ICMP from the VIP, the quote. */
static size_t expect_too_big(const __u8 *in, size_t l2, int six, __u32 mtu, __u8 *out)
{
	const __u8 *l3 = in + l2;
	size_t l3_len = six ? 40 + ((l3[4] << 8) | l3[5]) : (l3[2] << 8) | l3[3];
	size_t quote = l3_len < (six ? 1232u : 548u) ? l3_len : (six ? 1232u : 548u);
	size_t hdr = six ? 48 : 28;
	__u8 *ip = out + l2, *icmp = ip + hdr - 8;
	__u32 sum;

	quote &= ~(size_t)3;
	memcpy(out, in, l2);
	memcpy(out, in + 6, 6);
	memcpy(out + 6, in, 6);
	memset(ip, 0, hdr);
	memcpy(ip + hdr, l3, quote);
	if (six) {
		ip[0] = 0x60;
		pkt_put16(ip + 4, 8 + quote);
		ip[6] = 58;
		ip[7] = 64;
		memcpy(ip + 8, l3 + 24, 16);  /* from the VIP */
		memcpy(ip + 24, l3 + 8, 16);  /* to the client */
		icmp[0] = 2;
		pkt_put32(icmp + 4, mtu);
		sum = sum16(0, ip + 8, 32);   /* pseudo-header */
		sum += 8 + quote + 58;
	} else {
		ip[0] = 0x45;
		ip[1] = 0xc0;
		pkt_put16(ip + 2, 28 + quote);
		ip[8] = 64;
		ip[9] = 1;
		memcpy(ip + 12, l3 + 16, 4);
		memcpy(ip + 16, l3 + 12, 4);
		pkt_put16(ip + 10, fold(sum16(0, ip, 20)));
		icmp[0] = 3;
		icmp[1] = 4;
		pkt_put16(icmp + 6, mtu);
		sum = 0;
	}
	pkt_put16(icmp + 2, fold(sum16(sum, icmp, 8 + quote)));
	return l2 + hdr + quote;
}


/* ---- the cases: one VIP, one backend, packets from the client ---- */

enum want {
	ENCAP,        /* the encapsulated packet, to the gateway */
	ENCAP_PASSED, /* encapsulated, passed to the kernel to resolve the gateway: MACs as they came */
	TOO_BIG,      /* the ICMP too-big answer, back to the client */
	NOTHING,      /* dropped */
};

#define NO_SOURCE "" /* for src4, src6: none for that family */

struct encap_case {
	const char *name;
	/* the client's packets: TCP ACKs to the VIP of its family, DF set */
	int family;
	int payload;
	int nvlan;
	int no_df;
	const char *saddr;  /* NULL: the client */
	int group_mac;      /* sent to ff:ff:ff:ff:ff:ff */
	__u16 sport;        /* 0: 40000 */
	int flows;          /* each from the next port; 0: one */
	/* the VIP forwards ipip to its one backend, encapsulating from */
	const char *backend;
	const char *src4, *src6; /* NULL: SRC4, SRC6; a prefix: the flow hash fills the host bits */
	/* what must come out, for each packet */
	int verdict;
	enum want want;
	__u32 mtu;                            /* TOO_BIG: the MTU it tells */
	struct fx_delta delta[FX_DELTAS_MAX]; /* the counters that move; no other does */
	__u64 vip_packets;                    /* the VIP's traffic grows by */
	/* over all the flows: at least this many outer sources */
	int distinct_sources;
};

#define FORWARDED .verdict = XDP_REDIRECT, .want = ENCAP, .vip_packets = 1,                 \
		  .delta = { { XLB_STAT_CT_MISS, 1 }, { XLB_STAT_REDIRECT, 1 } }
#define ANSWERED(m) .verdict = XDP_TX, .want = TOO_BIG, .mtu = m,                          \
		    .delta = { { XLB_STAT_CT_MISS, 1 }, { XLB_STAT_ICMP_TOO_BIG, 1 } }
#define DROPPED(why) .verdict = XDP_DROP, .want = NOTHING,                                 \
		     .delta = { { XLB_STAT_CT_MISS, 1 }, { why, 1 } }

static const struct encap_case cases[] = {
	{ "ipip4_fixed_source", .family = 4, .payload = 100, .backend = "198.18.60.11",
	  FORWARDED },
	/* DF clear inside: clear outside too, and the outer id is its own */
	{ "ipip4_fixed_source_no_df", .family = 4, .payload = 100, .no_df = 1,
	  .backend = "198.18.60.11", FORWARDED },
	/* the sources spread: RSS and ECMP on the way get entropy */
	{ "ip6ip6_hashed_source", .family = 6, .payload = 100, .flows = 64,
	  .backend = "2001:db8:60::11", .src6 = "2001:db8:70::/112", FORWARDED,
	  .distinct_sources = 60 },
	{ "ipip4_hashed_source", .family = 4, .payload = 20, .sport = 41000,
	  .backend = "198.18.60.11", .src4 = "198.18.70.0/24", FORWARDED },
	/* tags go (the FIB's egress is untagged); the ethertype names IPv6 */
	{ "4in6", .family = 4, .payload = 64, .sport = 42000, .backend = "2001:db8:60::12",
	  FORWARDED },
	{ "4in6_one_tag", .family = 4, .payload = 64, .sport = 42000, .nvlan = 1,
	  .backend = "2001:db8:60::12", FORWARDED },
	{ "4in6_two_tags", .family = 4, .payload = 64, .sport = 42000, .nvlan = 2,
	  .backend = "2001:db8:60::12", FORWARDED },
	/* passed to the kernel, which resolves the gateway */
	{ "no_neigh_passes_encapsulated", .family = 4, .payload = 30, .backend = "198.18.62.11",
	  .verdict = XDP_PASS, .want = ENCAP_PASSED, .vip_packets = 1,
	  .delta = { { XLB_STAT_CT_MISS, 1 }, { XLB_STAT_PASS_NO_NEIGH, 1 } } },
	{ "no_route_dropped", .family = 4, .payload = 30, .backend = "198.18.99.11",
	  DROPPED(XLB_STAT_DROP_NO_ROUTE) },
	{ "no_source_dropped", .family = 6, .payload = 30, .backend = "2001:db8:60::11",
	  .src6 = NO_SOURCE, DROPPED(XLB_STAT_DROP_NO_ENCAP_SRC) },
	/* answered, not sent: the VIP's traffic does not grow */
	{ "too_big_ipv4", .family = 4, .payload = 1360, .backend = "198.18.61.11",
	  ANSWERED(1380) }, /* 1400 bytes of IP + 20 of IPIP > the route's MTU of 1400 */
	{ "too_big_ipv4_vlan", .family = 4, .payload = 1360, .nvlan = 2,
	  .backend = "198.18.61.11", ANSWERED(1380) },
	{ "too_big_ipv6", .family = 6, .payload = 1340, .backend = "2001:db8:61::11",
	  ANSWERED(1360) },
	{ "too_big_4in6", .family = 4, .payload = 1360, .nvlan = 1,
	  .backend = "2001:db8:61::11", ANSWERED(1360) },
	/* the largest packet that fits after encapsulation is sent */
	{ "too_big_largest_sent", .family = 4, .payload = 1340, .backend = "198.18.61.11",
	  FORWARDED },
	/* IPv4 without DF may not be answered, and XDP cannot fragment */
	{ "too_big_no_df_dropped", .family = 4, .payload = 1341, .no_df = 1,
	  .backend = "198.18.61.11", DROPPED(XLB_STAT_DROP_TOO_BIG) },
	/* a group MAC, or a source that cannot be answered */
	{ "too_big_group_mac_dropped", .family = 4, .payload = 1360, .group_mac = 1,
	  .backend = "198.18.61.11", DROPPED(XLB_STAT_DROP_TOO_BIG) },
	{ "too_big_multicast_source_dropped", .family = 4, .payload = 1360, .saddr = "224.0.0.1",
	  .backend = "198.18.61.11", DROPPED(XLB_STAT_DROP_TOO_BIG) },
	{ "too_big_loopback_source_dropped", .family = 4, .payload = 1360, .saddr = "127.0.0.1",
	  .backend = "198.18.61.11", DROPPED(XLB_STAT_DROP_TOO_BIG) },
	/* IPv6 over a way of 1300: 1300 - 40 is below what IPv6 may ask for */
	{ "too_big_ipv6_below_minimum_dropped", .family = 6, .payload = 1240,
	  .backend = "2001:db8:63::11", DROPPED(XLB_STAT_DROP_TOO_BIG) },
	{ "too_big_ipv6_multicast_source_dropped", .family = 6, .payload = 1400,
	  .saddr = "ff02::1", .backend = "2001:db8:63::11", DROPPED(XLB_STAT_DROP_TOO_BIG) },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* The outer source for a flow: the configured one, or its prefix filled from the hash. */
static void outer_source(const char *config, int six, __u32 hash, __be32 src[4])
{
	const char *slash = strchr(config, '/');
	char addr[INET6_ADDRSTRLEN];
	int host_bits;

	snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - config) : (int)strlen(config),
		 config);
	parse16(addr, src);
	if (!slash)
		return;
	host_bits = (six ? 128 : 32) - atoi(slash + 1);
	assert_true(host_bits > 0 && host_bits < 32);
	src[3] = htonl(ntohl(src[3]) | (hash & ((1u << host_bits) - 1)));
}

/* One packet of row c; the low 16 bits of its outer source. */
static __u16 send_one(const struct encap_case *c, __u16 sport)
{
	struct pkt_spec s = encap_client_tcp(c->family, sport, c->payload);
	__u64 before[XLB_STAT_MAX], after[XLB_STAT_MAX];
	__u8 in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	size_t len, want_len, l2 = 14 + 4 * c->nvlan;
	int six = !!strchr(c->backend, ':');
	__be32 src[4] = {}, dst[4];
	__u32 out_len = 0, hash;

	snprintf(current, sizeof(current), "%s: client port %u", c->name, sport);
	s.nvlan = c->nvlan;
	s.df = !c->no_df;
	s.saddr = c->saddr ?: s.saddr;
	if (c->group_mac)
		memset(s.dmac, 0xff, 6);
	len = pkt_build(&s, in);
	hash = flow_hash(&s);
	fx_counters(&F, before);
	assert_verdict(run(in, len, out, &out_len), c->verdict);
	fx_counters(&F, after);
	fx_assert_deltas(before, after, XLB_STAT_MAX, xlb_stat_names, c->delta);
	if (c->want == ENCAP || c->want == ENCAP_PASSED) {
		outer_source(six ? c->src6 ?: SRC6 : c->src4 ?: SRC4, six, hash, src);
		parse16(c->backend, dst);
		want_len = encap_expect(in, l2, six, src, dst, hash, out, want);
		if (c->want == ENCAP_PASSED)
			memcpy(want, in, 12);
		fx_assert_bytes(out, out_len, want, want_len);
		assert_int_equal((out[12] << 8) | out[13], six ? ETH_P_IPV6 : ETH_P_IP);
		if (!six) {
			/* the outer checksum holds by an independent sum */
			assert_int_equal(fold(sum16(0, out + 14, 20)), 0);
			assert_int_equal(out[14 + 6] & 0x40, c->no_df ? 0 : 0x40);
		}
	} else if (c->want == TOO_BIG) {
		want_len = expect_too_big(in, l2, c->family == 6, c->mtu, want);
		fx_assert_bytes(out, out_len, want, want_len);
	}
	return ntohl(src[3]) & 0xffff;
}

static void test_case(void **state)
{
	const struct encap_case *c = *state;
	int i, j, flows = c->flows ?: 1, distinct = 0;
	struct vip_key k;
	__u16 seen[64];

	assert_true(flows <= 64);
	if (c->src4 || c->src6)
		fx_encap_set(&F, c->src4 ? (*c->src4 ? c->src4 : NULL) : SRC4,
			     c->src6 ? (*c->src6 ? c->src6 : NULL) : SRC6);
	k = add_vip(c->family == 4 ? VIP4 : VIP6, 80, XLB_FWD_IPIP);
	add_backend(&k, c->backend, 0x11);
	for (i = 0; i < flows; i++)
		seen[i] = send_one(c, (c->sport ?: 40000) + i);
	snprintf(current, sizeof(current), "%s: the row's totals", c->name);
	assert_int_equal(fx_vip_traffic(&F, &k).packets, flows * c->vip_packets);
	for (i = 0; i < flows; i++) {
		for (j = 0; j < i && seen[j] != seen[i]; j++)
			;
		distinct += j == i;
	}
	assert_true(distinct >= c->distinct_sources);
	current[0] = 0;
}

/* ---- more than one packet, VIP or moment ---- */

/* DF clear: the outer id is not the inner one, it is its own per packet */
static void test_ipip4_outer_id_per_packet(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, XLB_FWD_IPIP);
	struct pkt_spec s = encap_client_tcp(4, 40000, 100);
	__u8 in[PKT_MAX], out[PKT_MAX], first[2];
	size_t len;
	int i, differ = 0;

	(void)state;
	add_backend(&k, "198.18.60.11", 0x11);
	s.df = 0;
	len = pkt_build(&s, in);
	assert_verdict(run(in, len, out, NULL), XDP_REDIRECT);
	memcpy(first, out + 18, 2);
	for (i = 0; i < 8; i++) {
		assert_verdict(run(in, len, out, NULL), XDP_REDIRECT);
		differ |= out[18] != first[0] || out[19] != first[1];
	}
	assert_true(differ);
}

static void test_ipv6_vip_to_ipv4_backend_refused(void **state)
{
	struct vip_key k = add_vip(VIP6, 80, XLB_FWD_IPIP);
	char err[128];
	__be32 a[4];

	(void)state;
	parse16("198.18.60.11", a);
	assert_int_not_equal(xlb_check_backend_family(XLB_FWD_IPIP, k.addr, a, err, sizeof(err)), 0);
	assert_string_equal(err, "IPv4 backend for an IPv6 VIP");
	parse16(VIP4, k.addr);
	parse16("2001:db8:60::1", a);
	assert_int_equal(xlb_check_backend_family(XLB_FWD_IPIP, k.addr, a, err, sizeof(err)), 0);
	assert_int_not_equal(xlb_check_backend_family(XLB_FWD_L2DSR, k.addr, a, err, sizeof(err)), 0);
}

static void test_l2dsr_to_ipip_switch_moves_flows(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, XLB_FWD_L2DSR);
	struct pkt_spec s = encap_client_tcp(4, 40000, 30);
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(&s, in);
	__u32 out_len;

	(void)state;
	add_backend(&k, "198.18.60.11", 0x11);
	assert_verdict(run(in, len, out, &out_len), XDP_TX);
	assert_verdict(run(in, len, out, &out_len), XDP_TX);
	assert_int_equal(out_len, len);
	/* the flow is in the main table; its next packet follows the new mode */
	assert_int_equal(xlb_lb_vip_update(F.lb, &k, XLB_SCHED_MAGLEV, XLB_FWD_IPIP), 0);
	assert_verdict(run(in, len, out, &out_len), XDP_REDIRECT);
	assert_int_equal(out_len, len + 20);
	assert_int_equal(stat(XLB_STAT_CT_HIT), 1);
}

static void test_nexthop_change_seen_after_ttl(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, XLB_FWD_IPIP);
	struct pkt_spec s = encap_client_tcp(4, 40000, 30);
	__u8 in[PKT_MAX], out[PKT_MAX], mac[6];
	size_t len = pkt_build(&s, in);

	(void)state;
	add_backend(&k, "198.18.60.11", 0x11);
	assert_verdict(run(in, len, out, NULL), XDP_REDIRECT);
	mac_set(mac, GW_MAC);
	assert_memory_equal(out, mac, 6);
	assert_int_equal(system("ip neigh replace 198.18.50.2 lladdr 02:00:5e:10:00:b1 dev "
				EGRESS " nud permanent"), 0);
	/* the FIB's answer is kept for 100 ms of the data plane's clock */
	*fixture_clock(&F) += 99 * 1000000ULL;
	assert_verdict(run(in, len, out, NULL), XDP_REDIRECT);
	assert_memory_equal(out, mac, 6);
	*fixture_clock(&F) += 2 * 1000000ULL;
	assert_verdict(run(in, len, out, NULL), XDP_REDIRECT);
	mac_set(mac, GW_MAC + 1);
	assert_memory_equal(out, mac, 6);
	assert_int_equal(system("ip neigh replace 198.18.50.2 lladdr 02:00:5e:10:00:b0 dev "
				EGRESS " nud permanent"), 0);
}

static void test_too_big_rate_limited(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, XLB_FWD_IPIP);
	struct pkt_spec s = encap_client_tcp(4, 40000, 1360);
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(&s, in);
	int i, answered = 0;

	(void)state;
	add_backend(&k, "198.18.61.11", 0x11);
	/* a burst of 50, then 1000 a second */
	for (i = 0; i < 60; i++)
		answered += run(in, len, out, NULL) == XDP_TX;
	assert_int_equal(answered, 50);
	assert_int_equal(stat(XLB_STAT_DROP_ICMP_RATELIMIT), 10);
	*fixture_clock(&F) += 3 * 1000000ULL;
	for (i = 0; i < 10; i++)
		answered += run(in, len, out, NULL) == XDP_TX;
	assert_int_equal(answered, 53);
	assert_int_equal(stat(XLB_STAT_ICMP_TOO_BIG), 53);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, encap_setup, teardown)

int main(void)
{
	struct CMUnitTest tests[NCASES + 5];
	const struct CMUnitTest more[] = {
		T(test_ipip4_outer_id_per_packet),
		T(test_ipv6_vip_to_ipv4_backend_refused),
		T(test_l2dsr_to_ipip_switch_moves_flows),
		T(test_nexthop_change_seen_after_ttl),
		T(test_too_big_rate_limited),
	};
	size_t i, n = sizeof(more) / sizeof(more[0]);

	for (i = 0; i < NCASES; i++)
		tests[i] = (struct CMUnitTest){ cases[i].name, test_case, encap_setup, teardown,
						(void *)&cases[i] };
	for (i = 0; i < n; i++)
		tests[NCASES + i] = more[i];
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return _cmocka_run_group_tests("encap", tests, NCASES + n, encap_group_setup, NULL);
}
