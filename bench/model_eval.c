/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The model's must-show table (docs/model.md): for every (gpu, app) of measured_runs.csv and
 * of the simulated GPU, the prediction errors in % and in W / s, the regret of the clock chosen
 * from a 5-clock fit, and the adaptive sweep's regret and GPU time as a fraction of the
 * exhaustive sweep (energy; energy within 5 % slowdown).
 *
 * usage: bench_model_eval [measured_runs.csv]   (default $FREQPILOT_DATA_DIR or ../shared/data)
 * Markdown on stdout. The simulated rows use 3 runs per clock with 1 % noise (seed 7) over
 * every supported clock.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/model.h"
#include "freqpilot/run.h"
#include "freqpilot/sim.h"

static void pc(double v)
{
    if (isfinite(v))
        printf(" %.1f |", 100 * v);
    else
        printf(" - |");
}

static int table(const char *title, const fp_run_list *runs)
{
    fp_error err;
    fp_agg_options ao;
    fp_agg_options_init(&ao);
    ao.bootstrap_samples = 200;
    fp_agg_result agg;
    if (fp_aggregate(runs, &ao, &agg, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    fp_eval_results ev;
    fp_model_replay_results r1, r5;
    fp_adaptive_options o1, o5;
    fp_adaptive_options_init(&o1);
    fp_adaptive_options_init(&o5);
    o5.max_slowdown = 0.05;
    if (fp_model_evaluate(&agg, NULL, &ev, &err) || fp_model_replay(runs, &o1, &r1, &err) ||
        fp_model_replay(runs, &o5, &r5, &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        fp_agg_result_free(&agg);
        return 1;
    }
    printf("\n### %s\n\n", title);
    printf("| gpu | app | clocks | LOCO P med %% | LOCO P max %% (W) | LOCO T med %% | "
           "LOCO T max %% (s) | 5-clk P med %% | 5-clk T med %% | 5-clk regret E %% | "
           "5-clk regret E<=5%% %% | adaptive regret E %% | GPU time E %% | "
           "adaptive regret E<=5%% %% | GPU time E<=5%% %% | note |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < ev.len; i++) {
        const fp_eval_result *e = &ev.items[i];
        const fp_model_replay_result *a = NULL, *b = NULL;
        for (size_t k = 0; k < r1.len; k++)
            if (!strcmp(r1.items[k].gpu, e->gpu) && !strcmp(r1.items[k].app, e->app))
                a = &r1.items[k];
        for (size_t k = 0; k < r5.len; k++)
            if (!strcmp(r5.items[k].gpu, e->gpu) && !strcmp(r5.items[k].app, e->app))
                b = &r5.items[k];
        printf("| %s | %s | %zu |", e->gpu, e->app, e->n_clocks);
        pc(e->loco.power_mdape);
        printf(" %.1f (%.1f W) |", 100 * e->loco.power_max_err, e->loco.power_max_err_w);
        pc(e->loco.time_mdape);
        printf(" %.1f (%.2f s) |", 100 * e->loco.time_max_err, e->loco.time_max_err_s);
        pc(e->sparse.power_mdape);
        pc(e->sparse.time_mdape);
        pc(e->regret_energy);
        pc(e->regret_energy_5);
        pc(a ? a->regret : NAN);
        pc(a ? a->gpu_time_fraction : NAN);
        pc(b ? b->regret : NAN);
        pc(b ? b->gpu_time_fraction : NAN);
        printf(" %s%s%s |\n", e->clock_bound ? "" : "not clock-bound; ",
               a && !a->ad.converged ? "run cap; " : "",
               b && !b->feasible ? "E<=5% choice over budget on the measured centres" : "");
    }
    fp_eval_results_free(&ev);
    fp_model_replay_results_free(&r1);
    fp_model_replay_results_free(&r5);
    fp_agg_result_free(&agg);
    return 0;
}

int main(int argc, char **argv)
{
    char path[4096];
    if (argc > 1)
        snprintf(path, sizeof path, "%s", argv[1]);
    else
        snprintf(path, sizeof path, "%s/ai-inference-energy/measured_runs.csv",
                 getenv("FREQPILOT_DATA_DIR") ? getenv("FREQPILOT_DATA_DIR") : "../shared/data");
    int rc = 0;
    fp_error err;
    struct stat st;
    if (stat(path, &st) == 0) {
        fp_run_list runs = {0};
        fp_load_options lo;
        fp_load_options_init(&lo);
        if (fp_runs_load(path, &lo, &runs, &err)) {
            fprintf(stderr, "error: %s\n", err.msg);
            return 1;
        }
        rc |= table("measured_runs.csv", &runs);
        fp_run_list_free(&runs);
    } else {
        fprintf(stderr, "%s: not found; only the simulated GPU\n", path);
    }
    fp_run_list sim = {0};
    for (unsigned g = 0; g < fp_sim_gpu_count(); g++)
        for (unsigned w = 0; w < fp_sim_workload_count(); w++)
            if (fp_model_sim_runs(fp_sim_gpu_at(g)->short_name, fp_sim_workload_at(w)->name, 3, 0,
                                  0.01, 7, &sim, &err)) {
                fprintf(stderr, "error: %s\n", err.msg);
                return 1;
            }
    rc |= table("simulated GPU (3 runs per clock, 1 % noise)", &sim);
    fp_run_list_free(&sim);
    return rc;
}
