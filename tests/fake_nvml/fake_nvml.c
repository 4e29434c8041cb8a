/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A fake libnvidia-ml.so.1 for tests: the NVML subset freqpilot uses, on top of the simulated
 * GPU (include/freqpilot/sim.h, docs/simulated-gpu.md). Each fake GPU is an fp_sim_device
 * whose simulated time follows the host's monotonic clock (times FAKE_NVML_TIME_SCALE); every
 * reading is the device's sample at the moment of the call, and clock/limit controls go to
 * fp_sim_device_lock, _set_app_clocks, _set_power_limit. The library is linked with the
 * freqpilot static library (PIC), whose symbols it keeps to itself (--exclude-libs).
 *
 * Steered by environment variables (read on every call unless noted):
 *   FAKE_NVML_LOG=path     append "function(args) = rc [-> result]" per call
 *   FAKE_NVML_FAIL=fn:code[,fn:code...]  make these functions return code
 *   FAKE_NVML_GPUS=n       number of GPUs, 1..8 (read by nvmlInit)
 *   FAKE_NVML_GPU=model[,model...]  simulated model per GPU (A100 default, V100, H100; the
 *                          last one repeats; read by nvmlInit)
 *   FAKE_NVML_WORKLOAD=w   what runs on every GPU, in a loop from nvmlInit: steady (default,
 *                          tests/fake_nvml/steady.ini: one compute-bound phase), none (idle
 *                          GPU), a built-in simulated workload (llama, ...) or an INI file
 *   FAKE_NVML_TIME_SCALE=x simulated seconds per host second (default 1; read by nvmlInit)
 *   FAKE_NVML_NOISE=off|on|x  the simulator's noise (default off: no noise and no thermal
 *                          lag, so readings follow the truth functions; read by nvmlInit)
 *   FAKE_NVML_SEED=n       seed of the noise (read by nvmlInit)
 *   FAKE_NVML_NO_ENERGY=1  nvmlDeviceGetTotalEnergyConsumption -> NOT_SUPPORTED
 *   FAKE_NVML_NO_FIELDS=1  every field of nvmlDeviceGetFieldValues -> NOT_SUPPORTED
 *   FAKE_NVML_GPM=1        the GPU supports GPM metrics (Hopper style)
 *   FAKE_NVML_STATE=path   persist locked/application clocks and the power
 *                          limit across processes (written atomically; a process sees
 *                          another's changes at its next call, as on one real GPU)
 *   FAKE_NVML_ROOT_ONLY=1  clock and power-limit changes need euid 0 (else "Insufficient
 *                          Permissions"), as with the real driver
 *
 * Built three ways: the full library; FAKE_MINIMAL (only the required symbols,
 * unversioned init/count/handle, to test optional-absent paths and the
 * unversioned fallback); FAKE_BROKEN (nvmlDeviceGetClockInfo missing).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/sim.h"
#include "gpu/nvml_api.h"

#ifndef FAKE_NVML_STEADY_INI
#error "FAKE_NVML_STEADY_INI (the path of tests/fake_nvml/steady.ini) must be defined"
#endif

/* The backend's signatures: a definition below that differs fails to compile. */
#define FAKE_DECL(name, params) nvmlReturn_t name params;
FPN_FUNCS(FAKE_DECL)
#undef FAKE_DECL
const char *nvmlErrorString(nvmlReturn_t result);

#define MAX_GPUS 8
#define THROTTLE_APP_CLOCKS NVML_CLOCKS_EVENT_REASON_APPLICATIONS_CLOCKS_SETTING
/* In no-lag mode each fp_sim_advance step is one fixed-point step of the temperature: an
 * advance is cut into at least this many steps so readings settle at once after a change. */
#define SETTLE_STEPS 8

struct nvmlDevice_st {
    int index;
    fp_sim_device *sim;
    const fp_sim_gpu *gpu;
    /* controls, mirrored for FAKE_NVML_STATE */
    int locked;
    unsigned locked_min, locked_max;
    int app_set;
    unsigned app_mem, app_gr;
    unsigned limit_mw;
    double energy0_mj; /* counter value at creation ("since driver load") */
    double last_host_s;
};

static struct nvmlDevice_st devs[MAX_GPUS];
static int ngpus = 1;
static int init_count;
static double time_scale = 1.0;
static int no_lag = 1;
/* One lock for the simulated devices (the profiler samples on its own thread); recursive so a
 * signal handler that restores clocks on the same thread cannot deadlock. */
static pthread_mutex_t mu = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

__attribute__((unused)) static int env_on(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    const char *path = getenv("FAKE_NVML_LOG");
    if (!path || !*path)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) < 0) {
        /* a test reading the log will notice */
    }
    close(fd);
}

