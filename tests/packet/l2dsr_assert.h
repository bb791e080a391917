/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The L2 DSR packet tests' (test_packets, test_headers) clients, VIPs and
 * the checks they share, asserting: a packet forwarded with only its MACs
 * rewritten, one left untouched, one dropped and counted, and the backend
 * the Maglev table names, computed here. Include after cmocka.h and
 * user/lib/dataplane.h.
 */
#ifndef XLB_TEST_L2DSR_ASSERT_H
#define XLB_TEST_L2DSR_ASSERT_H

#include <arpa/inet.h>
#include "../../bpf/hash.h"
#include "fixture_assert.h"
#include "xlb_check.h"

#define VIP4 "198.18.100.10"
#define VIP6 "2001:db8:100::10"
#define CLIENT4 "198.18.0.1"
#define CLIENT6 "2001:db8::1"
#define CLIENT_MAC_LAST 0x01

static inline int run(const __u8 *in, size_t len, __u8 *out, __u32 *out_len)
{
	return fixture_run(&F, in, len, out, out_len);
}

static inline struct vip_key add_vip(const char *addr, __u16 port, __u8 proto, __u8 sched)
{
	return fx_vip(&F, addr, port, proto, sched, XLB_FWD_L2DSR);
}

static inline __u32 add_backend(const struct vip_key *k, const char *addr, __u8 mac_last)
{
	return fx_backend(&F, k, addr, mac_last, FIXTURE_LO);
}

static inline struct pkt_spec tcp4(__u16 sport, __u8 flags)
{
	struct pkt_spec s = {
		.family = 4, .proto = IPPROTO_TCP, .saddr = CLIENT4, .daddr = VIP4,
		.sport = sport, .dport = 80, .tcp_flags = flags, .payload = 10,
	};

	mac_set(s.smac, CLIENT_MAC_LAST);
	mac_set(s.dmac, FIXTURE_LB_MAC);
	return s;
}

static inline struct pkt_spec tcp6(__u16 sport, __u8 flags)
{
	struct pkt_spec s = tcp4(sport, flags);

	s.family = 6;
	s.saddr = CLIENT6;
	s.daddr = VIP6;
	return s;
}

static inline __u64 stat(enum xlb_stat reason)
{
	return xlb_check_stat(&F.dp, reason);
}

static inline void assert_verdict(int got, int want)
{
	xlb_check_verdict(&F.dp, got, want);
}

/*
 * Send s; expect XDP_TX with the output equal to the input but for the
 * two MACs. Returns the last byte of the backend MAC it went to.
 */
static inline __u8 expect_tx(const struct pkt_spec *s)
{
	__u8 in[PKT_MAX], out[PKT_MAX], want_src[6];
	size_t len = pkt_build(s, in);
	__u32 out_len = 0;

	assert_verdict(run(in, len, out, &out_len), XDP_TX);
	assert_int_equal(out_len, len);
	mac_set(want_src, FIXTURE_LB_MAC);
	assert_memory_equal(out + 6, want_src, 6);
	assert_memory_equal(out + 12, in + 12, len - 12);
	/* destination is one of our backends: 02:00:5e:10:00:xx */
	assert_memory_equal(out, want_src, 5);
	return out[5];
}

/* Send s; expect verdict and a byte-identical packet. */
static inline void expect_untouched(const struct pkt_spec *s, int verdict)
{
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(s, in);
	__u32 out_len = 0;

	assert_verdict(run(in, len, out, &out_len), verdict);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, in, len);
}

/* The backend the Maglev table names for this flow: computed here, independently. */
static inline __u32 table_pick(const struct vip_key *k, const struct pkt_spec *s,
			       int src_only)
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(F.lb, k);
	static __u32 table[XLB_MAGLEV_SIZE];
	__be32 sa[4], da[4];
	__u32 h;

	assert_non_null(vip);
	assert_int_equal(xlb_dp_table_get(&F.dp, vip->id, table), 0);
	addr_parse16(s->saddr, sa);
	addr_parse16(s->daddr, da);
	h = src_only ? xlb_hash_addr(sa) :
		       xlb_hash_flow(sa, da, htons(s->sport), htons(s->dport), s->proto);
	return table[h % XLB_MAGLEV_SIZE];
}

static inline __u8 mac_of_id(const struct vip_key *k, __u32 id)
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(F.lb, k);
	__u32 i;

	for (i = 0; i < vip->nbackends; i++)
		if (vip->backends[i].id == id)
			return vip->backends[i].spec.mac[5];
	fail_msg("backend id %u not in VIP", id);
	return 0;
}

static inline struct vip_key vip4_with_3(void)
{
	struct vip_key k = add_vip(VIP4, 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);

	add_backend(&k, "198.18.0.11", 0x11);
	add_backend(&k, "198.18.0.12", 0x12);
	add_backend(&k, "198.18.0.13", 0x13);
	return k;
}


static inline void expect_drop(__u8 *pkt, size_t len, enum xlb_stat reason)
{
	__u8 out[PKT_MAX];
	__u64 before = stat(reason);

	assert_verdict(run(pkt, len, out, NULL), XDP_DROP);
	assert_int_equal(stat(reason), before + 1);
}

#endif /* XLB_TEST_L2DSR_ASSERT_H */
