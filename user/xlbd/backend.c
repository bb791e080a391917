// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Backends: their effective state, MAC resolution, and the data plane. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "syntax.h"
#include "validate.h"
#include "xlbd.h"

static int iface_attached(const struct xlbd *d, int ifindex)
{
	__u32 i;

	for (i = 0; i < d->at.nifaces; i++)
		if (d->at.ifindex[i] == ifindex)
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

/* What the data plane should do with this backend, and why if not serving. */
__u32 effective_state(const struct xlb_state_backend *b, const char **why)
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
		*why = b->via ? "failing health checks via the VIP" : "failing health checks";
		return XLB_BE_DOWN;
	}
	if (xlb_backend_admin(&b->cfg) != XLB_ADMIN_DRAIN)
		return XLB_BE_UP;
	if (b->cfg.admin != XLB_ADMIN_DRAIN)
		*why = "weight 0";
	return XLB_BE_DRAIN;
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
static int backend_push_cause(struct xlbd *d, struct xlb_state_vip *v,
			      struct xlb_state_backend *b, const char *cause)
{
	struct xlb_backend_spec spec;
	char vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX], err[128];
	const char *why;
	__u32 state = effective_state(b, &why);
	int ret;

	backend_spec(b, state, &spec);
	ret = xlb_lb_backend_update(d->lb, &v->cfg.key, &spec);
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
		logmsg(LOG_INFO, "backend %s of %s %s%s%s", addr, vip,
		       xlb_name_of(xlb_backend_state_names, state), why[0] ? ": " : "", why);
		b->state = state;
	}
	return 0;
}

int backend_push(struct xlbd *d, struct xlb_state_vip *v, struct xlb_state_backend *b)
{
	return backend_push_cause(d, v, b, NULL);
}

void health_target(struct xlbd *d, const struct xlb_state_vip *v, struct xlb_state_backend *b,
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
	/* validate.c allows it for l2dsr only: the route's next hop is the backend, on-link */
	b->via = h->via == XLB_CHECK_VIA_VIP && v->cfg.forward == XLB_FWD_L2DSR;
	via_dirty(d); /* on or off: the routes follow */
	if (b->via) {
		memcpy(t->via, v->cfg.key.addr, sizeof(t->via));
		t->mark = via_mark(d, b->cfg.addr);
	}
	b->via_mark = t->mark;
}

/* Can the data plane encapsulate to addr? Always yes when not encapsulating. */
int encap_source_for(__u8 forward, const __be32 addr[4], const struct encap_config *e)
{
	if (forward != XLB_FWD_IPIP)
		return 1;
	return !!((xlb_addr_is_v4(addr) ? &e->v4 : &e->v6)->flags & XLB_ENCAP_F_SET);
}

/* Why the kernel's neighbour lookup for an L2 DSR backend is no MAC to use, in b->mac_why. */
static void mac_unknown_why(struct xlbd *d, struct xlb_state_backend *b, int ret, int ifindex)
{
	char name[IF_NAMESIZE] = "?";

	if (ifindex)
		if_indextoname(ifindex, name);
	if (ret == -ENETUNREACH)
		snprintf(b->mac_why, sizeof(b->mac_why), "no route to it");
	else if (ret == -EADDRNOTAVAIL)
		snprintf(b->mac_why, sizeof(b->mac_why), "not a unicast address");
	else if (ret == -EREMOTE)
		snprintf(b->mac_why, sizeof(b->mac_why),
			 "routed via a gateway on %s: L2 DSR needs it on-link", name);
	else if (ifindex && !iface_attached(d, ifindex))
		snprintf(b->mac_why, sizeof(b->mac_why),
			 "reachable via %s, which xlb is not attached to", name);
	else if (ret == -EPERM)
		snprintf(b->mac_why, sizeof(b->mac_why),
			 "its neighbour entry is NOARP or not a unicast MAC");
	else
		snprintf(b->mac_why, sizeof(b->mac_why), "MAC unknown (resolving)");
}

