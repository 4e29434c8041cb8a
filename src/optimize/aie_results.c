/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The original project's optimal_frequencies.json shapes as fp_opt_results (aie_results.h).
 * A value no GPU can have (a clock outside 1..10000 MHz, a negative energy or time) or a
 * missing key is an error naming the file and the configuration; nothing is guessed.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/aie_results.h"
#include "util/grow.h"
#include "util/input.h"

#define MHZ_MAX 10000.0

int fp_aie_results_is_original(const fp_opt_results *r)
{
    return r && strcmp(r->baseline, FP_AIE_ORIGIN) == 0;
}

/* Shape A: {"configurations": {NAME: {"optimizations": {...}}}}. */
static int is_configurations(json_t *root)
{
    return json_is_object(json_object_get(root, "configurations"));
}

/* Shape B: every value an object with optimal_frequency_mhz ({"A100+LLAMA": {...}}). */
static int is_flat(json_t *root)
{
    const char *k;
    json_t *v;
    int n = 0;
    if (!json_is_object(root) || json_object_size(root) == 0)
        return 0;
    json_object_foreach(root, k, v)
    {
        if (!json_is_object(v) || !json_object_get(v, "optimal_frequency_mhz") || !strchr(k, '+'))
            return 0;
        n++;
    }
    return n > 0;
}

static int is_original(json_t *root)
{
    return json_is_object(root) && !json_object_get(root, "results") &&
           (is_configurations(root) || is_flat(root));
}

int fp_aie_results_detect(const char *path)
{
    json_t *root = fp_json_load_input(path, 0, NULL);
    int yes = root && is_original(root);
    json_decref(root);
    return yes;
}

static void lower(char *dst, size_t n, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        dst[i] = (char)tolower((unsigned char)s[i]);
    dst[i] = '\0';
}

typedef struct ctx {
    const char *name;
    fp_opt_results *out;
    fp_error *err;
} ctx;

/* A number key; NAN when absent (required: an error). lo..hi checked when present. */
static fp_status num(ctx *c, const char *where, json_t *o, const char *key, int required, double lo,
                     double hi, double *v)
{
    json_t *j = json_object_get(o, key);
    *v = NAN;
    if (!j || json_is_null(j)) {
        if (!required)
            return FP_OK;
        return fp_error_at(c->err, FP_ERR_PARSE, c->name, 0, "%s: key \"%s\": expected a number",
                           where, key);
    }
    if (!json_is_number(j))
        return fp_error_at(c->err, FP_ERR_PARSE, c->name, 0, "%s: key \"%s\": expected a number",
                           where, key);
    *v = json_number_value(j);
    if (!(*v >= lo && *v <= hi))
        return fp_error_at(c->err, FP_ERR_PARSE, c->name, 0,
                           "%s: key \"%s\": %.10g is impossible (expected %g..%g)", where, key, *v,
                           lo, hi);
    return FP_OK;
}

static fp_status push(ctx *c, const fp_opt_result *r)
{
    fp_opt_results *out = c->out;
    if (FP_GROW(out->items, out->len, out->cap, 16))
        return fp_error_set(c->err, FP_ERR_NOMEM, "%s: out of memory", c->name);
    out->items[out->len++] = *r;
    return FP_OK;
}

static void result_init(fp_opt_result *r, const char *gpu, const char *app, const char *objective,
                        const char *file)
{
    memset(r, 0, sizeof *r);
    snprintf(r->gpu, sizeof r->gpu, "%s", gpu);
    lower(r->app, sizeof r->app, app);
    snprintf(r->objective, sizeof r->objective, "%s", objective);
    r->max_slowdown = NAN;
    r->objective_value = NAN;
    r->cmp.energy_saving_lo = r->cmp.energy_saving_hi = NAN;
    r->cmp.slowdown_lo = r->cmp.slowdown_hi = NAN;
    r->feasible = 1;
    r->cmp.slowdown_bound = NAN;
    /* Never deployable as it stands: no interval, its own (cold-start) baseline. */
    r->verdict = FP_VERDICT_INSUFFICIENT;
    snprintf(r->verdict_reason, sizeof r->verdict_reason,
             "the original project's number: no interval, measured against its own baseline "
             "run; check it with freqpilot validate");
    snprintf(r->message, sizeof r->message,
             "the original project's number (ai-inference-energy %s), not freqpilot's: its "
             "baseline is its own reference run",
             file);
}

