/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: the dcgmi reader must never crash, leak or read out of bounds. */
#include "ts_drain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drain(data, size, FP_FMT_DCGMI);
    drain(data, size, FP_FMT_AUTO);
    return 0;
}
