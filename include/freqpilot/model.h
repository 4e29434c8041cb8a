/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_MODEL_H
#define FREQPILOT_MODEL_H

/*
 * Predicting power and time at clocks that were not measured (docs/model.md).
 *
 *  - Per-curve fits (curvefit.c) from a few measured clocks of one (gpu, app):
 *      time_s  = t_fixed + t_compute · fmax/f                       (non-negative parts)
 *      power_w = p_static + p_dyn · g(f) + p_act · g(f)·u(f) + p_mem · w(f)
 *    with g(f) = (f/fmax)·(V(f)/Vmax)², V flat at V_min up to the knee then linear to V_max,
 *    u(f) the compute share of the time (activity falls as the clock falls) and w(f) =
 *    T(fmax)/T(f) (DRAM traffic per second). Weighted (relative) non-negative least squares
 *    by GSL; parameter covariance; Student t intervals.
 *  - Activity models (fgcs.c): features measured at the top clock predict the curves of
 *    other applications on the same GPU (FGCS 2023 form, and a physical form).
 *  - Validation (evaluate.c): leave-one-clock-out, sparse designs, leave-one-app-out, regret.
 *  - Adaptive sweep (adaptive.c): which clock to measure next and when to stop.
 */

#include <stddef.h>
#include <stdint.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/error.h"
#include "freqpilot/optimize.h"
#include "freqpilot/run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Per-curve fits ---- */

#define FP_MODEL_MAX_TERMS 4

/* One measured clock of a curve. */
typedef struct fp_model_point {
    double freq_mhz;
    double time_s, power_w; /* centres (energy = power · time) */
    double time_rsd;        /* relative SD of one run's time; NAN when unknown */
    double power_rsd;       /* relative SD of one run's power; NAN when unknown */
    int runs;               /* runs behind the centre (>= 1) */
} fp_model_point;

/* y = Σ coef_j · basis_j(f), coef_j >= 0, fitted on relative residuals (y - ŷ)/y. */
typedef struct fp_lsq {
    int nterms;
    double coef[FP_MODEL_MAX_TERMS];
    double cov[FP_MODEL_MAX_TERMS][FP_MODEL_MAX_TERMS]; /* covariance of coef (scaled) */
    double s2_rel;  /* variance of one centre's relative residual (fit or noise, the larger) */
    double s2_run;  /* variance of one new run, relative (prediction intervals) */
    double rms_rel; /* RMS relative residual of the fit itself */
    double dof;     /* degrees of freedom of the t quantile */
} fp_lsq;

typedef struct fp_curve_model {
    char gpu[64];
    char app[64];
    double fmax_mhz;                 /* the GPU's top clock (V(f) and fmax/f refer to it) */
    double knee_mhz;                 /* voltage knee */
    double v_ratio;                  /* V_min / V_max */
    int knee_source;                 /* 0 = simulated-GPU tables of this GPU, 1 = default guess */
    double meas_lo_mhz, meas_hi_mhz; /* measured range */
    size_t n_clocks;                 /* clocks fitted */
    double t_ref_s;                  /* fitted time at fmax (for w(f)) */
    fp_lsq time;                     /* basis: 1, fmax/f */
    fp_lsq power;                    /* basis: 1, g, g·u, w */
    int clock_bound; /* 0: time not explained by the clock: no time/energy predictions */
    char note[256];  /* why not clock-bound, or "" */
} fp_curve_model;

typedef struct fp_curve_options {
    double fmax_mhz;    /* NAN = the simulated tables' top clock of gpu, else the highest point */
    double knee_mhz;    /* NAN = the simulated tables of gpu, else 0.64 · fmax */
    double v_ratio;     /* NAN = tables, else 0.712 */
    double max_resid;   /* time RMS relative residual above which the time is "not explained by
                           the clock" (0.05) */
    double noise_floor; /* smallest relative SD assumed for a centre (0.003) */
} fp_curve_options;
void fp_curve_options_init(fp_curve_options *o);

