/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The simulated GPU in simulated time: a workload's phases progress at the rate the reached
 * clock allows, power is integrated into an exact energy counter, the temperature follows
 * its steady state with a first-order lag, and the power cap lowers the clock. Noise, drift
 * and the cold start come from fp_sim_knobs (docs/simulated-gpu.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/sim.h"
#include "gpu/sim_rng.h"

#define STEP_S 0.01
#define POWER_AVG_TAU_S 1.0
#define THROTTLE_IDLE 0x1
#define THROTTLE_SW_POWER_CAP 0x4

struct fp_sim_device {
    const fp_sim_gpu *gpu;
    fp_sim_knobs knobs;
    uint64_t rng, sample_rng;
    double t, temp_c, energy_j, power_avg_w;
    int no_thermal_lag; /* the temperature jumps to its steady state (truth mode) */
    int locked;
    unsigned lock_min, lock_max;
    int app_set;
    unsigned app_gr;
    double power_limit_w;
    /* the running workload */
    int has_wl, loop;
    fp_sim_workload wl;
    unsigned run_pos, phase;
    double progress; /* fraction of the current phase done */
    double tfac[FP_SIM_MAX_PHASES], power_fac;
    double win_start, win_end, win_e0, win_energy;
    unsigned min_reached;
    int throttled;
};

static double gauss(uint64_t *s)
{
    return sim_gauss(s);
}

void fp_sim_knobs_default(fp_sim_knobs *k)
{
    memset(k, 0, sizeof *k);
    k->seed = FP_SIM_DEFAULT_SEED;
    k->time_noise = 0.01;
    k->power_noise = 0.01;
    k->sample_noise = 0.005;
}

fp_sim_device *fp_sim_device_new(const fp_sim_gpu *gpu, const fp_sim_knobs *knobs)
{
    fp_sim_device *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->gpu = gpu;
    if (knobs)
        d->knobs = *knobs;
    else
        fp_sim_knobs_default(&d->knobs);
    d->rng = d->knobs.seed;
    d->sample_rng = d->knobs.seed ^ 0x5a5a5a5a5a5a5a5aull;
    d->temp_c = fp_sim_steady_temp(gpu, gpu->idle_power_w);
    d->power_avg_w = gpu->idle_power_w;
    d->power_limit_w = gpu->power_limit_w;
    d->win_start = d->win_end = NAN;
    return d;
}

/*
 * Off: the temperature follows its steady state at once (one fixed-point step per 10 ms
 * integration step), as in the truth functions; with the noise off too a run's energy then
 * matches fp_sim_expected. Declared in sim_backend.c, which uses it for FREQPILOT_SIM_NOISE=off.
 */
void fp_sim_device_set_thermal_lag(fp_sim_device *dev, int on)
{
    dev->no_thermal_lag = !on;
}

void fp_sim_device_free(fp_sim_device *dev)
{
    free(dev);
}

const fp_sim_gpu *fp_sim_device_gpu(const fp_sim_device *dev)
{
    return dev->gpu;
}

static void draw_run_noise(fp_sim_device *d)
{
    double common = (1.0 + d->knobs.drift_per_run * d->run_pos);
    int cold = d->run_pos == 0 && d->knobs.cold_start > 0;
    for (unsigned i = 0; i < FP_SIM_MAX_PHASES; i++) {
        double f = common * exp(d->knobs.time_noise * gauss(&d->rng));
        if (cold)
            f *= 1.0 +
                 (i < d->wl.n_phases && d->wl.phases[i].idle ? 4.0 : 1.0) * d->knobs.cold_start;
        d->tfac[i] = f;
    }
    d->power_fac = exp(d->knobs.power_noise * gauss(&d->rng));
}

void fp_sim_device_start(fp_sim_device *dev, const fp_sim_workload *wl, unsigned run_position,
                         int loop)
{
    if (!wl) {
        dev->has_wl = 0;
        return;
    }
    dev->wl = *wl;
    dev->has_wl = wl->n_phases > 0;
    dev->loop = loop;
    dev->run_pos = run_position;
    dev->phase = 0;
    dev->progress = 0;
    dev->win_start = dev->win_end = NAN;
    dev->win_energy = 0;
    dev->min_reached = 0;
    dev->throttled = 0;
    draw_run_noise(dev);
}

int fp_sim_device_busy(const fp_sim_device *dev)
{
    return dev->has_wl;
}

/* The instantaneous state: reached clock, phase point and power. */
typedef struct state {
    unsigned f;
    int idle, capped, inference;
    fp_sim_point pt;
    double power_w;
    double fb_mib;
} state;

static const fp_sim_workload idle_wl = {
    .name = "idle",
    .overlap_k = 1,
    .n_phases = 1,
    .phases = {{.name = "idle", .idle = 1}},
};

static unsigned ceiling_clock(const fp_sim_device *d)
{
    unsigned c = fp_sim_gpu_fmax(d->gpu);
    if (d->locked)
        c = d->lock_max;
    else if (d->app_set)
        c = d->app_gr;
    return fp_sim_clock_floor(d->gpu, c);
}

static void current_state(const fp_sim_device *d, state *s)
{
    const fp_sim_gpu *g = d->gpu;
    const fp_sim_workload *wl = d->has_wl ? &d->wl : &idle_wl;
    unsigned ph = d->has_wl ? d->phase : 0;
    const fp_sim_phase *p = &wl->phases[ph];
    memset(s, 0, sizeof *s);
    s->idle = p->idle;
    s->inference = d->has_wl && p->inference;
    s->f = ceiling_clock(d);
    if (s->idle && !d->locked)
        s->f = g->idle_clock_mhz < s->f ? g->idle_clock_mhz : s->f;
    double pfac = d->has_wl ? d->power_fac : 1.0;
    for (;;) {
        fp_sim_phase_point(g, wl, ph, s->f, d->temp_c, &s->pt);
        s->power_w = s->pt.power_w * pfac;
        if (s->power_w <= d->power_limit_w || s->f <= g->clocks_mhz[g->n_clocks - 1])
            break;
        s->capped = 1;
        s->f = fp_sim_clock_floor(g, s->f - 1);
    }
    s->fb_mib = p->fb_mib;
    if (p->idle && d->has_wl) /* model load: the frame buffer fills up */
        s->fb_mib = p->fb_mib * d->progress;
    if (!d->has_wl)
        s->fb_mib = 1;
}

static void next_phase(fp_sim_device *d)
{
    int was_inf = d->wl.phases[d->phase].inference;
    d->phase++;
    d->progress = 0;
    int now_inf = d->phase < d->wl.n_phases && d->wl.phases[d->phase].inference;
    if (was_inf && !now_inf) {
        d->win_end = d->t;
        d->win_energy = d->energy_j - d->win_e0;
    }
    if (d->phase >= d->wl.n_phases) {
        if (d->loop) {
            d->phase = 0;
            d->run_pos++;
            draw_run_noise(d);
        } else {
            d->has_wl = 0;
            return;
        }
    }
    if (!was_inf && d->wl.phases[d->phase].inference) {
        d->win_start = d->t;
        d->win_e0 = d->energy_j;
        d->win_end = NAN;
    }
}

void fp_sim_advance(fp_sim_device *d, double dt_s)
{
    if (d->has_wl && d->phase == 0 && d->progress == 0 && d->wl.phases[0].inference &&
        isnan(d->win_start)) {
        d->win_start = d->t;
        d->win_e0 = d->energy_j;
    }
    double left = dt_s;
    int guard = 0;
    while (left > 1e-12) {
        state s;
        current_state(d, &s);
        double step = left < STEP_S ? left : STEP_S;
        double dur = 0;
        if (d->has_wl) {
            dur = s.pt.time_s * d->tfac[d->phase];
            double rem = (1.0 - d->progress) * dur;
            if (rem <= 1e-12) {
                next_phase(d);
                if (++guard > 4 * FP_SIM_MAX_PHASES) /* a loop of empty phases */
                    d->has_wl = 0;
                continue;
            }
            if (rem < step)
                step = rem;
        }
        guard = 0;
        d->energy_j += s.power_w * step;
        double tss = fp_sim_steady_temp(d->gpu, s.power_w);
        d->temp_c +=
            (tss - d->temp_c) * (d->no_thermal_lag ? 1.0 : 1.0 - exp(-step / d->gpu->tau_s));
        d->power_avg_w += (s.power_w - d->power_avg_w) * (1.0 - exp(-step / POWER_AVG_TAU_S));
        d->t += step;
        left -= step;
        if (d->has_wl) {
            if (s.inference) {
                if (!d->min_reached || s.f < d->min_reached)
                    d->min_reached = s.f;
                if (s.capped)
                    d->throttled = 1;
            }
            d->progress += step / dur;
            if (d->progress >= 1.0 - 1e-12)
                next_phase(d);
        }
    }
}

double fp_sim_device_time(const fp_sim_device *dev)
{
    return dev->t;
}

void fp_sim_device_sample(fp_sim_device *d, fp_sample *out)
{
    state s;
    current_state(d, &s);
    const fp_sim_gpu *g = d->gpu;
    fp_sample_clear(out);
    double noise = 1.0 + d->knobs.sample_noise * gauss(&d->sample_rng);
    out->v[FP_COL_T_S] = d->t;
    out->v[FP_COL_POWER_W] = s.power_w * noise;
    out->v[FP_COL_POWER_AVG_W] = d->power_avg_w;
    out->v[FP_COL_ENERGY_MJ] = floor(d->energy_j * 1000.0);
    out->v[FP_COL_SM_CLOCK_MHZ] = s.f;
    out->v[FP_COL_MEM_CLOCK_MHZ] = g->mem_clock_mhz;
    out->v[FP_COL_GPU_UTIL_PCT] = round(s.pt.gpu_util_pct);
    out->v[FP_COL_MEM_UTIL_PCT] = round(s.pt.mem_util_pct);
    out->v[FP_COL_SM_ACTIVE] = s.pt.sm_active;
    out->v[FP_COL_SM_OCCUPANCY] = s.pt.sm_occupancy;
    out->v[FP_COL_TENSOR_ACTIVE] = s.pt.tensor_active;
    out->v[FP_COL_DRAM_ACTIVE] = s.pt.dram_active;
    out->v[FP_COL_FP64_ACTIVE] = s.pt.fp64_active;
    out->v[FP_COL_FP32_ACTIVE] = s.pt.fp32_active;
    out->v[FP_COL_FP16_ACTIVE] = s.pt.fp16_active;
    out->v[FP_COL_TEMP_C] = round(d->temp_c);
    out->v[FP_COL_MEM_TEMP_C] = round(d->temp_c + 3.0 + 6.0 * s.pt.dram_active);
    out->v[FP_COL_FB_USED_MIB] = round(s.fb_mib);
    out->v[FP_COL_PSTATE] = 0;
    out->v[FP_COL_THROTTLE_REASONS] =
        (s.capped ? THROTTLE_SW_POWER_CAP : 0) | (s.idle && !s.capped ? THROTTLE_IDLE : 0);
    out->v[FP_COL_POWER_LIMIT_W] = d->power_limit_w;
    out->v[FP_COL_GR_ACTIVE] = s.pt.gpu_util_pct / 100.0;
    out->v[FP_COL_APP_CLOCK_MHZ] = d->app_set ? d->app_gr : g->default_clock_mhz;
}

void fp_sim_device_window(const fp_sim_device *dev, double *start_s, double *end_s)
{
    if (start_s)
        *start_s = dev->win_start;
    if (end_s)
        *end_s = dev->win_end;
}

double fp_sim_device_energy_j(const fp_sim_device *dev)
{
    return dev->energy_j;
}

double fp_sim_device_window_energy_j(const fp_sim_device *dev)
{
    return dev->win_energy;
}

fp_status fp_sim_device_lock(fp_sim_device *dev, unsigned min_mhz, unsigned max_mhz, fp_error *err)
{
    if (min_mhz > max_mhz)
        return fp_error_set(err, FP_ERR_INVALID,
                            "lock clocks: min %u MHz > max %u MHz (expected min <= max)", min_mhz,
                            max_mhz);
    if (max_mhz == 0)
        return fp_error_set(err, FP_ERR_INVALID, "lock clocks: expected a max clock > 0 MHz");
    dev->locked = 1;
    dev->lock_min = min_mhz;
    dev->lock_max = max_mhz;
    return FP_OK;
}

void fp_sim_device_unlock(fp_sim_device *dev)
{
    dev->locked = 0;
}

fp_status fp_sim_device_set_app_clocks(fp_sim_device *dev, unsigned mem_mhz, unsigned gr_mhz,
                                       fp_error *err)
{
    const fp_sim_gpu *g = dev->gpu;
    if (mem_mhz != g->mem_clock_mhz)
        return fp_error_set(err, FP_ERR_INVALID,
                            "set application clocks: memory clock %u MHz is not supported by "
                            "%s (expected %u)",
                            mem_mhz, g->name, g->mem_clock_mhz);
    for (unsigned i = 0; i < g->n_clocks; i++) {
        if (g->clocks_mhz[i] == gr_mhz) {
            dev->app_set = 1;
            dev->app_gr = gr_mhz;
            return FP_OK;
        }
    }
    return fp_error_set(err, FP_ERR_INVALID,
                        "set application clocks: graphics clock %u MHz is not a supported "
                        "clock of %s at memory %u MHz",
                        gr_mhz, g->name, mem_mhz);
}

void fp_sim_device_reset_app_clocks(fp_sim_device *dev)
{
    dev->app_set = 0;
}

fp_status fp_sim_device_set_power_limit(fp_sim_device *dev, double watts, fp_error *err)
{
    const fp_sim_gpu *g = dev->gpu;
    if (!(watts >= g->power_limit_min_w && watts <= g->power_limit_max_w))
        return fp_error_set(err, FP_ERR_INVALID, "set power limit: %g W is outside %g..%g W of %s",
                            watts, g->power_limit_min_w, g->power_limit_max_w, g->name);
    dev->power_limit_w = watts;
    return FP_OK;
}

double fp_sim_device_power_limit(const fp_sim_device *dev)
{
    return dev->power_limit_w;
}

void fp_sim_run_opts_default(fp_sim_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->interval_s = 0.05;
    o->idle_before_s = 1.0;
    o->idle_after_s = 1.0;
    fp_sim_knobs_default(&o->knobs);
}

static int emit(fp_sim_device *d, double t0, fp_sim_sample_fn cb, void *user, fp_sim_run_result *r)
{
    fp_sample s;
    fp_sim_device_sample(d, &s);
    s.v[FP_COL_T_S] = d->t - t0;
    r->n_samples++;
    r->wall_s = d->t - t0;
    return cb ? cb(user, &s) : 0;
}

fp_status fp_sim_run(const fp_sim_gpu *gpu, const fp_sim_workload *wl, const fp_sim_run_opts *opts,
                     fp_sim_sample_fn cb, void *user, fp_sim_run_result *res, fp_error *err)
{
    if (!gpu || !wl || !opts)
        return fp_error_set(err, FP_ERR_INVALID, "fp_sim_run: missing GPU, workload or options");
    if (!(opts->interval_s > 0) || !(opts->clock_mhz > 0))
        return fp_error_set(err, FP_ERR_INVALID,
                            "fp_sim_run: expected interval > 0 s and clock > 0 MHz");
    fp_sim_knobs k = opts->knobs;
    /* Independent noise per (seed, run position, clock), reproducible. */
    uint64_t mix = k.seed ^ ((uint64_t)opts->run_position << 32) ^ (uint64_t)opts->clock_mhz;
    k.seed = sim_splitmix(&mix);
    fp_sim_device *d = fp_sim_device_new(gpu, &k);
    if (!d)
        return fp_error_set(err, FP_ERR_NOMEM, "fp_sim_run: out of memory");
    fp_status st = FP_OK;
    if (opts->power_limit_w > 0 &&
        (st = fp_sim_device_set_power_limit(d, opts->power_limit_w, err)) != FP_OK)
        goto out;
    unsigned c = (unsigned)lround(opts->clock_mhz);
    if ((st = fp_sim_device_lock(d, c, c, err)) != FP_OK)
        goto out;
    fp_sim_run_result r;
    memset(&r, 0, sizeof r);
    r.requested_mhz = c;
    double h = opts->interval_s;
    int stop = emit(d, 0, cb, user, &r);
    double t_start = opts->idle_before_s;
    while (!stop && d->t + h <= t_start + 1e-9) {
        fp_sim_advance(d, h);
        stop = emit(d, 0, cb, user, &r);
    }
    fp_sim_device_start(d, wl, opts->run_position, 0);
    /* The workload starts between two samples; keep the sampling grid regular. */
    while (!stop && fp_sim_device_busy(d)) {
        fp_sim_advance(d, h);
        stop = emit(d, 0, cb, user, &r);
    }
    double t_end = d->t + opts->idle_after_s;
    while (!stop && d->t + h <= t_end + 1e-9) {
        fp_sim_advance(d, h);
        stop = emit(d, 0, cb, user, &r);
    }
    r.infer_start_s = d->win_start;
    r.infer_end_s = d->win_end;
    r.time_s = r.infer_end_s - r.infer_start_s;
    r.energy_j = d->win_energy;
    r.reached_mhz = d->min_reached;
    r.throttled = d->throttled;
    if (res)
        *res = r;
out:
    fp_sim_device_free(d);
    return st;
}
