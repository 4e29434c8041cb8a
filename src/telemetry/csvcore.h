/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_TELEMETRY_CSVCORE_H
#define FP_TELEMETRY_CSVCORE_H

/* The one CSV/whitespace field splitter and number parser every reader uses. */

#include <stddef.h>

/*
 * Splits line (len bytes, NUL-terminated) in place at sep, trims spaces and
 * tabs around each field and unquotes "quoted" fields ("" is a quote). Each
 * field is NUL-terminated. Returns the field count, or -1 when there are more
 * than max fields.
 */
int fp_csv_split(char *line, size_t len, char sep, char **fields, size_t *lens, int max);

/* Splits on runs of spaces/tabs (dcgmi dmon). Same return convention. */
int fp_ws_split(char *line, size_t len, char **fields, size_t *lens, int max);

/*
 * Strict number parse of s[0..len) (no surrounding spaces): 0 = ok (*out set);
 * 1 = not available (empty, N/A, [N/A], [Not Supported], any other bracketed
 * nvidia-smi marker; *out = NAN); -1 = not a number. Decimal numbers are
 * correctly rounded (fast path for up to 15 significant digits and short
 * fractions, strtod otherwise); "0x..." hexadecimal integers (clock-event
 * masks) are accepted.
 */
int fp_parse_num(const char *s, size_t len, double *out);

/* 1 when s[0..len) is one of the "not available" markers fp_parse_num accepts. */
int fp_is_na(const char *s, size_t len);

#endif
