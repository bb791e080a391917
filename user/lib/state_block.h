/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The blocklist in state.json (state_block.c), for state.c. */
#ifndef XLB_STATE_BLOCK_H
#define XLB_STATE_BLOCK_H

#include <json-c/json.h>
#include "state.h"

/* {"scope": "vips"|"all", "rules": ["PREFIX [vip VIP] [allow]", ...]}: rules of VIPs not in s left out. */
struct json_object *xlb_state_block_to_json(const struct xlb_state *s);
/* root's "blocklist" (absent: none) into cfg->block, checked against cfg's VIPs, as the file is. */
int xlb_state_block_from_json(struct json_object *root, struct xlb_config *cfg, const char *path,
			      char *err, size_t errlen);

#endif /* XLB_STATE_BLOCK_H */
