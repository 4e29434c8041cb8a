/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aggregated.csv / JSON: the column contract, NAN as empty/null, round trip, bad input. */
#define _GNU_SOURCE
#include <dirent.h>
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
#include <jansson.h>

#include "freqpilot/aggregate.h"
#include "testutil.h"

static const char contract[] =
    "gpu,app,freq_mhz,runs,runs_dropped,time_s,time_s_lo,time_s_hi,energy_j,energy_j_lo,"
    "energy_j_hi,power_w,edp,ed2p,sm_clock_mhz,gpu_util_pct,sm_active,dram_active,"
    "tensor_active,fp_active,temp_c,flags";

static void fill_row(fp_agg_row *r, const char *gpu, const char *app, double f, int runs)
{
    memset(r, 0, sizeof *r);
    snprintf(r->gpu, sizeof r->gpu, "%s", gpu);
    snprintf(r->app, sizeof r->app, "%s", app);
    r->freq_mhz = f;
    r->runs = runs;
    double *d = &r->time_s;
    /* time_s .. temp_c are consecutive doubles in the struct, then time_cv, energy_cv. */
    for (double *p = d; p <= &r->temp_c; p++)
        *p = runs ? 1.0 + 0.123456789 * (double)(p - d) + f / 1000.0 : NAN;
    if (runs) /* activities are fractions: the reader refuses more than 1 */
        r->sm_active = r->dram_active = r->tensor_active = 0.123456789 + f / 100000.0;
    r->time_cv = runs > 1 ? 0.0125 : NAN;
    r->energy_cv = NAN;
}

static void make_result(fp_agg_result *res)
{
    memset(res, 0, sizeof *res);
    res->nrows = 3;
    res->rows = calloc(3, sizeof *res->rows);
    /* Out of order on purpose: the writer sorts gpu, app, clock descending. */
    fill_row(&res->rows[0], "A100", "vit", 1005, 3);
    snprintf(res->rows[0].gpu_name, sizeof res->rows[0].gpu_name, "NVIDIA A100-SXM4-80GB");
    fill_row(&res->rows[1], "A100", "vit", 1410, 0);
    res->rows[1].runs_dropped = 3;
    res->rows[1].flags = FP_FLAG_COLD_START_DROPPED | FP_FLAG_NOT_CLOCK_BOUND;
    fill_row(&res->rows[2], "A100", "my,app \"x\"", 900, 1);
    res->rows[2].flags = FP_FLAG_THROTTLED;
    res->nfindings = 1;
    res->findings = calloc(1, sizeof *res->findings);
    snprintf(res->findings[0].gpu, 64, "A100");
    snprintf(res->findings[0].app, 64, "vit");
    res->findings[0].flag = FP_FLAG_NOT_CLOCK_BOUND;
    snprintf(res->findings[0].detail, 256, "R^2 = 0.11");
    fp_run r;
    fp_run_init(&r);
    r.gpu = "A100";
    r.app = "vit";
    r.freq_mhz = 1410;
    r.run_index = 1;
    r.time_s = 671.55;
    r.flags = FP_FLAG_COLD_START_DROPPED;
    assert_int_equal(fp_run_list_push(&res->dropped, &r, NULL), FP_OK);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static int starts_with(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) == 0)
        return 1;
    print_message("'%.120s' does not start with '%s'\n", s, prefix);
    return 0;
}

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || fabs(a - b) <= 1e-9 * fmax(1.0, fabs(a));
}

