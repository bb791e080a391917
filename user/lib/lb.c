// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lb.h"
#include "../../bpf/hash.h"
#include "maglev.h"

/* twice the backends: probes stay short */
/* a power of two of at least twice the backends, whatever -D shrinks them to */
#define XLB_ADOPT_INDEX_SIZE (1u << (33 - __builtin_clz(XLB_MAX_BACKENDS - 1)))

struct xlb_lb *xlb_lb_new(struct xlb_dp *dp)
{
	struct xlb_lb *lb = calloc(1, sizeof(*lb));

	if (!lb)
		return NULL;
	lb->empty_fd = -1;
	lb->table = calloc(XLB_MAGLEV_SIZE, sizeof(*lb->table));
	lb->slots = calloc(XLB_MAGLEV_SIZE, sizeof(*lb->slots));
	lb->ids = calloc(XLB_MAGLEV_SIZE, sizeof(*lb->ids));
	if (!lb->table || !lb->slots || !lb->ids) {
		xlb_lb_free(lb);
		return NULL;
	}
	lb->dp = dp;
	lb->next_backend_id = 1;
	return lb;
}

void xlb_lb_free(struct xlb_lb *lb)
{
	__u32 i;

	if (!lb)
		return;
	/* the tables stay in maglev_tables, which holds them, and keep forwarding */
	for (i = 0; i < XLB_MAX_VIPS; i++) {
		free(lb->vips[i].backends);
		free(lb->vips[i].by_addr);
		free(lb->vips[i].unreleased);
		xlb_vip_table_free(&lb->vips[i].table);
	}
	if (lb->empty_fd >= 0)
		close(lb->empty_fd);
	free(lb->table);
	free(lb->slots);
	free(lb->ids);
	free(lb->adopting);
	free(lb->adopt_index);
	free(lb);
}

static int same_addr(const __be32 a[4], const __be32 b[4])
{
	return !memcmp(a, b, 16);
}

static __u32 vips_on_addr(struct xlb_lb *lb, const __be32 addr[4])
{
	__u32 i, count = 0;

	for (i = 0; i < XLB_MAX_VIPS; i++)
		if (lb->vips[i].in_use && same_addr(lb->vips[i].key.addr, addr))
			count++;
	return count;
}

struct xlb_lb_vip *xlb_lb_vip_find(struct xlb_lb *lb, const struct vip_key *key)
{
	__u32 i;

	for (i = 0; i < XLB_MAX_VIPS; i++)
		if (lb->vips[i].in_use && !memcmp(&lb->vips[i].key, key, sizeof(*key)))
			return &lb->vips[i];
	return NULL;
}

/* ---- indexes by address: open addressing, linear probing ---- */

static __u32 addr_hash(__u32 vip_id, const __be32 addr[4])
{
	__u32 h = xlb_hash_step(XLB_HASH_SEED, vip_id), i;

	for (i = 0; i < 4; i++)
		h = xlb_hash_step(h, addr[i]);
	return xlb_hash_final(h, 20);
}

/* The slot holding addr in the VIP's index, or the free slot where it would go. */
static __u32 *by_addr_slot(struct xlb_lb_vip *vip, const __be32 addr[4])
{
	__u32 mask = vip->by_addr_cap - 1, h = addr_hash(0, addr) & mask;

	while (vip->by_addr[h] && !same_addr(vip->backends[vip->by_addr[h] - 1].spec.addr, addr))
		h = (h + 1) & mask;
	return &vip->by_addr[h];
}

