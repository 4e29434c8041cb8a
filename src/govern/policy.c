/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The policy registry: policies are found by name in policies.def, created for a GPU's clock
 * table, configured through their tunables ("key=value"), started and asked for a clock.
 * A policy never touches the GPU itself (the daemon and the replays do, through clockguard or
 * the simulated device), so each one is a pure function of its inputs, tunables and state.
 * Also here: the static clock from an optimize JSON.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "freqpilot/optimize.h"
#include "govern/policy_int.h"
#include "util/input.h"

#define FP_POLICY(n) extern const fp_policy_ops fp_policy_##n##_ops;
#include "govern/policies.def"
#undef FP_POLICY

static const fp_policy_ops *const registry[] = {
#define FP_POLICY(n) &fp_policy_##n##_ops,
#include "govern/policies.def"
#undef FP_POLICY
};
#define NPOL (sizeof registry / sizeof registry[0])

size_t fp_policy_count(void)
{
    return NPOL;
}

const fp_policy_ops *fp_policy_at(size_t i)
{
    return i < NPOL ? registry[i] : NULL;
}

const fp_policy_ops *fp_policy_find(const char *name)
{
    for (size_t i = 0; name && i < NPOL; i++)
        if (strcasecmp(name, registry[i]->name) == 0)
            return registry[i];
    return NULL;
}

const char *fp_policy_names(void)
{
    static char buf[256];
    if (!buf[0]) {
        size_t n = 0;
        for (size_t i = 0; i < NPOL && n < sizeof buf; i++)
            n +=
                (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? ", " : "", registry[i]->name);
    }
    return buf;
}

/* ---- clock table ---- */

unsigned gv_snap(const fp_policy *p, double mhz)
{
    if (p->n_clocks == 0)
        return (unsigned)lround(mhz);
    unsigned best = p->clocks_mhz[0];
    double bd = fabs(best - mhz);
    for (unsigned i = 1; i < p->n_clocks; i++) {
        double d = fabs(p->clocks_mhz[i] - mhz);
        if (d < bd) {
            bd = d;
            best = p->clocks_mhz[i];
        }
    }
    return best;
}

unsigned gv_snap_up(const fp_policy *p, double mhz)
{
    unsigned best = p->n_clocks ? p->clocks_mhz[0] : (unsigned)ceil(mhz);
    for (unsigned i = 0; i < p->n_clocks; i++)
        if (p->clocks_mhz[i] + 1e-9 >= mhz)
            best = p->clocks_mhz[i];
    return best;
}

unsigned gv_index_of(const fp_policy *p, unsigned mhz)
{
    for (unsigned i = 0; i < p->n_clocks; i++)
        if (p->clocks_mhz[i] <= mhz)
            return i;
    return p->n_clocks ? p->n_clocks - 1 : 0;
}

fp_status gv_need_clocks(fp_policy *p, fp_error *err)
{
    if (p->n_clocks == 0 || p->f_max_mhz == 0)
        return fp_error_set(err, FP_ERR_INVALID, "policy %s: expected the GPU's clock table",
                            p->ops->name);
    return FP_OK;
}

/* ---- instances ---- */

fp_status fp_policy_new(const char *name, const fp_gpu_info *info, fp_policy **out, fp_error *err)
{
    *out = NULL;
    const fp_policy_ops *ops = fp_policy_find(name);
    if (!ops)
        return fp_error_set(err, FP_ERR_INVALID, "unknown policy '%s' (expected %s)",
                            name ? name : "", fp_policy_names());
    fp_policy *p = calloc(1, ops->size);
    if (!p)
        return fp_error_set(err, FP_ERR_NOMEM, "policy %s: out of memory", ops->name);
    p->ops = ops;
    if (info) {
        p->n_clocks = info->n_graphics_clocks < FP_GPU_MAX_CLOCKS ? info->n_graphics_clocks
                                                                  : FP_GPU_MAX_CLOCKS;
        memcpy(p->clocks_mhz, info->graphics_clocks_mhz, p->n_clocks * sizeof p->clocks_mhz[0]);
        p->f_max_mhz =
            info->max_clock_mhz ? info->max_clock_mhz : (p->n_clocks ? p->clocks_mhz[0] : 0);
    }
    /*
     * Without a measured curve, the energy-efficient clock is taken at 64 % of f_max: the
     * voltage knee of the parts in docs/simulated-gpu.md (900/1410, 1050/1785 MHz), below
     * which the voltage stops falling and only static energy grows.
     */
    p->f_e_mhz = gv_snap(p, 0.64 * p->f_max_mhz);
    if (ops->defaults)
        ops->defaults(p);
    *out = p;
    return FP_OK;
}

