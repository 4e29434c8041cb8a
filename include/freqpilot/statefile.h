/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_STATEFILE_H
#define FREQPILOT_STATEFILE_H

/*
 * Clock state files, strictly: what a GPU needs to be put back, written before each change
 * (include/freqpilot/clockguard.h uses them; freqpilotd keeps its clients' changes in them).
 *
 * A state folder is trusted only when it is owned by the effective user and not writable by
 * group or others. A state file is trusted only when it is a regular file (not a symbolic
 * link), owned by the effective user, has one link, is at most 64 KiB, parses strictly
 * (every key below present and of its type, values in range) and names, in gpu_uuid, the
 * GPU its file name is made of (<uuid with [^A-Za-z0-9._-] as '_'>.json). Anything else is
 * refused with a message that says what is wrong; nothing bypasses these checks.
 *
 * Keys (format_version 1):
 *   "format": "freqpilot-state", "format_version": 1,
 *   "backend": "nvml" | "sim", "gpu_index" (0..4095), "gpu_uuid", "gpu_name",
 *   "pid" (the writer), "owner_uid" (on whose behalf; optional), "start_utc", "start_utc_s",
 *   "command",
 *   "changed": { "locked_clocks": bool, "locked_min_mhz", "locked_max_mhz",
 *                "app_clocks": bool, "app_mem_mhz", "app_gr_mhz",
 *                "power_limit": bool, "power_limit_w": number | null },
 *   "restore": { "reset_locked_clocks": bool, "reset_app_clocks": bool,
 *                "power_limit_w": number | null (the limit to put back) },
 *   "workload": { "pgid", "uid", "start_ticks" } (optional: the process group of the
 *                workload running under the lock, ended by restore after a SIGKILL)
 * Clocks are integers 0..100000 MHz, power limits numbers in (0, 100000) W; the device's
 * own limits are checked again before anything is set.
 */

#include <stddef.h>
#include <sys/types.h>

#include "freqpilot/error.h"
#include "freqpilot/gpu.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP_STATE_FORMAT "freqpilot-state"
#define FP_STATE_MAX_BYTES 65536

typedef struct fp_state {
    char backend[16];
    unsigned gpu_index;
    char gpu_uuid[96];
    char gpu_name[96];
    long pid;
    long owner_uid; /* -1 = not recorded */
    double start_utc_s;
    char command[2048];
    fp_gpu_clock_state changed; /* what was set; changed.power_limit_w = the limit set */
    int reset_locked, reset_app;
    double restore_power_w; /* NAN = the power limit is not to be restored */
    long workload_pgid;     /* 0 = none */
    long workload_uid;
    unsigned long long workload_start_ticks;
} fp_state;

/* An empty state for gpu (no changes, restore_power_w NAN, owner_uid -1). */
void fp_state_init(fp_state *s);

/* Strict parse of a state file's text; origin names it in messages. */
fp_status fp_state_parse(const char *text, size_t len, const char *origin, fp_state *s,
                         fp_error *err);
/* The text of s (malloc'ed, ends with a newline); NULL when out of memory. */
char *fp_state_format(const fp_state *s);

/* The file name of a GPU's state file ("<sanitized uuid>.json"). */
fp_status fp_state_file_name(char *buf, size_t size, const char *gpu_uuid, fp_error *err);

/* An opened, checked state folder (the descriptor stays on the folder that was checked). */
typedef struct fp_state_dir {
    int fd;
    char path[4096];
} fp_state_dir;

/* The default state folder: $FREQPILOT_STATE_DIR, else /var/lib/freqpilot as root, else
 * $XDG_STATE_HOME/freqpilot, else ~/.local/state/freqpilot. */
fp_status fp_state_default_dir(char *buf, size_t size, fp_error *err);
/* Opens and checks path (NULL = default), creating it when create. A missing folder
 * without create is FP_ERR_IO with *missing = 1 (may be NULL). */
fp_status fp_state_dir_open(fp_state_dir *d, const char *path, int create, int *missing,
                            fp_error *err);
void fp_state_dir_close(fp_state_dir *d);

/* Reads and checks file name in d (see above). A missing file: FP_ERR_IO, *missing = 1. */
fp_status fp_state_read(const fp_state_dir *d, const char *name, fp_state *s, int *missing,
                        fp_error *err);
/* Writes s atomically as its GPU's state file in d. */
fp_status fp_state_write(const fp_state_dir *d, const fp_state *s, fp_error *err);
/* Removes file name from d (a missing file is not an error). */
fp_status fp_state_remove(const fp_state_dir *d, const char *name, fp_error *err);
/*
 * Removes the temporary files a writer of name's state file left when it was killed mid-write
 * (".NAME.tmp.*"). Only the holder of the GPU's lease writes that file, so its caller must
 * hold the lease.
 */
void fp_state_remove_temporaries(const fp_state_dir *d, const char *name);
/* Calls fn for every "*.json" name in d (hidden names skipped); stops on nonzero. */
fp_status fp_state_list(const fp_state_dir *d, int (*fn)(void *user, const char *name), void *user,
                        fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
