// SPDX-License-Identifier: GPL-2.0
/*
 * Text forms of addresses, VIPs, durations and MACs, shared by the config
 * file, xlbctl and xlbd so that all three accept and print the same thing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/hash.h"
#include "names.h"
#include "syntax.h"

#define MS_PER_S	1000ull
#define MS_PER_M	(60 * MS_PER_S)
#define MS_PER_H	(60 * MS_PER_M)

static int fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int xlb_addr_is_v4(const __be32 a[4])
{
	return a[0] == 0 && a[1] == 0 && a[2] == htonl(0xffff);
}

/* Text of family af (at most len bytes of s) into dst, by inet_pton. */
static int pton_n(int af, const char *s, size_t len, void *dst)
{
	char buf[XLB_ADDR_STR_MAX];

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(af, buf, dst) == 1 ? 0 : -EINVAL;
}

/* IPv4 text (at most len bytes of s) into the v4-mapped form. */
static int parse_v4(const char *s, size_t len, __be32 out[4])
{
	struct in_addr in;

	if (pton_n(AF_INET, s, len, &in))
		return -EINVAL;
	out[0] = 0;
	out[1] = 0;
	out[2] = htonl(0xffff);
	out[3] = in.s_addr;
	return 0;
}

/*
 * IPv6 text into the 16-byte form. A v4-mapped address is refused: it would
 * silently become an IPv4 key and print back in another family.
 */
static int parse_v6(const char *s, size_t len, __be32 out[4])
{
	struct in6_addr in6;

	if (pton_n(AF_INET6, s, len, &in6))
		return -EINVAL;
	memcpy(out, &in6, 16);
	if (xlb_addr_is_v4(out))
		return -EINVAL;
	return 0;
}

int xlb_parse_addr(const char *s, __be32 out[4], char *err, size_t errlen)
{
	__be32 a[4];

	if (strchr(s, ':')) {
		if (parse_v6(s, strlen(s), a))
			return fail(err, errlen, "bad IPv6 address");
	} else if (parse_v4(s, strlen(s), a)) {
		return fail(err, errlen, "bad IPv4 address");
	}
	memcpy(out, a, sizeof(a));
	return 0;
}

void xlb_format_addr(const __be32 a[4], char *buf, size_t len)
{
	char tmp[XLB_ADDR_STR_MAX];

	if (xlb_addr_is_v4(a)) {
		if (!inet_ntop(AF_INET, &a[3], tmp, sizeof(tmp)))
			tmp[0] = '\0';
	} else if (!inet_ntop(AF_INET6, a, tmp, sizeof(tmp))) {
		tmp[0] = '\0';
	}
	snprintf(buf, len, "%s", tmp);
}

int xlb_parse_vip(const char *s, struct vip_key *key, char *err, size_t errlen)
{
	const char *p, *end;
	struct vip_key k = {};
	__u32 port = 0;
	int ndigits = 0;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || parse_v6(s + 1, end - s - 1, k.addr))
			return fail(err, errlen, "bad IPv6 address");
		p = end + 1;
	} else {
		const char *colon;

		/* Address ends at the first ':' (or '/' if there is no port). */
		end = s + strcspn(s, ":/");
		if (parse_v4(s, end - s, k.addr)) {
			colon = strchr(s, ':');
			if (colon && strchr(colon + 1, ':'))
				return fail(err, errlen,
					    "IPv6 address needs brackets");
			return fail(err, errlen, "bad IPv4 address");
		}
		p = end;
	}

	if (*p != ':')
		return fail(err, errlen, "missing port");
	p++;
	if (*p == '\0' || *p == '/')
		return fail(err, errlen, "missing port");
	for (; is_digit(*p); p++) {
		if (++ndigits > 5)
			return fail(err, errlen, "bad port");
		port = port * 10 + (*p - '0');
	}
	if ((*p != '\0' && *p != '/') || port > 65535)
		return fail(err, errlen, "bad port");
	if (*p == '\0' || p[1] == '\0')
		return fail(err, errlen, "missing protocol");
	p++;
	if (!strcmp(p, "tcp"))
		k.proto = IPPROTO_TCP;
	else if (!strcmp(p, "udp"))
		k.proto = IPPROTO_UDP;
	else
		return fail(err, errlen, "bad protocol (tcp or udp)");

	k.port = htons((__u16)port);
	*key = k;
	return 0;
}

