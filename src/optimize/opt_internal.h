/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_OPT_INTERNAL_H
#define FREQPILOT_OPT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* GSL's mt19937 generator (gsl_rng_mt19937): the same stream for the same seed. */
typedef struct fp_opt_mt {
    uint32_t mt[624];
    int mti;
} fp_opt_mt;
void fp_opt_mt_seed(fp_opt_mt *s, unsigned long seed); /* gsl_rng_set */
uint32_t fp_opt_mt_get(fp_opt_mt *s);                  /* gsl_rng_get */

/*
 * fp_stats_bootstrap_ratio(num, nn, den, nd, FP_STAT_MEDIAN, conf, B, seed, ...) with the
 * same random stream and the same arithmetic, so bit for bit the same est, lo and hi, only
 * faster: a resample's median is found by counting the drawn indices into the sorted sample
 * (no sort per resample, no allocation per resample), and the two quantiles of the B ratios
 * by selection instead of a full sort. Falls back to fp_stats_bootstrap_ratio itself where
 * that shortcut could differ (a ratio that is not finite or not positive).
 * tests/unit/test_opt_bootstrap.c compares the two on random samples.
 */
int fp_opt_bootstrap_ratio_median(const double *num, size_t nn, const double *den, size_t nd,
                                  double conf, int B, unsigned long seed, double *est, double *lo,
                                  double *hi);

#endif
