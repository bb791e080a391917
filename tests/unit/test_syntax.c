// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the text forms in user/syntax.c. Table-driven: every
 * failing row is printed with its input, then the test fails once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../../user/lib/syntax.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* VIPs that parse; canon is what xlb_format_vip() prints back. */
struct vip_good {
	const char *in;
	const char *addr;	/* for inet_pton; IPv4 is checked v4-mapped */
	int v6;
	__u16 port;
	__u8 proto;
	const char *canon;
};

static const struct vip_good vip_good[] = {
	{ "198.18.100.10:80/tcp", "198.18.100.10", 0, 80, IPPROTO_TCP, NULL },
	{ "[2001:db8::10]:443/udp", "2001:db8::10", 1, 443, IPPROTO_UDP, NULL },
	{ "192.0.2.1:0/udp", "192.0.2.1", 0, 0, IPPROTO_UDP, NULL },
	{ "0.0.0.0:1/tcp", "0.0.0.0", 0, 1, IPPROTO_TCP, NULL },
	{ "255.255.255.255:65535/tcp", "255.255.255.255", 0, 65535,
	  IPPROTO_TCP, NULL },
	{ "[::1]:53/udp", "::1", 1, 53, IPPROTO_UDP, NULL },
	{ "[::]:0/tcp", "::", 1, 0, IPPROTO_TCP, NULL },
	{ "[2001:DB8::10]:443/tcp", "2001:db8::10", 1, 443, IPPROTO_TCP,
	  "[2001:db8::10]:443/tcp" },
	{ "[2001:db8:0:0:0:0:0:10]:80/tcp", "2001:db8::10", 1, 80, IPPROTO_TCP,
	  "[2001:db8::10]:80/tcp" },
	{ "192.0.2.1:00080/tcp", "192.0.2.1", 0, 80, IPPROTO_TCP,
	  "192.0.2.1:80/tcp" },
	{ "[fe80::1:2:3:4]:8080/udp", "fe80::1:2:3:4", 1, 8080, IPPROTO_UDP,
	  NULL },
};

struct str_case {
	const char *in;
	const char *err;
};

static const struct str_case vip_bad[] = {
	{ "192.0.2.300:80/tcp", "bad IPv4 address" },
	{ "192.0.2:80/tcp", "bad IPv4 address" },
	{ "192.0.2.1.5:80/tcp", "bad IPv4 address" },
	{ "", "bad IPv4 address" },
	{ ":80/tcp", "bad IPv4 address" },
	{ " 192.0.2.1:80/tcp", "bad IPv4 address" },
	{ "192.0.2.1 :80/tcp", "bad IPv4 address" },
	{ "+192.0.2.1:80/tcp", "bad IPv4 address" },
	{ "example.com:80/tcp", "bad IPv4 address" },
	{ "2001:db8::10:80/tcp", "IPv6 address needs brackets" },
	{ "2001:db8::10", "IPv6 address needs brackets" },
	{ "::1", "IPv6 address needs brackets" },
	{ "[2001:db8::10:443/tcp", "bad IPv6 address" },
	{ "[2001:db8::g]:443/tcp", "bad IPv6 address" },
	{ "[192.0.2.1]:80/tcp", "bad IPv6 address" },
	{ "[::ffff:192.0.2.1]:80/tcp", "bad IPv6 address" },
	{ "[]:80/tcp", "bad IPv6 address" },
	{ "[2001:db8::10%eth0]:80/tcp", "bad IPv6 address" },
	{ "192.0.2.1", "missing port" },
	{ "192.0.2.1/tcp", "missing port" },
	{ "192.0.2.1:/tcp", "missing port" },
	{ "192.0.2.1:", "missing port" },
	{ "[2001:db8::10]/tcp", "missing port" },
	{ "[2001:db8::10]x:443/tcp", "missing port" },
	{ "192.0.2.1:65536/tcp", "bad port" },
	{ "192.0.2.1:99999/tcp", "bad port" },
	{ "192.0.2.1:000080/tcp", "bad port" },
	{ "192.0.2.1:99999999999999999999/tcp", "bad port" },
	{ "192.0.2.1:+80/tcp", "bad port" },
	{ "192.0.2.1:-1/tcp", "bad port" },
	{ "192.0.2.1: 80/tcp", "bad port" },
	{ "192.0.2.1:8x/tcp", "bad port" },
	{ "192.0.2.1:80:81/tcp", "bad port" },
	{ "192.0.2.1:80", "missing protocol" },
	{ "192.0.2.1:80/", "missing protocol" },
	{ "[2001:db8::10]:443", "missing protocol" },
	{ "192.0.2.1:80/sctp", "bad protocol (tcp or udp)" },
	{ "192.0.2.1:80/TCP", "bad protocol (tcp or udp)" },
	{ "192.0.2.1:80/tcp ", "bad protocol (tcp or udp)" },
	{ "192.0.2.1:80/tcpx", "bad protocol (tcp or udp)" },
	{ "192.0.2.1:80/tcp/udp", "bad protocol (tcp or udp)" },
	{ "[2001:db8::10]:443/udp\n", "bad protocol (tcp or udp)" },
};

