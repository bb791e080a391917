// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl: the operator's command for xlbd, in the style of ip(8) and
 * bpftool: xlbctl [OPTIONS] OBJECT VERB [ARGS], any unique prefix of a
 * word will do. Arguments are checked here, before anything is sent, so
 * a typo gets a precise message and never reaches the daemon; then one
 * request goes over the control socket and the reply is printed.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "xlbctl.h"
#include "version.h"

static int help(struct cmd *c);

/* One entry per object; each has its file, and a verb table there if it has verbs. */
static const struct object objects[] = {
	{
		{ .name = "vip" }, do_vip,
		"xlbctl vip add VIP [sched maglev|source-hash|rr|wrr|lc|wlc|lt] [forward l2dsr|ipip]\n"
		"               [check none|tcp|http PATH|https PATH] [check-port PORT] [check-via backend|vip]\n"
		"               [interval DUR] [timeout DUR] [rise N] [fall N] [min-up N]\n"
		"               [persist DUR [persist-prefix-v4 N] [persist-prefix-v6 N]]\n"
		"               [limit-rate N [limit-burst N]] [limit-conns N]\n"
		"               [limit-prefix-v4 N] [limit-prefix-v6 N]\n"
		"xlbctl vip set VIP [any of vip add's settings; persist off]   (backends and flows stay)\n"
		"xlbctl vip del VIP\n"
		"xlbctl vip show [VIP]\n",
	},
	{
		{ .name = "backend", .alias = "b" }, do_backend, /* "b" stayed backend when block came */
		"xlbctl backend add VIP ADDR [weight N]\n"
		"xlbctl backend del VIP ADDR\n"
		"xlbctl backend set VIP ADDR weight N | drain | undrain | disable | enable\n"
		"xlbctl backend show [VIP]\n"
		"xlbctl backend wait VIP ADDR drained [timeout DUR]\n",
	},
	{
		{ .name = "lb" }, do_lb,
		"xlbctl lb show\n"
		"xlbctl lb withdraw | announce   (the host's VIPs out of, back into, the routing table)\n",
	},
	{
		{ .name = "block" }, do_block,
		"xlbctl block add PREFIX [vip VIP] [allow]   (allow: never blocked; asked first)\n"
		"xlbctl block del PREFIX [vip VIP] [allow]\n"
		"xlbctl block show [VIP]\n",
	},
	{
		{ .name = "conntrack", .alias = "ct" }, do_conntrack,
		"xlbctl conntrack list [VIP] [BACKEND] [-n N]   (N rows at most, default 100, 0..10000)\n"
		"xlbctl conntrack flush [VIP] [BACKEND]   (typed in full: the next packet is scheduled again)\n",
	},
	{ { .name = "stats" }, do_stats,
	  "xlbctl stats [-z] [VIP]   (-z: then from zero, for xlbctl only; metrics go on)\n" },
	{ { .name = "top" }, do_top, "xlbctl top [VIP] [-n COUNT]\n" },
	{ { .name = "explain" }, do_explain, "xlbctl explain CLIENT VIP [syn]\n" },
	{ { .name = "status" }, do_status, "xlbctl status\n" },
	{ { .name = "reload" }, do_reload,
	  "xlbctl reload [force] [dry-run]   (dry-run: what it would change, field by field)\n" },
	{ { .name = "config", .alias = "c" }, do_config, /* "c" stayed config when conntrack came */
	  "xlbctl config dump   (the desired state, runtime changes too, as YAML for xlbd -c)\n" },
	{ { .name = "doctor" }, do_doctor,
	  "xlbctl doctor   (this host's set-up: one line per finding, each problem with its fix)\n" },
	{ { .name = "help" }, help, "xlbctl help [OBJECT]\n" },
};

