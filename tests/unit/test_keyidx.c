/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The (gpu, app, clock) index against the scan it replaces: every lookup of random keys
 * (fractional clocks, clocks 0.5 MHz apart, NAN, keys added many times) gives the values a scan
 * of every entry gives, in the same order.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/keyidx.h"
#include "testutil.h"

typedef struct key {
    const char *gpu, *app;
    double f;
} key;

static int same_clock(double a, double b)
{
    return fabs(a - b) < 0.5 || (isnan(a) && isnan(b));
}

static uint64_t rs = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (unsigned)(rs % n);
}

static double random_clock(void)
{
    switch (rnd(6)) {
    case 0:
        return NAN;
    case 1:
        return 1000.0 + rnd(20) * 0.25; /* fractions, some 0.5 apart */
    case 2:
        return 1000.0 + rnd(20) - 0.5;
    default:
        return 210.0 + 15.0 * rnd(81);
    }
}

static void test_against_scan(void **state)
{
    (void)state;
    static const char *const gpus[] = {"V100", "A100", "H100", "A100-n0001", ""};
    static const char *const apps[] = {"llama", "vit", "LLaMA", "whisper"};
    enum { N = 20000 };
    key *k = malloc(N * sizeof *k);
    char **copies = malloc(2 * N * sizeof *copies);
    fp_keyidx *idx = fp_keyidx_new(4); /* grows */
    assert_non_null(k);
    assert_non_null(idx);
    for (size_t i = 0; i < N; i++) {
        k[i] = (key){gpus[rnd(5)], apps[rnd(4)], random_clock()};
        /* Copies of the strings: the index compares contents, not pointers. */
        copies[2 * i] = strdup(k[i].gpu);
        copies[2 * i + 1] = strdup(k[i].app);
        assert_int_equal(fp_keyidx_add(idx, copies[2 * i], copies[2 * i + 1], k[i].f, i), 0);
    }
    assert_int_equal(fp_keyidx_len(idx), N);
    size_t *want = malloc(N * sizeof *want), found = 0;
    for (int q = 0; q < 3000; q++) {
        key x = {gpus[rnd(5)], apps[rnd(4)], random_clock()};
        if (q % 3 == 0)
            x.f += (rnd(9) - 4.0) * 0.125; /* near misses and hits within 0.5 MHz */
        size_t nw = 0;
        for (size_t i = 0; i < N; i++)
            if (!strcmp(k[i].gpu, x.gpu) && !strcmp(k[i].app, x.app) && same_clock(k[i].f, x.f))
                want[nw++] = i;
        fp_keyidx_iter it;
        fp_keyidx_find(idx, x.gpu, x.app, x.f, &it);
        size_t v, got = 0;
        while (fp_keyidx_next(&it, &v)) {
            assert_true(got < nw);
            assert_int_equal(v, want[got]);
            got++;
        }
        assert_int_equal(got, nw);
        assert_int_equal(fp_keyidx_get(idx, x.gpu, x.app, x.f), nw ? (long)want[0] : -1);
        found += nw > 0;
    }
    assert_true(found > 1000); /* most lookups hit something */
    /* An infinite clock matches nothing (|inf - inf| is not < 0.5). */
    assert_int_equal(fp_keyidx_get(idx, "V100", "llama", INFINITY), -1);
    free(want);
    free(k);
    fp_keyidx_free(idx);
    for (size_t i = 0; i < 2 * N; i++)
        free(copies[i]);
    free(copies);
}

static void test_empty(void **state)
{
    (void)state;
    fp_keyidx *idx = fp_keyidx_new(0);
    assert_non_null(idx);
    assert_int_equal(fp_keyidx_get(idx, "A100", "vit", 1410), -1);
    assert_int_equal(fp_keyidx_get(NULL, "A100", "vit", 1410), -1);
    assert_int_equal(fp_keyidx_add(idx, "A100", "vit", 1410, 7), 0);
    assert_int_equal(fp_keyidx_get(idx, "A100", "vit", 1410.4), 7);
    assert_int_equal(fp_keyidx_get(idx, "A100", "vit", 1409.6), 7);
    assert_int_equal(fp_keyidx_get(idx, "A100", "vit", 1410.5), -1);
    assert_int_equal(fp_keyidx_get(idx, "A100", "vit", NAN), -1);
    assert_int_equal(fp_keyidx_get(idx, "A100", "ViT", 1410), -1);
    fp_keyidx_free(idx);
}

TU_MAIN(cmocka_unit_test(test_empty), cmocka_unit_test(test_against_scan))
