// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Explain's step 4 for the schedulers of bpf/sched.h, test for test in its
 * order: the client prefix's persist entry, then the scheduler. rr and wrr
 * depend on the CPU that takes the packet: every CPU's next slot is told,
 * and CPU 0's is the answer. lc, wlc and lt add the picks less closes
 * since xlbd's last count, from the first CPU's view of the epoch.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "explain_int.h"
#include "syntax.h"

#define TICK_NS (1ull << XLB_TICK_SHIFT)

/* The program's persist_key_of(). */
static void persist_key(const struct xlb_explain *e, struct persist_key *k)
{
	/* the packet's family: an IPv6 VIP's is never v4-mapped, a client's may be */
	__u32 bits = xlb_addr_is_v4(e->flow.daddr) ? 96 + e->sched.settings.persist_prefix4 :
						     e->sched.settings.persist_prefix6;

	memset(k, 0, sizeof(*k));
	k->vip_id = e->vip.id;
	xlb_addr_mask(e->flow.saddr, bits, k->addr);
}

static int persist_step(struct xlb_dp *dp, struct xlb_explain *e, __u32 tick)
{
	struct xlb_explain_sched *s = &e->sched;
	struct backend be;
	int err;

	s->persist = 1;
	err = xlb_dp_vip_sched_get(dp, e->vip.id, &s->settings);
	if (err)
		return err;
	persist_key(e, &s->pkey);
	err = xlb_dp_persist_get(dp, &s->pkey, &s->pe);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	s->persist_found = 1;
	s->persist_age_ns = (__s64)(__s32)(tick - s->pe.seen) * (__s64)TICK_NS;
	if (!XLB_TICK_ALIVE(s->pe.seen, tick, s->settings.persist_ticks)) {
		s->persist_why = "expired";
		return 0;
	}
	err = xlb_dp_backend_get(dp, s->pe.backend_id, &be);
	if (err && err != -ENOENT)
		return err;
	if (err || be.gen != s->pe.backend_gen || be.vip_id != e->vip.id)
		s->persist_why = "its backend is gone";
	else if (!(be.flags & XLB_BACKEND_F_NEW_FLOWS))
		s->persist_why = "its backend takes no new flows";
	else
		s->persist_used = 1;
	return 0;
}

static int rotation_step(struct xlb_dp *dp, struct xlb_explain *e)
{
	struct xlb_explain_sched *s = &e->sched;
	__u64 *cursors = calloc(dp->ncpus, sizeof(*cursors));
	__u32 i, id;
	int err;

	if (!cursors)
		return -ENOMEM;
	err = xlb_dp_sched_cursors(dp, e->vip.id, cursors);
	s->ncpus = dp->ncpus < XLB_EXPLAIN_CPUS ? dp->ncpus : XLB_EXPLAIN_CPUS;
	for (i = 0; !err && i < s->ncpus; i++) {
		s->cursor[i] = cursors[i] >= XLB_MAGLEV_SIZE ? 0 : (__u32)cursors[i];
		id = XLB_NO_BACKEND;
		err = xlb_explain_slot(dp, e->vip.id, s->cursor[i], &id);
		err = err < 0 ? err : 0;
		s->next_id[i] = id;
	}
	free(cursors);
	if (err)
		return err;
	e->slot = s->cursor[0];
	e->table_backend_id = s->next_id[0];
	return 0;
}

static int load_of(struct xlb_dp *dp, __u32 id, struct xlb_load *out)
{
	struct backend_load l = {};
	__u64 pending = 0;
	__s64 since = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = xlb_dp_backend_load_get(dp, id, &l);
	err = err ?: xlb_dp_backend_pending(dp, id, l.epoch, &pending, &since);
	out->flows = since >= 0 ? l.flows + (__u64)since :
		     l.flows > (__u64)-since ? l.flows - (__u64)-since : 0;
	out->rate = l.rate;
	out->flow_rate = l.flow_rate;
	out->pending = pending;
	out->weight = l.weight;
	return err;
}

