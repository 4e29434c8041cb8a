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

static fp_policy *a100(const char *name)
{
    fp_gpu_info info;
    fp_sim_gpu_info(fp_sim_gpu_find("A100"), 0, &info);
    fp_policy *p = NULL;
    assert_int_equal(fp_policy_new(name, &info, &p, NULL), FP_OK);
    return p;
}

static void test_activity_law(void **state)
{
    (void)state;
    fp_policy *p = a100("activity");
    fp_error err;
    assert_int_equal(fp_policy_configure(p, "f_e=900", &err), FP_OK);
    assert_int_equal(fp_policy_start(p, &err), FP_OK);
    fp_sample s;
    fp_sample_clear(&s);
    fp_policy_input in = {0, FP_PHASE_COMPUTE, 0, &s, NAN, NULL};
    s.v[FP_COL_SM_ACTIVE] = 0.5; /* 900 + 510 * 0.5 = 1155: a supported clock */
    assert_int_equal(fp_policy_decide(p, &in), 1155);
    s.v[FP_COL_SM_ACTIVE] = 1.0;
    assert_int_equal(fp_policy_decide(p, &in), 1410);
    s.v[FP_COL_SM_ACTIVE] = 0.0;
    assert_int_equal(fp_policy_decide(p, &in), 900);
    /* a' = 0.25 -> 1027.5, next supported clock up: 1035 */
    assert_int_equal(fp_policy_set(p, "bias", "0.5", &err), FP_OK);
    assert_int_equal(fp_policy_decide(p, &in), 0); /* changed settings: restart first */
    assert_int_equal(fp_policy_start(p, &err), FP_OK);
    s.v[FP_COL_SM_ACTIVE] = 0.5;
    assert_int_equal(fp_policy_decide(p, &in), 1035);
    assert_int_equal(fp_policy_set(p, "bias", "2", &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "bias=2: expected -1..1"));
    fp_policy_free(p);
}

