// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl config dump: the effective desired state (the config file's
 * top-level settings, the VIPs and backends with their runtime changes, the
 * blocklist) as YAML that xlbd -c loads, as ipvsadm -S does (written by
 * config_write.c). Keys only a restart applies come from the file as started.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_write.h"
#include "xlbd.h"

/* One VIP of the state, its backends sorted, as YAML. */
static int vip_yaml(FILE *f, const struct xlbd *d, struct xlb_state_vip *v)
{
	struct xlb_state_backend **sorted = backends_sorted(v);
	const struct xlb_backend_cfg **bs = calloc(v->nbackends + 1, sizeof(*bs));
	__u32 j;

	if (!sorted || !bs) {
		free(sorted);
		free(bs);
		return -ENOMEM;
	}
	for (j = 0; j < v->nbackends; j++)
		bs[j] = &sorted[j]->cfg;
	xlb_config_write_vip(f, &v->cfg, bs, v->nbackends, &d->state.block);
	free(sorted);
	free(bs);
	return 0;
}

struct json_object *cmd_config_dump(struct xlbd *d, struct json_object *req)
{
	static const char *const keys[] = { NULL };
	struct xlb_state_vip **sorted;
	struct json_object *reply;
	char errbuf[256], *text = NULL;
	size_t len = 0;
	int err = 0;
	FILE *f;
	__u32 i;

	if (xlb_proto_check_keys(req, keys, errbuf, sizeof(errbuf)))
		ERR_REPLY("%s", errbuf);
	sorted = vips_sorted(d);
	f = sorted ? open_memstream(&text, &len) : NULL;
	if (!f) {
		free(sorted);
		ERR_REPLY("out of memory");
	}
	fprintf(f, "# xlbctl config dump: xlbd %s, the desired state with its runtime changes\n",
		xlb_version);
	xlb_config_write_top(f, &d->file);
	xlb_config_write_blocklist(f, &d->state.block, NULL, "");
	fputs(d->state.nvips ? "vips:\n" : "vips: []\n", f);
	for (i = 0; i < d->state.nvips && !err; i++)
		err = vip_yaml(f, d, sorted[i]);
	free(sorted);
	if (fclose(f) || err) {
		free(text);
		ERR_REPLY("out of memory");
	}
	reply = xlb_proto_ok();
	json_object_object_add(reply, "yaml", json_object_new_string(text));
	free(text);
	return reply;
}
