/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_OPTIMIZE_H
#define FREQPILOT_OPTIMIZE_H

/*
 * Choosing clocks from aggregated measurements: objectives, slowdown budgets
 * (from the command line or an INI file of categories), the noise-aware choice
 * against a baseline clock, the time-energy Pareto frontier and the checks of
 * `freqpilot validate`. docs/optimize.md states every rule with its numbers.
 *
 * Input is an fp_opt_data: per (gpu, app) the aggregated rows and, when the
 * runs are available, the kept runs of each clock. With runs, intervals of
 * ratios come from a bootstrap over the runs of both clocks (fixed seed);
 * with only aggregated.csv they are propagated analytically from the 95 %
 * intervals of the rows (log-normal approximation), and every result carries
 * the flag analytic_intervals.
 */

#include <stddef.h>
#include <stdint.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/error.h"
#include "freqpilot/run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Objectives ---- */

typedef enum fp_objective_kind {
    FP_OBJ_ENERGY = 0, /* E */
    FP_OBJ_TIME,       /* T */
    FP_OBJ_EDP,        /* E·T */
    FP_OBJ_ED2P,       /* E·T² */
    FP_OBJ_EDNP,       /* E·T^n (param = n >= 0) */
    FP_OBJ_COST,       /* η·E + (1 − η)·P_max·T (param = η in [0, 1]) */
} fp_objective_kind;

typedef struct fp_objective {
    fp_objective_kind kind;
    double param;
    char name[32]; /* canonical spelling: "energy", "ednp:3", "cost:0.5" */
} fp_objective;

/* Parses "energy", "time", "edp", "ed2p", "ednp:N", "cost:ETA". */
fp_status fp_objective_parse(const char *s, fp_objective *out, fp_error *err);
/* Value at (time_s, energy_j); pmax_w is only used by cost. NAN when an input is not finite. */
double fp_objective_value(const fp_objective *o, double time_s, double energy_j, double pmax_w);

/* ---- Slowdown budgets from an INI file ---- */

#define FP_CONSTRAINTS_MAX_CATEGORIES 32
#define FP_CONSTRAINTS_MAX_APPS 256

typedef struct fp_constraints {
    size_t ncategories;
    struct {
        char name[32];
        double max_slowdown; /* fraction */
    } categories[FP_CONSTRAINTS_MAX_CATEGORIES];
    size_t napps;
    struct {
        char app[64];
        char category[32]; /* "" when the app names a number directly */
        double max_slowdown;
    } apps[FP_CONSTRAINTS_MAX_APPS];
    char default_category[32]; /* [defaults] category=...; "" = none */
} fp_constraints;

/* The default categories: latency-sensitive 0.05, interactive 0.10, balanced 0.20,
 * throughput 0.30, batch 0.50; no apps. */
void fp_constraints_init(fp_constraints *c);
/*
 * Adds to c (usually after fp_constraints_init):
 *   [categories]  NAME = 0.05 | 5%        (new or overriding a default)
 *   [apps]        APP = CATEGORY | 0.07 | 7%
 *   [defaults]    category = CATEGORY     (for apps not listed)
 * Names are matched case-insensitively. Errors name the file and line.
 */
fp_status fp_constraints_load(const char *path, fp_constraints *c, fp_error *err);
/* The same from a string; name is used in messages. */
fp_status fp_constraints_parse(const char *text, const char *name, fp_constraints *c,
                               fp_error *err);
/* Budget of app: 0 and *max_slowdown (and *category, may be NULL) set, or -1 when unmapped. */
int fp_constraints_lookup(const fp_constraints *c, const char *app, double *max_slowdown,
                          const char **category);

/* ---- Data ---- */

typedef struct fp_opt_point {
    const fp_agg_row *row; /* centres, intervals, flags */
    size_t nruns;          /* kept runs (0 without runs) */
    double *time_runs;     /* nruns values */
    double *energy_runs;
    long *run_index; /* sweep positions (-1 unknown) */
} fp_opt_point;

typedef struct fp_opt_curve {
    char gpu[64];
    char app[64];
    size_t n;
    fp_opt_point *pts; /* every row of (gpu, app), clock descending */
} fp_opt_curve;

typedef struct fp_opt_data {
    fp_agg_result agg; /* owned copy of the rows */
    fp_opt_curve *curves;
    size_t ncurves;
    int have_runs;
} fp_opt_data;

