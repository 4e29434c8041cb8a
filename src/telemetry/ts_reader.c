/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry/csvcore.h"
#include "telemetry/detect_file.h"
#include "telemetry/ts_internal.h"

/* Rows looked at by open to fill fp_ts_info (GPU name, start, spacing) before the first next. */
#define PRESCAN_ROWS 64

fp_status fp_ts_keep_header(fp_ts_reader *r, const char *line, size_t len, fp_error *err)
{
    char *h = malloc(len + 1);
    if (!h)
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", fp_linebuf_path(r->lb));
    memcpy(h, line, len);
    h[len] = '\0';
    free(r->hdr);
    r->hdr = h;
    r->hdr_len = len;
    return FP_OK;
}

fp_status fp_ts_read_csv_header(fp_ts_reader *r, long *lineno, int *ncols, fp_error *err)
{
    char *line;
    size_t len;
    int rc;
    const char *path = fp_linebuf_path(r->lb);
    while ((rc = fp_linebuf_next(r->lb, &line, &len, err)) == 1) {
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i < len)
            break;
        r->info.rows_skipped++;
    }
    if (rc < 0)
        return rc;
    if (rc == 0)
        return fp_error_at(err, FP_ERR_PARSE, path, 0, "empty file: no header and no data");
    *lineno = fp_linebuf_lineno(r->lb);
    fp_status st = fp_ts_keep_header(r, line, len, err);
    if (st != FP_OK)
        return st;
    int n = fp_csv_split(r->hdr, r->hdr_len, ',', r->fields, r->lens, TS_MAX_FIELDS);
    if (n < 0)
        return fp_error_at(err, FP_ERR_PARSE, path, *lineno, "more than %d columns", TS_MAX_FIELDS);
    *ncols = n;
    return FP_OK;
}

int fp_ts_err_columns(fp_ts_reader *r, int found, fp_error *err)
{
    const char *hint = fp_linebuf_last_unterminated(r->lb)
                           ? " (the last line has no newline: truncated file?)"
                           : "";
    if (found < 0)
        return fp_error_at(err, FP_ERR_PARSE, fp_linebuf_path(r->lb), fp_linebuf_lineno(r->lb),
                           "expected %d columns, found more than %d%s", r->ncols, TS_MAX_FIELDS,
                           hint);
    return fp_error_at(err, FP_ERR_PARSE, fp_linebuf_path(r->lb), fp_linebuf_lineno(r->lb),
                       "expected %d columns, found %d%s", r->ncols, found, hint);
}

int fp_ts_err_value(fp_ts_reader *r, int field, const char *text, size_t len, fp_error *err)
{
    const char *name = r->colname[field] ? r->colname[field] : "?";
    int shown = len > 40 ? 40 : (int)len;
    return fp_error_at(err, FP_ERR_PARSE, fp_linebuf_path(r->lb), fp_linebuf_lineno(r->lb),
                       "column %d (%s): expected a number, found '%.*s'%s", field + 1, name, shown,
                       text, len > 40 ? "..." : "");
}

int fp_ts_parse_cell(const char *s, size_t len, double *out)
{
    int rc = fp_parse_num(s, len, out);
    if (rc >= 0)
        return rc;
    if (len >= 2 && s[0] == 'P' && (unsigned)(s[1] - '0') < 10) /* P-state */
        return fp_parse_num(s + 1, len - 1, out) == 0 ? 0 : -1;
    /* "70.12 W": a number, one space, a unit nvidia-smi uses. Units that would change the
     * scale are not in the list: refused rather than misread. */
    const char *sp = memchr(s, ' ', len);
    if (!sp)
        return -1;
    size_t nlen = (size_t)(sp - s), ulen = len - nlen - 1;
    const char *u = sp + 1;
    if (!((ulen == 1 && (u[0] == 'W' || u[0] == '%' || u[0] == 'C')) ||
          (ulen == 3 && (memcmp(u, "MHz", 3) == 0 || memcmp(u, "MiB", 3) == 0))))
        return -1;
    return fp_parse_num(s, nlen, out) == 0 ? 0 : -1;
}

