/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Counts in messages: "1 VIP", "2 VIPs", as "%u VIP%s", n, xlb_s(n). */
#ifndef XLB_PLURAL_H
#define XLB_PLURAL_H

static inline const char *xlb_s(unsigned long long n)
{
	return n == 1 ? "" : "s";
}

#endif
