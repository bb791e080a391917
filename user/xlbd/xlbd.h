/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd: owns the desired state (config file plus runtime changes, saved in
 * the state folder), loads and pins the data plane, health-checks the
 * backends, fills the maps and serves xlbctl on a Unix socket.
 *
 * The data plane never depends on the daemon running: on exit everything
 * stays pinned and keeps forwarding, and the next xlbd adopts it.
 *
 * One struct xlbd holds the daemon; every function gets it as a pointer.
 */
#ifndef XLBD_H
#define XLBD_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/epoll.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "attach.h"
#include "config.h"
#include "evloop.h"
#include "health.h"
#include "lb.h"
#include "metrics.h"
#include "names.h"
#include "neigh.h"
#include "proto.h"
#include "state.h"

#include "version.h"
#define DEFAULT_CONFIG "/etc/xlb/xlb.yaml"
#define DEFAULT_PIN_DIR "/sys/fs/bpf/xlb"
#define DEFAULT_STATE_DIR "/var/lib/xlb"
/* a full table closes the client idle longest to admit a new one (ctl.c) */
#define MAX_CLIENTS 64
#define MAX_OUT (XLB_PROTO_MAX_REPLY)
/* a control client silent this long is closed (xlbctl top asks every second) */
#define CLIENT_IDLE_MS 5000
/*
 * Health and neighbour changes rebuild a VIP's table at most this often
 * (lb.h: a backend going down is out of service at once, out of its table
 * within this plus the writes queued before it); each loop turn writes
 * tables for about TABLE_BUDGET_MS, so the control socket keeps answering.
 */
#define TABLE_COALESCE_MS 100
#define TABLE_BUDGET_MS 10
/* events handled per loop turn, between the turns' table writes */
#define LOOP_EVENTS 256

/* ---- log.c ---- */

