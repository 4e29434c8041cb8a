/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Option values several commands take, as parse_options callbacks (cli.h): objectives,
 * slowdown budgets, the baseline, input formats and GPU backends. Each names what it expects
 * from the registry that defines it, so a format or backend added there shows up here.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "freqpilot/gpu.h"
#include "freqpilot/optimize.h"
#include "freqpilot/reader.h"

/*
 * Calls item() on each comma-separated item of list (empty items skipped) until it returns
 * non-zero; returns that value, or 0.
 */
static int each_item(const char *list, int (*item)(const char *s, void *ctx, char *why, size_t n),
                     void *ctx, char *why, size_t n)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save))
        rc = item(t, ctx, why, n);
    free(copy);
    return rc;
}

static int add_objective(const char *s, void *ctx, char *why, size_t n)
{
    cli_objectives *l = ctx;
    fp_error err;
    fp_error_clear(&err);
    if (l->n == l->max) {
        snprintf(why, n, "at most %zu objectives", l->max);
        return -1;
    }
    if (fp_objective_parse(s, &l->objs[l->n], &err)) {
        snprintf(why, n, "%s", err.msg);
        return -1;
    }
    l->n++;
    return 0;
}

int cli_opt_objectives(const cli_option *o, const char *arg, char *why, size_t n)
{
    return each_item(arg, add_objective, o->value, why, n);
}

int cli_opt_objective(const cli_option *o, const char *arg, char *why, size_t n)
{
    fp_error err;
    fp_error_clear(&err);
    if (fp_objective_parse(arg, o->value, &err) == FP_OK)
        return 0;
    snprintf(why, n, "%s", err.msg);
    return -1;
}

/* "0.05", "5%" or "none" (NAN), at most 10. */
static int parse_budget(const char *s, double *out)
{
    if (strcmp(s, "none") == 0) {
        *out = NAN;
        return 0;
    }
    return cli_parse_fraction(s, out) == 0 && *out <= 10.0 ? 0 : -1;
}

static int add_budget(const char *s, void *ctx, char *why, size_t n)
{
    cli_budgets *l = ctx;
    (void)why;
    (void)n;
    if (l->n == l->max || parse_budget(s, &l->v[l->n]))
        return -1;
    l->n++;
    return 0;
}

int cli_opt_budgets(const cli_option *o, const char *arg, char *why, size_t n)
{
    cli_budgets *l = o->value;
    if (each_item(arg, add_budget, l, why, n) == 0)
        return 0;
    if (!why[0])
        snprintf(why, n,
                 "expected fractions (0.05), percentages (5%%) or 'none', at most %zu in all",
                 l->max);
    return -1;
}

int cli_opt_budget(const cli_option *o, const char *arg, char *why, size_t n)
{
    if (parse_budget(arg, o->value) == 0)
        return 0;
    snprintf(why, n, "expected a fraction (0.05), a percentage (5%%) or 'none'");
    return -1;
}

int cli_opt_baseline(const cli_option *o, const char *arg, char *why, size_t n)
{
    fp_opt_options *opt = o->value;
    double v;
    if (strcmp(arg, "max") == 0)
        opt->baseline = FP_BASELINE_MAX;
    else if (strcmp(arg, "default") == 0)
        opt->baseline = FP_BASELINE_DEFAULT;
    else if (cli_parse_double(arg, &v) == 0 && v > 0.0) {
        opt->baseline = FP_BASELINE_MHZ;
        opt->baseline_mhz = v;
    } else {
        snprintf(why, n, "expected max, default or a clock in MHz");
        return -1;
    }
    return 0;
}

/* "auto, smi-csv, dcgmi, ..." from the format registry. */
static void format_names(char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "auto");
    for (int i = 1; i < fp_format_count() && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, ", %s", fp_format_name((fp_format)i));
}

const char *cli_input_format_help(char *buf, size_t n)
{
    char names[512];
    format_names(names, sizeof names);
    snprintf(buf, n, "%s (docs/formats.md; auto, the default, detects it)", names);
    return buf;
}

int cli_opt_input_format(const cli_option *o, const char *arg, char *why, size_t n)
{
    int f = fp_format_from_name(arg);
    if (f >= 0) {
        *(fp_format *)o->value = (fp_format)f;
        return 0;
    }
    char names[512];
    format_names(names, sizeof names);
    snprintf(why, n, "expected a format: %s", names);
    return -1;
}

int cli_opt_backend(const cli_option *o, const char *arg, char *why, size_t n)
{
    if (fp_gpu_backend_by_name(arg)) {
        *(const char **)o->value = arg;
        return 0;
    }
    snprintf(why, n, "expected %s", fp_gpu_backend_names());
    return -1;
}
