/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The rules every input follows (docs/formats.md): the format registry, byte-order marks,
 * regular files only, impossible values and time going backwards refused with FILE:LINE,
 * columns given twice refused, the time_gap flag.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "freqpilot/aie_results.h"
#include "freqpilot/aggregate.h"
#include "freqpilot/govern.h"
#include "freqpilot/metrics.h"
#include "freqpilot/reader.h"
#include "freqpilot/run.h"
#include "freqpilot/run_config.h"
#include "freqpilot/sim.h"
#include "telemetry/format.h"
#include "telemetry/ts_internal.h"
#include "testutil.h"
#include "util/input.h"

/* Samples of a time series in memory (FP_FMT_AUTO), or the error. */
static int drain(const char *text, long *rows, fp_error *err)
{
    fp_ts_reader *r;
    fp_sample s;
    int rc;
    *rows = 0;
    if (fp_ts_open_mem(text, strlen(text), "in.csv", FP_FMT_AUTO, NULL, &r, err) != FP_OK)
        return -1;
    while ((rc = fp_ts_next(r, &s, err)) == 1)
        (*rows)++;
    fp_ts_close(r);
    return rc;
}

static void expect_error(const char *text, const char *what)
{
    long n;
    fp_error err;
    fp_error_clear(&err);
    assert_true(drain(text, &n, &err) < 0);
    if (!strstr(err.msg, what))
        fail_msg("expected '%s' in '%s'", what, err.msg);
}

static void test_registry(void **state)
{
    (void)state;
    assert_true(fp_format_count() >= FP_FMT_COUNT);
    for (int f = 1; f < fp_format_count(); f++) {
        const fp_format_ops *ops = fp_format_get((fp_format)f);
        assert_non_null(ops);
        assert_non_null(ops->name);
        assert_non_null(ops->description);
        /* Every format is found by its name and is either a series or a loader. */
        assert_int_equal(fp_format_from_name(ops->name), f);
        assert_string_equal(fp_format_name((fp_format)f), ops->name);
        assert_true(ops->next != NULL || ops->load != NULL);
        assert_true(ops->next == NULL || ops->open != NULL);
        assert_true(ops->sniff_file != NULL || ops->sniff_dir != NULL);
    }
    assert_int_equal(fp_format_from_name("nvidia-smi"), FP_FMT_SMI_CSV);
    assert_int_equal(fp_format_from_name("no-such-format"), -1);
    assert_null(fp_format_get(FP_FMT_AUTO));
    assert_null(fp_format_get((fp_format)999));
    /* An unknown format is an error, never the telemetry.csv parser. */
    fp_ts_reader *r;
    fp_error err;
    assert_int_equal(fp_ts_open_mem("t_s,power_w\n0,1\n", 16, "x", (fp_format)999, NULL, &r, &err),
                     FP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "unknown input format"));
    /* A run-level format is not a time series. */
    assert_int_equal(
        fp_ts_open_mem("t_s,power_w\n0,1\n", 16, "x", FP_FMT_RUN_TABLE, NULL, &r, &err),
        FP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "not a time series"));
    fp_run_list l = {0};
    fp_load_options o;
    fp_load_options_init(&o);
    o.format = (fp_format)999;
    const char *p = tu_write_temp("t_s,power_w\n0,1\n", 16);
    assert_int_equal(fp_runs_load(p, &o, &l, &err), FP_ERR_FORMAT);
    fp_run_list_free(&l);
}

