/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The choice of a clock per (gpu, app, objective, budget): baseline, slowdown and saving
 * intervals against it, the noise-aware budget rule and the preference for the higher of
 * clocks that the data cannot tell apart. docs/optimize.md states the rules.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "freqpilot/optimize.h"
#include "freqpilot/gpu_specs.h"
#include "freqpilot/stats.h"
#include "optimize/opt_internal.h"

/* Relative slack when comparing a slowdown with its budget (rounding of the CSV). */
#define BUDGET_EPS 1e-9

static const char *const opt_flag_names[FP_OPT_FLAG_COUNT_] = {
    "baseline_fallback",  "no_significant_saving", "no_feasible_clock",
    "analytic_intervals", "no_interval",           "prefer_higher_clock",
    "power_capped",       "suspect_saving",        "no_budget",
};

const char *fp_opt_flag_name(unsigned bit)
{
    return bit < FP_OPT_FLAG_COUNT_ ? opt_flag_names[bit] : NULL;
}

int fp_opt_flags_format(uint32_t data_flags, uint32_t opt_flags, char *buf, int size)
{
    int len = fp_flags_format(data_flags, buf, size);
    for (unsigned b = 0; b < FP_OPT_FLAG_COUNT_; b++) {
        if (!(opt_flags & (1u << b)))
            continue;
        int w = snprintf(buf + len, (size_t)(size > len ? size - len : 0), "%s%s", len ? ";" : "",
                         opt_flag_names[b]);
        if (w < 0 || len + w >= size)
            break;
        len += w;
    }
    return len;
}

void fp_opt_options_init(fp_opt_options *o)
{
    memset(o, 0, sizeof *o);
    o->baseline = FP_BASELINE_MAX;
    o->baseline_mhz = NAN;
    o->confidence = 0.95;
    o->bootstrap_samples = 2000;
    o->seed = FP_STATS_DEFAULT_SEED;
    o->pmax_w = NAN;
    o->max_power_w = NAN;
    o->suspect_saving = 0.40;
}

void fp_opt_results_free(fp_opt_results *r)
{
    free(r->items);
    r->items = NULL;
    r->len = r->cap = 0;
}

/* ---- Data ---- */

int fp_opt_point_ok(const fp_opt_point *p)
{
    return p->row->runs > 0 && isfinite(p->row->time_s) && isfinite(p->row->energy_j) &&
           p->row->time_s > 0.0 && p->row->energy_j > 0.0;
}

