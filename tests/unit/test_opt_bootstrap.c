/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The fast bootstrap of optimize (src/optimize/bootstrap.c) against the reference
 * fp_stats_bootstrap_ratio: the same est, lo and hi, bit for bit, on random samples of 1 to 12
 * runs (ties included), several confidences, resample counts and seeds.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "freqpilot/stats.h"
#include "optimize/opt_internal.h"
#include "testutil.h"

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void test_identical_to_reference(void **state)
{
    (void)state;
    gsl_rng *g = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(g, 42);
    static const double confs[] = {0.95, 0.9, 0.5, 0.99};
    static const int Bs[] = {2000, 10, 11, 137, 500};
    int cases = 0;
    for (int it = 0; it < 3000; it++) {
        size_t nn = 1 + gsl_rng_uniform_int(g, 12), nd = 1 + gsl_rng_uniform_int(g, 12);
        double num[16], den[16];
        int ties = it % 5 == 0, nans = it % 7 == 0;
        for (size_t i = 0; i < nn; i++)
            num[i] = ties ? 10.0 + (double)gsl_rng_uniform_int(g, 3)
                          : 10.0 * (1 + 0.2 * gsl_rng_uniform(g));
        for (size_t i = 0; i < nd; i++)
            den[i] = ties ? 12.0 + (double)gsl_rng_uniform_int(g, 2)
                          : 12.0 * (1 + 0.2 * gsl_rng_uniform(g));
        if (nans)
            num[0] = NAN;
        double conf = confs[it % 4];
        int B = Bs[it % 5];
        unsigned long seed = it % 3 ? 12345 : (unsigned long)it;
        double e1, l1, h1, e2, l2, h2;
        int r1 = fp_stats_bootstrap_ratio(num, nn, den, nd, FP_STAT_MEDIAN, conf, B, seed, &e1, &l1,
                                          &h1);
        int r2 = fp_opt_bootstrap_ratio_median(num, nn, den, nd, conf, B, seed, &e2, &l2, &h2);
        assert_int_equal(r1, r2);
        assert_true(same(e1, e2));
        assert_true(same(l1, l2));
        assert_true(same(h1, h2));
        cases += isfinite(l1);
    }
    assert_true(cases > 2000); /* most cases have an interval to compare */
    gsl_rng_free(g);
    /* Arguments refused alike. */
    double x[2] = {1, 2}, e, l, h;
    assert_int_equal(fp_opt_bootstrap_ratio_median(x, 2, x, 2, 1.5, 100, 1, &e, &l, &h), -1);
    assert_int_equal(fp_opt_bootstrap_ratio_median(x, 2, x, 2, 0.95, 5, 1, &e, &l, &h), -1);
}

/* The inline generator gives GSL's mt19937 stream. */
static void test_mt_stream(void **state)
{
    (void)state;
    static const unsigned long seeds[] = {0, 1, 4357, 12345, 20250709, 4294967295UL};
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(g, seeds[s]);
        fp_opt_mt m;
        fp_opt_mt_seed(&m, seeds[s]);
        for (int i = 0; i < 5000; i++)
            assert_int_equal(gsl_rng_get(g), fp_opt_mt_get(&m));
        gsl_rng_free(g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mt_stream),
        cmocka_unit_test(test_identical_to_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
