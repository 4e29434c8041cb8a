/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "telemetry/csvcore.h"
#include "telemetry/detect_file.h"
#include "telemetry/linebuf.h"
#include "telemetry/ts_internal.h"

/* Enough for the first lines of any supported layout, however wide. */
#define SNIFF_BYTES (64u * 1024)
#define SNIFF_FIELDS 256

static int field_is(const char *f, size_t len, const char *name)
{
    size_t n = strlen(name);
    /* "power.draw [W]" matches "power.draw". */
    return len >= n && memcmp(f, name, n) == 0 && (len == n || f[n] == ' ' || f[n] == '[');
}

static int has_field(char **f, size_t *l, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (field_is(f[i], l[i], name))
            return 1;
    return 0;
}

static int has_prefix_field(char **f, size_t *l, int n, const char *prefix)
{
    size_t k = strlen(prefix);
    for (int i = 0; i < n; i++)
        if (l[i] >= k && memcmp(f[i], prefix, k) == 0)
            return 1;
    return 0;
}

/* A per-run table column name: exact, case-insensitive (as runtable.c matches them). */
static int has_rt_field(char **f, size_t *l, int n, const char *const *names)
{
    for (int i = 0; i < n; i++)
        for (const char *const *nm = names; *nm; nm++)
            if (strlen(*nm) == l[i] && strncasecmp(f[i], *nm, l[i]) == 0)
                return 1;
    return 0;
}

/* The required columns of a per-run table and their aliases (runtable.c's names). */
static const char *const rt_freq[] = {"freq_mhz", "frequency_mhz", "frequency", NULL};
static const char *const rt_time[] = {"time_s", "duration_seconds", NULL};
static const char *const rt_energy[] = {"energy_j", "avg_power_w", "power_w", NULL};

static int is_run_table(char **f, size_t *l, int n)
{
    return has_rt_field(f, l, n, rt_freq) && has_rt_field(f, l, n, rt_time) &&
           has_rt_field(f, l, n, rt_energy);
}

/* 1: *out set; 0: not recognised; 2: a '#' comment line (not a dcgmi header). */
static int classify(char *line, size_t len, fp_format *out)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '#') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "Entity", 6) == 0) {
            *out = FP_FMT_DCGMI;
            return 1;
        }
        return 2;
    }
    char *f[SNIFF_FIELDS];
    size_t l[SNIFF_FIELDS];
    int n = fp_csv_split(line, len, ',', f, l, SNIFF_FIELDS);
    if (n <= 0)
        return 0;
    int64_t sec;
    double frac;
    if (fp_smi_parse_time(f[0], l[0], &sec, &frac) == 0 && n >= 2) {
        *out = FP_FMT_SMI_CSV; /* noheader rows */
        return 1;
    }
    if (field_is(f[0], l[0], "t_s") ||
        (has_field(f, l, n, "t_s") && has_field(f, l, n, "power_w"))) {
        *out = FP_FMT_TELEMETRY;
        return 1;
    }
    if (is_run_table(f, l, n)) {
        *out = FP_FMT_RUN_TABLE;
        return 1;
    }
    if (has_prefix_field(f, l, n, "power.draw") || has_field(f, l, n, "timestamp") ||
        has_field(f, l, n, "utilization.gpu")) {
        *out = FP_FMT_SMI_CSV;
        return 1;
    }
    return 0;
}

fp_status fp_detect_buffer_format(const void *data, size_t len, const char *name, fp_format *out,
                                  fp_error *err)
{
    fp_linebuf *lb;
    fp_status st = fp_linebuf_open_mem(&lb, data, len, name, err);
    if (st != FP_OK)
        return st;
    char *line;
    size_t n;
    int r;
    long first = 0;
    int comments = 0;
    while ((r = fp_linebuf_next(lb, &line, &n, err)) == 1) {
        size_t i = 0;
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == n)
            continue;
        if (!first)
            first = fp_linebuf_lineno(lb);
        int c = classify(line, n, out);
        if (c == 2) {
            /* '#' comments: only the per-run table parser skips them, so only a per-run
             * table may follow (anything else is reported at the first line). */
            comments = 1;
            continue;
        }
        if (c == 1 && (!comments || *out == FP_FMT_RUN_TABLE)) {
            fp_linebuf_close(lb);
            return FP_OK;
        }
        break;
    }
    fp_linebuf_close(lb);
    if (r < 0)
        return r;
    if (first == 0)
        return fp_error_at(err, FP_ERR_PARSE, name, 0, "empty file: no header and no data");
    return fp_error_at(err, FP_ERR_FORMAT, name, first,
                       "unknown layout: expected an nvidia-smi CSV, a dcgmi dmon table, a "
                       "freqpilot telemetry.csv or a per-run table");
}

fp_status fp_detect_file_format(const char *path, fp_format *out, fp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = malloc(SNIFF_BYTES);
    if (!buf) {
        close(fd);
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = 0;
    while (got < SNIFF_BYTES) {
        ssize_t r = read(fd, buf + got, SNIFF_BYTES - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fp_error_set(err, FP_ERR_IO, "%s: read failed: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    fp_status st = fp_detect_buffer_format(buf, got, path, out, err);
    free(buf);
    return st;
}
