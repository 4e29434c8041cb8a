/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Inputs loaded once for several commands. `freqpilot run` loads and aggregates its inputs in
 * its own process, then runs each stage as that stage's command (cmd_optimize with the argv
 * listed in commands.txt, ...) in a forked child, which inherits this memory: a command whose
 * inputs are the preloaded ones, read with the default load and aggregate options, takes its
 * runs, rows or optimize data from here instead of reading and aggregating them again. Its
 * options, rules and outputs are the command's own, so `run` writes what the commands write.
 */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "freqpilot/aggregate.h"
#include "freqpilot/optimize.h"
#include "freqpilot/run.h"

static const cli_preload *preload;

void cli_preload_set(const cli_preload *p)
{
    preload = p;
}

const cli_preload *cli_preload_for(const char *const *paths, size_t n)
{
    if (!preload || n != preload->npaths)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(paths[i], preload->paths[i]) != 0)
            return NULL;
    return preload;
}

static int same(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

void cli_preload_replay(const cli_preload *p, const fp_diag *load, const fp_diag *agg)
{
    for (size_t i = 0; p && i < p->nmsgs; i++) {
        const fp_diag *diag = p->msgs[i].aggregating ? agg : load;
        if (!diag)
            continue;
        fp_warn_fn fn = p->msgs[i].info ? diag->info : diag->warn;
        if (fn)
            fn(diag->user, p->msgs[i].text);
    }
}

int cli_preload_defaults(const fp_load_options *lo, const fp_agg_options *ao)
{
    fp_load_options l;
    fp_agg_options a;
    fp_load_options_init(&l);
    fp_agg_options_init(&a);
    if (lo &&
        (lo->format != l.format || !same(lo->ts.interval_s, l.ts.interval_s) ||
         lo->ts.gpu_index != l.ts.gpu_index || !same(lo->counter_tolerance, l.counter_tolerance) ||
         !same(lo->clock_tolerance_mhz, l.clock_tolerance_mhz) || lo->gpu_override ||
         lo->app_override || !same(lo->freq_override_mhz, l.freq_override_mhz)))
        return 0;
    if (ao && (ao->center != a.center || ao->ci != a.ci || ao->confidence != a.confidence ||
               ao->bootstrap_samples != a.bootstrap_samples || ao->seed != a.seed ||
               ao->drop_cold_starts != a.drop_cold_starts || ao->drop_outliers != a.drop_outliers ||
               ao->outlier_mad_k != a.outlier_mad_k || ao->outlier_min_rel != a.outlier_min_rel ||
               ao->cv_threshold != a.cv_threshold || ao->strict != a.strict))
        return 0;
    return 1;
}

fp_status cli_opt_data(const char *const *paths, size_t n, const fp_diag *diag, fp_opt_data *out,
                       int *borrowed, fp_error *err)
{
    const cli_preload *p = cli_preload_for(paths, n);
    *borrowed = p && p->opt;
    if (*borrowed) {
        cli_preload_replay(p, diag, diag);
        *out = *p->opt;
        return FP_OK;
    }
    return fp_opt_data_load(paths, n, NULL, diag, out, err);
}
