// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test probe for a running data plane, through its pins:
 *
 *   probe flow DIR IFNAME SRC SPORT VIP [syn|fin]
 *       run one packet through the program attached to IFNAME (as if it
 *       came in there) and print the verdict and the destination MAC
 *   probe table-check DIR VIP ADDR=WEIGHT...
 *       compare the VIP's pinned Maglev table, slot by slot, with one built
 *       here from the given backends
 *   probe table-id DIR VIP      id of the VIP's current table (inner map)
 *   probe ct-count DIR          entries in the main connection tables (flows4 +
 *                               flows6; an older build's pins: its conntrack)
 *   probe ct-fill DIR N VIP BACKEND_ID [FIRST]
 *       put N established flows of VIP on that backend into flows4, seen
 *       now, from the CPUs in turn (each has its share of the LRU table);
 *       FIRST: the tuples from that index on (another fill's do not collide)
 *   probe in-service DIR
 *       over every VIP's table: "named N serving M", the backends the
 *       tables name and those of them that take new flows (KEEP_FLOWS)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "../../maps/xlb_maps.h"
#include "../../user/lib/dataplane.h"
#include "../../user/lib/maglev.h"
#include "../../user/lib/syntax.h"
#include "../packet/pkt.h"

static int pinned(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "probe: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

static void vip_arg(const char *s, struct vip_key *key)
{
	char err[128];

	if (xlb_parse_vip(s, key, err, sizeof(err))) {
		fprintf(stderr, "probe: %s: %s\n", s, err);
		exit(2);
	}
}

static __u32 vip_id(const char *dir, const struct vip_key *key)
{
	struct vip_meta meta;

	if (bpf_map_lookup_elem(pinned(dir, "vips"), key, &meta)) {
		fprintf(stderr, "probe: VIP not in the vips map\n");
		exit(1);
	}
	return meta.id;
}

static int table_fd(const char *dir, __u32 id, __u32 *inner_id)
{
	if (bpf_map_lookup_elem(pinned(dir, "maglev_tables"), &id, inner_id)) {
		fprintf(stderr, "probe: VIP has no table\n");
		exit(1);
	}
	return bpf_map_get_fd_by_id(*inner_id);
}

static int cmd_flow(int argc, char **argv)
{
	struct pkt_spec s = { .payload = 16, .tcp_flags = 0x10 };
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	struct vip_key key;
	char path[512], addr[XLB_ADDR_STR_MAX], src[XLB_ADDR_STR_MAX];
	__u8 in[PKT_MAX], out[PKT_MAX];
	int link_fd, prog_fd, ifindex;
	size_t n;

	if (argc < 7)
		return 2;
	ifindex = if_nametoindex(argv[3]);
	snprintf(path, sizeof(path), "%s/link_%s", argv[2], argv[3]);
	link_fd = bpf_obj_get(path);
	if (!ifindex || link_fd < 0 || bpf_obj_get_info_by_fd(link_fd, &info, &len)) {
		fprintf(stderr, "probe: no xlb link on %s\n", argv[3]);
		return 2;
	}
	prog_fd = bpf_prog_get_fd_by_id(info.prog_id);
	vip_arg(argv[6], &key);
	xlb_format_addr(key.addr, addr, sizeof(addr));
	snprintf(src, sizeof(src), "%s", argv[4]);
	s.family = xlb_addr_is_v4(key.addr) ? 4 : 6;
	s.proto = key.proto;
	s.saddr = src;
	s.daddr = addr;
	s.sport = atoi(argv[5]);
	s.dport = ntohs(key.port) ? ntohs(key.port) : 80;
	if (argc > 7 && !strcmp(argv[7], "syn"))
		s.tcp_flags = 0x02;
	if (argc > 7 && !strcmp(argv[7], "fin"))
		s.tcp_flags = 0x11;
	mac_set(s.smac, 1);
	mac_set(s.dmac, 2);
	n = pkt_build(&s, in);
	{
		struct xdp_md ctx = { .data_end = n, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = n,
			    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);
		static const char *const names[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

		if (bpf_prog_test_run_opts(prog_fd, &opts)) {
			fprintf(stderr, "probe: test run: %s\n", strerror(errno));
			return 2;
		}
		if (opts.retval == XDP_TX || opts.retval == XDP_REDIRECT)
			printf("%s %02x:%02x:%02x:%02x:%02x:%02x\n", names[opts.retval], out[0],
			       out[1], out[2], out[3], out[4], out[5]);
		else
			printf("%s\n", opts.retval < 5 ? names[opts.retval] : "?");
	}
	return 0;
}

static int cmd_table_check(int argc, char **argv)
{
	struct maglev_backend *mb;
	struct backend be;
	struct vip_key key;
	__u32 *want, inner_id, slot, got_id, n = argc - 4, i, bad = 0;
	int tfd, bfd;
	char err[128], *eq;

	if (argc < 4)
		return 2;
	vip_arg(argv[3], &key);
	mb = calloc(n + 1, sizeof(*mb));
	want = calloc(XLB_MAGLEV_SIZE, sizeof(*want));
	for (i = 0; i < n; i++) {
		char a[XLB_ADDR_STR_MAX];

		snprintf(a, sizeof(a), "%s", argv[4 + i]);
		eq = strchr(a, '=');
		if (!eq)
			return 2;
		*eq = '\0';
		if (xlb_parse_addr(a, (__be32 *)mb[i].key, err, sizeof(err)))
			return 2;
		mb[i].weight = atoi(eq + 1);
	}
	if (maglev_build(mb, n, XLB_MAGLEV_SIZE, want))
		return 2;
	tfd = table_fd(argv[2], vip_id(argv[2], &key), &inner_id);
	bfd = pinned(argv[2], "backends");
	for (slot = 0; slot < XLB_MAGLEV_SIZE; slot++) {
		if (bpf_map_lookup_elem(tfd, &slot, &got_id))
			return 2;
		if (want[slot] == MAGLEV_EMPTY) {
			bad += got_id != XLB_NO_BACKEND;
			continue;
		}
		if (got_id == XLB_NO_BACKEND || bpf_map_lookup_elem(bfd, &got_id, &be) ||
		    memcmp(be.addr, mb[want[slot]].key, 16) ||
		    !(be.flags & XLB_BACKEND_F_KEEP_FLOWS))
			bad++;
	}
	if (bad) {
		printf("table differs in %u of %u slots\n", bad, XLB_MAGLEV_SIZE);
		return 1;
	}
	printf("table matches, %u slots\n", XLB_MAGLEV_SIZE);
	return 0;
}

static int cmd_table_id(int argc, char **argv)
{
	struct vip_key key;
	__u32 inner_id;

	if (argc < 4)
		return 2;
	vip_arg(argv[3], &key);
	close(table_fd(argv[2], vip_id(argv[2], &key), &inner_id));
	printf("%u\n", inner_id);
	return 0;
}

/* Keys in a pinned map (any key size up to 64 bytes), or -1 if it is not pinned. */
static long long map_count(const char *dir, const char *name)
{
	__u8 key[64], next[64];
	char path[512];
	long long n = 0;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	for (err = bpf_map_get_next_key(fd, NULL, next); !err;
	     err = bpf_map_get_next_key(fd, key, next)) {
		memcpy(key, next, sizeof(key));
		n++;
	}
	close(fd);
	return n;
}

/* The main tables, flows4 and flows6; an older build's pins: its one table. */
static int cmd_ct_count(int argc, char **argv)
{
	long long n4, n6;

	if (argc < 3)
		return 2;
	n4 = map_count(argv[2], "flows4");
	n6 = map_count(argv[2], "flows6");
	if (n4 < 0 || n6 < 0) {
		n4 = map_count(argv[2], "conntrack");
		n6 = 0;
	}
	if (n4 < 0) {
		fprintf(stderr, "probe: no connection table pinned in %s\n", argv[2]);
		return 2;
	}
	printf("%lld\n", n4 + n6);
	return 0;
}

static int cmd_ct_fill(int argc, char **argv)
{
	enum { CHUNK = 8192 };
	static struct flow4_key keys[CHUNK];
	static struct flow_state vals[CHUNK];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int ncpus = libbpf_num_possible_cpus(), fd, bfd, cpu = 0;
	__u32 n, id, i, done = 0, count, first;
	struct vip_key key;
	struct backend be;
	struct timespec ts;
	cpu_set_t set;

	if (argc < 6)
		return 2;
	n = strtoul(argv[3], NULL, 10);
	vip_arg(argv[4], &key);
	id = strtoul(argv[5], NULL, 10);
	first = argc > 6 ? strtoul(argv[6], NULL, 10) : 0;
	fd = pinned(argv[2], "flows4");
	bfd = pinned(argv[2], "backends");
	if (bpf_map_lookup_elem(bfd, &id, &be)) {
		fprintf(stderr, "probe: no backend %u\n", id);
		return 1;
	}
	while (done < n) {
		count = n - done < CHUNK ? n - done : CHUNK;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		for (i = 0; i < count; i++) {
			__u32 k = first + done + i;

			memset(&keys[i], 0, sizeof(keys[i]));
			/* 198.18.0.0/15 sources, 60000 ports each */
			keys[i].saddr = htonl(0xc6120000u | ((k / 60000) & 0x1ffff));
			keys[i].sport = htons(1024 + k % 60000);
			keys[i].daddr = key.addr[3];
			keys[i].dport = key.port ? key.port : htons(80);
			keys[i].proto = key.proto;
			memset(&vals[i], 0, sizeof(vals[i]));
			vals[i].backend_id = id;
			vals[i].backend_gen = be.gen;
			vals[i].seen = XLB_NS_TO_TICKS((__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec);
		}
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
		cpu = (cpu + 1) % ncpus;
		if (bpf_map_update_batch(fd, keys, vals, &count, &opts)) {
			fprintf(stderr, "probe: flows4: %s\n", strerror(errno));
			return 1;
		}
		done += count;
	}
	printf("%u\n", done);
	return 0;
}

/* Every slot of every VIP's table, read a batch at a time. */
static int cmd_in_service(int argc, char **argv)
{
	__u32 *keys, *vals, vip, inner_id, count, named = 0, serving = 0, i;
	__u8 *seen = calloc(XLB_MAX_BACKENDS, 1);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t map_len = (XLB_MAGLEV_SIZE * XLB_TABLE_STRIDE + page - 1) / page * page;
	const __u32 *mem;
	int outer, bfd, tfd;
	struct backend be;

	if (argc < 3)
		return 2;
	outer = pinned(argv[2], "maglev_tables");
	bfd = pinned(argv[2], "backends");
	keys = calloc(XLB_MAGLEV_SIZE, sizeof(*keys));
	vals = calloc(XLB_MAGLEV_SIZE, sizeof(*vals));
	if (!seen || !keys || !vals)
		return 2;
	for (vip = 0; vip < XLB_MAX_VIPS; vip++) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 out_batch;

		if (bpf_map_lookup_elem(outer, &vip, &inner_id))
			continue;
		tfd = bpf_map_get_fd_by_id(inner_id);
		if (tfd < 0) {
			fprintf(stderr, "probe: table of VIP %u: %s\n", vip, strerror(errno));
			return 2;
		}
		/* a mapped table reads in milliseconds, so polls see its changes in time */
		mem = mmap(NULL, map_len, PROT_READ, MAP_SHARED, tfd, 0);
		if (mem != MAP_FAILED) {
			for (i = 0; i < XLB_MAGLEV_SIZE; i++)
				vals[i] = mem[i * (XLB_TABLE_STRIDE / sizeof(__u32))];
			munmap((void *)mem, map_len);
			count = XLB_MAGLEV_SIZE;
		} else {
			count = XLB_MAGLEV_SIZE;
			if (bpf_map_lookup_batch(tfd, NULL, &out_batch, keys, vals, &count,
						 &opts) && errno != ENOENT) {
				fprintf(stderr, "probe: table of VIP %u: %s\n", vip, strerror(errno));
				return 2;
			}
		}
		close(tfd);
		for (i = 0; i < count; i++)
			if (vals[i] != XLB_NO_BACKEND && vals[i] < XLB_MAX_BACKENDS)
				seen[vals[i]] = 1;
	}
	for (i = 1; i < XLB_MAX_BACKENDS; i++) {
		if (!seen[i])
			continue;
		named++;
		serving += !bpf_map_lookup_elem(bfd, &i, &be) &&
			   (be.flags & XLB_BACKEND_F_KEEP_FLOWS);
	}
	printf("named %u serving %u\n", named, serving);
	return 0;
}

int main(int argc, char **argv)
{
	int ret = 2;

	if (argc > 1 && !strcmp(argv[1], "flow"))
		ret = cmd_flow(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "table-check"))
		ret = cmd_table_check(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "table-id"))
		ret = cmd_table_id(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "ct-count"))
		ret = cmd_ct_count(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "ct-fill"))
		ret = cmd_ct_fill(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "in-service"))
		ret = cmd_in_service(argc, argv);
	if (ret == 2)
		fprintf(stderr, "usage: see tests/daemon/probe.c\n");
	return ret;
}
