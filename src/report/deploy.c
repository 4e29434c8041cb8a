/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The deploy table (freqpilot/deploy.h): one row per (gpu, app), picked among optimize's
 * recommendations by one stated rule. Nothing here judges: the verdict and its reason are
 * optimize's, as its JSON carries them.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/deploy.h"
#include "report/report_int.h"
#include "util/grow.h"
#include "util/keyidx.h"
#include "util/utf8.h"

void fp_deploy_rule_init(fp_deploy_rule *r)
{
    memset(r, 0, sizeof *r);
    r->objective = "energy";
    r->default_budget = 0.05;
}

static void pct(char *buf, size_t n, double f)
{
    if (isfinite(f))
        snprintf(buf, n, "%g %%", f * 100);
    else
        snprintf(buf, n, "none");
}

void fp_deploy_rule_text(const fp_deploy_rule *r, char *buf, size_t n)
{
    char def[32];
    pct(def, sizeof def, r->default_budget);
    const char *obj = r->objective ? r->objective : "energy";
    const char *what = strcmp(obj, "energy") == 0 ? "the lowest estimated energy"
                       : strcmp(obj, "time") == 0 ? "the shortest estimated time"
                                                  : NULL;
    char wbuf[64];
    if (!what) {
        snprintf(wbuf, sizeof wbuf, "the lowest estimated %s", obj);
        what = wbuf;
    }
    if (r->constraints)
        snprintf(buf, n,
                 "Deploy choice: per (GPU, app), the clock of %s within the app's slowdown "
                 "budget from %s (%s for an app it does not list), as freqpilot optimize chose "
                 "it, with its verdict.",
                 what, r->constraints->name[0] ? r->constraints->name : "--constraints",
                 isfinite(r->default_budget) ? def : "no budget");
    else if (isfinite(r->default_budget))
        snprintf(buf, n,
                 "Deploy choice: per (GPU, app), the clock of %s within a %s slowdown budget "
                 "(the default; --constraints FILE|PRESET sets per-app budgets), as freqpilot "
                 "optimize chose it, with its verdict.",
                 what, def);
    else
        snprintf(buf, n,
                 "Deploy choice: per (GPU, app), the clock of %s with no slowdown budget, as "
                 "freqpilot optimize chose it, with its verdict.",
                 what);
}

/* The budget of app under rule r and where it comes from. */
static double budget_of(const fp_deploy_rule *r, const char *app, char *from, size_t n)
{
    double b;
    const char *cat = NULL;
    if (r->constraints && fp_constraints_lookup(r->constraints, app, &b, &cat) == 0) {
        const char *name = r->constraints->name[0] ? r->constraints->name : "constraints";
        if (cat && cat[0])
            snprintf(from, n, "%s: %s", name, cat);
        else
            snprintf(from, n, "%s", name);
        return b;
    }
    snprintf(from, n, "%s", isfinite(r->default_budget) ? "default" : "none");
    return r->default_budget;
}

void fp_deploy_budgets_text(const fp_deploy_rule *r, const char *const *apps, size_t napps,
                            char *buf, size_t n)
{
    char def[32];
    pct(def, sizeof def, r->default_budget);
    size_t off = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        int w_ = snprintf(buf + off, off < n ? n - off : 0, __VA_ARGS__);                          \
        if (w_ > 0)                                                                                \
            off += (size_t)w_;                                                                     \
        if (off >= n)                                                                              \
            off = n ? n - 1 : 0;                                                                   \
    } while (0)
    if (!n)
        return;
    buf[0] = '\0';
    if (!r->constraints) {
        ADD("Budgets used: %s for every app (the default)", def);
    } else {
        if (strncmp(r->constraints->source, "preset ", 7) == 0)
            ADD("Budgets used: %s:", r->constraints->source);
        else
            ADD("Budgets used: %s (%s):", r->constraints->name, r->constraints->source);
        for (size_t i = 0; i < napps; i++) {
            char from[96], b[32];
            double v = budget_of(r, apps[i], from, sizeof from);
            pct(b, sizeof b, v);
            int own = strcmp(from, "default") != 0 && strcmp(from, "none") != 0;
            ADD("%s %s %s%s", i ? "," : "", apps[i], b, own ? "" : " (default)");
        }
    }
    ADD(".");
#undef ADD
}

/* The row of (gpu, app), added when new (pairs: the rows by the caller's strings, which
 * outlive the build). Its index, or -1 on no memory. */
