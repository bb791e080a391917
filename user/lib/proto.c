// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Control-socket protocol codec: line framing, requests, replies, client. */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "proto.h"

/* Plain one-line output; "/healthz" stays readable instead of "\/healthz". */
#define JSON_LINE_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

#ifndef JSON_TOKENER_VALIDATE_UTF8
#define JSON_TOKENER_VALIDATE_UTF8 0
#endif

void xlb_linebuf_init(struct xlb_linebuf *lb, size_t max_line)
{
	memset(lb, 0, sizeof(*lb));
	lb->max_line = max_line;
}

void xlb_linebuf_free(struct xlb_linebuf *lb)
{
	free(lb->buf);
	xlb_linebuf_init(lb, lb->max_line);
}

int xlb_linebuf_feed(struct xlb_linebuf *lb, const void *data, size_t len)
{
	size_t need, cap;
	char *buf;

	if (!len)
		return 0;
	if (lb->start == lb->len)
		lb->start = lb->len = 0;
	if (len > SIZE_MAX / 2 - lb->len)
		return -ENOMEM;
	if (lb->len + len > lb->cap && lb->start) {
		/* Popped lines are dead: reuse their room before growing. */
		memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
		lb->len -= lb->start;
		lb->start = 0;
	}
	need = lb->len + len;
	if (need > lb->cap) {
		cap = lb->cap ? lb->cap : 4096;
		while (cap < need)
			cap *= 2;
		buf = realloc(lb->buf, cap);
		if (!buf)
			return -ENOMEM;
		lb->buf = buf;
		lb->cap = cap;
	}
	memcpy(lb->buf + lb->len, data, len);
	lb->len += len;
	return 0;
}

int xlb_linebuf_pop(struct xlb_linebuf *lb, char **line, size_t *len)
{
	/* A line of max_line bytes, a '\r' and its '\n' fit in this window. */
	size_t window_max = lb->max_line + 2;
	size_t avail, window, n;
	char *p, *nl;

	for (;;) {
		p = lb->buf + lb->start;
		avail = lb->len - lb->start;
		if (!avail)
			return 0;

		if (lb->discarding) {
			nl = memchr(p, '\n', avail);
			if (!nl) {
				lb->start = lb->len;
				return 0;
			}
			lb->start += nl - p + 1;
			lb->discarding = false;
			lb->scanned = 0;
			continue;
		}

		window = avail < window_max ? avail : window_max;
		nl = NULL;
		if (window > lb->scanned)
			nl = memchr(p + lb->scanned, '\n', window - lb->scanned);
		if (nl) {
			n = nl - p;
			lb->start += n + 1;
			lb->scanned = 0;
			if (n && p[n - 1] == '\r')
				n--;
			if (n > lb->max_line)
				return -EMSGSIZE;
			p[n] = '\0';
			*line = p;
			if (len)
				*len = n;
			return 1;
		}
		/* Remember how far we looked, so a line dribbled in byte by byte costs O(n). */
		lb->scanned = window;
		if (avail < window_max)
			return 0;

		/* No '\n' where one had to be: report now, drop the rest as it comes. */
		lb->start += window_max;
		lb->scanned = 0;
		lb->discarding = true;
		return -EMSGSIZE;
	}
}

size_t xlb_linebuf_pending(const struct xlb_linebuf *lb)
{
	return lb->len - lb->start;
}

static size_t format_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static size_t format_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return n < 0 ? 0 : (size_t)n;
}

/*
 * One complete JSON value, nothing but whitespace after it. *value is
 * NULL for a JSON null. 0 or -EINVAL.
 */
static int parse_json(const char *text, size_t len, struct json_object **value)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t end;
	int ret = -EINVAL;

	*value = NULL;
	/* The tokener takes an int length. */
	if (len > INT32_MAX)
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (json_tokener_get_error(tok) == json_tokener_continue) {
		/* A bare number or literal only ends at the end of the input. */
		obj = json_tokener_parse_ex(tok, "", 1);
		end = len;
	}
	if (json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	for (; end < len; end++)
		if (!text[end] || !strchr(" \t\r\n", text[end]))
			goto out;
	*value = obj;
	obj = NULL;
	ret = 0;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return ret;
}

int xlb_proto_parse_request(const char *line, size_t len, struct json_object **req,
			    const char **cmd, char *err, size_t errlen)
{
	struct json_object *obj;
	int ret;

	*req = NULL;
	ret = parse_json(line, len, &obj);
	if (ret == -ENOMEM) {
		format_err(err, errlen, "out of memory");
		return ret;
	}
	if (ret) {
		format_err(err, errlen, XLB_PROTO_ERR_MALFORMED);
		return -EINVAL;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		format_err(err, errlen, XLB_PROTO_ERR_NOT_OBJECT);
		json_object_put(obj);
		return -EINVAL;
	}
	ret = xlb_proto_get_str(obj, "cmd", cmd, err, errlen);
	if (ret) {
		json_object_put(obj);
		return ret;
	}
	*req = obj;
	return 0;
}

