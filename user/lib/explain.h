/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * "xlbctl explain": what the XDP data plane does with one packet of a
 * flow, step by step. The answer is computed in user space from the same
 * maps, in the same order and with the same tests as bpf/xlb.bpf.c, so it
 * is the program's answer, not an approximation (tests/packet/test_explain.c
 * holds the two to agreement).
 *
 * Scope: a well-formed TCP or UDP packet, not a fragment, untagged or not
 * (VLAN tags do not change the outcome).
 */
#ifndef XLB_EXPLAIN_H
#define XLB_EXPLAIN_H

#include <linux/types.h>
#include "dataplane.h"

struct json_object;
#include "../../bpf/sched_pick.h"
#include "../../maps/filter_maps.h"

#define XLB_EXPLAIN_STEPS 6
#define XLB_EXPLAIN_LINE_MAX 512
#define XLB_EXPLAIN_CPUS 8 /* rr: the CPUs whose next pick is told */

/* The source filters and the client's limits (bpf/filter.h, bpf/limits.h). */
struct xlb_explain_filter {
	int allowed, blocked;     /* an allow rule matched; a block rule did */
	struct block_rule rule;   /* the one that decided */
	int rule_global;          /* global, not the VIP's */
	int limited;              /* the VIP limits its clients (and this one is not allowed) */
	struct vip_filter vf;
	struct limit_key key;
	int has_state;
	struct limit_state state;
	__s64 live;               /* the prefix's live flows, as the program counts them */
	__u64 tokens;             /* whole new flows the bucket would let in now */
	__u32 drop;               /* XLB_STAT_DROP_LIMIT_* if the program refuses this new flow, else 0 */
};

/*
 * Step 4 for a VIP whose scheduler is not a plain hash, or that persists
 * (bpf/sched.h, in its order): the persist entry, then the scheduler.
 */
struct xlb_explain_sched {
	int used;                 /* step 4 is this, not the Maglev slot alone */
	int peek;                 /* not a flow's first packet: persist read, else the hash's slot */
	int midflow;              /* ... of a stateful scheduler: forwarded, not written */
	/* persist */
	int persist;              /* the VIP persists */
	struct vip_sched settings;
	struct persist_key pkey;
	int persist_found;        /* an entry for the client prefix */
	struct persist_entry pe;
	__s64 persist_age_ns;
	int persist_used;         /* alive, and its backend takes new flows: it decides */
	const char *persist_why;  /* why not used */
	int persist_write;        /* the pick is written as the prefix's entry */
	/* rr, wrr: each CPU's next slot */
	__u32 ncpus;              /* told of: at most XLB_EXPLAIN_CPUS */
	__u32 cursor[XLB_EXPLAIN_CPUS];
	__u32 next_id[XLB_EXPLAIN_CPUS];
	/* lc, wlc, lt: the two candidates */
	__u32 slot_b;             /* the second's slot (the first's is slot) */
	__u32 cand[2];
	struct xlb_load load[2];  /* flows with every CPU's picks since xlbd's last count */
};

struct xlb_explain {
	/* the question */
	struct flow_key flow;     /* pad zeroed: the connection-table key */
	__u8 tcp_flags;
	__u32 ingress_ifindex;
	__u64 idle_ns;            /* idle timeout of the flow's protocol */
	__u64 closing_ns;         /* timeout of a closing TCP flow */
	__u64 tcp_idle_ns, udp_idle_ns; /* a probation slot may hold the other protocol */

	/* 1. VIP match */
	int addr_bit;             /* address filter bit set: the program looks further */
	int vip_addr;             /* destination is a VIP address (exact vip_addrs) */
	int vip_found;            /* a VIP takes this port/protocol */
	struct xlb_explain_filter filter;
	struct vip_key vip_key;   /* the key that matched (exact port or port 0) */
	struct vip_meta vip;

	/* 2. connection tables: main, probation, legacy, in the program's order */
	int ct_looked_up;         /* the program reached the lookup */
	int ct_found;             /* an entry is told of: the one used, else the first met */
	enum xlb_flow_table ct_table; /* which table holds it */
	struct flow_state ct;
	__s64 ct_age_ns;          /* now - last seen, in whole ticks as the program sees it */
	int ct_used;              /* entry valid and used */
	int ct_reopened;          /* a closing flow's tuple, started again by a bare SYN */
	int main_stale;           /* a main entry not used: a fresh pick is written over it */
	char ct_why[96];          /* why not used */

