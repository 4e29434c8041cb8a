/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The `freqpilot run --config` file (run_config.h): read, every value checked. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "freqpilot/optimize.h"
#include "freqpilot/run_config.h"
#include "freqpilot/sim.h"
#include "util/input.h"

void fp_run_config_init(fp_run_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->objectives, sizeof c->objectives, "energy,edp,ed2p,time");
    snprintf(c->max_slowdown, sizeof c->max_slowdown, "none,0.05,0.10");
    snprintf(c->headline_objective, sizeof c->headline_objective, "energy");
    c->headline_slowdown = 0.05;
    snprintf(c->gpus, sizeof c->gpus, "V100,A100,H100");
    c->workloads[0] = '\0'; /* all built-ins */
    c->runs = 3;
    c->clock_step = 1;
    c->seed = FP_SIM_DEFAULT_SEED;
    fp_impact_opts_init(&c->impact);
}

typedef struct cfg_ctx {
    fp_run_config *c;
    char msg[512]; /* what the first bad line lacks */
    char section[64];
    unsigned seen; /* keys of the current section given so far */
} cfg_ctx;

/* The keys, one bit each in cfg_ctx.seen. */
static const struct {
    const char *section, *key;
} keys[] = {
    {"run", "objectives"},
    {"run", "max_slowdown"},
    {"run", "title"},
    {"run", "headline_objective"},
    {"run", "headline_slowdown"},
    {"simulate", "gpus"},
    {"simulate", "workloads"},
    {"simulate", "runs"},
    {"simulate", "clock_step"},
    {"simulate", "seed"},
    {"run", "constraints"},
    {"impact", "utilisation"},
    {"impact", "price_per_kwh"},
    {"impact", "currency"},
    {"impact", "grid_gco2_per_kwh"},
    {"impact", "gpus"},
};
#define NKEYS (sizeof keys / sizeof *keys)

static int fail(cfg_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(cfg_ctx *x, const char *fmt, ...)
{
    if (!x->msg[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->msg, sizeof x->msg, fmt, ap);
        va_end(ap);
    }
    return 0;
}

/* A whole number in lo..hi, nothing else (no sign games, no overflow, no "10^9"). */
static int whole(const char *v, unsigned long long lo, unsigned long long hi,
                 unsigned long long *out)
{
    char *end;
    if (!*v || *v == '-' || *v == '+')
        return -1;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

static int number(const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || !(d >= lo && d <= hi))
        return -1;
    *out = d;
    return 0;
}

/* Calls ok(token) for each comma-separated token of list; the first bad one in *bad. */
static int each(const char *list, int (*ok)(const char *), char *bad, size_t bad_size)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save), n++)
        if (!ok(t)) {
            snprintf(bad, bad_size, "%s", t);
            return -1;
        }
    if (n == 0) {
        snprintf(bad, bad_size, "%s", "(empty)");
        return -1;
    }
    return 0;
}

static int is_gpu(const char *t)
{
    for (unsigned g = 0; g < fp_sim_gpu_count(); g++)
        if (strcasecmp(fp_sim_gpu_at(g)->short_name, t) == 0)
            return 1;
    return 0;
}

static int is_workload(const char *t)
{
    for (unsigned w = 0; w < fp_sim_workload_count(); w++)
        if (strcasecmp(fp_sim_workload_at(w)->name, t) == 0)
            return 1;
    return 0;
}

static int is_objective(const char *t)
{
    fp_objective o;
    return fp_objective_parse(t, &o, NULL) == FP_OK;
}

/* "none", or a budget as a fraction (0.05) or a percentage (5%). */
static int is_budget(const char *t)
{
    if (strcasecmp(t, "none") == 0)
        return 1;
    char buf[64];
    size_t n = strlen(t);
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, t, n + 1);
    int pct = buf[n - 1] == '%';
    if (pct)
        buf[n - 1] = '\0';
    double v;
    return number(buf, 0, pct ? 1000 : 10, &v) == 0;
}

