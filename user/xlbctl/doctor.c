// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl doctor: the host set-up that makes packets vanish on the LB. What
 * xlbd knows (interfaces, VIPs, forwarding modes, backends and their
 * reasons) comes over the control socket; the rest is read from the host
 * as the data plane meets it: the XDP mode really attached, offloads,
 * ipip's MTU arithmetic, forwarding and martian sysctls, next hops, the
 * clock. One finding per line, each problem with its fix (doctor.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <linux/neighbour.h>
#include "doctor.h"
#include "syntax.h"
#include "xlbctl.h"

#define MAX_IFACES 8 /* XLB_MAX_IFACES; more in a reply are a daemon's bug, ignored */

struct site {
	const char *ifaces[MAX_IFACES];
	int nifaces;
	bool generic[MAX_IFACES]; /* the XDP mode found on it */
	__u32 prog_id;
	struct json_object *status, *vips, *backends; /* the replies */
};

static int ask(const char *cmd, struct json_object **reply, char *err, size_t len)
{
	const char *refusal;
	int ret = xlb_proto_call(socket_path, new_request(cmd), reply, err, len);

	if (ret)
		return ret;
	refusal = xlb_proto_reply_error(*reply);
	if (refusal) {
		snprintf(err, len, "xlbd refused %s: %s", cmd, refusal);
		json_object_put(*reply);
		*reply = NULL;
		return -EPROTO;
	}
	return 0;
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key, json_type_string);

	return v ? json_object_get_string(v) : "";
}

/* The daemon's answers; false (and a could-not-check finding) if it cannot be asked. */
static bool ask_daemon(struct doctor *d, struct site *s)
{
	char err[512];
	const char *fix;
	struct json_object *ifs;
	size_t i;
	int ret;

	ret = ask("status", &s->status, err, sizeof(err));
	if (!ret)
		ret = ask("vip-show", &s->vips, err, sizeof(err));
	if (!ret)
		ret = ask("backend-show", &s->backends, err, sizeof(err));
	if (ret) {
		if (ret == -EACCES || ret == -EPERM)
			fix = "run xlbctl doctor as root (the socket is 0600, xlbd serves root only)";
		else if (ret == -EPROTO)
			fix = "see xlbd's log";
		else
			fix = "start xlbd (systemctl start xlbd), or name its socket with -s SOCKET";
		doctor_could_not_check(d, "daemon", socket_path, fix, err);
		return false;
	}
	ifs = member(s->status, "interfaces", json_type_array);
	for (i = 0; ifs && i < json_object_array_length(ifs) && s->nifaces < MAX_IFACES; i++) {
		struct json_object *e = json_object_array_get_idx(ifs, i);

		if (json_object_is_type(e, json_type_string))
			s->ifaces[s->nifaces++] = json_object_get_string(e);
	}
	s->prog_id = json_object_get_int64(member(s->status, "prog_id", json_type_int));
	doctor_add(d, DOCTOR_OK, "daemon", socket_path, NULL, "xlbd %s serving, prog %u",
		   str_of(s->status, "version"), s->prog_id);
	return true;
}

