/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_REPORT_CANVAS_H
#define FP_REPORT_CANVAS_H

/*
 * The one drawing layer over cairo, shared by plot files and the HTML and PDF reports:
 * canvas.c draws figures and text; figure.c builds figures, writes them to files and holds
 * the string buffer.
 */

#include <cairo.h>

#include "freqpilot/plot.h"

#define FP_FONT "DejaVu Sans"

/* Draws f into the rectangle (0, 0, w_pt, h_pt) of cr (user units = points). */
void fp_canvas_draw_figure(cairo_t *cr, const fp_figure *f, double w_pt, double h_pt);
/* Size in inches a figure is drawn at by default (o may override). */
void fp_canvas_figure_size(const fp_figure *f, const fp_render_opts *o, double *w_in, double *h_in);

void fp_canvas_font(cairo_t *cr, double size_pt, int bold);
/* Text anchored at (x, y): ha 0 left, 0.5 centre, 1 right; va 0 top, 0.5 middle, 1 baseline. */
void fp_canvas_text(cairo_t *cr, double x, double y, const char *s, double ha, double va);
double fp_canvas_text_width(cairo_t *cr, const char *s);
void fp_canvas_set_color(cairo_t *cr, int palette_index, double alpha);

/* Appends to a growing, NUL-terminated string buffer. Returns 0, or -1 out of memory. */
typedef struct fp_sbuf {
    char *s;
    size_t len, cap;
    int oom;
} fp_sbuf;
int fp_sbuf_add(fp_sbuf *b, const char *s, size_t n);
int fp_sbuf_printf(fp_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fp_sbuf_free(fp_sbuf *b);

#endif
