/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_SWEEP_H
#define FREQPILOT_SWEEP_H

/*
 * The sweep runner behind `freqpilot profile` (docs/profile.md): the plan (clocks, order,
 * warm-ups, baseline revisits), the per-run loop (lock + read back, workload or simulated
 * workload, sampling, telemetry.csv + run.json written atomically), resume (a run whose
 * run.json exists is done) and clock safety through the clock guard.
 */

#include <stddef.h>
#include <stdint.h>

#include "freqpilot/error.h"
#include "freqpilot/gpu.h"
#include "freqpilot/run.h"
#include "freqpilot/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp_sweep_order {
    FP_ORDER_RANDOM = 0,
    FP_ORDER_INTERLEAVED,
    FP_ORDER_DESCENDING,
} fp_sweep_order;

/* "random", "interleaved", "descending"; -1 when unknown. */
int fp_sweep_order_from_name(const char *name);
const char *fp_sweep_order_name(fp_sweep_order o);

/*
 * Clock list: "all", "1410,1200,..." or "MIN:MAX[:STEP]" (STEP 0/absent = every supported
 * clock in the range). Each clock is snapped to a supported one (fp_gpu_snap_clock);
 * duplicates are removed; the result is sorted high to low.
 */
fp_status fp_sweep_parse_clocks(const char *spec, const fp_gpu_info *info, unsigned *out,
                                size_t max, size_t *n, fp_error *err);

typedef struct fp_sweep_item {
    unsigned clock_mhz;
    int repetition; /* 1.. per clock (warm-ups count separately) */
    int warmup;
    int baseline_revisit; /* an extra measured run of the baseline clock */
} fp_sweep_item;

/*
 * The run order. Warm-ups of a clock come right before its first measured run (interleaved:
 * a warm-up round first). random: measured runs shuffled with seed; every baseline_every
 * runs (0 = never) an extra run of the baseline (highest) clock is inserted.
 * *items is malloc'ed.
 */
fp_status fp_sweep_plan(const unsigned *clocks, size_t n_clocks, int runs, int warmup,
                        fp_sweep_order order, uint64_t seed, int baseline_every,
                        fp_sweep_item **items, size_t *n_items, fp_error *err);

typedef struct fp_sweep_event {
    size_t index, total; /* 0-based position in the plan, plan length */
    const fp_sweep_item *item;
    int skipped;  /* done in an earlier session (resume) */
    int finished; /* 0 = starting, 1 = finished */
    int exit_status, timed_out, clock_not_held;
    double readback_mhz;
    double elapsed_s;
} fp_sweep_event;

/* What a dynamic plan (fp_sweep_opts.next_item) sees. */
typedef struct fp_sweep_ctx {
    const fp_gpu_info *info;
    const char *app;        /* the dataset's application name */
    const unsigned *clocks; /* the parsed clocks, high to low */
    size_t n_clocks;
} fp_sweep_ctx;

/*
 * A dynamic plan (the adaptive sweep, freqpilot/adaptive_sweep.h): called before each run with
 * its 0-based index; fills *item and *position (the 0-based sweep position, preset to index)
 * and sets *more = 1, or *more = 0 to end the sweep. An error stops the sweep (clocks are
 * restored).
 */
typedef fp_status (*fp_sweep_next_fn)(void *user, const fp_sweep_ctx *ctx, size_t index,
                                      fp_sweep_item *item, size_t *position, int *more,
                                      fp_error *err);

