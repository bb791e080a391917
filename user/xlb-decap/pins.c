// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pins of one interface in bpffs: the XDP link ("link") and the maps
 * by name, and the attach and detach that make and remove them.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "xlb-decap.h"

const char *const map_pins[NMAPS] = {
	[MAP_SOURCES] = "decap_sources", [MAP_VIPS] = "decap_vips", [MAP_STATS] = "decap_stats",
};

static int is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

int path_of(char *buf, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		return xlb_cli_fail(-ENAMETOOLONG, "path \"%s/%s\": too long", dir, name);
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
		return xlb_cli_fail(-ENOENT, "no bpffs at %s (under ip netns exec there is none): "
			    "mount one there, or use -d DIR on one", BPFFS_ROOT);
	if (mkdir(rq->base, 0700) && errno != EEXIST)
		return xlb_cli_fail(-errno, "cannot create %s: %s", rq->base, strerror(errno));
	if (!is_bpffs(rq->base))
		return xlb_cli_fail(-EINVAL, "%s is not on a bpffs mount", rq->base);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return xlb_cli_fail(-errno, "cannot create %s: %s", dir, strerror(errno));
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
			ret = xlb_cli_fail(-errno, "cannot remove %s: %s", path, strerror(errno));
	}
	if (rmdir(dir) && errno != ENOENT && !ret)
		ret = xlb_cli_fail(-errno, "cannot remove %s: %s", dir, strerror(errno));
	return ret;
}

void pinned_close(struct pinned *p)
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

/*
 * The map this build expects: a pinned one of another layout is not used.
 * The stats map may have another number of slots (an older build's, read
 * by index as far as it goes): its size never forces a detach.
 */
static int map_check(int fd, const struct bpf_map *want, const char *path, bool any_size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return xlb_cli_fail(-errno, "%s: %s", path, bpf_err(-errno));
	if (info.type != bpf_map__type(want) || info.key_size != bpf_map__key_size(want) ||
	    info.value_size != bpf_map__value_size(want) ||
	    (!any_size && info.max_entries != bpf_map__max_entries(want)))
		return xlb_cli_fail(-EINVAL, "%s: not the map this build expects; detach first", path);
	return 0;
}

/*
 * Interface indexes are per network namespace: a pinned link found by
 * name may be another namespace's (one bpffs shared by several). It is
 * ours only if this namespace's interface runs the link's program.
 */
static int link_here(const char *dir, __u32 ifindex, __u32 prog_id)
{
	int mode = XLB_XDP_ANY_MODE;

	if (!ifindex) /* defunct: its interface is gone */
		return 0;
	if (xlb_link_runs_here(ifindex, prog_id, &mode) || mode == XLB_XDP_ANY_MODE)
		return xlb_cli_fail(-EXDEV, "%s holds another network namespace's link (ifindex %u runs "
			    "no such program here); use another -d", dir, ifindex);
	return 0;
}

int pinned_open(const char *dir, const struct decap_bpf *skel, struct pinned *p)
{
	const struct bpf_map *maps[NMAPS] = {
		[MAP_SOURCES] = skel->maps.decap_sources, [MAP_VIPS] = skel->maps.decap_vips,
		[MAP_STATS] = skel->maps.decap_stats,
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
		return xlb_cli_fail(-errno, "%s: %s", path, bpf_err(-errno));
	}
	if (bpf_obj_get_info_by_fd(p->link_fd, &info, &len))
		return xlb_cli_fail(-errno, "%s: %s", path, bpf_err(-errno));
	if (info.type != BPF_LINK_TYPE_XDP)
		return xlb_cli_fail(-EINVAL, "%s: not an XDP link", path);
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
			return xlb_cli_fail(-errno, "%s: %s", path, bpf_err(-errno));
		ret = map_check(p->map_fd[i], maps[i], path, i == MAP_STATS);
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
		return xlb_cli_fail(-ENOMEM, "out of memory");
	while (nstale <= max && !bpf_map_get_next_key(fd, prev, cur)) {
		for (found = 0, i = 0; i < n && !found; i++)
			found = !memcmp((const char *)keys + i * key_size, cur, key_size);
		if (!found)
			memcpy(stale + nstale++ * key_size, cur, key_size);
		prev = cur;
	}
	for (i = 0; i < nstale; i++) {
		if (bpf_map_delete_elem(fd, stale + i * key_size) && errno != ENOENT) {
			ret = xlb_cli_fail(-errno, "%s: cannot delete an entry: %s", name, bpf_err(-errno));
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, (const char *)keys + i * key_size, &one, BPF_ANY)) {
			ret = xlb_cli_fail(-errno, "%s: cannot add an entry: %s", name, bpf_err(-errno));
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

/* A fresh attach: load, fill the maps, pin them, attach, pin the link. */
static int attach_new(const struct request *rq, struct decap_bpf *skel, __u32 ifindex,
		      const char *dir)
{
	struct bpf_map *maps[NMAPS] = {
		[MAP_SOURCES] = skel->maps.decap_sources, [MAP_VIPS] = skel->maps.decap_vips,
		[MAP_STATS] = skel->maps.decap_stats,
	};
	struct bpf_link *link = NULL;
	char path[PATH_MAX];
	size_t i;
	int ret;

	ret = decap_bpf__load(skel);
	if (ret)
		return xlb_cli_fail(ret, "cannot load the BPF program: %s", bpf_err(ret));
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
				xlb_cli_fail(ret, "cannot pin %s: %s", path, bpf_err(ret));
		}
		if (ret)
			goto err_unpin;
	}
	link = bpf_program__attach_xdp(skel->progs.xlb_decap, ifindex);
	if (!link) {
		ret = -errno;
		if (ret == -EBUSY || ret == -EEXIST)
			xlb_cli_fail(ret, "dev \"%s\": another XDP program is attached", rq->dev);
		else
			xlb_cli_fail(ret, "dev \"%s\": cannot attach XDP: %s", rq->dev, bpf_err(ret));
		goto err_unpin;
	}
	ret = path_of(path, sizeof(path), dir, LINK_PIN);
	if (!ret) {
		ret = bpf_link__pin(link, path);
		if (ret)
			xlb_cli_fail(ret, "cannot pin %s: %s", path, bpf_err(ret));
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

int decap_attach(const struct request *rq, const char *dir)
{
	struct decap_bpf *skel;
	struct pinned p;
	__u32 ifindex;
	int ret;

	ifindex = if_nametoindex(rq->dev);
	if (!ifindex)
		return xlb_cli_fail(-ENODEV, "dev \"%s\": no such interface", rq->dev);
	skel = decap_bpf__open();
	if (!skel)
		return xlb_cli_fail(-errno, "cannot open the BPF object: %s", bpf_err(-errno));

	ret = pinned_open(dir, skel, &p);
	if (!ret && p.ifindex == ifindex) {
		/* attached already: change only what the program matches on */
		ret = maps_fill(rq, p.map_fd[MAP_SOURCES], p.map_fd[MAP_VIPS]);
		goto out;
	}
	if (!ret && p.ifindex) {
		ret = xlb_cli_fail(-EEXIST, "dev \"%s\": %s holds a link to ifindex %u, not %u; "
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

int decap_detach(const struct request *rq, const char *dir)
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
			return xlb_cli_fail(-ENOENT, "dev \"%s\": not attached (no %s)", rq->dev, path);
		}
		return xlb_cli_fail(-errno, "%s: %s", path, bpf_err(-errno));
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
		return xlb_cli_fail(ret, "dev \"%s\": cannot detach: %s", rq->dev, bpf_err(ret));
	return pins_remove(dir);
}

