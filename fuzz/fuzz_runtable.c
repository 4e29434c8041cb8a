/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: the per-run table parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "freqpilot/run.h"
#include "telemetry/layouts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_run_list l = {0};
    fp_error err;
    fp_runtable_load_mem(data, size, "fuzz.csv", NULL, &l, &err);
    fp_run_list_free(&l);
    return 0;
}
