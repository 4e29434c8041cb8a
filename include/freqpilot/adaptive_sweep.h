/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_ADAPTIVE_SWEEP_H
#define FREQPILOT_ADAPTIVE_SWEEP_H

/*
 * `freqpilot profile --strategy adaptive` (docs/profile.md "Adaptive sweep"): the sweep runner
 * of sweep.h driven by the adaptive strategy of freqpilot/model.h (fp_adaptive_*). Each
 * "measure clock f" is one run of the usual dataset (telemetry.csv + run.json); its time and
 * energy come from the run's telemetry over its window (fp_run_metrics), exactly as
 * `freqpilot aggregate` computes them. Runs already in the dataset are fed to the strategy
 * first (resume). At the end DATASET/adaptive.json and DATASET/curves.json are written.
 */

#include <stddef.h>

#include "freqpilot/error.h"
#include "freqpilot/model.h"
#include "freqpilot/sweep.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fp_adaptive_sweep_result {
    fp_sweep_summary sweep;    /* runs done / skipped / failed in this session */
    fp_adaptive_result result; /* the strategy's answer (valid when have_result) */
    int have_result;
    int have_model;               /* a curve was fitted (>= 2 clocks): curves.json written */
    size_t resumed_runs;          /* measured runs found in the dataset and fed first */
    size_t n_clocks;              /* candidate clocks */
    size_t warmup_runs;           /* warm-up runs of this session */
    double warmup_time_s;         /* their time (not in result.gpu_time_s) */
    size_t full_sweep_runs;       /* n_clocks × runs per clock */
    double full_sweep_gpu_time_s; /* Σ over clocks of runs × the predicted (else mean) time */
    double gpu_time_fraction;     /* result.gpu_time_s / full_sweep_gpu_time_s */
    char adaptive_json[4200];     /* paths written */
    char curves_json[4200];
} fp_adaptive_sweep_result;

/*
 * Runs the adaptive sweep. so: the sweep options as for fp_sweep_run (runs = runs per clock
 * of the full sweep the GPU time is compared with; warmup = warm-up runs at the start of each
 * session; order, baseline_every, next_item and order_name are ignored); ao: the strategy's
 * options (objective, max_slowdown, tolerance, max_runs). On an interruption
 * res->sweep.interrupted_sig is set as with fp_sweep_run and nothing is written.
 */
fp_status fp_adaptive_sweep_run(const fp_sweep_opts *so, const fp_adaptive_options *ao,
                                fp_adaptive_sweep_result *res, fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
