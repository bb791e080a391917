/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the control-socket tests share: a temporary directory for the
 * sockets, a fake daemon forked on sock_path that logs each request line
 * to log_path and answers as told, and the test addresses. Include after
 * cmocka.h; the group setup and teardown are these.
 */
#ifndef XLB_UNIT_PROTO_H
#define XLB_UNIT_PROTO_H

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
static pid_t server_pid;	/* the fake daemon, if one runs */

static inline int group_setup(void **state)
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

static inline int group_teardown(void **state)
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

enum serve_mode {
	SERVE_REPLY,		/* answer every request line with the reply */
	SERVE_REPLY_SLOW,	/* the same, a few bytes at a time */
	SERVE_SILENT,		/* read, never answer */
	SERVE_CLOSE,		/* read one line, hang up */
	SERVE_SEQUENCE,		/* the reply's lines in turn, the last again; "" hangs up */
};

static inline int listen_unix(const char *path)
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

static inline void write_all(int fd, const char *p, size_t n)
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

static inline void serve_connection(int fd, enum serve_mode mode, const char *reply, int log)
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

static inline void server_stop(pid_t pid)
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
static inline pid_t server_start(enum serve_mode mode, const char *reply)
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

static inline char *read_file(const char *path)
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

static inline struct json_object *request(const char *cmd)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	return req;
}

/* Milliseconds since t0 (CLOCK_MONOTONIC). */
static inline long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

#endif /* XLB_UNIT_PROTO_H */
