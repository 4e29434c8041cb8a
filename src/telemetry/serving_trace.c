/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LLM request traces: one row per request with its arrival time and prompt and output token
 * counts. Two header layouts: the public Azure LLM inference traces
 * (TIMESTAMP,ContextTokens,GeneratedTokens, TIMESTAMP as "2023-11-16 18:15:46.6805900", made
 * relative to the first row) and freqpilot's own t_s,prompt_tokens,output_tokens (seconds
 * from the start of the trace). All or nothing: any bad row is an error naming file:line.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "freqpilot/atomic.h"
#include "freqpilot/serving.h"
#include "util/csvcore.h"
#include "util/grow.h"
#include "util/linebuf.h"
#include "telemetry/ts_internal.h"

#define TR_MAX_FIELDS 64
/* More would not fit a simulation in memory (40 bytes a request, plus results). */
#define TR_MAX_REQUESTS 100000000ul

void fp_request_list_free(fp_request_list *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

fp_status fp_request_list_push(fp_request_list *l, const fp_request *r, fp_error *err)
{
    if (FP_GROW(l->items, l->n, l->cap, 1024))
        return fp_error_set(err, FP_ERR_NOMEM, "requests: out of memory");
    l->items[l->n++] = *r;
    return FP_OK;
}

enum { COL_T, COL_PROMPT, COL_OUTPUT, NCOL };

typedef struct trace_state {
    const char *name;
    int idx[NCOL];
    int azure; /* TIMESTAMP column: absolute date-times (or seconds) made relative */
    int ncols;
    int have_t0;
    double t0_s; /* first row's TIMESTAMP */
    double frac0;
    long long sec0;
} trace_state;

static fp_status parse_header(trace_state *st, char **f, size_t *l, int n, long line, fp_error *err)
{
    static const char *const names[2][NCOL] = {{"t_s", "prompt_tokens", "output_tokens"},
                                               {"TIMESTAMP", "ContextTokens", "GeneratedTokens"}};
    for (int c = 0; c < NCOL; c++)
        st->idx[c] = -1;
    for (int k = 0; k < n; k++)
        for (int lay = 0; lay < 2; lay++)
            for (int c = 0; c < NCOL; c++) {
                if (!l[k] || strcasecmp(f[k], names[lay][c]) != 0)
                    continue;
                /* a quantity given twice (also under both layouts' names): which to read
                 * would be a guess */
                if (st->idx[c] >= 0)
                    return fp_error_at(err, FP_ERR_FORMAT, st->name, line,
                                       "column %d (%s) gives %s again (column %d): expected it "
                                       "once",
                                       k + 1, f[k], names[0][c], st->idx[c] + 1);
                st->idx[c] = k;
                if (c == COL_T)
                    st->azure = lay == 1;
            }
    for (int c = 0; c < NCOL; c++)
        if (st->idx[c] < 0)
            return fp_error_at(err, FP_ERR_FORMAT, st->name, line,
                               "expected a header with t_s,prompt_tokens,output_tokens or the "
                               "Azure LLM inference trace's TIMESTAMP,ContextTokens,"
                               "GeneratedTokens (no %s or %s column)",
                               names[0][c], names[1][c]);
    st->ncols = n;
    return FP_OK;
}

/*
 * Seconds of an Azure TIMESTAMP relative to the first row: "YYYY-MM-DD HH:MM:SS[.f...]"
 * with an optional "Z" or "+HH:MM"/"-HH:MM" offset, or plain seconds. Whole seconds and the
 * fraction are kept apart so a 7-digit fraction survives the subtraction.
 */
static int azure_time(trace_state *st, const char *s, size_t len, double *out)
{
    double v;
    if (fp_parse_num(s, len, &v) == 0) {
        if (!st->have_t0) {
            st->have_t0 = 1;
            st->t0_s = v;
        }
        *out = v - st->t0_s;
        return 0;
    }
    long off_s = 0;
    if (len > 0 && (s[len - 1] == 'Z' || s[len - 1] == 'z')) {
        len--;
    } else if (len > 6 && (s[len - 6] == '+' || s[len - 6] == '-') && s[len - 3] == ':' &&
               isdigit((unsigned char)s[len - 5]) && isdigit((unsigned char)s[len - 4]) &&
               isdigit((unsigned char)s[len - 2]) && isdigit((unsigned char)s[len - 1])) {
        long hh = (s[len - 5] - '0') * 10 + (s[len - 4] - '0');
        long mm = (s[len - 2] - '0') * 10 + (s[len - 1] - '0');
        if (hh > 23 || mm > 59)
            return -1;
        off_s = (hh * 3600 + mm * 60) * (s[len - 6] == '+' ? 1 : -1);
        len -= 6;
    }
    char buf[64];
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (len > 10 && buf[10] == 'T')
        buf[10] = ' ';
    int64_t sec;
    double frac;
    if (fp_smi_parse_time(buf, len, &sec, &frac) != 0)
        return -1;
    sec -= off_s; /* local time + offset = UTC + offset: back to UTC */
    if (!st->have_t0) {
        st->have_t0 = 1;
        st->sec0 = sec;
        st->frac0 = frac;
    }
    *out = (double)(sec - st->sec0) + (frac - st->frac0);
    return 0;
}

/* A whole number of tokens in 1..1e7. */
static int tokens(const char *s, size_t len, unsigned *out)
{
    double v;
    if (fp_parse_num(s, len, &v) != 0 || !(v >= 1 && v <= 1e7) || v != floor(v))
        return -1;
    *out = (unsigned)v;
    return 0;
}

static fp_status parse_row(trace_state *st, char **f, size_t *l, int n, long line, double prev_t,
                           fp_request *r, fp_error *err)
{
    for (int c = 0; c < NCOL; c++)
        if (st->idx[c] >= n)
            return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                               "expected %d columns as in the header, found %d", st->ncols, n);
    int it = st->idx[COL_T], ip = st->idx[COL_PROMPT], io = st->idx[COL_OUTPUT];
    double t;
    if (st->azure) {
        if (azure_time(st, f[it], l[it], &t) != 0)
            return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                               "TIMESTAMP: expected a date-time like 2023-11-16 18:15:46.6805900 "
                               "or seconds, found '%.40s'",
                               f[it]);
    } else if (fp_parse_num(f[it], l[it], &t) != 0 || !(t >= 0 && t < 1e10)) {
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "t_s: expected seconds >= 0 from the start of the trace, found '%.40s'",
                           f[it]);
    }
    if (!isfinite(t) || t < prev_t)
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "arrival %.6f s is before the previous row's %.6f s: expected rows "
                           "in time order",
                           t, prev_t);
    if (tokens(f[ip], l[ip], &r->prompt_tokens) != 0)
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "%s: expected a whole number of tokens >= 1, found '%.40s'",
                           st->azure ? "ContextTokens" : "prompt_tokens", f[ip]);
    if (tokens(f[io], l[io], &r->output_tokens) != 0)
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "%s: expected a whole number of tokens >= 1, found '%.40s'",
                           st->azure ? "GeneratedTokens" : "output_tokens", f[io]);
    r->t_s = t;
    return FP_OK;
}

