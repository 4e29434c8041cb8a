/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fp_aggregate on run lists built here (every rule with its numbers) and on the
 * real measured_runs.csv (cold starts and clock-dependence findings checked
 * against values read from the file by the test itself).
 */
#define _GNU_SOURCE
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
#include "freqpilot/run.h"
#include "freqpilot/stats.h"
#include "testutil.h"

/* A run (its strings: gpu and app as given, the source in a ring of buffers that outlives the
 * few runs built before each is pushed, which copies them). */
static fp_run mk(const char *gpu, const char *app, double f, long idx, double t, double e)
{
    static char sources[64][32];
    static unsigned next;
    char *src = sources[next++ % 64];
    fp_run r;
    fp_run_init(&r);
    r.gpu = gpu;
    r.app = app;
    r.freq_mhz = f;
    r.run_index = idx;
    r.time_s = t;
    r.energy_j = e;
    r.power_w = e / t;
    snprintf(src, sizeof sources[0], "test:%ld", idx);
    r.source = src;
    return r;
}

static void add(fp_run_list *l, fp_run r)
{
    assert_int_equal(fp_run_list_push(l, &r, NULL), FP_OK);
}

static const fp_agg_row *row_at(const fp_agg_result *res, const char *gpu, const char *app,
                                double f)
{
    for (size_t i = 0; i < res->nrows; i++)
        if (!strcmp(res->rows[i].gpu, gpu) && !strcmp(res->rows[i].app, app) &&
            fabs(res->rows[i].freq_mhz - f) < 0.5)
            return &res->rows[i];
    return NULL;
}

static int has_finding(const fp_agg_result *res, const char *gpu, const char *app, uint32_t flag)
{
    for (size_t i = 0; i < res->nfindings; i++)
        if (!strcmp(res->findings[i].gpu, gpu) && !strcmp(res->findings[i].app, app) &&
            res->findings[i].flag == flag)
            return 1;
    return 0;
}

static void test_basic_centres(void **state)
{
    (void)state;
    fp_run_list l = {0};
    /* No sweep positions: no cold-start or drift logic. */
    add(&l, mk("A100", "llm", 1410, -1, 10.0, 2000));
    add(&l, mk("A100", "llm", 1410, -1, 10.4, 2100));
    add(&l, mk("A100", "llm", 1410, -1, 10.2, 2040));
    add(&l, mk("A100", "llm", 1005, -1, 13.0, 1700));
    fp_run r = mk("A100", "llm", 1005, -1, 13.4, 1800);
    r.flags = FP_FLAG_THROTTLED;
    r.sm_active = 0.5;
    add(&l, r);
    add(&l, mk("A100", "llm", 705, -1, 18.0, 1900));
    fp_agg_options o;
    fp_agg_options_init(&o);
    fp_agg_result res;
    fp_error err;
    assert_int_equal(fp_aggregate(&l, &o, &res, &err), FP_OK);
    assert_int_equal(res.nrows, 3);
    /* Sorted by clock descending. */
    assert_float_equal(res.rows[0].freq_mhz, 1410, 0);
    assert_float_equal(res.rows[1].freq_mhz, 1005, 0);
    assert_float_equal(res.rows[2].freq_mhz, 705, 0);
    const fp_agg_row *a = &res.rows[0];
    assert_int_equal(a->runs, 3);
    assert_int_equal(a->runs_dropped, 0);
    assert_float_equal(a->time_s, 10.2, 1e-12);
    assert_float_equal(a->energy_j, 2040, 1e-9);
    assert_float_equal(a->edp, 2040 * 10.2, 1e-6);
    assert_float_equal(a->ed2p, 2040 * 10.2 * 10.2, 1e-6);
    /* Power: median of the per-run powers, not E/T of the medians. */
    double p[] = {200.0, 2100 / 10.4, 200.0};
    assert_float_equal(a->power_w, fp_stats_median(p, 3), 1e-9);
    assert_true(a->time_s_lo <= 10.2 && a->time_s_hi >= 10.2);
    assert_true(a->time_s_lo >= 10.0 && a->time_s_hi <= 10.4);
    assert_int_equal(a->flags, 0);
    /* Two runs: median = mean; flags OR; activity mean over runs that have it. */
    const fp_agg_row *b = &res.rows[1];
    assert_float_equal(b->time_s, 13.2, 1e-12);
    assert_true(b->flags & FP_FLAG_THROTTLED);
    assert_float_equal(b->sm_active, 0.5, 1e-12);
    assert_true(isnan(a->sm_active));
    /* One run: no interval, never a made-up one. */
    const fp_agg_row *c = &res.rows[2];
    assert_int_equal(c->runs, 1);
    assert_float_equal(c->time_s, 18.0, 0);
    assert_true(isnan(c->time_s_lo) && isnan(c->time_s_hi) && isnan(c->energy_j_lo));
    assert_true(isnan(c->time_cv));
    fp_agg_result_free(&res);

    /* Mean centre and t interval. */
    o.center = FP_CENTER_MEAN;
    o.ci = FP_CI_T;
    assert_int_equal(fp_aggregate(&l, &o, &res, &err), FP_OK);
    double t3[] = {10.0, 10.4, 10.2}, lo, hi;
    fp_stats_t_ci(t3, 3, 0.95, &lo, &hi);
    assert_float_equal(res.rows[0].time_s, 10.2, 1e-12);
    assert_float_equal(res.rows[0].time_s_lo, lo, 1e-12);
    assert_float_equal(res.rows[0].time_s_hi, hi, 1e-12);
    fp_agg_result_free(&res);
    fp_run_list_free(&l);
}

