/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * validate's checks and the one verdict (fp_opt_assess): a sound recommendation is
 * deployable, a budget breach is insufficient data, a clock-independent curve is suspect, and
 * validate gives every optimize result the verdict optimize gave it.
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

#include "freqpilot/aggregate.h"
#include "freqpilot/model.h"
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
    rows[i].energy_cv = 0.01;
    rows[i].flags = flags;
}

static fp_check_status check_of(const fp_validation *v, const char *name)
{
    for (int k = 0; k < FP_VALIDATE_NCHECKS; k++)
        if (strcmp(v->a.checks[k].name, name) == 0)
            return v->a.checks[k].status;
    fail_msg("no check %s", name);
    return FP_CHECK_NA;
}

static fp_opt_result rec(const char *app, double f, double budget)
{
    fp_opt_result r;
    memset(&r, 0, sizeof r);
    strcpy(r.gpu, "A100");
    snprintf(r.app, sizeof r.app, "%s", app);
    strcpy(r.objective, "energy");
    r.max_slowdown = budget;
    r.baseline_mhz = 1400;
    r.freq_mhz = f;
    r.feasible = 1;
    return r;
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
    fp_opt_result recs[3] = {rec("ok", 1300, 0.05), rec("ok", 1200, 0.05), rec("ok", 1400, 0.05)};
    fp_opt_results rr = {.items = recs, .len = 3};
    fp_opt_options o;
    fp_opt_options_init(&o);
    fp_validation *v;
    assert_int_equal(fp_validate(&d, &rr, &o, &v, NULL), FP_OK);
    /* 3 % slower, 15 % less energy: deployable */
    assert_int_equal(check_of(&v[0], "data"), FP_CHECK_PASS);
    assert_int_equal(check_of(&v[0], "budget"), FP_CHECK_PASS);
    assert_int_equal(check_of(&v[0], "saving"), FP_CHECK_PASS);
    assert_true(v[0].a.checks[2].p_value < 0.05);
    assert_int_equal(check_of(&v[0], "clock_dependence"), FP_CHECK_PASS);
    assert_int_equal(v[0].a.verdict, FP_VERDICT_DEPLOYABLE);
    assert_true(v[0].found);
    /* 10 % slower: the budget is not shown to hold */
    assert_int_equal(check_of(&v[1], "budget"), FP_CHECK_FAIL);
    assert_int_equal(v[1].a.verdict, FP_VERDICT_INSUFFICIENT);
    assert_non_null(strstr(v[1].a.reason, "budget"));
    /* the baseline itself: no change */
    assert_int_equal(v[2].a.verdict, FP_VERDICT_NO_SAVING);
    assert_non_null(strstr(v[2].a.reason, "no change"));
    /* deployable <=> no check fails */
    for (int i = 0; i < 3; i++)
        assert_true((v[i].a.verdict == FP_VERDICT_DEPLOYABLE) == (v[i].a.worst != FP_CHECK_FAIL) ||
                    i == 2);
    free(v);
    fp_opt_data_free(&d);
}

static void test_not_clock_bound_is_suspect(void **state)
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
    fp_opt_result r = rec("vit", 1000, NAN);
    fp_opt_results rr = {.items = &r, .len = 1};
    fp_opt_options o;
    fp_opt_options_init(&o);
    fp_validation *v;
    assert_int_equal(fp_validate(&d, &rr, &o, &v, NULL), FP_OK);
    assert_int_equal(check_of(&v[0], "clock_dependence"), FP_CHECK_FAIL);
    assert_non_null(strstr(v[0].a.checks[7].detail, "not a DVFS effect"));
    assert_int_equal(check_of(&v[0], "plausibility"), FP_CHECK_FAIL);
    assert_int_equal(v[0].a.verdict, FP_VERDICT_SUSPECT);
    /* optimize gives the same verdict to its own choice on these rows */
    fp_objective ob;
    fp_objective_parse("energy", &ob, NULL);
    double none = NAN;
    fp_opt_results res = {0};
    assert_int_equal(fp_optimize(&d, &ob, 1, &none, 1, NULL, &o, &res, NULL), FP_OK);
    assert_true(res.items[0].freq_mhz != 1400);
    assert_int_equal(res.items[0].verdict, FP_VERDICT_SUSPECT);
    fp_opt_results_free(&res);
    free(v);
    fp_opt_data_free(&d);
}

