/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The NVML backend: libnvidia-ml loaded with dlopen, only the functions in
 * nvml_api.h used. Required symbols missing -> a clean FP_ERR_UNSUPPORTED
 * naming the symbol; optional ones missing (or answering NOT_SUPPORTED) ->
 * the feature is absent and its telemetry column stays NAN.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/gpu.h"
#include "freqpilot/gpu_specs.h"
#include "gpu/nvml_api.h"

#define NVML_SONAME "libnvidia-ml.so.1"

/* One pointer per function of nvml_api.h; NULL when the library lacks it. */
static struct nvml_lib {
    void *dl;
    int refs;
    fpn_nvmlErrorString_fn *nvmlErrorString;
#define FPN_PTR(name, params) fpn_##name##_fn *name;
    FPN_FUNCS(FPN_PTR)
#undef FPN_PTR
} L;
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;

/* The versioned entry points are what nvml.h maps the plain names to. */
#define INIT_FN (L.nvmlInit_v2 ? L.nvmlInit_v2 : L.nvmlInit)
#define COUNT_FN (L.nvmlDeviceGetCount_v2 ? L.nvmlDeviceGetCount_v2 : L.nvmlDeviceGetCount)
#define HANDLE_FN                                                                                  \
    (L.nvmlDeviceGetHandleByIndex_v2 ? L.nvmlDeviceGetHandleByIndex_v2                             \
                                     : L.nvmlDeviceGetHandleByIndex)

struct fp_gpu {
    nvmlDevice_t dev;
    unsigned index;
    pthread_mutex_t lock; /* sample() state below */
    /* Optional features found unsupported on this device are not asked again. */
    int no_fields, no_energy, no_util, no_temp, no_mem, no_pstate, no_reasons, no_limit;
    int no_app_clock, no_power_usage;
    int field_ok[3]; /* per field of field_ids[]: 1 ok, 0 not yet known, -1 unsupported */
    int gpm;         /* GPM samples allocated and a previous sample taken */
    nvmlGpmSample_t gpm_prev, gpm_cur;
};

static const unsigned field_ids[3] = {NVML_FI_DEV_POWER_INSTANT, NVML_FI_DEV_POWER_AVERAGE,
                                      NVML_FI_DEV_MEMORY_TEMP};

static const char *nvml_hint(nvmlReturn_t rc)
{
    switch (rc) {
    case NVML_ERROR_NO_PERMISSION:
        return "run as root";
    case NVML_ERROR_NOT_SUPPORTED:
        return "not supported on this GPU/driver";
    case NVML_ERROR_UNINITIALIZED:
        return "NVML is not initialized";
    case NVML_ERROR_INVALID_ARGUMENT:
        return "invalid argument: check the clock or limit against 'freqpilot gpus'";
    case NVML_ERROR_ALREADY_INITIALIZED:
        return "NVML already initialized";
    case NVML_ERROR_NOT_FOUND:
        return "no such GPU: see 'freqpilot gpus'";
    case NVML_ERROR_INSUFFICIENT_SIZE:
        return "buffer too small";
    case NVML_ERROR_INSUFFICIENT_POWER:
        return "check the GPU's external power cables";
    case NVML_ERROR_DRIVER_NOT_LOADED:
        return "the NVIDIA kernel driver is not loaded: check nvidia-smi";
    case NVML_ERROR_TIMEOUT:
        return "the driver timed out: retry";
    case NVML_ERROR_LIBRARY_NOT_FOUND:
        return "NVML library not found: is the NVIDIA driver installed?";
    case NVML_ERROR_FUNCTION_NOT_FOUND:
        return "the driver is too old for this call";
    case NVML_ERROR_GPU_IS_LOST:
        return "the GPU fell off the bus: check dmesg, a reset or reboot may be needed";
    case NVML_ERROR_RESET_REQUIRED:
        return "the GPU needs a reset";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
        return "NVML and kernel driver versions differ: reload the driver or reboot";
    case NVML_ERROR_IN_USE:
        return "the GPU is in use";
    case NVML_ERROR_MEMORY:
        return "out of memory";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH:
        return "NVML structure version mismatch: driver older or newer than expected";
    default:
        return NULL;
    }
}

