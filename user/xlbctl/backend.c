// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl backend add | del | set | show | wait */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "plural.h"
#include "syntax.h"
#include "xlbctl.h"

/* A draining backend whose drain is complete shows "drain (done)". */
static void add_backend_rows(struct table *t, struct json_object *list,
			     const char *const *keys)
{
	size_t i, j, n = list ? json_object_array_length(list) : 0;
	char *row[TABLE_MAX_COLS];

	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(list, i);
		struct json_object *done = member(e, "drained", json_type_boolean);

		for (j = 0; j < t->ncols; j++) {
			if (!strcmp(keys[j], "state") && done && json_object_get_boolean(done))
				row[j] = strdup("drain (done)");
			else
				row[j] = cell(e, keys[j]);
		}
		table_add(t, row);
	}
}

static void print_backends(struct json_object *reply)
{
	static const char *const heads[] = {
		"VIP", "ADDRESS", "WEIGHT", "STATE", "REASON", "LAST-CHECK", "OK", "FAIL",
		"ACTIVE", "FLOWS", "PACKETS", "BYTES",
	};
	static const bool right[] = { 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1 };
	/* REASON: why not up; ACTIVE: live flows now; FLOWS: flows entered into the table so far */
	static const char *const keys[] = {
		"vip", "address", "weight", "state", "reason", "last_check", "ok_streak",
		"fail_streak", "active_flows", "flows", "packets", "bytes",
	};
	struct table t = { .ncols = 12, .heads = heads, .right = right };

	add_backend_rows(&t, member(reply, "backends", json_type_array), keys);
	table_flush(&t);
}

static const struct xlb_cli_word backend_add_words[] = {
	{ .name = "weight" },
};

/* The N of "weight N". */
static int take_weight(struct cmd *c, struct json_object *req)
{
	const char *val = next_arg(c);
	__u32 weight;
	int ret;

	if (!val)
		return usage_error("'%s': missing weight value", c->what);
	ret = parse_number("weight", val, XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &weight);
	if (!ret)
		add_int(req, "weight", weight);
	return ret;
}

