/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The live-traffic generator (live.bpf.c under BPF_PROG_RUN with live
 * frames), as a library: xlb-gen (live.c) is its command line, and the
 * live benchmark (live_bench.c) drives it row by row.
 */
#ifndef XLB_BENCH_LIVE_GEN_H
#define XLB_BENCH_LIVE_GEN_H

#include <signal.h>
#include <stddef.h>
#include <linux/types.h>
#include "live.h"

enum gen_kind { GEN_UDP, GEN_ACK, GEN_SYN };

struct gen_opts {
	int ifindex;        /* the generator's veth, in the namespace of the run */
	__u8 dmac[6];
	__u8 smac[6];
	int family;         /* 4 or 6 */
	__be32 daddr[4];    /* v4-mapped for IPv4 */
	__be32 saddr[4];    /* the source prefix (its last 32 bits vary) */
	__u32 host_bits;    /* of the source prefix: 32 - length (IPv6: 128 - length) */
	__u16 dport;
	__u16 sport_base;
	enum gen_kind kind;
	__u32 flows;        /* per thread; 0: a new tuple every packet */
	int pairs;          /* each flow twice in a row */
	__u32 seed;         /* random mode: which tuples */
	int threads;        /* each pinned to its own CPU */
	__u64 count;        /* frames, all threads together */
	double secs;        /* time bound of a run */
	double rate;        /* frames a second, all threads; 0: as fast as it goes */
	__u32 batch;        /* BPF_PROG_RUN batch size; 0: the kernel's (64) */
	int netns_fd;       /* >= 0: the threads run in this network namespace */
};

struct gen_result {
	__u64 sent;         /* frames the program made (and sent by XDP_TX) */
	double secs;        /* from the threads' start to the last one's end */
	/*
	 * The threads' rates summed, each its frames over the kernel's time
	 * for them (BPF_PROG_RUN's duration: the program, the flush, and the
	 * softirq work it sets off on this CPU), without the setup of each call.
	 */
	double kernel_mpps;
	int interrupted;    /* SIGINT or SIGTERM */
};

struct gen;

/* Load the programs. NULL with a reason in err. */
struct gen *gen_load(char *err, size_t errlen);
void gen_free(struct gen *g);

/* One run, bounded by o->count and o->secs. Returns 0 or -1 (err says why). */
int gen_run(struct gen *g, const struct gen_opts *o, struct gen_result *r, char *err,
	    size_t errlen);

/* The sink (XDP_DROP, counted) on ifindex of the current namespace; 0 or -errno. */
int gen_sink_attach(struct gen *g, int ifindex);
/* A counter of enum gen_count, summed over CPUs. */
__u64 gen_count(struct gen *g, enum gen_count slot);
/* The sink's count once it stops moving (the frames on their way are in), within a second. */
__u64 gen_sink_settled(struct gen *g);
/* Set from a signal handler: the threads stop after their current call. */
extern volatile sig_atomic_t gen_stopping;
/* The floor program (MAC swap, XDP_TX, counted), to attach on the LB's side. */
int gen_floor_fd(struct gen *g);

/* Parsing for the command lines: 0 or -1. */
int gen_parse_mac(const char *s, __u8 mac[6]);
int gen_parse_prefix(const char *s, struct gen_opts *o);
int gen_parse_kind(const char *s, enum gen_kind *kind);
/* The MAC of ifindex in the current namespace: 0 or -1. */
int gen_dev_mac(int ifindex, __u8 mac[6]);

#endif /* XLB_BENCH_LIVE_GEN_H */
