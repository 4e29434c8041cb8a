/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_RUN_CONFIG_H
#define FREQPILOT_RUN_CONFIG_H

/*
 * The settings of `freqpilot run --config FILE` (INI; contrib/freqpilot-run.ini,
 * docs/formats.md):
 *
 *   [run]       objectives = energy,edp,ed2p,time   max_slowdown = none,0.05,0.10
 *               title = TEXT   headline_objective = energy   headline_slowdown = 0.05
 *               constraints = FILE|PRESET (per-app budgets, fp_constraints_open)
 *   [impact]    utilisation = 0.5   price_per_kwh = 0.15   currency = USD
 *               grid_gco2_per_kwh = 400   gpus = 1 (what savings are worth, deploy.h)
 *   [simulate]  gpus = V100,A100,H100   workloads = llama,stablediffusion,vit,whisper,lstm
 *               runs = 3   clock_step = 1   seed = N
 *
 * Every value is checked when the file is read, before anything is written: an unknown
 * section or key, a key given twice, a GPU or workload the simulator does not have, an
 * objective optimize does not know, or a number outside its range is an error naming
 * FILE:LINE and what was expected.
 */

#include <stddef.h>

#include "freqpilot/deploy.h"
#include "freqpilot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP_RUN_CONFIG_MAX_RUNS 1000       /* runs per clock, as `run --runs` */
#define FP_RUN_CONFIG_MAX_CLOCK_STEP 1000 /* every Nth supported clock */

typedef struct fp_run_config {
    char objectives[256];
    char max_slowdown[128];
    char title[160];
    char headline_objective[32];
    double headline_slowdown;
    char gpus[128];      /* simulated GPUs, comma-separated */
    char workloads[256]; /* built-in workloads, comma-separated; "" = all */
    int runs;
    int clock_step;
    unsigned long long seed;
    char constraints[256]; /* [run] constraints: a file or a preset name; "" = none */
    fp_impact_opts impact; /* [impact] */
} fp_run_config;

/* The defaults (every objective, budgets none/5 %/10 %, the three GPUs, all workloads). */
void fp_run_config_init(fp_run_config *c);
/* Reads FILE over the current values of c (keys not in the file keep them). */
fp_status fp_run_config_load(const char *path, fp_run_config *c, fp_error *err);
/* The same on text in memory (len bytes); name is used in messages. */
fp_status fp_run_config_parse(const char *text, size_t len, const char *name, fp_run_config *c,
                              fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
