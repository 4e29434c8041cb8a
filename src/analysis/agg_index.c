/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Lookups among aggregate's rows and dropped runs through the one keyed index
 * (src/util/keyidx.h): every stage that needs "the rows of this (gpu, app)" or "was this run
 * dropped" asks here once per row or run instead of scanning all of them each time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/aggregate.h"
#include "util/keyidx.h"

void fp_agg_groups_free(fp_agg_groups *g)
{
    free(g->start);
    free(g->row);
    free(g->of);
    memset(g, 0, sizeof *g);
}

fp_status fp_agg_groups_build(const fp_agg_row *rows, size_t nrows, int by_app, fp_agg_groups *out,
                              fp_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n1 = nrows ? nrows : 1;
    fp_keyidx *idx = fp_keyidx_new(nrows);
    out->start = calloc(n1 + 1, sizeof *out->start);
    out->row = malloc(n1 * sizeof *out->row);
    out->of = malloc(n1 * sizeof *out->of);
    if (!idx || !out->start || !out->row || !out->of)
        goto nomem;
    /* Group ids in order of first appearance, then a counting sort keeps row order inside. */
    for (size_t i = 0; i < nrows; i++) {
        const char *app = by_app ? rows[i].app : "";
        long g = fp_keyidx_get(idx, rows[i].gpu, app, NAN);
        if (g < 0) {
            g = (long)out->ngroups++;
            if (fp_keyidx_add(idx, rows[i].gpu, app, NAN, (size_t)g) < 0)
                goto nomem;
        }
        out->of[i] = (size_t)g;
        out->start[g + 1]++;
    }
    for (size_t g = 0; g < out->ngroups; g++)
        out->start[g + 1] += out->start[g];
    size_t *fill = calloc(out->ngroups ? out->ngroups : 1, sizeof *fill);
    if (!fill)
        goto nomem;
    for (size_t i = 0; i < nrows; i++) {
        size_t g = out->of[i];
        out->row[out->start[g] + fill[g]++] = i;
    }
    free(fill);
    fp_keyidx_free(idx);
    return FP_OK;
nomem:
    fp_keyidx_free(idx);
    fp_agg_groups_free(out);
    return fp_error_set(err, FP_ERR_NOMEM, "out of memory grouping %zu rows", nrows);
}

size_t fp_agg_pairs(const fp_agg_row *rows, size_t nrows, size_t *first, size_t cap)
{
    size_t n = 0;
    fp_keyidx *idx = fp_keyidx_new(cap < nrows ? cap : nrows);
    for (size_t i = 0; i < nrows && n < cap; i++) {
        int seen = 0;
        if (idx) {
            seen = fp_keyidx_get(idx, rows[i].gpu, rows[i].app, NAN) >= 0;
            if (!seen && fp_keyidx_add(idx, rows[i].gpu, rows[i].app, NAN, i) < 0) {
                fp_keyidx_free(idx); /* no memory: the scan below */
                idx = NULL;
            }
        }
        if (!idx) /* no memory for the index: compare with the pairs found so far */
            for (size_t k = 0; k < n && !seen; k++)
                seen = !strcmp(rows[first[k]].gpu, rows[i].gpu) &&
                       !strcmp(rows[first[k]].app, rows[i].app);
        if (!seen)
            first[n++] = i;
    }
    fp_keyidx_free(idx);
    return n;
}

struct fp_agg_dropped_index {
    const fp_run_list *dropped;
    fp_keyidx *idx;
};

fp_status fp_agg_dropped_index_new(const fp_agg_result *res, fp_agg_dropped_index **out,
                                   fp_error *err)
{
    *out = NULL;
    const fp_run_list *d = &res->dropped;
    if (d->len == 0)
        return FP_OK;
    fp_agg_dropped_index *x = calloc(1, sizeof *x);
    if (x && (x->idx = fp_keyidx_new(d->len))) {
        x->dropped = d;
        size_t i = 0;
        while (i < d->len && fp_keyidx_add(x->idx, d->items[i].gpu, d->items[i].app,
                                           d->items[i].freq_mhz, i) == 0)
            i++;
        if (i == d->len) {
            *out = x;
            return FP_OK;
        }
    }
    fp_agg_dropped_index_free(x);
    return fp_error_set(err, FP_ERR_NOMEM, "out of memory indexing %zu dropped runs", d->len);
}

static int same_num(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

const fp_run *fp_agg_dropped_find(const fp_agg_dropped_index *x, const fp_run *r)
{
    if (!x)
        return NULL;
    fp_keyidx_iter it;
    size_t i;
    fp_keyidx_find(x->idx, r->gpu, r->app, r->freq_mhz, &it);
    while (fp_keyidx_next(&it, &i)) {
        const fp_run *c = &x->dropped->items[i];
        if (c->run_index == r->run_index && c->repetition == r->repetition &&
            same_num(c->freq_mhz, r->freq_mhz) && same_num(c->time_s, r->time_s) &&
            strcmp(c->gpu, r->gpu) == 0 && strcmp(c->app, r->app) == 0 &&
            strcmp(c->source, r->source) == 0)
            return c;
    }
    return NULL;
}

void fp_agg_dropped_index_free(fp_agg_dropped_index *x)
{
    if (!x)
        return;
    fp_keyidx_free(x->idx);
    free(x);
}
