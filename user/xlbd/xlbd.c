// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbd: owns the desired state (config file plus runtime changes, saved in
 * the state folder), loads and pins the data plane, health-checks the
 * backends, fills the maps and serves xlbctl on a Unix socket.
 *
 * The data plane never depends on the daemon running: on exit everything
 * stays pinned and keeps forwarding, and the next xlbd adopts it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <bpf/libbpf.h>
#include <zlib.h>
#include "attach.h"
#include "config.h"
#include "evloop.h"
#include "health.h"
#include "explain.h"
#include "lb.h"
#include "metrics.h"
#include "neigh.h"
#include "proto.h"
#include "state.h"
#include "syntax.h"

#ifndef XLB_VERSION
#define XLB_VERSION "dev"
#endif
#define DEFAULT_CONFIG "/etc/xlb/xlb.yaml"
#define DEFAULT_PIN_DIR "/sys/fs/bpf/xlb"
#define DEFAULT_STATE_DIR "/var/lib/xlb"
#define MAX_CLIENTS 64
#define MAX_OUT (XLB_PROTO_MAX_REPLY)

enum { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
static int log_level = LOG_INFO;

static void logmsg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logmsg(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > log_level)
		return;
	fprintf(stderr, "xlbd: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* libbpf's messages go through the same log, one line each. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t len;

	if (level == LIBBPF_DEBUG && log_level < LOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	logmsg(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, "libbpf: %s", buf);
	return 0;
}

struct client {
	struct xlb_evsrc src;
	struct xlb_linebuf in;
	char *out;
	size_t out_len, out_off;
	int closing;
	int refused; /* not root: every request gets the refusal */
};

struct xlbd {
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
	int epfd;
	struct xlb_evsrc sig_src, listen_src, tick_src;
	struct client *clients[MAX_CLIENTS];
	struct xlb_metrics *metrics;
	time_t started;
	int running;
	__u64 reloads;
	__u64 config_errors;
	__u64 health_ups, health_downs;
	__u64 no_neigh_seen; /* pass_no_neigh at the last tick */
};

static struct xlbd D;

/* ---- backends: effective state and the data plane ---- */

static int iface_attached(int ifindex)
{
	__u32 i;

	for (i = 0; i < D.at.nifaces; i++)
		if (D.at.ifindex[i] == ifindex)
			return 1;
	return 0;
}

static int iface_mac(int ifindex, __u8 mac[6])
{
	struct ifreq ifr = {};
	int fd, ret = -ENODEV;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
		ret = 0;
	}
	close(fd);
	return ret;
}

static const char *state_name(__u32 state)
{
	static const char *const names[] = { "up", "down", "drain", "disabled" };

	return state < 4 ? names[state] : "?";
}

/* What the data plane should do with this backend, and why if not serving. */
static __u32 effective_state(const struct xlb_state_backend *b, const char **why)
{
	*why = "";
	if (b->cfg.admin == XLB_ADMIN_DISABLED) {
		*why = "disabled by admin";
		return XLB_BE_DISABLED;
	}
	if (!b->mac_known) {
		*why = b->mac_why[0] ? b->mac_why : "MAC unknown";
		return XLB_BE_DOWN;
	}
	if (!b->health_up) {
		*why = "failing health checks";
		return XLB_BE_DOWN;
	}
	return b->cfg.admin == XLB_ADMIN_DRAIN ? XLB_BE_DRAIN : XLB_BE_UP;
}

static void backend_spec(const struct xlb_state_backend *b, __u32 state,
			 struct xlb_backend_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	memcpy(spec->addr, b->cfg.addr, sizeof(spec->addr));
	spec->weight = b->cfg.weight;
	spec->state = state;
	memcpy(spec->mac, b->mac, 6);
	memcpy(spec->src_mac, b->src_mac, 6);
	spec->ifindex = b->ifindex;
}

/*
 * Push one backend's effective state to the maps and log a change of
 * state, with cause (a health check result) or the state's own reason.
 */
static int backend_push_cause(struct xlb_state_vip *v, struct xlb_state_backend *b,
			      const char *cause)
{
	struct xlb_backend_spec spec;
	char vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX], err[128];
	const char *why;
	__u32 state = effective_state(b, &why);
	int ret;

	backend_spec(b, state, &spec);
	ret = xlb_lb_backend_update(D.lb, &v->cfg.key, &spec);
	xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
	xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
	if (ret) {
		libbpf_strerror(ret, err, sizeof(err));
		logmsg(LOG_ERR, "backend %s of %s: cannot update the data plane: %s", addr,
		       vip, err);
		return ret;
	}
	if (state != b->state) {
		if (cause && (state == XLB_BE_UP || state == XLB_BE_DOWN || state == XLB_BE_DRAIN))
			why = cause;
		logmsg(LOG_INFO, "backend %s of %s %s%s%s", addr, vip, state_name(state),
		       why[0] ? ": " : "", why);
		b->state = state;
	}
	return 0;
}

static int backend_push(struct xlb_state_vip *v, struct xlb_state_backend *b)
{
	return backend_push_cause(v, b, NULL);
}

static void health_target(const struct xlb_state_vip *v, const struct xlb_state_backend *b,
			  struct xlb_health_target *t)
{
	const struct xlb_health_cfg *h = &v->cfg.health;

	memset(t, 0, sizeof(*t));
	memcpy(t->addr, b->cfg.addr, sizeof(t->addr));
	t->port = h->port ? h->port : v->cfg.key.port ? ntohs(v->cfg.key.port) : 80;
	t->kind = h->kind;
	snprintf(t->path, sizeof(t->path), "%s", h->path);
	t->interval_ms = b->cfg.interval_ms ?: h->interval_ms;
	t->timeout_ms = b->cfg.timeout_ms ?: h->timeout_ms;
	t->rise = b->cfg.rise ?: h->rise;
	t->fall = b->cfg.fall ?: h->fall;
}

/* Can the data plane encapsulate to addr? Always yes when not encapsulating. */
static int encap_source_for(__u8 forward, const __be32 addr[4], const struct encap_config *e)
{
	if (forward != XLB_FWD_IPIP)
		return 1;
	return !!((xlb_addr_is_v4(addr) ? &e->v4 : &e->v6)->flags & XLB_ENCAP_F_SET);
}

static void mac_resolve(const struct xlb_state_vip *v, struct xlb_state_backend *b)
{
	int ifindex;
	__u8 mac[6];

	if (v->cfg.forward == XLB_FWD_IPIP) {
		/* encapsulated: the data plane asks the FIB for each packet's next hop */
		memset(b->mac, 0, sizeof(b->mac));
		memset(b->src_mac, 0, sizeof(b->src_mac));
		b->ifindex = 0;
		b->mac_known = 1;
		b->mac_why[0] = '\0';
		return;
	}
	b->mac_known = 0;
	if (xlb_neigh_lookup(D.neigh, b->cfg.addr, &ifindex, mac)) {
		snprintf(b->mac_why, sizeof(b->mac_why), "MAC unknown (resolving)");
		xlb_neigh_solicit(b->cfg.addr);
		return;
	}
	if (!iface_attached(ifindex)) {
		char name[IF_NAMESIZE] = "?";

		if_indextoname(ifindex, name);
		snprintf(b->mac_why, sizeof(b->mac_why),
			 "reachable via %s, which xlb is not attached to", name);
		return;
	}
	if (iface_mac(ifindex, b->src_mac)) {
		snprintf(b->mac_why, sizeof(b->mac_why), "cannot read the MAC of ifindex %d",
			 ifindex);
		return;
	}
	memcpy(b->mac, mac, 6);
	b->ifindex = ifindex;
	b->mac_known = 1;
	b->mac_why[0] = '\0';
}

/* Put a new backend of v into service: data plane, neighbour, health check. */
static int backend_start(struct xlb_state_vip *v, struct xlb_state_backend *b)
{
	struct xlb_backend_spec spec;
	struct xlb_health_target t;
	const char *why;
	int ret;

	mac_resolve(v, b);
	if (!b->mac_known) {
		char vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX];

		xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
		xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
		logmsg(LOG_INFO, "backend %s of %s not in service yet: %s", addr, vip,
		       b->mac_why);
	}
	b->hid = ++D.state.next_hid;
	/* serving when a previous xlbd left: stay in service until checks say otherwise */
	b->health_up = xlb_lb_adoptable(D.lb, &v->cfg.key, b->cfg.addr);
	b->state = effective_state(b, &why);
	backend_spec(b, b->state, &spec);
	ret = xlb_lb_backend_add(D.lb, &v->cfg.key, &spec);
	if (ret < 0)
		return ret;
	health_target(v, b, &t);
	t.initially_up = b->health_up;
	return xlb_health_add(D.health, b->hid, &t);
}