#define NOBJECTS (sizeof(objects) / sizeof(objects[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("Usage: xlbctl [-s SOCKET] [-j] [-p] OBJECT VERB [ARGS]\n\n", f);
	for (i = 0; i < NOBJECTS; i++)
		fputs(objects[i].usage, f);
	fprintf(f,
		"\n"
		"Options:\n"
		"  -s, --socket PATH  control socket of xlbd (default %s)\n"
		"  -j, --json         print the reply, and errors, as one JSON object\n"
		"  -p, --pretty       the same, indented (implies -j)\n"
		"  -h, --help         this text\n"
		"      --version      print the version and exit\n"
		"\n"
		"VIP  := ADDR:PORT/tcp|udp or [IPV6]:PORT/tcp|udp (port 0: every port)\n"
		"ADDR := an IPv4 or IPv6 address\n"
		"CLIENT := ADDR:PORT or [IPV6]:PORT\n"
		"DUR  := a whole number with a unit: ms, s, m or h (500ms, 2s)\n"
		"Any unique prefix of an object, verb or keyword will do: 'xlbctl b s';\n"
		"not of del, disable, withdraw or flush, which are typed in full.\n"
		"Without a verb, vip and backend show.\n"
		"top shows rates every second until q or Ctrl-C; -n COUNT: COUNT refreshes.\n"
		"explain traces one packet from CLIENT to VIP (syn: a TCP SYN).\n"
		"backend wait returns once a draining backend has no live flow (timeout: 5m).\n"
		"reload refuses a file that removes every VIP or more than half of them,\n"
		"unless given force (spelled out), and one that changes a key only a restart\n"
		"applies (interfaces, xdp_mode, conntrack, metrics, announce, handoff).\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  the daemon refused the request (its reason is printed), or its\n"
		"     socket refused this user (permission denied: run as root)\n"
		"  2  bad usage or input, caught before anything was sent\n"
		"  3  the daemon is not running, did not answer, or answered garbage\n"
		"  4  backend wait: not drained within the timeout\n"
		"doctor: 0 every check ok, 1 a warning or failure found, 2 could not check\n",
		XLB_SOCKET_PATH);
}

int lookup_keyword(const struct cmd *c, const struct xlb_cli_word *table, size_t n,
		   const char *arg, int *ret)
{
	char cands[512];
	int i = xlb_cli_lookup(table, n, sizeof(*table), arg, cands, sizeof(cands));

	if (i == XLB_CLI_WORD_UNKNOWN)
		*ret = usage_error("unknown keyword '%s' for '%s'", arg, c->what);
	else if (i == XLB_CLI_WORD_AMBIGUOUS)
		*ret = usage_error("ambiguous keyword '%s' for '%s': %s", arg, c->what, cands);
	else if (i == XLB_CLI_WORD_SHORT)
		*ret = usage_error(XLB_CLI_SHORT_FMT, arg, cands);
	return i;
}

int next_keyword(struct cmd *c, const struct xlb_cli_word *table, size_t n,
		 unsigned int *seen, int *ret)
{
	const char *arg = next_arg(c);
	int kw;

	if (!arg)
		return -1;
	kw = lookup_keyword(c, table, n, arg, ret);
	if (kw < 0 || !seen)
		return kw;
	if (*seen & (1u << kw)) {
		*ret = usage_error("'%s': duplicate keyword '%s'", c->what, table[kw].name);
		return -1;
	}
	*seen |= 1u << kw;
	return kw;
}

int run_verb(struct cmd *c, const struct verb *verbs, size_t n, const char *default_verb)
{
	const char *arg = next_arg(c), *object = c->obj->w.name;
	char cands[512];
	int i;

	if (!arg)
		arg = default_verb;
	i = xlb_cli_lookup(verbs, n, sizeof(verbs[0]), arg, cands, sizeof(cands));
	if (i == XLB_CLI_WORD_UNKNOWN)
		return usage_error("unknown verb '%s' for '%s'", arg, object);
	if (i == XLB_CLI_WORD_AMBIGUOUS)
		return usage_error("ambiguous verb '%s' for '%s': %s", arg, object, cands);
	if (i == XLB_CLI_WORD_SHORT)
		return usage_error(XLB_CLI_SHORT_FMT, arg, cands);
	snprintf(c->what, sizeof(c->what), "%s %s", object, verbs[i].w.name);
	return verbs[i].run(c);
}

static int lookup_object(const char *arg)
{
	char cands[512];
	int i = xlb_cli_lookup(objects, NOBJECTS, sizeof(objects[0]), arg, cands, sizeof(cands));

	if (i == XLB_CLI_WORD_UNKNOWN)
		usage_error("unknown object '%s'", arg);
	else if (i == XLB_CLI_WORD_AMBIGUOUS)
		usage_error("ambiguous command '%s': %s", arg, cands);
	else if (i == XLB_CLI_WORD_SHORT)
		usage_error(XLB_CLI_SHORT_FMT, arg, cands);
	return i;
}

