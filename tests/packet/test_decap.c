// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet tests for the backend-side decapsulation program: the real XDP
 * object, its maps filled directly, encapsulated frames through
 * BPF_PROG_TEST_RUN, and assertions on the verdict, the exact output bytes
 * and the counters.
 *
 * One table: each row describes a frame (the plain packet, the outer
 * header wrapped around it, what is then broken), what must come out and
 * which counter moves; one cmocka test per row, on a freshly loaded
 * program. Every expected output is a plain packet built by pkt.c; the
 * input is that packet with an outer header written here, so
 * "decapsulated" means "byte for byte the packet the load balancer was
 * given".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/libbpf.h>
#include "decap_fixture.h"
#include "fixture_assert.h"

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
#define EMPTY (-1) /* for payload and inner_len: none at all (0 is the default) */

static const char *const stat_names[XLB_DECAP_STAT_MAX] = { XLB_DECAP_STAT_NAMES };

static struct decap_fixture D;

static void fx_decap_counters(struct decap_fixture *f, __u64 out[XLB_DECAP_STAT_MAX])
{
	assert_int_equal(decap_fixture_counters(f, out), 0);
}

static int setup(void **state)
{
	(void)state;
	if (decap_fixture_open(&D)) {
		fprintf(stderr, "cannot load the decapsulation program\n");
		return -1;
	}
	if (decap_fixture_source_add(&D, "198.18.0.0", 24) ||
	    decap_fixture_source_add(&D, "2001:db8:1::", 48) ||
	    decap_fixture_vip_add(&D, VIP4) || decap_fixture_vip_add(&D, VIP6))
		return -1;
	return 0;
}

/* the packet the row was at, when it failed */
static char current[160];

static int teardown(void **state)
{
	(void)state;
	if (current[0])
		print_message("# failed at: %s\n", current);
	current[0] = 0;
	decap_fixture_close(&D);
	return 0;
}

/* ---- frames ---- */

struct frame {
	__u8 in[PKT_MAX];   /* the encapsulated frame */
	size_t in_len;
	__u8 want[PKT_MAX]; /* the plain packet decapsulation must give back */
	size_t want_len;
	size_t l3;          /* offset of the outer (and, after, the inner) header */
	size_t outer_len;
};

enum want {
	DECAP,     /* the plain packet comes out */
	UNTOUCHED, /* XDP_PASS, byte for byte as it came */
	DROPPED,
};

/* One parameter a row runs over: a packet for each value. */
enum sweep {
	ONCE,
	OUTER_OPTIONS, /* outer IPv4 options of 1..10 words */
	PADDING,       /* Ethernet padding of pads[] bytes after the outer packet */
	FRAME_CUT,     /* the frame cut at every byte of the inner header: the outer length lies */
	INNER_CUT,     /* only that much of the inner header carried: the inner header is short */
};

static const size_t pads[] = { 1, 3, 4, 26, 200 };

struct decap_case {
	const char *name;
	/* the plain packet: TCP from the client to a VIP, 10 bytes of payload */
	int inner;         /* family; 0: each of 4 and 6 */
	__u8 proto;
	int payload;       /* bytes; 0: 10; EMPTY: none */
	int nvlan;
	__u16 tpid0;       /* outermost tag's TPID; 0: 802.1Q */
	int ip_opt_words, ext_hdrs;
	__u8 tos;
	const char *saddr, *daddr;
	__u16 ether_type;
	int plain;         /* sent as it is, not encapsulated */
	/* what the load balancer wraps it in */
	int outer;         /* family; 0: each of 4 and 6 */
	const char *outer_saddr, *outer_daddr;
	int outer_opt_words;
	__u16 frag_off;    /* IPv4, host order: flags and offset */
	__u8 outer_proto;  /* 0: from the inner packet's version */
	__u8 outer_tos;    /* TOS / traffic class, ECN in its low 2 bits */
	size_t pad;
	int inner_len;     /* inner bytes carried; 0: all; EMPTY: none */
	size_t frame_len;  /* the frame cut to this length; 0: whole */
	int trim;          /* bytes cut off its end */
	void (*prepare)(struct frame *f); /* on the plain packet, before it is wrapped */
	void (*mutate)(struct frame *f);  /* on the frame */
	enum sweep sweep;
	/* what must come out */
	enum want want;
	enum xlb_decap_stat stat; /* moves by one a packet, no other does */
	int packets;       /* the row sends; 0: one */
	__u8 want_tos;     /* the plain packet comes out with this TOS; 0: as it was */
	__u8 tunnel_proto; /* the outer header must name it (a check of the builder) */
	size_t want_len;   /* the plain packet must be this long (likewise) */
};

