// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * make bench: ns/packet of the data plane under BPF_PROG_TEST_RUN, each
 * beside the floor (a MAC-swap XDP_TX program) measured in the same run.
 * Prints a Markdown table and one "BENCH <case> <ns> <ratio>" line per row.
 *
 * Run inside the namespace tests/bench/run.sh makes (veth xlbt-b0 with a
 * neighbour 198.18.0.11, for the bpf_fib_lookup row).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.skel.h"
#include "../../user/lib/block.h"
#include "../../user/lib/dataplane.h"
#include "../../user/lib/lb.h"
#include "../../user/lib/maglev.h"
#include "../../user/lib/syntax.h"
#include "../../user/lib/vip_limits.h"
#include "../packet/pkt.h"

#define RUNS 5
#define VIP4 "198.18.100.10"
#define VIP6 "2001:db8:100::10"

static __u32 repeat = 1000000;
static int ifindex;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * ns per packet as the kernel times the repeat loop. Wall time would add a
 * fixed cost of tens of ms per call (test-run setup and teardown).
 */
static double run_once(int prog_fd, const __u8 *pkt, size_t len, int want)
{
	__u8 out[PKT_MAX];
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat);
	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		fprintf(stderr, "bench: test run: %s\n", strerror(errno));
		exit(1);
	}
	if ((int)opts.retval != want) {
		fprintf(stderr, "bench: verdict %u, want %d\n", opts.retval, want);
		exit(1);
	}
	return opts.duration;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

struct row {
	const char *name;
	const char *what;
	double ns;
	double ratio;
};

static struct row rows[48];
static int nrows;
static int floor_fd;
static __u8 floor_pkt[PKT_MAX];
static size_t floor_len;
static double floors[48 * RUNS]; /* a floor per row: room for every case */
static int nfloors;

/*
 * Each round times the floor and then the case, back to back, so a slow
 * patch of the shared machine hits both; the row keeps the median ns and
 * its ratio to the median floor of its own rounds. offset (ns) is
 * subtracted from the case: the cost of the bench's own wrapper.
 */
static void measure(const char *name, const char *what, int prog_fd, const __u8 *pkt,
		    size_t len, int want, double offset)
{
	double ns[RUNS], f[RUNS];
	int i;

	for (i = 0; i < RUNS; i++) {
		f[i] = run_once(floor_fd, floor_pkt, floor_len, XDP_TX);
		ns[i] = run_once(prog_fd, pkt, len, want) - offset;
		floors[nfloors++] = f[i];
	}
	/* medians, not per-round ratios: a floor of ~10 whole ns jumps by 10% a step */
	rows[nrows++] = (struct row){ name, what, median_of(ns, RUNS),
				      median_of(ns, RUNS) / median_of(f, RUNS) };
}

/*
 * One path against another (ipip against l2dsr): both timed back to back
 * in each of 2 * RUNS rounds, the median of the per-round ratios. A noisy
 * patch hits both sides of a round alike.
 */
struct pair {
	const char *name;
	double ratio;
};

static struct pair pairs[8];
static int npairs;

static void measure_pair(const char *name, int base_fd, const __u8 *base_pkt, size_t base_len,
			 int case_fd, const __u8 *case_pkt, size_t case_len, double case_offset)
{
	double r[2 * RUNS];
	int i;

	for (i = 0; i < 2 * RUNS; i++)
		r[i] = (run_once(case_fd, case_pkt, case_len, XDP_TX) - case_offset) /
		       run_once(base_fd, base_pkt, base_len, XDP_TX);
	pairs[npairs++] = (struct pair){ name, median_of(r, 2 * RUNS) };
}

static struct pkt_spec flow(int family, __u8 proto, __u16 dport, __u8 flags)
{
	struct pkt_spec s = {
		.family = family, .proto = proto,
		.saddr = family == 4 ? "198.18.0.1" : "2001:db8::1",
		.daddr = family == 4 ? VIP4 : VIP6,
		.sport = 40000, .dport = dport, .tcp_flags = flags, .payload = 10,
		.df = 1, /* as TCP from Linux clients, which do path MTU discovery */
	};

	mac_set(s.smac, 1);
	mac_set(s.dmac, 0xee);
	return s;
}

