/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_READER_H
#define FREQPILOT_READER_H

/*
 * Streaming telemetry readers. A file is never read whole into memory: the
 * reader hands out one sample at a time from a fixed-size buffer.
 *
 * Time-series formats (one file = one series of samples):
 *   FP_FMT_SMI_CSV    nvidia-smi --query-gpu ... --format=csv[,noheader][,nounits]
 *   FP_FMT_DCGMI      dcgmi dmon tables
 *   FP_FMT_TELEMETRY  freqpilot's own telemetry.csv (docs/formats.md)
 * Run-level formats (a file or folder = many runs; see run.h):
 *   FP_FMT_DATASET    DATASET/ written by `freqpilot profile`
 *   FP_FMT_AIE_RESULTS  ai-inference-energy results/<ARCH>-<mode>-<APP>-<freq>-<iter> + *-perf.csv
 *   FP_FMT_AIE_JOB    ai-inference-energy results_<gpu>_<app>_job_<id>/run_*_profile.csv +
 * timing_summary.log FP_FMT_RUN_TABLE  one row per run (gpu, app|workload, freq_mhz, time_s,
 * energy_j|avg_power_w, ...)
 *
 * Each format is one fp_format_ops in the registry of src/telemetry/formats.c (format.h); a
 * value is a position in it. The constants name the formats built in; a format added later
 * has no constant and is found by name (fp_format_from_name). Every input is a regular file,
 * and every value is checked against docs/formats.md ("Impossible values") as it is read.
 */

#include <stdint.h>

#include "freqpilot/error.h"
#include "freqpilot/sample.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp_format {
    FP_FMT_AUTO = 0,
    FP_FMT_SMI_CSV,
    FP_FMT_DCGMI,
    FP_FMT_TELEMETRY,
    FP_FMT_DATASET,
    FP_FMT_AIE_RESULTS,
    FP_FMT_AIE_JOB,
    FP_FMT_RUN_TABLE,
    FP_FMT_COUNT /* the built-in formats; the registry may hold more */
} fp_format;

/* "smi-csv", "dcgmi", "telemetry", "dataset", "aie-results", "aie-job", "run-table". */
const char *fp_format_name(fp_format f);
/* Registered formats: values 1 .. fp_format_count() - 1 (0 is FP_FMT_AUTO). */
int fp_format_count(void);
/* Returns FP_FMT_AUTO for "auto", the format of a name or an alias ("nvidia-smi"), and -1
 * for an unknown name. */
int fp_format_from_name(const char *name);

/*
 * Detects the format of a file or folder by content (never by extension
 * alone): the first bytes of a file, the names found in a folder. A file with
 * NUL bytes, mixed formats, or nothing recognisable is an error naming the
 * file, the line and what was expected.
 */
fp_status fp_detect_format(const char *path, fp_format *out, fp_error *err);

typedef struct fp_ts_options {
    /* dcgmi rows carry no timestamp: seconds between rows; 0 = infer it
     * (from the energy counter and power, else 0.1 s default) and flag it. */
    double interval_s;
    /* Which GPU/entity to keep when a file holds several: -1 = the first
     * one seen (others are skipped and counted in fp_ts_info.rows_other_entity). */
    int gpu_index;
    const fp_diag *diag; /* warnings; may be NULL */
} fp_ts_options;

typedef struct fp_ts_info {
    fp_format format;
    char gpu_name[128];       /* from the data when present ("NVIDIA A100-PCIE-40GB"), else "" */
    int time_reconstructed;   /* 1 when t_s was rebuilt from an interval (dcgmi) */
    double interval_s;        /* interval used for reconstruction, or the median spacing */
    double start_utc;         /* epoch seconds of the first sample, NAN when unknown */
    long rows;                /* samples returned so far */
    long rows_skipped;        /* repeated headers, units lines, blank and trailing message lines */
    long rows_other_entity;   /* rows of other GPUs/entities that were filtered out */
    uint64_t columns_present; /* bit i set when fp_col i appeared in the header */
} fp_ts_info;

typedef struct fp_ts_reader fp_ts_reader;

/* Opens a time-series file. fmt may be FP_FMT_AUTO. */
fp_status fp_ts_open(const char *path, fp_format fmt, const fp_ts_options *opt, fp_ts_reader **out,
                     fp_error *err);
/* Like fp_ts_open on a memory buffer (fuzzers, tests); name is used in messages. */
fp_status fp_ts_open_mem(const void *data, size_t len, const char *name, fp_format fmt,
                         const fp_ts_options *opt, fp_ts_reader **out, fp_error *err);
/* Returns 1 with *s filled, 0 at the end, or a negative fp_status with err set. */
int fp_ts_next(fp_ts_reader *r, fp_sample *s, fp_error *err);
/*
 * Fills up to n samples (n >= 1) in one call, the same samples fp_ts_next would
 * return one at a time: the count (>= 1), 0 at the end, or a negative
 * fp_status with err set. An error met after some samples were filled is
 * returned by the next call (fp_ts_next or fp_ts_next_batch), after them.
 * Calls of the two may be mixed.
 */
int fp_ts_next_batch(fp_ts_reader *r, fp_sample *s, int n, fp_error *err);
/* Rewinds to the first sample (for two-pass consumers). */
fp_status fp_ts_rewind(fp_ts_reader *r, fp_error *err);
const fp_ts_info *fp_ts_get_info(const fp_ts_reader *r);
const char *fp_ts_path(const fp_ts_reader *r);
void fp_ts_close(fp_ts_reader *r);

#ifdef __cplusplus
}
#endif
#endif
