// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "names.h"
#include "state.h"
#include "syntax.h"
#include "validate.h"
#include "state_block.h"

#define STATE_VERSION 1

void xlb_state_init(struct xlb_state *s)
{
	memset(s, 0, sizeof(*s));
}

void xlb_state_free(struct xlb_state *s)
{
	__u32 i;

	for (i = 0; i < s->nvips; i++)
		free(s->vips[i].backends);
	free(s->vips);
	xlb_blocklist_free(&s->block);
	memset(s, 0, sizeof(*s));
}

struct xlb_state_vip *xlb_state_find_vip(struct xlb_state *s, const struct vip_key *key)
{
	__u32 i;

	for (i = 0; i < s->nvips; i++)
		if (!memcmp(&s->vips[i].cfg.key, key, sizeof(*key)))
			return &s->vips[i];
	return NULL;
}

struct xlb_state_backend *xlb_state_find_backend(struct xlb_state_vip *v,
						 const __be32 addr[4])
{
	__u32 i;

	for (i = 0; i < v->nbackends; i++)
		if (!memcmp(v->backends[i].cfg.addr, addr, 16))
			return &v->backends[i];
	return NULL;
}

int xlb_state_find_hid(struct xlb_state *s, __u64 hid, struct xlb_state_vip **v,
		       struct xlb_state_backend **b)
{
	__u32 i, j;

	for (i = 0; i < s->nvips; i++)
		for (j = 0; j < s->vips[i].nbackends; j++)
			if (s->vips[i].backends[j].hid == hid) {
				*v = &s->vips[i];
				*b = &s->vips[i].backends[j];
				return 0;
			}
	return -ENOENT;
}

