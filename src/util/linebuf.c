/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/linebuf.h"
#include "util/input.h"

struct fp_linebuf {
    char *buf; /* cap + 1 + FP_LINEBUF_PAD bytes: the extra byte terminates an unterminated
                  last line; the padding (zeroed) lets scans load past the end of a line */
    size_t cap;
    size_t start;   /* first byte not yet returned */
    size_t scan;    /* bytes in [start, scan) are known to hold no '\n' */
    size_t end;     /* end of valid data */
    size_t nul_off; /* offset in buf of the first NUL byte seen, or SIZE_MAX */
    size_t max_line;
    int fd; /* -1 for memory input */
    const char *mem;
    size_t mem_len, mem_pos;
    int eof;
    int bom_done; /* the start of the data was checked for a byte-order mark */
    int unterminated;
    fp_status failed; /* sticky error */
    long lineno;
    unsigned long long consumed; /* bytes before buf[start] */
    fp_error saved;              /* the sticky error, re-reported on later calls */
    char *path;
};

static fp_status lb_alloc(fp_linebuf **out, const char *path, size_t chunk, size_t max_line,
                          fp_error *err)
{
    fp_linebuf *lb = calloc(1, sizeof *lb);
    if (!lb)
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
    if (chunk < 16)
        chunk = 16;
    if (max_line < chunk)
        max_line = chunk;
    lb->buf = calloc(1, chunk + 1 + FP_LINEBUF_PAD);
    lb->path = strdup(path);
    if (!lb->buf || !lb->path) {
        free(lb->buf);
        free(lb->path);
        free(lb);
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
    }
    lb->cap = chunk;
    lb->max_line = max_line;
    lb->nul_off = SIZE_MAX;
    lb->fd = -1;
    *out = lb;
    return FP_OK;
}

fp_status fp_linebuf_open(fp_linebuf **out, const char *path, fp_error *err)
{
    *out = NULL;
    int fd = fp_input_open(path, err); /* regular files only: a FIFO is refused, never read */
    if (fd < 0)
        return fd;
    fp_linebuf *lb;
    fp_status st = lb_alloc(&lb, path, FP_LINEBUF_CHUNK, FP_LINEBUF_MAX_LINE, err);
    if (st != FP_OK) {
        close(fd);
        return st;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    lb->fd = fd;
    *out = lb;
    return FP_OK;
}

fp_status fp_linebuf_open_mem_ex(fp_linebuf **out, const void *data, size_t len, const char *name,
                                 size_t chunk, size_t max_line, fp_error *err)
{
    *out = NULL;
    fp_linebuf *lb;
    fp_status st = lb_alloc(&lb, name ? name : "<memory>", chunk, max_line, err);
    if (st != FP_OK)
        return st;
    lb->mem = data;
    lb->mem_len = data ? len : 0;
    *out = lb;
    return FP_OK;
}

fp_status fp_linebuf_open_mem(fp_linebuf **out, const void *data, size_t len, const char *name,
                              fp_error *err)
{
    /* Small inputs get a small buffer: cheap for fuzzers, same code paths. */
    size_t chunk = len + 1 < FP_LINEBUF_CHUNK ? len + 1 : FP_LINEBUF_CHUNK;
    return fp_linebuf_open_mem_ex(out, data, len, name, chunk, FP_LINEBUF_MAX_LINE, err);
}

static int lb_fail(fp_linebuf *lb, fp_error *err)
{
    lb->saved.code = lb->failed;
    if (err)
        memcpy(err, &lb->saved, sizeof *err);
    return lb->failed;
}

/* Makes room after end (compacting, or growing for one long line) and reads more. */
static int lb_fill(fp_linebuf *lb, fp_error *err)
{
    if (lb->start > 0) {
        size_t n = lb->end - lb->start;
        memmove(lb->buf, lb->buf + lb->start, n);
        if (lb->nul_off != SIZE_MAX)
            lb->nul_off -= lb->start;
        lb->scan -= lb->start;
        lb->consumed += lb->start;
        lb->start = 0;
        lb->end = n;
    }
    if (lb->end == lb->cap) {
        if (lb->cap >= lb->max_line) {
            lb->failed =
                fp_error_at(&lb->saved, FP_ERR_PARSE, lb->path, lb->lineno + 1,
                            "line longer than %zu bytes (not a text table?)", lb->max_line);
            return lb_fail(lb, err);
        }
        size_t ncap = lb->cap * 2 < lb->max_line ? lb->cap * 2 : lb->max_line;
        char *nb = realloc(lb->buf, ncap + 1 + FP_LINEBUF_PAD);
        if (!nb) {
            lb->failed = fp_error_set(&lb->saved, FP_ERR_NOMEM, "%s: out of memory", lb->path);
            return lb_fail(lb, err);
        }
        memset(nb + lb->cap, 0, ncap - lb->cap + 1 + FP_LINEBUF_PAD);
        lb->buf = nb;
        lb->cap = ncap;
    }
    size_t room = lb->cap - lb->end;
    size_t got;
    if (lb->fd >= 0) {
        ssize_t r;
        do
            r = read(lb->fd, lb->buf + lb->end, room);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            lb->failed =
                fp_error_at(&lb->saved, FP_ERR_IO, lb->path, 0, "read failed: %s", strerror(errno));
            return lb_fail(lb, err);
        }
        got = (size_t)r;
    } else {
        got = lb->mem_len - lb->mem_pos;
        if (got > room)
            got = room;
        if (got)
            memcpy(lb->buf + lb->end, lb->mem + lb->mem_pos, got);
        lb->mem_pos += got;
    }
    if (got == 0) {
        lb->eof = 1;
        return 0;
    }
    if (!lb->bom_done) {
        /* A UTF-8 byte-order mark (spreadsheets write one) is not part of the first line. */
        lb->bom_done = 1;
        if (lb->consumed == 0 && lb->start == 0 && lb->end == 0 && fp_has_bom(lb->buf, got)) {
            lb->start = lb->scan = lb->end = FP_BOM_LEN;
            got -= FP_BOM_LEN;
        }
    }
    if (lb->nul_off == SIZE_MAX) {
        const char *z = memchr(lb->buf + lb->end, '\0', got);
        if (z)
            lb->nul_off = (size_t)(z - lb->buf);
    }
    lb->end += got;
    return 1;
}

