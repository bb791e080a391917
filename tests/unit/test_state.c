// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for state.json (user/lib/state.c): read through the same
 * checks as the config file, and saved so that a failure never looks like
 * a success. Failures of close() and of a directory's fsync() are made on
 * demand by this file's own close() and fsync(), which stand in for libc's
 * in this binary; a short write comes from RLIMIT_FSIZE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "../../user/lib/config.h"
#include "../../user/lib/lb.h"
#include "../../user/lib/state.h"
#include "../../user/lib/syntax.h"
#include "unit_vip.h"

/* ---- failures on demand ------------------------------------------------ */

static int fail_next_file_close;	/* the next close of a regular file: EIO */
static int failed_close_fd = -1;
static int closes_of_failed_fd;		/* counting the failed one */
static int fail_dir_fsync;		/* every fsync of a directory: EIO */

static int is_mode(int fd, mode_t type)
{
	struct stat st;

	return !fstat(fd, &st) && (st.st_mode & S_IFMT) == type;
}

/* Like Linux, a close that fails has released the fd all the same. */
int close(int fd)
{
	if (fd == failed_close_fd)
		closes_of_failed_fd++;
	if (fail_next_file_close && is_mode(fd, S_IFREG)) {
		fail_next_file_close = 0;
		failed_close_fd = fd;
		closes_of_failed_fd = 1;
		syscall(SYS_close, fd);
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_close, fd);
}

