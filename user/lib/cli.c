// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Words, errors and JSON output of the commands (cli.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct xlb_cli xlb_cli = { .prog = "xlb" };

void xlb_cli_print_sanitized(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

void xlb_cli_print_json(FILE *f, struct json_object *obj)
{
	fprintf(f, "%s\n", json_object_to_json_string_ext(obj, xlb_cli.pretty ?
			XLB_CLI_JSON_PRETTY : XLB_CLI_JSON_LINE));
}

static void print_error(const char *msg)
{
	struct json_object *obj;

	if (!xlb_cli.json) {
		fprintf(stderr, "%s: ", xlb_cli.prog);
		xlb_cli_print_sanitized(stderr, msg);
		fputc('\n', stderr);
		return;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "error", json_object_new_string(msg));
	/* An error is one line even with pretty. */
	fprintf(stderr, "%s\n",
		json_object_to_json_string_ext(obj, XLB_CLI_JSON_LINE));
	json_object_put(obj);
}

int xlb_cli_fail(int ret, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error(msg);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const struct xlb_cli_word *word_at(const void *table, size_t size, size_t i)
{
	return (const struct xlb_cli_word *)((const char *)table + i * size);
}

int xlb_cli_lookup(const void *table, size_t n, size_t size, const char *arg,
		   char *cands, size_t candlen)
{
	const char *matches[64];
	size_t i, nmatch = 0, arglen = strlen(arg), off = 0;
	const struct xlb_cli_word *w;
	int found = XLB_CLI_WORD_UNKNOWN;

	if (!arglen)
		return XLB_CLI_WORD_UNKNOWN;
	for (i = 0; i < n; i++) {
		w = word_at(table, size, i);
		if (!strcmp(arg, w->name) || (w->alias && !strcmp(arg, w->alias)))
			return (int)i;
	}
	for (i = 0; i < n; i++) {
		w = word_at(table, size, i);
		if (strncmp(arg, w->name, arglen))
			continue;
		if (nmatch < sizeof(matches) / sizeof(matches[0]))
			matches[nmatch++] = w->name;
		found = (int)i;
	}
	if (nmatch == 1 && word_at(table, size, (size_t)found)->full) {
		snprintf(cands, candlen, "%s", matches[0]);
		return XLB_CLI_WORD_SHORT;
	}
	if (nmatch <= 1)
		return found;

	qsort(matches, nmatch, sizeof(matches[0]), cmp_names);
	cands[0] = '\0';
	for (i = 0; i < nmatch && off < candlen; i++)
		off += snprintf(cands + off, candlen - off, "%s%s", i ? ", " : "", matches[i]);
	return XLB_CLI_WORD_AMBIGUOUS;
}
