// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The desired state: applied to the running one (at start and reload),
 * chosen at start between the config file and the saved state, and saved.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include "config_diff.h"
#include "syntax.h"
#include "xlbd.h"

static int save_view(struct xlbd *d, const struct xlb_state *s, char *err, size_t errlen)
{
	int ret;

	err[0] = '\0';
	ret = xlb_state_save(s, d->state_dir, err, errlen);
	if (ret && !err[0])
		snprintf(err, errlen, "cannot save the runtime state in %s: %s", d->state_dir,
			 strerror(-ret));
	if (ret)
		logmsg(LOG_ERR, "%s", err);
	else if (err[0]) /* saved, but the folder could not be synced */
		logmsg(LOG_WARN, "%s", err);
	return ret;
}

int save_state(struct xlbd *d, char *err, size_t errlen)
{
	return save_view(d, &d->state, err, errlen);
}

/* A copy of the arrays, sharing everything else: xlb_state_save only reads. */
int save_state_without(struct xlbd *d, const struct xlb_state_vip *v,
		       const struct xlb_state_backend *b, char *err, size_t errlen)
{
	struct xlb_state view = d->state;
	struct xlb_state_vip *vips = calloc(d->state.nvips + 1, sizeof(*vips));
	struct xlb_state_backend *kept = b ? calloc(v->nbackends, sizeof(*kept)) : NULL;
	__u32 i, j;
	int ret;

	if (!vips || (b && !kept)) {
		snprintf(err, errlen, "cannot save the runtime state: %s", strerror(ENOMEM));
		ret = -ENOMEM;
		goto out;
	}
	view.vips = vips;
	view.nvips = 0;
	for (i = 0; i < d->state.nvips; i++) {
		const struct xlb_state_vip *src = &d->state.vips[i];
		struct xlb_state_vip *dst = &vips[view.nvips];

		if (src == v && !b)
			continue;
		*dst = *src;
		view.nvips++;
		if (src != v)
			continue;
		dst->backends = kept;
		dst->nbackends = 0;
		for (j = 0; j < src->nbackends; j++)
			if (&src->backends[j] != b)
				kept[dst->nbackends++] = src->backends[j];
	}
	ret = save_view(d, &view, err, errlen);
out:
	free(kept);
	free(vips);
	return ret;
}

struct json_object *unsaved_reply(const char *err)
{
	return xlb_proto_error("%s; nothing changed", err);
}

struct json_object *start_failed_reply(struct xlbd *d, int ret, const char *what)
{
	char why[128], err[XLB_ERR_MAX];

	libbpf_strerror(ret, why, sizeof(why));
	if (!save_state(d, err, sizeof(err)))
		return xlb_proto_error("%s: %s", what, why);
	/* rare twice over: the file names what is not running; the next start tries it */
	return xlb_proto_error("%s: %s; and %s (the next start will try it again)", what, why,
			       err);
}

/* ---- applying a new desired set of VIPs (reload, start) ---- */

/* What an apply reports: one string per VIP or backend added, changed or removed. */
struct changes {
	struct json_object *added, *changed, *removed;
};