/* ipip backends sit behind a gateway (tests/bench/run.sh routes them) */
static void add_vip_sched(struct xlb_lb *lb, const char *addr, __u16 port, __u8 proto,
			  int nbackends, __u8 forward, int backend6, __u8 sched)
{
	struct vip_key k = { .port = htons(port), .proto = proto };
	struct xlb_backend_spec b = { .weight = 1, .state = XLB_BE_UP };
	char buf[64];
	int i;

	addr_parse16(addr, k.addr);
	if (xlb_lb_vip_add(lb, &k, sched, forward) < 0)
		exit(1);
	mac_set(b.src_mac, 0xee);
	b.ifindex = ifindex;
	for (i = 0; i < nbackends; i++) {
		if (forward == XLB_FWD_IPIP)
			snprintf(buf, sizeof(buf), backend6 ? "2001:db8:60::%x" : "198.18.60.%d",
				 i + 1);
		else if (strchr(addr, ':'))
			snprintf(buf, sizeof(buf), "2001:db8:1::%x", i + 1);
		else
			snprintf(buf, sizeof(buf), "198.18.%d.%d", 1 + i / 250, 1 + i % 250);
		addr_parse16(buf, b.addr);
		mac_set(b.mac, i);
		if (xlb_lb_backend_add(lb, &k, &b) < 0) {
			fprintf(stderr, "bench: backend add failed\n");
			exit(1);
		}
	}
}

static void add_vip(struct xlb_lb *lb, const char *addr, __u16 port, __u8 proto,
		    int nbackends, __u8 forward, int backend6)
{
	add_vip_sched(lb, addr, port, proto, nbackends, forward, backend6, XLB_SCHED_MAGLEV);
}

static long memlock_of(int fd)
{
	char path[64], line[256];
	long bytes = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %ld", &bytes) == 1)
			break;
	fclose(f);
	return bytes;
}

