// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Rules and routes for health checks through the VIP (see via.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include "attach.h"		/* xlb_flock_holder */
#include "via.h"

/* what a flush collects before it removes: bounded, a second flush takes the rest */
#define FLUSH_MAX	(4 * XLB_VIA_MAX + 1024)

struct xlb_via {
	struct mnl_socket *nl;
	__u32 portid, seq;
};

static int is_v4(const __be32 a[4])
{
	return !a[0] && !a[1] && a[2] == htonl(0xffff);
}

static int ours_table(__u32 t)
{
	return t >= XLB_VIA_BASE && t < XLB_VIA_BASE + XLB_VIA_MAX;
}

int xlb_via_lock(char *err, size_t errlen)
{
	long pid;
	int fd, ret;

	/* the namespace itself is the lock: no file to lose (systemd empties /run/xlb at a stop) */
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open /proc/self/ns/net: %s", strerror(-ret));
		return ret;
	}
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
	pid = ret == -EBUSY ? xlb_flock_holder(fd) : 0;
	close(fd);
	if (ret != -EBUSY)
		snprintf(err, errlen, "cannot lock /proc/self/ns/net: %s", strerror(-ret));
	else if (pid)
		snprintf(err, errlen, "another xlbd (pid %ld) holds the rules of checks via the VIP "
			 "in this network namespace: one xlbd per namespace has them", pid);
	else
		snprintf(err, errlen, "another xlbd holds the rules of checks via the VIP in this "
			 "network namespace: one xlbd per namespace has them");
	return ret;
}

int xlb_via_open(struct xlb_via **out)
{
	struct timeval tmo = { .tv_sec = 2 };
	struct xlb_via *v = calloc(1, sizeof(*v));
	int ret;

	*out = NULL;
	if (!v)
		return -ENOMEM;
	v->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!v->nl || mnl_socket_bind(v->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		xlb_via_close(v);
		return ret;
	}
	/* an answer that never comes must not hold xlbd's loop */
	if (setsockopt(mnl_socket_get_fd(v->nl), SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo))) {
		ret = -errno;
		xlb_via_close(v);
		return ret;
	}
	v->portid = mnl_socket_get_portid(v->nl);
	v->seq = time(NULL);
	*out = v;
	return 0;
}

void xlb_via_close(struct xlb_via *v)
{
	if (!v)
		return;
	if (v->nl)
		mnl_socket_close(v->nl);
	free(v);
}

/* Send and wait for the kernel's answer: 0 or its negative errno. */
#define STALE_MAX 64 /* answers to earlier requests read past */

static int transact(struct xlb_via *v, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret, stale = 0;
	ssize_t len;

	nlh->nlmsg_seq = ++v->seq;
	if (mnl_socket_sendto(v->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((len = mnl_socket_recvfrom(v->nl, buf, sizeof(buf))) > 0) {
		const struct nlmsghdr *got = (const struct nlmsghdr *)buf;

		/*
		 * Another sequence number: the answer to an earlier request that
		 * gave up; ours follows (each answer is a datagram of its own).
		 * Bounded. Any error with ours (ESRCH: no such route, too) is the
		 * answer.
		 */
		if ((size_t)len >= sizeof(*got) && got->nlmsg_seq && got->nlmsg_seq != nlh->nlmsg_seq &&
		    stale++ < STALE_MAX)
			continue;
		ret = mnl_cb_run(buf, len, nlh->nlmsg_seq, v->portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
	return len < 0 ? -errno : -EIO;
}

static void put_addr(struct nlmsghdr *nlh, __u16 type, const __be32 a[4])
{
	if (is_v4(a))
		mnl_attr_put(nlh, type, 4, &a[3]);
	else
		mnl_attr_put(nlh, type, 16, a);
}

static struct nlmsghdr *rule_msg(char *buf, __u16 type, __u16 flags, __u32 slot, int v4)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = v4 ? AF_INET : AF_INET6;
	frh->action = FR_ACT_TO_TBL;
	mnl_attr_put_u32(nlh, FRA_TABLE, XLB_VIA_BASE + slot);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, XLB_VIA_PREF);
	mnl_attr_put_u32(nlh, FRA_FWMARK, XLB_VIA_BASE + slot);
	mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffff);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, XLB_VIA_PROTO);
	return nlh;
}

static struct nlmsghdr *route_msg(char *buf, __u16 type, __u16 flags, __u32 slot, int v4,
				  __u8 plen, __u8 rtype)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = v4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = plen;
	rtm->rtm_table = RT_TABLE_UNSPEC; /* above 255: in RTA_TABLE */
	rtm->rtm_protocol = XLB_VIA_PROTO;
	rtm->rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
	rtm->rtm_type = type == RTM_DELROUTE ? RTN_UNSPEC : rtype;
	mnl_attr_put_u32(nlh, RTA_TABLE, XLB_VIA_BASE + slot);
	return nlh;
}

static int absent_ok(int ret)
{
	return ret == -ENOENT || ret == -ESRCH ? 0 : ret;
}

int xlb_via_slot(struct xlb_via *v, __u32 slot, int v4, int add)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int ret, r2;

	if (slot >= XLB_VIA_MAX)
		return -EINVAL;
	if (add) {
		/* the unreachable default first: the rule never leads to an empty table */
		nlh = route_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, slot, v4, 0,
				RTN_UNREACHABLE);
		ret = transact(v, nlh, NULL, NULL);
		if (ret)
			return ret;
		nlh = rule_msg(buf, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, slot, v4);
		ret = transact(v, nlh, NULL, NULL);
		return ret == -EEXIST ? 0 : ret;
	}
	nlh = rule_msg(buf, RTM_DELRULE, 0, slot, v4);
	ret = absent_ok(transact(v, nlh, NULL, NULL));
	nlh = route_msg(buf, RTM_DELROUTE, 0, slot, v4, 0, RTN_UNREACHABLE);
	r2 = absent_ok(transact(v, nlh, NULL, NULL));
	return ret ?: r2;
}

