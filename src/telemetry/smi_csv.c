/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]: one row per GPU
 * per sample, ", " separated, values possibly with units ("70.12 W") or
 * bracketed markers ([N/A]). Without a header only the layout of the
 * ai-inference-energy captures is known; anything else needs a header.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csvcore.h"
#include "telemetry/format.h"
#include "telemetry/ts_internal.h"

/* The noheader layout of the ai-inference-energy smi-1s captures. */
static const char *const noheader_layout[] = {
    "timestamp",
    "index",
    "name",
    "power.draw",
    "power.limit",
    "temperature.gpu",
    "utilization.gpu",
    "utilization.memory",
    "memory.total",
    "memory.free",
    "memory.used",
    "clocks.sm",
    "clocks.mem",
    "clocks.gr",
    "pstate",
};
#define NOHEADER_COLS ((int)(sizeof noheader_layout / sizeof *noheader_layout))

struct smi_field {
    const char *name;
    unsigned char kind;
    signed char col;
    signed char prio; /* when several fields feed one column, the highest wins */
};

static const struct smi_field smi_fields[] = {
    {"timestamp", TK_TIME, -1, 0},
    {"index", TK_INDEX, -1, 0},
    {"name", TK_NAME, -1, 0},
    {"gpu_name", TK_NAME, -1, 0},
    {"power.draw.instant", TK_NUM, FP_COL_POWER_W, 3},
    {"power.draw", TK_NUM, FP_COL_POWER_W, 2},
    {"power.draw.average", TK_NUM, FP_COL_POWER_AVG_W, 3},
    {"enforced.power.limit", TK_NUM, FP_COL_POWER_LIMIT_W, 3},
    {"power.limit", TK_NUM, FP_COL_POWER_LIMIT_W, 2},
    {"temperature.gpu", TK_NUM, FP_COL_TEMP_C, 2},
    {"temperature.memory", TK_NUM, FP_COL_MEM_TEMP_C, 2},
    {"utilization.gpu", TK_NUM, FP_COL_GPU_UTIL_PCT, 2},
    {"utilization.memory", TK_NUM, FP_COL_MEM_UTIL_PCT, 2},
    {"memory.used", TK_NUM, FP_COL_FB_USED_MIB, 2},
    {"clocks.sm", TK_NUM, FP_COL_SM_CLOCK_MHZ, 3},
    {"clocks.current.sm", TK_NUM, FP_COL_SM_CLOCK_MHZ, 3},
    {"clocks.gr", TK_NUM, FP_COL_SM_CLOCK_MHZ, 1},
    {"clocks.current.graphics", TK_NUM, FP_COL_SM_CLOCK_MHZ, 1},
    {"clocks.mem", TK_NUM, FP_COL_MEM_CLOCK_MHZ, 2},
    {"clocks.current.memory", TK_NUM, FP_COL_MEM_CLOCK_MHZ, 2},
    {"clocks.applications.graphics", TK_NUM, FP_COL_APP_CLOCK_MHZ, 2},
    {"clocks.applications.gr", TK_NUM, FP_COL_APP_CLOCK_MHZ, 2},
    {"pstate", TK_PSTATE, FP_COL_PSTATE, 2},
    {"clocks_event_reasons.active", TK_NUM, FP_COL_THROTTLE_REASONS, 2},
    {"clocks_throttle_reasons.active", TK_NUM, FP_COL_THROTTLE_REASONS, 2},
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if ((unsigned)(s[i] - '0') > 9)
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* The "YYYY/MM/DD " (or "YYYY-MM-DD ") part of a timestamp: *day_sec = its midnight (Unix s). */
static inline int parse_date(const char *s, int64_t *day_sec)
{
    unsigned y, mo, d;
    if ((s[4] != '/' && s[4] != '-') || s[7] != s[4] || s[10] != ' ' || digits(s, 4, &y) ||
        digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    *day_sec = days_from_civil(y, mo, d) * 86400;
    return 0;
}

/* The "HH:MM:SS[.fff]" part of a timestamp (s is the whole cell); adds day_sec. */
static inline int parse_clock(const char *s, size_t len, int64_t day_sec, int64_t *sec,
                              double *frac)
{
    unsigned h, mi, se;
    if (s[13] != ':' || s[16] != ':' || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
        digits(s + 17, 2, &se) || h > 23 || mi > 59 || se > 60)
        return -1;
    double f = 0;
    if (len > 19) {
        if (s[19] != '.' || len == 20 || len > 29)
            return -1;
        unsigned v;
        int n = (int)len - 20;
        if (digits(s + 20, n, &v))
            return -1;
        static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
        f = v / p10[n];
    }
    *sec = day_sec + h * 3600 + mi * 60 + se;
    *frac = f;
    return 0;
}

/* "HH:MM:SS" at s as eight bytes at once: -1 when not that shape, else seconds of the day
 * (ranges as parse_clock). */
static inline long clock_swar(const char *s)
{
    const uint64_t colon_at = 0x0000FF0000FF0000ull; /* bytes 2 and 5 */
    const uint64_t hi = 0xF0F0F0F0F0F0F0F0ull, zeros = 0x3030303030303030ull;
    uint64_t x;
    memcpy(&x, s, 8);
    if ((x & colon_at) != 0x00003A00003A0000ull)
        return -1;
    x = (x & ~colon_at) | (zeros & colon_at); /* the ':' become '0': all eight must be digits */
    if ((x & hi) != zeros || ((x + 0x0606060606060606ull) & hi) != zeros)
        return -1;
    uint64_t d = x - zeros; /* byte i: the digit s[i] (bytes 2 and 5: 0) */
    unsigned h = (unsigned)(d & 0xFF) * 10 + (unsigned)(d >> 8 & 0xFF);
    unsigned mi = (unsigned)(d >> 24 & 0xFF) * 10 + (unsigned)(d >> 32 & 0xFF);
    unsigned se = (unsigned)(d >> 48 & 0xFF) * 10 + (unsigned)(d >> 56 & 0xFF);
    if (h > 23 || mi > 59 || se > 60)
        return -1;
    return (long)(h * 3600 + mi * 60 + se);
}

/* fp_smi_parse_time with the date part cached in r (a capture spans few days). */
static int parse_time_cached(fp_ts_reader *r, const char *s, size_t len, int64_t *sec, double *frac)
{
    if (len < 19)
        return -1;
    uint64_t k8;
    uint32_t k4;
    memcpy(&k8, s, 8);
    memcpy(&k4, s + 7, 4);
    if (r->have_date && k8 == r->date_k8 && k4 == r->date_k4 && len == 23 && s[19] == '.') {
        /* The usual "YYYY/MM/DD HH:MM:SS.mmm" of a day already seen. */
        long cs = clock_swar(s + 11);
        unsigned a = (unsigned)(s[20] - '0'), b = (unsigned)(s[21] - '0'),
                 c = (unsigned)(s[22] - '0');
        if (cs >= 0 && a < 10 && b < 10 && c < 10) {
            *sec = r->date_sec + cs;
            *frac = (a * 100 + b * 10 + c) / 1e3;
            return 0;
        }
    }
    if (!r->have_date || memcmp(s, r->date_key, 11) != 0) {
        if (parse_date(s, &r->date_sec))
            return -1;
        memcpy(r->date_key, s, 11);
        memcpy(&r->date_k8, s, 8);
        memcpy(&r->date_k4, s + 7, 4);
        r->have_date = 1;
    }
    return parse_clock(s, len, r->date_sec, sec, frac);
}

int fp_smi_parse_time(const char *s, size_t len, int64_t *sec, double *frac)
{
    int64_t day_sec;
    if (len < 19 || parse_date(s, &day_sec))
        return -1;
    return parse_clock(s, len, day_sec, sec, frac);
}

/* "power.draw [W]" -> "power.draw". */
static size_t strip_unit(const char *name, size_t len)
{
    if (len > 0 && name[len - 1] == ']') {
        const char *b = memchr(name, '[', len);
        if (b) {
            len = (size_t)(b - name);
            while (len > 0 && name[len - 1] == ' ')
                len--;
        }
    }
    return len;
}

#define SMI_NFIELDS (sizeof smi_fields / sizeof *smi_fields)

static fp_status map_columns(fp_ts_reader *r, char **names, size_t *lens, int n, long line,
                             fp_error *err)
{
    int best_prio[FP_COL_COUNT], best_field[FP_COL_COUNT], seen[SMI_NFIELDS];
    for (int c = 0; c < FP_COL_COUNT; c++)
        best_prio[c] = -1, best_field[c] = -1;
    for (size_t k = 0; k < SMI_NFIELDS; k++)
        seen[k] = -1;
    r->ncols = n;
    r->time_col = r->index_col = r->name_col = -1;
    for (int i = 0; i < n; i++) {
        size_t len = strip_unit(names[i], lens[i]);
        names[i][len] = '\0';
        r->colname[i] = names[i];
        r->kind[i] = TK_IGNORE;
        r->col[i] = -1;
        for (size_t k = 0; k < SMI_NFIELDS; k++) {
            const struct smi_field *f = &smi_fields[k];
            if (strlen(f->name) != len || memcmp(f->name, names[i], len) != 0)
                continue;
            if (seen[k] >= 0)
                return fp_ts_err_duplicate(r, line, f->name, seen[k], i, err);
            seen[k] = i;
            if (f->kind == TK_TIME && r->time_col < 0)
                r->time_col = i, r->kind[i] = TK_TIME;
            else if (f->kind == TK_INDEX && r->index_col < 0)
                r->index_col = i, r->kind[i] = TK_INDEX;
            else if (f->kind == TK_NAME && r->name_col < 0)
                r->name_col = i, r->kind[i] = TK_NAME;
            else if (f->col >= 0 && f->prio > best_prio[(int)f->col]) {
                best_prio[(int)f->col] = f->prio;
                best_field[(int)f->col] = i;
                r->kind[i] = f->kind;
                r->col[i] = f->col;
            }
            break;
        }
    }
    /* Several fields for one column: the best one keeps it. */
    for (int i = 0; i < n; i++)
        if (r->col[i] >= 0 && best_field[(int)r->col[i]] != i)
            r->kind[i] = TK_IGNORE, r->col[i] = -1;
    /* Newer drivers: power.draw is the 1-s average when power.draw.instant exists. */
    int instant = best_field[FP_COL_POWER_W];
    if (instant >= 0 && strcmp(names[instant], "power.draw.instant") == 0 &&
        best_field[FP_COL_POWER_AVG_W] < 0) {
        for (int i = 0; i < n; i++)
            if (strcmp(names[i], "power.draw") == 0) {
                r->kind[i] = TK_NUM;
                r->col[i] = FP_COL_POWER_AVG_W;
                best_field[FP_COL_POWER_AVG_W] = i;
            }
    }
    r->info.columns_present = 1u << FP_COL_T_S;
    for (int c = 0; c < FP_COL_COUNT; c++)
        if (best_field[c] >= 0)
            r->info.columns_present |= (uint64_t)1 << c;
    if (r->time_col < 0) {
        r->interval = r->opt.interval_s > 0 ? r->opt.interval_s : 1.0;
        r->info.time_reconstructed = 1;
        r->info.interval_s = r->interval;
    }
    return FP_OK;
}

static fp_status smi_open(fp_ts_reader *r, fp_error *err)
{
    const char *path = fp_linebuf_path(r->lb);
    long lineno;
    int n;
    fp_status st = fp_ts_read_csv_header(r, &lineno, &n, err);
    if (st != FP_OK)
        return st;
    int64_t sec;
    double frac;
    if (fp_smi_parse_time(r->fields[0], r->lens[0], &sec, &frac) == 0) {
        /* No header: only the known capture layout can be trusted. */
        double v;
        if (n != NOHEADER_COLS || fp_parse_num(r->fields[2], r->lens[2], &v) != -1)
            return fp_error_at(err, FP_ERR_FORMAT, path, lineno,
                               "nvidia-smi CSV without a header and %d columns: only the "
                               "%d-column layout (timestamp,index,name,power.draw,...,pstate) is "
                               "known; record with --format=csv (with the header)",
                               n, NOHEADER_COLS);
        char buf[512];
        size_t off = 0;
        for (int i = 0; i < NOHEADER_COLS; i++)
            off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? "," : "",
                                    noheader_layout[i]);
        st = fp_ts_keep_header(r, buf, off, err);
        if (st != FP_OK)
            return st;
        n = fp_csv_split(r->hdr, r->hdr_len, ',', r->fields, r->lens, TS_MAX_FIELDS);
        st = map_columns(r, r->fields, r->lens, n, lineno, err);
        if (st != FP_OK)
            return st;
        /* The first line is data: start over so next() reads it. */
        st = fp_linebuf_rewind(r->lb, err);
        r->info.rows_skipped = 0;
        return st;
    }
    return map_columns(r, r->fields, r->lens, n, lineno, err);
}

static int is_repeated_header(fp_ts_reader *r, char **f, size_t *l, int n)
{
    return n == r->ncols && l[0] == strlen(r->colname[0]) &&
           memcmp(f[0], r->colname[0], l[0]) == 0 && r->kind[0] != TK_IGNORE;
}

/* Where the unquoted cell starting at p (blanks skipped) ends: the next ',' or end. */
static inline const char *cell_end(const char *p, const char *end)
{
    return fp_scan_to(p, end, ',');
}

static inline const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/*
 * The fast path of fp_smi_next for a plain row (no quotes, every cell valid):
 * the cells are parsed in place, in one walk, without splitting the line.
 * 1: *s filled; 2: a row of another GPU (well formed as far as the general
 * path would look); 0: anything else, the general path decides (so errors,
 * messages and skipped rows stay exactly its own).
 */
static int smi_walk(fp_ts_reader *r, const char *line, size_t len, fp_sample *s)
{
    const char *p = line, *end = line + len;
    int other = 0;
    if (!r->have_t0 && r->time_col >= 0)
        return 0;
    if (r->name_col >= 0 && !r->info.gpu_name[0])
        return 0;
    if (skip_blanks(p, end) == end)
        return 0; /* a blank line */
    sample_nan(s);
    for (int i = 0; i < r->ncols; i++) {
        if (i > 0) {
            if (p >= end || *p != ',')
                return 0;
            p++;
        }
        p = skip_blanks(p, end);
        if (p < end && *p == '"')
            return 0; /* quoted: may hold commas */
        int kind = other ? TK_IGNORE : r->kind[i];
        switch (kind) {
        case TK_NUM:
        case TK_PSTATE: {
            double *v = &s->v[(int)r->col[i]];
            const char *q = p < end && *p == 'P' ? p + 1 : p; /* "P0": a P-state */
            if (q > p && !(q < end && (unsigned)(*q - '0') < 10))
                q = p;
            q = fp_parse_simple(q, end, v);
            if (q) {
                q = skip_blanks(q, end);
                if (q == end || *q == ',') {
                    p = q;
                    break;
                }
            }
            q = cell_end(p, end);
            const char *e = q;
            while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (fp_ts_parse_cell(p, (size_t)(e - p), v) < 0)
                return 0;
            p = q;
            break;
        }
        case TK_INDEX: {
            double idx;
            const char *q = fp_parse_simple(p, end, &idx);
            if (!q)
                return 0;
            q = skip_blanks(q, end);
            if ((q != end && *q != ',') || idx < 0 || idx >= 1e18 || idx != (long)idx)
                return 0;
            if (r->keep_index < 0)
                return 0;
            if ((long)idx != r->keep_index)
                other = 1; /* the rest is only counted */
            p = q;
            break;
        }
        case TK_TIME: {
            const char *q = cell_end(p, end), *e = q;
            while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            int64_t sec;
            double frac;
            if (parse_time_cached(r, p, (size_t)(e - p), &sec, &frac) != 0)
                return 0;
            s->v[FP_COL_T_S] = (double)(sec - r->t0_s) + (frac - r->t0_frac);
            p = q;
            break;
        }
        default:
            p = cell_end(p, end);
            break;
        }
    }
    if (p != end)
        return 0;
    return other ? 2 : 1;
}

/* Rows up to this long take the bitmap path (longer ones: the byte walk above). */
#define SMI_MASK_MAX 1024
#define SMI_MASK_WORDS (SMI_MASK_MAX / 64 + 1)

/* A numeric cell [p, e) (trimmed) of the bitmap path: 1 parsed, 0 not a plain cell. */
static inline int smi_num_cell(fp_divq *dq, const char *line, const char *p, const char *e,
                               double *v)
{
    if (fp_divq_parse(dq, line, p, e, v))
        return 1;
    const char *q = p < e && *p == 'P' ? p + 1 : p; /* "P0": a P-state */
    if (q > p && !(q < e && (unsigned)(*q - '0') < 10))
        q = p;
    q = fp_parse_simple(q, e, v);
    if (q && skip_blanks(q, e) == e)
        return 1;
    return fp_ts_parse_cell(p, (size_t)(e - p), v) >= 0;
}

/*
 * The fast path of fp_smi_next for a plain row: a bitmap of the commas (and
 * quotes) of the row, built 64 bytes at a time, gives every cell's bounds;
 * only the mapped cells are looked at. Same results as smi_walk (which takes
 * rows with quotes and very long rows): 1 *s filled, 2 another GPU's row, 0
 * the general path decides.
 */
static int smi_fast(fp_ts_reader *r, const char *line, size_t len, fp_sample *s)
{
    if (len >= SMI_MASK_MAX)
        return smi_walk(r, line, len, s);
    if (!r->have_t0 && r->time_col >= 0)
        return 0;
    if (r->name_col >= 0 && !r->info.gpu_name[0])
        return 0;
    uint64_t mc[SMI_MASK_WORDS], mq[SMI_MASK_WORDS];
    size_t nw = fp_csv_row_commas(line, len, mc, mq);
    if (!nw)
        return smi_walk(r, line, len, s);
    const char *end = line + len;
    if (skip_blanks(line, end) == end)
        return 0; /* a blank line */
    sample_nan(s);
    fp_divq dq;
    dq.n = 0;
    int other = 0;
    size_t w = 0, start = 0;
    uint64_t bits = mc[0];
    for (int i = 0; i < r->ncols; i++) {
        while (!bits) {
            if (++w == nw)
                return 0; /* fewer cells than columns */
            bits = mc[w];
        }
        size_t stop = w * 64 + (size_t)__builtin_ctzll(bits);
        bits &= bits - 1;
        const char *p = line + start, *e = line + stop;
        start = stop + 1;
        int kind = other ? TK_IGNORE : r->kind[i];
        if (kind == TK_IGNORE || kind == TK_NAME)
            continue;
        p = skip_blanks(p, e);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        switch (kind) {
        case TK_NUM:
        case TK_PSTATE:
            if (!smi_num_cell(&dq, line, p, e, &s->v[(int)r->col[i]]))
                return 0;
            break;
        case TK_INDEX: {
            double idx = 0;
            if (!fp_parse_short(line, p, e, &idx) && fp_parse_simple(p, e, &idx) != e)
                return 0;
            if (idx < 0 || idx >= 1e18 || idx != (long)idx || r->keep_index < 0)
                return 0;
            if ((long)idx != r->keep_index)
                other = 1; /* the rest is only counted */
            break;
        }
        default: { /* TK_TIME */
            int64_t sec;
            double frac;
            if (parse_time_cached(r, p, (size_t)(e - p), &sec, &frac) != 0)
                return 0;
            s->v[FP_COL_T_S] = (double)(sec - r->t0_s) + (frac - r->t0_frac);
            break;
        }
        }
    }
    for (;;) {
        if (bits)
            return 0; /* more cells than columns */
        if (++w == nw)
            break;
        bits = mc[w];
    }
    fp_divq_flush(&dq);
    return other ? 2 : 1;
}

static int smi_next(fp_ts_reader *r, fp_sample *s, fp_error *err)
{
    char *line;
    size_t len;
    int rc;
    char **f = r->fields;
    size_t *l = r->lens;
    const char *path = fp_linebuf_path(r->lb);
    while ((rc = fp_linebuf_next(r->lb, &line, &len, err)) == 1) {
        int fast = smi_fast(r, line, len, s);
        if (fast == 2) {
            r->info.rows_other_entity++;
            continue;
        }
        if (fast == 1) {
            if (r->time_col < 0)
                s->v[FP_COL_T_S] = (double)r->row * r->interval;
            r->row++;
            r->info.rows++;
            return 1;
        }
        int n = fp_csv_split(line, len, ',', f, l, TS_MAX_FIELDS);
        if (n == 1 && l[0] == 0) {
            r->info.rows_skipped++;
            continue;
        }
        if (n != r->ncols)
            return fp_ts_err_columns(r, n, err);
        if (r->index_col >= 0) {
            double idx;
            int i = r->index_col;
            if (fp_parse_num(f[i], l[i], &idx) != 0 || idx < 0 || idx >= 1e18 || idx != (long)idx) {
                if (is_repeated_header(r, f, l, n)) {
                    r->info.rows_skipped++;
                    continue;
                }
                return fp_ts_err_value(r, i, f[i], l[i], err);
            }
            if (r->keep_index < 0)
                r->keep_index = (long)idx;
            if ((long)idx != r->keep_index) {
                r->info.rows_other_entity++;
                continue;
            }
        }
        fp_sample_clear(s);
        for (int i = 0; i < n; i++) {
            switch (r->kind[i]) {
            case TK_NUM:
            case TK_PSTATE:
                if (fp_ts_parse_cell(f[i], l[i], &s->v[(int)r->col[i]]) < 0) {
                    if (is_repeated_header(r, f, l, n))
                        goto skip_row;
                    return fp_ts_err_value(r, i, f[i], l[i], err);
                }
                break;
            case TK_TIME: {
                int64_t sec;
                double frac;
                if (parse_time_cached(r, f[i], l[i], &sec, &frac) != 0) {
                    if (is_repeated_header(r, f, l, n))
                        goto skip_row;
                    int shown = l[i] > 40 ? 40 : (int)l[i];
                    return fp_error_at(err, FP_ERR_PARSE, path, fp_linebuf_lineno(r->lb),
                                       "column %d (timestamp): expected YYYY/MM/DD HH:MM:SS.mmm, "
                                       "found '%.*s'",
                                       i + 1, shown, f[i]);
                }
                if (!r->have_t0) {
                    r->have_t0 = 1;
                    r->t0_s = sec;
                    r->t0_frac = frac;
                    r->info.start_utc = (double)sec + frac;
                }
                s->v[FP_COL_T_S] = (double)(sec - r->t0_s) + (frac - r->t0_frac);
                break;
            }
            case TK_NAME:
                if (!r->info.gpu_name[0]) {
                    size_t k =
                        l[i] < sizeof r->info.gpu_name - 1 ? l[i] : sizeof r->info.gpu_name - 1;
                    memcpy(r->info.gpu_name, f[i], k);
                    r->info.gpu_name[k] = '\0';
                }
                break;
            default:
                break;
            }
        }
        if (r->time_col < 0)
            s->v[FP_COL_T_S] = (double)r->row * r->interval;
        r->row++;
        r->info.rows++;
        return 1;
    skip_row:
        r->info.rows_skipped++;
    }
    return rc;
}

/* A timestamp first (the noheader capture layout) or nvidia-smi's own field names; no '#'
 * comment lines (nothing skips them). */
static int smi_sniff(const fp_sniff *s)
{
    int64_t sec;
    double frac;
    if (s->comments || s->nfields < 1)
        return FP_SNIFF_NO;
    if (s->nfields >= 2 && fp_smi_parse_time(s->field[0], s->flen[0], &sec, &frac) == 0)
        return FP_SNIFF_SURE - 10;
    for (int i = 0; i < s->nfields; i++)
        if (s->flen[i] >= 10 && memcmp(s->field[i], "power.draw", 10) == 0)
            return FP_SNIFF_WEAK + 20;
    if (fp_sniff_has(s, "timestamp") || fp_sniff_has(s, "utilization.gpu"))
        return FP_SNIFF_WEAK + 20;
    return FP_SNIFF_NO;
}

const fp_format_ops fp_format_smi_csv = {
    .name = "smi-csv",
    .aliases = {"nvidia-smi", "smi", NULL},
    .description = "an nvidia-smi CSV",
    .sniff_file = smi_sniff,
    .open = smi_open,
    .next = smi_next,
};
