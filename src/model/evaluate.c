/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Validation of the models against measured centres: leave-one-clock-out, a sparse design
 * (the few clocks an adaptive sweep would measure), leave-one-app-out for the activity
 * models, and the regret of the clock chosen from predictions. Errors are in watts and
 * seconds (and relative to the measured value), never in log space.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "freqpilot/model.h"
#include "freqpilot/gpu_specs.h"
#include "freqpilot/sim.h"
#include "freqpilot/stats.h"
#include "model/model_internal.h"

void fp_eval_options_init(fp_eval_options *o)
{
    memset(o, 0, sizeof *o);
    fp_objective_parse("energy", &o->objective, NULL);
    o->max_slowdown = NAN;
    o->sparse_clocks = 5;
    fp_curve_options_init(&o->curve);
}

void fp_eval_results_free(fp_eval_results *r)
{
    free(r->items);
    r->items = NULL;
    r->len = 0;
}

double fp_model_pmax(const char *gpu)
{
    const fp_gpu_spec *s = fp_gpu_spec_find(gpu);
    return s ? s->power_limit_w : NAN;
}

/* ---- errors ---- */

typedef struct err_acc {
    size_t n, cap;
    double *ape_p, *ape_t;
    double sum_abs_p, sum_abs_t, max_abs_p, max_abs_t;
} err_acc;

static void acc_add(err_acc *a, double pred_t, double pred_p, double meas_t, double meas_p)
{
    if (!isfinite(pred_t) || !isfinite(pred_p) || !(meas_t > 0) || !(meas_p > 0))
        return;
    if (a->n == a->cap) {
        size_t c = a->cap ? 2 * a->cap : 32;
        double *p = realloc(a->ape_p, c * sizeof *p), *t;
        if (!p)
            return;
        a->ape_p = p;
        t = realloc(a->ape_t, c * sizeof *t);
        if (!t)
            return;
        a->ape_t = t;
        a->cap = c;
    }
    double ep = fabs(pred_p - meas_p), et = fabs(pred_t - meas_t);
    a->ape_p[a->n] = ep / meas_p;
    a->ape_t[a->n] = et / meas_t;
    a->n++;
    a->sum_abs_p += ep;
    a->sum_abs_t += et;
    a->max_abs_p = fmax(a->max_abs_p, ep);
    a->max_abs_t = fmax(a->max_abs_t, et);
}

static void acc_finish(err_acc *a, fp_model_errors *e)
{
    memset(e, 0, sizeof *e);
    e->n = a->n;
    if (!a->n) {
        e->power_mape = e->time_mape = e->power_mdape = e->time_mdape = NAN;
        e->power_max_err = e->time_max_err = e->power_max_err_w = e->time_max_err_s = NAN;
        e->power_mae_w = e->time_mae_s = NAN;
    } else {
        double mp = 0, mt = 0;
        for (size_t i = 0; i < a->n; i++) {
            e->power_mape += a->ape_p[i];
            e->time_mape += a->ape_t[i];
            mp = fmax(mp, a->ape_p[i]);
            mt = fmax(mt, a->ape_t[i]);
        }
        e->power_mape /= (double)a->n;
        e->time_mape /= (double)a->n;
        e->power_mdape = fp_stats_median(a->ape_p, a->n);
        e->time_mdape = fp_stats_median(a->ape_t, a->n);
        e->power_max_err = mp;
        e->time_max_err = mt;
        e->power_max_err_w = a->max_abs_p;
        e->time_max_err_s = a->max_abs_t;
        e->power_mae_w = a->sum_abs_p / (double)a->n;
        e->time_mae_s = a->sum_abs_t / (double)a->n;
    }
    free(a->ape_p);
    free(a->ape_t);
    memset(a, 0, sizeof *a);
}

/* ---- regret ---- */

