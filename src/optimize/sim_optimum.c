/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The simulated GPU's true optimum (fp_sim_optimum, sim.h): optimize's own choice rule
 * (fp_opt_decide) over the simulator's noise-free curve. It lives here, above the simulator,
 * so that the GPU layer (src/gpu) never calls up into the decision engine.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>

#include "freqpilot/optimize.h"
#include "freqpilot/sim.h"

fp_status fp_sim_optimum(const fp_sim_gpu *gpu, const fp_sim_workload *wl,
                         const fp_objective *objective, double max_slowdown, unsigned *f_mhz,
                         fp_sim_optimum_result *res, fp_error *err)
{
    if (!objective || !objective->def)
        return fp_error_set(err, FP_ERR_INVALID, "sim optimum: no objective");
    unsigned n = gpu->n_clocks;
    fp_opt_cand *c = calloc(n, sizeof *c);
    double *t = malloc(n * sizeof *t), *e = malloc(n * sizeof *e);
    fp_status st = FP_OK;
    if (!c || !t || !e) {
        st = fp_error_set(err, FP_ERR_NOMEM, "sim optimum: out of memory");
        goto out;
    }
    /* clocks_mhz[0] is the maximum: the baseline. */
    for (unsigned i = 0; i < n && !st; i++)
        st = fp_sim_expected(gpu, wl, gpu->clocks_mhz[i], &t[i], &e[i], NULL, err);
    if (st)
        goto out;
    for (unsigned i = 0; i < n; i++) {
        c[i].freq_mhz = gpu->clocks_mhz[i];
        c[i].value = fp_objective_value(objective, t[i], e[i], gpu->power_limit_w);
        c[i].slowdown_bound = t[i] / t[0] - 1.0;
        c[i].eligible = 1;
    }
    double budget = !isnan(max_slowdown) && max_slowdown >= 0 ? max_slowdown : NAN;
    /* A relative 1e-12 margin: rounding noise never moves the optimum off a tie. */
    size_t best = fp_opt_decide(c, n, 0, budget, 1e-12);
    if (f_mhz)
        *f_mhz = gpu->clocks_mhz[best];
    if (res) {
        res->freq_mhz = gpu->clocks_mhz[best];
        res->baseline_mhz = gpu->clocks_mhz[0];
        res->time_s = t[best];
        res->energy_j = e[best];
        res->power_w = e[best] / t[best];
        res->baseline_time_s = t[0];
        res->baseline_energy_j = e[0];
        res->slowdown = t[best] / t[0] - 1.0;
        res->energy_saving = 1.0 - e[best] / e[0];
    }
out:
    free(c);
    free(t);
    free(e);
    return st;
}