static fp_status nvml_status(nvmlReturn_t rc)
{
    switch (rc) {
    case NVML_ERROR_NOT_SUPPORTED:
    case NVML_ERROR_FUNCTION_NOT_FOUND:
    case NVML_ERROR_LIBRARY_NOT_FOUND:
    case NVML_ERROR_DRIVER_NOT_LOADED:
        return FP_ERR_UNSUPPORTED;
    case NVML_ERROR_INVALID_ARGUMENT:
    case NVML_ERROR_NOT_FOUND:
        return FP_ERR_INVALID;
    case NVML_ERROR_MEMORY:
        return FP_ERR_NOMEM;
    default:
        return FP_ERR_IO;
    }
}

/* "nvmlDeviceSetGpuLockedClocks: Insufficient Permissions (run as root)" */
static fp_status nvml_fail(fp_error *err, const char *fn, nvmlReturn_t rc)
{
    const char *text = L.nvmlErrorString ? L.nvmlErrorString(rc) : NULL;
    const char *hint = nvml_hint(rc);
    char code[32];
    snprintf(code, sizeof code, "NVML error %d", rc);
    return fp_error_set(err, nvml_status(rc), "%s: %s (%s)", fn, text ? text : code,
                        hint ? hint : code);
}

#define CALL(err, fn, ...)                                                                         \
    do {                                                                                           \
        nvmlReturn_t rc_ = L.fn(__VA_ARGS__);                                                      \
        if (rc_ != NVML_SUCCESS)                                                                   \
            return nvml_fail(err, #fn, rc_);                                                       \
    } while (0)

static void unload(void)
{
    if (L.dl)
        dlclose(L.dl);
    memset(&L, 0, sizeof L);
}

static fp_status load(fp_error *err)
{
    L.dl = dlopen(NVML_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!L.dl)
        L.dl = dlopen("libnvidia-ml.so", RTLD_NOW | RTLD_LOCAL);
    if (!L.dl)
        return fp_error_set(err, FP_ERR_UNSUPPORTED,
                            NVML_SONAME " not found: is the NVIDIA driver installed?");
    L.nvmlErrorString = (fpn_nvmlErrorString_fn *)dlsym(L.dl, "nvmlErrorString");
#define FPN_SYM(name, params) L.name = (fpn_##name##_fn *)dlsym(L.dl, #name);
    FPN_FUNCS(FPN_SYM)
#undef FPN_SYM
    struct {
        const char *name;
        int present;
    } required[] = {
        {"nvmlInit_v2", INIT_FN != NULL},
        {"nvmlShutdown", L.nvmlShutdown != NULL},
        {"nvmlErrorString", L.nvmlErrorString != NULL},
        {"nvmlDeviceGetCount_v2", COUNT_FN != NULL},
        {"nvmlDeviceGetHandleByIndex_v2", HANDLE_FN != NULL},
        {"nvmlDeviceGetName", L.nvmlDeviceGetName != NULL},
        {"nvmlDeviceGetPowerUsage", L.nvmlDeviceGetPowerUsage != NULL},
        {"nvmlDeviceGetClockInfo", L.nvmlDeviceGetClockInfo != NULL},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (!required[i].present) {
            fp_error_set(err, FP_ERR_UNSUPPORTED,
                         NVML_SONAME ": required symbol %s not found (driver too old or not "
                                     "a real NVML library?)",
                         required[i].name);
            unload();
            return FP_ERR_UNSUPPORTED;
        }
    }
    return FP_OK;
}

static fp_status nvml_init(fp_error *err)
{
    fp_status st = FP_OK;
    pthread_mutex_lock(&lib_lock);
    if (L.refs > 0) {
        L.refs++;
        goto out;
    }
    st = load(err);
    if (st != FP_OK)
        goto out;
    nvmlReturn_t rc = INIT_FN();
    if (rc != NVML_SUCCESS) {
        st = nvml_fail(err, L.nvmlInit_v2 ? "nvmlInit_v2" : "nvmlInit", rc);
        unload();
        goto out;
    }
    L.refs = 1;
out:
    pthread_mutex_unlock(&lib_lock);
    return st;
}

static void nvml_shutdown(void)
{
    pthread_mutex_lock(&lib_lock);
    if (L.refs > 0 && --L.refs == 0) {
        L.nvmlShutdown();
        unload();
    }
    pthread_mutex_unlock(&lib_lock);
}

static fp_status need_init(fp_error *err)
{
    if (L.refs <= 0)
        return fp_error_set(err, FP_ERR_INVALID, "NVML backend used before init()");
    return FP_OK;
}

static fp_status nvml_count(unsigned *n, fp_error *err)
{
    fp_status st = need_init(err);
    if (st)
        return st;
    nvmlReturn_t rc = COUNT_FN(n);
    if (rc != NVML_SUCCESS)
        return nvml_fail(
            err, L.nvmlDeviceGetCount_v2 ? "nvmlDeviceGetCount_v2" : "nvmlDeviceGetCount", rc);
    return FP_OK;
}

static fp_status handle_by_index(unsigned i, nvmlDevice_t *dev, fp_error *err)
{
    nvmlReturn_t rc = HANDLE_FN(i, dev);
    if (rc != NVML_SUCCESS)
        return nvml_fail(err,
                         L.nvmlDeviceGetHandleByIndex_v2 ? "nvmlDeviceGetHandleByIndex_v2"
                                                         : "nvmlDeviceGetHandleByIndex",
                         rc);
    return FP_OK;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Finds the index of dev (for info()); -1 when not found. */
static long index_of(nvmlDevice_t dev, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        nvmlDevice_t d;
        if (HANDLE_FN(i, &d) == NVML_SUCCESS && d == dev)
            return i;
    }
    return -1;
}

static void gpm_setup(fp_gpu *g)
{
    if (!L.nvmlGpmQueryDeviceSupport || !L.nvmlGpmSampleAlloc || !L.nvmlGpmSampleGet ||
        !L.nvmlGpmMetricsGet || !L.nvmlGpmSampleFree)
        return;
    nvmlGpmSupport_t sup = {.version = NVML_GPM_SUPPORT_VERSION};
    if (L.nvmlGpmQueryDeviceSupport(g->dev, &sup) != NVML_SUCCESS || !sup.isSupportedDevice)
        return;
    if (L.nvmlGpmSampleAlloc(&g->gpm_prev) != NVML_SUCCESS)
        return;
    if (L.nvmlGpmSampleAlloc(&g->gpm_cur) != NVML_SUCCESS) {
        L.nvmlGpmSampleFree(g->gpm_prev);
        return;
    }
    if (L.nvmlGpmSampleGet(g->dev, g->gpm_prev) != NVML_SUCCESS) {
        L.nvmlGpmSampleFree(g->gpm_prev);
        L.nvmlGpmSampleFree(g->gpm_cur);
        return;
    }
    g->gpm = 1;
}

static fp_status nvml_open(const char *id, fp_gpu **out, fp_error *err)
{
    *out = NULL;
    fp_status st = need_init(err);
    if (st)
        return st;
    unsigned n = 0;
    if ((st = nvml_count(&n, err)))
        return st;
    nvmlDevice_t dev = NULL;
    long index = -1;
    if (!id || !*id || all_digits(id)) {
        unsigned long want = id && *id ? strtoul(id, NULL, 10) : 0;
        if (want >= n)
            return fp_error_set(err, FP_ERR_INVALID,
                                "GPU %s not found: %u NVIDIA GPU%s visible to NVML", id ? id : "0",
                                n, n == 1 ? "" : "s");
        if ((st = handle_by_index((unsigned)want, &dev, err)))
            return st;
        index = (long)want;
    } else if (L.nvmlDeviceGetHandleByUUID) {
        nvmlReturn_t rc = L.nvmlDeviceGetHandleByUUID(id, &dev);
        if (rc == NVML_ERROR_NOT_FOUND || rc == NVML_ERROR_INVALID_ARGUMENT)
            return fp_error_set(err, FP_ERR_INVALID,
                                "GPU %s not found: give an index or a UUID from 'freqpilot gpus'",
                                id);
        if (rc != NVML_SUCCESS)
            return nvml_fail(err, "nvmlDeviceGetHandleByUUID", rc);
        index = index_of(dev, n);
    } else if (L.nvmlDeviceGetUUID) {
        for (unsigned i = 0; i < n && index < 0; i++) {
            char uuid[96];
            nvmlDevice_t d;
            if (handle_by_index(i, &d, NULL) == FP_OK &&
                L.nvmlDeviceGetUUID(d, uuid, sizeof uuid) == NVML_SUCCESS &&
                strcmp(uuid, id) == 0) {
                dev = d;
                index = i;
            }
        }
        if (index < 0)
            return fp_error_set(err, FP_ERR_INVALID,
                                "GPU %s not found: give an index or a UUID from 'freqpilot gpus'",
                                id);
    } else {
        return fp_error_set(err, FP_ERR_UNSUPPORTED,
                            "GPU %s: this NVML has no UUID lookup; give the GPU index", id);
    }
    fp_gpu *g = calloc(1, sizeof *g);
    if (!g)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    g->dev = dev;
    g->index = index < 0 ? 0 : (unsigned)index;
    pthread_mutex_init(&g->lock, NULL);
    g->no_fields = L.nvmlDeviceGetFieldValues == NULL;
    gpm_setup(g);
    *out = g;
    return FP_OK;
}

static void nvml_close(fp_gpu *g)
{
    if (!g)
        return;
    if (g->gpm && L.nvmlGpmSampleFree) {
        L.nvmlGpmSampleFree(g->gpm_prev);
        L.nvmlGpmSampleFree(g->gpm_cur);
    }
    pthread_mutex_destroy(&g->lock);
    free(g);
}

static int cmp_desc(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x < y) - (x > y);
}

