/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * report.html: one self-contained page. CSS inline, figures as inline SVG (ids prefixed per
 * figure so they do not collide), no script, no font, no image, no link to anything outside
 * the file: it reads the same offline, archived, or mailed.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/atomic.h"
#include "report/canvas.h"
#include "report/report_int.h"

static void esc(fp_sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fp_sbuf_add(b, "&lt;", 4);
            break;
        case '>':
            fp_sbuf_add(b, "&gt;", 4);
            break;
        case '&':
            fp_sbuf_add(b, "&amp;", 5);
            break;
        case '"':
            fp_sbuf_add(b, "&quot;", 6);
            break;
        default:
            fp_sbuf_add(b, s, 1);
        }
    }
}

void fp_report_html_esc(fp_sbuf *b, const char *s)
{
    esc(b, s);
}

static const char css[] =
    "body{font-family:'DejaVu Sans',Verdana,sans-serif;max-width:1100px;margin:1.5em auto;"
    "padding:0 1em;color:#222;line-height:1.4}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;"
    "margin-top:1.8em}h3{margin-bottom:.3em}"
    "table{border-collapse:collapse;font-size:.85em;margin:.5em 0}"
    "th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left}"
    "th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".sim{background:#D55E00;color:#fff;font-weight:bold;padding:.5em 1em;margin:.5em 0;"
    "letter-spacing:.05em}"
    ".warn{color:#D55E00;font-weight:bold}.ok{color:#009E73}"
    ".figs{display:flex;flex-wrap:wrap;gap:1em}.figs svg{max-width:100%;height:auto}"
    "figure{margin:0}figure svg{border:1px solid #eee}"
    "pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}"
    ".muted{color:#666;font-size:.9em}";

static int nfig;

static void figure(fp_sbuf *b, fp_figure *f, fp_status st, double w_in)
{
    if (st) {
        fp_figure_free(f);
        return;
    }
    fp_render_opts ro;
    fp_render_opts_init(&ro);
    ro.width_in = w_in;
    char prefix[32], *svg = NULL;
    snprintf(prefix, sizeof prefix, "f%d-", ++nfig);
    if (fp_figure_svg(f, &ro, prefix, &svg, NULL) == FP_OK) {
        fp_sbuf_printf(b, "<figure aria-label=\"");
        esc(b, f->title);
        fp_sbuf_printf(b, "\">%s</figure>\n", svg);
    }
    free(svg);
    fp_figure_free(f);
}

static void simulated_banner(fp_sbuf *b, const fp_report_input *in)
{
    if (in->simulated)
        fp_sbuf_printf(b, "<div class=\"sim\">SIMULATED DATA: every number on this page comes "
                          "from freqpilot's simulated GPU, not from hardware.</div>\n");
}

static void summary(fp_sbuf *b, const fp_report_input *in)
{
    fp_sbuf_printf(b, "<h2 id=\"summary\">Recommendations</h2>\n");
    if (!in->recs || in->recs->len == 0) {
        fp_sbuf_printf(b, "<p>No recommendations were given (run <code>freqpilot optimize"
                          "</code>).</p>\n");
        return;
    }
    fp_sbuf_printf(b,
                   "<p>Energy saving and slowdown relative to the baseline (%s clock), with "
                   "95 %% intervals, and the verdict of each recommendation as <code>freqpilot "
                   "optimize</code> and <code>freqpilot validate</code> give it: deployable, "
                   "no significant saving, suspect: not a DVFS effect, insufficient data or "
                   "infeasible.</p>\n",
                   in->recs->baseline[0] ? in->recs->baseline : "max");
    const fp_agg_result *a = in->agg;
    if (a->nfindings) {
        fp_sbuf_printf(b, "<p class=\"warn\">Data-quality findings that limit these "
                          "recommendations (details under <a href=\"#quality\">Data "
                          "quality</a>):</p>\n<ul class=\"findings\">\n");
        for (size_t i = 0; i < a->nfindings; i++) {
            const fp_agg_finding *f = &a->findings[i];
            fp_sbuf_printf(b, "<li><b>");
            esc(b, f->gpu);
            fp_sbuf_printf(b, " ");
            esc(b, f->app);
            fp_sbuf_printf(b, "</b>: %s</li>\n", fp_flag_name(f->flag));
        }
        fp_sbuf_printf(b, "</ul>\n");
    }
    fp_sbuf_printf(b, "<table><tr><th>GPU</th><th>App</th><th>Objective</th><th>Max "
                      "slowdown</th><th>Clock (MHz)</th><th>Baseline (MHz)</th><th>Energy "
                      "saving [95 %% CI]</th><th>Slowdown [95 %% CI]</th><th>Verdict</th>"
                      "<th>Flags</th></tr>\n");
    for (size_t i = 0; i < in->recs->len; i++) {
        const fp_rec *r = &in->recs->items[i];
        char s[64], d[64], bud[32];
        fp_report_pct_ci(s, sizeof s, r->energy_saving, r->energy_saving_lo, r->energy_saving_hi);
        fp_report_pct_ci(d, sizeof d, r->slowdown, r->slowdown_lo, r->slowdown_hi);
        fp_report_budget(bud, sizeof bud, r->max_slowdown);
        const char *v = fp_report_verdict(r);
        fp_sbuf_printf(b, "<tr><td>");
        esc(b, r->gpu);
        fp_sbuf_printf(b, "</td><td>");
        esc(b, r->app);
        fp_sbuf_printf(b, "</td><td>");
        esc(b, r->objective);
        fp_sbuf_printf(b,
                       "</td><td class=\"n\">%s</td><td class=\"n\">%.0f</td><td class=\"n\">"
                       "%.0f</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td "
                       "class=\"%s\">%s",
                       bud, r->freq_mhz, r->baseline_mhz, s, d,
                       strcmp(v, "deployable") ? "warn" : "ok", v);
        if (r->verdict_reason[0]) {
            fp_sbuf_printf(b, "<br><small>");
            esc(b, r->verdict_reason);
            fp_sbuf_printf(b, "</small>");
        }
        fp_sbuf_printf(b, "</td><td>");
        esc(b, r->flags);
        fp_sbuf_printf(b, "</td></tr>\n");
    }
    fp_sbuf_printf(b, "</table>\n");
}

/* What `freqpilot validate` found (validation.json, which `freqpilot run` writes). */
static void validation(fp_sbuf *b, const fp_report_input *in)
{
    if (!in->vals || in->vals->len == 0)
        return;
    fp_sbuf_printf(b,
                   "<h2 id=\"validation\">Validation</h2>\n<p>Each recommendation recomputed "
                   "from the data and checked by <code>freqpilot validate</code> (docs/method.md "
                   "C.5); the checks that fail or warn are listed.</p>\n");
    fp_sbuf_printf(b, "<table><tr><th>GPU</th><th>App</th><th>Objective</th><th>Max "
                      "slowdown</th><th>Clock (MHz)</th><th>Verdict</th><th>Checks that fail "
                      "or warn</th></tr>\n");
    for (size_t i = 0; i < in->vals->len; i++) {
        const fp_val *v = &in->vals->items[i];
        char bud[32];
        fp_report_budget(bud, sizeof bud, v->max_slowdown);
        fp_sbuf_printf(b, "<tr><td>");
        esc(b, v->gpu);
        fp_sbuf_printf(b, "</td><td>");
        esc(b, v->app);
        fp_sbuf_printf(b, "</td><td>");
        esc(b, v->objective);
        fp_sbuf_printf(b, "</td><td class=\"n\">%s</td><td class=\"n\">%.0f</td><td class=\"%s\">",
                       bud, v->freq_mhz, strcmp(v->verdict, "deployable") ? "warn" : "ok");
        esc(b, v->verdict);
        fp_sbuf_printf(b, "</td><td>");
        esc(b, v->notes[0] ? v->notes : "none");
        fp_sbuf_printf(b, "</td></tr>\n");
    }
    fp_sbuf_printf(b, "</table>\n");
}

static void quality(fp_sbuf *b, const fp_report_input *in)
{
    const fp_agg_result *a = in->agg;
    fp_sbuf_printf(b, "<h2 id=\"quality\">Data quality</h2>\n");
    fp_sbuf_printf(b, "<h3>Findings per (GPU, app)</h3>\n");
    if (a->nfindings == 0) {
        fp_sbuf_printf(b, "<p>None (drift and clock-dependence tests passed, or the inputs "
                          "carried no per-run data to test).</p>\n");
    } else {
        fp_sbuf_printf(b, "<table><tr><th>GPU</th><th>App</th><th>Finding</th><th>Detail</th>"
                          "<th>Meaning</th></tr>\n");
        for (size_t i = 0; i < a->nfindings; i++) {
            const fp_agg_finding *f = &a->findings[i];
            unsigned bit = 0;
            while (bit < 31 && !(f->flag & (1u << bit)))
                bit++;
            fp_sbuf_printf(b, "<tr><td>");
            esc(b, f->gpu);
            fp_sbuf_printf(b, "</td><td>");
            esc(b, f->app);
            fp_sbuf_printf(b, "</td><td class=\"warn\">%s</td><td>", fp_flag_name(1u << bit));
            esc(b, f->detail);
            fp_sbuf_printf(b, "</td><td>%s</td></tr>\n", fp_report_flag_text(bit));
        }
        fp_sbuf_printf(b, "</table>\n");
    }
    fp_sbuf_printf(b, "<h3>Flagged clocks</h3>\n");
    size_t nflag = 0;
    for (size_t i = 0; i < a->nrows; i++)
        nflag += a->rows[i].flags != 0;
    if (!nflag) {
        fp_sbuf_printf(b, "<p>No clock row carries a flag.</p>\n");
    } else {
        fp_sbuf_printf(b, "<table><tr><th>GPU</th><th>App</th><th>Clock (MHz)</th><th>Runs "
                          "kept</th><th>Dropped</th><th>Flags</th></tr>\n");
        for (size_t i = 0; i < a->nrows; i++) {
            const fp_agg_row *r = &a->rows[i];
            if (!r->flags)
                continue;
            char fl[512];
            fp_flags_format(r->flags, fl, sizeof fl);
            fp_sbuf_printf(b, "<tr><td>");
            esc(b, r->gpu);
            fp_sbuf_printf(b, "</td><td>");
            esc(b, r->app);
            fp_sbuf_printf(b,
                           "</td><td class=\"n\">%.0f</td><td class=\"n\">%d</td><td "
                           "class=\"n\">%d</td><td>%s</td></tr>\n",
                           r->freq_mhz, r->runs, r->runs_dropped, fl);
        }
        fp_sbuf_printf(b, "</table>\n");
    }
    fp_sbuf_printf(b, "<h3>Dropped runs</h3>\n");
    if (a->dropped.len == 0) {
        fp_sbuf_printf(b, "<p>No run was dropped%s.</p>\n",
                       a->nfindings || a->dropped.len ? ""
                                                      : " (or the inputs were already "
                                                        "aggregated)");
    } else {
        fp_sbuf_printf(b, "<table><tr><th>GPU</th><th>App</th><th>Clock (MHz)</th><th>Sweep "
                          "position</th><th>Time (s)</th><th>Energy (J)</th><th>Reason</th>"
                          "<th>Source</th></tr>\n");
        for (size_t i = 0; i < a->dropped.len; i++) {
            const fp_run *r = &a->dropped.items[i];
            char fl[512];
            fp_flags_format(
                r->flags & (FP_FLAG_COLD_START_DROPPED | FP_FLAG_OUTLIER_DROPPED | FP_FLAG_FAILED),
                fl, sizeof fl);
            fp_sbuf_printf(b, "<tr><td>");
            esc(b, r->gpu);
            fp_sbuf_printf(b, "</td><td>");
            esc(b, r->app);
            fp_sbuf_printf(b,
                           "</td><td class=\"n\">%.0f</td><td class=\"n\">%ld</td><td "
                           "class=\"n\">%.2f</td><td class=\"n\">%.1f</td><td>%s</td><td "
                           "class=\"muted\">",
                           r->freq_mhz, r->run_index, r->time_s, r->energy_j, fl);
            esc(b, r->source);
            fp_sbuf_printf(b, "</td></tr>\n");
        }
        fp_sbuf_printf(b, "</table>\n");
    }
    fp_sbuf_printf(b, "<h3>What the flags mean</h3>\n<ul>\n");
    for (unsigned bit = 0; bit < FP_FLAG_COUNT_; bit++)
        fp_sbuf_printf(b, "<li><b>%s</b>: %s.</li>\n", fp_flag_name(1u << bit),
                       fp_report_flag_text(bit));
    fp_sbuf_printf(b, "</ul>\n");
}

/* Which curves the model could predict, and why not where it could not. */
static void model_section(fp_sbuf *b, const fp_report_input *in)
{
    if (!in->model || in->model->len == 0)
        return;
    fp_sbuf_printf(b, "<h2 id=\"model\">Model</h2>\n<p>Power and time predicted at every clock "
                      "by <code>freqpilot model fit</code> (per-curve fits, 95 %% prediction "
                      "intervals; docs/model.md), drawn beside the measurements in the figures "
                      "above. Where the time is not explained by the clock the model gives no "
                      "time or energy prediction.</p>\n<table>\n<tr><th>GPU</th><th>app</th>"
                      "<th>time prediction</th><th>note</th></tr>\n");
    for (size_t i = 0; i < in->model->len; i++) {
        const fp_model_curve *c = &in->model->items[i];
        fp_sbuf_printf(b, "<tr><td>");
        esc(b, c->gpu);
        fp_sbuf_printf(b, "</td><td>");
        esc(b, c->app);
        fp_sbuf_printf(b, "</td><td>%s</td><td>",
                       c->clock_bound ? "yes" : "none: time not explained by the clock");
        esc(b, c->note);
        fp_sbuf_printf(b, "</td></tr>\n");
    }
    fp_sbuf_printf(b, "</table>\n");
}

static void method(fp_sbuf *b, const fp_report_input *in)
{
    fp_sbuf_printf(b, "<h2 id=\"method\">Method</h2>\n");
    const char *p = fp_report_method_text;
    while (*p) {
        const char *e = strstr(p, "\n\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char para[2048];
        snprintf(para, sizeof para, "%.*s", (int)n, p);
        fp_sbuf_printf(b, "<p>");
        esc(b, para);
        fp_sbuf_printf(b, "</p>\n");
        p += n;
        while (*p == '\n')
            p++;
    }
    char heads[4096];
    fp_report_method_headings(in->method_path, heads, sizeof heads);
    if (heads[0]) {
        fp_sbuf_printf(b, "<p>The statistical rules, step by step, are in docs/method.md:</p>"
                          "<ol>\n");
        char *save = NULL;
        for (char *l = strtok_r(heads, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            fp_sbuf_printf(b, "<li>");
            esc(b, l);
            fp_sbuf_printf(b, "</li>\n");
        }
        fp_sbuf_printf(b, "</ol>\n");
    }
}

fp_status fp_report_write_html(const fp_report_input *in, const char *path, fp_error *err)
{
    if (!in || !in->agg)
        return fp_error_set(err, FP_ERR_INVALID, "report: no aggregated data");
    fp_sbuf b = {0};
    nfig = 0;
    const char *title = in->title ? in->title : "freqpilot report";
    fp_sbuf_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                       "\n<title>");
    esc(&b, title);
    if (in->simulated)
        fp_sbuf_printf(&b, " (SIMULATED DATA)");
    fp_sbuf_printf(&b, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
    simulated_banner(&b, in);
    fp_sbuf_printf(&b, "<h1>");
    esc(&b, title);
    fp_sbuf_printf(&b, "</h1>\n<p class=\"muted\">");
    size_t first[1024];
    size_t np = fp_report_pairs(in->agg, first, 1024);
    const char *gpus[64];
    size_t ng = fp_report_gpus(in->agg, gpus, 64);
    fp_sbuf_printf(&b, "%zu GPU(s), %zu (GPU, app) pairs, %zu clock rows, %zu dropped runs.", ng,
                   np, in->agg->nrows, in->agg->dropped.len);
    if (in->generated_utc)
        fp_sbuf_printf(&b, " Generated %s.", in->generated_utc);
    fp_sbuf_printf(&b,
                   "</p>\n<p><a href=\"#summary\">Recommendations</a> &middot; <a "
                   "href=\"#figures\">Figures</a>%s &middot; <a href=\"#quality\">Data "
                   "quality</a> &middot; <a href=\"#method\">Method</a> &middot; <a "
                   "href=\"#reproduce\">Reproduce</a></p>\n",
                   in->model && in->model->len ? " &middot; <a href=\"#model\">Model</a>" : "");
    if (in->serving)
        fp_sbuf_printf(&b, "<p><a href=\"#serving\">LLM serving</a></p>\n");
    summary(&b, in);
    validation(&b, in);
    fp_report_original_html(&b, in);

    fp_plot_opts po;
    fp_plot_opts_init(&po);
    po.simulated = in->simulated;
    if (in->objective)
        po.objective = in->objective;
    po.max_slowdown = in->max_slowdown;
    fp_figure f;
    fp_sbuf_printf(&b, "<h2 id=\"figures\">Figures</h2>\n<div class=\"figs\">\n");
    if (in->recs && in->recs->len) {
        figure(&b, &f, fp_plot_savings(in->recs, &po, &f, NULL), 0);
        figure(&b, &f, fp_plot_optima(in->agg, in->recs, &po, &f, NULL), 0);
    }
    for (size_t g = 0; g < ng; g++) {
        po.gpu = gpus[g];
        figure(&b, &f, fp_plot_heatmap(in->agg, &po, &f, NULL), 5.0);
    }
    fp_sbuf_printf(&b, "</div>\n");
    for (size_t i = 0; i < np; i++) {
        const fp_agg_row *r = &in->agg->rows[first[i]];
        po.gpu = r->gpu;
        po.app = r->app;
        fp_sbuf_printf(&b, "<h3>");
        esc(&b, r->gpu);
        fp_sbuf_printf(&b, " &middot; ");
        esc(&b, r->app);
        fp_sbuf_printf(&b, "</h3>\n<div class=\"figs\">\n");
        figure(&b, &f, fp_plot_sweep(in->agg, in->recs, &po, &f, NULL), 0);
        figure(&b, &f, fp_plot_pareto(in->agg, in->recs, &po, &f, NULL), 0);
        if (in->model)
            figure(&b, &f, fp_plot_model(in->model, &po, &f, NULL), 0);
        fp_sbuf_printf(&b, "</div>\n");
    }
    fp_report_serving_html(&b, in->serving, in->simulated);
    model_section(&b, in);
    quality(&b, in);
    method(&b, in);
    fp_sbuf_printf(&b, "<h2 id=\"reproduce\">Reproduce</h2>\n");
    if (in->ncommands) {
        fp_sbuf_printf(&b, "<p>These commands, run in order, produce this report:</p><pre>");
        for (size_t i = 0; i < in->ncommands; i++) {
            esc(&b, in->commands[i]);
            fp_sbuf_printf(&b, "\n");
        }
        fp_sbuf_printf(&b, "</pre>\n");
    } else {
        fp_sbuf_printf(&b, "<p>No command lines were recorded.</p>\n");
    }
    simulated_banner(&b, in);
    fp_sbuf_printf(&b, "<p class=\"muted\">Written by freqpilot.</p>\n</body>\n</html>\n");
    if (b.oom) {
        fp_sbuf_free(&b);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    fp_atomic_file af;
    fp_status st = fp_atomic_open(&af, path, err);
    if (!st) {
        if (fwrite(b.s, 1, b.len, af.fp) != b.len) {
            fp_atomic_abort(&af);
            st = fp_error_set(err, FP_ERR_IO, "%s: write failed", path);
        } else {
            st = fp_atomic_commit(&af, err);
        }
    }
    fp_sbuf_free(&b);
    return st;
}

void fp_report_input_init(fp_report_input *in)
{
    memset(in, 0, sizeof *in);
    in->objective = "energy";
    in->max_slowdown = 0.05;
}