void mac_resolve(struct xlbd *d, const struct xlb_state_vip *v, struct xlb_state_backend *b)
{
	int ifindex, ret;
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
	via_dirty(d); /* the route of a check through the VIP goes on b's interface */
	/* the MAC on the interface the kernel routes the backend through, no other */
	ret = xlb_neigh_lookup(d->neigh, b->cfg.addr, &ifindex, mac);
	if (ret || !iface_attached(d, ifindex)) {
		mac_unknown_why(d, b, ret, ifindex);
		if (ret == -ENOENT)
			xlb_neigh_solicit(b->cfg.addr);
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
int backend_start(struct xlbd *d, struct xlb_state_vip *v, struct xlb_state_backend *b)
{
	struct xlb_backend_spec spec;
	struct xlb_health_target t;
	const char *why;
	int ret;

	/* every backend's address is watched: a VIP's forwarding mode can change */
	ret = xlb_neigh_watch(d->neigh, b->cfg.addr);
	if (ret)
		return ret;
	b->hid = ++d->state.next_hid; /* set: the address is watched (backend_stop) */
	mac_resolve(d, v, b);
	if (!b->mac_known) {
		char vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX];

		xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
		xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
		logmsg(LOG_INFO, "backend %s of %s not in service yet: %s", addr, vip,
		       b->mac_why);
	}
	/* serving when a previous xlbd left: stay in service until checks say otherwise */
	b->health_up = xlb_lb_adoptable(d->lb, &v->cfg.key, b->cfg.addr);
	b->state = effective_state(b, &why);
	backend_spec(b, b->state, &spec);
	ret = xlb_lb_backend_add(d->lb, &v->cfg.key, &spec);
	if (ret < 0)
		return ret;
	health_target(d, v, b, &t);
	t.initially_up = b->health_up;
	return xlb_health_add(d->health, b->hid, &t);
}

void backend_stop(struct xlbd *d, struct xlb_state_vip *v, struct xlb_state_backend *b)
{
	via_dirty(d);
	xlb_health_del(d->health, b->hid);
	xlb_lb_backend_del(d->lb, &v->cfg.key, b->cfg.addr);
	if (b->hid)
		xlb_neigh_unwatch(d->neigh, b->cfg.addr);
}

/* The VIP's persist settings, in the program's ticks. */
int vip_persist_push(struct xlbd *d, struct xlb_state_vip *v)
{
	struct vip_sched ps = {
		.persist_ticks = XLB_TIMEOUT_TICKS(v->cfg.persist_ms * 1000000ull),
		.persist_prefix4 = v->cfg.persist_prefix4,
		.persist_prefix6 = v->cfg.persist_prefix6,
	};

	return xlb_lb_vip_persist(d->lb, &v->cfg.key, &ps);
}

int vip_start(struct xlbd *d, struct xlb_state_vip *v)
{
	__u32 i;
	int ret;

	ret = xlb_lb_vip_add(d->lb, &v->cfg.key, v->cfg.sched, v->cfg.forward);
	if (ret < 0)
		return ret;
	ret = vip_persist_push(d, v);
	ret = ret ?: limits_push(d, v, 0);
	if (ret)
		return ret;
	for (i = 0; i < v->nbackends; i++) {
		ret = backend_start(d, v, &v->backends[i]);
		if (ret)
			return ret;
	}
	return 0;
}

void vip_stop(struct xlbd *d, struct xlb_state_vip *v)
{
	__u32 i;

	via_dirty(d);
	for (i = 0; i < v->nbackends; i++) {
		xlb_health_del(d->health, v->backends[i].hid);
		if (v->backends[i].hid) /* started: its address is watched */
			xlb_neigh_unwatch(d->neigh, v->backends[i].cfg.addr);
	}
	limits_clear(d, v);
	xlb_lb_vip_del(d->lb, &v->cfg.key);
}

/* ---- callbacks from health checks, the neighbour table and the tick ---- */

void on_health(void *ctx, __u64 id, int up, const struct xlb_health_result *r)
{
	struct xlbd *d = ctx;
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	char cause[XLB_HEALTH_LAST_MAX + 32], vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX];

	if (xlb_state_find_hid(&d->state, id, &v, &b))
		return;
	snprintf(cause, sizeof(cause), "%s (%u/%u)", r->last,
		 up ? r->ok_streak : r->fail_streak, up ? r->rise : r->fall);
	b->health_up = up;
	if (up)
		d->health_ups++;
	else
		d->health_downs++;
	if (!backend_push_cause(d, v, b, cause) && b->state != (up ? XLB_BE_UP : XLB_BE_DOWN)) {
		/* the state did not follow (admin, MAC): still say what the checks saw */
		xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
		xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
		logmsg(LOG_INFO, "backend %s of %s health %s: %s; stays %s", addr, vip,
		       up ? "up" : "down", cause,
		       xlb_name_of(xlb_backend_state_names, b->state));
	}
}

