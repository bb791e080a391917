// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbd's log: stderr, one line per message, with libbpf's messages in it,
 * in the format --log-format names:
 *   plain    2026-12-01T17:48:06.123Z xlbd: info: MESSAGE (RFC 3339, UTC)
 *   json     {"ts":"2026-12-01T17:48:06.123Z","level":"info","msg":"MESSAGE",...}
 *   journal  <6>MESSAGE (sd-daemon(3) priority; journald stamps the line)
 * A control command's audit line leads the lines of what it caused: those
 * are held while it runs (log_hold), then written after it (log_release).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "xlbd.h"

int log_level = LOG_INFO;
static int log_format = -1; /* -1: not chosen yet (log_format_default) */

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const char *const format_names[] = { "plain", "json", "journal" };
/* sd-daemon.h's SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG */
static const int journal_prio[] = { 3, 4, 6, 7 };

#define LOG_LINE_MAX 8192 /* a longer message is cut, with "..." */
#define LOG_HOLD_MAX 4096 /* lines held for one command, then written (log_hold) */

int log_format_set(const char *name)
{
	int i;

	for (i = 0; i < (int)(sizeof(format_names) / sizeof(format_names[0])); i++)
		if (!strcmp(name, format_names[i])) {
			log_format = i;
			return 0;
		}
	return -1;
}

/* stderr is journald's stream: $JOURNAL_STREAM names its dev:ino (systemd.exec(5)). */
static int log_to_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st))
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_format_default(int bare)
{
	if (log_format >= 0)
		return;
	if (log_to_journal())
		log_format = LOG_FMT_JOURNAL;
	else
		log_format = bare ? LOG_FMT_BARE : LOG_FMT_PLAIN;
}

static void format_ts(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts->tv_nsec / 1000000);
}

/*
 * One text line: its prefix, then the message, control bytes (a newline
 * too: a request's text must not forge a line of its own) as '?'.
 */
static void write_text_line(int level, const char *stamp, const char *msg)
{
	char line[LOG_LINE_MAX + 64];
	size_t n;

	if (log_format == LOG_FMT_JOURNAL)
		n = snprintf(line, sizeof(line), "<%d>", journal_prio[level]);
	else if (log_format == LOG_FMT_BARE)
		n = snprintf(line, sizeof(line), "xlbd: %s: ", level_names[level]);
	else
		n = snprintf(line, sizeof(line), "%s xlbd: %s: ", stamp, level_names[level]);
	for (; *msg && n < sizeof(line) - 1; msg++)
		line[n++] = ((unsigned char)*msg < 0x20 && *msg != '\t') || *msg == 0x7f ? '?' : *msg;
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}

static void write_line(int level, const struct timespec *ts, struct json_object *fields,
		       const char *msg)
{
	struct json_object *o;
	char stamp[40];

	format_ts(ts, stamp, sizeof(stamp));
	if (log_format != LOG_FMT_JSON) {
		write_text_line(level, stamp, msg);
		return;
	}
	o = json_object_new_object();
	if (!o)
		return;
	json_object_object_add(o, "ts", json_object_new_string(stamp));
	json_object_object_add(o, "level", json_object_new_string(level_names[level]));
	json_object_object_add(o, "msg", json_object_new_string(msg));
	if (fields) {
		json_object_object_foreach(fields, k, v)
			json_object_object_add(o, k, json_object_get(v));
	}
	fprintf(stderr, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* ---- holding a command's lines behind its audit line ---- */

struct held {
	int level;
	struct timespec ts;
	char *msg;
	struct json_object *fields;
};

static struct {
	int on, spilled;
	struct timespec ts; /* when the command came: its audit line's time */
	char *head;
	struct json_object *fields;
	struct held *lines;
	size_t n, cap;
} hold;

static void hold_flush(void)
{
	size_t i;

	for (i = 0; i < hold.n; i++) {
		write_line(hold.lines[i].level, &hold.lines[i].ts, hold.lines[i].fields,
			   hold.lines[i].msg);
		free(hold.lines[i].msg);
		json_object_put(hold.lines[i].fields);
	}
	free(hold.lines);
	hold.lines = NULL;
	hold.n = hold.cap = 0;
}

/*
 * Too much for one command (a reload of thousands of backends): its line
 * goes first as "in progress", then what it caused so far and from now
 * on, then the line with its outcome.
 */
static void hold_spill(void)
{
	char msg[LOG_LINE_MAX];

	snprintf(msg, sizeof(msg), "%s: in progress", hold.head);
	write_line(LOG_INFO, &hold.ts, hold.fields, msg);
	hold_flush();
	hold.spilled = 1;
}

static void emit(int level, struct json_object *fields, const char *msg)
{
	struct held *h;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (log_format < 0)
		log_format = LOG_FMT_PLAIN;
	if (hold.on && !hold.spilled && hold.n == LOG_HOLD_MAX)
		hold_spill();
	if (!hold.on || hold.spilled) {
		write_line(level, &ts, fields, msg);
		return;
	}
	if (hold.n == hold.cap) {
		size_t cap = hold.cap ? 2 * hold.cap : 16;

		h = realloc(hold.lines, cap * sizeof(*h));
		if (h) {
			hold.lines = h;
			hold.cap = cap;
		}
	}
	h = hold.n < hold.cap ? &hold.lines[hold.n] : NULL;
	if (!h || !(h->msg = strdup(msg))) {
		hold_spill(); /* no memory to hold: in order, if not behind the audit line */
		write_line(level, &ts, fields, msg);
		return;
	}
	h->level = level;
	h->ts = ts;
	h->fields = json_object_get(fields);
	hold.n++;
}

static void vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
	if ((size_t)vsnprintf(buf, len, fmt, ap) >= len)
		memcpy(buf + len - 4, "...", 4);
}

void logmsg(int level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vformat(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, NULL, msg);
}

void log_hold(struct json_object *fields, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vformat(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hold.head = strdup(msg);
	hold.fields = fields;
	hold.on = 1;
	hold.spilled = !hold.head;
	clock_gettime(CLOCK_REALTIME, &hold.ts);
}

void log_release(int level, struct json_object *more, const char *fmt, ...)
{
	char msg[2 * LOG_LINE_MAX + 32], outcome[LOG_LINE_MAX];
	struct json_object *fields = hold.fields;
	struct timespec now;
	va_list ap;

	va_start(ap, fmt);
	vformat(outcome, sizeof(outcome), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s: %s", hold.head ? hold.head : "(a control command)",
		 outcome);
	if (fields && more) {
		json_object_object_foreach(more, k, v)
			json_object_object_add(fields, k, json_object_get(v));
	}
	hold.on = 0;
	if (level <= log_level) {
		clock_gettime(CLOCK_REALTIME, &now);
		write_line(level, hold.spilled ? &now : &hold.ts, fields ? fields : more, msg);
	}
	hold_flush();
	free(hold.head);
	hold.head = NULL;
	json_object_put(hold.fields);
	hold.fields = NULL;
	json_object_put(more);
	hold.spilled = 0;
}

/*
 * libbpf's messages go through the same log, one line each, as "libbpf:
 * MESSAGE": most of libbpf's own already start with "libbpf: ".
 */
int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	char *msg = buf, *nl;
	size_t len;

	if (level == LIBBPF_DEBUG && log_level < LOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (!strncmp(msg, "libbpf: ", 8))
		msg += 8;
	/* a message of several lines (the verifier's log) is several log lines */
	for (;;) {
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (*msg)
			logmsg(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, "libbpf: %s", msg);
		if (!nl)
			break;
		msg = nl + 1;
	}
	return 0;
}
