/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_FUZZ_TS_DRAIN_H
#define FP_FUZZ_TS_DRAIN_H
/*
 * Shared body of the time-series reader harnesses: open the input as FMT, read every
 * sample, rewind, read again, and trap when the second pass disagrees with the first.
 */
#include <stddef.h>
#include <stdint.h>

#include "freqpilot/reader.h"
#include "telemetry/ts_internal.h"

static inline void drain(const uint8_t *data, size_t size, fp_format fmt)
{
    fp_ts_options opt = {.interval_s = 0, .gpu_index = -1, .diag = NULL};
    fp_ts_reader *r;
    fp_error err;
    if (fp_ts_open_mem(data, size, "fuzz", fmt, &opt, &r, &err) != FP_OK)
        return;
    fp_sample s;
    long n = 0;
    while (fp_ts_next(r, &s, &err) == 1)
        n++;
    /* A second pass must give the same count. */
    if (fp_ts_rewind(r, &err) == FP_OK) {
        long m = 0;
        while (fp_ts_next(r, &s, &err) == 1)
            m++;
        if (m != n)
            __builtin_trap();
    }
    (void)fp_ts_get_info(r);
    fp_ts_close(r);
}

#endif
