// SPDX-License-Identifier: GPL-2.0
/*
 * xlbctl end to end: its argument handling and messages against a missing
 * socket, and against the fake daemon what it sends, prints and exits
 * with. The xlbctl binary is argv[1] or $XLBCTL; without one these skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_xlbctl.h"

#define MAX_ARGS 24

struct bad_case {
	const char *args[MAX_ARGS];
	const char *err;
};

/* Each is run as "xlbctl -s NOSOCK ARGS": exit 2, this one line, nothing sent. */
static const struct bad_case bad_cases[] = {
	{ { "foo" }, "unknown object 'foo'" },
	{ { "" }, "unknown object ''" },
	{ { "vipx" }, "unknown object 'vipx'" },
	{ { "help", "foo" }, "unknown object 'foo'" },
	{ { "vip", "frob" }, "unknown verb 'frob' for 'vip'" },
	{ { "backend", "sett" }, "unknown verb 'sett' for 'backend'" },
	{ { "vip", "add" }, "missing VIP" },
	{ { "vip", "add", "192.0.2.300:80/tcp" },
	  "invalid VIP '192.0.2.300:80/tcp': bad IPv4 address" },
	{ { "vip", "add", "192.0.2.1" }, "invalid VIP '192.0.2.1': missing port" },
	{ { "vip", "add", "192.0.2.1:80" }, "invalid VIP '192.0.2.1:80': missing protocol" },
	{ { "vip", "add", "192.0.2.1:65536/tcp" },
	  "invalid VIP '192.0.2.1:65536/tcp': bad port" },
	{ { "vip", "add", "192.0.2.1:80/sctp" },
	  "invalid VIP '192.0.2.1:80/sctp': bad protocol (tcp or udp)" },
	{ { "vip", "add", "2001:db8::1:80/tcp" },
	  "invalid VIP '2001:db8::1:80/tcp': IPv6 address needs brackets" },
	{ { "vip", "add", "[2001:db8::zz]:80/tcp" },
	  "invalid VIP '[2001:db8::zz]:80/tcp': bad IPv6 address" },
	{ { "vip", "add", VIP4, "foo", "bar" }, "unknown keyword 'foo' for 'vip add'" },
	{ { "vip", "add", VIP4, "sched", "maglev", "sched", "maglev" },
	  "'vip add': duplicate keyword 'sched'" },
	{ { "vip", "add", VIP4, "sch", "maglev", "sched", "source-hash" },
	  "'vip add': duplicate keyword 'sched'" },
	{ { "vip", "add", VIP4, "sched" }, "'vip add': missing sched value" },
	{ { "vip", "add", VIP4, "sched", "random" },
	  "sched: bad scheduler (maglev, source-hash, rr, wrr, lc, wlc or lt)" },
	{ { "vip", "add", VIP4, "persist", "1h", "persist-prefix-v4", "33" },
	  "persist-prefix-v4: out of range (1..32)" },
	{ { "vip", "add", VIP4, "persist", "25h" }, "persist: out of range (1s..24h)" },
	{ { "vip", "add", VIP4, "forward", "nat" }, "forward: bad forwarding mode (l2dsr, ipip)" },
	{ { "s" }, "ambiguous command 's': stats, status" },
	{ { "vip", "set", VIP4, "sched", "random" },
	  "sched: bad scheduler (maglev, source-hash, rr, wrr, lc, wlc or lt)" },
	{ { "vip", "set", VIP4, "persist", "of" }, "persist: bad duration (e.g. 2s, 500ms)" },
	{ { "vip", "set" }, "missing VIP" },
	{ { "config", "dump", "x" }, "'config dump': unexpected argument 'x'" },
	{ { "config", "frob" }, "unknown verb 'frob' for 'config'" },
	{ { "stats", VIP4, VIP4 }, "'stats': unexpected argument '198.18.100.10:80/tcp'" },
	/* destructive verbs: typed in full, not even a unique prefix */
	{ { "vip", "d", VIP4 }, "'d' is short for 'del': destructive verbs are typed in full" },
	{ { "vip", "de", VIP4 }, "'de' is short for 'del': destructive verbs are typed in full" },
	{ { "backend", "d", VIP4, BE4 },
	  "'d' is short for 'del': destructive verbs are typed in full" },
	{ { "b", "de", VIP4, BE4 }, "'de' is short for 'del': destructive verbs are typed in full" },
	{ { "backend", "set", VIP4, BE4, "dis" },
	  "'dis' is short for 'disable': destructive verbs are typed in full" },
	{ { "backend", "set", VIP4, BE4, "disabl" },
	  "'disabl' is short for 'disable': destructive verbs are typed in full" },
	{ { "lb", "w" }, "'w' is short for 'withdraw': destructive verbs are typed in full" },
	{ { "lb", "withdra" },
	  "'withdra' is short for 'withdraw': destructive verbs are typed in full" },
	{ { "vip", "add", VIP4, "f", "l2dsr" }, "ambiguous keyword 'f' for 'vip add': fall, forward" },
	{ { "vip", "add", VIP4, "c", "tcp" },
	  "ambiguous keyword 'c' for 'vip add': check, check-port, check-via" },
	{ { "vip", "add", VIP4, "check-via", "lo" },
	  "check-via: unknown value 'lo' (backend or vip)" },
	{ { "vip", "set", VIP4, "check-v" }, "'vip set': missing check-via value" },
	{ { "vip", "add", VIP4, "check", "ftp" },
	  "check: unknown kind 'ftp' (none, tcp, http or https)" },
	{ { "vip", "add", VIP4, "check", "http" }, "'vip add': missing path for 'check http'" },
	{ { "vip", "add", VIP4, "check", "https", "healthz" },
	  "invalid path 'healthz': must start with '/'" },
	{ { "vip", "add", VIP4, "check", "http", "/a b" },
	  "invalid path '/a b': spaces and control characters are not allowed" },
	{ { "vip", "add", VIP4, "check", "tcp", "/healthz" },
	  "unknown keyword '/healthz' for 'vip add'" },
	{ { "vip", "add", VIP4, "check-port", "0" }, "check-port: out of range (1..65535)" },
	{ { "vip", "add", VIP4, "check-port", "http" }, "check-port: not a number" },
	{ { "vip", "add", VIP4, "interval", "2" }, "interval: bad duration (e.g. 2s, 500ms)" },
	{ { "vip", "add", VIP4, "interval", "-2s" }, "interval: bad duration (e.g. 2s, 500ms)" },
	{ { "vip", "add", VIP4, "interval", "99ms" }, "interval: out of range (100ms..1h)" },
	{ { "vip", "add", VIP4, "timeout", "0s" }, "timeout: out of range (10ms..1h)" },
	{ { "vip", "add", VIP4, "timeout", "61m" }, "timeout: out of range (10ms..1h)" },
	{ { "vip", "add", VIP4, "interval", "1s", "timeout", "1000ms" },
	  "'vip add': timeout must be shorter than interval" },
	{ { "vip", "add", VIP4, "rise", "0" }, "rise: out of range (1..100)" },
	{ { "vip", "add", VIP4, "fall", "101" }, "fall: out of range (1..100)" },
	{ { "vip", "add", VIP4, "fall", "-1" }, "fall: not a number" },
	{ { "vip", "del" }, "missing VIP" },
	{ { "vip", "del", VIP4, "x" }, "'vip del': unexpected argument 'x'" },
	{ { "vip", "show", VIP4, "x" }, "'vip show': unexpected argument 'x'" },
	{ { "vip", "show", "x" }, "invalid VIP 'x': bad IPv4 address" },
	{ { "backend", "add", VIP4 }, "missing address" },
	{ { "backend", "add", VIP4, "198.18.0.300" },
	  "invalid address '198.18.0.300': bad IPv4 address" },
	{ { "backend", "add", VIP4, "2001:db8::zz" },
	  "invalid address '2001:db8::zz': bad IPv6 address" },
	{ { "backend", "add", VIP4, BE4, "weight", "65536" }, "weight: out of range (0..65535)" },
	{ { "backend", "add", VIP4, BE4, "weight", "ten" }, "weight: not a number" },
	{ { "backend", "add", VIP4, BE4, "weight" }, "'backend add': missing weight value" },
	{ { "backend", "add", VIP4, BE4, "weight", "1", "w", "2" },
	  "'backend add': duplicate keyword 'weight'" },
	{ { "backend", "add", VIP4, BE4, "drain" }, "unknown keyword 'drain' for 'backend add'" },
	{ { "backend", "del", VIP4 }, "missing address" },
	{ { "backend", "del", VIP4, BE4, "now" }, "'backend del': unexpected argument 'now'" },
	{ { "backend", "set", VIP4, BE4 },
	  "'backend set': nothing to set (weight N, drain, undrain, disable or enable)" },
	{ { "backend", "set", VIP4, BE4, "weight" }, "'backend set': missing weight value" },
	{ { "backend", "set", VIP4, BE4, "weight", "70000" }, "weight: out of range (0..65535)" },
	{ { "backend", "set", VIP4, BE4, "d" },
	  "ambiguous keyword 'd' for 'backend set': disable, drain" },
	{ { "backend", "set", VIP4, BE4, "drain", "enable" },
	  "'backend set': only one of weight, drain, undrain, disable, enable" },
	{ { "backend", "set", VIP4, BE4, "pause" }, "unknown keyword 'pause' for 'backend set'" },
	{ { "backend", "show", VIP4, BE4 }, "'backend show': unexpected argument '" BE4 "'" },
	{ { "backend", "wait", VIP4, BE4 }, "'backend wait': missing condition (drained)" },
	{ { "backend", "wait", VIP4, BE4, "timeout", "10s" },
	  "'backend wait': missing condition (drained)" },
	{ { "backend", "wait", VIP4 }, "missing address" },
	{ { "backend", "wait", VIP4, BE4, "empty" }, "unknown keyword 'empty' for 'backend wait'" },
	{ { "backend", "wait", VIP4, BE4, "drained", "drained" },
	  "'backend wait': duplicate keyword 'drained'" },
	{ { "backend", "wait", VIP4, BE4, "drained", "timeout" },
	  "'backend wait': missing timeout value" },
	{ { "backend", "wait", VIP4, BE4, "drained", "timeout", "5" },
	  "timeout: bad duration (e.g. 2s, 500ms)" },
	{ { "backend", "wait", VIP4, BE4, "drained", "timeout", "500ms" },
	  "timeout: out of range (1s..24h)" },
	{ { "backend", "wait", VIP4, BE4, "drained", "timeout", "25h" },
	  "timeout: out of range (1s..24h)" },
	{ { "status", "x" }, "'status': unexpected argument 'x'" },
	{ { "reload", "now" }, "'reload': unexpected argument 'now'" },
	{ { "reload", "f" }, "'reload': spell out 'force' (it overrides a safety check)" },
	{ { "reload", "force", "now" }, "'reload': unexpected argument 'now'" },
	{ { "vip", "help", "add" }, "'vip help': unexpected argument 'add'" },
	{ { "-x", "status" }, "unknown option '-x'" },
	{ { "--bogus", "status" }, "unknown option '--bogus'" },
	{ { "-s" }, "option '-s' needs an argument" },
	{ { "top", "-n", "0" }, "-n: out of range (1..1000000)" },
	{ { "top", "-n", "x" }, "-n: not a number" },
	{ { "top", "count", "-1" }, "count: not a number" },
	{ { "top", VIP4, "-n" }, "'top': missing -n value" },
	{ { "top", "-n", "2", "count", "3" }, "'top': duplicate keyword 'count'" },
	{ { "top", VIP4, "now" }, "unknown keyword 'now' for 'top'" },
	{ { "top", "-x" }, "unknown keyword '-x' for 'top'" },
	{ { "top", "x" }, "invalid VIP 'x': bad IPv4 address" },
	{ { "explain" }, "missing client" },
	{ { "explain", "198.18.0.1:40000" }, "missing VIP" },
	{ { "explain", "198.18.0.300:40000", VIP4 },
	  "invalid client '198.18.0.300:40000': bad IPv4 address" },
	{ { "explain", "198.18.0.1", VIP4 }, "invalid client '198.18.0.1': missing port" },
	{ { "explain", "198.18.0.1:", VIP4 }, "invalid client '198.18.0.1:': missing port" },
	{ { "explain", "198.18.0.1:65536", VIP4 }, "invalid client '198.18.0.1:65536': bad port" },
	{ { "explain", "198.18.0.1:4x", VIP4 }, "invalid client '198.18.0.1:4x': bad port" },
	{ { "explain", "2001:db8::1:40000", VIP4 },
	  "invalid client '2001:db8::1:40000': IPv6 address needs brackets" },
	{ { "explain", "[2001:db8::zz]:1", VIP4 },
	  "invalid client '[2001:db8::zz]:1': bad IPv6 address" },
	{ { "explain", "[198.18.0.1]:1", VIP4 }, "invalid client '[198.18.0.1]:1': bad IPv6 address" },
	{ { "explain", "198.18.0.1:40000", "x" }, "invalid VIP 'x': bad IPv4 address" },
	{ { "explain", "198.18.0.1:40000", VIP4, "ack" }, "unknown keyword 'ack' for 'explain'" },
	{ { "explain", "198.18.0.1:40000", VIP4, "syn", "s" }, "'explain': duplicate keyword 'syn'" },
	{ { "--socket" }, "option '--socket' needs an argument" },
};

