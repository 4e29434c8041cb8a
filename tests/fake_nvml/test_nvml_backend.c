/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The NVML backend through the real dlopen path against the fake
 * libnvidia-ml.so.1 (tests/fake_nvml). argv[1] names the library variant that
 * LD_LIBRARY_PATH points at: fake, minimal, broken or absent.
 *
 * Expected values come from the fake's documented model (A100-PCIE-40GB:
 * clocks 1410..210 step 15, power = 36 + 214 (f/1410)^3 W, limit 150..250 W),
 * computed here independently of both the fake and the backend.
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
#include "testutil.h"

static const fp_gpu_backend *B;
static char log_path[256];

static double model_power_w(unsigned mhz)
{
    double x = mhz / 1410.0;
    return 36.0 + 214.0 * x * x * x;
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
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    snprintf(log_path, sizeof log_path, "/tmp/fp-fake-nvml-%d.log", (int)getpid());
    unlink(log_path);
    setenv("FAKE_NVML_LOG", log_path, 1);
    B = fp_gpu_backend_nvml();
    return B ? 0 : -1;
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
    assert_int_equal(info.mem_clock_mhz, 1215);
    assert_int_equal(info.n_graphics_clocks, 81);
    for (unsigned i = 0; i < 81; i++)
        assert_int_equal(info.graphics_clocks_mhz[i], 1410 - 15 * i);
    assert_int_equal(info.max_clock_mhz, 1410);
    assert_int_equal(info.default_clock_mhz, 765);
    assert_true(info.power_limit_w == 250.0);
    assert_true(info.power_limit_min_w == 150.0);
    assert_true(info.power_limit_max_w == 250.0);
    assert_true(info.default_power_limit_w == 250.0);
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
    assert_true(isnan(s.v[FP_COL_T_S])); /* left to the caller */
    assert_float_equal(s.v[FP_COL_POWER_W], model_power_w(1410), 1e-3);
    assert_float_equal(s.v[FP_COL_POWER_AVG_W], model_power_w(1410), 1e-3);
    assert_true(s.v[FP_COL_ENERGY_MJ] >= 1e9);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == 1410);
    assert_true(s.v[FP_COL_MEM_CLOCK_MHZ] == 1215);
    assert_true(s.v[FP_COL_GPU_UTIL_PCT] == 100);
    assert_true(s.v[FP_COL_MEM_UTIL_PCT] == 40);
    assert_true(s.v[FP_COL_TEMP_C] == 30 + 25);
    assert_true(s.v[FP_COL_MEM_TEMP_C] == 45);
    assert_true(s.v[FP_COL_FB_USED_MIB] == 1024);
    assert_true(s.v[FP_COL_PSTATE] == 0);
    assert_true(s.v[FP_COL_THROTTLE_REASONS] == 0);
    assert_true(s.v[FP_COL_POWER_LIMIT_W] == 250);
    assert_true(s.v[FP_COL_APP_CLOCK_MHZ] == 765);
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
    /* 250 W over ~0.2 s: the counter advanced by power x time (10 % for scheduling). */
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
    assert_true(s.v[FP_COL_APP_CLOCK_MHZ] == 765);
    assert_int_equal(B->set_app_clocks(g, 1215, 901, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "nvmlDeviceSetApplicationsClocks: Invalid Argument ("));
    done(g);
}

static void test_power_limit(void **state)
{
    (void)state;
    fp_gpu *g = open0();
    fp_error err = {0};
    assert_int_equal(B->set_power_limit(g, 200.0, &err), FP_OK);
    assert_true(log_has("nvmlDeviceSetPowerManagementLimit(gpu=0, 200000) = 0"));
    fp_sample s = sample_ok(g);
    assert_true(s.v[FP_COL_POWER_LIMIT_W] == 200);
    /* The highest clock of the table whose model power fits 200 W. */
    unsigned expect = 1410;
    while (model_power_w(expect) > 200.0)
        expect -= 15;
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == expect);
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
    assert_true(s.v[FP_COL_TEMP_C] == 55);
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
    assert_float_equal(s.v[FP_COL_SM_ACTIVE], 0.80, 1e-9);
    assert_float_equal(s.v[FP_COL_SM_OCCUPANCY], 0.40, 1e-9);
    assert_float_equal(s.v[FP_COL_TENSOR_ACTIVE], 0.30, 1e-9);
    assert_float_equal(s.v[FP_COL_DRAM_ACTIVE], 0.55, 1e-9);
    assert_float_equal(s.v[FP_COL_FP64_ACTIVE], 0.01, 1e-9);
    assert_float_equal(s.v[FP_COL_FP32_ACTIVE], 0.20, 1e-9);
    assert_float_equal(s.v[FP_COL_FP16_ACTIVE], 0.10, 1e-9);
    assert_float_equal(s.v[FP_COL_GR_ACTIVE], 0.95, 1e-9);
    s = sample_ok(g);
    assert_float_equal(s.v[FP_COL_SM_ACTIVE], 0.80, 1e-9);
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
    assert_int_equal(info.n_graphics_clocks, 0);
    assert_int_equal(info.mem_clock_mhz, 1215);
    assert_int_equal(info.max_clock_mhz, 0);
    assert_true(isnan(info.power_limit_w));
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
