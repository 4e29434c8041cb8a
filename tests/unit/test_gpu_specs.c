/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "freqpilot/gpu_specs.h"
#include "freqpilot/run.h"
#include "freqpilot/sim.h"
#include "testutil.h"

static const fp_gpu_spec *spec(const char *name)
{
    const fp_gpu_spec *s = fp_gpu_spec_find(name);
    if (!s)
        fail_msg("no spec for '%s'", name);
    return s;
}

static void check_table(const char *name, unsigned n, unsigned hi, unsigned lo, unsigned mem)
{
    const fp_gpu_spec *s = spec(name);
    unsigned k;
    const unsigned *t = fp_gpu_spec_clock_table(s, &k);
    assert_int_equal(k, n);
    assert_int_equal(fp_gpu_spec_n_clocks(s), n);
    assert_int_equal(t[0], hi);
    assert_int_equal(t[n - 1], lo);
    assert_int_equal(s->mem_clock_mhz, mem);
    for (unsigned i = 1; i < n; i++) {
        assert_true(t[i] < t[i - 1]);
        assert_int_equal(t[i], fp_gpu_spec_clock_at(s, i));
    }
    assert_int_equal(fp_gpu_spec_clock_at(s, n), 0);
}

static void test_tables(void **state)
{
    (void)state;
    check_table("Tesla V100-PCIE-32GB", 167, 1380, 135, 877);
    check_table("Tesla V100-SXM2-16GB", 187, 1530, 135, 877);
    check_table("NVIDIA A100-PCIE-40GB", 81, 1410, 210, 1215);
    check_table("NVIDIA A100-SXM4-80GB", 81, 1410, 210, 1593);
    check_table("NVIDIA H100 NVL", 97, 1785, 345, 2619);
    check_table("NVIDIA H100 80GB HBM3", 110, 1980, 345, 2619);
    check_table("NVIDIA H100 PCIe", 95, 1755, 345, 1593);
    /* Volta: 7.5 MHz steps reported rounded down. */
    const fp_gpu_spec *v = spec("Tesla V100-PCIE-32GB");
    assert_int_equal(fp_gpu_spec_clock_at(v, 1), 1372);
    assert_int_equal(fp_gpu_spec_clock_at(v, 2), 1365);
    assert_true(fp_gpu_spec_clock_supported(v, 1357));
    assert_false(fp_gpu_spec_clock_supported(v, 1358));
    assert_false(fp_gpu_spec_clock_supported(v, 1387.5));
    /* Every board: a name, a family, a known default limit, a table inside FP_GPU_MAX_CLOCKS,
     * and its own name and aliases find it. */
    for (size_t i = 0; i < fp_gpu_spec_count(); i++) {
        const fp_gpu_spec *s = fp_gpu_spec_at(i);
        assert_non_null(s->name);
        assert_non_null(s->family);
        assert_true(isfinite(s->power_limit_w) && s->power_limit_w > 0);
        assert_true(fp_gpu_spec_n_clocks(s) > 10 && fp_gpu_spec_n_clocks(s) <= FP_GPU_MAX_CLOCKS);
        assert_ptr_equal(fp_gpu_spec_find(s->name), s);
        for (const char *const *a = s->aliases; a && *a; a++)
            assert_ptr_equal(fp_gpu_spec_find(*a), s);
        if (s->default_clock_mhz)
            assert_true(fp_gpu_spec_clock_supported(s, s->default_clock_mhz));
    }
    assert_null(fp_gpu_spec_at(fp_gpu_spec_count()));
}

/* The board matcher: exact names, aliases and spellings of the same name; never the nearest
 * board. Limits as the spec table states them. */
