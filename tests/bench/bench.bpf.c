// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark-only programs around the real data plane. The real program's
 * source is included as is, so the benchmark measures exactly its code.
 *
 * BPF_PROG_TEST_RUN with repeat feeds each iteration the previous one's
 * output. xlb_xdp only rewrites MACs, which it never reads, so established
 * and pass cases repeat fine as they are. New-flow cases must see a new
 * 5-tuple each time: the *_vary programs write a counter into the source
 * address first; the cost of that step is measured on the floor
 * (floor_vary - floor) and subtracted by the bench.
 *
 * forward ipip grows the frame: bench_xlb_encap takes the outer header off
 * again (one store, one bpf_xdp_adjust_head), so each iteration
 * encapsulates the same packet. Half of what bench_floor_headroom adds to
 * the floor (two such calls) is subtracted as its cost.
 */
#include "../../bpf/xlb.bpf.c"
#include "mac_swap.h"

__u32 vary_offset = 0; /* byte offset of 4 source-address bytes */
__u32 vary_seq = 0;
__u32 fib_ifindex = 0;
__be32 fib_dst = 0;

static __always_inline int vary(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off = vary_offset;

	if (off > 64 || data + off + 4 > end)
		return -1;
	*(__u32 *)(data + off) = ++vary_seq;
	return 0;
}


SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	return mac_swap_tx(ctx);
}

SEC("xdp")
int bench_floor_vary(struct xdp_md *ctx)
{
	if (vary(ctx))
		return XDP_ABORTED;
	return mac_swap_tx(ctx);
}

/* The floor with the head grown and shrunk back: twice bench_xlb_encap's restore step. */
SEC("xdp")
int bench_floor_headroom(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_head(ctx, -20) || bpf_xdp_adjust_head(ctx, 20))
		return XDP_ABORTED;
	return mac_swap_tx(ctx);
}

SEC("xdp")
int bench_xlb_vary(struct xdp_md *ctx)
{
	if (vary(ctx))
		return XDP_ABORTED;
	return xlb_process(ctx);
}

/*
 * Drop the outer header again. xlb never reads MACs, so only the ethertype
 * in front of the inner packet is written: one store and one helper call.
 */
static __always_inline int unwrap(struct xdp_md *ctx, const int room, const int proto_off)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + room + ETH_HLEN > end)
		return -1;
	*(__be16 *)(data + room + ETH_HLEN - 2) =
		((__u8 *)data)[ETH_HLEN + proto_off] == IPPROTO_IPV6 ? bpf_htons(ETH_P_IPV6) :
									 bpf_htons(ETH_P_IP);
	return bpf_xdp_adjust_head(ctx, room);
}

SEC("xdp")
int bench_xlb_encap(struct xdp_md *ctx)
{
	__u32 len0 = ctx->data_end - ctx->data, len1, grown;
	int action;

	/* keep len0 a number: the compiler would fold it into pointer sums */
	asm volatile("" : "+r"(len0));
	action = xlb_process(ctx);
	len1 = ctx->data_end - ctx->data;
	asm volatile("" : "+r"(len1));
	grown = len1 - len0;
	if (grown == 20 && !unwrap(ctx, 20, 9))
		return action;
	if (grown == 40 && !unwrap(ctx, 40, 6))
		return action;
	return XDP_ABORTED;
}

/* What resolving the next hop with bpf_fib_lookup would add per packet. */
SEC("xdp")
int bench_fib_lookup(struct xdp_md *ctx)
{
	struct bpf_fib_lookup fib = {};
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	fib.family = 2; /* AF_INET */
	fib.ipv4_dst = fib_dst;
	fib.ifindex = fib_ifindex;
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_ABORTED;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return XDP_TX;
}
