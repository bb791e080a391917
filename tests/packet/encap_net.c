// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <sched.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include "encap_net.h"

#define GW_NEIGH \
	"ip neigh replace 198.18.50.2 lladdr 02:00:5e:10:00:b0 dev " EGRESS " nud permanent"

static const char *const net_setup[] = {
	"sysctl -qw net.ipv4.conf.all.forwarding=1",
	"sysctl -qw net.ipv6.conf.all.forwarding=1",
	"ip link set dev " EGRESS " address 02:00:5e:10:00:a0",
	"ip addr replace 198.18.50.1/24 dev " EGRESS,
	"ip -6 addr replace 2001:db8:50::1/64 dev " EGRESS " nodad",
	GW_NEIGH,
	"ip -6 neigh replace 2001:db8:50::2 lladdr 02:00:5e:10:00:b0 dev " EGRESS " nud permanent",
	"ip route replace 198.18.60.0/24 via 198.18.50.2",
	"ip route replace 198.18.61.0/24 via 198.18.50.2 mtu lock 1400",
	"ip route replace 198.18.62.0/24 via 198.18.50.3",
	"ip -6 route replace 2001:db8:60::/64 via 2001:db8:50::2",
	"ip -6 route replace 2001:db8:61::/64 via 2001:db8:50::2 mtu lock 1400",
	"ip -6 route replace 2001:db8:62::/64 via 2001:db8:50::3",
	"ip -6 route replace 2001:db8:63::/64 via 2001:db8:50::2 mtu lock 1300",
};

int encap_net_setup(void)
{
	cpu_set_t one;
	size_t i;

	/* the next-hop cache and the ICMP bucket are per CPU: stay on one */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -1;
	for (i = 0; i < sizeof(net_setup) / sizeof(net_setup[0]); i++)
		if (system(net_setup[i])) {
			fprintf(stderr, "failed: %s\n", net_setup[i]);
			return -1;
		}
	return 0;
}

int encap_net_fixture(struct xlb_fixture *f)
{
	int egress = if_nametoindex(EGRESS);

	/* a test that changed the gateway's MAC and failed must not fail the next */
	if (system(GW_NEIGH))
		return -1;
	if (egress <= 0 || xlb_dp_tx_port_add(&f->dp, egress) || fixture_encap_set(f, SRC4, SRC6))
		return -1;
	return 0;
}

struct pkt_spec encap_client_tcp(int family, __u16 sport, int payload)
{
	struct pkt_spec s = {
		.family = family, .proto = IPPROTO_TCP,
		.saddr = family == 4 ? CLIENT4 : CLIENT6,
		.daddr = family == 4 ? VIP4 : VIP6,
		.sport = sport, .dport = 80, .tcp_flags = 0x10, .payload = payload,
		.df = 1, .tos = 0x28,
	};

	mac_set(s.smac, CLIENT_MAC_LAST);
	mac_set(s.dmac, FIXTURE_LB_MAC);
	return s;
}

size_t encap_expect(const __u8 *in, size_t l2, int outer6, const __be32 src[4],
		    const __be32 dst[4], __u32 label, const __u8 *got, __u8 *out)
{
	const __u8 *inner = in + l2;
	int inner6 = (inner[0] >> 4) == 6;
	size_t olen = outer6 ? 40 : 20, inner_len;
	__u8 *o = out + 14, tos;

	inner_len = inner6 ? 40 + ((inner[4] << 8) | inner[5]) : (inner[2] << 8) | inner[3];
	tos = inner6 ? ((inner[0] & 0xf) << 4) | (inner[1] >> 4) : inner[1];
	mac_set(out, GW_MAC);
	mac_set(out + 6, EGRESS_MAC);
	pkt_put16(out + 12, outer6 ? ETH_P_IPV6 : ETH_P_IP);
	memset(o, 0, olen);
	if (outer6) {
		pkt_put32(o, 6u << 28 | (__u32)tos << 20 | (label & 0xfffff));
		pkt_put16(o + 4, inner_len);
		o[6] = inner6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
		o[7] = 64;
		memcpy(o + 8, src, 16);
		memcpy(o + 24, dst, 16);
	} else {
		o[0] = 0x45;
		o[1] = tos;
		pkt_put16(o + 2, inner_len + 20);
		if (inner[6] & 0x40) { /* DF: the inner id, and DF outside too */
			o[4] = inner[4];
			o[5] = inner[5];
			o[6] = 0x40;
		} else {
			o[4] = got[14 + 4];
			o[5] = got[14 + 5];
		}
		o[8] = 64;
		o[9] = IPPROTO_IPIP;
		memcpy(o + 12, &src[3], 4);
		memcpy(o + 16, &dst[3], 4);
		pkt_put16(o + 10, ntohs(pkt_csum_fold(pkt_csum_add(0, o, 20))));
	}
	memcpy(o + olen, inner, inner_len);
	return 14 + olen + inner_len;
}
