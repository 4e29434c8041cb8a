/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The command-line option tables (src/cli/parse_options.c): parsing, errors and the help. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/parse_options.h"
#include "testutil.h"

static const cli_command cmd = {
    .name = "demo",
    .summary = "a command for tests",
    .synopsis = "freqpilot demo [OPTIONS] INPUT...",
    .description = "Parses its options.\n\nSecond paragraph.",
    .exit_status = "0 success; 2 usage error.",
    .examples = "freqpilot demo x.csv",
};

typedef struct vals {
    int flag, off, iv, choice, seen_conf;
    long lv;
    double conf, frac;
    const char *out, *str, *list[3];
    size_t nlist;
    char cb_got[64];
} vals;

static vals V;

static int baseline_cb(const cli_option *o, const char *arg, char *why, size_t n)
{
    (void)o;
    if (strcmp(arg, "max") && strcmp(arg, "default")) {
        snprintf(why, n, "expected max or default");
        return -1;
    }
    snprintf(V.cb_got, sizeof V.cb_got, "%s", arg);
    return 0;
}

/* Runs the parser over a NULL-terminated word list; returns its result, *rc the exit code,
 * and the text it printed on stderr in err (when not NULL). */
static int run(int *rc, char *err, size_t errn, ...)
{
    static char words[32][256];
    static char *argv[33];
    va_list ap;
    va_start(ap, errn);
    int argc = 0;
    argv[argc] = words[argc];
    strcpy(words[argc++], "demo");
    for (const char *w; (w = va_arg(ap, const char *));) {
        snprintf(words[argc], sizeof words[argc], "%s", w);
        argv[argc] = words[argc];
        argc++;
    }
    va_end(ap);
    argv[argc] = NULL;
    memset(&V, 0, sizeof V);
    V.off = 1;
    V.conf = 0.95;
    V.out = "-";
    const cli_option opts[] = {
        CLI_OUTPUT(&V.out, "write here"),
        CLI_FLAG("strict", &V.flag, "findings are errors"),
        CLI_SET_INT("no-drop-cold", &V.off, 0, "keep cold starts"),
        CLI_INT("bootstrap", &V.iv, "N", "100..10000000", "resamples"),
        CLI_LONG("seed", &V.lv, "N", ">= 0", "seed"),
        {.type = CLI_OPT_DOUBLE,
         .long_name = "confidence",
         .value = &V.conf,
         .argh = "P",
         .range = "(0, 1)",
         .seen = &V.seen_conf,
         .help = "interval coverage, 0 < P < 1 (0.95)"},
        CLI_DOUBLE("pmax", &V.conf, "W", "watts", "> 0", "P_max"),
        CLI_FRACTION("margin", &V.frac, "X", "[0, 0.5)", "margin"),
        CLI_CHOICE("format", &V.choice, CLI_CHOICES("csv", "json", "ai-inference-energy"),
                   "output format (csv); a long help text that has to be wrapped over more "
                   "than one line because it does not fit in the column that is left"),
        CLI_STRING("constraints", &V.str, "FILE", "per-app budgets"),
        CLI_LIST("dataset", V.list, &V.nlist, 3, "DIR", "a dataset (repeatable)"),
        CLI_CALLBACK("baseline", NULL, "B", "max or default", baseline_cb, "the baseline"),
        CLI_END,
    };
    fflush(stderr);
    FILE *cap = tmpfile();
    int saved = dup(2);
    dup2(fileno(cap), 2);
    int n = cli_parse_options(&cmd, opts, argc, argv, rc);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    if (err) {
        rewind(cap);
        size_t got = fread(err, 1, errn - 1, cap);
        err[got] = '\0';
    }
    fclose(cap);
    return n;
}

static void test_values(void **state)
{
    (void)state;
    int rc;
    char err[1024];
    int n = run(&rc, err, sizeof err, "a.csv", "--strict", "--no-drop-cold", "--bootstrap", "500",
                "--seed=7", "--confidence", "0.9", "--margin", "5%", "--format", "json",
                "-ofile.csv", "b.csv", "--baseline", "max", "--dataset", "d1", "--dat", "d2", NULL);
    assert_int_equal(n, 2);
    assert_int_equal(V.flag, 1);
    assert_int_equal(V.off, 0);
    assert_int_equal(V.iv, 500);
    assert_int_equal(V.lv, 7);
    assert_true(fabs(V.conf - 0.9) < 1e-12);
    assert_int_equal(V.seen_conf, 1);
    assert_true(fabs(V.frac - 0.05) < 1e-12);
    assert_int_equal(V.choice, 1);
    assert_string_equal(V.out, "file.csv");
    assert_string_equal(V.cb_got, "max");
    assert_int_equal(V.nlist, 2);
    assert_string_equal(V.list[0], "d1");
    assert_string_equal(V.list[1], "d2");
    assert_string_equal(err, "");
}

