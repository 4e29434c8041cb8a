/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness: the daemon's rate file (govern/rate.c), fed in pieces as reads of a FIFO
 * arrive; the rate is never negative or infinite, and the pieces do not change it.
 */
#define _GNU_SOURCE
#include <math.h>

#include "fuzz_file.h"
#include "govern/govern_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gv_rate_reader whole, pieces;
    gv_rate_init(&whole);
    gv_rate_init(&pieces);
    gv_rate_feed(&whole, (const char *)data, size);
    /* The same bytes in pieces of 1, 2, 3, ... bytes. */
    for (size_t off = 0, k = 1; off < size; off += k, k = k % 7 + 1)
        gv_rate_feed(&pieces, (const char *)data + off, off + k <= size ? k : size - off);
    FUZZ_CHECK(isnan(whole.rate) || (whole.rate >= 0 && isfinite(whole.rate)));
    FUZZ_CHECK((isnan(whole.rate) && isnan(pieces.rate)) || whole.rate == pieces.rate);
    return 0;
}