void fp_opt_data_free(fp_opt_data *d)
{
    for (size_t i = 0; i < d->ncurves; i++) {
        for (size_t j = 0; j < d->curves[i].n; j++) {
            free(d->curves[i].pts[j].time_runs);
            free(d->curves[i].pts[j].energy_runs);
            free(d->curves[i].pts[j].run_index);
        }
        free(d->curves[i].pts);
    }
    free(d->curves);
    free(d->agg.rows);
    free(d->agg.findings);
    memset(d, 0, sizeof *d);
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static int is_dropped(const fp_run_list *dropped, const fp_run *r)
{
    for (size_t i = 0; i < dropped->len; i++) {
        const fp_run *x = &dropped->items[i];
        if (x->run_index == r->run_index && x->repetition == r->repetition &&
            same_double(x->freq_mhz, r->freq_mhz) && same_double(x->time_s, r->time_s) &&
            strcmp(x->gpu, r->gpu) == 0 && strcmp(x->app, r->app) == 0 &&
            strcmp(x->source, r->source) == 0)
            return 1;
    }
    return 0;
}

static int cmp_point_desc(const void *a, const void *b)
{
    double fa = ((const fp_opt_point *)a)->row->freq_mhz;
    double fb = ((const fp_opt_point *)b)->row->freq_mhz;
    return (fa < fb) - (fa > fb);
}

static fp_opt_point *find_point(fp_opt_data *d, const char *gpu, const char *app, double f)
{
    for (size_t i = 0; i < d->ncurves; i++) {
        fp_opt_curve *c = &d->curves[i];
        if (strcmp(c->gpu, gpu) != 0 || strcmp(c->app, app) != 0)
            continue;
        for (size_t j = 0; j < c->n; j++)
            if (fabs(c->pts[j].row->freq_mhz - f) < 0.5)
                return &c->pts[j];
    }
    return NULL;
}

fp_status fp_opt_data_build(const fp_agg_result *agg, const fp_run_list *runs, fp_opt_data *out,
                            fp_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = agg->nrows;
    if (n) {
        out->agg.rows = malloc(n * sizeof *out->agg.rows);
        out->curves = calloc(n, sizeof *out->curves);
        if (!out->agg.rows || !out->curves)
            goto nomem;
        memcpy(out->agg.rows, agg->rows, n * sizeof *agg->rows);
        out->agg.nrows = n;
    }
    if (agg->nfindings) {
        out->agg.findings = malloc(agg->nfindings * sizeof *agg->findings);
        if (!out->agg.findings)
            goto nomem;
        memcpy(out->agg.findings, agg->findings, agg->nfindings * sizeof *agg->findings);
        out->agg.nfindings = agg->nfindings;
    }
    for (size_t i = 0; i < n; i++) {
        const fp_agg_row *r = &out->agg.rows[i];
        size_t k;
        for (k = 0; k < out->ncurves; k++)
            if (strcmp(out->curves[k].gpu, r->gpu) == 0 && strcmp(out->curves[k].app, r->app) == 0)
                break;
        fp_opt_curve *c = &out->curves[k];
        if (k == out->ncurves) {
            out->ncurves++;
            snprintf(c->gpu, sizeof c->gpu, "%s", r->gpu);
            snprintf(c->app, sizeof c->app, "%s", r->app);
            c->pts = calloc(n, sizeof *c->pts); /* trimmed below */
            if (!c->pts)
                goto nomem;
        }
        c->pts[c->n++].row = r;
    }
    for (size_t k = 0; k < out->ncurves; k++) {
        fp_opt_curve *c = &out->curves[k];
        fp_opt_point *p = realloc(c->pts, c->n * sizeof *p);
        if (p)
            c->pts = p;
        qsort(c->pts, c->n, sizeof *c->pts, cmp_point_desc);
    }
    if (!runs)
        return FP_OK;
    out->have_runs = 1;
    /* Two passes: count the kept runs of each point, then fill. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < runs->len; i++) {
            const fp_run *r = &runs->items[i];
            if (!isfinite(r->time_s) || !isfinite(r->energy_j) || is_dropped(&agg->dropped, r))
                continue;
            fp_opt_point *p = find_point(out, r->gpu, r->app, r->freq_mhz);
            if (!p)
                continue;
            if (pass == 0) {
                p->nruns++;
                continue;
            }
            p->time_runs[p->nruns] = r->time_s;
            p->energy_runs[p->nruns] = r->energy_j;
            p->run_index[p->nruns++] = r->run_index;
        }
        if (pass == 1)
            break;
        for (size_t k = 0; k < out->ncurves; k++)
            for (size_t j = 0; j < out->curves[k].n; j++) {
                fp_opt_point *p = &out->curves[k].pts[j];
                if (!p->nruns)
                    continue;
                p->time_runs = malloc(p->nruns * sizeof(double));
                p->energy_runs = malloc(p->nruns * sizeof(double));
                p->run_index = malloc(p->nruns * sizeof(long));
                if (!p->time_runs || !p->energy_runs || !p->run_index)
                    goto nomem;
                p->nruns = 0;
            }
    }
    return FP_OK;
nomem:
    fp_opt_data_free(out);
    return fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
}

/* ---- Baseline and comparisons ---- */

const char *fp_opt_curve_board(const fp_opt_curve *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->pts[i].row->gpu_name[0])
            return c->pts[i].row->gpu_name;
    return c->gpu;
}

double fp_opt_pmax(const char *gpu, const fp_opt_options *o)
{
    if (isfinite(o->pmax_w))
        return o->pmax_w;
    const fp_gpu_spec *s = fp_gpu_spec_find(gpu);
    return s ? s->power_limit_w : NAN;
}

int fp_opt_baseline(const fp_opt_curve *c, const fp_opt_options *o, int *fallback, fp_error *err)
{
    *fallback = 0;
    if (c->n == 0) {
        fp_error_set(err, FP_ERR_INVALID, "%s %s: no rows", c->gpu, c->app);
        return -1;
    }
    double target = c->pts[0].row->freq_mhz;
    if (o->baseline == FP_BASELINE_DEFAULT) {
        const char *board = fp_opt_curve_board(c);
        const fp_gpu_spec *s = fp_gpu_spec_find(board);
        if (!s || !s->default_clock_mhz) {
            fp_error_set(err, FP_ERR_INVALID,
                         "%s %s: --baseline default: the default clock of GPU '%s' is unknown "
                         "(give --baseline MHZ)",
                         c->gpu, c->app, board);
            return -1;
        }
        target = s->default_clock_mhz;
    } else if (o->baseline == FP_BASELINE_MHZ) {
        size_t j;
        for (j = 0; j < c->n; j++)
            if (fabs(c->pts[j].row->freq_mhz - o->baseline_mhz) < 0.5)
                break;
        if (j == c->n) {
            fp_error_set(err, FP_ERR_INVALID,
                         "%s %s: --baseline %.0f MHz: no such clock in the data (measured %.0f to "
                         "%.0f MHz)",
                         c->gpu, c->app, o->baseline_mhz, c->pts[c->n - 1].row->freq_mhz,
                         c->pts[0].row->freq_mhz);
            return -1;
        }
        target = o->baseline_mhz;
    }
    /*
     * A baseline of one run has no interval, and without one no other clock can be
     * compared with it; so max and default take the highest clock at or below the target
     * with at least 2 runs (any data at all when no clock has 2), a given clock as it is.
     */
    int min_runs = o->baseline == FP_BASELINE_MHZ ? 1 : 2;
    for (; min_runs >= 1; min_runs--)
        for (size_t j = 0; j < c->n; j++) {
            if (c->pts[j].row->freq_mhz > target + 0.5 || !fp_opt_point_ok(&c->pts[j]) ||
                c->pts[j].row->runs < min_runs)
                continue;
            *fallback = fabs(c->pts[j].row->freq_mhz - target) >= 0.5;
            return (int)j;
        }
    fp_error_set(err, FP_ERR_INVALID, "%s %s: no clock at or below %.0f MHz has data", c->gpu,
                 c->app, target);
    return -1;
}

static double z_of(double conf)
{
    return gsl_cdf_ugaussian_Pinv(0.5 + conf / 2.0);
}

/* Standard error of log(centre) from a row's 95 % interval; NAN when it has none. */
static double se_log(double lo, double hi)
{
    if (!(lo > 0.0) || !(hi > 0.0) || !isfinite(lo) || !isfinite(hi) || hi < lo)
        return NAN;
    return (log(hi) - log(lo)) / (2.0 * z_of(0.95));
}

/* Interval of num/den from centres and log standard errors. */
static void ratio_analytic(double num, double se_num, double den, double se_den, double conf,
                           double *lo, double *hi)
{
    double r = num / den, s = sqrt(se_num * se_num + se_den * se_den);
    if (!isfinite(s) || !(r > 0.0)) {
        *lo = *hi = NAN;
        return;
    }
    *lo = r * exp(-z_of(conf) * s);
    *hi = r * exp(z_of(conf) * s);
}

static int have_runs(const fp_opt_point *a, const fp_opt_point *b)
{
    return a->nruns >= 2 && b->nruns >= 2;
}

fp_status fp_opt_compare_points(const fp_opt_curve *c, size_t i, size_t b, const fp_opt_options *o,
                                fp_opt_compare *out, fp_error *err)
{
    const fp_opt_point *pi = &c->pts[i], *pb = &c->pts[b];
    const fp_agg_row *ri = pi->row, *rb = pb->row;
    memset(out, 0, sizeof *out);
    out->slowdown = ri->time_s / rb->time_s - 1.0;
    out->energy_saving = 1.0 - ri->energy_j / rb->energy_j;
    if (i == b) {
        out->slowdown_lo = out->slowdown_hi = 0.0;
        out->energy_saving_lo = out->energy_saving_hi = 0.0;
        return FP_OK;
    }
    double tlo, thi, elo, ehi, est;
    if (have_runs(pi, pb)) {
        if (fp_opt_bootstrap_ratio_median(pi->time_runs, pi->nruns, pb->time_runs, pb->nruns,
                                          o->confidence, o->bootstrap_samples, o->seed, &est, &tlo,
                                          &thi) < 0 ||
            fp_opt_bootstrap_ratio_median(pi->energy_runs, pi->nruns, pb->energy_runs, pb->nruns,
                                          o->confidence, o->bootstrap_samples, o->seed, &est, &elo,
                                          &ehi) < 0)
            return fp_error_set(err, FP_ERR_NOMEM, "optimize: bootstrap failed (out of memory)");
    } else {
        out->opt_flags |= FP_OPT_ANALYTIC_INTERVALS;
        ratio_analytic(ri->time_s, se_log(ri->time_s_lo, ri->time_s_hi), rb->time_s,
                       se_log(rb->time_s_lo, rb->time_s_hi), o->confidence, &tlo, &thi);
        ratio_analytic(ri->energy_j, se_log(ri->energy_j_lo, ri->energy_j_hi), rb->energy_j,
                       se_log(rb->energy_j_lo, rb->energy_j_hi), o->confidence, &elo, &ehi);
    }
    out->slowdown_lo = tlo - 1.0;
    out->slowdown_hi = thi - 1.0;
    out->energy_saving_lo = 1.0 - ehi;
    out->energy_saving_hi = 1.0 - elo;
    if (!isfinite(thi) || !isfinite(ehi))
        out->opt_flags |= FP_OPT_NO_INTERVAL;
    return FP_OK;
}

/*
 * Interval of objective(i) / objective(best). With runs, a bootstrap of the per-run
 * objective values; otherwise the log standard errors of E and T combined as if independent
 * (cost by the delta method).
 */
static fp_status objective_ratio(const fp_opt_curve *c, size_t i, size_t best,
                                 const fp_objective *obj, double pmax, const fp_opt_options *o,
                                 double *lo, double *hi, fp_error *err)
{
    const fp_opt_point *pi = &c->pts[i], *pb = &c->pts[best];
    if (have_runs(pi, pb)) {
        double *a = malloc((pi->nruns + pb->nruns) * sizeof *a), est;
        if (!a)
            return fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
        double *bv = a + pi->nruns;
        for (size_t k = 0; k < pi->nruns; k++)
            a[k] = fp_objective_value(obj, pi->time_runs[k], pi->energy_runs[k], pmax);
        for (size_t k = 0; k < pb->nruns; k++)
            bv[k] = fp_objective_value(obj, pb->time_runs[k], pb->energy_runs[k], pmax);
        int rc = fp_opt_bootstrap_ratio_median(a, pi->nruns, bv, pb->nruns, o->confidence,
                                               o->bootstrap_samples, o->seed, &est, lo, hi);
        free(a);
        if (rc < 0)
            return fp_error_set(err, FP_ERR_NOMEM, "optimize: bootstrap failed (out of memory)");
        return FP_OK;
    }
    double se[2];
    const fp_agg_row *rows[2] = {pi->row, pb->row};
    for (int k = 0; k < 2; k++) {
        const fp_agg_row *r = rows[k];
        double st = se_log(r->time_s_lo, r->time_s_hi),
               seE = se_log(r->energy_j_lo, r->energy_j_hi);
        switch (obj->kind) {
        case FP_OBJ_ENERGY:
            se[k] = seE;
            break;
        case FP_OBJ_TIME:
            se[k] = st;
            break;
        case FP_OBJ_COST: {
            double e = obj->param * r->energy_j, t = (1.0 - obj->param) * pmax * r->time_s;
            se[k] = sqrt(e * e * seE * seE + t * t * st * st) / (e + t);
            break;
        }
        default:
            se[k] = sqrt(seE * seE + obj->param * obj->param * st * st);
            break;
        }
    }
    ratio_analytic(fp_objective_value(obj, pi->row->time_s, pi->row->energy_j, pmax), se[0],
                   fp_objective_value(obj, pb->row->time_s, pb->row->energy_j, pmax), se[1],
                   o->confidence, lo, hi);
    return FP_OK;
}

static double point_power(const fp_agg_row *r)
{
    return isfinite(r->power_w) ? r->power_w : r->energy_j / r->time_s;
}

static fp_status push_result(fp_opt_results *out, const fp_opt_result *r, fp_error *err)
{
    if (out->len == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 16;
        fp_opt_result *p = realloc(out->items, cap * sizeof *p);
        if (!p)
            return fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
        out->items = p;
        out->cap = cap;
    }
    out->items[out->len++] = *r;
    return FP_OK;
}

/*
 * objective_ratio results of one (curve, objective), kept across budgets: the same pair of
 * clocks gives the same bootstrap (same runs, same seed), so it is computed once.
 */
typedef struct ratio_memo {
    size_t j, best;
    double lo, hi;
} ratio_memo;

typedef struct ratio_cache {
    ratio_memo *v;
    size_t n, cap;
} ratio_cache;

static fp_status objective_ratio_cached(ratio_cache *rc, const fp_opt_curve *c, size_t i,
                                        size_t best, const fp_objective *obj, double pmax,
                                        const fp_opt_options *o, double *lo, double *hi,
                                        fp_error *err)
{
    for (size_t k = 0; k < rc->n; k++)
        if (rc->v[k].j == i && rc->v[k].best == best) {
            *lo = rc->v[k].lo;
            *hi = rc->v[k].hi;
            return FP_OK;
        }
    fp_status st = objective_ratio(c, i, best, obj, pmax, o, lo, hi, err);
    if (st)
        return st;
    if (rc->n == rc->cap) {
        size_t cap = rc->cap ? 2 * rc->cap : 64;
        ratio_memo *p = realloc(rc->v, cap * sizeof *p);
        if (!p)
            return FP_OK; /* no memo, same result */
        rc->v = p;
        rc->cap = cap;
    }
    rc->v[rc->n++] = (ratio_memo){i, best, *lo, *hi};
    return FP_OK;
}

/* One (curve, objective, budget). cmp[j] compares point j with the baseline b. */
static fp_status choose(const fp_opt_curve *c, const fp_opt_compare *cmp, size_t b, int fallback,
                        const fp_objective *obj, double budget, const char *category,
                        const fp_opt_options *o, ratio_cache *memo, fp_opt_results *out,
                        fp_error *err)
{
    fp_opt_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.gpu, sizeof r.gpu, "%s", c->gpu);
    snprintf(r.app, sizeof r.app, "%s", c->app);
    snprintf(r.objective, sizeof r.objective, "%s", obj->name);
    snprintf(r.category, sizeof r.category, "%s", category ? category : "");
    r.max_slowdown = budget;
    double pmax = fp_opt_pmax(fp_opt_curve_board(c), o);
    if (obj->kind == FP_OBJ_COST && !isfinite(pmax))
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s %s: objective %s needs P_max: the power limit of GPU '%s' is "
                            "unknown (not a known board; give --pmax W)",
                            c->gpu, c->app, obj->name, fp_opt_curve_board(c));
    if (isnan(budget))
        r.opt_flags |= FP_OPT_NO_BUDGET;
    if (fallback) {
        r.opt_flags |= FP_OPT_BASELINE_FALLBACK;
        snprintf(r.message, sizeof r.message,
                 "the requested baseline clock has fewer than 2 usable runs; baseline is %.0f MHz",
                 c->pts[b].row->freq_mhz);
    }

    long best = -1;
    double best_val = INFINITY;
    int capped = 0;
    for (size_t j = 0; j < c->n; j++) {
        if (!fp_opt_point_ok(&c->pts[j]))
            continue;
        if (isfinite(o->max_power_w) && point_power(c->pts[j].row) > o->max_power_w) {
            capped = 1;
            continue;
        }
        if (j != b && !isnan(budget)) {
            double s = o->point_estimate ? cmp[j].slowdown : cmp[j].slowdown_hi;
            if (!(s <= budget + BUDGET_EPS))
                continue; /* NAN (no interval) never qualifies */
        }
        double v = fp_objective_value(obj, c->pts[j].row->time_s, c->pts[j].row->energy_j, pmax);
        if (v < best_val) { /* strict: ties keep the higher clock seen first */
            best_val = v;
            best = (long)j;
        }
    }
    if (capped)
        r.opt_flags |= FP_OPT_POWER_CAPPED;
    size_t pick = b;
    if (best < 0) {
        r.feasible = 0;
        r.opt_flags |= FP_OPT_NO_FEASIBLE_CLOCK;
        snprintf(r.message, sizeof r.message,
                 "no clock meets the %s%s; returning the baseline %.0f MHz",
                 isfinite(o->max_power_w) ? "power cap" : "slowdown budget",
                 isfinite(o->max_power_w) && !isnan(budget) ? " and the slowdown budget" : "",
                 c->pts[b].row->freq_mhz);
    } else {
        r.feasible = 1;
        pick = (size_t)best;
        if (!o->point_estimate) {
            /* The highest qualifying clock whose objective the data cannot tell from the best. */
            for (size_t j = 0; j < (size_t)best; j++) {
                if (!fp_opt_point_ok(&c->pts[j]))
                    continue;
                if (isfinite(o->max_power_w) && point_power(c->pts[j].row) > o->max_power_w)
                    continue;
                if (j != b && !isnan(budget) && !(cmp[j].slowdown_hi <= budget + BUDGET_EPS))
                    continue;
                double lo, hi;
                fp_status st =
                    objective_ratio_cached(memo, c, j, (size_t)best, obj, pmax, o, &lo, &hi, err);
                if (st)
                    return st;
                if (!(lo > 1.0)) { /* not significantly worse (or unknown) */
                    pick = j;
                    r.opt_flags |= FP_OPT_PREFER_HIGHER;
                    break;
                }
            }
        }
    }
    const fp_agg_row *row = c->pts[pick].row;
    r.freq_mhz = row->freq_mhz;
    r.baseline_mhz = c->pts[b].row->freq_mhz;
    r.time_s = row->time_s;
    r.energy_j = row->energy_j;
    r.power_w = point_power(row);
    r.objective_value = fp_objective_value(obj, row->time_s, row->energy_j, pmax);
    r.cmp = cmp[pick];
    r.data_flags = row->flags | c->pts[b].row->flags;
    r.opt_flags |= cmp[pick].opt_flags;
    if (pick != b && !(r.cmp.opt_flags & FP_OPT_NO_INTERVAL) && !(r.cmp.energy_saving_lo > 0.0))
        r.opt_flags |= FP_OPT_NO_SIGNIFICANT_SAVING;
    if (r.cmp.energy_saving > o->suspect_saving)
        r.opt_flags |= FP_OPT_SUSPECT_SAVING;
    return push_result(out, &r, err);
}

