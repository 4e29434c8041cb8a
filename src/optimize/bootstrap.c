/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The percentile bootstrap of a ratio of medians, as src/analysis/stats.c computes it, made
 * cheap for the few runs per clock of a sweep. optimize and pareto call it once per clock pair
 * and objective, 2000 resamples each, which was most of `freqpilot run`'s time.
 *
 * Why the results are identical: stats.c resamples from the sorted finite values v[0..m) with
 * gsl_rng_uniform_int (mt19937 seeded with seed; reproduced inline below), sorts each resample and
 * takes gsl_stats_median_from_sorted_data. Since v is sorted, the k-th smallest resampled value is
 * v[k-th smallest drawn index]: counting the drawn indices gives the same median, from the same
 * draws in the same order. The quantiles of the ratios need only two order statistics
 * (gsl_stats_quantile_from_sorted_data's interpolation between element lhs and lhs + 1), which
 * selection finds without sorting all B values.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/stats.h"
#include "optimize/opt_internal.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorted finite values of x into v (capacity n); returns their count. */
static size_t sorted_finite(const double *x, size_t n, double *v)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[m++] = x[i];
    qsort(v, m, sizeof *v, cmp_double);
    return m;
}

/*
 * GSL's mt19937 (gsl_rng_mt19937 with gsl_rng_set) and gsl_rng_uniform_int, inline: the same
 * numbers without a call through a function pointer per draw. tests/unit/test_opt_bootstrap.c
 * checks the stream against GSL's.
 */
enum { MT_N = 624, MT_M = 397 };

void fp_opt_mt_seed(fp_opt_mt *s, unsigned long seed)
{
    if (seed == 0)
        seed = 4357;
    s->mt[0] = (uint32_t)(seed & 0xffffffffUL);
    for (int i = 1; i < MT_N; i++)
        s->mt[i] = 1812433253u * (s->mt[i - 1] ^ (s->mt[i - 1] >> 30)) + (uint32_t)i;
    s->mti = MT_N;
}

uint32_t fp_opt_mt_get(fp_opt_mt *s)
{
#define MAGIC(y) (((y)&0x1u) ? 0x9908b0dfu : 0u)
    uint32_t *mt = s->mt;
    if (s->mti >= MT_N) {
        int kk;
        for (kk = 0; kk < MT_N - MT_M; kk++) {
            uint32_t y = (mt[kk] & 0x80000000u) | (mt[kk + 1] & 0x7fffffffu);
            mt[kk] = mt[kk + MT_M] ^ (y >> 1) ^ MAGIC(y);
        }
        for (; kk < MT_N - 1; kk++) {
            uint32_t y = (mt[kk] & 0x80000000u) | (mt[kk + 1] & 0x7fffffffu);
            mt[kk] = mt[kk + (MT_M - MT_N)] ^ (y >> 1) ^ MAGIC(y);
        }
        uint32_t y = (mt[MT_N - 1] & 0x80000000u) | (mt[0] & 0x7fffffffu);
        mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ MAGIC(y);
        s->mti = 0;
    }
#undef MAGIC
    uint32_t k = mt[s->mti++];
    k ^= k >> 11;
    k ^= (k << 7) & 0x9d2c5680u;
    k ^= (k << 15) & 0xefc60000u;
    k ^= k >> 18;
    return k;
}

/* gsl_rng_uniform_int for mt19937 (min 0, max 2^32 - 1), 0 < n <= 2^32 - 1. */
static inline size_t mt_uniform_int(fp_opt_mt *s, uint32_t n, uint32_t scale)
{
    uint32_t k;
    do
        k = fp_opt_mt_get(s) / scale;
    while (k >= n);
    return k;
}

/* B medians of resamples of v[0..m) (sorted); cnt has m slots. */
static void resample_medians(const double *v, size_t m, int B, fp_opt_mt *rng, size_t *cnt,
                             double *out)
{
    size_t lhs = (m - 1) / 2, rhs = m / 2;
    uint32_t scale = 0xffffffffu / (uint32_t)m;
    for (int b = 0; b < B; b++) {
        memset(cnt, 0, m * sizeof *cnt);
        for (size_t i = 0; i < m; i++)
            cnt[mt_uniform_int(rng, (uint32_t)m, scale)]++;
        /* indices t_lhs and t_rhs of the lhs-th and rhs-th smallest draws */
        size_t cum = 0, t = 0, tl = 0;
        for (; t < m; t++) {
            cum += cnt[t];
            if (cum > lhs) {
                tl = t;
                break;
            }
        }
        size_t tr = tl;
        if (rhs != lhs && cum <= rhs) /* the next drawn index */
            for (tr = tl + 1; tr < m && cnt[tr] == 0; tr++)
                ;
        out[b] = m % 2 ? v[tl] : (v[tl] + v[tr]) / 2.0;
    }
}

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Rearranges a[0..n) so that a[k] is the k-th smallest, none larger before it, none smaller
 * after it (Hoare partition around a median of three). */
