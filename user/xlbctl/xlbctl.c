// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl: the operator's command for xlbd, in the style of ip(8) and
 * bpftool: xlbctl [OPTIONS] OBJECT VERB [ARGS], any unique prefix of a
 * word will do. Arguments are checked here, before anything is sent, so
 * a typo gets a precise message and never reaches the daemon; then one
 * request goes over the control socket and the reply is printed.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

/* The end of every request-building command: send it, or drop it on a usage error. */
static int send_unless(int ret, struct json_object *req,
		       void (*print_human)(struct json_object *))
{
	if (ret) {
		json_object_put(req);
		return ret;
	}
	return transact(req, print_human);
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

static void table_print_row(FILE *f, const struct table *t, const size_t *width,
			    const char *const *row)
{
	size_t i, len;

	for (i = 0; i < t->ncols; i++) {
		const char *s = row[i] ? row[i] : "-";
		bool last = i + 1 == t->ncols;

		len = strlen(s);
		if (i)
			fputs("  ", f);
		if (t->right[i])
			fprintf(f, "%*s", (int)(width[i] - len), "");
		print_sanitized(f, s);
		if (!t->right[i] && !last)
			fprintf(f, "%*s", (int)(width[i] - len), "");
	}
	fputc('\n', f);
}

/* Print to f and free. Nothing at all for an empty table, like ip(8). */
static void table_flush_to(FILE *f, struct table *t)
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
		table_print_row(f, t, width, t->heads);
		for (r = 0; r < t->rows; r++)
			table_print_row(f, t, width, (const char *const *)t->cells + r * t->ncols);
	}
	for (i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = 0;
}

static void table_flush(struct table *t)
{
	table_flush_to(stdout, t);
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
	return send_unless(ret, req, NULL);
}

static int vip_del(struct cmd *c)
{
	struct json_object *req = new_request("vip-del");
	int ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = no_more_args(c);
	return send_unless(ret, req, NULL);
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
	return send_unless(ret, req, print_human);
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
	return send_unless(ret, req, NULL);
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
	return send_unless(ret, req, NULL);
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
	return send_unless(ret, req, NULL);
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

/*
 * "198.18.0.1:40000" or "[2001:db8::1]:40000", with the error texts of a
 * VIP (syntax.h) so that both read alike.
 */
static int parse_client(const char *s, __be32 addr[4], __u32 *port, char *err,
			size_t errlen)
{
	char text[XLB_ADDR_STR_MAX];
	const char *p, *end;
	int ndigits = 0;
	size_t len;

	if (s[0] == '[') {
		end = strchr(s, ']');
		len = end ? (size_t)(end - s - 1) : 0;
		/* Brackets are for IPv6 only, as in a VIP. */
		if (!end || len >= sizeof(text) || !memchr(s + 1, ':', len)) {
			snprintf(err, errlen, "bad IPv6 address");
			return -EINVAL;
		}
		memcpy(text, s + 1, len);
		text[len] = '\0';
		if (xlb_parse_addr(text, addr, err, errlen))
			return -EINVAL;
		p = end + 1;
	} else {
		len = strcspn(s, ":");
		if (len < sizeof(text)) {
			memcpy(text, s, len);
			text[len] = '\0';
		}
		if (len >= sizeof(text) || xlb_parse_addr(text, addr, err, errlen)) {
			p = strchr(s, ':');
			snprintf(err, errlen, "%s", p && strchr(p + 1, ':') ?
				 "IPv6 address needs brackets" : "bad IPv4 address");
			return -EINVAL;
		}
		p = s + len;
	}
	if (*p != ':' || !p[1]) {
		snprintf(err, errlen, "missing port");
		return -EINVAL;
	}
	*port = 0;
	for (p++; *p >= '0' && *p <= '9' && ndigits <= 5; p++, ndigits++)
		*port = *port * 10 + (*p - '0');
	if (*p || ndigits > 5 || *port > 65535) {
		snprintf(err, errlen, "bad port");
		return -EINVAL;
	}
	return 0;
}

static int take_client(struct cmd *c, struct json_object *req)
{
	const char *arg = next_arg(c);
	char err[128], addr_text[XLB_ADDR_STR_MAX], text[XLB_ADDR_STR_MAX + 16];
	__be32 addr[4];
	__u32 port;

	if (!arg)
		return usage_error("missing client");
	if (parse_client(arg, addr, &port, err, sizeof(err)))
		return usage_error("invalid client '%s': %s", arg, err);
	xlb_format_addr(addr, addr_text, sizeof(addr_text));
	snprintf(text, sizeof(text), xlb_addr_is_v4(addr) ? "%s:%u" : "[%s]:%u",
		 addr_text, port);
	add_str(req, "client", text);
	return 0;
}

/* The daemon numbers and words the steps; print them as they come. */
static void print_explain(struct json_object *reply)
{
	struct json_object *steps = member(reply, "steps", json_type_array);
	size_t i, n = steps ? json_object_array_length(steps) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *step = json_object_array_get_idx(steps, i);
		struct json_object *text = member(step, "text", json_type_string);

		print_sanitized(stdout, text ? json_object_get_string(text) :
				json_object_to_json_string_ext(step, JSON_LINE_FLAGS));
		putchar('\n');
	}
}

