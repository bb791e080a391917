// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the names of enums (user/lib/names.c), the checks of a
 * VIP's and a backend's settings (user/lib/validate.c). state.json, read
 * through the same checks, has its own tests (test_state.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../user/lib/config.h"
#include "../../user/lib/lb.h"
#include "../../user/lib/names.h"
#include "../../user/lib/state.h"
#include "../../user/lib/syntax.h"
#include "../../user/lib/validate.h"
#include "unit_vip.h"

static void test_names(void **state)
{
	unsigned int v = 12345;
	char buf[64];

	(void)state;
	assert_string_equal(xlb_name_of(xlb_check_names, XLB_CHECK_HTTPS), "https");
	assert_string_equal(xlb_name_of(xlb_check_via_names, XLB_CHECK_VIA_VIP), "vip");
	assert_string_equal(xlb_name_of(xlb_admin_names, XLB_ADMIN_DRAIN), "drain");
	assert_string_equal(xlb_name_of(xlb_backend_state_names, XLB_BE_DISABLED), "disabled");
	assert_string_equal(xlb_name_of(xlb_sched_names, XLB_SCHED_SOURCE_HASH), "source-hash");
	assert_string_equal(xlb_name_of(xlb_forward_names, XLB_FWD_IPIP), "ipip");
	assert_string_equal(xlb_name_of(xlb_xdp_mode_names, XLB_XDP_GENERIC), "generic");
	assert_string_equal(xlb_name_of(xlb_check_names, 99), "?");
	assert_false(xlb_name_valid(xlb_check_names, 99));
	assert_true(xlb_name_valid(xlb_check_names, XLB_CHECK_NONE));

	assert_int_equal(xlb_value_of(xlb_backend_state_names, "down", &v), 0);
	assert_int_equal(v, XLB_BE_DOWN);
	assert_int_equal(xlb_value_of(xlb_admin_names, "Drain", &v), -EINVAL);
	assert_int_equal(xlb_value_of(xlb_admin_names, NULL, &v), -EINVAL);
	assert_int_equal(v, XLB_BE_DOWN);

	xlb_names_list(xlb_check_names, " or ", buf, sizeof(buf));
	assert_string_equal(buf, "none, tcp, http or https");
	xlb_names_list(xlb_forward_names, ", ", buf, sizeof(buf));
	assert_string_equal(buf, "l2dsr, ipip");
	xlb_names_list(xlb_check_names, " or ", buf, 8);
	assert_string_equal(buf, "none, t");
}

static void assert_vip_refused(const struct xlb_vip_cfg *v, const char *key, const char *msg)
{
	const char *got = NULL;
	char err[XLB_ERR_MAX] = "";

	assert_int_equal(xlb_vip_settings_check(v, &got, err, sizeof(err)), -EINVAL);
	assert_non_null(got);
	assert_string_equal(got, key);
	assert_string_equal(err, msg);
}

/* One setting of the defaults changed (a __u8 or a __u32), and the verdict. */
struct vip_case {
	size_t off, size;
	__u32 value;
	const char *key, *msg;
};

#define VIP_FIELD(f) offsetof(struct xlb_vip_cfg, f), sizeof(((struct xlb_vip_cfg *)0)->f)

static void test_vip_settings(void **state)
{
	static const struct vip_case one_off[] = {
		{ VIP_FIELD(health.timeout_ms), 2000, "health.timeout",
		  "timeout 2s must be less than interval 2s" },
		{ VIP_FIELD(health.timeout_ms), 5, "health.timeout", "out of range (10ms..1h) '5ms'" },
		{ VIP_FIELD(health.rise), 0, "health.rise", "out of range (1..100) '0'" },
		{ VIP_FIELD(health.fall), 101, "health.fall", "out of range (1..100) '101'" },
		{ VIP_FIELD(health.kind), 7, "health.check", "bad check (none, tcp, http or https)" },
		{ VIP_FIELD(sched), 9, "scheduler", "bad scheduler (maglev, source-hash, rr, wrr, lc, wlc or lt)" },
		{ VIP_FIELD(forward), 9, "forward", "bad forwarding mode (l2dsr, ipip)" },
		{ VIP_FIELD(health.via), 2, "health.via", "bad via (backend or vip)" },
	};
	struct xlb_vip_cfg v;
	char err[XLB_ERR_MAX];
	const char *key;
	size_t i;

	(void)state;
	vip_default(&v);
	assert_int_equal(xlb_vip_settings_check(&v, &key, err, sizeof(err)), 0);

	/* the control socket took this; every later backend add on the VIP failed */
	v.health.kind = XLB_CHECK_HTTP;
	strcpy(v.health.path, "/a b");
	assert_vip_refused(&v, "health.path",
			   "bad path (no spaces or control characters) '/a b'");
	strcpy(v.health.path, "/a\tb");
	assert_vip_refused(&v, "health.path",
			   "bad path (no spaces or control characters) '/a?b'");
	strcpy(v.health.path, "healthz");
	assert_vip_refused(&v, "health.path", "bad path (must start with '/') 'healthz'");
	memset(v.health.path, 'a', sizeof(v.health.path));
	assert_vip_refused(&v, "health.path", "path too long (max 255 chars)");

	vip_default(&v);
	v.health.interval_ms = 50;
	v.health.timeout_ms = 20;
	assert_vip_refused(&v, "health.interval", "out of range (100ms..1h) '50ms'");
	for (i = 0; i < sizeof(one_off) / sizeof(one_off[0]); i++) {
		const struct vip_case *c = &one_off[i];

		vip_default(&v);
		if (c->size == sizeof(__u8))
			*((__u8 *)&v + c->off) = (__u8)c->value;
		else
			memcpy((char *)&v + c->off, &c->value, sizeof(c->value));
		assert_vip_refused(&v, c->key, c->msg);
	}

	/* through the VIP: l2dsr only, the route's next hop is the backend itself */
	vip_default(&v);
	v.health.via = XLB_CHECK_VIA_VIP;
	assert_int_equal(xlb_vip_settings_check(&v, &key, err, sizeof(err)), 0);
	v.forward = XLB_FWD_IPIP;
	assert_vip_refused(&v, "health.via",
			   "via vip needs forward l2dsr (an ipip check would have to be encapsulated)");
	v.health.via = XLB_CHECK_VIA_BACKEND;
	assert_int_equal(xlb_vip_settings_check(&v, &key, err, sizeof(err)), 0);
}

/* The cap of health.via: vip: distinct addresses, each for its lowest owner. */
static void test_addrs_over(void **state)
{
	struct xlb_addr_owner e[8];
	__u32 distinct, i;

	(void)state;
	memset(e, 0, sizeof(e));
	/* owners 2, 0, 1, 1, 0, 2 over addresses 1, 1, 2, 3, 4, 5 */
	static const __u32 addr[] = { 1, 1, 2, 3, 4, 5 }, owner[] = { 2, 0, 1, 1, 0, 2 };

	for (i = 0; i < 6; i++) {
		e[i].addr[3] = addr[i];
		e[i].idx = owner[i];
	}
	assert_int_equal(xlb_addrs_over(e, 6, 5, &distinct), ~0u);
	assert_int_equal(distinct, 5);
	for (i = 0; i < 6; i++) {
		memset(e[i].addr, 0, sizeof(e[i].addr));
		e[i].addr[3] = addr[i];
		e[i].idx = owner[i];
	}
	/* owner 0: addresses 1 and 4; owner 1: 2 and 3 (the 3rd and 4th); so 1 passes 3 */
	assert_int_equal(xlb_addrs_over(e, 6, 3, &distinct), 1);
	assert_int_equal(distinct, 5);
	for (i = 0; i < 6; i++) {
		memset(e[i].addr, 0, sizeof(e[i].addr));
		e[i].addr[3] = addr[i];
		e[i].idx = owner[i];
	}
	/* address 1 counts for owner 0 (its lowest), not for owner 2 */
	assert_int_equal(xlb_addrs_over(e, 6, 4, &distinct), 2);
	assert_int_equal(xlb_addrs_over(e, 0, 0, &distinct), ~0u);
	assert_int_equal(distinct, 0);
}

static void assert_backend_refused(const struct xlb_backend_cfg *b,
				   const struct xlb_vip_cfg *v, const char *key,
				   const char *msg)
{
	const char *got = NULL;
	char err[XLB_ERR_MAX] = "";

	assert_int_equal(xlb_backend_settings_check(b, v, &got, err, sizeof(err)), -EINVAL);
	assert_non_null(got);
	assert_string_equal(got, key);
	assert_string_equal(err, msg);
}

static void test_backend_settings(void **state)
{
	struct xlb_backend_cfg b = { .weight = XLB_WEIGHT_DEFAULT };
	struct xlb_vip_cfg v;
	char err[XLB_ERR_MAX];
	const char *key;

	(void)state;
	vip_default(&v);
	assert_int_equal(xlb_parse_addr("198.18.1.1", b.addr, err, sizeof(err)), 0);
	assert_int_equal(xlb_backend_settings_check(&b, &v, &key, err, sizeof(err)), 0);

	b.weight = 0;	/* drains, as in IPVS */
	assert_int_equal(xlb_backend_settings_check(&b, &v, &key, err, sizeof(err)), 0);
	b.weight = 65536;
	assert_backend_refused(&b, &v, "weight", "out of range (0..65535) '65536'");
	b.weight = 1;
	b.admin = 3;
	assert_backend_refused(&b, &v, "state", "bad state (enabled, drain or disabled)");
	b.admin = XLB_ADMIN_DISABLED;
	/* an override against the VIP's interval of 2s */
	b.timeout_ms = 3000;
	assert_backend_refused(&b, &v, "health.timeout",
			       "timeout 3s must be less than interval 2s");
	b.interval_ms = 5000;
	assert_int_equal(xlb_backend_settings_check(&b, &v, &key, err, sizeof(err)), 0);
	b.interval_ms = b.timeout_ms = 0;
	b.rise = 200;
	assert_backend_refused(&b, &v, "health.rise", "out of range (1..100) '200'");
	b.rise = 0;
	assert_int_equal(xlb_parse_addr("2001:db8::1", b.addr, err, sizeof(err)), 0);
	assert_backend_refused(&b, &v, "address",
			       "IPv6 backend for an IPv4 VIP (only forward ipip carries one)");
	v.forward = XLB_FWD_IPIP;
	assert_int_equal(xlb_backend_settings_check(&b, &v, &key, err, sizeof(err)), 0);
}

/* weight 0 drains an enabled backend; the admin state otherwise stands. */
static void test_backend_admin(void **state)
{
	static const struct { __u32 weight, admin, want; } cases[] = {
		{ 0, XLB_ADMIN_ENABLED, XLB_ADMIN_DRAIN },
		{ 0, XLB_ADMIN_DRAIN, XLB_ADMIN_DRAIN },
		{ 0, XLB_ADMIN_DISABLED, XLB_ADMIN_DISABLED },
		{ 1, XLB_ADMIN_ENABLED, XLB_ADMIN_ENABLED },
		{ 1, XLB_ADMIN_DRAIN, XLB_ADMIN_DRAIN },
		{ 1, XLB_ADMIN_DISABLED, XLB_ADMIN_DISABLED },
	};
	struct xlb_backend_cfg b = {};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b.weight = cases[i].weight;
		b.admin = cases[i].admin;
		assert_int_equal(xlb_backend_admin(&b), cases[i].want);
	}
}