void on_neigh(void *ctx, const __be32 addr[4], int event, int ifindex, const __u8 mac[6])
{
	struct xlbd *d = ctx;
	char a[XLB_ADDR_STR_MAX], m[18], name[IF_NAMESIZE] = "?";
	__u32 i, j;

	xlb_format_addr(addr, a, sizeof(a));
	if (event == XLB_NEIGH_IGNORED) {
		xlb_format_mac(mac, m, sizeof(m));
		if_indextoname(ifindex, name);
		logmsg(LOG_WARN, "ignored a neighbour entry for backend %s at %s on %s: "
		       "the kernel does not route it through %s", a, m, name, name);
		return;
	}
	for (i = 0; i < d->state.nvips; i++) {
		struct xlb_state_vip *v = &d->state.vips[i];

		for (j = 0; j < v->nbackends; j++) {
			struct xlb_state_backend *b = &v->backends[j];

			if (memcmp(b->cfg.addr, addr, 16))
				continue;
			mac_resolve(d, v, b);
			if (event == XLB_NEIGH_KNOWN && b->mac_known && b->ifindex) {
				xlb_format_mac(b->mac, m, sizeof(m));
				logmsg(LOG_DEBUG, "backend %s is at %s", a, m);
			}
			backend_push(d, v, b);
		}
	}
}

/*
 * forward ipip: the data plane met a next hop without a MAC and left the
 * packet to the kernel, which may not resolve it (an IPv4 packet from a
 * local source is dropped as martian unless accept_local is on). A
 * datagram to each ipip backend makes the kernel resolve the way there.
 */
static void solicit_ipip_next_hops(struct xlbd *d)
{
	__u64 c[XLB_STAT_MAX];
	__u32 i, j;

	if (xlb_dp_stats(&d->at.dp, c) || c[XLB_STAT_PASS_NO_NEIGH] == d->no_neigh_seen)
		return;
	d->no_neigh_seen = c[XLB_STAT_PASS_NO_NEIGH];
	for (i = 0; i < d->state.nvips; i++)
		if (d->state.vips[i].cfg.forward == XLB_FWD_IPIP)
			for (j = 0; j < d->state.vips[i].nbackends; j++)
				xlb_neigh_solicit(d->state.vips[i].backends[j].cfg.addr);
}

/* Once a second: ask again for MACs still unknown; close idle control clients. */
void on_tick(struct xlb_evsrc *src, uint32_t events)
{
	struct xlbd *d = src->ctx;
	__u64 expirations;
	__u32 i, j;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	for (i = 0; i < d->state.nvips; i++)
		for (j = 0; j < d->state.vips[i].nbackends; j++)
			if (!d->state.vips[i].backends[j].mac_known)
				xlb_neigh_solicit(d->state.vips[i].backends[j].cfg.addr);
	solicit_ipip_next_hops(d);
	clients_expire(d);
}

__u32 total_backends(const struct xlbd *d)
{
	__u32 i, n = 0;

	for (i = 0; i < d->state.nvips; i++)
		n += d->state.vips[i].nbackends;
	return n;
}
