// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb_explain() against the real XDP program: for every packet, the
 * explanation is computed first, from the maps, then the packet goes
 * through BPF_PROG_TEST_RUN, and the verdict, the MACs written, the
 * counters that moved and the connection-table entry left behind must all
 * be what the explanation said. Plus the exact text and JSON of a few
 * fixed cases.
 *
 * Runs inside a network namespace made by tests/run.sh, which provides the
 * veth pair xlbt-pkt0/xlbt-pkt1: xlbt-pkt0 is in tx_ports (redirect),
 * xlbt-pkt1 is not (dropped redirect).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "../../user/lib/explain.h"
#include "../../user/lib/syntax.h"
#include "../../bpf/hash.h"
#include "fixture_assert.h"

#define NS FIXTURE_NS
#define TCP_IDLE FIXTURE_TCP_IDLE
#define UDP_IDLE FIXTURE_UDP_IDLE
#define LB_MAC FIXTURE_LB_MAC
#define CLIENT_MAC 0x01
#define NFLOWS 10000
#define SYN 0x02
#define ACK 0x10

/* ---- the world: VIPs and backends ---- */

static struct vip_key add_vip(const char *addr, __u16 port, __u8 proto, __u8 sched)
{
	return fx_vip(&F, addr, port, proto, sched, XLB_FWD_L2DSR);
}

static __u32 add_backend_on(const struct vip_key *k, const char *addr, __u8 mac_last,
			    __u32 ifindex)
{
	return fx_backend(&F, k, addr, mac_last, ifindex);
}

static __u32 add_backend(const struct vip_key *k, const char *addr, __u8 mac_last)
{
	return fx_backend(&F, k, addr, mac_last, FIXTURE_LO);
}

static __u32 egress_ifindex(const char *name)
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
		pass_no_port, collision, port0, src_hash, inserted, replaced,
		syn_not_inserted, why_gen, why_down, why_idle;
};

static int run(const __u8 *in, size_t len, __u8 *out, __u32 *out_len)
{
	return fixture_run(&F, in, len, out, out_len);
}

static void flow_key_of(const struct tflow *f, struct flow_key *key)
{
	memset(key, 0, sizeof(*key));
	assert_int_equal(addr_parse16(f->saddr, key->saddr), 0);
	assert_int_equal(addr_parse16(f->daddr, key->daddr), 0);
	key->sport = htons(f->sport);
	key->dport = htons(f->dport);
	key->proto = f->proto;
}

static int explain(const struct tflow *f, struct xlb_explain *e)
{
	struct flow_key key;

	flow_key_of(f, &key);
	return xlb_explain(&F.dp, &key, f->flags, FIXTURE_LO, *fixture_clock(&F),
			   TCP_IDLE, UDP_IDLE, e);
}

static int ct_get(const struct flow_key *key, struct flow_entry *entry)
{
	memset(entry, 0, sizeof(*entry));
	return !bpf_map_lookup_elem(F.dp.conntrack_fd, key, entry);
}

static void print_explain(const struct xlb_explain *e)
{
	char line[XLB_EXPLAIN_LINE_MAX];
	int i;

	for (i = 0; i < XLB_EXPLAIN_STEPS; i++) {
		xlb_explain_step(e, i, NULL, line, sizeof(line));
		print_message("#   %s\n", line);
	}
}

/* Show the packet and the explanation, then fail. */
static void disagree(const struct tflow *f, const struct xlb_explain *e, const char *what)
{
	print_message("# %s %s:%u -> %s:%u proto %u flags 0x%02x vlan %d opt %d ext %d\n",
		      what, f->saddr, f->sport, f->daddr, f->dport, f->proto, f->flags,
		      f->nvlan, f->ip_opt_words, f->ext_hdrs);
	print_explain(e);
	fail_msg("explain and the data plane disagree: %s", what);
}

static void tally(const struct xlb_explain *e, int had_entry, struct counts *c)
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
	c->inserted += e->would_insert && !had_entry;
	c->replaced += e->would_insert && had_entry;
	c->syn_not_inserted += e->hashed && !e->would_insert &&
			       e->reason != XLB_STAT_DROP_NO_BACKEND;
	c->why_gen += had_entry && !!strstr(e->ct_why, "reused");
	c->why_down += had_entry && !!strstr(e->ct_why, "removed or down");
	c->why_idle += had_entry && !!strstr(e->ct_why, "idle");
}

