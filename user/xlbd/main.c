// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbd's options, start, event loop, signals and exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include "names.h"
#include "plural.h"
#include "xlbd.h"

/* TERM and INT: the data plane stays pinned and keeps forwarding. */
static void signal_exit(struct xlbd *d, int signo, const char *when)
{
	logmsg(LOG_INFO, "%s%s: exiting; the data plane keeps forwarding with the last tables "
	       "(pinned in %s)", strsignal(signo), when, d->pin_dir);
	d->running = 0;
}

static void on_signal(struct xlb_evsrc *src, uint32_t events)
{
	struct xlbd *d = src->ctx;
	struct signalfd_siginfo si;
	struct json_object *r;

	(void)events;
	if (read(src->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		/* the audit line of a reload by signal: who sent it */
		logmsg(LOG_INFO, "SIGHUP: reloading %s (sent by uid %u pid %u)", d->config_path,
		       si.ssi_uid, si.ssi_pid);
		r = do_reload(d, 0, 0);
		json_object_put(r);
		return;
	}
	signal_exit(d, si.ssi_signo, "");
}

/*
 * TERM, INT and HUP are blocked from the first line of main and read
 * through a signalfd once serving: a HUP while starting (systemctl reload
 * right after start) would otherwise kill xlbd, and systemd counts death
 * by HUP as a clean exit, so Restart=on-failure would not bring it back.
 */
static void block_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
	sigprocmask(SIG_BLOCK, mask, NULL);
}

static int exit_pending(void)
{
	sigset_t pending;

	return !sigpending(&pending) &&
	       (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT));
}

/*
 * Signals that came while starting, once serving: TERM or INT exits (the
 * start-up finished, so the maps are whole); any number of HUPs is one
 * reload, since the config file may have changed after it was read.
 */