static void test_reproducible(void **state)
{
    (void)state;
    fp_run_list l = {0};
    double t[] = {10.1, 9.8, 10.4, 10.0, 11.2};
    for (int i = 0; i < 5; i++)
        add(&l, mk("V100", "vit", 1380, -1, t[i], 100 * t[i]));
    fp_agg_options o;
    fp_agg_options_init(&o);
    fp_agg_result r1, r2;
    assert_int_equal(fp_aggregate(&l, &o, &r1, NULL), FP_OK);
    assert_int_equal(fp_aggregate(&l, &o, &r2, NULL), FP_OK);
    assert_true(r1.rows[0].time_s_lo == r2.rows[0].time_s_lo);
    assert_true(r1.rows[0].energy_j_hi == r2.rows[0].energy_j_hi);
    fp_agg_result_free(&r1);
    fp_agg_result_free(&r2);
    fp_run_list_free(&l);
}

static void test_failed_dropped(void **state)
{
    (void)state;
    fp_run_list l = {0};
    add(&l, mk("H100", "sd", 1785, -1, 10, 1000));
    fp_run r = mk("H100", "sd", 1785, -1, 1, 50);
    r.flags = FP_FLAG_FAILED;
    add(&l, r);
    r = mk("H100", "sd", 900, -1, 1, 50);
    r.flags = FP_FLAG_FAILED;
    add(&l, r);
    fp_agg_result res;
    assert_int_equal(fp_aggregate(&l, NULL, &res, NULL), FP_OK);
    assert_int_equal(res.nrows, 2);
    assert_int_equal(res.rows[0].runs, 1);
    assert_int_equal(res.rows[0].runs_dropped, 1);
    assert_float_equal(res.rows[0].time_s, 10, 0);
    /* Every run failed: the row stays, empty. */
    assert_int_equal(res.rows[1].runs, 0);
    assert_true(isnan(res.rows[1].time_s) && isnan(res.rows[1].energy_j));
    assert_true(res.rows[1].flags & FP_FLAG_FAILED);
    assert_int_equal(res.dropped.len, 2);
    fp_agg_result_free(&res);
    fp_run_list_free(&l);
}

/* A descending sweep of nclk clocks x 3 runs; time = 10 * 1410 / f + noise pattern. */
static void sweep(fp_run_list *l, const char *app, int nclk, const double *first)
{
    long idx = 1;
    for (int c = 0; c < nclk; c++) {
        double f = 1410 - 15 * c;
        for (int k = 0; k < 3; k++, idx++) {
            double t = 10.0 * 1410.0 / f * (1.0 + 0.004 * (k - 1));
            if (first && idx <= 3 && !isnan(first[idx - 1]))
                t = first[idx - 1];
            add(l, mk("A100", app, f, idx, t, 200 * t));
        }
    }
}

