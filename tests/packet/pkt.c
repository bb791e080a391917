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

size_t pkt_build(const struct pkt_spec *s, __u8 *buf)
{
	size_t l3 = pkt_l3_offset(s), l4 = pkt_l4_offset(s);
	size_t l4_len = l4_header_len(s) + s->payload, total = l4 + l4_len, i;
	__be32 src[4], dst[4];
	__u8 *p;
	__u32 sum;
	int v;

	memset(buf, 0, total);
	memcpy(buf, s->dmac, 6);
	memcpy(buf + 6, s->smac, 6);
	p = buf + 12;
	for (v = 0; v < s->nvlan; v++) {
		*(__be16 *)p = htons(s->vlan_tpid[v] ? s->vlan_tpid[v] : ETH_P_8021Q);
		*(__be16 *)(p + 2) = htons(100 + v); /* TCI: VLAN id */
		p += 4;
	}
	*(__be16 *)p = htons(s->ether_type ? s->ether_type :
			     s->family == 4 ? ETH_P_IP : ETH_P_IPV6);

	addr_parse16(s->saddr, src);
	addr_parse16(s->daddr, dst);
	if (s->family == 4) {
		struct iphdr *ip = (struct iphdr *)(buf + l3);

		ip->version = 4;
		ip->ihl = 5 + s->ip_opt_words;
		ip->tot_len = htons(total - l3);
		ip->id = htons(0x1234);
		ip->tos = s->tos;
		if (s->df)
			ip->frag_off = htons(0x4000);
		ip->ttl = 64;
		ip->protocol = s->proto;
		ip->saddr = src[3];
		ip->daddr = dst[3];
		if (s->frag == 1)
			ip->frag_off = htons(0x2000);
		else if (s->frag == 2)
			ip->frag_off = htons(185); /* offset 1480 bytes, last */
		for (i = 0; i < (size_t)s->ip_opt_words * 4; i++)
			buf[l3 + 20 + i] = 1; /* NOP options */
		ip->check = pkt_csum_fold(pkt_csum_add(0, ip, ip->ihl * 4));
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(buf + l3);
		__u8 *ext = buf + l3 + 40;
		__u8 *next = &ip6->nexthdr;

		ip6->version = 6;
		ip6->priority = s->tos >> 4;
		ip6->flow_lbl[0] = (s->tos & 0xf) << 4;
		ip6->payload_len = htons(total - l3 - 40);
		ip6->hop_limit = 64;
		memcpy(&ip6->saddr, src, 16);
		memcpy(&ip6->daddr, dst, 16);
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
			*(__be16 *)(ext + 2) = htons(s->frag == 1 ? 0x0001 : (185 << 3));
			*(__be32 *)(ext + 4) = htonl(0xabcd);
			next = &ext[0];
		}
		*next = s->proto;
	}

	p = buf + l4;
	if (s->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = (struct tcphdr *)p;

		tcp->source = htons(s->sport);
		tcp->dest = htons(s->dport);
		tcp->seq = htonl(1000);
		tcp->doff = 5;
		p[13] = s->tcp_flags ? s->tcp_flags : 0x10;
		tcp->window = htons(65535);
	} else if (s->proto == IPPROTO_UDP) {
		struct udphdr *udp = (struct udphdr *)p;

		udp->source = htons(s->sport);
		udp->dest = htons(s->dport);
		udp->len = htons(l4_len);
	} else if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		p[0] = s->proto == IPPROTO_ICMP ? 8 : 128; /* echo request */
	}
	for (i = 0; i < (size_t)s->payload; i++)
		p[l4_header_len(s) + i] = (__u8)(i * 7 + 1);

	/* L4 checksum over the pseudo-header (not for fragments) */
	if (!s->frag && l4_header_len(s) && s->proto != IPPROTO_ICMP) {
		__u8 pseudo[40];
		size_t plen;

		if (s->family == 4) {
			memcpy(pseudo, &src[3], 4);
			memcpy(pseudo + 4, &dst[3], 4);
			pseudo[8] = 0;
			pseudo[9] = s->proto;
			*(__be16 *)(pseudo + 10) = htons(l4_len);
			plen = 12;
		} else {
			memcpy(pseudo, src, 16);
			memcpy(pseudo + 16, dst, 16);
			*(__be32 *)(pseudo + 32) = htonl(l4_len);
			memset(pseudo + 36, 0, 3);
			pseudo[39] = s->proto;
			plen = 40;
		}
		sum = pkt_csum_add(pkt_csum_add(0, pseudo, plen), p, l4_len);
		if (s->proto == IPPROTO_TCP)
			((struct tcphdr *)p)->check = pkt_csum_fold(sum);
		else if (s->proto == IPPROTO_UDP)
			((struct udphdr *)p)->check = pkt_csum_fold(sum);
		else
			*(__be16 *)(p + 2) = pkt_csum_fold(sum);
	} else if (s->proto == IPPROTO_ICMP) {
		*(__be16 *)(p + 2) = pkt_csum_fold(pkt_csum_add(0, p, l4_len));
	}
	return total;
}
