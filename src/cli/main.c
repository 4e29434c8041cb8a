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
    const cli_command *page; /* its manual page: the summary in this list is its NAME line */
};

static const cli_command version_cmd, help_cmd;

/* Sorted by name. */
static const struct command commands[] = {
    {"aggregate", cmd_aggregate, &aggregate_cmd},
    {"apply", cmd_apply, &apply_cmd},
    {"govern", cmd_govern, &govern_cmd},
    {"gpus", cmd_gpus, &gpus_cmd},
    {"help", cmd_help, &help_cmd},
    {"model", cmd_model, &model_cmd},
    {"optimize", cmd_optimize, &optimize_cmd},
    {"pareto", cmd_pareto, &pareto_cmd},
    {"plot", cmd_plot, &plot_cmd},
    {"profile", cmd_profile, &profile_cmd},
    {"report", cmd_report, &report_cmd},
    {"restore", cmd_restore, &restore_cmd},
    {"run", cmd_run, &run_cmd},
    {"sample", cmd_sample, &sample_cmd},
    {"service", cmd_service, &service_cmd},
    {"sim", cmd_sim, &sim_cmd},
    {"status", cmd_status, &status_cmd},
    {"validate", cmd_validate, &validate_cmd},
    {"version", cmd_version, &version_cmd},
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

/* The COMMANDS section of `freqpilot --help`, from the table above. */
static const char *commands_text(void)
{
    static char buf[4096];
    size_t len = 0;
    for (size_t i = 0; i < ncommands && len < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%-12s %s\n", commands[i].name,
                                commands[i].page->summary);
    return buf;
}

static cli_section main_sections[] = {
    {"COMMANDS", NULL}, /* commands_text() */
    {NULL, NULL},
};

static const cli_command main_cmd = {
    .summary = "energy-efficient SM clocks for AI inference on NVIDIA GPUs",
    .synopsis = "freqpilot [-v | -q] COMMAND [ARGS]\n"
                "freqpilot --version | --help\n",
    .description = "Picks energy-efficient SM clocks for AI inference on NVIDIA GPUs from\n"
                   "measurements: profile sweeps clocks while a workload runs, aggregate and\n"
                   "optimize turn the runs into a choice, apply or govern put it to use, and run\n"
                   "does the whole pipeline in one command (on simulated GPUs without input).\n"
                   "Commands that change clocks restore them on exit and leave a state file for\n"
                   "'freqpilot restore' if killed.\n",
    .sections = main_sections,
    .options_note = "'freqpilot help COMMAND' or 'freqpilot COMMAND --help' describes a command.\n",
    .exit_status = "0 success; 1 failure; 2 usage error (unknown command or option, no command).\n",
    .examples = "freqpilot run\n"
                "freqpilot -v aggregate DATASET/ -o aggregated.csv\n"
                "freqpilot help profile\n",
    .flags = CLI_PARSE_STOP_AT_OPERAND,
};

static const cli_command version_cmd = {
    .name = "version",
    .summary = "print the version",
    .synopsis = "freqpilot version\n"
                "freqpilot --version\n",
    .description = "Prints 'freqpilot X.Y.Z' on stdout, the version of the tool and of the "
                   "libfreqpilot\n"
                   "it is built with (fp_version()).\n",
    .exit_status = "0 always (2 for an unknown option).\n",
    .examples = "freqpilot version\n"
                "freqpilot --version\n",
};

static const cli_command help_cmd = {
    .name = "help",
    .summary = "show help for freqpilot or one of its commands",
    .synopsis = "freqpilot help [COMMAND]\n",
    .description = "Without COMMAND, prints the list of commands ('freqpilot --help'). With "
                   "COMMAND,\n"
                   "prints the help of COMMAND, the same text as 'freqpilot COMMAND --help'.\n"
                   "'freqpilot help --options-json COMMAND' prints COMMAND's option table as "
                   "JSON\n"
                   "(for tools and tests).\n",
    .exit_status = "0 success; 2 unknown COMMAND (the most similar commands are suggested).\n",
    .examples = "freqpilot help\n"
                "freqpilot help aggregate\n",
};

static const cli_option no_options[] = {CLI_END};

static int show_version;

static int version_option(const cli_option *o, const char *arg, char *why, size_t n)
{
    (void)o, (void)arg, (void)why, (void)n;
    show_version = 1;
    return 0;
}

static const cli_option main_options[] = {
    {.type = CLI_OPT_CALLBACK,
     .long_name = "version",
     .cb = version_option,
     .flags = CLI_OPTF_NOARG,
     .help = "print the version and exit"},
    CLI_END,
};

static void print_usage(FILE *out)
{
    main_sections[0].body = commands_text();
    cli_render_help(out, &main_cmd, main_options);
}

int cmd_version(int argc, char **argv)
{
    int rc;
    if (cli_parse_options(&version_cmd, no_options, argc, argv, &rc) < 0)
        return rc;
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
    if (argc == 3 && strcmp(argv[1], "--options-json") == 0) {
        const struct command *c = find_command(argv[2]);
        if (!c)
            return unknown_command(argv[2]);
        char *args[] = {(char *)c->name, "--options-json", NULL};
        return c->fn(2, args);
    }
    int rc, n = cli_parse_options(&help_cmd, no_options, argc, argv, &rc);
    if (n < 0)
        return rc;
    if (n == 0) {
        print_usage(stdout);
        return EXIT_OK;
    }
    const struct command *c = find_command(argv[0]);
    if (!c)
        return unknown_command(argv[0]);
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
    main_sections[0].body = commands_text();
    int rc, n = cli_parse_options(&main_cmd, main_options, argc, argv, &rc);
    if (n < 0)
        return rc;
    if (show_version)
        return cmd_version(1, argv);
    if (n == 0) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const struct command *c = find_command(argv[0]);
    if (!c)
        return unknown_command(argv[0]);
    /* Under sudo, only the commands that change a GPU keep root (each keeps only what it
     * needs of it: docs/profile.md, security model); every other one runs as the user. */
    static const char *const privileged[] = {"apply", "govern", "profile", "restore"};
    int keep_root = 0;
    for (size_t k = 0; k < sizeof privileged / sizeof privileged[0]; k++)
        keep_root |= strcmp(c->name, privileged[k]) == 0;
    if (!keep_root && cli_drop_root())
        return EXIT_FAIL;
    return c->fn(n, argv);
}
