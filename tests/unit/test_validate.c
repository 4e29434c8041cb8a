/* SPDX-License-Identifier: GPL-3.0-or-later */
/* validate: a sound recommendation passes, a budget breach and a clock-independent curve fail. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "freqpilot/optimize.h"
#include "testutil.h"

static fp_agg_row rows[8];

static void row(size_t i, const char *app, double f, double t, double e, uint32_t flags)
{
    memset(&rows[i], 0, sizeof rows[i]);
    strcpy(rows[i].gpu, "A100");
    strcpy(rows[i].app, app);
    rows[i].freq_mhz = f;
    rows[i].runs = 5;
    rows[i].time_s = t;
    rows[i].time_s_lo = t * 0.995;
    rows[i].time_s_hi = t * 1.005;
    rows[i].energy_j = e;
    rows[i].energy_j_lo = e * 0.99;
    rows[i].energy_j_hi = e * 1.01;
    rows[i].time_cv = 0.01;
    rows[i].flags = flags;
}

static fp_check_status check_of(const fp_validation *v, const char *name)
{
    for (int k = 0; k < FP_VALIDATE_NCHECKS; k++)
        if (strcmp(v->checks[k].name, name) == 0)
            return v->checks[k].status;
    fail_msg("no check %s", name);
    return FP_CHECK_NA;
}

static void test_checks(void **state)
{
    (void)state;
    row(0, "ok", 1400, 10.0, 2000, 0);
    row(1, "ok", 1300, 10.3, 1700, 0);
    row(2, "ok", 1200, 11.0, 1600, 0);
    row(3, "ok", 1100, 12.0, 1650, 0);
    fp_agg_result a = {.rows = rows, .nrows = 4};
    fp_opt_data d;
    assert_int_equal(fp_opt_data_build(&a, NULL, &d, NULL), FP_OK);
    fp_opt_result recs[2];
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < 2; i++) {
        strcpy(recs[i].gpu, "A100");
        strcpy(recs[i].app, "ok");
        strcpy(recs[i].objective, "energy");
        recs[i].max_slowdown = 0.05;
        recs[i].baseline_mhz = 1400;
    }
    recs[0].freq_mhz = 1300; /* 3 % slower, 15 % less energy */
    recs[1].freq_mhz = 1200; /* 10 % slower: breaks the budget */
    fp_opt_results rr = {.items = recs, .len = 2};
    fp_validate_options vo;
    fp_validate_options_init(&vo);
    fp_validation *v;
    assert_int_equal(fp_validate(&d, &rr, &vo, &v, NULL), FP_OK);
    assert_int_equal(check_of(&v[0], "budget"), FP_CHECK_PASS);
    assert_int_equal(check_of(&v[0], "saving"), FP_CHECK_PASS);
    assert_true(v[0].checks[1].p_value < 0.05);
    assert_int_equal(check_of(&v[0], "frontier"), FP_CHECK_PASS);
    assert_int_equal(check_of(&v[0], "clock_dependence"), FP_CHECK_PASS);
    assert_int_equal(v[0].verdict, FP_CHECK_PASS);
    assert_int_equal(check_of(&v[1], "budget"), FP_CHECK_FAIL);
    assert_int_equal(v[1].verdict, FP_CHECK_FAIL);
    free(v);
    fp_opt_data_free(&d);
}

static void test_not_clock_bound_fails(void **state)
{
    (void)state;
    /* Time falls at lower clocks: not explained by the clock. */
    row(0, "vit", 1400, 60.0, 9000, FP_FLAG_NOT_CLOCK_BOUND);
    row(1, "vit", 1200, 40.0, 5000, FP_FLAG_NOT_CLOCK_BOUND);
    row(2, "vit", 1000, 25.0, 3000, FP_FLAG_NOT_CLOCK_BOUND);
    row(3, "vit", 800, 30.0, 3100, FP_FLAG_NOT_CLOCK_BOUND);
    fp_agg_result a = {.rows = rows, .nrows = 4};
    fp_opt_data d;
    assert_int_equal(fp_opt_data_build(&a, NULL, &d, NULL), FP_OK);
    fp_opt_result rec;
    memset(&rec, 0, sizeof rec);
    strcpy(rec.gpu, "A100");
    strcpy(rec.app, "vit");
    strcpy(rec.objective, "energy");
    rec.max_slowdown = 0.05;
    rec.baseline_mhz = 1400;
    rec.freq_mhz = 1000;
    fp_opt_results rr = {.items = &rec, .len = 1};
    fp_validate_options vo;
    fp_validate_options_init(&vo);
    fp_validation *v;
    assert_int_equal(fp_validate(&d, &rr, &vo, &v, NULL), FP_OK);
    assert_int_equal(check_of(&v[0], "clock_dependence"), FP_CHECK_FAIL);
    assert_non_null(strstr(v[0].checks[6].detail, "not a DVFS effect"));
    assert_int_equal(check_of(&v[0], "plausibility"), FP_CHECK_WARN);
    assert_int_equal(v[0].verdict, FP_CHECK_FAIL);
    free(v);
    fp_opt_data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_not_clock_bound_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
