/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Statistics on small samples (a handful of runs per clock, a few hundred per
 * sweep). NAN entries mean "not available" and are skipped everywhere, so the
 * callers can pass columns as they are.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "freqpilot/stats.h"

size_t fp_stats_count(const double *x, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += isfinite(x[i]) != 0;
    return k;
}

/* Sorted copy of the finite values; *m = their count. NULL when none or no memory. */
static double *sorted_finite(const double *x, size_t n, size_t *m)
{
    *m = 0;
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[(*m)++] = x[i];
    if (*m == 0) {
        free(v);
        return NULL;
    }
    gsl_sort(v, 1, *m);
    return v;
}

double fp_stats_quantile(const double *x, size_t n, double p)
{
    size_t m;
    if (!(p >= 0.0 && p <= 1.0))
        return NAN;
    double *v = sorted_finite(x, n, &m);
    if (!v)
        return NAN;
    double q = gsl_stats_quantile_from_sorted_data(v, 1, m, p);
    free(v);
    return q;
}

double fp_stats_median(const double *x, size_t n)
{
    return fp_stats_quantile(x, n, 0.5);
}

double fp_stats_mean(const double *x, size_t n)
{
    double s = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) {
            s += x[i];
            k++;
        }
    return k ? s / (double)k : NAN;
}

double fp_stats_sd(const double *x, size_t n)
{
    size_t k = fp_stats_count(x, n);
    if (k < 2)
        return NAN;
    double mean = fp_stats_mean(x, n), ss = 0.0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            ss += (x[i] - mean) * (x[i] - mean);
    return sqrt(ss / (double)(k - 1));
}

double fp_stats_cv(const double *x, size_t n)
{
    double mean = fp_stats_mean(x, n), sd = fp_stats_sd(x, n);
    if (!isfinite(sd) || mean == 0.0)
        return NAN;
    return sd / fabs(mean);
}

double fp_stats_mad(const double *x, size_t n)
{
    size_t m;
    double *v = sorted_finite(x, n, &m);
    if (!v)
        return NAN;
    double med = gsl_stats_median_from_sorted_data(v, 1, m);
    for (size_t i = 0; i < m; i++)
        v[i] = fabs(v[i] - med);
    gsl_sort(v, 1, m);
    double mad = gsl_stats_median_from_sorted_data(v, 1, m);
    free(v);
    return mad;
}

double fp_stats_center(const double *x, size_t n, fp_stat_center c)
{
    return c == FP_STAT_MEAN ? fp_stats_mean(x, n) : fp_stats_median(x, n);
}

/* Centre of v[0..m) which the caller lets us reorder. */
static double center_inplace(double *v, size_t m, fp_stat_center c)
{
    if (c == FP_STAT_MEAN)
        return gsl_stats_mean(v, 1, m);
    gsl_sort(v, 1, m);
    return gsl_stats_median_from_sorted_data(v, 1, m);
}

/* B bootstrap centres of the finite values of x into out[0..B). */
static int resample_centres(const double *x, size_t n, fp_stat_center c, int B, gsl_rng *rng,
                            double *out)
{
    size_t m;
    double *v = sorted_finite(x, n, &m);
    if (!v)
        return -1;
    double *r = malloc(m * sizeof *r);
    if (!r) {
        free(v);
        return -1;
    }
    for (int b = 0; b < B; b++) {
        for (size_t i = 0; i < m; i++)
            r[i] = v[gsl_rng_uniform_int(rng, m)];
        out[b] = center_inplace(r, m, c);
    }
    free(r);
    free(v);
    return 0;
}

static gsl_rng *make_rng(unsigned long seed)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (rng)
        gsl_rng_set(rng, seed);
    return rng;
}

int fp_stats_bootstrap_ci(const double *x, size_t n, fp_stat_center c, double conf, int B,
                          unsigned long seed, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (!(conf > 0.0 && conf < 1.0) || B < 10)
        return -1;
    if (fp_stats_count(x, n) < 2)
        return 0;
    double *cent = malloc((size_t)B * sizeof *cent);
    gsl_rng *rng = make_rng(seed);
    int rc = -1;
    if (cent && rng && resample_centres(x, n, c, B, rng, cent) == 0) {
        gsl_sort(cent, 1, (size_t)B);
        *lo = gsl_stats_quantile_from_sorted_data(cent, 1, (size_t)B, (1.0 - conf) / 2.0);
        *hi = gsl_stats_quantile_from_sorted_data(cent, 1, (size_t)B, (1.0 + conf) / 2.0);
        rc = 0;
    }
    gsl_rng_free(rng);
    free(cent);
    return rc;
}

int fp_stats_t_ci(const double *x, size_t n, double conf, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (!(conf > 0.0 && conf < 1.0))
        return -1;
    size_t k = fp_stats_count(x, n);
    if (k < 2)
        return 0;
    double mean = fp_stats_mean(x, n), sd = fp_stats_sd(x, n);
    double t = gsl_cdf_tdist_Pinv((1.0 + conf) / 2.0, (double)(k - 1));
    double half = t * sd / sqrt((double)k);
    *lo = mean - half;
    *hi = mean + half;
    return 0;
}

