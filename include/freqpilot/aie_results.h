/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_AIE_RESULTS_H
#define FREQPILOT_AIE_RESULTS_H

/*
 * The original project's result files (ai-inference-energy, docs/formats.md), read as
 * optimize results so that validate, apply and report can compare them with freqpilot's:
 *
 *   optimal_frequencies.json          {"summary": ..., "configurations": {"A100_LLAMA":
 *                                      {"gpu", "application", "optimizations": {"edp": {...},
 *                                      "ed2p": {...}}}}}
 *   optimal_frequencies_latest.json,  {"A100+LLAMA": {"baseline_frequency_mhz",
 *   corrected_production_...json       "optimal_frequency_mhz", "energy_savings_percent",
 *                                      "performance_penalty_percent", ...}} (EDP)
 *
 * Every result carries the label: fp_opt_results.baseline is FP_AIE_ORIGIN and each
 * message says whose number it is. Its savings are the original's own (against its cold-start
 * baseline run), without intervals.
 */

#include <stddef.h>

#include "freqpilot/error.h"
#include "freqpilot/optimize.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fp_opt_results.baseline of results read from the original project's files. */
#define FP_AIE_ORIGIN "ai-inference-energy"

/* 1 when results came from the original project's files. */
int fp_aie_results_is_original(const fp_opt_results *r);

/* 1 when the JSON file at path has one of the original's shapes (0 when unreadable). */
int fp_aie_results_detect(const char *path);

/* Reads one of the original's result files; the app names are lower case ("llama"). */
fp_status fp_aie_results_read(const char *path, fp_opt_results *out, fp_error *err);
fp_status fp_aie_results_read_mem(const void *data, size_t len, const char *name,
                                  fp_opt_results *out, fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
