/* SPDX-License-Identifier: GPL-2.0 */
/* The exposition test_metrics' render serves and test_prom lints. */
#ifndef XLB_UNIT_EXPO_H
#define XLB_UNIT_EXPO_H

#include <stdio.h>
#include "../../user/lib/metrics.h"

/* Scrape number n: a counter, then a gauge of 2 + big backends. */
static inline int write_expo(struct xlb_prom *w, unsigned int n, unsigned int big)
{
	char name[32];
	unsigned int i;
	int ret;

	ret = xlb_prom_family(w, "xlb_test_scrapes_total", "counter", "Scrapes so far.");
	ret = ret ?: xlb_prom_sample_u64(w, "xlb_test_scrapes_total", NULL, n);
	ret = ret ?: xlb_prom_family(w, "xlb_test_backend_up", "gauge",
				     "1 if the backend passes its health checks.");
	for (i = 0; !ret && i < 2 + big; i++) {
		const char *const labels[] = { "vip", "198.18.0.10:80", "backend", name, NULL };

		snprintf(name, sizeof(name), "10.0.%u.%u:8080", i / 250, i % 250);
		ret = xlb_prom_sample(w, "xlb_test_backend_up", labels, i & 1);
	}
	return ret;
}

#endif /* XLB_UNIT_EXPO_H */