/*
 * The INSUFFICIENT_SIZE protocol: *count in = buffer size; on that error the
 * driver sets *count to the size needed. Never passes a NULL buffer (older
 * drivers reject it). mem_mhz == 0 lists memory clocks, else graphics clocks.
 * Returns a malloc'ed array (caller frees) or NULL with *rc set.
 */
static unsigned *get_clock_list(nvmlDevice_t dev, unsigned mem_mhz, unsigned *n, nvmlReturn_t *rc)
{
    unsigned cap = FP_GPU_MAX_CLOCKS;
    for (int tries = 0; tries < 4; tries++) {
        unsigned *buf = calloc(cap, sizeof *buf);
        if (!buf) {
            *rc = NVML_ERROR_MEMORY;
            return NULL;
        }
        unsigned count = cap;
        *rc = mem_mhz ? L.nvmlDeviceGetSupportedGraphicsClocks(dev, mem_mhz, &count, buf)
                      : L.nvmlDeviceGetSupportedMemoryClocks(dev, &count, buf);
        if (*rc == NVML_SUCCESS) {
            *n = count < cap ? count : cap;
            return buf;
        }
        free(buf);
        if (*rc != NVML_ERROR_INSUFFICIENT_SIZE)
            return NULL;
        cap = count > cap ? count : cap * 2;
    }
    return NULL;
}

