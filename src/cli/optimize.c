/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot optimize: per (gpu, app) the clock that minimises an objective within a
 * slowdown budget, with the intervals that make the claim checkable. The rules live in
 * src/optimize/ and docs/optimize.md; the help text states them with the same numbers.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/optimize.h"

static const char help_text[] =
    "NAME\n"
    "    freqpilot optimize - choose energy-efficient SM clocks within a slowdown budget\n"
    "\n"
    "SYNOPSIS\n"
    "    freqpilot optimize INPUT... [--objective OBJ]... [--max-slowdown X[,X...]]\n"
    "                       [--constraints FILE|PRESET] [--baseline max|default|MHZ]\n"
    "                       [--confidence P] [--budget-confidence P] [--margin X]\n"
    "                       [--min-runs N] [--point-estimate]\n"
    "                       [--pmax W] [--max-power W] [-o FILE] [--format json|csv]\n"
    "                       [--deploy-script FILE [--force]]\n"
    "\n"
    "DESCRIPTION\n"
    "    INPUT is an aggregated.csv (from freqpilot aggregate) or raw runs (a DATASET/,\n"
    "    measured_runs.csv, ... aggregated here with aggregate's defaults). The engine reads\n"
    "    only what aggregated.csv carries, so both give the same results.\n"
    "    For every (gpu, app), objective and budget one result: the clock, the baseline, the\n"
    "    estimated time, energy and power there, energy saving and slowdown against the\n"
    "    baseline with their intervals, feasible, flags, and one verdict with its reason.\n"
    "    A table goes to stdout; -o writes JSON (docs/formats.md keys plus verdict and\n"
    "    verdict_reason) or CSV.\n"
    "\n"
    "RULES (docs/method.md part C has the reasoning and the figures)\n"
    "    Objectives   energy (E), time (T), edp (E*T), ed2p (E*T^2), ednp:N (E*T^N),\n"
    "                 cost:ETA (ETA*E + (1-ETA)*P_max*T, P_max = --pmax or the default power\n"
    "                 limit of the board the data names, e.g. 400 W for an A100-SXM4-80GB;\n"
    "                 a bare family name such as A100 names no board: give --pmax).\n"
    "    Baseline     max: the highest clock with at least 2 runs (flag baseline_fallback\n"
    "                 when that is not the highest clock); default: the GPU's default\n"
    "                 applications clock; MHZ: that clock.\n"
    "    Estimates    per (gpu, app), ln time and ln energy of the clock medians smoothed\n"
    "                 over neighbouring clocks (local-quadratic, bandwidth by Mallows' Cp from\n"
    "                 the measured noise; none for noise-free data); time non-increasing in\n"
    "                 the clock. A clock with fewer than --min-runs runs is chosen only when\n"
    "                 its estimate rests mostly on other clocks.\n"
    "    Slowdown     T(f)/T(base) - 1; energy saving 1 - E(f)/E(base), from the estimates,\n"
    "                 with --confidence intervals (t quantile).\n"
    "    Budget       a clock qualifies when its slowdown_bound, the one-sided upper bound\n"
    "                 of the slowdown at --budget-confidence (90 %), is within the budget\n"
    "                 (--point-estimate: the median slowdown).\n"
    "    Choice       clocks are taken in the order of that bound (fastest first),\n"
    "                 starting from the baseline; one replaces the current choice only when\n"
    "                 its estimated objective is lower by more than --margin (0.5 %). So a\n"
    "                 looser budget never gives a worse objective, the choice is never worse\n"
    "                 than the baseline (else: no change, flag no_change) and time never\n"
    "                 picks a slower clock.\n"
    "    Power cap    --max-power W excludes clocks whose estimated power exceeds W.\n"
    "    Infeasible   nothing qualifies: the baseline, feasible false, a message.\n"
    "    Verdict      deployable | no significant saving | suspect: not a DVFS effect |\n"
    "                 insufficient data | infeasible (the checks of freqpilot validate;\n"
    "                 the same verdict in every output).\n"
    "\n"
    "OPTIONS\n"
    "    --objective OBJ          repeatable or comma-separated (energy)\n"
    "    --max-slowdown X[,X...]  budgets as fractions or percentages (0.05 or 5%), or\n"
    "                             'none'; repeatable (default 0.05 unless --constraints)\n"
    "    --constraints FILE|PRESET\n"
    "                             per-app budgets (INI: [categories], [apps],\n"
    "                             [defaults]; see contrib/constraints.ini), or a preset by\n"
    "                             name: ai-inference-energy (the original project's\n"
    "                             budgets: LLaMA 15 %, Stable Diffusion 30 %, ViT 50 %,\n"
    "                             Whisper 40 %); 'none' in --max-slowdown is then the\n"
    "                             app's budget\n"
    "    --baseline B             max (default), default or a clock in MHz\n"
    "    --confidence P           interval level, 0 < P < 1 (0.95)\n"
    "    --budget-confidence P    one-sided level of the budget's test, 0.5 <= P < 1 (0.90)\n"
    "    --margin X               practical-equivalence margin, fraction or % (0.5%)\n"
    "    --min-runs N             runs a clock needs to win on its own data (2)\n"
    "    --point-estimate         the naive rule: each clock's medians, no smoothing, budget\n"
    "                             on the median slowdown, no margin (for comparison)\n"
    "    --pmax W                 P_max for cost objectives\n"
    "    --max-power W            power cap\n"
    "    -o, --output FILE        write the results ('-' = stdout, then no table)\n"
    "    --format json|csv        format of -o (json)\n"
    "    --deploy-script FILE     sh script applying each (gpu, app) choice of the first\n"
    "                             objective with freqpilot apply (and restore); only\n"
    "                             deployable ones, the others exit 1 with their verdict\n"
    "    --force                  the deploy script applies every choice, whatever its\n"
    "                             verdict\n"
    "    -v, --verbose            more messages on stderr\n"
    "    -q, --quiet              no table, errors only\n"
    "    -h, --help               show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success (also when a result is infeasible: see its message); 1 failure;\n"
    "    2 usage error.\n"
    "\n"
    "EXAMPLES\n"
    "    freqpilot optimize aggregated.csv --objective edp --max-slowdown 0.05 -o optimal.json\n"
    "    freqpilot optimize measured_runs.csv --objective energy,ed2p --max-slowdown 5%,10%\n"
    "    freqpilot optimize DATASET/ --constraints contrib/constraints.ini --deploy-script "
    "apply.sh\n";

