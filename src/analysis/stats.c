/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Statistics on small samples (a handful of runs per clock, a few hundred per
 * sweep). NAN entries mean "not available" and are skipped everywhere, so the
 * callers can pass columns as they are.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "freqpilot/stats.h"
#include "util/grow.h"

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

/* ---- The bootstrap ----
 *
 * The one implementation of the percentile bootstrap. Resamples are drawn with GSL's mt19937
 * seeded with the caller's seed and gsl_rng_uniform_int, both reproduced inline (the same
 * numbers without a call through a function pointer per draw), from the sorted finite values
 * v[0..m). The results are identical to those of the textbook loop that tests/unit/test_stats.c
 * keeps as its reference (copy the drawn values, sort them, take the centre; sort the B centres,
 * take the quantiles), for every seed, bit for bit (a zero's sign aside: the sorts may order
 * -0.0 and 0.0 either way):
 * - a median: v is sorted, so the k-th smallest resampled value is v[k-th smallest drawn index];
 *   counting the drawn indices finds it from the same draws in the same order, without a sort;
 * - a mean: gsl_stats_mean of the drawn values in the order drawn (no sort is needed);
 * - the interval: gsl_stats_quantile_from_sorted_data interpolates between two order
 *   statistics of the B centres, which selection finds without sorting all of them.
 * Every interval starts the generator at the seed again, so samples with the same number m of
 * finite values draw the same indices: a plan (fp_stats_boot) remembers, per m, how often each
 * pair of median indices came up, and an interval of m values then costs O(pairs) instead of
 * O(B m). That is what makes aggregate linear in practice: at 10^6 runs it computes 2 intervals
 * for each of some 300,000 clocks of 3 runs, 2000 resamples each.
 */

enum { MT_N = 624, MT_M = 397 };

typedef struct mt19937 {
    uint32_t mt[MT_N];
    int mti;
} mt19937;

/* gsl_rng_set for gsl_rng_mt19937. */
static void mt_seed(mt19937 *s, unsigned long seed)
{
    if (seed == 0)
        seed = 4357;
    s->mt[0] = (uint32_t)(seed & 0xffffffffUL);
    for (int i = 1; i < MT_N; i++)
        s->mt[i] = 1812433253u * (s->mt[i - 1] ^ (s->mt[i - 1] >> 30)) + (uint32_t)i;
    s->mti = MT_N;
}

static void mt_refill(mt19937 *s)
{
#define MAGIC(y) (((y)&0x1u) ? 0x9908b0dfu : 0u)
    uint32_t *mt = s->mt;
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
#undef MAGIC
    s->mti = 0;
}

static inline uint32_t mt_get(mt19937 *s)
{
    if (s->mti >= MT_N)
        mt_refill(s);
    uint32_t k = s->mt[s->mti++];
    k ^= k >> 11;
    k ^= (k << 7) & 0x9d2c5680u;
    k ^= (k << 15) & 0xefc60000u;
    k ^= k >> 18;
    return k;
}

/* gsl_rng_uniform_int for mt19937 (range 2^32 - 1): scale = 0xffffffff / n, 0 < n < 2^32 - 1. */
static inline uint32_t mt_uniform(mt19937 *s, uint32_t n, uint32_t scale)
{
    uint32_t k;
    do
        k = mt_get(s) / scale;
    while (k >= n);
    return k;
}

/* Indices (tl, tr) into v of the median of one resample of m values: the lhs-th and rhs-th
 * smallest drawn indices of gsl_stats_median_from_sorted_data (equal for odd m). cnt: m slots. */
static void draw_median(mt19937 *g, uint32_t m, uint32_t scale, uint32_t *cnt, uint32_t *tl,
                        uint32_t *tr)
{
    memset(cnt, 0, m * sizeof *cnt);
    for (uint32_t i = 0; i < m; i++)
        cnt[mt_uniform(g, m, scale)]++;
    uint32_t lhs = (m - 1) / 2, rhs = m / 2, cum = 0, t = 0;
    for (;; t++) {
        cum += cnt[t];
        if (cum > lhs)
            break;
    }
    *tl = t;
    if (rhs != lhs && cum <= rhs) /* the next drawn index */
        for (t++; cnt[t] == 0; t++)
            ;
    *tr = t;
}

