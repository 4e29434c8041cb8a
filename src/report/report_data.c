/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Inputs of plots and reports that other stages write: optimize JSON (DESIGN.md §2) and the
 * model JSON of docs/report.md. Read with jansson, independent of the code that writes them.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/plot.h"

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
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        fp_rec *p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
        l->items = p;
        l->cap = cap;
    }
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
        snprintf(dst, n, "%s", json_string_value(v));
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

fp_status fp_recs_read_json(const char *path, fp_rec_list *out, fp_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return fp_error_at(err, FP_ERR_PARSE, path, je.line, "expected optimize JSON: %s", je.text);
    json_t *res = json_object_get(root, "results");
    if (!json_is_array(res)) {
        json_decref(root);
        return fp_error_at(err, FP_ERR_FORMAT, path, 0,
                           "expected an object with a \"results\" array (freqpilot optimize)");
    }
    jstr(root, "baseline", out->baseline, sizeof out->baseline);
    size_t i;
    json_t *o;
    fp_status st = FP_OK;
    json_array_foreach(res, i, o)
    {
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
        if (!r.gpu[0] || !r.app[0]) {
            st = fp_error_at(err, FP_ERR_FORMAT, path, 0, "results[%zu]: expected gpu and app", i);
            break;
        }
        if ((st = fp_rec_list_push(out, &r, err)))
            break;
    }
    json_decref(root);
    return st;
}

const fp_rec *fp_recs_find(const fp_rec_list *l, const char *gpu, const char *app,
                           const char *objective, double max_slowdown)
{
    if (!l)
        return NULL;
    for (size_t i = 0; i < l->len; i++) {
        const fp_rec *r = &l->items[i];
        if (strcmp(r->gpu, gpu) || strcmp(r->app, app) || strcmp(r->objective, objective))
            continue;
        int a = isfinite(r->max_slowdown), b = isfinite(max_slowdown);
        if (a != b || (a && fabs(r->max_slowdown - max_slowdown) > 1e-9))
            continue;
        return r;
    }
    return NULL;
}

static double objective_value(const fp_agg_row *r, const char *obj)
{
    if (strcmp(obj, "time") == 0)
        return r->time_s;
    if (strcmp(obj, "edp") == 0)
        return r->energy_j * r->time_s;
    if (strcmp(obj, "ed2p") == 0)
        return r->energy_j * r->time_s * r->time_s;
    return r->energy_j;
}

fp_status fp_recs_compute(const fp_agg_result *agg, const char *objective, double max_slowdown,
                          fp_rec_list *out, fp_error *err)
{
    out->fallback = 1;
    snprintf(out->baseline, sizeof out->baseline, "max");
    for (size_t i = 0; i < agg->nrows;) {
        size_t j = i;
        while (j < agg->nrows && strcmp(agg->rows[j].gpu, agg->rows[i].gpu) == 0 &&
               strcmp(agg->rows[j].app, agg->rows[i].app) == 0)
            j++;
        const fp_agg_row *base = NULL, *best = NULL;
        for (size_t k = i; k < j; k++) {
            const fp_agg_row *r = &agg->rows[k];
            if (r->runs > 0 && isfinite(r->energy_j) && isfinite(r->time_s) &&
                (!base || r->freq_mhz > base->freq_mhz))
                base = r;
        }
        for (size_t k = i; base && k < j; k++) {
            const fp_agg_row *r = &agg->rows[k];
            if (!(r->runs > 0 && isfinite(r->energy_j) && isfinite(r->time_s)))
                continue;
            if (isfinite(max_slowdown) && r->time_s / base->time_s - 1 > max_slowdown + 1e-12)
                continue;
            double v = objective_value(r, objective),
                   bv = best ? objective_value(best, objective) : INFINITY;
            if (v < bv || (v == bv && r->freq_mhz > best->freq_mhz))
                best = r;
        }
        if (best) {
            fp_rec rec;
            fp_rec_init(&rec);
            snprintf(rec.gpu, sizeof rec.gpu, "%s", best->gpu);
            snprintf(rec.app, sizeof rec.app, "%s", best->app);
            snprintf(rec.objective, sizeof rec.objective, "%s", objective);
            rec.max_slowdown = max_slowdown;
            rec.freq_mhz = best->freq_mhz;
            rec.baseline_mhz = base->freq_mhz;
            rec.time_s = best->time_s;
            rec.energy_j = best->energy_j;
            rec.power_w = best->power_w;
            rec.energy_saving = 1 - best->energy_j / base->energy_j;
            rec.energy_saving_lo = 1 - best->energy_j_hi / base->energy_j_lo;
            rec.energy_saving_hi = 1 - best->energy_j_lo / base->energy_j_hi;
            rec.slowdown = best->time_s / base->time_s - 1;
            rec.slowdown_lo = best->time_s_lo / base->time_s_hi - 1;
            rec.slowdown_hi = best->time_s_hi / base->time_s_lo - 1;
            rec.feasible = 1;
            fp_flags_format(best->flags | base->flags, rec.flags, sizeof rec.flags);
            fp_status st = fp_rec_list_push(out, &rec, err);
            if (st)
                return st;
        }
        i = j;
    }
    return FP_OK;
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

fp_status fp_model_read_json(const char *path, fp_model_set *out, fp_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return fp_error_at(err, FP_ERR_PARSE, path, je.line, "expected model JSON: %s", je.text);
    json_t *models = json_object_get(root, "models");
    if (!json_is_array(models)) {
        json_decref(root);
        return fp_error_at(err, FP_ERR_FORMAT, path, 0, "expected a \"models\" array");
    }
    size_t n = json_array_size(models);
    fp_model_curve *items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        json_decref(root);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    fp_status st = FP_OK;
    size_t i;
    json_t *o;
    json_array_foreach(models, i, o)
    {
        fp_model_curve *c = &items[i];
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
                st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
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
                st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                                 "models[%zu].measured: expected arrays of equal length", i);
        }
        if (!c->gpu[0] || !c->app[0])
            st = fp_error_at(err, FP_ERR_FORMAT, path, 0, "models[%zu]: expected gpu and app", i);
        if (st)
            break;
    }
    json_decref(root);
    out->items = items;
    out->len = n;
    if (st)
        fp_model_set_free(out);
    return st;
}

/* ---- classifying and loading inputs ---- */

static int is_agg_csv(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[64] = "";
    int ok = fgets(line, sizeof line, f) && strncmp(line, "gpu,app,freq_mhz,runs,", 22) == 0;
    fclose(f);
    return ok;
}

static int json_kind(const char *path)
{
    size_t l = strlen(path);
    if (l < 5 || strcmp(path + l - 5, ".json") != 0)
        return 0;
    json_t *root = json_load_file(path, 0, NULL);
    if (!root)
        return 0;
    int k = json_is_array(json_object_get(root, "results"))  ? 1
            : json_is_array(json_object_get(root, "models")) ? 2
                                                             : 0;
    json_decref(root);
    return k;
}

void fp_report_data_free(fp_report_data *d)
{
    if (d->have_agg)
        fp_agg_result_free(&d->agg);
    fp_rec_list_free(&d->recs);
    if (d->have_model)
        fp_model_set_free(&d->model);
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
        if (jk == 1) {
            st = fp_recs_read_json(paths[i], &d->recs, err);
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
    if (st)
        fp_report_data_free(d);
    return st;
}
