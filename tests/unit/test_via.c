// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the rules and routes of checks via the VIP
 * (user/lib/via.c), in a network namespace of their own (in_netns.sh): the
 * namespace's lock, and a flush whose copy of the dump fails half-way.
 * Allocations fail on demand through this file's malloc(), which stands in
 * for libc's in this binary.
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
#include <sys/stat.h>

#include "../../user/lib/via.h"

/* ---- failures on demand ------------------------------------------------ */

void *__libc_malloc(size_t n);

static int malloc_ok_left = -1;	/* -1: every malloc succeeds; else this many, then none */

void *malloc(size_t n)
{
	if (malloc_ok_left == 0) {
		errno = ENOMEM;
		return NULL;
	}
	if (malloc_ok_left > 0)
		malloc_ok_left--;
	return __libc_malloc(n);
}

/* ---- tests ------------------------------------------------------------- */

/* One holder per namespace: a second lock, even in this process, names the holder. */
static void test_lock(void **state)
{
	char err[256], want[64];
	int fd, again;

	(void)state;
	fd = xlb_via_lock(err, sizeof(err));
	assert_true(fd >= 0);
	again = xlb_via_lock(err, sizeof(err));
	assert_int_equal(again, -EBUSY);
	snprintf(want, sizeof(want), "another xlbd (pid %d) holds the rules", (int)getpid());
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "in this network namespace"));
	close(fd);
	fd = xlb_via_lock(err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
}

#define SLOTS 200	/* a dump of several datagrams */

/*
 * A copy failing half-way through the dump fails the flush, which still
 * reads the dump to its end: the next request gets its own answer, and the
 * next flush removes every rule and route.
 */
static void test_flush_copy_fails(void **state)
{
	struct xlb_via *v;
	unsigned int removed = 7;
	__u32 i;
	int ret;

	(void)state;
	assert_int_equal(xlb_via_open(&v), 0);
	for (i = 0; i < SLOTS; i++)
		assert_int_equal(xlb_via_slot(v, i, 1, 1), 0);
	malloc_ok_left = SLOTS / 4;
	ret = xlb_via_flush(v, &removed);
	malloc_ok_left = -1;
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(removed, 0);
	assert_int_equal(xlb_via_slot(v, SLOTS, 1, 1), 0);
	assert_int_equal(xlb_via_flush(v, &removed), 0);
	assert_int_equal(removed, 2 * (SLOTS + 1)); /* a rule and an unreachable default each */
	assert_int_equal(xlb_via_flush(v, &removed), 0);
	assert_int_equal(removed, 0);
	xlb_via_close(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_flush_copy_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
