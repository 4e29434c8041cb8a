/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Real ai-inference-energy data (shared/data, skipped when absent): every file loads (the
 * corrupt one is skipped with a warning), and the loaded values agree with numbers this test
 * computes on its own from the raw text.
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

#include "freqpilot/metrics.h"
#include "freqpilot/run.h"
#include "testutil.h"

#define BASE "ai-inference-energy/baseline_runs_2025-07"

/* Independent dcgmi parse: rows, mean POWER, first/last TOTEC, mean SACLK. */
typedef struct dcgmi_facts {
    long rows;
    double mean_power, totec_first, totec_last, mean_saclk;
} dcgmi_facts;

static int dcgmi_facts_of(const char *path, dcgmi_facts *f)
{
    FILE *fp = fopen(path, "r");
    char line[4096];
    int ip = -1, ie = -1, ic = -1;
    double psum = 0, csum = 0;
    memset(f, 0, sizeof *f);
    if (!fp)
        return -1;
    while (fgets(line, sizeof line, fp)) {
        char *tok[64], *save, *s = line;
        int n = 0;
        for (char *t = strtok_r(s, " \t\n", &save); t && n < 64; t = strtok_r(NULL, " \t\n", &save))
            tok[n++] = t;
        if (n == 0)
            continue;
        if (tok[0][0] == '#') {
            /* "#Entity" or "# Entity": data rows start "GPU 0", one token more than "Entity" */
            int off = strcmp(tok[0], "#") == 0 ? 0 : 1;
            for (int i = 0; i < n; i++) {
                if (strcmp(tok[i], "POWER") == 0)
                    ip = i + off;
                if (strcmp(tok[i], "TOTEC") == 0)
                    ie = i + off;
                if (strcmp(tok[i], "SACLK") == 0)
                    ic = i + off;
            }
            continue;
        }
        if (strcmp(tok[0], "GPU") != 0 || ip < 0 || ie < 0 || ip >= n || ie >= n)
            continue;
        double e = strtod(tok[ie], NULL);
        if (f->rows == 0)
            f->totec_first = e;
        f->totec_last = e;
        psum += strtod(tok[ip], NULL);
        if (ic >= 0 && ic < n)
            csum += strtod(tok[ic], NULL);
        f->rows++;
    }
    fclose(fp);
    f->mean_power = f->rows ? psum / f->rows : NAN;
    f->mean_saclk = f->rows ? csum / f->rows : NAN;
    return 0;
}

/* The seconds on line `line` (1-based) of a perf.csv. */
static double perf_seconds(const char *path, int line)
{
    FILE *fp = fopen(path, "r");
    char buf[256];
    double v = NAN;
    if (!fp)
        return NAN;
    for (int i = 1; fgets(buf, sizeof buf, fp); i++)
        if (i == line) {
            char *c = strchr(buf, ',');
            v = c ? strtod(c + 1, NULL) : NAN;
        }
    fclose(fp);
    return v;
}

