// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dataplane.h"
#include "../../bpf/hash.h"

#define STAT_INFO(id, idx, nm, cls) \
	{ .index = XLB_STAT_##id, .class = XLB_STAT_CLASS_##cls, .name = nm },
#define STAT_NAME(id, idx, nm, cls) [idx] = nm,
#define STAT_CLASS(id, idx, nm, cls) [idx] = XLB_STAT_CLASS_##cls,

const struct xlb_stat_info xlb_stat_info[XLB_STAT_COUNT] = { XLB_STATS(STAT_INFO) };
const char *const xlb_stat_names[XLB_STAT_MAX] = { XLB_STATS(STAT_NAME) };
const enum xlb_stat_class xlb_stat_class[XLB_STAT_MAX] = { XLB_STATS(STAT_CLASS) };

const char *xlb_stat_reason(enum xlb_stat index)
{
	const char *name = xlb_stat_names[index];

	if (name && xlb_stat_class[index] == XLB_STAT_CLASS_PASS && !strncmp(name, "pass_", 5))
		return name + 5;
	if (name && xlb_stat_class[index] == XLB_STAT_CLASS_DROP && !strncmp(name, "drop_", 5))
		return name + 5;
	return name;
}

static int map_fd(struct bpf_object *obj, const char *name, int *fd)
{
	*fd = bpf_object__find_map_fd_by_name(obj, name);
	return *fd < 0 ? -ENOENT : 0;
}

int xlb_dp_init(struct xlb_dp *dp, struct bpf_object *obj)
{
	int err = 0;

	memset(dp, 0, sizeof(*dp));
	err = err ?: map_fd(obj, "vip_addr_bits", &dp->vip_addr_bits_fd);
	err = err ?: map_fd(obj, "vip_addrs", &dp->vip_addrs_fd);
	err = err ?: map_fd(obj, "vips", &dp->vips_fd);
	err = err ?: map_fd(obj, "maglev_tables", &dp->maglev_tables_fd);
	err = err ?: map_fd(obj, "backends", &dp->backends_fd);
	err = err ?: map_fd(obj, "flows4", &dp->flows4_fd);
	err = err ?: map_fd(obj, "flows6", &dp->flows6_fd);
	err = err ?: map_fd(obj, "flow_probation", &dp->probation_fd);
	err = err ?: map_fd(obj, "conntrack", &dp->legacy_ct_fd);
	err = err ?: map_fd(obj, "backend_flows", &dp->backend_flows_fd);
	err = err ?: map_fd(obj, "tx_ports", &dp->tx_ports_fd);
	err = err ?: map_fd(obj, "encap_config", &dp->encap_config_fd);
	err = err ?: map_fd(obj, "stats", &dp->stats_fd);
	err = err ?: map_fd(obj, "vip_stats", &dp->vip_stats_fd);
	err = err ?: map_fd(obj, "backend_stats", &dp->backend_stats_fd);
	err = err ?: map_fd(obj, "vip_sched", &dp->vip_sched_fd);
	err = err ?: map_fd(obj, "sched_cursor", &dp->sched_cursor_fd);
	err = err ?: map_fd(obj, "backend_load", &dp->backend_load_fd);
	err = err ?: map_fd(obj, "backend_pending", &dp->backend_pending_fd);
	err = err ?: map_fd(obj, "backend_live", &dp->backend_live_fd);
	err = err ?: map_fd(obj, "persist", &dp->persist_fd);
	err = err ?: map_fd(obj, "filter_config", &dp->filter_config_fd);
	err = err ?: map_fd(obj, "block4", &dp->block4_fd);
	err = err ?: map_fd(obj, "block6", &dp->block6_fd);
	err = err ?: map_fd(obj, "vip_filter", &dp->vip_filter_fd);
	err = err ?: map_fd(obj, "limit_state", &dp->limit_state_fd);
	err = err ?: map_fd(obj, "limit_base", &dp->limit_base_fd);
	if (err)
		return err;
	dp->table_mmap = -1;
	dp->ncpus = libbpf_num_possible_cpus();
	return dp->ncpus < 0 ? dp->ncpus : 0;
}

static int update(int fd, const void *key, const void *value)
{
	return bpf_map_update_elem(fd, key, value, BPF_ANY) ? -errno : 0;
}

static int delete(int fd, const void *key)
{
	return bpf_map_delete_elem(fd, key) ? -errno : 0;
}

int xlb_dp_addr_bits_set(struct xlb_dp *dp, __u32 word, __u64 bits)
{
	return update(dp->vip_addr_bits_fd, &word, &bits);
}

int xlb_dp_vip_addr_set(struct xlb_dp *dp, const __be32 addr[4], __u32 vip_count)
{
	struct vip_key key = {};
	struct vip_addr_meta meta = { .vip_count = vip_count };

	memcpy(key.addr, addr, sizeof(key.addr));
	return update(dp->vip_addrs_fd, &key, &meta);
}

int xlb_dp_vip_addr_del(struct xlb_dp *dp, const __be32 addr[4])
{
	struct vip_key key = {};

	memcpy(key.addr, addr, sizeof(key.addr));
	return delete(dp->vip_addrs_fd, &key);
}

int xlb_dp_vip_set(struct xlb_dp *dp, const struct vip_key *key,
		   const struct vip_meta *meta)
{
	return update(dp->vips_fd, key, meta);
}

int xlb_dp_vip_del(struct xlb_dp *dp, const struct vip_key *key)
{
	return delete(dp->vips_fd, key);
}

int xlb_dp_backend_set(struct xlb_dp *dp, __u32 id, const struct backend *be)
{
	return update(dp->backends_fd, &id, be);
}

int xlb_dp_backend_get(struct xlb_dp *dp, __u32 id, struct backend *be)
{
	return bpf_map_lookup_elem(dp->backends_fd, &id, be) ? -errno : 0;
}

static int table_create(__u32 flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "maglev_table", sizeof(__u32),
				sizeof(__u32), XLB_MAGLEV_SIZE, &opts);

	return fd < 0 ? -errno : fd;
}