static void backend_stop(struct xlb_state_vip *v, struct xlb_state_backend *b)
{
	xlb_health_del(D.health, b->hid);
	xlb_lb_backend_del(D.lb, &v->cfg.key, b->cfg.addr);
}

static int vip_start(struct xlb_state_vip *v)
{
	__u32 i;
	int ret;

	ret = xlb_lb_vip_add(D.lb, &v->cfg.key, v->cfg.sched, v->cfg.forward);
	if (ret < 0)
		return ret;
	for (i = 0; i < v->nbackends; i++) {
		ret = backend_start(v, &v->backends[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static void vip_stop(struct xlb_state_vip *v)
{
	__u32 i;

	for (i = 0; i < v->nbackends; i++)
		xlb_health_del(D.health, v->backends[i].hid);
	xlb_lb_vip_del(D.lb, &v->cfg.key);
}

/* ---- callbacks from health checks and the neighbour table ---- */

static void on_health(void *ctx, __u64 id, int up, const struct xlb_health_result *r)
{
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	char cause[XLB_HEALTH_LAST_MAX + 32], vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX];

	(void)ctx;
	if (xlb_state_find_hid(&D.state, id, &v, &b))
		return;
	snprintf(cause, sizeof(cause), "%s (%u/%u)", r->last,
		 up ? r->ok_streak : r->fail_streak, up ? r->rise : r->fall);
	b->health_up = up;
	if (up)
		D.health_ups++;
	else
		D.health_downs++;
	if (!backend_push_cause(v, b, cause) && b->state != (up ? XLB_BE_UP : XLB_BE_DOWN)) {
		/* the state did not follow (admin, MAC): still say what the checks saw */
		xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
		xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
		logmsg(LOG_INFO, "backend %s of %s health %s: %s; stays %s", addr, vip,
		       up ? "up" : "down", cause, state_name(b->state));
	}
}

static void on_neigh(void *ctx, const __be32 addr[4], int known, int ifindex,
		     const __u8 mac[6])
{
	char a[XLB_ADDR_STR_MAX], m[18];
	__u32 i, j;

	(void)ctx;
	(void)ifindex;
	xlb_format_addr(addr, a, sizeof(a));
	if (known)
		xlb_format_mac(mac, m, sizeof(m));
	for (i = 0; i < D.state.nvips; i++) {
		struct xlb_state_vip *v = &D.state.vips[i];

		for (j = 0; j < v->nbackends; j++) {
			struct xlb_state_backend *b = &v->backends[j];

			if (memcmp(b->cfg.addr, addr, 16))
				continue;
			mac_resolve(v, b);
			if (known && b->mac_known)
				logmsg(LOG_DEBUG, "backend %s is at %s", a, m);
			backend_push(v, b);
		}
	}
}

/*
 * forward ipip: the data plane met a next hop without a MAC and left the
 * packet to the kernel, which may not resolve it (an IPv4 packet from a
 * local source is dropped as martian unless accept_local is on). A
 * datagram to each ipip backend makes the kernel resolve the way there.
 */
static void solicit_ipip_next_hops(void)
{
	__u64 c[XLB_STAT_MAX];
	__u32 i, j;

	if (xlb_dp_stats(&D.at.dp, c) || c[XLB_STAT_PASS_NO_NEIGH] == D.no_neigh_seen)
		return;
	D.no_neigh_seen = c[XLB_STAT_PASS_NO_NEIGH];
	for (i = 0; i < D.state.nvips; i++)
		if (D.state.vips[i].cfg.forward == XLB_FWD_IPIP)
			for (j = 0; j < D.state.vips[i].nbackends; j++)
				xlb_neigh_solicit(D.state.vips[i].backends[j].cfg.addr);
}

/* Once a second: ask again for MACs still unknown. */
static void on_tick(struct xlb_evsrc *src, uint32_t events)
{
	__u64 expirations;
	__u32 i, j;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	for (i = 0; i < D.state.nvips; i++)
		for (j = 0; j < D.state.vips[i].nbackends; j++)
			if (!D.state.vips[i].backends[j].mac_known)
				xlb_neigh_solicit(D.state.vips[i].backends[j].cfg.addr);
	solicit_ipip_next_hops();
}

/* ---- persistence ---- */

static int save_state(void)
{
	char err[XLB_ERR_MAX];
	int ret = xlb_state_save(&D.state, D.state_dir, err, sizeof(err));

	if (ret)
		logmsg(LOG_ERR, "%s", err);
	return ret;
}

/* ---- applying a new desired set of VIPs (reload, start) ---- */

static struct json_object *str_array_add(struct json_object *arr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static struct json_object *str_array_add(struct json_object *arr, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(arr, json_object_new_string(buf));
	return arr;
}

/*
 * Make the running state equal to cfg's VIPs, touching only what differs.
 * The lists (may be NULL) get one string per VIP or backend added, changed
 * or removed.
 */
static int apply_config(const struct xlb_config *cfg, struct json_object *added,
			struct json_object *changed, struct json_object *removed)
{
	struct json_object *junk = json_object_new_array();
	char vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX];
	__u32 i, j;
	int ret = 0, e;

	added = added ?: junk;
	changed = changed ?: junk;
	removed = removed ?: junk;
	xlb_lb_batch_begin(D.lb);

	/* VIPs gone from the config */
	for (i = 0; i < D.state.nvips;) {
		struct xlb_state_vip *v = &D.state.vips[i];

		if (xlb_config_find_vip(cfg, &v->cfg.key)) {
			i++;
			continue;
		}
		xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
		vip_stop(v);
		xlb_state_vip_remove(&D.state, i);
		str_array_add(removed, "%s", vip);
	}

	for (i = 0; i < cfg->nvips && !ret; i++) {
		const struct xlb_vip_cfg *want = &cfg->vips[i];
		struct xlb_state_vip *v = xlb_state_find_vip(&D.state, &want->key);
		int vip_changed = 0, health_changed;

		xlb_format_vip(&want->key, vip, sizeof(vip));
		if (!v) {
			struct xlb_state_backend *b;

			ret = xlb_state_vip_insert(&D.state, want, &v);
			str_array_add(added, "%s", vip);
			for (j = 0; j < want->nbackends && !ret; j++) {
				ret = xlb_state_backend_insert(v, &want->backends[j], &b);
				xlb_format_addr(want->backends[j].addr, addr, sizeof(addr));
				str_array_add(added, "backend %s of %s", addr, vip);
			}
			ret = ret ?: vip_start(v);
			continue;
		}
		if (v->cfg.sched != want->sched || v->cfg.forward != want->forward) {
			int to_ipip = want->forward == XLB_FWD_IPIP && v->cfg.forward != XLB_FWD_IPIP;

			v->cfg.sched = want->sched;
			v->cfg.forward = want->forward;
			/*
			 * l2dsr <-> ipip: the next hop comes from elsewhere now. The
			 * mode flips before the MACs are cleared (to ipip) or after
			 * they are resolved (to l2dsr): no packet meets an empty MAC.
			 */
			if (to_ipip)
				ret = xlb_lb_vip_update(D.lb, &v->cfg.key, v->cfg.sched, v->cfg.forward);
			for (j = 0; j < v->nbackends && !ret; j++) {
				mac_resolve(v, &v->backends[j]);
				ret = backend_push(v, &v->backends[j]);
			}
			if (!to_ipip && !ret)
				ret = xlb_lb_vip_update(D.lb, &v->cfg.key, v->cfg.sched, v->cfg.forward);
			vip_changed = 1;
		}
		health_changed = memcmp(&v->cfg.health, &want->health, sizeof(want->health));
		if (health_changed) {
			v->cfg.health = want->health;
			vip_changed = 1;
		}
		if (vip_changed)
			str_array_add(changed, "%s", vip);

		/* backends gone */
		for (j = 0; j < v->nbackends;) {
			struct xlb_state_backend *b = &v->backends[j];

			if (xlb_config_find_backend(want, b->cfg.addr)) {
				j++;
				continue;
			}
			xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
			backend_stop(v, b);
			xlb_state_backend_remove(v, j);
			str_array_add(removed, "backend %s of %s", addr, vip);
		}
		/* backends new or changed */
		for (j = 0; j < want->nbackends && !ret; j++) {
			const struct xlb_backend_cfg *wb = &want->backends[j];
			struct xlb_state_backend *b = xlb_state_find_backend(v, wb->addr);
			struct xlb_health_target t;

			xlb_format_addr(wb->addr, addr, sizeof(addr));
			if (!b) {
				ret = xlb_state_backend_insert(v, wb, &b);
				ret = ret ?: backend_start(v, b);
				str_array_add(added, "backend %s of %s", addr, vip);
				continue;
			}
			if (!xlb_backend_cfg_equal(&b->cfg, wb)) {
				b->cfg = *wb;
				str_array_add(changed, "backend %s of %s", addr, vip);
			} else if (!health_changed) {
				continue;
			}
			health_target(v, b, &t);
			xlb_health_update(D.health, b->hid, &t);
			ret = backend_push(v, b);
		}
	}
	json_object_put(junk);
	e = xlb_lb_batch_end(D.lb);
	return ret ?: e;
}

/* ---- control socket: commands ---- */

typedef struct json_object *(*cmd_fn)(struct json_object *req);

#define ERR_REPLY(...) return xlb_proto_error(__VA_ARGS__)

static struct json_object *err_from(int ret, const char *what)
{
	char buf[128];

	libbpf_strerror(ret, buf, sizeof(buf));
	return xlb_proto_error("%s: %s", what, buf);
}

static int get_vip(struct json_object *req, const char *name, int required,
		   struct vip_key *key, char *err, size_t errlen)
{
	const char *s;
	char why[128];
	int ret = required ? xlb_proto_get_str(req, name, &s, err, errlen) :
			     xlb_proto_get_opt_str(req, name, &s, err, errlen);

	if (ret <= 0 && !(required && ret == 0))
		return ret;
	if (xlb_parse_vip(s, key, why, sizeof(why))) {
		snprintf(err, errlen, "invalid VIP '%s': %s", s, why);
		return -EINVAL;
	}
	return 1;
}

static int get_addr(struct json_object *req, __be32 addr[4], char *err, size_t errlen)
{
	const char *s;
	char why[128];
	int ret = xlb_proto_get_str(req, "address", &s, err, errlen);

	if (ret)
		return ret;
	if (xlb_parse_addr(s, addr, why, sizeof(why))) {
		snprintf(err, errlen, "invalid address '%s': %s", s, why);
		return -EINVAL;
	}
	return 0;
}

static int get_duration(struct json_object *req, const char *name, __u32 *ms, char *err,
			size_t errlen)
{
	const char *s;
	char why[128];
	__u64 v;
	int ret = xlb_proto_get_opt_str(req, name, &s, err, errlen);

	if (ret <= 0)
		return ret;
	if (xlb_parse_duration_ms(s, &v, why, sizeof(why)) || v > XLB_CHECK_TIME_MAX_MS) {
		snprintf(err, errlen, "%s: %s", name, v > XLB_CHECK_TIME_MAX_MS ? "at most 1h" : why);
		return -EINVAL;
	}
	*ms = v;
	return 1;
}

/*
 * The arguments of the show-like commands: an optional VIP, which must
 * exist. Returns 1 with *key set, 0 without a VIP, or -EINVAL with err.
 */
static int get_vip_filter(struct json_object *req, struct vip_key *key, char *err,
			  size_t errlen)
{
	static const char *const keys[] = { "vip", NULL };
	int has;

	if (xlb_proto_check_keys(req, keys, err, errlen) ||
	    (has = get_vip(req, "vip", 0, key, err, errlen)) < 0)
		return -EINVAL;
	if (has && !xlb_state_find_vip(&D.state, key)) {
		snprintf(err, errlen, "no such VIP");
		return -ENOENT;
	}
	return has;
}

static int vip_selected(const struct xlb_state_vip *v, int has, const struct vip_key *key)
{
	return !has || !memcmp(&v->cfg.key, key, sizeof(*key));
}

static struct json_object *cmd_vip_add(struct json_object *req)
{
	static const char *const keys[] = { "vip", "sched", "forward", "check", "path",
					    "check_port", "interval", "timeout", "rise",
					    "fall", NULL };
	struct xlb_vip_cfg cfg = {};
	struct xlb_state_vip *v;
	const char *s;
	char err[256], why[128];
	__u32 port;
	int ret;

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &cfg.key, err, sizeof(err)) < 0)
		ERR_REPLY("%s", err);
	cfg.sched = XLB_SCHED_MAGLEV;
	cfg.forward = XLB_FWD_L2DSR;
	xlb_health_cfg_default(&cfg.health);
	if ((ret = xlb_proto_get_opt_str(req, "sched", &s, err, sizeof(err))) < 0)
		ERR_REPLY("%s", err);
	if (ret && xlb_parse_sched(s, &cfg.sched, why, sizeof(why)))
		ERR_REPLY("sched: %s", why);
	if ((ret = xlb_proto_get_opt_str(req, "forward", &s, err, sizeof(err))) < 0)
		ERR_REPLY("%s", err);
	if (ret && xlb_parse_forward(s, &cfg.forward, why, sizeof(why)))
		ERR_REPLY("forward: %s", why);
	if ((ret = xlb_proto_get_opt_str(req, "check", &s, err, sizeof(err))) < 0)
		ERR_REPLY("%s", err);
	if (ret) {
		if (!strcmp(s, "none"))
			cfg.health.kind = XLB_CHECK_NONE;
		else if (!strcmp(s, "tcp"))
			cfg.health.kind = XLB_CHECK_TCP;
		else if (!strcmp(s, "http"))
			cfg.health.kind = XLB_CHECK_HTTP;
		else if (!strcmp(s, "https"))
			cfg.health.kind = XLB_CHECK_HTTPS;
		else
			ERR_REPLY("check: bad check kind (none, tcp, http or https)");
	}
	if ((ret = xlb_proto_get_opt_str(req, "path", &s, err, sizeof(err))) < 0)
		ERR_REPLY("%s", err);
	if (ret) {
		if (s[0] != '/' || strlen(s) >= sizeof(cfg.health.path))
			ERR_REPLY("path: must start with '/' and be shorter than %zu bytes",
				  sizeof(cfg.health.path));
		snprintf(cfg.health.path, sizeof(cfg.health.path), "%s", s);
	}
	if (xlb_proto_get_opt_u32(req, "check_port", 1, 65535, &port, err, sizeof(err)) < 0)
		ERR_REPLY("%s", err);
	else if (json_object_object_get_ex(req, "check_port", NULL))
		cfg.health.port = port;
	if (get_duration(req, "interval", &cfg.health.interval_ms, err, sizeof(err)) < 0 ||
	    get_duration(req, "timeout", &cfg.health.timeout_ms, err, sizeof(err)) < 0 ||
	    xlb_proto_get_opt_u32(req, "rise", 1, XLB_RISE_FALL_MAX, &cfg.health.rise, err,
				  sizeof(err)) < 0 ||
	    xlb_proto_get_opt_u32(req, "fall", 1, XLB_RISE_FALL_MAX, &cfg.health.fall, err,
				  sizeof(err)) < 0)
		ERR_REPLY("%s", err);
	if (cfg.health.interval_ms < XLB_INTERVAL_MIN_MS)
		ERR_REPLY("interval: at least 100ms");
	if (cfg.health.timeout_ms < XLB_TIMEOUT_MIN_MS ||
	    cfg.health.timeout_ms >= cfg.health.interval_ms)
		ERR_REPLY("timeout: must be at least 10ms and shorter than the interval");
	if (xlb_state_find_vip(&D.state, &cfg.key))
		ERR_REPLY("VIP already exists");
	if (D.state.nvips >= XLB_MAX_VIPS)
		ERR_REPLY("too many VIPs (at most %d)", XLB_MAX_VIPS);
	ret = xlb_state_vip_insert(&D.state, &cfg, &v);
	if (ret)
		return err_from(ret, "cannot add VIP");
	ret = vip_start(v);
	if (ret) {
		vip_stop(v);
		xlb_state_vip_remove(&D.state, v - D.state.vips);
		return err_from(ret, "cannot add VIP");
	}
	save_state();
	xlb_format_vip(&cfg.key, err, sizeof(err));
	logmsg(LOG_INFO, "VIP %s added (%s, %s)", err, xlb_sched_name(cfg.sched),
	       xlb_forward_name(cfg.forward));
	return xlb_proto_ok();
}

static struct json_object *cmd_vip_del(struct json_object *req)
{
	static const char *const keys[] = { "vip", NULL };
	struct xlb_state_vip *v;
	struct vip_key key;
	char err[256];

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0)
		ERR_REPLY("%s", err);
	v = xlb_state_find_vip(&D.state, &key);
	if (!v)
		ERR_REPLY("no such VIP");
	vip_stop(v);
	xlb_state_vip_remove(&D.state, v - D.state.vips);
	save_state();
	xlb_format_vip(&key, err, sizeof(err));
	logmsg(LOG_INFO, "VIP %s removed", err);
	return xlb_proto_ok();
}

