// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlb-decap show: the sources, VIPs and counters of one interface, or of each. */
#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "syntax.h"
#include "xlb-decap.h"

/* The counters of maps/decap_maps.h, in table (index) order. */
#define COUNTER_ROW(id, idx, nm, cls) { .index = XLB_DECAP_STAT_##id, .name = nm },
static const struct {
	__u32 index;
	const char *name;
} counters[XLB_DECAP_STAT_COUNT] = { XLB_DECAP_STATS(COUNTER_ROW) };

static int cmp_keys16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static int cmp_source_keys(const void *a, const void *b)
{
	const struct decap_source_key *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	return c ? c : (int)x->prefixlen - (int)y->prefixlen;
}

/* Every key of a small map, sorted. Returns the count or a negative errno. */
static int keys_read(int fd, void *keys, __u32 key_size, __u32 max,
		     int (*cmp)(const void *, const void *))
{
	char cur[sizeof(struct decap_source_key)];
	void *prev = NULL;
	__u32 n = 0;

	while (n < max && !bpf_map_get_next_key(fd, prev, cur)) {
		memcpy((char *)keys + n * key_size, cur, key_size);
		prev = (char *)keys + n++ * key_size;
	}
	qsort(keys, n, key_size, cmp);
	return n;
}

static void source_str(const struct decap_source_key *k, char *buf, size_t len)
{
	char a[XLB_ADDR_STR_MAX];
	int v4 = xlb_addr_is_v4(k->addr) && k->prefixlen >= XLB_DECAP_V4_PREFIX_BASE;

	if (v4)
		xlb_format_addr(k->addr, a, sizeof(a));
	else
		inet_ntop(AF_INET6, k->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, v4 ? k->prefixlen - XLB_DECAP_V4_PREFIX_BASE : k->prefixlen);
}

static int stats_read(int fd, __u64 sums[XLB_DECAP_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), cpu, ret = 0;
	__u64 *vals;
	__u32 i, slot;

	if (ncpu < 0)
		return xlb_cli_fail(ncpu, "cannot count CPUs: %s", bpf_err(ncpu));
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return xlb_cli_fail(-ENOMEM, "out of memory");
	memset(sums, 0, sizeof(__u64) * XLB_DECAP_STAT_MAX);
	for (i = 0; i < XLB_DECAP_STAT_COUNT; i++) {
		slot = counters[i].index;
		if (bpf_map_lookup_elem(fd, &slot, vals)) {
			if (errno == ENOENT)
				continue; /* an older build's smaller map: its program has no such counter */
			ret = xlb_cli_fail(-errno, "decap_stats: %s", bpf_err(-errno));
			break;
		}
		for (cpu = 0; cpu < ncpu; cpu++)
			sums[slot] += vals[cpu];
	}
	free(vals);
	return ret;
}

static struct json_object *show_json(const char *dev, const struct pinned *p,
				     const struct decap_source_key *sources, int nsources,
				     const struct decap_vip_key *vips, int nvips, const __u64 *sums)
{
	struct json_object *obj = json_object_new_object(), *arr, *by_name;
	char buf[INET6_ADDRSTRLEN + 8];
	int i;

	if (!obj)
		return NULL;
	json_object_object_add(obj, "dev", json_object_new_string(dev));
	json_object_object_add(obj, "ifindex", json_object_new_int64(p->ifindex));
	json_object_object_add(obj, "prog_id", json_object_new_int64(p->prog_id));
	arr = json_object_new_array();
	for (i = 0; i < nsources; i++) {
		source_str(&sources[i], buf, sizeof(buf));
		json_object_array_add(arr, json_object_new_string(buf));
	}
	json_object_object_add(obj, "sources", arr);
	arr = json_object_new_array();
	for (i = 0; i < nvips; i++) {
		xlb_format_addr(vips[i].addr, buf, sizeof(buf));
		json_object_array_add(arr, json_object_new_string(buf));
	}
	json_object_object_add(obj, "vips", arr);
	by_name = json_object_new_object();
	for (i = 0; i < XLB_DECAP_STAT_COUNT; i++)
		json_object_object_add(by_name, counters[i].name,
				       json_object_new_uint64(sums[counters[i].index]));
	json_object_object_add(obj, "counters", by_name);
	return obj;
}

static void show_text(const char *dev, const struct pinned *p,
		      const struct decap_source_key *sources, int nsources,
		      const struct decap_vip_key *vips, int nvips, const __u64 *sums)
{
	char buf[INET6_ADDRSTRLEN + 8];
	int i;

	printf("dev %s ifindex %u prog %u%s\n", dev, p->ifindex, p->prog_id,
	       p->ifindex ? "" : " (interface gone: attach again or detach)");
	for (i = 0; i < nsources; i++) {
		source_str(&sources[i], buf, sizeof(buf));
		printf("  source %s\n", buf);
	}
	for (i = 0; i < nvips; i++) {
		xlb_format_addr(vips[i].addr, buf, sizeof(buf));
		printf("  vip %s\n", buf);
	}
	for (i = 0; i < XLB_DECAP_STAT_COUNT; i++)
		printf("  %s %llu\n", counters[i].name, (unsigned long long)sums[counters[i].index]);
}

