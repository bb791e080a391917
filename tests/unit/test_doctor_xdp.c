// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for doctor's reading of the kernel's RTM_NEWLINK answer
 * (user/lib/doctor_nl.c): the XDP program in each mode, also with two
 * attached (XDP_ATTACHED_MULTI), when the kernel sends only the per-mode
 * ids and no IFLA_XDP_PROG_ID.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "../../user/lib/doctor.h"

struct xdp_attr {
	int type;  /* 0 ends the list */
	__u32 val;
	int len;   /* 0: the type's own (1 for IFLA_XDP_ATTACHED, else 4) */
};

/* An RTM_NEWLINK message as the kernel's rtnl_xdp_fill() builds it, into buf. */
static struct nlmsghdr *link_msg(char *buf, const struct xdp_attr *a)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	struct nlattr *nest;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_index = 3;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
	nest = mnl_attr_nest_start(nlh, IFLA_XDP);
	for (; a->type; a++) {
		if (a->type == IFLA_XDP_ATTACHED)
			mnl_attr_put_u8(nlh, a->type, (__u8)a->val);
		else
			mnl_attr_put(nlh, a->type, a->len ? a->len : 4, &a->val);
	}
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	return nlh;
}

static void expect_ids(const struct xdp_attr *a, __u32 drv, __u32 skb, __u32 hw)
{
	char buf[512];
	__u32 ids[DOCTOR_XDP_NMODES];

	memset(ids, 0xff, sizeof(ids));
	doctor_xdp_parse(link_msg(buf, a), ids);
	assert_int_equal(ids[DOCTOR_XDP_NONE], 0);
	assert_int_equal(ids[DOCTOR_XDP_DRV], drv);
	assert_int_equal(ids[DOCTOR_XDP_SKB], skb);
	assert_int_equal(ids[DOCTOR_XDP_HW], hw);
}

/* generic beside an offloaded one: no IFLA_XDP_PROG_ID, each mode's id */
static void test_multi_generic_offload(void **state)
{
	static const struct xdp_attr a[] = {
		{ IFLA_XDP_SKB_PROG_ID, 5, 0 }, { IFLA_XDP_HW_PROG_ID, 7, 0 },
		{ IFLA_XDP_ATTACHED, XDP_ATTACHED_MULTI, 0 }, { 0, 0, 0 },
	};

	(void)state;
	expect_ids(a, 0, 5, 7);
}

/* native and generic at once, as kernels before 5.9 allowed */
static void test_multi_native_generic(void **state)
{
	static const struct xdp_attr a[] = {
		{ IFLA_XDP_SKB_PROG_ID, 6, 0 }, { IFLA_XDP_DRV_PROG_ID, 4, 0 },
		{ IFLA_XDP_ATTACHED, XDP_ATTACHED_MULTI, 0 }, { 0, 0, 0 },
	};

	(void)state;
	expect_ids(a, 4, 6, 0);
}

static void test_single(void **state)
{
	static const struct xdp_attr drv[] = {
		{ IFLA_XDP_DRV_PROG_ID, 9, 0 }, { IFLA_XDP_ATTACHED, XDP_ATTACHED_DRV, 0 },
		{ IFLA_XDP_PROG_ID, 9, 0 }, { 0, 0, 0 },
	};
	/* no per-mode id: the one id is the attached mode's */
	static const struct xdp_attr old_skb[] = {
		{ IFLA_XDP_ATTACHED, XDP_ATTACHED_SKB, 0 }, { IFLA_XDP_PROG_ID, 3, 0 }, { 0, 0, 0 },
	};
	static const struct xdp_attr none[] = {
		{ IFLA_XDP_ATTACHED, XDP_ATTACHED_NONE, 0 }, { 0, 0, 0 },
	};

	(void)state;
	expect_ids(drv, 9, 0, 0);
	expect_ids(old_skb, 0, 3, 0);
	expect_ids(none, 0, 0, 0);
}

/* an id shorter than a u32 is not read */
static void test_short_attr(void **state)
{
	static const struct xdp_attr a[] = {
		{ IFLA_XDP_ATTACHED, XDP_ATTACHED_MULTI, 0 }, { IFLA_XDP_DRV_PROG_ID, 8, 2 },
		{ IFLA_XDP_SKB_PROG_ID, 2, 0 }, { 0, 0, 0 },
	};

	(void)state;
	expect_ids(a, 0, 2, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multi_generic_offload),
		cmocka_unit_test(test_multi_native_generic),
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_short_attr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
