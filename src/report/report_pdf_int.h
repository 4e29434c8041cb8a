/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_REPORT_PDF_INT_H
#define FP_REPORT_PDF_INT_H

/* report.pdf's page layout, shared by report_pdf.c (the document) and report_pdf_decide.c
 * (page one and the decision's other sections). Units: points, US Letter. */

#include <cairo.h>

#include "report/report_int.h"

#define PDF_PAGE_W 612.0
#define PDF_PAGE_H 792.0
#define PDF_MARGIN 54.0
#define PDF_BODY_FS 9.0

typedef struct fp_pdf_doc {
    cairo_t *cr;
    const fp_report_input *in;
    const fp_report_ctx *ctx;
    int page;
    double y;
} fp_pdf_doc;

/* Starts a new page when less than h points are left. */
void fp_pdf_need(fp_pdf_doc *d, double h);
/* Starts a new page unless the current one is empty. */
void fp_pdf_new_page(fp_pdf_doc *d);
void fp_pdf_heading(fp_pdf_doc *d, const char *s, double size);
/* A word-wrapped paragraph at x offset indent (0 = the margin), in grey when grey. */
void fp_pdf_para_at(fp_pdf_doc *d, const char *s, double fs, int bold, double indent, int grey);
#define fp_pdf_para(d, s, fs, bold) fp_pdf_para_at(d, s, fs, bold, 0, 0)
/* The figure w_in x h_in inches, centred (x_pt < 0) or at x_pt from the margin, then freed;
 * nothing when st != OK. advance: move below it. Returns its height in points. */
double fp_pdf_figure(fp_pdf_doc *d, fp_figure *f, fp_status st, double w_in, double h_in,
                     double x_pt, int advance);

/*
 * A table that fits the page: each column as wide as its widest cell; when that is wider
 * than the page the columns that may wrap (wrap[c]) share what is left and their cells wrap
 * on spaces and after ';', and when even that does not fit the font shrinks (to 5.5 pt). A
 * header wraps on spaces. A row's note (may be NULL or "") is a grey line under it across the
 * table. color[r * ncol + c] (may be NULL; -1 = default) is a palette index. The header is
 * repeated on every page the table runs onto.
 */
typedef struct fp_pdf_table {
    size_t ncol;
    const char *const *head;
    const int *wrap;  /* may be NULL: none wraps */
    const int *right; /* may be NULL: all left */
    double fs;        /* font size (7.5) */
} fp_pdf_table;
void fp_pdf_table_draw(fp_pdf_doc *d, const fp_pdf_table *t, char *const *cells, size_t nrows,
                       const char *const *notes, const int *color);

/* The decision's sections (report_pdf_decide.c). */
void fp_pdf_decision(fp_pdf_doc *d);
void fp_pdf_cards(fp_pdf_doc *d);
void fp_pdf_validation(fp_pdf_doc *d);
void fp_pdf_glossary(fp_pdf_doc *d);
void fp_pdf_appendix(fp_pdf_doc *d);

#endif
