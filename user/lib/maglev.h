/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Weighted Maglev lookup-table population (Eisenbud et al., NSDI 2016, 3.4).
 *
 * The table maps a flow hash (slot = hash % size) to a backend. Building is
 * deterministic across hosts so every load balancer in a fleet computes the
 * same table from the same backend set, and removing one backend moves few
 * flows that were not on it.
 */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <linux/types.h>

#define MAGLEV_EMPTY 0xffffffffu

struct maglev_backend {
	__u8 key[16];	/* backend identity: IPv6 address bytes, IPv4 as v4-mapped ::ffff:a.b.c.d */
	__u32 weight;	/* 0 = not in the table */
};

/*
 * Fill table[0..size-1] with indexes into backends[]. size must be prime and
 * >= number of backends with weight > 0.
 *
 * Deterministic: depends only on the SET of (key, weight) pairs, not on the
 * order of the input array, nor on the host (no endianness or pointer
 * dependence): backends are processed internally sorted by key (memcmp).
 *
 * If no backend has weight > 0, every slot is MAGLEV_EMPTY.
 * Returns 0 or a negative errno (-EINVAL: size not prime, duplicate key,
 * n too large; -ENOMEM). On error the table is left untouched.
 */
int maglev_build(const struct maglev_backend *backends, __u32 n, __u32 size, __u32 *table);

/* 1 if n is prime, else 0. */
int maglev_is_prime(__u32 n);

#endif /* XLB_MAGLEV_H */
