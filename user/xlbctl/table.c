// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Aligned text tables, as xlbctl prints them. */
#include <stdlib.h>
#include <string.h>
#include "xlbctl.h"

void table_add(struct table *t, char **row)
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

void table_add_list(struct table *t, struct json_object *list, const char *const *keys)
{
	size_t i, j, n = list ? json_object_array_length(list) : 0;
	char *row[TABLE_MAX_COLS];

	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(list, i);

		for (j = 0; j < t->ncols; j++)
			row[j] = cell(e, keys[j]);
		table_add(t, row);
	}
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
		xlb_cli_print_sanitized(f, s);
		if (!t->right[i] && !last)
			fprintf(f, "%*s", (int)(width[i] - len), "");
	}
	fputc('\n', f);
}

void table_flush_to(FILE *f, struct table *t)
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

void table_flush(struct table *t)
{
	table_flush_to(stdout, t);
}

char *cell(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return strdup("-");
	if (json_object_is_type(v, json_type_string))
		return strdup(json_object_get_string(v));
	return strdup(json_object_to_json_string_ext(v, XLB_CLI_JSON_LINE));
}
