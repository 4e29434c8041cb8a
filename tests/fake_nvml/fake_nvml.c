/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A fake libnvidia-ml.so.1 for tests: the NVML subset freqpilot uses, on top
 * of a tiny built-in model of an NVIDIA A100-PCIE-40GB under steady load
 * (81 SM clocks 1410..210 MHz step 15, memory 1215 MHz, 250 W limit, power
 * rising with the clock, an energy counter integrating power over real
 * monotonic time). Self-contained: it does not use the simulated GPU.
 *
 * Steered by environment variables (read on every call unless noted):
 *   FAKE_NVML_LOG=path     append "function(args) = rc [-> result]" per call
 *   FAKE_NVML_FAIL=fn:code[,fn:code...]  make these functions return code
 *   FAKE_NVML_GPUS=n       number of GPUs, 1..8 (read by nvmlInit)
 *   FAKE_NVML_NO_ENERGY=1  nvmlDeviceGetTotalEnergyConsumption -> NOT_SUPPORTED
 *   FAKE_NVML_NO_FIELDS=1  every field of nvmlDeviceGetFieldValues -> NOT_SUPPORTED
 *   FAKE_NVML_GPM=1        the GPU supports GPM metrics (Hopper style)
 *   FAKE_NVML_STATE=path   persist locked/application clocks and the power
 *                          limit across processes
 *
 * Built three ways: the full library; FAKE_MINIMAL (only the required symbols,
 * unversioned init/count/handle, to test optional-absent paths and the
 * unversioned fallback); FAKE_BROKEN (nvmlDeviceGetClockInfo missing).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpu/nvml_api.h"

/* The backend's signatures: a definition below that differs fails to compile. */
#define FAKE_DECL(name, params) nvmlReturn_t name params;
FPN_FUNCS(FAKE_DECL)
#undef FAKE_DECL
const char *nvmlErrorString(nvmlReturn_t result);

#define MAX_GPUS 8
#define TOP_MHZ 1410u
#define LOW_MHZ 210u
#define STEP_MHZ 15u
#define MEM_MHZ 1215u
#define DEFAULT_APP_MHZ 765u
#define LIMIT_DEFAULT_MW 250000u
#define LIMIT_MIN_MW 150000u
#define LIMIT_MAX_MW 250000u
#define IDLE_W 36.0

struct nvmlDevice_st {
    int index;
    int locked;
    unsigned locked_min, locked_max;
    int app_set;
    unsigned app_mem, app_gr;
    unsigned limit_mw;
    double energy_mj; /* integrated up to last_t */
    double last_t;
};

static struct nvmlDevice_st devs[MAX_GPUS];
static int ngpus = 1;
static int init_count;

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

/* ---- model ------------------------------------------------------------- */

static unsigned snap_down(unsigned mhz)
{
    if (mhz >= TOP_MHZ)
        return TOP_MHZ;
    if (mhz <= LOW_MHZ)
        return LOW_MHZ;
    return LOW_MHZ + (mhz - LOW_MHZ) / STEP_MHZ * STEP_MHZ;
}

static double power_at(unsigned mhz)
{
    double x = (double)mhz / TOP_MHZ;
    return IDLE_W + (250.0 - IDLE_W) * x * x * x;
}

/* The clock the GPU runs at and why: lock > application clocks > boost, capped by power. */
static unsigned run_clock(const struct nvmlDevice_st *d, unsigned long long *reasons)
{
    unsigned long long r = 0;
    unsigned f = TOP_MHZ;
    if (d->app_set) {
        f = d->app_gr;
        r |= NVML_CLOCKS_EVENT_REASON_APPLICATIONS_CLOCKS_SETTING;
    }
    if (d->locked) {
        f = snap_down(d->locked_max);
        r |= NVML_CLOCKS_EVENT_REASON_APPLICATIONS_CLOCKS_SETTING;
    }
    while (f > LOW_MHZ && power_at(f) * 1000.0 > d->limit_mw + 0.5) {
        f -= STEP_MHZ;
        r |= NVML_CLOCKS_EVENT_REASON_SW_POWER_CAP;
    }
    if (reasons)
        *reasons = r;
    return f;
}

