/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Per-run metrics and the window detector on synthetic series with known answers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "freqpilot/metrics.h"
#include "freqpilot/run.h"
#include "testutil.h"

#define N 100
#define DT 0.1
#define IDLE_W 50.0
#define ACTIVE_W 250.0

/* 100 samples at 0.1 s: idle 0..19, active 20..79, idle 80..99; counter consistent with the
 * trapezoid rule (scaled by counter_scale to fake a disagreement). */
static void make_series(fp_sample *s, int with_util, double counter_scale)
{
    double e = 5e6;
    for (int i = 0; i < N; i++) {
        int active = i >= 20 && i < 80;
        fp_sample_clear(&s[i]);
        s[i].v[FP_COL_T_S] = i * DT;
        s[i].v[FP_COL_POWER_W] = active ? ACTIVE_W : IDLE_W;
        if (i > 0)
            e += counter_scale * 1000.0 * DT * 0.5 *
                 (s[i].v[FP_COL_POWER_W] + s[i - 1].v[FP_COL_POWER_W]);
        s[i].v[FP_COL_ENERGY_MJ] = e;
        if (with_util) {
            s[i].v[FP_COL_GPU_UTIL_PCT] = active ? 80 : 0;
            s[i].v[FP_COL_SM_ACTIVE] = active ? 0.6 : 0.0;
        }
        s[i].v[FP_COL_SM_CLOCK_MHZ] = 1380;
        s[i].v[FP_COL_TEMP_C] = active ? 60 : 40;
    }
}

static void run_metrics(const fp_sample *s, size_t n, const fp_metrics_options *o, fp_run *run,
                        fp_window_info *w)
{
    fp_error err;
    fp_run_init(run);
    assert_int_equal(fp_run_metrics_samples(s, n, 0, o, run, w, &err), FP_OK);
}

static void test_detect_by_activity(void **state)
{
    fp_sample s[N];
    fp_run run;
    fp_window_info w;
    fp_metrics_options o;
    (void)state;
    make_series(s, 1, 1.0);
    fp_metrics_options_init(&o);
    run_metrics(s, N, &o, &run, &w);
    assert_int_equal(w.method, FP_WINDOW_DETECTED);
    assert_true(w.activity_metric);
    assert_true(run.flags & FP_FLAG_WINDOW_DETECTED);
    assert_false(run.flags & FP_FLAG_COUNTER_MISMATCH);
    assert_int_equal(run.samples, 60);
    assert_float_equal(run.time_s, 5.9, 1e-9);
    assert_float_equal(run.energy_integral_j, ACTIVE_W * 5.9, 1e-6);
    assert_float_equal(run.energy_counter_j, ACTIVE_W * 5.9, 1e-6);
    assert_float_equal(run.energy_j, ACTIVE_W * 5.9, 1e-6);
    assert_float_equal(run.power_w, ACTIVE_W, 1e-6);
    assert_float_equal(run.gpu_util_pct, 80, 1e-9);
    assert_float_equal(run.temp_c, 60, 1e-9);
    assert_true(isnan(run.fp_active));
    assert_true(isnan(run.throttled_frac));
}

static void test_detect_by_power(void **state)
{
    fp_sample s[N];
    fp_run run;
    fp_window_info w;
    (void)state;
    make_series(s, 0, 1.0);
    run_metrics(s, N, NULL, &run, &w);
    assert_false(w.activity_metric);
    /* idle = 10 % quantile (bin centre of 0.25 W bins), threshold = idle + 15 % of the range */
    assert_float_equal(w.idle_power_w, IDLE_W + 0.125, 1e-9);
    assert_float_equal(w.threshold_w, w.idle_power_w + 0.15 * (ACTIVE_W - w.idle_power_w), 1e-9);
    assert_float_equal(w.start_s, 2.0, 1e-9);
    assert_float_equal(w.end_s, 7.9, 1e-9);
    assert_int_equal(run.samples, 60);
}

