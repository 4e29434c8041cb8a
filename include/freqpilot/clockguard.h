/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_CLOCKGUARD_H
#define FREQPILOT_CLOCKGUARD_H

/*
 * Clock safety: whoever changes a GPU's clocks or power limit does it through a guard, so
 * the GPU is put back on every exit path, and one guard at a time owns a GPU.
 *
 *  - fp_clockguard_begin takes the GPU's lease (include/freqpilot/lease.h: an exclusive
 *    lock per GPU UUID in a root-owned lock folder, whatever --state-dir is) and keeps it
 *    until end/detach. A GPU leased by a running process is refused, --force or not.
 *  - Unrestored changes left by an owner that is gone (a state file in this state folder,
 *    or the one the lease record names in another) refuse the start unless forced; forced,
 *    the guard inherits what they say to restore.
 *  - Every change (lock, application clocks, power limit) is range-checked against the
 *    GPU's supported clocks and power limits (fp_gpu_check_clock/_power_limit), recorded
 *    in the state file (write-ahead: include/freqpilot/statefile.h, strict), then applied;
 *    a lock is read back. No state file exists before the first change. A change whose
 *    state file cannot be written is not made (fp_clockguard_state_failed); a change the
 *    driver refuses is taken out of the record again, and a record left with nothing to
 *    restore is removed, so a refused first change leaves no state file behind.
 *  - fp_clockguard_restore resets what was changed and removes the state file.
 *  - After SIGKILL or a crash, fp_clockguard_restore_from_state (`freqpilot restore`)
 *    takes the GPU's lease (proof that the owner is gone), checks the state file strictly,
 *    ends the workload process group it names, and resets the GPU it names (opened by
 *    UUID only).
 *  - fp_clockguard_catch_signals installs SIGINT/SIGTERM/SIGHUP handlers that only record
 *    the signal (and forward it to a registered child process group); the owner polls
 *    fp_clockguard_pending_signal(), restores, then calls fp_clockguard_reraise(). A second
 *    signal while one is pending uses only async-signal-safe calls: it kills the child
 *    process group and, when fp_clockguard_exec_on_second_signal named the program, execs
 *    `PROGRAM restore --exit-signal SIG STATE_FILE...` (same pid, fresh process: the lease
 *    is released by close-on-exec and taken again by restore), else it re-raises the
 *    signal and the state file is left for `freqpilot restore`.
 *  - An atexit hook restores every guard still live when the process exits.
 *
 * State directory: fp_state_default_dir (statefile.h): $FREQPILOT_STATE_DIR, else
 * /var/lib/freqpilot as root, else $XDG_STATE_HOME/freqpilot, else ~/.local/state/freqpilot.
 * File name: <uuid with characters other than [A-Za-z0-9._-] replaced by '_'>.json; keys in
 * include/freqpilot/statefile.h.
 */

#include <stddef.h>
#include <sys/types.h>

#include "freqpilot/error.h"
#include "freqpilot/gpu.h"
#include "freqpilot/lease.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fp_clockguard fp_clockguard;

typedef struct fp_clockguard_opts {
    const char *state_dir; /* NULL = fp_clockguard_default_dir() */
    int force;             /* take over unrestored changes of a gone owner (restore inherited) */
    int no_state_file;     /* in-process only (simulated GPU, tests): no lease, nothing written */
    const char *command;   /* recorded in the state file and the lease (may be NULL) */
    const char *lock_dir;  /* NULL = fp_lease_default_dir() */
    const fp_lease_owner *owner; /* on whose behalf (NULL = this process, the user behind sudo) */
} fp_clockguard_opts;

/* The state directory as described above (not created). */
fp_status fp_clockguard_default_dir(char *buf, size_t size, fp_error *err);
/* state_dir (NULL = default) + file name for uuid. */
fp_status fp_clockguard_state_path(char *buf, size_t size, const char *state_dir, const char *uuid,
                                   fp_error *err);

/*
 * Starts guarding gpu (opened from backend be; both must outlive the guard). Creates the
 * state directory when missing (it must be owned by the effective user and not writable by
 * group or others). FP_ERR_BUSY when another process holds the GPU's lease; FP_ERR_INVALID
 * naming the state file and its writer when unrestored changes exist and opts->force is
 * not set, or when a state file fails the strict checks (force does not bypass those).
 */
fp_status fp_clockguard_begin(fp_clockguard **out, const fp_gpu_backend *be, fp_gpu *gpu,
                              const fp_clockguard_opts *opts, fp_error *err);

/*
 * Locks the SM clock to [min_mhz, max_mhz] and reads it back (one backend sample's
 * sm_clock_mhz; NAN when the backend cannot tell) into *reached_mhz (may be NULL).
 * Where locking is unsupported (FP_ERR_UNSUPPORTED) and allow_app_fallback is set, sets the
 * application clocks to (memory clock, max_mhz) instead and *used_app_clocks = 1.
 */
fp_status fp_clockguard_lock(fp_clockguard *g, unsigned min_mhz, unsigned max_mhz,
                             double *reached_mhz, fp_error *err);
fp_status fp_clockguard_lock_ex(fp_clockguard *g, unsigned min_mhz, unsigned max_mhz,
                                int allow_app_fallback, double *reached_mhz, int *used_app_clocks,
                                fp_error *err);
