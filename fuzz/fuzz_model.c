/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: the model JSON readers (model.json of `model fit`, the report's curves). */
#define _GNU_SOURCE
#include "freqpilot/model.h"
#include "freqpilot/plot.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    fp_error err;
    fp_model_file m;
    if (fp_model_read_file(path, &m, &err) == FP_OK) {
        for (size_t i = 0; i < m.ncurves; i++)
            FUZZ_CHECK(m.curves[i].fmax_mhz > 0 && m.curves[i].fmax_mhz <= 10000);
        fp_model_file_free(&m);
    }
    fp_model_set s;
    if (fp_model_read_json(path, &s, &err) == FP_OK)
        fp_model_set_free(&s);
    return 0;
}