static void select_kth(double *a, size_t n, size_t k)
{
    long l = 0, r = (long)n - 1, kk = (long)k;
    while (r > l) {
        long mid = l + (r - l) / 2;
        if (a[mid] < a[l])
            swap(&a[mid], &a[l]);
        if (a[r] < a[l])
            swap(&a[r], &a[l]);
        if (a[r] < a[mid])
            swap(&a[r], &a[mid]);
        double pivot = a[mid];
        long i = l, j = r;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                swap(&a[i], &a[j]);
                i++;
                j--;
            }
        }
        if (kk <= j)
            r = j;
        else if (kk >= i)
            l = i;
        else
            return;
    }
}

/* gsl_stats_quantile_from_sorted_data(sorted(a), 1, n, f); a is reordered. */
static double quantile_select(double *a, size_t n, double f)
{
    const double index = f * (double)(n - 1);
    const size_t lhs = (size_t)(int)index;
    const double delta = index - (double)lhs;
    select_kth(a, n, lhs);
    if (lhs == n - 1)
        return a[lhs];
    double next = a[lhs + 1];
    for (size_t i = lhs + 2; i < n; i++)
        if (a[i] < next)
            next = a[i];
    return (1 - delta) * a[lhs] + delta * next;
}

int fp_opt_bootstrap_ratio_median(const double *num, size_t nn, const double *den, size_t nd,
                                  double conf, int B, unsigned long seed, double *est, double *lo,
                                  double *hi)
{
    *est = *lo = *hi = NAN;
    if (!(conf > 0.0 && conf < 1.0) || B < 10)
        return -1;
    size_t kn = fp_stats_count(num, nn), kd = fp_stats_count(den, nd);
    if (kn == 0 || kd == 0)
        return 0;
    double cd = fp_stats_center(den, nd, FP_STAT_MEDIAN);
    *est = cd != 0.0 ? fp_stats_center(num, nn, FP_STAT_MEDIAN) / cd : NAN;
    if (kn < 2 && kd < 2)
        return 0;
    size_t mx = kn > kd ? kn : kd;
    double *a = malloc(((size_t)B * 2 + nn + nd) * sizeof *a);
    size_t *cnt = malloc(mx * sizeof *cnt);
    fp_opt_mt *rng = malloc(sizeof *rng);
    int rc = -1;
    if (mx > 0xfffffffeu) { /* beyond gsl_rng_uniform_int's range: leave it to the reference */
        free(a);
        free(cnt);
        free(rng);
        return fp_stats_bootstrap_ratio(num, nn, den, nd, FP_STAT_MEDIAN, conf, B, seed, est, lo,
                                        hi);
    }
    if (a && cnt && rng) {
        fp_opt_mt_seed(rng, seed);
        double *b = a + B, *vn = b + B, *vd = vn + nn;
        size_t mn = sorted_finite(num, nn, vn), md = sorted_finite(den, nd, vd);
        resample_medians(vn, mn, B, rng, cnt, a);
        resample_medians(vd, md, B, rng, cnt, b);
        size_t k = 0;
        int odd = 0;
        for (int i = 0; i < B; i++)
            if (b[i] != 0.0) {
                a[k] = a[i] / b[i];
                odd |= !(isfinite(a[k]) && a[k] > 0.0);
                k++;
            }
        rc = 0;
        if (odd) {
            /* Ties of -0.0 and 0.0, infinities: leave them to the reference. */
            free(rng);
            free(a);
            free(cnt);
            return fp_stats_bootstrap_ratio(num, nn, den, nd, FP_STAT_MEDIAN, conf, B, seed, est,
                                            lo, hi);
        }
        if (k >= 10) {
            *lo = quantile_select(a, k, (1.0 - conf) / 2.0);
            *hi = quantile_select(a, k, (1.0 + conf) / 2.0);
        }
    }
    free(rng);
    free(a);
    free(cnt);
    return rc;
}
