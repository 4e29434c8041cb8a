/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Activity models: features measured at the top clock predict the power and time of an
 * application at every clock of the same GPU (docs/model.md).
 *
 * FGCS 2023 (Ali, Side, Bhalachandra, Wright, Chen) form, with ln1p as in its reference code:
 *   ln1p P(f) = a0 + a1·FP + a2·DRAM + a3·ln1p f
 *   ln1p T(f) = ln1p T(fmax) + b0·FP + b1·Δ + b2·FP² + b3·FP·Δ + b4·Δ²,  Δ = ln1p fmax − ln1p f
 * The "paper" coefficients are those transcribed in mertside/ai-inference-energy
 * (power_modeling/models/fgcs_models.py, V100); we could not check them against the paper
 * itself. The refitted form adds an intercept to the time equation.
 *
 * Physical form: ratios to the top clock, linear in the features times the clock terms of
 * the per-curve model:
 *   P(f)/P(fmax) − 1 = (g(f) − 1)·(c0 + c1·SM + c2·DRAM)
 *   T(f)/T(fmax) − 1 = (fmax/f − 1)·(d0 + d1·SM + d2·DRAM)
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>

#include "freqpilot/model.h"
#include "freqpilot/sim.h"
#include "model/model_internal.h"

const char *fp_activity_form_name(fp_activity_form f)
{
    switch (f) {
    case FP_ACT_FGCS_PAPER:
        return "fgcs-paper";
    case FP_ACT_FGCS_REFIT:
        return "fgcs-refit";
    case FP_ACT_PHYSICAL:
        return "physical";
    }
    return "?";
}

static void set_gpu(fp_activity_model *m, const char *gpu, double fmax)
{
    snprintf(m->gpu, sizeof m->gpu, "%s", gpu ? gpu : "");
    m->fmax_mhz = fmax;
    fp_model_knee_prior(gpu, fmax, &m->knee_mhz, &m->v_ratio);
}

void fp_activity_paper(const char *gpu, double fmax_mhz, fp_activity_model *out)
{
    memset(out, 0, sizeof *out);
    out->form = FP_ACT_FGCS_PAPER;
    set_gpu(out, gpu, fmax_mhz);
    static const double pc[] = {-1.0318354343254663, 0.84864, 0.09749, 0.77006};
    static const double tc[] = {0.0, 1.43847511, -0.16736726, -0.90400864, 0.48241361, 0.78898516};
    out->np = 4;
    out->nt = 6;
    memcpy(out->pc, pc, sizeof pc);
    memcpy(out->tc, tc, sizeof tc);
}

static double g_of(const fp_activity_model *m, double f)
{
    double v = fp_model_vrel(f, m->fmax_mhz, m->knee_mhz, m->v_ratio);
    return f / m->fmax_mhz * v * v;
}

/* Regressors of one row; returns their count. */
static int power_x(const fp_activity_model *m, const fp_activity_features *x, double f, double *b)
{
    if (m->form == FP_ACT_PHYSICAL) {
        double d = g_of(m, f) - 1;
        b[0] = d;
        b[1] = d * x->sm_active;
        b[2] = d * x->dram_active;
        return 3;
    }
    b[0] = 1;
    b[1] = x->fp_active;
    b[2] = x->dram_active;
    b[3] = log1p(f);
    return 4;
}

static int time_x(const fp_activity_model *m, const fp_activity_features *x, double f, double *b)
{
    if (m->form == FP_ACT_PHYSICAL) {
        double d = m->fmax_mhz / f - 1;
        b[0] = d;
        b[1] = d * x->sm_active;
        b[2] = d * x->dram_active;
        return 3;
    }
    double fp = x->fp_active, dl = log1p(m->fmax_mhz) - log1p(f);
    b[0] = 1;
    b[1] = fp;
    b[2] = dl;
    b[3] = fp * fp;
    b[4] = fp * dl;
    b[5] = dl * dl;
    return 6;
}

void fp_activity_predict(const fp_activity_model *m, const fp_activity_features *x, double f,
                         double *power_w, double *time_s)
{
    double b[FP_ACT_MAX_COEF];
    int k = power_x(m, x, f, b);
    double yp = 0, yt = 0;
    for (int j = 0; j < k && j < m->np; j++)
        yp += m->pc[j] * b[j];
    k = time_x(m, x, f, b);
    for (int j = 0; j < k && j < m->nt; j++)
        yt += m->tc[j] * b[j];
    if (m->form == FP_ACT_PHYSICAL) {
        *power_w = x->power_w * (1 + yp);
        *time_s = x->time_s * (1 + yt);
    } else {
        *power_w = expm1(yp);
        *time_s = expm1(log1p(x->time_s) + yt);
    }
}

