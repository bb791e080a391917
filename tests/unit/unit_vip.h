/* SPDX-License-Identifier: GPL-2.0 */
/* A VIP config for unit tests; include after cmocka.h. */
#ifndef XLB_UNIT_VIP_H
#define XLB_UNIT_VIP_H

#include <string.h>
#include "../../user/lib/config.h"
#include "../../user/lib/syntax.h"

/* 198.18.0.10:80/tcp with the default health check, nothing else set. */
static inline void vip_default(struct xlb_vip_cfg *v)
{
	char err[64];

	memset(v, 0, sizeof(*v));
	assert_int_equal(xlb_parse_vip("198.18.0.10:80/tcp", &v->key, err, sizeof(err)), 0);
	xlb_health_cfg_default(&v->health);
}

#endif /* XLB_UNIT_VIP_H */
