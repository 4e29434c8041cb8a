/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_STATS_H
#define FREQPILOT_STATS_H

/*
 * The one statistics module of freqpilot: robust centres, spreads, confidence
 * intervals (percentile bootstrap and Student t), Welch's t-test and ordinary
 * least squares. Built on GSL. Every function ignores NAN entries of its input
 * (they mean "not available"), never modifies its input and returns NAN when
 * there is not enough data for a value. Resampling draws GSL's mt19937 stream
 * (gsl_rng_mt19937, gsl_rng_uniform_int) seeded with the caller's seed, so results are
 * reproducible; src/analysis/stats.c says how it avoids sorting each resample.
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FP_STATS_DEFAULT_SEED 20250709UL

/* Centre used by the bootstrap helpers. */
typedef enum fp_stat_center { FP_STAT_MEDIAN = 0, FP_STAT_MEAN } fp_stat_center;

/* Number of finite (non-NAN) values. */
size_t fp_stats_count(const double *x, size_t n);
double fp_stats_median(const double *x, size_t n);
double fp_stats_mean(const double *x, size_t n);
/* Sample standard deviation (n - 1 denominator); NAN for fewer than 2 values. */
double fp_stats_sd(const double *x, size_t n);
/* sd / mean; NAN for fewer than 2 values or a zero mean. */
double fp_stats_cv(const double *x, size_t n);
/* Quantile p in [0, 1] with linear interpolation between order statistics (R type 7). */
double fp_stats_quantile(const double *x, size_t n, double p);
/* Median absolute deviation from the median (raw, not scaled by 1.4826). */
double fp_stats_mad(const double *x, size_t n);
double fp_stats_center(const double *x, size_t n, fp_stat_center c);

/*
 * Percentile bootstrap interval of the centre: B resamples with replacement,
 * the (1-conf)/2 and (1+conf)/2 quantiles of the resampled centres. NAN bounds
 * for fewer than 2 values. Returns 0, or -1 on a bad argument / no memory.
 */
int fp_stats_bootstrap_ci(const double *x, size_t n, fp_stat_center c, double conf, int B,
                          unsigned long seed, double *lo, double *hi);

/*
 * A bootstrap plan: fp_stats_bootstrap_ci for many samples with the same centre, confidence,
 * B and seed, with the same results, faster (it remembers the resampling of each sample size
 * m; the cost of an interval of a few values no longer grows with B). Not shared between
 * threads: one plan per thread. NULL on a bad argument (as fp_stats_bootstrap_ci's -1) or
 * no memory.
 */
typedef struct fp_stats_boot fp_stats_boot;
fp_stats_boot *fp_stats_boot_new(fp_stat_center c, double conf, int B, unsigned long seed);
/* Returns 0 (NAN bounds for fewer than 2 values), -1 on no memory or b NULL. */
int fp_stats_boot_ci(fp_stats_boot *b, const double *x, size_t n, double *lo, double *hi);
void fp_stats_boot_free(fp_stats_boot *b);

/* mean ± t_{(1+conf)/2, n-1} · sd / sqrt(n). NAN bounds for fewer than 2 values. */
int fp_stats_t_ci(const double *x, size_t n, double conf, double *lo, double *hi);

/* Welch's unequal-variance t-test: statistic, Welch–Satterthwaite df, two-sided p. */
typedef struct fp_welch {
    double t, df, p;
} fp_welch;
int fp_stats_welch(const double *x, size_t nx, const double *y, size_t ny, fp_welch *out);

/* y = intercept + slope·x by ordinary least squares over the pairs where both are finite. */
typedef struct fp_ols {
    size_t n;
    double intercept, slope;
    double slope_se;
    double slope_t;
    double p_two_sided; /* H0: slope = 0 */
    double p_greater;   /* H0: slope <= 0 against slope > 0 */
    double r2;
} fp_ols;
int fp_stats_ols(const double *x, const double *y, size_t n, fp_ols *out);

/*
 * Bootstrap of the ratio of the centres of two independent samples,
 * centre(num) / centre(den) (each resampled separately, B times). est is the
 * ratio of the sample centres; lo/hi the percentile interval. Used for
 * savings: saving = 1 - E_f / E_base, so its interval is [1 - hi, 1 - lo].
 */
int fp_stats_bootstrap_ratio(const double *num, size_t nn, const double *den, size_t nd,
                             fp_stat_center c, double conf, int B, unsigned long seed, double *est,
                             double *lo, double *hi);

#ifdef __cplusplus
}
#endif
#endif
