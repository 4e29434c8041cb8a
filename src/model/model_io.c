/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * model.json: the fitted per-curve models (coefficients, covariance, residual variance, the
 * voltage knee, whether the time is clock-bound) and the activity models per GPU; and the
 * curves JSON the report's model plot reads (docs/report.md "Model JSON").
 * Written atomically (temporary file, then rename).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "freqpilot/atomic.h"
#include "freqpilot/model.h"
#include "model/model_internal.h"
#include "util/json_stream.h"
#include "util/keyidx.h"
#include "util/output.h"
#include "util/input.h"

void fp_model_file_free(fp_model_file *m)
{
    free(m->curves);
    free(m->activity);
    memset(m, 0, sizeof *m);
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static double get_num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_t *lsq_json(const fp_lsq *l)
{
    json_t *o = json_object(), *c = json_array(), *cov = json_array();
    for (int j = 0; j < l->nterms; j++) {
        json_array_append_new(c, num(l->coef[j]));
        json_t *row = json_array();
        for (int k = 0; k < l->nterms; k++)
            json_array_append_new(row, num(l->cov[j][k]));
        json_array_append_new(cov, row);
    }
    json_object_set_new(o, "coef", c);
    json_object_set_new(o, "cov", cov);
    json_object_set_new(o, "s2_rel", num(l->s2_rel));
    json_object_set_new(o, "s2_run", num(l->s2_run));
    json_object_set_new(o, "rms_rel", num(l->rms_rel));
    json_object_set_new(o, "dof", num(l->dof));
    return o;
}

static int lsq_read(const json_t *o, fp_lsq *l, int maxterms)
{
    memset(l, 0, sizeof *l);
    const json_t *c = json_object_get(o, "coef"), *cov = json_object_get(o, "cov");
    if (!json_is_array(c) || !json_is_array(cov) || json_array_size(c) > (size_t)maxterms ||
        json_array_size(c) < 1 || json_array_size(cov) != json_array_size(c))
        return -1;
    l->nterms = (int)json_array_size(c);
    for (int j = 0; j < l->nterms; j++) {
        const json_t *v = json_array_get(c, (size_t)j), *row = json_array_get(cov, (size_t)j);
        if (!json_is_number(v) || !json_is_array(row) || json_array_size(row) != (size_t)l->nterms)
            return -1;
        l->coef[j] = json_number_value(v);
        for (int k = 0; k < l->nterms; k++) {
            const json_t *x = json_array_get(row, (size_t)k);
            if (!json_is_number(x))
                return -1;
            l->cov[j][k] = json_number_value(x);
        }
    }
    l->s2_rel = get_num(o, "s2_rel");
    l->s2_run = get_num(o, "s2_run");
    if (!isfinite(l->s2_run))
        l->s2_run = l->s2_rel;
    l->rms_rel = get_num(o, "rms_rel");
    l->dof = get_num(o, "dof");
    if (!isfinite(l->s2_rel) || !(l->dof >= 1))
        return -1;
    return 0;
}

static json_t *curve_json(const fp_curve_model *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "gpu", json_string(m->gpu));
    json_object_set_new(o, "app", json_string(m->app));
    json_object_set_new(o, "fmax_mhz", num(m->fmax_mhz));
    json_object_set_new(o, "knee_mhz", num(m->knee_mhz));
    json_object_set_new(o, "v_ratio", num(m->v_ratio));
    json_object_set_new(o, "knee_source", json_string(m->knee_source ? "default" : "tables"));
    json_object_set_new(o, "measured_lo_mhz", num(m->meas_lo_mhz));
    json_object_set_new(o, "measured_hi_mhz", num(m->meas_hi_mhz));
    json_object_set_new(o, "clocks", json_integer((json_int_t)m->n_clocks));
    json_object_set_new(o, "t_ref_s", num(m->t_ref_s));
    json_t *t = lsq_json(&m->time);
    json_object_set_new(t, "terms", json_string("1, fmax/f"));
    json_object_set_new(o, "time", t);
    json_t *p = lsq_json(&m->power);
    json_object_set_new(p, "terms", json_string("1, g(f), g(f)*u(f), T(fmax)/T(f)"));
    json_object_set_new(o, "power", p);
    json_object_set_new(o, "clock_bound", json_boolean(m->clock_bound));
    json_object_set_new(o, "note", json_string(m->note));
    return o;
}

