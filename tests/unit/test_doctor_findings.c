// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the findings of the doctor commands (user/lib/doctor.c):
 * past DOCTOR_MAX_FINDINGS lines, every warn and fail is still shown, ok
 * findings make room, and what is left out is counted per status (the
 * text summary, the JSON list's last element) without changing the exit
 * status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "../../user/lib/cli.h"
#include "../../user/lib/doctor.h"

/* doctor_report()'s output, as one string (free it), and its exit status in *rc. */
static char *report(struct doctor *d, int *rc)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDOUT_FILENO);
	long len;
	char *out;

	assert_non_null(tmp);
	fflush(stdout);
	assert_int_not_equal(dup2(fileno(tmp), STDOUT_FILENO), -1);
	*rc = doctor_report(d);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	len = ftell(tmp);
	assert_true(len >= 0);
	out = calloc(1, len + 1);
	assert_non_null(out);
	rewind(tmp);
	assert_int_equal(fread(out, 1, len, tmp), (size_t)len);
	fclose(tmp);
	return out;
}

static unsigned int lines_starting(const char *out, const char *prefix)
{
	unsigned int n = 0;
	const char *p = out;

	while (p && *p) {
		n += !strncmp(p, prefix, strlen(prefix));
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return n;
}

/* A large site: the cap's worth of ok findings, then problems, then more ok ones. */
static void large_site(struct doctor *d)
{
	int i;

	for (i = 0; i < DOCTOR_MAX_FINDINGS; i++)
		doctor_add(d, DOCTOR_OK, "neigh", "be", NULL, "ok %d", i);
	for (i = 0; i < 10; i++)
		doctor_add(d, DOCTOR_FAIL, "route", "late", "add a route", "fail %d", i);
	doctor_add(d, DOCTOR_WARN, "mtu", "late", "raise it", "warn");
	for (i = 0; i < 100; i++)
		doctor_add(d, DOCTOR_OK, "clock", "late", NULL, "ok late %d", i);
}

static void test_late_problems_shown(void **state)
{
	struct doctor d = {};
	char *out;
	int rc;

	(void)state;
	xlb_cli.json = false;
	large_site(&d);
	out = report(&d, &rc);
	assert_int_equal(rc, 1);
	assert_int_equal(lines_starting(out, "fail route late: fail "), 10);
	assert_int_equal(lines_starting(out, "warn mtu late: warn"), 1);
	/* the problems' 11 lines come out of the ok ones' room: 4096 lines in all */
	assert_int_equal(lines_starting(out, "ok   "), DOCTOR_MAX_FINDINGS - 11);
	assert_int_equal(lines_starting(out, "ok   clock late"), 0);
	assert_non_null(strstr(out, "\n4196 ok, 1 warn, 10 fail (not shown: 111 ok, 0 warn, 0 fail)\n"));
	free(out);
	doctor_free(&d);
}

static void test_late_problems_json(void **state)
{
	struct doctor d = {};
	struct json_object *list, *last, *dropped, *v;
	unsigned int fails = 0, oks = 0;
	size_t i, n;
	char *out;
	int rc;

	(void)state;
	xlb_cli.json = true;
	large_site(&d);
	out = report(&d, &rc);
	xlb_cli.json = false;
	assert_int_equal(rc, 1);
	list = json_tokener_parse(out);
	assert_non_null(list);
	assert_true(json_object_is_type(list, json_type_array));
	n = json_object_array_length(list);
	assert_int_equal(n, DOCTOR_MAX_FINDINGS + 1);
	for (i = 0; i + 1 < n; i++) {
		const char *st = json_object_get_string(
			json_object_object_get(json_object_array_get_idx(list, i), "status"));

		fails += !strcmp(st, "fail");
		oks += !strcmp(st, "ok");
	}
	assert_int_equal(fails, 10);
	assert_int_equal(oks, DOCTOR_MAX_FINDINGS - 11);
	last = json_object_array_get_idx(list, n - 1);
	assert_string_equal(json_object_get_string(json_object_object_get(last, "check")), "doctor");
	assert_string_equal(json_object_get_string(json_object_object_get(last, "status")), "ok");
	assert_true(json_object_object_get_ex(last, "dropped", &dropped));
	assert_true(json_object_object_get_ex(dropped, "ok", &v));
	assert_int_equal(json_object_get_int64(v), 111);
	assert_true(json_object_object_get_ex(dropped, "fail", &v));
	assert_int_equal(json_object_get_int64(v), 0);
	json_object_put(list);
	free(out);
	doctor_free(&d);
}

/* Only ok findings left out: still a healthy host, exit 0. */
static void test_only_ok_dropped(void **state)
{
	struct doctor d = {};
	char *out;
	int rc, i;

	(void)state;
	xlb_cli.json = false;
	for (i = 0; i < DOCTOR_MAX_FINDINGS + 5; i++)
		doctor_add(&d, DOCTOR_OK, "neigh", "be", NULL, "ok %d", i);
	out = report(&d, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\n4101 ok, 0 warn, 0 fail (not shown: 5 ok, 0 warn, 0 fail)\n"));
	free(out);
	doctor_free(&d);
}

/* Under the cap: no "not shown", the list as it was. */
static void test_small_unchanged(void **state)
{
	struct doctor d = {};
	char *out;
	int rc;

	(void)state;
	xlb_cli.json = false;
	doctor_add(&d, DOCTOR_OK, "xdp", "eth0", NULL, "native XDP");
	doctor_add(&d, DOCTOR_WARN, "mtu", "be", "raise it", "too small");
	out = report(&d, &rc);
	assert_int_equal(rc, 1);
	assert_string_equal(out, "ok   xdp eth0: native XDP\nwarn mtu be: too small\n"
				 "     fix: raise it\n1 ok, 1 warn, 0 fail\n");
	free(out);
	doctor_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_late_problems_shown),
		cmocka_unit_test(test_late_problems_json),
		cmocka_unit_test(test_only_ok_dropped),
		cmocka_unit_test(test_small_unchanged),
	};

	xlb_cli.prog = "test";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
