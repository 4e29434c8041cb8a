/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * `freqpilot validate`: every recommendation is recomputed from the data and put through
 * the checks a sceptical reviewer would run (docs/optimize.md, "Validation").
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "freqpilot/optimize.h"
#include "freqpilot/stats.h"

/* The clock-dependence rule of aggregate (docs/method.md). */
#define NCB_MIN_CV 0.05
#define NCB_P 0.01
#define NCB_MIN_R2 0.5
#define DRIFT_P 0.01
#define DRIFT_MIN_CHANGE 0.03

const char *fp_check_status_name(fp_check_status s)
{
    switch (s) {
    case FP_CHECK_PASS:
        return "pass";
    case FP_CHECK_WARN:
        return "warn";
    case FP_CHECK_FAIL:
        return "fail";
    case FP_CHECK_NA:
        return "n/a";
    }
    return "?";
}

void fp_validate_options_init(fp_validate_options *o)
{
    fp_opt_options_init(&o->opt);
    o->cv_threshold = 0.10;
    o->alpha = 0.05;
    o->counter_tolerance = 0.05;
}

static void set_check(fp_check *c, const char *name, fp_check_status s, double p, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
static void set_check(fp_check *c, const char *name, fp_check_status s, double p, const char *fmt,
                      ...)
{
    va_list ap;
    c->name = name;
    c->status = s;
    c->p_value = p;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

static const fp_opt_curve *find_curve(const fp_opt_data *d, const char *gpu, const char *app)
{
    for (size_t i = 0; i < d->ncurves; i++)
        if (strcmp(d->curves[i].gpu, gpu) == 0 && strcmp(d->curves[i].app, app) == 0)
            return &d->curves[i];
    return NULL;
}

static long find_idx(const fp_opt_curve *c, double f)
{
    for (size_t j = 0; j < c->n; j++)
        if (fabs(c->pts[j].row->freq_mhz - f) < 0.5)
            return (long)j;
    return -1;
}

static double se_log(double lo, double hi)
{
    if (!(lo > 0.0) || !(hi > 0.0) || !isfinite(lo) || !isfinite(hi) || hi < lo)
        return NAN;
    return (log(hi) - log(lo)) / (2.0 * gsl_cdf_ugaussian_Pinv(0.975));
}

/* One-sided p of "centre(x) < factor * centre(y)" (Welch with runs, log-normal otherwise). */
static double p_less(const fp_opt_point *x, const fp_opt_point *y, int energy, double factor)
{
    if (x->nruns >= 2 && y->nruns >= 2) {
        const double *xv = energy ? x->energy_runs : x->time_runs;
        const double *yv = energy ? y->energy_runs : y->time_runs;
        double *ys = malloc(y->nruns * sizeof *ys);
        if (!ys)
            return NAN;
        for (size_t k = 0; k < y->nruns; k++)
            ys[k] = factor * yv[k];
        fp_welch w;
        int rc = fp_stats_welch(xv, x->nruns, ys, y->nruns, &w);
        free(ys);
        if (rc < 0 || !isfinite(w.p))
            return NAN;
        return w.t < 0 ? w.p / 2.0 : 1.0 - w.p / 2.0;
    }
    const fp_agg_row *a = x->row, *b = y->row;
    double cx = energy ? a->energy_j : a->time_s, cy = energy ? b->energy_j : b->time_s;
    double sx =
        energy ? se_log(a->energy_j_lo, a->energy_j_hi) : se_log(a->time_s_lo, a->time_s_hi);
    double sy =
        energy ? se_log(b->energy_j_lo, b->energy_j_hi) : se_log(b->time_s_lo, b->time_s_hi);
    double s = sqrt(sx * sx + sy * sy);
    if (!(s > 0.0) || !isfinite(s))
        return NAN;
    return gsl_cdf_ugaussian_P((log(cx) - log(factor * cy)) / s);
}

static void check_budget(fp_validation *v, const fp_opt_curve *c, long i, long b)
{
    fp_check *k = &v->checks[0];
    double bud = v->rec.max_slowdown;
    if (!isfinite(bud)) {
        set_check(k, "budget", FP_CHECK_NA, NAN, "no slowdown budget");
        return;
    }
    if (i == b) {
        set_check(k, "budget", FP_CHECK_PASS, NAN, "the baseline itself (slowdown 0)");
        return;
    }
    double p = p_less(&c->pts[i], &c->pts[b], 0, 1.0 + bud);
    if (v->cmp.slowdown_hi <= bud + 1e-9)
        set_check(k, "budget", FP_CHECK_PASS, p,
                  "slowdown %.1f %% [%.1f, %.1f] within the %.0f %% budget (p of exceeding it "
                  "%.3g)",
                  100 * v->cmp.slowdown, 100 * v->cmp.slowdown_lo, 100 * v->cmp.slowdown_hi,
                  100 * bud, p);
    else
        set_check(k, "budget", FP_CHECK_FAIL, p,
                  "upper bound of the slowdown %.1f %% exceeds the %.0f %% budget (slowdown "
                  "%.1f %% [%.1f, %.1f])",
                  100 * v->cmp.slowdown_hi, 100 * bud, 100 * v->cmp.slowdown,
                  100 * v->cmp.slowdown_lo, 100 * v->cmp.slowdown_hi);
}

static void check_saving(fp_validation *v, const fp_opt_curve *c, long i, long b,
                         const fp_validate_options *o)
{
    fp_check *k = &v->checks[1];
    if (i == b) {
        set_check(k, "saving", FP_CHECK_NA, NAN, "the baseline itself: no saving claimed");
        return;
    }
    if (strcmp(v->rec.objective, "time") == 0) {
        set_check(k, "saving", FP_CHECK_NA, NAN, "objective time: no energy saving claimed");
        return;
    }
    /* Two-sided p of "energies differ": twice the smaller one-sided p. */
    double p1 = p_less(&c->pts[i], &c->pts[b], 1, 1.0);
    double p = isfinite(p1) ? 2.0 * fmin(p1, 1.0 - p1) : NAN;
    const fp_opt_compare *m = &v->cmp;
    if (m->energy_saving_lo > 0.0 && (!isfinite(p) || p < o->alpha))
        set_check(k, "saving", FP_CHECK_PASS, p, "energy saving %.1f %% [%.1f, %.1f], p = %.3g",
                  100 * m->energy_saving, 100 * m->energy_saving_lo, 100 * m->energy_saving_hi, p);
    else
        set_check(k, "saving", FP_CHECK_FAIL, p,
                  "no significant saving: %.1f %% [%.1f, %.1f], p = %.3g; the clock change is "
                  "not justified by the data",
                  100 * m->energy_saving, 100 * m->energy_saving_lo, 100 * m->energy_saving_hi, p);
}

static void check_frontier(fp_validation *v, const fp_opt_curve *c, long i)
{
    fp_check *k = &v->checks[2];
    fp_pareto_point *pts = calloc(c->n, sizeof *pts);
    if (!pts) {
        set_check(k, "frontier", FP_CHECK_NA, NAN, "out of memory");
        return;
    }
    fp_pareto(c, pts);
    double by = NAN;
    if (pts[i].on_frontier)
        set_check(k, "frontier", FP_CHECK_PASS, NAN, "on the time-energy frontier");
    else if (fp_pareto_sig_dominated(c, (size_t)i, &by))
        set_check(k, "frontier", FP_CHECK_FAIL, NAN,
                  "significantly dominated by %.0f MHz (faster and cheaper beyond the "
                  "intervals)",
                  by);
    else
        set_check(k, "frontier", FP_CHECK_WARN, NAN,
                  "dominated by the medians of %.0f MHz, within the intervals",
                  pts[i].dominated_by_mhz);
    free(pts);
}

static double row_cv(const fp_opt_point *p)
{
    if (p->nruns >= 2)
        return fp_stats_cv(p->time_runs, p->nruns);
    return p->row->time_cv;
}

static void check_cv(fp_validation *v, const fp_opt_curve *c, long i, long b,
                     const fp_validate_options *o)
{
    fp_check *k = &v->checks[3];
    double ci = row_cv(&c->pts[i]), cb = row_cv(&c->pts[b]);
    int high = (c->pts[i].row->flags | c->pts[b].row->flags) & FP_FLAG_HIGH_CV;
    high |= ci > o->cv_threshold || cb > o->cv_threshold;
    if (!isfinite(ci) && !isfinite(cb) && !high)
        set_check(k, "cv", FP_CHECK_NA, NAN, "run-to-run variation unknown (one run per clock)");
    else
        set_check(k, "cv", high ? FP_CHECK_WARN : FP_CHECK_PASS, NAN,
                  "CV of time %.1f %% at %.0f MHz, %.1f %% at the baseline (limit %.0f %%)",
                  100 * ci, c->pts[i].row->freq_mhz, 100 * cb, 100 * o->cv_threshold);
}

static void check_drift(fp_validation *v, const fp_opt_curve *c, long i, long b)
{
    fp_check *k = &v->checks[4];
    int flagged = (c->pts[i].row->flags | c->pts[b].row->flags) & FP_FLAG_DRIFT;
    size_t n = 0;
    for (size_t j = 0; j < c->n; j++)
        n += c->pts[j].nruns;
    double *x = n ? malloc(n * sizeof *x) : NULL, *y = n ? malloc(n * sizeof *y) : NULL;
    fp_ols fit = {0};
    int fitted = 0;
    double change = NAN;
    if (x && y) {
        size_t m = 0;
        for (size_t j = 0; j < c->n; j++) {
            const fp_opt_point *p = &c->pts[j];
            double med = p->nruns ? fp_stats_median(p->time_runs, p->nruns) : NAN;
            for (size_t r = 0; r < p->nruns; r++)
                if (p->run_index[r] >= 0 && med > 0.0) {
                    x[m] = (double)p->run_index[r];
                    y[m++] = p->time_runs[r] / med - 1.0;
                }
        }
        if (m >= 6 && fp_stats_ols(x, y, m, &fit) == 0 && isfinite(fit.slope)) {
            double lo = INFINITY, hi = -INFINITY;
            for (size_t r = 0; r < m; r++) {
                lo = fmin(lo, x[r]);
                hi = fmax(hi, x[r]);
            }
            change = fit.slope * (hi - lo);
            fitted = 1;
        }
    }
    free(x);
    free(y);
    if (fitted) {
        int drift = flagged || (fit.p_two_sided < DRIFT_P && fabs(change) > DRIFT_MIN_CHANGE);
        set_check(k, "drift", drift ? FP_CHECK_FAIL : FP_CHECK_PASS, fit.p_two_sided,
                  "time vs sweep position: %+.1f %% over the sweep, p = %.3g%s", 100 * change,
                  fit.p_two_sided,
                  drift ? "; drift is confounded with the clock, re-measure interleaved" : "");
    } else if (flagged) {
        set_check(k, "drift", FP_CHECK_FAIL, NAN,
                  "aggregate flagged drift with sweep position; re-measure interleaved");
    } else {
        set_check(k, "drift", FP_CHECK_NA, NAN,
                  "no sweep positions to test (aggregated.csv only: no drift flagged)");
    }
}

static void check_counter(fp_validation *v, const fp_opt_curve *c, long i, long b)
{
    fp_check *k = &v->checks[5];
    uint32_t f = c->pts[i].row->flags | c->pts[b].row->flags;
    if (f & FP_FLAG_COUNTER_MISMATCH)
        set_check(k, "counter", FP_CHECK_FAIL, NAN,
                  "energy counter and integrated power disagree (counter_mismatch)");
    else if (f & FP_FLAG_WINDOW_MISMATCH)
        set_check(k, "counter", FP_CHECK_WARN, NAN,
                  "time and energy cover different windows in the source (window_mismatch)");
    else if (f & FP_FLAG_ENERGY_FROM_POWER)
        set_check(k, "counter", FP_CHECK_WARN, NAN,
                  "energy is mean power x time: no counter to cross-check (energy_from_power)");
    else
        set_check(k, "counter", FP_CHECK_PASS, NAN, "no counter/window disagreement flagged");
}

static void check_clock(fp_validation *v, const fp_opt_curve *c)
{
    fp_check *k = &v->checks[6];
    double *x = malloc((c->n + 1) * sizeof *x), *y = malloc((c->n + 1) * sizeof *y);
    size_t m = 0;
    double fmaxv = 0.0;
    uint32_t flags = 0;
    for (size_t j = 0; j < c->n; j++)
        if (fp_opt_point_ok(&c->pts[j])) {
            fmaxv = fmax(fmaxv, c->pts[j].row->freq_mhz);
            flags |= c->pts[j].row->flags;
        }
    if (x && y)
        for (size_t j = 0; j < c->n; j++)
            if (fp_opt_point_ok(&c->pts[j])) {
                x[m] = fmaxv / c->pts[j].row->freq_mhz;
                y[m++] = c->pts[j].row->time_s;
            }
    double cv = m >= 3 ? fp_stats_cv(y, m) : NAN;
    fp_ols fit = {0};
    int ok = x && y && m >= 3 && fp_stats_ols(x, y, m, &fit) == 0;
    free(x);
    free(y);
    if (!ok) {
        set_check(k, "clock_dependence",
                  (flags & FP_FLAG_NOT_CLOCK_BOUND) ? FP_CHECK_FAIL : FP_CHECK_NA, NAN,
                  "fewer than 3 clocks with data%s",
                  (flags & FP_FLAG_NOT_CLOCK_BOUND) ? "; aggregate flagged not_clock_bound" : "");
        return;
    }
    int unexplained = (flags & FP_FLAG_NOT_CLOCK_BOUND) ||
                      (cv > NCB_MIN_CV && (!(fit.p_greater < NCB_P) || !(fit.r2 >= NCB_MIN_R2)));
    if (unexplained)
        set_check(k, "clock_dependence", FP_CHECK_FAIL, fit.p_greater,
                  "time varies across clocks (CV %.1f %%) but not with the clock (R^2 = %.2f, "
                  "slope p = %.3g): host- or I/O-bound, drifting or noisy; the saving is not a "
                  "DVFS effect",
                  100 * cv, fit.r2, fit.p_greater);
    else if (!(cv > NCB_MIN_CV) && !(fit.p_greater < NCB_P))
        set_check(k, "clock_dependence", FP_CHECK_WARN, fit.p_greater,
                  "time does not depend on the clock (CV of clock medians %.1f %%, slope p = "
                  "%.3g): the workload is host-, I/O- or memory-bound, so the saving comes "
                  "from lower power at equal time",
                  100 * cv, fit.p_greater);
    else
        set_check(k, "clock_dependence", FP_CHECK_PASS, fit.p_greater,
                  "time scales with fmax/f (R^2 = %.2f, slope p = %.3g)", fit.r2, fit.p_greater);
}

static void check_plausible(fp_validation *v, const fp_validate_options *o)
{
    fp_check *k = &v->checks[7];
    double s = v->cmp.energy_saving;
    if (s > o->opt.suspect_saving)
        set_check(k, "plausibility", FP_CHECK_WARN, NAN,
                  "energy saving %.0f %% is above %.0f %%: realistic DVFS savings for inference "
                  "are 10-25 %%; suspect idle time or a cold baseline",
                  100 * s, 100 * o->opt.suspect_saving);
    else
        set_check(k, "plausibility", FP_CHECK_PASS, NAN, "energy saving %.1f %%", 100 * s);
}

fp_status fp_validate(const fp_opt_data *d, const fp_opt_results *recs,
                      const fp_validate_options *o, fp_validation **out, fp_error *err)
{
    *out = NULL;
    fp_validation *vs = calloc(recs->len ? recs->len : 1, sizeof *vs);
    if (!vs)
        return fp_error_set(err, FP_ERR_NOMEM, "validate: out of memory");
    for (size_t r = 0; r < recs->len; r++) {
        fp_validation *v = &vs[r];
        v->rec = recs->items[r];
        for (int k = 0; k < FP_VALIDATE_NCHECKS; k++) {
            v->checks[k].status = FP_CHECK_NA;
            v->checks[k].p_value = NAN;
        }
        static const char *const names[FP_VALIDATE_NCHECKS] = {
            "budget", "saving",  "frontier",         "cv",
            "drift",  "counter", "clock_dependence", "plausibility"};
        for (int k = 0; k < FP_VALIDATE_NCHECKS; k++)
            v->checks[k].name = names[k];
        const fp_opt_curve *c = find_curve(d, v->rec.gpu, v->rec.app);
        long i = c ? find_idx(c, v->rec.freq_mhz) : -1;
        long b = c ? find_idx(c, v->rec.baseline_mhz) : -1;
        if (i < 0 || b < 0 || !fp_opt_point_ok(&c->pts[i]) || !fp_opt_point_ok(&c->pts[b])) {
            v->found = 0;
            v->verdict = FP_CHECK_FAIL;
            set_check(&v->checks[0], "budget", FP_CHECK_FAIL, NAN,
                      "%s %s at %.0f MHz (baseline %.0f MHz) has no data in the input", v->rec.gpu,
                      v->rec.app, v->rec.freq_mhz, v->rec.baseline_mhz);
            continue;
        }
        v->found = 1;
        fp_status st = fp_opt_compare_points(c, (size_t)i, (size_t)b, &o->opt, &v->cmp, err);
        if (st) {
            free(vs);
            return st;
        }
        check_budget(v, c, i, b);
        check_saving(v, c, i, b, o);
        check_frontier(v, c, i);
        check_cv(v, c, i, b, o);
        check_drift(v, c, i, b);
        check_counter(v, c, i, b);
        check_clock(v, c);
        check_plausible(v, o);
        v->verdict = FP_CHECK_PASS;
        for (int k = 0; k < FP_VALIDATE_NCHECKS; k++) {
            fp_check_status s = v->checks[k].status;
            if (s == FP_CHECK_FAIL || (s == FP_CHECK_WARN && v->verdict == FP_CHECK_PASS))
                v->verdict = s;
        }
        /* A recommendation that does not move the clock cannot mislead: clock-dependence,
         * drift and plausibility findings then only warn. */
        if (i == b && v->verdict == FP_CHECK_FAIL && v->checks[0].status != FP_CHECK_FAIL) {
            for (int k = 0; k < FP_VALIDATE_NCHECKS; k++)
                if (v->checks[k].status == FP_CHECK_FAIL)
                    v->checks[k].status = FP_CHECK_WARN;
            v->verdict = FP_CHECK_WARN;
        }
    }
    *out = vs;
    return FP_OK;
}