double fp_model_regret(const fp_model_point *pts, size_t n, const double *pt, const double *pe,
                       const fp_objective *obj, double ms, double pmax, double *chosen_mhz,
                       double *best_mhz)
{
    if (chosen_mhz)
        *chosen_mhz = NAN;
    if (best_mhz)
        *best_mhz = NAN;
    size_t top = n;
    for (size_t i = 0; i < n; i++)
        if (top == n || pts[i].freq_mhz > pts[top].freq_mhz)
            top = i;
    if (top == n)
        return NAN;
    /* Both choices by optimize's rule on exact values (no margin): from the predictions and,
     * as the reference, from the measured centres. */
    fp_opt_cand *cp = malloc(n * sizeof *cp), *cm = malloc(n * sizeof *cm);
    if (!cp || !cm) {
        free(cp);
        free(cm);
        return NAN;
    }
    for (size_t i = 0; i < n; i++) {
        double tm = pts[i].time_s, em = pts[i].time_s * pts[i].power_w;
        cp[i] = (fp_opt_cand){pts[i].freq_mhz, fp_objective_value(obj, pt[i], pe[i], pmax),
                              pt[i] / pt[top] - 1, 1};
        cm[i] = (fp_opt_cand){pts[i].freq_mhz, fp_objective_value(obj, tm, em, pmax),
                              tm / pts[top].time_s - 1, 1};
    }
    double budget = isfinite(ms) ? ms : NAN;
    size_t ch = fp_opt_decide(cp, n, top, budget, 0.0);
    size_t be = fp_opt_decide(cm, n, top, budget, 0.0);
    double vch = cm[ch].value, vbe = cm[be].value;
    int ok = isfinite(cp[ch].value) && isfinite(vbe);
    free(cp);
    free(cm);
    if (!ok)
        return NAN;
    if (chosen_mhz)
        *chosen_mhz = pts[ch].freq_mhz;
    if (best_mhz)
        *best_mhz = pts[be].freq_mhz;
    return vch / vbe - 1;
}

/* ---- activity features of a (gpu, app) from its top clock ---- */

static int features_of(const fp_agg_row *rows, size_t nrows, const char *gpu, const char *app,
                       fp_activity_features *x)
{
    const fp_agg_row *top = NULL;
    for (size_t i = 0; i < nrows; i++) {
        const fp_agg_row *r = &rows[i];
        if (strcmp(r->gpu, gpu) || strcmp(r->app, app) || r->runs <= 0 || !(r->time_s > 0))
            continue;
        if (!top || r->freq_mhz > top->freq_mhz)
            top = r;
    }
    if (!top || !isfinite(top->fp_active) || !isfinite(top->dram_active))
        return -1;
    x->fp_active = top->fp_active;
    x->dram_active = top->dram_active;
    x->sm_active = isfinite(top->sm_active) ? top->sm_active : 0;
    x->tensor_active = isfinite(top->tensor_active) ? top->tensor_active : 0;
    x->gpu_util_pct = isfinite(top->gpu_util_pct) ? top->gpu_util_pct : 0;
    x->power_w = top->power_w > 0 ? top->power_w : top->energy_j / top->time_s;
    x->time_s = top->time_s;
    return 0;
}

/* Leave-one-app-out of one activity form for (gpu, app). */
static void loao(const fp_agg_result *agg, const char *gpu, const char *app, fp_activity_form form,
                 fp_model_errors *e)
{
    err_acc acc = {0};
    fp_activity_row *tr = calloc(agg->nrows ? agg->nrows : 1, sizeof *tr);
    fp_activity_features self;
    if (!tr || features_of(agg->rows, agg->nrows, gpu, app, &self)) {
        free(tr);
        acc_finish(&acc, e);
        return;
    }
    size_t n = 0;
    double hi = 0;
    for (size_t i = 0; i < agg->nrows; i++) {
        const fp_agg_row *r = &agg->rows[i];
        if (strcmp(r->gpu, gpu) || r->runs <= 0 || !(r->time_s > 0))
            continue;
        hi = fmax(hi, r->freq_mhz);
        if (strcmp(r->app, app) == 0)
            continue;
        fp_activity_features x;
        if (features_of(agg->rows, agg->nrows, gpu, r->app, &x))
            continue;
        tr[n].x = x;
        tr[n].freq_mhz = r->freq_mhz;
        tr[n].time_s = r->time_s;
        tr[n].power_w = r->power_w > 0 ? r->power_w : r->energy_j / r->time_s;
        tr[n].app = r->app;
        n++;
    }
    fp_activity_model m;
    double fmax = fp_model_gpu_fmax(gpu, NULL, hi);
    int ok = 0;
    if (form == FP_ACT_FGCS_PAPER) {
        fp_activity_paper(gpu, fmax, &m);
        ok = 1;
    } else {
        ok = fp_activity_fit(form, gpu, fmax, tr, n, &m, NULL) == FP_OK;
    }
    if (ok) {
        for (size_t i = 0; i < agg->nrows; i++) {
            const fp_agg_row *r = &agg->rows[i];
            if (strcmp(r->gpu, gpu) || strcmp(r->app, app) || r->runs <= 0 || !(r->time_s > 0))
                continue;
            double pp, tt;
            fp_activity_predict(&m, &self, r->freq_mhz, &pp, &tt);
            acc_add(&acc, tt, pp, r->time_s, r->power_w > 0 ? r->power_w : r->energy_j / r->time_s);
        }
    }
    free(tr);
    acc_finish(&acc, e);
}

