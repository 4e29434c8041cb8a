/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "freqpilot/reader.h"
#include "telemetry/ts_internal.h"
#include "testutil.h"

#define MAXS 4096

/* Reads every sample; returns fp_ts_next's final code (0 or an error). */
static int read_all(fp_ts_reader *r, fp_sample *out, long *n, fp_error *err)
{
    int rc;
    fp_sample s;
    *n = 0;
    while ((rc = fp_ts_next(r, &s, err)) == 1) {
        if (*n < MAXS)
            out[*n] = s;
        (*n)++;
    }
    return rc;
}

static fp_sample buf[MAXS];

static fp_ts_reader *open_ok(const char *rel, fp_format fmt)
{
    fp_ts_reader *r = NULL;
    fp_error err;
    fp_status st = fp_ts_open(tu_fixture(rel), fmt, NULL, &r, &err);
    if (st != FP_OK)
        fail_msg("%s: %s", rel, err.msg);
    return r;
}

static void test_header_with_units(void **state)
{
    fp_ts_reader *r = open_ok("smi/header_units.csv", FP_FMT_AUTO);
    fp_error err;
    long n;
    const fp_ts_info *info = fp_ts_get_info(r);
    assert_int_equal(info->format, FP_FMT_SMI_CSV);
    assert_string_equal(info->gpu_name, "NVIDIA A100-PCIE-40GB");
    /* 2025-07-09 01:17:36.754 UTC */
    assert_true(fabs(info->start_utc - 1752023856.754) < 1e-6);
    assert_int_equal(read_all(r, buf, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_true(buf[0].v[FP_COL_T_S] == 0.0);
    assert_true(fabs(buf[1].v[FP_COL_T_S] - 0.25) < 1e-12);
    assert_true(fabs(buf[2].v[FP_COL_T_S] - 0.5) < 1e-12);
    assert_true(buf[0].v[FP_COL_POWER_W] == 70.12);
    assert_true(buf[1].v[FP_COL_POWER_W] == 71.5);
    assert_true(isnan(buf[2].v[FP_COL_POWER_W])); /* [Not Supported] */
    assert_true(buf[0].v[FP_COL_POWER_LIMIT_W] == 250.0);
    assert_true(buf[0].v[FP_COL_TEMP_C] == 34.0);
    assert_true(isnan(buf[0].v[FP_COL_MEM_TEMP_C])); /* [N/A] */
    assert_true(buf[1].v[FP_COL_GPU_UTIL_PCT] == 40.0);
    assert_true(buf[1].v[FP_COL_MEM_UTIL_PCT] == 9.0);
    assert_true(buf[0].v[FP_COL_FB_USED_MIB] == 884.0);
    assert_true(buf[2].v[FP_COL_SM_CLOCK_MHZ] == 1380.0);
    assert_true(buf[0].v[FP_COL_MEM_CLOCK_MHZ] == 1215.0);
    assert_true(buf[0].v[FP_COL_APP_CLOCK_MHZ] == 1410.0);
    assert_true(buf[0].v[FP_COL_PSTATE] == 0.0);
    assert_true(buf[2].v[FP_COL_PSTATE] == 2.0);
    assert_true(buf[1].v[FP_COL_THROTTLE_REASONS] == 4.0);
    assert_true(buf[2].v[FP_COL_THROTTLE_REASONS] == 160.0);
    assert_true(isnan(buf[0].v[FP_COL_SM_ACTIVE]));
    assert_true(info->columns_present & (1u << FP_COL_POWER_W));
    assert_false(info->columns_present & (1u << FP_COL_SM_ACTIVE));
    assert_false(info->time_reconstructed);
    assert_true(fabs(info->interval_s - 0.25) < 1e-9);
    /* Rewind gives the same samples again. */
    assert_int_equal(fp_ts_rewind(r, &err), FP_OK);
    fp_sample again[4];
    assert_int_equal(read_all(r, again, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(&again[1], &buf[1], sizeof again[1]);
    fp_ts_close(r);
}

static void test_two_gpus_instant_and_average(void **state)
{
    fp_error err;
    long n;
    fp_ts_reader *r = open_ok("smi/two_gpus_crlf.csv", FP_FMT_SMI_CSV);
    assert_int_equal(read_all(r, buf, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(fp_ts_get_info(r)->rows_other_entity, 3);
    assert_string_equal(fp_ts_get_info(r)->gpu_name, "NVIDIA H100 NVL");
    /* power.draw.instant -> power_w, power.draw.average -> power_avg_w; across midnight/new year.
     */
    assert_true(buf[0].v[FP_COL_POWER_W] == 300.5);
    assert_true(buf[0].v[FP_COL_POWER_AVG_W] == 280.25);
    assert_true(buf[1].v[FP_COL_POWER_W] == 310.75);
    assert_true(fabs(buf[1].v[FP_COL_T_S] - 0.5) < 1e-12);
    assert_true(fabs(buf[2].v[FP_COL_T_S] - 1.0) < 1e-12);
    assert_true(buf[2].v[FP_COL_SM_CLOCK_MHZ] ==
                1755.0); /* clocks.current.sm wins over clocks.gr */
    assert_true(buf[0].v[FP_COL_POWER_LIMIT_W] == 400.0);
    fp_ts_close(r);

    /* The second GPU on request. */
    fp_ts_options opt = {.interval_s = 0, .gpu_index = 1, .diag = NULL};
    assert_int_equal(fp_ts_open(tu_fixture("smi/two_gpus_crlf.csv"), FP_FMT_AUTO, &opt, &r, &err),
                     FP_OK);
    assert_int_equal(read_all(r, buf, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_true(buf[2].v[FP_COL_POWER_W] == 61.4);
    assert_true(buf[2].v[FP_COL_SM_CLOCK_MHZ] == 345.0);
    fp_ts_close(r);
}

static void test_noheader_known_layout(void **state)
{
    fp_error err;
    long n;
    fp_ts_reader *r = open_ok("smi/noheader.csv", FP_FMT_AUTO);
    assert_int_equal(fp_ts_get_info(r)->format, FP_FMT_SMI_CSV);
    assert_int_equal(read_all(r, buf, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(fp_ts_get_info(r)->rows_skipped, 1); /* the blank line */
    assert_true(buf[0].v[FP_COL_POWER_W] == 36.02);
    assert_true(buf[1].v[FP_COL_POWER_W] == 38.19);
    assert_true(buf[1].v[FP_COL_GPU_UTIL_PCT] == 3.0);
    assert_true(buf[1].v[FP_COL_MEM_UTIL_PCT] == 1.0);
    assert_true(buf[1].v[FP_COL_FB_USED_MIB] == 884.0);
    assert_true(buf[1].v[FP_COL_SM_CLOCK_MHZ] == 765.0);
    assert_true(buf[1].v[FP_COL_MEM_CLOCK_MHZ] == 1215.0);
    assert_true(fabs(buf[2].v[FP_COL_T_S] - 2.010) < 1e-9);
    fp_ts_close(r);
}

static void expect_error(const char *rel, fp_status code, const char *needle)
{
    fp_ts_reader *r = NULL;
    fp_error err = {0};
    fp_status st = fp_ts_open(tu_fixture(rel), FP_FMT_AUTO, NULL, &r, &err);
    if (st == FP_OK) {
        long n;
        st = read_all(r, buf, &n, &err);
        fp_ts_close(r);
    }
    if (st != code || !strstr(err.msg, needle))
        fail_msg("%s: got %d '%s', want %d with '%s'", rel, st, err.msg, code, needle);
}

static void test_bad_inputs(void **state)
{
    expect_error("smi/noheader_unknown.csv", FP_ERR_FORMAT,
                 "noheader_unknown.csv:1: nvidia-smi "
                 "CSV without a header and 5 columns");
    expect_error("smi/bad_columns.csv", FP_ERR_PARSE,
                 "bad_columns.csv:3: expected 3 columns, found 4");
    expect_error("smi/bad_value.csv", FP_ERR_PARSE,
                 "bad_value.csv:3: column 3 (power.draw): expected a number, found 'seventy W'");
    expect_error("smi/bad_unit.csv", FP_ERR_PARSE, "bad_unit.csv:2: column 3 (power.draw)");
    expect_error("smi/truncated.csv", FP_ERR_PARSE,
                 "truncated.csv:3: expected 4 columns, found 3 (the last line has no newline");
    expect_error("smi/empty.csv", FP_ERR_PARSE, "empty.csv: empty file");
    expect_error("smi/header_only.csv", FP_ERR_PARSE, "no data rows");
    expect_error("smi/switch.csv", FP_ERR_PARSE, "switch.csv:3: expected 15 columns, found 1");
}

static void test_no_timestamp_column(void **state)
{
    fp_error err;
    long n;
    fp_ts_options opt = {.interval_s = 0.5, .gpu_index = -1, .diag = NULL};
    fp_ts_reader *r;
    assert_int_equal(fp_ts_open(tu_fixture("smi/no_timestamp.csv"), FP_FMT_SMI_CSV, &opt, &r, &err),
                     FP_OK);
    assert_int_equal(read_all(r, buf, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_true(fp_ts_get_info(r)->time_reconstructed);
    assert_true(buf[2].v[FP_COL_T_S] == 1.0);
    assert_true(buf[2].v[FP_COL_POWER_W] == 72.0);
    fp_ts_close(r);
}

/* Independent reading of a real noheader capture: lines, 4th field. */
static void scan_smi(const char *path, long *rows, double *mean_power)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char line[4096];
    double sum = 0;
    *rows = 0;
    while (fgets(line, sizeof line, f)) {
        if (!(line[0] == '2' && line[4] == '/'))
            continue;
        char *p = line;
        for (int k = 0; k < 3; k++)
            p = strchr(p, ',') + 1;
        sum += strtod(p, NULL);
        (*rows)++;
    }
    fclose(f);
    *mean_power = sum / (double)*rows;
}

static void test_real_smi_files(void **state)
{
    TU_REQUIRE_DATA();
    static const struct {
        const char *rel;
        long rows;
    } files[] = {
        {"626943c/GA100-baseline-LSTM-1410-1", 534},  {"626943c/GA100-baseline-LSTM-1410-2", 563},
        {"805329f/GA100-baseline-LSTM-1410-0", 1464}, {"805329f/GA100-baseline-LSTM-1410-1", 1526},
        {"805329f/GA100-baseline-LSTM-1410-2", 1562},
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "ai-inference-energy/baseline_runs_2025-07/%s", files[i].rel);
        const char *path = tu_data_path(rel);
        long want_rows;
        double want_mean;
        scan_smi(path, &want_rows, &want_mean);
        assert_int_equal(want_rows, files[i].rows); /* PROVENANCE.md */
        fp_ts_reader *r;
        fp_error err;
        if (fp_ts_open(path, FP_FMT_AUTO, NULL, &r, &err) != FP_OK)
            fail_msg("%s", err.msg);
        assert_int_equal(fp_ts_get_info(r)->format, FP_FMT_SMI_CSV);
        assert_string_equal(fp_ts_get_info(r)->gpu_name, "NVIDIA A100-PCIE-40GB");
        fp_sample s;
        long n = 0;
        double sum = 0, last_t = -1;
        int rc;
        while ((rc = fp_ts_next(r, &s, &err)) == 1) {
            sum += s.v[FP_COL_POWER_W];
            assert_true(s.v[FP_COL_T_S] > last_t);
            last_t = s.v[FP_COL_T_S];
            assert_true(s.v[FP_COL_POWER_LIMIT_W] == 250.0);
            n++;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(n, want_rows);
        assert_true(fabs(sum / n - want_mean) < 1e-9 * want_mean);
        /* About one sample per second. */
        assert_true(fabs(fp_ts_get_info(r)->interval_s - 1.0) < 0.05);
        fp_ts_close(r);
    }
}

static void test_real_corrupt_file(void **state)
{
    TU_REQUIRE_DATA();
    const char *path = tu_data_path(
        "ai-inference-energy/baseline_runs_2025-07/626943c/GV100-baseline-LSTM-1380-0");
    fp_ts_reader *r;
    fp_error err;
    assert_int_equal(fp_ts_open(path, FP_FMT_AUTO, NULL, &r, &err), FP_OK);
    fp_sample s;
    long n = 0;
    int rc;
    while ((rc = fp_ts_next(r, &s, &err)) == 1) {
        assert_true(s.v[FP_COL_POWER_W] > 20 && s.v[FP_COL_POWER_W] < 260);
        n++;
    }
    assert_int_equal(rc, FP_ERR_PARSE);
    assert_int_equal(n, 624); /* the A100 rows before the NUL block (PROVENANCE.md) */
    assert_non_null(strstr(err.msg, "GV100-baseline-LSTM-1380-0:626: NUL byte in data"));
    fp_ts_close(r);
}

static void test_timestamp_parser(void **state)
{
    int64_t sec;
    double frac;
    assert_int_equal(fp_smi_parse_time("1970/01/01 00:00:00.000", 23, &sec, &frac), 0);
    assert_int_equal(sec, 0);
    assert_int_equal(fp_smi_parse_time("2000/03/01 00:00:01", 19, &sec, &frac), 0);
    assert_int_equal(sec, 951868801);
    assert_true(frac == 0);
    assert_int_equal(fp_smi_parse_time("2024/02/29 12:00:00.5", 21, &sec, &frac), 0);
    assert_int_equal(sec, 1709208000);
    assert_true(frac == 0.5);
    assert_int_equal(fp_smi_parse_time("2024/13/01 00:00:00", 19, &sec, &frac), -1);
    assert_int_equal(fp_smi_parse_time("2024/12/01 00:00:00.", 20, &sec, &frac), -1);
    assert_int_equal(fp_smi_parse_time("timestamp", 9, &sec, &frac), -1);
}

TU_MAIN(cmocka_unit_test(test_header_with_units),
        cmocka_unit_test(test_two_gpus_instant_and_average),
        cmocka_unit_test(test_noheader_known_layout), cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_no_timestamp_column), cmocka_unit_test(test_real_smi_files),
        cmocka_unit_test(test_real_corrupt_file), cmocka_unit_test(test_timestamp_parser))
