/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The table of an rr or wrr VIP: a rotation the data plane walks one slot
 * per new flow (bpf/sched.h). Each backend's turns are spread evenly over
 * one round, in the order of their times (k + 1/2) / weight, so weights
 * 1:2:3 give C B A C B C ... and not A B B C C C. The round repeats to fill
 * the table; where the table's end breaks a round (its size is prime) a
 * backend may lose or gain one turn in 65,537.
 */
#ifndef XLB_ROTATION_H
#define XLB_ROTATION_H

#include <linux/types.h>
#include "maglev.h"

/*
 * Fill table[0..size-1] with indexes into backends[] (weight 0: not in it).
 * As maglev_build: the same set gives the same table on every host (ties
 * go by key), and with no weight, every slot is MAGLEV_EMPTY. Weights are
 * reduced by their common divisor, then scaled down if a round would not
 * fit the table. Returns the round's length, or -errno.
 */
int xlb_rotation_build(const struct maglev_backend *backends, __u32 n, __u32 size,
		       __u32 *table);

#endif /* XLB_ROTATION_H */
