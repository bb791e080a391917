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

	if (d->n == DOCTOR_MAX_FINDINGS) {
		d->dropped++;
		return;
	}
	if (d->n == d->cap) {
		grown = realloc(d->f, (d->cap ? d->cap * 2 : 16) * sizeof(*d->f));
		if (!grown) {
			d->dropped++;
			return;
		}
		d->f = grown;
		d->cap = d->cap ? d->cap * 2 : 16;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	f = &d->f[d->n++];
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

static void print_json(const struct doctor *d)
{
	struct json_object *list = json_object_new_array(), *o;
	unsigned int i;

	for (i = 0; i < d->n; i++) {
		const struct doctor_finding *f = &d->f[i];

		o = json_object_new_object();
		json_object_object_add(o, "check", json_object_new_string(or_empty(f->check)));
		json_object_object_add(o, "status", json_object_new_string(status_names[f->status]));
		json_object_object_add(o, "subject", json_object_new_string(or_empty(f->subject)));
		json_object_object_add(o, "detail", json_object_new_string(or_empty(f->detail)));
		json_object_object_add(o, "fix", f->fix ? json_object_new_string(f->fix) : NULL);
		json_object_array_add(list, o);
	}
	xlb_cli_print_json(stdout, list);
	json_object_put(list);
}

/* Names and details may come from a daemon or the kernel: one line stays one line. */
static void print_text(const struct doctor *d)
{
	unsigned int i, counts[3] = { 0 };

	for (i = 0; i < d->n; i++) {
		const struct doctor_finding *f = &d->f[i];

		counts[f->status]++;
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
	if (d->dropped)
		printf("(%u more findings not shown)\n", d->dropped);
	if (!d->could_not_check)
		printf("%u ok, %u warn, %u fail\n", counts[DOCTOR_OK], counts[DOCTOR_WARN],
		       counts[DOCTOR_FAIL]);
}

int doctor_report(struct doctor *d)
{
	unsigned int i;
	int ret = 0;

	if (xlb_cli.json)
		print_json(d);
	else
		print_text(d);
	for (i = 0; i < d->n; i++)
		if (d->f[i].status != DOCTOR_OK)
			ret = 1;
	if (d->dropped)
		ret = 1;
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
	d->f = NULL;
	d->n = d->cap = 0;
}
