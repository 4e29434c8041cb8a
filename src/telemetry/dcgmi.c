/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * dcgmi dmon tables: a "#Entity" header of DCGM short names (repeated every
 * 14 rows), a units line starting "ID", then one whitespace-padded row per
 * entity and sample ("GPU 0  0.000 ... N/A"). Rows carry no timestamp, so time
 * is rebuilt from the sampling interval. When DVNAM (field 50) is requested
 * the device name spans several tokens; the count of tokens tells how many.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/csvcore.h"
#include "telemetry/format.h"
#include "telemetry/ts_internal.h"

/* Rows used to infer the interval from the energy counter. */
#define INFER_ROWS 4096

struct dcgm_field {
    const char *name;
    signed char col;
};

static const struct dcgm_field dcgm_fields[] = {
    {"GRACT", FP_COL_GR_ACTIVE},     {"SMACT", FP_COL_SM_ACTIVE},
    {"SMOCC", FP_COL_SM_OCCUPANCY},  {"TENSO", FP_COL_TENSOR_ACTIVE},
    {"DRAMA", FP_COL_DRAM_ACTIVE},   {"FP64A", FP_COL_FP64_ACTIVE},
    {"FP32A", FP_COL_FP32_ACTIVE},   {"FP16A", FP_COL_FP16_ACTIVE},
    {"GPUTL", FP_COL_GPU_UTIL_PCT},  {"MCUTL", FP_COL_MEM_UTIL_PCT},
    {"POWER", FP_COL_POWER_W},       {"TOTEC", FP_COL_ENERGY_MJ},
    {"SACLK", FP_COL_APP_CLOCK_MHZ}, {"SMCLK", FP_COL_SM_CLOCK_MHZ},
    {"MMCLK", FP_COL_MEM_CLOCK_MHZ}, {"TMPTR", FP_COL_TEMP_C},
    {"MMTMP", FP_COL_MEM_TEMP_C},    {"PMLMT", FP_COL_POWER_LIMIT_W},
    {"PSTAT", FP_COL_PSTATE},        {"FBUSD", FP_COL_FB_USED_MIB},
};

