/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The packet tests' world: a data plane loaded from the real object, its
 * maps filled as the daemon fills them (through user/lib/lb.c), frames
 * through BPF_PROG_TEST_RUN, counters read back. The decapsulation
 * program's is decap_fixture.h. No cmocka here (the bench and the probe
 * link this); the asserting wrappers are in fixture_assert.h.
 */
#ifndef XLB_TEST_FIXTURE_H
#define XLB_TEST_FIXTURE_H

#include <stddef.h>
#include <linux/types.h>
#include "xlb.skel.h"
#include "../../user/lib/dataplane.h"
#include "../../user/lib/lb.h"

#define FIXTURE_NS 1000000000ULL
#define FIXTURE_TCP_IDLE (300 * FIXTURE_NS)
#define FIXTURE_UDP_IDLE (30 * FIXTURE_NS)
#define FIXTURE_TCP_CLOSING (10 * FIXTURE_NS)
#define FIXTURE_TIMEOUTS                                                                \
	((const struct xlb_explain_timeouts){ .tcp_idle_ns = FIXTURE_TCP_IDLE,             \
					      .udp_idle_ns = FIXTURE_UDP_IDLE,             \
					      .tcp_closing_ns = FIXTURE_TCP_CLOSING })
#define FIXTURE_START (1000 * FIXTURE_NS) /* the fake clock at open */
#define FIXTURE_LB_MAC 0xee               /* the load balancer: 02:00:5e:10:00:ee */
#define FIXTURE_LO 1                      /* ingress, and backends by default */

struct xlb_fixture {
	struct xlb_bpf *skel;
	struct xlb_dp dp;
	struct xlb_lb *lb;
	int prog_fd;
};

/*
 * Load the program with a fake clock at FIXTURE_START, a 64k-entry
 * connection table and the FIXTURE_*_IDLE timeouts. 0 or -errno.
 */
int fixture_open(struct xlb_fixture *f);
/* The same with main tables of ct_size flows, and an older build's table of legacy_entries (0: none). */
int fixture_open_sized(struct xlb_fixture *f, __u32 ct_size, __u32 legacy_entries);
void fixture_close(struct xlb_fixture *f);

/* The clock the program reads, in ns. */
static inline __u64 *fixture_clock(struct xlb_fixture *f)
{
	return &f->skel->bss->fake_clock_ns;
}

/* A VIP; its key in *key. The VIP id, or -errno. */
int fixture_vip_add(struct xlb_fixture *f, const char *addr, __u16 port, __u8 proto,
		    __u8 sched, __u8 forward, struct vip_key *key);

/* Up, weight 100, MAC 02:00:5e:10:00:<mac_last>, sent from the LB's MAC. */
int fixture_backend_spec(const char *addr, __u8 mac_last, __u32 ifindex,
			 struct xlb_backend_spec *spec);
/* The backend id, or -errno. */
int fixture_backend_add(struct xlb_fixture *f, const struct vip_key *key, const char *addr,
			__u8 mac_last, __u32 ifindex);
struct xlb_lb_backend *fixture_backend_find(struct xlb_fixture *f, const struct vip_key *key,
					    const char *addr);
int fixture_backend_state(struct xlb_fixture *f, const struct vip_key *key, const char *addr,
			  __u32 state);
int fixture_backend_del(struct xlb_fixture *f, const struct vip_key *key, const char *addr);

/* Encapsulation sources as `--encap-source` takes them; NULL: none for that family. */
int fixture_encap_set(struct xlb_fixture *f, const char *v4, const char *v6);

/* One frame in from lo: the verdict, or -errno. out holds PKT_MAX. */
int fixture_run(struct xlb_fixture *f, const __u8 *in, size_t len, __u8 *out, __u32 *out_len);

/* Every counter, summed over CPUs. 0 or -errno. */
int fixture_counters(struct xlb_fixture *f, __u64 out[XLB_STAT_MAX]);

#endif /* XLB_TEST_FIXTURE_H */
