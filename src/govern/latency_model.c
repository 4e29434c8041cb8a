/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The per-clock latency model of the SLO policy: seconds of one serving step on a grid of
 * (tokens in the step, context held in the KV cache) at every supported clock, from the
 * simulator's server physics or recorded steps, read with log-linear interpolation in tokens
 * and linear in context. Saved as JSON so the daemon can use one learned elsewhere.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "freqpilot/serving.h"
#include "util/input.h"
#include "util/output.h"

static double grid_tokens(int j)
{
    return ldexp(1.0, j); /* 1, 2, 4 ... 8192 */
}

static double grid_ctx(const fp_latency_model *lm, int k)
{
    return lm->kv_capacity_tokens * k / (FP_LAT_NCTX - 1.0);
}

void fp_latency_model_learn_sim(const fp_server_model *m, fp_latency_model *out)
{
    memset(out, 0, sizeof *out);
    const fp_sim_gpu *g = m->gpu;
    snprintf(out->gpu, sizeof out->gpu, "%s", g->short_name);
    snprintf(out->model, sizeof out->model, "%s", m->model);
    out->n_clocks = g->n_clocks < FP_LAT_MAX_CLOCKS ? g->n_clocks : FP_LAT_MAX_CLOCKS;
    out->kv_capacity_tokens = m->kv_capacity_tokens;
    out->chunk_tokens = m->chunk_tokens;
    out->max_batch = m->max_batch;
    double fmax = fp_sim_gpu_fmax(g);
    for (unsigned i = 0; i < out->n_clocks; i++) {
        out->clocks_mhz[i] = g->clocks_mhz[i];
        for (int j = 0; j < FP_LAT_NTOK; j++)
            for (int k = 0; k < FP_LAT_NCTX; k++) {
                /* A decoding batch of that many tokens reading that much context. */
                fp_server_step st = {(unsigned)grid_tokens(j), 0, grid_ctx(out, k), 0};
                double secs[3];
                fp_server_step_secs(m, &st, secs);
                out->step_s[i][j][k] =
                    secs[0] +
                    fp_sim_overlap_time(secs[1], secs[2] * fmax / g->clocks_mhz[i], m->overlap_k);
                /* power at the temperature it settles at */
                fp_sim_point pt;
                double temp = fp_sim_steady_temp(g, g->idle_power_w);
                for (int it = 0; it < 6; it++) {
                    fp_server_step_point(m, &st, g->clocks_mhz[i], temp, &pt);
                    temp = fp_sim_steady_temp(g, pt.power_w);
                }
                out->power_w[i][j][k] = pt.power_w;
            }
    }
}

unsigned fp_latency_model_index(const fp_latency_model *lm, unsigned mhz)
{
    unsigned best = 0;
    for (unsigned i = 1; i < lm->n_clocks; i++)
        if (fabs((double)lm->clocks_mhz[i] - mhz) < fabs((double)lm->clocks_mhz[best] - mhz))
            best = i;
    return best;
}

/* Table tab (one clock's grid) at (tokens, ctx). */
static double interp(const fp_latency_model *lm, const double (*tab)[FP_LAT_NCTX], double tokens,
                     double ctx)
{
    double x = log2(tokens > 1 ? tokens : 1);
    if (x > FP_LAT_NTOK - 1)
        x = FP_LAT_NTOK - 1;
    double y = lm->kv_capacity_tokens > 0 ? ctx / lm->kv_capacity_tokens * (FP_LAT_NCTX - 1) : 0;
    if (!(y > 0))
        y = 0;
    if (y > FP_LAT_NCTX - 1)
        y = FP_LAT_NCTX - 1;
    int j = (int)x, k = (int)y;
    if (j >= FP_LAT_NTOK - 1)
        j = FP_LAT_NTOK - 2;
    if (k >= FP_LAT_NCTX - 1)
        k = FP_LAT_NCTX - 2;
    double u = x - j, v = y - k;
    const double(*s)[FP_LAT_NCTX] = tab;
    return (1 - u) * (1 - v) * s[j][k] + u * (1 - v) * s[j + 1][k] + (1 - u) * v * s[j][k + 1] +
           u * v * s[j + 1][k + 1];
}

static unsigned clamp_index(const fp_latency_model *lm, unsigned i)
{
    return i < lm->n_clocks ? i : (lm->n_clocks ? lm->n_clocks - 1 : 0);
}

double fp_latency_model_step(const fp_latency_model *lm, unsigned i, double tokens, double ctx)
{
    return interp(lm, lm->step_s[clamp_index(lm, i)], tokens, ctx);
}

double fp_latency_model_power(const fp_latency_model *lm, unsigned i, double tokens, double ctx)
{
    return interp(lm, lm->power_w[clamp_index(lm, i)], tokens, ctx);
}