/* The program's least_of_two(). */
static int two_choices_step(struct xlb_dp *dp, struct xlb_explain *e)
{
	struct xlb_explain_sched *s = &e->sched;
	__u32 a = e->table_backend_id, b = XLB_NO_BACKEND, slot, i;
	int err;

	e->slot = xlb_p2c_slot(e->hash, 0);
	err = xlb_explain_slot(dp, e->vip.id, e->slot, &a);
	if (err <= 0)
		a = XLB_NO_BACKEND;
	slot = xlb_p2c_slot(e->hash, 1);
	for (i = 0; err >= 0 && i < XLB_P2C_PROBES; i++) {
		b = XLB_NO_BACKEND;
		err = xlb_explain_slot(dp, e->vip.id, slot, &b);
		s->slot_b = slot;
		if (b != a)
			break;
		slot = slot + 1 < XLB_MAGLEV_SIZE ? slot + 1 : 0;
	}
	if (err < 0)
		return err;
	s->cand[0] = a;
	s->cand[1] = b == a ? XLB_NO_BACKEND : b;
	e->table_backend_id = a;
	if (a == XLB_NO_BACKEND)
		return 0;
	err = load_of(dp, a, &s->load[0]);
	if (!err && s->cand[1] != XLB_NO_BACKEND) {
		err = load_of(dp, b, &s->load[1]);
		if (!err && !xlb_load_first_wins(e->vip.sched, &s->load[0], &s->load[1]))
			e->table_backend_id = b;
	}
	return err;
}

int xlb_explain_sched(struct xlb_dp *dp, struct xlb_explain *e, __u64 now_ns)
{
	int err;

	e->sched.used = 1;
	if (e->vip.flags & XLB_VIP_F_PERSIST) {
		err = persist_step(dp, e, XLB_NS_TO_TICKS(now_ns));
		if (err)
			return err;
		if (e->sched.persist_used) {
			e->table_backend_id = e->sched.pe.backend_id;
			return 0;
		}
	}
	if (!xlb_explain_starts_flow(e)) {
		e->sched.peek = 1;
		return 0; /* the hash's slot, as step 4 read it */
	}
	switch (e->vip.sched) {
	case XLB_SCHED_RR:
	case XLB_SCHED_WRR:
		err = rotation_step(dp, e);
		break;
	case XLB_SCHED_LC:
	case XLB_SCHED_WLC:
	case XLB_SCHED_LT:
		err = two_choices_step(dp, e);
		break;
	default:
		err = 0; /* the hash's slot, as step 4 read it */
	}
	e->sched.persist_write = !err && e->sched.persist && e->table_backend_id != XLB_NO_BACKEND;
	return err;
}

static int put(char *buf, size_t len, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= len)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	*at += n > 0 ? (size_t)n : 0;
	return 0;
}

static void persist_text(const struct xlb_explain *e, char *buf, size_t len, size_t *at)
{
	const struct xlb_explain_sched *s = &e->sched;
	char addr[XLB_ADDR_STR_MAX], dur[24];
	int v4 = xlb_addr_is_v4(e->flow.daddr);

	xlb_format_addr(s->pkey.addr, addr, sizeof(addr));
	/* ticks are 16.8 ms: the duration as configured, to the second */
	xlb_format_duration_ms(((__u64)s->settings.persist_ticks * TICK_NS / 1000000 + 500) /
				       1000 * 1000, dur, sizeof(dur));
	put(buf, len, at, "persist %s/%u (%s): ", addr,
	    v4 ? s->settings.persist_prefix4 : s->settings.persist_prefix6, dur);
	if (!s->persist_found)
		put(buf, len, at, "no entry; ");
	else
		put(buf, len, at, "entry -> backend id %u, last new flow %.1fs ago%s%s%s", s->pe.backend_id,
		    (double)s->persist_age_ns / 1e9, s->persist_used ? ": used " : ": not used, ",
		    s->persist_used ? "" : s->persist_why, s->persist_used ? "" : "; ");
}

static void load_text(const struct xlb_explain *e, int i, char *buf, size_t len, size_t *at)
{
	const struct xlb_load *l = &e->sched.load[i];

	put(buf, len, at, "backend id %u (%llu flows", e->sched.cand[i],
	    (unsigned long long)l->flows);
	if (e->vip.sched == XLB_SCHED_LT)
		put(buf, len, at, ", %llu B/s", (unsigned long long)xlb_load_rate(l));
	if (e->vip.sched != XLB_SCHED_LC)
		put(buf, len, at, ", weight %u", l->weight);
	put(buf, len, at, ")");
}