int fp_stats_welch(const double *x, size_t nx, const double *y, size_t ny, fp_welch *out)
{
    out->t = out->df = out->p = NAN;
    size_t kx = fp_stats_count(x, nx), ky = fp_stats_count(y, ny);
    if (kx < 2 || ky < 2)
        return 0;
    double mx = fp_stats_mean(x, nx), my = fp_stats_mean(y, ny);
    double vx = pow(fp_stats_sd(x, nx), 2) / (double)kx;
    double vy = pow(fp_stats_sd(y, ny), 2) / (double)ky;
    if (vx + vy == 0.0) {
        /* No spread at all: the means either agree exactly or differ for sure. */
        out->t = mx == my ? 0.0 : copysign(INFINITY, mx - my);
        out->df = (double)(kx + ky - 2);
        out->p = mx == my ? 1.0 : 0.0;
        return 0;
    }
    out->t = (mx - my) / sqrt(vx + vy);
    out->df = (vx + vy) * (vx + vy) / (vx * vx / (double)(kx - 1) + vy * vy / (double)(ky - 1));
    out->p = 2.0 * gsl_cdf_tdist_Q(fabs(out->t), out->df);
    return 0;
}

int fp_stats_ols(const double *x, const double *y, size_t n, fp_ols *out)
{
    memset(out, 0, sizeof *out);
    out->intercept = out->slope = out->slope_se = out->slope_t = NAN;
    out->p_two_sided = out->p_greater = out->r2 = NAN;
    double *xs = malloc((n ? n : 1) * sizeof *xs), *ys = malloc((n ? n : 1) * sizeof *ys);
    if (!xs || !ys) {
        free(xs);
        free(ys);
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i])) {
            xs[m] = x[i];
            ys[m++] = y[i];
        }
    out->n = m;
    double c0, c1, cov00, cov01, cov11, sumsq;
    if (m < 3 || gsl_stats_variance(xs, 1, m) == 0.0) {
        free(xs);
        free(ys);
        return 0;
    }
    gsl_fit_linear(xs, 1, ys, 1, m, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
    double tss = gsl_stats_tss(ys, 1, m);
    out->intercept = c0;
    out->slope = c1;
    out->slope_se = sqrt(cov11);
    out->r2 = tss > 0.0 ? 1.0 - sumsq / tss : NAN;
    double df = (double)(m - 2);
    if (out->slope_se > 0.0) {
        out->slope_t = c1 / out->slope_se;
        out->p_two_sided = 2.0 * gsl_cdf_tdist_Q(fabs(out->slope_t), df);
        out->p_greater = gsl_cdf_tdist_Q(out->slope_t, df);
    } else {
        /* A perfect fit: the slope is exact. */
        out->slope_t = c1 == 0.0 ? 0.0 : copysign(INFINITY, c1);
        out->p_two_sided = c1 == 0.0 ? 1.0 : 0.0;
        out->p_greater = c1 > 0.0 ? 0.0 : 1.0;
    }
    free(xs);
    free(ys);
    return 0;
}

int fp_stats_bootstrap_ratio(const double *num, size_t nn, const double *den, size_t nd,
                             fp_stat_center c, double conf, int B, unsigned long seed, double *est,
                             double *lo, double *hi)
{
    *est = *lo = *hi = NAN;
    if (!(conf > 0.0 && conf < 1.0) || B < 10)
        return -1;
    size_t kn = fp_stats_count(num, nn), kd = fp_stats_count(den, nd);
    if (kn == 0 || kd == 0)
        return 0;
    double cd = fp_stats_center(den, nd, c);
    *est = cd != 0.0 ? fp_stats_center(num, nn, c) / cd : NAN;
    if (kn < 2 && kd < 2)
        return 0;
    double *a = malloc((size_t)B * sizeof *a), *b = malloc((size_t)B * sizeof *b);
    gsl_rng *rng = make_rng(seed);
    int rc = -1;
    if (a && b && rng && resample_centres(num, nn, c, B, rng, a) == 0 &&
        resample_centres(den, nd, c, B, rng, b) == 0) {
        size_t k = 0;
        for (int i = 0; i < B; i++)
            if (b[i] != 0.0)
                a[k++] = a[i] / b[i];
        if (k >= 10) {
            gsl_sort(a, 1, k);
            *lo = gsl_stats_quantile_from_sorted_data(a, 1, k, (1.0 - conf) / 2.0);
            *hi = gsl_stats_quantile_from_sorted_data(a, 1, k, (1.0 + conf) / 2.0);
        }
        rc = 0;
    }
    gsl_rng_free(rng);
    free(a);
    free(b);
    return rc;
}