static void test_baseline_runs(void **state)
{
    fp_run_list l = {0};
    fp_error err;
    fp_load_options o;
    static tu_msgs w;
    fp_diag diag = {tu_msgs_add, &w, NULL};
    (void)state;
    TU_REQUIRE_DATA();
    memset(&w, 0, sizeof w);
    fp_load_options_init(&o);
    o.diag = &diag;
    assert_int_equal(fp_runs_load(tu_data_path(BASE), &o, &l, &err), FP_OK);
    /* 32 profile files in 8 commit folders, one of them corrupt. */
    assert_int_equal(l.len, 31);
    int skipped = 0;
    for (int i = 0; i < w.n && i < TU_MSGS_MAX; i++) {
        if (strstr(w.text[i], "skipped")) {
            skipped++;
            print_message("warning: %s\n", w.text[i]);
            /* A V100 job that ran on an A100 node, and two writers corrupted the file. */
            assert_non_null(strstr(w.text[i], "gpu_mismatch"));
            assert_non_null(strstr(w.text[i], "NVIDIA A100-PCIE-40GB"));
            assert_non_null(strstr(w.text[i], "626943c/GV100-baseline-LSTM-1380-0:626:"));
            assert_non_null(strstr(w.text[i], "NUL"));
        }
    }
    assert_int_equal(skipped, 1);

    int dcgmi_checked = 0;
    for (size_t i = 0; i < l.len; i++) {
        fp_run *r = &l.items[i];
        char dir[512], perf[800], base[128];
        assert_null(strstr(r->source, "626943c/GV100-baseline-LSTM-1380-0"));
        const char *slash = strrchr(r->source, '/');
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - r->source), r->source);
        snprintf(base, sizeof base, "%s", slash + 1);
        *strchr(base, '-') = '\0'; /* the architecture */
        snprintf(perf, sizeof perf, "%s/%s-baseline-%s-perf.csv", dir, base,
                 strcmp(r->app, "stablediffusion") == 0 ? "stable-diffusion" : "lstm");
        /* Time is the script's own timing for this iteration, exactly. */
        assert_float_equal(r->time_s, perf_seconds(perf, r->repetition), 0);
        assert_true(r->flags & FP_FLAG_WINDOW_FROM_TIMING);
        assert_true(r->energy_j > 0 && r->power_w > 0);
        if (strcmp(r->gpu, "A100") == 0) {
            /* nvidia-smi at 1 s: the GPU sat at ~765 MHz, never at the 1410 asked for. */
            assert_true(r->flags & FP_FLAG_CLOCK_NOT_HELD);
            assert_true(r->sm_clock_mhz < 900);
            assert_true(isnan(r->energy_counter_j));
            continue;
        }
        /* dcgmi: independent numbers from the raw text. */
        dcgmi_facts f;
        assert_int_equal(dcgmi_facts_of(r->source, &f), 0);
        assert_true(f.rows > 100);
        double counter_j = (f.totec_last - f.totec_first) / 1000.0;
        double mean_p_j = f.mean_power * (double)f.rows * 0.05;
        /* PROVENANCE: TOTEC delta matches mean(POWER) x rows x 0.05 s within 0-3 %. */
        assert_true(fabs(counter_j / mean_p_j - 1) < 0.03);
        assert_true(r->flags & FP_FLAG_TIME_RECONSTRUCTED);
        assert_true(r->energy_counter_j <= counter_j + 1e-9);
        int held = fabs(f.mean_saclk - r->freq_mhz) <= 30;
        assert_int_equal(!(r->flags & FP_FLAG_CLOCK_NOT_HELD), held);
        if (strcmp(r->gpu, "V100") == 0)
            assert_int_equal(held, strstr(r->source, "/7388a93/") != NULL);

        /* The whole file through the reader: every row, the counter delta exactly, the
         * trapezoid integral within 3 % of the independent mean-power estimate. */
        fp_ts_reader *rd;
        fp_ts_options to = {0, -1, NULL};
        fp_metrics_options mo;
        fp_run whole;
        assert_int_equal(fp_ts_open(r->source, FP_FMT_AUTO, &to, &rd, &err), FP_OK);
        fp_metrics_options_init(&mo);
        mo.window_start_s = 0;
        mo.window_end_s = (double)(f.rows - 1) * 0.05;
        fp_run_init(&whole);
        assert_int_equal(fp_run_metrics(rd, &mo, &whole, NULL, &err), FP_OK);
        fp_ts_close(rd);
        assert_int_equal(whole.samples, f.rows);
        assert_float_equal(whole.energy_counter_j, counter_j, 1e-6);
        assert_true(fabs(whole.energy_integral_j / mean_p_j - 1) < 0.03);
        dcgmi_checked++;
    }
    assert_int_equal(dcgmi_checked, 31 - 5); /* 5 A100 smi profiles */
    fp_run_list_free(&l);
}

static void test_each_commit_folder(void **state)
{
    static const char *const commits[] = {"5ba606b", "55a32a2", "626943c", "7388a93",
                                          "805329f", "eff2dc9", "e7283ba", "66d5611"};
    static const size_t expect[] = {3, 3, 4, 3, 6, 3, 3, 6};
    (void)state;
    TU_REQUIRE_DATA();
    for (size_t i = 0; i < sizeof commits / sizeof commits[0]; i++) {
        char rel[256];
        fp_format f;
        fp_error err;
        fp_run_list l = {0};
        static tu_msgs w;
        fp_diag diag = {tu_msgs_add, &w, NULL};
        fp_load_options o;
        memset(&w, 0, sizeof w);
        fp_load_options_init(&o);
        o.diag = &diag;
        snprintf(rel, sizeof rel, BASE "/%s", commits[i]);
        assert_int_equal(fp_detect_format(tu_data_path(rel), &f, &err), FP_OK);
        assert_int_equal(f, FP_FMT_AIE_RESULTS);
        assert_int_equal(fp_runs_load(tu_data_path(rel), &o, &l, &err), FP_OK);
        assert_int_equal(l.len, expect[i]);
        fp_run_list_free(&l);
    }
}

