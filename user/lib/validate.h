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

/* An HTTP check's GET path: it goes into the request line as is. */
int xlb_http_path_check(const char *path, char *err, size_t errlen);

/* Scheduler, forwarding mode and health check (kind, path, timing). */
int xlb_vip_settings_check(const struct xlb_vip_cfg *v, const char **key, char *err,
			   size_t errlen);

/*
 * A backend of v: its family for v's forwarding mode, weight, admin state
 * and timing overrides (0 = v's), whose timeout must stay below the
 * interval together with v's.
 */
int xlb_backend_settings_check(const struct xlb_backend_cfg *b, const struct xlb_vip_cfg *v,
			       const char **key, char *err, size_t errlen);

#endif /* XLB_VALIDATE_H */
