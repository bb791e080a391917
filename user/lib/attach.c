// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xlb.skel.h"
#include "attach.h"
#include "xlb_limits.h"

#define BPFFS_ROOT "/sys/fs/bpf"

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

static const char *strerr(int err, char *buf, size_t len)
{
	libbpf_strerror(err, buf, len);
	return buf;
}

static int is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/* A fresh machine has no bpffs mounted: mount it, as systemd would. */
static int ensure_bpffs(const char *pin_dir, char *err, size_t errlen)
{
	char parent[256], *slash;

	if (!is_bpffs(BPFFS_ROOT)) {
		mkdir(BPFFS_ROOT, 0700);
		if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700"))
			return fail(err, errlen, -errno, "cannot mount bpffs at %s: %s",
				    BPFFS_ROOT, strerror(errno));
	}
	snprintf(parent, sizeof(parent), "%s", pin_dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (!is_bpffs(parent))
		return fail(err, errlen, -EINVAL, "%s is not on a bpffs mount", pin_dir);
	if (mkdir(pin_dir, 0700) && errno != EEXIST)
		return fail(err, errlen, -errno, "cannot create %s: %s", pin_dir,
			    strerror(errno));
	return 0;
}

static int map_is_internal(const struct bpf_map *map)
{
	return strchr(bpf_map__name(map), '.') != NULL; /* .rodata, .bss */
}

/*
 * A pinned counter map of another size is still the one to count in: builds
 * before the fixed-size stats map made it as large as their counters, and
 * a counter beyond its end is simply not counted.
 */
static int counters_of_any_size(const struct bpf_map *map, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return !strcmp(bpf_map__name(map), "stats") &&
	       !bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == bpf_map__type(map) &&
	       info.key_size == bpf_map__key_size(map) &&
	       info.value_size == bpf_map__value_size(map) &&
	       info.max_entries != bpf_map__max_entries(map);
}

/*
 * "conntrack" is the table of builds before flows4/flows6 (its size was
 * the configured one, at least XLB_CT_SIZE_MIN) or this build's stand-in
 * (1 entry, which the kernel rounds up to one per CPU). Either is reused
 * at its size; an older build's is read after the program's own tables.
 */
static void legacy_table_adopt(struct xlb_bpf *skel, const struct bpf_map *map, int fd,
			       __u32 *entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (strcmp(bpf_map__name(map), XLB_LEGACY_CT_PIN) || bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	bpf_map__set_max_entries(skel->maps.conntrack, info.max_entries);
	if (info.max_entries < XLB_CT_SIZE_MIN ||
	    info.max_entries <= (__u32)libbpf_num_possible_cpus())
		return;
	skel->rodata->legacy_ct = 1;
	*entries = info.max_entries;
}

static int pin_paths_set(struct xlb_bpf *skel, const char *pin_dir, int *existed,
			 __u32 *legacy_entries)
{
	struct bpf_map *map;
	char path[512];
	int err;

	*existed = 0;
	bpf_object__for_each_map(map, skel->obj) {
		if (map_is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
		if (!access(path, F_OK))
			*existed = 1;
		/*
		 * The kernel adds BPF_F_RDONLY_PROG to a devmap's flags, so
		 * libbpf's reuse check never matches a pinned one: reuse it by fd.
		 */
		if (!access(path, F_OK)) {
			int fd = bpf_obj_get(path);

			if (fd < 0)
				return -errno;
			legacy_table_adopt(skel, map, fd, legacy_entries);
			err = bpf_map__type(map) == BPF_MAP_TYPE_DEVMAP_HASH ||
					      counters_of_any_size(map, fd) ?
				      bpf_map__reuse_fd(map, fd) : 1;
			close(fd);
			if (err <= 0) {
				if (err)
					return err;
				continue;
			}
		}
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

/* The ids of the maps a program uses, as many as the kernel says it has. Caller frees *ids. */
static int prog_map_ids(int prog_fd, __u32 **ids, __u32 *n)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), want;

	*ids = NULL;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	want = info.nr_map_ids;
	*ids = calloc(want ?: 1, sizeof(**ids));
	if (!*ids)
		return -ENOMEM;
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	info.nr_map_ids = want;
	info.map_ids = (__u64)(unsigned long)*ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len)) {
		free(*ids);
		*ids = NULL;
		return -errno;
	}
	*n = info.nr_map_ids < want ? info.nr_map_ids : want;
	return 0;
}

static __u32 map_id_of(int fd)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &mi, &len) ? mi.id : 0;
}