static struct json_object *str_array_add(struct json_object *arr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static struct json_object *str_array_add(struct json_object *arr, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(arr, json_object_new_string(buf));
	return arr;
}

static void remove_gone_vips(struct xlbd *d, const struct xlb_config *cfg,
			     struct changes *ch)
{
	char vip[XLB_VIP_STR_MAX];
	__u32 i;

	for (i = 0; i < d->state.nvips;) {
		struct xlb_state_vip *v = &d->state.vips[i];

		if (xlb_config_find_vip(cfg, &v->cfg.key)) {
			i++;
			continue;
		}
		xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
		vip_stop(d, v);
		xlb_state_vip_remove(&d->state, i);
		str_array_add(ch->removed, "%s", vip);
	}
}

static int add_vip(struct xlbd *d, const struct xlb_vip_cfg *want, const char *vip,
		   struct changes *ch)
{
	char addr[XLB_ADDR_STR_MAX];
	struct xlb_state_vip *v;
	struct xlb_state_backend *b;
	__u32 j;
	int ret;

	ret = xlb_state_vip_insert(&d->state, want, &v);
	str_array_add(ch->added, "%s", vip);
	for (j = 0; j < want->nbackends && !ret; j++) {
		ret = xlb_state_backend_insert(v, &want->backends[j], &b);
		xlb_format_addr(want->backends[j].addr, addr, sizeof(addr));
		str_array_add(ch->added, "backend %s of %s", addr, vip);
	}
	return ret ?: vip_start(d, v);
}

/* A new scheduler or forwarding mode for a VIP that stays. */
static int change_vip_mode(struct xlbd *d, struct xlb_state_vip *v,
			   const struct xlb_vip_cfg *want)
{
	int to_ipip = want->forward == XLB_FWD_IPIP && v->cfg.forward != XLB_FWD_IPIP;
	int ret = 0;
	__u32 j;

	v->cfg.sched = want->sched;
	v->cfg.forward = want->forward;
	/*
	 * l2dsr <-> ipip: the next hop comes from elsewhere now. The
	 * mode flips before the MACs are cleared (to ipip) or after
	 * they are resolved (to l2dsr): no packet meets an empty MAC.
	 */
	if (to_ipip)
		ret = xlb_lb_vip_update(d->lb, &v->cfg.key, v->cfg.sched, v->cfg.forward);
	for (j = 0; j < v->nbackends && !ret; j++) {
		mac_resolve(d, v, &v->backends[j]);
		ret = backend_push(d, v, &v->backends[j]);
	}
	if (!to_ipip && !ret)
		ret = xlb_lb_vip_update(d->lb, &v->cfg.key, v->cfg.sched, v->cfg.forward);
	return ret;
}

static void remove_gone_backends(struct xlbd *d, struct xlb_state_vip *v,
				 const struct xlb_vip_cfg *want, const char *vip,
				 struct changes *ch)
{
	char addr[XLB_ADDR_STR_MAX];
	__u32 j;

	for (j = 0; j < v->nbackends;) {
		struct xlb_state_backend *b = &v->backends[j];

		if (xlb_config_find_backend(want, b->cfg.addr)) {
			j++;
			continue;
		}
		xlb_format_addr(b->cfg.addr, addr, sizeof(addr));
		backend_stop(d, v, b);
		xlb_state_backend_remove(v, j);
		str_array_add(ch->removed, "backend %s of %s", addr, vip);
	}
}

/* Backends of a VIP that stays: new ones started, changed ones (or all, on new checks) pushed. */
static int add_or_update_backends(struct xlbd *d, struct xlb_state_vip *v,
				  const struct xlb_vip_cfg *want, const char *vip,
				  int health_changed, struct changes *ch)
{
	char addr[XLB_ADDR_STR_MAX];
	int ret = 0;
	__u32 j;

	for (j = 0; j < want->nbackends && !ret; j++) {
		const struct xlb_backend_cfg *wb = &want->backends[j];
		struct xlb_state_backend *b = xlb_state_find_backend(v, wb->addr);
		struct xlb_health_target t;

		xlb_format_addr(wb->addr, addr, sizeof(addr));
		if (!b) {
			ret = xlb_state_backend_insert(v, wb, &b);
			ret = ret ?: backend_start(d, v, b);
			str_array_add(ch->added, "backend %s of %s", addr, vip);
			continue;
		}
		if (!xlb_backend_cfg_equal(&b->cfg, wb)) {
			b->cfg = *wb;
			str_array_add(ch->changed, "backend %s of %s", addr, vip);
		} else if (!health_changed) {
			continue;
		}
		health_target(d, v, b, &t);
		xlb_health_update(d->health, b->hid, &t);
		ret = backend_push(d, v, b);
	}
	return ret;
}

static int update_vip(struct xlbd *d, struct xlb_state_vip *v, const struct xlb_vip_cfg *want,
		      const char *vip, struct changes *ch)
{
	int vip_changed = 0, health_changed, ret = 0;

	if (v->cfg.sched != want->sched || v->cfg.forward != want->forward) {
		ret = change_vip_mode(d, v, want);
		vip_changed = 1;
	}
	if (v->cfg.min_up != want->min_up) {
		v->cfg.min_up = want->min_up;
		vip_changed = 1;
	}
	if (!ret && (v->cfg.persist_ms != want->persist_ms ||
		     v->cfg.persist_prefix4 != want->persist_prefix4 ||
		     v->cfg.persist_prefix6 != want->persist_prefix6)) {
		v->cfg.persist_ms = want->persist_ms;
		v->cfg.persist_prefix4 = want->persist_prefix4;
		v->cfg.persist_prefix6 = want->persist_prefix6;
		ret = vip_persist_push(d, v);
		vip_changed = 1;
	}
	if (!ret && !xlb_limits_equal(&v->cfg.limits, &want->limits)) {
		/* other prefixes key other buckets: the old ones are forgotten */
		int forget = v->cfg.limits.prefix4 != want->limits.prefix4 ||
			     v->cfg.limits.prefix6 != want->limits.prefix6 ||
			     !want->limits.max_conns;

		v->cfg.limits = want->limits;
		ret = limits_push(d, v, forget);
		vip_changed = 1;
	}
	health_changed = memcmp(&v->cfg.health, &want->health, sizeof(want->health));
	if (health_changed) {
		v->cfg.health = want->health;
		vip_changed = 1;
	}
	if (vip_changed)
		str_array_add(ch->changed, "%s", vip);
	remove_gone_backends(d, v, want, vip, ch);
	return ret ?: add_or_update_backends(d, v, want, vip, health_changed, ch);
}

/* vip set (ctl_vip.c): v's settings to want's, its backends as they are. */
int vip_settings_apply(struct xlbd *d, struct xlb_state_vip *v, const struct xlb_vip_cfg *want)
{
	struct json_object *junk = json_object_new_array();
	struct changes ch = { junk, junk, junk };
	struct xlb_vip_cfg w = *want;
	char vip[XLB_VIP_STR_MAX];
	__u32 j;
	int ret, e;

	w.backends = calloc(v->nbackends + 1, sizeof(*w.backends));
	if (!w.backends) {
		json_object_put(junk);
		return -ENOMEM;
	}
	for (j = 0; j < v->nbackends; j++)
		w.backends[j] = v->backends[j].cfg;
	w.nbackends = v->nbackends;
	xlb_format_vip(&v->cfg.key, vip, sizeof(vip));
	xlb_lb_batch_begin(d->lb);
	ret = update_vip(d, v, &w, vip, &ch);
	e = xlb_lb_batch_end(d->lb);
	free(w.backends);
	json_object_put(junk);
	return ret ?: e;
}

/*
 * Make the running state equal to cfg's VIPs, touching only what differs.
 * The lists (may be NULL) get one string per VIP or backend added, changed
 * or removed.
 */
int apply_config(struct xlbd *d, const struct xlb_config *cfg, struct json_object *added,
		 struct json_object *changed, struct json_object *removed)
{
	struct json_object *junk = json_object_new_array();
	struct changes ch = { added ?: junk, changed ?: junk, removed ?: junk };
	char vip[XLB_VIP_STR_MAX];
	__u32 i;
	int ret = 0, e;

	xlb_lb_batch_begin(d->lb);
	remove_gone_vips(d, cfg, &ch);
	for (i = 0; i < cfg->nvips && !ret; i++) {
		const struct xlb_vip_cfg *want = &cfg->vips[i];
		struct xlb_state_vip *v = xlb_state_find_vip(&d->state, &want->key);

		xlb_format_vip(&want->key, vip, sizeof(vip));
		ret = v ? update_vip(d, v, want, vip, &ch) : add_vip(d, want, vip, &ch);
	}
	ret = ret ?: block_apply(d, &cfg->block, ch.added, ch.changed, ch.removed);
	json_object_put(junk);
	e = xlb_lb_batch_end(d->lb);
	return ret ?: e;
}

/* ---- reload guards: what a reload refuses, before anything changes ---- */

/* Field by field: padding need not match. */
static int ifaces_equal(const struct xlb_config *a, const struct xlb_config *b)
{
	__u32 i;

	for (i = 0; i < a->nifaces && a->nifaces == b->nifaces; i++)
		if (strcmp(a->ifaces[i], b->ifaces[i]))
			return 0;
	return a->nifaces == b->nifaces;
}

static int allow_equal(const struct xlb_config *a, const struct xlb_config *b)
{
	__u32 i;

	if (a->nmetrics_allow != b->nmetrics_allow)
		return 0;
	for (i = 0; i < a->nmetrics_allow; i++)
		if (a->metrics_allow[i].len != b->metrics_allow[i].len ||
		    memcmp(a->metrics_allow[i].addr, b->metrics_allow[i].addr,
			   sizeof(a->metrics_allow[i].addr)))
			return 0;
	return 1;
}

static int handoff_equal(const struct xlb_handoff_cfg *a, const struct xlb_handoff_cfg *b)
{
	return a->port == b->port && a->npeers == b->npeers &&
	       !memcmp(a->key, b->key, sizeof(a->key)) &&
	       !memcmp(a->peers, b->peers, sizeof(a->peers));
}

/*
 * The keys only a restart applies (the program's load-time settings, the
 * links, the metrics listener, the announce and handoff modules): the ones
 * cfg changes, as "interfaces, conntrack.size", in buf; 0 if none. A key
 * the command line overrides is the command line's: the file's is ignored.
 */
static int restart_keys(const struct xlbd *d, const struct xlb_config *cfg, char *buf,
			size_t len)
{
	const struct xlb_config *f = &d->file;
	const char *keys[12];
	size_t n = 0, i, off = 0;

	if (!d->cli_nifaces && !ifaces_equal(cfg, f))
		keys[n++] = "interfaces";
	if (d->cli_xdp_mode < 0 && cfg->xdp_mode != f->xdp_mode)
		keys[n++] = "xdp_mode";
	if (cfg->ct_size != f->ct_size)
		keys[n++] = "conntrack.size";
	if (cfg->tcp_idle_ms != f->tcp_idle_ms)
		keys[n++] = "conntrack.tcp_idle";
	if (cfg->udp_idle_ms != f->udp_idle_ms)
		keys[n++] = "conntrack.udp_idle";
	if (cfg->tcp_closing_ms != f->tcp_closing_ms)
		keys[n++] = "conntrack.tcp_closing";
	if (!d->cli_metrics && strcmp(cfg->metrics, f->metrics))
		keys[n++] = "metrics";
	if (!allow_equal(cfg, f))
		keys[n++] = "metrics_allow";
	if (cfg->announce.table != f->announce.table ||
	    cfg->announce.protocol != f->announce.protocol)
		keys[n++] = "announce";
	if (!handoff_equal(&cfg->handoff, &f->handoff))
		keys[n++] = "handoff";
	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "", keys[i]);
	return (int)n;
}

