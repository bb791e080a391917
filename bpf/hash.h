/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The flow hash. Built into the XDP program and into user space (xlbctl
 * explain, tests), which must agree bit for bit. Words are hashed in host
 * order of their network value, with a fixed seed, so every LB host of an
 * ECMP group computes the same hash for a flow.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>
#include "../maps/xlb_maps.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define XLB_HASH_SEED 0x786c6221u /* "xlb!" */

static __always_inline __u32 xlb_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/* murmur3's block step */
static __always_inline __u32 xlb_hash_step(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51u;
	k = xlb_rotl32(k, 15);
	k *= 0x1b873593u;
	h ^= k;
	h = xlb_rotl32(h, 13);
	return h * 5 + 0xe6546b64u;
}

/* murmur3's finaliser */
static __always_inline __u32 xlb_hash_final(__u32 h, __u32 len)
{
	h ^= len;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static __always_inline __u32 xlb_be32_to_host(__be32 v)
{
	return __builtin_bswap32((__u32)v);
}

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "xlb_be32_to_host assumes a little-endian host"
#endif

/*
 * out = a masked to its first bits bits (0..128, counted over the 16-byte
 * form: an IPv4 /24 is 120). The persist and limit keys, explain, the
 * prefix parser: one mask.
 */
static __always_inline void xlb_addr_mask(const __be32 a[4], __u32 bits, __be32 out[4])
{
	__u32 i, keep;

	for (i = 0; i < 4; i++) {
		keep = bits >= 32 * (i + 1) ? 32 : bits > 32 * i ? bits - 32 * i : 0;
		/* a host-order mask made big-endian: the same swap */
		out[i] = keep == 32 ? a[i] : keep == 0 ? 0 :
				      a[i] & (__be32)xlb_be32_to_host(~0u << (32 - keep));
	}
}

/*
 * Bit of an address in the vip_addr_bits filter: a multiplicative hash,
 * so the common "not a VIP" answer costs a multiply and one array load.
 */
static __always_inline __u32 xlb_addr_bit(const __be32 a[4])
{
	__u32 h;

	h = xlb_be32_to_host(a[3]) * 0x9e3779b1u;
	h ^= (xlb_be32_to_host(a[0]) ^ xlb_be32_to_host(a[1])) * 0x85ebca6bu;
	h ^= xlb_be32_to_host(a[2]) * 0xc2b2ae35u;
	return h >> (32 - XLB_ADDR_BITS_LOG2);
}

/* Client address only: the source-hash scheduler. */
static __always_inline __u32 xlb_hash_addr(const __be32 saddr[4])
{
	__u32 h = XLB_HASH_SEED;

	h = xlb_hash_step(h, xlb_be32_to_host(saddr[0]));
	h = xlb_hash_step(h, xlb_be32_to_host(saddr[1]));
	h = xlb_hash_step(h, xlb_be32_to_host(saddr[2]));
	h = xlb_hash_step(h, xlb_be32_to_host(saddr[3]));
	return xlb_hash_final(h, 16);
}

static __always_inline int xlb_is_v4mapped(const __be32 a[4])
{
	return !(a[0] | a[1]) && a[2] == (__be32)__builtin_bswap32(0xffff);
}

/*
 * Addresses, ports and protocol. IPv4 hashes only the 32-bit addresses,
 * a third of the work. Fragments pass ports of 0, so every fragment of a
 * datagram hashes alike.
 */
static __always_inline __u32 xlb_hash_flow(const __be32 saddr[4],
					   const __be32 daddr[4], __be16 sport,
					   __be16 dport, __u8 proto)
{
	__u32 h = XLB_HASH_SEED, len = 13;

	if (xlb_is_v4mapped(saddr) && xlb_is_v4mapped(daddr)) {
		h = xlb_hash_step(h, xlb_be32_to_host(saddr[3]));
		h = xlb_hash_step(h, xlb_be32_to_host(daddr[3]));
	} else {
		h = xlb_hash_step(h, xlb_be32_to_host(saddr[0]));
		h = xlb_hash_step(h, xlb_be32_to_host(saddr[1]));
		h = xlb_hash_step(h, xlb_be32_to_host(saddr[2]));
		h = xlb_hash_step(h, xlb_be32_to_host(saddr[3]));
		h = xlb_hash_step(h, xlb_be32_to_host(daddr[0]));
		h = xlb_hash_step(h, xlb_be32_to_host(daddr[1]));
		h = xlb_hash_step(h, xlb_be32_to_host(daddr[2]));
		h = xlb_hash_step(h, xlb_be32_to_host(daddr[3]));
		len = 37;
	}
	h = xlb_hash_step(h, ((__u32)__builtin_bswap16(sport) << 16) |
				     __builtin_bswap16(dport));
	h = xlb_hash_step(h, proto);
	return xlb_hash_final(h, len);
}

/*
 * Entropy for forward ipip's outer header (a hashed source, the IPv6 flow
 * label): the same for every packet of a flow, cheap, every bit mixed. It
 * only has to agree with itself, so it skips the Maglev hash's rounds.
 */
static __always_inline __u32 xlb_hash_entropy(const __be32 saddr[4], const __be32 daddr[4],
					      __be16 sport, __be16 dport, __u8 proto)
{
	__u32 h;

	h = (__u32)(saddr[0] ^ saddr[1] ^ saddr[2] ^ saddr[3]) * 0x9e3779b1u;
	h ^= (__u32)(daddr[0] ^ daddr[1] ^ daddr[2] ^ daddr[3]);
	h = xlb_rotl32(h, 13) * 5 + 0xe6546b64u;
	h ^= ((__u32)sport << 16 | dport) ^ ((__u32)proto << 8);
	return xlb_hash_final(h, 0);
}

/*
 * A flow's two probation slots: two flows that share one still have the
 * other, so flows that alternate their packets are both seen twice.
 */
static __always_inline __u32 xlb_probation_slot(__u32 flow_hash, int second)
{
	__u32 a = flow_hash & (XLB_PROBATION_SLOTS - 1), b;

	if (!second)
		return a;
	b = xlb_hash_final(flow_hash, 1) & (XLB_PROBATION_SLOTS - 1);
	return b == a ? a ^ 1 : b;
}

/*
 * The check of a probation slot: its tuple's hash, backend id and generation
 * mixed. A slot another CPU wrote half of fails it; never 0, which an empty
 * slot holds.
 */
static __always_inline __u32 xlb_probation_check(__u32 flow_hash, __u32 backend_id, __u32 gen)
{
	return xlb_hash_final(flow_hash ^ (backend_id * 0x9e3779b1u) ^ (gen * 0x85ebca6bu), 1) | 1;
}

#endif /* XLB_HASH_H */
