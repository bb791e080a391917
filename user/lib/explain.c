// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the data plane does with one packet, computed from its maps. Each
 * step follows xlb_process() in bpf/xlb.bpf.c test for test; keep them in
 * step (tests/packet/test_explain.c fails when they drift apart).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "explain.h"
#include "explain_int.h"
#include "syntax.h"
#include "../../bpf/hash.h"

#define NS_PER_SEC 1000000000ULL
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* A map read: 1 found, 0 not there, or a negative errno. */
static int lookup(int fd, const void *key, void *value)
{
	if (!bpf_map_lookup_elem(fd, key, value))
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

/* The program's exact vip_addrs test (is_vip_addr). */
static int vip_addr_lookup(struct xlb_dp *dp, const __be32 addr[4])
{
	struct vip_key key = {};
	struct vip_addr_meta meta;

	memcpy(key.addr, addr, sizeof(key.addr));
	return lookup(dp->vip_addrs_fd, &key, &meta);
}

/* The fast filter (maybe_vip_addr): a missing word reads as clear. */
static int addr_bit_lookup(struct xlb_dp *dp, const __be32 addr[4])
{
	__u32 bit = xlb_addr_bit(addr), word = bit >> 6;
	__u64 bits = 0;
	int err = lookup(dp->vip_addr_bits_fd, &word, &bits);

	if (err < 0)
		return err;
	return err && (bits & (1ULL << (bit & 63))) ? 1 : 0;
}

/* find_vip(): the exact port, then the address's port-0 VIP. */
static int vip_lookup(struct xlb_dp *dp, struct xlb_explain *e)
{
	struct vip_key key = {};
	int err;

	memcpy(key.addr, e->flow.daddr, sizeof(key.addr));
	key.proto = e->flow.proto;
	key.port = e->flow.dport;
	err = lookup(dp->vips_fd, &key, &e->vip);
	if (!err) {
		key.port = 0;
		err = lookup(dp->vips_fd, &key, &e->vip);
	}
	if (err > 0) {
		e->vip_found = 1;
		e->vip_key = key;
	}
	return err < 0 ? err : 0;
}

/* One slot of the VIP's current inner table, as the program reads it. */
int xlb_explain_slot(struct xlb_dp *dp, __u32 vip_id, __u32 slot, __u32 *backend_id)
{
	__u32 inner_id;
	int inner_fd, err, tries;

	/* a table swapped out between the two reads is gone: read the new one */
	for (tries = 0; tries < 3; tries++) {
		err = lookup(dp->maglev_tables_fd, &vip_id, &inner_id);
		if (err <= 0)
			return err;
		inner_fd = bpf_map_get_fd_by_id(inner_id);
		if (inner_fd >= 0) {
			err = lookup(inner_fd, &slot, backend_id);
			close(inner_fd);
			return err;
		}
		if (errno != ENOENT)
			return -errno;
	}
	return -EAGAIN;
}

static int backend_lookup(struct xlb_dp *dp, struct xlb_explain *e, __u32 id)
{
	int err;

	e->backend_id = id;
	err = lookup(dp->backends_fd, &id, &e->be);
	if (err < 0)
		return err;
	e->be_found = err;
	if (!err)
		memset(&e->be, 0, sizeof(e->be));
	e->be_in_service = err && (e->be.flags & XLB_BACKEND_F_KEEP_FLOWS);
	return 0;
}

static void format_secs(__u64 ns, char *buf, size_t len)
{
	snprintf(buf, len, "%llu.%llu s", (unsigned long long)(ns / NS_PER_SEC),
		 (unsigned long long)(ns % NS_PER_SEC / (NS_PER_SEC / 10)));
}

/* Timeouts are whole seconds in practice: "30 s", else "1.5 s". */
static void format_timeout(__u64 ns, char *buf, size_t len)
{
	if (ns % NS_PER_SEC)
		format_secs(ns, buf, len);
	else
		snprintf(buf, len, "%llu s", (unsigned long long)(ns / NS_PER_SEC));
}

static int bare_syn(const struct xlb_explain *e)
{
	return e->flow.proto == IPPROTO_TCP && (e->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
}

/* pick_mode(): a bare SYN or a UDP datagram starts a flow (fragments and ICMP errors: not asked). */
int xlb_explain_starts_flow(const struct xlb_explain *e)
{
	return e->flow.proto != IPPROTO_TCP || bare_syn(e);
}

static int ends_flow(const struct xlb_explain *e)
{
	return e->flow.proto == IPPROTO_TCP && (e->tcp_flags & (TCP_FIN | TCP_RST));
}

/*
 * A probation slot holding another flow still on probation (probation_held()):
 * 1, 0, 2 if it holds this very flow, or -errno.
 */
static int probation_held(struct xlb_dp *dp, const struct xlb_explain *e, __u32 slot,
			  __u32 tick, __u32 *flags)
{
	struct flow_probation p;
	__u64 idle;
	int err = lookup(dp->probation_fd, &slot, &p);

	*flags = 0;
	if (err <= 0)
		return err;
	*flags = p.flags;
	if (!memcmp(&p.key, &e->flow, sizeof(p.key)))
		return 2;
	idle = p.key.proto == IPPROTO_TCP ? e->tcp_idle_ns : e->udp_idle_ns;
	return p.check && XLB_TICK_ALIVE(p.seen, tick, XLB_TIMEOUT_TICKS(idle));
}

/*
 * probation_write(): both of the flow's slots hold other flows still on
 * probation: 1 (one is taken), 2 (both written by a flow's start, and
 * this packet starts none: not written), else 0.
 */
static int probation_taken(struct xlb_dp *dp, const struct xlb_explain *e, __u64 now_ns)
{
	const struct flow_key *k = &e->flow;
	__u32 hash = xlb_hash_entropy(k->saddr, k->daddr, k->sport, k->dport, k->proto);
	__u32 tick = XLB_NS_TO_TICKS(now_ns), fa, fb;
	int a = probation_held(dp, e, xlb_probation_slot(hash, 0), tick, &fa), b;

	if (a < 0)
		return a;
	b = probation_held(dp, e, xlb_probation_slot(hash, 1), tick, &fb);
	if (b < 0)
		return b;
	/* the flow's own slot is taken over without a count; two others' slots: one is */
	if (a != 1 || b != 1)
		return 0;
	/* a packet that starts no flow takes no slot a start wrote: both so, it is busy */
	return !xlb_explain_starts_flow(e) && (fa & fb & XLB_PROBATION_F_START) ? 2 : 1;
}

/* The program's test of an entry: flow_backend() and flow_alive(). 1 usable. */
static int entry_usable(struct xlb_dp *dp, struct xlb_explain *e, const struct flow_state *st,
			__s64 age_ns, __u64 timeout_ns, int expired, char *why, size_t whylen)
{
	char age[24], limit[24];
	int err;

	err = backend_lookup(dp, e, st->backend_id);
	if (err)
		return err;
	if (!e->be_found) {
		snprintf(why, whylen, "backend id %u is out of range", st->backend_id);
	} else if (e->be.gen != st->backend_gen) {
		snprintf(why, whylen, "backend id reused (gen %u now, entry has gen %u)", e->be.gen,
			 st->backend_gen);
	} else if (!(e->be.flags & XLB_BACKEND_F_KEEP_FLOWS)) {
		snprintf(why, whylen, "backend removed or down");
	} else if (expired && age_ns < 0) {
		snprintf(why, whylen, "stamped more than %u ticks after now", XLB_TICK_AHEAD);
	} else if (expired) {
		format_timeout(timeout_ns, limit, sizeof(limit));
		/* just past the limit: show the milliseconds that matter */
		if ((__u64)age_ns / (NS_PER_SEC / 10) == timeout_ns / (NS_PER_SEC / 10))
			snprintf(age, sizeof(age), "%llu.%03llu s",
				 (unsigned long long)(age_ns / NS_PER_SEC),
				 (unsigned long long)(age_ns % NS_PER_SEC / 1000000));
		else
			format_secs((__u64)age_ns, age, sizeof(age));
		snprintf(why, whylen, "idle %s > %s", age, limit);
	} else {
		return 1;
	}
	return 0;
}

/* Tell of this entry: the used one, or the first one met. */
static void entry_tell(struct xlb_explain *e, enum xlb_flow_table table,
		       const struct flow_state *st, __s64 age_ns, int used, const char *why)
{
	if (e->ct_found && !used)
		return;
	e->ct_found = 1;
	e->ct_table = table;
	e->ct = *st;
	e->ct_age_ns = age_ns;
	e->ct_used = used;
	snprintf(e->ct_why, sizeof(e->ct_why), "%s", used ? "" : why);
}

/*
 * flow_lookup(): the family's main table, probation, then an older build's
 * table; an entry is used when its backend exists with the same generation,
 * still keeps flows, and the flow is within its timeout.
 */
static int conntrack_step(struct xlb_dp *dp, struct xlb_explain *e, __u64 now_ns)
{
	__u32 tick = XLB_NS_TO_TICKS(now_ns);
	enum xlb_flow_table table;
	struct flow_state st;
	struct flow_key key = e->flow;
	char why[96];
	__u64 timeout;
	__s64 age;
	__u32 ticks;
	int ok, err, expired;

	e->ct_looked_up = 1;
	for (table = XLB_FLOW_TABLE_MAIN; table <= XLB_FLOW_TABLE_LEGACY; table++) {
		/* the main table's word, even unused, is newer than an older build's; a SYN is new */
		if (table == XLB_FLOW_TABLE_LEGACY && (e->main_stale || bare_syn(e)))
			break;
		if (table == XLB_FLOW_TABLE_LEGACY) {
			struct flow_entry old;

			err = lookup(dp->legacy_ct_fd, &key, &old);
			if (err <= 0)
				return err;
			memset(&st, 0, sizeof(st));
			st.backend_id = old.backend_id;
			st.backend_gen = old.backend_gen;
			st.seen = XLB_NS_TO_TICKS(old.last_seen_ns);
			age = (__s64)(now_ns - old.last_seen_ns); /* in ns, as the program */
			expired = age > (__s64)e->idle_ns;
			timeout = e->idle_ns;
		} else {
			err = xlb_dp_flow_lookup(dp, table, &key, &st);
			if (err == -ENOENT)
				continue;
			if (err)
				return err;
			timeout = st.state == XLB_FLOW_CLOSING ? e->closing_ns : e->idle_ns;
			expired = !XLB_TICK_ALIVE(st.seen, tick, XLB_TIMEOUT_TICKS(timeout));
			/* shown signed: a stamp after ours reads "in the future" */
			ticks = tick - st.seen;
			age = (__s64)(__s32)ticks * (1LL << XLB_TICK_SHIFT);
		}
		ok = entry_usable(dp, e, &st, age, timeout, expired, why, sizeof(why));
		if (ok < 0)
			return ok;
		if (ok && table == XLB_FLOW_TABLE_MAIN && st.state == XLB_FLOW_CLOSING &&
		    bare_syn(e)) {
			entry_tell(e, table, &st, age, 0, "closing, and a SYN starts the tuple again");
			e->ct_reopened = 1;
			e->main_stale = 1;
			break;
		}
		e->main_stale |= table == XLB_FLOW_TABLE_MAIN && !ok;
		entry_tell(e, table, &st, age, ok, why);
		if (ok) {
			e->would_promote = table != XLB_FLOW_TABLE_MAIN &&
					   !(table == XLB_FLOW_TABLE_PROBATION && bare_syn(e));
			/* flow_touch() on an established entry, or promote() */
			e->would_close = ends_flow(e) &&
					 (e->would_promote ||
					  (table == XLB_FLOW_TABLE_MAIN && st.state != XLB_FLOW_CLOSING));
			return 0;
		}
	}
	/* not used: the backend, if any, comes from the table below */
	e->backend_id = XLB_NO_BACKEND;
	e->be_found = 0;
	e->be_in_service = 0;
	memset(&e->be, 0, sizeof(e->be));
	return 0;
}

/* pick_backend(): the flow's (or client's) hash picks a slot of the VIP's table. */
static int pick_step(struct xlb_dp *dp, struct xlb_explain *e, __u64 now_ns)
{
	const struct flow_key *f = &e->flow;
	__u32 id = XLB_NO_BACKEND;
	int err;

	e->hashed = 1;
	e->hash_src_only = e->vip.sched == XLB_SCHED_SOURCE_HASH;
	if (e->hash_src_only)
		e->hash = xlb_hash_addr(f->saddr);
	else
		e->hash = xlb_hash_flow(f->saddr, f->daddr, f->sport, f->dport, f->proto);
	e->slot = e->hash % XLB_MAGLEV_SIZE;
	err = xlb_explain_slot(dp, e->vip.id, e->slot, &id);
	if (err < 0)
		return err;
	e->table_found = err;
	e->table_backend_id = err ? id : XLB_NO_BACKEND;
	if (err && (e->vip.sched > XLB_SCHED_SOURCE_HASH || (e->vip.flags & XLB_VIP_F_PERSIST))) {
		err = xlb_explain_sched(dp, e, now_ns);
		if (err)
			return err;
	}
	return backend_lookup(dp, e, e->table_backend_id);
}

/* forward_l2(): out of the ingress interface, else through the devmap. */
static int forward_step(struct xlb_dp *dp, struct xlb_explain *e)
{
	struct bpf_devmap_val val;
	__u32 ifindex = e->be.ifindex;
	int err;

	if (e->be.flags & XLB_BACKEND_F_ENCAP) {
		struct encap_config enc;

		e->encap = 1;
		err = xlb_dp_encap_get(dp, &enc);
		if (err)
			return err;
		if (!((xlb_addr_is_v4(e->be.addr) ? &enc.v4 : &enc.v6)->flags & XLB_ENCAP_F_SET)) {
			e->action = XDP_DROP;
			e->reason = XLB_STAT_DROP_NO_ENCAP_SRC;
			return 0;
		}
		/* egress, next hop and MTU are the FIB's: told as such, not guessed */
		e->action = XDP_TX;
		e->reason = XLB_STAT_TX;
		return 0;
	}
	e->egress_ifindex = ifindex;
	if (ifindex == e->ingress_ifindex) {
		e->action = XDP_TX;
		e->reason = XLB_STAT_TX;
		return 0;
	}
	err = lookup(dp->tx_ports_fd, &ifindex, &val);
	if (err < 0)
		return err;
	e->action = err ? XDP_REDIRECT : XDP_DROP;
	e->reason = err ? XLB_STAT_REDIRECT : XLB_STAT_DROP_REDIRECT;
	return 0;
}

int xlb_explain(struct xlb_dp *dp, const struct flow_key *flow, __u8 tcp_flags,
		__u32 ingress_ifindex, __u64 now_ns, const struct xlb_explain_timeouts *t,
		struct xlb_explain *out)
{
	struct xlb_explain *e = out;
	int err;

	memset(e, 0, sizeof(*e));
	if (flow->proto != IPPROTO_TCP && flow->proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	if (xlb_addr_is_v4(flow->saddr) != xlb_addr_is_v4(flow->daddr))
		return -EINVAL;
	/* the program builds its key from a zeroed struct: so must we */
	memcpy(e->flow.saddr, flow->saddr, sizeof(e->flow.saddr));
	memcpy(e->flow.daddr, flow->daddr, sizeof(e->flow.daddr));
	e->flow.sport = flow->sport;
	e->flow.dport = flow->dport;
	e->flow.proto = flow->proto;
	e->tcp_flags = flow->proto == IPPROTO_TCP ? tcp_flags : 0;
	e->ingress_ifindex = ingress_ifindex;
	e->idle_ns = flow->proto == IPPROTO_TCP ? t->tcp_idle_ns : t->udp_idle_ns;
	e->tcp_idle_ns = t->tcp_idle_ns;
	e->udp_idle_ns = t->udp_idle_ns;
	e->closing_ns = t->tcp_closing_ns;
	e->action = XDP_PASS;
	e->reason = XLB_STAT_PASS_NON_VIP;

	err = vip_addr_lookup(dp, e->flow.daddr);
	if (err < 0)
		return err;
	e->vip_addr = err;
	err = addr_bit_lookup(dp, e->flow.daddr);
	if (err < 0)
		return err;
	e->addr_bit = err;
	/* classify(): a clear filter bit passes the packet before anything else */
	if (!e->addr_bit)
		return 0;
	/* filter_source(): before any table, with the VIP the packet would find */
	err = vip_lookup(dp, e);
	err = err ?: xlb_explain_filter(dp, e);
	if (err)
		return err;
	if (e->filter.blocked) {
		e->action = XDP_DROP;
		e->reason = XLB_STAT_DROP_BLOCKED;
		return 0;
	}

	err = conntrack_step(dp, e, now_ns);
	/* the program skips the VIP on a used entry: looked up here to tell people */
	err = err ?: vip_lookup(dp, e);
	if (err)
		return err;
	if (e->ct_used)
		return forward_step(dp, e);

	if (!e->vip_found) {
		e->reason = e->vip_addr ? XLB_STAT_PASS_VIP_NO_PORT : XLB_STAT_PASS_NON_VIP;
		return 0;
	}
	/* limit_new_flow(): a flow's first packet from a client not allowlisted */
	if (xlb_explain_starts_flow(e) && !e->filter.allowed) {
		err = xlb_explain_limits(dp, e, now_ns);
		if (err)
			return err;
		if (e->filter.drop) {
			e->action = XDP_DROP;
			e->reason = e->filter.drop;
			return 0;
		}
	}
	err = pick_step(dp, e, now_ns);
	if (err)
		return err;
	if (!e->be_found || e->backend_id == XLB_NO_BACKEND || !e->be_in_service) {
		e->action = XDP_DROP;
		e->reason = XLB_STAT_DROP_NO_BACKEND;
		return 0;
	}
	/* a stateful scheduler's flow is written by its first packet only */
	if (XLB_SCHED_STATEFUL(e->vip.sched) && !xlb_explain_starts_flow(e)) {
		e->sched.midflow = 1;
		return forward_step(dp, e);
	}
	/* flow_restart() over an unused main entry, else probation_write(), a SYN too */
	e->would_insert = 1;
	e->would_close = e->main_stale && ends_flow(e);
	if (!e->main_stale) {
		err = probation_taken(dp, e, now_ns);
		if (err < 0)
			return err;
		e->probation_overwrite = err == 1;
		if (err == 2) {
			e->would_insert = 0;
			e->probation_busy = 1;
		}
	}
	return forward_step(dp, e);
}

__u64 xlb_explain_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

const char *xlb_explain_action_name(int action)
{
	switch (action) {
	case XDP_ABORTED:
		return "XDP_ABORTED";
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_TX:
		return "XDP_TX";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	default:
		return "?";
	}
}

static const char *const step_names[XLB_EXPLAIN_STEPS] = {
	"vip", "conntrack", "hash", "maglev", "backend", "action",
};

static const char *step_name(const struct xlb_explain *e, int i)
{
	return i == 3 && e->sched.used ? "sched" : step_names[i];
}

static int forwarded(const struct xlb_explain *e)
{
	return e->action == XDP_TX || e->action == XDP_REDIRECT ||
	       e->reason == XLB_STAT_DROP_REDIRECT || e->encap;
}

/* "198.18.100.10:80/tcp" for the packet's destination */
static void format_dest(const struct xlb_explain *e, char *buf, size_t len)
{
	struct vip_key key = { .port = e->flow.dport, .proto = e->flow.proto };

	memcpy(key.addr, e->flow.daddr, sizeof(key.addr));
	xlb_format_vip(&key, buf, len);
}

/* Why steps 3-5 did not run. */
static const char *skipped(const struct xlb_explain *e)
{
	if (e->filter.blocked)
		return "skipped, the source is blocked";
	if (e->filter.drop)
		return "skipped, the client is over its limit";
	if (e->ct_used)
		return "skipped, the connection-table entry decides";
	if (!e->vip_addr || !e->addr_bit)
		return "skipped, not a VIP address";
	return "skipped, no VIP";
}

static void step_vip(const struct xlb_explain *e, char *buf, size_t len)
{
	char dest[XLB_VIP_STR_MAX], vip[XLB_VIP_STR_MAX];

	format_dest(e, dest, sizeof(dest));
	if (!e->addr_bit) {
		snprintf(buf, len, "1. vip: %s: not a VIP address%s", dest,
			 e->vip_addr ? " (yet its filter bit is clear)" : "");
	} else if (!e->vip_addr && !e->vip_found) {
		snprintf(buf, len, "1. vip: %s: not a VIP address (shares a filter bit with one)",
			 dest);
	} else if (!e->vip_found) {
		snprintf(buf, len, "1. vip: %s: VIP address, but no VIP for this port/protocol",
			 dest);
	} else {
		xlb_format_vip(&e->vip_key, vip, sizeof(vip));
		snprintf(buf, len, "1. vip: %s -> VIP %s (id %u, %s%s, %s)", dest, vip,
			 e->vip.id, e->vip_key.port ? "" : "every port, ",
			 xlb_sched_name(e->vip.sched), xlb_forward_name(e->vip.forward));
	}
	if (e->filter.allowed || e->filter.blocked || e->filter.limited) {
		size_t at = strlen(buf);

		if (at < len)
			xlb_explain_filter_text(e, buf + at, len - at);
	}
}

static void step_conntrack(const struct xlb_explain *e, char *buf, size_t len)
{
	char seen[48], age[24];

	if (!e->ct_looked_up) {
		snprintf(buf, len, "2. conntrack: not looked up (not a VIP address)");
		return;
	}
	if (!e->ct_found) {
		snprintf(buf, len, "2. conntrack: no entry");
		return;
	}
	if ((__s64)e->ct_age_ns < 0) {
		format_secs(-e->ct_age_ns, age, sizeof(age));
		snprintf(seen, sizeof(seen), "%s in the future", age);
	} else {
		format_secs(e->ct_age_ns, age, sizeof(age));
		snprintf(seen, sizeof(seen), "%s ago", age);
	}
	if (e->ct_used)
		snprintf(buf, len, "2. conntrack: %s entry -> backend id %u (gen %u)%s, last seen %s: used",
			 xlb_flow_table_name(e->ct_table), e->ct.backend_id, e->ct.backend_gen,
			 e->ct.state == XLB_FLOW_CLOSING ? ", closing" : "", seen);
	else
		snprintf(buf, len,
			 "2. conntrack: %s entry -> backend id %u (gen %u)%s, last seen %s: not used, %s",
			 xlb_flow_table_name(e->ct_table), e->ct.backend_id, e->ct.backend_gen,
			 e->ct.state == XLB_FLOW_CLOSING ? ", closing" : "", seen, e->ct_why);
}

static void step_hash(const struct xlb_explain *e, char *buf, size_t len)
{
	char addr[XLB_ADDR_STR_MAX];

	if (!e->hashed) {
		snprintf(buf, len, "3. hash: %s", skipped(e));
	} else if (e->hash_src_only) {
		xlb_format_addr(e->flow.saddr, addr, sizeof(addr));
		snprintf(buf, len, "3. hash: client address %s -> 0x%08x", addr, e->hash);
	} else {
		snprintf(buf, len, "3. hash: 5-tuple -> 0x%08x", e->hash);
	}
}

static void step_maglev(const struct xlb_explain *e, char *buf, size_t len)
{
	char pick[32];

	if (!e->hashed) {
		snprintf(buf, len, "4. maglev: %s", skipped(e));
		return;
	}
	if (!e->table_found) {
		snprintf(buf, len, "4. maglev: VIP id %u has no table", e->vip.id);
		return;
	}
	if (e->table_backend_id == XLB_NO_BACKEND)
		snprintf(pick, sizeof(pick), "empty slot");
	else
		snprintf(pick, sizeof(pick), "backend id %u", e->table_backend_id);
	snprintf(buf, len, "4. maglev: slot 0x%08x %% %u = %u -> %s", e->hash,
		 XLB_MAGLEV_SIZE, e->slot, pick);
}

static void step_backend(const struct xlb_explain *e, char *buf, size_t len)
{
	char addr[XLB_ADDR_STR_MAX], mac[24];

	if (!e->ct_used && !e->hashed) {
		snprintf(buf, len, "5. backend: %s", skipped(e));
	} else if (e->backend_id == XLB_NO_BACKEND) {
		snprintf(buf, len, "5. backend: none");
	} else if (!e->be_found) {
		snprintf(buf, len, "5. backend: id %u is out of range", e->backend_id);
	} else {
		xlb_format_addr(e->be.addr, addr, sizeof(addr));
		xlb_format_mac(e->be.mac, mac, sizeof(mac));
		if (e->be_in_service)
			snprintf(buf, len, "5. backend: %s (id %u), in service, MAC %s", addr,
				 e->backend_id, mac);
		else
			snprintf(buf, len, "5. backend: %s (id %u), not in service", addr,
				 e->backend_id);
	}
}

static const char *entry_effect(const struct xlb_explain *e)
{
	if (e->would_promote)
		return "seen again: moved to the main table";
	if (e->would_insert && e->main_stale)
		return "main-table entry rewritten with the new pick";
	if (e->ct_used)
		return e->ct_table == XLB_FLOW_TABLE_PROBATION ? "still on probation" :
								 "connection-table entry refreshed";
	if (e->sched.midflow)
		return "not a flow's first packet: nothing written (ct_miss_midflow)";
	if (e->probation_busy)
		return "both probation slots held by handshakes: not written (ct_probation_busy)";
	return "new flow: on probation until seen again";
}

static void step_action(const struct xlb_explain *e, const char *ifname, char *buf,
			size_t len)
{
	char dst[24], src[24], name[IF_NAMESIZE + 16];

	if (!forwarded(e)) {
		const char *why = e->reason == XLB_STAT_PASS_VIP_NO_PORT ?
					  "no VIP for this port/protocol" :
				  e->reason == XLB_STAT_DROP_NO_BACKEND ?
					  "no backend in service" :
					  "not a VIP address";

		snprintf(buf, len, "6. action: %s%s (%s: %s)",
			 xlb_explain_action_name(e->action),
			 e->action == XDP_PASS ? " to the host's stack" : "",
			 xlb_stat_names[e->reason], why);
		return;
	}
	if (e->encap) {
		char addr[XLB_ADDR_STR_MAX];

		xlb_format_addr(e->be.addr, addr, sizeof(addr));
		if (e->reason == XLB_STAT_DROP_NO_ENCAP_SRC) {
			snprintf(buf, len, "6. action: XDP_DROP (drop_no_encap_source: no encap_source "
				 "for the backend %s's family)", addr);
			return;
		}
		snprintf(buf, len, "6. action: encapsulate (%s) to %s; egress, next hop and "
			 "MTU from the kernel's FIB (kept per backend for 100 ms); %s",
			 xlb_addr_is_v4(e->be.addr) ? "IPIP" :
			 xlb_addr_is_v4(e->flow.daddr) ? "4in6" : "IP6IP6",
			 addr, entry_effect(e));
		return;
	}
	if (ifname)
		snprintf(name, sizeof(name), "%s", ifname);
	else if (!if_indextoname(e->egress_ifindex, name))
		snprintf(name, sizeof(name), "ifindex %u", e->egress_ifindex);
	xlb_format_mac(e->be.mac, dst, sizeof(dst));
	xlb_format_mac(e->be.src_mac, src, sizeof(src));
	if (e->action == XDP_TX)
		snprintf(buf, len, "6. action: rewrite MACs to %s from %s, XDP_TX back out of %s; %s",
			 dst, src, name, entry_effect(e));
	else if (e->action == XDP_REDIRECT)
		snprintf(buf, len,
			 "6. action: rewrite MACs to %s from %s, XDP_REDIRECT out of %s (ifindex %u); %s",
			 dst, src, name, e->egress_ifindex, entry_effect(e));
	else
		snprintf(buf, len,
			 "6. action: XDP_DROP (drop_redirect: egress %s, ifindex %u, is not in tx_ports); %s",
			 name, e->egress_ifindex, entry_effect(e));
}

void xlb_explain_step(const struct xlb_explain *e, int i, const char *egress_ifname,
		      char *buf, size_t len)
{
	switch (i) {
	case 0:
		step_vip(e, buf, len);
		break;
	case 1:
		step_conntrack(e, buf, len);
		break;
	case 2:
		step_hash(e, buf, len);
		break;
	case 3:
		if (e->sched.used)
			xlb_explain_sched_step(e, buf, len);
		else
			step_maglev(e, buf, len);
		break;
	case 4:
		step_backend(e, buf, len);
		break;
	case 5:
		step_action(e, egress_ifname, buf, len);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
}

/* Each adder owns val: on failure it is released, and NULL is ENOMEM unless !have. */
static int add_val(struct json_object *obj, const char *key, int have,
		   struct json_object *val)
{
	if (have && !val)
		return -ENOMEM;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static int add_str(struct json_object *obj, const char *key, int have, const char *s)
{
	return add_val(obj, key, have, have ? json_object_new_string(s) : NULL);
}

static int add_int(struct json_object *obj, const char *key, int have, __s64 v)
{
	return add_val(obj, key, have, have ? json_object_new_int64(v) : NULL);
}

static int add_bool(struct json_object *obj, const char *key, int b)
{
	return add_val(obj, key, 1, json_object_new_boolean(b));
}

static struct json_object *conntrack_json(const struct xlb_explain *e)
{
	struct json_object *ct = json_object_new_object();
	int err = !ct;

	err = err ?: add_int(ct, "backend_id", 1, e->ct.backend_id);
	err = err ?: add_int(ct, "backend_gen", 1, e->ct.backend_gen);
	err = err ?: add_str(ct, "table", 1, xlb_flow_table_name(e->ct_table));
	err = err ?: add_str(ct, "state", 1, e->ct.state == XLB_FLOW_CLOSING ? "closing" : "established");
	err = err ?: add_int(ct, "age_ms", 1, (__s64)e->ct_age_ns / 1000000);
	err = err ?: add_bool(ct, "used", e->ct_used);
	err = err ?: add_str(ct, "why", !e->ct_used, e->ct_why);
	if (err) {
		json_object_put(ct);
		return NULL;
	}
	return ct;
}

static struct json_object *steps_json(const struct xlb_explain *e, const char *ifname)
{
	struct json_object *steps = json_object_new_array(), *step;
	char line[XLB_EXPLAIN_LINE_MAX];
	int i, err = !steps;

	for (i = 0; i < XLB_EXPLAIN_STEPS && !err; i++) {
		xlb_explain_step(e, i, ifname, line, sizeof(line));
		step = json_object_new_object();
		err = !step;
		err = err ?: add_str(step, "step", 1, step_name(e, i));
		err = err ?: add_str(step, "text", 1, line);
		if (!err && json_object_array_add(steps, step))
			err = -ENOMEM;
		if (err)
			json_object_put(step);
	}
	if (err) {
		json_object_put(steps);
		return NULL;
	}
	return steps;
}

struct json_object *xlb_explain_json(const struct xlb_explain *e,
				     const char *egress_ifname)
{
	char src[XLB_ADDR_STR_MAX + 8], addr[XLB_ADDR_STR_MAX], dest[XLB_VIP_STR_MAX];
	char vip[XLB_VIP_STR_MAX], hash[16];
	struct json_object *obj = json_object_new_object();
	int have_be = (e->ct_used || e->hashed) && e->backend_id != XLB_NO_BACKEND;
	int v4 = xlb_addr_is_v4(e->flow.saddr), err = !obj;

	xlb_format_addr(e->flow.saddr, addr, sizeof(addr));
	snprintf(src, sizeof(src), "%s%s%s:%u", v4 ? "" : "[", addr, v4 ? "" : "]",
		 ntohs(e->flow.sport));
	format_dest(e, dest, sizeof(dest));
	xlb_format_vip(&e->vip_key, vip, sizeof(vip));
	xlb_format_addr(e->be.addr, addr, sizeof(addr));
	snprintf(hash, sizeof(hash), "0x%08x", e->hash);

	err = err ?: add_str(obj, "src", 1, src);
	err = err ?: add_str(obj, "dst", 1, dest);
	err = err ?: add_val(obj, "steps", 1, steps_json(e, egress_ifname));
	err = err ?: add_str(obj, "vip", e->vip_found, vip);
	err = err ?: add_int(obj, "vip_id", e->vip_found, e->vip.id);
	err = err ?: add_str(obj, "backend", have_be && e->be_found, addr);
	err = err ?: add_int(obj, "backend_id", have_be, e->backend_id);
	err = err ?: add_str(obj, "action", 1, xlb_explain_action_name(e->action));
	err = err ?: add_str(obj, "reason", 1, xlb_stat_names[e->reason]);
	err = err ?: add_str(obj, "hash", e->hashed, hash);
	err = err ?: add_int(obj, "slot", e->hashed, e->slot);
	err = err ?: add_val(obj, "conntrack", e->ct_found,
			     e->ct_found ? conntrack_json(e) : NULL);
	err = err ?: add_bool(obj, "new_entry", e->would_insert);
	err = err ?: add_bool(obj, "promoted", e->would_promote);
	if (e->sched.used)
		err = err ?: add_val(obj, "sched", 1, xlb_explain_sched_json(e));
	if (e->filter.allowed || e->filter.blocked || e->filter.limited)
		err = err ?: add_val(obj, "filter", 1, xlb_explain_filter_json(e));
	if (err) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}
