/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_AGGREGATE_H
#define FREQPILOT_AGGREGATE_H

/*
 * Runs -> one row per (gpu, app, clock) with a centre (median by default),
 * 95% intervals, dropped runs and data-quality flags. The output columns are
 * the aggregated.csv contract of docs/formats.md.
 */

#include <stdio.h>

#include "freqpilot/error.h"
#include "freqpilot/run.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp_center { FP_CENTER_MEDIAN = 0, FP_CENTER_MEAN } fp_center;
typedef enum fp_ci_method { FP_CI_BOOTSTRAP = 0, FP_CI_T } fp_ci_method;

typedef struct fp_agg_options {
    fp_center center;
    fp_ci_method ci;
    double confidence;      /* 0.95 */
    int bootstrap_samples;  /* 2000 */
    unsigned long seed;     /* fixed default so results are reproducible */
    int drop_cold_starts;   /* 1 */
    int drop_outliers;      /* 1 */
    double outlier_mad_k;   /* robust z beyond which a run is an outlier (default 3.5) */
    double outlier_min_rel; /* ... and at least this relative deviation from the median (0.25) */
    double cv_threshold;    /* high_cv above this coefficient of variation of time (0.10) */
    int strict;             /* every data-quality warning becomes an error */
    const fp_diag *diag;
} fp_agg_options;

void fp_agg_options_init(fp_agg_options *opt);

typedef struct fp_agg_row {
    char gpu[64];
    char app[64];
    double freq_mhz;
    int runs;         /* runs kept */
    int runs_dropped; /* runs dropped (cold start, outlier, failed) */
    double time_s, time_s_lo, time_s_hi;
    double energy_j, energy_j_lo, energy_j_hi;
    double power_w;
    double edp, ed2p; /* from the centres: E*T, E*T^2 */
    double sm_clock_mhz, gpu_util_pct, sm_active, dram_active, tensor_active, fp_active, temp_c;
    double time_cv, energy_cv;
    uint32_t flags;
    char gpu_name[64]; /* the device's full name when every run names the same one, else "" */
} fp_agg_row;

/* A per (gpu, app) finding that is not tied to one clock (drift, not clock bound). */
typedef struct fp_agg_finding {
    char gpu[64];
    char app[64];
    uint32_t flag;
    char detail[256];
} fp_agg_finding;

typedef struct fp_agg_result {
    fp_agg_row *rows;
    size_t nrows;
    fp_agg_finding *findings;
    size_t nfindings;
    fp_run_list dropped; /* copies of the dropped runs, with the reason in flags */
} fp_agg_result;

fp_status fp_aggregate(const fp_run_list *runs, const fp_agg_options *opt, fp_agg_result *out,
                       fp_error *err);
void fp_agg_result_free(fp_agg_result *res);

/* Writes aggregated.csv / JSON atomically (temporary file, then rename). path "-" = stdout. */
fp_status fp_agg_write_csv(const fp_agg_result *res, const char *path, fp_error *err);
fp_status fp_agg_write_json(const fp_agg_result *res, const char *path, fp_error *err);
/*
 * The same rows under the original project's column names (its complete_aggregation.csv,
 * docs/formats.md): gpu,application,frequency,avg_power,execution_time,energy,avg_gputl,
 * avg_drama,avg_temp, for scripts written against it. Rows left without runs are left out
 * (that file had none); empty cells where a value is not available.
 */
fp_status fp_agg_write_aie_csv(const fp_agg_result *res, const char *path, fp_error *err);
/* Reads an aggregated.csv back (for optimize, pareto, plots). */
fp_status fp_agg_read_csv(const char *path, fp_agg_result *out, fp_error *err);

/* The simulated backend names its devices "... (simulated)" (profile --backend sim, run's
 * sweep; a dataset whose manifest says "simulated": true gets the suffix when loaded): 1 when
 * gpu_name is such a name. */
int fp_gpu_name_simulated(const char *gpu_name);
/* 1 when a row of res comes from the simulated GPU: every output made from it is then
 * labelled SIMULATED DATA. */
int fp_agg_simulated(const fp_agg_result *res);

#ifdef __cplusplus
}
#endif
#endif
