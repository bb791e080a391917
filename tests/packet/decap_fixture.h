/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The backend-side decapsulation program, loaded from the real object,
 * its maps filled directly, frames through BPF_PROG_TEST_RUN. No cmocka
 * here, like fixture.h.
 */
#ifndef XLB_TEST_DECAP_FIXTURE_H
#define XLB_TEST_DECAP_FIXTURE_H

#include <stddef.h>
#include <linux/types.h>
#include "decap.skel.h"
#include "../../maps/decap_maps.h"

struct decap_fixture {
	struct decap_bpf *skel;
	int prog_fd;
};

int decap_fixture_open(struct decap_fixture *f);
void decap_fixture_close(struct decap_fixture *f);
/* A load balancer source prefix: "198.18.0.0", 24 or "2001:db8:1::", 48. */
int decap_fixture_source_add(struct decap_fixture *f, const char *addr, __u32 len);
int decap_fixture_vip_add(struct decap_fixture *f, const char *addr);
int decap_fixture_run(struct decap_fixture *f, const __u8 *in, size_t len, __u8 *out,
		      __u32 *out_len);
int decap_fixture_counters(struct decap_fixture *f, __u64 out[XLB_DECAP_STAT_MAX]);

#endif /* XLB_TEST_DECAP_FIXTURE_H */