typedef struct fp_sweep_opts {
    const fp_gpu_backend *be;
    const char *gpu_id; /* NULL = "0" */
    const char *clocks; /* NULL = "all" */
    int runs, warmup;
    double interval_s;
    double cooldown_s;
    fp_sweep_order order;
    uint64_t seed;
    int baseline_every;
    const char *app; /* NULL = fp_sweep_app_name's default */
    const char *out_dir;
    int no_clock_control;
    double run_timeout_s;
    int stop_on_failure;
    int force;
    const char *state_dir; /* NULL = default */
    int sampler_dcgmi;
    const char *dcgmi_path;   /* NULL = "dcgmi" in PATH */
    const char *dcgmi_fields; /* NULL = the default profiling fields */
    char *const *argv;        /* the workload command, or NULL with sim_workload */
    const fp_sim_workload *sim_workload;
    const char *command_line; /* for the manifest and state file */
    /*
     * Cluster sweeps (docs/cluster.md). task_id >= 0: run only task task_id's slice of the
     * clock list (clocks_per_task clocks, high to low: clocks [id*K, id*K+K)), in an order
     * shuffled with seed + task_id; the manifest still records the whole sweep and is
     * compared by GPU model/driver/MIG (not UUID: tasks run on different nodes).
     */
    int task_id;         /* -1 = the whole sweep (default) */
    int clocks_per_task; /* K >= 1 with task_id */
    fp_diag diag;
    void (*event)(void *user, const fp_sweep_event *ev);
    void (*tick)(void *user); /* while a workload runs */
    void *user;
    fp_sweep_next_fn next_item; /* NULL = the plan of clocks/runs/order */
    const char *order_name;     /* manifest "order"; NULL = fp_sweep_order_name(order) */
} fp_sweep_opts;

void fp_sweep_opts_init(fp_sweep_opts *o);

/*
 * The dataset's application name (buf, NUL-terminated): app when given; else the simulated
 * workload's name; else the command's name, or for an interpreter (python*, pypy*, sh, bash,
 * perl, ruby, node, ...) its script's name without the extension: `python3 -u infer.py` ->
 * "infer", `python3 -m pkg.serve` -> "pkg.serve"; `python3 -c ...` stays "python3".
 */
void fp_sweep_app_name(const char *app, const fp_sim_workload *sim, char *const *argv, char *buf,
                       size_t size);

typedef struct fp_sweep_summary {
    size_t planned, done, skipped, failed, clock_not_held;
    int interrupted_sig; /* the sweep stopped on this signal (clocks already restored) */
    char gpu_short[32];
    char dataset[4096];
} fp_sweep_summary;

/*
 * Runs the sweep. Clocks are restored before it returns on every path; when a signal
 * interrupted it, sum->interrupted_sig is set and the caller should re-raise it
 * (fp_clockguard_reraise) after its own cleanup. A workload failure is an error only with
 * stop_on_failure.
 */
fp_status fp_sweep_run(const fp_sweep_opts *o, fp_sweep_summary *sum, fp_error *err);

/*
 * Live-sweep lock files: DATASET/.locks/<host>-<pid>-<gpu>.json, written by fp_sweep_run
 * while it runs (removed at the end): {"pid", "host", "gpu", "clocks_mhz", "slurm_job_id",
 * "slurm_array_job_id", "slurm_array_task_id"}. `freqpilot status` reads them.
 */
#define FP_SWEEP_LOCK_DIR ".locks"

/* Number of tasks a sweep of n_clocks clocks splits into with K clocks per task. */
static inline int fp_sweep_n_tasks(size_t n_clocks, int k)
{
    return k > 0 ? (int)((n_clocks + (size_t)k - 1) / (size_t)k) : 1;
}

/*
 * The measured runs of `freqpilot profile --backend sim --workload WL --gpu GPU --clocks all
 * --runs RUNS --seed SEED`, simulated in memory (no files): same plan, device, knobs and seed;
 * each run's inference-window time and counter energy appended to out (src/profile/sim_sweep.c).
 * thermal_lag 0: the device's temperature follows its steady value at once, as the truth
 * functions (fp_sim_expected) assume; 1: as profile runs it.
 */
fp_status fp_sim_sweep_runs(const fp_sim_gpu *gpu, const fp_sim_workload *wl, int runs,
                            uint64_t seed, int thermal_lag, fp_run_list *out, fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
