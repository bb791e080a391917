// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-gen: live traffic out of a veth, from the project's own generator
 * (live_gen.c). Bounded in count and time, always.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "live_gen.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: xlb-gen --dev IFACE --dst-mac MAC --dst ADDR [options]\n"
		"  --src-mac MAC      default: the device's\n"
		"  --dport N          default 80\n"
		"  --proto ack|syn|udp  default ack\n"
		"  --flows N          flows per thread, cycled (default 256)\n"
		"  --random           a new tuple every packet instead\n"
		"  --pairs            each flow twice in a row (establishes it in xlb)\n"
		"  --prefix ADDR/LEN  sources (default 198.19.0.0/16, 2001:db8:ff::/112)\n"
		"  --count N          frames in all (default 1000000)\n"
		"  --time SECS        time bound (default 10, at most 600)\n"
		"  --threads N        each pinned to its own CPU, its own flow set (default 1)\n"
		"  --rate PPS         pace to this many frames a second in all (default: no pacing)\n"
		"  --seed N           random mode: which tuples (default 0)\n"
		"  --batch N          BPF_PROG_RUN batch size (default: the kernel's, 64)\n"
		"  --sink             count the frames that come back on IFACE (XDP_DROP)\n"
		"addresses: 198.18.0.0/15 and 2001:db8::/32 only\n");
	exit(2);
}

static void on_signal(int sig)
{
	(void)sig;
	gen_stopping = 1;
}

static void need(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "xlb-gen: bad %s\n", what);
		exit(2);
	}
}

static int parse_daddr(const char *s, struct gen_opts *o)
{
	memset(o->daddr, 0, sizeof(o->daddr));
	if (inet_pton(AF_INET, s, &o->daddr[3]) == 1) {
		o->daddr[2] = htonl(0xffff);
		return 4;
	}
	return inet_pton(AF_INET6, s, o->daddr) == 1 ? 6 : -1;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dev", 1, 0, 'd' },	  { "dst-mac", 1, 0, 'm' }, { "src-mac", 1, 0, 'M' },
		{ "dst", 1, 0, 'a' },	  { "dport", 1, 0, 'p' },   { "proto", 1, 0, 'P' },
		{ "flows", 1, 0, 'f' },	  { "random", 0, 0, 'r' },  { "pairs", 0, 0, '2' },
		{ "prefix", 1, 0, 's' },  { "count", 1, 0, 'c' },   { "time", 1, 0, 't' },
		{ "threads", 1, 0, 'T' }, { "rate", 1, 0, 'R' },    { "seed", 1, 0, 'S' },
		{ "batch", 1, 0, 'b' },	  { "sink", 0, 0, 'k' },    { "help", 0, 0, 'h' },
		{ 0 },
	};
	struct gen_opts o = { .dport = 80, .sport_base = 1024, .kind = GEN_ACK, .flows = 256,
			      .threads = 1, .count = 1000000, .secs = 10, .netns_fd = -1 };
	const char *dev = NULL, *prefix = NULL, *kinds[] = { "udp", "ack", "syn" };
	int c, have_dmac = 0, have_smac = 0, family = 0, sink = 0;
	struct gen_result r;
	char err[256];
	__u64 back = 0;
	struct gen *g;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'm': need(!gen_parse_mac(optarg, o.dmac), "--dst-mac"); have_dmac = 1; break;
		case 'M': need(!gen_parse_mac(optarg, o.smac), "--src-mac"); have_smac = 1; break;
		case 'a': family = parse_daddr(optarg, &o); need(family > 0, "--dst"); break;
		case 'p': o.dport = atoi(optarg); need(o.dport > 0, "--dport"); break;
		case 'P': need(!gen_parse_kind(optarg, &o.kind), "--proto"); break;
		case 'f': o.flows = strtoul(optarg, NULL, 0); need(o.flows > 0, "--flows"); break;
		case 'r': o.flows = 0; break;
		case '2': o.pairs = 1; break;
		case 's': prefix = optarg; break;
		case 'c': o.count = strtoull(optarg, NULL, 0); break;
		case 't': o.secs = atof(optarg); need(o.secs > 0 && o.secs <= 600, "--time"); break;
		case 'T': o.threads = atoi(optarg); break;
		case 'R': o.rate = atof(optarg); need(o.rate >= 0, "--rate"); break;
		case 'S': o.seed = strtoul(optarg, NULL, 0); break;
		case 'b': o.batch = atoi(optarg); break;
		case 'k': sink = 1; break;
		default: usage();
		}
	}
	if (!dev || !have_dmac || !family || optind != argc)
		usage();
	o.family = family;
	o.ifindex = if_nametoindex(dev);
	need(o.ifindex > 0, "--dev (no such interface here)");
	if (!have_smac)
		need(!gen_dev_mac(o.ifindex, o.smac), "--dev (no MAC)");
	need(!gen_parse_prefix(prefix ? prefix : family == 4 ? "198.19.0.0/16" : "2001:db8:ff::/112",
			       &o), "--prefix (or its family)");

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	g = gen_load(err, sizeof(err));
	if (!g) {
		fprintf(stderr, "xlb-gen: %s\n", err);
		return 1;
	}
	if (sink && gen_sink_attach(g, o.ifindex)) {
		fprintf(stderr, "xlb-gen: cannot attach the sink to %s\n", dev);
		gen_free(g);
		return 1;
	}
	if (gen_run(g, &o, &r, err, sizeof(err))) {
		fprintf(stderr, "xlb-gen: %s\n", err);
		gen_free(g);
		return 1;
	}
	if (sink)
		back = gen_sink_settled(g);
	printf("xlb-gen: sent %llu frames (%s, ", (unsigned long long)r.sent, kinds[o.kind]);
	if (o.flows)
		printf("%u flows per thread%s", o.flows, o.pairs ? " in pairs" : "");
	else
		printf("a new tuple every packet");
	printf(", %d thread%s) in %.3f s: %.3f Mpps, %.3f Mpps in the kernel's time%s\n", o.threads,
	       o.threads > 1 ? "s" : "", r.secs, r.secs > 0 ? r.sent / r.secs / 1e6 : 0,
	       r.kernel_mpps, r.interrupted ? " (interrupted)" : "");
	if (sink)
		printf("xlb-gen: %llu frames came back on %s\n", (unsigned long long)back, dev);
	printf("GEN sent=%llu secs=%.6f kernel_mpps=%.4f back=%llu\n", (unsigned long long)r.sent,
	       r.secs, r.kernel_mpps, (unsigned long long)back);
	gen_free(g);
	return r.interrupted ? 130 : 0;
}
