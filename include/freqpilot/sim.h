/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_SIM_H
#define FREQPILOT_SIM_H

/*
 * The simulated GPU (docs/simulated-gpu.md has every equation).
 *
 * Three layers:
 *  - the model: GPUs (clock tables and physical parameters) and workloads (phases of host,
 *    memory and compute seconds with activities);
 *  - the truth functions (fp_sim_expected, fp_sim_optimum, ...): noise-free, at the steady
 *    temperature, over the inference window; tests assert against them;
 *  - a device that runs in simulated time (fp_sim_device_*, fp_sim_run): noise, drift,
 *    cold start, temperature lag, power capping, energy counter. The "sim" backend of
 *    gpu.h sits on top of it.
 */

#include <stdint.h>

#include "freqpilot/error.h"
#include "freqpilot/gpu.h"
#include "freqpilot/objective.h"
#include "freqpilot/sample.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- GPUs ---- */

struct fp_gpu_spec;
typedef struct fp_sim_gpu {
    const struct fp_gpu_spec *spec; /* the board simulated (gpu_specs.h) */
    const char *short_name;         /* "A100" */
    const char *name;               /* "NVIDIA A100-PCIE-40GB" */
    int slot;                       /* index of the per-GPU calibration of built-in workloads */
    unsigned mem_clock_mhz;
    const unsigned *clocks_mhz; /* supported graphics clocks, high to low */
    unsigned n_clocks;
    unsigned default_clock_mhz; /* default applications clock */
    unsigned idle_clock_mhz;    /* clock of an idle GPU whose clocks are not locked */
    double power_limit_w, power_limit_min_w, power_limit_max_w;
    double idle_power_w; /* idle board power at the idle steady temperature */
    double knee_mhz;     /* voltage flat at v_min up to here, then linear to v_max */
    double v_min, v_max; /* volts */
    double static_w;     /* static (leakage + board) power at t_ref_c */
    double static_per_c; /* relative rise of static power per degree C */
    double t_ref_c;
    double dyn_w;       /* dynamic SM power at activity 1, f_max, v_max */
    double clock_floor; /* activity of the clock tree of a busy GPU (fraction of dyn_w) */
    double mem_w;       /* DRAM power at dram_active 1 */
    double ambient_c, thermal_c_per_w, tau_s; /* temperature: first-order lag */
    double fb_total_mib;
} fp_sim_gpu;

unsigned fp_sim_gpu_count(void);
const fp_sim_gpu *fp_sim_gpu_at(unsigned i);
/* The simulator's ids ("A100", "sim:a100") or exactly the name of a simulated board
 * ("NVIDIA A100-PCIE-40GB", "H100 NVL"); NULL otherwise (an A100-SXM4-80GB is not simulated). */
const fp_sim_gpu *fp_sim_gpu_find(const char *name);
static inline unsigned fp_sim_gpu_fmax(const fp_sim_gpu *g)
{
    return g->clocks_mhz[0];
}
/* Voltage at clock f (volts). */
double fp_sim_voltage(const fp_sim_gpu *gpu, double f_mhz);
/* Highest supported clock <= mhz (the lowest supported one when mhz is below the table). */
unsigned fp_sim_clock_floor(const fp_sim_gpu *gpu, double mhz);
/* Fills an fp_gpu_info as the sim backend reports it (name "... (simulated)"). */
void fp_sim_gpu_info(const fp_sim_gpu *gpu, unsigned index, fp_gpu_info *out);

/* ---- Workloads ---- */

#define FP_SIM_MAX_PHASES 16
#define FP_SIM_GPU_SLOTS 3

typedef struct fp_sim_phase {
    char name[32];
    double host_s, memory_s, compute_s; /* seconds at f_max; compute scales with f_max / f */
    /* Activities at f_max (fractions 0..1; utilisations in percent). */
    double sm_active, sm_occupancy, tensor_active, dram_active;
    double fp64_active, fp32_active, fp16_active;
    double gpu_util_pct, mem_util_pct;
    double fb_mib; /* frame buffer in use during the phase */
    int inference; /* part of the inference window the workload marks */
    int idle;      /* GPU idle (model load, host-only stretch) */
} fp_sim_phase;