static const struct word explain_words[] = {
	{ .name = "syn" },
};

/* explain CLIENT VIP [syn] */
static int explain(struct cmd *c)
{
	struct json_object *req = new_request("explain");
	const char *arg;
	bool syn = false;
	int ret;

	ret = take_client(c, req);
	if (!ret)
		ret = take_vip(c, req);
	while (!ret && (arg = next_arg(c))) {
		if (lookup_keyword(c, explain_words, 1, arg, &ret) < 0)
			break;
		if (syn) {
			ret = usage_error("'%s': duplicate keyword 'syn'", c->what);
			break;
		}
		syn = true;
		json_object_object_add(req, "syn", json_object_new_boolean(1));
	}
	return send_unless(ret, req, print_explain);
}

/*
 * top: rates from the cumulative counters of "stats", refreshed every
 * second over one connection. The rates are computed once, as the JSON
 * object that -j prints, and the text frame is drawn from that object, so
 * a script and the screen cannot disagree.
 */
#define TOP_COUNT_MAX 1000000

enum top_mode { TOP_TEXT, TOP_JSON, TOP_SCREEN };

static const struct word top_words[] = {
	{ .name = "count", .alias = "-n" },
};

/* Set by SIGINT and SIGTERM: leave the loop so the terminal gets restored. */
static volatile sig_atomic_t top_stop;

static void top_on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

struct top_sample {
	struct json_object *reply;
	double at;		/* CLOCK_MONOTONIC seconds */
	time_t wall;
};

static double mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* 0, or an exit code with its message in err. */
static int top_sample(struct xlb_proto_client *client, struct json_object *req,
		      struct top_sample *s, char *err, size_t errlen)
{
	const char *refusal;
	double t0 = mono_now();

	if (xlb_proto_request(client, req, XLB_PROTO_TIMEOUT_MS, &s->reply, err, errlen))
		return EXIT_UNREACHABLE;
	/* The daemon read the counters somewhere in between. */
	s->at = (t0 + mono_now()) / 2;
	s->wall = time(NULL);
	refusal = xlb_proto_reply_error(s->reply);
	if (refusal) {
		snprintf(err, errlen, "%s", refusal);
		return EXIT_REFUSED;
	}
	return 0;
}

static __u64 counter(struct json_object *obj, const char *key)
{
	struct json_object *v = obj ? member(obj, key, json_type_int) : NULL;

	return v ? json_object_get_uint64(v) : 0;
}

/* A counter that went back was reset (a VIP deleted and added again): count from 0. */
static double rate(__u64 now, __u64 before, double secs)
{
	return (double)(now >= before ? now - before : now) / secs;
}