/* The address of an endpoint, up to its ':' port; *rest is what follows. */
static int parse_endpoint_addr(const char *s, unsigned int flags, struct xlb_endpoint *ep,
			       const char **rest, char *err, size_t errlen)
{
	const char *end, *zone, *colon;
	size_t zlen;

	if (s[0] != '[') {
		end = s + strcspn(s, ":");
		if (parse_v4(s, end - s, ep->addr)) {
			colon = strchr(s, ':');
			return fail(err, errlen, colon && strchr(colon + 1, ':') ?
				    "IPv6 address needs brackets" : "bad IPv4 address");
		}
		*rest = end;
		return 0;
	}
	end = strchr(s, ']');
	if (!end)
		return fail(err, errlen, "bad IPv6 address");
	zone = memchr(s + 1, '%', end - s - 1);
	if (zone) {
		zlen = end - zone - 1;
		if (!(flags & XLB_EP_ZONE) || !zlen || zlen >= sizeof(ep->zone))
			return fail(err, errlen, "bad IPv6 address");
		memcpy(ep->zone, zone + 1, zlen);
		ep->zone[zlen] = '\0';
	}
	if (parse_v6(s + 1, (zone ? zone : end) - s - 1, ep->addr))
		return fail(err, errlen, "bad IPv6 address");
	*rest = end + 1;
	return 0;
}

int xlb_parse_endpoint(const char *s, unsigned int flags, struct xlb_endpoint *ep,
		       char *err, size_t errlen)
{
	struct xlb_endpoint e = {};
	const char *p;
	__u32 port = 0;
	int ndigits = 0;

	if (!s)
		return fail(err, errlen, "bad IPv4 address");
	if (parse_endpoint_addr(s, flags, &e, &p, err, errlen))
		return -EINVAL;
	if (*p != ':' || !p[1])
		return fail(err, errlen, "missing port");
	for (p++; is_digit(*p); p++) {
		if (++ndigits > 5)
			return fail(err, errlen, "bad port");
		port = port * 10 + (*p - '0');
	}
	if (*p || port > 65535 || (!port && !(flags & XLB_EP_PORT_ZERO)))
		return fail(err, errlen, "bad port");
	e.port = (__u16)port;
	*ep = e;
	return 0;
}

void xlb_format_vip(const struct vip_key *key, char *buf, size_t len)
{
	char addr[XLB_ADDR_STR_MAX];
	const char *proto;
	int v4 = xlb_addr_is_v4(key->addr);

	switch (key->proto) {
	case IPPROTO_TCP:
		proto = "tcp";
		break;
	case IPPROTO_UDP:
		proto = "udp";
		break;
	default:
		proto = "?";
		break;
	}
	xlb_format_addr(key->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s%s%s:%u/%s", v4 ? "" : "[", addr, v4 ? "" : "]",
		 ntohs(key->port), proto);
}

int xlb_parse_duration_ms(const char *s, __u64 *ms, char *err, size_t errlen)
{
	const char *p = s;
	__u64 n = 0, mult;

	if (!is_digit(*p))
		goto bad;
	for (; is_digit(*p); p++) {
		unsigned int d = *p - '0';

		if (n > (~0ull - d) / 10)
			goto bad;
		n = n * 10 + d;
	}
	if (!strcmp(p, "ms"))
		mult = 1;
	else if (!strcmp(p, "s"))
		mult = MS_PER_S;
	else if (!strcmp(p, "m"))
		mult = MS_PER_M;
	else if (!strcmp(p, "h"))
		mult = MS_PER_H;
	else
		goto bad;
	if (n > ~0ull / mult)
		goto bad;
	*ms = n * mult;
	return 0;
bad:
	return fail(err, errlen, "bad duration (e.g. 2s, 500ms)");
}

void xlb_format_duration_ms(__u64 ms, char *buf, size_t len)
{
	unsigned long long v = ms;

	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % MS_PER_H == 0)
		snprintf(buf, len, "%lluh", v / MS_PER_H);
	else if (ms % MS_PER_M == 0)
		snprintf(buf, len, "%llum", v / MS_PER_M);
	else if (ms % MS_PER_S == 0)
		snprintf(buf, len, "%llus", v / MS_PER_S);
	else
		snprintf(buf, len, "%llums", v);
}

int xlb_parse_u32(const char *s, __u32 min, __u32 max, __u32 *out, char *err,
		  size_t errlen)
{
	__u64 n = 0;
	const char *p;

	if (!is_digit(*s))
		return fail(err, errlen, "not a number");
	for (p = s; is_digit(*p); p++) {
		/* Keep counting past 2^32 only as "too big". */
		if (n <= 0xffffffffull)
			n = n * 10 + (*p - '0');
	}
	if (*p != '\0')
		return fail(err, errlen, "not a number");
	if (n < min || n > max) {
		if (err && errlen)
			snprintf(err, errlen, "out of range (%u..%u)", min, max);
		return -EINVAL;
	}
	*out = (__u32)n;
	return 0;
}