enum {
    OPT_OBJECTIVE = 256,
    OPT_MAX_SLOWDOWN,
    OPT_CONSTRAINTS,
    OPT_BASELINE,
    OPT_CONFIDENCE,
    OPT_POINT,
    OPT_MARGIN,
    OPT_MIN_RUNS,
    OPT_BUDGET_CONF,
    OPT_PMAX,
    OPT_MAX_POWER,
    OPT_FORMAT,
    OPT_DEPLOY,
    OPT_FORCE,
};

static const struct option long_opts[] = {
    {"objective", required_argument, NULL, OPT_OBJECTIVE},
    {"max-slowdown", required_argument, NULL, OPT_MAX_SLOWDOWN},
    {"constraints", required_argument, NULL, OPT_CONSTRAINTS},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"confidence", required_argument, NULL, OPT_CONFIDENCE},
    {"point-estimate", no_argument, NULL, OPT_POINT},
    {"margin", required_argument, NULL, OPT_MARGIN},
    {"budget-confidence", required_argument, NULL, OPT_BUDGET_CONF},
    {"min-runs", required_argument, NULL, OPT_MIN_RUNS},
    {"pmax", required_argument, NULL, OPT_PMAX},
    {"max-power", required_argument, NULL, OPT_MAX_POWER},
    {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"deploy-script", required_argument, NULL, OPT_DEPLOY},
    {"force", no_argument, NULL, OPT_FORCE},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

#define MAX_LIST 32

