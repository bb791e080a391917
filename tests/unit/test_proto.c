// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the control-socket codec (user/proto.c) and, end to end,
 * of xlbctl's argument handling and output: the xlbctl binary named by
 * argv[1] or $XLBCTL is run against a missing socket, and against a fake
 * daemon forked here that records each request and answers a canned reply.
 * Without a binary those tests are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "../../user/lib/proto.h"

#define VIP4 "198.18.100.10:80/tcp"
#define BE4 "198.18.0.11"
#define NOSOCK "@NOSOCK"	/* replaced by a path that does not exist */
#define SOCK "@SOCK"		/* replaced by the fake daemon's socket */

static char tmpdir[64];
static char nosock_path[128];
static char sock_path[128];
static char log_path[128];
static const char *xlbctl_path;
static pid_t server_pid;	/* the fake daemon, if one runs */

static int group_setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/xlb-test-proto.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(nosock_path, sizeof(nosock_path), "%s/none.sock", tmpdir);
	snprintf(sock_path, sizeof(sock_path), "%s/xlbd.sock", tmpdir);
	snprintf(log_path, sizeof(log_path), "%s/requests.log", tmpdir);
	return 0;
}

static int group_teardown(void **state)
{
	char path[192];
	static const char *const names[] = { "none.sock", "xlbd.sock", "requests.log",
					      "stdout", "stderr", "refused.sock" };
	size_t i;

	(void)state;
	if (server_pid) {
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	return 0;
}

/* ---------------------------------------------------------------- line buffer */

static void test_linebuf_split_reads(void **state)
{
	struct xlb_linebuf lb;
	char *line;
	size_t len;

	(void)state;
	xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 0);
	assert_int_equal(xlb_linebuf_feed(&lb, "{\"cmd\":", 7), 0);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 0);
	assert_int_equal(xlb_linebuf_pending(&lb), 7);
	assert_int_equal(xlb_linebuf_feed(&lb, "\"status\"}", 9), 0);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 0);
	assert_int_equal(xlb_linebuf_feed(&lb, "\n", 1), 0);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
	assert_string_equal(line, "{\"cmd\":\"status\"}");
	assert_int_equal(len, 16);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 0);
	assert_int_equal(xlb_linebuf_pending(&lb), 0);
	xlb_linebuf_free(&lb);
}

static void test_linebuf_several_lines(void **state)
{
	static const char in[] = "a\nbb\n\nccc";
	struct xlb_linebuf lb;
	char *line;
	size_t len;

	(void)state;
	xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
	assert_int_equal(xlb_linebuf_feed(&lb, in, sizeof(in) - 1), 0);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
	assert_string_equal(line, "a");
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
	assert_string_equal(line, "bb");
	assert_int_equal(len, 2);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
	assert_string_equal(line, "");
	assert_int_equal(len, 0);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 0);
	assert_int_equal(xlb_linebuf_pending(&lb), 3);
	assert_int_equal(xlb_linebuf_feed(&lb, "\nd\n", 3), 0);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, NULL), 1);
	assert_string_equal(line, "ccc");
	assert_int_equal(xlb_linebuf_pop(&lb, &line, NULL), 1);
	assert_string_equal(line, "d");
	assert_int_equal(xlb_linebuf_pop(&lb, &line, NULL), 0);
	xlb_linebuf_free(&lb);
}

/* CRLF is tolerated: "\r\n" ends a line like "\n"; a lone '\r' is data. */
static void test_linebuf_crlf(void **state)
{
	static const char in[] = "abc\r\n\r\na\rb\n";
	struct xlb_linebuf lb;
	char *line;
	size_t len;

	(void)state;
	xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
	assert_int_equal(xlb_linebuf_feed(&lb, in, sizeof(in) - 1), 0);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
	assert_string_equal(line, "abc");
	assert_int_equal(len, 3);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
	assert_string_equal(line, "a\rb");
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 0);
	xlb_linebuf_free(&lb);
}

/* n 'x' then ending, in a fresh buffer */
static char *long_line(size_t n, const char *ending)
{
	size_t elen = strlen(ending);
	char *s = malloc(n + elen + 1);

	assert_non_null(s);
	memset(s, 'x', n);
	memcpy(s + n, ending, elen + 1);
	return s;
}

static void test_linebuf_exactly_max(void **state)
{
	static const char *const endings[] = { "\n", "\r\n" };
	struct xlb_linebuf lb;
	char *line, *in;
	size_t i, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		in = long_line(XLB_PROTO_MAX_LINE, endings[i]);
		xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
		assert_int_equal(xlb_linebuf_feed(&lb, in, strlen(in)), 0);
		assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
		assert_int_equal(len, XLB_PROTO_MAX_LINE);
		assert_int_equal(strlen(line), XLB_PROTO_MAX_LINE);
		assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 0);
		xlb_linebuf_free(&lb);
		free(in);
	}
}

/* One byte over: reported once, and the next line still parses. */
static void test_linebuf_one_over(void **state)
{
	static const char *const endings[] = {
		"\n{\"cmd\":\"status\"}\n",
		"\r\n{\"cmd\":\"status\"}\n",
	};
	struct json_object *req;
	struct xlb_linebuf lb;
	const char *cmd;
	char *line, *in, err[128];
	size_t i, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		in = long_line(XLB_PROTO_MAX_LINE + 1, endings[i]);
		xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
		assert_int_equal(xlb_linebuf_feed(&lb, in, strlen(in)), 0);
		assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), -EMSGSIZE);
		assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
		assert_int_equal(xlb_proto_parse_request(line, len, &req, &cmd, err, sizeof(err)), 0);
		assert_string_equal(cmd, "status");
		json_object_put(req);
		assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 0);
		xlb_linebuf_free(&lb);
		free(in);
	}
}

/* A huge line dribbled in: one report, bounded memory, the stream goes on. */
static void test_linebuf_huge_line_chunked(void **state)
{
	struct xlb_linebuf lb;
	char chunk[4096], *line;
	int i, ret, too_long = 0, lines = 0;
	size_t len;

	(void)state;
	memset(chunk, 'y', sizeof(chunk));
	xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
	assert_int_equal(xlb_linebuf_feed(&lb, "first\n", 6), 0);
	for (i = 0; i < 256; i++) {	/* 1 MiB */
		assert_int_equal(xlb_linebuf_feed(&lb, chunk, sizeof(chunk)), 0);
		while ((ret = xlb_linebuf_pop(&lb, &line, &len)) != 0) {
			if (ret == -EMSGSIZE)
				too_long++;
			else if (ret == 1)
				lines++;
		}
	}
	assert_int_equal(lines, 1);
	assert_int_equal(too_long, 1);
	assert_true(lb.cap <= 4 * (XLB_PROTO_MAX_LINE + sizeof(chunk)));
	assert_int_equal(xlb_linebuf_feed(&lb, "yyy\r\nnext\n", 10), 0);
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
	assert_string_equal(line, "next");
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 0);
	xlb_linebuf_free(&lb);
}

static void test_linebuf_byte_by_byte(void **state)
{
	struct xlb_linebuf lb;
	char *in = long_line(5000, "\n"), *line;
	size_t i, len;

	(void)state;
	xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
	for (i = 0; in[i]; i++) {
		assert_int_equal(xlb_linebuf_feed(&lb, in + i, 1), 0);
		if (in[i + 1])
			assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 0);
	}
	assert_int_equal(xlb_linebuf_pop(&lb, &line, &len), 1);
	assert_int_equal(len, 5000);
	xlb_linebuf_free(&lb);
	free(in);
}

