/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Estimates of a (gpu, app) curve that borrow strength across clocks (optimize.h,
 * docs/method.md C.2). Time and energy are smooth in the clock, so the estimate at a clock is
 * a local-quadratic fit of ln(centre) over its neighbours (for time, of the residuals about a
 * physically shaped a + b·fmax/f fit), not its own noisy median alone; how far to reach is
 * decided by the data (Mallows' Cp with the measured noise), so noise-free or very clean
 * curves are left as measured and noisy ones are smoothed. Time is also made non-increasing
 * in the clock, which DVFS guarantees physically.
 *
 * Everything is linear in the ln centres (for the chosen bandwidth and monotone blocks), so
 * the variances of estimates and of their ratios to the baseline are exact sums over the
 * weights; only the centres' variances are estimated.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "freqpilot/optimize.h"

/* n · var(median of n normal runs) / sigma², n = 1..16 (Monte Carlo, 4e6 draws each); the
 * limit is pi/2. Odd n: the middle order statistic; even n: the mean of the two middle ones. */
static const double median_var_factor[17] = {
    1.0,    1.0,    0.9996, 1.3459, 1.1935, 1.4332, 1.2876, 1.4737, 1.3456,
    1.4958, 1.3827, 1.5088, 1.4094, 1.5184, 1.4321, 1.5249, 1.4441,
};

static double kfac(int n)
{
    return n <= 16 ? median_var_factor[n < 1 ? 1 : n] : M_PI / 2.0;
}

/* Local quadratic: no bias from the curvature at an energy minimum (local linear has it). */
#define SMOOTH_DEGREE 2

/* Clocks a sweep needs before the scatter of its centres and outlying clocks are judged from
 * the curve itself (pseudo-residuals use two neighbours per side). */
#define MIN_CLOCKS_SCATTER 9

/* Bandwidths tried, in units of the median spacing of the measured clocks (0 = none). */
static const double bw_grid[] = {0.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0};
#define NBW (sizeof bw_grid / sizeof bw_grid[0])
#define NBW_ENERGY 7 /* up to 8 steps */

/* Median of chi²(d)/d (Wilson–Hilferty): a robust pooled variance divides by it. */
static double chi2_median_ratio(double d)
{
    double a = 1.0 - 2.0 / (9.0 * d);
    return a * a * a;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Weighted median of v[0..n) with weights w (v and w reordered together). */
static double weighted_median(double *v, double *w, size_t n)
{
    /* insertion sort of pairs: n is a clock table */
    for (size_t i = 1; i < n; i++) {
        double x = v[i], y = w[i];
        size_t k = i;
        while (k > 0 && v[k - 1] > x) {
            v[k] = v[k - 1];
            w[k] = w[k - 1];
            k--;
        }
        v[k] = x;
        w[k] = y;
    }
    double tot = 0.0, acc = 0.0;
    for (size_t i = 0; i < n; i++)
        tot += w[i];
    for (size_t i = 0; i < n; i++) {
        acc += w[i];
        if (acc >= tot / 2.0)
            return v[i];
    }
    return n ? v[n - 1] : NAN;
}

/* Relative SD of one run at a row: its CV, else backed out of its interval. */
static double run_sd(const fp_agg_row *r, int energy)
{
    double cv = energy ? r->energy_cv : r->time_cv;
    if (r->runs < 2)
        return NAN;
    if (isfinite(cv) && cv >= 0.0)
        return cv;
    double lo = energy ? r->energy_j_lo : r->time_s_lo, hi = energy ? r->energy_j_hi : r->time_s_hi;
    if (!(lo > 0.0) || !(hi >= lo) || !isfinite(hi))
        return NAN;
    double se = (log(hi) - log(lo)) / (2.0 * 1.959963984540054);
    return se * sqrt(r->runs / kfac(r->runs));
}

typedef struct work {
    size_t K;   /* usable points */
    size_t *ix; /* their indices in the curve (clock descending) */
    double *f;  /* clocks */
    int *runs;
} work;

/*
 * Variance of each ln centre: k(n)·sigma²/n + tau². Returns 0 with *sigma, *tau set and v[]
 * filled; -1 when the noise cannot be estimated (then v is all NAN).
 */
static int centre_variances(const fp_opt_curve *c, const work *w, const double *y, int energy,
                            double *v, double *sigma, double *tau, size_t *dof)
{
    size_t K = w->K;
    double *s2 = malloc(K * sizeof *s2), *a = malloc(K * sizeof *a), *b = malloc(K * sizeof *b);
    int rc = -1;
    *sigma = *tau = NAN;
    *dof = 0;
    if (!s2 || !a || !b)
        goto out;
    size_t m = 0;
    for (size_t k = 0; k < K; k++) {
        double s = run_sd(c->pts[w->ix[k]].row, energy);
        s2[k] = isfinite(s) ? s * s : NAN;
        if (isfinite(s2[k])) {
            double d = w->runs[k] - 1;
            a[m] = s2[k] / chi2_median_ratio(d);
            b[m++] = d;
            *dof += (size_t)d;
        }
    }
    double sig2 = m ? weighted_median(a, b, m) : NAN;
    /* A clock whose own spread is beyond the 99th percentile of what sig2 gives keeps it. */
    double medr = 0.0;
    size_t nr = 0;
    for (size_t k = 0; k < K; k++) {
        double own = sig2;
        if (isfinite(s2[k]) && isfinite(sig2)) {
            double d = w->runs[k] - 1;
            if (s2[k] > sig2 * gsl_cdf_chisq_Pinv(0.99, d) / d)
                own = s2[k];
        }
        v[k] = isfinite(own) ? kfac(w->runs[k]) * own / w->runs[k] : 0.0;
        a[nr++] = v[k];
    }
    medr = median_of(a, nr);
    /*
     * Scatter of the centres about a smooth curve: pseudo-residuals of each point against the
     * cubic through its two neighbours on each side (Lagrange weights), which cancel any
     * curvature up to the third derivative, so a sparse or bending curve is not mistaken for
     * noise (after Gasser, Sroka and Jennen-Steinmetz 1986, who use one neighbour per side).
     */
    size_t np = 0;
    for (size_t k = 2; k + 2 < K; k++) {
        const size_t nb[4] = {k - 2, k - 1, k + 1, k + 2};
        double lw[4], norm = 1.0, pred = 0.0;
        int ok = 1;
        for (int j = 0; j < 4; j++) {
            lw[j] = 1.0;
            for (int q = 0; q < 4; q++) {
                if (q == j)
                    continue;
                double den = w->f[nb[j]] - w->f[nb[q]];
                if (den == 0.0)
                    ok = 0;
                else
                    lw[j] *= (w->f[k] - w->f[nb[q]]) / den;
            }
        }
        if (!ok)
            continue;
        for (int j = 0; j < 4; j++) {
            pred += lw[j] * y[nb[j]];
            norm += lw[j] * lw[j];
        }
        double e = y[k] - pred;
        b[np++] = e * e / norm;
    }
    /* median of chi²(1); a dense enough sweep (5 pseudo-residuals) */
    double D = K >= MIN_CLOCKS_SCATTER ? median_of(b, np) / 0.454936423119572 : NAN;
    if (isfinite(sig2)) {
        *sigma = sqrt(sig2);
        double t2 = sig2 > 0.0 && isfinite(D) ? fmax(0.0, D - medr) : 0.0;
        *tau = sqrt(t2);
        for (size_t k = 0; k < K; k++)
            v[k] += t2;
        if (t2 > 0.0 && np < *dof)
            *dof = np;
        rc = 0;
    } else if (isfinite(D)) {
        /* No replicates: the scatter of the centres is all there is. */
        *tau = sqrt(D);
        for (size_t k = 0; k < K; k++)
            v[k] = D;
        *dof = np;
        rc = 0;
    }
out:
    if (rc)
        for (size_t k = 0; k < K; k++)
            v[k] = NAN;
    free(s2);
    free(a);
    free(b);
    return rc;
}

/* Tricube kernel. */
static double tricube(double u)
{
    u = fabs(u);
    if (u >= 1.0)
        return 0.0;
    double t = 1.0 - u * u * u;
    return t * t * t;
}

/* Solves M c = e1 for a (d+1) x (d+1) symmetric M (Gauss with partial pivoting); 0 when the
 * system is well conditioned. */
static int solve_e1(double M[3][3], int d, double c[3])
{
    double A[3][4];
    int m = d + 1;
    double scale = 0.0;
    for (int r = 0; r < m; r++)
        for (int k = 0; k < m; k++)
            scale = fmax(scale, fabs(M[r][k]));
    if (!(scale > 0.0))
        return -1;
    for (int r = 0; r < m; r++) {
        for (int k = 0; k < m; k++)
            A[r][k] = M[r][k];
        A[r][m] = r == 0 ? 1.0 : 0.0;
    }
    for (int col = 0; col < m; col++) {
        int piv = col;
        for (int r = col + 1; r < m; r++)
            if (fabs(A[r][col]) > fabs(A[piv][col]))
                piv = r;
        if (fabs(A[piv][col]) < 1e-10 * scale)
            return -1;
        for (int k = 0; k <= m; k++) {
            double t = A[col][k];
            A[col][k] = A[piv][k];
            A[piv][k] = t;
        }
        for (int r = 0; r < m; r++) {
            if (r == col)
                continue;
            double f = A[r][col] / A[col][col];
            for (int k = col; k <= m; k++)
                A[r][k] -= f * A[col][k];
        }
    }
    for (int r = 0; r < m; r++)
        c[r] = A[r][m] / A[r][r];
    return 0;
}

/*
 * S (K x K): local-polynomial smoother of bandwidth h (MHz; 0 = identity) and degree deg (1
 * or 2; lower where the window holds too few clocks), tricube kernel, weights kernel / v.
 */
static void smoother(const work *w, const double *v, double h, int deg, double *S)
{
    size_t K = w->K;
    memset(S, 0, K * K * sizeof *S);
    for (size_t i = 0; i < K; i++) {
        if (h <= 0.0) {
            S[i * K + i] = 1.0;
            continue;
        }
        double M[3][3] = {{0}};
        for (size_t j = 0; j < K; j++) {
            double u = (w->f[j] - w->f[i]) / h, kw = tricube(u);
            if (kw <= 0.0)
                continue;
            double wj = kw / v[j], p[5] = {1, u, u * u, u * u * u, u * u * u * u};
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    M[a][b] += wj * p[a + b];
        }
        double c[3] = {0};
        int d = deg;
        while (d > 0 && solve_e1(M, d, c))
            d--;
        if (d == 0)
            c[0] = M[0][0] > 0.0 ? 1.0 / M[0][0] : 0.0;
        if (!(M[0][0] > 0.0)) {
            S[i * K + i] = 1.0;
            continue;
        }
        for (size_t j = 0; j < K; j++) {
            double u = (w->f[j] - w->f[i]) / h, kw = tricube(u);
            if (kw <= 0.0)
                continue;
            double wj = kw / v[j];
            S[i * K + j] = wj * (c[0] + (d >= 1 ? c[1] * u : 0.0) + (d >= 2 ? c[2] * u * u : 0.0));
        }
    }
}

/* Mallows' Cp of smoother S on y with variances v: sum (y - Sy)²/v + 2 tr S. */
static double cp_of(const double *S, const double *y, const double *v, size_t K)
{
    double rss = 0.0, tr = 0.0;
    for (size_t i = 0; i < K; i++) {
        double fit = 0.0;
        for (size_t j = 0; j < K; j++)
            fit += S[i * K + j] * y[j];
        rss += (y[i] - fit) * (y[i] - fit) / v[i];
        tr += S[i * K + i];
    }
    return rss + 2.0 * tr;
}

/*
 * Weighted pool-adjacent-violators on x = S·y so that x is non-decreasing along the points
 * (clock descending: time may only grow as the clock falls). The rows of S of a pooled block
 * become their weighted mean, so S stays the exact linear map.
 */
static void monotone_rows(double *S, const double *y, const double *v, size_t K)
{
    double *x = malloc(K * sizeof *x), *wt = malloc(K * sizeof *wt);
    size_t *start = malloc(K * sizeof *start);
    if (!x || !wt || !start)
        goto out;
    int any_var = 0;
    for (size_t i = 0; i < K; i++) {
        double fit = 0.0, var = 0.0;
        for (size_t j = 0; j < K; j++) {
            fit += S[i * K + j] * y[j];
            var += S[i * K + j] * S[i * K + j] * v[j];
        }
        x[i] = fit;
        wt[i] = var;
        any_var |= var > 0.0;
    }
    for (size_t i = 0; i < K; i++)
        wt[i] = any_var && wt[i] > 0.0 ? 1.0 / wt[i] : 1.0;
    /* blocks: [start[b], start[b+1]) */
    size_t nb = 0;
    double *bx = malloc(K * sizeof *bx), *bw = malloc(K * sizeof *bw);
    if (!bx || !bw) {
        free(bx);
        free(bw);
        goto out;
    }
    for (size_t i = 0; i < K; i++) {
        start[nb] = i;
        bx[nb] = x[i];
        bw[nb] = wt[i];
        nb++;
        while (nb > 1 && bx[nb - 2] > bx[nb - 1]) {
            double W = bw[nb - 2] + bw[nb - 1];
            bx[nb - 2] = (bw[nb - 2] * bx[nb - 2] + bw[nb - 1] * bx[nb - 1]) / W;
            bw[nb - 2] = W;
            nb--;
        }
    }
    double *row = malloc(K * sizeof *row);
    for (size_t blk = 0; blk < nb && row; blk++) {
        size_t lo = start[blk], hi = blk + 1 < nb ? start[blk + 1] : K;
        if (hi - lo < 2)
            continue;
        memset(row, 0, K * sizeof *row);
        double W = 0.0;
        for (size_t i = lo; i < hi; i++) {
            W += wt[i];
            for (size_t j = 0; j < K; j++)
                row[j] += wt[i] * S[i * K + j];
        }
        for (size_t i = lo; i < hi; i++)
            for (size_t j = 0; j < K; j++)
                S[i * K + j] = row[j] / W;
    }
    free(row);
    free(bx);
    free(bw);
out:
    free(x);
    free(wt);
    free(start);
}

/*
 * The physically shaped global fit: the weighted least-squares fit of y on 1, x, x² with
 * x = fmax/f (ln time = ln(a + b·fmax/f) is close to quadratic in it: compute scales with
 * 1/f). Its hat matrix is X·B (X: K x 3 basis, B = (X'WX)^-1 X'W: 3 x K). 0 when fitted
 * (K >= 5), -1 otherwise.
 */
typedef struct shape {
    double *X, *B;
} shape;

static int shape_fit(const work *w, const double *v, shape *sh)
{
    size_t K = w->K;
    if (K < 5)
        return -1;
    double fmaxv = 0.0;
    for (size_t k = 0; k < K; k++)
        fmaxv = fmax(fmaxv, w->f[k]);
    double M[3][3] = {{0}}, Minv[3][3];
    for (size_t k = 0; k < K; k++) {
        double x = fmaxv / w->f[k];
        double p[5] = {1, x, x * x, x * x * x, x * x * x * x};
        sh->X[k * 3] = 1.0;
        sh->X[k * 3 + 1] = x;
        sh->X[k * 3 + 2] = x * x;
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                M[a][b] += p[a + b] / v[k];
    }
    /* M^-1 column by column: each column solves M c = e_col, with e_col moved to the top. */
    for (int col = 0; col < 3; col++) {
        double perm[3][3], c[3];
        int order[3] = {col, (col + 1) % 3, (col + 2) % 3};
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 3; k++)
                perm[r][k] = M[order[r]][order[k]];
        if (solve_e1(perm, 2, c))
            return -1;
        for (int r = 0; r < 3; r++)
            Minv[order[r]][col] = c[r];
    }
    for (int a = 0; a < 3; a++)
        for (size_t j = 0; j < K; j++) {
            double t = 0.0;
            for (int b = 0; b < 3; b++)
                t += Minv[a][b] * sh->X[j * 3 + b];
            sh->B[a * K + j] = t / v[j];
        }
    return 0;
}

/* M = H + S (I - H) = X B + S - (S X) B: the shape fit plus the smoothed residuals about
 * it. S = NULL: the shape fit alone. */
static void combine(const shape *sh, const double *S, size_t K, double *M)
{
    for (size_t i = 0; i < K; i++) {
        double sx[3] = {0, 0, 0};
        if (S)
            for (size_t k = 0; k < K; k++) {
                double sik = S[i * K + k];
                if (sik != 0.0)
                    for (int a = 0; a < 3; a++)
                        sx[a] += sik * sh->X[k * 3 + a];
            }
        for (size_t j = 0; j < K; j++) {
            double m = S ? S[i * K + j] : 0.0;
            for (int a = 0; a < 3; a++)
                m += (sh->X[i * 3 + a] - sx[a]) * sh->B[a * K + j];
            M[i * K + j] = m;
        }
    }
}

/*
 * The smoother of one quantity into S (K x K): the physically shaped global fit plus a
 * local-quadratic smooth of the residuals about it, the bandwidth (0: the centres as
 * measured; INFINITY: the shape fit alone) minimising Mallows' Cp. For time (mono != NULL)
 * also the monotone version (S keeps the smoother alone: intervals use it, since pooling
 * equal estimates says nothing about how well their ratio is known). Returns the bandwidth.
 */
static double fit_quantity(const work *w, const double *y, const double *v, double sigma,
                           double step, int energy, double *S, double *mono, double *tmp)
{
    size_t K = w->K;
    double best_h = 0.0, best_cp = INFINITY;
    /* Noise-free centres (every replicate identical) are the truth: nothing to smooth. */
    int smooth = K >= 3 && isfinite(v[0]) && !(sigma == 0.0);
    shape sh = {malloc(K * 3 * sizeof(double)), malloc(K * 3 * sizeof(double))};
    double *Sl = smooth ? malloc(K * K * sizeof *Sl) : NULL;
    if (smooth && (!sh.X || !sh.B || !Sl))
        smooth = 0;
    int shaped = smooth && !energy && shape_fit(w, v, &sh) == 0;
    size_t ngrid = energy ? NBW_ENERGY : NBW;
    for (size_t g = 0; g < (smooth ? ngrid + (size_t)shaped : 1); g++) {
        double h = g < ngrid ? bw_grid[g] * step : INFINITY;
        if (g == ngrid)
            combine(&sh, NULL, K, tmp);
        else if (shaped && h > 0.0) {
            smoother(w, v, h, SMOOTH_DEGREE, Sl);
            combine(&sh, Sl, K, tmp);
        } else
            smoother(w, v, h, SMOOTH_DEGREE, tmp);
        double cp = cp_of(tmp, y, v, K);
        if (cp < best_cp - 1e-9) {
            best_cp = cp;
            best_h = h;
            memcpy(S, tmp, K * K * sizeof *S);
        }
    }
    if (!smooth)
        smoother(w, v, 0.0, 1, S);
    free(sh.X);
    free(sh.B);
    free(Sl);
    if (mono) {
        memcpy(mono, S, K * K * sizeof *S);
        monotone_rows(mono, y, v, K);
    }
    return best_h;
}

/* The pilot fit for finding outlying clocks: PILOT_STEPS clock steps (time: about its shape). */
#define PILOT_STEPS 6.0
static void pilot_fit(const work *w, const double *v, double step, int energy, double *S,
                      double *tmp)
{
    size_t K = w->K;
    smoother(w, v, PILOT_STEPS * step, SMOOTH_DEGREE, tmp);
    shape sh = {NULL, NULL};
    if (!energy) {
        sh.X = malloc(K * 3 * sizeof(double));
        sh.B = malloc(K * 3 * sizeof(double));
    }
    if (sh.X && sh.B && shape_fit(w, v, &sh) == 0)
        combine(&sh, tmp, K, S);
    else
        memcpy(S, tmp, K * K * sizeof *S);
    free(sh.X);
    free(sh.B);
}

/*
 * A clock whose centre lies more than OUTLIER_Z standard errors off the fit (a jump, a
 * bimodal run set, a late warm-up) gets its variance raised to what its residual says, so
 * it pulls less on its neighbours and its own interval is honest (Huber's weights). Returns
 * the number of clocks changed.
 */
#define OUTLIER_Z 2.5
static int downweight_outliers(const double *S, const double *y, double *v, size_t K)
{
    int n = 0;
    for (size_t i = 0; i < K; i++) {
        double fit = 0.0;
        for (size_t j = 0; j < K; j++)
            fit += S[i * K + j] * y[j];
        double lev = S[i * K + i], sd = sqrt(v[i] * fmax(1.0 - lev, 0.05));
        double zr = sd > 0.0 ? (y[i] - fit) / sd : 0.0;
        if (fabs(zr) > OUTLIER_Z) {
            v[i] *= (zr / OUTLIER_Z) * (zr / OUTLIER_Z);
            n++;
        }
    }
    return n;
}

void fp_opt_estimate_free(fp_opt_estimate *e)
{
    free(e->time_s);
    free(e->energy_j);
    free(e->eligible);
    free(e->w_time);
    free(e->w_energy);
    free(e->w_time_var);
    free(e->var_time);
    free(e->var_energy);
    memset(e, 0, sizeof *e);
}

fp_status fp_opt_estimate_curve(const fp_opt_curve *c, const fp_opt_options *o,
                                fp_opt_estimate *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = c->n;
    out->n = n;
    out->sigma_time = out->sigma_energy = out->tau_time = out->tau_energy = NAN;
    out->dof = NAN;
    size_t nn = n ? n : 1;
    out->time_s = malloc(nn * sizeof(double));
    out->energy_j = malloc(nn * sizeof(double));
    out->eligible = calloc(nn, sizeof(int));
    out->w_time = calloc(nn * nn, sizeof(double));
    out->w_energy = calloc(nn * nn, sizeof(double));
    out->w_time_var = calloc(nn * nn, sizeof(double));
    out->var_time = malloc(nn * sizeof(double));
    out->var_energy = malloc(nn * sizeof(double));
    work w = {0};
    w.ix = malloc(nn * sizeof *w.ix);
    w.f = malloc(nn * sizeof *w.f);
    w.runs = malloc(nn * sizeof *w.runs);
    double *y = malloc(nn * sizeof *y), *z = malloc(nn * sizeof *z);
    double *vt = malloc(nn * sizeof *vt), *ve = malloc(nn * sizeof *ve);
    double *St = malloc(nn * nn * sizeof *St), *Se = malloc(nn * nn * sizeof *Se);
    double *Sm = malloc(nn * nn * sizeof *Sm);
    double *tmp = malloc(nn * nn * sizeof *tmp);
    fp_status st = FP_OK;
    if (!out->time_s || !out->energy_j || !out->eligible || !out->w_time || !out->w_energy ||
        !out->var_time || !out->var_energy || !out->w_time_var || !w.ix || !w.f || !w.runs || !y ||
        !z || !vt || !ve || !St || !Se || !Sm || !tmp) {
        st = fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        out->time_s[i] = out->energy_j[i] = out->var_time[i] = out->var_energy[i] = NAN;
        if (!fp_opt_point_ok(&c->pts[i]))
            continue;
        const fp_agg_row *r = c->pts[i].row;
        w.ix[w.K] = i;
        w.f[w.K] = r->freq_mhz;
        w.runs[w.K] = r->runs;
        y[w.K] = log(r->time_s);
        z[w.K] = log(r->energy_j);
        w.K++;
    }
    size_t K = w.K;
    out->nusable = K;
    if (K == 0)
        goto out;
    size_t dof_t = 0, dof_e = 0;
    int nt = centre_variances(c, &w, y, 0, vt, &out->sigma_time, &out->tau_time, &dof_t);
    int ne = centre_variances(c, &w, z, 1, ve, &out->sigma_energy, &out->tau_energy, &dof_e);
    out->have_noise = nt == 0 && ne == 0;
    out->dof = (double)(dof_t < dof_e ? dof_t : dof_e);
    /* Median spacing of the measured clocks: the unit of the bandwidth grid. */
    double step = 0.0;
    if (K >= 2) {
        for (size_t k = 0; k + 1 < K; k++)
            tmp[k] = fabs(w.f[k] - w.f[k + 1]);
        step = median_of(tmp, K - 1);
    }
    int smooth = out->have_noise && !o->point_estimate;
    if (smooth) {
        /* Clocks far off a pilot fit first get the variance their residual says (on a dense
         * sweep only: a pilot over a few clocks would call the curve's bends outliers). */
        if (K >= MIN_CLOCKS_SCATTER) {
            pilot_fit(&w, vt, step, 0, St, tmp);
            downweight_outliers(St, y, vt, K);
            pilot_fit(&w, ve, step, 1, Se, tmp);
            downweight_outliers(Se, z, ve, K);
        }
        out->bw_time_mhz = fit_quantity(&w, y, vt, out->sigma_time, step, 0, St, Sm, tmp);
        out->bw_energy_mhz = fit_quantity(&w, z, ve, out->sigma_energy, step, 1, Se, NULL, tmp);
    } else {
        smoother(&w, vt, 0.0, 1, St);
        smoother(&w, ve, 0.0, 1, Se);
        memcpy(Sm, St, K * K * sizeof *St);
        if (!o->point_estimate && out->have_noise)
            monotone_rows(Sm, y, vt, K);
    }
    for (size_t a = 0; a < K; a++) {
        size_t i = w.ix[a];
        double lt = 0.0, le = 0.0;
        for (size_t b = 0; b < K; b++) {
            size_t j = w.ix[b];
            out->w_time[i * n + j] = Sm[a * K + b];
            out->w_time_var[i * n + j] = St[a * K + b];
            out->w_energy[i * n + j] = Se[a * K + b];
            lt += Sm[a * K + b] * y[b];
            le += Se[a * K + b] * z[b];
        }
        out->time_s[i] = exp(lt);
        out->energy_j[i] = exp(le);
        out->var_time[i] = vt[a];
        out->var_energy[i] = ve[a];
        int own_small = Sm[a * K + a] <= 0.5 && Se[a * K + a] <= 0.5;
        out->eligible[i] =
            o->point_estimate || w.runs[a] >= (o->min_runs > 0 ? o->min_runs : 1) || own_small;
    }
out:
    free(w.ix);
    free(w.f);
    free(w.runs);
    free(y);
    free(z);
    free(vt);
    free(ve);
    free(St);
    free(Se);
    free(Sm);
    free(tmp);
    if (st)
        fp_opt_estimate_free(out);
    return st;
}

/* Variance of ln est_i - ln est_b for weights W (n x n) and centre variances v. */
static double diff_var(const double *W, const double *v, size_t n, size_t i, size_t b)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++) {
        double d = W[i * n + k] - W[b * n + k];
        if (d != 0.0)
            s += d * d * v[k];
    }
    return s;
}

