/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Statistics: known values, reproducibility, and coverage of the intervals by simulation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "freqpilot/stats.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_median_mean_sd(void **state)
{
    (void)state;
    double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2}, gaps[] = {NAN, 5, NAN, 1, 3};
    assert_float_equal(fp_stats_median(odd, 3), 2.0, 1e-12);
    assert_float_equal(fp_stats_median(even, 4), 2.5, 1e-12);
    assert_float_equal(fp_stats_median(gaps, 5), 3.0, 1e-12);
    assert_int_equal(fp_stats_count(gaps, 5), 3);
    /* The classic textbook sample: mean 5, sum of squares 32, sample sd sqrt(32/7). */
    double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    assert_float_equal(fp_stats_mean(x, N(x)), 5.0, 1e-12);
    assert_float_equal(fp_stats_sd(x, N(x)), sqrt(32.0 / 7.0), 1e-12);
    assert_float_equal(fp_stats_cv(x, N(x)), sqrt(32.0 / 7.0) / 5.0, 1e-12);
    /* Not enough data: NAN, never a made-up 0. */
    double one[] = {4.0}, none[] = {NAN, NAN};
    assert_true(isnan(fp_stats_sd(one, 1)));
    assert_true(isnan(fp_stats_cv(one, 1)));
    assert_true(isnan(fp_stats_median(none, 2)));
    assert_true(isnan(fp_stats_mean(none, 0)));
    assert_true(isnan(fp_stats_median(NULL, 0)));
}

static void test_quantile_mad(void **state)
{
    (void)state;
    double x[] = {5, 1, 4, 2, 3};
    /* Type 7: h = (n-1)p; 0.25 -> x(1) + 0 = 2, 0.1 -> 1 + 0.4 * (2 - 1) = 1.4. */
    assert_float_equal(fp_stats_quantile(x, 5, 0.25), 2.0, 1e-12);
    assert_float_equal(fp_stats_quantile(x, 5, 0.1), 1.4, 1e-12);
    assert_float_equal(fp_stats_quantile(x, 5, 1.0), 5.0, 1e-12);
    assert_true(isnan(fp_stats_quantile(x, 5, 1.5)));
    /* Median 2; |x - 2| = 1 1 0 0 2 4 7 -> median 1. */
    double y[] = {1, 1, 2, 2, 4, 6, 9};
    assert_float_equal(fp_stats_mad(y, N(y)), 1.0, 1e-12);
}

