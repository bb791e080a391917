/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The data plane's global counters: ONE table, and everything else (enum
 * xlb_stat, the names, the classes, the BPF verdict) is derived from it.
 * The form of a row and the rules of the table (append only, fixed
 * indexes) are in stat_table.h. The map has XLB_STAT_SLOTS slots whatever
 * this table holds, so adding a counter keeps the pinned map.
 */
#ifndef XLB_STATS_H
#define XLB_STATS_H

#include "stat_table.h"

#define XLB_STAT_SLOTS 256 /* max_entries of the stats map: never change it */

#define XLB_STATS_BASE(X)                                                                  \
	X(PASS_NON_IP, 0, "pass_non_ip", PASS)           /* not IPv4/IPv6 after up to two VLAN tags */ \
	X(PASS_SHORT, 1, "pass_short", PASS)             /* too short to read the destination address */ \
	X(PASS_NON_VIP, 2, "pass_non_vip", PASS)         /* destination is not a VIP address */ \
	X(PASS_VIP_NO_PORT, 3, "pass_vip_no_port", PASS) /* VIP address, no VIP for this port/protocol */ \
	X(CT_HIT, 4, "ct_hit", INFO)                                                       \
	X(CT_MISS, 5, "ct_miss", INFO)                                                     \
	X(FRAGMENT, 6, "fragment", INFO)       /* fragments of a VIP, forwarded by address hash */ \
	X(ICMP, 7, "icmp", PASS)               /* ICMP/ICMPv6 to a VIP address, passed */   \
	X(TX, 8, "tx", INFO)                   /* forwarded out of the ingress interface */ \
	X(REDIRECT, 9, "redirect", INFO)       /* forwarded out of another interface */     \
	X(PASS_NO_NEIGH, 10, "pass_no_neigh", PASS) /* encapsulated, next hop's MAC unknown: the kernel forwards it */ \
	X(ICMP_TOO_BIG, 11, "icmp_too_big_sent", INFO) /* answered with frag-needed / packet-too-big */ \
	X(ICMP_ROUTED, 12, "icmp_routed", INFO) /* ICMP error about a VIP flow, sent to its backend */ \
	X(DROP_NO_BACKEND, 13, "drop_no_backend", DROP) /* VIP has no backend in service */ \
	X(DROP_FRAG_NO_VIP, 14, "drop_frag_no_vip", DROP) /* fragment, but no VIP takes this address's fragments */ \
	X(DROP_REDIRECT, 15, "drop_redirect", DROP) /* egress interface missing from the devmap */ \
	X(DROP_NO_ROUTE, 16, "drop_no_route", DROP) /* FIB has no usable route to the backend (or forwarding off) */ \
	X(DROP_NO_ENCAP_SRC, 17, "drop_no_encap_source", DROP) /* no encap_source for the backend's family */ \
	X(DROP_TOO_BIG, 18, "drop_too_big", DROP) /* over the path MTU, may not be answered (no DF, ICMP, source) */ \
	X(DROP_ENCAP, 19, "drop_encap", DROP) /* the packet could not be grown for the outer header */ \
	X(DROP_ICMP_RATELIMIT, 20, "drop_too_big_ratelimit", DROP) /* a too-big answer over the rate limit */ \
	/* malformed packets to a VIP address, all dropped */                              \
	X(DROP_L3_TRUNC, 21, "drop_malformed_l3_trunc", DROP) /* IP header or total length beyond the packet */ \
	X(DROP_BAD_VERSION, 22, "drop_malformed_bad_version", DROP) /* IP version does not match the ethertype */ \
	X(DROP_BAD_IHL, 23, "drop_malformed_bad_ihl", DROP) /* IPv4 IHL < 5 */                \
	X(DROP_BAD_LEN, 24, "drop_malformed_bad_len", DROP) /* IPv4 total length shorter than its header */ \
	X(DROP_EXT_TRUNC, 25, "drop_malformed_ext_trunc", DROP) /* IPv6 extension header beyond the packet */ \
	X(DROP_EXT_LIMIT, 26, "drop_malformed_ext_limit", DROP) /* more than XLB_MAX_EXT_HDRS extension headers */ \
	X(DROP_L4_TRUNC, 27, "drop_malformed_l4_trunc", DROP) /* TCP/UDP/ICMP header beyond the IP payload */ \
	X(DROP_BAD_TCP_DOFF, 28, "drop_malformed_bad_tcp_doff", DROP) /* TCP data offset < 5 or beyond the payload */ \
	X(DROP_BAD_UDP_LEN, 29, "drop_malformed_bad_udp_len", DROP) /* UDP length < 8 or beyond the payload */ \
	X(DROP_ICMP_TRUNC, 30, "drop_malformed_icmp_trunc", DROP) /* ICMP error whose quoted header is cut short */ \
	X(DROP_ICMP_INNER, 31, "drop_malformed_icmp_inner", DROP) /* ICMP error quoting a bad header, or one not from the VIP */ \
	/* the connection tables (ct_hit: the main table; ct_miss: no table, a fresh pick) */ \
	X(CT_PROBATION_HIT, 32, "ct_probation_hit", INFO) /* a flow seen once: its backend from probation */ \
	X(CT_PROMOTED, 33, "ct_promoted", INFO)       /* seen again: moved to the main table */ \
	X(CT_PROBATION_OVERWRITE, 34, "ct_probation_overwrite", INFO) /* a new flow took the probation slot of an unexpired one */ \
	X(CT_CLOSING, 35, "ct_closing", INFO)         /* FIN or RST from the client: the flow is closing */ \
	X(CT_REOPENED, 36, "ct_reopened", INFO)       /* a SYN on a closing flow's tuple: a fresh pick */ \
	X(CT_LEGACY_HIT, 37, "ct_legacy_hit", INFO)   /* found in an older build's table, moved to the main one */ \
	X(CT_INSERT_FAILED, 38, "ct_insert_failed", INFO) /* the main table refused an entry (forwarded anyway) */ \
	/* source filters (maps/filter_maps.h) */                                          \
	X(DROP_BLOCKED, 39, "drop_blocked", DROP) /* VIP traffic from a blocklisted source */ \
	X(DROP_BLOCKED_NOT_VIP, 40, "drop_blocked_not_vip", DROP) /* scope all: a packet not for a VIP from a blocklisted source */ \
	X(ALLOWED, 41, "allowed", INFO) /* from an allowlisted source: never blocked nor limited */ \
	X(PERSIST_HIT, 42, "persist_hit", INFO)       /* a new flow went to its client prefix's backend (persist) */ \
	/* per-client limits (maps/limit_maps.h) */                                        \
	X(DROP_LIMIT_RATE, 43, "drop_limit_rate", DROP) /* a new flow over its client prefix's new_flows_per_s */ \
	X(DROP_LIMIT_CONNS, 44, "drop_limit_conns", DROP) /* a new flow of a client prefix at its max_conns */ \
	X(PERSIST_WRITE, 45, "persist_write", INFO)   /* a client prefix's persist entry written (a new one or a new pick) */ \
	X(CT_MISS_MIDFLOW, 46, "ct_miss_midflow", INFO) /* rr/wrr/lc/wlc/lt: a TCP packet no table holds, not a SYN: sent by hash, not written */ \
	X(CT_PROBATION_BUSY, 47, "ct_probation_busy", INFO) /* a packet that starts no flow found its probation slots held: forwarded, not written */

