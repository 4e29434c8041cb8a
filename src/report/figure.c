/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The fp_figure API of freqpilot/plot.h: building a figure (panels of series, marks, spans,
 * categories) and writing it to a PNG, SVG or PDF file or an SVG string. How a figure is
 * drawn on a cairo surface is canvas.c's business.
 */
#define _GNU_SOURCE
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "freqpilot/atomic.h"
#include "report/canvas.h"

/* ---- string buffer ---- */

int fp_sbuf_add(fp_sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return -1;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

int fp_sbuf_printf(fp_sbuf *b, const char *fmt, ...)
{
    char stackbuf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof stackbuf)
        return fp_sbuf_add(b, stackbuf, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = fp_sbuf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

void fp_sbuf_free(fp_sbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* ---- figure data ---- */

static const unsigned okabe_ito[FP_C_COUNT_] = {0x000000, 0xE69F00, 0x56B4E9, 0x009E73, 0xF0E442,
                                                0x0072B2, 0xD55E00, 0xCC79A7, 0x999999};

unsigned fp_plot_color(int i)
{
    if (i < 0 || i >= FP_C_COUNT_)
        return okabe_ito[FP_C_GREY];
    return okabe_ito[i];
}

void fp_figure_init(fp_figure *f, const char *kind, const char *title)
{
    memset(f, 0, sizeof *f);
    snprintf(f->kind, sizeof f->kind, "%s", kind ? kind : "");
    snprintf(f->title, sizeof f->title, "%s", title ? title : "");
}

static void free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void fp_figure_free(fp_figure *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->npanels; i++) {
        fp_panel *p = &f->panels[i];
        for (size_t j = 0; j < p->nseries; j++) {
            free(p->series[j].x);
            free(p->series[j].y);
            free(p->series[j].lo);
            free(p->series[j].hi);
            free_strv(p->series[j].labels, p->series[j].labels ? p->series[j].n : 0);
        }
        free(p->series);
        free(p->marks);
        free(p->spans);
        free_strv(p->cats, p->ncats);
        free_strv(p->hm_rowlab, p->hm_rows);
        free(p->hm);
        free(p->hm_colx);
    }
    free(f->panels);
    f->panels = NULL;
    f->npanels = 0;
}

fp_panel *fp_figure_add_panel(fp_figure *f, const char *title, const char *xlabel,
                              const char *ylabel)
{
    fp_panel *np = realloc(f->panels, (f->npanels + 1) * sizeof *np);
    if (!np)
        return NULL;
    f->panels = np;
    fp_panel *p = &np[f->npanels++];
    memset(p, 0, sizeof *p);
    snprintf(p->title, sizeof p->title, "%s", title ? title : "");
    snprintf(p->xlabel, sizeof p->xlabel, "%s", xlabel ? xlabel : "");
    snprintf(p->ylabel, sizeof p->ylabel, "%s", ylabel ? ylabel : "");
    p->ref_y = NAN;
    p->xmin = p->xmax = p->ymin = p->ymax = NAN;
    return p;
}

static double *dup_arr(const double *a, size_t n)
{
    if (!a)
        return NULL;
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (d && n)
        memcpy(d, a, n * sizeof *d);
    return d;
}

fp_series *fp_panel_add_series(fp_panel *p, const char *name, fp_series_kind kind, int color,
                               size_t n, const double *x, const double *y, const double *lo,
                               const double *hi)
{
    fp_series *ns = realloc(p->series, (p->nseries + 1) * sizeof *ns);
    if (!ns)
        return NULL;
    p->series = ns;
    fp_series *s = &ns[p->nseries];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name ? name : "");
    s->kind = kind;
    s->color = color;
    s->n = n;
    s->bar_width = 0.8;
    s->x = dup_arr(x, n);
    s->y = dup_arr(y, n);
    s->lo = dup_arr(lo, n);
    s->hi = dup_arr(hi, n);
    if (!s->x || !s->y || (lo && !s->lo) || (hi && !s->hi)) {
        free(s->x);
        free(s->y);
        free(s->lo);
        free(s->hi);
        return NULL;
    }
    s->band = lo && hi;
    if (kind == FP_SERIES_POINTS || kind == FP_SERIES_LINEPOINTS)
        s->marker = FP_MK_CIRCLE;
    p->nseries++;
    return s;
}

int fp_series_set_labels(fp_series *s, char *const *labels)
{
    char **v = calloc(s->n ? s->n : 1, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        if (labels[i] && !(v[i] = strdup(labels[i]))) {
            free_strv(v, s->n);
            return -1;
        }
    free_strv(s->labels, s->labels ? s->n : 0);
    s->labels = v;
    return 0;
}

int fp_panel_add_mark(fp_panel *p, double x, const char *label, int color)
{
    /* Marks at the same clock share one line and one label ("energy, edp"). */
    for (size_t i = 0; i < p->nmarks; i++) {
        if (fabs(p->marks[i].x - x) < 1e-9) {
            size_t l = strlen(p->marks[i].label);
            if (label && *label && !strstr(p->marks[i].label, label))
                snprintf(p->marks[i].label + l, sizeof p->marks[i].label - l, ", %s", label);
            return 0;
        }
    }
    fp_vmark *nm = realloc(p->marks, (p->nmarks + 1) * sizeof *nm);
    if (!nm)
        return -1;
    p->marks = nm;
    fp_vmark *m = &nm[p->nmarks++];
    m->x = x;
    m->color = color;
    snprintf(m->label, sizeof m->label, "%s", label ? label : "");
    return 0;
}

int fp_panel_add_span(fp_panel *p, double x0, double x1, const char *label)
{
    fp_vspan *ns = realloc(p->spans, (p->nspans + 1) * sizeof *ns);
    if (!ns)
        return -1;
    p->spans = ns;
    ns[p->nspans].x0 = x0;
    ns[p->nspans].x1 = x1;
    snprintf(ns[p->nspans].label, sizeof ns[p->nspans].label, "%s", label ? label : "");
    p->nspans++;
    return 0;
}

int fp_panel_set_cats(fp_panel *p, char *const *cats, size_t n)
{
    char **c = calloc(n ? n : 1, sizeof *c);
    if (!c)
        return -1;
    for (size_t i = 0; i < n; i++) {
        c[i] = strdup(cats[i] ? cats[i] : "");
        if (!c[i]) {
            free_strv(c, i);
            return -1;
        }
    }
    free_strv(p->cats, p->ncats);
    p->cats = c;
    p->ncats = n;
    return 0;
}

const fp_series *fp_figure_series(const fp_figure *f, size_t panel, const char *name)
{
    if (!f || panel >= f->npanels)
        return NULL;
    const fp_panel *p = &f->panels[panel];
    for (size_t i = 0; i < p->nseries; i++)
        if (strcmp(p->series[i].name, name) == 0)
            return &p->series[i];
    return NULL;
}

/* ---- rendering to files ---- */

void fp_render_opts_init(fp_render_opts *o)
{
    o->width_in = 0;
    o->height_in = 0;
    o->dpi = 300;
}

void fp_render_png_size(const fp_figure *f, const fp_render_opts *o, int *w_px, int *h_px)
{
    double w, h;
    fp_canvas_figure_size(f, o, &w, &h);
    double dpi = o && o->dpi > 0 ? o->dpi : 300;
    *w_px = (int)lround(w * dpi);
    *h_px = (int)lround(h * dpi);
}

int fp_plot_format_from_path(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot)
        return -1;
    if (strcasecmp(dot, ".png") == 0)
        return FP_PLOT_PNG;
    if (strcasecmp(dot, ".svg") == 0)
        return FP_PLOT_SVG;
    if (strcasecmp(dot, ".pdf") == 0)
        return FP_PLOT_PDF;
    return -1;
}

static cairo_status_t write_file(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, (FILE *)closure) == len ? CAIRO_STATUS_SUCCESS
                                                        : CAIRO_STATUS_WRITE_ERROR;
}

