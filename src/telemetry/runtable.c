/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Per-run tables: one row per run (docs/formats.md, "Per-run tables"), e.g. measured_runs.csv,
 * and the original project's complete_aggregation.csv (one row per clock, its own column
 * names). Column order is free; names are matched case-insensitively with a few synonyms; a
 * column given twice (also under two synonyms) is an error. Every malformed row and every
 * impossible value is an error naming file:line, and the whole file is refused.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/csvcore.h"
#include "telemetry/format.h"
#include "telemetry/layouts.h"
#include "util/linebuf.h"
#include "util/utf8.h"

#define RT_MAX_FIELDS 128
/* |energy_j / (avg_power_w * time_s) - 1| beyond this: energy and time cover different windows. */
#define RT_WINDOW_TOLERANCE 0.10
/* The limits of docs/formats.md ("Impossible values"). */
#define RT_MHZ_MAX 10000.0
#define RT_W_MAX 5000.0
#define RT_TIME_MAX 1e7     /* 116 days */
#define RT_EXIT_TIMEOUT 124 /* timeout(1)'s exit status */

enum rt_col {
    RT_GPU,
    RT_APP,
    RT_FREQ,
    RT_TIME,
    RT_ENERGY,
    RT_POWER,
    RT_RUN_INDEX,
    RT_REPETITION,
    RT_N_SAMPLES,
    RT_START,
    RT_EXIT_CODE,
    RT_STATUS,
    RT_SM_CLOCK,
    RT_GPU_UTIL,
    RT_SM_ACTIVE,
    RT_DRAM_ACTIVE,
    RT_TEMP,
    RT_GPU_NAME,
    RT_NCOLS
};

static const struct {
    int col;
    const char *name;
} rt_names[] = {
    {RT_GPU, "gpu"},
    {RT_APP, "app"},
    {RT_APP, "workload"},
    {RT_FREQ, "freq_mhz"},
    {RT_FREQ, "frequency_mhz"},
    {RT_FREQ, "frequency"},
    {RT_TIME, "time_s"},
    {RT_TIME, "duration_seconds"},
    {RT_ENERGY, "energy_j"},
    {RT_POWER, "avg_power_w"},
    {RT_POWER, "power_w"},
    {RT_RUN_INDEX, "run_index"},
    {RT_REPETITION, "repetition"},
    {RT_N_SAMPLES, "n_samples"},
    {RT_START, "start_utc"},
    {RT_START, "timestamp"},
    {RT_EXIT_CODE, "exit_code"},
    {RT_STATUS, "status"},
    {RT_GPU_NAME, "gpu_name"},
    {RT_SM_CLOCK, "sm_clock_mhz"},
    {RT_GPU_UTIL, "gpu_util_pct"},
    {RT_SM_ACTIVE, "sm_active"},
    {RT_DRAM_ACTIVE, "dram_active"},
    {RT_TEMP, "temp_c"},
    /* the original project's complete_aggregation.csv */
    {RT_APP, "application"},
    {RT_TIME, "execution_time"},
    {RT_ENERGY, "energy"},
    {RT_POWER, "avg_power"},
    {RT_GPU_UTIL, "avg_gputl"},
    {RT_DRAM_ACTIVE, "avg_drama"},
    {RT_TEMP, "avg_temp"},
};

/* Epoch seconds from a number or "YYYY-MM-DD[T ]HH:MM:SS[.fff][Z]" (also with '/'). */
static int parse_time(const char *s, size_t len, double *out)
{
    int Y, M, D, h, m;
    double sec;
    char sep1, sep2, t;
    struct tm tm;
    if (fp_parse_num(s, len, out) == 0)
        return 0;
    if (sscanf(s, "%4d%c%2d%c%2d%c%2d:%2d:%lf", &Y, &sep1, &M, &sep2, &D, &t, &h, &m, &sec) != 9)
        return -1;
    if ((sep1 != '-' && sep1 != '/') || sep2 != sep1 || (t != 'T' && t != ' '))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 ||
        sec >= 61)
        return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    *out = (double)timegm(&tm) + sec;
    return 0;
}

/* A name longer than its field is cut at a character boundary (a cut inside a multi-byte
 * character made every later drawing of it fail: cairo refuses invalid UTF-8). */
static void copy_field(char *dst, size_t size, const char *s, size_t len)
{
    fp_utf8_copy(dst, size, s, len);
}

