/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Inputs of plots and reports that other stages write: optimize JSON (docs/formats.md) and the
 * model JSON of docs/report.md. Read with jansson, independent of the code that writes them.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "freqpilot/aie_results.h"
#include "freqpilot/optimize.h"
#include "freqpilot/plot.h"
#include "report/report_int.h"
#include "util/grow.h"
#include "util/keyidx.h"
#include "util/input.h"
#include "util/json_stream.h"
#include "util/output.h"
#include "util/utf8.h"

void fp_rec_init(fp_rec *r)
{
    memset(r, 0, sizeof *r);
    r->max_slowdown = r->freq_mhz = r->baseline_mhz = NAN;
    r->time_s = r->energy_j = r->power_w = NAN;
    r->energy_saving = r->energy_saving_lo = r->energy_saving_hi = NAN;
    r->slowdown = r->slowdown_lo = r->slowdown_hi = NAN;
    r->feasible = 1;
}

fp_status fp_rec_list_push(fp_rec_list *l, const fp_rec *r, fp_error *err)
{
    if (FP_GROW(l->items, l->len, l->cap, 32))
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    l->items[l->len++] = *r;
    return FP_OK;
}

void fp_rec_list_free(fp_rec_list *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void jstr(json_t *o, const char *k, char *dst, size_t n)
{
    json_t *v = json_object_get(o, k);
    if (json_is_string(v)) {
        fp_utf8_copy(dst, n, json_string_value(v), json_string_length(v));
    } else if (json_is_array(v)) {
        /* flags may come as a list */
        size_t i, off = 0;
        json_t *e;
        dst[0] = '\0';
        json_array_foreach(v, i, e)
        {
            if (json_is_string(e) && off < n)
                off += (size_t)snprintf(dst + off, n - off, "%s%s", off ? ";" : "",
                                        json_string_value(e));
        }
    }
}

typedef struct read_ctx {
    const char *path;
    void *out;
    fp_error *err;
} read_ctx;

/* Streams the array KEY of path's object through elem, its other members through member (with
 * a read_ctx over out); an object without KEY is an error naming the command that writes it. */
static fp_status read_array(const char *path, const char *key, fp_json_member_fn member,
                            fp_json_elem_fn elem, void *out, const char *writer, fp_error *err)
{
    read_ctx x = {path, out, err};
    int have = 0;
    fp_status st = fp_json_read_stream(path, key, member, elem, &x, &have, err);
    if (!st && !have)
        st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                         "expected an object with a \"%s\" array (freqpilot %s)", key, writer);
    return st;
}

static fp_status recs_member(void *ctx, const char *key, json_t *v)
{
    read_ctx *x = ctx;
    fp_rec_list *out = x->out;
    if (!strcmp(key, "baseline") && json_is_string(v))
        fp_utf8_copy(out->baseline, sizeof out->baseline, json_string_value(v),
                     json_string_length(v));
    else if (!strcmp(key, "simulated"))
        out->simulated |= json_is_true(v);
    return FP_OK;
}

static fp_status recs_elem(void *ctx, size_t i, json_t *o)
{
    read_ctx *x = ctx;
    fp_rec r;
    fp_rec_init(&r);
    jstr(o, "gpu", r.gpu, sizeof r.gpu);
    jstr(o, "app", r.app, sizeof r.app);
    jstr(o, "objective", r.objective, sizeof r.objective);
    r.max_slowdown = jnum(o, "max_slowdown");
    r.freq_mhz = jnum(o, "freq_mhz");
    r.baseline_mhz = jnum(o, "baseline_mhz");
    r.time_s = jnum(o, "time_s");
    r.energy_j = jnum(o, "energy_j");
    r.power_w = jnum(o, "power_w");
    r.energy_saving = jnum(o, "energy_saving");
    r.energy_saving_lo = jnum(o, "energy_saving_lo");
    r.energy_saving_hi = jnum(o, "energy_saving_hi");
    r.slowdown = jnum(o, "slowdown");
    r.slowdown_lo = jnum(o, "slowdown_lo");
    r.slowdown_hi = jnum(o, "slowdown_hi");
    json_t *fe = json_object_get(o, "feasible");
    r.feasible = fe ? json_is_true(fe) : 1;
    jstr(o, "flags", r.flags, sizeof r.flags);
    jstr(o, "verdict", r.verdict, sizeof r.verdict);
    jstr(o, "verdict_reason", r.verdict_reason, sizeof r.verdict_reason);
    jstr(o, "category", r.category, sizeof r.category);
    if (!r.gpu[0] || !r.app[0])
        return fp_error_at(x->err, FP_ERR_FORMAT, x->path, 0, "results[%zu]: expected gpu and app",
                           i);
    if (isfinite(r.freq_mhz) && !(r.freq_mhz > 0 && r.freq_mhz <= 10000))
        return fp_error_at(x->err, FP_ERR_PARSE, x->path, 0,
                           "results[%zu]: freq_mhz %.10g is impossible (expected 1..10000 MHz)", i,
                           r.freq_mhz);
    return fp_rec_list_push(x->out, &r, x->err);
}