/* FAKE_NVML_FAIL=nvmlDeviceSetGpuLockedClocks:4,nvmlInit_v2:9 */
static nvmlReturn_t injected(const char *fn)
{
    const char *v = getenv("FAKE_NVML_FAIL");
    size_t len = strlen(fn);
    while (v && *v) {
        const char *end = strchr(v, ',');
        size_t n = end ? (size_t)(end - v) : strlen(v);
        if (n > len + 1 && strncmp(v, fn, len) == 0 && v[len] == ':')
            return (nvmlReturn_t)atoi(v + len + 1);
        v = end ? end + 1 : NULL;
    }
    return NVML_SUCCESS;
}

/* ---- the simulated GPUs ------------------------------------------------- */

/* Simulated time catches up with the host clock. Caller holds mu. */
static void dev_sync(struct nvmlDevice_st *d)
{
    double now = now_s();
    double dt = (now - d->last_host_s) * time_scale;
    d->last_host_s = now;
    if (!(dt > 0))
        return;
    if (no_lag && dt < SETTLE_STEPS * 0.01) {
        for (int i = 0; i < SETTLE_STEPS; i++)
            fp_sim_advance(d->sim, dt / SETTLE_STEPS);
    } else {
        fp_sim_advance(d->sim, dt);
    }
}

/* The device's telemetry now. */
static void dev_sample(struct nvmlDevice_st *d, fp_sample *s)
{
    pthread_mutex_lock(&mu);
    dev_sync(d);
    fp_sim_device_sample(d->sim, s);
    pthread_mutex_unlock(&mu);
}

__attribute__((unused)) static double dev_energy_mj(struct nvmlDevice_st *d)
{
    pthread_mutex_lock(&mu);
    dev_sync(d);
    double e = d->energy0_mj + floor(fp_sim_device_energy_j(d->sim) * 1000.0);
    pthread_mutex_unlock(&mu);
    return e;
}

