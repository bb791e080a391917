/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control-socket protocol between xlbctl and xlbd: one JSON object per
 * '\n'-terminated line over a Unix stream socket, request then reply,
 * several requests per connection. Shared by both ends so that framing,
 * limits and error texts cannot drift apart.
 */
#ifndef XLB_PROTO_H
#define XLB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include <json-c/json.h>
#include "xlb_limits.h"

#define XLB_SOCKET_PATH "/run/xlb/xlbd.sock"

/*
 * The longest request line (XLB_PROTO_MAX_LINE, without its '\n' and a
 * '\r' before it), reply and wait, and the argument limits that xlbctl
 * checks before sending and xlbd checks again, are in xlb_limits.h. Replies
 * may be much longer than requests (a backend-show of a large pool), so
 * the client reads them with a larger limit.
 */

/* Exact error texts a peer may match on. */
#define XLB_PROTO_ERR_MALFORMED "malformed JSON"
#define XLB_PROTO_ERR_NOT_OBJECT "request must be a JSON object"
#define XLB_PROTO_ERR_TOO_LONG "request too long"
#define XLB_PROTO_ERR_TIMEOUT "daemon did not answer (timeout)"

/*
 * Line framing for nonblocking reads: feed whatever read() returned, then
 * pop lines until none is left. A line longer than max_line is dropped up
 * to its '\n' and reported once by pop as -EMSGSIZE; the lines after it
 * are returned normally. A "\r\n" ending is accepted as "\n".
 */
struct xlb_linebuf {
	char *buf;
	size_t start;     /* first byte not yet popped */
	size_t len;       /* bytes held */
	size_t cap;
	size_t scanned;   /* bytes from start known to hold no '\n' */
	size_t max_line;
	bool discarding;  /* inside a too-long line, dropping up to its '\n' */
};

void xlb_linebuf_init(struct xlb_linebuf *lb, size_t max_line);
void xlb_linebuf_free(struct xlb_linebuf *lb);
/* 0 or -ENOMEM. Invalidates lines returned by earlier pops. */
int xlb_linebuf_feed(struct xlb_linebuf *lb, const void *data, size_t len);
/*
 * 1: *line is the next line, NUL-terminated, without its ending, valid
 *    until the next feed; *len (if not NULL) its length.
 * 0: no complete line yet.
 * -EMSGSIZE: a line longer than max_line was dropped.
 */
int xlb_linebuf_pop(struct xlb_linebuf *lb, char **line, size_t *len);
/* Bytes of an unfinished line (to tell a clean EOF from a cut one). */
size_t xlb_linebuf_pending(const struct xlb_linebuf *lb);

/*
 * Parse one request line. On success *req is a JSON object (caller puts
 * it) and *cmd its "cmd" string (owned by *req). On error returns -EINVAL
 * and err holds "malformed JSON", "request must be a JSON object",
 * "missing cmd" or "cmd must be a string".
 */
int xlb_proto_parse_request(const char *line, size_t len, struct json_object **req,
			    const char **cmd, char *err, size_t errlen);

/*
 * Typed arguments of a request, with the texts the daemon replies with.
 * Required getters: 0, or -EINVAL with "missing NAME" or "NAME must be a
 * string" / "NAME must be an integer MIN..MAX". Optional getters return 1
 * when the key is there (and *out is set), 0 when it is absent (and *out is
 * left alone) or the same -EINVAL. A JSON null is a wrong type, not absent.
 */
int xlb_proto_get_str(struct json_object *req, const char *name, const char **out,
		      char *err, size_t errlen);
int xlb_proto_get_opt_str(struct json_object *req, const char *name, const char **out,
			  char *err, size_t errlen);
int xlb_proto_get_u32(struct json_object *req, const char *name, __u32 min, __u32 max,
		      __u32 *out, char *err, size_t errlen);
int xlb_proto_get_opt_u32(struct json_object *req, const char *name, __u32 min,
			  __u32 max, __u32 *out, char *err, size_t errlen);
/*
 * Refuse keys other than "cmd" and those in the NULL-terminated allowed
 * list: -EINVAL with "unknown argument 'KEY' for CMD".
 */
int xlb_proto_check_keys(struct json_object *req, const char *const *allowed,
			 char *err, size_t errlen);

/* {"ok":true}, to which the caller may add members. NULL on ENOMEM. */
struct json_object *xlb_proto_ok(void);
/* {"ok":false,"error":"..."}. NULL on ENOMEM. */
struct json_object *xlb_proto_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/*
 * obj as one line of plain JSON plus '\n' in a malloc'd, NUL-terminated
 * buffer. Returns its length (with the '\n') or -ENOMEM.
 */
ssize_t xlb_proto_to_line(struct json_object *obj, char **out);

/*
 * A client connection. xlb_proto_call() does open, one request, close.
 * Errors return a negative errno and one line in err:
 *   connect:  "daemon not running (connect PATH: <strerror>)"
 *   timeout:  "daemon did not answer (timeout)"
 *   others:   "daemon closed the connection", "bad reply from daemon (...)",
 *             "write to daemon: <strerror>", ...
 * A reply is a JSON object with a boolean "ok" (and a string "error" when
 * it is false), or the call fails with -EPROTO; a refusal by the daemon is
 * a successful call whose *reply says "ok":false.
 */
struct xlb_proto_client {
	int fd;
	struct xlb_linebuf in;
};

int xlb_proto_connect(struct xlb_proto_client *c, const char *path, char *err,
		      size_t errlen);
int xlb_proto_request(struct xlb_proto_client *c, struct json_object *req,
		      int timeout_ms, struct json_object **reply, char *err,
		      size_t errlen);
void xlb_proto_close(struct xlb_proto_client *c);

int xlb_proto_call(const char *path, struct json_object *req,
		   struct json_object **reply, char *err, size_t errlen);
int xlb_proto_call_timeout(const char *path, struct json_object *req, int timeout_ms,
			   struct json_object **reply, char *err, size_t errlen);

/* The "error" text of a refusal, or NULL when the reply says "ok":true. */
const char *xlb_proto_reply_error(struct json_object *reply);

#endif /* XLB_PROTO_H */
