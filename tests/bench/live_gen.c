// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The live-traffic generator: a template frame, the program's settings,
 * and one thread per CPU, each running BPF_PROG_RUN with live frames in
 * chunks until its share of the count or the time bound is reached.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "live_gen.h" /* first: the skeleton names its types */
#include "live.skel.h"
#include "../packet/pkt.h"

#define CHUNK 65536 /* frames of a thread's first BPF_PROG_RUN call: it measures the rate */

volatile sig_atomic_t gen_stopping;

struct gen {
	struct live_bpf *skel;
	struct bpf_link *sink;
};

struct gen_worker {
	struct gen *g;
	const struct gen_opts *o;
	pthread_barrier_t *start;
	const __u8 *frame;
	size_t len;
	int cpu;
	__u64 share;   /* frames this thread makes at most */
	double t0;     /* the common start, set by the main thread */
	double end;
	int err;       /* -errno of a failed run */
	double kernel_ns; /* the kernel's time for this thread's frames */
	__u64 done;
	int setup_failed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct gen *gen_load(char *err, size_t errlen)
{
	struct gen *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->skel = live_bpf__open_and_load();
	if (!g->skel) {
		snprintf(err, errlen, "cannot load the generator's programs: %s", strerror(errno));
		free(g);
		return NULL;
	}
	return g;
}

void gen_free(struct gen *g)
{
	if (!g)
		return;
	bpf_link__destroy(g->sink);
	live_bpf__destroy(g->skel);
	free(g);
}

int gen_sink_attach(struct gen *g, int ifindex)
{
	/* a link: it goes when this process does */
	g->sink = bpf_program__attach_xdp(g->skel->progs.sink_xdp, ifindex);
	return g->sink ? 0 : -errno;
}

int gen_floor_fd(struct gen *g)
{
	return bpf_program__fd(g->skel->progs.floor_xdp);
}

__u64 gen_count(struct gen *g, enum gen_count slot)
{
	int ncpus = libbpf_num_possible_cpus(), i;
	__u32 key = slot;
	__u64 *v, sum = 0;

	if (ncpus <= 0)
		return 0;
	v = calloc(ncpus, sizeof(*v));
	if (v && !bpf_map_lookup_elem(bpf_map__fd(g->skel->maps.counts), &key, v))
		for (i = 0; i < ncpus; i++)
			sum += v[i];
	free(v);
	return sum;
}

__u64 gen_sink_settled(struct gen *g)
{
	__u64 last = gen_count(g, GEN_COUNT_SINK), n;
	double end = now_s() + 1.0;
	int still = 0;

	while (still < 3 && now_s() < end) {
		struct timespec ts = { 0, 10 * 1000000 };

		nanosleep(&ts, NULL);
		n = gen_count(g, GEN_COUNT_SINK);
		still = n == last ? still + 1 : 0;
		last = n;
	}
	return last;
}

static __u16 word_at(const __u8 *p)
{
	__u16 w;

	memcpy(&w, p, 2);
	return w;
}

static __u32 not16(__u16 w)
{
	return ~w & 0xffff;
}

/*
 * The template frame, and the program's settings for it: 60 bytes for
 * IPv4 (the minimum Ethernet frame), 74 for IPv6 (its TCP header's end).
 */
static size_t template_build(const struct gen_opts *o, __u8 *frame, struct gen_cfg *c)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int v4 = o->family == 4, tcp = o->kind != GEN_UDP;
	size_t l3 = ETH_HLEN, l4 = l3 + (v4 ? 20 : 40), len, sa;
	struct pkt_spec s = {
		.family = o->family, .proto = tcp ? IPPROTO_TCP : IPPROTO_UDP,
		.saddr = src, .daddr = dst, .sport = o->sport_base, .dport = o->dport,
		.tcp_flags = o->kind == GEN_SYN ? 0x02 : 0x10, .df = 1,
	};

	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? (const void *)&o->saddr[3] : o->saddr, src,
		  sizeof(src));
	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? (const void *)&o->daddr[3] : o->daddr, dst,
		  sizeof(dst));
	s.payload = (v4 ? 60 : 74) - (int)l4 - (tcp ? 20 : 8);
	memcpy(s.dmac, o->dmac, 6);
	memcpy(s.smac, o->smac, 6);
	len = pkt_build(&s, frame);

	memset(c, 0, sizeof(*c));
	memcpy(c->dmac, o->dmac, 6);
	memcpy(c->smac, o->smac, 6);
	c->family = o->family;
	c->tcp = tcp;
	c->tcp_flags = s.tcp_flags;
	c->mode = !o->flows ? GEN_RANDOM : o->pairs ? GEN_PAIRS : GEN_FLOWS;
	c->host_bits = o->host_bits;
	c->prefix = ntohl(o->saddr[3]) & ~(__u32)((1ull << o->host_bits) - 1);
	c->sport_base = o->sport_base;
	c->seed = o->seed;
	/* the varied words: the source's last 4 bytes, the port, the flags' word */
	sa = v4 ? l3 + 12 : l3 + 8 + 12;
	if (v4)
		c->ip_csum_base = not16(word_at(frame + l3 + 10)) + not16(word_at(frame + sa)) +
				  not16(word_at(frame + sa + 2));
	c->l4_csum_base = not16(word_at(frame + l4 + (tcp ? 16 : 6))) +
			  not16(word_at(frame + sa)) + not16(word_at(frame + sa + 2)) +
			  not16(word_at(frame + l4));
	if (tcp)
		c->l4_csum_base += not16(word_at(frame + l4 + 12));
	return len;
}

