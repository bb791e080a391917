// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xlb.skel.h"
#include "attach.h"

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

static int pin_paths_set(struct xlb_bpf *skel, const char *pin_dir, int *existed)
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
		if (bpf_map__type(map) == BPF_MAP_TYPE_DEVMAP_HASH && !access(path, F_OK)) {
			int fd = bpf_obj_get(path);

			if (fd < 0)
				return -errno;
			err = bpf_map__reuse_fd(map, fd);
			close(fd);
			if (err)
				return err;
			continue;
		}
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

/* The running program is ours if its instructions and its load-time settings match. */
static int same_program(struct xlb_bpf *skel, __u32 running_id)
{
	struct bpf_prog_info ours = {}, theirs = {};
	__u32 len = sizeof(ours), map_ids[16], i;
	int fd, same = 0;

	if (bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.xlb_xdp), &ours, &len))
		return 0;
	fd = bpf_prog_get_fd_by_id(running_id);
	if (fd < 0)
		return 0;
	len = sizeof(theirs);
	theirs.nr_map_ids = 16;
	theirs.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &theirs, &len) ||
	    memcmp(ours.tag, theirs.tag, sizeof(ours.tag)))
		goto out;
	for (i = 0; i < theirs.nr_map_ids && i < 16; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi), key = 0;
		int mfd = bpf_map_get_fd_by_id(map_ids[i]);
		void *val;

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen) &&
		    strstr(mi.name, ".rodata") &&
		    mi.value_size == bpf_map__value_size(skel->maps.rodata)) {
			val = calloc(1, mi.value_size);
			if (val && !bpf_map_lookup_elem(mfd, &key, val))
				same = !memcmp(val, skel->rodata, mi.value_size);
			free(val);
		}
		close(mfd);
	}
out:
	close(fd);
	return same;
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

static int attach_one(struct xlb_attached *a, const struct xlb_attach_opts *opts,
		      __u32 i, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	const char *ifname = opts->ifaces[i];
	int prog_fd = bpf_program__fd(a->skel->progs.xlb_xdp);
	char path[512], buf[128];
	__u32 running = 0;
	int fd, ret;

	a->ifindex[i] = if_nametoindex(ifname);
	if (!a->ifindex[i])
		return fail(err, errlen, -ENODEV, "interface %s: no such interface", ifname);
	snprintf(path, sizeof(path), "%s/link_%s", opts->pin_dir, ifname);

	fd = bpf_obj_get(path);
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

	lopts.flags = opts->xdp_mode == XLB_XDP_GENERIC ? XDP_FLAGS_SKB_MODE :
							  XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog_fd, a->ifindex[i], BPF_XDP, &lopts);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EOPNOTSUPP && opts->xdp_mode == XLB_XDP_NATIVE)
			return fail(err, errlen, ret,
				    "interface %s: driver cannot run XDP natively; "
				    "use --xdp-mode generic (slower)", ifname);
		if (ret == -EBUSY || ret == -EEXIST)
			return fail(err, errlen, ret,
				    "interface %s: another XDP program is attached", ifname);
		return fail(err, errlen, ret, "interface %s: cannot attach XDP: %s", ifname,
			    strerr(ret, buf, sizeof(buf)));
	}
	a->link_fd[i] = fd;
	if (bpf_obj_pin(fd, path)) {
		ret = -errno;
		return fail(err, errlen, ret, "cannot pin %s: %s", path,
			    strerr(ret, buf, sizeof(buf)));
	}
	return link_prog_id(fd, &a->prog_id);
}

/* An interface dropped from the config must stop forwarding: detach its old link. */
static int detach_unlisted(const struct xlb_attach_opts *opts, char *err, size_t errlen)
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
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			if (bpf_link_detach(fd))
				ret = fail(err, errlen, -errno, "cannot detach %s: %s", path,
					   strerr(-errno, buf, sizeof(buf)));
			close(fd);
		}
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
	ret = pin_paths_set(a->skel, opts->pin_dir, &a->maps_adopted);
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
	ret = detach_unlisted(opts, err, errlen);
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

int xlb_teardown(const char *pin_dir, char *err, size_t errlen)
{
	char path[512], buf[128];
	struct dirent *de;
	int fd, ret = 0;
	DIR *dir;

	dir = opendir(pin_dir);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		return fail(err, errlen, -errno, "cannot open %s: %s", pin_dir, strerror(errno));
	}
	/* links first, so nothing runs on a map we are about to drop */
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "link_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			if (bpf_link_detach(fd) && !ret)
				ret = fail(err, errlen, -errno, "cannot detach %s: %s", path,
					   strerr(-errno, buf, sizeof(buf)));
			close(fd);
		}
		unlink(path);
	}
	rewinddir(dir);
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		if (unlink(path) && !ret)
			ret = fail(err, errlen, -errno, "cannot remove %s: %s", path,
				   strerror(errno));
	}
	closedir(dir);
	if (rmdir(pin_dir) && !ret)
		ret = fail(err, errlen, -errno, "cannot remove %s: %s", pin_dir, strerror(errno));
	return ret;
}
