/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Policy "performance": the highest clock, locked (Linux's performance governor). Unlike
 * "default" the driver cannot drop the clock of an idle GPU; a reference for the other
 * policies and a way to take boost variation out of a measurement.
 */
#include "govern/policy_int.h"

static fp_status start(fp_policy *p, fp_error *err)
{
    return gv_need_clocks(p, err);
}

static unsigned decide(fp_policy *p, const fp_policy_input *in)
{
    (void)in;
    return p->f_max_mhz;
}

static const fp_policy_tunable tunables[] = {{0}};

const fp_policy_ops fp_policy_performance_ops = {
    .name = "performance",
    .summary = "the highest clock, locked",
    .size = sizeof(fp_policy),
    .tunables = tunables,
    .start = start,
    .decide = decide,
};
