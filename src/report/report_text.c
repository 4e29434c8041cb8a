/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Words shared by report.html and report.pdf. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"
#include "freqpilot/optimize.h"
#include "util/keyidx.h"

size_t fp_report_pairs(const fp_agg_result *agg, size_t *first_row, size_t cap)
{
    return fp_agg_pairs(agg->rows, agg->nrows, first_row, cap);
}

size_t fp_report_gpus(const fp_agg_result *agg, const char **gpus, size_t cap)
{
    size_t n = 0;
    fp_keyidx *idx = fp_keyidx_new(cap);
    for (size_t i = 0; i < agg->nrows && n < cap; i++) {
        const char *g = agg->rows[i].gpu;
        int seen = 0;
        if (idx) {
            seen = fp_keyidx_get(idx, g, "", NAN) >= 0;
            if (!seen && fp_keyidx_add(idx, g, "", NAN, n) < 0) {
                fp_keyidx_free(idx); /* no memory: the scan below */
                idx = NULL;
            }
        }
        for (size_t k = 0; !idx && k < n && !seen; k++)
            seen = !strcmp(gpus[k], g);
        if (!seen)
            gpus[n++] = g;
    }
    fp_keyidx_free(idx);
    return n;
}

void fp_report_counts(const fp_agg_result *agg, size_t *ngpus, size_t *npairs)
{
    fp_agg_groups g;
    *ngpus = *npairs = 0;
    if (fp_agg_groups_build(agg->rows, agg->nrows, 0, &g, NULL) == FP_OK) {
        *ngpus = g.ngroups;
        fp_agg_groups_free(&g);
    }
    if (fp_agg_groups_build(agg->rows, agg->nrows, 1, &g, NULL) == FP_OK) {
        *npairs = g.ngroups;
        fp_agg_groups_free(&g);
    }
}

void fp_report_figures_left_out(char *buf, size_t n, size_t drawn_pairs, size_t npairs,
                                size_t drawn_gpus, size_t ngpus)
{
    buf[0] = '\0';
    if (drawn_pairs >= npairs && drawn_gpus >= ngpus)
        return;
    snprintf(buf, n,
             "Figures of the first %zu of %zu (GPU, app) pairs and heatmaps of the first %zu of "
             "%zu GPUs are shown; `freqpilot plot sweep|pareto|heatmap DATA --gpu G --app A "
             "-o FILE` draws any other.",
             drawn_pairs < npairs ? drawn_pairs : npairs, npairs,
             drawn_gpus < ngpus ? drawn_gpus : ngpus, ngpus);
}

void fp_report_pct_ci(char *buf, size_t n, double v, double lo, double hi)
{
    if (!isfinite(v))
        snprintf(buf, n, "-");
    else if (isfinite(lo) && isfinite(hi))
        snprintf(buf, n, "%.1f %% [%.1f, %.1f]", v * 100, lo * 100, hi * 100);
    else
        snprintf(buf, n, "%.1f %%", v * 100);
}

void fp_report_money(char *buf, size_t n, double v, const char *currency)
{
    if (!isfinite(v))
        snprintf(buf, n, "-");
    else if (fabs(v) >= 100)
        snprintf(buf, n, "%.0f %s", v, currency);
    else
        snprintf(buf, n, "%.2f %s", v, currency);
}

void fp_report_budget(char *buf, size_t n, double max_slowdown)
{
    if (isfinite(max_slowdown))
        snprintf(buf, n, "%g %%", max_slowdown * 100);
    else
        snprintf(buf, n, "none");
}

const char *fp_report_verdict(const fp_rec *r)
{
    /* The verdict optimize computed (fp_opt_assess): the report never judges on its own. */
    return r->verdict[0] ? r->verdict : "unknown (no verdict in the optimize JSON)";
}