static void test_t_interval(void **state)
{
    (void)state;
    double x[] = {1, 2, 3, 4, 5};
    double lo, hi;
    assert_int_equal(fp_stats_t_ci(x, 5, 0.95, &lo, &hi), 0);
    /* t(0.975, 4) = 2.776445105 (tables); sd = sqrt(2.5). */
    double half = 2.776445105 * sqrt(2.5) / sqrt(5.0);
    assert_float_equal(lo, 3.0 - half, 1e-6);
    assert_float_equal(hi, 3.0 + half, 1e-6);
    double one[] = {7};
    assert_int_equal(fp_stats_t_ci(one, 1, 0.95, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
    assert_int_equal(fp_stats_t_ci(x, 5, 1.5, &lo, &hi), -1);
}

static void test_welch(void **state)
{
    (void)state;
    /* Welch (1947)-style example from the literature: A1/A2 of the Wikipedia article. */
    double a[] = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1,
                  21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
    double b[] = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0,
                  24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};
    fp_welch w;
    assert_int_equal(fp_stats_welch(a, N(a), b, N(b), &w), 0);
    /* Independently: means, variances, t and df by the formulas. */
    double ma = 0, mb = 0, va = 0, vb = 0;
    for (size_t i = 0; i < N(a); i++) {
        ma += a[i] / N(a);
        mb += b[i] / N(b);
    }
    for (size_t i = 0; i < N(a); i++) {
        va += (a[i] - ma) * (a[i] - ma) / (N(a) - 1);
        vb += (b[i] - mb) * (b[i] - mb) / (N(b) - 1);
    }
    double se2 = va / N(a) + vb / N(b);
    assert_float_equal(w.t, (ma - mb) / sqrt(se2), 1e-9);
    assert_float_equal(w.df, se2 * se2 / (pow(va / N(a), 2) / 14 + pow(vb / N(b), 2) / 14), 1e-9);
    /* Published: t = -2.46, df = 24.98, p = 0.021. */
    assert_float_equal(w.t, -2.46, 0.01);
    assert_float_equal(w.df, 24.98, 0.05);
    assert_float_equal(w.p, 0.021, 0.001);
    /* Identical samples: p = 1. */
    assert_int_equal(fp_stats_welch(a, N(a), a, N(a), &w), 0);
    assert_float_equal(w.p, 1.0, 1e-12);
}

static void test_ols(void **state)
{
    (void)state;
    double x[] = {1, 2, 3, 4, 5}, y[] = {5, 8, 11, 14, 17};
    fp_ols f;
    assert_int_equal(fp_stats_ols(x, y, 5, &f), 0);
    assert_float_equal(f.slope, 3.0, 1e-12);
    assert_float_equal(f.intercept, 2.0, 1e-12);
    assert_float_equal(f.r2, 1.0, 1e-12);
    assert_true(f.p_two_sided < 1e-6);
    /* Noisy: slope = Sxy / Sxx, computed here. */
    double yn[] = {5.2, 7.7, 11.4, 13.6, 17.3, NAN};
    double xn[] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(fp_stats_ols(xn, yn, 6, &f), 0);
    assert_int_equal(f.n, 5);
    double mx = 3, my = (5.2 + 7.7 + 11.4 + 13.6 + 17.3) / 5, sxx = 0, sxy = 0;
    for (int i = 0; i < 5; i++) {
        sxx += (xn[i] - mx) * (xn[i] - mx);
        sxy += (xn[i] - mx) * (yn[i] - my);
    }
    assert_float_equal(f.slope, sxy / sxx, 1e-12);
    assert_true(f.p_greater < 0.001 && f.p_greater < f.p_two_sided);
    /* No relation: large p. */
    double yz[] = {3, 1, 3, 1, 3, 1, 3, 1}, xz[] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(fp_stats_ols(xz, yz, 8, &f), 0);
    assert_true(f.p_two_sided > 0.3);
    assert_true(f.r2 < 0.2);
    /* Too few points: NAN. */
    assert_int_equal(fp_stats_ols(x, y, 2, &f), 0);
    assert_true(isnan(f.slope));
}

static void test_bootstrap_reproducible(void **state)
{
    (void)state;
    double x[] = {10.1, 9.8, 10.4, 10.0, 11.2, 9.9, 10.3};
    double lo1, hi1, lo2, hi2, lo3, hi3;
    assert_int_equal(fp_stats_bootstrap_ci(x, N(x), FP_STAT_MEDIAN, 0.95, 2000, 42, &lo1, &hi1), 0);
    assert_int_equal(fp_stats_bootstrap_ci(x, N(x), FP_STAT_MEDIAN, 0.95, 2000, 42, &lo2, &hi2), 0);
    assert_true(lo1 == lo2 && hi1 == hi2);
    assert_true(lo1 <= fp_stats_median(x, N(x)) && fp_stats_median(x, N(x)) <= hi1);
    assert_true(lo1 >= 9.8 && hi1 <= 11.2 && lo1 < hi1);
    /* A percentile interval of the median only takes sample values (or midpoints). */
    assert_int_equal(fp_stats_bootstrap_ci(x, N(x), FP_STAT_MEAN, 0.95, 2000, 7, &lo3, &hi3), 0);
    assert_true(lo3 < fp_stats_mean(x, N(x)) && fp_stats_mean(x, N(x)) < hi3);
    /* Constant data: a zero-width interval. One value: none. */
    double c[] = {3, 3, 3, 3};
    assert_int_equal(fp_stats_bootstrap_ci(c, 4, FP_STAT_MEDIAN, 0.95, 500, 1, &lo1, &hi1), 0);
    assert_float_equal(lo1, 3.0, 0);
    assert_float_equal(hi1, 3.0, 0);
    assert_int_equal(fp_stats_bootstrap_ci(c, 1, FP_STAT_MEDIAN, 0.95, 500, 1, &lo1, &hi1), 0);
    assert_true(isnan(lo1) && isnan(hi1));
    assert_int_equal(fp_stats_bootstrap_ci(c, 4, FP_STAT_MEDIAN, 0.0, 500, 1, &lo1, &hi1), -1);
}

/*
 * The textbook bootstrap that stats.c must reproduce bit for bit: GSL's generator, each resample
 * copied and sorted for its median (gsl_stats_mean for a mean), the B centres sorted for their
 * quantiles. This was fp_stats_bootstrap_ci and fp_stats_bootstrap_ratio before the counting
 * implementation replaced it.
 */
static double *ref_sorted_finite(const double *x, size_t n, size_t *m)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    *m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[(*m)++] = x[i];
    gsl_sort(v, 1, *m);
    return v;
}

