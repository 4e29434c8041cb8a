/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "freqpilot/deploy.h"
#include "freqpilot/optimize.h"
#include "util/asuser.h"

int cli_verbosity = 1;
const char *cli_progname = "freqpilot";

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s", prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("error: ", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    if (cli_verbosity < 1)
        return;
    va_start(ap, fmt);
    vlog("warning: ", fmt, ap);
    va_end(ap);
}

void cli_info(const char *fmt, ...)
{
    va_list ap;
    if (cli_verbosity < 2)
        return;
    va_start(ap, fmt);
    vlog("info: ", fmt, ap);
    va_end(ap);
}

void cli_debug(const char *fmt, ...)
{
    va_list ap;
    if (cli_verbosity < 3)
        return;
    va_start(ap, fmt);
    vlog("debug: ", fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("error: ", fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s %s --help' for more information.\n", cli_progname, cmd);
    return EXIT_USAGE;
}

static void diag_warn(void *user, const char *msg)
{
    cli_diag_state *st = user;
    if (st)
        st->count++;
    cli_warn("%s", msg);
}

/*
 * Library details (each dropped run, ...) are info-level: shown with -v, otherwise counted
 * and summarised once when the command ends, so a noisy sweep cannot bury the warnings.
 */
static long info_total;

static void info_summary(void)
{
    if (info_total > 0 && cli_verbosity == 1)
        fprintf(stderr,
                "warning: %ld run(s) dropped as cold starts or outliers while aggregating (each "
                "explained with -v)\n",
                info_total);
    info_total = 0; /* said once */
}

void cli_diag_summary(void)
{
    info_summary();
}

static void diag_info(void *user, const char *msg)
{
    (void)user;
    static int registered;
    if (info_total++ == 0 && !registered) {
        registered = 1;
        atexit(info_summary);
    }
    cli_info("%s", msg);
}

fp_diag cli_diag(cli_diag_state *state)
{
    fp_diag d = {diag_warn, state, diag_info};
    return d;
}

void cli_print_help(const char *text)
{
    fputs(text, stdout);
}

int cli_check_output(const char *cmd, const char *option, const char *path)
{
    struct stat st;
    if (!path || strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    return cli_usage_error(cmd, "%s %s: is a folder, expected a file name", option, path);
}

int cli_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int cli_parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

int cli_mkdirs(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* One of the options every command takes: CLI_OPT_NEXT, or the exit code. */
enum { CLI_OPT_NEXT = -1 };
static int common_option(const cli_opts *co, int c, char **argv)
{
    switch (c) {
    case 'o':
        *co->output = optarg;
        return CLI_OPT_NEXT;
    case 'v':
        cli_verbosity++;
        return CLI_OPT_NEXT;
    case 'q':
        cli_verbosity = 0;
        return CLI_OPT_NEXT;
    case 'h':
        cli_print_help(co->help);
        return EXIT_OK;
    case ':':
        return cli_usage_error(co->cmd, "option '%s' needs a value", argv[optind - 1]);
    default:
        return cli_usage_error(co->cmd, "unknown option '%s'", argv[optind - 1]);
    }
}

int cli_getopt(cli_opts *co, int argc, char **argv, const struct option *longopts)
{
    if (!co->started) {
        optind = 0;
        opterr = 0;
        co->started = 1;
    }
    for (;;) {
        int c = getopt_long(argc, argv, co->output ? ":o:vqh" : ":vqh", longopts, NULL);
        if (c != 'o' && c != 'v' && c != 'q' && c != 'h' && c != ':' && c != '?')
            return c;
        int rc = common_option(co, c, argv);
        if (rc != CLI_OPT_NEXT) {
            co->exit_code = rc;
            return CLI_OPT_EXIT;
        }
    }
}

int cli_parse_choice(const char *arg, const char *a, const char *b, int *out)
{
    if (strcmp(arg, a) == 0)
        *out = 0;
    else if (strcmp(arg, b) == 0)
        *out = 1;
    else
        return -1;
    return 0;
}

/*
 * Calls item() on each comma-separated item of list (empty items skipped) until it
 * returns non-zero; returns that value, 0, or -1 out of memory after printing it.
 */
static int each_item(const char *list, int (*item)(const char *s, void *ctx), void *ctx)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy) {
        cli_error("out of memory");
        return -1;
    }
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save))
        rc = item(t, ctx);
    free(copy);
    return rc;
}

