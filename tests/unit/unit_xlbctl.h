/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running the xlbctl binary named by argv[1] or $XLBCTL (without one the
 * tests skip) with "@NOSOCK" and "@SOCK" in its arguments standing for a
 * missing socket and the fake daemon's. Include after unit_proto.h.
 */
#ifndef XLB_UNIT_XLBCTL_H
#define XLB_UNIT_XLBCTL_H

#include "unit_proto.h"

static const char *xlbctl_path;

struct run_result {
	int exit_code;		/* -1: killed by a signal */
	char out[1 << 16];
	char err[1 << 13];
};

static struct run_result result;

/* Run xlbctl with args (NULL-terminated; "@NOSOCK" and "@SOCK" expand). */
static inline struct run_result *run_xlbctl(const char *const *args)
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

static inline void need_xlbctl(void)
{
	if (!xlbctl_path)
		skip();
}

static inline char *args_text(const char *const *args)
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
static inline const char *json_error(const char *msg)
{
	static char buf[1024];
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "error", json_object_new_string(msg));
	snprintf(buf, sizeof(buf), "%s\n", json_object_to_json_string_ext(obj,
		 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	return buf;
}

static inline void expect_run(const char *const *args, int code, const char *out, const char *err)
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

#endif /* XLB_UNIT_XLBCTL_H */
