/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_REPORT_INT_H
#define FP_REPORT_INT_H

/* What report.html and report.pdf share: the pairs, the decision, the words, the method. */

#include "freqpilot/deploy.h"
#include "freqpilot/plot.h"
#include "report/canvas.h"

/* Distinct (gpu, app) pairs of the aggregated rows in row order. Returns the count. */
size_t fp_report_pairs(const fp_agg_result *agg, size_t *first_row, size_t cap);
/* Distinct GPUs of the aggregated rows in row order. */
size_t fp_report_gpus(const fp_agg_result *agg, const char **gpus, size_t cap);
/* How many GPUs and (gpu, app) pairs the rows hold in all (0 and 0 when out of memory). */
void fp_report_counts(const fp_agg_result *agg, size_t *ngpus, size_t *npairs);
/* The sentence a report shows when it drew the figures of fewer pairs or GPUs than it has. */
void fp_report_figures_left_out(char *buf, size_t n, size_t drawn_pairs, size_t npairs,
                                size_t drawn_gpus, size_t ngpus);
/* 1 when r is the recommendation for (gpu, app, objective, budget) (fp_recs_find's test). */
int fp_rec_is(const fp_rec *r, const char *gpu, const char *app, const char *objective,
              double max_slowdown);
/* A slowdown budget as the report shows it: "5 %" or "none" (NAN). */
void fp_report_budget(char *buf, size_t n, double max_slowdown);
/* "67.25 USD" (whole units from 100 up), "-" when not finite. */
void fp_report_money(char *buf, size_t n, double v, const char *currency);
/* "12.3 % [9.8, 14.1]" or "-" */
void fp_report_pct_ci(char *buf, size_t n, double v, double lo, double hi);
/* Verdict of a recommendation: the one optimize computed (fp_verdict_name), shown as is. */
const char *fp_report_verdict(const fp_rec *r);
/* The method summary: paragraphs separated by blank lines (built-in text). */
extern const char fp_report_method_text[];
/* Reads the "## " headings of a method file into buf as lines ("" when unreadable). */
void fp_report_method_headings(const char *path, char *buf, size_t n);

/* Everything page one is made of, computed once for both outputs. */
#define FP_REPORT_MAX_STATS 65
typedef struct fp_report_ctx {
    const fp_report_input *in;
    int simulated; /* in->simulated, or the data, optimize's or validate's JSON say so */
    fp_deploy_rule rule;
    fp_deploy_table deploy;
    fp_deploy_stats stats[FP_REPORT_MAX_STATS]; /* per GPU, then every GPU */
    size_t nstats;
    int nothing;             /* every (gpu, app) has one clock */
    char nothing_text[1024]; /* what to say then */
    char rule_text[512];
    char budgets_text[1536];
    fp_impact_opts impact;    /* in->impact or the defaults */
    size_t nlisted;           /* deploy rows the tables list: FP_REPORT_LIST_PAIRS_MAX at most */
    size_t ncards;            /* deploy rows with a workload card: FP_REPORT_PAIRS_MAX at most */
    struct fp_keyidx *listed; /* the (gpu, app) pairs of the rows listed */
    struct fp_keyidx *vals;   /* in->vals by (gpu, app) */
    struct fp_keyidx *recs;   /* in->recs by (gpu, app) */
} fp_report_ctx;

fp_status fp_report_ctx_init(fp_report_ctx *c, const fp_report_input *in, fp_error *err);
void fp_report_ctx_free(fp_report_ctx *c);
/* What limits the choice of row d, in words (the budget, the energy curve, the clocks
 * measured, or the verdict's reason), from optimize's recommendations only. */
void fp_report_limit_text(const fp_report_ctx *c, const fp_deploy_row *d, char *buf, size_t n);
/* The check of v named name; NULL when absent. */
const fp_val_check *fp_report_val_check(const fp_val *v, const char *name);
/* The recommendations of recs by (gpu, app) (util/keyidx.h, clock NAN), in list order; NULL on
 * no memory. */
struct fp_keyidx *fp_recs_index(const fp_rec_list *recs);
/* fp_recs_find through that index (the same first match); idx NULL: fp_recs_find. */
const fp_rec *fp_recs_find_in(const fp_rec_list *recs, const struct fp_keyidx *idx, const char *gpu,
                              const char *app, const char *objective, double max_slowdown);
/* Whether the tables list (gpu, app): one of the first c->nlisted deploy rows. */
int fp_report_listed(const fp_report_ctx *c, const char *gpu, const char *app);
/*
 * What a table or the cards left out, in words ("" when nothing): shown of the deploy table's
 * pairs are listed; where names the files that hold them all.
 */
void fp_report_left_out(const fp_report_ctx *c, size_t shown, const char *where, char *buf,
                        size_t n);
/* validate's result for recommendation r (same gpu, app, objective, budget, clock), found
 * through the context's index; NULL when the inputs have none. */
const fp_val *fp_report_ctx_val_of(const fp_report_ctx *c, const fp_rec *r);

/* ---- report.html pieces (report_html.c, report_html_decide.c) ---- */

struct fp_sbuf;
/* s HTML-escaped (bytes that are not UTF-8 become '?'). */
void fp_html_esc(struct fp_sbuf *b, const char *s);
/* The figure as inline SVG (w_in wide, 0 = its default), then freed; nothing when st != OK. */
void fp_html_figure(struct fp_sbuf *b, fp_figure *f, fp_status st, double w_in);
/* Page one: the deploy table and what it adds up to; then the workload cards; the validation
 * of the deploy choices; the glossary; the appendix of every recommendation. */
void fp_html_decision(struct fp_sbuf *b, const fp_report_ctx *c);
void fp_html_cards(struct fp_sbuf *b, const fp_report_ctx *c);
void fp_html_validation(struct fp_sbuf *b, const fp_report_ctx *c);
void fp_html_glossary(struct fp_sbuf *b);
void fp_html_appendix(struct fp_sbuf *b, const fp_report_ctx *c);

/* The serving section (report_serving.c): a headline, then one sentence per policy. */
#define FP_SERVING_LINE 400
size_t fp_report_serving_lines(const fp_serving_report *s, char (*lines)[FP_SERVING_LINE],
                               size_t cap);
void fp_report_serving_html(struct fp_sbuf *b, const fp_serving_report *s, int simulated);

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