/* Controls: bring time up to now, then change; 0 or an NVML error. */
static nvmlReturn_t dev_lock(struct nvmlDevice_st *d, int on, unsigned lo, unsigned hi)
{
    nvmlReturn_t rc = NVML_SUCCESS;
    pthread_mutex_lock(&mu);
    dev_sync(d);
    if (!on) {
        fp_sim_device_unlock(d->sim);
        d->locked = 0;
        d->locked_min = d->locked_max = 0;
    } else if (fp_sim_device_lock(d->sim, lo, hi, NULL) != FP_OK) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        d->locked = 1;
        d->locked_min = lo;
        d->locked_max = hi;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static nvmlReturn_t dev_app(struct nvmlDevice_st *d, int on, unsigned mem, unsigned gr)
{
    nvmlReturn_t rc = NVML_SUCCESS;
    pthread_mutex_lock(&mu);
    dev_sync(d);
    if (!on) {
        fp_sim_device_reset_app_clocks(d->sim);
        d->app_set = 0;
        d->app_mem = d->app_gr = 0;
    } else if (fp_sim_device_set_app_clocks(d->sim, mem, gr, NULL) != FP_OK) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        d->app_set = 1;
        d->app_mem = mem;
        d->app_gr = gr;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static nvmlReturn_t dev_limit(struct nvmlDevice_st *d, unsigned mw)
{
    nvmlReturn_t rc = NVML_SUCCESS;
    pthread_mutex_lock(&mu);
    dev_sync(d);
    if (fp_sim_device_set_power_limit(d->sim, mw / 1000.0, NULL) != FP_OK)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        d->limit_mw = mw;
    pthread_mutex_unlock(&mu);
    return rc;
}

/* The state file as this process last wrote or read it: another process's change differs. */
static struct {
    int known;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} state_seen;

static void state_remember(const char *path)
{
    struct stat st;
    state_seen.known = stat(path, &st) == 0;
    if (state_seen.known) {
        state_seen.dev = st.st_dev;
        state_seen.ino = st.st_ino;
        state_seen.size = st.st_size;
        state_seen.mtime = st.st_mtim;
    }
}

/* Applies the file: every GPU takes the controls it records (unlocked when it says so). */
static void state_load(void)
{
    const char *path = getenv("FAKE_NVML_STATE");
    FILE *f = path && *path ? fopen(path, "r") : NULL;
    if (!f)
        return;
    int i, locked, app;
    unsigned lo, hi, am, ag, lim;
    while (fscanf(f, "%d %d %u %u %d %u %u %u", &i, &locked, &lo, &hi, &app, &am, &ag, &lim) == 8) {
        if (i < 0 || i >= ngpus)
            continue;
        struct nvmlDevice_st *d = &devs[i];
        if (locked != d->locked || (locked && (lo != d->locked_min || hi != d->locked_max)))
            dev_lock(d, locked, lo, hi);
        if (app != d->app_set || (app && (am != d->app_mem || ag != d->app_gr)))
            dev_app(d, app, am, ag);
        if (lim != d->limit_mw)
            dev_limit(d, lim);
    }
    fclose(f);
    state_remember(path);
}

/* Another process changed the GPU (freqpilotd, restore): take its state before answering. */
static void state_refresh(void)
{
    const char *path = getenv("FAKE_NVML_STATE");
    struct stat st;
    if (!path || !*path || stat(path, &st) != 0)
        return;
    if (state_seen.known && st.st_dev == state_seen.dev && st.st_ino == state_seen.ino &&
        st.st_size == state_seen.size && st.st_mtim.tv_sec == state_seen.mtime.tv_sec &&
        st.st_mtim.tv_nsec == state_seen.mtime.tv_nsec)
        return;
    pthread_mutex_lock(&mu);
    state_load();
    pthread_mutex_unlock(&mu);
}

__attribute__((unused)) static void state_save(void)
{
    const char *path = getenv("FAKE_NVML_STATE");
    if (!path || !*path)
        return;
    /* Written beside and renamed: a reader in another process never sees half a file. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    for (int i = 0; i < ngpus; i++)
        fprintf(f, "%d %d %u %u %d %u %u %u\n", i, devs[i].locked, devs[i].locked_min,
                devs[i].locked_max, devs[i].app_set, devs[i].app_mem, devs[i].app_gr,
                devs[i].limit_mw);
    if (fclose(f) == 0 && rename(tmp, path) == 0)
        state_remember(path);
    else
        unlink(tmp);
}

/* FAKE_NVML_ROOT_ONLY=1: the driver's rule that only root changes clocks and limits. */
__attribute__((unused)) static nvmlReturn_t control_allowed(nvmlReturn_t rc)
{
    if (rc == NVML_SUCCESS && env_on("FAKE_NVML_ROOT_ONLY") && geteuid() != 0)
        return NVML_ERROR_NO_PERMISSION;
    return rc;
}

/* Item i of a comma-separated list (the last one repeats) into buf. */
static void list_item(const char *list, int i, char *buf, size_t size)
{
    const char *p = list;
    for (; i > 0; i--) {
        const char *c = strchr(p, ',');
        if (!c)
            break;
        p = c + 1;
    }
    size_t n = strcspn(p, ",");
    if (n >= size)
        n = size - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

static void free_devices(void)
{
    for (int i = 0; i < MAX_GPUS; i++) {
        fp_sim_device_free(devs[i].sim);
        devs[i].sim = NULL;
    }
}

/* Creates the simulated GPUs from the environment; an NVML error when it names nonsense. */
static nvmlReturn_t make_devices(void)
{
    const char *n = getenv("FAKE_NVML_GPUS");
    ngpus = n && *n ? atoi(n) : 1;
    if (ngpus < 1)
        ngpus = 1;
    if (ngpus > MAX_GPUS)
        ngpus = MAX_GPUS;
    const char *ts = getenv("FAKE_NVML_TIME_SCALE");
    time_scale = ts && *ts ? strtod(ts, NULL) : 1.0;
    if (!(time_scale > 0 && time_scale <= 1e6)) {
        logf_("FAKE_NVML_TIME_SCALE=%s: expected a number > 0", ts);
        return NVML_ERROR_UNKNOWN;
    }
    fp_sim_knobs k;
    fp_sim_knobs_default(&k);
    const char *noise = getenv("FAKE_NVML_NOISE");
    double scale = 0.0;
    if (noise && *noise && strcasecmp(noise, "off") != 0)
        scale = strcasecmp(noise, "on") == 0 ? 1.0 : strtod(noise, NULL);
    if (!(scale >= 0 && scale <= 100)) {
        logf_("FAKE_NVML_NOISE=%s: expected off, on or a factor 0..100", noise);
        return NVML_ERROR_UNKNOWN;
    }
    no_lag = scale == 0.0;
    k.time_noise *= scale;
    k.power_noise *= scale;
    k.sample_noise *= scale;
    const char *seed = getenv("FAKE_NVML_SEED");
    if (seed && *seed)
        k.seed = strtoull(seed, NULL, 0);
    fp_sim_workload wl;
    int have_wl = 1;
    const char *w = getenv("FAKE_NVML_WORKLOAD");
    fp_error err = {0};
    if (!w || !*w || strcasecmp(w, "steady") == 0) {
        if (fp_sim_workload_load_ini(FAKE_NVML_STEADY_INI, &wl, &err) != FP_OK) {
            logf_("FAKE_NVML_WORKLOAD: %s", err.msg);
            return NVML_ERROR_UNKNOWN;
        }
    } else if (strcasecmp(w, "none") == 0 || strcasecmp(w, "idle") == 0) {
        have_wl = 0;
    } else if (fp_sim_workload_resolve(w, &wl, &err) != FP_OK) {
        logf_("FAKE_NVML_WORKLOAD=%s: %s", w, err.msg);
        return NVML_ERROR_UNKNOWN;
    }
    const char *models = getenv("FAKE_NVML_GPU");
    if (!models || !*models)
        models = "A100";
    free_devices();
    memset(devs, 0, sizeof devs);
    double now = now_s();
    for (int i = 0; i < ngpus; i++) {
        char name[64];
        list_item(models, i, name, sizeof name);
        struct nvmlDevice_st *d = &devs[i];
        d->index = i;
        d->gpu = fp_sim_gpu_find(name);
        if (!d->gpu) {
            logf_("FAKE_NVML_GPU=%s: unknown model '%s' (expected V100, A100 or H100)", models,
                  name);
            free_devices();
            return NVML_ERROR_UNKNOWN;
        }
        fp_sim_knobs ki = k;
        ki.seed = k.seed + (uint64_t)i;
        d->sim = fp_sim_device_new(d->gpu, &ki);
        if (!d->sim) {
            free_devices();
            return NVML_ERROR_MEMORY;
        }
        fp_sim_device_set_thermal_lag(d->sim, !no_lag);
        if (have_wl)
            fp_sim_device_start(d->sim, &wl, 0, 1);
        d->limit_mw = (unsigned)lround(d->gpu->power_limit_w * 1000.0);
        d->energy0_mj = 1.0e9 + i * 1.0e6;
        d->last_host_s = now;
    }
    state_load();
    return NVML_SUCCESS;
}

/* ---- call plumbing ----------------------------------------------------- */

/* Injected failure, then "not initialized", then a device check (dev may be unused). */
static nvmlReturn_t begin(const char *fn, nvmlDevice_t dev, int needs_dev)
{
    nvmlReturn_t rc = injected(fn);
    if (rc != NVML_SUCCESS)
        return rc;
    if (init_count <= 0)
        return NVML_ERROR_UNINITIALIZED;
    if (needs_dev && (dev < devs || dev >= devs + ngpus))
        return NVML_ERROR_INVALID_ARGUMENT;
    state_refresh();
    return NVML_SUCCESS;
}

static int idx(nvmlDevice_t d)
{
    return d >= devs && d < devs + MAX_GPUS ? (int)(d - devs) : -1;
}

#define LOG_RET(rc, fmt, ...)                                                                      \
    do {                                                                                           \
        logf_("%s(" fmt ") = %d", __func__, __VA_ARGS__, (int)(rc));                               \
        return (rc);                                                                               \
    } while (0)
/* With a result: "nvmlDeviceGetClockInfo(gpu=0, 1) = 0 -> 1005" */
#define LOG_RES(rc, res, fmt, ...)                                                                 \
    do {                                                                                           \
        if ((rc) == NVML_SUCCESS)                                                                  \
            logf_("%s(" fmt ") = 0 -> %s", __func__, __VA_ARGS__, res);                            \
        else                                                                                       \
            logf_("%s(" fmt ") = %d", __func__, __VA_ARGS__, (int)(rc));                           \
        return (rc);                                                                               \
    } while (0)

/* ---- required symbols -------------------------------------------------- */

const char *nvmlErrorString(nvmlReturn_t result)
{
    switch (result) {
    case NVML_SUCCESS:
        return "Success";
    case NVML_ERROR_UNINITIALIZED:
        return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
        return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
        return "Not Supported";
    case NVML_ERROR_NO_PERMISSION:
        return "Insufficient Permissions";
    case NVML_ERROR_ALREADY_INITIALIZED:
        return "Already Initialized";
    case NVML_ERROR_NOT_FOUND:
        return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE:
        return "Insufficient Size";
    case NVML_ERROR_INSUFFICIENT_POWER:
        return "Insufficient External Power";
    case NVML_ERROR_DRIVER_NOT_LOADED:
        return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT:
        return "Timeout";
    case NVML_ERROR_LIBRARY_NOT_FOUND:
        return "NVML Shared Library Not Found";
    case NVML_ERROR_FUNCTION_NOT_FOUND:
        return "Function Not Found";
    case NVML_ERROR_GPU_IS_LOST:
        return "GPU is lost";
    default:
        return "Unknown Error";
    }
}

static nvmlReturn_t do_init(const char *fn)
{
    nvmlReturn_t rc = injected(fn);
    if (rc != NVML_SUCCESS)
        return rc;
    if (init_count > 0) {
        init_count++;
        return NVML_SUCCESS;
    }
    pthread_mutex_lock(&mu);
    rc = make_devices();
    pthread_mutex_unlock(&mu);
    if (rc == NVML_SUCCESS)
        init_count = 1;
    return rc;
}

#ifndef FAKE_MINIMAL
nvmlReturn_t nvmlInit_v2(void)
{
    nvmlReturn_t rc = do_init(__func__);
    LOG_RET(rc, "%s", "");
}
#endif

nvmlReturn_t nvmlInit(void)
{
    nvmlReturn_t rc = do_init(__func__);
    LOG_RET(rc, "%s", "");
}

nvmlReturn_t nvmlShutdown(void)
{
    nvmlReturn_t rc = begin(__func__, NULL, 0);
    if (rc == NVML_SUCCESS && --init_count == 0) {
        pthread_mutex_lock(&mu);
        free_devices();
        pthread_mutex_unlock(&mu);
    }
    LOG_RET(rc, "%s", "");
}

static nvmlReturn_t get_count(const char *fn, unsigned int *count)
{
    nvmlReturn_t rc = begin(fn, NULL, 0);
    if (rc == NVML_SUCCESS && !count)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        *count = (unsigned)ngpus;
    return rc;
}

#ifndef FAKE_MINIMAL
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    nvmlReturn_t rc = get_count(__func__, count);
    LOG_RET(rc, "%s", "");
}
#endif

nvmlReturn_t nvmlDeviceGetCount(unsigned int *count)
{
    nvmlReturn_t rc = get_count(__func__, count);
    LOG_RET(rc, "%s", "");
}

static nvmlReturn_t get_handle(const char *fn, unsigned int index, nvmlDevice_t *device)
{
    nvmlReturn_t rc = begin(fn, NULL, 0);
    if (rc == NVML_SUCCESS && (!device || index >= (unsigned)ngpus))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        *device = &devs[index];
    return rc;
}

#ifndef FAKE_MINIMAL
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    nvmlReturn_t rc = get_handle(__func__, index, device);
    LOG_RET(rc, "%u", index);
}
#endif

nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device)
{
    nvmlReturn_t rc = get_handle(__func__, index, device);
    LOG_RET(rc, "%u", index);
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    const char *n = rc == NVML_SUCCESS ? device->gpu->name : "";
    if (rc == NVML_SUCCESS && (!name || length <= strlen(n)))
        rc = NVML_ERROR_INSUFFICIENT_SIZE;
    if (rc == NVML_SUCCESS)
        memcpy(name, n, strlen(n) + 1);
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power_mw)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    char res[32] = "";
    if (rc == NVML_SUCCESS) {
        fp_sample s;
        dev_sample(device, &s);
        *power_mw = (unsigned)lround(s.v[FP_COL_POWER_W] * 1000.0);
        snprintf(res, sizeof res, "%u", *power_mw);
    }
    LOG_RES(rc, res, "gpu=%d", idx(device));
}

