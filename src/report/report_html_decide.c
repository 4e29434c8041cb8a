/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * report.html's decision: page one (which clock to set per (gpu, app), what the deployable
 * choices add up to and are worth), the workload cards, the validation of the deploy choices,
 * the glossary and the appendix of every recommendation. The verdicts are optimize's.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/glossary.h"
#include "freqpilot/optimize.h"
#include "report/canvas.h"
#include "report/report_int.h"

#define esc fp_html_esc

static const char *vclass(const char *verdict)
{
    return verdict && strcmp(verdict, "deployable") == 0 ? "ok" : "warn";
}

static void td(fp_sbuf *b, const char *cls, const char *s)
{
    if (cls)
        fp_sbuf_printf(b, "<td class=\"%s\">", cls);
    else
        fp_sbuf_printf(b, "<td>");
    esc(b, s);
    fp_sbuf_printf(b, "</td>");
}

/* ---- page one ---- */

/* What a table or the cards left out (fp_report_left_out), as a muted paragraph. */
static void left_out(fp_sbuf *b, const fp_report_ctx *c, size_t shown, const char *where)
{
    char buf[512];
    fp_report_left_out(c, shown, where, buf, sizeof buf);
    if (!buf[0])
        return;
    fp_sbuf_printf(b, "<p class=\"muted\">");
    esc(b, buf);
    fp_sbuf_printf(b, "</p>\n");
}

#define ALL_RECS "optimal.json holds every one (freqpilot optimize --format csv)"
#define ALL_VALS "validation.json holds every one"

static void deploy_table(fp_sbuf *b, const fp_report_ctx *c)
{
    const fp_deploy_table *t = &c->deploy;
    fp_sbuf_printf(b, "<table id=\"deploy-table\" class=\"deploy\">\n<thead><tr><th>GPU</th>"
                      "<th>App</th><th>Set SM clock (MHz)</th><th>Baseline (MHz)</th>"
                      "<th>Energy saving [95&nbsp;%% CI]</th><th>Slowdown [95&nbsp;%% CI]</th>"
                      "<th>Budget</th><th>Verdict</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < c->nlisted; i++) {
        const fp_deploy_row *d = &t->rows[i];
        const fp_rec *r = d->rec;
        const char *verdict = r && r->verdict[0] ? r->verdict : "-";
        char s[64] = "-", sl[64] = "-", bud[32], clk[64] = "-", base[32] = "-";
        fp_report_budget(bud, sizeof bud, d->budget);
        /* A candidate that keeps the baseline changes nothing: no row of zeros. */
        int moves = fp_deploy_row_moves(d);
        if (r && d->state == FP_DEPLOY_REC) {
            if (moves) {
                fp_report_pct_ci(s, sizeof s, r->energy_saving, r->energy_saving_lo,
                                 r->energy_saving_hi);
                fp_report_pct_ci(sl, sizeof sl, r->slowdown, r->slowdown_lo, r->slowdown_hi);
            }
            snprintf(base, sizeof base, "%.0f", r->baseline_mhz);
            snprintf(clk, sizeof clk, "%.0f", r->freq_mhz);
        }
        fp_sbuf_printf(b, "<tr class=\"row %s\" data-gpu=\"", d->deployable ? "dep" : "nodep");
        esc(b, d->gpu);
        fp_sbuf_printf(b, "\" data-app=\"");
        esc(b, d->app);
        fp_sbuf_printf(b, "\" data-clock=\"%s\" data-verdict=\"", r ? clk : "");
        esc(b, r ? r->verdict : "");
        fp_sbuf_printf(b, "\">");
        td(b, NULL, d->gpu);
        td(b, NULL, d->app);
        if (d->deployable)
            fp_sbuf_printf(b, "<td class=\"n set\">%s</td>", clk);
        else
            fp_sbuf_printf(b, "<td class=\"n keep\">%s</td>",
                           d->state == FP_DEPLOY_REC ? "keep default" : "-");
        fp_sbuf_printf(b,
                       "<td class=\"n\">%s</td><td class=\"n%s\">%s</td><td class=\"n%s\">%s"
                       "</td><td class=\"n\">%s",
                       base, d->deployable ? "" : " muted", s, d->deployable ? "" : " muted", sl,
                       bud);
        if (r && r->category[0]) {
            fp_sbuf_printf(b, " <small>");
            esc(b, r->category);
            fp_sbuf_printf(b, "</small>");
        }
        fp_sbuf_printf(b, "</td>");
        fp_sbuf_printf(b, "<td class=\"verdict %s\">", vclass(verdict));
        esc(b, verdict);
        fp_sbuf_printf(b, "</td></tr>\n");
        if (d->why[0]) {
            fp_sbuf_printf(b, "<tr class=\"why\"><td colspan=\"8\">");
            if (moves)
                fp_sbuf_printf(b, "Candidate %s MHz: ", clk);
            esc(b, d->why);
            fp_sbuf_printf(b, "</td></tr>\n");
        }
    }
    fp_sbuf_printf(b, "</tbody></table>\n");
    left_out(b, c, c->nlisted, ALL_RECS);
}

