/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The readers parse plain rows on a fast path and everything else on the
 * general one. These tests feed random rows mixing both (numbers of every
 * shape, units, N/A markers, P-states, hex masks, quoted cells, other GPUs,
 * repeated headers) and check every value against strtod() and the time
 * against a timestamp computed here, so both paths must agree with an
 * independent parser, row for row. Each test runs with every structural-bitmap
 * implementation the CPU has (bytes, SSE2, AVX2; util/csvcore.h). The readers' range and
 * time-order checks are off here (FP_TS_UNCHECKED): the values are random, in random order.
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
#include "util/csvcore.h"
#include "telemetry/ts_internal.h"
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
    if (fp_ts_open_flags(path, FP_FMT_AUTO, NULL, FP_TS_UNCHECKED, &r, &err) != FP_OK)
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
    size_t cap = 8 << 20, len = 0;
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
        /* Blank runs of random widths (rows cross the 64-byte words of the bitmap path at
         * every offset), tabs, and now and then a row longer than the bitmap path takes. */
        char pad[3][1200];
        for (int k = 0; k < 3; k++) {
            size_t w = rnd(40) == 0 ? 1 + rnd(1100) : 1 + rnd(24);
            for (size_t j = 0; j < w; j++)
                pad[k][j] = rnd(8) == 0 ? '\t' : ' ';
            pad[k][w] = '\0';
        }
        len += (size_t)snprintf(text + len, cap - len, "%sGPU %d%s%s%s%u%s%s%s\n",
                                rnd(2) ? "    " : "", gpu, pad[0], a, pad[1], rnd(99999), pad[2], p,
                                rnd(5) == 0 ? "  " : "");
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
    if (fp_ts_open_flags(path, FP_FMT_AUTO, &opt, FP_TS_UNCHECKED, &r, &err) != FP_OK)
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

/* fp_parse_short against strtod (and fp_parse_num) on random tokens, including ones it must
 * refuse; the token sits at every alignment after random bytes. */
static void test_parse_short_random(void **state)
{
    (void)state;
    char buf[96];
    long taken = 0;
    for (int it = 0; it < 200000; it++) {
        char tok[40];
        size_t k = 0;
        int kind = (int)rnd(8);
        if (kind == 0) { /* anything from a small alphabet */
            static const char alpha[] = "0123456789..-+eExN/A[] ";
            size_t n = 1 + rnd(18);
            for (size_t i = 0; i < n; i++)
                tok[k++] = alpha[rnd(sizeof alpha - 1)];
        } else {
            int nint = (int)rnd(kind == 1 ? 18 : 9), nfrac = (int)rnd(kind == 2 ? 18 : 6);
            for (int i = 0; i < nint; i++)
                tok[k++] = (char)('0' + rnd(10));
            if (rnd(3) || nint == 0)
                tok[k++] = '.';
            for (int i = 0; i < nfrac; i++)
                tok[k++] = (char)('0' + rnd(10));
        }
        tok[k] = '\0';
        size_t off = rnd(40);
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (char)("0123456789. ,x"[rnd(14)]);
        memcpy(buf + off, tok, k);
        double got = -1, ref;
        int ok = fp_parse_short(buf, buf + off, buf + off + k, &got);
        /* Its domain: digits with at most one '.', 1 to 15 digits. */
        int dots = 0, digs = 0, other = 0;
        for (size_t i = 0; i < k; i++) {
            if (tok[i] == '.')
                dots++;
            else if (tok[i] >= '0' && tok[i] <= '9')
                digs++;
            else
                other++;
        }
        int want_ok = k > 0 && off + k >= 16 && !other && dots <= 1 && digs >= 1 && digs <= 15;
#if defined(__SSE2__)
        if (ok != want_ok)
            fail_msg("'%s' at %zu: fp_parse_short returned %d, want %d", tok, off, ok, want_ok);
#endif
        if (!ok)
            continue;
        taken++;
        char *end;
        ref = strtod(tok, &end);
        assert_true(*end == '\0');
        if (memcmp(&got, &ref, sizeof got) != 0)
            fail_msg("'%s': got %.17g, strtod %.17g", tok, got, ref);
        double pn;
        assert_int_equal(fp_parse_num(tok, k, &pn), 0);
        assert_memory_equal(&got, &pn, sizeof got);
    }
    assert_true(taken > 50000);
}

