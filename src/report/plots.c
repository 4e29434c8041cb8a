/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Figure builders: data in, an fp_figure holding exactly the numbers drawn out. Nothing
 * here draws; canvas.c does. Every normalisation divides by the baseline, the highest clock
 * measured (docs/method.md), never by a run picked after the fact.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/dataset.h"
#include "freqpilot/optimize.h"
#include "freqpilot/plot.h"
#include "freqpilot/reader.h"
#include "report/report_int.h"
#include "util/grow.h"
#include "util/keyidx.h"

void fp_plot_opts_init(fp_plot_opts *o)
{
    memset(o, 0, sizeof *o);
    o->objective = "energy";
    o->max_slowdown = 0.05;
}

double fp_plot_budget(const fp_plot_opts *o, const char *app, const char **category)
{
    double b;
    const char *cat = NULL;
    if (category)
        *category = "";
    if (o->constraints && fp_constraints_lookup(o->constraints, app, &b, &cat) == 0) {
        if (category && cat)
            *category = cat;
        return b;
    }
    return o->max_slowdown;
}

static int usable(const fp_agg_row *r)
{
    return r->runs > 0 && isfinite(r->energy_j) && isfinite(r->time_s) && r->energy_j > 0 &&
           r->time_s > 0;
}

/* Rows of (gpu, app), ascending clock, usable only. Caller frees. */
static size_t select_rows(const fp_agg_result *agg, const char *gpu, const char *app,
                          const fp_agg_row ***out)
{
    size_t n = 0;
    const fp_agg_row **v = calloc(agg->nrows ? agg->nrows : 1, sizeof *v);
    if (!v) {
        *out = NULL;
        return 0;
    }
    for (size_t i = 0; i < agg->nrows; i++) {
        const fp_agg_row *r = &agg->rows[i];
        if (strcmp(r->gpu, gpu) == 0 && strcmp(r->app, app) == 0 && usable(r))
            v[n++] = r;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j]->freq_mhz < v[j - 1]->freq_mhz; j--) {
            const fp_agg_row *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *out = v;
    return n;
}

/*
 * The first (gpu, app) that o's filters match and its rows as select_rows (*v: caller frees);
 * out starts as the figure KIND titled "GPU APP: WHAT".
 */
static fp_status pick_pair(const fp_agg_result *agg, const fp_plot_opts *o, const char *kind,
                           const char *what, fp_figure *out, const char **gpu, const char **app,
                           const fp_agg_row ***v, size_t *n, fp_error *err)
{
    size_t i = 0;
    while (i < agg->nrows && !((!o->gpu || strcmp(agg->rows[i].gpu, o->gpu) == 0) &&
                               (!o->app || strcmp(agg->rows[i].app, o->app) == 0)))
        i++;
    if (i == agg->nrows)
        return fp_error_set(err, FP_ERR_INVALID, "no aggregated rows for gpu %s, app %s",
                            o->gpu ? o->gpu : "(any)", o->app ? o->app : "(any)");
    *gpu = agg->rows[i].gpu;
    *app = agg->rows[i].app;
    *n = select_rows(agg, *gpu, *app, v);
    if (*n == 0) {
        free(*v);
        return fp_error_set(err, FP_ERR_INVALID, "%s/%s: no clock with runs", *gpu, *app);
    }
    char title[160];
    snprintf(title, sizeof title, "%s %s: %s", *gpu, *app, what);
    fp_figure_init(out, kind, title);
    out->simulated = o->simulated;
    return FP_OK;
}

static fp_status oom(fp_figure *f, fp_error *err)
{
    fp_figure_free(f);
    return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
}

static void budget_label(char *buf, size_t n, const char *objective, double max_slowdown)
{
    if (isfinite(max_slowdown))
        snprintf(buf, n, "%s \xe2\x89\xa4%g%%", objective, max_slowdown * 100);
    else
        snprintf(buf, n, "%s", objective);
}