static void test_xlbctl_bad_input(void **state)
{
	const char *args[MAX_ARGS + 4];
	size_t i, j, n, ncases = sizeof(bad_cases) / sizeof(bad_cases[0]);
	char want[1024];

	(void)state;
	need_xlbctl();
	assert_true(ncases >= 30);
	for (i = 0; i < ncases; i++) {
		/* as typed, then with -j */
		for (j = 0; j < 2; j++) {
			n = 0;
			if (j)
				args[n++] = "-j";
			args[n++] = "-s";
			args[n++] = NOSOCK;
			memcpy(args + n, bad_cases[i].args, sizeof(bad_cases[i].args));
			args[n + MAX_ARGS] = NULL;
			if (j)
				snprintf(want, sizeof(want), "%s", json_error(bad_cases[i].err));
			else
				snprintf(want, sizeof(want), "xlbctl: %s\n", bad_cases[i].err);
			expect_run(args, 2, "", want);
		}
	}
}

static void test_xlbctl_no_args(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const json[] = { "-j", NULL };
	static const char *const help[] = { "help", NULL };
	static const char *const dash_h[] = { "-s", NOSOCK, "--help", "status", NULL };
	struct run_result *r;

	(void)state;
	need_xlbctl();
	r = run_xlbctl(none);
	assert_int_equal(r->exit_code, 2);
	assert_string_equal(r->out, "");
	assert_non_null(strstr(r->err, "Usage: xlbctl"));
	expect_run(json, 2, "", json_error("missing object (see 'xlbctl help')"));

	/* help documents the exit codes */
	r = run_xlbctl(help);
	assert_int_equal(r->exit_code, 0);
	assert_string_equal(r->err, "");
	assert_non_null(strstr(r->out, "Exit status:\n"));
	assert_non_null(strstr(r->out, "  1  the daemon refused"));
	assert_non_null(strstr(r->out, "  2  bad usage or input"));
	assert_non_null(strstr(r->out, "  3  the daemon is not running"));
	r = run_xlbctl(dash_h);
	assert_int_equal(r->exit_code, 0);
	assert_non_null(strstr(r->out, "Usage: xlbctl"));
}