static void add_rate(struct json_object *obj, const char *key, double val)
{
	char text[32];

	/* Thousandths are plenty, and keep the lines short. */
	snprintf(text, sizeof(text), "%.3f", val);
	json_object_object_add(obj, key, json_object_new_double_s(val, text));
}

static double get_rate(struct json_object *obj, const char *key)
{
	struct json_object *v = obj ? member(obj, key, json_type_double) : NULL;

	return v ? json_object_get_double(v) : 0;
}

/* VIPs match between samples by "vip", backends by "vip" and "address". */
static void entry_key(struct json_object *e, bool backend, char *buf, size_t len)
{
	struct json_object *vip = member(e, "vip", json_type_string);
	struct json_object *addr = backend ? member(e, "address", json_type_string) : NULL;

	snprintf(buf, len, "%s %s", vip ? json_object_get_string(vip) : "",
		 addr ? json_object_get_string(addr) : "");
}

static void copy_member(struct json_object *to, struct json_object *from, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(from, key, &v))
		json_object_object_add(to, key, json_object_get(v));
}

/* Rates of each entry of the current list against the same entry before. */
static struct json_object *rate_list(const struct top_sample *prev,
				     const struct top_sample *cur, const char *name,
				     bool backend, double secs)
{
	struct json_object *list = member(cur->reply, name, json_type_array);
	struct json_object *plist = member(prev->reply, name, json_type_array);
	struct json_object *rows = json_object_new_array();
	struct json_object *index = json_object_new_object();
	char key[256];
	size_t i, n;

	if (!rows || !index) {
		json_object_put(rows);
		json_object_put(index);
		return NULL;
	}
	n = plist ? json_object_array_length(plist) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(plist, i);

		entry_key(e, backend, key, sizeof(key));
		json_object_object_add(index, key, json_object_get(e));
	}
	n = list ? json_object_array_length(list) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(list, i), *p = NULL;
		struct json_object *row = json_object_new_object();

		if (!row)
			break;
		entry_key(e, backend, key, sizeof(key));
		/* New since the last sample: its counters started at 0. */
		json_object_object_get_ex(index, key, &p);
		copy_member(row, e, "vip");
		if (backend) {
			copy_member(row, e, "address");
			copy_member(row, e, "state");
		}
		add_rate(row, "packets_per_s",
			 rate(counter(e, "packets"), counter(p, "packets"), secs));
		add_rate(row, "bits_per_s",
			 8 * rate(counter(e, "bytes"), counter(p, "bytes"), secs));
		add_rate(row, "new_flows_per_s",
			 rate(counter(e, "flows"), counter(p, "flows"), secs));
		json_object_array_add(rows, row);
	}
	json_object_put(index);
	return rows;
}

/*
 * {"time","interval_s","global":{every counter of stats, per second},
 * "drops_per_s","vips":[...],"backends":[...]}; all rates per second.
 */
