/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The drawing layer: an fp_figure (panels of series, marks, spans, heatmaps) drawn with cairo
 * on any surface. Sizes are in points and chosen to stay readable when the figure is printed
 * one paper column wide (3.5 in): 7 pt text, 6.5 pt tick labels. The legend and the labels of
 * chosen clocks sit outside the plot area, so they never cover data. Building figures and
 * writing them to files is figure.c.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/canvas.h"
#include "util/utf8.h"

#define FS_TEXT 7.0
#define FS_TICK 6.5
#define FS_TITLE 8.0
#define FS_MARK 5.5

/* ---- text ---- */

void fp_canvas_font(cairo_t *cr, double size_pt, int bold)
{
    cairo_select_font_face(cr, FP_FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size_pt);
}

/*
 * cairo puts the whole surface in an error state on a string that is not valid UTF-8 (a name
 * from a Latin-1 file, or cut inside a character), and the PDF is lost. Such text is drawn
 * with '?' for the bytes that are not UTF-8; valid text is drawn as it is.
 */
static const char *drawable(const char *s, char **tmp)
{
    *tmp = NULL;
    if (fp_utf8_valid(s))
        return s;
    size_t n = strlen(s) + 1;
    *tmp = malloc(n);
    if (!*tmp)
        return "?";
    return fp_utf8_sanitize(*tmp, n, s);
}

double fp_canvas_text_width(cairo_t *cr, const char *s)
{
    char *tmp;
    cairo_text_extents_t te;
    cairo_text_extents(cr, drawable(s, &tmp), &te);
    free(tmp);
    return te.x_advance;
}

void fp_canvas_text(cairo_t *cr, double x, double y, const char *s, double ha, double va)
{
    char *tmp;
    s = drawable(s, &tmp);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    double w = fp_canvas_text_width(cr, s);
    /* va: 0 top of the ascent, 0.5 middle of the cap height, 1 baseline. */
    double dy = va >= 1 ? 0 : va >= 0.5 ? fe.ascent * 0.36 : fe.ascent * 0.8;
    cairo_move_to(cr, x - w * ha, y + dy);
    cairo_show_text(cr, s);
    cairo_new_path(cr);
    free(tmp);
}

void fp_canvas_set_color(cairo_t *cr, int i, double alpha)
{
    unsigned c = fp_plot_color(i);
    cairo_set_source_rgba(cr, ((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0,
                          (c & 255) / 255.0, alpha);
}

/* Draws a multi-line string ('\n'), lines centred on x, first line top at y. */
static double text_lines(cairo_t *cr, double x, double y, const char *s, double ha, int draw)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    double lh = fe.height * 0.95, wmax = 0;
    char *save = NULL;
    int i = 0;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
        double w = fp_canvas_text_width(cr, line);
        if (w > wmax)
            wmax = w;
        if (draw)
            fp_canvas_text(cr, x, y + i * lh, line, ha, 0);
    }
    return draw ? i * lh : wmax;
}

/* ---- ticks ---- */

static double nice_num(double x, int round_it)
{
    double e = floor(log10(x)), f = x / pow(10, e), nf;
    if (round_it)
        nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10, e);
}

typedef struct axis {
    double lo, hi, step;
    int percent;
} axis;

static void axis_nice(axis *a, double lo, double hi, int nticks)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo < 1e-12 * (fabs(hi) + 1)) {
        double d = fabs(lo) * 0.05 + 1e-9;
        lo -= d;
        hi += d;
    }
    double range = nice_num(hi - lo, 0);
    a->step = nice_num(range / (nticks - 1), 1);
    a->lo = lo;
    a->hi = hi;
}

static void fmt_tick(char *buf, size_t n, double v, double step, int percent)
{
    if (percent) {
        v *= 100;
        step *= 100;
    }
    if (fabs(v) < step * 1e-6)
        v = 0;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6)
        dec = 6;
    if (fabs(v) >= 1e5 || (fabs(v) > 0 && fabs(v) < 1e-4))
        snprintf(buf, n, "%.2g", v);
    else
        snprintf(buf, n, "%.*f", dec, v);
    if (percent)
        strncat(buf, "%", n - strlen(buf) - 1);
}

/* ---- layout ---- */

typedef struct legend_entry {
    const fp_series *s;
} legend_entry;

static size_t collect_legend(const fp_figure *f, legend_entry *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < f->npanels; i++)
        for (size_t j = 0; j < f->panels[i].nseries; j++) {
            const fp_series *s = &f->panels[i].series[j];
            if (!s->name[0])
                continue;
            int dup = 0;
            for (size_t k = 0; k < n; k++)
                if (strcmp(out[k].s->name, s->name) == 0)
                    dup = 1;
            if (!dup && n < cap)
                out[n++].s = s;
        }
    return n;
}

