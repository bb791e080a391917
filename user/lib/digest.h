/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The digest of a VIP's Maglev table: one 64-bit hash of the backend
 * address in each slot, in slot order. Addresses, not ids: ids are local
 * to a host, so two hosts with the same backends and weights show the same
 * digest however the backends were listed or numbered.
 */
#ifndef XLB_DIGEST_H
#define XLB_DIGEST_H

#include <stddef.h>
#include <linux/types.h>
#include "maglev.h"

/*
 * table[0..size-1] holds indexes into backends[0..n-1] (or MAGLEV_EMPTY),
 * as maglev_build() fills it; backends[i].key is the address.
 */
__u64 xlb_table_digest(const __u32 *table, __u32 size, const struct maglev_backend *backends,
		       __u32 n);
/* "%016llx": 16 hex digits and a NUL */
#define XLB_TABLE_DIGEST_STR 17
void xlb_table_digest_format(__u64 digest, char *buf, size_t len);

#endif /* XLB_DIGEST_H */