static void test_matcher(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *board; /* NULL = unknown */
        double limit_w;
    } cases[] = {
        {"NVIDIA A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB", 400},
        {"A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB", 400},
        {"a100_sxm4_80gb", "NVIDIA A100-SXM4-80GB", 400},
        {"NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-40GB", 400},
        {"NVIDIA A100-PCIE-40GB", "NVIDIA A100-PCIE-40GB", 250},
        {"NVIDIA A100 80GB PCIe", "NVIDIA A100 80GB PCIe", 300},
        {"A100-PCIE-80GB", "NVIDIA A100 80GB PCIe", 300},
        {"Tesla V100-PCIE-32GB", "Tesla V100-PCIE-32GB", 250},
        {"Tesla V100-PCIE-16GB", "Tesla V100-PCIE-16GB", 250},
        {"Tesla V100-SXM2-32GB", "Tesla V100-SXM2-32GB", 300},
        {"V100-SXM2-16GB", "Tesla V100-SXM2-16GB", 300},
        {"NVIDIA H100 NVL", "NVIDIA H100 NVL", 400},
        {"NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3", 700},
        {"H100 SXM5 80GB", "NVIDIA H100 80GB HBM3", 700},
        {"NVIDIA H100 PCIe", "NVIDIA H100 PCIe", 350},
        {"NVIDIA A100-PCIE-40GB (simulated)", "NVIDIA A100-PCIE-40GB", 250},
        {"sim:NVIDIA H100 NVL", "NVIDIA H100 NVL", 400},
        {"NVIDIA H100 NVL MIG 4g.47gb", "NVIDIA H100 NVL", 400},
        /* Names in ../shared/data that name no board: families of the external sets. */
        {"A40", NULL, NAN},
        {"P100", NULL, NAN},
        {"RTX6000", NULL, NAN},
        {"titanx", NULL, NAN},
        {"titanxp", NULL, NAN},
        {"titanv", NULL, NAN},
        /* Family names and other boards are not a board. */
        {"A100", NULL, NAN},
        {"H100", NULL, NAN},
        {"V100", NULL, NAN},
        {"NVIDIA A100", NULL, NAN},
        {"NVIDIA A10", NULL, NAN},
        {"NVIDIA A100-SXM4-80GB-X", NULL, NAN},
        {"NVIDIA H100 NVLink", NULL, NAN},
        {"Quadro RTX 8000", NULL, NAN},
        {"", NULL, NAN},
        {"   ", NULL, NAN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fp_gpu_spec *s = fp_gpu_spec_find(cases[i].name);
        if (!cases[i].board) {
            if (s)
                fail_msg("'%s' matched %s, expected unknown", cases[i].name, s->name);
            continue;
        }
        if (!s || strcmp(s->name, cases[i].board) != 0)
            fail_msg("'%s' matched %s, expected %s", cases[i].name, s ? s->name : "nothing",
                     cases[i].board);
        assert_true(s->power_limit_w == cases[i].limit_w);
    }
    assert_null(fp_gpu_spec_find(NULL));
}

/* Facts the backend reports win; the table fills only what is unknown. */
static void test_fill_info(void **state)
{
    (void)state;
    fp_gpu_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.name, sizeof info.name, "NVIDIA A100-SXM4-80GB");
    info.power_limit_w = NAN;
    info.default_power_limit_w = NAN;
    info.power_limit_min_w = 100;
    info.power_limit_max_w = NAN;
    assert_non_null(fp_gpu_spec_fill_info(&info));
    assert_int_equal(info.n_graphics_clocks, 81);
    assert_int_equal(info.max_clock_mhz, 1410);
    assert_int_equal(info.mem_clock_mhz, 1593);
    assert_true(info.default_power_limit_w == 400);
    assert_true(info.power_limit_w == 400);
    assert_true(info.power_limit_min_w == 100); /* reported: kept */
    assert_true(isnan(info.power_limit_max_w)); /* unknown in both */
    assert_string_equal(info.short_name, "A100");

    /* Reported clocks are kept as they are. */
    memset(&info, 0, sizeof info);
    snprintf(info.name, sizeof info.name, "NVIDIA H100 NVL");
    info.graphics_clocks_mhz[0] = 1500;
    info.n_graphics_clocks = 1;
    info.power_limit_w = 350;
    assert_non_null(fp_gpu_spec_fill_info(&info));
    assert_int_equal(info.n_graphics_clocks, 1);
    assert_int_equal(info.max_clock_mhz, 1500);
    assert_true(info.power_limit_w == 350);
    assert_true(info.default_power_limit_w == 400);

    /* A device at another memory clock keeps its (empty) table: the table is per memory clock. */
    memset(&info, 0, sizeof info);
    snprintf(info.name, sizeof info.name, "NVIDIA H100 NVL");
    info.mem_clock_mhz = 1593;
    assert_non_null(fp_gpu_spec_fill_info(&info));
    assert_int_equal(info.n_graphics_clocks, 0);
    assert_int_equal(info.mem_clock_mhz, 1593);

    memset(&info, 0, sizeof info);
    snprintf(info.name, sizeof info.name, "NVIDIA L40S");
    assert_null(fp_gpu_spec_fill_info(&info));
    assert_int_equal(info.n_graphics_clocks, 0);
}

/* Reads the graphics clocks listed under "Memory : MEM MHz" (first block) of a capture. */
static unsigned read_info(const char *path, unsigned mem, unsigned *out, unsigned max)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    unsigned n = 0, cur = 0, done = 0;
    while (!done && fgets(line, sizeof line, f)) {
        unsigned v;
        if (sscanf(line, " Memory : %u MHz", &v) == 1) {
            if (n > 0)
                done = 1;
            cur = v;
        } else if (sscanf(line, " Graphics : %u MHz", &v) == 1 && cur == mem && n < max) {
            out[n++] = v;
        }
    }
    fclose(f);
    return n;
}

