// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Prometheus metrics: what a scrape of /metrics renders. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "syntax.h"
#include "xlbd.h"

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct backend_sample {
	struct traffic_stats ts;
	struct xlb_health_result r;
	long long active; /* -1: not known yet */
};

/* Each backend's counters once per scrape, in state order: the families then only format. */
static struct backend_sample *backend_samples(struct xlbd *d)
{
	struct backend_sample *out = calloc(total_backends(d) + 1, sizeof(*out)), *p = out;
	__u32 i, j;

	for (i = 0; out && i < d->state.nvips; i++) {
		struct xlb_state_vip *v = &d->state.vips[i];
		struct xlb_lb_vip *lv = xlb_lb_vip_find(d->lb, &v->cfg.key);

		for (j = 0; j < v->nbackends; j++, p++) {
			struct xlb_lb_backend *lbb = lv ? xlb_lb_backend_find(lv, v->backends[j].cfg.addr) : NULL;

			if (lbb)
				xlb_dp_backend_stats(&d->at.dp, lbb->id, &p->ts);
			p->active = flows_active(d, lbb);
			xlb_health_get(d->health, v->backends[j].hid, &p->r);
		}
	}
	return out;
}

static int render_backend_metrics(struct xlbd *d, struct xlb_prom *w)
{
	static const struct {
		const char *name, *type, *help;
	} fams[] = {
		{ "xlb_backend_packets_total", "counter", "Packets forwarded to the backend." },
		{ "xlb_backend_bytes_total", "counter", "Bytes forwarded to the backend." },
		{ "xlb_backend_new_flows_total", "counter", "Flows entered into the connection table for the backend." },
		{ "xlb_backend_up", "gauge", "1 if the backend takes new flows." },
		{ "xlb_backend_state", "gauge", "The backend's state (up, down, drain, disabled): 1 for the current one." },
		{ "xlb_backend_check_latency_seconds", "gauge", "Duration of the last health check." },
		{ "xlb_backend_checks_total", "counter", "Health checks run." },
		{ "xlb_backend_check_failures_total", "counter", "Health checks failed." },
		{ "xlb_backend_active_flows", "gauge",
		  "Live flows of the backend: established and not idle (corrected by a periodic walk)." },
	};
	struct backend_sample *samples = backend_samples(d), *sm;
	char vip[XLB_VIP_STR_MAX], addr[XLB_ADDR_STR_MAX];
	size_t f;
	const struct xlb_name *st;
	__u32 i, j;
	int ret = 0;

	if (!samples)
		return -ENOMEM;
	for (f = 0; f < sizeof(fams) / sizeof(fams[0]) && !ret; f++) {
		ret = xlb_prom_family(w, fams[f].name, fams[f].type, fams[f].help);
		sm = samples;
		for (i = 0; i < d->state.nvips && !ret; i++) {
			struct xlb_state_vip *v = &d->state.vips[i];

			xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
			for (j = 0; j < v->nbackends && !ret; j++, sm++) {
				struct xlb_state_backend *b = &v->backends[j];
				const char *const *l;

				xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
				l = L("vip", vip, "backend", addr);
				switch (f) {
				case 0: ret = xlb_prom_sample_u64(w, fams[f].name, l, sm->ts.packets); break;
				case 1: ret = xlb_prom_sample_u64(w, fams[f].name, l, sm->ts.bytes); break;
				case 2: ret = xlb_prom_sample_u64(w, fams[f].name, l, sm->ts.new_flows); break;
				case 3: ret = xlb_prom_sample_u64(w, fams[f].name, l, b->state == XLB_BE_UP); break;
				case 4:
					for (st = xlb_backend_state_names; st->name && !ret; st++)
						ret = xlb_prom_sample_u64(w, fams[f].name,
									  L("vip", vip, "backend", addr, "state", st->name),
									  b->state == st->value);
					break;
				case 5: ret = xlb_prom_sample(w, fams[f].name, l, sm->r.latency_us / 1e6); break;
				case 6: ret = xlb_prom_sample_u64(w, fams[f].name, l, sm->r.checks); break;
				case 7: ret = xlb_prom_sample_u64(w, fams[f].name, l, sm->r.failures); break;
				case 8:
					if (sm->active >= 0)
						ret = xlb_prom_sample_u64(w, fams[f].name, l, (__u64)sm->active);
					break;
				}
			}
		}
	}
	free(samples);
	return ret;
}

