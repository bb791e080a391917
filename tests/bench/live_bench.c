// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The live rows of make bench (tests/bench/live.sh makes the namespaces):
 * the project's generator (live_gen.c) sends frames out of its veth in
 * one namespace; in this one, the real xlb data plane (xlb.skel.h, loaded
 * as xlbd loads it, one VIP and four L2 DSR backends whose MAC is the
 * generator's) runs on the peer in native mode and sends them back by
 * XDP_TX, where the sink counts them. The floor is a MAC swap and XDP_TX
 * attached instead, measured the same way, round by round beside xlb.
 *
 * usage: xlb-live-bench GEN_NS GEN_DEV LB_DEV [SECS [ROUNDS [ROW...]]]
 * A row name with _t2 runs it with 2 generator threads.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xlb.skel.h"
#include "live_gen.h"
#include "../../user/lib/dataplane.h"
#include "../../user/lib/lb.h"
#include "../packet/pkt.h"

#define MAX_ROUNDS 15
#define VIP "198.18.100.10"
#define NBACKENDS 4

struct row_spec {
	const char *name;
	const char *what;
	enum gen_kind kind;
	__u32 flows;   /* in the table, all threads together; 0: a new tuple every packet */
	int establish; /* each flow seen twice first: promoted to the main table */
	__u32 ct_size; /* conntrack.size (per family) */
};

static const struct row_spec specs[] = {
	{ "live_udp256", "UDP, 256 established flows", GEN_UDP, 256, 1, XLB_CT_SIZE },
	{ "live_ack256", "TCP ACK, 256 established flows", GEN_ACK, 256, 1, XLB_CT_SIZE },
	{ "live_ack64k", "TCP ACK, 65,536 established flows", GEN_ACK, 65536, 1, XLB_CT_SIZE },
	{ "live_ack1m", "TCP ACK, 1,000,000 established flows", GEN_ACK, 1000000, 1, 2000000 },
	{ "live_syn64k", "TCP SYN, 65,536 tuples", GEN_SYN, 65536, 0, XLB_CT_SIZE },
	{ "live_flood", "TCP ACK, a new 5-tuple every packet", GEN_ACK, 0, 0, XLB_CT_SIZE },
};

struct row_result {
	char name[32];
	const struct row_spec *spec;
	int threads;
	double floor_mpps, xlb_mpps, ratio, wall_floor, wall_xlb, ns_per_pkt;
	__u64 sent, forwarded, received, lost, before_lb, established, main_hits, xlb_forwarded;
};

struct bench {
	int lb_ns, gen_ns;       /* namespace fds */
	int gen_ifindex, lb_ifindex;
	__u8 gen_mac[6], lb_mac[6];
	struct gen *gen;
	double secs;
	int rounds;
};

/* The data plane under test: loaded fresh for each row. */
struct lb_side {
	struct xlb_bpf *skel;
	struct xlb_dp dp;
	struct xlb_lb *lb;
	int link_fd;
	int xlb_fd;
};

static void die(const char *what)
{
	fprintf(stderr, "xlb-live-bench: %s%s%s\n", what, errno ? ": " : "",
		errno ? strerror(errno) : "");
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void add_vip(struct lb_side *s, const struct bench *b, __u16 port, __u8 proto)
{
	struct vip_key k = { .port = htons(port), .proto = proto };
	struct xlb_backend_spec be = { .weight = 1, .state = XLB_BE_UP,
				       .ifindex = b->lb_ifindex };
	char addr[32];
	int i;

	addr_parse16(VIP, k.addr);
	if (xlb_lb_vip_add(s->lb, &k, XLB_SCHED_MAGLEV, XLB_FWD_L2DSR) < 0)
		die("VIP add");
	memcpy(be.mac, b->gen_mac, 6); /* every backend's frames go back to the sink */
	memcpy(be.src_mac, b->lb_mac, 6);
	for (i = 0; i < NBACKENDS; i++) {
		snprintf(addr, sizeof(addr), "198.18.0.%d", 11 + i);
		addr_parse16(addr, be.addr);
		if (xlb_lb_backend_add(s->lb, &k, &be) < 0)
			die("backend add");
	}
}

static void lb_up(struct lb_side *s, const struct bench *b, __u32 ct_size)
{
	struct xlb_load_opts opts = XLB_LOAD_OPTS_DEFAULT;
	LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = XDP_FLAGS_DRV_MODE);

	memset(s, 0, sizeof(*s));
	s->skel = xlb_bpf__open();
	if (!s->skel)
		die("xlb open");
	opts.ct_size = ct_size;
	XLB_SKEL_CONFIGURE(s->skel, &opts);
	/* the rows are IPv4: the IPv6 table need not take memory and load time */
	bpf_map__set_max_entries(s->skel->maps.flows6, 1024);
	if (xlb_bpf__load(s->skel))
		die("xlb load");
	if (xlb_dp_init(&s->dp, s->skel->obj))
		die("xlb maps");
	s->lb = xlb_lb_new(&s->dp);
	if (!s->lb)
		die("xlb_lb_new");
	add_vip(s, b, 80, IPPROTO_TCP);
	add_vip(s, b, 53, IPPROTO_UDP);
	s->xlb_fd = bpf_program__fd(s->skel->progs.xlb_xdp);
	s->link_fd = bpf_link_create(s->xlb_fd, b->lb_ifindex, BPF_XDP, &lopts);
	if (s->link_fd < 0)
		die("attach xlb (native XDP) to the LB's veth");
}

static void lb_down(struct lb_side *s)
{
	close(s->link_fd); /* not pinned: closing the link detaches it */
	xlb_lb_free(s->lb);
	xlb_bpf__destroy(s->skel);
}

static void lb_use(struct lb_side *s, int prog_fd)
{
	if (bpf_link_update(s->link_fd, prog_fd, NULL))
		die("swap the LB's program");
}

static __u64 stat_of(struct lb_side *s, enum xlb_stat i)
{
	__u64 v[XLB_STAT_MAX];

	if (xlb_dp_stats(&s->dp, v))
		die("xlb stats");
	return v[i];
}

/* Every packet xlb saw leaves under one outcome: pass_*, drop_*, tx, redirect. */
static __u64 xlb_seen(struct lb_side *s)
{
	__u64 v[XLB_STAT_MAX], n = 0;
	int i;

	if (xlb_dp_stats(&s->dp, v))
		die("xlb stats");
	for (i = 0; i < XLB_STAT_MAX; i++)
		if (xlb_stat_names[i] && (xlb_stat_class[i] != XLB_STAT_CLASS_INFO ||
					  i == XLB_STAT_TX || i == XLB_STAT_REDIRECT))
			n += v[i];
	return n;
}

static void gen_opts_of(const struct bench *b, const struct row_spec *spec, int threads,
			struct gen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ifindex = b->gen_ifindex;
	memcpy(o->dmac, b->lb_mac, 6);
	memcpy(o->smac, b->gen_mac, 6);
	o->family = 4;
	addr_parse16(VIP, o->daddr);
	if (gen_parse_prefix("198.19.0.0/16", o))
		die("prefix");
	o->dport = spec->kind == GEN_UDP ? 53 : 80;
	o->sport_base = 1024;
	o->kind = spec->kind;
	o->flows = spec->flows / threads;
	o->threads = threads;
	o->netns_fd = b->gen_ns;
}

static void run(struct bench *b, const struct gen_opts *o, struct gen_result *r)
{
	char err[256];

	if (gen_run(b->gen, o, r, err, sizeof(err))) {
		fprintf(stderr, "xlb-live-bench: %s\n", err);
		exit(1);
	}
	if (r->interrupted)
		exit(130);
}

/* Each flow twice in a row until the main table holds them all (3 passes at most). */
static void establish(struct bench *b, struct lb_side *s, struct gen_opts o,
		      struct row_result *res)
{
	__u64 p0 = stat_of(s, XLB_STAT_CT_PROMOTED);
	struct gen_result r;
	int pass;

	o.pairs = 1;
	o.count = 2ull * o.flows * o.threads;
	o.secs = 60;
	for (pass = 0; pass < 3 && res->established < (__u64)o.flows * o.threads; pass++) {
		run(b, &o, &r);
		gen_sink_settled(b->gen);
		res->established = stat_of(s, XLB_STAT_CT_PROMOTED) - p0;
	}
}

struct sample {
	double mpps, wall;
	__u64 sent, forwarded, received, seen;
};

/* One timed run on whichever program the LB's link runs now. */
static void sample(struct bench *b, struct lb_side *s, int is_floor, const struct gen_opts *o,
		   double secs, struct sample *out)
{
	__u64 f0, k0, seen0;
	struct gen_opts run_o = *o;
	struct gen_result r;

	run_o.secs = secs;
	run_o.count = (__u64)(secs * 50e6); /* the time bound ends it */
	k0 = gen_count(b->gen, GEN_COUNT_SINK);
	f0 = is_floor ? gen_count(b->gen, GEN_COUNT_FLOOR) : stat_of(s, XLB_STAT_TX);
	seen0 = is_floor ? f0 : xlb_seen(s);
	run(b, &run_o, &r);
	out->received = gen_sink_settled(b->gen) - k0;
	out->forwarded = (is_floor ? gen_count(b->gen, GEN_COUNT_FLOOR) : stat_of(s, XLB_STAT_TX)) -
			 f0;
	out->seen = (is_floor ? out->forwarded + f0 : xlb_seen(s)) - seen0;
	out->sent = r.sent;
	/* what came back, at the rate the kernel timed the threads at */
	out->mpps = r.sent ? r.kernel_mpps * out->received / r.sent : 0;
	out->wall = r.secs > 0 ? out->received / r.secs / 1e6 : 0;
}

/* xlb's own cost per packet, from bpf_stats (run_time_ns / run_cnt). */
static double xlb_ns_per_packet(struct bench *b, struct lb_side *s, const struct gen_opts *o)
{
	struct bpf_prog_info i0 = {}, i1 = {};
	__u32 len = sizeof(i0);
	struct sample x;
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(s->xlb_fd, &i0, &len))
		die("prog info");
	sample(b, s, 0, o, b->secs / 2, &x);
	len = sizeof(i1);
	if (bpf_obj_get_info_by_fd(s->xlb_fd, &i1, &len))
		die("prog info");
	close(fd);
	return i1.run_cnt > i0.run_cnt ?
		       (double)(i1.run_time_ns - i0.run_time_ns) / (i1.run_cnt - i0.run_cnt) : -1;
}

