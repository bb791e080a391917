// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-decap: the backend side of L3 direct server return. Loads
 * bpf/decap.bpf.c onto an interface and says which load balancers
 * (source prefixes) and which local VIPs it decapsulates for.
 *
 * All state lives in bpffs, in one folder per interface: the XDP link
 * ("link") and the maps by name. The program keeps running after this
 * command exits, and a later attach changes the maps in place.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "decap.skel.h"
#include "../../maps/decap_maps.h"

#define PROG_NAME "xlb-decap"
#define BPFFS_ROOT "/sys/fs/bpf"
#define DEFAULT_BASE BPFFS_ROOT "/xlb-decap"
#define LINK_PIN "link"
#define LOCK_FILE "/run/xlb-decap.lock"
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,  /* the command could not be carried out */
	EXIT_USAGE = 2, /* bad command line, caught before anything changed */
};

enum command { CMD_ATTACH, CMD_DETACH, CMD_SHOW };

struct request {
	enum command cmd;
	const char *dev;
	const char *base; /* folder of the per-interface folders */
	struct decap_source_key sources[XLB_DECAP_MAX_SOURCES];
	__u32 nsources;
	struct decap_vip_key vips[XLB_DECAP_MAX_VIPS];
	__u32 nvips;
};

static const char *const stat_names[XLB_DECAP_STAT_MAX] = { XLB_DECAP_STAT_NAMES };

/* The maps, as pinned: the same names as in the BPF object. */
static const char *const map_pins[] = { "decap_sources", "decap_vips", "decap_stats" };
#define NMAPS (sizeof(map_pins) / sizeof(map_pins[0]))

static int json_output;
static int verbose;

/* Errors: one line on stderr, or one JSON object on stdout with -j. */
static int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int err, const char *fmt, ...)
{
	struct json_object *obj;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!json_output) {
		fprintf(stderr, "%s: %s\n", PROG_NAME, msg);
		return err;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "error", json_object_new_string(msg));
	printf("%s\n", json_object_to_json_string_ext(obj, JSON_FLAGS));
	json_object_put(obj);
	return err;
}

static const char *bpf_err(int err)
{
	static char buf[128];

	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's own chatter would break the one-line error rule; -v shows it */
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fputs("Usage: " PROG_NAME " [-d DIR] [-j] [-v] COMMAND\n"
	      "\n"
	      "  attach dev IF source PREFIX [source PREFIX ...] vip ADDR [vip ADDR ...]\n"
	      "         decapsulate, on IF, tunnel packets from these load balancer\n"
	      "         prefixes to these local VIPs; if IF has it already, replace\n"
	      "         the sources and VIPs in place\n"
	      "  detach dev IF\n"
	      "  show dev IF      sources, VIPs and counters\n"
	      "\n"
	      "PREFIX := ADDR[/LEN] (no LEN: the one address)\n"
	      "ADDR   := an IPv4 or IPv6 address\n"
	      "\n"
	      "Options:\n"
	      "  -d, --bpffs DIR  pins go under DIR/IF/ (default " DEFAULT_BASE ")\n"
	      "  -j, --json       show, and errors, as JSON on stdout\n"
	      "  -v, --verbose    libbpf's messages (the verifier's, for one)\n"
	      "  -h, --help       this text\n"
	      "\n"
	      "Exit status: 0 done, 1 failed, 2 bad usage.\n", f);
}

/* ---- arguments ---- */

static int v4_mapped(const __be32 a[4])
{
	return !a[0] && !a[1] && a[2] == htonl(0xffff);
}

/* Clear the bits past prefixlen. */
static void mask_prefix(__be32 addr[4], __u32 prefixlen)
{
	__u32 i, bits;

	for (i = 0; i < 4; i++) {
		bits = prefixlen > 32 * i ? prefixlen - 32 * i : 0;
		if (bits >= 32)
			continue;
		addr[i] &= bits ? htonl(~0u << (32 - bits)) : 0;
	}
}