static void test_operands(void **state)
{
    (void)state;
    int rc;
    /* After "--" everything is an operand, options too; "-" alone is one. */
    int n = run(&rc, NULL, 0, "x", "-", "--", "--strict", "-q", NULL);
    assert_int_equal(n, 4);
    assert_int_equal(V.flag, 0);
}

#define EXPECT_ERROR(needle, ...)                                                                  \
    do {                                                                                           \
        int rc_;                                                                                   \
        char err_[1024];                                                                           \
        assert_int_equal(run(&rc_, err_, sizeof err_, __VA_ARGS__, NULL), -1);                     \
        assert_int_equal(rc_, EXIT_USAGE);                                                         \
        if (!strstr(err_, needle))                                                                 \
            fail_msg("expected '%s' in: %s", needle, err_);                                        \
        assert_non_null(strstr(err_, "Try 'freqpilot demo --help'"));                              \
    } while (0)

static void test_errors(void **state)
{
    (void)state;
    EXPECT_ERROR("--confidence: expected a number in (0, 1), got '1.5'", "--confidence", "1.5");
    EXPECT_ERROR("--confidence: expected a number in (0, 1), got 'x'", "--confidence=x");
    EXPECT_ERROR("--pmax: expected watts > 0, got '0'", "--pmax", "0");
    EXPECT_ERROR("--bootstrap: expected a whole number in 100..10000000, got 'ten'", "--bootstrap",
                 "ten");
    EXPECT_ERROR("--bootstrap: expected a whole number in 100..10000000, got '99'", "--bootstrap",
                 "99");
    EXPECT_ERROR("--seed: expected a whole number >= 0, got '-1'", "--seed", "-1");
    EXPECT_ERROR("--margin: expected a fraction (0.05) or a percentage (5%) in [0, 0.5), got "
                 "'50%'",
                 "--margin", "50%");
    EXPECT_ERROR("--format: expected csv, json or ai-inference-energy, got 'xml'", "--format",
                 "xml");
    EXPECT_ERROR("--baseline: expected max or default, got 'min'", "--baseline", "min");
    EXPECT_ERROR("--format: needs a value", "x", "--format");
    EXPECT_ERROR("-o: needs a value", "-o");
    EXPECT_ERROR("unknown option '--bogus'", "--bogus");
    EXPECT_ERROR("unknown option '-x'", "-x");
    EXPECT_ERROR("--strict: takes no value, got '1'", "--strict=1");
    EXPECT_ERROR("'--s' is ambiguous (--strict, --seed)", "--s", "1");
    EXPECT_ERROR("--dataset: given more than 3 times", "--dataset", "a", "--dataset", "b",
                 "--dataset", "c", "--dataset", "d");
    /* An output that is a folder: refused before any work. */
    EXPECT_ERROR("is a folder", "-o", "/");
}

static void test_builtins(void **state)
{
    (void)state;
    int rc;
    int before = cli_verbosity;
    cli_verbosity = 1;
    assert_int_equal(run(&rc, NULL, 0, "-vv", NULL), 0);
    assert_int_equal(cli_verbosity, 3);
    assert_int_equal(run(&rc, NULL, 0, "--verbose", "-q", NULL), 0);
    assert_int_equal(cli_verbosity, 0);
    cli_verbosity = before;
    /* --help stops with 0 (the page goes to stdout, not captured here). */
    fflush(stdout);
    FILE *cap = tmpfile();
    int saved = dup(1);
    dup2(fileno(cap), 1);
    int n = run(&rc, NULL, 0, "--strict", "--help", "--bogus", NULL);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fclose(cap);
    assert_int_equal(n, -1);
    assert_int_equal(rc, EXIT_OK);
}

