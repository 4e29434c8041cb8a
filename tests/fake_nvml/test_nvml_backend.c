/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The NVML backend through the real dlopen path against the fake
 * libnvidia-ml.so.1 (tests/fake_nvml). argv[1] names the library variant that
 * LD_LIBRARY_PATH points at: fake, minimal, broken or absent.
 *
 * The fake runs the simulated GPU (fp_sim_device) in real time. Expected values come from
 * the simulator's model and truth functions (include/freqpilot/sim.h: the GPU tables,
 * fp_sim_phase_point, fp_sim_steady_temp, fp_sim_reached_clock) at the steady temperature
 * (the fixed point T = T_ss(P(T)), iterated here), with the fake's default workload
 * (tests/fake_nvml/steady.ini) loaded here too: computed independently of both the fake's
 * device path and the backend.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/gpu.h"
#include "freqpilot/sim.h"
#include "testutil.h"

static const fp_gpu_backend *B;
static char log_path[256];
static const fp_sim_gpu *A100;
static fp_sim_workload steady;

/* Phase ph of wl on g at clock f, at its steady temperature (returned in *temp). */
static fp_sim_point model_point(const fp_sim_gpu *g, const fp_sim_workload *wl, unsigned ph,
                                double f, double *temp)
{
    fp_sim_point pt;
    double t = g->ambient_c;
    for (int i = 0; i < 200; i++) {
        fp_sim_phase_point(g, wl, ph, f, t, &pt);
        t = fp_sim_steady_temp(g, pt.power_w);
    }
    fp_sim_phase_point(g, wl, ph, f, t, &pt);
    if (temp)
        *temp = t;
    return pt;
}

/* Steady power of the fake's default load on the A100 at clock f. */
static double model_power_w(unsigned mhz)
{
    return model_point(A100, &steady, 0, mhz, NULL).power_w;
}

