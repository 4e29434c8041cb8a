/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Policy "powersave": the lowest clock, locked (Linux's powersave governor, which runs at
 * scaling_min_freq). The counterpart of "performance": the least SM clock power a GPU can
 * draw, for idle or host-bound machines and as the far end of a comparison. The setting
 * floor=MHZ (cpufreq's scaling_min_freq) raises the clock it holds.
 */
#include "govern/policy_int.h"

typedef struct powersave_policy {
    fp_policy base;
    unsigned floor_mhz;
} powersave_policy;

static void defaults(fp_policy *p)
{
    ((powersave_policy *)p)->floor_mhz = p->n_clocks ? p->clocks_mhz[p->n_clocks - 1] : 0;
}

static unsigned decide(fp_policy *p, const fp_policy_input *in)
{
    (void)in;
    /* the lowest supported clock at or above the floor */
    return gv_snap_up(p, ((powersave_policy *)p)->floor_mhz);
}

static const fp_policy_tunable tunables[] = {
    GV_TUNE("floor", powersave_policy, floor_mhz, FP_TUNE_MHZ, 0, 0,
            "the clock held (MHz; the lowest supported clock)"),
    {0},
};

GV_POLICY(powersave, "the lowest clock, locked (floor=MHZ raises it)", powersave_policy,
          .defaults = defaults, .start = gv_need_clocks, .decide = decide);