/* Set the checksum of the IPv4 header of hlen bytes at l3 (any alignment). */
static void ipv4_csum_set(__u8 *l3, size_t hlen)
{
	__u16 check = 0;

	memcpy(l3 + offsetof(struct iphdr, check), &check, 2);
	check = pkt_csum_fold(pkt_csum_add(0, l3, hlen));
	memcpy(l3 + offsetof(struct iphdr, check), &check, 2);
}

/*
 * f->in = the L2 header of f->want (innermost ethertype: the outer family),
 * the outer header, the first inner_len bytes of the inner packet, pad bytes.
 */
static void encap_bytes(struct frame *f, const struct decap_case *c, int outer,
			size_t inner_len, size_t pad)
{
	__u8 *l3 = f->in + f->l3, version = f->want[f->l3] >> 4;
	__u8 proto = c->outer_proto ?: version == 4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	__be32 src[4], dst[4];

	assert_int_equal(addr_parse16(c->outer_saddr ?: outer == 4 ? LB4 : LB6, src), 0);
	assert_int_equal(addr_parse16(c->outer_daddr ?: outer == 4 ? BACKEND4 : BACKEND6, dst), 0);
	memcpy(f->in, f->want, f->l3);
	pkt_put16(l3 - 2, outer == 4 ? ETH_P_IP : ETH_P_IPV6);
	/* built in a local, copied in: the header sits at any offset of the frame */
	if (outer == 4) {
		struct iphdr ip = {};

		f->outer_len = 20 + 4 * c->outer_opt_words;
		ip.version = 4;
		ip.ihl = f->outer_len / 4;
		ip.tot_len = htons(f->outer_len + inner_len);
		ip.id = htons(0x4242);
		ip.frag_off = htons(c->frag_off);
		ip.ttl = 64;
		ip.tos = c->outer_tos;
		ip.protocol = proto;
		ip.saddr = src[3];
		ip.daddr = dst[3];
		memcpy(l3, &ip, sizeof(ip));
		memset(l3 + 20, 1, f->outer_len - 20); /* NOP options */
		ipv4_csum_set(l3, f->outer_len);
	} else {
		struct ipv6hdr ip6 = {};

		f->outer_len = 40;
		ip6.version = 6;
		ip6.priority = c->outer_tos >> 4;
		ip6.flow_lbl[0] = (c->outer_tos & 0xf) << 4;
		ip6.payload_len = htons(inner_len);
		ip6.nexthdr = proto;
		ip6.hop_limit = 64;
		memcpy(&ip6.saddr, src, 16);
		memcpy(&ip6.daddr, dst, 16);
		memcpy(l3, &ip6, sizeof(ip6));
	}
	memcpy(l3 + f->outer_len, f->want + f->l3, inner_len);
	memset(l3 + f->outer_len + inner_len, PAD_BYTE, pad);
	f->in_len = f->l3 + f->outer_len + inner_len + pad;
	assert_true(f->in_len <= PKT_MAX);
}

static struct pkt_spec plain_spec(const struct decap_case *c, int inner)
{
	struct pkt_spec s = {
		.family = inner, .proto = c->proto ?: IPPROTO_TCP,
		.saddr = c->saddr ?: inner == 4 ? CLIENT4 : CLIENT6,
		.daddr = c->daddr ?: inner == 4 ? VIP4 : VIP6,
		.sport = 40000, .dport = 80,
		.payload = c->payload == EMPTY ? 0 : c->payload ?: 10,
		.nvlan = c->nvlan, .vlan_tpid = { c->tpid0 },
		.ip_opt_words = c->ip_opt_words, .ext_hdrs = c->ext_hdrs,
		.tos = c->tos, .ether_type = c->ether_type,
	};

	mac_set(s.smac, ROUTER_MAC_LAST);
	mac_set(s.dmac, BACKEND_MAC_LAST);
	return s;
}

/* The frame of row c for this pair of families and this value of its sweep. */
static void build(const struct decap_case *c, int outer, int inner, size_t value,
		  struct frame *f)
{
	struct pkt_spec s = plain_spec(c, inner);
	struct decap_case v = *c;
	size_t carried;

