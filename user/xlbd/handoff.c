// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow hand-off (handoff: in the config). When a VIP's table changes,
 * the flows of this host's connection table that stay on their backend
 * only through it (the new table's slot names another) go to every peer
 * over UDP, by VIP and backend address. A peer inserts those it has no
 * entry for: should this host die, the router's next choice keeps them.
 * Bounded: a walk reads at most WALK_MAX entries and sends at most
 * SEND_MAX flows; a receiver takes at most RECV_PER_S datagrams a second.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "xlbd.h"
#include "plural.h"
#include "handoff.h"
#include "../../bpf/hash.h"

#define WALK_MAX 262144
#define SEND_MAX 16384
#define RECV_PER_S 2000
/*
 * An entry of ours that saw a packet this recently is a flow we carry: a
 * peer's word does not change it. An older one is most likely an earlier
 * flow of the same 5-tuple (a client port used again): the peer's wins.
 */
#define ACTIVE_NS (2ull * 1000000000)

struct xlb_handoff {
	struct xlb_evsrc src;
	struct xlb_handoff_cfg cfg;
	__u64 seq;                       /* ours: starts at the wall clock, only grows */
	__u64 peer_seq[XLB_HANDOFF_PEERS_MAX];
	__u64 digest[XLB_MAX_VIPS];      /* of each VIP's table at the last look */
	__u64 second, recv_this_second;
	/* counters */
	__u64 walks, walk_us, sent_flows, sent_datagrams, send_errors;
	__u64 recv_flows, inserted, present, kept, unknown, refused_tag, refused_replay,
		refused_stranger, refused_rate, refused_bad;
};

static __u64 mono_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static void peer_addr(const __be32 a[4], __u16 port, struct sockaddr_in6 *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	sa->sin6_port = htons(port);
	memcpy(&sa->sin6_addr, a, 16);
}

static void send_batch(struct xlb_handoff *h, const struct xlb_handoff_flow *f, __u32 n)
{
	__u8 buf[XLB_HANDOFF_MAX_LEN];
	struct sockaddr_in6 sa;
	__u32 i;
	int len;

	len = xlb_handoff_encode(h->cfg.key, ++h->seq, (__u64)time(NULL), f, n, buf, sizeof(buf));
	if (len < 0)
		return;
	for (i = 0; i < h->cfg.npeers; i++) {
		peer_addr(h->cfg.peers[i], h->cfg.port, &sa);
		if (sendto(h->src.fd, buf, (size_t)len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			h->send_errors++;
		else
			h->sent_datagrams++;
	}
	h->sent_flows += n;
}

static int flow_of_vip(const struct flow_key *k, const struct vip_key *v)
{
	return !memcmp(k->daddr, v->addr, 16) && k->proto == v->proto &&
	       (!v->port || k->dport == v->port);
}

/* The backend a flow's entry holds, if it still takes flows; NULL otherwise. */
static const struct xlb_lb_backend *entry_backend(const struct xlb_lb *lb,
						  const struct xlb_lb_vip *vip,
						  const struct flow_state *e)
{
	__u32 i;

	for (i = 0; i < vip->nbackends; i++) {
		const struct xlb_lb_backend *b = &vip->backends[i];

		if (b->id == e->backend_id)
			return lb->backend_gen[b->id] == e->backend_gen &&
			       (b->spec.state == XLB_BE_UP || b->spec.state == XLB_BE_DRAIN) ? b : NULL;
	}
	return NULL;
}

static __u32 slot_of(const struct xlb_lb_vip *vip, const struct flow_key *k)
{
	__u32 hash = vip->sched == XLB_SCHED_SOURCE_HASH ?
			     xlb_hash_addr(k->saddr) :
			     xlb_hash_flow(k->saddr, k->daddr, k->sport, k->dport, k->proto);

	return hash % XLB_MAGLEV_SIZE;
}

struct walk_ctx {
	struct xlbd *d;
	struct xlb_handoff *h;
	const struct xlb_lb_vip *vip;
	struct xlb_handoff_flow batch[XLB_HANDOFF_MAX];
	__u32 sent, n;
	__u32 tick, tcp_ticks, udp_ticks;
};

static void walk_one(void *arg, const struct flow_key *key, const struct flow_state *e)
{
	struct walk_ctx *w = arg;
	const struct xlb_lb_backend *b;
	struct xlb_handoff_flow *f;

	/* a closing or idle flow is not one a peer should carry on */
	if (e->state != XLB_FLOW_ESTABLISHED ||
	    !XLB_TICK_ALIVE(e->seen, w->tick,
			    key->proto == IPPROTO_TCP ? w->tcp_ticks : w->udp_ticks))
		return;
	if (w->sent >= SEND_MAX || !flow_of_vip(key, &w->vip->key) ||
	    w->vip->table.held[slot_of(w->vip, key)] == e->backend_id ||
	    !(b = entry_backend(w->d->lb, w->vip, e)))
		return;
	f = &w->batch[w->n];
	memset(f, 0, sizeof(*f));
	memcpy(f->saddr, key->saddr, 16);
	memcpy(f->daddr, key->daddr, 16);
	memcpy(f->backend, b->spec.addr, 16);
	f->sport = key->sport;
	f->dport = key->dport;
	f->vip_port = w->vip->key.port;
	f->proto = key->proto;
	w->sent++;
	if (++w->n == XLB_HANDOFF_MAX) {
		send_batch(w->h, w->batch, w->n);
		w->n = 0;
	}
}

/* The flows of vip whose slot in its new table names another backend, to the peers. */
static void walk(struct xlbd *d, struct xlb_handoff *h, const struct xlb_lb_vip *vip)
{
	static struct walk_ctx w;
	struct xlb_flow_walk cursor = {};
	__u32 seen = 0;
	__u64 t0 = mono_ns(CLOCK_MONOTONIC);
	int got;

	memset(&w, 0, sizeof(w));
	w.d = d;
	w.h = h;
	w.vip = vip;
	w.tick = xlb_ticks_now();
	w.tcp_ticks = XLB_TIMEOUT_TICKS(d->file.tcp_idle_ms * 1000000ULL);
	w.udp_ticks = XLB_TIMEOUT_TICKS(d->file.udp_idle_ms * 1000000ULL);
	while (seen < WALK_MAX && w.sent < SEND_MAX &&
	       (got = xlb_dp_flow_walk(&d->at.dp, &cursor, WALK_MAX - seen, walk_one, &w)) > 0)
		seen += (__u32)got;
	if (w.n)
		send_batch(h, w.batch, w.n);
	h->walks++;
	h->walk_us = (mono_ns(CLOCK_MONOTONIC) - t0) / 1000;
	logmsg(LOG_INFO, "handoff: table of VIP %u changed: %u of %u flow%s sent to %u peer%s in %llu us",
	       vip->id, w.sent, seen, xlb_s(seen), h->cfg.npeers, xlb_s(h->cfg.npeers), (unsigned long long)h->walk_us);
}

/* After each loop turn: a VIP whose table changed has its flows walked. */
void handoff_sync(struct xlbd *d)
{
	struct xlb_handoff *h = d->handoff;
	__u32 i;

	if (!h)
		return;
	for (i = 0; i < XLB_MAX_VIPS; i++) {
		const struct xlb_lb_vip *vip = &d->lb->vips[i];
		__u64 was = h->digest[i];

		/*
		 * A stateful scheduler's flows do not follow its table, and a peer
		 * would pick them anew anyway: not carried (README, "Schedulers").
		 */
		if (!vip->in_use || !vip->table.held || vip->dirty || vip->partial ||
		    XLB_SCHED_STATEFUL(vip->sched))
			continue;
		h->digest[i] = vip->table_digest;
		/* the first table seen has no earlier one to differ from */
		if (was && was != vip->table_digest)
			walk(d, h, vip);
	}
}

static struct xlb_lb_vip *vip_of(struct xlb_lb *lb, const struct xlb_handoff_flow *f)
{
	__u32 i;

	for (i = 0; i < XLB_MAX_VIPS; i++) {
		struct xlb_lb_vip *v = &lb->vips[i];

		if (v->in_use && !memcmp(v->key.addr, f->daddr, 16) && v->key.port == f->vip_port &&
		    v->key.proto == f->proto)
			return v;
	}
	return NULL;
}

static void insert(struct xlbd *d, struct xlb_handoff *h, const struct xlb_handoff_flow *f)
{
	struct xlb_lb_vip *vip = vip_of(d->lb, f);
	struct xlb_lb_backend *b = vip ? xlb_lb_backend_find(vip, f->backend) : NULL;
	struct flow_key key = {};
	struct flow_state e = {}, have;
	enum xlb_flow_table table;

	if (!b || !(b->spec.state == XLB_BE_UP || b->spec.state == XLB_BE_DRAIN)) {
		h->unknown++;
		return;
	}
	memcpy(key.saddr, f->saddr, 16);
	memcpy(key.daddr, f->daddr, 16);
	key.sport = f->sport;
	key.dport = f->dport;
	key.proto = f->proto;
	e.backend_id = b->id;
	e.backend_gen = d->lb->backend_gen[b->id];
	e.seen = xlb_ticks_now(); /* the data plane's clock */
	if (!xlb_dp_flow_get(&d->at.dp, &key, &have, &table) && table == XLB_FLOW_TABLE_MAIN) {
		if (have.backend_id == e.backend_id && have.backend_gen == e.backend_gen) {
			h->present++;
			return;
		}
		if ((__s32)(e.seen - have.seen) < (__s32)XLB_TIMEOUT_TICKS(ACTIVE_NS)) {
			h->kept++;
			return;
		}
	}
	if (!xlb_dp_flow_set(&d->at.dp, &key, &e))
		h->inserted++;
}

static int peer_index(const struct xlb_handoff *h, const struct sockaddr_in6 *sa)
{
	__u32 i;

	for (i = 0; i < h->cfg.npeers; i++)
		if (!memcmp(h->cfg.peers[i], &sa->sin6_addr, 16))
			return (int)i;
	return -1;
}

static void receive_one(struct xlbd *d, struct xlb_handoff *h, const __u8 *buf, size_t len,
			const struct sockaddr_in6 *sa)
{
	struct xlb_handoff_flow flows[XLB_HANDOFF_MAX];
	__u64 now = (__u64)time(NULL);
	int peer = peer_index(h, sa), n, i;

	if (peer < 0) {
		h->refused_stranger++;
		return;
	}
	if (now != h->second) {
		h->second = now;
		h->recv_this_second = 0;
	}
	if (++h->recv_this_second > RECV_PER_S) {
		h->refused_rate++;
		return;
	}
	n = xlb_handoff_decode(h->cfg.key, buf, len, now, &h->peer_seq[peer], flows);
	if (n == -EPERM)
		h->refused_tag++;
	else if (n == -ESTALE)
		h->refused_replay++;
	else if (n < 0)
		h->refused_bad++;
	for (i = 0; i < n; i++)
		insert(d, h, &flows[i]);
	if (n > 0)
		h->recv_flows += (__u64)n;
}

static void on_datagram(struct xlb_evsrc *src, uint32_t events)
{
	struct xlbd *d = src->ctx;
	__u8 buf[XLB_HANDOFF_MAX_LEN + 1];
	struct sockaddr_in6 sa;
	socklen_t salen;
	ssize_t len;
	int i;

	(void)events;
	for (i = 0; i < 64; i++) { /* bounded per turn: the loop serves the rest too */
		salen = sizeof(sa);
		len = recvfrom(src->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sa, &salen);
		if (len < 0)
			return;
		receive_one(d, d->handoff, buf, (size_t)len, &sa);
	}
}

int handoff_start(struct xlbd *d)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct xlb_handoff *h;
	int fd, off = 0, err;

	if (!d->file.handoff.port)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cfg = d->file.handoff;
	h->seq = mono_ns(CLOCK_REALTIME);
	sa.sin6_port = htons(h->cfg.port);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    xlb_ev_add(d->epfd, &h->src, fd, EPOLLIN, on_datagram, d)) {
		err = -errno;
		close(fd);
		goto fail;
	}
	d->handoff = h;
	logmsg(LOG_INFO, "handoff: listening on port %u, %u peer%s", h->cfg.port, h->cfg.npeers,
	       xlb_s(h->cfg.npeers));
	return 0;
fail:
	logmsg(LOG_ERR, "handoff: cannot listen on port %u: %s", h->cfg.port, strerror(-err));
	free(h);
	return err;
}

void handoff_stop(struct xlbd *d)
{
	if (!d->handoff)
		return;
	close(d->handoff->src.fd);
	free(d->handoff);
	d->handoff = NULL;
}

void handoff_show(struct xlbd *d, struct json_object *o)
{
	struct xlb_handoff *h = d->handoff;
	struct json_object *j;

	if (!h)
		return;
	j = json_object_new_object();
	add_u64(j, "peers", h->cfg.npeers);
	add_u64(j, "walks", h->walks);
	add_u64(j, "last_walk_us", h->walk_us);
	add_u64(j, "sent_flows", h->sent_flows);
	add_u64(j, "sent_datagrams", h->sent_datagrams);
	add_u64(j, "send_errors", h->send_errors);
	add_u64(j, "received_flows", h->recv_flows);
	add_u64(j, "inserted", h->inserted);
	add_u64(j, "present", h->present);
	add_u64(j, "kept", h->kept);
	add_u64(j, "unknown", h->unknown);
	add_u64(j, "refused_tag", h->refused_tag);
	add_u64(j, "refused_replay", h->refused_replay);
	add_u64(j, "refused_stranger", h->refused_stranger);
	add_u64(j, "refused_rate", h->refused_rate);
	add_u64(j, "refused_bad", h->refused_bad);
	json_object_object_add(o, "handoff", j);
}
