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

/* Rows up to this long take the bitmap path (longer ones, the general one). */
#define TCSV_MASK_MAX 2048
#define TCSV_MASK_WORDS (TCSV_MASK_MAX / 64 + 1)

#if defined(__SSE2__)
/* *v = the cached value of column c when the cell [p, e) has the cached bytes. */
static inline int tcsv_cached(const fp_ts_reader *r, int c, const char *p, const char *e, double *v)
{
    size_t len = (size_t)(e - p);
    if (len != r->tc_len[c]) /* also 0: nothing cached; len <= 16 when cached */
        return 0;
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p); /* the line's padding */
    __m128i t = _mm_load_si128((const __m128i *)(const void *)r->tc_text[c]);
    unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, t));
    unsigned want = (1u << len) - 1;
    if ((eq & want) != want)
        return 0;
    *v = r->tc_val[c];
    return 1;
}

static inline void tcsv_cache(fp_ts_reader *r, int c, const char *p, const char *e, double v)
{
    size_t len = (size_t)(e - p);
    if (len > 16)
        return;
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p); /* the line's padding */
    __m128i keep =
        _mm_cmpgt_epi8(_mm_set1_epi8((char)len), /* the first len bytes */
                       _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    _mm_store_si128((__m128i *)(void *)r->tc_text[c], _mm_and_si128(x, keep));
    r->tc_len[c] = (unsigned char)len;
    r->tc_val[c] = v;
}
#else
static inline int tcsv_cached(const fp_ts_reader *r, int c, const char *p, const char *e, double *v)
{
    (void)r, (void)c, (void)p, (void)e, (void)v;
    return 0;
}
static inline void tcsv_cache(fp_ts_reader *r, int c, const char *p, const char *e, double v)
{
    (void)r, (void)c, (void)p, (void)e, (void)v;
}
#endif

/*
 * The fast path of a plain row, as smi_csv.c and dcgmi.c have it: a bitmap of the commas (and
 * quotes) of the row, 64 bytes at a time, gives every cell's bounds; each mapped cell goes
 * through the short-number parser (divisions two at a time), an empty cell is "not available".
 * The values are the general path's bit for bit. 1 *s filled; 0: the general path decides
 * (quotes, blanks, other numbers, errors).
 */
static int tcsv_fast(fp_ts_reader *r, const char *line, size_t len, fp_sample *s)
{
    if (len >= TCSV_MASK_MAX || len == 0)
        return 0;
    uint64_t mc[TCSV_MASK_WORDS], mq[TCSV_MASK_WORDS];
    size_t nw = fp_csv_row_commas(line, len, mc, mq);
    if (!nw)
        return 0;
    sample_nan(s);
    fp_divq dq;
    dq.n = 0;
    int qcol[FP_DIVQ_MAX];
    const char *qp[FP_DIVQ_MAX], *qe[FP_DIVQ_MAX];
    /* Cell i ends at the i-th comma; col[i] is its fp_col, -1 when not read. */
    const signed char *slot = r->col;
    int i = 0, ncols = r->ncols;
    const char *p = line;
    for (size_t w = 0; w < nw; w++) {
        uint64_t bits = mc[w];
        const char *base = line + (w << 6);
        while (bits) {
            const char *e = base + __builtin_ctzll(bits);
            bits &= bits - 1;
            if (i == ncols)
                return 0; /* more cells than columns */
            int c = slot[i++];
            const char *cell = p;
            p = e + 1;
            if (c < 0 || cell == e)
                continue; /* not read, or empty: not available */
            double *v = &s->v[c];
            if (tcsv_cached(r, c, cell, e, v))
                continue;
            double m;
            int nfrac;
            /* Most cells: a short integer or fixed-point number (telemetry.csv is written so);
             * longer ones (the energy counter's 12 digits) through the 16-byte parser. */
            if (fp_parse_dec8(cell, e, &m, &nfrac) || fp_parse_short_m(line, cell, e, &m, &nfrac)) {
                if (nfrac) { /* a fraction: its division queued, two at a time */
                    if (dq.n == FP_DIVQ_MAX)
                        return 0; /* (never: fewer columns than that) */
                    dq.num[dq.n] = m;
                    dq.den[dq.n] = fp_pow10_tab[nfrac];
                    dq.dst[dq.n] = v;
                    qcol[dq.n] = c; /* cached once divided */
                    qp[dq.n] = cell;
                    qe[dq.n++] = e;
                } else {
                    *v = m;
                    tcsv_cache(r, c, cell, e, m);
                }
            } else if (fp_parse_simple(cell, e, v) != e) {
                return 0;
            }
        }
    }
    if (i != ncols)
        return 0; /* fewer cells than columns */
    int nq = dq.n;
    fp_divq_flush(&dq);
    for (int k = 0; k < nq; k++)
        tcsv_cache(r, qcol[k], qp[k], qe[k], s->v[qcol[k]]);
    return isfinite(s->v[FP_COL_T_S]);
}

