/* SPDX-License-Identifier: GPL-3.0-or-later */
/* optimize on synthetic curves whose optimum is known exactly. */
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

#define NCLK 9

/* time = 4 + 8 * 1400/f s; power = 60 + 190 (f/1400)^3 W: energy has an interior minimum. */
static void curve_values(double f, double *t, double *e)
{
    *t = 4.0 + 8.0 * 1400.0 / f;
    *e = (60.0 + 190.0 * pow(f / 1400.0, 3.0)) * *t;
}

static void add_row(fp_agg_result *a, const char *gpu, const char *app, double f, int runs,
                    double t, double t_rel, double e, double e_rel)
{
    fp_agg_row *r = &a->rows[a->nrows++];
    memset(r, 0, sizeof *r);
    snprintf(r->gpu, sizeof r->gpu, "%s", gpu);
    snprintf(r->app, sizeof r->app, "%s", app);
    r->freq_mhz = f;
    r->runs = runs;
    r->time_s = t;
    r->time_s_lo = t * (1.0 - t_rel);
    r->time_s_hi = t * (1.0 + t_rel);
    r->energy_j = e;
    r->energy_j_lo = e * (1.0 - e_rel);
    r->energy_j_hi = e * (1.0 + e_rel);
    r->power_w = e / t;
    r->time_cv = r->energy_cv = NAN;
}

static fp_agg_row rows_buf[64];

/* Noise-free (zero-width intervals) curve of NCLK clocks 1400..600 MHz. */
static void exact_curve(fp_agg_result *a)
{
    memset(a, 0, sizeof *a);
    a->rows = rows_buf;
    for (int i = 0; i < NCLK; i++) {
        double f = 1400.0 - 100.0 * i, t, e;
        curve_values(f, &t, &e);
        add_row(a, "A100", "toy", f, 3, t, 0.0, e, 0.0);
        /* The board (gpu_specs.h) gives cost its P_max: 250 W. */
        snprintf(a->rows[a->nrows - 1].gpu_name, sizeof a->rows[0].gpu_name,
                 "NVIDIA A100-PCIE-40GB");
    }
}

static fp_objective obj(const char *name)
{
    fp_objective o;
    assert_int_equal(fp_objective_parse(name, &o, NULL), FP_OK);
    return o;
}

static void run_one(const fp_agg_result *a, const fp_objective *o, double budget,
                    const fp_opt_options *opt, fp_opt_result *out)
{
    fp_opt_data d;
    fp_error err;
    assert_int_equal(fp_opt_data_build(a, NULL, &d, &err), FP_OK);
    fp_opt_results res = {0};
    assert_int_equal(fp_optimize(&d, o, 1, &budget, 1, NULL, opt, &res, &err), FP_OK);
    assert_int_equal(res.len, 1);
    *out = res.items[0];
    fp_opt_results_free(&res);
    fp_opt_data_free(&d);
}

/* Brute force in the test: argmin over clocks with T/T(1400)-1 <= budget, ties to higher f. */
static double brute(const fp_objective *o, double budget, double pmax)
{
    double t0, e0, best = INFINITY, best_f = NAN;
    curve_values(1400.0, &t0, &e0);
    for (int i = 0; i < NCLK; i++) {
        double f = 1400.0 - 100.0 * i, t, e, v;
        curve_values(f, &t, &e);
        if (!isnan(budget) && t / t0 - 1.0 > budget)
            continue;
        switch (o->kind) {
        case FP_OBJ_ENERGY:
            v = e;
            break;
        case FP_OBJ_TIME:
            v = t;
            break;
        case FP_OBJ_COST:
            v = o->param * e + (1 - o->param) * pmax * t;
            break;
        default:
            v = e * pow(t, o->param);
            break;
        }
        if (v < best) {
            best = v;
            best_f = f;
        }
    }
    return best_f;
}