typedef struct fp_sim_workload {
    char name[32];
    char description[128];
    /*
     * Overlap of memory and compute inside a phase: t_dev = (m^k + (c f_max/f)^k)^(1/k).
     * k = 1 is the additive model (no overlap), large k the roofline max.
     */
    double overlap_k;
    unsigned n_phases;
    fp_sim_phase phases[FP_SIM_MAX_PHASES];
    /* Built-ins: per-GPU seconds {host, memory, compute} per phase (slot order V100, A100,
     * H100); when has_gpu_secs is 0 the phases' own seconds apply to every GPU. */
    int has_gpu_secs;
    double gpu_secs[FP_SIM_GPU_SLOTS][FP_SIM_MAX_PHASES][3];
    double gpu_overlap_k[FP_SIM_GPU_SLOTS]; /* 0 = overlap_k */
    double gpu_act_scale[FP_SIM_GPU_SLOTS]; /* activities multiplied by this (0 = 1) */
} fp_sim_workload;

unsigned fp_sim_workload_count(void);
const fp_sim_workload *fp_sim_workload_at(unsigned i);
/* Built-in workload by name ("llama", "stablediffusion" or "sd", "vit", "whisper", "lstm"). */
const fp_sim_workload *fp_sim_workload_find(const char *name);
/*
 * A user-described workload:
 *   [workload]  name=..., description=..., overlap=K
 *   [phase NAME] host_s= memory_s= compute_s= sm_active= sm_occupancy= tensor_active=
 *                dram_active= fp64_active= fp32_active= fp16_active= gpu_util= mem_util=
 *                fb_mib= inference=0|1 idle=0|1
 * Phases run in file order. Errors name the file and line.
 */
fp_status fp_sim_workload_load_ini(const char *path, fp_sim_workload *out, fp_error *err);
/* The same on text in memory (len bytes; fuzzers, tests); name is used in messages. */
fp_status fp_sim_workload_parse_ini(const char *text, size_t len, const char *name,
                                    fp_sim_workload *out, fp_error *err);
/* A built-in name or, when name names a readable file, an INI workload. */
fp_status fp_sim_workload_resolve(const char *name, fp_sim_workload *out, fp_error *err);

/* Seconds of phase i on gpu (host, memory, compute at f_max) and the overlap exponent. */
void fp_sim_phase_secs(const fp_sim_gpu *gpu, const fp_sim_workload *wl, unsigned i,
                       double secs[3]);
double fp_sim_overlap_k(const fp_sim_gpu *gpu, const fp_sim_workload *wl);
/* Device part of a phase: memory and compute seconds overlapped with exponent k. */
double fp_sim_overlap_time(double mem_s, double comp_s, double k);
double fp_sim_act_scale(const fp_sim_gpu *gpu, const fp_sim_workload *wl);

/* ---- Noise-free truth ---- */

/* The state of one phase at a reached clock: duration, activities and power. */
typedef struct fp_sim_point {
    double time_s, power_w, dyn_w, static_w, mem_w;
    double sm_active, sm_occupancy, tensor_active, dram_active;
    double fp64_active, fp32_active, fp16_active, gpu_util_pct, mem_util_pct;
} fp_sim_point;

/* Phase i at reached clock f (no cap) and temperature temp_c. */
void fp_sim_phase_point(const fp_sim_gpu *gpu, const fp_sim_workload *wl, unsigned i, double f_mhz,
                        double temp_c, fp_sim_point *out);
/* Steady temperature at power p. */
double fp_sim_steady_temp(const fp_sim_gpu *gpu, double power_w);
/*
 * Clock reached for phase i when f_mhz is requested under power_limit_w (0 = default): the
 * highest supported clock <= f_mhz whose steady power fits the limit.
 */
