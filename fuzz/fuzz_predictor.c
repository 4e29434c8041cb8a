/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: the govern predictor model (`govern train -o`, fp_pred_load). */
#define _GNU_SOURCE
#include "freqpilot/govern.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fp_predictor p;
    fp_error err;
    if (fp_pred_load(&p, fuzz_file(data, size), &err) != FP_OK)
        return 0;
    FUZZ_CHECK(p.n <= FP_PRED_MAX_EXAMPLES);
    for (size_t i = 0; i < p.n; i++)
        FUZZ_CHECK(p.ex[i].best_clock_frac > 0 && p.ex[i].best_clock_frac <= 1);
    return 0;
}
