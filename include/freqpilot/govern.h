/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_GOVERN_H
#define FREQPILOT_GOVERN_H

/*
 * The governor (docs/govern.md): an online phase detector, clock policies, a deterministic
 * replay on the simulated GPU, a workload predictor, and the control loop of the daemon with
 * its Prometheus exporter.
 *
 *   samples -> fp_phase_detector -> fp_policy -> requested SM clock -> backend (via clockguard)
 */

#include <stddef.h>
#include <stdint.h>

#include "freqpilot/error.h"
#include "freqpilot/gpu.h"
#include "freqpilot/sample.h"
#include "freqpilot/serving.h"
#include "freqpilot/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Phase detection (src/govern/phase.c) ---- */

typedef enum fp_phase {
    FP_PHASE_IDLE = 0, /* nothing runs on the GPU */
    FP_PHASE_COMPUTE,  /* SM/tensor activity dominates: the clock matters */
    FP_PHASE_MEMORY,   /* DRAM activity dominates: the clock matters little */
    FP_PHASE_HOST,     /* the GPU is busy only part of the time: the host is the bottleneck */
    FP_PHASE_COUNT
} fp_phase;

/* "idle", "compute", "memory", "host". */
const char *fp_phase_name(fp_phase p);
/* Inverse of fp_phase_name (also "compute-bound", "memory-bound", "host-bound"); -1 unknown. */
int fp_phase_from_name(const char *name);

typedef struct fp_phase_opts {
    double smooth_s;      /* time constant of the exponential smoothing of the inputs (0.1) */
    double idle_util_pct; /* below: idle (5) */
    double idle_act;      /* and SM activity below this (0.03) */
    double host_act;      /* SM and DRAM activity both below: host-bound (0.2) */
    double host_util_pct; /* utilisation-only fallback: below = host-bound (60) */
    double mem_ratio;     /* memory-bound when dram_active > mem_ratio * compute activity (0.8) */
    double mem_util_pct;  /* fallback: memory-bound when mem_util_pct >= this (45) */
    double hysteresis;    /* thresholds move this much (relative) in favour of the current class */
    double confirm_s;     /* a new class must hold this long before it is taken (0.15) */
    double min_dwell_s;   /* and the current class must have lasted this long (0.3) */
} fp_phase_opts;

void fp_phase_opts_default(fp_phase_opts *o);

/* Smoothed inputs of the detector; NAN = absent. */
typedef struct fp_phase_features {
    double sm_active, tensor_active, dram_active, gpu_util_pct, mem_util_pct, power_w;
} fp_phase_features;

/* Picks the inputs out of a telemetry sample. */
void fp_phase_features_from_sample(const fp_sample *s, fp_phase_features *f);
/*
 * One classification without memory. current biases the thresholds by opts->hysteresis
 * towards itself (pass FP_PHASE_COUNT for none). *fallback (may be NULL) = 1 when only the
 * utilisations were available.
 */
fp_phase fp_phase_classify(const fp_phase_opts *o, const fp_phase_features *f, fp_phase current,
                           int *fallback);

typedef struct fp_phase_detector {
    fp_phase_opts opts;
    fp_phase_features ema;
    int have_ema;
    double last_t_s;
    fp_phase current, candidate;
    double current_since_s, candidate_since_s;
    int fallback; /* last classification used the utilisation-only fallback */
    unsigned long changes;
} fp_phase_detector;

void fp_phase_init(fp_phase_detector *d, const fp_phase_opts *o); /* o NULL = defaults */
/* Feeds the sample taken at t_s; returns 1 when the detected phase changed. */
int fp_phase_update(fp_phase_detector *d, double t_s, const fp_sample *s);

/* ---- Policies: a registry of governors (src/govern/policy*.c; docs/govern.md, "Adding a policy")
 * ----
 *
 * A policy is built like a Linux cpufreq governor: its own file holds an fp_policy_ops (name,
 * its settings = "tunables", and hooks) and a struct that starts with the shared part,
 * struct fp_policy, followed by the policy's tunables and state. src/govern/policies.def
 * lists the policies (one line each). Everything outside that file reaches a policy through
 * this interface: created by name, configured by "key=value" settings, started, asked.
 */

