/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot's DATASET/ layout: the fixture's known values, and writer -> reader round trips. */
#define _GNU_SOURCE
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

#include "freqpilot/dataset.h"
#include "freqpilot/run.h"
#include "testutil.h"

/*
 * Fixture: A100 "resnet", clocks 1410 and 1005, 2 runs each; 11 samples at 0.1 s, rows 3..8
 * active (gpu_util 90, active power below), the rest 36 W idle; energy_mj consistent with the
 * trapezoid rule. Marked window 0.3..0.8 s except 1005/2 (no marker: the detector).
 *   1005/1: 150 W -> 75 J    1005/2: 160 W -> 80 J (detected)
 *   1410/1: 200 W -> 100 J   1410/2: 210 W -> 105 J, SW power cap on 3 of 6 window rows
 */
static void check_fixture_runs(const fp_run_list *l)
{
    static const double freq[4] = {1005, 1005, 1410, 1410};
    static const double watts[4] = {150, 160, 200, 210};
    static const long pos[4] = {2, 4, 1, 3};
    assert_int_equal(l->len, 4);
    for (int i = 0; i < 4; i++) {
        const fp_run *r = &l->items[i];
        assert_string_equal(r->gpu, "A100");
        assert_string_equal(r->app, "resnet");
        assert_float_equal(r->freq_mhz, freq[i], 0);
        assert_int_equal(r->repetition, i % 2 + 1);
        assert_int_equal(r->run_index, pos[i]);
        assert_float_equal(r->start_utc, 1752023856.0 + (pos[i] - 1) * 10, 0);
        assert_float_equal(r->time_s, 0.5, 1e-9);
        assert_int_equal(r->samples, 6);
        assert_float_equal(r->energy_counter_j, watts[i] * 0.5, 1e-9);
        assert_float_equal(r->energy_integral_j, watts[i] * 0.5, 1e-9);
        assert_float_equal(r->power_w, watts[i], 1e-9);
        assert_float_equal(r->sm_clock_mhz, freq[i], 1e-9);
        assert_float_equal(r->gpu_util_pct, 90, 1e-9);
        assert_float_equal(r->fp_active, 0.3 / 2 + 0.1, 1e-12);
        assert_float_equal(r->temp_c, 50, 1e-9);
        assert_false(r->flags & (FP_FLAG_CLOCK_NOT_HELD | FP_FLAG_COUNTER_MISMATCH |
                                 FP_FLAG_TIME_RECONSTRUCTED | FP_FLAG_FAILED));
        assert_int_equal(!!(r->flags & FP_FLAG_WINDOW_DETECTED), i == 1);
        assert_int_equal(!!(r->flags & FP_FLAG_THROTTLED), i == 3);
    }
    assert_float_equal(l->items[3].throttled_frac, 0.5, 1e-12);
    assert_float_equal(l->items[2].throttled_frac, 0.0, 0);
}

static void test_fixture(void **state)
{
    fp_run_list l = {0};
    fp_error err;
    fp_format f;
    (void)state;
    const char *dir = tu_fixture("dataset/DATASET");
    assert_int_equal(fp_detect_format(dir, &f, &err), FP_OK);
    assert_int_equal(f, FP_FMT_DATASET);
    assert_int_equal(fp_runs_load(dir, NULL, &l, &err), FP_OK);
    check_fixture_runs(&l);
    fp_run_list_free(&l);
}