const char fp_report_method_text[] =
    "Windows. Time and energy cover the same window: the inference window the workload marks, "
    "else the active window found on the telemetry. Model loading is not inference.\n\n"
    "Energy. The hardware energy counter delta over the window when present, cross-checked "
    "against the trapezoid integral of power; disagreement is flagged (counter_mismatch).\n\n"
    "Clocks. The SM clock is locked, read back and compared with the request; a row whose "
    "clock was not held is flagged (clock_not_held) and never reported as that frequency.\n\n"
    "Repetition and order. Several runs per clock; cold starts at the beginning of a sweep are "
    "dropped; outliers are dropped only by a stated robust rule and always reported; drift "
    "against sweep position is tested and reported.\n\n"
    "Statistics. The centre of each clock is the median of the kept runs; 95 % percentile "
    "bootstrap intervals with a fixed seed. EDP = E x T and ED2P = E x T^2 of the centres.\n\n"
    "Baseline. The highest clock measured, warm. Energy saving = 1 - E(f) / E(baseline); "
    "slowdown = T(f) / T(baseline) - 1, from estimates that borrow strength across "
    "neighbouring clocks (time non-increasing in the clock), with 95 % intervals.\n\n"
    "Recommendations. For each objective (energy, time, EDP, ED2P) the clock with the lowest "
    "estimated objective, unconstrained and under each slowdown budget (checked on the "
    "slowdown's one-sided 90 % bound); a slower clock replaces a faster one only when better "
    "by more than 0.5 %, so no recommendation is worse than the baseline. One verdict each "
    "(deployable, no significant saving, suspect: not a DVFS effect, insufficient data), the "
    "same as 'freqpilot optimize' and 'freqpilot validate' give.\n\n"
    "Realistic ranges. 10-25 % energy saved at <= 5 % slowdown for memory-bound inference, less "
    "for compute-bound work; claims above 40 % deserve suspicion unless the GPU was mostly "
    "idle.";

void fp_report_method_headings(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return;
    char line[512];
    size_t off = 0;
    while (fgets(line, sizeof line, f) && off + 1 < n) {
        if (strncmp(line, "## ", 3) != 0)
            continue;
        int w = snprintf(buf + off, n - off, "%s", line + 3);
        if (w < 0 || (size_t)w >= n - off)
            break;
        off += (size_t)w;
    }
    fclose(f);
}

/* ---- the decision ---- */