/* What the serving engine reports (docs/govern.md, "Serving signals"); NAN = not known. */
typedef struct fp_serving_signals {
    int valid;                    /* 0: no fresh scrape (missing, stale, unparseable) */
    double waiting;               /* requests queued, not yet scheduled */
    double running;               /* requests in the batch */
    double waiting_prompt_tokens; /* prompt tokens not yet prefilled (NAN: unknown) */
    double prompt_tok_s;          /* prompt (prefill) tokens per second, last interval */
    double gen_tok_s;             /* generated tokens per second, last interval */
    double requests_s;            /* requests per second (arrivals or completions) */
    double ttft_p99_s;            /* p99 time to first token in the last interval */
    double tbt_p99_s;             /* p99 time between tokens in the last interval */
    double kv_tokens;             /* tokens held in the KV cache */
    double kv_usage;              /* or the share of the cache in use, 0..1 (NAN: unknown) */
} fp_serving_signals;

/* What the policy sees at each decision. */
typedef struct fp_policy_input {
    double t_s;
    fp_phase phase;
    int phase_changed;
    const fp_sample *sample;
    double rate; /* throughput the workload reports (work units per second); NAN when none */
    const fp_serving_signals *serving; /* NULL: no serving engine is watched */
} fp_policy_input;

typedef struct fp_policy fp_policy;

typedef enum fp_tunable_type {
    FP_TUNE_MHZ = 0, /* unsigned, MHz > 0, snapped to the nearest supported clock */
    FP_TUNE_NUM,     /* double within [min, max] */
    FP_TUNE_SECONDS, /* double seconds within [min, max]; "2", "2s", "100ms", "1.5 s" */
    FP_TUNE_STR,     /* char[FP_TUNE_STR_MAX] */
} fp_tunable_type;

#define FP_TUNE_STR_MAX 256

typedef struct fp_policy_tunable {
    const char *name;
    fp_tunable_type type;
    size_t offset; /* of the field in the policy's struct */
    double min, max;
    const char *help; /* one line for --help and docs */
} fp_policy_tunable;

typedef struct fp_policy_ops {
    const char *name;    /* "phase" */
    const char *summary; /* one line */
    size_t size;         /* of the policy's struct, which starts with struct fp_policy */
    const fp_policy_tunable *tunables; /* ends with {NULL} */
    /* Fills the tunables' defaults from the shared part (clocks, f_max, f_e). */
    void (*defaults)(fp_policy *p);
    /* Checks the tunables and resets the state (called by fp_policy_start). May be NULL. */
    fp_status (*start)(fp_policy *p, fp_error *err);
    /* The SM clock to request now (0 = the default clocks). */
    unsigned (*decide)(fp_policy *p, const fp_policy_input *in);
    /* Frees what start allocated. May be NULL. */
    void (*release)(fp_policy *p);
} fp_policy_ops;

/* The shared part every policy's struct starts with. */
struct fp_policy {
    const fp_policy_ops *ops;
    unsigned clocks_mhz[FP_GPU_MAX_CLOCKS]; /* supported clocks, high to low (may be empty) */
    unsigned n_clocks;
    unsigned f_max_mhz;
    /*
     * The energy-efficient clock the defaults derive from (setting "f_e"): 0.64 x f_max
     * snapped unless set, the voltage knee of the parts in docs/simulated-gpu.md.
     */
    unsigned f_e_mhz;
    unsigned long set_mask; /* tunables set by the user (bit i = tunables[i]) */
    int started;
};

/* The registry, in policies.def order. */
size_t fp_policy_count(void);
const fp_policy_ops *fp_policy_at(size_t i);
/* By name (case-insensitive); NULL when unknown. */
const fp_policy_ops *fp_policy_find(const char *name);
/* "default, static, activity, ..." for messages. */
const char *fp_policy_names(void);

