/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "freqpilot/atomic.h"

fp_status fp_atomic_open(fp_atomic_file *f, const char *path, fp_error *err)
{
    memset(f, 0, sizeof *f);
    if (strcmp(path, "-") == 0) {
        f->fp = stdout;
        f->is_stdout = 1;
        snprintf(f->path, sizeof f->path, "<stdout>");
        return FP_OK;
    }
    struct stat st;
    char resolved[PATH_MAX];
    /* Root writes through no link: one planted in a shared folder could aim anywhere. */
    if (geteuid() == 0 && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s: a symbolic link; freqpilot running as root does not write "
                            "through one (give the path of the file itself)",
                            path);
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return fp_error_set(err, FP_ERR_INVALID, "%s: is a folder, expected a file name", path);
        if (!S_ISREG(st.st_mode)) {
            /* A device or FIFO: write in place; there is nothing to rename. */
            f->fp = fopen(path, "w");
            if (!f->fp)
                return fp_error_set(err, FP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
            f->is_direct = 1;
            snprintf(f->path, sizeof f->path, "%s", path);
            return FP_OK;
        }
        /* Follow symbolic links: replace the file, keep the link. */
        if (realpath(path, resolved))
            path = resolved;
    }
    if (strlen(path) + 16 >= sizeof f->tmp)
        return fp_error_set(err, FP_ERR_INVALID, "%s: path too long", path);
    snprintf(f->path, sizeof f->path, "%s", path);
    if (snprintf(f->tmp, sizeof f->tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof f->tmp)
        return fp_error_set(err, FP_ERR_INVALID, "%s: path too long", path);
    int fd = mkstemp(f->tmp);
    if (fd < 0) {
        f->tmp[0] = '\0';
        return fp_error_set(err, FP_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    /* mkstemp makes 0600; outputs are ordinary files. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    f->fp = fdopen(fd, "w");
    if (!f->fp) {
        int e = errno;
        close(fd);
        unlink(f->tmp);
        f->tmp[0] = '\0';
        return fp_error_set(err, FP_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    return FP_OK;
}

fp_status fp_atomic_commit(fp_atomic_file *f, fp_error *err)
{
    if (f->is_stdout) {
        if (fflush(stdout) != 0 || ferror(stdout))
            return fp_error_set(err, FP_ERR_IO, "<stdout>: write failed: %s", strerror(errno));
        f->fp = NULL;
        return FP_OK;
    }
    if (!f->fp)
        return fp_error_set(err, FP_ERR_INVALID, "%s: not open", f->path);
    if (f->is_direct) {
        int bad_direct = fflush(f->fp) != 0 || ferror(f->fp);
        int e_direct = errno;
        if (fclose(f->fp) != 0 && !bad_direct) {
            bad_direct = 1;
            e_direct = errno;
        }
        f->fp = NULL;
        if (bad_direct)
            return fp_error_set(err, FP_ERR_IO, "%s: write failed: %s", f->path,
                                strerror(e_direct));
        return FP_OK;
    }
    int bad = fflush(f->fp) != 0 || ferror(f->fp);
    int e = errno;
    if (!bad && fsync(fileno(f->fp)) != 0 && errno != EINVAL && errno != EROFS) {
        bad = 1;
        e = errno;
    }
    if (fclose(f->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    f->fp = NULL;
    if (bad) {
        unlink(f->tmp);
        f->tmp[0] = '\0';
        return fp_error_set(err, FP_ERR_IO, "%s: write failed: %s", f->path, strerror(e));
    }
    if (rename(f->tmp, f->path) != 0) {
        e = errno;
        unlink(f->tmp);
        f->tmp[0] = '\0';
        return fp_error_set(err, FP_ERR_IO, "%s: cannot rename into place: %s", f->path,
                            strerror(e));
    }
    f->tmp[0] = '\0';
    return FP_OK;
}

void fp_atomic_abort(fp_atomic_file *f)
{
    if (f->is_stdout) {
        f->fp = NULL;
        return;
    }
    if (f->fp) {
        fclose(f->fp);
        f->fp = NULL;
    }
    if (f->tmp[0]) {
        unlink(f->tmp);
        f->tmp[0] = '\0';
    }
}
