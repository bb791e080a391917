/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The contract between the XDP data plane (bpf/) and user space (user/):
 * map keys, values, limits and counter indexes. Plain fixed-layout structs
 * only: explicit padding, no bool, no pointers.
 *
 * Addresses are always 16 bytes: IPv6 as is, IPv4 as a v4-mapped address
 * (::ffff:a.b.c.d), so one key type serves both families.
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <linux/types.h>

/* Limits. Tests shrink them with -D. */
#ifndef XLB_MAX_VIPS
#define XLB_MAX_VIPS 512
#endif
#ifndef XLB_MAX_BACKENDS
#define XLB_MAX_BACKENDS 65536 /* (VIP, backend) pairs, id 0 is never used */
#endif
#ifndef XLB_MAGLEV_SIZE
#define XLB_MAGLEV_SIZE 65537 /* prime */
#endif
#ifndef XLB_CT_SIZE
#define XLB_CT_SIZE 1000000 /* default; user space may resize before load */
#endif
#ifndef XLB_MAX_EXT_HDRS
#define XLB_MAX_EXT_HDRS 4 /* IPv6 extension headers skipped before L4 */
#endif

#ifndef XLB_NEXTHOP_SLOTS
#define XLB_NEXTHOP_SLOTS 4096 /* per CPU; a power of two */
#endif

#ifndef XLB_ADDR_BITS_LOG2
#define XLB_ADDR_BITS_LOG2 19 /* 512 Kbit = 64 KiB: stays in cache */
#endif
#define XLB_ADDR_BITS_WORDS (1u << (XLB_ADDR_BITS_LOG2 - 6))

#define XLB_NO_BACKEND 0 /* empty Maglev slot / no backend */

/* vip_key.flags */
#define XLB_VIPKEY_F_FRAG 0x01 /* entry that receives this address's fragments */

/* Exact match on (address, port, protocol). port 0 = every port. */
struct vip_key {
	__be32 addr[4];
	__be16 port;
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 flags; /* XLB_VIPKEY_F_* */
};

enum xlb_sched {
	XLB_SCHED_MAGLEV = 0,      /* hash of the 5-tuple */
	XLB_SCHED_SOURCE_HASH = 1, /* hash of the client address only */
};

enum xlb_forward {
	XLB_FWD_L2DSR = 0, /* rewrite MACs, IP untouched */
	XLB_FWD_IPIP = 1,  /* encapsulate: IPIP, IP6IP6 or 4in6 by the backend's family */
};

/* encap_source.flags */
#define XLB_ENCAP_F_SET 0x01 /* this family has a source: without one, encap drops */

/*
 * Outer source address of one family. hash_bits = 0: addr as is. Otherwise
 * the low hash_bits bits (at most 32) of addr come from the flow hash, so
 * backends and routers on the way see a spread of sources (RSS, ECMP).
 */
struct encap_source {
	__be32 addr[4]; /* v4-mapped for IPv4 */
	__u32 hash_bits;
	__u32 flags;    /* XLB_ENCAP_F_* */
};

/* encap_config[0]: one source per outer family. */
struct encap_config {
	struct encap_source v4;
	struct encap_source v6;
};

#define XLB_IPIP_TTL 64

struct vip_meta {
	__u32 id; /* index into maglev_tables and vip_stats */
	__u32 flags;
	__u8 sched;   /* enum xlb_sched */
	__u8 forward; /* enum xlb_forward */
	__u8 pad[2];
};

/* Value of the per-address filter: any VIP on this address at all. */
struct vip_addr_meta {
	__u32 vip_count;
};

/* backend.flags */
#define XLB_BACKEND_F_KEEP_FLOWS 0x01 /* up or drain: established flows stay */
#define XLB_BACKEND_F_ENCAP 0x02      /* its VIP forwards by ipip: next hop from the FIB */