static void ref_centres(const double *x, size_t n, fp_stat_center c, int B, gsl_rng *rng,
                        double *out)
{
    size_t m;
    double *v = ref_sorted_finite(x, n, &m), *r = malloc(m * sizeof *r);
    for (int b = 0; b < B; b++) {
        for (size_t i = 0; i < m; i++)
            r[i] = v[gsl_rng_uniform_int(rng, m)];
        if (c == FP_STAT_MEAN) {
            out[b] = gsl_stats_mean(r, 1, m);
        } else {
            gsl_sort(r, 1, m);
            out[b] = gsl_stats_median_from_sorted_data(r, 1, m);
        }
    }
    free(r);
    free(v);
}

static void ref_ci(const double *x, size_t n, fp_stat_center c, double conf, int B,
                   unsigned long seed, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (fp_stats_count(x, n) < 2)
        return;
    double *cent = malloc((size_t)B * sizeof *cent);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    ref_centres(x, n, c, B, rng, cent);
    gsl_sort(cent, 1, (size_t)B);
    *lo = gsl_stats_quantile_from_sorted_data(cent, 1, (size_t)B, (1.0 - conf) / 2.0);
    *hi = gsl_stats_quantile_from_sorted_data(cent, 1, (size_t)B, (1.0 + conf) / 2.0);
    gsl_rng_free(rng);
    free(cent);
}

static void ref_ratio(const double *num, size_t nn, const double *den, size_t nd, fp_stat_center c,
                      double conf, int B, unsigned long seed, double *lo, double *hi)
{
    *lo = *hi = NAN;
    size_t kn = fp_stats_count(num, nn), kd = fp_stats_count(den, nd);
    if (kn == 0 || kd == 0 || (kn < 2 && kd < 2))
        return;
    double *a = malloc((size_t)B * sizeof *a), *b = malloc((size_t)B * sizeof *b);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    ref_centres(num, nn, c, B, rng, a);
    ref_centres(den, nd, c, B, rng, b);
    size_t k = 0;
    for (int i = 0; i < B; i++)
        if (b[i] != 0.0)
            a[k++] = a[i] / b[i];
    if (k >= 10) {
        gsl_sort(a, 1, k);
        *lo = gsl_stats_quantile_from_sorted_data(a, 1, k, (1.0 - conf) / 2.0);
        *hi = gsl_stats_quantile_from_sorted_data(a, 1, k, (1.0 + conf) / 2.0);
    }
    gsl_rng_free(rng);
    free(a);
    free(b);
}

