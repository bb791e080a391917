// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
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
	__u64 h = FNV64_OFFSET, none = fnv_bytes(FNV64_OFFSET, empty, sizeof(empty)), *of;
	__u32 i;

	/* each backend's address hashed once, then one multiply per slot */
	of = calloc(n + 1, sizeof(*of));
	if (!of)
		return 0; /* no digest: shown as zeros, never as a match of real ones */
	for (i = 0; i < n; i++)
		of[i] = fnv_bytes(fnv_bytes(FNV64_OFFSET, backends[i].key, 16), empty, 1);
	for (i = 0; i < size; i++) {
		h ^= table[i] == MAGLEV_EMPTY || table[i] >= n ? none : of[table[i]];
		h *= FNV64_PRIME;
		h ^= h >> 29;
	}
	free(of);
	/* the size too, so tables of other sizes never collide by construction */
	return xlb_mix64(h ^ size);
}

void xlb_table_digest_format(__u64 digest, char *buf, size_t len)
{
	snprintf(buf, len, "%016llx", (unsigned long long)digest);
}