/* One (VIP, backend) pair; index = backend id. */
struct backend {
	__be32 addr[4];
	__u8 mac[6];     /* next hop: the backend itself for L2 DSR */
	__u8 src_mac[6]; /* MAC of the egress interface */
	__u32 ifindex;   /* egress interface; XDP_TX when it is the ingress one */
	__u32 flags;     /* XLB_BACKEND_F_* */
	__u32 gen;       /* bumped when the id is reused, so stale flows move */
	__u32 vip_id;
};

/*
 * The data plane's own cache of bpf_fib_lookup answers for forward ipip,
 * per CPU, slot = backend id mod XLB_NEXTHOP_SLOTS. User space never
 * writes it; it is here because every map value is.
 */
struct nexthop_entry {
	__u64 expires_ns;
	__u32 backend_id;  /* which backend the slot holds now */
	__u32 backend_gen;
	__u32 ifindex;     /* egress */
	__u16 mtu;         /* of the way to the backend */
	__u8 dmac[6];
	__u8 smac[6];
	__u8 pad[6];
};

/* The data plane's own: a token bucket per CPU for ICMP answers. */
struct icmp_bucket {
	__u64 last_ns;
	__u64 credit_ns;
};

/* Connection table: 5-tuple as it arrives from the client. */
struct flow_key {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow_entry {
	__u32 backend_id;
	__u32 backend_gen;
	__u64 last_seen_ns; /* bpf_ktime_get_coarse_ns() clock */
};

/* Per-CPU traffic counters, per VIP and per backend. */
struct traffic_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
};

/* Global per-CPU counters, by reason. Keep xlb_stat_names in step. */
enum xlb_stat {
	XLB_STAT_PASS_NON_IP,       /* not IPv4/IPv6 after up to two VLAN tags */
	XLB_STAT_PASS_SHORT,        /* too short to read the destination address */
	XLB_STAT_PASS_NON_VIP,      /* destination is not a VIP address */
	XLB_STAT_PASS_VIP_NO_PORT,  /* VIP address, no VIP for this port/protocol */
	XLB_STAT_CT_HIT,
	XLB_STAT_CT_MISS,
	XLB_STAT_FRAGMENT,          /* fragments of a VIP, forwarded by address hash */
	XLB_STAT_ICMP,              /* ICMP/ICMPv6 to a VIP address, passed */
	XLB_STAT_TX,                /* forwarded out of the ingress interface */
	XLB_STAT_REDIRECT,          /* forwarded out of another interface */
	XLB_STAT_PASS_NO_NEIGH,     /* encapsulated, next hop's MAC unknown: the kernel forwards it */
	XLB_STAT_ICMP_TOO_BIG,      /* answered with frag-needed / packet-too-big */
	XLB_STAT_ICMP_ROUTED,       /* ICMP error about a VIP flow, sent to its backend */
	XLB_STAT_DROP_NO_BACKEND,   /* VIP has no backend in service */
	XLB_STAT_DROP_FRAG_NO_VIP,  /* fragment, but no VIP takes this address's fragments */
	XLB_STAT_DROP_REDIRECT,     /* egress interface missing from the devmap */
	XLB_STAT_DROP_NO_ROUTE,     /* FIB has no usable route to the backend (or forwarding off) */
	XLB_STAT_DROP_NO_ENCAP_SRC, /* no encap_source for the backend's family */
	XLB_STAT_DROP_TOO_BIG,      /* over the path MTU, may not be answered (no DF, ICMP, source) */
	XLB_STAT_DROP_ENCAP,        /* the packet could not be grown for the outer header */
	XLB_STAT_DROP_ICMP_RATELIMIT, /* a too-big answer over the rate limit */
	/* malformed packets to a VIP address, all dropped */
	XLB_STAT_DROP_L3_TRUNC,     /* IP header or total length beyond the packet */
	XLB_STAT_DROP_BAD_VERSION,  /* IP version does not match the ethertype */
	XLB_STAT_DROP_BAD_IHL,      /* IPv4 IHL < 5 */
	XLB_STAT_DROP_BAD_LEN,      /* IPv4 total length shorter than its header */
	XLB_STAT_DROP_EXT_TRUNC,    /* IPv6 extension header beyond the packet */
	XLB_STAT_DROP_EXT_LIMIT,    /* more than XLB_MAX_EXT_HDRS extension headers */
	XLB_STAT_DROP_L4_TRUNC,     /* TCP/UDP/ICMP header beyond the IP payload */
	XLB_STAT_DROP_BAD_TCP_DOFF, /* TCP data offset < 5 or beyond the payload */
	XLB_STAT_DROP_BAD_UDP_LEN,  /* UDP length < 8 or beyond the payload */
	XLB_STAT_DROP_ICMP_TRUNC,   /* ICMP error whose quoted header is cut short */
	XLB_STAT_DROP_ICMP_INNER,   /* ICMP error quoting a bad header, or one not from the VIP */
	XLB_STAT_MAX,
};