static void test_unknown_clock(void **state)
{
    (void)state;
    row(0, "ok", 1400, 10.0, 2000, 0);
    row(1, "ok", 1300, 10.3, 1700, 0);
    row(2, "ok", 1200, 11.0, 1600, 0);
    fp_agg_result a = {.rows = rows, .nrows = 3};
    fp_opt_data d;
    assert_int_equal(fp_opt_data_build(&a, NULL, &d, NULL), FP_OK);
    fp_opt_result r[2] = {rec("ok", 777, 0.05), rec("absent", 1300, 0.05)};
    fp_opt_results rr = {.items = r, .len = 2};
    fp_opt_options o;
    fp_opt_options_init(&o);
    fp_validation *v;
    assert_int_equal(fp_validate(&d, &rr, &o, &v, NULL), FP_OK);
    for (int i = 0; i < 2; i++) {
        assert_false(v[i].found);
        assert_int_equal(v[i].a.verdict, FP_VERDICT_INSUFFICIENT);
        assert_non_null(strstr(v[i].a.reason, "no data"));
    }
    free(v);
    fp_opt_data_free(&d);
}

/* validate recomputes exactly what optimize said, on noisy simulated data, for every
 * objective and budget. */
static void test_validate_agrees_with_optimize(void **state)
{
    (void)state;
    const char *cases[][2] = {{"V100", "llama"}, {"A100", "vit"}, {"H100", "whisper"}};
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        fp_run_list runs = {0};
        fp_error err;
        assert_int_equal(
            fp_model_sim_runs(cases[i][0], cases[i][1], 3, 0, 0.02, 31 + i, &runs, &err), FP_OK);
        fp_agg_options ao;
        fp_agg_options_init(&ao);
        ao.bootstrap_samples = 200;
        fp_agg_result agg;
        assert_int_equal(fp_aggregate(&runs, &ao, &agg, &err), FP_OK);
        fp_opt_data d;
        assert_int_equal(fp_opt_data_build(&agg, &runs, &d, &err), FP_OK);
        fp_objective objs[4];
        const char *names[] = {"energy", "time", "edp", "ed2p"};
        for (int k = 0; k < 4; k++)
            fp_objective_parse(names[k], &objs[k], NULL);
        double budgets[] = {NAN, 0.02, 0.05, 0.10};
        fp_opt_options o;
        fp_opt_options_init(&o);
        fp_opt_results res = {0};
        assert_int_equal(fp_optimize(&d, objs, 4, budgets, 4, NULL, &o, &res, &err), FP_OK);
        fp_validation *v;
        assert_int_equal(fp_validate(&d, &res, &o, &v, &err), FP_OK);
        for (size_t r = 0; r < res.len; r++, n++) {
            assert_int_equal(v[r].a.verdict, res.items[r].verdict);
            assert_string_equal(v[r].a.reason, res.items[r].verdict_reason);
            assert_true(v[r].a.cmp.energy_saving == res.items[r].cmp.energy_saving);
            assert_true((v[r].a.verdict == FP_VERDICT_DEPLOYABLE) ==
                        (v[r].a.worst != FP_CHECK_FAIL &&
                         res.items[r].freq_mhz != res.items[r].baseline_mhz));
        }
        free(v);
        fp_opt_results_free(&res);
        fp_opt_data_free(&d);
        fp_agg_result_free(&agg);
        fp_run_list_free(&runs);
    }
    assert_int_equal(n, 3 * 16);
}

TU_MAIN(cmocka_unit_test(test_checks), cmocka_unit_test(test_not_clock_bound_is_suspect),
        cmocka_unit_test(test_unknown_clock), cmocka_unit_test(test_validate_agrees_with_optimize))
