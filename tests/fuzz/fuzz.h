/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by the libFuzzer harnesses: a property that does not hold is a
 * crash, with a line saying which one, so libFuzzer saves the input.
 */
#ifndef XLB_FUZZ_H
#define XLB_FUZZ_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((format(printf, 1, 2), noreturn))
static inline void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz property violated: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define fuzz_assert(cond, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail(__VA_ARGS__); \
	} while (0)

/* data as a NUL-terminated string (cut at its first NUL). Never NULL. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Consume and return the next byte of the input, 0 once it is used up. */
static inline uint8_t fuzz_byte(const uint8_t **data, size_t *size)
{
	uint8_t b;

	if (!*size)
		return 0;
	b = **data;
	(*data)++;
	(*size)--;
	return b;
}

#endif /* XLB_FUZZ_H */