/* ADDR into the 16-byte form of the maps. Returns 4, 6, or 0 if it is not one. */
static int parse_addr(const char *str, __be32 out[4])
{
	struct in_addr a4;

	memset(out, 0, 16);
	if (inet_pton(AF_INET, str, &a4) == 1) {
		out[2] = htonl(0xffff);
		out[3] = a4.s_addr;
		return 4;
	}
	return inet_pton(AF_INET6, str, out) == 1 ? 6 : 0;
}

static int parse_source(const char *arg, struct decap_source_key *key)
{
	__be32 mapped[4] = { 0, 0, htonl(0xffff), 0 }, probe[4];
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(arg, '/');
	size_t alen = slash ? (size_t)(slash - arg) : strlen(arg);
	unsigned long len;
	char *end;
	int family, max;

	if (alen >= sizeof(addr))
		return fail(-EINVAL, "source \"%s\": bad address", arg);
	memcpy(addr, arg, alen);
	addr[alen] = '\0';
	family = parse_addr(addr, key->addr);
	if (!family)
		return fail(-EINVAL, "source \"%s\": bad address", arg);
	max = family == 4 ? 32 : 128;
	len = max;
	if (slash) {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end || errno || len > (unsigned long)max)
			return fail(-EINVAL, "source \"%s\": bad prefix length (0..%d)", arg, max);
	}
	key->prefixlen = family == 4 ? XLB_DECAP_V4_PREFIX_BASE + len : len;
	if (family == 6) {
		/* IPv4 prefixes live in ::ffff:0:0/96: an IPv6 one there would mix the families */
		memcpy(probe, key->addr, sizeof(probe));
		mask_prefix(probe, len < 96 ? len : 96);
		mask_prefix(mapped, len < 96 ? len : 96);
		if (!memcmp(probe, mapped, sizeof(probe)))
			return fail(-EINVAL, "source \"%s\": overlaps ::ffff:0:0/96, the "
				    "IPv4-mapped range; give IPv4 prefixes as IPv4", arg);
	}
	mask_prefix(key->addr, key->prefixlen);
	return 0;
}

static int parse_vip(const char *arg, struct decap_vip_key *key)
{
	if (strchr(arg, '/'))
		return fail(-EINVAL, "vip \"%s\": a VIP is one address, not a prefix", arg);
	if (!parse_addr(arg, key->addr))
		return fail(-EINVAL, "vip \"%s\": bad address", arg);
	if (strchr(arg, ':') && v4_mapped(key->addr))
		return fail(-EINVAL, "vip \"%s\": IPv4-mapped; give the IPv4 address", arg);
	return 0;
}

static int parse_dev(const char *arg, const char **dev)
{
	if (*dev)
		return fail(-EINVAL, "dev \"%s\": dev given twice", arg);
	/* it names a folder: no '/', no "." or ".." */
	if (!*arg || strlen(arg) >= IFNAMSIZ || strchr(arg, '/') || !strcmp(arg, ".") ||
	    !strcmp(arg, ".."))
		return fail(-EINVAL, "dev \"%s\": bad interface name", arg);
	*dev = arg;
	return 0;
}

