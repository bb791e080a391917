// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl: the operator's command for xlbd, in the style of ip(8) and
 * bpftool: xlbctl [OPTIONS] OBJECT VERB [ARGS], any unique prefix of a
 * word will do. Arguments are checked here, before anything is sent, so
 * a typo gets a precise message and never reaches the daemon; then one
 * request goes over the control socket and the reply is printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "proto.h"
#include "syntax.h"

/* Exit codes; keep the list in usage() in step. */
enum {
	EXIT_DONE = 0,
	EXIT_REFUSED = 1,	/* the daemon refused the request */
	EXIT_USAGE = 2,		/* bad usage or input, caught before sending */
	EXIT_UNREACHABLE = 3,	/* no daemon, no answer, or a garbled one */
};

static struct {
	const char *socket_path;
	bool json;
	bool pretty;
} opts = {
	.socket_path = XLB_SOCKET_PATH,
};

#define JSON_LINE_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define JSON_PRETTY_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Control characters from argv or the daemon would break the one-line rule. */
static void print_sanitized(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void print_error(const char *msg)
{
	struct json_object *obj;

	if (!opts.json) {
		fputs("xlbctl: ", stderr);
		print_sanitized(stderr, msg);
		fputc('\n', stderr);
		return;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "error", json_object_new_string(msg));
	fprintf(stderr, "%s\n", json_object_to_json_string_ext(obj, JSON_LINE_FLAGS));
	json_object_put(obj);
}

/* Print an error and return the exit code it stands for. */
static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error(msg);
	return code;
}

#define usage_error(...) fail(EXIT_USAGE, __VA_ARGS__)

/*
 * Words of the command line. An exact name or alias wins; otherwise any
 * unique prefix of a name. Aliases settle the prefixes people type most
 * ("s" is show, not set).
 */
struct word {
	const char *name;
	const char *alias;
};

enum { WORD_UNKNOWN = -1, WORD_AMBIGUOUS = -2 };

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Look arg up in a table whose entries start with a struct word (size is
 * the entry size). Returns the index, WORD_UNKNOWN, or WORD_AMBIGUOUS with
 * the candidates, sorted, in cands.
 */
static int lookup_word(const void *table, size_t n, size_t size, const char *arg,
		       char *cands, size_t candlen)
{
	const char *matches[64];
	size_t i, nmatch = 0, arglen = strlen(arg), off = 0;
	const struct word *w;
	int found = WORD_UNKNOWN;

	if (!arglen)
		return WORD_UNKNOWN;
	for (i = 0; i < n; i++) {
		w = (const struct word *)((const char *)table + i * size);
		if (!strcmp(arg, w->name) || (w->alias && !strcmp(arg, w->alias)))
			return (int)i;
	}
	for (i = 0; i < n; i++) {
		w = (const struct word *)((const char *)table + i * size);
		if (strncmp(arg, w->name, arglen))
			continue;
		if (nmatch < sizeof(matches) / sizeof(matches[0]))
			matches[nmatch++] = w->name;
		found = (int)i;
	}
	if (nmatch <= 1)
		return found;

	qsort(matches, nmatch, sizeof(matches[0]), cmp_names);
	cands[0] = '\0';
	for (i = 0; i < nmatch && off < candlen; i++)
		off += snprintf(cands + off, candlen - off, "%s%s", i ? ", " : "", matches[i]);
	return WORD_AMBIGUOUS;
}

/* The command being parsed: what it is called in messages and what is left. */
struct cmd {
	const struct object *obj;
	char what[64];		/* "vip add" */
	int argc;
	char **argv;
};

static const char *next_arg(struct cmd *c)
{
	if (!c->argc)
		return NULL;
	c->argc--;
	return *c->argv++;
}

struct verb {
	struct word w;
	int (*run)(struct cmd *c);
};

struct object {
	struct word w;
	const struct verb *verbs;	/* NULL: OBJECT alone is the command */
	size_t nverbs;
	int (*run)(struct cmd *c);	/* when there are no verbs */
	const char *default_verb;	/* when the verb is left out */
	const char *usage;
};

