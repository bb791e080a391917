/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The live-traffic generator's contract between its XDP program
 * (live.bpf.c) and user space (live_gen.c): what each frame varies, and
 * each generator thread's flow set.
 */
#ifndef XLB_BENCH_LIVE_H
#define XLB_BENCH_LIVE_H

#include <linux/types.h>

#define GEN_MAX_CPUS 64 /* a power of two: the program masks the CPU id with it */

enum gen_mode {
	GEN_FLOWS,  /* cycle through the thread's flow set */
	GEN_PAIRS,  /* the same, each flow twice in a row: seen again, so established */
	GEN_RANDOM, /* a new tuple every packet */
};

/* Written by user space before a run; the same for every thread. */
struct gen_cfg {
	__u8 dmac[6];
	__u8 smac[6];
	__u32 family;     /* 4 or 6 */
	__u32 tcp;        /* 1: TCP (tcp_flags are written), 0: UDP */
	__u32 tcp_flags;
	__u32 mode;       /* enum gen_mode */
	__u32 prefix;     /* host order: source = prefix | (flow id & host mask) */
	__u32 host_bits;  /* of the source address (IPv6: of its last 32 bits) */
	__u32 sport_base; /* flow sets: sport = sport_base + (flow id >> host_bits) */
	__u32 seed;       /* random mode: which tuples */
	/*
	 * Ones' complement sums of the template's checksums and of its words
	 * that the program varies, each complemented (RFC 1624, eq. 3): the
	 * program adds the new words and folds.
	 */
	__u32 ip_csum_base;
	__u32 l4_csum_base;
};

/* One per CPU, indexed by the CPU the thread is pinned to. */
struct gen_thread {
	__u64 seq;        /* frames this CPU made, over all runs: random tuples never repeat */
	__u32 first_flow; /* the flow set: flow ids first_flow .. first_flow + nflows - 1 */
	__u32 nflows;
	__u32 cursor;     /* position in the flow set */
	__u32 tid;        /* 0 .. nthreads - 1 */
	__u32 nthreads;
	__u32 pad[9];     /* one cache line each: threads do not share lines */
};

/* Slots of the per-CPU counts map. */
enum gen_count {
	GEN_COUNT_SINK,  /* frames the XDP_DROP sink took */
	GEN_COUNT_FLOOR, /* frames the floor (MAC swap) sent back */
	GEN_COUNT_SLOTS,
};

#endif /* XLB_BENCH_LIVE_H */
