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
#include "hash.h"
#include "neigh.h"

/* an ignored claim is reported again only if it changed, or after this long */
#define CLAIM_REPORT_GAP_S 60

/* One watched address: the kernel's route for it and the MAC on that route. */
struct watch {
	struct watch *next;
	__be32 addr[4];
	unsigned int refs;
	int route;   /* 0 (on-link via ifindex) or why not, as xlb_neigh_lookup returns */
	int ifindex; /* the interface the kernel routes addr through */
	int known;   /* mac is usable */
	int refused; /* the kernel's entry on ifindex is NOARP or not a unicast MAC */
	__u8 mac[6];
	int claim_ifindex; /* the last ignored claim reported */
	__u8 claim_mac[6];
	time_t claim_reported;
};

struct xlb_neigh {
	struct mnl_socket *events; /* neighbour and route changes */
	struct mnl_socket *query;  /* our own requests, answered in turn */
	unsigned int seq;
	struct xlb_evsrc src;
	xlb_neigh_cb cb;
	void *ctx;
	struct watch **buckets;
	size_t nbuckets, n;
	__u64 ignored;
};

/* A neighbour message, parsed. */
struct neigh_msg {
	__be32 addr[4];
	int ifindex;
	__u16 state;
	const __u8 *lladdr;
	int deleted;
};

static size_t bucket_of(const struct xlb_neigh *n, const __be32 addr[4])
{
	__u64 lo, hi;

	memcpy(&lo, addr, 8);
	memcpy(&hi, addr + 2, 8);
	return xlb_mix64(lo ^ xlb_mix64(hi)) & (n->nbuckets - 1);
}

static struct watch *find(const struct xlb_neigh *n, const __be32 addr[4])
{
	struct watch *w;

	for (w = n->buckets[bucket_of(n, addr)]; w; w = w->next)
		if (!memcmp(w->addr, addr, 16))
			return w;
	return NULL;
}

static int grow(struct xlb_neigh *n)
{
	size_t nb = n->nbuckets * 2, i, old = n->nbuckets;
	struct watch **b = calloc(nb, sizeof(*b)), **prev = n->buckets, *w;

	if (!b)
		return -ENOMEM;
	n->buckets = b;
	n->nbuckets = nb;
	for (i = 0; i < old; i++)
		while ((w = prev[i])) {
			prev[i] = w->next;
			w->next = b[bucket_of(n, w->addr)];
			b[bucket_of(n, w->addr)] = w;
		}
	free(prev);
	return 0;
}

static int is_v4(const __be32 addr[4])
{
	return !addr[0] && !addr[1] && addr[2] == htonl(0xffff);
}

/* States in which the link-layer address can be used to send. */
static int usable(__u16 state)
{
	return state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT);
}

static void report(struct xlb_neigh *n, const struct watch *w, int event, int ifindex,
		   const __u8 *mac)
{
	if (n->cb)
		n->cb(n->ctx, w->addr, event, ifindex, mac);
}

/* ---- requests to the kernel ---- */

