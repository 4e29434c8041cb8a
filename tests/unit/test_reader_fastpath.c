/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The readers parse plain rows on a fast path and everything else on the
 * general one. These tests feed random rows mixing both (numbers of every
 * shape, units, N/A markers, P-states, hex masks, quoted cells, other GPUs,
 * repeated headers) and check every value against strtod() and the time
 * against a timestamp computed here, so both paths must agree with an
 * independent parser, row for row.
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

#include "freqpilot/reader.h"
#include "testutil.h"

static unsigned rng_state = 12345;
static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

/* A random decimal in one of many spellings; *want is its value by strtod (NAN for N/A). */
static void rand_number(char *buf, size_t cap, double *want, int allow_na)
{
    char num[64];
    int kind = (int)rnd(10);
    if (allow_na && kind == 0) {
        snprintf(buf, cap, "%s", rnd(2) ? "[N/A]" : "N/A");
        *want = NAN;
        return;
    }
    int nint = (int)rnd(9), nfrac = (int)rnd(kind == 1 ? 20 : 5);
    size_t k = 0;
    if (rnd(8) == 0)
        num[k++] = '-';
    for (int i = 0; i < nint; i++)
        num[k++] = (char)('0' + (i == 0 && rnd(3) ? 1 + rnd(9) : rnd(10)));
    if (nfrac || nint == 0) {
        num[k++] = '.';
        if (nfrac == 0)
            nfrac = 1;
        for (int i = 0; i < nfrac; i++)
            num[k++] = (char)('0' + rnd(10));
    }
    num[k] = '\0';
    *want = strtod(num, NULL);
    snprintf(buf, cap, "%s", num);
}

static void check_eq(double got, double want, long row, const char *what)
{
    if (isnan(want) ? !isnan(got) : memcmp(&got, &want, sizeof got) != 0)
        fail_msg("row %ld %s: got %.17g, want %.17g", row, what, got, want);
}

#define ROWS 3000

static void test_smi_random_rows(void **state)
{
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    double *want_p = malloc(ROWS * sizeof *want_p), *want_u = malloc(ROWS * sizeof *want_u);
    double *want_t = malloc(ROWS * sizeof *want_t), *want_ps = malloc(ROWS * sizeof *want_ps);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len,
                            "timestamp, index, name, power.draw [W], memory.total [MiB], "
                            "utilization.gpu [%%], pstate\n");
    long n = 0, day = 0;
    double t0 = NAN;
    while (n < ROWS) {
        /* Another GPU's row now and then, a repeated header once. */
        int gpu = n > 0 && rnd(5) == 0; /* the first row picks the GPU kept */
        if (n == ROWS / 2 && gpu == 0)
            len += (size_t)snprintf(text + len, cap - len,
                                    "timestamp, index, name, power.draw [W], memory.total [MiB], "
                                    "utilization.gpu [%%], pstate\n");
        if (rnd(200) == 0 && day < 20)
            day++; /* crosses midnight: the cached date must change */
        int h = (int)rnd(24), mi = (int)rnd(60), se = (int)rnd(60), ms = (int)rnd(1000);
        char p[64], u[64];
        double pv, uv;
        rand_number(p, sizeof p, &pv, 1);
        rand_number(u, sizeof u, &uv, 1);
        int unit = rnd(3) == 0, quote = rnd(6) == 0, ps = (int)rnd(9);
        double t = (double)(1752019200 + day * 86400 + h * 3600 + mi * 60 + se);
        len += (size_t)snprintf(
            text + len, cap - len,
            "%s2025/07/%02ld %02d:%02d:%02d.%03d%s, %d, %s, %s%s, 40536, %s, P%d\n",
            quote ? "\"" : "", 9 + day, h, mi, se, ms, quote ? "\"" : "", gpu,
            rnd(2) ? "NVIDIA A100" : "\"NVIDIA A100, 40GB\"", p, unit && !isnan(pv) ? " W" : "", u,
            ps);
        if (gpu != 0)
            continue;
        if (isnan(t0))
            t0 = t + ms / 1000.0;
        want_t[n] = t + ms / 1000.0 - t0;
        want_p[n] = pv;
        want_u[n] = uv;
        want_ps[n] = ps;
        n++;
    }
    fp_ts_reader *r;
    fp_error err;
    const char *path = tu_write_temp(text, len);
    if (fp_ts_open(path, FP_FMT_AUTO, NULL, &r, &err) != FP_OK)
        fail_msg("%s", err.msg);
    fp_sample s;
    int rc;
    long i = 0;
    while ((rc = fp_ts_next(r, &s, &err)) == 1) {
        assert_true(i < ROWS);
        check_eq(s.v[FP_COL_POWER_W], want_p[i], i, "power");
        check_eq(s.v[FP_COL_GPU_UTIL_PCT], want_u[i], i, "util");
        check_eq(s.v[FP_COL_PSTATE], want_ps[i], i, "pstate");
        /* the reader subtracts whole seconds and fractions apart: within 1 us */
        if (fabs(s.v[FP_COL_T_S] - want_t[i]) > 1e-6)
            fail_msg("row %ld t_s: got %.9f, want %.9f", i, s.v[FP_COL_T_S], want_t[i]);
        assert_true(isnan(s.v[FP_COL_ENERGY_MJ]));
        i++;
    }
    if (rc < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(i, ROWS);
    const fp_ts_info *info = fp_ts_get_info(r);
    assert_int_equal(info->rows, ROWS);
    assert_true(info->rows_other_entity > 0);
    assert_int_equal(info->rows_skipped, 1); /* the repeated header */
    fp_ts_close(r);
    remove(path);
    free(text);
    free(want_p);
    free(want_u);
    free(want_t);
    free(want_ps);
}