/* Running VIPs that cfg does not have: a reload would remove them. */
static __u32 vips_removed(const struct xlbd *d, const struct xlb_config *cfg)
{
	__u32 i, n = 0;

	for (i = 0; i < d->state.nvips; i++)
		n += !xlb_config_find_vip(cfg, &d->state.vips[i].cfg.key);
	return n;
}

static void vips_removed_err(const char *path, __u32 gone, __u32 running, char *err,
			     size_t errlen)
{
	if (gone == running)
		snprintf(err, errlen, "%s would remove %s%u running VIP%s; nothing changed "
			 "(xlbctl reload force applies it)", path,
			 running == 1 ? "the " : "all ", running, running == 1 ? "" : "s");
	else
		snprintf(err, errlen, "%s would remove %u of the %u running VIPs, more than "
			 "half; nothing changed (xlbctl reload force applies it)",
			 path, gone, running);
}

/*
 * Refuse, with the reason in err: unforced, a file that would remove more
 * than half of the running VIPs, or the only one (an empty or truncated
 * file); then keys a reload cannot apply (never forced: a restart does).
 */
static int reload_guard(const struct xlbd *d, const struct xlb_config *cfg, int force,
			char *err, size_t errlen)
{
	__u32 gone = vips_removed(d, cfg), running = d->state.nvips;
	char keys[256];
	int n;

	/* first: told only of the keys, one might restart with an empty file */
	if (!force && gone * 2 > running) {
		vips_removed_err(d->config_path, gone, running, err, errlen);
		return -EINVAL;
	}
	n = restart_keys(d, cfg, keys, sizeof(keys));
	if (n) {
		snprintf(err, errlen, "%s: %s change%s only at a restart; nothing changed",
			 d->config_path, keys, n == 1 ? "s" : "");
		return -EINVAL;
	}
	return 0;
}

