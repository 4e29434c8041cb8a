/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_UTIL_UTF8_H
#define FP_UTIL_UTF8_H

/*
 * Text that reaches cairo (which refuses a string that is not valid UTF-8, and with it the whole
 * PDF) and fixed-size name fields: cut at a character boundary, never inside one, and bytes that
 * are not UTF-8 (a Latin-1 file, a name cut elsewhere) replaced, so no drawing fails on them.
 */

#include <stddef.h>

/* Length of the longest prefix of s[0..len) that ends on a character boundary and is valid
 * UTF-8 (stops at the first invalid sequence or at a sequence cut by len). */
size_t fp_utf8_valid_prefix(const char *s, size_t len);
/* Copies the len bytes of s (need not be NUL-terminated) into dst (size bytes, NUL-terminated);
 * when they do not fit, cut at a character boundary so a multi-byte character is never split.
 * Returns the bytes copied. */
size_t fp_utf8_copy(char *dst, size_t size, const char *s, size_t len);
/* 1 when the NUL-terminated s is valid UTF-8. */
int fp_utf8_valid(const char *s);
/* s with every byte that is not part of a valid UTF-8 sequence replaced by '?', into dst (size
 * bytes, cut at a character boundary). Returns dst. */
char *fp_utf8_sanitize(char *dst, size_t size, const char *s);

#endif
