/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Loading, pinning and attaching the data plane. Everything lives under
 * one bpffs folder: the maps by name and one XDP link per interface
 * (link_IFNAME), so the data plane outlives the daemon, and a new daemon
 * adopts it.
 */
#ifndef XLB_ATTACH_H
#define XLB_ATTACH_H

#include <stddef.h>
#include "config.h"
#include "dataplane.h"

struct xlb_bpf;

struct xlb_attach_opts {
	const char *pin_dir;
	const char (*ifaces)[XLB_IFNAME_MAX];
	__u32 nifaces;
	__u32 xdp_mode; /* enum xlb_xdp_mode */
	struct xlb_load_opts load;
	/* Where a stale pinned link's replacement is told; NULL: stderr. */
	void (*log)(void *ctx, const char *msg);
	void *log_ctx;
};

struct xlb_attached {
	struct xlb_bpf *skel;
	struct xlb_dp dp;
	int link_fd[XLB_MAX_IFACES];
	int ifindex[XLB_MAX_IFACES];
	__u32 nifaces;
	__u32 xdp_mode[XLB_MAX_IFACES]; /* enum xlb_xdp_mode the link really runs in */
	__u32 prog_id;     /* the program running on the links */
	int maps_adopted;  /* the maps were already pinned */
	int links_adopted; /* at least one link was already there */
	int replaced;      /* a running program was replaced by this build */
	__u32 legacy_ct_entries; /* an older build's connection table was adopted: its size */
};

/* Where an older build's connection table is pinned, under pin_dir. */
#define XLB_LEGACY_CT_PIN "conntrack"

#define XLB_XDP_ANY_MODE (-1) /* for xlb_link_check: native or generic */

/* What a pinned XDP link is attached to, as the kernel reports it. */
struct xlb_link_state {
	__u32 prog_id;
	__u32 ifindex;  /* the link's; 0 when its interface went away */
	__u32 xdp_mode; /* enum xlb_xdp_mode it runs in; set when live */
};

/*
 * Is the XDP link link_fd live on interface ifname of this network
 * namespace, in xdp_mode (enum xlb_xdp_mode or XLB_XDP_ANY_MODE)? A link
 * outlives its interface (deleted, recreated with a new ifindex, moved to
 * another namespace) and runs in the mode it was made with.
 * Returns 1: live; 0: stale (safe to remake), with the reason in why;
 * -EXDEV: it serves another interface or namespace; or another negative
 * errno (why says what failed). st may be NULL.
 */
int xlb_link_check(int link_fd, const char *ifname, int xdp_mode,
		   struct xlb_link_state *st, char *why, size_t whylen);

/*
 * How this namespace's interface ifindex runs program prog_id: *mode is
 * XLB_XDP_NATIVE, XLB_XDP_GENERIC or XLB_XDP_ANY_MODE (it does not).
 * Returns 0 or a negative errno.
 */
int xlb_link_runs_here(__u32 ifindex, __u32 prog_id, int *mode);

/* Returns 0 or a negative errno with a one-line reason in err. */
int xlb_attach(struct xlb_attached *a, const struct xlb_attach_opts *opts,
	       char *err, size_t errlen);
/* Close our handles; pinned maps and links stay, and keep forwarding. */
void xlb_attached_close(struct xlb_attached *a);
/*
 * Detach and unpin what is xlb's under pin_dir: the maps of the object by
 * name, and the link_* pins that are XDP links of its program (or defunct).
 * Other pins stay, and so does pin_dir then (a note on stderr says so).
 */
int xlb_teardown(const char *pin_dir, char *err, size_t errlen);
/* Does pin_dir hold any of xlb's pins (a map by name, a link_*)? 1 also when it cannot tell. */
int xlb_pins_exist(const char *pin_dir);

/*
 * One daemon per data plane: an exclusive flock on pin_dir (made if need
 * be), held while the returned fd is open. Another holder: -EBUSY, and err
 * names its pid. Take it before touching any map.
 */
int xlb_pin_lock(const char *pin_dir, char *err, size_t errlen);
/* The pid holding a flock on fd's file, from /proc/locks; 0 if none is told. */
long xlb_flock_holder(int fd);

#endif /* XLB_ATTACH_H */
