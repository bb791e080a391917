// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-decap: the backend side of L3 direct server return. Loads
 * bpf/decap.bpf.c onto an interface and says which load balancers
 * (source prefixes) and which local VIPs it decapsulates for.
 *
 * All state lives in bpffs, in one folder per interface: the XDP link
 * ("link") and the maps by name. The program keeps running after this
 * command exits, and a later attach changes the maps in place.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <bpf/libbpf.h>
#include "../../bpf/hash.h"
#include "syntax.h"
#include "version.h"
#include "xlb-decap.h"

#define LOCK_FILE "/run/xlb-decap.lock"

/* The keywords of a command line; a verb takes some of them. */
enum { KW_DEV, KW_SOURCE, KW_VIP, NKEYWORDS };
#define KW(k) (1u << (k))

static const struct xlb_cli_word keywords[NKEYWORDS] = {
	[KW_DEV] = { .name = "dev" },
	[KW_SOURCE] = { .name = "source" },
	[KW_VIP] = { .name = "vip" },
};

struct verb {
	struct xlb_cli_word w;
	int (*run)(const struct request *rq, const char *dir); /* NULL: help */
	unsigned int keywords;	/* KW() of those it takes */
	bool changes;		/* reads and then changes the pins: one at a time */
	bool any_dev;		/* without dev: every interface */
};

static const struct verb verbs[] = {
	{ { .name = "attach" }, decap_attach, KW(KW_DEV) | KW(KW_SOURCE) | KW(KW_VIP), true, false },
	{ { .name = "detach", .full = true }, decap_detach, KW(KW_DEV), true, false },
	{ { .name = "show" }, decap_show, KW(KW_DEV), false, true },
	{ { .name = "doctor" }, NULL, 0, false, false }, /* its own arguments: decap_doctor() */
	{ { .name = "help" }, NULL, 0, false, false },
};

static int verbose;

const char *bpf_err(int err)
{
	static char buf[128];

	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's own chatter would break the one-line error rule; -v shows it */
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fputs("Usage: xlb-decap [-d DIR] [-j] [-v] COMMAND\n"
	      "\n"
	      "  attach dev IF source PREFIX [source PREFIX ...] vip ADDR [vip ADDR ...]\n"
	      "         decapsulate, on IF, tunnel packets from these load balancer\n"
	      "         prefixes to these local VIPs; if IF has it already, replace\n"
	      "         the sources and VIPs in place\n"
	      "  detach dev IF\n"
	      "  show [dev IF]    sources, VIPs and counters (of every interface without dev)\n"
	      "  doctor [dev IF] [VIP ...]\n"
	      "         check this backend's set-up: the VIPs (given, and the attachments')\n"
	      "         on lo, a listener on each VIP given with a port, arp_ignore,\n"
	      "         arp_announce, rp_filter, the decap program attached (on IF if given);\n"
	      "         exit 0 all ok, 1 a warning or failure, 2 could not check\n"
	      "\n"
	      "PREFIX := ADDR[/LEN] (no LEN: the one address)\n"
	      "ADDR   := an IPv4 or IPv6 address\n"
	      "VIP    := ADDR, or ADDR:PORT/tcp|udp ([IPV6]:PORT/tcp)\n"
	      "Any unique prefix of a command or keyword will do: 'show dev IF' is 's d IF'.\n"
	      "\n"
	      "Options:\n"
	      "  -d, --bpffs DIR  pins go under DIR/IF/ (default " DEFAULT_BASE ")\n"
	      "  -j, --json       show as JSON on stdout, errors as JSON on stderr (as xlbctl)\n"
	      "  -v, --verbose    libbpf's messages (the verifier's, for one)\n"
	      "  -h, --help       this text\n"
	      "      --version    print the version and exit\n"
	      "\n"
	      "Exit status: 0 done, 1 failed, 2 bad usage.\n", f);
}

/* ---- arguments ---- */

enum addr_kind { ADDR_BAD, ADDR_V4, ADDR_V6, ADDR_V4_MAPPED };

/*
 * ADDR into the 16-byte form of the maps, by the library's rules. Those
 * refuse IPv4-mapped IPv6 text ("::ffff:198.18.0.1"), which gets its own
 * message here: it is told apart, and kept in out for the message's sake.
 */
static enum addr_kind parse_addr(const char *s, __be32 out[4])
{
	struct in6_addr a6;

	if (!xlb_parse_addr(s, out, NULL, 0))
		return xlb_addr_is_v4(out) ? ADDR_V4 : ADDR_V6;
	if (inet_pton(AF_INET6, s, &a6) != 1 || !IN6_IS_ADDR_V4MAPPED(&a6))
		return ADDR_BAD;
	memcpy(out, &a6, sizeof(a6));
	return ADDR_V4_MAPPED;
}

