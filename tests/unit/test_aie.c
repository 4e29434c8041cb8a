/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ai-inference-energy layouts: names, timing files, the job fixture, a results folder. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "freqpilot/run.h"
#include "telemetry/layouts.h"
#include "testutil.h"

static void test_profile_names(void **state)
{
    fp_aie_name n;
    char arch[32], mode[32], app[64], gpu[64];
    long id;
    fp_aie_job_name jn;
    (void)state;
    assert_true(fp_aie_parse_profile_name("GV100-baseline-LSTM-1380-0", &n));
    assert_string_equal(n.gpu, "V100");
    assert_string_equal(n.arch, "GV100");
    assert_string_equal(n.mode, "baseline");
    assert_string_equal(n.app, "LSTM");
    assert_float_equal(n.freq_mhz, 1380, 0);
    assert_int_equal(n.iter, 0);
    assert_true(fp_aie_parse_profile_name("GH100-baseline-StableDiffusion-1785-2", &n));
    assert_string_equal(n.gpu, "H100");
    assert_string_equal(n.app, "StableDiffusion");
    assert_int_equal(n.iter, 2);
    assert_true(fp_aie_parse_profile_name("GA100-dvfs-LSTM-1410-1", &n));
    assert_string_equal(n.gpu, "A100");
    /* Not profiles. */
    assert_false(fp_aie_parse_profile_name("GV100-baseline-LSTM-RUN-OUT", &n));
    assert_false(fp_aie_parse_profile_name("GV100-baseline-lstm-perf.csv", &n));
    assert_false(fp_aie_parse_profile_name("LSTM_RUN_OUT", &n));
    assert_false(fp_aie_parse_profile_name("GV100-baseline-1380-0", &n));
    assert_false(fp_aie_parse_profile_name("notes-on-this-1-2", &n));
    assert_false(fp_aie_parse_profile_name("GV100-baseline-LSTM-1380-x", &n));

    assert_true(fp_aie_parse_perf_name("GH100-baseline-stable-diffusion-perf.csv", arch,
                                       sizeof arch, mode, sizeof mode, app, sizeof app));
    assert_string_equal(arch, "GH100");
    assert_string_equal(app, "stable-diffusion");
    assert_false(fp_aie_parse_perf_name("GH100-baseline-perf.csv", arch, sizeof arch, mode,
                                        sizeof mode, app, sizeof app));

    assert_true(
        fp_aie_parse_job_dir("results_h100_llama_job_4444", gpu, sizeof gpu, app, sizeof app, &id));
    assert_string_equal(gpu, "H100");
    assert_string_equal(app, "llama");
    assert_int_equal(id, 4444);
    assert_true(fp_aie_parse_job_dir("results_a100_stable_diffusion_job_20892440", gpu, sizeof gpu,
                                     app, sizeof app, &id));
    assert_string_equal(app, "stable_diffusion");
    assert_false(fp_aie_parse_job_dir("results_h100_llama", gpu, sizeof gpu, app, sizeof app, &id));
    assert_false(fp_aie_parse_job_dir("results", gpu, sizeof gpu, app, sizeof app, &id));

    /* The run ids the original scripts write: <n>_<rep> (DVFS), baseline_<rep>, <rep>. */
    assert_true(fp_aie_parse_job_profile("run_108_03_freq_855_profile.csv", &jn));
    assert_string_equal(jn.run_id, "108_03");
    assert_int_equal(jn.run_no, 108);
    assert_int_equal(jn.rep, 3);
    assert_float_equal(jn.freq_mhz, 855, 0);
    assert_true(fp_aie_parse_job_profile("run_baseline_01_freq_1785_profile.csv", &jn));
    assert_string_equal(jn.run_id, "baseline_01");
    assert_int_equal(jn.run_no, -1);
    assert_int_equal(jn.rep, 1);
    assert_float_equal(jn.freq_mhz, 1785, 0);
    assert_true(fp_aie_parse_job_profile("run_02_freq_1410_profile.csv", &jn));
    assert_string_equal(jn.run_id, "02");
    assert_int_equal(jn.rep, 2);
    assert_false(fp_aie_parse_job_profile("run_108_03_freq_855_profile.csv.bak", &jn));
    assert_false(fp_aie_parse_job_profile("run_108_03_freq_855_app.out", &jn));
    assert_false(fp_aie_parse_job_profile("run_x_03_freq_855_profile.csv", &jn));
    assert_false(fp_aie_parse_job_profile("run_108_03_freq_0_profile.csv", &jn));
    assert_false(fp_aie_parse_job_profile("run_108_03_freq_99999_profile.csv", &jn));
}

