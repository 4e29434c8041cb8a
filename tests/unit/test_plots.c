/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Golden tests on the numbers behind each figure: the expected values are computed here from
 * the fixture files (tests/data/report), parsed by this test's own reader, not by the code
 * under test.
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
#include <jansson.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/optimize.h"
#include "freqpilot/plot.h"
#include "testutil.h"

/* The fixture's rows, read with strtok (no quoted fields in it). */
typedef struct grow {
    char gpu[16], app[16];
    double f, t, tlo, thi, e, elo, ehi, p;
} grow_t;

static size_t read_fixture(grow_t *rows, size_t cap)
{
    FILE *f = fopen(tu_fixture("report/aggregated.csv"), "r");
    assert_non_null(f);
    char line[1024];
    size_t n = 0;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f) && n < cap) {
        char *cells[32] = {0};
        int k = 0;
        for (char *p = line, *c; k < 32 && (c = strsep(&p, ",\n"));)
            cells[k++] = c;
        grow_t *r = &rows[n++];
        snprintf(r->gpu, sizeof r->gpu, "%s", cells[0]);
        snprintf(r->app, sizeof r->app, "%s", cells[1]);
        r->f = atof(cells[2]);
        r->t = atof(cells[5]);
        r->tlo = atof(cells[6]);
        r->thi = atof(cells[7]);
        r->e = atof(cells[8]);
        r->elo = atof(cells[9]);
        r->ehi = atof(cells[10]);
        r->p = atof(cells[11]);
    }
    fclose(f);
    return n;
}

static const grow_t *find_row(const grow_t *rows, size_t n, const char *app, double f)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].app, app) && rows[i].f == f)
            return &rows[i];
    return NULL;
}

static void load(fp_agg_result *agg, fp_rec_list *recs)
{
    fp_error err;
    memset(agg, 0, sizeof *agg);
    assert_int_equal(fp_agg_read_csv(tu_fixture("report/aggregated.csv"), agg, &err), FP_OK);
    if (recs) {
        memset(recs, 0, sizeof *recs);
        assert_int_equal(fp_recs_read_json(tu_fixture("report/optimal.json"), recs, &err), FP_OK);
    }
}

static void test_sweep_normalized(void **state)
{
    (void)state;
    grow_t g[32];
    size_t ng = read_fixture(g, 32);
    const grow_t *b = find_row(g, ng, "vit", 1410);
    assert_non_null(b);
    fp_agg_result agg;
    fp_rec_list recs;
    load(&agg, &recs);
    fp_plot_opts o;
    fp_plot_opts_init(&o);
    o.gpu = "A100";
    o.app = "vit";
    fp_figure f;
    fp_error err;
    assert_int_equal(fp_plot_sweep(&agg, &recs, &o, &f, &err), FP_OK);
    const fp_series *e = fp_figure_series(&f, 0, "Energy");
    const fp_series *t = fp_figure_series(&f, 0, "Time");
    const fp_series *edp = fp_figure_series(&f, 0, "EDP");
    const fp_series *ed2p = fp_figure_series(&f, 0, "ED2P");
    assert_non_null(e);
    assert_non_null(t);
    assert_non_null(edp);
    assert_non_null(ed2p);
    assert_int_equal(e->n, 4);
    for (size_t i = 0; i < e->n; i++) {
        if (i)
            assert_true(e->x[i] > e->x[i - 1]); /* ascending clock */
        const grow_t *r = find_row(g, ng, "vit", e->x[i]);
        assert_non_null(r);
        assert_float_equal(e->y[i], r->e / b->e, 1e-12);
        assert_float_equal(e->lo[i], r->elo / b->e, 1e-12);
        assert_float_equal(e->hi[i], r->ehi / b->e, 1e-12);
        assert_float_equal(t->y[i], r->t / b->t, 1e-12);
        assert_float_equal(edp->y[i], (r->e * r->t) / (b->e * b->t), 1e-12);
        assert_float_equal(ed2p->y[i], (r->e * r->t * r->t) / (b->e * b->t * b->t), 1e-12);
    }
    assert_float_equal(e->y[3], 1.0, 1e-12); /* the baseline is the highest clock */
    /* Chosen clocks of optimal.json: 1005 (energy and edp, one mark) and 1200 (energy <=5%). */
    assert_int_equal(f.panels[0].nmarks, 2);
    int saw1005 = 0, saw1200 = 0;
    for (size_t i = 0; i < f.panels[0].nmarks; i++) {
        if (f.panels[0].marks[i].x == 1005) {
            saw1005 = 1;
            assert_non_null(strstr(f.panels[0].marks[i].label, "energy"));
            assert_non_null(strstr(f.panels[0].marks[i].label, "edp"));
        }
        saw1200 |= f.panels[0].marks[i].x == 1200;
    }
    assert_true(saw1005 && saw1200);
    fp_figure_free(&f);
    fp_rec_list_free(&recs);
    fp_agg_result_free(&agg);
}

