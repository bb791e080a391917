/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Text forms shared by the config file, xlbctl and xlbd: addresses, VIPs
 * (ADDR:PORT/PROTO, [ADDR]:PORT/PROTO for IPv6), durations and MACs.
 * Parsers return 0 or -EINVAL and, on error, write the reason (no
 * prefix, no quote of the input) to err, e.g. "bad IPv4 address".
 */
#ifndef XLB_SYNTAX_H
#define XLB_SYNTAX_H

#include <stddef.h>
#include <linux/types.h>
#include "../../maps/xlb_maps.h"

#define XLB_ADDR_STR_MAX 48  /* enough for any IPv6 text form */
#define XLB_VIP_STR_MAX 64

/* "198.18.0.1" or "2001:db8::1" into the 16-byte form (IPv4 v4-mapped). */
int xlb_parse_addr(const char *s, __be32 out[4], char *err, size_t errlen);
void xlb_format_addr(const __be32 a[4], char *buf, size_t len);
int xlb_addr_is_v4(const __be32 a[4]);

/*
 * "198.18.100.10:80/tcp", "[2001:db8::10]:443/udp"; port 0 = every port.
 * Errors: "bad IPv4 address", "bad IPv6 address", "missing port",
 * "bad port", "missing protocol", "bad protocol (tcp or udp)",
 * "IPv6 address needs brackets".
 */
int xlb_parse_vip(const char *s, struct vip_key *key, char *err, size_t errlen);
void xlb_format_vip(const struct vip_key *key, char *buf, size_t len);

/*
 * Durations: an unsigned number with a unit: "ms", "s", "m" or "h"
 * ("300s", "1500ms", "2m"). No unit, a negative, a fraction or overflow is
 * an error ("bad duration (e.g. 2s, 500ms)").
 */
int xlb_parse_duration_ms(const char *s, __u64 *ms, char *err, size_t errlen);
void xlb_format_duration_ms(__u64 ms, char *buf, size_t len); /* "2s", "1500ms" */

/* Unsigned decimal in [min, max]; errors "not a number", "out of range (min..max)". */
int xlb_parse_u32(const char *s, __u32 min, __u32 max, __u32 *out, char *err,
		  size_t errlen);

/*
 * "ADDR:PORT" or "[ADDR]:PORT", e.g. a listener or a client: IPv4
 * "198.18.0.1:9100", IPv6 "[2001:db8::1]:9100". Errors are those of a
 * VIP: "bad IPv4 address", "bad IPv6 address", "IPv6 address needs
 * brackets", "missing port", "bad port".
 */
#define XLB_EP_PORT_ZERO 0x1	/* port 0 is accepted (else "bad port") */
#define XLB_EP_ZONE	 0x2	/* "[fe80::1%eth0]:80": the zone goes to ep->zone */
#define XLB_EP_ZONE_MAX	 16	/* IF_NAMESIZE */

struct xlb_endpoint {
	__be32 addr[4];			/* IPv4 v4-mapped, as xlb_parse_addr() */
	__u16 port;			/* host order */
	char zone[XLB_EP_ZONE_MAX];	/* "" without one */
};

int xlb_parse_endpoint(const char *s, unsigned int flags, struct xlb_endpoint *ep,
		       char *err, size_t errlen);

/* Names of schedulers and forwarding modes are in names.h; an unknown one is "?". */
int xlb_parse_sched(const char *s, __u8 *sched, char *err, size_t errlen);
const char *xlb_sched_name(__u8 sched);
int xlb_parse_forward(const char *s, __u8 *forward, char *err, size_t errlen);
/* Which backend families a forwarding mode can reach from a VIP's family. */
int xlb_check_backend_family(__u8 forward, const __be32 vip[4], const __be32 backend[4],
			     char *err, size_t errlen);
/* "ADDR" (that source) or "ADDR/LEN" (sources hashed within the prefix). */
int xlb_parse_encap_source(const char *s, int family, struct encap_source *src,
			   char *err, size_t errlen);
void xlb_format_encap_source(const struct encap_source *src, char *buf, size_t len);
const char *xlb_forward_name(__u8 forward);

/* A space, a control character or DEL: what a name or an HTTP path may not hold. */
int xlb_has_space_or_ctl(const char *s);
/* s as it may appear quoted in a one-line message: control bytes as '?', cut with "...". */
#define XLB_QUOTE_MAX 64
const char *xlb_quote(const char *s, char *buf, size_t len);

void xlb_format_mac(const __u8 mac[6], char *buf, size_t len);

/*
 * An address prefix, "198.18.0.0/24" or "2001:db8::/32"; an address alone
 * is a /32 or /128. Kept in the 16-byte form with the length counted over
 * it (an IPv4 /24 is 120), host bits cleared. Errors: those of an
 * address, "bad prefix length".
 */
struct xlb_prefix {
	__be32 addr[4];
	__u8 len;
};

int xlb_parse_prefix(const char *s, struct xlb_prefix *p, char *err, size_t errlen);
int xlb_prefix_contains(const struct xlb_prefix *p, const __be32 a[4]);

#endif /* XLB_SYNTAX_H */
