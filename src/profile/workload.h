/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_PROFILE_WORKLOAD_H
#define FP_PROFILE_WORKLOAD_H

/*
 * One run of the user's workload: fork + execvp (no shell) in its own process group; as the
 * invoking user when freqpilot runs as root through sudo (SUDO_UID/SUDO_GID, util/asuser.h),
 * with that user's HOME, USER, LOGNAME, SHELL and a plain PATH (FP_INVOKER_PATH); killed
 * when freqpilot dies (PR_SET_PDEATHSIG, set after the drop); stderr straight to a file;
 * stdout through a pipe that the parent tees to a file while scanning it for
 * `FREQPILOT_MARK begin [NAME]` / `FREQPILOT_MARK end [NAME]` lines; optionally a FIFO named
 * in $FREQPILOT_MARK_FIFO whose "begin [NAME]" / "end [NAME]" writes are timestamped too.
 * Marks carry the host CLOCK_MONOTONIC time at which freqpilot read them (marks read in one
 * read(2) share it). The workload's environment gets PYTHONUNBUFFERED=1 unless it is set.
 *
 * Files: stdout.txt and stderr.txt are opened by a process acting as the invoking user
 * (O_NOFOLLOW), so they belong to the user and no link leads root anywhere. The FIFO lives in
 * a fresh folder of freqpilot's own (mkdtemp freqpilot-mark.<pid>.* under /tmp, or $TMPDIR when
 * not root; mode 0711) that nobody else can write, and is handed to the user by descriptor
 * (fchown), never by path. Folders left by a freqpilot that was killed are removed by the
 * next run once their pid is gone.
 *
 * The wait honours a timeout (the process group gets SIGTERM, then SIGKILL 2 s later) and
 * the clock guard's pending signal (fp_clockguard_pending_signal): the group is stopped the
 * same way and the result says which signal interrupted the run.
 */

#include <sys/types.h>

#include "freqpilot/clockguard.h"
#include "freqpilot/error.h"

#define FP_MARK_NAME_MAX 64

typedef struct fp_workload_opts {
    char *const *argv;       /* argv[0] looked up in PATH */
    const char *stdout_path; /* NULL = /dev/null (markers are still scanned) */
    const char *stderr_path; /* NULL = inherit */
    int marker_fifo;         /* create a marker pipe ($FREQPILOT_MARK_FIFO) for the run */
    double timeout_s;        /* 0 = none */
    fp_clockguard *guard;    /* records the workload's process group (may be NULL) */
    /* Called about every 100 ms while the workload runs (may be NULL). */
    void (*tick)(void *user);
    void *tick_user;
} fp_workload_opts;

typedef struct fp_workload_result {
    pid_t pid;
    int exit_status;     /* exit code; 128 + signal when killed by one; 127 exec failed */
    int term_signal;     /* signal that killed it (0 = exited) */
    int timed_out;       /* killed by the timeout */
    int interrupted_sig; /* a signal caught by freqpilot stopped it (0 = none) */
    int exec_errno;      /* execvp failed with this errno (0 = ran) */
    double start_mono, end_mono;
    double mark_begin_mono, mark_end_mono; /* NAN when not marked */
    char mark_source[16];                  /* "marker", "pipe" or "none" */
    char mark_name[FP_MARK_NAME_MAX];      /* name given with the first begin ("" = none) */
    unsigned marks_ignored;                /* unpaired or repeated marks (not nested ones) */
    unsigned mark_depth;                   /* windows open when the output ended */
} fp_workload_result;

/* Runs the workload to completion (see above). Errors only for failures of freqpilot itself
 * (fork, pipe, files); the workload's own failure is in res. */
fp_status fp_workload_run(const fp_workload_opts *opts, fp_workload_result *res, fp_error *err);

/* Scans one stdout line (without its newline) for a marker: 1 begin, 2 end, 0 none. */
int fp_workload_parse_mark(const char *line, size_t len);

/*
 * Whether res's marked window is unusable (docs/profile.md): both marks read together (the
 * workload's output was buffered, typically until it exited) or the window shorter than one
 * sample interval. Returns 1 with the reason in words in why, 0 when the window is usable or
 * not marked.
 */
int fp_workload_window_error(const fp_workload_result *res, double interval_s, char *why,
                             size_t size);

#endif
