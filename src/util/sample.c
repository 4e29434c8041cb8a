/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <string.h>

#include "freqpilot/sample.h"

static const char *const col_names[FP_COL_COUNT] = {
    "t_s",          "power_w",       "power_avg_w",     "energy_mj",     "sm_clock_mhz",
    "mem_clock_mhz", "gpu_util_pct", "mem_util_pct",    "sm_active",     "sm_occupancy",
    "tensor_active", "dram_active",  "fp64_active",     "fp32_active",   "fp16_active",
    "temp_c",       "mem_temp_c",    "fb_used_mib",     "pstate",        "throttle_reasons",
    "power_limit_w", "gr_active",    "app_clock_mhz",
};

const char *fp_col_name(fp_col col)
{
    if ((int)col < 0 || col >= FP_COL_COUNT)
        return "?";
    return col_names[col];
}

int fp_col_from_name(const char *name, size_t len)
{
    for (int i = 0; i < FP_COL_COUNT; i++)
        if (strlen(col_names[i]) == len && memcmp(col_names[i], name, len) == 0)
            return i;
    return -1;
}

void fp_sample_clear(fp_sample *s)
{
    for (int i = 0; i < FP_COL_COUNT; i++)
        s->v[i] = NAN;
}