static char *read_log(void)
{
    static char buf[1 << 20];
    FILE *f = fopen(log_path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

static int log_has(const char *s)
{
    return strstr(read_log(), s) != NULL;
}

static void clear_env(void)
{
    unsetenv("FAKE_NVML_FAIL");
    unsetenv("FAKE_NVML_GPUS");
    unsetenv("FAKE_NVML_NO_ENERGY");
    unsetenv("FAKE_NVML_NO_FIELDS");
    unsetenv("FAKE_NVML_GPM");
    unsetenv("FAKE_NVML_STATE");
    unsetenv("FAKE_NVML_GPU");
    unsetenv("FAKE_NVML_WORKLOAD");
    unsetenv("FAKE_NVML_TIME_SCALE");
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    snprintf(log_path, sizeof log_path, "/tmp/fp-fake-nvml-%d.log", (int)getpid());
    unlink(log_path);
    setenv("FAKE_NVML_LOG", log_path, 1);
    B = fp_gpu_backend_nvml();
    A100 = fp_sim_gpu_find("A100");
    fp_error err = {0};
    if (fp_sim_workload_load_ini(FAKE_NVML_STEADY_INI, &steady, &err) != FP_OK) {
        print_message("%s\n", err.msg);
        return -1;
    }
    return B && A100 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    unlink(log_path);
    clear_env();
    return 0;
}

/* init + open "0", asserting success. */
static fp_gpu *open0(void)
{
    fp_error err = {0};
    assert_int_equal(B->init(&err), FP_OK);
    fp_gpu *g = NULL;
    fp_status st = B->open("0", &g, &err);
    if (st)
        fail_msg("open: %s", err.msg);
    return g;
}

static void done(fp_gpu *g)
{
    B->close(g);
    B->shutdown();
}

static fp_sample sample_ok(fp_gpu *g)
{
    fp_sample s;
    fp_error err = {0};
    fp_status st = B->sample(g, &s, &err);
    if (st)
        fail_msg("sample: %s", err.msg);
    return s;
}

/* ---- full fake ---------------------------------------------------------- */

static void test_info(void **state)
{
    (void)state;
    fp_gpu *g = open0();
    fp_gpu_info info;
    fp_error err = {0};
    unsigned n = 0;
    assert_int_equal(B->count(&n, &err), FP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(B->info(g, &info, &err), FP_OK);
    assert_string_equal(info.name, "NVIDIA A100-PCIE-40GB");
    assert_string_equal(info.short_name, "A100");
    assert_string_equal(info.uuid, "GPU-fa4e0000-0000-4000-8000-000000000000");
    assert_string_equal(info.driver, "535.104.05");
    assert_int_equal(info.index, 0);
    assert_int_equal(info.mem_clock_mhz, A100->mem_clock_mhz);
    assert_int_equal(info.n_graphics_clocks, A100->n_clocks);
    for (unsigned i = 0; i < A100->n_clocks; i++)
        assert_int_equal(info.graphics_clocks_mhz[i], A100->clocks_mhz[i]);
    assert_int_equal(info.max_clock_mhz, fp_sim_gpu_fmax(A100));
    assert_int_equal(info.default_clock_mhz, A100->default_clock_mhz);
    assert_true(info.power_limit_w == A100->power_limit_w);
    assert_true(info.power_limit_min_w == A100->power_limit_min_w);
    assert_true(info.power_limit_max_w == A100->power_limit_max_w);
    assert_true(info.default_power_limit_w == A100->power_limit_w);
    assert_int_equal(info.mig_enabled, 0);
    assert_int_equal(info.simulated, 0);
    /* The table came through the INSUFFICIENT_SIZE protocol at the top memory clock. */
    assert_true(log_has("nvmlDeviceGetSupportedGraphicsClocks(gpu=0, 1215, 512) = 0"));
    assert_true(log_has("nvmlInit_v2() = 0"));
    assert_true(log_has("nvmlDeviceGetHandleByIndex_v2(0) = 0"));
    done(g);
    assert_true(log_has("nvmlShutdown() = 0"));
}

static void test_sample_fields(void **state)
{
    (void)state;
    fp_gpu *g = open0();
    fp_sample s = sample_ok(g);
    unsigned fmax = fp_sim_gpu_fmax(A100);
    double temp;
    fp_sim_point pt = model_point(A100, &steady, 0, fmax, &temp);
    assert_true(isnan(s.v[FP_COL_T_S])); /* left to the caller */
    assert_float_equal(s.v[FP_COL_POWER_W], pt.power_w, 1e-3);
    /* The 1-s average starts at idle power when the fake starts and rises towards it. */
    assert_true(s.v[FP_COL_POWER_AVG_W] >= A100->idle_power_w - 1e-3);
    assert_true(s.v[FP_COL_POWER_AVG_W] <= pt.power_w + 1e-3);
    assert_true(s.v[FP_COL_ENERGY_MJ] >= 1e9);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == fmax);
    assert_true(s.v[FP_COL_MEM_CLOCK_MHZ] == A100->mem_clock_mhz);
    assert_true(s.v[FP_COL_GPU_UTIL_PCT] == round(pt.gpu_util_pct));
    assert_true(s.v[FP_COL_MEM_UTIL_PCT] == round(pt.mem_util_pct));
    assert_true(s.v[FP_COL_TEMP_C] == round(temp));
    assert_true(s.v[FP_COL_MEM_TEMP_C] == round(temp + 3.0 + 6.0 * pt.dram_active));
    assert_true(s.v[FP_COL_FB_USED_MIB] == steady.phases[0].fb_mib);
    assert_true(s.v[FP_COL_PSTATE] == 0);
    assert_true(s.v[FP_COL_THROTTLE_REASONS] == 0);
    assert_true(s.v[FP_COL_POWER_LIMIT_W] == A100->power_limit_w);
    assert_true(s.v[FP_COL_APP_CLOCK_MHZ] == A100->default_clock_mhz);
    /* No GPM on this (Ampere) fake: activities stay absent. */
    assert_true(isnan(s.v[FP_COL_SM_ACTIVE]));
    assert_true(isnan(s.v[FP_COL_DRAM_ACTIVE]));
    assert_true(isnan(s.v[FP_COL_GR_ACTIVE]));
    /* Instant power came from field 186, not from nvmlDeviceGetPowerUsage. */
    assert_true(log_has("nvmlDeviceGetFieldValues(gpu=0, 3, [186 185 82]) = 0"));
    assert_false(log_has("nvmlDeviceGetPowerUsage"));
    /* Memory info v2 with its version word: sizeof 40 | 2 << 24. */
    assert_true(log_has("nvmlDeviceGetMemoryInfo_v2(gpu=0, version=0x2000028) = 0"));
    assert_true(log_has("nvmlDeviceGetCurrentClocksEventReasons(gpu=0) = 0"));
    done(g);
}

static void test_energy_integrates(void **state)
{
    (void)state;
    fp_gpu *g = open0();
    struct timespec a, b;
    fp_sample s1 = sample_ok(g);
    clock_gettime(CLOCK_MONOTONIC, &a);
    usleep(200 * 1000);
    fp_sample s2 = sample_ok(g);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double dt = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
    double de_j = (s2.v[FP_COL_ENERGY_MJ] - s1.v[FP_COL_ENERGY_MJ]) / 1000.0;
    /* ~200 W over ~0.2 s: the counter advanced by power x time (10 % for scheduling). */
    assert_true(de_j > 0.9 * model_power_w(1410) * dt * 0.9);
    assert_true(de_j < 1.1 * model_power_w(1410) * (dt + 0.05));
    done(g);
}

static void test_lock_readback_reset(void **state)
{
    (void)state;
    fp_gpu *g = open0();
    fp_error err = {0};
    assert_int_equal(B->lock_clocks(g, 1005, 1005, &err), FP_OK);
    fp_sample s = sample_ok(g);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == 1005);
    assert_true(((unsigned long long)s.v[FP_COL_THROTTLE_REASONS] & 0x2) != 0);
    assert_float_equal(s.v[FP_COL_POWER_W], model_power_w(1005), 1e-3);
    assert_true(s.v[FP_COL_POWER_W] < model_power_w(1410) - 50);
    assert_true(log_has("nvmlDeviceSetGpuLockedClocks(gpu=0, 1005, 1005) = 0"));
    assert_true(log_has("nvmlDeviceGetClockInfo(gpu=0, 1) = 0 -> 1005"));
    assert_int_equal(B->reset_clocks(g, &err), FP_OK);
    s = sample_ok(g);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == 1410);
    assert_true(s.v[FP_COL_THROTTLE_REASONS] == 0);
    assert_float_equal(s.v[FP_COL_POWER_W], model_power_w(1410), 1e-3);
    assert_true(log_has("nvmlDeviceResetGpuLockedClocks(gpu=0) = 0"));
    assert_true(log_has("nvmlDeviceGetClockInfo(gpu=0, 1) = 0 -> 1410"));
    /* min above max is refused before NVML is asked. */
    assert_int_equal(B->lock_clocks(g, 1200, 1000, &err), FP_ERR_INVALID);
    assert_false(log_has("nvmlDeviceSetGpuLockedClocks(gpu=0, 1200, 1000)"));
    done(g);
}

