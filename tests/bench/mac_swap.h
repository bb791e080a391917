/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The benchmarks' floor: swap the MACs and send the frame back (XDP_TX). */
#ifndef XLB_BENCH_MAC_SWAP_H
#define XLB_BENCH_MAC_SWAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

static __always_inline int mac_swap_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 tmp[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
}

#endif /* XLB_BENCH_MAC_SWAP_H */
