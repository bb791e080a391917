// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl conntrack list [VIP] [BACKEND] [-n N] | flush [VIP] [BACKEND]:
 * the connection tables, filtered. xlbd reads a bounded slice per request
 * (user/xlbd/ctl_conntrack.c) and answers with a cursor until the tables
 * are done; this side asks again over one connection, within a total time
 * bound, and keeps at most N rows, shown sorted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include "syntax.h"
#include "xlbctl.h"

#define LIST_DEFAULT 100
#define LIST_MAX 10000
#define LIST_TOTAL_MS 10000  /* then the counts are of what was read */
#define FLUSH_TOTAL_MS 30000
#define MAX_REQUESTS 100000  /* a cursor that never ends cannot loop for ever either */

struct ct_args {
	const char *cmd;
	char vip[XLB_VIP_STR_MAX], backend[XLB_ADDR_STR_MAX];
	__u32 limit;
	int flush;
};

/* [VIP] [BACKEND] [-n N]: a VIP has a port, a backend does not. */
static int take_args(struct cmd *c, struct ct_args *a)
{
	const char *arg;
	char err[128], err2[128];
	struct vip_key key;
	__be32 addr[4];

	while ((arg = next_arg(c))) {
		if (!a->flush && (!strcmp(arg, "-n") || !strcmp(arg, "--count"))) {
			const char *v = next_arg(c);
			int ret;

			if (!v)
				return usage_error("'%s': -n needs a number", c->what);
			if ((ret = parse_number("-n", v, 0, LIST_MAX, &a->limit)))
				return ret;
		} else if (arg[0] == '-') {
			return usage_error("'%s': unexpected argument '%s'", c->what, arg);
		} else if (!a->vip[0] && !a->backend[0] &&
			   !xlb_parse_vip(arg, &key, err, sizeof(err))) {
			xlb_format_vip(&key, a->vip, sizeof(a->vip));
		} else if (!a->backend[0] && !xlb_parse_addr(arg, addr, err2, sizeof(err2))) {
			xlb_format_addr(addr, a->backend, sizeof(a->backend));
		} else if (a->backend[0] || (a->vip[0] && strchr(arg, '/'))) {
			return usage_error("'%s': unexpected argument '%s'", c->what, arg);
		} else if (a->vip[0] || !strchr(arg, '/')) {
			return usage_error("invalid backend address '%s': %s", arg, err2);
		} else {
			return usage_error("invalid VIP '%s': %s", arg, err);
		}
	}
	return 0;
}

static __u64 ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (__u64)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static __u64 get_u64(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key, json_type_int);

	return v ? (__u64)json_object_get_int64(v) : 0;
}

/* A row with its sort key: VIP, then backend, then client, as show sorts. */
struct row {
	struct json_object *o;
	struct vip_key vip;
	__be32 backend[4];
	struct xlb_endpoint client;
};

static int addr_cmp(const __be32 *a, const __be32 *b)
{
	int a4 = xlb_addr_is_v4(a), b4 = xlb_addr_is_v4(b);

	return a4 != b4 ? b4 - a4 : memcmp(a, b, 16);
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int r = addr_cmp(a->vip.addr, b->vip.addr);

	if (!r && a->vip.port != b->vip.port)
		r = ntohs(a->vip.port) < ntohs(b->vip.port) ? -1 : 1;
	if (!r)
		r = (int)a->vip.proto - (int)b->vip.proto;
	if (!r)
		r = addr_cmp(a->backend, b->backend);
	if (!r)
		r = addr_cmp(a->client.addr, b->client.addr);
	if (!r)
		r = (int)a->client.port - (int)b->client.port;
	return r;
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key, json_type_string);

	return v ? json_object_get_string(v) : "";
}

/* The rows of every reply, sorted, as one array (NULL: out of memory). */
static struct json_object *sorted(struct json_object *rows)
{
	size_t n = json_object_array_length(rows), i;
	struct row *r = calloc(n + 1, sizeof(*r));
	struct json_object *out = json_object_new_array();
	char err[128];

