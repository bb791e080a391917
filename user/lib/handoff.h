/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The flow hand-off between LB hosts: one UDP datagram carries up to
 * XLB_HANDOFF_MAX flows, keyed by addresses only (backend ids are local to
 * a host), signed with HMAC-SHA256 under the site's shared key. A sender's
 * sequence only grows and its clock must be near the receiver's: a
 * datagram seen once, or kept and sent later, is refused.
 */
#ifndef XLB_HANDOFF_H
#define XLB_HANDOFF_H

#include <stddef.h>
#include <linux/types.h>

#define XLB_HANDOFF_MAX 24       /* flows a datagram: fits 1500 bytes with headers */
#define XLB_HANDOFF_KEY_LEN 32
#define XLB_HANDOFF_SKEW_S 30    /* a datagram older or newer than this is refused */

struct xlb_handoff_flow {
	__be32 saddr[4];   /* the client */
	__be32 daddr[4];   /* the VIP's address */
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__be16 vip_port;   /* the VIP's key port: 0 for an every-port VIP */
	__be32 backend[4]; /* the backend the flow stays on */
};

/* the wire: header, records, tag; everything big-endian */
#define XLB_HANDOFF_HDR_LEN 24
#define XLB_HANDOFF_REC_LEN 56
#define XLB_HANDOFF_TAG_LEN 32
#define XLB_HANDOFF_MAX_LEN \
	(XLB_HANDOFF_HDR_LEN + XLB_HANDOFF_MAX * XLB_HANDOFF_REC_LEN + XLB_HANDOFF_TAG_LEN)

/* A datagram of n (<= XLB_HANDOFF_MAX) flows into buf: its length, or -errno. */
int xlb_handoff_encode(const __u8 key[XLB_HANDOFF_KEY_LEN], __u64 seq, __u64 now_s,
		       const struct xlb_handoff_flow *flows, __u32 n, __u8 *buf, size_t len);

/*
 * A received datagram: its flows into out (room for XLB_HANDOFF_MAX) and
 * the count, or -EBADMSG (malformed), -EPERM (bad tag), -ESTALE (replayed
 * or clock too far off). *last_seq is the sender's highest sequence seen,
 * raised on success.
 */
int xlb_handoff_decode(const __u8 key[XLB_HANDOFF_KEY_LEN], const __u8 *buf, size_t len,
		       __u64 now_s, __u64 *last_seq, struct xlb_handoff_flow *out);

/* "HEX" of 64 digits into key: 0 or -EINVAL */
int xlb_handoff_key_parse(const char *hex, __u8 key[XLB_HANDOFF_KEY_LEN]);

#endif
