// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pkt.h"

int pkt_run(int prog_fd, __u32 ingress_ifindex, const __u8 *in, size_t len, __u8 *out,
	    __u32 *out_len)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ingress_ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len,
		    .data_out = out, .data_size_out = PKT_MAX, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	if (out_len)
		*out_len = opts.data_size_out;
	return opts.retval;
}

__u32 pkt_csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

__u16 pkt_csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

int addr_parse16(const char *str, __be32 out[4])
{
	struct in_addr a4;

	memset(out, 0, 16);
	if (inet_pton(AF_INET, str, &a4) == 1) {
		out[2] = htonl(0xffff);
		out[3] = a4.s_addr;
		return 0;
	}
	return inet_pton(AF_INET6, str, out) == 1 ? 0 : -1;
}

void mac_set(__u8 mac[6], __u8 last)
{
	static const __u8 base[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x00 };

	memcpy(mac, base, 6);
	mac[5] = last;
}

size_t pkt_l3_offset(const struct pkt_spec *s)
{
	return ETH_HLEN + 4 * s->nvlan;
}

size_t pkt_l4_offset(const struct pkt_spec *s)
{
	size_t off = pkt_l3_offset(s);

	if (s->family == 4)
		return off + 20 + 4 * s->ip_opt_words;
	return off + 40 + 8 * s->ext_hdrs + (s->frag ? 8 : 0);
}

static size_t l4_header_len(const struct pkt_spec *s)
{
	switch (s->proto) {
	case IPPROTO_TCP:
		return 20;
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	default:
		return 0;
	}
}

void pkt_put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

void pkt_put32(__u8 *p, __u32 v)
{
	pkt_put16(p, v >> 16);
	pkt_put16(p + 2, v & 0xffff);
}

/* Headers are built in locals and copied in: in a frame they sit at any offset. */
static void build_ipv4(const struct pkt_spec *s, const __be32 src[4], const __be32 dst[4],
		       size_t ip_len, __u8 *l3)
{
	struct iphdr ip = {};
	size_t hlen = 20 + 4 * s->ip_opt_words;
	__u16 check;

	ip.version = 4;
	ip.ihl = hlen / 4;
	ip.tot_len = htons(ip_len);
	ip.id = htons(0x1234);
	ip.tos = s->tos;
	if (s->df)
		ip.frag_off = htons(0x4000);
	ip.ttl = 64;
	ip.protocol = s->proto;
	ip.saddr = src[3];
	ip.daddr = dst[3];
	if (s->frag == 1)
		ip.frag_off = htons(0x2000);
	else if (s->frag == 2)
		ip.frag_off = htons(185); /* offset 1480 bytes, last */
	memcpy(l3, &ip, sizeof(ip));
	memset(l3 + 20, 1, hlen - 20); /* NOP options */
	check = pkt_csum_fold(pkt_csum_add(0, l3, hlen));
	memcpy(l3 + offsetof(struct iphdr, check), &check, 2);
}

static void build_ipv6(const struct pkt_spec *s, const __be32 src[4], const __be32 dst[4],
		       size_t ip_len, __u8 *l3)
{
	struct ipv6hdr ip6 = {};
	__u8 *ext = l3 + 40, *next = l3 + offsetof(struct ipv6hdr, nexthdr);
	int v;

	ip6.version = 6;
	ip6.priority = s->tos >> 4;
	ip6.flow_lbl[0] = (s->tos & 0xf) << 4;
	ip6.payload_len = htons(ip_len - 40);
	ip6.hop_limit = 64;
	memcpy(&ip6.saddr, src, 16);
	memcpy(&ip6.daddr, dst, 16);
	memcpy(l3, &ip6, sizeof(ip6));
	for (v = 0; v < s->ext_hdrs; v++) {
		*next = v == 0 ? IPPROTO_HOPOPTS : IPPROTO_DSTOPTS;
		ext[1] = 0;      /* 8 bytes */
		ext[2] = 1;      /* PadN, 4 bytes of padding */
		ext[3] = 4;
		next = &ext[0];
		ext += 8;
	}
	if (s->frag) {
		*next = IPPROTO_FRAGMENT;
		pkt_put16(ext + 2, s->frag == 1 ? 0x0001 : (185 << 3));
		pkt_put32(ext + 4, 0xabcd);
		next = &ext[0];
	}
	*next = s->proto;
}