/* IPv4 prefixes live in ::ffff:0:0/96: an IPv6 one there would mix the families. */
static bool overlaps_v4_mapped(const __be32 addr[4], __u32 len)
{
	__be32 mapped[4] = { 0, 0, htonl(0xffff), 0 }, probe[4];

	memcpy(probe, addr, sizeof(probe));
	xlb_addr_mask(probe, len < 96 ? len : 96, probe);
	xlb_addr_mask(mapped, len < 96 ? len : 96, mapped);
	return !memcmp(probe, mapped, sizeof(probe));
}

static int parse_source(const char *arg, struct decap_source_key *key)
{
	const char *slash = strchr(arg, '/');
	size_t alen = slash ? (size_t)(slash - arg) : strlen(arg);
	enum addr_kind kind = ADDR_BAD;
	char addr[XLB_ADDR_STR_MAX];
	__be32 given[4];
	__u32 max, len;

	if (alen < sizeof(addr)) {
		memcpy(addr, arg, alen);
		addr[alen] = '\0';
		kind = parse_addr(addr, key->addr);
	}
	if (kind == ADDR_BAD)
		return xlb_cli_fail(-EINVAL, "source \"%s\": bad address", arg);
	max = kind == ADDR_V4 ? 32 : 128;
	len = max;
	if (slash && xlb_parse_u32(slash + 1, 0, max, &len, NULL, 0))
		return xlb_cli_fail(-EINVAL, "source \"%s\": bad prefix length (0..%u)", arg, max);
	if (kind != ADDR_V4 && overlaps_v4_mapped(key->addr, len))
		return xlb_cli_fail(-EINVAL, "source \"%s\": overlaps ::ffff:0:0/96, the "
				    "IPv4-mapped range; give IPv4 prefixes as IPv4", arg);
	key->prefixlen = kind == ADDR_V4 ? XLB_DECAP_V4_PREFIX_BASE + len : len;
	memcpy(given, key->addr, sizeof(given));
	xlb_addr_mask(key->addr, key->prefixlen, key->addr);
	/* 198.18.0.0/8 is a typo for 198.0.0.0/8 or for 198.18.0.0/16: ask which */
	if (memcmp(given, key->addr, sizeof(given))) {
		xlb_format_addr(key->addr, addr, sizeof(addr));
		return xlb_cli_fail(-EINVAL, "source \"%s\": host bits set (the prefix is %s/%u)",
				    arg, addr, len);
	}
	return 0;
}

static int parse_vip(const char *arg, struct decap_vip_key *key)
{
	if (strchr(arg, '/'))
		return xlb_cli_fail(-EINVAL, "vip \"%s\": a VIP is one address, not a prefix", arg);
	switch (parse_addr(arg, key->addr)) {
	case ADDR_BAD:
		return xlb_cli_fail(-EINVAL, "vip \"%s\": bad address", arg);
	case ADDR_V4_MAPPED:
		return xlb_cli_fail(-EINVAL, "vip \"%s\": IPv4-mapped; give the IPv4 address", arg);
	default:
		return 0;
	}
}

static int parse_dev(const char *arg, const char **dev)
{
	if (*dev)
		return xlb_cli_fail(-EINVAL, "dev \"%s\": dev given twice", arg);
	/* it names a folder: no '/', no "." or ".." */
	if (!*arg || strlen(arg) >= IFNAMSIZ || strchr(arg, '/') || !strcmp(arg, ".") ||
	    !strcmp(arg, ".."))
		return xlb_cli_fail(-EINVAL, "dev \"%s\": bad interface name", arg);
	*dev = arg;
	return 0;
}

/* A repeated source or VIP is harmless: keep one. */
static void keep_unique(void *keys, __u32 *n, size_t size)
{
	char *last = (char *)keys + *n * size;
	__u32 i;

	for (i = 0; i < *n; i++)
		if (!memcmp((char *)keys + i * size, last, size))
			return;
	(*n)++;
}

static int parse_value(const char *what, int kw, const char *val, struct request *rq)
{
	int ret;

	switch (kw) {
	case KW_DEV:
		return parse_dev(val, &rq->dev);
	case KW_SOURCE:
		if (rq->nsources == XLB_DECAP_MAX_SOURCES)
			return xlb_cli_fail(-E2BIG, "source \"%s\": more than %d sources", val,
					    XLB_DECAP_MAX_SOURCES);
		ret = parse_source(val, &rq->sources[rq->nsources]);
		if (!ret)
			keep_unique(rq->sources, &rq->nsources, sizeof(rq->sources[0]));
		return ret;
	case KW_VIP:
		if (rq->nvips == XLB_DECAP_MAX_VIPS)
			return xlb_cli_fail(-E2BIG, "vip \"%s\": more than %d VIPs", val,
					    XLB_DECAP_MAX_VIPS);
		ret = parse_vip(val, &rq->vips[rq->nvips]);
		if (!ret)
			keep_unique(rq->vips, &rq->nvips, sizeof(rq->vips[0]));
		return ret;
	}
	return xlb_cli_fail(-EINVAL, "%s: internal error: keyword %d", what, kw);
}

