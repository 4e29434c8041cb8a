/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <dirent.h>
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

#define MAXS 8192

static fp_sample buf[MAXS];

static int read_all(fp_ts_reader *r, long *n, fp_error *err)
{
    int rc;
    fp_sample s;
    *n = 0;
    while ((rc = fp_ts_next(r, &s, err)) == 1) {
        if (*n < MAXS)
            buf[*n] = s;
        (*n)++;
    }
    return rc;
}

static int warnings;
static char last_warning[1024];
static void on_warn(void *user, const char *msg)
{
    (void)user;
    warnings++;
    snprintf(last_warning, sizeof last_warning, "%s", msg);
}

static void test_two_gpus_repeated_header_trailing_messages(void **state)
{
    fp_diag diag = {on_warn, NULL, NULL};
    fp_ts_options opt = {.interval_s = 0, .gpu_index = -1, .diag = &diag};
    fp_ts_reader *r;
    fp_error err;
    long n;
    warnings = 0;
    assert_int_equal(fp_ts_open(tu_fixture("dcgmi/two_gpus.dmon"), FP_FMT_AUTO, &opt, &r, &err),
                     FP_OK);
    const fp_ts_info *info = fp_ts_get_info(r);
    assert_int_equal(info->format, FP_FMT_DCGMI);
    assert_true(info->time_reconstructed);
    /* TOTEC rises 2500 mJ per row at 50 W: 0.05 s per row. */
    assert_true(info->interval_s == 0.05);
    assert_int_equal(read_all(r, &n, &err), 0);
    assert_int_equal(n, 18);
    assert_int_equal(info->rows_other_entity, 18);
    /* 2 header + 2 units + 2 blank lines + 2 trailing messages. */
    assert_int_equal(info->rows_skipped, 8);
    for (long i = 0; i < n; i++) {
        assert_true(fabs(buf[i].v[FP_COL_T_S] - 0.05 * (double)i) < 1e-12);
        assert_true(buf[i].v[FP_COL_POWER_W] == 50.0);
        assert_true(buf[i].v[FP_COL_ENERGY_MJ] == 1000000.0 + 2500.0 * (double)i);
        assert_true(fabs(buf[i].v[FP_COL_GR_ACTIVE] - 0.001 * (double)i) < 1e-12);
        assert_true(fabs(buf[i].v[FP_COL_SM_ACTIVE] - 0.002 * (double)i) < 1e-12);
        assert_true(buf[i].v[FP_COL_APP_CLOCK_MHZ] == 1410.0);
        assert_true(isnan(buf[i].v[FP_COL_SM_CLOCK_MHZ])); /* SACLK is not the SM clock */
        assert_true(buf[i].v[FP_COL_PSTATE] == 0.0);
        assert_true(isnan(buf[i].v[FP_COL_MEM_TEMP_C])); /* N/A */
    }
    assert_true(warnings >= 2);
    assert_non_null(strstr(last_warning, "two_gpus.dmon:"));
    assert_non_null(strstr(last_warning, "2 trailing line(s)"));
    fp_ts_close(r);

    /* GPU 1 with a given interval. */
    opt.gpu_index = 1;
    opt.interval_s = 0.1;
    assert_int_equal(fp_ts_open(tu_fixture("dcgmi/two_gpus.dmon"), FP_FMT_DCGMI, &opt, &r, &err),
                     FP_OK);
    assert_int_equal(read_all(r, &n, &err), 0);
    assert_int_equal(n, 18);
    assert_true(buf[17].v[FP_COL_T_S] == 17 * 0.1);
    assert_true(buf[3].v[FP_COL_POWER_W] == 30.5);
    assert_true(buf[3].v[FP_COL_PSTATE] == 8.0);
    assert_true(buf[3].v[FP_COL_MEM_TEMP_C] == 40.0);
    fp_ts_close(r);
}

