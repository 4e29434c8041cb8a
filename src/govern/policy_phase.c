/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Policy "phase": one clock per detected phase class. Its clocks come from the user, from the
 * simulator's model curves or from a recorded sweep (src/govern/phase_plan.c).
 */
#include "govern/policy_int.h"

typedef struct phase_policy {
    fp_policy base;
    unsigned mhz[FP_PHASE_COUNT];
} phase_policy;

/* Without learned clocks: full speed where the clock matters, f_e elsewhere. */
static void defaults(fp_policy *p)
{
    phase_policy *ph = (phase_policy *)p;
    for (int c = 0; c < FP_PHASE_COUNT; c++)
        ph->mhz[c] = c == FP_PHASE_COMPUTE ? p->f_max_mhz : p->f_e_mhz;
}

static unsigned decide(fp_policy *p, const fp_policy_input *in)
{
    unsigned f = in->phase < FP_PHASE_COUNT ? ((phase_policy *)p)->mhz[in->phase] : 0;
    return f ? gv_snap(p, f) : p->f_max_mhz;
}

#define PHASE_TUNE(NAME, I, HELP)                                                                  \
    {                                                                                              \
        NAME, FP_TUNE_MHZ, offsetof(phase_policy, mhz) + (I) * sizeof(unsigned), 0, 0, HELP        \
    }

static const fp_policy_tunable tunables[] = {
    PHASE_TUNE("idle", FP_PHASE_IDLE, "clock while idle (MHz; f_e)"),
    PHASE_TUNE("compute", FP_PHASE_COMPUTE, "clock while compute-bound (MHz; f_max)"),
    PHASE_TUNE("memory", FP_PHASE_MEMORY, "clock while memory-bound (MHz; f_e)"),
    PHASE_TUNE("host", FP_PHASE_HOST, "clock while host-bound (MHz; f_e)"),
    {0},
};

GV_POLICY(phase, "one clock per detected phase (idle, compute, memory, host)", phase_policy,
          .defaults = defaults, .start = gv_need_clocks, .decide = decide);
