/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "util/csvcore.h"
#include "telemetry/detect_file.h"
#include "telemetry/format.h"
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

int fp_ts_err_duplicate(fp_ts_reader *r, long line, const char *name, int first, int second,
                        fp_error *err)
{
    return fp_error_at(err, FP_ERR_PARSE, fp_linebuf_path(r->lb), line,
                       "column '%s' given twice (columns %d and %d): expected each column once "
                       "(which one holds the data?)",
                       name, first + 1, second + 1);
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

/* Back to the first data row; info counters restart, facts learnt at open stay. */
fp_status fp_ts_restart(fp_ts_reader *r, fp_error *err)
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
    r->last_t = NAN;
    return r->ops->open(r, err);
}

/*
 * The checks every sample passes (docs/formats.md, "Impossible values"): each value inside its
 * column's physical range, and time never going backwards. The error is at the line just read,
 * which holds the sample.
 */
static __attribute__((noinline)) int check_failed(fp_ts_reader *r, const fp_sample *s,
                                                  fp_error *err)
{
    const char *path = fp_linebuf_path(r->lb);
    long line = fp_linebuf_lineno(r->lb);
    double t = s->v[FP_COL_T_S];
    for (int c = 0; c < FP_COL_COUNT; c++) {
        double v = s->v[c];
        if (v < fp_col_lo[c] || v > fp_col_hi[c])
            return fp_error_at(err, FP_ERR_PARSE, path, line,
                               "%s = %.10g is impossible (expected %s)", fp_col_name((fp_col)c), v,
                               fp_col_range_text((fp_col)c));
    }
    return fp_error_at(err, FP_ERR_PARSE, path, line,
                       "time went backwards: t_s %.10g s after %.10g s (expected the samples in "
                       "time order; two writers in one file, or the clock set back?)",
                       t, r->last_t);
}

/* The last line had no newline: the file was cut (a crash, a full disk) and the row's last
 * value may be cut short (1410 read as 14). Refused rather than guessed. */
static __attribute__((noinline)) int truncated(fp_ts_reader *r, fp_error *err)
{
    return fp_error_at(err, FP_ERR_PARSE, fp_linebuf_path(r->lb), fp_linebuf_lineno(r->lb),
                       "truncated last line (no newline at the end of the file): its last value "
                       "may be cut short; expected every row to end with a newline");
}

static inline int check_sample(fp_ts_reader *r, const fp_sample *s, fp_error *err)
{
    /* Every column against its limits, branch-free (NAN compares false: "not available"
     * passes), two columns per SSE2 compare. */
    int bad = 0, c = 0;
#if defined(__SSE2__)
    __m128d acc = _mm_setzero_pd();
#pragma GCC unroll 12
    for (; c + 2 <= FP_COL_COUNT; c += 2) {
        __m128d v = _mm_loadu_pd(&s->v[c]);
        acc = _mm_or_pd(acc, _mm_or_pd(_mm_cmplt_pd(v, _mm_loadu_pd(&fp_col_lo[c])),
                                       _mm_cmpgt_pd(v, _mm_loadu_pd(&fp_col_hi[c]))));
    }
    bad = _mm_movemask_pd(acc) != 0;
#endif
    for (; c < FP_COL_COUNT; c++)
        bad |= (s->v[c] < fp_col_lo[c]) | (s->v[c] > fp_col_hi[c]);
    double t = s->v[FP_COL_T_S];
    bad |= t < r->last_t;
    if (__builtin_expect(bad, 0) && !r->unchecked)
        return check_failed(r, s, err);
    if (__builtin_expect(fp_linebuf_last_unterminated(r->lb), 0) && !r->unchecked)
        return truncated(r, err);
    if (t == t)
        r->last_t = t;
    return 1;
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
    while (n < PRESCAN_ROWS && (rc = fp_ts_next(r, &s, err)) == 1) {
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

/* The ops of a time-series format, or NULL with err set. */
static const fp_format_ops *ts_ops(const char *name, fp_format fmt, fp_error *err)
{
    const fp_format_ops *ops = fp_format_get(fmt);
    if (!ops)
        fp_error_at(err, FP_ERR_FORMAT, name, 0, "unknown input format %d", (int)fmt);
    else if (!ops->next)
        fp_error_at(err, FP_ERR_FORMAT, name, 0,
                    "this is %s, not a time series (expected an nvidia-smi CSV, a dcgmi dmon "
                    "table or a telemetry.csv)",
                    ops->description);
    return ops && ops->next ? ops : NULL;
}

static fp_status open_common(fp_linebuf *lb, fp_format fmt, const fp_format_ops *ops,
                             const fp_ts_options *opt, int flags, fp_ts_reader **out, fp_error *err)
{
    fp_ts_reader *r = calloc(1, sizeof *r);
    if (!r) {
        fp_linebuf_close(lb);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    r->lb = lb;
    r->fmt = fmt;
    r->ops = ops;
    r->last_t = NAN;
    r->unchecked = (flags & FP_TS_UNCHECKED) != 0;
    if (opt) {
        r->opt = *opt;
    } else {
        r->opt.gpu_index = -1;
    }
    r->info.format = fmt;
    r->info.start_utc = NAN;
    r->keep_index = r->opt.gpu_index >= 0 ? r->opt.gpu_index : -1;
    fp_status st = ops->open(r, err);
    if (st == FP_OK && ops->prepare)
        st = ops->prepare(r, err);
    if (st == FP_OK)
        st = prescan(r, err);
    if (st == FP_OK)
        st = fp_ts_restart(r, err);
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
    return fp_ts_open_flags(path, fmt, opt, 0, out, err);
}

fp_status fp_ts_open_flags(const char *path, fp_format fmt, const fp_ts_options *opt, int flags,
                           fp_ts_reader **out, fp_error *err)
{
    *out = NULL;
    if (fmt == FP_FMT_AUTO) {
        fp_status st = fp_detect_file_format(path, &fmt, err);
        if (st != FP_OK)
            return st;
    }
    const fp_format_ops *ops = ts_ops(path, fmt, err);
    if (!ops)
        return FP_ERR_FORMAT;
    fp_linebuf *lb;
    fp_status st = fp_linebuf_open(&lb, path, err);
    if (st != FP_OK)
        return st;
    return open_common(lb, fmt, ops, opt, flags, out, err);
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
    const fp_format_ops *ops = ts_ops(name, fmt, err);
    if (!ops)
        return FP_ERR_FORMAT;
    fp_linebuf *lb;
    fp_status st = fp_linebuf_open_mem(&lb, data, len, name, err);
    if (st != FP_OK)
        return st;
    return open_common(lb, fmt, ops, opt, 0, out, err);
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
    int rc = r->ops->next(r, s, err);
    return rc == 1 ? check_sample(r, s, err) : rc;
}

int fp_ts_next_batch(fp_ts_reader *r, fp_sample *s, int n, fp_error *err)
{
    if (r->pending_rc)
        return take_pending(r, err);
    int (*next)(fp_ts_reader *, fp_sample *, fp_error *) = r->ops->next;
    int k = 0, rc = 1;
    while (k < n && (rc = next(r, &s[k], err)) == 1 && (rc = check_sample(r, &s[k], err)) == 1)
        k++;
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
    return fp_ts_restart(r, err);
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