static void test_app_clocks(void **state)
{
    (void)state;
    fp_gpu *g = open0();
    fp_error err = {0};
    assert_int_equal(B->set_app_clocks(g, 1215, 900, &err), FP_OK);
    fp_sample s = sample_ok(g);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == 900);
    assert_true(s.v[FP_COL_APP_CLOCK_MHZ] == 900);
    assert_int_equal(B->reset_app_clocks(g, &err), FP_OK);
    s = sample_ok(g);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == 1410);
    assert_true(s.v[FP_COL_APP_CLOCK_MHZ] == A100->default_clock_mhz);
    assert_int_equal(B->set_app_clocks(g, 1215, 901, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "nvmlDeviceSetApplicationsClocks: Invalid Argument ("));
    done(g);
}

static void test_power_limit(void **state)
{
    (void)state;
    fp_gpu *g = open0();
    fp_error err = {0};
    /* A limit half-way between the steady powers at 1200 and 1215 MHz: the cap must settle
     * at 1200 MHz (fp_sim_reached_clock, the simulator's truth, agrees). */
    double limit = round(0.5 * (model_power_w(1200) + model_power_w(1215)));
    assert_true(limit > model_power_w(1200) && limit < model_power_w(1215));
    assert_true(limit >= A100->power_limit_min_w);
    int capped = 0;
    assert_int_equal(fp_sim_reached_clock(A100, &steady, 0, 1410, limit, &capped), 1200);
    assert_true(capped);
    assert_int_equal(B->set_power_limit(g, limit, &err), FP_OK);
    char want[96];
    snprintf(want, sizeof want, "nvmlDeviceSetPowerManagementLimit(gpu=0, %u) = 0",
             (unsigned)(limit * 1000));
    assert_true(log_has(want));
    usleep(20 * 1000);
    fp_sample s = sample_ok(g);
    assert_true(s.v[FP_COL_POWER_LIMIT_W] == limit);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == 1200);
    assert_true(s.v[FP_COL_POWER_W] <= limit);
    assert_true(((unsigned long long)s.v[FP_COL_THROTTLE_REASONS] & 0x4) != 0);
    /* Outside the constraints: refused with the range, NVML not asked. */
    assert_int_equal(B->set_power_limit(g, 300.0, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "150..250 W"));
    assert_false(log_has("300000"));
    assert_int_equal(B->set_power_limit(g, NAN, &err), FP_ERR_INVALID);
    assert_int_equal(B->set_power_limit(g, 250.0, &err), FP_OK);
    done(g);
}