static void test_csv_round_trip(void **state)
{
    (void)state;
    fp_agg_result res, back;
    make_result(&res);
    char dir[] = "/tmp/fpaggioXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/aggregated.csv", dir);
    fp_error err;
    assert_int_equal(fp_agg_write_csv(&res, path, &err), FP_OK);
    char *text = slurp(path);
    /* Contract columns first, in order, then the extras. */
    assert_int_equal(strncmp(text, contract, strlen(contract)), 0);
    assert_int_equal(strncmp(text + strlen(contract), ",time_cv,energy_cv,gpu_name\n", 28), 0);
    /* Sorted: "A100,my..." < "A100,vit" and 1410 before 1005; the empty row has empty cells. */
    char *l2 = strchr(text, '\n') + 1;
    assert_true(starts_with(l2, "A100,\"my,app \"\"x\"\"\",900,1,0,"));
    char *l3 = strchr(l2, '\n') + 1;
    assert_true(starts_with(
        l3, "A100,vit,1410,0,3,,,,,,,,,,,,,,,,,cold_start_dropped;not_clock_bound,,,\n"));
    free(text);
    assert_int_equal(fp_agg_read_csv(path, &back, &err), FP_OK);
    assert_int_equal(back.nrows, 3);
    /* Compare against the source rows by key. */
    for (size_t i = 0; i < back.nrows; i++) {
        const fp_agg_row *b = &back.rows[i], *a = NULL;
        for (size_t j = 0; j < res.nrows; j++)
            if (!strcmp(res.rows[j].app, b->app) && res.rows[j].freq_mhz == b->freq_mhz)
                a = &res.rows[j];
        assert_non_null(a);
        assert_string_equal(a->gpu, b->gpu);
        assert_string_equal(a->gpu_name, b->gpu_name);
        assert_int_equal(a->runs, b->runs);
        assert_int_equal(a->runs_dropped, b->runs_dropped);
        assert_int_equal(a->flags, b->flags);
        for (const double *p = &a->time_s, *q = &b->time_s; p <= &a->energy_cv; p++, q++)
            assert_true(same(*p, *q));
    }
    fp_agg_result_free(&back);
    /* No temporary files left beside the output. */
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        files += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(files, 1);
    unlink(path);
    rmdir(dir);
    fp_agg_result_free(&res);
}

static void test_json(void **state)
{
    (void)state;
    fp_agg_result res;
    make_result(&res);
    const char *path = tu_write_temp("", 0);
    fp_error err;
    assert_int_equal(fp_agg_write_json(&res, path, &err), FP_OK);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    assert_non_null(root);
    json_t *rows = json_object_get(root, "rows");
    assert_int_equal(json_array_size(rows), 3);
    json_t *r1 = json_array_get(rows, 1); /* vit 1410, empty */
    assert_string_equal(json_string_value(json_object_get(r1, "app")), "vit");
    assert_true(json_is_null(json_object_get(r1, "time_s")));
    assert_true(json_is_null(json_object_get(r1, "energy_j_lo")));
    assert_int_equal(json_integer_value(json_object_get(r1, "runs_dropped")), 3);
    assert_string_equal(json_string_value(json_object_get(r1, "flags")),
                        "cold_start_dropped;not_clock_bound");
    json_t *r2 = json_array_get(rows, 2);
    assert_float_equal(json_number_value(json_object_get(r2, "time_s")), 1.0 + 1.005, 1e-9);
    json_t *f = json_array_get(json_object_get(root, "findings"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "flag")), "not_clock_bound");
    assert_string_equal(json_string_value(json_object_get(f, "detail")), "R^2 = 0.11");
    json_t *d = json_array_get(json_object_get(root, "dropped"), 0);
    assert_float_equal(json_number_value(json_object_get(d, "time_s")), 671.55, 1e-9);
    assert_true(json_is_null(json_object_get(d, "energy_j")));
    assert_string_equal(json_string_value(json_object_get(d, "flags")), "cold_start_dropped");
    json_decref(root);
    unlink(path);
    fp_agg_result_free(&res);
}

