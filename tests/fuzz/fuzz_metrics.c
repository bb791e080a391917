// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus text writer (xlb_prom_*) driven by a program read from
 * the input: families and samples with arbitrary names, help, label values
 * and values. Properties, after every call:
 *  - a call writes whole lines or nothing, and the first error sticks;
 *  - every line is "# HELP name text", "# TYPE name counter|gauge" or
 *    name{label="value",...} value, escaped as the format says, valid
 *    UTF-8, each sample under its own family, no family twice;
 *  - what a successful call wrote reads back as what it was given.
 */
#include <errno.h>
#include <math.h>
#include "fuzz.h"
#include "../../user/lib/metrics.h"

#define STR_MAX 48
#define MAX_LABELS 4
#define MAX_FAMILIES 64

struct input {
	const uint8_t *data;
	size_t size;
	char strs[2 + 2 * MAX_LABELS][STR_MAX + 1]; /* name, help, labels */
};

/* A string of up to STR_MAX bytes, length first; cut at a NUL. */
static char *next_str(struct input *in, int slot)
{
	size_t len = fuzz_byte(&in->data, &in->size) % (STR_MAX + 1);
	char *s = in->strs[slot];

	len = len < in->size ? len : in->size;
	memcpy(s, in->data, len);
	s[len] = '\0';
	in->data += len;
	in->size -= len;
	return s;
}

static int name_char(char c, int first, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

/* Length of the name at p (0 if none). */
static size_t name_len(const char *p, int colon)
{
	size_t n = 0;

	while (name_char(p[n], n == 0, colon))
		n++;
	return n;
}

/* RFC 3629, written out independently of the writer's own check. */
static int utf8_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, n, k;
	unsigned char lo, hi;

	while (i < len) {
		unsigned char c = s[i];

		lo = 0x80, hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			lo = c == 0xe0 ? 0xa0 : 0x80;
			hi = c == 0xed ? 0x9f : 0xbf;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;
		} else {
			return 0;
		}
		if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * Undo the escaping of [p, end) into out (size > end - p); quote: a label
 * value, where '"' must be escaped. -1 on a bad escape or a raw special.
 */
static long unescape(const char *p, const char *end, int quote, char *out)
{
	long n = 0;

	for (; p < end; p++) {
		if (*p == '\n' || (quote && *p == '"'))
			return -1;
		if (*p != '\\') {
			out[n++] = *p;
			continue;
		}
		if (++p == end)
			return -1;
		if (*p == 'n')
			out[n++] = '\n';
		else if (*p == '\\' || (quote && *p == '"'))
			out[n++] = *p;
		else
			return -1;
	}
	out[n] = '\0';
	return n;
}

/* The number at p: a plain decimal float, NaN, +Inf or -Inf. */
static int value_ok(const char *p, const char *end)
{
	size_t len = end - p, digits = 0;
	const char *q = p;

	if ((len == 3 && !memcmp(p, "NaN", 3)) || (len == 4 && !memcmp(p, "+Inf", 4)) ||
	    (len == 4 && !memcmp(p, "-Inf", 4)))
		return 1;
	if (q < end && (*q == '-' || *q == '+'))
		q++;
	for (; q < end && *q >= '0' && *q <= '9'; q++)
		digits++;
	if (q < end && *q == '.')
		for (q++; q < end && *q >= '0' && *q <= '9'; q++)
			digits++;
	if (!digits)
		return 0;
	if (q < end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < end && (*q == '-' || *q == '+'))
			q++;
		for (digits = 0; q < end && *q >= '0' && *q <= '9'; q++)
			digits++;
		if (!digits)
			return 0;
	}
	return q == end;
}

/* What one line says, for the read-back checks. */
struct line {
	const char *name;
	size_t name_len;
	int is_help, is_type, nlabels;
	char labels[2 * MAX_LABELS][2 * STR_MAX + 1];
	const char *value, *end;
};