static void test_every_objective_and_budget(void **state)
{
    (void)state;
    fp_agg_result a;
    exact_curve(&a);
    const char *names[] = {"energy", "time", "edp", "ed2p", "ednp:3", "cost:0.5", "cost:1"};
    const double budgets[] = {NAN, 0.0, 0.05, 0.2, 0.5, 3.0};
    fp_opt_options opt;
    fp_opt_options_init(&opt);
    int distinct = 0;
    double seen[64];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (size_t k = 0; k < sizeof budgets / sizeof budgets[0]; k++) {
            fp_objective o = obj(names[i]);
            fp_opt_result r;
            run_one(&a, &o, budgets[k], &opt, &r);
            double want = brute(&o, budgets[k], 250.0);
            if (r.freq_mhz != want)
                fail_msg("%s budget %g: got %g MHz, want %g", names[i], budgets[k], r.freq_mhz,
                         want);
            assert_true(r.feasible);
            assert_true(r.baseline_mhz == 1400.0);
            double t, e, t0, e0;
            curve_values(want, &t, &e);
            curve_values(1400.0, &t0, &e0);
            assert_true(fabs(r.cmp.slowdown - (t / t0 - 1.0)) < 1e-12);
            assert_true(fabs(r.cmp.energy_saving - (1.0 - e / e0)) < 1e-12);
            int dup = 0;
            for (int j = 0; j < distinct; j++)
                dup |= seen[j] == want;
            if (!dup)
                seen[distinct++] = want;
        }
    /* The cases are not all the same answer. */
    assert_true(distinct >= 4);
}

static void test_known_values(void **state)
{
    (void)state;
    fp_agg_result a;
    exact_curve(&a);
    fp_opt_options opt;
    fp_opt_options_init(&opt);
    fp_objective o = obj("energy");
    fp_opt_result r;
    /* Energy minimum by hand: E(f) over 1400..600; budget 0 keeps the baseline. */
    run_one(&a, &o, 0.0, &opt, &r);
    assert_true(r.freq_mhz == 1400.0);
    assert_true(r.cmp.energy_saving == 0.0);
    /* time: the fastest clock whatever the budget. */
    o = obj("time");
    run_one(&a, &o, NAN, &opt, &r);
    assert_true(r.freq_mhz == 1400.0);
    assert_true(r.opt_flags & FP_OPT_NO_BUDGET);
}

static void test_ties_go_up(void **state)
{
    (void)state;
    fp_agg_result a = {.rows = rows_buf};
    add_row(&a, "A100", "tie", 1400, 3, 10.0, 0, 2000.0, 0);
    add_row(&a, "A100", "tie", 1300, 3, 10.0, 0, 1500.0, 0);
    add_row(&a, "A100", "tie", 1200, 3, 10.0, 0, 1500.0, 0);
    add_row(&a, "A100", "tie", 1100, 3, 10.0, 0, 1600.0, 0);
    fp_opt_options opt;
    fp_opt_options_init(&opt);
    fp_objective o = obj("energy");
    fp_opt_result r;
    run_one(&a, &o, 0.05, &opt, &r);
    assert_true(r.freq_mhz == 1300.0);
    opt.point_estimate = 1;
    run_one(&a, &o, 0.05, &opt, &r);
    assert_true(r.freq_mhz == 1300.0);
}

static void test_single_clock(void **state)
{
    (void)state;
    fp_agg_result a = {.rows = rows_buf};
    add_row(&a, "V100", "one", 1380, 3, 10.0, 0.01, 2000.0, 0.01);
    fp_opt_options opt;
    fp_opt_options_init(&opt);
    fp_objective o = obj("edp");
    fp_opt_result r;
    run_one(&a, &o, 0.05, &opt, &r);
    assert_true(r.freq_mhz == 1380.0 && r.baseline_mhz == 1380.0 && r.feasible);
    assert_true(r.cmp.slowdown == 0.0 && r.cmp.energy_saving == 0.0);
    assert_false(r.opt_flags & FP_OPT_NO_SIGNIFICANT_SAVING);
}

static void test_no_feasible_clock(void **state)
{
    (void)state;
    fp_agg_result a;
    exact_curve(&a);
    fp_opt_options opt;
    fp_opt_options_init(&opt);
    opt.max_power_w = 10.0; /* below every clock's power */
    fp_objective o = obj("energy");
    fp_opt_result r;
    run_one(&a, &o, 0.05, &opt, &r);
    assert_false(r.feasible);
    assert_true(r.freq_mhz == 1400.0);
    assert_true(r.opt_flags & FP_OPT_NO_FEASIBLE_CLOCK);
    assert_true(strlen(r.message) > 0);
    /* A cap between the powers excludes the clocks above it only. */
    opt.max_power_w = 60.0 + 190.0 * pow(1000.0 / 1400.0, 3.0) + 1e-6;
    o = obj("time");
    run_one(&a, &o, NAN, &opt, &r);
    assert_true(r.feasible && r.freq_mhz == 1000.0);
    assert_true(r.opt_flags & FP_OPT_POWER_CAPPED);
}