static void test_bom(void **state)
{
    (void)state;
    long n;
    fp_error err;
    /* telemetry.csv, nvidia-smi CSV and dcgmi with a byte-order mark: read as without. */
    assert_int_equal(drain(FP_BOM "t_s,power_w\n0,100\n1,100\n", &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(
        drain(FP_BOM "timestamp, power.draw [W]\n2025/07/09 01:17:36.754, 36.02 W\n", &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(
        drain(FP_BOM "#Entity   POWER\nID        W\nGPU 0     61.5\nGPU 0     62.5\n", &n, &err),
        0);
    assert_int_equal(n, 2);
    /* A per-run table and JSON. */
    fp_run_list l = {0};
    const char rt[] = FP_BOM "gpu,app,freq_mhz,time_s,energy_j\nA100,x,1410,10,2000\n";
    const char *p = tu_write_temp(rt, sizeof rt - 1);
    assert_int_equal(fp_runs_load(p, NULL, &l, &err), FP_OK);
    assert_int_equal(l.len, 1);
    fp_run_list_free(&l);
    json_t *j = fp_json_load_input_mem(FP_BOM "{\"a\": 1}", 11, "x.json", 0, &err);
    assert_non_null(j);
    json_decref(j);
    const char js[] = FP_BOM "{\"a\": 1}";
    j = fp_json_load_input(tu_write_temp(js, sizeof js - 1), 0, &err);
    assert_non_null(j);
    json_decref(j);
    /* A workload INI and an aggregated.csv (read back by optimize, report). */
    const char ini[] =
        FP_BOM "[workload]\nname = bom\n[phase run]\ncompute_s = 2\nsm_active = 0.5\n";
    fp_sim_workload wl;
    assert_int_equal(fp_sim_workload_parse_ini(ini, sizeof ini - 1, "w.ini", &wl, &err), FP_OK);
    assert_string_equal(wl.name, "bom");
    const char agg[] = FP_BOM "gpu,app,freq_mhz,runs,runs_dropped,time_s,time_s_lo,time_s_hi,"
                              "energy_j,energy_j_lo,energy_j_hi,power_w,edp,ed2p,sm_clock_mhz,"
                              "gpu_util_pct,sm_active,dram_active,tensor_active,fp_active,temp_c,"
                              "flags\nA100,vit,1410,3,0,10,9.8,10.3,2000,1950,2060,200,20000,"
                              "200000,1410,,,,,,,\n";
    p = tu_write_temp(agg, sizeof agg - 1);
    assert_true(fp_opt_is_aggregated_csv(p));
    fp_agg_result ar;
    assert_int_equal(fp_agg_read_csv(p, &ar, &err), FP_OK);
    assert_int_equal(ar.nrows, 1);
    fp_agg_result_free(&ar);
    /* Duplicate keys are an error, not "the last one wins". */
    assert_null(fp_json_load_input_mem("{\"a\": 1, \"a\": 2}", 16, "x.json", 0, &err));
    assert_non_null(strstr(err.msg, "x.json:1:"));
}

static void test_regular_files_only(void **state)
{
    (void)state;
    char dir[] = "/tmp/fp-inputs-XXXXXX", fifo[256], sub[256];
    fp_error err;
    fp_format f;
    fp_run_list l = {0};
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof fifo, "%s/telemetry.csv", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    /* Given directly: refused before it is opened (opening it would wait for a writer). */
    assert_int_equal(fp_input_check(fifo, &err), FP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "not a regular file (a FIFO)"));
    assert_int_equal(fp_detect_format(fifo, &f, &err), FP_ERR_FORMAT);
    fp_ts_reader *r;
    assert_int_equal(fp_ts_open(fifo, FP_FMT_TELEMETRY, NULL, &r, &err), FP_ERR_FORMAT);
    assert_int_equal(fp_runs_load(fifo, NULL, &l, &err), FP_ERR_FORMAT);
    fp_load_options o;
    fp_load_options_init(&o);
    o.format = FP_FMT_TELEMETRY;
    assert_int_equal(fp_runs_load(fifo, &o, &l, &err), FP_ERR_FORMAT);
    /* Inside a folder of files: the whole load fails, naming it. */
    snprintf(sub, sizeof sub, "%s/runs.csv", dir);
    FILE *fp = fopen(sub, "w");
    fputs("gpu,app,freq_mhz,time_s,energy_j\nA100,x,1410,10,2000\n", fp);
    fclose(fp);
    assert_int_equal(fp_runs_load(dir, NULL, &l, &err), FP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, fifo));
    assert_int_equal(l.len, 0);
    fp_run_list_free(&l);
    assert_null(fp_json_load_input(fifo, 0, &err));
    unlink(sub);
    unlink(fifo);
    rmdir(dir);
}

static void test_impossible_values(void **state)
{
    (void)state;
    expect_error("t_s,power_w\n0,100\n1,-3000\n", "in.csv:3: power_w = -3000 is impossible");
    expect_error("t_s,sm_clock_mhz\n0,1005\n1,-1005\n", "in.csv:3: sm_clock_mhz = -1005");
    expect_error("t_s,sm_clock_mhz\n0,1e300\n", "in.csv:2: sm_clock_mhz = 1e+300 is impossible");
    expect_error("t_s,gpu_util_pct\n0,101\n", "expected 0..100 %");
    expect_error("t_s,sm_active\n0,1.5\n", "sm_active = 1.5 is impossible");
    expect_error("t_s,energy_mj\n0,-1\n", "energy_mj = -1 is impossible");
    expect_error("t_s,power_w\n0,100\n2,100\n1,100\n", "in.csv:4: time went backwards");
    expect_error("t_s,power_w,power_w\n0,1,2\n", "in.csv:1: column 'power_w' given twice");
    expect_error("timestamp, power.draw [W], power.draw [W]\n2025/07/09 01:17:36.754, 1 W, 2 W\n",
                 "column 'power.draw' given twice");
    expect_error("#Entity   POWER  POWER\nID        W      W\nGPU 0     61.5   62\n",
                 "column 'POWER' given twice");
    /* nvidia-smi timestamps going backwards (two writers in one file). */
    expect_error("timestamp, power.draw [W]\n2025/07/09 01:17:36.754, 36 W\n"
                 "2025/07/09 01:17:35.754, 36 W\n",
                 "time went backwards");
    /* N/A everywhere is not a value: accepted. */
    long n;
    fp_error err;
    assert_int_equal(drain("t_s,power_w,sm_active\n0,,\n1,100,0.5\n", &n, &err), 0);
    assert_int_equal(n, 2);
    double lo, hi;
    fp_col_range(FP_COL_POWER_W, &lo, &hi);
    assert_float_equal(lo, 0, 0);
    assert_float_equal(hi, 5000, 0);
}

static void test_run_table_values(void **state)
{
    (void)state;
    static const struct {
        const char *row, *what;
    } bad[] = {
        {"A100,x,1410,10,-3000", "column 5 (energy_j): -3000 is impossible"},
        {"A100,x,-1005,10,2000", "column 3 (freq_mhz): -1005 is impossible"},
        {"A100,x,1e300,10,2000", "column 3 (freq_mhz): 1e+300 is impossible"},
        {"A100,x,1410,-1,2000", "column 4 (time_s): -1 is impossible"},
        {"A100,x,1410,1,200000", "is 2e+05 W: impossible"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[256];
        snprintf(text, sizeof text, "gpu,app,freq_mhz,time_s,energy_j\n%s\n", bad[i].row);
        fp_run_list l = {0};
        fp_error err;
        const char *p = tu_write_temp(text, strlen(text));
        assert_int_equal(fp_runs_load(p, NULL, &l, &err), FP_ERR_PARSE);
        if (!strstr(err.msg, bad[i].what) || !strstr(err.msg, ":2:"))
            fail_msg("row '%s': expected '%s' in '%s'", bad[i].row, bad[i].what, err.msg);
        assert_int_equal(l.len, 0);
        fp_run_list_free(&l);
    }
    /* The original project's complete_aggregation.csv is a per-run table. */
    static const char orig[] =
        "gpu,application,frequency,avg_power,execution_time,energy,avg_gputl,avg_drama,avg_temp\n"
        "V100,LLAMA,510,64.9,93.45,6064.91,46.9,0.493,60.6\n"
        "V100,LLAMA,750,88.5,63.05,5579.93,67.8,0.486,69.8\n";
    fp_run_list l = {0};
    fp_error err;
    fp_format f;
    const char *p = tu_write_temp(orig, sizeof orig - 1);
    assert_int_equal(fp_detect_format(p, &f, &err), FP_OK);
    assert_int_equal(f, FP_FMT_RUN_TABLE);
    assert_int_equal(fp_runs_load(p, NULL, &l, &err), FP_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].app, "LLAMA");
    assert_float_equal(l.items[0].freq_mhz, 510, 0);
    assert_float_equal(l.items[0].time_s, 93.45, 0);
    assert_float_equal(l.items[0].energy_j, 6064.91, 0);
    assert_float_equal(l.items[0].power_w, 64.9, 0);
    assert_float_equal(l.items[0].gpu_util_pct, 46.9, 0);
    assert_float_equal(l.items[0].dram_active, 0.493, 0);
    assert_float_equal(l.items[0].temp_c, 60.6, 0);
    fp_run_list_free(&l);
    /* Two names of one quantity. */
    static const char twice[] = "gpu,app,application,freq_mhz,time_s,energy_j\nA,b,c,1,1,1\n";
    p = tu_write_temp(twice, sizeof twice - 1);
    assert_int_equal(fp_runs_load(p, NULL, &l, &err), FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "column 'application' given twice (columns 2 and 3"));
    fp_run_list_free(&l);
}

static void test_time_gap(void **state)
{
    (void)state;
    enum { N = 200 };
    fp_sample s[N];
    fp_run run;
    fp_metrics_options o;
    fp_error err;
    fp_metrics_options_init(&o);
    for (int gap = 0; gap <= 1; gap++) {
        for (int i = 0; i < N; i++) {
            fp_sample_clear(&s[i]);
            /* 0.1 s apart; with a gap, 5 s missing after sample 100 */
            s[i].v[FP_COL_T_S] = i * 0.1 + (gap && i > 100 ? 5.0 : 0.0);
            s[i].v[FP_COL_POWER_W] = 200;
            s[i].v[FP_COL_GPU_UTIL_PCT] = 90;
        }
        fp_run_init(&run);
        assert_int_equal(fp_run_metrics_samples(s, N, 0, &o, &run, NULL, &err), FP_OK);
        assert_int_equal(!!(run.flags & FP_FLAG_TIME_GAP), gap);
    }
    assert_string_equal(fp_flag_name(FP_FLAG_TIME_GAP), "time_gap");
    assert_string_equal(fp_flag_name(FP_FLAG_TIMEOUT), "timeout");
    assert_string_equal(fp_flag_name(FP_FLAG_COARSE_TIMING), "coarse_timing");
}

static void test_original_results(void **state)
{
    (void)state;
    fp_opt_results r;
    fp_error err;
    const char *p =
        tu_data_path("ai-inference-energy/results_json/5cffc60/optimal_frequencies.json");
    if (p && access(p, R_OK) == 0) {
        assert_true(fp_aie_results_detect(p));
        assert_int_equal(fp_aie_results_read(p, &r, &err), FP_OK);
        assert_true(fp_aie_results_is_original(&r));
        /* 8 configurations x (edp, ed2p). */
        assert_int_equal(r.len, 16);
        const fp_opt_result *x = &r.items[0];
        assert_string_equal(x->gpu, "A100");
        assert_string_equal(x->app, "llama");
        assert_string_equal(x->objective, "edp");
        assert_float_equal(x->freq_mhz, 705, 0);
        assert_float_equal(x->baseline_mhz, 1410, 0);
        assert_float_equal(x->cmp.energy_saving, 0.8320823472821088, 1e-12);
        assert_float_equal(x->time_s, 41.05, 1e-12);
        assert_non_null(strstr(x->message, "original project's number"));
        /* Never deployable as it stands. */
        assert_int_equal(x->verdict, FP_VERDICT_INSUFFICIENT);
        fp_opt_results_free(&r);
        /* The same through the optimize JSON reader (validate, apply). */
        assert_int_equal(fp_opt_read_json(p, &r, &err), FP_OK);
        assert_true(fp_aie_results_is_original(&r));
        fp_opt_results_free(&r);
    }
    static const char flat[] = "{\"A100+LLAMA\": {\"baseline_frequency_mhz\": 1410, "
                               "\"optimal_frequency_mhz\": 975, \"energy_savings_percent\": 44.9, "
                               "\"performance_penalty_percent\": -39.7}}";
    assert_int_equal(fp_aie_results_read_mem(flat, sizeof flat - 1, "f.json", &r, &err), FP_OK);
    assert_int_equal(r.len, 1);
    assert_string_equal(r.items[0].app, "llama");
    assert_float_equal(r.items[0].cmp.slowdown, -0.397, 1e-12);
    fp_opt_results_free(&r);
    static const char bad[] = "{\"A100+LLAMA\": {\"optimal_frequency_mhz\": 1e300}}";
    assert_int_equal(fp_aie_results_read_mem(bad, sizeof bad - 1, "b.json", &r, &err),
                     FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "optimal_frequency_mhz\": 1e+300 is impossible"));
}

