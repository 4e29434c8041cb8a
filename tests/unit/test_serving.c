/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LLM serving: request traces, diurnal arrivals, the simulated server's steps against the
 * simulator's physics, the latency model, and the serving replay's bookkeeping.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "freqpilot/govern.h"
#include "testutil.h"

static fp_status load(const char *text, fp_request_list *l, fp_error *err)
{
    return fp_serving_trace_load_mem(text, strlen(text), "t.csv", l, err);
}

static void test_trace_layouts(void **state)
{
    (void)state;
    fp_request_list l;
    fp_error err;
    assert_int_equal(load("t_s,prompt_tokens,output_tokens\n0.5,100,20\n1.25,3000,1\n", &l, &err),
                     FP_OK);
    assert_int_equal(l.n, 2);
    assert_true(l.items[0].t_s == 0.5 && l.items[1].t_s == 1.25);
    assert_int_equal(l.items[1].prompt_tokens, 3000);
    assert_int_equal(l.items[1].output_tokens, 1);
    fp_request_list_free(&l);
    /* Azure's layout: times relative to the first row, 7-digit fractions kept; extra columns
     * and any column order. */
    assert_int_equal(load("ContextTokens,TIMESTAMP,GeneratedTokens,x\n"
                          "374,2023-11-16 18:15:46.6805900,44,a\n"
                          "396,2023-11-16 18:15:50.9951690,109,b\n"
                          "879,2023-11-17 00:00:00.0000001,1,c\n",
                          &l, &err),
                     FP_OK);
    assert_int_equal(l.n, 3);
    assert_true(l.items[0].t_s == 0);
    assert_true(fabs(l.items[1].t_s - 4.314579) < 1e-9);
    assert_true(fabs(l.items[2].t_s - (5 * 3600 + 44 * 60 + 13.3194101)) < 1e-6);
    assert_int_equal(l.items[1].prompt_tokens, 396);
    assert_int_equal(l.items[1].output_tokens, 109);
    fp_request_list_free(&l);
    /* offsets: both rows are the same instant */
    assert_int_equal(load("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                          "2024-05-10 02:00:00.5+02:00,10,10\n2024-05-10T00:00:00.5Z,10,10\n",
                          &l, &err),
                     FP_OK);
    assert_true(l.items[1].t_s == 0);
    fp_request_list_free(&l);
}

static void expect_error(const char *text, const char *what)
{
    fp_request_list l;
    fp_error err;
    assert_int_not_equal(load(text, &l, &err), FP_OK);
    assert_null(l.items);
    if (!strstr(err.msg, what))
        fail_msg("'%s' does not say '%s'", err.msg, what);
}

static void test_trace_errors(void **state)
{
    (void)state;
    expect_error("", "empty file");
    expect_error("t_s,prompt,output_tokens\n1,2,3\n", "expected a header with t_s,prompt_tokens");
    expect_error("t_s,prompt_tokens,output_tokens\n", "no requests");
    expect_error("t_s,prompt_tokens,output_tokens\n1,2,3\n0.5,2,3\n",
                 "t.csv:3: arrival 0.500000 s is before");
    expect_error("t_s,prompt_tokens,output_tokens\n1,0,3\n",
                 "t.csv:2: prompt_tokens: expected a whole number of tokens >= 1, found '0'");
    expect_error("t_s,prompt_tokens,output_tokens\n1,2,2.5\n", "t.csv:2: output_tokens");
    expect_error("t_s,prompt_tokens,output_tokens\n-1,2,2\n", "t.csv:2: t_s: expected seconds");
    expect_error("t_s,prompt_tokens,output_tokens\n1,2\n", "t.csv:2: expected 3 columns");
    expect_error("t_s,prompt_tokens,output_tokens\n1,2,3", "t.csv:2: truncated last line");
    expect_error("t_s,prompt_tokens,output_tokens,TIMESTAMP\n1,2,3,4\n",
                 "t.csv:1: column 4 (TIMESTAMP) gives t_s again (column 1): expected it once");
    fp_request_list l; /* a byte-order mark (a spreadsheet's) is skipped */
    assert_int_equal(load("\xEF\xBB\xBFt_s,prompt_tokens,output_tokens\n0,1,1\n", &l, NULL), FP_OK);
    assert_int_equal(l.n, 1);
    fp_request_list_free(&l);
    expect_error("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-13-16 18:15:46,1,1\n",
                 "t.csv:2: TIMESTAMP: expected a date-time");
    expect_error("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,0\n",
                 "t.csv:2: GeneratedTokens");
}

