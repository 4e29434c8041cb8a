/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: timing_summary.log and perf.csv parsers on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "telemetry/layouts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_timing_row *rows = NULL;
    size_t n = 0;
    double sec[64];
    fp_error err;
    fp_timing_summary_parse_mem(data, size, "timing_summary.log", &rows, &n, &err);
    free(rows);
    fp_perf_csv_parse_mem(data, size, "perf.csv", sec, 64, &n, &err);
    return 0;
}
