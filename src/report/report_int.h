/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_REPORT_INT_H
#define FP_REPORT_INT_H

/* What report.html and report.pdf share: the pairs, the words, the method summary. */

#include "freqpilot/plot.h"
#include "report/canvas.h"

/* Distinct (gpu, app) pairs of the aggregated rows in row order. Returns the count. */
size_t fp_report_pairs(const fp_agg_result *agg, size_t *first_row, size_t cap);
/* Distinct GPUs of the aggregated rows in row order. */
size_t fp_report_gpus(const fp_agg_result *agg, const char **gpus, size_t cap);
/* One sentence saying what a data-quality flag means and why it matters. */
const char *fp_report_flag_text(unsigned flag_bit);
/* A slowdown budget as the report shows it: "5 %" or "none" (NAN). */
void fp_report_budget(char *buf, size_t n, double max_slowdown);
/* "12.3 % [9.8, 14.1]" or "-" */
void fp_report_pct_ci(char *buf, size_t n, double v, double lo, double hi);
/* Verdict of a recommendation: the one optimize computed (fp_verdict_name), shown as is. */
const char *fp_report_verdict(const fp_rec *r);
/* The method summary: paragraphs separated by blank lines (built-in text). */
extern const char fp_report_method_text[];
/* Reads the "## " headings of a method file into buf as lines ("" when unreadable). */
void fp_report_method_headings(const char *path, char *buf, size_t n);

/* The serving section (report_serving.c): a headline, then one sentence per policy. */
#define FP_SERVING_LINE 400
size_t fp_report_serving_lines(const fp_serving_report *s, char (*lines)[FP_SERVING_LINE],
                               size_t cap);
struct fp_sbuf;
void fp_report_serving_html(struct fp_sbuf *b, const fp_serving_report *s, int simulated);
/* Text escaped for HTML (report_html.c). */
void fp_report_html_esc(struct fp_sbuf *b, const char *s);

/* ---- The comparison with the original project (report_original.c) ---- */

#define FP_REPORT_ORIG_COLS 8
/* The paragraph above the comparison table. */
extern const char fp_report_original_text[];
/* Calls fn with the header, then one row of cells per original recommendation; returns the
 * number of rows (0, and no call, when in->original is empty). */
size_t fp_report_original_table(const fp_report_input *in,
                                void (*fn)(void *user, const char *const *cells, int header),
                                void *user);
/* The section of report.html (nothing when there is nothing to compare). */
void fp_report_original_html(fp_sbuf *b, const fp_report_input *in);

#endif