fp_status fp_latency_model_save(const fp_latency_model *lm, const char *path, fp_error *err)
{
    json_t *root = json_object(), *clocks = json_array(), *tok = json_array(), *ctx = json_array();
    for (int j = 0; j < FP_LAT_NTOK; j++)
        json_array_append_new(tok, json_integer((json_int_t)grid_tokens(j)));
    for (int k = 0; k < FP_LAT_NCTX; k++)
        json_array_append_new(ctx, json_real(k / (FP_LAT_NCTX - 1.0)));
    for (unsigned i = 0; i < lm->n_clocks; i++) {
        json_t *rows = json_array(), *prows = json_array();
        for (int j = 0; j < FP_LAT_NTOK; j++) {
            json_t *row = json_array(), *prow = json_array();
            for (int k = 0; k < FP_LAT_NCTX; k++) {
                json_array_append_new(row, json_real(lm->step_s[i][j][k]));
                json_array_append_new(prow, json_real(lm->power_w[i][j][k]));
            }
            json_array_append_new(rows, row);
            json_array_append_new(prows, prow);
        }
        json_array_append_new(clocks, json_pack("{s:i,s:o,s:o}", "freq_mhz", (int)lm->clocks_mhz[i],
                                                "step_s", rows, "power_w", prows));
    }
    json_object_set_new(root, "format", json_string("freqpilot-latency-model"));
    json_object_set_new(root, "gpu", json_string(lm->gpu));
    json_object_set_new(root, "model", json_string(lm->model));
    json_object_set_new(root, "kv_capacity_tokens", json_real(lm->kv_capacity_tokens));
    json_object_set_new(root, "chunk_tokens", json_integer(lm->chunk_tokens));
    json_object_set_new(root, "max_batch", json_integer(lm->max_batch));
    json_object_set_new(root, "tokens", tok);
    json_object_set_new(root, "ctx_fraction", ctx);
    json_object_set_new(root, "clocks", clocks);
    return fp_json_write_atomic(path, root, JSON_INDENT(1) | JSON_REAL_PRECISION(8), err);
}

static double num(json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* rows[FP_LAT_NTOK][FP_LAT_NCTX] of numbers in (0, max). */
static fp_status read_grid(const char *path, size_t i, const char *key, json_t *rows, double max,
                           double (*out)[FP_LAT_NCTX], fp_error *err)
{
    for (int j = 0; j < FP_LAT_NTOK; j++) {
        json_t *row = json_array_get(rows, (size_t)j);
        for (int k = 0; k < FP_LAT_NCTX; k++) {
            double v = num(json_array_get(row, (size_t)k));
            if (json_array_size(rows) != FP_LAT_NTOK || json_array_size(row) != FP_LAT_NCTX ||
                !(v > 0 && v < max))
                return fp_error_at(err, FP_ERR_FORMAT, path, 0,
                                   "clocks[%zu].%s[%d][%d]: expected %d x %d numbers in (0, %g)", i,
                                   key, j, k, FP_LAT_NTOK, FP_LAT_NCTX, max);
            out[j][k] = v;
        }
    }
    return FP_OK;
}

fp_status fp_latency_model_load(fp_latency_model *lm, const char *path, fp_error *err)
{
    memset(lm, 0, sizeof *lm);
    json_t *root = fp_json_load_input(path, 0, err); /* regular file, BOM, duplicate keys */
    if (!root)
        return err ? err->code : FP_ERR_PARSE;
    fp_status st = FP_OK;
    const char *fmt = json_string_value(json_object_get(root, "format"));
    json_t *clocks = json_object_get(root, "clocks");
    double kv = num(json_object_get(root, "kv_capacity_tokens"));
    double chunk = num(json_object_get(root, "chunk_tokens"));
    double batch = num(json_object_get(root, "max_batch"));
    if (!fmt || strcmp(fmt, "freqpilot-latency-model") != 0) {
        st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                         "expected \"format\": \"freqpilot-latency-model\"");
        goto out;
    }
    if (!(kv >= 1) || !(chunk >= 1 && chunk <= 65536) || !(batch >= 1 && batch <= 65536) ||
        !json_is_array(clocks) || json_array_size(clocks) == 0 ||
        json_array_size(clocks) > FP_LAT_MAX_CLOCKS) {
        st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                         "expected kv_capacity_tokens >= 1, chunk_tokens and max_batch 1..65536 "
                         "and 1..%d clocks[]",
                         FP_LAT_MAX_CLOCKS);
        goto out;
    }
    snprintf(lm->gpu, sizeof lm->gpu, "%s", json_string_value(json_object_get(root, "gpu")) ?: "");
    snprintf(lm->model, sizeof lm->model, "%s",
             json_string_value(json_object_get(root, "model")) ?: "");
    lm->kv_capacity_tokens = kv;
    lm->chunk_tokens = (unsigned)chunk;
    lm->max_batch = (unsigned)batch;
    size_t i;
    json_t *c;
    json_array_foreach(clocks, i, c)
    {
        double f = num(json_object_get(c, "freq_mhz"));
        if (!(f > 0 && f < 1e5) || (i > 0 && !(f < lm->clocks_mhz[i - 1]))) {
            st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                             "clocks[%zu]: expected freq_mhz in MHz, descending", i);
            goto out;
        }
        lm->clocks_mhz[i] = (unsigned)lround(f);
        if ((st = read_grid(path, i, "step_s", json_object_get(c, "step_s"), 3600, lm->step_s[i],
                            err)) != FP_OK ||
            (st = read_grid(path, i, "power_w", json_object_get(c, "power_w"), 1e5, lm->power_w[i],
                            err)) != FP_OK)
            goto out;
    }
    lm->n_clocks = (unsigned)json_array_size(clocks);
out:
    json_decref(root);
    return st;
}