static void startup_signals(struct xlbd *d)
{
	struct signalfd_siginfo si;
	int hup = 0;

	while (read(d->sig_src.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			hup = 1;
		else
			signal_exit(d, si.ssi_signo, " during start-up");
	}
	if (hup && d->running) {
		logmsg(LOG_INFO, "SIGHUP during start-up: reloading %s now that xlbd serves",
		       d->config_path);
		json_object_put(do_reload(d, 0, 0));
	}
}

static int add_src(struct xlbd *d, struct xlb_evsrc *src, int fd, xlb_ev_fn fn)
{
	return xlb_ev_add(d->epfd, src, fd, EPOLLIN, fn, d);
}

/* ---- start ---- */

/* The config file's top-level settings, with the command line's overrides. */
static int load_settings(struct xlbd *d)
{
	char err[XLB_ERR_MAX];
	int ret;

	ret = xlb_config_load(d->config_path, &d->file, err, sizeof(err));
	if (ret) {
		logmsg(LOG_ERR, "%s", err);
		return ret;
	}
	if (d->cli_nifaces) {
		memcpy(d->file.ifaces, d->cli_ifaces, sizeof(d->file.ifaces));
		d->file.nifaces = d->cli_nifaces;
	}
	if (d->cli_xdp_mode >= 0)
		d->file.xdp_mode = d->cli_xdp_mode;
	if (!d->file.nifaces) {
		logmsg(LOG_ERR, "no interface: give -i IFACE or interfaces: in %s", d->config_path);
		return -EINVAL;
	}
	return 0;
}

static void attach_note(void *ctx, const char *msg)
{
	(void)ctx;
	logmsg(LOG_WARN, "%s", msg);
}

static int attach_data_plane(struct xlbd *d)
{
	struct xlb_attach_opts aopts = {};
	char err[XLB_ERR_MAX];
	int ret, i;

	aopts.pin_dir = d->pin_dir;
	aopts.ifaces = (const char(*)[XLB_IFNAME_MAX])d->file.ifaces;
	aopts.nifaces = d->file.nifaces;
	aopts.xdp_mode = d->file.xdp_mode;
	aopts.log = attach_note;
	aopts.load.ct_size = d->file.ct_size;
	aopts.load.tcp_idle_ns = d->file.tcp_idle_ms * 1000000ULL;
	aopts.load.udp_idle_ns = d->file.udp_idle_ms * 1000000ULL;
	aopts.load.tcp_closing_ns = d->file.tcp_closing_ms * 1000000ULL;
	ret = xlb_attach(&d->at, &aopts, err, sizeof(err));
	if (ret) {
		logmsg(LOG_ERR, "%s", err);
		return ret;
	}
	for (i = 0; i < (int)d->file.nifaces; i++)
		logmsg(LOG_INFO, "%s XDP on %s (%s mode), program id %u",
		       d->at.links_adopted ? (d->at.replaced ? "replaced the running" :
							     "adopted the running") :
					    "attached",
		       d->file.ifaces[i], xlb_name_of(xlb_xdp_mode_names, d->at.xdp_mode[i]),
		       d->at.prog_id);
	if (d->at.maps_adopted)
		logmsg(LOG_INFO, "adopted the maps pinned in %s: connection table and counters "
		       "carry on", d->pin_dir);
	if (d->at.legacy_ct_entries)
		logmsg(LOG_INFO, "adopted an older build's connection table (%u entr%s): read "
		       "after the new ones miss, unpinned once the idle timeout has passed (flows.c)",
		       d->at.legacy_ct_entries, d->at.legacy_ct_entries == 1 ? "y" : "ies");
	return 0;
}

/* The modules, then the desired state applied over what a previous xlbd left. */
static int apply_desired(struct xlbd *d, struct xlb_config *desired, int from_state)
{
	char err[XLB_ERR_MAX];
	int ret;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->lb = xlb_lb_new(&d->at.dp);
	d->health = xlb_health_new(d->epfd, on_health, d);
	d->neigh = xlb_neigh_new(d->epfd, on_neigh, d);
	if (d->epfd < 0 || !d->lb || !d->health || !d->neigh) {
		logmsg(LOG_ERR, "cannot start: %s", strerror(errno));
		return -ENOMEM;
	}
	xlb_lb_set_coalesce(d->lb, TABLE_COALESCE_MS);
	if (d->at.maps_adopted && (ret = xlb_lb_adopt_begin(d->lb))) {
		logmsg(LOG_ERR, "cannot read the pinned maps: %s", strerror(-ret));
		return ret;
	}
	ret = xlb_dp_encap_set(&d->at.dp, &d->file.encap);
	ret = ret ?: apply_config(d, from_state ? desired : &d->file, NULL, NULL, NULL);
	ret = ret ?: xlb_lb_adopt_finish(d->lb);
	if (ret) {
		libbpf_strerror(ret, err, sizeof(err));
		logmsg(LOG_ERR, "cannot apply the desired state: %s", err);
		return ret;
	}
	xlb_config_free(desired);
	if (!from_state)
		xlb_state_set_digest(&d->state, &d->file);
	/* serve anyway: the data plane is as wanted; each runtime change will try again */
	if (save_state(d, err, sizeof(err)))
		logmsg(LOG_WARN, "runtime changes are refused until the state can be saved");
	logmsg(LOG_INFO, "%u VIP%s, %u backend%s, from %s", d->state.nvips,
	       xlb_s(d->state.nvips), total_backends(d), xlb_s(total_backends(d)), from_state ? "the saved runtime state" : d->config_path);
	return 0;
}

/* Signals, the tick, the control socket and the metrics endpoint. */
static int serve(struct xlbd *d)
{
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	char err[XLB_ERR_MAX];
	sigset_t mask;
	int fd;

	block_signals(&mask); /* already blocked: the set for the signalfd */
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0 || add_src(d, &d->sig_src, fd, on_signal))
		return -errno;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || timerfd_settime(fd, 0, &tick, NULL) || add_src(d, &d->tick_src, fd, on_tick))
		return -errno;
	fd = listen_socket(d->socket_path, err, sizeof(err));
	if (fd < 0) {
		logmsg(LOG_ERR, "%s", err);
		return fd;
	}
	add_src(d, &d->listen_src, fd, on_listen);
	logmsg(LOG_INFO, "xlbd %s serving %s", xlb_version, d->socket_path);
	if (d->cli_metrics)
		snprintf(d->file.metrics, sizeof(d->file.metrics), "%s", d->cli_metrics);
	if (d->file.metrics[0]) {
		struct xlb_metrics_opts mo = {
			.per_ip_conns = XLB_METRICS_PER_IP_CONNS,
			.cache_ms = XLB_METRICS_CACHE_MS,
			.allow = d->file.metrics_allow,
			.nallow = d->file.nmetrics_allow,
		};

		d->metrics = xlb_metrics_new_opts(d->epfd, d->file.metrics, &mo, render_metrics,
						  d, err, sizeof(err));
		if (!d->metrics) {
			logmsg(LOG_ERR, "%s", err);
			return -EINVAL;
		}
		logmsg(LOG_INFO, "serving metrics on http://%s/metrics", d->file.metrics);
	}
	return 0;
}