/* The same number: equal finite values have the same bits, except -0.0 and 0.0, which the
 * reference's sorts may order either way. */
static int same_bits(double a, double b)
{
    return (isnan(a) && isnan(b)) || (a == b && (a == 0.0 || memcmp(&a, &b, sizeof a) == 0));
}

/* Random samples of 1 to 40 values (ties, NANs, negative values, zeros of both signs), several
 * centres, confidences, resample counts and seeds: the one implementation (direct, through a
 * plan reused across samples, and the ratio) gives the reference's bounds bit for bit. */
static void test_bootstrap_identical_to_reference(void **state)
{
    (void)state;
    gsl_rng *g = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(g, 42);
    static const double confs[] = {0.95, 0.9, 0.5, 0.99};
    static const int Bs[] = {2000, 10, 11, 137, 500};
    fp_stats_boot *plans[2][4][5];
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 5; j++)
                assert_non_null(plans[c][i][j] = fp_stats_boot_new((fp_stat_center)c, confs[i],
                                                                   Bs[j], FP_STATS_DEFAULT_SEED));
    int cases = 0;
    for (int it = 0; it < 4000; it++) {
        size_t n = 1 + gsl_rng_uniform_int(g, it % 10 ? 8 : 40), nd = 1 + gsl_rng_uniform_int(g, 8);
        double x[48], d[48];
        int kind = it % 6;
        for (size_t i = 0; i < n; i++)
            x[i] = kind == 0   ? 10.0 + (double)gsl_rng_uniform_int(g, 3) /* ties */
                   : kind == 1 ? gsl_rng_uniform(g) - 0.5                 /* signs */
                   : kind == 2 ? (double)gsl_rng_uniform_int(g, 3) - 1.0  /* zeros */
                   : kind == 3 ? (gsl_rng_uniform_int(g, 2) ? 0.0 : -0.0) /* +-0 */
                               : 10.0 * (1 + 0.2 * gsl_rng_uniform(g));
        for (size_t i = 0; i < nd; i++)
            d[i] = kind == 2 ? (double)gsl_rng_uniform_int(g, 3)
                             : 12.0 * (1 + 0.2 * gsl_rng_uniform(g));
        if (it % 7 == 0)
            x[0] = NAN;
        int ci = it % 4, bi = (it / 4) % 5;
        fp_stat_center c = (fp_stat_center)(it % 3 == 0);
        unsigned long seed = it % 2 ? FP_STATS_DEFAULT_SEED : (unsigned long)it;
        double l0, h0, l1, h1, l2, h2;
        ref_ci(x, n, c, confs[ci], Bs[bi], seed, &l0, &h0);
        assert_int_equal(fp_stats_bootstrap_ci(x, n, c, confs[ci], Bs[bi], seed, &l1, &h1), 0);
        assert_true(same_bits(l0, l1) && same_bits(h0, h1));
        if (seed == FP_STATS_DEFAULT_SEED) {
            assert_int_equal(fp_stats_boot_ci(plans[c][ci][bi], x, n, &l2, &h2), 0);
            assert_true(same_bits(l0, l2) && same_bits(h0, h2));
        }
        cases += isfinite(l0);
        double e;
        ref_ratio(x, n, d, nd, c, confs[ci], Bs[bi], seed, &l0, &h0);
        assert_int_equal(
            fp_stats_bootstrap_ratio(x, n, d, nd, c, confs[ci], Bs[bi], seed, &e, &l1, &h1), 0);
        assert_true(same_bits(l0, l1) && same_bits(h0, h1));
    }
    assert_true(cases > 3000); /* most cases have an interval to compare */
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 5; j++)
                fp_stats_boot_free(plans[c][i][j]);
    gsl_rng_free(g);
    /* Arguments refused alike. */
    assert_null(fp_stats_boot_new(FP_STAT_MEDIAN, 1.5, 100, 1));
    assert_null(fp_stats_boot_new(FP_STAT_MEDIAN, 0.95, 5, 1));
    double lo, hi;
    double one = 1.0;
    assert_int_equal(fp_stats_boot_ci(NULL, &one, 1, &lo, &hi), -1);
}