static int parse_request(int argc, char **argv, struct request *rq)
{
	const char *what = argv[0], *kw, *val;
	int i, j, ret;

	if (!strcmp(what, "attach"))
		rq->cmd = CMD_ATTACH;
	else if (!strcmp(what, "detach"))
		rq->cmd = CMD_DETACH;
	else if (!strcmp(what, "show"))
		rq->cmd = CMD_SHOW;
	else
		return fail(-EINVAL, "unknown command \"%s\" (attach, detach or show)", what);

	for (i = 1; i < argc; i += 2) {
		kw = argv[i];
		if (strcmp(kw, "dev") && (rq->cmd != CMD_ATTACH ||
					  (strcmp(kw, "source") && strcmp(kw, "vip"))))
			return fail(-EINVAL, "%s: unexpected argument \"%s\"", what, kw);
		if (i + 1 >= argc)
			return fail(-EINVAL, "%s: %s needs a value", what, kw);
		val = argv[i + 1];
		if (!strcmp(kw, "dev")) {
			ret = parse_dev(val, &rq->dev);
		} else if (!strcmp(kw, "source")) {
			if (rq->nsources == XLB_DECAP_MAX_SOURCES)
				return fail(-E2BIG, "source \"%s\": more than %d sources", val,
					    XLB_DECAP_MAX_SOURCES);
			ret = parse_source(val, &rq->sources[rq->nsources]);
			for (j = 0; !ret && j < (int)rq->nsources; j++)
				if (!memcmp(&rq->sources[j], &rq->sources[rq->nsources],
					    sizeof(rq->sources[0])))
					break;
			if (!ret && j == (int)rq->nsources)
				rq->nsources++; /* a repeat is harmless: keep one */
		} else {
			if (rq->nvips == XLB_DECAP_MAX_VIPS)
				return fail(-E2BIG, "vip \"%s\": more than %d VIPs", val,
					    XLB_DECAP_MAX_VIPS);
			ret = parse_vip(val, &rq->vips[rq->nvips]);
			for (j = 0; !ret && j < (int)rq->nvips; j++)
				if (!memcmp(&rq->vips[j], &rq->vips[rq->nvips], sizeof(rq->vips[0])))
					break;
			if (!ret && j == (int)rq->nvips)
				rq->nvips++;
		}
		if (ret)
			return ret;
	}
	if (!rq->dev)
		return fail(-EINVAL, "%s: missing dev IF", what);
	if (rq->cmd == CMD_ATTACH && !rq->nsources)
		return fail(-EINVAL, "attach: at least one source PREFIX is needed");
	if (rq->cmd == CMD_ATTACH && !rq->nvips)
		return fail(-EINVAL, "attach: at least one vip ADDR is needed");
	return 0;
}

/* ---- bpffs ---- */

static int is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

static int path_of(char *buf, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		return fail(-ENAMETOOLONG, "path \"%s/%s\": too long", dir, name);
	return 0;
}

/*
 * Make BASE/IF. No bpffs is mounted for the caller: a bpffs mounted here
 * could be one that dies with this command (under ip netns exec, /sys is
 * that command's own), pins and program with it.
 */
static int pin_dir_create(const struct request *rq, const char *dir)
{
	if (!strcmp(rq->base, DEFAULT_BASE) && !is_bpffs(BPFFS_ROOT))
		return fail(-ENOENT, "no bpffs at %s (under ip netns exec there is none): "
			    "mount one there, or use -d DIR on one", BPFFS_ROOT);
	if (mkdir(rq->base, 0700) && errno != EEXIST)
		return fail(-errno, "cannot create %s: %s", rq->base, strerror(errno));
	if (!is_bpffs(rq->base))
		return fail(-EINVAL, "%s is not on a bpffs mount", rq->base);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return fail(-errno, "cannot create %s: %s", dir, strerror(errno));
	return 0;
}

/* Remove our pins and the folder; what is already gone is fine. */
static int pins_remove(const char *dir)
{
	char path[PATH_MAX];
	size_t i;
	int ret = 0;

	for (i = 0; i <= NMAPS; i++) {
		if (path_of(path, sizeof(path), dir, i < NMAPS ? map_pins[i] : LINK_PIN))
			return -ENAMETOOLONG;
		if (unlink(path) && errno != ENOENT && !ret)
			ret = fail(-errno, "cannot remove %s: %s", path, strerror(errno));
	}
	if (rmdir(dir) && errno != ENOENT && !ret)
		ret = fail(-errno, "cannot remove %s: %s", dir, strerror(errno));
	return ret;
}

struct pinned {
	int link_fd;
	int map_fd[NMAPS];
	__u32 ifindex; /* 0: the interface went away, the link is defunct */
	__u32 prog_id;
};

static void pinned_close(struct pinned *p)
{
	size_t i;

	if (p->link_fd >= 0)
		close(p->link_fd);
	p->link_fd = -1;
	for (i = 0; i < NMAPS; i++) {
		if (p->map_fd[i] >= 0)
			close(p->map_fd[i]);
		p->map_fd[i] = -1;
	}
}