static void loop(struct xlbd *d)
{
	struct epoll_event evs[LOOP_EVENTS];
	int n, i, timeout;

	while (d->running) {
		/* tables whose coalescing interval is over, a bounded share per turn */
		timeout = xlb_lb_tables_due(d->lb, TABLE_BUDGET_MS);
		n = epoll_wait(d->epfd, evs, LOOP_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			logmsg(LOG_ERR, "epoll_wait: %s", strerror(errno));
			break;
		}
		d->batch = evs;
		d->batch_n = n > 0 ? n : 0;
		for (i = 0; i < n; i++) {
			struct xlb_evsrc *src = evs[i].data.ptr;

			if (src) /* NULL: a client closed by an earlier event of this batch */
				src->fn(src, evs[i].events);
		}
		d->batch_n = 0;
		announce_sync(d); /* health, neighbours, commands, reloads: routes follow */
		via_sync(d);
		handoff_sync(d);
	}
}

/* On exit the data plane stays pinned and keeps forwarding. */
static void stop(struct xlbd *d)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (d->clients[i])
			client_close(d, d->clients[i]);
	unlink(d->socket_path);
	xlb_metrics_free(d->metrics);
	xlb_health_free(d->health);
	xlb_neigh_free(d->neigh);
	via_stop(d);
	announce_stop(d);
	handoff_stop(d);
	flows_stop(d);
	load_stop(d);
	xlb_lb_free(d->lb);
	xlb_state_free(&d->state);
	xlb_config_free(&d->file);
	xlb_attached_close(&d->at);
}

/*
 * A start that fails leaves nothing of its own behind: what it pinned on
 * a --bpffs without xlb's pins is detached and unpinned, and its announced
 * routes withdrawn. A data plane found there is left as it was: it may be
 * forwarding, and the next start adopts it.
 */
static void start_failed(struct xlbd *d, int fresh)
{
	char err[XLB_ERR_MAX];

	via_stop(d); /* its rules steer nothing once no check runs */
	if (!fresh)
		return;
	/* routes first, as --teardown: routers stop sending before the data plane goes */
	if (d->announce)
		announce_teardown(d->config_path);
	xlb_attached_close(&d->at);
	if (xlb_teardown(d->pin_dir, err, sizeof(err)))
		logmsg(LOG_ERR, "start failed, and what it pinned stays: %s", err);
	else
		logmsg(LOG_INFO, "start failed: detached and unpinned what it had made under %s",
		       d->pin_dir);
}

