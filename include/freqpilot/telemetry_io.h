/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_TELEMETRY_IO_H
#define FREQPILOT_TELEMETRY_IO_H

/*
 * Writer of freqpilot's telemetry.csv (docs/formats.md): a header with every
 * fp_col name in enum order, then one row per sample; NAN is an empty cell.
 * Each value is first rounded to the digits its source has (fp_telemetry_quantize:
 * power to the mW, energy to the mJ, t_s to the microsecond, ...), then written in the
 * shortest fixed form that reads back to the same double ("43.454", "0.05").
 * The file appears only on commit (temporary file + rename, see atomic.h);
 * path "-" writes to stdout. Read it back with fp_ts_open(..., FP_FMT_TELEMETRY).
 */

#include "freqpilot/error.h"
#include "freqpilot/sample.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fp_telemetry_writer fp_telemetry_writer;

/* Creates the temporary file and writes the header. */
fp_status fp_telemetry_writer_open(fp_telemetry_writer **out, const char *path, fp_error *err);
fp_status fp_telemetry_write_sample(fp_telemetry_writer *w, const fp_sample *s, fp_error *err);
/* Flushes, fsyncs and renames into place, then frees w (also on error, after removing the
 * temporary file). */
fp_status fp_telemetry_writer_commit(fp_telemetry_writer *w, fp_error *err);
/* Removes the temporary file and frees w. NULL is a no-op. */
void fp_telemetry_writer_abort(fp_telemetry_writer *w);

/*
 * Formats v into buf (at least 32 bytes) in the shortest fixed form that reads back to the
 * same double, else with 17 significant digits; returns the length. NAN gives "" (length 0).
 */
int fp_telemetry_format_value(double v, char *buf);
/* v rounded to the decimals column c is written with (t_s 6, power 3, energy 0, activities 5,
 * ...: no more than the source has); not finite: v. */
double fp_telemetry_quantize(fp_col c, double v);

#ifdef __cplusplus
}
#endif
#endif
