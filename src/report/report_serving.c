/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The report's LLM serving section, from a `freqpilot govern replay --serving --format json`
 * file given among the report's inputs (docs/report.md, "Serving"): energy per token against
 * SLO attainment for every policy and static clock, the governed clock over the trace, and a
 * table. Figures go through the plotting layer like every other figure.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report/canvas.h"
#include "report/report_int.h"
#include "util/input.h"

typedef struct serving_row {
    char policy[32];
    double freq_mhz, energy_per_token_j, energy_saving, vs_static, attainment, ttft_p99_s,
        tbt_p99_s, mean_clock_mhz;
    int meets_slo;
} serving_row;

struct fp_serving_report {
    char gpu[32], model[32], trace[256], tl_policy[32];
    double ttft_s, tbt_s, attainment, static_best_mhz;
    size_t requests;
    serving_row *rows, *sweep;
    size_t nrows, nsweep;
    double *t_s, *arrivals, *clock; /* the timeline */
    size_t ntl;
};

void fp_serving_report_free(fp_serving_report *s)
{
    if (!s)
        return;
    free(s->rows);
    free(s->sweep);
    free(s->t_s);
    free(s->arrivals);
    free(s->clock);
    free(s);
}

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

int fp_serving_report_detect(const char *path)
{
    size_t l = strlen(path);
    if (l < 5 || strcmp(path + l - 5, ".json") != 0)
        return 0;
    json_t *root = fp_json_load_input(path, 0, NULL);
    const char *f = json_string_value(json_object_get(root, "format"));
    int yes = f && strcmp(f, "freqpilot-serving-replay") == 0;
    json_decref(root);
    return yes;
}

static int read_rows(json_t *arr, serving_row **out, size_t *n)
{
    *n = json_array_size(arr);
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out)
        return -1;
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        serving_row *r = &(*out)[i];
        const char *p = json_string_value(json_object_get(o, "policy"));
        snprintf(r->policy, sizeof r->policy, "%s", p ? p : "static");
        r->freq_mhz = num(o, "freq_mhz");
        r->energy_per_token_j = num(o, "energy_per_token_j");
        r->energy_saving = num(o, "energy_saving");
        r->vs_static = num(o, "vs_static_best_points");
        r->attainment = num(o, "attainment");
        r->ttft_p99_s = num(o, "ttft_p99_s");
        r->tbt_p99_s = num(o, "tbt_p99_s");
        r->mean_clock_mhz = num(o, "mean_clock_mhz");
        r->meets_slo = json_is_true(json_object_get(o, "meets_slo"));
        if (!(r->energy_per_token_j > 0) || !(r->attainment >= 0 && r->attainment <= 1))
            return (int)i + 1;
    }
    return 0;
}

static double *read_array(json_t *o, const char *k, size_t n)
{
    json_t *a = json_object_get(o, k);
    double *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        json_t *e = json_array_get(a, i);
        v[i] = json_is_number(e) ? json_number_value(e) : NAN;
    }
    return v;
}

