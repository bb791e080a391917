// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet tests of L3 DSR: forward ipip (IPIP, IP6IP6, 4in6), the ICMP
 * too-big answer, and the routing of too-big errors to a flow's backend.
 * The real XDP object and the kernel's own FIB: the test namespace gets
 * routes (one with a small MTU), permanent neighbours and one gateway with
 * no neighbour, so every bpf_fib_lookup outcome used is a real one.
 * Expected packets are built here, field by field, and checksums are
 * verified with the test's own RFC 1071 sum.
 *
 * The packets one VIP and one backend make are a table (cases[]): one
 * cmocka test per row; what needs more than one VIP, a change between
 * packets or a clock is a test of its own.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/libbpf.h>
#include "../../user/lib/syntax.h"
#include "../../user/lib/explain.h"
#include "../../bpf/hash.h"
#include "fixture_assert.h"
#include "xlb_check.h"

#define VIP4 "198.18.100.10"
#define VIP6 "2001:db8:100::10"
#define CLIENT4 "198.18.0.1"
#define CLIENT6 "2001:db8::1"
#define ROUTER4 "198.18.0.254"
#define ROUTER6 "2001:db8::254"
#define SRC4 "198.18.50.1"
#define SRC6 "2001:db8:50::1"
#define EGRESS "xlbt-pkt0"
#define EGRESS_MAC 0xa0  /* 02:00:5e:10:00:a0 */
#define GW_MAC 0xb0      /* the permanent neighbour */
#define CLIENT_MAC_LAST 0x01
#define NS FIXTURE_NS
#define GW_NEIGH "ip neigh replace 198.18.50.2 lladdr 02:00:5e:10:00:b0 dev " EGRESS " nud permanent"


static const char *const net_setup[] = {
	"sysctl -qw net.ipv4.conf.all.forwarding=1",
	"sysctl -qw net.ipv6.conf.all.forwarding=1",
	"ip link set dev " EGRESS " address 02:00:5e:10:00:a0",
	"ip addr replace 198.18.50.1/24 dev " EGRESS,
	"ip -6 addr replace 2001:db8:50::1/64 dev " EGRESS " nodad",
	"ip neigh replace 198.18.50.2 lladdr 02:00:5e:10:00:b0 dev " EGRESS " nud permanent",
	"ip -6 neigh replace 2001:db8:50::2 lladdr 02:00:5e:10:00:b0 dev " EGRESS " nud permanent",
	"ip route replace 198.18.60.0/24 via 198.18.50.2",
	"ip route replace 198.18.61.0/24 via 198.18.50.2 mtu lock 1400",
	"ip route replace 198.18.62.0/24 via 198.18.50.3",
	"ip -6 route replace 2001:db8:60::/64 via 2001:db8:50::2",
	"ip -6 route replace 2001:db8:61::/64 via 2001:db8:50::2 mtu lock 1400",
	"ip -6 route replace 2001:db8:62::/64 via 2001:db8:50::3",
	"ip -6 route replace 2001:db8:63::/64 via 2001:db8:50::2 mtu lock 1300",
};

static int group_setup(void **state)
{
	cpu_set_t one;
	size_t i;

	(void)state;
	/* the next-hop cache and the ICMP bucket are per CPU: stay on one */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -1;
	for (i = 0; i < sizeof(net_setup) / sizeof(net_setup[0]); i++)
		if (system(net_setup[i])) {
			fprintf(stderr, "failed: %s\n", net_setup[i]);
			return -1;
		}
	return 0;
}

static int setup(void **state)
{
	int egress = if_nametoindex(EGRESS);

	if (fx_setup(state))
		return -1;
	/* a test that changed the gateway's MAC and failed must not fail the next */
	if (system(GW_NEIGH))
		return -1;
	if (egress <= 0 || xlb_dp_tx_port_add(&F.dp, egress) || fixture_encap_set(&F, SRC4, SRC6))
		return -1;
	return 0;
}

/* the packet a row was at, when it failed */
static char current[128];

static int teardown(void **state)
{
	if (current[0])
		print_message("# failed at: %s\n", current);
	current[0] = 0;
	return fx_teardown(state);
}

/* ---- helpers ---- */

static int run(const __u8 *in, size_t len, __u8 *out, __u32 *out_len)
{
	return fixture_run(&F, in, len, out, out_len);
}

static __u64 stat(enum xlb_stat reason)
{
	return xlb_check_stat(&F.dp, reason);
}

static void assert_verdict(int got, int want)
{
	xlb_check_verdict(&F.dp, got, want);
}

static struct vip_key add_vip(const char *addr, __u16 port, __u8 forward)
{
	return fx_vip(&F, addr, port, IPPROTO_TCP, XLB_SCHED_MAGLEV, forward);
}

static void add_backend(const struct vip_key *k, const char *addr, __u8 mac_last)
{
	fx_backend(&F, k, addr, mac_last, FIXTURE_LO);
}