/* KEYWORD VALUE pairs after the verb, each keyword one the verb takes. */
static int parse_request(const struct verb *verb, int argc, char **argv, struct request *rq)
{
	const char *what = verb->w.name;
	char cands[128];
	int i, kw, ret;

	for (i = 0; i < argc; i += 2) {
		kw = xlb_cli_lookup(keywords, NKEYWORDS, sizeof(keywords[0]), argv[i], cands,
				    sizeof(cands));
		if (kw < 0 || !(verb->keywords & KW(kw)))
			return xlb_cli_fail(-EINVAL, "%s: unexpected argument \"%s\"", what, argv[i]);
		if (i + 1 >= argc)
			return xlb_cli_fail(-EINVAL, "%s: %s needs a value", what, keywords[kw].name);
		ret = parse_value(what, kw, argv[i + 1], rq);
		if (ret)
			return ret;
	}
	if (!rq->dev && !verb->any_dev)
		return xlb_cli_fail(-EINVAL, "%s: missing dev IF", what);
	if ((verb->keywords & KW(KW_SOURCE)) && !rq->nsources)
		return xlb_cli_fail(-EINVAL, "%s: at least one source PREFIX is needed", what);
	if ((verb->keywords & KW(KW_VIP)) && !rq->nvips)
		return xlb_cli_fail(-EINVAL, "%s: at least one vip ADDR is needed", what);
	return 0;
}

static const struct verb *lookup_verb(const char *arg)
{
	char cands[128];
	int i = xlb_cli_lookup(verbs, sizeof(verbs) / sizeof(verbs[0]), sizeof(verbs[0]), arg,
			       cands, sizeof(cands));

	if (i == XLB_CLI_WORD_AMBIGUOUS)
		xlb_cli_fail(-EINVAL, "ambiguous command \"%s\": %s", arg, cands);
	else if (i == XLB_CLI_WORD_SHORT)
		xlb_cli_fail(-EINVAL, "\"%s\" is short for \"%s\": destructive commands are typed in full",
			     arg, cands);
	else if (i < 0)
		xlb_cli_fail(-EINVAL, "unknown command \"%s\" (attach, detach, show or doctor)", arg);
	return i < 0 ? NULL : &verbs[i];
}

/*
 * -d, -j, -v, -h; they may follow the command ("show dev eth0 -j").
 * Returns 0, or an exit code once the first bad option is reported (after
 * the whole line, so that a later -j is known).
 */
static int parse_options(int argc, char **argv, struct request *rq, bool *want_help)
{
	static const struct option long_opts[] = {
		{ "bpffs", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char bad_option[256] = "";
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":d:jvh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			rq->base = optarg;
			break;
		case 'j':
			xlb_cli.json = true;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			*want_help = true;
			break;
		case 'V':
			printf("xlb-decap %s\n", xlb_version);
			exit(0);
		case ':':
			if (!bad_option[0])
				snprintf(bad_option, sizeof(bad_option),
					 "option \"%s\" needs an argument", argv[optind - 1]);
			break;
		default:
			if (!bad_option[0])
				snprintf(bad_option, sizeof(bad_option), "unknown option \"%s\"",
					 argv[optind - 1]);
			break;
		}
	}
	if (bad_option[0])
		return xlb_cli_fail(EXIT_USAGE, "%s", bad_option);
	return 0;
}

int main(int argc, char **argv)
{
	static struct request rq = { .base = DEFAULT_BASE };
	const struct verb *verb = NULL;
	bool want_help = false;
	char dir[PATH_MAX];
	int ret;

	xlb_cli.prog = "xlb-decap";
	ret = parse_options(argc, argv, &rq, &want_help);
	if (ret)
		return ret;
	if (!want_help && optind == argc)
		return xlb_cli_fail(EXIT_USAGE, "missing command (attach, detach, show or doctor; see -h)");
	if (!want_help && !(verb = lookup_verb(argv[optind])))
		return EXIT_USAGE;
	if (!want_help && !strcmp(verb->w.name, "doctor"))
		return decap_doctor(rq.base, argc - optind - 1, argv + optind + 1);
	if (want_help || !verb->run) {
		usage(stdout);
		return EXIT_OK;
	}
	if (parse_request(verb, argc - optind - 1, argv + optind + 1, &rq))
		return EXIT_USAGE;
	if (!*rq.base || (size_t)snprintf(dir, sizeof(dir), "%s/%s", rq.base,
					  rq.dev ? rq.dev : "") >= sizeof(dir))
		return xlb_cli_fail(EXIT_USAGE, "bpffs \"%s\": bad folder", rq.base);

	libbpf_set_print(libbpf_print);
	if (verb->changes) {
		int lock = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		/* held until exit */
		if (lock < 0 || flock(lock, LOCK_EX))
			return xlb_cli_fail(EXIT_FAIL, "cannot lock %s: %s", LOCK_FILE, strerror(errno));
	}
	return verb->run(&rq, dir) ? EXIT_FAIL : EXIT_OK;
}
