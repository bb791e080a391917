// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet tests for the backend-side decapsulation program: the real XDP
 * object, its maps filled directly, encapsulated frames through
 * BPF_PROG_TEST_RUN, and assertions on the verdict, the exact output bytes
 * and the counters.
 *
 * Every expected output is a plain packet built by pkt.c; the input is
 * that packet with an outer header written here, so "decapsulated" means
 * "byte for byte the packet the load balancer was given".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "decap.skel.h"
#include "../../maps/decap_maps.h"
#include "pkt.h"

/* load balancers send from 198.18.0.0/24 and 2001:db8:1::/48 */
#define LB4 "198.18.0.1"
#define LB6 "2001:db8:1::1"
#define BACKEND4 "198.18.0.21"
#define BACKEND6 "2001:db8:1::21"
#define FOREIGN4 "198.18.1.1"
#define FOREIGN6 "2001:db8:2::1"
#define VIP4 "198.18.100.10"
#define VIP6 "2001:db8:100::10"
#define CLIENT4 "198.18.200.1"
#define CLIENT6 "2001:db8:200::1"
#define ROUTER_MAC_LAST 0x01
#define BACKEND_MAC_LAST 0x21
#define PAD_BYTE 0xa5

static const char *const stat_names[XLB_DECAP_STAT_MAX] = { XLB_DECAP_STAT_NAMES };

struct fixture {
	struct decap_bpf *skel;
	int prog_fd;
};

static struct fixture F;

static void source_add(const char *addr, __u32 len)
{
	struct decap_source_key key = {};
	__u32 one = 1;

	assert_int_equal(addr_parse16(addr, key.addr), 0);
	key.prefixlen = strchr(addr, ':') ? len : XLB_DECAP_V4_PREFIX_BASE + len;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(F.skel->maps.decap_sources),
					     &key, &one, BPF_ANY), 0);
}

static void vip_add(const char *addr)
{
	struct decap_vip_key key = {};
	__u32 one = 1;

	assert_int_equal(addr_parse16(addr, key.addr), 0);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(F.skel->maps.decap_vips),
					     &key, &one, BPF_ANY), 0);
}

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	F.skel = decap_bpf__open_and_load();
	if (!F.skel) {
		fprintf(stderr, "load: %d\n", -errno);
		return -1;
	}
	F.prog_fd = bpf_program__fd(F.skel->progs.xlb_decap);
	source_add("198.18.0.0", 24);
	source_add("2001:db8:1::", 48);
	vip_add(VIP4);
	vip_add(VIP6);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	decap_bpf__destroy(F.skel);
	return 0;
}

/* ---- helpers ---- */

static int run(const __u8 *in, size_t len, __u8 *out, __u32 *out_len)
{
	return pkt_run(F.prog_fd, 1, in, len, out, out_len);
}

static void stats_get(__u64 all[XLB_DECAP_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), cpu;
	__u64 *vals;
	__u32 i;

	assert_true(ncpu > 0);
	vals = calloc(ncpu, sizeof(*vals));
	assert_non_null(vals);
	for (i = 0; i < XLB_DECAP_STAT_MAX; i++) {
		assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(F.skel->maps.decap_stats),
						     &i, vals), 0);
		all[i] = 0;
		for (cpu = 0; cpu < ncpu; cpu++)
			all[i] += vals[cpu];
	}
	free(vals);
}

static __u64 stat(enum xlb_decap_stat s)
{
	__u64 all[XLB_DECAP_STAT_MAX];

	stats_get(all);
	return all[s];
}

/* On a wrong verdict, show the counters: they say why. */
static void assert_verdict(int got, int want)
{
	__u64 all[XLB_DECAP_STAT_MAX];
	__u32 i;

	if (got == want)
		return;
	stats_get(all);
	for (i = 0; i < XLB_DECAP_STAT_MAX; i++)
		if (all[i])
			print_message("# counter %s = %llu\n", stat_names[i],
				      (unsigned long long)all[i]);
	fail_msg("verdict %d, want %d", got, want);
}