/* The generator: deterministic, its rate follows the curve, lengths have the asked means. */
static void test_arrivals(void **state)
{
    (void)state;
    fp_arrival_opts o;
    fp_arrival_opts_default(&o);
    o.duration_s = 3600;
    o.peak_rps = 8;
    o.trough_rps = 2;
    fp_request_list a, b;
    assert_int_equal(fp_arrivals_generate(&o, &a, NULL), FP_OK);
    assert_int_equal(fp_arrivals_generate(&o, &b, NULL), FP_OK);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.items, b.items, a.n * sizeof *a.items);
    /* expected: the integral of the rate, 5 req/s on average */
    assert_true(fabs((double)a.n - 5 * 3600) < 4 * sqrt(5 * 3600.0));
    double n_lo = 0, n_hi = 0, p = 0, q = 0;
    for (size_t i = 0; i < a.n; i++) {
        n_lo += a.items[i].t_s < 180 || a.items[i].t_s >= 3420;
        n_hi += fabs(a.items[i].t_s - 1800) < 180;
        p += a.items[i].prompt_tokens;
        q += a.items[i].output_tokens;
        assert_true(i == 0 || a.items[i].t_s >= a.items[i - 1].t_s);
    }
    /* rate 5 - 3 cos(2 pi t / 3600): 360 s around the trough and around the peak */
    double e_lo = 5 * 360 - 3 * 3600 * sin(M_PI / 10) / M_PI;
    double e_hi = 5 * 360 + 3 * 3600 * sin(M_PI / 10) / M_PI;
    assert_true(fabs(n_lo - e_lo) < 4 * sqrt(e_lo));
    assert_true(fabs(n_hi - e_hi) < 4 * sqrt(e_hi));
    assert_true(fabs(p / a.n / 1000 - 1) < 0.05); /* clipping at 4096 takes a little */
    assert_true(fabs(q / a.n / 200 - 1) < 0.05);
    /* written and read back */
    fp_error err;
    const char *path = tu_write_temp("", 0);
    assert_int_equal(fp_serving_trace_write(path, &a, &err), FP_OK);
    fp_request_list c;
    assert_int_equal(fp_serving_trace_load(path, &c, &err), FP_OK);
    assert_int_equal(c.n, a.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_true(fabs(c.items[i].t_s - a.items[i].t_s) < 1e-6);
        assert_int_equal(c.items[i].prompt_tokens, a.items[i].prompt_tokens);
    }
    fp_request_list_free(&a);
    fp_request_list_free(&b);
    fp_request_list_free(&c);
    o.peak_rps = 1;
    o.trough_rps = 2;
    assert_int_equal(fp_arrivals_generate(&o, &a, &err), FP_ERR_INVALID);
}

/*
 * A step is the simulator's physics: its time is h + overlap(m, c f_max / f), its power
 * fp_sim_phase_point's. Decode is memory-bound (barely slower at the knee), prefill
 * compute-bound (time ~ f_max / f); the interpolated activities reproduce the calibrated
 * LLaMA phases at their own compositions.
 */