static void row_run(struct bench *b, const struct row_spec *spec, int threads,
		    struct row_result *res)
{
	double fl[MAX_ROUNDS], xl[MAX_ROUNDS], ratio[MAX_ROUNDS], wf[MAX_ROUNDS], wx[MAX_ROUNDS];
	struct lb_side s;
	struct gen_opts o;
	struct sample f, x;
	__u64 hits0;
	int i;

	memset(res, 0, sizeof(*res));
	snprintf(res->name, sizeof(res->name), "%s%s", spec->name, threads > 1 ? "_t2" : "");
	res->spec = spec;
	res->threads = threads;
	lb_up(&s, b, spec->ct_size);
	gen_opts_of(b, spec, threads, &o);
	o.seed = 0x5eed0000u + threads;
	if (spec->establish)
		establish(b, &s, o, res);
	hits0 = stat_of(&s, XLB_STAT_CT_HIT);
	for (i = 0; i < b->rounds; i++) {
		lb_use(&s, gen_floor_fd(b->gen));
		sample(b, &s, 1, &o, b->secs, &f);
		lb_use(&s, s.xlb_fd);
		sample(b, &s, 0, &o, b->secs, &x);
		fl[i] = f.mpps;
		xl[i] = x.mpps;
		wf[i] = f.wall;
		wx[i] = x.wall;
		ratio[i] = f.mpps > 0 ? x.mpps / f.mpps : 0;
		res->sent += f.sent + x.sent;
		res->forwarded += f.forwarded + x.forwarded;
		res->xlb_forwarded += x.forwarded;
		res->received += f.received + x.received;
		if (f.forwarded > f.received)
			res->lost += f.forwarded - f.received;
		if (x.forwarded > x.received)
			res->lost += x.forwarded - x.received;
		res->before_lb += (f.sent - f.seen) + (x.sent - x.seen);
	}
	res->main_hits = stat_of(&s, XLB_STAT_CT_HIT) - hits0;
	res->floor_mpps = median(fl, b->rounds);
	res->xlb_mpps = median(xl, b->rounds);
	res->wall_floor = median(wf, b->rounds);
	res->wall_xlb = median(wx, b->rounds);
	res->ratio = median(ratio, b->rounds);
	res->ns_per_pkt = xlb_ns_per_packet(b, &s, &o);
	lb_down(&s);
}

