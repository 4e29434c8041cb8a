/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_RUN_H
#define FREQPILOT_RUN_H

/*
 * A run: one execution of a workload at one requested SM clock, reduced to
 * per-run metrics. Every input format ends up as a list of runs, which
 * aggregate.h turns into per (gpu, app, clock) statistics.
 */

#include <stdint.h>

#include "freqpilot/error.h"
#include "freqpilot/reader.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Data-quality flags. Names (fp_flag_name) are the `flags` vocabulary of aggregated.csv. */
typedef enum fp_flag {
    FP_FLAG_CLOCK_NOT_HELD = 1u << 0,   /* SM clock reached differs from the requested clock */
    FP_FLAG_THROTTLED = 1u << 1,        /* power/thermal clock-event reasons during the window */
    FP_FLAG_COUNTER_MISMATCH = 1u << 2, /* energy counter vs integrated power beyond tolerance */
    FP_FLAG_TIME_RECONSTRUCTED =
        1u << 3, /* no timestamps in the data (dcgmi): rebuilt from the interval */
    FP_FLAG_WINDOW_DETECTED = 1u << 4,    /* window found by the active-window detector */
    FP_FLAG_WINDOW_FROM_TIMING = 1u << 5, /* window length from the run's own timing */
    FP_FLAG_WINDOW_MISMATCH = 1u << 6, /* energy and time cover different windows in the source */
    FP_FLAG_NO_ACTIVITY = 1u << 7,     /* no active stretch found: GPU idle for the whole run */
    FP_FLAG_COLD_START_DROPPED = 1u << 8, /* set by aggregate */
    FP_FLAG_OUTLIER_DROPPED = 1u << 9,    /* set by aggregate */
    FP_FLAG_HIGH_CV = 1u << 10,           /* set by aggregate */
    FP_FLAG_DRIFT = 1u << 11,             /* set by aggregate */
    FP_FLAG_NOT_CLOCK_BOUND = 1u << 12,   /* set by aggregate: time not explained by the clock */
    FP_FLAG_FAILED = 1u << 13,            /* the workload failed or its marked window is unusable */
    FP_FLAG_ENERGY_FROM_POWER = 1u << 14, /* energy = mean power x time (no counter, no samples) */
    FP_FLAG_GPU_MISMATCH = 1u << 15,      /* telemetry names a different GPU than the run claims */
    FP_FLAG_EMPTY_WINDOW = 1u << 16,      /* set by aggregate: time or energy 0 (run dropped) */
    FP_FLAG_TIMEOUT = 1u << 17,           /* the workload was killed at its time limit (exit 124) */
    FP_FLAG_COARSE_TIMING = 1u << 18, /* the run's timing is whole seconds, > 5 % of its length */
    FP_FLAG_TIME_GAP = 1u << 19,      /* samples missing inside the window (a gap > 10 spacings) */
    FP_FLAG_COUNT_ = 20
} fp_flag;

const char *fp_flag_name(unsigned flag_bit);
/* Writes the set flags as "a;b;c" (empty string when none). Returns the length. */
int fp_flags_format(uint32_t flags, char *buf, int size);

typedef struct fp_run {
    /* The strings are never NULL ("" when unknown). In a run list they belong to the list
     * (fp_run_list_push copies them); a run being built may point anywhere (fp_run_buf). */
    const char *gpu;          /* short name: V100, A100, H100, or the device name */
    const char *gpu_name;     /* the device's full name where the input states it
                                 ("NVIDIA A100-SXM4-80GB"), "" when unknown: gpu_specs.h facts */
    const char *app;          /* workload name as given (case kept) */
    double freq_mhz;          /* requested SM clock */
    long run_index;           /* position in the sweep (1 = first), -1 when unknown */
    int repetition;           /* repetition at this clock (1..), -1 when unknown */
    double start_utc;         /* epoch seconds, NAN when unknown */
    double time_s;            /* duration of the window */
    double energy_j;          /* energy over the same window */
    double power_w;           /* mean power over the window */
    double energy_counter_j;  /* counter delta over the window, NAN when absent */
    double energy_integral_j; /* trapezoid integral of power over the window, NAN when absent */
    double sm_clock_mhz;      /* mean SM clock reached in the window */
    double gpu_util_pct;
    double sm_active;
    double dram_active;
    double tensor_active;
    double fp_active; /* fp32/2 + fp64 (+ fp16) activity as in FGCS 2023; NAN when absent */
    double temp_c;
    double throttled_frac; /* fraction of window samples with power/thermal reasons set */
    long samples;          /* telemetry samples in the window (0 for table rows) */
    uint32_t flags;        /* fp_flag bits */
    const char *source;    /* file (and line) the run came from */
} fp_run;

/* Initialises every numeric field to NAN / -1 and strings to "". */
void fp_run_init(fp_run *run);

/*
 * A run with room for its strings, for building one: fp_run_buf_init does fp_run_init and
 * points the run's strings at the (empty) buffers; fill them (snprintf(b.gpu, sizeof b.gpu,
 * ...)), then fp_run_list_push(list, &b.run, err) copies them into the list.
 */
typedef struct fp_run_buf {
    fp_run run;
    char gpu[64], gpu_name[64], app[64], source[256];
} fp_run_buf;
void fp_run_buf_init(fp_run_buf *b);

/* The list owns its runs' strings: one copy of each distinct gpu, gpu_name and app (a fleet's
 * million runs name a few hundred), one of each source. A list zeroed ({0}) is empty. */
struct fp_strtab;
typedef struct fp_run_list {
    fp_run *items;
    size_t len, cap;
    struct fp_strtab *strings; /* the runs' strings (src/util/strtab.h) */
} fp_run_list;

/* Appends a copy of run, its strings copied into the list. */
fp_status fp_run_list_push(fp_run_list *list, const fp_run *run, fp_error *err);
void fp_run_list_free(fp_run_list *list);

typedef struct fp_load_options {
    fp_format format;           /* FP_FMT_AUTO to detect */
    fp_ts_options ts;           /* passed to time-series readers */
    double counter_tolerance;   /* counter vs integral relative tolerance (default 0.05) */
    double clock_tolerance_mhz; /* |reached - requested| beyond this flags clock_not_held (default
                                   30) */
    const char
        *gpu_override; /* names for a raw telemetry file given alone; NULL = from data/name */
    const char *app_override;
    double freq_override_mhz; /* NAN = from the name or the data */
    const fp_diag *diag;
} fp_load_options;

void fp_load_options_init(fp_load_options *opt);

/*
 * Loads every run found at path (a file or a folder) and appends them to out.
 * A single raw telemetry file (nvidia-smi CSV, dcgmi, telemetry.csv) is one run
 * whose window comes from the active-window detector. Files that cannot be
 * used inside a folder layout (e.g. a corrupt profile) are skipped with a
 * warning through opt->diag; a file given directly that cannot be used is an error.
 */
fp_status fp_runs_load(const char *path, const fp_load_options *opt, fp_run_list *out,
                       fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