static long push_pair(fp_deploy_table *t, size_t *cap, fp_keyidx *pairs, const char *gpu,
                      const char *app)
{
    long k = fp_keyidx_get(pairs, gpu, app, NAN);
    if (k >= 0)
        return k;
    if (FP_GROW(t->rows, t->n, *cap, 16) || fp_keyidx_add(pairs, gpu, app, NAN, t->n))
        return -1;
    fp_deploy_row *r = &t->rows[t->n];
    memset(r, 0, sizeof *r);
    fp_utf8_copy(r->gpu, sizeof r->gpu, gpu, strlen(gpu));
    fp_utf8_copy(r->app, sizeof r->app, app, strlen(app));
    r->only_clock_mhz = r->clock_lo_mhz = r->clock_hi_mhz = NAN;
    return (long)t->n++;
}

fp_status fp_deploy_build(const fp_agg_result *agg, const fp_rec_list *recs,
                          const fp_deploy_rule *rule, fp_deploy_table *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    fp_keyidx *pairs = fp_keyidx_new(64), *ridx = recs && recs->len ? fp_recs_index(recs) : NULL;
    if (!pairs || (recs && recs->len && !ridx))
        goto oom;
    /* One pass: the pairs, and each one's clocks with data (time and energy: counted; energy:
     * the range the report states). */
    for (size_t i = 0; agg && i < agg->nrows; i++) {
        const fp_agg_row *r = &agg->rows[i];
        long k = push_pair(out, &cap, pairs, r->gpu, r->app);
        if (k < 0)
            goto oom;
        fp_deploy_row *d = &out->rows[k];
        if (r->runs > 0 && isfinite(r->energy_j)) {
            d->clock_lo_mhz =
                isnan(d->clock_lo_mhz) ? r->freq_mhz : fmin(d->clock_lo_mhz, r->freq_mhz);
            d->clock_hi_mhz =
                isnan(d->clock_hi_mhz) ? r->freq_mhz : fmax(d->clock_hi_mhz, r->freq_mhz);
            if (isfinite(r->time_s)) {
                d->nclocks++;
                d->only_clock_mhz = r->freq_mhz;
            }
        }
    }
    for (size_t i = 0; recs && i < recs->len; i++)
        if (push_pair(out, &cap, pairs, recs->items[i].gpu, recs->items[i].app) < 0)
            goto oom;
    const char *obj = rule->objective ? rule->objective : "energy";
    for (size_t i = 0; i < out->n; i++) {
        fp_deploy_row *d = &out->rows[i];
        d->budget = budget_of(rule, d->app, d->budget_from, sizeof d->budget_from);
        d->rec = fp_recs_find_in(recs, ridx, d->gpu, d->app, obj, d->budget);
        if (d->nclocks == 1) {
            d->state = FP_DEPLOY_SINGLE_CLOCK;
            snprintf(d->why, sizeof d->why, "nothing to optimise: one clock measured (%.0f MHz)",
                     d->only_clock_mhz);
            out->nsingle++;
        } else if (!d->rec) {
            char b[32];
            pct(b, sizeof b, d->budget);
            d->state = FP_DEPLOY_MISSING;
            snprintf(d->why, sizeof d->why,
                     "no %s recommendation with budget %s among the inputs (run freqpilot "
                     "optimize with that budget or --constraints)",
                     obj, b);
        } else {
            d->state = FP_DEPLOY_REC;
            d->deployable = strcmp(d->rec->verdict, "deployable") == 0;
            if (!d->deployable)
                fp_utf8_copy(d->why, sizeof d->why, d->rec->verdict_reason,
                             strlen(d->rec->verdict_reason));
            out->ndeployable += d->deployable != 0;
        }
    }
    fp_keyidx_free(pairs);
    fp_keyidx_free(ridx);
    return FP_OK;
oom:
    fp_keyidx_free(pairs);
    fp_keyidx_free(ridx);
    fp_deploy_free(out);
    return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
}

void fp_deploy_free(fp_deploy_table *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}

int fp_deploy_row_moves(const fp_deploy_row *d)
{
    return d->state == FP_DEPLOY_REC && d->rec &&
           fabs(d->rec->freq_mhz - d->rec->baseline_mhz) >= 0.5;
}

