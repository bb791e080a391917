// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "lb.h"
#include "names.h"

const struct xlb_name xlb_check_names[] = {
	{ XLB_CHECK_NONE, "none" },
	{ XLB_CHECK_TCP, "tcp" },
	{ XLB_CHECK_HTTP, "http" },
	{ XLB_CHECK_HTTPS, "https" },
	{ 0, NULL },
};

const struct xlb_name xlb_check_via_names[] = {
	{ XLB_CHECK_VIA_BACKEND, "backend" },
	{ XLB_CHECK_VIA_VIP, "vip" },
	{ 0, NULL },
};

const struct xlb_name xlb_admin_names[] = {
	{ XLB_ADMIN_ENABLED, "enabled" },
	{ XLB_ADMIN_DRAIN, "drain" },
	{ XLB_ADMIN_DISABLED, "disabled" },
	{ 0, NULL },
};

const struct xlb_name xlb_backend_state_names[] = {
	{ XLB_BE_UP, "up" },
	{ XLB_BE_DOWN, "down" },
	{ XLB_BE_DRAIN, "drain" },
	{ XLB_BE_DISABLED, "disabled" },
	{ 0, NULL },
};

const struct xlb_name xlb_sched_names[] = {
	{ XLB_SCHED_MAGLEV, "maglev" },
	{ XLB_SCHED_SOURCE_HASH, "source-hash" },
	{ XLB_SCHED_RR, "rr" },
	{ XLB_SCHED_WRR, "wrr" },
	{ XLB_SCHED_LC, "lc" },
	{ XLB_SCHED_WLC, "wlc" },
	{ XLB_SCHED_LT, "lt" },
	{ 0, NULL },
};

const struct xlb_name xlb_forward_names[] = {
	{ XLB_FWD_L2DSR, "l2dsr" },
	{ XLB_FWD_IPIP, "ipip" },
	{ 0, NULL },
};

const struct xlb_name xlb_xdp_mode_names[] = {
	{ XLB_XDP_NATIVE, "native" },
	{ XLB_XDP_GENERIC, "generic" },
	{ 0, NULL },
};

static const char *lookup(const struct xlb_name *table, unsigned int value)
{
	for (; table->name; table++)
		if (table->value == value)
			return table->name;
	return NULL;
}

const char *xlb_name_of(const struct xlb_name *table, unsigned int value)
{
	return lookup(table, value) ?: "?";
}

int xlb_name_valid(const struct xlb_name *table, unsigned int value)
{
	return lookup(table, value) != NULL;
}

int xlb_value_of(const struct xlb_name *table, const char *name, unsigned int *value)
{
	for (; name && table->name; table++) {
		if (!strcmp(table->name, name)) {
			*value = table->value;
			return 0;
		}
	}
	return -EINVAL;
}

void xlb_names_list(const struct xlb_name *table, const char *last_sep, char *buf,
		    size_t len)
{
	size_t used = 0;
	int n;

	if (!len)
		return;
	buf[0] = '\0';
	for (; table->name && used < len; table++) {
		const char *sep = used == 0 ? "" : table[1].name ? ", " : last_sep;

		n = snprintf(buf + used, len - used, "%s%s", sep, table->name);
		if (n < 0)
			return;
		used += (size_t)n;
	}
}