static void test_pareto(void **state)
{
    (void)state;
    fp_agg_result agg;
    fp_rec_list recs;
    load(&agg, &recs);
    fp_plot_opts o;
    fp_plot_opts_init(&o);
    o.app = "vit";
    fp_figure f;
    fp_error err;
    assert_int_equal(fp_plot_pareto(&agg, &recs, &o, &f, &err), FP_OK);
    /* vit: (t, e) / (10, 2000): 810 (1.3, .78) is dominated by 1005 (1.1, .75). */
    const fp_series *fr = fp_figure_series(&f, 0, "Frontier");
    assert_non_null(fr);
    assert_int_equal(fr->n, 3);
    assert_float_equal(fr->x[0], 1.0, 1e-12);
    assert_float_equal(fr->x[1], 10.4 / 10, 1e-12);
    assert_float_equal(fr->x[2], 11.0 / 10, 1e-12);
    assert_float_equal(fr->y[2], 1500.0 / 2000, 1e-12);
    const fp_series *knee = fp_figure_series(&f, 0, "Knee");
    assert_non_null(knee);
    assert_float_equal(knee->y[0], 1700.0 / 2000, 1e-12);
    const fp_series *all = fp_figure_series(&f, 0, "Clocks");
    assert_int_equal(all->n, 4);
    /* The choice of "energy, <= 5 %" in optimal.json is 1200 MHz. */
    const fp_series *ch = NULL;
    for (size_t i = 0; i < f.panels[0].nseries; i++)
        if (!strncmp(f.panels[0].series[i].name, "Choice", 6))
            ch = &f.panels[0].series[i];
    assert_non_null(ch);
    assert_float_equal(ch->x[0], 1.04, 1e-12);
    assert_float_equal(ch->y[0], 0.85, 1e-12);
    fp_figure_free(&f);
    fp_rec_list_free(&recs);
    fp_agg_result_free(&agg);
}

