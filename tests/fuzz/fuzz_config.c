// SPDX-License-Identifier: GPL-2.0
/*
 * The config parser on arbitrary bytes (xlb_config_parse, from memory).
 * Beyond not crashing: an error leaves cfg untouched and writes one line
 * starting with the file name; a success holds only values in range, and
 * its VIPs and addresses print back to the same value.
 */
#include <string.h>
#include "fuzz.h"
#include "../../user/lib/config.h"
#include "../../user/lib/syntax.h"

#define NAME "fuzz.yaml"

static void check_error(int ret, const char *err, const struct xlb_config *cfg,
			const struct xlb_config *before)
{
	fuzz_assert(ret < 0, "xlb_config_parse returned %d", ret);
	fuzz_assert(err[0], "error %d without a message", ret);
	fuzz_assert(!strchr(err, '\n'), "error message of several lines: %s", err);
	fuzz_assert(!strncmp(err, NAME ":", strlen(NAME ":")),
		    "error message without the file name: %s", err);
	fuzz_assert(!memcmp(cfg, before, sizeof(*cfg)), "cfg changed on error: %s", err);
}

static void check_vip(const struct xlb_vip_cfg *v)
{
	char text[XLB_VIP_STR_MAX], why[128];
	struct vip_key key;
	__u32 i;

	xlb_format_vip(&v->key, text, sizeof(text));
	fuzz_assert(!xlb_parse_vip(text, &key, why, sizeof(why)) &&
		    !memcmp(&key, &v->key, sizeof(key)),
		    "VIP %s does not read back", text);
	fuzz_assert(v->sched <= XLB_SCHED_SOURCE_HASH, "scheduler %u", v->sched);
	fuzz_assert(v->health.kind <= XLB_CHECK_HTTPS, "check kind %u", v->health.kind);
	fuzz_assert(memchr(v->health.path, '\0', sizeof(v->health.path)),
		    "health path not terminated");
	fuzz_assert(v->nbackends == 0 || v->backends, "backends NULL");
	for (i = 0; i < v->nbackends; i++) {
		const struct xlb_backend_cfg *b = &v->backends[i];
		char addr[XLB_ADDR_STR_MAX];
		__be32 back[4];

		fuzz_assert(b->weight <= 65535, "weight %u", b->weight); /* 0: drain */
		fuzz_assert(b->admin <= XLB_ADMIN_DISABLED, "admin %u", b->admin);
		xlb_format_addr(b->addr, addr, sizeof(addr));
		fuzz_assert(!xlb_parse_addr(addr, back, why, sizeof(why)) &&
			    !memcmp(back, b->addr, sizeof(back)),
			    "backend %s does not read back", addr);
	}
}

static void check_config(const struct xlb_config *cfg)
{
	__u32 i;

	fuzz_assert(cfg->nifaces <= XLB_MAX_IFACES, "%u interfaces", cfg->nifaces);
	for (i = 0; i < cfg->nifaces; i++)
		fuzz_assert(memchr(cfg->ifaces[i], '\0', XLB_IFNAME_MAX),
			    "interface name not terminated");
	fuzz_assert(memchr(cfg->metrics, '\0', sizeof(cfg->metrics)),
		    "metrics address not terminated");
	fuzz_assert(cfg->nvips == 0 || cfg->vips, "vips NULL");
	for (i = 0; i < cfg->nvips; i++)
		check_vip(&cfg->vips[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, not NUL-terminated: reading past len is a bug */
	char *yaml = malloc(size ? size : 1);
	struct xlb_config cfg, before;
	char err[XLB_ERR_MAX];
	int ret;

	if (!yaml)
		abort();
	memcpy(yaml, data, size);
	memset(&cfg, 0xa5, sizeof(cfg));
	memcpy(&before, &cfg, sizeof(cfg));
	err[0] = '\0';
	ret = xlb_config_parse(yaml, size, NAME, &cfg, err, sizeof(err));
	if (ret) {
		check_error(ret, err, &cfg, &before);
	} else {
		check_config(&cfg);
		xlb_config_free(&cfg);
	}
	free(yaml);
	return 0;
}