int fp_deploy_nothing_to_optimise(const fp_deploy_table *t, char *buf, size_t n)
{
    if (t->n == 0 || t->nsingle != t->n)
        return 0;
    int same = 1;
    for (size_t i = 1; i < t->n; i++)
        same &= t->rows[i].only_clock_mhz == t->rows[0].only_clock_mhz;
    if (same) {
        snprintf(buf, n,
                 "Nothing to optimise: one clock measured (%.0f MHz) for %s%zu (GPU, app) "
                 "pair%s. Measure at least 3 clocks to choose one.",
                 t->rows[0].only_clock_mhz, t->n > 1 ? "each of the " : "", t->n,
                 t->n > 1 ? "s" : "");
        return 1;
    }
    size_t off = (size_t)snprintf(buf, n, "Nothing to optimise: one clock measured");
    for (size_t i = 0; i < t->n && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s %s at %.0f MHz", i ? ", " : " (",
                                t->rows[i].gpu, t->rows[i].app, t->rows[i].only_clock_mhz);
    if (off < n)
        snprintf(buf + off, n - off, "). Measure at least 3 clocks to choose one.");
    return 1;
}

/* Display width of a UTF-8 string (code points; good enough for names in a text table). */
static int width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void cell(FILE *fp, const char *s, int w)
{
    fputs(s, fp);
    for (int k = width(s); k < w; k++)
        fputc(' ', fp);
}

void fp_deploy_print(const fp_deploy_table *t, const fp_deploy_rule *rule, FILE *fp)
{
    char buf[1024];
    if (fp_deploy_nothing_to_optimise(t, buf, sizeof buf)) {
        fprintf(fp, "%s\n", buf);
        return;
    }
    fp_deploy_rule_text(rule, buf, sizeof buf);
    fprintf(fp, "# %s\n", buf);
    static const char *const hdr[] = {
        "gpu",    "app",    "MHz", "base", "energy saving [95% CI]", "slowdown [95% CI]",
        "budget", "verdict"};
    enum { NC = 8 };
    int w[NC];
    for (int k = 0; k < NC; k++)
        w[k] = width(hdr[k]);
    char(*cells)[NC][160] = calloc(t->n ? t->n : 1, sizeof *cells);
    if (!cells)
        return;
    for (size_t i = 0; i < t->n; i++) {
        const fp_deploy_row *d = &t->rows[i];
        const fp_rec *r = d->state == FP_DEPLOY_REC ? d->rec : NULL;
        char b[32];
        pct(b, sizeof b, d->budget);
        snprintf(cells[i][0], sizeof cells[i][0], "%s", d->gpu);
        snprintf(cells[i][1], sizeof cells[i][1], "%s", d->app);
        for (int k = 2; k < 6; k++)
            snprintf(cells[i][k], sizeof cells[i][k], "-");
        if (r) {
            /* as the report: a clock only where it is deployable, no numbers where nothing
             * moves */
            if (d->deployable)
                snprintf(cells[i][2], sizeof cells[i][2], "%.0f", r->freq_mhz);
            else
                snprintf(cells[i][2], sizeof cells[i][2], "keep default");
            snprintf(cells[i][3], sizeof cells[i][3], "%.0f", r->baseline_mhz);
            if (fp_deploy_row_moves(d)) {
                fp_report_pct_ci(cells[i][4], sizeof cells[i][4], r->energy_saving,
                                 r->energy_saving_lo, r->energy_saving_hi);
                fp_report_pct_ci(cells[i][5], sizeof cells[i][5], r->slowdown, r->slowdown_lo,
                                 r->slowdown_hi);
            }
        }
        snprintf(cells[i][6], sizeof cells[i][6], "%s (%s)", b, d->budget_from);
        snprintf(cells[i][7], sizeof cells[i][7], "%s",
                 d->rec && d->rec->verdict[0] ? d->rec->verdict : "-");
        for (int k = 0; k < NC; k++)
            if (width(cells[i][k]) > w[k])
                w[k] = width(cells[i][k]);
    }
    for (int k = 0; k < NC; k++) {
        cell(fp, hdr[k], k + 1 < NC ? w[k] + 2 : 0);
    }
    fputc('\n', fp);
    for (size_t i = 0; i < t->n; i++) {
        for (int k = 0; k < NC; k++)
            cell(fp, cells[i][k], k + 1 < NC ? w[k] + 2 : 0);
        fputc('\n', fp);
        if (t->rows[i].why[0]) {
            if (fp_deploy_row_moves(&t->rows[i]))
                fprintf(fp, "    candidate %.0f MHz: %s\n", t->rows[i].rec->freq_mhz,
                        t->rows[i].why);
            else
                fprintf(fp, "    %s\n", t->rows[i].why);
        }
    }
    fprintf(fp, "# %zu of %zu deployable\n", t->ndeployable, t->n);
    free(cells);
}

/* ---- across configurations ---- */

static void stats_of(const fp_deploy_table *t, const char *gpu, fp_deploy_stats *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->gpu, sizeof s->gpu, "%s", gpu ? gpu : "");
    double sum = 0, sum2 = 0, ssum = 0;
    s->min = INFINITY;
    s->max = -INFINITY;
    for (size_t i = 0; i < t->n; i++) {
        const fp_deploy_row *d = &t->rows[i];
        if (gpu && strcmp(d->gpu, gpu) != 0)
            continue;
        if (!d->deployable || !isfinite(d->rec->energy_saving)) {
            s->nother++;
            continue;
        }
        double v = d->rec->energy_saving;
        s->n++;
        sum += v;
        sum2 += v * v;
        ssum += isfinite(d->rec->slowdown) ? d->rec->slowdown : 0;
        if (v > s->max) {
            s->max = v;
            s->best = d;
        }
        if (v < s->min) {
            s->min = v;
            s->worst = d;
        }
    }
    if (s->n == 0) {
        s->mean = s->sd = s->min = s->max = s->slowdown_mean = NAN;
        return;
    }
    double nn = (double)s->n;
    s->mean = sum / nn;
    s->slowdown_mean = ssum / nn;
    s->sd = s->n > 1 ? sqrt(fmax(0.0, (sum2 - nn * s->mean * s->mean) / (nn - 1))) : NAN;
}