static json_t *activity_json(const fp_activity_model *m)
{
    json_t *o = json_object(), *pc = json_array(), *tc = json_array();
    json_object_set_new(o, "gpu", json_string(m->gpu));
    json_object_set_new(o, "form", json_string(fp_activity_form_name(m->form)));
    json_object_set_new(o, "fmax_mhz", num(m->fmax_mhz));
    json_object_set_new(o, "knee_mhz", num(m->knee_mhz));
    json_object_set_new(o, "v_ratio", num(m->v_ratio));
    for (int j = 0; j < m->np; j++)
        json_array_append_new(pc, num(m->pc[j]));
    for (int j = 0; j < m->nt; j++)
        json_array_append_new(tc, num(m->tc[j]));
    json_object_set_new(o, "power_coef", pc);
    json_object_set_new(o, "time_coef", tc);
    json_object_set_new(o, "apps", json_integer((json_int_t)m->n_apps));
    json_object_set_new(o, "rows", json_integer((json_int_t)m->n_rows));
    return o;
}

static fp_status dump(json_t *root, const char *path, fp_error *err)
{
    return fp_json_write_atomic(path, root, FP_JSON_FLAGS, err);
}

fp_status fp_model_write_json(const fp_model_file *m, const char *path, fp_error *err)
{
    json_t *root = json_object(), *cs = json_array(), *as = json_array();
    json_object_set_new(root, "format", json_string("freqpilot-model"));
    json_object_set_new(root, "version", json_integer(1));
    for (size_t i = 0; i < m->ncurves; i++)
        json_array_append_new(cs, curve_json(&m->curves[i]));
    for (size_t i = 0; i < m->nactivity; i++)
        json_array_append_new(as, activity_json(&m->activity[i]));
    json_object_set_new(root, "curves", cs);
    json_object_set_new(root, "activity_models", as);
    return dump(root, path, err);
}

