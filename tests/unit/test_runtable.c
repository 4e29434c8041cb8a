/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Per-run tables: values, synonyms, flags and every error with file:line. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "freqpilot/run.h"
#include "telemetry/layouts.h"
#include "testutil.h"

static void test_good_table(void **state)
{
    fp_run_list l = {0};
    fp_error err;
    fp_format f;
    char suffix[64];
    (void)state;
    const char *path = tu_fixture("runtable/good.csv");
    assert_int_equal(fp_detect_format(path, &f, &err), FP_OK);
    assert_int_equal(f, FP_FMT_RUN_TABLE);
    assert_int_equal(fp_runs_load(path, NULL, &l, &err), FP_OK);
    assert_int_equal(l.len, 4);
    fp_run *r = l.items;
    assert_string_equal(r[0].gpu, "A100");
    assert_string_equal(r[0].app, "llama");
    assert_float_equal(r[0].freq_mhz, 1410, 0);
    assert_float_equal(r[0].time_s, 20.0, 0);
    assert_float_equal(r[0].energy_j, 4000.0, 0);
    assert_float_equal(r[0].power_w, 200.0, 0);
    assert_int_equal(r[0].run_index, 1);
    assert_int_equal(r[0].repetition, 1);
    assert_float_equal(r[0].start_utc, 1752023856.0, 0); /* 2025-07-09T01:17:36Z */
    assert_int_equal(r[0].flags, 0);
    assert_int_equal(r[0].samples, 0);
    assert_true(isnan(r[0].energy_counter_j));
    snprintf(suffix, sizeof suffix, "good.csv:2");
    assert_non_null(strstr(r[0].source, suffix));
    /* 6000 J vs 200 W x 20 s = 4000 J: energy and time cover different windows. */
    assert_int_equal(r[1].flags, FP_FLAG_WINDOW_MISMATCH);
    assert_float_equal(r[1].energy_j, 6000.0, 0);
    assert_float_equal(r[1].power_w, 200.0, 0); /* the measured mean power is kept */
    assert_float_equal(r[1].start_utc, 1752023900.5, 0);
    /* Only energy: power = energy / time. */
    assert_float_equal(r[2].power_w, 3750.0 / 25.0, 1e-12);
    assert_int_equal(r[2].flags, 0);
    assert_true(isnan(r[2].start_utc));
    /* Only power: energy = power x time, flagged; failed run. */
    assert_float_equal(r[3].energy_j, 140.0 * 25.0, 1e-9);
    assert_int_equal(r[3].flags, FP_FLAG_ENERGY_FROM_POWER | FP_FLAG_FAILED);
    assert_non_null(strstr(r[3].source, "good.csv:5"));
    fp_run_list_free(&l);
}

static void test_synonyms(void **state)
{
    fp_run_list l = {0};
    fp_error err;
    fp_load_options o;
    (void)state;
    fp_load_options_init(&o);
    o.format = FP_FMT_RUN_TABLE;
    assert_int_equal(fp_runs_load(tu_fixture("runtable/power_only.csv"), &o, &l, &err), FP_OK);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[1].app, "vit");
    assert_float_equal(l.items[1].freq_mhz, 1095, 0);
    assert_float_equal(l.items[1].time_s, 12.5, 0);
    assert_float_equal(l.items[1].energy_j, 2500.0, 1e-9);
    assert_int_equal(l.items[1].run_index, -1);
    assert_int_equal(l.items[1].repetition, -1);
    fp_run_list_free(&l);
}

static void test_mem_comments_crlf(void **state)
{
    static const char data[] = "# comment\r\nGPU,App,Freq_MHz,Time_S,Energy_J\r\n\r\n"
                               "V100,lstm,1380,22.5,900\r\n# trailing comment\r\n";
    fp_run_list l = {0};
    fp_error err;
    (void)state;
    assert_int_equal(fp_runtable_load_mem(data, sizeof data - 1, "mem.csv", NULL, &l, &err), FP_OK);
    assert_int_equal(l.len, 1);
    assert_float_equal(l.items[0].power_w, 40.0, 1e-12);
    assert_string_equal(l.items[0].source, "mem.csv:4");
    fp_run_list_free(&l);
}

/* Loads a broken fixture and checks the code and that the message holds name:line and text. */
static void expect_error(const char *rel, fp_status code, const char *where, const char *what)
{
    fp_run_list l = {0};
    fp_error err;
    fp_load_options o;
    fp_load_options_init(&o);
    o.format = FP_FMT_RUN_TABLE;
    fp_error_clear(&err);
    assert_int_equal(fp_runs_load(tu_fixture(rel), &o, &l, &err), code);
    print_message("%s -> %s\n", rel, err.msg);
    assert_non_null(strstr(err.msg, where));
    assert_non_null(strstr(err.msg, what));
    assert_int_equal(l.len, 0); /* all or nothing */
    fp_run_list_free(&l);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("runtable/bad_columns.csv", FP_ERR_PARSE,
                 "bad_columns.csv:3:", "expected 5 columns, found 4");
    expect_error("runtable/bad_number.csv", FP_ERR_PARSE, "bad_number.csv:4:", "'fast'");
    expect_error("runtable/missing_column.csv", FP_ERR_PARSE,
                 "missing_column.csv:1:", "missing required column(s): time_s");
    expect_error("runtable/truncated.csv", FP_ERR_PARSE, "truncated.csv:3:", "truncated");
    expect_error("runtable/nul.csv", FP_ERR_PARSE, "nul.csv:3:", "NUL");
    expect_error("runtable/empty.csv", FP_ERR_PARSE, "empty.csv", "empty file");
}

static void test_missing_many(void **state)
{
    static const char data[] = "foo,bar\n1,2\n";
    fp_run_list l = {0};
    fp_error err;
    (void)state;
    assert_int_equal(fp_runtable_load_mem(data, sizeof data - 1, "x.csv", NULL, &l, &err),
                     FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "x.csv:1:"));
    assert_non_null(strstr(err.msg, "gpu, app (or workload), freq_mhz, time_s, energy_j"));
}

static void test_na_required(void **state)
{
    static const char data[] = "gpu,app,freq_mhz,time_s,energy_j\nV100,a,N/A,1,2\n";
    static const char dup[] = "gpu,app,workload,freq_mhz,time_s,energy_j\nV100,a,b,1,1,2\n";
    fp_run_list l = {0};
    fp_error err;
    (void)state;
    assert_int_equal(fp_runtable_load_mem(data, sizeof data - 1, "na.csv", NULL, &l, &err),
                     FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "na.csv:2: column 3 (freq_mhz)"));
    assert_int_equal(fp_runtable_load_mem(dup, sizeof dup - 1, "dup.csv", NULL, &l, &err),
                     FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "dup.csv:1:"));
    fp_run_list_free(&l);
}

TU_MAIN(cmocka_unit_test(test_good_table), cmocka_unit_test(test_synonyms),
        cmocka_unit_test(test_mem_comments_crlf), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_many), cmocka_unit_test(test_na_required))