static void test_nan_cells_and_empty_top(void **state)
{
    (void)state;
    fp_agg_result a = {.rows = rows_buf};
    add_row(&a, "H100", "gaps", 1785, 0, NAN, 0, NAN, 0); /* cold starts only */
    add_row(&a, "H100", "gaps", 1700, 3, 10.0, 0, 3000.0, 0);
    add_row(&a, "H100", "gaps", 1600, 3, 10.2, 0, NAN, 0); /* energy missing */
    add_row(&a, "H100", "gaps", 1500, 3, 10.4, 0, 2600.0, 0);
    add_row(&a, "H100", "gaps", 1400, 3, 12.0, 0, 2000.0, 0);
    fp_opt_options opt;
    fp_opt_options_init(&opt);
    fp_objective o = obj("energy");
    fp_opt_result r;
    run_one(&a, &o, 0.05, &opt, &r);
    assert_true(r.baseline_mhz == 1700.0);
    assert_true(r.opt_flags & FP_OPT_BASELINE_FALLBACK);
    assert_true(r.freq_mhz == 1500.0);
    assert_true(fabs(r.cmp.energy_saving - (1.0 - 2600.0 / 3000.0)) < 1e-12);
}

/* Noise: 1300 MHz meets 5 % by its median but not by its upper bound. */
static void test_noise_aware_budget(void **state)
{
    (void)state;
    fp_agg_result a = {.rows = rows_buf};
    add_row(&a, "A100", "noisy", 1400, 3, 10.0, 0.001, 2000.0, 0.001);
    add_row(&a, "A100", "noisy", 1300, 3, 10.4, 0.03, 1600.0, 0.001);
    add_row(&a, "A100", "noisy", 1200, 3, 11.5, 0.001, 1500.0, 0.001);
    fp_opt_options opt;
    fp_opt_options_init(&opt);
    fp_objective o = obj("energy");
    fp_opt_result r;
    run_one(&a, &o, 0.05, &opt, &r);
    assert_true(r.freq_mhz == 1400.0);
    opt.point_estimate = 1;
    run_one(&a, &o, 0.05, &opt, &r);
    assert_true(r.freq_mhz == 1300.0);
    assert_true(r.cmp.slowdown_hi > 0.05);
    /* Analytic intervals say so. */
    assert_true(r.opt_flags & FP_OPT_ANALYTIC_INTERVALS);
}

/* 1300 and 1200 MHz cannot be told apart in energy: the higher one is taken. */
static void test_prefer_higher_when_indistinguishable(void **state)
{
    (void)state;
    fp_agg_result a = {.rows = rows_buf};
    add_row(&a, "A100", "flat", 1400, 3, 10.0, 0.001, 2000.0, 0.001);
    add_row(&a, "A100", "flat", 1300, 3, 10.1, 0.001, 1510.0, 0.05);
    add_row(&a, "A100", "flat", 1200, 3, 10.2, 0.001, 1500.0, 0.05);
    fp_opt_options opt;
    fp_opt_options_init(&opt);
    fp_objective o = obj("energy");
    fp_opt_result r;
    run_one(&a, &o, NAN, &opt, &r);
    assert_true(r.freq_mhz == 1300.0);
    assert_true(r.opt_flags & FP_OPT_PREFER_HIGHER);
    opt.point_estimate = 1;
    run_one(&a, &o, NAN, &opt, &r);
    assert_true(r.freq_mhz == 1200.0);
}

/* With runs: bootstrap intervals; a saving within the noise is flagged. */
static void test_runs_bootstrap_and_no_significant_saving(void **state)
{
    (void)state;
    fp_agg_result a = {.rows = rows_buf};
    add_row(&a, "A100", "r", 1400, 4, 10.0, 0.01, 1000.0, 0.2);
    add_row(&a, "A100", "r", 1300, 4, 10.0, 0.01, 990.0, 0.2);
    fp_run_list runs = {0};
    const double e14[] = {800, 1000, 1200, 1000}, e13[] = {790, 990, 1190, 990};
    for (int k = 0; k < 4; k++) {
        fp_run r;
        fp_run_init(&r);
        strcpy(r.gpu, "A100");
        strcpy(r.app, "r");
        r.time_s = 10.0 + 0.01 * k;
        r.run_index = k;
        r.freq_mhz = 1400;
        r.energy_j = e14[k];
        assert_int_equal(fp_run_list_push(&runs, &r, NULL), FP_OK);
        r.freq_mhz = 1300;
        r.energy_j = e13[k];
        r.run_index = 4 + k;
        assert_int_equal(fp_run_list_push(&runs, &r, NULL), FP_OK);
    }
    fp_opt_data d;
    fp_error err;
    assert_int_equal(fp_opt_data_build(&a, &runs, &d, &err), FP_OK);
    assert_int_equal(d.ncurves, 1);
    assert_int_equal(d.curves[0].pts[0].nruns, 4);
    fp_opt_options opt;
    fp_opt_options_init(&opt);
    opt.point_estimate = 1;
    fp_objective o = obj("energy");
    fp_opt_results res = {0};
    double budget = NAN;
    assert_int_equal(fp_optimize(&d, &o, 1, &budget, 1, NULL, &opt, &res, &err), FP_OK);
    assert_true(res.items[0].freq_mhz == 1300.0);
    assert_true(res.items[0].opt_flags & FP_OPT_NO_SIGNIFICANT_SAVING);
    assert_false(res.items[0].opt_flags & FP_OPT_ANALYTIC_INTERVALS);
    assert_true(res.items[0].cmp.energy_saving_lo < 0.0 && res.items[0].cmp.energy_saving_hi > 0.0);
    fp_opt_results_free(&res);
    fp_opt_data_free(&d);
    fp_run_list_free(&runs);
}