/* fp_parse_dec8 (and fp_parse_digits8 under it) against strtod and fp_parse_num on random
 * tokens followed by random bytes: its domain is "DIGITS[.DIGITS]", 1..8 digits a side, 15 in
 * all; the value is the same double. */
static void test_parse_dec8_random(void **state)
{
    (void)state;
    char buf[64];
    long taken = 0;
    for (int it = 0; it < 200000; it++) {
        char tok[40];
        size_t k = 0;
        int kind = (int)rnd(6);
        if (kind == 0) {
            static const char alpha[] = "0123456789..-+eE/ ,";
            size_t n = 1 + rnd(18);
            for (size_t i = 0; i < n; i++)
                tok[k++] = alpha[rnd(sizeof alpha - 1)];
        } else {
            int nint = (int)rnd(kind == 1 ? 12 : 9), nfrac = (int)rnd(kind == 2 ? 12 : 9);
            for (int i = 0; i < nint; i++)
                tok[k++] = (char)('0' + rnd(10));
            if (rnd(2))
                tok[k++] = '.';
            for (int i = 0; i < nfrac; i++)
                tok[k++] = (char)('0' + rnd(10));
        }
        tok[k] = '\0';
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (char)("0123456789. ,x"[rnd(14)]);
        memcpy(buf, tok, k);
        double m = -1;
        int nfrac = -1;
        int ok = fp_parse_dec8(buf, buf + k, &m, &nfrac);
        const char *dot = memchr(tok, '.', k);
        size_t ni = dot ? (size_t)(dot - tok) : k, nf = dot ? k - ni - 1 : 0;
        int plain = k > 0 && strspn(tok, "0123456789.") == k && (!dot || !memchr(dot + 1, '.', nf));
        int want_ok =
            plain && ni >= 1 && ni <= 8 && (!dot || (nf >= 1 && nf <= 8)) && ni + nf <= 15;
#if defined(__SSE2__)
        if (ok != want_ok)
            fail_msg("'%s': fp_parse_dec8 returned %d, want %d", tok, ok, want_ok);
#endif
        if (!ok)
            continue;
        taken++;
        double got = nfrac ? m / fp_pow10_tab[nfrac] : m, ref, pn;
        char *end;
        ref = strtod(tok, &end);
        assert_true(*end == '\0');
        if (memcmp(&got, &ref, sizeof got) != 0)
            fail_msg("'%s': got %.17g, strtod %.17g", tok, got, ref);
        assert_int_equal(fp_parse_num(tok, k, &pn), 0);
        assert_memory_equal(&got, &pn, sizeof got);
        if (!dot) { /* an integer of up to 8 digits: fp_parse_digits8 alone */
            double d;
            assert_int_equal(fp_parse_digits8(buf, buf + k, &d), 1);
            assert_memory_equal(&d, &ref, sizeof d);
        }
    }
    assert_true(taken > 50000);
}

