/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * aggregated.csv and its JSON twin: the column contract of docs/formats.md first,
 * in that order, then time_cv and energy_cv. NAN is an empty cell in CSV and
 * null in JSON, never a made-up number. Writes are atomic. The reader refuses a
 * column given twice and values no measurement can have.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/atomic.h"
#include "util/csvcore.h"
#include "util/grow.h"
#include "util/linebuf.h"
#include "util/output.h"

enum col_kind { COL_STR, COL_NUM, COL_INT, COL_FLAGS };

typedef struct agg_col {
    const char *name;
    enum col_kind kind;
    size_t off;
    int required; /* part of the docs/formats.md contract */
} agg_col;

#define NUM(f)                                                                                     \
    {                                                                                              \
#f, COL_NUM, offsetof(fp_agg_row, f), 1                                                    \
    }
static const agg_col cols[] = {
    {"gpu", COL_STR, offsetof(fp_agg_row, gpu), 1},
    {"app", COL_STR, offsetof(fp_agg_row, app), 1},
    NUM(freq_mhz),
    {"runs", COL_INT, offsetof(fp_agg_row, runs), 1},
    {"runs_dropped", COL_INT, offsetof(fp_agg_row, runs_dropped), 1},
    NUM(time_s),
    NUM(time_s_lo),
    NUM(time_s_hi),
    NUM(energy_j),
    NUM(energy_j_lo),
    NUM(energy_j_hi),
    NUM(power_w),
    NUM(edp),
    NUM(ed2p),
    NUM(sm_clock_mhz),
    NUM(gpu_util_pct),
    NUM(sm_active),
    NUM(dram_active),
    NUM(tensor_active),
    NUM(fp_active),
    NUM(temp_c),
    {"flags", COL_FLAGS, offsetof(fp_agg_row, flags), 1},
    {"time_cv", COL_NUM, offsetof(fp_agg_row, time_cv), 0},
    {"energy_cv", COL_NUM, offsetof(fp_agg_row, energy_cv), 0},
    {"gpu_name", COL_STR, offsetof(fp_agg_row, gpu_name), 0},
};
#undef NUM
#define NCOLS (sizeof cols / sizeof cols[0])

#define FIELD(row, c) ((char *)(row) + (c)->off)

/* Rows sorted by gpu, app, clock descending (the result of fp_aggregate already is). */
static int cmp_rows(const void *pa, const void *pb)
{
    const fp_agg_row *a = pa, *b = pb;
    int c = strcmp(a->gpu, b->gpu);
    if (c)
        return c;
    if ((c = strcmp(a->app, b->app)))
        return c;
    if (a->freq_mhz != b->freq_mhz)
        return a->freq_mhz > b->freq_mhz ? -1 : 1;
    return 0;
}

/* Row pointers in output order, without touching the caller's result. */
static const fp_agg_row **ordered(const fp_agg_result *res)
{
    const fp_agg_row **p = malloc((res->nrows ? res->nrows : 1) * sizeof *p);
    if (!p)
        return NULL;
    for (size_t i = 0; i < res->nrows; i++)
        p[i] = &res->rows[i];
    /* Stable insertion sort on pointers: results are small (one row per clock). */
    for (size_t i = 1; i < res->nrows; i++) {
        const fp_agg_row *v = p[i];
        size_t j = i;
        while (j > 0 && cmp_rows(p[j - 1], v) > 0) {
            p[j] = p[j - 1];
            j--;
        }
        p[j] = v;
    }
    return p;
}

static void put_num_csv(FILE *fp, double v)
{
    if (isfinite(v))
        fprintf(fp, "%.10g", v);
}

/* The rows in output order and the output file, opened atomically. */
static fp_status open_sorted(const fp_agg_result *res, const char *path, const fp_agg_row ***rows,
                             fp_atomic_file *f, fp_error *err)
{
    if (!(*rows = ordered(res)))
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
    fp_status st = fp_atomic_open(f, path, err);
    if (st)
        free(*rows);
    return st;
}