static double maglev_build_ms(__u32 n)
{
	struct maglev_backend *b = calloc(n, sizeof(*b));
	__u32 *table = calloc(XLB_MAGLEV_SIZE, sizeof(*table)), i;
	double t[RUNS];
	int r;

	for (i = 0; i < n; i++) {
		b[i].key[10] = b[i].key[11] = 0xff;
		b[i].key[12] = 198;
		b[i].key[13] = 18;
		b[i].key[14] = i >> 8;
		b[i].key[15] = i;
		b[i].weight = 1;
	}
	for (r = 0; r < RUNS; r++) {
		double t0 = now_ns();

		if (maglev_build(b, n, XLB_MAGLEV_SIZE, table))
			exit(1);
		t[r] = (now_ns() - t0) / 1e6;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	free(b);
	free(table);
	return t[RUNS / 2];
}

/* Which program a case times, and what of its time is the bench's own. */
enum bench_prog { PROG_XLB, PROG_VARY, PROG_ENCAP, PROG_FIB, NPROGS };
enum bench_offset { NO_OFFSET, VARY_COST, RESTORE_COST, NOFFSETS };

#define TCP_SYN 0x02
#define TCP_ACK 0x10

struct bench_case {
	const char *name;
	const char *what;
	int family;
	__u8 proto;
	__u8 tcp_flags;
	__u16 dport;
	const char *daddr; /* NULL: the VIP of the family */
	enum bench_prog prog;
	enum bench_offset offset;
	int pass;            /* the verdict is XDP_PASS, not XDP_TX */
	__u32 vary_offset;   /* PROG_VARY: where the 4 varied source bytes are */
};

#define V4_SRC (ETH_HLEN + 12)     /* the IPv4 source address */
#define V6_SRC (ETH_HLEN + 8 + 12) /* the last 4 bytes of the IPv6 source */

/* The rows, in the order of the table. */
#define CASE(nm, wh, fam, pr, flags, port) \
	.name = nm, .what = wh, .family = fam, .proto = pr, .tcp_flags = flags, .dport = port
#define SCHED_CASE(nm, wh, port) \
	{ CASE(nm, wh, 4, IPPROTO_TCP, TCP_SYN, port), \
	  .prog = PROG_VARY, .offset = VARY_COST, .vary_offset = V4_SRC }
static const struct bench_case cases[] = {
	/* established: the first packet inserts the flow, the rest hit */
	{ CASE("est4", "established IPv4 TCP", 4, IPPROTO_TCP, TCP_ACK, 80) },
	{ CASE("est4_1000be", "established IPv4 TCP, VIP of 1000 backends",
	       4, IPPROTO_TCP, TCP_ACK, 81) },
	{ CASE("udp4", "established IPv4 UDP flow", 4, IPPROTO_UDP, 0, 53) },
	{ CASE("est6", "established IPv6 TCP", 6, IPPROTO_TCP, TCP_ACK, 80) },
	{ CASE("pass", "not for a VIP: XDP_PASS", 4, IPPROTO_TCP, TCP_ACK, 80),
	  .daddr = "198.18.200.1", .pass = 1 },
	/* a bare SYN is never inserted: repeating one runs the code of a stream of new SYNs */
	{ CASE("syn4", "IPv4 SYN again: its probation slot, warm caches",
	       4, IPPROTO_TCP, TCP_SYN, 80) },
	{ CASE("syn6", "IPv6 SYN, warm caches", 6, IPPROTO_TCP, TCP_SYN, 80) },
	/* forward ipip: the next hop from the FIB, cached per backend */
	{ CASE("ipip4", "established IPv4 TCP, forward ipip (IPIP)", 4, IPPROTO_TCP, TCP_ACK, 90),
	  .prog = PROG_ENCAP, .offset = RESTORE_COST },
	{ CASE("ip6ip6", "established IPv6 TCP, forward ipip (IP6IP6)", 6, IPPROTO_TCP, TCP_ACK, 90),
	  .prog = PROG_ENCAP, .offset = RESTORE_COST },
	{ CASE("4in6", "established IPv4 TCP, forward ipip to an IPv6 backend",
	       4, IPPROTO_TCP, TCP_ACK, 91),
	  .prog = PROG_ENCAP, .offset = RESTORE_COST },
	/* a new 5-tuple every packet */
	{ CASE("syn4_cold", "IPv4 SYN, new 5-tuple each: cache misses in the connection table",
	       4, IPPROTO_TCP, TCP_SYN, 80),
	  .prog = PROG_VARY, .offset = VARY_COST, .vary_offset = V4_SRC },
	{ CASE("new4_cold", "IPv4 first ACK of a new flow, new 5-tuple each (probation write)",
	       4, IPPROTO_TCP, TCP_ACK, 80),
	  .prog = PROG_VARY, .offset = VARY_COST, .vary_offset = V4_SRC },
	{ CASE("syn6_cold", "IPv6 SYN, new 5-tuple each", 6, IPPROTO_TCP, TCP_SYN, 80),
	  .prog = PROG_VARY, .offset = VARY_COST, .vary_offset = V6_SRC },
	/* each scheduler's new-flow path: syn4_cold with the VIP's scheduler instead of Maglev */
	SCHED_CASE("new_rr", "syn4_cold, sched rr: this CPU's next slot", 102),
	SCHED_CASE("new_wrr", "syn4_cold, sched wrr", 103),
	SCHED_CASE("new_lc", "syn4_cold, sched lc: two candidates, their loads", 104),
	SCHED_CASE("new_wlc", "syn4_cold, sched wlc", 105),
	SCHED_CASE("new_lt", "syn4_cold, sched lt", 106),
	SCHED_CASE("new_persist", "syn4_cold, sched rr + persist: a new client each (lookup, insert)",
		   110),
	SCHED_CASE("new_persist_hit", "syn4_cold, sched rr + persist: the client's prefix known",
		   111),
	/* per-client limits on a Maglev VIP (bpf/limits.h) */
	SCHED_CASE("new_limits", "syn4_cold, limits new_flows_per_s: a new client's bucket each (LRU insert)",
		   112),
	SCHED_CASE("new_limits_cap", "syn4_cold, limits max_conns only, /1: the known prefix's count",
		   113),
	/* the alternative to the backend table's MAC: a FIB lookup per packet */
	{ CASE("fib4", "floor + bpf_fib_lookup (l2dsr does without; ipip caches it)",
	       4, IPPROTO_TCP, TCP_ACK, 80),
	  .prog = PROG_FIB },
};

/* Forward ipip against l2dsr, the same flow: port 80 is l2dsr, 90 ipip. */
static const struct { const char *name; int family; } ipip_pairs[] = {
	{ "ipip4 / est4", 4 },
	{ "ip6ip6 / est6", 6 },
};

static void run_case(struct bench_bpf *skel, const struct bench_case *c, const int *prog_fds,
		     const double *offsets)
{
	struct pkt_spec s = flow(c->family, c->proto, c->dport, c->tcp_flags);
	__u8 pkt[PKT_MAX];
	size_t len;

	if (c->daddr)
		s.daddr = c->daddr;
	len = pkt_build(&s, pkt);
	skel->bss->vary_offset = c->vary_offset;
	measure(c->name, c->what, prog_fds[c->prog], pkt, len, c->pass ? XDP_PASS : XDP_TX,
		offsets[c->offset]);
}

/* What prog_fd adds to the floor, per packet: the median over RUNS rounds, over divisor. */
static double cost_over_floor(int prog_fd, double divisor)
{
	double v[RUNS];
	int i;

	for (i = 0; i < RUNS; i++)
		v[i] = (run_once(prog_fd, floor_pkt, floor_len, XDP_TX) -
			run_once(floor_fd, floor_pkt, floor_len, XDP_TX)) / divisor;
	return median_of(v, RUNS);
}

/* The limits rows' VIPs: 112 a bucket per client that never empties, 113 a cap no SYN reaches. */
static void bench_limits(struct bench_bpf *skel, struct xlb_lb *lb)
{
	static struct xlb_block_dp b;
	struct xlb_limits_cfg l;
	struct vip_filter vf;
	struct vip_key k = {};
	struct xlb_lb_vip *v;
	__u16 port;

	if (xlb_block_dp_open(&b, skel->obj))
		exit(1);
	for (port = 112; port <= 113; port++) {
		add_vip(lb, VIP4, port, IPPROTO_TCP, 10, XLB_FWD_L2DSR, 0);
		addr_parse16(VIP4, k.addr);
		k.port = htons(port);
		k.proto = IPPROTO_TCP;
		v = xlb_lb_vip_find(lb, &k);
		xlb_limits_default(&l);
		if (port == 112) {
			l.rate = XLB_LIMIT_RATE_MAX;
			l.burst = XLB_LIMIT_BURST_MAX;
		} else {
			l.max_conns = XLB_LIMIT_CONNS_MAX;
			l.prefix4 = 1;
		}
		xlb_limits_to_dp(&l, &vf);
		if (!v || xlb_block_dp_limits(&b, v->id, &vf))
			exit(1);
	}
}

/* Load the bench object and give it the VIPs and encap sources the cases use. */
static struct bench_bpf *bench_setup(const struct xlb_load_opts *opts, struct xlb_dp *dp,
				     struct xlb_lb **lb)
{
	struct vip_sched persist = { .persist_ticks = XLB_TIMEOUT_TICKS(300000000000ull),
				     .persist_prefix4 = 32, .persist_prefix6 = 64 };
	struct vip_key persist_vip = {};
	struct encap_config enc = {};
	struct bench_bpf *skel;
	char err[64];
	__u8 i;

	skel = bench_bpf__open();
	if (!skel)
		exit(1);
	XLB_SKEL_CONFIGURE(skel, opts);
	if (bench_bpf__load(skel)) {
		fprintf(stderr, "bench: load failed\n");
		exit(1);
	}
	if (xlb_dp_init(dp, skel->obj))
		exit(1);
	*lb = xlb_lb_new(dp);
	add_vip(*lb, VIP4, 80, IPPROTO_TCP, 10, XLB_FWD_L2DSR, 0);
	add_vip(*lb, VIP4, 81, IPPROTO_TCP, 1000, XLB_FWD_L2DSR, 0);
	add_vip(*lb, VIP4, 53, IPPROTO_UDP, 10, XLB_FWD_L2DSR, 0);
	add_vip(*lb, VIP6, 80, IPPROTO_TCP, 10, XLB_FWD_L2DSR, 0);
	add_vip(*lb, VIP4, 90, IPPROTO_TCP, 10, XLB_FWD_IPIP, 0);
	add_vip(*lb, VIP6, 90, IPPROTO_TCP, 10, XLB_FWD_IPIP, 1);
	add_vip(*lb, VIP4, 91, IPPROTO_TCP, 10, XLB_FWD_IPIP, 1);
	/* the schedulers' rows: one VIP each, ports 100.. in the order of enum xlb_sched */
	for (i = XLB_SCHED_RR; i <= XLB_SCHED_LT; i++)
		add_vip_sched(*lb, VIP4, (__u16)(100 + i), IPPROTO_TCP, 10, XLB_FWD_L2DSR, 0, i);
	add_vip_sched(*lb, VIP4, 110, IPPROTO_TCP, 10, XLB_FWD_L2DSR, 0, XLB_SCHED_RR);
	addr_parse16(VIP4, persist_vip.addr);
	persist_vip.port = htons(110);
	persist_vip.proto = IPPROTO_TCP;
	if (xlb_lb_vip_persist(*lb, &persist_vip, &persist))
		exit(1);
	/* the hit row: /1, so the varied sources fall into two prefixes, each known after its first */
	add_vip_sched(*lb, VIP4, 111, IPPROTO_TCP, 10, XLB_FWD_L2DSR, 0, XLB_SCHED_RR);
	persist_vip.port = htons(111);
	persist.persist_prefix4 = 1;
	if (xlb_lb_vip_persist(*lb, &persist_vip, &persist))
		exit(1);
	bench_limits(skel, *lb);
	if (xlb_parse_encap_source("198.18.0.2", 4, &enc.v4, err, sizeof(err)) ||
	    xlb_parse_encap_source("2001:db8::2", 6, &enc.v6, err, sizeof(err)) ||
	    xlb_dp_encap_set(dp, &enc))
		exit(1);
	/* the fib4 row's lookup: the neighbour tests/bench/run.sh adds */
	skel->bss->fib_ifindex = ifindex;
	inet_pton(AF_INET, "198.18.0.11", &skel->bss->fib_dst);
	return skel;
}

/*
 * The blocklist rows, last: every row after them would pay for the
 * lookups. BLOCK_RULES random prefixes (/8 to /32, or /16 to /128) of the
 * packet's family, none holding the client, so the packet is checked and
 * forwarded; how long the batches take to load them is printed too.
 */
#define BLOCK_RULES 100000
static double block_load_ms[2];

static int no_vip(void *ctx, const struct vip_key *key)
{
	(void)ctx;
	(void)key;
	return -1;
}

static int pfx_cmp(const void *x, const void *y)
{
	const struct xlb_block_rule *a = x, *b = y;
	int c = memcmp(a->pfx.addr, b->pfx.addr, 16);

	return c ? c : a->pfx.len - b->pfx.len;
}

/* BLOCK_RULES distinct prefixes of the family, none holding the bench's client. */
static void block_fill(struct xlb_blocklist *l, int family)
{
	struct xlb_block_rule r = { .id = XLB_BLOCK_NO_ID };
	struct xlb_prefix c;
	char err[64];
	__u32 i, n, seed = family;

	xlb_parse_prefix(family == 4 ? "198.18.0.1" : "2001:db8::1", &c, err, sizeof(err));
	l->n = 0;
	while (l->n < BLOCK_RULES + BLOCK_RULES / 4) {
		for (i = 0; i < 4; i++) {
			seed = seed * 1103515245 + 12345;
			r.pfx.addr[i] = htonl(seed ^ (seed >> 15) * 2654435761u);
		}
		if (family == 4) {
			r.pfx.addr[0] = r.pfx.addr[1] = 0;
			r.pfx.addr[2] = htonl(0xffff);
			r.pfx.len = 96 + 8 + seed % 25;
		} else {
			r.pfx.addr[0] = htonl(0x20010db8); /* the client's /32: a deep trie */
			r.pfx.len = 32 + seed % 97;
		}
		for (i = 0; i < 4; i++) { /* host bits cleared */
			__u32 bits = r.pfx.len > 32 * i ? r.pfx.len - 32 * i : 0;

			r.pfx.addr[i] = bits >= 32 ? r.pfx.addr[i] :
					bits ? r.pfx.addr[i] & htonl(~0u << (32 - bits)) : 0;
		}
		if (!xlb_prefix_contains(&r.pfx, c.addr) && xlb_blocklist_append(l, &r))
			exit(1);
	}
	qsort(l->rules, l->n, sizeof(r), pfx_cmp);
	for (i = 1, n = 1; i < l->n && n < BLOCK_RULES; i++)
		if (pfx_cmp(&l->rules[i], &l->rules[n - 1]))
			l->rules[n++] = l->rules[i];
	if (n < BLOCK_RULES)
		exit(1);
	l->n = n;
}

static void run_block(struct bench_bpf *skel, int prog_fd)
{
	struct xlb_blocklist l = {};
	struct xlb_block_dp b;
	struct pkt_spec s;
	__u8 pkt[PKT_MAX];
	int family;
	double t0;

	if (xlb_block_dp_open(&b, skel->obj))
		exit(1);
	for (family = 4; family <= 6; family += 2) {
		block_fill(&l, family);
		t0 = now_ns();
		if (xlb_block_dp_sync(&b, &l, no_vip, NULL)) {
			fprintf(stderr, "bench: cannot load the blocklist\n");
			exit(1);
		}
		block_load_ms[family == 6] = (now_ns() - t0) / 1e6;
		s = flow(family, IPPROTO_TCP, 80, TCP_ACK);
		measure(family == 4 ? "est4_block100k" : "est6_block100k",
			family == 4 ? "established IPv4 TCP, source checked against 100,000 prefixes" :
				      "established IPv6 TCP, source checked against 100,000 prefixes",
			prog_fd, pkt, pkt_build(&s, pkt), XDP_TX, 0);
	}
	l.n = 0;
	xlb_block_dp_sync(&b, &l, no_vip, NULL);
	xlb_blocklist_free(&l);
	xlb_block_dp_close(&b);
}

/* Every row and pair, the floor first. */
static void run_all(struct bench_bpf *skel, double offsets[NOFFSETS])
{
	int prog_fds[NPROGS] = {
		[PROG_XLB] = bpf_program__fd(skel->progs.xlb_xdp),
		[PROG_VARY] = bpf_program__fd(skel->progs.bench_xlb_vary),
		[PROG_ENCAP] = bpf_program__fd(skel->progs.bench_xlb_encap),
		[PROG_FIB] = bpf_program__fd(skel->progs.bench_fib_lookup),
	};
	struct pkt_spec s;
	__u8 base[PKT_MAX], enc[PKT_MAX];
	size_t base_len, enc_len, i;
	double restore;

	floor_fd = bpf_program__fd(skel->progs.bench_floor);
	s = flow(4, IPPROTO_TCP, 80, TCP_ACK);
	floor_len = pkt_build(&s, floor_pkt);

	/* the ipip rows' restore step is one bpf_xdp_adjust_head: half of the headroom floor's two */
	restore = cost_over_floor(bpf_program__fd(skel->progs.bench_floor_headroom), 2);
	offsets[RESTORE_COST] = restore < 0 ? 0 : restore;
	/* the new-5-tuple rows: what varying the source costs on the floor */
	skel->bss->vary_offset = V4_SRC;
	offsets[VARY_COST] = cost_over_floor(bpf_program__fd(skel->progs.bench_floor_vary), 1);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(skel, &cases[i], prog_fds, offsets);
	run_block(skel, prog_fds[PROG_XLB]);
	for (i = 0; i < sizeof(ipip_pairs) / sizeof(ipip_pairs[0]); i++) {
		s = flow(ipip_pairs[i].family, IPPROTO_TCP, 80, TCP_ACK);
		base_len = pkt_build(&s, base);
		s.dport = 90;
		enc_len = pkt_build(&s, enc);
		measure_pair(ipip_pairs[i].name, prog_fds[PROG_XLB], base, base_len,
			     prog_fds[PROG_ENCAP], enc, enc_len, offsets[RESTORE_COST]);
	}

	memmove(&rows[1], &rows[0], nrows * sizeof(rows[0]));
	rows[0] = (struct row){ "floor", "MAC swap + XDP_TX", median_of(floors, nfloors), 1.0 };
	nrows++;
}

static const struct row *row_named(const char *name)
{
	int i;

	for (i = 0; i < nrows; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

/* Each scheduler's new flow beside Maglev's (syn4_cold) and the warm SYN (syn4). */
static void print_sched(void)
{
	static const char *const names[] = { "new_rr", "new_wrr", "new_lc", "new_wlc", "new_lt",
					     "new_persist", "new_persist_hit", "new_limits",
					     "new_limits_cap" };
	const struct row *cold = row_named("syn4_cold"), *warm = row_named("syn4"), *r;
	size_t i;

	if (!cold || !warm)
		return;
	printf("\n| new flow by scheduler | × floor | × syn4_cold (maglev) | × syn4 |\n"
	       "|---|---:|---:|---:|\n");
	printf("| maglev (syn4_cold) | %.2f | 1.00 | %.2f |\n", cold->ratio,
	       cold->ratio / warm->ratio);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = row_named(names[i]);
		if (r)
			printf("| %s | %.2f | %.2f | %.2f |\n", names[i] + 4, r->ratio,
			       r->ratio / cold->ratio, r->ratio / warm->ratio);
	}
}

static void print_times(const double offsets[NOFFSETS])
{
	int i;

	printf("| case | what | ns/packet | × floor |\n|---|---|---:|---:|\n");
	for (i = 0; i < nrows; i++)
		printf("| %s | %s | %.1f | %.2f |\n", rows[i].name, rows[i].what, rows[i].ns,
		       rows[i].ratio);
	print_sched();
	printf("\nwrapper cost subtracted from the new-5-tuple rows: %.1f ns\n", offsets[VARY_COST]);
	printf("restore step subtracted from the ipip rows: %.1f ns\n", offsets[RESTORE_COST]);
	printf("\n| forward ipip against l2dsr, same flow | × |\n|---|---:|\n");
	for (i = 0; i < npairs; i++)
		printf("| %s | %.2f |\n", pairs[i].name, pairs[i].ratio);
	printf("\n(median of %d per-round ratios, both sides timed back to back each round;\n"
	       "the restore step subtracted from the ipip side)\n", 2 * RUNS);
	printf("repeat %u, median of %d rounds (floor, case) per row, one CPU; ns as the kernel\n"
	       "times the loop, in whole ns; ratio = the row's median / the median floor of its rounds\n\n",
	       repeat, RUNS);
}

static void print_memory(struct bench_bpf *skel, __u32 ct_size)
{
	struct bpf_map *map;
	long total_mem = 0;

	printf("| map | memory (default limits) |\n|---|---:|\n");
	bpf_object__for_each_map(map, skel->obj) {
		long bytes = memlock_of(bpf_map__fd(map));

		if (bpf_map__type(map) == BPF_MAP_TYPE_ARRAY &&
		    strchr(bpf_map__name(map), '.'))
			continue; /* the bench's own globals */
		total_mem += bytes;
		printf("| %s | %.1f MiB |\n", bpf_map__name(map), bytes / 1048576.0);
	}
	printf("| one Maglev table (per VIP) | %.2f MiB |\n", XLB_MAGLEV_SIZE * 4 / 1048576.0);
	printf("| total, %u-entry connection table, 4 VIPs | %.1f MiB |\n\n", ct_size,
	       (total_mem + 4.0 * XLB_MAGLEV_SIZE * 4) / 1048576.0);
}

int main(int argc, char **argv)
{
	struct xlb_load_opts opts = XLB_LOAD_OPTS_DEFAULT;
	double offsets[NOFFSETS] = { 0 };
	struct bench_bpf *skel;
	struct xlb_dp dp;
	struct xlb_lb *lb;
	cpu_set_t cpus;
	int i;

	if (argc > 1)
		repeat = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		opts.ct_size = strtoul(argv[2], NULL, 0);
	/* one CPU: the per-CPU LRU and counters stay warm, as under RSS */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	ifindex = if_nametoindex("xlbt-b0");
	if (!ifindex) {
		fprintf(stderr, "bench: no interface xlbt-b0 (run through tests/bench/run.sh)\n");
		return 1;
	}

	skel = bench_setup(&opts, &dp, &lb);
	run_all(skel, offsets);
	print_times(offsets);
	print_memory(skel, opts.ct_size);
	printf("Maglev table build (user space, 65537 slots): 10 backends %.2f ms, 1000 backends %.2f ms\n\n",
	       maglev_build_ms(10), maglev_build_ms(1000));
	printf("Blocklist load (user/lib/block_dp.c, batched): %d IPv4 prefixes %.0f ms; "
	       "then %d IPv6 ones in their place %.0f ms\n\n",
	       BLOCK_RULES, block_load_ms[0], BLOCK_RULES, block_load_ms[1]);

	for (i = 0; i < nrows; i++)
		printf("BENCH %s %.1f %.2f\n", rows[i].name, rows[i].ns, rows[i].ratio);
	for (i = 0; i < npairs; i++)
		printf("BENCHPAIR %s %.2f\n", pairs[i].name, pairs[i].ratio);
	xlb_lb_free(lb);
	bench_bpf__destroy(skel);
	return 0;
}