#define XLB_STAT_NAMES                                                         \
	[XLB_STAT_PASS_NON_IP] = "pass_non_ip",                                \
	[XLB_STAT_PASS_SHORT] = "pass_short",                                  \
	[XLB_STAT_PASS_NON_VIP] = "pass_non_vip",                              \
	[XLB_STAT_PASS_VIP_NO_PORT] = "pass_vip_no_port",                      \
	[XLB_STAT_CT_HIT] = "ct_hit",                                          \
	[XLB_STAT_CT_MISS] = "ct_miss",                                        \
	[XLB_STAT_FRAGMENT] = "fragment",                                      \
	[XLB_STAT_ICMP] = "icmp",                                              \
	[XLB_STAT_TX] = "tx",                                                  \
	[XLB_STAT_REDIRECT] = "redirect",                                      \
	[XLB_STAT_PASS_NO_NEIGH] = "pass_no_neigh",                            \
	[XLB_STAT_ICMP_TOO_BIG] = "icmp_too_big_sent",                         \
	[XLB_STAT_ICMP_ROUTED] = "icmp_routed",                                \
	[XLB_STAT_DROP_NO_BACKEND] = "drop_no_backend",                        \
	[XLB_STAT_DROP_FRAG_NO_VIP] = "drop_frag_no_vip",                      \
	[XLB_STAT_DROP_REDIRECT] = "drop_redirect",                            \
	[XLB_STAT_DROP_NO_ROUTE] = "drop_no_route",                            \
	[XLB_STAT_DROP_NO_ENCAP_SRC] = "drop_no_encap_source",                 \
	[XLB_STAT_DROP_TOO_BIG] = "drop_too_big",                              \
	[XLB_STAT_DROP_ENCAP] = "drop_encap",                                  \
	[XLB_STAT_DROP_ICMP_RATELIMIT] = "drop_too_big_ratelimit",             \
	[XLB_STAT_DROP_L3_TRUNC] = "drop_malformed_l3_trunc",                  \
	[XLB_STAT_DROP_BAD_VERSION] = "drop_malformed_bad_version",            \
	[XLB_STAT_DROP_BAD_IHL] = "drop_malformed_bad_ihl",                    \
	[XLB_STAT_DROP_BAD_LEN] = "drop_malformed_bad_len",                    \
	[XLB_STAT_DROP_EXT_TRUNC] = "drop_malformed_ext_trunc",                \
	[XLB_STAT_DROP_EXT_LIMIT] = "drop_malformed_ext_limit",                \
	[XLB_STAT_DROP_L4_TRUNC] = "drop_malformed_l4_trunc",                  \
	[XLB_STAT_DROP_BAD_TCP_DOFF] = "drop_malformed_bad_tcp_doff",          \
	[XLB_STAT_DROP_BAD_UDP_LEN] = "drop_malformed_bad_udp_len",            \
	[XLB_STAT_DROP_ICMP_TRUNC] = "drop_malformed_icmp_trunc",              \
	[XLB_STAT_DROP_ICMP_INNER] = "drop_malformed_icmp_inner",

#endif /* XLB_MAPS_H */
