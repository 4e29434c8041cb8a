/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: a DATASET manifest.json; what it accepts holds only possible values. */
#define _GNU_SOURCE
#include "freqpilot/dataset.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fp_dataset_manifest m;
    fp_error err;
    if (fp_dataset_read_manifest(fuzz_file(data, size), &m, &err) != FP_OK)
        return 0;
    FUZZ_CHECK(m.n_clocks <= FP_DATASET_MAX_CLOCKS);
    for (size_t i = 0; i < m.n_clocks; i++)
        FUZZ_CHECK(m.clocks_mhz[i] > 0 && m.clocks_mhz[i] <= FP_DATASET_MHZ_MAX);
    FUZZ_CHECK(m.runs_per_clock >= -1 && m.runs_per_clock <= 1000000);
    FUZZ_CHECK(m.warmup_runs >= -1 && m.warmup_runs <= 1000000);
    return 0;
}
