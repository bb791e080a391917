// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The findings of a doctor command and how they are printed (doctor.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "cli.h"
#include "doctor.h"

static const char *const status_names[] = {
	[DOCTOR_OK] = "ok", [DOCTOR_WARN] = "warn", [DOCTOR_FAIL] = "fail",
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void doctor_add(struct doctor *d, enum doctor_status st, const char *check, const char *subject,
		const char *fix, const char *fmt, ...)
{
	struct doctor_finding *f, *grown;
	char detail[1024];
	va_list ap;

	/* ok findings past what is shown are only counted; problems are all kept */
	if ((st == DOCTOR_OK && d->kept[DOCTOR_OK] >= DOCTOR_MAX_FINDINGS) ||
	    d->n >= DOCTOR_MAX_PROBLEMS + DOCTOR_MAX_FINDINGS) {
		d->dropped[st]++;
		return;
	}
	if (d->n == d->cap) {
		grown = realloc(d->f, (d->cap ? d->cap * 2 : 16) * sizeof(*d->f));
		if (!grown) {
			d->dropped[st]++;
			return;
		}
		d->f = grown;
		d->cap = d->cap ? d->cap * 2 : 16;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	f = &d->f[d->n++];
	d->kept[st]++;
	f->status = st;
	f->check = strdup(check);
	f->subject = strdup(subject);
	f->detail = strdup(detail);
	f->fix = st == DOCTOR_OK ? NULL : dup_or_null(fix);
}

void doctor_could_not_check(struct doctor *d, const char *check, const char *subject,
			    const char *fix, const char *detail)
{
	doctor_add(d, DOCTOR_FAIL, check, subject, fix, "%s", detail);
	d->could_not_check = true;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* How many ok findings are shown: what room the problems leave, the first ones. */
static unsigned int oks_shown(const struct doctor *d)
{
	unsigned int problems = d->kept[DOCTOR_WARN] + d->kept[DOCTOR_FAIL];
	unsigned int room = problems < DOCTOR_MAX_FINDINGS ? DOCTOR_MAX_FINDINGS - problems : 0;

	return d->kept[DOCTOR_OK] < room ? d->kept[DOCTOR_OK] : room;
}

/* Per status, the findings not shown; whether there is any. */
static bool not_shown(const struct doctor *d, unsigned int hidden[DOCTOR_NSTATUS])
{
	int st;

	for (st = 0; st < DOCTOR_NSTATUS; st++)
		hidden[st] = d->dropped[st];
	hidden[DOCTOR_OK] += d->kept[DOCTOR_OK] - oks_shown(d);
	return hidden[DOCTOR_OK] || hidden[DOCTOR_WARN] || hidden[DOCTOR_FAIL];
}

static struct json_object *finding_json(const char *check, enum doctor_status st, const char *subject,
					const char *detail, const char *fix)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "check", json_object_new_string(or_empty(check)));
	json_object_object_add(o, "status", json_object_new_string(status_names[st]));
	json_object_object_add(o, "subject", json_object_new_string(or_empty(subject)));
	json_object_object_add(o, "detail", json_object_new_string(or_empty(detail)));
	json_object_object_add(o, "fix", fix ? json_object_new_string(fix) : NULL);
	return o;
}

static void print_json(const struct doctor *d)
{
	struct json_object *list = json_object_new_array(), *o, *counts;
	unsigned int i, oks = oks_shown(d), hidden[DOCTOR_NSTATUS];
	char detail[160];
	int st;

	for (i = 0; i < d->n; i++) {
		const struct doctor_finding *f = &d->f[i];

		if (f->status == DOCTOR_OK && !oks)
			continue;
		oks -= f->status == DOCTOR_OK;
		json_object_array_add(list, finding_json(f->check, f->status, f->subject, f->detail,
							 f->fix));
	}
	if (not_shown(d, hidden)) {
		snprintf(detail, sizeof(detail), "%u ok, %u warn, %u fail not shown (at most %u lines)",
			 hidden[DOCTOR_OK], hidden[DOCTOR_WARN], hidden[DOCTOR_FAIL],
			 DOCTOR_MAX_FINDINGS);
		st = hidden[DOCTOR_FAIL] ? DOCTOR_FAIL : hidden[DOCTOR_WARN] ? DOCTOR_WARN : DOCTOR_OK;
		o = finding_json("doctor", st, "findings", detail,
				 st == DOCTOR_OK ? NULL : "fix the problems shown, then run it again");
		counts = json_object_new_object();
		for (st = 0; st < DOCTOR_NSTATUS; st++)
			json_object_object_add(counts, status_names[st], json_object_new_int64(hidden[st]));
		json_object_object_add(o, "dropped", counts);
		json_object_array_add(list, o);
	}
	xlb_cli_print_json(stdout, list);
	json_object_put(list);
}

/* Names and details may come from a daemon or the kernel: one line stays one line. */
static void print_text(const struct doctor *d)
{
	unsigned int i, oks = oks_shown(d), hidden[DOCTOR_NSTATUS];

	for (i = 0; i < d->n; i++) {
		const struct doctor_finding *f = &d->f[i];

		if (f->status == DOCTOR_OK && !oks)
			continue;
		oks -= f->status == DOCTOR_OK;
		printf("%-4s %s ", status_names[f->status], or_empty(f->check));
		xlb_cli_print_sanitized(stdout, or_empty(f->subject));
		fputs(": ", stdout);
		xlb_cli_print_sanitized(stdout, or_empty(f->detail));
		putchar('\n');
		if (f->fix) {
			fputs("     fix: ", stdout);
			xlb_cli_print_sanitized(stdout, f->fix);
			putchar('\n');
		}
	}
	if (d->could_not_check)
		return;
	/* the summary counts every finding, shown or not */
	printf("%u ok, %u warn, %u fail", d->kept[DOCTOR_OK] + d->dropped[DOCTOR_OK],
	       d->kept[DOCTOR_WARN] + d->dropped[DOCTOR_WARN],
	       d->kept[DOCTOR_FAIL] + d->dropped[DOCTOR_FAIL]);
	if (not_shown(d, hidden))
		printf(" (not shown: %u ok, %u warn, %u fail)", hidden[DOCTOR_OK], hidden[DOCTOR_WARN],
		       hidden[DOCTOR_FAIL]);
	putchar('\n');
}

int doctor_report(struct doctor *d)
{
	int ret = d->kept[DOCTOR_WARN] || d->kept[DOCTOR_FAIL] || d->dropped[DOCTOR_WARN] ||
		  d->dropped[DOCTOR_FAIL];

	if (xlb_cli.json)
		print_json(d);
	else
		print_text(d);
	return d->could_not_check ? 2 : ret;
}

void doctor_free(struct doctor *d)
{
	unsigned int i;

	for (i = 0; i < d->n; i++) {
		free(d->f[i].check);
		free(d->f[i].subject);
		free(d->f[i].detail);
		free(d->f[i].fix);
	}
	free(d->f);
	memset(d, 0, sizeof(*d));
}