static void check_flow(const struct tflow *f, struct counts *c)
{
	struct pkt_spec s = {
		.family = f->family, .proto = f->proto, .saddr = f->saddr,
		.daddr = f->daddr, .sport = f->sport, .dport = f->dport,
		.tcp_flags = f->flags, .nvlan = f->nvlan,
		.ip_opt_words = f->ip_opt_words, .ext_hdrs = f->ext_hdrs,
		.payload = f->payload,
	};
	__u64 before[XLB_STAT_MAX], after[XLB_STAT_MAX], want;
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct flow_entry ct0, ct1;
	struct xlb_explain e;
	struct flow_key key;
	__u64 now = *fixture_clock(&F);
	__u32 out_len = 0, i;
	int verdict, had, has;
	size_t len;

	flow_key_of(f, &key);
	assert_int_equal(explain(f, &e), 0);
	had = ct_get(&key, &ct0);
	if (e.ct_looked_up)
		assert_int_equal(had, e.ct_found);
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
		want = i == e.reason || (i == XLB_STAT_CT_HIT && e.ct_used) ||
		       (i == XLB_STAT_CT_MISS && e.hashed);
		if (after[i] - before[i] != want) {
			print_message("# counter %s moved by %llu\n", xlb_stat_names[i],
				      (unsigned long long)(after[i] - before[i]));
			disagree(f, &e, "counters");
		}
	}

	/* and the connection table is left as it said */
	has = ct_get(&key, &ct1);
	if (e.would_insert) {
		if (!has || ct1.backend_id != e.backend_id || ct1.backend_gen != e.be.gen ||
		    ct1.last_seen_ns != now)
			disagree(f, &e, "new entry");
	} else if (e.ct_used) {
		ct0.last_seen_ns = now;
		if (!has || memcmp(&ct0, &ct1, sizeof(ct0)))
			disagree(f, &e, "refreshed entry");
	} else if (has != had || memcmp(&ct0, &ct1, sizeof(ct0))) {
		disagree(f, &e, "untouched entry");
	}
	tally(&e, e.ct_found, c);
}

/* ---- random flows ---- */

static __u64 rng = 0x786c622165787031ULL; /* fixed seed: the same flows every run */

static __u32 below(__u32 n)
{
	__u64 z;

	/* splitmix64 */
	rng += 0x9e3779b97f4a7c15ULL;
	z = rng;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return n ? (__u32)(z % n) : 0;
}

/* Addresses that are not VIPs but share a VIP's bit in the address filter. */
static char collide4[INET6_ADDRSTRLEN], collide6[INET6_ADDRSTRLEN];

static void find_collision(const char *vip, const char *base, char *out)
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

static const __u16 vip_ports[] = { 80, 53, 8080, 443 };

static void random_flow(struct tflow *f)
{
	__u32 r;

	memset(f, 0, sizeof(*f));
	f->family = below(100) < 60 ? 4 : 6;
	r = below(100);
	if (f->family == 4) {
		snprintf(f->saddr, sizeof(f->saddr), "198.18.%u.%u", below(100),
			 1 + below(254));
		if (r < 55)
			snprintf(f->daddr, sizeof(f->daddr), "198.18.100.10");
		else if (r < 65)
			snprintf(f->daddr, sizeof(f->daddr), "198.18.100.20");
		else if (r < 75)
			snprintf(f->daddr, sizeof(f->daddr), "%s", collide4);
		else if (r < 85)
			snprintf(f->daddr, sizeof(f->daddr), "198.18.100.%u", 30 + below(200));
		else
			snprintf(f->daddr, sizeof(f->daddr), "10.%u.%u.%u", below(256),
				 below(256), 1 + below(254));
		f->ip_opt_words = below(100) < 10 ? 1 + below(3) : 0;
	} else {
		snprintf(f->saddr, sizeof(f->saddr), "2001:db8::%x:%x", below(0x10000),
			 1 + below(0xfffe));
		if (r < 50)
			snprintf(f->daddr, sizeof(f->daddr), "2001:db8:100::10");
		else if (r < 65)
			snprintf(f->daddr, sizeof(f->daddr), "2001:db8:100::20");
		else if (r < 75)
			snprintf(f->daddr, sizeof(f->daddr), "%s", collide6);
		else
			snprintf(f->daddr, sizeof(f->daddr), "2001:db8:%x::%x",
				 0x100 + below(2), 0x30 + below(0xff00));
		f->ext_hdrs = below(100) < 10 ? 1 + below(2) : 0;
	}
	f->proto = below(100) < 60 ? IPPROTO_TCP : IPPROTO_UDP;
	f->sport = 1024 + below(64512);
	f->dport = below(100) < 85 ? vip_ports[below(4)] : 1 + below(65535);
	r = below(100);
	f->nvlan = r < 10 ? 1 : r < 15 ? 2 : 0;
	f->payload = below(65);
}