void fp_policy_free(fp_policy *p)
{
    if (!p)
        return;
    if (p->ops->release)
        p->ops->release(p);
    free(p);
}

const char *fp_policy_name(const fp_policy *p)
{
    return p ? p->ops->name : "none";
}

static int tunable_index(const fp_policy *p, const char *key)
{
    const fp_policy_tunable *t = p->ops->tunables;
    for (int i = 0; t && t[i].name; i++)
        if (strcasecmp(key, t[i].name) == 0)
            return i;
    return -1;
}

int fp_policy_has(const fp_policy *p, const char *key)
{
    return key && (strcasecmp(key, "f_e") == 0 || tunable_index(p, key) >= 0);
}

static void *field(fp_policy *p, const fp_policy_tunable *t)
{
    return (char *)p + t->offset;
}

static size_t field_size(const fp_policy_tunable *t)
{
    switch (t->type) {
    case FP_TUNE_MHZ:
        return sizeof(unsigned);
    case FP_TUNE_STR:
        return FP_TUNE_STR_MAX;
    default:
        return sizeof(double);
    }
}

/* "expected KEY, ..." for messages. */
static void keys_of(const fp_policy *p, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "f_e");
    for (const fp_policy_tunable *t = p->ops->tunables; t && t->name && n < size; t++)
        n += (size_t)snprintf(buf + n, size - n, ", %s", t->name);
}

/* The defaults of every tunable the user has not set, recomputed (after f_e moved). */
static fp_status redefault(fp_policy *p, fp_error *err)
{
    if (!p->ops->defaults)
        return FP_OK;
    fp_policy *tmp = malloc(p->ops->size);
    if (!tmp)
        return fp_error_set(err, FP_ERR_NOMEM, "policy %s: out of memory", p->ops->name);
    memcpy(tmp, p, p->ops->size);
    p->ops->defaults(tmp);
    const fp_policy_tunable *t = p->ops->tunables;
    for (int i = 0; t && t[i].name; i++)
        if (!(p->set_mask & (1ul << i)))
            memcpy(field(p, &t[i]), field(tmp, &t[i]), field_size(&t[i]));
    free(tmp);
    return FP_OK;
}

/*
 * A clock setting on a policy with a clock table must lie within it (the GPU's supported range:
 * a clock from a user or a file is refused, never moved into range); inside, it is snapped.
 * The wording names the setting as "STATIC clock", "COMPUTE phase clock", ....
 */
static fp_status check_clock(const fp_policy *p, const char *key, double v, fp_error *err)
{
    if (p->n_clocks == 0)
        return FP_OK;
    unsigned lo = p->clocks_mhz[p->n_clocks - 1], hi = p->clocks_mhz[0];
    if (v >= lo && v <= hi)
        return FP_OK;
    char what[96];
    if (strcasecmp(key, "clock") == 0)
        snprintf(what, sizeof what, "%s clock", p->ops->name);
    else
        snprintf(what, sizeof what, "%s %s clock", key, p->ops->name);
    return fp_error_set(err, FP_ERR_INVALID,
                        "policy %s: %s: %.10g MHz is outside the supported clocks (%u..%u MHz); "
                        "nothing changed",
                        p->ops->name, what, v, lo, hi);
}

static fp_status set_number(fp_policy *p, const char *key, double v, const char *text,
                            fp_error *err)
{
    const char *pn = p->ops->name;
    fp_status st;
    if (strcasecmp(key, "f_e") == 0) {
        if (!(v > 0 && v < 1e5))
            return fp_error_set(err, FP_ERR_INVALID, "policy %s: f_e=%s: expected a clock in MHz",
                                pn, text);
        if ((st = check_clock(p, key, v, err)) != FP_OK)
            return st;
        p->f_e_mhz = gv_snap(p, v);
        p->started = 0;
        return redefault(p, err);
    }
    int i = tunable_index(p, key);
    if (i < 0) {
        char keys[512];
        keys_of(p, keys, sizeof keys);
        return fp_error_set(err, FP_ERR_INVALID, "policy %s: unknown setting '%s' (expected %s)",
                            pn, key, keys);
    }
    const fp_policy_tunable *t = &p->ops->tunables[i];
    switch (t->type) {
    case FP_TUNE_MHZ:
        if (!(v > 0 && v < 1e5))
            return fp_error_set(err, FP_ERR_INVALID, "policy %s: %s=%s: expected a clock in MHz",
                                pn, t->name, text);
        if ((st = check_clock(p, t->name, v, err)) != FP_OK)
            return st;
        *(unsigned *)field(p, t) = gv_snap(p, v);
        break;
    case FP_TUNE_NUM:
    case FP_TUNE_SECONDS:
        if (!(v >= t->min && v <= t->max))
            return fp_error_set(err, FP_ERR_INVALID, "policy %s: %s=%s: expected %g..%g%s", pn,
                                t->name, text, t->min, t->max,
                                t->type == FP_TUNE_SECONDS ? " s (\"2s\", \"100ms\")" : "");
        *(double *)field(p, t) = v;
        break;
    case FP_TUNE_STR:
        return fp_error_set(err, FP_ERR_INVALID, "policy %s: %s: expected text, not a number", pn,
                            t->name);
    }
    p->set_mask |= 1ul << i;
    p->started = 0;
    return FP_OK;
}