static fp_status read_clock_table(fp_gpu *g, fp_gpu_info *out, fp_error *err)
{
    nvmlReturn_t rc;
    unsigned nmem = 0;
    unsigned *mem = get_clock_list(g->dev, 0, &nmem, &rc);
    if (!mem)
        return rc == NVML_ERROR_NOT_SUPPORTED
                   ? FP_OK
                   : nvml_fail(err, "nvmlDeviceGetSupportedMemoryClocks", rc);
    unsigned top = 0;
    for (unsigned i = 0; i < nmem; i++)
        if (mem[i] > top)
            top = mem[i];
    free(mem);
    if (top == 0)
        return FP_OK;
    out->mem_clock_mhz = top;
    if (!L.nvmlDeviceGetSupportedGraphicsClocks)
        return FP_OK;
    unsigned count = 0;
    unsigned *buf = get_clock_list(g->dev, top, &count, &rc);
    if (!buf)
        return rc == NVML_ERROR_NOT_SUPPORTED
                   ? FP_OK
                   : nvml_fail(err, "nvmlDeviceGetSupportedGraphicsClocks", rc);
    qsort(buf, count, sizeof *buf, cmp_desc);
    unsigned n = 0;
    for (unsigned i = 0; i < count && n < FP_GPU_MAX_CLOCKS; i++)
        if (buf[i] > 0 && (n == 0 || buf[i] != out->graphics_clocks_mhz[n - 1]))
            out->graphics_clocks_mhz[n++] = buf[i];
    out->n_graphics_clocks = n;
    free(buf);
    return FP_OK;
}