	if (!r || !out) {
		free(r);
		json_object_put(out);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		r[i].o = json_object_array_get_idx(rows, i);
		/* a field that does not parse sorts first: it is still shown */
		xlb_parse_vip(str_of(r[i].o, "vip"), &r[i].vip, err, sizeof(err));
		xlb_parse_addr(str_of(r[i].o, "backend"), r[i].backend, err, sizeof(err));
		xlb_parse_endpoint(str_of(r[i].o, "client"), XLB_EP_PORT_ZERO, &r[i].client, err,
				   sizeof(err));
	}
	qsort(r, n, sizeof(*r), row_cmp);
	for (i = 0; i < n; i++)
		json_object_array_add(out, json_object_get(r[i].o));
	free(r);
	return out;
}

static void format_idle(__u64 ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	else if (ms < 60000)
		snprintf(buf, len, "%.1fs", ms / 1000.0);
	else
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(ms / 60000),
			 (unsigned long long)(ms / 1000 % 60));
}

static void print_rows(struct json_object *rows)
{
	static const char *const heads[] = { "CLIENT", "VIP", "BACKEND", "STATE", "IDLE" };
	static const bool right[] = { 0, 0, 0, 0, 1 };
	struct table t = { .ncols = 5, .heads = heads, .right = right };
	size_t i, n = json_object_array_length(rows);
	char idle[32];

	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(rows, i);
		char *row[5] = { cell(o, "client"), cell(o, "vip"), cell(o, "backend"),
				 cell(o, "state"), NULL };

		format_idle(get_u64(o, "idle_ms"), idle, sizeof(idle));
		row[4] = strdup(idle);
		table_add(&t, row);
	}
	table_flush(&t);
}

/* What the replies add up to. */
struct ct_total {
	struct json_object *rows;
	__u64 matched, stale, scanned, deleted, requests, max_busy_us, ms;
	int complete;
};

static int summarize(const struct ct_args *a, struct ct_total *t)
{
	struct json_object *o, *rows = NULL;
	__u64 shown = a->flush ? 0 : json_object_array_length(t->rows);
	char cut[128] = "";

	if (!t->complete)
		snprintf(cut, sizeof(cut), "cut short after %llu s, the counts are of the part read",
			 (unsigned long long)(t->ms / 1000));
	if (xlb_cli.json) {
		o = json_object_new_object();
		if (!a->flush) {
			rows = sorted(t->rows);
			json_object_object_add(o, "entries", rows ? rows : json_object_new_array());
			json_object_object_add(o, "shown", json_object_new_int64((int64_t)shown));
		} else {
			json_object_object_add(o, "deleted", json_object_new_int64((int64_t)t->deleted));
		}
		json_object_object_add(o, "matched", json_object_new_int64((int64_t)t->matched));
		json_object_object_add(o, "stale", json_object_new_int64((int64_t)t->stale));
		json_object_object_add(o, "scanned", json_object_new_int64((int64_t)t->scanned));
		json_object_object_add(o, "complete", json_object_new_boolean(t->complete));
		json_object_object_add(o, "requests", json_object_new_int64((int64_t)t->requests));
		json_object_object_add(o, "max_busy_us",
				       json_object_new_int64((int64_t)t->max_busy_us));
		xlb_cli_print_json(stdout, o);
		json_object_put(o);
	} else if (!a->flush) {
		rows = sorted(t->rows);
		if (rows)
			print_rows(rows);
		json_object_put(rows);
		printf("%llu matching entr%s, %llu shown", (unsigned long long)t->matched,
		       t->matched == 1 ? "y" : "ies", (unsigned long long)shown);
		if (shown < t->matched)
			printf(" (-n %u)", a->limit);
		printf("; %llu stale, %llu scanned%s%s\n", (unsigned long long)t->stale,
		       (unsigned long long)t->scanned, *cut ? "; " : "", cut);
	} else {
		printf("deleted %llu entr%s (%llu live, %llu stale)\n",
		       (unsigned long long)t->deleted, t->deleted == 1 ? "y" : "ies",
		       (unsigned long long)t->matched, (unsigned long long)t->stale);
	}
	if (a->flush && !t->complete)
		return xlb_cli_fail(EXIT_REFUSED, "flush %s: run it again", cut);
	return EXIT_DONE;
}