static void test_write_error(void **state)
{
    (void)state;
    fp_agg_result res;
    make_result(&res);
    fp_error err;
    assert_int_equal(fp_agg_write_csv(&res, "/nonexistent-dir/x/aggregated.csv", &err), FP_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x"));
    assert_int_equal(fp_agg_write_json(&res, "/nonexistent-dir/x/a.json", &err), FP_ERR_IO);
    fp_agg_result_free(&res);
}

static void expect_bad(const char *content, size_t len, fp_status code, const char *where,
                       const char *what)
{
    const char *path = tu_write_temp(content, len);
    fp_agg_result res;
    fp_error err;
    fp_status st = fp_agg_read_csv(path, &res, &err);
    if (st != code)
        fail_msg("expected status %d, got %d (%s) for %s", code, st, err.msg, what);
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%s:%s", path, where);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0 || !strstr(err.msg, what))
        fail_msg("message '%s' lacks '%s' / '%s'", err.msg, prefix, what);
    assert_null(res.rows);
    unlink(path);
}

#define HDR                                                                                        \
    "gpu,app,freq_mhz,runs,runs_dropped,time_s,time_s_lo,time_s_hi,energy_j,energy_j_lo,"          \
    "energy_j_hi,power_w,edp,ed2p,sm_clock_mhz,gpu_util_pct,sm_active,dram_active,"                \
    "tensor_active,fp_active,temp_c,flags\n"
#define GOOD "A100,vit,1410,3,0,10,9,11,100,90,110,10,1000,10000,1400,90,0.5,0.3,0.1,0.2,60,\n"

static void test_read_bad(void **state)
{
    (void)state;
    fp_agg_result res;
    fp_error err;
    /* The minimal good file reads, without the optional extra columns. */
    const char *ok = tu_write_temp(HDR GOOD, strlen(HDR GOOD));
    assert_int_equal(fp_agg_read_csv(ok, &res, &err), FP_OK);
    assert_int_equal(res.nrows, 1);
    assert_float_equal(res.rows[0].dram_active, 0.3, 1e-12);
    assert_true(isnan(res.rows[0].time_cv));
    fp_agg_result_free(&res);
    unlink(ok);

    expect_bad("", 0, FP_ERR_PARSE, "1:", "empty file");
    const char *nohdr = "gpu,app,freq_mhz\nA100,vit,1410\n";
    expect_bad(nohdr, strlen(nohdr), FP_ERR_FORMAT, "1:", "column 'runs'");
    const char *cols = HDR GOOD "A100,vit,1395,3,0,10\n";
    expect_bad(cols, strlen(cols), FP_ERR_PARSE, "3:", "expected 22 columns, found 6");
    const char *num = HDR "A100,vit,1410,3,0,ten,9,11,100,90,110,10,1000,10000,1400,90,0.5,0.3,"
                          "0.1,0.2,60,\n";
    expect_bad(num, strlen(num), FP_ERR_PARSE, "2:", "column time_s: expected a number");
    const char *runs = HDR "A100,vit,1410,2.5,0,10,9,11,100,90,110,10,1000,10000,1400,90,0.5,0.3,"
                           "0.1,0.2,60,\n";
    expect_bad(runs, strlen(runs), FP_ERR_PARSE, "2:", "column runs");
    const char *flag = HDR "A100,vit,1410,3,0,10,9,11,100,90,110,10,1000,10000,1400,90,0.5,0.3,"
                           "0.1,0.2,60,hot;throttled\n";
    expect_bad(flag, strlen(flag), FP_ERR_PARSE, "2:", "flag names");
    const char trunc[] = HDR GOOD "A100,vit,1395,3,0,10,9,11,100,90,110,10,1000,10000,1400,90";
    expect_bad(trunc, sizeof trunc - 1, FP_ERR_PARSE, "3:", "truncated");
    char nul[sizeof(HDR GOOD GOOD)];
    memcpy(nul, HDR GOOD GOOD, sizeof nul);
    nul[strlen(HDR GOOD) + 5] = '\0';
    expect_bad(nul, sizeof nul - 1, FP_ERR_PARSE, "3:", "NUL");
    assert_int_equal(fp_agg_read_csv("/nonexistent/aggregated.csv", &res, &err), FP_ERR_IO);
}

static void test_read_fixture(void **state)
{
    (void)state;
    fp_agg_result res;
    fp_error err;
    if (fp_agg_read_csv(tu_fixture("agg/aggregated_small.csv"), &res, &err) != FP_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(res.nrows, 4);
    assert_string_equal(res.rows[0].app, "llama");
    assert_float_equal(res.rows[0].freq_mhz, 1785, 0);
    assert_int_equal(res.rows[3].runs, 0);
    assert_true(isnan(res.rows[3].energy_j));
    assert_int_equal(res.rows[3].flags, FP_FLAG_COLD_START_DROPPED);
    fp_agg_result_free(&res);
}

TU_MAIN(cmocka_unit_test(test_csv_round_trip), cmocka_unit_test(test_json),
        cmocka_unit_test(test_write_error), cmocka_unit_test(test_read_bad),
        cmocka_unit_test(test_read_fixture))