/* The map this build expects: a pinned one of another layout is not used. */
static int map_check(int fd, const struct bpf_map *want, const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return fail(-errno, "%s: %s", path, bpf_err(-errno));
	if (info.type != bpf_map__type(want) || info.key_size != bpf_map__key_size(want) ||
	    info.value_size != bpf_map__value_size(want) ||
	    info.max_entries != bpf_map__max_entries(want))
		return fail(-EINVAL, "%s: not the map this build expects; detach first", path);
	return 0;
}

/*
 * Open what is pinned in dir. Returns 0, -ENOENT when nothing is attached
 * (no link pin; nothing printed), or another negative errno (printed).
 */
/*
 * Interface indexes are per network namespace: a pinned link found by
 * name may be another namespace's (one bpffs shared by several). It is
 * ours only if this namespace's interface runs the link's program.
 */
static int link_here(const char *dir, __u32 ifindex, __u32 prog_id)
{
	__u32 id = 0;

	if (!ifindex) /* defunct: its interface is gone */
		return 0;
	if (bpf_xdp_query_id(ifindex, 0, &id) || id != prog_id)
		return fail(-EXDEV, "%s holds another network namespace's link (ifindex %u runs "
			    "no such program here); use another -d", dir, ifindex);
	return 0;
}

static int pinned_open(const char *dir, const struct decap_bpf *skel, struct pinned *p)
{
	const struct bpf_map *maps[NMAPS] = {
		skel->maps.decap_sources, skel->maps.decap_vips, skel->maps.decap_stats,
	};
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	size_t i;
	int ret;

	p->link_fd = -1;
	for (i = 0; i < NMAPS; i++)
		p->map_fd[i] = -1;
	ret = path_of(path, sizeof(path), dir, LINK_PIN);
	if (ret)
		return ret;
	p->link_fd = bpf_obj_get(path);
	if (p->link_fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return fail(-errno, "%s: %s", path, bpf_err(-errno));
	}
	if (bpf_obj_get_info_by_fd(p->link_fd, &info, &len))
		return fail(-errno, "%s: %s", path, bpf_err(-errno));
	if (info.type != BPF_LINK_TYPE_XDP)
		return fail(-EINVAL, "%s: not an XDP link", path);
	p->ifindex = info.xdp.ifindex;
	p->prog_id = info.prog_id;
	ret = link_here(dir, p->ifindex, p->prog_id);
	if (ret)
		return ret;
	for (i = 0; i < NMAPS; i++) {
		ret = path_of(path, sizeof(path), dir, map_pins[i]);
		if (ret)
			return ret;
		p->map_fd[i] = bpf_obj_get(path);
		if (p->map_fd[i] < 0)
			return fail(-errno, "%s: %s", path, bpf_err(-errno));
		ret = map_check(p->map_fd[i], maps[i], path);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- map contents ---- */

/*
 * Make the map hold exactly keys[0..n): stale keys out first, then the
 * new ones in. A key in both sets is never missing, and the map never
 * needs room for both sets at once.
 */
static int set_replace(int fd, const void *keys, __u32 n, __u32 key_size, __u32 max,
		       const char *name)
{
	char *stale = calloc(max + 1, key_size), cur[sizeof(struct decap_source_key)];
	__u32 nstale = 0, i, one = 1;
	int found, ret = 0;
	void *prev = NULL;

	if (!stale)
		return fail(-ENOMEM, "out of memory");
	while (nstale <= max && !bpf_map_get_next_key(fd, prev, cur)) {
		for (found = 0, i = 0; i < n && !found; i++)
			found = !memcmp((const char *)keys + i * key_size, cur, key_size);
		if (!found)
			memcpy(stale + nstale++ * key_size, cur, key_size);
		prev = cur;
	}
	for (i = 0; i < nstale; i++) {
		if (bpf_map_delete_elem(fd, stale + i * key_size) && errno != ENOENT) {
			ret = fail(-errno, "%s: cannot delete an entry: %s", name, bpf_err(-errno));
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, (const char *)keys + i * key_size, &one, BPF_ANY)) {
			ret = fail(-errno, "%s: cannot add an entry: %s", name, bpf_err(-errno));
			goto out;
		}
	}
out:
	free(stale);
	return ret;
}

static int maps_fill(const struct request *rq, int sources_fd, int vips_fd)
{
	int ret = set_replace(sources_fd, rq->sources, rq->nsources, sizeof(rq->sources[0]),
			      XLB_DECAP_MAX_SOURCES, "decap_sources");

	if (ret)
		return ret;
	return set_replace(vips_fd, rq->vips, rq->nvips, sizeof(rq->vips[0]),
			   XLB_DECAP_MAX_VIPS, "decap_vips");
}

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

static void addr_str(const __be32 addr[4], char *buf, size_t len)
{
	if (v4_mapped(addr))
		inet_ntop(AF_INET, &addr[3], buf, len);
	else
		inet_ntop(AF_INET6, addr, buf, len);
}

static void source_str(const struct decap_source_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int v4 = v4_mapped(k->addr) && k->prefixlen >= XLB_DECAP_V4_PREFIX_BASE;

	if (v4)
		inet_ntop(AF_INET, &k->addr[3], a, sizeof(a));
	else
		inet_ntop(AF_INET6, k->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, v4 ? k->prefixlen - XLB_DECAP_V4_PREFIX_BASE : k->prefixlen);
}

static int stats_read(int fd, __u64 sums[XLB_DECAP_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), cpu, ret = 0;
	__u64 *vals;
	__u32 i;

	if (ncpu < 0)
		return fail(ncpu, "cannot count CPUs: %s", bpf_err(ncpu));
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return fail(-ENOMEM, "out of memory");
	for (i = 0; i < XLB_DECAP_STAT_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			ret = fail(-errno, "decap_stats: %s", bpf_err(-errno));
			break;
		}
		for (sums[i] = 0, cpu = 0; cpu < ncpu; cpu++)
			sums[i] += vals[cpu];
	}
	free(vals);
	return ret;
}