/* Indices of k clocks spread evenly over the measured range (the top clock first). */
static size_t sparse_design(const fp_model_point *pts, size_t n, size_t k, size_t *idx)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, pts[i].freq_mhz);
        hi = fmax(hi, pts[i].freq_mhz);
    }
    size_t m = 0;
    for (size_t j = 0; j < k; j++) {
        double target = k > 1 ? hi - (hi - lo) * (double)j / (double)(k - 1) : hi;
        size_t best = 0;
        double bd = INFINITY;
        for (size_t i = 0; i < n; i++) {
            int used = 0;
            for (size_t u = 0; u < m; u++)
                used |= idx[u] == i;
            double d = fabs(pts[i].freq_mhz - target);
            if (!used && d < bd) {
                bd = d;
                best = i;
            }
        }
        if (isfinite(bd))
            idx[m++] = best;
    }
    return m;
}

static fp_status eval_one(const fp_agg_result *agg, size_t first, const fp_eval_options *o,
                          fp_eval_result *res, fp_error *err)
{
    const char *gpu = agg->rows[first].gpu, *app = agg->rows[first].app;
    memset(res, 0, sizeof *res);
    snprintf(res->gpu, sizeof res->gpu, "%s", gpu);
    snprintf(res->app, sizeof res->app, "%s", app);
    res->regret = res->regret_energy = res->regret_energy_5 = res->regret_edp = NAN;
    res->regret_ed2p = res->chosen_mhz = res->best_mhz = NAN;
    size_t cap = agg->nrows;
    fp_model_point *pts = calloc(cap, sizeof *pts), *sub = calloc(cap, sizeof *sub);
    double *pt = calloc(cap, sizeof *pt), *pe = calloc(cap, sizeof *pe);
    size_t *idx = calloc(cap + 8, sizeof *idx);
    if (!pts || !sub || !pt || !pe || !idx) {
        free(pts);
        free(sub);
        free(pt);
        free(pe);
        free(idx);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    size_t n = fp_model_points_from_rows(agg->rows, agg->nrows, gpu, app, pts, cap);
    res->n_clocks = n;
    fp_curve_model m;
    err_acc acc = {0};
    if (n >= 3 && fp_curve_fit(gpu, app, pts, n, &o->curve, &m, NULL) == FP_OK) {
        res->clock_bound = m.clock_bound;
        snprintf(res->note, sizeof res->note, "%s", m.note);
    } else {
        snprintf(res->note, sizeof res->note, "fewer than 3 clocks with data: no fit");
    }
    /* Leave one clock out. */
    for (size_t i = 0; n >= 4 && i < n; i++) {
        size_t k = 0;
        for (size_t j = 0; j < n; j++)
            if (j != i)
                sub[k++] = pts[j];
        fp_curve_model mi;
        if (fp_curve_fit(gpu, app, sub, k, &o->curve, &mi, NULL))
            continue;
        fp_curve_pred p;
        fp_curve_predict_raw(&mi, pts[i].freq_mhz, 0.95, &p);
        acc_add(&acc, p.time_s, p.power_w, pts[i].time_s, pts[i].power_w);
    }
    acc_finish(&acc, &res->loco);
    /* Sparse design. */
    size_t k = o->sparse_clocks > 1 ? (size_t)o->sparse_clocks : 5;
    if (n > k) {
        size_t m2 = sparse_design(pts, n, k, idx);
        for (size_t j = 0; j < m2; j++)
            sub[j] = pts[idx[j]];
        fp_curve_model ms;
        if (fp_curve_fit(gpu, app, sub, m2, &o->curve, &ms, NULL) == FP_OK) {
            for (size_t i = 0; i < n; i++) {
                fp_curve_pred p;
                fp_curve_predict_raw(&ms, pts[i].freq_mhz, 0.95, &p);
                pt[i] = p.time_s;
                pe[i] = p.energy_j;
                int in_design = 0;
                for (size_t j = 0; j < m2; j++)
                    in_design |= idx[j] == i;
                if (!in_design)
                    acc_add(&acc, p.time_s, p.power_w, pts[i].time_s, pts[i].power_w);
            }
            double pmax = fp_model_pmax(gpu);
            fp_objective oe, oedp, oed2p;
            fp_objective_parse("energy", &oe, NULL);
            fp_objective_parse("edp", &oedp, NULL);
            fp_objective_parse("ed2p", &oed2p, NULL);
            res->regret_energy = fp_model_regret(pts, n, pt, pe, &oe, NAN, pmax, NULL, NULL);
            res->regret_energy_5 = fp_model_regret(pts, n, pt, pe, &oe, 0.05, pmax, NULL, NULL);
            res->regret_edp = fp_model_regret(pts, n, pt, pe, &oedp, NAN, pmax, NULL, NULL);
            res->regret_ed2p = fp_model_regret(pts, n, pt, pe, &oed2p, NAN, pmax, NULL, NULL);
            res->regret = fp_model_regret(pts, n, pt, pe, &o->objective, o->max_slowdown, pmax,
                                          &res->chosen_mhz, &res->best_mhz);
        }
    }
    acc_finish(&acc, &res->sparse);
    loao(agg, gpu, app, FP_ACT_PHYSICAL, &res->loao_phys);
    loao(agg, gpu, app, FP_ACT_FGCS_REFIT, &res->loao_fgcs);
    if (strstr(gpu, "V100"))
        loao(agg, gpu, app, FP_ACT_FGCS_PAPER, &res->fgcs_paper);
    else
        acc_finish(&acc, &res->fgcs_paper);
    free(pts);
    free(sub);
    free(pt);
    free(pe);
    free(idx);
    return FP_OK;
}

fp_status fp_model_evaluate(const fp_agg_result *agg, const fp_eval_options *o,
                            fp_eval_results *out, fp_error *err)
{
    fp_eval_options def;
    if (!o) {
        fp_eval_options_init(&def);
        o = &def;
    }
    out->items = NULL;
    out->len = 0;
    size_t *first = calloc(agg->nrows ? agg->nrows : 1, sizeof *first);
    if (!first)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    size_t ng = fp_agg_pairs(agg->rows, agg->nrows, first, agg->nrows);
    out->items = calloc(ng ? ng : 1, sizeof *out->items);
    if (!out->items) {
        free(first);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    fp_status st = FP_OK;
    for (size_t g = 0; g < ng && !st; g++) {
        st = eval_one(agg, first[g], o, &out->items[g], err);
        if (!st)
            out->len++;
    }
    free(first);
    if (st)
        fp_eval_results_free(out);
    return st;
}

/* ---- simulated runs ---- */

static void sim_features(const fp_sim_gpu *g, const fp_sim_workload *wl, double f, fp_run *r)
{
    double tw = 0, sm = 0, te = 0, dr = 0, fp = 0, ut = 0;
    for (unsigned i = 0; i < wl->n_phases; i++) {
        if (!wl->phases[i].inference)
            continue;
        int capped = 0;
        unsigned fr = fp_sim_reached_clock(g, wl, i, f, 0, &capped);
        fp_sim_point pt;
        double temp = g->ambient_c;
        for (int it = 0; it < 4; it++) {
            fp_sim_phase_point(g, wl, i, fr, temp, &pt);
            temp = fp_sim_steady_temp(g, pt.power_w);
        }
        double w = pt.time_s;
        tw += w;
        sm += w * pt.sm_active;
        te += w * pt.tensor_active;
        dr += w * pt.dram_active;
        fp += w * (pt.fp32_active / 2 + pt.fp64_active + pt.fp16_active);
        ut += w * pt.gpu_util_pct;
    }
    if (tw > 0) {
        r->sm_active = sm / tw;
        r->tensor_active = te / tw;
        r->dram_active = dr / tw;
        r->fp_active = fp / tw;
        r->gpu_util_pct = ut / tw;
    }
}

fp_status fp_model_sim_runs(const char *gpu, const char *workload, int runs_per_clock,
                            double min_mhz, double sigma, unsigned long seed, fp_run_list *out,
                            fp_error *err)
{
    const fp_sim_gpu *g = fp_sim_gpu_find(gpu);
    if (!g)
        return fp_error_set(err, FP_ERR_INVALID, "unknown simulated GPU '%s'", gpu);
    fp_sim_workload wl;
    fp_status st = fp_sim_workload_resolve(workload, &wl, err);
    if (st)
        return st;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    gsl_rng_set(rng, seed);
    long pos = 1;
    for (unsigned c = 0; c < g->n_clocks && !st; c++) {
        double f = g->clocks_mhz[c];
        if (f < min_mhz)
            continue;
        double t, e, p;
        st = fp_sim_expected(g, &wl, f, &t, &e, &p, err);
        if (st)
            break;
        fp_run_buf b;
        fp_run_buf_init(&b);
        fp_run r = b.run;
        r.gpu = g->short_name;
        r.app = wl.name;
        r.freq_mhz = f;
        r.sm_clock_mhz = f;
        sim_features(g, &wl, f, &r);
        r.flags = 0;
        snprintf(b.source, sizeof b.source, "sim:%s/%s", g->short_name, wl.name);
        for (int k = 0; k < runs_per_clock && !st; k++) {
            double nt = sigma > 0 ? exp(gsl_ran_gaussian(rng, sigma)) : 1.0;
            double np = sigma > 0 ? exp(gsl_ran_gaussian(rng, sigma)) : 1.0;
            r.repetition = k + 1;
            r.run_index = pos++;
            r.time_s = t * nt;
            r.power_w = p * np;
            r.energy_j = r.time_s * r.power_w;
            st = fp_run_list_push(out, &r, err);
        }
    }
    gsl_rng_free(rng);
    return st;
}
