/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot report INPUT... -o DIR: report.html (self-contained) and report.pdf from
 * aggregated data, optimize JSON and (optionally) a model JSON. docs/report.md lists what is in
 * each section.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "freqpilot/deploy.h"
#include "freqpilot/plot.h"

const cli_command report_cmd = {
    .name = "report",
    .summary = "write report.html and report.pdf from results",
    .synopsis =
        "freqpilot report INPUT... -o DIR [--title TEXT] [--simulated] [--command LINE]...\n"
        "                 [--objective OBJ] [--max-slowdown X] [--constraints FILE|PRESET]\n"
        "                 [--utilisation X] [--price X] [--currency C] [--grid-intensity G]\n"
        "                 [--gpus N] [--method FILE]\n",
    .description =
        "Reads every INPUT, classified by content: optimize JSON (recommendations, shown with\n"
        "optimize's verdict), validate JSON (a Validation section), model JSON\n"
        "(docs/report.md), aggregated.csv, or anything `freqpilot aggregate` reads (runs are\n"
        "aggregated here, which also lists every dropped run and finding). Writes\n"
        "DIR/report.html, one file with inline CSS and SVG and no external reference, and\n"
        "DIR/report.pdf. Page one is the decision: per (gpu, app) the clock to set (the\n"
        "lowest estimated OBJ within the app's budget from --constraints, else within\n"
        "--max-slowdown), its energy saving and slowdown with 95% intervals, the budget and\n"
        "optimize's verdict, with the reason in words where it is not deployable; then the\n"
        "deployable choices across configurations (mean +- sd, range, best, worst) and what\n"
        "they are worth a year (kWh, cost, CO2e at the stated assumptions). Then a card per\n"
        "workload, the validation of each choice, overview figures, energy heatmaps per GPU,\n"
        "sweep and Pareto figures per (gpu, app), data quality (every finding, flagged clock\n"
        "and dropped run), a glossary of every flag and verdict, the method, an appendix of\n"
        "every objective and budget, and the command lines that reproduce it. Data from the\n"
        "simulated GPU is labelled SIMULATED DATA whether or not --simulated is given.\n"
        "Without an optimize JSON the recommendations are computed here by the optimize\n"
        "library, exactly as `freqpilot optimize DATA --objective OBJ --max-slowdown\n"
        "none,X` would (X = --max-slowdown; with --constraints also that option, 'none'\n"
        "then being each app's budget).\n",
    .exit_status = "0 report.html and report.pdf were written; 1 bad input or a write error (no\n"
                   "partial report is left); 2 usage error.\n",
    .examples = "freqpilot report aggregated.csv optimal.json validation.json -o out/report\n",
};

enum { MAX_COMMANDS = 64 };

int cmd_report(int argc, char **argv)
{
    const char *out = NULL, *method = NULL, *constraints = NULL;
    fp_impact_opts impact;
    fp_impact_opts_init(&impact);
    const char *cmds[MAX_COMMANDS];
    size_t ncmds = 0;
    fp_report_input in;
    fp_report_input_init(&in);
    const cli_option opts[] = {
        /* a folder, so not CLI_OUTPUT (which refuses one) */
        {.type = CLI_OPT_STRING,
         .short_name = 'o',
         .long_name = "output",
         .value = &out,
         .argh = "DIR",
         .help = "output folder (created)"},
        CLI_STRING("title", &in.title, "TEXT", "report title (freqpilot report)"),
        CLI_FLAG("simulated", &in.simulated, "label every page SIMULATED DATA"),
        CLI_LIST("command", cmds, &ncmds, MAX_COMMANDS, "LINE",
                 "a command line to list under Reproduce (repeatable, up to 64)"),
        CLI_STRING("objective", &in.objective, "OBJ",
                   "objective of the deploy choice and the figures (energy)"),
        CLI_DOUBLE("max-slowdown", &in.max_slowdown, "X", "a fraction", "[0, 10]",
                   "budget of the deploy choice for apps without one of their own, and of the "
                   "figures' constrained choice (0.05)"),
        CLI_STRING("constraints", &constraints, "FILE|PRESET", CLI_CONSTRAINTS_TEXT),
        CLI_IMPACT_OPTIONS(&impact),
        CLI_STRING("method", &method, "FILE", "method text to outline (docs/method.md when found)"),
        CLI_END,
    };
    int rc, ninputs = cli_parse_options(&report_cmd, opts, argc, argv, &rc);
    if (ninputs < 0)
        return rc;
    if (ninputs < 1)
        return cli_usage_error("report", "expected at least one INPUT");
    if (!out)
        return cli_usage_error("report", "expected -o DIR");
    if (!method) {
        const char *src = getenv("FREQPILOT_SRC");
        static char mp[4096];
        snprintf(mp, sizeof mp, "%s/docs/method.md", src ? src : ".");
        method = mp;
    }
    in.method_path = method;
    in.commands = cmds;
    in.ncommands = ncmds;
    in.impact = &impact;

    fp_error err;
    fp_error_clear(&err);
    fp_constraints cons;
    if (cli_open_constraints(constraints, &cons, &in.constraints))
        return EXIT_FAIL;
    cli_diag_state ds = {0};
    fp_diag diag = cli_diag(&ds);
    fp_report_data d;
    fp_status st = fp_report_data_load(&d, (const char *const *)argv, (size_t)ninputs, &diag, &err);
    if (!st && !d.have_agg) {
        fp_report_data_free(&d);
        st = fp_error_set(&err, FP_ERR_INVALID,
                          "no aggregated data among the inputs (aggregated.csv or runs)");
    }
    if (st) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    if (!st && d.recs.len == 0) {
        /* The same recommendations as `freqpilot optimize DATA --objective OBJ
         * --max-slowdown none,X`: the optimize library itself, on the data inputs. */
        cli_info("no optimize JSON given: running freqpilot optimize's rules on the data");
        st = fp_recs_optimize((const char *const *)argv, (size_t)ninputs, in.objective,
                              in.max_slowdown, in.constraints, &diag, &d.recs, &err);
        if (st) {
            fp_report_data_free(&d);
            cli_error("%s", err.msg);
            return EXIT_FAIL;
        }
    }
    in.agg = &d.agg;
    in.recs = &d.recs;
    in.vals = &d.vals;
    in.original = &d.original; /* the original project's recommendations, if given */
    in.original_ours = &d.original_ours;
    in.model = d.have_model ? &d.model : NULL;
    in.serving = d.serving;
    char html[4200], pdf[4200];
    snprintf(html, sizeof html, "%s/report.html", out);
    snprintf(pdf, sizeof pdf, "%s/report.pdf", out);
    if (!st && cli_mkdirs(out) != 0)
        st =
            fp_error_set(&err, FP_ERR_IO, "%s: cannot create the folder: %s", out, strerror(errno));
    if (!st)
        st = fp_report_write_html(&in, html, &err);
    int pages = 0;
    if (!st)
        st = fp_report_write_pdf(&in, pdf, &pages, &err);
    fp_report_data_free(&d);
    if (st) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    cli_info("wrote %s and %s (%d pages)", html, pdf, pages);
    return EXIT_OK;
}