static __u16 ipv4_csum(const void *hdr, size_t len)
{
	return pkt_csum_fold(pkt_csum_add(0, hdr, len));
}

/* What the load balancer wraps the client packet in. */
struct outer {
	int family; /* 4 or 6 */
	const char *saddr, *daddr;
	int opt_words;   /* IPv4 options, in 4-byte words */
	__u16 frag_off;  /* IPv4, host order: flags and offset */
	__u8 proto;      /* 0: from the inner packet's version */
	__u8 tos;        /* TOS / traffic class, ECN in its low 2 bits */
};

struct frame {
	__u8 in[PKT_MAX];   /* the encapsulated frame */
	size_t in_len;
	__u8 want[PKT_MAX]; /* the plain packet decapsulation must give back */
	size_t want_len;
	size_t l3;          /* offset of the outer (and, after, the inner) header */
	size_t outer_len;
};

static struct outer outer_from(int family)
{
	struct outer o = {
		.family = family,
		.saddr = family == 4 ? LB4 : LB6,
		.daddr = family == 4 ? BACKEND4 : BACKEND6,
	};

	return o;
}

static struct pkt_spec inner_tcp(int family)
{
	struct pkt_spec s = {
		.family = family, .proto = IPPROTO_TCP,
		.saddr = family == 4 ? CLIENT4 : CLIENT6,
		.daddr = family == 4 ? VIP4 : VIP6,
		.sport = 40000, .dport = 80, .payload = 10,
	};

	mac_set(s.smac, ROUTER_MAC_LAST);
	mac_set(s.dmac, BACKEND_MAC_LAST);
	return s;
}

/*
 * f->in = the L2 header of f->want (innermost ethertype: the outer family),
 * the outer header, the first inner_len bytes of the inner packet, pad bytes.
 */
static void encap_bytes(struct frame *f, const struct outer *o, size_t inner_len, size_t pad)
{
	__u8 *l3 = f->in + f->l3, version = f->want[f->l3] >> 4;
	__u8 proto = o->proto ? o->proto : version == 4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	__be32 src[4], dst[4];

	assert_int_equal(addr_parse16(o->saddr, src), 0);
	assert_int_equal(addr_parse16(o->daddr, dst), 0);
	memcpy(f->in, f->want, f->l3);
	*(__be16 *)(l3 - 2) = htons(o->family == 4 ? ETH_P_IP : ETH_P_IPV6);
	if (o->family == 4) {
		struct iphdr *ip = (struct iphdr *)l3;

		f->outer_len = 20 + 4 * o->opt_words;
		memset(ip, 0, f->outer_len);
		ip->version = 4;
		ip->ihl = f->outer_len / 4;
		ip->tot_len = htons(f->outer_len + inner_len);
		ip->id = htons(0x4242);
		ip->frag_off = htons(o->frag_off);
		ip->ttl = 64;
		ip->tos = o->tos;
		ip->protocol = proto;
		ip->saddr = src[3];
		ip->daddr = dst[3];
		memset(l3 + 20, 1, f->outer_len - 20); /* NOP options */
		ip->check = ipv4_csum(ip, f->outer_len);
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)l3;

		f->outer_len = 40;
		memset(ip6, 0, sizeof(*ip6));
		ip6->version = 6;
		ip6->priority = o->tos >> 4;
		ip6->flow_lbl[0] = (o->tos & 0xf) << 4;
		ip6->payload_len = htons(inner_len);
		ip6->nexthdr = proto;
		ip6->hop_limit = 64;
		memcpy(&ip6->saddr, src, 16);
		memcpy(&ip6->daddr, dst, 16);
	}
	memcpy(l3 + f->outer_len, f->want + f->l3, inner_len);
	memset(l3 + f->outer_len + inner_len, PAD_BYTE, pad);
	f->in_len = f->l3 + f->outer_len + inner_len + pad;
	assert_true(f->in_len <= PKT_MAX);
}