static const char *check_name(__u32 kind)
{
	static const char *const names[] = { "none", "tcp", "http", "https" };

	return kind < 4 ? names[kind] : "?";
}

static void add_u64(struct json_object *o, const char *k, __u64 v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void add_traffic(struct json_object *o, const struct traffic_stats *ts)
{
	add_u64(o, "packets", ts->packets);
	add_u64(o, "bytes", ts->bytes);
	add_u64(o, "flows", ts->new_flows);
}

static struct json_object *vip_json(struct xlb_state_vip *v)
{
	struct json_object *o = json_object_new_object(), *h = json_object_new_object();
	struct xlb_lb_vip *lv = xlb_lb_vip_find(D.lb, &v->cfg.key);
	struct traffic_stats ts = {};
	char buf[XLB_VIP_STR_MAX];
	__u32 i, up = 0;

	if (lv)
		xlb_dp_vip_stats(&D.at.dp, lv->id, &ts);
	for (i = 0; i < v->nbackends; i++)
		up += v->backends[i].state == XLB_BE_UP;
	xlb_format_vip(&v->cfg.key, buf, sizeof(buf));
	json_object_object_add(o, "vip", json_object_new_string(buf));
	json_object_object_add(o, "sched", json_object_new_string(xlb_sched_name(v->cfg.sched)));
	json_object_object_add(o, "forward",
			       json_object_new_string(xlb_forward_name(v->cfg.forward)));
	json_object_object_add(h, "check", json_object_new_string(check_name(v->cfg.health.kind)));
	if (v->cfg.health.kind >= XLB_CHECK_HTTP)
		json_object_object_add(h, "path", json_object_new_string(v->cfg.health.path));
	add_u64(h, "port", v->cfg.health.port);
	xlb_format_duration_ms(v->cfg.health.interval_ms, buf, sizeof(buf));
	json_object_object_add(h, "interval", json_object_new_string(buf));
	xlb_format_duration_ms(v->cfg.health.timeout_ms, buf, sizeof(buf));
	json_object_object_add(h, "timeout", json_object_new_string(buf));
	add_u64(h, "rise", v->cfg.health.rise);
	add_u64(h, "fall", v->cfg.health.fall);
	json_object_object_add(o, "health", h);
	add_u64(o, "backends", v->nbackends);
	add_u64(o, "up", up);
	add_traffic(o, &ts);
	return o;
}

static struct json_object *cmd_vip_show(struct json_object *req)
{
	struct json_object *reply, *arr;
	struct vip_key key;
	char err[256];
	int has;
	__u32 i;

	has = get_vip_filter(req, &key, err, sizeof(err));
	if (has < 0)
		ERR_REPLY("%s", err);
	reply = xlb_proto_ok();
	arr = json_object_new_array();
	for (i = 0; i < D.state.nvips; i++)
		if (vip_selected(&D.state.vips[i], has, &key))
			json_object_array_add(arr, vip_json(&D.state.vips[i]));
	json_object_object_add(reply, "vips", arr);
	return reply;
}

static const char *admin_name(__u32 admin)
{
	static const char *const names[] = { "enabled", "drain", "disabled" };

	return admin < 3 ? names[admin] : "?";
}

static struct json_object *backend_json(struct xlb_state_vip *v, struct xlb_state_backend *b)
{
	struct json_object *o = json_object_new_object();
	struct xlb_lb_vip *lv = xlb_lb_vip_find(D.lb, &v->cfg.key);
	struct xlb_lb_backend *lb = lv ? xlb_lb_backend_find(lv, b->cfg.addr) : NULL;
	struct xlb_health_result r = {};
	struct traffic_stats ts = {};
	char buf[XLB_VIP_STR_MAX];
	const char *why;

	if (lb)
		xlb_dp_backend_stats(&D.at.dp, lb->id, &ts);
	xlb_health_get(D.health, b->hid, &r);
	xlb_format_vip(&v->cfg.key, buf, sizeof(buf));
	json_object_object_add(o, "vip", json_object_new_string(buf));
	xlb_format_addr(b->cfg.addr, buf, sizeof(buf));
	json_object_object_add(o, "address", json_object_new_string(buf));
	add_u64(o, "weight", b->cfg.weight);
	json_object_object_add(o, "state", json_object_new_string(
				       state_name(effective_state(b, &why))));
	if (why[0])
		json_object_object_add(o, "reason", json_object_new_string(why));
	json_object_object_add(o, "admin", json_object_new_string(admin_name(b->cfg.admin)));
	json_object_object_add(o, "health", json_object_new_string(b->health_up ? "up" : "down"));
	if (b->mac_known) {
		xlb_format_mac(b->mac, buf, sizeof(buf));
		json_object_object_add(o, "mac", json_object_new_string(buf));
	}
	json_object_object_add(o, "last_check", json_object_new_string(r.checks ? r.last : "-"));
	add_u64(o, "ok_streak", r.ok_streak);
	add_u64(o, "fail_streak", r.fail_streak);
	add_u64(o, "checks", r.checks);
	add_u64(o, "check_failures", r.failures);
	add_u64(o, "check_latency_us", r.latency_us);
	if (lb)
		add_u64(o, "id", lb->id);
	add_traffic(o, &ts);
	return o;
}

static struct json_object *cmd_backend_show(struct json_object *req)
{
	struct json_object *reply, *arr;
	struct vip_key key;
	char err[256];
	int has;
	__u32 i, j;

	has = get_vip_filter(req, &key, err, sizeof(err));
	if (has < 0)
		ERR_REPLY("%s", err);
	reply = xlb_proto_ok();
	arr = json_object_new_array();
	for (i = 0; i < D.state.nvips; i++) {
		struct xlb_state_vip *v = &D.state.vips[i];

		if (!vip_selected(v, has, &key))
			continue;
		for (j = 0; j < v->nbackends; j++)
			json_object_array_add(arr, backend_json(v, &v->backends[j]));
	}
	json_object_object_add(reply, "backends", arr);
	return reply;
}

/* Counters: global by reason, per VIP and per backend (all summed over CPUs). */
static struct json_object *cmd_stats(struct json_object *req)
{
	struct json_object *reply, *global, *vips, *bes;
	__u64 counters[XLB_STAT_MAX];
	struct vip_key key;
	char err[256];
	int has, ret;
	__u32 i, j;

	has = get_vip_filter(req, &key, err, sizeof(err));
	if (has < 0)
		ERR_REPLY("%s", err);
	ret = xlb_dp_stats(&D.at.dp, counters);
	if (ret)
		return err_from(ret, "cannot read counters");
	reply = xlb_proto_ok();
	global = json_object_new_object();
	for (i = 0; i < XLB_STAT_MAX; i++)
		add_u64(global, xlb_stat_names[i], counters[i]);
	json_object_object_add(reply, "global", global);
	vips = json_object_new_array();
	bes = json_object_new_array();
	for (i = 0; i < D.state.nvips; i++) {
		struct xlb_state_vip *v = &D.state.vips[i];
		struct xlb_lb_vip *lv = xlb_lb_vip_find(D.lb, &v->cfg.key);
		struct traffic_stats ts = {};
		struct json_object *o;
		char vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX];
		const char *why;

		if (!vip_selected(v, has, &key))
			continue;
		xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
		if (lv)
			xlb_dp_vip_stats(&D.at.dp, lv->id, &ts);
		o = json_object_new_object();
		json_object_object_add(o, "vip", json_object_new_string(vip));
		add_traffic(o, &ts);
		json_object_array_add(vips, o);
		for (j = 0; j < v->nbackends; j++) {
			struct xlb_state_backend *b = &v->backends[j];
			struct xlb_lb_backend *lbb = lv ? xlb_lb_backend_find(lv, b->cfg.addr) : NULL;

			memset(&ts, 0, sizeof(ts));
			if (lbb)
				xlb_dp_backend_stats(&D.at.dp, lbb->id, &ts);
			xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
			o = json_object_new_object();
			json_object_object_add(o, "vip", json_object_new_string(vip));
			json_object_object_add(o, "address", json_object_new_string(addr));
			json_object_object_add(o, "state",
					       json_object_new_string(state_name(effective_state(b, &why))));
			add_traffic(o, &ts);
			json_object_array_add(bes, o);
		}
	}
	json_object_object_add(reply, "vips", vips);
	json_object_object_add(reply, "backends", bes);
	return reply;
}

