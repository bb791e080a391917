// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus text writer (see metrics.h for the contract). Numbers are
 * formatted with the C locale's decimal point, the only one the daemon
 * uses.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define PROM_BUF_MIN	4096
#define PROM_NUM_MAX	32

struct prom_family {
	size_t off, len;		/* its name, inside buf */
};

struct xlb_prom {
	char *buf;			/* NUL-terminated when not NULL */
	size_t len, cap;
	int err;			/* first error, sticky */
	/* every family so far, the last one current: a repeated family makes
	 * Prometheus reject the whole scrape */
	struct prom_family *fam;
	size_t nfam, fam_cap;
};

struct xlb_prom *xlb_prom_new(void)
{
	return calloc(1, sizeof(struct xlb_prom));
}

void xlb_prom_free(struct xlb_prom *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w->fam);
	free(w);
}

const char *xlb_prom_text(struct xlb_prom *w, size_t *len)
{
	if (len)
		*len = w->len;
	return w->buf ? w->buf : "";
}

int xlb_prom_error(const struct xlb_prom *w)
{
	return w->err;
}

/* Drop the partial line written since start and remember the error. */
static int prom_fail(struct xlb_prom *w, size_t start, int err)
{
	w->len = start;
	if (w->buf)
		w->buf[start] = '\0';
	if (!w->err)
		w->err = err;
	return err;
}

static int prom_reserve(struct xlb_prom *w, size_t n)
{
	size_t need, cap;
	char *p;

	if (n >= XLB_PROM_MAX_BYTES - w->len)
		return -E2BIG;
	need = w->len + n + 1;
	if (need <= w->cap)
		return 0;
	cap = w->cap ? w->cap : PROM_BUF_MIN;
	while (cap < need)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p)
		return -ENOMEM;
	w->buf = p;
	w->cap = cap;
	return 0;
}

static int prom_put(struct xlb_prom *w, const char *s, size_t n)
{
	int ret = prom_reserve(w, n);

	if (ret)
		return ret;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
	return 0;
}

static int prom_puts(struct xlb_prom *w, const char *s)
{
	return prom_put(w, s, strlen(s));
}

/* s with \ and newline escaped, and " too in label values (quote). */
static int prom_put_escaped(struct xlb_prom *w, const char *s, int quote)
{
	size_t n = strlen(s);
	char *p;
	int ret;

	ret = prom_reserve(w, 2 * n);
	if (ret)
		return ret;
	p = w->buf + w->len;
	for (; *s; s++) {
		if (*s == '\\' || (*s == '"' && quote)) {
			*p++ = '\\';
			*p++ = *s;
		} else if (*s == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else {
			*p++ = *s;
		}
	}
	*p = '\0';
	w->len = p - w->buf;
	return 0;
}

static int is_alpha_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Metric names may hold ':', label names may not. */
static int name_ok(const char *s, int colon)
{
	size_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; s[i]; i++)
		if (!is_alpha_(s[i]) && !(colon && s[i] == ':') &&
		    !(i && s[i] >= '0' && s[i] <= '9'))
			return 0;
	return 1;
}

/* Prometheus refuses a whole scrape over one invalid UTF-8 string. */
static int utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp, min, n, i;

	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1, cp = *p & 0x1f, min = 0x80;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2, cp = *p & 0x0f, min = 0x800;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3, cp = *p & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		/* a NUL fails the continuation test, so no overrun */
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates and beyond Unicode */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

static const struct prom_family *family_find(const struct xlb_prom *w,
					     const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < w->nfam; i++)
		if (w->fam[i].len == len && !memcmp(w->buf + w->fam[i].off, name, len))
			return &w->fam[i];
	return NULL;
}