int xlb_via_route(struct xlb_via *v, __u32 slot, const __be32 vip[4], const __be32 gw[4],
		  int ifindex, int add)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int v4 = is_v4(vip);

	if (slot >= XLB_VIA_MAX || v4 != is_v4(gw))
		return -EINVAL;
	nlh = route_msg(buf, add ? RTM_NEWROUTE : RTM_DELROUTE,
			add ? NLM_F_CREATE | NLM_F_REPLACE : 0, slot, v4, v4 ? 32 : 128,
			RTN_UNICAST);
	put_addr(nlh, RTA_DST, vip);
	if (!add)
		return absent_ok(transact(v, nlh, NULL, NULL));
	put_addr(nlh, RTA_GATEWAY, gw);
	mnl_attr_put_u32(nlh, RTA_OIF, (__u32)ifindex);
	return transact(v, nlh, NULL, NULL);
}

/* ---- flush: what a dump shows of ours, sent back as deletions ---------- */

struct collected {
	struct nlmsghdr **msgs;
	unsigned int n, cap;
	int err;	/* a copy failed: the dump is still read to its end, then this */
};

/*
 * A copy of nlh to send back as a deletion. Never MNL_CB_ERROR: that would
 * leave the rest of the dump in the socket for the next request to read.
 */
static int keep(struct collected *c, const struct nlmsghdr *nlh)
{
	struct nlmsghdr *copy;

	if (c->n >= FLUSH_MAX || c->err)
		return MNL_CB_OK;
	if (c->n == c->cap) {
		unsigned int cap = c->cap ? c->cap * 2 : 64;
		void *p = realloc(c->msgs, cap * sizeof(*c->msgs));

		if (!p) {
			c->err = -ENOMEM;
			return MNL_CB_OK;
		}
		c->msgs = p;
		c->cap = cap;
	}
	/* mnl_cb_run checked nlmsg_len against what was received */
	copy = malloc(nlh->nlmsg_len);
	if (!copy) {
		c->err = -ENOMEM;
		return MNL_CB_OK;
	}
	memcpy(copy, nlh, nlh->nlmsg_len);
	c->msgs[c->n++] = copy;
	return MNL_CB_OK;
}

/* attr's value as a u32 (or u8), if it is one: 0, or -1 for a malformed attribute */
static int attr_u32(const struct nlattr *attr, __u32 *out)
{
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return -1;
	*out = mnl_attr_get_u32(attr);
	return 0;
}

/* Rules and routes of a dump that are malformed are skipped: not ours to delete. */
static int on_rule(const struct nlmsghdr *nlh, void *data)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	__u32 table, prio = 0;
	struct nlattr *attr;
	int proto = -1;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*frh))
		return MNL_CB_OK;
	table = frh->table;
	mnl_attr_for_each(attr, nlh, sizeof(*frh)) {
		switch (mnl_attr_get_type(attr)) {
		case FRA_TABLE:
			if (attr_u32(attr, &table))
				return MNL_CB_OK;
			break;
		case FRA_PRIORITY:
			if (attr_u32(attr, &prio))
				return MNL_CB_OK;
			break;
		case FRA_PROTOCOL:
			if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
				return MNL_CB_OK;
			proto = mnl_attr_get_u8(attr);
			break;
		}
	}
	if (!ours_table(table) || prio != XLB_VIA_PREF || proto != XLB_VIA_PROTO)
		return MNL_CB_OK;
	return keep(data, nlh);
}

static int on_route(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nlattr *attr;
	__u32 table;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	table = rtm->rtm_table;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm))
		if (mnl_attr_get_type(attr) == RTA_TABLE && attr_u32(attr, &table))
			return MNL_CB_OK;
	if (!ours_table(table) || rtm->rtm_protocol != XLB_VIA_PROTO)
		return MNL_CB_OK;
	return keep(data, nlh);
}

static int dump(struct xlb_via *v, __u16 type, int family, struct collected *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (type == RTM_GETRULE) {
		struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));

		frh->family = family;
	} else {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = family;
	}
	return transact(v, nlh, type == RTM_GETRULE ? on_rule : on_route, c) ?: c->err;
}

/* What a dump of both families shows of ours of one kind (rules, routes), deleted. */
static int flush_kind(struct xlb_via *v, __u16 get, __u16 del, struct collected *c,
		      unsigned int *removed)
{
	static const int families[] = { AF_INET, AF_INET6 };
	unsigned int i, f;
	int ret = 0, r;

	for (f = 0; f < 2 && !ret; f++)
		ret = dump(v, get, families[f], c);
	for (i = 0; i < c->n && !ret; i++) {
		c->msgs[i]->nlmsg_type = del;
		c->msgs[i]->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		r = absent_ok(transact(v, c->msgs[i], NULL, NULL));
		if (!r)
			(*removed)++;
		ret = ret ?: r;
	}
	for (i = 0; i < c->n; i++)
		free(c->msgs[i]);
	c->n = 0;
	return ret;
}

int xlb_via_flush(struct xlb_via *v, unsigned int *removed)
{
	struct collected c = {};
	int ret;

	*removed = 0;
	/* rules first, so no marked socket meets a table half emptied */
	ret = flush_kind(v, RTM_GETRULE, RTM_DELRULE, &c, removed);
	ret = ret ?: flush_kind(v, RTM_GETROUTE, RTM_DELROUTE, &c, removed);
	free(c.msgs);
	return ret;
}
