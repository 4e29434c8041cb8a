/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_UTIL_OUTPUT_H
#define FP_UTIL_OUTPUT_H

/*
 * The writers every output shares: JSON written atomically, and CSV cells that
 * pandas and spreadsheets read back exactly (RFC 4180 quoting; NAN = empty cell).
 */

#include <stdio.h>

#include <jansson.h>

#include "freqpilot/error.h"

/* Flags for outputs read by people and scripts: 2-space indent, 10 significant digits. */
#define FP_JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(10))

/*
 * Writes root (its reference is always consumed, also on error) to path through
 * fp_atomic_open/commit, with a final newline; "-" = stdout. A NULL root is an
 * out-of-memory error from the caller's JSON building.
 */
fp_status fp_json_write_atomic(const char *path, json_t *root, size_t flags, fp_error *err);

/* A CSV text cell: quoted when it holds a separator, a quote, a line break or edge spaces. */
void fp_csv_put_str(FILE *fp, const char *s);
/* ",value" with %.10g, or "," alone for a value that is not finite (empty cell). */
void fp_csv_put_num(FILE *fp, double v);
/* v as these outputs write it (%.10g) and a reader gets it back: computing on this value
 * gives the same answer as computing on the file (not finite: v itself). */
double fp_num_as_written(double v);

#endif
