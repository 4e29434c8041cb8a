/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot: git-style dispatcher. `freqpilot [GLOBAL OPTIONS] COMMAND [ARGS]`.
 * One sorted table maps command names to cmd_* functions in src/cli/NAME.c.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "freqpilot/version.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

/* Sorted by name. */
static const struct command commands[] = {
    {"aggregate", cmd_aggregate, "reduce telemetry and runs to per (gpu, app, clock) statistics"},
    {"apply", cmd_apply, "lock a GPU's SM clock (a clock or optimize's choice) until restore"},
    {"govern", cmd_govern, "adapt the SM clock online: replay, daemon, predictor training"},
    {"gpus", cmd_gpus, "list GPUs: clocks, power limits, MIG mode (read-only)"},
    {"help", cmd_help, "show help for freqpilot or one of its commands"},
    {"model", cmd_model, "predict power and time at unmeasured clocks; evaluate; adaptive replay"},
    {"optimize", cmd_optimize,
     "choose clocks per (gpu, app) for an objective within a slowdown budget"},
    {"pareto", cmd_pareto, "time-energy Pareto frontier, knee and objective choices"},
    {"plot", cmd_plot, "draw one figure: sweep, pareto, savings, optima, heatmap, model, ..."},
    {"profile", cmd_profile, "sweep SM clocks while a workload runs; writes a dataset"},
    {"report", cmd_report, "write report.html and report.pdf from results"},
    {"restore", cmd_restore, "reset clocks left changed by a killed freqpilot (state files)"},
    {"run", cmd_run, "the whole pipeline in one command (simulated GPUs without input)"},
    {"sample", cmd_sample, "print telemetry.csv rows from a GPU (read-only)"},
    {"service", cmd_service, "freqpilotd: clock control for users who are not root"},
    {"sim", cmd_sim, "simulated GPU: true optimum, noise-free curve, simulated runs"},
    {"status", cmd_status, "what a sweep (local, several GPUs, Slurm array) has done and lacks"},
    {"validate", cmd_validate, "check optimize's recommendations against the data"},
    {"version", cmd_version, "print the version"},
};
static const size_t ncommands = sizeof commands / sizeof commands[0];

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < ncommands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof prev);
    }
    return prev[lb];
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "NAME\n"
            "    freqpilot - energy-efficient SM clocks for AI inference on NVIDIA GPUs\n"
            "\n"
            "SYNOPSIS\n"
            "    freqpilot [-v | -q] COMMAND [ARGS]\n"
            "    freqpilot --version | --help\n"
            "\n"
            "DESCRIPTION\n"
            "    Picks energy-efficient SM clocks for AI inference on NVIDIA GPUs from\n"
            "    measurements: profile sweeps clocks while a workload runs, aggregate and\n"
            "    optimize turn the runs into a choice, apply or govern put it to use, and run\n"
            "    does the whole pipeline in one command (on simulated GPUs without input).\n"
            "    Commands that change clocks restore them on exit and leave a state file for\n"
            "    'freqpilot restore' if killed.\n"
            "\n"
            "COMMANDS\n");
    for (size_t i = 0; i < ncommands; i++)
        fprintf(out, "    %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "OPTIONS\n"
            "    -v, --verbose  more messages on stderr (-vv or -v -v: debug)\n"
            "    -q, --quiet    errors only, no progress bar\n"
            "    --version      print the version and exit\n"
            "    -h, --help     show this help\n"
            "\n"
            "    'freqpilot help COMMAND' or 'freqpilot COMMAND --help' describes a command.\n"
            "\n"
            "EXIT STATUS\n"
            "    0 success; 1 failure; 2 usage error (unknown command or option, no command).\n"
            "\n"
            "EXAMPLES\n"
            "    freqpilot run\n"
            "    freqpilot -v aggregate DATASET/ -o aggregated.csv\n"
            "    freqpilot help profile\n");
}

static const char version_help[] =
    "NAME\n"
    "    freqpilot version - print the version\n"
    "\n"
    "SYNOPSIS\n"
    "    freqpilot version\n"
    "    freqpilot --version\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints 'freqpilot X.Y.Z' on stdout, the version of the tool and of the libfreqpilot\n"
    "    it is built with (fp_version()).\n"
    "\n"
    "OPTIONS\n"
    "    -h, --help   show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0 always.\n"
    "\n"
    "EXAMPLES\n"
    "    freqpilot version\n"
    "    freqpilot --version\n";

static const char help_help[] =
    "NAME\n"
    "    freqpilot help - show help for freqpilot or one of its commands\n"
    "\n"
    "SYNOPSIS\n"
    "    freqpilot help [COMMAND]\n"
    "\n"
    "DESCRIPTION\n"
    "    Without COMMAND, prints the list of commands ('freqpilot --help'). With COMMAND,\n"
    "    prints the help of COMMAND, the same text as 'freqpilot COMMAND --help'.\n"
    "\n"
    "OPTIONS\n"
    "    -h, --help   show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success; 2 unknown COMMAND (the most similar commands are suggested).\n"
    "\n"
    "EXAMPLES\n"
    "    freqpilot help\n"
    "    freqpilot help aggregate\n";

int cmd_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_print_help(version_help);
        return EXIT_OK;
    }
    printf("freqpilot %s\n", fp_version());
    return EXIT_OK;
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "freqpilot: '%s' is not a freqpilot command. See 'freqpilot --help'.\n", name);
    size_t best = (size_t)-1;
    for (size_t i = 0; i < ncommands; i++) {
        size_t d = edit_distance(name, commands[i].name);
        if (d < best)
            best = d;
    }
    if (best <= 3) {
        fprintf(stderr, "\nThe most similar command%s\n", "");
        for (size_t i = 0; i < ncommands; i++)
            if (edit_distance(name, commands[i].name) == best)
                fprintf(stderr, "\t%s\n", commands[i].name);
    }
    return EXIT_USAGE;
}

int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print_help(help_help);
        return EXIT_OK;
    }
    const struct command *c = find_command(argv[1]);
    if (!c)
        return unknown_command(argv[1]);
    char *args[] = {(char *)c->name, "--help", NULL};
    return c->fn(2, args);
}

int main(int argc, char **argv)
{
    /* The same binary under the name freqpilotd is the service (`freqpilot service run`). */
    const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
    base = base ? base + 1 : argc > 0 ? argv[0] : "";
    if (strcmp(base, "freqpilotd") == 0)
        return cmd_freqpilotd(argc, argv);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            cli_verbosity++;
        else if (strcmp(a, "-vv") == 0)
            cli_verbosity += 2;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
            cli_verbosity = 0;
        else if (strcmp(a, "--version") == 0)
            return cmd_version(1, argv);
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage(stdout);
            return EXIT_OK;
        } else {
            fprintf(stderr, "freqpilot: unknown option '%s'\n", a);
            print_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const struct command *c = find_command(argv[i]);
    if (!c)
        return unknown_command(argv[i]);
    /* Under sudo, only the commands that change a GPU keep root (each keeps only what it
     * needs of it: docs/profile.md, security model); every other one runs as the user. */
    static const char *const privileged[] = {"apply", "govern", "profile", "restore"};
    int keep_root = 0;
    for (size_t k = 0; k < sizeof privileged / sizeof privileged[0]; k++)
        keep_root |= strcmp(c->name, privileged[k]) == 0;
    if (!keep_root && cli_drop_root())
        return EXIT_FAIL;
    return c->fn(argc - i, argv + i);
}