/* fp_ts_next_batch returns the samples fp_ts_next would, an error after them. */
static void test_batch_matches_next(void **state)
{
    (void)state;
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "timestamp, index, power.draw [W], pstate\n");
    long kept = 0;
    for (int i = 0; i < 1000; i++) {
        int gpu = i % 7 == 3; /* another GPU's row: counted, not returned */
        kept += !gpu;
        len += (size_t)snprintf(
            text + len, cap - len, "2025/07/09 01:%02d:%02d.%03d, %d, %d.%02d, P%d\n", i / 600,
            i / 10 % 60, i % 10 * 100, gpu, (int)rnd(400), (int)rnd(100), (int)rnd(9));
    }
    len += (size_t)snprintf(text + len, cap - len, "2025/07/09 02:00:00.000, 0, oops, P0\n");
    const char *path = tu_write_temp(text, len);
    fp_ts_reader *a = NULL, *b = NULL;
    fp_error ea, eb;
    if (fp_ts_open_flags(path, FP_FMT_AUTO, NULL, FP_TS_UNCHECKED, &a, &ea) != FP_OK)
        fail_msg("%s", ea.msg);
    if (fp_ts_open_flags(path, FP_FMT_AUTO, NULL, FP_TS_UNCHECKED, &b, &eb) != FP_OK)
        fail_msg("%s", eb.msg);
    fp_sample one, many[37];
    int ra, rb;
    long total = 0;
    for (;;) {
        int want = 1 + (int)rnd(37);
        rb = fp_ts_next_batch(b, many, want, &eb);
        if (rb <= 0)
            break;
        assert_true(rb <= want);
        for (int k = 0; k < rb; k++) {
            ra = fp_ts_next(a, &one, &ea);
            assert_int_equal(ra, 1);
            assert_memory_equal(&one, &many[k], sizeof one);
            total++;
        }
    }
    ra = fp_ts_next(a, &one, &ea);
    assert_true(ra < 0);
    assert_int_equal(rb, ra);
    assert_string_equal(eb.msg, ea.msg);
    assert_non_null(strstr(eb.msg, ":1002:"));
    assert_int_equal(total, kept); /* GPU 0's rows */
    /* After a rewind the batch starts over. */
    assert_int_equal(fp_ts_rewind(b, &eb), FP_OK);
    assert_int_equal(fp_ts_next_batch(b, many, 5, &eb), 5);
    fp_ts_close(a);
    fp_ts_close(b);
    remove(path);
    free(text);
}

/* Fixed-width dcgmi rows (the usual dmon output): one layout repeats, so the remembered-layout
 * path takes most rows; rows of another GPU with the very same layout must still be told
 * apart, and N/A cells or wider values change the layout. */
static void test_dcgmi_fixed_width(void **state)
{
    (void)state;
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    double *want_a = malloc(ROWS * sizeof *want_a), *want_p = malloc(ROWS * sizeof *want_p);
    double *want_e = malloc(ROWS * sizeof *want_e);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len,
                            "#Entity   SMACT  PCITX       POWER             TOTEC\n"
                            "ID                              W                mJ\n");
    long n = 0, other = 0;
    while (n < ROWS) {
        int gpu = n > 0 && rnd(4) == 0;
        char a[16], p[16], e[32];
        int na = rnd(30) == 0;
        unsigned av = rnd(1000), pv = rnd(rnd(20) == 0 ? 200000 : 20000);
        unsigned long long ev = 313324248219ull + (unsigned long long)n * 977;
        if (na)
            snprintf(a, sizeof a, "  N/A");
        else
            snprintf(a, sizeof a, "0.%03u", av);
        snprintf(p, sizeof p, "%u.%02u", pv / 100, pv % 100);
        snprintf(e, sizeof e, "%llu", ev);
        len += (size_t)snprintf(text + len, cap - len, "     GPU %d  %s  %10u  %10s  %16s\n", gpu,
                                a, rnd(9999999), p, e);
        if (gpu) {
            other++;
            continue;
        }
        want_a[n] = na ? NAN : strtod(a, NULL);
        want_p[n] = strtod(p, NULL);
        want_e[n] = strtod(e, NULL);
        n++;
    }
    fp_ts_options opt = {.interval_s = 0.1, .gpu_index = -1, .diag = NULL};
    fp_ts_reader *r;
    fp_error err;
    const char *path = tu_write_temp(text, len);
    if (fp_ts_open_flags(path, FP_FMT_AUTO, &opt, FP_TS_UNCHECKED, &r, &err) != FP_OK)
        fail_msg("%s", err.msg);
    fp_sample s;
    int rc;
    long i = 0;
    while ((rc = fp_ts_next(r, &s, &err)) == 1) {
        assert_true(i < ROWS);
        check_eq(s.v[FP_COL_SM_ACTIVE], want_a[i], i, "smact");
        check_eq(s.v[FP_COL_POWER_W], want_p[i], i, "power");
        check_eq(s.v[FP_COL_ENERGY_MJ], want_e[i], i, "totec");
        i++;
    }
    if (rc < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(i, ROWS);
    assert_int_equal(fp_ts_get_info(r)->rows_other_entity, other);
    fp_ts_close(r);
    remove(path);
    free(text);
    free(want_a);
    free(want_p);
    free(want_e);
}

