// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-decap doctor [dev IF] [VIP ...]: a backend's set-up for xlb, L2 or
 * L3 DSR: the decap program attached and its VIPs, each VIP on loopback,
 * a listener on each VIP given with a port, and the ARP and rp_filter
 * sysctls as the kernel combines them (the larger of "all" and the
 * device). The VIPs are those given (ADDR, or VIP:PORT/PROTO for the
 * listener) and those of the attachments. One finding per line (doctor.h).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "attach.h"
#include "doctor.h"
#include "syntax.h"
#include "xlb-decap.h"

#define MAX_ATTACHED 64 /* interfaces with pins looked at */
#define MAX_DOCTOR_VIPS (XLB_DECAP_MAX_VIPS + 64)
#define MAX_IFS 64

struct dvip {
	__be32 addr[4];
	__u16 port;   /* host order; 0: not given (or every port) */
	__u8 proto;   /* 0: an address only */
	bool given;   /* on the command line */
	bool decap;   /* in an attachment's VIPs */
};

struct attached {
	char dev[IFNAMSIZ];
	bool live;
};

struct dstate {
	struct doctor d;
	struct dvip vips[MAX_DOCTOR_VIPS];
	int nvips;
	struct attached at[MAX_ATTACHED];
	int nat;
};

static struct dvip *vip_add(struct dstate *s, const __be32 addr[4], __u16 port, __u8 proto)
{
	int i;

	for (i = 0; i < s->nvips; i++)
		if (!memcmp(s->vips[i].addr, addr, 16) && s->vips[i].port == port &&
		    s->vips[i].proto == proto)
			return &s->vips[i];
	if (s->nvips == MAX_DOCTOR_VIPS)
		return NULL;
	memset(&s->vips[s->nvips], 0, sizeof(s->vips[0]));
	memcpy(s->vips[s->nvips].addr, addr, 16);
	s->vips[s->nvips].port = port;
	s->vips[s->nvips].proto = proto;
	return &s->vips[s->nvips++];
}

static void vip_text(const struct dvip *v, char *buf, size_t len)
{
	struct vip_key key = { .port = htons(v->port), .proto = v->proto };

	memcpy(key.addr, v->addr, 16);
	if (v->proto)
		xlb_format_vip(&key, buf, len);
	else
		xlb_format_addr(v->addr, buf, len);
}

/* The VIPs pinned for one interface; marks those given, adds the others. */
static void read_decap_vips(struct dstate *s, const char *dir, const char *dev)
{
	struct decap_vip_key key, *prev = NULL;
	char path[PATH_MAX];
	int fd, n = 0, i;

	if (path_of(path, sizeof(path), dir, map_pins[MAP_VIPS]))
		return;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		doctor_add(&s->d, DOCTOR_FAIL, "decap", dev, "xlb-decap attach again",
			   "no VIP map pinned (%s: %s)", path, strerror(errno));
		return;
	}
	while (n++ < XLB_DECAP_MAX_VIPS && !bpf_map_get_next_key(fd, prev, &key)) {
		bool found = false;

		for (i = 0; i < s->nvips; i++)
			if (!memcmp(s->vips[i].addr, key.addr, 16)) {
				s->vips[i].decap = found = true;
			}
		if (!found) {
			struct dvip *v = vip_add(s, key.addr, 0, 0);

			if (v)
				v->decap = true;
		}
		prev = &key;
	}
	close(fd);
}