static void test_manifest_roundtrip(void **state)
{
    char dir[] = "/tmp/fp-ds-XXXXXX", path[4096];
    fp_dataset_manifest m, back;
    fp_error err;
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(
        fp_dataset_read_manifest(tu_fixture("dataset/DATASET/manifest.json"), &m, &err), FP_OK);
    assert_string_equal(m.gpu_name, "NVIDIA A100-PCIE-40GB");
    assert_string_equal(m.gpu_short, "A100");
    assert_int_equal(m.n_clocks, 2);
    assert_float_equal(m.clocks_mhz[1], 1005, 0);
    assert_int_equal(m.runs_per_clock, 2);
    assert_int_equal(m.seed, 42);
    assert_float_equal(m.created_utc, 1752023856.0, 1e-6);
    assert_int_equal(fp_dataset_write_manifest(dir, &m, &err), FP_OK);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    assert_int_equal(fp_dataset_read_manifest(path, &back, &err), FP_OK);
    assert_memory_equal(&m, &back, sizeof m);
    unlink(path);
    rmdir(dir);
}

/* Re-writes the whole fixture through the writer and loads it back: same runs. */
static void test_dataset_roundtrip(void **state)
{
    static const char *const runs[4] = {"1005/1", "1005/2", "1410/1", "1410/2"};
    char dir[] = "/tmp/fp-ds-XXXXXX", path[4400], rdir[4096], cmd[4200];
    fp_dataset_manifest m;
    fp_run_record rec, back;
    fp_run_list l = {0};
    fp_error err;
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(
        fp_dataset_read_manifest(tu_fixture("dataset/DATASET/manifest.json"), &m, &err), FP_OK);
    assert_int_equal(fp_dataset_write_manifest(dir, &m, &err), FP_OK);
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "dataset/DATASET/A100/resnet/%s/run.json", runs[i]);
        assert_int_equal(fp_dataset_read_run_json(tu_fixture(path), &rec, &err), FP_OK);
        assert_int_equal(fp_dataset_run_dir(rdir, sizeof rdir, dir, &rec, 1, &err), FP_OK);
        snprintf(path, sizeof path, "%s/run.json", rdir);
        assert_int_equal(fp_dataset_write_run_json(path, &rec, &err), FP_OK);
        assert_int_equal(fp_dataset_read_run_json(path, &back, &err), FP_OK);
        assert_memory_equal(&rec, &back, sizeof rec);
        snprintf(path, sizeof path, "dataset/DATASET/A100/resnet/%s/telemetry.csv", runs[i]);
        char dst[4200];
        snprintf(dst, sizeof dst, "%s/telemetry.csv", rdir);
        assert_int_equal(tu_copy_file(tu_fixture(path), dst), 0);
    }
    /* A warm-up run is written but never loaded. */
    rec.warmup = 1;
    assert_int_equal(fp_dataset_run_dir(rdir, sizeof rdir, dir, &rec, 1, &err), FP_OK);
    assert_non_null(strstr(rdir, "/A100/resnet/1410/w2"));
    snprintf(path, sizeof path, "%s/run.json", rdir);
    assert_int_equal(fp_dataset_write_run_json(path, &rec, &err), FP_OK);

    assert_int_equal(fp_runs_load(dir, NULL, &l, &err), FP_OK);
    check_fixture_runs(&l);
    fp_run_list_free(&l);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_bad_json(void **state)
{
    static const char bad[] = "{\"gpu\": \"A100\",\n \"requested_clock_mhz\": \"fast\"}\n";
    static const char broken[] = "{\"gpu\": \"A100\",\n \"requested_clock_mhz\": }\n";
    fp_run_record r;
    fp_error err;
    (void)state;
    const char *p = tu_write_temp(bad, sizeof bad - 1);
    assert_int_equal(fp_dataset_read_run_json(p, &r, &err), FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "requested_clock_mhz"));
    unlink(p);
    p = tu_write_temp(broken, sizeof broken - 1);
    assert_int_equal(fp_dataset_read_run_json(p, &r, &err), FP_ERR_PARSE);
    char where[4200];
    snprintf(where, sizeof where, "%s:2:", p);
    assert_non_null(strstr(err.msg, where));
    unlink(p);
}

TU_MAIN(cmocka_unit_test(test_fixture), cmocka_unit_test(test_manifest_roundtrip),
        cmocka_unit_test(test_dataset_roundtrip), cmocka_unit_test(test_bad_json))