/* -h or --help after OBJECT [VERB]: that command's usage on stdout, exit 0, nothing sent. */
static void test_xlbctl_help_anywhere(void **state)
{
	static const char *const set_help[] = { "-s", NOSOCK, "backend", "set", "--help", NULL };
	static const char *const set_args[] = { "-s", NOSOCK, "b", "se", VIP4, BE4, "-h", NULL };
	static const char *const vip_help[] = { "-s", NOSOCK, "vip", "--help", NULL };
	static const char *const add_help[] = { "-s", NOSOCK, "vip", "add", "-h", NULL };
	static const char *const stats_help[] = { "-s", NOSOCK, "stats", VIP4, "-h", NULL };
	static const char *const set_usage =
		"xlbctl backend set VIP ADDR weight N | drain | undrain | disable | enable\n";
	struct run_result *r;

	(void)state;
	need_xlbctl();
	expect_run(set_help, 0, set_usage, "");
	expect_run(set_args, 0, set_usage, "");
	expect_run(stats_help, 0,
		   "xlbctl stats [-z] [VIP]   (-z: then from zero, for xlbctl only; metrics go on)\n", "");
	r = run_xlbctl(vip_help);
	assert_int_equal(r->exit_code, 0);
	assert_string_equal(r->err, "");
	assert_non_null(strstr(r->out, "xlbctl vip add VIP [sched"));
	assert_non_null(strstr(r->out, "xlbctl vip del VIP\n"));
	assert_non_null(strstr(r->out, "xlbctl vip show [VIP]\n"));
	r = run_xlbctl(add_help);
	assert_int_equal(r->exit_code, 0);
	assert_string_equal(r->err, "");
	assert_true(!strncmp(r->out, "xlbctl vip add VIP [sched", 25));
	assert_non_null(strstr(r->out, "[limit-prefix-v4 N] [limit-prefix-v6 N]\n"));
	assert_null(strstr(r->out, "vip del"));
	assert_null(strstr(r->out, "Usage:"));
}

