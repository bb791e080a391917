// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the control-socket codec (user/proto.c): the line buffer,
 * requests, replies, and xlb_proto_call against a fake daemon forked here
 * that records each request and answers a canned reply (unit_proto.h).
 * xlbctl's side: test_xlbctl.c and test_xlbctl_top.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_proto.h"

/* ---------------------------------------------------------------- line buffer */

/* The lines lb holds now are want (NULL-terminated), and no more. */
static void assert_pops(struct xlb_linebuf *lb, const char *const *want)
{
	char *line;
	size_t len;

	for (; *want; want++) {
		assert_int_equal(xlb_linebuf_pop(lb, &line, &len), 1);
		assert_string_equal(line, *want);
		assert_int_equal(len, strlen(*want));
	}
	assert_int_equal(xlb_linebuf_pop(lb, &line, &len), 0);
}

static void test_linebuf_split_reads(void **state)
{
	struct xlb_linebuf lb;

	(void)state;
	xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
	assert_pops(&lb, (const char *const[]){ NULL });
	assert_int_equal(xlb_linebuf_feed(&lb, "{\"cmd\":", 7), 0);
	assert_pops(&lb, (const char *const[]){ NULL });
	assert_int_equal(xlb_linebuf_pending(&lb), 7);
	assert_int_equal(xlb_linebuf_feed(&lb, "\"status\"}", 9), 0);
	assert_pops(&lb, (const char *const[]){ NULL });
	assert_int_equal(xlb_linebuf_feed(&lb, "\n", 1), 0);
	assert_pops(&lb, (const char *const[]){ "{\"cmd\":\"status\"}", NULL });
	assert_int_equal(xlb_linebuf_pending(&lb), 0);
	xlb_linebuf_free(&lb);
}

static void test_linebuf_several_lines(void **state)
{
	static const char in[] = "a\nbb\n\nccc";
	struct xlb_linebuf lb;
	char *line;

	(void)state;
	xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
	assert_int_equal(xlb_linebuf_feed(&lb, in, sizeof(in) - 1), 0);
	assert_pops(&lb, (const char *const[]){ "a", "bb", "", NULL });
	assert_int_equal(xlb_linebuf_pending(&lb), 3);
	assert_int_equal(xlb_linebuf_feed(&lb, "\nd\n", 3), 0);
	/* the length is optional */
	assert_int_equal(xlb_linebuf_pop(&lb, &line, NULL), 1);
	assert_string_equal(line, "ccc");
	assert_pops(&lb, (const char *const[]){ "d", NULL });
	xlb_linebuf_free(&lb);
}

/* CRLF is tolerated: "\r\n" ends a line like "\n"; a lone '\r' is data. */
static void test_linebuf_crlf(void **state)
{
	static const char in[] = "abc\r\n\r\na\rb\n";
	struct xlb_linebuf lb;

	(void)state;
	xlb_linebuf_init(&lb, XLB_PROTO_MAX_LINE);
	assert_int_equal(xlb_linebuf_feed(&lb, in, sizeof(in) - 1), 0);
	assert_pops(&lb, (const char *const[]){ "abc", "", "a\rb", NULL });
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
	assert_pops(&lb, (const char *const[]){ "next", NULL });
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

int main(void)
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
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