static __u32 total_backends(void)
{
	__u32 i, n = 0;

	for (i = 0; i < D.state.nvips; i++)
		n += D.state.vips[i].nbackends;
	return n;
}

static struct json_object *cmd_backend_add(struct json_object *req)
{
	static const char *const keys[] = { "vip", "address", "weight", NULL };
	struct xlb_backend_cfg cfg = { .weight = 100, .admin = XLB_ADMIN_ENABLED };
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	struct vip_key key;
	char err[256], vip[XLB_VIP_STR_MAX];
	int ret;

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0 ||
	    get_addr(req, cfg.addr, err, sizeof(err)) ||
	    xlb_proto_get_opt_u32(req, "weight", XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &cfg.weight,
				  err, sizeof(err)) < 0)
		ERR_REPLY("%s", err);
	v = xlb_state_find_vip(&D.state, &key);
	if (!v)
		ERR_REPLY("no such VIP");
	if (xlb_check_backend_family(v->cfg.forward, key.addr, cfg.addr, err, sizeof(err)))
		ERR_REPLY("%s", err);
	if (!encap_source_for(v->cfg.forward, cfg.addr, &D.file.encap))
		ERR_REPLY("no encap_source.%s in %s for this backend", xlb_addr_is_v4(cfg.addr) ?
			  "ipv4" : "ipv6", D.config_path);
	if (xlb_state_find_backend(v, cfg.addr))
		ERR_REPLY("backend already exists");
	if (total_backends() >= XLB_MAX_BACKENDS - 1)
		ERR_REPLY("too many backends (at most %d)", XLB_MAX_BACKENDS - 1);
	ret = xlb_state_backend_insert(v, &cfg, &b);
	if (ret)
		return err_from(ret, "cannot add backend");
	ret = backend_start(v, b);
	if (ret) {
		backend_stop(v, b);
		xlb_state_backend_remove(v, b - v->backends);
		return err_from(ret, "cannot add backend");
	}
	save_state();
	xlb_format_vip(&key, vip, sizeof(vip));
	xlb_format_addr(cfg.addr, err, sizeof(err));
	logmsg(LOG_INFO, "backend %s of %s added, weight %u", err, vip, cfg.weight);
	return xlb_proto_ok();
}

