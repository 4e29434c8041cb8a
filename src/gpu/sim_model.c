/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The simulated GPU's physics and its noise-free truth. docs/simulated-gpu.md states every
 * equation used here and the calibration of the parameters against shared/data.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "freqpilot/sim.h"
#include "freqpilot/gpu_specs.h"

/*
 * Physical parameters. Each simulated GPU is one board of gpu_specs.h (its name, clock table,
 * memory clock, default clock, power limit and frame buffer come from there at first use);
 * what the spec table leaves unknown and a simulation needs is set here: the lowest settable
 * power limit (an assumption of the simulation, not a measured fact) and the idle power (read
 * off the nvidia-smi summaries of the captures: 23, 32 and 62 W, rounded up to the
 * calibration of docs/simulated-gpu.md).
 */
static fp_sim_gpu gpus[] = {
    {
        .name = "Tesla V100-PCIE-32GB",
        .power_limit_min_w = 100.0,
        .idle_power_w = 25.0,
        .slot = 0,
        .idle_clock_mhz = 135,
        .knee_mhz = 900.0,
        .v_min = 0.712,
        .v_max = 1.000,
        .static_per_c = 0.008,
        .dyn_w = 190.0,
        .clock_floor = 0.04,
        .mem_w = 35.0,
        .ambient_c = 24.0,
        .thermal_c_per_w = 0.22,
        .tau_s = 40.0,
    },
    {
        .name = "NVIDIA A100-PCIE-40GB",
        .power_limit_min_w = 150.0,
        .idle_power_w = 36.0,
        .slot = 1,
        .idle_clock_mhz = 210,
        .knee_mhz = 900.0,
        .v_min = 0.712,
        .v_max = 1.000,
        .static_per_c = 0.008,
        .dyn_w = 200.0,
        .clock_floor = 0.04,
        .mem_w = 40.0,
        .ambient_c = 25.0,
        .thermal_c_per_w = 0.18,
        .tau_s = 40.0,
    },
    {
        .name = "NVIDIA H100 NVL",
        .power_limit_min_w = 200.0,
        .idle_power_w = 60.0,
        .slot = 2,
        .idle_clock_mhz = 345,
        .knee_mhz = 1050.0,
        .v_min = 0.712,
        .v_max = 1.000,
        .static_per_c = 0.008,
        .dyn_w = 320.0,
        .clock_floor = 0.04,
        .mem_w = 60.0,
        .ambient_c = 25.0,
        .thermal_c_per_w = 0.11,
        .tau_s = 45.0,
    },
};
#define NGPUS (sizeof gpus / sizeof gpus[0])

static pthread_once_t gpus_once = PTHREAD_ONCE_INIT;

static void gpus_init_once(void)
{
    for (unsigned i = 0; i < NGPUS; i++) {
        const fp_gpu_spec *s = fp_gpu_spec_find(gpus[i].name);
        /* gpus[] names boards of the spec table; a mismatch is a programming error. */
        assert(s && "simulated GPU names a board of gpu_specs.h");
        gpus[i].spec = s;
        gpus[i].name = s->name;
        gpus[i].short_name = s->family;
        gpus[i].mem_clock_mhz = s->mem_clock_mhz;
        gpus[i].clocks_mhz = fp_gpu_spec_clock_table(s, &gpus[i].n_clocks);
        gpus[i].default_clock_mhz = s->default_clock_mhz;
        gpus[i].power_limit_w = s->power_limit_w;
        gpus[i].power_limit_max_w =
            isfinite(s->power_limit_max_w) ? s->power_limit_max_w : s->power_limit_w;
        if (isfinite(s->power_limit_min_w))
            gpus[i].power_limit_min_w = s->power_limit_min_w;
        gpus[i].fb_total_mib = s->mem_total_mib;
        /* An idle GPU at its idle steady temperature draws exactly the captured idle power. */
        gpus[i].t_ref_c = gpus[i].ambient_c + gpus[i].thermal_c_per_w * gpus[i].idle_power_w;
        gpus[i].static_w = gpus[i].idle_power_w;
    }
}

static void gpus_init(void)
{
    pthread_once(&gpus_once, gpus_init_once);
}

unsigned fp_sim_gpu_count(void)
{
    return NGPUS;
}

const fp_sim_gpu *fp_sim_gpu_at(unsigned i)
{
    gpus_init();
    return i < NGPUS ? &gpus[i] : NULL;
}

const fp_sim_gpu *fp_sim_gpu_find(const char *name)
{
    gpus_init();
    if (!name)
        return NULL;
    if (strncasecmp(name, "sim:", 4) == 0)
        name += 4;
    /* The simulator's own ids ("A100"), or exactly the board it simulates: an
     * "NVIDIA A100-SXM4-80GB" is not the simulated A100-PCIE-40GB. */
    for (unsigned i = 0; i < NGPUS; i++)
        if (strcasecmp(name, gpus[i].short_name) == 0)
            return &gpus[i];
    const fp_gpu_spec *s = fp_gpu_spec_find(name);
    for (unsigned i = 0; s && i < NGPUS; i++)
        if (gpus[i].spec == s)
            return &gpus[i];
    return NULL;
}

