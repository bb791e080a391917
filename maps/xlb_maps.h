/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The contract between the XDP data plane (bpf/) and user space (user/):
 * map keys, values, limits and counter indexes. Plain fixed-layout structs
 * only: explicit padding, no bool, no pointers.
 *
 * Addresses are always 16 bytes: IPv6 as is, IPv4 as a v4-mapped address
 * (::ffff:a.b.c.d), so one key type serves both families.
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <linux/types.h>

/* Limits. Tests shrink them with -D. */
#ifndef XLB_MAX_VIPS
#define XLB_MAX_VIPS 512
#endif
#ifndef XLB_MAX_BACKENDS
#define XLB_MAX_BACKENDS 65536 /* (VIP, backend) pairs, id 0 is never used */
#endif
#ifndef XLB_MAGLEV_SIZE
#define XLB_MAGLEV_SIZE 65537 /* prime */
#endif
#ifndef XLB_CT_SIZE
#define XLB_CT_SIZE 1000000 /* flows per family; user space may resize before load */
#endif
#ifndef XLB_MAX_EXT_HDRS
#define XLB_MAX_EXT_HDRS 4 /* IPv6 extension headers skipped before L4 */
#endif

#ifndef XLB_NEXTHOP_SLOTS
#define XLB_NEXTHOP_SLOTS 4096 /* per CPU; a power of two */
#endif

#ifndef XLB_ADDR_BITS_LOG2
#define XLB_ADDR_BITS_LOG2 19 /* 512 Kbit = 64 KiB: stays in cache */
#endif
#define XLB_ADDR_BITS_WORDS (1u << (XLB_ADDR_BITS_LOG2 - 6))

#define XLB_NO_BACKEND 0 /* empty Maglev slot / no backend */

/* vip_key.flags */
#define XLB_VIPKEY_F_FRAG 0x01 /* entry that receives this address's fragments */

/* Exact match on (address, port, protocol). port 0 = every port. */
struct vip_key {
	__be32 addr[4];
	__be16 port;
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 flags; /* XLB_VIPKEY_F_* */
};

/*
 * How a VIP picks a new flow's backend (README, "Schedulers"). Each reads
 * the VIP's table (maglev_tables), which user space fills for it: a
 * weighted Maglev table, or for rr and wrr a rotation.
 */
enum xlb_sched {
	XLB_SCHED_MAGLEV = 0,      /* hash of the 5-tuple */
	XLB_SCHED_SOURCE_HASH = 1, /* hash of the client address only */
	XLB_SCHED_RR = 2,          /* the next slot of a rotation, per CPU */
	XLB_SCHED_WRR = 3,         /* the same, weighted */
	XLB_SCHED_LC = 4,          /* of two candidates, fewer live flows */
	XLB_SCHED_WLC = 5,         /* of two weighted candidates, fewer live flows per weight */
	XLB_SCHED_LT = 6,          /* of two weighted candidates, fewer bytes/s per weight */
};

/*
 * rr, wrr, lc, wlc and lt: a second pick of a flow would differ from its
 * first, so only a flow's first packet (a bare SYN, a UDP datagram) is
 * scheduled (README, "Schedulers").
 */
#define XLB_SCHED_STATEFUL(sched) ((sched) >= XLB_SCHED_RR)

enum xlb_forward {
	XLB_FWD_L2DSR = 0, /* rewrite MACs, IP untouched */
	XLB_FWD_IPIP = 1,  /* encapsulate: IPIP, IP6IP6 or 4in6 by the backend's family */
};

/* encap_source.flags */
#define XLB_ENCAP_F_SET 0x01 /* this family has a source: without one, encap drops */

/*
 * Outer source address of one family. hash_bits = 0: addr as is. Otherwise
 * the low hash_bits bits (at most 32) of addr come from the flow hash, so
 * backends and routers on the way see a spread of sources (RSS, ECMP).
 */
struct encap_source {
	__be32 addr[4]; /* v4-mapped for IPv4 */
	__u32 hash_bits;
	__u32 flags;    /* XLB_ENCAP_F_* */
};

/* encap_config[0]: one source per outer family. */
struct encap_config {
	struct encap_source v4;
	struct encap_source v6;
};

#define XLB_IPIP_TTL 64

/* vip_meta.flags */
#define XLB_VIP_F_PERSIST 0x01 /* a client prefix keeps its backend: vip_sched, persist */

