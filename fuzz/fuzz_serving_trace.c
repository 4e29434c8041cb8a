/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: the LLM request trace reader (both layouts) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "freqpilot/serving.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_request_list l;
    fp_error err;
    if (fp_serving_trace_load_mem(data, size, "fuzz.csv", &l, &err) == FP_OK)
        fp_request_list_free(&l);
    return 0;
}
