/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * report.pdf: US Letter pages drawn with cairo's PDF surface, in this order: summary table of
 * recommendations, overview figures, heatmaps, one page per (gpu, app), data quality, method,
 * reproduce. Every page has a footer with its number and, for simulated data, a
 * "SIMULATED DATA" label at the top.
 */
#define _GNU_SOURCE
#include <cairo-pdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/atomic.h"
#include "report/canvas.h"
#include "report/report_int.h"

#define PAGE_W 612.0
#define PAGE_H 792.0
#define MARGIN 54.0
#define BODY_FS 9.0
#define LINE_H 12.0

typedef struct doc {
    cairo_t *cr;
    const fp_report_input *in;
    int page;
    double y;
} doc;

static void page_begin(doc *d)
{
    cairo_t *cr = d->cr;
    d->page++;
    d->y = MARGIN;
    if (d->in->simulated) {
        fp_canvas_font(cr, 9, 1);
        fp_canvas_set_color(cr, FP_C_VERMILLION, 1);
        fp_canvas_text(cr, PAGE_W - MARGIN, MARGIN - 22, "SIMULATED DATA", 1, 1);
    }
    fp_canvas_font(cr, 7.5, 0);
    cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
    fp_canvas_text(cr, MARGIN, MARGIN - 22, d->in->title ? d->in->title : "freqpilot report", 0, 1);
    char buf[64];
    snprintf(buf, sizeof buf, "page %d", d->page);
    fp_canvas_text(cr, PAGE_W / 2, PAGE_H - MARGIN + 24, buf, 0.5, 1);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
}

static void page_end(doc *d)
{
    cairo_show_page(d->cr);
}

static void need(doc *d, double h)
{
    if (d->y + h > PAGE_H - MARGIN) {
        page_end(d);
        page_begin(d);
    }
}

static void heading(doc *d, const char *s, double size)
{
    need(d, size * 2.2);
    fp_canvas_font(d->cr, size, 1);
    cairo_set_source_rgb(d->cr, 0.05, 0.05, 0.05);
    fp_canvas_text(d->cr, MARGIN, d->y, s, 0, 0);
    d->y += size * 1.7;
}

/* Word-wrapped paragraph. */
static void para(doc *d, const char *s, double fs, int bold)
{
    cairo_t *cr = d->cr;
    fp_canvas_font(cr, fs, bold);
    double maxw = PAGE_W - 2 * MARGIN, lh = fs * 1.35;
    char line[1600] = "";
    const char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        char word[512];
        snprintf(word, sizeof word, "%.*s", (int)(e - p), p);
        char trial[2200];
        snprintf(trial, sizeof trial, "%s%s%s", line, line[0] ? " " : "", word);
        if (line[0] && fp_canvas_text_width(cr, trial) > maxw) {
            need(d, lh);
            fp_canvas_font(cr, fs, bold);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            fp_canvas_text(cr, MARGIN, d->y, line, 0, 0);
            d->y += lh;
            snprintf(line, sizeof line, "%s", word);
        } else {
            size_t tl = strlen(trial) < sizeof line - 1 ? strlen(trial) : sizeof line - 1;
            memcpy(line, trial, tl);
            line[tl] = '\0';
        }
        p = e;
    }
    if (line[0]) {
        need(d, lh);
        fp_canvas_font(cr, fs, bold);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fp_canvas_text(cr, MARGIN, d->y, line, 0, 0);
        d->y += lh;
    }
    d->y += fs * 0.5;
}

