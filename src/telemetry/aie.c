/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The two layouts of the ai-inference-energy scripts (DESIGN.md §5):
 *
 *   results/<ARCH>-<mode>-<APP>-<freq>-<iter>    one profile per run (dcgmi or nvidia-smi)
 *   results/<ARCH>-<mode>-<app>-perf.csv         `<freq>,<seconds>` per iteration
 *
 *   results_<gpu>_<app>_job_<id>/run_<n>_<rep>_freq_<MHz>_profile.csv
 *   results_<gpu>_<app>_job_<id>/timing_summary.log
 *       run_id,frequency_mhz,duration_seconds,exit_code,status
 *
 * The timings give each run's length but not its position in the profile:
 * the window is that length ending at the last active sample (model loading
 * comes first; docs/method-windows.md).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "telemetry/csvcore.h"
#include "telemetry/layouts.h"
#include "telemetry/linebuf.h"

#define PERF_MAX_ITERS 1024

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

int fp_aie_parse_job_profile(const char *name, long *run_no, int *rep, double *freq_mhz)
{
    long n;
    int r, consumed = 0;
    double f;
    char tail[32];
    /* run_<n>_<rep>_freq_<MHz>_profile.csv */
    if (strncmp(name, "run_", 4) != 0)
        return 0;
    if (sscanf(name, "run_%ld_%d_freq_%lf_%31[a-z.]%n", &n, &r, &f, tail, &consumed) != 4)
        return 0;
    if (strcmp(tail, "profile.csv") != 0 || name[consumed] != '\0' || n < 0 || r < 0 || f <= 0)
        return 0;
    *run_no = n;
    *rep = r;
    *freq_mhz = f;
    return 1;
}

/* ---- directory listing ---- */

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    ns->v = NULL;
    ns->n = ns->cap = 0;
}

static fp_status list_dir(const char *dir, names *ns, fp_error *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    memset(ns, 0, sizeof *ns);
    if (!d)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (ns->n == ns->cap) {
            size_t cap = ns->cap ? ns->cap * 2 : 32;
            char **v = realloc(ns->v, cap * sizeof *v);
            if (!v)
                goto nomem;
            ns->v = v;
            ns->cap = cap;
        }
        if (!(ns->v[ns->n] = strdup(de->d_name)))
            goto nomem;
        ns->n++;
    }
    closedir(d);
    if (ns->n)
        qsort(ns->v, ns->n, sizeof *ns->v, cmp_str);
    return FP_OK;
nomem:
    closedir(d);
    names_free(ns);
    return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", dir);
}

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

fp_format fp_aie_classify_dir(const char *dir)
{
    names ns;
    char base[256], g[64], a[64], arch[32], mode[32], app[64];
    long id;
    int profiles = 0, perfs = 0, job_profiles = 0, timing = 0;
    fp_format f = FP_FMT_AUTO;
    if (list_dir(dir, &ns, NULL) != FP_OK)
        return FP_FMT_AUTO;
    for (size_t i = 0; i < ns.n; i++) {
        fp_aie_name an;
        long rn;
        int rep;
        double mhz;
        if (fp_aie_parse_profile_name(ns.v[i], &an))
            profiles++;
        else if (fp_aie_parse_perf_name(ns.v[i], arch, sizeof arch, mode, sizeof mode, app,
                                        sizeof app))
            perfs++;
        else if (fp_aie_parse_job_profile(ns.v[i], &rn, &rep, &mhz))
            job_profiles++;
        else if (strcmp(ns.v[i], "timing_summary.log") == 0)
            timing++;
    }
    names_free(&ns);
    base_of(dir, base, sizeof base);
    if ((job_profiles || timing) && fp_aie_parse_job_dir(base, g, sizeof g, a, sizeof a, &id))
        f = FP_FMT_AIE_JOB;
    else if (profiles && perfs)
        f = FP_FMT_AIE_RESULTS;
    return f;
}

/* ---- perf.csv and timing_summary.log ---- */

static fp_status perf_parse(fp_linebuf *lb, const char *name, double *seconds, size_t max,
                            size_t *n, fp_error *err)
{
    char *line, *f[4];
    size_t len, l[4];
    int r;
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
        if (fp_parse_num(f[0], l[0], &freq) != 0 || fp_parse_num(f[1], l[1], &sec) != 0 ||
            !(sec >= 0) || isinf(sec))
            return fp_error_at(err, FP_ERR_PARSE, name, ln,
                               "expected '<freq_mhz>,<seconds>' with numbers, found '%.40s,%.40s'",
                               f[0], f[1]);
        if (*n >= max)
            return fp_error_at(err, FP_ERR_PARSE, name, ln, "more than %zu iterations", max);
        seconds[(*n)++] = sec;
    }
    return r < 0 ? (fp_status)r : FP_OK;
}

