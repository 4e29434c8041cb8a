/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: aggregated.csv read back (optimize, report); rows hold possible values. */
#define _GNU_SOURCE
#include "freqpilot/aggregate.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_agg_result r;
    fp_error err;
    if (fp_agg_read_csv(fuzz_file(data, size), &r, &err) != FP_OK)
        return 0;
    for (size_t i = 0; i < r.nrows; i++) {
        const fp_agg_row *x = &r.rows[i];
        FUZZ_CHECK(x->freq_mhz > 0 && x->freq_mhz <= 10000);
        FUZZ_CHECK(!(x->energy_j < 0) && !(x->time_s < 0) && !(x->power_w > 5000));
        FUZZ_CHECK(x->runs >= 0 && x->runs_dropped >= 0);
    }
    fp_agg_result_free(&r);
    return 0;
}
