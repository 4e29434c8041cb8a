/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_OBJECTIVE_H
#define FREQPILOT_OBJECTIVE_H

/*
 * What "best clock" means, in one place for optimize, validate, the model, govern and the
 * simulator's truth:
 *
 *  - the objective registry: every objective is one entry of a table (name, parameter,
 *    value at (time, energy) and the error formula, i.e. how relative errors of time and
 *    energy carry into the objective). Adding an objective is adding an entry in
 *    src/optimize/objective.c; nothing else switches on objectives.
 *  - the choice rule (fp_opt_decide): given an estimate of the objective and an upper bound of
 *    the slowdown per clock, which clock to take. optimize, the simulator's true optimum
 *    (exact values), the model's regret and adaptive sweep, and govern's replay use it.
 *
 * A leaf module: it depends on error.h only, so the simulator (src/gpu) can use it.
 */

#include <stddef.h>

#include "freqpilot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Objectives ---- */

typedef struct fp_objective_def {
    const char *name;       /* "energy", "edp", "ednp", "cost" */
    const char *formula;    /* for help texts: "E*T^N" */
    const char *param_name; /* NULL: no parameter; else what follows "name:" ("N", "ETA") */
    double param_min, param_max;
    double param_fixed; /* the parameter of entries without one (edp: n = 1) */
    int needs_pmax;     /* the value uses P_max (cost) */
    int saves_time;     /* what a choice claims to save: time (1) or energy (0) */
    /* Value at time t (s) and energy e (J); pmax (W) only where needs_pmax. */
    double (*value)(double param, double t, double e, double pmax);
    /*
     * Error formula: d ln(value) / d ln(t) and d ln(value) / d ln(e) at (t, e), so that
     * var(ln value) = dt^2 var(ln t) + de^2 var(ln e) + 2 dt de cov(ln t, ln e).
     */
    void (*sens)(double param, double t, double e, double pmax, double *dt, double *de);
} fp_objective_def;

/* Entries of the registry, in the order help texts list them; NULL past the end. */
const fp_objective_def *fp_objective_def_at(size_t i);
/* "energy, time, edp, ed2p, ednp:N, cost:ETA" (for messages and help texts). */
const char *fp_objective_syntax(void);

typedef struct fp_objective {
    const fp_objective_def *def;
    double param;
    char name[32]; /* canonical spelling: "energy", "ednp:3", "cost:0.5" */
} fp_objective;

/* Parses "energy", "time", "edp", "ed2p", "ednp:N", "cost:ETA" (case-insensitive). */
fp_status fp_objective_parse(const char *s, fp_objective *out, fp_error *err);
/* Value at (time_s, energy_j); pmax_w is only used where def->needs_pmax. NAN when an input
 * is not finite. */
double fp_objective_value(const fp_objective *o, double time_s, double energy_j, double pmax_w);
/* The error formula of o at (time_s, energy_j), see fp_objective_def.sens. */
void fp_objective_sens(const fp_objective *o, double time_s, double energy_j, double pmax_w,
                       double *dlog_time, double *dlog_energy);

/* ---- The choice rule ---- */

/* One clock as the rule sees it. */
typedef struct fp_opt_cand {
    double freq_mhz;
    double value;          /* estimate of the objective (lower is better) */
    double slowdown_bound; /* the budget's test: the slowdown's upper bound against the
                              baseline (0 for it; the slowdown itself for exact values) */
    int eligible;          /* 0: never chosen (too few runs, power cap, no data) */
} fp_opt_cand;

/*
 * The choice among c[0..n), b the baseline (always a candidate):
 *   1. candidates: eligible clocks whose slowdown_bound <= budget (NAN budget: all);
 *   2. they are taken in the order of slowdown_bound (ties: the higher clock first), starting
 *      from the baseline; a clock replaces the current choice only when its value is lower
 *      than the current one's by more than the margin: value < current * (1 - margin).
 * So the choice is within the margin of the best candidate's value, a faster clock is kept
 * when a slower one is not better by more than the margin, and since a looser budget only
 * appends candidates to the same order, a looser budget never gives a worse value. The
 * choice's value is never above the baseline's. With margin 0 and exact values this is the
 * argmin within the budget, ties to the faster (higher) clock.
 * Returns the index of the choice (b when nothing beats it).
 */
size_t fp_opt_decide(const fp_opt_cand *c, size_t n, size_t b, double budget, double margin);

#ifdef __cplusplus
}
#endif
#endif
