// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The control commands on backends: backend add, del, set, show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "syntax.h"
#include "validate.h"
#include "xlbd.h"

/* lv: the VIP in the load balancer (NULL if it is not there), looked up once per VIP */
static struct json_object *backend_json(struct xlbd *d, struct xlb_state_vip *v,
					struct xlb_lb_vip *lv, struct xlb_state_backend *b)
{
	struct json_object *o = json_object_new_object();
	struct xlb_lb_backend *lb = lv ? xlb_lb_backend_find(lv, b->cfg.addr) : NULL;
	struct xlb_health_result r = {};
	struct traffic_stats ts = {};
	char buf[XLB_VIP_STR_MAX];
	const char *why;
	__u32 state;

	if (lb)
		xlb_dp_backend_stats(&d->at.dp, lb->id, &ts);
	xlb_health_get(d->health, b->hid, &r);
	xlb_format_vip(&v->cfg.key, buf, sizeof(buf));
	json_object_object_add(o, "vip", json_object_new_string(buf));
	xlb_format_addr(b->cfg.addr, buf, sizeof(buf));
	json_object_object_add(o, "address", json_object_new_string(buf));
	add_u64(o, "weight", b->cfg.weight);
	state = effective_state(b, &why);
	json_object_object_add(o, "state", json_object_new_string(xlb_name_of(
				       xlb_backend_state_names, state)));
	if (state == XLB_BE_DRAIN)
		json_object_object_add(o, "drained", json_object_new_boolean(flows_drained(d, lb)));
	if (why[0])
		json_object_object_add(o, "reason", json_object_new_string(why));
	json_object_object_add(o, "admin", json_object_new_string(
				       xlb_name_of(xlb_admin_names, b->cfg.admin)));
	json_object_object_add(o, "health", json_object_new_string(b->health_up ? "up" : "down"));
	if (b->mac_known) {
		xlb_format_mac(b->mac, buf, sizeof(buf));
		json_object_object_add(o, "mac", json_object_new_string(buf));
	}
	json_object_object_add(o, "last_check", json_object_new_string(r.checks ? r.last : "-"));
	add_u64(o, "ok_streak", r.ok_streak);
	add_u64(o, "fail_streak", r.fail_streak);
	add_u64(o, "checks", r.checks);
	add_u64(o, "check_failures", r.failures);
	add_u64(o, "check_latency_us", r.latency_us);
	if (lb)
		add_u64(o, "id", lb->id);
	add_active(o, flows_active(d, lb));
	add_traffic(o, &ts);
	return o;
}

struct json_object *cmd_backend_show(struct xlbd *d, struct json_object *req)
{
	struct json_object *reply, *arr;
	struct xlb_state_vip **sorted;
	struct vip_key key;
	char err[256];
	int has;
	__u32 i, j;

	has = get_vip_filter(d, req, &key, err, sizeof(err));
	if (has < 0)
		ERR_REPLY("%s", err);
	sorted = vips_sorted(d);
	if (!sorted)
		ERR_REPLY("out of memory");
	reply = xlb_proto_ok();
	arr = json_object_new_array();
	for (i = 0; i < d->state.nvips; i++) {
		struct xlb_state_vip *v = sorted[i];
		struct xlb_state_backend **bs;
		struct xlb_lb_vip *lv;

		if (!vip_selected(v, has, &key) || !(bs = backends_sorted(v)))
			continue;
		lv = xlb_lb_vip_find(d->lb, &v->cfg.key);
		for (j = 0; j < v->nbackends; j++)
			json_object_array_add(arr, backend_json(d, v, lv, bs[j]));
		free(bs);
	}
	free(sorted);
	json_object_object_add(reply, "backends", arr);
	/* xlbctl backend wait: "drained" as of a walk complete after the wait began */
	add_u64(reply, "flow_walks", flows_walks(d));
	return reply;
}

struct json_object *cmd_backend_add(struct xlbd *d, struct json_object *req)
{
	static const char *const keys[] = { "vip", "address", "weight", NULL };
	struct xlb_backend_cfg cfg = { .weight = XLB_WEIGHT_DEFAULT, .admin = XLB_ADMIN_ENABLED };
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	struct vip_key key;
	char err[256], vip[XLB_VIP_STR_MAX], unsaved[XLB_ERR_MAX];
	int ret;

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0 ||
	    get_addr(req, cfg.addr, err, sizeof(err)) ||
	    xlb_proto_get_opt_u32(req, "weight", XLB_WEIGHT_MIN, XLB_WEIGHT_MAX, &cfg.weight,
				  err, sizeof(err)) < 0)
		ERR_REPLY("%s", err);
	v = xlb_state_find_vip(&d->state, &key);
	if (!v)
		ERR_REPLY("no such VIP");
	/* weight is in range already: what is left to refuse is the address */
	if (xlb_backend_settings_check(&cfg, &v->cfg, NULL, err, sizeof(err)))
		ERR_REPLY("%s", err);
	if (!encap_source_for(v->cfg.forward, cfg.addr, &d->file.encap))
		ERR_REPLY("no encap_source.%s in %s for this backend", xlb_addr_is_v4(cfg.addr) ?
			  "ipv4" : "ipv6", d->config_path);
	if (xlb_state_find_backend(v, cfg.addr))
		ERR_REPLY("backend already exists");
	if (total_backends(d) >= XLB_CP_MAX_BACKENDS)
		ERR_REPLY("too many backends (at most %d)", XLB_CP_MAX_BACKENDS);
	if (v->cfg.health.via == XLB_CHECK_VIA_VIP && via_room(d, NULL, cfg.addr, err, sizeof(err)))
		ERR_REPLY("%s", err);
	ret = xlb_state_backend_insert(v, &cfg, &b);
	if (ret)
		return err_from(ret, "cannot add backend");
	if (save_state(d, unsaved, sizeof(unsaved))) {
		xlb_state_backend_remove(v, b - v->backends);
		return unsaved_reply(unsaved);
	}
	/* said before starting it, so the log has what starting it causes after it */
	xlb_format_vip(&key, vip, sizeof(vip));
	xlb_format_addr(cfg.addr, err, sizeof(err));
	logmsg(LOG_INFO, "backend %s of %s added, weight %u", err, vip, cfg.weight);
	ret = backend_start(d, v, b);
	if (ret) {
		backend_stop(d, v, b);
		xlb_state_backend_remove(v, b - v->backends);
		logmsg(LOG_ERR, "backend %s of %s removed again: it did not start", err, vip);
		return start_failed_reply(d, ret, "cannot add backend");
	}
	return xlb_proto_ok();
}

