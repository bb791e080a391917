// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The live-traffic generator and its two helpers (tests/bench/live_gen.c):
 *
 * gen_xdp runs under BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on a copy
 * of user space's template frame. It writes the MACs, the source address
 * and port (from the thread's flow set, or a new tuple every packet) and
 * the TCP flags, fixes the checksums, and returns XDP_TX: out of the
 * generator's veth. Pages are recycled without being rewritten, and the
 * far side may have rewritten them (xlb writes the MACs), so every varied
 * byte is written each time, and the checksums are computed from the
 * template's sums, never from what the page holds.
 *
 * sink_xdp, on the generator's veth, counts the frames that come back and
 * drops them. floor_xdp, on the LB's veth instead of xlb, is the floor: a
 * MAC swap and XDP_TX, counted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "live.h"
#include "mac_swap.h"

struct gen_cfg cfg = {};
struct gen_thread threads[GEN_MAX_CPUS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GEN_COUNT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* Frame offsets, Ethernet then IPv4 (20 bytes) or IPv6 (40), then TCP or UDP. */
#define V4_SADDR (ETH_HLEN + 12)
#define V4_CSUM (ETH_HLEN + 10)
#define V4_L4 (ETH_HLEN + 20)
#define V6_SADDR_LAST (ETH_HLEN + 8 + 12)
#define V6_L4 (ETH_HLEN + 40)
#define TCP_FLAGS 13
#define TCP_CSUM 16
#define UDP_CSUM 6

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static __always_inline __u16 word(const void *p)
{
	return *(const __u16 *)p;
}

/* This packet's flow id: from the thread's flow set, or unique per packet. */
static __always_inline __u32 next_flow(struct gen_thread *t)
{
	__u32 f, n = t->nflows, c = t->cursor;

	t->seq++;
	if (cfg.mode == GEN_RANDOM) {
		/* odd multiply and xorshift are bijections: no tuple comes twice */
		f = ((__u32)t->seq * t->nthreads + t->tid) ^ cfg.seed;
		f *= 0x9e3779b1u;
		return f ^ (f >> 16);
	}
	if (cfg.mode == GEN_PAIRS) {
		f = c >> 1;
		n <<= 1;
	} else {
		f = c;
	}
	c++;
	t->cursor = c >= n ? 0 : c;
	return t->first_flow + f;
}

/* Source address and port of flow f; returns the port, in network order. */
static __always_inline __be16 source_of(__u32 f, __be32 *addr)
{
	__u32 bits = cfg.host_bits & 31, mask = (1u << bits) - 1;

	*addr = bpf_htonl(cfg.prefix | (f & mask));
	if (cfg.mode == GEN_RANDOM)
		return bpf_htons(f >> bits);
	return bpf_htons(cfg.sport_base + (f >> bits));
}

SEC("xdp")
int gen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 cpu = bpf_get_smp_processor_id() & (GEN_MAX_CPUS - 1), sum;
	struct gen_thread *t = &threads[cpu];
	__u8 *l4, *src;
	__be32 addr;
	__be16 port;

	/* up to the TCP checksum; a UDP frame is padded as long (user space) */
	if (cfg.family == 4) {
		if (data + V4_L4 + 20 > end)
			return XDP_ABORTED;
		src = data + V4_SADDR;
		l4 = data + V4_L4;
	} else {
		if (data + V6_L4 + 20 > end)
			return XDP_ABORTED;
		src = data + V6_SADDR_LAST;
		l4 = data + V6_L4;
	}
	__builtin_memcpy(data, cfg.dmac, 6);
	__builtin_memcpy(data + 6, cfg.smac, 6);
	port = source_of(next_flow(t), &addr);
	__builtin_memcpy(src, &addr, 4);
	__builtin_memcpy(l4, &port, 2);
	if (cfg.family == 4)
		*(__u16 *)(data + V4_CSUM) =
			fold(cfg.ip_csum_base + word(src) + word(src + 2));
	sum = cfg.l4_csum_base + word(src) + word(src + 2) + word(l4);
	if (cfg.tcp) {
		l4[TCP_FLAGS] = cfg.tcp_flags;
		sum += word(l4 + TCP_FLAGS - 1);
		*(__u16 *)(l4 + TCP_CSUM) = fold(sum);
	} else {
		/* UDP: 0 would mean no checksum */
		*(__u16 *)(l4 + UDP_CSUM) = fold(sum) ?: 0xffff;
	}
	return XDP_TX;
}

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&counts, &slot);

	if (n)
		*n += 1;
}

SEC("xdp")
int sink_xdp(struct xdp_md *ctx)
{
	count(GEN_COUNT_SINK);
	return XDP_DROP;
}

SEC("xdp")
int floor_xdp(struct xdp_md *ctx)
{
	int action = mac_swap_tx(ctx);

	if (action == XDP_TX)
		count(GEN_COUNT_FLOOR);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
