/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot optimize: per (gpu, app) the clock that minimises an objective within a
 * slowdown budget, with the intervals that make the claim checkable. The rules live in
 * src/optimize/ and docs/optimize.md; the help text states them with the same numbers.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/engine_setup.h"

static const cli_section optimize_sections[] = {
    {"RULES (docs/method.md part C has the reasoning and the figures)",
     "Objectives   energy (E), time (T), edp (E*T), ed2p (E*T^2), ednp:N (E*T^N),\n"
     "             cost:ETA (ETA*E + (1-ETA)*P_max*T, P_max = --pmax or the default power\n"
     "             limit of the board the data names, e.g. 400 W for an A100-SXM4-80GB;\n"
     "             a bare family name such as A100 names no board: give --pmax).\n"
     "Baseline     max: the highest clock with at least 2 runs (flag baseline_fallback\n"
     "             when that is not the highest clock); default: the GPU's default\n"
     "             applications clock; MHZ: that clock.\n"
     "Estimates    per (gpu, app), ln time and ln energy of the clock medians smoothed\n"
     "             over neighbouring clocks (local-quadratic, bandwidth by Mallows' Cp from\n"
     "             the measured noise; none for noise-free data); time non-increasing in\n"
     "             the clock. A clock with fewer than --min-runs runs is chosen only when\n"
     "             its estimate rests mostly on other clocks.\n"
     "Slowdown     T(f)/T(base) - 1; energy saving 1 - E(f)/E(base), from the estimates,\n"
     "             with --confidence intervals (t quantile).\n"
     "Budget       a clock qualifies when its slowdown_bound, the one-sided upper bound\n"
     "             of the slowdown at --budget-confidence (90 %), is within the budget\n"
     "             (--point-estimate: the median slowdown).\n"
     "Choice       clocks are taken in the order of that bound (fastest first),\n"
     "             starting from the baseline; one replaces the current choice only when\n"
     "             its estimated objective is lower by more than --margin (0.5 %). So a\n"
     "             looser budget never gives a worse objective, the choice is never worse\n"
     "             than the baseline (else: no change, flag no_change) and time never\n"
     "             picks a slower clock.\n"
     "Power cap    --max-power W excludes clocks whose estimated power exceeds W.\n"
     "Infeasible   nothing qualifies: the baseline, feasible false, a message.\n"
     "Verdict      deployable | no significant saving | suspect: not a DVFS effect |\n"
     "             insufficient data | infeasible (the checks of freqpilot validate;\n"
     "             the same verdict in every output).\n"},
    {NULL, NULL},
};

const cli_command optimize_cmd = {
    .name = "optimize",
    .summary = "choose clocks per (gpu, app) for an objective within a slowdown budget",
    .synopsis = "freqpilot optimize INPUT... [--objective OBJ]... [--max-slowdown X[,X...]]\n"
                "                   [--constraints FILE|PRESET] [--baseline max|default|MHZ]\n"
                "                   [--confidence P] [--budget-confidence P] [--margin X]\n"
                "                   [--min-runs N] [--point-estimate]\n"
                "                   [--pmax W] [--max-power W] [-o FILE] [--format json|csv]\n"
                "                   [--deploy-script FILE [--force]]\n",
    .description =
        "INPUT is an aggregated.csv (from freqpilot aggregate) or raw runs (a DATASET/,\n"
        "measured_runs.csv, ... aggregated here with aggregate's defaults). The engine reads\n"
        "only what aggregated.csv carries, so both give the same results.\n"
        "For every (gpu, app), objective and budget one result: the clock, the baseline, the\n"
        "estimated time, energy and power there, energy saving and slowdown against the\n"
        "baseline with their intervals, feasible, flags, and one verdict with its reason.\n"
        "A table goes to stdout; -o writes JSON (docs/formats.md keys plus verdict and\n"
        "verdict_reason) or CSV.\n",
    .sections = optimize_sections,
    .exit_status = "0 success (also when a result is infeasible: see its message); 1 failure;\n"
                   "2 usage error.\n",
    .examples =
        "freqpilot optimize aggregated.csv --objective edp --max-slowdown 0.05 -o optimal.json\n"
        "freqpilot optimize measured_runs.csv --objective energy,ed2p --max-slowdown 5%,10%\n"
        "freqpilot optimize DATASET/ --constraints contrib/constraints.ini --deploy-script "
        "apply.sh\n",
};

#define MAX_LIST 32

