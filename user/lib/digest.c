// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include "digest.h"
#include "hash.h"

/* FNV-1a's 64-bit constants: byte by byte, the same on every host. */
#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME  0x100000001b3ull

static __u64 fnv_bytes(__u64 h, const __u8 *p, size_t len)
{
	while (len--) {
		h ^= *p++;
		h *= FNV64_PRIME;
	}
	return h;
}

__u64 xlb_table_digest(const __u32 *table, __u32 size, const struct maglev_backend *backends,
		       __u32 n)
{
	/* an empty slot hashes as a 17th byte no address has: never equal to :: */
	static const __u8 empty[17] = { [16] = 1 };
	__u64 h = FNV64_OFFSET;
	__u32 i;

	for (i = 0; i < size; i++) {
		if (table[i] == MAGLEV_EMPTY || table[i] >= n) {
			h = fnv_bytes(h, empty, sizeof(empty));
		} else {
			h = fnv_bytes(h, backends[table[i]].key, 16);
			h = fnv_bytes(h, empty, 1); /* the 17th byte: 0 for an address */
		}
	}
	/* the size too, so tables of other sizes never collide by construction */
	return xlb_mix64(h ^ size);
}

void xlb_table_digest_format(__u64 digest, char *buf, size_t len)
{
	snprintf(buf, len, "%016llx", (unsigned long long)digest);
}