/* Index every backend of the VIP again, in a table sized for its capacity. */
static int by_addr_rebuild(struct xlb_lb_vip *vip)
{
	__u32 cap = 16, i;

	while (cap < vip->cap * 2)
		cap *= 2;
	if (cap != vip->by_addr_cap) {
		__u32 *p = calloc(cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		free(vip->by_addr);
		vip->by_addr = p;
		vip->by_addr_cap = cap;
	} else {
		memset(vip->by_addr, 0, cap * sizeof(*vip->by_addr));
	}
	for (i = 0; i < vip->nbackends; i++)
		*by_addr_slot(vip, vip->backends[i].spec.addr) = i + 1;
	return 0;
}

struct xlb_lb_backend *xlb_lb_backend_find(struct xlb_lb_vip *vip,
					   const __be32 addr[4])
{
	__u32 slot;

	if (!vip->by_addr)
		return NULL;
	slot = *by_addr_slot(vip, addr);
	return slot ? &vip->backends[slot - 1] : NULL;
}

/* Adopting: the slot of (VIP id, addr) in the index of the old backends that keep flows. */
static __u32 *adopt_slot(struct xlb_lb *lb, __u32 vip_id, const __be32 addr[4])
{
	__u32 mask = XLB_ADOPT_INDEX_SIZE - 1, h = addr_hash(vip_id, addr) & mask;

	while (lb->adopt_index[h]) {
		const struct backend *old = &lb->adopting[lb->adopt_index[h]];

		if (old->vip_id == vip_id && same_addr(old->addr, addr))
			break;
		h = (h + 1) & mask;
	}
	return &lb->adopt_index[h];
}

/* The id a previous daemon gave (VIP, addr) if it serves flows and is not taken, else 0. */
static __u32 adopt_lookup(struct xlb_lb *lb, const struct xlb_lb_vip *vip, const __be32 addr[4])
{
	__u32 id;

	if (!lb->adopting)
		return 0;
	id = *adopt_slot(lb, vip->id, addr);
	return id && !lb->backend_used[id] ? id : 0;
}

static int keeps_flows(const struct xlb_backend_spec *spec)
{
	return spec->state == XLB_BE_UP || spec->state == XLB_BE_DRAIN;
}

static int backend_write(struct xlb_lb *lb, const struct xlb_lb_vip *vip,
			 struct xlb_lb_backend *b, int keep)
{
	struct backend be = {};
	int err;

	memcpy(be.addr, b->spec.addr, sizeof(be.addr));
	memcpy(be.mac, b->spec.mac, sizeof(be.mac));
	memcpy(be.src_mac, b->spec.src_mac, sizeof(be.src_mac));
	be.ifindex = b->spec.ifindex;
	be.flags = keep ? XLB_BACKEND_F_KEEP_FLOWS : 0;
	if (keep && xlb_lb_in_table(&b->spec))
		be.flags |= XLB_BACKEND_F_NEW_FLOWS;
	if (vip->forward == XLB_FWD_IPIP)
		be.flags |= XLB_BACKEND_F_ENCAP;
	be.gen = lb->backend_gen[b->id];
	be.vip_id = vip->id;
	if (!memcmp(&be, &b->written, sizeof(be)))
		return 0;
	err = xlb_dp_backend_set(lb->dp, b->id, &be);
	if (!err)
		b->written = be;
	return err;
}

static int vip_flush(struct xlb_lb *lb, struct xlb_lb_vip *vip)
{
	return xlb_lb_tables_write(lb, &vip, 1);
}

enum { TABLE_SAME, TABLE_CHANGES, TABLE_LOSES /* a backend leaves it: urgent */ };

/*
 * Push a VIP's backends; table: how the table changes. Backends that take
 * flows are written before a table names them; backends that lose them go
 * out of service at once (a packet still meeting them in the table is
 * dropped, not sent to them), then leave the table: at once, at the end of
 * a batch, or when due (coalescing).
 */
static int vip_sync(struct xlb_lb *lb, struct xlb_lb_vip *vip, int table)
{
	__u32 i;
	int err;

	for (i = 0; i < vip->nbackends; i++) {
		struct xlb_lb_backend *b = &vip->backends[i];
		int keep = keeps_flows(&b->spec);

		/* adopting: the old tables still name them; adopt_finish clears after */
		if (!keep && lb->adopting)
			continue;
		err = backend_write(lb, vip, b, keep);
		if (err)
			return err;
	}
	if (!table)
		return 0;
	xlb_lb_vip_mark(lb, vip, table == TABLE_LOSES);
	if (lb->adopting || lb->batch || lb->coalesce_ms)
		return 0;
	return vip_flush(lb, vip);
}

static int backend_id_alloc(struct xlb_lb *lb, __u32 *id)
{
	__u32 i, cand;

	for (i = 0; i < XLB_MAX_BACKENDS; i++) {
		cand = (lb->next_backend_id + i) % XLB_MAX_BACKENDS;
		if (cand == XLB_NO_BACKEND || lb->backend_used[cand])
			continue;
		/* adopting: a serving backend not re-added yet still owns its id */
		if (lb->adopting && (lb->adopting[cand].flags & XLB_BACKEND_F_KEEP_FLOWS))
			continue;
		lb->backend_used[cand] = 1;
		lb->backend_gen[cand]++;
		lb->next_backend_id = cand + 1;
		*id = cand;
		return xlb_dp_traffic_reset(lb->dp, lb->dp->backend_stats_fd, cand);
	}
	return -ENOSPC;
}

/* Take over the id a previous daemon gave this backend, if it still serves flows. */
static int backend_adopt(struct xlb_lb *lb, const struct xlb_lb_vip *vip,
			 struct xlb_lb_backend *b)
{
	__u32 id = adopt_lookup(lb, vip, b->spec.addr);

	if (!id)
		return 0;
	lb->backend_used[id] = 1;
	b->id = id;
	b->written = lb->adopting[id];
	return 1;
}

int xlb_lb_adoptable(struct xlb_lb *lb, const struct vip_key *key, const __be32 addr[4])
{
	struct xlb_lb_vip *vip = lb->adopting ? xlb_lb_vip_find(lb, key) : NULL;

	return vip && adopt_lookup(lb, vip, addr);
}

int xlb_lb_adopt_begin(struct xlb_lb *lb)
{
	__u32 i;
	int err;

	struct vip_key key, next;
	struct vip_meta meta;

	lb->adopting = calloc(XLB_MAX_BACKENDS, sizeof(*lb->adopting));
	lb->adopt_index = calloc(XLB_ADOPT_INDEX_SIZE, sizeof(*lb->adopt_index));
	if (!lb->adopting || !lb->adopt_index)
		return -ENOMEM;
	/* a new VIP must not take an id whose old table still carries traffic */
	for (err = bpf_map_get_next_key(lb->dp->vips_fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(lb->dp->vips_fd, &key, &next)) {
		key = next;
		if (!bpf_map_lookup_elem(lb->dp->vips_fd, &key, &meta) && meta.id < XLB_MAX_VIPS)
			lb->vip_reserved[meta.id] = 1;
	}
	for (i = 1; i < XLB_MAX_BACKENDS; i++) {
		err = xlb_dp_backend_get(lb->dp, i, &lb->adopting[i]);
		if (err)
			return err;
		/* generations only grow, so old flows never match a reused id */
		lb->backend_gen[i] = lb->adopting[i].gen;
		/* the lowest id wins a (VIP, address) that several claim */
		if (lb->adopting[i].flags & XLB_BACKEND_F_KEEP_FLOWS) {
			__u32 *slot = adopt_slot(lb, lb->adopting[i].vip_id, lb->adopting[i].addr);

			*slot = *slot ?: i;
		}
	}
	return 0;
}

static int vip_key_in_use(struct xlb_lb *lb, const struct vip_key *key)
{
	__u32 i;

	for (i = 0; i < XLB_MAX_VIPS; i++) {
		const struct xlb_lb_vip *v = &lb->vips[i];

		if (!v->in_use || !same_addr(v->key.addr, key->addr))
			continue;
		if (key->flags & XLB_VIPKEY_F_FRAG ? v->key.proto == key->proto :
		     !memcmp(&v->key, key, sizeof(*key)))
			return 1;
	}
	return 0;
}

/* Delete every key of map that keep() refuses. */
static int map_prune(struct xlb_lb *lb, int fd, int (*keep)(struct xlb_lb *, const struct vip_key *))
{
	struct vip_key key, next, *doomed = NULL;
	__u32 n = 0, i;
	int err = 0;

	doomed = calloc(XLB_MAX_VIPS * 2 + 1, sizeof(*doomed));
	if (!doomed)
		return -ENOMEM;
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (!keep(lb, &key) && n < XLB_MAX_VIPS * 2 + 1)
			doomed[n++] = key;
	}
	err = 0;
	for (i = 0; i < n && !err; i++)
		if (bpf_map_delete_elem(fd, &doomed[i]) && errno != ENOENT)
			err = -errno;
	free(doomed);
	return err;
}

static int addr_in_use(struct xlb_lb *lb, const struct vip_key *key)
{
	return vips_on_addr(lb, key->addr) > 0;
}

int xlb_lb_adopt_finish(struct xlb_lb *lb)
{
	struct backend *old = lb->adopting;
	__u64 bits, *want;
	__u32 i, j, bit;
	int err = 0;

	if (!old)
		return 0;
	lb->adopting = NULL;
	free(lb->adopt_index);
	lb->adopt_index = NULL;
	/* every backend is back: each table, whole, as the set now is ... */
	for (i = 0; i < XLB_MAX_VIPS; i++)
		if (lb->vips[i].in_use)
			xlb_lb_vip_mark(lb, &lb->vips[i], 0);
	err = xlb_lb_flush(lb);
	/* ... then out of service what no table names any more */
	for (i = 0; i < XLB_MAX_VIPS && !err; i++)
		for (j = 0; lb->vips[i].in_use && j < lb->vips[i].nbackends && !err; j++)
			if (!keeps_flows(&lb->vips[i].backends[j].spec))
				err = backend_write(lb, &lb->vips[i], &lb->vips[i].backends[j], 0);
	for (i = 1; i < XLB_MAX_BACKENDS && !err; i++) {
		struct backend be = old[i];

		if (!(be.flags & XLB_BACKEND_F_KEEP_FLOWS) || lb->backend_used[i])
			continue;
		be.flags = 0;
		err = xlb_dp_backend_set(lb->dp, i, &be);
	}
	err = err ?: map_prune(lb, lb->dp->vips_fd, vip_key_in_use);
	err = err ?: map_prune(lb, lb->dp->vip_addrs_fd, addr_in_use);
	for (i = 0; i < XLB_MAX_VIPS && !err; i++)
		if (!lb->vips[i].in_use &&
		    bpf_map_delete_elem(lb->dp->maglev_tables_fd, &i) && errno != ENOENT)
			err = -errno;
	want = calloc(XLB_ADDR_BITS_WORDS, sizeof(*want));
	if (!want)
		err = err ?: -ENOMEM;
	for (i = 0; i < XLB_MAX_VIPS && want; i++) {
		if (!lb->vips[i].in_use)
			continue;
		bit = xlb_addr_bit(lb->vips[i].key.addr);
		want[bit >> 6] |= 1ULL << (bit & 63);
	}
	for (i = 0; i < XLB_ADDR_BITS_WORDS && want && !err; i++)
		if (bpf_map_lookup_elem(lb->dp->vip_addr_bits_fd, &i, &bits) || bits != want[i])
			err = xlb_dp_addr_bits_set(lb->dp, i, want[i]);
	free(want);
	free(old);
	memset(lb->vip_reserved, 0, sizeof(lb->vip_reserved));
	return err;
}

/*
 * Out of service in the map first; the id may be handed out again once the
 * VIP's table no longer names it (tables_write), never before.
 */
static int backend_release(struct xlb_lb *lb, struct xlb_lb_vip *vip,
			   struct xlb_lb_backend *b)
{
	__u32 *p;
	int err = backend_write(lb, vip, b, 0);

	if (err)
		return err;
	p = realloc(vip->unreleased, (vip->nunreleased + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM; /* the id stays taken: safe, only lost */
	vip->unreleased = p;
	vip->unreleased[vip->nunreleased++] = b->id;
	return 0;
}

static void vip_meta_of(const struct xlb_lb_vip *vip, struct vip_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->id = vip->id;
	meta->sched = vip->sched;
	meta->forward = vip->forward;
	meta->flags = vip->persist.persist_ticks ? XLB_VIP_F_PERSIST : 0;
}

/*
 * Fragments carry no port, so one VIP per address and protocol takes them
 * all: the port-0 VIP if there is one, else the only VIP; with several
 * ports and no port-0 VIP, fragments are dropped.
 */
static int frag_vip_sync(struct xlb_lb *lb, const __be32 addr[4], __u8 proto)
{
	struct xlb_lb_vip *pick = NULL;
	struct vip_key key = { .proto = proto, .flags = XLB_VIPKEY_F_FRAG };
	struct vip_meta meta = {};
	__u32 i, count = 0;
	int err;

	for (i = 0; i < XLB_MAX_VIPS; i++) {
		struct xlb_lb_vip *v = &lb->vips[i];

		if (!v->in_use || v->key.proto != proto || !same_addr(v->key.addr, addr))
			continue;
		count++;
		if (!pick || v->key.port == 0)
			pick = v;
	}
	memcpy(key.addr, addr, sizeof(key.addr));
	if (!pick || (count > 1 && pick->key.port != 0)) {
		err = xlb_dp_vip_del(lb->dp, &key);
		return err == -ENOENT ? 0 : err;
	}
	vip_meta_of(pick, &meta);
	return xlb_dp_vip_set(lb->dp, &key, &meta);
}


/* Rewrite the filter word holding addr's bit from the VIPs that remain. */
static int addr_bits_sync(struct xlb_lb *lb, const __be32 addr[4])
{
	__u32 word = xlb_addr_bit(addr) >> 6, i, bit;
	__u64 bits = 0;

	/* adopting: old VIPs not re-added yet share words; only add, finish rebuilds */
	if (lb->adopting && bpf_map_lookup_elem(lb->dp->vip_addr_bits_fd, &word, &bits))
		return -errno;

	for (i = 0; i < XLB_MAX_VIPS; i++) {
		if (!lb->vips[i].in_use)
			continue;
		bit = xlb_addr_bit(lb->vips[i].key.addr);
		if (bit >> 6 == word)
			bits |= 1ULL << (bit & 63);
	}
	return xlb_dp_addr_bits_set(lb->dp, word, bits);
}

int xlb_lb_vip_add(struct xlb_lb *lb, const struct vip_key *key, __u8 sched,
		   __u8 forward)
{
	struct xlb_lb_vip *vip = NULL;
	struct vip_meta meta = {};
	__u32 i;
	int err, adopted;

	if (key->flags || (key->proto != 6 && key->proto != 17))
		return -EINVAL;
	if (xlb_lb_vip_find(lb, key))
		return -EEXIST;
	/* adopting: the id the maps already use keeps its counters */
	adopted = lb->adopting && !bpf_map_lookup_elem(lb->dp->vips_fd, key, &meta) &&
		  meta.id < XLB_MAX_VIPS && !lb->vips[meta.id].in_use;
	if (adopted)
		vip = &lb->vips[meta.id];
	for (i = 0; i < XLB_MAX_VIPS && !vip; i++)
		if (!lb->vips[i].in_use && !(lb->adopting && lb->vip_reserved[i]))
			vip = &lb->vips[i];
	if (!vip)
		return -ENOSPC;
	memset(vip, 0, sizeof(*vip));
	vip->key = *key;
	vip->sched = sched;
	vip->forward = forward;
	vip->id = vip - lb->vips;
	if (!adopted) {
		err = xlb_dp_traffic_reset(lb->dp, lb->dp->vip_stats_fd, vip->id);
		if (err)
			return err;
	}
	/*
	 * Adopted: the settings the previous daemon left stay until the caller's
	 * own (xlb_lb_vip_persist), so its flows' persist holds meanwhile. New:
	 * none, over whatever a previous VIP of this id left.
	 */
	if (adopted && xlb_dp_vip_sched_get(lb->dp, vip->id, &vip->persist))
		memset(&vip->persist, 0, sizeof(vip->persist));
	vip_meta_of(vip, &meta);
	err = xlb_dp_vip_sched_set(lb->dp, vip->id, &vip->persist);
	/* the VIP entry exists before the address filter sends packets to it */
	err = err ?: xlb_dp_vip_set(lb->dp, key, &meta);
	if (err)
		return err;
	vip->in_use = 1;
	err = xlb_dp_vip_addr_set(lb->dp, key->addr, vips_on_addr(lb, key->addr));
	err = err ?: addr_bits_sync(lb, key->addr);
	err = err ?: frag_vip_sync(lb, key->addr, key->proto);
	err = err ?: vip_sync(lb, vip, TABLE_CHANGES); /* its table, empty */
	if (err) {
		xlb_lb_vip_del(lb, key);
		return err;
	}
	return vip->id;
}

int xlb_lb_vip_del(struct xlb_lb *lb, const struct vip_key *key)
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(lb, key);
	__u32 i, left;
	int err = 0, e;

	if (!vip)
		return -ENOENT;
	vip->in_use = 0;
	/* no new flows, then no old ones, then the address stops being ours */
	e = xlb_dp_vip_del(lb->dp, key);
	err = err ?: (e == -ENOENT ? 0 : e);
	err = err ?: frag_vip_sync(lb, key->addr, key->proto);
	for (i = 0; i < vip->nbackends; i++) {
		e = backend_release(lb, vip, &vip->backends[i]);
		err = err ?: e;
	}
	/* returns after a grace period: no packet reads the table, its ids are free */
	e = bpf_map_delete_elem(lb->dp->maglev_tables_fd, &vip->id) ? -errno : 0;
	err = err ?: (e == -ENOENT ? 0 : e);
	if (!e || e == -ENOENT)
		xlb_lb_vip_release_ids(lb, vip);
	left = vips_on_addr(lb, key->addr);
	e = addr_bits_sync(lb, key->addr);
	err = err ?: e;
	e = left ? xlb_dp_vip_addr_set(lb->dp, key->addr, left) :
		   xlb_dp_vip_addr_del(lb->dp, key->addr);
	err = err ?: (e == -ENOENT ? 0 : e);
	free(vip->backends);
	free(vip->by_addr);
	free(vip->unreleased);
	xlb_vip_table_free(&vip->table);
	if (lb->table_vip == vip)
		lb->table_vip = NULL;
	memset(vip, 0, sizeof(*vip));
	return err;
}

void xlb_lb_batch_begin(struct xlb_lb *lb)
{
	lb->batch++;
}

int xlb_lb_batch_end(struct xlb_lb *lb)
{
	if (lb->batch && --lb->batch)
		return 0;
	return xlb_lb_flush(lb);
}

int xlb_lb_vip_update(struct xlb_lb *lb, const struct vip_key *key, __u8 sched,
		      __u8 forward)
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(lb, key);
	struct vip_meta meta = {};
	int err, table;

	if (!vip)
		return -ENOENT;
	/* rotations and Maglev tables differ, and rr and lc ignore weights */
	table = vip->sched != sched ? TABLE_CHANGES : TABLE_SAME;
	vip->sched = sched;
	vip->forward = forward;
	vip_meta_of(vip, &meta);
	err = xlb_dp_vip_set(lb->dp, key, &meta);
	/* the backends carry the forwarding mode for flows that skip the VIP lookup */
	err = err ?: vip_sync(lb, vip, table);
	return err ?: frag_vip_sync(lb, key->addr, key->proto);
}

int xlb_lb_vip_persist(struct xlb_lb *lb, const struct vip_key *key, const struct vip_sched *ps)
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(lb, key);
	struct vip_meta meta;
	int err;

	if (!vip)
		return -ENOENT;
	vip->persist = *ps;
	vip_meta_of(vip, &meta);
	/* the flag is read first: settings before it goes on, after it goes off */
	if (ps->persist_ticks) {
		err = xlb_dp_vip_sched_set(lb->dp, vip->id, ps);
		err = err ?: xlb_dp_vip_set(lb->dp, key, &meta);
	} else {
		err = xlb_dp_vip_set(lb->dp, key, &meta);
		err = err ?: xlb_dp_vip_sched_set(lb->dp, vip->id, ps);
	}
	return err ?: frag_vip_sync(lb, key->addr, key->proto);
}