fp_status fp_model_read_file(const char *path, fp_model_file *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *root = fp_json_load_input(path, 0, err);
    if (!root)
        return err ? err->code : FP_ERR_PARSE;
    fp_status st = FP_OK;
    const json_t *cs = json_object_get(root, "curves"),
                 *as = json_object_get(root, "activity_models");
    if (!json_is_object(root) ||
        strcmp(json_string_value(json_object_get(root, "format")) ?: "", "freqpilot-model") ||
        !json_is_array(cs)) {
        st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                         "expected a freqpilot model (\"format\": \"freqpilot-model\", "
                         "\"curves\": [...]) as written by 'freqpilot model fit'");
        goto done;
    }
    out->curves = calloc(json_array_size(cs) + 1, sizeof *out->curves);
    out->activity =
        calloc((json_is_array(as) ? json_array_size(as) : 0) + 1, sizeof *out->activity);
    if (!out->curves || !out->activity) {
        st = fp_error_set(err, FP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < json_array_size(cs); i++) {
        const json_t *c = json_array_get(cs, i);
        fp_curve_model *m = &out->curves[out->ncurves];
        const char *g = json_string_value(json_object_get(c, "gpu"));
        const char *a = json_string_value(json_object_get(c, "app"));
        if (!g || !a || lsq_read(json_object_get(c, "time"), &m->time, 2) ||
            lsq_read(json_object_get(c, "power"), &m->power, FP_MODEL_MAX_TERMS)) {
            st = fp_error_at(err, FP_ERR_PARSE, path, 0,
                             "curves[%zu]: expected gpu, app, time and power fits", i);
            goto done;
        }
        snprintf(m->gpu, sizeof m->gpu, "%s", g);
        snprintf(m->app, sizeof m->app, "%s", a);
        m->fmax_mhz = get_num(c, "fmax_mhz");
        m->knee_mhz = get_num(c, "knee_mhz");
        m->v_ratio = get_num(c, "v_ratio");
        m->meas_lo_mhz = get_num(c, "measured_lo_mhz");
        m->meas_hi_mhz = get_num(c, "measured_hi_mhz");
        m->t_ref_s = get_num(c, "t_ref_s");
        double n = get_num(c, "clocks");
        m->n_clocks = n > 0 ? (size_t)n : 0;
        const char *ks = json_string_value(json_object_get(c, "knee_source"));
        m->knee_source = ks && strcmp(ks, "default") == 0;
        m->clock_bound = json_is_true(json_object_get(c, "clock_bound"));
        const char *note = json_string_value(json_object_get(c, "note"));
        snprintf(m->note, sizeof m->note, "%s", note ? note : "");
        if (!(m->fmax_mhz > 0 && m->fmax_mhz <= 10000) || !isfinite(m->knee_mhz) ||
            m->knee_mhz < 0 || m->knee_mhz > 10000 || !(m->v_ratio > 0) || !(m->t_ref_s > 0)) {
            st = fp_error_at(err, FP_ERR_PARSE, path, 0,
                             "curves[%zu] (%s %s): expected fmax_mhz and knee_mhz of 0..10000 "
                             "MHz, positive v_ratio and t_ref_s",
                             i, m->gpu, m->app);
            goto done;
        }
        out->ncurves++;
    }
    for (size_t i = 0; json_is_array(as) && i < json_array_size(as); i++) {
        const json_t *c = json_array_get(as, i);
        fp_activity_model *m = &out->activity[out->nactivity];
        const char *g = json_string_value(json_object_get(c, "gpu"));
        const char *form = json_string_value(json_object_get(c, "form"));
        const json_t *pc = json_object_get(c, "power_coef"), *tc = json_object_get(c, "time_coef");
        if (!g || !form || !json_is_array(pc) || !json_is_array(tc) ||
            json_array_size(pc) > FP_ACT_MAX_COEF || json_array_size(tc) > FP_ACT_MAX_COEF) {
            st = fp_error_at(err, FP_ERR_PARSE, path, 0,
                             "activity_models[%zu]: expected gpu, form, power_coef, time_coef", i);
            goto done;
        }
        memset(m, 0, sizeof *m);
        m->form = strcmp(form, "physical") == 0     ? FP_ACT_PHYSICAL
                  : strcmp(form, "fgcs-paper") == 0 ? FP_ACT_FGCS_PAPER
                                                    : FP_ACT_FGCS_REFIT;
        snprintf(m->gpu, sizeof m->gpu, "%s", g);
        m->fmax_mhz = get_num(c, "fmax_mhz");
        m->knee_mhz = get_num(c, "knee_mhz");
        m->v_ratio = get_num(c, "v_ratio");
        if (!(m->fmax_mhz > 0 && m->fmax_mhz <= 10000)) {
            st = fp_error_at(err, FP_ERR_PARSE, path, 0,
                             "activity_models[%zu]: fmax_mhz: expected 1..10000 MHz", i);
            goto done;
        }
        m->np = (int)json_array_size(pc);
        m->nt = (int)json_array_size(tc);
        for (int j = 0; j < m->np; j++)
            m->pc[j] = json_number_value(json_array_get(pc, (size_t)j));
        for (int j = 0; j < m->nt; j++)
            m->tc[j] = json_number_value(json_array_get(tc, (size_t)j));
        out->nactivity++;
    }
done:
    json_decref(root);
    if (st)
        fp_model_file_free(out);
    return st;
}

/* The model points of the rows rows[idx[0..n)] (fp_model_points_from_rows on a group). */
static size_t points_of(const fp_agg_row *rows, const size_t *idx, size_t n, fp_model_point *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const fp_agg_row *r = &rows[idx[i]];
        k += fp_model_points_from_rows(r, 1, r->gpu, r->app, out + k, 1);
    }
    return k;
}

