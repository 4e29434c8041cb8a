/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_ATOMIC_H
#define FREQPILOT_ATOMIC_H

/*
 * Atomic output: write to a temporary file beside the target, then rename.
 * On any error the temporary file is removed, so no partial output is ever
 * left behind. Path "-" writes to stdout (commit/abort do nothing then).
 * A symbolic link is followed, so the file it points at is replaced and the
 * link stays; running as root (effective uid 0), a symbolic link is refused instead
 * (FP_ERR_INVALID): one planted in a shared folder could aim root at any file. An existing target
 * that is not a regular file (/dev/null, a FIFO, /dev/stdout) is written directly: renaming over it
 * would replace the device. A folder is an error.
 */

#include <stdio.h>

#include "freqpilot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fp_atomic_file {
    FILE *fp;
    char path[4096];
    char tmp[4096];
    int is_stdout;
    int is_direct; /* non-regular target written in place */
} fp_atomic_file;

fp_status fp_atomic_open(fp_atomic_file *f, const char *path, fp_error *err);
/* Flushes, fsyncs and renames into place. Checks every write error. */
fp_status fp_atomic_commit(fp_atomic_file *f, fp_error *err);
/* Removes the temporary file. Safe to call after commit (does nothing). */
void fp_atomic_abort(fp_atomic_file *f);

#ifdef __cplusplus
}
#endif
#endif
