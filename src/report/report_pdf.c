/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * report.pdf: US Letter pages drawn with cairo's PDF surface, in this order: page one (which
 * clock to set per (gpu, app), what the deployable choices add up to and are worth), the
 * workload cards, the validation of the deploy choices, overview figures, heatmaps, one page
 * per (gpu, app), data quality, glossary, method, the appendix of every recommendation, and
 * the command lines. Every page has a footer with its number and, for simulated data, a
 * "SIMULATED DATA" label at the top. Page layout (paragraphs, tables that fit the page,
 * figures) is here; the decision's sections are report_pdf_decide.c.
 */
#define _GNU_SOURCE
#include <cairo-pdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/atomic.h"
#include "freqpilot/glossary.h"
#include "report/canvas.h"
#include "report/report_pdf_int.h"
#include "util/utf8.h"

#define PAGE_W PDF_PAGE_W
#define PAGE_H PDF_PAGE_H
#define MARGIN PDF_MARGIN
#define BODY_FS PDF_BODY_FS

static void page_begin(fp_pdf_doc *d)
{
    cairo_t *cr = d->cr;
    d->page++;
    d->y = MARGIN;
    if (d->ctx->simulated) {
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

static void page_end(fp_pdf_doc *d)
{
    cairo_show_page(d->cr);
}

void fp_pdf_need(fp_pdf_doc *d, double h)
{
    if (d->y + h > PAGE_H - MARGIN) {
        page_end(d);
        page_begin(d);
    }
}

void fp_pdf_new_page(fp_pdf_doc *d)
{
    if (d->y > MARGIN + 1) {
        page_end(d);
        page_begin(d);
    }
}

void fp_pdf_heading(fp_pdf_doc *d, const char *s, double size)
{
    fp_pdf_need(d, size * 3.2);
    fp_canvas_font(d->cr, size, 1);
    cairo_set_source_rgb(d->cr, 0.05, 0.05, 0.05);
    fp_canvas_text(d->cr, MARGIN, d->y, s, 0, 0);
    d->y += size * 1.7;
}

/* ---- wrapping ---- */

typedef struct linev {
    char **v;
    size_t n, cap;
} linev;

static void lines_free(linev *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void lines_push(linev *l, const char *s, size_t n)
{
    while (n && s[n - 1] == ' ')
        n--;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **p = realloc(l->v, cap * sizeof *p);
        if (!p)
            return;
        l->v = p;
        l->cap = cap;
    }
    char *c = strndup(s, n);
    if (c)
        l->v[l->n++] = c;
}

static double width_n(cairo_t *cr, const char *s, size_t n)
{
    char stackbuf[512], *buf = n < sizeof stackbuf ? stackbuf : malloc(n + 1);
    if (!buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    double w = fp_canvas_text_width(cr, buf);
    if (buf != stackbuf)
        free(buf);
    return w;
}

/* Length of the UTF-8 character at s (1 for a byte that starts none). */
static size_t char_len(const char *s)
{
    for (size_t n = 1; n <= 4; n++)
        if (strnlen(s, n) == n && fp_utf8_valid_prefix(s, n) == n)
            return n;
    return 1;
}

/*
 * s wrapped at maxw with the font set on cr: breaks after spaces and after ';' (flag lists),
 * and inside a token only when the token alone is wider than the line.
 */
static void wrap(cairo_t *cr, const char *s, double maxw, linev *out)
{
    const char *line = s, *p = s;
    size_t fit = 0; /* bytes of line known to fit, ending at a break */
    while (*p) {
        const char *e = p;
        while (*e && *e != ' ' && *e != ';')
            e++;
        while (*e == ' ' || *e == ';')
            e++;
        size_t trial = (size_t)(e - line);
        if (width_n(cr, line, trial) <= maxw || (fit == 0 && e == p)) {
            fit = trial;
            p = e;
            continue;
        }
        if (fit > 0) {
            lines_push(out, line, fit);
            line += fit;
            while (*line == ' ')
                line++;
            p = line;
            fit = 0;
            continue;
        }
        /* one token wider than the line: cut it by characters */
        size_t k = 0;
        while (line[k] && line + k < e) {
            size_t cl = char_len(line + k);
            if (k > 0 && width_n(cr, line, k + cl) > maxw)
                break;
            k += cl;
        }
        lines_push(out, line, k);
        line += k;
        p = line;
    }
    if (*line)
        lines_push(out, line, strlen(line));
    if (out->n == 0)
        lines_push(out, "", 0);
}

void fp_pdf_para_at(fp_pdf_doc *d, const char *s, double fs, int bold, double indent, int grey)
{
    cairo_t *cr = d->cr;
    fp_canvas_font(cr, fs, bold);
    double lh = fs * 1.35;
    linev l = {0};
    wrap(cr, s, PAGE_W - 2 * MARGIN - indent, &l);
    for (size_t i = 0; i < l.n; i++) {
        fp_pdf_need(d, lh);
        fp_canvas_font(cr, fs, bold);
        double g = grey ? 0.35 : 0.1;
        cairo_set_source_rgb(cr, g, g, g);
        fp_canvas_text(cr, MARGIN + indent, d->y, l.v[i], 0, 0);
        d->y += lh;
    }
    lines_free(&l);
    d->y += fs * 0.5;
}

/* ---- tables ---- */

typedef struct tlayout {
    double fs, lh, pad;
    double w[32]; /* column widths */
} tlayout;

/* The widest piece of s that wrap() never breaks: between spaces, or after ';'. */
static double widest_token(cairo_t *cr, const char *s, int after_semicolon)
{
    double w = 0;
    while (*s) {
        const char *e = s;
        while (*e && *e != ' ' && !(after_semicolon && *e == ';'))
            e++;
        if (after_semicolon && *e == ';')
            e++;
        w = fmax(w, width_n(cr, s, (size_t)(e - s)));
        s = e;
        while (*s == ' ')
            s++;
    }
    return w;
}

/*
 * Column widths. Each column has a natural width (its widest cell, or its header when wider
 * than every cell's words) and a least one (its header's longest word and, where the column
 * may not wrap, its widest cell; where it may, its widest unbreakable piece, up to 80 pt). All
 * natural widths fit: they are used, headers unwrapped where there is room. Else the least
 * widths fit: what is left goes to the columns in proportion to how much they lack. Else the
 * font shrinks, down to 5.5 pt, where the least widths are scaled to the page.
 */
static void layout(cairo_t *cr, const fp_pdf_table *t, char *const *cells, size_t nrows, tlayout *L)
{
    double avail = PAGE_W - 2 * MARGIN, nat[32], minw[32];
    for (L->fs = t->fs > 0 ? t->fs : 7.5;; L->fs -= 0.5) {
        L->pad = L->fs * 0.8;
        double sumnat = 0, summin = 0;
        for (size_t c = 0; c < t->ncol; c++) {
            int wraps = t->wrap && t->wrap[c];
            fp_canvas_font(cr, L->fs, 1);
            double hw = widest_token(cr, t->head[c], 0);
            fp_canvas_font(cr, L->fs, 0);
            double cw = 0, tok = 0;
            for (size_t r = 0; r < nrows; r++) {
                const char *cell = cells[r * t->ncol + c];
                cw = fmax(cw, fp_canvas_text_width(cr, cell));
                if (wraps)
                    tok = fmax(tok, widest_token(cr, cell, 1));
            }
            nat[c] = fmax(cw, hw) + L->pad;
            minw[c] = fmax(hw, wraps ? fmin(tok, 80) : cw) + L->pad;
            sumnat += nat[c];
            summin += minw[c];
        }
        if (sumnat <= avail) {
            /* room to spare: headers need not wrap */
            double extra = avail - sumnat;
            for (size_t c = 0; c < t->ncol; c++) {
                fp_canvas_font(cr, L->fs, 1);
                double hfull = fp_canvas_text_width(cr, t->head[c]) + L->pad;
                double add = fmin(extra, fmax(0, hfull - nat[c]));
                L->w[c] = nat[c] + add;
                extra -= add;
            }
            return;
        }
        if (summin <= avail) {
            double lack = sumnat - summin, extra = avail - summin;
            for (size_t c = 0; c < t->ncol; c++)
                L->w[c] = minw[c] + (lack > 0 ? extra * (nat[c] - minw[c]) / lack : 0);
            return;
        }
        if (L->fs <= 5.5)
            break;
    }
    for (size_t c = 0; c < t->ncol; c++)
        L->w[c] = 0;
    double summin = 0;
    for (size_t c = 0; c < t->ncol; c++)
        summin += minw[c];
    for (size_t c = 0; c < t->ncol; c++)
        L->w[c] = minw[c] * avail / summin;
}

/* Draws one row of cells (lines already wrapped) at d->y; returns its height. */
static double draw_row(fp_pdf_doc *d, const fp_pdf_table *t, const tlayout *L, linev *cl,
                       int header, const int *color, int measure)
{
    cairo_t *cr = d->cr;
    size_t nl = 1;
    for (size_t c = 0; c < t->ncol; c++)
        nl = cl[c].n > nl ? cl[c].n : nl;
    double h = (double)nl * L->lh + 2;
    if (measure)
        return h;
    if (header) {
        cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
        cairo_rectangle(cr, MARGIN, d->y - 2, PAGE_W - 2 * MARGIN, h);
        cairo_fill(cr);
    }
    double x = MARGIN;
    for (size_t c = 0; c < t->ncol; c++) {
        fp_canvas_font(cr, L->fs, header);
        if (!header && color && color[c] >= 0)
            fp_canvas_set_color(cr, color[c], 1);
        else
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        int right = !header && t->right && t->right[c];
        for (size_t k = 0; k < cl[c].n; k++)
            fp_canvas_text(cr, right ? x + L->w[c] - L->pad / 2 : x + L->pad / 4,
                           d->y + (double)k * L->lh, cl[c].v[k], right ? 1 : 0, 0);
        x += L->w[c];
    }
    return h;
}

/* The thin line under a row (and its note). */
static void rule_below(fp_pdf_doc *d)
{
    cairo_set_source_rgb(d->cr, 0.85, 0.85, 0.85);
    cairo_set_line_width(d->cr, 0.3);
    cairo_move_to(d->cr, MARGIN, d->y - 2.5);
    cairo_line_to(d->cr, PAGE_W - MARGIN, d->y - 2.5);
    cairo_stroke(d->cr);
}

static void wrap_cells(fp_pdf_doc *d, const fp_pdf_table *t, const tlayout *L,
                       const char *const *cells, int header, linev *cl)
{
    for (size_t c = 0; c < t->ncol; c++) {
        memset(&cl[c], 0, sizeof cl[c]);
        fp_canvas_font(d->cr, L->fs, header);
        wrap(d->cr, cells[c], L->w[c] - L->pad / 2, &cl[c]);
    }
}

static void free_cells(const fp_pdf_table *t, linev *cl)
{
    for (size_t c = 0; c < t->ncol; c++)
        lines_free(&cl[c]);
}

static void header_row(fp_pdf_doc *d, const fp_pdf_table *t, const tlayout *L)
{
    linev cl[32];
    wrap_cells(d, t, L, t->head, 1, cl);
    d->y += draw_row(d, t, L, cl, 1, NULL, 0) + 1;
    free_cells(t, cl);
}

void fp_pdf_table_draw(fp_pdf_doc *d, const fp_pdf_table *t, char *const *cells, size_t nrows,
                       const char *const *notes, const int *color)
{
    if (t->ncol == 0 || t->ncol > 32)
        return;
    tlayout L;
    memset(&L, 0, sizeof L);
    layout(d->cr, t, cells, nrows, &L);
    L.lh = L.fs * 1.3;
    linev hl[32];
    wrap_cells(d, t, &L, t->head, 1, hl);
    double hh = draw_row(d, t, &L, hl, 1, NULL, 1) + 1;
    free_cells(t, hl);
    fp_pdf_need(d, hh + 2 * L.lh);
    header_row(d, t, &L);
    for (size_t r = 0; r < nrows; r++) {
        linev cl[32];
        wrap_cells(d, t, &L, (const char *const *)&cells[r * t->ncol], 0, cl);
        double h = draw_row(d, t, &L, cl, 0, NULL, 1);
        linev nl = {0};
        double nh = 0, nfs = L.fs - 0.5;
        if (notes && notes[r] && notes[r][0]) {
            fp_canvas_font(d->cr, nfs, 0);
            wrap(d->cr, notes[r], PAGE_W - 2 * MARGIN - 14, &nl);
            nh = (double)nl.n * nfs * 1.3 + 1;
        }
        int page = d->page;
        fp_pdf_need(d, h + nh);
        if (d->page != page)
            header_row(d, t, &L);
        draw_row(d, t, &L, cl, 0, color ? &color[r * t->ncol] : NULL, 0);
        free_cells(t, cl);
        d->y += h;
        if (nh > 0) {
            d->y -= 1.5;
            fp_canvas_font(d->cr, nfs, 0);
            cairo_set_source_rgb(d->cr, 0.35, 0.35, 0.35);
            for (size_t k = 0; k < nl.n; k++) {
                fp_canvas_text(d->cr, MARGIN + 14, d->y, nl.v[k], 0, 0);
                d->y += nfs * 1.3;
            }
            d->y += 2.5;
        }
        rule_below(d);
        lines_free(&nl);
    }
    d->y += 6;
}

double fp_pdf_figure(fp_pdf_doc *d, fp_figure *f, fp_status st, double w_in, double h_in,
                     double x_pt, int advance)
{
    if (st) {
        fp_figure_free(f);
        return 0;
    }
    fp_render_opts ro;
    fp_render_opts_init(&ro);
    ro.width_in = w_in;
    ro.height_in = h_in;
    double w, h;
    fp_canvas_figure_size(f, &ro, &w, &h);
    w *= 72;
    h *= 72;
    fp_pdf_need(d, h + 6);
    cairo_save(d->cr);
    cairo_translate(d->cr, x_pt < 0 ? (PAGE_W - w) / 2 : MARGIN + x_pt, d->y);
    fp_canvas_draw_figure(d->cr, f, w, h);
    cairo_restore(d->cr);
    if (advance)
        d->y += h + 10;
    fp_figure_free(f);
    return h;
}

#define heading fp_pdf_heading
#define para fp_pdf_para
#define new_page fp_pdf_new_page
#define draw_fig(d, f, st, w, h) fp_pdf_figure(d, f, st, w, h, -1, 1)

/* ---- the document's other sections ---- */

static void front(fp_pdf_doc *d)
{
    const fp_report_input *in = d->in;
    heading(d, in->title ? in->title : "freqpilot report", 16);
    if (d->ctx->simulated)
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
             "%zu GPU(s), %zu (GPU, app) pairs, %zu clock rows, %zu dropped runs, %zu "
             "findings.%s%s",
             ng, np, in->agg->nrows, in->agg->dropped.len, in->agg->nfindings,
             in->generated_utc ? " Generated " : "", in->generated_utc ? in->generated_utc : "");
    fp_pdf_para_at(d, buf, 8, 0, 0, 1);
}

static void quality(fp_pdf_doc *d)
{
    const fp_agg_result *a = d->in->agg;
    heading(d, "Data quality", 14);
    para(d,
         "Every finding, flagged clock and dropped run below affects how far the numbers can "
         "be trusted; the Glossary says what each flag means.",
         BODY_FS, 0);
    heading(d, "Findings per (GPU, app)", 11);
    if (!a->nfindings)
        para(d, "None.", BODY_FS, 0);
    for (size_t i = 0; i < a->nfindings; i++) {
        const fp_agg_finding *f = &a->findings[i];
        unsigned bit = 0;
        while (bit < 31 && !(f->flag & (1u << bit)))
            bit++;
        char *buf = NULL;
        if (asprintf(&buf, "%s %s: %s - %s. %s", f->gpu, f->app, fp_flag_name(1u << bit),
                     fp_glossary_text(fp_flag_name(1u << bit)), f->detail) >= 0) {
            para(d, buf, 8, 0);
            free(buf);
        }
    }
    heading(d, "Flagged clocks", 11);
    static const char *const hdr[] = {"GPU", "App", "Clock (MHz)", "Kept", "Dropped", "Flags"};
    static const int fwrap[] = {0, 1, 0, 0, 0, 1}, fright[] = {0, 0, 1, 1, 1, 0};
    size_t nflag = 0;
    for (size_t i = 0; i < a->nrows; i++)
        nflag += a->rows[i].flags != 0;
    if (!nflag) {
        para(d, "No clock row carries a flag.", BODY_FS, 0);
    } else {
        char **cells = calloc(nflag * 6, sizeof *cells);
        size_t k = 0;
        for (size_t i = 0; cells && i < a->nrows; i++) {
            const fp_agg_row *r = &a->rows[i];
            if (!r->flags)
                continue;
            char fl[512];
            fp_flags_format(r->flags, fl, sizeof fl);
            if (asprintf(&cells[k * 6 + 2], "%.0f", r->freq_mhz) < 0 ||
                asprintf(&cells[k * 6 + 3], "%d", r->runs) < 0 ||
                asprintf(&cells[k * 6 + 4], "%d", r->runs_dropped) < 0)
                break;
            cells[k * 6] = strdup(r->gpu);
            cells[k * 6 + 1] = strdup(r->app);
            cells[k * 6 + 5] = strdup(fl);
            k++;
        }
        int ok = cells != NULL;
        for (size_t i = 0; ok && i < k * 6; i++)
            ok = cells[i] != NULL;
        if (ok) {
            fp_pdf_table t = {6, hdr, fwrap, fright, 7.5};
            fp_pdf_table_draw(d, &t, cells, k, NULL, NULL);
        }
        for (size_t i = 0; cells && i < nflag * 6; i++)
            free(cells[i]);
        free(cells);
    }
    heading(d, "Dropped runs", 11);
    static const char *const dh[] = {"GPU",      "App",        "Clock (MHz)", "Sweep position",
                                     "Time (s)", "Energy (J)", "Reason"};
    static const int dwrap[] = {0, 1, 0, 0, 0, 0, 1}, dright[] = {0, 0, 1, 1, 1, 1, 0};
    size_t nd = a->dropped.len;
    if (!nd) {
        para(d, "No run was dropped.", BODY_FS, 0);
        return;
    }
    char **cells = calloc(nd * 7, sizeof *cells);
    int ok = cells != NULL;
    for (size_t i = 0; ok && i < nd; i++) {
        const fp_run *r = &a->dropped.items[i];
        char fl[256];
        fp_flags_format(r->flags &
                            (FP_FLAG_COLD_START_DROPPED | FP_FLAG_OUTLIER_DROPPED | FP_FLAG_FAILED),
                        fl, sizeof fl);
        char **c = &cells[i * 7];
        ok = asprintf(&c[2], "%.0f", r->freq_mhz) >= 0 &&
             asprintf(&c[3], "%ld", r->run_index) >= 0 && asprintf(&c[4], "%.2f", r->time_s) >= 0 &&
             asprintf(&c[5], "%.1f", r->energy_j) >= 0;
        if (!ok)
            c[2] = c[3] = c[4] = c[5] = NULL;
        c[0] = strdup(r->gpu);
        c[1] = strdup(r->app);
        c[6] = strdup(fl);
        ok = ok && c[0] && c[1] && c[6];
    }
    if (ok) {
        fp_pdf_table t = {7, dh, dwrap, dright, 7.5};
        fp_pdf_table_draw(d, &t, cells, nd, NULL, NULL);
    }
    for (size_t i = 0; cells && i < nd * 7; i++)
        free(cells[i]);
    free(cells);
}

static void method(fp_pdf_doc *d)
{
    heading(d, "Method", 14);
    const char *p = fp_report_method_text;
    while (*p) {
        const char *e = strstr(p, "\n\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *buf = strndup(p, n);
        if (buf) {
            para(d, buf, BODY_FS, 0);
            free(buf);
        }
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

static void reproduce(fp_pdf_doc *d)
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
typedef struct orig_rows {
    char **cells;
    size_t n, cap;
    const char *const *head;
} orig_rows;

static void original_row(void *user, const char *const *cells, int header)
{
    orig_rows *o = user;
    if (header) {
        o->head = cells;
        return;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 16;
        char **p = realloc(o->cells, cap * FP_REPORT_ORIG_COLS * sizeof *p);
        if (!p)
            return;
        o->cells = p;
        o->cap = cap;
    }
    for (int i = 0; i < FP_REPORT_ORIG_COLS; i++)
        o->cells[o->n * FP_REPORT_ORIG_COLS + i] = strdup(cells[i] ? cells[i] : "");
    o->n++;
}

static void original(fp_pdf_doc *d)
{
    if (!d->in->original || d->in->original->len == 0)
        return;
    heading(d, "The original project's recommendations", 12);
    para(d, fp_report_original_text, BODY_FS, 0);
    orig_rows o = {0};
    fp_report_original_table(d->in, original_row, &o);
    int ok = o.head != NULL;
    for (size_t i = 0; ok && i < o.n * FP_REPORT_ORIG_COLS; i++)
        ok = o.cells[i] != NULL;
    static const int wrap[FP_REPORT_ORIG_COLS] = {0, 1, 0, 0, 0, 0, 1, 0};
    static const int right[FP_REPORT_ORIG_COLS] = {0, 0, 0, 1, 1, 1, 1, 1};
    if (ok) {
        fp_pdf_table t = {FP_REPORT_ORIG_COLS, o.head, wrap, right, 7.5};
        fp_pdf_table_draw(d, &t, o.cells, o.n, NULL, NULL);
    }
    for (size_t i = 0; i < o.n * FP_REPORT_ORIG_COLS; i++)
        free(o.cells[i]);
    free(o.cells);
}

static void body(fp_pdf_doc *d)
{
    const fp_report_input *in = d->in;
    const fp_report_ctx *ctx = d->ctx;
    page_begin(d);
    front(d);
    fp_pdf_decision(d);
    fp_pdf_cards(d);
    fp_pdf_validation(d);
    original(d);

    fp_plot_opts po;
    fp_plot_opts_init(&po);
    po.simulated = ctx->simulated;
    if (in->objective)
        po.objective = in->objective;
    po.max_slowdown = in->max_slowdown;
    po.constraints = in->constraints;
    fp_figure f;
    double fw = (PAGE_W - 2 * MARGIN) / 72.0;
    if (in->recs && in->recs->len && !ctx->nothing) {
        new_page(d);
        heading(d, "Overview", 14);
        draw_fig(d, &f, fp_plot_savings(in->recs, &po, &f, NULL), fw, 4.3);
        draw_fig(d, &f, fp_plot_optima(in->agg, in->recs, &po, &f, NULL), fw, 0);
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
        char *t = NULL;
        if (asprintf(&t, "%s %s", r->gpu, r->app) >= 0) {
            heading(d, t, 14);
            free(t);
        }
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
    fp_pdf_glossary(d);
    new_page(d);
    method(d);
    new_page(d);
    fp_pdf_appendix(d);
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
    fp_report_ctx ctx;
    fp_status st = fp_report_ctx_init(&ctx, in, err);
    if (st)
        return st;
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_fp, fp, PAGE_W, PAGE_H);
    char title[320];
    fp_utf8_sanitize(title, sizeof title, in->title ? in->title : "freqpilot report");
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "freqpilot");
    fp_pdf_doc d = {cairo_create(s), in, &ctx, 0, 0};
    body(&d);
    cairo_status_t cs = cairo_status(d.cr);
    cairo_destroy(d.cr);
    cairo_surface_finish(s);
    if (cs == CAIRO_STATUS_SUCCESS)
        cs = cairo_surface_status(s);
    cairo_surface_destroy(s);
    fp_report_ctx_free(&ctx);
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