static void test_cold_starts(void **state)
{
    (void)state;
    fp_run_list l = {0};
    /* Runs 1-2 slow (cold), run 3 normal: 1 and 2 dropped, run 3 kept. */
    double first[] = {60.0, 14.0, NAN};
    sweep(&l, "vit", 20, first);
    fp_agg_result res;
    assert_int_equal(fp_aggregate(&l, NULL, &res, NULL), FP_OK);
    const fp_agg_row *top = row_at(&res, "A100", "vit", 1410);
    assert_non_null(top);
    assert_int_equal(top->runs, 1);
    assert_int_equal(top->runs_dropped, 2);
    assert_true(top->flags & FP_FLAG_COLD_START_DROPPED);
    assert_float_equal(top->time_s, 10.0 * 1.004, 1e-9);
    assert_int_equal(res.dropped.len, 2);
    for (size_t i = 0; i < res.dropped.len; i++) {
        assert_true(res.dropped.items[i].flags & FP_FLAG_COLD_START_DROPPED);
        assert_true(res.dropped.items[i].run_index <= 2);
    }
    fp_agg_result_free(&res);
    /* Disabled: nothing dropped as a cold start (run 1 is an outlier in its group of 3? it is
     * kept because 3 runs with MAD rule keep at least 2 and 60 is the only far one). */
    fp_agg_options o;
    fp_agg_options_init(&o);
    o.drop_cold_starts = 0;
    o.drop_outliers = 0;
    assert_int_equal(fp_aggregate(&l, &o, &res, NULL), FP_OK);
    top = row_at(&res, "A100", "vit", 1410);
    assert_int_equal(top->runs, 3);
    assert_float_equal(top->time_s, 14.0, 1e-12);
    fp_agg_result_free(&res);
    fp_run_list_free(&l);

    /* All three runs of the first clock cold: the row stays with runs=0 and no numbers. */
    fp_run_list l2 = {0};
    double all[] = {90.0, 40.0, 20.0};
    sweep(&l2, "whisper", 20, all);
    assert_int_equal(fp_aggregate(&l2, NULL, &res, NULL), FP_OK);
    top = row_at(&res, "A100", "whisper", 1410);
    assert_int_equal(top->runs, 0);
    assert_int_equal(top->runs_dropped, 3);
    assert_true(isnan(top->time_s) && isnan(top->energy_j) && isnan(top->power_w));
    assert_true(isnan(top->edp) && isnan(top->time_s_lo));
    assert_true(top->flags & FP_FLAG_COLD_START_DROPPED);
    /* The next clock is untouched. */
    assert_int_equal(row_at(&res, "A100", "whisper", 1395)->runs, 3);
    fp_agg_result_free(&res);
    fp_run_list_free(&l2);

    /* Positions from start times when run_index is unknown (inputs shuffled). */
    fp_run_list l4 = {0};
    double cold2[] = {60.0, 14.0, NAN};
    sweep(&l4, "utc", 20, cold2);
    for (size_t i = 0; i < l4.len; i++) {
        l4.items[i].start_utc = 1.75e9 + 100.0 * (double)l4.items[i].run_index;
        l4.items[i].run_index = -1;
    }
    for (size_t i = 0; i + 1 < l4.len; i += 2) {
        fp_run tmp = l4.items[i];
        l4.items[i] = l4.items[l4.len - 1 - i];
        l4.items[l4.len - 1 - i] = tmp;
    }
    assert_int_equal(fp_aggregate(&l4, NULL, &res, NULL), FP_OK);
    assert_int_equal(res.dropped.len, 2);
    assert_float_equal(res.dropped.items[0].start_utc, 1.75e9 + 100.0, 0);
    assert_true(res.dropped.items[1].flags & FP_FLAG_COLD_START_DROPPED);
    fp_agg_result_free(&res);
    fp_run_list_free(&l4);

    /* A slow run after a normal one is not a cold start (the prefix rule). */
    fp_run_list l3 = {0};
    double gap[] = {NAN, 40.0, NAN};
    sweep(&l3, "llm", 20, gap);
    fp_agg_options_init(&o);
    o.drop_outliers = 0;
    assert_int_equal(fp_aggregate(&l3, &o, &res, NULL), FP_OK);
    assert_int_equal(row_at(&res, "A100", "llm", 1410)->runs, 3);
    assert_int_equal(res.dropped.len, 0);
    fp_agg_result_free(&res);
    fp_run_list_free(&l3);
}