/*
 * A policy for a GPU's clock table (info NULL: no table; MHz settings are then kept as
 * given, which the CLI uses to check settings before a GPU is opened).
 */
fp_status fp_policy_new(const char *name, const fp_gpu_info *info, fp_policy **out, fp_error *err);
void fp_policy_free(fp_policy *p);
const char *fp_policy_name(const fp_policy *p);
/*
 * One setting: a tunable of the policy or "f_e" (every policy: moves the defaults of the
 * tunables not set by the user). Errors name the policy, the key and what was expected.
 */
fp_status fp_policy_set(fp_policy *p, const char *key, const char *value, fp_error *err);
fp_status fp_policy_set_num(fp_policy *p, const char *key, double value, fp_error *err);
/* "key=value[,key=value...]" through fp_policy_set. */
fp_status fp_policy_configure(fp_policy *p, const char *spec, fp_error *err);
/* 1 when the policy has this tunable (or key is "f_e"). */
int fp_policy_has(const fp_policy *p, const char *key);
/* A numeric or MHz tunable's value (NAN when absent or a string). */
double fp_policy_get_num(const fp_policy *p, const char *key);
/* "key=value,..." of every tunable (current values) into buf. */
void fp_policy_describe(const fp_policy *p, char *buf, size_t size);
/* "2", "2s", "2 s", "100ms", "50us", "1min" into seconds: 0, or -1 when not a duration. */
int fp_parse_duration(const char *text, double *seconds);
/* Checks the settings and resets the state; call again to restart from scratch. */
fp_status fp_policy_start(fp_policy *p, fp_error *err);
/* The SM clock to request now (0 = reset to the default clocks). Needs fp_policy_start. */
unsigned fp_policy_decide(fp_policy *p, const fp_policy_input *in);

/*
 * Reads an optimize JSON (docs/formats.md: results[] with gpu, app, objective, max_slowdown,
 * freq_mhz) and returns the freq_mhz of the first row matching gpu and app (NULL = any);
 * among several, the row whose max_slowdown equals max_slowdown (NAN = any). Only rows whose
 * verdict is "deployable" or that keep the baseline clock are taken; the error names the
 * verdict of a row that was skipped.
 */
fp_status fp_policy_static_from_json(const char *path, const char *gpu, const char *app,
                                     double max_slowdown, unsigned *freq_mhz, fp_error *err);

/* ---- Phase clocks (src/govern/phase_plan.c) ---- */

/*
 * Sets the phase policy's clocks (its tunables idle, compute, memory, host; snapped). An
 * error when p is not a policy with those tunables.
 */
fp_status fp_policy_set_phase_clocks(fp_policy *p, const unsigned mhz[FP_PHASE_COUNT],
                                     fp_error *err);

/*
 * Learns phase clocks from the simulated GPU's model curves for wl into p (a phase policy):
 * every inference phase of wl is classified from its activities at f_max, and one clock per
 * class is chosen by fp_phase_plan to minimise the window energy subject to a total slowdown
 * <= budget (vs f_max). Classes wl never shows: idle and host keep f_e, compute f_max,
 * memory the compute clock.
 */
fp_status fp_policy_learn_phase_clocks_sim(fp_policy *p, const fp_sim_gpu *gpu,
                                           const fp_sim_workload *wl, double budget,
                                           const fp_phase_opts *popts, fp_error *err);

/*
 * Per-class clocks that minimise total energy subject to total time <= limit_s: an exact
 * multiple-choice knapsack over the classes (Pareto fronts of (time, energy) merged class by
 * class), not independent per-class choices. T and E are [FP_PHASE_COUNT][n] (row-major,
 * seconds and joules per class at clocks_mhz[k]); used[c] = 0 skips a class. pick[c] gets
 * the index of the chosen clock (0 for unused classes); when no plan fits, the fastest one.
 * Returns 1 when a plan fits the limit, 0 when the fastest was taken, -1 out of memory.
 */
int fp_phase_plan(const double *T, const double *E, const int used[FP_PHASE_COUNT], unsigned n,
                  double limit_s, unsigned pick[FP_PHASE_COUNT]);