static double median_of(const double *v, uint32_t m, uint32_t tl, uint32_t tr)
{
    return m % 2 ? v[tl] : (v[tl] + v[tr]) / 2.0;
}

/* B centres of resamples of the sorted v[0..m) into out, the generator continuing from g. */
static void resample_centres(mt19937 *g, const double *v, uint32_t m, fp_stat_center c, int B,
                             uint32_t *cnt, double *r, double *out)
{
    uint32_t scale = 0xffffffffu / m;
    for (int b = 0; b < B; b++) {
        if (c == FP_STAT_MEAN) {
            for (uint32_t i = 0; i < m; i++)
                r[i] = v[mt_uniform(g, m, scale)];
            out[b] = gsl_stats_mean(r, 1, m);
        } else {
            uint32_t tl, tr;
            draw_median(g, m, scale, cnt, &tl, &tr);
            out[b] = median_of(v, m, tl, tr);
        }
    }
}

static void swap_d(double *a, double *b)
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
            swap_d(&a[mid], &a[l]);
        if (a[r] < a[l])
            swap_d(&a[r], &a[l]);
        if (a[r] < a[mid])
            swap_d(&a[r], &a[mid]);
        double pivot = a[mid];
        long i = l, j = r;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                swap_d(&a[i], &a[j]);
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

/* gsl_stats_quantile_from_sorted_data(sorted(a), 1, n, f) for n > 0; a is reordered. */
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

/* NAN does not order, and an infinity takes the sort's path (0 x inf in the interpolation). */
static int plain_value(double x)
{
    return isfinite(x);
}

/* The conf interval of a[0..n) as gsl_sort + gsl_stats_quantile_from_sorted_data gives it;
 * a is reordered. Selection where the order statistics are unique, the sort otherwise. */
static void interval_of(double *a, size_t n, double conf, double *lo, double *hi)
{
    int plain = 1;
    for (size_t i = 0; i < n && plain; i++)
        plain = plain_value(a[i]);
    if (!plain) {
        gsl_sort(a, 1, n);
        *lo = gsl_stats_quantile_from_sorted_data(a, 1, n, (1.0 - conf) / 2.0);
        *hi = gsl_stats_quantile_from_sorted_data(a, 1, n, (1.0 + conf) / 2.0);
        return;
    }
    *lo = quantile_select(a, n, (1.0 - conf) / 2.0);
    *hi = quantile_select(a, n, (1.0 + conf) / 2.0);
}

/* How often each pair of median indices came up in the B resamples of m values. */
typedef struct boot_pairs {
    uint32_t m;
    size_t n;          /* distinct pairs */
    uint32_t *tl, *tr; /* n each */
    uint32_t *count;   /* n, summing to B */
} boot_pairs;

struct fp_stats_boot {
    fp_stat_center c;
    double conf;
    int B;
    unsigned long seed;
    mt19937 g;
    boot_pairs *pairs; /* per m seen (medians) */
    size_t npairs, cap_pairs;
    double *v, *r, *cent; /* sorted finite values, a resample, the centres (or pair values) */
    uint32_t *cnt;
    size_t cap_m;
    uint64_t *codes; /* B pair codes while counting */
    size_t *order;   /* pair indices sorted by value */
};

fp_stats_boot *fp_stats_boot_new(fp_stat_center c, double conf, int B, unsigned long seed)
{
    if (!(conf > 0.0 && conf < 1.0) || B < 10 || (c != FP_STAT_MEDIAN && c != FP_STAT_MEAN))
        return NULL;
    fp_stats_boot *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->c = c;
    b->conf = conf;
    b->B = B;
    b->seed = seed;
    b->cent = malloc((size_t)B * sizeof *b->cent);
    b->codes = malloc((size_t)B * sizeof *b->codes);
    b->order = malloc((size_t)B * sizeof *b->order);
    if (!b->cent || !b->codes || !b->order) {
        fp_stats_boot_free(b);
        return NULL;
    }
    return b;
}