/* The keyword at arg in a table, with the message for a bad one. */
static int lookup_keyword(const struct cmd *c, const struct word *table, size_t n,
			  const char *arg, int *ret)
{
	char cands[512];
	int i = lookup_word(table, n, sizeof(*table), arg, cands, sizeof(cands));

	if (i == WORD_UNKNOWN)
		*ret = usage_error("unknown keyword '%s' for '%s'", arg, c->what);
	else if (i == WORD_AMBIGUOUS)
		*ret = usage_error("ambiguous keyword '%s' for '%s': %s", arg, c->what, cands);
	return i;
}

static int no_more_args(struct cmd *c)
{
	const char *arg = next_arg(c);

	if (arg)
		return usage_error("'%s': unexpected argument '%s'", c->what, arg);
	return 0;
}

static struct json_object *new_request(const char *cmd)
{
	struct json_object *req = json_object_new_object();

	if (req)
		json_object_object_add(req, "cmd", json_object_new_string(cmd));
	return req;
}

static void add_str(struct json_object *obj, const char *key, const char *val)
{
	json_object_object_add(obj, key, json_object_new_string(val));
}

static void add_int(struct json_object *obj, const char *key, __u32 val)
{
	json_object_object_add(obj, key, json_object_new_int64(val));
}

/* Helpers that parse one argument return 0 or an exit code. */

static int take_vip(struct cmd *c, struct json_object *req)
{
	const char *arg = next_arg(c);
	char err[128], text[XLB_VIP_STR_MAX];
	struct vip_key key;

	if (!arg)
		return usage_error("missing VIP");
	if (xlb_parse_vip(arg, &key, err, sizeof(err)))
		return usage_error("invalid VIP '%s': %s", arg, err);
	/* Send the canonical form, so the daemon's replies match it. */
	xlb_format_vip(&key, text, sizeof(text));
	add_str(req, "vip", text);
	return 0;
}

static int take_address(struct cmd *c, struct json_object *req)
{
	const char *arg = next_arg(c);
	char err[128], text[XLB_ADDR_STR_MAX];
	__be32 addr[4];

	if (!arg)
		return usage_error("missing address");
	if (xlb_parse_addr(arg, addr, err, sizeof(err)))
		return usage_error("invalid address '%s': %s", arg, err);
	xlb_format_addr(addr, text, sizeof(text));
	add_str(req, "address", text);
	return 0;
}

static int parse_number(const char *keyword, const char *arg, __u32 min, __u32 max,
			__u32 *out)
{
	char err[128];

	if (xlb_parse_u32(arg, min, max, out, err, sizeof(err)))
		return usage_error("%s: %s", keyword, err);
	return 0;
}

/* A health-check duration in [min_ms, XLB_CHECK_TIME_MAX_MS], as xlbd wants it. */
static int parse_duration(const char *keyword, const char *arg, __u64 min_ms, __u64 *ms)
{
	char err[128], lo[32], hi[32];

	if (xlb_parse_duration_ms(arg, ms, err, sizeof(err)))
		return usage_error("%s: %s", keyword, err);
	if (*ms < min_ms || *ms > XLB_CHECK_TIME_MAX_MS) {
		xlb_format_duration_ms(min_ms, lo, sizeof(lo));
		xlb_format_duration_ms(XLB_CHECK_TIME_MAX_MS, hi, sizeof(hi));
		return usage_error("%s: out of range (%s..%s)", keyword, lo, hi);
	}
	return 0;
}

