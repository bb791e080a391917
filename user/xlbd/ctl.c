// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The control socket: connections, the command table, and what the
 * command handlers (ctl_*.c) share.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include "config_write.h"
#include "syntax.h"
#include "xlbd.h"

/* ---- what the command handlers share: errors and request fields ---- */

struct json_object *err_from(int ret, const char *what)
{
	char buf[128];

	libbpf_strerror(ret, buf, sizeof(buf));
	return xlb_proto_error("%s: %s", what, buf);
}

int get_vip(struct json_object *req, const char *name, int required,
	    struct vip_key *key, char *err, size_t errlen)
{
	const char *s;
	char why[128];
	int ret = required ? xlb_proto_get_str(req, name, &s, err, errlen) :
			     xlb_proto_get_opt_str(req, name, &s, err, errlen);

	if (ret <= 0 && !(required && ret == 0))
		return ret;
	if (xlb_parse_vip(s, key, why, sizeof(why))) {
		snprintf(err, errlen, "invalid VIP '%s': %s", s, why);
		return -EINVAL;
	}
	return 1;
}

int get_addr(struct json_object *req, __be32 addr[4], char *err, size_t errlen)
{
	const char *s;
	char why[128];
	int ret = xlb_proto_get_str(req, "address", &s, err, errlen);

	if (ret)
		return ret;
	if (xlb_parse_addr(s, addr, why, sizeof(why))) {
		snprintf(err, errlen, "invalid address '%s': %s", s, why);
		return -EINVAL;
	}
	return 0;
}