static void across(fp_sbuf *b, const fp_report_ctx *c)
{
    fp_sbuf_printf(b, "<h3 id=\"across\">Across configurations (deployable choices only)</h3>\n");
    const fp_deploy_stats *all = &c->stats[c->nstats - 1];
    if (all->n == 0) {
        fp_sbuf_printf(b, "<p>No deployable choice: nothing to sum up (%zu not deployable).</p>\n",
                       all->nother);
        return;
    }
    fp_sbuf_printf(b, "<table class=\"across\"><tr><th>GPU</th><th>Deployable</th><th>Energy "
                      "saving, mean &plusmn; sd</th><th>Range</th><th>Best</th><th>Worst</th>"
                      "<th>Mean slowdown</th><th>Not deployable</th></tr>\n");
    for (size_t i = 0; i < c->nstats; i++) {
        const fp_deploy_stats *s = &c->stats[i];
        int overall = !s->gpu[0];
        fp_sbuf_printf(b, "<tr%s><td>", overall ? " class=\"total\"" : "");
        esc(b, overall ? "all GPUs" : s->gpu);
        fp_sbuf_printf(b, "</td><td class=\"n\">%zu</td>", s->n);
        if (s->n == 0) {
            fp_sbuf_printf(b, "<td colspan=\"5\" class=\"muted\">none deployable</td>");
        } else {
            char sd[32] = "";
            if (isfinite(s->sd))
                snprintf(sd, sizeof sd, " &plusmn; %.1f", 100 * s->sd);
            fp_sbuf_printf(b, "<td class=\"n\">%.1f%s %%</td><td class=\"n\">%.1f to %.1f %%</td>",
                           100 * s->mean, sd, 100 * s->min, 100 * s->max);
            for (int k = 0; k < 2; k++) {
                const fp_deploy_row *d = k ? s->worst : s->best;
                fp_sbuf_printf(b, "<td>");
                if (overall) {
                    esc(b, d->gpu);
                    fp_sbuf_printf(b, " ");
                }
                esc(b, d->app);
                fp_sbuf_printf(b, " %.1f %%</td>", 100 * d->rec->energy_saving);
            }
            fp_sbuf_printf(b, "<td class=\"n\">%.1f %%</td>", 100 * s->slowdown_mean);
        }
        fp_sbuf_printf(b, "<td class=\"n\">%zu</td></tr>\n", s->nother);
    }
    fp_sbuf_printf(b, "</table>\n");
}

