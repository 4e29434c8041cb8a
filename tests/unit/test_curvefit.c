/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Per-curve fits against ground truth: the simulated GPU's noise-free curves (fp_sim_expected)
 * at every supported clock, fitted from 5 clocks; exact recovery of known parameters;
 * interval coverage with noise; and refusing to predict time that the clock does not explain.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "freqpilot/model.h"
#include "freqpilot/sim.h"
#include "testutil.h"

/* Stated accuracy of a 5-clock fit on the simulated curves (docs/model.md). */
#define MAX_POWER_ERR 0.02
#define MAX_TIME_ERR 0.03
#define MEDIAN_POWER_ERR 0.01
#define MEDIAN_TIME_ERR 0.02

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_sim_five_clocks(void **state)
{
    (void)state;
    for (unsigned g = 0; g < fp_sim_gpu_count(); g++) {
        const fp_sim_gpu *gpu = fp_sim_gpu_at(g);
        for (unsigned w = 0; w < fp_sim_workload_count(); w++) {
            const fp_sim_workload *wl = fp_sim_workload_at(w);
            unsigned n = gpu->n_clocks;
            double *t = calloc(n, sizeof *t), *p = calloc(n, sizeof *p);
            double *ep = calloc(n, sizeof *ep), *et = calloc(n, sizeof *et);
            assert_non_null(ep);
            fp_error err;
            for (unsigned i = 0; i < n; i++)
                assert_int_equal(
                    fp_sim_expected(gpu, wl, gpu->clocks_mhz[i], &t[i], NULL, &p[i], &err), FP_OK);
            /* The range that matters: clocks >= 35 % of the top (the measured sweeps stop at
             * 510 MHz); 5 clocks spread over it, top and bottom included. */
            unsigned top = fp_sim_gpu_fmax(gpu);
            while (n > 1 && gpu->clocks_mhz[n - 1] < 0.35 * top)
                n--;
            fp_model_point pts[5];
            for (int k = 0; k < 5; k++) {
                unsigned i = (unsigned)((n - 1) * k / 4.0 + 0.5);
                pts[k] = (fp_model_point){gpu->clocks_mhz[i], t[i], p[i], NAN, NAN, 1};
            }
            fp_curve_model m;
            assert_int_equal(fp_curve_fit(gpu->short_name, wl->name, pts, 5, NULL, &m, &err),
                             FP_OK);
            assert_true(m.clock_bound);
            double worst_p = 0, worst_t = 0;
            for (unsigned i = 0; i < n; i++) {
                fp_curve_pred pr;
                fp_curve_predict(&m, gpu->clocks_mhz[i], 0.95, &pr);
                ep[i] = fabs(pr.power_w / p[i] - 1);
                et[i] = fabs(pr.time_s / t[i] - 1);
                worst_p = fmax(worst_p, ep[i]);
                worst_t = fmax(worst_t, et[i]);
                /* The 95 % interval holds the truth. */
                assert_true(pr.power_lo <= p[i] && p[i] <= pr.power_hi);
                assert_true(pr.time_lo <= t[i] && t[i] <= pr.time_hi);
            }
            qsort(ep, n, sizeof *ep, cmp_d);
            qsort(et, n, sizeof *et, cmp_d);
            print_message(
                "%s %-16s power max %.2f%% median %.2f%%, time max %.2f%% median %.2f%%\n",
                gpu->short_name, wl->name, 100 * worst_p, 100 * ep[n / 2], 100 * worst_t,
                100 * et[n / 2]);
            assert_true(worst_p <= MAX_POWER_ERR);
            assert_true(worst_t <= MAX_TIME_ERR);
            assert_true(ep[n / 2] <= MEDIAN_POWER_ERR && et[n / 2] <= MEDIAN_TIME_ERR);
            free(t);
            free(p);
            free(ep);
            free(et);
        }
    }
}

/* g(f) computed here from the equation, independently of the library. */
static double g_ref(double f, double fmax, double knee, double vr)
{
    double v = f <= knee ? vr : vr + (1 - vr) * (f - knee) / (fmax - knee);
    return f / fmax * v * v;
}

static void test_exact_recovery(void **state)
{
    (void)state;
    /* An unknown GPU: knee and voltage given explicitly. */
    fp_curve_options o;
    fp_curve_options_init(&o);
    o.fmax_mhz = 2000;
    o.knee_mhz = 1200;
    o.v_ratio = 0.7;
    const double tf = 4.0, tc = 6.0, ps = 50, pd = 180;
    fp_model_point pts[6];
    double f[6] = {2000, 1800, 1500, 1200, 900, 600};
    for (int i = 0; i < 6; i++)
        pts[i] = (fp_model_point){
            f[i], tf + tc * 2000 / f[i], ps + pd * g_ref(f[i], 2000, 1200, 0.7), NAN, NAN, 1};
    fp_curve_model m;
    fp_error err;
    assert_int_equal(fp_curve_fit("MyGPU", "app", pts, 6, &o, &m, &err), FP_OK);
    assert_float_equal(m.time.coef[0], tf, 1e-6);
    assert_float_equal(m.time.coef[1], tc, 1e-6);
    fp_curve_pred pr;
    fp_curve_predict(&m, 1000, 0.95, &pr);
    assert_float_equal(pr.time_s, tf + tc * 2.0, 1e-6);
    assert_float_equal(pr.power_w, ps + pd * g_ref(1000, 2000, 1200, 0.7), 1e-4);
    assert_float_equal(pr.energy_j, pr.time_s * pr.power_w, 1e-6);
    assert_false(pr.extrapolated);
    fp_curve_predict(&m, 500, 0.95, &pr);
    assert_true(pr.extrapolated);
    /* Too few clocks. */
    assert_int_equal(fp_curve_fit("MyGPU", "app", pts, 1, &o, &m, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "at least 2"));
}