/* n frames in one BPF_PROG_RUN call; *ns: the kernel's time for them. */
static int worker_run_chunk(struct gen_worker *w, __u32 n, double *ns)
{
	struct xdp_md ctx = { .data_end = w->len, .ingress_ifindex = w->o->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = w->frame, .data_size_in = w->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = w->o->batch);

	if (bpf_prog_test_run_opts(bpf_program__fd(w->g->skel->progs.gen_xdp), &opts))
		return -errno;
	*ns = (double)opts.duration * n; /* duration: ns per frame */
	return 0;
}

/*
 * How many frames the next call makes. Each call costs tens of ms of
 * setup (the page pool's teardown waits for an RCU grace period), so
 * calls are long: up to a second's worth at the rate seen so far, never
 * past the time bound. Paced: a twentieth of a second's worth, once due.
 */
static __u64 next_chunk(const struct gen_worker *w, __u64 done, double seen_rate, double t,
			double *sleep_s)
{
	double left = w->o->secs - (t - w->t0), rate = w->o->rate / w->o->threads, n;

	*sleep_s = 0;
	if (rate > 0) {
		double due = w->t0 + done / rate;

		if (due > t) {
			*sleep_s = due - t < left ? due - t : left; /* wakes for the bound too */
			return 0;
		}
		n = rate / 20;
	} else {
		n = seen_rate > 0 ? seen_rate * (left < 1 ? left : 1) : CHUNK;
	}
	if (n < 64)
		n = 64;
	if (n > w->share - done)
		n = w->share - done;
	return n > 0xffffffffu ? 0xffffffffu : (__u64)n;
}

static void *worker(void *arg)
{
	struct gen_worker *w = arg;
	const struct gen_opts *o = w->o;
	double t, t1, pause, seen_rate = 0, ns = 0;
	__u64 done = 0, n;
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(w->cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) ||
	    (o->netns_fd >= 0 && setns(o->netns_fd, CLONE_NEWNET)))
		w->setup_failed = 1;
	pthread_barrier_wait(w->start);
	while (!w->err && !w->setup_failed && done < w->share && !gen_stopping) {
		t = now_s();
		if (t - w->t0 >= o->secs)
			break;
		n = next_chunk(w, done, seen_rate, t, &pause);
		if (!n) {
			struct timespec ts = { (time_t)pause, (long)((pause - (time_t)pause) * 1e9) };

			nanosleep(&ts, NULL);
			continue;
		}
		w->err = worker_run_chunk(w, n, &ns);
		t1 = now_s();
		if (!w->err) {
			done += n;
			w->kernel_ns += ns;
			seen_rate = t1 > t ? n / (t1 - t) : 0;
		}
	}
	w->end = now_s();
	w->done = done;
	return NULL;
}

