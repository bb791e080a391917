/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one spelling of each enum the config file, state.json, the control
 * socket and xlbctl's output share: a table per enum, value <-> name.
 * Tables end with { 0, NULL }.
 */
#ifndef XLB_NAMES_H
#define XLB_NAMES_H

#include <stddef.h>

struct xlb_name {
	unsigned int value;
	const char *name;
};

extern const struct xlb_name xlb_check_names[];		/* enum xlb_check_kind */
extern const struct xlb_name xlb_check_via_names[];	/* enum xlb_check_via */
extern const struct xlb_name xlb_admin_names[];		/* enum xlb_admin_state */
extern const struct xlb_name xlb_backend_state_names[];	/* enum xlb_backend_state */
extern const struct xlb_name xlb_sched_names[];		/* enum xlb_sched */
extern const struct xlb_name xlb_forward_names[];	/* enum xlb_forward */
extern const struct xlb_name xlb_xdp_mode_names[];	/* enum xlb_xdp_mode */

/* The name of value, or "?" if the table has none. */
const char *xlb_name_of(const struct xlb_name *table, unsigned int value);
int xlb_name_valid(const struct xlb_name *table, unsigned int value);
/* 0 and *value, or -EINVAL (*value untouched) if name is not in the table. */
int xlb_value_of(const struct xlb_name *table, const char *name, unsigned int *value);
/*
 * The names joined for a message: "none, tcp, http or https" (last_sep
 * " or "), "l2dsr, ipip" (last_sep ", "). Truncated to len.
 */
void xlb_names_list(const struct xlb_name *table, const char *last_sep, char *buf,
		    size_t len);

#endif /* XLB_NAMES_H */
