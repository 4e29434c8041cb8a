/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "freqpilot/govern.h"
#include "testutil.h"

static fp_sample mk(double sm, double dram, double util, double mem_util)
{
    fp_sample s;
    fp_sample_clear(&s);
    s.v[FP_COL_SM_ACTIVE] = sm;
    s.v[FP_COL_DRAM_ACTIVE] = dram;
    s.v[FP_COL_GPU_UTIL_PCT] = util;
    s.v[FP_COL_MEM_UTIL_PCT] = mem_util;
    return s;
}

static fp_phase cls(fp_sample s, int *fb)
{
    fp_phase_opts o;
    fp_phase_opts_default(&o);
    fp_phase_features f;
    fp_phase_features_from_sample(&s, &f);
    return fp_phase_classify(&o, &f, FP_PHASE_COUNT, fb);
}

static void test_classify(void **state)
{
    (void)state;
    int fb;
    assert_int_equal(cls(mk(0.0, 0.0, 0, 0), &fb), FP_PHASE_IDLE);
    assert_int_equal(fb, 0);
    assert_int_equal(cls(mk(0.97, 0.42, 98, 30), NULL), FP_PHASE_COMPUTE); /* llama prefill */
    assert_int_equal(cls(mk(0.25, 0.76, 90, 55), NULL), FP_PHASE_MEMORY);  /* llama decode */
    assert_int_equal(cls(mk(0.05, 0.02, 20, 1), NULL), FP_PHASE_HOST);
    /* Utilisation-only fallback. */
    assert_int_equal(cls(mk(NAN, NAN, 2, 0), &fb), FP_PHASE_IDLE);
    assert_int_equal(fb, 1);
    assert_int_equal(cls(mk(NAN, NAN, 30, 5), NULL), FP_PHASE_HOST);
    assert_int_equal(cls(mk(NAN, NAN, 98, 30), NULL), FP_PHASE_COMPUTE);
    assert_int_equal(cls(mk(NAN, NAN, 90, 55), NULL), FP_PHASE_MEMORY);
    assert_int_equal(fp_phase_from_name("memory-bound"), FP_PHASE_MEMORY);
    assert_int_equal(fp_phase_from_name("nope"), -1);
}

/* Readings alternating around the compute/memory boundary must not make the detector chatter;
 * a real change is taken after confirm_s, not before. */
static void test_hysteresis_dwell(void **state)
{
    (void)state;
    fp_phase_detector d;
    fp_phase_init(&d, NULL);
    double t = 0;
    for (int i = 0; i < 40; i++, t += 0.05)
        fp_phase_update(&d, t, &(fp_sample){0});
    fp_sample comp = mk(0.9, 0.4, 98, 30);
    for (int i = 0; i < 40; i++, t += 0.05)
        fp_phase_update(&d, t, &comp);
    assert_int_equal(d.current, FP_PHASE_COMPUTE);
    unsigned long c0 = d.changes;
    /* dram/sm ratio flips between 0.75 and 0.85 (threshold 0.8) every sample. */
    for (int i = 0; i < 200; i++, t += 0.05) {
        fp_sample s = mk(0.5, i % 2 ? 0.425 : 0.375, 95, 40);
        fp_phase_update(&d, t, &s);
    }
    assert_int_equal(d.changes, c0);
    assert_int_equal(d.current, FP_PHASE_COMPUTE);
    /* A clear memory-bound stretch: detected, but only after smoothing + confirm. */
    fp_sample mem = mk(0.2, 0.8, 90, 55);
    double t_start = t;
    while (d.current != FP_PHASE_MEMORY && t < t_start + 5) {
        fp_phase_update(&d, t, &mem);
        t += 0.05;
    }
    assert_int_equal(d.current, FP_PHASE_MEMORY);
    assert_true(t - t_start >= d.opts.confirm_s);
    assert_true(t - t_start < 1.0);
}

TU_MAIN(cmocka_unit_test(test_classify), cmocka_unit_test(test_hysteresis_dwell))