static void test_timing_summary(void **state)
{
    /* As the original scripts write it: the header in a comment, string run ids, whole-second
     * durations, exit status 124 = timeout. */
    static const char real[] = "# Run Timing Summary\n"
                               "# Format: run_id,frequency_mhz,duration_seconds,exit_code,status\n"
                               "baseline_01,1785,38,0,success\n"
                               "3_02,1770,41,0,success\n"
                               "7_01,1740,44,124,timeout\n";
    static const char plain[] = "run_id,frequency_mhz,duration_seconds,exit_code,status\n"
                                "1,1785,20.4,0,success\n2,1785,19.9,1,failed\n";
    static const char bad_num[] = "run_id,frequency_mhz,duration_seconds,exit_code,status\n"
                                  "1,1785,20.4,0,success\n2,1785,abc,0,success\n";
    static const char bad_cols[] = "run_id,frequency_mhz,duration_seconds,exit_code,status\n"
                                   "1,1785,20.4,0\n";
    static const char no_header[] = "1,1785,20.4,0,success\n";
    static const char trunc[] = "run_id,frequency_mhz,duration_seconds,exit_code,status\n1,17";
    static const char twice[] = "# Format: run_id,frequency_mhz,duration_seconds,exit_code,status\n"
                                "3_02,1770,41,0,success\n3_02,1770,40,0,success\n";
    static const char contra[] =
        "# Format: run_id,frequency_mhz,duration_seconds,exit_code,status\n"
        "3_02,1770,41,124,success\n";
    static const char negative[] = "# Format: run_id,frequency_mhz,duration_seconds,exit_code,"
                                   "status\n3_02,-1005,41,0,success\n";
    fp_timing_row *rows;
    size_t n;
    int whole;
    fp_error err;
    (void)state;
    assert_int_equal(
        fp_timing_summary_parse_mem(real, sizeof real - 1, "t.log", &rows, &n, &whole, &err),
        FP_OK);
    assert_int_equal(n, 3);
    assert_true(whole);
    assert_string_equal(rows[0].run_id, "baseline_01");
    assert_string_equal(rows[1].run_id, "3_02");
    assert_float_equal(rows[1].freq_mhz, 1770, 0);
    assert_float_equal(rows[1].duration_s, 41, 0);
    assert_int_equal(rows[2].exit_code, 124);
    assert_string_equal(rows[2].status, "timeout");
    assert_int_equal(rows[2].line, 5);
    free(rows);
    assert_int_equal(
        fp_timing_summary_parse_mem(plain, sizeof plain - 1, "t.log", &rows, &n, &whole, &err),
        FP_OK);
    assert_int_equal(n, 2);
    assert_false(whole);
    assert_string_equal(rows[1].run_id, "2");
    assert_float_equal(rows[1].duration_s, 19.9, 0);
    assert_int_equal(rows[1].exit_code, 1);
    assert_string_equal(rows[1].status, "failed");
    free(rows);
    assert_int_equal(
        fp_timing_summary_parse_mem(bad_num, sizeof bad_num - 1, "t.log", &rows, &n, NULL, &err),
        FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "t.log:3:"));
    assert_non_null(strstr(err.msg, "duration_seconds"));
    assert_null(rows);
    assert_int_equal(
        fp_timing_summary_parse_mem(bad_cols, sizeof bad_cols - 1, "t.log", &rows, &n, NULL, &err),
        FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "t.log:2: expected 5 columns, found 4"));
    assert_int_equal(fp_timing_summary_parse_mem(no_header, sizeof no_header - 1, "t.log", &rows,
                                                 &n, NULL, &err),
                     FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "t.log:1: expected the header"));
    assert_int_equal(
        fp_timing_summary_parse_mem(trunc, sizeof trunc - 1, "t.log", &rows, &n, NULL, &err),
        FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "t.log:2: truncated"));
    assert_int_equal(
        fp_timing_summary_parse_mem(twice, sizeof twice - 1, "t.log", &rows, &n, NULL, &err),
        FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "t.log:3: run_id '3_02' given twice (lines 2 and 3)"));
    assert_int_equal(
        fp_timing_summary_parse_mem(contra, sizeof contra - 1, "t.log", &rows, &n, NULL, &err),
        FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "t.log:2: exit_code 124 and status 'success' contradict"));
    assert_int_equal(
        fp_timing_summary_parse_mem(negative, sizeof negative - 1, "t.log", &rows, &n, NULL, &err),
        FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "t.log:2: column frequency_mhz: -1005 is impossible"));
}