/* ---- Phase clocks from recorded sweeps (src/govern/sweep.c) ---- */

#define FP_SWEEP_MAX_CLOCKS 256

/*
 * What a sweep dataset says per phase class: every measured run's telemetry inside its
 * marked inference window is fed through the phase detector (fresh per run, fed from the
 * run's first sample), and each sample interval's seconds and energy (power x dt) go to the
 * class detected then. Means over the runs at each clock.
 */
typedef struct fp_phase_sweep {
    char gpu[64], app[64];
    unsigned n_clocks;
    unsigned clocks_mhz[FP_SWEEP_MAX_CLOCKS];        /* swept clocks, high to low */
    unsigned runs[FP_SWEEP_MAX_CLOCKS];              /* measured runs used per clock */
    double t_s[FP_PHASE_COUNT][FP_SWEEP_MAX_CLOCKS]; /* mean seconds per run in the class */
    double e_j[FP_PHASE_COUNT][FP_SWEEP_MAX_CLOCKS]; /* mean joules per run in the class */
    double time_s[FP_SWEEP_MAX_CLOCKS], energy_j[FP_SWEEP_MAX_CLOCKS]; /* window totals */
} fp_phase_sweep;

/*
 * Reads DATASET/<gpu>/<app>/<MHz>/<run>/{run.json,telemetry.csv} (warm-ups, failed runs
 * and runs without a marked window are skipped; diag warns about unreadable ones). gpu or
 * app NULL = the only one in the dataset (an error when there are several).
 */
fp_status fp_phase_sweep_load(const char *dataset, const char *gpu, const char *app,
                              const fp_phase_opts *popts, fp_phase_sweep *out, const fp_diag *diag,
                              fp_error *err);

/*
 * Phase clocks from a sweep: fp_phase_plan over the sweep's per-class seconds and joules,
 * limit = window time at the highest swept clock x (1 + budget). Classes with under 1 % of
 * the window at every clock keep their defaults (idle/host: f_e, memory: as compute,
 * compute: f_max). Clocks are snapped to p's table.
 */
fp_status fp_policy_learn_phase_clocks_sweep(fp_policy *p, const fp_phase_sweep *sw, double budget,
                                             fp_error *err);

/*
 * A recorded run replayed through the detector and a policy. Without a sweep nothing can be
 * said about energy: the recording ran at one clock and cannot show how the workload would
 * have reacted to another (has_estimate = 0). With a sweep of the same workload, an ESTIMATE
 * (model: each sample interval dt of class c recorded at clock f_rec takes
 * dt x t_c(f) / t_c(f_rec) at the decided clock f, at the class's mean sweep power
 * e_c(f) / t_c(f); clocks taken at the nearest swept clock, the whole-window totals used
 * where the class never appeared at f; switching latency and detection delay ignored).
 */
typedef struct fp_recorded_result {
    unsigned long samples, clock_changes;
    double share[FP_PHASE_COUNT];              /* time share per detected class */
    double mean_requested_mhz;                 /* time-weighted; 0 = default clocks */
    double recorded_time_s, recorded_energy_j; /* the recording itself (window or whole) */
    double recorded_clock_mhz;                 /* median SM clock of the recording */
    int has_estimate;
    double est_time_s, est_energy_j;           /* under the policy (estimate) */
    double est_fmax_time_s, est_fmax_energy_j; /* at the highest swept clock (estimate) */
} fp_recorded_result;

fp_status fp_replay_recorded(const fp_sample *s, size_t n, double win_start_s, double win_end_s,
                             fp_policy *policy, const fp_phase_sweep *sw, fp_recorded_result *out,
                             fp_error *err);

/* Where a streamed replay reads its samples: next gives 1 (a sample), 0 (the end) or a
 * negative fp_status; rewind goes back to the first sample. */
typedef struct fp_sample_source {
    int (*next)(void *ctx, fp_sample *s, fp_error *err);
    fp_status (*rewind)(void *ctx, fp_error *err);
    void *ctx;
} fp_sample_source;