fp_status fp_agg_write_csv(const fp_agg_result *res, const char *path, fp_error *err)
{
    const fp_agg_row **rows;
    fp_atomic_file f;
    fp_status st = open_sorted(res, path, &rows, &f, err);
    if (st)
        return st;
    for (size_t c = 0; c < NCOLS; c++)
        fprintf(f.fp, "%s%s", c ? "," : "", cols[c].name);
    fputc('\n', f.fp);
    for (size_t i = 0; i < res->nrows; i++) {
        for (size_t c = 0; c < NCOLS; c++) {
            const agg_col *col = &cols[c];
            const char *field = FIELD(rows[i], col);
            if (c)
                fputc(',', f.fp);
            switch (col->kind) {
            case COL_STR:
                fp_csv_put_str(f.fp, field);
                break;
            case COL_NUM:
                put_num_csv(f.fp, *(const double *)field);
                break;
            case COL_INT:
                fprintf(f.fp, "%d", *(const int *)field);
                break;
            case COL_FLAGS: {
                char buf[512];
                fp_flags_format(*(const uint32_t *)field, buf, sizeof buf);
                fputs(buf, f.fp);
                break;
            }
            }
        }
        fputc('\n', f.fp);
    }
    free(rows);
    st = fp_atomic_commit(&f, err);
    fp_atomic_abort(&f);
    return st;
}

fp_status fp_agg_write_aie_csv(const fp_agg_result *res, const char *path, fp_error *err)
{
    const fp_agg_row **rows;
    fp_atomic_file f;
    fp_status st = open_sorted(res, path, &rows, &f, err);
    if (st)
        return st;
    fputs("gpu,application,frequency,avg_power,execution_time,energy,avg_gputl,avg_drama,"
          "avg_temp\n",
          f.fp);
    for (size_t i = 0; i < res->nrows; i++) {
        const fp_agg_row *r = rows[i];
        if (r->runs == 0)
            continue;
        fp_csv_put_str(f.fp, r->gpu);
        fputc(',', f.fp);
        fp_csv_put_str(f.fp, r->app);
        const double v[] = {r->freq_mhz,     r->power_w,     r->time_s, r->energy_j,
                            r->gpu_util_pct, r->dram_active, r->temp_c};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
            fp_csv_put_num(f.fp, v[k]);
        fputc('\n', f.fp);
    }
    free(rows);
    st = fp_atomic_commit(&f, err);
    fp_atomic_abort(&f);
    return st;
}