static struct json_object *top_rates(const struct top_sample *prev,
				     const struct top_sample *cur)
{
	struct json_object *g = member(cur->reply, "global", json_type_object);
	struct json_object *pg = member(prev->reply, "global", json_type_object);
	struct json_object *rates = json_object_new_object();
	struct json_object *grates = json_object_new_object();
	double secs = cur->at - prev->at, drops = 0, r;
	char when[40];
	struct tm tm;

	if (!rates || !grates) {
		json_object_put(rates);
		json_object_put(grates);
		return NULL;
	}
	if (secs < 1e-3)
		secs = 1e-3;
	localtime_r(&cur->wall, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
	add_str(rates, "time", when);
	add_rate(rates, "interval_s", secs);
	if (g) {
		json_object_object_foreach(g, key, val) {
			if (!json_object_is_type(val, json_type_int))
				continue;
			r = rate(json_object_get_uint64(val), counter(pg, key), secs);
			add_rate(grates, key, r);
			if (!strncmp(key, "drop_", 5))
				drops += r;
		}
	}
	json_object_object_add(rates, "global", grates);
	add_rate(rates, "drops_per_s", drops);
	json_object_object_add(rates, "vips", rate_list(prev, cur, "vips", false, secs));
	json_object_object_add(rates, "backends", rate_list(prev, cur, "backends", true, secs));
	return rates;
}

/* At most 3 digits, as top(1) does: "0", "7.5", "123", "1.2k", "12.3 Mbit/s". */
static char *rate_text(double val, const char *unit)
{
	static const char *const prefixes[] = { "", "k", "M", "G", "T", "P" };
	char num[32], *text;
	size_t i = 0;

	while (val >= 999.5 && i + 1 < sizeof(prefixes) / sizeof(prefixes[0])) {
		val /= 1000;
		i++;
	}
	if (val == 0)
		snprintf(num, sizeof(num), "0");
	else
		snprintf(num, sizeof(num), val < 99.95 ? "%.1f" : "%.0f", val);
	if (asprintf(&text, "%s%s%s%s", num, *unit ? " " : "", prefixes[i], unit) < 0)
		return NULL;
	return text;
}

static void add_rate_rows(struct table *t, struct json_object *list, bool backend)
{
	size_t i, n = list ? json_object_array_length(list) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(list, i);
		char *rates[] = {
			rate_text(get_rate(e, "packets_per_s"), ""),
			rate_text(get_rate(e, "bits_per_s"), "bit/s"),
			rate_text(get_rate(e, "new_flows_per_s"), ""),
		};
		char *brow[] = { cell(e, "vip"), cell(e, "address"), cell(e, "state"),
				 rates[0], rates[1], rates[2] };
		char *vrow[] = { cell(e, "vip"), rates[0], rates[1], rates[2] };

		if (backend) {
			free(vrow[0]);
			table_add(t, brow);
		} else {
			free(brow[0]);
			free(brow[1]);
			free(brow[2]);
			table_add(t, vrow);
		}
	}
}

/* One refresh as text, for a pipe or for the screen. */
static void top_render(FILE *f, struct json_object *rates, time_t wall, bool screen)
{
	static const char *const vheads[] = { "VIP", "PPS", "BITRATE", "NEW FLOWS/S" };
	static const bool vright[] = { 0, 1, 1, 1 };
	static const char *const bheads[] = {
		"VIP", "BACKEND", "STATE", "PPS", "BITRATE", "NEW FLOWS/S",
	};
	static const bool bright[] = { 0, 0, 0, 1, 1, 1 };
	static const char *const dheads[] = { "DROP REASON", "PPS" };
	static const bool dright[] = { 0, 1 };
	struct table v = { .ncols = 4, .heads = vheads, .right = vright };
	struct table b = { .ncols = 6, .heads = bheads, .right = bright };
	struct table d = { .ncols = 2, .heads = dheads, .right = dright };
	struct json_object *g = member(rates, "global", json_type_object);
	char when[32], *t[6];
	double pass = 0;
	struct tm tm;
	size_t i;

	localtime_r(&wall, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "xlb top: %s, interval %.2f s%s\n", when, get_rate(rates, "interval_s"),
		screen ? "  (q to quit)" : "");
	if (g) {
		json_object_object_foreach(g, key, val) {
			double r = json_object_get_double(val);

			if (!strncmp(key, "pass_", 5))
				pass += r;
			/* Only the reasons that happen, in the daemon's order. */
			if (strncmp(key, "drop_", 5) || r <= 0)
				continue;
			t[0] = strdup(key + 5);
			t[1] = rate_text(r, "");
			table_add(&d, t);
		}
	}
	t[0] = rate_text(get_rate(g, "tx"), "");
	t[1] = rate_text(get_rate(g, "redirect"), "");
	t[2] = rate_text(pass, "");
	t[3] = rate_text(get_rate(rates, "drops_per_s"), "");
	t[4] = rate_text(get_rate(g, "ct_hit"), "");
	t[5] = rate_text(get_rate(g, "ct_miss"), "");
	fprintf(f, "packets/s: tx %s, redirect %s, pass %s, drop %s\n"
		"conntrack/s: hit %s, miss %s\n",
		t[0] ? t[0] : "?", t[1] ? t[1] : "?", t[2] ? t[2] : "?",
		t[3] ? t[3] : "?", t[4] ? t[4] : "?", t[5] ? t[5] : "?");
	for (i = 0; i < 6; i++)
		free(t[i]);

	add_rate_rows(&v, member(rates, "vips", json_type_array), false);
	add_rate_rows(&b, member(rates, "backends", json_type_array), true);
	if (v.rows)
		fputc('\n', f);
	table_flush_to(f, &v);
	if (b.rows)
		fputc('\n', f);
	table_flush_to(f, &b);
	if (d.rows)
		fputc('\n', f);
	table_flush_to(f, &d);
}

