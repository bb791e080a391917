// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl status, xlbctl reload */
#include <stdio.h>
#include <string.h>
#include "xlbctl.h"

static int simple_request(struct cmd *c, const char *cmd,
			  void (*print_human)(struct json_object *))
{
	int ret = no_more_args(c);

	if (ret)
		return ret;
	return transact(new_request(cmd), print_human);
}

/* Every member but "ok" as "key: value"; lists joined with ", ". */
static void print_status(struct json_object *reply)
{
	json_object_object_foreach(reply, key, val) {
		size_t i, n;

		if (!strcmp(key, "ok"))
			continue;
		printf("%s: ", key);
		if (json_object_is_type(val, json_type_array)) {
			n = json_object_array_length(val);
			for (i = 0; i < n; i++) {
				struct json_object *e = json_object_array_get_idx(val, i);

				if (i)
					fputs(", ", stdout);
				xlb_cli_print_sanitized(stdout, json_object_is_type(e, json_type_string) ?
						json_object_get_string(e) :
						json_object_to_json_string_ext(e, XLB_CLI_JSON_LINE));
			}
		} else if (json_object_is_type(val, json_type_string)) {
			xlb_cli_print_sanitized(stdout, json_object_get_string(val));
		} else {
			fputs(json_object_to_json_string_ext(val, XLB_CLI_JSON_LINE), stdout);
		}
		putchar('\n');
	}
}

static void print_reload(struct json_object *reply)
{
	static const char *const kinds[] = { "diff", "added", "changed", "removed" };
	size_t k, i, n, lines = 0;

	for (k = 0; k < 4; k++) {
		struct json_object *list = member(reply, kinds[k], json_type_array);

		n = list ? json_object_array_length(list) : 0;
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(list, i);

			if (k) /* the diff's lines say what they are */
				printf("%s: ", kinds[k]);
			xlb_cli_print_sanitized(stdout, json_object_is_type(e, json_type_string) ?
					json_object_get_string(e) :
					json_object_to_json_string_ext(e, XLB_CLI_JSON_LINE));
			putchar('\n');
			lines++;
		}
	}
	if (!lines)
		puts(member(reply, "dry_run", json_type_boolean) ? "no changes (dry run)" : "no changes");
}

int do_status(struct cmd *c)
{
	return simple_request(c, "status", print_status);
}

/*
 * reload [force] [dry-run]: force (spelled out, as it overrides a safety
 * check) lets a file remove every VIP, or more than half of them; dry-run
 * (also --dry-run) prints what the file would change and applies nothing.
 */
int do_reload(struct cmd *c)
{
	struct json_object *req = new_request("reload");
	int ret = 0;

	while (!ret && c->argc) {
		const char *arg = c->argv[0];

		if (!strcmp(arg, "force")) {
			json_object_object_add(req, "force", json_object_new_boolean(1));
		} else if (!strcmp(arg, "dry-run") || !strcmp(arg, "--dry-run")) {
			json_object_object_add(req, "dry_run", json_object_new_boolean(1));
		} else if (arg[0] && !strncmp(arg, "force", strlen(arg))) {
			ret = usage_error("'reload': spell out 'force' (it overrides a safety check)");
			break;
		} else {
			break;
		}
		next_arg(c);
	}
	if (!ret)
		ret = no_more_args(c);
	return send_unless(ret, req, print_reload);
}
