// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-client limits: the data plane's maps and the walk's correction (vip_limits.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "vip_limits.h"

/* ---- the data plane's maps ---- */

int xlb_limits_dp_open(struct xlb_limits_dp *l, struct bpf_object *obj)
{
	l->state_fd = bpf_object__find_map_fd_by_name(obj, "limit_state");
	l->base_fd = bpf_object__find_map_fd_by_name(obj, "limit_base");
	l->drops_fd = bpf_object__find_map_fd_by_name(obj, "limit_drops");
	l->ncpus = libbpf_num_possible_cpus();
	if (l->state_fd < 0 || l->base_fd < 0 || l->drops_fd < 0 || l->ncpus <= 0)
		return -ENOENT;
	return 0;
}

int xlb_limits_dp_drops(const struct xlb_limits_dp *l, __u32 vip_id, struct limit_drops *out)
{
	struct limit_drops v[l->ncpus];
	int c;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(l->drops_fd, &vip_id, v))
		return -errno;
	for (c = 0; c < l->ncpus; c++) {
		out->rate += v[c].rate;
		out->conns += v[c].conns;
	}
	return 0;
}

int xlb_limits_dp_get(const struct xlb_limits_dp *l, const struct limit_key *k,
		      struct limit_state *s, __s64 *base, int *found)
{
	memset(s, 0, sizeof(*s));
	*base = 0;
	*found = !bpf_map_lookup_elem(l->state_fd, k, s);
	if (!*found && errno != ENOENT)
		return -errno;
	if (bpf_map_lookup_elem(l->base_fd, k, base) && errno != ENOENT)
		return -errno;
	return 0;
}

/* Every key of a hash map (bounded by max), into a new array. */
static struct limit_key *keys_of(int fd, __u32 max, __u32 *n)
{
	struct limit_key *keys = NULL, *grown, cur, next;
	__u32 cap = 0;
	void *prev = NULL;

	*n = 0;
	while (*n < max && !bpf_map_get_next_key(fd, prev, &next)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			grown = realloc(keys, cap * sizeof(*keys));
			if (!grown)
				break;
			keys = grown;
		}
		keys[(*n)++] = next;
		cur = next;
		prev = &cur;
	}
	return keys;
}

int xlb_limits_dp_forget(const struct xlb_limits_dp *l, __u32 vip_id)
{
	int fds[2] = { l->state_fd, l->base_fd }, i;
	struct limit_key *keys;
	__u32 n, j;

	for (i = 0; i < 2; i++) {
		keys = keys_of(fds[i], 2 * XLB_LIMIT_CLIENTS, &n);
		for (j = 0; j < n; j++)
			if (keys[j].vip_id == vip_id)
				bpf_map_delete_elem(fds[i], &keys[j]);
		free(keys);
	}
	return 0;
}

/* ---- the walk's correction ---- */

struct limit_count {
	struct limit_key key;
	__u64 counted, opened, closed;
	__u8 used, had_base;
};

struct xlb_limits_walk {
	struct limit_count *slots;
	__u32 cap, n; /* cap: a power of two */
};

struct xlb_limits_walk *xlb_limits_walk_new(void)
{
	struct xlb_limits_walk *w = calloc(1, sizeof(*w));

	if (w && !(w->slots = calloc(w->cap = 1024, sizeof(*w->slots)))) {
		free(w);
		return NULL;
	}
	return w;
}

void xlb_limits_walk_free(struct xlb_limits_walk *w)
{
	if (w)
		free(w->slots);
	free(w);
}

static __u32 key_hash(const struct limit_key *k)
{
	const __u32 *p = (const void *)k;
	__u32 h = 2166136261u, i;

	for (i = 0; i < sizeof(*k) / 4; i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (h >> 15);
}

static struct limit_count *find(struct xlb_limits_walk *w, const struct limit_key *k, int add)
{
	__u32 i = key_hash(k) & (w->cap - 1), j;
	struct limit_count *old;

	while (w->slots[i].used) {
		if (!memcmp(&w->slots[i].key, k, sizeof(*k)))
			return &w->slots[i];
		i = (i + 1) & (w->cap - 1);
	}
	if (!add)
		return NULL;
	if (2 * (w->n + 1) > w->cap) { /* grow: at most half full */
		old = w->slots;
		w->slots = calloc((size_t)w->cap * 2, sizeof(*w->slots));
		if (!w->slots) {
			w->slots = old;
			return NULL;
		}
		w->cap *= 2;
		w->n = 0;
		for (j = 0; j < w->cap / 2; j++)
			if (old[j].used)
				*find(w, &old[j].key, 1) = old[j];
		free(old);
		return find(w, k, 1);
	}
	w->n++;
	w->slots[i].used = 1;
	w->slots[i].key = *k;
	return &w->slots[i];
}

int xlb_limits_walk_snapshot(struct xlb_limits_walk *w, const struct xlb_limits_dp *l)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	enum { CHUNK = 4096 };
	struct limit_key *keys = malloc(CHUNK * sizeof(*keys));
	struct limit_state *vals = malloc(CHUNK * sizeof(*vals));
	__u32 pos = 0, next, count, i, total = 0;
	struct limit_count *c;
	int err = 0, first = 1;

	memset(w->slots, 0, (size_t)w->cap * sizeof(*w->slots));
	w->n = 0;
	while (keys && vals && !err && total < 2 * XLB_LIMIT_CLIENTS) {
		count = CHUNK;
		err = bpf_map_lookup_batch(l->state_fd, first ? NULL : &pos, &next, keys, vals,
					   &count, &opts);
		err = err && errno != ENOENT ? -errno : err ? 1 : 0; /* 1: the end */
		for (i = 0; i < count && err >= 0; i++) {
			c = find(w, &keys[i], 1);
			if (!c) {
				err = -ENOMEM;
				break;
			}
			c->opened = vals[i].opened;
			c->closed = vals[i].closed;
		}
		total += count;
		pos = next;
		first = 0;
	}
	if (!keys || !vals)
		err = -ENOMEM;
	free(keys);
	free(vals);
	return err < 0 ? err : 0;
}

int xlb_limits_walk_visit(struct xlb_limits_walk *w, const struct limit_key *k)
{
	struct limit_count *c = find(w, k, 1);

	if (!c)
		return -ENOMEM;
	c->counted++;
	return 0;
}

int xlb_limits_walk_apply(struct xlb_limits_walk *w, const struct xlb_limits_dp *l)
{
	struct limit_key *keys;
	struct limit_count *c;
	__u32 n, i, kept = 0;
	__s64 base;
	int ret = 0;

	/* bases of keys this walk has nothing for go first */
	keys = keys_of(l->base_fd, 2 * XLB_LIMIT_CLIENTS, &n);
	for (i = 0; i < n; i++) {
		c = find(w, &keys[i], 0);
		if (c)
			c->had_base = 1;
		else
			bpf_map_delete_elem(l->base_fd, &keys[i]);
	}
	free(keys);
	for (i = 0; i < w->cap; i++) {
		c = &w->slots[i];
		if (!c->used)
			continue;
		base = (__s64)c->counted - (__s64)(c->opened - c->closed);
		if (!base) {
			if (c->had_base)
				bpf_map_delete_elem(l->base_fd, &c->key);
			continue;
		}
		if (bpf_map_update_elem(l->base_fd, &c->key, &base, BPF_ANY))
			ret = -errno;
		else
			kept++;
	}
	return ret ? ret : (int)kept;
}