static void test_against_captures(void **state)
{
    (void)state;
    TU_REQUIRE_DATA();
    struct {
        const char *rel;
        const char *board;
    } cases[] = {
        {"ai-inference-energy/hardware_info/0e234ab/INFO_V100.txt", "Tesla V100-PCIE-32GB"},
        {"ai-inference-energy/hardware_info/0e234ab/INFO_A100.txt", "NVIDIA A100-PCIE-40GB"},
        {"ai-inference-energy/hardware_info/4d8681b/INFO_H100.txt", "NVIDIA H100 NVL"},
    };
    for (size_t c = 0; c < 3; c++) {
        const fp_gpu_spec *s = spec(cases[c].board);
        unsigned clocks[512];
        unsigned n = read_info(tu_data_path(cases[c].rel), s->mem_clock_mhz, clocks, 512);
        assert_int_equal(n, fp_gpu_spec_n_clocks(s));
        for (unsigned i = 0; i < n; i++)
            assert_int_equal(clocks[i], fp_gpu_spec_clock_at(s, i));
    }
}

/* Device names as the loaders read them from the real files: each one names a known board of
 * the run's family (the A100 nvidia-smi CSVs); runs whose files name no device keep "". */
static void test_real_names(void **state)
{
    (void)state;
    TU_REQUIRE_DATA();
    fp_load_options lo;
    fp_load_options_init(&lo);
    fp_run_list runs = {0};
    fp_error err;
    assert_int_equal(
        fp_runs_load(tu_data_path("ai-inference-energy/baseline_runs_2025-07"), &lo, &runs, &err),
        FP_OK);
    size_t named = 0;
    for (size_t i = 0; i < runs.len; i++) {
        const fp_run *r = &runs.items[i];
        if (!r->gpu_name[0])
            continue;
        const fp_gpu_spec *s = fp_gpu_spec_find(r->gpu_name);
        if (!s)
            fail_msg("%s: device '%s' is not a known board", r->source, r->gpu_name);
        assert_string_equal(s->family, r->gpu);
        named++;
    }
    assert_true(named >= 2);
    fp_run_list_free(&runs);
}

static void test_sim_gpus_use_tables(void **state)
{
    (void)state;
    const fp_sim_gpu *g = fp_sim_gpu_find("sim:H100");
    assert_non_null(g);
    assert_int_equal(g->n_clocks, 97);
    assert_int_equal(fp_sim_gpu_fmax(g), 1785);
    assert_true(fp_sim_gpu_find("NVIDIA A100-PCIE-40GB") == fp_sim_gpu_find("A100"));
    assert_true(fp_sim_gpu_find("Tesla V100-PCIE-32GB") == fp_sim_gpu_find("v100"));
    assert_null(fp_sim_gpu_find("A1000"));
    /* Only the simulated boards themselves: no nearest-board matching. */
    assert_null(fp_sim_gpu_find("NVIDIA A100-SXM4-80GB"));
    assert_null(fp_sim_gpu_find("Tesla V100-SXM2-32GB"));
    assert_null(fp_sim_gpu_find("H100 PCIe"));
    assert_ptr_equal(fp_sim_gpu_find("A100")->spec, fp_gpu_spec_find("NVIDIA A100-PCIE-40GB"));
    assert_true(fp_sim_gpu_find("A100")->power_limit_w == 250.0);
    assert_true(fp_sim_gpu_find("V100")->idle_power_w == 25.0);
    fp_gpu_info info;
    fp_sim_gpu_info(fp_sim_gpu_find("A100"), 0, &info);
    assert_int_equal(info.n_graphics_clocks, 81);
    /* snap: nearest, ties up */
    assert_int_equal(fp_gpu_snap_clock(&info, 1000), 1005);
    assert_int_equal(fp_gpu_snap_clock(&info, 997.5), 1005);
    assert_int_equal(fp_gpu_snap_clock(&info, 996), 990);
    assert_int_equal(fp_gpu_snap_clock(&info, 5000), 1410);
    assert_int_equal(fp_gpu_snap_clock(&info, 1), 210);
    assert_int_equal(fp_sim_clock_floor(fp_sim_gpu_find("A100"), 1000), 990);
    char s[32];
    fp_gpu_short_name("NVIDIA A100-PCIE-40GB", s, sizeof s);
    assert_string_equal(s, "A100");
    fp_gpu_short_name("NVIDIA H100 NVL", s, sizeof s);
    assert_string_equal(s, "H100");
    fp_gpu_short_name("Tesla V100-PCIE-32GB", s, sizeof s);
    assert_string_equal(s, "V100");
    fp_gpu_short_name("GA100", s, sizeof s);
    assert_string_equal(s, "A100");
    fp_gpu_short_name("Quadro RTX 8000", s, sizeof s);
    assert_string_equal(s, "Quadro RTX 8000");
}

TU_MAIN(cmocka_unit_test(test_tables), cmocka_unit_test(test_matcher),
        cmocka_unit_test(test_fill_info), cmocka_unit_test(test_real_names),
        cmocka_unit_test(test_against_captures), cmocka_unit_test(test_sim_gpus_use_tables))