struct vip_meta {
	__u32 id; /* index into maglev_tables and vip_stats */
	__u32 flags; /* XLB_VIP_F_* */
	__u8 sched;   /* enum xlb_sched */
	__u8 forward; /* enum xlb_forward */
	__u8 pad[2];
};

/* Value of the per-address filter: any VIP on this address at all. */
struct vip_addr_meta {
	__u32 vip_count;
};

/* backend.flags */
#define XLB_BACKEND_F_KEEP_FLOWS 0x01 /* up or drain: established flows stay */
#define XLB_BACKEND_F_ENCAP 0x02      /* its VIP forwards by ipip: next hop from the FIB */
#define XLB_BACKEND_F_NEW_FLOWS 0x04  /* up: takes new flows (persist asks) */

/* One (VIP, backend) pair; index = backend id. */
struct backend {
	__be32 addr[4];
	__u8 mac[6];     /* next hop: the backend itself for L2 DSR */
	__u8 src_mac[6]; /* MAC of the egress interface */
	__u32 ifindex;   /* egress interface; XDP_TX when it is the ingress one */
	__u32 flags;     /* XLB_BACKEND_F_* */
	__u32 gen;       /* bumped when the id is reused, so stale flows move */
	__u32 vip_id;
};

/*
 * The data plane's own cache of bpf_fib_lookup answers for forward ipip,
 * per CPU, slot = backend id mod XLB_NEXTHOP_SLOTS. User space never
 * writes it; it is here because every map value is.
 */
struct nexthop_entry {
	__u64 expires_ns;
	__u32 backend_id;  /* which backend the slot holds now */
	__u32 backend_gen;
	__u32 ifindex;     /* egress */
	__u16 mtu;         /* of the way to the backend */
	__u8 dmac[6];
	__u8 smac[6];
	__u8 pad[6];
};

/* The data plane's own: a token bucket per CPU for ICMP answers. */
struct icmp_bucket {
	__u64 last_ns;
	__u64 credit_ns;
};

/*
 * Connection tables (README, "Connection table"). A flow's first packet
 * (a SYN too) writes a slot of the probation array; seen again, the flow
 * is promoted to its family's main table, flows4 or flows6. A flood of
 * one-packet tuples only ever overwrites probation slots.
 */
#ifndef XLB_PROBATION_SLOTS
#define XLB_PROBATION_SLOTS 8192 /* a power of two; 64 B each, 512 KiB: stays in cache */
#endif

/* Ticks of the coarse clock: 2^24 ns, about 16.8 ms. A u32 wraps after 2.2 years. */
#define XLB_TICK_SHIFT 24
#define XLB_NS_TO_TICKS(ns) ((__u32)((ns) >> XLB_TICK_SHIFT))
/* a timeout in whole ticks, rounded up: an entry never expires early */
#define XLB_TIMEOUT_TICKS(ns) ((__u32)(((ns) + (1ULL << XLB_TICK_SHIFT) - 1) >> XLB_TICK_SHIFT))
/*
 * Stamped at seen, alive at now within timeout ticks. Unsigned: an entry
 * idle past half the u32 range is not young again. Another CPU may have
 * stamped it up to XLB_TICK_AHEAD ticks after our now: alive.
 */
#define XLB_TICK_AHEAD 4
#define XLB_TICK_ALIVE(seen, now, timeout)                                              \
	((__u32)((now) - (seen)) <= (__u32)(timeout) ||                                \
	 (__u32)((now) - (seen)) >= (__u32)-XLB_TICK_AHEAD)

