/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "freqpilot/sim.h"
#include "gpu/clock_tables.h"
#include "testutil.h"

static void check_table(const fp_clock_table *t, unsigned n, unsigned hi, unsigned lo, unsigned mem)
{
    assert_int_equal(t->n_clocks, n);
    assert_int_equal(t->clocks_mhz[0], hi);
    assert_int_equal(t->clocks_mhz[n - 1], lo);
    assert_int_equal(t->mem_clock_mhz, mem);
    for (unsigned i = 1; i < n; i++)
        assert_true(t->clocks_mhz[i] < t->clocks_mhz[i - 1]);
}

static void test_counts(void **state)
{
    (void)state;
    check_table(&fp_clock_table_v100, 167, 1380, 135, 877);
    check_table(&fp_clock_table_a100, 81, 1410, 210, 1215);
    check_table(&fp_clock_table_h100, 97, 1785, 345, 2619);
    /* A100 and H100: exact 15 MHz steps. */
    for (unsigned i = 0; i < 81; i++)
        assert_int_equal(fp_clock_table_a100.clocks_mhz[i], 1410 - 15 * i);
    for (unsigned i = 0; i < 97; i++)
        assert_int_equal(fp_clock_table_h100.clocks_mhz[i], 1785 - 15 * i);
    assert_true(fp_clock_table_find("a100") == &fp_clock_table_a100);
    assert_null(fp_clock_table_find("K80"));
    assert_true(fp_clock_table_a100.power_limit_w == 250.0);
    assert_true(fp_clock_table_h100.power_limit_w == 400.0);
    assert_true(fp_clock_table_v100.idle_power_w == 25.0);
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
        const fp_clock_table *t;
    } cases[] = {
        {"ai-inference-energy/hardware_info/0e234ab/INFO_V100.txt", &fp_clock_table_v100},
        {"ai-inference-energy/hardware_info/0e234ab/INFO_A100.txt", &fp_clock_table_a100},
        {"ai-inference-energy/hardware_info/4d8681b/INFO_H100.txt", &fp_clock_table_h100},
    };
    for (size_t c = 0; c < 3; c++) {
        unsigned clocks[512];
        unsigned n = read_info(tu_data_path(cases[c].rel), cases[c].t->mem_clock_mhz, clocks, 512);
        assert_int_equal(n, cases[c].t->n_clocks);
        for (unsigned i = 0; i < n; i++)
            assert_int_equal(clocks[i], cases[c].t->clocks_mhz[i]);
    }
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_against_captures),
        cmocka_unit_test(test_sim_gpus_use_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