static double power_w(const struct nvmlDevice_st *d)
{
    return power_at(run_clock(d, NULL));
}

static void integrate(struct nvmlDevice_st *d)
{
    double t = now_s();
    if (d->last_t > 0)
        d->energy_mj += power_w(d) * 1000.0 * (t - d->last_t);
    d->last_t = t;
}

static void state_load(void)
{
    const char *path = getenv("FAKE_NVML_STATE");
    FILE *f = path && *path ? fopen(path, "r") : NULL;
    if (!f)
        return;
    int i, locked, app;
    unsigned lo, hi, am, ag, lim;
    while (fscanf(f, "%d %d %u %u %d %u %u %u", &i, &locked, &lo, &hi, &app, &am, &ag, &lim) == 8) {
        if (i < 0 || i >= MAX_GPUS)
            continue;
        devs[i].locked = locked;
        devs[i].locked_min = lo;
        devs[i].locked_max = hi;
        devs[i].app_set = app;
        devs[i].app_mem = am;
        devs[i].app_gr = ag;
        devs[i].limit_mw = lim;
    }
    fclose(f);
}

__attribute__((unused)) static void state_save(void)
{
    const char *path = getenv("FAKE_NVML_STATE");
    FILE *f = path && *path ? fopen(path, "w") : NULL;
    if (!f)
        return;
    for (int i = 0; i < ngpus; i++)
        fprintf(f, "%d %d %u %u %d %u %u %u\n", i, devs[i].locked, devs[i].locked_min,
                devs[i].locked_max, devs[i].app_set, devs[i].app_mem, devs[i].app_gr,
                devs[i].limit_mw);
    fclose(f);
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
    if (init_count++ > 0)
        return NVML_SUCCESS;
    const char *n = getenv("FAKE_NVML_GPUS");
    ngpus = n && *n ? atoi(n) : 1;
    if (ngpus < 1)
        ngpus = 1;
    if (ngpus > MAX_GPUS)
        ngpus = MAX_GPUS;
    memset(devs, 0, sizeof devs);
    for (int i = 0; i < MAX_GPUS; i++) {
        devs[i].index = i;
        devs[i].limit_mw = LIMIT_DEFAULT_MW;
        devs[i].energy_mj = 1.0e9 + i * 1.0e6; /* since "driver load" */
    }
    state_load();
    for (int i = 0; i < ngpus; i++)
        integrate(&devs[i]);
    return NVML_SUCCESS;
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
    if (rc == NVML_SUCCESS)
        init_count--;
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
    const char *n = "NVIDIA A100-PCIE-40GB";
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
        *power_mw = (unsigned)lround(power_w(device) * 1000.0);
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
        if (type == NVML_CLOCK_MEM)
            *mhz = MEM_MHZ;
        else if (type == NVML_CLOCK_SM || type == NVML_CLOCK_GRAPHICS)
            *mhz = run_clock(device, NULL);
        else if (type == NVML_CLOCK_VIDEO)
            *mhz = 1275;
        else
            rc = NVML_ERROR_INVALID_ARGUMENT;
        snprintf(res, sizeof res, "%u", rc == NVML_SUCCESS ? *mhz : 0);
    }
    LOG_RES(rc, res, "gpu=%d, %d", idx(device), type);
}
#endif

/* ---- optional symbols -------------------------------------------------- */
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
        integrate(device);
        *energy_mj = (unsigned long long)device->energy_mj;
        snprintf(res, sizeof res, "%llu", *energy_mj);
    }
    LOG_RES(rc, res, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int *mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS)
        *mhz = type == NVML_CLOCK_MEM ? MEM_MHZ : TOP_MHZ;
    LOG_RET(rc, "gpu=%d, %d", idx(device), type);
}