static void test_outliers(void **state)
{
    (void)state;
    fp_run_list l = {0};
    double t[] = {10.0, 10.1, 9.9, 10.05, 30.0};
    for (int i = 0; i < 5; i++)
        add(&l, mk("V100", "sd", 1380, -1, t[i], 100));
    /* Of three runs two far off: at least 2 are kept. */
    double u[] = {10.0, 30.0, 31.0};
    for (int i = 0; i < 3; i++)
        add(&l, mk("V100", "sd", 1000, -1, u[i], 100));
    /* Within 25 % of the median: kept even though the MAD is tiny. */
    double w[] = {10.0, 10.0, 10.0, 12.0};
    for (int i = 0; i < 4; i++)
        add(&l, mk("V100", "sd", 900, -1, w[i], 100));
    fp_agg_result res;
    assert_int_equal(fp_aggregate(&l, NULL, &res, NULL), FP_OK);
    const fp_agg_row *a = row_at(&res, "V100", "sd", 1380);
    assert_int_equal(a->runs, 4);
    assert_int_equal(a->runs_dropped, 1);
    assert_true(a->flags & FP_FLAG_OUTLIER_DROPPED);
    assert_float_equal(a->time_s, 10.025, 1e-12);
    const fp_agg_row *b = row_at(&res, "V100", "sd", 1000);
    /* median 30, MAD 1 -> limit max(3.5*1.4826, 7.5) = 7.5: 10 is out, 31 stays. */
    assert_int_equal(b->runs, 2);
    assert_float_equal(b->time_s, 30.5, 1e-12);
    assert_int_equal(row_at(&res, "V100", "sd", 900)->runs, 4);
    assert_true(row_at(&res, "V100", "sd", 900)->flags & FP_FLAG_HIGH_CV ? 0 : 1);
    assert_int_equal(res.dropped.len, 2);
    fp_agg_result_free(&res);
    fp_run_list_free(&l);
}

static void test_high_cv(void **state)
{
    (void)state;
    fp_run_list l = {0};
    double t[] = {10, 12, 14, 11}; /* CV = 0.1466 */
    for (int i = 0; i < 4; i++)
        add(&l, mk("V100", "x", 1380, -1, t[i], 100));
    fp_agg_options o;
    fp_agg_options_init(&o);
    o.drop_outliers = 0;
    fp_agg_result res;
    assert_int_equal(fp_aggregate(&l, &o, &res, NULL), FP_OK);
    assert_float_equal(res.rows[0].time_cv, fp_stats_cv(t, 4), 1e-12);
    assert_true(res.rows[0].flags & FP_FLAG_HIGH_CV);
    fp_agg_result_free(&res);
    o.cv_threshold = 0.2;
    assert_int_equal(fp_aggregate(&l, &o, &res, NULL), FP_OK);
    assert_false(res.rows[0].flags & FP_FLAG_HIGH_CV);
    fp_agg_result_free(&res);
    fp_run_list_free(&l);
}

static void test_clock_bound(void **state)
{
    (void)state;
    fp_run_list l = {0};
    /* Clock bound: time = 2 + 8 * fmax / f (small noise). */
    sweep(&l, "bound", 30, NULL);
    /* Not clock bound: time jumps between 10 and 16 s whatever the clock. */
    long idx = 1;
    for (int c = 0; c < 30; c++)
        for (int k = 0; k < 3; k++, idx++) {
            double t = (c * 7 % 5 < 2 ? 16.0 : 10.0) + 0.05 * k;
            add(&l, mk("A100", "host", 1410 - 15 * c, idx, t, 50 * t));
        }
    fp_agg_result res;
    assert_int_equal(fp_aggregate(&l, NULL, &res, NULL), FP_OK);
    assert_true(has_finding(&res, "A100", "host", FP_FLAG_NOT_CLOCK_BOUND));
    assert_non_null(row_at(&res, "A100", "host", 1005));
    assert_true(row_at(&res, "A100", "host", 1005)->flags & FP_FLAG_NOT_CLOCK_BOUND);
    assert_false(has_finding(&res, "A100", "bound", FP_FLAG_NOT_CLOCK_BOUND));
    assert_false(row_at(&res, "A100", "bound", 1410)->flags & FP_FLAG_NOT_CLOCK_BOUND);
    assert_false(has_finding(&res, "A100", "bound", FP_FLAG_DRIFT));
    fp_agg_result_free(&res);
    fp_run_list_free(&l);
}

