/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Hash helpers shared by the library: fixed-width arithmetic, same on every host. */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>

/*
 * MurmurHash3's 64-bit finaliser: every input bit flips about half the
 * output bits, so sequential ids and small keys spread evenly.
 */
static inline __u64 xlb_mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

#endif /* XLB_HASH_H */