/*
 * fp_replay_recorded over a source read twice or a few times (the median clock first, then
 * the replay), in constant memory whatever the recording's length: what `govern replay FILE`
 * uses on a trace. The same result as fp_replay_recorded on the same samples.
 */
fp_status fp_replay_recorded_stream(const fp_sample_source *src, double win_start_s,
                                    double win_end_s, fp_policy *policy,
                                    const fp_phase_sweep *sw, fp_recorded_result *out,
                                    fp_error *err);

/* ---- Replay on the simulated GPU (src/govern/replay.c) ---- */

typedef struct fp_replay_opts {
    const char *gpu;         /* "A100" (default), "V100", "H100" */
    double interval_s;       /* control period (0.05) */
    double switch_latency_s; /* a clock request takes effect this much later (0.03) */
    double budget;           /* slowdown budget vs default clocks (0.05) */
    double bias;             /* activity policy bias (0) */
    double margin;           /* least fraction of the budget the phase plan keeps back (0.05) */
    uint64_t seed;
    /* activity policy in fp_replay_compare: its energy-efficient clock f_e; 0 = the best static
     * clock within the budget (a predictor's clock: fp_pred_f_e_mhz) */
    unsigned f_e_mhz;
    int keep_trace; /* fill fp_replay_result.trace */
    /* phase policy: learn its clocks from this recorded sweep (fp_phase_sweep_load) instead
     * of the simulator's model curves; NULL = the model */
    const fp_phase_sweep *sweep;
} fp_replay_opts;

void fp_replay_opts_default(fp_replay_opts *o);

typedef struct fp_replay_point {
    double t_s;
    unsigned requested_mhz, sm_clock_mhz;
    double power_w;
    fp_phase phase;
} fp_replay_point;

typedef struct fp_replay_result {
    char policy[32];                /* "default", "static-best", "activity", "phase", "feedback" */
    double energy_j, time_s;        /* inference window */
    double energy_saving, slowdown; /* vs default clocks */
    double budget;                  /* NAN for policies without one (default) */
    unsigned static_mhz;            /* static-best: the clock */
    unsigned clock_changes;
    double mean_clock_mhz;  /* time-weighted over the window */
    fp_replay_point *trace; /* keep_trace only; free with fp_replay_result_free */
    size_t n_trace;
} fp_replay_result;

void fp_replay_result_free(fp_replay_result *r);

/*
 * One replay of wl under policy (restarted first, so one policy can be replayed several
 * times; "default" = default clocks). The workload's throughput signal for feedback is its
 * progress rate (work of the current phase per second), as a workload reporting tokens/s on
 * a pipe would give.
 */
fp_status fp_replay_run(const fp_sim_workload *wl, fp_policy *policy, const fp_replay_opts *o,
                        fp_replay_result *res, fp_error *err);

/*
 * The comparison of docs/govern.md: default clocks, the best static clock within the budget
 * (every supported clock replayed), activity, phase and feedback. res receives up to 5 rows
 * (res_cap); *n_res the number written.
 */
fp_status fp_replay_compare(const fp_sim_workload *wl, const fp_replay_opts *o,
                            fp_replay_result *res, size_t res_cap, size_t *n_res, fp_error *err);

/* ---- Serving replay on the simulated GPU (src/govern/serving_replay.c) ---- */

typedef struct fp_serving_opts {
    const char *gpu;         /* "A100" (default), "V100", "H100" */
    double interval_s;       /* control period (0.5) */
    double switch_latency_s; /* a clock request takes effect this much later (0.03) */
    double ttft_s, tbt_s;    /* the SLO: p99 time to first token (2), between tokens (0.1) */
    double attainment;       /* share of requests that must meet both (0.99) */
    double budget;           /* slowdown budget of the phase and feedback policies (0.05) */
    double drain_s;          /* after the last arrival, time given to finish (900) */
    unsigned max_batch, chunk_tokens; /* 0 = the server model's (256, 512) */
    /* slo policy: latency model file (NULL = learned from the simulator) and extra settings */
    const char *latency_model;
    const char *slo_settings;
    int keep_trace;    /* fill fp_serving_result.trace */
    int keep_requests; /* fill fp_serving_result.req */
} fp_serving_opts;