static struct json_object *cmd_backend_del(struct json_object *req)
{
	static const char *const keys[] = { "vip", "address", NULL };
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	struct vip_key key;
	__be32 addr[4];
	char err[256], vip[XLB_VIP_STR_MAX];

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0 ||
	    get_addr(req, addr, err, sizeof(err)))
		ERR_REPLY("%s", err);
	v = xlb_state_find_vip(&D.state, &key);
	if (!v)
		ERR_REPLY("no such VIP");
	b = xlb_state_find_backend(v, addr);
	if (!b)
		ERR_REPLY("no such backend");
	backend_stop(v, b);
	xlb_state_backend_remove(v, b - v->backends);
	save_state();
	xlb_format_vip(&key, vip, sizeof(vip));
	xlb_format_addr(addr, err, sizeof(err));
	logmsg(LOG_INFO, "backend %s of %s removed", err, vip);
	return xlb_proto_ok();
}

static struct json_object *cmd_backend_set(struct json_object *req)
{
	static const char *const keys[] = { "vip", "address", "weight", "admin", NULL };
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	struct vip_key key;
	__be32 addr[4];
	const char *admin = NULL;
	char err[256], vip[XLB_VIP_STR_MAX];
	__u32 weight = 0;
	int has_weight, has_admin, ret;

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0 ||
	    get_addr(req, addr, err, sizeof(err)) ||
	    (has_weight = xlb_proto_get_opt_u32(req, "weight", XLB_WEIGHT_MIN, XLB_WEIGHT_MAX,
						&weight, err, sizeof(err))) < 0 ||
	    (has_admin = xlb_proto_get_opt_str(req, "admin", &admin, err, sizeof(err))) < 0)
		ERR_REPLY("%s", err);
	if (has_weight == has_admin)
		ERR_REPLY("give exactly one of weight or admin");
	v = xlb_state_find_vip(&D.state, &key);
	if (!v)
		ERR_REPLY("no such VIP");
	b = xlb_state_find_backend(v, addr);
	if (!b)
		ERR_REPLY("no such backend");
	if (has_weight) {
		b->cfg.weight = weight;
	} else if (!strcmp(admin, "drain")) {
		b->cfg.admin = XLB_ADMIN_DRAIN;
	} else if (!strcmp(admin, "undrain") || !strcmp(admin, "enable")) {
		b->cfg.admin = XLB_ADMIN_ENABLED;
	} else if (!strcmp(admin, "disable")) {
		b->cfg.admin = XLB_ADMIN_DISABLED;
	} else {
		ERR_REPLY("admin: bad value (drain, undrain, disable or enable)");
	}
	ret = backend_push(v, b);
	save_state();
	if (ret)
		return err_from(ret, "saved, but the data plane did not take it");
	xlb_format_vip(&key, vip, sizeof(vip));
	xlb_format_addr(addr, err, sizeof(err));
	if (has_weight)
		logmsg(LOG_INFO, "backend %s of %s weight %u", err, vip, weight);
	else
		logmsg(LOG_INFO, "backend %s of %s admin %s", err, vip, admin);
	return xlb_proto_ok();
}

static struct json_object *cmd_status(struct json_object *req)
{
	static const char *const keys[] = { NULL };
	struct json_object *reply, *ifs, *enc;
	char err[256], name[IF_NAMESIZE], name4[XLB_ADDR_STR_MAX + 4], name6[XLB_ADDR_STR_MAX + 4];
	__u32 i;

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)))
		ERR_REPLY("%s", err);
	reply = xlb_proto_ok();
	ifs = json_object_new_array();
	for (i = 0; i < D.at.nifaces; i++)
		json_object_array_add(ifs, json_object_new_string(
					   if_indextoname(D.at.ifindex[i], name) ?: "?"));
	json_object_object_add(reply, "interfaces", ifs);
	json_object_object_add(reply, "xdp_mode", json_object_new_string(
				       D.file.xdp_mode == XLB_XDP_GENERIC ? "generic" : "native"));
	add_u64(reply, "prog_id", D.at.prog_id);
	add_u64(reply, "uptime_s", time(NULL) - D.started);
	add_u64(reply, "vips", D.state.nvips);
	add_u64(reply, "backends", total_backends());
	add_u64(reply, "reloads", D.reloads);
	json_object_object_add(reply, "config", json_object_new_string(D.config_path));
	json_object_object_add(reply, "bpffs", json_object_new_string(D.pin_dir));
	xlb_format_encap_source(&D.file.encap.v4, name4, sizeof(name4));
	xlb_format_encap_source(&D.file.encap.v6, name6, sizeof(name6));
	enc = json_object_new_object();
	json_object_object_add(enc, "ipv4", json_object_new_string(name4));
	json_object_object_add(enc, "ipv6", json_object_new_string(name6));
	json_object_object_add(reply, "encap_source", enc);
	return reply;
}

static struct json_object *do_reload(void)
{
	struct json_object *reply, *added, *changed, *removed;
	struct xlb_config cfg = {};
	char err[XLB_ERR_MAX];
	int ret;

	ret = xlb_config_load(D.config_path, &cfg, err, sizeof(err));
	if (ret) {
		D.config_errors++;
		logmsg(LOG_ERR, "reload refused: %s", err);
		return xlb_proto_error("%s", err);
	}
	/* sources first: VIPs that encapsulate may be added below */
	ret = xlb_dp_encap_set(&D.at.dp, &cfg.encap);
	if (ret) {
		xlb_config_free(&cfg);
		return err_from(ret, "cannot write encap_config");
	}
	D.file.encap = cfg.encap;
	added = json_object_new_array();
	changed = json_object_new_array();
	removed = json_object_new_array();
	ret = apply_config(&cfg, added, changed, removed);
	/* a partial apply must not be mistaken, at the next start, for the file applied */
	if (!ret)
		xlb_state_set_digest(&D.state, D.config_path);
	save_state();
	D.reloads++;
	logmsg(LOG_INFO, "reloaded %s: %zu added, %zu changed, %zu removed", D.config_path,
	       json_object_array_length(added), json_object_array_length(changed),
	       json_object_array_length(removed));
	xlb_config_free(&cfg);
	if (ret) {
		json_object_put(added);
		json_object_put(changed);
		json_object_put(removed);
		return err_from(ret, "reload applied partly");
	}
	reply = xlb_proto_ok();
	json_object_object_add(reply, "added", added);
	json_object_object_add(reply, "changed", changed);
	json_object_object_add(reply, "removed", removed);
	return reply;
}

static struct json_object *cmd_reload(struct json_object *req)
{
	static const char *const keys[] = { NULL };
	char err[256];

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)))
		ERR_REPLY("%s", err);
	return do_reload();
}

/* "198.18.0.1:40000" or "[2001:db8::1]:40000" */
static int parse_client(const char *s, __be32 addr[4], __u16 *port, char *err, size_t errlen)
{
	char host[XLB_ADDR_STR_MAX + 2], why[128];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t len;
	__u32 p;

	if (!colon) {
		snprintf(err, errlen, "invalid client '%s': missing port", s);
		return -EINVAL;
	}
	len = colon - s;
	if (s[0] == '[') {
		if (len < 2 || s[len - 1] != ']') {
			snprintf(err, errlen, "invalid client '%s': bad IPv6 address", s);
			return -EINVAL;
		}
		h = s + 1;
		len -= 2;
	}
	if (len >= sizeof(host)) {
		snprintf(err, errlen, "invalid client '%s': bad address", s);
		return -EINVAL;
	}
	memcpy(host, h, len);
	host[len] = '\0';
	if (xlb_parse_addr(host, addr, why, sizeof(why)) ||
	    xlb_parse_u32(colon + 1, 0, 65535, &p, why, sizeof(why))) {
		snprintf(err, errlen, "invalid client '%s': %s", s, why);
		return -EINVAL;
	}
	*port = p;
	return 0;
}

