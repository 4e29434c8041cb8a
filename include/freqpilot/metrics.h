/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_METRICS_H
#define FREQPILOT_METRICS_H

/*
 * Per-run metrics from a telemetry time series: choose the window (marked,
 * from the run's own timing, or detected), then reduce the samples in it to
 * the numeric fields of fp_run. Streaming: constant memory whatever the file
 * size; the reader is rewound for up to three passes. The method and its
 * numbers are documented in docs/method-windows.md.
 */

#include <stddef.h>

#include "freqpilot/error.h"
#include "freqpilot/reader.h"
#include "freqpilot/run.h"
#include "freqpilot/sample.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Active-window detector constants (docs/method-windows.md). */
#define FP_ACTIVE_UTIL_PCT 5.0      /* gpu_util_pct >= this: active */
#define FP_ACTIVE_FRACTION 0.05     /* sm_active or gr_active >= this: active */
#define FP_IDLE_QUANTILE 0.10       /* idle power = this quantile of power over the file */
#define FP_ACTIVE_MIN_MARGIN_W 10.0 /* power threshold = idle + max(this, ...) */
#define FP_ACTIVE_REL_MARGIN 0.15   /*   ... , this * (max power - idle)) */
/* Clock-event reasons counted as throttling: SW power cap (0x4), HW slowdown (0x8),
 * SW thermal (0x20), HW thermal (0x40), HW power brake (0x80). */
#define FP_THROTTLE_REASON_BITS (0x4u | 0x8u | 0x20u | 0x40u | 0x80u)
#define FP_THROTTLE_MIN_FRAC 0.05 /* throttled when more than this fraction of samples */
/* time_gap: a step between two window samples longer than this many typical steps ... */
#define FP_GAP_SPACINGS 10.0
#define FP_GAP_MIN_S 1.0 /* ... and longer than this (seconds) */

typedef enum fp_window_method {
    FP_WINDOW_MARKED = 0, /* window_start_s/window_end_s given */
    FP_WINDOW_TIMING,   /* duration known: window of that length ending at the last active sample */
    FP_WINDOW_DETECTED, /* first..last active sample */
    FP_WINDOW_WHOLE     /* no active sample: the whole file */
} fp_window_method;

typedef struct fp_metrics_options {
    double window_start_s; /* marked window (telemetry t_s), NAN = none */
    double window_end_s;
    double duration_s;          /* run duration without position (perf.csv), NAN = unknown */
    double requested_mhz;       /* requested SM clock, NAN = unknown (no clock check) */
    double counter_tolerance;   /* default 0.05 */
    double clock_tolerance_mhz; /* default 30 */
} fp_metrics_options;

void fp_metrics_options_init(fp_metrics_options *opt);

/* What the window choice found (for reports and tests). */
typedef struct fp_window_info {
    fp_window_method method;
    double start_s, end_s; /* window on the telemetry time axis */
    double idle_power_w;   /* FP_IDLE_QUANTILE of power over the file, NAN without power */
    double threshold_w;    /* power threshold used when no activity metric exists, else NAN */
    int activity_metric;   /* 1 when utilisation/activity columns decided activity */
    long file_samples;     /* samples in the whole file */
} fp_window_info;

/*
 * Fills run's metric fields (time_s, energy_j, power_w, energy_counter_j,
 * energy_integral_j, sm_clock_mhz, gpu_util_pct, sm_active, dram_active,
 * tensor_active, fp_active, temp_c, throttled_frac, samples) and ORs data-
 * quality flags into run->flags. Identity fields (gpu, app, freq_mhz, ...)
 * are left alone. win may be NULL. A file without samples is FP_ERR_PARSE.
 */
fp_status fp_run_metrics(fp_ts_reader *r, const fp_metrics_options *opt, fp_run *run,
                         fp_window_info *win, fp_error *err);

/* The same over samples in memory (tests, the simulated backend). */
fp_status fp_run_metrics_samples(const fp_sample *samples, size_t n, int time_reconstructed,
                                 const fp_metrics_options *opt, fp_run *run, fp_window_info *win,
                                 fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
