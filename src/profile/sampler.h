/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_PROFILE_SAMPLER_H
#define FP_PROFILE_SAMPLER_H

/*
 * The sampler thread of `freqpilot profile`: one backend sample every interval on a dedicated
 * pthread, woken at absolute CLOCK_MONOTONIC deadlines (clock_nanosleep TIMER_ABSTIME) so
 * that lateness never accumulates. Each sample's t_s is the host monotonic time at which it
 * was read, relative to the run's t0. Samples go into a buffer the thread owns until
 * fp_sampler_stop joins it (nothing is shared while it runs, so no lock is taken per sample).
 */

#include <stddef.h>

#include "freqpilot/error.h"
#include "freqpilot/gpu.h"
#include "freqpilot/sample.h"

typedef struct fp_sample_buf {
    fp_sample *v;
    size_t n, cap;
} fp_sample_buf;

/* Appends s; FP_ERR_NOMEM when the buffer cannot grow. */
fp_status fp_sample_buf_push(fp_sample_buf *b, const fp_sample *s);
void fp_sample_buf_free(fp_sample_buf *b);

typedef struct fp_sampler_stats {
    size_t samples;
    size_t errors; /* backend sample calls that failed (row kept, values NAN) */
    size_t missed; /* deadlines skipped because a sample overran its slot */
    double cpu_s;  /* CPU time of the sampler thread */
    double lateness_mean_s, lateness_max_s; /* wake-up time minus deadline */
    double interval_sd_s; /* standard deviation of the intervals between samples */
} fp_sampler_stats;

typedef struct fp_sampler fp_sampler;

/* Host CLOCK_MONOTONIC in seconds. */
double fp_mono_now(void);

/*
 * Starts sampling gpu every interval_s; the first sample is taken at once. t0_mono is the
 * origin of t_s (usually fp_mono_now() at the start of the run).
 */
fp_status fp_sampler_start(fp_sampler **out, const fp_gpu_backend *be, fp_gpu *gpu,
                           double interval_s, double t0_mono, fp_error *err);
/*
 * Stops the thread (after one last sample), joins it and hands over its samples (moved into
 * *samples, which must be empty) and statistics (may be NULL). Frees s.
 */
fp_status fp_sampler_stop(fp_sampler *s, fp_sample_buf *samples, fp_sampler_stats *stats,
                          fp_error *err);

#endif