void fp_serving_opts_default(fp_serving_opts *o);

/* One control interval of a serving replay. */
typedef struct fp_serving_point {
    double t_s;
    unsigned requested_mhz; /* 0 = default clocks */
    double sm_clock_mhz, power_w, arrivals_s, waiting, running, ttft_p99_s, tbt_p99_s;
} fp_serving_point;

typedef struct fp_serving_result {
    char policy[32];     /* default, static-best, static, activity, phase, feedback, slo */
    unsigned static_mhz; /* static and static-best: the clock */
    double energy_j, time_s, busy_s;
    unsigned long requests, finished, rejected;
    unsigned long long prompt_tokens, output_tokens;
    double energy_per_token_j;     /* energy / output tokens (idle time included) */
    double energy_per_request_j;   /* energy / requests */
    double energy_saving;          /* 1 - energy per token / default clocks' */
    double ttft_p50_s, ttft_p99_s; /* over requests (unfinished: infinite) */
    double tbt_p50_s, tbt_p99_s;   /* over every token gap (within 0.1 %) */
    double attainment;             /* share of requests with TTFT <= ttft and mean TBT <= tbt */
    int meets_slo;                 /* attainment >= target, p99 TTFT <= ttft and p99 TBT <= tbt */
    unsigned long clock_changes;
    double mean_clock_mhz; /* SM clock averaged over busy time */
    fp_serving_point *trace;
    size_t n_trace;
    fp_request_result *req; /* keep_requests: per request, trace order */
} fp_serving_result;

void fp_serving_result_free(fp_serving_result *r);

/*
 * The trace served on the simulated GPU under policy (restarted first): every interval the
 * engine's signals and the interval's telemetry go through the phase detector and the policy,
 * and a changed clock takes effect switch_latency_s later. Runs until every request finished
 * or drain_s after the last arrival. Deterministic: no noise, the same trace gives the same
 * result.
 */
fp_status fp_serving_run(const fp_request *req, size_t n, fp_policy *policy,
                         const fp_serving_opts *o, fp_serving_result *res, fp_error *err);

/*
 * The comparison of docs/govern.md ("Serving"): default clocks, every supported clock static
 * (sweep[], n_sweep = the GPU's clock count, high to low), the best static clock meeting the
 * SLO ("static-best": least energy per token among them; absent when none does), activity
 * (f_e = static-best), phase (clocks learned from the llama workload for the budget), feedback
 * (the token rate, floor = llama's energy optimum) and slo (floor the same). rows[] receives
 * up to 6 results (row_cap), *n_rows how many; free each with fp_serving_result_free.
 */
fp_status fp_serving_compare(const fp_request *req, size_t n, const fp_serving_opts *o,
                             fp_serving_result *rows, size_t row_cap, size_t *n_rows,
                             fp_serving_result *sweep, size_t sweep_cap, size_t *n_sweep,
                             fp_error *err);

/* ---- Workload predictor (src/govern/predictor.c) ---- */

#define FP_PRED_NFEAT 8
#define FP_PRED_MAX_EXAMPLES 4096

typedef struct fp_pred_example {
    char app[32];
    char category[32]; /* dominant phase class of the whole window: "compute", "memory", ... */
    char gpu[32];
    double feat[FP_PRED_NFEAT];
    double best_clock_frac; /* energy-optimal clock within the budget / f_max */
} fp_pred_example;

typedef struct fp_predictor {
    double window_s; /* the features describe this first part of a run (seconds; 5) */
    size_t n;
    fp_pred_example ex[FP_PRED_MAX_EXAMPLES];
    double mean[FP_PRED_NFEAT], sd[FP_PRED_NFEAT];
} fp_predictor;

/* "llm", "diffusion", "vision", "speech", "rnn" for the built-in sim workloads; else the name.
 * (The application's domain; one app per domain in the sim, so it is not the predictor's
 * target: see fp_pred_example.category.) */