int xlb_proto_get_opt_str(struct json_object *req, const char *name, const char **out,
			  char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		format_err(err, errlen, "%s must be a string", name);
		return -EINVAL;
	}
	/* A "\u0000" would silently cut the C string the daemon acts on. */
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		format_err(err, errlen, "%s must not contain NUL characters", name);
		return -EINVAL;
	}
	*out = json_object_get_string(v);
	return 1;
}

int xlb_proto_get_str(struct json_object *req, const char *name, const char **out,
		      char *err, size_t errlen)
{
	int ret = xlb_proto_get_opt_str(req, name, out, err, errlen);

	if (!ret) {
		format_err(err, errlen, "missing %s", name);
		return -EINVAL;
	}
	return ret < 0 ? ret : 0;
}

int xlb_proto_get_opt_u32(struct json_object *req, const char *name, __u32 min,
			  __u32 max, __u32 *out, char *err, size_t errlen)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(req, name, &v))
		return 0;
	/* Only a JSON integer: no 1.0, no "100", no true. */
	if (!json_object_is_type(v, json_type_int))
		goto bad;
	/* Values past INT64_MAX come back as INT64_MAX: still out of range. */
	n = json_object_get_int64(v);
	if (n < (int64_t)min || n > (int64_t)max)
		goto bad;
	*out = (__u32)n;
	return 1;
bad:
	format_err(err, errlen, "%s must be an integer %u..%u", name, min, max);
	return -EINVAL;
}

int xlb_proto_get_u32(struct json_object *req, const char *name, __u32 min, __u32 max,
		      __u32 *out, char *err, size_t errlen)
{
	int ret = xlb_proto_get_opt_u32(req, name, min, max, out, err, errlen);

	if (!ret) {
		format_err(err, errlen, "missing %s", name);
		return -EINVAL;
	}
	return ret < 0 ? ret : 0;
}

int xlb_proto_check_keys(struct json_object *req, const char *const *allowed,
			 char *err, size_t errlen)
{
	struct json_object_iterator it, end;
	const char *cmd = "this command", *key;
	const char *const *a;
	struct json_object *v;

	if (json_object_object_get_ex(req, "cmd", &v) &&
	    json_object_is_type(v, json_type_string))
		cmd = json_object_get_string(v);

	it = json_object_iter_begin(req);
	end = json_object_iter_end(req);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		key = json_object_iter_peek_name(&it);
		if (!strcmp(key, "cmd"))
			continue;
		for (a = allowed; *a; a++)
			if (!strcmp(key, *a))
				break;
		if (!*a) {
			format_err(err, errlen, "unknown argument '%s' for %s", key, cmd);
			return -EINVAL;
		}
	}
	return 0;
}

struct json_object *xlb_proto_ok(void)
{
	struct json_object *obj = json_object_new_object();

	if (obj && json_object_object_add(obj, "ok", json_object_new_boolean(1))) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

struct json_object *xlb_proto_error(const char *fmt, ...)
{
	struct json_object *obj, *msg;
	char *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	msg = json_object_new_string(text);
	free(text);
	obj = json_object_new_object();
	if (!msg || !obj)
		goto fail;
	if (json_object_object_add(obj, "ok", json_object_new_boolean(0)))
		goto fail;
	if (json_object_object_add(obj, "error", msg)) {
		msg = NULL;
		goto fail;
	}
	return obj;
fail:
	json_object_put(msg);
	json_object_put(obj);
	return NULL;
}

ssize_t xlb_proto_to_line(struct json_object *obj, char **out)
{
	const char *text;
	size_t n;
	char *line;

	*out = NULL;
	/* Newlines inside strings are escaped as \n, so this is one line. */
	text = json_object_to_json_string_length(obj, JSON_LINE_FLAGS, &n);
	if (!text)
		return -ENOMEM;
	line = malloc(n + 2);
	if (!line)
		return -ENOMEM;
	memcpy(line, text, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	*out = line;
	return (ssize_t)(n + 1);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline (ms, CLOCK_MONOTONIC). 0 or -ETIMEDOUT. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int xlb_proto_connect(struct xlb_proto_client *c, const char *path, char *err,
		      size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int ret;

	c->fd = -1;
	xlb_linebuf_init(&c->in, XLB_PROTO_MAX_REPLY);
	if (strlen(path) >= sizeof(addr.sun_path)) {
		ret = -ENAMETOOLONG;
		goto fail;
	}
	strcpy(addr.sun_path, path);

	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		ret = -errno;
		format_err(err, errlen, "socket: %s", strerror(-ret));
		return ret;
	}
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr))) {
		ret = -errno;
		close(c->fd);
		c->fd = -1;
		goto fail;
	}
	return 0;
fail:
	if (ret == -EACCES || ret == -EPERM)
		/* the daemon may well run: the socket is root's (and xlbd answers root only) */
		format_err(err, errlen, "permission denied on %s: run as root", path);
	else
		format_err(err, errlen, "daemon not running (connect %s: %s)", path,
			   strerror(-ret));
	return ret;
}

void xlb_proto_close(struct xlb_proto_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	xlb_linebuf_free(&c->in);
}

