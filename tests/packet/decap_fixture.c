// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "decap_fixture.h"
#include "fixture.h" /* FIXTURE_LO */
#include "pkt.h"

int decap_fixture_open(struct decap_fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->skel = decap_bpf__open_and_load();
	if (!f->skel)
		return -errno;
	f->prog_fd = bpf_program__fd(f->skel->progs.xlb_decap);
	return 0;
}

void decap_fixture_close(struct decap_fixture *f)
{
	decap_bpf__destroy(f->skel);
	memset(f, 0, sizeof(*f));
}

int decap_fixture_source_add(struct decap_fixture *f, const char *addr, __u32 len)
{
	struct decap_source_key key = {};
	__u32 one = 1;

	if (addr_parse16(addr, key.addr))
		return -EINVAL;
	key.prefixlen = strchr(addr, ':') ? len : XLB_DECAP_V4_PREFIX_BASE + len;
	if (bpf_map_update_elem(bpf_map__fd(f->skel->maps.decap_sources), &key, &one, BPF_ANY))
		return -errno;
	return 0;
}

int decap_fixture_vip_add(struct decap_fixture *f, const char *addr)
{
	struct decap_vip_key key = {};
	__u32 one = 1;

	if (addr_parse16(addr, key.addr))
		return -EINVAL;
	if (bpf_map_update_elem(bpf_map__fd(f->skel->maps.decap_vips), &key, &one, BPF_ANY))
		return -errno;
	return 0;
}

int decap_fixture_run(struct decap_fixture *f, const __u8 *in, size_t len, __u8 *out,
		      __u32 *out_len)
{
	return pkt_run(f->prog_fd, FIXTURE_LO, in, len, out, out_len);
}

int decap_fixture_counters(struct decap_fixture *f, __u64 out[XLB_DECAP_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd, cpu, err = 0;
	__u64 *vals;
	__u32 i;

	if (ncpu <= 0)
		return ncpu ?: -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	fd = bpf_map__fd(f->skel->maps.decap_stats);
	for (i = 0; i < XLB_DECAP_STAT_MAX && !err; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			err = -errno;
			break;
		}
		out[i] = 0;
		for (cpu = 0; cpu < ncpu; cpu++)
			out[i] += vals[cpu];
	}
	free(vals);
	return err;
}