int fp_parse_duration(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s)
        return -1;
    while (*end == ' ')
        end++;
    double mul = 1;
    if (*end == 0 || strcmp(end, "s") == 0)
        mul = 1;
    else if (strcmp(end, "ms") == 0)
        mul = 1e-3;
    else if (strcmp(end, "us") == 0)
        mul = 1e-6;
    else if (strcmp(end, "min") == 0)
        mul = 60;
    else
        return -1;
    *out = v * mul;
    return isfinite(*out) ? 0 : -1;
}

fp_status fp_policy_set(fp_policy *p, const char *key, const char *value, fp_error *err)
{
    const char *pn = p->ops->name;
    if (!key || !value)
        return fp_error_set(err, FP_ERR_INVALID, "policy %s: expected KEY=VALUE", pn);
    int i = tunable_index(p, key);
    if (i >= 0 && p->ops->tunables[i].type == FP_TUNE_STR) {
        const fp_policy_tunable *t = &p->ops->tunables[i];
        if (strlen(value) >= FP_TUNE_STR_MAX)
            return fp_error_set(err, FP_ERR_INVALID, "policy %s: %s: longer than %d characters", pn,
                                t->name, FP_TUNE_STR_MAX - 1);
        snprintf((char *)field(p, t), FP_TUNE_STR_MAX, "%s", value);
        p->set_mask |= 1ul << i;
        p->started = 0;
        return FP_OK;
    }
    double v;
    if (i >= 0 && p->ops->tunables[i].type == FP_TUNE_SECONDS) {
        if (fp_parse_duration(value, &v) != 0)
            return fp_error_set(err, FP_ERR_INVALID,
                                "policy %s: %s='%s': expected a duration (\"2s\", \"100ms\")", pn,
                                key, value);
    } else if (i >= 0 || strcasecmp(key, "f_e") == 0) {
        char *end;
        errno = 0;
        v = strtod(value, &end);
        if (errno || end == value || *end)
            return fp_error_set(err, FP_ERR_INVALID, "policy %s: %s='%s': expected a number", pn,
                                key, value);
    } else {
        v = NAN; /* unknown key: set_number names the keys */
    }
    return set_number(p, key, v, value, err);
}

fp_status fp_policy_set_num(fp_policy *p, const char *key, double value, fp_error *err)
{
    char text[64];
    snprintf(text, sizeof text, "%g", value);
    return set_number(p, key, value, text, err);
}

fp_status fp_policy_configure(fp_policy *p, const char *spec, fp_error *err)
{
    if (!spec)
        return FP_OK;
    char *buf = strdup(spec);
    if (!buf)
        return fp_error_set(err, FP_ERR_NOMEM, "policy %s: out of memory", p->ops->name);
    fp_status st = FP_OK;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && st == FP_OK;
         tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok) {
            st = fp_error_set(err, FP_ERR_INVALID, "policy %s: '%s': expected KEY=VALUE",
                              p->ops->name, tok);
            break;
        }
        char *ke = eq;
        while (ke > tok && isspace((unsigned char)ke[-1]))
            ke--;
        *ke = 0;
        char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        char *ve = v + strlen(v);
        while (ve > v && isspace((unsigned char)ve[-1]))
            *--ve = 0;
        st = fp_policy_set(p, tok, v, err);
    }
    free(buf);
    return st;
}

double fp_policy_get_num(const fp_policy *p, const char *key)
{
    if (key && strcasecmp(key, "f_e") == 0)
        return p->f_e_mhz;
    int i = tunable_index(p, key ? key : "");
    if (i < 0)
        return NAN;
    const fp_policy_tunable *t = &p->ops->tunables[i];
    const void *f = (const char *)p + t->offset;
    switch (t->type) {
    case FP_TUNE_MHZ:
        return *(const unsigned *)f;
    case FP_TUNE_NUM:
    case FP_TUNE_SECONDS:
        return *(const double *)f;
    default:
        return NAN;
    }
}