/* An enum of one byte by its name in table; "bad <what> (<names>)" if none. */
static int parse_u8_name(const struct xlb_name *table, const char *what, const char *last_sep,
			 const char *s, __u8 *out, char *err, size_t errlen)
{
	char names[96];
	unsigned int v;

	if (!xlb_value_of(table, s, &v)) {
		*out = (__u8)v;
		return 0;
	}
	if (err && errlen) {
		xlb_names_list(table, last_sep, names, sizeof(names));
		snprintf(err, errlen, "bad %s (%s)", what, names);
	}
	return -EINVAL;
}

int xlb_parse_sched(const char *s, __u8 *sched, char *err, size_t errlen)
{
	return parse_u8_name(xlb_sched_names, "scheduler", " or ", s, sched, err, errlen);
}

const char *xlb_sched_name(__u8 sched)
{
	return xlb_name_of(xlb_sched_names, sched);
}

int xlb_parse_forward(const char *s, __u8 *forward, char *err, size_t errlen)
{
	return parse_u8_name(xlb_forward_names, "forwarding mode", ", ", s, forward, err,
			     errlen);
}

const char *xlb_forward_name(__u8 forward)
{
	return xlb_name_of(xlb_forward_names, forward);
}

int xlb_check_backend_family(__u8 forward, const __be32 vip[4], const __be32 backend[4],
			     char *err, size_t errlen)
{
	int vip4 = xlb_addr_is_v4(vip), be4 = xlb_addr_is_v4(backend);

	if (vip4 == be4)
		return 0;
	if (forward == XLB_FWD_IPIP && vip4)
		return 0; /* 4in6 */
	return fail(err, errlen, be4 ? "IPv4 backend for an IPv6 VIP" :
			"IPv6 backend for an IPv4 VIP (only forward ipip carries one)");
}

int xlb_parse_encap_source(const char *s, int family, struct encap_source *src,
			   char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 8], *slash, *end;
	__u32 full = family == 4 ? 32 : 128;
	unsigned long len = full;

	if (strlen(s) >= sizeof(addr))
		return fail(err, errlen, "bad address");
	strcpy(addr, s);
	slash = strchr(addr, '/');
	if (slash) {
		*slash = '\0';
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len > full)
			return fail(err, errlen, "bad prefix length");
		/* sources all over the address space would reach 0/8, 127/8, multicast */
		if (full - len > (family == 4 ? 16u : 32u))
			return fail(err, errlen, family == 4 ? "prefix too short (at least /16)" :
							      "prefix too short (at least /96)");
	}
	memset(src, 0, sizeof(*src));
	if (xlb_parse_addr(addr, src->addr, err, errlen))
		return -EINVAL;
	if ((family == 4) != xlb_addr_is_v4(src->addr))
		return fail(err, errlen, family == 4 ? "not an IPv4 address" : "not an IPv6 address");
	src->hash_bits = full - len;
	src->flags = XLB_ENCAP_F_SET;
	return 0;
}

void xlb_format_encap_source(const struct encap_source *src, char *buf, size_t len)
{
	char a[XLB_ADDR_STR_MAX];

	if (!(src->flags & XLB_ENCAP_F_SET)) {
		snprintf(buf, len, "none");
		return;
	}
	xlb_format_addr(src->addr, a, sizeof(a));
	if (src->hash_bits)
		snprintf(buf, len, "%s/%u", a,
			 (xlb_addr_is_v4(src->addr) ? 32 : 128) - src->hash_bits);
	else
		snprintf(buf, len, "%s", a);
}

int xlb_has_space_or_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 1;
	return 0;
}

const char *xlb_quote(const char *s, char *buf, size_t len)
{
	size_t i, n = strlen(s);
	int cut = n >= len;

	if (cut)
		n = len - 4;
	for (i = 0; i < n; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	strcpy(buf + n, cut ? "..." : "");
	return buf;
}

void xlb_format_mac(const __u8 mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* a with every bit past the first len cleared */

int xlb_parse_prefix(const char *s, struct xlb_prefix *p, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 8], *slash;
	unsigned int len = 0, full;
	const char *d;
	__be32 a[4];

	if (strlen(s) >= sizeof(addr))
		return fail(err, errlen, "bad address");
	strcpy(addr, s);
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	if (xlb_parse_addr(addr, a, err, errlen))
		return -EINVAL;
	full = xlb_addr_is_v4(a) ? 32 : 128;
	if (slash) {
		for (d = slash + 1; *d >= '0' && *d <= '9' && len <= full; d++)
			len = len * 10 + (*d - '0');
		if (d == slash + 1 || *d || len > full || d - slash > 4)
			return fail(err, errlen, "bad prefix length");
	} else {
		len = full;
	}
	p->len = 128 - full + len;
	xlb_addr_mask(a, p->len, p->addr);
	return 0;
}

int xlb_prefix_contains(const struct xlb_prefix *p, const __be32 a[4])
{
	__be32 m[4];

	xlb_addr_mask(a, p->len, m);
	return !memcmp(m, p->addr, sizeof(m));
}