static void test_step_physics(void **state)
{
    (void)state;
    const fp_sim_gpu *g = fp_sim_gpu_find("A100");
    fp_server_model m;
    fp_error err;
    assert_int_equal(fp_server_model_init(&m, g, "llama-7b", &err), FP_OK);
    assert_int_equal(fp_server_model_init(&m, g, "gpt-5", &err), FP_ERR_INVALID);
    assert_int_equal(fp_server_model_init(&m, g, NULL, &err), FP_OK);
    assert_true(m.kv_capacity_tokens > 40000 && m.kv_capacity_tokens < 50000);
    fp_server_step dec = {32, 0, 32 * 1100.0, 0}, pre = {0, 512, 0, 512 * 513 / 2.0};
    double secs[3];
    fp_server_step_secs(&m, &dec, secs);
    for (unsigned f = 510; f <= 1410; f += 300) {
        fp_sim_point pt;
        fp_server_step_point(&m, &dec, f, 50, &pt);
        double want = secs[0] + fp_sim_overlap_time(secs[1], secs[2] * 1410.0 / f, m.overlap_k);
        assert_true(fabs(pt.time_s - want) < 1e-12);
    }
    fp_sim_point d0, d1, p0, p1;
    fp_server_step_point(&m, &dec, 1410, 50, &d0);
    fp_server_step_point(&m, &dec, 900, 50, &d1);
    fp_server_step_point(&m, &pre, 1410, 50, &p0);
    fp_server_step_point(&m, &pre, 705, 50, &p1);
    assert_true(d1.time_s / d0.time_s < 1.02);
    assert_true(p1.time_s / p0.time_s > 1.8);
    assert_true(d1.power_w < d0.power_w && p1.power_w < p0.power_w);
    /* the decode composition of the calibrated phase gives its device-only activities */
    assert_true(m.act_decode[0] > 0 && m.act_decode[3] > m.act_decode[0]);
    assert_true(m.act_prefill[0] > m.act_decode[0]);
}

/* One request alone: its TTFT is its prefill steps, its end the decode steps after them. */
static void test_single_request(void **state)
{
    (void)state;
    fp_server_model m;
    assert_int_equal(fp_server_model_init(&m, fp_sim_gpu_find("H100"), NULL, NULL), FP_OK);
    fp_request r = {1.0, 1000, 5};
    fp_server_sim *s = fp_server_sim_new(&m, &r, 1);
    assert_non_null(s);
    fp_server_sim_set_clock(s, 1050, 0);
    fp_server_sim_advance(s, 100);
    assert_true(fp_server_sim_done(s));
    const fp_request_result *o = fp_server_sim_results(s);
    /* prefill: chunks of 512 and 488 tokens, then 4 decode steps of one token */
    double want = 0, t;
    fp_sim_point pt;
    fp_server_step a = {0, 512, 0, 512 * 513 / 2.0}, b = {0, 488, 512, 488 * 512 + 488 * 489 / 2.0};
    fp_server_step_point(&m, &a, 1050, 40, &pt);
    want += pt.time_s;
    fp_server_step_point(&m, &b, 1050, 40, &pt);
    want += pt.time_s;
    assert_true(fabs(o[0].ttft_s - want) < 1e-9);
    t = want;
    for (unsigned k = 1; k < 5; k++) {
        fp_server_step d = {1, 0, 1000.0 + k, 0};
        fp_server_step_point(&m, &d, 1050, 40, &pt);
        t += pt.time_s;
    }
    assert_true(fabs(o[0].e2e_s - t) < 1e-9);
    assert_true(fabs(o[0].tbt_mean_s - (t - want) / 4) < 1e-9);
    fp_server_totals tot;
    fp_server_sim_totals(s, &tot);
    assert_int_equal(tot.output_tokens, 5);
    assert_int_equal(tot.prompt_tokens, 1000);
    assert_true(fabs(tot.energy_j - tot.idle_energy_j - o[0].energy_j) < 1e-6 * tot.energy_j);
    assert_true(fabs(tot.busy_s - t) < 1e-9);
    fp_server_sim_free(s);
}

/* Many requests: every token and joule accounted for, the KV cache never over-committed. */
static void test_conservation(void **state)
{
    (void)state;
    fp_arrival_opts ao;
    fp_arrival_opts_default(&ao);
    ao.duration_s = 300;
    ao.peak_rps = ao.trough_rps = 3;
    fp_request_list l;
    assert_int_equal(fp_arrivals_generate(&ao, &l, NULL), FP_OK);
    fp_server_model m;
    fp_server_model_init(&m, fp_sim_gpu_find("A100"), NULL, NULL);
    fp_server_sim *s = fp_server_sim_new(&m, l.items, l.n);
    double t = 0, worst_kv = 0;
    while (!fp_server_sim_done(s) && t < 2000) {
        t += 1;
        fp_server_sim_advance(s, t);
        fp_server_interval iv;
        fp_server_sim_interval(s, &iv);
        worst_kv = fmax(worst_kv, iv.kv_tokens);
        assert_true(iv.running <= m.max_batch);
    }
    assert_true(fp_server_sim_done(s));
    assert_true(worst_kv <= m.kv_capacity_tokens);
    fp_server_totals tot;
    fp_server_sim_totals(s, &tot);
    const fp_request_result *r = fp_server_sim_results(s);
    unsigned long long p = 0, o = 0;
    double e = tot.idle_energy_j;
    for (size_t i = 0; i < l.n; i++) {
        p += l.items[i].prompt_tokens;
        o += l.items[i].output_tokens;
        e += r[i].energy_j;
        assert_true(r[i].finished && r[i].ttft_s > 0 && r[i].e2e_s >= r[i].ttft_s);
    }
    assert_int_equal(tot.prompt_tokens, p);
    assert_int_equal(tot.output_tokens, o);
    assert_int_equal(tot.finished, l.n);
    assert_true(fabs(e / tot.energy_j - 1) < 1e-9);
    fp_server_sim_free(s);
    fp_request_list_free(&l);
}

