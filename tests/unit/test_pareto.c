/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Pareto frontier and knee on a hand-made curve. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "freqpilot/optimize.h"
#include "testutil.h"

static fp_agg_row rows[8];

static void row(size_t i, double f, double t, double e)
{
    memset(&rows[i], 0, sizeof rows[i]);
    strcpy(rows[i].gpu, "A100");
    strcpy(rows[i].app, "p");
    rows[i].freq_mhz = f;
    rows[i].runs = 3;
    rows[i].time_s = t;
    rows[i].time_s_lo = t * 0.999;
    rows[i].time_s_hi = t * 1.001;
    rows[i].energy_j = e;
    rows[i].energy_j_lo = e * 0.999;
    rows[i].energy_j_hi = e * 1.001;
}

static void test_frontier_and_knee(void **state)
{
    (void)state;
    /* Frontier (t, e): (10,100) (11,60) (14,50) (20,45); 1000 MHz (15, 70) dominated by 1200. */
    row(0, 1400, 10, 100);
    row(1, 1300, 11, 60);
    row(2, 1200, 14, 50);
    row(3, 1100, 20, 45);
    row(4, 1000, 15, 70);
    fp_agg_result a = {.rows = rows, .nrows = 5};
    fp_opt_data d;
    assert_int_equal(fp_opt_data_build(&a, NULL, &d, NULL), FP_OK);
    fp_pareto_point p[5];
    long knee = fp_pareto(&d.curves[0], p);
    const double on[] = {1, 1, 1, 1, 0};
    for (int i = 0; i < 5; i++)
        assert_int_equal(p[i].on_frontier, on[i]);
    assert_true(p[4].dominated_by_mhz == 1200.0 || p[4].dominated_by_mhz == 1300.0);
    /* Normalised: 1300 -> t 0.1, e 15/55; 1200 -> 0.4, 5/55. Distances (1-t-e)/sqrt2. */
    double d1300 = (1 - 0.1 - 15.0 / 55) / sqrt(2), d1200 = (1 - 0.4 - 5.0 / 55) / sqrt(2);
    assert_true(d1300 > d1200);
    assert_int_equal(knee, 1);
    assert_true(fabs(p[1].knee_distance - d1300) < 1e-12);
    assert_true(p[1].knee);
    double by;
    assert_true(fp_pareto_sig_dominated(&d.curves[0], 4, &by));
    assert_false(fp_pareto_sig_dominated(&d.curves[0], 2, &by));
    fp_opt_data_free(&d);
}

static void test_too_few_points(void **state)
{
    (void)state;
    row(0, 1400, 10, 100);
    row(1, 1300, 11, 60);
    fp_agg_result a = {.rows = rows, .nrows = 2};
    fp_opt_data d;
    assert_int_equal(fp_opt_data_build(&a, NULL, &d, NULL), FP_OK);
    fp_pareto_point p[2];
    assert_int_equal(fp_pareto(&d.curves[0], p), -1);
    assert_true(p[0].on_frontier && p[1].on_frontier);
    fp_opt_data_free(&d);
}

TU_MAIN(cmocka_unit_test(test_frontier_and_knee), cmocka_unit_test(test_too_few_points))