static void test_objective_parse(void **state)
{
    (void)state;
    fp_objective o;
    fp_error err;
    assert_int_equal(fp_objective_parse("ednp:3", &o, &err), FP_OK);
    assert_true(o.kind == FP_OBJ_EDNP && o.param == 3.0);
    assert_true(fabs(fp_objective_value(&o, 2.0, 5.0, NAN) - 40.0) < 1e-12);
    assert_int_equal(fp_objective_parse("cost:0.25", &o, &err), FP_OK);
    assert_true(fabs(fp_objective_value(&o, 2.0, 100.0, 250.0) - (25.0 + 0.75 * 500.0)) < 1e-9);
    assert_int_not_equal(fp_objective_parse("cost:1.5", &o, &err), FP_OK);
    assert_int_not_equal(fp_objective_parse("ednp:", &o, &err), FP_OK);
    assert_int_not_equal(fp_objective_parse("watts", &o, &err), FP_OK);
    assert_non_null(strstr(err.msg, "unknown objective"));
}

/* P_max of cost and the default clock come from the board the rows name, never from a family
 * name: a bare "A100" may be a 250, 300 or 400 W part. */
static void test_board_facts(void **state)
{
    (void)state;
    fp_agg_result a;
    exact_curve(&a);
    fp_opt_options opt;
    fp_opt_options_init(&opt);
    fp_objective o = obj("cost:0.5");
    fp_opt_data d;
    fp_error err;
    double budget = NAN;
    fp_opt_results res = {0};
    for (size_t i = 0; i < a.nrows; i++)
        snprintf(a.rows[i].gpu_name, sizeof a.rows[i].gpu_name, "NVIDIA A100-SXM4-80GB");
    assert_int_equal(fp_opt_data_build(&a, NULL, &d, &err), FP_OK);
    assert_string_equal(fp_opt_curve_board(&d.curves[0]), "NVIDIA A100-SXM4-80GB");
    assert_true(fp_opt_pmax(fp_opt_curve_board(&d.curves[0]), &opt) == 400.0);
    fp_opt_data_free(&d);
    for (size_t i = 0; i < a.nrows; i++)
        a.rows[i].gpu_name[0] = 0;
    assert_int_equal(fp_opt_data_build(&a, NULL, &d, &err), FP_OK);
    assert_int_not_equal(fp_optimize(&d, &o, 1, &budget, 1, NULL, &opt, &res, &err), FP_OK);
    assert_non_null(strstr(err.msg, "--pmax"));
    opt.pmax_w = 300.0;
    fp_opt_results_free(&res);
    assert_int_equal(fp_optimize(&d, &o, 1, &budget, 1, NULL, &opt, &res, &err), FP_OK);
    assert_int_equal(res.items[0].freq_mhz, brute(&o, NAN, 300.0));
    fp_opt_results_free(&res);
    fp_opt_data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_objective_and_budget),
        cmocka_unit_test(test_board_facts),
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_ties_go_up),
        cmocka_unit_test(test_single_clock),
        cmocka_unit_test(test_no_feasible_clock),
        cmocka_unit_test(test_nan_cells_and_empty_top),
        cmocka_unit_test(test_noise_aware_budget),
        cmocka_unit_test(test_prefer_higher_when_indistinguishable),
        cmocka_unit_test(test_runs_bootstrap_and_no_significant_saving),
        cmocka_unit_test(test_objective_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