static void test_dcgmi_random_rows(void **state)
{
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    double *want_p = malloc(ROWS * sizeof *want_p), *want_a = malloc(ROWS * sizeof *want_a);
    assert_non_null(text);
    static const char hdr[] =
        "#Entity   SMACT   PCITX       POWER\nID                          W\n";
    long n = 0, headers = 0, blanks = 0, other = 0;
    while (n < ROWS) {
        if (n % 14 == 0 && (n == 0 || rnd(2))) {
            if (len) {
                len += (size_t)snprintf(text + len, cap - len, "\n");
                blanks++;
            }
            len += (size_t)snprintf(text + len, cap - len, "%s", hdr);
            headers++;
        }
        char a[64], p[64];
        double av, pv;
        rand_number(a, sizeof a, &av, 1);
        rand_number(p, sizeof p, &pv, 1);
        int gpu = n > 0 && rnd(6) == 0;
        const char *pad = rnd(2) ? "  " : " \t ";
        len += (size_t)snprintf(text + len, cap - len, "%sGPU %d%s%s%s%u%s%s\n",
                                rnd(2) ? "    " : "", gpu, pad, a, pad, rnd(99999), pad, p);
        if (gpu) {
            other++;
            continue;
        }
        want_a[n] = av;
        want_p[n] = pv;
        n++;
    }
    fp_ts_options opt = {.interval_s = 0.1, .gpu_index = -1, .diag = NULL};
    fp_ts_reader *r;
    fp_error err;
    const char *path = tu_write_temp(text, len);
    if (fp_ts_open(path, FP_FMT_AUTO, &opt, &r, &err) != FP_OK)
        fail_msg("%s", err.msg);
    fp_sample s;
    int rc;
    long i = 0;
    while ((rc = fp_ts_next(r, &s, &err)) == 1) {
        assert_true(i < ROWS);
        check_eq(s.v[FP_COL_SM_ACTIVE], want_a[i], i, "smact");
        check_eq(s.v[FP_COL_POWER_W], want_p[i], i, "power");
        check_eq(s.v[FP_COL_T_S], (double)i * 0.1, i, "t_s");
        i++;
    }
    if (rc < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(i, ROWS);
    const fp_ts_info *info = fp_ts_get_info(r);
    assert_int_equal(info->rows_other_entity, other);
    /* every header, units and blank line */
    assert_int_equal(info->rows_skipped, 2 * headers + blanks);
    fp_ts_close(r);
    remove(path);
    free(text);
    free(want_p);
    free(want_a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smi_random_rows),
        cmocka_unit_test(test_dcgmi_random_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
