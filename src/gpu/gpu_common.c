/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Backend-independent helpers of gpu.h. */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "freqpilot/gpu.h"

unsigned fp_gpu_snap_clock(const fp_gpu_info *info, double mhz)
{
    unsigned best = 0;
    double best_d = INFINITY;
    for (unsigned i = 0; i < info->n_graphics_clocks; i++) {
        unsigned c = info->graphics_clocks_mhz[i];
        double d = fabs((double)c - mhz);
        /* Ties go up: the table is high to low, so only a strictly closer clock replaces. */
        if (d < best_d || (d == best_d && c > best)) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

fp_status fp_gpu_check_clock(const fp_gpu_info *info, double mhz, const char *what, fp_error *err)
{
    unsigned lo = 0, hi = 0;
    for (unsigned i = 0; i < info->n_graphics_clocks; i++) {
        unsigned c = info->graphics_clocks_mhz[i];
        if (c && (!lo || c < lo))
            lo = c;
        if (c > hi)
            hi = c;
    }
    if (!hi)
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s: %s does not report its supported clocks, so %g MHz cannot be "
                            "checked; nothing changed",
                            what, info->name, mhz);
    if (!(mhz >= lo && mhz <= hi))
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s: %.10g MHz is outside the supported clocks of %s (%u..%u MHz); "
                            "nothing changed",
                            what, mhz, info->name, lo, hi);
    return FP_OK;
}

fp_status fp_gpu_check_power_limit(const fp_gpu_info *info, double watts, const char *what,
                                   fp_error *err)
{
    double lo = info->power_limit_min_w, hi = info->power_limit_max_w;
    if (!(isfinite(lo) && isfinite(hi) && lo > 0 && hi >= lo))
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s: %s does not report its power-limit range, so %g W cannot be "
                            "checked; nothing changed",
                            what, info->name, watts);
    /* NVML reports limits in mW: half a milliwatt of rounding is not out of range. */
    if (!(watts >= lo - 5e-4 && watts <= hi + 5e-4))
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s: %.10g W is outside the power-limit range of %s (%g..%g W); "
                            "nothing changed",
                            what, watts, info->name, lo, hi);
    return FP_OK;
}

void fp_gpu_short_name(const char *name, char *out, size_t size)
{
    static const char *const known[] = {"GH200", "H100", "H200", "A100", "A10", "A30",  "A40",
                                        "L40S",  "L40",  "L4",   "V100", "T4",  "P100", "B200"};
    if (!size)
        return;
    if (!name)
        name = "";
    /* Architecture names used by the ai-inference-energy scripts (GV100-baseline-...). */
    static const char *const arch[][2] = {{"GV100", "V100"}, {"GA100", "A100"}, {"GH100", "H100"}};
    for (size_t i = 0; i < sizeof arch / sizeof arch[0]; i++) {
        if (strcasecmp(name, arch[i][0]) == 0) {
            snprintf(out, size, "%s", arch[i][1]);
            return;
        }
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i]);
        for (const char *p = strcasestr(name, known[i]); p; p = strcasestr(p + 1, known[i])) {
            int left_ok = p == name || !isalnum((unsigned char)p[-1]);
            int right_ok = !isalnum((unsigned char)p[n]);
            if (left_ok && right_ok) {
                snprintf(out, size, "%s", known[i]);
                return;
            }
        }
    }
    snprintf(out, size, "%s", name);
}
