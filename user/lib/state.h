/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlbd's desired state: the VIPs and backends operators asked for (config
 * file plus runtime changes), each with its run-time status. Saved as
 * STATE_DIR/state.json after every change, atomically.
 */
#ifndef XLB_STATE_H
#define XLB_STATE_H

#include <stddef.h>
#include <linux/types.h>
#include "config.h"

struct json_object;

struct xlb_state_backend {
	struct xlb_backend_cfg cfg;
	__u64 hid;        /* health-check target id */
	int health_up;
	int mac_known;
	char mac_why[96]; /* why the MAC is not usable */
	__u8 mac[6];
	__u8 src_mac[6];
	int ifindex;
	int via;          /* checked through the VIP (health.via: vip) */
	__u32 via_mark;   /* its check's routing mark; 0 with via: none yet (via.c retries) */
	__u32 state;      /* enum xlb_backend_state last pushed to the maps */
};

struct xlb_state_vip {
	struct xlb_vip_cfg cfg; /* cfg.backends unused: see backends */
	struct xlb_state_backend *backends;
	__u32 nbackends, cap;
};

struct xlb_state {
	struct xlb_state_vip *vips;
	__u32 nvips, cap;
	__u64 next_hid;
	char digest[64]; /* of the config file the state was last made from */
	char bytes_digest[64]; /* of that file's bytes: matches when the writer of the content's changed */
	char applied_at[24]; /* when that file was applied, UTC, or "" */
	__u8 withdrawn;  /* xlbctl lb withdraw: the host announces nothing */
	struct xlb_blocklist block; /* blocklist rules, global and per VIP (block.h) */
};

void xlb_state_init(struct xlb_state *s);
void xlb_state_free(struct xlb_state *s);

struct xlb_state_vip *xlb_state_find_vip(struct xlb_state *s, const struct vip_key *key);
struct xlb_state_backend *xlb_state_find_backend(struct xlb_state_vip *v,
						 const __be32 addr[4]);
int xlb_state_find_hid(struct xlb_state *s, __u64 hid, struct xlb_state_vip **v,
		       struct xlb_state_backend **b);
/* Pointers into the state stay valid until the next insert or remove. */
int xlb_state_vip_insert(struct xlb_state *s, const struct xlb_vip_cfg *cfg,
			 struct xlb_state_vip **out);
void xlb_state_vip_remove(struct xlb_state *s, __u32 idx);
int xlb_state_backend_insert(struct xlb_state_vip *v, const struct xlb_backend_cfg *cfg,
			     struct xlb_state_backend **out);
void xlb_state_backend_remove(struct xlb_state_vip *v, __u32 idx);

const struct xlb_vip_cfg *xlb_config_find_vip(const struct xlb_config *c,
					      const struct vip_key *key);
const struct xlb_backend_cfg *xlb_config_find_backend(const struct xlb_vip_cfg *v,
						      const __be32 addr[4]);
int xlb_backend_cfg_equal(const struct xlb_backend_cfg *a, const struct xlb_backend_cfg *b);

/* A VIP's settings (not its backends), and a backend's, as state.json keeps them. */
struct json_object *xlb_vip_cfg_to_json(const struct xlb_vip_cfg *c);
struct json_object *xlb_backend_cfg_to_json(const struct xlb_backend_cfg *b);

/*
 * The digest of the config file applied (of the text parsed, not the file
 * as it is now), remembered so a later start can tell if it changed.
 */
void xlb_state_set_digest(struct xlb_state *s, const struct xlb_config *applied);
int xlb_state_digest_matches(const char *digest, const char *bytes_digest,
			     const struct xlb_config *file);

/*
 * Write DIR/state.json atomically (temporary file, fsync, rename, fsync of
 * DIR). On error DIR/state.json is as it was and err says why. 0 with a
 * non-empty err is a warning to log: the new file is in place, but DIR
 * could not be synced, so a crash may still bring back the old one.
 */
int xlb_state_save(const struct xlb_state *s, const char *dir, char *err, size_t errlen);
/*
 * Read DIR/state.json into out's VIPs and blocklist (and the digest it was
 * saved with; in out->bytes_digest that of the file's bytes, if saved, and
 * in out->applied_at when that file was applied).
 * -ENOENT if there is none; any other error has a one-line reason in err.
 */
int xlb_state_load(const char *dir, struct xlb_config *out, char digest[64], char *err,
		   size_t errlen);
/* Keep DIR/state.json as DIR/state.json.prev. */
int xlb_state_set_aside(const char *dir, char *err, size_t errlen);

#endif /* XLB_STATE_H */
