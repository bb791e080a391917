/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XLB_CONFIG_DIFF_H
#define XLB_CONFIG_DIFF_H

#include "config.h"
#include "state.h"

struct json_object;

/*
 * What applying want to the running state (its VIPs, blocklist, and the
 * encap sources run_encap) would change, one string per change into the
 * array out, VIPs in listing order:
 *   "198.18.100.10:80/tcp: sched: maglev -> wrr"
 *   "198.18.100.10:80/tcp: backend 198.18.0.11: weight: 50 -> 77"
 *   "+ 198.18.100.11:80/tcp (1 backend)", "- ...: backend {...}"
 *   "+ blocklist 198.18.5.0/24 vip 198.18.100.10:80/tcp"
 * Keys only a restart applies are not compared (a reload refuses them).
 * -ENOMEM.
 */
int xlb_config_diff(const struct xlb_state *run, const struct encap_config *run_encap,
		    const struct xlb_config *want, struct json_object *out);

#endif /* XLB_CONFIG_DIFF_H */