/* ---- commands ---- */

/* A fresh attach: load, fill the maps, pin them, attach, pin the link. */
static int attach_new(const struct request *rq, struct decap_bpf *skel, __u32 ifindex,
		      const char *dir)
{
	struct bpf_map *maps[NMAPS] = {
		skel->maps.decap_sources, skel->maps.decap_vips, skel->maps.decap_stats,
	};
	struct bpf_link *link = NULL;
	char path[PATH_MAX];
	size_t i;
	int ret;

	ret = decap_bpf__load(skel);
	if (ret)
		return fail(ret, "cannot load the BPF program: %s", bpf_err(ret));
	ret = maps_fill(rq, bpf_map__fd(skel->maps.decap_sources),
			bpf_map__fd(skel->maps.decap_vips));
	if (ret)
		return ret;
	ret = pin_dir_create(rq, dir);
	if (ret)
		return ret;
	for (i = 0; i < NMAPS; i++) {
		ret = path_of(path, sizeof(path), dir, map_pins[i]);
		if (!ret) {
			ret = bpf_map__pin(maps[i], path);
			if (ret)
				fail(ret, "cannot pin %s: %s", path, bpf_err(ret));
		}
		if (ret)
			goto err_unpin;
	}
	link = bpf_program__attach_xdp(skel->progs.xlb_decap, ifindex);
	if (!link) {
		ret = -errno;
		if (ret == -EBUSY || ret == -EEXIST)
			fail(ret, "dev \"%s\": another XDP program is attached", rq->dev);
		else
			fail(ret, "dev \"%s\": cannot attach XDP: %s", rq->dev, bpf_err(ret));
		goto err_unpin;
	}
	ret = path_of(path, sizeof(path), dir, LINK_PIN);
	if (!ret) {
		ret = bpf_link__pin(link, path);
		if (ret)
			fail(ret, "cannot pin %s: %s", path, bpf_err(ret));
	}
	if (ret)
		goto err_detach;
	/* the pin holds the link now: closing our fd leaves it attached */
	bpf_link__destroy(link);
	return 0;

err_detach:
	bpf_link__destroy(link); /* unpinned: this detaches */
err_unpin:
	pins_remove(dir);
	return ret;
}