/* Valid commands get as far as connecting: exit 3 with the connect error. */
static void test_xlbctl_no_daemon(void **state)
{
	static const char *const cases[][MAX_ARGS] = {
		{ "-s", NOSOCK, "status" },
		{ "-s", NOSOCK, "statu" },
		{ "-s", NOSOCK, "stats" },
		{ "-s", NOSOCK, "reload" },
		{ "--socket", NOSOCK, "vip", "show" },
		{ "--socket=" NOSOCK, "vip" },
		{ "-s", NOSOCK, "vip", "show", VIP4 },
		{ "-s", NOSOCK, "v", "s", "[2001:db8::10]:443/udp" },
		{ "-s", NOSOCK, "vip", "add", VIP4 },
		{ "-s", NOSOCK, "vip", "add", "198.18.100.10:0/udp", "sched", "source-hash",
		  "forward", "l2dsr", "check", "https", "/healthz", "check-port", "8443",
		  "interval", "2s", "timeout", "500ms" },
		{ "-s", NOSOCK, "vip", "add", VIP4, "check-via", "vip" },
		{ "-s", NOSOCK, "vip", "set", VIP4, "check-v", "backend" },
		{ "-s", NOSOCK, "vip", "a", VIP4, "sch", "maglev", "check", "none", "r", "3",
		  "fa", "5" },
		{ "-s", NOSOCK, "vip", "del", VIP4 },
		{ "-s", NOSOCK, "vip", "set", VIP4, "sched", "rr", "persist", "off" },
		{ "-s", NOSOCK, "vip", "se", VIP4, "limit-conns", "5" },
		{ "-s", NOSOCK, "stats", "-z" },
		{ "-s", NOSOCK, "config", "dump" },
		{ "-s", NOSOCK, "c", "d" },
		{ "-s", NOSOCK, "stats", "-z", VIP4 },
		{ "-s", NOSOCK, "vip", "delete", VIP4 },
		{ "-s", NOSOCK, "backend", "add", VIP4, BE4 },
		{ "-s", NOSOCK, "b", "a", VIP4, "2001:db8::11", "w", "65535" },
		{ "-s", NOSOCK, "backend", "del", VIP4, BE4 },
		{ "-s", NOSOCK, "backend", "set", VIP4, BE4, "weight", "1" },
		{ "-s", NOSOCK, "backend", "set", VIP4, BE4, "dr" },
		{ "-s", NOSOCK, "backend", "set", VIP4, BE4, "undrain" },
		{ "-s", NOSOCK, "backend", "set", VIP4, BE4, "disable" },
		{ "-s", NOSOCK, "backend", "delete", VIP4, BE4 },
		{ "-s", NOSOCK, "l", "withdraw" },
		{ "-s", NOSOCK, "l", "a" },
		{ "-s", NOSOCK, "backend", "set", VIP4, BE4, "u" },
		{ "-s", NOSOCK, "backend", "se", VIP4, BE4, "en" },
		{ "-s", NOSOCK, "b", "s" },
		{ "-s", NOSOCK, "backend", "sh", VIP4 },
		{ "-s", NOSOCK, "backend", "wait", VIP4, BE4, "drained" },
		{ "-s", NOSOCK, "b", "w", VIP4, BE4, "d", "t", "1s" },
		{ "-s", NOSOCK, "-p", "status" },
		{ "-jp", "-s", NOSOCK, "status" },
		{ "-s", NOSOCK, "top" },
		{ "-s", NOSOCK, "t", VIP4, "-n", "3" },
		{ "-s", NOSOCK, "-j", "top", "count", "1" },
		{ "-s", NOSOCK, "explain", "198.18.0.1:40000", VIP4 },
		{ "-s", NOSOCK, "e", "[2001:db8::1]:0", "[2001:db8::10]:443/tcp", "s" },
	};
	char want[512], args_copy[MAX_ARGS + 1][256];
	const char *args[MAX_ARGS + 1];
	size_t i, j;

	(void)state;
	need_xlbctl();
	snprintf(want, sizeof(want),
		 "daemon not running (connect %s: No such file or directory)", nosock_path);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool json = false;

		for (j = 0; j < MAX_ARGS && cases[i][j]; j++) {
			/* "--socket=@NOSOCK" */
			if (!strcmp(cases[i][j], "--socket=" NOSOCK)) {
				snprintf(args_copy[j], sizeof(args_copy[j]), "--socket=%s",
					 nosock_path);
				args[j] = args_copy[j];
			} else {
				args[j] = cases[i][j];
			}
			if (cases[i][j][0] == '-' && strpbrk(cases[i][j] + 1, "jp") &&
			    cases[i][j][1] != '-')
				json = true;
		}
		args[j] = NULL;
		if (json) {
			expect_run(args, 3, "", json_error(want));
		} else {
			char line[600];

			snprintf(line, sizeof(line), "xlbctl: %s\n", want);
			expect_run(args, 3, "", line);
		}
	}
}