static int render_vip_metrics(struct xlbd *d, struct xlb_prom *w)
{
	static const char *const names[] = { "xlb_vip_packets_total", "xlb_vip_bytes_total",
					     "xlb_vip_new_flows_total" };
	static const char *const helps[] = { "Packets forwarded for the VIP.",
					     "Bytes forwarded for the VIP.",
					     "Flows entered into the connection table for the VIP." };
	char vip[XLB_VIP_STR_MAX];
	__u32 f, i;
	int ret = 0;

	for (f = 0; f < 3 && !ret; f++) {
		ret = xlb_prom_family(w, names[f], "counter", helps[f]);
		for (i = 0; i < d->state.nvips && !ret; i++) {
			struct xlb_lb_vip *lv = xlb_lb_vip_find(d->lb, &d->state.vips[i].cfg.key);
			struct traffic_stats ts = {};

			if (lv)
				xlb_dp_vip_stats(&d->at.dp, lv->id, &ts);
			xlb_format_vip(&d->state.vips[i].cfg.key, vip, sizeof(vip));
			ret = xlb_prom_sample_u64(w, names[f], L("vip", vip),
						  f == 0 ? ts.packets : f == 1 ? ts.bytes : ts.new_flows);
		}
	}
	ret = ret ?: xlb_prom_family(w, "xlb_vip_active_flows", "gauge",
				     "Live flows of the VIP: the sum of its backends'.");
	for (i = 0; i < d->state.nvips && !ret; i++) {
		long long n = flows_vip_active(d, xlb_lb_vip_find(d->lb, &d->state.vips[i].cfg.key));

		xlb_format_vip(&d->state.vips[i].cfg.key, vip, sizeof(vip));
		if (n >= 0)
			ret = xlb_prom_sample_u64(w, "xlb_vip_active_flows", L("vip", vip), (__u64)n);
	}
	return ret;
}

/* The connection tables' counters, one family each. */
static int render_conntrack(struct xlb_prom *w, const __u64 *c)
{
	static const struct {
		const char *name, *help;
		enum xlb_stat stat;
	} fams[] = {
		{ "xlb_conntrack_hits_total", "VIP packets of a flow in the main connection table.",
		  XLB_STAT_CT_HIT },
		{ "xlb_conntrack_misses_total", "VIP packets without a live connection-table entry.",
		  XLB_STAT_CT_MISS },
		{ "xlb_conntrack_probation_hits_total",
		  "VIP packets of a flow seen once, found in the probation table.",
		  XLB_STAT_CT_PROBATION_HIT },
		{ "xlb_conntrack_promoted_total", "Flows seen again, moved from probation to the main table.",
		  XLB_STAT_CT_PROMOTED },
		{ "xlb_conntrack_probation_overwrites_total",
		  "New flows that took the probation slot of an unexpired one.",
		  XLB_STAT_CT_PROBATION_OVERWRITE },
		{ "xlb_conntrack_closing_total", "Flows a FIN or RST from the client moved to closing.",
		  XLB_STAT_CT_CLOSING },
		{ "xlb_conntrack_reopened_total", "SYNs on a closing flow's tuple, given a fresh pick.",
		  XLB_STAT_CT_REOPENED },
		{ "xlb_conntrack_legacy_hits_total",
		  "Flows found in an older build's table, moved to the main one.", XLB_STAT_CT_LEGACY_HIT },
		{ "xlb_conntrack_insert_failures_total",
		  "Flows the main table refused (forwarded anyway).", XLB_STAT_CT_INSERT_FAILED },
	};
	size_t i;
	int ret = 0;

	for (i = 0; i < sizeof(fams) / sizeof(fams[0]) && !ret; i++) {
		ret = xlb_prom_family(w, fams[i].name, "counter", fams[i].help);
		ret = ret ?: xlb_prom_sample_u64(w, fams[i].name, NULL, c[fams[i].stat]);
	}
	return ret;
}