static fp_status nvml_info(fp_gpu *g, fp_gpu_info *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    out->index = g->index;
    out->power_limit_w = out->power_limit_min_w = out->power_limit_max_w = NAN;
    out->default_power_limit_w = NAN;
    out->mig_enabled = -1;
    CALL(err, nvmlDeviceGetName, g->dev, out->name, sizeof out->name);
    fp_gpu_short_name(out->name, out->short_name, sizeof out->short_name);
    if (L.nvmlDeviceGetUUID && L.nvmlDeviceGetUUID(g->dev, out->uuid, sizeof out->uuid))
        out->uuid[0] = '\0';
    if (L.nvmlSystemGetDriverVersion &&
        L.nvmlSystemGetDriverVersion(out->driver, sizeof out->driver) != NVML_SUCCESS)
        out->driver[0] = '\0';
    if (L.nvmlDeviceGetSupportedMemoryClocks) {
        fp_status st = read_clock_table(g, out, err);
        if (st)
            return st;
    }
    unsigned mhz = 0;
    if (out->mem_clock_mhz == 0 &&
        L.nvmlDeviceGetClockInfo(g->dev, NVML_CLOCK_MEM, &mhz) == NVML_SUCCESS)
        out->mem_clock_mhz = mhz;
    if (L.nvmlDeviceGetMaxClockInfo &&
        L.nvmlDeviceGetMaxClockInfo(g->dev, NVML_CLOCK_SM, &mhz) == NVML_SUCCESS)
        out->max_clock_mhz = mhz;
    else if (out->n_graphics_clocks)
        out->max_clock_mhz = out->graphics_clocks_mhz[0];
    if (L.nvmlDeviceGetClock &&
        L.nvmlDeviceGetClock(g->dev, NVML_CLOCK_GRAPHICS, NVML_CLOCK_ID_APP_CLOCK_DEFAULT, &mhz) ==
            NVML_SUCCESS)
        out->default_clock_mhz = mhz;
    unsigned mw = 0, mw2 = 0;
    if (L.nvmlDeviceGetPowerManagementLimit &&
        L.nvmlDeviceGetPowerManagementLimit(g->dev, &mw) == NVML_SUCCESS)
        out->power_limit_w = mw / 1000.0;
    if (L.nvmlDeviceGetPowerManagementLimitConstraints &&
        L.nvmlDeviceGetPowerManagementLimitConstraints(g->dev, &mw, &mw2) == NVML_SUCCESS) {
        out->power_limit_min_w = mw / 1000.0;
        out->power_limit_max_w = mw2 / 1000.0;
    }
    if (L.nvmlDeviceGetPowerManagementDefaultLimit &&
        L.nvmlDeviceGetPowerManagementDefaultLimit(g->dev, &mw) == NVML_SUCCESS)
        out->default_power_limit_w = mw / 1000.0;
    unsigned cur = 0, pending = 0;
    if (L.nvmlDeviceGetMigMode) {
        nvmlReturn_t rc = L.nvmlDeviceGetMigMode(g->dev, &cur, &pending);
        if (rc == NVML_SUCCESS)
            out->mig_enabled = cur ? 1 : 0;
        else if (rc == NVML_ERROR_NOT_SUPPORTED)
            out->mig_enabled = 0; /* a GPU without MIG runs without it */
    }
    /* What NVML did not report (an older driver, a missing symbol) from the board table. */
    fp_gpu_spec_fill_info(out);
    out->simulated = 0;
    return FP_OK;
}

static double field_double(const nvmlFieldValue_t *f)
{
    switch (f->valueType) {
    case NVML_VALUE_TYPE_DOUBLE:
        return f->value.dVal;
    case NVML_VALUE_TYPE_UNSIGNED_INT:
        return f->value.uiVal;
    case NVML_VALUE_TYPE_UNSIGNED_LONG:
        return (double)f->value.ulVal;
    case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG:
        return (double)f->value.ullVal;
    case NVML_VALUE_TYPE_SIGNED_LONG_LONG:
        return (double)f->value.sllVal;
    case NVML_VALUE_TYPE_SIGNED_INT:
        return f->value.siVal;
    default:
        return NAN;
    }
}

/*
 * One optional read: OK -> 1; NOT_SUPPORTED (or the symbol missing) -> 0 and
 * the flag set so it is not asked again; GPU lost -> fatal; others -> 0.
 */
struct fatal {
    nvmlReturn_t rc;
    const char *fn;
};

static int optional_ok_(nvmlReturn_t rc, int *flag, struct fatal *fatal, const char *fn)
{
    if (rc == NVML_SUCCESS)
        return 1;
    if (rc == NVML_ERROR_NOT_SUPPORTED || rc == NVML_ERROR_FUNCTION_NOT_FOUND) {
        *flag = 1;
    } else if ((rc == NVML_ERROR_GPU_IS_LOST || rc == NVML_ERROR_UNINITIALIZED ||
                rc == NVML_ERROR_DRIVER_NOT_LOADED) &&
               fatal->rc == NVML_SUCCESS) {
        fatal->rc = rc;
        fatal->fn = fn;
    }
    return 0;
}
/* OPTIONAL(flag, fatal, nvmlFunction, args...): calls the function and names it. */
#define OPTIONAL(flag, fatal, fn, ...) optional_ok_(L.fn(__VA_ARGS__), flag, fatal, #fn)

