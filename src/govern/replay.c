/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Deterministic replay of a workload on the simulated GPU under a policy: the control loop
 * of the daemon (sample -> detector -> policy -> clock request), with the simulated device
 * in place of NVML. A request takes effect switch_latency_s later (driver call plus the PLL
 * and voltage ramp), so a policy that switches often pays for it in the result.
 *
 * The run-to-run time and power noise of the simulated device are off (every policy sees
 * the same workload, so differences come from the clocks alone); the per-sample reading
 * noise stays on, seeded, so the detector works on realistic readings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/govern.h"
#include "util/grow.h"

void fp_replay_opts_default(fp_replay_opts *o)
{
    memset(o, 0, sizeof *o);
    o->gpu = "A100";
    o->interval_s = 0.05;
    o->switch_latency_s = 0.03;
    o->budget = 0.05;
    o->bias = 0;
    o->margin = 0.05;
    o->seed = FP_SIM_DEFAULT_SEED;
}

void fp_replay_result_free(fp_replay_result *r)
{
    if (!r)
        return;
    free(r->trace);
    r->trace = NULL;
    r->n_trace = 0;
}

/*
 * The workload's own view of its progress: phase index and fraction done, advanced with the
 * clock the device runs at. It yields the throughput signal a workload would report (work of
 * its current phase per second, in f_max-seconds per second: 1 at full speed), 0 while the GPU
 * is idle (model load).
 */
typedef struct shadow {
    const fp_sim_gpu *gpu;
    const fp_sim_workload *wl;
    unsigned phase;
    double done; /* fraction of the phase */
} shadow;

static unsigned reached(const shadow *sh, unsigned lock_mhz)
{
    int capped;
    const fp_sim_phase *p = &sh->wl->phases[sh->phase];
    double f = lock_mhz ? lock_mhz : fp_sim_gpu_fmax(sh->gpu);
    if (p->idle && !lock_mhz)
        f = sh->gpu->idle_clock_mhz;
    return fp_sim_reached_clock(sh->gpu, sh->wl, sh->phase, f, 0, &capped);
}

static double phase_time(const shadow *sh, unsigned f)
{
    fp_sim_point pt;
    fp_sim_phase_point(sh->gpu, sh->wl, sh->phase, f, sh->gpu->ambient_c, &pt);
    return pt.time_s;
}

static double shadow_rate(const shadow *sh, unsigned lock_mhz)
{
    if (sh->phase >= sh->wl->n_phases || sh->wl->phases[sh->phase].idle)
        return 0;
    double t = phase_time(sh, reached(sh, lock_mhz));
    double t0 = phase_time(sh, fp_sim_gpu_fmax(sh->gpu));
    return t > 0 ? t0 / t : 1;
}

static void shadow_advance(shadow *sh, unsigned lock_mhz, double dt)
{
    while (dt > 0 && sh->phase < sh->wl->n_phases) {
        double t = phase_time(sh, reached(sh, lock_mhz));
        double left = (1 - sh->done) * t;
        if (!(t > 0) || left <= dt) {
            dt -= t > 0 ? left : 0;
            sh->phase++;
            sh->done = 0;
        } else {
            sh->done += dt / t;
            dt = 0;
        }
    }
}

static void apply(fp_sim_device *dev, unsigned mhz)
{
    if (mhz)
        fp_sim_device_lock(dev, mhz, mhz, NULL);
    else
        fp_sim_device_unlock(dev);
}

static int push_trace(fp_replay_result *r, size_t *cap, const fp_replay_point *pt)
{
    if (FP_GROW(r->trace, r->n_trace, *cap, 1024))
        return -1;
    r->trace[r->n_trace++] = *pt;
    return 0;
}

