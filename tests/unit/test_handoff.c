// SPDX-License-Identifier: GPL-2.0
/* Unit tests for the flow hand-off datagram (user/lib/handoff.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "handoff.h"

#define KEY "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void flow_make(struct xlb_handoff_flow *f, __u32 i)
{
	memset(f, 0, sizeof(*f));
	f->saddr[2] = htonl(0xffff);
	f->saddr[3] = htonl(0xc6120101); /* 198.18.1.1 */
	f->daddr[2] = htonl(0xffff);
	f->daddr[3] = htonl(0xc612640a);
	f->backend[2] = htonl(0xffff);
	f->backend[3] = htonl(0xc612000b + i % 3);
	f->sport = htons((__u16)(30000 + i));
	f->dport = htons(80);
	f->vip_port = htons(80);
	f->proto = 6;
}

static void round_trip(void **state)
{
	struct xlb_handoff_flow in[XLB_HANDOFF_MAX], out[XLB_HANDOFF_MAX];
	__u8 key[XLB_HANDOFF_KEY_LEN], buf[XLB_HANDOFF_MAX_LEN];
	__u64 last = 0;
	__u32 i;
	int len;

	(void)state;
	assert_int_equal(xlb_handoff_key_parse(KEY, key), 0);
	for (i = 0; i < XLB_HANDOFF_MAX; i++)
		flow_make(&in[i], i);
	len = xlb_handoff_encode(key, 7, 1000, in, XLB_HANDOFF_MAX, buf, sizeof(buf));
	assert_int_equal(len, XLB_HANDOFF_MAX_LEN);
	assert_true(len <= 1472); /* one datagram on a 1500-byte link */
	assert_int_equal(xlb_handoff_decode(key, buf, (size_t)len, 1000, &last, out), XLB_HANDOFF_MAX);
	assert_int_equal(last, 7);
	assert_memory_equal(in, out, sizeof(in));
}

static void refusals(void **state)
{
	struct xlb_handoff_flow f, out[XLB_HANDOFF_MAX];
	__u8 key[XLB_HANDOFF_KEY_LEN], other[XLB_HANDOFF_KEY_LEN], buf[XLB_HANDOFF_MAX_LEN];
	__u64 last = 0;
	int len;

	(void)state;
	assert_int_equal(xlb_handoff_key_parse(KEY, key), 0);
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	flow_make(&f, 1);
	len = xlb_handoff_encode(key, 5, 1000, &f, 1, buf, sizeof(buf));
	assert_true(len > 0);
	/* a stranger's key: refused, and the sequence does not move */
	assert_int_equal(xlb_handoff_decode(other, buf, (size_t)len, 1000, &last, out), -EPERM);
	assert_int_equal(last, 0);
	/* one bit changed */
	buf[XLB_HANDOFF_HDR_LEN + 3] ^= 1;
	assert_int_equal(xlb_handoff_decode(key, buf, (size_t)len, 1000, &last, out), -EPERM);
	buf[XLB_HANDOFF_HDR_LEN + 3] ^= 1;
	assert_int_equal(xlb_handoff_decode(key, buf, (size_t)len, 1000, &last, out), 1);
	/* the same datagram again, and an older one */
	assert_int_equal(xlb_handoff_decode(key, buf, (size_t)len, 1000, &last, out), -ESTALE);
	len = xlb_handoff_encode(key, 4, 1000, &f, 1, buf, sizeof(buf));
	assert_int_equal(xlb_handoff_decode(key, buf, (size_t)len, 1000, &last, out), -ESTALE);
	/* kept and sent a minute later */
	len = xlb_handoff_encode(key, 6, 1000, &f, 1, buf, sizeof(buf));
	assert_int_equal(xlb_handoff_decode(key, buf, (size_t)len, 1000 + 60, &last, out), -ESTALE);
	/* truncated, too many flows */
	assert_int_equal(xlb_handoff_decode(key, buf, (size_t)len - 1, 1000, &last, out), -EBADMSG);
	assert_int_equal(xlb_handoff_encode(key, 9, 1000, out, XLB_HANDOFF_MAX + 1, buf, sizeof(buf)),
			 -E2BIG);
	assert_int_equal(xlb_handoff_key_parse("0011", key), -EINVAL);
	assert_int_equal(xlb_handoff_key_parse(KEY "", key), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