/* xlbd attaches native or generic; the mode is the one holding xlb's program. */
static void check_xdp(struct doctor *d, struct site *s)
{
	static const char *const modes[] = {
		[DOCTOR_XDP_NONE] = "none", [DOCTOR_XDP_DRV] = "native",
		[DOCTOR_XDP_SKB] = "generic", [DOCTOR_XDP_HW] = "offloaded",
	};
	__u32 ids[DOCTOR_XDP_NMODES];
	char fix[256];
	int i, m, mode, ret;

	for (i = 0; i < s->nifaces; i++) {
		const char *ifn = s->ifaces[i];

		ret = doctor_xdp_query(ifn, ids);
		mode = DOCTOR_XDP_NONE;
		for (m = DOCTOR_XDP_DRV; !ret && s->prog_id && m < DOCTOR_XDP_NMODES; m++)
			if (ids[m] == s->prog_id)
				mode = m;
		if (ret == -ENODEV) {
			doctor_add(d, DOCTOR_FAIL, "xdp", ifn, "run the doctor in xlbd's network "
				   "namespace; else create the interface and restart xlbd (it attaches at "
				   "start)", "no such interface in this network namespace");
			continue;
		} else if (ret) {
			doctor_add(d, DOCTOR_WARN, "xdp", ifn, "run xlbctl doctor as root",
				   "cannot ask the kernel: %s", strerror(-ret));
			continue;
		} else if (mode == DOCTOR_XDP_NONE) {
			char found[64] = "no XDP program";

			for (m = DOCTOR_XDP_DRV; m < DOCTOR_XDP_NMODES && !ids[m]; m++)
				;
			if (m < DOCTOR_XDP_NMODES)
				snprintf(found, sizeof(found), "another XDP program, prog %u (%s)", ids[m],
					 modes[m]);
			doctor_add(d, DOCTOR_FAIL, "xdp", ifn, "restart xlbd (it attaches at start); "
				   "ip link show dev IF names what else is attached",
				   "xlb's program (prog %u) is not attached: %s", s->prog_id, found);
			continue;
		} else if (mode == DOCTOR_XDP_SKB) {
			s->generic[i] = true;
			snprintf(fix, sizeof(fix), "xdp_mode: native in the config (or --xdp-mode native), "
				 "then restart xlbd, if the driver of %s has native XDP", ifn);
			doctor_add(d, DOCTOR_WARN, "xdp", ifn, fix,
				   "generic XDP (skb mode): the program runs after the kernel has built "
				   "an skb and merged segments (GRO), much slower than native");
		} else {
			doctor_add(d, DOCTOR_OK, "xdp", ifn, NULL, "%s XDP, prog %u", modes[mode],
				   s->prog_id);
		}
		/* a program beside xlb's: an offloaded one runs first, a generic one on what xlb passes */
		for (m = DOCTOR_XDP_DRV; m < DOCTOR_XDP_NMODES; m++) {
			if (m == mode || !ids[m])
				continue;
			snprintf(fix, sizeof(fix), "ip link set dev %s %s off, unless it is meant to be "
				 "there", ifn, m == DOCTOR_XDP_HW ? "xdpoffload" :
				 m == DOCTOR_XDP_SKB ? "xdpgeneric" : "xdpdrv");
			doctor_add(d, DOCTOR_WARN, "xdp", ifn, fix, "another XDP program beside xlb's: "
				   "prog %u, %s: %s", ids[m], modes[m], m == DOCTOR_XDP_HW ?
				   "it runs first, in the NIC, and what it drops or redirects never "
				   "reaches xlb" : m == DOCTOR_XDP_SKB ? "it runs on what xlb passes to "
				   "the kernel" : "it runs first, and what it drops or redirects never "
				   "reaches xlb");
		}
	}
}

/*
 * Offloads. xlb forwards TCP as it is (l2dsr rewrites MACs, ipip adds an
 * outer header and leaves the inner packet alone), so rx/tx checksumming
 * on the LB breaks nothing: no checksum is verified or rewritten here, the
 * backend verifies. What breaks forwarding is a packet that is not the
 * one on the wire: LRO and hardware GRO merge segments in the NIC, before
 * XDP, so the program forwards one frame larger than the MTU whose TCP
 * checksum belongs to none of the segments (the kernel turns LRO off when
 * it attaches XDP; one turned on later still merges). Software GRO runs
 * after native XDP (harmless) but before generic XDP, which then forwards
 * merged packets with partial (CHECKSUM_PARTIAL) checksums. A veth peer's
 * tx checksumming (scripts/topo.sh) is another namespace's, not seen here.
 */