static void test_savings_and_optima(void **state)
{
    (void)state;
    fp_agg_result agg;
    fp_rec_list recs;
    load(&agg, &recs);
    fp_plot_opts o;
    fp_plot_opts_init(&o);
    fp_figure f;
    fp_error err;
    assert_int_equal(fp_plot_savings(&recs, &o, &f, &err), FP_OK);
    assert_int_equal(f.npanels, 2);
    assert_int_equal(f.panels[0].ncats, 2);
    assert_string_equal(f.panels[0].cats[0], "A100\nvit");
    const fp_series *u = fp_figure_series(&f, 0, "Unconstrained");
    const fp_series *su = fp_figure_series(&f, 1, "Unconstrained");
    assert_non_null(u);
    assert_float_equal(u->y[0], 0.25, 1e-12);
    assert_float_equal(u->lo[0], 0.20, 1e-12);
    assert_float_equal(u->y[1], 0.125, 1e-12);
    assert_float_equal(su->y[0], 0.10, 1e-12);
    const fp_series *c = &f.panels[0].series[1];
    assert_non_null(strstr(c->name, "Constrained"));
    assert_float_equal(c->y[0], 0.15, 1e-12);
    assert_float_equal(c->lo[1], -0.01, 1e-12);
    fp_figure_free(&f);

    assert_int_equal(fp_plot_optima(&agg, &recs, &o, &f, &err), FP_OK);
    /* One panel per objective (energy, edp), one series per budget: a legend of a few
     * entries, not one marker kind per (objective, budget). */
    assert_int_equal(f.npanels, 2);
    assert_string_equal(f.panels[0].title, "objective energy");
    assert_string_equal(f.panels[1].title, "objective edp");
    const fp_series *range = fp_figure_series(&f, 0, "Measured clock range");
    assert_non_null(range);
    assert_float_equal(range->lo[0], 810, 0);
    assert_float_equal(range->hi[0], 1410, 0);
    const fp_series *en = fp_figure_series(&f, 0, "no budget");
    assert_non_null(en);
    assert_float_equal(en->y[0], 1005, 0);
    assert_float_equal(en->y[1], 1005, 0);
    const fp_series *e5 = fp_figure_series(&f, 0,
                                           "\xe2\x89\xa4"
                                           "5% slower");
    assert_non_null(e5);
    assert_float_equal(e5->y[0], 1200, 0);
    const fp_series *edp = fp_figure_series(&f, 1, "no budget");
    assert_non_null(edp);
    assert_float_equal(edp->y[0], 1005, 0);
    assert_true(isnan(edp->y[1])); /* no edp result for whisper */
    assert_null(fp_figure_series(&f, 1,
                                 "\xe2\x89\xa4"
                                 "5% slower")); /* none within 5 % */
    fp_figure_free(&f);
    fp_rec_list_free(&recs);
    fp_agg_result_free(&agg);
}

static void test_heatmap(void **state)
{
    (void)state;
    grow_t g[32];
    size_t ng = read_fixture(g, 32);
    fp_agg_result agg;
    load(&agg, NULL);
    fp_plot_opts o;
    fp_plot_opts_init(&o);
    fp_figure f;
    fp_error err;
    assert_int_equal(fp_plot_heatmap(&agg, &o, &f, &err), FP_OK);
    const fp_panel *p = &f.panels[0];
    assert_int_equal(p->hm_rows, 2);
    assert_int_equal(p->hm_cols, 4);
    for (size_t r = 0; r < p->hm_rows; r++) {
        const grow_t *b = find_row(g, ng, p->hm_rowlab[r], 1410);
        for (size_t c = 0; c < p->hm_cols; c++) {
            const grow_t *x = find_row(g, ng, p->hm_rowlab[r], p->hm_colx[c]);
            assert_non_null(x);
            assert_float_equal(p->hm[r * p->hm_cols + c], x->e / b->e, 1e-12);
        }
    }
    fp_figure_free(&f);
    fp_agg_result_free(&agg);
}

/* The fixture's curve (gpu, app) read with jansson here: the numbers the model plot must draw. */
typedef struct gcurve {
    int clock_bound;
    size_t n, nm;
    double f[16], p[16], plo[16], phi[16], t[16], tlo[16], thi[16];
    double mf[16], mp[16], mt[16];
} gcurve;

static double gnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void read_curve(const char *app, gcurve *g)
{
    json_t *root = json_load_file(tu_fixture("report/model-curves.json"), 0, NULL);
    assert_non_null(root);
    json_t *cs = json_object_get(root, "curves"), *c;
    size_t i;
    memset(g, 0, sizeof *g);
    int found = 0;
    json_array_foreach(cs, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "app")), app))
            continue;
        found = 1;
        g->clock_bound = json_is_true(json_object_get(c, "clock_bound"));
        json_t *pts = json_object_get(c, "points"), *p;
        size_t j;
        json_array_foreach(pts, j, p)
        {
            g->f[j] = gnum(p, "freq_mhz");
            g->p[j] = gnum(p, "power_w");
            g->plo[j] = gnum(p, "power_w_lo");
            g->phi[j] = gnum(p, "power_w_hi");
            g->t[j] = gnum(p, "time_s");
            g->tlo[j] = gnum(p, "time_s_lo");
            g->thi[j] = gnum(p, "time_s_hi");
            g->n++;
        }
        json_array_foreach(json_object_get(c, "measured"), j, p)
        {
            g->mf[j] = gnum(p, "freq_mhz");
            g->mp[j] = gnum(p, "power_w");
            g->mt[j] = gnum(p, "time_s");
            g->nm++;
        }
    }
    json_decref(root);
    assert_true(found);
}