static void test_injected_errors(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *text, *hint;
        fp_status st;
    } cases[] = {
        {1, "Uninitialized", "NVML is not initialized", FP_ERR_IO},
        {2, "Invalid Argument", "invalid argument", FP_ERR_INVALID},
        {3, "Not Supported", "not supported on this GPU/driver", FP_ERR_UNSUPPORTED},
        {4, "Insufficient Permissions", "run as root", FP_ERR_IO},
        {6, "Not Found", "no such GPU", FP_ERR_INVALID},
        {9, "Driver Not Loaded", "kernel driver is not loaded", FP_ERR_UNSUPPORTED},
        {10, "Timeout", "timed out", FP_ERR_IO},
        {13, "Function Not Found", "driver is too old", FP_ERR_UNSUPPORTED},
        {15, "GPU is lost", "fell off the bus", FP_ERR_IO},
        {999, "Unknown Error", "NVML error 999", FP_ERR_IO},
    };
    static const char *fns[] = {"nvmlDeviceSetGpuLockedClocks", "nvmlDeviceResetGpuLockedClocks",
                                "nvmlDeviceSetApplicationsClocks",
                                "nvmlDeviceResetApplicationsClocks",
                                "nvmlDeviceSetPowerManagementLimit"};
    fp_gpu *g = open0();
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
            char env[128], want[256];
            snprintf(env, sizeof env, "%s:%d", fns[f], cases[c].code);
            setenv("FAKE_NVML_FAIL", env, 1);
            fp_error err = {0};
            fp_status st;
            switch (f) {
            case 0:
                st = B->lock_clocks(g, 1005, 1005, &err);
                break;
            case 1:
                st = B->reset_clocks(g, &err);
                break;
            case 2:
                st = B->set_app_clocks(g, 1215, 900, &err);
                break;
            case 3:
                st = B->reset_app_clocks(g, &err);
                break;
            default:
                st = B->set_power_limit(g, 200, &err);
                break;
            }
            snprintf(want, sizeof want, "%s: %s (", fns[f], cases[c].text);
            if (strncmp(err.msg, want, strlen(want)) != 0 || !strstr(err.msg, cases[c].hint))
                fail_msg("%s code %d: got '%s'", fns[f], cases[c].code, err.msg);
            assert_int_equal(st, cases[c].st);
            assert_int_equal(err.code, cases[c].st);
        }
    }
    unsetenv("FAKE_NVML_FAIL");
    /* The exact text of the two common ones. */
    setenv("FAKE_NVML_FAIL", "nvmlDeviceSetGpuLockedClocks:4", 1);
    fp_error err = {0};
    assert_int_equal(B->lock_clocks(g, 1005, 1005, &err), FP_ERR_IO);
    assert_string_equal(err.msg,
                        "nvmlDeviceSetGpuLockedClocks: Insufficient Permissions (run as root)");
    unsetenv("FAKE_NVML_FAIL");
    /* A lost GPU while sampling fails the sample, naming the call. */
    setenv("FAKE_NVML_FAIL", "nvmlDeviceGetClockInfo:15", 1);
    fp_sample s;
    assert_int_equal(B->sample(g, &s, &err), FP_ERR_IO);
    assert_non_null(strstr(err.msg, "nvmlDeviceGetClockInfo: GPU is lost ("));
    unsetenv("FAKE_NVML_FAIL");
    done(g);
}