fp_status fp_plot_sweep(const fp_agg_result *agg, const fp_rec_list *recs, const fp_plot_opts *o,
                        fp_figure *out, fp_error *err)
{
    const char *gpu, *app;
    const fp_agg_row **v;
    size_t n;
    fp_status st = pick_pair(agg, o, "sweep", "metrics vs SM clock", out, &gpu, &app, &v, &n, err);
    if (st)
        return st;
    const fp_agg_row *b = v[n - 1];
    char xl[96];
    snprintf(xl, sizeof xl, "SM clock (MHz)");
    char yl[96];
    snprintf(yl, sizeof yl, "Relative to %.0f MHz", b->freq_mhz);
    fp_panel *p = fp_figure_add_panel(out, NULL, xl, yl);
    double *buf = calloc(8 * n, sizeof *buf);
    if (!p || !buf) {
        free(v);
        free(buf);
        return oom(out, err);
    }
    double *x = buf, *y = buf + n, *lo = buf + 2 * n, *hi = buf + 3 * n;
    for (size_t i = 0; i < n; i++)
        x[i] = v[i]->freq_mhz;
    struct {
        const char *name;
        int color, dashed, band;
    } m[5] = {{"Energy", FP_C_BLUE, 0, 1},
              {"Time", FP_C_VERMILLION, 0, 1},
              {"Power", FP_C_GREEN, 1, 0},
              {"EDP", FP_C_ORANGE, 0, 0},
              {"ED2P", FP_C_PURPLE, 1, 0}};
    int ok = 1;
    for (int k = 0; k < 5 && ok; k++) {
        for (size_t i = 0; i < n; i++) {
            const fp_agg_row *r = v[i];
            switch (k) {
            case 0:
                y[i] = r->energy_j / b->energy_j;
                lo[i] = r->energy_j_lo / b->energy_j;
                hi[i] = r->energy_j_hi / b->energy_j;
                break;
            case 1:
                y[i] = r->time_s / b->time_s;
                lo[i] = r->time_s_lo / b->time_s;
                hi[i] = r->time_s_hi / b->time_s;
                break;
            case 2:
                y[i] = r->power_w / b->power_w;
                break;
            case 3:
                y[i] = (r->energy_j * r->time_s) / (b->energy_j * b->time_s);
                break;
            default:
                y[i] =
                    (r->energy_j * r->time_s * r->time_s) / (b->energy_j * b->time_s * b->time_s);
                break;
            }
        }
        fp_series *s = fp_panel_add_series(p, m[k].name, FP_SERIES_LINEPOINTS, m[k].color, n, x, y,
                                           m[k].band ? lo : NULL, m[k].band ? hi : NULL);
        if (!s) {
            ok = 0;
            break;
        }
        s->dashed = m[k].dashed;
        s->marker = k == 0 ? FP_MK_CIRCLE : k == 1 ? FP_MK_SQUARE : FP_MK_NONE;
    }
    p->ref_y = 1.0;
    if (ok && recs) {
        for (size_t i = 0; i < recs->len; i++) {
            const fp_rec *r = &recs->items[i];
            if (strcmp(r->gpu, gpu) || strcmp(r->app, app) || !isfinite(r->freq_mhz))
                continue;
            char lab[64];
            budget_label(lab, sizeof lab, r->objective, r->max_slowdown);
            if (fp_panel_add_mark(p, r->freq_mhz, lab, FP_C_BLACK))
                ok = 0;
        }
    }
    free(v);
    free(buf);
    return ok ? FP_OK : oom(out, err);
}

fp_status fp_plot_card(const fp_agg_result *agg, const fp_rec *rec, const fp_plot_opts *o,
                       fp_figure *out, fp_error *err)
{
    fp_status st = fp_plot_sweep(agg, NULL, o, out, err);
    if (st)
        return st;
    /* The sweep's energy and time only: a thumbnail reads at a glance. */
    fp_panel *p = &out->panels[0];
    for (size_t j = 2; j < p->nseries; j++) {
        free(p->series[j].x);
        free(p->series[j].y);
        free(p->series[j].lo);
        free(p->series[j].hi);
    }
    if (p->nseries > 2)
        p->nseries = 2;
    snprintf(out->kind, sizeof out->kind, "card");
    out->title[0] = '\0'; /* the card's heading names the pair */
    if (rec && isfinite(rec->freq_mhz)) {
        char lab[64];
        snprintf(lab, sizeof lab, "set %.0f MHz", rec->freq_mhz);
        if (fp_panel_add_mark(p, rec->freq_mhz, lab, FP_C_BLACK))
            return oom(out, err);
    }
    return FP_OK;
}

