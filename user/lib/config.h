/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The xlbd config file (YAML), loaded into plain structs and validated. */
#ifndef XLB_CONFIG_H
#define XLB_CONFIG_H

#include <stddef.h>
#include <linux/types.h>
#include "../../maps/xlb_maps.h"
#include "block.h"
#include "vip_limits.h"
#include "syntax.h"
#include "xlb_limits.h"

enum xlb_check_kind {
	XLB_CHECK_NONE,
	XLB_CHECK_TCP,
	XLB_CHECK_HTTP,
	XLB_CHECK_HTTPS,
};

/* Where a check connects: the backend's address, or the VIP's steered to it (via.h). */
enum xlb_check_via {
	XLB_CHECK_VIA_BACKEND,
	XLB_CHECK_VIA_VIP,
};

enum xlb_xdp_mode {
	XLB_XDP_NATIVE,
	XLB_XDP_GENERIC,
};

/* Admin state of a backend, as configured. Health adds "down" at run time. */
enum xlb_admin_state {
	XLB_ADMIN_ENABLED,
	XLB_ADMIN_DRAIN,
	XLB_ADMIN_DISABLED,
};

struct xlb_health_cfg {
	__u32 kind;                      /* enum xlb_check_kind */
	char path[XLB_HTTP_PATH_MAX];    /* http(s): GET path, default "/" */
	__u16 port;                      /* 0 = the VIP's port (80 for a port-0 VIP) */
	__u8 via;                        /* enum xlb_check_via */
	__u8 pad;
	__u32 interval_ms, timeout_ms, rise, fall;
};

struct xlb_backend_cfg {
	__be32 addr[4];
	__u32 weight;                    /* XLB_WEIGHT_MIN..MAX, default XLB_WEIGHT_DEFAULT; 0: drain */
	__u32 admin;                     /* enum xlb_admin_state */
	/* per-backend overrides of the VIP's check timing; 0 = inherit */
	__u32 interval_ms, timeout_ms, rise, fall;
	int line;                        /* line in the config file, 0 if none */
};

struct xlb_vip_cfg {
	struct vip_key key;
	__u8 sched;                      /* enum xlb_sched */
	__u8 forward;                    /* enum xlb_forward */
	struct xlb_health_cfg health;
	struct xlb_backend_cfg *backends;
	__u32 nbackends;
	__u32 min_up;                    /* announced while this many backends are up */
	__u32 persist_ms;                /* 0: no persist */
	__u8 persist_prefix4, persist_prefix6; /* the client prefix that keeps a backend */
	__u8 pad[2];
	struct xlb_limits_cfg limits;    /* per-client limits; none: xlb_limits_on() 0 */
	int line;
};

/* announce: one route per announced VIP address in a table of xlbd's own */
struct xlb_announce_cfg {
	__u32 table;                     /* 0: announce: absent, nothing announced */
	__u32 protocol;                  /* the routes' protocol number, to tell them apart */
};

/* handoff: flows whose backend the table no longer names, sent to the peers */
#define XLB_HANDOFF_PEERS_MAX 16
struct xlb_handoff_cfg {
	__u16 port;                      /* 0: handoff: absent */
	__u8 key[32];                    /* HMAC-SHA256 key shared by the site */
	__be32 peers[XLB_HANDOFF_PEERS_MAX][4];
	__u32 npeers;
};

struct xlb_config {
	char ifaces[XLB_MAX_IFACES][XLB_IFNAME_MAX];
	__u32 nifaces;
	__u32 xdp_mode;                  /* enum xlb_xdp_mode */
	__u32 ct_size;                   /* default XLB_CT_SIZE */
	__u64 tcp_idle_ms, udp_idle_ms;  /* default 300 s, 30 s */
	__u64 tcp_closing_ms;            /* after a FIN or RST from the client; default 10 s */
	char metrics[XLB_METRICS_ADDR_MAX]; /* "ADDR:PORT" or "" (off) */
	/* scrapers allowed; none listed: any (then bind metrics: to a management address) */
	struct xlb_prefix metrics_allow[XLB_METRICS_ALLOW_MAX];
	__u32 nmetrics_allow;
	struct encap_config encap;       /* outer sources for forward ipip */
	struct xlb_announce_cfg announce;
	struct xlb_handoff_cfg handoff;
	/* runtime only, never in the config file: xlbctl lb withdraw, in state.json */
	__u8 host_withdrawn;
	/* runtime only, from state.json: when its config file was applied (UTC), or "" */
	char applied_at[24];
	struct xlb_vip_cfg *vips;
	__u32 nvips;
	struct xlb_blocklist block;      /* blocklist: and the VIPs' (README, "Under attack") */
	char digest[XLB_DIGEST_MAX];     /* of the content parsed (config_write.h) */
	char bytes_digest[XLB_DIGEST_MAX]; /* of the bytes parsed, "crc32:HEX:LEN" (older state files) */
};

/* Defaults of a VIP's health check: interval 2 s, timeout 1 s, rise 2, fall 3. */
void xlb_health_cfg_default(struct xlb_health_cfg *h);
/* No timeout given: the default's, or half an interval it would not fit in (at least 10 ms). */
void xlb_health_timeout_derive(struct xlb_health_cfg *h);

/*
 * Load and validate a config file. On error returns a negative errno and
 * writes one line to err: "FILE:LINE: path.to.key: what is wrong"
 * (e.g. "xlb.yaml:7: vips[0].backends[1].address: bad IPv4 address '198.18.0.300'").
 * cfg is untouched on error.
 */
int xlb_config_load(const char *path, struct xlb_config *cfg, char *err, size_t errlen);
/* The same from a string; name stands in for FILE in messages. */
int xlb_config_parse(const char *yaml, size_t len, const char *name,
		     struct xlb_config *cfg, char *err, size_t errlen);
void xlb_config_free(struct xlb_config *cfg);

#endif /* XLB_CONFIG_H */