fp_status fp_optimize(const fp_opt_data *d, const fp_objective *objs, size_t nobjs,
                      const double *budgets, size_t nbudgets, const fp_constraints *constraints,
                      const fp_opt_options *o, fp_opt_results *out, fp_error *err)
{
    static const double none = NAN;
    if (nbudgets == 0) {
        budgets = &none;
        nbudgets = 1;
    }
    if (!(o->confidence > 0.0 && o->confidence < 1.0))
        return fp_error_set(err, FP_ERR_INVALID, "optimize: confidence must lie in (0, 1)");
    for (size_t k = 0; k < nbudgets; k++)
        if (budgets[k] < 0.0)
            return fp_error_set(err, FP_ERR_INVALID, "optimize: a slowdown budget is negative");
    snprintf(out->baseline, sizeof out->baseline, "%s",
             o->baseline == FP_BASELINE_MAX       ? "max"
             : o->baseline == FP_BASELINE_DEFAULT ? "default"
                                                  : "");
    if (o->baseline == FP_BASELINE_MHZ)
        snprintf(out->baseline, sizeof out->baseline, "%.0f", o->baseline_mhz);
    int warned_no_interval = 0;
    for (size_t ci = 0; ci < d->ncurves; ci++) {
        const fp_opt_curve *c = &d->curves[ci];
        int fallback;
        int b = fp_opt_baseline(c, o, &fallback, err);
        if (b < 0) {
            /* A curve without any data is skipped with a warning, not fatal. */
            if (o->baseline == FP_BASELINE_MAX) {
                fp_warn(o->diag, "%s %s: no clock with runs; skipped", c->gpu, c->app);
                continue;
            }
            return err ? err->code : FP_ERR_INVALID;
        }
        if (fallback)
            fp_warn(o->diag,
                    "%s %s: the baseline clock has fewer than 2 usable runs (e.g. the "
                    "others were cold starts); using %.0f MHz",
                    c->gpu, c->app, c->pts[b].row->freq_mhz);
        fp_opt_compare *cmp = calloc(c->n, sizeof *cmp);
        if (!cmp)
            return fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
        fp_status st = FP_OK;
        for (size_t j = 0; j < c->n && !st; j++)
            if (fp_opt_point_ok(&c->pts[j])) {
                st = fp_opt_compare_points(c, j, (size_t)b, o, &cmp[j], err);
                if (!st && (cmp[j].opt_flags & FP_OPT_NO_INTERVAL) && !o->point_estimate &&
                    !warned_no_interval++)
                    fp_warn(o->diag,
                            "%s %s: some clocks have no interval (fewer than 2 runs); "
                            "they cannot qualify under a budget (--point-estimate ignores "
                            "intervals)",
                            c->gpu, c->app);
            }
        ratio_cache memo = {NULL, 0, 0};
        for (size_t oi = 0; oi < nobjs && !st; oi++) {
            memo.n = 0; /* per objective */
            for (size_t k = 0; k < nbudgets && !st; k++) {
                double budget = budgets[k];
                const char *category = NULL;
                if (isnan(budget) && constraints &&
                    fp_constraints_lookup(constraints, c->app, &budget, &category) < 0) {
                    budget = NAN;
                    if (oi == 0)
                        fp_warn(o->diag, "%s %s: app not in the constraints file; no budget",
                                c->gpu, c->app);
                }
                st = choose(c, cmp, (size_t)b, fallback, &objs[oi], budget, category, o, &memo, out,
                            err);
            }
        }
        free(memo.v);
        free(cmp);
        if (st)
            return st;
    }
    return FP_OK;
}