static void encap(struct frame *f, const struct pkt_spec *inner, const struct outer *o,
		  size_t pad)
{
	f->want_len = pkt_build(inner, f->want);
	f->l3 = pkt_l3_offset(inner);
	encap_bytes(f, o, f->want_len - f->l3, pad);
}

/* The frame comes out as the plain inner packet, counted as decapsulated. */
static void expect_decap(const struct frame *f)
{
	__u8 out[PKT_MAX];
	__u32 out_len = 0;
	__u64 before = stat(XLB_DECAP_STAT_DECAP);

	assert_verdict(run(f->in, f->in_len, out, &out_len), XDP_PASS);
	assert_int_equal(out_len, f->want_len);
	assert_memory_equal(out, f->want, f->want_len);
	assert_int_equal(stat(XLB_DECAP_STAT_DECAP), before + 1);
}

/* The first len bytes come out as they went in, with this verdict and counter. */
static void expect_untouched(const __u8 *in, size_t len, int verdict, enum xlb_decap_stat s)
{
	__u8 out[PKT_MAX];
	__u32 out_len = 0;
	__u64 before = stat(s);

	assert_verdict(run(in, len, out, &out_len), verdict);
	assert_int_equal(stat(s), before + 1);
	if (verdict == XDP_DROP)
		return;
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
}

static void expect_drop(const __u8 *in, size_t len)
{
	expect_untouched(in, len, XDP_DROP, XLB_DECAP_STAT_DROP_MALFORMED);
}

/* ---- decapsulation ---- */

static void test_ipip(void **state)
{
	struct pkt_spec s = inner_tcp(4);
	struct outer o = outer_from(4);
	struct frame f;

	(void)state;
	encap(&f, &s, &o, 0);
	assert_int_equal(f.in[f.l3 + 9], IPPROTO_IPIP);
	expect_decap(&f);
	assert_int_equal(f.want_len, ETH_HLEN + 20 + 20 + 10);
	/* UDP, ICMP and a full-size payload: the inner packet is never looked into */
	s.proto = IPPROTO_UDP;
	s.payload = 1400;
	encap(&f, &s, &o, 0);
	expect_decap(&f);
	s.proto = IPPROTO_ICMP;
	s.payload = 56;
	encap(&f, &s, &o, 0);
	expect_decap(&f);
}

static void test_ip6ip6(void **state)
{
	struct pkt_spec s = inner_tcp(6);
	struct outer o = outer_from(6);
	struct frame f;

	(void)state;
	encap(&f, &s, &o, 0);
	assert_int_equal(f.in[f.l3 + 6], IPPROTO_IPV6);
	expect_decap(&f);
	assert_int_equal(f.want_len, ETH_HLEN + 40 + 20 + 10);
	s.proto = IPPROTO_UDP;
	s.payload = 1400;
	encap(&f, &s, &o, 0);
	expect_decap(&f);
}

static void test_4in6(void **state)
{
	struct pkt_spec s = inner_tcp(4);
	struct outer o = outer_from(6);
	struct frame f;

	(void)state;
	encap(&f, &s, &o, 0);
	assert_int_equal(f.in[f.l3 + 6], IPPROTO_IPIP);
	expect_decap(&f);
}

static void test_6in4(void **state)
{
	struct pkt_spec s = inner_tcp(6);
	struct outer o = outer_from(4);
	struct frame f;

	(void)state;
	encap(&f, &s, &o, 0);
	assert_int_equal(f.in[f.l3 + 9], IPPROTO_IPV6);
	expect_decap(&f);
}