const char *fp_pred_category_of(const char *app);
/*
 * The predictor's category: the phase class (fp_phase_name) holding the most time of the
 * inference window [win_start_s, win_end_s] (NAN = whole recording), idle excluded.
 */
fp_phase fp_pred_dominant_phase(const fp_sample *s, size_t n, double win_start_s, double win_end_s);
/*
 * Features of the first window_s seconds after the GPU became busy: mean SM, tensor and
 * DRAM activity, utilisation, share of samples per phase class, power over the limit.
 */
fp_status fp_pred_features(const fp_sample *s, size_t n, double window_s, double power_limit_w,
                           double feat[FP_PRED_NFEAT], fp_error *err);
/* Examples from simulated runs of every built-in workload on every simulated GPU. */
fp_status fp_pred_examples_sim(fp_predictor *p, unsigned seeds, double window_s, double budget,
                               fp_error *err);
/*
 * Examples from a DATASET/ tree: one per measured run at the highest swept clock of each
 * (gpu, app) (what an ungoverned GPU shows first); the target clock is the swept clock of
 * least mean window energy whose mean window time is within (1 + budget) of the highest
 * clock's, as a fraction of that highest clock.
 */
fp_status fp_pred_examples_dataset(fp_predictor *p, const char *dataset, double window_s,
                                   double budget, const fp_diag *diag, fp_error *err);
void fp_pred_fit(fp_predictor *p);
/* k-nearest neighbours (k = 3) skipping examples of app exclude (NULL = none). */
void fp_pred_predict(const fp_predictor *p, const double feat[FP_PRED_NFEAT], const char *exclude,
                     char *category, size_t cat_size, double *clock_frac);

typedef struct fp_pred_eval {
    size_t n;
    double category_accuracy;     /* held-out-app: share predicted with the right category */
    double category_accuracy_run; /* held-out-run (same app, other runs allowed) */
    double majority_baseline;     /* held-out-app accuracy of always guessing the most common
                                     category of the training set (what to beat) */
    size_t n_apps, n_categories;
    double clock_mae_frac; /* mean |predicted - best| clock as a fraction of f_max */
} fp_pred_eval;
/* Leave-one-application-out evaluation. */
void fp_pred_evaluate(const fp_predictor *p, fp_pred_eval *out);
/* The predictor as JSON (docs/formats.md, "Predictor"), written atomically. */
fp_status fp_pred_save(const fp_predictor *p, const char *path, fp_error *err);
/* Reads what fp_pred_save wrote (or a `govern train -o` model, which holds it) and fits it. */
fp_status fp_pred_load(fp_predictor *p, const char *path, fp_error *err);
/*
 * Features of the first window_s seconds of wl on the simulated gpu at its default (maximum)
 * clock, as a GPU under the default clocks shows them to a governor that starts watching.
 */
fp_status fp_pred_features_sim(const fp_sim_gpu *gpu, const fp_sim_workload *wl, double window_s,
                               uint64_t seed, double feat[FP_PRED_NFEAT], fp_error *err);
/*
 * The activity policy's energy-efficient clock f_e for a workload with these features: the
 * predicted best clock (a share of f_max, k-NN) times f_max, in MHz (not snapped).
 */
unsigned fp_pred_f_e_mhz(const fp_predictor *p, const double feat[FP_PRED_NFEAT],
                         unsigned f_max_mhz);
/*
 * Watches an opened GPU at whatever clocks it runs (a sample every interval_s; simulated time
 * advances instead of sleeping on a simulated device) until it has been busy for window_s
 * seconds, and returns the features of what it saw (fp_pred_features). Waits at most
 * max_wait_s for it to become busy. Changes nothing on the GPU.
 */
fp_status fp_pred_observe(const fp_gpu_backend *be, fp_gpu *gpu, double window_s,
                          double interval_s, double max_wait_s, double feat[FP_PRED_NFEAT],
                          fp_error *err);

