/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Adaptive sweep (docs/model.md): measure the top clock (twice: the first noise estimate),
 * then the voltage knee and the midpoint, then repeatedly fit the per-curve model and
 * measure where it best narrows the optimum:
 *
 *  - every clock gets an interval of the objective: measured clocks from their runs (mean ±
 *    t·SE), the others from the model's confidence band;
 *  - best = the clock with the lowest (centre) objective that meets the slowdown budget;
 *  - the choice is settled when no other clock's lower bound is below best's upper bound by
 *    more than the tolerance: choosing best then costs at most `tolerance` over the optimum
 *    (at the stated confidence);
 *  - otherwise measure the unsettled clock with the widest interval (best first when it was
 *    never measured); a measured clock is measured again only when its own noise is what
 *    keeps it unsettled (repeat runs only where noise matters).
 *
 * The run cap ends a sweep that cannot settle (noisy or not clock-bound data); the result
 * says so. `fp_model_replay` answers each "measure clock f" from recorded runs.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "freqpilot/model.h"
#include "freqpilot/stats.h"
#include "model/model_internal.h"

void fp_adaptive_options_init(fp_adaptive_options *o)
{
    memset(o, 0, sizeof *o);
    fp_objective_parse("energy", &o->objective, NULL);
    o->max_slowdown = NAN;
    o->tolerance = 0.01;
    o->conf = 0.95;
    o->runs_top = 2;
    o->max_runs = 30;
    o->pmax_w = NAN;
    o->margin = 0.0;
    fp_curve_options_init(&o->curve);
}

typedef struct clock_state {
    double f;
    int n;
    double tsum, esum, t2sum, e2sum;
} clock_state;

struct fp_adaptive {
    char gpu[64], app[64];
    fp_adaptive_options o;
    clock_state *c; /* sorted high to low */
    size_t nc;
    int runs;
    double gpu_time_s;
    double pmax;
    size_t init_next;
    size_t init_idx[3];
    size_t ninit;
};

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static size_t nearest(const fp_adaptive *a, double f)
{
    size_t best = 0;
    for (size_t i = 1; i < a->nc; i++)
        if (fabs(a->c[i].f - f) < fabs(a->c[best].f - f))
            best = i;
    return best;
}

