// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl explain CLIENT VIP [syn]: the daemon traces one packet. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "syntax.h"
#include "xlbctl.h"

static int take_client(struct cmd *c, struct json_object *req)
{
	const char *arg = next_arg(c);
	char err[128], addr_text[XLB_ADDR_STR_MAX], text[XLB_ADDR_STR_MAX + 16];
	struct xlb_endpoint ep;

	if (!arg)
		return usage_error("missing client");
	/* "198.18.0.1:40000" or "[2001:db8::1]:40000", worded as a VIP's errors */
	if (xlb_parse_endpoint(arg, XLB_EP_PORT_ZERO, &ep, err, sizeof(err)))
		return usage_error("invalid client '%s': %s", arg, err);
	xlb_format_addr(ep.addr, addr_text, sizeof(addr_text));
	snprintf(text, sizeof(text), xlb_addr_is_v4(ep.addr) ? "%s:%u" : "[%s]:%u",
		 addr_text, ep.port);
	add_str(req, "client", text);
	return 0;
}

/* The daemon numbers and words the steps; print them as they come. */
static void print_explain(struct json_object *reply)
{
	struct json_object *steps = member(reply, "steps", json_type_array);
	size_t i, n = steps ? json_object_array_length(steps) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *step = json_object_array_get_idx(steps, i);
		struct json_object *text = member(step, "text", json_type_string);

		xlb_cli_print_sanitized(stdout, text ? json_object_get_string(text) :
				json_object_to_json_string_ext(step, XLB_CLI_JSON_LINE));
		putchar('\n');
	}
}

static const struct xlb_cli_word explain_words[] = {
	{ .name = "syn" },
};

/* explain CLIENT VIP [syn] */
int do_explain(struct cmd *c)
{
	struct json_object *req = new_request("explain");
	unsigned int seen = 0;
	int ret;

	ret = take_client(c, req);
	if (!ret)
		ret = take_vip(c, req);
	while (!ret && next_keyword(c, explain_words, 1, &seen, &ret) >= 0)
		json_object_object_add(req, "syn", json_object_new_boolean(1));
	return send_unless(ret, req, print_explain);
}