/* A table row: cells at the given x offsets; header rows are bold on grey. */
static void row(doc *d, const char *const *cells, const double *xs, size_t n, int header)
{
    cairo_t *cr = d->cr;
    need(d, LINE_H);
    if (header) {
        cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
        cairo_rectangle(cr, MARGIN, d->y - 2, PAGE_W - 2 * MARGIN, LINE_H);
        cairo_fill(cr);
    }
    fp_canvas_font(cr, 7.5, header);
    for (size_t i = 0; i < n; i++) {
        /* Clip each cell to its column so long text never runs into the next one. */
        double x0 = MARGIN + xs[i];
        double x1 = i + 1 < n ? MARGIN + xs[i + 1] - 3 : PAGE_W - MARGIN;
        cairo_save(cr);
        cairo_rectangle(cr, x0, d->y - 3, x1 - x0, LINE_H + 2);
        cairo_clip(cr);
        int warn = !header &&
                   (!strcmp(cells[i], "no significant saving") || !strcmp(cells[i], "infeasible") ||
                    !strcmp(cells[i], "insufficient data") || !strncmp(cells[i], "suspect", 7));
        if (warn)
            fp_canvas_set_color(cr, FP_C_VERMILLION, 1);
        else
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fp_canvas_text(cr, x0, d->y, cells[i], 0, 0);
        cairo_restore(cr);
    }
    d->y += LINE_H;
    if (header)
        d->y += 1;
}

static void draw_fig(doc *d, fp_figure *f, fp_status st, double w_in, double h_in)
{
    if (st) {
        fp_figure_free(f);
        return;
    }
    fp_render_opts ro;
    fp_render_opts_init(&ro);
    ro.width_in = w_in;
    ro.height_in = h_in;
    double w, h;
    fp_canvas_figure_size(f, &ro, &w, &h);
    w *= 72;
    h *= 72;
    need(d, h + 6);
    cairo_save(d->cr);
    cairo_translate(d->cr, (PAGE_W - w) / 2, d->y);
    fp_canvas_draw_figure(d->cr, f, w, h);
    cairo_restore(d->cr);
    d->y += h + 10;
    fp_figure_free(f);
}

static void new_page(doc *d)
{
    if (d->y > MARGIN + 1) {
        page_end(d);
        page_begin(d);
    }
}

static void summary(doc *d)
{
    const fp_report_input *in = d->in;
    heading(d, in->title ? in->title : "freqpilot report", 16);
    if (in->simulated)
        para(d,
             "SIMULATED DATA: every number in this report comes from freqpilot's simulated "
             "GPU, not from hardware.",
             BODY_FS, 1);
    char buf[512];
    size_t first[1024];
    size_t np = fp_report_pairs(in->agg, first, 1024);
    const char *gpus[64];
    size_t ng = fp_report_gpus(in->agg, gpus, 64);
    snprintf(buf, sizeof buf,
             "%zu GPU(s), %zu (GPU, app) pairs, %zu clock rows, %zu dropped "
             "runs, %zu findings.%s%s",
             ng, np, in->agg->nrows, in->agg->dropped.len, in->agg->nfindings,
             in->generated_utc ? " Generated " : "", in->generated_utc ? in->generated_utc : "");
    para(d, buf, BODY_FS, 0);
    heading(d, "Recommendations", 12);
    if (!in->recs || in->recs->len == 0) {
        para(d, "No recommendations were given (run freqpilot optimize).", BODY_FS, 0);
        return;
    }
    para(d,
         "Energy saving and slowdown relative to the baseline (highest clock), with 95 % "
         "intervals, and the verdict of each recommendation as freqpilot optimize and validate "
         "give it (deployable, no significant saving, suspect: not a DVFS effect, insufficient "
         "data, infeasible).",
         BODY_FS, 0);
    const fp_agg_result *a = in->agg;
    if (a->nfindings) {
        para(d,
             "Data-quality findings that limit these recommendations (see Data quality):", BODY_FS,
             1);
        for (size_t i = 0; i < a->nfindings; i++) {
            snprintf(buf, sizeof buf, "%s %s: %s", a->findings[i].gpu, a->findings[i].app,
                     fp_flag_name(a->findings[i].flag));
            para(d, buf, 8, 0);
        }
    }
    d->y += 4;
    static const char *const hdr[] = {"GPU",  "App",           "Objective", "Budget", "Clock MHz",
                                      "Base", "Energy saving", "Slowdown",  "Verdict"};
    static const double xs[] = {0, 34, 100, 142, 176, 216, 248, 340, 432};
    row(d, hdr, xs, 9, 1);
    for (size_t i = 0; i < in->recs->len; i++) {
        const fp_rec *r = &in->recs->items[i];
        char s[64], sl[64], bud[32], f[32], bf[32];
        fp_report_pct_ci(s, sizeof s, r->energy_saving, r->energy_saving_lo, r->energy_saving_hi);
        fp_report_pct_ci(sl, sizeof sl, r->slowdown, r->slowdown_lo, r->slowdown_hi);
        fp_report_budget(bud, sizeof bud, r->max_slowdown);
        snprintf(f, sizeof f, "%.0f", r->freq_mhz);
        snprintf(bf, sizeof bf, "%.0f", r->baseline_mhz);
        const char *cells[] = {r->gpu, r->app, r->objective,        bud, f, bf,
                               s,      sl,     fp_report_verdict(r)};
        row(d, cells, xs, 9, 0);
    }
}