static void impact(fp_sbuf *b, const fp_report_ctx *c)
{
    const fp_impact_opts *o = &c->impact;
    fp_sbuf_printf(b, "<h3 id=\"impact\">What the deployable savings are worth a year</h3>\n");
    char as[1024];
    fp_impact_assumptions_text(o, as, sizeof as);
    fp_sbuf_printf(b, "<p class=\"muted\">");
    esc(b, as);
    fp_sbuf_printf(b, "</p>\n");
    if (c->deploy.ndeployable == 0) {
        fp_sbuf_printf(b, "<p>No deployable choice: no saving to count.</p>\n");
        return;
    }
    fp_sbuf_printf(b, "<table class=\"impact\"><tr><th>GPU</th><th>App</th><th>Set SM clock "
                      "(MHz)</th><th>Baseline power (W)</th><th>Energy saved (kWh/year) "
                      "[95&nbsp;%% CI]</th><th>Cost saved (per year)</th><th>CO<sub>2</sub>e "
                      "avoided (kg/year)</th></tr>\n");
    double tot_kwh = 0, tot_cost = 0, tot_co2 = 0, gpu_kwh = 0, gpu_cost = 0, gpu_co2 = 0;
    int busy_over = 0;
    const char *cur_gpu = NULL;
    for (size_t i = 0; i <= c->deploy.n; i++) {
        const fp_deploy_row *d = i < c->deploy.n ? &c->deploy.rows[i] : NULL;
        if (cur_gpu && (!d || strcmp(d->gpu, cur_gpu)) && i <= c->nlisted) {
            char m[64];
            fp_report_money(m, sizeof m, gpu_cost, o->currency);
            fp_sbuf_printf(b, "<tr class=\"sub\"><td>");
            esc(b, cur_gpu);
            fp_sbuf_printf(b,
                           "</td><td colspan=\"3\">total</td><td class=\"n\">%.0f</td>"
                           "<td class=\"n\">%s</td><td class=\"n\">%.0f</td></tr>\n",
                           gpu_kwh, m, gpu_co2);
            gpu_kwh = gpu_cost = gpu_co2 = 0;
            cur_gpu = NULL;
        }
        if (!d || !d->deployable)
            continue;
        fp_impact im;
        if (fp_impact_of(d->rec, o, &im))
            continue;
        cur_gpu = d->gpu;
        tot_kwh += im.kwh_year;
        tot_cost += im.cost_year;
        tot_co2 += im.co2_kg_year;
        if (i >= c->nlisted)
            continue; /* counted, not listed */
        char m[64], range[64] = "";
        fp_report_money(m, sizeof m, im.cost_year, o->currency);
        if (isfinite(im.kwh_lo) && isfinite(im.kwh_hi))
            snprintf(range, sizeof range, " [%.0f, %.0f]", im.kwh_lo, im.kwh_hi);
        busy_over |= im.busy_after > 1;
        fp_sbuf_printf(b, "<tr><td>");
        esc(b, d->gpu);
        fp_sbuf_printf(b, "</td><td>");
        esc(b, d->app);
        fp_sbuf_printf(b,
                       "</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td><td class=\"n\">"
                       "%.0f%s</td><td class=\"n\">%s</td><td class=\"n\">%.0f</td></tr>\n",
                       d->rec->freq_mhz, im.base_power_w, im.kwh_year, range, m, im.co2_kg_year);
        gpu_kwh += im.kwh_year;
        gpu_cost += im.cost_year;
        gpu_co2 += im.co2_kg_year;
    }
    char m[64];
    fp_report_money(m, sizeof m, tot_cost, o->currency);
    fp_sbuf_printf(b,
                   "<tr class=\"total\"><td colspan=\"4\">all deployable choices</td><td "
                   "class=\"n\">%.0f</td><td class=\"n\">%s</td><td class=\"n\">%.0f</td></tr>\n"
                   "</table>\n",
                   tot_kwh, m, tot_co2);
    left_out(b, c, c->nlisted, ALL_RECS);
    if (busy_over)
        fp_sbuf_printf(b, "<p class=\"warn\">At this utilisation a slower clock needs more than "
                          "the whole year for the same work: lower --utilisation.</p>\n");
}

static void findings(fp_sbuf *b, const fp_report_ctx *c)
{
    const fp_agg_result *a = c->in->agg;
    if (!a->nfindings)
        return;
    fp_sbuf_printf(b, "<p class=\"warn\">Data-quality findings that limit these "
                      "recommendations (details under <a href=\"#quality\">Data quality</a>, "
                      "meanings in the <a href=\"#glossary\">Glossary</a>):</p>\n"
                      "<ul class=\"findings\">\n");
    for (size_t i = 0; i < a->nfindings; i++) {
        const fp_agg_finding *f = &a->findings[i];
        fp_sbuf_printf(b, "<li><b>");
        esc(b, f->gpu);
        fp_sbuf_printf(b, " ");
        esc(b, f->app);
        fp_sbuf_printf(b, "</b>: %s</li>\n", fp_flag_name(f->flag));
    }
    fp_sbuf_printf(b, "</ul>\n");
}

