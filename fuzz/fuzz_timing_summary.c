/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: timing_summary.log and perf.csv parsers on arbitrary bytes. */
#define _GNU_SOURCE
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "telemetry/layouts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_timing_row *rows = NULL;
    size_t n = 0;
    int whole;
    double sec[64];
    fp_error err;
    if (fp_timing_summary_parse_mem(data, size, "timing_summary.log", &rows, &n, &whole, &err) ==
        FP_OK) {
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(rows[i].run_id[0] && rows[i].duration_s >= 0);
            FUZZ_CHECK(isnan(rows[i].freq_mhz) ||
                       (rows[i].freq_mhz > 0 && rows[i].freq_mhz <= 1e4));
            for (size_t j = 0; j < i; j++)
                FUZZ_CHECK(strcmp(rows[i].run_id, rows[j].run_id) != 0);
        }
    }
    free(rows);
    fp_perf_csv_parse_mem(data, size, "perf.csv", sec, 64, &n, &whole, &err);
    return 0;
}
