// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include "route.h"

struct xlb_route {
	struct mnl_socket *nl;
	__u32 portid, seq, table;
	__u8 protocol;
};

static int is_v4(const __be32 addr[4])
{
	return !addr[0] && !addr[1] && addr[2] == htonl(0xffff);
}

int xlb_route_open(__u32 table, __u8 protocol, struct xlb_route **out)
{
	struct xlb_route *r = calloc(1, sizeof(*r));
	int ret;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->nl) {
		ret = -errno;
		goto err;
	}
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = time(NULL);
	r->table = table;
	r->protocol = protocol;
	*out = r;
	return 0;
err:
	xlb_route_close(r);
	return ret;
}

void xlb_route_close(struct xlb_route *r)
{
	if (!r)
		return;
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r);
}

/* The header of a request about addr/plen in r's table. */
static struct nlmsghdr *route_msg(struct xlb_route *r, char *buf, __u16 type, __u16 flags,
				  const __be32 addr[4], __u8 plen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int v4 = is_v4(addr);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++r->seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = v4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = plen;
	rtm->rtm_table = r->table < 256 ? r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (v4)
		mnl_attr_put(nlh, RTA_DST, 4, &addr[3]);
	else
		mnl_attr_put(nlh, RTA_DST, 16, addr);
	return nlh;
}

/* Send and wait for the kernel's answer: 0 or its negative errno. */
static int transact(struct xlb_route *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t len;
	int ret;

	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((len = mnl_socket_recvfrom(r->nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, len, nlh->nlmsg_seq, r->portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
	return len < 0 ? -errno : -EIO;
}

int xlb_route_add(struct xlb_route *r, const __be32 addr[4])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = route_msg(r, buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, addr,
			is_v4(addr) ? 32 : 128);
	mnl_attr_put_u32(nlh, RTA_OIF, if_nametoindex("lo") ?: 1);
	ret = transact(r, nlh, NULL, NULL);
	return ret == -EEXIST ? 0 : ret;
}

int xlb_route_del(struct xlb_route *r, const __be32 addr[4], __u8 plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	nlh = route_msg(r, buf, RTM_DELROUTE, 0, addr, plen);
	rtm = mnl_nlmsg_get_payload(nlh);
	/* any scope and type: a route of ours someone changed goes too */
	rtm->rtm_scope = RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_UNSPEC;
	ret = transact(r, nlh, NULL, NULL);
	return ret == -ESRCH || ret == -ENOENT ? 0 : ret;
}

struct list_ctx {
	struct xlb_route *r;
	xlb_route_cb cb;
	void *ctx;
};

static int on_route(const struct nlmsghdr *nlh, void *data)
{
	struct list_ctx *l = data;
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	__u32 table = rtm->rtm_table;
	const void *dst = NULL;
	struct nlattr *attr;
	__be32 addr[4] = {};

	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		if (mnl_attr_get_type(attr) == RTA_TABLE)
			table = mnl_attr_get_u32(attr);
		else if (mnl_attr_get_type(attr) == RTA_DST)
			dst = mnl_attr_get_payload(attr);
	}
	/* the kernel may send every table: ours alone, and our routes alone */
	if (table != l->r->table || rtm->rtm_protocol != l->r->protocol)
		return MNL_CB_OK;
	if (rtm->rtm_family == AF_INET) {
		addr[2] = htonl(0xffff);
		if (dst)
			memcpy(&addr[3], dst, 4);
	} else if (rtm->rtm_family == AF_INET6) {
		if (dst)
			memcpy(addr, dst, 16);
	} else {
		return MNL_CB_OK;
	}
	l->cb(l->ctx, addr, rtm->rtm_dst_len);
	return MNL_CB_OK;
}

static int list_family(struct xlb_route *r, int family, struct list_ctx *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++r->seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	return transact(r, nlh, on_route, l);
}

int xlb_route_list(struct xlb_route *r, xlb_route_cb cb, void *ctx)
{
	struct list_ctx l = { r, cb, ctx };

	return list_family(r, AF_INET, &l) ?: list_family(r, AF_INET6, &l);
}
