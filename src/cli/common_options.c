/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Option values several commands take, as parse_options callbacks (cli.h): objectives,
 * slowdown budgets, the baseline, input formats, GPU backends and what savings are worth. Each
 * names what it expects from the registry that defines it, so a format or backend added there shows
 * up here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "freqpilot/deploy.h"
#include "freqpilot/gpu.h"
#include "freqpilot/optimize.h"
#include "freqpilot/reader.h"
#include "freqpilot/sim.h"

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

int cli_parse_sim_noise(const char *s, double *scale)
{
    double v;
    if (strcasecmp(s, "on") == 0)
        *scale = 1.0;
    else if (strcasecmp(s, "off") == 0)
        *scale = 0.0;
    else if (cli_parse_double(s, &v) == 0 && v >= 0.0 && v <= 100.0)
        *scale = v;
    else
        return -1;
    return 0;
}

int cli_opt_sim_noise(const cli_option *o, const char *arg, char *why, size_t n)
{
    if (cli_parse_sim_noise(arg, o->value) == 0)
        return 0;
    snprintf(why, n, "expected off, on or a factor 0..100");
    return -1;
}

/* The value of a set, non-empty variable, else NULL. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int cli_sim_options_from_env(fp_sim_backend_options *o, const char *noise)
{
    fp_sim_backend_options_init(o);
    const char *v;
    if ((v = env("FREQPILOT_SIM_GPU")))
        o->gpu = v;
    if ((v = env("FREQPILOT_SIM_WORKLOAD")))
        o->workload = v;
    if ((v = env("FREQPILOT_SIM_SEED"))) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(v, &end, 0);
        if (*end || errno) {
            cli_error("FREQPILOT_SIM_SEED=%s: expected an unsigned integer", v);
            return EXIT_FAIL;
        }
        o->seed = s;
    }
    if (noise) {
        if (cli_parse_sim_noise(noise, &o->noise_scale))
            return cli_usage_error("profile", "--sim-noise: expected off, on or a factor 0..100");
    } else if ((v = env("FREQPILOT_SIM_NOISE")) && cli_parse_sim_noise(v, &o->noise_scale)) {
        cli_error("FREQPILOT_SIM_NOISE=%s: expected off, on or a factor 0..100", v);
        return EXIT_FAIL;
    }
    o->realtime = (v = env("FREQPILOT_SIM_REALTIME")) && strcmp(v, "1") == 0;
    return 0;
}

int cli_sim_configure_from_env(void)
{
    fp_sim_backend_options o;
    int rc = cli_sim_options_from_env(&o, NULL);
    if (rc == 0)
        fp_sim_backend_configure(&o);
    return rc;
}

const char *cli_backend_help(const char *prefix, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "%s", prefix ? prefix : "");
    for (size_t i = 0; i < fp_gpu_backend_count() && len < n; i++) {
        const fp_gpu_backend *b = fp_gpu_backend_at(i);
        len += (size_t)snprintf(buf + len, n - len, "%s%s%s: %s", i ? "; " : "", b->name,
                                strcmp(b->name, FP_GPU_BACKEND_DEFAULT) == 0 ? " (default)" : "",
                                b->description);
    }
    return buf;
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

/* The impact options: option name, [impact] key, what is expected. */
static const struct impact_key {
    const char *option, *key, *expect;
} impact_keys[] = {
    {"utilisation", "utilisation", "a fraction in (0, 1] or a %"},
    {"price", "price_per_kwh", "a price >= 0"},
    {"currency", "currency", "a unit of at most 15 bytes"},
    {"grid-intensity", "grid_gco2_per_kwh", "g CO2e per kWh >= 0"},
    {"gpus", "gpus", "a number > 0"},
};

int cli_opt_impact(const cli_option *o, const char *arg, char *why, size_t n)
{
    for (size_t i = 0; i < sizeof impact_keys / sizeof impact_keys[0]; i++) {
        if (strcmp(o->long_name, impact_keys[i].option) != 0)
            continue;
        if (fp_impact_set(o->value, impact_keys[i].key, arg) == 0)
            return 0;
        snprintf(why, n, "expected %s", impact_keys[i].expect);
        return -1;
    }
    snprintf(why, n, "not an impact option");
    return -1;
}