/* Requests from the tables' start until xlbd says they are done, or the time bound. */
static int ct_run(const struct ct_args *a)
{
	struct ct_total t = { .rows = json_object_new_array() };
	__u64 total_ms = a->flush ? FLUSH_TOTAL_MS : LIST_TOTAL_MS, table = 0, pos = 0;
	struct xlb_proto_client client;
	struct json_object *req, *reply, *rows;
	struct timespec start;
	const char *refusal;
	char err[512];
	int ret;

	ret = xlb_proto_connect(&client, socket_path, err, sizeof(err));
	if (ret) {
		json_object_put(t.rows);
		return fail_unreachable(ret, err);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (ret = -1; ret < 0 && t.requests < MAX_REQUESTS;) {
		req = new_request(a->cmd);
		if (a->vip[0])
			add_str(req, "vip", a->vip);
		if (a->backend[0])
			add_str(req, "address", a->backend);
		if (!a->flush)
			add_int(req, "limit", a->limit - (__u32)json_object_array_length(t.rows));
		if (t.requests) {
			json_object_object_add(req, "table", json_object_new_int64((int64_t)table));
			json_object_object_add(req, "pos", json_object_new_int64((int64_t)pos));
		}
		reply = NULL;
		if (xlb_proto_request(&client, req, XLB_PROTO_TIMEOUT_MS, &reply, err, sizeof(err)))
			ret = xlb_cli_fail(EXIT_UNREACHABLE, "%s", err);
		json_object_put(req);
		if (ret >= 0)
			break;
		if ((refusal = xlb_proto_reply_error(reply))) {
			/* a flush refused midway has deleted what it had */
			ret = t.deleted ? xlb_cli_fail(EXIT_REFUSED, "%s (after %llu deleted)", refusal,
						       (unsigned long long)t.deleted) :
					  xlb_cli_fail(EXIT_REFUSED, "%s", refusal);
			json_object_put(reply);
			break;
		}
		t.requests++;
		t.matched += get_u64(reply, "matched");
		t.stale += get_u64(reply, "stale");
		t.scanned += get_u64(reply, "scanned");
		t.deleted += get_u64(reply, "deleted");
		if (get_u64(reply, "busy_us") > t.max_busy_us)
			t.max_busy_us = get_u64(reply, "busy_us");
		rows = member(reply, "entries", json_type_array);
		for (size_t i = 0; rows && i < json_object_array_length(rows) &&
				   json_object_array_length(t.rows) < a->limit; i++)
			json_object_array_add(t.rows, json_object_get(json_object_array_get_idx(rows, i)));
		t.complete = !member(reply, "table", json_type_int);
		table = get_u64(reply, "table");
		pos = get_u64(reply, "pos");
		json_object_put(reply);
		t.ms = ms_since(&start);
		if (t.complete || t.ms >= total_ms)
			ret = summarize(a, &t);
	}
	if (ret < 0)
		ret = summarize(a, &t);
	xlb_proto_close(&client);
	json_object_put(t.rows);
	return ret;
}

static int ct_list(struct cmd *c)
{
	struct ct_args a = { .cmd = "conntrack-list", .limit = LIST_DEFAULT };
	int ret = take_args(c, &a);

	return ret ? ret : ct_run(&a);
}

static int ct_flush(struct cmd *c)
{
	struct ct_args a = { .cmd = "conntrack-flush", .flush = 1 };
	int ret = take_args(c, &a);

	return ret ? ret : ct_run(&a);
}

static const struct verb verbs[] = {
	{ { .name = "list", .alias = "show" }, ct_list },
	{ { .name = "flush", .full = true }, ct_flush },
	{ { .name = "help" }, object_help },
};

int do_conntrack(struct cmd *c)
{
	return run_verb(c, verbs, sizeof(verbs) / sizeof(verbs[0]), "list");
}