fp_status fp_plot_pareto(const fp_agg_result *agg, const fp_rec_list *recs, const fp_plot_opts *o,
                         fp_figure *out, fp_error *err)
{
    const char *gpu, *app;
    const fp_agg_row **v;
    size_t n;
    fp_status st =
        pick_pair(agg, o, "pareto", "time-energy trade-off", out, &gpu, &app, &v, &n, err);
    if (st)
        return st;
    const fp_agg_row *b = v[n - 1];
    char xl[96], yl[96];
    snprintf(xl, sizeof xl, "Time relative to %.0f MHz", b->freq_mhz);
    snprintf(yl, sizeof yl, "Energy relative to %.0f MHz", b->freq_mhz);
    fp_panel *p = fp_figure_add_panel(out, NULL, xl, yl);
    double *buf = calloc(6 * n, sizeof *buf);
    size_t *idx = calloc(n, sizeof *idx);
    if (!p || !buf || !idx) {
        free(v);
        free(buf);
        free(idx);
        return oom(out, err);
    }
    double *t = buf, *e = buf + n, *fx = buf + 2 * n, *fy = buf + 3 * n;
    for (size_t i = 0; i < n; i++) {
        t[i] = v[i]->time_s / b->time_s;
        e[i] = v[i]->energy_j / b->energy_j;
    }
    /* Non-dominated points: no other point at most as slow and as costly, better in one. */
    size_t nf = 0;
    for (size_t i = 0; i < n; i++) {
        int dom = 0;
        for (size_t j = 0; j < n && !dom; j++)
            dom = j != i && t[j] <= t[i] && e[j] <= e[i] && (t[j] < t[i] || e[j] < e[i]);
        if (!dom)
            idx[nf++] = i;
    }
    for (size_t i = 1; i < nf; i++)
        for (size_t j = i; j > 0 && t[idx[j]] < t[idx[j - 1]]; j--) {
            size_t tmp = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = tmp;
        }
    for (size_t i = 0; i < nf; i++) {
        fx[i] = t[idx[i]];
        fy[i] = e[idx[i]];
    }
    fp_series *cs =
        fp_panel_add_series(p, "Clocks", FP_SERIES_POINTS, FP_C_SKYBLUE, n, t, e, NULL, NULL);
    int ok = cs != NULL;
    /* Direct labels: the clock of every frontier point (the others are dominated). */
    char **lab = ok ? calloc(n, sizeof *lab) : NULL;
    ok = ok && lab;
    for (size_t i = 0; ok && i < nf; i++)
        if (asprintf(&lab[idx[i]], "%.0f", v[idx[i]]->freq_mhz) < 0) {
            lab[idx[i]] = NULL;
            ok = 0;
        }
    ok = ok && fp_series_set_labels(cs, lab) == 0;
    for (size_t i = 0; lab && i < n; i++)
        free(lab[i]);
    free(lab);
    fp_series *fs =
        ok ? fp_panel_add_series(p, "Frontier", FP_SERIES_LINE, FP_C_ORANGE, nf, fx, fy, NULL, NULL)
           : NULL;
    ok = ok && fs;
    /* Knee: the frontier point farthest from the chord joining its ends (normalised axes). */
    if (ok && nf >= 3) {
        double x0 = fx[0], x1 = fx[nf - 1], y0 = fy[nf - 1], y1 = fy[0];
        double sx = x1 - x0 > 0 ? x1 - x0 : 1, sy = y1 - y0 > 0 ? y1 - y0 : 1;
        double best = -1;
        size_t kb = 0;
        for (size_t i = 0; i < nf; i++) {
            double u = (fx[i] - x0) / sx, w = (fy[i] - y0) / sy;
            /* chord from (0, 1) to (1, 0): distance ~ 1 - u - w */
            double d = (1 - u - w) / sqrt(2.0);
            if (d > best) {
                best = d;
                kb = i;
            }
        }
        fp_series *s = fp_panel_add_series(p, "Knee", FP_SERIES_POINTS, FP_C_GREEN, 1, &fx[kb],
                                           &fy[kb], NULL, NULL);
        ok = s != NULL;
        if (s)
            s->marker = FP_MK_DIAMOND;
    }
    /* Constrained choice. */
    double cx = NAN, cy = NAN;
    double budget = fp_plot_budget(o, app, NULL);
    const fp_rec *r = fp_recs_find(recs, gpu, app, o->objective ? o->objective : "energy", budget);
    if (r) {
        for (size_t i = 0; i < n; i++)
            if (fabs(v[i]->freq_mhz - r->freq_mhz) < 0.5) {
                cx = t[i];
                cy = e[i];
            }
    } else {
        double be = INFINITY;
        for (size_t i = 0; i < n; i++)
            if ((!isfinite(budget) || t[i] - 1 <= budget + 1e-12) && e[i] < be) {
                be = e[i];
                cx = t[i];
                cy = e[i];
            }
    }
    if (ok && isfinite(cx)) {
        char name[96], clk[32];
        char *cl[1] = {clk};
        if (isfinite(budget))
            snprintf(name, sizeof name, "Choice (\xe2\x89\xa4%g%% slower)", budget * 100);
        else
            snprintf(name, sizeof name, "Choice");
        snprintf(clk, sizeof clk, "%.0f MHz", r ? r->freq_mhz : NAN);
        if (!r)
            for (size_t i = 0; i < n; i++)
                if (t[i] == cx && e[i] == cy)
                    snprintf(clk, sizeof clk, "%.0f MHz", v[i]->freq_mhz);
        fp_series *s = fp_panel_add_series(p, name, FP_SERIES_POINTS, FP_C_VERMILLION, 1, &cx, &cy,
                                           NULL, NULL);
        ok = s != NULL && fp_series_set_labels(s, cl) == 0;
        if (s)
            s->marker = FP_MK_STAR;
    }
    double one = 1.0;
    if (ok) {
        char clk[32];
        char *cl[1] = {clk};
        snprintf(clk, sizeof clk, "%.0f MHz", b->freq_mhz);
        fp_series *s = fp_panel_add_series(p, "Baseline", FP_SERIES_POINTS, FP_C_BLACK, 1, &one,
                                           &one, NULL, NULL);
        ok = s != NULL && fp_series_set_labels(s, cl) == 0;
        if (s)
            s->marker = FP_MK_SQUARE;
    }
    free(v);
    free(buf);
    free(idx);
    return ok ? FP_OK : oom(out, err);
}

