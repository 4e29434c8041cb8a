/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Policy "activity": GEOPM's law f = f_e + (f_max - f_e) * activity. */
#include <math.h>

#include "govern/policy_int.h"

typedef struct activity_policy {
    fp_policy base;
    double bias; /* activity' = clamp(activity * (1 - bias)) */
} activity_policy;

static double clamp01(double x)
{
    return x < 0 ? 0 : (x > 1 ? 1 : x);
}

static unsigned decide(fp_policy *p, const fp_policy_input *in)
{
    const fp_sample *s = in->sample;
    /* GEOPM's scalability signal: how busy the SMs are (tensor cores count as SM work). */
    double a = s ? s->v[FP_COL_SM_ACTIVE] : NAN;
    if (s && !isnan(s->v[FP_COL_TENSOR_ACTIVE]) && !(s->v[FP_COL_TENSOR_ACTIVE] <= a))
        a = s->v[FP_COL_TENSOR_ACTIVE];
    if (isnan(a))
        a = s && !isnan(s->v[FP_COL_GPU_UTIL_PCT]) ? s->v[FP_COL_GPU_UTIL_PCT] / 100 : 1;
    a = clamp01(clamp01(a) * (1 - ((activity_policy *)p)->bias));
    double f = p->f_e_mhz + ((double)p->f_max_mhz - p->f_e_mhz) * a;
    return gv_snap_up(p, f);
}

static const fp_policy_tunable tunables[] = {
    GV_TUNE("bias", activity_policy, bias, FP_TUNE_NUM, -1, 1,
            "activity' = activity x (1 - bias), -1..1 (0)"),
    {0},
};

GV_POLICY(activity, "GEOPM's law f = f_e + (f_max - f_e) x activity", activity_policy,
          .start = gv_need_clocks, .decide = decide);
