// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for weighted Maglev table population (user/maglev.c).
 *
 * Figures are printed as "# ..." lines so they stay TAP comments when run
 * with CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "rotation.h"

#define TABLE_SIZE	65537u
#define MAX_BACKENDS	1000u

/* Backend i (0-based) is ::ffff:198.18.x.y with x.y = i + 1, so key order == i order. */
static void make_key(__u32 i, __u8 key[16])
{
	__u32 a = i + 1;

	memset(key, 0, 16);
	key[10] = 0xff;
	key[11] = 0xff;
	key[12] = 198;
	key[13] = 18;
	key[14] = (__u8)(a >> 8);
	key[15] = (__u8)a;
}

static struct maglev_backend *make_backends(__u32 n, __u32 weight)
{
	struct maglev_backend *b = calloc(n ? n : 1, sizeof(*b));
	__u32 i;

	assert_non_null(b);
	for (i = 0; i < n; i++) {
		make_key(i, b[i].key);
		b[i].weight = weight;
	}
	return b;
}

static __u32 *alloc_table(__u32 size)
{
	__u32 *t = malloc((size_t)size * sizeof(*t));

	assert_non_null(t);
	return t;
}

/* Slot counts per backend index; every slot must hold a valid index. */
static __u32 *count_slots(const __u32 *table, __u32 size, __u32 n)
{
	__u32 *cnt = calloc(n ? n : 1, sizeof(*cnt));
	__u32 i;

	assert_non_null(cnt);
	for (i = 0; i < size; i++) {
		assert_true(table[i] < n);
		cnt[table[i]]++;
	}
	return cnt;
}

