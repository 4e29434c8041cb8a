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