fp_status fp_perf_csv_parse_mem(const void *data, size_t len, const char *name, double *seconds,
                                size_t max, size_t *n, fp_error *err)
{
    fp_linebuf *lb;
    fp_status s = fp_linebuf_open_mem(&lb, data, len, name, err);
    if (s != FP_OK)
        return s;
    s = perf_parse(lb, name, seconds, max, n, err);
    fp_linebuf_close(lb);
    return s;
}

static fp_status perf_parse_file(const char *path, double *seconds, size_t max, size_t *n,
                                 fp_error *err)
{
    fp_linebuf *lb;
    fp_status s = fp_linebuf_open(&lb, path, err);
    if (s != FP_OK)
        return s;
    s = perf_parse(lb, path, seconds, max, n, err);
    fp_linebuf_close(lb);
    return s;
}

static const char *const ts_cols[] = {"run_id", "frequency_mhz", "duration_seconds", "exit_code",
                                      "status"};

static fp_status timing_parse(fp_linebuf *lb, const char *name, fp_timing_row **rows_out,
                              size_t *n_out, fp_error *err)
{
    char *line, *f[16];
    size_t len, l[16];
    int r, idx[5], have_header = 0, ncols = 0;
    fp_timing_row *rows = NULL;
    size_t n = 0, cap = 0;
    fp_status s = FP_OK;

    while ((r = fp_linebuf_next(lb, &line, &len, err)) == 1) {
        long ln = fp_linebuf_lineno(lb);
        size_t i = 0;
        while (i < len && isspace((unsigned char)line[i]))
            i++;
        if (i == len || line[i] == '#')
            continue;
        if (fp_linebuf_last_unterminated(lb)) {
            s = fp_error_at(err, FP_ERR_PARSE, name, ln,
                            "truncated last line (no newline at the end of the file)");
            break;
        }
        int k = fp_csv_split(line, len, ',', f, l, 16);
        if (!have_header) {
            if (k < 0) {
                s = fp_error_at(err, FP_ERR_PARSE, name, ln, "too many columns in the header");
                break;
            }
            for (int c = 0; c < 5; c++) {
                idx[c] = -1;
                for (int j = 0; j < k; j++)
                    if (strlen(ts_cols[c]) == l[j] && strcasecmp(f[j], ts_cols[c]) == 0)
                        idx[c] = j;
            }
            if (idx[0] < 0 || idx[2] < 0) {
                s = fp_error_at(err, FP_ERR_PARSE, name, ln,
                                "expected the header run_id,frequency_mhz,duration_seconds,"
                                "exit_code,status");
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
        double v[4] = {NAN, NAN, NAN, NAN};
        memset(&row, 0, sizeof row);
        for (int c = 0; c < 4; c++) {
            if (idx[c] < 0)
                continue;
            int pr = fp_parse_num(f[idx[c]], l[idx[c]], &v[c]);
            if (pr < 0 || (pr == 1 && c == 0) || isinf(v[c])) {
                s = fp_error_at(err, FP_ERR_PARSE, name, ln,
                                "column %s: expected a number, found '%.40s'", ts_cols[c],
                                f[idx[c]]);
                break;
            }
        }
        if (s != FP_OK)
            break;
        if (v[0] < 0 || v[0] > 1e12 || (!isnan(v[2]) && v[2] < 0)) {
            s = fp_error_at(err, FP_ERR_PARSE, name, ln,
                            "expected run_id >= 0 and duration_seconds >= 0");
            break;
        }
        row.run_id = (long)v[0];
        row.freq_mhz = v[1];
        row.duration_s = v[2];
        row.exit_code = isnan(v[3]) ? 0 : (fabs(v[3]) < 1e9 ? (long)v[3] : 1);
        if (idx[4] >= 0)
            copy_n(row.status, sizeof row.status, f[idx[4]],
                   l[idx[4]] < sizeof row.status ? l[idx[4]] : sizeof row.status - 1);
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            fp_timing_row *nr = realloc(rows, ncap * sizeof *nr);
            if (!nr) {
                s = fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", name);
                break;
            }
            rows = nr;
            cap = ncap;
        }
        rows[n++] = row;
    }
    if (r < 0)
        s = (fp_status)r;
    if (s == FP_OK && !have_header)
        s = fp_error_at(err, FP_ERR_PARSE, name, 0,
                        "empty file: expected the header run_id,frequency_mhz,duration_seconds,"
                        "exit_code,status");
    if (s != FP_OK) {
        free(rows);
        rows = NULL;
        n = 0;
    }
    *rows_out = rows;
    *n_out = n;
    return s;
}

fp_status fp_timing_summary_parse_mem(const void *data, size_t len, const char *name,
                                      fp_timing_row **rows, size_t *n, fp_error *err)
{
    fp_linebuf *lb;
    fp_status s;
    *rows = NULL;
    *n = 0;
    if ((s = fp_linebuf_open_mem(&lb, data, len, name, err)) != FP_OK)
        return s;
    s = timing_parse(lb, name, rows, n, err);
    fp_linebuf_close(lb);
    return s;
}

fp_status fp_timing_summary_parse(const char *path, fp_timing_row **rows, size_t *n, fp_error *err)
{
    fp_linebuf *lb;
    fp_status s;
    *rows = NULL;
    *n = 0;
    if ((s = fp_linebuf_open(&lb, path, err)) != FP_OK)
        return s;
    s = timing_parse(lb, path, rows, n, err);
    fp_linebuf_close(lb);
    return s;
}

/* ---- loaders ---- */

/* "StableDiffusion" and "stable-diffusion" name the same app. */
/*
 * Heterogeneity (docs/cluster.md): the GPU named in the first rows of a profile ("NVIDIA ..."
 * in the name column) when it is not the job's GPU; "" otherwise. Read directly, so even a
 * file the reader rejects later (a corrupt tail) is named for what it is.
 */
static void other_gpu(const char *path, const char *job_gpu, char *out, size_t size)
{
    char buf[8192], name[128], short_name[64];
    out[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
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

typedef struct perf_entry {
    char arch[32], mode[32], key[64];
    double seconds[PERF_MAX_ITERS];
    size_t n;
} perf_entry;

fp_status fp_aie_results_load(const char *dir, const fp_load_options *opt, fp_run_list *out,
                              fp_error *err)
{
    names ns;
    perf_entry *perfs = NULL;
    size_t n_perf = 0;
    fp_status s;
    const fp_diag *diag = opt ? opt->diag : NULL;
    size_t before = out->len;

    if ((s = list_dir(dir, &ns, err)) != FP_OK)
        return s;
    perfs = calloc(ns.n ? ns.n : 1, sizeof *perfs);
    if (!perfs) {
        names_free(&ns);
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", dir);
    }
    for (size_t i = 0; i < ns.n; i++) {
        char app[64], path[4096];
        perf_entry *p = &perfs[n_perf];
        fp_error e;
        if (!fp_aie_parse_perf_name(ns.v[i], p->arch, sizeof p->arch, p->mode, sizeof p->mode, app,
                                    sizeof app))
            continue;
        app_key(app, p->key, sizeof p->key);
        snprintf(path, sizeof path, "%s/%s", dir, ns.v[i]);
        if (perf_parse_file(path, p->seconds, PERF_MAX_ITERS, &p->n, &e) != FP_OK) {
            fp_warn(diag, "%s (runs of %s-%s-%s get no timing)", e.msg, p->arch, p->mode, app);
            p->n = 0;
        }
        n_perf++;
    }
    for (size_t i = 0; i < ns.n; i++) {
        fp_aie_name an;
        char key[64], path[4096];
        double duration = NAN;
        fp_run run;
        fp_metrics_options m;
        fp_error e;
        if (!fp_aie_parse_profile_name(ns.v[i], &an))
            continue;
        app_key(an.app, key, sizeof key);
        int found = 0;
        for (size_t k = 0; k < n_perf; k++) {
            if (strcmp(perfs[k].arch, an.arch) == 0 && strcmp(perfs[k].mode, an.mode) == 0 &&
                strcmp(perfs[k].key, key) == 0) {
                found = 1;
                if ((size_t)an.iter < perfs[k].n)
                    duration = perfs[k].seconds[an.iter];
            }
        }
        snprintf(path, sizeof path, "%s/%s", dir, ns.v[i]);
        if (isnan(duration))
            fp_warn(diag, "%s: no timing for iteration %d in %s; window from the detector", path,
                    an.iter, found ? "its perf.csv" : "a perf.csv (none found)");
        fp_run_init(&run);
        snprintf(run.gpu, sizeof run.gpu, "%s", an.gpu);
        app_key(an.app, run.app, sizeof run.app);
        run.freq_mhz = an.freq_mhz;
        run.repetition = an.iter + 1;
        fp_run_set_source(&run, path, 0);
        metrics_opts(opt, an.freq_mhz, duration, &m);
        fp_error_clear(&e);
        {
            char other[128];
            other_gpu(path, an.gpu, other, sizeof other);
            if (other[0]) {
                /* Name every reason: a mixed-up file is often corrupt as well. */
                fp_run probe = run;
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
        if (fp_run_from_telemetry(path, FP_FMT_AUTO, &m, opt, &run, &e) != FP_OK) {
            fp_warn(diag, "skipped %s", e.msg);
            continue;
        }
        if ((s = fp_run_list_push(out, &run, err)) != FP_OK)
            break;
    }
    free(perfs);
    names_free(&ns);
    if (s == FP_OK && out->len == before)
        s = fp_error_set(err, FP_ERR_FORMAT,
                         "%s: no usable <ARCH>-<mode>-<APP>-<freq>-<iter> "
                         "profile found",
                         dir);
    return s;
}

fp_status fp_aie_job_load(const char *dir, const fp_load_options *opt, fp_run_list *out,
                          fp_error *err)
{
    names ns;
    char base[256], gpu[64], app[64], path[4096];
    long job_id;
    fp_timing_row *rows = NULL;
    size_t n_rows = 0;
    fp_status s;
    const fp_diag *diag = opt ? opt->diag : NULL;
    size_t before = out->len;

    base_of(dir, base, sizeof base);
    if (!fp_aie_parse_job_dir(base, gpu, sizeof gpu, app, sizeof app, &job_id))
        return fp_error_set(err, FP_ERR_FORMAT,
                            "%s: expected a folder named results_<gpu>_<app>_job_<id>", dir);
    snprintf(path, sizeof path, "%s/timing_summary.log", dir);
    if (access(path, F_OK) == 0) {
        if ((s = fp_timing_summary_parse(path, &rows, &n_rows, err)) != FP_OK)
            return s;
    } else {
        fp_warn(diag, "%s: no timing_summary.log; windows from the detector", dir);
    }
    if ((s = list_dir(dir, &ns, err)) != FP_OK) {
        free(rows);
        return s;
    }
    for (size_t i = 0; i < ns.n; i++) {
        long run_no;
        int rep;
        double mhz, duration = NAN;
        const fp_timing_row *row = NULL;
        fp_run run;
        fp_metrics_options m;
        fp_error e;
        if (!fp_aie_parse_job_profile(ns.v[i], &run_no, &rep, &mhz))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, ns.v[i]);
        for (size_t k = 0; k < n_rows; k++)
            if (rows[k].run_id == run_no)
                row = &rows[k];
        fp_run_init(&run);
        snprintf(run.gpu, sizeof run.gpu, "%s", gpu);
        snprintf(run.app, sizeof run.app, "%s", app);
        run.freq_mhz = mhz;
        run.run_index = run_no;
        run.repetition = rep;
        fp_run_set_source(&run, path, 0);
        if (row) {
            duration = row->duration_s;
            if (!isnan(row->freq_mhz) && fabs(row->freq_mhz - mhz) > 0.5)
                fp_warn(diag,
                        "%s: timing_summary.log says %g MHz for run %ld, the file name %g MHz",
                        path, row->freq_mhz, run_no, mhz);
            if (row->exit_code != 0 || (row->status[0] && strcasecmp(row->status, "success") != 0))
                run.flags |= FP_FLAG_FAILED;
        } else if (n_rows) {
            fp_warn(diag, "%s: run %ld is not in timing_summary.log; window from the detector",
                    path, run_no);
        }
        metrics_opts(opt, mhz, duration, &m);
        fp_error_clear(&e);
        if (fp_run_from_telemetry(path, FP_FMT_AUTO, &m, opt, &run, &e) != FP_OK) {
            fp_warn(diag, "skipped %s", e.msg);
            continue;
        }
        if ((s = fp_run_list_push(out, &run, err)) != FP_OK)
            break;
    }
    free(rows);
    names_free(&ns);
    if (s == FP_OK && out->len == before)
        s = fp_error_set(err, FP_ERR_FORMAT,
                         "%s: no usable run_<n>_<rep>_freq_<MHz>_profile.csv found", dir);
    return s;
}