double fp_sim_voltage(const fp_sim_gpu *gpu, double f_mhz)
{
    double fmax = fp_sim_gpu_fmax(gpu);
    if (f_mhz <= gpu->knee_mhz)
        return gpu->v_min;
    if (f_mhz >= fmax)
        return gpu->v_max;
    return gpu->v_min +
           (gpu->v_max - gpu->v_min) * (f_mhz - gpu->knee_mhz) / (fmax - gpu->knee_mhz);
}

unsigned fp_sim_clock_floor(const fp_sim_gpu *gpu, double mhz)
{
    for (unsigned i = 0; i < gpu->n_clocks; i++)
        if (gpu->clocks_mhz[i] <= mhz + 1e-9)
            return gpu->clocks_mhz[i];
    return gpu->clocks_mhz[gpu->n_clocks - 1];
}

void fp_sim_gpu_info(const fp_sim_gpu *gpu, unsigned index, fp_gpu_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s (simulated)", gpu->name);
    snprintf(out->short_name, sizeof out->short_name, "%s", gpu->short_name);
    snprintf(out->uuid, sizeof out->uuid, "GPU-SIM-%s-%04u-0000-0000-%012u", gpu->short_name, index,
             index);
    snprintf(out->driver, sizeof out->driver, "freqpilot-sim");
    out->index = index;
    out->mem_clock_mhz = gpu->mem_clock_mhz;
    out->n_graphics_clocks = gpu->n_clocks < FP_GPU_MAX_CLOCKS ? gpu->n_clocks : FP_GPU_MAX_CLOCKS;
    for (unsigned i = 0; i < out->n_graphics_clocks; i++)
        out->graphics_clocks_mhz[i] = gpu->clocks_mhz[i];
    out->max_clock_mhz = fp_sim_gpu_fmax(gpu);
    out->default_clock_mhz = gpu->default_clock_mhz;
    out->power_limit_w = gpu->power_limit_w;
    out->power_limit_min_w = gpu->power_limit_min_w;
    out->power_limit_max_w = gpu->power_limit_max_w;
    out->default_power_limit_w = gpu->power_limit_w;
    out->mig_enabled = 0;
    out->simulated = 1;
}

/* ---- Phases ---- */

void fp_sim_phase_secs(const fp_sim_gpu *gpu, const fp_sim_workload *wl, unsigned i, double secs[3])
{
    const fp_sim_phase *p = &wl->phases[i];
    if (wl->has_gpu_secs && gpu->slot >= 0 && gpu->slot < FP_SIM_GPU_SLOTS) {
        memcpy(secs, wl->gpu_secs[gpu->slot][i], 3 * sizeof(double));
        return;
    }
    secs[0] = p->host_s;
    secs[1] = p->memory_s;
    secs[2] = p->compute_s;
}

double fp_sim_overlap_k(const fp_sim_gpu *gpu, const fp_sim_workload *wl)
{
    if (wl->has_gpu_secs && gpu->slot >= 0 && gpu->slot < FP_SIM_GPU_SLOTS &&
        wl->gpu_overlap_k[gpu->slot] > 0)
        return wl->gpu_overlap_k[gpu->slot];
    return wl->overlap_k > 0 ? wl->overlap_k : 1.0;
}

double fp_sim_act_scale(const fp_sim_gpu *gpu, const fp_sim_workload *wl)
{
    if (wl->has_gpu_secs && gpu->slot >= 0 && gpu->slot < FP_SIM_GPU_SLOTS &&
        wl->gpu_act_scale[gpu->slot] > 0)
        return wl->gpu_act_scale[gpu->slot];
    return 1.0;
}

double fp_sim_overlap_time(double mem_s, double comp_s, double k)
{
    if (mem_s <= 0)
        return comp_s;
    if (comp_s <= 0)
        return mem_s;
    if (k == 1.0)
        return mem_s + comp_s;
    double hi = mem_s > comp_s ? mem_s : comp_s, lo = mem_s > comp_s ? comp_s : mem_s;
    return hi * pow(1.0 + pow(lo / hi, k), 1.0 / k);
}

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

double fp_sim_steady_temp(const fp_sim_gpu *gpu, double power_w)
{
    return gpu->ambient_c + gpu->thermal_c_per_w * power_w;
}

static double static_power(const fp_sim_gpu *gpu, double temp_c)
{
    return gpu->static_w * (1.0 + gpu->static_per_c * (temp_c - gpu->t_ref_c));
}

