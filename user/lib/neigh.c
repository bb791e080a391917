// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include "neigh.h"

struct neigh_entry {
	__be32 addr[4];
	int ifindex;
	__u8 mac[6];
};

struct xlb_neigh {
	struct mnl_socket *events;
	struct xlb_evsrc src;
	xlb_neigh_cb cb;
	void *ctx;
	struct neigh_entry *entries;
	size_t n, cap;
};

static struct neigh_entry *find(struct xlb_neigh *n, const __be32 addr[4])
{
	size_t i;

	for (i = 0; i < n->n; i++)
		if (!memcmp(n->entries[i].addr, addr, 16))
			return &n->entries[i];
	return NULL;
}

/* States in which the link-layer address can be used to send. */
static int usable(__u16 state)
{
	return state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
			NUD_PERMANENT | NUD_NOARP);
}

static void forget(struct xlb_neigh *n, struct neigh_entry *e, int report)
{
	__be32 addr[4];

	memcpy(addr, e->addr, 16);
	*e = n->entries[--n->n];
	if (report && n->cb)
		n->cb(n->ctx, addr, 0, 0, NULL);
}

static int on_neigh(const struct nlmsghdr *nlh, void *data)
{
	struct xlb_neigh *n = data;
	struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct nlattr *attr;
	const void *dst = NULL, *lladdr = NULL;
	struct neigh_entry *e;
	__be32 addr[4] = {};

	if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ndm)) {
		if (mnl_attr_get_type(attr) == NDA_DST)
			dst = mnl_attr_get_payload(attr);
		else if (mnl_attr_get_type(attr) == NDA_LLADDR &&
			 mnl_attr_get_payload_len(attr) == 6)
			lladdr = mnl_attr_get_payload(attr);
	}
	if (!dst)
		return MNL_CB_OK;
	if (ndm->ndm_family == AF_INET) {
		addr[2] = htonl(0xffff);
		memcpy(&addr[3], dst, 4);
	} else {
		memcpy(addr, dst, 16);
	}
	e = find(n, addr);

	/*
	 * A deleted entry (garbage collection) keeps its last MAC: the backend
	 * is most likely still there. A failed resolution does not.
	 */
	if (nlh->nlmsg_type == RTM_DELNEIGH)
		return MNL_CB_OK;
	if (!lladdr || !usable(ndm->ndm_state)) {
		if (e && (ndm->ndm_state & NUD_FAILED))
			forget(n, e, 1);
		return MNL_CB_OK;
	}
	if (e && e->ifindex == ndm->ndm_ifindex && !memcmp(e->mac, lladdr, 6))
		return MNL_CB_OK;
	if (!e) {
		if (n->n == n->cap) {
			size_t cap = n->cap ? n->cap * 2 : 64;
			void *p = realloc(n->entries, cap * sizeof(*n->entries));

			if (!p)
				return MNL_CB_ERROR;
			n->entries = p;
			n->cap = cap;
		}
		e = &n->entries[n->n++];
		memcpy(e->addr, addr, 16);
	}
	e->ifindex = ndm->ndm_ifindex;
	memcpy(e->mac, lladdr, 6);
	if (n->cb)
		n->cb(n->ctx, e->addr, 1, e->ifindex, e->mac);
	return MNL_CB_OK;
}

static void on_events(struct xlb_evsrc *src, uint32_t events)
{
	struct xlb_neigh *n = src->ctx;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t len;

	(void)events;
	for (;;) {
		len = mnl_socket_recvfrom(n->events, buf, sizeof(buf));
		if (len <= 0)
			return; /* EAGAIN; ENOBUFS just loses events we resync on next change */
		mnl_cb_run(buf, len, 0, 0, on_neigh, n);
	}
}

static int dump(struct xlb_neigh *n, int family)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	unsigned int seq = time(NULL), portid;
	ssize_t len;
	int ret = 0;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	while ((len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, len, seq, portid, on_neigh, n);
		if (ret <= MNL_CB_STOP)
			break;
	}
	ret = ret < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return ret;
}

struct xlb_neigh *xlb_neigh_new(int epfd, xlb_neigh_cb cb, void *ctx)
{
	struct xlb_neigh *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->events = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!n->events)
		goto err;
	if (mnl_socket_bind(n->events, (1 << (RTNLGRP_NEIGH - 1)), MNL_SOCKET_AUTOPID) < 0)
		goto err;
	/* dump without callbacks: the daemon asks with lookup when it adds backends */
	if (dump(n, AF_INET) || dump(n, AF_INET6))
		goto err;
	n->cb = cb;
	n->ctx = ctx;
	if (xlb_ev_add(epfd, &n->src, mnl_socket_get_fd(n->events), EPOLLIN, on_events, n))
		goto err;
	return n;
err:
	xlb_neigh_free(n);
	return NULL;
}

void xlb_neigh_free(struct xlb_neigh *n)
{
	if (!n)
		return;
	if (n->events)
		mnl_socket_close(n->events);
	free(n->entries);
	free(n);
}

int xlb_neigh_lookup(struct xlb_neigh *n, const __be32 addr[4], int *ifindex,
		     __u8 mac[6])
{
	struct neigh_entry *e = find(n, addr);

	if (!e)
		return -ENOENT;
	*ifindex = e->ifindex;
	memcpy(mac, e->mac, 6);
	return 0;
}

void xlb_neigh_solicit(const __be32 addr[4])
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	int v4 = !addr[0] && !addr[1] && addr[2] == htonl(0xffff);
	int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (v4) {
		sin.sin_addr.s_addr = addr[3];
		sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		memcpy(&sin6.sin6_addr, addr, 16);
		sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	close(fd);
}