static int grow(void **arr, __u32 *cap, __u32 n, size_t size)
{
	__u32 ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int xlb_state_vip_insert(struct xlb_state *s, const struct xlb_vip_cfg *cfg,
			 struct xlb_state_vip **out)
{
	struct xlb_state_vip *v;
	int ret = grow((void **)&s->vips, &s->cap, s->nvips, sizeof(*s->vips));

	if (ret)
		return ret;
	v = &s->vips[s->nvips++];
	memset(v, 0, sizeof(*v));
	v->cfg = *cfg;
	v->cfg.backends = NULL;
	v->cfg.nbackends = 0;
	*out = v;
	return 0;
}

void xlb_state_vip_remove(struct xlb_state *s, __u32 idx)
{
	free(s->vips[idx].backends);
	memmove(&s->vips[idx], &s->vips[idx + 1], (s->nvips - idx - 1) * sizeof(*s->vips));
	s->nvips--;
}

int xlb_state_backend_insert(struct xlb_state_vip *v, const struct xlb_backend_cfg *cfg,
			     struct xlb_state_backend **out)
{
	struct xlb_state_backend *b;
	int ret = grow((void **)&v->backends, &v->cap, v->nbackends, sizeof(*v->backends));

	if (ret)
		return ret;
	b = &v->backends[v->nbackends++];
	memset(b, 0, sizeof(*b));
	b->cfg = *cfg;
	*out = b;
	return 0;
}

void xlb_state_backend_remove(struct xlb_state_vip *v, __u32 idx)
{
	memmove(&v->backends[idx], &v->backends[idx + 1],
		(v->nbackends - idx - 1) * sizeof(*v->backends));
	v->nbackends--;
}

const struct xlb_vip_cfg *xlb_config_find_vip(const struct xlb_config *c,
					      const struct vip_key *key)
{
	__u32 i;

	for (i = 0; i < c->nvips; i++)
		if (!memcmp(&c->vips[i].key, key, sizeof(*key)))
			return &c->vips[i];
	return NULL;
}

const struct xlb_backend_cfg *xlb_config_find_backend(const struct xlb_vip_cfg *v,
						      const __be32 addr[4])
{
	__u32 i;

	for (i = 0; i < v->nbackends; i++)
		if (!memcmp(v->backends[i].addr, addr, 16))
			return &v->backends[i];
	return NULL;
}

int xlb_backend_cfg_equal(const struct xlb_backend_cfg *a, const struct xlb_backend_cfg *b)
{
	return !memcmp(a->addr, b->addr, 16) && a->weight == b->weight &&
	       a->admin == b->admin && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->rise == b->rise && a->fall == b->fall;
}

void xlb_state_set_digest(struct xlb_state *s, const struct xlb_config *applied)
{
	time_t now = time(NULL);
	struct tm tm;

	snprintf(s->digest, sizeof(s->digest), "%s", applied->digest);
	snprintf(s->bytes_digest, sizeof(s->bytes_digest), "%s", applied->bytes_digest);
	if (gmtime_r(&now, &tm))
		strftime(s->applied_at, sizeof(s->applied_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int xlb_state_digest_matches(const char *digest, const char *bytes_digest,
			     const struct xlb_config *file)
{
	/*
	 * The same content; or the same bytes, should a later build write the
	 * content otherwise; or a state saved before the content digest, which
	 * holds the bytes' in its place.
	 */
	return !strcmp(file->digest, digest) ||
	       (bytes_digest && bytes_digest[0] && !strcmp(file->bytes_digest, bytes_digest)) ||
	       !strcmp(file->bytes_digest, digest);
}

struct json_object *xlb_backend_cfg_to_json(const struct xlb_backend_cfg *b)
{
	struct json_object *bo = json_object_new_object();
	char buf[XLB_ADDR_STR_MAX];

	xlb_format_addr(b->addr, buf, sizeof(buf));
	json_object_object_add(bo, "address", json_object_new_string(buf));
	json_object_object_add(bo, "weight", json_object_new_int64(b->weight));
	json_object_object_add(bo, "admin", json_object_new_string(xlb_name_of(xlb_admin_names, b->admin)));
	json_object_object_add(bo, "interval_ms", json_object_new_int64(b->interval_ms));
	json_object_object_add(bo, "timeout_ms", json_object_new_int64(b->timeout_ms));
	json_object_object_add(bo, "rise", json_object_new_int64(b->rise));
	json_object_object_add(bo, "fall", json_object_new_int64(b->fall));
	return bo;
}

struct json_object *xlb_vip_cfg_to_json(const struct xlb_vip_cfg *c)
{
	struct json_object *o = json_object_new_object(), *h = json_object_new_object();
	char buf[XLB_VIP_STR_MAX];

	xlb_format_vip(&c->key, buf, sizeof(buf));
	json_object_object_add(o, "vip", json_object_new_string(buf));
	json_object_object_add(o, "sched", json_object_new_string(xlb_sched_name(c->sched)));
	json_object_object_add(o, "forward", json_object_new_string(xlb_forward_name(c->forward)));
	json_object_object_add(h, "check", json_object_new_string(xlb_name_of(xlb_check_names, c->health.kind)));
	json_object_object_add(h, "path", json_object_new_string(c->health.path));
	json_object_object_add(h, "port", json_object_new_int(c->health.port));
	json_object_object_add(h, "via", json_object_new_string(xlb_name_of(xlb_check_via_names, c->health.via)));
	json_object_object_add(h, "interval_ms", json_object_new_int64(c->health.interval_ms));
	json_object_object_add(h, "timeout_ms", json_object_new_int64(c->health.timeout_ms));
	json_object_object_add(h, "rise", json_object_new_int64(c->health.rise));
	json_object_object_add(h, "fall", json_object_new_int64(c->health.fall));
	json_object_object_add(o, "health", h);
	json_object_object_add(o, "min_up", json_object_new_int64(c->min_up));
	json_object_object_add(o, "persist_ms", json_object_new_int64(c->persist_ms));
	json_object_object_add(o, "persist_prefix_v4", json_object_new_int64(c->persist_prefix4));
	json_object_object_add(o, "persist_prefix_v6", json_object_new_int64(c->persist_prefix6));
	if (xlb_limits_on(&c->limits))
		json_object_object_add(o, "limits", xlb_limits_to_json(&c->limits));
	return o;
}

static struct json_object *vip_to_json(const struct xlb_state_vip *v)
{
	struct json_object *o = xlb_vip_cfg_to_json(&v->cfg), *arr = json_object_new_array();
	__u32 i;

	for (i = 0; i < v->nbackends; i++)
		json_object_array_add(arr, xlb_backend_cfg_to_json(&v->backends[i].cfg));
	json_object_object_add(o, "backends", arr);
	return o;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

/* All of p, over short writes; a write that makes no progress is a full disk. */
static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno ? -errno : -EIO;
		if (n == 0)
			return -ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* text and a newline into a new file at path, on disk when this returns 0. */
static int write_synced(const char *path, const char *text, size_t len)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, text, len);
	if (!ret)
		ret = write_all(fd, "\n", 1);
	if (!ret && fsync(fd))
		ret = -errno;
	/* once only: a close that fails has released the fd all the same */
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int xlb_state_save(const struct xlb_state *s, const char *dir, char *err, size_t errlen)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char path[512], tmp[520];
	const char *text;
	__u32 i;
	int ret = 0;

	if (errlen)
		err[0] = '\0';
	json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "config_digest", json_object_new_string(s->digest));
	if (s->bytes_digest[0])
		json_object_object_add(root, "config_bytes_digest", json_object_new_string(s->bytes_digest));
	if (s->applied_at[0])
		json_object_object_add(root, "config_applied_at", json_object_new_string(s->applied_at));
	json_object_object_add(root, "withdrawn", json_object_new_boolean(s->withdrawn));
	for (i = 0; i < s->nvips; i++)
		json_object_array_add(arr, vip_to_json(&s->vips[i]));
	json_object_object_add(root, "vips", arr);
	json_object_object_add(root, "blocklist", xlb_state_block_to_json(s));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);

	if (mkdir(dir, 0700) && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-ret));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/state.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ret = write_synced(tmp, text, strlen(text));
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "cannot save the runtime state to %s: %s", path,
			 strerror(-ret));
		unlink(tmp);
		goto out;
	}
	/* The new file is in place and is what a restart reads: not a failure. */
	ret = fsync_dir(dir);
	if (ret)
		snprintf(err, errlen, "saved %s, but cannot sync %s: %s; the change may be lost "
			 "in a crash", path, dir, strerror(-ret));
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