#ifndef FAKE_BROKEN
nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int *mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    char res[32] = "";
    if (rc == NVML_SUCCESS) {
        fp_sample s;
        dev_sample(device, &s);
        if (type == NVML_CLOCK_MEM)
            *mhz = device->gpu->mem_clock_mhz;
        else if (type == NVML_CLOCK_SM || type == NVML_CLOCK_GRAPHICS)
            *mhz = (unsigned)s.v[FP_COL_SM_CLOCK_MHZ];
        else
            rc = NVML_ERROR_INVALID_ARGUMENT;
        if (rc == NVML_SUCCESS)
            snprintf(res, sizeof res, "%u", *mhz);
    }
    LOG_RES(rc, res, "gpu=%d, %d", idx(device), type);
}
#endif

#ifndef FAKE_MINIMAL

static void uuid_of(int i, char *buf, size_t len)
{
    snprintf(buf, len, "GPU-fa4e0000-0000-4000-8000-%012d", i);
}

nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device)
{
    nvmlReturn_t rc = begin(__func__, NULL, 0);
    if (rc == NVML_SUCCESS) {
        rc = NVML_ERROR_NOT_FOUND;
        for (int i = 0; i < ngpus && uuid; i++) {
            char u[96];
            uuid_of(i, u, sizeof u);
            if (strcmp(u, uuid) == 0) {
                *device = &devs[i];
                rc = NVML_SUCCESS;
            }
        }
    }
    LOG_RET(rc, "%s", uuid ? uuid : "(null)");
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    char u[96];
    if (rc == NVML_SUCCESS) {
        uuid_of(idx(device), u, sizeof u);
        if (!uuid || length <= strlen(u))
            rc = NVML_ERROR_INSUFFICIENT_SIZE;
        else
            memcpy(uuid, u, strlen(u) + 1);
    }
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    nvmlReturn_t rc = begin(__func__, NULL, 0);
    const char *v = "535.104.05";
    if (rc == NVML_SUCCESS && (!version || length <= strlen(v)))
        rc = NVML_ERROR_INSUFFICIENT_SIZE;
    if (rc == NVML_SUCCESS)
        memcpy(version, v, strlen(v) + 1);
    LOG_RET(rc, "%u", length);
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy_mj)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    char res[32] = "";
    if (rc == NVML_SUCCESS && env_on("FAKE_NVML_NO_ENERGY"))
        rc = NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS) {
        *energy_mj = (unsigned long long)dev_energy_mj(device);
        snprintf(res, sizeof res, "%llu", *energy_mj);
    }
    LOG_RES(rc, res, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int *mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS)
        *mhz = type == NVML_CLOCK_MEM ? device->gpu->mem_clock_mhz : fp_sim_gpu_fmax(device->gpu);
    LOG_RET(rc, "gpu=%d, %d", idx(device), type);
}

