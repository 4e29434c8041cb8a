/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_OPTIMIZE_H
#define FREQPILOT_OPTIMIZE_H

/*
 * The decision engine: choosing clocks from aggregated measurements. Every consumer of a
 * recommendation (optimize, pareto, validate, report, run, apply, govern's static policy,
 * the model's replay) goes through it. docs/method.md part C states every rule with its
 * numbers:
 *
 *  - estimates that borrow strength across clocks (fp_opt_estimate_curve): per (gpu, app) a
 *    local-quadratic fit of ln T and ln E over the clock (time: about a physically shaped
 *    a + b·fmax/f fit), bandwidth chosen by Mallows' Cp from the measured noise, time made
 *    non-increasing in the clock; the per-clock medians are the data it smooths, so a
 *    noise-free curve is reproduced exactly;
 *  - the choice (fp_opt_decide, objective.h) on those estimates within a slowdown budget
 *    checked on the slowdown's one-sided bound (budget_confidence), with a stated
 *    practical-equivalence margin;
 *  - one verdict per recommendation (fp_opt_assess), the same in every output.
 *
 * Input is an fp_opt_data: per (gpu, app) the aggregated rows (and the kept runs when they
 * were loaded). The engine reads only what aggregated.csv carries (runs, medians, their CVs,
 * flags), so a dataset and its aggregated.csv give the same answers.
 */

#include <stddef.h>
#include <stdint.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/error.h"
#include "freqpilot/objective.h"
#include "freqpilot/run.h"