/* What the data plane does with one flow, computed from the same maps. */
static struct json_object *cmd_explain(struct json_object *req)
{
	static const char *const keys[] = { "client", "vip", "syn", NULL };
	struct json_object *reply, *syn;
	struct xlb_explain e;
	struct flow_key flow = {};
	struct vip_key key;
	struct timespec now;
	const char *client;
	char err[256], ifname[IF_NAMESIZE] = "?";
	__u16 port;
	__u32 i;
	int ret;

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    xlb_proto_get_str(req, "client", &client, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0 ||
	    parse_client(client, flow.saddr, &port, err, sizeof(err)))
		ERR_REPLY("%s", err);
	if (xlb_addr_is_v4(flow.saddr) != xlb_addr_is_v4(key.addr))
		ERR_REPLY("client and VIP are of different address families");
	memcpy(flow.daddr, key.addr, sizeof(flow.daddr));
	flow.sport = htons(port);
	flow.dport = key.port ? key.port : htons(80);
	flow.proto = key.proto;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	syn = json_object_object_get(req, "syn");
	ret = xlb_explain(&D.at.dp, &flow,
			  syn && json_object_get_boolean(syn) ? 0x02 : 0x10, D.at.ifindex[0],
			  now.tv_sec * 1000000000ULL + now.tv_nsec,
			  D.file.tcp_idle_ms * 1000000ULL, D.file.udp_idle_ms * 1000000ULL, &e);
	if (ret)
		return err_from(ret, "cannot read the maps");
	for (i = 0; i < D.at.nifaces; i++)
		if ((__u32)D.at.ifindex[i] == e.be.ifindex)
			if_indextoname(e.be.ifindex, ifname);
	if (ifname[0] == '?')
		if_indextoname(D.at.ifindex[0], ifname);
	reply = xlb_explain_json(&e, ifname);
	if (!reply)
		return xlb_proto_error("out of memory");
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	return reply;
}

/* ---- Prometheus metrics ---- */

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct backend_sample {
	struct traffic_stats ts;
	struct xlb_health_result r;
};

/* Each backend's counters once per scrape, in state order: the families then only format. */
static struct backend_sample *backend_samples(void)
{
	struct backend_sample *out = calloc(total_backends() + 1, sizeof(*out)), *p = out;
	__u32 i, j;

	for (i = 0; out && i < D.state.nvips; i++) {
		struct xlb_state_vip *v = &D.state.vips[i];
		struct xlb_lb_vip *lv = xlb_lb_vip_find(D.lb, &v->cfg.key);

		for (j = 0; j < v->nbackends; j++, p++) {
			struct xlb_lb_backend *lbb = lv ? xlb_lb_backend_find(lv, v->backends[j].cfg.addr) : NULL;

			if (lbb)
				xlb_dp_backend_stats(&D.at.dp, lbb->id, &p->ts);
			xlb_health_get(D.health, v->backends[j].hid, &p->r);
		}
	}
	return out;
}

static int render_backend_metrics(struct xlb_prom *w)
{
	static const char *const states[] = { "up", "down", "drain", "disabled" };
	static const struct {
		const char *name, *type, *help;
	} fams[] = {
		{ "xlb_backend_packets_total", "counter", "Packets forwarded to the backend." },
		{ "xlb_backend_bytes_total", "counter", "Bytes forwarded to the backend." },
		{ "xlb_backend_new_flows_total", "counter", "Flows entered into the connection table for the backend." },
		{ "xlb_backend_up", "gauge", "1 if the backend takes new flows." },
		{ "xlb_backend_state", "gauge", "The backend's state (up, down, drain, disabled): 1 for the current one." },
		{ "xlb_backend_check_latency_seconds", "gauge", "Duration of the last health check." },
		{ "xlb_backend_checks_total", "counter", "Health checks run." },
		{ "xlb_backend_check_failures_total", "counter", "Health checks failed." },
	};
	struct backend_sample *samples = backend_samples(), *sm;
	char vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX];
	size_t f;
	__u32 i, j, k;
	int ret = 0;

	if (!samples)
		return -ENOMEM;
	for (f = 0; f < sizeof(fams) / sizeof(fams[0]) && !ret; f++) {
		ret = xlb_prom_family(w, fams[f].name, fams[f].type, fams[f].help);
		sm = samples;
		for (i = 0; i < D.state.nvips && !ret; i++) {
			struct xlb_state_vip *v = &D.state.vips[i];

			xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
			for (j = 0; j < v->nbackends && !ret; j++, sm++) {
				struct xlb_state_backend *b = &v->backends[j];
				const char *const *l;

				xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
				l = L("vip", vip, "backend", addr);
				switch (f) {
				case 0: ret = xlb_prom_sample_u64(w, fams[f].name, l, sm->ts.packets); break;
				case 1: ret = xlb_prom_sample_u64(w, fams[f].name, l, sm->ts.bytes); break;
				case 2: ret = xlb_prom_sample_u64(w, fams[f].name, l, sm->ts.new_flows); break;
				case 3: ret = xlb_prom_sample_u64(w, fams[f].name, l, b->state == XLB_BE_UP); break;
				case 4:
					for (k = 0; k < 4 && !ret; k++)
						ret = xlb_prom_sample_u64(w, fams[f].name,
									  L("vip", vip, "backend", addr, "state", states[k]),
									  b->state == k);
					break;
				case 5: ret = xlb_prom_sample(w, fams[f].name, l, sm->r.latency_us / 1e6); break;
				case 6: ret = xlb_prom_sample_u64(w, fams[f].name, l, sm->r.checks); break;
				case 7: ret = xlb_prom_sample_u64(w, fams[f].name, l, sm->r.failures); break;
				}
			}
		}
	}
	free(samples);
	return ret;
}

static int render_vip_metrics(struct xlb_prom *w)
{
	static const char *const names[] = { "xlb_vip_packets_total", "xlb_vip_bytes_total",
					     "xlb_vip_new_flows_total" };
	static const char *const helps[] = { "Packets forwarded for the VIP.",
					     "Bytes forwarded for the VIP.",
					     "Flows entered into the connection table for the VIP." };
	char vip[XLB_VIP_STR_MAX];
	__u32 f, i;
	int ret = 0;

	for (f = 0; f < 3 && !ret; f++) {
		ret = xlb_prom_family(w, names[f], "counter", helps[f]);
		for (i = 0; i < D.state.nvips && !ret; i++) {
			struct xlb_lb_vip *lv = xlb_lb_vip_find(D.lb, &D.state.vips[i].cfg.key);
			struct traffic_stats ts = {};

			if (lv)
				xlb_dp_vip_stats(&D.at.dp, lv->id, &ts);
			xlb_format_vip(&D.state.vips[i].cfg.key, vip, sizeof(vip));
			ret = xlb_prom_sample_u64(w, names[f], L("vip", vip),
						  f == 0 ? ts.packets : f == 1 ? ts.bytes : ts.new_flows);
		}
	}
	return ret;
}