int xlb_prom_family(struct xlb_prom *w, const char *name, const char *type,
		    const char *help)
{
	size_t start = w->len, len, off;
	struct prom_family *fam;
	int ret, total;

	if (w->err)
		return w->err;
	if (!name_ok(name, 1) || !type || !help || !*help)
		return prom_fail(w, start, -EINVAL);
	len = strlen(name);
	/* "_total" on counters and only on them, as promtool lints */
	total = len > 6 && !strcmp(name + len - 6, "_total");
	if (strcmp(type, total ? "counter" : "gauge"))
		return prom_fail(w, start, -EINVAL);
	if (!utf8_ok(help))
		return prom_fail(w, start, -EILSEQ);
	if (family_find(w, name, len))
		return prom_fail(w, start, -EINVAL);
	if (w->nfam == w->fam_cap) {
		size_t cap = w->fam_cap ? 2 * w->fam_cap : 16;

		fam = realloc(w->fam, cap * sizeof(*fam));
		if (!fam)
			return prom_fail(w, start, -ENOMEM);
		w->fam = fam;
		w->fam_cap = cap;
	}

	ret = prom_puts(w, "# HELP ");
	off = w->len;
	ret = ret ?: prom_put(w, name, len);
	ret = ret ?: prom_puts(w, " ");
	ret = ret ?: prom_put_escaped(w, help, 0);
	ret = ret ?: prom_puts(w, "\n# TYPE ");
	ret = ret ?: prom_put(w, name, len);
	ret = ret ?: prom_puts(w, " ");
	ret = ret ?: prom_puts(w, type);
	ret = ret ?: prom_puts(w, "\n");
	if (ret)
		return prom_fail(w, start, ret);
	w->fam[w->nfam].off = off;
	w->fam[w->nfam].len = len;
	w->nfam++;
	return 0;
}

static int labels_ok(const char *const *labels)
{
	size_t i, j;

	for (i = 0; labels && labels[i]; i += 2) {
		if (!name_ok(labels[i], 0) || !strncmp(labels[i], "__", 2) ||
		    !labels[i + 1])
			return -EINVAL;
		if (!utf8_ok(labels[i + 1]))
			return -EILSEQ;
		for (j = 0; j < i; j += 2)
			if (!strcmp(labels[i], labels[j]))
				return -EINVAL;
	}
	return 0;
}

static int prom_sample(struct xlb_prom *w, const char *name,
		       const char *const *labels, const char *value)
{
	size_t start = w->len, i;
	const struct prom_family *cur;
	int ret;

	if (w->err)
		return w->err;
	/* samples of a family must follow its TYPE line and carry its name */
	cur = w->nfam ? &w->fam[w->nfam - 1] : NULL;
	if (!name || !cur || strlen(name) != cur->len ||
	    memcmp(w->buf + cur->off, name, cur->len))
		return prom_fail(w, start, -EINVAL);
	ret = labels_ok(labels);
	if (ret)
		return prom_fail(w, start, ret);

	ret = prom_puts(w, name);
	for (i = 0; labels && labels[i]; i += 2) {
		ret = ret ?: prom_puts(w, i ? "," : "{");
		ret = ret ?: prom_puts(w, labels[i]);
		ret = ret ?: prom_puts(w, "=\"");
		ret = ret ?: prom_put_escaped(w, labels[i + 1], 1);
		ret = ret ?: prom_puts(w, "\"");
	}
	if (labels && labels[0])
		ret = ret ?: prom_puts(w, "}");
	ret = ret ?: prom_puts(w, " ");
	ret = ret ?: prom_puts(w, value);
	ret = ret ?: prom_puts(w, "\n");
	return ret ? prom_fail(w, start, ret) : 0;
}

/*
 * The shortest of %.15g, %.16g, %.17g that reads back as v: %g drops
 * trailing zeros, and any double whose shortest round-trip form has at
 * most 15 digits comes out of %.15g as that form (0.1, not
 * 0.10000000000000001).
 */
static void format_double(char *buf, size_t len, double v)
{
	int prec;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

int xlb_prom_sample(struct xlb_prom *w, const char *name,
		    const char *const *labels, double value)
{
	char num[PROM_NUM_MAX];

	format_double(num, sizeof(num), value);
	return prom_sample(w, name, labels, num);
}

int xlb_prom_sample_u64(struct xlb_prom *w, const char *name,
			const char *const *labels, __u64 value)
{
	char num[PROM_NUM_MAX];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
	return prom_sample(w, name, labels, num);
}

char *xlb_prom_take(struct xlb_prom *w, size_t *len)
{
	char *buf;

	/* an empty exposition still needs a buffer to hand over */
	if (prom_reserve(w, 0))
		return NULL;
	buf = w->buf;
	*len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return buf;
}