/* One recommendation at a time (util/json_stream.h): a fleet's file has hundreds of
 * thousands. */
fp_status fp_recs_read_json(const char *path, fp_rec_list *out, fp_error *err)
{
    return read_array(path, "results", recs_member, recs_elem, out, "optimize", err);
}

const fp_rec *fp_recs_find(const fp_rec_list *l, const char *gpu, const char *app,
                           const char *objective, double max_slowdown)
{
    if (!l)
        return NULL;
    for (size_t i = 0; i < l->len; i++)
        if (fp_rec_is(&l->items[i], gpu, app, objective, max_slowdown))
            return &l->items[i];
    return NULL;
}

fp_keyidx *fp_recs_index(const fp_rec_list *recs)
{
    fp_keyidx *idx = fp_keyidx_new(recs ? recs->len : 0);
    for (size_t i = 0; idx && recs && i < recs->len; i++)
        if (fp_keyidx_add(idx, recs->items[i].gpu, recs->items[i].app, NAN, i) < 0) {
            fp_keyidx_free(idx);
            idx = NULL;
        }
    return idx;
}

const fp_rec *fp_recs_find_in(const fp_rec_list *recs, const fp_keyidx *idx, const char *gpu,
                              const char *app, const char *objective, double max_slowdown)
{
    if (!idx)
        return fp_recs_find(recs, gpu, app, objective, max_slowdown);
    fp_keyidx_iter it;
    size_t i;
    fp_keyidx_find(idx, gpu, app, NAN, &it);
    while (fp_keyidx_next(&it, &i))
        if (fp_rec_is(&recs->items[i], gpu, app, objective, max_slowdown))
            return &recs->items[i];
    return NULL;
}

int fp_rec_is(const fp_rec *r, const char *gpu, const char *app, const char *objective,
              double max_slowdown)
{
    if (strcmp(r->gpu, gpu) || strcmp(r->app, app) || strcmp(r->objective, objective))
        return 0;
    int a = isfinite(r->max_slowdown), b = isfinite(max_slowdown);
    return a == b && !(a && fabs(r->max_slowdown - max_slowdown) > 1e-9);
}

/* ---- validation results ---- */

