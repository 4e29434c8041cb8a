/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_CLI_PARSE_OPTIONS_H
#define FREQPILOT_CLI_PARSE_OPTIONS_H

/*
 * One option table per command, which both parses the command line and writes the OPTIONS
 * section of its help (git's parse-options is the model).
 *
 * A command describes its manual page once (cli_command: NAME line, SYNOPSIS, DESCRIPTION,
 * extra sections such as RULES, EXIT STATUS, EXAMPLES, as text) and its options as an array
 * of typed entries ending with CLI_END:
 *
 *     double conf = 0.95;
 *     const char *out = "-";
 *     const cli_option opts[] = {
 *         CLI_OUTPUT(&out, "write here instead of stdout"),
 *         CLI_DOUBLE("confidence", &conf, "P", NULL, "(0, 1)", "interval coverage (0.95)"),
 *         CLI_END,
 *     };
 *     int rc, n = cli_parse_options(&cmd_desc, opts, argc, argv, &rc);
 *     if (n < 0)
 *         return rc;               // --help printed (0) or a usage error printed (2)
 *     // argv[0..n): the operands, in order
 *
 * The parser follows getopt_long: options and operands may be mixed (unless
 * CLI_PARSE_STOP_AT_OPERAND), "--" ends the options, long options may be abbreviated to a
 * unique prefix and take their value as "--name VALUE" or "--name=VALUE", short ones as
 * "-o VALUE" or "-oVALUE", and "-vv" bundles. -h/--help, -v/--verbose and -q/--quiet are
 * built in (a table may give its own help text for them with CLI_VERBOSE/CLI_QUIET), as is the
 * hidden --options-json, which prints the table as JSON for tests and tools
 * (`freqpilot help --options-json COMMAND`).
 *
 * Errors are uniform and name the option: "--confidence: expected a number in (0, 1), got
 * 'x'", "--format: expected csv or json, got 'xml'", "--bootstrap: needs a value",
 * "unknown option '--bogus'", each followed by "Try 'freqpilot CMD --help'".
 *
 * CLI_GROUP("Cluster (docs/cluster.md)") starts a group of options under a heading of its own
 * (git's OPT_GROUP); the built-in -v, -q and -h close the options before the first group.
 *
 * Ranges are text, shown as they are in the error: "(0, 1)", "[0.5, 1)", "(0, 1]", "[0, 1]",
 * "> 0", ">= 0", "< 10", "<= 10", and for whole numbers also "1..1000" (both ends included).
 */

#include <stddef.h>
#include <stdio.h>

typedef enum cli_opt_type {
    CLI_OPT_END = 0,
    CLI_OPT_FLAG,     /* no value: *(int *)value = ival */
    CLI_OPT_STRING,   /* *(const char **)value = the value */
    CLI_OPT_INT,      /* *(int *)value: a whole number within range */
    CLI_OPT_LONG,     /* *(long *)value: a whole number within range */
    CLI_OPT_DOUBLE,   /* *(double *)value: a finite number within range */
    CLI_OPT_FRACTION, /* *(double *)value: "0.05" or "5%" (a fraction), within range */
    CLI_OPT_CHOICE,   /* *(int *)value = index of the value in choices */
    CLI_OPT_LIST,     /* ((const char **)value)[(*count)++] = the value, at most max_items */
    CLI_OPT_CALLBACK, /* cb(opt, value): converts and stores it itself */
    CLI_OPT_VERBOSE,  /* -v: one more level of messages */
    CLI_OPT_QUIET,    /* -q: errors only */
    CLI_OPT_HELP,     /* -h: print the help and stop */
    CLI_OPT_GROUP,    /* not an option: a heading in OPTIONS (help = its title) */
} cli_opt_type;

enum {
    CLI_OPTF_HIDDEN = 1u << 0, /* parsed, but left out of the help (internal use) */
    CLI_OPTF_OUTPUT = 1u << 1, /* a file to write: a folder is a usage error */
    CLI_OPTF_NOCASE = 1u << 2, /* CHOICE: letter case does not matter */
    CLI_OPTF_NOARG = 1u << 3,  /* CALLBACK: takes no value (called with NULL) */
};