static void draw_marker(cairo_t *cr, int marker, double x, double y, double r)
{
    switch (marker) {
    case FP_MK_SQUARE:
        cairo_rectangle(cr, x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
        break;
    case FP_MK_TRIANGLE:
        cairo_move_to(cr, x, y - r * 1.1);
        cairo_line_to(cr, x + r, y + r * 0.8);
        cairo_line_to(cr, x - r, y + r * 0.8);
        cairo_close_path(cr);
        break;
    case FP_MK_DIAMOND:
        cairo_move_to(cr, x, y - r * 1.2);
        cairo_line_to(cr, x + r, y);
        cairo_line_to(cr, x, y + r * 1.2);
        cairo_line_to(cr, x - r, y);
        cairo_close_path(cr);
        break;
    case FP_MK_STAR:
        for (int k = 0; k < 10; k++) {
            double a = -M_PI / 2 + k * M_PI / 5, rr = (k % 2) ? r * 0.6 : r * 1.5;
            if (k == 0)
                cairo_move_to(cr, x + rr * cos(a), y + rr * sin(a));
            else
                cairo_line_to(cr, x + rr * cos(a), y + rr * sin(a));
        }
        cairo_close_path(cr);
        break;
    case FP_MK_NONE:
        return;
    default:
        cairo_arc(cr, x, y, r, 0, 2 * M_PI);
        break;
    }
}

static void stroke_style(cairo_t *cr, const fp_series *s)
{
    fp_canvas_set_color(cr, s->color, 1);
    cairo_set_line_width(cr, 1.1);
    if (s->dashed) {
        double d[] = {3.0, 1.6};
        cairo_set_dash(cr, d, 2, 0);
    } else {
        cairo_set_dash(cr, NULL, 0, 0);
    }
}

static void legend_swatch(cairo_t *cr, const fp_series *s, double x, double y)
{
    if (s->kind == FP_SERIES_BARS || s->kind == FP_SERIES_RANGE) {
        fp_canvas_set_color(cr, s->kind == FP_SERIES_RANGE ? FP_C_GREY : s->color,
                            s->kind == FP_SERIES_RANGE ? 0.45 : 1);
        cairo_rectangle(cr, x + 2, y - 3, 8, 6);
        cairo_fill(cr);
        return;
    }
    if (s->kind == FP_SERIES_LINE || s->kind == FP_SERIES_LINEPOINTS) {
        if (s->band) {
            fp_canvas_set_color(cr, s->color, 0.22);
            cairo_rectangle(cr, x, y - 3, 12, 6);
            cairo_fill(cr);
        }
        stroke_style(cr, s);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + 12, y);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    if (s->marker) {
        fp_canvas_set_color(cr, s->color, 1);
        draw_marker(cr, s->marker, x + 6, y, s->kind == FP_SERIES_POINTS ? 2.2 : 1.6);
        cairo_fill(cr);
    }
}

/* Lays out (draw=0) or draws the legend in rows across width w from y; returns its height. */
static double legend(cairo_t *cr, const fp_figure *f, double x0, double y, double w, int draw)
{
    legend_entry e[64];
    size_t n = collect_legend(f, e, 64);
    if (n == 0)
        return 0;
    fp_canvas_font(cr, FS_TEXT, 0);
    double rowh = 9.5, x = x0, h = rowh;
    for (size_t i = 0; i < n; i++) {
        double ew = 15 + fp_canvas_text_width(cr, e[i].s->name) + 8;
        if (x > x0 && x + ew > x0 + w) {
            x = x0;
            y += rowh;
            h += rowh;
        }
        if (draw) {
            legend_swatch(cr, e[i].s, x, y + rowh / 2);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            fp_canvas_text(cr, x + 15, y + rowh / 2, e[i].s->name, 0, 0.5);
        }
        x += ew;
    }
    return h + 2;
}

typedef struct frame {
    double x, y, w, h; /* plot area in points */
    axis ax, ay;
    int xcat;
} frame;

static double fx(const frame *fr, double v)
{
    return fr->x + (v - fr->ax.lo) / (fr->ax.hi - fr->ax.lo) * fr->w;
}
static double fy(const frame *fr, double v)
{
    return fr->y + fr->h - (v - fr->ay.lo) / (fr->ay.hi - fr->ay.lo) * fr->h;
}

static void grow(double *lo, double *hi, double v)
{
    if (!isfinite(v))
        return;
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

static void panel_ranges(const fp_panel *p, double *xlo, double *xhi, double *ylo, double *yhi)
{
    *xlo = *ylo = INFINITY;
    *xhi = *yhi = -INFINITY;
    for (size_t i = 0; i < p->nseries; i++) {
        const fp_series *s = &p->series[i];
        for (size_t k = 0; k < s->n; k++) {
            double x = s->x[k];
            if (s->kind == FP_SERIES_BARS) {
                grow(xlo, xhi, x + s->bar_offset - s->bar_width / 2);
                grow(xlo, xhi, x + s->bar_offset + s->bar_width / 2);
                grow(ylo, yhi, 0);
            } else {
                grow(xlo, xhi, x);
            }
            if (s->kind != FP_SERIES_RANGE)
                grow(ylo, yhi, s->y[k]);
            if (s->lo)
                grow(ylo, yhi, s->lo[k]);
            if (s->hi)
                grow(ylo, yhi, s->hi[k]);
        }
    }
    for (size_t i = 0; i < p->nmarks; i++)
        grow(xlo, xhi, p->marks[i].x);
    for (size_t i = 0; i < p->nspans; i++) {
        grow(xlo, xhi, p->spans[i].x0);
        grow(xlo, xhi, p->spans[i].x1);
    }
    if (p->hm && p->hm_cols) {
        for (size_t c = 0; c < p->hm_cols; c++)
            grow(xlo, xhi, p->hm_colx[c]);
        grow(ylo, yhi, -0.5);
        grow(ylo, yhi, (double)p->hm_rows - 0.5);
    }
    grow(ylo, yhi, p->ref_y);
    if (p->y_from_zero)
        grow(ylo, yhi, 0);
    if (p->ncats) {
        grow(xlo, xhi, -0.5);
        grow(xlo, xhi, (double)p->ncats - 0.5);
    }
}

/* viridis, sampled: a perceptually uniform, colour-blind-safe sequential scale. */
static void viridis(double t, double *r, double *g, double *b)
{
    static const double v[9][3] = {
        {0.267, 0.005, 0.329}, {0.278, 0.175, 0.483}, {0.230, 0.322, 0.546},
        {0.173, 0.449, 0.558}, {0.128, 0.567, 0.551}, {0.153, 0.680, 0.504},
        {0.369, 0.789, 0.383}, {0.678, 0.864, 0.190}, {0.993, 0.906, 0.144}};
    if (!(t >= 0))
        t = 0;
    if (t > 1)
        t = 1;
    double p = t * 8;
    int i = (int)p;
    if (i >= 8)
        i = 7;
    double u = p - i;
    *r = v[i][0] + u * (v[i + 1][0] - v[i][0]);
    *g = v[i][1] + u * (v[i + 1][1] - v[i][1]);
    *b = v[i][2] + u * (v[i + 1][2] - v[i][2]);
}

static void draw_series(cairo_t *cr, const frame *fr, const fp_series *s)
{
    if (s->kind == FP_SERIES_RANGE) {
        fp_canvas_set_color(cr, FP_C_GREY, 0.35);
        for (size_t k = 0; k < s->n; k++) {
            if (!s->lo || !s->hi || !isfinite(s->lo[k]) || !isfinite(s->hi[k]))
                continue;
            double x = fx(fr, s->x[k]);
            cairo_rectangle(cr, x - 3, fy(fr, s->hi[k]), 6, fy(fr, s->lo[k]) - fy(fr, s->hi[k]));
        }
        cairo_fill(cr);
        return;
    }
    if (s->kind == FP_SERIES_BARS) {
        fp_canvas_set_color(cr, s->color, 1);
        for (size_t k = 0; k < s->n; k++) {
            if (!isfinite(s->y[k]))
                continue;
            double x0 = fx(fr, s->x[k] + s->bar_offset - s->bar_width / 2);
            double x1 = fx(fr, s->x[k] + s->bar_offset + s->bar_width / 2);
            double y0 = fy(fr, 0), y1 = fy(fr, s->y[k]);
            cairo_rectangle(cr, x0, fmin(y0, y1), x1 - x0, fabs(y1 - y0));
        }
        cairo_fill(cr);
        if (s->band) {
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            cairo_set_line_width(cr, 0.7);
            for (size_t k = 0; k < s->n; k++) {
                if (!isfinite(s->lo[k]) || !isfinite(s->hi[k]))
                    continue;
                double x = fx(fr, s->x[k] + s->bar_offset);
                double ww = (fx(fr, s->bar_width) - fx(fr, 0)) * 0.2;
                cairo_move_to(cr, x, fy(fr, s->lo[k]));
                cairo_line_to(cr, x, fy(fr, s->hi[k]));
                cairo_move_to(cr, x - ww, fy(fr, s->lo[k]));
                cairo_line_to(cr, x + ww, fy(fr, s->lo[k]));
                cairo_move_to(cr, x - ww, fy(fr, s->hi[k]));
                cairo_line_to(cr, x + ww, fy(fr, s->hi[k]));
            }
            cairo_stroke(cr);
        }
        return;
    }
    int is_line = s->kind == FP_SERIES_LINE || s->kind == FP_SERIES_LINEPOINTS;
    if (s->band && is_line) {
        /* Shaded interval band, split at gaps. */
        fp_canvas_set_color(cr, s->color, 0.2);
        size_t k = 0;
        while (k < s->n) {
            while (k < s->n && !(isfinite(s->lo[k]) && isfinite(s->hi[k]) && isfinite(s->x[k])))
                k++;
            size_t a = k;
            while (k < s->n && isfinite(s->lo[k]) && isfinite(s->hi[k]) && isfinite(s->x[k]))
                k++;
            if (k - a >= 2) {
                cairo_move_to(cr, fx(fr, s->x[a]), fy(fr, s->hi[a]));
                for (size_t j = a + 1; j < k; j++)
                    cairo_line_to(cr, fx(fr, s->x[j]), fy(fr, s->hi[j]));
                for (size_t j = k; j-- > a;)
                    cairo_line_to(cr, fx(fr, s->x[j]), fy(fr, s->lo[j]));
                cairo_close_path(cr);
                cairo_fill(cr);
            }
        }
    }
    if (is_line) {
        stroke_style(cr, s);
        int pen = 0;
        for (size_t k = 0; k < s->n; k++) {
            if (!isfinite(s->x[k]) || !isfinite(s->y[k])) {
                pen = 0;
                continue;
            }
            if (pen)
                cairo_line_to(cr, fx(fr, s->x[k]), fy(fr, s->y[k]));
            else
                cairo_move_to(cr, fx(fr, s->x[k]), fy(fr, s->y[k]));
            pen = 1;
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    if (s->band && !is_line) {
        fp_canvas_set_color(cr, s->color, 0.9);
        cairo_set_line_width(cr, 0.7);
        for (size_t k = 0; k < s->n; k++) {
            if (!isfinite(s->lo[k]) || !isfinite(s->hi[k]) || !isfinite(s->x[k]))
                continue;
            double x = fx(fr, s->x[k]);
            cairo_move_to(cr, x, fy(fr, s->lo[k]));
            cairo_line_to(cr, x, fy(fr, s->hi[k]));
            cairo_move_to(cr, x - 1.5, fy(fr, s->lo[k]));
            cairo_line_to(cr, x + 1.5, fy(fr, s->lo[k]));
            cairo_move_to(cr, x - 1.5, fy(fr, s->hi[k]));
            cairo_line_to(cr, x + 1.5, fy(fr, s->hi[k]));
        }
        cairo_stroke(cr);
    }
    if (s->marker) {
        double r = s->kind == FP_SERIES_POINTS ? 2.2 : 1.4;
        if (s->marker == FP_MK_STAR)
            r = 2.6;
        for (size_t k = 0; k < s->n; k++) {
            if (!isfinite(s->x[k]) || !isfinite(s->y[k]))
                continue;
            draw_marker(cr, s->marker, fx(fr, s->x[k]), fy(fr, s->y[k]), r);
            fp_canvas_set_color(cr, s->color, s->kind == FP_SERIES_POINTS ? 0.85 : 1);
            cairo_fill_preserve(cr);
            cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
            cairo_set_line_width(cr, 0.4);
            cairo_stroke(cr);
        }
    }
}

/*
 * Direct labels of points (fp_series.labels), on top of everything: each tries the right of
 * its point, then the left, above and below, and is left out when every place overlaps a
 * label already drawn or leaves the plot area, so no label hides another.
 */
static void point_labels(cairo_t *cr, const fp_panel *p, const frame *fr)
{
    enum { MAXL = 256 };
    double box[MAXL][4];
    size_t nb = 0;
    fp_canvas_font(cr, FS_MARK, 0);
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    double th = fe.ascent * 0.8 + 1;
    /* later series first: the choice and the baseline win a contested place */
    for (size_t si = p->nseries; si-- > 0;) {
        const fp_series *s = &p->series[si];
        if (!s->labels)
            continue;
        for (size_t k = 0; k < s->n && nb < MAXL; k++) {
            if (!s->labels[k] || !isfinite(s->x[k]) || !isfinite(s->y[k]))
                continue;
            double px = fx(fr, s->x[k]), py = fy(fr, s->y[k]);
            double w = fp_canvas_text_width(cr, s->labels[k]);
            const double cand[4][2] = {{px + 3.5, py - th / 2},
                                       {px - 3.5 - w, py - th / 2},
                                       {px - w / 2, py - 3.5 - th},
                                       {px - w / 2, py + 3.5}};
            for (int c = 0; c < 4; c++) {
                double x0 = cand[c][0], y0 = cand[c][1], x1 = x0 + w, y1 = y0 + th;
                if (x0 < fr->x + 1 || x1 > fr->x + fr->w - 1 || y0 < fr->y + 1 ||
                    y1 > fr->y + fr->h - 1)
                    continue;
                int clash = 0;
                for (size_t b = 0; b < nb && !clash; b++)
                    clash = x0 < box[b][2] && box[b][0] < x1 && y0 < box[b][3] && box[b][1] < y1;
                if (clash)
                    continue;
                box[nb][0] = x0;
                box[nb][1] = y0;
                box[nb][2] = x1;
                box[nb][3] = y1;
                nb++;
                fp_canvas_set_color(cr, s->color == FP_C_SKYBLUE ? FP_C_BLUE : s->color, 1);
                fp_canvas_text(cr, x0, y0, s->labels[k], 0, 0);
                break;
            }
        }
    }
}

/* Height of the labels of marks above the plot area: staggered rows so none overlap. */
static int mark_rows(cairo_t *cr, const fp_panel *p, const frame *fr, int *row_of, int draw)
{
    fp_canvas_font(cr, FS_MARK, 0);
    double right_end[8];
    int nrows = 0;
    /* Place in x order. */
    size_t order[64], n = p->nmarks < 64 ? p->nmarks : 64;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && p->marks[order[j]].x < p->marks[order[j - 1]].x; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t oi = 0; oi < n; oi++) {
        const fp_vmark *m = &p->marks[order[oi]];
        double w = fp_canvas_text_width(cr, m->label);
        double xc = fx(fr, m->x);
        double x0 = xc - w / 2;
        if (x0 < fr->x - 10)
            x0 = fr->x - 10;
        if (x0 + w > fr->x + fr->w + 4) /* stay inside the figure */
            x0 = fr->x + fr->w + 4 - w;
        int r = 0;
        while (r < nrows && x0 < right_end[r] + 2)
            r++;
        if (r >= 8)
            r = 7;
        if (r == nrows && nrows < 8)
            right_end[nrows++] = -1e9;
        right_end[r] = x0 + w;
        if (row_of)
            row_of[order[oi]] = r;
        if (draw) {
            double ty = fr->y - 3 - (r + 1) * 7.0;
            fp_canvas_set_color(cr, m->color, 1);
            fp_canvas_text(cr, x0, ty + 5.5, m->label, 0, 1);
            cairo_set_line_width(cr, 0.4);
            cairo_move_to(cr, xc, ty + 6.5);
            cairo_line_to(cr, xc, fr->y);
            cairo_stroke(cr);
        }
    }
    return nrows;
}

static void draw_panel(cairo_t *cr, const fp_panel *p, double x, double y, double w, double h,
                       int cat_labels)
{
    cairo_save(cr);
    frame fr;
    memset(&fr, 0, sizeof fr);
    double xlo, xhi, ylo, yhi;
    panel_ranges(p, &xlo, &xhi, &ylo, &yhi);
    if (isfinite(p->xmin))
        xlo = p->xmin;
    if (isfinite(p->xmax))
        xhi = p->xmax;
    if (isfinite(p->ymin))
        ylo = p->ymin;
    if (isfinite(p->ymax))
        yhi = p->ymax;
    if (!p->ncats && !p->hm) {
        double d = (xhi - xlo) * 0.03;
        xlo -= d;
        xhi += d;
    }
    if (!p->hm) {
        double d = (yhi - ylo) * 0.06;
        if (!isfinite(p->ymin) && !(p->y_from_zero && ylo == 0))
            ylo -= d;
        if (!isfinite(p->ymax))
            yhi += d;
    }
    axis_nice(&fr.ax, xlo, xhi, 6);
    axis_nice(&fr.ay, ylo, yhi, 5);
    fr.ay.percent = p->y_percent;
    if (p->hm) {
        /* Heatmap cells span half-way to their neighbours. */
        double c0 = p->hm_colx[0], c1 = p->hm_colx[p->hm_cols - 1];
        double half = p->hm_cols > 1 ? fabs(c1 - c0) / (double)(p->hm_cols - 1) / 2 : 1;
        fr.ax.lo = fmin(c0, c1) - half;
        fr.ax.hi = fmax(c0, c1) + half;
        fr.ay.lo = -0.5;
        fr.ay.hi = (double)p->hm_rows - 0.5;
    }

    /* Left margin from the widest y tick label (or row label). */
    fp_canvas_font(cr, FS_TICK, 0);
    double ylabw = 0;
    char buf[64];
    if (p->hm) {
        for (size_t r = 0; r < p->hm_rows; r++)
            ylabw = fmax(ylabw, fp_canvas_text_width(cr, p->hm_rowlab[r]));
    } else {
        double t0 = ceil(fr.ay.lo / fr.ay.step - 1e-9) * fr.ay.step;
        for (double t = t0; t <= fr.ay.hi + 1e-9 * fr.ay.step; t += fr.ay.step) {
            fmt_tick(buf, sizeof buf, t, fr.ay.step, fr.ay.percent);
            ylabw = fmax(ylabw, fp_canvas_text_width(cr, buf));
        }
    }
    double left = ylabw + 4 + (p->ylabel[0] && !p->hm ? 11 : 2);
    double right = p->hm ? 42 : 6;

    /* Category labels: horizontal when they fit, else rotated. */
    double catw = 0, cath = 0;
    int rotate = 0;
    if (p->ncats) {
        for (size_t i = 0; i < p->ncats; i++)
            catw = fmax(catw, text_lines(cr, 0, 0, p->cats[i], 0.5, 0));
        double slot = (w - left - right) / (double)p->ncats;
        rotate = catw > slot * 0.95;
        cairo_font_extents_t fe;
        cairo_font_extents(cr, &fe);
        int lines = 1;
        for (size_t i = 0; i < p->ncats; i++) {
            int l = 1;
            for (const char *c = p->cats[i]; *c; c++)
                l += *c == '\n';
            if (l > lines)
                lines = l;
        }
        cath = rotate ? (catw + fe.height) * 0.71 + 4 : lines * fe.height * 0.95 + 2;
        if (!cat_labels)
            cath = 0;
        /* A rotated first label reaches left of the plot area. */
        if (rotate && cat_labels) {
            cairo_font_extents_t fe2;
            cairo_font_extents(cr, &fe2);
            double need = (catw + fe2.height) * 0.71 - slot / 2 - 2;
            if (need > left)
                left = need;
        }
    }
    double bottom = (p->ncats ? cath + (cat_labels ? 4 : 2) : 12) + (p->xlabel[0] ? 10 : 2);
    double top = p->title[0] ? 11 : 3;
    fr.x = x + left;
    fr.w = w - left - right;
    fr.y = y + top;
    int nmr =
        p->nmarks
            ? mark_rows(cr, p, &(frame){.x = x + left, .w = w - left - right, .ax = fr.ax, .y = 0},
                        NULL, 0)
            : 0;
    fr.y += nmr * 7.0 + (nmr ? 3 : 0);
    fr.h = h - (fr.y - y) - bottom;
    if (fr.h < 20)
        fr.h = 20;

    if (p->title[0]) {
        fp_canvas_font(cr, FS_TEXT, 1);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fp_canvas_text(cr, fr.x, y + 1, p->title, 0, 0);
    }

    /* Grid. */
    cairo_set_line_width(cr, 0.35);
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    if (!p->hm) {
        double t0 = ceil(fr.ay.lo / fr.ay.step - 1e-9) * fr.ay.step;
        for (double t = t0; t <= fr.ay.hi + 1e-9 * fr.ay.step; t += fr.ay.step) {
            cairo_move_to(cr, fr.x, fy(&fr, t));
            cairo_line_to(cr, fr.x + fr.w, fy(&fr, t));
        }
        cairo_stroke(cr);
    }

    cairo_save(cr);
    cairo_rectangle(cr, fr.x, fr.y, fr.w, fr.h);
    cairo_clip(cr);
    for (size_t i = 0; i < p->nspans; i++) {
        cairo_set_source_rgba(cr, 0.35, 0.70, 0.91, 0.13);
        double a = fx(&fr, p->spans[i].x0), b = fx(&fr, p->spans[i].x1);
        cairo_rectangle(cr, a, fr.y, b - a, fr.h);
        cairo_fill(cr);
    }
    if (p->hm) {
        double vmin = INFINITY, vmax = -INFINITY;
        for (size_t k = 0; k < p->hm_rows * p->hm_cols; k++)
            grow(&vmin, &vmax, p->hm[k]);
        int any = isfinite(vmin) && isfinite(vmax);
        if (!any) /* every cell empty: grey cells, a colour bar without ticks */
            vmin = 0, vmax = 1;
        if (!(vmax > vmin))
            vmax = vmin + 1;
        for (size_t r = 0; r < p->hm_rows; r++)
            for (size_t c = 0; c < p->hm_cols; c++) {
                double v = p->hm[r * p->hm_cols + c];
                double xc = p->hm_colx[c];
                double xl = c > 0 ? (xc + p->hm_colx[c - 1]) / 2 : fr.ax.lo;
                double xr = c + 1 < p->hm_cols ? (xc + p->hm_colx[c + 1]) / 2 : fr.ax.hi;
                double a = fx(&fr, fmin(xl, xr)), b = fx(&fr, fmax(xl, xr));
                double ya = fy(&fr, (double)r + 0.5), yb = fy(&fr, (double)r - 0.5);
                if (isfinite(v)) {
                    double cr_, cg, cb;
                    viridis((v - vmin) / (vmax - vmin), &cr_, &cg, &cb);
                    cairo_set_source_rgb(cr, cr_, cg, cb);
                } else {
                    cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
                }
                cairo_rectangle(cr, a, ya, b - a + 0.3, yb - ya);
                cairo_fill(cr);
            }
        /* Colour bar. */
        cairo_restore(cr);
        cairo_save(cr);
        double bx = fr.x + fr.w + 6, bw = 6;
        for (int i = 0; i < 64; i++) {
            double cr_, cg, cb;
            viridis(i / 63.0, &cr_, &cg, &cb);
            cairo_set_source_rgb(cr, cr_, cg, cb);
            cairo_rectangle(cr, bx, fr.y + fr.h - (i + 1) * fr.h / 64, bw, fr.h / 64 + 0.3);
            cairo_fill(cr);
        }
        axis cb;
        axis_nice(&cb, vmin, vmax, 5);
        fp_canvas_font(cr, FS_TICK, 0);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        double t0 = ceil(vmin / cb.step - 1e-9) * cb.step;
        for (double t = t0; any && t <= vmax + 1e-9 * cb.step; t += cb.step) {
            double yy = fr.y + fr.h - (t - vmin) / (vmax - vmin) * fr.h;
            fmt_tick(buf, sizeof buf, t, cb.step, 0);
            fp_canvas_text(cr, bx + bw + 2, yy, buf, 0, 0.5);
        }
        if (p->hm_label[0]) {
            cairo_save(cr);
            cairo_translate(cr, x + w - 2, fr.y + fr.h / 2);
            cairo_rotate(cr, -M_PI / 2);
            fp_canvas_font(cr, FS_TEXT, 0);
            fp_canvas_text(cr, 0, 0, p->hm_label, 0.5, 1);
            cairo_restore(cr);
        }
    } else {
        if (isfinite(p->ref_y)) {
            cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
            cairo_set_line_width(cr, 0.6);
            double d[] = {1.0, 1.5};
            cairo_set_dash(cr, d, 2, 0);
            cairo_move_to(cr, fr.x, fy(&fr, p->ref_y));
            cairo_line_to(cr, fr.x + fr.w, fy(&fr, p->ref_y));
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }
        for (size_t i = 0; i < p->nmarks; i++) {
            fp_canvas_set_color(cr, p->marks[i].color, 0.8);
            cairo_set_line_width(cr, 0.6);
            double d[] = {2.0, 1.2};
            cairo_set_dash(cr, d, 2, 0);
            cairo_move_to(cr, fx(&fr, p->marks[i].x), fr.y);
            cairo_line_to(cr, fx(&fr, p->marks[i].x), fr.y + fr.h);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }
        /* Ranges and bars first, then the rest in the order given (later on top). */
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < p->nseries; i++) {
                const fp_series *s = &p->series[i];
                int ps = (s->kind == FP_SERIES_RANGE || s->kind == FP_SERIES_BARS) ? 0 : 1;
                if (ps == pass)
                    draw_series(cr, &fr, s);
            }
        point_labels(cr, p, &fr);
    }
    cairo_restore(cr);

    /* Frame and ticks. */
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 0.6);
    cairo_rectangle(cr, fr.x, fr.y, fr.w, fr.h);
    cairo_stroke(cr);
    fp_canvas_font(cr, FS_TICK, 0);
    if (p->hm) {
        for (size_t r = 0; r < p->hm_rows; r++)
            fp_canvas_text(cr, fr.x - 3, fy(&fr, (double)r), p->hm_rowlab[r], 1, 0.5);
    } else {
        double t0 = ceil(fr.ay.lo / fr.ay.step - 1e-9) * fr.ay.step;
        for (double t = t0; t <= fr.ay.hi + 1e-9 * fr.ay.step; t += fr.ay.step) {
            double yy = fy(&fr, t);
            cairo_move_to(cr, fr.x - 2, yy);
            cairo_line_to(cr, fr.x, yy);
            cairo_stroke(cr);
            fmt_tick(buf, sizeof buf, t, fr.ay.step, fr.ay.percent);
            fp_canvas_text(cr, fr.x - 3, yy, buf, 1, 0.5);
        }
    }
    if (p->ncats) {
        for (size_t i = 0; i < p->ncats; i++) {
            double xx = fx(&fr, (double)i);
            if (!cat_labels)
                continue;
            if (rotate) {
                char one[128];
                cairo_move_to(cr, xx, fr.y + fr.h);
                cairo_line_to(cr, xx, fr.y + fr.h + 2);
                cairo_stroke(cr);
                snprintf(one, sizeof one, "%s", p->cats[i]);
                for (char *c = one; *c; c++)
                    if (*c == '\n')
                        *c = ' ';
                cairo_save(cr);
                cairo_translate(cr, xx + 2, fr.y + fr.h + 3);
                cairo_rotate(cr, -M_PI / 4);
                fp_canvas_text(cr, 0, 0, one, 1, 0.5);
                cairo_restore(cr);
            } else {
                cairo_move_to(cr, xx, fr.y + fr.h);
                cairo_line_to(cr, xx, fr.y + fr.h + 2);
                cairo_stroke(cr);
                text_lines(cr, xx, fr.y + fr.h + 3, p->cats[i], 0.5, 1);
            }
        }
    } else {
        double t0 = ceil(fr.ax.lo / fr.ax.step - 1e-9) * fr.ax.step;
        double lastr = -1e9;
        for (double t = t0; t <= fr.ax.hi + 1e-9 * fr.ax.step; t += fr.ax.step) {
            double xx = fx(&fr, t);
            cairo_move_to(cr, xx, fr.y + fr.h);
            cairo_line_to(cr, xx, fr.y + fr.h + 2);
            cairo_stroke(cr);
            fmt_tick(buf, sizeof buf, t, fr.ax.step, 0);
            double tw = fp_canvas_text_width(cr, buf);
            if (xx - tw / 2 > lastr + 2) {
                fp_canvas_text(cr, xx, fr.y + fr.h + 3, buf, 0.5, 0);
                lastr = xx + tw / 2;
            }
        }
    }
    fp_canvas_font(cr, FS_TEXT, 0);
    if (p->xlabel[0])
        fp_canvas_text(cr, fr.x + fr.w / 2, y + h - 1.5, p->xlabel, 0.5, 1);
    if (p->ylabel[0] && !p->hm) {
        cairo_save(cr);
        cairo_translate(cr, x + 1, fr.y + fr.h / 2);
        cairo_rotate(cr, -M_PI / 2);
        fp_canvas_text(cr, 0, 0, p->ylabel, 0.5, 0);
        cairo_restore(cr);
    }
    if (p->nmarks)
        mark_rows(cr, p, &fr, NULL, 1);
    cairo_restore(cr);
}

void fp_canvas_figure_size(const fp_figure *f, const fp_render_opts *o, double *w_in, double *h_in)
{
    size_t maxcats = 0;
    for (size_t i = 0; i < f->npanels; i++)
        if (f->panels[i].ncats > maxcats)
            maxcats = f->panels[i].ncats;
    double w = o && o->width_in > 0 ? o->width_in : (maxcats > 6 ? 7.0 : 3.5);
    double h = o && o->height_in > 0 ? o->height_in : 0;
    if (h <= 0) {
        h = f->npanels <= 1 ? 2.8 : 1.1 + 1.7 * (double)f->npanels;
        if (f->npanels == 1 && f->panels[0].hm)
            h = 0.9 + 0.22 * (double)f->panels[0].hm_rows + 0.6;
        if (h < 2.0)
            h = 2.0;
    }
    *w_in = w;
    *h_in = h;
}

void fp_canvas_draw_figure(cairo_t *cr, const fp_figure *f, double w, double h)
{
    cairo_save(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    double y = 3;
    if (f->title[0] || f->simulated) {
        fp_canvas_font(cr, FS_TITLE, 1);
        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
        double sw = 0;
        if (f->simulated) {
            fp_canvas_font(cr, FS_MARK + 0.5, 1);
            sw = fp_canvas_text_width(cr, "SIMULATED DATA") + 4;
            fp_canvas_set_color(cr, FP_C_VERMILLION, 1);
            fp_canvas_text(cr, w - 4, y, "SIMULATED DATA", 1, 0);
        }
        fp_canvas_font(cr, FS_TITLE, 1);
        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
        /* Shorten a title that would run into the label. */
        char t[160];
        snprintf(t, sizeof t, "%s", f->title);
        while (strlen(t) > 4 && fp_canvas_text_width(cr, t) > w - 8 - sw) {
            size_t l = strlen(t);
            t[l - 4] = '\0';
            t[fp_utf8_valid_prefix(t, strlen(t))] = '\0'; /* never inside a character */
            strcat(t, "...");
        }
        fp_canvas_text(cr, 4, y, t, 0, 0);
        y += 11;
    }
    y += legend(cr, f, 6, y, w - 12, 1);
    if (f->npanels) {
        double ph = (h - y) / (double)f->npanels;
        for (size_t i = 0; i < f->npanels; i++) {
            /* Panels stacked over the same categories share the labels of the lowest one. */
            int shared = i + 1 < f->npanels && f->panels[i].ncats &&
                         f->panels[i].ncats == f->panels[i + 1].ncats;
            for (size_t k = 0; shared && k < f->panels[i].ncats; k++)
                shared = strcmp(f->panels[i].cats[k], f->panels[i + 1].cats[k]) == 0;
            draw_panel(cr, &f->panels[i], 0, y + (double)i * ph, w - 2, ph - 2, !shared);
        }
    }
    cairo_restore(cr);
}