static void test_drift(void **state)
{
    (void)state;
    /* Interleaved sweep (clocks round-robin), time grows 10 % over 60 runs. */
    const double clocks[] = {1410, 1200, 1000, 800};
    fp_run_list l = {0}, flat = {0};
    for (long i = 0; i < 60; i++) {
        double f = clocks[i % 4];
        double base = 10.0 * 1410 / f;
        add(&l, mk("H100", "drifty", f, i + 1, base * (1.0 + 0.10 * i / 59.0), 100 * base));
        add(&flat,
            mk("H100", "steady", f, i + 1, base * (1.0 + 0.003 * ((i * 7) % 3 - 1)), 100 * base));
    }
    fp_agg_options o;
    fp_agg_options_init(&o);
    o.drop_cold_starts = 0; /* the rising sweep would otherwise look warm from the start */
    fp_agg_result res;
    assert_int_equal(fp_aggregate(&l, &o, &res, NULL), FP_OK);
    assert_true(has_finding(&res, "H100", "drifty", FP_FLAG_DRIFT));
    assert_true(res.rows[0].flags & FP_FLAG_DRIFT);
    fp_agg_result_free(&res);
    assert_int_equal(fp_aggregate(&flat, &o, &res, NULL), FP_OK);
    assert_false(has_finding(&res, "H100", "steady", FP_FLAG_DRIFT));
    fp_agg_result_free(&res);
    fp_run_list_free(&l);
    fp_run_list_free(&flat);
}

static void test_strict_and_invalid(void **state)
{
    (void)state;
    fp_run_list l = {0};
    double t[] = {10.0, 10.1, 9.9, 30.0};
    for (int i = 0; i < 4; i++)
        add(&l, mk("V100", "sd", 1380, -1, t[i], 100));
    fp_agg_options o;
    fp_agg_options_init(&o);
    o.strict = 1;
    fp_agg_result res;
    fp_error err;
    assert_int_equal(fp_aggregate(&l, &o, &res, &err), FP_ERR_QUALITY);
    assert_non_null(strstr(err.msg, "outlier_dropped"));
    assert_non_null(strstr(err.msg, "test:-1"));
    assert_null(res.rows);
    /* Clean data passes strict. */
    fp_run_list clean = {0};
    for (int i = 0; i < 3; i++)
        add(&clean, mk("V100", "sd", 1380, -1, 10 + 0.01 * i, 100));
    assert_int_equal(fp_aggregate(&clean, &o, &res, &err), FP_OK);
    fp_agg_result_free(&res);
    /* Bad options and no runs. */
    fp_agg_options_init(&o);
    o.confidence = 1.5;
    assert_int_equal(fp_aggregate(&l, &o, &res, &err), FP_ERR_INVALID);
    fp_agg_options_init(&o);
    fp_run_list empty = {0};
    assert_int_equal(fp_aggregate(&empty, &o, &res, &err), FP_ERR_INVALID);
    fp_run_list_free(&l);
    fp_run_list_free(&clean);
}

/* --- real data: measured_runs.csv --- */

typedef struct mrow {
    char gpu[8], app[32];
    double f, t, e;
    long idx;
} mrow;

/* Reads measured_runs.csv with sscanf (independent of the library's reader). */
static size_t read_measured(const char *path, mrow **out)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[1024];
    size_t n = 0, cap = 4096;
    mrow *v = calloc(cap, sizeof *v);
    assert_non_null(fgets(line, sizeof line, fp));
    while (fgets(line, sizeof line, fp)) {
        char job[128];
        int rep;
        double p;
        mrow m;
        if (sscanf(line, "%7[^,],%31[^,],%127[^,],%lf,%ld,%d,%lf,%lf,%lf", m.gpu, m.app, job, &m.f,
                   &m.idx, &rep, &m.t, &p, &m.e) == 9 &&
            n < cap)
            v[n++] = m;
    }
    fclose(fp);
    *out = v;
    return n;
}

