// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rotation.h"

struct turn {
	__u32 k, weight; /* the backend's turn k of weight: at time (2k + 1) / (2 weight) */
	__u32 index;     /* into backends[] */
	const __u8 *key;
};

static int turn_cmp(const void *pa, const void *pb)
{
	const struct turn *a = pa, *b = pb;
	__u64 ta = (2ull * a->k + 1) * b->weight, tb = (2ull * b->k + 1) * a->weight;

	if (ta != tb)
		return ta < tb ? -1 : 1;
	return memcmp(a->key, b->key, 16);
}

static __u32 gcd(__u32 a, __u32 b)
{
	while (b) {
		__u32 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int xlb_rotation_build(const struct maglev_backend *backends, __u32 n, __u32 size,
		       __u32 *table)
{
	__u64 sum = 0, target;
	__u32 *w, g = 0, round = 0, i, j, k;
	struct turn *turns = NULL;
	int err = 0;

	if (!size || n >= size)
		return -EINVAL;
	w = calloc(n + 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		g = gcd(g, backends[i].weight);
	for (i = 0; i < n; i++) {
		w[i] = g ? backends[i].weight / g : 0;
		sum += w[i];
	}
	/* a round longer than the table: scale to size - n, each at least 1, so it fits */
	if (sum > size) {
		target = size - n;
		for (i = 0, round = 0; i < n; i++) {
			if (w[i])
				w[i] = (__u32)(w[i] * target / sum) ?: 1;
			round += w[i];
		}
		sum = round;
	}
	round = (__u32)sum;
	if (!round) {
		for (i = 0; i < size; i++)
			table[i] = MAGLEV_EMPTY;
		goto out;
	}
	turns = calloc(round, sizeof(*turns));
	if (!turns) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0, j = 0; i < n; i++)
		for (k = 0; k < w[i]; k++)
			turns[j++] = (struct turn){ .k = k, .weight = w[i], .index = i,
						    .key = backends[i].key };
	qsort(turns, round, sizeof(*turns), turn_cmp);
	for (i = 0; i < size; i++)
		table[i] = turns[i % round].index;
out:
	free(turns);
	free(w);
	return err ?: (int)round;
}