/* ---------------------------------------------------------------- requests */

struct parse_case {
	const char *line;
	size_t len;		/* 0: strlen(line) */
	const char *err;	/* NULL: parses, with cmd "status" */
};

static void test_parse_request(void **state)
{
	static const struct parse_case cases[] = {
		{ "{\"cmd\":\"status\"}", 0, NULL },
		{ " {\"cmd\" : \"status\"}\t ", 0, NULL },
		{ "{\"cmd\":\"status\"}\r", 0, NULL },
		{ "", 0, "malformed JSON" },
		{ "{", 0, "malformed JSON" },
		{ "{\"cmd\":\"status\"", 0, "malformed JSON" },
		{ "{\"cmd\":\"status\"} x", 0, "malformed JSON" },
		{ "{\"cmd\":\"status\"}{}", 0, "malformed JSON" },
		{ "{\"cmd\":\"status\",}", 0, "malformed JSON" },
		{ "{\"cmd\":\"st\xff\"}", 0, "malformed JSON" },
		{ "cmd=status", 0, "malformed JSON" },
		{ "tru", 0, "malformed JSON" },
		{ "{\"cmd\":\"status\"}\0junk", 21, "malformed JSON" },
		{ "[1,2]", 0, "request must be a JSON object" },
		{ "\"status\"", 0, "request must be a JSON object" },
		{ "42", 0, "request must be a JSON object" },
		{ "null", 0, "request must be a JSON object" },
		{ "true", 0, "request must be a JSON object" },
		{ "{}", 0, "missing cmd" },
		{ "{\"vip\":\"" VIP4 "\"}", 0, "missing cmd" },
		{ "{\"cmd\":5}", 0, "cmd must be a string" },
		{ "{\"cmd\":null}", 0, "cmd must be a string" },
		{ "{\"cmd\":[\"status\"]}", 0, "cmd must be a string" },
	};
	struct json_object *req;
	const char *cmd;
	char err[128];
	size_t i, len;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].line);
		err[0] = '\0';
		ret = xlb_proto_parse_request(cases[i].line, len, &req, &cmd, err, sizeof(err));
		if (!cases[i].err) {
			if (ret)
				print_error("case %zu '%s': %s\n", i, cases[i].line, err);
			assert_int_equal(ret, 0);
			assert_string_equal(cmd, "status");
			json_object_put(req);
			continue;
		}
		if (ret != -EINVAL || strcmp(err, cases[i].err))
			print_error("case %zu '%s': got %d '%s'\n", i, cases[i].line, ret, err);
		assert_int_equal(ret, -EINVAL);
		assert_null(req);
		assert_string_equal(err, cases[i].err);
	}
}

static struct json_object *parse_ok(const char *line)
{
	struct json_object *req;
	const char *cmd;
	char err[128];

	assert_int_equal(xlb_proto_parse_request(line, strlen(line), &req, &cmd, err,
						 sizeof(err)), 0);
	return req;
}