static void test_init_errors(void **state)
{
    (void)state;
    fp_error err = {0};
    setenv("FAKE_NVML_FAIL", "nvmlInit_v2:9", 1);
    assert_int_equal(B->init(&err), FP_ERR_UNSUPPORTED);
    assert_string_equal(err.msg, "nvmlInit_v2: Driver Not Loaded (the NVIDIA kernel driver is "
                                 "not loaded: check nvidia-smi)");
    unsigned n;
    assert_int_equal(B->count(&n, &err), FP_ERR_INVALID); /* not initialized */
    setenv("FAKE_NVML_FAIL", "nvmlDeviceGetCount_v2:4", 1);
    assert_int_equal(B->init(&err), FP_OK);
    assert_int_equal(B->count(&n, &err), FP_ERR_IO);
    assert_string_equal(err.msg, "nvmlDeviceGetCount_v2: Insufficient Permissions (run as root)");
    B->shutdown();
}

static void test_optional_runtime_absent(void **state)
{
    (void)state;
    setenv("FAKE_NVML_NO_ENERGY", "1", 1);
    setenv("FAKE_NVML_NO_FIELDS", "1", 1);
    fp_gpu *g = open0();
    fp_sample s = sample_ok(g);
    s = sample_ok(g);
    assert_true(isnan(s.v[FP_COL_ENERGY_MJ]));
    assert_true(isnan(s.v[FP_COL_POWER_AVG_W]));
    assert_true(isnan(s.v[FP_COL_MEM_TEMP_C]));
    /* power falls back to nvmlDeviceGetPowerUsage */
    assert_float_equal(s.v[FP_COL_POWER_W], model_power_w(1410), 1e-3);
    assert_true(log_has("nvmlDeviceGetPowerUsage(gpu=0) = 0"));
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == 1410);
    double temp;
    model_point(A100, &steady, 0, 1410, &temp);
    assert_true(s.v[FP_COL_TEMP_C] == round(temp));
    /* Unsupported features are asked once per device, not on every sample. */
    const char *log = read_log(), *p = log;
    int n = 0;
    while ((p = strstr(p, "nvmlDeviceGetTotalEnergyConsumption"))) {
        n++;
        p++;
    }
    assert_int_equal(n, 1);
    done(g);
}

static void test_gpm(void **state)
{
    (void)state;
    setenv("FAKE_NVML_GPM", "1", 1);
    fp_gpu *g = open0();
    usleep(10 * 1000);
    fp_sample s = sample_ok(g);
    fp_sim_point pt = model_point(A100, &steady, 0, 1410, NULL);
    assert_float_equal(s.v[FP_COL_SM_ACTIVE], pt.sm_active, 1e-9);
    assert_float_equal(s.v[FP_COL_SM_OCCUPANCY], pt.sm_occupancy, 1e-9);
    assert_float_equal(s.v[FP_COL_TENSOR_ACTIVE], pt.tensor_active, 1e-9);
    assert_float_equal(s.v[FP_COL_DRAM_ACTIVE], pt.dram_active, 1e-9);
    assert_float_equal(s.v[FP_COL_FP64_ACTIVE], pt.fp64_active, 1e-9);
    assert_float_equal(s.v[FP_COL_FP32_ACTIVE], pt.fp32_active, 1e-9);
    assert_float_equal(s.v[FP_COL_FP16_ACTIVE], pt.fp16_active, 1e-9);
    assert_float_equal(s.v[FP_COL_GR_ACTIVE], pt.gpu_util_pct / 100.0, 1e-9);
    /* Compute work is a fixed number of cycles: locked lower, the SM stays as busy while
     * DRAM traffic per second falls with the clock. */
    fp_error err = {0};
    assert_int_equal(B->lock_clocks(g, 900, 900, &err), FP_OK);
    s = sample_ok(g);
    s = sample_ok(g);
    fp_sim_point p9 = model_point(A100, &steady, 0, 900, NULL);
    assert_float_equal(s.v[FP_COL_SM_ACTIVE], p9.sm_active, 1e-9);
    assert_float_equal(s.v[FP_COL_DRAM_ACTIVE], p9.dram_active, 1e-9);
    assert_true(p9.dram_active < pt.dram_active - 0.1);
    assert_int_equal(B->reset_clocks(g, &err), FP_OK);
    done(g);
    assert_true(log_has("nvmlGpmSampleFree() = 0"));
}