static cairo_status_t write_sbuf(void *closure, const unsigned char *data, unsigned int len)
{
    return fp_sbuf_add(closure, (const char *)data, len) == 0 ? CAIRO_STATUS_SUCCESS
                                                              : CAIRO_STATUS_NO_MEMORY;
}

static void paint_white(cairo_t *cr)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
}

fp_status fp_figure_render(const fp_figure *f, const char *path, fp_plot_format fmt,
                           const fp_render_opts *o, fp_error *err)
{
    double w_in, h_in;
    fp_canvas_figure_size(f, o, &w_in, &h_in);
    fp_atomic_file af;
    fp_status st = fp_atomic_open(&af, path, err);
    if (st)
        return st;
    cairo_surface_t *surf = NULL;
    double scale = 1;
    if (fmt == FP_PLOT_PNG) {
        int wp, hp;
        fp_render_png_size(f, o, &wp, &hp);
        surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, wp, hp);
        scale = (o && o->dpi > 0 ? o->dpi : 300) / 72.0;
    } else if (fmt == FP_PLOT_SVG) {
        surf = cairo_svg_surface_create_for_stream(write_file, af.fp, w_in * 72, h_in * 72);
    } else {
        surf = cairo_pdf_surface_create_for_stream(write_file, af.fp, w_in * 72, h_in * 72);
    }
    cairo_t *cr = cairo_create(surf);
    cairo_scale(cr, scale, scale);
    if (fmt == FP_PLOT_PNG)
        paint_white(cr);
    fp_canvas_draw_figure(cr, f, w_in * 72, h_in * 72);
    cairo_status_t cs = cairo_status(cr);
    cairo_destroy(cr);
    if (fmt == FP_PLOT_PNG && cs == CAIRO_STATUS_SUCCESS)
        cs = cairo_surface_write_to_png_stream(surf, write_file, af.fp);
    cairo_surface_finish(surf);
    if (cs == CAIRO_STATUS_SUCCESS)
        cs = cairo_surface_status(surf);
    cairo_surface_destroy(surf);
    if (cs != CAIRO_STATUS_SUCCESS) {
        fp_atomic_abort(&af);
        return fp_error_set(err, FP_ERR_IO, "%s: drawing failed: %s", path,
                            cairo_status_to_string(cs));
    }
    return fp_atomic_commit(&af, err);
}