/* The first n CPUs this process may run on. */
static int pick_cpus(int n, int *cpu, char *err, size_t errlen)
{
	cpu_set_t set;
	int c, k = 0;

	if (sched_getaffinity(0, sizeof(set), &set)) {
		snprintf(err, errlen, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	for (c = 0; c < GEN_MAX_CPUS && k < n; c++)
		if (CPU_ISSET(c, &set))
			cpu[k++] = c;
	if (k < n) {
		snprintf(err, errlen, "%d threads need %d CPUs, %d available (below %d)", n, n, k,
			 GEN_MAX_CPUS);
		return -1;
	}
	return 0;
}

/* The addresses tests may use: 198.18.0.0/15 and 2001:db8::/32. */
static int addr_allowed(int family, const __be32 a[4])
{
	if (family == 4)
		return (ntohl(a[3]) & 0xfffe0000) == 0xc6120000;
	return ntohl(a[0]) == 0x20010db8;
}

static int opts_check(const struct gen_opts *o, char *err, size_t errlen)
{
	__u64 space = (1ull << o->host_bits) * (65536 - o->sport_base);

	if (o->threads < 1 || o->threads > GEN_MAX_CPUS)
		snprintf(err, errlen, "threads: 1..%d", GEN_MAX_CPUS);
	else if (o->family != 4 && o->family != 6)
		snprintf(err, errlen, "family: 4 or 6");
	else if (o->host_bits > 31)
		snprintf(err, errlen, "the source prefix is too short");
	else if (!addr_allowed(o->family, o->saddr) || !addr_allowed(o->family, o->daddr))
		snprintf(err, errlen, "addresses: 198.18.0.0/15 and 2001:db8::/32 only");
	else if (o->flows && (__u64)o->flows * o->threads > space)
		snprintf(err, errlen, "%u flows x %d threads do not fit the source prefix and ports",
			 o->flows, o->threads);
	else if (!(o->secs > 0) || !o->count)
		snprintf(err, errlen, "a run needs a count and a time bound");
	else
		return 0;
	return -1;
}

int gen_run(struct gen *g, const struct gen_opts *o, struct gen_result *r, char *err,
	    size_t errlen)
{
	struct gen_worker w[GEN_MAX_CPUS] = {};
	__u64 seq0[GEN_MAX_CPUS];
	pthread_t tid[GEN_MAX_CPUS];
	pthread_barrier_t start;
	__u8 frame[PKT_MAX];
	int cpu[GEN_MAX_CPUS], i, failed = 0;
	size_t len;
	double t0;

	memset(r, 0, sizeof(*r));
	if (opts_check(o, err, errlen) || pick_cpus(o->threads, cpu, err, errlen))
		return -1;
	len = template_build(o, frame, &g->skel->bss->cfg);
	for (i = 0; i < o->threads; i++) {
		struct gen_thread *t = &g->skel->bss->threads[cpu[i]];

		t->first_flow = i * o->flows;
		t->nflows = o->flows;
		t->cursor = 0;
		t->tid = i;
		t->nthreads = o->threads;
		seq0[i] = t->seq;
		w[i] = (struct gen_worker){ .g = g, .o = o, .start = &start, .frame = frame,
					    .len = len, .cpu = cpu[i],
					    .share = o->count / o->threads +
						     (i < (int)(o->count % o->threads)) };
	}
	pthread_barrier_init(&start, NULL, o->threads + 1);
	for (i = 0; i < o->threads; i++)
		if (pthread_create(&tid[i], NULL, worker, &w[i])) {
			fprintf(stderr, "xlb-gen: pthread_create failed\n");
			exit(1); /* the barrier would never open */
		}
	/* the threads wait at the barrier: they read the start after it */
	t0 = now_s();
	for (i = 0; i < o->threads; i++)
		w[i].t0 = t0;
	pthread_barrier_wait(&start);
	for (i = 0; i < o->threads; i++) {
		pthread_join(tid[i], NULL);
		/* what the program really made, an interrupted call's part included */
		r->sent += g->skel->bss->threads[cpu[i]].seq - seq0[i];
		if (w[i].kernel_ns > 0)
			r->kernel_mpps += w[i].done / w[i].kernel_ns * 1e3;
		if (w[i].end - t0 > r->secs)
			r->secs = w[i].end - t0;
		if ((w[i].err || w[i].setup_failed) && !failed) {
			failed = 1;
			if (w[i].err == -EINTR)
				r->interrupted = 1;
			else if (w[i].err)
				snprintf(err, errlen, "BPF_PROG_RUN (live frames): %s",
					 strerror(-w[i].err));
			else
				snprintf(err, errlen, "thread setup (CPU %d, namespace) failed",
					 w[i].cpu);
		}
	}
	pthread_barrier_destroy(&start);
	r->interrupted |= gen_stopping;
	return failed && !r->interrupted ? -1 : 0;
}

int gen_parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char end;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = b[i];
	}
	return 0;
}

/* ADDR/LEN: IPv4 within 198.18.0.0/15, IPv6 within 2001:db8::/32 and /96 or longer. */
int gen_parse_prefix(const char *s, struct gen_opts *o)
{
	char buf[64], *slash;
	int len, family;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	len = atoi(slash + 1);
	memset(o->saddr, 0, sizeof(o->saddr));
	if (inet_pton(AF_INET, buf, &o->saddr[3]) == 1) {
		family = 4;
		o->saddr[2] = htonl(0xffff);
		if (len < 15 || len > 32)
			return -1;
		o->host_bits = 32 - len;
	} else if (inet_pton(AF_INET6, buf, o->saddr) == 1) {
		family = 6;
		if (len < 96 || len > 128)
			return -1;
		o->host_bits = 128 - len;
	} else {
		return -1;
	}
	if (o->host_bits > 31 || (o->family && o->family != family) ||
	    !addr_allowed(family, o->saddr))
		return -1;
	o->family = family;
	return 0;
}

int gen_parse_kind(const char *s, enum gen_kind *kind)
{
	if (!strcmp(s, "udp"))
		*kind = GEN_UDP;
	else if (!strcmp(s, "ack"))
		*kind = GEN_ACK;
	else if (!strcmp(s, "syn"))
		*kind = GEN_SYN;
	else
		return -1;
	return 0;
}

int gen_dev_mac(int ifindex, __u8 mac[6])
{
	struct ifreq ifr = {};
	int fd, rc;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (rc)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}