fp_status fp_adaptive_new(const char *gpu, const char *app, const double *clocks, size_t n,
                          const fp_adaptive_options *o, fp_adaptive **out, fp_error *err)
{
    *out = NULL;
    if (n < 1)
        return fp_error_set(err, FP_ERR_INVALID, "adaptive sweep: no clocks to choose from");
    fp_adaptive *a = calloc(1, sizeof *a);
    double *f = malloc(n * sizeof *f);
    if (!a || !f) {
        free(a);
        free(f);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    if (o)
        a->o = *o;
    else
        fp_adaptive_options_init(&a->o);
    if (a->o.runs_top < 1)
        a->o.runs_top = 1;
    if (a->o.max_runs < a->o.runs_top + 3)
        a->o.max_runs = a->o.runs_top + 3;
    snprintf(a->gpu, sizeof a->gpu, "%s", gpu ? gpu : "");
    snprintf(a->app, sizeof a->app, "%s", app ? app : "");
    memcpy(f, clocks, n * sizeof *f);
    qsort(f, n, sizeof *f, cmp_desc);
    a->c = calloc(n, sizeof *a->c);
    if (!a->c) {
        free(a);
        free(f);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        if (f[i] > 0 && (a->nc == 0 || f[i] < a->c[a->nc - 1].f))
            a->c[a->nc++].f = f[i];
    free(f);
    if (!a->nc) {
        fp_adaptive_free(a);
        return fp_error_set(err, FP_ERR_INVALID, "adaptive sweep: no positive clocks");
    }
    a->pmax = isfinite(a->o.pmax_w) ? a->o.pmax_w : fp_model_pmax(gpu);
    /* The first design: the knee of the voltage curve and the midpoint to the top clock. */
    double fmax = fp_model_gpu_fmax(gpu, &a->o.curve, a->c[0].f);
    fp_curve_model tmp;
    memset(&tmp, 0, sizeof tmp);
    double knee = isfinite(a->o.curve.knee_mhz) ? a->o.curve.knee_mhz : NAN;
    if (!isfinite(knee)) {
        fp_model_point p[2] = {{fmax, 1, 1, NAN, NAN, 1}, {fmax / 2, 2, 1, NAN, NAN, 1}};
        if (fp_curve_fit(gpu, app, p, 2, &a->o.curve, &tmp, NULL) == FP_OK)
            knee = tmp.knee_mhz;
        else
            knee = 0.64 * fmax;
    }
    double lo = a->c[a->nc - 1].f;
    if (knee < lo)
        knee = lo + 0.3 * (a->c[0].f - lo);
    a->init_idx[a->ninit++] = nearest(a, knee);
    a->init_idx[a->ninit++] = nearest(a, (a->c[0].f + knee) / 2);
    a->init_idx[a->ninit++] =
        nearest(a, (knee + lo) / 2 > 0.45 * fmax ? (knee + lo) / 2 : 0.45 * fmax);
    *out = a;
    return FP_OK;
}

void fp_adaptive_free(fp_adaptive *a)
{
    if (!a)
        return;
    free(a->c);
    free(a);
}

fp_status fp_adaptive_add(fp_adaptive *a, double f, double time_s, double energy_j, fp_error *err)
{
    if (!(time_s > 0) || !(energy_j > 0))
        return fp_error_set(err, FP_ERR_INVALID,
                            "adaptive sweep: a run needs positive time and energy (%g s, %g J)",
                            time_s, energy_j);
    size_t i = nearest(a, f);
    if (fabs(a->c[i].f - f) > 0.5)
        return fp_error_set(err, FP_ERR_INVALID,
                            "adaptive sweep: %.0f MHz is not one of the clocks given", f);
    clock_state *c = &a->c[i];
    c->n++;
    c->tsum += time_s;
    c->esum += energy_j;
    c->t2sum += time_s * time_s;
    c->e2sum += energy_j * energy_j;
    a->runs++;
    a->gpu_time_s += time_s;
    return FP_OK;
}

static double rsd(double sum, double sum2, int n)
{
    if (n < 2)
        return NAN;
    double m = sum / n;
    double v = (sum2 - n * m * m) / (n - 1);
    return v > 0 && m > 0 ? sqrt(v) / m : 0.0;
}

/* Pooled relative SD of one run's time and power over the clocks with repeats. */
static void pooled_noise(const fp_adaptive *a, double *rt, double *rp)
{
    double st = 0, se = 0, w = 0;
    for (size_t i = 0; i < a->nc; i++) {
        const clock_state *c = &a->c[i];
        if (c->n < 2)
            continue;
        double t = rsd(c->tsum, c->t2sum, c->n), e = rsd(c->esum, c->e2sum, c->n);
        st += (c->n - 1) * t * t;
        se += (c->n - 1) * e * e;
        w += c->n - 1;
    }
    double fl = a->o.curve.noise_floor;
    *rt = w > 0 ? fmax(sqrt(st / w), fl) : 0.01;
    *rp = w > 0 ? fmax(sqrt(se / w), fl) : 0.01;
}

static int fit(const fp_adaptive *a, fp_curve_model *m)
{
    fp_model_point p[512];
    size_t k = 0;
    double rt, re;
    pooled_noise(a, &rt, &re);
    for (size_t i = 0; i < a->nc && k < 512; i++) {
        const clock_state *c = &a->c[i];
        if (!c->n)
            continue;
        double t = c->tsum / c->n, e = c->esum / c->n;
        p[k].freq_mhz = c->f;
        p[k].time_s = t;
        p[k].power_w = e / t;
        p[k].time_rsd = rt;
        p[k].power_rsd = re;
        p[k].runs = c->n;
        k++;
    }
    if (k < 2)
        return -1;
    return fp_curve_fit(a->gpu, a->app, p, k, &a->o.curve, m, NULL) == FP_OK ? 0 : -1;
}

typedef struct assess {
    long best;
    double worst_bound; /* max over other clocks of v_hi(best)/v_lo(f) - 1 */
    long pick;          /* clock to measure next, -1 when settled */
    double v_best, e_best, t_best, e_lo, e_hi;
} assess;

/* Objective of one clock with its standard error; 0 ok. */
static int estimate(const fp_adaptive *a, const fp_curve_model *m, size_t i, double rt, double rp,
                    double t_top, double *v, double *se, double *t, double *e, double *ese,
                    int *feasible, double *slowdown, double tq)
{
    const clock_state *c = &a->c[i];
    double dt, dp, tt, pp;
    if (c->n > 0) {
        tt = c->tsum / c->n;
        pp = c->esum / c->n / tt;
        /* Replicate noise, or the model's residual scatter when the centres scatter more
         * than the replicates say (bimodal runs, drift): never trust a centre beyond it. */
        dt = fmax(rt, m->time.rms_rel) / sqrt(c->n);
        dp = fmax(rp, m->power.rms_rel) / sqrt(c->n);
    } else {
        fp_curve_pred pr;
        fp_curve_predict_raw(m, c->f, a->o.conf, &pr);
        tt = pr.time_s;
        pp = pr.power_w;
        if (!(tt > 0) || !(pp > 0))
            return -1;
        /* Standard error of the mean curve (its residual variance includes the misfit). */
        dt = pr.time_se / tt;
        dp = pr.power_se / pp;
    }
    const fp_objective *o = &a->o.objective;
    *t = tt;
    *e = tt * pp;
    *v = fp_objective_value(o, tt, tt * pp, a->pmax);
    /* The objective's error formula (objective.h), time and power errors taken as fully
     * correlated: conservative. */
    double st, sen;
    fp_objective_sens(o, tt, tt * pp, a->pmax, &st, &sen);
    *se = fabs(*v) * (fabs(st) * dt + fabs(sen) * (dt + dp));
    *ese = *e * (dt + dp);
    double ms = a->o.max_slowdown;
    double sd = tt / t_top - 1;
    *slowdown = sd;
    *feasible = !isfinite(ms)                          ? 2
                : sd <= ms + 1e-9                      ? 2
                : tt * (1 - tq * dt) / t_top - 1 <= ms ? 1
                                                       : 0;
    return isfinite(*v) && isfinite(*se) ? 0 : -1;
}

/*
 * best = lowest centre among the clocks that meet the budget. Another clock f is settled when
 * it is worse than best/(1 + tol) with one-sided confidence conf:
 *   v(f) - v(best)/(1 + tol) >= q · sqrt(se(best)² + se(f)²).
 * worst_bound is the smallest tolerance for which every clock would be settled.
 */
static void assess_now(const fp_adaptive *a, const fp_curve_model *m, assess *s)
{
    double rt, rp;
    pooled_noise(a, &rt, &rp);
    double dof = fmax(1.0, m->time.dof);
    double q = gsl_cdf_tdist_Pinv(a->o.conf, dof);
    if (q > 4)
        q = 4;
    double t_top = a->c[0].n ? a->c[0].tsum / a->c[0].n : m->t_ref_s;
    size_t n = a->nc;
    double *v = malloc(n * sizeof *v), *se = malloc(n * sizeof *se);
    double *tv = malloc(n * sizeof *tv), *ev = malloc(n * sizeof *ev),
           *esev = malloc(n * sizeof *esev);
    int *fe = malloc(n * sizeof *fe);
    fp_opt_cand *cand = malloc(n * sizeof *cand);
    s->best = -1;
    s->pick = -1;
    s->worst_bound = INFINITY;
    if (!v || !se || !fe || !tv || !ev || !esev || !cand)
        goto out;
    for (size_t i = 0; i < n; i++) {
        double sd = NAN;
        if (estimate(a, m, i, rt, rp, t_top, &v[i], &se[i], &tv[i], &ev[i], &esev[i], &fe[i], &sd,
                     q))
            fe[i] = -1;
        /* best: optimize's rule on the centres among the clocks that meet the budget. */
        cand[i] = (fp_opt_cand){a->c[i].f, v[i], sd, fe[i] == 2};
    }
    if (n > 0 && fe[0] == 2) {
        size_t bi = fp_opt_decide(cand, n, 0, NAN, a->o.margin);
        s->best = (long)bi;
        s->v_best = v[bi];
        s->t_best = tv[bi];
        s->e_best = ev[bi];
        s->e_lo = ev[bi] - q * esev[bi];
        s->e_hi = ev[bi] + q * esev[bi];
    }
    if (s->best < 0)
        goto out;
    size_t b = (size_t)s->best;
    s->worst_bound = 0;
    double worst_z = INFINITY, worst_z_new = INFINITY;
    long pick_new = -1;
    for (size_t i = 0; i < n; i++) {
        if (fe[i] <= 0 || i == b)
            continue;
        double sd = sqrt(se[b] * se[b] + se[i] * se[i]);
        double lower = v[i] - q * sd; /* f could be this good */
        double bound = lower > 0 ? v[b] / lower - 1 : INFINITY;
        if (bound > s->worst_bound)
            s->worst_bound = bound;
        if (bound > a->o.tolerance) {
            /* The least settled clock: measure it (or best, when best is the weak side). */
            double z = sd > 0 ? (v[i] - v[b] / (1 + a->o.tolerance)) / sd : -INFINITY;
            if (z < worst_z) {
                worst_z = z;
                s->pick = (long)(se[b] > se[i] ? b : i);
            }
            if (a->c[i].n == 0 && z < worst_z_new) {
                worst_z_new = z;
                pick_new = (long)i;
            }
        }
    }
    /* Repeats cannot fix a misfit: when the centres scatter about the model more than the
     * replicates do, measure a new clock instead of repeating one. */
    if (s->pick >= 0 && a->c[s->pick].n > 0 && pick_new >= 0 &&
        (rt < m->time.rms_rel || rp < m->power.rms_rel))
        s->pick = pick_new;
out:
    free(v);
    free(se);
    free(tv);
    free(ev);
    free(esev);
    free(fe);
    free(cand);
}

int fp_adaptive_next(fp_adaptive *a, double *freq_mhz)
{
    if (a->runs >= a->o.max_runs)
        return 0;
    if (a->c[0].n < a->o.runs_top) {
        *freq_mhz = a->c[0].f;
        return 1;
    }
    while (a->init_next < a->ninit) {
        size_t i = a->init_idx[a->init_next++];
        if (a->c[i].n == 0) {
            *freq_mhz = a->c[i].f;
            return 1;
        }
    }
    fp_curve_model m;
    if (fit(a, &m)) {
        /* No usable fit yet: the next unmeasured clock in halving order. */
        for (size_t i = a->nc; i-- > 0;)
            if (a->c[i].n == 0) {
                *freq_mhz = a->c[i].f;
                return 1;
            }
        return 0;
    }
    assess s;
    assess_now(a, &m, &s);
    if (s.pick < 0)
        return 0;
    *freq_mhz = a->c[s.pick].f;
    return 1;
}

fp_status fp_adaptive_result_get(const fp_adaptive *a, fp_adaptive_result *r, fp_curve_model *model,
                                 fp_error *err)
{
    memset(r, 0, sizeof *r);
    r->runs = a->runs;
    r->gpu_time_s = a->gpu_time_s;
    for (size_t i = 0; i < a->nc; i++)
        r->clocks += a->c[i].n > 0;
    fp_curve_model m;
    if (fit(a, &m)) {
        /* One clock only: it is the answer, unsettled. */
        if (!a->c[0].n)
            return fp_error_set(err, FP_ERR_INVALID, "adaptive sweep: nothing measured yet");
        r->freq_mhz = a->c[0].f;
        r->time_s = a->c[0].tsum / a->c[0].n;
        r->energy_j = a->c[0].esum / a->c[0].n;
        r->energy_lo = r->energy_hi = NAN;
        r->tolerance_achieved = NAN;
        snprintf(r->reason, sizeof r->reason, "fewer than 2 clocks measured");
        return FP_OK;
    }
    if (model)
        *model = m;
    assess s;
    assess_now(a, &m, &s);
    r->clock_bound = m.clock_bound;
    if (s.best < 0) {
        r->freq_mhz = a->c[0].f;
        r->time_s = a->c[0].tsum / a->c[0].n;
        r->energy_j = a->c[0].esum / a->c[0].n;
        r->energy_lo = r->energy_hi = r->tolerance_achieved = NAN;
        snprintf(r->reason, sizeof r->reason, "no clock predicted within the budget");
        return FP_OK;
    }
    r->freq_mhz = a->c[s.best].f;
    r->time_s = s.t_best;
    r->energy_j = s.e_best;
    r->energy_lo = s.e_lo;
    r->energy_hi = s.e_hi;
    r->tolerance_achieved = s.worst_bound;
    r->converged = s.worst_bound <= a->o.tolerance;
    if (r->converged)
        snprintf(r->reason, sizeof r->reason, "optimum known within %.1f %% (%.0f %% confidence)",
                 100 * a->o.tolerance, 100 * a->o.conf);
    else
        snprintf(r->reason, sizeof r->reason,
                 "run cap (%d) reached: the choice is within %.1f %% of the optimum%s",
                 a->o.max_runs, 100 * s.worst_bound,
                 m.clock_bound ? "" : "; time not explained by the clock");
    return FP_OK;
}

/* ---- replay ---- */

void fp_model_replay_results_free(fp_model_replay_results *r)
{
    free(r->items);
    r->items = NULL;
    r->len = 0;
}

static fp_status replay_one(const fp_run_list *runs, const char *keep, const fp_agg_result *agg,
                            size_t first, const fp_adaptive_options *o, fp_model_replay_result *res,
                            fp_error *err)
{
    const char *gpu = agg->rows[first].gpu, *app = agg->rows[first].app;
    memset(res, 0, sizeof *res);
    snprintf(res->gpu, sizeof res->gpu, "%s", gpu);
    snprintf(res->app, sizeof res->app, "%s", app);
    res->regret = res->energy_regret = res->gpu_time_fraction = res->best_mhz = NAN;
    size_t cap = agg->nrows;
    fp_model_point *pts = calloc(cap ? cap : 1, sizeof *pts);
    double *clocks = calloc(cap ? cap : 1, sizeof *clocks);
    long *used = calloc(cap ? cap : 1, sizeof *used);
    if (!pts || !clocks || !used) {
        free(pts);
        free(clocks);
        free(used);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    size_t n = fp_model_points_from_rows(agg->rows, agg->nrows, gpu, app, pts, cap);
    double total = 0;
    for (size_t i = 0; i < runs->len; i++)
        if (keep[i] && strcmp(runs->items[i].gpu, gpu) == 0 && strcmp(runs->items[i].app, app) == 0)
            total += runs->items[i].time_s;
    for (size_t i = 0; i < n; i++)
        clocks[i] = pts[i].freq_mhz;
    fp_adaptive *a = NULL;
    fp_status st = n ? fp_adaptive_new(gpu, app, clocks, n, o, &a, err) : FP_OK;
    double f;
    while (!st && a && fp_adaptive_next(a, &f)) {
        size_t ci = 0;
        for (size_t i = 0; i < n; i++)
            if (fabs(clocks[i] - f) < fabs(clocks[ci] - f))
                ci = i;
        /* The used[ci]-th kept run at this clock (cycling when they run out). */
        size_t cnt = 0, pick = runs->len;
        for (size_t i = 0; i < runs->len; i++) {
            const fp_run *r = &runs->items[i];
            if (keep[i] && r->freq_mhz == clocks[ci] && !strcmp(r->gpu, gpu) &&
                !strcmp(r->app, app))
                cnt++;
        }
        size_t want = cnt ? (size_t)used[ci] % cnt : 0, seen = 0;
        for (size_t i = 0; i < runs->len && cnt; i++) {
            const fp_run *r = &runs->items[i];
            if (keep[i] && r->freq_mhz == clocks[ci] && !strcmp(r->gpu, gpu) &&
                !strcmp(r->app, app) && seen++ == want) {
                pick = i;
                break;
            }
        }
        if (pick == runs->len) {
            st = fp_error_set(err, FP_ERR_INVALID, "%s %s: no kept run at %.0f MHz", gpu, app,
                              clocks[ci]);
            break;
        }
        used[ci]++;
        const fp_run *r = &runs->items[pick];
        double e = isfinite(r->power_w) ? r->power_w * r->time_s : r->energy_j;
        st = fp_adaptive_add(a, clocks[ci], r->time_s, e, err);
    }
    if (!st && a) {
        st = fp_adaptive_result_get(a, &res->ad, NULL, err);
        if (!st) {
            res->gpu_time_fraction = total > 0 ? res->ad.gpu_time_s / total : NAN;
            double *pt = malloc(n * sizeof *pt), *pe = malloc(n * sizeof *pe);
            if (pt && pe) {
                /* Score the chosen clock on the measured centres. */
                for (size_t i = 0; i < n; i++) {
                    pt[i] = pts[i].time_s;
                    pe[i] = pts[i].time_s * pts[i].power_w;
                }
                double best_mhz = NAN;
                fp_model_regret(pts, n, pt, pe, &o->objective, o->max_slowdown,
                                isfinite(o->pmax_w) ? o->pmax_w : fp_model_pmax(gpu), NULL,
                                &best_mhz);
                res->best_mhz = best_mhz;
                size_t ch = 0, bi = 0, top = 0;
                for (size_t i = 0; i < n; i++) {
                    if (fabs(pts[i].freq_mhz - res->ad.freq_mhz) <
                        fabs(pts[ch].freq_mhz - res->ad.freq_mhz))
                        ch = i;
                    if (pts[i].freq_mhz == best_mhz)
                        bi = i;
                    if (pts[i].freq_mhz > pts[top].freq_mhz)
                        top = i;
                }
                double pm = isfinite(o->pmax_w) ? o->pmax_w : fp_model_pmax(gpu);
                double vc = fp_objective_value(&o->objective, pt[ch], pe[ch], pm);
                double vb = fp_objective_value(&o->objective, pt[bi], pe[bi], pm);
                res->regret = vc / vb - 1;
                res->energy_regret = pe[ch] / pe[bi] - 1;
                res->feasible =
                    !isfinite(o->max_slowdown) || pt[ch] / pt[top] - 1 <= o->max_slowdown + 1e-9;
            }
            free(pt);
            free(pe);
        }
    }
    fp_adaptive_free(a);
    free(pts);
    free(clocks);
    free(used);
    return st;
}

fp_status fp_model_replay(const fp_run_list *runs, const fp_adaptive_options *o,
                          fp_model_replay_results *out, fp_error *err)
{
    fp_adaptive_options def;
    if (!o) {
        fp_adaptive_options_init(&def);
        o = &def;
    }
    out->items = NULL;
    out->len = 0;
    fp_agg_options aopt;
    fp_agg_options_init(&aopt);
    aopt.bootstrap_samples = 200;
    fp_agg_result agg;
    memset(&agg, 0, sizeof agg);
    fp_status st = fp_aggregate(runs, &aopt, &agg, err);
    if (st)
        return st;
    char *keep = malloc(runs->len ? runs->len : 1);
    size_t *first = calloc(agg.nrows ? agg.nrows : 1, sizeof *first);
    fp_agg_dropped_index *dropped = NULL;
    if (!keep || !first || (st = fp_agg_dropped_index_new(&agg, &dropped, err))) {
        free(keep);
        free(first);
        fp_agg_result_free(&agg);
        return st ? st : fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < runs->len; i++) {
        const fp_run *r = &runs->items[i];
        keep[i] = !fp_agg_dropped_find(dropped, r) && r->time_s > 0 && !(r->flags & FP_FLAG_FAILED);
    }
    fp_agg_dropped_index_free(dropped);
    size_t ng = fp_agg_pairs(agg.rows, agg.nrows, first, agg.nrows);
    out->items = calloc(ng ? ng : 1, sizeof *out->items);
    if (!out->items)
        st = fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    for (size_t g = 0; g < ng && !st; g++) {
        st = replay_one(runs, keep, &agg, first[g], o, &out->items[g], err);
        if (!st)
            out->len++;
    }
    free(keep);
    free(first);
    fp_agg_result_free(&agg);
    if (st)
        fp_model_replay_results_free(out);
    return st;
}
