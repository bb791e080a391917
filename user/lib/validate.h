/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The checks of a VIP's and a backend's settings, wherever they come from:
 * the config file, state.json or the control socket. On error they return
 * -EINVAL, set *key to the setting's key as the config file spells it
 * under the VIP or backend ("health.path", "weight") and write the
 * config loader's message to err, e.g.
 * "bad path (no spaces or control characters) '/a b'".
 */
#ifndef XLB_VALIDATE_H
#define XLB_VALIDATE_H

#include <stddef.h>
#include "config.h"

/*
 * A VIP's or a backend's address: unicast, not 0.0.0.0/8, 127.0.0.0/8,
 * multicast or 255.255.255.255, nor ::, ::1 or ff00::/8. The message is
 * "not a unicast address '224.0.0.5'".
 */
int xlb_unicast_check(const __be32 a[4], char *err, size_t errlen);

/* An HTTP check's GET path: it goes into the request line as is. */
int xlb_http_path_check(const char *path, char *err, size_t errlen);

/*
 * forward ipip needs an outer source for some family its backends may
 * have: an IPv4 VIP's are IPv4 (IPIP) or IPv6 (4in6), an IPv6 VIP's IPv6.
 * The message names the key(s) to set: "forward ipip needs encap_source.ipv4
 * or encap_source.ipv6".
 */
int xlb_vip_encap_check(const struct xlb_vip_cfg *v, const struct encap_config *e, char *err,
			size_t errlen);

/* No persist, and the persist prefixes' defaults. */
void xlb_vip_persist_default(struct xlb_vip_cfg *v);

/*
 * The VIP's address (key "vip"), scheduler, forwarding mode, health
 * check (kind, path, timing) and persist.
 */
int xlb_vip_settings_check(const struct xlb_vip_cfg *v, const char **key, char *err,
			   size_t errlen);

/*
 * A backend of v: its address (unicast, of a family v's forwarding mode
 * reaches), weight, admin state and timing overrides (0 = v's), whose
 * timeout must stay below the interval together with v's.
 */
int xlb_backend_settings_check(const struct xlb_backend_cfg *b, const struct xlb_vip_cfg *v,
			       const char **key, char *err, size_t errlen);

/*
 * The admin state in effect: weight 0 drains an enabled backend (as in
 * IPVS), so weight 0 with state enabled is drain; disabled stays disabled.
 * The weight, not the admin state, remembers it: a weight above 0 again
 * undrains, unless the admin state is drain too.
 */
__u32 xlb_backend_admin(const struct xlb_backend_cfg *b);

/* The index of the first of vips[0..n) with that key, or -1. */
int xlb_vip_index(const struct xlb_vip_cfg *vips, __u32 n, const struct vip_key *key);

/*
 * An address v has twice: 1, *dup the first repeat in order and *first
 * where it first appears; 0 if none; -ENOMEM.
 */
int xlb_find_dup_backend(const struct xlb_vip_cfg *v, __u32 *dup, __u32 *first);

/* An address and what owns it (an index: a VIP's, say). */
struct xlb_addr_owner {
	__be32 addr[4];
	__u32 idx;
};
/*
 * The distinct addresses of e (reordered), in *distinct. Over max: the
 * owner whose addresses pass max, counting each address for its lowest
 * owner and owners in order; else ~0u. For the cap of health.via: vip.
 */
__u32 xlb_addrs_over(struct xlb_addr_owner *e, __u32 n, __u32 max, __u32 *distinct);
/*
 * The cap of health.via: vip over vips[0..n) (a config's, state.json's):
 * 1 if more than XLB_VIA_MAX backend addresses are checked via a VIP, *at
 * the VIP that passes it and *distinct how many; 0 if not; -ENOMEM.
 */
int xlb_via_cap_over(const struct xlb_vip_cfg *vips, __u32 n, __u32 *at, __u32 *distinct);

#endif /* XLB_VALIDATE_H */
