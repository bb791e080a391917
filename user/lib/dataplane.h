/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Map-level access to a loaded xlb data plane: one function per map write. */
#ifndef XLB_DATAPLANE_H
#define XLB_DATAPLANE_H

#include <linux/types.h>
#include <bpf/libbpf.h>
#include "../../maps/xlb_maps.h"

struct xlb_dp {
	int vip_addr_bits_fd;
	int vip_addrs_fd;
	int vips_fd;
	int maglev_tables_fd;
	int backends_fd;
	int flows4_fd;
	int flows6_fd;
	int probation_fd;
	int legacy_ct_fd; /* "conntrack": an older build's table, or a 1-entry stand-in */
	int backend_flows_fd;
	int tx_ports_fd;
	int encap_config_fd;
	int stats_fd;
	int vip_stats_fd;
	int backend_stats_fd;
	int vip_sched_fd;
	int sched_cursor_fd;
	int backend_load_fd;
	int backend_pending_fd;
	int backend_live_fd;
	int persist_fd;
	int filter_config_fd, block4_fd, block6_fd, vip_filter_fd; /* source filters */
	int limit_state_fd, limit_base_fd;                         /* per-client limits */
	int ncpus;
	int table_mmap; /* tables are mmapable: 1, not (an older build's maglev_tables): 0, unknown: -1 */
};

/* Load-time settings, written to the object's .rodata before load. */
struct xlb_load_opts {
	__u32 ct_size;
	__u64 tcp_idle_ns;
	__u64 udp_idle_ns;
	__u64 tcp_closing_ns; /* after a FIN or RST from the client */
	__u32 fake_clock; /* tests: time comes from the fake_clock_ns global */
};

#define XLB_LOAD_OPTS_DEFAULT                                                  \
	{                                                                      \
		.ct_size = XLB_CT_SIZE, .tcp_idle_ns = 300ULL * 1000000000ULL, \
		.udp_idle_ns = 30ULL * 1000000000ULL,                          \
		.tcp_closing_ns = 10ULL * 1000000000ULL,                       \
	}

/* Apply opts to any skeleton built from bpf/xlb.bpf.c, before its load. */
#define XLB_SKEL_CONFIGURE(skel, opts)                                         \
	({                                                                     \
		(skel)->rodata->tcp_idle_ns = (opts)->tcp_idle_ns;             \
		(skel)->rodata->udp_idle_ns = (opts)->udp_idle_ns;             \
		(skel)->rodata->tcp_closing_ns = (opts)->tcp_closing_ns;       \
		(skel)->rodata->use_fake_clock = (opts)->fake_clock;           \
		bpf_map__set_max_entries((skel)->maps.flows4, (opts)->ct_size); \
		bpf_map__set_max_entries((skel)->maps.flows6, (opts)->ct_size); \
	})

/* Find the maps of a loaded object. Returns 0 or -ENOENT. */
int xlb_dp_init(struct xlb_dp *dp, struct bpf_object *obj);

int xlb_dp_addr_bits_set(struct xlb_dp *dp, __u32 word, __u64 bits);
int xlb_dp_vip_addr_set(struct xlb_dp *dp, const __be32 addr[4], __u32 vip_count);
int xlb_dp_vip_addr_del(struct xlb_dp *dp, const __be32 addr[4]);
int xlb_dp_vip_set(struct xlb_dp *dp, const struct vip_key *key,
		   const struct vip_meta *meta);
int xlb_dp_vip_del(struct xlb_dp *dp, const struct vip_key *key);
int xlb_dp_encap_set(struct xlb_dp *dp, const struct encap_config *cfg);
int xlb_dp_encap_get(struct xlb_dp *dp, struct encap_config *cfg);
int xlb_dp_backend_set(struct xlb_dp *dp, __u32 id, const struct backend *be);
int xlb_dp_backend_get(struct xlb_dp *dp, __u32 id, struct backend *be);
/*
 * A VIP's Maglev table (lbtable.h): a new inner map, every slot
 * XLB_NO_BACKEND (an fd, or -errno); *n slots written in one batch (*n
 * becomes how many were written); VIPs vip_ids[i] pointed at tables fds[i],
 * returning after a grace period: no packet still reads what they replace.
 */
int xlb_dp_table_new(struct xlb_dp *dp, __u32 **mem); /* mem: its slots mapped, or NULL */
/* An array map's elements are 8-byte aligned: slot i of a mapped table is at mem[i * 2]. */
#define XLB_TABLE_STRIDE 8
void xlb_dp_table_unmap(__u32 *mem);
int xlb_dp_table_write(int table_fd, const __u32 *slots, const __u32 *ids, __u32 *n);
int xlb_dp_table_attach(struct xlb_dp *dp, const __u32 *vip_ids, const int *fds, __u32 n);
int xlb_dp_table_get(struct xlb_dp *dp, __u32 vip_id, __u32 *table);
int xlb_dp_tx_port_add(struct xlb_dp *dp, __u32 ifindex);