void fp_html_decision(fp_sbuf *b, const fp_report_ctx *c)
{
    fp_sbuf_printf(b, "<section id=\"decision\">\n<h2 id=\"deploy\">Which clock to set</h2>\n"
                      "<p class=\"rule\">");
    esc(b, c->rule_text);
    fp_sbuf_printf(b, " ");
    esc(b, c->budgets_text);
    fp_sbuf_printf(b, "</p>\n");
    if (c->nothing) {
        fp_sbuf_printf(b, "<p id=\"nothing\" class=\"nothing\">");
        esc(b, c->nothing_text);
        fp_sbuf_printf(b, "</p>\n</section>\n");
        return;
    }
    if (c->deploy.n == 0) {
        fp_sbuf_printf(b, "<p>No recommendations were given (run <code>freqpilot optimize"
                          "</code>).</p>\n</section>\n");
        return;
    }
    deploy_table(b, c);
    if (c->deploy.ndeployable == c->deploy.n)
        fp_sbuf_printf(b, "<p><b>All %zu</b> (GPU, app) choices are deployable.", c->deploy.n);
    else
        fp_sbuf_printf(b,
                       "<p><b>%zu of %zu</b> (GPU, app) choices are deployable; the others "
                       "keep the default clocks, for the reason under each.",
                       c->deploy.ndeployable, c->deploy.n);
    fp_sbuf_printf(b, " Every objective and budget computed is in the <a href=\"#appendix\">"
                      "appendix</a>.</p>\n");
    across(b, c);
    impact(b, c);
    findings(b, c);
    fp_sbuf_printf(b, "</section>\n");
}

/* ---- workload cards ---- */

void fp_html_cards(fp_sbuf *b, const fp_report_ctx *c)
{
    if (c->deploy.n == 0)
        return;
    fp_sbuf_printf(b, "<h2 id=\"workloads\">Workloads</h2>\n<div class=\"cards\">\n");
    fp_plot_opts po;
    fp_plot_opts_init(&po);
    po.simulated = c->simulated;
    for (size_t i = 0; i < c->ncards; i++) {
        const fp_deploy_row *d = &c->deploy.rows[i];
        const fp_rec *r = d->rec;
        fp_sbuf_printf(b, "<div class=\"card\"><h3>");
        esc(b, d->gpu);
        fp_sbuf_printf(b, " &middot; ");
        esc(b, d->app);
        fp_sbuf_printf(b, "</h3>\n");
        po.gpu = d->gpu;
        po.app = d->app;
        fp_figure f;
        fp_html_figure(b, &f, fp_plot_card(c->in->agg, d->deployable ? r : NULL, &po, &f, NULL),
                       2.6);
        fp_sbuf_printf(b, "<p>");
        if (d->deployable) {
            char s[64], sl[64];
            fp_report_pct_ci(s, sizeof s, r->energy_saving, r->energy_saving_lo,
                             r->energy_saving_hi);
            fp_report_pct_ci(sl, sizeof sl, r->slowdown, r->slowdown_lo, r->slowdown_hi);
            fp_sbuf_printf(b,
                           "<b>Set %.0f MHz</b> (baseline %.0f MHz): saves %s of the energy "
                           "at %s slowdown.",
                           r->freq_mhz, r->baseline_mhz, s, sl);
        } else {
            fp_sbuf_printf(b, "<b>Keep the default clocks.</b>");
        }
        char lim[1024];
        fp_report_limit_text(c, d, lim, sizeof lim);
        fp_sbuf_printf(b, "</p>\n<p class=\"limit\"><b>What limits it:</b> ");
        esc(b, lim);
        fp_sbuf_printf(b, "</p></div>\n");
    }
    fp_sbuf_printf(b, "</div>\n");
    left_out(b, c, c->ncards, "freqpilot plot card DATA --gpu G --app A draws any card; " ALL_RECS);
}

/* ---- validation ---- */

static const char *mark(const char *status)
{
    if (!status)
        return "?";
    if (!strcmp(status, "pass"))
        return "\xe2\x9c\x93"; /* check mark */
    if (!strcmp(status, "warn"))
        return "!";
    if (!strcmp(status, "fail"))
        return "\xe2\x9c\x97"; /* ballot x */
    return "\xe2\x80\x93";     /* en dash: n/a */
}

/* One cell per check of v: its outcome as a mark, its finding as the cell's title. */
static void check_cells(fp_sbuf *b, const fp_val *v)
{
    for (size_t k = 0; fp_check_name(k); k++) {
        const fp_val_check *ck = fp_report_val_check(v, fp_check_name(k));
        const char *st = ck ? ck->status : NULL;
        fp_sbuf_printf(b, "<td class=\"ck %s\" title=\"", st ? st : "");
        esc(b, ck ? ck->detail : "");
        fp_sbuf_printf(b, "\">%s</td>", mark(st));
    }
}

