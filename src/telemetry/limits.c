/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What a telemetry value can physically be (docs/formats.md, "Impossible values"). A sample
 * with a value outside its column's range makes the file unusable: the reader stops with
 * FILE:LINE and the range. The bounds are wide on purpose (no GPU draws 5 kW, no clock
 * reaches 10 GHz): they catch corruption and wrong units, never a real reading.
 */
#include <math.h>

#include "freqpilot/sample.h"
#include "telemetry/ts_internal.h"

#define W_MAX 5000.0       /* board power of any GPU, W */
#define MHZ_MAX 10000.0    /* any clock, MHz */
#define MIB_MAX 16777216.0 /* 16 TiB of frame buffer */

const double fp_col_lo[FP_COL_COUNT] = {
    [FP_COL_T_S] = -1.7976931348623157e308,
    [FP_COL_POWER_W] = 0,
    [FP_COL_POWER_AVG_W] = 0,
    [FP_COL_ENERGY_MJ] = 0,
    [FP_COL_SM_CLOCK_MHZ] = 0,
    [FP_COL_MEM_CLOCK_MHZ] = 0,
    [FP_COL_GPU_UTIL_PCT] = 0,
    [FP_COL_MEM_UTIL_PCT] = 0,
    [FP_COL_SM_ACTIVE] = 0,
    [FP_COL_SM_OCCUPANCY] = 0,
    [FP_COL_TENSOR_ACTIVE] = 0,
    [FP_COL_DRAM_ACTIVE] = 0,
    [FP_COL_FP64_ACTIVE] = 0,
    [FP_COL_FP32_ACTIVE] = 0,
    [FP_COL_FP16_ACTIVE] = 0,
    [FP_COL_TEMP_C] = -40,
    [FP_COL_MEM_TEMP_C] = -40,
    [FP_COL_FB_USED_MIB] = 0,
    [FP_COL_PSTATE] = 0,
    [FP_COL_THROTTLE_REASONS] = 0,
    [FP_COL_POWER_LIMIT_W] = 0,
    [FP_COL_GR_ACTIVE] = 0,
    [FP_COL_APP_CLOCK_MHZ] = 0,
};

const double fp_col_hi[FP_COL_COUNT] = {
    /* t_s: any finite time (an infinite one fails here too) */
    [FP_COL_T_S] = 1.7976931348623157e308,
    [FP_COL_POWER_W] = W_MAX,
    [FP_COL_POWER_AVG_W] = W_MAX,
    [FP_COL_ENERGY_MJ] = 1.8446744073709552e19, /* a 64-bit counter */
    [FP_COL_SM_CLOCK_MHZ] = MHZ_MAX,
    [FP_COL_MEM_CLOCK_MHZ] = MHZ_MAX,
    [FP_COL_GPU_UTIL_PCT] = 100,
    [FP_COL_MEM_UTIL_PCT] = 100,
    [FP_COL_SM_ACTIVE] = 1,
    [FP_COL_SM_OCCUPANCY] = 1,
    [FP_COL_TENSOR_ACTIVE] = 1,
    [FP_COL_DRAM_ACTIVE] = 1,
    [FP_COL_FP64_ACTIVE] = 1,
    [FP_COL_FP32_ACTIVE] = 1,
    [FP_COL_FP16_ACTIVE] = 1,
    [FP_COL_TEMP_C] = 150,
    [FP_COL_MEM_TEMP_C] = 150,
    [FP_COL_FB_USED_MIB] = MIB_MAX,
    [FP_COL_PSTATE] = 32, /* P0..P15, 32 = unknown (NVML) */
    [FP_COL_THROTTLE_REASONS] = 1.8446744073709552e19,
    [FP_COL_POWER_LIMIT_W] = W_MAX,
    [FP_COL_GR_ACTIVE] = 1,
    [FP_COL_APP_CLOCK_MHZ] = MHZ_MAX,
};

const char *fp_col_range_text(fp_col c)
{
    switch (c) {
    case FP_COL_T_S:
        return "a finite number of seconds";
    case FP_COL_POWER_W:
    case FP_COL_POWER_AVG_W:
    case FP_COL_POWER_LIMIT_W:
        return "0..5000 W";
    case FP_COL_ENERGY_MJ:
        return "a counter >= 0 mJ";
    case FP_COL_SM_CLOCK_MHZ:
    case FP_COL_MEM_CLOCK_MHZ:
    case FP_COL_APP_CLOCK_MHZ:
        return "0..10000 MHz";
    case FP_COL_GPU_UTIL_PCT:
    case FP_COL_MEM_UTIL_PCT:
        return "0..100 %";
    case FP_COL_TEMP_C:
    case FP_COL_MEM_TEMP_C:
        return "-40..150 C";
    case FP_COL_FB_USED_MIB:
        return "0..16777216 MiB";
    case FP_COL_PSTATE:
        return "P0..P15 (32 = unknown)";
    case FP_COL_THROTTLE_REASONS:
        return "a bit mask >= 0";
    default:
        return "a fraction 0..1";
    }
}

void fp_col_range(fp_col c, double *lo, double *hi)
{
    int ok = (int)c >= 0 && c < FP_COL_COUNT;
    *lo = ok ? fp_col_lo[c] : NAN;
    *hi = ok ? fp_col_hi[c] : NAN;
}