/* The GET path goes into an HTTP request line as is. */
static int check_http_path(const char *path)
{
	const char *p;

	if (path[0] != '/')
		return usage_error("invalid path '%s': must start with '/'", path);
	if (strlen(path) >= XLB_HTTP_PATH_MAX)
		return usage_error("invalid path '%s': longer than %d bytes", path,
				   XLB_HTTP_PATH_MAX - 1);
	for (p = path; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return usage_error("invalid path '%s': spaces and control characters are not allowed",
					   path);
	return 0;
}

/* Print the reply minus "ok", as JSON. */
static void print_json(struct json_object *reply)
{
	json_object_object_del(reply, "ok");
	printf("%s\n", json_object_to_json_string_ext(reply,
			opts.pretty ? JSON_PRETTY_FLAGS : JSON_LINE_FLAGS));
}

/*
 * Send req (consumed) and print the reply: as JSON with -j, else with
 * print_human (NULL: print nothing, like ip(8) after a change).
 */
static int transact(struct json_object *req, void (*print_human)(struct json_object *))
{
	struct json_object *reply = NULL;
	const char *refusal;
	char err[512];
	int ret;

	if (!req)
		return fail(EXIT_UNREACHABLE, "out of memory");
	ret = xlb_proto_call(opts.socket_path, req, &reply, err, sizeof(err));
	json_object_put(req);
	if (ret)
		return fail(EXIT_UNREACHABLE, "%s", err);

	refusal = xlb_proto_reply_error(reply);
	if (refusal) {
		ret = fail(EXIT_REFUSED, "%s", refusal);
	} else {
		if (opts.json)
			print_json(reply);
		else if (print_human)
			print_human(reply);
		ret = EXIT_DONE;
	}
	json_object_put(reply);
	return ret;
}

/* Aligned text tables: numbers to the right, words to the left. */
#define TABLE_MAX_COLS 12

struct table {
	size_t ncols;
	const char *const *heads;
	const bool *right;
	char **cells;		/* row-major, rows * ncols, strdup'd */
	size_t rows;
};

static void table_add(struct table *t, char **row)
{
	char **cells = realloc(t->cells, (t->rows + 1) * t->ncols * sizeof(*cells));
	size_t i;

	if (!cells) {
		for (i = 0; i < t->ncols; i++)
			free(row[i]);
		return;
	}
	t->cells = cells;
	memcpy(cells + t->rows * t->ncols, row, t->ncols * sizeof(*cells));
	t->rows++;
}

static void table_print_row(const struct table *t, const size_t *width,
			    const char *const *row)
{
	size_t i, len;

	for (i = 0; i < t->ncols; i++) {
		const char *s = row[i] ? row[i] : "-";
		bool last = i + 1 == t->ncols;

		len = strlen(s);
		if (i)
			fputs("  ", stdout);
		if (t->right[i])
			printf("%*s", (int)(width[i] - len), "");
		print_sanitized(stdout, s);
		if (!t->right[i] && !last)
			printf("%*s", (int)(width[i] - len), "");
	}
	putchar('\n');
}

/* Print and free. Nothing at all for an empty table, like ip(8). */
static void table_flush(struct table *t)
{
	size_t width[TABLE_MAX_COLS] = { 0 };
	size_t r, i, len;

	if (t->rows) {
		for (i = 0; i < t->ncols; i++)
			width[i] = strlen(t->heads[i]);
		for (r = 0; r < t->rows; r++)
			for (i = 0; i < t->ncols; i++) {
				const char *s = t->cells[r * t->ncols + i];

				len = s ? strlen(s) : 1;
				if (len > width[i])
					width[i] = len;
			}
		table_print_row(t, width, t->heads);
		for (r = 0; r < t->rows; r++)
			table_print_row(t, width, (const char *const *)t->cells + r * t->ncols);
	}
	for (i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = 0;
}

/* Text of a member for display: strings as they are, other values as JSON, "-" if absent. */
static char *cell(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return strdup("-");
	if (json_object_is_type(v, json_type_string))
		return strdup(json_object_get_string(v));
	return strdup(json_object_to_json_string_ext(v, JSON_LINE_FLAGS));
}

static struct json_object *member(struct json_object *obj, const char *key,
				  enum json_type type)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* "http:80/healthz", "tcp:8080", "none" */
static char *check_cell(struct json_object *vip)
{
	struct json_object *health = member(vip, "health", json_type_object);
	struct json_object *kind, *port, *path;
	char *text;

	if (!health || !(kind = member(health, "check", json_type_string)))
		return strdup("-");
	port = member(health, "port", json_type_int);
	path = member(health, "path", json_type_string);
	if (asprintf(&text, "%s%s%s%s", json_object_get_string(kind),
		     port ? ":" : "", port ? json_object_get_string(port) : "",
		     path ? json_object_get_string(path) : "") < 0)
		return NULL;
	return text;
}

static void print_vips(struct json_object *reply)
{
	static const char *const heads[] = {
		"VIP", "SCHED", "FORWARD", "CHECK", "BACKENDS", "UP", "PACKETS", "BYTES", "FLOWS",
	};
	static const bool right[] = { 0, 0, 0, 0, 1, 1, 1, 1, 1 };
	struct table t = { .ncols = 9, .heads = heads, .right = right };
	struct json_object *vips = member(reply, "vips", json_type_array);
	size_t i, n = vips ? json_object_array_length(vips) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(vips, i);
		char *row[] = {
			cell(v, "vip"), cell(v, "sched"), cell(v, "forward"), check_cell(v),
			cell(v, "backends"), cell(v, "up"), cell(v, "packets"),
			cell(v, "bytes"), cell(v, "flows"),
		};

		table_add(&t, row);
	}
	table_flush(&t);
}

static void print_backends(struct json_object *reply)
{
	static const char *const heads[] = {
		"VIP", "ADDRESS", "WEIGHT", "STATE", "LAST-CHECK", "OK", "FAIL",
		"FLOWS", "PACKETS", "BYTES",
	};
	static const bool right[] = { 0, 0, 1, 0, 0, 1, 1, 1, 1, 1 };
	struct table t = { .ncols = 10, .heads = heads, .right = right };
	struct json_object *list = member(reply, "backends", json_type_array);
	size_t i, n = list ? json_object_array_length(list) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *b = json_object_array_get_idx(list, i);
		char *row[] = {
			cell(b, "vip"), cell(b, "address"), cell(b, "weight"),
			cell(b, "state"), cell(b, "last_check"), cell(b, "ok_streak"),
			cell(b, "fail_streak"), cell(b, "flows"), cell(b, "packets"),
			cell(b, "bytes"),
		};

		table_add(&t, row);
	}
	table_flush(&t);
}

