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
#include "freqpilot/glossary.h"
#include "report/canvas.h"
#include "report/report_int.h"
#include "util/utf8.h"

void fp_html_esc(fp_sbuf *b, const char *s)
{
    char *clean = NULL;
    if (!fp_utf8_valid(s)) {
        size_t n = strlen(s) + 1;
        clean = malloc(n);
        s = clean ? fp_utf8_sanitize(clean, n, s) : "?";
    }
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
    free(clean);
}

#define esc fp_html_esc

static const char css[] =
    "body{font-family:'DejaVu Sans',Verdana,sans-serif;max-width:1240px;margin:.8em auto;"
    "padding:0 1em;color:#222;line-height:1.35}"
    "h1{font-size:1.5em;margin:.2em 0 .1em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;"
    "margin-top:1.6em}h3{margin-bottom:.3em}#decision h2{margin:.3em 0 .2em;font-size:1.25em}"
    "p.meta{margin:.1em 0}"
    "table{border-collapse:collapse;font-size:.85em;margin:.5em 0}"
    "th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}"
    "th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "table.deploy{font-size:.9em;line-height:1.25}table.deploy td,table.deploy th{padding:.15em "
    ".5em}table.deploy td.set{font-weight:bold}"
    "table.deploy tr.why td{border-top:none;color:#555;font-size:.8em;line-height:1.2;"
    "padding:0 .5em .2em 2em}"
    "table.deploy tr.row.nodep td{border-bottom:none}table.deploy td{white-space:nowrap}"
    "table.deploy tr.why td{white-space:normal}table.deploy td.keep{color:#666}"
    "tr.total td{font-weight:bold;background:#fafafa}tr.sub td{background:#fafafa}"
    "td.flags{max-width:22em;word-wrap:break-word;font-size:.9em}"
    "td.ck{text-align:center}td.ck.pass{color:#009E73}td.ck.warn{color:#E69F00;font-weight:bold}"
    "td.ck.fail{color:#D55E00;font-weight:bold}"
    ".sim{background:#D55E00;color:#fff;font-weight:bold;padding:.3em 1em;margin:.3em 0;"
    "letter-spacing:.05em}"
    ".warn{color:#D55E00}.ok{color:#009E73;font-weight:bold}.verdict.warn{font-weight:bold}"
    ".rule{font-size:.85em;margin:.2em 0 .3em}.nothing{font-size:1.2em;font-weight:bold}"
    ".cards{display:flex;flex-wrap:wrap;gap:.8em}.card{border:1px solid #ddd;padding:.4em .6em;"
    "width:360px;font-size:.85em}.card h3{margin:.1em 0 .3em;font-size:1.05em}"
    ".card svg{max-width:100%;height:auto}.limit{color:#444}"
    ".figs{display:flex;flex-wrap:wrap;gap:1em}.figs svg{max-width:100%;height:auto}"
    "figure{margin:0}figure svg{border:1px solid #eee}"
    "dl.glossary dt{font-weight:bold;margin-top:.4em}dl.glossary dd{margin-left:1.5em}"
    "pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}"
    ".muted{color:#666;font-size:.9em}";

static int nfig;

void fp_html_figure(fp_sbuf *b, fp_figure *f, fp_status st, double w_in)
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

#define figure fp_html_figure

static void simulated_banner(fp_sbuf *b, const fp_report_ctx *c)
{
    if (c->simulated)
        fp_sbuf_printf(b, "<div class=\"sim\">SIMULATED DATA: every number on this page comes "
                          "from freqpilot's simulated GPU, not from hardware.</div>\n");
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
            fp_sbuf_printf(b, "</td><td>%s</td></tr>\n", fp_glossary_text(fp_flag_name(1u << bit)));
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
    fp_sbuf_printf(b, "<p>What each flag means is in the <a href=\"#glossary\">Glossary</a>.</p>"
                      "\n");
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
    fp_report_ctx ctx;
    fp_status st = fp_report_ctx_init(&ctx, in, err);
    if (st)
        return st;
    fp_sbuf b = {0};
    nfig = 0;
    const char *title = in->title ? in->title : "freqpilot report";
    fp_sbuf_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                       "\n<title>");
    esc(&b, title);
    if (ctx.simulated)
        fp_sbuf_printf(&b, " (SIMULATED DATA)");
    fp_sbuf_printf(&b, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
    simulated_banner(&b, &ctx);
    fp_sbuf_printf(&b, "<h1>");
    esc(&b, title);
    fp_sbuf_printf(&b, "</h1>\n<p class=\"muted meta\">");
    size_t first[1024];
    size_t np = fp_report_pairs(in->agg, first, 1024);
    const char *gpus[64];
    size_t ng = fp_report_gpus(in->agg, gpus, 64);
    fp_sbuf_printf(&b, "%zu GPU(s), %zu (GPU, app) pairs, %zu clock rows, %zu dropped runs.", ng,
                   np, in->agg->nrows, in->agg->dropped.len);
    if (in->generated_utc)
        fp_sbuf_printf(&b, " Generated %s.", in->generated_utc);
    fp_sbuf_printf(&b,
                   " <a href=\"#workloads\">Workloads</a> &middot; <a href=\"#validation\">"
                   "Validation</a> &middot; <a href=\"#figures\">Figures</a>%s &middot; <a "
                   "href=\"#quality\">Data quality</a> &middot; <a href=\"#glossary\">Glossary"
                   "</a> &middot; <a href=\"#method\">Method</a> &middot; <a href=\"#appendix\">"
                   "Appendix</a> &middot; <a href=\"#reproduce\">Reproduce</a>%s</p>\n",
                   in->model && in->model->len ? " &middot; <a href=\"#model\">Model</a>" : "",
                   in->serving ? " &middot; <a href=\"#serving\">LLM serving</a>" : "");
    fp_html_decision(&b, &ctx);
    fp_html_cards(&b, &ctx);
    fp_html_validation(&b, &ctx);
    fp_report_original_html(&b, in);

    fp_plot_opts po;
    fp_plot_opts_init(&po);
    po.simulated = ctx.simulated;
    if (in->objective)
        po.objective = in->objective;
    po.max_slowdown = in->max_slowdown;
    po.constraints = in->constraints;
    fp_figure f;
    fp_sbuf_printf(&b, "<h2 id=\"figures\">Figures</h2>\n<div class=\"figs\">\n");
    if (in->recs && in->recs->len && !ctx.nothing) {
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
    fp_html_glossary(&b);
    method(&b, in);
    fp_html_appendix(&b, &ctx);
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
    simulated_banner(&b, &ctx);
    fp_sbuf_printf(&b, "<p class=\"muted\">Written by freqpilot.</p>\n</body>\n</html>\n");
    fp_report_ctx_free(&ctx);
    if (b.oom) {
        fp_sbuf_free(&b);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    fp_atomic_file af;
    st = fp_atomic_open(&af, path, err);
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
