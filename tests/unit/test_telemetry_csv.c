/* SPDX-License-Identifier: GPL-3.0-or-later */
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

#include "freqpilot/reader.h"
#include "freqpilot/telemetry_io.h"
#include "telemetry/ts_internal.h"
#include "testutil.h"

static void test_subset_any_order(void **state)
{
    fp_ts_reader *r;
    fp_error err;
    fp_sample s[4];
    assert_int_equal(fp_ts_open(tu_fixture("telemetry/subset.csv"), FP_FMT_AUTO, NULL, &r, &err),
                     FP_OK);
    const fp_ts_info *info = fp_ts_get_info(r);
    assert_int_equal(info->format, FP_FMT_TELEMETRY);
    assert_false(info->time_reconstructed);
    assert_true(info->columns_present & (1u << FP_COL_SM_ACTIVE));
    assert_false(info->columns_present & (1u << FP_COL_TEMP_C));
    for (int i = 0; i < 3; i++)
        assert_int_equal(fp_ts_next(r, &s[i], &err), 1);
    assert_int_equal(fp_ts_next(r, &s[3], &err), 0);
    assert_int_equal(info->rows, 3);
    assert_true(s[0].v[FP_COL_T_S] == 0 && s[1].v[FP_COL_T_S] == 0.05 && s[2].v[FP_COL_T_S] == 0.1);
    assert_true(s[1].v[FP_COL_POWER_W] == 62.25);
    assert_true(isnan(s[1].v[FP_COL_SM_CLOCK_MHZ])); /* empty cell */
    assert_true(isnan(s[1].v[FP_COL_SM_ACTIVE]));
    assert_true(s[2].v[FP_COL_ENERGY_MJ] == 1006.75);
    assert_true(isnan(s[0].v[FP_COL_TEMP_C])); /* absent column */
    assert_true(fabs(info->interval_s - 0.05) < 1e-12);
    fp_ts_close(r);
}

static void expect_error(const char *rel, const char *needle)
{
    fp_ts_reader *r = NULL;
    fp_error err = {0};
    fp_status st = fp_ts_open(tu_fixture(rel), FP_FMT_TELEMETRY, NULL, &r, &err);
    if (st == FP_OK) {
        fp_sample s;
        while ((st = fp_ts_next(r, &s, &err)) == 1)
            ;
        fp_ts_close(r);
    }
    if (st != FP_ERR_PARSE || !strstr(err.msg, needle))
        fail_msg("%s: got %d '%s', want a parse error with '%s'", rel, st, err.msg, needle);
}

static void test_bad_inputs(void **state)
{
    expect_error("telemetry/no_ts.csv", "no_ts.csv:1: telemetry.csv header without a t_s column");
    expect_error("telemetry/bad_value.csv",
                 "bad_value.csv:3: column 2 (power_w): expected a number, found 'abc'");
    expect_error("telemetry/bad_columns.csv", "bad_columns.csv:3: expected 2 columns, found 3");
    expect_error("smi/empty.csv", "empty file");
}

static void test_format_value(void **state)
{
    static const struct {
        double v;
        const char *s;
    } cases[] = {{0, "0"},
                 {1410, "1410"},
                 {313324248219.0, "313324248219"},
                 {43.454, "43.454"},
                 {0.05, "0.05"},
                 {-1.5, "-1.5"},
                 {0.001, "0.001"},
                 {62.48, "62.48"},
                 {1e-12, "9.9999999999999998e-13"},
                 {0.1 + 0.2, "0.30000000000000004"},
                 {1e300, "1.0000000000000001e+300"}};
    char buf[40];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int n = fp_telemetry_format_value(cases[i].v, buf);
        buf[n] = '\0';
        if (strcmp(buf, cases[i].s) != 0)
            fail_msg("%.17g: got '%s' want '%s'", cases[i].v, buf, cases[i].s);
    }
    assert_int_equal(fp_telemetry_format_value(NAN, buf), 0);
}