/* Send nlh on the query socket and run cb on the answer. 0 or -errno. */
static int request(struct xlb_neigh *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(n->query);
	ssize_t len;
	int ret;

	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++n->seq;
	if (mnl_socket_sendto(n->query, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		len = mnl_socket_recvfrom(n->query, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		ret = mnl_cb_run(buf, len, n->seq, portid, cb, data);
		if (ret == MNL_CB_ERROR && errno == EPROTO)
			continue; /* the answer to an earlier request given up on */
		if (ret == MNL_CB_ERROR)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

struct route_answer {
	int ifindex;
	int gateway;
	__u8 type;
};

static int on_route_answer(const struct nlmsghdr *nlh, void *data)
{
	struct route_answer *r = data;
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	r->type = rtm->rtm_type;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		if (mnl_attr_get_type(attr) == RTA_OIF)
			r->ifindex = mnl_attr_get_u32(attr);
		else if (mnl_attr_get_type(attr) == RTA_GATEWAY ||
			 mnl_attr_get_type(attr) == RTA_VIA)
			r->gateway = 1;
	}
	return MNL_CB_STOP;
}

/* The kernel's route to w's address, as it would send there. */
static int route_of(struct xlb_neigh *n, struct watch *w, int *ifindex)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct route_answer r = {};
	struct rtmsg *rtm;
	int ret;

	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	if (is_v4(w->addr)) {
		rtm->rtm_family = AF_INET;
		rtm->rtm_dst_len = 32;
		mnl_attr_put(nlh, RTA_DST, 4, &w->addr[3]);
	} else {
		rtm->rtm_family = AF_INET6;
		rtm->rtm_dst_len = 128;
		mnl_attr_put(nlh, RTA_DST, 16, w->addr);
	}
	ret = request(n, nlh, on_route_answer, &r);
	*ifindex = r.ifindex;
	if (ret)
		return -ENETUNREACH;
	if (r.type != RTN_UNICAST)
		return -EADDRNOTAVAIL;
	return r.gateway ? -EREMOTE : 0;
}

static int parse_neigh(const struct nlmsghdr *nlh, struct neigh_msg *m)
{
	struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const void *dst = NULL;
	struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH)
		return -1;
	if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
		return -1;
	memset(m, 0, sizeof(*m));
	mnl_attr_for_each(attr, nlh, sizeof(*ndm)) {
		if (mnl_attr_get_type(attr) == NDA_DST &&
		    mnl_attr_get_payload_len(attr) == (ndm->ndm_family == AF_INET ? 4 : 16))
			dst = mnl_attr_get_payload(attr);
		else if (mnl_attr_get_type(attr) == NDA_LLADDR &&
			 mnl_attr_get_payload_len(attr) == 6)
			m->lladdr = mnl_attr_get_payload(attr);
	}
	if (!dst)
		return -1;
	if (ndm->ndm_family == AF_INET) {
		m->addr[2] = htonl(0xffff);
		memcpy(&m->addr[3], dst, 4);
	} else {
		memcpy(m->addr, dst, 16);
	}
	m->ifindex = ndm->ndm_ifindex;
	m->state = ndm->ndm_state;
	m->deleted = nlh->nlmsg_type == RTM_DELNEIGH;
	return 0;
}

/* The kernel's entry on the route's interface, as it is now: adopt it. */
static void adopt(struct watch *w, const struct neigh_msg *m)
{
	if (m->lladdr && usable(m->state) && !(m->lladdr[0] & 1)) {
		memcpy(w->mac, m->lladdr, 6);
		w->known = 1;
		w->refused = 0;
	} else if (m->lladdr && (usable(m->state) || (m->state & NUD_NOARP))) {
		w->known = 0; /* NOARP, or a multicast or broadcast MAC */
		w->refused = 1;
	} else if (m->state & NUD_FAILED) {
		w->known = 0;
		w->refused = 0;
	} /* else resolving: the MAC there was is still the best guess */
}

static int on_neigh_answer(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_msg m;

	if (!parse_neigh(nlh, &m))
		adopt(data, &m);
	return MNL_CB_STOP;
}

/* Ask the kernel for its entry for w's address on w's interface. */
static void neigh_of(struct xlb_neigh *n, struct watch *w)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;
	int v4 = is_v4(w->addr);

	nlh->nlmsg_type = RTM_GETNEIGH;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = v4 ? AF_INET : AF_INET6;
	ndm->ndm_ifindex = w->ifindex;
	mnl_attr_put(nlh, NDA_DST, v4 ? 4 : 16, v4 ? &w->addr[3] : w->addr);
	request(n, nlh, on_neigh_answer, w); /* -ENOENT: no entry, nothing known */
}

/*
 * Route and MAC of w asked anew (route changes, lost events); report when
 * they changed and report is set.
 */
static void refresh(struct xlb_neigh *n, struct watch *w, int report_change)
{
	struct watch was = *w;

	w->route = route_of(n, w, &w->ifindex);
	if (w->route != was.route || w->ifindex != was.ifindex) {
		w->known = 0;
		w->refused = 0;
	}
	if (!w->route)
		neigh_of(n, w);
	if (!report_change || (w->route == was.route && w->ifindex == was.ifindex &&
			       w->known == was.known && w->refused == was.refused &&
			       !memcmp(w->mac, was.mac, 6)))
		return;
	report(n, w, w->known ? XLB_NEIGH_KNOWN : XLB_NEIGH_LOST, w->ifindex, w->mac);
}

static void refresh_all(struct xlb_neigh *n)
{
	struct watch *w;
	size_t i;

	for (i = 0; i < n->nbuckets; i++)
		for (w = n->buckets[i]; w; w = w->next)
			refresh(n, w, 1);
}

/* ---- changes as they happen ---- */

/* An entry for a watched address on an interface it is not routed through. */
static void claim(struct xlb_neigh *n, struct watch *w, const struct neigh_msg *m)
{
	time_t now = time(NULL);

	if (m->deleted || !m->lladdr || !usable(m->state))
		return;
	n->ignored++;
	if (w->claim_ifindex == m->ifindex && !memcmp(w->claim_mac, m->lladdr, 6) &&
	    now - w->claim_reported < CLAIM_REPORT_GAP_S)
		return;
	w->claim_ifindex = m->ifindex;
	memcpy(w->claim_mac, m->lladdr, 6);
	w->claim_reported = now;
	report(n, w, XLB_NEIGH_IGNORED, m->ifindex, m->lladdr);
}