nvmlReturn_t nvmlDeviceGetClock(nvmlDevice_t device, nvmlClockType_t type, nvmlClockId_t id,
                                unsigned int *mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS) {
        const fp_sim_gpu *g = device->gpu;
        unsigned mem = g->mem_clock_mhz;
        int is_mem = type == NVML_CLOCK_MEM;
        fp_sample s;
        switch (id) {
        case NVML_CLOCK_ID_CURRENT:
            dev_sample(device, &s);
            *mhz = is_mem ? mem : (unsigned)s.v[FP_COL_SM_CLOCK_MHZ];
            break;
        case NVML_CLOCK_ID_APP_CLOCK_TARGET:
            dev_sample(device, &s);
            *mhz = is_mem ? mem : (unsigned)s.v[FP_COL_APP_CLOCK_MHZ];
            break;
        case NVML_CLOCK_ID_APP_CLOCK_DEFAULT:
            *mhz = is_mem ? mem : g->default_clock_mhz;
            break;
        case NVML_CLOCK_ID_CUSTOMER_BOOST_MAX:
            *mhz = is_mem ? mem : fp_sim_gpu_fmax(g);
            break;
        default:
            rc = NVML_ERROR_INVALID_ARGUMENT;
        }
    }
    LOG_RET(rc, "gpu=%d, %d, %d", idx(device), type, id);
}