void fp_val_list_free(fp_val_list *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

static fp_status vals_member(void *ctx, const char *key, json_t *v)
{
    read_ctx *x = ctx;
    fp_val_list *out = x->out;
    if (!strcmp(key, "simulated"))
        out->simulated |= json_is_true(v);
    return FP_OK;
}

static fp_status vals_elem(void *ctx, size_t i, json_t *o)
{
    read_ctx *x = ctx;
    fp_val_list *out = x->out;
    if (out->len >= out->cap) {
        size_t cap = out->len > 32 ? 2 * out->len : 64;
        fp_val *p = realloc(out->items, cap * sizeof *p);
        if (!p)
            return fp_error_set(x->err, FP_ERR_NOMEM, "out of memory");
        out->items = p;
        out->cap = cap;
    }
    fp_val *v = &out->items[out->len];
    memset(v, 0, sizeof *v);
    jstr(o, "gpu", v->gpu, sizeof v->gpu);
    jstr(o, "app", v->app, sizeof v->app);
    jstr(o, "objective", v->objective, sizeof v->objective);
    v->max_slowdown = jnum(o, "max_slowdown");
    v->freq_mhz = jnum(o, "freq_mhz");
    v->baseline_mhz = jnum(o, "baseline_mhz");
    jstr(o, "verdict", v->verdict, sizeof v->verdict);
    jstr(o, "verdict_reason", v->verdict_reason, sizeof v->verdict_reason);
    jstr(o, "status", v->status, sizeof v->status);
    json_t *checks = json_object_get(o, "checks");
    const char *name;
    json_t *c;
    size_t off = 0;
    json_object_foreach(checks, name, c)
    {
        const char *st = json_string_value(json_object_get(c, "status"));
        const char *det = json_string_value(json_object_get(c, "detail"));
        if (st && v->nchecks < FP_VAL_MAX_CHECKS) {
            fp_val_check *vc = &v->checks[v->nchecks++];
            fp_utf8_copy(vc->name, sizeof vc->name, name, strlen(name));
            fp_utf8_copy(vc->status, sizeof vc->status, st, strlen(st));
            fp_utf8_copy(vc->detail, sizeof vc->detail, det ? det : "", det ? strlen(det) : 0);
        }
        if (!st || (strcmp(st, "fail") && strcmp(st, "warn")) || off >= sizeof v->notes)
            continue;
        int w = snprintf(v->notes + off, sizeof v->notes - off, "%s%s (%s): %s", off ? "; " : "",
                         name, st, det ? det : "");
        if (w > 0)
            off += (size_t)w;
    }
    if (!v->gpu[0] || !v->app[0])
        return fp_error_at(x->err, FP_ERR_FORMAT, x->path, 0,
                           "validations[%zu]: expected gpu and app", i);
    out->len++;
    return FP_OK;
}

/* One validation at a time (util/json_stream.h). */
fp_status fp_vals_read_json(const char *path, fp_val_list *out, fp_error *err)
{
    return read_array(path, "validations", vals_member, vals_elem, out, "validate", err);
}

/* ---- recommendations from the optimize library ---- */

/* v as optimize's JSON stores it (JSON_REAL_PRECISION(10)), so that results computed here and
 * results read from `freqpilot optimize -o FILE.json` are the same numbers. */
static double as_json(double v)
{
    return isfinite(v) ? fp_num_as_written(v) : NAN;
}

fp_status fp_recs_from_opt(const fp_opt_results *res, fp_rec_list *out, fp_error *err)
{
    snprintf(out->baseline, sizeof out->baseline, "%s", res->baseline);
    out->simulated |= res->simulated;
    for (size_t i = 0; i < res->len; i++) {
        const fp_opt_result *x = &res->items[i];
        fp_rec r;
        fp_rec_init(&r);
        snprintf(r.gpu, sizeof r.gpu, "%s", x->gpu);
        snprintf(r.app, sizeof r.app, "%s", x->app);
        snprintf(r.objective, sizeof r.objective, "%s", x->objective);
        r.max_slowdown = as_json(x->max_slowdown);
        r.freq_mhz = as_json(x->freq_mhz);
        r.baseline_mhz = as_json(x->baseline_mhz);
        r.time_s = as_json(x->time_s);
        r.energy_j = as_json(x->energy_j);
        r.power_w = as_json(x->power_w);
        r.energy_saving = as_json(x->cmp.energy_saving);
        r.energy_saving_lo = as_json(x->cmp.energy_saving_lo);
        r.energy_saving_hi = as_json(x->cmp.energy_saving_hi);
        r.slowdown = as_json(x->cmp.slowdown);
        r.slowdown_lo = as_json(x->cmp.slowdown_lo);
        r.slowdown_hi = as_json(x->cmp.slowdown_hi);
        r.feasible = x->feasible;
        snprintf(r.verdict, sizeof r.verdict, "%s", fp_verdict_name(x->verdict));
        snprintf(r.verdict_reason, sizeof r.verdict_reason, "%s", x->verdict_reason);
        snprintf(r.category, sizeof r.category, "%s", x->category);
        char flags[1024]; /* as opt_io.c writes them, then cut like fp_recs_read_json */
        fp_opt_flags_format(x->data_flags, x->opt_flags, flags, (int)sizeof flags);
        size_t fl = strnlen(flags, sizeof r.flags - 1);
        memcpy(r.flags, flags, fl);
        r.flags[fl] = '\0';
        fp_status st = fp_rec_list_push(out, &r, err);
        if (st)
            return st;
    }
    return FP_OK;
}

fp_status fp_recs_optimize(const char *const *paths, size_t n, const char *objective,
                           double max_slowdown, const fp_constraints *constraints,
                           const fp_diag *diag, fp_rec_list *out, fp_error *err)
{
    const char **data = malloc((n ? n : 1) * sizeof *data);
    if (!data)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(paths[i]);
        if (!(l >= 5 && strcmp(paths[i] + l - 5, ".json") == 0))
            data[nd++] = paths[i];
    }
    fp_objective obj;
    fp_status st = fp_objective_parse(objective ? objective : "energy", &obj, err);
    fp_opt_data od;
    memset(&od, 0, sizeof od);
    if (!st)
        st = fp_opt_data_load(data, nd, NULL, diag, &od, err);
    free(data);
    if (st)
        return st;
    fp_opt_options o;
    fp_opt_options_init(&o);
    o.diag = diag;
    double budgets[2] = {NAN, max_slowdown};
    fp_opt_results res = {0};
    st = fp_optimize(&od, &obj, 1, budgets, isfinite(max_slowdown) ? 2 : 1, constraints, &o, &res,
                     err);
    if (!st)
        st = fp_recs_from_opt(&res, out, err);
    fp_opt_results_free(&res);
    fp_opt_data_free(&od);
    return st;
}