int fp_linebuf_next(fp_linebuf *lb, char **line, size_t *len, fp_error *err)
{
    if (lb->failed)
        return lb_fail(lb, err);
    for (;;) {
        char *nl = lb->scan < lb->end ? memchr(lb->buf + lb->scan, '\n', lb->end - lb->scan) : NULL;
        size_t stop; /* offset of the terminator ('\n' or end of data) */
        if (nl) {
            stop = (size_t)(nl - lb->buf);
            lb->unterminated = 0;
        } else if (!lb->eof) {
            lb->scan = lb->end;
            int r = lb_fill(lb, err);
            if (r < 0)
                return r;
            continue;
        } else if (lb->start < lb->end) {
            stop = lb->end;
            lb->unterminated = 1;
        } else {
            return 0;
        }
        if (lb->nul_off != SIZE_MAX && lb->nul_off < stop) {
            lb->failed = fp_error_at(&lb->saved, FP_ERR_PARSE, lb->path, lb->lineno + 1,
                                     "NUL byte in data (corrupt or binary file)");
            return lb_fail(lb, err);
        }
        char *s = lb->buf + lb->start;
        size_t n = stop - lb->start;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        s[n] = '\0';
        lb->start = stop + (nl ? 1 : 0);
        lb->scan = lb->start;
        lb->lineno++;
        *line = s;
        *len = n;
        return 1;
    }
}

long fp_linebuf_lineno(const fp_linebuf *lb)
{
    return lb->lineno;
}

int fp_linebuf_last_unterminated(const fp_linebuf *lb)
{
    return lb->unterminated;
}

const char *fp_linebuf_path(const fp_linebuf *lb)
{
    return lb->path;
}

unsigned long long fp_linebuf_offset(const fp_linebuf *lb)
{
    return lb->consumed + lb->start;
}

fp_status fp_linebuf_rewind(fp_linebuf *lb, fp_error *err)
{
    if (lb->fd >= 0 && lseek(lb->fd, 0, SEEK_SET) < 0)
        return fp_error_at(err, FP_ERR_IO, lb->path, 0, "cannot rewind: %s", strerror(errno));
    lb->mem_pos = 0;
    lb->start = lb->scan = lb->end = 0;
    lb->nul_off = SIZE_MAX;
    lb->eof = 0;
    lb->bom_done = 0;
    lb->unterminated = 0;
    lb->failed = FP_OK;
    lb->lineno = 0;
    lb->consumed = 0;
    return FP_OK;
}

void fp_linebuf_close(fp_linebuf *lb)
{
    if (!lb)
        return;
    if (lb->fd >= 0)
        close(lb->fd);
    free(lb->buf);
    free(lb->path);
    free(lb);
}