void fp_stats_boot_free(fp_stats_boot *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->npairs; i++) {
        free(b->pairs[i].tl);
        free(b->pairs[i].tr);
        free(b->pairs[i].count);
    }
    free(b->pairs);
    free(b->v);
    free(b->r);
    free(b->cent);
    free(b->cnt);
    free(b->codes);
    free(b->order);
    free(b);
}

/* Room for m values in the scratch arrays. */
static int reserve_m(fp_stats_boot *b, size_t m)
{
    if (m <= b->cap_m)
        return 0;
    size_t cap = m > 2 * b->cap_m ? m : 2 * b->cap_m;
    double *v = realloc(b->v, cap * sizeof *v);
    if (v)
        b->v = v;
    double *r = realloc(b->r, cap * sizeof *r);
    if (r)
        b->r = r;
    uint32_t *cnt = realloc(b->cnt, cap * sizeof *cnt);
    if (cnt)
        b->cnt = cnt;
    if (!v || !r || !cnt)
        return -1;
    b->cap_m = cap;
    return 0;
}

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

/* The pairs of m values: drawn once from the seed, then remembered. NULL: no memory. */
static const boot_pairs *pairs_for(fp_stats_boot *b, uint32_t m)
{
    for (size_t i = 0; i < b->npairs; i++)
        if (b->pairs[i].m == m)
            return &b->pairs[i];
    if (FP_GROW(b->pairs, b->npairs, b->cap_pairs, 8))
        return NULL;
    mt_seed(&b->g, b->seed);
    uint32_t scale = 0xffffffffu / m;
    for (int k = 0; k < b->B; k++) {
        uint32_t tl, tr;
        draw_median(&b->g, m, scale, b->cnt, &tl, &tr);
        b->codes[k] = (uint64_t)tl << 32 | tr;
    }
    qsort(b->codes, (size_t)b->B, sizeof *b->codes, cmp_u64);
    size_t n = 1;
    for (int k = 1; k < b->B; k++)
        n += b->codes[k] != b->codes[k - 1];
    boot_pairs p = {m, 0, malloc(n * sizeof(uint32_t)), malloc(n * sizeof(uint32_t)),
                    malloc(n * sizeof(uint32_t))};
    if (!p.tl || !p.tr || !p.count) {
        free(p.tl);
        free(p.tr);
        free(p.count);
        return NULL;
    }
    for (int k = 0; k < b->B; k++) {
        if (k == 0 || b->codes[k] != b->codes[k - 1]) {
            p.tl[p.n] = (uint32_t)(b->codes[k] >> 32);
            p.tr[p.n] = (uint32_t)b->codes[k];
            p.count[p.n++] = 0;
        }
        p.count[p.n - 1]++;
    }
    b->pairs[b->npairs] = p;
    return &b->pairs[b->npairs++];
}

static int cmp_pair_value(const void *pa, const void *pb, void *values)
{
    const double *v = values;
    double a = v[*(const size_t *)pa], b = v[*(const size_t *)pb];
    return (a > b) - (a < b);
}

/* The value at position k of the sorted multiset: value[order[j]] repeated count[order[j]]. */
static double kth_of(const double *value, const uint32_t *count, const size_t *order, size_t n,
                     size_t k)
{
    size_t cum = 0;
    for (size_t j = 0; j < n; j++) {
        cum += count[order[j]];
        if (cum > k)
            return value[order[j]];
    }
    return value[order[n - 1]];
}

/* The interval of the medians from the remembered pairs; -1 when a value is not plain (then
 * the direct path decides, as the reference's sort would). */