static int jerr(char *err, size_t errlen, const char *path, const char *what, int idx)
{
	if (idx >= 0)
		snprintf(err, errlen, "%s: vips[%d]: %s; fix or remove the file", path, idx, what);
	else
		snprintf(err, errlen, "%s: %s; fix or remove the file", path, what);
	return -EINVAL;
}

/* A VIP or backend that validate.c refuses, as the config loader says it. */
static int settings_err(char *err, size_t errlen, const char *path, int vip, int backend,
			const char *key, const char *why)
{
	char where[64];

	if (backend >= 0)
		snprintf(where, sizeof(where), "vips[%d].backends[%d].%s", vip, backend, key);
	else
		snprintf(where, sizeof(where), "vips[%d].%s", vip, key);
	snprintf(err, errlen, "%s: %s: %s; fix or remove the file", path, where, why);
	return -EINVAL;
}

static int get_int(struct json_object *o, const char *key, __u32 max, __u32 *out)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EINVAL;
	n = json_object_get_int64(v);
	if (n < 0 || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int backend_from_json(struct json_object *bo, struct xlb_backend_cfg *b)
{
	char why[128];
	const char *s = get_str(bo, "address");

	/* types and sizes here; what the values may be is validate.c's */
	memset(b, 0, sizeof(*b));
	if (!s || xlb_parse_addr(s, b->addr, why, sizeof(why)) ||
	    xlb_value_of(xlb_admin_names, get_str(bo, "admin"), &b->admin) ||
	    get_int(bo, "weight", UINT32_MAX, &b->weight) ||
	    get_int(bo, "interval_ms", UINT32_MAX, &b->interval_ms) ||
	    get_int(bo, "timeout_ms", UINT32_MAX, &b->timeout_ms) ||
	    get_int(bo, "rise", UINT32_MAX, &b->rise) || get_int(bo, "fall", UINT32_MAX, &b->fall))
		return -EINVAL;
	return 0;
}

static int vip_from_json(struct json_object *o, struct xlb_vip_cfg *v)
{
	struct json_object *h, *arr;
	char why[128];
	const char *s;
	__u32 i, port, p4 = 0, p6 = 0;

	memset(v, 0, sizeof(*v));
	s = get_str(o, "vip");
	if (!s || xlb_parse_vip(s, &v->key, why, sizeof(why)))
		return -EINVAL;
	if (xlb_parse_sched(get_str(o, "sched") ?: "", &v->sched, why, sizeof(why)) ||
	    xlb_parse_forward(get_str(o, "forward") ?: "", &v->forward, why, sizeof(why)))
		return -EINVAL;
	if (!json_object_object_get_ex(o, "health", &h))
		return -EINVAL;
	s = get_str(h, "path");
	if (xlb_value_of(xlb_check_names, get_str(h, "check"), &v->health.kind) || !s ||
	    strlen(s) >= sizeof(v->health.path) || get_int(h, "port", 65535, &port) ||
	    get_int(h, "interval_ms", UINT32_MAX, &v->health.interval_ms) ||
	    get_int(h, "timeout_ms", UINT32_MAX, &v->health.timeout_ms) ||
	    get_int(h, "rise", UINT32_MAX, &v->health.rise) ||
	    get_int(h, "fall", UINT32_MAX, &v->health.fall))
		return -EINVAL;
	v->health.port = port;
	snprintf(v->health.path, sizeof(v->health.path), "%s", s);
	/* absent in files saved before health.via existed: the backend's address */
	s = get_str(h, "via");
	if (json_object_object_get_ex(h, "via", NULL) &&
	    xlb_value_of(xlb_check_via_names, s ?: "", &port))
		return -EINVAL;
	v->health.via = s ? (__u8)port : XLB_CHECK_VIA_BACKEND;
	/* absent in files saved before min_up existed */
	v->min_up = XLB_MIN_UP_DEFAULT;
	if (json_object_object_get_ex(o, "min_up", NULL) &&
	    get_int(o, "min_up", UINT32_MAX, &v->min_up))
		return -EINVAL;
	/* absent in files saved before persist existed */
	xlb_vip_persist_default(v);
	if (json_object_object_get_ex(o, "persist_ms", NULL) &&
	    (get_int(o, "persist_ms", UINT32_MAX, &v->persist_ms) ||
	     get_int(o, "persist_prefix_v4", 32, &p4) || get_int(o, "persist_prefix_v6", 128, &p6)))
		return -EINVAL;
	v->persist_prefix4 = p4 ?: v->persist_prefix4;
	v->persist_prefix6 = p6 ?: v->persist_prefix6;
	/* absent in files saved before limits existed, and for a VIP without */
	xlb_limits_default(&v->limits);
	if (json_object_object_get_ex(o, "limits", &h) && xlb_limits_from_json(h, &v->limits))
		return -EINVAL;
	if (!json_object_object_get_ex(o, "backends", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return -EINVAL;
	v->nbackends = json_object_array_length(arr);
	v->backends = calloc(v->nbackends + 1, sizeof(*v->backends));
	if (!v->backends)
		return -ENOMEM;
	for (i = 0; i < v->nbackends; i++)
		if (backend_from_json(json_object_array_get_idx(arr, i), &v->backends[i]))
			return -EINVAL;
	return 0;
}

/* The same checks as a VIP and its backends from the config file: VIP idx of cfg. */
static int vip_check(const struct xlb_config *cfg, int idx, const char *path, char *err,
		     size_t errlen)
{
	const struct xlb_vip_cfg *v = &cfg->vips[idx];
	char why[XLB_ERR_MAX], text[XLB_VIP_STR_MAX];
	const char *key;
	__u32 j, dup, first;
	int ret;

	ret = xlb_vip_index(cfg->vips, idx, &v->key);
	if (ret >= 0) {
		xlb_format_vip(&v->key, text, sizeof(text));
		snprintf(why, sizeof(why), "duplicate VIP %s (first at vips[%d])", text, ret);
		return settings_err(err, errlen, path, idx, -1, "vip", why);
	}
	if (xlb_vip_settings_check(v, &key, why, sizeof(why)))
		return settings_err(err, errlen, path, idx, -1, key, why);
	for (j = 0; j < v->nbackends; j++)
		if (xlb_backend_settings_check(&v->backends[j], v, &key, why, sizeof(why)))
			return settings_err(err, errlen, path, idx, j, key, why);
	ret = xlb_find_dup_backend(v, &dup, &first);
	if (ret < 0)
		snprintf(err, errlen, "%s: out of memory", path);
	if (ret <= 0)
		return ret;
	xlb_format_addr(v->backends[dup].addr, text, sizeof(text));
	snprintf(why, sizeof(why), "duplicate backend %s (first at backends[%u])", text, first);
	return settings_err(err, errlen, path, idx, dup, "address", why);
}

int xlb_state_load(const char *dir, struct xlb_config *out, char digest[64], char *err,
		   size_t errlen)
{
	struct json_object *root, *arr, *w = NULL;
	struct xlb_config cfg = {};
	char path[512];
	const char *s;
	__u32 i, version, total = 0, at, distinct;
	char why[96];
	int ret = 0;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	if (access(path, F_OK))
		return -ENOENT;
	root = json_object_from_file(path);
	if (!root)
		return jerr(err, errlen, path, "not valid JSON", -1);
	if (get_int(root, "version", 1000, &version) || version != STATE_VERSION) {
		ret = jerr(err, errlen, path, "unknown version", -1);
		goto out;
	}
	s = get_str(root, "config_digest");
	if (!s || !json_object_object_get_ex(root, "vips", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		ret = jerr(err, errlen, path, "missing config_digest or vips", -1);
		goto out;
	}
	snprintf(digest, 64, "%s", s);
	s = get_str(root, "config_bytes_digest"); /* absent in older files */
	snprintf(cfg.bytes_digest, sizeof(cfg.bytes_digest), "%s", s ? s : "");
	s = get_str(root, "config_applied_at");
	snprintf(cfg.applied_at, sizeof(cfg.applied_at), "%s", s ? s : "");
	/* absent in files saved before lb withdraw existed: announcing */
	if (json_object_object_get_ex(root, "withdrawn", &w) && !json_object_is_type(w, json_type_boolean)) {
		ret = jerr(err, errlen, path, "withdrawn is not true or false", -1);
		goto out;
	}
	cfg.nvips = json_object_array_length(arr);
	/* the limits the config file and the control socket keep, kept here too */
	if (cfg.nvips > XLB_CP_MAX_VIPS) {
		snprintf(err, errlen, "%s: too many VIPs (%u, max %d); fix or remove the file",
			 path, cfg.nvips, XLB_CP_MAX_VIPS);
		ret = -EINVAL;
		goto out;
	}
	cfg.vips = calloc(cfg.nvips + 1, sizeof(*cfg.vips));
	if (!cfg.vips) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cfg.nvips; i++) {
		if (vip_from_json(json_object_array_get_idx(arr, i), &cfg.vips[i])) {
			ret = jerr(err, errlen, path, "bad VIP entry", i);
			goto out;
		}
		ret = vip_check(&cfg, i, path, err, errlen);
		if (ret)
			goto out;
		total += cfg.vips[i].nbackends;
		if (total > XLB_CP_MAX_BACKENDS) {
			snprintf(err, errlen, "%s: vips[%u].backends: too many backends in total "
				 "(max %d); fix or remove the file", path, i, XLB_CP_MAX_BACKENDS);
			ret = -EINVAL;
			goto out;
		}
	}
	/* as the config loader: a hand-edited file gets no more marks than a file or a command */
	ret = xlb_via_cap_over(cfg.vips, cfg.nvips, &at, &distinct);
	if (ret > 0) {
		snprintf(why, sizeof(why), "more than %d backend addresses checked via a VIP (%u)",
			 XLB_VIA_MAX, distinct);
		ret = settings_err(err, errlen, path, (int)at, -1, "health.via", why);
	} else if (ret < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
	}
	if (ret)
		goto out;
	ret = xlb_state_block_from_json(root, &cfg, path, err, errlen);
	if (ret)
		goto out;
	out->vips = cfg.vips;
	out->nvips = cfg.nvips;
	out->block = cfg.block;
	out->host_withdrawn = w && json_object_get_boolean(w);
	memcpy(out->applied_at, cfg.applied_at, sizeof(out->applied_at));
	memcpy(out->bytes_digest, cfg.bytes_digest, sizeof(out->bytes_digest));
	cfg.vips = NULL;
	cfg.block = (struct xlb_blocklist){};
out:
	if (cfg.vips) {
		for (i = 0; i < cfg.nvips; i++)
			free(cfg.vips[i].backends);
		free(cfg.vips);
	}
	xlb_blocklist_free(&cfg.block);
	json_object_put(root);
	return ret;
}

int xlb_state_set_aside(const char *dir, char *err, size_t errlen)
{
	char path[512], prev[520];

	snprintf(path, sizeof(path), "%s/state.json", dir);
	snprintf(prev, sizeof(prev), "%s.prev", path);
	if (rename(path, prev)) {
		int ret = -errno;

		snprintf(err, errlen, "cannot keep %s as %s: %s", path, prev, strerror(-ret));
		return ret;
	}
	return 0;
}