typedef struct cli_option cli_option;
/*
 * Converts and stores one value (NULL for a CLI_OPTF_NOARG callback). 0 when it is good;
 * otherwise non-zero with why filled ("expected max, default or MHz") or left empty (then the
 * error says "expected <what>"); the parser prints it, naming the option.
 */
typedef int (*cli_option_cb)(const cli_option *opt, const char *arg, char *why, size_t why_size);

struct cli_option {
    cli_opt_type type;
    int short_name;        /* 'o', or 0 */
    const char *long_name; /* "output": spelt --output */
    void *value;
    const char *argh;  /* the value's name in the help ("FILE"); CHOICE: default "a|b|c" */
    const char *help;  /* one paragraph, wrapped to the page; "\n" starts a new line */
    const char *range; /* numbers: the accepted range (see above); NULL: any finite number */
    const char *what;  /* the expected value in errors ("watts"); defaults by type */
    const char *const *choices; /* CHOICE: the names, NULL-terminated */
    int ival;                   /* FLAG: the value stored */
    size_t max_items;           /* LIST: capacity of the array */
    size_t *count;              /* LIST: items stored so far */
    cli_option_cb cb;           /* CALLBACK */
    int *seen;                  /* when not NULL: set to 1 when the option is given */
    unsigned flags;             /* CLI_OPTF_* */
};

/* A section of the manual page between DESCRIPTION and OPTIONS (RULES, COMMANDS, ...). */
typedef struct cli_section {
    const char *title; /* "RULES (docs/method.md has the reasoning)" */
    const char *body;  /* lines without the page's 4-column indent */
} cli_section;

/* A command's manual page; every text is written without the page's 4-column indent. */
typedef struct cli_command {
    const char *name;            /* "aggregate", "govern" (errors: "Try 'freqpilot NAME --help'") */
    const char *summary;         /* NAME line: "freqpilot NAME - <summary>" */
    const char *synopsis;        /* lines */
    const char *description;     /* paragraphs */
    const cli_section *sections; /* NULL, or an array ending with {NULL, NULL} */
    const char *options_note;    /* text after the option list, or NULL */
    const char *exit_status;
    const char *examples;
    const char *const *subcommands; /* NULL, or the subcommands' names, NULL-terminated */
    unsigned flags;                 /* CLI_PARSE_* */
} cli_command;

enum {
    /* The first operand ends the options (what follows is a command line of its own). */
    CLI_PARSE_STOP_AT_OPERAND = 1u << 0,
    /* The command takes no operands: one is a usage error ("unexpected argument 'X'"). */
    CLI_PARSE_NO_OPERANDS = 1u << 1,
};

/*
 * Parses argv[1..argc) (argv[0] is the command's name) against opts. Returns the number of
 * operands, moved to argv[0..n) in their order (argv[n] = NULL), or -1 when the command is to
 * stop: *exit_code = 0 after --help or --options-json, EXIT_USAGE after a usage error
 * (printed), EXIT_FAIL when the table itself is wrong (a bug, printed).
 */
int cli_parse_options(const cli_command *cmd, const cli_option *opts, int argc, char **argv,
                      int *exit_code);

/* The whole manual page (OPTIONS from opts, -h/-v/-q added) to fp. */
void cli_render_help(FILE *fp, const cli_command *cmd, const cli_option *opts);

/* The table as JSON ({"command", "options": [{long, short, type, value, range, ...}]}). */
int cli_options_json(FILE *fp, const cli_command *cmd, const cli_option *opts);

/*
 * Checks a table: names present and unique, ranges well formed, CHOICE with choices, LIST
 * with a count. 0, or -1 with why filled.
 */
int cli_options_check(const cli_option *opts, char *why, size_t why_size);

/*
 * The entry that "--name" or "--name=VALUE" (arg, the leading "--" included) names as the
 * parser reads it: exactly, else by a unique abbreviation; built-ins included. NULL when
 * unknown or ambiguous. For commands that pass their options on (profile --slurm).
 */
const cli_option *cli_find_long_option(const cli_option *opts, const char *arg);
/* Whether o takes a value ("--name VALUE"). */
int cli_option_takes_value(const cli_option *o);

/* Entries. */
#define CLI_END                                                                                    \
    {                                                                                              \
        .type = CLI_OPT_END                                                                        \
    }
