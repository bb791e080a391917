/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The explain tests' (test_explain, test_explain_random) check of one
 * packet: xlb_explain() computes the explanation first, from the maps,
 * then the packet goes through BPF_PROG_TEST_RUN, and the verdict, the
 * MACs written, the counters that moved and the connection-table entry
 * left behind must all be what the explanation said. Asserting: include
 * after cmocka.h.
 */
#ifndef XLB_TEST_EXPLAIN_ASSERT_H
#define XLB_TEST_EXPLAIN_ASSERT_H

#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>
#include <bpf/bpf.h>
#include "../../user/lib/explain.h"
#include "../../user/lib/explain_int.h"
#include "../../user/lib/syntax.h"
#include "../../bpf/hash.h"
#include "fixture_assert.h"

#define NS FIXTURE_NS
#define TCP_IDLE FIXTURE_TCP_IDLE
#define UDP_IDLE FIXTURE_UDP_IDLE
#define LB_MAC FIXTURE_LB_MAC
#define CLIENT_MAC 0x01
#define SYN 0x02
#define ACK 0x10

/* ---- the world: VIPs and backends ---- */

static inline struct vip_key add_vip(const char *addr, __u16 port, __u8 proto, __u8 sched)
{
	return fx_vip(&F, addr, port, proto, sched, XLB_FWD_L2DSR);
}

static inline __u32 add_backend_on(const struct vip_key *k, const char *addr, __u8 mac_last,
				   __u32 ifindex)
{
	return fx_backend(&F, k, addr, mac_last, ifindex);
}

static inline __u32 add_backend(const struct vip_key *k, const char *addr, __u8 mac_last)
{
	return fx_backend(&F, k, addr, mac_last, FIXTURE_LO);
}

static inline __u32 egress_ifindex(const char *name)
{
	__u32 ifindex = if_nametoindex(name);

	if (!ifindex)
		fail_msg("no interface %s: run inside the namespace tests/run.sh makes", name);
	return ifindex;
}

/* ---- one packet: explain, send, compare ---- */

struct tflow {
	int family;
	__u8 proto;
	__u8 flags; /* TCP flags; 0 for UDP */
	__u16 sport, dport;
	char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN];
	/* well-formed variations the outcome must not depend on */
	int nvlan, ip_opt_words, ext_hdrs, payload;
};

struct counts {
	unsigned int total, ct_used, ct_unused, ct_none, pass, drop;
	unsigned int tx, redirect, drop_redirect, drop_no_backend, pass_non_vip,
		pass_no_port, collision, port0, src_hash, inserted, promoted,
		probation_used, closing, rewritten, reopened, why_gen, why_down, why_idle;
};

static inline int run(const __u8 *in, size_t len, __u8 *out, __u32 *out_len)
{
	return fixture_run(&F, in, len, out, out_len);
}

static inline void flow_key_of(const struct tflow *f, struct flow_key *key)
{
	memset(key, 0, sizeof(*key));
	assert_int_equal(addr_parse16(f->saddr, key->saddr), 0);
	assert_int_equal(addr_parse16(f->daddr, key->daddr), 0);
	key->sport = htons(f->sport);
	key->dport = htons(f->dport);
	key->proto = f->proto;
}

static inline int explain(const struct tflow *f, struct xlb_explain *e)
{
	struct flow_key key;

	flow_key_of(f, &key);
	return xlb_explain(&F.dp, &key, f->flags, FIXTURE_LO, *fixture_clock(&F),
			   &FIXTURE_TIMEOUTS, e);
}

/* The entry the data plane would find first, and in which table. */
static inline int ct_get(const struct flow_key *key, struct flow_state *entry,
			 enum xlb_flow_table *table)
{
	memset(entry, 0, sizeof(*entry));
	return !xlb_dp_flow_get(&F.dp, key, entry, table);
}

static inline void print_explain(const struct xlb_explain *e)
{
	char line[XLB_EXPLAIN_LINE_MAX];
	int i;

	for (i = 0; i < XLB_EXPLAIN_STEPS; i++) {
		xlb_explain_step(e, i, NULL, line, sizeof(line));
		print_message("#   %s\n", line);
	}
}

/* Show the packet and the explanation, then fail. */
static inline void disagree(const struct tflow *f, const struct xlb_explain *e, const char *what)
{
	print_message("# %s %s:%u -> %s:%u proto %u flags 0x%02x vlan %d opt %d ext %d\n",
		      what, f->saddr, f->sport, f->daddr, f->dport, f->proto, f->flags,
		      f->nvlan, f->ip_opt_words, f->ext_hdrs);
	print_explain(e);
	fail_msg("explain and the data plane disagree: %s", what);
}

