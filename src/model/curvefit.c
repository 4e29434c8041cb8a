/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Per-curve fits: time = t_fixed + t_compute · fmax/f and power = p_static + p_dyn · g(f) +
 * p_act · g(f)·u(f) + p_mem · w(f), every part non-negative (docs/model.md).
 *
 * Non-negative least squares by enumerating the subsets of active terms: with at most four
 * terms that is 15 weighted least-squares solves (gsl_multifit_wlinear), and the best subset
 * whose coefficients are all non-negative is the exact NNLS solution (the KKT point is the
 * unconstrained optimum of its own active set). Residuals are relative (weights 1/y²),
 * because the noise of time and power grows with their size.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_vector.h>

#include "freqpilot/model.h"
#include "freqpilot/gpu_specs.h"
#include "model/model_internal.h"

void fp_curve_options_init(fp_curve_options *o)
{
    o->fmax_mhz = NAN;
    o->knee_mhz = NAN;
    o->v_ratio = NAN;
    o->max_resid = 0.05;
    o->noise_floor = 0.003;
}

double fp_model_vrel(double f, double fmax, double knee, double v_ratio)
{
    if (!(knee < fmax) || f <= knee)
        return v_ratio;
    return v_ratio + (1.0 - v_ratio) * (f - knee) / (fmax - knee);
}

double fp_curve_g(const fp_curve_model *m, double f)
{
    double v = fp_model_vrel(f, m->fmax_mhz, m->knee_mhz, m->v_ratio);
    return f / m->fmax_mhz * v * v;
}

static double time_mean(const fp_curve_model *m, double f)
{
    return m->time.coef[0] + m->time.coef[1] * m->fmax_mhz / f;
}

/* Basis of the power fit at f (needs the time fit). */
void fp_model_power_basis(const fp_curve_model *m, double f, double *b)
{
    double g = fp_curve_g(m, f);
    double t = time_mean(m, f);
    double comp = m->time.coef[1] * m->fmax_mhz / f;
    double comp0 = m->time.coef[1];
    /* Compute activity at f relative to fmax: the share of the time spent computing. */
    double u = (t > 0 && comp0 > 0 && m->t_ref_s > 0) ? (comp / t) / (comp0 / m->t_ref_s) : 0.0;
    b[0] = 1.0;
    b[1] = g;
    b[2] = g * u;
    b[3] = t > 0 ? m->t_ref_s / t : 1.0;
}

void fp_model_time_basis(const fp_curve_model *m, double f, double *b)
{
    b[0] = 1.0;
    b[1] = m->fmax_mhz / f;
}

/*
 * NNLS of y on X (n x p) with weights 1/y². noise2: relative variance floor per point.
 * rep_dof: extra degrees of freedom from replicate runs.
 */
