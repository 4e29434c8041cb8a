/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "freqpilot/govern.h"
#include "testutil.h"

/* A static replay matches the simulator's noise-free truth for that clock. */
static void test_static_matches_truth(void **state)
{
    (void)state;
    const fp_sim_gpu *g = fp_sim_gpu_find("A100");
    const fp_sim_workload *wl = fp_sim_workload_find("llama");
    fp_gpu_info info;
    fp_sim_gpu_info(g, 0, &info);
    fp_policy *c;
    fp_error err;
    assert_int_equal(fp_policy_new("static", &info, &c, &err), FP_OK);
    assert_int_equal(fp_policy_set_num(c, "clock", 1005, &err), FP_OK);
    fp_replay_opts o;
    fp_replay_opts_default(&o);
    fp_replay_result r;
    assert_int_equal(fp_replay_run(wl, c, &o, &r, &err), FP_OK);
    fp_replay_result r2; /* a policy replays again from a fresh start: the same result */
    assert_int_equal(fp_replay_run(wl, c, &o, &r2, &err), FP_OK);
    assert_true(r2.energy_j == r.energy_j && r2.time_s == r.time_s);
    fp_policy_free(c);
    double t, e;
    fp_sim_expected(g, wl, 1005, &t, &e, NULL, NULL);
    assert_true(fabs(r.time_s / t - 1) < 0.01);
    assert_true(fabs(r.energy_j / e - 1) < 0.03);
}

/* Every policy within its budget; static-best is the true energy optimum within the budget
 * (fp_sim_optimum) or a neighbouring clock; on H100 llama at 1 %, phase beats it by 5 points. */
static void test_compare(void **state)
{
    (void)state;
    fp_replay_opts o;
    fp_replay_opts_default(&o);
    o.gpu = "H100";
    o.budget = 0.01;
    const fp_sim_workload *wl = fp_sim_workload_find("llama");
    fp_replay_result r[5];
    size_t n;
    fp_error err;
    assert_int_equal(fp_replay_compare(wl, &o, r, 5, &n, &err), FP_OK);
    assert_int_equal(n, 5);
    assert_string_equal(r[0].policy, "default");
    assert_string_equal(r[1].policy, "static-best");
    for (size_t i = 1; i < n; i++)
        assert_true(r[i].slowdown <= o.budget + 1e-12);
    unsigned f;
    const fp_sim_gpu *g = fp_sim_gpu_find("H100");
    fp_objective energy;
    assert_int_equal(fp_objective_parse("energy", &energy, NULL), FP_OK);
    assert_int_equal(fp_sim_optimum(g, wl, &energy, 0.01, &f, NULL, &err), FP_OK);
    assert_true(abs((int)r[1].static_mhz - (int)f) <= 30);
    assert_string_equal(r[3].policy, "phase");
    assert_true(r[3].energy_saving - r[1].energy_saving >= 0.05);
}

static void test_bad_opts(void **state)
{
    (void)state;
    fp_replay_opts o;
    fp_replay_opts_default(&o);
    o.switch_latency_s = 1; /* longer than the control period */
    fp_policy *c;
    fp_error err;
    assert_int_equal(fp_policy_new("default", NULL, &c, &err), FP_OK);
    fp_replay_result r;
    assert_int_equal(fp_replay_run(fp_sim_workload_find("vit"), c, &o, &r, &err), FP_ERR_INVALID);
    o.switch_latency_s = 0.03;
    o.gpu = "P100";
    assert_int_equal(fp_replay_run(fp_sim_workload_find("vit"), c, &o, &r, &err), FP_ERR_INVALID);
    fp_policy_free(c);
}

TU_MAIN(cmocka_unit_test(test_static_matches_truth), cmocka_unit_test(test_compare),
        cmocka_unit_test(test_bad_opts))
