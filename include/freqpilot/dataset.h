/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_DATASET_H
#define FREQPILOT_DATASET_H

/*
 * freqpilot's own dataset (docs/formats.md), written by `freqpilot profile` and
 * read by fp_runs_load (FP_FMT_DATASET):
 *
 *   DATASET/manifest.json
 *   DATASET/<gpu>/<app>/<freq_mhz>/<run>/telemetry.csv
 *   DATASET/<gpu>/<app>/<freq_mhz>/<run>/run.json
 *
 * <freq_mhz> is the requested clock as an integer ("1410"); <run> is the
 * repetition at that clock ("1", "2", ...; warm-up runs "w1", "w2", ...).
 *
 * manifest.json keys (numbers that are unknown are written as null):
 *   "format"          "freqpilot-dataset"
 *   "format_version"  1
 *   "gpu"             { "name": "NVIDIA A100-PCIE-40GB", "short": "A100", "uuid": "GPU-...",
 *                       "driver": "550.54.15" }
 *   "app"             workload name
 *   "command"         the command line that was run for each run
 *   "clocks_mhz"      [ requested clocks, in the order given ]
 *   "runs_per_clock"  measured repetitions per clock
 *   "warmup_runs"     discarded warm-up runs per clock
 *   "order"           "interleaved" | "random" | "descending" | "ascending"
 *   "seed"            seed of the random order
 *   "tool_version"    freqpilot version
 *   "created_utc"     ISO-8601 UTC time the sweep started
 *
 *   "gpu"."mig"       "disabled" | "enabled" (absent or "" = unknown)
 *
 * run.json keys (times in seconds; null = unknown):
 *   "gpu", "app"              as in the manifest ("gpu" is the short name)
 *   "requested_clock_mhz"     clock asked for
 *   "achieved_clock_mhz"      clock read back after locking (mean SM clock of the run)
 *   "repetition"              1.. at this clock
 *   "warmup"                  true for a discarded warm-up run
 *   "sweep_position"          1-based position of the run in the whole sweep
 *   "start_monotonic_s", "end_monotonic_s"   host CLOCK_MONOTONIC at start/end of the run
 *   "start_utc", "end_utc"    ISO-8601 UTC ("2025-07-09T01:17:36.754Z")
 *   "start_utc_s", "end_utc_s"  the same as epoch seconds
 *   "wall_time_s"             end - start of the whole process (model loading included)
 *   "window_start_s", "window_end_s"  marked inference window on the t_s axis of
 *                             telemetry.csv (null when the workload marked none)
 *   "window_source"           "marker" (stdout marker lines), "pipe", or "none"
 *   "exit_status"             the workload's exit status (0 = success)
 *   "window_error"            why the marked window is unusable (markers that arrived
 *                             together because the workload's output was buffered, a window
 *                             shorter than one sample interval); absent/null when it is fine.
 *                             Such a run is a failed run (FP_FLAG_FAILED) for the readers.
 *   "telemetry"               file name of the series ("telemetry.csv")
 *   "gpu_name", "gpu_uuid", "driver", "mig", "host"   the GPU and node the run was
 *                             measured on (absent in older datasets)
 */

#include <stddef.h>

#include "freqpilot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP_DATASET_FORMAT "freqpilot-dataset"
#define FP_DATASET_FORMAT_VERSION 1
#define FP_DATASET_MAX_CLOCKS 512
/* The highest clock a dataset may name (docs/formats.md, "Impossible values"). */
#define FP_DATASET_MHZ_MAX 10000.0

typedef struct fp_dataset_manifest {
    char gpu_name[128];
    char gpu_short[64];
    char gpu_uuid[96];
    char driver[64];
    char app[64];
    char command[2048];
    double clocks_mhz[FP_DATASET_MAX_CLOCKS];
    size_t n_clocks;
    int runs_per_clock;
    int warmup_runs;
    char order[32];
    unsigned long long seed;
    char tool_version[32];
    double created_utc; /* epoch seconds, NAN = unknown */
    /* Added for cluster sweeps (docs/cluster.md): "gpu": {"mig": ...}; "" = unknown. */
    char mig[32]; /* "disabled", "enabled", "" (unknown) */
    /* "simulated": true: recorded by the simulated backend (profile --backend sim); every output
     * made from the dataset is labelled SIMULATED DATA. Absent (0) for hardware. */
    int simulated;
} fp_dataset_manifest;

typedef struct fp_run_record {
    char gpu[64];
    char app[64];
    double requested_clock_mhz;
    double achieved_clock_mhz;
    int repetition;
    int warmup;
    long sweep_position;
    double start_monotonic_s, end_monotonic_s;
    double start_utc_s, end_utc_s; /* epoch seconds */
    double wall_time_s;
    double window_start_s, window_end_s; /* NAN when not marked */
    char window_source[16];
    int exit_status;
    char window_error[256]; /* "" = the window (if any) is usable */
    char telemetry[64];
    /*
     * The GPU the run was measured on (run.json "gpu_name", "gpu_uuid", "driver", "mig",
     * "host"); "" = not recorded (older datasets). The reader compares name, driver and MIG
     * with the manifest (docs/cluster.md: heterogeneity).
     */
    char gpu_name[128];
    char gpu_uuid[96];
    char driver[64];
    char mig[32];
    char host[64];
} fp_run_record;

void fp_dataset_manifest_init(fp_dataset_manifest *m);
void fp_run_record_init(fp_run_record *r);

/* A run that measured nothing usable: the workload failed or its window is unusable. */
static inline int fp_run_record_failed(const fp_run_record *r)
{
    return r->exit_status != 0 || r->window_error[0] != '\0';
}

/* Writes DATASET/manifest.json atomically (creates the folder when missing). */
fp_status fp_dataset_write_manifest(const char *dataset_dir, const fp_dataset_manifest *m,
                                    fp_error *err);
/*
 * Writes DATASET/manifest.json only when none exists (safe when several tasks start at once:
 * the file is linked into place, never replaced). *created = 1 when this call wrote it, 0 when
 * another one was there (the caller then reads and compares it).
 */
fp_status fp_dataset_create_manifest(const char *dataset_dir, const fp_dataset_manifest *m,
                                     int *created, fp_error *err);

/*
 * Heterogeneity: NULL when a run's recorded GPU (name, driver, MIG) agrees with the manifest
 * (unrecorded values agree with anything), else what differs ("GPU model", "driver", "MIG
 * mode"). Fills why (may be NULL) with "run has X, dataset has Y".
 */
const char *fp_dataset_gpu_mismatch(const fp_dataset_manifest *m, const fp_run_record *r, char *why,
                                    size_t why_size);

/* Writes path (a run.json) atomically. */
fp_status fp_dataset_write_run_json(const char *path, const fp_run_record *r, fp_error *err);

fp_status fp_dataset_read_manifest(const char *path, fp_dataset_manifest *m, fp_error *err);
fp_status fp_dataset_read_run_json(const char *path, fp_run_record *r, fp_error *err);

/*
 * Builds DATASET/<gpu>/<app>/<freq_mhz>/<run> into buf and, when create is
 * set, makes the folders. Warm-up runs are named "w<repetition>".
 */
fp_status fp_dataset_run_dir(char *buf, size_t size, const char *dataset_dir,
                             const fp_run_record *r, int create, fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