static int run(struct xlbd *d)
{
	struct xlb_config desired = {};
	char err[XLB_ERR_MAX];
	int from_state, fresh;

	if (load_settings(d))
		return 1;
	xlb_state_init(&d->state);
	if (choose_desired(d, &desired, &from_state))
		return 1;
	/* nothing touched yet: a TERM so far needs no start-up to finish */
	if (exit_pending()) {
		logmsg(LOG_INFO, "signalled to exit during start-up: exiting before attaching");
		xlb_config_free(&desired);
		return 0;
	}
	/*
	 * Before any map is touched, and before asking what is pinned: a second
	 * xlbd that lost the race must not take the first one's pins for its
	 * own. Held until exit.
	 */
	if (xlb_pin_lock(d->pin_dir, err, sizeof(err)) < 0) {
		logmsg(LOG_ERR, "%s", err);
		xlb_config_free(&desired);
		return 1;
	}
	/* before attaching: a start it refuses leaves nothing behind */
	if (via_start(d, from_state ? &desired : &d->file, from_state)) {
		xlb_config_free(&desired);
		return 1;
	}
	fresh = !xlb_pins_exist(d->pin_dir);
	if (attach_data_plane(d) || apply_desired(d, &desired, from_state) || announce_start(d) ||
	    handoff_start(d) || flows_start(d) || load_start(d) || serve(d)) {
		start_failed(d, fresh);
		return 1;
	}
	d->started = time(NULL);
	d->running = 1;
	startup_signals(d);
	/* Type=notify: systemctl start returns once the socket answers (a no-op outside systemd) */
	sd_notifyf(0, "READY=1\nSTATUS=serving %s", d->socket_path);
	loop(d);
	sd_notify(0, "STOPPING=1");
	stop(d);
	return 0;
}

/*
 * xlbd --check: the file through start-up's loader and checks, and nothing
 * else: no bpffs, no socket, no state folder, no root needed.
 */
static int check_config(struct xlbd *d)
{
	__u32 i, backends = 0;

	if (load_settings(d))
		return 1;
	for (i = 0; i < d->file.nvips; i++)
		backends += d->file.vips[i].nbackends;
	printf("%s: ok (%u VIP%s, %u backend%s)\n", d->config_path, d->file.nvips,
	       d->file.nvips == 1 ? "" : "s", backends, backends == 1 ? "" : "s");
	xlb_config_free(&d->file);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xlbd [-c FILE] [-i IFACE]... [--xdp-mode native|generic] [--bpffs DIR]\n"
		"            [--socket PATH] [--state-dir DIR] [--metrics ADDR:PORT]\n"
		"            [--log-format journal|plain|json] [-v]\n"
		"       xlbd --teardown [-c FILE] [--bpffs DIR]\n"
		"       xlbd --check [-c FILE] [-i IFACE]...\n"
		"       xlbd --version\n"
		"\n"
		"  -c, --config FILE     config file (default " DEFAULT_CONFIG ")\n"
		"  -i, --interface IFACE attach to IFACE (repeatable; overrides interfaces:)\n"
		"      --xdp-mode MODE   native (default) or generic\n"
		"      --bpffs DIR       where maps and links are pinned (default " DEFAULT_PIN_DIR ")\n"
		"      --socket PATH     control socket (default " XLB_SOCKET_PATH ")\n"
		"      --state-dir DIR   saved runtime state (default " DEFAULT_STATE_DIR ")\n"
		"      --metrics ADDR:PORT  serve Prometheus metrics on http://ADDR:PORT/metrics\n"
		"                        (overrides metrics:; default off)\n"
		"      --teardown        withdraw the routes of announce: (from -c FILE), detach\n"
		"                        and unpin everything under --bpffs, then exit\n"
		"      --check           validate the config file as a start would, touching\n"
		"                        nothing; print \"FILE: ok (...)\" or the error, exit 0 or 1\n"
		"      --log-format FMT  plain: a UTC time, then \"xlbd: LEVEL: message\"; json: one\n"
		"                        object a line; journal: <N> priority prefixes (default:\n"
		"                        journal when stderr is journald's, else plain)\n"
		"  -v, --verbose         debug logging\n"
		"      --version         print the version and exit\n");
}

#ifndef CAP_BPF
#define CAP_BPF 39	/* Linux 5.8; before it, CAP_SYS_ADMIN */
#endif

/*
 * Loading and attaching XDP takes CAP_BPF (or CAP_SYS_ADMIN) and
 * CAP_NET_ADMIN: without them say so, rather than fail later at some
 * step (the bpffs mount) whose message hides the cause.
 */