void fp_sim_phase_point(const fp_sim_gpu *gpu, const fp_sim_workload *wl, unsigned i, double f_mhz,
                        double temp_c, fp_sim_point *out)
{
    const fp_sim_phase *p = &wl->phases[i];
    double secs[3];
    fp_sim_phase_secs(gpu, wl, i, secs);
    double fmax = fp_sim_gpu_fmax(gpu), k = fp_sim_overlap_k(gpu, wl);
    double r = fmax / f_mhz;
    double dev1 = fp_sim_overlap_time(secs[1], secs[2], k),
           devf = fp_sim_overlap_time(secs[1], secs[2] * r, k);
    double t1 = secs[0] + dev1, tf = secs[0] + devf;
    memset(out, 0, sizeof *out);
    out->time_s = tf;
    /*
     * Activities are given at f_max. The compute work is a fixed number of cycles, so the SM
     * busy fraction scales with the share of the phase spent computing; DRAM traffic is a
     * fixed number of bytes spread over the phase's time.
     */
    double s_comp = 1.0, s_mem = 1.0, s_util = 1.0;
    if (tf > 0 && t1 > 0) {
        s_comp = secs[2] > 0 ? (secs[2] * r / tf) / (secs[2] / t1) : t1 / tf;
        s_mem = t1 / tf;
        s_util = dev1 > 0 ? (devf / tf) / (dev1 / t1) : 1.0;
    }
    double as = fp_sim_act_scale(gpu, wl);
    s_comp *= as;
    s_mem *= as;
    out->sm_active = clamp01(p->sm_active * s_comp);
    out->sm_occupancy = clamp01(p->sm_occupancy * s_comp);
    out->tensor_active = clamp01(p->tensor_active * s_comp);
    out->fp64_active = clamp01(p->fp64_active * s_comp);
    out->fp32_active = clamp01(p->fp32_active * s_comp);
    out->fp16_active = clamp01(p->fp16_active * s_comp);
    out->dram_active = clamp01(p->dram_active * s_mem);
    out->gpu_util_pct = 100.0 * clamp01(p->gpu_util_pct / 100.0 * s_util);
    out->mem_util_pct = 100.0 * clamp01(p->mem_util_pct / 100.0 * s_mem);

    double v = fp_sim_voltage(gpu, f_mhz) / gpu->v_max;
    double fv2 = (f_mhz / fmax) * v * v;
    double act = 0.75 * out->sm_active + 0.25 * out->tensor_active;
    double floor = p->idle ? 0.0 : gpu->clock_floor;
    out->dyn_w = gpu->dyn_w * (floor + (1.0 - floor) * act) * fv2;
    out->static_w = static_power(gpu, temp_c);
    out->mem_w = gpu->mem_w * out->dram_active;
    out->power_w = out->static_w + out->dyn_w + out->mem_w;
}

/* Phase point at the steady temperature of its own power (fixed point; converges fast). */
static void steady_point(const fp_sim_gpu *gpu, const fp_sim_workload *wl, unsigned i, double f_mhz,
                         fp_sim_point *out)
{
    double temp = fp_sim_steady_temp(gpu, gpu->idle_power_w);
    for (int it = 0; it < 8; it++) {
        fp_sim_phase_point(gpu, wl, i, f_mhz, temp, out);
        temp = fp_sim_steady_temp(gpu, out->power_w);
    }
    fp_sim_phase_point(gpu, wl, i, f_mhz, temp, out);
}

unsigned fp_sim_reached_clock(const fp_sim_gpu *gpu, const fp_sim_workload *wl, unsigned i,
                              double f_mhz, double power_limit_w, int *capped)
{
    double limit = power_limit_w > 0 ? power_limit_w : gpu->power_limit_w;
    unsigned f = fp_sim_clock_floor(gpu, f_mhz);
    if (capped)
        *capped = 0;
    for (unsigned j = 0; j < gpu->n_clocks; j++) {
        unsigned c = gpu->clocks_mhz[j];
        if (c > f)
            continue;
        fp_sim_point pt;
        steady_point(gpu, wl, i, c, &pt);
        if (pt.power_w <= limit)
            return c;
        if (capped)
            *capped = 1;
    }
    return gpu->clocks_mhz[gpu->n_clocks - 1];
}

fp_status fp_sim_expected(const fp_sim_gpu *gpu, const fp_sim_workload *wl, double f_mhz,
                          double *time_s, double *energy_j, double *power_w, fp_error *err)
{
    if (!gpu || !wl)
        return fp_error_set(err, FP_ERR_INVALID, "fp_sim_expected: no GPU or workload");
    if (!(f_mhz > 0))
        return fp_error_set(err, FP_ERR_INVALID, "fp_sim_expected: clock %g MHz: expected > 0",
                            f_mhz);
    double t = 0, e = 0;
    for (unsigned i = 0; i < wl->n_phases; i++) {
        if (!wl->phases[i].inference)
            continue;
        unsigned f = fp_sim_reached_clock(gpu, wl, i, f_mhz, 0, NULL);
        fp_sim_point pt;
        steady_point(gpu, wl, i, f, &pt);
        t += pt.time_s;
        e += pt.time_s * pt.power_w;
    }
    if (!(t > 0))
        return fp_error_set(err, FP_ERR_INVALID, "workload '%s' has no inference phase", wl->name);
    if (time_s)
        *time_s = t;
    if (energy_j)
        *energy_j = e;
    if (power_w)
        *power_w = e / t;
    return FP_OK;
}