/* Tags and their TPIDs stay as they were; only the innermost ethertype changes. */
static void test_vlan_tags(void **state)
{
	struct frame f;
	int outer, inner, nvlan;

	(void)state;
	for (outer = 4; outer <= 6; outer += 2)
		for (inner = 4; inner <= 6; inner += 2)
			for (nvlan = 1; nvlan <= 2; nvlan++) {
				struct pkt_spec s = inner_tcp(inner);
				struct outer o = outer_from(outer);

				s.nvlan = nvlan;
				s.vlan_tpid[0] = nvlan == 2 ? ETH_P_8021AD : ETH_P_8021Q;
				encap(&f, &s, &o, 0);
				expect_decap(&f);
				assert_int_equal(f.want_len, f.in_len - f.outer_len);
			}
	/* a third tag is beyond what is parsed: not ours */
	{
		struct pkt_spec s = inner_tcp(4);
		struct outer o = outer_from(4);

		s.nvlan = 3;
		encap(&f, &s, &o, 0);
		expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	}
}

static void test_ipv4_outer_options(void **state)
{
	struct frame f;
	int words, nvlan;

	(void)state;
	for (nvlan = 0; nvlan <= 2; nvlan++)
		for (words = 1; words <= 10; words++) {
			struct pkt_spec s = inner_tcp(words & 1 ? 4 : 6);
			struct outer o = outer_from(4);

			s.nvlan = nvlan;
			o.opt_words = words;
			encap(&f, &s, &o, 0);
			assert_int_equal(f.outer_len, 20 + 4 * words);
			expect_decap(&f);
		}
}

/* Inner options and extension headers are payload to us: kept as they are. */
static void test_inner_options_kept(void **state)
{
	struct pkt_spec s4 = inner_tcp(4), s6 = inner_tcp(6);
	struct outer o4 = outer_from(4), o6 = outer_from(6);
	struct frame f;

	(void)state;
	s4.ip_opt_words = 3;
	s6.ext_hdrs = 2;
	encap(&f, &s4, &o4, 0);
	expect_decap(&f);
	encap(&f, &s6, &o6, 0);
	expect_decap(&f);
}

/* Bytes after the outer IP packet (Ethernet padding) are cut. */
static void test_trailing_padding_trimmed(void **state)
{
	static const size_t pads[] = { 1, 3, 4, 26, 200 };
	struct frame f;
	size_t i;
	int outer, inner;

	(void)state;
	for (outer = 4; outer <= 6; outer += 2)
		for (inner = 4; inner <= 6; inner += 2)
			for (i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
				struct pkt_spec s = inner_tcp(inner);
				struct outer o = outer_from(outer);

				s.nvlan = i % 3;
				s.payload = 0;
				encap(&f, &s, &o, pads[i]);
				expect_decap(&f);
				assert_int_equal(f.in_len, f.want_len + f.outer_len + pads[i]);
			}
}

/* Any address in a configured prefix is a load balancer; the next one is not. */
static void test_source_prefixes(void **state)
{
	static const char *const ours[] = { "198.18.0.0", "198.18.0.255", "2001:db8:1::",
					    "2001:db8:1:ffff:ffff:ffff:ffff:ffff" };
	static const char *const theirs[] = { "198.17.255.255", "198.18.1.0", "2001:db8:0:ffff::1",
					      "2001:db8:2::", "::ffff:198.18.0.1" };
	struct frame f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		struct pkt_spec s = inner_tcp(4);
		struct outer o = outer_from(strchr(ours[i], ':') ? 6 : 4);

		o.saddr = ours[i];
		encap(&f, &s, &o, 0);
		expect_decap(&f);
	}
	/* the last one: a v4-mapped IPv6 source is not the IPv4 address */
	for (i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++) {
		struct pkt_spec s = inner_tcp(6);
		struct outer o = outer_from(strncmp(theirs[i], "198", 3) ? 6 : 4);

		o.saddr = theirs[i];
		encap(&f, &s, &o, 0);
		expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_FOREIGN_SOURCE);
	}
}

/* ---- what is not ours ---- */