/* The frame clipped to the window, as top(1) does: no wrapping. */
static void top_draw(const char *frame)
{
	const char *p = frame, *nl;
	int y;

	erase();
	for (y = 0; *p && y < LINES; y++) {
		nl = strchrnul(p, '\n');
		mvaddnstr(y, 0, p, nl - p < COLS ? (int)(nl - p) : COLS);
		p = *nl ? nl + 1 : nl;
	}
	refresh();
}

/* Print or draw one refresh; *frame keeps the text to redraw the screen. */
static bool top_show(const struct top_sample *prev, const struct top_sample *cur,
		     enum top_mode mode, bool first, char **frame)
{
	struct json_object *rates = top_rates(prev, cur);
	size_t len;
	FILE *f;

	if (!rates)
		return false;
	if (mode == TOP_JSON) {
		printf("%s\n", json_object_to_json_string_ext(rates,
				opts.pretty ? JSON_PRETTY_FLAGS : JSON_LINE_FLAGS));
		fflush(stdout);
		json_object_put(rates);
		return true;
	}
	free(*frame);
	*frame = NULL;
	f = open_memstream(frame, &len);
	if (f) {
		top_render(f, rates, cur->wall, mode == TOP_SCREEN);
		fclose(f);
	}
	json_object_put(rates);
	if (!f || !*frame)
		return false;
	if (mode == TOP_SCREEN) {
		top_draw(*frame);
		return true;
	}
	if (!first)
		putchar('\n');
	fputs(*frame, stdout);
	fflush(stdout);
	return true;
}

static long long ms_until(const struct timespec *t)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (t->tv_sec - now.tv_sec) * 1000000000LL + (t->tv_nsec - now.tv_nsec);
	return ns > 0 ? (ns + 999999) / 1000000 : 0;
}

/* Sleep until the deadline; false when it is time to stop ('q' or a signal). */
static bool top_wait(const struct timespec *until, const char *frame, enum top_mode mode)
{
	long long ms;
	int ch;

	while (!top_stop) {
		if (mode != TOP_SCREEN) {
			/* EINTR: a signal, seen at the top of the loop. */
			if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, until, NULL) != EINTR)
				return !top_stop;
			continue;
		}
		ms = ms_until(until);
		if (!ms)
			return true;
		/* In slices, in case getch() carries on after a signal. */
		timeout(ms < 100 ? (int)ms : 100);
		ch = getch();
		if (ch == 'q' || ch == 'Q')
			return false;
		if (ch == 'L' - '@')
			clearok(curscr, TRUE);
		if ((ch == KEY_RESIZE || ch == 'L' - '@') && frame)
			top_draw(frame);
	}
	return false;
}

/* The screen, if stdout and stdin are a terminal curses knows. */
static SCREEN *top_screen_start(void)
{
	SCREEN *screen;

	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return NULL;
	screen = newterm(NULL, stdout, stdin);
	if (!screen)
		return NULL;
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	return screen;
}