static void in_ns(int fd)
{
	if (setns(fd, CLONE_NEWNET))
		die("setns");
}

static void bench_setup(struct bench *b, const char *gen_ns, const char *gen_dev,
			const char *lb_dev)
{
	char path[256], err[256];

	b->lb_ns = open("/proc/self/ns/net", O_RDONLY);
	snprintf(path, sizeof(path), "/run/netns/%s", gen_ns);
	b->gen_ns = open(path, O_RDONLY);
	if (b->lb_ns < 0 || b->gen_ns < 0)
		die("namespaces");
	b->lb_ifindex = if_nametoindex(lb_dev);
	if (!b->lb_ifindex || gen_dev_mac(b->lb_ifindex, b->lb_mac))
		die("the LB's veth");
	b->gen = gen_load(err, sizeof(err));
	if (!b->gen)
		die(err);
	in_ns(b->gen_ns);
	b->gen_ifindex = if_nametoindex(gen_dev);
	if (!b->gen_ifindex || gen_dev_mac(b->gen_ifindex, b->gen_mac))
		die("the generator's veth");
	if (gen_sink_attach(b->gen, b->gen_ifindex))
		die("attach the sink");
	in_ns(b->lb_ns);
}

static const struct row_spec *spec_of(const char *name, int *threads)
{
	size_t i, n = strlen(name);

	*threads = 1;
	if (n > 3 && !strcmp(name + n - 3, "_t2")) {
		*threads = 2;
		n -= 3;
	}
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (strlen(specs[i].name) == n && !strncmp(specs[i].name, name, n))
			return &specs[i];
	return NULL;
}

