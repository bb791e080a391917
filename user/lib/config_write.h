/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A config as the YAML xlbd -c loads (config_write.c). */
#ifndef XLB_CONFIG_WRITE_H
#define XLB_CONFIG_WRITE_H

#include <stdio.h>
#include "config.h"

/* IPv4 before IPv6, then by address (port, protocol): the order of every listing */
int xlb_addr_cmp(const __be32 a[4], const __be32 b[4]);
int xlb_vip_key_cmp(const struct vip_key *a, const struct vip_key *b);

/* The top-level keys (interfaces ... handoff), not the blocklist nor the VIPs. */
void xlb_config_write_top(FILE *f, const struct xlb_config *c);
/* The rules of one VIP (vip NULL: the global ones) as blocklist: { block, allow }. */
void xlb_config_write_blocklist(FILE *f, const struct xlb_blocklist *b, const struct vip_key *vip,
				const char *indent);
/* One entry of vips:, its backends in the order given. */
void xlb_config_write_vip(FILE *f, const struct xlb_vip_cfg *c,
			  const struct xlb_backend_cfg *const *bs, __u32 nbackends,
			  const struct xlb_blocklist *block);
/* All of it, VIPs and backends sorted. -ENOMEM. */
int xlb_config_write(FILE *f, const struct xlb_config *c);
/* "yaml-crc32:HEX:LEN" of what xlb_config_write writes: the same for the same content. */
int xlb_config_content_digest(const struct xlb_config *c, char *out, size_t outlen);

#endif /* XLB_CONFIG_WRITE_H */
