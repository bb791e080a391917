// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "handoff.h"

static const __u8 magic[4] = { 'X', 'L', 'B', 'H' };
#define VERSION 1

static void put16(__u8 *p, __u16 v) { p[0] = v >> 8; p[1] = v; }
static __u16 get16(const __u8 *p) { return (__u16)(p[0] << 8 | p[1]); }
static void put64(__u8 *p, __u64 v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (__u8)v;
}
static __u64 get64(const __u8 *p)
{
	__u64 v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int tag(const __u8 *key, const __u8 *buf, size_t len, __u8 out[XLB_HANDOFF_TAG_LEN])
{
	unsigned int n = XLB_HANDOFF_TAG_LEN;

	return HMAC(EVP_sha256(), key, XLB_HANDOFF_KEY_LEN, buf, len, out, &n) ? 0 : -EIO;
}

/* addresses and ports are kept as on the wire: memcpy, not put16 */
static void rec_put(__u8 *p, const struct xlb_handoff_flow *f)
{
	memcpy(p, f->saddr, 16);
	memcpy(p + 16, f->daddr, 16);
	memcpy(p + 32, f->backend, 16);
	memcpy(p + 48, &f->sport, 2);
	memcpy(p + 50, &f->dport, 2);
	memcpy(p + 52, &f->vip_port, 2);
	p[54] = f->proto;
	p[55] = 0;
}

static void rec_get(const __u8 *p, struct xlb_handoff_flow *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->saddr, p, 16);
	memcpy(f->daddr, p + 16, 16);
	memcpy(f->backend, p + 32, 16);
	memcpy(&f->sport, p + 48, 2);
	memcpy(&f->dport, p + 50, 2);
	memcpy(&f->vip_port, p + 52, 2);
	f->proto = p[54];
}

int xlb_handoff_encode(const __u8 key[XLB_HANDOFF_KEY_LEN], __u64 seq, __u64 now_s,
		       const struct xlb_handoff_flow *flows, __u32 n, __u8 *buf, size_t len)
{
	size_t body = XLB_HANDOFF_HDR_LEN + (size_t)n * XLB_HANDOFF_REC_LEN;
	__u32 i;
	int err;

	if (n > XLB_HANDOFF_MAX)
		return -E2BIG;
	if (len < body + XLB_HANDOFF_TAG_LEN)
		return -ENOBUFS;
	memset(buf, 0, XLB_HANDOFF_HDR_LEN);
	memcpy(buf, magic, 4);
	buf[4] = VERSION;
	put16(buf + 6, (__u16)n);
	put64(buf + 8, seq);
	put64(buf + 16, now_s);
	for (i = 0; i < n; i++)
		rec_put(buf + XLB_HANDOFF_HDR_LEN + i * XLB_HANDOFF_REC_LEN, &flows[i]);
	err = tag(key, buf, body, buf + body);
	return err ?: (int)(body + XLB_HANDOFF_TAG_LEN);
}

int xlb_handoff_decode(const __u8 key[XLB_HANDOFF_KEY_LEN], const __u8 *buf, size_t len,
		       __u64 now_s, __u64 *last_seq, struct xlb_handoff_flow *out)
{
	__u8 want[XLB_HANDOFF_TAG_LEN];
	__u64 seq, sent;
	size_t body;
	__u32 n, i;
	int err;

	if (len < XLB_HANDOFF_HDR_LEN + XLB_HANDOFF_TAG_LEN || memcmp(buf, magic, 4) ||
	    buf[4] != VERSION)
		return -EBADMSG;
	n = get16(buf + 6);
	body = XLB_HANDOFF_HDR_LEN + (size_t)n * XLB_HANDOFF_REC_LEN;
	if (n > XLB_HANDOFF_MAX || len != body + XLB_HANDOFF_TAG_LEN)
		return -EBADMSG;
	err = tag(key, buf, body, want);
	if (err)
		return err;
	/* the tag first: nothing unauthenticated moves last_seq */
	if (CRYPTO_memcmp(want, buf + body, XLB_HANDOFF_TAG_LEN))
		return -EPERM;
	seq = get64(buf + 8);
	sent = get64(buf + 16);
	if (seq <= *last_seq || sent + XLB_HANDOFF_SKEW_S < now_s ||
	    now_s + XLB_HANDOFF_SKEW_S < sent)
		return -ESTALE;
	*last_seq = seq;
	for (i = 0; i < n; i++)
		rec_get(buf + XLB_HANDOFF_HDR_LEN + i * XLB_HANDOFF_REC_LEN, &out[i]);
	return (int)n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int xlb_handoff_key_parse(const char *hex, __u8 key[XLB_HANDOFF_KEY_LEN])
{
	int i, hi, lo;

	if (strlen(hex) != 2 * XLB_HANDOFF_KEY_LEN)
		return -EINVAL;
	for (i = 0; i < XLB_HANDOFF_KEY_LEN; i++) {
		hi = hexval(hex[2 * i]);
		lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		key[i] = (__u8)(hi << 4 | lo);
	}
	return 0;
}