static int interval_from_pairs(fp_stats_boot *b, const boot_pairs *p, double *lo, double *hi)
{
    double *val = b->cent;
    for (size_t j = 0; j < p->n; j++) {
        val[j] = median_of(b->v, p->m, p->tl[j], p->tr[j]);
        if (!plain_value(val[j]))
            return -1;
        b->order[j] = j;
    }
    if (p->n <= 16) { /* insertion sort: a few pairs for a few runs */
        for (size_t i = 1; i < p->n; i++) {
            size_t x = b->order[i], j = i;
            while (j > 0 && val[b->order[j - 1]] > val[x]) {
                b->order[j] = b->order[j - 1];
                j--;
            }
            b->order[j] = x;
        }
    } else {
        qsort_r(b->order, p->n, sizeof *b->order, cmp_pair_value, val);
    }
    size_t B = (size_t)b->B;
    double f[2] = {(1.0 - b->conf) / 2.0, (1.0 + b->conf) / 2.0}, q[2];
    for (int i = 0; i < 2; i++) {
        const double index = f[i] * (double)(B - 1);
        const size_t lhs = (size_t)(int)index;
        const double delta = index - (double)lhs;
        double a = kth_of(val, p->count, b->order, p->n, lhs);
        q[i] = lhs == B - 1
                   ? a
                   : (1 - delta) * a + delta * kth_of(val, p->count, b->order, p->n, lhs + 1);
    }
    *lo = q[0];
    *hi = q[1];
    return 0;
}

/* Sorted finite values of x into b->v; their count. */
static size_t load_sorted(fp_stats_boot *b, const double *x, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            b->v[m++] = x[i];
    gsl_sort(b->v, 1, m);
    return m;
}

int fp_stats_boot_ci(fp_stats_boot *b, const double *x, size_t n, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (!b)
        return -1;
    if (fp_stats_count(x, n) < 2)
        return 0;
    if (n >= 0xffffffffu || reserve_m(b, n) < 0)
        return -1;
    uint32_t m = (uint32_t)load_sorted(b, x, n);
    if (b->c == FP_STAT_MEDIAN) {
        const boot_pairs *p = pairs_for(b, m);
        if (!p)
            return -1;
        if (interval_from_pairs(b, p, lo, hi) == 0)
            return 0;
    }
    mt_seed(&b->g, b->seed);
    resample_centres(&b->g, b->v, m, b->c, b->B, b->cnt, b->r, b->cent);
    interval_of(b->cent, (size_t)b->B, b->conf, lo, hi);
    return 0;
}

int fp_stats_bootstrap_ci(const double *x, size_t n, fp_stat_center c, double conf, int B,
                          unsigned long seed, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (!(conf > 0.0 && conf < 1.0) || B < 10)
        return -1;
    if (fp_stats_count(x, n) < 2)
        return 0;
    fp_stats_boot *b = fp_stats_boot_new(c, conf, B, seed);
    int rc = b ? fp_stats_boot_ci(b, x, n, lo, hi) : -1;
    fp_stats_boot_free(b);
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
    if (kn >= 0xffffffffu || kd >= 0xffffffffu)
        return -1;
    size_t mx = nn > nd ? nn : nd;
    double *a = malloc(((size_t)B * 2 + nn + nd + mx) * sizeof *a);
    uint32_t *cnt = malloc(mx * sizeof *cnt);
    mt19937 *g = malloc(sizeof *g);
    int rc = -1;
    if (a && cnt && g) {
        double *bb = a + B, *vn = bb + B, *vd = vn + nn, *r = vd + nd;
        size_t mn = 0, md = 0;
        for (size_t i = 0; i < nn; i++)
            if (isfinite(num[i]))
                vn[mn++] = num[i];
        for (size_t i = 0; i < nd; i++)
            if (isfinite(den[i]))
                vd[md++] = den[i];
        gsl_sort(vn, 1, mn);
        gsl_sort(vd, 1, md);
        mt_seed(g, seed);
        resample_centres(g, vn, (uint32_t)mn, c, B, cnt, r, a);
        resample_centres(g, vd, (uint32_t)md, c, B, cnt, r, bb);
        size_t k = 0;
        for (int i = 0; i < B; i++)
            if (bb[i] != 0.0)
                a[k++] = a[i] / bb[i];
        if (k >= 10)
            interval_of(a, k, conf, lo, hi);
        rc = 0;
    }
    free(g);
    free(a);
    free(cnt);
    return rc;
}
