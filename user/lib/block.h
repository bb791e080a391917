/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Source filters: the blocklist and allowlist, global or per VIP (README,
 * "Under attack"). The rules as the config file, state.json and xlbctl
 * give them, and the data plane's tries made to hold exactly them
 * (maps/filter_maps.h).
 */
#ifndef XLB_BLOCK_H
#define XLB_BLOCK_H

#include <stddef.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include "../../maps/xlb_maps.h"
#include "syntax.h"

#define XLB_BLOCK_NO_ID 0xffffffffu /* a rule not in the data plane (yet) */
#define XLB_BLOCK_STR_MAX (XLB_ADDR_STR_MAX + 8)

struct xlb_block_rule {
	struct xlb_prefix pfx; /* 16-byte form, length over 128 (an IPv4 /24 is 120) */
	struct vip_key vip;    /* has_vip: the VIP it applies to */
	__u8 has_vip;
	__u8 allow;            /* an allowlist entry */
	__u16 pad;
	__u32 id;              /* run time: its hit counter once loaded, else XLB_BLOCK_NO_ID */
	int line;              /* in the config file, 0 if none */
};

struct xlb_blocklist {
	struct xlb_block_rule *rules;
	__u32 n, cap;
	__u8 scope_all; /* the global lists apply to every packet, not only VIP traffic */
};

/*
 * "198.18.5.0/24", "2001:db8:bad::/48", an address alone (/32, /128).
 * Errors: the address's ("bad IPv4 address"), "bad prefix length",
 * "host bits set (198.18.5.0/24?)".
 */
int xlb_block_prefix_parse(const char *s, struct xlb_prefix *p, char *err, size_t errlen);
void xlb_block_prefix_format(const struct xlb_prefix *p, char *buf, size_t len);

/* A rule as text: "PREFIX [vip VIP] [allow]" (state.json, xlbctl's replies, reload's report). */
#define XLB_BLOCK_RULE_STR_MAX (XLB_BLOCK_STR_MAX + XLB_VIP_STR_MAX + 16)
void xlb_block_rule_format(const struct xlb_block_rule *r, char *buf, size_t len);
int xlb_block_rule_parse(const char *s, struct xlb_block_rule *r, char *err, size_t errlen);

void xlb_blocklist_free(struct xlb_blocklist *l);
int xlb_blocklist_copy(struct xlb_blocklist *dst, const struct xlb_blocklist *src);
int xlb_blocklist_append(struct xlb_blocklist *l, const struct xlb_block_rule *r);
void xlb_blocklist_remove(struct xlb_blocklist *l, __u32 idx);
/* The same prefix, list and scope: the index of r in l, or -1. */
int xlb_blocklist_find(const struct xlb_blocklist *l, const struct xlb_block_rule *r);
/* A repeated rule: 1 with *dup and *first (indexes), 0 if none, -ENOMEM. O(n log n). */
int xlb_blocklist_find_dup(const struct xlb_blocklist *l, __u32 *dup, __u32 *first);
/* Rules of a that b does not have (by prefix, list and scope), indexes into out (n of a). */
int xlb_blocklist_minus(const struct xlb_blocklist *a, const struct xlb_blocklist *b,
			__u32 *out, __u32 *nout);
/* Drop the rules of VIPs that keep() says are gone. How many went. */
__u32 xlb_blocklist_prune(struct xlb_blocklist *l, int (*keep)(void *ctx, const struct vip_key *),
			  void *ctx);

/* ---- the data plane's tries ---- */

struct xlb_block_entry; /* one rule as loaded: key and id */

struct xlb_block_dp {
	int trie_fd[2]; /* block4, block6 */
	int hits_fd, config_fd, vip_filter_fd;
	int ncpus;
	struct xlb_block_entry *loaded; /* sorted */
	__u32 nloaded;
	__u32 *free_ids, nfree;
	__u32 gflags;                    /* filter_config[0].flags last written */
	__u32 vflags[XLB_MAX_VIPS];      /* vip_filter[i].flags (list bits) last written */
	struct vip_filter limits[XLB_MAX_VIPS]; /* vip_filter[i] but its list bits */
	double last_sync_ms;             /* how long the last sync took */
};

/* The maps of a loaded object; what the tries hold already (adopted pins) is read back. */
int xlb_block_dp_open(struct xlb_block_dp *b, struct bpf_object *obj);
void xlb_block_dp_close(struct xlb_block_dp *b);

/* A VIP's id in the data plane, or -1 if it has none. */
typedef int (*xlb_block_vip_id_fn)(void *ctx, const struct vip_key *key);

/*
 * Make the tries hold exactly l's rules (whose VIP has an id), in batches;
 * a rule that stays keeps its id and its hits. Sets each rule's id. 0 or
 * -errno (the tries may then hold part of the change; a sync again
 * completes it).
 */
int xlb_block_dp_sync(struct xlb_block_dp *b, struct xlb_blocklist *l, xlb_block_vip_id_fn vip_id,
		      void *ctx);
/* A VIP's per-client limits (lim NULL or without XLB_FILTER_LIMITS: none). 0 or -errno. */
int xlb_block_dp_limits(struct xlb_block_dp *b, __u32 vid, const struct vip_filter *lim);
/* Every rule id's hits, summed over CPUs: out has XLB_BLOCK_RULES_MAX entries. */
int xlb_block_dp_hits(struct xlb_block_dp *b, __u64 *out);

#endif /* XLB_BLOCK_H */