static void check_offloads(struct doctor *d, const struct site *s)
{
	bool act[NFEATURES];
	char fix[128];
	int i, ret;

	for (i = 0; i < s->nifaces; i++) {
		const char *ifn = s->ifaces[i];

		ret = doctor_if_features(ifn, act);
		if (ret) {
			doctor_add(d, DOCTOR_WARN, "offload", ifn, "ethtool -k IF shows them",
				   "cannot read the features: %s", strerror(-ret));
			continue;
		}
		if (act[FEAT_LRO] || act[FEAT_GRO_HW]) {
			snprintf(fix, sizeof(fix), "ethtool -K %s%s%s", ifn, act[FEAT_LRO] ? " lro off" : "",
				 act[FEAT_GRO_HW] ? " rx-gro-hw off" : "");
			doctor_add(d, DOCTOR_FAIL, "offload", ifn, fix,
				   "%s on: the NIC merges TCP segments before XDP, which forwards the "
				   "merged frame, larger than the MTU and with a checksum of none of them",
				   act[FEAT_LRO] ? "LRO" : "hardware GRO");
		} else if (act[FEAT_GRO] && s->generic[i]) {
			snprintf(fix, sizeof(fix), "ethtool -K %s gro off (or native XDP)", ifn);
			doctor_add(d, DOCTOR_WARN, "offload", ifn, fix,
				   "GRO on with generic XDP: the program sees merged segments with partial "
				   "checksums and forwards them as one packet");
		} else {
			doctor_add(d, DOCTOR_OK, "offload", ifn, NULL, "no LRO or hardware GRO%s",
				   act[FEAT_GRO] ? "; GRO runs after native XDP" : "");
		}
	}
}

static struct json_object *list_of(struct json_object *reply, const char *key)
{
	return member(reply, key, json_type_array);
}

static bool vip_is_ipip(const struct site *s, const char *vip)
{
	struct json_object *vips = list_of(s->vips, "vips");
	size_t i;

	for (i = 0; vips && i < json_object_array_length(vips); i++) {
		struct json_object *v = json_object_array_get_idx(vips, i);

		if (!strcmp(str_of(v, "vip"), vip))
			return !strcmp(str_of(v, "forward"), "ipip");
	}
	return false;
}

/* Outer families the ipip VIPs use: bit 0 IPv4 (IPIP), bit 1 IPv6 (IP6IP6, 4in6). */
static unsigned int ipip_families(const struct site *s)
{
	struct json_object *bes = list_of(s->backends, "backends");
	unsigned int fam = 0;
	__be32 a[4];
	size_t i;

	for (i = 0; bes && i < json_object_array_length(bes); i++) {
		struct json_object *b = json_object_array_get_idx(bes, i);

		if (vip_is_ipip(s, str_of(b, "vip")) && !xlb_parse_addr(str_of(b, "address"), a, NULL, 0))
			fam |= xlb_addr_is_v4(a) ? 1 : 2;
	}
	return fam;
}

/*
 * The FIB helper asks with the ingress interface and checks that
 * device's forwarding, for both families, not "all" (writing "all" only
 * sets every device). A packet passed to the kernel (pass_no_neigh) is
 * forwarded by the same device's value for IPv4, but for IPv6 by "all"
 * or the device's force_forwarding. Every attached interface is an
 * ingress.
 */