static inline void tally(const struct xlb_explain *e, int had_entry, struct counts *c)
{
	c->total++;
	if (e->ct_used)
		c->ct_used++;
	else if (had_entry)
		c->ct_unused++;
	else
		c->ct_none++;
	c->pass += e->action == XDP_PASS;
	c->drop += e->action == XDP_DROP;
	c->tx += e->reason == XLB_STAT_TX;
	c->redirect += e->reason == XLB_STAT_REDIRECT;
	c->drop_redirect += e->reason == XLB_STAT_DROP_REDIRECT;
	c->drop_no_backend += e->reason == XLB_STAT_DROP_NO_BACKEND;
	c->pass_non_vip += e->reason == XLB_STAT_PASS_NON_VIP;
	c->pass_no_port += e->reason == XLB_STAT_PASS_VIP_NO_PORT;
	c->collision += e->addr_bit && !e->vip_addr;
	c->port0 += e->vip_found && !e->vip_key.port;
	c->src_hash += e->hashed && e->hash_src_only;
	c->inserted += e->would_insert && !e->main_stale;
	c->rewritten += e->would_insert && e->main_stale;
	c->promoted += e->would_promote;
	c->probation_used += e->ct_used && e->ct_table == XLB_FLOW_TABLE_PROBATION;
	c->closing += e->would_close;
	c->reopened += e->ct_reopened;
	c->why_gen += had_entry && !!strstr(e->ct_why, "reused");
	c->why_down += had_entry && !!strstr(e->ct_why, "removed or down");
	c->why_idle += had_entry && !!strstr(e->ct_why, "idle");
}

static inline int table_get(enum xlb_flow_table t, const struct flow_key *key,
			    struct flow_state *st)
{
	memset(st, 0, sizeof(*st));
	return !xlb_dp_flow_lookup(&F.dp, t, key, st);
}

/* The counters one packet moves, as the explanation has them. */
static inline __u64 counter_want(const struct xlb_explain *e, __u32 i)
{
	int main_used = e->ct_used && e->ct_table == XLB_FLOW_TABLE_MAIN;
	int prob_used = e->ct_used && e->ct_table == XLB_FLOW_TABLE_PROBATION;

	return i == e->reason || (i == XLB_STAT_CT_HIT && main_used) ||
	       (i == XLB_STAT_CT_MISS && (e->hashed || e->filter.drop)) ||
	       (i == XLB_STAT_ALLOWED && e->filter.allowed) ||
	       (i == XLB_STAT_CT_PROBATION_HIT && prob_used) ||
	       (i == XLB_STAT_CT_PROMOTED && e->would_promote && prob_used) ||
	       (i == XLB_STAT_CT_LEGACY_HIT && e->would_promote && !prob_used) ||
	       (i == XLB_STAT_CT_CLOSING && e->would_close) ||
	       (i == XLB_STAT_CT_REOPENED && e->ct_reopened) ||
	       (i == XLB_STAT_CT_PROBATION_OVERWRITE && e->probation_overwrite) ||
	       (i == XLB_STAT_CT_PROBATION_BUSY && e->probation_busy) ||
	       (i == XLB_STAT_CT_MISS_MIDFLOW && e->sched.midflow) ||
	       (i == XLB_STAT_PERSIST_HIT && e->sched.persist_used && xlb_explain_starts_flow(e)) ||
	       (i == XLB_STAT_PERSIST_WRITE && e->sched.persist_write);
}

