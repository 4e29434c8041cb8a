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

GV_POLICY(default, "leave the clocks alone (the driver's default clocks)", fp_policy,
          .decide = decide);