static void test_power_margin_floor(void **state)
{
    /* A 6 W bump is below the 10 W floor: no activity, the whole file. */
    fp_sample s[N];
    fp_run run;
    fp_window_info w;
    (void)state;
    make_series(s, 0, 1.0);
    for (int i = 0; i < N; i++)
        if (s[i].v[FP_COL_POWER_W] == ACTIVE_W)
            s[i].v[FP_COL_POWER_W] = IDLE_W + 6;
    for (int i = 0; i < N; i++)
        s[i].v[FP_COL_ENERGY_MJ] = NAN;
    run_metrics(s, N, NULL, &run, &w);
    assert_int_equal(w.method, FP_WINDOW_WHOLE);
    assert_true(run.flags & FP_FLAG_NO_ACTIVITY);
    assert_int_equal(run.samples, N);
    assert_float_equal(run.time_s, (N - 1) * DT, 1e-9);
    assert_true(isnan(run.energy_counter_j));
    assert_float_equal(run.energy_j, run.energy_integral_j, 0);
}

static void test_counter_mismatch(void **state)
{
    fp_sample s[N];
    fp_run run;
    fp_metrics_options o;
    (void)state;
    make_series(s, 1, 1.2);
    fp_metrics_options_init(&o);
    run_metrics(s, N, &o, &run, NULL);
    assert_true(run.flags & FP_FLAG_COUNTER_MISMATCH);
    assert_float_equal(run.energy_j, 1.2 * ACTIVE_W * 5.9, 1e-6); /* the counter wins */
    make_series(s, 1, 1.04);                                      /* within the 5 % default */
    run_metrics(s, N, &o, &run, NULL);
    assert_false(run.flags & FP_FLAG_COUNTER_MISMATCH);
    o.counter_tolerance = 0.03;
    run_metrics(s, N, &o, &run, NULL);
    assert_true(run.flags & FP_FLAG_COUNTER_MISMATCH);
}

static void test_timing_window(void **state)
{
    fp_sample s[N];
    fp_run run;
    fp_window_info w;
    fp_metrics_options o;
    (void)state;
    make_series(s, 1, 1.0);
    fp_metrics_options_init(&o);
    o.duration_s = 3.0;
    run_metrics(s, N, &o, &run, &w);
    assert_int_equal(w.method, FP_WINDOW_TIMING);
    assert_true(run.flags & FP_FLAG_WINDOW_FROM_TIMING);
    assert_false(run.flags & FP_FLAG_WINDOW_DETECTED);
    assert_float_equal(w.end_s, 7.9, 1e-9);
    assert_float_equal(w.start_s, 4.9, 1e-9);
    assert_float_equal(run.time_s, 3.0, 0);
    assert_int_equal(run.samples, 31);
    assert_float_equal(run.energy_j, ACTIVE_W * 3.0, 1e-6);
    /* Longer than the file: clipped, flagged, power over what was seen. */
    o.duration_s = 100.0;
    run_metrics(s, N, &o, &run, &w);
    assert_true(run.flags & FP_FLAG_WINDOW_MISMATCH);
    assert_float_equal(w.start_s, 0.0, 0);
    assert_float_equal(run.time_s, 100.0, 0);
    assert_float_equal(run.power_w, run.energy_j / 7.9, 1e-9);
}

static void test_marked_window(void **state)
{
    fp_sample s[N];
    fp_run run;
    fp_window_info w;
    fp_metrics_options o;
    (void)state;
    make_series(s, 1, 1.0);
    fp_metrics_options_init(&o);
    o.window_start_s = 3.0;
    o.window_end_s = 5.0;
    run_metrics(s, N, &o, &run, &w);
    assert_int_equal(w.method, FP_WINDOW_MARKED);
    assert_int_equal(run.flags & (FP_FLAG_WINDOW_DETECTED | FP_FLAG_WINDOW_FROM_TIMING), 0);
    assert_float_equal(run.time_s, 2.0, 1e-12);
    assert_int_equal(run.samples, 21);
    assert_float_equal(run.energy_j, 500.0, 1e-6);
    assert_float_equal(run.power_w, 250.0, 1e-6);
}