/*
 * One map of the running program matches our loaded object: .rodata holds
 * our load-time settings; any other map is the very one we use (pinned).
 */
static int map_matches(struct xlb_bpf *skel, __u32 id, int *rodata_seen)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), key = 0;
	struct bpf_map *ours;
	int fd, same = 0;
	void *val;

	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &len))
		goto out;
	if (strstr(mi.name, ".rodata")) {
		*rodata_seen = 1;
		val = mi.value_size == bpf_map__value_size(skel->maps.rodata) ?
			      calloc(1, mi.value_size) : NULL;
		if (val && !bpf_map_lookup_elem(fd, &key, val))
			same = !memcmp(val, skel->rodata, mi.value_size);
		free(val);
	} else if (strchr(mi.name, '.')) {
		same = 1; /* .bss: the program's own, new with each load */
	} else {
		ours = bpf_object__find_map_by_name(skel->obj, mi.name);
		same = ours && map_id_of(bpf_map__fd(ours)) == id;
	}
out:
	if (fd >= 0)
		close(fd);
	return same;
}

/* The running program is ours if its instructions, its load-time settings and its maps match. */
static int same_program(struct xlb_bpf *skel, __u32 running_id)
{
	struct bpf_prog_info ours = {}, theirs = {};
	__u32 len = sizeof(ours), *map_ids = NULL, nmaps = 0, i;
	int fd, same = 0, rodata_seen = 0;

	if (bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.xlb_xdp), &ours, &len))
		return 0;
	fd = bpf_prog_get_fd_by_id(running_id);
	if (fd < 0)
		return 0;
	len = sizeof(theirs);
	if (bpf_obj_get_info_by_fd(fd, &theirs, &len) ||
	    memcmp(ours.tag, theirs.tag, sizeof(ours.tag)) ||
	    prog_map_ids(fd, &map_ids, &nmaps))
		goto out;
	for (same = 1, i = 0; i < nmaps && same; i++)
		same = map_matches(skel, map_ids[i], &rodata_seen);
	same = same && rodata_seen;
out:
	free(map_ids);
	close(fd);
	return same;
}