/* The VIP and the backend a request names, or NULL with the error reply. */
static struct json_object *find_backend(struct xlbd *d, const struct vip_key *key,
					const __be32 addr[4], struct xlb_state_vip **v,
					struct xlb_state_backend **b)
{
	*v = xlb_state_find_vip(&d->state, key);
	if (!*v)
		ERR_REPLY("no such VIP");
	*b = xlb_state_find_backend(*v, addr);
	if (!*b)
		ERR_REPLY("no such backend");
	return NULL;
}

struct json_object *cmd_backend_del(struct xlbd *d, struct json_object *req)
{
	static const char *const keys[] = { "vip", "address", NULL };
	struct json_object *reply;
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	struct vip_key key;
	__be32 addr[4];
	char err[256], vip[XLB_VIP_STR_MAX], unsaved[XLB_ERR_MAX];

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0 ||
	    get_addr(req, addr, err, sizeof(err)))
		ERR_REPLY("%s", err);
	reply = find_backend(d, &key, addr, &v, &b);
	if (reply)
		return reply;
	if (save_state_without(d, v, b, unsaved, sizeof(unsaved)))
		return unsaved_reply(unsaved);
	xlb_format_vip(&key, vip, sizeof(vip));
	xlb_format_addr(addr, err, sizeof(err));
	logmsg(LOG_INFO, "backend %s of %s removed", err, vip);
	backend_stop(d, v, b);
	xlb_state_backend_remove(v, b - v->backends);
	return xlb_proto_ok();
}

struct json_object *cmd_backend_set(struct xlbd *d, struct json_object *req)
{
	static const char *const keys[] = { "vip", "address", "weight", "admin", NULL };
	struct json_object *reply;
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	struct xlb_backend_cfg old;
	struct vip_key key;
	__be32 addr[4];
	const char *admin = NULL;
	char err[256], vip[XLB_VIP_STR_MAX], unsaved[XLB_ERR_MAX];
	__u32 weight = 0;
	int has_weight, has_admin, ret;

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0 ||
	    get_addr(req, addr, err, sizeof(err)) ||
	    (has_weight = xlb_proto_get_opt_u32(req, "weight", XLB_WEIGHT_MIN, XLB_WEIGHT_MAX,
						&weight, err, sizeof(err))) < 0 ||
	    (has_admin = xlb_proto_get_opt_str(req, "admin", &admin, err, sizeof(err))) < 0)
		ERR_REPLY("%s", err);
	if (has_weight == has_admin)
		ERR_REPLY("give exactly one of weight or admin");
	reply = find_backend(d, &key, addr, &v, &b);
	if (reply)
		return reply;
	old = b->cfg;
	if (has_weight) {
		b->cfg.weight = weight;
	} else if (!strcmp(admin, "drain")) {
		b->cfg.admin = XLB_ADMIN_DRAIN;
	} else if (!strcmp(admin, "undrain") && !b->cfg.weight) {
		/* it would drain on: weight 0 is the drain to lift */
		ERR_REPLY("weight 0 drains this backend: set a weight above 0 to undrain it");
	} else if (!strcmp(admin, "undrain") || !strcmp(admin, "enable")) {
		b->cfg.admin = XLB_ADMIN_ENABLED;
	} else if (!strcmp(admin, "disable")) {
		b->cfg.admin = XLB_ADMIN_DISABLED;
	} else {
		ERR_REPLY("admin: bad value (drain, undrain, disable or enable)");
	}
	if (save_state(d, unsaved, sizeof(unsaved))) {
		b->cfg = old;
		return unsaved_reply(unsaved);
	}
	xlb_format_vip(&key, vip, sizeof(vip));
	xlb_format_addr(addr, err, sizeof(err));
	if (has_weight)
		logmsg(LOG_INFO, "backend %s of %s weight %u", err, vip, weight);
	else
		logmsg(LOG_INFO, "backend %s of %s admin %s", err, vip, admin);
	ret = backend_push(d, v, b); /* after: it logs the state change this causes */
	if (ret)
		return err_from(ret, "saved, but the data plane did not take it");
	return xlb_proto_ok();
}