/* One interface's pins: the link live on it (this namespace's), its VIPs. */
static void check_attached(struct dstate *s, const char *base, const char *dev, bool required)
{
	struct xlb_link_state st = {};
	char dir[PATH_MAX], path[PATH_MAX], why[256], fix[160];
	int fd, ret;

	snprintf(fix, sizeof(fix), "xlb-decap attach dev %s source LB_PREFIX vip VIP ...", dev);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", base, dev) >= sizeof(dir) ||
	    path_of(path, sizeof(path), dir, LINK_PIN))
		return;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (required)
			doctor_add(&s->d, DOCTOR_FAIL, "decap", dev, fix, "not attached (no %s): "
				   "tunnelled packets reach the stack encapsulated and are dropped", path);
		return;
	}
	ret = xlb_link_check(fd, dev, XLB_XDP_ANY_MODE, &st, why, sizeof(why));
	close(fd);
	if (s->nat < MAX_ATTACHED)
		snprintf(s->at[s->nat].dev, IFNAMSIZ, "%s", dev);
	if (ret == 1) {
		doctor_add(&s->d, DOCTOR_OK, "decap", dev, NULL, "prog %u attached", st.prog_id);
		if (s->nat < MAX_ATTACHED)
			s->at[s->nat].live = true;
	} else if (ret == -EXDEV) {
		doctor_add(&s->d, DOCTOR_WARN, "decap", dev, "run the doctor in that namespace, or "
			   "give -d the folder of this one's pins", "%s holds another network "
			   "namespace's attachment", dir);
	} else {
		doctor_add(&s->d, DOCTOR_FAIL, "decap", dev, fix, "pinned but not running on %s: %s",
			   dev, ret ? strerror(-ret) : why);
	}
	if (s->nat < MAX_ATTACHED)
		s->nat++;
	if (ret == 1)
		read_decap_vips(s, dir, dev);
}

static void scan_attached(struct dstate *s, const char *base)
{
	struct dirent *e;
	int n = 0, seen = 0;
	DIR *dir = opendir(base);

	if (!dir)
		return; /* nothing ever attached here */
	/* past MAX_ATTACHED only counted, up to a bound: the folder may be huge */
	while ((e = readdir(dir)) && seen < 1000000) {
		seen++;
		if (e->d_name[0] == '.' || strlen(e->d_name) >= IFNAMSIZ)
			continue;
		if (n++ < MAX_ATTACHED)
			check_attached(s, base, e->d_name, false);
	}
	closedir(dir);
	if (n > MAX_ATTACHED)
		doctor_add(&s->d, DOCTOR_WARN, "decap", base, "xlb-decap doctor dev IF checks one",
			   "%d interfaces' folders here, %d not looked at (at most %d): their "
			   "attachments and VIPs are not checked", n, n - MAX_ATTACHED, MAX_ATTACHED);
}

static void check_vips(struct dstate *s)
{
	char text[XLB_VIP_STR_MAX], where[IFNAMSIZ] = "", bound[80], fix[192];
	int i, k, ret, v4;

	for (i = 0; i < s->nvips; i++) {
		struct dvip *v = &s->vips[i];

		v4 = xlb_addr_is_v4(v->addr);
		xlb_format_addr(v->addr, text, sizeof(text));
		snprintf(fix, sizeof(fix), "ip addr add %s/%s dev lo%s", text, v4 ? "32" : "128",
			 v4 ? "" : " nodad");
		/* one loopback line per address, not per port */
		for (k = 0; k < i && memcmp(s->vips[k].addr, v->addr, 16); k++)
			;
		ret = k < i ? 3 : doctor_addr_where(v->addr, where, sizeof(where));
		if (ret == 0)
			doctor_add(&s->d, DOCTOR_FAIL, "loopback", text, fix, "not on lo: "
				   "this host does not take the VIP's packets as its own");
		else if (ret == 1)
			doctor_add(&s->d, DOCTOR_OK, "loopback", text, NULL, "on lo");
		else if (ret == 2)
			doctor_add(&s->d, DOCTOR_WARN, "loopback", text, fix, "on %s, not lo: "
				   "this host answers ARP/ND for the VIP on that link", where);
		else if (ret < 0)
			doctor_add(&s->d, DOCTOR_WARN, "loopback", text, fix,
				   "cannot list the addresses: %s", strerror(-ret));
		if (s->nat && v->given && !v->decap)
			doctor_add(&s->d, DOCTOR_WARN, "decap", text, "xlb-decap attach dev IF source ... "
				   "vip VIP (give every VIP: attach replaces them)", "not among the VIPs of "
				   "xlb-decap's attachments: its tunnelled packets pass undecapsulated "
				   "(pass_not_vip)");
		if (!v->proto || !v->port)
			continue;
		vip_text(v, text, sizeof(text));
		ret = doctor_listener(v->addr, v->port, v->proto, bound, sizeof(bound));
		if (ret > 0)
			doctor_add(&s->d, DOCTOR_OK, "listener", text, NULL, "bound to %s", bound);
		else
			doctor_add(&s->d, ret ? DOCTOR_WARN : DOCTOR_FAIL, "listener", text,
				   "start the service, bound to the VIP or to 0.0.0.0 or [::]",
				   ret ? "cannot read the sockets: %s" : "nothing %s on port %u: %s",
				   ret ? strerror(-ret) : v->proto == IPPROTO_TCP ? "listens" : "is bound",
				   v->port, v->proto == IPPROTO_TCP ? "connections to the VIP are refused" :
				   "datagrams to the VIP are answered with port unreachable");
	}
}

