// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl top: rates from the cumulative counters of "stats", refreshed every
 * second over one connection. The rates are computed once, as the JSON
 * object that -j prints, and the text frame is drawn from that object, so
 * a script and the screen cannot disagree.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "xlbctl.h"

#define TOP_COUNT_MAX 1000000

enum top_mode { TOP_TEXT, TOP_JSON, TOP_SCREEN };

static const struct xlb_cli_word top_words[] = {
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
		copy_member(row, e, "active_flows"); /* a gauge: as it is */
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
 * "drops_per_s","vips":[...],"backends":[...]}; all rates per second but
 * each entry's active_flows, the live flows as stats gives them.
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
				 cell(e, "active_flows"), rates[0], rates[1], rates[2] };
		char *vrow[] = { brow[0], brow[3], rates[0], rates[1], rates[2] };

		if (backend) {
			table_add(t, brow);
		} else {
			free(brow[1]);
			free(brow[2]);
			table_add(t, vrow);
		}
	}
}

/* One refresh as text, for a pipe or for the screen. */
static void top_render(FILE *f, struct json_object *rates, time_t wall, bool screen)
{
	static const char *const vheads[] = { "VIP", "ACTIVE", "PPS", "BITRATE", "NEW FLOWS/S" };
	static const bool vright[] = { 0, 1, 1, 1, 1 };
	static const char *const bheads[] = {
		"VIP", "BACKEND", "STATE", "ACTIVE", "PPS", "BITRATE", "NEW FLOWS/S",
	};
	static const bool bright[] = { 0, 0, 0, 1, 1, 1, 1 };
	static const char *const dheads[] = { "DROP REASON", "PPS" };
	static const bool dright[] = { 0, 1 };
	struct table v = { .ncols = 5, .heads = vheads, .right = vright };
	struct table b = { .ncols = 7, .heads = bheads, .right = bright };
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
		xlb_cli_print_json(stdout, rates);
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
	enum top_mode mode = xlb_cli.json ? TOP_JSON : TOP_TEXT;
	SCREEN *screen = NULL;
	char err[512], *frame = NULL;
	struct timespec next;
	__u32 frames = 0;
	int code;

	if (!req)
		return xlb_cli_fail(EXIT_UNREACHABLE, "out of memory");
	code = xlb_proto_connect(&client, socket_path, err, sizeof(err));
	if (code) {
		json_object_put(req);
		return fail_unreachable(code, err);
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
		return xlb_cli_fail(code, "%s", err);
	return EXIT_DONE;
}

/* top [VIP] [-n COUNT]; "count COUNT" is the same as "-n COUNT". */
int do_top(struct cmd *c)
{
	struct json_object *req = new_request("stats");
	const char *arg, *val;
	bool have_count = false;
	char cands[64];
	__u32 count = 0;
	int ret = 0;

	/* A first word that is no keyword nor option is the VIP, as in "stats [VIP]". */
	if (c->argc && c->argv[0][0] != '-' &&
	    xlb_cli_lookup(top_words, 1, sizeof(top_words[0]), c->argv[0], cands,
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