static void check_forwarding(struct doctor *d, const struct site *s, unsigned int fam)
{
	static const char *const names[] = { "ipv4", "ipv6" };
	char subject[64], fix[96];
	int f, i, all, v, force;

	for (f = 0; f < 2; f++) {
		if (!(fam & (1u << f)))
			continue;
		if (doctor_conf_get(names[f], "all", "forwarding", &all))
			all = -1;
		for (i = 0; i < s->nifaces; i++) {
			const char *ifn = s->ifaces[i];

			snprintf(subject, sizeof(subject), "net.%s.conf.%s.forwarding", names[f], ifn);
			/* "all" off: turning it on sets every device, and the kernel's own path for IPv6 */
			snprintf(fix, sizeof(fix), "sysctl -w net.%s.conf.%s.forwarding=1", names[f],
				 all == 0 ? "all" : ifn);
			if (doctor_conf_get(names[f], ifn, "forwarding", &v))
				doctor_add(d, DOCTOR_WARN, "forwarding", subject, fix, "cannot read it");
			else if (!v)
				doctor_add(d, DOCTOR_FAIL, "forwarding", subject, fix,
					   "off on %s: the FIB helper answers nothing for packets arriving "
					   "there, so each one of an ipip VIP with %s backends is dropped "
					   "(drop_no_route)", ifn, f ? "IPv6" : "IPv4");
			else if (f && all == 0 &&
				 (doctor_conf_get(names[f], ifn, "force_forwarding", &force) || !force))
				doctor_add(d, DOCTOR_WARN, "forwarding", "net.ipv6.conf.all.forwarding", fix,
					   "off, though on for %s: a packet passed to the kernel "
					   "while its next hop is resolved (pass_no_neigh) is not forwarded",
					   ifn);
			else
				doctor_add(d, DOCTOR_OK, "forwarding", subject, NULL, "on");
		}
	}
}

/*
 * An IPIP packet whose next hop's MAC is not known yet goes to the kernel
 * already encapsulated (pass_no_neigh), from the encap source, a local
 * address: a martian unless accept_local (all or the device) is on, and
 * strict rp_filter (the larger of all and the device) refuses it as well;
 * loose (2) lets it through.
 */
static void check_martians(struct doctor *d, const struct site *s)
{
	char fix[160];
	int i, v;

	for (i = 0; i < s->nifaces; i++) {
		const char *ifn = s->ifaces[i];

		snprintf(fix, sizeof(fix), "sysctl -w net.ipv4.conf.%s.accept_local=1", ifn);
		if (doctor_conf_or(ifn, "accept_local", &v))
			doctor_add(d, DOCTOR_WARN, "accept_local", ifn, fix, "cannot read it");
		else if (!v)
			doctor_add(d, DOCTOR_WARN, "accept_local", ifn, fix,
				   "accept_local=0: an IPIP packet passed to the kernel while its next hop is resolved "
				   "(pass_no_neigh) has a local source and is dropped as a martian");
		else
			doctor_add(d, DOCTOR_OK, "accept_local", ifn, NULL, "accept_local=1");
		snprintf(fix, sizeof(fix), "sysctl -w net.ipv4.conf.all.rp_filter=0 "
			 "net.ipv4.conf.%s.rp_filter=0", ifn);
		if (doctor_conf_max(ifn, "rp_filter", &v))
			doctor_add(d, DOCTOR_WARN, "rp_filter", ifn, fix, "cannot read it");
		else if (v == 1)
			doctor_add(d, DOCTOR_WARN, "rp_filter", ifn, fix,
				   "rp_filter=1 (strict): an IPIP packet passed to the kernel while its next hop "
				   "is resolved (pass_no_neigh) fails the reverse-path check of its local "
				   "source and is dropped");
		else
			doctor_add(d, DOCTOR_OK, "rp_filter", ifn, NULL, "rp_filter=%d", v);
	}
}

static const char *nud_name(int state)
{
	if (state & NUD_REACHABLE) return "reachable";
	if (state & NUD_STALE) return "stale";
	if (state & NUD_DELAY) return "delay";
	if (state & NUD_PROBE) return "probe";
	if (state & NUD_PERMANENT) return "permanent";
	if (state & NUD_NOARP) return "noarp";
	if (state & NUD_INCOMPLETE) return "incomplete";
	if (state & NUD_FAILED) return "failed";
	return "none";
}

/*
 * The largest packet a client can hand the LB for a backend behind egress:
 * the largest MTU of the other attached interfaces, or egress's own when
 * it is the only one (one-armed).
 */
static int ingress_mtu(const struct site *s, const char *egress)
{
	int i, m, max = 0;

	for (i = 0; i < s->nifaces; i++) {
		if (!strcmp(s->ifaces[i], egress))
			continue;
		m = doctor_if_mtu(s->ifaces[i]);
		if (m > max)
			max = m;
	}
	return max ? max : doctor_if_mtu(egress);
}