static void test_foreign_source_untouched(void **state)
{
	struct frame f;
	int outer, inner;

	(void)state;
	for (outer = 4; outer <= 6; outer += 2)
		for (inner = 4; inner <= 6; inner += 2) {
			struct pkt_spec s = inner_tcp(inner);
			struct outer o = outer_from(outer);

			o.saddr = outer == 4 ? FOREIGN4 : FOREIGN6;
			encap(&f, &s, &o, 0);
			expect_untouched(f.in, f.in_len, XDP_PASS,
					 XLB_DECAP_STAT_PASS_FOREIGN_SOURCE);
			/* malformed too, but not from a load balancer: still not ours */
			encap_bytes(&f, &o, 5, 0);
			expect_untouched(f.in, f.in_len, XDP_PASS,
					 XLB_DECAP_STAT_PASS_FOREIGN_SOURCE);
		}
	assert_int_equal(stat(XLB_DECAP_STAT_PASS_FOREIGN_SOURCE), 8);
	assert_int_equal(stat(XLB_DECAP_STAT_DECAP), 0);
	assert_int_equal(stat(XLB_DECAP_STAT_DROP_MALFORMED), 0);
}

static void test_not_vip_untouched(void **state)
{
	struct frame f;
	int outer, inner;

	(void)state;
	for (outer = 4; outer <= 6; outer += 2)
		for (inner = 4; inner <= 6; inner += 2) {
			struct pkt_spec s = inner_tcp(inner);
			struct outer o = outer_from(outer);

			s.daddr = inner == 4 ? "198.18.100.11" : "2001:db8:100::11";
			encap(&f, &s, &o, 0);
			expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_VIP);
		}
	/* the outer destination being a VIP does not make the inner one */
	{
		struct pkt_spec s = inner_tcp(4);
		struct outer o = outer_from(4);

		s.daddr = BACKEND4;
		o.daddr = VIP4;
		encap(&f, &s, &o, 0);
		expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_VIP);
	}
	/* nor does a v4-mapped inner destination make an IPv4 VIP */
	{
		struct pkt_spec s = inner_tcp(6);
		struct outer o = outer_from(6);

		s.daddr = "::ffff:" VIP4;
		encap(&f, &s, &o, 0);
		expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_VIP);
	}
	assert_int_equal(stat(XLB_DECAP_STAT_PASS_NOT_VIP), 6);
}