/* The latency model reads back the simulator's step times; JSON round trip. */
static void test_latency_model(void **state)
{
    (void)state;
    fp_server_model m;
    fp_server_model_init(&m, fp_sim_gpu_find("A100"), NULL, NULL);
    fp_latency_model *lm = malloc(sizeof *lm), *lm2 = malloc(sizeof *lm2);
    fp_latency_model_learn_sim(&m, lm);
    assert_int_equal(lm->n_clocks, 81);
    for (unsigned i = 0; i < lm->n_clocks; i += 10) {
        for (unsigned n = 1; n <= 512; n *= 8) {
            fp_server_step st = {n, 0, 8000, 0};
            fp_sim_point pt;
            fp_server_step_point(&m, &st, lm->clocks_mhz[i], 50, &pt);
            double pred = fp_latency_model_step(lm, i, n, 8000);
            assert_true(fabs(pred / pt.time_s - 1) < 0.02);
        }
    }
    assert_int_equal(fp_latency_model_index(lm, 903), fp_latency_model_index(lm, 900));
    fp_error err;
    const char *path = tu_write_temp("", 0);
    assert_int_equal(fp_latency_model_save(lm, path, &err), FP_OK);
    assert_int_equal(fp_latency_model_load(lm2, path, &err), FP_OK);
    assert_int_equal(lm2->n_clocks, lm->n_clocks);
    assert_true(
        fabs(fp_latency_model_step(lm2, 7, 100, 20000) / fp_latency_model_step(lm, 7, 100, 20000) -
             1) < 1e-6);
    assert_true(fabs(fp_latency_model_power(lm2, 7, 100, 20000) /
                         fp_latency_model_power(lm, 7, 100, 20000) -
                     1) < 1e-6);
    const char *bad = "{\"format\":\"freqpilot-latency-model\",\"kv_capacity_tokens\":100,"
                      "\"chunk_tokens\":512,\"max_batch\":8,\"clocks\":[{\"freq_mhz\":900,"
                      "\"step_s\":[[1]]}]}";
    assert_int_equal(fp_latency_model_load(lm2, tu_write_temp(bad, strlen(bad)), &err),
                     FP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "clocks[0].step_s"));
    free(lm);
    free(lm2);
}

static unsigned slo_decide(fp_policy *p, double t, const fp_serving_signals *g)
{
    fp_policy_input in = {t, FP_PHASE_MEMORY, 0, NULL, NAN, g};
    return fp_policy_decide(p, &in);
}

/*
 * The slo policy: no signal -> default clocks; more load -> a higher clock; a latency spike ->
 * the highest clock at once; a lower clock only after hold seconds of lower need.
 */