/* The 5-tuple as it arrives from the client; IPv4 as v4-mapped addresses. */
struct flow_key {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* Key of flows4: the same tuple in 16 bytes. */
struct flow4_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

enum xlb_flow_state {
	XLB_FLOW_ESTABLISHED = 0,
	XLB_FLOW_CLOSING = 1, /* FIN or RST from the client: the short closing timeout */
};

#ifndef XLB_FLOW_CACHE_SLOTS
#define XLB_FLOW_CACHE_SLOTS 4096 /* per CPU and family, a power of two */
#endif

/*
 * The data plane's own per-CPU copies of a main-table answer, kept for the
 * tick in which the table gave it: a busy flow's other packets of that
 * tick skip the hash table. Never the only place a flow lives.
 */
struct flow_cache4 {
	struct flow4_key key;
	__u32 backend_id;
	__u32 backend_gen;
	__u32 tick;  /* the tick of the main-table lookup */
	__u32 valid; /* 0: empty, or a closing flow's (never served) */
};

struct flow_cache6 {
	struct flow_key key;
	__u32 backend_id;
	__u32 backend_gen;
	__u32 tick;
	__u32 valid;
};

/* Value of flows4 and flows6. */
struct flow_state {
	__u32 backend_id;
	__u32 backend_gen;
	__u32 seen;  /* last packet, in ticks; written only when the tick changed */
	__u8 state;  /* enum xlb_flow_state */
	__u8 pad[3];
};

/* One slot of the probation array, slot = flow hash & (XLB_PROBATION_SLOTS - 1). */
struct flow_probation {
	struct flow_key key;
	__u32 backend_id;
	__u32 backend_gen;
	__u32 seen;  /* ticks */
	__u32 check; /* xlb_probation_check() of the rest: a torn write reads as empty */
	__u32 flags; /* XLB_PROBATION_F_* */
	__u32 pad;   /* 64 bytes: a slot is one cache line */
};

/* flow_probation.flags */
#define XLB_PROBATION_F_START 0x01 /* written by a flow's first packet (a SYN, a datagram) */

/*
 * Per backend id, per CPU: main-table entries opened (promoted) and moved
 * to closing. xlbd adds them to its periodic count of the tables.
 */
struct flow_counts {
	__u64 opened;
	__u64 closed;
};

/*
 * The connection table before the split (map "conntrack"). A data plane
 * that adopted one from an older build reads it after its own tables
 * miss, and moves what it finds into them, until xlbd retires it.
 */
struct flow_entry {
	__u32 backend_id;
	__u32 backend_gen;
	__u64 last_seen_ns; /* bpf_ktime_get_coarse_ns() clock */
};

/*
 * Schedulers' state (README, "Schedulers").
 * vip_sched, by VIP id: what a scheduler needs beyond vip_meta.
 */
struct vip_sched {
	__u32 persist_ticks;   /* XLB_VIP_F_PERSIST: how long a client prefix keeps its backend */
	__u8 persist_prefix4;  /* client prefix lengths of the persist key */
	__u8 persist_prefix6;
	__u8 pad[2];
};

/*
 * backend_load, by backend id: written by xlbd every XLB_LOAD_PERIOD_MS
 * for the backends of lc, wlc and lt VIPs. epoch changes at each write, so
 * a CPU's own picks since (backend_pending) are added to flows until then.
 */
#define XLB_LOAD_PERIOD_MS 100
struct backend_load {
	__u64 flows;     /* live flows (xlbd's count) */
	__u64 rate;      /* bytes per second the backend received through xlb */
	__u64 flow_rate; /* lt: what a new flow adds to rate, the VIP's bytes/s per live flow */
	__u32 weight;
	__u32 epoch;
};

/* backend_pending, per CPU, by backend id: new flows this CPU gave it in this epoch. */
struct backend_pending {
	__u32 epoch;
	__u32 count;                   /* this CPU's picks in the epoch */
	__u64 picks_base, closes_base; /* backend_live at this CPU's first look in the epoch */
};

/*
 * backend_live, shared by the CPUs, by backend id: lc, wlc and lt picks,
 * and the closes of a backend picked so (atomic adds). A short flow picked
 * and closed since xlbd's last count then weighs nothing, on any CPU.
 */
struct backend_live {
	__u64 picks;
	__u64 closes;
};

#ifndef XLB_PERSIST_SIZE
#define XLB_PERSIST_SIZE 262144 /* client prefixes, over all persist VIPs */
#endif

/* Key of persist: the VIP and the client's address, masked to the VIP's prefix. */
struct persist_key {
	__u32 vip_id;
	__u32 pad;
	__be32 addr[4];
};

struct persist_entry {
	__u32 backend_id;
	__u32 backend_gen;
	__u32 seen;  /* ticks: the client's last new flow */
	__u32 pad;
};

/* Per-CPU traffic counters, per VIP and per backend. */
struct traffic_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
};

/* Global per-CPU counters, by reason: the table is in xlb_stats.h. */
#include "xlb_stats.h"

/* Source filters and per-client limits. */
#include "filter_maps.h"

#endif /* XLB_MAPS_H */
