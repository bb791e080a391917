// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbd's log: stderr, one line per message, with libbpf's messages in it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "xlbd.h"

int log_level = LOG_INFO;

void logmsg(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > log_level)
		return;
	fprintf(stderr, "xlbd: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* libbpf's messages go through the same log, one line each. */
int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t len;

	if (level == LIBBPF_DEBUG && log_level < LOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	logmsg(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, "libbpf: %s", buf);
	return 0;
}