static bool is_attached(const struct dstate *s, const char *dev)
{
	int i;

	for (i = 0; i < s->nat && i < MAX_ATTACHED; i++)
		if (s->at[i].live && !strcmp(s->at[i].dev, dev))
			return true;
	return false;
}

/* Every IPv4 VIP is one xlb-decap takes: the LB sends it tunnelled (forward ipip). */
static bool v4_vips_tunnelled(const struct dstate *s)
{
	int i;

	for (i = 0; i < s->nvips; i++)
		if (xlb_addr_is_v4(s->vips[i].addr) && !s->vips[i].decap)
			return false;
	return true;
}

/*
 * The VIPs on lo must not be ARPed for here. On an interface that takes
 * them tunnelled (decap attached, every IPv4 VIP among its VIPs) that
 * matters only where the segment sends a VIP's traffic on-link, which
 * doctor cannot see (an L2 DSR LB elsewhere, a VIP routed on-link): a
 * warning there, a failure elsewhere.
 */
static void check_arp(struct dstate *s, const char *ifn, bool tunnelled)
{
	enum doctor_status st = tunnelled ? DOCTOR_WARN : DOCTOR_FAIL;
	char only[160] = "";
	int v;

	if (tunnelled)
		snprintf(only, sizeof(only), "; the VIPs come tunnelled to %.15s (xlb-decap): this "
			 "matters only where the segment sends a VIP's traffic on-link (L2 DSR)", ifn);
	if (doctor_conf_max(ifn, "arp_ignore", &v))
		doctor_add(&s->d, DOCTOR_WARN, "arp_ignore", ifn, "sysctl net.ipv4.conf",
			   "cannot read it");
	else if (!v)
		doctor_add(&s->d, st, "arp_ignore", ifn, "sysctl -w net.ipv4.conf.all.arp_ignore=1",
			   "arp_ignore=0: %s answers ARP for the VIPs on lo, so the segment "
			   "may send VIP traffic here, past the LB%s", ifn, only);
	else
		doctor_add(&s->d, DOCTOR_OK, "arp_ignore", ifn, NULL, "arp_ignore=%d", v);
	if (doctor_conf_max(ifn, "arp_announce", &v))
		doctor_add(&s->d, DOCTOR_WARN, "arp_announce", ifn, "sysctl net.ipv4.conf",
			   "cannot read it");
	else if (v < 2)
		doctor_add(&s->d, st, "arp_announce", ifn, "sysctl -w net.ipv4.conf.all.arp_announce=2",
			   "arp_announce=%d: ARP requests from %s may give a VIP as their "
			   "source, and the segment learns this host's MAC for it%s", v, ifn, only);
	else
		doctor_add(&s->d, DOCTOR_OK, "arp_announce", ifn, NULL, "arp_announce=%d", v);
}

/*
 * Per IPv4 interface, the values the kernel acts on: arp_ignore and
 * arp_announce for the VIPs on lo (L2 DSR: the LB must be the one to
 * answer ARP for them), rp_filter for packets from clients.
 */