fp_status fp_report_ctx_init(fp_report_ctx *c, const fp_report_input *in, fp_error *err)
{
    memset(c, 0, sizeof *c);
    c->in = in;
    c->simulated = in->simulated || fp_agg_simulated(in->agg) ||
                   (in->recs && in->recs->simulated) || (in->vals && in->vals->simulated);
    fp_deploy_rule_init(&c->rule);
    if (in->objective)
        c->rule.objective = in->objective;
    c->rule.default_budget = in->max_slowdown;
    c->rule.constraints = in->constraints;
    if (in->impact)
        c->impact = *in->impact;
    else
        fp_impact_opts_init(&c->impact);
    fp_status st = fp_deploy_build(in->agg, in->recs, &c->rule, &c->deploy, err);
    if (st)
        return st;
    c->nstats = fp_deploy_summary(&c->deploy, c->stats, FP_REPORT_MAX_STATS);
    c->nothing = fp_deploy_nothing_to_optimise(&c->deploy, c->nothing_text, sizeof c->nothing_text);
    fp_deploy_rule_text(&c->rule, c->rule_text, sizeof c->rule_text);
    const char *apps[256];
    size_t na = 0;
    for (size_t i = 0; i < c->deploy.n && na < 256; i++) {
        int seen = 0;
        for (size_t k = 0; k < na && !seen; k++)
            seen = strcmp(apps[k], c->deploy.rows[i].app) == 0;
        if (!seen)
            apps[na++] = c->deploy.rows[i].app;
    }
    fp_deploy_budgets_text(&c->rule, apps, na, c->budgets_text, sizeof c->budgets_text);
    c->nlisted = c->deploy.n < FP_REPORT_LIST_PAIRS_MAX ? c->deploy.n : FP_REPORT_LIST_PAIRS_MAX;
    c->ncards = c->deploy.n < FP_REPORT_PAIRS_MAX ? c->deploy.n : FP_REPORT_PAIRS_MAX;
    c->listed = fp_keyidx_new(c->nlisted);
    for (size_t i = 0; c->listed && i < c->nlisted; i++)
        if (fp_keyidx_add(c->listed, c->deploy.rows[i].gpu, c->deploy.rows[i].app, NAN, i)) {
            fp_keyidx_free(c->listed);
            c->listed = NULL;
        }
    size_t nv = in->vals ? in->vals->len : 0;
    c->vals = nv ? fp_keyidx_new(nv) : NULL;
    for (size_t i = 0; c->vals && i < nv; i++)
        if (fp_keyidx_add(c->vals, in->vals->items[i].gpu, in->vals->items[i].app, NAN, i)) {
            fp_keyidx_free(c->vals);
            c->vals = NULL;
        }
    c->recs = in->recs && in->recs->len ? fp_recs_index(in->recs) : NULL;
    if (!c->listed || (nv && !c->vals) || (in->recs && in->recs->len && !c->recs)) {
        fp_report_ctx_free(c);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    return FP_OK;
}

void fp_report_ctx_free(fp_report_ctx *c)
{
    fp_deploy_free(&c->deploy);
    fp_keyidx_free(c->listed);
    fp_keyidx_free(c->vals);
    fp_keyidx_free(c->recs);
    c->listed = c->vals = c->recs = NULL;
}

int fp_report_listed(const fp_report_ctx *c, const char *gpu, const char *app)
{
    return c->listed && fp_keyidx_get(c->listed, gpu, app, NAN) >= 0;
}

void fp_report_left_out(const fp_report_ctx *c, size_t shown, const char *where, char *buf,
                        size_t n)
{
    if (shown >= c->deploy.n) {
        if (n)
            buf[0] = '\0';
        return;
    }
    snprintf(buf, n,
             "Listed: the first %zu of %zu (GPU, app) pairs (%zu left out); every total above "
             "counts them all, and %s.",
             shown, c->deploy.n, c->deploy.n - shown, where);
}

void fp_report_limit_text(const fp_report_ctx *c, const fp_deploy_row *d, char *buf, size_t n)
{
    const fp_rec *r = d->rec;
    if (d->state != FP_DEPLOY_REC) {
        snprintf(buf, n, "%s", d->why);
        return;
    }
    if (!d->deployable) {
        snprintf(buf, n, "Not deployable (%s): %s", r->verdict, r->verdict_reason);
        return;
    }
    const fp_rec *u = isfinite(d->budget) ? fp_recs_find_in(c->in->recs, c->recs, d->gpu, d->app,
                                                            c->rule.objective, NAN)
                                          : NULL;
    double lo = d->clock_lo_mhz;
    char b[32];
    fp_report_budget(b, sizeof b, d->budget);
    if (u && isfinite(u->freq_mhz) && u->freq_mhz < r->freq_mhz - 0.5)
        snprintf(buf, n,
                 "The %s slowdown budget: without a budget %.0f MHz would save %.1f %% at %.1f %% "
                 "slowdown (%s).",
                 b, u->freq_mhz, 100 * u->energy_saving, 100 * u->slowdown,
                 u->verdict[0] ? u->verdict : "no verdict");
    else if (isfinite(lo) && fabs(r->freq_mhz - lo) < 0.5)
        snprintf(buf, n,
                 "The clocks measured: %.0f MHz is the lowest one; a lower clock might save more.",
                 lo);
    else
        snprintf(buf, n,
                 "The energy curve: below %.0f MHz the estimated %s no longer improves by more "
                 "than the 0.5 %% margin%s.",
                 r->freq_mhz, c->rule.objective,
                 isfinite(d->budget) ? " (the budget does not bind)" : "");
}

/* Whether v is validate's check of recommendation r (same gpu, app, objective, budget,
 * clock). */
static int val_is(const fp_val *v, const fp_rec *r)
{
    if (strcmp(v->gpu, r->gpu) || strcmp(v->app, r->app) || strcmp(v->objective, r->objective))
        return 0;
    int a = isfinite(v->max_slowdown), b = isfinite(r->max_slowdown);
    if (a != b || (a && fabs(v->max_slowdown - r->max_slowdown) > 1e-9))
        return 0;
    return !(isfinite(v->freq_mhz) && fabs(v->freq_mhz - r->freq_mhz) > 0.5);
}

const fp_val *fp_report_ctx_val_of(const fp_report_ctx *c, const fp_rec *r)
{
    if (!c->vals || !r) /* no validation results */
        return NULL;
    fp_keyidx_iter it;
    size_t i;
    fp_keyidx_find(c->vals, r->gpu, r->app, NAN, &it);
    while (fp_keyidx_next(&it, &i))
        if (val_is(&c->in->vals->items[i], r))
            return &c->in->vals->items[i];
    return NULL;
}

const fp_val_check *fp_report_val_check(const fp_val *v, const char *name)
{
    for (size_t k = 0; v && k < v->nchecks; k++)
        if (strcmp(v->checks[k].name, name) == 0)
            return &v->checks[k];
    return NULL;
}
