// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Rules and routes for health checks through the VIP (see via.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
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

int xlb_via_open(struct xlb_via **out)
{
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
static int transact(struct xlb_via *v, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t len;
	int ret;

	nlh->nlmsg_seq = ++v->seq;
	if (mnl_socket_sendto(v->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((len = mnl_socket_recvfrom(v->nl, buf, sizeof(buf))) > 0) {
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
	int rules;
};

static int keep(struct collected *c, const struct nlmsghdr *nlh)
{
	struct nlmsghdr *copy;

	if (c->n >= FLUSH_MAX)
		return MNL_CB_OK;
	if (c->n == c->cap) {
		unsigned int cap = c->cap ? c->cap * 2 : 64;
		void *p = realloc(c->msgs, cap * sizeof(*c->msgs));

		if (!p)
			return MNL_CB_ERROR;
		c->msgs = p;
		c->cap = cap;
	}
	copy = malloc(nlh->nlmsg_len);
	if (!copy)
		return MNL_CB_ERROR;
	memcpy(copy, nlh, nlh->nlmsg_len);
	c->msgs[c->n++] = copy;
	return MNL_CB_OK;
}

static int on_rule(const struct nlmsghdr *nlh, void *data)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	__u32 table = frh->table, prio = 0;
	struct nlattr *attr;
	int proto = -1;

	mnl_attr_for_each(attr, nlh, sizeof(*frh)) {
		switch (mnl_attr_get_type(attr)) {
		case FRA_TABLE:
			table = mnl_attr_get_u32(attr);
			break;
		case FRA_PRIORITY:
			prio = mnl_attr_get_u32(attr);
			break;
		case FRA_PROTOCOL:
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
	__u32 table = rtm->rtm_table;
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(*rtm))
		if (mnl_attr_get_type(attr) == RTA_TABLE)
			table = mnl_attr_get_u32(attr);
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
	return transact(v, nlh, type == RTM_GETRULE ? on_rule : on_route, c);
}

int xlb_via_flush(struct xlb_via *v, unsigned int *removed)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct collected c = {};
	unsigned int i, f;
	int ret = 0, r;

	*removed = 0;
	/* rules first, so no marked socket meets a table half emptied */
	for (f = 0; f < 2 && !ret; f++)
		ret = dump(v, RTM_GETRULE, families[f], &c);
	for (i = 0; i < c.n && !ret; i++) {
		c.msgs[i]->nlmsg_type = RTM_DELRULE;
		c.msgs[i]->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		r = absent_ok(transact(v, c.msgs[i], NULL, NULL));
		if (!r)
			(*removed)++;
		ret = ret ?: r;
	}
	for (i = 0; i < c.n; i++)
		free(c.msgs[i]);
	c.n = 0;
	for (f = 0; f < 2 && !ret; f++)
		ret = dump(v, RTM_GETROUTE, families[f], &c);
	for (i = 0; i < c.n && !ret; i++) {
		c.msgs[i]->nlmsg_type = RTM_DELROUTE;
		c.msgs[i]->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		r = absent_ok(transact(v, c.msgs[i], NULL, NULL));
		if (!r)
			(*removed)++;
		ret = ret ?: r;
	}
	for (i = 0; i < c.n; i++)
		free(c.msgs[i]);
	free(c.msgs);
	return ret;
}
