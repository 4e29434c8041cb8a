/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "freqpilot/run.h"
#include "telemetry/detect_file.h"
#include "testutil.h"

static fp_format detect_text(const char *text, fp_status want_st)
{
    fp_format f = FP_FMT_AUTO;
    fp_error err = {0};
    const char *p = tu_write_temp(text, strlen(text));
    fp_status st = fp_detect_file_format(p, &f, &err);
    if (st != want_st)
        fail_msg("'%.40s': status %d (%s), want %d", text, st, err.msg, want_st);
    remove(p);
    return f;
}

static void test_by_content(void **state)
{
    assert_int_equal(detect_text("#Entity   SMACT\nID\nGPU 0 0.1\n", FP_OK), FP_FMT_DCGMI);
    assert_int_equal(detect_text("\n\n# Entity  GRACT\n", FP_OK), FP_FMT_DCGMI);
    assert_int_equal(detect_text("t_s,power_w\n0,1\n", FP_OK), FP_FMT_TELEMETRY);
    assert_int_equal(detect_text("power_w,t_s,sm_active\n", FP_OK), FP_FMT_TELEMETRY);
    assert_int_equal(detect_text("timestamp, index, power.draw [W]\n", FP_OK), FP_FMT_SMI_CSV);
    assert_int_equal(detect_text("utilization.gpu [%], power.limit [W]\n", FP_OK), FP_FMT_SMI_CSV);
    assert_int_equal(detect_text("power.draw.instant\n", FP_OK), FP_FMT_SMI_CSV);
    assert_int_equal(detect_text("2025/07/09 01:17:36.754, 0, NVIDIA A100, 36.02\n", FP_OK),
                     FP_FMT_SMI_CSV);
    assert_int_equal(detect_text("gpu,app,freq_mhz,time_s,energy_j\n", FP_OK), FP_FMT_RUN_TABLE);
    assert_int_equal(detect_text("gpu,workload,frequency_mhz,time_s,avg_power_w\n", FP_OK),
                     FP_FMT_RUN_TABLE);
}

static void test_unknown_and_empty(void **state)
{
    fp_format f;
    fp_error err;
    const char *p = tu_write_temp("hello,world\n1,2\n", 16);
    assert_int_equal(fp_detect_file_format(p, &f, &err), FP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, ":1: unknown layout: expected an nvidia-smi CSV, a dcgmi dmon "
                                    "table, a freqpilot telemetry.csv or a per-run table"));
    remove(p);
    p = tu_write_temp("\n  \n", 4);
    assert_int_equal(fp_detect_file_format(p, &f, &err), FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "empty file"));
    remove(p);
    p = tu_write_temp("\0\0\0#Entity\n", 12);
    assert_int_equal(fp_detect_file_format(p, &f, &err), FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, ":1: NUL byte"));
    remove(p);
    assert_int_equal(fp_detect_file_format("/nonexistent/file", &f, &err), FP_ERR_IO);
}

static void test_fixtures_and_real_files(void **state)
{
    fp_format f;
    fp_error err;
    assert_int_equal(fp_detect_file_format(tu_fixture("smi/noheader.csv"), &f, &err), FP_OK);
    assert_int_equal(f, FP_FMT_SMI_CSV);
    assert_int_equal(fp_detect_file_format(tu_fixture("dcgmi/dvnam.dmon"), &f, &err), FP_OK);
    assert_int_equal(f, FP_FMT_DCGMI);
    TU_REQUIRE_DATA();
    assert_int_equal(
        fp_detect_file_format(tu_data_path("ai-inference-energy/measured_runs.csv"), &f, &err),
        FP_OK);
    assert_int_equal(f, FP_FMT_RUN_TABLE);
    assert_int_equal(
        fp_detect_file_format(
            tu_data_path(
                "ai-inference-energy/baseline_runs_2025-07/5ba606b/GV100-baseline-LSTM-1380-1"),
            &f, &err),
        FP_OK);
    assert_int_equal(f, FP_FMT_DCGMI);
    assert_int_equal(
        fp_detect_file_format(
            tu_data_path(
                "ai-inference-energy/baseline_runs_2025-07/805329f/GA100-baseline-LSTM-1410-0"),
            &f, &err),
        FP_OK);
    assert_int_equal(f, FP_FMT_SMI_CSV);
    /* A perf.csv ("<freq>,<seconds>") is none of these. */
    assert_int_equal(
        fp_detect_file_format(
            tu_data_path(
                "ai-inference-energy/baseline_runs_2025-07/5ba606b/GV100-baseline-lstm-perf.csv"),
            &f, &err),
        FP_ERR_FORMAT);
}