enum { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
/* --log-format; BARE: plain without the time, for --check's answer */
enum { LOG_FMT_PLAIN, LOG_FMT_JSON, LOG_FMT_JOURNAL, LOG_FMT_BARE };
extern int log_level;

int log_format_set(const char *name); /* plain, json or journal; -1: none of them */
/* Unless set: journal under journald, else plain (bare: without the time). */
void log_format_default(int bare);
void logmsg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A control command's audit line leads what it caused: from log_hold on,
 * lines wait; log_release writes "HEAD: OUTCOME" (stamped when log_hold
 * was called), then them. json: the line's fields (both objects are taken).
 */
void log_hold(struct json_object *fields, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_release(int level, struct json_object *more, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap);

/* ---- the daemon ---- */

struct xlbd;

struct client {
	struct xlb_evsrc src;
	struct xlbd *d;
	struct xlb_linebuf in;
	char *out;
	size_t out_len, out_off;
	__u64 active_ms; /* CLOCK_MONOTONIC of the last complete request, or of accept */
	int closing; /* the client sent EOF (or was refused): answer, then close */
	int refused; /* not root: every request gets the refusal */
	int uid, pid; /* the peer's (SO_PEERCRED at accept), for the audit line; -1: unknown */
};

struct xlbd {
	/* the cursor the last conntrack flush slice handed out: its next slice is not audited again */
	__u32 flush_cursor_table, flush_cursor_pos;
	int flush_cursor_set;
	/* options */
	const char *config_path;
	const char *pin_dir;
	const char *socket_path;
	const char *state_dir;
	char cli_ifaces[XLB_MAX_IFACES][XLB_IFNAME_MAX];
	__u32 cli_nifaces;
	int cli_xdp_mode; /* -1: from the config */
	const char *cli_metrics;

	struct xlb_config file;  /* the config file's top-level settings */
	struct xlb_state state;  /* desired VIPs and backends, with run-time status */
	struct xlb_attached at;
	struct xlb_lb *lb;
	struct xlb_health *health;
	struct xlb_neigh *neigh;
	struct xlb_announce *announce; /* announce.c; NULL: announce: is off */
	struct xlb_handoff *handoff;   /* handoff.c; NULL: handoff: is off */
	struct xlb_flows *flows;       /* flows.c */
	struct xlb_load_state *load;   /* load.c */
	struct xlb_via_rt *via;        /* via.c: checks through the VIP */
	int epfd;
	struct xlb_evsrc sig_src, listen_src, tick_src;
	struct client *clients[MAX_CLIENTS];
	struct epoll_event *batch; /* the loop's events being handled: a closed client's */
	int batch_n;               /* later ones there are cleared */
	struct xlb_metrics *metrics;
	time_t started;
	int running;
	__u64 reloads;
	__u64 config_errors;
	__u64 health_ups, health_downs;
	__u64 no_neigh_seen; /* pass_no_neigh at the last tick */
};

/* ---- backend.c: backends, their effective state and the data plane ---- */

__u32 effective_state(const struct xlb_state_backend *b, const char **why);
/* b's check; through the VIP, b gets its mark (via.c) and says so in b->via */
void health_target(struct xlbd *d, const struct xlb_state_vip *v, struct xlb_state_backend *b,
		   struct xlb_health_target *t);
int encap_source_for(__u8 forward, const __be32 addr[4], const struct encap_config *e);
void mac_resolve(struct xlbd *d, const struct xlb_state_vip *v, struct xlb_state_backend *b);
int backend_push(struct xlbd *d, struct xlb_state_vip *v, struct xlb_state_backend *b);
int backend_start(struct xlbd *d, struct xlb_state_vip *v, struct xlb_state_backend *b);
void backend_stop(struct xlbd *d, struct xlb_state_vip *v, struct xlb_state_backend *b);
int vip_start(struct xlbd *d, struct xlb_state_vip *v);
int vip_persist_push(struct xlbd *d, struct xlb_state_vip *v);
void vip_stop(struct xlbd *d, struct xlb_state_vip *v);
__u32 total_backends(const struct xlbd *d);
/* callbacks: ctx (or src->ctx) is the struct xlbd */
void on_health(void *ctx, __u64 id, int up, const struct xlb_health_result *r);
void on_neigh(void *ctx, const __be32 addr[4], int event, int ifindex, const __u8 mac[6]);
void on_tick(struct xlb_evsrc *src, uint32_t events);

/* ---- reconcile.c: the desired state applied, reloaded, chosen, saved ---- */

/*
 * Every runtime change is saved before it is applied (an addition: into the
 * state first, then saved, then started; a removal: saved without it, then
 * removed). One that cannot be saved is refused and nothing changes; err
 * gets the reason, which unsaved_reply() turns into the reply.
 */
int save_state(struct xlbd *d, char *err, size_t errlen);
/* The state as it will be without v (b NULL) or without its backend b. */
int save_state_without(struct xlbd *d, const struct xlb_state_vip *v,
		       const struct xlb_state_backend *b, char *err, size_t errlen);
struct json_object *unsaved_reply(const char *err);
/* An addition saved, then failing to start, is rolled back: save that too. */
struct json_object *start_failed_reply(struct xlbd *d, int ret, const char *what);
int vip_settings_apply(struct xlbd *d, struct xlb_state_vip *v, const struct xlb_vip_cfg *want);
int apply_config(struct xlbd *d, const struct xlb_config *cfg, struct json_object *added,
		 struct json_object *changed, struct json_object *removed);
/* force: even if it removes every VIP, or more than half (never from SIGHUP) */
struct json_object *do_reload(struct xlbd *d, int force, int dry_run);
int choose_desired(struct xlbd *d, struct xlb_config *desired, int *from_state);

/* ---- announce.c: VIP addresses in a routing table, by health ---- */

struct xlb_announce;
int announce_start(struct xlbd *d);  /* at start: the table reconciled */
void announce_sync(struct xlbd *d);  /* after any change: routes follow the VIPs */
void announce_stop(struct xlbd *d);  /* at exit: the routes stay */
int announce_teardown(const char *config_path); /* xlbd --teardown: every route withdrawn */
void announce_json(struct xlbd *d, const struct xlb_state_vip *v, struct json_object *o);
void announce_show(struct xlbd *d, struct json_object *o);
int announce_metrics(struct xlbd *d, struct xlb_prom *w);

/* ---- via.c: health checks through the VIP, steered by policy routing ---- */

struct xlb_via_rt;
/*
 * At start, before anything is attached: the namespace's lock, then what a
 * crashed xlbd left removed. Without the lock (another xlbd has it), cfg
 * (the file's, or state.json's) with a VIP checked through its VIP is
 * refused: logged, -EBUSY.
 */
int via_start(struct xlbd *d, const struct xlb_config *cfg, int from_state);
/* -EBUSY, err "NAME:LINE: vips[N].health.via: why", if cfg checks via a VIP without the lock */
int via_config_check(struct xlbd *d, const struct xlb_config *cfg, const char *name, int probe,
		     char *err, size_t errlen);
void via_stop(struct xlbd *d);      /* at exit: every rule and route removed */
void via_dirty(struct xlbd *d);     /* the state changed: via_sync looks again */
void via_sync(struct xlbd *d);      /* after a loop turn: rules and routes follow */
/* The mark of the slot for a backend address (made now if new), 0 if none can be had. */
__u32 via_mark(struct xlbd *d, const __be32 addr[4]);
/*
 * -ENOSPC (and err) if v's backends and addr, checked via a VIP, would pass
 * XLB_VIA_MAX; -EBUSY (and err) if another xlbd of the namespace has the rules.
 */
int via_room(struct xlbd *d, const struct xlb_state_vip *v, const __be32 *addr, char *err,
	     size_t errlen);
void via_show(struct xlbd *d, struct json_object *o); /* for status */

/* ---- handoff.c: flows the table no longer names, to the peers ---- */

struct xlb_handoff;
int handoff_start(struct xlbd *d);
void handoff_sync(struct xlbd *d); /* after each loop turn: changed tables walked */
void handoff_stop(struct xlbd *d);
void handoff_show(struct xlbd *d, struct json_object *o);

/* ---- flows.c: live flows per backend, from a periodic walk of the main tables ---- */

struct xlb_flows;
int flows_start(struct xlbd *d);
void flows_stop(struct xlbd *d);
/* ---- load.c: the loads lc, wlc and lt compare ---- */
int load_start(struct xlbd *d);
void load_stop(struct xlbd *d);
/* A backend's (a VIP's) live flows; -1 until the first walk is complete. */
long long flows_active(struct xlbd *d, const struct xlb_lb_backend *b);
long long flows_vip_active(struct xlbd *d, const struct xlb_lb_vip *lv);
/* A draining backend's drain is complete: no live flow by a walk begun since the drain. */
int flows_drained(struct xlbd *d, const struct xlb_lb_backend *b);
__u64 flows_walks(struct xlbd *d); /* complete walks so far */
/* conntrack flush (ctl_conntrack.c): n live entries of id deleted; then a walk under way restarts */
void flows_flushed(struct xlbd *d, __u32 id, __u32 n);
void flows_walk_again(struct xlbd *d);
void add_active(struct json_object *o, long long n); /* "active_flows", if known */
void flows_show(struct xlbd *d, struct json_object *o); /* the walk, for status */

/* ---- ctl.c: the control socket and what its handlers share ---- */

typedef struct json_object *(*cmd_fn)(struct xlbd *d, struct json_object *req);

#define ERR_REPLY(...) return xlb_proto_error(__VA_ARGS__)

struct json_object *err_from(int ret, const char *what);
int get_vip(struct json_object *req, const char *name, int required, struct vip_key *key,
	    char *err, size_t errlen);
int get_addr(struct json_object *req, __be32 addr[4], char *err, size_t errlen);
int get_duration(struct json_object *req, const char *name, __u32 *ms, char *err,
		 size_t errlen);
int get_vip_filter(struct xlbd *d, struct json_object *req, struct vip_key *key, char *err,
		   size_t errlen);
int vip_selected(const struct xlb_state_vip *v, int has, const struct vip_key *key);
struct xlb_state_vip **vips_sorted(struct xlbd *d);
/* stats_base.c: stats -z, a baseline subtracted from what stats shows (zero: take it now) */
int stats_base_alloc(void);
void stats_base_global(__u64 *counters, int zero);
void stats_base_traffic(int backend, __u32 id, const struct vip_key *vip, const __be32 *addr,
			struct traffic_stats *ts, int zero);
struct xlb_state_backend **backends_sorted(struct xlb_state_vip *v);
void add_u64(struct json_object *o, const char *k, __u64 v);
void add_traffic(struct json_object *o, const struct traffic_stats *ts);
int listen_socket(const char *path, char *err, size_t errlen);
void on_listen(struct xlb_evsrc *src, uint32_t events);
void client_close(struct xlbd *d, struct client *c);
void clients_expire(struct xlbd *d);

/* ---- the commands, one file per object ---- */

struct json_object *cmd_vip_add(struct xlbd *d, struct json_object *req);
struct json_object *cmd_vip_set(struct xlbd *d, struct json_object *req);
struct json_object *cmd_config_dump(struct xlbd *d, struct json_object *req); /* dump.c */
struct json_object *cmd_vip_del(struct xlbd *d, struct json_object *req);
struct json_object *cmd_vip_show(struct xlbd *d, struct json_object *req);
struct json_object *cmd_backend_add(struct xlbd *d, struct json_object *req);
struct json_object *cmd_backend_del(struct xlbd *d, struct json_object *req);
struct json_object *cmd_backend_set(struct xlbd *d, struct json_object *req);
struct json_object *cmd_backend_show(struct xlbd *d, struct json_object *req);
struct json_object *cmd_stats(struct xlbd *d, struct json_object *req);
struct json_object *cmd_status(struct xlbd *d, struct json_object *req);
struct json_object *cmd_explain(struct xlbd *d, struct json_object *req);
struct json_object *cmd_reload(struct xlbd *d, struct json_object *req);
struct json_object *cmd_lb_show(struct xlbd *d, struct json_object *req);
struct json_object *cmd_lb_withdraw(struct xlbd *d, struct json_object *req);
struct json_object *cmd_lb_announce(struct xlbd *d, struct json_object *req);
/* ctl_conntrack.c: the connection tables listed and flushed, a bounded slice per request */
struct json_object *cmd_conntrack_list(struct xlbd *d, struct json_object *req);
struct json_object *cmd_conntrack_flush(struct xlbd *d, struct json_object *req);

/* ---- ctl_block.c: the source filters (README, "Under attack") ---- */

/* The tries made to hold d->state.block; rules of VIPs gone are dropped first. */
int block_sync(struct xlbd *d);
/* want becomes the desired rules (apply_config); what changed goes to the lists. */
int block_apply(struct xlbd *d, const struct xlb_blocklist *want, struct json_object *added,
		struct json_object *changed, struct json_object *removed);
struct json_object *cmd_block_add(struct xlbd *d, struct json_object *req);
struct json_object *cmd_block_del(struct xlbd *d, struct json_object *req);
struct json_object *cmd_block_show(struct xlbd *d, struct json_object *req);
int block_metrics(struct xlbd *d, struct xlb_prom *w);

/* The filter maps (limits.c writes a VIP's limits there); NULL if they cannot be opened. */
struct xlb_block_dp *block_dp_get(struct xlbd *d);

/* ---- limits.c: per-client limits (README, "Under attack") ---- */

/* The VIP's limits to the data plane; forget: its clients' buckets and counts go too. */
int limits_push(struct xlbd *d, const struct xlb_state_vip *v, int forget);
void limits_clear(struct xlbd *d, const struct xlb_state_vip *v); /* before its id goes */
void limits_show(struct xlbd *d, const struct xlb_state_vip *v, struct json_object *o);
int limits_metrics(struct xlbd *d, struct xlb_prom *w);
/* with the flow walk (flows.c): the live counts' correction */
void limits_walk_start(struct xlbd *d);
void limits_walk_visit(const struct flow_key *key, const struct flow_state *st);
void limits_walk_end(struct xlbd *d);

/* ---- prom.c ---- */

int render_metrics(void *ctx, struct xlb_prom *w); /* ctx: the struct xlbd */

#endif /* XLBD_H */
