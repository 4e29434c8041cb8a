/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the policy files of src/govern/ share: clock-table helpers over the shared part. */
#ifndef FREQPILOT_POLICY_INT_H
#define FREQPILOT_POLICY_INT_H

#include <stddef.h>

#include "freqpilot/govern.h"

/* Nearest supported clock (ties go up); mhz rounded when the table is empty. */
unsigned gv_snap(const fp_policy *p, double mhz);
/* Lowest supported clock >= mhz (the top one when mhz is above the table). */
unsigned gv_snap_up(const fp_policy *p, double mhz);
/* Index of the highest supported clock <= mhz (the last one when mhz is below the table). */
unsigned gv_index_of(const fp_policy *p, unsigned mhz);
/*
 * FP_ERR_INVALID unless p has a clock table (what every policy but default needs); a policy
 * with nothing else to check at start takes it as its hook: `.start = gv_need_clocks`.
 */
fp_status gv_need_clocks(fp_policy *p, fp_error *err);

/* The tunable NAME of type T at field F of the policy's struct S. */
#define GV_TUNE(NAME, S, F, T, LO, HI, HELP)                                                       \
    {                                                                                              \
        NAME, T, offsetof(S, F), LO, HI, HELP                                                      \
    }

/*
 * The registry entry fp_policy_ID_ops of the policy named ID: its SUMMARY, its struct S, the
 * file's `tunables` table, then its hooks (.defaults = defaults, .start = ..., .decide = ...).
 */
#define GV_POLICY(ID, SUMMARY, S, ...)                                                             \
    const fp_policy_ops fp_policy_##ID##_ops = {                                                   \
        .name = #ID, .summary = SUMMARY, .size = sizeof(S), .tunables = tunables, __VA_ARGS__}

#endif
