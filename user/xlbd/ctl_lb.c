// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The control commands on the whole host: lb show, lb withdraw, lb announce. */
#include <stdio.h>
#include "xlbd.h"

struct json_object *cmd_lb_show(struct xlbd *d, struct json_object *req)
{
	static const char *const keys[] = { NULL };
	struct json_object *reply;
	char err[256];

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)))
		ERR_REPLY("%s", err);
	reply = xlb_proto_ok();
	announce_show(d, reply);
	return reply;
}

/* Saved first, then applied: a change that cannot be saved is refused. */
static struct json_object *set_withdrawn(struct xlbd *d, struct json_object *req, int withdrawn)
{
	static const char *const keys[] = { NULL };
	char err[256], unsaved[XLB_ERR_MAX];

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)))
		ERR_REPLY("%s", err);
	if (!d->announce)
		ERR_REPLY("nothing is announced: no announce: in %s", d->config_path);
	if (d->state.withdrawn == withdrawn)
		return xlb_proto_ok();
	d->state.withdrawn = withdrawn;
	if (save_state(d, unsaved, sizeof(unsaved))) {
		d->state.withdrawn = !withdrawn;
		return unsaved_reply(unsaved);
	}
	logmsg(LOG_INFO, "host %s by xlbctl lb %s", withdrawn ? "withdrawn" : "announcing again",
	       withdrawn ? "withdraw" : "announce");
	announce_sync(d);
	return xlb_proto_ok();
}

struct json_object *cmd_lb_withdraw(struct xlbd *d, struct json_object *req)
{
	return set_withdrawn(d, req, 1);
}

struct json_object *cmd_lb_announce(struct xlbd *d, struct json_object *req)
{
	return set_withdrawn(d, req, 0);
}