static int render_metrics(void *ctx, struct xlb_prom *w)
{
	__u64 c[XLB_STAT_MAX];
	char prog[16];
	__u32 i;
	int ret;

	(void)ctx;
	ret = xlb_dp_stats(&D.at.dp, c);
	if (ret)
		return ret;
	snprintf(prog, sizeof(prog), "%u", D.at.prog_id);
	ret = xlb_prom_family(w, "xlb_build_info", "gauge", "Build of xlbd and the running XDP program.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_build_info", L("version", XLB_VERSION, "prog_id", prog), 1);
	ret = ret ?: xlb_prom_family(w, "xlb_start_time_seconds", "gauge", "When xlbd started, in seconds since the epoch.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_start_time_seconds", NULL, D.started);
	ret = ret ?: xlb_prom_family(w, "xlb_reloads_total", "counter", "Config reloads applied.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_reloads_total", NULL, D.reloads);
	ret = ret ?: xlb_prom_family(w, "xlb_config_errors_total", "counter", "Config reloads refused as invalid.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_config_errors_total", NULL, D.config_errors);
	ret = ret ?: xlb_prom_family(w, "xlb_health_transitions_total", "counter", "Backend health changes, by the new state.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_health_transitions_total", L("to", "up"), D.health_ups);
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_health_transitions_total", L("to", "down"), D.health_downs);

	ret = ret ?: xlb_prom_family(w, "xlb_passed_packets_total", "counter",
				     "Packets left to the kernel (XDP_PASS), by reason.");
	for (i = 0; i < XLB_STAT_MAX && !ret; i++)
		if (!strncmp(xlb_stat_names[i], "pass_", 5) || i == XLB_STAT_ICMP)
			ret = xlb_prom_sample_u64(w, "xlb_passed_packets_total",
						  L("reason", xlb_stat_names[i] + (i == XLB_STAT_ICMP ? 0 : 5)), c[i]);
	ret = ret ?: xlb_prom_family(w, "xlb_dropped_packets_total", "counter", "Packets dropped, by reason.");
	for (i = 0; i < XLB_STAT_MAX && !ret; i++)
		if (!strncmp(xlb_stat_names[i], "drop_", 5))
			ret = xlb_prom_sample_u64(w, "xlb_dropped_packets_total",
						  L("reason", xlb_stat_names[i] + 5), c[i]);
	ret = ret ?: xlb_prom_family(w, "xlb_forwarded_packets_total", "counter", "Packets sent to a backend, by action.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_forwarded_packets_total", L("action", "tx"), c[XLB_STAT_TX]);
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_forwarded_packets_total", L("action", "redirect"), c[XLB_STAT_REDIRECT]);
	ret = ret ?: xlb_prom_family(w, "xlb_conntrack_hits_total", "counter", "VIP packets of a flow in the connection table.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_conntrack_hits_total", NULL, c[XLB_STAT_CT_HIT]);
	ret = ret ?: xlb_prom_family(w, "xlb_conntrack_misses_total", "counter", "VIP packets without a live connection-table entry.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_conntrack_misses_total", NULL, c[XLB_STAT_CT_MISS]);
	ret = ret ?: xlb_prom_family(w, "xlb_fragments_total", "counter", "IP fragments forwarded by address hash.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_fragments_total", NULL, c[XLB_STAT_FRAGMENT]);
	ret = ret ?: xlb_prom_family(w, "xlb_icmp_too_big_sent_total", "counter",
				     "Clients told their packet was over the path MTU to the backend.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_icmp_too_big_sent_total", NULL, c[XLB_STAT_ICMP_TOO_BIG]);
	ret = ret ?: xlb_prom_family(w, "xlb_icmp_routed_total", "counter",
				     "Too-big errors about a VIP flow, sent on to the flow's backend.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_icmp_routed_total", NULL, c[XLB_STAT_ICMP_ROUTED]);

	ret = ret ?: render_vip_metrics(w);
	return ret ?: render_backend_metrics(w);
}

static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
	{ "vip-add", cmd_vip_add },
	{ "vip-del", cmd_vip_del },
	{ "vip-show", cmd_vip_show },
	{ "backend-add", cmd_backend_add },
	{ "backend-del", cmd_backend_del },
	{ "backend-set", cmd_backend_set },
	{ "backend-show", cmd_backend_show },
	{ "status", cmd_status },
	{ "stats", cmd_stats },
	{ "explain", cmd_explain },
	{ "reload", cmd_reload },
};

static struct json_object *dispatch(const char *line, size_t len)
{
	struct json_object *req, *reply = NULL;
	const char *cmd;
	char err[256];
	size_t i;

	if (xlb_proto_parse_request(line, len, &req, &cmd, err, sizeof(err)))
		return xlb_proto_error("%s", err);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			reply = commands[i].fn(req);
	/* the tables a command changed are in place before it is answered */
	if (xlb_lb_flush(D.lb))
		logmsg(LOG_ERR, "cannot write a Maglev table");
	if (!reply)
		reply = xlb_proto_error("unknown command '%s'", cmd);
	json_object_put(req);
	return reply;
}

/* ---- control socket: connections ---- */

static void client_close(struct client *c)
{
	size_t i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (D.clients[i] == c)
			D.clients[i] = NULL;
	epoll_ctl(D.epfd, EPOLL_CTL_DEL, c->src.fd, NULL);
	close(c->src.fd);
	xlb_linebuf_free(&c->in);
	free(c->out);
	free(c);
}

/* Queue a reply; a client that lets MAX_OUT pile up is dropped. */
static int client_queue(struct client *c, struct json_object *reply)
{
	char *line;
	ssize_t len = xlb_proto_to_line(reply, &line);
	char *p;

	json_object_put(reply);
	if (len < 0)
		return -ENOMEM;
	if (c->out_len - c->out_off + len > MAX_OUT) {
		free(line);
		return -ENOBUFS;
	}
	if (c->out_off) { /* drop what was sent, so the buffer holds only what is not */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	p = realloc(c->out, c->out_len + len);
	if (!p) {
		free(line);
		return -ENOMEM;
	}
	c->out = p;
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	free(line);
	return 0;
}

static int client_flush(struct client *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->src };
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->src.fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
	} else {
		ev.events |= EPOLLOUT;
	}
	epoll_ctl(D.epfd, EPOLL_CTL_MOD, c->src.fd, &ev);
	return c->closing && !c->out_len ? -ECONNRESET : 0;
}

static void on_client(struct xlb_evsrc *src, uint32_t events)
{
	struct client *c = src->ctx;
	char buf[16384], *line;
	size_t len;
	ssize_t n;
	int ret = 0;

	if (events & EPOLLIN) {
		n = recv(c->src.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN) {
			client_close(c);
			return;
		}
		if (n == 0) {
			/* the client is done sending: answer what it asked, then close */
			c->closing = 1;
			if (client_flush(c))
				client_close(c);
			return;
		}
		if (n > 0 && xlb_linebuf_feed(&c->in, buf, n)) {
			client_close(c);
			return;
		}
		while (!ret && (ret = xlb_linebuf_pop(&c->in, &line, &len)) != 0) {
			if (c->refused) {
				c->closing = 1;
				ret = client_queue(c, xlb_proto_error("permission denied: root only"));
				break;
			}
			if (ret == -EMSGSIZE)
				ret = client_queue(c, xlb_proto_error(XLB_PROTO_ERR_TOO_LONG));
			else
				ret = client_queue(c, dispatch(line, len));
		}
	}
	if (!ret || ret == 1)
		ret = client_flush(c);
	if (ret && ret != 1)
		client_close(c);
}

static void on_listen(struct xlb_evsrc *src, uint32_t events)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	size_t i;
	int fd;

	(void)events;
	fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < MAX_CLIENTS && D.clients[i]; i++)
		;
	c = i < MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		close(fd);
		return;
	}
	c->src.fd = fd;
	c->src.fn = on_client;
	c->src.ctx = c;
	xlb_linebuf_init(&c->in, XLB_PROTO_MAX_LINE);
	D.clients[i] = c;
	ev.data.ptr = &c->src;
	epoll_ctl(D.epfd, EPOLL_CTL_ADD, fd, &ev);
	/* the socket is 0600, and a peer must also be root */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		logmsg(LOG_WARN, "refused a control connection from uid %d",
		       len == sizeof(cred) ? (int)cred.uid : -1);
		c->refused = 1;
	}
}

static int listen_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)], *slash;
	int fd, probe;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	/* a live daemon answers on it: never steal its socket */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && !connect(probe, (struct sockaddr *)&sun, sizeof(sun))) {
		close(probe);
		snprintf(err, errlen, "another xlbd is serving %s", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || chmod(path, 0600) ||
	    listen(fd, 16)) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}

/* ---- signals ---- */

static void on_signal(struct xlb_evsrc *src, uint32_t events)
{
	struct signalfd_siginfo si;
	struct json_object *r;

	(void)events;
	if (read(src->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		logmsg(LOG_INFO, "SIGHUP: reloading %s", D.config_path);
		r = do_reload();
		json_object_put(r);
		return;
	}
	logmsg(LOG_INFO, "%s: exiting; the data plane keeps forwarding with the last tables "
	       "(pinned in %s)", strsignal(si.ssi_signo), D.pin_dir);
	D.running = 0;
}

static int add_src(struct xlb_evsrc *src, int fd, xlb_ev_fn fn)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	src->fd = fd;
	src->fn = fn;
	src->ctx = &D;
	return epoll_ctl(D.epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* ---- start ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xlbd [-c FILE] [-i IFACE]... [--xdp-mode native|generic] [--bpffs DIR]\n"
		"            [--socket PATH] [--state-dir DIR] [--metrics ADDR:PORT] [-v]\n"
		"       xlbd --teardown [--bpffs DIR]\n"
		"\n"
		"  -c, --config FILE     config file (default " DEFAULT_CONFIG ")\n"
		"  -i, --interface IFACE attach to IFACE (repeatable; overrides interfaces:)\n"
		"      --xdp-mode MODE   native (default) or generic\n"
		"      --bpffs DIR       where maps and links are pinned (default " DEFAULT_PIN_DIR ")\n"
		"      --socket PATH     control socket (default " XLB_SOCKET_PATH ")\n"
		"      --state-dir DIR   saved runtime state (default " DEFAULT_STATE_DIR ")\n"
		"      --metrics ADDR:PORT  serve Prometheus metrics on http://ADDR:PORT/metrics\n"
		"                        (overrides metrics:; default off)\n"
		"      --teardown        detach and unpin everything under --bpffs, then exit\n"
		"  -v, --verbose         debug logging\n");
}