static void on_neigh_change(struct xlb_neigh *n, const struct neigh_msg *m)
{
	struct watch *w = find(n, m->addr);
	struct watch was;

	if (!w)
		return;
	if (w->route || m->ifindex != w->ifindex) {
		claim(n, w, m);
		return;
	}
	if (m->deleted) {
		/*
		 * Garbage collection (a full table: an ARP flood) deletes
		 * entries of backends that are still there: keep the MAC
		 * while the kernel resolves it again, which replaces it or
		 * fails and loses it.
		 */
		if (w->known)
			xlb_neigh_solicit(w->addr);
		return;
	}
	was = *w;
	adopt(w, m);
	if (w->known != was.known || (w->known && memcmp(w->mac, was.mac, 6)))
		report(n, w, w->known ? XLB_NEIGH_KNOWN : XLB_NEIGH_LOST, w->ifindex, w->mac);
}

struct event_batch {
	struct xlb_neigh *n;
	int routes_changed;
};

static int on_event(const struct nlmsghdr *nlh, void *data)
{
	struct event_batch *b = data;
	struct neigh_msg m;

	if (nlh->nlmsg_type == RTM_NEWROUTE || nlh->nlmsg_type == RTM_DELROUTE)
		b->routes_changed = 1;
	else if (!parse_neigh(nlh, &m))
		on_neigh_change(b->n, &m);
	return MNL_CB_OK;
}

static void on_events(struct xlb_evsrc *src, uint32_t events)
{
	struct event_batch b = { .n = src->ctx };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t len;

	(void)events;
	for (;;) {
		len = mnl_socket_recvfrom(b.n->events, buf, sizeof(buf));
		if (len < 0 && errno == ENOBUFS) {
			b.routes_changed = 1; /* events were lost: ask for everything anew */
			continue;
		}
		if (len <= 0)
			break; /* EAGAIN: all read */
		mnl_cb_run(buf, len, 0, 0, on_event, &b);
	}
	/* one look at the routes for a whole batch of route changes */
	if (b.routes_changed)
		refresh_all(b.n);
}

/* ---- the API ---- */

struct xlb_neigh *xlb_neigh_new(int epfd, xlb_neigh_cb cb, void *ctx)
{
	struct xlb_neigh *n = calloc(1, sizeof(*n));
	unsigned int groups = (1 << (RTNLGRP_NEIGH - 1)) | (1 << (RTNLGRP_IPV4_ROUTE - 1)) |
			      (1 << (RTNLGRP_IPV6_ROUTE - 1));
	struct timeval timeout = { .tv_sec = 1 };

	if (!n)
		return NULL;
	n->nbuckets = 64;
	n->buckets = calloc(n->nbuckets, sizeof(*n->buckets));
	n->events = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	n->query = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!n->buckets || !n->events || !n->query)
		goto err;
	if (mnl_socket_bind(n->events, groups, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(n->query, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	/* the kernel answers at once; never let a lost answer stall the daemon */
	if (setsockopt(mnl_socket_get_fd(n->query), SOL_SOCKET, SO_RCVTIMEO, &timeout,
		       sizeof(timeout)))
		goto err;
	n->seq = time(NULL);
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
	struct watch *w;
	size_t i;

	if (!n)
		return;
	if (n->events)
		mnl_socket_close(n->events);
	if (n->query)
		mnl_socket_close(n->query);
	for (i = 0; n->buckets && i < n->nbuckets; i++)
		while ((w = n->buckets[i])) {
			n->buckets[i] = w->next;
			free(w);
		}
	free(n->buckets);
	free(n);
}

int xlb_neigh_watch(struct xlb_neigh *n, const __be32 addr[4])
{
	struct watch *w = find(n, addr);
	size_t b;

	if (w) {
		w->refs++;
		return 0;
	}
	if (n->n >= n->nbuckets && grow(n))
		return -ENOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	memcpy(w->addr, addr, 16);
	w->refs = 1;
	b = bucket_of(n, addr);
	w->next = n->buckets[b];
	n->buckets[b] = w;
	n->n++;
	/* what the kernel knows now: nothing held from before the watch */
	refresh(n, w, 0);
	return 0;
}

void xlb_neigh_unwatch(struct xlb_neigh *n, const __be32 addr[4])
{
	struct watch **p, *w;

	for (p = &n->buckets[bucket_of(n, addr)]; (w = *p); p = &w->next) {
		if (memcmp(w->addr, addr, 16))
			continue;
		if (--w->refs)
			return;
		*p = w->next;
		free(w);
		n->n--;
		return;
	}
}

int xlb_neigh_lookup(struct xlb_neigh *n, const __be32 addr[4], int *ifindex,
		     __u8 mac[6])
{
	struct watch *w = find(n, addr);

	*ifindex = w ? w->ifindex : 0;
	if (!w)
		return -ENOENT;
	if (w->route)
		return w->route;
	if (w->refused)
		return -EPERM;
	if (!w->known)
		return -ENOENT;
	memcpy(mac, w->mac, 6);
	return 0;
}

void xlb_neigh_get_stats(const struct xlb_neigh *n, struct xlb_neigh_stats *s)
{
	s->entries = n->n;
	s->ignored = n->ignored;
}

void xlb_neigh_solicit(const __be32 addr[4])
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	int v4 = is_v4(addr);
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