int cmd_optimize(int argc, char **argv)
{
    fp_opt_options o;
    fp_opt_options_init(&o);
    fp_objective objs[MAX_LIST];
    double budgets[MAX_LIST];
    size_t nobjs = 0, nbudgets = 0;
    const char *output = NULL, *deploy = NULL, *constraints_path = NULL;
    int csv = 0, force = 0;
    double v;
    long l;
    fp_error err;
    fp_error_clear(&err);
    cli_diag_state diag_state = {0};
    fp_diag diag = cli_diag(&diag_state);
    o.diag = &diag;
    cli_opts co = {.cmd = "optimize", .help = help_text, .output = &output};

    int c;
    while ((c = cli_getopt(&co, argc, argv, long_opts)) != -1) {
        switch (c) {
        case CLI_OPT_EXIT:
            return co.exit_code;
        case OPT_OBJECTIVE: {
            int rc = cli_parse_objectives("optimize", optarg, objs, &nobjs, MAX_LIST);
            if (rc)
                return rc;
            break;
        }
        case OPT_MAX_SLOWDOWN: {
            int rc = cli_parse_budgets("optimize", optarg, budgets, &nbudgets, MAX_LIST);
            if (rc)
                return rc;
            break;
        }
        case OPT_CONSTRAINTS:
            constraints_path = optarg;
            break;
        case OPT_BASELINE:
            if (cli_parse_baseline(optarg, &o))
                return cli_usage_error(
                    "optimize", "--baseline: expected max, default or MHz, got '%s'", optarg);
            break;
        case OPT_CONFIDENCE:
            if (cli_parse_double(optarg, &v) || !(v > 0.0 && v < 1.0))
                return cli_usage_error(
                    "optimize", "--confidence: expected a number in (0, 1), got '%s'", optarg);
            o.confidence = v;
            break;
        case OPT_POINT:
            o.point_estimate = 1;
            break;
        case OPT_MARGIN:
            if (cli_parse_fraction(optarg, &v) || !(v >= 0.0 && v < 0.5))
                return cli_usage_error(
                    "optimize",
                    "--margin: expected a fraction in [0, 0.5) or a percentage, got '%s'", optarg);
            o.margin = v;
            break;
        case OPT_BUDGET_CONF:
            if (cli_parse_double(optarg, &v) || !(v >= 0.5 && v < 1.0))
                return cli_usage_error(
                    "optimize", "--budget-confidence: expected a number in [0.5, 1), got '%s'",
                    optarg);
            o.budget_confidence = v;
            break;
        case OPT_MIN_RUNS:
            if (cli_parse_long(optarg, &l) || l < 1 || l > 1000)
                return cli_usage_error("optimize", "--min-runs: expected 1..1000, got '%s'",
                                       optarg);
            o.min_runs = (int)l;
            break;
        case OPT_PMAX:
            if (cli_parse_double(optarg, &v) || !(v > 0.0))
                return cli_usage_error("optimize", "--pmax: expected watts > 0, got '%s'", optarg);
            o.pmax_w = v;
            break;
        case OPT_MAX_POWER:
            if (cli_parse_double(optarg, &v) || !(v > 0.0))
                return cli_usage_error("optimize", "--max-power: expected watts > 0, got '%s'",
                                       optarg);
            o.max_power_w = v;
            break;
        case OPT_FORMAT:
            if (cli_parse_choice(optarg, "json", "csv", &csv))
                return cli_usage_error("optimize", "--format: expected json or csv, got '%s'",
                                       optarg);
            break;
        case OPT_DEPLOY:
            deploy = optarg;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        }
    }
    int ninputs = argc - optind;
    if (ninputs < 1)
        return cli_usage_error("optimize", "no INPUT given (an aggregated.csv or runs)");
    if (cli_check_output("optimize", "-o", output) ||
        cli_check_output("optimize", "--deploy-script", deploy))
        return EXIT_USAGE;
    if (nobjs == 0)
        fp_objective_parse("energy", &objs[nobjs++], NULL);

    fp_constraints cons;
    const fp_constraints *consp;
    if (cli_open_constraints(constraints_path, &cons, &consp))
        return EXIT_FAIL;
    if (!consp && nbudgets == 0)
        budgets[nbudgets++] = 0.05;

    fp_opt_data data;
    int borrowed;
    if (cli_opt_data((const char *const *)(argv + optind), (size_t)ninputs, &diag, &data, &borrowed,
                     &err)) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    fp_opt_results res = {0};
    int rc = EXIT_FAIL;
    if (fp_optimize(&data, objs, nobjs, budgets, nbudgets, consp, &o, &res, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
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
    if (!borrowed)
        fp_opt_data_free(&data);
    return rc;
}