nvmlReturn_t nvmlDeviceGetClock(nvmlDevice_t device, nvmlClockType_t type, nvmlClockId_t id,
                                unsigned int *mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS) {
        int mem = type == NVML_CLOCK_MEM;
        switch (id) {
        case NVML_CLOCK_ID_CURRENT:
            *mhz = mem ? MEM_MHZ : run_clock(device, NULL);
            break;
        case NVML_CLOCK_ID_APP_CLOCK_TARGET:
            *mhz = mem ? MEM_MHZ : device->app_set ? device->app_gr : DEFAULT_APP_MHZ;
            break;
        case NVML_CLOCK_ID_APP_CLOCK_DEFAULT:
            *mhz = mem ? MEM_MHZ : DEFAULT_APP_MHZ;
            break;
        case NVML_CLOCK_ID_CUSTOMER_BOOST_MAX:
            *mhz = mem ? MEM_MHZ : TOP_MHZ;
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
            mhz[0] = MEM_MHZ;
        *count = 1;
    }
    LOG_RET(rc, "gpu=%d, %u", idx(device), in);
}

nvmlReturn_t nvmlDeviceGetSupportedGraphicsClocks(nvmlDevice_t device, unsigned int mem_mhz,
                                                  unsigned int *count, unsigned int *mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    unsigned n = (TOP_MHZ - LOW_MHZ) / STEP_MHZ + 1;
    unsigned in = count ? *count : 0;
    if (rc == NVML_SUCCESS && (!count || mem_mhz != MEM_MHZ))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        if (*count < n || !mhz)
            rc = NVML_ERROR_INSUFFICIENT_SIZE;
        else
            for (unsigned i = 0; i < n; i++)
                mhz[i] = TOP_MHZ - i * STEP_MHZ;
        *count = n;
    }
    LOG_RET(rc, "gpu=%d, %u, %u", idx(device), mem_mhz, in);
}

static int supported_gr(unsigned mhz)
{
    return mhz >= LOW_MHZ && mhz <= TOP_MHZ && (mhz - LOW_MHZ) % STEP_MHZ == 0;
}

nvmlReturn_t nvmlDeviceSetGpuLockedClocks(nvmlDevice_t device, unsigned int min_mhz,
                                          unsigned int max_mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS && (min_mhz > max_mhz || max_mhz < LOW_MHZ))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        integrate(device);
        device->locked = 1;
        device->locked_min = min_mhz;
        device->locked_max = max_mhz;
        state_save();
    }
    LOG_RET(rc, "gpu=%d, %u, %u", idx(device), min_mhz, max_mhz);
}

nvmlReturn_t nvmlDeviceResetGpuLockedClocks(nvmlDevice_t device)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS) {
        integrate(device);
        device->locked = 0;
        device->locked_min = device->locked_max = 0;
        state_save();
    }
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceSetApplicationsClocks(nvmlDevice_t device, unsigned int mem_mhz,
                                             unsigned int graphics_mhz)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS && (mem_mhz != MEM_MHZ || !supported_gr(graphics_mhz)))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        integrate(device);
        device->app_set = 1;
        device->app_mem = mem_mhz;
        device->app_gr = graphics_mhz;
        state_save();
    }
    LOG_RET(rc, "gpu=%d, %u, %u", idx(device), mem_mhz, graphics_mhz);
}

nvmlReturn_t nvmlDeviceResetApplicationsClocks(nvmlDevice_t device)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS) {
        integrate(device);
        device->app_set = 0;
        device->app_mem = device->app_gr = 0;
        state_save();
    }
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
        *min_mw = LIMIT_MIN_MW;
        *max_mw = LIMIT_MAX_MW;
    }
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device, unsigned int *limit_mw)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS)
        *limit_mw = LIMIT_DEFAULT_MW;
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned int limit_mw)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS && (limit_mw < LIMIT_MIN_MW || limit_mw > LIMIT_MAX_MW))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS) {
        integrate(device);
        device->limit_mw = limit_mw;
        state_save();
    }
    LOG_RET(rc, "gpu=%d, %u", idx(device), limit_mw);
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS) {
        utilization->gpu = 100;
        utilization->memory = 40;
    }
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensor,
                                      unsigned int *temp_c)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS && sensor != NVML_TEMPERATURE_GPU)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        *temp_c = 30 + (unsigned)(power_w(device) / 10.0);
    LOG_RET(rc, "gpu=%d, %d", idx(device), sensor);
}