int fp_model_nnls(const double *X, const double *y, size_t n, int p, double noise2, double rep_dof,
                  double runs, fp_lsq *out)
{
    memset(out, 0, sizeof *out);
    out->nterms = p;
    double best_chisq = INFINITY;
    unsigned best_mask = 0;
    double best_coef[FP_MODEL_MAX_TERMS] = {0};
    double best_cov[FP_MODEL_MAX_TERMS][FP_MODEL_MAX_TERMS] = {{0}};
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    for (unsigned mask = 1; mask < (1u << p); mask++) {
        int k = __builtin_popcount(mask);
        if ((size_t)k > n)
            continue;
        gsl_matrix *A = gsl_matrix_alloc(n, (size_t)k);
        gsl_vector *yy = gsl_vector_alloc(n), *w = gsl_vector_alloc(n),
                   *c = gsl_vector_alloc((size_t)k);
        gsl_matrix *cov = gsl_matrix_alloc((size_t)k, (size_t)k);
        gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, (size_t)k);
        for (size_t i = 0; i < n; i++) {
            int col = 0;
            for (int j = 0; j < p; j++)
                if (mask & (1u << j))
                    gsl_matrix_set(A, i, (size_t)col++, X[i * (size_t)p + (size_t)j]);
            gsl_vector_set(yy, i, y[i]);
            gsl_vector_set(w, i, 1.0 / (y[i] * y[i]));
        }
        double chisq;
        int rc = gsl_multifit_wlinear(A, w, yy, c, cov, &chisq, ws);
        int ok = rc == 0 && isfinite(chisq);
        for (int j = 0; ok && j < k; j++)
            if (!(gsl_vector_get(c, (size_t)j) >= 0))
                ok = 0;
        /* A tie (collinear terms) keeps the smaller model. */
        if (ok && chisq < best_chisq * (1 - 1e-9) - 1e-15) {
            best_chisq = chisq;
            best_mask = mask;
            memset(best_coef, 0, sizeof best_coef);
            memset(best_cov, 0, sizeof best_cov);
            int a = 0;
            for (int j = 0; j < p; j++) {
                if (!(mask & (1u << j)))
                    continue;
                best_coef[j] = gsl_vector_get(c, (size_t)a);
                int b = 0;
                for (int l = 0; l < p; l++)
                    if (mask & (1u << l))
                        best_cov[j][l] = gsl_matrix_get(cov, (size_t)a, (size_t)b++);
                a++;
            }
        }
        gsl_multifit_linear_free(ws);
        gsl_matrix_free(A);
        gsl_matrix_free(cov);
        gsl_vector_free(yy);
        gsl_vector_free(w);
        gsl_vector_free(c);
    }
    gsl_set_error_handler(old);
    if (!best_mask) {
        /* Everything negative: the all-zero model is not useful; report failure. */
        return -1;
    }
    int k = __builtin_popcount(best_mask);
    double dof = (double)n - k;
    double s2fit = dof > 0 ? best_chisq / dof : 0.0;
    out->rms_rel = sqrt(best_chisq / (double)n);
    out->s2_rel = s2fit > noise2 ? s2fit : noise2;
    out->s2_run = out->s2_rel * (runs > 1 ? runs : 1);
    out->dof = (dof > 0 ? dof : 0) + rep_dof;
    if (out->dof < 1)
        out->dof = 1;
    for (int j = 0; j < p; j++) {
        out->coef[j] = best_coef[j];
        for (int l = 0; l < p; l++)
            out->cov[j][l] = best_cov[j][l] * out->s2_rel;
    }
    return 0;
}

double fp_model_lsq_eval(const fp_lsq *l, const double *b, double *se)
{
    double y = 0, v = 0;
    for (int j = 0; j < l->nterms; j++) {
        y += l->coef[j] * b[j];
        for (int k = 0; k < l->nterms; k++)
            v += b[j] * l->cov[j][k] * b[k];
    }
    if (se)
        *se = sqrt(v > 0 ? v : 0);
    return y;
}

/*
 * Priors of the voltage curve per architecture: the clock below which the voltage stays at its
 * floor, and V_min / V_max. They are the calibration of the simulated GPU against the real
 * sweeps of each architecture (docs/simulated-gpu.md), used as a die property here; other
 * architectures get a knee at 0.64 f_max, the mean of the three.
 */
int fp_model_knee_prior(const char *gpu, double fmax, double *knee_mhz, double *v_ratio)
{
    static const struct {
        const char *arch;
        double knee_mhz, v_ratio;
    } priors[] = {{"Volta", 900.0, 0.712}, {"Ampere", 900.0, 0.712}, {"Hopper", 1050.0, 0.712}};
    const char *arch = fp_gpu_arch(gpu);
    for (size_t i = 0; arch && i < sizeof priors / sizeof priors[0]; i++)
        if (strcmp(arch, priors[i].arch) == 0 && priors[i].knee_mhz < fmax) {
            *knee_mhz = priors[i].knee_mhz;
            *v_ratio = priors[i].v_ratio;
            return 1;
        }
    *knee_mhz = 0.64 * fmax;
    *v_ratio = 0.712;
    return 0;
}

static void knee_for(const char *gpu, double fmax, const fp_curve_options *o, fp_curve_model *m)
{
    double knee, vr;
    int known = fp_model_knee_prior(gpu, fmax, &knee, &vr);
    m->knee_source = known ? 0 : 1;
    m->knee_mhz = isfinite(o->knee_mhz) ? o->knee_mhz : knee;
    m->v_ratio = isfinite(o->v_ratio) ? o->v_ratio : vr;
    if (isfinite(o->knee_mhz))
        m->knee_source = 0;
}

double fp_model_gpu_fmax(const char *gpu, const fp_curve_options *o, double hi)
{
    if (o && isfinite(o->fmax_mhz))
        return o->fmax_mhz;
    /* The board's top clock when the name is a known board, else the highest clock measured. */
    const fp_gpu_spec *s = fp_gpu_spec_find(gpu);
    if (s && s->max_clock_mhz >= hi)
        return s->max_clock_mhz;
    return hi;
}