/* ---- model JSON ---- */

static double *jarray(json_t *o, const char *k, size_t *n)
{
    json_t *a = json_object_get(o, k);
    if (!json_is_array(a)) {
        *n = 0;
        return NULL;
    }
    *n = json_array_size(a);
    double *d = malloc((*n ? *n : 1) * sizeof *d);
    if (!d)
        return NULL;
    for (size_t i = 0; i < *n; i++) {
        json_t *v = json_array_get(a, i);
        d[i] = json_is_number(v) ? json_number_value(v) : NAN;
    }
    return d;
}

static void curve_free(fp_model_curve *c)
{
    free(c->freq_mhz);
    free(c->power_w);
    free(c->power_w_lo);
    free(c->power_w_hi);
    free(c->time_s);
    free(c->time_s_lo);
    free(c->time_s_hi);
    free(c->meas_freq_mhz);
    free(c->meas_power_w);
    free(c->meas_time_s);
}

void fp_model_set_free(fp_model_set *m)
{
    for (size_t i = 0; i < m->len; i++)
        curve_free(&m->items[i]);
    free(m->items);
    memset(m, 0, sizeof *m);
}

/* n NANs (at least one slot), NULL when out of memory. */
static double *alloc_nan(size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; d && i < n; i++)
        d[i] = NAN;
    return d;
}

/* {"format": "freqpilot-model-curves", "curves": [{gpu, app, clock_bound, note, points: [...],
 * measured: [...]}]} (docs/model.md §6). */
static fp_status read_curve(const char *path, size_t i, json_t *o, fp_model_curve *c, fp_error *err)
{
    if (!json_is_object(o))
        return fp_error_at(err, FP_ERR_FORMAT, path, 0, "curves[%zu]: expected an object", i);
    jstr(o, "gpu", c->gpu, sizeof c->gpu);
    jstr(o, "app", c->app, sizeof c->app);
    jstr(o, "note", c->note, sizeof c->note);
    json_t *cb = json_object_get(o, "clock_bound");
    c->clock_bound = cb ? json_is_true(cb) : 1;
    if (!c->gpu[0] || !c->app[0])
        return fp_error_at(err, FP_ERR_FORMAT, path, 0, "curves[%zu]: expected gpu and app", i);
    json_t *pts = json_object_get(o, "points"), *meas = json_object_get(o, "measured");
    if (!json_is_array(pts) || (meas && !json_is_null(meas) && !json_is_array(meas)))
        return fp_error_at(err, FP_ERR_FORMAT, path, 0,
                           "curves[%zu]: expected a \"points\" array (and \"measured\" as an "
                           "array)",
                           i);
    c->n = json_array_size(pts);
    double **cols[7] = {&c->freq_mhz, &c->power_w,   &c->power_w_lo, &c->power_w_hi,
                        &c->time_s,   &c->time_s_lo, &c->time_s_hi};
    static const char *const keys[7] = {"freq_mhz", "power_w",   "power_w_lo", "power_w_hi",
                                        "time_s",   "time_s_lo", "time_s_hi"};
    for (int k = 0; k < 7; k++)
        if (!(*cols[k] = alloc_nan(c->n)))
            return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    size_t j;
    json_t *p;
    json_array_foreach(pts, j, p)
    {
        for (int k = 0; k < 7; k++)
            (*cols[k])[j] = jnum(p, keys[k]);
        if (!isfinite(c->freq_mhz[j]))
            return fp_error_at(err, FP_ERR_FORMAT, path, 0,
                               "curves[%zu].points[%zu]: expected a number freq_mhz", i, j);
        if (!c->clock_bound) /* no time prediction, whatever the file holds */
            c->time_s[j] = c->time_s_lo[j] = c->time_s_hi[j] = NAN;
    }
    c->n_meas = json_is_array(meas) ? json_array_size(meas) : 0;
    if (!(c->meas_freq_mhz = alloc_nan(c->n_meas)) || !(c->meas_power_w = alloc_nan(c->n_meas)) ||
        !(c->meas_time_s = alloc_nan(c->n_meas)))
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    for (j = 0; j < c->n_meas; j++) {
        p = json_array_get(meas, j);
        c->meas_freq_mhz[j] = jnum(p, "freq_mhz");
        c->meas_power_w[j] = jnum(p, "power_w");
        c->meas_time_s[j] = jnum(p, "time_s");
    }
    return FP_OK;
}

