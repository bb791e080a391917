// SPDX-License-Identifier: GPL-2.0
/*
 * Weighted Maglev lookup-table population (Eisenbud et al., NSDI 2016, 3.4).
 *
 * Every backend owns a permutation of the table slots derived only from its
 * key: slot_n = (offset + n * skip) % size. Backends take turns claiming their
 * next still-free preferred slot until the table is full. Since size is prime
 * and 1 <= skip < size, each permutation visits every slot, so a turn always
 * finds a free slot.
 *
 * Weights use a credit scheme: each round every backend earns its weight and
 * claims one slot per max_weight of credit. The heaviest backend claims exactly
 * one slot per round and the others proportionally fewer, so shares follow
 * weight / sum(weights) to within one slot per backend.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "maglev.h"

/* Arbitrary fixed seeds; changing them reshuffles every table in the fleet. */
#define MAGLEV_SEED_OFFSET	0x9e3779b97f4a7c15ull
#define MAGLEV_SEED_SKIP	0xc2b2ae3d27d4eb4full

#define FNV64_BASIS		0xcbf29ce484222325ull
#define FNV64_PRIME		0x100000001b3ull

struct maglev_slot_owner {
	__u64 credit;		/* < 2 * max_weight, so no overflow */
	__u32 idx;		/* index into the caller's backends[] */
	__u32 weight;
	__u32 pos;		/* next preferred slot to try */
	__u32 skip;
};

/*
 * Seeded FNV-1a over the key bytes, then the murmur3 64-bit finaliser so that
 * keys differing in one trailing byte (consecutive addresses) still land far
 * apart. Byte-wise, fixed-width arithmetic only: same result on every host.
 */
static __u64 maglev_hash(const __u8 key[16], __u64 seed)
{
	__u64 h = FNV64_BASIS ^ seed;
	int i;

	for (i = 0; i < 16; i++) {
		h ^= key[i];
		h *= FNV64_PRIME;
	}
	h ^= seed >> 29;
	return xlb_mix64(h);
}

int maglev_is_prime(__u32 n)
{
	__u64 d;

	if (n < 2)
		return 0;
	if (n < 4)
		return 1;
	if (!(n % 2) || !(n % 3))
		return 0;
	/* 6k +- 1 trial division; 64-bit d*d so n near 2^32 cannot overflow */
	for (d = 5; d * d <= n; d += 6)
		if (!(n % d) || !(n % (d + 2)))
			return 0;
	return 1;
}

static int maglev_cmp_key(const void *a, const void *b)
{
	const struct maglev_backend *x = *(const struct maglev_backend *const *)a;
	const struct maglev_backend *y = *(const struct maglev_backend *const *)b;

	return memcmp(x->key, y->key, sizeof(x->key));
}

/*
 * The backends sorted by key, so the result cannot depend on input order;
 * counts the active ones (weight > 0) and their largest weight. A key
 * listed twice has no well-defined weight: -EINVAL.
 */
static int maglev_sort(const struct maglev_backend *backends, __u32 n,
		       const struct maglev_backend ***sorted, __u32 *nact, __u32 *max_w)
{
	__u32 i;

	*sorted = malloc((size_t)n * sizeof(**sorted));
	if (!*sorted)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		(*sorted)[i] = &backends[i];
	qsort(*sorted, n, sizeof(**sorted), maglev_cmp_key);
	for (i = 0; i < n; i++) {
		if (i && !maglev_cmp_key(&(*sorted)[i - 1], &(*sorted)[i]))
			return -EINVAL;
		if ((*sorted)[i]->weight) {
			(*nact)++;
			if ((*sorted)[i]->weight > *max_w)
				*max_w = (*sorted)[i]->weight;
		}
	}
	return 0;
}

/* Each active backend's permutation: its offset and skip, in key order. */
static void maglev_owners(const struct maglev_backend *backends,
			  const struct maglev_backend **sorted, __u32 n, __u32 size,
			  struct maglev_slot_owner *own)
{
	__u32 i, nact = 0;

	for (i = 0; i < n; i++) {
		const struct maglev_backend *b = sorted[i];

		if (!b->weight)
			continue;
		own[nact].idx = (__u32)(b - backends);
		own[nact].weight = b->weight;
		own[nact].pos = (__u32)(maglev_hash(b->key, MAGLEV_SEED_OFFSET) % size);
		/* size == 2 gives skip == 1, still a full cycle */
		own[nact].skip = (__u32)(maglev_hash(b->key, MAGLEV_SEED_SKIP) % (size - 1) + 1);
		nact++;
	}
}

/*
 * The max-weight backend claims one slot every round, so this ends after
 * at most size rounds. Equal weights reduce to plain round-robin Maglev.
 */
static void maglev_fill(struct maglev_slot_owner *own, __u32 nact, __u32 max_w,
			__u32 size, __u32 *table)
{
	__u32 i, filled = 0;

	for (;;) {
		for (i = 0; i < nact; i++) {
			struct maglev_slot_owner *o = &own[i];

			o->credit += o->weight;
			while (o->credit >= max_w) {
				__u64 p = o->pos;

				/* Walk the permutation incrementally: equals
				 * (offset + k * skip) % size without the multiply.
				 */
				while (table[p] != MAGLEV_EMPTY) {
					p += o->skip;
					if (p >= size)
						p -= size;
				}
				table[p] = o->idx;
				p += o->skip;
				if (p >= size)
					p -= size;
				o->pos = (__u32)p;
				o->credit -= max_w;

				if (++filled == size)
					return;
			}
		}
	}
}

int maglev_build(const struct maglev_backend *backends, __u32 n, __u32 size, __u32 *table)
{
	const struct maglev_backend **sorted = NULL;
	struct maglev_slot_owner *own = NULL;
	__u32 i, nact = 0, max_w = 0;
	int ret = 0;

	if (!table || !maglev_is_prime(size) || (n && !backends))
		return -EINVAL;
	if (n)
		ret = maglev_sort(backends, n, &sorted, &nact, &max_w);
	/* Each active backend must be able to own at least one slot. */
	if (!ret && nact > size)
		ret = -EINVAL;
	if (!ret && nact) {
		own = calloc(nact, sizeof(*own));
		if (!own)
			ret = -ENOMEM;
	}
	if (ret)
		goto out;

	/* Validation done: only now touch the caller's table. */
	for (i = 0; i < size; i++)
		table[i] = MAGLEV_EMPTY;
	if (nact) {
		maglev_owners(backends, sorted, n, size, own);
		maglev_fill(own, nact, max_w, size, table);
	}
out:
	free(own);
	free(sorted);
	return ret;
}