static void test_xlbctl_default_socket(void **state)
{
	static const char *const args[] = { "status", NULL };
	struct stat st;

	(void)state;
	need_xlbctl();
	if (!stat(XLB_SOCKET_PATH, &st))
		skip();	/* a daemon may really be there */
	expect_run(args, 3, "",
		   "xlbctl: daemon not running (connect /run/xlb/xlbd.sock: No such file or directory)\n");
}

/* xlbctl against the fake daemon: what it sends, prints and exits with. */
struct e2e_case {
	const char *args[MAX_ARGS];
	const char *reply;
	const char *request;	/* the line the daemon must see */
	int exit_code;
	const char *out;
	const char *err;
};

#define VIP_SHOW_REPLY \
	"{\"ok\":true,\"vips\":[{\"vip\":\"" VIP4 "\",\"sched\":\"maglev\",\"forward\":\"l2dsr\"," \
	"\"health\":{\"check\":\"http\",\"path\":\"/healthz\",\"port\":80,\"interval\":\"2s\"," \
	"\"timeout\":\"1s\",\"rise\":2,\"fall\":3},\"backends\":3,\"up\":2,\"active_flows\":7,\"packets\":1234," \
	"\"bytes\":567890,\"flows\":12},{\"vip\":\"[2001:db8::10]:443/tcp\",\"sched\":\"source-hash\"," \
	"\"forward\":\"l2dsr\",\"health\":{\"check\":\"none\"},\"backends\":1,\"up\":1," \
	"\"packets\":0,\"bytes\":0,\"flows\":0}]}\n"

#define BACKEND_SHOW_REPLY \
	"{\"ok\":true,\"backends\":[{\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"weight\":100," \
	"\"state\":\"up\",\"admin\":\"enabled\",\"health\":\"up\",\"mac\":\"02:00:00:00:00:11\"," \
	"\"last_check\":\"ok\",\"ok_streak\":57,\"fail_streak\":0,\"active_flows\":2,\"flows\":3,\"packets\":99," \
	"\"bytes\":12345},{\"vip\":\"" VIP4 "\",\"address\":\"198.18.0.12\",\"weight\":5," \
	"\"state\":\"down\",\"reason\":\"failing health checks\",\"admin\":\"enabled\",\"health\":\"down\",\"mac\":\"02:00:00:00:00:12\"," \
	"\"last_check\":\"connect refused\",\"ok_streak\":0,\"fail_streak\":4,\"active_flows\":0,\"flows\":0," \
	"\"packets\":0,\"bytes\":0}]}\n"

/* one backend in state drain (DRAINED: true or false), and walks so far */
#define DRAIN_REPLY(DRAINED, ACTIVE, WALKS) \
	"{\"ok\":true,\"backends\":[{\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"weight\":100," \
	"\"state\":\"drain\",\"drained\":" DRAINED ",\"admin\":\"drain\",\"health\":\"up\"," \
	"\"last_check\":\"ok\",\"ok_streak\":5,\"fail_streak\":0,\"active_flows\":" ACTIVE "," \
	"\"flows\":3,\"packets\":99,\"bytes\":12345}],\"flow_walks\":" WALKS "}\n"

#define WAIT_REQUEST "{\"cmd\":\"backend-show\",\"vip\":\"" VIP4 "\"}"

#define EXPLAIN_REPLY \
	"{\"ok\":true,\"steps\":[{\"step\":\"vip\",\"text\":\"1. vip: " VIP4 " found (maglev, 2 of 3 backends up)\"}," \
	"{\"step\":\"conntrack\",\"text\":\"2. conntrack: no entry (new flow)\"}," \
	"{\"step\":\"select\",\"text\":\"3. maglev: hash 0x1a2b3c4d -> slot 1234 -> 198.18.0.12\"}," \
	"{\"step\":\"action\",\"text\":\"4. action: XDP_TX to 02:00:00:00:00:12\"}]," \
	"\"backend\":\"198.18.0.12\",\"action\":\"XDP_TX\"}\n"

#define STATUS_REPLY \
	"{\"ok\":true,\"interfaces\":[\"eth0\",\"eth1\"],\"xdp_mode\":\"native\",\"prog_id\":42," \
	"\"uptime_s\":3600,\"vips\":2,\"backends\":4,\"config\":\"/etc/xlb/xlb.yaml\"}\n"