static void test_multi_gpu(void **state)
{
    (void)state;
    setenv("FAKE_NVML_GPUS", "2", 1);
    fp_error err = {0};
    assert_int_equal(B->init(&err), FP_OK);
    unsigned n = 0;
    assert_int_equal(B->count(&n, &err), FP_OK);
    assert_int_equal(n, 2);
    fp_gpu *g0 = NULL, *g1 = NULL, *bad = NULL;
    assert_int_equal(B->open("0", &g0, &err), FP_OK);
    assert_int_equal(B->open("GPU-fa4e0000-0000-4000-8000-000000000001", &g1, &err), FP_OK);
    fp_gpu_info info;
    assert_int_equal(B->info(g1, &info, &err), FP_OK);
    assert_int_equal(info.index, 1);
    assert_string_equal(info.uuid, "GPU-fa4e0000-0000-4000-8000-000000000001");
    assert_int_equal(B->open("2", &bad, &err), FP_ERR_INVALID);
    assert_null(bad);
    assert_non_null(strstr(err.msg, "2 NVIDIA GPUs"));
    assert_int_equal(B->open("GPU-nope", &bad, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "GPU-nope not found"));
    assert_int_equal(B->lock_clocks(g1, 600, 600, &err), FP_OK);
    assert_true(sample_ok(g1).v[FP_COL_SM_CLOCK_MHZ] == 600);
    assert_true(sample_ok(g0).v[FP_COL_SM_CLOCK_MHZ] == 1410);
    assert_int_equal(B->reset_clocks(g1, &err), FP_OK);
    B->close(g0);
    B->close(g1);
    B->shutdown();
}

/* FAKE_NVML_GPU picks the simulated model per GPU: names, tables and limits follow it. */
static void test_models(void **state)
{
    (void)state;
    setenv("FAKE_NVML_GPUS", "3", 1);
    setenv("FAKE_NVML_GPU", "V100,H100", 1); /* the last one repeats */
    fp_error err = {0};
    assert_int_equal(B->init(&err), FP_OK);
    static const char *const want[] = {"V100", "H100", "H100"};
    for (unsigned i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "%u", i);
        fp_gpu *g = NULL;
        assert_int_equal(B->open(id, &g, &err), FP_OK);
        const fp_sim_gpu *m = fp_sim_gpu_find(want[i]);
        fp_gpu_info info;
        assert_int_equal(B->info(g, &info, &err), FP_OK);
        assert_string_equal(info.name, m->name);
        assert_string_equal(info.short_name, want[i]);
        assert_int_equal(info.n_graphics_clocks, m->n_clocks);
        assert_int_equal(info.graphics_clocks_mhz[m->n_clocks - 1], m->clocks_mhz[m->n_clocks - 1]);
        assert_int_equal(info.mem_clock_mhz, m->mem_clock_mhz);
        assert_true(info.power_limit_max_w == m->power_limit_max_w);
        fp_sample s = sample_ok(g);
        assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == fp_sim_gpu_fmax(m));
        assert_float_equal(s.v[FP_COL_POWER_W],
                           model_point(m, &steady, 0, fp_sim_gpu_fmax(m), NULL).power_w, 1e-3);
        B->close(g);
    }
    B->shutdown();
    /* An unknown model fails init, and the log says why. */
    setenv("FAKE_NVML_GPU", "K80", 1);
    assert_int_equal(B->init(&err), FP_ERR_IO);
    assert_true(log_has("unknown model 'K80'"));
}

/* FAKE_NVML_WORKLOAD=none: an idle GPU at its idle clock and idle power. */
static void test_idle(void **state)
{
    (void)state;
    setenv("FAKE_NVML_WORKLOAD", "none", 1);
    fp_gpu *g = open0();
    fp_sample s = sample_ok(g);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == A100->idle_clock_mhz);
    assert_float_equal(s.v[FP_COL_POWER_W], A100->idle_power_w, 1e-3);
    assert_true(((unsigned long long)s.v[FP_COL_THROTTLE_REASONS] & 0x1) != 0);
    assert_true(s.v[FP_COL_GPU_UTIL_PCT] == 0);
    done(g);
}

/* FAKE_NVML_WORKLOAD=llama at FAKE_NVML_TIME_SCALE=100: the phases of the simulated workload
 * show through NVML at the times the model gives (load idle, then prefill, then decode). */