/* reload dry-run: what the file would change, field by field; nothing is applied */
static struct json_object *reload_diff(struct xlbd *d, struct xlb_config *cfg)
{
	struct json_object *reply, *diff = json_object_new_array();
	int ret = xlb_config_diff(&d->state, &d->file.encap, cfg, diff);

	xlb_config_free(cfg);
	if (ret) {
		json_object_put(diff);
		return err_from(ret, "reload dry-run");
	}
	reply = xlb_proto_ok();
	json_object_object_add(reply, "dry_run", json_object_new_boolean(1));
	json_object_object_add(reply, "diff", diff);
	return reply;
}

struct json_object *do_reload(struct xlbd *d, int force, int dry_run)
{
	struct json_object *reply, *added, *changed, *removed;
	struct xlb_config cfg = {};
	char err[XLB_ERR_MAX];
	int ret, unsaved;

	ret = xlb_config_load(d->config_path, &cfg, err, sizeof(err));
	if (!ret && (ret = reload_guard(d, &cfg, force, err, sizeof(err))))
		xlb_config_free(&cfg);
	/* a dry run only asks whether the lock could be had: no lock kept, nothing removed */
	if (!ret && (ret = via_config_check(d, &cfg, d->config_path, dry_run, err, sizeof(err))))
		xlb_config_free(&cfg);
	if (ret) {
		/* a dry run that would be refused says so, and counts as no error of the daemon's */
		if (dry_run)
			return xlb_proto_error("%s", err);
		d->config_errors++;
		logmsg(LOG_ERR, "reload refused: %s", err);
		return xlb_proto_error("%s", err);
	}
	if (dry_run)
		return reload_diff(d, &cfg);
	/* sources first: VIPs that encapsulate may be added below */
	ret = xlb_dp_encap_set(&d->at.dp, &cfg.encap);
	if (ret) {
		xlb_config_free(&cfg);
		return err_from(ret, "cannot write encap_config");
	}
	d->file.encap = cfg.encap;
	added = json_object_new_array();
	changed = json_object_new_array();
	removed = json_object_new_array();
	ret = apply_config(d, &cfg, added, changed, removed);
	/* a partial apply must not be mistaken, at the next start, for the file applied */
	if (!ret)
		xlb_state_set_digest(&d->state, &cfg);
	/*
	 * Not rolled back when it cannot be saved: undoing it would restart the
	 * health checks of whatever it removed. It stays applied, and the
	 * reply says so; at the next start the file, changed since the saved
	 * state, wins again, unless it is the file the saved state came from.
	 */
	unsaved = save_state(d, err, sizeof(err));
	d->reloads++;
	logmsg(LOG_INFO, "reloaded %s: %zu added, %zu changed, %zu removed", d->config_path,
	       json_object_array_length(added), json_object_array_length(changed),
	       json_object_array_length(removed));
	xlb_config_free(&cfg);
	if (ret) {
		json_object_put(added);
		json_object_put(changed);
		json_object_put(removed);
		return err_from(ret, "reload applied partly");
	}
	if (unsaved) {
		json_object_put(added);
		json_object_put(changed);
		json_object_put(removed);
		return xlb_proto_error("reload applied, but %s", err);
	}
	reply = xlb_proto_ok();
	json_object_object_add(reply, "added", added);
	json_object_object_add(reply, "changed", changed);
	json_object_object_add(reply, "removed", removed);
	return reply;
}

