/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * report.pdf's decision: page one (which clock to set per (gpu, app), what the deployable
 * choices add up to and are worth), the workload cards, the validation of the deploy choices,
 * the glossary and the appendix of every recommendation. The verdicts are optimize's.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/glossary.h"
#include "freqpilot/optimize.h"
#include "report/canvas.h"
#include "report/report_pdf_int.h"

/* A no-break space: "[95 % CI]" never wraps inside. */
#define NBSP "\xc2\xa0"

/* A table's cells, each malloc'd; NULL cells become "". */
typedef struct grid {
    char **c;
    int *color;
    size_t ncol, nrows, cap;
} grid;

static char **grid_row(grid *g)
{
    if (g->nrows == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        char **p = realloc(g->c, cap * g->ncol * sizeof *p);
        int *q = realloc(g->color, cap * g->ncol * sizeof *q);
        if (p)
            g->c = p;
        if (q)
            g->color = q;
        if (!p || !q)
            return NULL;
        g->cap = cap;
    }
    char **r = &g->c[g->nrows * g->ncol];
    for (size_t k = 0; k < g->ncol; k++) {
        r[k] = NULL;
        g->color[g->nrows * g->ncol + k] = -1;
    }
    g->nrows++;
    return r;
}

static void grid_set(grid *g, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void grid_set(grid *g, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    char **cell = &g->c[(g->nrows - 1) * g->ncol + col];
    free(*cell);
    *cell = s;
}

static void grid_free(grid *g)
{
    for (size_t i = 0; g->c && i < g->nrows * g->ncol; i++)
        free(g->c[i]);
    free(g->c);
    free(g->color);
    memset(g, 0, sizeof *g);
}

/* Fills NULL cells with "" so the table never sees one. */
static int grid_ok(grid *g)
{
    for (size_t i = 0; g->c && i < g->nrows * g->ncol; i++)
        if (!g->c[i] && !(g->c[i] = strdup("")))
            return 0;
    return g->c != NULL;
}

static int vcolor(const char *verdict)
{
    return verdict && strcmp(verdict, "deployable") == 0 ? FP_C_GREEN : FP_C_VERMILLION;
}

/* ---- page one ---- */

/* What a table or the cards left out (fp_report_left_out), as a paragraph. */
static void left_out(fp_pdf_doc *d, const fp_report_ctx *c, size_t shown, const char *where)
{
    char buf[512];
    fp_report_left_out(c, shown, where, buf, sizeof buf);
    if (buf[0])
        fp_pdf_para(d, buf, 7.5, 0);
}

#define ALL_RECS "optimal.json holds every one (freqpilot optimize --format csv)"
#define ALL_VALS "validation.json holds every one"

static void deploy_table(fp_pdf_doc *d)
{
    const fp_report_ctx *c = d->ctx;
    const fp_deploy_table *t = &c->deploy;
    static const char *const head[] = {"GPU",
                                       "App",
                                       "Set SM clock (MHz)",
                                       "Baseline (MHz)",
                                       "Energy saving [95" NBSP "%" NBSP "CI]",
                                       "Slowdown [95" NBSP "%" NBSP "CI]",
                                       "Budget",
                                       "Verdict"};
    static const int wrap[] = {0, 1, 0, 0, 0, 0, 1, 0}, right[] = {0, 0, 1, 1, 1, 1, 0, 0};
    grid g = {.ncol = 8};
    const char **notes = calloc(t->n ? t->n : 1, sizeof *notes);
    char **notebuf = calloc(t->n ? t->n : 1, sizeof *notebuf);
    for (size_t i = 0; notes && notebuf && i < c->nlisted; i++) {
        const fp_deploy_row *r = &t->rows[i];
        const fp_rec *rec = r->rec;
        if (!grid_row(&g))
            break;
        int moves = fp_deploy_row_moves(r);
        char s[64] = "-", sl[64] = "-", bud[32];
        if (moves) {
            fp_report_pct_ci(s, sizeof s, rec->energy_saving, rec->energy_saving_lo,
                             rec->energy_saving_hi);
            fp_report_pct_ci(sl, sizeof sl, rec->slowdown, rec->slowdown_lo, rec->slowdown_hi);
        }
        fp_report_budget(bud, sizeof bud, r->budget);
        grid_set(&g, 0, "%s", r->gpu);
        grid_set(&g, 1, "%s", r->app);
        if (r->deployable)
            grid_set(&g, 2, "%.0f", rec->freq_mhz);
        else
            grid_set(&g, 2, "%s", r->state == FP_DEPLOY_REC ? "keep default" : "-");
        if (rec && r->state == FP_DEPLOY_REC)
            grid_set(&g, 3, "%.0f", rec->baseline_mhz);
        grid_set(&g, 4, "%s", s);
        grid_set(&g, 5, "%s", sl);
        grid_set(&g, 6, "%s%s%s", bud, rec && rec->category[0] ? " " : "",
                 rec && rec->category[0] ? rec->category : "");
        grid_set(&g, 7, "%s", rec && rec->verdict[0] ? rec->verdict : "-");
        g.color[(g.nrows - 1) * 8 + 7] = vcolor(rec ? rec->verdict : NULL);
        if (r->deployable)
            g.color[(g.nrows - 1) * 8 + 2] = FP_C_GREEN;
        if (r->why[0]) {
            if (moves && asprintf(&notebuf[i], "Candidate %.0f MHz: %s", rec->freq_mhz, r->why) < 0)
                notebuf[i] = NULL;
            notes[i] = notebuf[i] ? notebuf[i] : r->why;
        }
    }
    if (notes && notebuf && grid_ok(&g)) {
        fp_pdf_table tb = {8, head, wrap, right, 8};
        fp_pdf_table_draw(d, &tb, g.c, g.nrows, notes, g.color);
    }
    for (size_t i = 0; notebuf && i < t->n; i++)
        free(notebuf[i]);
    free(notebuf);
    free(notes);
    grid_free(&g);
    left_out(d, c, c->nlisted, ALL_RECS);
}

static void across(fp_pdf_doc *d)
{
    const fp_report_ctx *c = d->ctx;
    fp_pdf_heading(d, "Across configurations (deployable choices only)", 10.5);
    const fp_deploy_stats *all = &c->stats[c->nstats - 1];
    if (all->n == 0) {
        char buf[160];
        snprintf(buf, sizeof buf, "No deployable choice: nothing to sum up (%zu not deployable).",
                 all->nother);
        fp_pdf_para(d, buf, PDF_BODY_FS, 0);
        return;
    }
    static const char *const head[] = {
        "GPU",           "Deployable",    "Energy saving mean \xc2\xb1 sd",
        "Range",         "Best",          "Worst",
        "Mean slowdown", "Not deployable"};
    static const int wrap[] = {0, 0, 0, 0, 1, 1, 0, 0}, right[] = {0, 1, 1, 1, 0, 0, 1, 1};
    grid g = {.ncol = 8};
    for (size_t i = 0; i < c->nstats; i++) {
        const fp_deploy_stats *s = &c->stats[i];
        if (!grid_row(&g))
            break;
        int overall = !s->gpu[0];
        grid_set(&g, 0, "%s", overall ? "all GPUs" : s->gpu);
        grid_set(&g, 1, "%zu", s->n);
        grid_set(&g, 7, "%zu", s->nother);
        if (s->n == 0)
            continue;
        if (isfinite(s->sd))
            grid_set(&g, 2, "%.1f \xc2\xb1 %.1f %%", 100 * s->mean, 100 * s->sd);
        else
            grid_set(&g, 2, "%.1f %%", 100 * s->mean);
        grid_set(&g, 3, "%.1f to %.1f %%", 100 * s->min, 100 * s->max);
        grid_set(&g, 4, "%s%s%s %.1f %%", overall ? s->best->gpu : "", overall ? " " : "",
                 s->best->app, 100 * s->best->rec->energy_saving);
        grid_set(&g, 5, "%s%s%s %.1f %%", overall ? s->worst->gpu : "", overall ? " " : "",
                 s->worst->app, 100 * s->worst->rec->energy_saving);
        grid_set(&g, 6, "%.1f %%", 100 * s->slowdown_mean);
    }
    if (grid_ok(&g)) {
        fp_pdf_table tb = {8, head, wrap, right, 7.5};
        fp_pdf_table_draw(d, &tb, g.c, g.nrows, NULL, NULL);
    }
    grid_free(&g);
}

static void impact(fp_pdf_doc *d)
{
    const fp_report_ctx *c = d->ctx;
    const fp_impact_opts *o = &c->impact;
    fp_pdf_heading(d, "What the deployable savings are worth a year", 10.5);
    char as[1024];
    fp_impact_assumptions_text(o, as, sizeof as);
    fp_pdf_para_at(d, as, 7.5, 0, 0, 1);
    if (c->deploy.ndeployable == 0) {
        fp_pdf_para(d, "No deployable choice: no saving to count.", PDF_BODY_FS, 0);
        return;
    }
    static const char *const head[] = {"GPU",
                                       "App",
                                       "Set SM clock (MHz)",
                                       "Baseline power (W)",
                                       "Energy saved (kWh/year) [95" NBSP "%" NBSP "CI]",
                                       "Cost saved (per year)",
                                       "CO2e avoided (kg/year)"};
    static const int wrap[] = {0, 1, 0, 0, 0, 0, 0}, right[] = {0, 0, 1, 1, 1, 1, 1};
    grid g = {.ncol = 7};
    double tk = 0, tc = 0, tco = 0;
    int busy_over = 0;
    for (size_t i = 0; i < c->deploy.n; i++) {
        const fp_deploy_row *r = &c->deploy.rows[i];
        fp_impact im;
        if (!r->deployable || fp_impact_of(r->rec, o, &im))
            continue;
        tk += im.kwh_year;
        tc += im.cost_year;
        tco += im.co2_kg_year;
        busy_over |= im.busy_after > 1;
        if (i >= c->nlisted || !grid_row(&g))
            continue; /* counted, not listed */
        char m[64];
        fp_report_money(m, sizeof m, im.cost_year, o->currency);
        grid_set(&g, 0, "%s", r->gpu);
        grid_set(&g, 1, "%s", r->app);
        grid_set(&g, 2, "%.0f", r->rec->freq_mhz);
        grid_set(&g, 3, "%.0f", im.base_power_w);
        if (isfinite(im.kwh_lo) && isfinite(im.kwh_hi))
            grid_set(&g, 4, "%.0f [%.0f, %.0f]", im.kwh_year, im.kwh_lo, im.kwh_hi);
        else
            grid_set(&g, 4, "%.0f", im.kwh_year);
        grid_set(&g, 5, "%s", m);
        grid_set(&g, 6, "%.0f", im.co2_kg_year);
    }
    if (grid_row(&g)) {
        char m[64];
        fp_report_money(m, sizeof m, tc, o->currency);
        grid_set(&g, 0, "all");
        grid_set(&g, 1, "deployable choices");
        grid_set(&g, 4, "%.0f", tk);
        grid_set(&g, 5, "%s", m);
        grid_set(&g, 6, "%.0f", tco);
    }
    if (grid_ok(&g)) {
        fp_pdf_table tb = {7, head, wrap, right, 7.5};
        fp_pdf_table_draw(d, &tb, g.c, g.nrows, NULL, NULL);
    }
    grid_free(&g);
    left_out(d, c, c->nlisted, ALL_RECS);
    if (busy_over)
        fp_pdf_para(d,
                    "At this utilisation a slower clock needs more than the whole year for the "
                    "same work: lower --utilisation.",
                    PDF_BODY_FS, 1);
}

void fp_pdf_decision(fp_pdf_doc *d)
{
    const fp_report_ctx *c = d->ctx;
    fp_pdf_heading(d, "Which clock to set", 12);
    if (c->nothing) {
        fp_pdf_para(d, c->nothing_text, 11, 1);
        return;
    }
    fp_pdf_para_at(d, c->rule_text, 8, 0, 0, 0);
    fp_pdf_para_at(d, c->budgets_text, 8, 0, 0, 0);
    if (c->deploy.n == 0) {
        fp_pdf_para(d, "No recommendations were given (run freqpilot optimize).", PDF_BODY_FS, 0);
        return;
    }
    deploy_table(d);
    char buf[256];
    if (c->deploy.ndeployable == c->deploy.n)
        snprintf(buf, sizeof buf,
                 "All %zu (GPU, app) choices are deployable. Every objective and budget computed "
                 "is in the appendix.",
                 c->deploy.n);
    else
        snprintf(buf, sizeof buf,
                 "%zu of %zu (GPU, app) choices are deployable; the others keep the default "
                 "clocks, for the reason under each. Every objective and budget computed is in "
                 "the appendix.",
                 c->deploy.ndeployable, c->deploy.n);
    fp_pdf_para(d, buf, PDF_BODY_FS, 0);
    across(d);
    impact(d);
    const fp_agg_result *a = d->in->agg;
    if (a->nfindings) {
        fp_pdf_para(
            d, "Data-quality findings that limit these recommendations (see Data quality):", 8, 1);
        for (size_t i = 0; i < a->nfindings; i++) {
            snprintf(buf, sizeof buf, "%s %s: %s", a->findings[i].gpu, a->findings[i].app,
                     fp_flag_name(a->findings[i].flag));
            fp_pdf_para_at(d, buf, 7.5, 0, 8, 0);
            d->y -= 2.5;
        }
    }
}

/* ---- workload cards ---- */

void fp_pdf_cards(fp_pdf_doc *d)
{
    const fp_report_ctx *c = d->ctx;
    if (c->deploy.n == 0 || c->nothing)
        return;
    fp_pdf_new_page(d);
    fp_pdf_heading(d, "Workloads", 14);
    fp_plot_opts po;
    fp_plot_opts_init(&po);
    po.simulated = c->simulated;
    const double fig_w = 2.5, fig_h = 1.75, text_x = fig_w * 72 + 12;
    for (size_t i = 0; i < c->ncards; i++) {
        const fp_deploy_row *r = &c->deploy.rows[i];
        const fp_rec *rec = r->rec;
        fp_pdf_need(d, fig_h * 72 + 8);
        double top = d->y;
        po.gpu = r->gpu;
        po.app = r->app;
        fp_figure f;
        double h = fp_pdf_figure(
            d, &f, fp_plot_card(d->in->agg, r->deployable ? rec : NULL, &po, &f, NULL), fig_w,
            fig_h, 0, 0);
        /* The text beside the thumbnail: a paragraph indented past it. */
        char *t = NULL;
        if (asprintf(&t, "%s %s", r->gpu, r->app) >= 0) {
            fp_pdf_para_at(d, t, 10, 1, text_x, 0);
            free(t);
        }
        char buf[1200];
        if (r->deployable) {
            char s[64], sl[64];
            fp_report_pct_ci(s, sizeof s, rec->energy_saving, rec->energy_saving_lo,
                             rec->energy_saving_hi);
            fp_report_pct_ci(sl, sizeof sl, rec->slowdown, rec->slowdown_lo, rec->slowdown_hi);
            snprintf(buf, sizeof buf,
                     "Set %.0f MHz (baseline %.0f MHz): saves %s of the energy at %s slowdown.",
                     rec->freq_mhz, rec->baseline_mhz, s, sl);
        } else {
            snprintf(buf, sizeof buf, "Keep the default clocks.");
        }
        fp_pdf_para_at(d, buf, 8, 1, text_x, 0);
        char lim[1024];
        fp_report_limit_text(c, r, lim, sizeof lim);
        snprintf(buf, sizeof buf, "What limits it: %s", lim);
        fp_pdf_para_at(d, buf, 7.5, 0, text_x, 0);
        if (d->y < top + h + 8)
            d->y = top + h + 8;
    }
    left_out(d, c, c->ncards, "freqpilot plot card DATA --gpu G --app A draws any card; " ALL_RECS);
}

/* ---- validation ---- */

static const char *mark(const char *status)
{
    if (!status)
        return "?";
    if (!strcmp(status, "pass"))
        return "\xe2\x9c\x93";
    if (!strcmp(status, "warn"))
        return "!";
    if (!strcmp(status, "fail"))
        return "\xe2\x9c\x97";
    return "\xe2\x80\x93";
}

/* The header of check k's column: "clock dependence" (a space lets it wrap); short: the
 * abbreviations of the appendix's wider table ("clock dep.", "plaus."), named in its text. */
static const char *check_head(size_t k, int short_name)
{
    static char names[2][FP_VALIDATE_NCHECKS][32];
    const char *n = fp_check_name(k);
    if (short_name && strlen(n) > 6) {
        const char *sp = strchr(n, '_');
        snprintf(names[1][k], sizeof names[1][k], "%.*s%s%.3s.", sp ? (int)(sp - n) : 5, n,
                 sp ? " " : "", sp ? sp + 1 : "");
        return names[1][k];
    }
    snprintf(names[0][k], sizeof names[0][k], "%s", n);
    for (char *p = names[0][k]; *p; p++)
        if (*p == '_')
            *p = ' ';
    return names[0][k];
}

/* The marks of v's checks into the last row of g from column col, coloured by outcome. */
static void check_marks(grid *g, const fp_val *v, size_t col)
{
    for (size_t k = 0; k < FP_VALIDATE_NCHECKS && fp_check_name(k); k++) {
        const fp_val_check *ck = fp_report_val_check(v, fp_check_name(k));
        const char *st = ck ? ck->status : NULL;
        grid_set(g, col + k, "%s", mark(st));
        int c = !st                   ? -1
                : !strcmp(st, "pass") ? FP_C_GREEN
                : !strcmp(st, "fail") ? FP_C_VERMILLION
                : !strcmp(st, "warn") ? FP_C_ORANGE
                                      : FP_C_GREY;
        g->color[(g->nrows - 1) * g->ncol + col + k] = c;
    }
}

void fp_pdf_validation(fp_pdf_doc *d)
{
    const fp_report_ctx *c = d->ctx;
    const fp_report_input *in = d->in;
    if (!in->vals || in->vals->len == 0 || c->deploy.n == 0 || c->nothing)
        return;
    fp_pdf_new_page(d);
    fp_pdf_heading(d, "Validation", 12);
    fp_pdf_para(d,
                "Each deploy choice recomputed from the data and checked by freqpilot validate "
                "(docs/method.md C.5): \xe2\x9c\x93 pass, ! warns, \xe2\x9c\x97 fails, "
                "\xe2\x80\x93 does not apply. The Glossary says what each check tests; the "
                "appendix has every recommendation's validation.",
                PDF_BODY_FS, 0);
    const char *head[4 + FP_VALIDATE_NCHECKS];
    int wrap[4 + FP_VALIDATE_NCHECKS] = {0}, right[4 + FP_VALIDATE_NCHECKS] = {0};
    head[0] = "GPU";
    head[1] = "App";
    head[2] = "Clock (MHz)";
    head[3] = "Verdict";
    wrap[1] = wrap[3] = 1;
    right[2] = 1;
    size_t nck = 0;
    for (; fp_check_name(nck) && nck < FP_VALIDATE_NCHECKS; nck++)
        head[4 + nck] = check_head(nck, 0);
    grid g = {.ncol = 4 + nck};
    fp_sbuf details = {0};
    for (size_t i = 0; i < c->nlisted; i++) {
        const fp_deploy_row *r = &c->deploy.rows[i];
        const fp_val *v = fp_report_ctx_val_of(c, r->rec);
        if (!grid_row(&g))
            break;
        grid_set(&g, 0, "%s", r->gpu);
        grid_set(&g, 1, "%s", r->app);
        if (r->rec)
            grid_set(&g, 2, "%.0f", r->rec->freq_mhz);
        if (!v) {
            grid_set(&g, 3, "not validated");
            continue;
        }
        grid_set(&g, 3, "%s", v->verdict);
        g.color[(g.nrows - 1) * g.ncol + 3] = vcolor(v->verdict);
        check_marks(&g, v, 4);
        for (size_t k = 0; k < nck; k++) {
            const fp_val_check *ck = fp_report_val_check(v, fp_check_name(k));
            if (ck && (!strcmp(ck->status, "fail") || !strcmp(ck->status, "warn")))
                fp_sbuf_printf(&details, "%s %s, %s (%s): %s\n", r->gpu, r->app, ck->name,
                               ck->status, ck->detail);
        }
    }
    if (grid_ok(&g)) {
        fp_pdf_table tb = {g.ncol, head, wrap, right, 7.5};
        fp_pdf_table_draw(d, &tb, g.c, g.nrows, NULL, g.color);
    }
    grid_free(&g);
    left_out(d, c, c->nlisted, ALL_VALS);
    if (details.len && !details.oom) {
        fp_pdf_para(d, "The checks that fail or warn, in words:", PDF_BODY_FS, 1);
        char *save = NULL;
        for (char *l = strtok_r(details.s, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            fp_pdf_para_at(d, l, 7.5, 0, 8, 0);
    }
    fp_sbuf_free(&details);
}

/* ---- glossary ---- */

void fp_pdf_glossary(fp_pdf_doc *d)
{
    fp_pdf_heading(d, "Glossary", 14);
    fp_pdf_para(d, "Every verdict, flag, finding and check any freqpilot command prints.",
                PDF_BODY_FS, 0);
    for (size_t i = 0; fp_glossary_at(i); i++) {
        const fp_glossary_entry *e = fp_glossary_at(i);
        char *buf = NULL;
        if (asprintf(&buf, "%s (%s): %s.", e->term, e->kind, e->text) >= 0) {
            fp_pdf_para(d, buf, 8, 0);
            free(buf);
        }
    }
}

/* ---- appendix ---- */

void fp_pdf_appendix(fp_pdf_doc *d)
{
    const fp_report_input *in = d->in;
    fp_pdf_heading(d, "Appendix: every recommendation", 14);
    if (!in->recs || in->recs->len == 0) {
        fp_pdf_para(d, "No recommendations were given (run freqpilot optimize).", PDF_BODY_FS, 0);
        return;
    }
    if (d->ctx->nothing) {
        fp_pdf_para(d, d->ctx->nothing_text, PDF_BODY_FS, 0);
        return;
    }
    fp_pdf_para(d,
                "Every objective and budget optimize computed, relative to the baseline, with 95 "
                "% intervals and optimize's verdict (its reason under each row that is not "
                "deployable); the flags are explained in the Glossary.",
                PDF_BODY_FS, 0);
    static const char *const head[] = {"GPU",
                                       "App",
                                       "Objective",
                                       "Budget",
                                       "Clock (MHz)",
                                       "Baseline (MHz)",
                                       "Energy saving [95" NBSP "%" NBSP "CI]",
                                       "Slowdown [95" NBSP "%" NBSP "CI]",
                                       "Verdict",
                                       "Flags"};
    static const int wrap[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 1},
                     right[] = {0, 0, 0, 1, 1, 1, 1, 1, 0, 0};
    grid g = {.ncol = 10};
    const char **notes = calloc(in->recs->len, sizeof *notes);
    for (size_t i = 0; notes && i < in->recs->len; i++) {
        const fp_rec *r = &in->recs->items[i];
        if (!fp_report_listed(d->ctx, r->gpu, r->app))
            continue;
        if (!grid_row(&g))
            break;
        char s[64], sl[64], bud[32];
        fp_report_pct_ci(s, sizeof s, r->energy_saving, r->energy_saving_lo, r->energy_saving_hi);
        fp_report_pct_ci(sl, sizeof sl, r->slowdown, r->slowdown_lo, r->slowdown_hi);
        fp_report_budget(bud, sizeof bud, r->max_slowdown);
        grid_set(&g, 0, "%s", r->gpu);
        grid_set(&g, 1, "%s", r->app);
        grid_set(&g, 2, "%s", r->objective);
        grid_set(&g, 3, "%s", bud);
        grid_set(&g, 4, "%.0f", r->freq_mhz);
        grid_set(&g, 5, "%.0f", r->baseline_mhz);
        grid_set(&g, 6, "%s", s);
        grid_set(&g, 7, "%s", sl);
        grid_set(&g, 8, "%s", fp_report_verdict(r));
        grid_set(&g, 9, "%s", r->flags);
        g.color[(g.nrows - 1) * 10 + 8] = vcolor(r->verdict);
        notes[g.nrows - 1] = strcmp(r->verdict, "deployable") ? r->verdict_reason : NULL;
    }
    if (notes && grid_ok(&g)) {
        fp_pdf_table tb = {10, head, wrap, right, 7};
        fp_pdf_table_draw(d, &tb, g.c, g.nrows, notes, g.color);
    }
    free(notes);
    grid_free(&g);
    left_out(d, d->ctx, d->ctx->nlisted, ALL_RECS);
    if (!in->vals || in->vals->len == 0)
        return;
    fp_pdf_heading(d, "Validation of every recommendation", 11);
    fp_pdf_para(d,
                "Each check's outcome (\xe2\x9c\x93 pass, ! warns, \xe2\x9c\x97 fails, "
                "\xe2\x80\x93 does not apply; the checks data, budget, saving, frontier, cv, "
                "drift, counter, clock dependence, plausibility, shortened in the header), and "
                "under each row the checks that fail or warn, in words.",
                PDF_BODY_FS, 0);
    enum { VC = 6 + FP_VALIDATE_NCHECKS };
    const char *vh[VC] = {"GPU", "App", "Objective", "Budget", "Clock (MHz)", "Verdict"};
    int vw[VC] = {0, 1, 0, 0, 0, 0}, vr[VC] = {0, 0, 0, 1, 1, 0};
    for (size_t k = 0; k < FP_VALIDATE_NCHECKS; k++)
        vh[6 + k] = check_head(k, 1);
    grid v = {.ncol = VC};
    const char **vnotes = calloc(in->vals->len ? in->vals->len : 1, sizeof *vnotes);
    for (size_t i = 0; i < in->vals->len; i++) {
        const fp_val *x = &in->vals->items[i];
        if (!fp_report_listed(d->ctx, x->gpu, x->app))
            continue;
        if (!grid_row(&v))
            break;
        char bud[32];
        fp_report_budget(bud, sizeof bud, x->max_slowdown);
        grid_set(&v, 0, "%s", x->gpu);
        grid_set(&v, 1, "%s", x->app);
        grid_set(&v, 2, "%s", x->objective);
        grid_set(&v, 3, "%s", bud);
        grid_set(&v, 4, "%.0f", x->freq_mhz);
        grid_set(&v, 5, "%s", x->verdict);
        v.color[(v.nrows - 1) * VC + 5] = vcolor(x->verdict);
        check_marks(&v, x, 6);
        if (vnotes)
            vnotes[v.nrows - 1] = x->notes;
    }
    if (vnotes && grid_ok(&v)) {
        fp_pdf_table tb = {VC, vh, vw, vr, 7};
        fp_pdf_table_draw(d, &tb, v.c, v.nrows, vnotes, v.color);
    }
    free(vnotes);
    grid_free(&v);
    left_out(d, d->ctx, d->ctx->nlisted, ALL_VALS);
}
