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
    "                       [--constraints FILE] [--baseline max|default|MHZ]\n"
    "                       [--confidence P] [--point-estimate] [--bootstrap N] [--seed N]\n"
    "                       [--pmax W] [--max-power W] [-o FILE] [--format json|csv]\n"
    "                       [--deploy-script FILE]\n"
    "\n"
    "DESCRIPTION\n"
    "    INPUT is an aggregated.csv (from freqpilot aggregate) or raw runs (a DATASET/,\n"
    "    measured_runs.csv, ... aggregated here with aggregate's defaults). With raw runs the\n"
    "    intervals of slowdown and saving come from a bootstrap over the runs of both clocks;\n"
    "    from aggregated.csv alone they are propagated from the rows' 95 % intervals (log-\n"
    "    normal approximation) and the results carry the flag analytic_intervals.\n"
    "    For every (gpu, app), objective and budget one result: the clock, the baseline,\n"
    "    time, energy, power, energy saving and slowdown against the baseline with their\n"
    "    intervals, feasible and flags. A table goes to stdout; -o writes JSON (DESIGN.md\n"
    "    keys) or CSV.\n"
    "\n"
    "RULES (docs/optimize.md has the reasoning)\n"
    "    Objectives   energy (E), time (T), edp (E*T), ed2p (E*T^2), ednp:N (E*T^N),\n"
    "                 cost:ETA (ETA*E + (1-ETA)*P_max*T, P_max = --pmax or the default power\n"
    "                 limit of the board the data names, e.g. 400 W for an A100-SXM4-80GB;\n"
    "                 a bare family name such as A100 names no board: give --pmax).\n"
    "    Baseline     max: the highest clock with runs (if it has none, e.g. only cold\n"
    "                 starts, the next one, flag baseline_fallback); default: the GPU's\n"
    "                 default applications clock; MHZ: that clock.\n"
    "    Slowdown     T(f)/T(base) - 1; energy saving 1 - E(f)/E(base), from the medians.\n"
    "    Budget       a clock qualifies when the UPPER bound of its slowdown interval is\n"
    "                 within the budget (--point-estimate: the median slowdown). A clock\n"
    "                 without an interval (fewer than 2 runs) never qualifies unless\n"
    "                 --point-estimate. The baseline always qualifies.\n"
    "    Choice       the qualifying clock with the lowest objective (ties: the higher\n"
    "                 clock); then the highest qualifying clock whose objective is not\n"
    "                 significantly worse than that best (the lower bound of the ratio\n"
    "                 objective/best is <= 1) is taken instead (flag prefer_higher_clock).\n"
    "    Power cap    --max-power W excludes clocks whose median power exceeds W.\n"
    "    Infeasible   nothing qualifies: the baseline, feasible false, a message.\n"
    "    Flags        the data flags of the chosen and baseline rows, plus\n"
    "                 no_significant_saving (saving interval includes 0), suspect_saving\n"
    "                 (> 40 %: run freqpilot validate), no_budget, power_capped, ...\n"
    "\n"
    "OPTIONS\n"
    "    --objective OBJ          repeatable or comma-separated (energy)\n"
    "    --max-slowdown X[,X...]  budgets as fractions or percentages (0.05 or 5%), or\n"
    "                             'none'; repeatable (default 0.05 unless --constraints)\n"
    "    --constraints FILE       per-app budgets (INI: [categories], [apps], [defaults];\n"
    "                             see contrib/constraints.ini)\n"
    "    --baseline B             max (default), default or a clock in MHz\n"
    "    --confidence P           interval level, 0 < P < 1 (0.95)\n"
    "    --point-estimate         the naive rule: medians only, no noise handling\n"
    "    --bootstrap N            resamples (2000); --seed N (fixed default)\n"
    "    --pmax W                 P_max for cost objectives\n"
    "    --max-power W            power cap\n"
    "    -o, --output FILE        write the results ('-' = stdout, then no table)\n"
    "    --format json|csv        format of -o (json)\n"
    "    --deploy-script FILE     sh script applying each (gpu, app) choice of the first\n"
    "                             objective with freqpilot apply (and restore)\n"
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
    OPT_BOOTSTRAP,
    OPT_SEED,
    OPT_PMAX,
    OPT_MAX_POWER,
    OPT_FORMAT,
    OPT_DEPLOY,
};

static const struct option long_opts[] = {
    {"objective", required_argument, NULL, OPT_OBJECTIVE},
    {"max-slowdown", required_argument, NULL, OPT_MAX_SLOWDOWN},
    {"constraints", required_argument, NULL, OPT_CONSTRAINTS},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"confidence", required_argument, NULL, OPT_CONFIDENCE},
    {"point-estimate", no_argument, NULL, OPT_POINT},
    {"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
    {"seed", required_argument, NULL, OPT_SEED},
    {"pmax", required_argument, NULL, OPT_PMAX},
    {"max-power", required_argument, NULL, OPT_MAX_POWER},
    {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"deploy-script", required_argument, NULL, OPT_DEPLOY},
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
    int csv = 0;
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
        case OPT_BOOTSTRAP:
            if (cli_parse_long(optarg, &l) || l < 100 || l > 10000000)
                return cli_usage_error(
                    "optimize", "--bootstrap: expected 100..10000000 resamples, got '%s'", optarg);
            o.bootstrap_samples = (int)l;
            break;
        case OPT_SEED:
            if (cli_parse_long(optarg, &l) || l < 0)
                return cli_usage_error("optimize", "--seed: expected a whole number >= 0, got '%s'",
                                       optarg);
            o.seed = (unsigned long)l;
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

    fp_constraints cons, *consp = NULL;
    if (constraints_path) {
        fp_constraints_init(&cons);
        if (fp_constraints_load(constraints_path, &cons, &err)) {
            cli_error("%s", err.msg);
            return EXIT_FAIL;
        }
        consp = &cons;
    } else if (nbudgets == 0) {
        budgets[nbudgets++] = 0.05;
    }

    fp_opt_data data;
    if (fp_opt_data_load((const char *const *)(argv + optind), (size_t)ninputs, NULL, &diag, &data,
                         &err)) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    if (!data.have_runs)
        cli_info("aggregated.csv input: intervals propagated from the rows' 95 %% intervals "
                 "(give the runs for a bootstrap)");
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
    if (deploy && fp_opt_write_deploy_script(&res, deploy, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (cli_verbosity > 0 && !(output && strcmp(output, "-") == 0))
        fp_opt_print_table(&res, stdout);
    rc = EXIT_OK;
out:
    fp_opt_results_free(&res);
    fp_opt_data_free(&data);
    return rc;
}