static void test_measured_runs(void **state)
{
    (void)state;
    TU_REQUIRE_DATA();
    const char *path = tu_data_path("ai-inference-energy/measured_runs.csv");
    mrow *m;
    size_t nm = read_measured(path, &m);
    assert_int_equal(nm, 2472);
    fp_run_list runs = {0};
    fp_load_options lo;
    fp_load_options_init(&lo);
    fp_error err;
    if (fp_runs_load(path, &lo, &runs, &err) != FP_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(runs.len, 2472);
    fp_agg_result res;
    assert_int_equal(fp_aggregate(&runs, NULL, &res, &err), FP_OK);
    /* 12 combos: V100 59 clocks, A100 61, H100 86. */
    assert_int_equal(res.nrows, 4 * (59 + 61 + 86));

    /* Cold starts: A100 ViT runs 1-3 (671, 460, 307 s against ~75 s warm runs nearby);
     * V100 LLaMA run 1 only; energy-only ones (time normal): H100 LLaMA run 1 (5028 J against
     * 4463 J warm), A100 LLaMA run 2 besides run 1 (32.8 s, but energy 2.04 x power x time
     * where warm runs show 1.42). */
    int a100_vit = 0, h100_llama = 0, v100_llama = 0, a100_llama = 0;
    for (size_t i = 0; i < res.dropped.len; i++) {
        const fp_run *r = &res.dropped.items[i];
        if (!(r->flags & FP_FLAG_COLD_START_DROPPED))
            continue;
        if (!strcmp(r->gpu, "A100") && !strcasecmp(r->app, "vit")) {
            a100_vit++;
            assert_true(r->run_index <= 3);
        }
        if (!strcmp(r->gpu, "H100") && !strcasecmp(r->app, "llama")) {
            h100_llama++;
            assert_int_equal(r->run_index, 1);
        }
        if (!strcmp(r->gpu, "A100") && !strcasecmp(r->app, "llama")) {
            a100_llama++;
            assert_true(r->run_index <= 2);
        }
        if (!strcmp(r->gpu, "V100") && !strcasecmp(r->app, "llama")) {
            v100_llama++;
            assert_int_equal(r->run_index, 1);
        }
    }
    assert_int_equal(a100_vit, 3);
    assert_int_equal(h100_llama, 1);
    assert_int_equal(v100_llama, 1);
    assert_int_equal(a100_llama, 2);
    const fp_agg_row *top = row_at(&res, "A100", "vit", 1410);
    assert_non_null(top);
    assert_int_equal(top->runs, 0);
    assert_true(isnan(top->time_s));

    /* Clock dependence: A100 ViT and Whisper are not explained by the clock; H100 LLaMA is. */
    assert_true(has_finding(&res, "A100", "vit", FP_FLAG_NOT_CLOCK_BOUND));
    assert_true(has_finding(&res, "A100", "whisper", FP_FLAG_NOT_CLOCK_BOUND));
    assert_false(has_finding(&res, "H100", "llama", FP_FLAG_NOT_CLOCK_BOUND));

    /* Medians equal the medians of the kept rows, computed here from the file. */
    const fp_agg_row *h = row_at(&res, "H100", "llama", 1095);
    assert_non_null(h);
    double t[8], e[8];
    size_t k = 0;
    for (size_t i = 0; i < nm && k < 8; i++)
        if (!strcmp(m[i].gpu, "H100") && !strcmp(m[i].app, "llama") && m[i].f == 1095) {
            t[k] = m[i].t;
            e[k++] = m[i].e;
        }
    assert_int_equal(k, 3);
    assert_int_equal(h->runs, 3);
    assert_float_equal(h->time_s, fp_stats_median(t, 3), 1e-9);
    assert_float_equal(h->energy_j, fp_stats_median(e, 3), 1e-6);
    print_message("H100 llama 1095 MHz: %.2f s, %.1f J [%.1f, %.1f]\n", h->time_s, h->energy_j,
                  h->energy_j_lo, h->energy_j_hi);
    free(m);
    fp_agg_result_free(&res);
    fp_run_list_free(&runs);
}

TU_MAIN(cmocka_unit_test(test_basic_centres), cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_failed_dropped), cmocka_unit_test(test_cold_starts),
        cmocka_unit_test(test_outliers), cmocka_unit_test(test_high_cv),
        cmocka_unit_test(test_clock_bound), cmocka_unit_test(test_drift),
        cmocka_unit_test(test_strict_and_invalid), cmocka_unit_test(test_measured_runs))