/*
 * Several SVGs inline in one HTML page share one id space: cairo names glyphs and clips
 * "glyph0-1", "clip1", ... in every file, so each figure's ids get a prefix.
 */
static int prefix_ids(const char *in, const char *prefix, fp_sbuf *out)
{
    static const char *const pats[] = {"id=\"", "href=\"#", "url(#"};
    const char *p = in;
    while (*p) {
        size_t best = (size_t)-1;
        int which = -1;
        for (int i = 0; i < 3; i++) {
            const char *q = strstr(p, pats[i]);
            if (q && (size_t)(q - p) < best) {
                best = (size_t)(q - p);
                which = i;
            }
        }
        if (which < 0) {
            fp_sbuf_add(out, p, strlen(p));
            break;
        }
        size_t pl = strlen(pats[which]);
        fp_sbuf_add(out, p, best + pl);
        fp_sbuf_add(out, prefix, strlen(prefix));
        p += best + pl;
    }
    return out->oom ? -1 : 0;
}

fp_status fp_figure_svg(const fp_figure *f, const fp_render_opts *o, const char *id_prefix,
                        char **svg, fp_error *err)
{
    double w_in, h_in;
    fp_canvas_figure_size(f, o, &w_in, &h_in);
    fp_sbuf raw = {0};
    cairo_surface_t *surf =
        cairo_svg_surface_create_for_stream(write_sbuf, &raw, w_in * 72, h_in * 72);
    cairo_t *cr = cairo_create(surf);
    fp_canvas_draw_figure(cr, f, w_in * 72, h_in * 72);
    cairo_destroy(cr);
    cairo_surface_finish(surf);
    cairo_status_t cs = cairo_surface_status(surf);
    cairo_surface_destroy(surf);
    if (cs != CAIRO_STATUS_SUCCESS || raw.oom || !raw.s) {
        fp_sbuf_free(&raw);
        return fp_error_set(err, FP_ERR_NOMEM, "SVG drawing failed: %s",
                            cairo_status_to_string(cs));
    }
    /* Drop the XML declaration: the SVG goes inside an HTML page. */
    const char *start = strstr(raw.s, "<svg");
    fp_sbuf out = {0};
    int rc = prefix_ids(start ? start : raw.s, id_prefix ? id_prefix : "", &out);
    fp_sbuf_free(&raw);
    if (rc) {
        fp_sbuf_free(&out);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    *svg = out.s;
    return FP_OK;
}
