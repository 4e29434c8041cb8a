/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Policy "feedback": the lowest clock that keeps the slowdown measured on the workload's own
 * rate within a budget. The rate at f_max is learned per phase class by a short probe at
 * f_max; afterwards the clock walks down while the measured slowdown (instantaneous and
 * accumulated since start) stays under the budget, and up as soon as it does not. The clock
 * that held last in each class is remembered and resumed when the class comes back. It
 * never goes below the floor (the energy-optimal clock): lower clocks cost time and energy.
 */
#include <math.h>

#include "govern/policy_int.h"

typedef struct feedback_policy {
    fp_policy base;
    /* tunables */
    double budget;  /* allowed slowdown (fraction) */
    unsigned floor; /* never below (MHz) */
    double step_s;  /* minimum time between two steps */
    double probe_s; /* time spent at f_max to learn a phase's rate */
    /* state */
    unsigned cur_idx;                   /* index into clocks_mhz of the current request */
    unsigned class_idx[FP_PHASE_COUNT]; /* last index that held per phase class */
    double ref_rate[FP_PHASE_COUNT];    /* rate at f_max per phase (NAN = not learned) */
    double probe_until_s, last_step_s;
    double probe_sum, probe_n;
    double lost_s, elapsed_s, last_t_s; /* accumulated slowdown accounting */
} feedback_policy;

static void defaults(fp_policy *p)
{
    feedback_policy *fb = (feedback_policy *)p;
    fb->budget = 0.05;
    fb->floor = p->f_e_mhz;
    fb->step_s = 0.2;
    fb->probe_s = 0.3;
}

static fp_status start(fp_policy *p, fp_error *err)
{
    feedback_policy *fb = (feedback_policy *)p;
    fp_status st = gv_need_clocks(p, err);
    if (st != FP_OK)
        return st;
    for (int i = 0; i < FP_PHASE_COUNT; i++) {
        fb->ref_rate[i] = NAN;
        fb->class_idx[i] = 0;
    }
    fb->cur_idx = 0;
    fb->probe_until_s = -INFINITY;
    fb->last_step_s = -INFINITY;
    fb->probe_sum = fb->probe_n = 0;
    fb->lost_s = fb->elapsed_s = 0;
    fb->last_t_s = NAN;
    return FP_OK;
}

static unsigned decide(fp_policy *p, const fp_policy_input *in)
{
    feedback_policy *fb = (feedback_policy *)p;
    unsigned lo_idx = gv_index_of(p, fb->floor ? fb->floor : p->f_e_mhz);
    double dt = isnan(fb->last_t_s) ? 0 : in->t_s - fb->last_t_s;
    fb->last_t_s = in->t_s;
    fp_phase ph = in->phase < FP_PHASE_COUNT ? in->phase : FP_PHASE_COMPUTE;
    if (isnan(in->rate) || in->rate < 0) /* no signal: nothing can be kept within a budget */
        return p->f_max_mhz;
    if (ph == FP_PHASE_IDLE && !(in->rate > 0)) {
        fb->cur_idx = lo_idx;
        return p->clocks_mhz[lo_idx];
    }
    if (in->phase_changed) {
        if (isnan(fb->ref_rate[ph])) {
            fb->probe_until_s = in->t_s + fb->probe_s;
            fb->probe_sum = fb->probe_n = 0;
            fb->cur_idx = 0;
        } else {
            fb->cur_idx = fb->class_idx[ph];
        }
        fb->last_step_s = in->t_s;
    }
    if (isnan(fb->ref_rate[ph]) && !(in->t_s < fb->probe_until_s)) {
        if (fb->probe_until_s == -INFINITY) { /* first sample of a class never seen */
            fb->probe_until_s = in->t_s + fb->probe_s;
            fb->probe_sum = fb->probe_n = 0;
            fb->cur_idx = 0;
        } else if (fb->probe_n > 0) {
            fb->ref_rate[ph] = fb->probe_sum / fb->probe_n;
            fb->last_step_s = in->t_s;
        } else {
            fb->probe_until_s = in->t_s + fb->probe_s;
        }
    }
    if (in->t_s < fb->probe_until_s) {
        /* The first half of the probe waits for the clock switch to settle. */
        if (in->t_s >= fb->probe_until_s - fb->probe_s / 2) {
            fb->probe_sum += in->rate;
            fb->probe_n++;
        }
        fb->cur_idx = 0;
        return p->clocks_mhz[0];
    }
    double ref = fb->ref_rate[ph];
    if (!(ref > 0))
        return p->clocks_mhz[fb->cur_idx];
    double ratio = in->rate / ref;
    if (ratio > 1)
        ratio = 1;
    double inst = ratio > 0 ? 1 / ratio - 1 : INFINITY;
    fb->elapsed_s += dt;
    fb->lost_s += dt * (1 - ratio);
    double work = fb->elapsed_s - fb->lost_s;
    double acc = work > 0 ? fb->lost_s / work : 0;
    double target = fb->budget * 0.85;
    if (in->t_s - fb->last_step_s >= fb->step_s) {
        fb->last_step_s = in->t_s;
        if (inst > target || acc > target) {
            unsigned up = fb->cur_idx >= 4 ? 4 : fb->cur_idx;
            fb->cur_idx -= up;
        } else if (inst < target * 0.5 && acc < target) {
            fb->cur_idx = fb->cur_idx + 2 <= lo_idx ? fb->cur_idx + 2 : lo_idx;
        }
    }
    fb->class_idx[ph] = fb->cur_idx;
    return p->clocks_mhz[fb->cur_idx];
}

static const fp_policy_tunable tunables[] = {
    GV_TUNE("budget", feedback_policy, budget, FP_TUNE_NUM, 0, 10,
            "allowed slowdown against f_max, a fraction (0.05)"),
    GV_TUNE("floor", feedback_policy, floor, FP_TUNE_MHZ, 0, 0,
            "never below this clock (MHz; f_e)"),
    GV_TUNE("step", feedback_policy, step_s, FP_TUNE_SECONDS, 0.001, 60,
            "least time between two steps (0.2 s)"),
    GV_TUNE("probe", feedback_policy, probe_s, FP_TUNE_SECONDS, 0.001, 60,
            "time at f_max that learns a phase's rate (0.3 s)"),
    {0},
};

GV_POLICY(feedback, "lowest clock keeping the slowdown measured on the workload's rate in budget",
          feedback_policy, .defaults = defaults, .start = start, .decide = decide);