static int cmd_attach(const struct request *rq, const char *dir)
{
	struct decap_bpf *skel;
	struct pinned p;
	__u32 ifindex;
	int ret;

	ifindex = if_nametoindex(rq->dev);
	if (!ifindex)
		return fail(-ENODEV, "dev \"%s\": no such interface", rq->dev);
	skel = decap_bpf__open();
	if (!skel)
		return fail(-errno, "cannot open the BPF object: %s", bpf_err(-errno));

	ret = pinned_open(dir, skel, &p);
	if (!ret && p.ifindex == ifindex) {
		/* attached already: change only what the program matches on */
		ret = maps_fill(rq, p.map_fd[0], p.map_fd[1]);
		goto out;
	}
	if (!ret && p.ifindex) {
		ret = fail(-EEXIST, "dev \"%s\": %s holds a link to ifindex %u, not %u; "
			   "detach first", rq->dev, dir, p.ifindex, ifindex);
		goto out;
	}
	if (ret && ret != -ENOENT)
		goto out;
	/*
	 * Not attached (maybe map pins left by an interrupted attach), or a
	 * defunct link (the interface went away and came back): start afresh.
	 */
	pinned_close(&p);
	ret = pins_remove(dir);
	if (ret)
		goto out;
	ret = attach_new(rq, skel, ifindex, dir);
out:
	pinned_close(&p);
	decap_bpf__destroy(skel);
	return ret;
}

static int cmd_detach(const struct request *rq, const char *dir)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, ret;

	ret = path_of(path, sizeof(path), dir, LINK_PIN);
	if (ret)
		return ret;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT) {
			/* map pins an interrupted attach left behind go too */
			pins_remove(dir);
			return fail(-ENOENT, "dev \"%s\": not attached (no %s)", rq->dev, path);
		}
		return fail(-errno, "%s: %s", path, bpf_err(-errno));
	}
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    (ret = link_here(dir, info.xdp.ifindex, info.prog_id))) {
		close(fd);
		return ret;
	}
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	ret = bpf_link_detach(fd) ? -errno : 0;
	/* a defunct link (interface gone) has nothing left to detach */
	if (ret && !bpf_obj_get_info_by_fd(fd, &info, &len) && !info.xdp.ifindex)
		ret = 0;
	close(fd);
	if (ret)
		return fail(ret, "dev \"%s\": cannot detach: %s", rq->dev, bpf_err(ret));
	return pins_remove(dir);
}

static int show_json(const struct request *rq, const struct pinned *p,
		     const struct decap_source_key *sources, int nsources,
		     const struct decap_vip_key *vips, int nvips, const __u64 *sums)
{
	struct json_object *obj = json_object_new_object(), *arr, *counters;
	char buf[INET6_ADDRSTRLEN + 8];
	int i;

	if (!obj)
		return fail(-ENOMEM, "out of memory");
	json_object_object_add(obj, "dev", json_object_new_string(rq->dev));
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
		addr_str(vips[i].addr, buf, sizeof(buf));
		json_object_array_add(arr, json_object_new_string(buf));
	}
	json_object_object_add(obj, "vips", arr);
	counters = json_object_new_object();
	for (i = 0; i < XLB_DECAP_STAT_MAX; i++)
		json_object_object_add(counters, stat_names[i], json_object_new_uint64(sums[i]));
	json_object_object_add(obj, "counters", counters);
	printf("%s\n", json_object_to_json_string_ext(obj, JSON_FLAGS));
	json_object_put(obj);
	return 0;
}

static void show_text(const struct request *rq, const struct pinned *p,
		      const struct decap_source_key *sources, int nsources,
		      const struct decap_vip_key *vips, int nvips, const __u64 *sums)
{
	char buf[INET6_ADDRSTRLEN + 8];
	int i;

	printf("dev %s ifindex %u prog %u%s\n", rq->dev, p->ifindex, p->prog_id,
	       p->ifindex ? "" : " (interface gone: attach again or detach)");
	for (i = 0; i < nsources; i++) {
		source_str(&sources[i], buf, sizeof(buf));
		printf("  source %s\n", buf);
	}
	for (i = 0; i < nvips; i++) {
		addr_str(vips[i].addr, buf, sizeof(buf));
		printf("  vip %s\n", buf);
	}
	for (i = 0; i < XLB_DECAP_STAT_MAX; i++)
		printf("  %s %llu\n", stat_names[i], (unsigned long long)sums[i]);
}