static void sample_fields(fp_gpu *g, fp_sample *s, struct fatal *fatal)
{
    if (g->no_fields)
        return;
    nvmlFieldValue_t fv[3];
    int n = 0;
    int which[3];
    memset(fv, 0, sizeof fv);
    for (int i = 0; i < 3; i++) {
        if (g->field_ok[i] < 0)
            continue;
        fv[n].fieldId = field_ids[i];
        which[n++] = i;
    }
    if (n == 0)
        return;
    if (!OPTIONAL(&g->no_fields, fatal, nvmlDeviceGetFieldValues, g->dev, n, fv))
        return;
    for (int k = 0; k < n; k++) {
        int i = which[k];
        if (fv[k].nvmlReturn != NVML_SUCCESS) {
            if (fv[k].nvmlReturn == NVML_ERROR_NOT_SUPPORTED)
                g->field_ok[i] = -1;
            continue;
        }
        g->field_ok[i] = 1;
        double v = field_double(&fv[k]);
        switch (field_ids[i]) {
        case NVML_FI_DEV_POWER_INSTANT:
            s->v[FP_COL_POWER_W] = v / 1000.0;
            break;
        case NVML_FI_DEV_POWER_AVERAGE:
            s->v[FP_COL_POWER_AVG_W] = v / 1000.0;
            break;
        case NVML_FI_DEV_MEMORY_TEMP:
            s->v[FP_COL_MEM_TEMP_C] = v;
            break;
        }
    }
}

static void sample_gpm(fp_gpu *g, fp_sample *s)
{
    static const struct {
        unsigned id;
        fp_col col;
    } m[] = {
        {NVML_GPM_METRIC_SM_UTIL, FP_COL_SM_ACTIVE},
        {NVML_GPM_METRIC_SM_OCCUPANCY, FP_COL_SM_OCCUPANCY},
        {NVML_GPM_METRIC_ANY_TENSOR_UTIL, FP_COL_TENSOR_ACTIVE},
        {NVML_GPM_METRIC_DRAM_BW_UTIL, FP_COL_DRAM_ACTIVE},
        {NVML_GPM_METRIC_FP64_UTIL, FP_COL_FP64_ACTIVE},
        {NVML_GPM_METRIC_FP32_UTIL, FP_COL_FP32_ACTIVE},
        {NVML_GPM_METRIC_FP16_UTIL, FP_COL_FP16_ACTIVE},
        {NVML_GPM_METRIC_GRAPHICS_UTIL, FP_COL_GR_ACTIVE},
    };
    const unsigned nm = sizeof m / sizeof m[0];
    if (!g->gpm || L.nvmlGpmSampleGet(g->dev, g->gpm_cur) != NVML_SUCCESS)
        return;
    nvmlGpmMetricsGet_t *q = calloc(1, sizeof *q);
    if (q) {
        q->version = NVML_GPM_METRICS_GET_VERSION;
        q->numMetrics = nm;
        q->sample1 = g->gpm_prev;
        q->sample2 = g->gpm_cur;
        for (unsigned i = 0; i < nm; i++)
            q->metrics[i].metricId = m[i].id;
        if (L.nvmlGpmMetricsGet(q) == NVML_SUCCESS)
            for (unsigned i = 0; i < nm; i++)
                if (q->metrics[i].nvmlReturn == NVML_SUCCESS && isfinite(q->metrics[i].value))
                    s->v[m[i].col] = q->metrics[i].value / 100.0; /* percent -> fraction */
        free(q);
    }
    /* The current sample becomes the start of the next interval. */
    nvmlGpmSample_t t = g->gpm_prev;
    g->gpm_prev = g->gpm_cur;
    g->gpm_cur = t;
}

static void sample_memory(fp_gpu *g, fp_sample *s, struct fatal *fatal)
{
    if (g->no_mem)
        return;
    if (L.nvmlDeviceGetMemoryInfo_v2) {
        nvmlMemory_v2_t m2 = {.version = nvmlMemory_v2};
        if (OPTIONAL(&g->no_mem, fatal, nvmlDeviceGetMemoryInfo_v2, g->dev, &m2))
            s->v[FP_COL_FB_USED_MIB] = (double)m2.used / (1024.0 * 1024.0);
    } else if (L.nvmlDeviceGetMemoryInfo) {
        nvmlMemory_t m1;
        if (OPTIONAL(&g->no_mem, fatal, nvmlDeviceGetMemoryInfo, g->dev, &m1))
            s->v[FP_COL_FB_USED_MIB] = (double)m1.used / (1024.0 * 1024.0);
    }
}