static void test_phase_and_static(void **state)
{
    (void)state;
    fp_policy *p = a100("phase");
    fp_error err;
    assert_int_equal(fp_policy_configure(p, "memory=903, compute = 1410", &err), FP_OK);
    assert_int_equal(fp_policy_get_num(p, "memory"), 900);
    assert_int_equal(fp_policy_configure(p, "warp=9", &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "unknown setting 'warp' (expected f_e, idle, compute"));
    assert_int_equal(fp_policy_configure(p, "memory", &err), FP_ERR_INVALID);
    assert_int_equal(fp_policy_configure(p, "memory=fast", &err), FP_ERR_INVALID);
    assert_int_equal(fp_policy_start(p, &err), FP_OK);
    fp_policy_input in = {0, FP_PHASE_MEMORY, 1, NULL, NAN, NULL};
    assert_int_equal(fp_policy_decide(p, &in), 900);
    in.phase = FP_PHASE_COMPUTE;
    assert_int_equal(fp_policy_decide(p, &in), 1410);
    fp_policy_free(p);

    p = a100("static");
    assert_int_equal(fp_policy_start(p, &err), FP_OK);
    assert_int_equal(fp_policy_decide(p, &in), 1410); /* default: f_max */
    assert_int_equal(fp_policy_set_num(p, "clock", 1003, &err), FP_OK);
    assert_int_equal(fp_policy_start(p, &err), FP_OK);
    assert_int_equal(fp_policy_decide(p, &in), 1005);
    fp_policy_free(p);

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

/*
 * The registry: every policy is found by its name, has a summary and distinct tunables that
 * take their own default back through fp_policy_set; f_e moves the defaults of the settings
 * not given, never those given; a policy without a clock table refuses to start (but default).
 */
static void test_registry(void **state)
{
    (void)state;
    fp_gpu_info info;
    fp_sim_gpu_info(fp_sim_gpu_find("A100"), 0, &info);
    assert_true(fp_policy_count() >= 5);
    assert_null(fp_policy_find("ondemand"));
    fp_error err;
    fp_policy *p = NULL;
    assert_int_equal(fp_policy_new("ondemand", &info, &p, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "expected default, static, activity, phase, feedback"));
    for (size_t i = 0; i < fp_policy_count(); i++) {
        const fp_policy_ops *ops = fp_policy_at(i);
        assert_ptr_equal(fp_policy_find(ops->name), ops);
        assert_true(ops->summary && *ops->summary && ops->decide && ops->size >= sizeof(fp_policy));
        assert_int_equal(fp_policy_new(ops->name, &info, &p, &err), FP_OK);
        for (const fp_policy_tunable *t = ops->tunables; t->name; t++) {
            assert_true(t->help && *t->help);
            for (const fp_policy_tunable *u = t + 1; u->name; u++)
                assert_true(strcmp(t->name, u->name) != 0);
            if (t->type == FP_TUNE_STR)
                continue;
            double v = fp_policy_get_num(p, t->name);
            assert_false(isnan(v));
            assert_int_equal(fp_policy_set_num(p, t->name, v, &err), FP_OK);
            assert_true(fp_policy_get_num(p, t->name) == v);
        }
        assert_int_equal(fp_policy_start(p, &err), FP_OK);
        fp_policy_free(p);
        if (strcmp(ops->name, "default") != 0) {
            assert_int_equal(fp_policy_new(ops->name, NULL, &p, &err), FP_OK);
            assert_int_equal(fp_policy_start(p, &err), FP_ERR_INVALID);
            fp_policy_free(p);
        }
    }
    p = a100("phase");
    assert_int_equal(fp_policy_get_num(p, "idle"), 900); /* f_e = 0.64 f_max, snapped */
    assert_int_equal(fp_policy_configure(p, "host=600,f_e=1005", &err), FP_OK);
    assert_int_equal(fp_policy_get_num(p, "idle"), 1005);
    assert_int_equal(fp_policy_get_num(p, "memory"), 1005);
    assert_int_equal(fp_policy_get_num(p, "host"), 600);
    assert_int_equal(fp_policy_get_num(p, "compute"), 1410);
    char d[256];
    fp_policy_describe(p, d, sizeof d);
    assert_string_equal(d, "idle=1005,compute=1410,memory=1005,host=600");
    fp_policy_free(p);
    p = a100("feedback");
    assert_int_equal(fp_policy_configure(p, "step=100ms,probe=0.5 s", &err), FP_OK);
    assert_true(fabs(fp_policy_get_num(p, "step") - 0.1) < 1e-12);
    assert_true(fabs(fp_policy_get_num(p, "probe") - 0.5) < 1e-12);
    assert_int_equal(fp_policy_configure(p, "step=soon", &err), FP_ERR_INVALID);
    fp_policy_free(p);
}

/* Learned clocks on A100 llama: decode (memory-bound) runs lower than prefill (compute-bound),
 * and the model-predicted window time stays within the budget. */
static void test_learn(void **state)
{
    (void)state;
    const fp_sim_gpu *g = fp_sim_gpu_find("A100");
    const fp_sim_workload *wl = fp_sim_workload_find("llama");
    fp_policy *p = a100("phase");
    assert_int_equal(fp_policy_learn_phase_clocks_sim(p, g, wl, 0.01, NULL, NULL), FP_OK);
    unsigned fc = (unsigned)fp_policy_get_num(p, "compute");
    unsigned fm = (unsigned)fp_policy_get_num(p, "memory");
    assert_true(fm < fc);
    double t0;
    fp_sim_expected(g, wl, 1410, &t0, NULL, NULL, NULL);
    double tc, tm;
    fp_sim_expected(g, wl, fc, &tc, NULL, NULL, NULL);
    fp_sim_expected(g, wl, fm, &tm, NULL, NULL, NULL);
    assert_true(tc <= t0 * 1.01 + 1e-9); /* each alone at least as fast as the slower */
    assert_true(tm > tc);
    fp_policy_free(p);
    p = a100("static");
    assert_int_equal(fp_policy_learn_phase_clocks_sim(p, g, wl, 0.01, NULL, NULL), FP_ERR_INVALID);
    fp_policy_free(p);
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

TU_MAIN(cmocka_unit_test(test_activity_law), cmocka_unit_test(test_phase_and_static),
        cmocka_unit_test(test_registry), cmocka_unit_test(test_learn),
        cmocka_unit_test(test_plan_exact))