/*
 * An ipip backend's way: the route, its MTU against 20 (IPv4 outer) or 40
 * (IPv6 outer) bytes of header, as bpf/encap.h computes it.
 */
static void check_ipip_way(struct doctor *d, const struct site *s, const char *subject,
			   const __be32 a[4], bool vip_v6, const struct doctor_route *r)
{
	int overhead = xlb_addr_is_v4(a) ? 20 : 40, floor = vip_v6 ? 1280 : 68, mtu;
	int in_mtu = ingress_mtu(s, r->ifname);
	char fix[192];

	mtu = r->locked_mtu ? (int)r->locked_mtu : doctor_if_mtu(r->ifname);
	if (mtu <= 0) {
		doctor_add(d, DOCTOR_WARN, "mtu", subject, "ip route get BACKEND on the LB",
			   "cannot read the MTU of %s", r->ifname);
		return;
	}
	snprintf(fix, sizeof(fix), "ip link set dev %s mtu %d (and every link on the way), or "
		 "lower the clients' MTU", r->ifname, in_mtu + overhead);
	if (mtu - overhead < floor)
		doctor_add(d, DOCTOR_FAIL, "mtu", subject, fix,
			   "%s MTU %d less %d bytes of %s is below the %s minimum of %d: a packet "
			   "too big for it is dropped, not answered (drop_too_big), and the "
			   "client's connection stalls", r->locked_mtu ? "route" : r->ifname,
			   mtu, overhead, overhead == 20 ? "IPIP" : "IPv6 outer header",
			   vip_v6 ? "IPv6" : "IPv4", floor);
	else if (mtu < in_mtu + overhead)
		doctor_add(d, DOCTOR_WARN, "mtu", subject, fix,
			   "%s MTU %d: a %d-byte packet needs %d once encapsulated: clients depend on "
			   "the LB's too-big answers, and stall where ICMP is filtered",
			   r->locked_mtu ? "route" : r->ifname, mtu, in_mtu, in_mtu + overhead);
	else
		doctor_add(d, DOCTOR_OK, "mtu", subject, NULL, "%s MTU %d carries %d + %d",
			   r->ifname, mtu, in_mtu, overhead);
}