struct json_object *cmd_reload(struct xlbd *d, struct json_object *req)
{
	static const char *const keys[] = { "force", "dry_run", NULL };
	struct json_object *force = NULL, *dry = NULL;
	char err[256];

	if (xlb_proto_check_keys(req, keys, err, sizeof(err)))
		ERR_REPLY("%s", err);
	if (json_object_object_get_ex(req, "force", &force) &&
	    !json_object_is_type(force, json_type_boolean))
		ERR_REPLY("force: not a boolean");
	if (json_object_object_get_ex(req, "dry_run", &dry) &&
	    !json_object_is_type(dry, json_type_boolean))
		ERR_REPLY("dry_run: not a boolean");
	return do_reload(d, force && json_object_get_boolean(force),
			 dry && json_object_get_boolean(dry));
}

/* A file's last modification, UTC, as state.json's applied_at is written. */
static const char *file_mtime(const char *path, char *buf, size_t len)
{
	struct stat st;
	struct tm tm;

	if (stat(path, &st) || !gmtime_r(&st.st_mtime, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
	return buf;
}

/*
 * What wins at start when both the config file and the saved runtime state
 * exist: the saved state, unless the config file changed since it was last
 * applied, in which case the file wins and the old state is kept aside.
 */
int choose_desired(struct xlbd *d, struct xlb_config *desired, int *from_state)
{
	char err[XLB_ERR_MAX], digest[64], applied[24], mtime[24];
	int ret;

	*from_state = 0;
	ret = xlb_state_load(d->state_dir, desired, digest, err, sizeof(err));
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		logmsg(LOG_ERR, "%s", err);
		return ret;
	}
	/* the host's, not the file's: kept even when the file wins */
	d->state.withdrawn = desired->host_withdrawn;
	snprintf(applied, sizeof(applied), "%s", desired->applied_at[0] ? desired->applied_at : "?");
	if (xlb_state_digest_matches(digest, desired->bytes_digest, &d->file)) {
		*from_state = 1;
		/* the content's digest from now on, also where the state held the bytes' */
		snprintf(d->state.digest, sizeof(d->state.digest), "%s", d->file.digest);
		snprintf(d->state.bytes_digest, sizeof(d->state.bytes_digest), "%s",
			 d->file.bytes_digest);
		memcpy(d->state.applied_at, desired->applied_at, sizeof(d->state.applied_at));
		logmsg(LOG_INFO, "%s: same content as when applied at %s (edits to comments or "
		       "layout are none): the saved runtime state stays", d->config_path, applied);
		return 0;
	}
	xlb_config_free(desired);
	ret = xlb_state_set_aside(d->state_dir, err, sizeof(err));
	if (ret)
		logmsg(LOG_WARN, "%s", err);
	logmsg(LOG_WARN, "%s changed since it was applied at %s (seen now, at start; the file's "
	       "last write %s): it wins over the saved runtime state, which is kept in "
	       "%s/state.json.prev", d->config_path, applied, file_mtime(d->config_path, mtime,
	       sizeof(mtime)), d->state_dir);
	return 0;
}