/*
 * Groups agg's rows by (gpu, app). runs (may be NULL) are the runs fp_aggregate was given;
 * the dropped ones (agg->dropped) are left out, the rest attached to their row. agg's rows
 * and findings are copied, so agg may be freed afterwards.
 */
fp_status fp_opt_data_build(const fp_agg_result *agg, const fp_run_list *runs, fp_opt_data *out,
                            fp_error *err);
void fp_opt_data_free(fp_opt_data *d);
/*
 * Loads the inputs: either one aggregated.csv (recognised by its header; intervals are then
 * propagated analytically) or any inputs fp_runs_load reads (a DATASET/, measured_runs.csv,
 * ...), aggregated here with aopt (NULL = defaults) so the runs are kept for the bootstrap.
 */
fp_status fp_opt_data_load(const char *const *paths, size_t npaths, const fp_agg_options *aopt,
                           const fp_diag *diag, fp_opt_data *out, fp_error *err);
/* 1 when path is a readable file whose first line is the aggregated.csv header. */
int fp_opt_is_aggregated_csv(const char *path);
/* A point has data: runs > 0 and finite time and energy. */
int fp_opt_point_ok(const fp_opt_point *p);

/* ---- Optimisation ---- */

typedef enum fp_baseline_kind {
    FP_BASELINE_MAX = 0, /* highest measured clock with data */
    FP_BASELINE_DEFAULT, /* the board's default applications clock (gpu_specs.h) */
    FP_BASELINE_MHZ,     /* a given clock */
} fp_baseline_kind;

/* Flags optimize adds to a result (beside the data flags of aggregated.csv). */
typedef enum fp_opt_flag {
    FP_OPT_BASELINE_FALLBACK = 1u << 0,     /* baseline clock had no data: next one used */
    FP_OPT_NO_SIGNIFICANT_SAVING = 1u << 1, /* the saving's interval includes 0 */
    FP_OPT_NO_FEASIBLE_CLOCK = 1u << 2,     /* nothing met budget/cap: baseline returned */
    FP_OPT_ANALYTIC_INTERVALS = 1u << 3,    /* intervals from aggregated CIs, not runs */
    FP_OPT_NO_INTERVAL = 1u << 4,           /* too few runs for an interval */
    FP_OPT_PREFER_HIGHER = 1u << 5,  /* a higher clock indistinguishable from the best taken */
    FP_OPT_POWER_CAPPED = 1u << 6,   /* clocks above --max-power were excluded */
    FP_OPT_SUSPECT_SAVING = 1u << 7, /* saving > 40 %: check validate */
    FP_OPT_NO_BUDGET = 1u << 8,      /* no slowdown budget applied */
    FP_OPT_FLAG_COUNT_ = 9
} fp_opt_flag;
const char *fp_opt_flag_name(unsigned bit);
/* Data flags then optimize flags, ';'-separated. Returns the length. */
int fp_opt_flags_format(uint32_t data_flags, uint32_t opt_flags, char *buf, int size);

typedef struct fp_opt_options {
    fp_baseline_kind baseline;
    double baseline_mhz;   /* FP_BASELINE_MHZ */
    double confidence;     /* 0.95 */
    int bootstrap_samples; /* 2000 */
    unsigned long seed;    /* FP_STATS_DEFAULT_SEED */
    int point_estimate;    /* naive rule: centres only, no noise handling */
    double pmax_w;         /* P_max of cost; NAN = the GPU's power limit */
    double max_power_w;    /* power cap on power_w; NAN = none */
    double suspect_saving; /* flag savings above this (0.40) */
    const fp_diag *diag;
} fp_opt_options;
void fp_opt_options_init(fp_opt_options *o);

/* Statistics of one clock against the baseline. */
typedef struct fp_opt_compare {
    double slowdown, slowdown_lo, slowdown_hi;
    double energy_saving, energy_saving_lo, energy_saving_hi;
    uint32_t opt_flags; /* ANALYTIC_INTERVALS, NO_INTERVAL */
} fp_opt_compare;

typedef struct fp_opt_result {
    char gpu[64];
    char app[64];
    char objective[32];
    double max_slowdown; /* NAN = none */
    char category[32];   /* from --constraints, "" otherwise */
    double freq_mhz, baseline_mhz;
    double time_s, energy_j, power_w;
    double objective_value;
    fp_opt_compare cmp;
    int feasible;
    uint32_t data_flags, opt_flags;
    char message[256]; /* why infeasible / fallback; "" when nothing to say */
} fp_opt_result;

