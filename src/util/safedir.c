/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Trusted folders and the files in them (safedir.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/safedir.h"

static fp_status mkdir_p(const char *dir, fp_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return fp_error_set(err, FP_ERR_INVALID, "%s: path too long", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST)
            return fp_error_set(err, FP_ERR_IO, "%s: cannot create folder: %s", tmp,
                                strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) && errno != EEXIST)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot create folder: %s", tmp, strerror(errno));
    return FP_OK;
}

fp_status fp_safedir_open(const char *path, int create, const char *what, int *fd, int *missing,
                          fp_error *err)
{
    *fd = -1;
    if (missing)
        *missing = 0;
    if (!path || !*path)
        return fp_error_set(err, FP_ERR_INVALID, "%s: no path", what);
    if (create) {
        fp_status st = mkdir_p(path, err);
        if (st)
            return st;
    }
    int d = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0) {
        int e = errno;
        if (e == ENOENT && missing)
            *missing = 1;
        if (e == ELOOP || e == ENOTDIR)
            return fp_error_set(err, FP_ERR_INVALID,
                                "%s %s: not a folder (a symbolic link or a file); refusing it",
                                what, path);
        return fp_error_set(err, FP_ERR_IO, "%s %s: %s", what, path, strerror(e));
    }
    struct stat st;
    if (fstat(d, &st)) {
        int e = errno;
        close(d);
        return fp_error_set(err, FP_ERR_IO, "%s %s: %s", what, path, strerror(e));
    }
    if (st.st_uid != geteuid()) {
        close(d);
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s %s is owned by uid %ld, not by uid %ld that freqpilot runs as: "
                            "refusing to trust it (use a folder of your own)",
                            what, path, (long)st.st_uid, (long)geteuid());
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        close(d);
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s %s is writable by %s (mode %04o): refusing to trust it (chmod "
                            "go-w %s)",
                            what, path, st.st_mode & S_IWOTH ? "others" : "its group",
                            (unsigned)(st.st_mode & 07777), path);
    }
    *fd = d;
    return FP_OK;
}

static fp_status check_file(int fd, const char *dirpath, const char *name, fp_error *err)
{
    struct stat st;
    if (fstat(fd, &st))
        return fp_error_set(err, FP_ERR_IO, "%s/%s: %s", dirpath, name, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fp_error_set(err, FP_ERR_INVALID, "%s/%s: not a regular file; refusing it", dirpath,
                            name);
    if (st.st_uid != geteuid())
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s/%s is owned by uid %ld, not by uid %ld that freqpilot runs as: "
                            "refusing it",
                            dirpath, name, (long)st.st_uid, (long)geteuid());
    if (st.st_nlink != 1)
        return fp_error_set(err, FP_ERR_INVALID, "%s/%s has %lu hard links: refusing it", dirpath,
                            name, (unsigned long)st.st_nlink);
    return FP_OK;
}

fp_status fp_safedir_open_file(int dirfd, const char *dirpath, const char *name, int flags,
                               mode_t mode, int *fd, int *missing, fp_error *err)
{
    *fd = -1;
    if (missing)
        *missing = 0;
    if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return fp_error_set(err, FP_ERR_INVALID, "%s: bad file name '%s'", dirpath, name);
    /* O_NONBLOCK: a FIFO planted under the name must not block the open. */
    int f = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
    if (f < 0) {
        int e = errno;
        if (e == ENOENT && missing)
            *missing = 1;
        if (e == ELOOP)
            return fp_error_set(err, FP_ERR_INVALID, "%s/%s: a symbolic link; refusing it", dirpath,
                                name);
        return fp_error_set(err, FP_ERR_IO, "%s/%s: %s", dirpath, name, strerror(e));
    }
    fp_status st = check_file(f, dirpath, name, err);
    if (st) {
        close(f);
        return st;
    }
    int fl = fcntl(f, F_GETFL);
    if (fl >= 0)
        fcntl(f, F_SETFL, fl & ~O_NONBLOCK);
    *fd = f;
    return FP_OK;
}

fp_status fp_safedir_read(int dirfd, const char *dirpath, const char *name, size_t max, char **text,
                          size_t *len, int *missing, fp_error *err)
{
    *text = NULL;
    *len = 0;
    int fd;
    fp_status st = fp_safedir_open_file(dirfd, dirpath, name, O_RDONLY, 0, &fd, missing, err);
    if (st)
        return st;
    char *buf = malloc(max + 1);
    if (!buf) {
        close(fd);
        return fp_error_set(err, FP_ERR_NOMEM, "%s/%s: out of memory", dirpath, name);
    }
    size_t n = 0;
    for (;;) {
        if (n > max) {
            free(buf);
            close(fd);
            return fp_error_set(err, FP_ERR_PARSE, "%s/%s: larger than %zu bytes", dirpath, name,
                                max);
        }
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fp_error_set(err, FP_ERR_IO, "%s/%s: %s", dirpath, name, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *text = buf;
    *len = n;
    return FP_OK;
}

fp_status fp_safedir_write(int dirfd, const char *dirpath, const char *name, const char *text,
                           size_t len, mode_t mode, fp_error *err)
{
    char tmp[512];
    int fd = -1;
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    for (int i = 0; i < 100 && fd < 0; i++) {
        unsigned salt = (unsigned)ts.tv_nsec ^ (++counter * 2654435761u);
        if (snprintf(tmp, sizeof tmp, ".%s.tmp.%ld.%08x", name, (long)getpid(), salt) >=
            (int)sizeof tmp)
            return fp_error_set(err, FP_ERR_INVALID, "%s/%s: name too long", dirpath, name);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
            return fp_error_set(err, FP_ERR_IO, "%s/%s: cannot create: %s", dirpath, tmp,
                                strerror(errno));
    }
    if (fd < 0)
        return fp_error_set(err, FP_ERR_IO, "%s: no free temporary name for %s", dirpath, name);
    (void)fchmod(fd, mode); /* whatever the umask */
    size_t off = 0;
    int e = 0;
    while (off < len && !e) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno != EINTR)
            e = errno;
        else if (w > 0)
            off += (size_t)w;
    }
    if (!e && fsync(fd))
        e = errno;
    if (close(fd) && !e)
        e = errno;
    if (!e && renameat(dirfd, tmp, dirfd, name))
        e = errno;
    if (e) {
        unlinkat(dirfd, tmp, 0);
        return fp_error_set(err, FP_ERR_IO, "%s/%s: cannot write: %s", dirpath, name, strerror(e));
    }
    return FP_OK;
}

fp_status fp_safedir_name(char *buf, size_t size, const char *id, const char *suffix, fp_error *err)
{
    char name[128];
    size_t j = 0;
    for (const char *p = id && *id ? id : "unknown"; *p && j < sizeof name - 1; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        name[j++] = ok ? c : '_';
    }
    name[j] = 0;
    if (name[0] == '.')
        name[0] = '_'; /* never a hidden name (temporary files are) nor "." / ".." */
    int n = snprintf(buf, size, "%s%s", name, suffix ? suffix : "");
    if (n < 0 || (size_t)n >= size)
        return fp_error_set(err, FP_ERR_INVALID, "file name for '%s' too long", id ? id : "");
    return FP_OK;
}
