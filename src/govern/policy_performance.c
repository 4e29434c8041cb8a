/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Policy "performance": the highest clock, locked (Linux's performance governor). Unlike
 * "default" the driver cannot drop the clock of an idle GPU; a reference for the other
 * policies and a way to take boost variation out of a measurement.
 */
#include "govern/policy_int.h"

static unsigned decide(fp_policy *p, const fp_policy_input *in)
{
    (void)in;
    return p->f_max_mhz;
}

static const fp_policy_tunable tunables[] = {{0}};

GV_POLICY(performance, "the highest clock, locked", fp_policy, .start = gv_need_clocks,
          .decide = decide);
