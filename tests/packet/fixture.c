// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <sched.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "../../user/lib/syntax.h"
#include "fixture.h"
#include "pkt.h"

int fixture_open(struct xlb_fixture *f)
{
	return fixture_open_sized(f, 65536, 0);
}

int fixture_open_sized(struct xlb_fixture *f, __u32 ct_size, __u32 legacy_entries)
{
	struct xlb_load_opts opts = XLB_LOAD_OPTS_DEFAULT;
	cpu_set_t one;
	int err;

	/*
	 * Every packet on one CPU, as RSS keeps a flow's packets: the per-CPU
	 * flow cache then always agrees with the main table it copies, and a
	 * test's explanation (read from the main table) is the program's.
	 */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -errno;
	memset(f, 0, sizeof(*f));
	opts.ct_size = ct_size;
	opts.fake_clock = 1;
	opts.tcp_idle_ns = FIXTURE_TCP_IDLE;
	opts.udp_idle_ns = FIXTURE_UDP_IDLE;
	f->skel = xlb_bpf__open();
	if (!f->skel)
		return -errno;
	XLB_SKEL_CONFIGURE(f->skel, &opts);
	if (legacy_entries) { /* as attach does over an older build's pinned table */
		bpf_map__set_max_entries(f->skel->maps.conntrack, legacy_entries);
		f->skel->rodata->legacy_ct = 1;
	}
	err = xlb_bpf__load(f->skel);
	if (err)
		goto fail;
	*fixture_clock(f) = FIXTURE_START;
	err = xlb_dp_init(&f->dp, f->skel->obj);
	if (err)
		goto fail;
	f->lb = xlb_lb_new(&f->dp);
	if (!f->lb) {
		err = -ENOMEM;
		goto fail;
	}
	f->prog_fd = bpf_program__fd(f->skel->progs.xlb_xdp);
	return 0;
fail:
	xlb_bpf__destroy(f->skel);
	f->skel = NULL;
	return err;
}

void fixture_close(struct xlb_fixture *f)
{
	xlb_lb_free(f->lb);
	xlb_bpf__destroy(f->skel);
	memset(f, 0, sizeof(*f));
}

int fixture_vip_add(struct xlb_fixture *f, const char *addr, __u16 port, __u8 proto,
		    __u8 sched, __u8 forward, struct vip_key *key)
{
	memset(key, 0, sizeof(*key));
	if (addr_parse16(addr, key->addr))
		return -EINVAL;
	key->port = htons(port);
	key->proto = proto;
	return xlb_lb_vip_add(f->lb, key, sched, forward);
}

int fixture_backend_spec(const char *addr, __u8 mac_last, __u32 ifindex,
			 struct xlb_backend_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	if (addr_parse16(addr, spec->addr))
		return -EINVAL;
	mac_set(spec->mac, mac_last);
	mac_set(spec->src_mac, FIXTURE_LB_MAC);
	spec->ifindex = ifindex;
	spec->weight = 100;
	spec->state = XLB_BE_UP;
	return 0;
}

int fixture_backend_add(struct xlb_fixture *f, const struct vip_key *key, const char *addr,
			__u8 mac_last, __u32 ifindex)
{
	struct xlb_backend_spec spec;
	int err = fixture_backend_spec(addr, mac_last, ifindex, &spec);

	return err ?: xlb_lb_backend_add(f->lb, key, &spec);
}

struct xlb_lb_backend *fixture_backend_find(struct xlb_fixture *f, const struct vip_key *key,
					    const char *addr)
{
	struct xlb_lb_vip *vip = xlb_lb_vip_find(f->lb, key);
	__be32 a[4];

	if (!vip || addr_parse16(addr, a))
		return NULL;
	return xlb_lb_backend_find(vip, a);
}

int fixture_backend_state(struct xlb_fixture *f, const struct vip_key *key, const char *addr,
			  __u32 state)
{
	struct xlb_lb_backend *b = fixture_backend_find(f, key, addr);
	struct xlb_backend_spec spec;

	if (!b)
		return -ENOENT;
	spec = b->spec;
	spec.state = state;
	return xlb_lb_backend_update(f->lb, key, &spec);
}

int fixture_backend_del(struct xlb_fixture *f, const struct vip_key *key, const char *addr)
{
	__be32 a[4];

	if (addr_parse16(addr, a))
		return -EINVAL;
	return xlb_lb_backend_del(f->lb, key, a);
}

int fixture_encap_set(struct xlb_fixture *f, const char *v4, const char *v6)
{
	struct encap_config cfg = {};
	char err[128];

	if (v4 && xlb_parse_encap_source(v4, 4, &cfg.v4, err, sizeof(err)))
		return -EINVAL;
	if (v6 && xlb_parse_encap_source(v6, 6, &cfg.v6, err, sizeof(err)))
		return -EINVAL;
	return xlb_dp_encap_set(&f->dp, &cfg);
}

int fixture_run(struct xlb_fixture *f, const __u8 *in, size_t len, __u8 *out, __u32 *out_len)
{
	return pkt_run(f->prog_fd, FIXTURE_LO, in, len, out, out_len);
}

int fixture_counters(struct xlb_fixture *f, __u64 out[XLB_STAT_MAX])
{
	return xlb_dp_stats(&f->dp, out);
}