static void test_clock_and_throttle(void **state)
{
    fp_sample s[N];
    fp_run run;
    fp_metrics_options o;
    (void)state;
    make_series(s, 1, 1.0);
    fp_metrics_options_init(&o);
    o.requested_mhz = 1380;
    run_metrics(s, N, &o, &run, NULL);
    assert_false(run.flags & FP_FLAG_CLOCK_NOT_HELD);
    o.requested_mhz = 1500; /* 120 MHz above what was reached */
    run_metrics(s, N, &o, &run, NULL);
    assert_true(run.flags & FP_FLAG_CLOCK_NOT_HELD);
    /* No SM clock: the application clock (SACLK) is the evidence. */
    for (int i = 0; i < N; i++) {
        s[i].v[FP_COL_SM_CLOCK_MHZ] = NAN;
        s[i].v[FP_COL_APP_CLOCK_MHZ] = 1230;
    }
    o.requested_mhz = 1380;
    run_metrics(s, N, &o, &run, NULL);
    assert_float_equal(run.sm_clock_mhz, 1230, 1e-9);
    assert_true(run.flags & FP_FLAG_CLOCK_NOT_HELD);

    /* Throttle reasons: 6 of 60 window samples with SW power cap (10 %) -> throttled;
     * GPU-idle (0x1) and app-clock (0x2) bits are not throttling. */
    make_series(s, 1, 1.0);
    for (int i = 20; i < 80; i++)
        s[i].v[FP_COL_THROTTLE_REASONS] = (i < 26) ? 0x4 : 0x3;
    run_metrics(s, N, NULL, &run, NULL);
    assert_float_equal(run.throttled_frac, 0.1, 1e-12);
    assert_true(run.flags & FP_FLAG_THROTTLED);
    for (int i = 20; i < 80; i++)
        s[i].v[FP_COL_THROTTLE_REASONS] = (i < 22) ? 0x40 : 0x1; /* 2 of 60 = 3.3 % */
    run_metrics(s, N, NULL, &run, NULL);
    assert_false(run.flags & FP_FLAG_THROTTLED);
}

static void test_fp_active(void **state)
{
    fp_sample s[N];
    fp_run run;
    (void)state;
    make_series(s, 1, 1.0);
    for (int i = 0; i < N; i++) {
        s[i].v[FP_COL_FP32_ACTIVE] = 0.4;
        s[i].v[FP_COL_FP64_ACTIVE] = 0.1;
        s[i].v[FP_COL_FP16_ACTIVE] = 0.2;
        s[i].v[FP_COL_DRAM_ACTIVE] = 0.3;
        s[i].v[FP_COL_TENSOR_ACTIVE] = 0.05;
    }
    run_metrics(s, N, NULL, &run, NULL);
    assert_float_equal(run.fp_active, 0.4 / 2 + 0.1 + 0.2, 1e-12);
    assert_float_equal(run.dram_active, 0.3, 1e-12);
    assert_float_equal(run.tensor_active, 0.05, 1e-12);
    assert_float_equal(run.sm_active, 0.6, 1e-12);
    for (int i = 0; i < N; i++)
        s[i].v[FP_COL_FP16_ACTIVE] = NAN;
    run_metrics(s, N, NULL, &run, NULL);
    assert_float_equal(run.fp_active, 0.3, 1e-12);
}

static void test_nan_activity_rows(void **state)
{
    /* H100 MIG files: every other row has N/A activity; the window still spans the
     * active stretch and N/A rows inside it count as samples. */
    fp_sample s[N];
    fp_run run;
    fp_window_info w;
    (void)state;
    make_series(s, 1, 1.0);
    for (int i = 0; i < N; i += 2) {
        s[i].v[FP_COL_GPU_UTIL_PCT] = NAN;
        s[i].v[FP_COL_SM_ACTIVE] = NAN;
    }
    run_metrics(s, N, NULL, &run, &w);
    assert_float_equal(w.start_s, 2.1, 1e-9);
    assert_float_equal(w.end_s, 7.9, 1e-9);
    assert_int_equal(run.samples, 59);
}

