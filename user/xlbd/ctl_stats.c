// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The control commands on the whole daemon: stats, status, explain. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "explain.h"
#include "syntax.h"
#include "names.h"
#include "xlbd.h"

/*
 * Counters: global by reason, per VIP and per backend (all summed over CPUs),
 * since the last stats -z. zero: shows them, then starts from here (with a
 * VIP: that VIP's and its backends' only).
 */
struct json_object *cmd_stats(struct xlbd *d, struct json_object *req)
{
	struct json_object *reply, *global, *vips, *bes, *z;
	__u64 counters[XLB_STAT_MAX];
	struct xlb_state_vip **sorted;
	struct vip_key key;
	char err[256];
	int has, ret, zero = 0;
	__u32 i, j;

	if (json_object_object_get_ex(req, "zero", &z)) {
		if (!json_object_is_type(z, json_type_boolean))
			ERR_REPLY("zero: not a boolean");
		zero = json_object_get_boolean(z);
		json_object_object_del(req, "zero");
	}
	has = get_vip_filter(d, req, &key, err, sizeof(err));
	if (has < 0)
		ERR_REPLY("%s", err);
	if (zero && stats_base_alloc())
		ERR_REPLY("out of memory");
	ret = xlb_dp_stats(&d->at.dp, counters);
	if (ret)
		return err_from(ret, "cannot read counters");
	stats_base_global(counters, zero && !has);
	sorted = vips_sorted(d);
	if (!sorted)
		ERR_REPLY("out of memory");
	reply = xlb_proto_ok();
	global = json_object_new_object();
	for (i = 0; i < XLB_STAT_COUNT; i++)
		add_u64(global, xlb_stat_info[i].name, counters[xlb_stat_info[i].index]);
	json_object_object_add(reply, "global", global);
	vips = json_object_new_array();
	bes = json_object_new_array();
	for (i = 0; i < d->state.nvips; i++) {
		struct xlb_state_vip *v = sorted[i];
		struct xlb_lb_vip *lv = xlb_lb_vip_find(d->lb, &v->cfg.key);
		struct traffic_stats ts = {};
		struct json_object *o;
		char vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX];
		const char *why;

		if (!vip_selected(v, has, &key))
			continue;
		xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
		if (lv) {
			xlb_dp_vip_stats(&d->at.dp, lv->id, &ts);
			stats_base_traffic(0, lv->id, &v->cfg.key, NULL, &ts, zero);
		}
		o = json_object_new_object();
		json_object_object_add(o, "vip", json_object_new_string(vip));
		add_active(o, flows_vip_active(d, lv));
		add_traffic(o, &ts);
		json_object_array_add(vips, o);
		for (j = 0; j < v->nbackends; j++) {
			struct xlb_state_backend *b = &v->backends[j];
			struct xlb_lb_backend *lbb = lv ? xlb_lb_backend_find(lv, b->cfg.addr) : NULL;

			memset(&ts, 0, sizeof(ts));
			if (lbb) {
				xlb_dp_backend_stats(&d->at.dp, lbb->id, &ts);
				stats_base_traffic(1, lbb->id, &v->cfg.key, b->cfg.addr, &ts, zero);
			}
			xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
			o = json_object_new_object();
			json_object_object_add(o, "vip", json_object_new_string(vip));
			json_object_object_add(o, "address", json_object_new_string(addr));
			json_object_object_add(o, "state", json_object_new_string(xlb_name_of(
					       xlb_backend_state_names, effective_state(b, &why))));
			add_active(o, flows_active(d, lbb));
			add_traffic(o, &ts);
			json_object_array_add(bes, o);
		}
	}
	free(sorted);
	json_object_object_add(reply, "vips", vips);
	json_object_object_add(reply, "backends", bes);
	return reply;
}