/* Fits pts (n >= 2 distinct clocks, any order). gpu/app name the curve (gpu selects the
 * voltage knee of the simulated tables). */
fp_status fp_curve_fit(const char *gpu, const char *app, const fp_model_point *pts, size_t n,
                       const fp_curve_options *o, fp_curve_model *out, fp_error *err);

typedef struct fp_curve_pred {
    double freq_mhz;
    double time_s, time_lo, time_hi; /* prediction interval of one new run */
    double power_w, power_lo, power_hi;
    double energy_j, energy_lo, energy_hi;
    double time_se, power_se; /* SE of the mean curve (no run noise) */
    int extrapolated;         /* outside the measured range */
    int refused;              /* time/energy withheld: not clock-bound */
} fp_curve_pred;

/* conf: interval coverage (0.95). The time and energy of a model that is not clock-bound are
 * NAN (refused = 1); power is still predicted. */
void fp_curve_predict(const fp_curve_model *m, double f_mhz, double conf, fp_curve_pred *out);
/* Raw predictions even when not clock-bound (for validation). */
void fp_curve_predict_raw(const fp_curve_model *m, double f_mhz, double conf, fp_curve_pred *out);

/* Relative voltage V(f)/V_max and g(f) = f/fmax · (V/Vmax)² of a model. */
double fp_curve_g(const fp_curve_model *m, double f_mhz);

/* Points of (gpu, app) from aggregated rows (rows with runs > 0 and finite time/energy). */
size_t fp_model_points_from_rows(const fp_agg_row *rows, size_t nrows, const char *gpu,
                                 const char *app, fp_model_point *out, size_t cap);

/* ---- Activity models (FGCS 2023 and a physical variant) ---- */

/* Features of one application measured at the top clock. */
typedef struct fp_activity_features {
    double fp_active; /* fp32/2 + fp64 (+ fp16) */
    double dram_active;
    double sm_active;
    double tensor_active;
    double gpu_util_pct;
    double power_w; /* power at the top clock */
    double time_s;  /* time at the top clock */
} fp_activity_features;

typedef enum fp_activity_form {
    FP_ACT_FGCS_PAPER = 0, /* published coefficients, not refitted (see docs/model.md) */
    FP_ACT_FGCS_REFIT,     /* the paper's form, coefficients refitted per GPU */
    FP_ACT_PHYSICAL,       /* ratios to the top clock, linear in features × (g - 1), (r - 1) */
} fp_activity_form;
const char *fp_activity_form_name(fp_activity_form f);

#define FP_ACT_MAX_COEF 8
typedef struct fp_activity_model {
    fp_activity_form form;
    char gpu[64];
    double fmax_mhz, knee_mhz, v_ratio;
    int np, nt;                 /* coefficients used */
    double pc[FP_ACT_MAX_COEF]; /* power coefficients */
    double tc[FP_ACT_MAX_COEF]; /* time coefficients */
    size_t n_apps, n_rows;      /* training data */
} fp_activity_model;

/* One training row: an application's features (at its top clock) and a measured clock. */
typedef struct fp_activity_row {
    fp_activity_features x;
    double freq_mhz, time_s, power_w;
    const char *app;
} fp_activity_row;

/* The FGCS paper model (no fit). fmax_mhz is the GPU's top clock. */
void fp_activity_paper(const char *gpu, double fmax_mhz, fp_activity_model *out);
/* Fits form (REFIT or PHYSICAL) on rows of one GPU. */
fp_status fp_activity_fit(fp_activity_form form, const char *gpu, double fmax_mhz,
                          const fp_activity_row *rows, size_t n, fp_activity_model *out,
                          fp_error *err);
/* Predicted power and time at f for an application with features x. */
void fp_activity_predict(const fp_activity_model *m, const fp_activity_features *x, double f_mhz,
                         double *power_w, double *time_s);