fp_status fp_curve_fit(const char *gpu, const char *app, const fp_model_point *pts, size_t n,
                       const fp_curve_options *opt, fp_curve_model *out, fp_error *err)
{
    fp_curve_options def;
    if (!opt) {
        fp_curve_options_init(&def);
        opt = &def;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->gpu, sizeof out->gpu, "%s", gpu ? gpu : "");
    snprintf(out->app, sizeof out->app, "%s", app ? app : "");
    size_t m = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!(pts[i].freq_mhz > 0) || !(pts[i].time_s > 0) || !(pts[i].power_w > 0))
            continue;
        m++;
        lo = fmin(lo, pts[i].freq_mhz);
        hi = fmax(hi, pts[i].freq_mhz);
    }
    if (m < 2 || !(hi > lo))
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s %s: a curve fit needs at least 2 distinct measured clocks, got %zu",
                            out->gpu, out->app, m);
    out->fmax_mhz = fp_model_gpu_fmax(gpu, opt, hi);
    knee_for(gpu, out->fmax_mhz, opt, out);
    out->meas_lo_mhz = lo;
    out->meas_hi_mhz = hi;
    out->n_clocks = m;

    double *X = malloc(sizeof(double) * m * FP_MODEL_MAX_TERMS);
    double *yt = malloc(sizeof(double) * m), *yp = malloc(sizeof(double) * m);
    if (!X || !yt || !yp) {
        free(X);
        free(yt);
        free(yp);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    /* Noise of a centre from the replicate runs (pooled), with a floor. */
    double nt = 0, np = 0, rep_dof = 0;
    size_t cnt_t = 0, cnt_p = 0;
    for (size_t i = 0; i < n; i++) {
        const fp_model_point *p = &pts[i];
        if (!(p->freq_mhz > 0) || !(p->time_s > 0) || !(p->power_w > 0))
            continue;
        int r = p->runs > 0 ? p->runs : 1;
        if (isfinite(p->time_rsd) && r > 1) {
            nt += p->time_rsd * p->time_rsd / r;
            cnt_t++;
            rep_dof += r - 1;
        }
        if (isfinite(p->power_rsd) && r > 1) {
            np += p->power_rsd * p->power_rsd / r;
            cnt_p++;
        }
    }
    double floor2 = opt->noise_floor * opt->noise_floor;
    double noise_t = cnt_t ? nt / (double)cnt_t : 0, noise_p = cnt_p ? np / (double)cnt_p : 0;
    if (noise_t < floor2)
        noise_t = floor2;
    if (noise_p < floor2)
        noise_p = floor2;
    if (rep_dof > 30)
        rep_dof = 30;
    double mean_runs = 0;
    for (size_t i = 0; i < n; i++)
        mean_runs += pts[i].runs > 0 ? pts[i].runs : 1;
    mean_runs /= (double)n;

    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const fp_model_point *p = &pts[i];
        if (!(p->freq_mhz > 0) || !(p->time_s > 0) || !(p->power_w > 0))
            continue;
        fp_model_time_basis(out, p->freq_mhz, &X[k * 2]);
        yt[k++] = p->time_s;
    }
    fp_status st = FP_OK;
    if (fp_model_nnls(X, yt, m, 2, noise_t, rep_dof, mean_runs, &out->time)) {
        st = fp_error_set(err, FP_ERR_INVALID, "%s %s: the time fit failed", out->gpu, out->app);
        goto done;
    }
    out->t_ref_s = time_mean(out, out->fmax_mhz);
    k = 0;
    for (size_t i = 0; i < n; i++) {
        const fp_model_point *p = &pts[i];
        if (!(p->freq_mhz > 0) || !(p->time_s > 0) || !(p->power_w > 0))
            continue;
        fp_model_power_basis(out, p->freq_mhz, &X[k * 4]);
        yp[k++] = p->power_w;
    }
    /* Fewer clocks than terms: only static + dynamic. */
    int pterms = m >= 5 ? 4 : m >= 4 ? 3 : 2;
    if (pterms < 4) {
        double *X2 = malloc(sizeof(double) * m * (size_t)pterms);
        if (!X2) {
            st = fp_error_set(err, FP_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < m; i++)
            for (int j = 0; j < pterms; j++)
                X2[i * (size_t)pterms + (size_t)j] = X[i * 4 + (size_t)j];
        int rc = fp_model_nnls(X2, yp, m, pterms, noise_p, rep_dof, mean_runs, &out->power);
        free(X2);
        if (rc) {
            st = fp_error_set(err, FP_ERR_INVALID, "%s %s: the power fit failed", out->gpu,
                              out->app);
            goto done;
        }
    } else if (fp_model_nnls(X, yp, m, 4, noise_p, rep_dof, mean_runs, &out->power)) {
        st = fp_error_set(err, FP_ERR_INVALID, "%s %s: the power fit failed", out->gpu, out->app);
        goto done;
    }
    out->clock_bound = 1;
    double noise_sd = sqrt(noise_t);
    double limit = fmax(opt->max_resid, 3 * noise_sd);
    if (m >= 3 && out->time.rms_rel > limit) {
        out->clock_bound = 0;
        snprintf(out->note, sizeof out->note,
                 "time not explained by the clock: the fit leaves %.1f %% RMS of the time "
                 "(limit %.1f %%); no time or energy predictions",
                 100 * out->time.rms_rel, 100 * limit);
    }
done:
    free(X);
    free(yt);
    free(yp);
    return st;
}

