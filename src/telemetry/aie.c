/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The two layouts of the ai-inference-energy scripts (docs/formats.md):
 *
 *   results/<ARCH>-<mode>-<APP>-<freq>-<iter>    one profile per run (dcgmi or nvidia-smi)
 *   results/<ARCH>-<mode>-<app>-perf.csv         `<freq>,<seconds>` per iteration
 *
 *   results_<gpu>_<app>_job_<id>/run_<run_id>_freq_<MHz>_profile.csv
 *   results_<gpu>_<app>_job_<id>/timing_summary.log
 *       # Run Timing Summary
 *       # Format: run_id,frequency_mhz,duration_seconds,exit_code,status
 *       3_02,1770,41,0,success
 *
 * This is foreign data known to hold damaged files: a profile that cannot be read is skipped
 * with a warning naming file:line (an error with aggregate --strict); the timing files
 * themselves must be sound.
 *
 * The timings give each run's length but not its position in the profile:
 * the window is that length ending at the last active sample (model loading
 * comes first; docs/method-windows.md).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/csvcore.h"
#include "telemetry/format.h"
#include "telemetry/layouts.h"
#include "util/grow.h"
#include "util/linebuf.h"
#include "util/input.h"

#define PERF_MAX_ITERS 1024
#define AIE_MHZ_MAX 10000.0
#define AIE_TIME_MAX 1e7
#define AIE_EXIT_TIMEOUT 124

static int all_digits(const char *s, size_t n)
{
    if (n == 0 || n > 9)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int all_alnum(const char *s, size_t n, const char *extra)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
            return 0;
    return 1;
}

static int copy_n(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        return 0;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 1;
}

int fp_aie_parse_profile_name(const char *name, fp_aie_name *out)
{
    const char *d1 = strchr(name, '-'), *d2, *last, *prev;
    size_t len = strlen(name);
    if (!d1 || (d2 = strchr(d1 + 1, '-')) == NULL)
        return 0;
    last = strrchr(name, '-');
    if (last <= d2)
        return 0;
    prev = last - 1;
    while (prev > d2 && *prev != '-')
        prev--;
    if (prev <= d2) /* need a non-empty APP between mode and freq */
        return 0;
    fp_aie_name n;
    memset(&n, 0, sizeof n);
    if (!all_alnum(name, (size_t)(d1 - name), "") ||
        !copy_n(n.arch, sizeof n.arch, name, (size_t)(d1 - name)))
        return 0;
    if (!all_alnum(d1 + 1, (size_t)(d2 - d1 - 1), "_") ||
        !copy_n(n.mode, sizeof n.mode, d1 + 1, (size_t)(d2 - d1 - 1)))
        return 0;
    if (!all_alnum(d2 + 1, (size_t)(prev - d2 - 1), "_-.") ||
        !copy_n(n.app, sizeof n.app, d2 + 1, (size_t)(prev - d2 - 1)))
        return 0;
    if (!all_digits(prev + 1, (size_t)(last - prev - 1)) ||
        !all_digits(last + 1, len - (size_t)(last + 1 - name)))
        return 0;
    /* The architecture is upper case letters and digits (GV100); refuse file names like
     * "notes-on-this-1-2". */
    for (const char *p = n.arch; *p; p++)
        if (islower((unsigned char)*p))
            return 0;
    n.freq_mhz = atof(prev + 1);
    n.iter = atoi(last + 1);
    if (n.freq_mhz <= 0)
        return 0;
    fp_gpu_short_name(n.arch, n.gpu, sizeof n.gpu);
    *out = n;
    return 1;
}

int fp_aie_parse_perf_name(const char *name, char *arch, size_t arch_size, char *mode,
                           size_t mode_size, char *app, size_t app_size)
{
    static const char suffix[] = "-perf.csv";
    size_t len = strlen(name), sl = sizeof suffix - 1;
    const char *d1, *d2;
    if (len <= sl || strcmp(name + len - sl, suffix) != 0)
        return 0;
    if (!(d1 = strchr(name, '-')) || !(d2 = strchr(d1 + 1, '-')) || d2 >= name + len - sl)
        return 0;
    if (!all_alnum(name, (size_t)(d1 - name), "") || !all_alnum(d1 + 1, (size_t)(d2 - d1 - 1), "_"))
        return 0;
    if (!all_alnum(d2 + 1, (size_t)(name + len - sl - d2 - 1), "_-."))
        return 0;
    return copy_n(arch, arch_size, name, (size_t)(d1 - name)) &&
           copy_n(mode, mode_size, d1 + 1, (size_t)(d2 - d1 - 1)) &&
           copy_n(app, app_size, d2 + 1, (size_t)(name + len - sl - d2 - 1));
}