static void test_coverage_with_noise(void **state)
{
    (void)state;
    const fp_sim_gpu *gpu = fp_sim_gpu_find("A100");
    const fp_sim_workload *wl = fp_sim_workload_find("stablediffusion");
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    double clocks[6] = {1410, 1215, 1005, 810, 600, 405}, held[3] = {1305, 900, 510};
    int inside = 0, total = 0;
    for (int rep = 0; rep < 200; rep++) {
        fp_model_point pts[6];
        for (int i = 0; i < 6; i++) {
            double t, p;
            fp_sim_expected(gpu, wl, clocks[i], &t, NULL, &p, NULL);
            /* 3 runs, 2 % noise each: the centre's SD is 2 %/sqrt(3). */
            pts[i] = (fp_model_point){clocks[i],
                                      t * (1 + gsl_ran_gaussian(r, 0.02 / sqrt(3))),
                                      p * (1 + gsl_ran_gaussian(r, 0.02 / sqrt(3))),
                                      0.02,
                                      0.02,
                                      3};
        }
        fp_curve_model m;
        assert_int_equal(fp_curve_fit("A100", "sd", pts, 6, NULL, &m, NULL), FP_OK);
        for (int k = 0; k < 3; k++) {
            double t, p;
            fp_sim_expected(gpu, wl, held[k], &t, NULL, &p, NULL);
            /* A new run at the held-out clock. */
            double tn = t * (1 + gsl_ran_gaussian(r, 0.02));
            fp_curve_pred pr;
            fp_curve_predict(&m, held[k], 0.95, &pr);
            inside += pr.time_lo <= tn && tn <= pr.time_hi;
            total++;
        }
    }
    gsl_rng_free(r);
    double cov = (double)inside / total;
    print_message("95 %% prediction interval coverage of new runs: %.3f\n", cov);
    assert_true(cov >= 0.90 && cov <= 0.995);
}

static void test_not_clock_bound(void **state)
{
    (void)state;
    /* Times jumping between two levels regardless of the clock (like A100 ViT). */
    double f[8] = {1410, 1245, 1095, 945, 795, 645, 510, 1320};
    double t[8] = {63, 90, 33, 36, 40, 36, 35, 32};
    fp_model_point pts[8];
    for (int i = 0; i < 8; i++)
        pts[i] = (fp_model_point){f[i], t[i], 40 + 30 * f[i] / 1410, 0.01, NAN, 3};
    fp_curve_model m;
    assert_int_equal(fp_curve_fit("A100", "vit", pts, 8, NULL, &m, NULL), FP_OK);
    assert_false(m.clock_bound);
    assert_non_null(strstr(m.note, "not explained by the clock"));
    fp_curve_pred pr;
    fp_curve_predict(&m, 900, 0.95, &pr);
    assert_true(pr.refused);
    assert_true(isnan(pr.time_s) && isnan(pr.energy_j));
    assert_true(isfinite(pr.power_w));
}

static void test_model_json_roundtrip(void **state)
{
    (void)state;
    fp_run_list runs = {0};
    fp_error err;
    assert_int_equal(fp_model_sim_runs("H100", "whisper", 2, 0, 0.0, 1, &runs, &err), FP_OK);
    fp_agg_options ao;
    fp_agg_options_init(&ao);
    ao.bootstrap_samples = 100;
    fp_agg_result agg;
    assert_int_equal(fp_aggregate(&runs, &ao, &agg, &err), FP_OK);
    fp_model_file mf, back;
    assert_int_equal(fp_model_fit_all(&agg, NULL, &mf, &err), FP_OK);
    assert_int_equal(mf.ncurves, 1);
    const char *path = tu_write_temp("", 0);
    assert_int_equal(fp_model_write_json(&mf, path, &err), FP_OK);
    assert_int_equal(fp_model_read_file(path, &back, &err), FP_OK);
    assert_int_equal(back.ncurves, 1);
    fp_curve_pred a, b;
    fp_curve_predict(&mf.curves[0], 1000, 0.95, &a);
    fp_curve_predict(&back.curves[0], 1000, 0.95, &b);
    assert_float_equal(a.power_w, b.power_w, 1e-6 * a.power_w);
    assert_float_equal(a.time_hi, b.time_hi, 1e-6 * a.time_hi);
    /* A file that is not a model. */
    const char *bad = tu_write_temp("{\"curves\": 3}", 13);
    fp_model_file x;
    assert_int_equal(fp_model_read_file(bad, &x, &err), FP_ERR_FORMAT);
    fp_model_file_free(&mf);
    fp_model_file_free(&back);
    fp_agg_result_free(&agg);
    fp_run_list_free(&runs);
}

TU_MAIN(cmocka_unit_test(test_sim_five_clocks), cmocka_unit_test(test_exact_recovery),
        cmocka_unit_test(test_coverage_with_noise), cmocka_unit_test(test_not_clock_bound),
        cmocka_unit_test(test_model_json_roundtrip))
