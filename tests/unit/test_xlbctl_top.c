// SPDX-License-Identifier: GPL-2.0
/*
 * xlbctl top against the fake daemon: frames, rates, -j and the daemon
 * going away. The xlbctl binary is argv[1] or $XLBCTL; without one these skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include "unit_xlbctl.h"

/*
 * Sample n of a stats reply: each second 1200 packets (1.2 Mbit/s) and one
 * new flow to the VIP, 1100 of them to the first backend, 1100 drops for
 * want of a backend and one malformed. Rates shown with two digits stay
 * the same for an interval anywhere in 0.96..1.04 s, so a loaded machine
 * does not fail the test.
 */
static void stats_reply(char *buf, size_t len, unsigned long long n)
{
	snprintf(buf, len,
		 "{\"ok\":true,\"global\":{\"pass_non_ip\":%llu,\"pass_non_vip\":7,\"ct_hit\":%llu,"
		 "\"ct_miss\":%llu,\"tx\":%llu,\"redirect\":0,\"drop_no_backend\":%llu,"
		 "\"drop_redirect\":0,\"drop_malformed_l3_trunc\":%llu},"
		 "\"vips\":[{\"vip\":\"" VIP4 "\",\"active_flows\":42,\"packets\":%llu,\"bytes\":%llu,"
		 "\"flows\":%llu}],"
		 "\"backends\":[{\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"state\":\"up\","
		 "\"active_flows\":42,\"packets\":%llu,\"bytes\":%llu,\"flows\":%llu},{\"vip\":\"" VIP4 "\","
		 "\"address\":\"198.18.0.12\",\"state\":\"down\",\"packets\":500,\"bytes\":60000,"
		 "\"flows\":5}]}\n",
		 900 + n, 4000000 + 1100 * n, 300 + n, 9000000 + 1200 * n, 70000 + 1100 * n,
		 12 + n, 8000000 + 1200 * n, 987654321 + 150000 * n, 40000 + n,
		 6000000 + 1100 * n, 876543210 + 137500 * n, 30000 + n);
}

/* Samples first..last, one line each, then end (hang up if so told). */
static const char *stats_sequence(unsigned long long first, unsigned long long last,
				  bool hang_up)
{
	static char buf[8192];
	size_t off = 0;

	for (; first <= last; first++) {
		stats_reply(buf + off, sizeof(buf) - off, first);
		off += strlen(buf + off);
	}
	if (hang_up)
		snprintf(buf + off, sizeof(buf) - off, "\n");
	return buf;
}

#define TOP_BODY \
	"packets/s: tx 1.2k, redirect 0, pass 1.0, drop 1.1k\n" \
	"conntrack/s: hit 1.1k, miss 1.0\n" \
	"\n" \
	"VIP                   ACTIVE   PPS     BITRATE  NEW FLOWS/S\n" \
	"198.18.100.10:80/tcp      42  1.2k  1.2 Mbit/s          1.0\n" \
	"\n" \
	"VIP                   BACKEND      STATE  ACTIVE   PPS     BITRATE  NEW FLOWS/S\n" \
	"198.18.100.10:80/tcp  198.18.0.11  up         42  1.1k  1.1 Mbit/s          1.0\n" \
	"198.18.100.10:80/tcp  198.18.0.12  down        -     0     0 bit/s            0\n" \
	"\n" \
	"DROP REASON          PPS\n" \
	"no_backend          1.1k\n" \
	"malformed_l3_trunc   1.0\n"

/* "xlb top: 2026-11-23 18:30:01, interval 1.00 s\n" then TOP_BODY; the rest of out. */
static const char *expect_top_frame(const char *out)
{
	int y, mo, d, h, mi, s, end = -1;
	double interval;

	if (sscanf(out, "xlb top: %4d-%2d-%2d %2d:%2d:%2d, interval %lf s\n%n",
		   &y, &mo, &d, &h, &mi, &s, &interval, &end) != 7 || end < 0 ||
	    out[end - 1] != '\n')
		fail_msg("bad frame header in:\n%s", out);
	if (interval < 0.95 || interval > 1.5)
		fail_msg("interval %.2f s, want about 1 s", interval);
	out += end;
	if (strncmp(out, TOP_BODY, strlen(TOP_BODY)))
		fail_msg("frame:\n%s\nwant:\n%s", out, TOP_BODY);
	return out + strlen(TOP_BODY);
}

/*
 * top -n 2 on a pipe: three samples a second apart over one connection (the
 * fake daemon starts its sequence over on a new one), two text frames of
 * rates, exit 0.
 */