fp_status fp_replay_run(const fp_sim_workload *wl, fp_policy *pol, const fp_replay_opts *o,
                        fp_replay_result *res, fp_error *err)
{
    memset(res, 0, sizeof *res);
    const fp_sim_gpu *gpu = fp_sim_gpu_find(o->gpu ? o->gpu : "A100");
    if (!gpu)
        return fp_error_set(err, FP_ERR_INVALID,
                            "replay: unknown simulated GPU '%s' "
                            "(expected V100, A100 or H100)",
                            o->gpu);
    if (!(o->interval_s >= 0.001 && o->interval_s <= 10) ||
        !(o->switch_latency_s >= 0 && o->switch_latency_s < o->interval_s))
        return fp_error_set(err, FP_ERR_INVALID,
                            "replay: interval %g s, switch latency %g s: expected an interval "
                            "of 0.001..10 s and a latency >= 0 below it",
                            o->interval_s, o->switch_latency_s);
    fp_status st = fp_policy_start(pol, err);
    if (st != FP_OK)
        return st;
    fp_sim_knobs k;
    fp_sim_knobs_default(&k);
    k.seed = o->seed;
    k.time_noise = 0;
    k.power_noise = 0;
    fp_sim_device *dev = fp_sim_device_new(gpu, &k);
    if (!dev)
        return fp_error_set(err, FP_ERR_NOMEM, "replay: out of memory");
    fp_sim_device_start(dev, wl, 1, 0);
    fp_phase_detector det;
    fp_phase_init(&det, NULL);
    shadow sh = {gpu, wl, 0, 0};

    unsigned applied = 0, requested = 0, pending = 0;
    int have_pending = 0, first = 1;
    size_t cap = 0;
    double total_s = 0;
    for (unsigned i = 0; i < wl->n_phases; i++) {
        double s3[3];
        fp_sim_phase_secs(gpu, wl, i, s3);
        total_s +=
            s3[0] + s3[1] + s3[2] * fp_sim_gpu_fmax(gpu) / gpu->clocks_mhz[gpu->n_clocks - 1];
    }
    double t_limit = 2 * total_s + 60;
    double clock_area = 0, clock_time = 0;
    const double dt = o->interval_s;
    while (fp_sim_device_busy(dev) && fp_sim_device_time(dev) < t_limit) {
        fp_sample s;
        fp_sim_device_sample(dev, &s);
        double t = fp_sim_device_time(dev);
        int changed = fp_phase_update(&det, t, &s);
        fp_policy_input in = {t,   det.current, changed || first, &s, shadow_rate(&sh, applied),
                              NULL};
        first = 0;
        unsigned want = fp_policy_decide(pol, &in);
        if (want != requested) {
            requested = want;
            pending = want;
            have_pending = 1;
            res->clock_changes++;
        }
        if (o->keep_trace) {
            fp_replay_point pt = {t, requested, (unsigned)s.v[FP_COL_SM_CLOCK_MHZ],
                                  s.v[FP_COL_POWER_W], det.current};
            if (push_trace(res, &cap, &pt) != 0) {
                fp_sim_device_free(dev);
                fp_replay_result_free(res);
                return fp_error_set(err, FP_ERR_NOMEM, "replay: out of memory");
            }
        }
        double ws, we;
        fp_sim_device_window(dev, &ws, &we);
        int in_window = !isnan(ws) && isnan(we);
        double lat = have_pending ? o->switch_latency_s : 0;
        if (lat > 0) {
            fp_sim_advance(dev, lat);
            shadow_advance(&sh, applied, lat);
        }
        if (have_pending) {
            apply(dev, pending);
            applied = pending;
            have_pending = 0;
        }
        fp_sim_advance(dev, dt - lat);
        shadow_advance(&sh, applied, dt - lat);
        if (in_window) {
            clock_area += s.v[FP_COL_SM_CLOCK_MHZ] * dt;
            clock_time += dt;
        }
    }
    double ws, we;
    fp_sim_device_window(dev, &ws, &we);
    res->time_s = we - ws;
    res->energy_j = fp_sim_device_window_energy_j(dev);
    res->mean_clock_mhz = clock_time > 0 ? clock_area / clock_time : NAN;
    res->budget = strcmp(fp_policy_name(pol), "default") == 0 ? NAN : o->budget;
    res->energy_saving = res->slowdown = NAN;
    snprintf(res->policy, sizeof res->policy, "%s", fp_policy_name(pol));
    int busy = fp_sim_device_busy(dev);
    fp_sim_device_free(dev);
    if (busy || isnan(res->time_s)) {
        fp_replay_result_free(res);
        return fp_error_set(err, FP_ERR_INVALID,
                            "replay: workload %s did not finish within %.0f simulated seconds",
                            wl->name, t_limit);
    }
    return FP_OK;
}

static void relate(fp_replay_result *r, const fp_replay_result *base)
{
    r->energy_saving = 1 - r->energy_j / base->energy_j;
    r->slowdown = r->time_s / base->time_s - 1;
}