int xlb_lb_backend_add(struct xlb_lb *lb, const struct vip_key *key,
		       const struct xlb_backend_spec *spec)
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(lb, key);
	struct xlb_lb_backend *b;
	int err;

	if (!vip)
		return -ENOENT;
	if (xlb_lb_backend_find(vip, spec->addr))
		return -EEXIST;
	if (vip->nbackends == vip->cap) {
		__u32 cap = vip->cap ? vip->cap * 2 : 8;
		void *p = realloc(vip->backends, cap * sizeof(*vip->backends));

		if (!p)
			return -ENOMEM;
		vip->backends = p;
		vip->cap = cap;
		err = by_addr_rebuild(vip);
		if (err)
			return err;
	}
	b = &vip->backends[vip->nbackends];
	memset(b, 0, sizeof(*b));
	b->spec = *spec;
	if (!backend_adopt(lb, vip, b)) {
		err = backend_id_alloc(lb, &b->id);
		if (err)
			return err;
	}
	vip->nbackends++;
	*by_addr_slot(vip, spec->addr) = vip->nbackends;
	err = vip_sync(lb, vip, xlb_lb_in_table(spec) ? TABLE_CHANGES : TABLE_SAME);
	if (err) {
		backend_release(lb, vip, b);
		xlb_lb_vip_mark(lb, vip, 0); /* the id is free after the next table write */
		vip->nbackends--;
		by_addr_rebuild(vip); /* same size: cannot fail */
		return err;
	}
	return b->id;
}

