// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the names of enums (user/lib/names.c), the checks of a
 * VIP's and a backend's settings (user/lib/validate.c) and state.json,
 * which is read through the same checks as the config file.
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

static void test_names(void **state)
{
	unsigned int v = 12345;
	char buf[64];

	(void)state;
	assert_string_equal(xlb_name_of(xlb_check_names, XLB_CHECK_HTTPS), "https");
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

static void vip_default(struct xlb_vip_cfg *v)
{
	char err[64];

	memset(v, 0, sizeof(*v));
	assert_int_equal(xlb_parse_vip("198.18.0.10:80/tcp", &v->key, err, sizeof(err)), 0);
	xlb_health_cfg_default(&v->health);
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

static void test_vip_settings(void **state)
{
	struct xlb_vip_cfg v;
	char err[XLB_ERR_MAX];
	const char *key;

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
	v.health.timeout_ms = 2000;
	assert_vip_refused(&v, "health.timeout", "timeout 2s must be less than interval 2s");
	v.health.interval_ms = 50;
	v.health.timeout_ms = 20;
	assert_vip_refused(&v, "health.interval", "out of range (100ms..1h) '50ms'");
	vip_default(&v);
	v.health.timeout_ms = 5;
	assert_vip_refused(&v, "health.timeout", "out of range (10ms..1h) '5ms'");
	vip_default(&v);
	v.health.rise = 0;
	assert_vip_refused(&v, "health.rise", "out of range (1..100) '0'");
	vip_default(&v);
	v.health.fall = 101;
	assert_vip_refused(&v, "health.fall", "out of range (1..100) '101'");
	vip_default(&v);
	v.health.kind = 7;
	assert_vip_refused(&v, "health.check", "bad check (none, tcp, http or https)");
	vip_default(&v);
	v.sched = 9;
	assert_vip_refused(&v, "scheduler", "bad scheduler (maglev or source-hash)");
	vip_default(&v);
	v.forward = 9;
	assert_vip_refused(&v, "forward", "bad forwarding mode (l2dsr, ipip)");
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

	b.weight = 0;
	assert_backend_refused(&b, &v, "weight", "out of range (1..65535) '0'");
	b.weight = 65536;
	assert_backend_refused(&b, &v, "weight", "out of range (1..65535) '65536'");
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

/* state.json */

struct dir {
	char path[64];
	char file[96];
};

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	strcpy(d->path, "/tmp/xlbt-state-XXXXXX");
	if (!mkdtemp(d->path)) {
		free(d);
		return -1;
	}
	snprintf(d->file, sizeof(d->file), "%s/state.json", d->path);
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	char prev[128];

	unlink(d->file);
	snprintf(prev, sizeof(prev), "%s.tmp", d->file);
	unlink(prev);
	rmdir(d->path);
	free(d);
	return 0;
}

/* A state.json with one VIP; path and weight as given. */
static void write_state(const struct dir *d, const char *path, unsigned int weight,
			unsigned int timeout_ms)
{
	FILE *f = fopen(d->file, "w");

	assert_non_null(f);
	fprintf(f,
		"{ \"version\": 1, \"config_digest\": \"missing\", \"vips\": [ {\n"
		"  \"vip\": \"198.18.0.10:80/tcp\", \"sched\": \"maglev\", \"forward\": \"l2dsr\",\n"
		"  \"health\": { \"check\": \"http\", \"path\": \"%s\", \"port\": 0,\n"
		"    \"interval_ms\": 2000, \"timeout_ms\": %u, \"rise\": 2, \"fall\": 3 },\n"
		"  \"backends\": [ { \"address\": \"198.18.1.1\", \"weight\": %u,\n"
		"    \"admin\": \"enabled\", \"interval_ms\": 0, \"timeout_ms\": 0,\n"
		"    \"rise\": 0, \"fall\": 0 } ] } ] }\n",
		path, timeout_ms, weight);
	assert_int_equal(fclose(f), 0);
}

/* A state.json whose VIPs are these, each "VIP": [BACKEND, ...]. */
static void write_state_vips(const struct dir *d, const char *const *vips, size_t n)
{
	FILE *f = fopen(d->file, "w");
	size_t i;

	assert_non_null(f);
	fprintf(f, "{ \"version\": 1, \"config_digest\": \"missing\", \"vips\": [\n");
	for (i = 0; i < n; i += 2) {
		fprintf(f, "%s{ \"vip\": \"%s\", \"sched\": \"maglev\", \"forward\": \"l2dsr\",\n"
			"  \"health\": { \"check\": \"none\", \"path\": \"/\", \"port\": 0,\n"
			"    \"interval_ms\": 2000, \"timeout_ms\": 1000, \"rise\": 2, \"fall\": 3 },\n"
			"  \"backends\": [ %s ] }\n", i ? ", " : "", vips[i], vips[i + 1]);
	}
	fprintf(f, "] }\n");
	assert_int_equal(fclose(f), 0);
}

#define STATE_BE(addr) "{ \"address\": \"" addr "\", \"weight\": 100, \"admin\": \"enabled\", " \
	"\"interval_ms\": 0, \"timeout_ms\": 0, \"rise\": 0, \"fall\": 0 }"

static void assert_state_refused(const struct dir *d, const char *msg)
{
	struct xlb_config out = { .nvips = 77 };
	char digest[64] = "kept", err[XLB_ERR_MAX], want[XLB_ERR_MAX];

	snprintf(want, sizeof(want), "%s: %s; fix or remove the file", d->file, msg);
	assert_int_equal(xlb_state_load(d->path, &out, digest, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	/* nothing changes */
	assert_int_equal(out.nvips, 77);
	assert_null(out.vips);
}

static void test_state_load(void **state)
{
	struct dir *d = *state;
	struct xlb_config out = {};
	char digest[64], err[XLB_ERR_MAX];

	write_state(d, "/healthz", 100, 1000);
	assert_int_equal(xlb_state_load(d->path, &out, digest, err, sizeof(err)), 0);
	assert_int_equal(out.nvips, 1);
	assert_string_equal(out.vips[0].health.path, "/healthz");
	assert_int_equal(out.vips[0].backends[0].weight, 100);
	assert_string_equal(digest, "missing");
	xlb_config_free(&out);

	write_state(d, "/a b", 100, 1000);
	assert_state_refused(d, "vips[0].health.path: "
			     "bad path (no spaces or control characters) '/a b'");
	write_state(d, "/healthz", 0, 1000);
	assert_state_refused(d, "vips[0].backends[0].weight: out of range (1..65535) '0'");
	write_state(d, "/healthz", 100, 2000);
	assert_state_refused(d, "vips[0].health.timeout: "
			     "timeout 2s must be less than interval 2s");
}

/* What the config loader refuses twice, the state loader does too. */
static void test_state_duplicates(void **state)
{
	static const char *const good[] = {
		"198.18.0.10:80/tcp", STATE_BE("198.18.1.1") ", " STATE_BE("198.18.1.2"),
		"198.18.0.10:443/tcp", STATE_BE("198.18.1.1"),
	};
	static const char *const dup_vip[] = {
		"198.18.0.10:80/tcp", STATE_BE("198.18.1.1"),
		"198.18.0.11:80/tcp", "",
		"198.18.0.10:80/tcp", STATE_BE("198.18.1.2"),
	};
	static const char *const dup_backend[] = {
		"198.18.0.10:80/tcp", STATE_BE("198.18.1.1"),
		"198.18.0.11:80/tcp", STATE_BE("198.18.1.3") ", " STATE_BE("198.18.1.1") ", "
			STATE_BE("198.18.1.2") ", " STATE_BE("198.18.1.1") ", " STATE_BE("198.18.1.2"),
	};
	static const char *const multicast[] = {
		"198.18.0.10:80/tcp", "",
		"[ff02::1]:80/tcp", "",
	};
	struct dir *d = *state;
	struct xlb_config out = {};
	char digest[64], err[XLB_ERR_MAX];

	write_state_vips(d, good, sizeof(good) / sizeof(good[0]));
	assert_int_equal(xlb_state_load(d->path, &out, digest, err, sizeof(err)), 0);
	assert_int_equal(out.nvips, 2);
	assert_int_equal(out.vips[0].nbackends, 2);
	xlb_config_free(&out);

	write_state_vips(d, dup_vip, sizeof(dup_vip) / sizeof(dup_vip[0]));
	assert_state_refused(d, "vips[2].vip: duplicate VIP 198.18.0.10:80/tcp (first at vips[0])");
	write_state_vips(d, dup_backend, sizeof(dup_backend) / sizeof(dup_backend[0]));
	assert_state_refused(d, "vips[1].backends[3].address: "
			     "duplicate backend 198.18.1.1 (first at backends[1])");
	write_state_vips(d, multicast, sizeof(multicast) / sizeof(multicast[0]));
	assert_state_refused(d, "vips[1].vip: not a unicast address 'ff02::1'");
}

/* What xlbd saves, it reads back. */
static void test_state_round_trip(void **state)
{
	struct dir *d = *state;
	struct xlb_state s;
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	struct xlb_vip_cfg vc;
	struct xlb_backend_cfg bc = { .weight = 7, .admin = XLB_ADMIN_DRAIN, .rise = 5 };
	struct xlb_config out = {};
	char digest[64], err[XLB_ERR_MAX];

	xlb_state_init(&s);
	vip_default(&vc);
	vc.sched = XLB_SCHED_SOURCE_HASH;
	vc.health.kind = XLB_CHECK_HTTPS;
	strcpy(vc.health.path, "/ready?x=1");
	assert_int_equal(xlb_parse_addr("198.18.1.2", bc.addr, err, sizeof(err)), 0);
	assert_int_equal(xlb_state_vip_insert(&s, &vc, &v), 0);
	assert_int_equal(xlb_state_backend_insert(v, &bc, &b), 0);
	assert_int_equal(xlb_state_save(&s, d->path, err, sizeof(err)), 0);
	xlb_state_free(&s);

	assert_int_equal(xlb_state_load(d->path, &out, digest, err, sizeof(err)), 0);
	assert_int_equal(out.nvips, 1);
	assert_int_equal(out.vips[0].sched, XLB_SCHED_SOURCE_HASH);
	assert_int_equal(out.vips[0].health.kind, XLB_CHECK_HTTPS);
	assert_string_equal(out.vips[0].health.path, "/ready?x=1");
	assert_int_equal(out.vips[0].nbackends, 1);
	assert_true(xlb_backend_cfg_equal(&out.vips[0].backends[0], &bc));
	xlb_config_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_vip_settings),
		cmocka_unit_test(test_backend_settings),
		cmocka_unit_test(test_unicast),
		cmocka_unit_test_setup_teardown(test_state_load, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_state_duplicates, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
