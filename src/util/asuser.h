/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_UTIL_ASUSER_H
#define FP_UTIL_ASUSER_H

/*
 * Root keeps only the GPU and the clock state: everything done for the user who ran
 * `sudo freqpilot ...` is done by a process that has dropped to that user for good.
 *
 * The invoking user is SUDO_UID/SUDO_GID when freqpilot runs with effective uid 0 and
 * SUDO_UID names another user; their passwd entry gives name, home, shell and groups. In
 * every other case (not root, root without sudo) nothing is dropped and the functions
 * below act in the calling process as it is.
 *
 *  - fp_invoker_call runs a function in a forked child that dropped to the user (groups,
 *    gid, uid; it cannot get root back) and brings back its status, message and a
 *    fixed-size result. The child dies with its parent (PR_SET_PDEATHSIG) and ignores
 *    the terminal's signals while it works. The dataset under --out is written this way,
 *    so the kernel checks every path, link and permission as it would for the user.
 *  - fp_invoker_open opens a path the same way and hands the descriptor back
 *    (SCM_RIGHTS): the workload's stdout/stderr files, input files read as root.
 *  - fp_invoker_become drops the calling process for good (a workload or helper child
 *    after fork, or a command that needs no root at all); only raw system calls, so it is
 *    safe between fork and exec in a multi-threaded parent.
 */

#include <stddef.h>
#include <sys/types.h>

#include "freqpilot/error.h"

#define FP_INVOKER_MAX_GROUPS 256

typedef struct fp_invoker {
    int drop; /* 1: act as uid/gid below; 0: as the process is */
    uid_t uid;
    gid_t gid;
    int ngroups;
    gid_t groups[FP_INVOKER_MAX_GROUPS];
    char name[64];   /* login name ("" when not in passwd) */
    char home[1024]; /* "/" when unknown */
    char shell[256];
} fp_invoker;

/*
 * The invoking user (computed once; later calls return the same). A SUDO_UID or SUDO_GID
 * that is not a number is an error (FP_ERR_INVALID): root would otherwise act as itself.
 */
fp_status fp_invoker_get(const fp_invoker **out, fp_error *err);

/* Drops the calling process to u for good (no-op without u->drop); 0 or an errno. */
int fp_invoker_become(const fp_invoker *u);

/*
 * Runs fn(arg, ret, err) as u: in a dropped child (ret_size bytes of *ret copied back) or,
 * without a drop, right here. fn's status is returned with its message in err.
 */
typedef fp_status (*fp_invoker_fn)(void *arg, void *ret, fp_error *err);
fp_status fp_invoker_call(const fp_invoker *u, fp_invoker_fn fn, void *arg, void *ret,
                          size_t ret_size, fp_error *err);

/* open(path, flags | O_CLOEXEC, mode) as u; the descriptor in *fd. */
fp_status fp_invoker_open(const fp_invoker *u, const char *path, int flags, mode_t mode, int *fd,
                          fp_error *err);

/* "HOME=...", "USER=...", "LOGNAME=...", "SHELL=...", "PATH=..." for a process run as u;
 * entries of at most 1100 bytes. Returns the number filled (0 without a drop). */
#define FP_INVOKER_ENV_MAX 5
int fp_invoker_env(const fp_invoker *u, char out[FP_INVOKER_ENV_MAX][1100]);

/* The PATH a workload or helper run as the user gets. */
#define FP_INVOKER_PATH "/usr/local/bin:/usr/bin:/bin"

#endif