fp_status fp_model_fit_all(const fp_agg_result *agg, const fp_curve_options *o, fp_model_file *out,
                           fp_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = agg->nrows ? agg->nrows : 1;
    fp_agg_groups pairs = {0}, gpus = {0};
    fp_model_point *pts = calloc(n, sizeof *pts);
    const fp_agg_row **top = NULL;
    fp_activity_row *tr = calloc(n, sizeof *tr);
    fp_status st = FP_OK;
    if ((st = fp_agg_groups_build(agg->rows, agg->nrows, 1, &pairs, err)) ||
        (st = fp_agg_groups_build(agg->rows, agg->nrows, 0, &gpus, err)))
        goto done;
    out->curves = calloc(pairs.ngroups + 1, sizeof *out->curves);
    out->activity = calloc(2 * gpus.ngroups + 1, sizeof *out->activity);
    top = calloc(pairs.ngroups + 1, sizeof *top);
    if (!pts || !out->curves || !out->activity || !tr || !top) {
        st = fp_error_set(err, FP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t g = 0; g < pairs.ngroups; g++) {
        const size_t *idx = pairs.row + pairs.start[g], m = pairs.start[g + 1] - pairs.start[g];
        const char *gpu = agg->rows[idx[0]].gpu, *app = agg->rows[idx[0]].app;
        /* The pair's top clock with runs: its activity features. */
        for (size_t i = 0; i < m; i++) {
            const fp_agg_row *q = &agg->rows[idx[i]];
            if (q->runs > 0 && (!top[g] || q->freq_mhz > top[g]->freq_mhz))
                top[g] = q;
        }
        size_t k = points_of(agg->rows, idx, m, pts);
        if (k < 2)
            continue;
        if (fp_curve_fit(gpu, app, pts, k, o, &out->curves[out->ncurves], NULL) == FP_OK)
            out->ncurves++;
    }
    /* Activity models per GPU where every needed feature exists. */
    for (size_t g = 0; g < gpus.ngroups; g++) {
        const size_t *idx = gpus.row + gpus.start[g];
        const char *gpu = agg->rows[idx[0]].gpu;
        size_t m = 0;
        double hi = 0;
        for (size_t i = 0; i < gpus.start[g + 1] - gpus.start[g]; i++) {
            const fp_agg_row *r = &agg->rows[idx[i]];
            if (r->runs <= 0 || !(r->time_s > 0))
                continue;
            hi = fmax(hi, r->freq_mhz);
            /* Features of the row's app at its top clock. */
            const fp_agg_row *t = top[pairs.of[idx[i]]];
            if (!t || !isfinite(t->fp_active) || !isfinite(t->dram_active))
                continue;
            fp_activity_row *a = &tr[m++];
            a->x.fp_active = t->fp_active;
            a->x.dram_active = t->dram_active;
            a->x.sm_active = isfinite(t->sm_active) ? t->sm_active : 0;
            a->x.tensor_active = isfinite(t->tensor_active) ? t->tensor_active : 0;
            a->x.gpu_util_pct = isfinite(t->gpu_util_pct) ? t->gpu_util_pct : 0;
            a->x.power_w = t->power_w > 0 ? t->power_w : t->energy_j / t->time_s;
            a->x.time_s = t->time_s;
            a->freq_mhz = r->freq_mhz;
            a->time_s = r->time_s;
            a->power_w = r->power_w > 0 ? r->power_w : r->energy_j / r->time_s;
            a->app = r->app;
        }
        double fmax = fp_model_gpu_fmax(gpu, o, hi);
        if (fp_activity_fit(FP_ACT_PHYSICAL, gpu, fmax, tr, m, &out->activity[out->nactivity],
                            NULL) == FP_OK)
            out->nactivity++;
        if (fp_activity_fit(FP_ACT_FGCS_REFIT, gpu, fmax, tr, m, &out->activity[out->nactivity],
                            NULL) == FP_OK)
            out->nactivity++;
    }
done:
    fp_agg_groups_free(&pairs);
    fp_agg_groups_free(&gpus);
    free(top);
    free(pts);
    free(tr);
    if (st)
        fp_model_file_free(out);
    return st;
}

/* What the curves JSON is written from, one curve at a time. */
typedef struct curves_out {
    const fp_model_file *m;
    const fp_agg_result *agg;
    const double *clocks;
    size_t nclocks;
    const fp_agg_groups *pairs;
    const fp_keyidx *pidx;
} curves_out;

static json_t *curve_points_json(void *ctx, size_t i)
{
    const curves_out *x = ctx;
    const fp_curve_model *c = &x->m->curves[i];
    json_t *o = json_object(), *pts = json_array(), *meas = json_array();
    json_object_set_new(o, "gpu", json_string(c->gpu));
    json_object_set_new(o, "app", json_string(c->app));
    json_object_set_new(o, "clock_bound", json_boolean(c->clock_bound));
    json_object_set_new(o, "note", json_string(c->note));
    size_t n = x->nclocks ? x->nclocks : 40;
    for (size_t k = 0; k < n; k++) {
        double f = x->nclocks ? x->clocks[k]
                              : c->meas_hi_mhz -
                                    (c->meas_hi_mhz - c->meas_lo_mhz) * (double)k / (double)(n - 1);
        fp_curve_pred p;
        fp_curve_predict(c, f, 0.95, &p);
        json_t *q = json_object();
        json_object_set_new(q, "freq_mhz", num(f));
        json_object_set_new(q, "power_w", num(p.power_w));
        json_object_set_new(q, "power_w_lo", num(p.power_lo));
        json_object_set_new(q, "power_w_hi", num(p.power_hi));
        json_object_set_new(q, "time_s", num(p.time_s));
        json_object_set_new(q, "time_s_lo", num(p.time_lo));
        json_object_set_new(q, "time_s_hi", num(p.time_hi));
        json_object_set_new(q, "energy_j", num(p.energy_j));
        json_object_set_new(q, "energy_j_lo", num(p.energy_lo));
        json_object_set_new(q, "energy_j_hi", num(p.energy_hi));
        json_object_set_new(q, "extrapolated", json_boolean(p.extrapolated));
        json_array_append_new(pts, q);
    }
    /* The measured rows of the curve: its (gpu, app) group of rows, by the keyed index. */
    long g = x->pidx ? fp_keyidx_get(x->pidx, c->gpu, c->app, NAN) : -1;
    for (size_t k = g >= 0 ? x->pairs->start[g] : 0; g >= 0 && k < x->pairs->start[g + 1]; k++) {
        const fp_agg_row *r = &x->agg->rows[x->pairs->row[k]];
        if (r->runs <= 0)
            continue;
        json_t *q = json_object();
        json_object_set_new(q, "freq_mhz", num(r->freq_mhz));
        json_object_set_new(q, "power_w",
                            num(r->power_w > 0 ? r->power_w : r->energy_j / r->time_s));
        json_object_set_new(q, "time_s", num(r->time_s));
        json_array_append_new(meas, q);
    }
    json_object_set_new(o, "points", pts);
    json_object_set_new(o, "measured", meas);
    return o;
}

fp_status fp_model_write_curves(const fp_model_file *m, const fp_agg_result *agg,
                                const double *clocks, size_t nclocks, const char *path,
                                fp_error *err)
{
    fp_agg_groups pairs = {0};
    fp_keyidx *pidx = NULL;
    if (agg) {
        fp_status st = fp_agg_groups_build(agg->rows, agg->nrows, 1, &pairs, err);
        if (st)
            return st;
        pidx = fp_keyidx_new(pairs.ngroups);
        for (size_t g = 0; pidx && g < pairs.ngroups; g++) {
            const fp_agg_row *r0 = &agg->rows[pairs.row[pairs.start[g]]];
            if (fp_keyidx_add(pidx, r0->gpu, r0->app, NAN, g) < 0) {
                fp_keyidx_free(pidx);
                pidx = NULL;
            }
        }
        if (!pidx) {
            fp_agg_groups_free(&pairs);
            return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    /* One curve at a time: a fleet has thousands (util/json_stream.h). */
    curves_out x = {m, agg, clocks, nclocks, &pairs, pidx};
    json_t *root = json_object();
    if (root) {
        json_object_set_new(root, "format", json_string("freqpilot-model-curves"));
        json_object_set_new(root, "curves", json_null());
    }
    fp_status st = fp_json_write_stream(path, root, "curves", m->ncurves, curve_points_json, &x,
                                        FP_JSON_FLAGS, err);
    fp_keyidx_free(pidx);
    fp_agg_groups_free(&pairs);
    return st;
}
