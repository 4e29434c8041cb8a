/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The report's serving section: the figures hold exactly the numbers of the replay JSON
 * (tests/data/serving/replay.json, written by `govern replay --serving --format json`), the
 * section reaches the HTML report, bad files are clear errors.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "freqpilot/plot.h"
#include "testutil.h"

static void test_figures(void **state)
{
    (void)state;
    const char *path = tu_fixture("serving/replay.json");
    assert_true(fp_serving_report_detect(path));
    assert_false(fp_serving_report_detect(tu_fixture("report/optimal.json")));
    fp_serving_report *s;
    fp_error err;
    assert_int_equal(fp_serving_report_load(path, &s, &err), FP_OK);
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    double target = json_number_value(json_object_get(json_object_get(root, "slo"), "attainment"));
    fp_plot_opts po;
    fp_plot_opts_init(&po);
    fp_figure f;
    assert_int_equal(fp_plot_serving_energy(s, &po, &f, &err), FP_OK);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(root, "results"), i, r)
    {
        char name[96];
        int meets = json_is_true(json_object_get(r, "meets_slo"));
        snprintf(name, sizeof name, "%s%s", json_string_value(json_object_get(r, "policy")),
                 meets ? "" : " (misses)");
        const fp_series *ser = fp_figure_series(&f, 0, name);
        assert_non_null(ser);
        double att = 100 * json_number_value(json_object_get(r, "attainment"));
        assert_true(ser->n == 1 && fabs(ser->x[0] - fmax(att, 100 * target - 10)) < 1e-9);
        assert_true(ser->y[0] == json_number_value(json_object_get(r, "energy_per_token_j")));
    }
    size_t near = 0;
    json_array_foreach(json_object_get(root, "static_sweep"), i, r) near +=
        100 * json_number_value(json_object_get(r, "attainment")) >= 100 * target - 10;
    const fp_series *st = fp_figure_series(&f, 0, "Static clocks");
    assert_non_null(st);
    assert_int_equal(st->n, near);
    fp_figure_free(&f);

    assert_int_equal(fp_plot_serving_clock(s, &po, &f, &err), FP_OK);
    json_t *tl = json_object_get(root, "timeline");
    size_t n = json_array_size(json_object_get(tl, "t_s"));
    const fp_series *clk = fp_figure_series(&f, 1, "slo");
    assert_non_null(clk);
    assert_int_equal(clk->n, n);
    for (i = 0; i < n; i++) {
        json_t *v = json_array_get(json_object_get(tl, "requested_mhz"), i);
        assert_true(json_is_number(v) ? clk->y[i] == json_number_value(v) : isnan(clk->y[i]));
        assert_true(fabs(clk->x[i] * 60 -
                         json_number_value(json_array_get(json_object_get(tl, "t_s"), i))) < 1e-9);
    }
    const fp_series *best = fp_figure_series(&f, 1, "best static clock");
    assert_non_null(best);
    assert_true(best->y[0] == json_number_value(json_object_get(root, "static_best_mhz")));
    fp_figure_free(&f);
    json_decref(root);
    fp_serving_report_free(s);
}

static void test_report(void **state)
{
    (void)state;
    const char *paths[] = {tu_fixture("report/aggregated.csv"), tu_fixture("serving/replay.json")};
    fp_report_data d;
    fp_error err;
    assert_int_equal(fp_report_data_load(&d, paths, 2, NULL, &err), FP_OK);
    assert_non_null(d.serving);
    assert_int_equal(d.recs.len, 0); /* the replay's results[] are not recommendations */
    fp_report_input in;
    fp_report_input_init(&in);
    in.agg = &d.agg;
    in.serving = d.serving;
    in.simulated = 1;
    const char *html = tu_write_temp("", 0);
    assert_int_equal(fp_report_write_html(&in, html, &err), FP_OK);
    FILE *fp = fopen(html, "r");
    assert_non_null(fp);
    static char buf[4 << 20];
    size_t len = fread(buf, 1, sizeof buf - 1, fp);
    buf[len] = 0;
    fclose(fp);
    assert_non_null(strstr(buf, "<h2 id=\"serving\">LLM serving</h2>"));
    assert_non_null(strstr(buf, "Best static clock meeting it:"));
    assert_non_null(strstr(buf, "energy per token vs SLO attainment"));
    fp_report_data_free(&d);
}

static void test_bad(void **state)
{
    (void)state;
    fp_serving_report *s;
    fp_error err;
    const char *t1 = "{\"format\": \"freqpilot-serving-replay\", \"slo\": {}}";
    assert_int_equal(fp_serving_report_load(tu_write_temp(t1, strlen(t1)), &s, &err),
                     FP_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "expected a 'govern replay --serving --format json' file"));
    const char *t2 = "{\"format\": \"freqpilot-serving-replay\", \"slo\": {\"ttft_s\": 2, "
                     "\"tbt_s\": 0.1, \"attainment\": 0.99}, \"results\": [{\"policy\": \"slo\","
                     " \"energy_per_token_j\": 0.3, \"attainment\": 7}]}";
    assert_int_equal(fp_serving_report_load(tu_write_temp(t2, strlen(t2)), &s, &err),
                     FP_ERR_FORMAT);
    assert_int_equal(fp_serving_report_load(tu_write_temp("{", 1), &s, &err), FP_ERR_PARSE);
    assert_null(s);
}

TU_MAIN(cmocka_unit_test(test_figures), cmocka_unit_test(test_report), cmocka_unit_test(test_bad))