typedef struct rt_state {
    const char *name;
    double clock_tolerance_mhz;
    int idx[RT_NCOLS]; /* field index of each column, -1 when absent */
    int ncols;
    char *hdr_names[RT_MAX_FIELDS];
} rt_state;

static fp_status parse_header(rt_state *st, char **f, size_t *l, int n, long line, fp_error *err)
{
    char missing[256] = "";
    for (int c = 0; c < RT_NCOLS; c++)
        st->idx[c] = -1;
    st->ncols = n;
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof rt_names / sizeof rt_names[0]; k++) {
            if (strlen(rt_names[k].name) == l[i] &&
                strncasecmp(f[i], rt_names[k].name, l[i]) == 0) {
                if (st->idx[rt_names[k].col] >= 0)
                    return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                                       "column '%s' given twice (columns %d and %d, the same "
                                       "quantity): expected each column once",
                                       f[i], st->idx[rt_names[k].col] + 1, i + 1);
                st->idx[rt_names[k].col] = i;
            }
        }
    }
    if (st->idx[RT_GPU] < 0)
        strcat(missing, ", gpu");
    if (st->idx[RT_APP] < 0)
        strcat(missing, ", app (or workload)");
    if (st->idx[RT_FREQ] < 0)
        strcat(missing, ", freq_mhz");
    if (st->idx[RT_TIME] < 0)
        strcat(missing, ", time_s");
    if (st->idx[RT_ENERGY] < 0 && st->idx[RT_POWER] < 0)
        strcat(missing, ", energy_j (or avg_power_w)");
    if (missing[0])
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "per-run table is missing required column(s): %s", missing + 2);
    return FP_OK;
}

static fp_status num_cell(const rt_state *st, char **f, size_t *l, int col, int required, long line,
                          double *out, fp_error *err)
{
    int i = st->idx[col];
    *out = NAN;
    if (i < 0)
        return FP_OK;
    int r = fp_parse_num(f[i], l[i], out);
    if (r < 0 || (r == 1 && required) || isinf(*out))
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "column %d (%s): expected a number, found '%.40s'", i + 1,
                           st->hdr_names[i] ? st->hdr_names[i] : "?", f[i]);
    return FP_OK;
}

/* A number cell that must lie in [lo, hi] (when present). */
static fp_status range_cell(const rt_state *st, char **f, size_t *l, int col, int required,
                            double lo, double hi, const char *what, long line, double *out,
                            fp_error *err)
{
    fp_status s = num_cell(st, f, l, col, required, line, out, err);
    if (s != FP_OK || isnan(*out) || (*out >= lo && *out <= hi))
        return s;
    int i = st->idx[col];
    return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                       "column %d (%s): %.10g is impossible (expected %s)", i + 1,
                       st->hdr_names[i] ? st->hdr_names[i] : "?", *out, what);
}