static void test_stop_at_operand(void **state)
{
    (void)state;
    static char *argv[] = {"p", "--verbose", "cmd", "--strict", NULL};
    cli_command c = cmd;
    c.flags = CLI_PARSE_STOP_AT_OPERAND;
    int flag = 0, rc;
    const cli_option opts[] = {CLI_FLAG("strict", &flag, "x"), CLI_END};
    int before = cli_verbosity;
    int n = cli_parse_options(&c, opts, 4, argv, &rc);
    cli_verbosity = before;
    assert_int_equal(n, 2);
    assert_string_equal(argv[0], "cmd");
    assert_string_equal(argv[1], "--strict");
    assert_int_equal(flag, 0);
}

static void test_no_operands(void **state)
{
    (void)state;
    cli_command c = cmd;
    c.flags = CLI_PARSE_NO_OPERANDS;
    int flag = 0, rc;
    const cli_option opts[] = {CLI_FLAG("strict", &flag, "x"), CLI_END};
    static char *none[] = {"p", "--strict", NULL};
    assert_int_equal(cli_parse_options(&c, opts, 2, none, &rc), 0);
    assert_int_equal(flag, 1);
    static char *one[] = {"p", "--strict", "extra", NULL};
    assert_int_equal(cli_parse_options(&c, opts, 3, one, &rc), -1);
    assert_int_equal(rc, EXIT_USAGE);
}

/* *buf = the help page of opts (to free). */
static void help_of(const cli_option *opts, char **buf)
{
    size_t len = 0;
    *buf = NULL;
    FILE *fp = open_memstream(buf, &len);
    cli_render_help(fp, &cmd, opts);
    fclose(fp);
}

/* Each of want[0..n) found in text, in this order. */
static void assert_in_order(const char *text, const char *const *want, size_t n)
{
    const char *at = text;
    for (size_t i = 0; i < n; i++) {
        const char *hit = strstr(at, want[i]);
        if (!hit)
            fail_msg("not found (in order): '%s' in\n%s", want[i], text);
        at = hit;
    }
}

/* The page: every option named, OPTIONS from the table, lines within the page width. */
static void test_help(void **state)
{
    (void)state;
    int f = 0, ch = 0;
    const char *s = NULL;
    const cli_option opts[] = {
        CLI_FLAG("strict", &f, "findings are errors"),
        CLI_CHOICE("format", &ch, CLI_CHOICES("csv", "json"),
                   "output format (csv); a long help text that has to be wrapped over more "
                   "than one line because it does not fit in the column that is left to it"),
        CLI_STRING("a-rather-long-option-name", &s, "VALUE", "goes on its own line"),
        {.type = CLI_OPT_STRING, .long_name = "secret", .value = &s, .flags = CLI_OPTF_HIDDEN},
        CLI_QUIET("no table, errors only"),
        CLI_END,
    };
    char *buf;
    help_of(opts, &buf);
    const char *expect_in_order[] = {
        "NAME\n    freqpilot demo - a command for tests\n",
        "\nSYNOPSIS\n    freqpilot demo [OPTIONS] INPUT...\n",
        "\nDESCRIPTION\n    Parses its options.\n\n    Second paragraph.\n",
        "\nOPTIONS\n    --strict  ",
        "    --format csv|json  output format (csv);",
        "    --a-rather-long-option-name VALUE\n                       goes on its own line\n",
        "    -q, --quiet        no table, errors only\n",
        "    -v, --verbose      more messages on stderr",
        "    -h, --help         show this help\n",
        "\nEXIT STATUS\n    0 success; 2 usage error.\n",
        "\nEXAMPLES\n    freqpilot demo x.csv\n",
    };
    assert_in_order(buf, expect_in_order, sizeof expect_in_order / sizeof *expect_in_order);
    assert_null(strstr(buf, "secret"));
    assert_null(strstr(buf, "options-json"));
    /* the quiet entry of the table replaces the built-in one */
    const char *q = strstr(buf, "--quiet");
    assert_non_null(q);
    assert_null(strstr(q + 1, "--quiet"));
    for (const char *line = buf; *line;) {
        size_t w = strcspn(line, "\n");
        if (w > 92)
            fail_msg("line over 92 columns: %.*s", (int)w, line);
        line += w + (line[w] == '\n');
    }
    free(buf);
}

