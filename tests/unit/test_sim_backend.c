/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "freqpilot/sim.h"
#include "testutil.h"

typedef struct series {
    fp_sample s[4096];
    unsigned n;
} series;

static int collect(void *user, const fp_sample *s)
{
    series *a = user;
    if (a->n < 4096)
        a->s[a->n++] = *s;
    return 0;
}

static series *run(const char *gpu, const char *wl, double clock, uint64_t seed,
                   fp_sim_run_result *r)
{
    series *a = calloc(1, sizeof *a);
    fp_sim_run_opts o;
    fp_sim_run_opts_default(&o);
    o.clock_mhz = clock;
    o.knobs.seed = seed;
    fp_error err = {0};
    assert_int_equal(
        fp_sim_run(fp_sim_gpu_find(gpu), fp_sim_workload_find(wl), &o, collect, a, r, &err), FP_OK);
    return a;
}

static void test_backend_open_info(void **state)
{
    (void)state;
    const fp_gpu_backend *b = fp_gpu_backend_by_name("sim");
    assert_true(b == fp_gpu_backend_sim());
    assert_null(fp_gpu_backend_by_name("cuda"));
    fp_error err = {0};
    assert_int_equal(b->init(&err), FP_OK);
    unsigned n = 0;
    assert_int_equal(b->count(&n, &err), FP_OK);
    assert_int_equal(n, 1);
    fp_gpu *gpu = NULL;
    fp_sim_backend_configure(NULL); /* the defaults: A100 */
    assert_int_equal(b->open("0", &gpu, &err), FP_OK);
    fp_gpu_info info;
    assert_int_equal(b->info(gpu, &info, &err), FP_OK);
    assert_string_equal(info.name, "NVIDIA A100-PCIE-40GB (simulated)");
    assert_string_equal(info.short_name, "A100");
    assert_int_equal(info.simulated, 1);
    assert_int_equal(strncmp(info.uuid, "GPU-SIM-", 8), 0);
    assert_int_equal(info.n_graphics_clocks, 81);
    b->close(gpu);
    assert_int_equal(b->open("sim:H100", &gpu, &err), FP_OK);
    assert_int_equal(b->info(gpu, &info, &err), FP_OK);
    assert_string_equal(info.name, "NVIDIA H100 NVL (simulated)");
    fp_gpu *again = NULL;
    assert_int_equal(b->open(info.uuid, &again, &err), FP_OK);
    b->close(again);
    b->close(gpu);
    fp_sim_backend_options so;
    fp_sim_backend_options_init(&so);
    so.gpu = "V100";
    fp_sim_backend_configure(&so);
    assert_int_equal(b->open("0", &gpu, &err), FP_OK);
    assert_int_equal(b->info(gpu, &info, &err), FP_OK);
    assert_string_equal(info.short_name, "V100");
    b->close(gpu);
    so.gpu = "K80";
    fp_sim_backend_configure(&so);
    assert_int_equal(b->open("0", &gpu, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "K80"));
    fp_sim_backend_configure(NULL);
    assert_int_equal(b->open("K80", &gpu, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "K80"));
}