static void note(const struct xlb_attach_opts *opts, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(const struct xlb_attach_opts *opts, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (opts->log)
		opts->log(opts->log_ctx, msg);
	else
		fprintf(stderr, "xlb: warning: %s\n", msg);
}

static const char *mode_name(int mode)
{
	return mode == XLB_XDP_GENERIC ? "generic" : "native";
}

int xlb_link_runs_here(__u32 ifindex, __u32 prog_id, int *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return -errno;
	*mode = q.drv_prog_id == prog_id ? XLB_XDP_NATIVE :
		q.skb_prog_id == prog_id ? XLB_XDP_GENERIC : XLB_XDP_ANY_MODE;
	return 0;
}

int xlb_link_check(int link_fd, const char *ifname, int xdp_mode,
		   struct xlb_link_state *st, char *why, size_t whylen)
{
	struct bpf_link_info info = {};
	struct xlb_link_state local;
	__u32 len = sizeof(info), ifindex;
	int running = XLB_XDP_ANY_MODE, ret;

	st = st ?: &local;
	memset(st, 0, sizeof(*st));
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return fail(why, whylen, -errno, "cannot read the link: %s", strerror(errno));
	if (info.type != BPF_LINK_TYPE_XDP)
		return fail(why, whylen, -EINVAL, "not an XDP link");
	st->prog_id = info.prog_id;
	st->ifindex = info.xdp.ifindex;
	if (!st->ifindex) /* the kernel let go of its interface: nothing runs it */
		return fail(why, whylen, 0, "its interface went away");
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return fail(why, whylen, -ENODEV, "%s: no such interface", ifname);
	/*
	 * A link on a live interface that is not ours here (ifindexes are per
	 * namespace) serves someone: never detach it.
	 */
	ret = ifindex == st->ifindex ? xlb_link_runs_here(ifindex, st->prog_id, &running) : 0;
	if (ret)
		return fail(why, whylen, ret, "cannot query XDP on %s: %s", ifname, strerror(-ret));
	if (running == XLB_XDP_ANY_MODE)
		return fail(why, whylen, -EXDEV, "it serves ifindex %u, not %s of this network "
			    "namespace (ifindex %u): another namespace's or interface's link",
			    st->ifindex, ifname, ifindex);
	st->xdp_mode = running;
	if (xdp_mode != XLB_XDP_ANY_MODE && running != xdp_mode)
		return fail(why, whylen, 0, "it runs in %s mode, %s is configured",
			    mode_name(running), mode_name(xdp_mode));
	return 1;
}

/*
 * The pinned link at path, if it still serves interface i as configured:
 * *fd is its fd, or -1 when there is none to adopt (a stale one is
 * detached and unpinned). Returns 0 or a negative errno.
 */
static int adoptable_link(struct xlb_attached *a, const struct xlb_attach_opts *opts,
			  __u32 i, const char *path, int *fd, int *old_mode, char *err,
			  size_t errlen)
{
	struct xlb_link_state st;
	char why[256];
	int live, ret = 0;

	*old_mode = XLB_XDP_ANY_MODE;
	*fd = bpf_obj_get(path);
	if (*fd < 0)
		return errno == ENOENT ? 0 : fail(err, errlen, -errno, "cannot open %s: %s",
						   path, strerror(errno));
	live = xlb_link_check(*fd, opts->ifaces[i], opts->xdp_mode, &st, why, sizeof(why));
	if (live > 0) {
		a->xdp_mode[i] = st.xdp_mode;
		return 0;
	}
	if (live < 0) {
		ret = fail(err, errlen, live, "link %s: %s", path, why);
	} else {
		note(opts, "the XDP link pinned at %s is stale (%s): detaching it and "
		     "attaching anew", path, why);
		if (st.ifindex) /* it served this interface, in the other mode */
			*old_mode = st.xdp_mode;
		if (bpf_link_detach(*fd) && errno != ENOLINK)
			ret = fail(err, errlen, -errno, "cannot detach the stale %s: %s", path,
				   strerror(errno));
		else if (unlink(path))
			ret = fail(err, errlen, -errno, "cannot remove %s: %s", path,
				   strerror(errno));
	}
	close(*fd);
	*fd = -1;
	return ret;
}

static int link_prog_id(int link_fd, __u32 *prog_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	*prog_id = info.prog_id;
	return 0;
}

static int link_create(struct xlb_attached *a, __u32 i, int mode, const char *path,
		       char *err, size_t errlen);

static int attach_one(struct xlb_attached *a, const struct xlb_attach_opts *opts,
		      __u32 i, char *err, size_t errlen)
{
	const char *ifname = opts->ifaces[i];
	int prog_fd = bpf_program__fd(a->skel->progs.xlb_xdp);
	char path[512], buf[128];
	__u32 running = 0;
	int fd, ret, old_mode;

	a->ifindex[i] = if_nametoindex(ifname);
	if (!a->ifindex[i])
		return fail(err, errlen, -ENODEV, "interface %s: no such interface", ifname);
	snprintf(path, sizeof(path), "%s/link_%s", opts->pin_dir, ifname);

	ret = adoptable_link(a, opts, i, path, &fd, &old_mode, err, errlen);
	if (ret)
		return ret;
	if (fd >= 0) {
		/* adopt: keep the running program unless this build differs */
		a->link_fd[i] = fd;
		a->links_adopted = 1;
		ret = link_prog_id(fd, &running);
		if (ret)
			return fail(err, errlen, ret, "link %s: %s", path,
				    strerr(ret, buf, sizeof(buf)));
		if (same_program(a->skel, running)) {
			a->prog_id = running;
			return 0;
		}
		if (bpf_link_update(fd, prog_fd, NULL))
			return fail(err, errlen, -errno, "interface %s: cannot replace program: %s",
				    ifname, strerr(-errno, buf, sizeof(buf)));
		a->replaced = 1;
		return link_prog_id(fd, &a->prog_id);
	}

	ret = link_create(a, i, opts->xdp_mode, path, err, errlen);
	/* a mode change that cannot be made must not leave the interface bare */
	if (ret && old_mode != XLB_XDP_ANY_MODE &&
	    !link_create(a, i, old_mode, path, buf, sizeof(buf))) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, "; it runs xlb in %s mode again",
			 mode_name(old_mode));
	}
	return ret;
}

