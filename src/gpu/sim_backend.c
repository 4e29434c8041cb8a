/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The "sim" backend of gpu.h over the simulated device (sim_device.c). Time is simulated:
 * it moves only through fp_gpu_sim_advance() (the profiler and the governor's replay drive
 * it), unless the options say realtime: then it follows the host's monotonic clock.
 *
 * What it opens comes from fp_sim_backend_configure() (sim.h): the model, seed, looping
 * workload, noise scale and realtime. The library reads no environment for it; the command
 * line maps its options and the documented FREQPILOT_SIM_* variables onto these settings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "freqpilot/sim.h"

#define SIM_MAGIC 0x4653494du /* "FSIM" */

struct fp_gpu {
    unsigned magic;
    fp_sim_device *dev;
    fp_gpu_info info;
    int realtime;
    double last_host_s;
};

static double host_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static fp_status sim_init(fp_error *err)
{
    (void)err;
    return FP_OK;
}

static void sim_shutdown(void)
{
}

static fp_status sim_count(unsigned *n, fp_error *err)
{
    (void)err;
    *n = 1;
    return FP_OK;
}

static fp_sim_backend_options config;
static int configured;

void fp_sim_backend_options_init(fp_sim_backend_options *o)
{
    memset(o, 0, sizeof *o);
    o->gpu = "A100";
    o->seed = FP_SIM_DEFAULT_SEED;
    o->noise_scale = 1.0;
}

void fp_sim_backend_configure(const fp_sim_backend_options *o)
{
    if (o)
        config = *o;
    else
        fp_sim_backend_options_init(&config);
    configured = 1;
}

const fp_sim_backend_options *fp_sim_backend_config(void)
{
    if (!configured)
        fp_sim_backend_configure(NULL);
    return &config;
}

static fp_status sim_open(const char *id, fp_gpu **out, fp_error *err)
{
    const fp_sim_backend_options *cfg = fp_sim_backend_config();
    const char *model = cfg->gpu && *cfg->gpu ? cfg->gpu : "A100";
    const fp_sim_gpu *g = NULL;
    unsigned index = 0;
    if (!id || !*id || strcmp(id, "0") == 0) {
        g = fp_sim_gpu_find(model);
        if (!g)
            return fp_error_set(err, FP_ERR_INVALID,
                                "simulated GPU '%s': unknown model (expected V100, A100 or H100)",
                                model);
    } else if (strncasecmp(id, "GPU-SIM-", 8) == 0) {
        char shortn[8] = {0};
        memcpy(shortn, id + 8, 4);
        g = fp_sim_gpu_find(shortn);
    } else {
        g = fp_sim_gpu_find(id);
    }
    if (!g)
        return fp_error_set(err, FP_ERR_INVALID,
                            "simulated GPU '%s' not found (expected 0, V100, A100, H100, "
                            "sim:A100 or a GPU-SIM-... UUID)",
                            id);
    fp_sim_knobs k;
    fp_sim_knobs_default(&k);
    k.seed = cfg->seed;
    double scale = cfg->noise_scale >= 0 ? cfg->noise_scale : 1.0;
    k.time_noise *= scale;
    k.power_noise *= scale;
    k.sample_noise *= scale;
    fp_sim_workload wl;
    const char *wname = cfg->workload;
    int have_wl = 0;
    if (wname && *wname) {
        fp_status st = fp_sim_workload_resolve(wname, &wl, err);
        if (st)
            return st;
        have_wl = 1;
    }
    fp_gpu *gpu = calloc(1, sizeof *gpu);
    if (!gpu || !(gpu->dev = fp_sim_device_new(g, &k))) {
        free(gpu);
        return fp_error_set(err, FP_ERR_NOMEM, "simulated GPU: out of memory");
    }
    gpu->magic = SIM_MAGIC;
    if (scale == 0.0)
        fp_sim_device_set_thermal_lag(gpu->dev, 0);
    fp_sim_gpu_info(g, index, &gpu->info);
    gpu->realtime = cfg->realtime;
    gpu->last_host_s = host_now();
    if (have_wl)
        fp_sim_device_start(gpu->dev, &wl, 0, 1);
    *out = gpu;
    return FP_OK;
}

static void sim_close(fp_gpu *gpu)
{
    if (!gpu)
        return;
    fp_sim_device_free(gpu->dev);
    gpu->magic = 0;
    free(gpu);
}

static fp_status sim_info(fp_gpu *gpu, fp_gpu_info *out, fp_error *err)
{
    (void)err;
    *out = gpu->info;
    out->power_limit_w = fp_sim_device_power_limit(gpu->dev);
    return FP_OK;
}

static void follow_host(fp_gpu *gpu)
{
    if (!gpu->realtime)
        return;
    double now = host_now();
    if (now > gpu->last_host_s)
        fp_sim_advance(gpu->dev, now - gpu->last_host_s);
    gpu->last_host_s = now;
}

static fp_status sim_sample(fp_gpu *gpu, fp_sample *out, fp_error *err)
{
    (void)err;
    follow_host(gpu);
    fp_sim_device_sample(gpu->dev, out);
    return FP_OK;
}

static fp_status sim_lock(fp_gpu *gpu, unsigned min_mhz, unsigned max_mhz, fp_error *err)
{
    follow_host(gpu);
    return fp_sim_device_lock(gpu->dev, min_mhz, max_mhz, err);
}

static fp_status sim_reset(fp_gpu *gpu, fp_error *err)
{
    (void)err;
    follow_host(gpu);
    fp_sim_device_unlock(gpu->dev);
    return FP_OK;
}

static fp_status sim_set_app(fp_gpu *gpu, unsigned mem_mhz, unsigned gr_mhz, fp_error *err)
{
    follow_host(gpu);
    return fp_sim_device_set_app_clocks(gpu->dev, mem_mhz, gr_mhz, err);
}

static fp_status sim_reset_app(fp_gpu *gpu, fp_error *err)
{
    (void)err;
    follow_host(gpu);
    fp_sim_device_reset_app_clocks(gpu->dev);
    return FP_OK;
}

static fp_status sim_power_limit(fp_gpu *gpu, double watts, fp_error *err)
{
    follow_host(gpu);
    return fp_sim_device_set_power_limit(gpu->dev, watts, err);
}

static const fp_gpu_backend sim_backend = {
    .name = "sim",
    .description = "the simulated V100, A100 and H100 (docs/simulated-gpu.md), in simulated time",
    .simulated = 1,
    .init = sim_init,
    .shutdown = sim_shutdown,
    .count = sim_count,
    .open = sim_open,
    .close = sim_close,
    .info = sim_info,
    .sample = sim_sample,
    .lock_clocks = sim_lock,
    .reset_clocks = sim_reset,
    .set_app_clocks = sim_set_app,
    .reset_app_clocks = sim_reset_app,
    .set_power_limit = sim_power_limit,
};

const fp_gpu_backend *fp_gpu_backend_sim(void)
{
    return &sim_backend;
}

fp_sim_device *fp_gpu_sim_device(fp_gpu *gpu)
{
    return gpu && gpu->magic == SIM_MAGIC ? gpu->dev : NULL;
}

fp_status fp_gpu_sim_advance(fp_gpu *gpu, double dt_s)
{
    fp_sim_device *d = fp_gpu_sim_device(gpu);
    if (!d)
        return fp_error_set(NULL, FP_ERR_INVALID, "not a simulated GPU");
    if (!(dt_s >= 0))
        return FP_ERR_INVALID;
    fp_sim_advance(d, dt_s);
    return FP_OK;
}