static void sample_reasons(fp_gpu *g, fp_sample *s, struct fatal *fatal)
{
    unsigned long long mask = 0;
    int ok = 0;
    if (g->no_reasons)
        return;
    if (L.nvmlDeviceGetCurrentClocksEventReasons)
        ok = OPTIONAL(&g->no_reasons, fatal, nvmlDeviceGetCurrentClocksEventReasons, g->dev, &mask);
    else if (L.nvmlDeviceGetCurrentClocksThrottleReasons)
        ok = OPTIONAL(&g->no_reasons, fatal, nvmlDeviceGetCurrentClocksThrottleReasons, g->dev,
                      &mask);
    if (ok)
        s->v[FP_COL_THROTTLE_REASONS] = (double)mask;
}

static fp_status nvml_sample(fp_gpu *g, fp_sample *s, fp_error *err)
{
    struct fatal fatal = {NVML_SUCCESS, NULL};
    unsigned u = 0;
    unsigned long long ull = 0;
    nvmlUtilization_t util;
    nvmlPstates_t ps;

    fp_sample_clear(s);
    pthread_mutex_lock(&g->lock);
    sample_fields(g, s, &fatal);
    if (isnan(s->v[FP_COL_POWER_W]) && !g->no_power_usage &&
        OPTIONAL(&g->no_power_usage, &fatal, nvmlDeviceGetPowerUsage, g->dev, &u))
        s->v[FP_COL_POWER_W] = u / 1000.0;
    if (L.nvmlDeviceGetTotalEnergyConsumption && !g->no_energy &&
        OPTIONAL(&g->no_energy, &fatal, nvmlDeviceGetTotalEnergyConsumption, g->dev, &ull))
        s->v[FP_COL_ENERGY_MJ] = (double)ull;
    /* The SM clock is the one column freqpilot cannot do without: any error is fatal. */
    nvmlReturn_t rc = L.nvmlDeviceGetClockInfo(g->dev, NVML_CLOCK_SM, &u);
    if (rc == NVML_SUCCESS)
        s->v[FP_COL_SM_CLOCK_MHZ] = u;
    else if (fatal.rc == NVML_SUCCESS)
        fatal = (struct fatal){rc, "nvmlDeviceGetClockInfo"};
    if (L.nvmlDeviceGetClockInfo(g->dev, NVML_CLOCK_MEM, &u) == NVML_SUCCESS)
        s->v[FP_COL_MEM_CLOCK_MHZ] = u;
    if (L.nvmlDeviceGetUtilizationRates && !g->no_util &&
        OPTIONAL(&g->no_util, &fatal, nvmlDeviceGetUtilizationRates, g->dev, &util)) {
        s->v[FP_COL_GPU_UTIL_PCT] = util.gpu;
        s->v[FP_COL_MEM_UTIL_PCT] = util.memory;
    }
    if (L.nvmlDeviceGetTemperature && !g->no_temp &&
        OPTIONAL(&g->no_temp, &fatal, nvmlDeviceGetTemperature, g->dev, NVML_TEMPERATURE_GPU, &u))
        s->v[FP_COL_TEMP_C] = u;
    sample_memory(g, s, &fatal);
    if (L.nvmlDeviceGetPerformanceState && !g->no_pstate &&
        OPTIONAL(&g->no_pstate, &fatal, nvmlDeviceGetPerformanceState, g->dev, &ps) && ps >= 0 &&
        ps <= 15)
        s->v[FP_COL_PSTATE] = ps;
    sample_reasons(g, s, &fatal);
    if (L.nvmlDeviceGetPowerManagementLimit && !g->no_limit &&
        OPTIONAL(&g->no_limit, &fatal, nvmlDeviceGetPowerManagementLimit, g->dev, &u))
        s->v[FP_COL_POWER_LIMIT_W] = u / 1000.0;
    if (L.nvmlDeviceGetClock && !g->no_app_clock &&
        OPTIONAL(&g->no_app_clock, &fatal, nvmlDeviceGetClock, g->dev, NVML_CLOCK_GRAPHICS,
                 NVML_CLOCK_ID_APP_CLOCK_TARGET, &u))
        s->v[FP_COL_APP_CLOCK_MHZ] = u;
    sample_gpm(g, s);
    pthread_mutex_unlock(&g->lock);
    if (fatal.rc != NVML_SUCCESS)
        return nvml_fail(err, fatal.fn, fatal.rc);
    return FP_OK;
}