void xlb_explain_sched_step(const struct xlb_explain *e, char *buf, size_t len)
{
	const struct xlb_explain_sched *s = &e->sched;
	size_t at = 0;
	__u32 i;

	put(buf, len, &at, "4. sched: ");
	if (s->persist)
		persist_text(e, buf, len, &at);
	if (s->persist_used) {
		put(buf, len, &at, "-> backend id %u", e->table_backend_id);
		return;
	}
	put(buf, len, &at, "%s: ", xlb_sched_name(e->vip.sched));
	if (s->peek && e->vip.sched > XLB_SCHED_SOURCE_HASH) {
		put(buf, len, &at, "not a flow's first packet, not scheduled: slot 0x%08x %% %u = %u "
		    "-> backend id %u", e->hash, XLB_MAGLEV_SIZE, e->slot, e->table_backend_id);
		return;
	}
	switch (e->vip.sched) {
	case XLB_SCHED_RR:
	case XLB_SCHED_WRR:
		put(buf, len, &at, "next slot");
		for (i = 0; i < s->ncpus; i++)
			put(buf, len, &at, "%s cpu%u %u -> backend id %u", i ? "," : "", i,
			    s->cursor[i], s->next_id[i]);
		break;
	case XLB_SCHED_LC:
	case XLB_SCHED_WLC:
	case XLB_SCHED_LT:
		if (s->cand[0] == XLB_NO_BACKEND) {
			put(buf, len, &at, "slot %u is empty", e->slot);
			break;
		}
		put(buf, len, &at, "slot %u -> ", e->slot);
		load_text(e, 0, buf, len, &at);
		if (s->cand[1] == XLB_NO_BACKEND) {
			put(buf, len, &at, ", no second candidate -> backend id %u",
			    e->table_backend_id);
			break;
		}
		put(buf, len, &at, " vs slot %u -> ", s->slot_b);
		load_text(e, 1, buf, len, &at);
		put(buf, len, &at, " -> backend id %u", e->table_backend_id);
		break;
	default:
		put(buf, len, &at, "slot 0x%08x %% %u = %u -> backend id %u", e->hash,
		    XLB_MAGLEV_SIZE, e->slot, e->table_backend_id);
	}
}

static void add_u(struct json_object *o, const char *k, __u64 v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

struct json_object *xlb_explain_sched_json(const struct xlb_explain *e)
{
	const struct xlb_explain_sched *s = &e->sched;
	struct json_object *o = json_object_new_object(), *p, *arr, *c;
	__u32 i;

	if (!o)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(xlb_sched_name(e->vip.sched)));
	if (s->persist) {
		p = json_object_new_object();
		add_u(p, "timeout_ms", (__u64)s->settings.persist_ticks * TICK_NS / 1000000);
		json_object_object_add(p, "found", json_object_new_boolean(s->persist_found));
		json_object_object_add(p, "used", json_object_new_boolean(s->persist_used));
		if (s->persist_found) {
			add_u(p, "backend_id", s->pe.backend_id);
			add_u(p, "age_ms", s->persist_age_ns > 0 ? (__u64)s->persist_age_ns / 1000000 : 0);
		}
		if (s->persist_why)
			json_object_object_add(p, "why", json_object_new_string(s->persist_why));
		json_object_object_add(o, "persist", p);
	}
	if (s->ncpus) {
		arr = json_object_new_array();
		for (i = 0; i < s->ncpus; i++) {
			c = json_object_new_object();
			add_u(c, "cpu", i);
			add_u(c, "slot", s->cursor[i]);
			add_u(c, "backend_id", s->next_id[i]);
			json_object_array_add(arr, c);
		}
		json_object_object_add(o, "next", arr);
	}
	if (s->cand[0] != XLB_NO_BACKEND && e->vip.sched >= XLB_SCHED_LC) {
		arr = json_object_new_array();
		for (i = 0; i < 2 && s->cand[i] != XLB_NO_BACKEND; i++) {
			c = json_object_new_object();
			add_u(c, "slot", i ? s->slot_b : e->slot);
			add_u(c, "backend_id", s->cand[i]);
			add_u(c, "flows", s->load[i].flows);
			add_u(c, "rate", xlb_load_rate(&s->load[i]));
			add_u(c, "weight", s->load[i].weight);
			json_object_array_add(arr, c);
		}
		json_object_object_add(o, "candidates", arr);
	}
	add_u(o, "backend_id", e->table_backend_id);
	return o;
}
