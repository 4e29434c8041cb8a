/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_TELEMETRY_LAYOUTS_H
#define FP_TELEMETRY_LAYOUTS_H

/*
 * Internal entry points of the run-level loaders (runtable.c, aie.c,
 * dataset.c) behind fp_runs_load. The *_mem variants parse a buffer and
 * exist for the fuzz harnesses and the unit tests.
 */

#include <stddef.h>

#include "freqpilot/metrics.h"
#include "freqpilot/run.h"

/* ---- runs_load.c ---- */

/*
 * One run (b->run, its strings in b's buffers when it sets them) from one telemetry file:
 * opens it (fmt may be FP_FMT_AUTO), computes the metrics with mopt, ORs the reader's
 * findings into run->flags and checks the GPU named in the data against run->gpu
 * (FP_FLAG_GPU_MISMATCH). Fills run->start_utc, and gpu and gpu_name when empty, from the data.
 */
fp_status fp_run_from_telemetry(const char *path, fp_format fmt, const fp_metrics_options *mopt,
                                const fp_load_options *opt, fp_run_buf *b, fp_error *err);

/* Sets b's source to path (":line" appended when line > 0), keeping the end of a long path. */
void fp_run_set_source(fp_run_buf *b, const char *path, long line);

/* Short GPU name from a device or architecture name: "NVIDIA A100-PCIE-40GB" -> "A100",
 * "GV100" -> "V100", "h100" -> "H100"; otherwise a copy of name. */
void fp_gpu_short_name(const char *name, char *out, size_t size);

/* ---- runtable.c ---- */

fp_status fp_runtable_load(const char *path, const fp_load_options *opt, fp_run_list *out,
                           fp_error *err);
fp_status fp_runtable_load_mem(const void *data, size_t len, const char *name,
                               const fp_load_options *opt, fp_run_list *out, fp_error *err);

/* ---- aie.c ---- */

typedef struct fp_aie_name {
    char arch[16]; /* GV100 */
    char gpu[16];  /* V100 */
    char mode[32]; /* baseline */
    char app[64];  /* LSTM (as in the name) */
    double freq_mhz;
    int iter; /* 0-based */
} fp_aie_name;

/* <ARCH>-<mode>-<APP>-<freq>-<iter>: 1 and *out filled when name matches. */
int fp_aie_parse_profile_name(const char *name, fp_aie_name *out);
/* <ARCH>-<mode>-<app>-perf.csv: 1 when it matches; app is lowercase with hyphens. */
int fp_aie_parse_perf_name(const char *name, char *arch, size_t arch_size, char *mode,
                           size_t mode_size, char *app, size_t app_size);
/* results_<gpu>_<app>_job_<id> */
int fp_aie_parse_job_dir(const char *name, char *gpu, size_t gpu_size, char *app, size_t app_size,
                         long *job_id);
/*
 * run_<run_id>_freq_<MHz>_profile.csv, the run id as the original scripts write it:
 * "<n>_<rep>" (a DVFS sweep: global run number, repetition), "baseline_<rep>" or "<rep>"
 * (baseline and custom-clock modes).
 */
typedef struct fp_aie_job_name {
    char run_id[48]; /* "3_02" */
    long run_no;     /* 3; -1 for baseline and custom-clock runs */
    int rep;         /* 2 */
    double freq_mhz;
} fp_aie_job_name;
int fp_aie_parse_job_profile(const char *name, fp_aie_job_name *out);

fp_status fp_aie_results_load(const char *dir, const fp_load_options *opt, fp_run_list *out,
                              fp_error *err);
fp_status fp_aie_job_load(const char *dir, const fp_load_options *opt, fp_run_list *out,
                          fp_error *err);

/* One row of timing_summary.log. */
typedef struct fp_timing_row {
    char run_id[48]; /* "3_02", "baseline_01" */
    double freq_mhz; /* NAN when the cell is empty */
    double duration_s;
    long exit_code; /* 0 when the column is absent or empty */
    char status[32];
    long line;
} fp_timing_row;

/*
 * Parses timing_summary.log as the original scripts write it: the header
 * `run_id,frequency_mhz,duration_seconds,exit_code,status` in a comment ("# Format: ...") or
 * as a plain first line, string run ids, durations in seconds (whole seconds from `date +%s`),
 * exit status 124 with status "timeout" for a run killed at its time limit. A run id given
 * twice, an impossible value or a status that contradicts the exit status is an error.
 * *rows is malloc'ed (free it); errors name name:line. *whole_s (may be NULL) is 1 when every
 * duration is a whole number of seconds (the timing's resolution is 1 s).
 */
fp_status fp_timing_summary_parse_mem(const void *data, size_t len, const char *name,
                                      fp_timing_row **rows, size_t *n, int *whole_s, fp_error *err);
fp_status fp_timing_summary_parse(const char *path, fp_timing_row **rows, size_t *n, int *whole_s,
                                  fp_error *err);

/* Parses a perf.csv (`<freq>,<seconds>` per line, no header) into at most max seconds values;
 * *whole_s (may be NULL) as for timing_summary.log. */
fp_status fp_perf_csv_parse_mem(const void *data, size_t len, const char *name, double *seconds,
                                size_t max, size_t *n, int *whole_s, fp_error *err);

/* The resolution of a timing (1 s for whole seconds) is coarse when it exceeds this fraction
 * of the run: the run is flagged coarse_timing. */
#define FP_COARSE_TIMING_FRAC 0.05

/* ---- dataset.c ---- */

fp_status fp_dataset_load(const char *dir, const fp_load_options *opt, fp_run_list *out,
                          fp_error *err);

#endif