/*
 * Coverage by simulation: for normal samples of 30 with known mean, the 95 %
 * intervals must contain the truth in roughly 95 % of 400 trials (binomial
 * sd 1.1 %, so 0.89..0.99 fails only on a real defect).
 */
static void test_coverage(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 12345);
    int trials = 400, hit_boot = 0, hit_t = 0, hit_mean_boot = 0;
    double x[30];
    for (int t = 0; t < trials; t++) {
        for (int i = 0; i < 30; i++)
            x[i] = 20.0 + gsl_ran_gaussian(rng, 2.0);
        double lo, hi;
        fp_stats_bootstrap_ci(x, 30, FP_STAT_MEDIAN, 0.95, 1000, (unsigned long)t, &lo, &hi);
        hit_boot += lo <= 20.0 && 20.0 <= hi;
        fp_stats_bootstrap_ci(x, 30, FP_STAT_MEAN, 0.95, 1000, (unsigned long)t, &lo, &hi);
        hit_mean_boot += lo <= 20.0 && 20.0 <= hi;
        fp_stats_t_ci(x, 30, 0.95, &lo, &hi);
        hit_t += lo <= 20.0 && 20.0 <= hi;
    }
    gsl_rng_free(rng);
    print_message("coverage: bootstrap median %.3f, bootstrap mean %.3f, t %.3f\n",
                  hit_boot / (double)trials, hit_mean_boot / (double)trials,
                  hit_t / (double)trials);
    assert_in_range(hit_boot, (int)(0.89 * trials), (int)(0.995 * trials));
    assert_in_range(hit_mean_boot, (int)(0.89 * trials), (int)(0.99 * trials));
    assert_in_range(hit_t, (int)(0.91 * trials), (int)(0.99 * trials));
}

static void test_bootstrap_ratio(void **state)
{
    (void)state;
    double e_f[] = {80, 82, 81, 79, 80}, e_base[] = {100, 101, 99, 100, 102};
    double est, lo, hi;
    assert_int_equal(
        fp_stats_bootstrap_ratio(e_f, 5, e_base, 5, FP_STAT_MEDIAN, 0.95, 2000, 3, &est, &lo, &hi),
        0);
    assert_float_equal(est, 80.0 / 100.0, 1e-12);
    assert_true(lo <= est && est <= hi);
    /* Bounds come from resampled medians: min/max ratio of sample values. */
    assert_true(lo >= 79.0 / 102.0 && hi <= 82.0 / 99.0);
    /* Constant samples: the ratio is exact. */
    double a[] = {2, 2, 2}, b[] = {4, 4, 4};
    assert_int_equal(
        fp_stats_bootstrap_ratio(a, 3, b, 3, FP_STAT_MEAN, 0.95, 500, 3, &est, &lo, &hi), 0);
    assert_float_equal(est, 0.5, 0);
    assert_float_equal(lo, 0.5, 1e-15);
    assert_float_equal(hi, 0.5, 1e-15);
    /* Empty side: NAN. */
    assert_int_equal(
        fp_stats_bootstrap_ratio(a, 0, b, 3, FP_STAT_MEAN, 0.95, 500, 3, &est, &lo, &hi), 0);
    assert_true(isnan(est) && isnan(lo));
}

TU_MAIN(cmocka_unit_test(test_median_mean_sd), cmocka_unit_test(test_quantile_mad),
        cmocka_unit_test(test_t_interval), cmocka_unit_test(test_welch), cmocka_unit_test(test_ols),
        cmocka_unit_test(test_bootstrap_reproducible), cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_bootstrap_ratio),
        cmocka_unit_test(test_bootstrap_identical_to_reference))
