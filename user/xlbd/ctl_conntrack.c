// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * conntrack-list and conntrack-flush: the connection tables (flows4,
 * flows6, then the probation slots) read a slice per request. A request
 * does at most SLICE_ENTRIES entries or about SLICE_US of work, and its
 * reply carries a cursor ("table", "pos") when the walk is not done:
 * xlbctl asks again with it, and the loop serves everyone else between
 * slices. A hash table's cursor is a bucket, which entries never leave,
 * so an entry present for the whole walk is met exactly once.
 *
 * An entry is live when the data plane would use it (bpf/flows.h): within
 * its timeout, naming its backend's id and generation, that backend
 * keeping flows. Others (expired, their backend gone, down or changed)
 * are "stale": listed as a count only, flushed with the filter they meet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "syntax.h"
#include "xlbd.h"
#include "../../bpf/hash.h"

#define SLICE_ENTRIES 65536 /* per request, whole batches */
#define SLICE_US 10000
#define BATCH 4096
#define LIST_DEFAULT 100
#define LIST_MAX 10000

enum { T_FLOWS4, T_FLOWS6, T_PROBATION, T_DONE };

/* What a request asks: the filter as backend ids, and the walk's position. */
struct ct_req {
	struct xlbd *d;
	int has_vip, has_backend, flush;
	struct vip_key vip;
	__u32 limit, table, pos;
	__u32 tick, tcp_ticks, udp_ticks, closing_ticks;
	/* reply */
	struct json_object *rows;
	__u64 matched, stale, scanned, deleted, shown;
};

/* Per backend id, rebuilt each request: its VIP and backend if it keeps flows; wanted by the filter. */
static struct {
	const struct xlb_lb_vip *vip;
	const struct xlb_lb_backend *be;
	__u8 wanted;
} ids[XLB_MAX_BACKENDS];

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000ull + (__u64)ts.tv_nsec / 1000;
}

/* ids[] from the VIPs; -ENOENT (err set) for a VIP or backend the filter names that is not there. */
static int build_ids(struct ct_req *r, const __be32 *backend, char *err, size_t errlen)
{
	struct xlb_lb *lb = r->d->lb;
	int vip_found = 0, be_found = 0;
	__u32 v, j;

	memset(ids, 0, sizeof(ids));
	for (v = 0; v < XLB_MAX_VIPS; v++) {
		const struct xlb_lb_vip *lv = &lb->vips[v];
		int vip_ok;

		if (!lv->in_use)
			continue;
		vip_ok = !r->has_vip || !memcmp(&lv->key, &r->vip, sizeof(r->vip));
		vip_found |= r->has_vip && vip_ok;
		for (j = 0; j < lv->nbackends; j++) {
			const struct xlb_lb_backend *b = &lv->backends[j];
			int be_ok = !backend || !memcmp(b->spec.addr, backend, 16);

			if (b->id >= XLB_MAX_BACKENDS)
				continue;
			ids[b->id].vip = lv;
			ids[b->id].be = b;
			ids[b->id].wanted = vip_ok && be_ok;
			be_found |= vip_ok && backend && be_ok;
		}
	}
	if (r->has_vip && !vip_found) {
		snprintf(err, errlen, "no such VIP");
		return -ENOENT;
	}
	if (backend && !be_found) {
		char a[XLB_ADDR_STR_MAX];

		xlb_format_addr(backend, a, sizeof(a));
		if (r->has_vip)
			snprintf(err, errlen, "no such backend %s in that VIP", a);
		else
			snprintf(err, errlen, "no such backend %s in any VIP", a);
		return -ENOENT;
	}
	return 0;
}

static void format_endpoint(const __be32 addr[4], __be16 port, char *buf, size_t len)
{
	char a[XLB_ADDR_STR_MAX];

	xlb_format_addr(addr, a, sizeof(a));
	snprintf(buf, len, xlb_addr_is_v4(addr) ? "%s:%u" : "[%s]:%u", a, ntohs(port));
}

