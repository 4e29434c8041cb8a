/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_SERVING_H
#define FREQPILOT_SERVING_H

/*
 * LLM serving on the simulated GPU (docs/simulated-gpu.md, "LLM serving"): request traces,
 * a synthetic diurnal arrival process, a continuous-batching server whose prefill and decode
 * steps take their time and power from the simulator's per-GPU physics, and the per-clock
 * latency model the SLO-aware policy predicts with.
 *
 *   trace (CSV) or arrivals -> fp_server_sim (steps at the requested clock) -> per-request
 *   TTFT, time between tokens, tokens, energy; signals for the governor each interval
 */

#include <stddef.h>
#include <stdint.h>

#include "freqpilot/error.h"
#include "freqpilot/sample.h"
#include "freqpilot/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Requests and traces (src/telemetry/serving_trace.c) ---- */

typedef struct fp_request {
    double t_s;             /* arrival, seconds from the first request of the trace */
    unsigned prompt_tokens; /* >= 1 */
    unsigned output_tokens; /* >= 1 (the first token counts) */
} fp_request;

typedef struct fp_request_list {
    fp_request *items;
    size_t n, cap;
} fp_request_list;

void fp_request_list_free(fp_request_list *l);
fp_status fp_request_list_push(fp_request_list *l, const fp_request *r, fp_error *err);

/*
 * Reads a trace CSV with a header, either the public Azure LLM inference trace layout
 * (TIMESTAMP,ContextTokens,GeneratedTokens; TIMESTAMP "2023-11-16 18:15:46.6805900", with an
 * optional Z or +HH:MM, or seconds; made relative to the first row) or
 * t_s,prompt_tokens,output_tokens (seconds from the start of the trace, >= 0). Other columns
 * are ignored; names match without regard to case. Times must not decrease; token counts are
 * whole numbers >= 1. All or nothing: errors name the file and line and what was expected.
 */
fp_status fp_serving_trace_load(const char *path, fp_request_list *out, fp_error *err);
fp_status fp_serving_trace_load_mem(const void *data, size_t len, const char *name,
                                    fp_request_list *out, fp_error *err);
/* t_s,prompt_tokens,output_tokens (atomic write; "-" = stdout). */
fp_status fp_serving_trace_write(const char *path, const fp_request_list *l, fp_error *err);

/* ---- Synthetic diurnal arrivals (src/gpu/sim_arrivals.c) ---- */

typedef struct fp_arrival_opts {
    double duration_s;  /* length of the trace (3600) */
    double period_s;    /* of the rate curve (the duration: one day compressed into it) */
    double peak_rps;    /* requests per second at the peak (8) */
    double trough_rps;  /* and at the trough (2) */
    double prompt_mean; /* tokens, lognormal (1000) */
    double output_mean; /* tokens, lognormal (200) */
    double sigma;       /* of the lognormals' log (0.8) */
    unsigned prompt_max, output_max; /* clipped to (4096, 2048) */
    uint64_t seed;
} fp_arrival_opts;

void fp_arrival_opts_default(fp_arrival_opts *o);
/*
 * Requests per second at t_s: trough + (peak - trough) (1 - cos(2 pi t / period)) / 2, a
 * day that starts at its trough and peaks at half the period.
 */
double fp_arrival_rate(const fp_arrival_opts *o, double t_s);
/* A non-homogeneous Poisson process with that rate (thinning), seeded: same seed, same list. */
fp_status fp_arrivals_generate(const fp_arrival_opts *o, fp_request_list *out, fp_error *err);

/* ---- The server's physics (src/gpu/sim_server.c) ---- */

/*
 * A model served on one simulated GPU: sizes from the model, bandwidth and tensor throughput
 * from the GPU's public specifications, and the clock response and activities from the
 * simulator's calibrated LLaMA workload on that GPU (its decode and prefill phases).
 */
typedef struct fp_server_model {
    char model[32];              /* "llama-7b" */
    const fp_sim_gpu *gpu;       /* the simulated GPU */
    double weight_bytes;         /* read once per step */
    double kv_bytes_per_token;   /* read per token of context per step, written once */
    double flops_per_token;      /* 2 x parameters */
    double attn_flops_per_ctx;   /* per token and token of context */
    double bandwidth_bps;        /* memory bandwidth of the GPU, bytes/s */
    double peak_flops;           /* dense FP16 tensor throughput of the GPU at f_max */
    double mem_eff, compute_eff; /* fractions reached by the kernels (0.8, 0.55) */
    double host_s;               /* per step: scheduler, sampling (0.002) */
    double clock_overhead;       /* per-step clock-bound work / weight read time (calibrated) */
    double overlap_k;            /* memory/compute overlap exponent (calibrated) */
    /* activities while the device works (not the host part), at the calibrated decode and
     * prefill compositions; a step's are interpolated on its compute share */
    double share_decode, share_prefill;   /* compute share c / (m + c) at f_max */
    double act_decode[5], act_prefill[5]; /* sm, occupancy, tensor, dram, mem_util (0..1) */
    unsigned kv_capacity_tokens;          /* (90 % of the memory - weights) / kv bytes per token */
    unsigned max_batch;                   /* running requests at most (256) */
    unsigned chunk_tokens; /* tokens per step at most: decode + prefill chunk (512) */
} fp_server_model;

/* The model "llama-7b" (or "llama") on gpu. */
fp_status fp_server_model_init(fp_server_model *m, const fp_sim_gpu *gpu, const char *model,
                               fp_error *err);