size_t fp_deploy_summary(const fp_deploy_table *t, fp_deploy_stats *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n && k + 1 < cap; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(t->rows[j].gpu, t->rows[i].gpu) == 0;
        if (!seen)
            stats_of(t, t->rows[i].gpu, &out[k++]);
    }
    if (k < cap)
        stats_of(t, NULL, &out[k++]);
    return k;
}

/* ---- impact ---- */

void fp_impact_opts_init(fp_impact_opts *o)
{
    memset(o, 0, sizeof *o);
    o->utilisation = 0.5;
    o->price_per_kwh = 0.15;
    snprintf(o->currency, sizeof o->currency, "USD");
    o->grid_g_per_kwh = 400;
    o->gpus = 1;
}

static int parse_num(const char *s, double *v)
{
    char *end;
    double x = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    int percent = *end == '%';
    if (percent)
        end++;
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == s || *end || !isfinite(x))
        return -1;
    *v = percent ? x / 100 : x;
    return 0;
}

int fp_impact_set(fp_impact_opts *o, const char *key, const char *value)
{
    double v;
    if (strcmp(key, "currency") == 0) {
        size_t n = strlen(value);
        if (n == 0 || n >= sizeof o->currency)
            return -1;
        memcpy(o->currency, value, n + 1);
        return 0;
    }
    if (parse_num(value, &v))
        return -1;
    if (strcmp(key, "utilisation") == 0 || strcmp(key, "utilization") == 0) {
        if (!(v > 0 && v <= 1))
            return -1;
        o->utilisation = v;
    } else if (strcmp(key, "price_per_kwh") == 0 || strcmp(key, "price") == 0) {
        if (!(v >= 0 && v < 1e6))
            return -1;
        o->price_per_kwh = v;
    } else if (strcmp(key, "grid_gco2_per_kwh") == 0 || strcmp(key, "grid_intensity") == 0) {
        if (!(v >= 0 && v < 1e5))
            return -1;
        o->grid_g_per_kwh = v;
    } else if (strcmp(key, "gpus") == 0) {
        if (!(v > 0 && v < 1e9))
            return -1;
        o->gpus = v;
    } else
        return -1;
    return 0;
}

int fp_impact_of(const fp_rec *r, const fp_impact_opts *o, fp_impact *out)
{
    out->base_power_w = out->kwh_year = out->kwh_lo = out->kwh_hi = NAN;
    out->cost_year = out->co2_kg_year = out->busy_after = NAN;
    double s = r->energy_saving, d = r->slowdown;
    if (!(isfinite(s) && isfinite(d) && isfinite(r->energy_j) && isfinite(r->time_s) &&
          r->time_s > 0 && s < 1 && d > -1))
        return -1;
    double e_base = r->energy_j / (1 - s), t_base = r->time_s / (1 + d);
    out->base_power_w = e_base / t_base;
    double kwh_per_unit_saving = o->utilisation * 8760.0 * out->base_power_w * o->gpus / 1000.0;
    out->kwh_year = kwh_per_unit_saving * s;
    out->kwh_lo = isfinite(r->energy_saving_lo) ? kwh_per_unit_saving * r->energy_saving_lo : NAN;
    out->kwh_hi = isfinite(r->energy_saving_hi) ? kwh_per_unit_saving * r->energy_saving_hi : NAN;
    out->cost_year = out->kwh_year * o->price_per_kwh;
    out->co2_kg_year = out->kwh_year * o->grid_g_per_kwh / 1000.0;
    out->busy_after = o->utilisation * (1 + d);
    return 0;
}

void fp_impact_assumptions_text(const fp_impact_opts *o, char *buf, size_t n)
{
    snprintf(buf, n,
             "Assumptions: each workload runs %g %% of the year (%.0f h) at the baseline clock on "
             "%g GPU%s and does the same work at the new clock (which then keeps the GPU busy "
             "longer, by its slowdown); electricity %g %s/kWh; grid %g g CO2e/kWh; GPU board "
             "energy only (no host, cooling or PUE). Change them with --utilisation, --price, "
             "--currency, --grid-intensity, --gpus or the [impact] section of the run config.",
             100 * o->utilisation, o->utilisation * 8760, o->gpus, o->gpus == 1 ? "" : "s",
             o->price_per_kwh, o->currency, o->grid_g_per_kwh);
}