/* A new XDP link of our program on interface i in mode, pinned at path. */
static int link_create(struct xlb_attached *a, __u32 i, int mode, const char *path,
		       char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	int prog_fd = bpf_program__fd(a->skel->progs.xlb_xdp);
	char ifname[IF_NAMESIZE] = "?", buf[128];
	int fd, ret;

	if_indextoname(a->ifindex[i], ifname);
	lopts.flags = mode == XLB_XDP_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog_fd, a->ifindex[i], BPF_XDP, &lopts);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EOPNOTSUPP && mode == XLB_XDP_NATIVE)
			return fail(err, errlen, ret,
				    "interface %s: driver cannot run XDP natively; "
				    "use --xdp-mode generic (slower)", ifname);
		if (ret == -EBUSY || ret == -EEXIST)
			return fail(err, errlen, ret,
				    "interface %s: another XDP program is attached", ifname);
		return fail(err, errlen, ret, "interface %s: cannot attach XDP: %s", ifname,
			    strerr(ret, buf, sizeof(buf)));
	}
	if (a->link_fd[i] >= 0)
		close(a->link_fd[i]);
	a->link_fd[i] = fd;
	a->xdp_mode[i] = mode;
	if (bpf_obj_pin(fd, path)) {
		ret = -errno;
		return fail(err, errlen, ret, "cannot pin %s: %s", path,
			    strerr(ret, buf, sizeof(buf)));
	}
	return link_prog_id(fd, &a->prog_id);
}

/*
 * The fd of the BPF object pinned at path if it is of kind ("map", "link"),
 * else a negative errno. The kernel names the file anon_inode:bpf-KIND
 * (bpf_link on older kernels); what an fd is cannot be told otherwise.
 */
static int pinned_of_kind(const char *path, const char *kind)
{
	char proc[64], target[64];
	int fd = bpf_obj_get(path);
	ssize_t n;

	if (fd < 0)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, target, sizeof(target) - 1);
	if (n >= 0)
		target[n] = '\0';
	if (n < 0 || strncmp(target, "anon_inode:bpf", 14) ||
	    (target[14] != '-' && target[14] != '_') || strcmp(target + 15, kind)) {
		close(fd);
		return -EMEDIUMTYPE;
	}
	return fd;
}

/*
 * An XDP link is xlb's to remove if it is defunct, or if it runs xlb's
 * program on an interface of this network namespace: another namespace's
 * link serves someone.
 */
static int link_is_ours(int link_fd, const char *prog_name)
{
	struct bpf_link_info link = {};
	struct bpf_prog_info prog = {};
	__u32 len = sizeof(link);
	int fd, ours, mode = XLB_XDP_ANY_MODE;

	if (bpf_obj_get_info_by_fd(link_fd, &link, &len) || link.type != BPF_LINK_TYPE_XDP)
		return 0;
	if (!link.xdp.ifindex) /* its interface went away: it runs nothing */
		return 1;
	if (xlb_link_runs_here(link.xdp.ifindex, link.prog_id, &mode) || mode == XLB_XDP_ANY_MODE)
		return 0;
	fd = bpf_prog_get_fd_by_id(link.prog_id);
	if (fd < 0)
		return 0;
	len = sizeof(prog);
	ours = !bpf_obj_get_info_by_fd(fd, &prog, &len) &&
	       !strncmp(prog.name, prog_name, sizeof(prog.name) - 1);
	close(fd);
	return ours;
}

/*
 * An interface dropped from the config must stop forwarding: detach its
 * old link, if it is xlb's (see link_is_ours); any other pin stays.
 */
static int detach_unlisted(const struct xlb_attached *a, const struct xlb_attach_opts *opts,
			   char *err, size_t errlen)
{
	char path[512], buf[128];
	struct dirent *de;
	int fd, listed, ret = 0;
	__u32 i;
	DIR *dir = opendir(opts->pin_dir);

	if (!dir)
		return 0;
	while ((de = readdir(dir)) && !ret) {
		if (strncmp(de->d_name, "link_", 5))
			continue;
		for (listed = 0, i = 0; i < opts->nifaces && !listed; i++)
			listed = !strcmp(de->d_name + 5, opts->ifaces[i]);
		if (listed)
			continue;
		snprintf(path, sizeof(path), "%s/%s", opts->pin_dir, de->d_name);
		fd = pinned_of_kind(path, "link");
		if (fd < 0 || !link_is_ours(fd, bpf_program__name(a->skel->progs.xlb_xdp))) {
			note(opts, "%s is not an XDP link of xlb's in this namespace: left in place",
			     path);
			if (fd >= 0)
				close(fd);
			continue;
		}
		note(opts, "%s is not configured any more: detaching it", de->d_name + 5);
		if (bpf_link_detach(fd) && errno != ENOLINK)
			ret = fail(err, errlen, -errno, "cannot detach %s: %s", path,
				   strerr(-errno, buf, sizeof(buf)));
		close(fd);
		if (!ret && unlink(path))
			ret = fail(err, errlen, -errno, "cannot remove %s: %s", path,
				   strerror(errno));
	}
	closedir(dir);
	return ret;
}