static void test_get_str(void **state)
{
	struct json_object *req = parse_ok(
		"{\"cmd\":\"vip-del\",\"vip\":\"" VIP4 "\",\"n\":5,\"z\":null,\"nul\":\"a\\u0000b\"}");
	const char *s = "untouched";
	char err[128];

	(void)state;
	assert_int_equal(xlb_proto_get_str(req, "vip", &s, err, sizeof(err)), 0);
	assert_string_equal(s, VIP4);
	assert_int_equal(xlb_proto_get_opt_str(req, "vip", &s, err, sizeof(err)), 1);

	s = "untouched";
	assert_int_equal(xlb_proto_get_opt_str(req, "address", &s, err, sizeof(err)), 0);
	assert_string_equal(s, "untouched");

	assert_int_equal(xlb_proto_get_str(req, "address", &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "missing address");
	assert_int_equal(xlb_proto_get_str(req, "n", &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "n must be a string");
	assert_int_equal(xlb_proto_get_opt_str(req, "n", &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "n must be a string");
	assert_int_equal(xlb_proto_get_opt_str(req, "z", &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "z must be a string");
	assert_int_equal(xlb_proto_get_str(req, "nul", &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "nul must not contain NUL characters");
	json_object_put(req);
}

static void test_get_u32(void **state)
{
	static const char *const bad[] = {
		"0", "65536", "-1", "\"100\"", "1.5", "100.0", "true", "null", "[100]",
		"1e3", "99999999999999999999", "-99999999999999999999",
	};
	struct json_object *req;
	char line[256], err[128];
	__u32 w = 7;
	size_t i;

	(void)state;
	req = parse_ok("{\"cmd\":\"backend-set\",\"weight\":100,\"min\":1,\"max\":65535}");
	assert_int_equal(xlb_proto_get_u32(req, "weight", 1, 65535, &w, err, sizeof(err)), 0);
	assert_int_equal(w, 100);
	assert_int_equal(xlb_proto_get_opt_u32(req, "min", 1, 65535, &w, err, sizeof(err)), 1);
	assert_int_equal(w, 1);
	assert_int_equal(xlb_proto_get_u32(req, "max", 1, 65535, &w, err, sizeof(err)), 0);
	assert_int_equal(w, 65535);
	w = 7;
	assert_int_equal(xlb_proto_get_opt_u32(req, "rise", 1, 100, &w, err, sizeof(err)), 0);
	assert_int_equal(w, 7);
	assert_int_equal(xlb_proto_get_u32(req, "rise", 1, 100, &w, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "missing rise");
	json_object_put(req);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "{\"cmd\":\"backend-set\",\"weight\":%s}", bad[i]);
		req = parse_ok(line);
		w = 7;
		err[0] = '\0';
		assert_int_equal(xlb_proto_get_u32(req, "weight", 1, 65535, &w, err, sizeof(err)),
				 -EINVAL);
		if (strcmp(err, "weight must be an integer 1..65535"))
			print_error("weight %s: '%s'\n", bad[i], err);
		assert_string_equal(err, "weight must be an integer 1..65535");
		assert_int_equal(xlb_proto_get_opt_u32(req, "weight", 1, 65535, &w, err,
						       sizeof(err)), -EINVAL);
		assert_int_equal(w, 7);
		json_object_put(req);
	}
}

static void test_check_keys(void **state)
{
	static const char *const allowed[] = { "vip", "address", "weight", NULL };
	struct json_object *req;
	char err[128];

	(void)state;
	req = parse_ok("{\"cmd\":\"backend-add\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\"}");
	assert_int_equal(xlb_proto_check_keys(req, allowed, err, sizeof(err)), 0);
	json_object_put(req);
	req = parse_ok("{\"cmd\":\"backend-add\",\"vip\":\"" VIP4 "\",\"wieght\":5}");
	assert_int_equal(xlb_proto_check_keys(req, allowed, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown argument 'wieght' for backend-add");
	json_object_put(req);
}

/* ---------------------------------------------------------------- replies */

static void assert_line(struct json_object *obj, const char *want)
{
	char *line;
	ssize_t n;

	n = xlb_proto_to_line(obj, &line);
	assert_int_equal(n, strlen(want));
	assert_string_equal(line, want);
	/* One line: the only '\n' is the last byte. */
	assert_ptr_equal(strchr(line, '\n'), line + n - 1);
	free(line);
}

static void test_reply_builders(void **state)
{
	struct json_object *obj;

	(void)state;
	obj = xlb_proto_ok();
	assert_line(obj, "{\"ok\":true}\n");
	json_object_object_add(obj, "vips", json_object_new_array());
	assert_line(obj, "{\"ok\":true,\"vips\":[]}\n");
	json_object_put(obj);

	obj = xlb_proto_error("no such VIP %s", VIP4);
	assert_line(obj, "{\"ok\":false,\"error\":\"no such VIP " VIP4 "\"}\n");
	assert_string_equal(xlb_proto_reply_error(obj), "no such VIP " VIP4);
	json_object_put(obj);

	/* Newlines in strings are escaped, slashes are not. */
	obj = xlb_proto_error("line one\nline \"two\" /healthz");
	assert_line(obj, "{\"ok\":false,\"error\":\"line one\\nline \\\"two\\\" /healthz\"}\n");
	json_object_put(obj);

	obj = xlb_proto_ok();
	json_object_object_add(obj, "added", json_object_new_array());
	json_object_array_add(json_object_object_get(obj, "added"),
			      json_object_new_string("x\r\ny"));
	assert_line(obj, "{\"ok\":true,\"added\":[\"x\\r\\ny\"]}\n");
	assert_null(xlb_proto_reply_error(obj));
	json_object_put(obj);
}

/* What the daemon writes, the codec reads back the same. */
static void test_round_trip(void **state)
{
	struct json_object *obj = json_object_new_object(), *req;
	struct xlb_linebuf lb;
	const char *cmd;
	char *line, *got, err[128];
	ssize_t n;
	size_t len;

	(void)state;
	json_object_object_add(obj, "cmd", json_object_new_string("vip-add"));
	json_object_object_add(obj, "path", json_object_new_string("/a b\n\"c\""));
	json_object_object_add(obj, "rise", json_object_new_int(2));
	n = xlb_proto_to_line(obj, &line);
	assert_true(n > 0);
	xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
	assert_int_equal(xlb_linebuf_feed(&lb, line, n), 0);
	assert_int_equal(xlb_linebuf_pop(&lb, &got, &len), 1);
	assert_int_equal(xlb_proto_parse_request(got, len, &req, &cmd, err, sizeof(err)), 0);
	assert_string_equal(cmd, "vip-add");
	assert_true(json_object_equal(obj, req));
	json_object_put(req);
	json_object_put(obj);
	xlb_linebuf_free(&lb);
	free(line);
}

/* ---------------------------------------------------------------- fake daemon */

enum serve_mode {
	SERVE_REPLY,		/* answer every request line with the reply */
	SERVE_REPLY_SLOW,	/* the same, a few bytes at a time */
	SERVE_SILENT,		/* read, never answer */
	SERVE_CLOSE,		/* read one line, hang up */
	SERVE_SEQUENCE,		/* the reply's lines in turn, the last again; "" hangs up */
};

static int listen_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	unlink(path);
	strcpy(addr.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static void write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= w;
	}
}

static void serve_connection(int fd, enum serve_mode mode, const char *reply, int log)
{
	struct xlb_linebuf lb;
	char buf[4096], *line;
	const char *next = reply, *end;
	size_t i, len;
	ssize_t n;

	xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		xlb_linebuf_feed(&lb, buf, n);
		while (xlb_linebuf_pop(&lb, &line, &len) == 1) {
			write_all(log, line, len);
			write_all(log, "\n", 1);
			if (mode == SERVE_CLOSE)
				goto out;
			/* Per connection: a client that reconnects starts over. */
			if (mode == SERVE_SEQUENCE) {
				end = strchr(next, '\n') + 1;
				if (end == next + 1)
					goto out;
				write_all(fd, next, end - next);
				if (*end)
					next = end;
				continue;
			}
			if (mode == SERVE_REPLY)
				write_all(fd, reply, strlen(reply));
			if (mode != SERVE_REPLY_SLOW)
				continue;
			for (i = 0; reply[i]; i += 3) {
				write_all(fd, reply + i, strlen(reply + i) < 3 ? strlen(reply + i) : 3);
				usleep(1000);
			}
		}
	}
out:
	xlb_linebuf_free(&lb);
	close(fd);
}

static void server_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(sock_path);
	server_pid = 0;
}

/*
 * Fork a daemon stand-in on sock_path; requests are appended to log_path.
 * A failed assertion skips server_stop(), so the next start, the group
 * teardown and, at worst, PR_SET_PDEATHSIG end a leftover one.
 */
static pid_t server_start(enum serve_mode mode, const char *reply)
{
	pid_t parent = getpid(), pid;
	int lfd, fd, log;

	if (server_pid)
		server_stop(server_pid);
	lfd = listen_unix(sock_path);
	unlink(log_path);
	pid = fork();
	assert_true(pid >= 0);
	if (pid) {
		close(lfd);
		server_pid = pid;
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	signal(SIGPIPE, SIG_IGN);
	log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd >= 0)
			serve_connection(fd, mode, reply, log);
	}
}

static char *read_file(const char *path)
{
	static char buf[1 << 17];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static struct json_object *request(const char *cmd)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	return req;
}

static void test_call_ok(void **state)
{
	pid_t pid = server_start(SERVE_REPLY, "{\"ok\":true,\"vips\":[]}\n");
	struct json_object *req = request("vip-show"), *reply;
	char err[256];

	(void)state;
	assert_int_equal(xlb_proto_call(sock_path, req, &reply, err, sizeof(err)), 0);
	assert_null(xlb_proto_reply_error(reply));
	assert_non_null(json_object_object_get(reply, "vips"));
	json_object_put(reply);
	server_stop(pid);
	assert_string_equal(read_file(log_path), "{\"cmd\":\"vip-show\"}\n");
	json_object_put(req);
}

static void test_call_slow_reply(void **state)
{
	pid_t pid = server_start(SERVE_REPLY_SLOW, "{\"ok\":true,\"uptime_s\":12}\r\n");
	struct json_object *req = request("status"), *reply;
	char err[256];

	(void)state;
	assert_int_equal(xlb_proto_call(sock_path, req, &reply, err, sizeof(err)), 0);
	assert_int_equal(json_object_get_int(json_object_object_get(reply, "uptime_s")), 12);
	json_object_put(reply);
	server_stop(pid);
	json_object_put(req);
}

static void test_call_error_reply(void **state)
{
	pid_t pid = server_start(SERVE_REPLY, "{\"ok\":false,\"error\":\"no such VIP\"}\n");
	struct json_object *req = request("vip-del"), *reply;
	char err[256];

	(void)state;
	json_object_object_add(req, "vip", json_object_new_string(VIP4));
	assert_int_equal(xlb_proto_call(sock_path, req, &reply, err, sizeof(err)), 0);
	assert_string_equal(xlb_proto_reply_error(reply), "no such VIP");
	json_object_put(reply);
	server_stop(pid);
	assert_string_equal(read_file(log_path),
			    "{\"cmd\":\"vip-del\",\"vip\":\"" VIP4 "\"}\n");
	json_object_put(req);
}

static void test_call_several_requests(void **state)
{
	pid_t pid = server_start(SERVE_REPLY, "{\"ok\":true}\n");
	struct json_object *reply;
	struct xlb_proto_client c;
	char err[256];
	int i;

	(void)state;
	assert_int_equal(xlb_proto_connect(&c, sock_path, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++) {
		struct json_object *req = request(i == 1 ? "reload" : "status");

		assert_int_equal(xlb_proto_request(&c, req, 2000, &reply, err, sizeof(err)), 0);
		assert_null(xlb_proto_reply_error(reply));
		json_object_put(reply);
		json_object_put(req);
	}
	xlb_proto_close(&c);
	server_stop(pid);
	assert_string_equal(read_file(log_path),
			    "{\"cmd\":\"status\"}\n{\"cmd\":\"reload\"}\n{\"cmd\":\"status\"}\n");
}

static void test_call_no_socket(void **state)
{
	struct json_object *req = request("status"), *reply = (void *)1;
	char err[256], want[256];

	(void)state;
	snprintf(want, sizeof(want),
		 "daemon not running (connect %s: No such file or directory)", nosock_path);
	assert_int_equal(xlb_proto_call(nosock_path, req, &reply, err, sizeof(err)), -ENOENT);
	assert_null(reply);
	assert_string_equal(err, want);
	json_object_put(req);
}

/* A socket file nobody listens on any more, as after a crash of xlbd. */
static void test_call_refused(void **state)
{
	struct json_object *req = request("status"), *reply;
	char path[192], err[256], want[256];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	(void)state;
	snprintf(path, sizeof(path), "%s/refused.sock", tmpdir);
	strcpy(addr.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	snprintf(want, sizeof(want), "daemon not running (connect %s: Connection refused)", path);
	assert_int_equal(xlb_proto_call(path, req, &reply, err, sizeof(err)), -ECONNREFUSED);
	assert_string_equal(err, want);
	unlink(path);
	json_object_put(req);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_call_timeout(void **state)
{
	pid_t pid = server_start(SERVE_SILENT, NULL);
	struct json_object *req = request("status"), *reply;
	struct timespec t0;
	char err[256];
	long ms;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(xlb_proto_call_timeout(sock_path, req, 200, &reply, err, sizeof(err)),
			 -ETIMEDOUT);
	ms = elapsed_ms(&t0);
	assert_string_equal(err, "daemon did not answer (timeout)");
	assert_null(reply);
	assert_true(ms >= 190 && ms < 3000);
	server_stop(pid);
	json_object_put(req);
}

static void test_call_hang_up(void **state)
{
	pid_t pid = server_start(SERVE_CLOSE, NULL);
	struct json_object *req = request("status"), *reply;
	char err[256];

	(void)state;
	assert_int_equal(xlb_proto_call(sock_path, req, &reply, err, sizeof(err)), -ECONNRESET);
	assert_string_equal(err, "daemon closed the connection");
	server_stop(pid);
	json_object_put(req);
}

static void test_call_bad_replies(void **state)
{
	static const struct {
		const char *reply;
		const char *err;
	} cases[] = {
		{ "hello\n", "bad reply from daemon (malformed JSON)" },
		{ "{\"ok\":true\n", "bad reply from daemon (malformed JSON)" },
		{ "[true]\n", "bad reply from daemon (not a JSON object)" },
		{ "{\"vips\":[]}\n", "bad reply from daemon (no \"ok\")" },
		{ "{\"ok\":\"yes\"}\n", "bad reply from daemon (no \"ok\")" },
		{ "{\"ok\":false}\n", "bad reply from daemon (refusal without \"error\")" },
	};
	struct json_object *req = request("status"), *reply;
	char err[256];
	size_t i;
	pid_t pid;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid = server_start(SERVE_REPLY, cases[i].reply);
		assert_int_equal(xlb_proto_call(sock_path, req, &reply, err, sizeof(err)),
				 -EPROTO);
		assert_null(reply);
		assert_string_equal(err, cases[i].err);
		server_stop(pid);
	}
	json_object_put(req);
}

/* ---------------------------------------------------------------- xlbctl */

struct run_result {
	int exit_code;		/* -1: killed by a signal */
	char out[1 << 16];
	char err[1 << 13];
};

static struct run_result result;

/* Run xlbctl with args (NULL-terminated; "@NOSOCK" and "@SOCK" expand). */
static struct run_result *run_xlbctl(const char *const *args)
{
	char out_path[192], err_path[192];
	const char *argv[40];
	int i, status, fd;
	pid_t pid;

	snprintf(out_path, sizeof(out_path), "%s/stdout", tmpdir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", tmpdir);
	argv[0] = xlbctl_path;
	for (i = 0; args[i]; i++) {
		assert_true(i + 2 < (int)(sizeof(argv) / sizeof(argv[0])));
		if (!strcmp(args[i], NOSOCK))
			argv[i + 1] = nosock_path;
		else if (!strcmp(args[i], SOCK))
			argv[i + 1] = sock_path;
		else
			argv[i + 1] = args[i];
	}
	argv[i + 1] = NULL;

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execv(xlbctl_path, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	snprintf(result.out, sizeof(result.out), "%s", read_file(out_path));
	snprintf(result.err, sizeof(result.err), "%s", read_file(err_path));
	return &result;
}

static void need_xlbctl(void)
{
	if (!xlbctl_path)
		skip();
}

static char *args_text(const char *const *args)
{
	static char buf[512];
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; args[i] && off < sizeof(buf); i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " " : "", args[i]);
	return buf;
}

/* {"error":"msg"} as xlbctl -j prints it */
static const char *json_error(const char *msg)
{
	static char buf[1024];
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "error", json_object_new_string(msg));
	snprintf(buf, sizeof(buf), "%s\n", json_object_to_json_string_ext(obj,
		 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	return buf;
}

static void expect_run(const char *const *args, int code, const char *out, const char *err)
{
	struct run_result *r = run_xlbctl(args);

	if (r->exit_code != code || strcmp(r->err, err) || (out && strcmp(r->out, out)))
		print_error("xlbctl %s\n  exit %d (want %d)\n  stderr: %s  want:   %s"
			    "  stdout: %s\n  want:   %s\n",
			    args_text(args), r->exit_code, code, r->err, err, r->out,
			    out ? out : "(any)");
	assert_int_equal(r->exit_code, code);
	assert_string_equal(r->err, err);
	if (out)
		assert_string_equal(r->out, out);
}

#define MAX_ARGS 24

struct bad_case {
	const char *args[MAX_ARGS];
	const char *err;
};

/* Each is run as "xlbctl -s NOSOCK ARGS": exit 2, this one line, nothing sent. */
static const struct bad_case bad_cases[] = {
	{ { "foo" }, "unknown object 'foo'" },
	{ { "" }, "unknown object ''" },
	{ { "vipx" }, "unknown object 'vipx'" },
	{ { "help", "foo" }, "unknown object 'foo'" },
	{ { "vip", "frob" }, "unknown verb 'frob' for 'vip'" },
	{ { "backend", "sett" }, "unknown verb 'sett' for 'backend'" },
	{ { "vip", "add" }, "missing VIP" },
	{ { "vip", "add", "192.0.2.300:80/tcp" },
	  "invalid VIP '192.0.2.300:80/tcp': bad IPv4 address" },
	{ { "vip", "add", "192.0.2.1" }, "invalid VIP '192.0.2.1': missing port" },
	{ { "vip", "add", "192.0.2.1:80" }, "invalid VIP '192.0.2.1:80': missing protocol" },
	{ { "vip", "add", "192.0.2.1:65536/tcp" },
	  "invalid VIP '192.0.2.1:65536/tcp': bad port" },
	{ { "vip", "add", "192.0.2.1:80/sctp" },
	  "invalid VIP '192.0.2.1:80/sctp': bad protocol (tcp or udp)" },
	{ { "vip", "add", "2001:db8::1:80/tcp" },
	  "invalid VIP '2001:db8::1:80/tcp': IPv6 address needs brackets" },
	{ { "vip", "add", "[2001:db8::zz]:80/tcp" },
	  "invalid VIP '[2001:db8::zz]:80/tcp': bad IPv6 address" },
	{ { "vip", "add", VIP4, "foo", "bar" }, "unknown keyword 'foo' for 'vip add'" },
	{ { "vip", "add", VIP4, "sched", "maglev", "sched", "maglev" },
	  "'vip add': duplicate keyword 'sched'" },
	{ { "vip", "add", VIP4, "sch", "maglev", "sched", "source-hash" },
	  "'vip add': duplicate keyword 'sched'" },
	{ { "vip", "add", VIP4, "sched" }, "'vip add': missing sched value" },
	{ { "vip", "add", VIP4, "sched", "rr" },
	  "sched: bad scheduler (maglev or source-hash)" },
	{ { "vip", "add", VIP4, "forward", "nat" }, "forward: bad forwarding mode (l2dsr, ipip)" },
	{ { "s" }, "ambiguous command 's': stats, status" },
	{ { "vip", "add", VIP4, "f", "l2dsr" }, "ambiguous keyword 'f' for 'vip add': fall, forward" },
	{ { "vip", "add", VIP4, "c", "tcp" },
	  "ambiguous keyword 'c' for 'vip add': check, check-port" },
	{ { "vip", "add", VIP4, "check", "ftp" },
	  "check: unknown kind 'ftp' (none, tcp, http or https)" },
	{ { "vip", "add", VIP4, "check", "http" }, "'vip add': missing path for 'check http'" },
	{ { "vip", "add", VIP4, "check", "https", "healthz" },
	  "invalid path 'healthz': must start with '/'" },
	{ { "vip", "add", VIP4, "check", "http", "/a b" },
	  "invalid path '/a b': spaces and control characters are not allowed" },
	{ { "vip", "add", VIP4, "check", "tcp", "/healthz" },
	  "unknown keyword '/healthz' for 'vip add'" },
	{ { "vip", "add", VIP4, "check-port", "0" }, "check-port: out of range (1..65535)" },
	{ { "vip", "add", VIP4, "check-port", "http" }, "check-port: not a number" },
	{ { "vip", "add", VIP4, "interval", "2" }, "interval: bad duration (e.g. 2s, 500ms)" },
	{ { "vip", "add", VIP4, "interval", "-2s" }, "interval: bad duration (e.g. 2s, 500ms)" },
	{ { "vip", "add", VIP4, "interval", "99ms" }, "interval: out of range (100ms..1h)" },
	{ { "vip", "add", VIP4, "timeout", "0s" }, "timeout: out of range (10ms..1h)" },
	{ { "vip", "add", VIP4, "timeout", "61m" }, "timeout: out of range (10ms..1h)" },
	{ { "vip", "add", VIP4, "interval", "1s", "timeout", "1000ms" },
	  "'vip add': timeout must be shorter than interval" },
	{ { "vip", "add", VIP4, "rise", "0" }, "rise: out of range (1..100)" },
	{ { "vip", "add", VIP4, "fall", "101" }, "fall: out of range (1..100)" },
	{ { "vip", "add", VIP4, "fall", "-1" }, "fall: not a number" },
	{ { "vip", "del" }, "missing VIP" },
	{ { "vip", "del", VIP4, "x" }, "'vip del': unexpected argument 'x'" },
	{ { "vip", "show", VIP4, "x" }, "'vip show': unexpected argument 'x'" },
	{ { "vip", "show", "x" }, "invalid VIP 'x': bad IPv4 address" },
	{ { "backend", "add", VIP4 }, "missing address" },
	{ { "backend", "add", VIP4, "198.18.0.300" },
	  "invalid address '198.18.0.300': bad IPv4 address" },
	{ { "backend", "add", VIP4, "2001:db8::zz" },
	  "invalid address '2001:db8::zz': bad IPv6 address" },
	{ { "backend", "add", VIP4, BE4, "weight", "0" }, "weight: out of range (1..65535)" },
	{ { "backend", "add", VIP4, BE4, "weight", "65536" }, "weight: out of range (1..65535)" },
	{ { "backend", "add", VIP4, BE4, "weight", "ten" }, "weight: not a number" },
	{ { "backend", "add", VIP4, BE4, "weight" }, "'backend add': missing weight value" },
	{ { "backend", "add", VIP4, BE4, "weight", "1", "w", "2" },
	  "'backend add': duplicate keyword 'weight'" },
	{ { "backend", "add", VIP4, BE4, "drain" }, "unknown keyword 'drain' for 'backend add'" },
	{ { "backend", "del", VIP4 }, "missing address" },
	{ { "backend", "del", VIP4, BE4, "now" }, "'backend del': unexpected argument 'now'" },
	{ { "backend", "set", VIP4, BE4 },
	  "'backend set': nothing to set (weight N, drain, undrain, disable or enable)" },
	{ { "backend", "set", VIP4, BE4, "weight" }, "'backend set': missing weight value" },
	{ { "backend", "set", VIP4, BE4, "weight", "70000" }, "weight: out of range (1..65535)" },
	{ { "backend", "set", VIP4, BE4, "d" },
	  "ambiguous keyword 'd' for 'backend set': disable, drain" },
	{ { "backend", "set", VIP4, BE4, "drain", "enable" },
	  "'backend set': only one of weight, drain, undrain, disable, enable" },
	{ { "backend", "set", VIP4, BE4, "pause" }, "unknown keyword 'pause' for 'backend set'" },
	{ { "backend", "show", VIP4, BE4 }, "'backend show': unexpected argument '" BE4 "'" },
	{ { "status", "x" }, "'status': unexpected argument 'x'" },
	{ { "reload", "now" }, "'reload': unexpected argument 'now'" },
	{ { "vip", "help", "add" }, "'vip help': unexpected argument 'add'" },
	{ { "-x", "status" }, "unknown option '-x'" },
	{ { "--bogus", "status" }, "unknown option '--bogus'" },
	{ { "-s" }, "option '-s' needs an argument" },
	{ { "top", "-n", "0" }, "-n: out of range (1..1000000)" },
	{ { "top", "-n", "x" }, "-n: not a number" },
	{ { "top", "count", "-1" }, "count: not a number" },
	{ { "top", VIP4, "-n" }, "'top': missing -n value" },
	{ { "top", "-n", "2", "count", "3" }, "'top': duplicate keyword 'count'" },
	{ { "top", VIP4, "now" }, "unknown keyword 'now' for 'top'" },
	{ { "top", "-x" }, "unknown keyword '-x' for 'top'" },
	{ { "top", "x" }, "invalid VIP 'x': bad IPv4 address" },
	{ { "explain" }, "missing client" },
	{ { "explain", "198.18.0.1:40000" }, "missing VIP" },
	{ { "explain", "198.18.0.300:40000", VIP4 },
	  "invalid client '198.18.0.300:40000': bad IPv4 address" },
	{ { "explain", "198.18.0.1", VIP4 }, "invalid client '198.18.0.1': missing port" },
	{ { "explain", "198.18.0.1:", VIP4 }, "invalid client '198.18.0.1:': missing port" },
	{ { "explain", "198.18.0.1:65536", VIP4 }, "invalid client '198.18.0.1:65536': bad port" },
	{ { "explain", "198.18.0.1:4x", VIP4 }, "invalid client '198.18.0.1:4x': bad port" },
	{ { "explain", "2001:db8::1:40000", VIP4 },
	  "invalid client '2001:db8::1:40000': IPv6 address needs brackets" },
	{ { "explain", "[2001:db8::zz]:1", VIP4 },
	  "invalid client '[2001:db8::zz]:1': bad IPv6 address" },
	{ { "explain", "[198.18.0.1]:1", VIP4 }, "invalid client '[198.18.0.1]:1': bad IPv6 address" },
	{ { "explain", "198.18.0.1:40000", "x" }, "invalid VIP 'x': bad IPv4 address" },
	{ { "explain", "198.18.0.1:40000", VIP4, "ack" }, "unknown keyword 'ack' for 'explain'" },
	{ { "explain", "198.18.0.1:40000", VIP4, "syn", "s" }, "'explain': duplicate keyword 'syn'" },
	{ { "--socket" }, "option '--socket' needs an argument" },
};

static void test_xlbctl_bad_input(void **state)
{
	const char *args[MAX_ARGS + 4];
	size_t i, j, n, ncases = sizeof(bad_cases) / sizeof(bad_cases[0]);
	char want[1024];

	(void)state;
	need_xlbctl();
	assert_true(ncases >= 30);
	for (i = 0; i < ncases; i++) {
		/* as typed, then with -j */
		for (j = 0; j < 2; j++) {
			n = 0;
			if (j)
				args[n++] = "-j";
			args[n++] = "-s";
			args[n++] = NOSOCK;
			memcpy(args + n, bad_cases[i].args, sizeof(bad_cases[i].args));
			args[n + MAX_ARGS] = NULL;
			if (j)
				snprintf(want, sizeof(want), "%s", json_error(bad_cases[i].err));
			else
				snprintf(want, sizeof(want), "xlbctl: %s\n", bad_cases[i].err);
			expect_run(args, 2, "", want);
		}
	}
}

static void test_xlbctl_no_args(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const json[] = { "-j", NULL };
	static const char *const help[] = { "help", NULL };
	static const char *const dash_h[] = { "-s", NOSOCK, "--help", "status", NULL };
	struct run_result *r;

	(void)state;
	need_xlbctl();
	r = run_xlbctl(none);
	assert_int_equal(r->exit_code, 2);
	assert_string_equal(r->out, "");
	assert_non_null(strstr(r->err, "Usage: xlbctl"));
	expect_run(json, 2, "", json_error("missing object (see 'xlbctl help')"));

	/* help documents the exit codes */
	r = run_xlbctl(help);
	assert_int_equal(r->exit_code, 0);
	assert_string_equal(r->err, "");
	assert_non_null(strstr(r->out, "Exit status:\n"));
	assert_non_null(strstr(r->out, "  1  the daemon refused"));
	assert_non_null(strstr(r->out, "  2  bad usage or input"));
	assert_non_null(strstr(r->out, "  3  the daemon is not running"));
	r = run_xlbctl(dash_h);
	assert_int_equal(r->exit_code, 0);
	assert_non_null(strstr(r->out, "Usage: xlbctl"));
}

/* Valid commands get as far as connecting: exit 3 with the connect error. */
static void test_xlbctl_no_daemon(void **state)
{
	static const char *const cases[][MAX_ARGS] = {
		{ "-s", NOSOCK, "status" },
		{ "-s", NOSOCK, "statu" },
		{ "-s", NOSOCK, "stats" },
		{ "-s", NOSOCK, "reload" },
		{ "--socket", NOSOCK, "vip", "show" },
		{ "--socket=" NOSOCK, "vip" },
		{ "-s", NOSOCK, "vip", "show", VIP4 },
		{ "-s", NOSOCK, "v", "s", "[2001:db8::10]:443/udp" },
		{ "-s", NOSOCK, "vip", "add", VIP4 },
		{ "-s", NOSOCK, "vip", "add", "198.18.100.10:0/udp", "sched", "source-hash",
		  "forward", "l2dsr", "check", "https", "/healthz", "check-port", "8443",
		  "interval", "2s", "timeout", "500ms" },
		{ "-s", NOSOCK, "vip", "a", VIP4, "sch", "maglev", "check", "none", "r", "3",
		  "fa", "5" },
		{ "-s", NOSOCK, "vip", "del", VIP4 },
		{ "-s", NOSOCK, "vip", "delete", VIP4 },
		{ "-s", NOSOCK, "backend", "add", VIP4, BE4 },
		{ "-s", NOSOCK, "b", "a", VIP4, "2001:db8::11", "w", "65535" },
		{ "-s", NOSOCK, "backend", "del", VIP4, BE4 },
		{ "-s", NOSOCK, "backend", "set", VIP4, BE4, "weight", "1" },
		{ "-s", NOSOCK, "backend", "set", VIP4, BE4, "dr" },
		{ "-s", NOSOCK, "backend", "set", VIP4, BE4, "undrain" },
		{ "-s", NOSOCK, "backend", "set", VIP4, BE4, "disable" },
		{ "-s", NOSOCK, "backend", "se", VIP4, BE4, "en" },
		{ "-s", NOSOCK, "b", "s" },
		{ "-s", NOSOCK, "backend", "sh", VIP4 },
		{ "-s", NOSOCK, "-p", "status" },
		{ "-jp", "-s", NOSOCK, "status" },
		{ "-s", NOSOCK, "top" },
		{ "-s", NOSOCK, "t", VIP4, "-n", "3" },
		{ "-s", NOSOCK, "-j", "top", "count", "1" },
		{ "-s", NOSOCK, "explain", "198.18.0.1:40000", VIP4 },
		{ "-s", NOSOCK, "e", "[2001:db8::1]:0", "[2001:db8::10]:443/tcp", "s" },
	};
	char want[512], args_copy[MAX_ARGS + 1][256];
	const char *args[MAX_ARGS + 1];
	size_t i, j;

	(void)state;
	need_xlbctl();
	snprintf(want, sizeof(want),
		 "daemon not running (connect %s: No such file or directory)", nosock_path);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool json = false;

		for (j = 0; j < MAX_ARGS && cases[i][j]; j++) {
			/* "--socket=@NOSOCK" */
			if (!strcmp(cases[i][j], "--socket=" NOSOCK)) {
				snprintf(args_copy[j], sizeof(args_copy[j]), "--socket=%s",
					 nosock_path);
				args[j] = args_copy[j];
			} else {
				args[j] = cases[i][j];
			}
			if (cases[i][j][0] == '-' && strpbrk(cases[i][j] + 1, "jp") &&
			    cases[i][j][1] != '-')
				json = true;
		}
		args[j] = NULL;
		if (json) {
			expect_run(args, 3, "", json_error(want));
		} else {
			char line[600];

			snprintf(line, sizeof(line), "xlbctl: %s\n", want);
			expect_run(args, 3, "", line);
		}
	}
}

static void test_xlbctl_default_socket(void **state)
{
	static const char *const args[] = { "status", NULL };
	struct stat st;

	(void)state;
	need_xlbctl();
	if (!stat(XLB_SOCKET_PATH, &st))
		skip();	/* a daemon may really be there */
	expect_run(args, 3, "",
		   "xlbctl: daemon not running (connect /run/xlb/xlbd.sock: No such file or directory)\n");
}

/* xlbctl against the fake daemon: what it sends, prints and exits with. */
struct e2e_case {
	const char *args[MAX_ARGS];
	const char *reply;
	const char *request;	/* the line the daemon must see */
	int exit_code;
	const char *out;
	const char *err;
};

#define VIP_SHOW_REPLY \
	"{\"ok\":true,\"vips\":[{\"vip\":\"" VIP4 "\",\"sched\":\"maglev\",\"forward\":\"l2dsr\"," \
	"\"health\":{\"check\":\"http\",\"path\":\"/healthz\",\"port\":80,\"interval\":\"2s\"," \
	"\"timeout\":\"1s\",\"rise\":2,\"fall\":3},\"backends\":3,\"up\":2,\"packets\":1234," \
	"\"bytes\":567890,\"flows\":12},{\"vip\":\"[2001:db8::10]:443/tcp\",\"sched\":\"source-hash\"," \
	"\"forward\":\"l2dsr\",\"health\":{\"check\":\"none\"},\"backends\":1,\"up\":1," \
	"\"packets\":0,\"bytes\":0,\"flows\":0}]}\n"

#define BACKEND_SHOW_REPLY \
	"{\"ok\":true,\"backends\":[{\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"weight\":100," \
	"\"state\":\"up\",\"admin\":\"enabled\",\"health\":\"up\",\"mac\":\"02:00:00:00:00:11\"," \
	"\"last_check\":\"ok\",\"ok_streak\":57,\"fail_streak\":0,\"flows\":3,\"packets\":99," \
	"\"bytes\":12345},{\"vip\":\"" VIP4 "\",\"address\":\"198.18.0.12\",\"weight\":5," \
	"\"state\":\"down\",\"admin\":\"enabled\",\"health\":\"down\",\"mac\":\"02:00:00:00:00:12\"," \
	"\"last_check\":\"connect refused\",\"ok_streak\":0,\"fail_streak\":4,\"flows\":0," \
	"\"packets\":0,\"bytes\":0}]}\n"

#define EXPLAIN_REPLY \
	"{\"ok\":true,\"steps\":[{\"step\":\"vip\",\"text\":\"1. vip: " VIP4 " found (maglev, 2 of 3 backends up)\"}," \
	"{\"step\":\"conntrack\",\"text\":\"2. conntrack: no entry (new flow)\"}," \
	"{\"step\":\"select\",\"text\":\"3. maglev: hash 0x1a2b3c4d -> slot 1234 -> 198.18.0.12\"}," \
	"{\"step\":\"action\",\"text\":\"4. action: XDP_TX to 02:00:00:00:00:12\"}]," \
	"\"backend\":\"198.18.0.12\",\"action\":\"XDP_TX\"}\n"

#define STATUS_REPLY \
	"{\"ok\":true,\"interfaces\":[\"eth0\",\"eth1\"],\"xdp_mode\":\"native\",\"prog_id\":42," \
	"\"uptime_s\":3600,\"vips\":2,\"backends\":4,\"config\":\"/etc/xlb/xlb.yaml\"}\n"

static const struct e2e_case e2e_cases[] = {
	{
		{ "vip", "a", VIP4, "sch", "source-hash", "check", "http", "/healthz",
		  "check-p", "8080", "int", "2000ms", "ti", "1s", "r", "2", "fa", "3" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"vip-add\",\"vip\":\"" VIP4 "\",\"sched\":\"source-hash\",\"check\":\"http\","
		"\"path\":\"/healthz\",\"check_port\":8080,\"interval\":\"2s\",\"timeout\":\"1s\","
		"\"rise\":2,\"fall\":3}",
		0, "", "",
	},
	{
		{ "-j", "vip", "add", "[2001:DB8:0::10]:443/udp", "forward", "l2dsr" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"vip-add\",\"vip\":\"[2001:db8::10]:443/udp\",\"forward\":\"l2dsr\"}",
		0, "{}\n", "",
	},
	{
		{ "vip", "del", VIP4 },
		"{\"ok\":false,\"error\":\"no such VIP\"}\n",
		"{\"cmd\":\"vip-del\",\"vip\":\"" VIP4 "\"}",
		1, "", "xlbctl: no such VIP\n",
	},
	{
		{ "--json", "vip", "del", VIP4 },
		"{\"ok\":false,\"error\":\"no such VIP\"}\n",
		"{\"cmd\":\"vip-del\",\"vip\":\"" VIP4 "\"}",
		1, "", "{\"error\":\"no such VIP\"}\n",
	},
	{
		{ "backend", "add", VIP4, BE4, "weight", "100" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"backend-add\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"weight\":100}",
		0, "", "",
	},
	{
		{ "backend", "set", VIP4, BE4, "dr" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"backend-set\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"admin\":\"drain\"}",
		0, "", "",
	},
	{
		{ "backend", "set", VIP4, BE4, "w", "7" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"backend-set\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"weight\":7}",
		0, "", "",
	},
	{
		{ "backend", "del", VIP4, BE4 },
		"{\"ok\":true}\n",
		"{\"cmd\":\"backend-del\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\"}",
		0, "", "",
	},
	{
		{ "vip", "show" },
		VIP_SHOW_REPLY,
		"{\"cmd\":\"vip-show\"}",
		0,
		"VIP                     SCHED        FORWARD  CHECK            BACKENDS  UP  PACKETS   BYTES  FLOWS\n"
		"198.18.100.10:80/tcp    maglev       l2dsr    http:80/healthz         3   2     1234  567890     12\n"
		"[2001:db8::10]:443/tcp  source-hash  l2dsr    none                    1   1        0       0      0\n",
		"",
	},
	{
		{ "vip", "show", "198.18.100.99:53/udp" },
		"{\"ok\":true,\"vips\":[]}\n",
		"{\"cmd\":\"vip-show\",\"vip\":\"198.18.100.99:53/udp\"}",
		0, "", "",
	},
	{
		{ "b", "s", VIP4 },
		BACKEND_SHOW_REPLY,
		"{\"cmd\":\"backend-show\",\"vip\":\"" VIP4 "\"}",
		0,
		"VIP                   ADDRESS      WEIGHT  STATE  LAST-CHECK       OK  FAIL  FLOWS  PACKETS  BYTES\n"
		"198.18.100.10:80/tcp  198.18.0.11     100  up     ok               57     0      3       99  12345\n"
		"198.18.100.10:80/tcp  198.18.0.12       5  down   connect refused   0     4      0        0      0\n",
		"",
	},
	{
		{ "status" },
		STATUS_REPLY,
		"{\"cmd\":\"status\"}",
		0,
		"interfaces: eth0, eth1\nxdp_mode: native\nprog_id: 42\nuptime_s: 3600\nvips: 2\n"
		"backends: 4\nconfig: /etc/xlb/xlb.yaml\n",
		"",
	},
	{
		{ "-j", "status" },
		STATUS_REPLY,
		"{\"cmd\":\"status\"}",
		0,
		"{\"interfaces\":[\"eth0\",\"eth1\"],\"xdp_mode\":\"native\",\"prog_id\":42,"
		"\"uptime_s\":3600,\"vips\":2,\"backends\":4,\"config\":\"/etc/xlb/xlb.yaml\"}\n",
		"",
	},
	{
		{ "reload" },
		"{\"ok\":true,\"added\":[\"198.18.100.11:80/tcp\",\"backend 198.18.0.14 of " VIP4 "\"],"
		"\"changed\":[\"" VIP4 "\"],\"removed\":[]}\n",
		"{\"cmd\":\"reload\"}",
		0,
		"added: 198.18.100.11:80/tcp\nadded: backend 198.18.0.14 of " VIP4 "\n"
		"changed: " VIP4 "\n",
		"",
	},
	{
		{ "reload" },
		"{\"ok\":true,\"added\":[],\"changed\":[],\"removed\":[]}\n",
		"{\"cmd\":\"reload\"}",
		0, "no changes\n", "",
	},
	{
		{ "reload" },
		"{\"ok\":false,\"error\":\"xlb.yaml:7: vips[0].backends[1].address: bad IPv4 address '198.18.0.300'\"}\n",
		"{\"cmd\":\"reload\"}",
		1, "",
		"xlbctl: xlb.yaml:7: vips[0].backends[1].address: bad IPv4 address '198.18.0.300'\n",
	},
	{
		{ "status" },
		"this is not JSON\n",
		"{\"cmd\":\"status\"}",
		3, "", "xlbctl: bad reply from daemon (malformed JSON)\n",
	},
	{
		{ "explain", "198.18.0.1:40000", VIP4, "syn" },
		EXPLAIN_REPLY,
		"{\"cmd\":\"explain\",\"client\":\"198.18.0.1:40000\",\"vip\":\"" VIP4 "\",\"syn\":true}",
		0,
		"1. vip: " VIP4 " found (maglev, 2 of 3 backends up)\n"
		"2. conntrack: no entry (new flow)\n"
		"3. maglev: hash 0x1a2b3c4d -> slot 1234 -> 198.18.0.12\n"
		"4. action: XDP_TX to 02:00:00:00:00:12\n",
		"",
	},
	{
		{ "-j", "ex", "[2001:DB8:0::1]:0", "[2001:db8::10]:443/tcp" },
		EXPLAIN_REPLY,
		"{\"cmd\":\"explain\",\"client\":\"[2001:db8::1]:0\",\"vip\":\"[2001:db8::10]:443/tcp\"}",
		0,
		"{\"steps\":[{\"step\":\"vip\",\"text\":\"1. vip: " VIP4 " found (maglev, 2 of 3 backends up)\"},"
		"{\"step\":\"conntrack\",\"text\":\"2. conntrack: no entry (new flow)\"},"
		"{\"step\":\"select\",\"text\":\"3. maglev: hash 0x1a2b3c4d -> slot 1234 -> 198.18.0.12\"},"
		"{\"step\":\"action\",\"text\":\"4. action: XDP_TX to 02:00:00:00:00:12\"}],"
		"\"backend\":\"198.18.0.12\",\"action\":\"XDP_TX\"}\n",
		"",
	},
	{
		{ "explain", "198.18.0.1:40000", "198.18.100.99:53/udp" },
		"{\"ok\":false,\"error\":\"no such VIP\"}\n",
		"{\"cmd\":\"explain\",\"client\":\"198.18.0.1:40000\",\"vip\":\"198.18.100.99:53/udp\"}",
		1, "", "xlbctl: no such VIP\n",
	},
};

static void test_xlbctl_end_to_end(void **state)
{
	const char *args[MAX_ARGS + 4];
	char want_log[2048];
	size_t i, n;
	pid_t pid;

	(void)state;
	need_xlbctl();
	for (i = 0; i < sizeof(e2e_cases) / sizeof(e2e_cases[0]); i++) {
		const struct e2e_case *c = &e2e_cases[i];

		args[0] = "-s";
		args[1] = SOCK;
		for (n = 0; n < MAX_ARGS && c->args[n]; n++)
			args[n + 2] = c->args[n];
		args[n + 2] = NULL;
		pid = server_start(SERVE_REPLY, c->reply);
		expect_run(args, c->exit_code, c->out, c->err);
		server_stop(pid);
		snprintf(want_log, sizeof(want_log), "%s\n", c->request);
		if (strcmp(read_file(log_path), want_log))
			print_error("xlbctl %s\n", args_text(args));
		assert_string_equal(read_file(log_path), want_log);
	}
}

/* -p prints the reply minus "ok", indented, and it parses back the same. */
static void test_xlbctl_pretty(void **state)
{
	static const char *const args[] = { "-s", SOCK, "--pretty", "status", NULL };
	struct json_object *want, *got;
	struct run_result *r;
	pid_t pid;

	(void)state;
	need_xlbctl();
	pid = server_start(SERVE_REPLY, STATUS_REPLY);
	r = run_xlbctl(args);
	server_stop(pid);
	assert_int_equal(r->exit_code, 0);
	assert_string_equal(r->err, "");
	assert_true(!strncmp(r->out, "{\n", 2));
	assert_non_null(strstr(r->out, "\n  \"prog_id\":42,\n"));
	want = json_tokener_parse(STATUS_REPLY);
	json_object_object_del(want, "ok");
	got = json_tokener_parse(r->out);
	assert_non_null(got);
	assert_true(json_object_equal(want, got));
	json_object_put(want);
	json_object_put(got);
}

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
		 "\"vips\":[{\"vip\":\"" VIP4 "\",\"packets\":%llu,\"bytes\":%llu,\"flows\":%llu}],"
		 "\"backends\":[{\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"state\":\"up\","
		 "\"packets\":%llu,\"bytes\":%llu,\"flows\":%llu},{\"vip\":\"" VIP4 "\","
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
	"VIP                    PPS     BITRATE  NEW FLOWS/S\n" \
	"198.18.100.10:80/tcp  1.2k  1.2 Mbit/s          1.0\n" \
	"\n" \
	"VIP                   BACKEND      STATE   PPS     BITRATE  NEW FLOWS/S\n" \
	"198.18.100.10:80/tcp  198.18.0.11  up     1.1k  1.1 Mbit/s          1.0\n" \
	"198.18.100.10:80/tcp  198.18.0.12  down      0     0 bit/s            0\n" \
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
	e = json_object_array_get_idx(list, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "state")), "down");
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
		cmocka_unit_test(test_linebuf_split_reads),
		cmocka_unit_test(test_linebuf_several_lines),
		cmocka_unit_test(test_linebuf_crlf),
		cmocka_unit_test(test_linebuf_exactly_max),
		cmocka_unit_test(test_linebuf_one_over),
		cmocka_unit_test(test_linebuf_huge_line_chunked),
		cmocka_unit_test(test_linebuf_byte_by_byte),
		cmocka_unit_test(test_parse_request),
		cmocka_unit_test(test_get_str),
		cmocka_unit_test(test_get_u32),
		cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_reply_builders),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_call_ok),
		cmocka_unit_test(test_call_slow_reply),
		cmocka_unit_test(test_call_error_reply),
		cmocka_unit_test(test_call_several_requests),
		cmocka_unit_test(test_call_no_socket),
		cmocka_unit_test(test_call_refused),
		cmocka_unit_test(test_call_timeout),
		cmocka_unit_test(test_call_hang_up),
		cmocka_unit_test(test_call_bad_replies),
		cmocka_unit_test(test_xlbctl_bad_input),
		cmocka_unit_test(test_xlbctl_no_args),
		cmocka_unit_test(test_xlbctl_no_daemon),
		cmocka_unit_test(test_xlbctl_default_socket),
		cmocka_unit_test(test_xlbctl_end_to_end),
		cmocka_unit_test(test_xlbctl_pretty),
		cmocka_unit_test(test_xlbctl_top),
		cmocka_unit_test(test_xlbctl_top_json),
		cmocka_unit_test(test_xlbctl_top_daemon_gone),
	};

	xlbctl_path = argc > 1 ? argv[1] : getenv("XLBCTL");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