int fsync(int fd)
{
	if (fail_dir_fsync && is_mode(fd, S_IFDIR)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

/* ---- state.json -------------------------------------------------------- */

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

	fail_next_file_close = 0;
	failed_close_fd = -1;
	fail_dir_fsync = 0;
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
	write_state(d, "/healthz", 0, 1000);	/* weight 0: a drain */
	assert_int_equal(xlb_state_load(d->path, &out, digest, err, sizeof(err)), 0);
	assert_int_equal(out.vips[0].backends[0].weight, 0);
	assert_int_equal(out.vips[0].backends[0].admin, XLB_ADMIN_ENABLED);
	xlb_config_free(&out);
	write_state(d, "/healthz", 65536, 1000);
	assert_state_refused(d, "vips[0].backends[0].weight: out of range (0..65535) '65536'");
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

/*
 * A state.json of nvips VIPs (port 1..nvips) with per_vip backends each;
 * via: checked through the VIP, and no address in two VIPs.
 */
static void write_state_many(const struct dir *d, unsigned int nvips, unsigned int per_vip,
			     int via)
{
	FILE *f = fopen(d->file, "w");
	unsigned int i, j, k;

	assert_non_null(f);
	fprintf(f, "{ \"version\": 1, \"config_digest\": \"missing\", \"vips\": [\n");
	for (i = 0; i < nvips; i++) {
		fprintf(f, "%s{ \"vip\": \"198.18.0.10:%u/tcp\", \"sched\": \"maglev\", "
			"\"forward\": \"l2dsr\", \"health\": { \"check\": \"%s\", \"path\": \"/\", "
			"\"port\": 0, \"via\": \"%s\", \"interval_ms\": 2000, \"timeout_ms\": 1000, "
			"\"rise\": 2, \"fall\": 3 }, \"backends\": [", i ? ", " : "", i + 1,
			via ? "tcp" : "none", via ? "vip" : "backend");
		for (j = 0; j < per_vip; j++) {
			k = via ? i * per_vip + j : j;
			fprintf(f, "%s{ \"address\": \"198.19.%u.%u\", \"weight\": 100, "
				"\"admin\": \"enabled\", \"interval_ms\": 0, \"timeout_ms\": 0, "
				"\"rise\": 0, \"fall\": 0 }", j ? ", " : "", k / 250, k % 250 + 1);
		}
		fprintf(f, "] }\n");
	}
	fprintf(f, "] }\n");
	assert_int_equal(fclose(f), 0);
}

/* The totals the config file and the control socket keep, the state loader keeps. */
static void test_state_limits(void **state)
{
	struct dir *d = *state;
	struct xlb_config out = {};
	char digest[64], err[XLB_ERR_MAX], want[XLB_ERR_MAX];
	unsigned int per_vip = 1000, nvips = XLB_CP_MAX_BACKENDS / per_vip + 1;

	write_state_many(d, XLB_CP_MAX_VIPS, 0, 0);
	assert_int_equal(xlb_state_load(d->path, &out, digest, err, sizeof(err)), 0);
	assert_int_equal(out.nvips, XLB_CP_MAX_VIPS);
	xlb_config_free(&out);
	write_state_many(d, XLB_CP_MAX_VIPS + 1, 0, 0);
	snprintf(want, sizeof(want), "too many VIPs (%d, max %d)", XLB_CP_MAX_VIPS + 1,
		 XLB_CP_MAX_VIPS);
	assert_state_refused(d, want);
	write_state_many(d, nvips, per_vip, 0);
	snprintf(want, sizeof(want), "vips[%u].backends: too many backends in total (max %d)",
		 nvips - 1, XLB_CP_MAX_BACKENDS);
	assert_state_refused(d, want);
	/* health.via: vip: as many addresses as marks, not one more */
	write_state_many(d, 2, XLB_VIA_MAX / 2, 1);
	assert_int_equal(xlb_state_load(d->path, &out, digest, err, sizeof(err)), 0);
	xlb_config_free(&out);
	write_state_many(d, 2, XLB_VIA_MAX / 2 + 1, 1);
	snprintf(want, sizeof(want), "vips[1].health.via: more than %d backend addresses checked "
		 "via a VIP (%d)", XLB_VIA_MAX, XLB_VIA_MAX + 2);
	assert_state_refused(d, want);
}

/* What xlbd saves, it reads back. */
static void test_state_round_trip(void **state)
{
	struct dir *d = *state;
	struct xlb_state s;
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	struct xlb_vip_cfg vc;
	struct xlb_backend_cfg bc = { .weight = 7, .admin = XLB_ADMIN_DRAIN, .rise = 5 }, bz;
	struct xlb_config out = {};
	char digest[64], err[XLB_ERR_MAX];

	xlb_state_init(&s);
	vip_default(&vc);
	vc.sched = XLB_SCHED_SOURCE_HASH;
	vc.health.kind = XLB_CHECK_HTTPS;
	strcpy(vc.health.path, "/ready?x=1");
	vc.health.via = XLB_CHECK_VIA_VIP;
	vc.min_up = 3;
	s.withdrawn = 1;
	assert_int_equal(xlb_parse_addr("198.18.1.2", bc.addr, err, sizeof(err)), 0);
	assert_int_equal(xlb_state_vip_insert(&s, &vc, &v), 0);
	assert_int_equal(xlb_state_backend_insert(v, &bc, &b), 0);
	/* drained by weight 0, state enabled: both stay as they are */
	bz = bc;
	bz.weight = 0;
	bz.admin = XLB_ADMIN_ENABLED;
	assert_int_equal(xlb_parse_addr("198.18.1.3", bz.addr, err, sizeof(err)), 0);
	assert_int_equal(xlb_state_backend_insert(v, &bz, &b), 0);
	assert_int_equal(xlb_state_save(&s, d->path, err, sizeof(err)), 0);
	xlb_state_free(&s);

	assert_int_equal(xlb_state_load(d->path, &out, digest, err, sizeof(err)), 0);
	assert_int_equal(out.nvips, 1);
	assert_int_equal(out.vips[0].sched, XLB_SCHED_SOURCE_HASH);
	assert_int_equal(out.vips[0].health.kind, XLB_CHECK_HTTPS);
	assert_string_equal(out.vips[0].health.path, "/ready?x=1");
	assert_int_equal(out.vips[0].health.via, XLB_CHECK_VIA_VIP);
	assert_int_equal(out.vips[0].min_up, 3);
	assert_int_equal(out.host_withdrawn, 1);
	assert_int_equal(out.vips[0].nbackends, 2);
	assert_true(xlb_backend_cfg_equal(&out.vips[0].backends[0], &bc));
	assert_true(xlb_backend_cfg_equal(&out.vips[0].backends[1], &bz));
	xlb_config_free(&out);
}

/* A state of one VIP with n backends 198.18.1.1, .2, ... */
static void state_with(struct xlb_state *s, unsigned int n)
{
	struct xlb_backend_cfg bc = { .weight = 100 };
	struct xlb_state_backend *b;
	struct xlb_state_vip *v;
	struct xlb_vip_cfg vc;
	char addr[32], err[64];
	unsigned int i;

	xlb_state_init(s);
	vip_default(&vc);
	assert_int_equal(xlb_state_vip_insert(s, &vc, &v), 0);
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "198.18.1.%u", i + 1);
		assert_int_equal(xlb_parse_addr(addr, bc.addr, err, sizeof(err)), 0);
		assert_int_equal(xlb_state_backend_insert(v, &bc, &b), 0);
	}
}

