/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fixture's calls that must succeed, as cmocka assertions, and the
 * comparisons the packet tests share: exact bytes, exact counters.
 * Include after cmocka.h.
 */
#ifndef XLB_TEST_FIXTURE_ASSERT_H
#define XLB_TEST_FIXTURE_ASSERT_H

#include <stdio.h>
#include <string.h>
#include "fixture.h"
#include "pkt.h"

/* The test file's fixture, fresh for each test: fx_setup and fx_teardown. */
static struct xlb_fixture F __attribute__((unused));

static int __attribute__((unused)) fx_setup(void **state)
{
	(void)state;
	return fixture_open(&F) ? -1 : 0;
}

static int __attribute__((unused)) fx_teardown(void **state)
{
	(void)state;
	fixture_close(&F);
	return 0;
}

static inline struct vip_key fx_vip(struct xlb_fixture *f, const char *addr, __u16 port,
				    __u8 proto, __u8 sched, __u8 forward)
{
	struct vip_key k;

	assert_true(fixture_vip_add(f, addr, port, proto, sched, forward, &k) >= 0);
	return k;
}

static inline __u32 fx_backend(struct xlb_fixture *f, const struct vip_key *k, const char *addr,
			       __u8 mac_last, __u32 ifindex)
{
	int id = fixture_backend_add(f, k, addr, mac_last, ifindex);

	assert_true(id > 0);
	return id;
}

static inline struct xlb_lb_backend *fx_backend_find(struct xlb_fixture *f,
						     const struct vip_key *k, const char *addr)
{
	struct xlb_lb_backend *b = fixture_backend_find(f, k, addr);

	assert_non_null(b);
	return b;
}

static inline void fx_backend_state(struct xlb_fixture *f, const struct vip_key *k,
				    const char *addr, __u32 state)
{
	assert_int_equal(fixture_backend_state(f, k, addr, state), 0);
}

static inline void fx_backend_del(struct xlb_fixture *f, const struct vip_key *k,
				  const char *addr)
{
	assert_int_equal(fixture_backend_del(f, k, addr), 0);
}

static inline void fx_encap_set(struct xlb_fixture *f, const char *v4, const char *v6)
{
	assert_int_equal(fixture_encap_set(f, v4, v6), 0);
}

static inline void fx_counters(struct xlb_fixture *f, __u64 out[XLB_STAT_MAX])
{
	assert_int_equal(fixture_counters(f, out), 0);
}

static inline struct traffic_stats fx_vip_traffic(struct xlb_fixture *f, const struct vip_key *k)
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(f->lb, k);
	struct traffic_stats ts;

	assert_non_null(vip);
	assert_int_equal(xlb_dp_vip_stats(&f->dp, vip->id, &ts), 0);
	return ts;
}

/* ---- comparisons ---- */

static inline void fx_assert_bytes(const __u8 *got, size_t got_len, const __u8 *want,
				   size_t want_len)
{
	size_t i;

	assert_int_equal(got_len, want_len);
	for (i = 0; i < want_len; i++)
		if (got[i] != want[i])
			fail_msg("first difference at byte %zu: got %02x want %02x", i, got[i],
				 want[i]);
}

/* Every one of n counters as wanted; names them, all, when not. */
static inline void fx_assert_counters(const __u64 *got, const __u64 *want, size_t n,
				      const char *const names[])
{
	size_t i, wrong = 0;

	for (i = 0; i < n; i++)
		if (got[i] != want[i]) {
			print_message("# counter %s: got %llu, want %llu\n", names[i],
				      (unsigned long long)got[i], (unsigned long long)want[i]);
			wrong++;
		}
	if (wrong)
		fail_msg("%zu counters wrong", wrong);
}

/* Counters that move by n; every other one must stay. */
struct fx_delta {
	unsigned int stat;
	__u64 n;
};

#define FX_DELTAS_MAX 4

static inline void fx_assert_deltas(const __u64 *before, const __u64 *after, size_t n,
				    const char *const names[], const struct fx_delta *d)
{
	__u64 want[64];
	size_t i;

	assert_true(n <= sizeof(want) / sizeof(want[0]));
	memcpy(want, before, n * sizeof(*want));
	for (i = 0; i < FX_DELTAS_MAX && d[i].n; i++) {
		assert_true(d[i].stat < n);
		want[d[i].stat] += d[i].n;
	}
	fx_assert_counters(after, want, n, names);
}

#endif /* XLB_TEST_FIXTURE_ASSERT_H */
