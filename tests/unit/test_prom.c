// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the Prometheus text writer (user/lib/metrics.c): names,
 * labels, escapes, numbers, misuse, and promtool's verdict on the text
 * when it is installed. The HTTP endpoint has its own (test_metrics.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "../../user/lib/metrics.h"
#include "unit_expo.h"

#define PROMTOOL	"/usr/bin/promtool"

static void test_prom_text(void **state)
{
	static const char *const vip[] = { "vip", "198.18.0.10:80", "proto", "tcp", NULL };
	static const char *const none[] = { NULL };
	static const char want[] =
		"# HELP xlb_packets_total Packets seen by the data plane.\n"
		"# TYPE xlb_packets_total counter\n"
		"xlb_packets_total{vip=\"198.18.0.10:80\",proto=\"tcp\"} 42\n"
		"xlb_packets_total 7\n"
		"# HELP xlb_backends_up Healthy backends.\n"
		"# TYPE xlb_backends_up gauge\n"
		"xlb_backends_up 3\n"
		"xlb_backends_up{vip=\"198.18.0.10:80\",proto=\"tcp\"} 0.25\n";
	struct xlb_prom *w = xlb_prom_new();
	size_t len;

	(void)state;
	assert_non_null(w);
	assert_string_equal(xlb_prom_text(w, &len), "");
	assert_int_equal(len, 0);
	assert_int_equal(xlb_prom_family(w, "xlb_packets_total", "counter",
					 "Packets seen by the data plane."), 0);
	assert_int_equal(xlb_prom_sample_u64(w, "xlb_packets_total", vip, 42), 0);
	assert_int_equal(xlb_prom_sample_u64(w, "xlb_packets_total", NULL, 7), 0);
	assert_int_equal(xlb_prom_family(w, "xlb_backends_up", "gauge", "Healthy backends."), 0);
	assert_int_equal(xlb_prom_sample(w, "xlb_backends_up", none, 3), 0);
	assert_int_equal(xlb_prom_sample(w, "xlb_backends_up", vip, 0.25), 0);
	assert_string_equal(xlb_prom_text(w, &len), want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(xlb_prom_error(w), 0);
	xlb_prom_free(w);
}

static void test_prom_escape(void **state)
{
	static const char *const labels[] = {
		"path", "C:\\dir\\", "says", "\"hi\"", "lines", "one\ntwo",
		"utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NULL
	};
	static const char want[] =
		"# HELP xlb_odd A \\\\ \"quoted\" help\\nover two lines.\n"
		"# TYPE xlb_odd gauge\n"
		"xlb_odd{path=\"C:\\\\dir\\\\\",says=\"\\\"hi\\\"\",lines=\"one\\ntwo\","
		"utf8=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"} 1\n";
	struct xlb_prom *w = xlb_prom_new();

	(void)state;
	assert_int_equal(xlb_prom_family(w, "xlb_odd", "gauge",
					 "A \\ \"quoted\" help\nover two lines."), 0);
	assert_int_equal(xlb_prom_sample(w, "xlb_odd", labels, 1), 0);
	assert_string_equal(xlb_prom_text(w, NULL), want);
	xlb_prom_free(w);
}

/* The value text of one gauge sample written with v. */
static void check_value(double v, const char *want)
{
	struct xlb_prom *w = xlb_prom_new();
	const char *s;

	assert_int_equal(xlb_prom_family(w, "g", "gauge", "g"), 0);
	assert_int_equal(xlb_prom_sample(w, "g", NULL, v), 0);
	s = strrchr(xlb_prom_text(w, NULL), ' ');
	assert_non_null(s);
	assert_int_equal(strlen(s + 1), strlen(want) + 1);
	assert_memory_equal(s + 1, want, strlen(want));
	xlb_prom_free(w);
}

static void test_prom_numbers(void **state)
{
	static const struct {
		__u64 v;
		const char *s;
	} ints[] = {
		{ 0, "0" },
		{ 9007199254740993ull, "9007199254740993" },	/* 2^53 + 1 */
		{ 12345678901234567890ull, "12345678901234567890" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	struct xlb_prom *w = xlb_prom_new();
	char line[64], num[32];
	unsigned int i, bad = 0;
	__u64 x = 0x9e3779b97f4a7c15ull;
	double v;

	(void)state;
	assert_int_equal(xlb_prom_family(w, "c_total", "counter", "c"), 0);
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		assert_int_equal(xlb_prom_sample_u64(w, "c_total", NULL, ints[i].v), 0);
		snprintf(line, sizeof(line), "\nc_total %s\n", ints[i].s);
		assert_non_null(strstr(xlb_prom_text(w, NULL), line));
	}
	xlb_prom_free(w);

	check_value(0, "0");
	check_value(3, "3");
	check_value(-0.5, "-0.5");
	check_value(0.1, "0.1");
	check_value(1.0 / 3, "0.3333333333333333");
	check_value(2.0 / 3, "0.6666666666666666");
	check_value(123456789012.0, "123456789012");
	check_value(9007199254740992.0, "9007199254740992");
	check_value(1e300, "1e+300");
	check_value(5e-324, "4.94065645841247e-324");	/* subnormal: 15 digits do */
	check_value(NAN, "NaN");
	check_value(INFINITY, "+Inf");
	check_value(-INFINITY, "-Inf");

	/* any finite double reads back exactly */
	for (i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(&v, &x, sizeof(v));
		if (!isfinite(v))
			continue;
		w = xlb_prom_new();
		xlb_prom_family(w, "g", "gauge", "g");
		xlb_prom_sample(w, "g", NULL, v);
		snprintf(num, sizeof(num), "%s", strrchr(xlb_prom_text(w, NULL), ' ') + 1);
		bad += strtod(num, NULL) != v;
		xlb_prom_free(w);
	}
	assert_int_equal(bad, 0);
}

#define HDR	"# HELP g A gauge.\n# TYPE g gauge\n"

/* A fresh writer with family g: sample(labels) fails with err, writes nothing. */
static void check_sample_err(const char *name, const char *const *labels, int err)
{
	struct xlb_prom *w = xlb_prom_new();

	assert_int_equal(xlb_prom_family(w, "g", "gauge", "A gauge."), 0);
	assert_int_equal(xlb_prom_sample(w, name, labels, 1), err);
	assert_string_equal(xlb_prom_text(w, NULL), HDR);
	xlb_prom_free(w);
}

static void check_family_err(const char *name, const char *type, const char *help, int err)
{
	struct xlb_prom *w = xlb_prom_new();

	assert_int_equal(xlb_prom_family(w, name, type, help), err);
	assert_string_equal(xlb_prom_text(w, NULL), "");
	assert_int_equal(xlb_prom_error(w), err);
	xlb_prom_free(w);
}

static void test_prom_invalid(void **state)
{
	struct xlb_prom *w;

	(void)state;
	check_family_err("1abc", "gauge", "h", -EINVAL);
	check_family_err("a-b", "gauge", "h", -EINVAL);
	check_family_err("", "gauge", "h", -EINVAL);
	check_family_err(NULL, "gauge", "h", -EINVAL);
	check_family_err("g", "histogram", "h", -EINVAL);
	check_family_err("g", NULL, "h", -EINVAL);
	check_family_err("xlb_packets", "counter", "h", -EINVAL);
	check_family_err("_total", "counter", "h", -EINVAL);
	check_family_err("xlb_up_total", "gauge", "h", -EINVAL);
	check_family_err("g", "gauge", NULL, -EINVAL);
	check_family_err("g", "gauge", "", -EINVAL);
	check_family_err("g", "gauge", "bad \xff byte", -EILSEQ);

	check_sample_err("h", NULL, -EINVAL);
	check_sample_err(NULL, NULL, -EINVAL);
	check_sample_err("gg", NULL, -EINVAL);
	check_sample_err("g", (const char *const[]){ "1x", "v", NULL }, -EINVAL);
	check_sample_err("g", (const char *const[]){ "a:b", "v", NULL }, -EINVAL);
	check_sample_err("g", (const char *const[]){ "__name__", "v", NULL }, -EINVAL);
	check_sample_err("g", (const char *const[]){ "a", NULL }, -EINVAL);
	check_sample_err("g", (const char *const[]){ "a", "1", "b", "2", "a", "3", NULL },
			 -EINVAL);
	check_sample_err("g", (const char *const[]){ "a", "\xc3\x28", NULL }, -EILSEQ);
	check_sample_err("g", (const char *const[]){ "a", "\xc0\xaf", NULL }, -EILSEQ);
	check_sample_err("g", (const char *const[]){ "a", "\xed\xa0\x80", NULL }, -EILSEQ);
	check_sample_err("g", (const char *const[]){ "a", "\xf4\x90\x80\x80", NULL }, -EILSEQ);
	check_sample_err("g", (const char *const[]){ "a", "cut \xe2\x82", NULL }, -EILSEQ);

	/* a sample before any family */
	w = xlb_prom_new();
	assert_int_equal(xlb_prom_sample(w, "g", NULL, 1), -EINVAL);
	xlb_prom_free(w);

	/* a family twice, even after another; then the error sticks */
	w = xlb_prom_new();
	assert_int_equal(xlb_prom_family(w, "g", "gauge", "A gauge."), 0);
	assert_int_equal(xlb_prom_family(w, "h", "gauge", "Another."), 0);
	assert_int_equal(xlb_prom_family(w, "g", "gauge", "A gauge."), -EINVAL);
	assert_int_equal(xlb_prom_sample(w, "h", NULL, 1), -EINVAL);
	assert_int_equal(xlb_prom_error(w), -EINVAL);
	assert_string_equal(xlb_prom_text(w, NULL),
			    HDR "# HELP h Another.\n# TYPE h gauge\n");
	xlb_prom_free(w);
}

/*
 * promtool parses the text as Prometheus would and lints it: exit 0 and
 * not a word of output.
 */
static void test_prom_promtool(void **state)
{
	static const char *const states[] = { "up", "down", "draining" };
	char out[] = "/tmp/xlb-promtool-XXXXXX", cmd[128], res[1024];
	struct xlb_prom *w = xlb_prom_new();
	const char *text;
	unsigned int i;
	FILE *p, *o;
	size_t len;
	int fd, st;

	(void)state;
	if (access(PROMTOOL, X_OK)) {
		xlb_prom_free(w);
		skip();
	}
	assert_int_equal(write_expo(w, 12, 10), 0);
	xlb_prom_family(w, "xlb_vip_packets_total", "counter",
			"Packets to a VIP, by verdict.\nFrom the data plane's per-CPU counters.");
	for (i = 0; i < 3; i++) {
		const char *const l[] = { "vip", "[2001:db8::10]:443", "verdict",
					  states[i], "note", "a \"quoted\" \\ value\n", NULL };

		xlb_prom_sample_u64(w, "xlb_vip_packets_total", l, UINT64_MAX - i);
	}
	xlb_prom_family(w, "xlb_scrape_duration_seconds", "gauge", "Render time of a scrape.");
	xlb_prom_sample(w, "xlb_scrape_duration_seconds", NULL, 0.000123);
	xlb_prom_family(w, "xlb_odd_values", "gauge", "NaN and infinities.");
	xlb_prom_sample(w, "xlb_odd_values", (const char *const[]){ "v", "nan", NULL }, NAN);
	xlb_prom_sample(w, "xlb_odd_values", (const char *const[]){ "v", "inf", NULL }, INFINITY);
	xlb_prom_sample(w, "xlb_odd_values", (const char *const[]){ "v", "-inf", NULL }, -INFINITY);
	assert_int_equal(xlb_prom_error(w), 0);
	text = xlb_prom_text(w, &len);

	fd = mkstemp(out);
	assert_true(fd >= 0);
	snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics >%s 2>&1", out);
	p = popen(cmd, "w");
	assert_non_null(p);
	assert_int_equal(fwrite(text, 1, len, p), len);
	st = pclose(p);
	o = fdopen(fd, "r");
	assert_non_null(o);
	len = fread(res, 1, sizeof(res) - 1, o);
	res[len] = '\0';
	fclose(o);
	unlink(out);
	if (len)
		print_message("# promtool: %s\n", res);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(len, 0);
	xlb_prom_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom_text),
		cmocka_unit_test(test_prom_escape),
		cmocka_unit_test(test_prom_numbers),
		cmocka_unit_test(test_prom_invalid),
		cmocka_unit_test(test_prom_promtool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