static struct pkt_spec tcp_spec(int family, __u16 sport, int payload)
{
	struct pkt_spec s = {
		.family = family, .proto = IPPROTO_TCP,
		.saddr = family == 4 ? CLIENT4 : CLIENT6,
		.daddr = family == 4 ? VIP4 : VIP6,
		.sport = sport, .dport = 80, .tcp_flags = 0x10, .payload = payload,
		.df = 1, .tos = 0x28,
	};

	mac_set(s.smac, CLIENT_MAC_LAST);
	mac_set(s.dmac, FIXTURE_LB_MAC);
	return s;
}

/* Checksums by the test's own RFC 1071 sum (pkt.c), not by the code under test. */
static __u32 sum16(__u32 sum, const __u8 *p, size_t len)
{
	return pkt_csum_add(sum, p, len);
}

static __u16 fold(__u32 sum)
{
	return ntohs(pkt_csum_fold(sum));
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static __u32 flow_hash(const struct pkt_spec *s)
{
	__be32 sa[4], da[4];

	addr_parse16(s->saddr, sa);
	addr_parse16(s->daddr, da);
	return xlb_hash_entropy(sa, da, htons(s->sport), htons(s->dport), s->proto);
}

/*
 * What forward ipip must send for the frame in (link header of l2 bytes):
 * Ethernet to the next hop, untagged (the FIB's egress is), the outer
 * header, then the inner packet byte for byte. src/dst are 16-byte
 * (v4-mapped) addresses. An IPv4 inner packet without DF gets an outer id
 * of its own (random): that one is taken from got.
 */
static size_t expect_encap(const __u8 *in, size_t l2, int outer6, const __be32 src[4],
			   const __be32 dst[4], __u32 label, const __u8 *got, __u8 *out)
{
	const __u8 *inner = in + l2;
	int inner6 = (inner[0] >> 4) == 6;
	size_t olen = outer6 ? 40 : 20, inner_len;
	__u8 *o = out + 14, tos;

	inner_len = inner6 ? 40 + ((inner[4] << 8) | inner[5]) : (inner[2] << 8) | inner[3];
	tos = inner6 ? ((inner[0] & 0xf) << 4) | (inner[1] >> 4) : inner[1];
	mac_set(out, GW_MAC);
	mac_set(out + 6, EGRESS_MAC);
	put16(out + 12, outer6 ? ETH_P_IPV6 : ETH_P_IP);
	memset(o, 0, olen);
	if (outer6) {
		put32(o, 6u << 28 | (__u32)tos << 20 | (label & 0xfffff));
		put16(o + 4, inner_len);
		o[6] = inner6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
		o[7] = 64;
		memcpy(o + 8, src, 16);
		memcpy(o + 24, dst, 16);
	} else {
		o[0] = 0x45;
		o[1] = tos;
		put16(o + 2, inner_len + 20);
		if (inner[6] & 0x40) { /* DF: the inner id, and DF outside too */
			o[4] = inner[4];
			o[5] = inner[5];
			o[6] = 0x40;
		} else {
			o[4] = got[14 + 4];
			o[5] = got[14 + 5];
		}
		o[8] = 64;
		o[9] = IPPROTO_IPIP;
		memcpy(o + 12, &src[3], 4);
		memcpy(o + 16, &dst[3], 4);
		put16(o + 10, fold(sum16(0, o, 20)));
	}
	memcpy(o + olen, inner, inner_len);
	return 14 + olen + inner_len;
}


static void parse16(const char *s, __be32 out[4])
{
	assert_int_equal(addr_parse16(s, out), 0);
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
		put16(ip + 4, 8 + quote);
		ip[6] = 58;
		ip[7] = 64;
		memcpy(ip + 8, l3 + 24, 16);  /* from the VIP */
		memcpy(ip + 24, l3 + 8, 16);  /* to the client */
		icmp[0] = 2;
		put32(icmp + 4, mtu);
		sum = sum16(0, ip + 8, 32);   /* pseudo-header */
		sum += 8 + quote + 58;
	} else {
		ip[0] = 0x45;
		ip[1] = 0xc0;
		put16(ip + 2, 28 + quote);
		ip[8] = 64;
		ip[9] = 1;
		memcpy(ip + 12, l3 + 16, 4);
		memcpy(ip + 16, l3 + 12, 4);
		put16(ip + 10, fold(sum16(0, ip, 20)));
		icmp[0] = 3;
		icmp[1] = 4;
		put16(icmp + 6, mtu);
		sum = 0;
	}
	put16(icmp + 2, fold(sum16(sum, icmp, 8 + quote)));
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
	struct pkt_spec s = tcp_spec(c->family, sport, c->payload);
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
		want_len = expect_encap(in, l2, six, src, dst, hash, out, want);
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
	struct pkt_spec s = tcp_spec(4, 40000, 100);
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
	struct pkt_spec s = tcp_spec(4, 40000, 30);
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(&s, in);
	__u32 out_len;

	(void)state;
	add_backend(&k, "198.18.60.11", 0x11);
	assert_verdict(run(in, len, out, &out_len), XDP_TX);
	assert_int_equal(out_len, len);
	/* the flow is in the connection table; its next packet follows the new mode */
	assert_int_equal(xlb_lb_vip_update(F.lb, &k, XLB_SCHED_MAGLEV, XLB_FWD_IPIP), 0);
	assert_verdict(run(in, len, out, &out_len), XDP_REDIRECT);
	assert_int_equal(out_len, len + 20);
	assert_int_equal(stat(XLB_STAT_CT_HIT), 1);
}