/*
 * One interface's pins in dir: printed, or with -j its object returned in
 * *obj. -ENOENT (nothing printed) when it has no link pin.
 */
static int show_one(const struct decap_bpf *skel, const char *dev, const char *dir,
		    struct json_object **obj)
{
	static struct decap_source_key sources[XLB_DECAP_MAX_SOURCES];
	static struct decap_vip_key vips[XLB_DECAP_MAX_VIPS];
	__u64 sums[XLB_DECAP_STAT_MAX];
	int nsources, nvips, ret;
	struct pinned p;

	ret = pinned_open(dir, skel, &p);
	if (ret)
		return ret;
	nsources = keys_read(p.map_fd[MAP_SOURCES], sources, sizeof(sources[0]),
			     XLB_DECAP_MAX_SOURCES, cmp_source_keys);
	nvips = keys_read(p.map_fd[MAP_VIPS], vips, sizeof(vips[0]), XLB_DECAP_MAX_VIPS, cmp_keys16);
	ret = stats_read(p.map_fd[MAP_STATS], sums);
	if (!ret && xlb_cli.json) {
		*obj = show_json(dev, &p, sources, nsources, vips, nvips, sums);
		if (!*obj)
			ret = xlb_cli_fail(-ENOMEM, "out of memory");
	} else if (!ret) {
		show_text(dev, &p, sources, nsources, vips, nvips, sums);
	}
	pinned_close(&p);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* show without dev: every interface with a link pinned under base, by name */
static int show_all(const struct decap_bpf *skel, const char *base)
{
	struct json_object *list = xlb_cli.json ? json_object_new_array() : NULL, *obj;
	char *names[XLB_DECAP_SHOW_MAX], dir[PATH_MAX];
	size_t n = 0, i, shown = 0, more = 0, seen = 0;
	struct dirent *de;
	DIR *d = opendir(base);
	int ret = 0;

	if (!d && errno != ENOENT) {
		json_object_put(list);
		return xlb_cli_fail(-errno, "cannot read %s: %s", base, strerror(errno));
	}
	/* bounded too: names past the listed ones are only counted, up to a limit */
	while (d && seen++ < 64 * XLB_DECAP_SHOW_MAX && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == XLB_DECAP_SHOW_MAX) {
			more++;
			continue;
		}
		if ((names[n] = strdup(de->d_name)))
			n++;
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	/* a folder that cannot be read is reported (exit 1), and the others still shown */
	for (i = 0; i < n; i++) {
		int one;

		obj = NULL;
		snprintf(dir, sizeof(dir), "%s/%s", base, names[i]);
		one = show_one(skel, names[i], dir, &obj);
		if (one == -ENOENT) /* not an interface's folder, or detached */
			continue;
		if (!one && obj)
			json_object_array_add(list, obj);
		shown += !one;
		ret = ret ?: one;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	if (more)
		ret = xlb_cli_fail(-E2BIG, "%s%zu more folders under %s not shown (at most %d)",
				   seen > 64 * XLB_DECAP_SHOW_MAX ? "at least " : "", more, base,
				   XLB_DECAP_SHOW_MAX);
	if (list) {
		obj = json_object_new_object();
		json_object_object_add(obj, "attachments", list);
		xlb_cli_print_json(stdout, obj);
		json_object_put(obj);
		list = NULL;
	} else if (!shown && !ret) {
		printf("nothing attached (no interface under %s)\n", base);
	}
	json_object_put(list);
	return ret;
}

int decap_show(const struct request *rq, const char *dir)
{
	struct json_object *obj = NULL;
	struct decap_bpf *skel;
	int ret;

	/* opened, not loaded: only for the layouts the pins must have */
	skel = decap_bpf__open();
	if (!skel)
		return xlb_cli_fail(-errno, "cannot open the BPF object: %s", bpf_err(-errno));
	if (!rq->dev) {
		ret = show_all(skel, rq->base);
		goto out;
	}
	ret = show_one(skel, rq->dev, dir, &obj);
	if (ret == -ENOENT)
		ret = xlb_cli_fail(-ENOENT, "dev \"%s\": not attached (no %s/%s)", rq->dev, dir,
				   LINK_PIN);
	if (!ret && obj)
		xlb_cli_print_json(stdout, obj);
	json_object_put(obj);
out:
	decap_bpf__destroy(skel);
	return ret;
}
