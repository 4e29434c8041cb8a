/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The input format registry and detection by content (format.h). A format is added by one
 * file that defines its fp_format_ops and one line in formats.def (docs/extending.md).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/csvcore.h"
#include "telemetry/detect_file.h"
#include "telemetry/format.h"
#include "util/linebuf.h"
#include "util/input.h"

#define FP_FORMAT(n) extern const fp_format_ops fp_format_##n;
#include "telemetry/formats.def"
#undef FP_FORMAT

/* The registry: a format's position is its fp_format value (0 is FP_FMT_AUTO). */
static const fp_format_ops *const registry[] = {
    NULL, /* FP_FMT_AUTO */
#define FP_FORMAT(n) &fp_format_##n,
#include "telemetry/formats.def"
#undef FP_FORMAT
};
#define NFORMATS ((int)(sizeof registry / sizeof *registry))
_Static_assert(NFORMATS >= FP_FMT_COUNT, "every fp_format constant has a registry entry");

const fp_format_ops *fp_format_get(fp_format f)
{
    return (int)f > 0 && (int)f < NFORMATS ? registry[f] : NULL;
}

int fp_format_count(void)
{
    return NFORMATS;
}

const char *fp_format_name(fp_format f)
{
    if (f == FP_FMT_AUTO)
        return "auto";
    const fp_format_ops *ops = fp_format_get(f);
    return ops ? ops->name : "?";
}

int fp_format_from_name(const char *name)
{
    if (!name)
        return -1;
    if (strcasecmp(name, "auto") == 0)
        return FP_FMT_AUTO;
    for (int i = 1; i < NFORMATS; i++) {
        if (strcasecmp(name, registry[i]->name) == 0)
            return i;
        for (int k = 0; k < 4 && registry[i]->aliases[k]; k++)
            if (strcasecmp(name, registry[i]->aliases[k]) == 0)
                return i;
    }
    return -1;
}

/* ---- folders ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void fp_dir_entries_free(fp_dir_entries *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->name[i]);
    free(d->name);
    d->name = NULL;
    d->n = 0;
}

fp_status fp_dir_list(const char *dir, fp_dir_entries *out, fp_error *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t cap = 0;
    memset(out, 0, sizeof *out);
    out->dir = dir;
    if (!d)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **v = realloc(out->name, ncap * sizeof *v);
            if (!v)
                goto nomem;
            out->name = v;
            cap = ncap;
        }
        if (!(out->name[out->n] = strdup(de->d_name)))
            goto nomem;
        out->n++;
    }
    closedir(d);
    /* Sorted, so that what is read does not depend on the file system's order. */
    if (out->n)
        qsort(out->name, out->n, sizeof *out->name, cmp_str);
    return FP_OK;
nomem:
    closedir(d);
    fp_dir_entries_free(out);
    return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", dir);
}

fp_format fp_sniff_dir(const char *dir)
{
    fp_dir_entries d;
    if (fp_dir_list(dir, &d, NULL) != FP_OK)
        return FP_FMT_AUTO;
    int best = FP_SNIFF_NO;
    fp_format f = FP_FMT_AUTO;
    for (int i = 1; i < NFORMATS; i++) {
        if (!registry[i]->sniff_dir)
            continue;
        int score = registry[i]->sniff_dir(&d);
        if (score > best) {
            best = score;
            f = (fp_format)i;
        }
    }
    fp_dir_entries_free(&d);
    return f;
}

/* ---- files ---- */

static int field_is(const char *f, size_t len, const char *name)
{
    size_t n = strlen(name);
    /* "power.draw [W]" matches "power.draw". */
    return len >= n && memcmp(f, name, n) == 0 && (len == n || f[n] == ' ' || f[n] == '[');
}

int fp_sniff_has(const fp_sniff *s, const char *name)
{
    for (int i = 0; i < s->nfields; i++)
        if (field_is(s->field[i], s->flen[i], name))
            return 1;
    return 0;
}

int fp_sniff_has_ci(const fp_sniff *s, const char *const *names)
{
    for (int i = 0; i < s->nfields; i++)
        for (const char *const *nm = names; *nm; nm++)
            if (strlen(*nm) == s->flen[i] && strncasecmp(s->field[i], *nm, s->flen[i]) == 0)
                return 1;
    return 0;
}

