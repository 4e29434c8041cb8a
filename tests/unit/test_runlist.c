/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A run list owns its runs' strings: a pushed run keeps its names after the caller's buffers
 * change, each distinct gpu/gpu_name/app is stored once (a fleet's million runs name a few
 * hundred), and aggregate's dropped runs keep theirs after the input list is freed.
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

#include "freqpilot/aggregate.h"
#include "freqpilot/run.h"
#include "util/strtab.h"
#include "testutil.h"

static void test_strings_copied_and_shared(void **state)
{
    (void)state;
    fp_run_list l = {0};
    fp_run_buf b;
    for (int i = 0; i < 3000; i++) {
        fp_run_buf_init(&b);
        snprintf(b.gpu, sizeof b.gpu, "A100-n%04d", i % 7);
        snprintf(b.gpu_name, sizeof b.gpu_name, "NVIDIA A100-PCIE-40GB");
        snprintf(b.app, sizeof b.app, "%s", i % 2 ? "llama" : "vit");
        snprintf(b.source, sizeof b.source, "table.csv:%d", i + 2);
        b.run.freq_mhz = 1410;
        assert_int_equal(fp_run_list_push(&l, &b.run, NULL), FP_OK);
    }
    memset(&b, 'x', sizeof b); /* the caller's buffers are gone */
    assert_int_equal(l.len, 3000);
    for (int i = 0; i < 3000; i++) {
        const fp_run *r = &l.items[i];
        char want[64];
        snprintf(want, sizeof want, "A100-n%04d", i % 7);
        assert_string_equal(r->gpu, want);
        assert_string_equal(r->app, i % 2 ? "llama" : "vit");
        snprintf(want, sizeof want, "table.csv:%d", i + 2);
        assert_string_equal(r->source, want);
        /* One copy of each distinct name: equal names are the same pointer. */
        assert_ptr_equal(r->gpu, l.items[i % 7].gpu);
        assert_ptr_equal(r->app, l.items[i % 2].app);
        assert_ptr_equal(r->gpu_name, l.items[0].gpu_name);
    }
    /* 3000 sources of ~14 bytes, 9 names: about 45 kB, not 3000 x 448 bytes of arrays. */
    assert_true(fp_strtab_bytes(l.strings) < 200000);
    fp_run_list_free(&l);
    assert_null(l.items);
    assert_null(l.strings);
    /* fp_run_init's strings are "" (never NULL), and NULL strings are pushed as "". */
    fp_run r;
    fp_run_init(&r);
    assert_string_equal(r.gpu, "");
    assert_string_equal(r.source, "");
    r.app = NULL;
    assert_int_equal(fp_run_list_push(&l, &r, NULL), FP_OK);
    assert_string_equal(l.items[0].app, "");
    fp_run_list_free(&l);
}

static void test_dropped_outlive_runs(void **state)
{
    (void)state;
    fp_run_list l = {0};
    for (int i = 0; i < 12; i++) {
        fp_run_buf b;
        fp_run_buf_init(&b);
        snprintf(b.gpu, sizeof b.gpu, "H100");
        snprintf(b.app, sizeof b.app, "whisper");
        snprintf(b.source, sizeof b.source, "runs.csv:%d", i + 2);
        b.run.freq_mhz = i < 6 ? 1785 : 1200;
        b.run.run_index = i + 1;
        b.run.time_s = 10.0 + (i % 6 == 3 ? 50.0 : 0.01 * i); /* one outlier per clock */
        b.run.energy_j = 1000.0;
        b.run.power_w = 100.0;
        assert_int_equal(fp_run_list_push(&l, &b.run, NULL), FP_OK);
    }
    fp_agg_options o;
    fp_agg_options_init(&o);
    o.drop_cold_starts = 0;
    fp_agg_result res;
    assert_int_equal(fp_aggregate(&l, &o, &res, NULL), FP_OK);
    assert_int_equal(res.dropped.len, 2);
    fp_run_list_free(&l); /* the dropped copies own their strings */
    for (size_t i = 0; i < res.dropped.len; i++) {
        assert_string_equal(res.dropped.items[i].gpu, "H100");
        assert_string_equal(res.dropped.items[i].app, "whisper");
        assert_true(strncmp(res.dropped.items[i].source, "runs.csv:", 9) == 0);
        assert_true(res.dropped.items[i].flags & FP_FLAG_OUTLIER_DROPPED);
    }
    fp_agg_result_free(&res);
}

static void test_strtab(void **state)
{
    (void)state;
    fp_strtab *t = fp_strtab_new();
    assert_non_null(t);
    const char *a = fp_strtab_intern(t, "V100"), *b = fp_strtab_intern(t, "V100");
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(fp_strtab_add(t, "V100"), a);
    /* A string longer than a block, and many short ones: pointers stay valid. */
    char *big = malloc(200000);
    memset(big, 'z', 199999);
    big[199999] = '\0';
    const char *pb = fp_strtab_intern(t, big);
    const char *p[5000];
    for (int i = 0; i < 5000; i++) {
        char s[32];
        snprintf(s, sizeof s, "app-%d", i);
        p[i] = fp_strtab_intern(t, s);
    }
    for (int i = 0; i < 5000; i++) {
        char s[32];
        snprintf(s, sizeof s, "app-%d", i);
        assert_string_equal(p[i], s);
        assert_ptr_equal(fp_strtab_intern(t, s), p[i]);
    }
    assert_string_equal(pb, big);
    assert_ptr_equal(fp_strtab_intern(t, "V100"), a);
    free(big);
    fp_strtab_free(t);
}

TU_MAIN(cmocka_unit_test(test_strings_copied_and_shared),
        cmocka_unit_test(test_dropped_outlive_runs), cmocka_unit_test(test_strtab))