static int backend_add(struct cmd *c)
{
	struct json_object *req = new_request("backend-add");
	unsigned int seen = 0;
	int ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	while (!ret && next_keyword(c, backend_add_words, 1, &seen, &ret) >= 0)
		ret = take_weight(c, req);
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

static const struct xlb_cli_word backend_set_words[] = {
	[SET_WEIGHT] = { .name = "weight" },
	[SET_DRAIN] = { .name = "drain" },
	[SET_UNDRAIN] = { .name = "undrain" },
	[SET_DISABLE] = { .name = "disable", .full = true },
	[SET_ENABLE] = { .name = "enable" },
};

static int backend_set(struct cmd *c)
{
	struct json_object *req = new_request("backend-set");
	bool changed = false;
	int op, ret;

	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	while (!ret && (op = next_keyword(c, backend_set_words, sizeof(backend_set_words) /
					  sizeof(backend_set_words[0]), NULL, &ret)) >= 0) {
		if (changed) {
			ret = usage_error("'%s': only one of weight, drain, undrain, disable, enable",
					  c->what);
			break;
		}
		changed = true;
		if (op == SET_WEIGHT)
			ret = take_weight(c, req);
		else
			add_str(req, "admin", backend_set_words[op].name);
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

/*
 * backend wait VIP ADDR drained [timeout DUR]: backend show every
 * WAIT_POLL_MS over one connection until xlbd says the drain is complete
 * by a walk of the connection tables finished after the first answer
 * ("flow_walks" beyond it), so no count from before the wait ends it.
 */
#define WAIT_POLL_MS 200
#define WAIT_DEFAULT_MS (5 * 60 * 1000)
#define WAIT_MIN_MS 1000 /* a walk a second at most: less could never see one */
#define WAIT_MAX_MS (24 * 3600 * 1000)

enum { WAIT_DRAINED, WAIT_TIMEOUT };

static const struct xlb_cli_word backend_wait_words[] = {
	[WAIT_DRAINED] = { .name = "drained" },
	[WAIT_TIMEOUT] = { .name = "timeout" },
};

struct waiter {
	const char *vip, *addr;	/* canonical, as sent */
	__u64 timeout_ms;
	struct timespec start;
};

static __u64 ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (__u64)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static int take_timeout(struct cmd *c, __u64 *ms)
{
	const char *val = next_arg(c);
	char err[128], lo[32], hi[32];

	if (!val)
		return usage_error("'%s': missing timeout value", c->what);
	if (xlb_parse_duration_ms(val, ms, err, sizeof(err)))
		return usage_error("timeout: %s", err);
	if (*ms < WAIT_MIN_MS || *ms > WAIT_MAX_MS) {
		xlb_format_duration_ms(WAIT_MIN_MS, lo, sizeof(lo));
		xlb_format_duration_ms(WAIT_MAX_MS, hi, sizeof(hi));
		return usage_error("timeout: out of range (%s..%s)", lo, hi);
	}
	return 0;
}

/* The backend's entry in a backend-show reply, or NULL. */
static struct json_object *find_entry(struct json_object *reply, const char *addr)
{
	struct json_object *list = member(reply, "backends", json_type_array), *e, *a;
	size_t i, n = list ? json_object_array_length(list) : 0;

	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(list, i);
		a = member(e, "address", json_type_string);
		if (a && !strcmp(json_object_get_string(a), addr))
			return e;
	}
	return NULL;
}

static void print_waited(const struct waiter *w, __u64 walks)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "vip", w->vip);
	add_str(o, "address", w->addr);
	json_object_object_add(o, "drained", json_object_new_boolean(1));
	json_object_object_add(o, "waited_ms", json_object_new_int64((int64_t)ms_since(&w->start)));
	json_object_object_add(o, "flow_walks", json_object_new_int64((int64_t)walks));
	xlb_cli_print_json(stdout, o);
	json_object_put(o);
}

/*
 * One look: EXIT_DONE when drained, -1 to look again, else an exit code
 * (its message printed). *w0: the walks at the first look, -1 before it.
 */
static int wait_look(const struct waiter *w, struct json_object *reply, long long *w0)
{
	struct json_object *e = find_entry(reply, w->addr), *v;
	const char *state;
	long long walks;
	char dur[32];

	if (!e)
		return xlb_cli_fail(EXIT_REFUSED, "no such backend");
	v = member(e, "state", json_type_string);
	state = v ? json_object_get_string(v) : "?";
	if (strcmp(state, "drain"))
		return xlb_cli_fail(EXIT_REFUSED, *w0 < 0 ?
				    "backend %s of %s is not draining (state %s)" :
				    "backend %s of %s left drain (state %s)", w->addr, w->vip, state);
	v = member(reply, "flow_walks", json_type_int);
	if (!v)
		return xlb_cli_fail(EXIT_REFUSED, "the daemon does not report drain completion");
	walks = json_object_get_int64(v);
	if (*w0 < 0) {
		*w0 = walks;
	} else if (walks > *w0 && (v = member(e, "drained", json_type_boolean)) &&
		   json_object_get_boolean(v)) {
		if (xlb_cli.json)
			print_waited(w, (__u64)walks);
		return EXIT_DONE;
	}
	if (ms_since(&w->start) < w->timeout_ms)
		return -1;
	xlb_format_duration_ms(w->timeout_ms, dur, sizeof(dur));
	v = member(e, "active_flows", json_type_int);
	if (v)
		return xlb_cli_fail(EXIT_TIMEOUT, "backend %s of %s not drained after %s "
				    "(%lld live flow%s)", w->addr, w->vip, dur,
				    (long long)json_object_get_int64(v),
				    json_object_get_int64(v) == 1 ? "" : "s");
	return xlb_cli_fail(EXIT_TIMEOUT, "backend %s of %s not drained after %s "
			    "(live flows not counted yet)", w->addr, w->vip, dur);
}

