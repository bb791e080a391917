// SPDX-License-Identifier: GPL-2.0
/*
 * The text forms of syntax.h. The first byte picks a parser, the rest is
 * its input. Whatever a parser accepts must print and parse back to the
 * same value (parse -> format -> parse), and the printed form is a fixed
 * point (format -> parse -> format gives the same text). A refusal says why.
 */
#include <inttypes.h>
#include "fuzz.h"
#include "../../user/lib/syntax.h"

#define WHY_MAX 128

static void check_refusal(int ret, const char *why, const char *what, const char *s)
{
	fuzz_assert(ret == -EINVAL, "%s('%s') returned %d", what, s, ret);
	fuzz_assert(why[0], "%s('%s') refused without a reason", what, s);
}

static void fuzz_addr(const char *s)
{
	char why[WHY_MAX] = "", text[XLB_ADDR_STR_MAX], again[XLB_ADDR_STR_MAX];
	__be32 a[4], b[4];
	int ret = xlb_parse_addr(s, a, why, sizeof(why));

	if (ret) {
		check_refusal(ret, why, "parse_addr", s);
		return;
	}
	xlb_format_addr(a, text, sizeof(text));
	fuzz_assert(!xlb_parse_addr(text, b, why, sizeof(why)), "'%s' -> '%s' refused: %s",
		    s, text, why);
	fuzz_assert(!memcmp(a, b, sizeof(a)), "'%s' -> '%s' reads back another address",
		    s, text);
	xlb_format_addr(b, again, sizeof(again));
	fuzz_assert(!strcmp(text, again), "'%s' prints as '%s', then '%s'", s, text, again);
}

static void fuzz_vip(const char *s)
{
	char why[WHY_MAX] = "", text[XLB_VIP_STR_MAX], again[XLB_VIP_STR_MAX];
	struct vip_key a, b;
	int ret = xlb_parse_vip(s, &a, why, sizeof(why));

	if (ret) {
		check_refusal(ret, why, "parse_vip", s);
		return;
	}
	xlb_format_vip(&a, text, sizeof(text));
	fuzz_assert(!xlb_parse_vip(text, &b, why, sizeof(why)), "'%s' -> '%s' refused: %s",
		    s, text, why);
	fuzz_assert(!memcmp(&a, &b, sizeof(a)), "'%s' -> '%s' reads back another VIP", s, text);
	xlb_format_vip(&b, again, sizeof(again));
	fuzz_assert(!strcmp(text, again), "'%s' prints as '%s', then '%s'", s, text, again);
}

static void fuzz_duration(const char *s)
{
	char why[WHY_MAX] = "", text[32], again[32];
	__u64 a, b;
	int ret = xlb_parse_duration_ms(s, &a, why, sizeof(why));

	if (ret) {
		check_refusal(ret, why, "parse_duration_ms", s);
		return;
	}
	xlb_format_duration_ms(a, text, sizeof(text));
	fuzz_assert(!xlb_parse_duration_ms(text, &b, why, sizeof(why)),
		    "'%s' (%" PRIu64 " ms) -> '%s' refused: %s", s, (uint64_t)a, text, why);
	fuzz_assert(a == b, "'%s' = %" PRIu64 " ms -> '%s' = %" PRIu64 " ms", s,
		    (uint64_t)a, text, (uint64_t)b);
	xlb_format_duration_ms(b, again, sizeof(again));
	fuzz_assert(!strcmp(text, again), "'%s' prints as '%s', then '%s'", s, text, again);
}

/* The range comes from the input too: min and max are its first 8 bytes. */
static void fuzz_u32(const uint8_t *data, size_t size)
{
	char why[WHY_MAX] = "", text[16], *s;
	__u32 lim[2] = { 0, UINT32_MAX }, a, b;
	int ret;

	if (size >= sizeof(lim)) {
		memcpy(lim, data, sizeof(lim));
		data += sizeof(lim);
		size -= sizeof(lim);
	}
	s = fuzz_strndup(data, size);
	ret = xlb_parse_u32(s, lim[0], lim[1], &a, why, sizeof(why));
	if (ret) {
		check_refusal(ret, why, "parse_u32", s);
	} else {
		fuzz_assert(a >= lim[0] && a <= lim[1], "'%s' = %u outside %u..%u", s, a,
			    lim[0], lim[1]);
		snprintf(text, sizeof(text), "%u", a);
		fuzz_assert(!xlb_parse_u32(text, lim[0], lim[1], &b, why, sizeof(why)) &&
			    a == b, "'%s' = %u does not read back", s, a);
	}
	free(s);
}

static void fuzz_encap_source(const char *s, int family)
{
	char why[WHY_MAX] = "", text[XLB_ADDR_STR_MAX + 8], again[XLB_ADDR_STR_MAX + 8];
	struct encap_source a, b;
	int ret = xlb_parse_encap_source(s, family, &a, why, sizeof(why));

	if (ret) {
		check_refusal(ret, why, "parse_encap_source", s);
		return;
	}
	fuzz_assert(a.flags & XLB_ENCAP_F_SET, "'%s' parsed without the set flag", s);
	fuzz_assert(a.hash_bits <= (family == 4 ? 16u : 32u), "'%s': %u hash bits", s,
		    a.hash_bits);
	xlb_format_encap_source(&a, text, sizeof(text));
	fuzz_assert(!xlb_parse_encap_source(text, family, &b, why, sizeof(why)),
		    "'%s' -> '%s' refused: %s", s, text, why);
	fuzz_assert(!memcmp(&a, &b, sizeof(a)), "'%s' -> '%s' reads back another source",
		    s, text);
	xlb_format_encap_source(&b, again, sizeof(again));
	fuzz_assert(!strcmp(text, again), "'%s' prints as '%s', then '%s'", s, text, again);
}

static void fuzz_names(const char *s)
{
	char why[WHY_MAX] = "";
	__u8 a, b;

	if (!xlb_parse_sched(s, &a, why, sizeof(why)))
		fuzz_assert(!xlb_parse_sched(xlb_sched_name(a), &b, why, sizeof(why)) && a == b,
			    "scheduler '%s' does not read back", s);
	if (!xlb_parse_forward(s, &a, why, sizeof(why)))
		fuzz_assert(!xlb_parse_forward(xlb_forward_name(a), &b, why, sizeof(why)) &&
			    a == b, "forwarding mode '%s' does not read back", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t which = fuzz_byte(&data, &size);
	char *s;

	if (which % 7 == 3) {
		fuzz_u32(data, size);
		return 0;
	}
	s = fuzz_strndup(data, size);
	switch (which % 7) {
	case 0: fuzz_addr(s); break;
	case 1: fuzz_vip(s); break;
	case 2: fuzz_duration(s); break;
	case 4: fuzz_encap_source(s, 4); break;
	case 5: fuzz_encap_source(s, 6); break;
	case 6: fuzz_names(s); break;
	}
	free(s);
	return 0;
}