static void test_not_encap_untouched(void **state)
{
	struct pkt_spec s4 = inner_tcp(4), s6 = inner_tcp(6);
	__u8 p[PKT_MAX];
	size_t len;
	struct frame f;

	(void)state;
	/* the host's own traffic, even from a load balancer address to a VIP */
	s4.saddr = LB4;
	s6.saddr = LB6;
	len = pkt_build(&s4, p);
	expect_untouched(p, len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	len = pkt_build(&s6, p);
	expect_untouched(p, len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	s4.proto = IPPROTO_UDP;
	s4.nvlan = 1;
	len = pkt_build(&s4, p);
	expect_untouched(p, len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	/* not IP */
	s4.ether_type = ETH_P_ARP;
	len = pkt_build(&s4, p);
	expect_untouched(p, len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	/* too short for an Ethernet header, a tag or an IP header */
	expect_untouched(p, ETH_HLEN, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	s4.ether_type = 0;
	len = pkt_build(&s4, p);
	expect_untouched(p, ETH_HLEN + 2, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	expect_untouched(p, ETH_HLEN + 4 + 19, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);

	/* IPv6 with an extension header before the tunnel: not what a load balancer sends */
	{
		struct pkt_spec s = inner_tcp(4);
		struct outer o = outer_from(6);
		__u8 *l3;

		encap(&f, &s, &o, 0);
		l3 = f.in + f.l3;
		memmove(l3 + 48, l3 + 40, f.in_len - f.l3 - 40);
		memset(l3 + 40, 0, 8);
		l3[40] = IPPROTO_IPIP; /* hop-by-hop header: next is IPIP */
		l3[42] = 1;            /* PadN, 4 bytes */
		l3[43] = 4;
		l3[6] = 0;             /* hop-by-hop */
		*(__be16 *)(l3 + 4) = htons(f.in_len - f.l3 - 40 + 8);
		f.in_len += 8;
		expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	}
	/* GRE from a load balancer: another protocol */
	{
		struct pkt_spec s = inner_tcp(4);
		struct outer o = outer_from(4);

		o.proto = 47;
		encap(&f, &s, &o, 0);
		expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	}
	assert_int_equal(stat(XLB_DECAP_STAT_PASS_NOT_ENCAP), 9);
}

static void test_outer_fragment_untouched(void **state)
{
	static const __u16 frags[] = { 0x2000, 0x0001, 185, 0x2000 | 185, 0x4000 | 0x0002 };
	struct frame f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		struct pkt_spec s = inner_tcp(4);
		struct outer o = outer_from(4);

		o.frag_off = frags[i];
		encap(&f, &s, &o, 0);
		expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_FRAGMENT);
	}
	/* DF is not a fragment */
	{
		struct pkt_spec s = inner_tcp(4);
		struct outer o = outer_from(4);

		o.frag_off = 0x4000;
		encap(&f, &s, &o, 0);
		expect_decap(&f);
	}
	assert_int_equal(stat(XLB_DECAP_STAT_PASS_FRAGMENT), 5);
}

/* ---- malformed, from a load balancer ---- */

/*
 * Every cut between the end of the outer header and the end of the inner
 * header: once with the outer length telling the truth (the inner header
 * is short), once with the frame cut under an outer length that claims
 * more (the outer header lies).
 */
static void test_truncated_inner_dropped(void **state)
{
	struct frame f;
	size_t cut, inner_hdr, drops = 0;
	int outer, inner;

	(void)state;
	for (outer = 4; outer <= 6; outer += 2)
		for (inner = 4; inner <= 6; inner += 2) {
			struct pkt_spec s = inner_tcp(inner);
			struct outer o = outer_from(outer);

			s.ip_opt_words = 2; /* IPv4: the header ends after its options */
			s.nvlan = outer == inner ? 0 : 1;
			inner_hdr = pkt_l4_offset(&s) - pkt_l3_offset(&s);
			for (cut = 0; cut < inner_hdr; cut++) {
				encap(&f, &s, &o, 0);
				expect_drop(f.in, f.l3 + f.outer_len + cut);
				encap_bytes(&f, &o, cut, 0);
				expect_drop(f.in, f.in_len);
				drops += 2;
			}
		}
	assert_int_equal(drops, 2 * (28 + 40 + 28 + 40));
	assert_int_equal(stat(XLB_DECAP_STAT_DROP_MALFORMED), drops);
	assert_int_equal(stat(XLB_DECAP_STAT_DECAP), 0);
}

/* Set the IPv4 header's checksum again after a test broke a field. */
static void outer4_recsum(struct frame *f)
{
	struct iphdr *ip = (struct iphdr *)(f->in + f->l3);

	ip->check = 0;
	ip->check = ipv4_csum(ip, f->outer_len);
}

static void test_malformed_dropped(void **state)
{
	struct pkt_spec s4 = inner_tcp(4), s6 = inner_tcp(6);
	struct outer o4 = outer_from(4), o6 = outer_from(6);
	struct frame f;
	struct iphdr *ip;

	(void)state;
	/* the inner packet is not of the family the outer protocol names */
	o4.proto = IPPROTO_IPIP;
	encap(&f, &s6, &o4, 0);
	expect_drop(f.in, f.in_len);
	o4.proto = IPPROTO_IPV6;
	encap(&f, &s4, &o4, 0);
	expect_drop(f.in, f.in_len);
	o6.proto = IPPROTO_IPIP;
	encap(&f, &s6, &o6, 0);
	expect_drop(f.in, f.in_len);
	o6.proto = IPPROTO_IPV6;
	encap(&f, &s4, &o6, 0);
	expect_drop(f.in, f.in_len);
	o4.proto = o6.proto = 0;

	/* outer IPv4: bad version, IHL below 5, total length below IHL or beyond the frame */
	encap(&f, &s4, &o4, 0);
	ip = (struct iphdr *)(f.in + f.l3);
	ip->version = 5;
	outer4_recsum(&f);
	expect_drop(f.in, f.in_len);
	encap(&f, &s4, &o4, 0);
	ip->ihl = 4;
	outer4_recsum(&f);
	expect_drop(f.in, f.in_len);
	encap(&f, &s4, &o4, 0);
	ip->tot_len = htons(19);
	outer4_recsum(&f);
	expect_drop(f.in, f.in_len);
	encap(&f, &s4, &o4, 0);
	ip->tot_len = htons(f.in_len - f.l3 + 1);
	outer4_recsum(&f);
	expect_drop(f.in, f.in_len);
	/* options beyond the frame */
	o4.opt_words = 10;
	encap_bytes(&f, &o4, 0, 0);
	expect_drop(f.in, f.l3 + 40);
	o4.opt_words = 0;
	/* outer checksum wrong */
	encap(&f, &s4, &o4, 0);
	ip->check ^= htons(0x0100);
	expect_drop(f.in, f.in_len);

	/* outer IPv6: bad version, payload length beyond the frame */
	encap(&f, &s4, &o6, 0);
	f.in[f.l3] = 0x40;
	expect_drop(f.in, f.in_len);
	encap(&f, &s4, &o6, 0);
	*(__be16 *)(f.in + f.l3 + 4) = htons(f.in_len - f.l3 - 40 + 1);
	expect_drop(f.in, f.in_len);

	/* inner IPv4: IHL below 5, total length below IHL or beyond the outer payload */
	encap(&f, &s4, &o6, 0);
	f.in[f.l3 + 40] = 0x44;
	expect_drop(f.in, f.in_len);
	encap(&f, &s4, &o6, 0);
	*(__be16 *)(f.in + f.l3 + 40 + 2) = htons(19);
	expect_drop(f.in, f.in_len);
	encap(&f, &s4, &o4, 0);
	*(__be16 *)(f.in + f.l3 + 20 + 2) = htons(f.want_len - f.l3 + 1);
	expect_drop(f.in, f.in_len);
	/* inner IPv6: payload length beyond the outer payload, even with padding after it */
	encap(&f, &s6, &o4, 4);
	*(__be16 *)(f.in + f.l3 + 20 + 4) = htons(f.want_len - f.l3 - 40 + 1);
	expect_drop(f.in, f.in_len);

	assert_int_equal(stat(XLB_DECAP_STAT_DROP_MALFORMED), 16);
	assert_int_equal(stat(XLB_DECAP_STAT_DECAP), 0);
}

/* An inner packet shorter than what the outer header carries is passed whole, as the kernel would. */
static void test_inner_shorter_than_outer_payload(void **state)
{
	struct pkt_spec s = inner_tcp(4);
	struct outer o = outer_from(4);
	struct frame f;

	(void)state;
	s.payload = 8;
	f.want_len = pkt_build(&s, f.want);
	f.l3 = pkt_l3_offset(&s);
	/* the inner header says 4 bytes fewer: those belong to the inner packet's padding */
	*(__be16 *)(f.want + f.l3 + 2) = htons(f.want_len - f.l3 - 4);
	((struct iphdr *)(f.want + f.l3))->check = 0;
	((struct iphdr *)(f.want + f.l3))->check = ipv4_csum(f.want + f.l3, 20);
	encap_bytes(&f, &o, f.want_len - f.l3, 0);
	expect_decap(&f);
}

/* ---- counters ---- */

/* RFC 6040: a CE mark on the outer header reaches the inner one, or the packet is dropped. */
static void test_ecn_ce_carried_in(void **state)
{
	int family;

	(void)state;
	for (family = 4; family <= 6; family += 2) {
		struct pkt_spec s = inner_tcp(family), marked;
		struct outer o = outer_from(family);
		struct frame f;

		/* ECT(0) inside, CE outside: out comes the inner packet marked CE */
		s.tos = 0x02;
		o.tos = 0x03;
		encap(&f, &s, &o, 0);
		marked = s;
		marked.tos = 0x03;
		f.want_len = pkt_build(&marked, f.want); /* its own checksum, computed afresh */
		expect_decap(&f);
		/* CE inside already: unchanged */
		s.tos = 0x03;
		encap(&f, &s, &o, 0);
		expect_decap(&f);
		/* not ECN-capable inside: dropped, as congestion is told to such a flow */
		s.tos = 0x00;
		encap(&f, &s, &o, 0);
		expect_untouched(f.in, f.in_len, XDP_DROP, XLB_DECAP_STAT_DROP_ECN);
		/* no CE outside: the inner packet as it was */
		s.tos = 0x00;
		o.tos = 0x02;
		encap(&f, &s, &o, 0);
		expect_decap(&f);
	}
}

static void test_counters_exact(void **state)
{
	__u64 want[XLB_DECAP_STAT_MAX] = {}, got[XLB_DECAP_STAT_MAX];
	struct pkt_spec s4 = inner_tcp(4), s6 = inner_tcp(6);
	struct outer o4 = outer_from(4), o6 = outer_from(6);
	struct frame f;
	__u8 p[PKT_MAX];
	size_t len;
	__u32 i;

	(void)state;
	for (i = 0; i < XLB_DECAP_STAT_MAX; i++)
		assert_non_null(stat_names[i]);
	stats_get(got);
	assert_memory_equal(got, want, sizeof(got));

	encap(&f, &s4, &o4, 0); /* 3 decapsulated */
	expect_decap(&f);
	encap(&f, &s6, &o6, 0);
	expect_decap(&f);
	encap(&f, &s4, &o6, 7);
	expect_decap(&f);
	want[XLB_DECAP_STAT_DECAP] = 3;
	len = pkt_build(&s4, p); /* 2 plain */
	expect_untouched(p, len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	len = pkt_build(&s6, p);
	expect_untouched(p, len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_ENCAP);
	want[XLB_DECAP_STAT_PASS_NOT_ENCAP] = 2;
	o4.frag_off = 0x2000; /* 1 fragment */
	encap(&f, &s4, &o4, 0);
	expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_FRAGMENT);
	o4.frag_off = 0;
	want[XLB_DECAP_STAT_PASS_FRAGMENT] = 1;
	o6.saddr = FOREIGN6; /* 1 foreign */
	encap(&f, &s4, &o6, 0);
	expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_FOREIGN_SOURCE);
	want[XLB_DECAP_STAT_PASS_FOREIGN_SOURCE] = 1;
	s4.daddr = "198.18.100.99"; /* 1 not a VIP */
	encap(&f, &s4, &o4, 0);
	expect_untouched(f.in, f.in_len, XDP_PASS, XLB_DECAP_STAT_PASS_NOT_VIP);
	want[XLB_DECAP_STAT_PASS_NOT_VIP] = 1;
	encap(&f, &s6, &o4, 0); /* 2 malformed */
	expect_drop(f.in, f.in_len - 1);
	expect_drop(f.in, f.l3 + 20);
	want[XLB_DECAP_STAT_DROP_MALFORMED] = 2;

	stats_get(got);
	for (i = 0; i < XLB_DECAP_STAT_MAX; i++)
		if (got[i] != want[i])
			fail_msg("counter %s: got %llu, want %llu", stat_names[i],
				 (unsigned long long)got[i], (unsigned long long)want[i]);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ipip),
		T(test_ip6ip6),
		T(test_4in6),
		T(test_6in4),
		T(test_vlan_tags),
		T(test_ipv4_outer_options),
		T(test_inner_options_kept),
		T(test_trailing_padding_trimmed),
		T(test_source_prefixes),
		T(test_foreign_source_untouched),
		T(test_not_vip_untouched),
		T(test_not_encap_untouched),
		T(test_outer_fragment_untouched),
		T(test_truncated_inner_dropped),
		T(test_malformed_dropped),
		T(test_inner_shorter_than_outer_payload),
		T(test_ecn_ce_carried_in),
		T(test_counters_exact),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
