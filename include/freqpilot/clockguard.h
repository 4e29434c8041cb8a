/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_CLOCKGUARD_H
#define FREQPILOT_CLOCKGUARD_H

/*
 * Clock safety: whoever changes a GPU's clocks or power limit does it through a guard, so
 * the GPU is put back on every exit path.
 *
 *  - fp_clockguard_begin writes a state file (JSON, one per GPU UUID) BEFORE anything is
 *    changed, and refuses to start while a state file of another, unrestored session exists
 *    (its process alive or dead) unless forced.
 *  - Every change (lock, application clocks, power limit) is first recorded in the state
 *    file (write-ahead), then applied; a lock is read back.
 *  - fp_clockguard_restore resets what was changed (locked clocks, application clocks,
 *    power limit back to the value found at begin) and removes the state file.
 *  - After SIGKILL or a crash, fp_clockguard_restore_from_state (`freqpilot restore`) opens
 *    the backend and GPU named in the state file and does the same.
 *  - fp_clockguard_catch_signals installs SIGINT/SIGTERM/SIGHUP handlers that only record
 *    the signal (and forward it to a registered child process group); the owner polls
 *    fp_clockguard_pending_signal(), restores, then calls fp_clockguard_reraise(). A second
 *    signal while one is pending restores every live guard from inside the handler (best
 *    effort) and re-raises at once, so a stuck owner cannot keep clocks locked.
 *  - An atexit hook restores every guard still live when the process exits.
 *
 * State directory: $FREQPILOT_STATE_DIR, else /var/lib/freqpilot when running as root and it
 * is writable (or creatable), else $XDG_STATE_HOME/freqpilot, else ~/.local/state/freqpilot.
 * File name: <uuid with characters other than [A-Za-z0-9._-] replaced by '_'>.json.
 *
 * State file keys:
 *   "format": "freqpilot-state", "format_version": 1,
 *   "backend": "nvml" | "sim", "gpu_index", "gpu_uuid", "gpu_name",
 *   "pid", "start_utc" (ISO-8601), "start_utc_s", "command",
 *   "changed": { "locked_clocks": bool, "locked_min_mhz", "locked_max_mhz",
 *                "app_clocks": bool, "app_mem_mhz", "app_gr_mhz",
 *                "power_limit": bool, "power_limit_w" },
 *   "restore": { "reset_locked_clocks": bool, "reset_app_clocks": bool,
 *                "power_limit_w": number | null (the limit found at begin) }
 */

#include <stddef.h>
#include <sys/types.h>

#include "freqpilot/error.h"
#include "freqpilot/gpu.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fp_clockguard fp_clockguard;

typedef struct fp_clockguard_opts {
    const char *state_dir; /* NULL = fp_clockguard_default_dir() */
    int force;             /* take over an unrestored state file (its restore is inherited) */
    int no_state_file;     /* in-process only (simulated GPU, tests): nothing written */
    const char *command;   /* recorded in the state file (may be NULL) */
} fp_clockguard_opts;

/* The state directory as described above (not created). */
fp_status fp_clockguard_default_dir(char *buf, size_t size, fp_error *err);
/* state_dir (NULL = default) + file name for uuid. */
fp_status fp_clockguard_state_path(char *buf, size_t size, const char *state_dir, const char *uuid,
                                   fp_error *err);

/*
 * Starts guarding gpu (opened from backend be; both must outlive the guard). Creates the
 * state directory when missing. Fails with FP_ERR_INVALID and a message naming the state
 * file, its pid and whether that process is alive when an unrestored state file exists and
 * opts->force is not set.
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
    char path[4096];
    char backend[16];
    char gpu_uuid[96];
    unsigned gpu_index;
    pid_t pid;
    int pid_alive;
    fp_gpu_clock_state changed;
    int reset_locked, reset_app, power_limit_restored; /* steps performed */
} fp_clockguard_report;

/*
 * `freqpilot restore`: what is a state file path (contains '/' or ends in ".json") or a GPU
 * UUID looked up in state_dir (NULL = default). Refuses (FP_ERR_INVALID) while the recorded
 * process is alive unless force. Resets what the file records, removes the file on success.
 */
fp_status fp_clockguard_restore_from_state(const char *what, const char *state_dir, int force,
                                           fp_clockguard_report *rep, fp_error *err);
/* Calls fn for every state file in state_dir (NULL = default); stops on nonzero return. */
fp_status fp_clockguard_list(const char *state_dir, int (*fn)(void *user, const char *path),
                             void *user, fp_error *err);
/* Reads a state file without acting on it. */
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
/* Restores every live guard, resets the handler of sig to default and raises it. */
void fp_clockguard_reraise(int sig);

#ifdef __cplusplus
}
#endif
#endif