#define CLI_FLAG(l, p, h)                                                                          \
    {                                                                                              \
        .type = CLI_OPT_FLAG, .long_name = (l), .value = (p), .ival = 1, .help = (h)               \
    }
#define CLI_SET_INT(l, p, v, h)                                                                    \
    {                                                                                              \
        .type = CLI_OPT_FLAG, .long_name = (l), .value = (p), .ival = (v), .help = (h)             \
    }
#define CLI_STRING(l, p, a, h)                                                                     \
    {                                                                                              \
        .type = CLI_OPT_STRING, .long_name = (l), .value = (p), .argh = (a), .help = (h)           \
    }
/* A file the command writes: checked not to be a folder before any work. */
#define CLI_OUTFILE(l, p, a, h)                                                                    \
    {                                                                                              \
        .type = CLI_OPT_STRING, .long_name = (l), .value = (p), .argh = (a), .help = (h),          \
        .flags = CLI_OPTF_OUTPUT                                                                   \
    }
#define CLI_OUTPUT(p, h)                                                                           \
    {                                                                                              \
        .type = CLI_OPT_STRING, .short_name = 'o', .long_name = "output", .value = (p),            \
        .argh = "FILE", .help = (h), .flags = CLI_OPTF_OUTPUT                                      \
    }
#define CLI_INT(l, p, a, r, h)                                                                     \
    {                                                                                              \
        .type = CLI_OPT_INT, .long_name = (l), .value = (p), .argh = (a), .range = (r),            \
        .help = (h)                                                                                \
    }
#define CLI_LONG(l, p, a, r, h)                                                                    \
    {                                                                                              \
        .type = CLI_OPT_LONG, .long_name = (l), .value = (p), .argh = (a), .range = (r),           \
        .help = (h)                                                                                \
    }
/* w: the expected value in errors ("watts", "MHz"); NULL: "a number". */
#define CLI_DOUBLE(l, p, a, w, r, h)                                                               \
    {                                                                                              \
        .type = CLI_OPT_DOUBLE, .long_name = (l), .value = (p), .argh = (a), .what = (w),          \
        .range = (r), .help = (h)                                                                  \
    }
#define CLI_FRACTION(l, p, a, r, h)                                                                \
    {                                                                                              \
        .type = CLI_OPT_FRACTION, .long_name = (l), .value = (p), .argh = (a), .range = (r),       \
        .help = (h)                                                                                \
    }
/* c: a NULL-terminated array of names, e.g. CLI_CHOICES("csv", "json"). */
#define CLI_CHOICES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CLI_CHOICE(l, p, c, h)                                                                     \
    {                                                                                              \
        .type = CLI_OPT_CHOICE, .long_name = (l), .value = (p), .choices = (c), .help = (h)        \
    }
#define CLI_LIST(l, p, n, max, a, h)                                                               \
    {                                                                                              \
        .type = CLI_OPT_LIST, .long_name = (l), .value = (p), .count = (n), .max_items = (max),    \
        .argh = (a), .help = (h)                                                                   \
    }
/* w: what is expected, for errors the callback leaves unexplained. */
#define CLI_CALLBACK(l, p, a, w, f, h)                                                             \
    {                                                                                              \
        .type = CLI_OPT_CALLBACK, .long_name = (l), .value = (p), .argh = (a), .what = (w),        \
        .cb = (f), .help = (h)                                                                     \
    }
#define CLI_VERBOSE(h)                                                                             \
    {                                                                                              \
        .type = CLI_OPT_VERBOSE, .short_name = 'v', .long_name = "verbose", .help = (h)            \
    }
#define CLI_QUIET(h)                                                                               \
    {                                                                                              \
        .type = CLI_OPT_QUIET, .short_name = 'q', .long_name = "quiet", .help = (h)                \
    }
/* A heading in the OPTIONS section before the entries that follow (git's OPT_GROUP). */
#define CLI_GROUP(title)                                                                           \
    {                                                                                              \
        .type = CLI_OPT_GROUP, .help = (title)                                                     \
    }
#define CLI_HELP(h)                                                                                \
    {                                                                                              \
        .type = CLI_OPT_HELP, .short_name = 'h', .long_name = "help", .help = (h)                  \
    }

#endif