/* Shape A. */
static fp_status read_configurations(ctx *c, json_t *confs)
{
    const char *name;
    json_t *cf;
    json_object_foreach(confs, name, cf)
    {
        json_t *g = json_object_get(cf, "gpu"), *a = json_object_get(cf, "application");
        json_t *opts = json_object_get(cf, "optimizations");
        if (!json_is_string(g) || !json_is_string(a) || !json_is_object(opts) ||
            !json_string_length(g) || !json_string_length(a) || json_string_length(g) >= 64 ||
            json_string_length(a) >= 64)
            return fp_error_at(c->err, FP_ERR_PARSE, c->name, 0,
                               "configurations.%.60s: expected \"gpu\", \"application\" (names) "
                               "and an \"optimizations\" object",
                               name);
        const char *method;
        json_t *m;
        json_object_foreach(opts, method, m)
        {
            char where[160];
            snprintf(where, sizeof where, "configurations.%.60s.optimizations.%.30s", name, method);
            if (strcmp(method, "edp") != 0 && strcmp(method, "ed2p") != 0 &&
                strcmp(method, "energy") != 0 && strcmp(method, "time") != 0)
                return fp_error_at(c->err, FP_ERR_PARSE, c->name, 0,
                                   "%s: expected the method edp, ed2p, energy or time", where);
            json_t *bc = json_object_get(m, "baseline_comparison");
            if (!json_is_object(m) || !json_is_object(bc))
                return fp_error_at(c->err, FP_ERR_PARSE, c->name, 0,
                                   "%s: expected an object with \"baseline_comparison\"", where);
            fp_opt_result r;
            double pct, pen;
            fp_status st;
            result_init(&r, json_string_value(g), json_string_value(a), method,
                        "optimal_frequencies.json");
            if ((st = num(c, where, m, "frequency", 1, 1, MHZ_MAX, &r.freq_mhz)) ||
                (st = num(c, where, m, "energy", 0, 0, INFINITY, &r.energy_j)) ||
                (st = num(c, where, m, "execution_time", 0, 0, 1e7, &r.time_s)) ||
                (st = num(c, where, m, "avg_power", 0, 0, 5000, &r.power_w)) ||
                (st = num(c, where, m, "metric_value", 0, 0, INFINITY, &r.objective_value)) ||
                (st = num(c, where, bc, "baseline_frequency", 1, 1, MHZ_MAX, &r.baseline_mhz)) ||
                (st = num(c, where, bc, "energy_savings_percent", 0, -1e6, 100, &pct)) ||
                (st = num(c, where, bc, "time_penalty_percent", 0, -100, 1e6, &pen)))
                return st;
            r.cmp.energy_saving = pct / 100;
            r.cmp.slowdown = pen / 100;
            if ((st = push(c, &r)))
                return st;
        }
    }
    return FP_OK;
}

/* Shape B: "A100+LLAMA": {...}, EDP under the original's performance constraint. */
static fp_status read_flat(ctx *c, json_t *root)
{
    const char *name;
    json_t *o;
    json_object_foreach(root, name, o)
    {
        const char *plus = strchr(name, '+');
        char gpu[64], where[128];
        size_t gl = (size_t)(plus - name);
        if (gl == 0 || gl >= sizeof gpu || !plus[1] || strlen(plus + 1) >= 64)
            return fp_error_at(c->err, FP_ERR_PARSE, c->name, 0,
                               "\"%.60s\": expected a key GPU+APPLICATION", name);
        memcpy(gpu, name, gl);
        gpu[gl] = '\0';
        snprintf(where, sizeof where, "\"%.60s\"", name);
        fp_opt_result r;
        double pct, pen;
        fp_status st;
        result_init(&r, gpu, plus + 1, "edp", "optimal_frequencies");
        if ((st = num(c, where, o, "optimal_frequency_mhz", 1, 1, MHZ_MAX, &r.freq_mhz)) ||
            (st = num(c, where, o, "baseline_frequency_mhz", 0, 1, MHZ_MAX, &r.baseline_mhz)) ||
            (st = num(c, where, o, "optimal_execution_time_s", 0, 0, 1e7, &r.time_s)) ||
            (st = num(c, where, o, "optimal_power_w", 0, 0, 5000, &r.power_w)) ||
            (st = num(c, where, o, "energy_savings_percent", 0, -1e6, 100, &pct)) ||
            (st = num(c, where, o, "performance_penalty_percent", 0, -100, 1e6, &pen)))
            return st;
        r.energy_j = r.time_s * r.power_w;
        r.cmp.energy_saving = pct / 100;
        r.cmp.slowdown = pen / 100;
        if ((st = push(c, &r)))
            return st;
    }
    return FP_OK;
}

static fp_status read_root(json_t *root, const char *name, fp_opt_results *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->baseline, sizeof out->baseline, "%s", FP_AIE_ORIGIN);
    out->confidence = out->budget_confidence = out->margin = NAN;
    ctx c = {name, out, err};
    fp_status st;
    if (!is_original(root))
        st = fp_error_at(err, FP_ERR_FORMAT, name, 0,
                         "expected the original project's optimal_frequencies.json "
                         "({\"configurations\": {...}}) or {\"GPU+APP\": "
                         "{\"optimal_frequency_mhz\": ...}}");
    else if (is_configurations(root))
        st = read_configurations(&c, json_object_get(root, "configurations"));
    else
        st = read_flat(&c, root);
    if (st == FP_OK && out->len == 0)
        st = fp_error_at(err, FP_ERR_PARSE, name, 0, "no configurations: nothing to compare");
    if (st != FP_OK)
        fp_opt_results_free(out);
    return st;
}

fp_status fp_aie_results_read(const char *path, fp_opt_results *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *root = fp_json_load_input(path, 0, err);
    if (!root)
        return err ? err->code : FP_ERR_PARSE;
    fp_status st = read_root(root, path, out, err);
    json_decref(root);
    return st;
}

fp_status fp_aie_results_read_mem(const void *data, size_t len, const char *name,
                                  fp_opt_results *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *root = fp_json_load_input_mem(data, len, name, 0, err);
    if (!root)
        return FP_ERR_PARSE;
    fp_status st = read_root(root, name, out, err);
    json_decref(root);
    return st;
}