/* One sample per counter of a class, labelled by its reason. */
static int render_class(struct xlb_prom *w, const char *family, enum xlb_stat_class class,
			const __u64 *c)
{
	int ret = 0;
	__u32 i;

	for (i = 0; i < XLB_STAT_COUNT && !ret; i++)
		if (xlb_stat_info[i].class == class)
			ret = xlb_prom_sample_u64(w, family,
						  L("reason", xlb_stat_reason(xlb_stat_info[i].index)),
						  c[xlb_stat_info[i].index]);
	return ret;
}

int render_metrics(void *ctx, struct xlb_prom *w)
{
	struct xlbd *d = ctx;
	__u64 c[XLB_STAT_MAX];
	char prog[16];
	int ret;

	ret = xlb_dp_stats(&d->at.dp, c);
	if (ret)
		return ret;
	snprintf(prog, sizeof(prog), "%u", d->at.prog_id);
	ret = xlb_prom_family(w, "xlb_build_info", "gauge", "Build of xlbd and the running XDP program.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_build_info", L("version", xlb_version, "prog_id", prog), 1);
	ret = ret ?: xlb_prom_family(w, "xlb_start_time_seconds", "gauge", "When xlbd started, in seconds since the epoch.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_start_time_seconds", NULL, d->started);
	ret = ret ?: xlb_prom_family(w, "xlb_reloads_total", "counter", "Config reloads applied.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_reloads_total", NULL, d->reloads);
	ret = ret ?: xlb_prom_family(w, "xlb_config_errors_total", "counter", "Config reloads refused as invalid.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_config_errors_total", NULL, d->config_errors);
	ret = ret ?: xlb_prom_family(w, "xlb_table_rebuilds_total", "counter",
				     "Maglev tables written with changed slots.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_table_rebuilds_total", NULL, d->lb->rebuilds);
	ret = ret ?: xlb_prom_family(w, "xlb_health_transitions_total", "counter", "Backend health changes, by the new state.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_health_transitions_total", L("to", "up"), d->health_ups);
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_health_transitions_total", L("to", "down"), d->health_downs);

	ret = ret ?: block_metrics(d, w);
	ret = ret ?: limits_metrics(d, w);
	ret = ret ?: xlb_prom_family(w, "xlb_passed_packets_total", "counter",
				     "Packets left to the kernel (XDP_PASS), by reason.");
	ret = ret ?: render_class(w, "xlb_passed_packets_total", XLB_STAT_CLASS_PASS, c);
	ret = ret ?: xlb_prom_family(w, "xlb_dropped_packets_total", "counter", "Packets dropped, by reason.");
	ret = ret ?: render_class(w, "xlb_dropped_packets_total", XLB_STAT_CLASS_DROP, c);
	ret = ret ?: xlb_prom_family(w, "xlb_forwarded_packets_total", "counter", "Packets sent to a backend, by action.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_forwarded_packets_total", L("action", "tx"), c[XLB_STAT_TX]);
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_forwarded_packets_total", L("action", "redirect"), c[XLB_STAT_REDIRECT]);
	ret = ret ?: render_conntrack(w, c);
	ret = ret ?: xlb_prom_family(w, "xlb_fragments_total", "counter", "IP fragments forwarded by address hash.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_fragments_total", NULL, c[XLB_STAT_FRAGMENT]);
	ret = ret ?: xlb_prom_family(w, "xlb_icmp_too_big_sent_total", "counter",
				     "Clients told their packet was over the path MTU to the backend.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_icmp_too_big_sent_total", NULL, c[XLB_STAT_ICMP_TOO_BIG]);
	ret = ret ?: xlb_prom_family(w, "xlb_icmp_routed_total", "counter",
				     "Too-big errors about a VIP flow, sent on to the flow's backend.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_icmp_routed_total", NULL, c[XLB_STAT_ICMP_ROUTED]);

	ret = ret ?: render_vip_metrics(d, w);
	ret = ret ?: announce_metrics(d, w);
	return ret ?: render_backend_metrics(d, w);
}