nvmlReturn_t nvmlDeviceGetSupportedMemoryClocks(nvmlDevice_t device, unsigned int *count,
                                                unsigned int *mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    unsigned in = count ? *count : 0;
    if (rc == NVML_SUCCESS && !count)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        if (*count < 1 || !mhz)
            rc = NVML_ERROR_INSUFFICIENT_SIZE;
        else
            mhz[0] = device->gpu->mem_clock_mhz;
        *count = 1;
    }
    LOG_RET(rc, "gpu=%d, %u", idx(device), in);
}

nvmlReturn_t nvmlDeviceGetSupportedGraphicsClocks(nvmlDevice_t device, unsigned int mem_mhz,
                                                  unsigned int *count, unsigned int *mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    unsigned in = count ? *count : 0;
    if (rc == NVML_SUCCESS && (!count || mem_mhz != device->gpu->mem_clock_mhz))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        const fp_sim_gpu *g = device->gpu;
        if (*count < g->n_clocks || !mhz)
            rc = NVML_ERROR_INSUFFICIENT_SIZE;
        else
            memcpy(mhz, g->clocks_mhz, g->n_clocks * sizeof *mhz);
        *count = g->n_clocks;
    }
    LOG_RET(rc, "gpu=%d, %u, %u", idx(device), mem_mhz, in);
}

nvmlReturn_t nvmlDeviceSetGpuLockedClocks(nvmlDevice_t device, unsigned int min_mhz,
                                          unsigned int max_mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    rc = control_allowed(rc);
    if (rc == NVML_SUCCESS)
        rc = dev_lock(device, 1, min_mhz, max_mhz);
    if (rc == NVML_SUCCESS)
        state_save();
    LOG_RET(rc, "gpu=%d, %u, %u", idx(device), min_mhz, max_mhz);
}

nvmlReturn_t nvmlDeviceResetGpuLockedClocks(nvmlDevice_t device)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    rc = control_allowed(rc);
    if (rc == NVML_SUCCESS)
        rc = dev_lock(device, 0, 0, 0);
    if (rc == NVML_SUCCESS)
        state_save();
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceSetApplicationsClocks(nvmlDevice_t device, unsigned int mem_mhz,
                                             unsigned int graphics_mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    rc = control_allowed(rc);
    if (rc == NVML_SUCCESS)
        rc = dev_app(device, 1, mem_mhz, graphics_mhz);
    if (rc == NVML_SUCCESS)
        state_save();
    LOG_RET(rc, "gpu=%d, %u, %u", idx(device), mem_mhz, graphics_mhz);
}