static int is_blank_line(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* Offset of the first short name in a "#Entity"/"# Entity" header's tokens, or -1. */
static int header_start(char **f, size_t *l, int n)
{
    if (n >= 1 && l[0] == 7 && memcmp(f[0], "#Entity", 7) == 0)
        return 1;
    if (n >= 2 && l[0] == 1 && f[0][0] == '#' && l[1] == 6 && memcmp(f[1], "Entity", 6) == 0)
        return 2;
    return -1;
}

static int is_units_line(char **f, size_t *l, int n)
{
    return n >= 1 && l[0] == 2 && (memcmp(f[0], "ID", 2) == 0 || memcmp(f[0], "Id", 2) == 0);
}

/* "GPU 0", "GPU-I 1": an entity type (a letter first) and a numeric id. */
static int is_entity_row(char **f, size_t *l, int n, long *id)
{
    if (n < 2)
        return 0;
    char c = f[0][0];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
        return 0;
    if (l[1] == 0 || l[1] > 9)
        return 0;
    long v = 0;
    for (size_t i = 0; i < l[1]; i++) {
        if ((unsigned)(f[1][i] - '0') > 9)
            return 0;
        v = v * 10 + (f[1][i] - '0');
    }
    *id = v;
    return 1;
}

static fp_status map_header(fp_ts_reader *r, int start, int n, long line, fp_error *err)
{
    int where[FP_COL_COUNT];
    r->ncols = n - start;
    r->name_col = -1;
    r->info.columns_present = 1u << FP_COL_T_S;
    for (int c = 0; c < r->ncols; c++) {
        char *name = r->fields[start + c];
        size_t len = r->lens[start + c];
        /* "POWER(W)" in some dcgmi versions. */
        char *paren = memchr(name, '(', len);
        if (paren)
            *paren = '\0', len = (size_t)(paren - name);
        r->colname[c] = name;
        r->kind[c] = TK_IGNORE;
        r->col[c] = -1;
        if (len == 5 && memcmp(name, "DVNAM", 5) == 0 && r->name_col < 0) {
            r->kind[c] = TK_NAME;
            r->name_col = c;
            continue;
        }
        for (size_t k = 0; k < sizeof dcgm_fields / sizeof *dcgm_fields; k++) {
            if (len == 5 && memcmp(dcgm_fields[k].name, name, 5) == 0) {
                int col = dcgm_fields[k].col;
                if (r->info.columns_present & ((uint64_t)1 << col))
                    return fp_ts_err_duplicate(r, line, dcgm_fields[k].name, where[col], c, err);
                where[col] = c;
                r->kind[c] = col == FP_COL_PSTATE ? TK_PSTATE : TK_NUM;
                r->col[c] = (signed char)col;
                r->info.columns_present |= (uint64_t)1 << col;
                break;
            }
        }
    }
    return FP_OK;
}

static fp_status dcgmi_open(fp_ts_reader *r, fp_error *err)
{
    char *line;
    size_t len;
    int rc;
    /* SIZE_MAX: no line has that length, so nothing matches until one is remembered. */
    r->skip_len[0] = r->skip_len[1] = (size_t)-1;
    r->tpl_len = 0;
    const char *path = fp_linebuf_path(r->lb);
    while ((rc = fp_linebuf_next(r->lb, &line, &len, err)) == 1) {
        if (is_blank_line(line, len)) {
            r->info.rows_skipped++;
            continue;
        }
        long lineno = fp_linebuf_lineno(r->lb);
        fp_status st = fp_ts_keep_header(r, line, len, err);
        if (st != FP_OK)
            return st;
        int n = fp_ws_split(r->hdr, r->hdr_len, r->fields, r->lens, TS_MAX_FIELDS);
        int start = n < 0 ? -1 : header_start(r->fields, r->lens, n);
        if (start < 0)
            return fp_error_at(err, FP_ERR_PARSE, path, lineno,
                               "expected a dcgmi dmon header ('#Entity' followed by field names)");
        if (n - start < 1)
            return fp_error_at(err, FP_ERR_PARSE, path, lineno, "dcgmi header without fields");
        r->info.rows_skipped++;
        return map_header(r, start, n, lineno, err);
    }
    if (rc < 0)
        return rc;
    return fp_error_at(err, FP_ERR_PARSE, path, 0, "empty file: no header and no data");
}

/* A repeated header must name the same fields as the first one. */
static int same_header(fp_ts_reader *r, char **f, int n, int start)
{
    if (n - start != r->ncols)
        return 0;
    for (int c = 0; c < r->ncols; c++) {
        const char *a = r->colname[c], *b = f[start + c];
        size_t la = strlen(a);
        if (strncmp(a, b, la) != 0 || (b[la] != '\0' && b[la] != '('))
            return 0;
    }
    return 1;
}

static void copy_name(fp_ts_reader *r, char **f, size_t *l, int first, int count)
{
    size_t k = 0, cap = sizeof r->info.gpu_name - 1;
    for (int t = 0; t < count && k < cap; t++) {
        if (t > 0)
            r->info.gpu_name[k++] = ' ';
        size_t m = l[first + t] < cap - k ? l[first + t] : cap - k;
        memcpy(r->info.gpu_name + k, f[first + t], m);
        k += m;
    }
    r->info.gpu_name[k] = '\0';
}

/* A header or units line just skipped: the same bytes again are skipped the same way. */
static void remember_skip(fp_ts_reader *r, int slot, size_t len)
{
    memcpy(r->skip_line[slot], r->skip_tmp, len);
    r->skip_len[slot] = len;
}

/* The fast path's scans: the lines come from an fp_linebuf (loads past end allowed). */
static inline const char *ws_skip(const char *p, const char *end)
{
    return fp_scan_nonblank(p, end);
}

static inline const char *tok_end(const char *p, const char *end)
{
    return fp_scan_blank(p, end);
}

/*
 * The fast path of fp_dcgmi_next for a plain entity row once the kept entity
 * is known ("GPU 0  0.123 ... 1230", no device name, no pending garbage): the
 * tokens are parsed in place in one walk, without splitting the line.
 * 1: *s filled; 2: a well-formed row of another entity; 0: anything else, the
 * general path decides (errors, messages and skipped lines stay its own).
 */
static int dcgmi_walk(fp_ts_reader *r, const char *line, size_t len, fp_sample *s)
{
    const char *p = line, *end = line + len;
    if (r->name_col >= 0 || r->garbage_line || !r->keep_type[0] || r->keep_index < 0)
        return 0;
    p = ws_skip(p, end);
    if (p == end)
        return 0;
    char c0 = *p;
    if (!((c0 >= 'A' && c0 <= 'Z') || (c0 >= 'a' && c0 <= 'z')))
        return 0;
    const char *type = p;
    p = tok_end(p, end);
    size_t type_len = (size_t)(p - type);
    p = ws_skip(p, end);
    const char *id0 = p;
    long id = 0;
    while (p < end && p - id0 < 10 && (unsigned)(*p - '0') < 10)
        id = id * 10 + (*p++ - '0');
    if (p == id0 || p - id0 > 9 || (p < end && *p != ' ' && *p != '\t'))
        return 0;
    int other = id != r->keep_index || type_len != strlen(r->keep_type) ||
                memcmp(type, r->keep_type, type_len) != 0;
    if (!other)
        sample_nan(s);
    for (int c = 0; c < r->ncols; c++) {
        const char *t = ws_skip(p, end);
        if (t == p || t == end)
            return 0; /* fewer tokens than fields */
        p = t;
        if (other || (r->kind[c] != TK_NUM && r->kind[c] != TK_PSTATE)) {
            p = tok_end(p, end);
            continue;
        }
        double *v = &s->v[(int)r->col[c]];
        const char *q = fp_parse_simple(p, end, v);
        if (q && (q == end || *q == ' ' || *q == '\t')) {
            p = q;
            continue;
        }
        q = tok_end(p, end);
        if (fp_parse_num(p, (size_t)(q - p), v) < 0 && fp_ts_parse_cell(p, (size_t)(q - p), v) < 0)
            return 0;
        p = q;
    }
    if (ws_skip(p, end) != end)
        return 0; /* more tokens than fields */
    return other ? 2 : 1;
}

/* Rows up to this long take the bitmap path (longer ones: the byte walk above). */
#define DCGMI_MASK_MAX TS_TPL_MAX
#define DCGMI_MASK_WORDS TS_TPL_WORDS

/*
 * The fast path of fp_dcgmi_next: a bitmap of the blanks of the row, built 64
 * bytes at a time, gives the token starts (a non-blank after a blank) and ends
 * (a blank after a non-blank); the tokens are visited in order with tzcnt
 * (the count checked on the way) and only the mapped ones parsed (a
 * branch-light decimal parse for the usual fixed-width cells). Same results as
 * dcgmi_walk (which takes very long rows): 1 *s filled, 2 another entity's
 * row, 0 the general path decides.
 */
static int dcgmi_fast(fp_ts_reader *r, const char *line, size_t len, fp_sample *s)
{
    if (r->name_col >= 0 || r->garbage_line || !r->keep_type[0] || r->keep_index < 0)
        return 0;
    if (len >= DCGMI_MASK_MAX)
        return dcgmi_walk(r, line, len, s);
    uint64_t sp[DCGMI_MASK_WORDS], tb[DCGMI_MASK_WORDS], st[DCGMI_MASK_WORDS], en[DCGMI_MASK_WORDS];
    size_t nw = len / 64 + 1;
    fp_mask2(line, nw, ' ', '\t', sp, tb);
    uint64_t keep = ((uint64_t)1 << (len % 64)) - 1, carry = 0;
    for (size_t w = 0; w < nw; w++) {
        uint64_t nb = ~(sp[w] | tb[w]);
        if (w == nw - 1)
            nb &= keep;                  /* past the line: blank */
        uint64_t prev = nb << 1 | carry; /* bit i: byte i - 1 is not blank */
        carry = nb >> 63;
        st[w] = nb & ~prev;
        en[w] = ~nb & prev;
    }
    fp_divq dq;
    dq.n = 0;
    if (len == r->tpl_len && len > 0) { /* tpl_len 0: no layout yet */
        /* The same layout as the last plain row: the same tokens at the same offsets. */
        uint64_t diff = 0;
        for (size_t w = 0; w < nw; w++)
            diff |= (st[w] ^ r->tpl_st[w]) | (en[w] ^ r->tpl_en[w]);
        if (!diff && memcmp(line + r->tpl_head_off, r->tpl_head, r->tpl_head_len) == 0) {
            sample_nan(s);
            for (int k = 0; k < r->tpl_n; k++) {
                const char *p = line + r->tpl_off[k], *e = line + r->tpl_end[k];
                double *v = &s->v[(int)r->tpl_col[k]];
                if (fp_divq_parse(&dq, line, p, e, v) || fp_parse_simple(p, e, v) == e)
                    continue;
                if (fp_parse_num(p, (size_t)(e - p), v) < 0 &&
                    fp_ts_parse_cell(p, (size_t)(e - p), v) < 0)
                    return 0;
            }
            fp_divq_flush(&dq);
            return 1;
        }
    }
    size_t ws = 0, we = 0;
    uint64_t bs = st[0], be = en[0];
#define NEXT_TOKEN(p, e)                                                                           \
    do {                                                                                           \
        while (!bs) {                                                                              \
            if (++ws == nw)                                                                        \
                return 0; /* fewer tokens than fields (or a blank line) */                         \
            bs = st[ws];                                                                           \
        }                                                                                          \
        while (!be)                                                                                \
            be = en[++we];                                                                         \
        p = line + ws * 64 + (size_t)__builtin_ctzll(bs);                                          \
        e = line + we * 64 + (size_t)__builtin_ctzll(be);                                          \
        bs &= bs - 1;                                                                              \
        be &= be - 1;                                                                              \
    } while (0)
    const char *p, *e;
    NEXT_TOKEN(p, e); /* entity type: a letter first */
    char c0 = *p;
    if (!((c0 >= 'A' && c0 <= 'Z') || (c0 >= 'a' && c0 <= 'z')))
        return 0;
    const char *type = p;
    size_t type_len = (size_t)(e - p);
    NEXT_TOKEN(p, e); /* entity id: 1 to 9 digits */
    if (e - p > 9)
        return 0;
    long id = 0;
    const char *id_end = e;
    for (const char *q = p; q < e; q++) {
        if ((unsigned)(*q - '0') > 9)
            return 0;
        id = id * 10 + (*q - '0');
    }
    int other = id != r->keep_index || type_len != strlen(r->keep_type) ||
                memcmp(type, r->keep_type, type_len) != 0;
    if (!other)
        sample_nan(s);
    int nmap = 0;
    unsigned short off[FP_COL_COUNT], end[FP_COL_COUNT];
    signed char col[FP_COL_COUNT];
    for (int c = 0; c < r->ncols; c++) {
        NEXT_TOKEN(p, e);
        if (other || (r->kind[c] != TK_NUM && r->kind[c] != TK_PSTATE))
            continue;
        if (nmap < FP_COL_COUNT) { /* each fp_col is mapped once: always true */
            off[nmap] = (unsigned short)(p - line);
            end[nmap] = (unsigned short)(e - line);
            col[nmap++] = r->col[c];
        }
        double *v = &s->v[(int)r->col[c]];
        if (fp_divq_parse(&dq, line, p, e, v) || fp_parse_simple(p, e, v) == e)
            continue;
        if (fp_parse_num(p, (size_t)(e - p), v) < 0 && fp_ts_parse_cell(p, (size_t)(e - p), v) < 0)
            return 0;
    }
#undef NEXT_TOKEN
    for (;;) {
        if (bs)
            return 0; /* more tokens than fields */
        if (++ws == nw)
            break;
        bs = st[ws];
    }
    fp_divq_flush(&dq);
    if (other)
        return 2;
    /* Remember this layout (the entity bytes from the type to the end of the id too). */
    size_t head_len = (size_t)(id_end - type);
    if (head_len <= sizeof r->tpl_head && nmap <= FP_COL_COUNT) {
        memcpy(r->tpl_st, st, nw * sizeof *st);
        memcpy(r->tpl_en, en, nw * sizeof *en);
        memcpy(r->tpl_off, off, (size_t)nmap * sizeof *off);
        memcpy(r->tpl_end, end, (size_t)nmap * sizeof *end);
        memcpy(r->tpl_col, col, (size_t)nmap);
        r->tpl_n = nmap;
        r->tpl_head_off = (unsigned short)(type - line);
        r->tpl_head_len = (unsigned short)head_len;
        memcpy(r->tpl_head, type, head_len);
        r->tpl_len = len;
    }
    return 1;
}

static int dcgmi_next(fp_ts_reader *r, fp_sample *s, fp_error *err)
{
    char *line;
    size_t len;
    int rc;
    char **f = r->fields;
    size_t *l = r->lens;
    const char *path = fp_linebuf_path(r->lb);
    while ((rc = fp_linebuf_next(r->lb, &line, &len, err)) == 1) {
        int fast = dcgmi_fast(r, line, len, s);
        if (fast == 2) {
            r->info.rows_other_entity++;
            continue;
        }
        if (fast == 1) {
            s->v[FP_COL_T_S] = (double)r->row * r->interval;
            r->row++;
            r->info.rows++;
            r->seen_data = 1;
            return 1;
        }
        if (len == r->skip_len[0] && memcmp(line, r->skip_line[0], len) == 0) {
            r->info.rows_skipped++; /* the repeated header */
            continue;
        }
        if (len == r->skip_len[1] && memcmp(line, r->skip_line[1], len) == 0) {
            r->info.rows_skipped++; /* the units line */
            continue;
        }
        int keep = len < sizeof r->skip_tmp;
        if (keep)
            memcpy(r->skip_tmp, line, len);
        int n = fp_ws_split(line, len, f, l, TS_MAX_FIELDS + 2);
        if (n == 0) {
            r->info.rows_skipped++;
            continue;
        }
        long id;
        if (n < 0 || !is_entity_row(f, l, n, &id)) {
            int start = n < 0 ? -1 : header_start(f, l, n);
            if (start >= 0) {
                if (!same_header(r, f, n, start))
                    return fp_error_at(err, FP_ERR_PARSE, path, fp_linebuf_lineno(r->lb),
                                       "the dcgmi header changed: expected the %d fields of the "
                                       "first header",
                                       r->ncols);
                r->info.rows_skipped++;
                if (keep)
                    remember_skip(r, 0, len);
                continue;
            }
            if (n > 0 && is_units_line(f, l, n)) {
                r->info.rows_skipped++;
                if (keep)
                    remember_skip(r, 1, len);
                continue;
            }
            /* Not a table line: fine at the end (messages after Ctrl-C), not in the middle. */
            if (!r->garbage_line) {
                r->garbage_line = fp_linebuf_lineno(r->lb);
                size_t k = len < sizeof r->garbage_text - 1 ? len : sizeof r->garbage_text - 1;
                memcpy(r->garbage_text, line, k);
                r->garbage_text[k] = '\0';
                for (size_t i = 0; i < k; i++)
                    if (r->garbage_text[i] == '\0')
                        r->garbage_text[i] = ' ';
            }
            r->garbage_count++;
            continue;
        }
        if (r->garbage_line)
            return fp_error_at(err, FP_ERR_PARSE, path, r->garbage_line,
                               "not a dcgmi dmon row: '%s' (data rows follow at line %ld)",
                               r->garbage_text, fp_linebuf_lineno(r->lb));
        int vals = n - 2, extra = 0;
        if (vals != r->ncols) {
            if (vals > r->ncols && r->name_col >= 0) {
                extra = vals - r->ncols; /* the device name spans extra + 1 tokens */
            } else {
                return fp_ts_err_columns(r, vals, err);
            }
        }
        if (!r->keep_type[0]) {
            size_t k = l[0] < sizeof r->keep_type - 1 ? l[0] : sizeof r->keep_type - 1;
            if (r->opt.gpu_index >= 0) {
                memcpy(r->keep_type, "GPU", 4);
            } else {
                memcpy(r->keep_type, f[0], k);
                r->keep_type[k] = '\0';
            }
        }
        if (r->keep_index < 0)
            r->keep_index = id;
        if (id != r->keep_index || strcmp(f[0], r->keep_type) != 0) {
            r->info.rows_other_entity++;
            continue;
        }
        fp_sample_clear(s);
        for (int c = 0; c < r->ncols; c++) {
            int t = 2 + c + (c > r->name_col && r->name_col >= 0 ? extra : 0);
            switch (r->kind[c]) {
            case TK_NUM:
            case TK_PSTATE: {
                double *v = &s->v[(int)r->col[c]];
                if (fp_parse_num(f[t], l[t], v) < 0 && fp_ts_parse_cell(f[t], l[t], v) < 0)
                    return fp_ts_err_value(r, c, f[t], l[t], err);
                break;
            }
            case TK_NAME:
                if (!r->info.gpu_name[0])
                    copy_name(r, f, l, t, extra + 1);
                break;
            default:
                break;
            }
        }
        s->v[FP_COL_T_S] = (double)r->row * r->interval;
        r->row++;
        r->info.rows++;
        r->seen_data = 1;
        return 1;
    }
    if (rc == 0 && r->garbage_count) {
        r->info.rows_skipped += r->garbage_count;
        if (!r->prescanning)
            fp_warn(r->opt.diag,
                    "%s:%ld: %ld trailing line(s) after the dcgmi table skipped ('%s')", path,
                    r->garbage_line, r->garbage_count, r->garbage_text);
        r->garbage_count = 0;
    }
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * Seconds per row from the energy counter: over blocks of consecutive rows,
 * dt = dE / (the power summed over the block's row gaps); the median of the
 * blocks. Single row pairs are useless: the counter updates on its own
 * schedule (zero and double deltas alternate). The result is snapped to a
 * usual dmon -d interval when within 10 %.
 */
#define INFER_BLOCK 32
static double infer_interval(fp_ts_reader *r)
{
    if (!(r->info.columns_present & ((uint64_t)1 << FP_COL_POWER_W)) ||
        !(r->info.columns_present & ((uint64_t)1 << FP_COL_ENERGY_MJ)))
        return 0;
    double *ratio = malloc((INFER_ROWS / 4 + 1) * sizeof *ratio);
    if (!ratio)
        return 0;
    fp_sample s;
    fp_error err;
    double e_start = NAN, prev_p = NAN, psum = 0, e_last = NAN;
    int n = 0, len = 0;
    r->prescanning = 1;
    r->interval = 0;
    for (int i = 0; i < INFER_ROWS && dcgmi_next(r, &s, &err) == 1; i++) {
        double e = s.v[FP_COL_ENERGY_MJ], p = s.v[FP_COL_POWER_W];
        if (!isfinite(e) || !isfinite(p) || (len > 0 && e < e_last)) {
            len = 0; /* a gap or a counter reset: start a new block */
            continue;
        }
        if (len == 0) {
            e_start = e;
            psum = 0;
        } else {
            psum += 0.5 * (p + prev_p);
        }
        prev_p = p;
        e_last = e;
        if (++len == INFER_BLOCK + 1) {
            if (psum > 1 && e > e_start)
                ratio[n++] = (e - e_start) / 1000.0 / psum;
            len = 1;
            e_start = e;
            psum = 0;
        }
    }
    /* A short file: one block of whatever there is. */
    if (n == 0 && len > 8 && psum > 1 && e_last > e_start)
        ratio[n++] = (e_last - e_start) / 1000.0 / psum;
    r->prescanning = 0;
    double iv = 0;
    if (n >= 1) {
        qsort(ratio, (size_t)n, sizeof *ratio, cmp_double);
        iv = n % 2 ? ratio[n / 2] : 0.5 * (ratio[n / 2 - 1] + ratio[n / 2]);
        static const double usual[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2,
                                       0.25,  0.5,   1,     2,    5,    10,    30,   60};
        int snapped = 0;
        for (size_t k = 0; k < sizeof usual / sizeof *usual; k++)
            if (fabs(iv - usual[k]) <= 0.1 * usual[k]) {
                iv = usual[k];
                snapped = 1;
                break;
            }
        if (!snapped)
            iv = round(iv * 1000) / 1000; /* dmon -d takes whole milliseconds */
        if (!(iv > 0))
            iv = 0;
    }
    free(ratio);
    return iv;
}

/* Rows carry no timestamp: time is rebuilt at the interval given, else the one inferred from
 * the energy counter, else 0.1 s; the file is flagged and a warning says which. */
static fp_status dcgmi_prepare(fp_ts_reader *r, fp_error *err)
{
    double iv = r->opt.interval_s > 0 ? r->opt.interval_s : infer_interval(r);
    const char *how = r->opt.interval_s > 0 ? "given" : "inferred from TOTEC and POWER";
    if (!(iv > 0)) {
        iv = 0.1;
        how = "default; pass the dmon -d interval to be exact";
    }
    r->interval = iv;
    r->info.interval_s = iv;
    r->info.time_reconstructed = 1;
    fp_warn(r->opt.diag, "%s: dcgmi rows carry no timestamps: time rebuilt at %g s per row (%s)",
            fp_linebuf_path(r->lb), iv, how);
    return fp_ts_restart(r, err);
}

/* The "#Entity" (or "# Entity") header is the first line. */
static int dcgmi_sniff(const fp_sniff *s)
{
    const char *p = s->line[0];
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '#')
        return FP_SNIFF_NO;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    return strncmp(p, "Entity", 6) == 0 ? FP_SNIFF_SURE : FP_SNIFF_NO;
}

const fp_format_ops fp_format_dcgmi = {
    .name = "dcgmi",
    .aliases = {"dcgm", "dmon", NULL},
    .description = "a dcgmi dmon table",
    .sniff_file = dcgmi_sniff,
    .open = dcgmi_open,
    .next = dcgmi_next,
    .prepare = dcgmi_prepare,
};