static void add_row(struct ct_req *r, const struct flow_key *k, const struct xlb_lb_backend *b,
		    const char *state, __u32 seen)
{
	struct json_object *o = json_object_new_object();
	struct vip_key dst = { .port = k->dport, .proto = k->proto };
	char buf[XLB_VIP_STR_MAX];
	__u32 idle = (__s32)(r->tick - seen) > 0 ? r->tick - seen : 0;

	format_endpoint(k->saddr, k->sport, buf, sizeof(buf));
	json_object_object_add(o, "client", json_object_new_string(buf));
	memcpy(dst.addr, k->daddr, sizeof(dst.addr));
	xlb_format_vip(&dst, buf, sizeof(buf));
	json_object_object_add(o, "vip", json_object_new_string(buf));
	xlb_format_addr(b->spec.addr, buf, sizeof(buf));
	json_object_object_add(o, "backend", json_object_new_string(buf));
	json_object_object_add(o, "state", json_object_new_string(state));
	add_u64(o, "idle_ms", ((__u64)idle << XLB_TICK_SHIFT) / 1000000);
	json_object_array_add(r->rows, o);
	r->shown++;
}

/* The destination is the VIP's (port 0: any port), for entries no backend vouches for. */
static int tuple_in_vip(const struct ct_req *r, const struct flow_key *k)
{
	return !memcmp(k->daddr, r->vip.addr, sizeof(k->daddr)) && k->proto == r->vip.proto &&
	       (!r->vip.port || k->dport == r->vip.port);
}

/*
 * One entry: does the filter take it, is it live; a row for list. Returns
 * 1 when it matches (flush deletes it); *counted: flows.c counts it live.
 */
static int judge(struct ct_req *r, const struct flow_key *k, __u32 id, __u32 gen, __u32 seen,
		 int state, int *counted)
{
	const struct xlb_lb *lb = r->d->lb;
	__u32 timeout = state == XLB_FLOW_CLOSING ? r->closing_ticks :
			k->proto == IPPROTO_TCP ? r->tcp_ticks : r->udp_ticks;
	int alive = XLB_TICK_ALIVE(seen, r->tick, timeout);
	int ours = id < XLB_MAX_BACKENDS && ids[id].be && lb->backend_used[id] &&
		   lb->backend_gen[id] == gen;
	int live = alive && ours && (ids[id].be->written.flags & XLB_BACKEND_F_KEEP_FLOWS);

	*counted = alive && ours && state == XLB_FLOW_ESTABLISHED;
	r->scanned++;
	if (!live) {
		if (r->has_backend || (r->has_vip && !tuple_in_vip(r, k)))
			return 0;
		r->stale++;
		return 1;
	}
	if (!ids[id].wanted)
		return 0;
	r->matched++;
	if (!r->flush && r->shown < r->limit)
		add_row(r, k, ids[id].be,
			state == XLB_FLOW_CLOSING ? "closing" : state < 0 ? "probation" : "established",
			seen);
	return 1;
}

/* Delete n keys of a hash table; one gone meanwhile (LRU, expiry) is skipped. */
static __u32 delete_keys(int fd, const __u8 *keys, size_t ksize, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = 0, count;

	while (done < n) {
		count = n - done;
		if (!bpf_map_delete_batch(fd, keys + done * ksize, &count, &opts)) {
			done += count;
			break;
		}
		done += count + 1; /* count went; the next one failed (ENOENT): skip it */
	}
	return done;
}