int fp_aie_parse_job_dir(const char *name, char *gpu, size_t gpu_size, char *app, size_t app_size,
                         long *job_id)
{
    static const char prefix[] = "results_";
    const char *job, *g_end;
    size_t len = strlen(name);
    while (len > 1 && name[len - 1] == '/')
        len--;
    if (len <= sizeof prefix - 1 || strncmp(name, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *p = name + sizeof prefix - 1;
    /* The last "_job_" splits app from id: app names may hold '_'. */
    job = NULL;
    for (const char *q = p; q + 5 <= name + len; q++)
        if (strncmp(q, "_job_", 5) == 0)
            job = q;
    if (!job || !all_digits(job + 5, (size_t)(name + len - job - 5)))
        return 0;
    if (!(g_end = strchr(p, '_')) || g_end >= job)
        return 0;
    if (!all_alnum(p, (size_t)(g_end - p), "-") ||
        !all_alnum(g_end + 1, (size_t)(job - g_end - 1), "_-."))
        return 0;
    char g[64];
    if (!copy_n(g, sizeof g, p, (size_t)(g_end - p)) ||
        !copy_n(app, app_size, g_end + 1, (size_t)(job - g_end - 1)))
        return 0;
    fp_gpu_short_name(g, gpu, gpu_size);
    if (job_id)
        *job_id = strtol(job + 5, NULL, 10);
    return 1;
}

int fp_aie_parse_job_profile(const char *name, fp_aie_job_name *out)
{
    static const char pre[] = "run_", mid[] = "_freq_", suf[] = "_profile.csv";
    size_t len = strlen(name), lp = sizeof pre - 1, ls = sizeof suf - 1, lm = sizeof mid - 1;
    if (len <= lp + lm + ls || strncmp(name, pre, lp) != 0 || strcmp(name + len - ls, suf) != 0)
        return 0;
    const char *freq = NULL;
    for (const char *q = name + lp; q + lm <= name + len - ls; q++)
        if (strncmp(q, mid, lm) == 0)
            freq = q; /* the last "_freq_" */
    if (!freq)
        return 0;
    const char *id = name + lp, *f0 = freq + lm, *f1 = name + len - ls;
    size_t idlen = (size_t)(freq - id);
    if (!all_digits(f0, (size_t)(f1 - f0)))
        return 0;
    fp_aie_job_name n;
    memset(&n, 0, sizeof n);
    n.freq_mhz = strtod(f0, NULL);
    if (!(n.freq_mhz > 0 && n.freq_mhz <= AIE_MHZ_MAX) ||
        !copy_n(n.run_id, sizeof n.run_id, id, idlen))
        return 0;
    const char *us = memchr(id, '_', idlen);
    if (!us && all_digits(id, idlen)) { /* "<rep>": custom clocks */
        n.run_no = -1;
        n.rep = atoi(id);
    } else if (us && all_digits(us + 1, (size_t)(freq - us - 1)) &&
               (all_digits(id, (size_t)(us - id)) ||
                ((size_t)(us - id) == 8 && strncmp(id, "baseline", 8) == 0))) {
        n.run_no = isdigit((unsigned char)id[0]) ? strtol(id, NULL, 10) : -1;
        n.rep = atoi(us + 1);
    } else {
        return 0;
    }
    *out = n;
    return 1;
}

/* ---- folders ---- */

static const char *base_of(const char *path, char *buf, size_t size)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/')
        start--;
    copy_n(buf, size, path + start, len - start < size ? len - start : size - 1);
    return buf;
}

/* <ARCH>-<mode>-<APP>-<freq>-<iter> profiles and <ARCH>-<mode>-<app>-perf.csv timings. */
static int results_sniff(const fp_dir_entries *d)
{
    char arch[32], mode[32], app[64];
    int profiles = 0, perfs = 0;
    for (size_t i = 0; i < d->n; i++) {
        fp_aie_name an;
        if (fp_aie_parse_profile_name(d->name[i], &an))
            profiles++;
        else if (fp_aie_parse_perf_name(d->name[i], arch, sizeof arch, mode, sizeof mode, app,
                                        sizeof app))
            perfs++;
    }
    return profiles && perfs ? FP_SNIFF_LIKELY : FP_SNIFF_NO;
}

/* results_<gpu>_<app>_job_<id> holding run_*_profile.csv files or a timing_summary.log. */
static int job_sniff(const fp_dir_entries *d)
{
    char base[256], g[64], a[64];
    long id;
    int found = 0;
    for (size_t i = 0; i < d->n && !found; i++) {
        fp_aie_job_name jn;
        found = fp_aie_parse_job_profile(d->name[i], &jn) ||
                strcmp(d->name[i], "timing_summary.log") == 0;
    }
    base_of(d->dir, base, sizeof base);
    return found && fp_aie_parse_job_dir(base, g, sizeof g, a, sizeof a, &id) ? FP_SNIFF_LIKELY + 10
                                                                              : FP_SNIFF_NO;
}

/* ---- perf.csv and timing_summary.log ---- */

static int is_whole(double v)
{
    return v == floor(v);
}

static fp_status perf_parse(fp_linebuf *lb, const char *name, double *seconds, size_t max,
                            size_t *n, int *whole_s, fp_error *err)
{
    char *line, *f[4];
    size_t len, l[4];
    int r, whole = 1;
    *n = 0;
    while ((r = fp_linebuf_next(lb, &line, &len, err)) == 1) {
        long ln = fp_linebuf_lineno(lb);
        double freq, sec;
        int k = fp_csv_split(line, len, ',', f, l, 4);
        if (k == 1 && l[0] == 0)
            continue;
        if (k != 2)
            return fp_error_at(err, FP_ERR_PARSE, name, ln,
                               "expected '<freq_mhz>,<seconds>', found %d fields", k < 0 ? 5 : k);
        if (fp_parse_num(f[0], l[0], &freq) != 0 || fp_parse_num(f[1], l[1], &sec) != 0)
            return fp_error_at(err, FP_ERR_PARSE, name, ln,
                               "expected '<freq_mhz>,<seconds>' with numbers, found '%.40s,%.40s'",
                               f[0], f[1]);
        if (!(freq > 0 && freq <= AIE_MHZ_MAX) || !(sec >= 0 && sec <= AIE_TIME_MAX))
            return fp_error_at(err, FP_ERR_PARSE, name, ln,
                               "'%.40s,%.40s' is impossible (expected a clock of 1..10000 MHz "
                               "and 0..1e7 seconds)",
                               f[0], f[1]);
        if (*n >= max)
            return fp_error_at(err, FP_ERR_PARSE, name, ln, "more than %zu iterations", max);
        whole &= is_whole(sec);
        seconds[(*n)++] = sec;
    }
    if (whole_s)
        *whole_s = whole && *n > 0;
    return r < 0 ? (fp_status)r : FP_OK;
}

fp_status fp_perf_csv_parse_mem(const void *data, size_t len, const char *name, double *seconds,
                                size_t max, size_t *n, int *whole_s, fp_error *err)
{
    fp_linebuf *lb;
    fp_status s = fp_linebuf_open_mem(&lb, data, len, name, err);
    if (s != FP_OK)
        return s;
    s = perf_parse(lb, name, seconds, max, n, whole_s, err);
    fp_linebuf_close(lb);
    return s;
}

static fp_status perf_parse_file(const char *path, double *seconds, size_t max, size_t *n,
                                 int *whole_s, fp_error *err)
{
    fp_linebuf *lb;
    fp_status s = fp_linebuf_open(&lb, path, err);
    if (s != FP_OK)
        return s;
    s = perf_parse(lb, path, seconds, max, n, whole_s, err);
    fp_linebuf_close(lb);
    return s;
}

enum { TS_ID, TS_FREQ, TS_DUR, TS_EXIT, TS_STATUS, TS_NCOLS };
static const char *const ts_cols[TS_NCOLS] = {"run_id", "frequency_mhz", "duration_seconds",
                                              "exit_code", "status"};
#define TS_EXPECTED "run_id,frequency_mhz,duration_seconds,exit_code,status"

/* Maps a header's fields to the columns: 1 when run_id and duration_seconds are there. */
static int timing_header(char **f, size_t *l, int k, int *idx)
{
    for (int c = 0; c < TS_NCOLS; c++) {
        idx[c] = -1;
        for (int j = 0; j < k; j++)
            if (strlen(ts_cols[c]) == l[j] && strncasecmp(f[j], ts_cols[c], l[j]) == 0)
                idx[c] = j;
    }
    return k > 0 && idx[TS_ID] >= 0 && idx[TS_DUR] >= 0;
}

/* A run id as the scripts write it: letters, digits, '_', '-', '.'. */
static int good_run_id(const char *s, size_t n, size_t max)
{
    return n > 0 && n < max && all_alnum(s, n, "_-.");
}

static fp_status timing_row(const char *name, long ln, char **f, size_t *l, const int *idx,
                            fp_timing_row *row, fp_error *err)
{
    double v[TS_NCOLS] = {NAN, NAN, NAN, NAN, NAN};
    memset(row, 0, sizeof *row);
    row->line = ln;
    const char *id = f[idx[TS_ID]];
    size_t idl = l[idx[TS_ID]];
    if (!good_run_id(id, idl, sizeof row->run_id))
        return fp_error_at(err, FP_ERR_PARSE, name, ln,
                           "column run_id: expected a run id such as 3_02 or baseline_01, found "
                           "'%.40s'",
                           id);
    copy_n(row->run_id, sizeof row->run_id, id, idl);
    for (int c = TS_FREQ; c <= TS_EXIT; c++) {
        if (idx[c] < 0)
            continue;
        int pr = fp_parse_num(f[idx[c]], l[idx[c]], &v[c]);
        if (pr < 0 || (pr == 1 && c == TS_DUR) || isinf(v[c]))
            return fp_error_at(err, FP_ERR_PARSE, name, ln,
                               "column %s: expected a number, found '%.40s'", ts_cols[c],
                               f[idx[c]]);
    }
    if (!isnan(v[TS_FREQ]) && !(v[TS_FREQ] > 0 && v[TS_FREQ] <= AIE_MHZ_MAX))
        return fp_error_at(err, FP_ERR_PARSE, name, ln,
                           "column frequency_mhz: %.10g is impossible (expected 1..10000 MHz)",
                           v[TS_FREQ]);
    if (!(v[TS_DUR] >= 0 && v[TS_DUR] <= AIE_TIME_MAX))
        return fp_error_at(err, FP_ERR_PARSE, name, ln,
                           "column duration_seconds: %.10g is impossible (expected 0..1e7 s)",
                           v[TS_DUR]);
    if (!isnan(v[TS_EXIT]) && !(v[TS_EXIT] >= -255 && v[TS_EXIT] <= 255 && is_whole(v[TS_EXIT])))
        return fp_error_at(err, FP_ERR_PARSE, name, ln,
                           "column exit_code: %.10g is impossible (expected a whole number "
                           "-255..255)",
                           v[TS_EXIT]);
    row->freq_mhz = v[TS_FREQ];
    row->duration_s = v[TS_DUR];
    row->exit_code = isnan(v[TS_EXIT]) ? 0 : (long)v[TS_EXIT];
    if (idx[TS_STATUS] >= 0) {
        const char *st = f[idx[TS_STATUS]];
        size_t sl = l[idx[TS_STATUS]];
        if (sl >= sizeof row->status || !all_alnum(st, sl ? sl : 1, "_-"))
            if (sl)
                return fp_error_at(err, FP_ERR_PARSE, name, ln,
                                   "column status: expected success, failed or timeout, found "
                                   "'%.40s'",
                                   st);
        copy_n(row->status, sizeof row->status, st, sl);
    }
    /* The scripts write the status from the exit status: they must agree. */
    int ok_status = !row->status[0] || strcasecmp(row->status, "success") == 0;
    int timeout_status = strcasecmp(row->status, "timeout") == 0;
    if ((row->exit_code == 0) != ok_status ||
        (timeout_status && !isnan(v[TS_EXIT]) && row->exit_code != AIE_EXIT_TIMEOUT))
        return fp_error_at(err, FP_ERR_PARSE, name, ln,
                           "exit_code %ld and status '%s' contradict each other (expected 0 with "
                           "success, %d with timeout, another code with failed)",
                           row->exit_code, row->status, AIE_EXIT_TIMEOUT);
    return FP_OK;
}

static fp_status timing_parse(fp_linebuf *lb, const char *name, fp_timing_row **rows_out,
                              size_t *n_out, int *whole_s, fp_error *err)
{
    char *line, *f[16];
    size_t len, l[16];
    int r, idx[TS_NCOLS], have_header = 0, ncols = 0, whole = 1;
    fp_timing_row *rows = NULL;
    size_t n = 0, cap = 0;
    fp_status s = FP_OK;

    while ((r = fp_linebuf_next(lb, &line, &len, err)) == 1) {
        long ln = fp_linebuf_lineno(lb);
        size_t i = 0;
        while (i < len && isspace((unsigned char)line[i]))
            i++;
        if (i == len)
            continue;
        if (line[i] == '#') {
            /* "# Format: run_id,frequency_mhz,...": the writer's header, in a comment. */
            const char *p = line + i + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            if (!have_header && strncasecmp(p, "format:", 7) == 0) {
                p += 7;
                int k = fp_csv_split((char *)p, len - (size_t)(p - line), ',', f, l, 16);
                if (!timing_header(f, l, k, idx)) {
                    s = fp_error_at(err, FP_ERR_PARSE, name, ln,
                                    "expected the header " TS_EXPECTED " after '# Format:'");
                    break;
                }
                ncols = k;
                have_header = 1;
            }
            continue;
        }
        if (fp_linebuf_last_unterminated(lb)) {
            s = fp_error_at(err, FP_ERR_PARSE, name, ln,
                            "truncated last line (no newline at the end of the file)");
            break;
        }
        int k = fp_csv_split(line, len, ',', f, l, 16);
        if (!have_header) {
            if (!timing_header(f, l, k, idx)) {
                s = fp_error_at(err, FP_ERR_PARSE, name, ln,
                                "expected the header " TS_EXPECTED
                                " (as a first line or a '# Format:' comment)");
                break;
            }
            ncols = k;
            have_header = 1;
            continue;
        }
        if (k != ncols) {
            s = fp_error_at(err, FP_ERR_PARSE, name, ln, "expected %d columns, found %d", ncols,
                            k < 0 ? 16 : k);
            break;
        }
        fp_timing_row row;
        if ((s = timing_row(name, ln, f, l, idx, &row, err)) != FP_OK)
            break;
        for (size_t j = 0; j < n && s == FP_OK; j++)
            if (strcmp(rows[j].run_id, row.run_id) == 0)
                s = fp_error_at(err, FP_ERR_PARSE, name, ln,
                                "run_id '%s' given twice (lines %ld and %ld): expected each run "
                                "once (a job run twice into one folder?)",
                                row.run_id, rows[j].line, ln);
        if (s != FP_OK)
            break;
        if (FP_GROW(rows, n, cap, 64)) {
            s = fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", name);
            break;
        }
        whole &= is_whole(row.duration_s);
        rows[n++] = row;
    }
    if (r < 0)
        s = (fp_status)r;
    if (s == FP_OK && !have_header)
        s = fp_error_at(err, FP_ERR_PARSE, name, 0, "empty file: expected the header " TS_EXPECTED);
    if (s != FP_OK) {
        free(rows);
        rows = NULL;
        n = 0;
    }
    *rows_out = rows;
    *n_out = n;
    if (whole_s)
        *whole_s = whole && n > 0;
    return s;
}

fp_status fp_timing_summary_parse_mem(const void *data, size_t len, const char *name,
                                      fp_timing_row **rows, size_t *n, int *whole_s, fp_error *err)
{
    fp_linebuf *lb;
    fp_status s;
    *rows = NULL;
    *n = 0;
    if ((s = fp_linebuf_open_mem(&lb, data, len, name, err)) != FP_OK)
        return s;
    s = timing_parse(lb, name, rows, n, whole_s, err);
    fp_linebuf_close(lb);
    return s;
}

fp_status fp_timing_summary_parse(const char *path, fp_timing_row **rows, size_t *n, int *whole_s,
                                  fp_error *err)
{
    fp_linebuf *lb;
    fp_status s;
    *rows = NULL;
    *n = 0;
    if ((s = fp_linebuf_open(&lb, path, err)) != FP_OK)
        return s;
    s = timing_parse(lb, path, rows, n, whole_s, err);
    fp_linebuf_close(lb);
    return s;
}

/* ---- loaders ---- */

/*
 * Heterogeneity (docs/cluster.md): the GPU named in the first rows of a profile ("NVIDIA ..."
 * in the name column) when it is not the job's GPU; "" otherwise. Read directly, so even a
 * file the reader rejects later (a corrupt tail) is named for what it is.
 */
static void other_gpu(const char *path, const char *job_gpu, char *out, size_t size)
{
    char buf[8192], name[128], short_name[64];
    out[0] = 0;
    int fd = fp_input_open(path, NULL); /* regular files only: never blocks on a FIFO */
    if (fd < 0)
        return;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[got > 0 ? got : 0] = 0;
    const char *p = strstr(buf, "NVIDIA ");
    if (!p || !job_gpu || !job_gpu[0])
        return;
    size_t len = strcspn(p, ",\t\r\n\"");
    if (len >= sizeof name)
        len = sizeof name - 1;
    memcpy(name, p, len);
    while (len && name[len - 1] == ' ')
        len--;
    name[len] = 0;
    fp_gpu_short_name(name, short_name, sizeof short_name);
    if (strcmp(short_name, name) != 0 && strcasecmp(short_name, job_gpu) != 0)
        snprintf(out, size, "%s", name);
}

/* "StableDiffusion" and "stable-diffusion" name the same app. */
static void app_key(const char *app, char *out, size_t size)
{
    size_t j = 0;
    for (size_t i = 0; app[i] && j + 1 < size; i++)
        if (isalnum((unsigned char)app[i]))
            out[j++] = (char)tolower((unsigned char)app[i]);
    out[j] = '\0';
}

static void metrics_opts(const fp_load_options *opt, double freq, double duration,
                         fp_metrics_options *m)
{
    fp_metrics_options_init(m);
    m->requested_mhz = freq;
    m->duration_s = duration;
    if (opt) {
        m->counter_tolerance = opt->counter_tolerance;
        m->clock_tolerance_mhz = opt->clock_tolerance_mhz;
    }
}

/* A timing with a whole-second resolution on a short run. */
static uint32_t coarse(int whole_s, double duration)
{
    return whole_s && isfinite(duration) && 1.0 > FP_COARSE_TIMING_FRAC * duration
               ? FP_FLAG_COARSE_TIMING
               : 0;
}

typedef struct perf_entry {
    char arch[32], mode[32], key[64];
    double seconds[PERF_MAX_ITERS];
    size_t n;
    int whole_s;
} perf_entry;

fp_status fp_aie_results_load(const char *dir, const fp_load_options *opt, fp_run_list *out,
                              fp_error *err)
{
    fp_dir_entries ns;
    perf_entry *perfs = NULL;
    size_t n_perf = 0;
    fp_status s;
    const fp_diag *diag = opt ? opt->diag : NULL;
    size_t before = out->len;

    if ((s = fp_dir_list(dir, &ns, err)) != FP_OK)
        return s;
    perfs = calloc(ns.n ? ns.n : 1, sizeof *perfs);
    if (!perfs) {
        fp_dir_entries_free(&ns);
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", dir);
    }
    for (size_t i = 0; i < ns.n; i++) {
        char app[64], path[4096];
        perf_entry *p = &perfs[n_perf];
        if (!fp_aie_parse_perf_name(ns.name[i], p->arch, sizeof p->arch, p->mode, sizeof p->mode,
                                    app, sizeof app))
            continue;
        app_key(app, p->key, sizeof p->key);
        snprintf(path, sizeof path, "%s/%s", dir, ns.name[i]);
        /* The timings must be sound (a bad one would silently become the detector's window). */
        if ((s = perf_parse_file(path, p->seconds, PERF_MAX_ITERS, &p->n, &p->whole_s, err)) !=
            FP_OK) {
            free(perfs);
            fp_dir_entries_free(&ns);
            return s;
        }
        n_perf++;
    }
    for (size_t i = 0; i < ns.n; i++) {
        fp_aie_name an;
        char key[64], path[4096];
        double duration = NAN;
        int whole_s = 0;
        fp_run_buf rb;
        fp_metrics_options m;
        fp_error e;
        if (!fp_aie_parse_profile_name(ns.name[i], &an))
            continue;
        app_key(an.app, key, sizeof key);
        int found = 0;
        for (size_t k = 0; k < n_perf; k++) {
            if (strcmp(perfs[k].arch, an.arch) == 0 && strcmp(perfs[k].mode, an.mode) == 0 &&
                strcmp(perfs[k].key, key) == 0) {
                found = 1;
                if ((size_t)an.iter < perfs[k].n) {
                    duration = perfs[k].seconds[an.iter];
                    whole_s = perfs[k].whole_s;
                }
            }
        }
        snprintf(path, sizeof path, "%s/%s", dir, ns.name[i]);
        if (fp_input_check(path, err) != FP_OK) {
            s = FP_ERR_FORMAT; /* a FIFO among the profiles: refused, never opened */
            break;
        }
        if (isnan(duration))
            fp_warn(diag, "%s: no timing for iteration %d in %s; window from the detector", path,
                    an.iter, found ? "its perf.csv" : "a perf.csv (none found)");
        fp_run_buf_init(&rb);
        snprintf(rb.gpu, sizeof rb.gpu, "%s", an.gpu);
        app_key(an.app, rb.app, sizeof rb.app);
        rb.run.freq_mhz = an.freq_mhz;
        rb.run.repetition = an.iter + 1;
        rb.run.flags |= coarse(whole_s, duration);
        fp_run_set_source(&rb, path, 0);
        metrics_opts(opt, an.freq_mhz, duration, &m);
        fp_error_clear(&e);
        {
            char other[128];
            other_gpu(path, an.gpu, other, sizeof other);
            if (other[0]) {
                /* Name every reason: a mixed-up file is often corrupt as well. */
                fp_run_buf probe = rb;
                fp_error pe;
                fp_error_clear(&pe);
                int unreadable = fp_run_from_telemetry(path, FP_FMT_AUTO, &m, opt, &probe, &pe);
                fp_warn(diag,
                        "skipped %s: gpu_mismatch: a %s job whose telemetry names %s (it ran "
                        "on another node type); not averaged with the %s runs%s%s",
                        path, an.gpu, other, an.gpu, unreadable ? "; also unreadable: " : "",
                        unreadable ? pe.msg : "");
                continue;
            }
        }
        if (fp_run_from_telemetry(path, FP_FMT_AUTO, &m, opt, &rb, &e) != FP_OK) {
            fp_warn(diag, "skipped %s", e.msg);
            continue;
        }
        if ((s = fp_run_list_push(out, &rb.run, err)) != FP_OK)
            break;
    }
    free(perfs);
    fp_dir_entries_free(&ns);
    if (s != FP_OK)
        out->len = before;
    else if (out->len == before)
        s = fp_error_set(err, FP_ERR_FORMAT,
                         "%s: no usable <ARCH>-<mode>-<APP>-<freq>-<iter> "
                         "profile found",
                         dir);
    return s;
}

/* A run of the timing log, its profile found or not. */
static void job_run(fp_run_buf *b, const char *gpu, const char *app, const fp_aie_job_name *jn,
                    const char *path)
{
    fp_run_buf_init(b);
    snprintf(b->gpu, sizeof b->gpu, "%s", gpu);
    snprintf(b->app, sizeof b->app, "%s", app);
    b->run.freq_mhz = jn->freq_mhz;
    b->run.run_index = jn->run_no;
    b->run.repetition = jn->rep;
    fp_run_set_source(b, path, 0);
}

/* The failed / timeout flags of a timing row. */
static uint32_t row_flags(const fp_timing_row *row)
{
    uint32_t f = 0;
    if (row->exit_code != 0 || (row->status[0] && strcasecmp(row->status, "success") != 0))
        f |= FP_FLAG_FAILED;
    if (row->exit_code == AIE_EXIT_TIMEOUT || strcasecmp(row->status, "timeout") == 0)
        f |= FP_FLAG_TIMEOUT;
    return f;
}

fp_status fp_aie_job_load(const char *dir, const fp_load_options *opt, fp_run_list *out,
                          fp_error *err)
{
    fp_dir_entries ns;
    char base[256], gpu[64], app[64], path[4096];
    long job_id;
    fp_timing_row *rows = NULL;
    size_t n_rows = 0;
    int whole_s = 0;
    fp_status s;
    const fp_diag *diag = opt ? opt->diag : NULL;
    size_t before = out->len;

    base_of(dir, base, sizeof base);
    if (!fp_aie_parse_job_dir(base, gpu, sizeof gpu, app, sizeof app, &job_id))
        return fp_error_set(err, FP_ERR_FORMAT,
                            "%s: expected a folder named results_<gpu>_<app>_job_<id>", dir);
    snprintf(path, sizeof path, "%s/timing_summary.log", dir);
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if ((s = fp_timing_summary_parse(path, &rows, &n_rows, &whole_s, err)) != FP_OK)
            return s;
    } else {
        fp_warn(diag, "%s: no timing_summary.log; windows from the detector", dir);
    }
    if ((s = fp_dir_list(dir, &ns, err)) != FP_OK) {
        free(rows);
        return s;
    }
    char *used = calloc(n_rows ? n_rows : 1, 1); /* timing rows with a profile */
    if (!used) {
        free(rows);
        fp_dir_entries_free(&ns);
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", dir);
    }
    for (size_t i = 0; i < ns.n && s == FP_OK; i++) {
        fp_aie_job_name jn;
        double duration = NAN;
        const fp_timing_row *row = NULL;
        fp_run_buf rb;
        fp_metrics_options m;
        fp_error e;
        if (!fp_aie_parse_job_profile(ns.name[i], &jn))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, ns.name[i]);
        if ((s = fp_input_check(path, err)) != FP_OK)
            break; /* a FIFO among the profiles: refused, never opened */
        for (size_t k = 0; k < n_rows; k++)
            if (strcmp(rows[k].run_id, jn.run_id) == 0) {
                row = &rows[k];
                used[k] = 1;
            }
        job_run(&rb, gpu, app, &jn, path);
        if (row) {
            duration = row->duration_s;
            if (!isnan(row->freq_mhz) && fabs(row->freq_mhz - jn.freq_mhz) > 0.5)
                fp_warn(diag,
                        "%s: timing_summary.log:%ld says %g MHz for run %s, the file name %g MHz",
                        path, row->line, row->freq_mhz, jn.run_id, jn.freq_mhz);
            rb.run.flags |= row_flags(row) | coarse(whole_s, duration);
        } else if (n_rows) {
            fp_warn(diag, "%s: run %s is not in timing_summary.log; window from the detector", path,
                    jn.run_id);
        }
        metrics_opts(opt, jn.freq_mhz, duration, &m);
        fp_error_clear(&e);
        if (fp_run_from_telemetry(path, FP_FMT_AUTO, &m, opt, &rb, &e) != FP_OK) {
            if (rb.run.flags & FP_FLAG_FAILED) {
                /* A failed run's broken profile: still dropped as failed, for its reason. */
                job_run(&rb, gpu, app, &jn, path);
                rb.run.flags |= row_flags(row);
                s = fp_run_list_push(out, &rb.run, err);
            } else {
                fp_warn(diag, "skipped %s", e.msg);
            }
            continue;
        }
        s = fp_run_list_push(out, &rb.run, err);
    }
    /* Timing rows without a profile: a failed run is dropped for its reason; a successful one
     * must have left its telemetry. */
    for (size_t k = 0; k < n_rows && s == FP_OK; k++) {
        if (used[k])
            continue;
        const fp_timing_row *row = &rows[k];
        char name[128];
        fp_aie_job_name jn;
        snprintf(name, sizeof name, "run_%s_freq_%.0f_profile.csv", row->run_id,
                 isnan(row->freq_mhz) ? 0.0 : row->freq_mhz);
        if (!(row_flags(row) & FP_FLAG_FAILED))
            s = fp_error_at(err, FP_ERR_PARSE, dir, 0,
                            "timing_summary.log:%ld: run %s succeeded but its profile %s is "
                            "missing: expected the telemetry of every successful run",
                            row->line, row->run_id, name);
        else if (fp_aie_parse_job_profile(name, &jn)) {
            fp_run_buf rb;
            snprintf(path, sizeof path, "%s/timing_summary.log", dir);
            job_run(&rb, gpu, app, &jn, path);
            fp_run_set_source(&rb, path, row->line); /* no profile: the row says why */
            rb.run.flags |= row_flags(row);
            s = fp_run_list_push(out, &rb.run, err);
        }
    }
    free(used);
    free(rows);
    fp_dir_entries_free(&ns);
    if (s != FP_OK)
        out->len = before;
    else if (out->len == before)
        s = fp_error_set(err, FP_ERR_FORMAT,
                         "%s: no usable run_<run_id>_freq_<MHz>_profile.csv found", dir);
    return s;
}

const fp_format_ops fp_format_aie_results = {
    .name = "aie-results",
    .aliases = {"ai-inference-energy-results", NULL},
    .description = "an ai-inference-energy results/ folder",
    .sniff_dir = results_sniff,
    .load = fp_aie_results_load,
};

const fp_format_ops fp_format_aie_job = {
    .name = "aie-job",
    .aliases = {"ai-inference-energy-job", NULL},
    .description = "an ai-inference-energy results_<gpu>_<app>_job_<id>/ folder",
    .sniff_dir = job_sniff,
    .load = fp_aie_job_load,
};
