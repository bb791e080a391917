// SPDX-License-Identifier: GPL-2.0
/*
 * The control protocol's line buffer and request decoder (proto.h).
 * Input: byte 0 picks max_line, byte 1 seeds how the rest is cut into
 * feeds, the rest is the byte stream a client sent. Properties:
 *  - the lines (and -EMSGSIZE reports) popped are those of a plain
 *    reference split of the whole stream, however it was cut;
 *  - a decoded request prints as one line that decodes to an equal object;
 *  - the typed getters agree with the JSON types and ranges, and every
 *    refusal carries the documented text.
 */
#define _GNU_SOURCE /* memrchr */
#include <errno.h>
#include <json-c/json.h>
#include "fuzz.h"
#include "../../user/lib/proto.h"

#define ERR_MAX 256

static void check_getters(struct json_object *req, const char *cmd)
{
	struct json_object_iterator it = json_object_iter_begin(req);
	struct json_object_iterator end = json_object_iter_end(req);
	const char *none[] = { NULL }, *s, *extra = NULL;
	char err[ERR_MAX], want[ERR_MAX];
	__u32 u;
	int ret;

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		struct json_object *v = json_object_iter_peek_value(&it);
		int is_int = json_object_is_type(v, json_type_int);
		int64_t n = is_int ? json_object_get_int64(v) : 0;

		if (strcmp(key, "cmd"))
			extra = extra ?: key;
		ret = xlb_proto_get_opt_str(req, key, &s, err, sizeof(err));
		if (json_object_is_type(v, json_type_string) &&
		    strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v))
			fuzz_assert(ret == 1 && s == json_object_get_string(v),
				    "string '%s' not returned (%d)", key, ret);
		else
			fuzz_assert(ret == -EINVAL && err[0], "'%s' is no string, got %d", key, ret);

		ret = xlb_proto_get_opt_u32(req, key, 1, 65535, &u, err, sizeof(err));
		if (is_int && n >= 1 && n <= 65535) {
			fuzz_assert(ret == 1 && u == n, "integer '%s' not returned (%d)", key, ret);
		} else {
			snprintf(want, sizeof(want), "%s must be an integer 1..65535", key);
			fuzz_assert(ret == -EINVAL && !strcmp(err, want), "'%s' 1..65535: %d '%s'",
				    key, ret, err);
		}
	}
	if (!json_object_object_get_ex(req, "absent", NULL)) {
		ret = xlb_proto_get_u32(req, "absent", 0, 1, &u, err, sizeof(err));
		fuzz_assert(ret == -EINVAL && !strcmp(err, "missing absent"), "absent u32: %s", err);
		ret = xlb_proto_get_str(req, "absent", &s, err, sizeof(err));
		fuzz_assert(ret == -EINVAL && !strcmp(err, "missing absent"), "absent str: %s", err);
	}
	ret = xlb_proto_check_keys(req, none, err, sizeof(err));
	if (extra) {
		snprintf(want, sizeof(want), "unknown argument '%s' for %s", extra, cmd);
		fuzz_assert(ret == -EINVAL && !strcmp(err, want), "check_keys: %d '%s', want '%s'",
			    ret, err, want);
	} else {
		fuzz_assert(ret == 0, "check_keys refused only cmd: %s", err);
	}
}

/* The reply path: print as one line, decode back, compare. */
static void check_round_trip(struct json_object *req, const char *cmd)
{
	struct json_object *back, *reply;
	const char *cmd2;
	char err[ERR_MAX], *text;
	ssize_t n = xlb_proto_to_line(req, &text);

	fuzz_assert(n > 0 && text[n - 1] == '\n' && memchr(text, '\n', n) == text + n - 1,
		    "to_line did not give one line");
	fuzz_assert(!xlb_proto_parse_request(text, n - 1, &back, &cmd2, err, sizeof(err)),
		    "printed request does not decode: %s: %s", err, text);
	/* by their printed forms: NaN, which json-c reads, is equal to nothing */
	fuzz_assert(json_object_equal(req, back) ||
		    !strcmp(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
			    json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN)),
		    "printed request decodes differently: %s", text);
	fuzz_assert(!strcmp(cmd, cmd2), "cmd changed");
	json_object_put(back);
	free(text);

	reply = xlb_proto_error("%s", cmd);
	fuzz_assert(reply, "xlb_proto_error failed");
	fuzz_assert(xlb_proto_reply_error(reply) &&
		    !strcmp(xlb_proto_reply_error(reply), cmd), "refusal text changed");
	json_object_put(reply);
}