/* What `freqpilot validate` found (validation.json, which `freqpilot run` writes). */
static void validation(doc *d)
{
    const fp_report_input *in = d->in;
    if (!in->vals || in->vals->len == 0)
        return;
    heading(d, "Validation", 12);
    para(d,
         "Each recommendation recomputed from the data and checked by freqpilot validate "
         "(docs/method.md C.5): its verdict and the checks that fail or warn.",
         BODY_FS, 0);
    char buf[1600];
    for (size_t i = 0; i < in->vals->len; i++) {
        const fp_val *v = &in->vals->items[i];
        char bud[32];
        fp_report_budget(bud, sizeof bud, v->max_slowdown);
        snprintf(buf, sizeof buf, "%s %s %s (budget %s) at %.0f MHz: %s. %s", v->gpu, v->app,
                 v->objective, bud, v->freq_mhz, v->verdict, v->notes[0] ? v->notes : "");
        para(d, buf, 8, 0);
    }
}

static void quality(doc *d)
{
    const fp_agg_result *a = d->in->agg;
    heading(d, "Data quality", 14);
    para(d,
         "Every finding, flagged clock and dropped run below affects how far the numbers can "
         "be trusted.",
         BODY_FS, 0);
    heading(d, "Findings per (GPU, app)", 11);
    char buf[1024];
    if (!a->nfindings)
        para(d, "None.", BODY_FS, 0);
    for (size_t i = 0; i < a->nfindings; i++) {
        const fp_agg_finding *f = &a->findings[i];
        unsigned bit = 0;
        while (bit < 31 && !(f->flag & (1u << bit)))
            bit++;
        snprintf(buf, sizeof buf, "%s %s: %s - %s. %s", f->gpu, f->app, fp_flag_name(1u << bit),
                 fp_report_flag_text(bit), f->detail);
        para(d, buf, 8, 0);
    }
    heading(d, "Flagged clocks", 11);
    static const char *const hdr[] = {"GPU", "App", "Clock MHz", "Kept", "Dropped", "Flags"};
    static const double xs[] = {0, 40, 120, 170, 205, 250};
    size_t nflag = 0;
    for (size_t i = 0; i < a->nrows; i++)
        nflag += a->rows[i].flags != 0;
    if (!nflag)
        para(d, "No clock row carries a flag.", BODY_FS, 0);
    else
        row(d, hdr, xs, 6, 1);
    for (size_t i = 0; i < a->nrows; i++) {
        const fp_agg_row *r = &a->rows[i];
        if (!r->flags)
            continue;
        char f[32], k[16], dr[16], fl[512];
        snprintf(f, sizeof f, "%.0f", r->freq_mhz);
        snprintf(k, sizeof k, "%d", r->runs);
        snprintf(dr, sizeof dr, "%d", r->runs_dropped);
        fp_flags_format(r->flags, fl, sizeof fl);
        const char *cells[] = {r->gpu, r->app, f, k, dr, fl};
        row(d, cells, xs, 6, 0);
    }
    heading(d, "Dropped runs", 11);
    static const char *const dh[] = {"GPU",    "App",      "Clock MHz", "Position",
                                     "Time s", "Energy J", "Reason"};
    static const double dx[] = {0, 40, 120, 170, 215, 260, 310};
    if (!a->dropped.len)
        para(d, "No run was dropped.", BODY_FS, 0);
    else
        row(d, dh, dx, 7, 1);
    for (size_t i = 0; i < a->dropped.len; i++) {
        const fp_run *r = &a->dropped.items[i];
        char f[32], pos[32], t[32], e[32], fl[256];
        snprintf(f, sizeof f, "%.0f", r->freq_mhz);
        snprintf(pos, sizeof pos, "%ld", r->run_index);
        snprintf(t, sizeof t, "%.2f", r->time_s);
        snprintf(e, sizeof e, "%.1f", r->energy_j);
        fp_flags_format(r->flags &
                            (FP_FLAG_COLD_START_DROPPED | FP_FLAG_OUTLIER_DROPPED | FP_FLAG_FAILED),
                        fl, sizeof fl);
        const char *cells[] = {r->gpu, r->app, f, pos, t, e, fl};
        row(d, cells, dx, 7, 0);
    }
    heading(d, "What the flags mean", 11);
    for (unsigned bit = 0; bit < FP_FLAG_COUNT_; bit++) {
        snprintf(buf, sizeof buf, "%s: %s.", fp_flag_name(1u << bit), fp_report_flag_text(bit));
        para(d, buf, 8, 0);
    }
}