static int help(struct cmd *c)
{
	const char *arg = next_arg(c);
	int i, ret;

	if (!arg) {
		usage(stdout);
		return EXIT_DONE;
	}
	i = lookup_object(arg);
	if (i < 0)
		return EXIT_USAGE;
	ret = no_more_args(c);
	if (ret)
		return ret;
	fputs(objects[i].usage, stdout);
	return EXIT_DONE;
}

int object_help(struct cmd *c)
{
	int ret = no_more_args(c);

	if (ret)
		return ret;
	fputs(c->obj->usage, stdout);
	return EXIT_DONE;
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

/* The next line of a usage text. */
static const char *line_end(const char *line)
{
	const char *end = line + strcspn(line, "\n");

	return *end ? end + 1 : end;
}

/*
 * -h or --help after OBJECT [VERB]: that verb's lines of the object's usage
 * (its line "xlbctl OBJ VERB ..." and the indented ones after it), or all
 * of them when the word names no one verb there, in full or as a prefix.
 */
static int command_help(const struct object *o, const char *verb)
{
	size_t olen = strlen(o->w.name), vlen = verb ? strlen(verb) : 0, wlen;
	const char *line, *w, *pick = NULL;
	int hits = 0;

	for (line = o->usage; vlen && *line; line = line_end(line)) {
		if (strncmp(line, "xlbctl ", 7) || strncmp(line + 7, o->w.name, olen) ||
		    line[7 + olen] != ' ')
			continue;
		w = line + 8 + olen;
		wlen = strcspn(w, " \n");
		if (wlen < vlen || strncmp(w, verb, vlen))
			continue;
		pick = line;
		if (wlen == vlen) { /* the word in full wins over the longer ones */
			hits = 1;
			break;
		}
		hits++;
	}
	if (hits != 1) {
		fputs(o->usage, stdout);
		return EXIT_DONE;
	}
	line = pick;
	do {
		fwrite(line, 1, line_end(line) - line, stdout);
		line = line_end(line);
	} while (*line == ' ');
	return EXIT_DONE;
}

static int run_object(int argc, char **argv)
{
	struct cmd c = { .argc = argc, .argv = argv };
	int i = lookup_object(next_arg(&c)), k;

	if (i < 0)
		return EXIT_USAGE;
	for (k = 0; k < c.argc; k++)
		if (is_help(c.argv[k]))
			return command_help(&objects[i], k ? c.argv[0] : NULL);
	c.obj = &objects[i];
	snprintf(c.what, sizeof(c.what), "%s", c.obj->w.name);
	return c.obj->run(&c);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char bad_option[512] = "";
	bool want_help = false;
	int opt;

	xlb_cli.prog = "xlbctl";
	/* Our own messages, in JSON too; '+' stops at OBJECT, so "-1" stays an argument. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:s:jph", long_opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			socket_path = optarg;
			break;
		case 'p':
			xlb_cli.pretty = true;
			/* fall through */
		case 'j':
			xlb_cli.json = true;
			break;
		case 'h':
			want_help = true;
			break;
		case 'V':
			printf("xlbctl %s\n", xlb_version);
			return 0;
		case ':':
			/* Report the first problem, once -j/-p later on the line are known. */
			if (!bad_option[0])
				snprintf(bad_option, sizeof(bad_option), "option '%s' needs an argument",
					 argv[optind - 1]);
			break;
		default:
			if (bad_option[0])
				break;
			if (optopt)
				snprintf(bad_option, sizeof(bad_option), "unknown option '-%c'", optopt);
			else
				snprintf(bad_option, sizeof(bad_option), "unknown option '%s'",
					 argv[optind - 1]);
			break;
		}
	}
	if (bad_option[0])
		return usage_error("%s", bad_option);
	if (want_help) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (optind == argc) {
		if (xlb_cli.json)
			return usage_error("missing object (see 'xlbctl help')");
		usage(stderr);
		return EXIT_USAGE;
	}
	return run_object(argc - optind, argv + optind);
}