int xlb_lb_backend_update(struct xlb_lb *lb, const struct vip_key *key,
			  const struct xlb_backend_spec *spec)
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(lb, key);
	struct xlb_lb_backend *b;
	int table;

	if (!vip)
		return -ENOENT;
	b = xlb_lb_backend_find(vip, spec->addr);
	if (!b)
		return -ENOENT;
	if (xlb_lb_in_table(&b->spec) && !xlb_lb_in_table(spec))
		table = TABLE_LOSES;
	else if (xlb_lb_in_table(spec) &&
		 (!xlb_lb_in_table(&b->spec) || b->spec.weight != spec->weight))
		table = TABLE_CHANGES;
	else
		table = TABLE_SAME;
	b->spec = *spec;
	return vip_sync(lb, vip, table);
}

int xlb_lb_backend_del(struct xlb_lb *lb, const struct vip_key *key,
		       const __be32 addr[4])
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(lb, key);
	struct xlb_lb_backend *b, gone;
	int err;

	if (!vip)
		return -ENOENT;
	b = xlb_lb_backend_find(vip, addr);
	if (!b)
		return -ENOENT;
	gone = *b;
	*b = vip->backends[--vip->nbackends];
	by_addr_rebuild(vip); /* same size: cannot fail */
	/* out of service at once; its id is free once the table is written without it */
	err = backend_release(lb, vip, &gone);
	return err ?: vip_sync(lb, vip, xlb_lb_in_table(&gone.spec) ? TABLE_LOSES : TABLE_CHANGES);
}
