/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The checks a sceptical reviewer runs on a recommendation and the one verdict they add up to
 * (docs/method.md C.5). fp_optimize assesses its own results with fp_opt_assess and
 * `freqpilot validate` assesses results read back, so optimize, validate, report and run show
 * the same verdict for the same data.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "freqpilot/optimize.h"
#include "freqpilot/stats.h"

/* The clock-dependence rule of aggregate (docs/method.md B.8), here on the clock medians. */
#define NCB_MIN_CV 0.05
#define NCB_P 0.01
#define NCB_MIN_R2 0.5

enum {
    CK_DATA,
    CK_BUDGET,
    CK_SAVING,
    CK_FRONTIER,
    CK_CV,
    CK_DRIFT,
    CK_COUNTER,
    CK_CLOCK,
    CK_PLAUS
};

static const char *const check_names[FP_VALIDATE_NCHECKS] = {
    "data",  "budget",  "saving",           "frontier",    "cv",
    "drift", "counter", "clock_dependence", "plausibility"};

static const char *const verdict_names[FP_VERDICT_COUNT_] = {"deployable", "no significant saving",
                                                             "suspect: not a DVFS effect",
                                                             "insufficient data", "infeasible"};

const char *fp_check_name(size_t k)
{
    return k < FP_VALIDATE_NCHECKS ? check_names[k] : NULL;
}

const char *fp_verdict_name(fp_verdict v)
{
    return (unsigned)v < FP_VERDICT_COUNT_ ? verdict_names[v] : NULL;
}

int fp_verdict_from_name(const char *s)
{
    for (int i = 0; s && i < FP_VERDICT_COUNT_; i++)
        if (strcasecmp(s, verdict_names[i]) == 0)
            return i;
    return -1;
}

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