/*
 * What wins at start when both the config file and the saved runtime state
 * exist: the saved state, unless the config file changed since it was last
 * applied, in which case the file wins and the old state is kept aside.
 */
static int choose_desired(struct xlb_config *desired, int *from_state)
{
	char err[XLB_ERR_MAX], digest[64];
	int ret;

	*from_state = 0;
	ret = xlb_state_load(D.state_dir, desired, digest, err, sizeof(err));
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		logmsg(LOG_ERR, "%s", err);
		return ret;
	}
	if (xlb_state_digest_matches(digest, D.config_path)) {
		*from_state = 1;
		snprintf(D.state.digest, sizeof(D.state.digest), "%s", digest);
		return 0;
	}
	xlb_config_free(desired);
	ret = xlb_state_set_aside(D.state_dir, err, sizeof(err));
	if (ret)
		logmsg(LOG_WARN, "%s", err);
	logmsg(LOG_WARN, "%s changed while xlbd was down: it wins over the saved runtime "
	       "state, which is kept in %s/state.json.prev", D.config_path, D.state_dir);
	return 0;
}

static int run(void)
{
	struct xlb_attach_opts aopts = {};
	struct xlb_config desired = {};
	struct epoll_event evs[32];
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	char err[XLB_ERR_MAX];
	sigset_t mask;
	int ret, from_state, n, i, fd;

	ret = xlb_config_load(D.config_path, &D.file, err, sizeof(err));
	if (ret) {
		logmsg(LOG_ERR, "%s", err);
		return 1;
	}
	if (D.cli_nifaces) {
		memcpy(D.file.ifaces, D.cli_ifaces, sizeof(D.file.ifaces));
		D.file.nifaces = D.cli_nifaces;
	}
	if (D.cli_xdp_mode >= 0)
		D.file.xdp_mode = D.cli_xdp_mode;
	if (!D.file.nifaces) {
		logmsg(LOG_ERR, "no interface: give -i IFACE or interfaces: in %s", D.config_path);
		return 1;
	}
	xlb_state_init(&D.state);
	ret = choose_desired(&desired, &from_state);
	if (ret)
		return 1;

	aopts.pin_dir = D.pin_dir;
	aopts.ifaces = (const char(*)[XLB_IFNAME_MAX])D.file.ifaces;
	aopts.nifaces = D.file.nifaces;
	aopts.xdp_mode = D.file.xdp_mode;
	aopts.load.ct_size = D.file.ct_size;
	aopts.load.tcp_idle_ns = D.file.tcp_idle_ms * 1000000ULL;
	aopts.load.udp_idle_ns = D.file.udp_idle_ms * 1000000ULL;
	ret = xlb_attach(&D.at, &aopts, err, sizeof(err));
	if (ret) {
		logmsg(LOG_ERR, "%s", err);
		return 1;
	}
	for (i = 0; i < (int)D.file.nifaces; i++)
		logmsg(LOG_INFO, "%s XDP on %s (%s mode), program id %u",
		       D.at.links_adopted ? (D.at.replaced ? "replaced the running" :
							     "adopted the running") :
					    "attached",
		       D.file.ifaces[i], D.file.xdp_mode == XLB_XDP_GENERIC ? "generic" : "native",
		       D.at.prog_id);
	if (D.at.maps_adopted)
		logmsg(LOG_INFO, "adopted the maps pinned in %s: connection table and counters "
		       "carry on", D.pin_dir);

	D.epfd = epoll_create1(EPOLL_CLOEXEC);
	D.lb = xlb_lb_new(&D.at.dp);
	D.health = xlb_health_new(D.epfd, on_health, &D);
	D.neigh = xlb_neigh_new(D.epfd, on_neigh, &D);
	if (D.epfd < 0 || !D.lb || !D.health || !D.neigh) {
		logmsg(LOG_ERR, "cannot start: %s", strerror(errno));
		return 1;
	}
	if (D.at.maps_adopted && (ret = xlb_lb_adopt_begin(D.lb))) {
		logmsg(LOG_ERR, "cannot read the pinned maps: %s", strerror(-ret));
		return 1;
	}
	ret = xlb_dp_encap_set(&D.at.dp, &D.file.encap);
	ret = ret ?: apply_config(from_state ? &desired : &D.file, NULL, NULL, NULL);
	ret = ret ?: xlb_lb_adopt_finish(D.lb);
	if (ret) {
		libbpf_strerror(ret, err, sizeof(err));
		logmsg(LOG_ERR, "cannot apply the desired state: %s", err);
		return 1;
	}
	xlb_config_free(&desired);
	if (!from_state)
		xlb_state_set_digest(&D.state, D.config_path);
	save_state();
	logmsg(LOG_INFO, "%u VIPs, %u backends, from %s", D.state.nvips, total_backends(),
	       from_state ? "the saved runtime state" : D.config_path);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0 || add_src(&D.sig_src, fd, on_signal))
		return 1;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || timerfd_settime(fd, 0, &tick, NULL) || add_src(&D.tick_src, fd, on_tick))
		return 1;
	fd = listen_socket(D.socket_path, err, sizeof(err));
	if (fd < 0) {
		logmsg(LOG_ERR, "%s", err);
		return 1;
	}
	add_src(&D.listen_src, fd, on_listen);
	logmsg(LOG_INFO, "serving %s", D.socket_path);
	if (D.cli_metrics)
		snprintf(D.file.metrics, sizeof(D.file.metrics), "%s", D.cli_metrics);
	if (D.file.metrics[0]) {
		D.metrics = xlb_metrics_new(D.epfd, D.file.metrics, render_metrics, &D, err,
					    sizeof(err));
		if (!D.metrics) {
			logmsg(LOG_ERR, "%s", err);
			return 1;
		}
		logmsg(LOG_INFO, "serving metrics on http://%s/metrics", D.file.metrics);
	}

	D.started = time(NULL);
	D.running = 1;
	while (D.running) {
		n = epoll_wait(D.epfd, evs, 32, -1);
		if (n < 0 && errno != EINTR) {
			logmsg(LOG_ERR, "epoll_wait: %s", strerror(errno));
			break;
		}
		/* many backends changing at once (health, neighbours) rebuild each table once */
		xlb_lb_batch_begin(D.lb);
		for (i = 0; i < n; i++) {
			struct xlb_evsrc *src = evs[i].data.ptr;

			src->fn(src, evs[i].events);
		}
		if (xlb_lb_batch_end(D.lb))
			logmsg(LOG_ERR, "cannot write a Maglev table");
	}
	for (i = 0; i < MAX_CLIENTS; i++)
		if (D.clients[i])
			client_close(D.clients[i]);
	unlink(D.socket_path);
	xlb_metrics_free(D.metrics);
	xlb_health_free(D.health);
	xlb_neigh_free(D.neigh);
	xlb_lb_free(D.lb);
	xlb_state_free(&D.state);
	xlb_config_free(&D.file);
	xlb_attached_close(&D.at);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' },
		{ "xdp-mode", required_argument, NULL, 'm' },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "teardown", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char err[XLB_ERR_MAX];
	int opt, teardown = 0;

	D.config_path = DEFAULT_CONFIG;
	D.pin_dir = DEFAULT_PIN_DIR;
	D.socket_path = XLB_SOCKET_PATH;
	D.state_dir = DEFAULT_STATE_DIR;
	D.cli_xdp_mode = -1;
	while ((opt = getopt_long(argc, argv, "c:i:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			D.config_path = optarg;
			break;
		case 'i':
			if (D.cli_nifaces == XLB_MAX_IFACES || strlen(optarg) >= XLB_IFNAME_MAX) {
				fprintf(stderr, "xlbd: -i %s: too many interfaces or name too long\n",
					optarg);
				return 2;
			}
			snprintf(D.cli_ifaces[D.cli_nifaces++], XLB_IFNAME_MAX, "%s", optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "native")) {
				D.cli_xdp_mode = XLB_XDP_NATIVE;
			} else if (!strcmp(optarg, "generic")) {
				D.cli_xdp_mode = XLB_XDP_GENERIC;
			} else {
				fprintf(stderr, "xlbd: --xdp-mode: '%s': native or generic\n", optarg);
				return 2;
			}
			break;
		case 'b':
			D.pin_dir = optarg;
			break;
		case 's':
			D.socket_path = optarg;
			break;
		case 'd':
			D.state_dir = optarg;
			break;
		case 'M':
			D.cli_metrics = optarg;
			break;
		case 't':
			teardown = 1;
			break;
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xlbd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	libbpf_set_print(libbpf_log);
	if (teardown) {
		if (xlb_teardown(D.pin_dir, err, sizeof(err))) {
			logmsg(LOG_ERR, "%s", err);
			return 1;
		}
		logmsg(LOG_INFO, "detached and unpinned everything under %s", D.pin_dir);
		return 0;
	}
	return run();
}