static void check_request(const char *line, size_t len)
{
	static const char *const refusals[] = {
		XLB_PROTO_ERR_MALFORMED, XLB_PROTO_ERR_NOT_OBJECT, "missing cmd",
		"cmd must be a string", "cmd must not contain NUL characters", NULL,
	};
	struct json_object *req = (void *)1;
	const char *cmd = NULL;
	char err[ERR_MAX] = "";
	int ret = xlb_proto_parse_request(line, len, &req, &cmd, err, sizeof(err));
	size_t i;

	if (ret) {
		fuzz_assert(ret == -EINVAL && !req, "refused with %d, req %p", ret, (void *)req);
		for (i = 0; refusals[i] && strcmp(err, refusals[i]); i++)
			;
		fuzz_assert(refusals[i], "undocumented refusal '%s'", err);
		return;
	}
	fuzz_assert(json_object_is_type(req, json_type_object) && cmd, "no object or cmd");
	check_getters(req, cmd);
	check_round_trip(req, cmd);
	json_object_put(req);
}

/* What pop must return: one entry per line; len -1 for a too-long one. */
struct expect {
	const char *line;
	long len;
};

static size_t reference_split(const char *s, size_t size, size_t max_line,
			      struct expect *out)
{
	size_t n = 0, start = 0, i, len;

	for (i = 0; i < size; i++) {
		if (s[i] != '\n')
			continue;
		len = i - start;
		if (len && s[i - 1] == '\r')
			len--;
		out[n].line = s + start;
		out[n++].len = len > max_line ? -1 : (long)len;
		start = i + 1;
	}
	/* an unfinished line is reported as soon as it cannot fit any more */
	if (size - start >= max_line + 2)
		out[n++].len = -1;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t b0 = fuzz_byte(&data, &size), seed = fuzz_byte(&data, &size);
	size_t max_line = b0 & 0x80 ? XLB_PROTO_MAX_LINE : 1 + b0 % 64;
	struct expect *want = calloc(size + 1, sizeof(*want));
	struct xlb_linebuf lb;
	const uint8_t *last_nl;
	size_t off = 0, got = 0, nwant, chunk, len, tail;
	char *line;
	int ret;

	if (!want)
		abort();
	nwant = reference_split((const char *)data, size, max_line, want);
	xlb_linebuf_init(&lb, max_line);
	while (off < size) {
		seed = seed * 37 + 11;
		chunk = seed % 19 + 1;
		chunk = chunk < size - off ? chunk : size - off;
		fuzz_assert(!xlb_linebuf_feed(&lb, data + off, chunk), "feed failed");
		off += chunk;
		while ((ret = xlb_linebuf_pop(&lb, &line, &len)) != 0) {
			fuzz_assert(got < nwant, "pop %zu: more results than lines", got);
			if (want[got].len < 0) {
				fuzz_assert(ret == -EMSGSIZE, "pop %zu: %d, want -EMSGSIZE", got, ret);
			} else {
				fuzz_assert(ret == 1 && (long)len == want[got].len &&
					    !memcmp(line, want[got].line, len) && !line[len],
					    "pop %zu: %d, not the line of %ld bytes", got, ret,
					    want[got].len);
				check_request(line, len);
			}
			got++;
		}
	}
	fuzz_assert(got == nwant, "%zu results, want %zu", got, nwant);
	last_nl = memrchr(data, '\n', size);
	tail = last_nl ? size - (size_t)(last_nl - data) - 1 : size;
	fuzz_assert(xlb_linebuf_pending(&lb) == (tail >= max_line + 2 ? 0 : tail),
		    "pending %zu, unfinished line of %zu", xlb_linebuf_pending(&lb), tail);
	xlb_linebuf_free(&lb);
	free(want);
	return 0;
}
