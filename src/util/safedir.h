/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_UTIL_SAFEDIR_H
#define FP_UTIL_SAFEDIR_H

/*
 * Folders whose content decides what happens to a GPU (clock state files, GPU leases) are
 * trusted only when nobody but the effective user can change them: the folder is owned by
 * the effective user and not writable by group or others, and every file in it is opened
 * relative to the folder's descriptor with O_NOFOLLOW and checked with fstat (a regular
 * file, owned by the effective user, one link). Paths are never resolved with realpath, so
 * a folder swapped after the check does not matter: the descriptor stays on the folder
 * that was checked.
 */

#include <stddef.h>
#include <sys/types.h>

#include "freqpilot/error.h"

/*
 * Opens folder path, creating it (and missing parents, mode 0755) when create is set, and
 * checks it as above. what names its role in messages ("state folder"). *fd is an
 * O_DIRECTORY | O_CLOEXEC descriptor. A folder that does not exist, with create unset, is
 * FP_ERR_IO with errno ENOENT kept in *missing (may be NULL) as 1.
 */
fp_status fp_safedir_open(const char *path, int create, const char *what, int *fd, int *missing,
                          fp_error *err);

/*
 * Opens name (one path component) in dirfd with flags | O_NOFOLLOW | O_CLOEXEC (| O_CREAT
 * with mode when flags holds it) and checks the file. dirpath is for messages. A missing
 * file is FP_ERR_IO with *missing = 1 (may be NULL).
 */
fp_status fp_safedir_open_file(int dirfd, const char *dirpath, const char *name, int flags,
                               mode_t mode, int *fd, int *missing, fp_error *err);

/* Reads a checked file whole (at most max bytes) into a malloc'ed, NUL-terminated *text. */
fp_status fp_safedir_read(int dirfd, const char *dirpath, const char *name, size_t max, char **text,
                          size_t *len, int *missing, fp_error *err);

/*
 * Replaces name in dirfd with text atomically: a fresh temporary file created with
 * O_CREAT | O_EXCL | O_NOFOLLOW, written, fsynced, then renamed over name (renameat).
 */
fp_status fp_safedir_write(int dirfd, const char *dirpath, const char *name, const char *text,
                           size_t len, mode_t mode, fp_error *err);

/* [A-Za-z0-9._-] kept, anything else '_' ("unknown" for an empty id), then suffix. */
fp_status fp_safedir_name(char *buf, size_t size, const char *id, const char *suffix,
                          fp_error *err);

#endif