static fp_status parse_row(const rt_state *st, char **f, size_t *l, int n, long line, fp_run_buf *b,
                           fp_error *err)
{
    fp_run *run = &b->run;
    double freq, time_s, energy, power, v;
    fp_status s;

    if (n != st->ncols)
        return fp_error_at(err, FP_ERR_PARSE, st->name, line, "expected %d columns, found %d",
                           st->ncols, n);
    fp_run_buf_init(b);
    if (l[st->idx[RT_GPU]] == 0 || l[st->idx[RT_APP]] == 0)
        return fp_error_at(err, FP_ERR_PARSE, st->name, line, "empty gpu or app cell");
    copy_field(b->gpu, sizeof b->gpu, f[st->idx[RT_GPU]], l[st->idx[RT_GPU]]);
    copy_field(b->app, sizeof b->app, f[st->idx[RT_APP]], l[st->idx[RT_APP]]);
    if (st->idx[RT_GPU_NAME] >= 0)
        copy_field(b->gpu_name, sizeof b->gpu_name, f[st->idx[RT_GPU_NAME]],
                   l[st->idx[RT_GPU_NAME]]);
    if ((s = range_cell(st, f, l, RT_FREQ, 1, 1, RT_MHZ_MAX, "a clock of 1..10000 MHz", line, &freq,
                        err)) ||
        (s = range_cell(st, f, l, RT_TIME, 1, 0, RT_TIME_MAX, "seconds, 0..1e7", line, &time_s,
                        err)) ||
        (s = range_cell(st, f, l, RT_ENERGY, 0, 0, INFINITY, "joules >= 0", line, &energy, err)) ||
        (s = range_cell(st, f, l, RT_POWER, 0, 0, RT_W_MAX, "a mean power of 0..5000 W", line,
                        &power, err)))
        return s;
    if (isnan(energy) && isnan(power))
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "neither energy_j nor avg_power_w is given");
    if (!isnan(energy) && time_s > 0 && energy / time_s > RT_W_MAX)
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "energy %.10g J over %.10g s is %.4g W: impossible (expected at most "
                           "5000 W; energy in mJ?)",
                           energy, time_s, energy / time_s);
    if (!isnan(energy) && energy > 0 && time_s == 0)
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "energy %.10g J in 0 s: impossible (expected time_s > 0)", energy);
    run->freq_mhz = freq;
    run->time_s = time_s;
    if (!isnan(energy)) {
        run->energy_j = energy;
        run->power_w = !isnan(power) ? power : (time_s > 0 ? energy / time_s : NAN);
        if (!isnan(power) && power * time_s > 0 &&
            fabs(energy / (power * time_s) - 1.0) > RT_WINDOW_TOLERANCE)
            run->flags |= FP_FLAG_WINDOW_MISMATCH;
    } else {
        run->power_w = power;
        run->energy_j = power * time_s;
        run->flags |= FP_FLAG_ENERGY_FROM_POWER;
    }
    if ((s = num_cell(st, f, l, RT_RUN_INDEX, 0, line, &v, err)))
        return s;
    if (!isnan(v) && !(v >= 0 && v <= 1e15 && v == floor(v)))
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "run_index: expected a whole number >= 0, found %g", v);
    run->run_index = isnan(v) ? -1 : (long)v;
    if ((s = num_cell(st, f, l, RT_REPETITION, 0, line, &v, err)))
        return s;
    if (!isnan(v) && !(v >= 0 && v <= 1e6 && v == floor(v)))
        return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                           "repetition: expected a whole number >= 0, found %g", v);
    run->repetition = isnan(v) ? -1 : (int)v;
    if ((s = range_cell(st, f, l, RT_N_SAMPLES, 0, 0, 1e15, "a count >= 0", line, &v, err)))
        return s;
    if ((s = range_cell(st, f, l, RT_SM_CLOCK, 0, 0, RT_MHZ_MAX, "0..10000 MHz", line,
                        &run->sm_clock_mhz, err)) ||
        (s = range_cell(st, f, l, RT_GPU_UTIL, 0, 0, 100, "0..100 %", line, &run->gpu_util_pct,
                        err)) ||
        (s = range_cell(st, f, l, RT_SM_ACTIVE, 0, 0, 1, "a fraction 0..1", line, &run->sm_active,
                        err)) ||
        (s = range_cell(st, f, l, RT_DRAM_ACTIVE, 0, 0, 1, "a fraction 0..1", line,
                        &run->dram_active, err)) ||
        (s = range_cell(st, f, l, RT_TEMP, 0, -40, 150, "-40..150 C", line, &run->temp_c, err)))
        return s;
    if (fabs(run->sm_clock_mhz - freq) > st->clock_tolerance_mhz)
        run->flags |= FP_FLAG_CLOCK_NOT_HELD; /* the clock reached, where the table gives it */
    if (st->idx[RT_START] >= 0 && !fp_is_na(f[st->idx[RT_START]], l[st->idx[RT_START]])) {
        int i = st->idx[RT_START];
        if (parse_time(f[i], l[i], &run->start_utc) != 0)
            return fp_error_at(err, FP_ERR_PARSE, st->name, line,
                               "column %d: expected epoch seconds or an ISO-8601 time, found "
                               "'%.40s'",
                               i + 1, f[i]);
    }
    if ((s = num_cell(st, f, l, RT_EXIT_CODE, 0, line, &v, err)))
        return s;
    if (!isnan(v) && v != 0)
        run->flags |= FP_FLAG_FAILED;
    if (v == RT_EXIT_TIMEOUT)
        run->flags |= FP_FLAG_TIMEOUT;
    if (st->idx[RT_STATUS] >= 0) {
        int i = st->idx[RT_STATUS];
        if (l[i] && strcasecmp(f[i], "success") != 0 && strcasecmp(f[i], "ok") != 0)
            run->flags |= FP_FLAG_FAILED;
        if (strcasecmp(f[i], "timeout") == 0)
            run->flags |= FP_FLAG_TIMEOUT;
    }
    fp_run_set_source(b, st->name, line);
    return FP_OK;
}