static void test_empty_and_flags(void **state)
{
    fp_run run;
    fp_error err;
    char buf[256];
    (void)state;
    fp_run_init(&run);
    assert_int_equal(fp_run_metrics_samples(NULL, 0, 0, NULL, &run, NULL, &err), FP_ERR_PARSE);
    assert_true(isnan(run.time_s) && isnan(run.energy_j) && run.run_index == -1 &&
                run.repetition == -1);
    assert_string_equal(fp_flag_name(FP_FLAG_CLOCK_NOT_HELD), "clock_not_held");
    assert_string_equal(fp_flag_name(FP_FLAG_GPU_MISMATCH), "gpu_mismatch");
    assert_string_equal(fp_flag_name(FP_FLAG_COLD_START_DROPPED), "cold_start_dropped");
    assert_null(fp_flag_name(3));
    assert_int_equal(fp_flags_format(0, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    int n = fp_flags_format(FP_FLAG_CLOCK_NOT_HELD | FP_FLAG_THROTTLED | FP_FLAG_HIGH_CV, buf,
                            sizeof buf);
    assert_string_equal(buf, "clock_not_held;throttled;high_cv");
    assert_int_equal(n, (int)strlen(buf));
    /* Too small: truncated, NUL-terminated, full length returned (snprintf style). */
    assert_int_equal(fp_flags_format(FP_FLAG_CLOCK_NOT_HELD | FP_FLAG_THROTTLED, buf, 8), n - 8);
    assert_int_equal(strlen(buf), 7);
    /* All names distinct. */
    for (int i = 0; i < FP_FLAG_COUNT_; i++)
        for (int j = i + 1; j < FP_FLAG_COUNT_; j++)
            assert_string_not_equal(fp_flag_name(1u << i), fp_flag_name(1u << j));
}

/*
 * Energy up to the exact window edges (docs/method-windows.md §2). Samples every H s from 0 to
 * 10 s of p(t) = P0 + SLOPE t, with the counter E(t) = P0 t + SLOPE t^2 / 2 (J, exact integral)
 * sampled at the same instants. Closed-form answers: integral over [a, b] of p = P0 (b - a) +
 * SLOPE (b^2 - a^2) / 2. The trapezoid of a linear function and its linear interpolation at
 * the edges are exact; the counter interpolated linearly between samples errs by at most
 * SLOPE H^2 / 8 at each edge (the interpolation error of a quadratic).
 */
#define EH 0.2
#define EN 51

static void make_linear(fp_sample *s, double p0, double slope)
{
    for (int i = 0; i < EN; i++) {
        double t = i * EH;
        fp_sample_clear(&s[i]);
        s[i].v[FP_COL_T_S] = t;
        s[i].v[FP_COL_POWER_W] = p0 + slope * t;
        s[i].v[FP_COL_ENERGY_MJ] = 1e6 + 1000.0 * (p0 * t + 0.5 * slope * t * t);
        s[i].v[FP_COL_GPU_UTIL_PCT] = 90;
    }
}

static double exact_j(double p0, double slope, double a, double b)
{
    return p0 * (b - a) + 0.5 * slope * (b * b - a * a);
}

static void marked(const fp_sample *s, size_t n, double a, double b, fp_run *run)
{
    fp_metrics_options o;
    fp_metrics_options_init(&o);
    o.window_start_s = a;
    o.window_end_s = b;
    run_metrics(s, n, &o, run, NULL);
}

static void test_window_edges_constant(void **state)
{
    fp_sample s[EN];
    fp_run run;
    (void)state;
    make_linear(s, 100.0, 0.0);
    /* Starts 0.05 s after a sample, ends 0.05 s before one: 290 J, where the samples inside
     * (1.2 .. 3.8 s) alone cover only 260 J. */
    marked(s, EN, 1.05, 3.95, &run);
    assert_float_equal(run.time_s, 2.9, 1e-12);
    assert_float_equal(run.energy_integral_j, 290.0, 1e-9);
    assert_float_equal(run.energy_counter_j, 290.0, 1e-6);
    assert_float_equal(run.energy_j, 290.0, 1e-6);
    assert_float_equal(run.power_w, 100.0, 1e-6);
    assert_false(run.flags & FP_FLAG_COUNTER_MISMATCH);
    /* Missing power and counter right after the window: the next valid values are used. */
    s[20].v[FP_COL_POWER_W] = NAN; /* t = 4.0 */
    s[20].v[FP_COL_ENERGY_MJ] = NAN;
    marked(s, EN, 1.05, 3.95, &run);
    assert_float_equal(run.energy_integral_j, 290.0, 1e-9);
    assert_float_equal(run.energy_counter_j, 290.0, 1e-6);
    /* A window between two samples (no sample inside): still 100 W x 0.1 s. */
    make_linear(s, 100.0, 0.0);
    marked(s, EN, 1.05, 1.15, &run);
    assert_int_equal(run.samples, 0);
    assert_float_equal(run.energy_integral_j, 10.0, 1e-9);
    assert_float_equal(run.energy_counter_j, 10.0, 1e-6);
    /* Edges on samples: nothing added (the old result). */
    marked(s, EN, 1.0, 4.0, &run);
    assert_float_equal(run.energy_j, 300.0, 1e-6);
}

static void test_window_edges_linear(void **state)
{
    fp_sample s[EN];
    fp_run run;
    const double p0 = 50.0, slope = 20.0;
    const double bound = 2 * slope * EH * EH / 8.0; /* both edges */
    (void)state;
    make_linear(s, p0, slope);
    static const double w[][2] = {{1.05, 3.95}, {0.01, 9.99}, {2.13, 2.17}, {5.0, 5.31}};
    for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
        double a = w[k][0], b = w[k][1], want = exact_j(p0, slope, a, b);
        marked(s, EN, a, b, &run);
        if (fabs(run.energy_integral_j - want) > 1e-9 ||
            fabs(run.energy_counter_j - want) > bound + 1e-6)
            fail_msg("window %g..%g: integral %.9f counter %.9f, exact %.9f", a, b,
                     run.energy_integral_j, run.energy_counter_j, want);
    }
    /* A timing window (duration known, ending at the last active sample) starting between
     * samples: active from 2.0 s to 8.0 s, 2.9 s of inference. */
    for (int i = 0; i < EN; i++)
        s[i].v[FP_COL_GPU_UTIL_PCT] = (i * EH >= 2.0 - 1e-9 && i * EH <= 8.0 + 1e-9) ? 90 : 0;
    fp_metrics_options o;
    fp_metrics_options_init(&o);
    o.duration_s = 2.9;
    run_metrics(s, EN, &o, &run, NULL);
    assert_float_equal(run.energy_integral_j, exact_j(p0, slope, 5.1, 8.0), 1e-9);
    assert_true(fabs(run.energy_counter_j - exact_j(p0, slope, 5.1, 8.0)) <= bound / 2 + 1e-6);
}

TU_MAIN(cmocka_unit_test(test_detect_by_activity), cmocka_unit_test(test_detect_by_power),
        cmocka_unit_test(test_power_margin_floor), cmocka_unit_test(test_counter_mismatch),
        cmocka_unit_test(test_timing_window), cmocka_unit_test(test_marked_window),
        cmocka_unit_test(test_clock_and_throttle), cmocka_unit_test(test_fp_active),
        cmocka_unit_test(test_nan_activity_rows), cmocka_unit_test(test_empty_and_flags),
        cmocka_unit_test(test_window_edges_constant), cmocka_unit_test(test_window_edges_linear))
