/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_DEPLOY_H
#define FREQPILOT_DEPLOY_H

/*
 * The decision a report opens with and `freqpilot run` prints: one row per (gpu, app), the
 * clock to set, chosen by one stated rule among optimize's recommendations (objective, and
 * each app's budget from --constraints or else a default budget), with the verdict optimize
 * gave it (never recomputed here); what the deployable rows add up to across configurations;
 * and what their savings are worth a year (docs/report.md).
 */

#include <stddef.h>
#include <stdio.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/error.h"
#include "freqpilot/optimize.h"
#include "freqpilot/plot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The rule ---- */

typedef struct fp_deploy_rule {
    const char *objective;             /* "energy" */
    double default_budget;             /* apps without a budget of their own (0.05); NAN: none */
    const fp_constraints *constraints; /* per-app budgets (fp_constraints_open); may be NULL */
} fp_deploy_rule;
void fp_deploy_rule_init(fp_deploy_rule *r);
/* The rule in one sentence, as the report and run state it. */
void fp_deploy_rule_text(const fp_deploy_rule *r, char *buf, size_t n);
/* The budgets used in one sentence: the preset or file and each app's budget, or the default. */
void fp_deploy_budgets_text(const fp_deploy_rule *r, const char *const *apps, size_t napps,
                            char *buf, size_t n);

/* ---- The table ---- */

typedef enum fp_deploy_state {
    FP_DEPLOY_REC = 0,      /* a recommendation for the rule exists (rec set) */
    FP_DEPLOY_SINGLE_CLOCK, /* one clock measured: nothing to optimise (rec may be set) */
    FP_DEPLOY_MISSING,      /* no recommendation for the rule among the inputs */
} fp_deploy_state;

typedef struct fp_deploy_row {
    char gpu[64], app[64];
    fp_deploy_state state;
    const fp_rec *rec;     /* optimize's recommendation (points into the fp_rec_list) */
    double budget;         /* the budget it was chosen under (NAN: none) */
    char budget_from[96];  /* "ai-inference-energy: latency-sensitive", "default", ... */
    size_t nclocks;        /* clocks with data in the aggregated rows (0: unknown) */
    double only_clock_mhz; /* FP_DEPLOY_SINGLE_CLOCK: the clock measured */
    double clock_lo_mhz, clock_hi_mhz; /* lowest and highest clock with energy data (NAN) */
    int deployable;                    /* rec's verdict is "deployable" */
    char why[420];                     /* not deployable: why, in words (the engine's reason) */
} fp_deploy_row;

typedef struct fp_deploy_table {
    fp_deploy_row *rows; /* in the order of the aggregated rows' (gpu, app) pairs */
    size_t n;
    size_t ndeployable;
    size_t nsingle; /* rows with one clock measured */
} fp_deploy_table;

/*
 * One row per (gpu, app) of agg (may be NULL: the pairs of recs): the recommendation of
 * rule->objective under the app's budget in rule->constraints, else rule->default_budget.
 * The rows point into recs, which must outlive the table.
 */
fp_status fp_deploy_build(const fp_agg_result *agg, const fp_rec_list *recs,
                          const fp_deploy_rule *rule, fp_deploy_table *out, fp_error *err);
void fp_deploy_free(fp_deploy_table *t);
/* 1 when row d's recommendation moves the clock off the baseline (else its saving and
 * slowdown are 0 by construction and are not shown). */
int fp_deploy_row_moves(const fp_deploy_row *d);
/* "nothing to optimise: one clock measured (1410 MHz)" when every row has one clock (buf set,
 * returns 1), else 0. */
int fp_deploy_nothing_to_optimise(const fp_deploy_table *t, char *buf, size_t n);
/* The table as text (run's stdout): a header line stating the rule, one line per row and, below
 * each row that is not deployable, its reason. */
void fp_deploy_print(const fp_deploy_table *t, const fp_deploy_rule *rule, FILE *fp);

/* ---- Across configurations (deployable rows only) ---- */

typedef struct fp_deploy_stats {
    char gpu[64];               /* "" = every GPU */
    size_t n;                   /* deployable rows */
    size_t nother;              /* rows that are not deployable */
    double mean, sd, min, max;  /* energy saving (fraction); sd NAN when n < 2; NAN when n = 0 */
    double slowdown_mean;       /* mean slowdown of the same rows */
    const fp_deploy_row *best;  /* largest saving (NULL when n = 0) */
    const fp_deploy_row *worst; /* smallest saving */
} fp_deploy_stats;

/* One entry per GPU (in row order), then one for every GPU (gpu ""). Returns the count
 * (at most cap). */
size_t fp_deploy_summary(const fp_deploy_table *t, fp_deploy_stats *out, size_t cap);

/* ---- What the savings are worth ---- */

typedef struct fp_impact_opts {
    double utilisation;    /* fraction of the year each workload runs at the baseline (0.5) */
    double price_per_kwh;  /* electricity price per kWh (0.15) */
    char currency[16];     /* its unit ("USD") */
    double grid_g_per_kwh; /* grid carbon intensity, g CO2e per kWh (400) */
    double gpus;           /* GPUs running each (gpu, app) workload (1) */
} fp_impact_opts;
void fp_impact_opts_init(fp_impact_opts *o);
/* "0.5" etc. into o from an INI key of [impact] (utilisation, price_per_kwh, currency,
 * grid_gco2_per_kwh, gpus) or the matching option; -1 when the key is unknown or the value
 * out of range (utilisation 0..1, price and intensity >= 0, gpus > 0). */
int fp_impact_set(fp_impact_opts *o, const char *key, const char *value);

typedef struct fp_impact {
    double base_power_w;             /* mean power at the baseline clock: E_base / T_base */
    double kwh_year, kwh_lo, kwh_hi; /* energy saved a year, with the saving's 95 % interval */
    double cost_year;                /* kwh_year x price */
    double co2_kg_year;              /* kwh_year x intensity / 1000 */
    double busy_after;               /* utilisation at the new clock: u x (1 + slowdown) */
} fp_impact;
/*
 * What rec's saving is worth a year when the same work is done: the workload runs a fraction
 * u of the year at the baseline, so it draws P_base = E_base / T_base (E_base = E / (1 - s),
 * T_base = T / (1 + slowdown)) for u x 8760 h, and saves s of that energy:
 * kWh = u x 8760 h x P_base x s x gpus / 1000. Returns -1 (out NAN) when rec lacks the numbers.
 */
int fp_impact_of(const fp_rec *rec, const fp_impact_opts *o, fp_impact *out);
/* The assumptions as the report states them. */
void fp_impact_assumptions_text(const fp_impact_opts *o, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