/*
 * Does maglev_tables take mmapable tables? An older build's pinned one,
 * adopted at an upgrade, takes only its own kind (the kernel compares the
 * flags): ask it once, at an index no VIP uses, so no packet reads it.
 */
static int table_mmap_probe(struct xlb_dp *dp)
{
	__u32 idx, inner;
	int fd, ok = 0;

	for (idx = XLB_MAX_VIPS; idx-- > 0;)
		if (bpf_map_lookup_elem(dp->maglev_tables_fd, &idx, &inner) && errno == ENOENT)
			break;
	if (idx >= XLB_MAX_VIPS)
		return 0;
	fd = table_create(BPF_F_MMAPABLE);
	if (fd < 0)
		return 0;
	if (!bpf_map_update_elem(dp->maglev_tables_fd, &idx, &fd, BPF_ANY)) {
		ok = 1;
		bpf_map_delete_elem(dp->maglev_tables_fd, &idx);
	}
	close(fd);
	return ok;
}

static size_t table_bytes(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (XLB_MAGLEV_SIZE * XLB_TABLE_STRIDE + page - 1) / page * page;
}

int xlb_dp_table_new(struct xlb_dp *dp, __u32 **mem)
{
	void *p;
	int fd;

	if (dp->table_mmap < 0)
		dp->table_mmap = table_mmap_probe(dp);
	fd = table_create(dp->table_mmap ? BPF_F_MMAPABLE : 0);
	if (fd < 0 || !mem)
		return fd;
	*mem = NULL;
	if (!dp->table_mmap)
		return fd;
	p = mmap(NULL, table_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	*mem = p;
	return fd;
}

void xlb_dp_table_unmap(__u32 *mem)
{
	if (mem)
		munmap(mem, table_bytes());
}

int xlb_dp_table_write(int table_fd, const __u32 *slots, const __u32 *ids, __u32 *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (!*n)
		return 0;
	return bpf_map_update_batch(table_fd, slots, ids, n, &opts) ? -errno : 0;
}

/*
 * A map-in-map update from a system call returns once no program can still
 * run with the map it replaced (the kernel waits for an RCU grace period).
 * A batch waits once after all its entries on recent kernels (6.18 does)
 * but not at all on older ones, so the last entry goes alone, and waits.
 */
int xlb_dp_table_attach(struct xlb_dp *dp, const __u32 *vip_ids, const int *fds, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n - 1, i;
	int err;

	if (!n)
		return 0;
	if (count && bpf_map_update_batch(dp->maglev_tables_fd, vip_ids, fds, &count, &opts)) {
		for (i = 0; i < n - 1; i++) { /* no batch for this map type: one at a time */
			err = update(dp->maglev_tables_fd, &vip_ids[i], &fds[i]);
			if (err)
				return err;
		}
	}
	return update(dp->maglev_tables_fd, &vip_ids[n - 1], &fds[n - 1]);
}

int xlb_dp_table_get(struct xlb_dp *dp, __u32 vip_id, __u32 *table)
{
	__u32 inner_id, i;
	int inner_fd, err = 0;

	if (bpf_map_lookup_elem(dp->maglev_tables_fd, &vip_id, &inner_id))
		return -errno;
	inner_fd = bpf_map_get_fd_by_id(inner_id);
	if (inner_fd < 0)
		return -errno;
	for (i = 0; i < XLB_MAGLEV_SIZE && !err; i++)
		if (bpf_map_lookup_elem(inner_fd, &i, &table[i]))
			err = -errno;
	close(inner_fd);
	return err;
}

int xlb_dp_encap_set(struct xlb_dp *dp, const struct encap_config *cfg)
{
	__u32 zero = 0;

	return update(dp->encap_config_fd, &zero, cfg);
}

int xlb_dp_encap_get(struct xlb_dp *dp, struct encap_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(dp->encap_config_fd, &zero, cfg) ? -errno : 0;
}

int xlb_dp_tx_port_add(struct xlb_dp *dp, __u32 ifindex)
{
	struct bpf_devmap_val val = { .ifindex = ifindex };

	return update(dp->tx_ports_fd, &ifindex, &val);
}

int xlb_dp_stats(struct xlb_dp *dp, __u64 out[XLB_STAT_MAX])
{
	__u64 *percpu;
	__u32 i, slot;
	int cpu, err = 0;

	percpu = calloc(dp->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	memset(out, 0, sizeof(__u64) * XLB_STAT_MAX);
	for (i = 0; i < XLB_STAT_COUNT; i++) {
		slot = xlb_stat_info[i].index;
		if (bpf_map_lookup_elem(dp->stats_fd, &slot, percpu)) {
			if (errno == ENOENT) /* beyond an older build's map: not counted */
				continue;
			err = -errno;
			break;
		}
		for (cpu = 0; cpu < dp->ncpus; cpu++)
			out[slot] += percpu[cpu];
	}
	free(percpu);
	return err;
}

static int traffic_read(struct xlb_dp *dp, int fd, __u32 id,
			struct traffic_stats *out)
{
	struct traffic_stats *percpu;
	int cpu, err = 0;

	percpu = calloc(dp->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &id, percpu)) {
		err = -errno;
		goto out;
	}
	for (cpu = 0; cpu < dp->ncpus; cpu++) {
		out->packets += percpu[cpu].packets;
		out->bytes += percpu[cpu].bytes;
		out->new_flows += percpu[cpu].new_flows;
	}
out:
	free(percpu);
	return err;
}

int xlb_dp_vip_stats(struct xlb_dp *dp, __u32 vip_id, struct traffic_stats *out)
{
	return traffic_read(dp, dp->vip_stats_fd, vip_id, out);
}

int xlb_dp_backend_stats(struct xlb_dp *dp, __u32 backend_id,
			 struct traffic_stats *out)
{
	return traffic_read(dp, dp->backend_stats_fd, backend_id, out);
}

int xlb_dp_traffic_reset(struct xlb_dp *dp, int map_fd, __u32 id)
{
	struct traffic_stats *zero;
	int err;

	zero = calloc(dp->ncpus, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	err = update(map_fd, &id, zero);
	free(zero);
	return err;
}

__u32 xlb_ticks_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* bpf_ktime_get_coarse_ns() */
	return XLB_NS_TO_TICKS((__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec);
}

static void flow4_key_of(const struct flow_key *key, struct flow4_key *k4)
{
	memset(k4, 0, sizeof(*k4));
	k4->saddr = key->saddr[3];
	k4->daddr = key->daddr[3];
	k4->sport = key->sport;
	k4->dport = key->dport;
	k4->proto = key->proto;
}

static int main_lookup(struct xlb_dp *dp, const struct flow_key *key, struct flow_state *st)
{
	struct flow4_key k4;

	if (xlb_is_v4mapped(key->saddr) && xlb_is_v4mapped(key->daddr)) {
		flow4_key_of(key, &k4);
		return bpf_map_lookup_elem(dp->flows4_fd, &k4, st) ? -errno : 0;
	}
	return bpf_map_lookup_elem(dp->flows6_fd, key, st) ? -errno : 0;
}

/* The first of key's two probation slots that holds key whole (the data plane's rule). */
static int probation_lookup(struct xlb_dp *dp, const struct flow_key *key, struct flow_state *st)
{
	__u32 hash = xlb_hash_entropy(key->saddr, key->daddr, key->sport, key->dport, key->proto);
	struct flow_probation p;
	__u32 slot;
	int i;

	for (i = 0; i < 2; i++) {
		slot = xlb_probation_slot(hash, i);
		if (bpf_map_lookup_elem(dp->probation_fd, &slot, &p))
			return -errno;
		if (memcmp(&p.key, key, sizeof(*key)) ||
		    p.check != xlb_probation_check(hash, p.backend_id, p.backend_gen))
			continue;
		memset(st, 0, sizeof(*st));
		st->backend_id = p.backend_id;
		st->backend_gen = p.backend_gen;
		st->seen = p.seen;
		return 0;
	}
	return -ENOENT;
}

int xlb_dp_flow_lookup(struct xlb_dp *dp, enum xlb_flow_table table, const struct flow_key *key,
		       struct flow_state *st)
{
	if (table == XLB_FLOW_TABLE_MAIN)
		return main_lookup(dp, key, st);
	if (table == XLB_FLOW_TABLE_PROBATION)
		return probation_lookup(dp, key, st);
	return -ENOENT;
}

int xlb_dp_flow_get(struct xlb_dp *dp, const struct flow_key *key, struct flow_state *st,
		    enum xlb_flow_table *table)
{
	struct flow_entry old;

	*table = XLB_FLOW_TABLE_MAIN;
	if (!main_lookup(dp, key, st))
		return 0;
	*table = XLB_FLOW_TABLE_PROBATION;
	if (!probation_lookup(dp, key, st))
		return 0;
	*table = XLB_FLOW_TABLE_LEGACY;
	if (!bpf_map_lookup_elem(dp->legacy_ct_fd, key, &old)) {
		memset(st, 0, sizeof(*st));
		st->backend_id = old.backend_id;
		st->backend_gen = old.backend_gen;
		st->seen = XLB_NS_TO_TICKS(old.last_seen_ns);
		return 0;
	}
	*table = XLB_FLOW_TABLE_NONE;
	return -ENOENT;
}

int xlb_dp_flow_set(struct xlb_dp *dp, const struct flow_key *key, const struct flow_state *st)
{
	struct flow4_key k4;

	if (xlb_is_v4mapped(key->saddr) && xlb_is_v4mapped(key->daddr)) {
		flow4_key_of(key, &k4);
		return update(dp->flows4_fd, &k4, st);
	}
	return update(dp->flows6_fd, key, st);
}

#define WALK_BATCH 4096

void xlb_flow_key_of4(const struct flow4_key *k4, struct flow_key *key)
{
	memset(key, 0, sizeof(*key));
	key->saddr[2] = key->daddr[2] = htonl(0xffff);
	key->saddr[3] = k4->saddr;
	key->daddr[3] = k4->daddr;
	key->sport = k4->sport;
	key->dport = k4->dport;
	key->proto = k4->proto;
}

int xlb_dp_flow_walk(struct xlb_dp *dp, struct xlb_flow_walk *w, __u32 max, xlb_flow_fn fn,
		     void *ctx)
{
	static __thread union {
		struct flow4_key k4[WALK_BATCH];
		struct flow_key k6[WALK_BATCH];
	} keys;
	static __thread struct flow_state vals[WALK_BATCH];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct flow_key key;
	__u32 visited = 0, n, i, next;
	int fd, ret;

	while (w->family < 2 && visited < max) {
		fd = w->family ? dp->flows6_fd : dp->flows4_fd;
		/* a whole batch: the kernel returns whole buckets, -ENOSPC for one larger than n */
		n = WALK_BATCH;
		ret = bpf_map_lookup_batch(fd, w->started ? &w->cursor : NULL, &next,
					   w->family ? (void *)keys.k6 : (void *)keys.k4, vals, &n,
					   &opts);
		if (ret && errno != ENOENT)
			return -errno;
		for (i = 0; i < n; i++) {
			if (w->family)
				key = keys.k6[i];
			else
				xlb_flow_key_of4(&keys.k4[i], &key);
			fn(ctx, &key, &vals[i]);
		}
		visited += n;
		if (ret) { /* ENOENT: this table is done */
			w->family++;
			w->started = 0;
		} else {
			w->cursor = next;
			w->started = 1;
		}
	}
	return (int)visited;
}

int xlb_dp_backend_flows(struct xlb_dp *dp, __u32 backend_id, struct flow_counts *out)
{
	struct flow_counts *percpu = calloc(dp->ncpus, sizeof(*percpu));
	int cpu, err = 0;

	if (!percpu)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(dp->backend_flows_fd, &backend_id, percpu))
		err = -errno;
	for (cpu = 0; !err && cpu < dp->ncpus; cpu++) {
		out->opened += percpu[cpu].opened;
		out->closed += percpu[cpu].closed;
	}
	free(percpu);
	return err;
}

const char *xlb_flow_table_name(enum xlb_flow_table table)
{
	switch (table) {
	case XLB_FLOW_TABLE_MAIN:
		return "main";
	case XLB_FLOW_TABLE_PROBATION:
		return "probation";
	case XLB_FLOW_TABLE_LEGACY:
		return "legacy";
	default:
		return "none";
	}
}

int xlb_dp_vip_sched_set(struct xlb_dp *dp, __u32 vip_id, const struct vip_sched *vs)
{
	return update(dp->vip_sched_fd, &vip_id, vs);
}

int xlb_dp_vip_sched_get(struct xlb_dp *dp, __u32 vip_id, struct vip_sched *vs)
{
	return bpf_map_lookup_elem(dp->vip_sched_fd, &vip_id, vs) ? -errno : 0;
}

int xlb_dp_backend_load_set(struct xlb_dp *dp, __u32 id, const struct backend_load *l)
{
	return update(dp->backend_load_fd, &id, l);
}

int xlb_dp_backend_load_get(struct xlb_dp *dp, __u32 id, struct backend_load *l)
{
	return bpf_map_lookup_elem(dp->backend_load_fd, &id, l) ? -errno : 0;
}

int xlb_dp_backend_pending(struct xlb_dp *dp, __u32 id, __u32 epoch, __u64 *count,
			   __s64 *since)
{
	struct backend_pending *percpu = calloc(dp->ncpus, sizeof(*percpu));
	struct backend_live lv = {};
	int cpu, err = 0, based = 0;

	if (!percpu)
		return -ENOMEM;
	*count = 0;
	*since = 0;
	if (bpf_map_lookup_elem(dp->backend_pending_fd, &id, percpu) ||
	    bpf_map_lookup_elem(dp->backend_live_fd, &id, &lv))
		err = -errno;
	for (cpu = 0; !err && cpu < dp->ncpus; cpu++) {
		if (percpu[cpu].epoch != epoch)
			continue;
		*count += percpu[cpu].count;
		if (!based++)
			*since = (__s64)(lv.picks - percpu[cpu].picks_base) -
				 (__s64)(lv.closes - percpu[cpu].closes_base);
	}
	free(percpu);
	return err;
}

int xlb_dp_sched_cursors(struct xlb_dp *dp, __u32 vip_id, __u64 *cursors)
{
	return bpf_map_lookup_elem(dp->sched_cursor_fd, &vip_id, cursors) ? -errno : 0;
}

int xlb_dp_persist_get(struct xlb_dp *dp, const struct persist_key *k, struct persist_entry *e)
{
	return bpf_map_lookup_elem(dp->persist_fd, k, e) ? -errno : 0;
}
