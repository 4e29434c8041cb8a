/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_CLI_ENGINE_SETUP_H
#define FREQPILOT_CLI_ENGINE_SETUP_H

/*
 * What optimize and pareto share: the decision engine's options and objectives (one group of
 * option-table entries), loading INPUT... (an aggregated.csv or runs, aggregated with
 * aggregate's defaults) and one run of fp_optimize over the data.
 *
 *     cli_engine e;
 *     cli_engine_init(&e);
 *     const cli_option opts[] = {
 *         CLI_ENGINE_OBJECTIVES(&e, "objectives (energy)"),
 *         CLI_ENGINE_OPTIONS(&e),
 *         ...
 *     };
 *     n = cli_parse_options(...);
 *     rc = cli_engine_load(&e, "optimize", argv, n, defaults);  // prints its error
 *     rc = cli_engine_run(&e, budgets, nbudgets, constraints, &results);
 *     cli_engine_free(&e);
 */

#include "cli/cli.h"
#include "freqpilot/optimize.h"

#define CLI_MAX_OBJECTIVES 32

typedef struct cli_engine {
    fp_opt_options o;
    fp_objective objs[CLI_MAX_OBJECTIVES];
    cli_objectives objectives; /* --objective: into objs */
    cli_diag_state diag_state;
    fp_diag diag;
    fp_opt_data data;
    int loaded; /* data is ours to free (not borrowed from `run`'s preload) */
} cli_engine;

void cli_engine_init(cli_engine *e);
/* --objective OBJ (repeatable, comma-separated), with the command's help text. */
#define CLI_ENGINE_OBJECTIVES(e, h)                                                                \
    CLI_CALLBACK("objective", &(e)->objectives, "OBJ", NULL, cli_opt_objectives, (h))
/* The engine's options both commands take, described as optimize's. */
#define CLI_ENGINE_OPTIONS(e)                                                                      \
    CLI_CALLBACK("baseline", &(e)->o, "B", NULL, cli_opt_baseline,                                 \
                 "max (default), default or a clock in MHz"),                                      \
        CLI_DOUBLE("confidence", &(e)->o.confidence, "P", NULL, "(0, 1)",                          \
                   "interval level, 0 < P < 1 (0.95)"),                                            \
        CLI_FLAG("point-estimate", &(e)->o.point_estimate,                                         \
                 "the naive rule: each clock's medians, no smoothing, budget on the median "       \
                 "slowdown, no margin (for comparison)"),                                          \
        CLI_DOUBLE("pmax", &(e)->o.pmax_w, "W", "watts", "> 0", "P_max for cost objectives"),      \
        CLI_DOUBLE("max-power", &(e)->o.max_power_w, "W", "watts", "> 0", "power cap")
/*
 * INPUT... into e->data; the default objectives (NULL-terminated names) when none was given.
 * Returns 0, or the exit code after printing the error (no INPUT: usage error naming cmd).
 */
int cli_engine_load(cli_engine *e, const char *cmd, char **inputs, int ninputs,
                    const char *const *default_objectives);
/* fp_optimize over the loaded data; 0, or EXIT_FAIL after printing the error. */
int cli_engine_run(cli_engine *e, const double *budgets, size_t nbudgets,
                   const fp_constraints *cons, fp_opt_results *res);
void cli_engine_free(cli_engine *e);

#endif
