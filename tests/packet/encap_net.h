/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The network the forward-ipip packet tests (test_encap, test_icmp_route)
 * run in: the test namespace gets routes (one with a small MTU), permanent
 * neighbours and one gateway with no neighbour, so every bpf_fib_lookup
 * outcome used is a real one. Also what an encapsulated packet must be,
 * built field by field. No cmocka here, like fixture.h.
 */
#ifndef XLB_TEST_ENCAP_NET_H
#define XLB_TEST_ENCAP_NET_H

#include <stddef.h>
#include <linux/types.h>
#include "fixture.h"
#include "pkt.h"

#define VIP4 "198.18.100.10"
#define VIP6 "2001:db8:100::10"
#define CLIENT4 "198.18.0.1"
#define CLIENT6 "2001:db8::1"
#define ROUTER4 "198.18.0.254"
#define ROUTER6 "2001:db8::254"
#define SRC4 "198.18.50.1"       /* the encapsulation sources */
#define SRC6 "2001:db8:50::1"
#define EGRESS "xlbt-pkt0"
#define EGRESS_MAC 0xa0          /* 02:00:5e:10:00:a0 */
#define GW_MAC 0xb0              /* the permanent neighbour 198.18.50.2, 2001:db8:50::2 */
#define CLIENT_MAC_LAST 0x01

/* Once per test binary: stay on one CPU; the namespace's routes and neighbours. 0 or -1. */
int encap_net_setup(void);

/*
 * Per test: the gateway's MAC as encap_net_setup made it, EGRESS in
 * tx_ports, SRC4 and SRC6 as sources. 0 or -1.
 */
int encap_net_fixture(struct xlb_fixture *f);

/* A TCP ACK from the client to the VIP of its family, DF set, TOS 0x28. */
struct pkt_spec encap_client_tcp(int family, __u16 sport, int payload);

/*
 * What forward ipip must send for the frame in (link header of l2 bytes):
 * Ethernet to the next hop, untagged (the FIB's egress is), the outer
 * header, then the inner packet byte for byte. src/dst are 16-byte
 * (v4-mapped) addresses. An IPv4 inner packet without DF gets an outer id
 * of its own (random): that one is taken from got. The length, into out.
 */
size_t encap_expect(const __u8 *in, size_t l2, int outer6, const __be32 src[4],
		    const __be32 dst[4], __u32 label, const __u8 *got, __u8 *out);

#endif /* XLB_TEST_ENCAP_NET_H */
