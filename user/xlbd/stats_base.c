// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl stats -z: a baseline of the counters, kept in xlbd's memory (a
 * restart forgets it), subtracted from what `stats` shows. The data
 * plane's counters are never written, so they stay monotonic for the
 * metrics endpoint. Entries are indexed by data plane id and carry the VIP
 * and address they were taken for, so a reused id starts from zero.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "xlbd.h"

struct base_entry {
	struct vip_key vip;
	__be32 addr[4];
	int set;
	struct traffic_stats ts;
};

struct xlb_stats_base {
	int global_set;
	__u64 global[XLB_STAT_MAX];
	struct base_entry vips[XLB_MAX_VIPS];
	struct base_entry backends[XLB_MAX_BACKENDS];
};

/* The counters of one process lifetime: freed with it. */
static struct xlb_stats_base *base;

static __u64 minus(__u64 now, __u64 then)
{
	return now >= then ? now - then : now; /* the maps restarted below it */
}

static struct base_entry *entry(int backend, __u32 id)
{
	if (!base)
		return NULL;
	if (backend)
		return id < XLB_MAX_BACKENDS ? &base->backends[id] : NULL;
	return id < XLB_MAX_VIPS ? &base->vips[id] : NULL;
}

static int same(const struct base_entry *e, const struct vip_key *vip, const __be32 *addr)
{
	return e->set && !memcmp(&e->vip, vip, sizeof(*vip)) &&
	       (!addr || !memcmp(e->addr, addr, sizeof(e->addr)));
}

int stats_base_alloc(void)
{
	if (!base)
		base = calloc(1, sizeof(*base));
	return base ? 0 : -ENOMEM;
}

void stats_base_global(__u64 *counters, int zero)
{
	__u32 i;

	if (!base)
		return;
	for (i = 0; i < XLB_STAT_MAX; i++) {
		__u64 now = counters[i];

		if (base->global_set)
			counters[i] = minus(now, base->global[i]);
		if (zero)
			base->global[i] = now;
	}
	if (zero)
		base->global_set = 1;
}

void stats_base_traffic(int backend, __u32 id, const struct vip_key *vip, const __be32 *addr,
			struct traffic_stats *ts, int zero)
{
	struct base_entry *e = entry(backend, id);
	struct traffic_stats now = *ts;

	if (!e)
		return;
	if (same(e, vip, addr)) {
		ts->packets = minus(now.packets, e->ts.packets);
		ts->bytes = minus(now.bytes, e->ts.bytes);
		ts->new_flows = minus(now.new_flows, e->ts.new_flows);
	}
	if (!zero)
		return;
	e->vip = *vip;
	if (addr)
		memcpy(e->addr, addr, sizeof(e->addr));
	e->ts = now;
	e->set = 1;
}