static fp_status fmt_init(fp_ts_reader *r, fp_error *err)
{
    switch (r->fmt) {
    case FP_FMT_SMI_CSV:
        return fp_smi_init(r, err);
    case FP_FMT_DCGMI:
        return fp_dcgmi_init(r, err);
    case FP_FMT_TELEMETRY:
        return fp_tcsv_init(r, err);
    default:
        return fp_error_at(err, FP_ERR_FORMAT, fp_linebuf_path(r->lb), 0,
                           "%s is not a time-series format (expected smi-csv, dcgmi or telemetry)",
                           fp_format_name(r->fmt));
    }
}

static int fmt_next(fp_ts_reader *r, fp_sample *s, fp_error *err)
{
    switch (r->fmt) {
    case FP_FMT_SMI_CSV:
        return fp_smi_next(r, s, err);
    case FP_FMT_DCGMI:
        return fp_dcgmi_next(r, s, err);
    default:
        return fp_tcsv_next(r, s, err);
    }
}

/* Back to the first data row; info counters restart, facts learnt at open stay. */
static fp_status restart(fp_ts_reader *r, fp_error *err)
{
    fp_status st = fp_linebuf_rewind(r->lb, err);
    if (st != FP_OK)
        return st;
    r->info.rows = 0;
    r->info.rows_skipped = 0;
    r->info.rows_other_entity = 0;
    r->row = 0;
    r->garbage_line = 0;
    r->garbage_count = 0;
    r->seen_data = 0;
    r->pending_rc = 0;
    return fmt_init(r, err);
}