/* The older layout: {"models": [{gpu, app, freq_mhz: [...], power_w: [...], ..., measured:
 * {freq_mhz: [...], power_w: [...], time_s: [...]}}]}. */
static fp_status read_models(const char *path, json_t *models, fp_model_set *out, fp_error *err)
{
    size_t n = json_array_size(models);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    out->len = n;
    size_t i;
    json_t *o;
    json_array_foreach(models, i, o)
    {
        fp_model_curve *c = &out->items[i];
        c->clock_bound = 1;
        jstr(o, "gpu", c->gpu, sizeof c->gpu);
        jstr(o, "app", c->app, sizeof c->app);
        size_t k[7];
        c->freq_mhz = jarray(o, "freq_mhz", &k[0]);
        c->power_w = jarray(o, "power_w", &k[1]);
        c->power_w_lo = jarray(o, "power_w_lo", &k[2]);
        c->power_w_hi = jarray(o, "power_w_hi", &k[3]);
        c->time_s = jarray(o, "time_s", &k[4]);
        c->time_s_lo = jarray(o, "time_s_lo", &k[5]);
        c->time_s_hi = jarray(o, "time_s_hi", &k[6]);
        c->n = k[0];
        for (int j = 1; j < 7; j++)
            if (k[j] != c->n)
                return fp_error_at(err, FP_ERR_FORMAT, path, 0,
                                   "models[%zu]: expected every prediction array to have %zu "
                                   "values like freq_mhz",
                                   i, c->n);
        json_t *m = json_object_get(o, "measured");
        if (json_is_object(m)) {
            size_t a, b, d;
            c->meas_freq_mhz = jarray(m, "freq_mhz", &a);
            c->meas_power_w = jarray(m, "power_w", &b);
            c->meas_time_s = jarray(m, "time_s", &d);
            c->n_meas = a;
            if (b != a || d != a)
                return fp_error_at(err, FP_ERR_FORMAT, path, 0,
                                   "models[%zu].measured: expected arrays of equal length", i);
        }
        if (!c->gpu[0] || !c->app[0])
            return fp_error_at(err, FP_ERR_FORMAT, path, 0, "models[%zu]: expected gpu and app", i);
    }
    return FP_OK;
}

static int is_curves_json(json_t *root)
{
    json_t *f = json_object_get(root, "format");
    return json_is_string(f) && strcmp(json_string_value(f), "freqpilot-model-curves") == 0 &&
           json_is_array(json_object_get(root, "curves"));
}

/* model.json of `freqpilot model fit -o` (fitted parameters, not curves). */
static int is_model_params_json(json_t *root)
{
    json_t *f = json_object_get(root, "format");
    return json_is_string(f) && strcmp(json_string_value(f), "freqpilot-model") == 0 &&
           !json_is_array(json_object_get(root, "models"));
}

