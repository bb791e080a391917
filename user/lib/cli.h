/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xlbctl and xlb-decap share as commands: words found by a unique
 * prefix, one-line errors (or one JSON object), JSON output.
 */
#ifndef XLB_CLI_H
#define XLB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>

#define XLB_CLI_JSON_LINE (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define XLB_CLI_JSON_PRETTY (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

/* How the program speaks; main() sets it from its options. */
struct xlb_cli {
	const char *prog;	/* "xlbctl": text errors read "xlbctl: ..." */
	bool json;		/* output, and errors, as JSON */
	bool pretty;		/* ... indented */
};

extern struct xlb_cli xlb_cli;

/* Control characters (from argv or a daemon) as '?': one line stays one line. */
void xlb_cli_print_sanitized(FILE *f, const char *s);

/* msg as "prog: msg" on stderr, or as {"error":"msg"}; returns ret. */
int xlb_cli_fail(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* obj on one line, or indented with pretty, then a newline. */
void xlb_cli_print_json(FILE *f, struct json_object *obj);

/*
 * Words of a command line. An exact name or alias wins; otherwise any
 * unique prefix of a name. Aliases settle the prefixes people type most
 * ("s" is show, not set). A word that removes or stops service is
 * marked full: a slip of the fingers must not run it, so only its whole
 * name or alias will do.
 */
struct xlb_cli_word {
	const char *name;
	const char *alias;
	bool full;
};

enum { XLB_CLI_WORD_UNKNOWN = -1, XLB_CLI_WORD_AMBIGUOUS = -2, XLB_CLI_WORD_SHORT = -3 };

/* The refusal of a prefix of a full word, for xlb_cli_fail(). */
#define XLB_CLI_SHORT_FMT "'%s' is short for '%s': destructive verbs are typed in full"

/*
 * Look arg up in a table of n entries of size bytes, each starting with a
 * struct xlb_cli_word. Returns the index, XLB_CLI_WORD_UNKNOWN,
 * XLB_CLI_WORD_AMBIGUOUS with the candidates, sorted, in cands, or
 * XLB_CLI_WORD_SHORT with the full word arg uniquely abbreviates in cands.
 */
int xlb_cli_lookup(const void *table, size_t n, size_t size, const char *arg,
		   char *cands, size_t candlen);

#endif /* XLB_CLI_H */
