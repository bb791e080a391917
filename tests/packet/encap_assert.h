/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The forward-ipip tests' (test_encap, test_icmp_route) setup and the
 * calls they share, asserting: encap_net.h's network around
 * fixture_assert.h's fixture. Include after cmocka.h and user/lib/dataplane.h.
 */
#ifndef XLB_TEST_ENCAP_ASSERT_H
#define XLB_TEST_ENCAP_ASSERT_H

#include <arpa/inet.h>
#include "encap_net.h"
#include "fixture_assert.h"
#include "xlb_check.h"

static int __attribute__((unused)) encap_group_setup(void **state)
{
	(void)state;
	return encap_net_setup();
}

static int __attribute__((unused)) encap_setup(void **state)
{
	if (fx_setup(state) || encap_net_fixture(&F))
		return -1;
	return 0;
}

static inline int run(const __u8 *in, size_t len, __u8 *out, __u32 *out_len)
{
	return fixture_run(&F, in, len, out, out_len);
}

static inline __u64 stat(enum xlb_stat reason)
{
	return xlb_check_stat(&F.dp, reason);
}

static inline void assert_verdict(int got, int want)
{
	xlb_check_verdict(&F.dp, got, want);
}

static inline struct vip_key add_vip(const char *addr, __u16 port, __u8 forward)
{
	return fx_vip(&F, addr, port, IPPROTO_TCP, XLB_SCHED_MAGLEV, forward);
}

static inline void add_backend(const struct vip_key *k, const char *addr, __u8 mac_last)
{
	fx_backend(&F, k, addr, mac_last, FIXTURE_LO);
}

static inline void parse16(const char *s, __be32 out[4])
{
	assert_int_equal(addr_parse16(s, out), 0);
}

/* Checksums by the test's own RFC 1071 sum (pkt.c), not by the code under test. */
static inline __u32 sum16(__u32 sum, const __u8 *p, size_t len)
{
	return pkt_csum_add(sum, p, len);
}

static inline __u16 fold(__u32 sum)
{
	return ntohs(pkt_csum_fold(sum));
}

#endif /* XLB_TEST_ENCAP_ASSERT_H */