#define FB_TOTAL (40960ull << 20)
#define FB_USED (1024ull << 20)

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    /* The real library checks the version: a caller that forgets it gets an error. */
    if (rc == NVML_SUCCESS && memory->version != nvmlMemory_v2)
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (rc == NVML_SUCCESS) {
        memory->total = FB_TOTAL;
        memory->reserved = 512ull << 20;
        memory->used = FB_USED;
        memory->free = FB_TOTAL - FB_USED - memory->reserved;
    }
    LOG_RET(rc, "gpu=%d, version=0x%x", idx(device), memory->version);
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
    nvmlReturn_t rc = begin(__func__, device, 1);
    if (rc == NVML_SUCCESS) {
        memory->total = FB_TOTAL;
        memory->used = FB_USED;
        memory->free = FB_TOTAL - FB_USED;
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

static nvmlReturn_t reasons(const char *fn, nvmlDevice_t device, unsigned long long *mask)
{
    nvmlReturn_t rc = begin(fn, device, 1);
    if (rc == NVML_SUCCESS)
        run_clock(device, mask);
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
    if (rc == NVML_SUCCESS && (count < 0 || !values))
        rc = NVML_ERROR_INVALID_ARGUMENT;
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
        case NVML_FI_DEV_POWER_AVERAGE:
            f->value.uiVal = (unsigned)lround(power_w(device) * 1000.0);
            break;
        case NVML_FI_DEV_MEMORY_TEMP:
            f->value.uiVal = 45;
            break;
        default:
            f->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        }
    }
    LOG_RET(rc, "gpu=%d, %d, [%s]", idx(device), count, ids);
}

/* GPM: a sample is a timestamp. */
struct nvmlGpmSample_st {
    double t;
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
    if (rc == NVML_SUCCESS)
        sample.handle->t = now_s();
    LOG_RET(rc, "gpu=%d", idx(device));
}

nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *metrics)
{
    nvmlReturn_t rc = begin(__func__, NULL, 0);
    if (rc == NVML_SUCCESS && metrics->version != NVML_GPM_METRICS_GET_VERSION)
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    /* NVML 12.2 declares 98 metric slots; callers must stay within that. */
    if (rc == NVML_SUCCESS &&
        (metrics->numMetrics > 98 || !metrics->sample1.handle || !metrics->sample2.handle))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned i = 0; rc == NVML_SUCCESS && i < metrics->numMetrics; i++) {
        nvmlGpmMetric_t *m = &metrics->metrics[i];
        m->nvmlReturn = NVML_SUCCESS;
        switch (m->metricId) {
        case NVML_GPM_METRIC_GRAPHICS_UTIL:
            m->value = 95.0;
            break;
        case NVML_GPM_METRIC_SM_UTIL:
            m->value = 80.0;
            break;
        case NVML_GPM_METRIC_SM_OCCUPANCY:
            m->value = 40.0;
            break;
        case NVML_GPM_METRIC_ANY_TENSOR_UTIL:
            m->value = 30.0;
            break;
        case NVML_GPM_METRIC_DRAM_BW_UTIL:
            m->value = 55.0;
            break;
        case NVML_GPM_METRIC_FP64_UTIL:
            m->value = 1.0;
            break;
        case NVML_GPM_METRIC_FP32_UTIL:
            m->value = 20.0;
            break;
        case NVML_GPM_METRIC_FP16_UTIL:
            m->value = 10.0;
            break;
        default:
            m->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        }
    }
    LOG_RET(rc, "%u", rc == NVML_SUCCESS ? metrics->numMetrics : 0);
}

#endif /* FAKE_MINIMAL */