/* ---- Daemon (src/govern/daemon.c) and exporter (src/govern/metrics_http.c) ---- */

typedef struct fp_govern_metrics {
    /* Labels of every series (Prometheus, and Grafana's variables): the GPU's index, UUID and
     * name and the host; "" = unknown (an empty label). */
    char gpu_index[16], gpu_uuid[96], gpu_name[128], hostname[256];
    double t_s;
    unsigned requested_mhz, sm_clock_mhz;
    double power_w, energy_j;
    double baseline_energy_j; /* estimated energy at the default clocks over the same time */
    fp_phase phase;
    unsigned long decisions, clock_changes;
} fp_govern_metrics;

typedef struct fp_metrics_server fp_metrics_server;
/* Serves GET /metrics on listen ("127.0.0.1:9464", "[::1]:9464", ":9464" = every address). */
fp_status fp_metrics_server_start(fp_metrics_server **out, const char *listen, fp_error *err);
void fp_metrics_server_update(fp_metrics_server *m, const fp_govern_metrics *g);
/* The port actually bound (useful with port 0). */
unsigned fp_metrics_server_port(const fp_metrics_server *m);
void fp_metrics_server_stop(fp_metrics_server *m);
/* The Prometheus text for g (into buf; returns the length, or size needed). Every series has
 * the labels gpu (gpu when not NULL, else g->gpu_index, else "0"), gpu_uuid, gpu_name and
 * hostname. */
size_t fp_govern_metrics_format(const fp_govern_metrics *g, const char *gpu, char *buf,
                                size_t size);

/* ---- The serving engine's signals (src/govern/engine_scrape.c) ---- */

/*
 * A scraper of a serving engine's Prometheus endpoint on this host: url
 * "http://127.0.0.1:PORT/PATH" ([::1] and localhost too; any other host is refused), map
 * "KEY=METRIC,..." over vLLM's names (keys waiting, running, kv_usage, prompt_tokens,
 * generation_tokens, requests, ttft, tbt; NULL = vLLM's).
 */
typedef struct fp_engine_scraper fp_engine_scraper;
fp_status fp_engine_scraper_new(const char *url, const char *map, fp_engine_scraper **out,
                                fp_error *err);
void fp_engine_scraper_free(fp_engine_scraper *s);
/*
 * One scrape within timeout_s: gauges as read, rates and the p99 of the histograms over the
 * time since the previous scrape. 0 with sig->valid = 1; -1 with sig->valid = 0 and the reason
 * in why (no answer, an HTTP error, a required metric missing, a counter reset, the first
 * scrape).
 */
int fp_engine_scraper_poll(fp_engine_scraper *s, double timeout_s, fp_serving_signals *sig,
                           char *why, size_t why_size);

typedef void (*fp_govern_log_fn)(void *user, int level, const char *msg); /* level 1 warn, 2 info */

typedef struct fp_daemon_opts {
    const char *backend;   /* "nvml" (default) or "sim" */
    const char *gpu;       /* "0" */
    const char *policy;    /* a registered policy's name ("phase") */
    const char *settings;  /* its settings, "key=value,..." (fp_policy_configure); NULL none */
    double interval_s;     /* 0.05 (20..1000 ms) */
    double duration_s;     /* stop after (0 = until a signal) */
    const char *listen;    /* NULL = no exporter */
    const char *state_dir; /* clockguard */
    int force;
    const char *rate_file; /* a file or FIFO where the workload writes its rate, one per line */
    const char *engine_metrics; /* the serving engine's Prometheus URL (slo policy); NULL none */
    const char *engine_map;     /* its metric names, fp_engine_scraper_new's map */
    fp_govern_log_fn log;
    void *log_user;
} fp_daemon_opts;

void fp_daemon_opts_default(fp_daemon_opts *o);
/* Runs until a signal (SIGINT/SIGTERM/SIGHUP) or duration; restores the clocks on every exit
 * path. *caught_signal (may be NULL) = the signal that ended it (the caller re-raises it). */
fp_status fp_daemon_run(const fp_daemon_opts *o, int *caught_signal, fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