/* One step: decode tokens (one per running request), prefill tokens, context held. */
typedef struct fp_server_step {
    unsigned decode, prefill;
    double ctx_tokens;  /* tokens in the KV cache read by the step */
    double prefill_ctx; /* sum over the prefill tokens of their context (attention) */
} fp_server_step;

/* Seconds (host, memory, compute at f_max) of a step. */
void fp_server_step_secs(const fp_server_model *m, const fp_server_step *s, double secs[3]);
/* A step at reached clock f and temperature temp_c: duration, activities, power. */
void fp_server_step_point(const fp_server_model *m, const fp_server_step *s, double f_mhz,
                          double temp_c, fp_sim_point *out);

/* ---- The simulated server (src/gpu/sim_server.c) ---- */

typedef struct fp_server_sim fp_server_sim;

typedef struct fp_request_result {
    double arrival_s, ttft_s, e2e_s;
    double tbt_mean_s, tbt_max_s; /* over the request's token gaps (NAN: one token) */
    unsigned prompt_tokens, output_tokens;
    double energy_j; /* its share of each step, by tokens in the step (idle time not shared) */
    int finished;    /* 0: still running or queued when the simulation stopped, or rejected */
} fp_request_result;

/* Starts at t = 0 with the clocks unlocked (the driver's: f_max busy, the idle clock idle). */
fp_server_sim *fp_server_sim_new(const fp_server_model *m, const fp_request *req, size_t n);
void fp_server_sim_free(fp_server_sim *s);
/*
 * Locks the clock at mhz (0 = unlocks) from at_s on: steps that start at or after at_s run
 * at it (a step in flight finishes at its clock).
 */
void fp_server_sim_set_clock(fp_server_sim *s, unsigned mhz, double at_s);
/* Runs steps (and idle time) until the simulated time reaches until_s. */
void fp_server_sim_advance(fp_server_sim *s, double until_s);
double fp_server_sim_time(const fp_server_sim *s);
/* 1 when every request has arrived and finished (or was rejected). */
int fp_server_sim_done(const fp_server_sim *s);

/* What the engine would report for the interval since the last call (exact, not scraped). */
typedef struct fp_server_interval {
    double t0_s, t1_s;
    double waiting, running, waiting_prompt_tokens, kv_tokens; /* at t1 */
    double prompt_tok_s, gen_tok_s, arrivals_s, finished_s;
    double ttft_p99_s, tbt_p99_s; /* NAN when the interval saw none */
    fp_sample sample;             /* telemetry averaged over the interval */
} fp_server_interval;
void fp_server_sim_interval(fp_server_sim *s, fp_server_interval *out);

typedef struct fp_server_totals {
    double time_s, energy_j, busy_s, idle_energy_j;
    unsigned long steps, requests, finished, rejected;
    unsigned long long prompt_tokens, output_tokens; /* processed */
    double clock_time_mhz_s;                         /* integral of the SM clock over busy time */
} fp_server_totals;
void fp_server_sim_totals(const fp_server_sim *s, fp_server_totals *out);
/* Per request, in trace order (n of fp_server_sim_new). */
const fp_request_result *fp_server_sim_results(const fp_server_sim *s);
/* Quantile q (0..1) of every token gap so far (seconds, within 0.1 %); NAN when none. */
double fp_server_sim_gap_quantile(const fp_server_sim *s, double q);

/* ---- Per-clock latency model (src/gpu/sim_server.c) ---- */

#define FP_LAT_NTOK 14        /* tokens per step: 1, 2, 4, ... 8192 */
#define FP_LAT_NCTX 5         /* context held: 0, 1/4 ... 4/4 of the KV capacity */
#define FP_LAT_MAX_CLOCKS 256 /* clocks of one model */

/*
 * Step seconds and board power per supported clock on a grid of (tokens in the step,
 * context held), read with log-linear interpolation in tokens and linear in context: what the
 * SLO policy predicts latency and energy with. Learned from the simulator
 * (fp_latency_model_learn_sim), saved as JSON for the daemon (a model learned elsewhere, e.g.
 * from a sweep of the real engine, in the same format).
 */
typedef struct fp_latency_model {
    char gpu[64], model[32];
    unsigned n_clocks;
    unsigned clocks_mhz[FP_LAT_MAX_CLOCKS]; /* high to low */
    double kv_capacity_tokens;
    unsigned chunk_tokens, max_batch;
    double step_s[FP_LAT_MAX_CLOCKS][FP_LAT_NTOK][FP_LAT_NCTX];
    double power_w[FP_LAT_MAX_CLOCKS][FP_LAT_NTOK][FP_LAT_NCTX];
} fp_latency_model;

/* The noise-free step time and power (at the step's steady temperature) of m at every
 * supported clock of m's GPU (at most FP_LAT_MAX_CLOCKS, the highest). */
void fp_latency_model_learn_sim(const fp_server_model *m, fp_latency_model *out);
/* Seconds of a step of tokens tokens with ctx tokens held, at clock index i. */
double fp_latency_model_step(const fp_latency_model *lm, unsigned i, double tokens, double ctx);
/* Its board power (watts). */
double fp_latency_model_power(const fp_latency_model *lm, unsigned i, double tokens, double ctx);
/* Index of the clock nearest mhz. */
unsigned fp_latency_model_index(const fp_latency_model *lm, unsigned mhz);
fp_status fp_latency_model_save(const fp_latency_model *lm, const char *path, fp_error *err);
fp_status fp_latency_model_load(fp_latency_model *lm, const char *path, fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