/* One batch of a main table: 1 more to come, 0 this table is done, or -errno. */
static int main_batch(struct ct_req *r, __u32 *visited)
{
	static union {
		struct flow4_key k4[BATCH];
		struct flow_key k6[BATCH];
	} keys;
	static union {
		struct flow4_key k4[BATCH];
		struct flow_key k6[BATCH];
	} del;
	static __u32 del_ids[BATCH];
	static struct flow_state vals[BATCH];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int v6 = r->table == T_FLOWS6, fd = v6 ? r->d->at.dp.flows6_fd : r->d->at.dp.flows4_fd;
	size_t ksize = v6 ? sizeof(struct flow_key) : sizeof(struct flow4_key);
	__u32 n = BATCH, next = 0, i, ndel = 0;
	struct flow_key key;
	int ret, counted;

	ret = bpf_map_lookup_batch(fd, r->pos ? &r->pos : NULL, &next, v6 ? (void *)keys.k6 :
				   (void *)keys.k4, vals, &n, &opts);
	if (ret && errno != ENOENT)
		return -errno;
	for (i = 0; i < n; i++) {
		if (v6)
			key = keys.k6[i];
		else
			xlb_flow_key_of4(&keys.k4[i], &key);
		if (!judge(r, &key, vals[i].backend_id, vals[i].backend_gen, vals[i].seen,
			   vals[i].state, &counted) || !r->flush)
			continue;
		if (v6)
			del.k6[ndel] = keys.k6[i];
		else
			del.k4[ndel] = keys.k4[i];
		del_ids[ndel++] = counted ? vals[i].backend_id : XLB_MAX_BACKENDS;
	}
	if (ndel) {
		__u32 gone = delete_keys(fd, v6 ? (void *)del.k6 : (void *)del.k4, ksize, ndel);

		r->deleted += gone;
		/* one the LRU evicted first is gone as well: not counted by the data plane either */
		for (i = 0; i < ndel; i++)
			if (del_ids[i] < XLB_MAX_BACKENDS)
				flows_flushed(r->d, del_ids[i], 1);
	}
	*visited += n;
	if (ret)
		return 0;
	r->pos = next;
	return 1;
}

/* One batch of the probation slots: as main_batch. Flushed slots are emptied (check 0). */
static int probation_batch(struct ct_req *r, __u32 *visited)
{
	static __u32 slot_ids[BATCH];
	static struct flow_probation slots[BATCH];
	static const struct flow_probation empty;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = r->d->at.dp.probation_fd, ret, counted;
	__u32 n = BATCH, next = 0, i, hash;

	ret = bpf_map_lookup_batch(fd, r->pos ? &r->pos : NULL, &next, slot_ids, slots, &n, &opts);
	if (ret && errno != ENOENT)
		return -errno;
	for (i = 0; i < n; i++) {
		const struct flow_probation *p = &slots[i];

		if (!p->check)
			continue; /* empty, or promoted */
		hash = xlb_hash_entropy(p->key.saddr, p->key.daddr, p->key.sport, p->key.dport,
					p->key.proto);
		if (p->check != xlb_probation_check(hash, p->backend_id, p->backend_gen))
			continue; /* being written */
		if (judge(r, &p->key, p->backend_id, p->backend_gen, p->seen, -1, &counted) &&
		    r->flush && !bpf_map_update_elem(fd, &slot_ids[i], &empty, BPF_ANY))
			r->deleted++;
	}
	*visited += n;
	if (ret || !n)
		return 0;
	r->pos = next;
	return 1;
}

/* Batches from the cursor until the slice's bound; r->table T_DONE once every table is read. */
static int walk_slice(struct ct_req *r)
{
	__u64 t0 = now_us();
	__u32 visited = 0;
	int ret;

	while (r->table < T_DONE && visited < SLICE_ENTRIES && now_us() - t0 < SLICE_US) {
		ret = r->table == T_PROBATION ? probation_batch(r, &visited) : main_batch(r, &visited);
		if (ret < 0)
			return ret;
		if (!ret) {
			r->table++;
			r->pos = 0;
		}
	}
	return 0;
}