static char *read_text(const char *path)
{
	char *text;
	FILE *f;
	long len;

	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), len);
	fclose(f);
	return text;
}

/* Save a state of n backends, and return what the file holds (caller frees). */
static char *save_ok(const struct dir *d, unsigned int n)
{
	struct xlb_state s;
	char err[XLB_ERR_MAX] = "stale";

	state_with(&s, n);
	assert_int_equal(xlb_state_save(&s, d->path, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	xlb_state_free(&s);
	return read_text(d->file);
}

/* After a failed save: the file saved before, and no temporary one. */
static void assert_kept(const struct dir *d, char *before)
{
	char tmp[128], *now;

	snprintf(tmp, sizeof(tmp), "%s.tmp", d->file);
	assert_int_equal(access(tmp, F_OK), -1);
	now = read_text(d->file);
	assert_string_equal(now, before);
	free(now);
	free(before);
}

static void assert_save_err(const struct dir *d, const char *err, const char *why)
{
	char want[XLB_ERR_MAX];

	snprintf(want, sizeof(want), "cannot save the runtime state to %s: %s", d->file, why);
	assert_string_equal(err, want);
}

/* A write cut short (here by RLIMIT_FSIZE) fails the save with the reason. */
static void test_save_short_write(void **state)
{
	struct dir *d = *state;
	struct rlimit old, small = { .rlim_cur = 100 };
	char *before = save_ok(d, 1);
	struct xlb_state s;
	char err[XLB_ERR_MAX];
	void (*old_handler)(int);
	int ret;

	state_with(&s, 20);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	ret = xlb_state_save(&s, d->path, err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	xlb_state_free(&s);
	assert_int_equal(ret, -EFBIG);
	assert_save_err(d, err, "File too large");
	assert_kept(d, before);
}

/* A failed close fails the save, and the fd is closed once, not twice. */
static void test_save_close_fails(void **state)
{
	struct dir *d = *state;
	char *before = save_ok(d, 1);
	struct xlb_state s;
	char err[XLB_ERR_MAX];

	state_with(&s, 3);
	fail_next_file_close = 1;
	assert_int_equal(xlb_state_save(&s, d->path, err, sizeof(err)), -EIO);
	xlb_state_free(&s);
	assert_save_err(d, err, "Input/output error");
	assert_true(failed_close_fd >= 0);
	assert_int_equal(closes_of_failed_fd, 1);
	assert_kept(d, before);
}

/* The file is in place when only the directory's fsync fails: a warning. */
static void test_save_dir_sync_fails(void **state)
{
	struct dir *d = *state;
	char err[XLB_ERR_MAX], want[XLB_ERR_MAX];
	struct xlb_config out = {};
	struct xlb_state s;
	char digest[64];

	state_with(&s, 2);
	fail_dir_fsync = 1;
	assert_int_equal(xlb_state_save(&s, d->path, err, sizeof(err)), 0);
	fail_dir_fsync = 0;
	xlb_state_free(&s);
	snprintf(want, sizeof(want), "saved %s, but cannot sync %s: Input/output error; "
		 "the change may be lost in a crash", d->file, d->path);
	assert_string_equal(err, want);
	assert_int_equal(xlb_state_load(d->path, &out, digest, err, sizeof(err)), 0);
	assert_int_equal(out.nvips, 1);
	assert_int_equal(out.vips[0].nbackends, 2);
	xlb_config_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_load, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_state_duplicates, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_state_limits, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_save_short_write, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_save_close_fails, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_save_dir_sync_fails, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