typedef struct objective_list {
    const char *cmd;
    fp_objective *objs;
    size_t *n, max;
} objective_list;

static int add_objective(const char *s, void *ctx)
{
    objective_list *l = ctx;
    fp_error err;
    fp_error_clear(&err);
    if (*l->n == l->max)
        return cli_usage_error(l->cmd, "--objective: at most %zu", l->max);
    if (fp_objective_parse(s, &l->objs[*l->n], &err))
        return cli_usage_error(l->cmd, "--objective: %s", err.msg);
    (*l->n)++;
    return 0;
}

int cli_parse_objectives(const char *cmd, const char *arg, fp_objective *objs, size_t *n,
                         size_t max)
{
    objective_list l = {cmd, objs, n, max};
    int rc = each_item(arg, add_objective, &l);
    return rc < 0 ? EXIT_FAIL : rc;
}

int cli_parse_fraction(const char *s, double *out)
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    int percent = buf[n - 1] == '%';
    if (percent)
        buf[n - 1] = '\0';
    double v;
    if (cli_parse_double(buf, &v) || !(v >= 0.0))
        return -1;
    *out = percent ? v / 100.0 : v;
    return 0;
}

/* "0.05", "5%" or "none" (NAN). */
static int parse_budget(const char *s, double *out)
{
    if (strcmp(s, "none") == 0) {
        *out = NAN;
        return 0;
    }
    return cli_parse_fraction(s, out) == 0 && *out <= 10.0 ? 0 : -1;
}

typedef struct budget_list {
    double *budgets;
    size_t *n, max;
} budget_list;

static int add_budget(const char *s, void *ctx)
{
    budget_list *l = ctx;
    if (*l->n == l->max || parse_budget(s, &l->budgets[*l->n]))
        return 1;
    (*l->n)++;
    return 0;
}

int cli_parse_budgets(const char *cmd, const char *arg, double *budgets, size_t *n, size_t max)
{
    budget_list l = {budgets, n, max};
    int rc = each_item(arg, add_budget, &l);
    if (rc < 0)
        return EXIT_FAIL;
    if (rc > 0)
        return cli_usage_error(cmd,
                               "--max-slowdown: expected fractions (0.05), percentages (5%%) or "
                               "'none', at most %zu, got '%s'",
                               max, arg);
    return 0;
}

int cli_parse_baseline(const char *arg, fp_opt_options *o)
{
    double v;
    if (strcmp(arg, "max") == 0)
        o->baseline = FP_BASELINE_MAX;
    else if (strcmp(arg, "default") == 0)
        o->baseline = FP_BASELINE_DEFAULT;
    else if (cli_parse_double(arg, &v) == 0 && v > 0.0) {
        o->baseline = FP_BASELINE_MHZ;
        o->baseline_mhz = v;
    } else
        return -1;
    return 0;
}

int cli_open_constraints(const char *spec, fp_constraints *c, const fp_constraints **out)
{
    *out = NULL;
    if (!spec || !spec[0])
        return 0;
    fp_error err;
    if (fp_constraints_open(spec, c, &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    *out = c;
    return 0;
}

int cli_drop_root(void)
{
    const fp_invoker *who;
    fp_error err;
    if (fp_invoker_get(&who, &err)) {
        cli_error("%s", err.msg);
        return 1;
    }
    int e = fp_invoker_become(who);
    if (e) {
        cli_error("cannot act as uid %ld: %s", (long)who->uid, strerror(e));
        return 1;
    }
    return 0;
}

int cli_check_state_dir_option(const char *cmd, const char *dir)
{
    const fp_invoker *who;
    fp_error err;
    if (fp_invoker_get(&who, &err)) {
        cli_error("%s", err.msg);
        return 1;
    }
    if (!who->drop)
        return 0;
    cli_usage_error(cmd,
                    "--state-dir %s: not under sudo (root writes clock state only where the "
                    "administrator said: $FREQPILOT_STATE_DIR or the default)",
                    dir);
    return 1;
}
