// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What every xlbctl command shares: the argument cursor, the checks of
 * one argument, and building, sending and answering one request.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "syntax.h"
#include "xlbctl.h"

const char *socket_path = XLB_SOCKET_PATH;

const char *next_arg(struct cmd *c)
{
	if (!c->argc)
		return NULL;
	c->argc--;
	return *c->argv++;
}

int no_more_args(struct cmd *c)
{
	const char *arg = next_arg(c);

	if (arg)
		return usage_error("'%s': unexpected argument '%s'", c->what, arg);
	return 0;
}

struct json_object *new_request(const char *cmd)
{
	struct json_object *req = json_object_new_object();

	if (req)
		json_object_object_add(req, "cmd", json_object_new_string(cmd));
	return req;
}

void add_str(struct json_object *obj, const char *key, const char *val)
{
	json_object_object_add(obj, key, json_object_new_string(val));
}

void add_int(struct json_object *obj, const char *key, __u32 val)
{
	json_object_object_add(obj, key, json_object_new_int64(val));
}

int take_vip(struct cmd *c, struct json_object *req)
{
	const char *arg = next_arg(c);
	char err[128], text[XLB_VIP_STR_MAX];
	struct vip_key key;

	if (!arg)
		return usage_error("missing VIP");
	if (xlb_parse_vip(arg, &key, err, sizeof(err)))
		return usage_error("invalid VIP '%s': %s", arg, err);
	/* Send the canonical form, so the daemon's replies match it. */
	xlb_format_vip(&key, text, sizeof(text));
	add_str(req, "vip", text);
	return 0;
}

int take_address(struct cmd *c, struct json_object *req)
{
	const char *arg = next_arg(c);
	char err[128], text[XLB_ADDR_STR_MAX];
	__be32 addr[4];

	if (!arg)
		return usage_error("missing address");
	if (xlb_parse_addr(arg, addr, err, sizeof(err)))
		return usage_error("invalid address '%s': %s", arg, err);
	xlb_format_addr(addr, text, sizeof(text));
	add_str(req, "address", text);
	return 0;
}

int parse_number(const char *keyword, const char *arg, __u32 min, __u32 max, __u32 *out)
{
	char err[128];

	if (xlb_parse_u32(arg, min, max, out, err, sizeof(err)))
		return usage_error("%s: %s", keyword, err);
	return 0;
}

int fail_unreachable(int ret, const char *err)
{
	/* a daemon that is there but not ours to ask refuses, as its "root only" reply does */
	return xlb_cli_fail(ret == -EACCES || ret == -EPERM ? EXIT_REFUSED : EXIT_UNREACHABLE,
			    "%s", err);
}

int transact(struct json_object *req, void (*print_human)(struct json_object *))
{
	struct json_object *reply = NULL;
	const char *refusal;
	char err[512];
	int ret;

	if (!req)
		return xlb_cli_fail(EXIT_UNREACHABLE, "out of memory");
	ret = xlb_proto_call(socket_path, req, &reply, err, sizeof(err));
	json_object_put(req);
	if (ret)
		return fail_unreachable(ret, err);

	refusal = xlb_proto_reply_error(reply);
	if (refusal) {
		ret = xlb_cli_fail(EXIT_REFUSED, "%s", refusal);
	} else {
		if (xlb_cli.json) {
			/* The reply minus "ok". */
			json_object_object_del(reply, "ok");
			xlb_cli_print_json(stdout, reply);
		} else if (print_human) {
			print_human(reply);
		}
		ret = EXIT_DONE;
	}
	json_object_put(reply);
	return ret;
}

int send_unless(int ret, struct json_object *req, void (*print_human)(struct json_object *))
{
	if (ret) {
		json_object_put(req);
		return ret;
	}
	return transact(req, print_human);
}

int show(struct cmd *c, const char *cmd, void (*print_human)(struct json_object *))
{
	struct json_object *req = new_request(cmd);
	int ret = 0;

	if (c->argc)
		ret = take_vip(c, req);
	if (!ret)
		ret = no_more_args(c);
	return send_unless(ret, req, print_human);
}

struct json_object *member(struct json_object *obj, const char *key, enum json_type type)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}