static void set_check(fp_check *c, fp_check_status s, double p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_check(fp_check *c, fp_check_status s, double p, const char *fmt, ...)
{
    va_list ap;
    c->status = s;
    c->p_value = p;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

static long find_idx(const fp_opt_curve *c, double f)
{
    for (size_t j = 0; j < c->n; j++)
        if (fabs(c->pts[j].row->freq_mhz - f) < 0.5)
            return (long)j;
    return -1;
}

static uint32_t curve_flags(const fp_opt_curve *c)
{
    uint32_t f = 0;
    for (size_t j = 0; j < c->n; j++)
        f |= c->pts[j].row->flags;
    return f;
}

static void budget_text(char *buf, size_t n, double budget)
{
    if (isfinite(budget))
        snprintf(buf, n, " within the %g %% slowdown budget", 100 * budget);
    else
        buf[0] = '\0';
}

/* "12.3 % [10.1, 14.0]" */
static void pct_ci(char *buf, size_t n, double v, double lo, double hi)
{
    if (isfinite(lo) && isfinite(hi))
        snprintf(buf, n, "%.1f %% [%.1f, %.1f]", 100 * v, 100 * lo, 100 * hi);
    else
        snprintf(buf, n, "%.1f %% (no interval)", 100 * v);
}

/* Clock dependence on the clock medians: time = a + b · fmax/f by OLS. */
static void check_clock(fp_check *k, const fp_opt_curve *c)
{
    double *x = malloc((c->n + 1) * sizeof *x), *y = malloc((c->n + 1) * sizeof *y);
    size_t m = 0;
    double fmaxv = 0.0;
    uint32_t flags = curve_flags(c);
    for (size_t j = 0; j < c->n; j++)
        if (fp_opt_point_ok(&c->pts[j]))
            fmaxv = fmax(fmaxv, c->pts[j].row->freq_mhz);
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
    int ncb = (flags & FP_FLAG_NOT_CLOCK_BOUND) != 0;
    if (!ok) {
        set_check(k, ncb ? FP_CHECK_FAIL : FP_CHECK_NA, NAN, "fewer than 3 clocks with data%s",
                  ncb ? "; aggregate found the time not explained by the clock (not_clock_bound)"
                      : "");
        return;
    }
    int unexplained = cv > NCB_MIN_CV && (!(fit.p_greater < NCB_P) || !(fit.r2 >= NCB_MIN_R2));
    if (ncb || unexplained)
        set_check(k, FP_CHECK_FAIL, fit.p_greater,
                  "time is not explained by the clock (CV of the clock medians %.1f %%, R^2 of "
                  "a + b*fmax/f = %.2f, slope p = %.3g%s): host- or I/O-bound, drifting or "
                  "noisy; the saving is not a DVFS effect",
                  100 * cv, fit.r2, fit.p_greater, ncb ? "; aggregate: not_clock_bound" : "");
    else if (!(cv > NCB_MIN_CV) && !(fit.p_greater < NCB_P))
        set_check(k, FP_CHECK_WARN, fit.p_greater,
                  "time does not depend on the clock (CV of clock medians %.1f %%, slope p = "
                  "%.3g): host-, I/O- or memory-bound, so a saving comes from lower power at "
                  "equal time",
                  100 * cv, fit.p_greater);
    else
        set_check(k, FP_CHECK_PASS, fit.p_greater,
                  "time scales with fmax/f (R^2 = %.2f, slope p = %.3g)", fit.r2, fit.p_greater);
}

/* Not dominated by another clock's estimates (at least as fast and as frugal, better in one). */
static void check_frontier(fp_check *k, const fp_opt_curve *c, const fp_opt_estimate *e, long i)
{
    for (size_t j = 0; j < c->n; j++) {
        if ((long)j == i || !isfinite(e->time_s[j]))
            continue;
        if (e->time_s[j] <= e->time_s[i] && e->energy_j[j] <= e->energy_j[i] &&
            (e->time_s[j] < e->time_s[i] || e->energy_j[j] < e->energy_j[i])) {
            set_check(k, FP_CHECK_WARN, NAN,
                      "the estimates of %.0f MHz are at least as fast and as frugal (%.4g s, "
                      "%.4g J against %.4g s, %.4g J)",
                      c->pts[j].row->freq_mhz, e->time_s[j], e->energy_j[j], e->time_s[i],
                      e->energy_j[i]);
            return;
        }
    }
    set_check(k, FP_CHECK_PASS, NAN, "on the time-energy frontier of the estimates");
}

static void check_cv(fp_check *k, const fp_opt_curve *c, long i, long b, double threshold)
{
    const fp_agg_row *ri = c->pts[i].row, *rb = c->pts[b].row;
    double ci = ri->time_cv, cb = rb->time_cv;
    int high = ((ri->flags | rb->flags) & FP_FLAG_HIGH_CV) || ci > threshold || cb > threshold;
    if (!isfinite(ci) && !isfinite(cb) && !high)
        set_check(k, FP_CHECK_NA, NAN, "run-to-run variation unknown (one run per clock)");
    else
        set_check(k, high ? FP_CHECK_WARN : FP_CHECK_PASS, NAN,
                  "CV of time %.1f %% at %.0f MHz, %.1f %% at the baseline (limit %.0f %%)",
                  100 * ci, ri->freq_mhz, 100 * cb, 100 * threshold);
}

static void check_counter(fp_check *k, const fp_opt_curve *c, long i, long b)
{
    uint32_t f = c->pts[i].row->flags | c->pts[b].row->flags;
    if (f & FP_FLAG_COUNTER_MISMATCH)
        set_check(k, FP_CHECK_FAIL, NAN,
                  "energy counter and integrated power disagree (counter_mismatch)");
    else if (f & FP_FLAG_WINDOW_MISMATCH)
        set_check(k, FP_CHECK_WARN, NAN,
                  "time and energy cover different windows in the source (window_mismatch)");
    else if (f & FP_FLAG_ENERGY_FROM_POWER)
        set_check(k, FP_CHECK_WARN, NAN,
                  "energy is mean power x time: no counter to cross-check (energy_from_power)");
    else
        set_check(k, FP_CHECK_PASS, NAN, "no counter/window disagreement flagged");
}

/* The verdict from the checks, in priority order, with its reason. */
static void decide_verdict(fp_assessment *a, const fp_opt_result *rec, long i, long b,
                           double margin)
{
    const fp_check *ck = a->checks;
    char bud[64];
    budget_text(bud, sizeof bud, rec->max_slowdown);
    if (!rec->feasible) {
        a->verdict = FP_VERDICT_INFEASIBLE;
        snprintf(a->reason, sizeof a->reason, "%s",
                 rec->message[0] ? rec->message : "no clock meets the power cap");
        return;
    }
    if (ck[CK_DATA].status == FP_CHECK_FAIL) {
        a->verdict = FP_VERDICT_INSUFFICIENT;
        snprintf(a->reason, sizeof a->reason, "%s", ck[CK_DATA].detail);
        return;
    }
    if (i == b) {
        a->verdict = FP_VERDICT_NO_SAVING;
        snprintf(a->reason, sizeof a->reason,
                 "no change: no clock improves the estimated %s of the baseline (%.0f MHz) by "
                 "more than the %.1f %% margin%s",
                 rec->objective, rec->baseline_mhz, 100 * margin, bud);
        return;
    }
    if (ck[CK_BUDGET].status == FP_CHECK_FAIL) {
        a->verdict = FP_VERDICT_INSUFFICIENT;
        snprintf(a->reason, sizeof a->reason, "%s", ck[CK_BUDGET].detail);
        return;
    }
    static const int suspect[] = {CK_CLOCK, CK_DRIFT, CK_COUNTER, CK_PLAUS};
    for (size_t k = 0; k < sizeof suspect / sizeof suspect[0]; k++)
        if (ck[suspect[k]].status == FP_CHECK_FAIL) {
            a->verdict = FP_VERDICT_SUSPECT;
            snprintf(a->reason, sizeof a->reason, "%s", ck[suspect[k]].detail);
            return;
        }
    if (ck[CK_SAVING].status == FP_CHECK_FAIL) {
        a->verdict = FP_VERDICT_NO_SAVING;
        snprintf(a->reason, sizeof a->reason, "%s", ck[CK_SAVING].detail);
        return;
    }
    a->verdict = FP_VERDICT_DEPLOYABLE;
    char s[64], d[64];
    pct_ci(s, sizeof s, a->cmp.energy_saving, a->cmp.energy_saving_lo, a->cmp.energy_saving_hi);
    pct_ci(d, sizeof d, a->cmp.slowdown, a->cmp.slowdown_lo, a->cmp.slowdown_hi);
    snprintf(a->reason, sizeof a->reason, "energy saving %s at slowdown %s%s", s, d, bud);
}

void fp_opt_assess(const fp_opt_curve *c, const fp_opt_estimate *e, const fp_opt_result *rec,
                   const fp_opt_options *o, fp_assessment *out)
{
    memset(out, 0, sizeof *out);
    for (int k = 0; k < FP_VALIDATE_NCHECKS; k++) {
        out->checks[k].name = check_names[k];
        out->checks[k].status = FP_CHECK_NA;
        out->checks[k].p_value = NAN;
    }
    fp_check *ck = out->checks;
    long i = c ? find_idx(c, rec->freq_mhz) : -1, b = c ? find_idx(c, rec->baseline_mhz) : -1;
    out->cmp.slowdown = out->cmp.energy_saving = NAN;
    out->cmp.slowdown_lo = out->cmp.slowdown_hi = NAN;
    out->cmp.energy_saving_lo = out->cmp.energy_saving_hi = NAN;
    if (i < 0 || b < 0 || !isfinite(e->time_s[i]) || !isfinite(e->time_s[b])) {
        set_check(&ck[CK_DATA], FP_CHECK_FAIL, NAN,
                  "%s %s at %.0f MHz (baseline %.0f MHz) has no data in the input", rec->gpu,
                  rec->app, rec->freq_mhz, rec->baseline_mhz);
        out->worst = FP_CHECK_FAIL;
        decide_verdict(out, rec, i, b, o->point_estimate ? 0.0 : o->margin);
        return;
    }
    fp_opt_compare_est(e, (size_t)i, (size_t)b, o, &out->cmp);
    const fp_opt_compare *m = &out->cmp;
    const fp_agg_row *ri = c->pts[i].row;
    uint32_t cflags = curve_flags(c);
    double budget = rec->max_slowdown;
    fp_objective obj;
    int time_obj = fp_objective_parse(rec->objective, &obj, NULL) == FP_OK && obj.def->saves_time;

    /* data */
    if (!e->have_noise)
        set_check(&ck[CK_DATA], FP_CHECK_FAIL, NAN,
                  "no estimate of the run-to-run noise (one run per clock and fewer than 5 "
                  "clocks): the saving cannot be tested");
    else if (e->nusable < 3)
        set_check(&ck[CK_DATA], FP_CHECK_FAIL, NAN,
                  "%zu clock%s with data: too few to check that the saving follows the clock",
                  e->nusable, e->nusable == 1 ? "" : "s");
    else if (i != b && !e->eligible[i])
        set_check(&ck[CK_DATA], FP_CHECK_FAIL, NAN,
                  "%.0f MHz has %d kept run%s and its estimate rests mostly on them (at least %d "
                  "needed)",
                  ri->freq_mhz, ri->runs, ri->runs == 1 ? "" : "s", o->min_runs);
    else
        set_check(&ck[CK_DATA], FP_CHECK_PASS, NAN,
                  "%zu clocks with data; run-to-run noise %.2f %% (time), %.2f %% (energy); "
                  "estimates smoothed over %.0f / %.0f MHz",
                  e->nusable, 100 * e->sigma_time, 100 * e->sigma_energy, e->bw_time_mhz,
                  e->bw_energy_mhz);

    /* budget: the slowdown's one-sided bound at budget_confidence */
    if (!isfinite(budget))
        set_check(&ck[CK_BUDGET], FP_CHECK_NA, NAN, "no slowdown budget");
    else if (i == b)
        set_check(&ck[CK_BUDGET], FP_CHECK_PASS, NAN, "the baseline itself (slowdown 0)");
    else {
        double p = 1.0 - fp_opt_p_above(e, (size_t)i, (size_t)b, 0, 1.0 + budget);
        double bound = o->point_estimate ? m->slowdown : m->slowdown_bound;
        if (bound <= budget + 1e-9)
            set_check(&ck[CK_BUDGET], FP_CHECK_PASS, p,
                      "slowdown %.1f %% [%.1f, %.1f], its %.0f %% one-sided bound %.1f %% within "
                      "the %g %% budget (p of exceeding it %.3g)",
                      100 * m->slowdown, 100 * m->slowdown_lo, 100 * m->slowdown_hi,
                      100 * o->budget_confidence, 100 * m->slowdown_bound, 100 * budget, p);
        else
            set_check(&ck[CK_BUDGET], FP_CHECK_FAIL, p,
                      "the %.0f %% one-sided bound of the slowdown, %.1f %%, exceeds the %g %% "
                      "budget (slowdown %.1f %% [%.1f, %.1f], p of exceeding it %.3g)",
                      100 * o->budget_confidence, 100 * m->slowdown_bound, 100 * budget,
                      100 * m->slowdown, 100 * m->slowdown_lo, 100 * m->slowdown_hi, p);
    }

    /* saving: energy (time for the time objective), its interval clear of 0 */
    if (i == b)
        set_check(&ck[CK_SAVING], FP_CHECK_NA, NAN, "the baseline itself: no saving claimed");
    else if (time_obj) {
        double p = fp_opt_p_above(e, (size_t)i, (size_t)b, 0, 1.0);
        p = isfinite(p) ? 1.0 - p : NAN; /* p of "not faster" */
        if (m->slowdown_hi < 0.0)
            set_check(&ck[CK_SAVING], FP_CHECK_PASS, p, "time saving %.1f %% [%.1f, %.1f]",
                      -100 * m->slowdown, -100 * m->slowdown_hi, -100 * m->slowdown_lo);
        else
            set_check(&ck[CK_SAVING], FP_CHECK_FAIL, p,
                      "no significant time saving: slowdown %.1f %% [%.1f, %.1f]",
                      100 * m->slowdown, 100 * m->slowdown_lo, 100 * m->slowdown_hi);
    } else {
        double p = fp_opt_p_above(e, (size_t)i, (size_t)b, 1, 1.0);
        p = isfinite(p) ? 1.0 - p : NAN; /* one-sided p of "no saving" */
        char s[64];
        pct_ci(s, sizeof s, m->energy_saving, m->energy_saving_lo, m->energy_saving_hi);
        if (m->energy_saving_lo > 0.0)
            set_check(&ck[CK_SAVING], FP_CHECK_PASS, p, "energy saving %s", s);
        else
            set_check(&ck[CK_SAVING], FP_CHECK_FAIL, p,
                      "no significant saving: energy saving %s, the interval reaches 0", s);
    }

    check_frontier(&ck[CK_FRONTIER], c, e, i);
    check_cv(&ck[CK_CV], c, i, b, o->cv_threshold);
    if (cflags & FP_FLAG_DRIFT)
        set_check(&ck[CK_DRIFT], FP_CHECK_FAIL, NAN,
                  "time drifts with the sweep position (aggregate: drift): drift is confounded "
                  "with the clock; re-measure interleaved");
    else
        set_check(&ck[CK_DRIFT], FP_CHECK_PASS, NAN,
                  "no drift with the sweep position (aggregate's test, docs/method.md B.7)");
    check_counter(&ck[CK_COUNTER], c, i, b);
    check_clock(&ck[CK_CLOCK], c);
    if (m->energy_saving > o->suspect_saving)
        set_check(&ck[CK_PLAUS], FP_CHECK_FAIL, NAN,
                  "an energy saving of %.0f %% is implausible for DVFS alone (above %.0f %%; "
                  "10-25 %% is typical for inference): suspect idle time or a cold baseline",
                  100 * m->energy_saving, 100 * o->suspect_saving);
    else
        set_check(&ck[CK_PLAUS], FP_CHECK_PASS, NAN, "energy saving %.1f %%",
                  100 * m->energy_saving);

    /* A recommendation that keeps the baseline claims nothing: its findings only warn. */
    if (i == b)
        for (int k = 0; k < FP_VALIDATE_NCHECKS; k++)
            if (k != CK_DATA && ck[k].status == FP_CHECK_FAIL)
                ck[k].status = FP_CHECK_WARN;
    out->worst = FP_CHECK_PASS;
    for (int k = 0; k < FP_VALIDATE_NCHECKS; k++) {
        fp_check_status s = ck[k].status;
        if (s == FP_CHECK_FAIL || (s == FP_CHECK_WARN && out->worst == FP_CHECK_PASS))
            out->worst = s;
    }
    decide_verdict(out, rec, i, b, o->point_estimate ? 0.0 : o->margin);
}

static const fp_opt_curve *find_curve(const fp_opt_data *d, const char *gpu, const char *app)
{
    for (size_t i = 0; i < d->ncurves; i++)
        if (strcmp(d->curves[i].gpu, gpu) == 0 && strcmp(d->curves[i].app, app) == 0)
            return &d->curves[i];
    return NULL;
}

fp_status fp_validate(const fp_opt_data *d, const fp_opt_results *recs, const fp_opt_options *o,
                      fp_validation **out, fp_error *err)
{
    *out = NULL;
    fp_validation *vs = calloc(recs->len ? recs->len : 1, sizeof *vs);
    fp_opt_estimate *est = calloc(d->ncurves ? d->ncurves : 1, sizeof *est);
    char *have = calloc(d->ncurves ? d->ncurves : 1, 1);
    fp_status st = FP_OK;
    if (!vs || !est || !have) {
        st = fp_error_set(err, FP_ERR_NOMEM, "validate: out of memory");
        goto out;
    }
    for (size_t r = 0; r < recs->len && !st; r++) {
        fp_validation *v = &vs[r];
        v->rec = recs->items[r];
        const fp_opt_curve *c = find_curve(d, v->rec.gpu, v->rec.app);
        size_t ci = c ? (size_t)(c - d->curves) : 0;
        if (c && !have[ci]) {
            /* One estimate per curve, shared by its recommendations. */
            if ((st = fp_opt_estimate_curve(c, o, &est[ci], err)))
                break;
            have[ci] = 1;
        }
        static const fp_opt_estimate none = {0};
        long i = c ? find_idx(c, v->rec.freq_mhz) : -1,
             b = c ? find_idx(c, v->rec.baseline_mhz) : -1;
        v->found = i >= 0 && b >= 0 && isfinite(est[ci].time_s[i]) && isfinite(est[ci].time_s[b]);
        fp_opt_assess(c, c ? &est[ci] : &none, &v->rec, o, &v->a);
    }
out:
    for (size_t k = 0; est && have && k < d->ncurves; k++)
        if (have[k])
            fp_opt_estimate_free(&est[k]);
    free(est);
    free(have);
    if (st) {
        free(vs);
        return st;
    }
    *out = vs;
    return FP_OK;
}