unsigned fp_sim_reached_clock(const fp_sim_gpu *gpu, const fp_sim_workload *wl, unsigned i,
                              double f_mhz, double power_limit_w, int *capped);

/*
 * Noise-free inference-window time, energy and mean power when clock f_mhz is requested
 * (snapped down to a supported clock), at the steady temperature of each phase and the
 * default power limit. Any output pointer may be NULL.
 */
fp_status fp_sim_expected(const fp_sim_gpu *gpu, const fp_sim_workload *wl, double f_mhz,
                          double *time_s, double *energy_j, double *power_w, fp_error *err);

typedef struct fp_sim_optimum_result {
    unsigned freq_mhz, baseline_mhz;
    double time_s, energy_j, power_w;
    double baseline_time_s, baseline_energy_j;
    double slowdown;      /* T(f) / T(f_max) - 1 */
    double energy_saving; /* 1 - E(f) / E(f_max) */
} fp_sim_optimum_result;

/*
 * The true optimum over the supported clocks: minimises the objective (the registry of
 * objective.h; cost uses the GPU's power limit as P_max) subject to slowdown <= max_slowdown
 * (a negative or NAN max_slowdown = no constraint), on the noise-free values: the choice rule
 * fp_opt_decide with exact values and no margin, so ties go to the higher clock. The baseline
 * is the maximum clock, which always satisfies the constraint.
 */
fp_status fp_sim_optimum(const fp_sim_gpu *gpu, const fp_sim_workload *wl,
                         const fp_objective *objective, double max_slowdown, unsigned *f_mhz,
                         fp_sim_optimum_result *res, fp_error *err);

/* ---- Simulated time ---- */

typedef struct fp_sim_knobs {
    uint64_t seed;        /* FP_SIM_DEFAULT_SEED unless chosen */
    double time_noise;    /* relative sigma of run-to-run time noise per phase (0.01) */
    double power_noise;   /* relative sigma of run-to-run power noise (0.01) */
    double sample_noise;  /* relative sigma of each power reading (0.005) */
    double drift_per_run; /* relative slowdown per sweep position (0 = off) */
    double cold_start;    /* extra fraction of time of the first run (run_position 0); 0 off */
} fp_sim_knobs;
#define FP_SIM_DEFAULT_SEED 20250709u
void fp_sim_knobs_default(fp_sim_knobs *k);

typedef struct fp_sim_device fp_sim_device;

fp_sim_device *fp_sim_device_new(const fp_sim_gpu *gpu, const fp_sim_knobs *knobs);
void fp_sim_device_free(fp_sim_device *dev);
const fp_sim_gpu *fp_sim_device_gpu(const fp_sim_device *dev);
/*
 * Starts wl now (a copy is kept) as run number run_position of a sweep; loop != 0 repeats
 * it forever. NULL stops it (the GPU goes idle).
 */
void fp_sim_device_start(fp_sim_device *dev, const fp_sim_workload *wl, unsigned run_position,
                         int loop);
/* 1 while a workload runs. */
int fp_sim_device_busy(const fp_sim_device *dev);
/* Advances simulated time by dt_s (integrates energy and temperature in steps <= 10 ms). */
void fp_sim_advance(fp_sim_device *dev, double dt_s);
/* on = 0: temperature jumps to its steady value (no thermal lag), as the truth functions
 * assume; used with noise off so a sweep reproduces fp_sim_expected exactly. */
void fp_sim_device_set_thermal_lag(fp_sim_device *dev, int on);
/* Simulated seconds since the device was created. */
double fp_sim_device_time(const fp_sim_device *dev);
/* Telemetry of the current instant; t_s = device time. */
void fp_sim_device_sample(fp_sim_device *dev, fp_sample *out);
/* Inference window of the last started run (device time; NAN until reached). */
void fp_sim_device_window(const fp_sim_device *dev, double *start_s, double *end_s);
/* Exact energy counter (joules) and the energy inside the last inference window. */
double fp_sim_device_energy_j(const fp_sim_device *dev);
double fp_sim_device_window_energy_j(const fp_sim_device *dev);