/* ---- Validation ---- */

/* Errors of predictions against measured centres: fractions, and absolute in W and s. */
typedef struct fp_model_errors {
    size_t n;
    double power_mape, time_mape;           /* mean |err| / measured */
    double power_mdape, time_mdape;         /* median over clocks */
    double power_max_err, time_max_err;     /* worst |err| / measured */
    double power_max_err_w, time_max_err_s; /* worst |err| in W and s */
    double power_mae_w, time_mae_s;         /* mean |err| in W and s */
} fp_model_errors;

#define FP_EVAL_MAX_BUDGETS 4
typedef struct fp_eval_options {
    fp_objective objective; /* headline regret (energy) */
    double max_slowdown;    /* headline budget, NAN = none */
    int sparse_clocks;      /* clocks of the sparse design (5) */
    fp_curve_options curve;
} fp_eval_options;
void fp_eval_options_init(fp_eval_options *o);

typedef struct fp_eval_result {
    char gpu[64];
    char app[64];
    size_t n_clocks;
    fp_model_errors loco;       /* leave-one-clock-out, fitted on every other clock */
    fp_model_errors sparse;     /* fitted on sparse_clocks spread clocks, scored on the rest */
    fp_model_errors loao_phys;  /* leave-one-app-out, physical activity model (n = 0: none) */
    fp_model_errors loao_fgcs;  /* leave-one-app-out, FGCS form refitted */
    fp_model_errors fgcs_paper; /* FGCS paper coefficients (V100 only; n = 0 otherwise) */
    double regret;              /* headline: sparse fit's choice vs best measured clock */
    double regret_energy, regret_energy_5, regret_edp, regret_ed2p; /* per objective/budget */
    double chosen_mhz, best_mhz;
    int clock_bound; /* full-data fit explains the time */
    char note[256];
} fp_eval_result;

typedef struct fp_eval_results {
    fp_eval_result *items;
    size_t len;
} fp_eval_results;
void fp_eval_results_free(fp_eval_results *r);

/* Evaluates every (gpu, app) of agg. */
fp_status fp_model_evaluate(const fp_agg_result *agg, const fp_eval_options *o,
                            fp_eval_results *out, fp_error *err);

/*
 * Regret of choosing from predictions: among the clocks of pts, the clock minimising the
 * objective on pred_time/pred_energy (slowdown against the highest clock's prediction within
 * max_slowdown) is scored on the measured values: obj(chosen)/obj(best feasible measured) - 1.
 */
double fp_model_regret(const fp_model_point *pts, size_t n, const double *pred_time_s,
                       const double *pred_energy_j, const fp_objective *obj, double max_slowdown,
                       double pmax_w, double *chosen_mhz, double *best_mhz);

/* ---- Adaptive sweep ---- */

typedef struct fp_adaptive_options {
    fp_objective objective; /* energy unless set */
    double max_slowdown;    /* against the top clock; NAN = none */
    double tolerance;       /* stop when the choice is within this of the optimum (0.01) */
    double conf;            /* interval coverage used for the stop rule (0.95) */
    int runs_top;           /* runs at the top clock (2): the first noise estimate */
    int max_runs;           /* hard cap on runs (30) */
    double pmax_w;          /* for cost objectives; NAN = tables */
    double margin;          /* the choice rule's margin (fp_opt_decide; 0: the exact best) */
    fp_curve_options curve;
} fp_adaptive_options;
void fp_adaptive_options_init(fp_adaptive_options *o);

typedef struct fp_adaptive fp_adaptive;

/* clocks: the supported clocks that may be measured (any order, duplicates ignored). */
fp_status fp_adaptive_new(const char *gpu, const char *app, const double *clocks_mhz,
                          size_t nclocks, const fp_adaptive_options *o, fp_adaptive **out,
                          fp_error *err);