/* ---- Loading ---- */

int fp_opt_is_aggregated_csv(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[256];
    int yes = fgets(line, sizeof line, fp) != NULL &&
              strncmp(line, "gpu,app,freq_mhz,runs,runs_dropped,time_s", 41) == 0;
    fclose(fp);
    return yes;
}

fp_status fp_opt_data_load(const char *const *paths, size_t npaths, const fp_agg_options *aopt,
                           const fp_diag *diag, fp_opt_data *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    if (npaths == 0)
        return fp_error_set(err, FP_ERR_INVALID, "no input given");
    size_t nagg = 0;
    for (size_t i = 0; i < npaths; i++)
        nagg += fp_opt_is_aggregated_csv(paths[i]) != 0;
    fp_agg_result agg;
    fp_status st;
    if (nagg) {
        if (npaths != 1)
            return fp_error_set(err, FP_ERR_INVALID,
                                "give one aggregated.csv, or raw inputs (runs) only");
        if ((st = fp_agg_read_csv(paths[0], &agg, err)))
            return st;
        st = fp_opt_data_build(&agg, NULL, out, err);
        fp_agg_result_free(&agg);
        return st;
    }
    fp_load_options lopt;
    fp_load_options_init(&lopt);
    lopt.diag = diag;
    lopt.ts.diag = diag;
    fp_run_list runs = {0};
    for (size_t i = 0; i < npaths; i++)
        if ((st = fp_runs_load(paths[i], &lopt, &runs, err))) {
            fp_run_list_free(&runs);
            return st;
        }
    if (runs.len == 0) {
        fp_run_list_free(&runs);
        return fp_error_set(err, FP_ERR_INVALID, "%s: no runs found", paths[0]);
    }
    fp_agg_options o;
    if (aopt)
        o = *aopt;
    else {
        fp_agg_options_init(&o);
        o.diag = diag;
    }
    if ((st = fp_aggregate(&runs, &o, &agg, err))) {
        fp_run_list_free(&runs);
        return st;
    }
    st = fp_opt_data_build(&agg, &runs, out, err);
    fp_agg_result_free(&agg);
    fp_run_list_free(&runs);
    return st;
}