static void parse_comment(const char *p, const char *end, struct line *l)
{
	const char *rest;

	l->is_help = !strncmp(p, "# HELP ", 7);
	l->is_type = !strncmp(p, "# TYPE ", 7);
	fuzz_assert(l->is_help || l->is_type, "a comment that is no HELP or TYPE");
	l->name = p + 7;
	l->name_len = name_len(l->name, 1);
	rest = l->name + l->name_len;
	fuzz_assert(l->name_len && rest < end && *rest == ' ', "comment without a name");
	rest++;
	if (l->is_type) {
		fuzz_assert((end - rest == 7 && !memcmp(rest, "counter", 7)) ||
			    (end - rest == 5 && !memcmp(rest, "gauge", 5)), "bad TYPE");
		return;
	}
	fuzz_assert(end - rest <= 2 * STR_MAX && unescape(rest, end, 0, l->labels[0]) >= 0,
		    "bad HELP text escape");
}

static void parse_sample(const char *p, const char *end, struct line *l)
{
	const char *q, *close;
	size_t n;

	l->name = p;
	l->name_len = name_len(p, 1);
	fuzz_assert(l->name_len, "a sample without a metric name");
	q = p + l->name_len;
	if (*q == '{') {
		do {
			q++;
			n = name_len(q, 0);
			fuzz_assert(n && strncmp(q, "__", 2) && l->nlabels < MAX_LABELS,
				    "bad label name");
			memcpy(l->labels[2 * l->nlabels], q, n);
			l->labels[2 * l->nlabels][n] = '\0';
			q += n;
			fuzz_assert(q[0] == '=' && q[1] == '"', "label without =\"");
			q += 2;
			for (close = q; close < end && *close != '"'; close++)
				if (*close == '\\')
					close++;
			fuzz_assert(close < end && close - q <= 2 * STR_MAX &&
				    unescape(q, close, 1, l->labels[2 * l->nlabels + 1]) >= 0,
				    "bad label value");
			l->nlabels++;
			q = close + 1;
		} while (*q == ',');
		fuzz_assert(*q == '}', "labels not closed");
		q++;
	}
	fuzz_assert(*q == ' ', "no space before the value");
	l->value = q + 1;
	l->end = end;
	fuzz_assert(value_ok(l->value, end), "bad sample value '%.*s'", (int)(end - l->value),
		    l->value);
}

/* Check one line of text; fill l. */
static void check_line(const char *p, const char *end, struct line *l)
{
	memset(l, 0, sizeof(*l));
	fuzz_assert(utf8_valid(p, end - p), "line is not UTF-8");
	if (*p == '#')
		parse_comment(p, end, l);
	else
		parse_sample(p, end, l);
}

/* The whole exposition: lines well formed, families once, samples under theirs. */
static void check_text(const char *text, size_t len)
{
	const char *fams[MAX_FAMILIES], *p = text, *nl;
	size_t fam_len[MAX_FAMILIES], nfam = 0, i;
	struct line l;

	fuzz_assert(strlen(text) == len, "text length %zu, strlen %zu", len, strlen(text));
	fuzz_assert(!len || text[len - 1] == '\n', "text does not end a line");
	for (; p < text + len; p = nl + 1) {
		nl = memchr(p, '\n', text + len - p);
		check_line(p, nl, &l);
		if (l.is_help) {
			for (i = 0; i < nfam; i++)
				fuzz_assert(fam_len[i] != l.name_len ||
					    memcmp(fams[i], l.name, l.name_len), "family twice");
			fuzz_assert(nfam < MAX_FAMILIES, "too many families");
			fams[nfam] = l.name;
			fam_len[nfam++] = l.name_len;
		} else {
			fuzz_assert(nfam && fam_len[nfam - 1] == l.name_len &&
				    !memcmp(fams[nfam - 1], l.name, l.name_len),
				    "line outside its family");
		}
	}
}

/* The line a successful call added says what the call was given. */
static void check_sample_line(const char *line, const char *end, const char *name,
			      const char *const *labels, int is_u64, double v, __u64 u)
{
	struct line l;
	int i;

	check_line(line, end, &l);
	fuzz_assert(!l.is_help && !l.is_type && l.name_len == strlen(name) &&
		    !memcmp(l.name, name, l.name_len), "sample written under another name");
	for (i = 0; labels[2 * i]; i++)
		fuzz_assert(i < l.nlabels && !strcmp(l.labels[2 * i], labels[2 * i]) &&
			    !strcmp(l.labels[2 * i + 1], labels[2 * i + 1]),
			    "label %d does not read back", i);
	fuzz_assert(i == l.nlabels, "%d labels written for %d", l.nlabels, i);
	if (is_u64) {
		fuzz_assert(strtoull(l.value, NULL, 10) == u, "%llu does not read back",
			    (unsigned long long)u);
	} else if (isnan(v)) {
		fuzz_assert(!strncmp(l.value, "NaN", 3), "NaN written as a number");
	} else {
		fuzz_assert(strtod(l.value, NULL) == v, "%.17g written as '%.*s'", v,
			    (int)(l.end - l.value), l.value);
	}
}