int xlb_attach(struct xlb_attached *a, const struct xlb_attach_opts *opts,
	       char *err, size_t errlen)
{
	char buf[128];
	__u32 i;
	int ret;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < XLB_MAX_IFACES; i++)
		a->link_fd[i] = -1;
	ret = ensure_bpffs(opts->pin_dir, err, errlen);
	if (ret)
		return ret;
	a->skel = xlb_bpf__open();
	if (!a->skel)
		return fail(err, errlen, -errno, "cannot open the BPF object: %s",
			    strerr(-errno, buf, sizeof(buf)));
	XLB_SKEL_CONFIGURE(a->skel, &opts->load);
	ret = pin_paths_set(a->skel, opts->pin_dir, &a->maps_adopted, &a->legacy_ct_entries);
	if (ret) {
		fail(err, errlen, ret, "cannot set pin paths: %s", strerr(ret, buf, sizeof(buf)));
		goto err_close;
	}
	ret = xlb_bpf__load(a->skel);
	if (ret) {
		if (a->maps_adopted)
			fail(err, errlen, ret,
			     "cannot load with the maps pinned in %s (%s); if the connection "
			     "table size or this build's map layout changed, run "
			     "'xlbd --teardown' first", opts->pin_dir,
			     strerr(ret, buf, sizeof(buf)));
		else
			fail(err, errlen, ret, "cannot load the BPF program: %s",
			     strerr(ret, buf, sizeof(buf)));
		goto err_close;
	}
	ret = xlb_dp_init(&a->dp, a->skel->obj);
	if (ret) {
		fail(err, errlen, ret, "BPF object lacks a map");
		goto err_close;
	}
	a->nifaces = opts->nifaces;
	for (i = 0; i < opts->nifaces; i++) {
		ret = attach_one(a, opts, i, err, errlen);
		if (ret)
			goto err_close;
	}
	ret = detach_unlisted(a, opts, err, errlen);
	if (ret)
		goto err_close;
	/* any attached interface may be another's egress */
	for (i = 0; i < opts->nifaces; i++) {
		ret = xlb_dp_tx_port_add(&a->dp, a->ifindex[i]);
		if (ret) {
			fail(err, errlen, ret, "cannot add %s to tx_ports", opts->ifaces[i]);
			goto err_close;
		}
	}
	return 0;

err_close:
	xlb_attached_close(a);
	return ret;
}

void xlb_attached_close(struct xlb_attached *a)
{
	__u32 i;

	for (i = 0; i < XLB_MAX_IFACES; i++)
		if (a->link_fd[i] >= 0)
			close(a->link_fd[i]);
	xlb_bpf__destroy(a->skel);
	memset(a, 0, sizeof(*a));
	for (i = 0; i < XLB_MAX_IFACES; i++)
		a->link_fd[i] = -1;
}

/* Detach and unpin our link_* pins: first, so nothing runs on a map we are about to drop. */
static int teardown_links(DIR *dir, const char *pin_dir, const char *prog_name,
			  char *err, size_t errlen)
{
	const struct xlb_attach_opts to_stderr = {};
	char path[512], buf[128];
	struct dirent *de;
	int fd, ret = 0;

	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "link_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		fd = pinned_of_kind(path, "link");
		if (fd < 0 || !link_is_ours(fd, prog_name)) {
			note(&to_stderr, "%s is not an XDP link of xlb's: left in place", path);
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (bpf_link_detach(fd) && errno != ENOLINK && !ret)
			ret = fail(err, errlen, -errno, "cannot detach %s: %s", path,
				   strerr(-errno, buf, sizeof(buf)));
		close(fd);
		if (unlink(path) && !ret)
			ret = fail(err, errlen, -errno, "cannot remove %s: %s", path,
				   strerror(errno));
	}
	return ret;
}

/* Unpin the maps of the object, by name; what another tool pinned under such a name stays. */
static int teardown_maps(struct xlb_bpf *skel, const char *pin_dir, char *err, size_t errlen)
{
	const struct xlb_attach_opts to_stderr = {};
	struct bpf_map *map;
	char path[512];
	int fd, ret = 0;

	bpf_object__for_each_map(map, skel->obj) {
		if (map_is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
		fd = pinned_of_kind(path, "map");
		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			note(&to_stderr, "%s is not a BPF map: left in place", path);
			continue;
		}
		close(fd);
		if (unlink(path) && !ret)
			ret = fail(err, errlen, -errno, "cannot remove %s: %s", path,
				   strerror(errno));
	}
	return ret;
}