fp_status fp_serving_report_load(const char *path, fp_serving_report **out, fp_error *err)
{
    *out = NULL;
    json_t *root = fp_json_load_input(path, 0, err); /* regular file, BOM, duplicate keys */
    if (!root)
        return err ? err->code : FP_ERR_PARSE;
    fp_status st = FP_OK;
    fp_serving_report *s = calloc(1, sizeof *s);
    json_t *slo = json_object_get(root, "slo"), *tl = json_object_get(root, "timeline");
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (!s) {
        st = fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    if (!fmt || strcmp(fmt, "freqpilot-serving-replay") != 0 || !json_is_object(slo) ||
        !json_is_array(json_object_get(root, "results"))) {
        st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                         "expected a 'govern replay --serving --format json' file (format "
                         "freqpilot-serving-replay, slo, results)");
        goto out;
    }
    snprintf(s->gpu, sizeof s->gpu, "%s", json_string_value(json_object_get(root, "gpu")) ?: "");
    snprintf(s->model, sizeof s->model, "%s",
             json_string_value(json_object_get(root, "model")) ?: "");
    snprintf(s->trace, sizeof s->trace, "%s",
             json_string_value(json_object_get(root, "trace")) ?: "");
    s->ttft_s = num(slo, "ttft_s");
    s->tbt_s = num(slo, "tbt_s");
    s->attainment = num(slo, "attainment");
    s->static_best_mhz = num(root, "static_best_mhz");
    s->requests = (size_t)fmax(0, num(root, "requests"));
    int bad = read_rows(json_object_get(root, "results"), &s->rows, &s->nrows);
    if (bad == 0)
        bad = read_rows(json_object_get(root, "static_sweep"), &s->sweep, &s->nsweep);
    if (bad || s->nrows == 0 || !(s->ttft_s > 0 && s->tbt_s > 0 && s->attainment > 0)) {
        st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                         bad > 0 ? "a result without energy_per_token_j or attainment in 0..1"
                                 : "expected results[] and slo.ttft_s, tbt_s, attainment");
        goto out;
    }
    if (json_is_object(tl)) {
        const char *p = json_string_value(json_object_get(tl, "policy"));
        snprintf(s->tl_policy, sizeof s->tl_policy, "%s", p ? p : "slo");
        s->ntl = json_array_size(json_object_get(tl, "t_s"));
        s->t_s = read_array(tl, "t_s", s->ntl);
        s->arrivals = read_array(tl, "arrivals_per_s", s->ntl);
        s->clock = read_array(tl, "requested_mhz", s->ntl);
        if (!s->t_s || !s->arrivals || !s->clock)
            st = fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
    }
out:
    json_decref(root);
    if (st != FP_OK)
        fp_serving_report_free(s);
    else
        *out = s;
    return st;
}

/* Palette and marker of a policy row, the same in every figure. */
static void style(const char *policy, int *color, int *marker)
{
    static const struct {
        const char *name;
        int color, marker;
    } st[] = {{"default", FP_C_BLACK, FP_MK_SQUARE},    {"static-best", FP_C_BLUE, FP_MK_DIAMOND},
              {"activity", FP_C_GREEN, FP_MK_TRIANGLE}, {"phase", FP_C_PURPLE, FP_MK_TRIANGLE},
              {"feedback", FP_C_YELLOW, FP_MK_CIRCLE},  {"slo", FP_C_VERMILLION, FP_MK_STAR}};
    *color = FP_C_SKYBLUE;
    *marker = FP_MK_CIRCLE;
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
        if (strcmp(policy, st[i].name) == 0) {
            *color = st[i].color;
            *marker = st[i].marker;
        }
}

fp_status fp_plot_serving_energy(const fp_serving_report *s, const fp_plot_opts *o, fp_figure *out,
                                 fp_error *err)
{
    char title[160];
    snprintf(title, sizeof title, "%s: energy per token vs SLO attainment", s->gpu);
    fp_figure_init(out, "serving", title);
    out->simulated = o->simulated;
    fp_panel *p = fp_figure_add_panel(out, NULL, "SLO attainment (%)", "Energy per token (J)");
    if (!p)
        goto oom;
    /* Static clocks near the target (the rest would squeeze the policies into a corner). */
    double lo = 100 * s->attainment - 10, *x = malloc((s->nsweep + 1) * sizeof *x),
           *y = malloc((s->nsweep + 1) * sizeof *y);
    size_t n = 0;
    for (size_t i = 0; x && y && i < s->nsweep; i++)
        if (100 * s->sweep[i].attainment >= lo) {
            x[n] = 100 * s->sweep[i].attainment;
            y[n++] = s->sweep[i].energy_per_token_j;
        }
    fp_series *ser = x && y && n ? fp_panel_add_series(p, "Static clocks", FP_SERIES_POINTS,
                                                       FP_C_GREY, n, x, y, NULL, NULL)
                                 : NULL;
    free(x);
    free(y);
    if (n && !ser)
        goto oom;
    for (size_t i = 0; i < s->nrows; i++) {
        const serving_row *r = &s->rows[i];
        double xv = 100 * r->attainment, yv = r->energy_per_token_j;
        if (xv < lo)
            xv = lo; /* a policy far below the target is drawn at the edge, not dropped */
        char name[96];
        snprintf(name, sizeof name, "%s%s", r->policy, r->meets_slo ? "" : " (misses)");
        int c, m;
        style(r->policy, &c, &m);
        fp_series *ps = fp_panel_add_series(p, name, FP_SERIES_POINTS, c, 1, &xv, &yv, NULL, NULL);
        if (!ps)
            goto oom;
        ps->marker = m;
    }
    char lab[64];
    snprintf(lab, sizeof lab, "SLO %g %%", 100 * s->attainment);
    if (fp_panel_add_mark(p, 100 * s->attainment, lab, FP_C_BLACK))
        goto oom;
    p->y_from_zero = 1;
    return FP_OK;
oom:
    fp_figure_free(out);
    return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
}