/* Schedulers (bpf/sched.h): a VIP's settings, the loads xlbd writes, what explain reads. */
int xlb_dp_vip_sched_set(struct xlb_dp *dp, __u32 vip_id, const struct vip_sched *vs);
int xlb_dp_vip_sched_get(struct xlb_dp *dp, __u32 vip_id, struct vip_sched *vs);
int xlb_dp_backend_load_set(struct xlb_dp *dp, __u32 id, const struct backend_load *l);
int xlb_dp_backend_load_get(struct xlb_dp *dp, __u32 id, struct backend_load *l);
/*
 * A backend's picks since the load's epoch as the program counts them:
 * count, every CPU's own (for lt); since, the shared picks less closes
 * from the first CPU that looked in the epoch (0 if none has).
 */
int xlb_dp_backend_pending(struct xlb_dp *dp, __u32 id, __u32 epoch, __u64 *count,
			   __s64 *since);
/* cursors[0..ncpus-1]: each CPU's next slot of a VIP's rotation. */
int xlb_dp_sched_cursors(struct xlb_dp *dp, __u32 vip_id, __u64 *cursors);
int xlb_dp_persist_get(struct xlb_dp *dp, const struct persist_key *k, struct persist_entry *e);

/*
 * Global counters, summed over CPUs: out[i] for every counter of
 * xlb_stat_info; slots of retired counters (gaps) read 0.
 */
int xlb_dp_stats(struct xlb_dp *dp, __u64 out[XLB_STAT_MAX]);
int xlb_dp_vip_stats(struct xlb_dp *dp, __u32 vip_id, struct traffic_stats *out);
int xlb_dp_backend_stats(struct xlb_dp *dp, __u32 backend_id,
			 struct traffic_stats *out);
/* Zero a per-CPU traffic slot (an id is being reused). */
int xlb_dp_traffic_reset(struct xlb_dp *dp, int map_fd, __u32 id);

/* Which connection table holds a flow. */
enum xlb_flow_table {
	XLB_FLOW_TABLE_NONE,
	XLB_FLOW_TABLE_MAIN,      /* flows4 or flows6 */
	XLB_FLOW_TABLE_PROBATION, /* seen once */
	XLB_FLOW_TABLE_LEGACY,    /* an older build's "conntrack" */
};

/* "main", "probation", "legacy", "none": what explain and the CLI print. */
const char *xlb_flow_table_name(enum xlb_flow_table table);

/* The coarse monotonic clock the data plane stamps flows with, in ticks. */
__u32 xlb_ticks_now(void);

/*
 * A flow's entry, as the data plane looks for it: its family's main table,
 * then probation, then the legacy table (its last_seen_ns made ticks).
 * *table says which; 0, or -ENOENT when none holds it.
 */
int xlb_dp_flow_get(struct xlb_dp *dp, const struct flow_key *key, struct flow_state *st,
		    enum xlb_flow_table *table);
/* One table's entry only (main or probation): 0 or -ENOENT. */
int xlb_dp_flow_lookup(struct xlb_dp *dp, enum xlb_flow_table table, const struct flow_key *key,
		       struct flow_state *st);
/* Write a flow into its family's main table. */
int xlb_dp_flow_set(struct xlb_dp *dp, const struct flow_key *key, const struct flow_state *st);

/* A walk over both main tables, a batch at a time: zero it to start. */
struct xlb_flow_walk {
	int family;   /* 0: flows4, 1: flows6, 2: done */
	int started;  /* the batch cursor is valid */
	__u32 cursor; /* the kernel's batch position */
};

typedef void (*xlb_flow_fn)(void *ctx, const struct flow_key *key, const struct flow_state *st);
/*
 * Visit about max entries (whole batches of up to 4096), calling fn for
 * each. Returns how many were visited (0 once both tables are done), or
 * -errno.
 */
/* A flows4 key as the 16-byte form of both families (v4-mapped addresses). */
void xlb_flow_key_of4(const struct flow4_key *k4, struct flow_key *key);
int xlb_dp_flow_walk(struct xlb_dp *dp, struct xlb_flow_walk *w, __u32 max, xlb_flow_fn fn,
		     void *ctx);
/* A backend id's main-table entries opened and closed, summed over CPUs. */
int xlb_dp_backend_flows(struct xlb_dp *dp, __u32 backend_id, struct flow_counts *out);

/* The counter table of maps/xlb_stats.h, as data: XLB_STAT_COUNT entries, by index. */
struct xlb_stat_info {
	enum xlb_stat index;
	enum xlb_stat_class class;
	const char *name;
};

extern const struct xlb_stat_info xlb_stat_info[XLB_STAT_COUNT];
/* Views by index; a gap has a NULL name (skip it). */
extern const char *const xlb_stat_names[XLB_STAT_MAX];
extern const enum xlb_stat_class xlb_stat_class[XLB_STAT_MAX];
/* The name without its class's "pass_"/"drop_" prefix: a metrics label. */
const char *xlb_stat_reason(enum xlb_stat index);

#endif /* XLB_DATAPLANE_H */