static int send_line(int fd, const char *line, size_t len, int64_t deadline,
		     char *err, size_t errlen)
{
	size_t off = 0;
	ssize_t n;
	int ret;

	while (off < len) {
		/* MSG_NOSIGNAL: a daemon that went away is an error, not a SIGPIPE. */
		n = send(fd, line + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			off += n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ret = -errno;
			format_err(err, errlen, "write to daemon: %s", strerror(-ret));
			return ret;
		}
		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret)
			goto wait_failed;
	}
	return 0;
wait_failed:
	if (ret == -ETIMEDOUT)
		format_err(err, errlen, XLB_PROTO_ERR_TIMEOUT);
	else
		format_err(err, errlen, "poll: %s", strerror(-ret));
	return ret;
}

/* A reply is an object with a boolean "ok"; a refusal also says why. */
static int check_reply(struct json_object *reply, char *err, size_t errlen)
{
	struct json_object *ok, *msg;

	if (!json_object_is_type(reply, json_type_object)) {
		format_err(err, errlen, "bad reply from daemon (not a JSON object)");
		return -EPROTO;
	}
	if (!json_object_object_get_ex(reply, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		format_err(err, errlen, "bad reply from daemon (no \"ok\")");
		return -EPROTO;
	}
	if (!json_object_get_boolean(ok) &&
	    (!json_object_object_get_ex(reply, "error", &msg) ||
	     !json_object_is_type(msg, json_type_string))) {
		format_err(err, errlen, "bad reply from daemon (refusal without \"error\")");
		return -EPROTO;
	}
	return 0;
}

static int recv_reply(struct xlb_proto_client *c, int64_t deadline,
		      struct json_object **reply, char *err, size_t errlen)
{
	char buf[65536];
	size_t len;
	char *line;
	ssize_t n;
	int ret;

	for (;;) {
		ret = xlb_linebuf_pop(&c->in, &line, &len);
		if (ret == 1)
			break;
		if (ret == -EMSGSIZE) {
			format_err(err, errlen, "bad reply from daemon (too long)");
			return -EPROTO;
		}
		ret = wait_fd(c->fd, POLLIN, deadline);
		if (ret == -ETIMEDOUT) {
			format_err(err, errlen, XLB_PROTO_ERR_TIMEOUT);
			return ret;
		}
		if (ret) {
			format_err(err, errlen, "poll: %s", strerror(-ret));
			return ret;
		}
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0) {
			format_err(err, errlen, "daemon closed the connection");
			return -ECONNRESET;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			ret = -errno;
			format_err(err, errlen, "read from daemon: %s", strerror(-ret));
			return ret;
		}
		ret = xlb_linebuf_feed(&c->in, buf, n);
		if (ret) {
			format_err(err, errlen, "out of memory");
			return ret;
		}
	}

	ret = parse_json(line, len, reply);
	if (ret == -ENOMEM) {
		format_err(err, errlen, "out of memory");
		return ret;
	}
	if (ret) {
		format_err(err, errlen, "bad reply from daemon (%s)", XLB_PROTO_ERR_MALFORMED);
		return -EPROTO;
	}
	ret = check_reply(*reply, err, errlen);
	if (ret) {
		json_object_put(*reply);
		*reply = NULL;
	}
	return ret;
}

int xlb_proto_request(struct xlb_proto_client *c, struct json_object *req,
		      int timeout_ms, struct json_object **reply, char *err,
		      size_t errlen)
{
	int64_t deadline = now_ms() + timeout_ms;
	char *line;
	ssize_t len;
	int ret;

	*reply = NULL;
	len = xlb_proto_to_line(req, &line);
	if (len < 0) {
		format_err(err, errlen, "out of memory");
		return (int)len;
	}
	if ((size_t)len - 1 > XLB_PROTO_MAX_LINE) {
		format_err(err, errlen, XLB_PROTO_ERR_TOO_LONG);
		ret = -EMSGSIZE;
		goto out;
	}
	ret = send_line(c->fd, line, len, deadline, err, errlen);
	if (ret)
		goto out;
	ret = recv_reply(c, deadline, reply, err, errlen);
out:
	free(line);
	return ret;
}

int xlb_proto_call_timeout(const char *path, struct json_object *req, int timeout_ms,
			   struct json_object **reply, char *err, size_t errlen)
{
	struct xlb_proto_client c;
	int ret;

	*reply = NULL;
	ret = xlb_proto_connect(&c, path, err, errlen);
	if (ret)
		return ret;
	ret = xlb_proto_request(&c, req, timeout_ms, reply, err, errlen);
	xlb_proto_close(&c);
	return ret;
}

int xlb_proto_call(const char *path, struct json_object *req,
		   struct json_object **reply, char *err, size_t errlen)
{
	return xlb_proto_call_timeout(path, req, XLB_PROTO_TIMEOUT_MS, reply, err, errlen);
}

const char *xlb_proto_reply_error(struct json_object *reply)
{
	struct json_object *ok, *msg;

	if (json_object_object_get_ex(reply, "ok", &ok) && json_object_get_boolean(ok))
		return NULL;
	if (json_object_object_get_ex(reply, "error", &msg) &&
	    json_object_is_type(msg, json_type_string))
		return json_object_get_string(msg);
	return "request refused";
}