static json_t *num_json(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *flags_json(uint32_t flags)
{
    char buf[512];
    fp_flags_format(flags, buf, sizeof buf);
    return json_string(buf);
}

static json_t *row_json(const fp_agg_row *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (size_t c = 0; c < NCOLS; c++) {
        const agg_col *col = &cols[c];
        const char *field = FIELD(r, col);
        json_t *v = NULL;
        switch (col->kind) {
        case COL_STR:
            v = json_string(field);
            break;
        case COL_NUM:
            v = num_json(*(const double *)field);
            break;
        case COL_INT:
            v = json_integer(*(const int *)field);
            break;
        case COL_FLAGS:
            v = flags_json(*(const uint32_t *)field);
            break;
        }
        if (!v || json_object_set_new(o, col->name, v) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *run_json(const fp_run *r)
{
    json_t *o =
        json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "gpu", r->gpu, "app", r->app,
                  "freq_mhz", num_json(r->freq_mhz), "run_index",
                  r->run_index >= 0 ? json_integer(r->run_index) : json_null(), "repetition",
                  r->repetition >= 0 ? json_integer(r->repetition) : json_null(), "time_s",
                  num_json(r->time_s), "energy_j", num_json(r->energy_j), "power_w",
                  num_json(r->power_w), "source", r->source);
    if (o && json_object_set_new(o, "flags", flags_json(r->flags)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *result_json(const fp_agg_result *res)
{
    const fp_agg_row **rows = ordered(res);
    json_t *root = json_object(), *jrows = json_array(), *jf = json_array(), *jd = json_array();
    int ok = rows && root && jrows && jf && jd;
    for (size_t i = 0; ok && i < res->nrows; i++)
        ok = json_array_append_new(jrows, row_json(rows[i])) == 0;
    for (size_t i = 0; ok && i < res->nfindings; i++) {
        const fp_agg_finding *f = &res->findings[i];
        const char *name = fp_flag_name(f->flag);
        ok = json_array_append_new(jf,
                                   json_pack("{s:s, s:s, s:s, s:s}", "gpu", f->gpu, "app", f->app,
                                             "flag", name ? name : "", "detail", f->detail)) == 0;
    }
    for (size_t i = 0; ok && i < res->dropped.len; i++)
        ok = json_array_append_new(jd, run_json(&res->dropped.items[i])) == 0;
    free(rows);
    if (ok) {
        json_object_set_new(root, "rows", jrows);
        json_object_set_new(root, "findings", jf);
        json_object_set_new(root, "dropped", jd);
        return root;
    }
    json_decref(root);
    json_decref(jrows);
    json_decref(jf);
    json_decref(jd);
    return NULL;
}

fp_status fp_agg_write_json(const fp_agg_result *res, const char *path, fp_error *err)
{
    return fp_json_write_atomic(path, result_json(res), FP_JSON_FLAGS, err);
}

/* --- reading aggregated.csv back --- */

static int parse_flags(char *s, uint32_t *out)
{
    *out = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = '\0';
        if (!len)
            continue;
        int found = 0;
        for (int b = 0; b < FP_FLAG_COUNT_; b++) {
            const char *name = fp_flag_name(1u << b);
            if (name && strcmp(name, tok) == 0) {
                *out |= 1u << b;
                found = 1;
            }
        }
        if (!found)
            return -1;
    }
    return 0;
}

static fp_status parse_cell(const agg_col *col, char *s, size_t len, fp_agg_row *row,
                            const char *path, long line, fp_error *err)
{
    char *field = FIELD(row, col);
    double v;
    switch (col->kind) {
    case COL_STR:
        if (len == 0 && !col->required) { /* gpu_name: unknown */
            field[0] = 0;
            return FP_OK;
        }
        if (len == 0 || len >= sizeof row->gpu)
            return fp_error_at(err, FP_ERR_PARSE, path, line,
                               "column %s: expected a name of 1 to %zu characters", col->name,
                               sizeof row->gpu - 1);
        memcpy(field, s, len + 1);
        return FP_OK;
    case COL_NUM: {
        int rc = fp_parse_num(s, len, &v);
        if (rc < 0)
            return fp_error_at(err, FP_ERR_PARSE, path, line,
                               "column %s: expected a number or an empty cell, found '%.40s'",
                               col->name, s);
        *(double *)field = rc == 0 ? v : NAN;
        return FP_OK;
    }
    case COL_INT:
        if (fp_parse_num(s, len, &v) != 0 || v < 0 || v > 1e9 || v != floor(v))
            return fp_error_at(err, FP_ERR_PARSE, path, line,
                               "column %s: expected a whole number >= 0, found '%.40s'", col->name,
                               s);
        *(int *)field = (int)v;
        return FP_OK;
    case COL_FLAGS:
        if (parse_flags(s, (uint32_t *)field) < 0)
            return fp_error_at(err, FP_ERR_PARSE, path, line,
                               "column flags: expected ';'-separated flag names, found '%.60s'", s);
        return FP_OK;
    }
    return FP_OK;
}

#define MAX_FIELDS 256

/* What no aggregated row can hold (docs/formats.md, "Impossible values"). */
static fp_status check_row(const fp_agg_row *r, const char *path, long line, fp_error *err)
{
    const char *what = NULL;
    if (!(r->freq_mhz > 0 && r->freq_mhz <= 10000))
        what = "freq_mhz: expected a clock of 1..10000 MHz";
    else if (r->time_s < 0 || r->time_s_lo < 0 || r->time_s_hi < 0)
        what = "time_s: expected seconds >= 0";
    else if (r->energy_j < 0 || r->energy_j_lo < 0 || r->energy_j_hi < 0)
        what = "energy_j: expected joules >= 0";
    else if (r->power_w < 0 || r->power_w > 5000)
        what = "power_w: expected 0..5000 W";
    else if (r->time_s_lo > r->time_s_hi || r->energy_j_lo > r->energy_j_hi)
        what = "an interval whose _lo is above its _hi";
    else if (r->gpu_util_pct < 0 || r->gpu_util_pct > 100)
        what = "gpu_util_pct: expected 0..100";
    else if (r->sm_active < 0 || r->sm_active > 1 || r->dram_active < 0 || r->dram_active > 1 ||
             r->tensor_active < 0 || r->tensor_active > 1)
        what = "an activity outside 0..1";
    if (!what)
        return FP_OK;
    return fp_error_at(err, FP_ERR_PARSE, path, line, "impossible value: %s", what);
}

static fp_status read_rows(fp_linebuf *lb, const char *path, fp_agg_result *out, size_t *cap,
                           fp_error *err)
{
    char *line, *fields[MAX_FIELDS];
    size_t len, lens[MAX_FIELDS];
    int map[NCOLS]; /* column of the file holding cols[i], -1 when absent */
    int nhdr = 0, rc;
    fp_status st;

    while ((rc = fp_linebuf_next(lb, &line, &len, err)) == 1 && len == 0)
        ;
    if (rc < 0)
        return (fp_status)rc;
    if (rc == 0)
        return fp_error_at(err, FP_ERR_PARSE, path, 1,
                           "empty file: expected an aggregated.csv header (gpu,app,freq_mhz,...)");
    long hline = fp_linebuf_lineno(lb);
    nhdr = fp_csv_split(line, len, ',', fields, lens, MAX_FIELDS);
    if (nhdr < 0)
        return fp_error_at(err, FP_ERR_PARSE, path, hline, "more than %d columns in the header",
                           MAX_FIELDS);
    for (size_t c = 0; c < NCOLS; c++) {
        map[c] = -1;
        for (int j = 0; j < nhdr; j++) {
            if (strcmp(fields[j], cols[c].name) != 0)
                continue;
            if (map[c] >= 0)
                return fp_error_at(err, FP_ERR_PARSE, path, hline,
                                   "column '%s' given twice (columns %d and %d): expected each "
                                   "column once",
                                   cols[c].name, map[c] + 1, j + 1);
            map[c] = j;
        }
        if (map[c] < 0 && cols[c].required)
            return fp_error_at(err, FP_ERR_FORMAT, path, hline,
                               "expected an aggregated.csv header with column '%s'", cols[c].name);
    }
    while ((rc = fp_linebuf_next(lb, &line, &len, err)) == 1) {
        long lno = fp_linebuf_lineno(lb);
        if (len == 0)
            continue;
        if (fp_linebuf_last_unterminated(lb))
            return fp_error_at(err, FP_ERR_PARSE, path, lno,
                               "truncated line (no final newline): expected %d columns", nhdr);
        int nf = fp_csv_split(line, len, ',', fields, lens, MAX_FIELDS);
        if (nf != nhdr)
            return fp_error_at(err, FP_ERR_PARSE, path, lno, "expected %d columns, found %d", nhdr,
                               nf);
        if (FP_GROW(out->rows, out->nrows, *cap, 64))
            return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
        fp_agg_row *row = &out->rows[out->nrows];
        memset(row, 0, sizeof *row);
        row->time_cv = row->energy_cv = NAN;
        for (size_t c = 0; c < NCOLS; c++) {
            if (map[c] < 0)
                continue;
            if ((st = parse_cell(&cols[c], fields[map[c]], lens[map[c]], row, path, lno, err)))
                return st;
        }
        if ((st = check_row(row, path, lno, err)))
            return st;
        out->nrows++;
    }
    return rc < 0 ? (fp_status)rc : FP_OK;
}

fp_status fp_agg_read_csv(const char *path, fp_agg_result *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    fp_linebuf *lb;
    fp_status st = fp_linebuf_open(&lb, path, err);
    if (st)
        return st;
    size_t cap = 0;
    st = read_rows(lb, path, out, &cap, err);
    fp_linebuf_close(lb);
    if (st)
        fp_agg_result_free(out);
    return st;
}