fp_status fp_clockguard_set_app_clocks(fp_clockguard *g, unsigned mem_mhz, unsigned gr_mhz,
                                       fp_error *err);
fp_status fp_clockguard_set_power_limit(fp_clockguard *g, double watts, fp_error *err);

/*
 * Records the process group of the workload running under the guard (pgid 0: none any
 * more), so that a restore after a SIGKILL of the owner ends what is left of it (processes
 * of that group run by uid, started no earlier than the group).
 */
fp_status fp_clockguard_set_workload(fp_clockguard *g, pid_t pgid, uid_t uid, fp_error *err);
/* 1 when the last change failed because its state file could not be written: the GPU was
 * left as it was, and the same change may be tried again. */
int fp_clockguard_state_failed(const fp_clockguard *g);

/* Backend/GPU being guarded. */
fp_gpu *fp_clockguard_gpu(const fp_clockguard *g);
/* Path of the state file ("" with no_state_file). */
const char *fp_clockguard_path(const fp_clockguard *g);
/* What this guard has changed so far. */
void fp_clockguard_changes(const fp_clockguard *g, fp_gpu_clock_state *out);

/*
 * Resets everything changed (every step is tried even when one fails; the first error is
 * returned) and removes the state file when all steps succeeded. The guard stays usable.
 */
fp_status fp_clockguard_restore(fp_clockguard *g, fp_error *err);
/*
 * Partial restores for freqpilotd's reset and reset_power_limit: the locked and application
 * clocks only, or the power limit only (back to the value found at its first change). The
 * state file keeps what is still changed and goes when nothing is.
 */
fp_status fp_clockguard_reset_clocks(fp_clockguard *g, fp_error *err);
fp_status fp_clockguard_reset_power_limit(fp_clockguard *g, fp_error *err);
/* Restores when anything is still changed (errors ignored), then frees g. NULL is a no-op. */
void fp_clockguard_end(fp_clockguard *g);
/*
 * Frees g WITHOUT restoring: the changes stay in force and the state file stays, so that
 * `freqpilot restore` (or a later sweep with force) puts the GPU back. The atexit and
 * second-signal hooks forget g. For `freqpilot apply`, whose lock must outlive it. NULL is a
 * no-op.
 */
void fp_clockguard_detach(fp_clockguard *g);

/* What fp_clockguard_restore_from_state found and did. */
typedef struct fp_clockguard_report {
    char path[4400];
    char backend[16];
    char gpu_uuid[96];
    unsigned gpu_index;
    pid_t pid;       /* the writer recorded in the file */
    int in_use;      /* the GPU's lease is held by a running process ... */
    long holder_pid; /* ... this one (from the lease record) */
    char holder_command[256];
    fp_gpu_clock_state changed;
    int reset_locked, reset_app, power_limit_restored; /* steps performed */
    int workload_killed; /* processes of the recorded workload group ended */
    int gone;            /* the owner restored and removed the file while we waited */
} fp_clockguard_report;

/* flags of fp_clockguard_restore_from_state */
enum {
    FP_RESTORE_STOP_HOLDER = 1, /* a running lease holder is sent SIGTERM (it restores), then
                                   waited for up to 10 s */
    FP_RESTORE_WAIT = 2,        /* wait up to 2 s for the lease (after a second signal) */
};

/*
 * `freqpilot restore`: what is a state file path (contains '/' or ends in ".json") or a GPU
 * UUID looked up in state_dir (NULL = default). The folder and file must pass the strict
 * checks of statefile.h. Takes the GPU's lease: while a running process holds it,
 * FP_ERR_BUSY (see flags). Resets what the file records (a power limit outside the GPU's
 * range is refused before anything changes), removes the file on success.
 */
fp_status fp_clockguard_restore_from_state(const char *what, const char *state_dir, int flags,
                                           fp_clockguard_report *rep, fp_error *err);
/* Calls fn for every state file in state_dir (NULL = default); stops on nonzero return. */
fp_status fp_clockguard_list(const char *state_dir, int (*fn)(void *user, const char *path),
                             void *user, fp_error *err);
/* Reads a state file (strict checks) and looks at its GPU's lease, without acting. */
fp_status fp_clockguard_read_state(const char *path, fp_clockguard_report *rep, fp_error *err);

/* ---- Signals ---- */

/* Installs the SIGINT/SIGTERM/SIGHUP handlers (idempotent). */
fp_status fp_clockguard_catch_signals(fp_error *err);
/* Restores the previous handlers. */
void fp_clockguard_release_signals(void);
/* The first signal caught (0 = none). Async-signal-safe. */
int fp_clockguard_pending_signal(void);
/* The handler forwards caught signals to this process group (0 = none). */
void fp_clockguard_set_child_pgid(pid_t pgid);
/*
 * A second signal execs `exe restore --exit-signal SIG STATE_FILE...` for the live guards'
 * state files (exe: "/proc/self/exe" for freqpilot itself; NULL: re-raise only).
 */
void fp_clockguard_exec_on_second_signal(const char *exe);
/* Restores every live guard, resets the handler of sig to default and raises it. */
void fp_clockguard_reraise(int sig);

#ifdef __cplusplus
}
#endif
#endif