static void test_workload_phases(void **state)
{
    (void)state;
    const fp_sim_workload *wl = fp_sim_workload_find("llama");
    assert_non_null(wl);
    double end[FP_SIM_MAX_PHASES], t = 0; /* simulated end of each phase at f_max */
    unsigned decode = wl->n_phases;
    for (unsigned i = 0; i < wl->n_phases; i++) {
        t += model_point(A100, wl, i, 1410, NULL).time_s;
        end[i] = t;
        if (strcmp(wl->phases[i].name, "decode") == 0)
            decode = i;
    }
    assert_true(decode < wl->n_phases && decode > 0);
    assert_true(wl->phases[0].idle);
    const double scale = 100.0;
    setenv("FAKE_NVML_WORKLOAD", "llama", 1);
    setenv("FAKE_NVML_TIME_SCALE", "100", 1);
    setenv("FAKE_NVML_GPM", "1", 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fp_gpu *g = open0();
    fp_sample s = sample_ok(g);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (el * scale < 0.8 * end[0]) { /* still loading the model: idle clock, idle power */
        assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == A100->idle_clock_mhz);
        assert_true(s.v[FP_COL_POWER_W] < A100->idle_power_w + 1.0);
    }
    /* Sleep to the middle of decode, sample twice (GPM needs an interval). */
    double mid = 0.5 * (end[decode - 1] + end[decode]) / scale;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
        if (el >= mid)
            break;
        usleep((useconds_t)((mid - el) * 1e6) + 1000);
    }
    sample_ok(g);
    s = sample_ok(g);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    assert_true(el * scale < end[decode]); /* the machine was not too slow for the check */
    fp_sim_point pt = model_point(A100, wl, decode, 1410, NULL);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == 1410);
    assert_float_equal(s.v[FP_COL_SM_ACTIVE], pt.sm_active, 1e-9);
    assert_float_equal(s.v[FP_COL_DRAM_ACTIVE], pt.dram_active, 1e-9);
    assert_true(s.v[FP_COL_GPU_UTIL_PCT] == round(pt.gpu_util_pct));
    assert_true(s.v[FP_COL_FB_USED_MIB] == round(wl->phases[decode].fb_mib));
    done(g);
}

static void test_state_across_sessions(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "/tmp/fp-fake-nvml-state-%d", (int)getpid());
    unlink(path);
    setenv("FAKE_NVML_STATE", path, 1);
    fp_gpu *g = open0();
    fp_error err = {0};
    assert_int_equal(B->lock_clocks(g, 1200, 1200, &err), FP_OK);
    done(g);
    /* A later session (as a later process would) sees the lock and resets it. */
    g = open0();
    assert_true(sample_ok(g).v[FP_COL_SM_CLOCK_MHZ] == 1200);
    assert_int_equal(B->reset_clocks(g, &err), FP_OK);
    done(g);
    g = open0();
    assert_true(sample_ok(g).v[FP_COL_SM_CLOCK_MHZ] == 1410);
    done(g);
    unlink(path);
}

static void test_refcount(void **state)
{
    (void)state;
    fp_error err = {0};
    assert_int_equal(B->init(&err), FP_OK);
    assert_int_equal(B->init(&err), FP_OK);
    B->shutdown();
    unsigned n = 0;
    assert_int_equal(B->count(&n, &err), FP_OK); /* still one user */
    B->shutdown();
    assert_int_equal(B->count(&n, &err), FP_ERR_INVALID);
}

/* ---- minimal: only required symbols, unversioned ------------------------- */