static int tcsv_next(fp_ts_reader *r, fp_sample *s, fp_error *err)
{
    char *line;
    size_t len;
    int rc;
    char **f = r->fields;
    size_t *l = r->lens;
    while ((rc = fp_linebuf_next(r->lb, &line, &len, err)) == 1) {
        if (tcsv_fast(r, line, len, s)) {
            r->row++;
            r->info.rows++;
            return 1;
        }
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

/*
 * Decimals each column is written with: no more than its source has. NVML reports power in
 * mW (3 decimals in W), energy in mJ, clocks in MHz, utilisation, temperature and P-states as
 * integers; the sampler's clock is kept to the microsecond; DCGM's and GPM's activities are
 * fractions shown by dcgmi with 3 decimals (5 kept); the framebuffer in MiB to the KiB.
 * Digits beyond those are noise of the arithmetic (t - t0 in doubles, bytes / 2^20), which
 * used to be written with 17 significant digits and so read back through strtod.
 */
static const signed char col_decimals[FP_COL_COUNT] = {
    [FP_COL_T_S] = 6,          [FP_COL_POWER_W] = 3,          [FP_COL_POWER_AVG_W] = 3,
    [FP_COL_ENERGY_MJ] = 0,    [FP_COL_SM_CLOCK_MHZ] = 0,     [FP_COL_MEM_CLOCK_MHZ] = 0,
    [FP_COL_GPU_UTIL_PCT] = 0, [FP_COL_MEM_UTIL_PCT] = 0,     [FP_COL_SM_ACTIVE] = 5,
    [FP_COL_SM_OCCUPANCY] = 5, [FP_COL_TENSOR_ACTIVE] = 5,    [FP_COL_DRAM_ACTIVE] = 5,
    [FP_COL_FP64_ACTIVE] = 5,  [FP_COL_FP32_ACTIVE] = 5,      [FP_COL_FP16_ACTIVE] = 5,
    [FP_COL_TEMP_C] = 0,       [FP_COL_MEM_TEMP_C] = 0,       [FP_COL_FB_USED_MIB] = 3,
    [FP_COL_PSTATE] = 0,       [FP_COL_THROTTLE_REASONS] = 0, [FP_COL_POWER_LIMIT_W] = 3,
    [FP_COL_GR_ACTIVE] = 5,    [FP_COL_APP_CLOCK_MHZ] = 0,
};

double fp_telemetry_quantize(fp_col c, double v)
{
    if (!isfinite(v) || (unsigned)c >= FP_COL_COUNT)
        return v;
    double scale = p10[col_decimals[c]];
    if (!(fabs(v) * scale < 9007199254740992.0))
        return v; /* beyond 2^53 units: the double is already coarser */
    double q = round(v * scale) / scale;
    return q == 0.0 ? 0.0 : q; /* no "-0" */
}

fp_status fp_telemetry_write_sample(fp_telemetry_writer *w, const fp_sample *s, fp_error *err)
{
    char line[FP_COL_COUNT * 34 + 2];
    size_t n = 0;
    for (int c = 0; c < FP_COL_COUNT; c++) {
        n += (size_t)fp_telemetry_format_value(fp_telemetry_quantize((fp_col)c, s->v[c]), line + n);
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
