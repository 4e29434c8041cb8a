/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The deploy table (freqpilot/deploy.h): the row per (gpu, app) is optimize's recommendation
 * under the stated rule, with optimize's verdict; the summary across configurations counts the
 * deployable rows only; the impact is the stated arithmetic. Ground truth: tests/data/report
 * (optimal.json: A100 vit within 5 % at 1200 MHz, deployable, 15 % [10, 19] saving at 4 %
 * slowdown, estimates 10.4 s and 1700 J; A100 whisper within 5 %: no significant saving).
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

#include "freqpilot/deploy.h"
#include "testutil.h"
#include "util/utf8.h"

static void load(fp_agg_result *agg, fp_rec_list *recs)
{
    fp_error err;
    memset(agg, 0, sizeof *agg);
    memset(recs, 0, sizeof *recs);
    assert_int_equal(fp_agg_read_csv(tu_fixture("report/aggregated.csv"), agg, &err), FP_OK);
    assert_int_equal(fp_recs_read_json(tu_fixture("report/optimal.json"), recs, &err), FP_OK);
}

static void test_rows_are_optimize_choices(void **state)
{
    (void)state;
    fp_agg_result agg;
    fp_rec_list recs;
    load(&agg, &recs);
    fp_deploy_rule rule;
    fp_deploy_rule_init(&rule);
    fp_deploy_table t;
    fp_error err;
    assert_int_equal(fp_deploy_build(&agg, &recs, &rule, &t, &err), FP_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.ndeployable, 1);
    const fp_deploy_row *vit = &t.rows[0], *wh = &t.rows[1];
    assert_string_equal(vit->app, "vit");
    assert_int_equal(vit->state, FP_DEPLOY_REC);
    assert_ptr_equal(vit->rec, &recs.items[1]); /* energy, max_slowdown 0.05 */
    assert_float_equal(vit->rec->freq_mhz, 1200, 0);
    assert_true(vit->deployable);
    assert_string_equal(vit->budget_from, "default");
    assert_float_equal(vit->budget, 0.05, 0);
    assert_int_equal(vit->nclocks, 4);
    assert_string_equal(vit->why, "");
    assert_string_equal(wh->app, "whisper");
    assert_false(wh->deployable);
    assert_string_equal(wh->rec->verdict, "no significant saving");
    assert_string_equal(wh->why, wh->rec->verdict_reason); /* the engine's reason, as is */
    assert_int_equal(fp_deploy_row_moves(wh), 1);

    /* The text table of `run`: the deployable clock, "keep default" and the reason. */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    fp_deploy_print(&t, &rule, m);
    fclose(m);
    assert_non_null(strstr(buf, "within a 5 % slowdown budget"));
    assert_non_null(strstr(buf, "1200"));
    assert_non_null(strstr(buf, "15.0 % [10.0, 19.0]"));
    assert_non_null(strstr(buf, "keep default"));
    assert_non_null(strstr(buf, "candidate 1005 MHz: no significant saving"));
    assert_non_null(strstr(buf, "# 1 of 2 deployable"));
    free(buf);

    /* Across configurations: the deployable row only, the other counted beside it. */
    fp_deploy_stats st[4];
    size_t ns = fp_deploy_summary(&t, st, 4);
    assert_int_equal(ns, 2); /* A100, then every GPU */
    assert_string_equal(st[0].gpu, "A100");
    assert_string_equal(st[1].gpu, "");
    assert_int_equal(st[1].n, 1);
    assert_int_equal(st[1].nother, 1);
    assert_float_equal(st[1].mean, 0.15, 1e-12);
    assert_true(isnan(st[1].sd)); /* one row: no spread */
    assert_ptr_equal(st[1].best, vit);
    assert_ptr_equal(st[1].worst, vit);
    fp_deploy_free(&t);

    /* Per-app budgets: vit's own (10 %) has no result in this optimize JSON: said so. */
    fp_constraints c;
    fp_constraints_init(&c);
    assert_int_equal(fp_constraints_parse("[apps]\nvit = 10%\n", "c.ini", &c, &err), FP_OK);
    snprintf(c.name, sizeof c.name, "mine");
    rule.constraints = &c;
    assert_int_equal(fp_deploy_build(&agg, &recs, &rule, &t, &err), FP_OK);
    assert_int_equal(t.rows[0].state, FP_DEPLOY_MISSING);
    assert_null(t.rows[0].rec);
    assert_string_equal(t.rows[0].budget_from, "mine");
    assert_non_null(strstr(t.rows[0].why, "with budget 10 %"));
    assert_string_equal(t.rows[1].budget_from, "default"); /* whisper is not in the file */
    char text[1024];
    const char *apps[] = {"vit", "whisper"};
    fp_deploy_budgets_text(&rule, apps, 2, text, sizeof text);
    assert_non_null(strstr(text, "vit 10 %"));
    assert_non_null(strstr(text, "whisper 5 % (default)"));
    fp_deploy_free(&t);
    fp_rec_list_free(&recs);
    fp_agg_result_free(&agg);
}

