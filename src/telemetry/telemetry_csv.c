/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot's own telemetry.csv: reader (behind fp_ts_open) and writer (telemetry_io.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/atomic.h"
#include "freqpilot/telemetry_io.h"
#include "util/csvcore.h"
#include "telemetry/format.h"
#include "telemetry/ts_internal.h"

/* ---- reader ---- */

static fp_status tcsv_open(fp_ts_reader *r, fp_error *err)
{
    int where[FP_COL_COUNT];
    const char *path = fp_linebuf_path(r->lb);
    long lineno;
    int n;
    fp_status st = fp_ts_read_csv_header(r, &lineno, &n, err);
    if (st != FP_OK)
        return st;
    r->ncols = n;
    r->info.columns_present = 0;
    for (int i = 0; i < n; i++) {
        int c = fp_col_from_name(r->fields[i], r->lens[i]);
        r->colname[i] = r->fields[i];
        r->kind[i] = TK_IGNORE;
        r->col[i] = -1;
        if (c < 0)
            continue;
        if (r->info.columns_present & ((uint64_t)1 << c))
            return fp_ts_err_duplicate(r, lineno, r->fields[i], where[c], i, err);
        where[c] = i;
        r->kind[i] = TK_NUM;
        r->col[i] = (signed char)c;
        r->info.columns_present |= (uint64_t)1 << c;
    }
    if (!(r->info.columns_present & 1u))
        return fp_error_at(err, FP_ERR_PARSE, path, lineno,
                           "telemetry.csv header without a t_s column");
    r->info.rows_skipped++;
    return FP_OK;
}

static int tcsv_next(fp_ts_reader *r, fp_sample *s, fp_error *err)
{
    char *line;
    size_t len;
    int rc;
    char **f = r->fields;
    size_t *l = r->lens;
    while ((rc = fp_linebuf_next(r->lb, &line, &len, err)) == 1) {
        int n = fp_csv_split(line, len, ',', f, l, TS_MAX_FIELDS);
        if (n == 1 && l[0] == 0 && r->ncols != 1) {
            r->info.rows_skipped++;
            continue;
        }
        if (n != r->ncols)
            return fp_ts_err_columns(r, n, err);
        fp_sample_clear(s);
        for (int i = 0; i < n; i++)
            if (r->kind[i] == TK_NUM && fp_parse_num(f[i], l[i], &s->v[(int)r->col[i]]) < 0)
                return fp_ts_err_value(r, i, f[i], l[i], err);
        if (!isfinite(s->v[FP_COL_T_S]))
            return fp_error_at(err, FP_ERR_PARSE, fp_linebuf_path(r->lb), fp_linebuf_lineno(r->lb),
                               "t_s is empty");
        r->row++;
        r->info.rows++;
        return 1;
    }
    return rc;
}

/* "t_s" first, or t_s and power_w among the columns; no '#' comment lines. */
static int tcsv_sniff(const fp_sniff *s)
{
    if (s->comments || s->nfields < 1)
        return FP_SNIFF_NO;
    if ((s->flen[0] == 3 && memcmp(s->field[0], "t_s", 3) == 0) ||
        (fp_sniff_has(s, "t_s") && fp_sniff_has(s, "power_w")))
        return FP_SNIFF_LIKELY + 10;
    return FP_SNIFF_NO;
}

const fp_format_ops fp_format_telemetry = {
    .name = "telemetry",
    .aliases = {"telemetry.csv", NULL},
    .description = "a freqpilot telemetry.csv",
    .sniff_file = tcsv_sniff,
    .open = tcsv_open,
    .next = tcsv_next,
};

/* ---- writer ---- */

struct fp_telemetry_writer {
    fp_atomic_file f;
};

static int put_uint(uint64_t v, char *buf)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

int fp_telemetry_format_value(double v, char *buf)
{
    if (isnan(v))
        return 0;
    if (!isfinite(v))
        return snprintf(buf, 32, "%s", v < 0 ? "-inf" : "inf");
    int n = 0;
    double a = fabs(v);
    if (a < 9007199254740992.0) {
        /* The fewest decimals k with round(a * 10^k) / 10^k == a: what a correctly rounded
         * parser (ours, strtod) reads back as exactly a. */
        for (int k = 0; k <= 9; k++) {
            double scaled = a * p10[k];
            if (scaled >= 9007199254740992.0)
                break;
            double m = round(scaled);
            if (m / p10[k] != a)
                continue;
            uint64_t mi = (uint64_t)m;
            if (signbit(v))
                buf[n++] = '-';
            if (k == 0)
                return n + put_uint(mi, buf + n);
            uint64_t ip = mi / (uint64_t)p10[k], fp = mi % (uint64_t)p10[k];
            n += put_uint(ip, buf + n);
            buf[n++] = '.';
            char fr[16];
            int fl = put_uint(fp, fr);
            for (int z = fl; z < k; z++)
                buf[n++] = '0';
            memcpy(buf + n, fr, (size_t)fl);
            n += fl;
            /* Trailing zeros cannot occur: a smaller k would have matched. */
            return n;
        }
    }
    return snprintf(buf, 32, "%.17g", v);
}

fp_status fp_telemetry_writer_open(fp_telemetry_writer **out, const char *path, fp_error *err)
{
    *out = NULL;
    fp_telemetry_writer *w = calloc(1, sizeof *w);
    if (!w)
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
    fp_status st = fp_atomic_open(&w->f, path, err);
    if (st != FP_OK) {
        free(w);
        return st;
    }
    for (int c = 0; c < FP_COL_COUNT; c++) {
        fputs(fp_col_name((fp_col)c), w->f.fp);
        fputc(c + 1 < FP_COL_COUNT ? ',' : '\n', w->f.fp);
    }
    if (ferror(w->f.fp)) {
        fp_telemetry_writer_abort(w);
        return fp_error_set(err, FP_ERR_IO, "%s: write failed", path);
    }
    *out = w;
    return FP_OK;
}

fp_status fp_telemetry_write_sample(fp_telemetry_writer *w, const fp_sample *s, fp_error *err)
{
    char line[FP_COL_COUNT * 34 + 2];
    size_t n = 0;
    for (int c = 0; c < FP_COL_COUNT; c++) {
        n += (size_t)fp_telemetry_format_value(s->v[c], line + n);
        line[n++] = c + 1 < FP_COL_COUNT ? ',' : '\n';
    }
    if (fwrite(line, 1, n, w->f.fp) != n)
        return fp_error_set(err, FP_ERR_IO, "%s: write failed", w->f.path);
    return FP_OK;
}

fp_status fp_telemetry_writer_commit(fp_telemetry_writer *w, fp_error *err)
{
    fp_status st = fp_atomic_commit(&w->f, err);
    if (st != FP_OK)
        fp_atomic_abort(&w->f);
    free(w);
    return st;
}

void fp_telemetry_writer_abort(fp_telemetry_writer *w)
{
    if (!w)
        return;
    fp_atomic_abort(&w->f);
    free(w);
}