int cmd_optimize(int argc, char **argv)
{
    cli_engine e;
    cli_engine_init(&e);
    double budget_v[MAX_LIST];
    cli_budgets budgets = {budget_v, 0, MAX_LIST};
    const char *output = NULL, *deploy = NULL, *constraints_path = NULL;
    int csv = 0, force = 0;
    fp_error err;
    fp_error_clear(&err);
    const cli_option opts[] = {
        CLI_ENGINE_OBJECTIVES(&e, "repeatable or comma-separated (energy)"),
        CLI_CALLBACK("max-slowdown", &budgets, "X[,X...]", NULL, cli_opt_budgets,
                     "budgets as fractions or percentages (0.05 or 5%), or 'none'; repeatable "
                     "(default 0.05 unless --constraints)"),
        CLI_STRING("constraints", &constraints_path, "FILE|PRESET",
                   "per-app budgets (INI: [categories], [apps], [defaults]; see "
                   "contrib/constraints.ini), or a preset by name: ai-inference-energy (the "
                   "original project's budgets: LLaMA 15 %, Stable Diffusion 30 %, ViT 50 %, "
                   "Whisper 40 %); 'none' in --max-slowdown is then the app's budget"),
        CLI_ENGINE_OPTIONS(&e),
        CLI_DOUBLE("budget-confidence", &e.o.budget_confidence, "P", NULL, "[0.5, 1)",
                   "one-sided level of the budget's test, 0.5 <= P < 1 (0.90)"),
        CLI_FRACTION("margin", &e.o.margin, "X", "[0, 0.5)",
                     "practical-equivalence margin, fraction or % (0.5%)"),
        CLI_INT("min-runs", &e.o.min_runs, "N", "1..1000",
                "runs a clock needs to win on its own data (2)"),
        CLI_OUTPUT(&output, "write the results ('-' = stdout, then no table)"),
        CLI_CHOICE("format", &csv, CLI_CHOICES("json", "csv"), "format of -o (json)"),
        CLI_OUTFILE("deploy-script", &deploy, "FILE",
                    "sh script applying each (gpu, app) choice of the first objective with "
                    "freqpilot apply (and restore); only deployable ones, the others exit 1 with "
                    "their verdict"),
        CLI_FLAG("force", &force, "the deploy script applies every choice, whatever its verdict"),
        CLI_QUIET("no table, errors only"),
        CLI_END,
    };
    int rc, ninputs = cli_parse_options(&optimize_cmd, opts, argc, argv, &rc);
    if (ninputs < 0)
        return rc;
    if (ninputs < 1)
        return cli_usage_error("optimize", "no INPUT given (an aggregated.csv or runs)");
    fp_constraints cons;
    const fp_constraints *consp;
    if (cli_open_constraints(constraints_path, &cons, &consp))
        return EXIT_FAIL;
    if (!consp && budgets.n == 0)
        budget_v[budgets.n++] = 0.05;
    static const char *const default_objectives[] = {"energy", NULL};
    if ((rc = cli_engine_load(&e, "optimize", argv, ninputs, default_objectives)))
        return rc;
    fp_opt_results res = {0};
    rc = EXIT_FAIL;
    if (cli_engine_run(&e, budget_v, budgets.n, consp, &res))
        goto out;
    if (res.len == 0) {
        cli_error("no (gpu, app) with usable data in the input");
        goto out;
    }
    for (size_t i = 0; i < res.len; i++) {
        const fp_opt_result *r = &res.items[i];
        if (!r->feasible)
            cli_warn("%s %s %s: %s", r->gpu, r->app, r->objective, r->message);
        else if (r->opt_flags & FP_OPT_SUSPECT_SAVING)
            cli_warn("%s %s %s: a saving of %.0f %% is implausible for DVFS alone; run "
                     "'freqpilot validate'",
                     r->gpu, r->app, r->objective, 100 * r->cmp.energy_saving);
    }
    if (output &&
        (csv ? fp_opt_write_csv(&res, output, &err) : fp_opt_write_json(&res, output, &err))) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (force && !deploy)
        cli_warn("--force only affects --deploy-script");
    if (deploy && fp_opt_write_deploy_script(&res, deploy, force, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (cli_verbosity > 0 && !(output && strcmp(output, "-") == 0))
        fp_opt_print_table(&res, stdout);
    rc = EXIT_OK;
out:
    fp_opt_results_free(&res);
    cli_engine_free(&e);
    return rc;
}