static int cmd_show(const struct request *rq, const char *dir)
{
	static struct decap_source_key sources[XLB_DECAP_MAX_SOURCES];
	static struct decap_vip_key vips[XLB_DECAP_MAX_VIPS];
	__u64 sums[XLB_DECAP_STAT_MAX];
	int nsources, nvips, ret;
	struct decap_bpf *skel;
	struct pinned p;

	/* opened, not loaded: only for the layouts the pins must have */
	skel = decap_bpf__open();
	if (!skel)
		return fail(-errno, "cannot open the BPF object: %s", bpf_err(-errno));
	ret = pinned_open(dir, skel, &p);
	if (ret == -ENOENT)
		ret = fail(-ENOENT, "dev \"%s\": not attached (no %s/%s)", rq->dev, dir, LINK_PIN);
	if (ret)
		goto out;
	nsources = keys_read(p.map_fd[0], sources, sizeof(sources[0]), XLB_DECAP_MAX_SOURCES,
			     cmp_source_keys);
	nvips = keys_read(p.map_fd[1], vips, sizeof(vips[0]), XLB_DECAP_MAX_VIPS, cmp_keys16);
	ret = stats_read(p.map_fd[2], sums);
	if (ret)
		goto out;
	if (json_output)
		ret = show_json(rq, &p, sources, nsources, vips, nvips, sums);
	else
		show_text(rq, &p, sources, nsources, vips, nvips, sums);
out:
	pinned_close(&p);
	decap_bpf__destroy(skel);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "bpffs", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct request rq = { .base = DEFAULT_BASE };
	char bad_option[256] = "", dir[PATH_MAX];
	int opt, want_help = 0, ret;

	/* options may follow the command ("show dev eth0 -j"); errors after -j is known */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":d:jvh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			rq.base = optarg;
			break;
		case 'j':
			json_output = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			want_help = 1;
			break;
		case ':':
			if (!bad_option[0])
				snprintf(bad_option, sizeof(bad_option),
					 "option \"%s\" needs an argument", argv[optind - 1]);
			break;
		default:
			if (!bad_option[0])
				snprintf(bad_option, sizeof(bad_option), "unknown option \"%s\"",
					 argv[optind - 1]);
			break;
		}
	}
	if (bad_option[0]) {
		fail(-EINVAL, "%s", bad_option);
		return EXIT_USAGE;
	}
	if (want_help || (optind < argc && !strcmp(argv[optind], "help"))) {
		usage(stdout);
		return EXIT_OK;
	}
	if (optind == argc) {
		fail(-EINVAL, "missing command (attach, detach or show; see -h)");
		return EXIT_USAGE;
	}
	if (parse_request(argc - optind, argv + optind, &rq))
		return EXIT_USAGE;
	if (!*rq.base || (size_t)snprintf(dir, sizeof(dir), "%s/%s", rq.base, rq.dev) >= sizeof(dir)) {
		fail(-EINVAL, "bpffs \"%s\": bad folder", rq.base);
		return EXIT_USAGE;
	}

	libbpf_set_print(libbpf_print);
	/* attach and detach read and then change the pins: one at a time */
	if (rq.cmd != CMD_SHOW) {
		int lock = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (lock < 0 || flock(lock, LOCK_EX)) {
			fail(-errno, "cannot lock %s: %s", LOCK_FILE, strerror(errno));
			return EXIT_FAIL;
		}
	}
	switch (rq.cmd) {
	case CMD_ATTACH:
		ret = cmd_attach(&rq, dir);
		break;
	case CMD_DETACH:
		ret = cmd_detach(&rq, dir);
		break;
	default:
		ret = cmd_show(&rq, dir);
		break;
	}
	return ret ? EXIT_FAIL : EXIT_OK;
}