static void method(doc *d)
{
    heading(d, "Method", 14);
    const char *p = fp_report_method_text;
    while (*p) {
        const char *e = strstr(p, "\n\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char buf[2048];
        snprintf(buf, sizeof buf, "%.*s", (int)n, p);
        para(d, buf, BODY_FS, 0);
        p += n;
        while (*p == '\n')
            p++;
    }
    char heads[4096];
    fp_report_method_headings(d->in->method_path, heads, sizeof heads);
    if (heads[0]) {
        para(d, "The statistical rules, step by step, are in docs/method.md:", BODY_FS, 0);
        char *save = NULL;
        for (char *l = strtok_r(heads, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            para(d, l, 8, 0);
    }
}

static void reproduce(doc *d)
{
    heading(d, "Reproduce", 14);
    const fp_report_input *in = d->in;
    if (!in->ncommands) {
        para(d, "No command lines were recorded.", BODY_FS, 0);
        return;
    }
    para(d, "These commands, run in order, produce this report:", BODY_FS, 0);
    for (size_t i = 0; i < in->ncommands; i++)
        para(d, in->commands[i], 8, 0);
}

/* The comparison with the original project's recommendations (report_original.c). */
static void original_row(void *user, const char *const *cells, int header)
{
    static const double xs[FP_REPORT_ORIG_COLS] = {0, 34, 100, 142, 200, 250, 300, 400};
    row(user, cells, xs, FP_REPORT_ORIG_COLS, header);
}

static void original(doc *d)
{
    if (!d->in->original || d->in->original->len == 0)
        return;
    heading(d, "The original project's recommendations", 12);
    para(d, fp_report_original_text, BODY_FS, 0);
    fp_report_original_table(d->in, original_row, d);
}

static void body(doc *d)
{
    const fp_report_input *in = d->in;
    page_begin(d);
    summary(d);
    validation(d);
    original(d);

    fp_plot_opts po;
    fp_plot_opts_init(&po);
    po.simulated = in->simulated;
    if (in->objective)
        po.objective = in->objective;
    po.max_slowdown = in->max_slowdown;
    fp_figure f;
    double fw = (PAGE_W - 2 * MARGIN) / 72.0;
    if (in->recs && in->recs->len) {
        new_page(d);
        heading(d, "Overview", 14);
        draw_fig(d, &f, fp_plot_savings(in->recs, &po, &f, NULL), fw, 4.3);
        draw_fig(d, &f, fp_plot_optima(in->agg, in->recs, &po, &f, NULL), fw, 3.4);
    }
    const char *gpus[64];
    size_t ng = fp_report_gpus(in->agg, gpus, 64);
    new_page(d);
    heading(d, "Energy per app and clock", 14);
    for (size_t g = 0; g < ng; g++) {
        po.gpu = gpus[g];
        draw_fig(d, &f, fp_plot_heatmap(in->agg, &po, &f, NULL), fw, 2.8);
    }
    size_t first[1024];
    size_t np = fp_report_pairs(in->agg, first, 1024);
    for (size_t i = 0; i < np; i++) {
        const fp_agg_row *r = &in->agg->rows[first[i]];
        po.gpu = r->gpu;
        po.app = r->app;
        new_page(d);
        char t[160];
        snprintf(t, sizeof t, "%s %s", r->gpu, r->app);
        heading(d, t, 14);
        int model = in->model != NULL;
        double h = model ? 2.7 : 4.0; /* room for the model figure and its note */
        draw_fig(d, &f, fp_plot_sweep(in->agg, in->recs, &po, &f, NULL), 5.5, h);
        draw_fig(d, &f, fp_plot_pareto(in->agg, in->recs, &po, &f, NULL), 5.5, h * 0.8);
        if (model) {
            fp_figure mf;
            fp_status st = fp_plot_model(in->model, &po, &mf, NULL);
            if (st == FP_OK)
                draw_fig(d, &mf, st, 5.5, 3.0);
            for (size_t k = 0; k < in->model->len; k++) {
                const fp_model_curve *c = &in->model->items[k];
                if (!c->clock_bound && !strcmp(c->gpu, r->gpu) && !strcmp(c->app, r->app)) {
                    char t2[400];
                    snprintf(t2, sizeof t2, "Model: %s",
                             c->note[0] ? c->note : "time not explained by the clock");
                    para(d, t2, BODY_FS, 0);
                }
            }
        }
    }
    if (in->serving) {
        new_page(d);
        heading(d, "LLM serving", 14);
        char lines[16][FP_SERVING_LINE];
        size_t nl = fp_report_serving_lines(in->serving, lines, 16);
        for (size_t i = 0; i < nl; i++)
            para(d, lines[i], BODY_FS, i == 0);
        draw_fig(d, &f, fp_plot_serving_energy(in->serving, &po, &f, NULL), 5.5, 3.2);
        draw_fig(d, &f, fp_plot_serving_clock(in->serving, &po, &f, NULL), 5.5, 3.4);
    }
    new_page(d);
    quality(d);
    new_page(d);
    method(d);
    new_page(d);
    reproduce(d);
    page_end(d);
}

static cairo_status_t write_fp(void *closure, const unsigned char *data, unsigned int len)
{
    if (!closure)
        return CAIRO_STATUS_SUCCESS;
    return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static fp_status render(const fp_report_input *in, FILE *fp, int *pages, fp_error *err)
{
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_fp, fp, PAGE_W, PAGE_H);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE,
                                   in->title ? in->title : "freqpilot report");
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "freqpilot");
    doc d = {cairo_create(s), in, 0, 0};
    body(&d);
    cairo_status_t cs = cairo_status(d.cr);
    cairo_destroy(d.cr);
    cairo_surface_finish(s);
    if (cs == CAIRO_STATUS_SUCCESS)
        cs = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (pages)
        *pages = d.page;
    if (cs != CAIRO_STATUS_SUCCESS)
        return fp_error_set(err, FP_ERR_IO, "PDF drawing failed: %s", cairo_status_to_string(cs));
    return FP_OK;
}

int fp_report_pdf_pages(const fp_report_input *in)
{
    int pages = 0;
    if (!in || !in->agg || render(in, NULL, &pages, NULL))
        return -1;
    return pages;
}

fp_status fp_report_write_pdf(const fp_report_input *in, const char *path, int *pages,
                              fp_error *err)
{
    if (!in || !in->agg)
        return fp_error_set(err, FP_ERR_INVALID, "report: no aggregated data");
    fp_atomic_file af;
    fp_status st = fp_atomic_open(&af, path, err);
    if (st)
        return st;
    st = render(in, af.fp, pages, err);
    if (st) {
        fp_atomic_abort(&af);
        return st;
    }
    return fp_atomic_commit(&af, err);
}