/* Loads a fixture with the per-run table parser; returns the run count, -1 on error. */
static long load_runs(const char *path)
{
    fp_run_list list = {0};
    fp_error err = {0};
    fp_load_options opt;
    fp_load_options_init(&opt);
    if (fp_runs_load(path, &opt, &list, &err) != FP_OK) {
        print_error("%s: %s\n", path, err.msg);
        fp_run_list_free(&list);
        return -1;
    }
    long n = (long)list.len;
    fp_run_list_free(&list);
    return n;
}

static void test_run_table_aliases_and_comments(void **state)
{
    fp_format f;
    fp_error err;
    /* The aliases runtable.c accepts, in any case, without energy_j. */
    assert_int_equal(detect_text("gpu,app,frequency,duration_seconds,power_w\n", FP_OK),
                     FP_FMT_RUN_TABLE);
    assert_int_equal(detect_text("GPU,APP,FREQ_MHZ,TIME_S,ENERGY_J\n", FP_OK), FP_FMT_RUN_TABLE);
    assert_int_equal(detect_text("# a comment\n#\ngpu,app,freq_mhz,time_s,avg_power_w\n", FP_OK),
                     FP_FMT_RUN_TABLE);
    /* Still required: a clock, a time and energy or power. */
    assert_int_equal(detect_text("gpu,app,frequency,duration_seconds\n", FP_ERR_FORMAT),
                     FP_FMT_AUTO);
    assert_int_equal(detect_text("gpu,app,duration_seconds,power_w\n", FP_ERR_FORMAT), FP_FMT_AUTO);
    /* "frequency_mhz_x" is not "frequency_mhz". */
    assert_int_equal(detect_text("gpu,app,frequency_mhz_x,time_s,energy_j\n", FP_ERR_FORMAT),
                     FP_FMT_AUTO);

    const char *fx[] = {"detect/rt_aliases.csv", "detect/rt_avg_power.csv",
                        "detect/rt_comments.csv"};
    for (size_t i = 0; i < sizeof fx / sizeof *fx; i++) {
        f = FP_FMT_AUTO;
        if (fp_detect_file_format(tu_fixture(fx[i]), &f, &err) != FP_OK)
            fail_msg("%s: %s", fx[i], err.msg);
        assert_int_equal(f, FP_FMT_RUN_TABLE);
        /* What detection calls a per-run table, the per-run table parser reads: 2 runs each. */
        assert_int_equal(load_runs(tu_fixture(fx[i])), 2);
    }

    /* Comments before anything but a per-run table: no reader skips them. */
    assert_int_equal(fp_detect_file_format(tu_fixture("detect/comment_then_smi.csv"), &f, &err),
                     FP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "comment_then_smi.csv:1: unknown layout"));
    assert_int_equal(detect_text("# only a comment\n", FP_ERR_FORMAT), FP_FMT_AUTO);
    /* A dcgmi header is not a comment. */
    assert_int_equal(detect_text("# Entity  POWER\n", FP_OK), FP_FMT_DCGMI);
}

TU_MAIN(cmocka_unit_test(test_by_content), cmocka_unit_test(test_unknown_and_empty),
        cmocka_unit_test(test_fixtures_and_real_files),
        cmocka_unit_test(test_run_table_aliases_and_comments))