static void test_minimal(void **state)
{
    (void)state;
    fp_gpu *g = open0();
    assert_true(log_has("nvmlInit() = 0"));
    assert_false(log_has("nvmlInit_v2"));
    assert_true(log_has("nvmlDeviceGetHandleByIndex(0) = 0"));
    fp_gpu_info info;
    fp_error err = {0};
    assert_int_equal(B->info(g, &info, &err), FP_OK);
    assert_string_equal(info.name, "NVIDIA A100-PCIE-40GB");
    assert_string_equal(info.uuid, "");
    /* What this NVML cannot report comes from the board table (gpu_specs.h), not zeros. */
    assert_int_equal(info.n_graphics_clocks, 81);
    assert_int_equal(info.graphics_clocks_mhz[80], 210);
    assert_int_equal(info.mem_clock_mhz, 1215);
    assert_int_equal(info.max_clock_mhz, 1410);
    assert_int_equal(info.default_clock_mhz, 1410);
    assert_true(info.power_limit_w == 250.0);
    assert_true(isnan(info.power_limit_min_w));
    assert_int_equal(info.mig_enabled, -1);
    fp_sample s = sample_ok(g);
    assert_float_equal(s.v[FP_COL_POWER_W], model_power_w(1410), 1e-3);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == 1410);
    assert_true(s.v[FP_COL_MEM_CLOCK_MHZ] == 1215);
    static const fp_col absent[] = {
        FP_COL_POWER_AVG_W, FP_COL_ENERGY_MJ,        FP_COL_GPU_UTIL_PCT,  FP_COL_MEM_UTIL_PCT,
        FP_COL_SM_ACTIVE,   FP_COL_TEMP_C,           FP_COL_MEM_TEMP_C,    FP_COL_FB_USED_MIB,
        FP_COL_PSTATE,      FP_COL_THROTTLE_REASONS, FP_COL_POWER_LIMIT_W, FP_COL_APP_CLOCK_MHZ,
        FP_COL_DRAM_ACTIVE,
    };
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        if (!isnan(s.v[absent[i]]))
            fail_msg("column %s should be NAN, got %g", fp_col_name(absent[i]), s.v[absent[i]]);
    assert_int_equal(B->lock_clocks(g, 1005, 1005, &err), FP_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "nvmlDeviceSetGpuLockedClocks"));
    assert_int_equal(B->set_power_limit(g, 200, &err), FP_ERR_UNSUPPORTED);
    fp_gpu *bad = NULL;
    assert_int_equal(B->open("GPU-fa4e0000-0000-4000-8000-000000000000", &bad, &err),
                     FP_ERR_UNSUPPORTED);
    done(g);
}

/* ---- broken: a required symbol missing ------------------------------------ */

static void test_broken(void **state)
{
    (void)state;
    fp_error err = {0};
    assert_int_equal(B->init(&err), FP_ERR_UNSUPPORTED);
    assert_int_equal(err.code, FP_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "libnvidia-ml.so.1: required symbol nvmlDeviceGetClockInfo"));
    assert_false(log_has("nvmlInit")); /* refused before initializing anything */
    unsigned n;
    assert_int_equal(B->count(&n, &err), FP_ERR_INVALID);
}

/* ---- absent: no library at all ------------------------------------------ */

static void test_absent(void **state)
{
    (void)state;
    void *h = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        h = dlopen("libnvidia-ml.so", RTLD_NOW | RTLD_LOCAL);
    if (h) {
        dlclose(h);
        print_message("skipped: a real libnvidia-ml is installed on this machine\n");
        skip();
    }
    fp_error err = {0};
    assert_int_equal(B->init(&err), FP_ERR_UNSUPPORTED);
    assert_string_equal(err.msg, "libnvidia-ml.so.1 not found: is the NVIDIA driver installed?");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "fake";
    if (strcmp(mode, "fake") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_info, setup, teardown),
            cmocka_unit_test_setup_teardown(test_sample_fields, setup, teardown),
            cmocka_unit_test_setup_teardown(test_energy_integrates, setup, teardown),
            cmocka_unit_test_setup_teardown(test_lock_readback_reset, setup, teardown),
            cmocka_unit_test_setup_teardown(test_app_clocks, setup, teardown),
            cmocka_unit_test_setup_teardown(test_power_limit, setup, teardown),
            cmocka_unit_test_setup_teardown(test_injected_errors, setup, teardown),
            cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
            cmocka_unit_test_setup_teardown(test_optional_runtime_absent, setup, teardown),
            cmocka_unit_test_setup_teardown(test_gpm, setup, teardown),
            cmocka_unit_test_setup_teardown(test_multi_gpu, setup, teardown),
            cmocka_unit_test_setup_teardown(test_state_across_sessions, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refcount, setup, teardown),
            cmocka_unit_test_setup_teardown(test_models, setup, teardown),
            cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
            cmocka_unit_test_setup_teardown(test_workload_phases, setup, teardown),
        };
        return cmocka_run_group_tests_name("nvml_backend.fake", tests, NULL, NULL);
    }
    if (strcmp(mode, "minimal") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_minimal, setup, teardown),
        };
        return cmocka_run_group_tests_name("nvml_backend.minimal", tests, NULL, NULL);
    }
    if (strcmp(mode, "broken") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_broken, setup, teardown),
        };
        return cmocka_run_group_tests_name("nvml_backend.broken", tests, NULL, NULL);
    }
    if (strcmp(mode, "absent") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
        };
        return cmocka_run_group_tests_name("nvml_backend.absent", tests, NULL, NULL);
    }
    fprintf(stderr, "usage: test_nvml_backend fake|minimal|broken|absent\n");
    return 2;
}