static double quantile(const fp_opt_estimate *e, double p)
{
    return e->dof >= 1.0 ? gsl_cdf_tdist_Pinv(p, e->dof) : gsl_cdf_ugaussian_Pinv(p);
}

void fp_opt_compare_est(const fp_opt_estimate *e, size_t i, size_t b, const fp_opt_options *o,
                        fp_opt_compare *out)
{
    double conf = o->confidence;
    memset(out, 0, sizeof *out);
    double lt = log(e->time_s[i] / e->time_s[b]), le = log(e->energy_j[i] / e->energy_j[b]);
    out->slowdown = exp(lt) - 1.0;
    out->energy_saving = 1.0 - exp(le);
    if (i == b) {
        out->slowdown = out->energy_saving = 0.0;
        out->slowdown_lo = out->slowdown_hi = out->energy_saving_lo = out->energy_saving_hi = 0.0;
        out->slowdown_bound = 0.0;
        return;
    }
    if (!e->have_noise) {
        out->slowdown_lo = out->slowdown_hi = out->energy_saving_lo = out->energy_saving_hi = NAN;
        out->slowdown_bound = NAN;
        out->opt_flags |= FP_OPT_NO_INTERVAL;
        return;
    }
    double q = quantile(e, 0.5 + conf / 2.0);
    double st = sqrt(diff_var(e->w_time_var, e->var_time, e->n, i, b));
    double se = sqrt(diff_var(e->w_energy, e->var_energy, e->n, i, b));
    out->slowdown_lo = exp(lt - q * st) - 1.0;
    out->slowdown_hi = exp(lt + q * st) - 1.0;
    out->slowdown_bound = exp(lt + quantile(e, o->budget_confidence) * st) - 1.0;
    out->energy_saving_lo = 1.0 - exp(le + q * se);
    out->energy_saving_hi = 1.0 - exp(le - q * se);
}

double fp_opt_p_above(const fp_opt_estimate *e, size_t i, size_t b, int energy, double factor)
{
    if (!e->have_noise || i == b)
        return NAN;
    const double *W = energy ? e->w_energy : e->w_time_var;
    const double *v = energy ? e->var_energy : e->var_time;
    const double *x = energy ? e->energy_j : e->time_s;
    double sd = sqrt(diff_var(W, v, e->n, i, b));
    if (!(sd > 0.0))
        return NAN;
    double tstat = (log(x[i] / x[b]) - log(factor)) / sd;
    return e->dof >= 1.0 ? gsl_cdf_tdist_Q(tstat, e->dof) : gsl_cdf_ugaussian_Q(tstat);
}