static __u8 random_flags(__u8 proto)
{
	__u32 r = below(100);

	if (proto != IPPROTO_TCP)
		return 0;
	return r < 30 ? SYN : r < 90 ? ACK : SYN | ACK;
}

/*
 * VIPs on two addresses per family: exact ports next to a port-0 VIP,
 * Maglev and source hash, a VIP without backends, one whose only backend
 * goes down; backends on lo (TX), on xlbt-pkt0 (in tx_ports: redirect) and
 * on xlbt-pkt1 (not in tx_ports: dropped).
 */
static struct vip_key web4, any4, dns4, empty4, web6, any6, one6;

static void build_world(void)
{
	__u32 pkt0 = egress_ifindex("xlbt-pkt0"), pkt1 = egress_ifindex("xlbt-pkt1");

	web4 = add_vip("198.18.100.10", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	any4 = add_vip("198.18.100.10", 0, IPPROTO_TCP, XLB_SCHED_SOURCE_HASH);
	dns4 = add_vip("198.18.100.10", 53, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	empty4 = add_vip("198.18.100.20", 8080, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	web6 = add_vip("2001:db8:100::10", 443, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	any6 = add_vip("2001:db8:100::10", 0, IPPROTO_UDP, XLB_SCHED_SOURCE_HASH);
	one6 = add_vip("2001:db8:100::20", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);

	add_backend(&web4, "198.18.0.11", 0x11);
	add_backend(&web4, "198.18.0.12", 0x12);
	add_backend(&web4, "198.18.0.13", 0x13);
	add_backend_on(&web4, "198.18.0.14", 0x14, pkt0);
	add_backend(&any4, "198.18.0.21", 0x21);
	add_backend(&any4, "198.18.0.22", 0x22);
	add_backend(&dns4, "198.18.0.31", 0x31);
	add_backend(&dns4, "198.18.0.32", 0x32);
	add_backend_on(&dns4, "198.18.0.33", 0x33, pkt0);
	add_backend_on(&dns4, "198.18.0.34", 0x34, pkt1);
	add_backend(&web6, "2001:db8::41", 0x41);
	add_backend(&web6, "2001:db8::42", 0x42);
	add_backend(&web6, "2001:db8::43", 0x43);
	add_backend(&any6, "2001:db8::51", 0x51);
	add_backend_on(&any6, "2001:db8::52", 0x52, pkt0);
	add_backend(&one6, "2001:db8::61", 0x61);
	assert_int_equal(xlb_dp_tx_port_add(&F.dp, pkt0), 0);

	find_collision("198.18.100.10", "10.200.0.0", collide4);
	find_collision("2001:db8:100::10", "2001:db8:200::", collide6);
}

/*
 * After traffic: add a backend, remove one, drain one, take two down, and
 * hand a removed backend's id to a new one (its generation moves on).
 */
static void change_backends(void)
{
	__u32 reused;

	add_backend(&web4, "198.18.0.15", 0x15);
	fx_backend_del(&F, &web4, "198.18.0.12");
	fx_backend_state(&F, &web4, "198.18.0.13", XLB_BE_DRAIN);
	fx_backend_state(&F, &any4, "198.18.0.22", XLB_BE_DOWN);
	fx_backend_state(&F, &one6, "2001:db8::61", XLB_BE_DOWN);
	reused = fx_backend_find(&F, &web6, "2001:db8::42")->id;
	fx_backend_del(&F, &web6, "2001:db8::42");
	F.lb->next_backend_id = reused;
	assert_int_equal(add_backend(&web6, "2001:db8::44", 0x44), reused);
}

static void print_counts(const char *pass, const struct counts *c)
{
	print_message("# %s: %u packets: conntrack entry used %u, entry not used %u, "
		      "no entry %u; pass %u, drop %u\n",
		      pass, c->total, c->ct_used, c->ct_unused, c->ct_none, c->pass, c->drop);
	print_message("#   tx %u, redirect %u, drop_redirect %u, drop_no_backend %u, "
		      "pass_non_vip %u (filter collisions %u), pass_vip_no_port %u\n",
		      c->tx, c->redirect, c->drop_redirect, c->drop_no_backend,
		      c->pass_non_vip, c->collision, c->pass_no_port);
	print_message("#   port-0 VIP %u, source hash %u, new entries %u, replaced %u, "
		      "bare SYN not inserted %u; unused: gen %u, down %u, idle %u\n",
		      c->port0, c->src_hash, c->inserted, c->replaced, c->syn_not_inserted,
		      c->why_gen, c->why_down, c->why_idle);
}

static void add_counts(struct counts *sum, const struct counts *c)
{
	unsigned int *s = (unsigned int *)sum;
	const unsigned int *a = (const unsigned int *)c;
	size_t i;

	for (i = 0; i < sizeof(*c) / sizeof(*a); i++)
		s[i] += a[i];
}

static struct tflow flows[NFLOWS];

/* Replay every flow of pass 1, as its next packet: a SYN is answered by an ACK. */
static void replay(const char *name, struct counts *total)
{
	struct counts c = {};
	struct tflow f;
	int i;

	for (i = 0; i < NFLOWS; i++) {
		f = flows[i];
		if (f.flags & SYN)
			f.flags = ACK;
		check_flow(&f, &c);
	}
	print_counts(name, &c);
	assert_true(c.ct_used > 0);
	add_counts(total, &c);
}

static void test_random_flows_agree(void **state)
{
	struct counts c = {}, total = {};
	int i;

	(void)state;
	build_world();

	/* pass 1: new flows, and later packets of some of them */
	for (i = 0; i < NFLOWS; i++) {
		if (i && below(100) < 30) {
			flows[i] = flows[below(i)];
			flows[i].flags = random_flags(flows[i].proto);
		} else {
			random_flow(&flows[i]);
			flows[i].flags = random_flags(flows[i].proto);
		}
		check_flow(&flows[i], &c);
	}
	print_counts("pass 1, random flows", &c);
	assert_true(c.ct_used > 0);
	assert_true(c.ct_none > 0);
	assert_true(c.pass > 0);
	assert_true(c.drop > 0);
	assert_true(c.tx > 0 && c.redirect > 0 && c.drop_redirect > 0);
	assert_true(c.drop_no_backend > 0 && c.pass_non_vip > 0 && c.pass_no_port > 0);
	assert_true(c.collision > 0 && c.port0 > 0 && c.src_hash > 0);
	assert_true(c.inserted > 0 && c.syn_not_inserted > 0);
	add_counts(&total, &c);

	replay("pass 2, seen flows", &total);

	change_backends();
	replay("pass 3, after backend changes", &total);

	*fixture_clock(&F) += UDP_IDLE + 1 * NS;
	replay("pass 4, after the UDP idle timeout", &total);

	*fixture_clock(&F) += TCP_IDLE + 1 * NS;
	replay("pass 5, after the TCP idle timeout", &total);

	print_counts("all passes", &total);
	assert_true(total.ct_unused > 0);
	assert_true(total.why_gen > 0 && total.why_down > 0 && total.why_idle > 0);
	assert_true(total.replaced > 0);
}

/* ---- fixed cases: the exact words ---- */

static struct tflow one_flow(const char *saddr, __u16 sport, const char *daddr,
			     __u16 dport, __u8 proto, __u8 flags)
{
	struct tflow f = { .family = strchr(saddr, ':') ? 6 : 4, .proto = proto,
			   .flags = flags, .sport = sport, .dport = dport, .payload = 10 };

	snprintf(f.saddr, sizeof(f.saddr), "%s", saddr);
	snprintf(f.daddr, sizeof(f.daddr), "%s", daddr);
	return f;
}

static void assert_steps(const struct xlb_explain *e, const char *const want[XLB_EXPLAIN_STEPS])
{
	char line[XLB_EXPLAIN_LINE_MAX];
	int i;

	for (i = 0; i < XLB_EXPLAIN_STEPS; i++) {
		xlb_explain_step(e, i, NULL, line, sizeof(line));
		assert_string_equal(line, want[i]);
	}
}

static const char *json_text(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Explain f: these steps, this JSON. */
static void assert_explained(const struct tflow *f, struct xlb_explain *e,
			     const char *const steps[XLB_EXPLAIN_STEPS], const char *json)
{
	struct json_object *obj;

	assert_int_equal(explain(f, e), 0);
	assert_steps(e, steps);
	obj = xlb_explain_json(e, NULL);
	assert_non_null(obj);
	assert_string_equal(json_text(obj), json);
	json_object_put(obj);
}

static void test_text_tx(void **state)
{
	struct tflow f = one_flow("198.18.0.1", 40000, "198.18.100.10", 80, IPPROTO_TCP, ACK);
	struct vip_key k = add_vip("198.18.100.10", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct json_object *obj, *ct;
	struct counts c = {};
	struct xlb_explain e;
	static const char *const first[XLB_EXPLAIN_STEPS] = {
		"1. vip: 198.18.100.10:80/tcp -> VIP 198.18.100.10:80/tcp (id 0, maglev, l2dsr)",
		"2. conntrack: no entry",
		"3. hash: 5-tuple -> 0xd4f30614",
		"4. maglev: slot 0xd4f30614 % 65537 = 12578 -> backend id 1",
		"5. backend: 198.18.0.11 (id 1), in service, MAC 02:00:5e:10:00:11",
		"6. action: rewrite MACs to 02:00:5e:10:00:11 from 02:00:5e:10:00:ee, "
		"XDP_TX back out of lo; new connection-table entry",
	};
	static const char *const second[XLB_EXPLAIN_STEPS] = {
		"1. vip: 198.18.100.10:80/tcp -> VIP 198.18.100.10:80/tcp (id 0, maglev, l2dsr)",
		"2. conntrack: entry -> backend id 1 (gen 1), last seen 3.2 s ago: used",
		"3. hash: skipped, the connection-table entry decides",
		"4. maglev: skipped, the connection-table entry decides",
		"5. backend: 198.18.0.11 (id 1), in service, MAC 02:00:5e:10:00:11",
		"6. action: rewrite MACs to 02:00:5e:10:00:11 from 02:00:5e:10:00:ee, "
		"XDP_TX back out of lo; connection-table entry refreshed",
	};

	(void)state;
	add_backend(&k, "198.18.0.11", 0x11);
	add_backend(&k, "198.18.0.12", 0x12);
	add_backend(&k, "198.18.0.13", 0x13);

	assert_explained(&f, &e, first,
		"{\"src\":\"198.18.0.1:40000\",\"dst\":\"198.18.100.10:80/tcp\",\"steps\":["
		"{\"step\":\"vip\",\"text\":\"1. vip: 198.18.100.10:80/tcp -> VIP 198.18.100.10:80/tcp (id 0, maglev, l2dsr)\"},"
		"{\"step\":\"conntrack\",\"text\":\"2. conntrack: no entry\"},"
		"{\"step\":\"hash\",\"text\":\"3. hash: 5-tuple -> 0xd4f30614\"},"
		"{\"step\":\"maglev\",\"text\":\"4. maglev: slot 0xd4f30614 % 65537 = 12578 -> backend id 1\"},"
		"{\"step\":\"backend\",\"text\":\"5. backend: 198.18.0.11 (id 1), in service, MAC 02:00:5e:10:00:11\"},"
		"{\"step\":\"action\",\"text\":\"6. action: rewrite MACs to 02:00:5e:10:00:11 from 02:00:5e:10:00:ee, XDP_TX back out of lo; new connection-table entry\"}],"
		"\"vip\":\"198.18.100.10:80/tcp\",\"vip_id\":0,\"backend\":\"198.18.0.11\",\"backend_id\":1,"
		"\"action\":\"XDP_TX\",\"reason\":\"tx\",\"hash\":\"0xd4f30614\",\"slot\":12578,"
		"\"conntrack\":null,\"new_entry\":true}");
	check_flow(&f, &c);

	/* the next packet, 3.2 s later, follows the entry it left */
	*fixture_clock(&F) += 3200 * 1000000ULL;
	assert_int_equal(explain(&f, &e), 0);
	assert_steps(&e, second);
	obj = xlb_explain_json(&e, "eth0");
	assert_non_null(obj);
	assert_true(json_object_object_get_ex(obj, "conntrack", &ct));
	assert_string_equal(json_text(ct),
		"{\"backend_id\":1,\"backend_gen\":1,\"last_seen_ns\":1000000000000,"
		"\"age_ms\":3200,\"used\":true,\"why\":null}");
	assert_true(json_object_object_get_ex(obj, "hash", &ct));
	assert_null(ct);
	assert_true(json_object_object_get_ex(obj, "backend_id", &ct));
	assert_int_equal(json_object_get_int(ct), 1);
	assert_true(json_object_object_get_ex(obj, "steps", &ct));
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(ct, 5), "text")),
			    "6. action: rewrite MACs to 02:00:5e:10:00:11 from 02:00:5e:10:00:ee, "
			    "XDP_TX back out of eth0; connection-table entry refreshed");
	json_object_put(obj);
	check_flow(&f, &c);
	assert_int_equal(c.tx, 2);
	assert_int_equal(c.ct_used, 1);
}

static void test_text_pass(void **state)
{
	struct tflow f = one_flow("198.18.0.1", 40000, "198.18.100.10", 81, IPPROTO_TCP, ACK);
	struct vip_key k = add_vip("198.18.100.10", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct counts c = {};
	struct xlb_explain e;
	static const char *const no_port[XLB_EXPLAIN_STEPS] = {
		"1. vip: 198.18.100.10:81/tcp: VIP address, but no VIP for this port/protocol",
		"2. conntrack: no entry",
		"3. hash: skipped, no VIP",
		"4. maglev: skipped, no VIP",
		"5. backend: skipped, no VIP",
		"6. action: XDP_PASS to the host's stack "
		"(pass_vip_no_port: no VIP for this port/protocol)",
	};
	static const char *const non_vip[XLB_EXPLAIN_STEPS] = {
		"1. vip: 198.18.100.99:80/tcp: not a VIP address",
		"2. conntrack: not looked up (not a VIP address)",
		"3. hash: skipped, not a VIP address",
		"4. maglev: skipped, not a VIP address",
		"5. backend: skipped, not a VIP address",
		"6. action: XDP_PASS to the host's stack (pass_non_vip: not a VIP address)",
	};

	(void)state;
	add_backend(&k, "198.18.0.11", 0x11);
	assert_explained(&f, &e, no_port,
		"{\"src\":\"198.18.0.1:40000\",\"dst\":\"198.18.100.10:81/tcp\",\"steps\":["
		"{\"step\":\"vip\",\"text\":\"1. vip: 198.18.100.10:81/tcp: VIP address, but no VIP for this port/protocol\"},"
		"{\"step\":\"conntrack\",\"text\":\"2. conntrack: no entry\"},"
		"{\"step\":\"hash\",\"text\":\"3. hash: skipped, no VIP\"},"
		"{\"step\":\"maglev\",\"text\":\"4. maglev: skipped, no VIP\"},"
		"{\"step\":\"backend\",\"text\":\"5. backend: skipped, no VIP\"},"
		"{\"step\":\"action\",\"text\":\"6. action: XDP_PASS to the host's stack (pass_vip_no_port: no VIP for this port/protocol)\"}],"
		"\"vip\":null,\"vip_id\":null,\"backend\":null,\"backend_id\":null,"
		"\"action\":\"XDP_PASS\",\"reason\":\"pass_vip_no_port\",\"hash\":null,\"slot\":null,"
		"\"conntrack\":null,\"new_entry\":false}");
	check_flow(&f, &c);

	f = one_flow("198.18.0.1", 40000, "198.18.100.99", 80, IPPROTO_TCP, ACK);
	assert_int_equal(explain(&f, &e), 0);
	assert_steps(&e, non_vip);
	check_flow(&f, &c);
	assert_int_equal(c.pass_no_port, 1);
	assert_int_equal(c.pass_non_vip, 1);
}

static void test_text_drop(void **state)
{
	struct tflow f = one_flow("2001:db8::1", 40000, "2001:db8:100::10", 443,
				  IPPROTO_TCP, SYN);
	struct vip_key k = add_vip("2001:db8:100::10", 443, IPPROTO_TCP,
				   XLB_SCHED_SOURCE_HASH);
	char line[XLB_EXPLAIN_LINE_MAX];
	struct counts c = {};
	struct xlb_explain e;
	struct backend be;
	__u32 id;
	static const char *const want[XLB_EXPLAIN_STEPS] = {
		"1. vip: [2001:db8:100::10]:443/tcp -> VIP [2001:db8:100::10]:443/tcp "
		"(id 0, source-hash, l2dsr)",
		"2. conntrack: no entry",
		"3. hash: client address 2001:db8::1 -> 0x42e00808",
		"4. maglev: slot 0x42e00808 % 65537 = 50473 -> empty slot",
		"5. backend: none",
		"6. action: XDP_DROP (drop_no_backend: no backend in service)",
	};

	(void)state;
	/* its only backend removed: the table is all empty slots */
	add_backend(&k, "2001:db8::11", 0x11);
	fx_backend_del(&F, &k, "2001:db8::11");
	assert_explained(&f, &e, want,
		"{\"src\":\"[2001:db8::1]:40000\",\"dst\":\"[2001:db8:100::10]:443/tcp\",\"steps\":["
		"{\"step\":\"vip\",\"text\":\"1. vip: [2001:db8:100::10]:443/tcp -> VIP [2001:db8:100::10]:443/tcp (id 0, source-hash, l2dsr)\"},"
		"{\"step\":\"conntrack\",\"text\":\"2. conntrack: no entry\"},"
		"{\"step\":\"hash\",\"text\":\"3. hash: client address 2001:db8::1 -> 0x42e00808\"},"
		"{\"step\":\"maglev\",\"text\":\"4. maglev: slot 0x42e00808 % 65537 = 50473 -> empty slot\"},"
		"{\"step\":\"backend\",\"text\":\"5. backend: none\"},"
		"{\"step\":\"action\",\"text\":\"6. action: XDP_DROP (drop_no_backend: no backend in service)\"}],"
		"\"vip\":\"[2001:db8:100::10]:443/tcp\",\"vip_id\":0,\"backend\":null,\"backend_id\":null,"
		"\"action\":\"XDP_DROP\",\"reason\":\"drop_no_backend\",\"hash\":\"0x42e00808\",\"slot\":50473,"
		"\"conntrack\":null,\"new_entry\":false}");
	check_flow(&f, &c);

	/*
	 * A slot naming a backend that no longer keeps flows: lb.c never
	 * leaves one (the table changes first), so write the map by hand.
	 */
	k = add_vip("198.18.100.10", 80, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	id = add_backend(&k, "198.18.0.21", 0x21);
	assert_int_equal(xlb_dp_backend_get(&F.dp, id, &be), 0);
	be.flags = 0;
	assert_int_equal(xlb_dp_backend_set(&F.dp, id, &be), 0);
	f = one_flow("198.18.0.1", 40000, "198.18.100.10", 80, IPPROTO_UDP, 0);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 4, NULL, line, sizeof(line));
	assert_string_equal(line, "5. backend: 198.18.0.21 (id 2), not in service");
	xlb_explain_step(&e, 5, NULL, line, sizeof(line));
	assert_string_equal(line, "6. action: XDP_DROP (drop_no_backend: no backend in service)");
	check_flow(&f, &c);
	assert_int_equal(c.drop_no_backend, 2);
}

/*
 * Redirects by name and index, an entry exactly at its idle timeout (used),
 * one nanosecond past it, and one stamped after now (another CPU's later
 * stamp: the program's signed age keeps it fresh).
 */
static void test_text_redirect_and_idle(void **state)
{
	struct tflow f = one_flow("198.18.0.1", 40000, "198.18.100.10", 53, IPPROTO_UDP, 0);
	struct vip_key k = add_vip("198.18.100.10", 53, IPPROTO_UDP, XLB_SCHED_MAGLEV);
	__u32 pkt0 = egress_ifindex("xlbt-pkt0"), pkt1 = egress_ifindex("xlbt-pkt1");
	char line[XLB_EXPLAIN_LINE_MAX], want[XLB_EXPLAIN_LINE_MAX];
	struct xlb_lb_vip *vip = xlb_lb_vip_find(F.lb, &k);
	struct counts c = {};
	struct xlb_explain e;
	__u64 t0;

	(void)state;
	add_backend_on(&k, "198.18.0.31", 0x31, pkt1);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 5, NULL, line, sizeof(line));
	snprintf(want, sizeof(want),
		 "6. action: XDP_DROP (drop_redirect: egress xlbt-pkt1, ifindex %u, "
		 "is not in tx_ports); new connection-table entry", pkt1);
	assert_string_equal(line, want);
	check_flow(&f, &c);

	/* its entry outlives the move: the new backend gets new flows only */
	assert_non_null(vip);
	vip->backends[0].spec.ifindex = pkt0;
	assert_int_equal(xlb_lb_backend_update(F.lb, &k, &vip->backends[0].spec), 0);
	assert_int_equal(xlb_dp_tx_port_add(&F.dp, pkt0), 0);
	t0 = *fixture_clock(&F);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 5, NULL, line, sizeof(line));
	snprintf(want, sizeof(want),
		 "6. action: rewrite MACs to 02:00:5e:10:00:31 from 02:00:5e:10:00:ee, "
		 "XDP_REDIRECT out of xlbt-pkt0 (ifindex %u); connection-table entry refreshed",
		 pkt0);
	assert_string_equal(line, want);
	check_flow(&f, &c);

	*fixture_clock(&F) = t0 + UDP_IDLE;
	assert_int_equal(explain(&f, &e), 0);
	assert_true(e.ct_used);
	check_flow(&f, &c);

	*fixture_clock(&F) += UDP_IDLE + 1;
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 1, NULL, line, sizeof(line));
	assert_string_equal(line, "2. conntrack: entry -> backend id 1 (gen 1), "
				  "last seen 30.0 s ago: not used, idle 30.000000001 s > 30 s");
	check_flow(&f, &c);

	*fixture_clock(&F) -= 1500 * 1000000ULL;
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 1, NULL, line, sizeof(line));
	assert_string_equal(line, "2. conntrack: entry -> backend id 1 (gen 1), "
				  "last seen 1.5 s in the future: used");
	check_flow(&f, &c);
	assert_int_equal(c.drop_redirect, 1);
	assert_int_equal(c.redirect, 4);
	assert_int_equal(c.ct_used, 3);
	assert_int_equal(c.why_idle, 1);
}

