/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Counter checks for packet tests of the xlb program; include after
 * cmocka.h and user/dataplane.h.
 */
#ifndef XLB_TEST_CHECK_H
#define XLB_TEST_CHECK_H

static inline __u64 xlb_check_stat(struct xlb_dp *dp, enum xlb_stat reason)
{
	__u64 all[XLB_STAT_MAX];

	assert_int_equal(xlb_dp_stats(dp, all), 0);
	return all[reason];
}

/* On a wrong verdict, show the counters: they say why. */
static inline void xlb_check_verdict(struct xlb_dp *dp, int got, int want)
{
	__u64 all[XLB_STAT_MAX];
	__u32 i;

	if (got == want)
		return;
	if (!xlb_dp_stats(dp, all))
		for (i = 0; i < XLB_STAT_MAX; i++)
			if (all[i])
				print_message("# counter %s = %llu\n", xlb_stat_names[i],
					      (unsigned long long)all[i]);
	fail_msg("verdict %d, want %d", got, want);
}

#endif /* XLB_TEST_CHECK_H */
