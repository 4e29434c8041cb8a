/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The options of `freqpilot govern` and the pieces its subcommands share (govern.c,
 * govern_replay.c, govern_daemon.c, govern_serving.c). */
#ifndef FREQPILOT_CLI_GOVERN_H
#define FREQPILOT_CLI_GOVERN_H

#include <stddef.h>

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

struct fp_policy;
struct fp_gpu_info;
struct fp_phase_sweep;
struct fp_predictor;
/* The settings the options give policy p (--f-e, --budget, --bias, --static-clock where p has
 * them, then extra, --phase-clocks and --set) into buf. */
void gov_settings(const gov_opts *o, const struct fp_policy *p, const char *extra, char *buf,
                  size_t size);
/* Policy name for info's clocks (NULL: no table yet), configured from the options; 0, or the
 * exit code after the error. */
int gov_make_policy(const gov_opts *o, const char *name, const struct fp_gpu_info *info,
                    const char *extra, struct fp_policy **out);
/* --phase-clocks-from: the clocks planned from a DATASET's sweep for the budget, or a `govern
 * train` model's phase_clocks[] for the GPU and app, into pol; sw (when not NULL and the source
 * is a DATASET) receives the sweep. 0, or the exit code after the error. */
int gov_phase_clocks_from(const gov_opts *o, const char *gpu, struct fp_policy *pol,
                          struct fp_phase_sweep *sw, int *have_sw);
/* --predictor FILE checked against the other options (govern_replay.c); 0, or the exit code. */
int gov_predictor_check(const gov_opts *o);
/* The predictor --predictor names, read as the user behind sudo; NULL after the error. */
struct fp_predictor *gov_load_predictor(const gov_opts *o);
/* govern replay (src/cli/govern_replay.c) and daemon (src/cli/govern_daemon.c). */
int gov_cmd_replay(gov_opts *o);
int gov_cmd_daemon(gov_opts *o);

/* govern replay --serving TRACE (src/cli/govern_serving.c); --policy and --format checked. */
int govern_replay_serving(const gov_opts *o, int json);

#endif