void fp_policy_describe(const fp_policy *p, char *buf, size_t size)
{
    size_t n = 0;
    if (size)
        buf[0] = 0;
    for (const fp_policy_tunable *t = p->ops->tunables; t && t->name && n < size; t++) {
        const void *f = (const char *)p + t->offset;
        const char *sep = n ? "," : "";
        switch (t->type) {
        case FP_TUNE_MHZ:
            n += (size_t)snprintf(buf + n, size - n, "%s%s=%u", sep, t->name, *(const unsigned *)f);
            break;
        case FP_TUNE_NUM:
            n += (size_t)snprintf(buf + n, size - n, "%s%s=%g", sep, t->name, *(const double *)f);
            break;
        case FP_TUNE_SECONDS:
            n += (size_t)snprintf(buf + n, size - n, "%s%s=%gs", sep, t->name, *(const double *)f);
            break;
        case FP_TUNE_STR:
            if (*(const char *)f)
                n += (size_t)snprintf(buf + n, size - n, "%s%s=%s", sep, t->name, (const char *)f);
            break;
        }
    }
}

fp_status fp_policy_start(fp_policy *p, fp_error *err)
{
    p->started = 0;
    if (p->ops->release)
        p->ops->release(p);
    fp_status st = p->ops->start ? p->ops->start(p, err) : FP_OK;
    p->started = st == FP_OK;
    return st;
}

unsigned fp_policy_decide(fp_policy *p, const fp_policy_input *in)
{
    /* Not started (or settings changed since): the safe answer is the default clocks. */
    return p->started ? p->ops->decide(p, in) : 0;
}

fp_status fp_policy_static_from_json(const char *path, const char *gpu, const char *app,
                                     double max_slowdown, unsigned *freq_mhz, fp_error *err)
{
    json_t *root = fp_json_load_input(path, 0, err);
    if (!root)
        return err ? err->code : FP_ERR_PARSE;
    fp_status st = FP_OK;
    json_t *results = json_object_get(root, "results");
    if (!json_is_array(results)) {
        st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                         "expected an optimize JSON with a \"results\" array");
        goto out;
    }
    size_t i;
    json_t *row;
    int found = 0;
    char skipped[400] = "";
    json_array_foreach(results, i, row)
    {
        const char *g = json_string_value(json_object_get(row, "gpu"));
        const char *a = json_string_value(json_object_get(row, "app"));
        json_t *f = json_object_get(row, "freq_mhz");
        double ms = json_number_value(json_object_get(row, "max_slowdown"));
        if (gpu && (!g || strcasecmp(g, gpu) != 0))
            continue;
        if (app && (!a || strcasecmp(a, app) != 0))
            continue;
        if (!isnan(max_slowdown) && !json_is_number(json_object_get(row, "max_slowdown")))
            continue;
        if (!isnan(max_slowdown) && fabs(ms - max_slowdown) > 1e-9)
            continue;
        if (!json_is_number(f) || !(json_number_value(f) > 0 && json_number_value(f) <= 10000)) {
            st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                             "results[%zu]: expected a clock of 1..10000 MHz in freq_mhz", i);
            goto out;
        }
        /* Only a deployable recommendation (or one that keeps the baseline) is applied. */
        const char *verdict = json_string_value(json_object_get(row, "verdict"));
        double base = json_number_value(json_object_get(row, "baseline_mhz"));
        int keeps = json_is_number(json_object_get(row, "baseline_mhz")) &&
                    fabs(base - json_number_value(f)) < 0.5;
        if (!keeps && (!verdict || strcmp(verdict, fp_verdict_name(FP_VERDICT_DEPLOYABLE)) != 0)) {
            if (!skipped[0]) {
                const char *why = json_string_value(json_object_get(row, "verdict_reason"));
                snprintf(skipped, sizeof skipped, "results[%zu] (%s %s) is %s%s%s", i, g ? g : "?",
                         a ? a : "?",
                         verdict ? verdict : "without a verdict (an older optimize JSON)",
                         why ? ": " : "", why ? why : "");
            }
            continue;
        }
        *freq_mhz = (unsigned)lround(json_number_value(f));
        found = 1;
        break;
    }
    if (!found)
        st = fp_error_at(err, FP_ERR_INVALID, path, 0,
                         "no deployable result for gpu %s, app %s%s%s%s", gpu ? gpu : "(any)",
                         app ? app : "(any)", isnan(max_slowdown) ? "" : " at that max_slowdown",
                         skipped[0] ? "; skipped " : ": expected a matching row in results[]",
                         skipped);
out:
    json_decref(root);
    return st;
}