nvmlReturn_t nvmlDeviceResetApplicationsClocks(nvmlDevice_t device)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    rc = control_allowed(rc);
    if (rc == NVML_SUCCESS)
        rc = dev_app(device, 0, 0, 0);
    if (rc == NVML_SUCCESS)
        state_save();
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int *limit_mw)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS)
        *limit_mw = device->limit_mw;
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device, unsigned int *min_mw,
                                                          unsigned int *max_mw)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS) {
        *min_mw = (unsigned)lround(device->gpu->power_limit_min_w * 1000.0);
        *max_mw = (unsigned)lround(device->gpu->power_limit_max_w * 1000.0);
    }
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device, unsigned int *limit_mw)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS)
        *limit_mw = (unsigned)lround(device->gpu->power_limit_w * 1000.0);
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned int limit_mw)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    rc = control_allowed(rc);
    if (rc == NVML_SUCCESS)
        rc = dev_limit(device, limit_mw);
    if (rc == NVML_SUCCESS)
        state_save();
    LOG_RET(rc, "gpu=%d, %u", idx(device), limit_mw);
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS) {
        fp_sample s;
        dev_sample(device, &s);
        utilization->gpu = (unsigned)s.v[FP_COL_GPU_UTIL_PCT];
        utilization->memory = (unsigned)s.v[FP_COL_MEM_UTIL_PCT];
    }
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensor,
                                      unsigned int *temp_c)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS && sensor != NVML_TEMPERATURE_GPU)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        fp_sample s;
        dev_sample(device, &s);
        *temp_c = (unsigned)s.v[FP_COL_TEMP_C];
    }
    LOG_RET(rc, "gpu=%d, %d", idx(device), sensor);
}

#define MIB (1ull << 20)
#define FB_RESERVED (512ull * MIB)

static void fb_of(nvmlDevice_t device, unsigned long long *total, unsigned long long *used)
{
    fp_sample s;
    dev_sample(device, &s);
    *total = (unsigned long long)device->gpu->fb_total_mib * MIB;
    *used = (unsigned long long)s.v[FP_COL_FB_USED_MIB] * MIB;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    /* The real library checks the version: a caller that forgets it gets an error. */
    if (rc == NVML_SUCCESS && memory->version != nvmlMemory_v2)
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (rc == NVML_SUCCESS) {
        fb_of(device, &memory->total, &memory->used);
        memory->reserved = FB_RESERVED;
        memory->free = memory->total - memory->used - memory->reserved;
    }
    LOG_RET(rc, "gpu=%d, version=0x%x", idx(device), memory->version);
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS) {
        fb_of(device, &memory->total, &memory->used);
        memory->free = memory->total - memory->used;
    }
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, nvmlPstates_t *pstate)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS)
        *pstate = 0;
    LOG_RET(rc, "gpu=%d", idx(device));
}

/* The simulator's reasons (0x1 idle, 0x4 power cap), plus 0x2 while clocks are held by a lock
 * or application clocks, as the driver reports. */
static nvmlReturn_t reasons(const char *fn, nvmlDevice_t device, unsigned long long *mask)
{
    nvmlReturn_t rc = begin(fn, device, 1);
    if (rc == NVML_SUCCESS) {
        fp_sample s;
        dev_sample(device, &s);
        *mask = (unsigned long long)s.v[FP_COL_THROTTLE_REASONS];
        if (device->locked || device->app_set)
            *mask |= THROTTLE_APP_CLOCKS;
    }
    return rc;
}

nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device,
                                                    unsigned long long *reasons_mask)
{
    nvmlReturn_t rc = reasons(__func__, device, reasons_mask);
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device,
                                                       unsigned long long *reasons_mask)
{
    nvmlReturn_t rc = reasons(__func__, device, reasons_mask);
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *current, unsigned int *pending)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS)
        *current = *pending = 0;
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int count, nvmlFieldValue_t *values)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    char ids[128] = "";
    size_t used = 0;
    fp_sample s;
    if (rc == NVML_SUCCESS && (count < 0 || !values))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        dev_sample(device, &s);
    for (int i = 0; rc == NVML_SUCCESS && i < count; i++) {
        nvmlFieldValue_t *f = &values[i];
        if (used < sizeof ids)
            used +=
                (size_t)snprintf(ids + used, sizeof ids - used, "%s%u", i ? " " : "", f->fieldId);
        f->timestamp = (long long)(now_s() * 1e6);
        f->latencyUsec = 0;
        f->nvmlReturn = NVML_SUCCESS;
        f->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
        if (env_on("FAKE_NVML_NO_FIELDS")) {
            f->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
            continue;
        }
        switch (f->fieldId) {
        case NVML_FI_DEV_POWER_INSTANT:
            f->value.uiVal = (unsigned)lround(s.v[FP_COL_POWER_W] * 1000.0);
            break;
        case NVML_FI_DEV_POWER_AVERAGE:
            f->value.uiVal = (unsigned)lround(s.v[FP_COL_POWER_AVG_W] * 1000.0);
            break;
        case NVML_FI_DEV_MEMORY_TEMP:
            f->value.uiVal = (unsigned)s.v[FP_COL_MEM_TEMP_C];
            break;
        default:
            f->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        }
    }
    LOG_RET(rc, "gpu=%d, %d, [%s]", idx(device), count, ids);
}