int get_duration(struct json_object *req, const char *name, __u32 *ms, char *err,
		 size_t errlen)
{
	const char *s;
	char why[128];
	__u64 v, max;
	int ret = xlb_proto_get_opt_str(req, name, &s, err, errlen);

	if (ret <= 0)
		return ret;
	if (xlb_parse_duration_ms(s, &v, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", name, why);
		return -EINVAL;
	}
	/* persist may be longer than the checks' times */
	max = strcmp(name, "persist") ? XLB_CHECK_TIME_MAX_MS : XLB_PERSIST_MAX_MS;
	if (v > max) {
		xlb_format_duration_ms(max, why, sizeof(why));
		snprintf(err, errlen, "%s: at most %s", name, why);
		return -EINVAL;
	}
	*ms = v;
	return 1;
}

/*
 * The arguments of the show-like commands: an optional VIP, which must
 * exist. Returns 1 with *key set, 0 without a VIP, or -EINVAL with err.
 */
int get_vip_filter(struct xlbd *d, struct json_object *req, struct vip_key *key, char *err,
		   size_t errlen)
{
	static const char *const keys[] = { "vip", NULL };
	int has;

	if (xlb_proto_check_keys(req, keys, err, errlen) ||
	    (has = get_vip(req, "vip", 0, key, err, errlen)) < 0)
		return -EINVAL;
	if (has && !xlb_state_find_vip(&d->state, key)) {
		snprintf(err, errlen, "no such VIP");
		return -ENOENT;
	}
	return has;
}

int vip_selected(const struct xlb_state_vip *v, int has, const struct vip_key *key)
{
	return !has || !memcmp(&v->cfg.key, key, sizeof(*key));
}

static int vip_cmp(const void *pa, const void *pb)
{
	return xlb_vip_key_cmp(&(*(const struct xlb_state_vip *const *)pa)->cfg.key,
			       &(*(const struct xlb_state_vip *const *)pb)->cfg.key);
}

static int backend_cmp(const void *pa, const void *pb)
{
	return xlb_addr_cmp((*(const struct xlb_state_backend *const *)pa)->cfg.addr,
			    (*(const struct xlb_state_backend *const *)pb)->cfg.addr);
}

/* The state's VIPs sorted by VIP, for the show commands; NULL without memory (free it). */
struct xlb_state_vip **vips_sorted(struct xlbd *d)
{
	struct xlb_state_vip **o = calloc(d->state.nvips + 1, sizeof(*o));
	__u32 i;

	if (!o)
		return NULL;
	for (i = 0; i < d->state.nvips; i++)
		o[i] = &d->state.vips[i];
	qsort(o, d->state.nvips, sizeof(*o), vip_cmp);
	return o;
}

/* v's backends sorted by address; NULL without memory (free it). */
struct xlb_state_backend **backends_sorted(struct xlb_state_vip *v)
{
	struct xlb_state_backend **o = calloc(v->nbackends + 1, sizeof(*o));
	__u32 i;

	if (!o)
		return NULL;
	for (i = 0; i < v->nbackends; i++)
		o[i] = &v->backends[i];
	qsort(o, v->nbackends, sizeof(*o), backend_cmp);
	return o;
}

void add_u64(struct json_object *o, const char *k, __u64 v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

void add_traffic(struct json_object *o, const struct traffic_stats *ts)
{
	add_u64(o, "packets", ts->packets);
	add_u64(o, "bytes", ts->bytes);
	add_u64(o, "flows", ts->new_flows);
}

/* ---- the command table ---- */

static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
	{ "vip-add", cmd_vip_add },
	{ "vip-set", cmd_vip_set },
	{ "vip-del", cmd_vip_del },
	{ "vip-show", cmd_vip_show },
	{ "backend-add", cmd_backend_add },
	{ "backend-del", cmd_backend_del },
	{ "backend-set", cmd_backend_set },
	{ "backend-show", cmd_backend_show },
	{ "status", cmd_status },
	{ "stats", cmd_stats },
	{ "explain", cmd_explain },
	{ "reload", cmd_reload },
	{ "config-dump", cmd_config_dump },
	{ "lb-show", cmd_lb_show },
	{ "lb-withdraw", cmd_lb_withdraw },
	{ "lb-announce", cmd_lb_announce },
	{ "block-add", cmd_block_add },
	{ "block-del", cmd_block_del },
	{ "block-show", cmd_block_show },
	{ "conntrack-list", cmd_conntrack_list },
	{ "conntrack-flush", cmd_conntrack_flush },
};

/*
 * Every command but these changes something: it gets an audit line (who,
 * what, the outcome), so a new command has one unless it is listed here.
 * stats is read-only unless it zeroes (stats -z).
 */
static const char *const read_only[] = {
	"vip-show", "backend-show", "status", "stats", "explain", "config-dump",
	"lb-show", "block-show", "conntrack-list", NULL,
};

static int audited(const struct xlbd *d, const char *cmd, struct json_object *req)
{
	struct json_object *zero;
	size_t i;

	if (!strcmp(cmd, "stats"))
		return json_object_object_get_ex(req, "zero", &zero) &&
		       json_object_get_boolean(zero);
	/* a flush is audited once: the next slices carry the cursor its last slice handed out */
	if (!strcmp(cmd, "conntrack-flush")) {
		struct json_object *pos = NULL, *table = NULL;

		json_object_object_get_ex(req, "pos", &pos);
		json_object_object_get_ex(req, "table", &table);
		return !(d->flush_cursor_set && pos && table &&
			 json_object_get_int64(pos) == d->flush_cursor_pos &&
			 json_object_get_int64(table) == d->flush_cursor_table);
	}
	/* a dry run changes nothing */
	if (!strcmp(cmd, "reload") && json_object_object_get_ex(req, "dry_run", &zero) &&
	    json_object_get_boolean(zero))
		return 0;
	for (i = 0; read_only[i]; i++)
		if (!strcmp(cmd, read_only[i]))
			return 0;
	return 1;
}

#define AUDIT_ARGS_MAX 1024 /* of the request's text in the line */
/* json has it whole up to this, under journald's 48K LineMax once escaped */
#define AUDIT_JSON_ARGS_MAX 4096

/* "control: uid 0 pid 42: backend-add {...}", held until the outcome is known */
static void audit_begin(const struct client *c, const char *cmd, struct json_object *req)
{
	struct json_object *fields = json_object_new_object(), *args = NULL;
	const char *text = "";

	if (json_object_deep_copy(req, &args, NULL) == 0) {
		json_object_object_del(args, "cmd");
		if (json_object_object_length(args))
			text = json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	}
	if (fields) {
		json_object_object_add(fields, "uid", json_object_new_int(c->uid));
		json_object_object_add(fields, "pid", json_object_new_int(c->pid));
		json_object_object_add(fields, "cmd", json_object_new_string(cmd));
		if (strlen(text) > AUDIT_JSON_ARGS_MAX) {
			int n = AUDIT_JSON_ARGS_MAX;

			while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
				n--; /* not inside a UTF-8 character */
			json_object_object_add(fields, "args", json_object_new_string_len(text, n));
			json_object_object_add(fields, "args_truncated", json_object_new_boolean(1));
		} else {
			json_object_object_add(fields, "args", json_object_get(args));
		}
	}
	log_hold(fields, "control: uid %d pid %d: %s%s%.*s%s", c->uid, c->pid, cmd,
		 *text ? " " : "", AUDIT_ARGS_MAX, text,
		 strlen(text) > AUDIT_ARGS_MAX ? "..." : "");
	json_object_put(args);
}

static void audit_end(struct json_object *reply)
{
	struct json_object *more = json_object_new_object(), *e;
	const char *err = "unknown error";
	int ok = json_object_object_get_ex(reply, "ok", &e) && json_object_get_boolean(e);

	if (!ok && json_object_object_get_ex(reply, "error", &e) &&
	    json_object_is_type(e, json_type_string))
		err = json_object_get_string(e);
	if (more) {
		json_object_object_add(more, "outcome", json_object_new_string(ok ? "ok" : "error"));
		if (!ok)
			json_object_object_add(more, "error", json_object_new_string(err));
	}
	if (ok)
		log_release(LOG_INFO, more, "ok");
	else
		log_release(LOG_WARN, more, "error: %s", err);
}

static struct json_object *dispatch(struct xlbd *d, struct client *c, const char *line,
				    size_t len)
{
	struct json_object *req, *reply = NULL;
	__u64 mark = xlb_lb_changes(d->lb);
	const char *cmd;
	char err[256];
	size_t i;
	int audit;

	if (xlb_proto_parse_request(line, len, &req, &cmd, err, sizeof(err)))
		return xlb_proto_error("%s", err);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		reply = xlb_proto_error("unknown command '%s'", cmd);
		json_object_put(req);
		return reply;
	}
	audit = audited(d, cmd, req); /* before the command: stats takes "zero" out */
	if (audit)
		audit_begin(c, cmd, req);
	reply = commands[i].fn(d, req);
	/* the tables a command changed are in place before it is answered */
	if (xlb_lb_flush_since(d->lb, mark))
		logmsg(LOG_ERR, "cannot write a Maglev table");
	if (!reply)
		reply = xlb_proto_error("out of memory");
	if (audit)
		audit_end(reply);
	json_object_put(req);
	return reply;
}