/* Every member but "ok" as "key: value"; lists joined with ", ". */
static void print_status(struct json_object *reply)
{
	json_object_object_foreach(reply, key, val) {
		size_t i, n;

		if (!strcmp(key, "ok"))
			continue;
		printf("%s: ", key);
		if (json_object_is_type(val, json_type_array)) {
			n = json_object_array_length(val);
			for (i = 0; i < n; i++) {
				struct json_object *e = json_object_array_get_idx(val, i);

				if (i)
					fputs(", ", stdout);
				print_sanitized(stdout, json_object_is_type(e, json_type_string) ?
						json_object_get_string(e) :
						json_object_to_json_string_ext(e, JSON_LINE_FLAGS));
			}
		} else if (json_object_is_type(val, json_type_string)) {
			print_sanitized(stdout, json_object_get_string(val));
		} else {
			fputs(json_object_to_json_string_ext(val, JSON_LINE_FLAGS), stdout);
		}
		putchar('\n');
	}
}

static void print_reload(struct json_object *reply)
{
	static const char *const kinds[] = { "added", "changed", "removed" };
	size_t k, i, n, lines = 0;

	for (k = 0; k < 3; k++) {
		struct json_object *list = member(reply, kinds[k], json_type_array);

		n = list ? json_object_array_length(list) : 0;
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(list, i);

			printf("%s: ", kinds[k]);
			print_sanitized(stdout, json_object_is_type(e, json_type_string) ?
					json_object_get_string(e) :
					json_object_to_json_string_ext(e, JSON_LINE_FLAGS));
			putchar('\n');
			lines++;
		}
	}
	if (!lines)
		puts("no changes");
}

/* vip add VIP [sched S] [forward F] [check KIND [PATH]] [check-port P] ... */
enum vip_add_keyword {
	KW_SCHED, KW_FORWARD, KW_CHECK, KW_CHECK_PORT, KW_INTERVAL, KW_TIMEOUT,
	KW_RISE, KW_FALL,
};

static const struct word vip_add_words[] = {
	[KW_SCHED] = { .name = "sched" },
	[KW_FORWARD] = { .name = "forward" },
	[KW_CHECK] = { .name = "check" },
	[KW_CHECK_PORT] = { .name = "check-port" },
	[KW_INTERVAL] = { .name = "interval" },
	[KW_TIMEOUT] = { .name = "timeout" },
	[KW_RISE] = { .name = "rise" },
	[KW_FALL] = { .name = "fall" },
};

static const char *const check_kinds[] = {
	[XLB_CHECK_NONE] = "none",
	[XLB_CHECK_TCP] = "tcp",
	[XLB_CHECK_HTTP] = "http",
	[XLB_CHECK_HTTPS] = "https",
};

