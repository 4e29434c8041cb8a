/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The report's comparison with the original project (ai-inference-energy): its own
 * recommendations (optimal_frequencies.json among the inputs) beside freqpilot's for the same
 * GPU, app and objective, and what freqpilot's measurements say about the original's clock.
 * The original's numbers are shown as its own, never mixed into freqpilot's tables.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "report/report_int.h"

const char fp_report_original_text[] =
    "The original project's recommendations (ai-inference-energy, read from its "
    "optimal_frequencies.json), beside freqpilot's own for the same GPU, app and objective. Its "
    "savings are its own numbers, against its own baseline run (a cold start in the published "
    "files, docs/method.md), without intervals. The last column is what freqpilot's "
    "measurements give at the original's clock, against freqpilot's baseline (the highest clock "
    "measured, warm).";

/* freqpilot's unconstrained recommendation for the original's (gpu, app, objective). */
static const fp_rec *find(const fp_rec_list *recs, const fp_rec *o)
{
    for (size_t i = 0; recs && i < recs->len; i++) {
        const fp_rec *r = &recs->items[i];
        if (!strcasecmp(r->gpu, o->gpu) && !strcasecmp(r->app, o->app) &&
            !strcasecmp(r->objective, o->objective) && !isfinite(r->max_slowdown))
            return r;
    }
    return NULL;
}

static const fp_rec *ours(const fp_report_input *in, const fp_rec *o)
{
    const fp_rec *r = find(in->recs, o);
    return r ? r : find(in->original_ours, o);
}

/* Energy saving measured at clock f against the highest clock of the (gpu, app): NAN when the
 * data has no row at f. */
static double measured_saving(const fp_agg_result *a, const fp_rec *o)
{
    const fp_agg_row *at = NULL, *top = NULL;
    for (size_t i = 0; i < a->nrows; i++) {
        const fp_agg_row *r = &a->rows[i];
        if (strcasecmp(r->gpu, o->gpu) || strcasecmp(r->app, o->app) || !isfinite(r->energy_j))
            continue;
        if (!top || r->freq_mhz > top->freq_mhz)
            top = r;
        if (fabs(r->freq_mhz - o->freq_mhz) < 0.5)
            at = r;
    }
    return at && top && top->energy_j > 0 ? 1 - at->energy_j / top->energy_j : NAN;
}

size_t fp_report_original_table(const fp_report_input *in,
                                void (*fn)(void *user, const char *const *cells, int header),
                                void *user)
{
    static const char *const hdr[FP_REPORT_ORIG_COLS] = {
        "GPU",        "App",          "Objective",         "Original clock",
        "Its saving", "Its slowdown", "freqpilot's clock", "Measured saving at its clock"};
    if (!in->original || in->original->len == 0)
        return 0;
    fn(user, hdr, 1);
    for (size_t i = 0; i < in->original->len; i++) {
        const fp_rec *o = &in->original->items[i];
        const fp_rec *r = ours(in, o);
        char f[32], s[32], d[32], fr[80], m[32];
        snprintf(f, sizeof f, "%.0f MHz", o->freq_mhz);
        fp_report_pct_ci(s, sizeof s, o->energy_saving, NAN, NAN);
        fp_report_pct_ci(d, sizeof d, o->slowdown, NAN, NAN);
        if (r) {
            char rs[64];
            fp_report_pct_ci(rs, sizeof rs, r->energy_saving, r->energy_saving_lo,
                             r->energy_saving_hi);
            snprintf(fr, sizeof fr, "%.0f MHz (%s)", r->freq_mhz, rs);
        } else {
            snprintf(fr, sizeof fr, "-");
        }
        fp_report_pct_ci(m, sizeof m, measured_saving(in->agg, o), NAN, NAN);
        const char *cells[FP_REPORT_ORIG_COLS] = {o->gpu, o->app, o->objective, f, s, d, fr, m};
        fn(user, cells, 0);
    }
    return in->original->len;
}

/* ---- report.html ---- */

static void esc(fp_sbuf *b, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;" : NULL;
        if (e)
            fp_sbuf_printf(b, "%s", e);
        else
            fp_sbuf_add(b, s, 1);
    }
}

static void html_row(void *user, const char *const *cells, int header)
{
    fp_sbuf *b = user;
    fp_sbuf_printf(b, "<tr>");
    for (int i = 0; i < FP_REPORT_ORIG_COLS; i++) {
        fp_sbuf_printf(b, header ? "<th>" : i >= 3 ? "<td class=\"n\">" : "<td>");
        esc(b, cells[i]);
        fp_sbuf_printf(b, header ? "</th>" : "</td>");
    }
    fp_sbuf_printf(b, "</tr>\n");
}

void fp_report_original_html(fp_sbuf *b, const fp_report_input *in)
{
    if (!in->original || in->original->len == 0)
        return;
    fp_sbuf_printf(b, "<h2 id=\"original\">The original project's recommendations</h2>\n<p>");
    esc(b, fp_report_original_text);
    fp_sbuf_printf(b, "</p>\n<table>\n");
    fp_report_original_table(in, html_row, b);
    fp_sbuf_printf(b, "</table>\n");
}
