/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: the original project's optimal_frequencies.json shapes (aie_results.h). */
#define _GNU_SOURCE
#include <string.h>

#include "freqpilot/aie_results.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_opt_results r;
    fp_error err;
    if (fp_aie_results_read_mem(data, size, "optimal_frequencies.json", &r, &err) != FP_OK)
        return 0;
    FUZZ_CHECK(fp_aie_results_is_original(&r) && r.len > 0);
    for (size_t i = 0; i < r.len; i++) {
        const fp_opt_result *x = &r.items[i];
        FUZZ_CHECK(x->freq_mhz >= 1 && x->freq_mhz <= 10000);
        FUZZ_CHECK(!(x->energy_j < 0) && !(x->time_s < 0));
        FUZZ_CHECK(strstr(x->message, "original project") != NULL);
    }
    fp_opt_results_free(&r);
    return 0;
}
