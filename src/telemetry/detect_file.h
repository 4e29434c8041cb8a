/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_TELEMETRY_DETECT_FILE_H
#define FP_TELEMETRY_DETECT_FILE_H

/*
 * Format of one file by content (the first non-blank lines): a dcgmi dmon
 * table, a freqpilot telemetry.csv, an nvidia-smi CSV (with or without a
 * header) or a per-run table. fp_detect_format (folders too) builds on this.
 */

#include <stddef.h>

#include "freqpilot/reader.h"

fp_status fp_detect_file_format(const char *path, fp_format *out, fp_error *err);
/* Same on the first bytes of a file already in memory; name is used in messages. */
fp_status fp_detect_buffer_format(const void *data, size_t len, const char *name, fp_format *out,
                                  fp_error *err);

#endif