void fp_adaptive_free(fp_adaptive *a);
/*
 * 1: measure *freq_mhz once (one run) and report it with fp_adaptive_add; 0: done (the
 * optimum is known within the tolerance, or the run cap was reached, see the result).
 */
int fp_adaptive_next(fp_adaptive *a, double *freq_mhz);
/* One run at freq_mhz: its time and energy over the same window. */
fp_status fp_adaptive_add(fp_adaptive *a, double freq_mhz, double time_s, double energy_j,
                          fp_error *err);

typedef struct fp_adaptive_result {
    double freq_mhz;             /* chosen clock */
    double time_s, energy_j;     /* predicted at the chosen clock */
    double energy_lo, energy_hi; /* confidence interval of the mean prediction */
    double tolerance_achieved;   /* bound on the objective regret of the choice */
    int converged;               /* stop rule met (else the run cap stopped it) */
    int runs, clocks;            /* runs made, distinct clocks measured */
    double gpu_time_s;           /* Σ time of the runs */
    int clock_bound;
    char reason[256];
} fp_adaptive_result;

/* Result so far (valid after at least one run). model (may be NULL) gets the fitted curve. */
fp_status fp_adaptive_result_get(const fp_adaptive *a, fp_adaptive_result *out,
                                 fp_curve_model *model, fp_error *err);

/* ---- Replay: score the adaptive sweep on a complete dataset ---- */

typedef struct fp_model_replay_result {
    char gpu[64];
    char app[64];
    fp_adaptive_result ad;
    double best_mhz;          /* best measured clock (the exhaustive sweep's optimum) */
    double regret;            /* objective(chosen)/objective(best) - 1, measured centres */
    double energy_regret;     /* E(chosen)/E(best) - 1 */
    double gpu_time_fraction; /* Σ replayed run times / Σ every kept run's time */
    int feasible;             /* chosen clock meets the budget on the measured centres */
} fp_model_replay_result;

typedef struct fp_model_replay_results {
    fp_model_replay_result *items;
    size_t len;
} fp_model_replay_results;
void fp_model_replay_results_free(fp_model_replay_results *r);

/*
 * For every (gpu, app) of runs: aggregate (default options), then run the adaptive
 * strategy over the measured clocks answering each "measure clock f" with the next recorded
 * kept run at f (cycling when they run out).
 */
fp_status fp_model_replay(const fp_run_list *runs, const fp_adaptive_options *o,
                          fp_model_replay_results *out, fp_error *err);

/* Noise-free runs of the simulated GPU (fp_sim_expected), runs_per_clock per clock of the
 * table down to min_mhz, with relative noise sigma (0 = none) from seed. */
fp_status fp_model_sim_runs(const char *gpu, const char *workload, int runs_per_clock,
                            double min_mhz, double sigma, unsigned long seed, fp_run_list *out,
                            fp_error *err);

/* ---- model.json ---- */

typedef struct fp_model_file {
    fp_curve_model *curves;
    size_t ncurves;
    fp_activity_model *activity;
    size_t nactivity;
} fp_model_file;
void fp_model_file_free(fp_model_file *m);

/* Fits every (gpu, app) curve of agg and, where activities exist, activity models per GPU. */
fp_status fp_model_fit_all(const fp_agg_result *agg, const fp_curve_options *o, fp_model_file *out,
                           fp_error *err);
/* Atomic write; path "-" = stdout. */
fp_status fp_model_write_json(const fp_model_file *m, const char *path, fp_error *err);
fp_status fp_model_read_file(const char *path, fp_model_file *out, fp_error *err);
/*
 * Curves JSON for the report's model plot (docs/report.md "Model JSON"): per curve the
 * predicted points at clocks[] (or 40 clocks over the measured range when nclocks = 0) with
 * 95 % intervals and the measured points of agg (may be NULL).
 */
fp_status fp_model_write_curves(const fp_model_file *m, const fp_agg_result *agg,
                                const double *clocks, size_t nclocks, const char *path,
                                fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
