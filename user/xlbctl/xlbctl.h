/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xlbctl's files share: exit codes, the command being parsed, the
 * tables of objects and verbs, requests to xlbd and the text tables.
 */
#ifndef XLBCTL_H
#define XLBCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>
#include <linux/types.h>
#include "cli.h"
#include "proto.h"

/* Exit codes; keep the list in usage() in step. */
enum {
	EXIT_DONE = 0,
	EXIT_REFUSED = 1,	/* the daemon refused the request */
	EXIT_USAGE = 2,		/* bad usage or input, caught before sending */
	EXIT_UNREACHABLE = 3,	/* no daemon, no answer, or a garbled one */
	EXIT_TIMEOUT = 4,	/* a wait whose condition did not hold in time */
};

#define usage_error(...) xlb_cli_fail(EXIT_USAGE, __VA_ARGS__)

/* The control socket of xlbd (-s). */
extern const char *socket_path;

/* The command being parsed: what it is called in messages and what is left. */
struct cmd {
	const struct object *obj;
	char what[64];		/* "vip add" */
	int argc;
	char **argv;
};

/* Each object file has a table of verbs; main.c has the table of objects. */
struct verb {
	struct xlb_cli_word w;
	int (*run)(struct cmd *c);
};

struct object {
	struct xlb_cli_word w;
	int (*run)(struct cmd *c);	/* do_vip(): the rest of the line is its */
	const char *usage;
};

/* main.c: words */
/* The verb at the cursor (default_verb when none is left), run. */
int run_verb(struct cmd *c, const struct verb *verbs, size_t n, const char *default_verb);
/* The keyword at arg in a table, with the message for a bad one. */
int lookup_keyword(const struct cmd *c, const struct xlb_cli_word *table, size_t n,
		   const char *arg, int *ret);
/*
 * The next keyword of table at the cursor: its index; -1 at the end of the
 * line, or on a bad or repeated one with *ret its exit code. seen has a bit
 * per keyword given so far (NULL: repeats are the caller's to judge).
 */
int next_keyword(struct cmd *c, const struct xlb_cli_word *table, size_t n,
		 unsigned int *seen, int *ret);
int object_help(struct cmd *c);

/* one file each */
int do_vip(struct cmd *c);
int do_config(struct cmd *c);
int do_backend(struct cmd *c);
int do_stats(struct cmd *c);
int do_top(struct cmd *c);
int do_explain(struct cmd *c);
int do_status(struct cmd *c);
int do_reload(struct cmd *c);
int do_lb(struct cmd *c);
int do_block(struct cmd *c);
int do_doctor(struct cmd *c);
int do_conntrack(struct cmd *c);

/* common.c: arguments and requests; helpers that parse one argument return 0 or an exit code */
const char *next_arg(struct cmd *c);
int no_more_args(struct cmd *c);
struct json_object *new_request(const char *cmd);
void add_str(struct json_object *obj, const char *key, const char *val);
void add_int(struct json_object *obj, const char *key, __u32 val);
int take_vip(struct cmd *c, struct json_object *req);
int take_address(struct cmd *c, struct json_object *req);
int parse_number(const char *keyword, const char *arg, __u32 min, __u32 max, __u32 *out);
/*
 * Send req (consumed) and print the reply: as JSON with -j, else with
 * print_human (NULL: print nothing, like ip(8) after a change).
 */
int transact(struct json_object *req, void (*print_human)(struct json_object *));
/* A failed connect or request: exit 1 on permission denied, else 3. */
int fail_unreachable(int ret, const char *err);
/* The end of every request-building command: send it, or drop it on a usage error. */
int send_unless(int ret, struct json_object *req, void (*print_human)(struct json_object *));
/* "OBJECT show [VIP]" */
int show(struct cmd *c, const char *cmd, void (*print_human)(struct json_object *));
/* obj's member key if it is of type, else NULL */
struct json_object *member(struct json_object *obj, const char *key, enum json_type type);

/* table.c: aligned text tables, numbers to the right, words to the left */
#define TABLE_MAX_COLS 16

struct table {
	size_t ncols;
	const char *const *heads;
	const bool *right;
	char **cells;		/* row-major, rows * ncols, strdup'd */
	size_t rows;
};

/* Takes the row's strings (ncols of them, NULL shows as "-"). */
void table_add(struct table *t, char **row);
/* Print to f and free. Nothing at all for an empty table, like ip(8). */
/* A row per entry of list (an array of objects; NULL: none): their members named by keys. */
void table_add_list(struct table *t, struct json_object *list, const char *const *keys);
void table_flush_to(FILE *f, struct table *t);
void table_flush(struct table *t);
/* Text of a member for display: strings as they are, other values as JSON, "-" if absent. */
char *cell(struct json_object *obj, const char *key);

#endif /* XLBCTL_H */
