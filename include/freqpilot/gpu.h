/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_GPU_H
#define FREQPILOT_GPU_H

/*
 * The GPU backend interface: one struct of function pointers, two backends —
 * "nvml" (libnvidia-ml loaded with dlopen, src/gpu/nvml.c) and "sim" (the
 * simulated GPU of docs/simulated-gpu.md, src/gpu/sim*.c). Profile, apply/restore and
 * the governor only talk to this interface.
 *
 * Every function returns FP_OK or a negative fp_status with err filled
 * ("nvmlDeviceSetGpuLockedClocks: Insufficient Permissions (run as root)").
 * Reads of optional metrics leave NAN in the sample instead of failing.
 */

#include <stdint.h>

#include "freqpilot/error.h"
#include "freqpilot/sample.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP_GPU_MAX_CLOCKS 512

typedef struct fp_gpu_info {
    char name[96];       /* "NVIDIA A100-PCIE-40GB" */
    char short_name[32]; /* "A100", "V100", "H100" (derived from name) */
    char uuid[96];
    char driver[80];
    unsigned index;
    unsigned mem_clock_mhz; /* memory clock the graphics table belongs to */
    unsigned graphics_clocks_mhz[FP_GPU_MAX_CLOCKS]; /* supported SM clocks, high to low */
    unsigned n_graphics_clocks;
    unsigned max_clock_mhz;
    unsigned default_clock_mhz; /* default applications clock, 0 when unknown */
    double power_limit_w;
    double power_limit_min_w, power_limit_max_w;
    double default_power_limit_w;
    int mig_enabled; /* 1 on, 0 off, -1 unknown */
    int simulated;   /* 1 for the sim backend */
} fp_gpu_info;

/* What was in force before freqpilot touched the GPU; written to the state file. */
typedef struct fp_gpu_clock_state {
    int locked; /* freqpilot set locked clocks */
    unsigned locked_min_mhz, locked_max_mhz;
    int app_clocks_set; /* freqpilot set application clocks */
    unsigned app_mem_mhz, app_gr_mhz;
    int power_limit_set;
    double power_limit_w; /* the limit to restore */
} fp_gpu_clock_state;

typedef struct fp_gpu fp_gpu; /* one opened device */

typedef struct fp_gpu_backend {
    const char *name;        /* "nvml", "sim": what --backend takes */
    const char *description; /* one line for --help and errors */
    /* 1 when the device runs in simulated time: its clock advances by sampling and by the
     * caller's simulated sleeps, not by the wall clock (the sim backend). */
    int simulated;
    fp_status (*init)(fp_error *err);
    void (*shutdown)(void);
    fp_status (*count)(unsigned *n, fp_error *err);
    /* id: index ("0") or UUID ("GPU-..."); for sim also "sim:V100" style names. */
    fp_status (*open)(const char *id, fp_gpu **out, fp_error *err);
    void (*close)(fp_gpu *gpu);
    fp_status (*info)(fp_gpu *gpu, fp_gpu_info *out, fp_error *err);
    /* Fills every telemetry column it can (t_s is left to the caller). */
    fp_status (*sample)(fp_gpu *gpu, fp_sample *out, fp_error *err);
    fp_status (*lock_clocks)(fp_gpu *gpu, unsigned min_mhz, unsigned max_mhz, fp_error *err);
    fp_status (*reset_clocks)(fp_gpu *gpu, fp_error *err);
    /* Fallback where locking is unsupported (a ceiling, not a lock). */
    fp_status (*set_app_clocks)(fp_gpu *gpu, unsigned mem_mhz, unsigned gr_mhz, fp_error *err);
    fp_status (*reset_app_clocks)(fp_gpu *gpu, fp_error *err);
    fp_status (*set_power_limit)(fp_gpu *gpu, double watts, fp_error *err);
} fp_gpu_backend;

/*
 * The backend registry (src/gpu/backends.def, tabled by backends.c): one line per backend.
 * Adding a backend is one new file defining its fp_gpu_backend and one line there.
 */
#define FP_GPU_BACKEND_DEFAULT "nvml"
const fp_gpu_backend *fp_gpu_backend_nvml(void);
const fp_gpu_backend *fp_gpu_backend_sim(void);
size_t fp_gpu_backend_count(void);
const fp_gpu_backend *fp_gpu_backend_at(size_t i);
/* By name, case-insensitive; NULL for an unknown name. */
const fp_gpu_backend *fp_gpu_backend_by_name(const char *name);
/* The registered names for messages: "nvml or sim". */
const char *fp_gpu_backend_names(void);

/* Snaps mhz to the nearest supported clock of info (ties go up). */
unsigned fp_gpu_snap_clock(const fp_gpu_info *info, double mhz);
/*
 * Range checks for a clock or power limit that came from a file or a user, against what the
 * device reports (fp_gpu_info; the board table of gpu_specs.h fills only what the device left
 * unknown): mhz within its supported clocks (lowest..highest of the table), watts within its
 * power-limit constraints. Not finite, outside, or a GPU that does not report
 * them: FP_ERR_INVALID naming what ("optimal.json: freq_mhz") and the range. Nothing is
 * changed by these; callers check before they change anything.
 */
fp_status fp_gpu_check_clock(const fp_gpu_info *info, double mhz, const char *what, fp_error *err);
fp_status fp_gpu_check_power_limit(const fp_gpu_info *info, double watts, const char *what,
                                   fp_error *err);
/* "NVIDIA A100-PCIE-40GB" -> "A100"; unknown names are copied as they are. */
void fp_gpu_short_name(const char *name, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