static void test_corrupt_file_alone(void **state)
{
    fp_run_list l = {0};
    fp_error err;
    (void)state;
    TU_REQUIRE_DATA();
    /* Given directly, the corrupt profile is an error with file:line, never garbage. */
    assert_true(
        fp_runs_load(tu_data_path(BASE "/626943c/GV100-baseline-LSTM-1380-0"), NULL, &l, &err) < 0);
    assert_non_null(strstr(err.msg, "GV100-baseline-LSTM-1380-0:626:"));
    assert_int_equal(l.len, 0);
}

static void test_measured_runs(void **state)
{
    fp_run_list l = {0};
    fp_error err;
    fp_format f;
    char line[1024];
    (void)state;
    TU_REQUIRE_DATA();
    const char *path = tu_data_path("ai-inference-energy/measured_runs.csv");
    assert_int_equal(fp_detect_format(path, &f, &err), FP_OK);
    assert_int_equal(f, FP_FMT_RUN_TABLE);
    assert_int_equal(fp_runs_load(path, NULL, &l, &err), FP_OK);
    assert_int_equal(l.len, 2472);

    /* Every row against an independent parse. */
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(line, sizeof line, fp)); /* header */
    size_t i = 0;
    int mismatches = 0, per_gpu[3] = {0, 0, 0};
    while (fgets(line, sizeof line, fp)) {
        char gpu[16], wl[32], job[64];
        double freq, t, p, e;
        long idx, rep, ns;
        assert_int_equal(sscanf(line, "%15[^,],%31[^,],%63[^,],%lf,%ld,%ld,%lf,%lf,%lf,%ld", gpu,
                                wl, job, &freq, &idx, &rep, &t, &p, &e, &ns),
                         10);
        assert_true(i < l.len);
        fp_run *r = &l.items[i++];
        assert_string_equal(r->gpu, gpu);
        assert_string_equal(r->app, wl);
        assert_float_equal(r->freq_mhz, freq, 0);
        assert_int_equal(r->run_index, idx);
        assert_int_equal(r->repetition, rep);
        assert_float_equal(r->time_s, t, 0);
        assert_float_equal(r->energy_j, e, 0);
        assert_float_equal(r->power_w, p, 0);
        int mm = fabs(e / (p * t) - 1) > 0.10;
        mismatches += mm;
        assert_int_equal(r->flags, mm ? FP_FLAG_WINDOW_MISMATCH : 0);
        if (strcmp(gpu, "V100") == 0 && strcmp(wl, "llama") == 0)
            per_gpu[0]++;
        if (strcmp(gpu, "A100") == 0 && strcmp(wl, "vit") == 0)
            per_gpu[1]++;
        if (strcmp(gpu, "H100") == 0 && strcmp(wl, "whisper") == 0)
            per_gpu[2]++;
    }
    fclose(fp);
    assert_int_equal(i, 2472);
    print_message("measured_runs.csv: %d of 2472 runs with energy and time over different "
                  "windows (> 10 %%)\n",
                  mismatches);
    assert_true(mismatches > 0);

    /* Run counts per (gpu, workload): 59, 61, 86 clocks x 3 runs. */
    static const char *const gpus[] = {"V100", "A100", "H100"};
    static const char *const wls[] = {"llama", "stablediffusion", "vit", "whisper"};
    static const int expect[] = {177, 183, 258};
    for (int g = 0; g < 3; g++)
        for (int k = 0; k < 4; k++) {
            int n = 0;
            for (size_t j = 0; j < l.len; j++)
                n += strcmp(l.items[j].gpu, gpus[g]) == 0 && strcmp(l.items[j].app, wls[k]) == 0;
            assert_int_equal(n, expect[g]);
        }
    assert_int_equal(per_gpu[0], 177);
    assert_int_equal(per_gpu[1], 183);
    assert_int_equal(per_gpu[2], 258);
    /* Spot value: the first data row. */
    assert_string_equal(l.items[0].gpu, "V100");
    assert_string_equal(l.items[0].app, "whisper");
    assert_float_equal(l.items[0].freq_mhz, 1140, 0);
    assert_int_equal(l.items[0].run_index, 49);
    assert_float_equal(l.items[0].energy_j, 415.99, 0);
    assert_non_null(strstr(l.items[0].source, "measured_runs.csv:2"));
    fp_run_list_free(&l);
}

TU_MAIN(cmocka_unit_test(test_baseline_runs), cmocka_unit_test(test_each_commit_folder),
        cmocka_unit_test(test_corrupt_file_alone), cmocka_unit_test(test_measured_runs))