typedef struct fp_opt_results {
    fp_opt_result *items;
    size_t len, cap;
    char baseline[32]; /* "max", "default", "1200" */
} fp_opt_results;
void fp_opt_results_free(fp_opt_results *r);

/* Index of the baseline point of curve c (or -1 with err set); *fallback = 1 when the
 * requested clock had no data and the next highest was used. */
int fp_opt_baseline(const fp_opt_curve *c, const fp_opt_options *o, int *fallback, fp_error *err);

/* Slowdown and saving of point i against point b of c. */
fp_status fp_opt_compare_points(const fp_opt_curve *c, size_t i, size_t b, const fp_opt_options *o,
                                fp_opt_compare *out, fp_error *err);

/* The board of a curve: the device name its rows carry (gpu_name), else its gpu. */
const char *fp_opt_curve_board(const fp_opt_curve *c);
/* P_max for cost: o->pmax_w, else the default power limit of board gpu (gpu_specs.h); NAN when
 * gpu is not a known board (a bare "A100" is not: its limit may be 250, 300 or 400 W). */
double fp_opt_pmax(const char *gpu, const fp_opt_options *o);

/*
 * One result per curve × objective × budget. budgets[k] is a fraction; NAN means "from
 * constraints" (the app's budget, none when unmapped or constraints is NULL). With nbudgets
 * 0 one NAN budget is used.
 */
fp_status fp_optimize(const fp_opt_data *d, const fp_objective *objs, size_t nobjs,
                      const double *budgets, size_t nbudgets, const fp_constraints *constraints,
                      const fp_opt_options *o, fp_opt_results *out, fp_error *err);

/* ---- Output ---- */

/* JSON of DESIGN.md §2 (plus category, objective_value, message); path "-" = stdout. */
fp_status fp_opt_write_json(const fp_opt_results *r, const char *path, fp_error *err);
fp_status fp_opt_write_csv(const fp_opt_results *r, const char *path, fp_error *err);
/* Human-readable table. */
void fp_opt_print_table(const fp_opt_results *r, FILE *fp);
/* A sh script: `freqpilot apply` per (gpu, app) of the first objective, then restore hints. */
fp_status fp_opt_write_deploy_script(const fp_opt_results *r, const char *path, fp_error *err);
/* Reads optimize's JSON back (for validate and apply). */
fp_status fp_opt_read_json(const char *path, fp_opt_results *out, fp_error *err);

/* ---- Pareto frontier ---- */

typedef struct fp_pareto_point {
    size_t idx;              /* index in the curve */
    int on_frontier;         /* not dominated by the centres of another clock */
    int knee;                /* the knee of the frontier */
    double dominated_by_mhz; /* a clock dominating this one (NAN when on the frontier) */
    double knee_distance;    /* normalised distance to the chord (frontier points) */
} fp_pareto_point;

/* pts gets c->n entries (only points with data are on the frontier). Returns the knee index
 * in the curve, or -1 when the frontier has fewer than 3 points (no knee). */
long fp_pareto(const fp_opt_curve *c, fp_pareto_point *pts);
/* Significantly dominated: another clock's time and energy intervals lie entirely below. */
int fp_pareto_sig_dominated(const fp_opt_curve *c, size_t i, double *by_mhz);

/* ---- Validation ---- */

typedef enum fp_check_status {
    FP_CHECK_PASS = 0,
    FP_CHECK_WARN,
    FP_CHECK_FAIL,
    FP_CHECK_NA
} fp_check_status;
const char *fp_check_status_name(fp_check_status s);

#define FP_VALIDATE_NCHECKS 8
typedef struct fp_check {
    const char
        *name; /* budget, saving, frontier, cv, drift, counter, clock_dependence, plausibility */
    fp_check_status status;
    double p_value; /* NAN when the check has none */
    char detail[320];
} fp_check;

typedef struct fp_validation {
    fp_opt_result rec;  /* the recommendation as read */
    int found;          /* its (gpu, app, clock) exists in the data */
    fp_opt_compare cmp; /* recomputed */
    fp_check checks[FP_VALIDATE_NCHECKS];
    fp_check_status verdict; /* worst of the checks */
} fp_validation;

typedef struct fp_validate_options {
    fp_opt_options opt;
    double cv_threshold;      /* 0.10 */
    double alpha;             /* significance level of the saving test (0.05) */
    double counter_tolerance; /* 0.05 */
} fp_validate_options;
void fp_validate_options_init(fp_validate_options *o);

fp_status fp_validate(const fp_opt_data *d, const fp_opt_results *recs,
                      const fp_validate_options *o, fp_validation **out, fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