static void check_help_lines(const char *text, const char *name, const char *type,
			     const char *help)
{
	const char *nl = strchr(text, '\n');
	struct line l;

	check_line(text, nl, &l);
	fuzz_assert(l.is_help && l.name_len == strlen(name) && !memcmp(l.name, name, l.name_len)
		    && !strcmp(l.labels[0], help), "HELP line does not read back");
	check_line(nl + 1, strchr(nl + 1, '\n'), &l);
	fuzz_assert(l.is_type && !strncmp(l.name + l.name_len + 1, type, strlen(type)),
		    "TYPE line does not read back");
}

/* One call of the program; returns its result. */
static int run_op(struct xlb_prom *w, struct input *in, char *family)
{
	static const char *const types[] = { "counter", "gauge", "untyped", "" };
	uint8_t op = fuzz_byte(&in->data, &in->size);
	const char *labels[2 * MAX_LABELS + 1] = {};
	const char *name, *type, *help;
	size_t start, nlabels, i;
	double v;
	__u64 u = 0;
	int ret;

	xlb_prom_text(w, &start);
	if (op % 4 == 0) {
		name = next_str(in, 0);
		help = next_str(in, 1);
		type = types[(op >> 2) % 4];
		ret = xlb_prom_family(w, name, type, help);
		if (!ret) {
			check_help_lines(xlb_prom_text(w, NULL) + start, name, type, help);
			snprintf(family, STR_MAX + 1, "%s", name);
		}
		return ret;
	}
	/* mostly the current family's name, so that samples get written */
	name = op & 0x80 ? next_str(in, 0) : family;
	nlabels = (op >> 2) % (MAX_LABELS + 1);
	for (i = 0; i < 2 * nlabels; i++)
		labels[i] = next_str(in, 2 + i);
	for (i = 0; i < sizeof(u); i++)
		u = u << 8 | fuzz_byte(&in->data, &in->size);
	memcpy(&v, &u, sizeof(v));
	if (op % 4 == 3)
		ret = xlb_prom_sample_u64(w, name, nlabels ? labels : NULL, u);
	else
		ret = xlb_prom_sample(w, name, nlabels ? labels : NULL, v);
	if (!ret)
		check_sample_line(xlb_prom_text(w, NULL) + start,
				  strchr(xlb_prom_text(w, NULL) + start, '\n'), name, labels,
				  op % 4 == 3, v, u);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlb_prom *w = xlb_prom_new();
	struct input *in = calloc(1, sizeof(*in));
	char family[STR_MAX + 1] = "", *copy;
	size_t before, after, nfam = 0;
	int ret, first = 0;

	if (!w || !in)
		abort();
	in->data = data;
	in->size = size;
	while (in->size && nfam < MAX_FAMILIES) {
		xlb_prom_text(w, &before);
		copy = strdup(xlb_prom_text(w, NULL));
		ret = run_op(w, in, family);
		xlb_prom_text(w, &after);
		fuzz_assert(ret <= 0, "call returned %d", ret);
		fuzz_assert(!first || ret == first, "error %d after the sticky %d", ret, first);
		if (ret) {
			fuzz_assert(after == before && !strcmp(copy, xlb_prom_text(w, NULL)),
				    "failed call (%d) changed the text", ret);
			fuzz_assert(ret == -EINVAL || ret == -EILSEQ || ret == -ENOMEM,
				    "unexpected error %d", ret);
			first = first ?: ret;
		} else {
			fuzz_assert(after > before, "successful call wrote nothing");
		}
		fuzz_assert(xlb_prom_error(w) == first, "xlb_prom_error %d, first error %d",
			    xlb_prom_error(w), first);
		nfam += ret == 0 && after - before > 0 && xlb_prom_text(w, NULL)[before] == '#';
		free(copy);
	}
	xlb_prom_text(w, &after);
	check_text(xlb_prom_text(w, NULL), after);
	xlb_prom_free(w);
	free(in);
	return 0;
}