/* Until WAIT_POLL_MS after the last look, or the deadline if sooner. */
static void wait_pause(const struct waiter *w)
{
	__u64 spent = ms_since(&w->start), left = w->timeout_ms > spent ? w->timeout_ms - spent : 0;
	__u64 ms = left < WAIT_POLL_MS ? left : WAIT_POLL_MS;
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static int wait_run(struct waiter *w, struct json_object *req)
{
	/* bounded in count as well as time: a look per pause, one more at the deadline */
	__u64 looks, max_looks = w->timeout_ms / WAIT_POLL_MS + 2;
	struct xlb_proto_client client;
	struct json_object *reply;
	long long w0 = -1;
	const char *refusal;
	char err[512];
	int ret = EXIT_TIMEOUT;

	ret = xlb_proto_connect(&client, socket_path, err, sizeof(err));
	if (ret)
		return fail_unreachable(ret, err);
	ret = EXIT_TIMEOUT;
	for (looks = 0; looks < max_looks; looks++) {
		if (looks)
			wait_pause(w);
		reply = NULL;
		if (xlb_proto_request(&client, req, XLB_PROTO_TIMEOUT_MS, &reply, err, sizeof(err))) {
			ret = xlb_cli_fail(EXIT_UNREACHABLE, "%s", err);
			break;
		}
		refusal = xlb_proto_reply_error(reply);
		ret = refusal ? xlb_cli_fail(EXIT_REFUSED, "%s", refusal) : wait_look(w, reply, &w0);
		json_object_put(reply);
		if (ret >= 0)
			break;
	}
	if (ret < 0)
		ret = xlb_cli_fail(EXIT_TIMEOUT, "backend %s of %s not drained (gave up after %llu look%s)",
				   w->addr, w->vip, (unsigned long long)looks, xlb_s(looks));
	xlb_proto_close(&client);
	return ret;
}

static int backend_wait(struct cmd *c)
{
	struct json_object *req = new_request("backend-show"), *v;
	struct waiter w = { .timeout_ms = WAIT_DEFAULT_MS };
	unsigned int seen = 0;
	int kw, ret;

	if (!req)
		return xlb_cli_fail(EXIT_UNREACHABLE, "out of memory");
	ret = take_vip(c, req);
	if (!ret)
		ret = take_address(c, req);
	while (!ret && (kw = next_keyword(c, backend_wait_words, sizeof(backend_wait_words) /
					  sizeof(backend_wait_words[0]), &seen, &ret)) >= 0)
		if (kw == WAIT_TIMEOUT)
			ret = take_timeout(c, &w.timeout_ms);
	if (!ret && !(seen & (1u << WAIT_DRAINED)))
		ret = usage_error("'%s': missing condition (drained)", c->what);
	if (ret) {
		json_object_put(req);
		return ret;
	}
	/* the request filters by VIP; the address is ours to find in the reply */
	v = member(req, "address", json_type_string);
	w.addr = v ? json_object_get_string(v) : "";
	w.vip = json_object_get_string(member(req, "vip", json_type_string));
	json_object_get(v);
	json_object_object_del(req, "address");
	clock_gettime(CLOCK_MONOTONIC, &w.start);
	ret = wait_run(&w, req);
	json_object_put(v);
	json_object_put(req);
	return ret;
}

static const struct verb verbs[] = {
	{ { .name = "add" }, backend_add },
	{ { .name = "del", .alias = "delete", .full = true }, backend_del },
	{ { .name = "set" }, backend_set },
	{ { .name = "show", .alias = "s" }, backend_show },
	{ { .name = "wait" }, backend_wait },
	{ { .name = "help" }, object_help },
};

int do_backend(struct cmd *c)
{
	return run_verb(c, verbs, sizeof(verbs) / sizeof(verbs[0]), "show");
}