static void test_backend_clocks_and_sample(void **state)
{
    (void)state;
    const fp_gpu_backend *b = fp_gpu_backend_sim();
    fp_error err = {0};
    fp_gpu *gpu = NULL;
    fp_sim_backend_options so;
    fp_sim_backend_options_init(&so);
    so.workload = "llama";
    fp_sim_backend_configure(&so);
    assert_int_equal(b->open("A100", &gpu, &err), FP_OK);
    fp_sim_backend_configure(NULL);
    assert_int_equal(b->lock_clocks(gpu, 1200, 1000, &err), FP_ERR_INVALID);
    assert_int_equal(b->lock_clocks(gpu, 1000, 1000, &err), FP_OK);
    assert_int_equal(fp_gpu_sim_advance(gpu, 15.0), FP_OK); /* past the model load */
    fp_sample s;
    assert_int_equal(b->sample(gpu, &s, &err), FP_OK);
    for (int c = 0; c < FP_COL_COUNT; c++)
        if (isnan(s.v[c]))
            fail_msg("column %s is empty", fp_col_name(c));
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] == 990); /* highest supported clock <= 1000 */
    assert_true(s.v[FP_COL_MEM_CLOCK_MHZ] == 1215);
    assert_true(s.v[FP_COL_THROTTLE_REASONS] == 0);
    double e0 = s.v[FP_COL_ENERGY_MJ];
    assert_int_equal(fp_gpu_sim_advance(gpu, 1.0), FP_OK);
    assert_int_equal(b->sample(gpu, &s, &err), FP_OK);
    assert_true(s.v[FP_COL_ENERGY_MJ] > e0);
    /* application clocks must be a supported pair */
    assert_int_equal(b->set_app_clocks(gpu, 1215, 1000, &err), FP_ERR_INVALID);
    assert_int_equal(b->set_app_clocks(gpu, 877, 1005, &err), FP_ERR_INVALID);
    assert_int_equal(b->set_app_clocks(gpu, 1215, 1005, &err), FP_OK);
    assert_int_equal(b->reset_clocks(gpu, &err), FP_OK);
    assert_int_equal(b->sample(gpu, &s, &err), FP_OK);
    assert_true(s.v[FP_COL_APP_CLOCK_MHZ] == 1005);
    assert_true(s.v[FP_COL_SM_CLOCK_MHZ] <= 1005);
    assert_int_equal(b->reset_app_clocks(gpu, &err), FP_OK);
    /* power limit: out of range refused; a low limit caps the clock */
    assert_int_equal(b->set_power_limit(gpu, 1000, &err), FP_ERR_INVALID);
    assert_int_equal(b->lock_clocks(gpu, 1410, 1410, &err), FP_OK);
    assert_int_equal(b->set_power_limit(gpu, 150, &err), FP_OK);
    fp_sim_device *d = fp_gpu_sim_device(gpu);
    assert_non_null(d);
    int seen_cap = 0;
    for (int i = 0; i < 400 && !seen_cap; i++) {
        fp_gpu_sim_advance(gpu, 0.1);
        b->sample(gpu, &s, &err);
        if (((unsigned long)s.v[FP_COL_THROTTLE_REASONS] & 0x4) != 0) {
            seen_cap = 1;
            assert_true(s.v[FP_COL_SM_CLOCK_MHZ] < 1410);
        }
    }
    (void)seen_cap; /* llama on the A100 may not reach 150 W: see test_run_power_cap */
    b->close(gpu);
}

static void test_same_seed_same_series(void **state)
{
    (void)state;
    fp_sim_run_result r1, r2, r3;
    series *a = run("A100", "whisper", 1005, 42, &r1);
    series *b = run("A100", "whisper", 1005, 42, &r2);
    series *c = run("A100", "whisper", 1005, 43, &r3);
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->s, b->s, a->n * sizeof(fp_sample));
    assert_true(r1.time_s == r2.time_s);
    assert_true(r1.time_s != r3.time_s);
    int differ = a->n != c->n;
    for (unsigned i = 0; !differ && i < a->n; i++)
        differ = a->s[i].v[FP_COL_POWER_W] != c->s[i].v[FP_COL_POWER_W];
    assert_true(differ);
    free(a);
    free(b);
    free(c);
}

static void test_energy_counter_vs_integral(void **state)
{
    (void)state;
    const char *wls[] = {"llama", "stablediffusion", "vit", "whisper", "lstm"};
    for (size_t k = 0; k < 5; k++) {
        fp_sim_run_result r;
        series *a = run("H100", wls[k], 1395, 7, &r);
        assert_true(a->n > 10);
        double integral = 0;
        for (unsigned i = 1; i < a->n; i++)
            integral += 0.5 * (a->s[i].v[FP_COL_POWER_W] + a->s[i - 1].v[FP_COL_POWER_W]) *
                        (a->s[i].v[FP_COL_T_S] - a->s[i - 1].v[FP_COL_T_S]);
        double counter =
            (a->s[a->n - 1].v[FP_COL_ENERGY_MJ] - a->s[0].v[FP_COL_ENERGY_MJ]) / 1000.0;
        if (fabs(counter - integral) > 0.01 * counter)
            fail_msg("%s: counter %.1f J vs integral %.1f J", wls[k], counter, integral);
        for (unsigned i = 1; i < a->n; i++)
            assert_true(a->s[i].v[FP_COL_ENERGY_MJ] >= a->s[i - 1].v[FP_COL_ENERGY_MJ]);
        /* the true window lies inside the series and its energy is consistent */
        assert_true(r.infer_start_s > 0 && r.infer_end_s < a->s[a->n - 1].v[FP_COL_T_S]);
        assert_true(r.energy_j > 0 && r.energy_j < counter);
        assert_int_equal(r.reached_mhz, 1395);
        free(a);
    }
}