static void test_perf_csv(void **state)
{
    static const char good[] = "1380,69.14942026138306\n1380,22.13\n\n1380,22\n";
    static const char bad[] = "1380,69.1\n1380;22.1\n";
    double sec[8];
    size_t n;
    fp_error err;
    (void)state;
    int whole;
    assert_int_equal(
        fp_perf_csv_parse_mem(good, sizeof good - 1, "p.csv", sec, 8, &n, &whole, &err), FP_OK);
    assert_false(whole);
    assert_int_equal(n, 3);
    assert_float_equal(sec[0], 69.14942026138306, 0);
    assert_float_equal(sec[2], 22, 0);
    assert_int_equal(fp_perf_csv_parse_mem(bad, sizeof bad - 1, "p.csv", sec, 8, &n, NULL, &err),
                     FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "p.csv:2:"));
}

static void test_job_fixture(void **state)
{
    fp_run_list l = {0};
    fp_error err;
    fp_format f;
    (void)state;
    const char *dir = tu_fixture("aie_job/results_h100_llama_job_4444");
    assert_int_equal(fp_detect_format(dir, &f, &err), FP_OK);
    assert_int_equal(f, FP_FMT_AIE_JOB);
    assert_int_equal(fp_runs_load(dir, NULL, &l, &err), FP_OK);
    /* Three profiles and a failed run without one (timing_summary.log, real shape). */
    assert_int_equal(l.len, 4);
    /* Each profile: 6 idle rows (60 W), 41 active rows, 4 idle, 50 ms per row; the timing log
     * says 2 s (whole seconds) = the 40 intervals of the active rows, so the window is exactly
     * the active stretch. */
    static const double active_w[3] = {300, 280, 200};
    static const double mhz[3] = {1785, 1785, 1200};
    for (int i = 0; i < 3; i++) {
        fp_run *r = &l.items[i];
        assert_string_equal(r->gpu, "H100");
        assert_string_equal(r->app, "llama");
        assert_int_equal(r->run_index, i + 1);
        assert_int_equal(r->repetition, i == 1 ? 2 : 1);
        assert_float_equal(r->freq_mhz, mhz[i], 0);
        assert_float_equal(r->time_s, 2.0, 0);
        assert_int_equal(r->samples, 41);
        assert_float_equal(r->energy_counter_j, active_w[i] * 2.0, 1e-9);
        assert_float_equal(r->energy_j, active_w[i] * 2.0, 1e-9);
        assert_float_equal(r->energy_integral_j, active_w[i] * 2.0, 1e-6);
        assert_float_equal(r->power_w, active_w[i], 1e-6);
        assert_float_equal(r->sm_clock_mhz, mhz[i], 1e-9);
        assert_float_equal(r->sm_active, 0.8, 1e-9);
        assert_float_equal(r->dram_active, 0.3, 1e-9);
        assert_true(r->flags & FP_FLAG_WINDOW_FROM_TIMING);
        assert_true(r->flags & FP_FLAG_TIME_RECONSTRUCTED);
        /* 1 s resolution on a 2 s run. */
        assert_true(r->flags & FP_FLAG_COARSE_TIMING);
        assert_false(r->flags & (FP_FLAG_CLOCK_NOT_HELD | FP_FLAG_COUNTER_MISMATCH));
        /* 3_01 timed out (exit 124). */
        assert_int_equal(!!(r->flags & FP_FLAG_FAILED), i == 2);
        assert_int_equal(!!(r->flags & FP_FLAG_TIMEOUT), i == 2);
    }
    /* 4_01 failed and left no profile: a failed run, no metrics, dropped for its reason. */
    fp_run *r = &l.items[3];
    assert_int_equal(r->run_index, 4);
    assert_float_equal(r->freq_mhz, 1200, 0);
    assert_true(r->flags & FP_FLAG_FAILED);
    assert_false(r->flags & FP_FLAG_TIMEOUT);
    assert_true(isnan(r->time_s));
    fp_run_list_free(&l);
}