static void test_xlbctl_top(void **state)
{
	static const char *const args[] = { "-s", SOCK, "top", "-n", "2", NULL };
	struct run_result *r;
	struct timespec t0;
	const char *rest;
	long ms;
	pid_t pid;

	(void)state;
	need_xlbctl();
	pid = server_start(SERVE_SEQUENCE, stats_sequence(1, 3, false));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = run_xlbctl(args);
	ms = elapsed_ms(&t0);
	server_stop(pid);
	if (r->exit_code || r->err[0])
		print_error("exit %d, stderr: %s", r->exit_code, r->err);
	assert_int_equal(r->exit_code, 0);
	assert_string_equal(r->err, "");
	rest = expect_top_frame(r->out);
	assert_int_equal(rest[0], '\n');	/* frames apart by a blank line */
	rest = expect_top_frame(rest + 1);
	assert_string_equal(rest, "");
	assert_true(ms >= 1900 && ms < 6000);
	assert_string_equal(read_file(log_path),
			    "{\"cmd\":\"stats\"}\n{\"cmd\":\"stats\"}\n{\"cmd\":\"stats\"}\n");
}

static void assert_near(struct json_object *obj, const char *key, double want)
{
	struct json_object *v;
	double got;

	assert_true(json_object_object_get_ex(obj, key, &v));
	got = json_object_get_double(v);
	if (got < want * 0.9 || got > want * 1.1)
		fail_msg("%s: %f, want about %f", key, got, want);
}

/* -j: one JSON object per refresh, on one line, with the rates. */
static void test_xlbctl_top_json(void **state)
{
	static const char *const args[] = { "-s", SOCK, "-j", "top", VIP4, "count", "1", NULL };
	struct json_object *obj, *g, *list, *e;
	struct run_result *r;
	pid_t pid;

	(void)state;
	need_xlbctl();
	pid = server_start(SERVE_SEQUENCE, stats_sequence(5, 6, false));
	r = run_xlbctl(args);
	server_stop(pid);
	assert_int_equal(r->exit_code, 0);
	assert_string_equal(r->err, "");
	assert_ptr_equal(strchr(r->out, '\n'), r->out + strlen(r->out) - 1);
	obj = json_tokener_parse(r->out);
	assert_non_null(obj);
	assert_near(obj, "interval_s", 1);
	assert_near(obj, "drops_per_s", 1101);
	assert_true(json_object_object_get_ex(obj, "global", &g));
	assert_near(g, "ct_hit", 1100);
	assert_near(g, "drop_no_backend", 1100);
	assert_near(g, "pass_non_vip", 0);
	assert_true(json_object_object_get_ex(obj, "vips", &list));
	assert_int_equal(json_object_array_length(list), 1);
	e = json_object_array_get_idx(list, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "vip")), VIP4);
	assert_near(e, "packets_per_s", 1200);
	assert_near(e, "bits_per_s", 1200000);
	assert_near(e, "new_flows_per_s", 1);
	assert_true(json_object_object_get_ex(obj, "backends", &list));
	assert_int_equal(json_object_array_length(list), 2);
	e = json_object_array_get_idx(list, 0);
	/* live flows are a gauge: as the daemon gave them, not a rate */
	assert_int_equal(json_object_get_int(json_object_object_get(e, "active_flows")), 42);
	e = json_object_array_get_idx(list, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "state")), "down");
	assert_false(json_object_object_get_ex(e, "active_flows", NULL));
	assert_near(e, "packets_per_s", 0);
	json_object_put(obj);
	assert_string_equal(read_file(log_path),
			    "{\"cmd\":\"stats\",\"vip\":\"" VIP4 "\"}\n"
			    "{\"cmd\":\"stats\",\"vip\":\"" VIP4 "\"}\n");
}

/* The daemon goes away after the first frame: exit 3 with the usual message. */
static void test_xlbctl_top_daemon_gone(void **state)
{
	static const char *const args[] = { "-s", SOCK, "top", "-n", "5", NULL };
	struct run_result *r;
	pid_t pid;

	(void)state;
	need_xlbctl();
	pid = server_start(SERVE_SEQUENCE, stats_sequence(1, 2, true));
	r = run_xlbctl(args);
	server_stop(pid);
	assert_int_equal(r->exit_code, 3);
	assert_string_equal(r->err, "xlbctl: daemon closed the connection\n");
	assert_string_equal(expect_top_frame(r->out), "");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xlbctl_top),
		cmocka_unit_test(test_xlbctl_top_json),
		cmocka_unit_test(test_xlbctl_top_daemon_gone),
	};

	xlbctl_path = argc > 1 ? argv[1] : getenv("XLBCTL");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