static fp_status trace_parse(fp_linebuf *lb, const char *name, fp_request_list *out, fp_error *err)
{
    trace_state st;
    memset(&st, 0, sizeof st);
    st.name = name;
    char *line, *f[TR_MAX_FIELDS];
    size_t len, l[TR_MAX_FIELDS];
    int r, have_header = 0;
    fp_status s = FP_OK;
    double prev_t = -INFINITY;
    memset(out, 0, sizeof *out);
    while ((r = fp_linebuf_next(lb, &line, &len, err)) == 1) {
        long lineno = fp_linebuf_lineno(lb);
        size_t i = 0;
        while (i < len && isspace((unsigned char)line[i]))
            i++;
        if (i == len)
            continue;
        if (fp_linebuf_last_unterminated(lb)) {
            s = fp_error_at(err, FP_ERR_PARSE, name, lineno,
                            "truncated last line (no newline at the end of the file)");
            break;
        }
        int n = fp_csv_split(line, len, ',', f, l, TR_MAX_FIELDS);
        if (n < 0) {
            s = fp_error_at(err, FP_ERR_PARSE, name, lineno, "more than %d columns", TR_MAX_FIELDS);
            break;
        }
        if (!have_header) {
            if ((s = parse_header(&st, f, l, n, lineno, err)) != FP_OK)
                break;
            have_header = 1;
            continue;
        }
        if (out->n >= TR_MAX_REQUESTS) {
            s = fp_error_at(err, FP_ERR_INVALID, name, lineno, "more than %lu requests",
                            TR_MAX_REQUESTS);
            break;
        }
        fp_request q;
        if ((s = parse_row(&st, f, l, n, lineno, prev_t, &q, err)) != FP_OK)
            break;
        prev_t = q.t_s;
        if ((s = fp_request_list_push(out, &q, err)) != FP_OK)
            break;
    }
    if (r < 0)
        s = (fp_status)r;
    if (s == FP_OK && !have_header)
        s = fp_error_at(err, FP_ERR_PARSE, name, 0,
                        "empty file: expected a header t_s,prompt_tokens,output_tokens or "
                        "TIMESTAMP,ContextTokens,GeneratedTokens");
    if (s == FP_OK && out->n == 0)
        s = fp_error_at(err, FP_ERR_PARSE, name, 0, "no requests after the header");
    if (s != FP_OK)
        fp_request_list_free(out);
    return s;
}

fp_status fp_serving_trace_load(const char *path, fp_request_list *out, fp_error *err)
{
    fp_linebuf *lb;
    memset(out, 0, sizeof *out);
    fp_status s = fp_linebuf_open(&lb, path, err);
    if (s != FP_OK)
        return s;
    s = trace_parse(lb, path, out, err);
    fp_linebuf_close(lb);
    return s;
}

fp_status fp_serving_trace_load_mem(const void *data, size_t len, const char *name,
                                    fp_request_list *out, fp_error *err)
{
    fp_linebuf *lb;
    memset(out, 0, sizeof *out);
    fp_status s = fp_linebuf_open_mem(&lb, data, len, name, err);
    if (s != FP_OK)
        return s;
    s = trace_parse(lb, name, out, err);
    fp_linebuf_close(lb);
    return s;
}

fp_status fp_serving_trace_write(const char *path, const fp_request_list *l, fp_error *err)
{
    fp_atomic_file f;
    fp_status st = fp_atomic_open(&f, path, err);
    if (st != FP_OK)
        return st;
    fprintf(f.fp, "t_s,prompt_tokens,output_tokens\n");
    for (size_t i = 0; i < l->n; i++)
        fprintf(f.fp, "%.6f,%u,%u\n", l->items[i].t_s, l->items[i].prompt_tokens,
                l->items[i].output_tokens);
    return fp_atomic_commit(&f, err);
}