static int vip_add_option(struct cmd *c, struct json_object *req, int kw,
			  const char *val, __u64 *interval, __u64 *timeout)
{
	const char *name = vip_add_words[kw].name, *path;
	char err[128], text[32];
	__u32 n;
	__u8 u8;
	size_t i;
	int ret;

	switch (kw) {
	case KW_SCHED:
		if (xlb_parse_sched(val, &u8, err, sizeof(err)))
			return usage_error("sched: %s", err);
		add_str(req, "sched", xlb_sched_name(u8));
		return 0;
	case KW_FORWARD:
		if (xlb_parse_forward(val, &u8, err, sizeof(err)))
			return usage_error("forward: %s", err);
		add_str(req, "forward", xlb_forward_name(u8));
		return 0;
	case KW_CHECK:
		for (i = 0; i < sizeof(check_kinds) / sizeof(check_kinds[0]); i++)
			if (!strcmp(val, check_kinds[i]))
				break;
		if (i == sizeof(check_kinds) / sizeof(check_kinds[0]))
			return usage_error("check: unknown kind '%s' (none, tcp, http or https)", val);
		add_str(req, "check", val);
		if (i != XLB_CHECK_HTTP && i != XLB_CHECK_HTTPS)
			return 0;
		path = next_arg(c);
		if (!path)
			return usage_error("'%s': missing path for 'check %s'", c->what, val);
		ret = check_http_path(path);
		if (ret)
			return ret;
		add_str(req, "path", path);
		return 0;
	case KW_CHECK_PORT:
		ret = parse_number(name, val, 1, 65535, &n);
		if (!ret)
			add_int(req, "check_port", n);
		return ret;
	case KW_INTERVAL:
		ret = parse_duration(name, val, XLB_INTERVAL_MIN_MS, interval);
		if (ret)
			return ret;
		xlb_format_duration_ms(*interval, text, sizeof(text));
		add_str(req, name, text);
		return 0;
	case KW_TIMEOUT:
		ret = parse_duration(name, val, XLB_TIMEOUT_MIN_MS, timeout);
		if (ret)
			return ret;
		xlb_format_duration_ms(*timeout, text, sizeof(text));
		add_str(req, name, text);
		return 0;
	case KW_RISE:
	case KW_FALL:
		ret = parse_number(name, val, 1, XLB_RISE_FALL_MAX, &n);
		if (!ret)
			add_int(req, name, n);
		return ret;
	}
	return usage_error("'%s': internal error: keyword %d", c->what, kw);
}

static int vip_add(struct cmd *c)
{
	struct json_object *req = new_request("vip-add");
	__u64 interval = 0, timeout = 0;
	unsigned int seen = 0;
	const char *arg, *val;
	int kw, ret;

	ret = take_vip(c, req);
	while (!ret && (arg = next_arg(c))) {
		kw = lookup_keyword(c, vip_add_words, sizeof(vip_add_words) / sizeof(vip_add_words[0]),
				    arg, &ret);
		if (kw < 0)
			break;
		if (seen & (1u << kw)) {
			ret = usage_error("'%s': duplicate keyword '%s'", c->what, vip_add_words[kw].name);
			break;
		}
		seen |= 1u << kw;
		val = next_arg(c);
		if (!val) {
			ret = usage_error("'%s': missing %s value", c->what, vip_add_words[kw].name);
			break;
		}
		ret = vip_add_option(c, req, kw, val, &interval, &timeout);
	}
	/* Only when both are given: the daemon knows the defaults. */
	if (!ret && interval && timeout && timeout >= interval)
		ret = usage_error("'%s': timeout must be shorter than interval", c->what);
	if (ret) {
		json_object_put(req);
		return ret;
	}
	return transact(req, NULL);
}

static int vip_del(struct cmd *c)
{
	struct json_object *req = new_request("vip-del");
	int ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = no_more_args(c);
	if (ret) {
		json_object_put(req);
		return ret;
	}
	return transact(req, NULL);
}