/* The formats that read files, for the message when none fits. */
static void file_formats(char *buf, size_t size)
{
    size_t off = 0;
    int k = 0, n = 0;
    buf[0] = '\0';
    for (int i = 1; i < NFORMATS; i++)
        n += registry[i]->sniff_file != NULL;
    for (int i = 1; i < NFORMATS && off < size; i++) {
        if (!registry[i]->sniff_file)
            continue;
        k++;
        int w = snprintf(buf + off, size - off, "%s%s",
                         k == 1   ? ""
                         : k == n ? " or "
                                  : ", ",
                         registry[i]->description);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

fp_status fp_detect_buffer_format(const void *data, size_t len, const char *name, fp_format *out,
                                  fp_error *err)
{
    fp_linebuf *lb;
    fp_status st = fp_linebuf_open_mem(&lb, data, len, name, err);
    if (st != FP_OK)
        return st;
    /* The first non-blank lines, copied (the line buffer is reused). */
    fp_sniff *s = calloc(1, sizeof *s);
    char *copy = malloc(len + FP_SNIFF_LINES + 1), *w = copy;
    if (!s || !copy) {
        free(s);
        free(copy);
        fp_linebuf_close(lb);
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", name);
    }
    s->name = name;
    char *line;
    size_t n;
    int r = 0;
    fp_error lerr;
    while (s->n < FP_SNIFF_LINES && (r = fp_linebuf_next(lb, &line, &n, &lerr)) == 1) {
        size_t i = 0;
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == n)
            continue;
        memcpy(w, line, n + 1);
        s->line[s->n] = w;
        s->len[s->n] = n;
        s->lineno[s->n++] = fp_linebuf_lineno(lb);
        w += n + 1;
    }
    fp_linebuf_close(lb);
    /* A read error after some lines is the reader's to report, at its line. */
    if (s->n == 0 && r < 0) {
        if (err)
            *err = lerr;
        free(s);
        free(copy);
        return (fp_status)r;
    }
    if (s->n == 0) {
        free(s);
        free(copy);
        return fp_error_at(err, FP_ERR_PARSE, name, 0, "empty file: no header and no data");
    }
    s->first = s->n;
    for (int i = 0; i < s->n; i++) {
        const char *p = s->line[i];
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '#') {
            s->first = i;
            break;
        }
        s->comments++;
    }
    s->nfields = -1;
    char *split = NULL;
    if (s->first < s->n && (split = strdup(s->line[s->first])) != NULL)
        s->nfields = fp_csv_split(split, s->len[s->first], ',', s->field, s->flen, FP_SNIFF_FIELDS);
    int best = FP_SNIFF_NO;
    *out = FP_FMT_AUTO;
    for (int i = 1; i < NFORMATS; i++) {
        if (!registry[i]->sniff_file)
            continue;
        int score = registry[i]->sniff_file(s);
        if (score > best) {
            best = score;
            *out = (fp_format)i;
        }
    }
    long first_line = s->lineno[0];
    free(split);
    free(s);
    free(copy);
    if (best > FP_SNIFF_NO)
        return FP_OK;
    char what[512];
    file_formats(what, sizeof what);
    return fp_error_at(err, FP_ERR_FORMAT, name, first_line, "unknown layout: expected %s", what);
}

/* Enough for the first lines of any supported layout, however wide. */
#define SNIFF_BYTES (64u * 1024)

fp_status fp_detect_file_format(const char *path, fp_format *out, fp_error *err)
{
    int fd = fp_input_open(path, err);
    if (fd < 0)
        return fd;
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

fp_status fp_detect_format(const char *path, fp_format *out, fp_error *err)
{
    struct stat sb;
    if (!path || !out)
        return fp_error_set(err, FP_ERR_INVALID, "fp_detect_format: no path");
    if (stat(path, &sb) != 0)
        return fp_error_set(err, FP_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return fp_detect_file_format(path, out, err);
    fp_format f = fp_sniff_dir(path);
    if (f != FP_FMT_AUTO) {
        *out = f;
        return FP_OK;
    }
    return fp_error_set(err, FP_ERR_FORMAT,
                        "%s: unknown folder layout (expected a DATASET/ with manifest.json, an "
                        "ai-inference-energy results folder with <ARCH>-<mode>-<APP>-<freq>-<iter> "
                        "profiles and <ARCH>-<mode>-<app>-perf.csv, or a "
                        "results_<gpu>_<app>_job_<id> folder with run_<id>_freq_<MHz>_"
                        "profile.csv and timing_summary.log)",
                        path);
}
