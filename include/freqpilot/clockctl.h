/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_CLOCKCTL_H
#define FREQPILOT_CLOCKCTL_H

/*
 * The clock controller: how profile, apply and the governor change a GPU's clocks and power
 * limit. Two implementations behind one ops table:
 *
 *  - direct: the clock guard (freqpilot/clockguard.h) on the backend, in this process: state
 *    file, GPU lease, restore on every exit path. Needs root for NVML's controls.
 *  - service: freqpilotd (freqpilot/freqpilotd.h) does the changes for this connection and
 *    restores them when the connection ends, however this process ends.
 *
 * Which one (fp_clockctl_resolve): $FREQPILOT_CLOCK_CONTROL = direct | service forces it;
 * otherwise (auto) a simulated backend (in this process only) and root go direct, and a user
 * who is not root goes through the service when its socket ($FREQPILOT_SOCKET, default
 * /run/freqpilot/freqpilotd.sock) exists, else direct (which NVML refuses without root: the
 * error then says to ask for freqpilotd). The sampler reads NVML directly in both cases.
 */

#include <stddef.h>

#include "freqpilot/clockguard.h"
#include "freqpilot/error.h"
#include "freqpilot/gpu.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp_clockctl_via {
    FP_CLOCKCTL_AUTO = 0,
    FP_CLOCKCTL_DIRECT,
    FP_CLOCKCTL_SERVICE,
} fp_clockctl_via;

typedef struct fp_clockctl fp_clockctl;

typedef struct fp_clockctl_opts {
    fp_clockguard_opts guard; /* the direct path (state folder, force, command) */
    fp_clockctl_via via;      /* AUTO = fp_clockctl_resolve */
    const char *socket;       /* NULL = fp_svc_socket_path() */
} fp_clockctl_opts;

/*
 * The path for backend be as described above, into *via (DIRECT or SERVICE), and a sentence
 * for the user in desc (may be NULL): "clock control through freqpilotd at PATH (as alice)",
 * "clock control directly through NVML (root)". FP_ERR_INVALID for a bad
 * $FREQPILOT_CLOCK_CONTROL, or service forced on a simulated backend.
 */
fp_status fp_clockctl_resolve(const fp_gpu_backend *be, const char *socket, fp_clockctl_via *via,
                              char *desc, size_t desc_size, fp_error *err);

/*
 * Starts controlling gpu (opened from be; both outlive the controller). Direct: begins a
 * clock guard. Service: connects and takes the GPU's lease (by UUID); a GPU leased by
 * someone else is refused with who holds it.
 */
fp_status fp_clockctl_begin(fp_clockctl **out, const fp_gpu_backend *be, fp_gpu *gpu,
                            const fp_clockctl_opts *opts, fp_error *err);

/* As fp_clockguard_lock_ex / _lock / _set_power_limit. */
fp_status fp_clockctl_lock_ex(fp_clockctl *c, unsigned min_mhz, unsigned max_mhz,
                              int allow_app_fallback, double *reached_mhz, int *used_app_clocks,
                              fp_error *err);
fp_status fp_clockctl_lock(fp_clockctl *c, unsigned min_mhz, unsigned max_mhz, double *reached_mhz,
                           fp_error *err);
fp_status fp_clockctl_set_power_limit(fp_clockctl *c, double watts, fp_error *err);
/* Puts back everything changed; the controller (and its lease) stays usable. */
fp_status fp_clockctl_restore(fp_clockctl *c, fp_error *err);
/* Restores what is still changed (errors ignored) and ends the lease. NULL: no-op. */
void fp_clockctl_end(fp_clockctl *c);
/*
 * Ends the controller WITHOUT restoring, for `freqpilot apply`: direct, the state file stays
 * for `freqpilot restore`; service, freqpilotd keeps the lease for this user until
 * `freqpilot restore` (or the Slurm epilog, or its own restart). where (may be NULL) says
 * which, for the user. On failure nothing is kept: the changes are restored.
 */
fp_status fp_clockctl_detach(fp_clockctl *c, char *where, size_t where_size, fp_error *err);

/* 1 when the last change was not made because its state file could not be written (direct
 * path: fp_clockguard_state_failed; the same change may be tried again). */
int fp_clockctl_state_failed(const fp_clockctl *c);
fp_clockctl_via fp_clockctl_path(const fp_clockctl *c);
/* The direct path's guard (NULL on the service path). */
fp_clockguard *fp_clockctl_guard(const fp_clockctl *c);
/* What has been changed through c so far. */
void fp_clockctl_changes(const fp_clockctl *c, fp_gpu_clock_state *out);

#ifdef __cplusplus
}
#endif
#endif