static void test_noise_free_run_matches_truth(void **state)
{
    (void)state;
    const fp_sim_gpu *g = fp_sim_gpu_find("H100");
    const fp_sim_workload *w = fp_sim_workload_find("llama");
    fp_sim_run_opts o;
    fp_sim_run_opts_default(&o);
    o.clock_mhz = 1095;
    o.knobs.time_noise = o.knobs.power_noise = o.knobs.sample_noise = 0;
    fp_sim_run_result r;
    fp_error err = {0};
    assert_int_equal(fp_sim_run(g, w, &o, NULL, NULL, &r, &err), FP_OK);
    double t, e;
    assert_int_equal(fp_sim_expected(g, w, 1095, &t, &e, NULL, &err), FP_OK);
    /* time exact; energy within 3 % (temperature lags its steady state in a run) */
    assert_true(fabs(r.time_s - t) < 1e-6 * t);
    assert_true(fabs(r.energy_j - e) < 0.03 * e);
    /* drift and cold start slow runs down */
    fp_sim_run_result r2;
    o.knobs.cold_start = 0.2;
    o.run_position = 0;
    assert_int_equal(fp_sim_run(g, w, &o, NULL, NULL, &r2, &err), FP_OK);
    assert_true(fabs(r2.time_s / r.time_s - 1.2) < 1e-6);
    o.knobs.cold_start = 0;
    o.knobs.drift_per_run = 0.001;
    o.run_position = 50;
    assert_int_equal(fp_sim_run(g, w, &o, NULL, NULL, &r2, &err), FP_OK);
    assert_true(fabs(r2.time_s / r.time_s - 1.05) < 1e-6);
}

static void test_run_power_cap(void **state)
{
    (void)state;
    fp_sim_run_opts o;
    fp_sim_run_opts_default(&o);
    o.clock_mhz = 1785;
    o.power_limit_w = 200;
    series *a = calloc(1, sizeof *a);
    fp_sim_run_result r;
    fp_error err = {0};
    assert_int_equal(fp_sim_run(fp_sim_gpu_find("H100"), fp_sim_workload_find("llama"), &o, collect,
                                a, &r, &err),
                     FP_OK);
    assert_int_equal(r.throttled, 1);
    assert_true(r.reached_mhz < 1785);
    int capped_rows = 0;
    for (unsigned i = 0; i < a->n; i++) {
        if ((unsigned long)a->s[i].v[FP_COL_THROTTLE_REASONS] & 0x4) {
            capped_rows++;
            assert_true(a->s[i].v[FP_COL_SM_CLOCK_MHZ] < 1785);
        }
        assert_true(a->s[i].v[FP_COL_POWER_LIMIT_W] == 200);
    }
    assert_true(capped_rows > 0);
    free(a);
    o.power_limit_w = 50; /* below the H100's minimum limit */
    assert_int_equal(fp_sim_run(fp_sim_gpu_find("H100"), fp_sim_workload_find("llama"), &o, NULL,
                                NULL, &r, &err),
                     FP_ERR_INVALID);
}

TU_MAIN(cmocka_unit_test(test_backend_open_info), cmocka_unit_test(test_backend_clocks_and_sample),
        cmocka_unit_test(test_same_seed_same_series),
        cmocka_unit_test(test_energy_counter_vs_integral),
        cmocka_unit_test(test_noise_free_run_matches_truth), cmocka_unit_test(test_run_power_cap))
