/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Every map of the data plane. Layouts and limits live in maps/xlb_maps.h. */
#ifndef XLB_MAPS_BPF_H
#define XLB_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../maps/xlb_maps.h"

/*
 * A bit per hashed VIP address. A clear bit means "not a VIP address" for
 * certain, so the host's own traffic costs one array load. A set bit may be
 * a collision: vip_addrs confirms wherever the answer must be exact.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_ADDR_BITS_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} vip_addr_bits SEC(".maps");

/* Exactly the addresses that have a VIP. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct vip_key); /* port 0, proto 0, flags 0: address only */
	__type(value, struct vip_addr_meta);
} vip_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS * 2); /* plus one fragment entry per VIP */
	__type(key, struct vip_key);
	__type(value, struct vip_meta);
} vips SEC(".maps");

/* mmapable: user space writes slots as memory, not a system call per batch */
struct maglev_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAGLEV_SIZE);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32); /* backend id, XLB_NO_BACKEND when empty */
};

/*
 * One table per VIP id, written in place by user space (user/lib/lbtable.h):
 * a packet reads one 4-byte slot, so it meets the old or the new backend of
 * that slot, and a backend leaves service before it leaves a table.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct maglev_table);
} maglev_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

/*
 * The main tables, one per family. Per-CPU LRU lists: a flow stays on one
 * CPU (RSS), and inserts need no shared lock. Only promoted flows (seen
 * twice) are inserted, so a flood of one-packet tuples evicts nothing.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_CT_SIZE);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct flow4_key);
	__type(value, struct flow_state);
} flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_CT_SIZE);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct flow_key);
	__type(value, struct flow_state);
} flows6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_FLOW_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct flow_cache4);
} flow_cache4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_FLOW_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct flow_cache6);
} flow_cache6 SEC(".maps");

/*
 * Flows seen once: direct-mapped, shared by the CPUs (a flow's second
 * packet may come in on another one), overwritten without a lock.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_PROBATION_SLOTS);
	__type(key, __u32);
	__type(value, struct flow_probation);
} flow_probation SEC(".maps");

/* An older build's table, read after an upgrade (legacy_ct set); max_entries set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct flow_key);
	__type(value, struct flow_entry);
} conntrack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct flow_counts);
} backend_flows SEC(".maps");

/* Schedulers (README, "Schedulers"): what xlbd tells them, what they keep. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct vip_sched);
} vip_sched SEC(".maps");

/* rr, wrr: each CPU's next slot of the VIP's rotation */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, __u64); /* a per-CPU value is 8 bytes in user space's copy anyway */
} sched_cursor SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend_load);
} backend_load SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend_pending);
} backend_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend_live);
} backend_live SEC(".maps");

/*
 * persist: one table over every persist VIP's client prefixes, read by all
 * CPUs (a client's flows spread over them). One LRU list: per-CPU lists
 * would give each CPU 1/ncpus of the entries (measured no cheaper).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_PERSIST_SIZE);
	__type(key, struct persist_key);
	__type(value, struct persist_entry);
} persist SEC(".maps");

/* Outer source addresses for forward ipip; user space writes entry 0. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct encap_config);
} encap_config SEC(".maps");

/* Next hops of ipip backends, so the FIB is asked a few times a second, not per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_NEXTHOP_SLOTS);
	__type(key, __u32);
	__type(value, struct nexthop_entry);
} nexthop_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct icmp_bucket);
} icmp_buckets SEC(".maps");

/* Egress interfaces other than the ingress one, keyed by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} tx_ports SEC(".maps");

/* Fixed size, whatever counters this build knows: an upgrade keeps the pinned map. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_STAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct traffic_stats);
} vip_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct traffic_stats);
} backend_stats SEC(".maps");

/* Source filters (maps/filter_maps.h): both lists, every scope, one trie per family. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XLB_BLOCK_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct block4_key);
	__type(value, struct block_rule);
} block4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XLB_BLOCK_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct block6_key);
	__type(value, struct block_rule);
} block6 SEC(".maps");

/* Packets each rule matched, by rule id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_BLOCK_RULES_MAX);
	__type(key, __u32);
	__type(value, __u64);
} block_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct filter_config);
} filter_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct vip_filter);
} vip_filter SEC(".maps");

/*
 * Per-client limits (maps/limit_maps.h): the buckets and live counts, an
 * LRU shared by the CPUs (a client's flows spread over them); per-CPU LRU
 * lists, as persist. Evicting an idle key refuses nobody: it comes back
 * a full bucket.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_LIMIT_CLIENTS);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct limit_key);
	__type(value, struct limit_state);
} limit_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_LIMIT_CLIENTS);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* only keys whose walk found a difference */
	__type(key, struct limit_key);
	__type(value, limit_base_t);
} limit_base SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct limit_drops);
} limit_drops SEC(".maps");

#ifdef XLB_VARIANT
/* The upgrade test's rebuilt data plane has one map more: VIP packets sent on. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} variant_map SEC(".maps");
#endif

#endif /* XLB_MAPS_BPF_H */