static void print_rows(const struct row_result *r, int n, const struct bench *b)
{
	int i;

	printf("| row | case | generator threads | floor Mpps | xlb Mpps | xlb × floor | "
	       "xlb − floor, ns/frame | xlb ns/packet | frames |\n"
	       "|---|---|---:|---:|---:|---:|---:|---:|---|\n");
	for (i = 0; i < n; i++) {
		const struct row_result *x = &r[i];
		char check[160];
		int k;

		k = x->lost ? snprintf(check, sizeof(check), "**LOST %llu** of %llu forwarded",
				       (unsigned long long)x->lost,
				       (unsigned long long)x->forwarded) :
			      snprintf(check, sizeof(check), "all %llu forwarded came back",
				       (unsigned long long)x->forwarded);
		if (x->spec->establish && x->established < x->spec->flows)
			k += snprintf(check + k, sizeof(check) - k, "; **only %llu established**",
				      (unsigned long long)x->established);
		if (x->spec->establish && x->main_hits < x->xlb_forwarded * 99 / 100)
			snprintf(check + k, sizeof(check) - k, "; **main table hits %.1f%%**",
				 100.0 * x->main_hits / x->xlb_forwarded);
		/* per thread: each CPU's frame takes that long more */
		printf("| %s | %s | %d | %.2f | %.2f | %.2f | %.0f | %.0f | %s |\n", x->name,
		       x->spec->what, x->threads, x->floor_mpps, x->xlb_mpps, x->ratio,
		       x->xlb_mpps > 0 && x->floor_mpps > 0 ?
			       x->threads * 1e3 * (1 / x->xlb_mpps - 1 / x->floor_mpps) : 0,
		       x->ns_per_pkt, check);
	}
	printf("\n| row | frames sent | not seen by the LB (veth ring full) | wall-clock Mpps, floor / xlb |\n"
	       "|---|---:|---:|---:|\n");
	for (i = 0; i < n; i++)
		printf("| %s | %llu | %llu | %.2f / %.2f |\n", r[i].name,
		       (unsigned long long)r[i].sent, (unsigned long long)r[i].before_lb,
		       r[i].wall_floor, r[i].wall_xlb);
	printf("\n%d rounds of (floor, xlb) per row, %.1f s each; Mpps and ratio: medians\n\n",
	       b->rounds, b->secs);
	for (i = 0; i < n; i++)
		printf("BENCH %s %.2f %.2f\n", r[i].name, r[i].xlb_mpps, r[i].ratio);
}

int main(int argc, char **argv)
{
	static const char *const all[] = { "live_udp256", "live_ack256", "live_ack64k",
					   "live_ack1m", "live_syn64k", "live_flood",
					   "live_udp256_t2", "live_ack256_t2", "live_ack64k_t2",
					   "live_ack1m_t2", "live_syn64k_t2", "live_flood_t2" };
	static struct row_result res[32];
	const char *const *names = all;
	struct bench b = { .secs = 1.0, .rounds = 3 };
	int n = sizeof(all) / sizeof(all[0]), i, threads;

	if (argc < 4) {
		fprintf(stderr, "usage: xlb-live-bench GEN_NS GEN_DEV LB_DEV [SECS [ROUNDS [ROW...]]]\n");
		return 2;
	}
	if (argc > 4)
		b.secs = atof(argv[4]);
	if (argc > 5)
		b.rounds = atoi(argv[5]);
	if (argc > 6) {
		names = (const char *const *)&argv[6];
		n = argc - 6;
	}
	if (!(b.secs > 0 && b.secs <= 30) || b.rounds < 1 || b.rounds > MAX_ROUNDS ||
	    n > (int)(sizeof(res) / sizeof(res[0]))) {
		fprintf(stderr, "xlb-live-bench: SECS 0..30, ROUNDS 1..%d, at most 32 rows\n",
			MAX_ROUNDS);
		return 2;
	}
	for (i = 0; i < n; i++)
		if (!spec_of(names[i], &threads)) {
			fprintf(stderr, "xlb-live-bench: no row %s\n", names[i]);
			return 2;
		}
	bench_setup(&b, argv[1], argv[2], argv[3]);
	for (i = 0; i < n; i++) {
		const struct row_spec *spec = spec_of(names[i], &threads);

		fprintf(stderr, "xlb-live-bench: %s\n", names[i]);
		row_run(&b, spec, threads, &res[i]);
	}
	print_rows(res, n, &b);
	gen_free(b.gen);
	return 0;
}