static void test_run_config(void **state)
{
    (void)state;
    fp_run_config c;
    fp_error err;
    char path[4096];
    const char *src = getenv("FREQPILOT_SRC");
    snprintf(path, sizeof path, "%s/contrib/freqpilot-run.ini", src ? src : ".");
    fp_run_config_init(&c);
    assert_int_equal(fp_run_config_load(path, &c, &err), FP_OK);
    assert_int_equal(c.runs, 3);
    assert_int_equal(c.seed, 20250709);
    assert_string_equal(c.gpus, "V100,A100,H100");
    static const struct {
        const char *text, *what;
    } bad[] = {
        {"[simulate]\nruns = 1000000000\n", "c.ini:2: runs = '1000000000': expected"},
        {"[simulate]\nruns = 4294967297\n", "c.ini:2: runs = '4294967297'"},
        {"[simulate]\nruns = -1\n", "c.ini:2: runs"},
        {"[simulate]\ngpus = V100,X100\n", "c.ini:2: gpus: unknown GPU 'X100'"},
        {"[simulate]\nworkloads = llama,bert\n", "unknown workload 'bert'"},
        {"[simulate]\nseed = 18446744073709551616\n", "seed"},
        {"[run]\nobjectives = energy,speed\n", "unknown objective 'speed'"},
        {"[run]\nmax_slowdown = none,-5%\n", "'-5%' is not a budget"},
        {"[run]\nheadline_slowdown = 1e300\n", "headline_slowdown"},
        {"[run]\ntitle = a\n[run]\ntitle = b\n", "c.ini:4: key 'title' given twice"},
        {"[other]\nx = 1\n", "unknown key 'x' in [other]"},
        {"[run]\nthis line has no equals sign\n", "c.ini:2: expected"},
        {"[run]\nconstraints = no-such-preset\n", "c.ini:2: constraints = 'no-such-preset'"},
        {"[impact]\nutilisation = 2\n", "c.ini:2: utilisation = '2': expected a fraction"},
        {"[impact]\nprice_per_kwh = -0.1\n", "price_per_kwh = '-0.1'"},
        {"[impact]\ngpus = 0\n", "gpus = '0': expected a number > 0"},
        {"[impact]\nwatts = 3\n", "unknown key 'watts' in [impact]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fp_run_config_init(&c);
        assert_int_equal(fp_run_config_parse(bad[i].text, strlen(bad[i].text), "c.ini", &c, &err),
                         FP_ERR_PARSE);
        if (!strstr(err.msg, bad[i].what))
            fail_msg("'%s': expected '%s' in '%s'", bad[i].text, bad[i].what, err.msg);
    }
    /* the budgets and the impact's assumptions */
    static const char good[] = "[run]\nconstraints = ai-inference-energy\n[impact]\n"
                               "utilisation = 80%\nprice_per_kwh = 0.3\ncurrency = EUR\n"
                               "grid_gco2_per_kwh = 120\ngpus = 8\n";
    fp_run_config_init(&c);
    assert_float_equal(c.impact.utilisation, 0.5, 0);
    assert_int_equal(fp_run_config_parse(good, sizeof good - 1, "c.ini", &c, &err), FP_OK);
    assert_string_equal(c.constraints, "ai-inference-energy");
    assert_float_equal(c.impact.utilisation, 0.8, 1e-12);
    assert_float_equal(c.impact.price_per_kwh, 0.3, 0);
    assert_string_equal(c.impact.currency, "EUR");
    assert_float_equal(c.impact.grid_g_per_kwh, 120, 0);
    assert_float_equal(c.impact.gpus, 8, 0);
    /* inih skips a byte-order mark. */
    const char bom[] = FP_BOM "[simulate]\nruns = 7\n";
    fp_run_config_init(&c);
    assert_int_equal(fp_run_config_parse(bom, sizeof bom - 1, "c.ini", &c, &err), FP_OK);
    assert_int_equal(c.runs, 7);
}

/* The streamed recorded replay (constant memory) gives what the in-memory one gave, also
 * when the median clock needs several histogram passes (clocks that are not whole MHz). */
static void test_replay_stream(void **state)
{
    (void)state;
    enum { N = 3001 };
    static fp_sample s[N];
    unsigned seed = 3;
    for (int i = 0; i < N; i++) {
        fp_sample_clear(&s[i]);
        seed = seed * 1103515245u + 12345u;
        int busy = (i / 300) % 2;
        s[i].v[FP_COL_T_S] = i * 0.05;
        s[i].v[FP_COL_POWER_W] = busy ? 250 : 60;
        s[i].v[FP_COL_GPU_UTIL_PCT] = busy ? 95 : 2;
        s[i].v[FP_COL_SM_ACTIVE] = busy ? 0.8 : 0.01;
        /* 1410.0 .. 1410.999: every clock inside one 1 MHz bin */
        s[i].v[FP_COL_SM_CLOCK_MHZ] = i % 7 ? 1410 + ((seed >> 8) % 1000) / 1000.0 : NAN;
    }
    double sorted[N];
    int nc = 0;
    for (int i = 0; i < N; i++)
        if (!isnan(s[i].v[FP_COL_SM_CLOCK_MHZ]))
            sorted[nc++] = s[i].v[FP_COL_SM_CLOCK_MHZ];
    for (int i = 1; i < nc; i++)
        for (int j = i; j > 0 && sorted[j] < sorted[j - 1]; j--) {
            double t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    fp_gpu_info info;
    fp_sim_gpu_info(fp_sim_gpu_find("A100"), 0, &info);
    fp_policy *pol;
    fp_error err;
    assert_int_equal(fp_policy_new("phase", &info, &pol, &err), FP_OK);
    fp_recorded_result a;
    assert_int_equal(fp_replay_recorded(s, N, NAN, NAN, pol, NULL, &a, &err), FP_OK);
    /* The upper median, exactly. */
    assert_true(a.recorded_clock_mhz == sorted[nc / 2]);
    assert_int_equal(a.samples, N);
    assert_true(a.clock_changes > 0);
    assert_float_equal(a.recorded_time_s, (N - 1) * 0.05, 1e-9);
    /* A window: the median of the clocks inside it. */
    fp_recorded_result w;
    assert_int_equal(fp_replay_recorded(s, N, 10.0, 20.0, pol, NULL, &w, &err), FP_OK);
    assert_float_equal(w.recorded_time_s, 10.0, 1e-9);
    assert_true(w.recorded_clock_mhz >= 1410 && w.recorded_clock_mhz < 1411);
    fp_policy_free(pol);
}

TU_MAIN(cmocka_unit_test(test_registry), cmocka_unit_test(test_bom),
        cmocka_unit_test(test_regular_files_only), cmocka_unit_test(test_impossible_values),
        cmocka_unit_test(test_run_table_values), cmocka_unit_test(test_time_gap),
        cmocka_unit_test(test_original_results), cmocka_unit_test(test_run_config),
        cmocka_unit_test(test_replay_stream))