/* An index cell far past any integer type is an error, not undefined behaviour (fuzzer find). */
static void test_smi_huge_index(void **state)
{
    (void)state;
    static const char text[] = "timestamp, index, power.draw [W]\n"
                               "2025/07/09 01:17:36.754, 0, 70.1\n"
                               "2025/07/09 01:17:37.754, 4e41, 70.1\n";
    const char *path = tu_write_temp(text, sizeof text - 1);
    fp_ts_reader *r = NULL;
    fp_error err;
    fp_sample s;
    if (fp_ts_open_flags(path, FP_FMT_SMI_CSV, NULL, FP_TS_UNCHECKED, &r, &err) == FP_OK) {
        assert_int_equal(fp_ts_next(r, &s, &err), 1);
        assert_true(fp_ts_next(r, &s, &err) < 0);
        fp_ts_close(r);
    }
    assert_non_null(strstr(err.msg, ":3: column 2 (index)"));
    remove(path);
}

/* Blank lines before the first data row (after a rewind too) are skipped, not samples with
 * no values (fuzzer find: an empty line matched "no remembered layout yet"). */
static void test_dcgmi_blank_after_header(void **state)
{
    (void)state;
    /* One data row only: no row layout is ever remembered. */
    static const char text[] = "#Entity   POWER\nID        W\n\n\n     GPU 0  1.5\n\n\n";
    const char *path = tu_write_temp(text, sizeof text - 1);
    fp_ts_options opt = {.interval_s = 0.1, .gpu_index = -1, .diag = NULL};
    fp_ts_reader *r;
    fp_error err;
    fp_sample s;
    if (fp_ts_open_flags(path, FP_FMT_AUTO, &opt, FP_TS_UNCHECKED, &r, &err) != FP_OK)
        fail_msg("%s", err.msg);
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(fp_ts_next(r, &s, &err), 1);
        assert_true(s.v[FP_COL_POWER_W] == 1.5);
        assert_int_equal(fp_ts_next(r, &s, &err), 0);
        /* header, units line, four blank lines */
        assert_int_equal(fp_ts_get_info(r)->rows_skipped, 6);
        assert_int_equal(fp_ts_rewind(r, &err), FP_OK);
    }
    fp_ts_close(r);
    remove(path);
}

/* Runs a test once per structural-bitmap implementation the CPU has. */
static void each_level(void (*fn)(void **), void **state)
{
    int max = fp_simd_level_set(99);
    for (int level = 0; level <= max; level++) {
        assert_int_equal(fp_simd_level_set(level), level);
        rng_state = 12345 + (unsigned)level;
        fn(state);
    }
    fp_simd_level_set(-1);
}

static void test_smi_all_levels(void **state)
{
    each_level(test_smi_random_rows, state);
}

static void test_dcgmi_all_levels(void **state)
{
    each_level(test_dcgmi_random_rows, state);
    each_level(test_dcgmi_fixed_width, state);
}

TU_MAIN(cmocka_unit_test(test_smi_all_levels), cmocka_unit_test(test_dcgmi_all_levels),
        cmocka_unit_test(test_parse_short_random), cmocka_unit_test(test_parse_dec8_random),
        cmocka_unit_test(test_batch_matches_next), cmocka_unit_test(test_smi_huge_index),
        cmocka_unit_test(test_dcgmi_blank_after_header))