static fp_status nvml_lock_clocks(fp_gpu *g, unsigned min_mhz, unsigned max_mhz, fp_error *err)
{
    if (!L.nvmlDeviceSetGpuLockedClocks)
        return fp_error_set(err, FP_ERR_UNSUPPORTED,
                            "nvmlDeviceSetGpuLockedClocks: not in this NVML (driver too old; "
                            "application clocks are the fallback)");
    if (min_mhz > max_mhz)
        return fp_error_set(err, FP_ERR_INVALID, "locked clocks: min %u MHz above max %u MHz",
                            min_mhz, max_mhz);
    CALL(err, nvmlDeviceSetGpuLockedClocks, g->dev, min_mhz, max_mhz);
    return FP_OK;
}

static fp_status nvml_reset_clocks(fp_gpu *g, fp_error *err)
{
    if (!L.nvmlDeviceResetGpuLockedClocks)
        return fp_error_set(err, FP_ERR_UNSUPPORTED,
                            "nvmlDeviceResetGpuLockedClocks: not in this NVML (driver too old)");
    CALL(err, nvmlDeviceResetGpuLockedClocks, g->dev);
    return FP_OK;
}

static fp_status nvml_set_app_clocks(fp_gpu *g, unsigned mem_mhz, unsigned gr_mhz, fp_error *err)
{
    if (!L.nvmlDeviceSetApplicationsClocks)
        return fp_error_set(err, FP_ERR_UNSUPPORTED,
                            "nvmlDeviceSetApplicationsClocks: not in this NVML");
    CALL(err, nvmlDeviceSetApplicationsClocks, g->dev, mem_mhz, gr_mhz);
    return FP_OK;
}

static fp_status nvml_reset_app_clocks(fp_gpu *g, fp_error *err)
{
    if (!L.nvmlDeviceResetApplicationsClocks)
        return fp_error_set(err, FP_ERR_UNSUPPORTED,
                            "nvmlDeviceResetApplicationsClocks: not in this NVML");
    CALL(err, nvmlDeviceResetApplicationsClocks, g->dev);
    return FP_OK;
}

static fp_status nvml_set_power_limit(fp_gpu *g, double watts, fp_error *err)
{
    if (!L.nvmlDeviceSetPowerManagementLimit)
        return fp_error_set(err, FP_ERR_UNSUPPORTED,
                            "nvmlDeviceSetPowerManagementLimit: not in this NVML");
    if (!isfinite(watts) || watts <= 0 || watts > 100000)
        return fp_error_set(err, FP_ERR_INVALID, "power limit %g W: expected a positive number",
                            watts);
    unsigned lo = 0, hi = 0;
    if (L.nvmlDeviceGetPowerManagementLimitConstraints &&
        L.nvmlDeviceGetPowerManagementLimitConstraints(g->dev, &lo, &hi) == NVML_SUCCESS &&
        hi > 0) {
        double mw = watts * 1000.0;
        if (mw < lo || mw > hi)
            return fp_error_set(err, FP_ERR_INVALID,
                                "power limit %g W outside this GPU's range %g..%g W", watts,
                                lo / 1000.0, hi / 1000.0);
    }
    CALL(err, nvmlDeviceSetPowerManagementLimit, g->dev, (unsigned)lround(watts * 1000.0));
    return FP_OK;
}

static const fp_gpu_backend nvml_backend = {
    .name = "nvml",
    .description = "NVIDIA GPUs through libnvidia-ml.so.1, loaded at run time",
    .simulated = 0,
    .init = nvml_init,
    .shutdown = nvml_shutdown,
    .count = nvml_count,
    .open = nvml_open,
    .close = nvml_close,
    .info = nvml_info,
    .sample = nvml_sample,
    .lock_clocks = nvml_lock_clocks,
    .reset_clocks = nvml_reset_clocks,
    .set_app_clocks = nvml_set_app_clocks,
    .reset_app_clocks = nvml_reset_app_clocks,
    .set_power_limit = nvml_set_power_limit,
};

const fp_gpu_backend *fp_gpu_backend_nvml(void)
{
    return &nvml_backend;
}
