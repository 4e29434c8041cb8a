/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The options of `freqpilot govern`, shared by govern.c and govern_serving.c. */
#ifndef FREQPILOT_CLI_GOVERN_H
#define FREQPILOT_CLI_GOVERN_H

typedef struct gov_opts {
    const char *policy, *gpu, *format, *trace, *backend, *listen, *optimize, *app;
    const char *phase_clocks, *rate_file, *state_dir, *out, *phase_from, *sweep_gpu, *set;
    const char *serving, *slo, *requests, *latency_model, *save_latency_model;
    const char *engine_metrics, *engine_map, *predictor;
    const char *datasets[16];
    int n_datasets, force, sim, has_static, has_fe, has_interval;
    double budget, interval_ms, latency_ms, bias, static_mhz, duration, window, f_e;
    double max_batch, chunk_tokens;
    long seed;
    const char *positional[8];
    int npos;
} gov_opts;

/* govern replay --serving TRACE (src/cli/govern_serving.c); --policy and --format checked. */
int govern_replay_serving(const gov_opts *o, int json);

#endif