/* Remove pin_dir if nothing is left in it; else say what stays, and keep it. */
static int teardown_dir(DIR *dir, const char *pin_dir, char *err, size_t errlen)
{
	const struct xlb_attach_opts to_stderr = {};
	char first[256] = "";
	struct dirent *de;
	int left = 0;

	if (!rmdir(pin_dir) || errno == ENOENT)
		return 0;
	if (errno != ENOTEMPTY && errno != EEXIST)
		return fail(err, errlen, -errno, "cannot remove %s: %s", pin_dir, strerror(errno));
	rewinddir(dir);
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!left++)
			snprintf(first, sizeof(first), "%s", de->d_name);
	}
	note(&to_stderr, "%s is left in place: it holds %d entr%s that %s not xlb's (%s%s)",
	     pin_dir, left, left == 1 ? "y" : "ies", left == 1 ? "is" : "are", first,
	     left > 1 ? ", ..." : "");
	return 0;
}

long xlb_flock_holder(int fd)
{
	char line[256], type[16], mode[16], rw[16];
	unsigned int maj, min;
	unsigned long long inode;
	long pid, found = 0;
	struct stat st;
	FILE *f;
	int n = 0;

	if (fstat(fd, &st) || !(f = fopen("/proc/locks", "re")))
		return 0;
	while (!found && n++ < 100000 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%llu", type, mode, rw, &pid, &maj,
			   &min, &inode) == 7 &&
		    !strcmp(type, "FLOCK") && inode == (unsigned long long)st.st_ino &&
		    makedev(maj, min) == st.st_dev)
			found = pid;
	fclose(f);
	return found;
}

int xlb_pin_lock(const char *pin_dir, char *err, size_t errlen)
{
	long pid;
	int fd, ret;

	ret = ensure_bpffs(pin_dir, err, errlen);
	if (ret)
		return ret;
	fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, -errno, "cannot open %s: %s", pin_dir, strerror(errno));
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
	pid = ret == -EBUSY ? xlb_flock_holder(fd) : 0;
	close(fd);
	if (ret != -EBUSY)
		return fail(err, errlen, ret, "cannot lock %s: %s", pin_dir, strerror(-ret));
	if (pid)
		return fail(err, errlen, ret, "another xlbd (pid %ld) serves the data plane pinned in "
			    "%s: one daemon per data plane", pid, pin_dir);
	return fail(err, errlen, ret, "another xlbd serves the data plane pinned in %s: one "
		    "daemon per data plane", pin_dir);
}

int xlb_teardown(const char *pin_dir, char *err, size_t errlen)
{
	struct xlb_bpf *skel;
	char buf[128];
	DIR *dir;
	int ret;

	dir = opendir(pin_dir);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		return fail(err, errlen, -errno, "cannot open %s: %s", pin_dir, strerror(errno));
	}
	/* opened, not loaded: only for the names of our maps and program */
	skel = xlb_bpf__open();
	if (!skel) {
		ret = fail(err, errlen, -errno, "cannot open the BPF object: %s",
			   strerr(-errno, buf, sizeof(buf)));
		goto out;
	}
	ret = teardown_links(dir, pin_dir, bpf_program__name(skel->progs.xlb_xdp), err, errlen);
	if (!ret)
		ret = teardown_maps(skel, pin_dir, err, errlen);
	if (!ret)
		ret = teardown_dir(dir, pin_dir, err, errlen);
	xlb_bpf__destroy(skel);
out:
	closedir(dir);
	return ret;
}

int xlb_pins_exist(const char *pin_dir)
{
	struct xlb_bpf *skel;
	struct bpf_map *map;
	struct dirent *de;
	char path[512];
	int found = 0;
	DIR *dir;

	dir = opendir(pin_dir);
	if (!dir)
		return errno != ENOENT; /* only a missing folder is surely empty */
	while (!found && (de = readdir(dir)))
		found = !strncmp(de->d_name, "link_", 5);
	closedir(dir);
	skel = found ? NULL : xlb_bpf__open();
	if (!found && !skel)
		return 1; /* cannot tell: as if there were, so nothing is removed */
	if (skel) {
		bpf_object__for_each_map(map, skel->obj) {
			if (map_is_internal(map))
				continue;
			snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
			if (!access(path, F_OK)) {
				found = 1;
				break;
			}
		}
	}
	xlb_bpf__destroy(skel);
	return found;
}