/* GPM: a sample holds the device's telemetry when it was taken. */
struct nvmlGpmSample_st {
    int taken;
    fp_sample s;
};

nvmlReturn_t nvmlGpmQueryDeviceSupport(nvmlDevice_t device, nvmlGpmSupport_t *support)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS && support->version != NVML_GPM_SUPPORT_VERSION)
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (rc == NVML_SUCCESS)
        support->isSupportedDevice = env_on("FAKE_NVML_GPM") ? 1 : 0;
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlGpmSampleAlloc(nvmlGpmSample_t *sample)
{
    nvmlReturn_t rc = begin(__func__, NULL, 0);
    if (rc == NVML_SUCCESS) {
        sample->handle = calloc(1, sizeof *sample->handle);
        if (!sample->handle)
            rc = NVML_ERROR_MEMORY;
    }
    LOG_RET(rc, "%s", "");
}

nvmlReturn_t nvmlGpmSampleFree(nvmlGpmSample_t sample)
{
    nvmlReturn_t rc = begin(__func__, NULL, 0);
    if (rc == NVML_SUCCESS && !sample.handle)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        free(sample.handle);
    LOG_RET(rc, "%s", "");
}

nvmlReturn_t nvmlGpmSampleGet(nvmlDevice_t device, nvmlGpmSample_t sample)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS && !sample.handle)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        dev_sample(device, &sample.handle->s);
        sample.handle->taken = 1;
    }
    LOG_RET(rc, "gpu=%d", idx(device));
}

/* The metrics between two samples: the activities at the later one (the simulator's
 * activities are constant within a phase). */
nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *metrics)
{
    nvmlReturn_t rc = begin(__func__, NULL, 0);
    if (rc == NVML_SUCCESS && metrics->version != NVML_GPM_METRICS_GET_VERSION)
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    /* NVML 12.2 declares 98 metric slots; callers must stay within that. */
    if (rc == NVML_SUCCESS &&
        (metrics->numMetrics > 98 || !metrics->sample1.handle || !metrics->sample2.handle ||
         !metrics->sample1.handle->taken || !metrics->sample2.handle->taken))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    const fp_sample *s = rc == NVML_SUCCESS ? &metrics->sample2.handle->s : NULL;
    for (unsigned i = 0; rc == NVML_SUCCESS && i < metrics->numMetrics; i++) {
        nvmlGpmMetric_t *m = &metrics->metrics[i];
        fp_col col;
        m->nvmlReturn = NVML_SUCCESS;
        switch (m->metricId) {
        case NVML_GPM_METRIC_GRAPHICS_UTIL:
            col = FP_COL_GR_ACTIVE;
            break;
        case NVML_GPM_METRIC_SM_UTIL:
            col = FP_COL_SM_ACTIVE;
            break;
        case NVML_GPM_METRIC_SM_OCCUPANCY:
            col = FP_COL_SM_OCCUPANCY;
            break;
        case NVML_GPM_METRIC_ANY_TENSOR_UTIL:
            col = FP_COL_TENSOR_ACTIVE;
            break;
        case NVML_GPM_METRIC_DRAM_BW_UTIL:
            col = FP_COL_DRAM_ACTIVE;
            break;
        case NVML_GPM_METRIC_FP64_UTIL:
            col = FP_COL_FP64_ACTIVE;
            break;
        case NVML_GPM_METRIC_FP32_UTIL:
            col = FP_COL_FP32_ACTIVE;
            break;
        case NVML_GPM_METRIC_FP16_UTIL:
            col = FP_COL_FP16_ACTIVE;
            break;
        default:
            m->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
            continue;
        }
        m->value = 100.0 * s->v[col];
    }
    LOG_RET(rc, "%u", rc == NVML_SUCCESS ? metrics->numMetrics : 0);
}

#endif /* FAKE_MINIMAL */