/* Groups: a heading before their entries; the built-ins close the options before the first. */
static void test_group(void **state)
{
    (void)state;
    int a = 0, b = 0;
    const char *s = NULL;
    const cli_option opts[] = {
        CLI_FLAG("alpha", &a, "first"),
        CLI_GROUP("Cluster (docs/cluster.md)"),
        CLI_FLAG("beta", &b, "in the group"),
        CLI_STRING("bet-on", &s, "X", "also in the group"),
        CLI_END,
    };
    char why[256];
    assert_int_equal(cli_options_check(opts, why, sizeof why), 0);
    char *buf;
    help_of(opts, &buf);
    const char *expect_in_order[] = {
        "\nOPTIONS\n    --alpha  ",
        "    -h, --help ",
        "\n\n  Cluster (docs/cluster.md)\n    --beta ",
        "    --bet-on X ",
        "\nEXIT STATUS\n",
    };
    assert_in_order(buf, expect_in_order, sizeof expect_in_order / sizeof *expect_in_order);
    free(buf);
    buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    cli_options_json(fp, &cmd, opts);
    fclose(fp);
    assert_null(strstr(buf, "Cluster"));
    assert_non_null(strstr(buf, "\"beta\""));
    free(buf);
    /* the lookup the parser uses: exact, else a unique abbreviation; built-ins included */
    assert_ptr_equal(cli_find_long_option(opts, "--bet-on=x"), &opts[3]);
    assert_ptr_equal(cli_find_long_option(opts, "--beta"), &opts[2]);
    assert_ptr_equal(cli_find_long_option(opts, "--al"), &opts[0]);
    assert_null(cli_find_long_option(opts, "--be"));
    assert_null(cli_find_long_option(opts, "--gamma"));
    const cli_option *v = cli_find_long_option(opts, "--verb");
    assert_non_null(v);
    assert_int_equal(v->type, CLI_OPT_VERBOSE);
    assert_int_equal(cli_option_takes_value(v), 0);
    assert_int_equal(cli_option_takes_value(&opts[3]), 1);
    assert_int_equal(cli_option_takes_value(&opts[1]), 0);
    /* and parses around the heading */
    static char *argv[] = {"demo", "--beta", "--bet-o", "y", "op", NULL};
    int rc;
    assert_int_equal(cli_parse_options(&cmd, opts, 5, argv, &rc), 1);
    assert_int_equal(b, 1);
    assert_string_equal(s, "y");
    const cli_option untitled[] = {CLI_GROUP(NULL), CLI_END};
    assert_int_equal(cli_options_check(untitled, why, sizeof why), -1);
}

static void test_check(void **state)
{
    (void)state;
    int a = 0, b = 0;
    char why[256];
    const cli_option dup[] = {CLI_FLAG("x", &a, "one"), CLI_FLAG("x", &b, "two"), CLI_END};
    assert_int_equal(cli_options_check(dup, why, sizeof why), -1);
    assert_non_null(strstr(why, "--x: given twice"));
    double d;
    const cli_option bad_range[] = {CLI_DOUBLE("d", &d, "X", NULL, "(1, 0)", "h"), CLI_END};
    assert_int_equal(cli_options_check(bad_range, why, sizeof why), -1);
    assert_non_null(strstr(why, "malformed range"));
    const cli_option no_help[] = {CLI_FLAG("x", &a, NULL), CLI_END};
    assert_int_equal(cli_options_check(no_help, why, sizeof why), -1);
    const char *ranges[] = {"(0, 1)", "[0.5, 1)", "(0, 1]", "[0,1]",   "> 0",
                            ">= 0",   "< 10",     "<= 10",  "1..1000", "-5..5"};
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
        const cli_option ok[] = {CLI_DOUBLE("d", &d, "X", NULL, ranges[i], "h"), CLI_END};
        if (cli_options_check(ok, why, sizeof why))
            fail_msg("range '%s' refused: %s", ranges[i], why);
    }
}

TU_MAIN(cmocka_unit_test(test_values), cmocka_unit_test(test_operands),
        cmocka_unit_test(test_errors), cmocka_unit_test(test_builtins),
        cmocka_unit_test(test_stop_at_operand), cmocka_unit_test(test_no_operands),
        cmocka_unit_test(test_help), cmocka_unit_test(test_check), cmocka_unit_test(test_group))