/* Clock controls, validated like the driver (min > max -> FP_ERR_INVALID). */
fp_status fp_sim_device_lock(fp_sim_device *dev, unsigned min_mhz, unsigned max_mhz, fp_error *err);
void fp_sim_device_unlock(fp_sim_device *dev);
fp_status fp_sim_device_set_app_clocks(fp_sim_device *dev, unsigned mem_mhz, unsigned gr_mhz,
                                       fp_error *err);
void fp_sim_device_reset_app_clocks(fp_sim_device *dev);
fp_status fp_sim_device_set_power_limit(fp_sim_device *dev, double watts, fp_error *err);
double fp_sim_device_power_limit(const fp_sim_device *dev);

/* One simulated run, sampled every interval_s, produced at once. */
typedef struct fp_sim_run_opts {
    double clock_mhz;      /* locked (min = max = clock) */
    double interval_s;     /* sampling interval (0.05) */
    unsigned run_position; /* position in the sweep (drift, cold start at 0) */
    double idle_before_s;  /* idle sampled before the workload starts (1.0) */
    double idle_after_s;   /* idle sampled after it ends (1.0) */
    double power_limit_w;  /* 0 = default */
    fp_sim_knobs knobs;
} fp_sim_run_opts;
void fp_sim_run_opts_default(fp_sim_run_opts *o);

typedef struct fp_sim_run_result {
    double wall_s; /* first to last sample */
    double infer_start_s, infer_end_s;
    double time_s;                       /* infer_end_s - infer_start_s */
    double energy_j;                     /* exact energy inside the inference window */
    unsigned requested_mhz, reached_mhz; /* reached: lowest SM clock seen during inference */
    int throttled;                       /* power cap hit during inference */
    unsigned n_samples;
} fp_sim_run_result;

/* Called for each sample (t_s from 0); a nonzero return stops the run. */
typedef int (*fp_sim_sample_fn)(void *user, const fp_sample *s);

fp_status fp_sim_run(const fp_sim_gpu *gpu, const fp_sim_workload *wl, const fp_sim_run_opts *opts,
                     fp_sim_sample_fn cb, void *user, fp_sim_run_result *res, fp_error *err);

/* ---- Backend helpers (gpu must come from fp_gpu_backend_sim()) ---- */

/*
 * What the sim backend opens: set by the program (the command line fills it from its options
 * and the documented FREQPILOT_SIM_* variables) before it opens a device; later opens use it.
 */
typedef struct fp_sim_backend_options {
    const char *gpu;         /* the model opened as "0": V100, A100 (default), H100 */
    unsigned long long seed; /* noise seed (FP_SIM_DEFAULT_SEED) */
    /* a built-in name or an INI file, run in a loop from the moment the device is opened;
     * NULL: idle */
    const char *workload;
    double noise_scale; /* factor on every noise sigma: 1 (default), 0 = no noise, no thermal lag */
    int realtime;       /* 1: the device's clock follows the host's instead of simulated time */
} fp_sim_backend_options;
void fp_sim_backend_options_init(fp_sim_backend_options *o);
/* Copies o (its strings must outlive the opens); NULL restores the defaults. */
void fp_sim_backend_configure(const fp_sim_backend_options *o);
/* The settings in force. */
const fp_sim_backend_options *fp_sim_backend_config(void);
fp_sim_device *fp_gpu_sim_device(fp_gpu *gpu);
/* Advance the simulated GPU's clock by dt_s. */
fp_status fp_gpu_sim_advance(fp_gpu *gpu, double dt_s);

#ifdef __cplusplus
}
#endif
#endif