static void test_model(void **state)
{
    (void)state;
    fp_model_set m = {0};
    fp_error err;
    assert_int_equal(fp_model_read_json(tu_fixture("report/model-curves.json"), &m, &err), FP_OK);
    assert_int_equal(m.len, 2);
    fp_plot_opts o;
    fp_plot_opts_init(&o);
    o.gpu = "A100";
    o.app = "vit";
    fp_figure f;
    gcurve g;
    read_curve("vit", &g);
    assert_true(g.clock_bound);
    assert_int_equal(fp_plot_model(&m, &o, &f, &err), FP_OK);
    const fp_series *pp = fp_figure_series(&f, 0, "Predicted (95% PI)");
    const fp_series *pt = fp_figure_series(&f, 1, "Predicted (95% PI)");
    const fp_series *mp = fp_figure_series(&f, 0, "Measured");
    const fp_series *mt = fp_figure_series(&f, 1, "Measured");
    assert_non_null(pp);
    assert_non_null(pt);
    assert_non_null(mp);
    assert_non_null(mt);
    assert_int_equal(pp->n, g.n);
    assert_int_equal(pt->n, g.n);
    for (size_t i = 0; i < g.n; i++) {
        assert_float_equal(pp->x[i], g.f[i], 0);
        assert_float_equal(pp->y[i], g.p[i], 0);
        assert_float_equal(pp->lo[i], g.plo[i], 0);
        assert_float_equal(pp->hi[i], g.phi[i], 0);
        assert_float_equal(pt->y[i], g.t[i], 0);
        assert_float_equal(pt->lo[i], g.tlo[i], 0);
        assert_float_equal(pt->hi[i], g.thi[i], 0);
    }
    assert_int_equal(mt->n, g.nm);
    for (size_t i = 0; i < g.nm; i++) {
        assert_float_equal(mp->x[i], g.mf[i], 0);
        assert_float_equal(mp->y[i], g.mp[i], 0);
        assert_float_equal(mt->y[i], g.mt[i], 0);
    }
    fp_figure_free(&f);

    /* Not clock-bound: power predicted, no time curve at all (nothing invented), the measured
     * times shown, and the panel says why. */
    o.app = "whisper";
    read_curve("whisper", &g);
    assert_false(g.clock_bound);
    assert_int_equal(fp_plot_model(&m, &o, &f, &err), FP_OK);
    pp = fp_figure_series(&f, 0, "Predicted (95% PI)");
    assert_non_null(pp);
    assert_int_equal(pp->n, g.n);
    for (size_t i = 0; i < g.n; i++)
        assert_float_equal(pp->y[i], g.p[i], 0);
    assert_null(fp_figure_series(&f, 1, "Predicted (95% PI)"));
    mt = fp_figure_series(&f, 1, "Measured");
    assert_non_null(mt);
    assert_int_equal(mt->n, g.nm);
    assert_float_equal(mt->y[3], g.mt[3], 0);
    for (size_t s = 0; s < f.panels[1].nseries; s++)
        for (size_t i = 0; i < f.panels[1].series[s].n; i++)
            if (strcmp(f.panels[1].series[s].name, "Measured"))
                assert_true(isnan(f.panels[1].series[s].y[i]));
    assert_non_null(strstr(f.panels[1].title, "not explained by the clock"));
    assert_string_equal(m.items[1].note, "time not explained by the clock: the fit leaves 9.0 % "
                                         "RMS of the time (limit 5.0 %); no time or energy "
                                         "predictions");
    fp_figure_free(&f);
    fp_model_set_free(&m);

    /* The older layout of parallel arrays is still read. */
    assert_int_equal(fp_model_read_json(tu_fixture("report/model-legacy.json"), &m, &err), FP_OK);
    assert_int_equal(m.len, 1);
    assert_true(m.items[0].clock_bound);
    assert_int_equal(m.items[0].n, 4);
    assert_float_equal(m.items[0].power_w[3], 199, 0);
    fp_model_set_free(&m);

    /* model.json (fitted parameters) is refused with a hint to --curves. */
    const char *params = "{\"format\":\"freqpilot-model\",\"version\":1,\"curves\":[{\"gpu\":\"A\","
                         "\"app\":\"b\",\"fmax_mhz\":1410}]}";
    char path[256];
    snprintf(path, sizeof path, "%s.json", tu_write_temp(params, strlen(params)));
    FILE *fp = fopen(path, "w");
    fputs(params, fp);
    fclose(fp);
    assert_int_not_equal(fp_model_read_json(path, &m, &err), FP_OK);
    assert_non_null(strstr(err.msg, "--curves"));
    remove(path);

    /* A curve without a points array is refused, naming the file. */
    const char *bad = "{\"format\":\"freqpilot-model-curves\",\"curves\":[{\"gpu\":\"A\","
                      "\"app\":\"b\",\"clock_bound\":true}]}";
    fp = fopen(path, "w");
    fputs(bad, fp);
    fclose(fp);
    assert_int_not_equal(fp_model_read_json(path, &m, &err), FP_OK);
    assert_non_null(strstr(err.msg, path));
    remove(path);
}