/* One line as a flush begins (its first slice), the slices' counts at debug level. */
static void log_flush(const struct ct_req *r, int start, const __be32 *backend)
{
	char vip[XLB_VIP_STR_MAX] = "every VIP", be[XLB_ADDR_STR_MAX] = "every backend";

	if (r->has_vip)
		xlb_format_vip(&r->vip, vip, sizeof(vip));
	if (backend)
		xlb_format_addr(backend, be, sizeof(be));
	if (start)
		logmsg(LOG_INFO, "conntrack flush of %s, %s: %llu deleted in its first slice%s", vip,
		       be, (unsigned long long)r->deleted, r->table < T_DONE ? ", more to come" : "");
	else
		logmsg(LOG_DEBUG, "conntrack flush of %s, %s: %llu deleted in a slice", vip, be,
		       (unsigned long long)r->deleted);
}

static struct json_object *run(struct xlbd *d, struct json_object *req, int flush)
{
	static const char *const list_keys[] = { "vip", "address", "limit", "table", "pos", NULL };
	static const char *const flush_keys[] = { "vip", "address", "table", "pos", NULL };
	struct ct_req r = { .d = d, .flush = flush, .limit = LIST_DEFAULT };
	struct json_object *reply;
	__be32 backend[4];
	const char *s;
	char err[256];
	__u64 t0 = now_us();
	int ret, start;

	if (xlb_proto_check_keys(req, flush ? flush_keys : list_keys, err, sizeof(err)) ||
	    (r.has_vip = get_vip(req, "vip", 0, &r.vip, err, sizeof(err))) < 0 ||
	    (r.has_backend = xlb_proto_get_opt_str(req, "address", &s, err, sizeof(err))) < 0 ||
	    (r.has_backend && get_addr(req, backend, err, sizeof(err))) ||
	    (!flush && xlb_proto_get_opt_u32(req, "limit", 0, LIST_MAX, &r.limit, err,
					     sizeof(err)) < 0) ||
	    xlb_proto_get_opt_u32(req, "table", 0, T_DONE, &r.table, err, sizeof(err)) < 0 ||
	    xlb_proto_get_opt_u32(req, "pos", 0, UINT32_MAX, &r.pos, err, sizeof(err)) < 0)
		ERR_REPLY("%s", err);
	if (build_ids(&r, r.has_backend ? backend : NULL, err, sizeof(err)))
		ERR_REPLY("%s", err);
	start = !r.table && !r.pos;
	r.tick = xlb_ticks_now();
	r.tcp_ticks = XLB_TIMEOUT_TICKS(d->file.tcp_idle_ms * 1000000ull);
	r.udp_ticks = XLB_TIMEOUT_TICKS(d->file.udp_idle_ms * 1000000ull);
	r.closing_ticks = XLB_TIMEOUT_TICKS(d->file.tcp_closing_ms * 1000000ull);
	r.rows = json_object_new_array();
	ret = walk_slice(&r);
	if (r.deleted)
		flows_walk_again(d);
	if (ret < 0) {
		json_object_put(r.rows);
		return err_from(ret, "cannot read the connection tables");
	}
	reply = xlb_proto_ok();
	if (flush) {
		json_object_put(r.rows);
		add_u64(reply, "deleted", r.deleted);
		log_flush(&r, start, r.has_backend ? backend : NULL);
	} else {
		json_object_object_add(reply, "entries", r.rows);
	}
	add_u64(reply, "matched", r.matched);
	add_u64(reply, "stale", r.stale);
	add_u64(reply, "scanned", r.scanned);
	add_u64(reply, "busy_us", now_us() - t0);
	if (r.table < T_DONE) { /* not done: ask again from here */
		add_u64(reply, "table", r.table);
		add_u64(reply, "pos", r.pos);
	}
	if (flush) { /* the next slice of this flush is not audited again (ctl.c) */
		d->flush_cursor_set = r.table < T_DONE;
		d->flush_cursor_table = r.table;
		d->flush_cursor_pos = r.pos;
	}
	return reply;
}

struct json_object *cmd_conntrack_list(struct xlbd *d, struct json_object *req)
{
	return run(d, req, 0);
}

struct json_object *cmd_conntrack_flush(struct xlbd *d, struct json_object *req)
{
	return run(d, req, 1);
}