static int ols(const double *X, const double *y, size_t n, int p, double *coef)
{
    if (n < (size_t)p)
        return -1;
    gsl_matrix *A = gsl_matrix_alloc(n, (size_t)p);
    gsl_vector *yy = gsl_vector_alloc(n), *c = gsl_vector_alloc((size_t)p);
    gsl_matrix *cov = gsl_matrix_alloc((size_t)p, (size_t)p);
    gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, (size_t)p);
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < p; j++)
            gsl_matrix_set(A, i, (size_t)j, X[i * (size_t)p + (size_t)j]);
        gsl_vector_set(yy, i, y[i]);
    }
    double chisq;
    size_t rank;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    /* SVD with a relative tolerance: features that are constant across the training apps
     * (rank deficiency) get no weight instead of huge opposite coefficients. */
    int rc = gsl_multifit_linear_tsvd(A, yy, 1e-8, c, cov, &chisq, &rank, ws);
    gsl_set_error_handler(old);
    for (int j = 0; j < p; j++)
        coef[j] = gsl_vector_get(c, (size_t)j);
    gsl_multifit_linear_free(ws);
    gsl_matrix_free(A);
    gsl_matrix_free(cov);
    gsl_vector_free(yy);
    gsl_vector_free(c);
    return rc;
}

fp_status fp_activity_fit(fp_activity_form form, const char *gpu, double fmax_mhz,
                          const fp_activity_row *rows, size_t n, fp_activity_model *out,
                          fp_error *err)
{
    memset(out, 0, sizeof *out);
    if (form == FP_ACT_FGCS_PAPER) {
        fp_activity_paper(gpu, fmax_mhz, out);
        return FP_OK;
    }
    out->form = form;
    set_gpu(out, gpu, fmax_mhz);
    double *X = malloc(sizeof(double) * (n ? n : 1) * FP_ACT_MAX_COEF);
    double *yp = malloc(sizeof(double) * (n ? n : 1)), *yt = malloc(sizeof(double) * (n ? n : 1));
    if (!X || !yp || !yt) {
        free(X);
        free(yp);
        free(yt);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    size_t m = 0;
    const char *apps[64];
    size_t napps = 0;
    int np = 0, nt = 0;
    double b[FP_ACT_MAX_COEF];
    for (size_t i = 0; i < n; i++) {
        const fp_activity_row *r = &rows[i];
        if (!(r->power_w > 0) || !(r->time_s > 0) || !(r->x.power_w > 0) || !(r->x.time_s > 0))
            continue;
        np = power_x(out, &r->x, r->freq_mhz, b);
        for (int j = 0; j < np; j++)
            X[m * FP_ACT_MAX_COEF + (size_t)j] = b[j];
        if (form == FP_ACT_PHYSICAL) {
            yp[m] = r->power_w / r->x.power_w - 1;
            yt[m] = r->time_s / r->x.time_s - 1;
        } else {
            yp[m] = log1p(r->power_w);
            yt[m] = log1p(r->time_s) - log1p(r->x.time_s);
        }
        m++;
        int seen = 0;
        for (size_t a = 0; a < napps && !seen; a++)
            seen = r->app && apps[a] && strcmp(apps[a], r->app) == 0;
        if (!seen && napps < 64)
            apps[napps++] = r->app;
    }
    fp_status st = FP_OK;
    if (m < 8 || napps < 2) {
        st = fp_error_set(err, FP_ERR_INVALID,
                          "%s: an activity model needs >= 2 applications with activity features "
                          "and >= 8 measured clocks, got %zu and %zu",
                          out->gpu, napps, m);
        goto done;
    }
    double *Xc = malloc(sizeof(double) * m * FP_ACT_MAX_COEF);
    if (!Xc) {
        st = fp_error_set(err, FP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m; i++)
        for (int j = 0; j < np; j++)
            Xc[i * (size_t)np + (size_t)j] = X[i * FP_ACT_MAX_COEF + (size_t)j];
    int rc = ols(Xc, yp, m, np, out->pc);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const fp_activity_row *r = &rows[i];
        if (!(r->power_w > 0) || !(r->time_s > 0) || !(r->x.power_w > 0) || !(r->x.time_s > 0))
            continue;
        nt = time_x(out, &r->x, r->freq_mhz, b);
        for (int j = 0; j < nt; j++)
            Xc[k * (size_t)nt + (size_t)j] = b[j];
        k++;
    }
    if (!rc)
        rc = ols(Xc, yt, m, nt, out->tc);
    free(Xc);
    if (rc) {
        st = fp_error_set(err, FP_ERR_INVALID, "%s: the activity model fit failed", out->gpu);
        goto done;
    }
    out->np = np;
    out->nt = nt;
    out->n_apps = napps;
    out->n_rows = m;
done:
    free(X);
    free(yp);
    free(yt);
    return st;
}
