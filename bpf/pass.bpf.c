// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XDP_PASS and nothing else. A veth drops frames that its peer sends with
 * XDP_TX or XDP_REDIRECT unless this side has an XDP program too, so the
 * test topology attaches this to the bridge-side peer of the LB's veth.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