/* The upgrade test's rebuilt data plane (make variant): one counter more. */
#ifdef XLB_VARIANT
#define XLB_STATS_VARIANT(X) X(VARIANT_SEEN, 255, "variant_seen", INFO) /* VIP packets sent on */
#else
#define XLB_STATS_VARIANT(X)
#endif

#define XLB_STATS(X) XLB_STATS_BASE(X) XLB_STATS_VARIANT(X)

#define XLB_STAT_ENUM_(id, idx, name, cls) XLB_STAT_##id = (idx),
/*
 * XLB_STAT_MAX: one past the last entry, which holds the highest index
 * (checked below); indexes below it may be gaps of retired counters.
 */
enum xlb_stat {
	XLB_STATS(XLB_STAT_ENUM_)
	XLB_STAT_MAX,
};
#undef XLB_STAT_ENUM_

#define XLB_STAT_SEQ_(id, idx, name, cls) XLB_STAT_SEQ_##id,
enum { XLB_STATS(XLB_STAT_SEQ_) XLB_STAT_COUNT /* counters defined */ };
#undef XLB_STAT_SEQ_

XLB_STAT_TABLE_RULES(XLB_STATS, xlb_stats, XLB_STAT_MAX, XLB_STAT_SLOTS)

#endif /* XLB_STATS_H */