/* "vip show [VIP]", "backend show [VIP]" */
static int show(struct cmd *c, const char *cmd, void (*print_human)(struct json_object *))
{
	struct json_object *req = new_request(cmd);
	int ret = 0;

	if (c->argc)
		ret = take_vip(c, req);
	if (!ret)
		ret = no_more_args(c);
	if (ret) {
		json_object_put(req);
		return ret;
	}
	return transact(req, print_human);
}

static int vip_show(struct cmd *c)
{
	return show(c, "vip-show", print_vips);
}

static const struct word backend_add_words[] = {
	{ .name = "weight" },
};

static int backend_add(struct cmd *c)
{
	struct json_object *req = new_request("backend-add");
	const char *arg, *val;
	bool have_weight = false;
	__u32 weight;
	int ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	while (!ret && (arg = next_arg(c))) {
		if (lookup_keyword(c, backend_add_words, 1, arg, &ret) < 0)
			break;
		if (have_weight) {
			ret = usage_error("'%s': duplicate keyword 'weight'", c->what);
			break;
		}
		have_weight = true;
		val = next_arg(c);
		if (!val) {
			ret = usage_error("'%s': missing weight value", c->what);
			break;
		}
		ret = parse_number("weight", val, XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &weight);
		if (!ret)
			add_int(req, "weight", weight);
	}
	if (ret) {
		json_object_put(req);
		return ret;
	}
	return transact(req, NULL);
}

static int backend_del(struct cmd *c)
{
	struct json_object *req = new_request("backend-del");
	int ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	if (!ret)
		ret = no_more_args(c);
	if (ret) {
		json_object_put(req);
		return ret;
	}
	return transact(req, NULL);
}

/* backend set VIP ADDR weight N | drain | undrain | disable | enable: one change. */
enum { SET_WEIGHT, SET_DRAIN, SET_UNDRAIN, SET_DISABLE, SET_ENABLE };

static const struct word backend_set_words[] = {
	[SET_WEIGHT] = { .name = "weight" },
	[SET_DRAIN] = { .name = "drain" },
	[SET_UNDRAIN] = { .name = "undrain" },
	[SET_DISABLE] = { .name = "disable" },
	[SET_ENABLE] = { .name = "enable" },
};

static int backend_set(struct cmd *c)
{
	struct json_object *req = new_request("backend-set");
	const char *arg, *val;
	bool changed = false;
	__u32 weight;
	int op, ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	while (!ret && (arg = next_arg(c))) {
		op = lookup_keyword(c, backend_set_words,
				    sizeof(backend_set_words) / sizeof(backend_set_words[0]),
				    arg, &ret);
		if (op < 0)
			break;
		if (changed) {
			ret = usage_error("'%s': only one of weight, drain, undrain, disable, enable",
					  c->what);
			break;
		}
		changed = true;
		if (op != SET_WEIGHT) {
			add_str(req, "admin", backend_set_words[op].name);
			continue;
		}
		val = next_arg(c);
		if (!val) {
			ret = usage_error("'%s': missing weight value", c->what);
			break;
		}
		ret = parse_number("weight", val, XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &weight);
		if (!ret)
			add_int(req, "weight", weight);
	}
	if (!ret && !changed)
		ret = usage_error("'%s': nothing to set (weight N, drain, undrain, disable or enable)",
				  c->what);
	if (ret) {
		json_object_put(req);
		return ret;
	}
	return transact(req, NULL);
}

static int backend_show(struct cmd *c)
{
	return show(c, "backend-show", print_backends);
}

static int simple_request(struct cmd *c, const char *cmd,
			  void (*print_human)(struct json_object *))
{
	int ret = no_more_args(c);

	if (ret)
		return ret;
	return transact(new_request(cmd), print_human);
}