/* Deterministic shuffle; independent of libc's rand(). */
static __u64 xorshift64(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void shuffle(struct maglev_backend *b, __u32 n, __u64 seed)
{
	__u32 i;

	for (i = n; i > 1; i--) {
		__u32 j = (__u32)(xorshift64(&seed) % i);
		struct maglev_backend tmp = b[i - 1];

		b[i - 1] = b[j];
		b[j] = tmp;
	}
}

/* ---- equal weights: each share within 1% (relative) of 1/N ---- */

static void check_equal_shares(__u32 n)
{
	struct maglev_backend *b = make_backends(n, 1);
	__u32 *t = alloc_table(TABLE_SIZE), *cnt, i;
	double ideal = 1.0 / n, worst = 0.0;

	assert_int_equal(maglev_build(b, n, TABLE_SIZE, t), 0);
	cnt = count_slots(t, TABLE_SIZE, n);
	for (i = 0; i < n; i++) {
		double share = (double)cnt[i] / TABLE_SIZE;
		double dev = (share > ideal ? share - ideal : ideal - share) / ideal;

		if (dev > worst)
			worst = dev;
	}
	printf("# maglev equal weights N=%u: worst share deviation %.3f%% of 1/N\n",
	       n, worst * 100.0);
	assert_true(worst <= 0.01);
	free(cnt);
	free(t);
	free(b);
}

static void test_equal_weights_n3(void **state) { (void)state; check_equal_shares(3); }
static void test_equal_weights_n10(void **state) { (void)state; check_equal_shares(10); }
static void test_equal_weights_n100(void **state) { (void)state; check_equal_shares(100); }
static void test_equal_weights_n1000(void **state) { (void)state; check_equal_shares(1000); }

/* ---- disruption on removal of one backend ---- */

enum remove_pos { REMOVE_FIRST, REMOVE_MIDDLE, REMOVE_LAST };

static const char *const remove_pos_name[] = { "first", "middle", "last" };

static void check_disruption(__u32 n, enum remove_pos where)
{
	struct maglev_backend *b = make_backends(n, 1);
	struct maglev_backend *b2 = make_backends(n, 1);
	__u32 *t1 = alloc_table(TABLE_SIZE), *t2 = alloc_table(TABLE_SIZE);
	__u32 victim, i, j, changed = 0;
	__u8 gone[16];
	double pct;

	/* make_backends() yields sorted key order, so positions map directly. */
	victim = where == REMOVE_FIRST ? 0 : where == REMOVE_MIDDLE ? n / 2 : n - 1;
	memcpy(gone, b[victim].key, sizeof(gone));
	for (i = 0, j = 0; i < n; i++)
		if (i != victim)
			b2[j++] = b[i];

	assert_int_equal(maglev_build(b, n, TABLE_SIZE, t1), 0);
	assert_int_equal(maglev_build(b2, n - 1, TABLE_SIZE, t2), 0);

	/* Compare by key: indexes after the victim shift down by one. */
	for (i = 0; i < TABLE_SIZE; i++) {
		const __u8 *old_key = b[t1[i]].key;

		assert_true(t2[i] < n - 1);
		/* The removed key must vanish entirely. */
		assert_memory_not_equal(b2[t2[i]].key, gone, 16);
		if (!memcmp(old_key, gone, 16))
			continue;
		if (memcmp(old_key, b2[t2[i]].key, 16))
			changed++;
	}
	pct = 100.0 * changed / TABLE_SIZE;
	printf("# maglev disruption N=%u remove=%s: %.2f%% of slots (%u)\n",
	       n, remove_pos_name[where], pct, changed);
	assert_true(pct < 2.0);
	free(t1);
	free(t2);
	free(b);
	free(b2);
}

#define DISRUPTION_TEST(n, pos, tag)					\
static void test_disruption_n##n##_##tag(void **state)			\
{									\
	(void)state;							\
	check_disruption(n, pos);					\
}

DISRUPTION_TEST(10, REMOVE_FIRST, first)
DISRUPTION_TEST(10, REMOVE_MIDDLE, middle)
DISRUPTION_TEST(10, REMOVE_LAST, last)
DISRUPTION_TEST(100, REMOVE_FIRST, first)
DISRUPTION_TEST(100, REMOVE_MIDDLE, middle)
DISRUPTION_TEST(100, REMOVE_LAST, last)
DISRUPTION_TEST(1000, REMOVE_FIRST, first)
DISRUPTION_TEST(1000, REMOVE_MIDDLE, middle)
DISRUPTION_TEST(1000, REMOVE_LAST, last)

/* ---- weights: each share within 2% (relative) of weight / sum ---- */

static void check_weights(const char *name, const __u32 *w, __u32 n)
{
	struct maglev_backend *b = make_backends(n, 0);
	__u32 *t = alloc_table(TABLE_SIZE), *cnt, i;
	double sum = 0.0, worst = 0.0;

	for (i = 0; i < n; i++) {
		b[i].weight = w[i];
		sum += w[i];
	}
	assert_int_equal(maglev_build(b, n, TABLE_SIZE, t), 0);
	cnt = count_slots(t, TABLE_SIZE, n);
	for (i = 0; i < n; i++) {
		double ideal = w[i] / sum;
		double share = (double)cnt[i] / TABLE_SIZE;
		double dev;

		if (!w[i]) {
			assert_int_equal(cnt[i], 0);
			continue;
		}
		dev = (share > ideal ? share - ideal : ideal - share) / ideal;
		if (dev > worst)
			worst = dev;
	}
	printf("# maglev weights %s: worst share error %.3f%% of weight/sum\n",
	       name, worst * 100.0);
	assert_true(worst <= 0.02);
	free(cnt);
	free(t);
	free(b);
}

static void test_weights_1_2_3_4(void **state)
{
	static const __u32 w[] = { 1, 2, 3, 4 };

	(void)state;
	check_weights("1,2,3,4", w, 4);
}

static void test_weights_100_200(void **state)
{
	static const __u32 w[] = { 100, 200 };

	(void)state;
	check_weights("100,200", w, 2);
}

static void test_weights_1_10_100(void **state)
{
	static const __u32 w[] = { 1, 10, 100 };

	(void)state;
	check_weights("1,10,100", w, 3);
}

/* Weight 0 backends are absent; the others keep their proportions. */
static void test_weights_with_zero(void **state)
{
	static const __u32 w[] = { 3, 0, 1, 0, 2 };

	(void)state;
	check_weights("3,0,1,0,2", w, 5);
}

/* Many backends, mixed weights, large spread. */
static void test_weights_mixed_100(void **state)
{
	__u32 w[100], i;

	(void)state;
	for (i = 0; i < 100; i++)
		w[i] = 1 + i % 5;
	check_weights("100 backends 1..5", w, 100);
}

/* ---- determinism ---- */

/* Key-per-slot view: what the data plane actually sees. */
static void keys_per_slot(const struct maglev_backend *b, const __u32 *t,
			  __u32 size, __u8 (*out)[16])
{
	__u32 i;

	for (i = 0; i < size; i++) {
		if (t[i] == MAGLEV_EMPTY)
			memset(out[i], 0xff, 16);
		else
			memcpy(out[i], b[t[i]].key, 16);
	}
}

static void check_shuffle_invariant(__u32 n, int weighted)
{
	struct maglev_backend *b = make_backends(n, 1);
	__u32 *t = alloc_table(TABLE_SIZE), i;
	__u8 (*ref)[16] = malloc(TABLE_SIZE * sizeof(*ref));
	__u8 (*got)[16] = malloc(TABLE_SIZE * sizeof(*got));
	int round;

	assert_non_null(ref);
	assert_non_null(got);
	if (weighted)
		for (i = 0; i < n; i++)
			b[i].weight = 1 + (i * 7) % 13;

	assert_int_equal(maglev_build(b, n, TABLE_SIZE, t), 0);
	keys_per_slot(b, t, TABLE_SIZE, ref);
	for (round = 0; round < 5; round++) {
		shuffle(b, n, 0x1234567ull + round);
		assert_int_equal(maglev_build(b, n, TABLE_SIZE, t), 0);
		keys_per_slot(b, t, TABLE_SIZE, got);
		assert_memory_equal(ref, got, TABLE_SIZE * sizeof(*ref));
	}
	free(got);
	free(ref);
	free(t);
	free(b);
}

static void test_deterministic_shuffle_equal(void **state)
{
	(void)state;
	check_shuffle_invariant(100, 0);
}

static void test_deterministic_shuffle_weighted(void **state)
{
	(void)state;
	check_shuffle_invariant(100, 1);
}

static __u64 fnv1a64(const void *data, size_t len)
{
	const __u8 *p = data;
	__u64 h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * Regression anchor: FNV-1a 64 of the key-per-slot table for a fixed set of
 * 10 backends. Every host and every version of maglev.c must produce exactly
 * this, or load balancers sharing a backend set would disagree on which
 * backend owns a flow. Only change it with a deliberate, fleet-wide rollout.
 */
#define MAGLEV_GOLDEN_DIGEST	0x602bef16619cceb7ull

static void test_deterministic_golden_digest(void **state)
{
	struct maglev_backend *b = make_backends(10, 1);
	__u32 *t = alloc_table(TABLE_SIZE), i;
	__u8 (*keys)[16] = malloc(TABLE_SIZE * sizeof(*keys));
	__u64 digest;

	(void)state;
	assert_non_null(keys);
	/* Mixed weights so the credit scheme is covered too. */
	for (i = 0; i < 10; i++)
		b[i].weight = 1 + i % 3;
	shuffle(b, 10, 42);
	assert_int_equal(maglev_build(b, 10, TABLE_SIZE, t), 0);
	keys_per_slot(b, t, TABLE_SIZE, keys);
	digest = fnv1a64(keys, TABLE_SIZE * sizeof(*keys));
	printf("# maglev golden digest (10 backends, weights 1..3): 0x%016llx\n",
	       (unsigned long long)digest);
	assert_int_equal(digest, MAGLEV_GOLDEN_DIGEST);
	free(keys);
	free(t);
	free(b);
}

/* ---- edge cases ---- */

/* A build of these n backends leaves every slot empty (and writes them all). */
static void assert_builds_empty(struct maglev_backend *b, __u32 n)
{
	__u32 *t = alloc_table(TABLE_SIZE), i;

	memset(t, 0, TABLE_SIZE * sizeof(*t));
	assert_int_equal(maglev_build(b, n, TABLE_SIZE, t), 0);
	for (i = 0; i < TABLE_SIZE; i++)
		assert_int_equal(t[i], MAGLEV_EMPTY);
	free(t);
}

static void test_no_backends(void **state)
{
	(void)state;
	assert_builds_empty(NULL, 0);
}

static void test_all_weights_zero(void **state)
{
	struct maglev_backend *b = make_backends(10, 0);

	(void)state;
	assert_builds_empty(b, 10);
	free(b);
}

static void test_size_not_prime(void **state)
{
	struct maglev_backend *b = make_backends(3, 1);
	__u32 t[65536];

	(void)state;
	assert_int_equal(maglev_build(b, 3, 65536, t), -EINVAL);
	assert_int_equal(maglev_build(b, 3, 0, t), -EINVAL);
	assert_int_equal(maglev_build(b, 3, 1, t), -EINVAL);
	assert_int_equal(maglev_build(b, 3, 9, t), -EINVAL);
	free(b);
}

static void test_duplicate_key(void **state)
{
	struct maglev_backend *b = make_backends(5, 1);
	__u32 *t = alloc_table(TABLE_SIZE);

	(void)state;
	/* Same key with a different weight is still a duplicate. */
	memcpy(b[3].key, b[1].key, 16);
	b[3].weight = 7;
	memset(t, 0x5a, TABLE_SIZE * sizeof(*t));
	assert_int_equal(maglev_build(b, 5, TABLE_SIZE, t), -EINVAL);
	/* Errors leave the caller's table alone. */
	assert_int_equal(t[0], 0x5a5a5a5a);
	assert_int_equal(t[TABLE_SIZE - 1], 0x5a5a5a5a);
	free(t);
	free(b);
}

static void test_too_many_backends(void **state)
{
	struct maglev_backend *b = make_backends(8, 1);
	__u32 t[7];

	(void)state;
	assert_int_equal(maglev_build(b, 8, 7, t), -EINVAL);
	/* Exactly size backends: each gets one slot. */
	assert_int_equal(maglev_build(b, 7, 7, t), 0);
	{
		__u32 *cnt = count_slots(t, 7, 7), i;

		for (i = 0; i < 7; i++)
			assert_int_equal(cnt[i], 1);
		free(cnt);
	}
	/* Inactive backends do not count against size. */
	b[7].weight = 0;
	b[6].weight = 0;
	assert_int_equal(maglev_build(b, 8, 7, t), 0);
	free(b);
}

static void test_one_backend(void **state)
{
	struct maglev_backend *b = make_backends(3, 0);
	__u32 *t = alloc_table(TABLE_SIZE), i;

	(void)state;
	b[1].weight = 5;
	assert_int_equal(maglev_build(b, 3, TABLE_SIZE, t), 0);
	for (i = 0; i < TABLE_SIZE; i++)
		assert_int_equal(t[i], 1);
	assert_int_equal(maglev_build(&b[1], 1, 2, t), 0);
	assert_int_equal(t[0], 0);
	assert_int_equal(t[1], 0);
	free(t);
	free(b);
}

/* rr/wrr: a round of sum(weight/gcd) turns, spread by time (k + 1/2) / weight, ties by key. */
static void test_rotation(void **state)
{
	static const __u32 want[6] = { 2, 1, 0, 2, 1, 2 }; /* C B A C B C */
	struct maglev_backend *b = make_backends(4, 0), swapped[3];
	__u32 *t = alloc_table(TABLE_SIZE), *u = alloc_table(TABLE_SIZE), cnt[4] = {}, i;

	(void)state;
	b[0].weight = 100;
	b[1].weight = 200;
	b[2].weight = 300; /* b[3]: weight 0, not in it */
	assert_int_equal(xlb_rotation_build(b, 4, TABLE_SIZE, t), 6);
	for (i = 0; i < TABLE_SIZE; i++) {
		assert_int_equal(t[i], want[i % 6]);
		cnt[t[i]]++;
	}
	assert_int_equal(cnt[3], 0);
	/* the same set in another order: the same backends in the same turns */
	swapped[0] = b[2];
	swapped[1] = b[0];
	swapped[2] = b[1];
	assert_int_equal(xlb_rotation_build(swapped, 3, TABLE_SIZE, u), 6);
	for (i = 0; i < 12; i++)
		assert_memory_equal(swapped[u[i]].key, b[t[i]].key, 16);
	/* a round longer than the table is scaled to fit it, shares kept */
	b[0].weight = 65535;
	b[1].weight = 65534;
	b[2].weight = 1;
	i = (__u32)xlb_rotation_build(b, 3, TABLE_SIZE, t);
	assert_true(i <= TABLE_SIZE && i >= TABLE_SIZE - 3);
	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < TABLE_SIZE; i++)
		cnt[t[i]]++;
	assert_true(cnt[2] >= 1 && cnt[0] > cnt[1] && cnt[0] - cnt[1] < 8);
	/* no weight: empty */
	b[0].weight = b[1].weight = b[2].weight = 0;
	assert_int_equal(xlb_rotation_build(b, 3, TABLE_SIZE, t), 0);
	assert_int_equal(t[0], MAGLEV_EMPTY);
	assert_int_equal(t[TABLE_SIZE - 1], MAGLEV_EMPTY);
	free(t);
	free(u);
	free(b);
}

static void test_is_prime(void **state)
{
	static const __u32 primes[] = {
		2, 3, 5, 7, 11, 13, 251, 257, 65521, 65537, 131071, 2147483647u, 4294967291u,
	};
	static const __u32 composites[] = {
		0, 1, 4, 6, 9, 15, 25, 49, 65535, 65536, 65539 * 3u, 4294967295u, 4294967293u,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
		assert_true(maglev_is_prime(primes[i]));
	for (i = 0; i < sizeof(composites) / sizeof(composites[0]); i++)
		assert_false(maglev_is_prime(composites[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_weights_n3),
		cmocka_unit_test(test_equal_weights_n10),
		cmocka_unit_test(test_equal_weights_n100),
		cmocka_unit_test(test_equal_weights_n1000),
		cmocka_unit_test(test_disruption_n10_first),
		cmocka_unit_test(test_disruption_n10_middle),
		cmocka_unit_test(test_disruption_n10_last),
		cmocka_unit_test(test_disruption_n100_first),
		cmocka_unit_test(test_disruption_n100_middle),
		cmocka_unit_test(test_disruption_n100_last),
		cmocka_unit_test(test_disruption_n1000_first),
		cmocka_unit_test(test_disruption_n1000_middle),
		cmocka_unit_test(test_disruption_n1000_last),
		cmocka_unit_test(test_weights_1_2_3_4),
		cmocka_unit_test(test_weights_100_200),
		cmocka_unit_test(test_weights_1_10_100),
		cmocka_unit_test(test_weights_with_zero),
		cmocka_unit_test(test_weights_mixed_100),
		cmocka_unit_test(test_deterministic_shuffle_equal),
		cmocka_unit_test(test_deterministic_shuffle_weighted),
		cmocka_unit_test(test_deterministic_golden_digest),
		cmocka_unit_test(test_no_backends),
		cmocka_unit_test(test_all_weights_zero),
		cmocka_unit_test(test_size_not_prime),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_too_many_backends),
		cmocka_unit_test(test_one_backend),
		cmocka_unit_test(test_is_prime),
		cmocka_unit_test(test_rotation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