static inline void check_flow(const struct tflow *f, struct counts *c)
{
	struct pkt_spec s = {
		.family = f->family, .proto = f->proto, .saddr = f->saddr,
		.daddr = f->daddr, .sport = f->sport, .dport = f->dport,
		.tcp_flags = f->flags, .nvlan = f->nvlan,
		.ip_opt_words = f->ip_opt_words, .ext_hdrs = f->ext_hdrs,
		.payload = f->payload,
	};
	__u64 before[XLB_STAT_MAX], after[XLB_STAT_MAX];
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct flow_state main0, main1, prob0, prob1, any;
	enum xlb_flow_table table;
	struct xlb_explain e;
	struct flow_key key;
	__u32 tick = XLB_NS_TO_TICKS(*fixture_clock(&F)), out_len = 0, i;
	int verdict, had, has_main0, has_main1, has_prob0, has_prob1;
	size_t len;

	flow_key_of(f, &key);
	assert_int_equal(explain(f, &e), 0);
	had = ct_get(&key, &any, &table);
	if (e.ct_looked_up)
		assert_int_equal(had, e.ct_found);
	has_main0 = table_get(XLB_FLOW_TABLE_MAIN, &key, &main0);
	has_prob0 = table_get(XLB_FLOW_TABLE_PROBATION, &key, &prob0);
	fx_counters(&F, before);

	mac_set(s.smac, CLIENT_MAC);
	mac_set(s.dmac, LB_MAC);
	len = pkt_build(&s, in);
	verdict = run(in, len, out, &out_len);
	if (verdict != e.action)
		disagree(f, &e, "verdict");
	if ((verdict == XDP_TX || verdict == XDP_REDIRECT) &&
	    (memcmp(out, e.be.mac, 6) || memcmp(out + 6, e.be.src_mac, 6)))
		disagree(f, &e, "MACs");

	/* exactly the counters the explanation names moved, by one */
	fx_counters(&F, after);
	for (i = 0; i < XLB_STAT_MAX; i++) {
		if (after[i] - before[i] != counter_want(&e, i)) {
			print_message("# counter %s moved by %llu\n", xlb_stat_names[i],
				      (unsigned long long)(after[i] - before[i]));
			disagree(f, &e, "counters");
		}
	}

	/* and the tables are left as it said */
	has_main1 = table_get(XLB_FLOW_TABLE_MAIN, &key, &main1);
	has_prob1 = table_get(XLB_FLOW_TABLE_PROBATION, &key, &prob1);
	if (e.would_promote) {
		if (!has_main1 || main1.backend_id != e.backend_id || main1.backend_gen != e.be.gen ||
		    main1.seen != tick ||
		    main1.state != (e.would_close ? XLB_FLOW_CLOSING : XLB_FLOW_ESTABLISHED))
			disagree(f, &e, "promoted entry");
		if (e.ct_table == XLB_FLOW_TABLE_PROBATION && has_prob1)
			disagree(f, &e, "probation slot left after the promotion");
	} else if (e.ct_used && e.ct_table == XLB_FLOW_TABLE_MAIN) {
		main0.seen = tick;
		if (e.would_close)
			main0.state = XLB_FLOW_CLOSING;
		if (!has_main1 || memcmp(&main0, &main1, sizeof(main0)))
			disagree(f, &e, "refreshed entry");
	} else if (e.ct_used && e.ct_table == XLB_FLOW_TABLE_PROBATION) {
		prob0.seen = tick;
		if (!has_prob1 || memcmp(&prob0, &prob1, sizeof(prob0)))
			disagree(f, &e, "probation slot refreshed");
	} else if (e.would_insert && e.main_stale) {
		if (!has_main1 || main1.backend_id != e.backend_id || main1.backend_gen != e.be.gen ||
		    main1.seen != tick ||
		    main1.state != (e.would_close ? XLB_FLOW_CLOSING : XLB_FLOW_ESTABLISHED))
			disagree(f, &e, "main entry rewritten");
		if (has_prob1 != has_prob0 || memcmp(&prob0, &prob1, sizeof(prob0)))
			disagree(f, &e, "probation after a rewrite");
	} else if (e.would_insert) {
		if (!has_prob1 || prob1.backend_id != e.backend_id || prob1.backend_gen != e.be.gen ||
		    prob1.seen != tick)
			disagree(f, &e, "new probation slot");
		if (has_main1 != has_main0 || memcmp(&main0, &main1, sizeof(main0)))
			disagree(f, &e, "main table after a new flow");
	} else if (has_main1 != has_main0 || memcmp(&main0, &main1, sizeof(main0)) ||
		   has_prob1 != has_prob0 || memcmp(&prob0, &prob1, sizeof(prob0))) {
		disagree(f, &e, "untouched entry");
	}
	tally(&e, e.ct_found, c);
}


/* An address after base that is not vip but shares its bit in the address filter. */
static inline void find_collision(const char *vip, const char *base, char *out)
{
	__be32 v[4], a[4];
	__u32 i, want;

	assert_int_equal(addr_parse16(vip, v), 0);
	assert_int_equal(addr_parse16(base, a), 0);
	want = xlb_addr_bit(v);
	for (i = 1; i < (1u << 28); i++) {
		a[3] = htonl(ntohl(a[3]) + 1);
		if (xlb_addr_bit(a) == want)
			break;
	}
	assert_int_equal(xlb_addr_bit(a), want);
	if (xlb_addr_is_v4(a))
		inet_ntop(AF_INET, &a[3], out, INET6_ADDRSTRLEN);
	else
		inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN);
}


#endif /* XLB_TEST_EXPLAIN_ASSERT_H */
