/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness: freqpilot's optimal.json through both of its readers (validate/apply,
 * report); the original project's shapes reach the first one too.
 */
#define _GNU_SOURCE
#include <math.h>

#include "freqpilot/optimize.h"
#include "freqpilot/plot.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    fp_opt_results r;
    fp_error err;
    if (fp_opt_read_json(path, &r, &err) == FP_OK) {
        for (size_t i = 0; i < r.len; i++) {
            FUZZ_CHECK(r.items[i].freq_mhz > 0 && r.items[i].freq_mhz <= 10000);
            FUZZ_CHECK(r.items[i].gpu[0] && r.items[i].app[0]);
        }
        fp_opt_results_free(&r);
    }
    fp_rec_list l = {0};
    if (fp_recs_read_json(path, &l, &err) == FP_OK)
        for (size_t i = 0; i < l.len; i++)
            FUZZ_CHECK(isnan(l.items[i].freq_mhz) ||
                       (l.items[i].freq_mhz > 0 && l.items[i].freq_mhz <= 10000));
    fp_rec_list_free(&l);
    return 0;
}