void fp_curve_predict_raw(const fp_curve_model *m, double f, double conf, fp_curve_pred *o)
{
    memset(o, 0, sizeof *o);
    o->freq_mhz = f;
    double bt[FP_MODEL_MAX_TERMS] = {0}, bp[FP_MODEL_MAX_TERMS] = {0};
    fp_model_time_basis(m, f, bt);
    fp_model_power_basis(m, f, bp);
    double set, sep;
    double t = fp_model_lsq_eval(&m->time, bt, &set);
    double p = fp_model_lsq_eval(&m->power, bp, &sep);
    double q = isfinite(conf) && conf > 0 && conf < 1 ? conf : 0.95;
    double tq_t = gsl_cdf_tdist_Pinv(0.5 + q / 2, m->time.dof);
    double tq_p = gsl_cdf_tdist_Pinv(0.5 + q / 2, m->power.dof);
    double s2t = m->time.s2_run > 0 ? m->time.s2_run : m->time.s2_rel;
    double s2p = m->power.s2_run > 0 ? m->power.s2_run : m->power.s2_rel;
    double ht = tq_t * sqrt(t * t * s2t + set * set);
    double hp = tq_p * sqrt(p * p * s2p + sep * sep);
    o->time_s = t;
    o->time_lo = t - ht;
    o->time_hi = t + ht;
    o->power_w = p;
    o->power_lo = p - hp;
    o->power_hi = p + hp;
    o->time_se = set;
    o->power_se = sep;
    o->energy_j = t * p;
    /* Relative errors add (first order); power and time errors are taken as independent. */
    double rt = t > 0 ? ht / t : 0, rp = p > 0 ? hp / p : 0;
    double re = sqrt(rt * rt + rp * rp);
    o->energy_lo = o->energy_j * (1 - re);
    o->energy_hi = o->energy_j * (1 + re);
    double tol = 1e-6 * m->fmax_mhz;
    o->extrapolated = f < m->meas_lo_mhz - tol || f > m->meas_hi_mhz + tol;
}

void fp_curve_predict(const fp_curve_model *m, double f, double conf, fp_curve_pred *o)
{
    fp_curve_predict_raw(m, f, conf, o);
    if (!m->clock_bound) {
        o->refused = 1;
        o->time_s = o->time_lo = o->time_hi = NAN;
        o->energy_j = o->energy_lo = o->energy_hi = NAN;
    }
}

size_t fp_model_points_from_rows(const fp_agg_row *rows, size_t nrows, const char *gpu,
                                 const char *app, fp_model_point *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < nrows && k < cap; i++) {
        const fp_agg_row *r = &rows[i];
        if (strcmp(r->gpu, gpu) != 0 || strcmp(r->app, app) != 0)
            continue;
        if (r->runs <= 0 || !(r->time_s > 0) || !(r->energy_j > 0))
            continue;
        fp_model_point *p = &out[k++];
        p->freq_mhz = r->freq_mhz;
        p->time_s = r->time_s;
        /* Mean power over the window (energy_j of some layouts covers a longer window). */
        p->power_w = r->power_w > 0 ? r->power_w : r->energy_j / r->time_s;
        p->time_rsd = r->time_cv;
        p->power_rsd = NAN;
        p->runs = r->runs;
    }
    return k;
}