static void addr_of(const char *s, int v6, __be32 out[4])
{
	memset(out, 0, 16);
	if (v6) {
		assert_int_equal(inet_pton(AF_INET6, s, out), 1);
	} else {
		out[2] = htonl(0xffff);
		assert_int_equal(inet_pton(AF_INET, s, &out[3]), 1);
	}
}

static void test_vip_good(void **state)
{
	char err[64], buf[XLB_VIP_STR_MAX];
	int failures = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(vip_good); i++) {
		const struct vip_good *t = &vip_good[i];
		const char *canon = t->canon ? t->canon : t->in;
		struct vip_key k, want = {};
		int ret;

		memset(&k, 0xa5, sizeof(k));
		addr_of(t->addr, t->v6, want.addr);
		want.port = htons(t->port);
		want.proto = t->proto;
		err[0] = '\0';
		ret = xlb_parse_vip(t->in, &k, err, sizeof(err));
		if (ret) {
			print_error("vip '%s': ret %d err '%s'\n", t->in, ret, err);
			failures++;
			continue;
		}
		if (memcmp(&k, &want, sizeof(k))) {
			print_error("vip '%s': wrong key\n", t->in);
			failures++;
		}
		xlb_format_vip(&k, buf, sizeof(buf));
		if (strcmp(buf, canon)) {
			print_error("vip '%s': formatted '%s', want '%s'\n",
				    t->in, buf, canon);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_vip_bad(void **state)
{
	struct vip_key k, orig;
	int failures = 0;
	char err[64];
	size_t i;

	(void)state;
	assert_true(ARRAY_SIZE(vip_bad) >= 25);
	memset(&orig, 0x5a, sizeof(orig));
	for (i = 0; i < ARRAY_SIZE(vip_bad); i++) {
		const struct str_case *t = &vip_bad[i];
		int ret;

		k = orig;
		err[0] = '\0';
		ret = xlb_parse_vip(t->in, &k, err, sizeof(err));
		if (ret != -EINVAL || strcmp(err, t->err) ||
		    memcmp(&k, &orig, sizeof(k))) {
			print_error("vip '%s': ret %d err '%s', want '%s'%s\n",
				    t->in, ret, err, t->err,
				    memcmp(&k, &orig, sizeof(k)) ?
				    " (key written)" : "");
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* Format then parse gives the same key, for every port and both families. */
static void test_vip_round_trip(void **state)
{
	static const char *const addrs[] = {
		"192.0.2.10", "10.0.0.1", "2001:db8::10", "::1", "fe80::a:b",
	};
	char buf[XLB_VIP_STR_MAX];
	struct vip_key k, back;
	size_t i;
	__u32 port;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(addrs); i++) {
		for (port = 0; port <= 65535; port += 257) {
			memset(&k, 0, sizeof(k));
			addr_of(addrs[i], strchr(addrs[i], ':') != NULL, k.addr);
			k.port = htons((__u16)port);
			k.proto = port & 1 ? IPPROTO_UDP : IPPROTO_TCP;
			xlb_format_vip(&k, buf, sizeof(buf));
			assert_int_equal(xlb_parse_vip(buf, &back, NULL, 0), 0);
			assert_memory_equal(&k, &back, sizeof(k));
		}
	}
}

static void test_addr(void **state)
{
	static const struct str_case bad[] = {
		{ "192.0.2.300", "bad IPv4 address" },
		{ "", "bad IPv4 address" },
		{ "192.0.2.1 ", "bad IPv4 address" },
		{ "192.0.2", "bad IPv4 address" },
		{ "2001:db8::zz", "bad IPv6 address" },
		{ "[2001:db8::1]", "bad IPv6 address" },
		{ "::ffff:192.0.2.1", "bad IPv6 address" },
		{ "2001:db8::1/64", "bad IPv6 address" },
	};
	__be32 a[4], want[4];
	char buf[XLB_ADDR_STR_MAX], err[64];
	int failures = 0;
	size_t i;

	(void)state;
	assert_int_equal(xlb_parse_addr("198.18.0.1", a, err, sizeof(err)), 0);
	addr_of("198.18.0.1", 0, want);
	assert_memory_equal(a, want, 16);
	assert_true(xlb_addr_is_v4(a));
	xlb_format_addr(a, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.1");

	assert_int_equal(xlb_parse_addr("2001:DB8:0::1", a, err, sizeof(err)), 0);
	addr_of("2001:db8::1", 1, want);
	assert_memory_equal(a, want, 16);
	assert_false(xlb_addr_is_v4(a));
	xlb_format_addr(a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (xlb_parse_addr(bad[i].in, a, err, sizeof(err)) != -EINVAL ||
		    strcmp(err, bad[i].err)) {
			print_error("addr '%s': err '%s', want '%s'\n",
				    bad[i].in, err, bad[i].err);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_duration_good(void **state)
{
	static const struct {
		const char *in;
		__u64 ms;
	} good[] = {
		{ "0ms", 0 }, { "0s", 0 }, { "0h", 0 }, { "1ms", 1 },
		{ "1500ms", 1500 }, { "2s", 2000 }, { "300s", 300000 },
		{ "5m", 300000 }, { "1h", 3600000 }, { "007s", 7000 },
		{ "18446744073709551615ms", 18446744073709551615ull },
		{ "5124095576030h", 5124095576030ull * 3600000 },
	};
	int failures = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		__u64 ms = 12345;
		char err[64] = "";

		if (xlb_parse_duration_ms(good[i].in, &ms, err, sizeof(err)) ||
		    ms != good[i].ms) {
			print_error("duration '%s': got %llu err '%s'\n",
				    good[i].in, (unsigned long long)ms, err);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_duration_bad(void **state)
{
	static const char *const bad[] = {
		"", "5", "s", "ms", "1.5s", "-1s", "+1s", "1 s", " 1s", "1s ",
		"1S", "1MS", "1sec", "1d", "1hh", "1ms5", "0x10s", "1e3ms",
		"18446744073709551616ms", "18446744073709552s",
		"5124095576031h", "99999999999999999999999999h",
	};
	int failures = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		__u64 ms = 12345;
		char err[64] = "";

		if (xlb_parse_duration_ms(bad[i], &ms, err, sizeof(err)) != -EINVAL ||
		    strcmp(err, "bad duration (e.g. 2s, 500ms)") || ms != 12345) {
			print_error("duration '%s': got %llu err '%s'\n",
				    bad[i], (unsigned long long)ms, err);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_duration_format(void **state)
{
	static const struct {
		__u64 ms;
		const char *out;
	} fmt[] = {
		{ 0, "0s" }, { 1, "1ms" }, { 999, "999ms" }, { 1001, "1001ms" },
		{ 1500, "1500ms" }, { 2000, "2s" }, { 90000, "90s" },
		{ 300000, "5m" }, { 5400000, "90m" }, { 3600000, "1h" },
		{ 86400000, "24h" }, { 3601000, "3601s" },
		{ 18446744073709551615ull, "18446744073709551615ms" },
	};
	char buf[32];
	int failures = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fmt); i++) {
		__u64 back = 1;

		xlb_format_duration_ms(fmt[i].ms, buf, sizeof(buf));
		if (strcmp(buf, fmt[i].out) ||
		    xlb_parse_duration_ms(buf, &back, NULL, 0) ||
		    back != fmt[i].ms) {
			print_error("format %llu: '%s', want '%s' (back %llu)\n",
				    (unsigned long long)fmt[i].ms, buf,
				    fmt[i].out, (unsigned long long)back);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_u32(void **state)
{
	static const struct {
		const char *in;
		__u32 min, max;
		int ok;
		__u32 val;
		const char *err;
	} t[] = {
		{ "0", 0, 10, 1, 0, NULL },
		{ "10", 0, 10, 1, 10, NULL },
		{ "007", 0, 10, 1, 7, NULL },
		{ "11", 0, 10, 0, 0, "out of range (0..10)" },
		{ "0", 1, 65535, 0, 0, "out of range (1..65535)" },
		{ "70000", 1, 65535, 0, 0, "out of range (1..65535)" },
		{ "1023", 1024, 100000000, 0, 0, "out of range (1024..100000000)" },
		{ "1024", 1024, 100000000, 1, 1024, NULL },
		{ "4294967295", 0, 4294967295u, 1, 4294967295u, NULL },
		{ "4294967296", 0, 4294967295u, 0, 0, "out of range (0..4294967295)" },
		{ "99999999999999999999999", 0, 4294967295u, 0, 0,
		  "out of range (0..4294967295)" },
		{ "", 0, 10, 0, 0, "not a number" },
		{ "-1", 0, 10, 0, 0, "not a number" },
		{ "+1", 0, 10, 0, 0, "not a number" },
		{ "1.0", 0, 10, 0, 0, "not a number" },
		{ "0x10", 0, 100, 0, 0, "not a number" },
		{ " 1", 0, 10, 0, 0, "not a number" },
		{ "1 ", 0, 10, 0, 0, "not a number" },
		{ "1e2", 0, 1000, 0, 0, "not a number" },
		{ "ten", 0, 10, 0, 0, "not a number" },
	};
	int failures = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		char err[64] = "";
		__u32 v = 4242;
		int ret = xlb_parse_u32(t[i].in, t[i].min, t[i].max, &v, err,
					sizeof(err));

		if (t[i].ok ? (ret || v != t[i].val) :
			      (ret != -EINVAL || v != 4242 ||
			       strcmp(err, t[i].err))) {
			print_error("u32 '%s' [%u..%u]: ret %d v %u err '%s'\n",
				    t[i].in, t[i].min, t[i].max, ret, v, err);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_sched_forward(void **state)
{
	char err[64];
	__u8 v = 99;

	(void)state;
	assert_int_equal(xlb_parse_sched("maglev", &v, err, sizeof(err)), 0);
	assert_int_equal(v, XLB_SCHED_MAGLEV);
	assert_int_equal(xlb_parse_sched("source-hash", &v, err, sizeof(err)), 0);
	assert_int_equal(v, XLB_SCHED_SOURCE_HASH);
	assert_string_equal(xlb_sched_name(XLB_SCHED_MAGLEV), "maglev");
	assert_string_equal(xlb_sched_name(XLB_SCHED_SOURCE_HASH), "source-hash");

	v = 99;
	assert_int_equal(xlb_parse_sched("Maglev", &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad scheduler (maglev, source-hash, rr, wrr, lc, wlc or lt)");
	assert_int_equal(xlb_parse_sched("", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(xlb_parse_sched("source_hash", &v, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(v, 99);

	assert_int_equal(xlb_parse_forward("l2dsr", &v, err, sizeof(err)), 0);
	assert_int_equal(v, XLB_FWD_L2DSR);
	assert_string_equal(xlb_forward_name(XLB_FWD_L2DSR), "l2dsr");
	v = 99;
	assert_int_equal(xlb_parse_forward("nat", &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad forwarding mode (l2dsr, ipip)");
	assert_int_equal(xlb_parse_forward("L2DSR", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(v, 99);
}

static void test_mac(void **state)
{
	static const __u8 mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x11 };
	static const __u8 ff[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char buf[18];

	(void)state;
	xlb_format_mac(mac, buf, sizeof(buf));
	assert_string_equal(buf, "02:00:5e:10:00:11");
	xlb_format_mac(ff, buf, sizeof(buf));
	assert_string_equal(buf, "ff:ff:ff:ff:ff:ff");
}

/* A short err buffer truncates and a NULL one is allowed. */
/* ADDR:PORT, one parser for listeners and clients. */
static void test_endpoint(void **state)
{
	static const struct {
		const char *in;
		unsigned int flags;
		const char *addr, *zone;
		unsigned int port;
	} good[] = {
		{ "198.18.0.1:9100", 0, "198.18.0.1", "", 9100 },
		{ "0.0.0.0:65535", 0, "0.0.0.0", "", 65535 },
		{ "[2001:db8::1]:80", 0, "2001:db8::1", "", 80 },
		{ "[::]:1", 0, "::", "", 1 },
		{ "198.18.0.1:0", XLB_EP_PORT_ZERO, "198.18.0.1", "", 0 },
		{ "198.18.0.1:00080", 0, "198.18.0.1", "", 80 },
		{ "[fe80::1%lo]:9100", XLB_EP_ZONE, "fe80::1", "lo", 9100 },
		{ "[2001:db8::1]:9100", XLB_EP_ZONE, "2001:db8::1", "", 9100 },
	};
	static const struct {
		const char *in;
		unsigned int flags;
		const char *err;
	} bad[] = {
		{ "198.18.0.300:80", 0, "bad IPv4 address" },
		{ "", 0, "bad IPv4 address" },
		{ ":80", 0, "bad IPv4 address" },
		{ "127.1:9100", 0, "bad IPv4 address" },
		{ "localhost:9100", 0, "bad IPv4 address" },
		{ "1.2.3.4.5:80", 0, "bad IPv4 address" },
		{ "2001:db8::1:80", 0, "IPv6 address needs brackets" },
		{ "::1:9100", 0, "IPv6 address needs brackets" },
		{ "[2001:db8::zz]:1", 0, "bad IPv6 address" },
		{ "[198.18.0.1]:1", 0, "bad IPv6 address" },
		{ "[::ffff:198.18.0.1]:1", 0, "bad IPv6 address" },
		{ "[::1:80", 0, "bad IPv6 address" },
		{ "[fe80::1%lo]:80", 0, "bad IPv6 address" },
		{ "[fe80::1%]:80", XLB_EP_ZONE, "bad IPv6 address" },
		{ "[fe80::1%abcdefghijklmnopq]:80", XLB_EP_ZONE, "bad IPv6 address" },
		{ "198.18.0.1", 0, "missing port" },
		{ "198.18.0.1:", 0, "missing port" },
		{ "[::1]", 0, "missing port" },
		{ "[::1]9100", 0, "missing port" },
		{ "[::1]:", 0, "missing port" },
		{ "198.18.0.1:0", 0, "bad port" },
		{ "198.18.0.1:65536", 0, "bad port" },
		{ "198.18.0.1:091000", 0, "bad port" },
		{ "198.18.0.1:+80", 0, "bad port" },
		{ "198.18.0.1:4x", XLB_EP_PORT_ZERO, "bad port" },
		{ "198.18.0.1:80/tcp", 0, "bad port" },
	};
	struct xlb_endpoint ep, untouched;
	char err[64], text[XLB_ADDR_STR_MAX];
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		memset(&ep, 0xa5, sizeof(ep));
		if (xlb_parse_endpoint(good[i].in, good[i].flags, &ep, err, sizeof(err)))
			fail_msg("\"%s\" refused: %s", good[i].in, err);
		xlb_format_addr(ep.addr, text, sizeof(text));
		assert_string_equal(text, good[i].addr);
		assert_string_equal(ep.zone, good[i].zone);
		assert_int_equal(ep.port, good[i].port);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&ep, 0xa5, sizeof(ep));
		untouched = ep;
		err[0] = '\0';
		assert_int_equal(xlb_parse_endpoint(bad[i].in, bad[i].flags, &ep, err,
						    sizeof(err)), -EINVAL);
		if (strcmp(err, bad[i].err))
			fail_msg("\"%s\": got \"%s\", want \"%s\"", bad[i].in, err, bad[i].err);
		assert_memory_equal(&ep, &untouched, sizeof(ep));
	}
}

static void test_err_buffer(void **state)
{
	struct vip_key k;
	char err[5];

	(void)state;
	assert_int_equal(xlb_parse_vip("x", &k, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad ");
	assert_int_equal(xlb_parse_vip("x", &k, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vip_good),
		cmocka_unit_test(test_vip_bad),
		cmocka_unit_test(test_vip_round_trip),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_duration_good),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_sched_forward),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_err_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