static void test_unicast(void **state)
{
	static const char *const refused[] = {
		"224.0.0.5", "239.255.255.255", "255.255.255.255", "0.0.0.0", "0.1.2.3",
		"127.0.0.1", "127.255.255.254", "ff02::1", "ff0e::1", "::", "::1",
	};
	static const char *const taken[] = {
		"1.0.0.0", "126.255.255.255", "128.0.0.1", "198.18.0.1", "223.255.255.255",
		"255.255.255.254", "2001:db8::1", "::2", "fe80::1", "fe00::1",
	};
	struct xlb_backend_cfg b = { .weight = XLB_WEIGHT_DEFAULT };
	struct xlb_vip_cfg v;
	char err[XLB_ERR_MAX], want[XLB_ERR_MAX];
	const char *key;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(want, sizeof(want), "not a unicast address '%s'", refused[i]);
		vip_default(&v);
		assert_int_equal(xlb_parse_addr(refused[i], v.key.addr, err, sizeof(err)), 0);
		assert_vip_refused(&v, "vip", want);
		vip_default(&v);
		v.forward = XLB_FWD_IPIP;	/* either family */
		assert_int_equal(xlb_parse_addr(refused[i], b.addr, err, sizeof(err)), 0);
		assert_backend_refused(&b, &v, "address", want);
		assert_int_equal(xlb_unicast_check(b.addr, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, want);
	}
	for (i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		vip_default(&v);
		assert_int_equal(xlb_parse_addr(taken[i], v.key.addr, err, sizeof(err)), 0);
		if (xlb_vip_settings_check(&v, &key, err, sizeof(err)))
			fail_msg("VIP %s refused: %s", taken[i], err);
		v.forward = XLB_FWD_IPIP;
		assert_int_equal(xlb_parse_addr(taken[i], b.addr, err, sizeof(err)), 0);
		if (xlb_backend_settings_check(&b, &v, &key, err, sizeof(err)))
			fail_msg("backend %s refused: %s", taken[i], err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_vip_settings),
		cmocka_unit_test(test_addrs_over),
		cmocka_unit_test(test_backend_settings),
		cmocka_unit_test(test_backend_admin),
		cmocka_unit_test(test_unicast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