static void test_results_folder(void **state)
{
    char dir[] = "/tmp/fp-aie-XXXXXX", path[4096];
    fp_run_list l = {0};
    fp_error err;
    fp_format f;
    fp_load_options o;
    tu_msgs w = {0};
    fp_diag diag = {tu_msgs_add, &w, NULL};
    (void)state;
    assert_non_null(mkdtemp(dir));
    const char *src =
        tu_fixture("aie_job/results_h100_llama_job_4444/run_1_01_freq_1785_profile.csv");
    snprintf(path, sizeof path, "%s/GH100-baseline-StableDiffusion-1785-0", dir);
    assert_int_equal(tu_copy_file(src, path), 0);
    snprintf(path, sizeof path, "%s/GH100-baseline-StableDiffusion-1785-1", dir);
    assert_int_equal(tu_copy_file(src, path), 0);
    snprintf(path, sizeof path, "%s/GH100-baseline-StableDiffusion-RUN-OUT", dir);
    assert_int_equal(tu_copy_file(src, path), 0);
    snprintf(path, sizeof path, "%s/GH100-baseline-stable-diffusion-perf.csv", dir);
    FILE *fp = fopen(path, "w");
    fputs("1785,0.3\n", fp); /* one line: iteration 1 has no timing */
    fclose(fp);

    assert_int_equal(fp_detect_format(dir, &f, &err), FP_OK);
    assert_int_equal(f, FP_FMT_AIE_RESULTS);
    fp_load_options_init(&o);
    o.diag = &diag;
    assert_int_equal(fp_runs_load(dir, &o, &l, &err), FP_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0].app, "stablediffusion");
    assert_string_equal(l.items[0].gpu, "H100");
    assert_int_equal(l.items[0].repetition, 1);
    assert_float_equal(l.items[0].time_s, 0.3, 0);
    assert_true(l.items[0].flags & FP_FLAG_WINDOW_FROM_TIMING);
    /* 0.3 s ending at the last active row: rows 9..15, all at 300 W. */
    assert_float_equal(l.items[0].energy_j, 300 * 0.3, 1e-9);
    /* Iteration 1: no timing line -> the detector, with a warning naming the file. */
    assert_int_equal(l.items[1].repetition, 2);
    assert_true(l.items[1].flags & FP_FLAG_WINDOW_DETECTED);
    assert_float_equal(l.items[1].time_s, 2.0, 1e-9);
    int found = 0;
    for (int i = 0; i < w.n && i < TU_MSGS_MAX; i++)
        if (strstr(w.text[i], "GH100-baseline-StableDiffusion-1785-1") &&
            strstr(w.text[i], "no timing"))
            found = 1;
    assert_true(found);
    fp_run_list_free(&l);

    /* Requested 1380 while the data says 1785: clock_not_held. */
    snprintf(path, sizeof path, "%s/GH100-baseline-StableDiffusion-1380-2", dir);
    assert_int_equal(tu_copy_file(src, path), 0);
    assert_int_equal(fp_runs_load(dir, &o, &l, &err), FP_OK);
    assert_int_equal(l.len, 3);
    assert_true(l.items[0].flags & FP_FLAG_CLOCK_NOT_HELD);
    assert_false(l.items[1].flags & FP_FLAG_CLOCK_NOT_HELD);
    fp_run_list_free(&l);

    /* An unknown folder given directly: FP_ERR_FORMAT naming it and what was expected. */
    char empty[] = "/tmp/fp-aie-empty-XXXXXX";
    assert_non_null(mkdtemp(empty));
    assert_int_equal(fp_detect_format(empty, &f, &err), FP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, empty));
    assert_non_null(strstr(err.msg, "manifest.json"));
    assert_int_equal(fp_runs_load(empty, &o, &l, &err), FP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "no runs found"));
    rmdir(empty);

    const char *names[] = {
        "GH100-baseline-StableDiffusion-1785-0", "GH100-baseline-StableDiffusion-1785-1",
        "GH100-baseline-StableDiffusion-1380-2", "GH100-baseline-StableDiffusion-RUN-OUT",
        "GH100-baseline-stable-diffusion-perf.csv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

TU_MAIN(cmocka_unit_test(test_profile_names), cmocka_unit_test(test_timing_summary),
        cmocka_unit_test(test_perf_csv), cmocka_unit_test(test_job_fixture),
        cmocka_unit_test(test_results_folder))