/* Global counters by reason, then traffic per VIP and per backend. */
static void print_stats(struct json_object *reply)
{
	static const char *const gheads[] = { "COUNTER", "VALUE" };
	static const bool gright[] = { 0, 1 };
	static const char *const vheads[] = { "VIP", "PACKETS", "BYTES", "FLOWS" };
	static const bool vright[] = { 0, 1, 1, 1 };
	static const char *const bheads[] = { "VIP", "BACKEND", "STATE", "PACKETS", "BYTES", "FLOWS" };
	static const bool bright[] = { 0, 0, 0, 1, 1, 1 };
	struct table g = { .ncols = 2, .heads = gheads, .right = gright };
	struct table v = { .ncols = 4, .heads = vheads, .right = vright };
	struct table b = { .ncols = 6, .heads = bheads, .right = bright };
	struct json_object *global = member(reply, "global", json_type_object);
	struct json_object *vips = member(reply, "vips", json_type_array);
	struct json_object *bes = member(reply, "backends", json_type_array);
	size_t i, n;

	if (global) {
		json_object_object_foreach(global, key, val) {
			char *row[] = { strdup(key), strdup(json_object_get_string(val)) };

			table_add(&g, row);
		}
		table_flush(&g);
	}
	n = vips ? json_object_array_length(vips) : 0;
	if (n)
		putchar('\n');
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(vips, i);
		char *row[] = { cell(e, "vip"), cell(e, "packets"), cell(e, "bytes"), cell(e, "flows") };

		table_add(&v, row);
	}
	table_flush(&v);
	n = bes ? json_object_array_length(bes) : 0;
	if (n)
		putchar('\n');
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(bes, i);
		char *row[] = { cell(e, "vip"), cell(e, "address"), cell(e, "state"),
				cell(e, "packets"), cell(e, "bytes"), cell(e, "flows") };

		table_add(&b, row);
	}
	table_flush(&b);
}

static int stats(struct cmd *c)
{
	return show(c, "stats", print_stats);
}

static int status(struct cmd *c)
{
	return simple_request(c, "status", print_status);
}

static int reload(struct cmd *c)
{
	return simple_request(c, "reload", print_reload);
}

static void usage(FILE *f);
static int object_help(struct cmd *c);
static int help(struct cmd *c);

static const struct verb vip_verbs[] = {
	{ { .name = "add" }, vip_add },
	{ { .name = "del", .alias = "delete" }, vip_del },
	{ { .name = "show", .alias = "s" }, vip_show },
	{ { .name = "help" }, object_help },
};

static const struct verb backend_verbs[] = {
	{ { .name = "add" }, backend_add },
	{ { .name = "del", .alias = "delete" }, backend_del },
	{ { .name = "set" }, backend_set },
	{ { .name = "show", .alias = "s" }, backend_show },
	{ { .name = "help" }, object_help },
};

/* One entry per object; new objects only need a line here. */
static const struct object objects[] = {
	{
		.w = { "vip" },
		.verbs = vip_verbs,
		.nverbs = sizeof(vip_verbs) / sizeof(vip_verbs[0]),
		.default_verb = "show",
		.usage =
		"xlbctl vip add VIP [sched maglev|source-hash] [forward l2dsr]\n"
		"               [check none|tcp|http PATH|https PATH] [check-port PORT]\n"
		"               [interval DUR] [timeout DUR] [rise N] [fall N]\n"
		"xlbctl vip del VIP\n"
		"xlbctl vip show [VIP]\n",
	},
	{
		.w = { "backend" },
		.verbs = backend_verbs,
		.nverbs = sizeof(backend_verbs) / sizeof(backend_verbs[0]),
		.default_verb = "show",
		.usage =
		"xlbctl backend add VIP ADDR [weight N]\n"
		"xlbctl backend del VIP ADDR\n"
		"xlbctl backend set VIP ADDR weight N | drain | undrain | disable | enable\n"
		"xlbctl backend show [VIP]\n",
	},
	{
		.w = { "stats" },
		.run = stats,
		.usage = "xlbctl stats [VIP]\n",
	},
	{
		.w = { "status" },
		.run = status,
		.usage = "xlbctl status\n",
	},
	{
		.w = { "reload" },
		.run = reload,
		.usage = "xlbctl reload\n",
	},
	{
		.w = { "help" },
		.run = help,
		.usage = "xlbctl help [OBJECT]\n",
	},
};