fp_status fp_replay_compare(const fp_sim_workload *wl, const fp_replay_opts *o,
                            fp_replay_result *res, size_t res_cap, size_t *n_res, fp_error *err)
{
    *n_res = 0;
    if (res_cap < 5)
        return fp_error_set(err, FP_ERR_INVALID, "replay compare: expected room for 5 results");
    const fp_sim_gpu *gpu = fp_sim_gpu_find(o->gpu ? o->gpu : "A100");
    if (!gpu)
        return fp_error_set(err, FP_ERR_INVALID, "replay: unknown simulated GPU '%s'", o->gpu);
    fp_gpu_info info;
    fp_sim_gpu_info(gpu, 0, &info);
    fp_replay_opts ro = *o;
    ro.keep_trace = 0;
    fp_status st;
    fp_policy *pol = NULL;

    if ((st = fp_policy_new("default", &info, &pol, err)) != FP_OK)
        return st;
    fp_replay_result base;
    st = fp_replay_run(wl, pol, &ro, &base, err);
    fp_policy_free(pol);
    if (st != FP_OK)
        return st;
    relate(&base, &base);
    res[0] = base;

    /* Best static clock within the budget: every supported clock, replayed the same way, then
     * optimize's choice rule on these exact values (objective.h; no margin). */
    fp_replay_result best = {0};
    unsigned nclk = info.n_graphics_clocks;
    fp_replay_result *all = calloc(nclk ? nclk : 1, sizeof *all);
    fp_opt_cand *cand = calloc(nclk ? nclk : 1, sizeof *cand);
    if (!all || !cand || (st = fp_policy_new("static", &info, &pol, err)) != FP_OK) {
        free(all);
        free(cand);
        return all && cand ? st : fp_error_set(err, FP_ERR_NOMEM, "replay: out of memory");
    }
    long start = -1;
    for (unsigned i = 0; i < nclk; i++) {
        unsigned f = info.graphics_clocks_mhz[i];
        if ((st = fp_policy_set_num(pol, "clock", f, err)) != FP_OK ||
            (st = fp_replay_run(wl, pol, &ro, &all[i], err)) != FP_OK) {
            fp_policy_free(pol);
            free(all);
            free(cand);
            return st;
        }
        relate(&all[i], &base);
        all[i].static_mhz = f;
        cand[i] = (fp_opt_cand){f, all[i].energy_j, all[i].slowdown, 1};
        /* the rule starts from the fastest clock within the budget */
        if (all[i].slowdown <= o->budget + 1e-12 &&
            (start < 0 || all[i].slowdown < cand[start].slowdown_bound))
            start = (long)i;
    }
    fp_policy_free(pol);
    unsigned e_min_mhz =
        nclk ? cand[fp_opt_decide(cand, nclk, 0, NAN, 0.0)].freq_mhz : info.graphics_clocks_mhz[0];
    if (start >= 0)
        best = all[fp_opt_decide(cand, nclk, (size_t)start, o->budget + 1e-12, 0.0)];
    free(all);
    free(cand);
    snprintf(best.policy, sizeof best.policy, "static-best");
    res[1] = best;

    /*
     * activity: f_e is the energy-efficient clock for the budget (what `optimize` gives for
     * it, here the best static clock just measured); the law only raises the clock from
     * there, so it stays within the budget.
     */
    if ((st = fp_policy_new("activity", &info, &pol, err)) != FP_OK)
        return st;
    if ((st = fp_policy_set_num(pol, "bias", o->bias, err)) == FP_OK &&
        (st = fp_policy_set_num(pol, "f_e", o->f_e_mhz ? o->f_e_mhz : best.static_mhz, err)) ==
            FP_OK)
        st = fp_replay_run(wl, pol, &ro, &res[2], err);
    fp_policy_free(pol);
    if (st != FP_OK)
        return st;
    relate(&res[2], &base);

    /*
     * phase: clocks per class from the model curves (or a recorded sweep), planned for a part of
     * the budget (the rest pays for detection delay and switching); the first plan whose replay
     * keeps the budget is taken, as a sweep would validate it.
     */
    static const double margins[] = {0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0};
    int have_phase = 0;
    for (size_t m = 0; m < sizeof margins / sizeof margins[0] && !have_phase; m++) {
        if ((st = fp_policy_new("phase", &info, &pol, err)) != FP_OK)
            return st;
        double margin = margins[m] > o->margin ? margins[m] : o->margin;
        if (o->sweep)
            st = fp_policy_learn_phase_clocks_sweep(pol, o->sweep, o->budget * (1 - margin), err);
        else
            st =
                fp_policy_learn_phase_clocks_sim(pol, gpu, wl, o->budget * (1 - margin), NULL, err);
        if (st == FP_OK)
            st = fp_replay_run(wl, pol, &ro, &res[3], err);
        fp_policy_free(pol);
        if (st != FP_OK)
            return st;
        relate(&res[3], &base);
        have_phase = res[3].slowdown <= o->budget + 1e-12 || margins[m] >= 1.0;
    }

    /* feedback: no model beyond the energy-optimal clock as its floor. */
    if ((st = fp_policy_new("feedback", &info, &pol, err)) != FP_OK)
        return st;
    if ((st = fp_policy_set_num(pol, "budget", o->budget, err)) == FP_OK &&
        (st = fp_policy_set_num(pol, "floor", e_min_mhz, err)) == FP_OK)
        st = fp_replay_run(wl, pol, &ro, &res[4], err);
    fp_policy_free(pol);
    if (st != FP_OK)
        return st;
    relate(&res[4], &base);
    *n_res = 5;
    return FP_OK;
}
