/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: the per-run table parser on arbitrary bytes; what it accepts is possible. */
#define _GNU_SOURCE
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "freqpilot/run.h"
#include "fuzz_file.h"
#include "telemetry/layouts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_run_list l = {0};
    fp_error err;
    if (fp_runtable_load_mem(data, size, "fuzz.csv", NULL, &l, &err) == FP_OK)
        for (size_t i = 0; i < l.len; i++) {
            const fp_run *r = &l.items[i];
            FUZZ_CHECK(r->freq_mhz >= 1 && r->freq_mhz <= 10000);
            FUZZ_CHECK(r->time_s >= 0 && !(r->energy_j < 0) && !(r->power_w > 5000));
        }
    fp_run_list_free(&l);
    return 0;
}