#define NOBJECTS (sizeof(objects) / sizeof(objects[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("Usage: xlbctl [-s SOCKET] [-j] [-p] OBJECT VERB [ARGS]\n\n", f);
	for (i = 0; i < NOBJECTS; i++)
		fputs(objects[i].usage, f);
	fprintf(f,
		"\n"
		"Options:\n"
		"  -s, --socket PATH  control socket of xlbd (default %s)\n"
		"  -j, --json         print the reply, and errors, as one JSON object\n"
		"  -p, --pretty       the same, indented (implies -j)\n"
		"  -h, --help         this text\n"
		"\n"
		"VIP  := ADDR:PORT/tcp|udp or [IPV6]:PORT/tcp|udp (port 0: every port)\n"
		"ADDR := an IPv4 or IPv6 address\n"
		"DUR  := a whole number with a unit: ms, s, m or h (500ms, 2s)\n"
		"Any unique prefix of an object, verb or keyword will do: 'xlbctl b s'.\n"
		"Without a verb, vip and backend show.\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  the daemon refused the request (its reason is printed)\n"
		"  2  bad usage or input, caught before anything was sent\n"
		"  3  the daemon is not running, did not answer, or answered garbage\n",
		XLB_SOCKET_PATH);
}

static int lookup_object(const char *arg)
{
	char cands[512];
	int i = lookup_word(objects, NOBJECTS, sizeof(objects[0]), arg, cands, sizeof(cands));

	if (i == WORD_UNKNOWN)
		usage_error("unknown object '%s'", arg);
	else if (i == WORD_AMBIGUOUS)
		usage_error("ambiguous command '%s': %s", arg, cands);
	return i;
}

static int help(struct cmd *c)
{
	const char *arg = next_arg(c);
	int i, ret;

	if (!arg) {
		usage(stdout);
		return EXIT_DONE;
	}
	i = lookup_object(arg);
	if (i < 0)
		return EXIT_USAGE;
	ret = no_more_args(c);
	if (ret)
		return ret;
	fputs(objects[i].usage, stdout);
	return EXIT_DONE;
}

static int object_help(struct cmd *c)
{
	int ret = no_more_args(c);

	if (ret)
		return ret;
	fputs(c->obj->usage, stdout);
	return EXIT_DONE;
}

static int run_object(int argc, char **argv)
{
	struct cmd c = { .argc = argc, .argv = argv };
	const struct object *obj;
	const char *verb_arg;
	char cands[512];
	int i;

	i = lookup_object(next_arg(&c));
	if (i < 0)
		return EXIT_USAGE;
	obj = &objects[i];
	c.obj = obj;
	if (!obj->verbs) {
		snprintf(c.what, sizeof(c.what), "%s", obj->w.name);
		return obj->run(&c);
	}

	verb_arg = next_arg(&c);
	if (!verb_arg)
		verb_arg = obj->default_verb;
	i = lookup_word(obj->verbs, obj->nverbs, sizeof(obj->verbs[0]), verb_arg,
			cands, sizeof(cands));
	if (i == WORD_UNKNOWN)
		return usage_error("unknown verb '%s' for '%s'", verb_arg, obj->w.name);
	if (i == WORD_AMBIGUOUS)
		return usage_error("ambiguous verb '%s' for '%s': %s", verb_arg, obj->w.name,
				   cands);
	snprintf(c.what, sizeof(c.what), "%s %s", obj->w.name, obj->verbs[i].w.name);
	return obj->verbs[i].run(&c);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char bad_option[512] = "";
	bool want_help = false;
	int opt;

	/* Our own messages, in JSON too; '+' stops at OBJECT, so "-1" stays an argument. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:s:jph", long_opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			opts.socket_path = optarg;
			break;
		case 'p':
			opts.pretty = true;
			/* fall through */
		case 'j':
			opts.json = true;
			break;
		case 'h':
			want_help = true;
			break;
		case ':':
			/* Report the first problem, once -j/-p later on the line are known. */
			if (!bad_option[0])
				snprintf(bad_option, sizeof(bad_option), "option '%s' needs an argument",
					 argv[optind - 1]);
			break;
		default:
			if (bad_option[0])
				break;
			if (optopt)
				snprintf(bad_option, sizeof(bad_option), "unknown option '-%c'", optopt);
			else
				snprintf(bad_option, sizeof(bad_option), "unknown option '%s'",
					 argv[optind - 1]);
			break;
		}
	}
	if (bad_option[0])
		return usage_error("%s", bad_option);
	if (want_help) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (optind == argc) {
		if (opts.json)
			return usage_error("missing object (see 'xlbctl help')");
		usage(stderr);
		return EXIT_USAGE;
	}
	return run_object(argc - optind, argv + optind);
}
