/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Policy "static": one clock all the time (optimize's choice, --static-clock). */
#include "govern/policy_int.h"

typedef struct static_policy {
    fp_policy base;
    unsigned clock_mhz;
} static_policy;

static void defaults(fp_policy *p)
{
    ((static_policy *)p)->clock_mhz = p->f_max_mhz;
}

static unsigned decide(fp_policy *p, const fp_policy_input *in)
{
    (void)in;
    return gv_snap(p, ((static_policy *)p)->clock_mhz);
}

static const fp_policy_tunable tunables[] = {
    GV_TUNE("clock", static_policy, clock_mhz, FP_TUNE_MHZ, 0, 0, "the clock (MHz; f_max)"),
    {0},
};

GV_POLICY(static, "one clock all the time", static_policy, .defaults = defaults,
          .start = gv_need_clocks, .decide = decide);