/* A100 vit within 5 %: E = 1700 J, T = 10.4 s, saving 15 % [10, 19], slowdown 4 %: the
 * baseline ran E/(1-s) = 2000 J in T/(1+d) = 10 s, 200 W. At 50 % of the year (4380 h):
 * 876 kWh at the baseline, 15 % of it saved = 131.4 kWh [87.6, 166.44], x 0.15 = 19.71 USD,
 * x 400 g = 52.56 kg CO2e. */
static void test_impact_arithmetic(void **state)
{
    (void)state;
    fp_agg_result agg;
    fp_rec_list recs;
    load(&agg, &recs);
    fp_impact_opts o;
    fp_impact_opts_init(&o);
    fp_impact im;
    assert_int_equal(fp_impact_of(&recs.items[1], &o, &im), 0);
    assert_float_equal(im.base_power_w, 200, 1e-9);
    assert_float_equal(im.kwh_year, 131.4, 1e-9);
    assert_float_equal(im.kwh_lo, 87.6, 1e-9);
    assert_float_equal(im.kwh_hi, 166.44, 1e-9);
    assert_float_equal(im.cost_year, 19.71, 1e-9);
    assert_float_equal(im.co2_kg_year, 52.56, 1e-9);
    assert_float_equal(im.busy_after, 0.52, 1e-12);
    /* options scale it: 2 GPUs, 25 % of the year, 0.30 EUR, 100 g */
    assert_int_equal(fp_impact_set(&o, "gpus", "2"), 0);
    assert_int_equal(fp_impact_set(&o, "utilisation", "25%"), 0);
    assert_int_equal(fp_impact_set(&o, "price_per_kwh", "0.30"), 0);
    assert_int_equal(fp_impact_set(&o, "currency", "EUR"), 0);
    assert_int_equal(fp_impact_set(&o, "grid_gco2_per_kwh", "100"), 0);
    assert_int_equal(fp_impact_of(&recs.items[1], &o, &im), 0);
    assert_float_equal(im.kwh_year, 131.4, 1e-9);
    assert_float_equal(im.cost_year, 39.42, 1e-9);
    assert_float_equal(im.co2_kg_year, 13.14, 1e-9);
    assert_string_equal(o.currency, "EUR");
    char text[1024];
    fp_impact_assumptions_text(&o, text, sizeof text);
    assert_non_null(strstr(text, "25 % of the year (2190 h)"));
    assert_non_null(strstr(text, "0.3 EUR/kWh"));
    /* out of range or unknown: refused, nothing changed */
    assert_int_equal(fp_impact_set(&o, "utilisation", "1.5"), -1);
    assert_int_equal(fp_impact_set(&o, "utilisation", "0"), -1);
    assert_int_equal(fp_impact_set(&o, "price_per_kwh", "-1"), -1);
    assert_int_equal(fp_impact_set(&o, "gpus", "x"), -1);
    assert_int_equal(fp_impact_set(&o, "watts", "1"), -1);
    assert_float_equal(o.utilisation, 0.25, 0);
    /* a result without numbers has no impact */
    fp_rec r;
    fp_rec_init(&r);
    assert_int_equal(fp_impact_of(&r, &o, &im), -1);
    assert_true(isnan(im.kwh_year));
    fp_rec_list_free(&recs);
    fp_agg_result_free(&agg);
}

