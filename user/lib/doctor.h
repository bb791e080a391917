/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What `xlbctl doctor` (the LB host) and `xlb-decap doctor` (a backend)
 * share: the list of findings and its printing, and reading the host:
 * sysctls, interfaces, ethtool features, addresses, listeners (doctor.c,
 * doctor_host.c); netlink questions for xlbctl (doctor_nl.c).
 *
 * A finding is one line: "STATUS CHECK SUBJECT: DETAIL", then "  fix: FIX"
 * under each warn or fail. Exit status: 0 every check ok, 1 a warn or a
 * fail, 2 the checks could not run (doctor_could_not_check()).
 */
#ifndef XLB_DOCTOR_H
#define XLB_DOCTOR_H

#include <stdbool.h>
#include <linux/types.h>

enum doctor_status { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL, DOCTOR_NSTATUS };

/*
 * Every warn and fail is shown first (up to DOCTOR_MAX_PROBLEMS), then ok
 * findings in arrival order while the lines stay within this many; those
 * left out are counted per status.
 */
#define DOCTOR_MAX_FINDINGS 4096
/* warn and fail kept: more than xlbd's limits give (65536 backends, 4 lines each) */
#define DOCTOR_MAX_PROBLEMS 300000

struct doctor_finding {
	enum doctor_status status;
	char *check;   /* "rp_filter" */
	char *subject; /* "eth0" */
	char *detail;  /* what is wrong, and what it does to packets */
	char *fix;     /* NULL for ok */
};

struct doctor {
	struct doctor_finding *f;
	unsigned int n, cap;
	unsigned int kept[DOCTOR_NSTATUS];    /* in f, per status */
	unsigned int dropped[DOCTOR_NSTATUS]; /* not kept, per status */
	bool could_not_check;
};

/* fix may be NULL (an ok finding); detail is a format. */
void doctor_add(struct doctor *d, enum doctor_status st, const char *check, const char *subject,
		const char *fix, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The checks cannot run at all (no daemon, say): one fail finding and exit 2. */
void doctor_could_not_check(struct doctor *d, const char *check, const char *subject,
			    const char *fix, const char *detail);
/*
 * Print the findings (text, or a JSON list with xlb_cli.json); the exit
 * status. Some not shown: the text summary counts them per status, and the
 * JSON list ends with {check "doctor", subject "findings", dropped {ok,
 * warn, fail}}.
 */
int doctor_report(struct doctor *d);
void doctor_free(struct doctor *d);

/* ---- the host (doctor_host.c) ---- */

/* /proc/sys/net/ipv4/conf/IF/NAME ("all" for IF too): 0 and *val, or -errno. */
int doctor_conf_get(const char *family, const char *ifname, const char *name, int *val);
/*
 * The value the kernel acts on for IF, as it combines "all" and the
 * device: the larger of the two (rp_filter, arp_ignore, arp_announce:
 * doctor_conf_max), or either one set (accept_local: doctor_conf_or).
 * 0 and *val, or -errno if unreadable.
 */
int doctor_conf_max(const char *ifname, const char *name, int *val);
int doctor_conf_or(const char *ifname, const char *name, int *val);
/* Interface MTU, or -errno. */
int doctor_if_mtu(const char *ifname);

enum doctor_feature { FEAT_LRO, FEAT_GRO, FEAT_GRO_HW, NFEATURES };
/* active[] of each feature from ETHTOOL_GFEATURES (false when the device lacks it); 0 or -errno. */
int doctor_if_features(const char *ifname, bool active[NFEATURES]);

/*
 * Where a local address is: 1 on lo, 2 on another interface (name in
 * other), 0 not local; -errno.
 */
int doctor_addr_where(const __be32 addr[4], char *other, size_t otherlen);

/*
 * Something is bound to addr:port of proto (IPPROTO_TCP: listening): the
 * address itself or a wildcard of its family ([::] counts for IPv4 too,
 * as bindv6only is off by default). 1 yes (the bound address in bound), 0 no, -errno.
 */
int doctor_listener(const __be32 addr[4], __u16 port, __u8 proto, char *bound, size_t len);

/*
 * Up interfaces other than loopbacks with an IPv4 address: the first max
 * into names, how many there are in all (more than max: not all named), or -errno.
 */
int doctor_ipv4_ifaces(char (*names)[16], int max);

/* The interface of the IPv4 default route (/proc/net/route), or "" if none. */
void doctor_default_route_if(char *ifname, size_t len);

/* ---- netlink, for the LB host (doctor_nl.c) ---- */

enum doctor_xdp { DOCTOR_XDP_NONE, DOCTOR_XDP_DRV, DOCTOR_XDP_SKB, DOCTOR_XDP_HW, DOCTOR_XDP_NMODES };
/*
 * The XDP program on ifname in each mode, ids[DOCTOR_XDP_DRV..HW], 0 for
 * none: native and generic exclude each other, an offloaded one may run
 * beside either (XDP_ATTACHED_MULTI). 0, -ENODEV (no such interface) or -errno.
 */
int doctor_xdp_query(const char *ifname, __u32 ids[DOCTOR_XDP_NMODES]);
struct nlmsghdr;
/* The same from the kernel's RTM_NEWLINK answer (doctor_xdp_query's parser). */
void doctor_xdp_parse(const struct nlmsghdr *nlh, __u32 ids[DOCTOR_XDP_NMODES]);

struct doctor_route {
	int oif;
	char ifname[16];
	__be32 gateway[4]; /* the next hop: the gateway, or the address itself when on-link */
	bool has_gateway;
	__u32 locked_mtu;  /* a route's "mtu lock N", else 0 */
};
/* The kernel's route to addr: 0, -ENETUNREACH, or -errno. */
int doctor_route_get(const __be32 addr[4], struct doctor_route *r);
/* The neighbour entry of addr on ifindex: its NUD_* state, 0 if none, or -errno. */
int doctor_neigh_state(const __be32 addr[4], int ifindex);

#endif /* XLB_DOCTOR_H */