void fp_html_validation(fp_sbuf *b, const fp_report_ctx *c)
{
    const fp_report_input *in = c->in;
    if (!in->vals || in->vals->len == 0 || c->deploy.n == 0)
        return;
    fp_sbuf_printf(b,
                   "<h2 id=\"validation\">Validation</h2>\n<p>Each deploy choice "
                   "recomputed from the data and checked by <code>freqpilot validate</code> "
                   "(docs/method.md C.5): %s pass, ! warns, %s fails, %s does not apply. What "
                   "each check tests is in the <a href=\"#glossary\">Glossary</a>; every "
                   "recommendation's validation is in the <a href=\"#appendix-validation\">"
                   "appendix</a>.</p>\n<table class=\"checks\"><tr><th>GPU</th><th>App</th>"
                   "<th>Clock (MHz)</th><th>Verdict</th>",
                   mark("pass"), mark("fail"), mark("n/a"));
    for (size_t k = 0; fp_check_name(k); k++)
        fp_sbuf_printf(b, "<th>%s</th>", fp_check_name(k));
    fp_sbuf_printf(b, "</tr>\n");
    fp_sbuf details = {0};
    for (size_t i = 0; i < c->nlisted; i++) {
        const fp_deploy_row *d = &c->deploy.rows[i];
        const fp_val *v = fp_report_ctx_val_of(c, d->rec);
        fp_sbuf_printf(b, "<tr><td>");
        esc(b, d->gpu);
        fp_sbuf_printf(b, "</td><td>");
        esc(b, d->app);
        fp_sbuf_printf(b, "</td><td class=\"n\">");
        if (d->rec)
            fp_sbuf_printf(b, "%.0f", d->rec->freq_mhz);
        fp_sbuf_printf(b, "</td>");
        if (!v) {
            fp_sbuf_printf(b, "<td colspan=\"%d\" class=\"muted\">not validated</td></tr>\n",
                           1 + FP_VALIDATE_NCHECKS);
            continue;
        }
        fp_sbuf_printf(b, "<td class=\"%s\">", vclass(v->verdict));
        esc(b, v->verdict);
        fp_sbuf_printf(b, "</td>");
        check_cells(b, v);
        for (size_t k = 0; fp_check_name(k); k++) {
            const fp_val_check *ck = fp_report_val_check(v, fp_check_name(k));
            if (ck && (!strcmp(ck->status, "fail") || !strcmp(ck->status, "warn"))) {
                fp_sbuf_printf(&details, "<li><b>");
                esc(&details, d->gpu);
                fp_sbuf_printf(&details, " ");
                esc(&details, d->app);
                fp_sbuf_printf(&details, "</b>, %s (%s): ", ck->name, ck->status);
                esc(&details, ck->detail);
                fp_sbuf_printf(&details, "</li>\n");
            }
        }
        fp_sbuf_printf(b, "</tr>\n");
    }
    fp_sbuf_printf(b, "</table>\n");
    left_out(b, c, c->nlisted, ALL_VALS);
    if (details.len) {
        fp_sbuf_printf(b, "<p>The checks that fail or warn, in words:</p>\n<ul class=\"checks\">"
                          "\n");
        fp_sbuf_add(b, details.s, details.len);
        fp_sbuf_printf(b, "</ul>\n");
    }
    if (details.oom)
        b->oom = 1;
    fp_sbuf_free(&details);
}

/* ---- glossary ---- */

void fp_html_glossary(fp_sbuf *b)
{
    fp_sbuf_printf(b, "<h2 id=\"glossary\">Glossary</h2>\n<p>Every verdict, flag, finding and "
                      "check any freqpilot command prints.</p>\n<dl class=\"glossary\">\n");
    for (size_t i = 0; fp_glossary_at(i); i++) {
        const fp_glossary_entry *e = fp_glossary_at(i);
        fp_sbuf_printf(b, "<dt id=\"g-%zu\">", i);
        esc(b, e->term);
        fp_sbuf_printf(b, " <small>(%s)</small></dt><dd>", e->kind);
        esc(b, e->text);
        fp_sbuf_printf(b, ".</dd>\n");
    }
    fp_sbuf_printf(b, "</dl>\n");
}

/* ---- appendix ---- */

/* flags with a space after each ';' so the cell wraps */
static void flags_cell(fp_sbuf *b, const char *flags)
{
    fp_sbuf_printf(b, "<td class=\"flags\">");
    for (const char *p = flags; *p; p++) {
        char ch[2] = {*p, 0};
        esc(b, ch);
        if (*p == ';')
            fp_sbuf_printf(b, " ");
    }
    fp_sbuf_printf(b, "</td>");
}