/* One clock per (gpu, app): one line, no table. */
static void test_single_clock(void **state)
{
    (void)state;
    const char *csv = "gpu,workload,freq_mhz,time_s,energy_j\n"
                      "A100,vit,1410,10,2000\nA100,vit,1410,10.1,2010\nA100,vit,1410,9.9,1990\n"
                      "A100,llama,1410,20,4000\nA100,llama,1410,20.2,4010\n";
    const char *path = tu_write_temp(csv, strlen(csv));
    const char *paths[] = {path};
    fp_rec_list recs = {0};
    fp_error err;
    assert_int_equal(fp_recs_optimize(paths, 1, "energy", 0.05, NULL, NULL, &recs, &err), FP_OK);
    fp_agg_result agg;
    fp_run_list runs = {0};
    fp_load_options lo;
    fp_load_options_init(&lo);
    assert_int_equal(fp_runs_load(path, &lo, &runs, &err), FP_OK);
    fp_agg_options ao;
    fp_agg_options_init(&ao);
    assert_int_equal(fp_aggregate(&runs, &ao, &agg, &err), FP_OK);
    fp_deploy_rule rule;
    fp_deploy_rule_init(&rule);
    fp_deploy_table t;
    assert_int_equal(fp_deploy_build(&agg, &recs, &rule, &t, &err), FP_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.nsingle, 2);
    assert_int_equal(t.rows[0].state, FP_DEPLOY_SINGLE_CLOCK);
    char text[512];
    assert_int_equal(fp_deploy_nothing_to_optimise(&t, text, sizeof text), 1);
    assert_string_equal(text,
                        "Nothing to optimise: one clock measured (1410 MHz) for each of the 2 "
                        "(GPU, app) pairs. Measure at least 3 clocks to choose one.");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    fp_deploy_print(&t, &rule, m);
    fclose(m);
    assert_string_equal(buf, "Nothing to optimise: one clock measured (1410 MHz) for each of the 2 "
                             "(GPU, app) pairs. Measure at least 3 clocks to choose one.\n");
    free(buf);
    fp_deploy_free(&t);
    fp_agg_result_free(&agg);
    fp_run_list_free(&runs);
    fp_rec_list_free(&recs);
}

/* Names cut to their field never end inside a character (the PDF refused such names). */
static void test_utf8(void **state)
{
    (void)state;
    char dst[8];
    /* "aé日本": a(1) é(2) 日(3) 本(3) = 9 bytes; 7 fit: cut before 本, not inside it */
    const char *s = "a\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac";
    assert_int_equal(fp_utf8_copy(dst, sizeof dst, s, strlen(s)), 6);
    assert_string_equal(dst, "a\xc3\xa9\xe6\x97\xa5");
    assert_true(fp_utf8_valid(dst));
    /* fits whole: copied whole, even unterminated input */
    assert_int_equal(fp_utf8_copy(dst, sizeof dst, "abc,def", 3), 3);
    assert_string_equal(dst, "abc");
    assert_false(fp_utf8_valid("a\xe6\x97"));       /* cut character */
    assert_false(fp_utf8_valid("\xc0\xaf"));        /* overlong */
    assert_false(fp_utf8_valid("\xed\xa0\x80"));    /* surrogate */
    assert_true(fp_utf8_valid("\xf0\x9f\x98\x80")); /* 4 bytes */
    char out[32];
    assert_string_equal(fp_utf8_sanitize(out, sizeof out, "ok\xe9 caf\xc3\xa9"),
                        "ok? caf\xc3\xa9"); /* a Latin-1 byte becomes '?' */
    assert_int_equal(fp_utf8_valid_prefix("ab\xe6\x97", 4), 2);
}

TU_MAIN(cmocka_unit_test(test_rows_are_optimize_choices), cmocka_unit_test(test_impact_arithmetic),
        cmocka_unit_test(test_single_clock), cmocka_unit_test(test_utf8))