/* Without an optimize JSON the report's recommendations are optimize's own: the same fields
 * as `freqpilot optimize DATA --objective energy --max-slowdown none,0.05 -o x.json` read back. */
static void test_recs_optimize(void **state)
{
    (void)state;
    const char *paths[] = {tu_fixture("report/aggregated.csv"),
                           tu_fixture("report/model-curves.json")};
    fp_rec_list l = {0};
    fp_error err;
    assert_int_equal(fp_recs_optimize(paths, 2, "energy", 0.05, NULL, NULL, &l, &err), FP_OK);
    assert_int_equal(l.fallback, 0);

    fp_opt_data od;
    assert_int_equal(fp_opt_data_load(paths, 1, NULL, NULL, &od, &err), FP_OK);
    fp_objective obj;
    assert_int_equal(fp_objective_parse("energy", &obj, &err), FP_OK);
    fp_opt_options oo;
    fp_opt_options_init(&oo);
    double budgets[2] = {NAN, 0.05};
    fp_opt_results res = {0};
    assert_int_equal(fp_optimize(&od, &obj, 1, budgets, 2, NULL, &oo, &res, &err), FP_OK);
    char path[256];
    snprintf(path, sizeof path, "%s.json", tu_write_temp("", 0));
    assert_int_equal(fp_opt_write_json(&res, path, &err), FP_OK);
    fp_rec_list ref = {0};
    assert_int_equal(fp_recs_read_json(path, &ref, &err), FP_OK);
    remove(path);
    assert_int_equal(l.len, 4); /* 2 apps x 2 budgets */
    assert_int_equal(l.len, ref.len);
    assert_string_equal(l.baseline, ref.baseline);
    for (size_t i = 0; i < l.len; i++) {
        const fp_rec *a = &l.items[i], *b = &ref.items[i];
        assert_string_equal(a->gpu, b->gpu);
        assert_string_equal(a->app, b->app);
        assert_string_equal(a->objective, b->objective);
        assert_string_equal(a->flags, b->flags);
        assert_int_equal(a->feasible, b->feasible);
        const double va[] = {a->max_slowdown,  a->freq_mhz,         a->baseline_mhz,
                             a->time_s,        a->energy_j,         a->power_w,
                             a->energy_saving, a->energy_saving_lo, a->energy_saving_hi,
                             a->slowdown,      a->slowdown_lo,      a->slowdown_hi};
        const double vb[] = {b->max_slowdown,  b->freq_mhz,         b->baseline_mhz,
                             b->time_s,        b->energy_j,         b->power_w,
                             b->energy_saving, b->energy_saving_lo, b->energy_saving_hi,
                             b->slowdown,      b->slowdown_lo,      b->slowdown_hi};
        for (size_t k = 0; k < sizeof va / sizeof va[0]; k++)
            assert_true((isnan(va[k]) && isnan(vb[k])) || va[k] == vb[k]);
    }
    /* Known answers on the fixture: A100 vit 1005 MHz uses least energy (1500 J); within
     * 5 % (1005 is 10 % slower) the next, 1200 MHz. */
    const fp_rec *r = fp_recs_find(&l, "A100", "vit", "energy", NAN);
    assert_non_null(r);
    assert_float_equal(r->energy_saving, 1 - r->energy_j / 2000.0, 1e-12);
    r = fp_recs_find(&l, "A100", "vit", "energy", 0.05);
    assert_non_null(r);
    assert_true(r->freq_mhz >= 1200);
    fp_rec_list_free(&ref);
    fp_rec_list_free(&l);
    fp_opt_results_free(&res);
    fp_opt_data_free(&od);
}