/* Every value written reads back as the same double as fp_telemetry_quantize gives it. */
static void test_writer_round_trip(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "%s/fptest_telemetry_%d.csv",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    fp_telemetry_writer *w;
    fp_error err;
    enum { N = 500 };
    static fp_sample in[N];
    srand(7);
    for (int i = 0; i < N; i++) {
        fp_sample_clear(&in[i]);
        in[i].v[FP_COL_T_S] = i * 0.05; /* often not a short decimal */
        in[i].v[FP_COL_POWER_W] = (rand() % 400000) / 1000.0;
        in[i].v[FP_COL_ENERGY_MJ] = 313324248219.0 + i * 2271;
        in[i].v[FP_COL_SM_ACTIVE] = (double)rand() / RAND_MAX;
        in[i].v[FP_COL_SM_CLOCK_MHZ] = i % 7 ? 1410 : NAN;
        in[i].v[FP_COL_THROTTLE_REASONS] = (double)(i % 3 ? 4 : 0x8000000000ULL);
        in[i].v[FP_COL_TEMP_C] = -(double)(i % 40); /* down to -39 C: inside the range */
    }
    assert_int_equal(fp_telemetry_writer_open(&w, path, &err), FP_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(fp_telemetry_write_sample(w, &in[i], &err), FP_OK);
    /* Nothing visible before commit. */
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(fp_telemetry_writer_commit(w, &err), FP_OK);
    fp_ts_reader *r;
    assert_int_equal(fp_ts_open(path, FP_FMT_AUTO, NULL, &r, &err), FP_OK);
    assert_int_equal(fp_ts_get_info(r)->columns_present, (1ull << FP_COL_COUNT) - 1);
    fp_sample s;
    int i = 0;
    while (fp_ts_next(r, &s, &err) == 1) {
        assert_true(i < N);
        for (int c = 0; c < FP_COL_COUNT; c++) {
            double a = fp_telemetry_quantize((fp_col)c, in[i].v[c]), b = s.v[c];
            if (!(isnan(a) && isnan(b)) && memcmp(&a, &b, sizeof a) != 0)
                fail_msg("row %d %s: wrote %.17g read %.17g", i, fp_col_name(c), a, b);
        }
        i++;
    }
    assert_int_equal(i, N);
    fp_ts_close(r);
    /* The header is every column in enum order. */
    FILE *f = fopen(path, "r");
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_true(strncmp(line, "t_s,power_w,power_avg_w,energy_mj,", 34) == 0);
    remove(path);

    /* Abort leaves nothing. */
    assert_int_equal(fp_telemetry_writer_open(&w, path, &err), FP_OK);
    assert_int_equal(fp_telemetry_write_sample(w, &in[0], &err), FP_OK);
    fp_telemetry_writer_abort(w);
    assert_int_equal(access(path, F_OK), -1);
}

/* Written with no more digits than the source has: NVML's mW, mJ, MHz; microseconds. */
static void test_quantize(void **state)
{
    (void)state;
    static const struct {
        fp_col c;
        double v;
        const char *s;
    } cases[] = {
        {FP_COL_T_S, 12.345678901234, "12.345679"}, /* a monotonic clock's nanoseconds */
        {FP_COL_T_S, 0.1 + 0.2, "0.3"},
        {FP_COL_POWER_W, 70123 / 1000.0, "70.123"}, /* NVML mW */
        {FP_COL_POWER_W, 123.456789, "123.457"},
        {FP_COL_ENERGY_MJ, 313324248219.4, "313324248219"},
        {FP_COL_SM_CLOCK_MHZ, 1410, "1410"},
        {FP_COL_SM_ACTIVE, 1.0 / 3.0, "0.33333"},
        {FP_COL_FB_USED_MIB, 123456789 / 1048576.0, "117.738"}, /* bytes / 2^20 */
        {FP_COL_THROTTLE_REASONS, (double)0x8000000000ULL, "549755813888"},
        {FP_COL_TEMP_C, -0.2, "0"},                         /* never "-0" */
        {FP_COL_POWER_W, 1e300, "1.0000000000000001e+300"}, /* beyond 2^53 mW: as it is */
    };
    char buf[40];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int n = fp_telemetry_format_value(fp_telemetry_quantize(cases[i].c, cases[i].v), buf);
        buf[n] = '\0';
        if (strcmp(buf, cases[i].s) != 0)
            fail_msg("%s %.17g: got '%s' want '%s'", fp_col_name(cases[i].c), cases[i].v, buf,
                     cases[i].s);
    }
    assert_true(isnan(fp_telemetry_quantize(FP_COL_POWER_W, NAN)));
}

/* The bitmap fast path gives the general path's samples bit for bit: the same random rows
 * read plain (fast path) and with a blank after every comma (the general path: blanks are
 * trimmed there, the fast path leaves such rows to it), signs, empty cells and 15-digit
 * numbers included. */
static void test_fast_path_same_values(void **state)
{
    (void)state;
    enum { N = 3000 };
    char *plain = malloc(N * 400 + 1024), *spaced = malloc(N * 500 + 1024);
    size_t pn = 0, sn = 0;
    static const char header[] = "t_s,power_w,energy_mj,sm_active,temp_c,throttle_reasons\n";
    pn += (size_t)sprintf(plain + pn, "%s", header);
    sn += (size_t)sprintf(spaced + sn, "%s", header);
    srand(11);
    for (int i = 0; i < N; i++) {
        char cells[6][40];
        snprintf(cells[0], 40, "%d.%06d", i, rand() % 1000000); /* in time order */
        snprintf(cells[1], 40, i % 17 ? "%d.%03d" : "", rand() % 5000, rand() % 1000);
        snprintf(cells[2], 40, "%lld", 313324248219LL + (long long)i * 2271);
        snprintf(cells[3], 40, i % 5 ? "0.%05d" : "%d", rand() % (i % 5 ? 100000 : 2));
        snprintf(cells[4], 40, "%d", rand() % 80 - 20);
        snprintf(cells[5], 40, i % 3 ? "%d" : "123456789012345", rand() % 64);
        for (int c = 0; c < 6; c++) {
            pn += (size_t)sprintf(plain + pn, "%s%s", c ? "," : "", cells[c]);
            sn += (size_t)sprintf(spaced + sn, "%s%s", c ? ", " : " ", cells[c]);
        }
        plain[pn++] = '\n';
        spaced[sn++] = '\n';
    }
    fp_ts_reader *a, *b;
    fp_error err;
    assert_int_equal(fp_ts_open_mem(plain, pn, "plain", FP_FMT_TELEMETRY, NULL, &a, &err), FP_OK);
    assert_int_equal(fp_ts_open_mem(spaced, sn, "spaced", FP_FMT_TELEMETRY, NULL, &b, &err), FP_OK);
    fp_sample x, y;
    int rows = 0, ra, rb;
    while ((ra = fp_ts_next(a, &x, &err)) == 1) {
        rb = fp_ts_next(b, &y, &err);
        assert_int_equal(rb, 1);
        assert_memory_equal(&x, &y, sizeof x);
        rows++;
    }
    assert_int_equal(ra, 0);
    assert_int_equal(fp_ts_next(b, &y, &err), 0);
    assert_int_equal(rows, N);
    fp_ts_close(a);
    fp_ts_close(b);
    free(plain);
    free(spaced);
}

TU_MAIN(cmocka_unit_test(test_subset_any_order), cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_format_value), cmocka_unit_test(test_writer_round_trip),
        cmocka_unit_test(test_quantize), cmocka_unit_test(test_fast_path_same_values))