static void test_nexthop_change_seen_after_ttl(void **state)
{
	struct vip_key k = add_vip(VIP4, 80, XLB_FWD_IPIP);
	struct pkt_spec s = tcp_spec(4, 40000, 30);
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
	struct pkt_spec s = tcp_spec(4, 40000, 1360);
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


/* ---- ICMP errors about VIP flows ---- */

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
	put16(buf + 12, family == 4 ? ETH_P_IP : ETH_P_IPV6);
	l3_len = hdr + quote_len;
	if (family == 4) {
		ip[0] = 0x45;
		put16(ip + 2, l3_len);
		ip[8] = 64;
		ip[9] = IPPROTO_ICMP;
		parse16(ROUTER4, a);
		memcpy(ip + 12, &a[3], 4);
		parse16(VIP4, a);
		memcpy(ip + 16, &a[3], 4);
		put16(ip + 10, fold(sum16(0, ip, 20)));
		icmp[0] = 3;
		icmp[1] = 4;
		put16(icmp + 6, 1400);
	} else {
		ip[0] = 0x60;
		put16(ip + 4, l3_len - 40);
		ip[6] = IPPROTO_ICMPV6;
		ip[7] = 64;
		parse16(ROUTER6, a);
		memcpy(ip + 8, a, 16);
		parse16(VIP6, a);
		memcpy(ip + 24, a, 16);
		icmp[0] = 2;
		put32(icmp + 4, 1400);
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
	/* 200 established flows: each goes to some backend, and is tracked */
	for (i = 0; i < 200; i++) {
		s = tcp_spec(4, 20000 + i, 10);
		len = pkt_build(&s, in);
		assert_verdict(run(in, len, out, &out_len), XDP_REDIRECT);
		flow_be[i] = outer_dst4(out);
	}
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
	s = tcp_spec(4, 20000 + 199, 10);
	want_len = expect_encap(in, 14, 0, src, dst, 0, out, want);
	fx_assert_bytes(out, out_len, want, want_len);

	/* more backends: Maglev would move some flows, the table keeps them */
	for (i = 4; i < 12; i++) {
		snprintf(addr, sizeof(addr), "198.18.60.%u", 11 + i);
		add_backend(&k, addr, 0x11 + i);
	}
	for (i = 0; i < 200; i++) {
		struct xlb_explain e;
		struct flow_key f = {};

		s = tcp_spec(4, 20000 + i, 10);
		addr_parse16(CLIENT4, f.saddr);
		addr_parse16(VIP4, f.daddr);
		f.sport = htons(20000 + i);
		f.dport = htons(80);
		f.proto = IPPROTO_TCP;
		assert_int_equal(xlb_explain(&F.dp, &f, 0x10, FIXTURE_LO, FIXTURE_START, FIXTURE_TCP_IDLE,
					     FIXTURE_UDP_IDLE, &e), 0);
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
		s = tcp_spec(6, 30000 + i, 0);
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
		s = tcp_spec(6, 31000 + i, 10);
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
		s = tcp_spec(4, 25000 + i, 10);
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
	put16(in + 14 + 2, 28 + 22);
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	struct CMUnitTest tests[NCASES + 12];
	const struct CMUnitTest more[] = {
		T(test_ipip4_outer_id_per_packet),
		T(test_ipv6_vip_to_ipv4_backend_refused),
		T(test_l2dsr_to_ipip_switch_moves_flows),
		T(test_nexthop_change_seen_after_ttl),
		T(test_too_big_rate_limited),
		T(test_icmp_follows_flow),
		T(test_icmp6_untracked_uses_maglev),
		T(test_icmp6_quote_ext_headers),
		T(test_icmp_l2dsr_vip),
		T(test_icmp_malformed_dropped),
	};
	size_t i, n = sizeof(more) / sizeof(more[0]);

	for (i = 0; i < NCASES; i++)
		tests[i] = (struct CMUnitTest){ cases[i].name, test_case, setup, teardown,
						(void *)&cases[i] };
	for (i = 0; i < n; i++)
		tests[NCASES + i] = more[i];
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return _cmocka_run_group_tests("encap", tests, NCASES + n, group_setup, NULL);
}