struct json_object *cmd_status(struct xlbd *d, struct json_object *req)
{
	static const char *const keys[] = { NULL };
	struct json_object *reply, *ifs, *enc;
	struct xlb_neigh_stats ns;
	char err[256], name[IF_NAMESIZE], name4[XLB_ADDR_STR_MAX + 4], name6[XLB_ADDR_STR_MAX + 4];
	__u32 i;

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)))
		ERR_REPLY("%s", err);
	reply = xlb_proto_ok();
	ifs = json_object_new_array();
	for (i = 0; i < d->at.nifaces; i++)
		json_object_array_add(ifs, json_object_new_string(
					   if_indextoname(d->at.ifindex[i], name) ?: "?"));
	json_object_object_add(reply, "interfaces", ifs);
	/* the mode the link runs in, which adoption may have found, not the configured one */
	json_object_object_add(reply, "xdp_mode", json_object_new_string(
				       xlb_name_of(xlb_xdp_mode_names, d->at.xdp_mode[0])));
	add_u64(reply, "prog_id", d->at.prog_id);
	json_object_object_add(reply, "version", json_object_new_string(xlb_version));
	add_u64(reply, "uptime_s", time(NULL) - d->started);
	add_u64(reply, "vips", d->state.nvips);
	add_u64(reply, "backends", total_backends(d));
	add_u64(reply, "reloads", d->reloads);
	xlb_neigh_get_stats(d->neigh, &ns);
	add_u64(reply, "neigh_entries", ns.entries);
	add_u64(reply, "neigh_ignored", ns.ignored);
	add_u64(reply, "table_rebuilds", d->lb->rebuilds);
	add_u64(reply, "tables_pending", xlb_lb_tables_pending(d->lb));
	flows_show(d, reply);
	via_show(d, reply);
	json_object_object_add(reply, "config", json_object_new_string(d->config_path));
	json_object_object_add(reply, "bpffs", json_object_new_string(d->pin_dir));
	xlb_format_encap_source(&d->file.encap.v4, name4, sizeof(name4));
	xlb_format_encap_source(&d->file.encap.v6, name6, sizeof(name6));
	enc = json_object_new_object();
	json_object_object_add(enc, "ipv4", json_object_new_string(name4));
	json_object_object_add(enc, "ipv6", json_object_new_string(name6));
	json_object_object_add(reply, "encap_source", enc);
	return reply;
}

/* "198.18.0.1:40000" or "[2001:db8::1]:40000" */
static int parse_client(const char *s, __be32 addr[4], __u16 *port, char *err, size_t errlen)
{
	struct xlb_endpoint ep;
	char why[128];

	if (xlb_parse_endpoint(s, XLB_EP_PORT_ZERO, &ep, why, sizeof(why))) {
		snprintf(err, errlen, "invalid client '%s': %s", s, why);
		return -EINVAL;
	}
	memcpy(addr, ep.addr, sizeof(ep.addr));
	*port = ep.port;
	return 0;
}

/* What the data plane does with one flow, computed from the same maps. */
struct json_object *cmd_explain(struct xlbd *d, struct json_object *req)
{
	static const char *const keys[] = { "client", "vip", "syn", NULL };
	struct json_object *reply, *syn;
	struct xlb_explain e;
	struct flow_key flow = {};
	struct vip_key key;
	struct xlb_explain_timeouts t;
	struct timespec now;
	const char *client;
	char err[256], ifname[IF_NAMESIZE] = "?";
	__u16 port;
	__u32 i;
	int ret;

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)) ||
	    xlb_proto_get_str(req, "client", &client, err, sizeof(err)) ||
	    get_vip(req, "vip", 1, &key, err, sizeof(err)) < 0 ||
	    parse_client(client, flow.saddr, &port, err, sizeof(err)))
		ERR_REPLY("%s", err);
	if (xlb_addr_is_v4(flow.saddr) != xlb_addr_is_v4(key.addr))
		ERR_REPLY("client and VIP are of different address families");
	memcpy(flow.daddr, key.addr, sizeof(flow.daddr));
	flow.sport = htons(port);
	flow.dport = key.port ? key.port : htons(80);
	flow.proto = key.proto;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	t.tcp_idle_ns = d->file.tcp_idle_ms * 1000000ULL;
	t.udp_idle_ns = d->file.udp_idle_ms * 1000000ULL;
	t.tcp_closing_ns = d->file.tcp_closing_ms * 1000000ULL;
	syn = json_object_object_get(req, "syn");
	ret = xlb_explain(&d->at.dp, &flow,
			  syn && json_object_get_boolean(syn) ? 0x02 : 0x10, d->at.ifindex[0],
			  now.tv_sec * 1000000000ULL + now.tv_nsec, &t, &e);
	if (ret)
		return err_from(ret, "cannot read the maps");
	for (i = 0; i < d->at.nifaces; i++)
		if ((__u32)d->at.ifindex[i] == e.be.ifindex)
			if_indextoname(e.be.ifindex, ifname);
	if (ifname[0] == '?')
		if_indextoname(d->at.ifindex[0], ifname);
	reply = xlb_explain_json(&e, ifname);
	if (!reply)
		return xlb_proto_error("out of memory");
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	return reply;
}