/* Each backend: xlbd's state and reason, the route and next hop the data plane meets. */
static void check_backends(struct doctor *d, const struct site *s)
{
	struct json_object *bes = list_of(s->backends, "backends"), *vips = list_of(s->vips, "vips");
	int st, ret;
	char subject[160], hop[XLB_ADDR_STR_MAX], fix[192];
	struct doctor_route r;
	size_t i;
	__be32 a[4];

	for (i = 0; vips && i < json_object_array_length(vips); i++) {
		struct json_object *v = json_object_array_get_idx(vips, i);
		struct json_object *up = member(v, "up", json_type_int);

		if (up && !json_object_get_int64(up))
			doctor_add(d, DOCTOR_FAIL, "vip", str_of(v, "vip"), "xlbctl backend show VIP "
				   "gives each backend's reason; xlb-decap doctor on the backends",
				   "no backend in service: its packets are dropped (drop_no_backend)");
	}
	for (i = 0; bes && i < json_object_array_length(bes); i++) {
		struct json_object *b = json_object_array_get_idx(bes, i);
		const char *vip = str_of(b, "vip"), *addr = str_of(b, "address");
		const char *state = str_of(b, "state");
		bool ipip = vip_is_ipip(s, vip);

		snprintf(subject, sizeof(subject), "%s of %s", addr, vip);
		if (!strcmp(state, "down"))
			doctor_add(d, DOCTOR_WARN, "backend", subject, "xlb-decap doctor on the backend; "
				   "xlbctl backend show VIP", "down: %s (last check: %s)",
				   *str_of(b, "reason") ? str_of(b, "reason") : "-", str_of(b, "last_check"));
		if (xlb_parse_addr(addr, a, NULL, 0) || !strcmp(state, "disabled"))
			continue;
		ret = doctor_route_get(a, &r);
		if (ret) {
			doctor_add(d, DOCTOR_FAIL, "route", subject, "add a route to the backend on the LB "
				   "(ip route get BACKEND shows what the kernel has)",
				   ret == -ENETUNREACH ? "no route: %s" : "cannot ask the kernel: %s",
				   ret == -ENETUNREACH ? (ipip ? "dropped (drop_no_route)" :
							  "its MAC cannot be resolved") : strerror(-ret));
			continue;
		}
		if (!ipip && r.has_gateway)
			doctor_add(d, DOCTOR_FAIL, "route", subject, "l2dsr backends sit on the LB's "
				   "segment: use forward ipip for backends behind a router",
				   "routed via a gateway on %s, not on-link: l2dsr cannot reach it", r.ifname);
		if (ipip)
			check_ipip_way(d, s, subject, a, strchr(vip, '[') != NULL, &r);
		xlb_format_addr(r.gateway, hop, sizeof(hop));
		st = doctor_neigh_state(r.gateway, r.oif);
		snprintf(fix, sizeof(fix), "ping %s from the LB; ip neigh show %s on %s", hop, hop,
			 r.ifname);
		if (st < 0)
			doctor_add(d, DOCTOR_WARN, "neigh", subject, fix, "cannot ask the kernel: %s",
				   strerror(-st));
		else if (st & (NUD_FAILED | NUD_INCOMPLETE))
			doctor_add(d, DOCTOR_FAIL, "neigh", subject, fix, "next hop %s on %s does not "
				   "answer ARP/ND (%s): its packets are %s", hop, r.ifname, nud_name(st),
				   ipip ? "passed to the kernel and lost (pass_no_neigh)" : "not sent");
		else if (!st)
			doctor_add(d, DOCTOR_WARN, "neigh", subject, fix, "next hop %s on %s: no "
				   "neighbour entry yet", hop, r.ifname);
		else
			doctor_add(d, DOCTOR_OK, "neigh", subject, NULL, "next hop %s on %s %s", hop,
				   r.ifname, nud_name(st));
	}
}

/* Idle timeouts, the flow cache's tick and last-seen stamps read bpf_ktime_get_coarse_ns(). */
static void check_clock(struct doctor *d)
{
	struct timespec res;
	long long ns;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res)) {
		doctor_add(d, DOCTOR_WARN, "clock", "CLOCK_MONOTONIC_COARSE", "a kernel with it",
			   "cannot read its resolution: %s", strerror(errno));
		return;
	}
	ns = res.tv_sec * 1000000000LL + res.tv_nsec;
	if (ns > 10000000)
		doctor_add(d, DOCTOR_WARN, "clock", "CLOCK_MONOTONIC_COARSE", "a kernel with "
			   "CONFIG_HZ of 100 or more", "resolution %lld ms, coarser than 10 ms: idle "
			   "timeouts and the flow cache's 16.8 ms tick run late", ns / 1000000);
	else
		doctor_add(d, DOCTOR_OK, "clock", "CLOCK_MONOTONIC_COARSE", NULL,
			   "resolution %lld us", ns / 1000);
}

int do_doctor(struct cmd *c)
{
	struct doctor d = {};
	struct site s = {};
	unsigned int fam;
	int ret = no_more_args(c);

	if (ret)
		return ret;
	if (ask_daemon(&d, &s)) {
		check_xdp(&d, &s);
		check_offloads(&d, &s);
		fam = ipip_families(&s);
		check_forwarding(&d, &s, fam);
		if (fam & 1)
			check_martians(&d, &s);
		check_backends(&d, &s);
		check_clock(&d);
	}
	ret = doctor_report(&d);
	doctor_free(&d);
	json_object_put(s.status);
	json_object_put(s.vips);
	json_object_put(s.backends);
	return ret;
}