static void test_device_name_spanning_tokens(void **state)
{
    fp_ts_reader *r;
    fp_error err;
    long n;
    assert_int_equal(fp_ts_open(tu_fixture("dcgmi/dvnam.dmon"), FP_FMT_AUTO, NULL, &r, &err),
                     FP_OK);
    assert_string_equal(fp_ts_get_info(r)->gpu_name, "NVIDIA H100 NVL");
    assert_int_equal(read_all(r, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_true(buf[0].v[FP_COL_POWER_W] == 62.48);
    assert_true(buf[1].v[FP_COL_SM_CLOCK_MHZ] == 1755.0);
    assert_true(buf[1].v[FP_COL_MEM_CLOCK_MHZ] == 2619.0);
    assert_true(isnan(buf[2].v[FP_COL_POWER_W]));
    assert_true(buf[2].v[FP_COL_ENERGY_MJ] == 31024.0);
    fp_ts_close(r);
}

static void test_gpu_instances(void **state)
{
    fp_ts_reader *r;
    fp_error err;
    long n;
    assert_int_equal(
        fp_ts_open(tu_fixture("dcgmi/gpu_instances.dmon"), FP_FMT_AUTO, NULL, &r, &err), FP_OK);
    assert_int_equal(read_all(r, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(fp_ts_get_info(r)->rows_other_entity, 2);
    assert_true(buf[1].v[FP_COL_SM_ACTIVE] == 0.6);
    /* No energy counter: the 0.1 s default. */
    assert_true(fp_ts_get_info(r)->interval_s == 0.1);
    fp_ts_close(r);
}

static void expect_error(const char *rel, fp_status code, const char *needle)
{
    fp_ts_reader *r = NULL;
    fp_error err = {0};
    fp_status st = fp_ts_open(tu_fixture(rel), FP_FMT_DCGMI, NULL, &r, &err);
    if (st == FP_OK) {
        long n;
        st = read_all(r, &n, &err);
        fp_ts_close(r);
    }
    if (st != code || !strstr(err.msg, needle))
        fail_msg("%s: got %d '%s', want %d with '%s'", rel, st, err.msg, code, needle);
}

static void test_bad_inputs(void **state)
{
    expect_error("dcgmi/garbage_middle.dmon", FP_ERR_PARSE,
                 "garbage_middle.dmon:4: not a dcgmi dmon row: 'Error: connection to host engine "
                 "lost' (data rows follow at line 5)");
    expect_error("dcgmi/header_changed.dmon", FP_ERR_PARSE,
                 "header_changed.dmon:4: the dcgmi "
                 "header changed");
    expect_error("dcgmi/truncated.dmon", FP_ERR_PARSE,
                 "truncated.dmon:4: expected 3 columns, found 2 (the last line has no newline");
    expect_error("dcgmi/bad_value.dmon", FP_ERR_PARSE,
                 "bad_value.dmon:4: column 1 (SMACT): expected a number, found '0.6x0'");
    expect_error("dcgmi/short_row.dmon", FP_ERR_PARSE,
                 "short_row.dmon:3: expected 2 columns, "
                 "found 1");
    expect_error("dcgmi/header_only.dmon", FP_ERR_PARSE, "no data rows");
    expect_error("smi/noheader.csv", FP_ERR_PARSE, "noheader.csv:1: expected a dcgmi dmon header");
    expect_error("smi/empty.csv", FP_ERR_PARSE, "empty file");
}

/* ---- the real captures: every dcgmi file of baseline_runs_2025-07 ---- */

struct expect_rows {
    const char *rel;
    long rows;
};
/* Row counts from PROVENANCE.md. */
static const struct expect_rows provenance[] = {
    {"5ba606b/GV100-baseline-LSTM-1380-0", 2516},
    {"5ba606b/GV100-baseline-LSTM-1380-1", 612},
    {"5ba606b/GV100-baseline-LSTM-1380-2", 621},
    {"55a32a2/GV100-baseline-LSTM-1380-0", 4310},
    {"55a32a2/GV100-baseline-LSTM-1380-1", 616},
    {"55a32a2/GV100-baseline-LSTM-1380-2", 618},
    {"626943c/GV100-baseline-LSTM-1380-1", 641},
    {"626943c/GV100-baseline-LSTM-1380-2", 618},
    {"7388a93/GV100-baseline-LSTM-1380-0", 2323},
    {"7388a93/GV100-baseline-LSTM-1380-1", 613},
    {"7388a93/GV100-baseline-LSTM-1380-2", 605},
    {"805329f/GV100-baseline-LSTM-1380-0", 3561},
    {"805329f/GV100-baseline-LSTM-1380-1", 318},
    {"805329f/GV100-baseline-LSTM-1380-2", 313},
    {"eff2dc9/GH100-baseline-LSTM-1785-0", 342},
    {"eff2dc9/GH100-baseline-LSTM-1785-1", 317},
    {"eff2dc9/GH100-baseline-LSTM-1785-2", 264},
    {"e7283ba/GH100-baseline-LSTM-1785-0", 335},
    {"e7283ba/GH100-baseline-LSTM-1785-1", 290},
    {"e7283ba/GH100-baseline-LSTM-1785-2", 298},
    {"66d5611/GH100-baseline-LSTM-1785-0", 335},
    {"66d5611/GH100-baseline-LSTM-1785-1", 314},
    {"66d5611/GH100-baseline-LSTM-1785-2", 297},
    {"66d5611/GH100-baseline-StableDiffusion-1785-0", 1285},
    {"66d5611/GH100-baseline-StableDiffusion-1785-1", 1240},
    {"66d5611/GH100-baseline-StableDiffusion-1785-2", 1225},
};

struct indep {
    long rows;
    long power_rows;
    double power_sum;
    double totec_first, totec_last;
};

/* Independent scan: header tokens give the POWER/TOTEC positions; data lines start with
 * whitespace + "GPU " and carry the entity as two tokens. */
static int scan_dcgmi(const char *path, struct indep *o)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char line[8192];
    int ipow = -1, itot = -1;
    memset(o, 0, sizeof *o);
    o->totec_first = o->totec_last = NAN;
    while (fgets(line, sizeof line, f)) {
        char *tok[64];
        int nt = 0;
        for (char *t = strtok(line, " \t\r\n"); t && nt < 64; t = strtok(NULL, " \t\r\n"))
            tok[nt++] = t;
        if (nt == 0)
            continue;
        if (tok[0][0] == '#') {
            for (int i = 0; i < nt; i++) {
                /* Value tokens after the two entity tokens line up with names after #Entity. */
                int pos = strcmp(tok[0], "#") == 0 ? i - 2 : i - 1;
                if (strcmp(tok[i], "POWER") == 0)
                    ipow = pos + 2;
                if (strcmp(tok[i], "TOTEC") == 0)
                    itot = pos + 2;
            }
            continue;
        }
        if (strcmp(tok[0], "GPU") != 0)
            continue;
        o->rows++;
        if (ipow >= 0 && ipow < nt && strcmp(tok[ipow], "N/A") != 0) {
            o->power_sum += strtod(tok[ipow], NULL);
            o->power_rows++;
        }
        if (itot >= 0 && itot < nt && strcmp(tok[itot], "N/A") != 0) {
            double e = strtod(tok[itot], NULL);
            if (isnan(o->totec_first))
                o->totec_first = e;
            o->totec_last = e;
        }
    }
    fclose(f);
    return 0;
}

static void check_real_file(const char *path, long want_rows)
{
    struct indep in = {0};
    assert_int_equal(scan_dcgmi(path, &in), 0);
    if (want_rows >= 0 && in.rows != want_rows)
        fail_msg("%s: independent count %ld, PROVENANCE.md says %ld", path, in.rows, want_rows);
    fp_ts_reader *r;
    fp_error err;
    if (fp_ts_open(path, FP_FMT_AUTO, NULL, &r, &err) != FP_OK)
        fail_msg("%s", err.msg);
    const fp_ts_info *info = fp_ts_get_info(r);
    assert_int_equal(info->format, FP_FMT_DCGMI);
    /* dmon -d 50 (PROVENANCE.md), rebuilt from TOTEC and POWER. */
    if (info->interval_s != 0.05)
        fail_msg("%s: interval %g, want 0.05", path, info->interval_s);
    fp_sample s;
    long n = 0, np = 0;
    double psum = 0, e_first = NAN, e_last = NAN;
    int rc;
    while ((rc = fp_ts_next(r, &s, &err)) == 1) {
        if (!isnan(s.v[FP_COL_POWER_W])) {
            psum += s.v[FP_COL_POWER_W];
            np++;
        }
        if (!isnan(s.v[FP_COL_ENERGY_MJ])) {
            if (isnan(e_first))
                e_first = s.v[FP_COL_ENERGY_MJ];
            e_last = s.v[FP_COL_ENERGY_MJ];
        }
        n++;
    }
    if (rc != 0)
        fail_msg("%s: %s", path, err.msg);
    assert_int_equal(n, in.rows);
    assert_int_equal(np, in.power_rows);
    assert_true(fabs(psum / np - in.power_sum / in.power_rows) < 1e-9 * (psum / np));
    assert_true(e_first == in.totec_first);
    assert_true(e_last == in.totec_last);
    assert_true(info->columns_present & (1u << FP_COL_APP_CLOCK_MHZ));
    fp_ts_close(r);
}

static void test_real_dcgmi_files(void **state)
{
    TU_REQUIRE_DATA();
    for (size_t i = 0; i < sizeof provenance / sizeof *provenance; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "ai-inference-energy/baseline_runs_2025-07/%s",
                 provenance[i].rel);
        check_real_file(tu_data_path(rel), provenance[i].rows);
    }
}

/* Also every other file whose first byte is '#' (nothing missed by the table above). */
static void test_real_dcgmi_all(void **state)
{
    TU_REQUIRE_DATA();
    const char *base = tu_data_path("ai-inference-energy/baseline_runs_2025-07");
    char basebuf[4096];
    snprintf(basebuf, sizeof basebuf, "%s", base);
    DIR *d = opendir(basebuf);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4352];
        snprintf(sub, sizeof sub, "%s/%s", basebuf, e->d_name);
        DIR *d2 = opendir(sub);
        if (!d2)
            continue;
        struct dirent *e2;
        while ((e2 = readdir(d2))) {
            char path[4608];
            snprintf(path, sizeof path, "%s/%s", sub, e2->d_name);
            FILE *f = fopen(path, "rb");
            if (!f)
                continue;
            int c = fgetc(f);
            fclose(f);
            if (c != '#')
                continue;
            check_real_file(path, -1);
            files++;
        }
        closedir(d2);
    }
    closedir(d);
    assert_int_equal(files, (int)(sizeof provenance / sizeof *provenance));
}

TU_MAIN(cmocka_unit_test(test_two_gpus_repeated_header_trailing_messages),
        cmocka_unit_test(test_device_name_spanning_tokens), cmocka_unit_test(test_gpu_instances),
        cmocka_unit_test(test_bad_inputs), cmocka_unit_test(test_real_dcgmi_files),
        cmocka_unit_test(test_real_dcgmi_all))