/* The curves one at a time (util/json_stream.h); the other members kept to classify the file. */
typedef struct model_read {
    const char *path;
    fp_model_set *out;
    size_t cap;
    json_t *members; /* every member but "curves" */
    int skipped;     /* curves met before a "format" saying they are model curves */
    fp_error *err;
} model_read;

static int is_curves_format(json_t *members)
{
    json_t *f = json_object_get(members, "format");
    return json_is_string(f) && !strcmp(json_string_value(f), "freqpilot-model-curves");
}

static fp_status model_member(void *ctx, const char *key, json_t *v)
{
    model_read *x = ctx;
    return json_object_set(x->members, key, v) ? fp_error_set(x->err, FP_ERR_NOMEM, "out of memory")
                                               : FP_OK;
}

static fp_status model_curve(void *ctx, size_t i, json_t *o)
{
    model_read *x = ctx;
    fp_model_set *out = x->out;
    if (!is_curves_format(x->members)) { /* a model.json's "curves" are not these */
        x->skipped = 1;
        return FP_OK;
    }
    if (FP_GROW(out->items, out->len, x->cap, 16))
        return fp_error_set(x->err, FP_ERR_NOMEM, "out of memory");
    fp_model_curve *c = &out->items[out->len++];
    memset(c, 0, sizeof *c);
    return read_curve(x->path, i, o, c, x->err);
}

fp_status fp_model_read_json(const char *path, fp_model_set *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    model_read x = {path, out, 0, json_object(), 0, err};
    int have_curves = 0;
    if (!x.members)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    fp_status st =
        fp_json_read_stream(path, "curves", model_member, model_curve, &x, &have_curves, err);
    json_t *f = json_object_get(x.members, "format"),
           *models = json_object_get(x.members, "models");
    int curves_format = is_curves_format(x.members);
    if (!st && have_curves && curves_format && x.skipped) {
        /* "format" came after the curves: read the whole file. */
        fp_model_set_free(out);
        memset(out, 0, sizeof *out);
        json_t *root = fp_json_load_input(path, 0, err);
        json_t *cs = root ? json_object_get(root, "curves") : NULL;
        size_t i, n = json_array_size(cs);
        if (!root)
            st = err ? err->code : FP_ERR_PARSE;
        else if (!(out->items = calloc(n ? n : 1, sizeof *out->items)))
            st = fp_error_set(err, FP_ERR_NOMEM, "out of memory");
        for (i = 0; !st && i < n; i++, out->len++)
            st = read_curve(path, i, json_array_get(cs, i), &out->items[i], err);
        json_decref(root);
    } else if (!st && !(have_curves && curves_format)) {
        fp_model_set_free(out);
        memset(out, 0, sizeof *out);
        if (json_is_array(models))
            st = read_models(path, models, out, err);
        else if (json_is_string(f) && !strcmp(json_string_value(f), "freqpilot-model"))
            st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                             "this is a model.json (fitted parameters); the report reads the "
                             "curves: freqpilot model fit DATA -o model.json --curves curves.json");
        else
            st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                             "expected {\"format\": \"freqpilot-model-curves\", \"curves\": "
                             "[...]} (freqpilot model fit|predict --curves FILE)");
    }
    json_decref(x.members);
    if (st)
        fp_model_set_free(out);
    return st;
}

/* ---- classifying and loading inputs ---- */

static int is_agg_csv(const char *path)
{
    return fp_opt_is_aggregated_csv(path);
}

/* 1 optimize JSON, 2 model JSON, 3 validate JSON, 4 the original project's results, 0 none. */
static int json_kind(const char *path)
{
    size_t l = strlen(path);
    if (l < 5 || strcmp(path + l - 5, ".json") != 0)
        return 0;
    if (fp_aie_results_detect(path))
        return 4;
    json_t *root = fp_json_load_input(path, 0, NULL);
    if (!root)
        return 0;
    int k = json_is_array(json_object_get(root, "results"))       ? 1
            : json_is_array(json_object_get(root, "validations")) ? 3
            : is_curves_json(root) || json_is_array(json_object_get(root, "models")) ||
                    is_model_params_json(root)
                ? 2
                : 0;
    json_decref(root);
    return k;
}