static fp_status runtable_parse(fp_linebuf *lb, const char *name, const fp_load_options *opt,
                                fp_run_list *out, fp_error *err)
{
    rt_state st;
    char *line;
    size_t len;
    char *f[RT_MAX_FIELDS];
    size_t l[RT_MAX_FIELDS];
    char *hdr_copy = NULL;
    int r, have_header = 0;
    size_t before = out->len;
    fp_status s = FP_OK;

    memset(&st, 0, sizeof st);
    st.name = name;
    st.clock_tolerance_mhz = opt ? opt->clock_tolerance_mhz : 30.0;
    while ((r = fp_linebuf_next(lb, &line, &len, err)) == 1) {
        long lineno = fp_linebuf_lineno(lb);
        size_t i = 0;
        while (i < len && isspace((unsigned char)line[i]))
            i++;
        if (i == len || line[i] == '#')
            continue;
        if (fp_linebuf_last_unterminated(lb)) {
            s = fp_error_at(err, FP_ERR_PARSE, name, lineno,
                            "truncated last line (no newline at the end of the file)");
            break;
        }
        if (!have_header) {
            /* Keep the header names for messages: the line buffer is reused. */
            if (!(hdr_copy = strndup(line, len))) {
                s = fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", name);
                break;
            }
            int n = fp_csv_split(hdr_copy, len, ',', f, l, RT_MAX_FIELDS);
            if (n < 0) {
                s = fp_error_at(err, FP_ERR_PARSE, name, lineno, "more than %d columns",
                                RT_MAX_FIELDS);
                break;
            }
            for (int k = 0; k < n; k++)
                st.hdr_names[k] = f[k];
            if ((s = parse_header(&st, f, l, n, lineno, err)) != FP_OK)
                break;
            have_header = 1;
            continue;
        }
        int n = fp_csv_split(line, len, ',', f, l, RT_MAX_FIELDS);
        if (n < 0) {
            s = fp_error_at(err, FP_ERR_PARSE, name, lineno,
                            "expected %d columns, found more "
                            "than %d",
                            st.ncols, RT_MAX_FIELDS);
            break;
        }
        fp_run_buf run;
        if ((s = parse_row(&st, f, l, n, lineno, &run, err)) != FP_OK)
            break;
        if ((s = fp_run_list_push(out, &run.run, err)) != FP_OK)
            break;
    }
    if (r < 0)
        s = (fp_status)r;
    if (s == FP_OK && !have_header)
        s = fp_error_at(err, FP_ERR_PARSE, name, 0,
                        "empty file: expected a per-run table header (gpu, app, freq_mhz, time_s, "
                        "energy_j or avg_power_w)");
    if (s != FP_OK)
        out->len = before; /* all or nothing */
    free(hdr_copy);
    return s;
}

fp_status fp_runtable_load(const char *path, const fp_load_options *opt, fp_run_list *out,
                           fp_error *err)
{
    fp_linebuf *lb;
    fp_status s = fp_linebuf_open(&lb, path, err);
    if (s != FP_OK)
        return s;
    s = runtable_parse(lb, path, opt, out, err);
    fp_linebuf_close(lb);
    return s;
}

fp_status fp_runtable_load_mem(const void *data, size_t len, const char *name,
                               const fp_load_options *opt, fp_run_list *out, fp_error *err)
{
    fp_linebuf *lb;
    fp_status s = fp_linebuf_open_mem(&lb, data, len, name, err);
    if (s != FP_OK)
        return s;
    s = runtable_parse(lb, name, opt, out, err);
    fp_linebuf_close(lb);
    return s;
}

/* The required columns and their aliases (as parse_header matches them). */
static const char *const rt_freq[] = {"freq_mhz", "frequency_mhz", "frequency", NULL};
static const char *const rt_time[] = {"time_s", "duration_seconds", "execution_time", NULL};
static const char *const rt_energy[] = {"energy_j", "avg_power_w", "power_w",
                                        "energy",   "avg_power",   NULL};

/* A clock, a time and energy or power among the first non-comment line's columns. */
static int rt_sniff(const fp_sniff *s)
{
    if (s->nfields < 1)
        return FP_SNIFF_NO;
    return fp_sniff_has_ci(s, rt_freq) && fp_sniff_has_ci(s, rt_time) &&
                   fp_sniff_has_ci(s, rt_energy)
               ? FP_SNIFF_LIKELY
               : FP_SNIFF_NO;
}

const fp_format_ops fp_format_run_table = {
    .name = "run-table",
    .aliases = {"runs", "complete-aggregation", NULL},
    .description = "a per-run table",
    .sniff_file = rt_sniff,
    .load = fp_runtable_load,
};