	/* 3. hash (new flows only) */
	int hashed;
	int hash_src_only;        /* source-hash VIP: client address only */
	__u32 hash;

	/* 4. Maglev table */
	int table_found;          /* the VIP has a table (else no backend) */
	__u32 slot;
	__u32 table_backend_id;   /* XLB_NO_BACKEND for an empty slot */
	struct xlb_explain_sched sched; /* other schedulers and persist (explain_sched.c) */

	/* 5. backend: from the connection table or the table */
	__u32 backend_id;         /* XLB_NO_BACKEND if none */
	int be_found;             /* backends map has the id */
	struct backend be;
	int be_in_service;        /* XLB_BACKEND_F_KEEP_FLOWS: up or drain */

	/* 6. action */
	int action;               /* XDP_TX, XDP_REDIRECT, XDP_DROP, XDP_PASS */
	int encap;                /* forward ipip: the FIB picks next hop and egress per packet */
	__u32 reason;             /* enum xlb_stat of the outcome */
	__u32 egress_ifindex;     /* TX/REDIRECT/DROP_REDIRECT: the backend's ifindex */
	int would_insert;         /* the packet writes its probation slot (a new flow) */
	int would_promote;        /* seen again (or met in legacy): moved to the main table */
	int would_close;          /* a FIN or RST: the main-table entry becomes closing */
	int probation_overwrite;  /* the new flow's slot held another flow, unexpired */
	int probation_busy;       /* not a flow's start, and both slots held: not written */
};

/*
 * Explain one packet of flow. flow: addresses (16-byte form, IPv4
 * v4-mapped, both of one family), ports in network order and protocol
 * (TCP or UDP) as the client sends them. tcp_flags: the TCP flags byte
 * (0x02 bare SYN, 0x10 ACK; ignored for UDP). now_ns: the program's clock,
 * CLOCK_MONOTONIC_COARSE (xlb_explain_now()) or the fake clock in tests.
 * t: the timeouts loaded into the program.
 * Reads the maps only. Returns 0, -EINVAL (mixed families),
 * -EPROTONOSUPPORT (not TCP/UDP) or a negative errno from a map read.
 */
struct xlb_explain_timeouts {
	__u64 tcp_idle_ns;
	__u64 udp_idle_ns;
	__u64 tcp_closing_ns;
};

int xlb_explain(struct xlb_dp *dp, const struct flow_key *flow, __u8 tcp_flags,
		__u32 ingress_ifindex, __u64 now_ns, const struct xlb_explain_timeouts *t,
		struct xlb_explain *out);

/* The data plane's clock, as bpf_ktime_get_coarse_ns() reads it. */
__u64 xlb_explain_now(void);

/* Name of an outcome: "XDP_TX", "XDP_REDIRECT", "XDP_DROP", "XDP_PASS". */
const char *xlb_explain_action_name(int action);

/*
 * Step i (0..5: vip, conntrack, hash, maglev, backend, action) as one line
 * for people, "1. vip: ..." to "6. action: ...", into buf. egress_ifname
 * names the interface the packet leaves by (NULL: looked up, else
 * "ifindex N").
 */
void xlb_explain_step(const struct xlb_explain *e, int i, const char *egress_ifname,
		      char *buf, size_t len);

/*
 * The whole answer: {"flow":..., "steps":[{"step":"vip","text":"1. vip: ..."},
 * ...], "vip":"ADDR:PORT/PROTO"|null, "vip_id":N|null, "backend":"ADDR"|null,
 * "backend_id":N|null, "action":"XDP_TX", "reason":"tx", "hash":"0x..."|null,
 * "slot":N|null, "conntrack":{...}|null, "new_entry":bool}. NULL on ENOMEM.
 */
struct json_object *xlb_explain_json(const struct xlb_explain *e,
				     const char *egress_ifname);

#endif /* XLB_EXPLAIN_H */