void fp_report_data_free(fp_report_data *d)
{
    if (d->have_agg)
        fp_agg_result_free(&d->agg);
    fp_rec_list_free(&d->recs);
    fp_val_list_free(&d->vals);
    fp_rec_list_free(&d->original);
    fp_rec_list_free(&d->original_ours);
    if (d->have_model)
        fp_model_set_free(&d->model);
    fp_serving_report_free(d->serving);
    memset(d, 0, sizeof *d);
}

static fp_status merge_agg(fp_agg_result *dst, fp_agg_result *src, fp_error *err)
{
    fp_agg_row *rows = realloc(dst->rows, (dst->nrows + src->nrows + 1) * sizeof *rows);
    fp_agg_finding *fs = realloc(dst->findings, (dst->nfindings + src->nfindings + 1) * sizeof *fs);
    if (rows)
        dst->rows = rows;
    if (fs)
        dst->findings = fs;
    if (!rows || !fs)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    memcpy(dst->rows + dst->nrows, src->rows, src->nrows * sizeof *rows);
    dst->nrows += src->nrows;
    memcpy(dst->findings + dst->nfindings, src->findings, src->nfindings * sizeof *fs);
    dst->nfindings += src->nfindings;
    for (size_t i = 0; i < src->dropped.len; i++) {
        fp_status st = fp_run_list_push(&dst->dropped, &src->dropped.items[i], err);
        if (st)
            return st;
    }
    return FP_OK;
}

/* 1 when some input is data (runs or aggregated.csv), which freqpilot optimize can read. */
static int runs_given(const char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (json_kind(paths[i]) == 0)
            return 1;
    return 0;
}

fp_status fp_report_data_load(fp_report_data *d, const char *const *paths, size_t n,
                              const fp_diag *diag, fp_error *err)
{
    memset(d, 0, sizeof *d);
    fp_run_list runs = {0};
    fp_status st = FP_OK;
    fp_load_options lo;
    fp_load_options_init(&lo);
    lo.diag = diag;
    lo.ts.diag = diag;
    for (size_t i = 0; i < n && !st; i++) {
        int jk = json_kind(paths[i]);
        if (fp_serving_report_detect(paths[i])) {
            fp_serving_report_free(d->serving);
            st = fp_serving_report_load(paths[i], &d->serving, err);
        } else if (jk == 1) {
            st = fp_recs_read_json(paths[i], &d->recs, err);
        } else if (jk == 3) {
            st = fp_vals_read_json(paths[i], &d->vals, err);
        } else if (jk == 4) {
            fp_opt_results o;
            if ((st = fp_aie_results_read(paths[i], &o, err)) == FP_OK) {
                st = fp_recs_from_opt(&o, &d->original, err);
                fp_opt_results_free(&o);
            }
        } else if (jk == 2) {
            if (d->have_model)
                fp_model_set_free(&d->model);
            st = fp_model_read_json(paths[i], &d->model, err);
            d->have_model = st == FP_OK;
        } else if (is_agg_csv(paths[i])) {
            fp_agg_result a;
            memset(&a, 0, sizeof a);
            st = fp_agg_read_csv(paths[i], &a, err);
            if (!st && !d->have_agg) {
                d->agg = a;
                d->have_agg = 1;
            } else if (!st) {
                st = merge_agg(&d->agg, &a, err);
                fp_agg_result_free(&a);
            }
        } else {
            st = fp_runs_load(paths[i], &lo, &runs, err);
        }
    }
    if (!st && runs.len) {
        fp_agg_options ao;
        fp_agg_options_init(&ao);
        ao.diag = diag;
        fp_agg_result a;
        memset(&a, 0, sizeof a);
        st = fp_aggregate(&runs, &ao, &a, err);
        if (!st && !d->have_agg) {
            d->agg = a;
            d->have_agg = 1;
        } else if (!st) {
            st = merge_agg(&d->agg, &a, err);
            fp_agg_result_free(&a);
        }
    }
    fp_run_list_free(&runs);
    /* Beside the original project's recommendations: freqpilot's own for its objectives. */
    for (size_t i = 0; i < d->original.len && !st; i++) {
        const char *obj = d->original.items[i].objective;
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(d->original.items[k].objective, obj) == 0;
        if (!seen && d->have_agg && runs_given(paths, n))
            st = fp_recs_optimize(paths, n, obj, NAN, NULL, diag, &d->original_ours, err);
    }
    if (st)
        fp_report_data_free(d);
    return st;
}