/* Distinct (gpu, app) pairs of recs in first-seen order (first[k]: a rec of pair k). */
static size_t rec_pairs(const fp_rec_list *recs, const fp_keyidx *idx, const fp_plot_opts *o,
                        size_t *first)
{
    size_t n = 0;
    for (size_t i = 0; i < recs->len; i++) {
        const fp_rec *r = &recs->items[i];
        if (o->gpu && strcmp(r->gpu, o->gpu))
            continue;
        if (o->app && strcmp(r->app, o->app))
            continue;
        if (fp_keyidx_get(idx, r->gpu, r->app, NAN) == (long)i) /* the pair's first */
            first[n++] = i;
    }
    return n;
}

static int set_pair_cats(fp_panel *p, const fp_rec_list *recs, const size_t *first, size_t n)
{
    char **c = calloc(n ? n : 1, sizeof *c);
    if (!c)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        if (asprintf(&c[i], "%s\n%s", recs->items[first[i]].gpu, recs->items[first[i]].app) < 0) {
            c[i] = NULL;
            rc = -1;
        }
    if (!rc)
        rc = fp_panel_set_cats(p, c, n);
    for (size_t i = 0; i < n; i++)
        free(c[i]);
    free(c);
    return rc;
}

fp_status fp_plot_savings(const fp_rec_list *recs, const fp_plot_opts *o, fp_figure *out,
                          fp_error *err)
{
    const char *obj = o->objective ? o->objective : "energy";
    size_t *first = calloc(recs->len ? recs->len : 1, sizeof *first);
    fp_keyidx *ridx = fp_recs_index(recs);
    if (!first || !ridx) {
        free(first);
        fp_keyidx_free(ridx);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    size_t n = rec_pairs(recs, ridx, o, first);
    if (n == 0) {
        free(first);
        fp_keyidx_free(ridx);
        return fp_error_set(err, FP_ERR_INVALID, "no recommendations to plot");
    }
    char title[160];
    snprintf(title, sizeof title, "Energy saving and slowdown (objective %s)", obj);
    fp_figure_init(out, "savings", title);
    out->simulated = o->simulated;
    fp_panel *p0 = fp_figure_add_panel(out, NULL, NULL, "Energy saving");
    fp_panel *p1 = p0 ? fp_figure_add_panel(out, NULL, NULL, "Slowdown") : NULL;
    p0 = p1 ? &out->panels[0] : NULL;
    double *buf = calloc(12 * n, sizeof *buf);
    int ok = p0 && p1 && buf;
    if (ok) {
        char con[96];
        if (o->constraints)
            snprintf(con, sizeof con, "Constrained (each app's budget, %.40s)",
                     o->constraints->name[0] ? o->constraints->name : "--constraints");
        else
            snprintf(con, sizeof con, "Constrained (\xe2\x89\xa4%g%% slower)",
                     isfinite(o->max_slowdown) ? o->max_slowdown * 100 : 0);
        for (int c = 0; c < 2 && ok; c++) {
            double *x = buf, *s = buf + n, *sl = buf + 2 * n, *sh = buf + 3 * n;
            double *d = buf + 4 * n, *dl = buf + 5 * n, *dh = buf + 6 * n;
            for (size_t i = 0; i < n; i++) {
                const fp_rec *pr = &recs->items[first[i]];
                const fp_rec *r = fp_recs_find_in(recs, ridx, pr->gpu, pr->app, obj,
                                                  c ? fp_plot_budget(o, pr->app, NULL) : NAN);
                x[i] = (double)i;
                s[i] = r ? r->energy_saving : NAN;
                sl[i] = r ? r->energy_saving_lo : NAN;
                sh[i] = r ? r->energy_saving_hi : NAN;
                d[i] = r ? r->slowdown : NAN;
                dl[i] = r ? r->slowdown_lo : NAN;
                dh[i] = r ? r->slowdown_hi : NAN;
            }
            /* With --constraints there is no unconstrained result ('none' is each app's own
             * budget): a series with nothing to draw is left out of the figure and its legend. */
            int any = 0;
            for (size_t i = 0; i < n; i++)
                any |= isfinite(s[i]);
            if (!any && !c)
                continue;
            const char *name = c ? con : "Unconstrained";
            int color = c ? FP_C_BLUE : FP_C_ORANGE;
            fp_series *a = fp_panel_add_series(p0, name, FP_SERIES_BARS, color, n, x, s, sl, sh);
            fp_series *bq = fp_panel_add_series(p1, name, FP_SERIES_BARS, color, n, x, d, dl, dh);
            ok = a && bq;
            if (ok) {
                a->bar_width = bq->bar_width = 0.38;
                a->bar_offset = bq->bar_offset = c ? 0.2 : -0.2;
            }
        }
        p0->y_percent = p1->y_percent = 1;
        p0->ref_y = p1->ref_y = 0;
        p0->y_from_zero = p1->y_from_zero = 1;
        ok = ok && set_pair_cats(p0, recs, first, n) == 0 && set_pair_cats(p1, recs, first, n) == 0;
    }
    free(first);
    fp_keyidx_free(ridx);
    free(buf);
    return ok ? FP_OK : oom(out, err);
}

/* The legend name of a recommendation's budget in the optima figure. */
static void budget_series(char *buf, size_t n, const fp_rec *r)
{
    if (r->category[0])
        snprintf(buf, n, "each app's budget");
    else if (isfinite(r->max_slowdown))
        snprintf(buf, n, "\xe2\x89\xa4%g%% slower", r->max_slowdown * 100);
    else
        snprintf(buf, n, "no budget");
}

/* The groups of rows by gpu, by gpu (clock NAN); NULL on no memory. */
static fp_keyidx *index_gpus(const fp_agg_result *agg, const fp_agg_groups *g)
{
    fp_keyidx *idx = fp_keyidx_new(g->ngroups);
    for (size_t k = 0; idx && k < g->ngroups; k++)
        if (fp_keyidx_add(idx, agg->rows[g->row[g->start[k]]].gpu, "", NAN, k) < 0) {
            fp_keyidx_free(idx);
            idx = NULL;
        }
    return idx;
}

fp_status fp_plot_optima(const fp_agg_result *agg, const fp_rec_list *recs, const fp_plot_opts *o,
                         fp_figure *out, fp_error *err)
{
    size_t *first = calloc(recs->len ? recs->len : 1, sizeof *first);
    fp_keyidx *ridx = fp_recs_index(recs), *gidx = NULL;
    fp_agg_groups gpus = {0};
    if (!first || !ridx ||
        (agg && (fp_agg_groups_build(agg->rows, agg->nrows, 0, &gpus, NULL) ||
                 !(gidx = index_gpus(agg, &gpus))))) {
        free(first);
        fp_keyidx_free(ridx);
        fp_agg_groups_free(&gpus);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    size_t n = rec_pairs(recs, ridx, o, first);
    if (n == 0) {
        free(first);
        fp_keyidx_free(ridx);
        fp_keyidx_free(gidx);
        fp_agg_groups_free(&gpus);
        return fp_error_set(err, FP_ERR_INVALID, "no recommendations to plot");
    }
    fp_figure_init(out, "optima", "Chosen SM clock within each GPU's clock range");
    out->simulated = o->simulated;
    /* One panel per objective (first-seen order), one marker per budget: the same budget has
     * the same marker and colour in every panel, so the legend holds a handful of entries. */
    char objs[8][32], buds[6][48];
    size_t nobj = 0, nbud = 0;
    for (size_t i = 0; i < recs->len; i++) {
        int dup = 0;
        for (size_t k = 0; k < nobj; k++)
            dup |= strcmp(objs[k], recs->items[i].objective) == 0;
        if (!dup && nobj < 8)
            snprintf(objs[nobj++], sizeof objs[0], "%s", recs->items[i].objective);
        char lab[48];
        budget_series(lab, sizeof lab, &recs->items[i]);
        dup = 0;
        for (size_t k = 0; k < nbud; k++)
            dup |= strcmp(buds[k], lab) == 0;
        if (!dup && nbud < 6)
            snprintf(buds[nbud++], sizeof buds[0], "%s", lab);
    }
    static const int colors[] = {FP_C_BLUE,   FP_C_VERMILLION, FP_C_GREEN,
                                 FP_C_ORANGE, FP_C_PURPLE,     FP_C_BLACK};
    static const int markers[] = {FP_MK_CIRCLE,  FP_MK_SQUARE, FP_MK_TRIANGLE,
                                  FP_MK_DIAMOND, FP_MK_STAR,   FP_MK_CIRCLE};
    double *buf = calloc(4 * n, sizeof *buf);
    int ok = buf != NULL;
    for (size_t oi = 0; ok && oi < nobj; oi++) {
        char pt[64];
        snprintf(pt, sizeof pt, "objective %s", objs[oi]);
        fp_panel *p = fp_figure_add_panel(out, pt, NULL, "SM clock (MHz)");
        if (!p) {
            ok = 0;
            break;
        }
        double *x = buf, *lo = buf + n, *hi = buf + 2 * n, *y = buf + 3 * n;
        for (size_t i = 0; i < n; i++) {
            const char *g = recs->items[first[i]].gpu;
            double fmin = INFINITY, fmax = -INFINITY;
            long gi = gidx ? fp_keyidx_get(gidx, g, "", NAN) : -1;
            for (size_t k = gi >= 0 ? gpus.start[gi] : 0; gi >= 0 && k < gpus.start[gi + 1]; k++) {
                const fp_agg_row *ar = &agg->rows[gpus.row[k]];
                fmin = fmin < ar->freq_mhz ? fmin : ar->freq_mhz;
                fmax = fmax > ar->freq_mhz ? fmax : ar->freq_mhz;
            }
            x[i] = (double)i;
            lo[i] = isfinite(fmin) ? fmin : NAN;
            hi[i] = isfinite(fmax) ? fmax : NAN;
            y[i] = NAN;
        }
        ok = fp_panel_add_series(p, "Measured clock range", FP_SERIES_RANGE, FP_C_GREY, n, x, y, lo,
                                 hi) != NULL;
        for (size_t bi = 0; ok && bi < nbud; bi++) {
            int any = 0;
            double off = ((double)bi - (double)(nbud - 1) / 2) * 0.16;
            for (size_t k = 0; k < n; k++) {
                const fp_rec *pr = &recs->items[first[k]];
                x[k] = (double)k + off;
                y[k] = NAN;
                /* The pair's recommendations (keyed index), in list order: the first that
                 * matches, as a scan of every recommendation finds it. */
                fp_keyidx_iter it;
                size_t i;
                fp_keyidx_find(ridx, pr->gpu, pr->app, NAN, &it);
                while (fp_keyidx_next(&it, &i)) {
                    const fp_rec *r = &recs->items[i];
                    char lab[48];
                    budget_series(lab, sizeof lab, r);
                    if (!strcmp(r->objective, objs[oi]) && !strcmp(lab, buds[bi])) {
                        y[k] = r->freq_mhz;
                        any = 1;
                        break;
                    }
                }
            }
            if (!any)
                continue;
            fp_series *se =
                fp_panel_add_series(p, buds[bi], FP_SERIES_POINTS, colors[bi], n, x, y, NULL, NULL);
            ok = se != NULL;
            if (se)
                se->marker = markers[bi];
        }
        ok = ok && set_pair_cats(p, recs, first, n) == 0;
    }
    free(first);
    fp_keyidx_free(ridx);
    fp_keyidx_free(gidx);
    fp_agg_groups_free(&gpus);
    free(buf);
    return ok ? FP_OK : oom(out, err);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * The usable rows of gpu, indexed by (gpu, app, clock), with the distinct apps and clocks in
 * order of appearance and each app's energy at its highest clock (base; the first row there):
 * one pass over the rows, where a scan per cell cost one per cell. NULL on no memory.
 */
static fp_keyidx *heatmap_rows(const fp_agg_result *agg, const char *gpu, const char **apps,
                               size_t *na, double *clk, size_t *nc, double *base, double *bf)
{
    fp_keyidx *cells = fp_keyidx_new(64), *seen = fp_keyidx_new(64);
    int ok = cells && seen;
    for (size_t i = 0; ok && i < agg->nrows; i++) {
        const fp_agg_row *r = &agg->rows[i];
        if (strcmp(r->gpu, gpu) || !usable(r))
            continue;
        long a = fp_keyidx_get(seen, "", r->app, NAN);
        if (a < 0) {
            ok = fp_keyidx_add(seen, "", r->app, NAN, *na) == 0;
            a = (long)*na;
            apps[(*na)++] = r->app;
            bf[a] = -1;
        }
        if (r->freq_mhz > bf[a]) {
            bf[a] = r->freq_mhz;
            base[a] = r->energy_j;
        }
        if (fp_keyidx_get(seen, "", "", r->freq_mhz) < 0) {
            ok = ok && fp_keyidx_add(seen, "", "", r->freq_mhz, *nc) == 0;
            clk[(*nc)++] = r->freq_mhz;
        }
        ok = ok && fp_keyidx_add(cells, gpu, r->app, r->freq_mhz, i) == 0;
    }
    fp_keyidx_free(seen);
    if (!ok) {
        fp_keyidx_free(cells);
        return NULL;
    }
    return cells;
}

/* The energy of the last usable row of (gpu, app) at clock f; 0 when there is none. */
static int heatmap_cell(const fp_keyidx *cells, const fp_agg_result *agg, const char *gpu,
                        const char *app, double f, double *energy_j)
{
    fp_keyidx_iter it;
    size_t i;
    int found = 0;
    fp_keyidx_find(cells, gpu, app, f, &it);
    while (fp_keyidx_next(&it, &i)) {
        *energy_j = agg->rows[i].energy_j;
        found = 1;
    }
    return found;
}

fp_status fp_plot_heatmap(const fp_agg_result *agg, const fp_plot_opts *o, fp_figure *out,
                          fp_error *err)
{
    const char *gpu = o->gpu;
    if (!gpu) {
        for (size_t i = 0; i < agg->nrows && !gpu; i++)
            gpu = agg->rows[i].gpu;
    }
    if (!gpu)
        return fp_error_set(err, FP_ERR_INVALID, "no aggregated rows");
    const char **apps = calloc(agg->nrows + 1, sizeof *apps);
    double *clk = calloc(3 * (agg->nrows + 1), sizeof *clk), *base = clk + agg->nrows + 1,
           *bf = base + agg->nrows + 1;
    fp_keyidx *cells = NULL;
    size_t na = 0, nc = 0;
    /* The usable rows of gpu by (app, clock), for the cells below. */
    if (!apps || !clk || !(cells = heatmap_rows(agg, gpu, apps, &na, clk, &nc, base, bf))) {
        free(apps);
        free(clk);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    if (na == 0) {
        free(apps);
        free(clk);
        fp_keyidx_free(cells);
        return fp_error_set(err, FP_ERR_INVALID, "no aggregated rows with runs for gpu %s", gpu);
    }
    qsort(clk, nc, sizeof *clk, cmp_double);
    char title[160];
    snprintf(title, sizeof title, "%s: energy per app and clock", gpu);
    fp_figure_init(out, "heatmap", title);
    out->simulated = o->simulated;
    fp_panel *p = fp_figure_add_panel(out, NULL, "SM clock (MHz)", NULL);
    int ok = p != NULL;
    if (ok) {
        p->hm_rows = na;
        p->hm_cols = nc;
        p->hm = malloc(na * nc * sizeof *p->hm);
        p->hm_colx = malloc(nc * sizeof *p->hm_colx);
        p->hm_rowlab = calloc(na, sizeof *p->hm_rowlab);
        snprintf(p->hm_label, sizeof p->hm_label, "Energy / energy at max clock");
        ok = p->hm && p->hm_colx && p->hm_rowlab;
        if (!ok) {
            p->hm_rows = 0; /* nothing to free row by row */
        }
    }
    for (size_t a = 0; ok && a < na; a++) {
        p->hm_rowlab[a] = strdup(apps[a]);
        ok = p->hm_rowlab[a] != NULL;
        for (size_t c = 0; c < nc; c++) {
            double v;
            if (heatmap_cell(cells, agg, gpu, apps[a], clk[c], &v))
                v /= base[a];
            else
                v = NAN;
            p->hm[a * nc + c] = v;
        }
    }
    if (ok)
        memcpy(p->hm_colx, clk, nc * sizeof *clk);
    free(apps);
    free(clk);
    fp_keyidx_free(cells);
    return ok ? FP_OK : oom(out, err);
}

fp_status fp_plot_model(const fp_model_set *m, const fp_plot_opts *o, fp_figure *out, fp_error *err)
{
    const fp_model_curve *c = NULL;
    for (size_t i = 0; i < m->len && !c; i++)
        if ((!o->gpu || !strcmp(m->items[i].gpu, o->gpu)) &&
            (!o->app || !strcmp(m->items[i].app, o->app)))
            c = &m->items[i];
    if (!c)
        return fp_error_set(err, FP_ERR_INVALID, "no model for gpu %s, app %s",
                            o->gpu ? o->gpu : "(any)", o->app ? o->app : "(any)");
    char title[160];
    snprintf(title, sizeof title, "%s %s: model vs measurements", c->gpu, c->app);
    fp_figure_init(out, "model", title);
    out->simulated = o->simulated;
    fp_panel *p0 = fp_figure_add_panel(out, NULL, NULL, "Power (W)");
    /* A curve that is not clock-bound gets no time prediction, and says why. */
    const char *t1 = c->clock_bound ? NULL : "Time not explained by the clock: no prediction";
    fp_panel *p1 = p0 ? fp_figure_add_panel(out, t1, "SM clock (MHz)", "Time (s)") : NULL;
    p0 = p1 ? &out->panels[0] : NULL;
    int ok = p0 && p1;
    if (ok)
        ok = fp_panel_add_series(p0, "Predicted (95% PI)", FP_SERIES_LINE, FP_C_BLUE, c->n,
                                 c->freq_mhz, c->power_w, c->power_w_lo, c->power_w_hi) != NULL;
    if (ok && c->clock_bound)
        ok = fp_panel_add_series(p1, "Predicted (95% PI)", FP_SERIES_LINE, FP_C_BLUE, c->n,
                                 c->freq_mhz, c->time_s, c->time_s_lo, c->time_s_hi) != NULL;
    if (ok && c->n_meas) {
        fp_series *a =
            fp_panel_add_series(p0, "Measured", FP_SERIES_POINTS, FP_C_VERMILLION, c->n_meas,
                                c->meas_freq_mhz, c->meas_power_w, NULL, NULL);
        fp_series *b = fp_panel_add_series(p1, "Measured", FP_SERIES_POINTS, FP_C_VERMILLION,
                                           c->n_meas, c->meas_freq_mhz, c->meas_time_s, NULL, NULL);
        ok = a && b;
    }
    return ok ? FP_OK : oom(out, err);
}

/* ---- time series ---- */

typedef struct dvec {
    double *v;
    size_t n, cap;
} dvec;

static int dvec_push(dvec *d, double x)
{
    if (FP_GROW(d->v, d->n, d->cap, 1024))
        return -1;
    d->v[d->n++] = x;
    return 0;
}

static const char *column_label(const char *col, char *buf, size_t n)
{
    static const struct {
        const char *col, *label;
    } known[] = {{"power_w", "Power (W)"},
                 {"power_avg_w", "Average power (W)"},
                 {"energy_mj", "Energy counter (mJ)"},
                 {"sm_clock_mhz", "SM clock (MHz)"},
                 {"mem_clock_mhz", "Memory clock (MHz)"},
                 {"gpu_util_pct", "GPU utilisation (%)"},
                 {"mem_util_pct", "Memory utilisation (%)"},
                 {"temp_c", "Temperature (\xc2\xb0"
                            "C)"},
                 {"mem_temp_c", "Memory temperature (\xc2\xb0"
                                "C)"},
                 {"fb_used_mib", "Frame buffer used (MiB)"},
                 {"power_limit_w", "Power limit (W)"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].col, col) == 0)
            return known[i].label;
    snprintf(buf, n, "%s (fraction)", col);
    return buf;
}

fp_status fp_plot_timeseries(const fp_ts_plot_input *in, size_t n, const char *column,
                             const fp_plot_opts *o, fp_figure *out, fp_error *err)
{
    int col = fp_col_from_name(column, strlen(column));
    if (col < 0 || col == FP_COL_T_S)
        return fp_error_set(err, FP_ERR_INVALID,
                            "unknown telemetry column '%s' (expected a telemetry.csv name such as "
                            "power_w, sm_clock_mhz, gpu_util_pct)",
                            column);
    char lbuf[96], title[160];
    const char *yl = column_label(column, lbuf, sizeof lbuf);
    snprintf(title, sizeof title, "%s over time", yl);
    fp_figure_init(out, "timeseries", title);
    out->simulated = o->simulated;
    fp_panel *p = fp_figure_add_panel(out, NULL, "Time (s)", yl);
    if (!p)
        return oom(out, err);
    static const int colors[] = {FP_C_BLUE,   FP_C_VERMILLION, FP_C_GREEN, FP_C_ORANGE,
                                 FP_C_PURPLE, FP_C_SKYBLUE,    FP_C_BLACK, FP_C_YELLOW};
    for (size_t i = 0; i < n; i++) {
        char file[4096], label[96];
        snprintf(file, sizeof file, "%s", in[i].path);
        double w0 = NAN, w1 = NAN;
        char rj[4200];
        snprintf(rj, sizeof rj, "%s/run.json", in[i].path);
        fp_run_record rec;
        fp_run_record_init(&rec);
        if (fp_dataset_read_run_json(rj, &rec, NULL) == FP_OK) {
            snprintf(file, sizeof file, "%s/%s", in[i].path,
                     rec.telemetry[0] ? rec.telemetry : "telemetry.csv");
            w0 = rec.window_start_s;
            w1 = rec.window_end_s;
            out->simulated |= fp_gpu_name_simulated(rec.gpu_name); /* the label follows the data */
        }
        if (in[i].label) {
            snprintf(label, sizeof label, "%s", in[i].label);
        } else if (isfinite(rec.requested_clock_mhz) && rec.requested_clock_mhz > 0) {
            snprintf(label, sizeof label, "%.0f MHz run %d", rec.requested_clock_mhz,
                     rec.repetition);
        } else {
            const char *b = strrchr(in[i].path, '/');
            snprintf(label, sizeof label, "%s", b && b[1] ? b + 1 : in[i].path);
        }
        fp_ts_options to = {0};
        to.gpu_index = -1;
        fp_ts_reader *r = NULL;
        fp_status st = fp_ts_open(file, FP_FMT_AUTO, &to, &r, err);
        if (st) {
            fp_figure_free(out);
            return st;
        }
        dvec xs = {0}, ys = {0};
        fp_sample s;
        int rc;
        while ((rc = fp_ts_next(r, &s, err)) == 1) {
            if (dvec_push(&xs, s.v[FP_COL_T_S]) || dvec_push(&ys, s.v[col])) {
                rc = fp_error_set(err, FP_ERR_NOMEM, "out of memory");
                break;
            }
        }
        fp_ts_close(r);
        fp_series *se = NULL;
        if (rc == 0)
            se = fp_panel_add_series(p, label, FP_SERIES_LINE, colors[i % 8], xs.n, xs.v, ys.v,
                                     NULL, NULL);
        free(xs.v);
        free(ys.v);
        if (rc < 0) {
            fp_figure_free(out);
            return (fp_status)rc;
        }
        if (!se)
            return oom(out, err);
        if (isfinite(w0) && isfinite(w1) && fp_panel_add_span(p, w0, w1, "inference window") != 0)
            return oom(out, err);
    }
    return FP_OK;
}