	if (c->sweep == OUTER_OPTIONS)
		v.outer_opt_words = value;
	else if (c->sweep == PADDING)
		v.pad = pads[value];
	f->want_len = pkt_build(&s, f->want);
	f->l3 = pkt_l3_offset(&s);
	if (c->prepare)
		c->prepare(f);
	carried = c->inner_len == EMPTY ? 0 : c->inner_len ? (size_t)c->inner_len : f->want_len - f->l3;
	if (c->sweep == INNER_CUT)
		carried = value;
	if (c->plain) {
		memcpy(f->in, f->want, f->want_len);
		f->in_len = f->want_len;
		f->outer_len = 0;
	} else {
		encap_bytes(f, &v, outer, carried, v.pad);
		/* the builder made what the row says */
		assert_int_equal(f->outer_len, outer == 4 ? 20 + 4 * v.outer_opt_words : 40);
		if (!c->inner_len && c->sweep != INNER_CUT)
			assert_int_equal(f->in_len, f->want_len + f->outer_len + v.pad);
	}
	if (c->mutate)
		c->mutate(f);
	if (c->want_tos) {
		s.tos = c->want_tos;
		f->want_len = pkt_build(&s, f->want); /* its own checksum, computed afresh */
	}
	if (c->sweep == FRAME_CUT)
		f->in_len = f->l3 + f->outer_len + value;
	if (c->frame_len)
		f->in_len = c->frame_len;
	f->in_len -= c->trim;
	if (c->tunnel_proto)
		assert_int_equal(f->in[f->l3 + (outer == 4 ? 9 : 6)], c->tunnel_proto);
	if (c->want_len)
		assert_int_equal(f->want_len, c->want_len);
}

/* The values of the row's sweep: how many. */
static size_t sweep_count(const struct decap_case *c, int inner)
{
	struct pkt_spec s = plain_spec(c, inner);

	switch (c->sweep) {
	case OUTER_OPTIONS:
		return 10;
	case PADDING:
		return sizeof(pads) / sizeof(pads[0]);
	case FRAME_CUT:
	case INNER_CUT:
		return pkt_l4_offset(&s) - pkt_l3_offset(&s);
	default:
		return 1;
	}
}

static void expect(const struct decap_case *c, const struct frame *f)
{
	const struct fx_delta one[FX_DELTAS_MAX] = { { c->stat, 1 } };
	__u64 before[XLB_DECAP_STAT_MAX], after[XLB_DECAP_STAT_MAX];
	int verdict = c->want == DROPPED ? XDP_DROP : XDP_PASS, got;
	__u8 out[PKT_MAX];
	__u32 out_len = 0;

	fx_decap_counters(&D, before);
	got = decap_fixture_run(&D, f->in, f->in_len, out, &out_len);
	fx_decap_counters(&D, after);
	if (got != verdict)
		fx_assert_deltas(before, after, XLB_DECAP_STAT_MAX, stat_names, one);
	assert_int_equal(got, verdict);
	fx_assert_deltas(before, after, XLB_DECAP_STAT_MAX, stat_names, one);
	if (c->want == DECAP)
		fx_assert_bytes(out, out_len, f->want, f->want_len);
	else if (c->want == UNTOUCHED)
		fx_assert_bytes(out, out_len, f->in, f->in_len);
}

/* Every packet of row c; its counter moved by one for each, no other did. */
static void run_rows(const struct decap_case *c, size_t nrows)
{
	static const int families[] = { 4, 6 };
	__u64 before[XLB_DECAP_STAT_MAX], after[XLB_DECAP_STAT_MAX];
	int o, i, sent;
	size_t v, n;
	struct frame f;

	for (; nrows--; c++) {
		struct fx_delta total[FX_DELTAS_MAX] = { { c->stat, c->packets ?: 1 } };

		assert_true(c->want != DECAP || c->stat == XLB_DECAP_STAT_DECAP);
		fx_decap_counters(&D, before);
		sent = 0;
		for (o = 0; o < 2; o++)
			for (i = 0; i < 2; i++) {
				if ((c->outer && c->outer != families[o]) ||
				    (c->inner && c->inner != families[i]))
					continue;
				n = sweep_count(c, families[i]);
				for (v = 0; v < n; v++, sent++) {
					snprintf(current, sizeof(current),
						 "%s: outer IPv%d, inner IPv%d, value %zu", c->name,
						 families[o], families[i], v);
					build(c, families[o], families[i], v, &f);
					expect(c, &f);
				}
			}
		snprintf(current, sizeof(current), "%s: the row's totals", c->name);
		assert_int_equal(sent, c->packets ?: 1);
		fx_decap_counters(&D, after);
		fx_assert_deltas(before, after, XLB_DECAP_STAT_MAX, stat_names, total);
	}
	current[0] = 0;
}