static void test_slo_policy(void **state)
{
    (void)state;
    fp_gpu_info info;
    fp_sim_gpu_info(fp_sim_gpu_find("A100"), 0, &info);
    fp_policy *p;
    fp_error err;
    assert_int_equal(fp_policy_new("slo", &info, &p, &err), FP_OK);
    assert_int_equal(fp_policy_configure(p, "ttft=2s,tbt=100ms,hold=5s,window=0", &err), FP_OK);
    assert_int_equal(fp_policy_start(p, &err), FP_OK);
    assert_int_equal(slo_decide(p, 0, NULL), 0);
    fp_serving_signals stale = {0};
    assert_int_equal(slo_decide(p, 0.5, &stale), 0);
    fp_serving_signals light = {1, 0, 2, 0, 500, 100, 0.5, NAN, NAN, 2000, NAN};
    fp_serving_signals heavy = {1, 3, 25, 3000, 3300, 660, 3.3, NAN, NAN, 30000, NAN};
    unsigned f_light = slo_decide(p, 1, &light);
    assert_true(f_light > 0 && f_light < 1410);
    unsigned f_heavy = slo_decide(p, 2, &heavy);
    assert_true(f_heavy > f_light);
    /* back to light load: held up for 5 s */
    assert_int_equal(slo_decide(p, 3, &light), f_heavy);
    assert_int_equal(slo_decide(p, 6, &light), f_heavy);
    assert_int_equal(slo_decide(p, 8.5, &light), f_light);
    /* a measured TTFT far over the SLO: the highest clock at once */
    fp_serving_signals spike = light;
    spike.ttft_p99_s = 6;
    assert_int_equal(slo_decide(p, 9, &spike), 1410);
    assert_int_equal(slo_decide(p, 10, &stale), 0);
    /* a latency model file that is not one: a clear error at start */
    assert_int_equal(fp_policy_set(p, "model", "/nonexistent/model.json", &err), FP_OK);
    assert_int_not_equal(fp_policy_start(p, &err), FP_OK);
    assert_non_null(strstr(err.msg, "/nonexistent/model.json"));
    fp_policy_free(p);
}

/* The replay: deterministic; static-best is the least energy per token among the static
 * clocks that meet the SLO; every flag agrees with its numbers. */
static void test_compare(void **state)
{
    (void)state;
    fp_arrival_opts ao;
    fp_arrival_opts_default(&ao);
    ao.duration_s = 240;
    ao.peak_rps = 3.4;
    ao.trough_rps = 0.85;
    ao.period_s = 240;
    fp_request_list l;
    assert_int_equal(fp_arrivals_generate(&ao, &l, NULL), FP_OK);
    fp_serving_opts o;
    fp_serving_opts_default(&o);
    fp_serving_result rows[6], sweep[81], again;
    size_t nr, ns;
    fp_error err;
    assert_int_equal(fp_serving_compare(l.items, l.n, &o, rows, 6, &nr, sweep, 81, &ns, &err),
                     FP_OK);
    assert_int_equal(ns, 81);
    assert_string_equal(rows[0].policy, "default");
    const fp_serving_result *best = NULL;
    for (size_t i = 0; i < nr; i++)
        if (strcmp(rows[i].policy, "static-best") == 0)
            best = &rows[i];
    assert_non_null(best);
    for (size_t i = 0; i < ns; i++) {
        if (sweep[i].meets_slo)
            assert_true(sweep[i].energy_per_token_j >= best->energy_per_token_j - 1e-12);
        int meets = sweep[i].attainment >= o.attainment - 1e-12 &&
                    sweep[i].ttft_p99_s <= o.ttft_s && !(sweep[i].tbt_p99_s > o.tbt_s);
        assert_int_equal(meets, sweep[i].meets_slo);
    }
    fp_gpu_info info;
    fp_sim_gpu_info(fp_sim_gpu_find("A100"), 0, &info);
    fp_policy *p;
    fp_policy_new("static", &info, &p, NULL);
    fp_policy_set_num(p, "clock", best->static_mhz, NULL);
    assert_int_equal(fp_serving_run(l.items, l.n, p, &o, &again, &err), FP_OK);
    assert_true(again.energy_j == best->energy_j && again.attainment == best->attainment);
    fp_policy_free(p);
    for (size_t i = 0; i < nr; i++)
        fp_serving_result_free(&rows[i]);
    fp_serving_result_free(&again);
    o.ttft_s = 0;
    assert_int_equal(fp_serving_compare(l.items, l.n, &o, rows, 6, &nr, sweep, 81, &ns, &err),
                     FP_ERR_INVALID);
    fp_request_list_free(&l);
}

TU_MAIN(cmocka_unit_test(test_trace_layouts), cmocka_unit_test(test_trace_errors),
        cmocka_unit_test(test_arrivals), cmocka_unit_test(test_step_physics),
        cmocka_unit_test(test_single_request), cmocka_unit_test(test_conservation),
        cmocka_unit_test(test_latency_model), cmocka_unit_test(test_slo_policy),
        cmocka_unit_test(test_compare))