/* The L4 header, without its checksum; the offset of the checksum field, or 0. */
static size_t build_l4(const struct pkt_spec *s, size_t l4_len, __u8 *p)
{
	if (s->proto == IPPROTO_TCP) {
		struct tcphdr tcp = {};

		tcp.source = htons(s->sport);
		tcp.dest = htons(s->dport);
		tcp.seq = htonl(1000);
		tcp.doff = 5;
		tcp.window = htons(65535);
		memcpy(p, &tcp, sizeof(tcp));
		p[13] = s->tcp_flags ? s->tcp_flags : 0x10;
		return offsetof(struct tcphdr, check);
	}
	if (s->proto == IPPROTO_UDP) {
		struct udphdr udp = {};

		udp.source = htons(s->sport);
		udp.dest = htons(s->dport);
		udp.len = htons(l4_len);
		memcpy(p, &udp, sizeof(udp));
		return offsetof(struct udphdr, check);
	}
	if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		p[0] = s->proto == IPPROTO_ICMP ? 8 : 128; /* echo request */
		return 2;
	}
	return 0;
}

size_t pkt_build(const struct pkt_spec *s, __u8 *buf)
{
	size_t l3 = pkt_l3_offset(s), l4 = pkt_l4_offset(s);
	size_t l4_len = l4_header_len(s) + s->payload, total = l4 + l4_len, i, check_at;
	__be32 src[4], dst[4];
	__u8 *p;
	__u32 sum;
	__u16 check;
	int v;

	memset(buf, 0, total);
	memcpy(buf, s->dmac, 6);
	memcpy(buf + 6, s->smac, 6);
	p = buf + 12;
	for (v = 0; v < s->nvlan; v++) {
		pkt_put16(p, s->vlan_tpid[v] ? s->vlan_tpid[v] : ETH_P_8021Q);
		pkt_put16(p + 2, 100 + v); /* TCI: VLAN id */
		p += 4;
	}
	pkt_put16(p, s->ether_type ? s->ether_type : s->family == 4 ? ETH_P_IP : ETH_P_IPV6);

	addr_parse16(s->saddr, src);
	addr_parse16(s->daddr, dst);
	if (s->family == 4)
		build_ipv4(s, src, dst, total - l3, buf + l3);
	else
		build_ipv6(s, src, dst, total - l3, buf + l3);

	p = buf + l4;
	check_at = build_l4(s, l4_len, p);
	for (i = 0; i < (size_t)s->payload; i++)
		p[l4_header_len(s) + i] = (__u8)(i * 7 + 1);
	if (!check_at)
		return total;

	/* L4 checksum over the pseudo-header (not for fragments; none for ICMPv4) */
	if (s->proto == IPPROTO_ICMP) {
		sum = 0;
	} else if (s->frag) {
		return total;
	} else {
		__u8 pseudo[40] = {};
		size_t plen;

		if (s->family == 4) {
			memcpy(pseudo, &src[3], 4);
			memcpy(pseudo + 4, &dst[3], 4);
			pseudo[9] = s->proto;
			pkt_put16(pseudo + 10, l4_len);
			plen = 12;
		} else {
			memcpy(pseudo, src, 16);
			memcpy(pseudo + 16, dst, 16);
			pkt_put32(pseudo + 32, l4_len);
			pseudo[39] = s->proto;
			plen = 40;
		}
		sum = pkt_csum_add(0, pseudo, plen);
	}
	check = pkt_csum_fold(pkt_csum_add(sum, p, l4_len));
	memcpy(p + check_at, &check, 2);
	return total;
}
