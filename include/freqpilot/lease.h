/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_LEASE_H
#define FREQPILOT_LEASE_H

/*
 * GPU leases: one owner at a time changes a GPU's clocks or power limit, whatever state
 * folder each one uses.
 *
 * A lease is an exclusive open-file-description lock (fcntl F_OFD_SETLK: the flock kind,
 * tied to the open file, not to the process's other descriptors) on LOCK_DIR/<uuid>.lock,
 * taken without waiting and held for as long as the fp_lease lives. Its descriptor is
 * close-on-exec, so the kernel releases the lease when the holder dies, SIGKILL included:
 * "the lease is free" is the proof that its last holder is gone (no pid check, no pid reuse).
 *
 * The lock file holds a record written by the holder after it got the lock (JSON):
 *   {"pid", "uid" (on whose behalf: the user behind sudo, a freqpilotd client), "since_utc_s",
 *    "command", "state_file" (the state file of changes not restored yet, "" when none)}
 * The record outlives its holder: a holder killed with changes in force leaves state_file
 * set, so the next holder sees them whatever --state-dir it was given (fp_lease_previous).
 *
 * LOCK_DIR: $FREQPILOT_LOCK_DIR, else /run/freqpilot/locks when running as root, else
 * $XDG_RUNTIME_DIR/freqpilot/locks, else /tmp/freqpilot-<uid>/locks. Created when missing;
 * it must be owned by the effective user and not writable by group or others, and lock
 * files must be regular files of that user (util/safedir.h); anything else is refused.
 *
 * freqpilotd (issue 13) holds one lease per client connection: fp_lease_owner names the
 * client, and a service restarted after a crash finds the unrestored changes of its earlier
 * instance through the records (fp_lease_read) and the state files they name.
 */

#include <stddef.h>
#include <sys/types.h>

#include "freqpilot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fp_lease fp_lease;

typedef struct fp_lease_record {
    long pid; /* 0 = no record */
    long uid; /* on whose behalf (-1 = unknown) */
    double since_utc_s;
    char command[256];
    char state_file[4096]; /* "" = no unrestored changes */
} fp_lease_record;

typedef struct fp_lease_owner {
    const char *command; /* recorded (may be NULL) */
    long uid;            /* on whose behalf; -1 = the invoking user (SUDO_UID) or the euid */
} fp_lease_owner;

/* The lock folder as described above (not created). */
fp_status fp_lease_default_dir(char *buf, size_t size, fp_error *err);

/*
 * Takes the lease of GPU gpu_uuid in dir (NULL = default) without waiting. When another
 * open file holds it: FP_ERR_BUSY, *holder (may be NULL) filled with its record and err
 * naming its pid and command. owner may be NULL.
 */
fp_status fp_lease_acquire(fp_lease **out, const char *dir, const char *gpu_uuid,
                           const fp_lease_owner *owner, fp_lease_record *holder, fp_error *err);

/* The record found when the lease was taken (what an earlier holder left). */
const fp_lease_record *fp_lease_previous(const fp_lease *l);
/* This holder's record as written to the lock file. */
const fp_lease_record *fp_lease_current(const fp_lease *l);
/* The GPU UUID and the lock file path of the lease. */
const char *fp_lease_gpu(const fp_lease *l);
const char *fp_lease_path(const fp_lease *l);

/* Records the state file of changes not restored yet ("" or NULL = none) in the lock file. */
fp_status fp_lease_set_state_file(fp_lease *l, const char *path, fp_error *err);

/* Releases the lease (the record stays, state_file as last set) and frees l. NULL: no-op. */
void fp_lease_release(fp_lease *l);

/*
 * Looks at a GPU's lease without taking it: *held = 1 while some process holds it, and
 * *rec its record (zeroed when there is no lock file).
 */
fp_status fp_lease_read(const char *dir, const char *gpu_uuid, int *held, fp_lease_record *rec,
                        fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