static const struct e2e_case e2e_cases[] = {
	{
		{ "vip", "a", VIP4, "sch", "source-hash", "check", "http", "/healthz",
		  "check-p", "8080", "int", "2000ms", "ti", "1s", "r", "2", "fa", "3" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"vip-add\",\"vip\":\"" VIP4 "\",\"sched\":\"source-hash\",\"check\":\"http\","
		"\"path\":\"/healthz\",\"check_port\":8080,\"interval\":\"2s\",\"timeout\":\"1s\","
		"\"rise\":2,\"fall\":3}",
		0, "", "",
	},
	{
		{ "-j", "vip", "add", "[2001:DB8:0::10]:443/udp", "forward", "l2dsr" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"vip-add\",\"vip\":\"[2001:db8::10]:443/udp\",\"forward\":\"l2dsr\"}",
		0, "{}\n", "",
	},
	{
		{ "vip", "del", VIP4 },
		"{\"ok\":false,\"error\":\"no such VIP\"}\n",
		"{\"cmd\":\"vip-del\",\"vip\":\"" VIP4 "\"}",
		1, "", "xlbctl: no such VIP\n",
	},
	{
		{ "--json", "vip", "del", VIP4 },
		"{\"ok\":false,\"error\":\"no such VIP\"}\n",
		"{\"cmd\":\"vip-del\",\"vip\":\"" VIP4 "\"}",
		1, "", "{\"error\":\"no such VIP\"}\n",
	},
	{
		{ "backend", "add", VIP4, BE4, "weight", "100" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"backend-add\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"weight\":100}",
		0, "", "",
	},
	{
		/* weight 0: a drain, as in IPVS */
		{ "backend", "add", VIP4, BE4, "weight", "0" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"backend-add\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"weight\":0}",
		0, "", "",
	},
	{
		{ "backend", "set", VIP4, BE4, "weight", "0" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"backend-set\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"weight\":0}",
		0, "", "",
	},
	{
		{ "backend", "set", VIP4, BE4, "dr" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"backend-set\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"admin\":\"drain\"}",
		0, "", "",
	},
	{
		{ "backend", "set", VIP4, BE4, "w", "7" },
		"{\"ok\":true}\n",
		"{\"cmd\":\"backend-set\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\",\"weight\":7}",
		0, "", "",
	},
	{
		{ "backend", "del", VIP4, BE4 },
		"{\"ok\":true}\n",
		"{\"cmd\":\"backend-del\",\"vip\":\"" VIP4 "\",\"address\":\"" BE4 "\"}",
		0, "", "",
	},
	{
		{ "vip", "show" },
		VIP_SHOW_REPLY,
		"{\"cmd\":\"vip-show\"}",
		0,
		"VIP                     SCHED        FORWARD  CHECK            BACKENDS  UP  ACTIVE  PACKETS   BYTES  FLOWS\n"
		"198.18.100.10:80/tcp    maglev       l2dsr    http:80/healthz         3   2       7     1234  567890     12\n"
		"[2001:db8::10]:443/tcp  source-hash  l2dsr    none                    1   1       -        0       0      0\n",
		"",
	},
	{
		{ "vip", "show", "198.18.100.99:53/udp" },
		"{\"ok\":true,\"vips\":[]}\n",
		"{\"cmd\":\"vip-show\",\"vip\":\"198.18.100.99:53/udp\"}",
		0, "", "",
	},
	{
		{ "b", "s", VIP4 },
		BACKEND_SHOW_REPLY,
		"{\"cmd\":\"backend-show\",\"vip\":\"" VIP4 "\"}",
		0,
		"VIP                   ADDRESS      WEIGHT  STATE  REASON                 LAST-CHECK       OK  FAIL  ACTIVE  FLOWS  PACKETS  BYTES\n"
		"198.18.100.10:80/tcp  198.18.0.11     100  up     -                      ok               57     0       2      3       99  12345\n"
		"198.18.100.10:80/tcp  198.18.0.12       5  down   failing health checks  connect refused   0     4       0      0        0      0\n",
		"",
	},
	{
		{ "b", "s" },
		DRAIN_REPLY("true", "0", "3"),
		"{\"cmd\":\"backend-show\"}",
		0,
		"VIP                   ADDRESS      WEIGHT  STATE         REASON  LAST-CHECK  OK  FAIL  ACTIVE  FLOWS  PACKETS  BYTES\n"
		"198.18.100.10:80/tcp  198.18.0.11     100  drain (done)  -       ok           5     0       0      3       99  12345\n",
		"",
	},
	{
		{ "b", "s" },
		DRAIN_REPLY("false", "2", "3"),
		"{\"cmd\":\"backend-show\"}",
		0,
		"VIP                   ADDRESS      WEIGHT  STATE  REASON  LAST-CHECK  OK  FAIL  ACTIVE  FLOWS  PACKETS  BYTES\n"
		"198.18.100.10:80/tcp  198.18.0.11     100  drain  -       ok           5     0       2      3       99  12345\n",
		"",
	},
	{
		{ "backend", "wait", VIP4, BE4, "drained" },
		BACKEND_SHOW_REPLY,
		WAIT_REQUEST,
		1, "", "xlbctl: backend " BE4 " of " VIP4 " is not draining (state up)\n",
	},
	{
		{ "-j", "backend", "wait", VIP4, "198.18.0.99", "drained" },
		BACKEND_SHOW_REPLY,
		WAIT_REQUEST,
		1, "", "{\"error\":\"no such backend\"}\n",
	},
	{
		{ "backend", "wait", VIP4, BE4, "drained" },
		"{\"ok\":false,\"error\":\"no such VIP\"}\n",
		WAIT_REQUEST,
		1, "", "xlbctl: no such VIP\n",
	},
	{
		{ "status" },
		STATUS_REPLY,
		"{\"cmd\":\"status\"}",
		0,
		"interfaces: eth0, eth1\nxdp_mode: native\nprog_id: 42\nuptime_s: 3600\nvips: 2\n"
		"backends: 4\nconfig: /etc/xlb/xlb.yaml\n",
		"",
	},
	{
		{ "-j", "status" },
		STATUS_REPLY,
		"{\"cmd\":\"status\"}",
		0,
		"{\"interfaces\":[\"eth0\",\"eth1\"],\"xdp_mode\":\"native\",\"prog_id\":42,"
		"\"uptime_s\":3600,\"vips\":2,\"backends\":4,\"config\":\"/etc/xlb/xlb.yaml\"}\n",
		"",
	},
	{
		{ "reload" },
		"{\"ok\":true,\"added\":[\"198.18.100.11:80/tcp\",\"backend 198.18.0.14 of " VIP4 "\"],"
		"\"changed\":[\"" VIP4 "\"],\"removed\":[]}\n",
		"{\"cmd\":\"reload\"}",
		0,
		"added: 198.18.100.11:80/tcp\nadded: backend 198.18.0.14 of " VIP4 "\n"
		"changed: " VIP4 "\n",
		"",
	},
	{
		{ "reload" },
		"{\"ok\":true,\"added\":[],\"changed\":[],\"removed\":[]}\n",
		"{\"cmd\":\"reload\"}",
		0, "no changes\n", "",
	},
	{
		{ "reload", "force" },
		"{\"ok\":true,\"added\":[],\"changed\":[],\"removed\":[\"" VIP4 "\"]}\n",
		"{\"cmd\":\"reload\",\"force\":true}",
		0, "removed: " VIP4 "\n", "",
	},
	{
		{ "reload" },
		"{\"ok\":false,\"error\":\"xlb.yaml:7: vips[0].backends[1].address: bad IPv4 address '198.18.0.300'\"}\n",
		"{\"cmd\":\"reload\"}",
		1, "",
		"xlbctl: xlb.yaml:7: vips[0].backends[1].address: bad IPv4 address '198.18.0.300'\n",
	},
	{
		{ "status" },
		"this is not JSON\n",
		"{\"cmd\":\"status\"}",
		3, "", "xlbctl: bad reply from daemon (malformed JSON)\n",
	},
	{
		{ "explain", "198.18.0.1:40000", VIP4, "syn" },
		EXPLAIN_REPLY,
		"{\"cmd\":\"explain\",\"client\":\"198.18.0.1:40000\",\"vip\":\"" VIP4 "\",\"syn\":true}",
		0,
		"1. vip: " VIP4 " found (maglev, 2 of 3 backends up)\n"
		"2. conntrack: no entry (new flow)\n"
		"3. maglev: hash 0x1a2b3c4d -> slot 1234 -> 198.18.0.12\n"
		"4. action: XDP_TX to 02:00:00:00:00:12\n",
		"",
	},
	{
		{ "-j", "ex", "[2001:DB8:0::1]:0", "[2001:db8::10]:443/tcp" },
		EXPLAIN_REPLY,
		"{\"cmd\":\"explain\",\"client\":\"[2001:db8::1]:0\",\"vip\":\"[2001:db8::10]:443/tcp\"}",
		0,
		"{\"steps\":[{\"step\":\"vip\",\"text\":\"1. vip: " VIP4 " found (maglev, 2 of 3 backends up)\"},"
		"{\"step\":\"conntrack\",\"text\":\"2. conntrack: no entry (new flow)\"},"
		"{\"step\":\"select\",\"text\":\"3. maglev: hash 0x1a2b3c4d -> slot 1234 -> 198.18.0.12\"},"
		"{\"step\":\"action\",\"text\":\"4. action: XDP_TX to 02:00:00:00:00:12\"}],"
		"\"backend\":\"198.18.0.12\",\"action\":\"XDP_TX\"}\n",
		"",
	},
	{
		{ "explain", "198.18.0.1:40000", "198.18.100.99:53/udp" },
		"{\"ok\":false,\"error\":\"no such VIP\"}\n",
		"{\"cmd\":\"explain\",\"client\":\"198.18.0.1:40000\",\"vip\":\"198.18.100.99:53/udp\"}",
		1, "", "xlbctl: no such VIP\n",
	},
};

static void test_xlbctl_end_to_end(void **state)
{
	const char *args[MAX_ARGS + 4];
	char want_log[2048];
	size_t i, n;
	pid_t pid;

	(void)state;
	need_xlbctl();
	for (i = 0; i < sizeof(e2e_cases) / sizeof(e2e_cases[0]); i++) {
		const struct e2e_case *c = &e2e_cases[i];

		args[0] = "-s";
		args[1] = SOCK;
		for (n = 0; n < MAX_ARGS && c->args[n]; n++)
			args[n + 2] = c->args[n];
		args[n + 2] = NULL;
		pid = server_start(SERVE_REPLY, c->reply);
		expect_run(args, c->exit_code, c->out, c->err);
		server_stop(pid);
		snprintf(want_log, sizeof(want_log), "%s\n", c->request);
		if (strcmp(read_file(log_path), want_log))
			print_error("xlbctl %s\n", args_text(args));
		assert_string_equal(read_file(log_path), want_log);
	}
}

/* backend wait against a sequence of answers: how many it asked for, what it said. */
struct wait_case {
	const char *args[MAX_ARGS];
	const char *replies;	/* SERVE_SEQUENCE: one a request, the last again */
	int exit_code;
	const char *out;	/* NULL: any */
	const char *err;
	size_t min_requests, max_requests;
	__u64 min_ms;
};

static const struct wait_case wait_cases[] = {
	/*
	 * Drained at the first look, by the walks it already had: not enough.
	 * It ends at the first answer by a later walk that says drained.
	 */
	{
		{ "backend", "wait", VIP4, BE4, "drained" },
		DRAIN_REPLY("true", "0", "5") DRAIN_REPLY("true", "0", "5")
		DRAIN_REPLY("false", "1", "6") DRAIN_REPLY("true", "0", "7")
		DRAIN_REPLY("false", "1", "8"),
		0, "", "", 4, 4, 600,
	},
	/* never a later walk: times out, exit 4 */
	{
		{ "b", "wait", VIP4, BE4, "drained", "timeout", "1s" },
		DRAIN_REPLY("true", "0", "5"),
		4, "", "xlbctl: backend " BE4 " of " VIP4 " not drained after 1s (0 live flows)\n",
		5, 7, 1000,
	},
	{
		{ "-j", "b", "wait", VIP4, BE4, "drained", "timeout", "1s" },
		DRAIN_REPLY("false", "3", "5") DRAIN_REPLY("false", "2", "6"),
		4, "", "{\"error\":\"backend " BE4 " of " VIP4 " not drained after 1s (2 live flows)\"}\n",
		5, 7, 1000,
	},
	/* undrained meanwhile */
	{
		{ "backend", "wait", VIP4, BE4, "drained" },
		DRAIN_REPLY("false", "1", "5") BACKEND_SHOW_REPLY,
		1, "", "xlbctl: backend " BE4 " of " VIP4 " left drain (state up)\n", 2, 2, 200,
	},
	{
		{ "-j", "backend", "wait", VIP4, BE4, "drained" },
		DRAIN_REPLY("true", "0", "5") DRAIN_REPLY("true", "0", "6"),
		0, NULL, "", 2, 2, 200,
	},
};

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_xlbctl_wait(void **state)
{
	const char *args[MAX_ARGS + 4];
	struct timespec t0, t1;
	struct run_result *r;
	size_t i, n, lines;
	__u64 ms;
	pid_t pid;

	(void)state;
	need_xlbctl();
	for (i = 0; i < sizeof(wait_cases) / sizeof(wait_cases[0]); i++) {
		const struct wait_case *c = &wait_cases[i];

		args[0] = "-s";
		args[1] = SOCK;
		for (n = 0; n < MAX_ARGS && c->args[n]; n++)
			args[n + 2] = c->args[n];
		args[n + 2] = NULL;
		pid = server_start(SERVE_SEQUENCE, c->replies);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		expect_run(args, c->exit_code, c->out, c->err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		server_stop(pid);
		ms = (__u64)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		lines = count_lines(read_file(log_path));
		if (lines < c->min_requests || lines > c->max_requests || ms < c->min_ms)
			print_error("xlbctl %s: %zu requests (want %zu..%zu) in %llu ms (want >= %llu)\n",
				    args_text(args), lines, c->min_requests, c->max_requests,
				    (unsigned long long)ms, (unsigned long long)c->min_ms);
		assert_true(lines >= c->min_requests && lines <= c->max_requests);
		assert_true(ms >= c->min_ms);
		assert_non_null(strstr(read_file(log_path), WAIT_REQUEST "\n"));
	}
	/* -j: what it waited for, once done */
	r = &result;
	assert_non_null(strstr(r->out, "\"drained\":true,\"waited_ms\":"));
	assert_non_null(strstr(r->out, "\"flow_walks\":6}"));
}

/* -p prints the reply minus "ok", indented, and it parses back the same. */
static void test_xlbctl_pretty(void **state)
{
	static const char *const args[] = { "-s", SOCK, "--pretty", "status", NULL };
	struct json_object *want, *got;
	struct run_result *r;
	pid_t pid;

	(void)state;
	need_xlbctl();
	pid = server_start(SERVE_REPLY, STATUS_REPLY);
	r = run_xlbctl(args);
	server_stop(pid);
	assert_int_equal(r->exit_code, 0);
	assert_string_equal(r->err, "");
	assert_true(!strncmp(r->out, "{\n", 2));
	assert_non_null(strstr(r->out, "\n  \"prog_id\":42,\n"));
	want = json_tokener_parse(STATUS_REPLY);
	json_object_object_del(want, "ok");
	got = json_tokener_parse(r->out);
	assert_non_null(got);
	assert_true(json_object_equal(want, got));
	json_object_put(want);
	json_object_put(got);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xlbctl_bad_input),
		cmocka_unit_test(test_xlbctl_no_args),
		cmocka_unit_test(test_xlbctl_help_anywhere),
		cmocka_unit_test(test_xlbctl_no_daemon),
		cmocka_unit_test(test_xlbctl_default_socket),
		cmocka_unit_test(test_xlbctl_end_to_end),
		cmocka_unit_test(test_xlbctl_pretty),
		cmocka_unit_test(test_xlbctl_wait),
	};

	xlbctl_path = argc > 1 ? argv[1] : getenv("XLBCTL");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
