// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The data plane's source-filter tries made to hold exactly the rules (block.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "block.h"

/* A rule as the tries hold it. */
struct xlb_block_entry {
	__u32 tag;      /* host order */
	__be32 addr[4]; /* v4: addr[3] only, the rest 0 */
	__u8 v6;
	__u8 len;       /* of the address part */
	__u16 pad;
	__u32 id;       /* hit counter; in a desired entry: the rule's index */
};

static int entry_cmp(const void *x, const void *y)
{
	const struct xlb_block_entry *a = x, *b = y;

	if (a->v6 != b->v6)
		return a->v6 < b->v6 ? -1 : 1;
	if (a->tag != b->tag)
		return a->tag < b->tag ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static void entry_key(const struct xlb_block_entry *e, void *key)
{
	if (!e->v6) {
		struct block4_key *k = key;

		k->prefixlen = XLB_BLOCK_TAG_BITS + e->len;
		k->tag = htonl(e->tag);
		k->addr = e->addr[3];
	} else {
		struct block6_key *k = key;

		k->prefixlen = XLB_BLOCK_TAG_BITS + e->len;
		k->tag = htonl(e->tag);
		memcpy(k->addr, e->addr, sizeof(k->addr));
	}
}

static size_t key_size(int v6)
{
	return v6 ? sizeof(struct block6_key) : sizeof(struct block4_key);
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	int fd = bpf_object__find_map_fd_by_name(obj, name);

	return fd < 0 ? -ENOENT : fd;
}

/* What a trie holds already (an adopted one): into b->loaded. */
static int read_back(struct xlb_block_dp *b, int v6, __u8 *used)
{
	struct block6_key k6, next;
	struct block4_key *k4 = (void *)&k6, *n4 = (void *)&next;
	struct xlb_block_entry *e, *grown;
	struct block_rule val;
	void *cur = NULL;
	__u32 cap = b->nloaded, guard = 0;

	while (!bpf_map_get_next_key(b->trie_fd[v6], cur, &next) &&
	       guard++ < 2 * XLB_BLOCK_RULES_MAX) {
		memcpy(&k6, &next, key_size(v6));
		cur = &k6;
		if (bpf_map_lookup_elem(b->trie_fd[v6], &k6, &val) || val.id >= XLB_BLOCK_RULES_MAX ||
		    used[val.id])
			continue; /* not a rule this build wrote: the sync removes it */
		if (b->nloaded == cap) {
			cap = cap ? cap * 2 : 1024;
			grown = realloc(b->loaded, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			b->loaded = grown;
		}
		e = &b->loaded[b->nloaded++];
		memset(e, 0, sizeof(*e));
		e->v6 = v6;
		if (v6) {
			e->tag = ntohl(next.tag);
			e->len = next.prefixlen - XLB_BLOCK_TAG_BITS;
			memcpy(e->addr, next.addr, sizeof(e->addr));
		} else {
			e->tag = ntohl(n4->tag);
			e->len = n4->prefixlen - XLB_BLOCK_TAG_BITS;
			e->addr[3] = n4->addr;
		}
		e->id = val.id;
		used[val.id] = 1;
	}
	(void)k4;
	return 0;
}

int xlb_block_dp_open(struct xlb_block_dp *b, struct bpf_object *obj)
{
	__u8 *used;
	__u32 i, zero = 0;
	struct filter_config fc;
	int ret;

	memset(b, 0, sizeof(*b));
	b->trie_fd[0] = map_fd(obj, "block4");
	b->trie_fd[1] = map_fd(obj, "block6");
	b->hits_fd = map_fd(obj, "block_hits");
	b->config_fd = map_fd(obj, "filter_config");
	b->vip_filter_fd = map_fd(obj, "vip_filter");
	b->ncpus = libbpf_num_possible_cpus();
	if (b->trie_fd[0] < 0 || b->trie_fd[1] < 0 || b->hits_fd < 0 || b->config_fd < 0 ||
	    b->vip_filter_fd < 0 || b->ncpus <= 0)
		return -ENOENT;
	used = calloc(XLB_BLOCK_RULES_MAX, 1);
	b->free_ids = malloc(XLB_BLOCK_RULES_MAX * sizeof(*b->free_ids));
	if (!used || !b->free_ids) {
		free(used);
		return -ENOMEM;
	}
	ret = read_back(b, 0, used);
	ret = ret ?: read_back(b, 1, used);
	if (!ret) {
		qsort(b->loaded, b->nloaded, sizeof(*b->loaded), entry_cmp);
		/* popped from the end: lowest ids first */
		for (i = XLB_BLOCK_RULES_MAX; i-- > 0;)
			if (!used[i])
				b->free_ids[b->nfree++] = i;
		/* the flags as pinned: until the first sync the data plane goes on as it was */
		if (!bpf_map_lookup_elem(b->config_fd, &zero, &fc))
			b->gflags = fc.flags;
		for (i = 0; i < XLB_MAX_VIPS; i++) {
			struct vip_filter vf;

			if (bpf_map_lookup_elem(b->vip_filter_fd, &i, &vf))
				continue;
			b->vflags[i] = vf.flags & ~XLB_FILTER_LIMITS;
			b->limits[i] = vf;
			b->limits[i].flags &= XLB_FILTER_LIMITS;
		}
	}
	free(used);
	return ret;
}

void xlb_block_dp_close(struct xlb_block_dp *b)
{
	free(b->loaded);
	free(b->free_ids);
	b->loaded = NULL;
	b->free_ids = NULL;
	b->nloaded = b->nfree = 0;
}

/* A batch of updates (vals) or deletes (vals NULL) on one map; one at a time where batches are not had. */
static int batch(int fd, void *keys, void *vals, size_t ksize, size_t vsize, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n, i;
	int err;

	if (!n)
		return 0;
	err = vals ? bpf_map_update_batch(fd, keys, vals, &count, &opts) :
		     bpf_map_delete_batch(fd, keys, &count, &opts);
	if (!err)
		return 0;
	if (errno != EINVAL && errno != 524 /* ENOTSUPP */ && errno != EOPNOTSUPP)
		return -errno;
	for (i = 0; i < n; i++) {
		void *k = (char *)keys + i * ksize;

		err = vals ? bpf_map_update_elem(fd, k, (char *)vals + i * vsize, BPF_ANY) :
			     bpf_map_delete_elem(fd, k);
		if (err && !(errno == ENOENT && !vals))
			return -errno;
	}
	return 0;
}

static int write_config(struct xlb_block_dp *b, __u32 gflags)
{
	struct filter_config fc = { .flags = gflags };
	__u32 zero = 0;

	if (bpf_map_update_elem(b->config_fd, &zero, &fc, BPF_ANY))
		return -errno;
	b->gflags = gflags;
	return 0;
}

static int write_vip(struct xlb_block_dp *b, __u32 vid, __u32 flags)
{
	struct vip_filter vf = b->limits[vid];

	vf.flags = flags | (b->limits[vid].flags & XLB_FILTER_LIMITS);
	if (bpf_map_update_elem(b->vip_filter_fd, &vid, &vf, BPF_ANY))
		return -errno;
	b->vflags[vid] = flags;
	return 0;
}

static __u32 list_bit(int v6, __u32 tag)
{
	int allow = (tag >> 16) == XLB_BLOCK_ALLOW;

	return v6 ? (allow ? XLB_FILTER_ALLOW6 : XLB_FILTER_DROP6) :
		    (allow ? XLB_FILTER_ALLOW4 : XLB_FILTER_DROP4);
}

/* The global flags for these per-VIP flags and the scope. */
static __u32 global_flags(const struct xlb_block_dp *b, __u32 gl, int scope_all)
{
	__u32 i;

	/* rules only: limits are read where they apply, so a site with limits only pays nothing per packet */
	for (i = 0; i < XLB_MAX_VIPS; i++)
		if (b->vflags[i]) {
			gl |= XLB_FILTER_VIP_RULES;
			break;
		}
	return gl | (scope_all ? XLB_FILTER_SCOPE_ALL : 0);
}

/* The entries the rules ask for, sorted; a rule of a VIP without an id is left out. */
static struct xlb_block_entry *desired(const struct xlb_blocklist *l, xlb_block_vip_id_fn vip_id,
				       void *ctx, __u32 *n)
{
	struct xlb_block_entry *d = calloc((size_t)l->n + 1, sizeof(*d)), *e;
	__u32 i;
	int vid;

	if (!d)
		return NULL;
	*n = 0;
	for (i = 0; i < l->n; i++) {
		const struct xlb_block_rule *r = &l->rules[i];

		vid = r->has_vip ? vip_id(ctx, &r->vip) : XLB_BLOCK_GLOBAL;
		if (vid < 0 || (r->has_vip && vid >= XLB_MAX_VIPS))
			continue;
		e = &d[(*n)++];
		e->v6 = !xlb_addr_is_v4(r->pfx.addr);
		e->tag = XLB_BLOCK_TAG(r->allow ? XLB_BLOCK_ALLOW : XLB_BLOCK_DROP, vid);
		e->len = e->v6 ? r->pfx.len : r->pfx.len - 96;
		if (e->v6)
			memcpy(e->addr, r->pfx.addr, sizeof(e->addr));
		else
			e->addr[3] = r->pfx.addr[3];
		e->id = i;
	}
	qsort(d, *n, sizeof(*d), entry_cmp);
	return d;
}

/* Best effort, one at a time: put back what a failed sync changed. */
static void undo(int fd, void *keys, void *vals, size_t ksize, size_t vsize, __u32 n)
{
	__u32 i;

	for (i = 0; i < n; i++) {
		void *k = (char *)keys + i * ksize;

		if (vals)
			bpf_map_update_elem(fd, k, (char *)vals + i * vsize, BPF_ANY);
		else
			bpf_map_delete_elem(fd, k);
	}
}

/* Keys (and values) of one family's changes, for batch(). */
struct change_set {
	void *keys[2], *vals[2];
	__u32 n[2];
};

static __u32 loaded_in(const struct xlb_block_dp *b, int v6)
{
	__u32 i, n = 0;

	for (i = 0; i < b->nloaded; i++)
		n += b->loaded[i].v6 == v6;
	return n;
}

static int sync_apply(struct xlb_block_dp *b, struct xlb_blocklist *l, struct xlb_block_entry *d,
		      __u32 nd, __u32 gl, __u32 *vf)
{
	size_t vsize = ((sizeof(__u64) + 7) & ~7u) * b->ncpus;
	struct change_set add = {}, del = {};
	struct xlb_block_entry *kept = calloc((size_t)nd + 1, sizeof(*kept));
	__u32 *new_ids = malloc(((size_t)nd + 1) * sizeof(*new_ids)), nnew = 0, nkept = 0;
	__u32 *freed = malloc(((size_t)b->nloaded + 1) * sizeof(*freed)), nfreed = 0;
	void *zeros = calloc((size_t)nd + 1, vsize);
	__u32 *saved_free = malloc(((size_t)b->nfree + 1) * sizeof(*saved_free)), saved_nfree = 0;
	__u32 i = 0, j = 0, v, vid;
	int c, ret = -ENOMEM, f, dels_first[2];

	for (f = 0; f < 2; f++) {
		add.keys[f] = calloc((size_t)nd + 1, key_size(f));
		add.vals[f] = calloc((size_t)nd + 1, sizeof(struct block_rule));
		del.keys[f] = calloc((size_t)b->nloaded + 1, key_size(f));
		del.vals[f] = calloc((size_t)b->nloaded + 1, sizeof(struct block_rule));
		if (!add.keys[f] || !add.vals[f] || !del.keys[f] || !del.vals[f])
			goto out;
	}
	if (!kept || !new_ids || !zeros || !freed || !saved_free)
		goto out;
	memcpy(saved_free, b->free_ids, (size_t)b->nfree * sizeof(*saved_free));
	saved_nfree = b->nfree;
	/* a merge of two sorted lists: kept, added (ids below), removed */
	while (i < nd || j < b->nloaded) {
		c = i >= nd ? 1 : j >= b->nloaded ? -1 : entry_cmp(&d[i], &b->loaded[j]);
		if (c > 0) {
			f = b->loaded[j].v6;
			entry_key(&b->loaded[j], (char *)del.keys[f] + del.n[f] * key_size(f));
			((struct block_rule *)del.vals[f])[del.n[f]++] =
				(struct block_rule){ b->loaded[j].id, b->loaded[j].len };
			freed[nfreed++] = b->loaded[j++].id;
			continue;
		}
		kept[nkept] = d[i];
		kept[nkept].id = c == 0 ? b->loaded[j++].id : XLB_BLOCK_NO_ID;
		v = d[i].tag & 0xffff;
		if (v == XLB_BLOCK_GLOBAL)
			gl |= list_bit(d[i].v6, d[i].tag);
		else
			vf[v] |= list_bit(d[i].v6, d[i].tag);
		nkept++;
		i++;
	}
	/*
	 * New rules take free ids first: an id being removed still counts
	 * its rule's packets until the delete below, so it is reused only
	 * when nothing else is left (a list near XLB_BLOCK_RULES_MAX).
	 */
	for (i = 0; i < nkept; i++) {
		if (kept[i].id == XLB_BLOCK_NO_ID) {
			if (!b->nfree && !nfreed) {
				memcpy(b->free_ids, saved_free,
				       (size_t)saved_nfree * sizeof(*saved_free));
				b->nfree = saved_nfree;
				ret = -ENOSPC;
				goto out;
			}
			kept[i].id = b->nfree ? b->free_ids[--b->nfree] : freed[--nfreed];
			new_ids[nnew++] = kept[i].id;
			f = kept[i].v6;
			entry_key(&kept[i], (char *)add.keys[f] + add.n[f] * key_size(f));
			((struct block_rule *)add.vals[f])[add.n[f]++] =
				(struct block_rule){ kept[i].id, kept[i].len };
		}
		l->rules[d[i].id].id = kept[i].id;
	}
	while (nfreed)
		b->free_ids[b->nfree++] = freed[--nfreed];
	/*
	 * New ids count from 0; then the new rules, then the old ones go: no
	 * moment without either. A family whose old and new rules together
	 * would not fit its trie has its old ones go first instead (a list
	 * replaced by another as long).
	 */
	for (f = 0; f < 2; f++)
		dels_first[f] = loaded_in(b, f) + add.n[f] > XLB_BLOCK_RULES_MAX;
	ret = batch(b->hits_fd, new_ids, zeros, sizeof(__u32), vsize, nnew);
	for (f = 0; f < 2 && !ret; f++)
		if (dels_first[f])
			ret = batch(b->trie_fd[f], del.keys[f], NULL, key_size(f), 0, del.n[f]);
	for (f = 0; f < 2 && !ret; f++)
		ret = batch(b->trie_fd[f], add.keys[f], add.vals[f], key_size(f),
			    sizeof(struct block_rule), add.n[f]);
	for (vid = 0; vid < XLB_MAX_VIPS && !ret; vid++)
		if ((vf[vid] | b->vflags[vid]) != b->vflags[vid])
			ret = write_vip(b, vid, vf[vid] | b->vflags[vid]);
	if (!ret && (gl | b->gflags) != b->gflags)
		ret = write_config(b, gl | b->gflags);
	for (f = 0; f < 2 && !ret; f++)
		if (!dels_first[f])
			ret = batch(b->trie_fd[f], del.keys[f], NULL, key_size(f), 0, del.n[f]);
	if (ret) {
		/* the tries back to what loaded says, the ids back to free */
		for (f = 0; f < 2; f++) {
			undo(b->trie_fd[f], add.keys[f], NULL, key_size(f), 0, add.n[f]);
			undo(b->trie_fd[f], del.keys[f], del.vals[f], key_size(f),
			     sizeof(struct block_rule), del.n[f]);
		}
		memcpy(b->free_ids, saved_free, (size_t)saved_nfree * sizeof(*saved_free));
		b->nfree = saved_nfree;
		goto out;
	}
	free(b->loaded);
	b->loaded = kept;
	b->nloaded = nkept;
	kept = NULL;
out:
	for (f = 0; f < 2; f++) {
		free(add.keys[f]);
		free(add.vals[f]);
		free(del.keys[f]);
		free(del.vals[f]);
	}
	free(saved_free);
	free(kept);
	free(new_ids);
	free(freed);
	free(zeros);
	return ret;
}

static double ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int xlb_block_dp_sync(struct xlb_block_dp *b, struct xlb_blocklist *l, xlb_block_vip_id_fn vip_id,
		      void *ctx)
{
	static __u32 vf[XLB_MAX_VIPS];
	double t0 = ms_now();
	struct xlb_block_entry *d;
	__u32 nd, i, gl = 0;
	int ret;

	for (i = 0; i < l->n; i++)
		l->rules[i].id = XLB_BLOCK_NO_ID;
	d = desired(l, vip_id, ctx, &nd);
	if (!d)
		return -ENOMEM;
	memset(vf, 0, sizeof(vf));
	/* the lists' flags widen before the rules come, narrow after the old ones went */
	ret = sync_apply(b, l, d, nd, 0, vf);
	for (i = 0; i < nd; i++)
		if ((d[i].tag & 0xffff) == XLB_BLOCK_GLOBAL)
			gl |= list_bit(d[i].v6, d[i].tag);
	free(d);
	for (i = 0; i < XLB_MAX_VIPS && !ret; i++)
		if (vf[i] != b->vflags[i])
			ret = write_vip(b, i, vf[i]);
	if (!ret && global_flags(b, gl, l->scope_all) != b->gflags)
		ret = write_config(b, global_flags(b, gl, l->scope_all));
	b->last_sync_ms = ms_now() - t0;
	return ret;
}

int xlb_block_dp_limits(struct xlb_block_dp *b, __u32 vid, const struct vip_filter *lim)
{
	struct vip_filter vf = {};
	__u32 gl;
	int ret;

	if (vid >= XLB_MAX_VIPS)
		return -EINVAL;
	if (lim && lim->flags & XLB_FILTER_LIMITS) {
		vf = *lim;
		vf.flags = XLB_FILTER_LIMITS;
	}
	gl = b->gflags & ~XLB_FILTER_VIP_RULES;
	/* the global flag on before the VIP's limits, off after */
	b->limits[vid] = vf;
	if (vf.flags && global_flags(b, gl, 0) != b->gflags &&
	    (ret = write_config(b, global_flags(b, gl, 0))))
		return ret;
	ret = write_vip(b, vid, b->vflags[vid]);
	if (!ret && global_flags(b, gl, 0) != b->gflags)
		ret = write_config(b, global_flags(b, gl, 0));
	return ret;
}

int xlb_block_dp_hits(struct xlb_block_dp *b, __u64 *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t n = XLB_BLOCK_RULES_MAX;
	__u64 *vals = calloc(n * b->ncpus, sizeof(*vals));
	__u32 *keys = calloc(n, sizeof(*keys)), count, batch_pos = 0, next, got = 0, i;
	int c, err = 0;

	if (!vals || !keys) {
		free(vals);
		free(keys);
		return -ENOMEM;
	}
	memset(out, 0, n * sizeof(*out));
	while (got < n) {
		count = n - got;
		err = bpf_map_lookup_batch(b->hits_fd, got ? &batch_pos : NULL, &next, keys + got,
					   vals + (size_t)got * b->ncpus, &count, &opts);
		got += count;
		if (err && errno == ENOENT) { /* the end */
			err = 0;
			break;
		}
		if (err) {
			err = -errno;
			break;
		}
		batch_pos = next;
	}
	for (i = 0; i < got && !err; i++)
		for (c = 0; c < b->ncpus; c++)
			if (keys[i] < n)
				out[keys[i]] += vals[(size_t)i * b->ncpus + c];
	free(vals);
	free(keys);
	return err;
}
