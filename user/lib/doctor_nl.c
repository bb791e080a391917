// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Netlink questions of xlbctl doctor (doctor.h): the XDP program on an
 * interface and its mode, the route to an address, a neighbour's state.
 * One request, one answer, on a socket of its own each time.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include "doctor.h"
#include "syntax.h"

/* Send nlh, run cb over the answer; 0, or -errno (the kernel's, from its ack). */
static int request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	unsigned int seq = (unsigned int)time(NULL), portid;
	int ret, rounds = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do { /* an answer, then the ack: a few reads at most */
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, ret, seq, portid, cb, data);
		if (ret < 0)
			ret = -errno;
	} while (ret > 0 && ++rounds < 16);
	if (ret > 0)
		ret = -ETIMEDOUT;
out:
	mnl_socket_close(nl);
	return ret;
}

struct xdp_answer {
	enum doctor_xdp mode; /* DOCTOR_XDP_NMODES: XDP_ATTACHED_MULTI */
	__u32 prog_id, *ids;
};

/*
 * With one mode the kernel sends IFLA_XDP_PROG_ID; with two (an offloaded
 * one beside, or before 5.9 native and generic at once) only the per-mode ids.
 */
static int on_xdp(const struct nlattr *attr, void *data)
{
	struct xdp_answer *x = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_validate(attr, type == IFLA_XDP_ATTACHED ? MNL_TYPE_U8 : MNL_TYPE_U32) < 0)
		return MNL_CB_OK; /* too short to read */
	switch (type) {
	case IFLA_XDP_ATTACHED:
		switch (mnl_attr_get_u8(attr)) {
		case XDP_ATTACHED_DRV: x->mode = DOCTOR_XDP_DRV; break;
		case XDP_ATTACHED_SKB: x->mode = DOCTOR_XDP_SKB; break;
		case XDP_ATTACHED_HW: x->mode = DOCTOR_XDP_HW; break;
		case XDP_ATTACHED_MULTI: x->mode = DOCTOR_XDP_NMODES; break;
		default: x->mode = DOCTOR_XDP_NONE; break;
		}
		break;
	case IFLA_XDP_PROG_ID:
		x->prog_id = mnl_attr_get_u32(attr);
		break;
	case IFLA_XDP_DRV_PROG_ID:
		x->ids[DOCTOR_XDP_DRV] = mnl_attr_get_u32(attr);
		break;
	case IFLA_XDP_SKB_PROG_ID:
		x->ids[DOCTOR_XDP_SKB] = mnl_attr_get_u32(attr);
		break;
	case IFLA_XDP_HW_PROG_ID:
		x->ids[DOCTOR_XDP_HW] = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

void doctor_xdp_parse(const struct nlmsghdr *nlh, __u32 ids[DOCTOR_XDP_NMODES])
{
	struct xdp_answer x = { .mode = DOCTOR_XDP_NONE, .ids = ids };
	struct nlattr *attr;

	memset(ids, 0, DOCTOR_XDP_NMODES * sizeof(ids[0]));
	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct ifinfomsg)))
		return;
	mnl_attr_for_each(attr, nlh, sizeof(struct ifinfomsg))
		if (mnl_attr_get_type(attr) == IFLA_XDP)
			mnl_attr_parse_nested(attr, on_xdp, &x);
	/* one mode and no per-mode id (an older kernel): the one id is that mode's */
	if (x.mode != DOCTOR_XDP_NONE && x.mode != DOCTOR_XDP_NMODES && !ids[x.mode])
		ids[x.mode] = x.prog_id;
}

static int on_link(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		doctor_xdp_parse(nlh, data);
	return MNL_CB_OK;
}

int doctor_xdp_query(const char *ifname, __u32 ids[DOCTOR_XDP_NMODES])
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	memset(ids, 0, DOCTOR_XDP_NMODES * sizeof(ids[0]));
	if (strlen(ifname) >= IFNAMSIZ)
		return -ENODEV;
	nlh->nlmsg_type = RTM_GETLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return request(nlh, on_link, ids);
}

static void addr_in(__be32 out[4], const void *p, int family)
{
	memset(out, 0, 16);
	if (family == AF_INET) {
		out[2] = htonl(0xffff);
		memcpy(&out[3], p, 4);
	} else {
		memcpy(out, p, 16);
	}
}

struct route_answer {
	struct doctor_route *r;
	int family, type;
	bool got;
};

static int on_metric(const struct nlattr *attr, void *data)
{
	__u32 *m = data; /* [0] RTAX_LOCK, [1] RTAX_MTU */

	if (mnl_attr_get_type(attr) == RTAX_LOCK)
		m[0] = mnl_attr_get_u32(attr);
	else if (mnl_attr_get_type(attr) == RTAX_MTU)
		m[1] = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int on_route(const struct nlmsghdr *nlh, void *data)
{
	struct route_answer *a = data;
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nlattr *attr;
	__u32 m[2] = { 0, 0 };

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	a->got = true;
	a->type = rtm->rtm_type;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(attr)) {
		case RTA_OIF:
			a->r->oif = mnl_attr_get_u32(attr);
			break;
		case RTA_GATEWAY:
			if (mnl_attr_get_payload_len(attr) == (a->family == AF_INET ? 4u : 16u)) {
				addr_in(a->r->gateway, mnl_attr_get_payload(attr), a->family);
				a->r->has_gateway = true;
			}
			break;
		case RTA_METRICS:
			mnl_attr_parse_nested(attr, on_metric, m);
			break;
		}
	}
	/* the FIB helper honours only a locked route MTU (README, L3 DSR) */
	if (m[0] & (1u << RTAX_MTU))
		a->r->locked_mtu = m[1];
	return MNL_CB_OK;
}

int doctor_route_get(const __be32 addr[4], struct doctor_route *r)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct route_answer a = { .r = r };
	struct rtmsg *rtm;
	int ret;

	memset(r, 0, sizeof(*r));
	a.family = xlb_addr_is_v4(addr) ? AF_INET : AF_INET6;
	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = a.family;
	rtm->rtm_dst_len = a.family == AF_INET ? 32 : 128;
	if (a.family == AF_INET)
		mnl_attr_put(nlh, RTA_DST, 4, &addr[3]);
	else
		mnl_attr_put(nlh, RTA_DST, 16, addr);
	ret = request(nlh, on_route, &a);
	if (ret == -ENETUNREACH || ret == -EHOSTUNREACH || (!ret && (!a.got || a.type != RTN_UNICAST)))
		return -ENETUNREACH;
	if (ret)
		return ret;
	if (!r->has_gateway)
		memcpy(r->gateway, addr, 16);
	if (!if_indextoname(r->oif, r->ifname))
		snprintf(r->ifname, sizeof(r->ifname), "ifindex %d", r->oif);
	return 0;
}

static int on_neigh(const struct nlmsghdr *nlh, void *data)
{
	struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWNEIGH)
		*(int *)data = ndm->ndm_state ? ndm->ndm_state : -1;
	return MNL_CB_OK;
}

int doctor_neigh_state(const __be32 addr[4], int ifindex)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;
	int state = 0, ret, v4 = xlb_addr_is_v4(addr);

	nlh->nlmsg_type = RTM_GETNEIGH;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = v4 ? AF_INET : AF_INET6;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, v4 ? 4 : 16, v4 ? &addr[3] : addr);
	ret = request(nlh, on_neigh, &state);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	return state < 0 ? 0 : state;
}