/* ---- control socket: connections ---- */

void client_close(struct xlbd *d, struct client *c)
{
	size_t i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (d->clients[i] == c)
			d->clients[i] = NULL;
	for (i = 0; i < (size_t)d->batch_n; i++)
		if (d->batch[i].data.ptr == &c->src)
			d->batch[i].data.ptr = NULL;
	xlb_ev_del(d->epfd, &c->src);
	close(c->src.fd);
	xlb_linebuf_free(&c->in);
	free(c->out);
	free(c);
}

/* Queue a reply; a client that lets MAX_OUT pile up is dropped. */
static int client_queue(struct client *c, struct json_object *reply)
{
	char *line;
	ssize_t len = xlb_proto_to_line(reply, &line);
	char *p;

	json_object_put(reply);
	if (len < 0)
		return -ENOMEM;
	if (c->out_len - c->out_off + len > MAX_OUT) {
		free(line);
		return -ENOBUFS;
	}
	if (c->out_off) { /* drop what was sent, so the buffer holds only what is not */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	p = realloc(c->out, c->out_len + len);
	if (!p) {
		free(line);
		return -ENOMEM;
	}
	c->out = p;
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	free(line);
	return 0;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/*
 * Send what the socket takes; watch for input until the client's EOF, and
 * for output while some is pending. -ECONNRESET: done, close it.
 */
static int client_flush(struct client *c)
{
	struct xlbd *d = c->d;
	uint32_t events = c->closing ? 0 : EPOLLIN;
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->src.fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
	} else {
		events |= EPOLLOUT;
	}
	if (c->closing && !c->out_len)
		return -ECONNRESET;
	xlb_ev_mod(d->epfd, &c->src, events);
	return 0;
}

static void on_client(struct xlb_evsrc *src, uint32_t events)
{
	struct client *c = src->ctx;
	struct xlbd *d = c->d;
	char buf[16384], *line;
	size_t len;
	ssize_t n;
	int ret = 0;

	if (events & EPOLLIN) {
		n = recv(c->src.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN) {
			client_close(d, c);
			return;
		}
		if (n == 0) {
			/* the client is done sending: answer what it asked, then close */
			c->closing = 1;
			if (client_flush(c))
				client_close(d, c);
			return;
		}
		if (n > 0 && xlb_linebuf_feed(&c->in, buf, n)) {
			client_close(d, c);
			return;
		}
		if (n > 0) /* a person typing a line slowly is not idle */
			c->active_ms = now_ms();
		while (!ret && (ret = xlb_linebuf_pop(&c->in, &line, &len)) != 0) {
			if (c->refused) {
				c->closing = 1;
				ret = client_queue(c, xlb_proto_error("permission denied: root only"));
				break;
			}
			if (ret == -EMSGSIZE)
				ret = client_queue(c, xlb_proto_error(XLB_PROTO_ERR_TOO_LONG));
			else
				ret = client_queue(c, dispatch(d, c, line, len));
		}
	}
	if (!ret || ret == 1)
		ret = client_flush(c);
	if (ret && ret != 1)
		client_close(d, c);
}

static int client_quiet(const struct client *c)
{
	return c->out_off == c->out_len;
}

/* Which of two clients to close first for a new one: a refused peer, then a quiet one. */
static int evict_before(const struct client *c, const struct client *v)
{
	if (c->refused != v->refused)
		return c->refused;
	if (client_quiet(c) != client_quiet(v))
		return client_quiet(c);
	return c->active_ms < v->active_ms;
}

/*
 * A free slot; when every one is taken, the client idle longest is closed
 * (a refused non-root peer first, then one with nothing left to send). Reserving slots would
 * only move the limit, since idle connections can fill those too; this
 * way a new xlbctl always gets in, and what it costs is the connection
 * least likely in use (an `xlbctl top` asks every second).
 */
static size_t client_slot(struct xlbd *d)
{
	size_t i, victim = 0;

	for (i = 0; i < MAX_CLIENTS; i++) {
		const struct client *c = d->clients[i], *v = d->clients[victim];

		if (!c)
			return i;
		if (evict_before(c, v))
			victim = i;
	}
	logmsg(LOG_WARN, "%d control connections: closed the one idle longest for a new one",
	       MAX_CLIENTS);
	client_close(d, d->clients[victim]);
	return victim;
}

void on_listen(struct xlb_evsrc *src, uint32_t events)
{
	struct xlbd *d = src->ctx;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	size_t i;
	int fd;

	(void)events;
	fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->d = d;
	c->active_ms = now_ms();
	xlb_linebuf_init(&c->in, XLB_PROTO_MAX_LINE);
	i = client_slot(d);
	d->clients[i] = c;
	xlb_ev_add(d->epfd, &c->src, fd, EPOLLIN, on_client, c);
	/* the socket is 0600, and a peer must also be root */
	c->uid = c->pid = -1;
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) && len == sizeof(cred)) {
		c->uid = cred.uid;
		c->pid = cred.pid;
	}
	if (c->uid != 0) {
		logmsg(LOG_WARN, "control: refused a connection from uid %d pid %d: root only",
		       c->uid, c->pid);
		c->refused = 1;
	}
	/* xlbctl sends as it connects: answer now, not a busy turn of the loop later */
	on_client(&c->src, EPOLLIN);
}

/* Bytes the loop has not read yet (it was busy): the client is not idle. */
static int request_waiting(const struct client *c)
{
	int n = 0;

	return !ioctl(c->src.fd, FIONREAD, &n) && n > 0;
}

/* Once a tick: close the clients silent for CLIENT_IDLE_MS with nothing left to send. */
void clients_expire(struct xlbd *d)
{
	__u64 now = now_ms();
	size_t i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = d->clients[i];

		if (c && c->out_off == c->out_len && now - c->active_ms > CLIENT_IDLE_MS &&
		    !request_waiting(c))
			client_close(d, c);
	}
}

int listen_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)], *slash;
	int fd, probe;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	/* a live daemon answers on it: never steal its socket */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && !connect(probe, (struct sockaddr *)&sun, sizeof(sun))) {
		close(probe);
		snprintf(err, errlen, "another xlbd is serving %s", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || chmod(path, 0600) ||
	    listen(fd, 16)) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}