static int top_run(struct json_object *req, __u32 count)
{
	struct top_sample prev = { 0 }, cur = { 0 };
	struct sigaction sa = { .sa_handler = top_on_signal };
	struct xlb_proto_client client;
	enum top_mode mode = opts.json ? TOP_JSON : TOP_TEXT;
	SCREEN *screen = NULL;
	char err[512], *frame = NULL;
	struct timespec next;
	__u32 frames = 0;
	int code;

	if (!req)
		return fail(EXIT_UNREACHABLE, "out of memory");
	if (xlb_proto_connect(&client, opts.socket_path, err, sizeof(err))) {
		json_object_put(req);
		return fail(EXIT_UNREACHABLE, "%s", err);
	}
	/*
	 * Before newterm(), which only catches signals nobody handles; no
	 * SA_RESTART, so that a signal cuts the sleep short.
	 */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* The first refresh needs a second sample. */
	code = top_sample(&client, req, &prev, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &next);
	if (!code && mode == TOP_TEXT && (screen = top_screen_start()))
		mode = TOP_SCREEN;
	while (!code) {
		next.tv_sec++;
		if (!ms_until(&next)) {
			/* Fell behind (a slow reply): keep the beat from now. */
			clock_gettime(CLOCK_MONOTONIC, &next);
			next.tv_sec++;
		}
		if (!top_wait(&next, frame, mode))
			break;
		code = top_sample(&client, req, &cur, err, sizeof(err));
		if (code)
			break;
		if (!top_show(&prev, &cur, mode, !frames, &frame)) {
			snprintf(err, sizeof(err), "out of memory");
			code = EXIT_UNREACHABLE;
			break;
		}
		json_object_put(prev.reply);
		prev = cur;
		cur.reply = NULL;
		if (++frames == count)
			break;
	}
	if (screen) {
		endwin();
		delscreen(screen);
	}
	xlb_proto_close(&client);
	json_object_put(prev.reply);
	json_object_put(cur.reply);
	json_object_put(req);
	free(frame);
	if (code)
		return fail(code, "%s", err);
	return EXIT_DONE;
}

/* top [VIP] [-n COUNT]; "count COUNT" is the same as "-n COUNT". */
static int top(struct cmd *c)
{
	struct json_object *req = new_request("stats");
	const char *arg, *val;
	bool have_count = false;
	char cands[64];
	__u32 count = 0;
	int ret = 0;

	/* A first word that is no keyword nor option is the VIP, as in "stats [VIP]". */
	if (c->argc && c->argv[0][0] != '-' &&
	    lookup_word(top_words, 1, sizeof(top_words[0]), c->argv[0], cands,
			sizeof(cands)) < 0)
		ret = take_vip(c, req);
	while (!ret && (arg = next_arg(c))) {
		if (lookup_keyword(c, top_words, 1, arg, &ret) < 0)
			break;
		if (have_count) {
			ret = usage_error("'%s': duplicate keyword 'count'", c->what);
			break;
		}
		have_count = true;
		val = next_arg(c);
		if (!val) {
			ret = usage_error("'%s': missing %s value", c->what, arg);
			break;
		}
		ret = parse_number(strcmp(arg, "-n") ? "count" : "-n", val, 1, TOP_COUNT_MAX,
				   &count);
	}
	if (ret) {
		json_object_put(req);
		return ret;
	}
	return top_run(req, count);
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
		"xlbctl vip add VIP [sched maglev|source-hash] [forward l2dsr|ipip]\n"
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
		.w = { "top" },
		.run = top,
		.usage = "xlbctl top [VIP] [-n COUNT]\n",
	},
	{
		.w = { "explain" },
		.run = explain,
		.usage = "xlbctl explain CLIENT VIP [syn]\n",
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
		"CLIENT := ADDR:PORT or [IPV6]:PORT\n"
		"DUR  := a whole number with a unit: ms, s, m or h (500ms, 2s)\n"
		"Any unique prefix of an object, verb or keyword will do: 'xlbctl b s'.\n"
		"Without a verb, vip and backend show.\n"
		"top shows rates every second until q or Ctrl-C; -n COUNT: COUNT refreshes.\n"
		"explain traces one packet from CLIENT to VIP (syn: a TCP SYN).\n"
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
