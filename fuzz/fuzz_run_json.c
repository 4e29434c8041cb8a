/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: a DATASET run.json; what it accepts holds only possible values. */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>

#include "freqpilot/dataset.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_run_record r;
    fp_error err;
    if (fp_dataset_read_run_json(fuzz_file(data, size), &r, &err) != FP_OK)
        return 0;
    FUZZ_CHECK(isnan(r.requested_clock_mhz) ||
               (r.requested_clock_mhz >= 1 && r.requested_clock_mhz <= FP_DATASET_MHZ_MAX));
    FUZZ_CHECK(isnan(r.achieved_clock_mhz) ||
               (r.achieved_clock_mhz >= 0 && r.achieved_clock_mhz <= FP_DATASET_MHZ_MAX));
    FUZZ_CHECK(isnan(r.wall_time_s) || (r.wall_time_s >= 0 && r.wall_time_s <= 1e7));
    FUZZ_CHECK(!(r.window_end_s < r.window_start_s));
    FUZZ_CHECK(!(r.end_monotonic_s < r.start_monotonic_s));
    FUZZ_CHECK(r.telemetry[0] && !strchr(r.telemetry, '/'));
    return 0;
}
