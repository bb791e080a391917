/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xlb-decap's files share: the request a command line makes, and
 * the pins of one interface in bpffs.
 */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include <linux/types.h>
#include "cli.h"
#include "decap.skel.h"
#include "../../maps/decap_maps.h"

#define BPFFS_ROOT "/sys/fs/bpf"
#define DEFAULT_BASE BPFFS_ROOT "/xlb-decap"
#define LINK_PIN "link"
#define XLB_DECAP_SHOW_MAX 1024 /* interfaces listed by show without dev */

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,  /* the command could not be carried out */
	EXIT_USAGE = 2, /* bad command line, caught before anything changed */
};


struct request {
	const char *dev;
	const char *base; /* folder of the per-interface folders */
	struct decap_source_key sources[XLB_DECAP_MAX_SOURCES];
	__u32 nsources;
	struct decap_vip_key vips[XLB_DECAP_MAX_VIPS];
	__u32 nvips;
};

/* The maps, as pinned: the same names as in the BPF object. */
enum { MAP_SOURCES, MAP_VIPS, MAP_STATS, NMAPS };
extern const char *const map_pins[NMAPS];

/* What is pinned for one interface, opened. */
struct pinned {
	int link_fd;
	int map_fd[NMAPS];
	__u32 ifindex; /* 0: the interface went away, the link is defunct */
	__u32 prog_id;
};

/* libbpf's text for a negative errno */
const char *bpf_err(int err);

/* pins.c */
int path_of(char *buf, size_t len, const char *dir, const char *name);
/*
 * Open what is pinned in dir. Returns 0, -ENOENT when nothing is attached
 * (no link pin; nothing printed), or another negative errno (printed).
 */
int pinned_open(const char *dir, const struct decap_bpf *skel, struct pinned *p);
void pinned_close(struct pinned *p);

/* The commands: 0 or a negative errno, its message printed. */
int decap_attach(const struct request *rq, const char *dir);
int decap_detach(const struct request *rq, const char *dir);
int decap_show(const struct request *rq, const char *dir); /* show.c */
/* doctor.c: doctor [dev IF] [VIP ...] under base; its exit status */
int decap_doctor(const char *base, int argc, char **argv);

#endif /* XLB_DECAP_H */
