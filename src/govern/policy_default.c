/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Policy "default": leaves the clocks to the driver (the reference every comparison uses). */
#include "govern/policy_int.h"

static unsigned decide(fp_policy *p, const fp_policy_input *in)
{
    (void)p;
    (void)in;
    return 0;
}

static const fp_policy_tunable tunables[] = {{0}};

const fp_policy_ops fp_policy_default_ops = {
    .name = "default",
    .summary = "leave the clocks alone (the driver's default clocks)",
    .size = sizeof(fp_policy),
    .tunables = tunables,
    .decide = decide,
};
