/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_SAMPLE_H
#define FREQPILOT_SAMPLE_H

#include <stddef.h>

/*
 * One telemetry sample. Every value is a double; NAN means "not available"
 * (an empty cell in telemetry.csv, [N/A] in nvidia-smi, N/A in dcgmi).
 * The column order and names are the telemetry.csv contract of docs/formats.md;
 * columns after FP_COL_POWER_LIMIT_W are freqpilot additions.
 */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp_col {
    FP_COL_T_S = 0,     /* seconds since the start of the file (monotonic) */
    FP_COL_POWER_W,     /* instantaneous (or driver-averaged) board power */
    FP_COL_POWER_AVG_W, /* driver 1-s average power where distinct */
    FP_COL_ENERGY_MJ,   /* total energy counter, millijoules */
    FP_COL_SM_CLOCK_MHZ,
    FP_COL_MEM_CLOCK_MHZ,
    FP_COL_GPU_UTIL_PCT,
    FP_COL_MEM_UTIL_PCT,
    FP_COL_SM_ACTIVE, /* fractions 0..1 as DCGM reports them */
    FP_COL_SM_OCCUPANCY,
    FP_COL_TENSOR_ACTIVE,
    FP_COL_DRAM_ACTIVE,
    FP_COL_FP64_ACTIVE,
    FP_COL_FP32_ACTIVE,
    FP_COL_FP16_ACTIVE,
    FP_COL_TEMP_C,
    FP_COL_MEM_TEMP_C,
    FP_COL_FB_USED_MIB,
    FP_COL_PSTATE,           /* P0 -> 0 */
    FP_COL_THROTTLE_REASONS, /* clock-event bitmask, exact as a double up to 2^53 */
    FP_COL_POWER_LIMIT_W,
    /* additions */
    FP_COL_GR_ACTIVE,     /* DCGM GRACT */
    FP_COL_APP_CLOCK_MHZ, /* application SM clock target (DCGM SACLK, nvidia-smi
                             clocks.applications.graphics) */
    FP_COL_COUNT
} fp_col;

typedef struct fp_sample {
    double v[FP_COL_COUNT];
} fp_sample;

/* Column name as in telemetry.csv ("t_s", "power_w", ...). */
const char *fp_col_name(fp_col col);
/* Inverse of fp_col_name; returns -1 for an unknown name. */
int fp_col_from_name(const char *name, size_t len);
/* Sets every value to NAN. */
void fp_sample_clear(fp_sample *s);
/* The physically possible range of a column (docs/formats.md, "Impossible values"): the
 * readers refuse a value outside it, naming the file and line. NAN for an unknown column. */
void fp_col_range(fp_col col, double *lo, double *hi);

#ifdef __cplusplus
}
#endif
#endif