static void check_sysctls(struct dstate *s)
{
	char ifs[MAX_IFS][16], def[IFNAMSIZ], fix[160];
	bool any_v4 = false;
	int i, n, v;

	for (i = 0; i < s->nvips; i++)
		any_v4 |= xlb_addr_is_v4(s->vips[i].addr);
	n = doctor_ipv4_ifaces(ifs, MAX_IFS);
	if (n < 0) {
		doctor_add(&s->d, DOCTOR_WARN, "rp_filter", "interfaces", "ip addr shows them",
			   "cannot list them: %s", strerror(-n));
		return;
	}
	if (n > MAX_IFS) {
		doctor_add(&s->d, DOCTOR_WARN, "sysctls", "interfaces", "sysctl net.ipv4.conf.IF "
			   "(arp_ignore, arp_announce, rp_filter) on the others, with all's",
			   "%d interfaces with IPv4, %d not checked (the first %d are)", n,
			   n - MAX_IFS, MAX_IFS);
		n = MAX_IFS;
	}
	doctor_default_route_if(def, sizeof(def));
	for (i = 0; i < n; i++) {
		const char *ifn = ifs[i];
		bool decap = is_attached(s, ifn);
		const char *what = decap ? "decapsulated packets" : "packets to the VIPs (L2 DSR)";

		if (any_v4)
			check_arp(s, ifn, decap && v4_vips_tunnelled(s));
		snprintf(fix, sizeof(fix), "sysctl -w net.ipv4.conf.all.rp_filter=0 "
			 "net.ipv4.conf.%.15s.rp_filter=0 (or 2, loose)", ifn);
		if (doctor_conf_max(ifn, "rp_filter", &v))
			doctor_add(&s->d, DOCTOR_WARN, "rp_filter", ifn, fix, "cannot read it");
		else if (v == 1 && strcmp(def, ifn))
			doctor_add(&s->d, DOCTOR_FAIL, "rp_filter", ifn, fix, "rp_filter=1 (strict) and "
				   "the default route leaves by %s: %s from clients arriving on %s are "
				   "dropped", def[0] ? def : "no interface", what, ifn);
		else if (v == 1)
			doctor_add(&s->d, DOCTOR_WARN, "rp_filter", ifn, fix, "rp_filter=1 (strict): %s "
				   "from a client whose route back leaves by another interface are dropped",
				   what);
		else
			doctor_add(&s->d, DOCTOR_OK, "rp_filter", ifn, NULL, "rp_filter=%d", v);
	}
}

/* ADDR or VIP:PORT/PROTO */
static int parse_doctor_vip(struct dstate *s, const char *arg)
{
	struct vip_key key;
	struct dvip *v;
	__be32 addr[4];
	char err[128];

	if (!xlb_parse_vip(arg, &key, err, sizeof(err)))
		v = vip_add(s, key.addr, ntohs(key.port), key.proto);
	else if (!xlb_parse_addr(arg, addr, NULL, 0))
		v = vip_add(s, addr, 0, 0);
	else
		return xlb_cli_fail(EXIT_USAGE, "doctor: bad VIP \"%s\": %s (ADDR or ADDR:PORT/tcp)",
				    arg, err);
	if (!v)
		return xlb_cli_fail(EXIT_USAGE, "doctor: more than %d VIPs", MAX_DOCTOR_VIPS);
	v->given = true;
	return 0;
}

int decap_doctor(const char *base, int argc, char **argv)
{
	static struct dstate s;
	const char *dev = NULL;
	int i, ret;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "dev")) {
			if (i + 1 == argc || dev || !argv[i + 1][0] || strchr(argv[i + 1], '/') ||
			    strlen(argv[i + 1]) >= IFNAMSIZ)
				return xlb_cli_fail(EXIT_USAGE, "doctor: dev needs one interface name");
			dev = argv[++i];
		} else if ((ret = parse_doctor_vip(&s, argv[i]))) {
			return ret;
		}
	}
	if (dev)
		check_attached(&s, base, dev, true);
	else
		scan_attached(&s, base);
	if (!s.nat && !dev)
		doctor_add(&s.d, DOCTOR_OK, "decap", base, NULL, "nothing attached here (forward "
			   "ipip needs it; give dev IF to require it)");
	if (!s.nvips) {
		doctor_could_not_check(&s.d, "vips", "-", "xlb-decap doctor VIP:PORT/tcp ...",
				       "no VIPs to check: none given and none in an attachment");
	} else {
		check_vips(&s);
		check_sysctls(&s);
	}
	ret = doctor_report(&s.d);
	doctor_free(&s.d);
	return ret;
}
