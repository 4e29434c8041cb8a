/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The runs of `freqpilot profile --backend sim --workload W --clocks all --runs N --seed S`,
 * made in memory without telemetry files: the same plan (fp_sweep_plan: random order, one
 * warm-up per clock, a baseline revisit every 10 runs), one simulated device with the default
 * knobs and the seed S (as FREQPILOT_SIM_SEED), 0.5 s of idle before and after each run with
 * the device advanced in steps of the 50 ms sampling interval. Each run is reduced to what the
 * loader computes from its telemetry: the marked inference window's time and the energy
 * counter's delta over it. Benchmarks and property tests use it for many sweeps.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/sweep.h"

#define SWEEP_IDLE_S 0.5
#define SWEEP_INTERVAL_S 0.05
#define SWEEP_BASELINE_EVERY 10

fp_status fp_sim_sweep_runs(const fp_sim_gpu *gpu, const fp_sim_workload *wl, int runs,
                            uint64_t seed, int thermal_lag, fp_run_list *out, fp_error *err)
{
    if (!gpu || !wl || runs < 1)
        return fp_error_set(err, FP_ERR_INVALID,
                            "sim sweep: expected a GPU, a workload, runs >= 1");
    fp_sweep_item *plan = NULL;
    size_t nplan = 0;
    fp_status st = fp_sweep_plan(gpu->clocks_mhz, gpu->n_clocks, runs, 1, FP_ORDER_RANDOM, seed,
                                 SWEEP_BASELINE_EVERY, &plan, &nplan, err);
    if (st)
        return st;
    fp_sim_knobs k;
    fp_sim_knobs_default(&k);
    k.seed = seed;
    fp_sim_device *dev = fp_sim_device_new(gpu, &k);
    if (!dev) {
        free(plan);
        return fp_error_set(err, FP_ERR_NOMEM, "sim sweep: out of memory");
    }
    if (!thermal_lag)
        fp_sim_device_set_thermal_lag(dev, 0);
    for (size_t i = 0; i < nplan && !st; i++) {
        const fp_sweep_item *it = &plan[i];
        if ((st = fp_sim_device_lock(dev, it->clock_mhz, it->clock_mhz, err)))
            break;
        double t0 = fp_sim_device_time(dev);
        while (fp_sim_device_time(dev) - t0 < SWEEP_IDLE_S - 1e-9)
            fp_sim_advance(dev, SWEEP_INTERVAL_S);
        fp_sim_device_start(dev, wl, (unsigned)i, 0);
        while (fp_sim_device_busy(dev))
            fp_sim_advance(dev, SWEEP_INTERVAL_S);
        double t_end = fp_sim_device_time(dev) + SWEEP_IDLE_S;
        while (fp_sim_device_time(dev) < t_end - 1e-9)
            fp_sim_advance(dev, SWEEP_INTERVAL_S);
        if (it->warmup)
            continue;
        double ws, we;
        fp_sim_device_window(dev, &ws, &we);
        fp_run_buf b;
        fp_run_buf_init(&b);
        fp_run r = b.run;
        r.gpu = gpu->short_name;
        r.app = wl->name;
        r.freq_mhz = it->clock_mhz;
        r.run_index = (long)i;
        r.repetition = it->repetition;
        r.time_s = we - ws;
        r.energy_j = fp_sim_device_window_energy_j(dev);
        r.energy_counter_j = r.energy_j;
        r.power_w = r.energy_j / r.time_s;
        snprintf(b.source, sizeof b.source, "sim sweep %s %s seed %llu", gpu->short_name, wl->name,
                 (unsigned long long)seed);
        st = fp_run_list_push(out, &r, err);
    }
    fp_sim_device_free(dev);
    free(plan);
    return st;
}