static void names(char *buf, size_t size, int gpus)
{
    size_t off = 0;
    unsigned n = gpus ? fp_sim_gpu_count() : fp_sim_workload_count();
    buf[0] = '\0';
    for (unsigned i = 0; i < n && off < size; i++) {
        int w = snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
                         gpus ? fp_sim_gpu_at(i)->short_name : fp_sim_workload_at(i)->name);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    cfg_ctx *x = user;
    fp_run_config *c = x->c;
    if (strcmp(section, x->section) != 0) {
        snprintf(x->section, sizeof x->section, "%s", section);
        x->seen = 0;
    }
    size_t k = 0;
    while (k < NKEYS && !(strcmp(section, keys[k].section) == 0 && strcmp(name, keys[k].key) == 0))
        k++;
    if (k == NKEYS)
        return fail(x,
                    "unknown key '%s' in [%s] (expected [run] objectives, max_slowdown, title, "
                    "headline_objective, headline_slowdown, constraints; [simulate] gpus, "
                    "workloads, runs, clock_step, seed; [impact] utilisation, price_per_kwh, "
                    "currency, grid_gco2_per_kwh, gpus)",
                    name, section);
    if (x->seen & (1u << k))
        return fail(x, "key '%s' given twice in [%s]: expected each key once", name, section);
    x->seen |= 1u << k;
    char bad[128], list[256];
    unsigned long long n;
    switch (k) {
    case 0: /* objectives */
        if (each(value, is_objective, bad, sizeof bad) || strlen(value) >= sizeof c->objectives)
            return fail(x,
                        "objectives: unknown objective '%s' (expected energy, time, edp, ed2p, "
                        "ednp:N or cost:ETA)",
                        bad);
        snprintf(c->objectives, sizeof c->objectives, "%s", value);
        return 1;
    case 3: /* headline_objective */
        if (!is_objective(value) || strchr(value, ',') ||
            strlen(value) >= sizeof c->headline_objective)
            return fail(x,
                        "headline_objective = '%s': expected one objective (energy, time, "
                        "edp, ed2p, ednp:N or cost:ETA)",
                        value);
        snprintf(c->headline_objective, sizeof c->headline_objective, "%s", value);
        return 1;
    case 1: /* max_slowdown */
        if (each(value, is_budget, bad, sizeof bad) || strlen(value) >= sizeof c->max_slowdown)
            return fail(x,
                        "max_slowdown: '%s' is not a budget (expected none, a fraction 0..10 or "
                        "a percentage such as 5%%)",
                        bad);
        snprintf(c->max_slowdown, sizeof c->max_slowdown, "%s", value);
        return 1;
    case 2: /* title */
        if (strlen(value) >= sizeof c->title)
            return fail(x, "title: expected at most %zu characters", sizeof c->title - 1);
        snprintf(c->title, sizeof c->title, "%s", value);
        return 1;
    case 4: /* headline_slowdown */
        if (number(value, 0, 10, &c->headline_slowdown))
            return fail(x, "headline_slowdown = '%s': expected a fraction 0..10", value);
        return 1;
    case 5: /* gpus */
        if (each(value, is_gpu, bad, sizeof bad) || strlen(value) >= sizeof c->gpus) {
            names(list, sizeof list, 1);
            return fail(x, "gpus: unknown GPU '%s' (the simulated GPUs are %s)", bad, list);
        }
        snprintf(c->gpus, sizeof c->gpus, "%s", value);
        return 1;
    case 6: /* workloads */
        if (each(value, is_workload, bad, sizeof bad) || strlen(value) >= sizeof c->workloads) {
            names(list, sizeof list, 0);
            return fail(x, "workloads: unknown workload '%s' (the built-in workloads are %s)", bad,
                        list);
        }
        snprintf(c->workloads, sizeof c->workloads, "%s", value);
        return 1;
    case 7: /* runs */
        if (whole(value, 1, FP_RUN_CONFIG_MAX_RUNS, &n))
            return fail(x, "runs = '%s': expected a whole number of runs per clock, 1..%d", value,
                        FP_RUN_CONFIG_MAX_RUNS);
        c->runs = (int)n;
        return 1;
    case 8: /* clock_step */
        if (whole(value, 1, FP_RUN_CONFIG_MAX_CLOCK_STEP, &n))
            return fail(x, "clock_step = '%s': expected a whole number 1..%d", value,
                        FP_RUN_CONFIG_MAX_CLOCK_STEP);
        c->clock_step = (int)n;
        return 1;
    case 9: /* seed */
        if (whole(value, 0, UINT64_MAX, &n))
            return fail(x, "seed = '%s': expected a whole number 0..18446744073709551615", value);
        c->seed = n;
        return 1;
    case 10: { /* constraints: a file or a preset, opened now so a bad one stops the run here */
        fp_constraints cons;
        fp_error cerr;
        if (strlen(value) >= sizeof c->constraints)
            return fail(x, "constraints: expected at most %zu characters",
                        sizeof c->constraints - 1);
        if (fp_constraints_open(value, &cons, &cerr) != FP_OK)
            return fail(x, "constraints = '%s': %s", value, cerr.msg);
        snprintf(c->constraints, sizeof c->constraints, "%s", value);
        return 1;
    }
    default: /* [impact] */
        if (fp_impact_set(&c->impact, name, value))
            return fail(x, "%s = '%s': expected %s", name, value,
                        !strcmp(name, "utilisation") ? "a fraction in (0, 1] or a percentage"
                        : !strcmp(name, "currency")  ? "a unit of 1 to 15 characters"
                        : !strcmp(name, "gpus")      ? "a number > 0"
                                                     : "a number >= 0");
        return 1;
    }
}

static fp_status finish(int rc, cfg_ctx *x, const char *name, fp_error *err)
{
    if (rc > 0)
        return fp_error_at(err, FP_ERR_PARSE, name, rc, "%s",
                           x->msg[0] ? x->msg : "expected '[section]', 'key = value' or a comment");
    if (rc < 0)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot read the config", name);
    return FP_OK;
}

fp_status fp_run_config_parse(const char *text, size_t len, const char *name, fp_run_config *c,
                              fp_error *err)
{
    char *buf = malloc(len + 1);
    if (!buf)
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", name);
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        free(buf);
        return fp_error_at(err, FP_ERR_PARSE, name, 0, "NUL byte in the config (not a text file)");
    }
    cfg_ctx x = {.c = c};
    int rc = ini_parse_string(buf, handler, &x);
    free(buf);
    return finish(rc, &x, name, err);
}

fp_status fp_run_config_load(const char *path, fp_run_config *c, fp_error *err)
{
    FILE *f = fp_input_fopen(path, err); /* regular files only: never blocks on a FIFO */
    if (!f)
        return err ? err->code : FP_ERR_IO;
    cfg_ctx x = {.c = c};
    int rc = ini_parse_file(f, handler, &x);
    fclose(f);
    return finish(rc, &x, path, err);
}
