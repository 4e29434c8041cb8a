/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Adaptive sweep: the API contract, and replays on the simulated GPU against its true
 * optimum (fp_sim_optimum) and GPU time; replays of measured_runs.csv stay finite.
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

#include "freqpilot/model.h"
#include "freqpilot/run.h"
#include "freqpilot/sim.h"
#include "testutil.h"

static void test_api(void **state)
{
    (void)state;
    const fp_sim_gpu *g = fp_sim_gpu_find("A100");
    double clocks[128];
    for (unsigned i = 0; i < g->n_clocks; i++)
        clocks[i] = g->clocks_mhz[g->n_clocks - 1 - i]; /* any order */
    fp_adaptive *a;
    fp_error err;
    assert_int_equal(fp_adaptive_new("A100", "x", clocks, 0, NULL, &a, &err), FP_ERR_INVALID);
    assert_int_equal(fp_adaptive_new("A100", "x", clocks, g->n_clocks, NULL, &a, &err), FP_OK);
    double f;
    fp_adaptive_result r;
    assert_int_equal(fp_adaptive_result_get(a, &r, NULL, &err), FP_ERR_INVALID);
    /* The top clock first, twice (noise estimate). */
    for (int k = 0; k < 2; k++) {
        assert_int_equal(fp_adaptive_next(a, &f), 1);
        assert_float_equal(f, 1410, 0);
        assert_int_equal(fp_adaptive_add(a, f, 10.0, 1000.0, &err), FP_OK);
    }
    assert_int_equal(fp_adaptive_next(a, &f), 1);
    assert_true(f < 1410);
    assert_int_equal(fp_adaptive_add(a, 1234, 10, 900, &err), FP_ERR_INVALID);
    assert_int_equal(fp_adaptive_add(a, f, 0, 900, &err), FP_ERR_INVALID);
    fp_adaptive_free(a);
}

/* One clock step of the table around f. */
static double step_at(const fp_sim_gpu *g, unsigned f)
{
    for (unsigned i = 0; i + 1 < g->n_clocks; i++)
        if (g->clocks_mhz[i] == f || g->clocks_mhz[i + 1] == f)
            return (double)g->clocks_mhz[i] - g->clocks_mhz[i + 1];
    return 15;
}

static void replay_sim(const char *objective, double max_slowdown, int strict_step)
{
    for (unsigned gi = 0; gi < fp_sim_gpu_count(); gi++) {
        const fp_sim_gpu *g = fp_sim_gpu_at(gi);
        for (unsigned w = 0; w < fp_sim_workload_count(); w++) {
            const fp_sim_workload *wl = fp_sim_workload_at(w);
            fp_run_list runs = {0};
            fp_error err;
            /* The exhaustive sweep: every supported clock, 3 runs each, noise-free. */
            assert_int_equal(fp_model_sim_runs(g->short_name, wl->name, 3, 0, 0.0, 1, &runs, &err),
                             FP_OK);
            fp_adaptive_options o;
            fp_adaptive_options_init(&o);
            fp_objective_parse(objective, &o.objective, NULL);
            o.max_slowdown = max_slowdown;
            fp_model_replay_results rr;
            assert_int_equal(fp_model_replay(&runs, &o, &rr, &err), FP_OK);
            assert_int_equal(rr.len, 1);
            const fp_model_replay_result *r = &rr.items[0];
            unsigned truth;
            fp_sim_optimum_result tr;
            assert_int_equal(fp_sim_optimum(g, wl, &o.objective, max_slowdown, &truth, &tr, &err),
                             FP_OK);
            print_message("%s %-16s %s%s: chosen %.0f true %u, regret %.3f%%, gpu time %.1f%% "
                          "(%d runs, %d clocks) %s\n",
                          g->short_name, wl->name, objective, isfinite(max_slowdown) ? " <=5%" : "",
                          r->ad.freq_mhz, truth, 100 * r->regret, 100 * r->gpu_time_fraction,
                          r->ad.runs, r->ad.clocks, r->ad.reason);
            /* Within one clock step of the true optimum. With a budget the optimum can sit
             * on a plateau (A100 llama: 780 vs 900 MHz differ by 0.1 % of energy), where the
             * stated guarantee is the tolerance: regret <= 1 %. */
            int near = fabs(r->ad.freq_mhz - truth) <= step_at(g, truth) + 1e-9;
            assert_true(near || (!strict_step && r->regret <= o.tolerance));
            assert_true(r->gpu_time_fraction <= 0.15);
            assert_true(r->regret <= 0.01);
            assert_true(r->feasible);
            fp_model_replay_results_free(&rr);
            fp_run_list_free(&runs);
        }
    }
}

static void test_replay_sim_energy(void **state)
{
    (void)state;
    replay_sim("energy", NAN, 1);
}

static void test_replay_sim_budget(void **state)
{
    (void)state;
    replay_sim("energy", 0.05, 0);
}

static void test_replay_sim_edp(void **state)
{
    (void)state;
    replay_sim("edp", NAN, 0);
}

static void test_replay_measured(void **state)
{
    (void)state;
    TU_REQUIRE_DATA();
    fp_run_list runs = {0};
    fp_load_options lo;
    fp_load_options_init(&lo);
    fp_error err;
    assert_int_equal(
        fp_runs_load(tu_data_path("ai-inference-energy/measured_runs.csv"), &lo, &runs, &err),
        FP_OK);
    fp_model_replay_results rr;
    assert_int_equal(fp_model_replay(&runs, NULL, &rr, &err), FP_OK);
    assert_int_equal(rr.len, 12);
    for (size_t i = 0; i < rr.len; i++) {
        const fp_model_replay_result *r = &rr.items[i];
        assert_true(isfinite(r->regret) && r->regret >= 0);
        assert_true(r->gpu_time_fraction > 0 && r->gpu_time_fraction < 1);
        assert_true(r->ad.runs <= 30);
    }
    fp_model_replay_results_free(&rr);
    fp_run_list_free(&runs);
}

TU_MAIN(cmocka_unit_test(test_api), cmocka_unit_test(test_replay_sim_energy),
        cmocka_unit_test(test_replay_sim_budget), cmocka_unit_test(test_replay_sim_edp),
        cmocka_unit_test(test_replay_measured))