static double median(double *v, int n)
{
    /* n is small (PRESCAN_ROWS): insertion sort. */
    for (int i = 1; i < n; i++) {
        double x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/*
 * Reads the first rows once so fp_ts_info is complete right after open: the
 * GPU name, the start time, the sampling interval. A file whose first rows are
 * malformed fails here with the same message next would give.
 */
static fp_status prescan(fp_ts_reader *r, fp_error *err)
{
    fp_sample s;
    double prev_t = NAN, gaps[PRESCAN_ROWS];
    int ngaps = 0, rc;
    long n = 0;
    r->prescanning = 1;
    while (n < PRESCAN_ROWS && (rc = fmt_next(r, &s, err)) == 1) {
        if (n > 0 && isfinite(prev_t) && isfinite(s.v[FP_COL_T_S]) && s.v[FP_COL_T_S] > prev_t)
            gaps[ngaps++] = s.v[FP_COL_T_S] - prev_t;
        prev_t = s.v[FP_COL_T_S];
        n++;
    }
    r->prescanning = 0;
    if (n < PRESCAN_ROWS && rc < 0)
        return rc;
    if (n == 0)
        return fp_error_at(err, FP_ERR_PARSE, fp_linebuf_path(r->lb), fp_linebuf_lineno(r->lb),
                           "no data rows (empty or header-only file)");
    if (!r->info.time_reconstructed && ngaps > 0)
        r->info.interval_s = median(gaps, ngaps);
    return FP_OK;
}

static fp_status open_common(fp_linebuf *lb, fp_format fmt, const fp_ts_options *opt,
                             fp_ts_reader **out, fp_error *err)
{
    fp_ts_reader *r = calloc(1, sizeof *r);
    if (!r) {
        fp_linebuf_close(lb);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    r->lb = lb;
    r->fmt = fmt;
    if (opt) {
        r->opt = *opt;
    } else {
        r->opt.gpu_index = -1;
    }
    r->info.format = fmt;
    r->info.start_utc = NAN;
    r->keep_index = r->opt.gpu_index >= 0 ? r->opt.gpu_index : -1;
    fp_status st = fmt_init(r, err);
    if (st == FP_OK && fmt == FP_FMT_DCGMI) {
        double iv = r->opt.interval_s > 0 ? r->opt.interval_s : fp_dcgmi_infer_interval(r);
        const char *how = r->opt.interval_s > 0 ? "given" : "inferred from TOTEC and POWER";
        if (!(iv > 0)) {
            iv = 0.1;
            how = "default; pass the dmon -d interval to be exact";
        }
        r->interval = iv;
        r->info.interval_s = iv;
        r->info.time_reconstructed = 1;
        fp_warn(r->opt.diag,
                "%s: dcgmi rows carry no timestamps: time rebuilt at %g s per row (%s)",
                fp_linebuf_path(lb), iv, how);
        st = restart(r, err);
    }
    if (st == FP_OK)
        st = prescan(r, err);
    if (st == FP_OK)
        st = restart(r, err);
    if (st != FP_OK) {
        fp_ts_close(r);
        return st;
    }
    *out = r;
    return FP_OK;
}

fp_status fp_ts_open(const char *path, fp_format fmt, const fp_ts_options *opt, fp_ts_reader **out,
                     fp_error *err)
{
    *out = NULL;
    if (fmt == FP_FMT_AUTO) {
        fp_status st = fp_detect_file_format(path, &fmt, err);
        if (st != FP_OK)
            return st;
    }
    if (fmt != FP_FMT_SMI_CSV && fmt != FP_FMT_DCGMI && fmt != FP_FMT_TELEMETRY)
        return fp_error_at(err, FP_ERR_FORMAT, path, 0,
                           "this is a %s file, not a time series (expected an nvidia-smi CSV, a "
                           "dcgmi dmon table or a telemetry.csv)",
                           fp_format_name(fmt));
    fp_linebuf *lb;
    fp_status st = fp_linebuf_open(&lb, path, err);
    if (st != FP_OK)
        return st;
    return open_common(lb, fmt, opt, out, err);
}

fp_status fp_ts_open_mem(const void *data, size_t len, const char *name, fp_format fmt,
                         const fp_ts_options *opt, fp_ts_reader **out, fp_error *err)
{
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (fmt == FP_FMT_AUTO) {
        fp_status st = fp_detect_buffer_format(data, len, name, &fmt, err);
        if (st != FP_OK)
            return st;
    }
    if (fmt != FP_FMT_SMI_CSV && fmt != FP_FMT_DCGMI && fmt != FP_FMT_TELEMETRY)
        return fp_error_at(err, FP_ERR_FORMAT, name, 0, "not a time-series format");
    fp_linebuf *lb;
    fp_status st = fp_linebuf_open_mem(&lb, data, len, name, err);
    if (st != FP_OK)
        return st;
    return open_common(lb, fmt, opt, out, err);
}

/* The error an earlier fp_ts_next_batch held back (returned once). */
static int take_pending(fp_ts_reader *r, fp_error *err)
{
    int rc = r->pending_rc;
    r->pending_rc = 0;
    if (err)
        *err = r->pending_err;
    return rc;
}

int fp_ts_next(fp_ts_reader *r, fp_sample *s, fp_error *err)
{
    if (__builtin_expect(r->pending_rc != 0, 0))
        return take_pending(r, err);
    return fmt_next(r, s, err);
}

int fp_ts_next_batch(fp_ts_reader *r, fp_sample *s, int n, fp_error *err)
{
    if (r->pending_rc)
        return take_pending(r, err);
    int k = 0, rc = 1;
    switch (r->fmt) { /* one dispatch per batch */
    case FP_FMT_SMI_CSV:
        while (k < n && (rc = fp_smi_next(r, &s[k], err)) == 1)
            k++;
        break;
    case FP_FMT_DCGMI:
        while (k < n && (rc = fp_dcgmi_next(r, &s[k], err)) == 1)
            k++;
        break;
    default:
        while (k < n && (rc = fp_tcsv_next(r, &s[k], err)) == 1)
            k++;
        break;
    }
    if (rc < 0) {
        if (k == 0)
            return rc;
        r->pending_rc = rc;
        if (err)
            r->pending_err = *err;
        else
            fp_error_set(&r->pending_err, (fp_status)rc, "%s: read error", fp_ts_path(r));
    }
    return k;
}

fp_status fp_ts_rewind(fp_ts_reader *r, fp_error *err)
{
    return restart(r, err);
}

const fp_ts_info *fp_ts_get_info(const fp_ts_reader *r)
{
    return &r->info;
}

const char *fp_ts_path(const fp_ts_reader *r)
{
    return fp_linebuf_path(r->lb);
}

void fp_ts_close(fp_ts_reader *r)
{
    if (!r)
        return;
    fp_linebuf_close(r->lb);
    free(r->hdr);
    free(r);
}