/* ---- how rows break their frames ---- */

/* The outer IPv4 header, copied out of the frame (it is not aligned there). */
static struct iphdr outer4(const struct frame *f)
{
	struct iphdr ip;

	memcpy(&ip, f->in + f->l3, sizeof(ip));
	return ip;
}

static __u8 *inner_hdr(struct frame *f)
{
	return f->in + f->l3 + f->outer_len;
}

/* Write back a header a row broke a field of, with its checksum set again. */
static void outer4_set(struct frame *f, const struct iphdr *ip)
{
	memcpy(f->in + f->l3, ip, sizeof(*ip));
	ipv4_csum_set(f->in + f->l3, f->outer_len);
}

static void outer4_version5(struct frame *f)
{
	struct iphdr ip = outer4(f);

	ip.version = 5;
	outer4_set(f, &ip);
}

static void outer4_ihl4(struct frame *f)
{
	struct iphdr ip = outer4(f);

	ip.ihl = 4;
	outer4_set(f, &ip);
}

static void outer4_len_below_ihl(struct frame *f)
{
	struct iphdr ip = outer4(f);

	ip.tot_len = htons(19);
	outer4_set(f, &ip);
}

static void outer4_len_beyond_frame(struct frame *f)
{
	struct iphdr ip = outer4(f);

	ip.tot_len = htons(f->in_len - f->l3 + 1);
	outer4_set(f, &ip);
}

static void outer4_bad_checksum(struct frame *f)
{
	f->in[f->l3 + offsetof(struct iphdr, check)] ^= 0x01;
}

static void outer6_version4(struct frame *f)
{
	f->in[f->l3] = 0x40;
}

static void outer6_len_beyond_frame(struct frame *f)
{
	pkt_put16(f->in + f->l3 + 4, f->in_len - f->l3 - 40 + 1);
}

static void inner4_ihl4(struct frame *f)
{
	inner_hdr(f)[0] = 0x44;
}

static void inner4_len_below_ihl(struct frame *f)
{
	pkt_put16(inner_hdr(f) + 2, 19);
}

static void inner4_len_beyond_outer(struct frame *f)
{
	pkt_put16(inner_hdr(f) + 2, f->want_len - f->l3 + 1);
}

static void inner6_len_beyond_outer(struct frame *f)
{
	pkt_put16(inner_hdr(f) + 4, f->want_len - f->l3 - 40 + 1);
}

/* A hop-by-hop header between the outer IPv6 header and the tunnel. */
static void ext_header_before_tunnel(struct frame *f)
{
	__u8 *l3 = f->in + f->l3;

	memmove(l3 + 48, l3 + 40, f->in_len - f->l3 - 40);
	memset(l3 + 40, 0, 8);
	l3[40] = IPPROTO_IPIP; /* next is IPIP */
	l3[42] = 1;            /* PadN, 4 bytes */
	l3[43] = 4;
	l3[6] = 0;             /* hop-by-hop */
	pkt_put16(l3 + 4, f->in_len - f->l3 - 40 + 8);
	f->in_len += 8;
}

/* The plain IPv4 packet says 4 bytes fewer: those are its own padding. */
static void inner4_says_4_fewer(struct frame *f)
{
	pkt_put16(f->want + f->l3 + 2, f->want_len - f->l3 - 4);
	ipv4_csum_set(f->want + f->l3, 20);
}

/* ---- the cases ---- */

#define NOT_ENCAP .want = UNTOUCHED, .stat = XLB_DECAP_STAT_PASS_NOT_ENCAP
#define FOREIGN .want = UNTOUCHED, .stat = XLB_DECAP_STAT_PASS_FOREIGN_SOURCE
#define NOT_VIP .want = UNTOUCHED, .stat = XLB_DECAP_STAT_PASS_NOT_VIP
#define FRAGMENT .want = UNTOUCHED, .stat = XLB_DECAP_STAT_PASS_FRAGMENT
#define MALFORMED .want = DROPPED, .stat = XLB_DECAP_STAT_DROP_MALFORMED