#ifdef __cplusplus
extern "C" {
#endif

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
    char name[64];             /* fp_constraints_open: the preset's name or the file's, no .ini */
    char source[256];          /* fp_constraints_open: the file read, or "preset NAME (built in)" */
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
/*
 * --constraints SPEC: SPEC is a file, or the name of a preset (contrib/constraints/NAME.ini:
 * "ai-inference-energy", the original project's budgets), looked for as
 * $FREQPILOT_CONSTRAINTS_DIR/NAME.ini, then share/freqpilot/constraints/NAME.ini beside the
 * running program's bin/ (make install), then in the copies built into the library. Starts
 * from fp_constraints_init; sets c->name and c->source.
 */
fp_status fp_constraints_open(const char *spec, fp_constraints *c, fp_error *err);
/* Names of the presets built into the library; NULL past the end. */
const char *fp_constraints_preset_at(size_t i);
/* Budget of app: 0 and *max_slowdown (and *category, may be NULL) set, or -1 when unmapped. */
int fp_constraints_lookup(const fp_constraints *c, const char *app, double *max_slowdown,
                          const char **category);

/* ---- Data ---- */

typedef struct fp_opt_point {
    const fp_agg_row *row; /* centres, intervals, flags: all the engine uses */
    size_t nruns;          /* kept runs when they were loaded (0 from aggregated.csv); for
                              callers that look at single runs, not used by the choice */
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
 * Groups agg's rows by (gpu, app), each number as aggregated.csv writes it (%.10g), so the
 * runs and their aggregated.csv give the engine the same inputs. runs (may be NULL) are the
 * runs fp_aggregate was given; the dropped ones (agg->dropped) are left out, the rest
 * attached to their row. agg's rows and findings are copied, so agg may be freed afterwards.
 */
fp_status fp_opt_data_build(const fp_agg_result *agg, const fp_run_list *runs, fp_opt_data *out,
                            fp_error *err);
void fp_opt_data_free(fp_opt_data *d);
/*
 * Loads the inputs: either one aggregated.csv (recognised by its header) or any inputs
 * fp_runs_load reads (a DATASET/, measured_runs.csv, ...), aggregated here with aopt (NULL =
 * defaults); the kept runs are then attached too.
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
    FP_OPT_BASELINE_FALLBACK = 1u << 0,     /* baseline clock had < 2 runs: next one used */
    FP_OPT_NO_SIGNIFICANT_SAVING = 1u << 1, /* the claimed saving's interval reaches 0 */
    FP_OPT_NO_FEASIBLE_CLOCK = 1u << 2,     /* nothing met the power cap: baseline returned */
    FP_OPT_NO_INTERVAL = 1u << 3,           /* no noise estimate: no intervals */
    FP_OPT_POWER_CAPPED = 1u << 4,          /* clocks above --max-power were excluded */
    FP_OPT_SUSPECT_SAVING = 1u << 5,        /* saving > 40 %: implausible for DVFS alone */
    FP_OPT_NO_BUDGET = 1u << 6,             /* no slowdown budget applied */
    FP_OPT_NO_CHANGE = 1u << 7,             /* no clock beats the baseline by the margin */
    FP_OPT_FLAG_COUNT_ = 8
} fp_opt_flag;
const char *fp_opt_flag_name(unsigned bit);
/* Data flags then optimize flags, ';'-separated. Returns the length. */
int fp_opt_flags_format(uint32_t data_flags, uint32_t opt_flags, char *buf, int size);

typedef struct fp_opt_options {
    fp_baseline_kind baseline;
    double baseline_mhz;      /* FP_BASELINE_MHZ */
    double confidence;        /* level of the two-sided intervals shown (0.95) */
    double budget_confidence; /* one-sided level at which the budget is checked (0.90): a
                                 clock qualifies when P(slowdown <= budget) >= it, i.e. its
                                 slowdown_bound is within the budget */
    double margin;            /* practical-equivalence margin of the choice (0.005 = 0.5 %) */
    int min_runs;             /* a clock with fewer kept runs never wins on its own data (2) */
    int point_estimate;       /* naive rule: each clock's medians, budget on the median slowdown,
                                 no margin (for comparison) */
    double pmax_w;            /* P_max of cost; NAN = the GPU's power limit */
    double max_power_w;       /* power cap on the estimated power; NAN = none */
    double suspect_saving;    /* savings above this are "suspect" (0.40) */
    double cv_threshold;      /* validate's cv check warns above this (0.10) */
    const fp_diag *diag;
} fp_opt_options;
void fp_opt_options_init(fp_opt_options *o);

/* ---- Estimates ---- */

/*
 * Estimates of one curve (arrays indexed like the curve's points). ln T and ln E of the
 * points with data are smoothed by a local-quadratic fit (tricube kernel, weights 1/variance of
 * each centre; for time, of the residuals about a global fit on 1, fmax/f, (fmax/f)²) whose
 * bandwidth minimises Mallows' Cp; ln T is then made non-increasing in the clock (weighted
 * pool-adjacent-violators). docs/method.md C.2 has every step. Each estimate is a linear
 * combination of the centres, so its variance and the variance of its ratio to the baseline follow
 * exactly from the weights and the centres' variances: var(centre k) = k(n_k) · sigma_k² / n_k +
 * tau² with sigma² the pooled run-to-run variance (a robust median of the rows' CVs, a noisier
 * clock its own), k(n) the variance factor of a median of n runs (1.35 for 3) and tau² the
 * scatter of the centres about a smooth curve beyond what the runs explain (from second
 * differences). Noise-free data (every CV 0) are not smoothed.
 */
typedef struct fp_opt_estimate {
    size_t n;                          /* the curve's points */
    double *time_s, *energy_j;         /* estimates; NAN where a point has no data */
    int *eligible;                     /* may be chosen (runs >= min_runs, or its own centre
                                          weighs at most half of its estimate) */
    double *w_time, *w_energy;         /* n x n: ln est_i = sum_k w[i*n + k] ln centre_k */
    double *w_time_var;                /* the time smoother before the monotone step: intervals
                                          of time ratios use it (pooled equal estimates do not
                                          make their ratio exactly known) */
    double *var_time, *var_energy;     /* variance of ln centre_k */
    double sigma_time, sigma_energy;   /* pooled relative run-to-run SD (NAN: unknown) */
    double tau_time, tau_energy;       /* relative scatter of the centres beyond it */
    double bw_time_mhz, bw_energy_mhz; /* bandwidths (0: each clock's own centre) */
    double dof;                        /* degrees of freedom of the interval's t quantile */
    int have_noise;                    /* 0: no noise estimate, no intervals */
    size_t nusable;                    /* points with data */
} fp_opt_estimate;

fp_status fp_opt_estimate_curve(const fp_opt_curve *c, const fp_opt_options *o,
                                fp_opt_estimate *out, fp_error *err);
void fp_opt_estimate_free(fp_opt_estimate *e);

/* Statistics of one clock against the baseline. */
typedef struct fp_opt_compare {
    double slowdown, slowdown_lo, slowdown_hi;
    double slowdown_bound; /* one-sided upper bound at budget_confidence (the budget's test) */
    double energy_saving, energy_saving_lo, energy_saving_hi;
    uint32_t opt_flags; /* NO_INTERVAL */
} fp_opt_compare;

/* Slowdown and saving of point i against point b from the estimates: two-sided intervals at
 * o->confidence, the slowdown's one-sided bound at o->budget_confidence. */
void fp_opt_compare_est(const fp_opt_estimate *e, size_t i, size_t b, const fp_opt_options *o,
                        fp_opt_compare *out);
/*
 * One-sided p of "the true log ratio of point i to point b (time: energy = 0, energy: 1) is
 * at or below ln(factor)", from the estimate's normal/t approximation: small p = the ratio
 * is significantly above factor. NAN without a noise estimate.
 */
double fp_opt_p_above(const fp_opt_estimate *e, size_t i, size_t b, int energy, double factor);

/* ---- Verdicts ---- */

/*
 * One verdict per recommendation, computed once by fp_opt_assess and shown the same by
 * optimize (table, JSON, CSV), validate, report and run; apply --from and --deploy-script act
 * only on FP_VERDICT_DEPLOYABLE unless forced.
 */
typedef enum fp_verdict {
    FP_VERDICT_DEPLOYABLE = 0, /* "deployable": a significant saving, a DVFS effect, in budget */
    FP_VERDICT_NO_SAVING,      /* "no significant saving" (also: no change from the baseline) */
    FP_VERDICT_SUSPECT,        /* "suspect: not a DVFS effect" (clock dependence, drift,
                                  counter, implausible size) */
    FP_VERDICT_INSUFFICIENT,   /* "insufficient data" (no noise estimate, < 3 clocks, a clock
                                  resting on too few runs, budget not shown) */
    FP_VERDICT_INFEASIBLE,     /* "infeasible": no clock meets the power cap */
    FP_VERDICT_COUNT_
} fp_verdict;
/* The names above; NULL out of range. */
const char *fp_verdict_name(fp_verdict v);
/* The verdict named s; -1 when s is none of them. */
int fp_verdict_from_name(const char *s);

/* Results */
typedef struct fp_opt_result {
    char gpu[64];
    char app[64];
    char objective[32];
    double max_slowdown; /* NAN = none */
    char category[32];   /* from --constraints, "" otherwise */
    double freq_mhz, baseline_mhz;
    double time_s, energy_j, power_w; /* the engine's estimates at freq_mhz */
    double objective_value;
    fp_opt_compare cmp;
    int feasible;
    uint32_t data_flags, opt_flags;
    fp_verdict verdict;
    char verdict_reason[320]; /* the verdict in words, with the numbers behind it */
    char message[256];        /* why infeasible / fallback; "" when nothing to say */
} fp_opt_result;

typedef struct fp_opt_results {
    fp_opt_result *items;
    size_t len, cap;
    char baseline[32];        /* "max", "default", "1200" */
    double confidence;        /* interval level (NAN when read from a file without it) */
    double budget_confidence; /* one-sided level of the budget's test (NAN: not in the file) */
    double margin;            /* practical-equivalence margin of the choice */
    int simulated;            /* the data come from the simulated GPU (fp_agg_simulated): the
                                 JSON says "simulated": true, the table SIMULATED DATA */
} fp_opt_results;
void fp_opt_results_free(fp_opt_results *r);

/* Index of the baseline point of curve c (or -1 with err set); *fallback = 1 when the
 * requested clock had fewer than 2 runs and the next one was used. */
int fp_opt_baseline(const fp_opt_curve *c, const fp_opt_options *o, int *fallback, fp_error *err);

/* The board of a curve: the device name its rows carry (gpu_name), else its gpu. */
const char *fp_opt_curve_board(const fp_opt_curve *c);
/* P_max for cost: o->pmax_w, else the default power limit of board gpu (gpu_specs.h); NAN when
 * gpu is not a known board (a bare "A100" is not: its limit may be 250, 300 or 400 W). */
double fp_opt_pmax(const char *gpu, const fp_opt_options *o);

/*
 * One result per curve × objective × budget. budgets[k] is a fraction; NAN means "from
 * constraints" (the app's budget, none when unmapped or constraints is NULL). With nbudgets
 * 0 one NAN budget is used. Each result carries its verdict (fp_opt_assess).
 */
fp_status fp_optimize(const fp_opt_data *d, const fp_objective *objs, size_t nobjs,
                      const double *budgets, size_t nbudgets, const fp_constraints *constraints,
                      const fp_opt_options *o, fp_opt_results *out, fp_error *err);

/* ---- Output ---- */

/* JSON of docs/formats.md (plus category, objective_value, verdict, verdict_reason, message; the
 * root also states confidence and margin); path "-" = stdout. */
fp_status fp_opt_write_json(const fp_opt_results *r, const char *path, fp_error *err);
fp_status fp_opt_write_csv(const fp_opt_results *r, const char *path, fp_error *err);
/* Human-readable table. */
void fp_opt_print_table(const fp_opt_results *r, FILE *fp);
/*
 * A sh script: `freqpilot apply` per (gpu, app) for the first objective's first result, then
 * restore. Only deployable results become apply lines (force: every one); the others are
 * listed in comments with their verdict and reason, and asking for them exits 1 saying why.
 */
fp_status fp_opt_write_deploy_script(const fp_opt_results *r, const char *path, int force,
                                     fp_error *err);
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

#define FP_VALIDATE_NCHECKS 9
/* Name of check k (0 <= k < FP_VALIDATE_NCHECKS, in fp_assessment.checks order); NULL after. */
const char *fp_check_name(size_t k);
typedef struct fp_check {
    const char *name; /* data, budget, saving, frontier, cv, drift, counter, clock_dependence,
                         plausibility */
    fp_check_status status;
    double p_value; /* NAN when the check has none */
    char detail[320];
} fp_check;

/* The checks of one recommendation and the verdict they add up to. */
typedef struct fp_assessment {
    fp_opt_compare cmp; /* recomputed from the estimates */
    fp_check checks[FP_VALIDATE_NCHECKS];
    fp_check_status worst; /* worst status of the checks */
    fp_verdict verdict;
    char reason[320];
} fp_assessment;

/*
 * The checks and the verdict of recommendation rec (its objective, max_slowdown, freq_mhz,
 * baseline_mhz and feasible are used) on curve c with estimate e (docs/method.md C.5). A
 * failing check and a verdict other than deployable go together: deployable <=> no check
 * fails. Used by fp_optimize for its own results and by fp_validate for results read back.
 */
void fp_opt_assess(const fp_opt_curve *c, const fp_opt_estimate *e, const fp_opt_result *rec,
                   const fp_opt_options *o, fp_assessment *out);

typedef struct fp_validation {
    fp_opt_result rec; /* the recommendation as read */
    int found;         /* its (gpu, app, clock and baseline) exist in the data */
    fp_assessment a;
} fp_validation;

/* Every recommendation of recs, assessed on d (the JSON's numbers are not trusted). */
fp_status fp_validate(const fp_opt_data *d, const fp_opt_results *recs, const fp_opt_options *o,
                      fp_validation **out, fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