static void test_timeseries_window(void **state)
{
    (void)state;
    fp_ts_plot_input in[2] = {{tu_fixture("dataset/DATASET/A100/resnet/1005/1"), NULL},
                              {tu_fixture("dataset/DATASET/A100/resnet/1410/1"), "max"}};
    fp_plot_opts o;
    fp_plot_opts_init(&o);
    fp_figure f;
    fp_error err;
    assert_int_equal(fp_plot_timeseries(in, 2, "power_w", &o, &f, &err), FP_OK);
    assert_int_equal(f.panels[0].nseries, 2);
    assert_string_equal(f.panels[0].series[0].name, "1005 MHz run 1");
    assert_string_equal(f.panels[0].series[1].name, "max");
    assert_int_equal(f.panels[0].series[0].n, 11); /* 11 samples in the fixture */
    assert_float_equal(f.panels[0].series[0].y[0], 36.0, 0);
    assert_int_equal(f.panels[0].nspans, 2);
    assert_float_equal(f.panels[0].spans[0].x0, 0.3, 1e-12);
    assert_float_equal(f.panels[0].spans[0].x1, 0.8, 1e-12);
    fp_figure_free(&f);
    assert_int_not_equal(fp_plot_timeseries(in, 1, "no_such_column", &o, &f, &err), FP_OK);
}

static unsigned be32(const unsigned char *p)
{
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

static void test_render_sizes_and_svg(void **state)
{
    (void)state;
    fp_agg_result agg;
    fp_rec_list recs;
    load(&agg, &recs);
    fp_plot_opts o;
    fp_plot_opts_init(&o);
    o.simulated = 1;
    fp_figure f;
    fp_error err;
    assert_int_equal(fp_plot_sweep(&agg, &recs, &o, &f, &err), FP_OK);
    fp_render_opts ro;
    fp_render_opts_init(&ro);
    int w, h;
    fp_render_png_size(&f, &ro, &w, &h);
    assert_int_equal(w, 1050); /* 3.5 in at 300 dpi: one paper column */
    char path[256];
    snprintf(path, sizeof path, "%s.png", tu_write_temp("", 0));
    assert_int_equal(fp_figure_render(&f, path, FP_PLOT_PNG, &ro, &err), FP_OK);
    FILE *fp = fopen(path, "rb");
    unsigned char hdr[24];
    assert_int_equal(fread(hdr, 1, 24, fp), 24);
    fclose(fp);
    remove(path);
    assert_memory_equal(hdr + 1, "PNG", 3);
    assert_int_equal(be32(hdr + 16), (unsigned)w);
    assert_int_equal(be32(hdr + 20), (unsigned)h);
    char *svg = NULL;
    assert_int_equal(fp_figure_svg(&f, &ro, "q7-", &svg, &err), FP_OK);
    assert_true(strncmp(svg, "<svg", 4) == 0);
    assert_null(strstr(svg, "href=\"#glyph")); /* every id reference is prefixed */
    assert_non_null(strstr(svg, "href=\"#q7-"));
    free(svg);
    fp_figure_free(&f);
    fp_rec_list_free(&recs);
    fp_agg_result_free(&agg);
}

TU_MAIN(cmocka_unit_test(test_sweep_normalized), cmocka_unit_test(test_pareto),
        cmocka_unit_test(test_savings_and_optima), cmocka_unit_test(test_heatmap),
        cmocka_unit_test(test_model), cmocka_unit_test(test_recs_optimize),
        cmocka_unit_test(test_timeseries_window), cmocka_unit_test(test_render_sizes_and_svg))