static int privileged(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3] = {};
#define HAS(cap) (c[(cap) / 32].effective & (1u << ((cap) % 32)))

	if (syscall(SYS_capget, &h, c))
		return 1;	/* cannot tell: let the real steps say */
	return HAS(CAP_NET_ADMIN) && (HAS(CAP_BPF) || HAS(CAP_SYS_ADMIN));
#undef HAS
}

/* Returns -1 to go on, or the exit code. */
static int parse_options(struct xlbd *d, int argc, char **argv, int *teardown, int *check)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' },
		{ "xdp-mode", required_argument, NULL, 'm' },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "log-format", required_argument, NULL, 'L' },
		{ "teardown", no_argument, NULL, 't' },
		{ "check", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	int opt;

	d->config_path = DEFAULT_CONFIG;
	d->pin_dir = DEFAULT_PIN_DIR;
	d->socket_path = XLB_SOCKET_PATH;
	d->state_dir = DEFAULT_STATE_DIR;
	d->cli_xdp_mode = -1;
	while ((opt = getopt_long(argc, argv, "c:i:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d->config_path = optarg;
			break;
		case 'i':
			if (d->cli_nifaces == XLB_MAX_IFACES || strlen(optarg) >= XLB_IFNAME_MAX) {
				fprintf(stderr, "xlbd: -i %s: too many interfaces or name too long\n",
					optarg);
				return 2;
			}
			snprintf(d->cli_ifaces[d->cli_nifaces++], XLB_IFNAME_MAX, "%s", optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "native")) {
				d->cli_xdp_mode = XLB_XDP_NATIVE;
			} else if (!strcmp(optarg, "generic")) {
				d->cli_xdp_mode = XLB_XDP_GENERIC;
			} else {
				fprintf(stderr, "xlbd: --xdp-mode: '%s': native or generic\n", optarg);
				return 2;
			}
			break;
		case 'b':
			d->pin_dir = optarg;
			break;
		case 's':
			d->socket_path = optarg;
			break;
		case 'd':
			d->state_dir = optarg;
			break;
		case 'M':
			d->cli_metrics = optarg;
			break;
		case 'L':
			if (log_format_set(optarg)) {
				fprintf(stderr, "xlbd: --log-format: '%s': journal, plain or json\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			*teardown = 1;
			break;
		case 'C':
			*check = 1;
			break;
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xlbd %s\n", xlb_version);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xlbd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (*check && *teardown) {
		fprintf(stderr, "xlbd: --check and --teardown: one or the other\n");
		return 2;
	}
	/* --check answers the person who typed it: no time on its lines */
	log_format_default(*check);
	return -1;
}

int main(int argc, char **argv)
{
	static struct xlbd daemon;
	struct xlbd *d = &daemon;
	char err[XLB_ERR_MAX];
	int teardown = 0, check = 0, ret;
	sigset_t mask;

	block_signals(&mask); /* first: see block_signals */
	signal(SIGPIPE, SIG_IGN);
	ret = parse_options(d, argc, argv, &teardown, &check);
	if (ret >= 0)
		return ret;
	if (check)
		return check_config(d);
	libbpf_set_print(libbpf_log);
	if (!privileged()) {
		logmsg(LOG_ERR, "needs root (CAP_BPF and CAP_NET_ADMIN) to load and attach XDP; "
		       "running as uid %u", (unsigned int)geteuid());
		return 1;
	}
	if (teardown) {
		/* never under a running daemon */
		if (xlb_pin_lock(d->pin_dir, err, sizeof(err)) < 0) {
			logmsg(LOG_ERR, "%s", err);
			return 1;
		}
		/* first: routers stop sending before the data plane goes */
		ret = announce_teardown(d->config_path);
		if (xlb_teardown(d->pin_dir, err, sizeof(err))) {
			logmsg(LOG_ERR, "%s", err);
			return 1;
		}
		logmsg(LOG_INFO, "detached and unpinned xlb's links and maps under %s", d->pin_dir);
		return ret ? 1 : 0;
	}
	return run(d);
}