fp_status fp_plot_serving_clock(const fp_serving_report *s, const fp_plot_opts *o, fp_figure *out,
                                fp_error *err)
{
    if (s->ntl == 0)
        return fp_error_set(err, FP_ERR_INVALID, "serving replay without a timeline");
    char title[160];
    snprintf(title, sizeof title, "%s: %s clock over the trace", s->gpu, s->tl_policy);
    fp_figure_init(out, "serving", title);
    out->simulated = o->simulated;
    double *tm = malloc(s->ntl * sizeof *tm), *flat = malloc(s->ntl * sizeof *flat);
    /* (adding a panel may move the others: take their addresses after) */
    int ok = fp_figure_add_panel(out, "Load", NULL, "Arrivals (requests/s)") &&
             fp_figure_add_panel(out, "SM clock", "Time (min)", "Clock (MHz)");
    fp_panel *a = ok ? &out->panels[0] : NULL, *c = ok ? &out->panels[1] : NULL;
    ok = ok && tm && flat;
    for (size_t i = 0; ok && i < s->ntl; i++) {
        tm[i] = s->t_s[i] / 60;
        flat[i] = s->static_best_mhz;
    }
    ok = ok &&
         fp_panel_add_series(a, "", FP_SERIES_LINE, FP_C_GREY, s->ntl, tm, s->arrivals, NULL,
                             NULL) &&
         fp_panel_add_series(c, s->tl_policy, FP_SERIES_LINE, FP_C_VERMILLION, s->ntl, tm, s->clock,
                             NULL, NULL);
    if (!ok) {
        free(tm);
        free(flat);
        fp_figure_free(out);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    a->y_from_zero = 1;
    if (isfinite(s->static_best_mhz)) {
        fp_series *b = fp_panel_add_series(c, "best static clock", FP_SERIES_LINE, FP_C_BLUE,
                                           s->ntl, tm, flat, NULL, NULL);
        ok = b != NULL;
        if (b)
            b->dashed = 1;
    }
    free(tm);
    free(flat);
    if (!ok) {
        fp_figure_free(out);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    return FP_OK;
}

size_t fp_report_serving_lines(const fp_serving_report *s, char (*lines)[FP_SERVING_LINE],
                               size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    char best[32] = "none";
    if (isfinite(s->static_best_mhz))
        snprintf(best, sizeof best, "%.0f MHz", s->static_best_mhz);
    snprintf(lines[n++], FP_SERVING_LINE,
             "%.60s (simulated %s, %s): %zu requests; SLO p99 TTFT <= %g s, TBT <= %g ms, "
             "attainment >= %g %%. Best static clock meeting it: %s.",
             s->trace, s->gpu, s->model, s->requests, s->ttft_s, 1000 * s->tbt_s,
             100 * s->attainment, best);
    for (size_t i = 0; i < s->nrows && n < cap; i++) {
        const serving_row *r = &s->rows[i];
        char vs[32] = "";
        if (isfinite(r->vs_static))
            snprintf(vs, sizeof vs, ", %+.1f points vs static-best", r->vs_static);
        snprintf(lines[n++], FP_SERVING_LINE,
                 "%s: %.4f J/token, %.1f %% saved vs default%s, attainment %.2f %%, p99 TTFT "
                 "%.2f s, p99 TBT %.0f ms: SLO %s.",
                 r->policy, r->energy_per_token_j, 100 * r->energy_saving, vs, 100 * r->attainment,
                 r->ttft_p99_s, 1000 * r->tbt_p99_s, r->meets_slo ? "met" : "MISSED");
    }
    return n;
}

static void svg(fp_sbuf *b, fp_figure *f, fp_status st, const char *prefix)
{
    char *text = NULL;
    fp_render_opts ro;
    fp_render_opts_init(&ro);
    if (st == FP_OK && fp_figure_svg(f, &ro, prefix, &text, NULL) == FP_OK) {
        fp_sbuf_printf(b, "<figure aria-label=\"");
        fp_html_esc(b, f->title);
        fp_sbuf_printf(b, "\">%s</figure>\n", text);
    }
    free(text);
    if (st == FP_OK)
        fp_figure_free(f);
}

void fp_report_serving_html(fp_sbuf *b, const fp_serving_report *s, int simulated)
{
    if (!s)
        return;
    fp_sbuf_printf(b, "<h2 id=\"serving\">LLM serving</h2>\n<p>");
    char lines[1][FP_SERVING_LINE];
    fp_report_serving_lines(s, lines, 1);
    fp_html_esc(b, lines[0]);
    fp_sbuf_printf(b, " Energy per token is all energy (idle included) over output tokens; a "
                      "policy meets the SLO when its attainment reaches the target and its p99 "
                      "TTFT and TBT are within the SLO (docs/govern.md, \"Serving\").</p>\n");
    fp_sbuf_printf(b, "<table><tr><th>policy</th><th>clock MHz</th><th>J/token</th><th>saving "
                      "vs default</th><th>vs static-best (points)</th><th>attainment</th><th>p99 "
                      "TTFT s</th><th>p99 TBT ms</th><th>SLO</th></tr>\n");
    for (size_t i = 0; i < s->nrows; i++) {
        const serving_row *r = &s->rows[i];
        fp_sbuf_printf(b, "<tr><td>");
        fp_html_esc(b, r->policy);
        fp_sbuf_printf(b,
                       "</td><td class=\"n\">%s%.0f</td><td class=\"n\">%.4f</td><td "
                       "class=\"n\">%.1f %%</td><td class=\"n\">%+.1f</td><td "
                       "class=\"n\">%.2f %%</td><td class=\"n\">%.2f</td><td "
                       "class=\"n\">%.0f</td><td class=\"%s\">%s</td></tr>\n",
                       isfinite(r->freq_mhz) ? "" : "~",
                       isfinite(r->freq_mhz) ? r->freq_mhz : r->mean_clock_mhz,
                       r->energy_per_token_j, 100 * r->energy_saving, r->vs_static,
                       100 * r->attainment, r->ttft_p99_s, 1000 * r->tbt_p99_s,
                       r->meets_slo ? "ok" : "warn", r->meets_slo ? "met" : "MISSED");
    }
    fp_sbuf_printf(b, "</table>\n<div class=\"figs\">\n");
    fp_plot_opts po;
    fp_plot_opts_init(&po);
    po.simulated = simulated;
    fp_figure f;
    svg(b, &f, fp_plot_serving_energy(s, &po, &f, NULL), "sv1-");
    svg(b, &f, fp_plot_serving_clock(s, &po, &f, NULL), "sv2-");
    fp_sbuf_printf(b, "</div>\n");
}
