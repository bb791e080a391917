// SPDX-License-Identifier: GPL-2.0
/*
 * The state loader (xlb_state_load) on an arbitrary state.json. An error
 * leaves the output alone and says why in one line; what loads holds only
 * values in range, and saving it and loading again gives the same VIPs,
 * backends and digest (the daemon's restart path).
 */
#include <errno.h>
#include <unistd.h>
#include "fuzz.h"
#include "../../user/lib/state.h"
#include "../../user/lib/syntax.h"

#define ERR_MAX 512

/* Two directories of our own, made once per process under $TMPDIR (the
 * runner's scratch, removed even after a crash), removed at exit. */
static char dir_in[256], dir_out[256];

static void remove_dirs(void)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/state.json", dir_in);
	unlink(path);
	snprintf(path, sizeof(path), "%s/state.json", dir_out);
	unlink(path);
	rmdir(dir_in);
	rmdir(dir_out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc, (void)argv;
	if (!tmp || !*tmp || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(dir_in, sizeof(dir_in), "%s/xlb-fuzz-state-XXXXXX", tmp);
	snprintf(dir_out, sizeof(dir_out), "%s/xlb-fuzz-state-XXXXXX", tmp);
	if (!mkdtemp(dir_in) || !mkdtemp(dir_out)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(remove_dirs);
	return 0;
}

static void write_state(const char *dir, const uint8_t *data, size_t size)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
		perror(path);
		abort();
	}
}

static int vip_equal(const struct xlb_vip_cfg *a, const struct xlb_vip_cfg *b)
{
	const struct xlb_health_cfg *ha = &a->health, *hb = &b->health;
	__u32 i;

	if (memcmp(&a->key, &b->key, sizeof(a->key)) || a->sched != b->sched ||
	    a->forward != b->forward || ha->kind != hb->kind || strcmp(ha->path, hb->path) ||
	    ha->port != hb->port || ha->interval_ms != hb->interval_ms ||
	    ha->timeout_ms != hb->timeout_ms || ha->rise != hb->rise || ha->fall != hb->fall ||
	    a->nbackends != b->nbackends)
		return 0;
	for (i = 0; i < a->nbackends; i++)
		if (memcmp(a->backends[i].addr, b->backends[i].addr, sizeof(a->backends[i].addr)) ||
		    !xlb_backend_cfg_equal(&a->backends[i], &b->backends[i]))
			return 0;
	return 1;
}

static void check_loaded(const struct xlb_config *cfg)
{
	__u32 i, j;

	for (i = 0; i < cfg->nvips; i++) {
		const struct xlb_vip_cfg *v = &cfg->vips[i];

		fuzz_assert(v->sched <= XLB_SCHED_SOURCE_HASH && v->forward <= XLB_FWD_IPIP &&
			    v->health.kind <= XLB_CHECK_HTTPS, "vips[%u]: enum out of range", i);
		fuzz_assert(v->nbackends == 0 || v->backends, "vips[%u]: backends NULL", i);
		for (j = 0; j < v->nbackends; j++)
			fuzz_assert(v->backends[j].weight <= 65535 &&
				    v->backends[j].admin <= XLB_ADMIN_DISABLED,
				    "vips[%u].backends[%u] out of range", i, j);
	}
}

/* Save what was loaded, load it again, compare. */
static void check_round_trip(const struct xlb_config *cfg, const char *digest)
{
	struct xlb_config back = {};
	struct xlb_state st;
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	char err[ERR_MAX] = "", digest2[64];
	__u32 i, j;
	int ret;

	xlb_state_init(&st);
	snprintf(st.digest, sizeof(st.digest), "%s", digest);
	for (i = 0; i < cfg->nvips; i++) {
		fuzz_assert(!xlb_state_vip_insert(&st, &cfg->vips[i], &v), "vip insert");
		for (j = 0; j < cfg->vips[i].nbackends; j++)
			fuzz_assert(!xlb_state_backend_insert(v, &cfg->vips[i].backends[j], &b),
				    "backend insert");
	}
	ret = xlb_state_save(&st, dir_out, err, sizeof(err));
	fuzz_assert(!ret, "save: %s", err);
	ret = xlb_state_load(dir_out, &back, digest2, err, sizeof(err));
	fuzz_assert(!ret, "what was saved does not load: %s", err);
	fuzz_assert(!strcmp(digest, digest2), "digest '%s' came back as '%s'", digest, digest2);
	fuzz_assert(back.nvips == cfg->nvips, "%u VIPs came back as %u", cfg->nvips, back.nvips);
	for (i = 0; i < cfg->nvips; i++)
		fuzz_assert(vip_equal(&cfg->vips[i], &back.vips[i]), "vips[%u] changed", i);
	xlb_config_free(&back);
	xlb_state_free(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlb_config cfg, before;
	char err[ERR_MAX] = "", digest[64] = "";
	int ret;

	write_state(dir_in, data, size);
	memset(&cfg, 0xa5, sizeof(cfg));
	memcpy(&before, &cfg, sizeof(cfg));
	ret = xlb_state_load(dir_in, &cfg, digest, err, sizeof(err));
	if (ret) {
		fuzz_assert(ret == -EINVAL || ret == -ENOMEM, "load returned %d", ret);
		fuzz_assert(ret == -ENOMEM || (err[0] && !strchr(err, '\n')),
			    "error %d: no one-line reason: '%s'", ret, err);
		fuzz_assert(!memcmp(&cfg, &before, sizeof(cfg)), "output changed on error");
		return 0;
	}
	fuzz_assert(memchr(digest, '\0', sizeof(digest)), "digest not terminated");
	check_loaded(&cfg);
	check_round_trip(&cfg, digest);
	xlb_config_free(&cfg);
	return 0;
}
