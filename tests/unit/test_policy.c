/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "freqpilot/govern.h"
#include "testutil.h"

static void a100(fp_policy_cfg *c, fp_policy_kind k)
{
    fp_gpu_info info;
    fp_sim_gpu_info(fp_sim_gpu_find("A100"), 0, &info);
    fp_policy_cfg_init(c, k, &info);
}

static void test_activity_law(void **state)
{
    (void)state;
    fp_policy_cfg c;
    a100(&c, FP_POLICY_ACTIVITY);
    c.f_e_mhz = 900;
    fp_policy p;
    assert_int_equal(fp_policy_init(&p, &c, NULL), FP_OK);
    fp_sample s;
    fp_sample_clear(&s);
    fp_policy_input in = {0, FP_PHASE_COMPUTE, 0, &s, NAN};
    s.v[FP_COL_SM_ACTIVE] = 0.5; /* 900 + 510 * 0.5 = 1155: a supported clock */
    assert_int_equal(fp_policy_decide(&p, &in), 1155);
    s.v[FP_COL_SM_ACTIVE] = 1.0;
    assert_int_equal(fp_policy_decide(&p, &in), 1410);
    s.v[FP_COL_SM_ACTIVE] = 0.0;
    assert_int_equal(fp_policy_decide(&p, &in), 900);
    p.cfg.bias = 0.5; /* a' = 0.25 -> 1027.5, next supported clock up: 1035 */
    s.v[FP_COL_SM_ACTIVE] = 0.5;
    assert_int_equal(fp_policy_decide(&p, &in), 1035);
    c.bias = 2;
    assert_int_equal(fp_policy_init(&p, &c, NULL), FP_ERR_INVALID);
}

static void test_phase_and_static(void **state)
{
    (void)state;
    fp_policy_cfg c;
    a100(&c, FP_POLICY_PHASE);
    fp_error err;
    assert_int_equal(fp_policy_parse_phase_clocks(&c, "memory=903,compute=1410", &err), FP_OK);
    assert_int_equal(c.phase_mhz[FP_PHASE_MEMORY], 900);
    assert_int_equal(fp_policy_parse_phase_clocks(&c, "warp=9", &err), FP_ERR_INVALID);
    fp_policy p;
    fp_policy_init(&p, &c, NULL);
    fp_policy_input in = {0, FP_PHASE_MEMORY, 1, NULL, NAN};
    assert_int_equal(fp_policy_decide(&p, &in), 900);
    in.phase = FP_PHASE_COMPUTE;
    assert_int_equal(fp_policy_decide(&p, &in), 1410);

    const char *js = "{\"baseline\":\"max\",\"results\":[{\"gpu\":\"A100\",\"app\":\"vit\","
                     "\"objective\":\"energy\",\"max_slowdown\":0.05,\"freq_mhz\":900,"
                     "\"baseline_mhz\":1410,\"verdict\":\"suspect: not a DVFS effect\"},"
                     "{\"gpu\":\"A100\",\"app\":\"llama\",\"objective\":\"energy\","
                     "\"max_slowdown\":0.05,\"freq_mhz\":780,\"baseline_mhz\":1410,"
                     "\"verdict\":\"deployable\"}]}";
    const char *path = tu_write_temp(js, strlen(js));
    unsigned f = 0;
    assert_int_equal(fp_policy_static_from_json(path, "A100", "llama", 0.05, &f, &err), FP_OK);
    assert_int_equal(f, 780);
    assert_int_equal(fp_policy_static_from_json(path, "H100", NULL, NAN, &f, &err), FP_ERR_INVALID);
    /* A recommendation that is not deployable is never applied, and the error says why. */
    assert_int_equal(fp_policy_static_from_json(path, "A100", "vit", NAN, &f, &err),
                     FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "suspect: not a DVFS effect"));
}

/* Learned clocks on A100 llama: decode (memory-bound) runs lower than prefill (compute-bound),
 * and the model-predicted window time stays within the budget. */
static void test_learn(void **state)
{
    (void)state;
    const fp_sim_gpu *g = fp_sim_gpu_find("A100");
    const fp_sim_workload *wl = fp_sim_workload_find("llama");
    fp_policy_cfg c;
    a100(&c, FP_POLICY_PHASE);
    assert_int_equal(fp_policy_learn_phase_clocks_sim(&c, g, wl, 0.01, NULL, NULL), FP_OK);
    assert_true(c.phase_mhz[FP_PHASE_MEMORY] < c.phase_mhz[FP_PHASE_COMPUTE]);
    double t0;
    fp_sim_expected(g, wl, 1410, &t0, NULL, NULL, NULL);
    double tc, tm;
    fp_sim_expected(g, wl, c.phase_mhz[FP_PHASE_COMPUTE], &tc, NULL, NULL, NULL);
    fp_sim_expected(g, wl, c.phase_mhz[FP_PHASE_MEMORY], &tm, NULL, NULL, NULL);
    assert_true(tc <= t0 * 1.01 + 1e-9); /* each alone at least as fast as the slower */
    assert_true(tm > tc);
}

/* The knapsack plan equals a brute-force search over every combination of clocks. */
static void test_plan_exact(void **state)
{
    (void)state;
    enum { N = 7 };
    double T[FP_PHASE_COUNT * N], E[FP_PHASE_COUNT * N];
    uint64_t x = 12345;
    for (int trial = 0; trial < 200; trial++) {
        for (int i = 0; i < FP_PHASE_COUNT * N; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            T[i] = 1 + (double)(x >> 40) / (1 << 24) * 9;
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            E[i] = 1 + (double)(x >> 40) / (1 << 24) * 9;
        }
        int used[FP_PHASE_COUNT] = {1, 1, trial % 2, 1};
        double limit = 12 + trial % 20;
        double best = INFINITY;
        for (int a = 0; a < N; a++)
            for (int b = 0; b < N; b++)
                for (int c = 0; c < (used[2] ? N : 1); c++)
                    for (int d = 0; d < N; d++) {
                        double t = T[a] + T[N + b] + (used[2] ? T[2 * N + c] : 0) + T[3 * N + d];
                        double e = E[a] + E[N + b] + (used[2] ? E[2 * N + c] : 0) + E[3 * N + d];
                        if (t <= limit && e < best)
                            best = e;
                    }
        unsigned pick[FP_PHASE_COUNT];
        int r = fp_phase_plan(T, E, used, N, limit, pick);
        assert_int_equal(r, isfinite(best) ? 1 : 0);
        if (r == 1) {
            double e = 0, t = 0;
            for (int p = 0; p < FP_PHASE_COUNT; p++)
                if (used[p]) {
                    e += E[p * N + pick[p]];
                    t += T[p * N + pick[p]];
                }
            assert_true(t <= limit + 1e-9);
            assert_true(fabs(e - best) < 1e-9);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activity_law),
        cmocka_unit_test(test_phase_and_static),
        cmocka_unit_test(test_learn),
        cmocka_unit_test(test_plan_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