void fp_html_appendix(fp_sbuf *b, const fp_report_ctx *c)
{
    const fp_report_input *in = c->in;
    fp_sbuf_printf(b, "<h2 id=\"appendix\">Appendix: every recommendation</h2>\n");
    if (!in->recs || in->recs->len == 0) {
        fp_sbuf_printf(b, "<p>No recommendations were given (run <code>freqpilot optimize"
                          "</code>).</p>\n");
        return;
    }
    if (c->nothing) {
        fp_sbuf_printf(b, "<p>None: ");
        esc(b, c->nothing_text);
        fp_sbuf_printf(b, "</p>\n");
        return;
    }
    fp_sbuf_printf(b,
                   "<p>Every objective and budget optimize computed, relative to the baseline "
                   "(%s clock), with 95 %% intervals and optimize's verdict; the deploy choices "
                   "above are the rows of their rule. Flags are explained in the "
                   "<a href=\"#glossary\">Glossary</a>.</p>\n",
                   in->recs->baseline[0] ? in->recs->baseline : "max");
    fp_sbuf_printf(b, "<table id=\"all-recommendations\"><tr><th>GPU</th><th>App</th><th>"
                      "Objective</th><th>Budget</th><th>Clock (MHz)</th><th>Baseline (MHz)"
                      "</th><th>Energy saving [95&nbsp;%% CI]</th><th>Slowdown [95&nbsp;%% CI]"
                      "</th><th>Verdict</th><th>Flags</th></tr>\n");
    for (size_t i = 0; i < in->recs->len; i++) {
        const fp_rec *r = &in->recs->items[i];
        if (!fp_report_listed(c, r->gpu, r->app))
            continue;
        char s[64], d[64], bud[32];
        fp_report_pct_ci(s, sizeof s, r->energy_saving, r->energy_saving_lo, r->energy_saving_hi);
        fp_report_pct_ci(d, sizeof d, r->slowdown, r->slowdown_lo, r->slowdown_hi);
        fp_report_budget(bud, sizeof bud, r->max_slowdown);
        const char *v = fp_report_verdict(r);
        fp_sbuf_printf(b, "<tr>");
        td(b, NULL, r->gpu);
        td(b, NULL, r->app);
        td(b, NULL, r->objective);
        fp_sbuf_printf(b,
                       "<td class=\"n\">%s</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>"
                       "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"%s\">",
                       bud, r->freq_mhz, r->baseline_mhz, s, d, vclass(v));
        esc(b, v);
        if (r->verdict_reason[0]) {
            fp_sbuf_printf(b, "<br><small>");
            esc(b, r->verdict_reason);
            fp_sbuf_printf(b, "</small>");
        }
        fp_sbuf_printf(b, "</td>");
        flags_cell(b, r->flags);
        fp_sbuf_printf(b, "</tr>\n");
    }
    fp_sbuf_printf(b, "</table>\n");
    left_out(b, c, c->nlisted, ALL_RECS);
    if (!in->vals || in->vals->len == 0)
        return;
    fp_sbuf_printf(b,
                   "<h3 id=\"appendix-validation\">Validation of every recommendation</h3>\n"
                   "<p>Each check's outcome (%s pass, ! warns, %s fails, %s does not apply; "
                   "hover for its finding), then the checks that fail or warn in words.</p>\n"
                   "<table id=\"all-validations\" class=\"checks\"><tr><th>GPU</th><th>App"
                   "</th><th>Objective</th><th>Budget</th><th>Clock (MHz)</th><th>Verdict</th>",
                   mark("pass"), mark("fail"), mark("n/a"));
    for (size_t k = 0; fp_check_name(k); k++)
        fp_sbuf_printf(b, "<th>%s</th>", fp_check_name(k));
    fp_sbuf_printf(b, "<th>Checks that fail or warn</th></tr>\n");
    for (size_t i = 0; i < in->vals->len; i++) {
        const fp_val *v = &in->vals->items[i];
        if (!fp_report_listed(c, v->gpu, v->app))
            continue;
        char bud[32];
        fp_report_budget(bud, sizeof bud, v->max_slowdown);
        fp_sbuf_printf(b, "<tr>");
        td(b, NULL, v->gpu);
        td(b, NULL, v->app);
        td(b, NULL, v->objective);
        fp_sbuf_printf(b, "<td class=\"n\">%s</td><td class=\"n\">%.0f</td>", bud, v->freq_mhz);
        td(b, vclass(v->verdict), v->verdict);
        check_cells(b, v);
        td(b, NULL, v->notes[0] ? v->notes : "none");
        fp_sbuf_printf(b, "</tr>\n");
    }
    fp_sbuf_printf(b, "</table>\n");
    left_out(b, c, c->nlisted, ALL_VALS);
}