static const struct decap_case cases[] = {
	/* decapsulation; UDP, ICMP and full-size payloads: the inner packet is never looked into */
	{ "ipip", .outer = 4, .inner = 4, .tunnel_proto = IPPROTO_IPIP,
	  .want_len = ETH_HLEN + 20 + 20 + 10 },
	{ "ipip_udp_1400", .outer = 4, .inner = 4, .proto = IPPROTO_UDP, .payload = 1400 },
	{ "ipip_icmp", .outer = 4, .inner = 4, .proto = IPPROTO_ICMP, .payload = 56 },
	{ "ip6ip6", .outer = 6, .inner = 6, .tunnel_proto = IPPROTO_IPV6,
	  .want_len = ETH_HLEN + 40 + 20 + 10 },
	{ "ip6ip6_udp_1400", .outer = 6, .inner = 6, .proto = IPPROTO_UDP, .payload = 1400 },
	{ "4in6", .outer = 6, .inner = 4, .tunnel_proto = IPPROTO_IPIP },
	{ "6in4", .outer = 4, .inner = 6, .tunnel_proto = IPPROTO_IPV6 },
	/* tags and their TPIDs stay as they were; only the innermost ethertype changes */
	{ "vlan_8021q", .nvlan = 1, .packets = 4 },
	{ "vlan_8021ad_8021q", .nvlan = 2, .tpid0 = ETH_P_8021AD, .packets = 4 },
	{ "vlan_third_tag_not_parsed", .outer = 4, .inner = 4, .nvlan = 3, NOT_ENCAP },
	{ "outer_options", .outer = 4, .sweep = OUTER_OPTIONS, .packets = 20 },
	{ "outer_options_one_tag", .outer = 4, .nvlan = 1, .sweep = OUTER_OPTIONS, .packets = 20 },
	{ "outer_options_two_tags", .outer = 4, .nvlan = 2, .sweep = OUTER_OPTIONS, .packets = 20 },
	/* inner options and extension headers are payload to us: kept as they are */
	{ "inner_options_kept", .outer = 4, .inner = 4, .ip_opt_words = 3 },
	{ "inner_ext_headers_kept", .outer = 6, .inner = 6, .ext_hdrs = 2 },
	/* bytes after the outer IP packet (Ethernet padding) are cut */
	{ "padding_trimmed", .payload = EMPTY, .sweep = PADDING, .packets = 20 },
	{ "padding_trimmed_one_tag", .payload = EMPTY, .nvlan = 1, .sweep = PADDING,
	  .packets = 20 },
	{ "padding_trimmed_two_tags", .payload = EMPTY, .nvlan = 2, .sweep = PADDING,
	  .packets = 20 },
	/* any address in a configured prefix is a load balancer; the next one is not */
	{ "source_v4_prefix_first", .outer = 4, .inner = 4, .outer_saddr = "198.18.0.0" },
	{ "source_v4_prefix_last", .outer = 4, .inner = 4, .outer_saddr = "198.18.0.255" },
	{ "source_v6_prefix_first", .outer = 6, .inner = 4, .outer_saddr = "2001:db8:1::" },
	{ "source_v6_prefix_last", .outer = 6, .inner = 4,
	  .outer_saddr = "2001:db8:1:ffff:ffff:ffff:ffff:ffff" },
	{ "source_below_v4_prefix", .outer = 4, .inner = 6, .outer_saddr = "198.17.255.255",
	  FOREIGN },
	{ "source_above_v4_prefix", .outer = 4, .inner = 6, .outer_saddr = "198.18.1.0", FOREIGN },
	{ "source_below_v6_prefix", .outer = 6, .inner = 6, .outer_saddr = "2001:db8:0:ffff::1",
	  FOREIGN },
	{ "source_above_v6_prefix", .outer = 6, .inner = 6, .outer_saddr = "2001:db8:2::",
	  FOREIGN },
	/* a v4-mapped IPv6 source is not the IPv4 address */
	{ "source_v4_mapped_not_v4", .outer = 6, .inner = 6, .outer_saddr = "::ffff:198.18.0.1",
	  FOREIGN },

	/* what is not ours */
	{ "foreign_source_v4", .outer = 4, .outer_saddr = FOREIGN4, FOREIGN, .packets = 2 },
	{ "foreign_source_v6", .outer = 6, .outer_saddr = FOREIGN6, FOREIGN, .packets = 2 },
	/* malformed too, but not from a load balancer: still not ours */
	{ "foreign_source_v4_malformed", .outer = 4, .outer_saddr = FOREIGN4, .inner_len = 5,
	  FOREIGN, .packets = 2 },
	{ "foreign_source_v6_malformed", .outer = 6, .outer_saddr = FOREIGN6, .inner_len = 5,
	  FOREIGN, .packets = 2 },
	{ "not_vip_v4", .inner = 4, .daddr = "198.18.100.11", NOT_VIP, .packets = 2 },
	{ "not_vip_v6", .inner = 6, .daddr = "2001:db8:100::11", NOT_VIP, .packets = 2 },
	/* the outer destination being a VIP does not make the inner one */
	{ "not_vip_outer_is_vip", .outer = 4, .inner = 4, .daddr = BACKEND4, .outer_daddr = VIP4,
	  NOT_VIP },
	/* nor does a v4-mapped inner destination make an IPv4 VIP */
	{ "not_vip_v4_mapped", .outer = 6, .inner = 6, .daddr = "::ffff:" VIP4, NOT_VIP },
	/* the host's own traffic, even from a load balancer address to a VIP */
	{ "plain_v4_from_lb", .plain = 1, .outer = 4, .inner = 4, .saddr = LB4, NOT_ENCAP },
	{ "plain_v6_from_lb", .plain = 1, .outer = 6, .inner = 6, .saddr = LB6, NOT_ENCAP },
	{ "plain_udp_tagged", .plain = 1, .outer = 4, .inner = 4, .saddr = LB4,
	  .proto = IPPROTO_UDP, .nvlan = 1, NOT_ENCAP },
	{ "plain_arp", .plain = 1, .outer = 4, .inner = 4, .saddr = LB4, .proto = IPPROTO_UDP,
	  .nvlan = 1, .ether_type = ETH_P_ARP, NOT_ENCAP },
	/* too short for an Ethernet header, a tag or an IP header */
	{ "short_for_ethernet", .plain = 1, .outer = 4, .inner = 4, .saddr = LB4,
	  .proto = IPPROTO_UDP, .nvlan = 1, .ether_type = ETH_P_ARP, .frame_len = ETH_HLEN,
	  NOT_ENCAP },
	{ "short_for_tag", .plain = 1, .outer = 4, .inner = 4, .saddr = LB4, .proto = IPPROTO_UDP,
	  .nvlan = 1, .frame_len = ETH_HLEN + 2, NOT_ENCAP },
	{ "short_for_ip", .plain = 1, .outer = 4, .inner = 4, .saddr = LB4, .proto = IPPROTO_UDP,
	  .nvlan = 1, .frame_len = ETH_HLEN + 4 + 19, NOT_ENCAP },
	/* IPv6 with an extension header before the tunnel: not what a load balancer sends */
	{ "ext_header_before_tunnel", .outer = 6, .inner = 4, .mutate = ext_header_before_tunnel,
	  NOT_ENCAP },
	/* GRE from a load balancer: another protocol */
	{ "gre", .outer = 4, .inner = 4, .outer_proto = 47, NOT_ENCAP },
	{ "outer_first_fragment", .outer = 4, .inner = 4, .frag_off = 0x2000, FRAGMENT },
	{ "outer_fragment_offset_1", .outer = 4, .inner = 4, .frag_off = 0x0001, FRAGMENT },
	{ "outer_last_fragment", .outer = 4, .inner = 4, .frag_off = 185, FRAGMENT },
	{ "outer_middle_fragment", .outer = 4, .inner = 4, .frag_off = 0x2000 | 185, FRAGMENT },
	{ "outer_fragment_with_df", .outer = 4, .inner = 4, .frag_off = 0x4000 | 0x0002,
	  FRAGMENT },
	{ "outer_df_not_fragment", .outer = 4, .inner = 4, .frag_off = 0x4000 },

	/*
	 * Malformed, from a load balancer. Every cut between the end of the
	 * outer header and the end of the inner one (IPv4: after its options).
	 */
	{ "cut_frame_4in4", .outer = 4, .inner = 4, .ip_opt_words = 2, .sweep = FRAME_CUT,
	  MALFORMED, .packets = 28 },
	{ "cut_frame_6in4", .outer = 4, .inner = 6, .nvlan = 1, .sweep = FRAME_CUT, MALFORMED,
	  .packets = 40 },
	{ "cut_frame_4in6", .outer = 6, .inner = 4, .ip_opt_words = 2, .nvlan = 1,
	  .sweep = FRAME_CUT, MALFORMED, .packets = 28 },
	{ "cut_frame_6in6", .outer = 6, .inner = 6, .sweep = FRAME_CUT, MALFORMED,
	  .packets = 40 },
	{ "cut_inner_4in4", .outer = 4, .inner = 4, .ip_opt_words = 2, .sweep = INNER_CUT,
	  MALFORMED, .packets = 28 },
	{ "cut_inner_6in4", .outer = 4, .inner = 6, .nvlan = 1, .sweep = INNER_CUT, MALFORMED,
	  .packets = 40 },
	{ "cut_inner_4in6", .outer = 6, .inner = 4, .ip_opt_words = 2, .nvlan = 1,
	  .sweep = INNER_CUT, MALFORMED, .packets = 28 },
	{ "cut_inner_6in6", .outer = 6, .inner = 6, .sweep = INNER_CUT, MALFORMED,
	  .packets = 40 },
	/* the inner packet is not of the family the outer protocol names */
	{ "ipip_carrying_ipv6", .outer = 4, .inner = 6, .outer_proto = IPPROTO_IPIP, MALFORMED },
	{ "ipv6_proto_carrying_ipv4", .outer = 4, .inner = 4, .outer_proto = IPPROTO_IPV6,
	  MALFORMED },
	{ "ipip6_carrying_ipv6", .outer = 6, .inner = 6, .outer_proto = IPPROTO_IPIP, MALFORMED },
	{ "ip6ip6_carrying_ipv4", .outer = 6, .inner = 4, .outer_proto = IPPROTO_IPV6,
	  MALFORMED },
	{ "outer4_version_5", .outer = 4, .inner = 4, .mutate = outer4_version5, MALFORMED },
	{ "outer4_ihl_4", .outer = 4, .inner = 4, .mutate = outer4_ihl4, MALFORMED },
	{ "outer4_len_below_ihl", .outer = 4, .inner = 4, .mutate = outer4_len_below_ihl,
	  MALFORMED },
	{ "outer4_len_beyond_frame", .outer = 4, .inner = 4, .mutate = outer4_len_beyond_frame,
	  MALFORMED },
	{ "outer4_options_beyond_frame", .outer = 4, .inner = 4, .outer_opt_words = 10,
	  .inner_len = EMPTY, .frame_len = ETH_HLEN + 40, MALFORMED },
	{ "outer4_bad_checksum", .outer = 4, .inner = 4, .mutate = outer4_bad_checksum,
	  MALFORMED },
	{ "outer6_version_4", .outer = 6, .inner = 4, .mutate = outer6_version4, MALFORMED },
	{ "outer6_len_beyond_frame", .outer = 6, .inner = 4, .mutate = outer6_len_beyond_frame,
	  MALFORMED },
	{ "inner4_ihl_4", .outer = 6, .inner = 4, .mutate = inner4_ihl4, MALFORMED },
	{ "inner4_len_below_ihl", .outer = 6, .inner = 4, .mutate = inner4_len_below_ihl,
	  MALFORMED },
	{ "inner4_len_beyond_outer", .outer = 4, .inner = 4, .mutate = inner4_len_beyond_outer,
	  MALFORMED },
	/* even with padding after it */
	{ "inner6_len_beyond_outer", .outer = 4, .inner = 6, .pad = 4,
	  .mutate = inner6_len_beyond_outer, MALFORMED },
	/* an inner packet shorter than the outer header carries is passed whole, as the kernel would */
	{ "inner_shorter_than_outer_payload", .outer = 4, .inner = 4, .payload = 8,
	  .prepare = inner4_says_4_fewer },

	/* RFC 6040: a CE mark on the outer header reaches the inner one, or the packet is dropped */
	{ "ecn_ce_onto_ect0_v4", .outer = 4, .inner = 4, .tos = 0x02, .outer_tos = 0x03,
	  .want_tos = 0x03 },
	{ "ecn_ce_onto_ect0_v6", .outer = 6, .inner = 6, .tos = 0x02, .outer_tos = 0x03,
	  .want_tos = 0x03 },
	{ "ecn_ce_onto_ce_v4", .outer = 4, .inner = 4, .tos = 0x03, .outer_tos = 0x03 },
	{ "ecn_ce_onto_ce_v6", .outer = 6, .inner = 6, .tos = 0x03, .outer_tos = 0x03 },
	/* not ECN-capable inside: dropped, as congestion is told to such a flow */
	{ "ecn_ce_onto_not_ect_v4", .outer = 4, .inner = 4, .outer_tos = 0x03, .want = DROPPED,
	  .stat = XLB_DECAP_STAT_DROP_ECN },
	{ "ecn_ce_onto_not_ect_v6", .outer = 6, .inner = 6, .outer_tos = 0x03, .want = DROPPED,
	  .stat = XLB_DECAP_STAT_DROP_ECN },
	{ "ecn_no_ce_v4", .outer = 4, .inner = 4, .outer_tos = 0x02 },
	{ "ecn_no_ce_v6", .outer = 6, .inner = 6, .outer_tos = 0x02 },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* One row, on a freshly loaded program. */
static void test_case(void **state)
{
	__u64 got[XLB_DECAP_STAT_MAX], zero[XLB_DECAP_STAT_MAX] = {};

	fx_decap_counters(&D, got);
	fx_assert_counters(got, zero, XLB_DECAP_STAT_MAX, stat_names);
	run_rows(*state, 1);
}

/* A mix of outcomes, one after another: the counters add up, every one of them. */
static void test_counters_exact(void **state)
{
	static const struct decap_case mix[] = {
		{ "decap_4in4", .outer = 4, .inner = 4 },
		{ "decap_6in6", .outer = 6, .inner = 6 },
		{ "decap_4in6_padded", .outer = 6, .inner = 4, .pad = 7 },
		{ "plain_v4", .plain = 1, .outer = 4, .inner = 4, NOT_ENCAP },
		{ "plain_v6", .plain = 1, .outer = 6, .inner = 6, NOT_ENCAP },
		{ "fragment", .outer = 4, .inner = 4, .frag_off = 0x2000, FRAGMENT },
		{ "foreign", .outer = 6, .inner = 4, .outer_saddr = FOREIGN6, FOREIGN },
		{ "not_vip", .outer = 4, .inner = 4, .daddr = "198.18.100.99", NOT_VIP },
		{ "cut_by_one", .outer = 4, .inner = 6, .trim = 1, MALFORMED },
		{ "cut_after_outer", .outer = 4, .inner = 6, .frame_len = ETH_HLEN + 20, MALFORMED },
	};
	__u64 want[XLB_DECAP_STAT_MAX] = {}, got[XLB_DECAP_STAT_MAX];
	__u32 i;

	(void)state;
	for (i = 0; i < XLB_DECAP_STAT_MAX; i++)
		assert_non_null(stat_names[i]);
	fx_decap_counters(&D, got);
	fx_assert_counters(got, want, XLB_DECAP_STAT_MAX, stat_names);
	run_rows(mix, sizeof(mix) / sizeof(mix[0]));
	want[XLB_DECAP_STAT_DECAP] = 3;
	want[XLB_DECAP_STAT_PASS_NOT_ENCAP] = 2;
	want[XLB_DECAP_STAT_PASS_FRAGMENT] = 1;
	want[XLB_DECAP_STAT_PASS_FOREIGN_SOURCE] = 1;
	want[XLB_DECAP_STAT_PASS_NOT_VIP] = 1;
	want[XLB_DECAP_STAT_DROP_MALFORMED] = 2;
	fx_decap_counters(&D, got);
	fx_assert_counters(got, want, XLB_DECAP_STAT_MAX, stat_names);
}

int main(void)
{
	struct CMUnitTest tests[NCASES + 1];
	size_t i;

	for (i = 0; i < NCASES; i++)
		tests[i] = (struct CMUnitTest){ cases[i].name, test_case, setup, teardown,
						(void *)&cases[i] };
	tests[NCASES] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_counters_exact,
									   setup, teardown);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests_name("decap", tests, NULL, NULL);
}
