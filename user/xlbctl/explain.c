// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbctl explain CLIENT VIP [syn]: the daemon traces one packet. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "syntax.h"
#include "xlbctl.h"

/*
 * "198.18.0.1:40000" or "[2001:db8::1]:40000", with the error texts of a
 * VIP (syntax.h) so that both read alike.
 */
static int parse_client(const char *s, __be32 addr[4], __u32 *port, char *err,
			size_t errlen)
{
	char text[XLB_ADDR_STR_MAX];
	const char *p, *end;
	int ndigits = 0;
	size_t len;

	if (s[0] == '[') {
		end = strchr(s, ']');
		len = end ? (size_t)(end - s - 1) : 0;
		/* Brackets are for IPv6 only, as in a VIP. */
		if (!end || len >= sizeof(text) || !memchr(s + 1, ':', len)) {
			snprintf(err, errlen, "bad IPv6 address");
			return -EINVAL;
		}
		memcpy(text, s + 1, len);
		text[len] = '\0';
		if (xlb_parse_addr(text, addr, err, errlen))
			return -EINVAL;
		p = end + 1;
	} else {
		len = strcspn(s, ":");
		if (len < sizeof(text)) {
			memcpy(text, s, len);
			text[len] = '\0';
		}
		if (len >= sizeof(text) || xlb_parse_addr(text, addr, err, errlen)) {
			p = strchr(s, ':');
			snprintf(err, errlen, "%s", p && strchr(p + 1, ':') ?
				 "IPv6 address needs brackets" : "bad IPv4 address");
			return -EINVAL;
		}
		p = s + len;
	}
	if (*p != ':' || !p[1]) {
		snprintf(err, errlen, "missing port");
		return -EINVAL;
	}
	*port = 0;
	for (p++; *p >= '0' && *p <= '9' && ndigits <= 5; p++, ndigits++)
		*port = *port * 10 + (*p - '0');
	if (*p || ndigits > 5 || *port > 65535) {
		snprintf(err, errlen, "bad port");
		return -EINVAL;
	}
	return 0;
}

static int take_client(struct cmd *c, struct json_object *req)
{
	const char *arg = next_arg(c);
	char err[128], addr_text[XLB_ADDR_STR_MAX], text[XLB_ADDR_STR_MAX + 16];
	__be32 addr[4];
	__u32 port;

	if (!arg)
		return usage_error("missing client");
	if (parse_client(arg, addr, &port, err, sizeof(err)))
		return usage_error("invalid client '%s': %s", arg, err);
	xlb_format_addr(addr, addr_text, sizeof(addr_text));
	snprintf(text, sizeof(text), xlb_addr_is_v4(addr) ? "%s:%u" : "[%s]:%u",
		 addr_text, port);
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