/*
 * The program consults the connection table before the VIP, whenever the
 * address filter bit is set: an entry (made by hand here) is followed even
 * to an address that only shares a VIP's bit, and ignored when the bit is
 * clear. An entry naming a backend id beyond the map is not used.
 */
static void test_entry_before_vip(void **state)
{
	struct vip_key k = add_vip("198.18.100.10", 80, IPPROTO_TCP, XLB_SCHED_MAGLEV);
	struct flow_entry entry = { .backend_gen = 1 };
	struct tflow f;
	struct flow_key key;
	struct counts c = {};
	struct xlb_explain e;
	char line[XLB_EXPLAIN_LINE_MAX], want[XLB_EXPLAIN_LINE_MAX];

	(void)state;
	entry.backend_id = add_backend(&k, "198.18.0.11", 0x11);
	entry.last_seen_ns = *fixture_clock(&F);
	find_collision("198.18.100.10", "10.200.0.0", collide4);

	f = one_flow("198.18.0.1", 40000, collide4, 80, IPPROTO_TCP, ACK);
	flow_key_of(&f, &key);
	assert_int_equal(bpf_map_update_elem(F.dp.conntrack_fd, &key, &entry, BPF_ANY), 0);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 0, NULL, line, sizeof(line));
	snprintf(want, sizeof(want),
		 "1. vip: %s:80/tcp: not a VIP address (shares a filter bit with one)", collide4);
	assert_string_equal(line, want);
	xlb_explain_step(&e, 1, NULL, line, sizeof(line));
	assert_string_equal(line, "2. conntrack: entry -> backend id 1 (gen 1), "
				  "last seen 0.0 s ago: used");
	assert_int_equal(e.action, XDP_TX);
	check_flow(&f, &c);

	f = one_flow("198.18.0.1", 40000, "198.18.100.99", 80, IPPROTO_TCP, ACK);
	flow_key_of(&f, &key);
	assert_int_equal(bpf_map_update_elem(F.dp.conntrack_fd, &key, &entry, BPF_ANY), 0);
	assert_int_equal(explain(&f, &e), 0);
	assert_false(e.ct_looked_up);
	assert_int_equal(e.reason, XLB_STAT_PASS_NON_VIP);
	check_flow(&f, &c);

	f = one_flow("198.18.0.1", 40000, "198.18.100.10", 80, IPPROTO_TCP, SYN);
	flow_key_of(&f, &key);
	entry.backend_id = XLB_MAX_BACKENDS + 1;
	assert_int_equal(bpf_map_update_elem(F.dp.conntrack_fd, &key, &entry, BPF_ANY), 0);
	assert_int_equal(explain(&f, &e), 0);
	xlb_explain_step(&e, 1, NULL, line, sizeof(line));
	snprintf(want, sizeof(want), "2. conntrack: entry -> backend id %u (gen 1), "
		 "last seen 0.0 s ago: not used, backend id %u is out of range",
		 XLB_MAX_BACKENDS + 1, XLB_MAX_BACKENDS + 1);
	assert_string_equal(line, want);
	xlb_explain_step(&e, 5, NULL, line, sizeof(line));
	assert_string_equal(line, "6. action: rewrite MACs to 02:00:5e:10:00:11 from "
				  "02:00:5e:10:00:ee, XDP_TX back out of lo; "
				  "bare SYN: no connection-table entry");
	check_flow(&f, &c);
	assert_int_equal(c.tx, 2);
	assert_int_equal(c.ct_used, 1);
	assert_int_equal(c.ct_unused, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_text_tx),
		T(test_text_pass),
		T(test_text_drop),
		T(test_text_redirect_and_idle),
		T(test_entry_before_vip),
		T(test_random_flows_agree),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
