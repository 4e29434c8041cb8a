/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_SERVICE_SERVER_H
#define FP_SERVICE_SERVER_H

/*
 * freqpilotd, the service (docs/freqpilotd.md): one process, one thread, one poll loop.
 *
 *  - Listens on a Unix socket (cfg->socket, mode cfg->socket_mode); each client is known by
 *    SO_PEERCRED (uid, gid, pid). At most cfg->max_clients connections, at most
 *    cfg->max_clients_per_user per uid; a request line must be complete within
 *    cfg->request_timeout_s. Nothing a client sends or fails to read ends the service.
 *  - Every change goes through a clock guard (freqpilot/clockguard.h) held for the client:
 *    the GPU's lease (one owner per GPU, whoever asks: the CLI as root takes the same
 *    lease), range checks, a write-ahead state file in cfg->state_dir. A guard belongs to a
 *    connection: when the connection ends (exit, crash, SIGKILL) what it changed is
 *    restored. `detach` hands the guard to the user instead, until `restore`.
 *  - On start, state files left in cfg->state_dir by an earlier instance (killed, crashed)
 *    are restored before anything is accepted; on stop every guard is restored.
 *  - With slurm = yes rules the user's running jobs are read from Slurm (service/slurm_jobs.h)
 *    on each change and every cfg->slurm_check_s for held GPUs: a lease whose job has ended
 *    is restored and revoked.
 */

#include <signal.h>

#include "freqpilot/error.h"
#include "service/policy.h"

typedef struct fp_svc_server fp_svc_server;

/* level: 0 error, 1 warning, 2 info, 3 debug. */
typedef void (*fp_svc_log_fn)(void *user, int level, const char *msg);

/*
 * Restores what an earlier instance left, opens the backend and every GPU, binds the socket.
 * cfg is copied.
 */
fp_status fp_svc_server_open(fp_svc_server **out, const fp_svc_config *cfg, fp_svc_log_fn log,
                             void *log_user, fp_error *err);

/*
 * Serves until *stop becomes non-zero (a signal handler sets it); *reload non-zero: the
 * policy file is read again (a bad file keeps the old policy) and *reload reset.
 */
fp_status fp_svc_server_run(fp_svc_server *s, volatile sig_atomic_t *stop,
                            volatile sig_atomic_t *reload, fp_error *err);

/* Serves what is ready within timeout_ms (for tests and the benchmark). */
void fp_svc_server_step(fp_svc_server *s, int timeout_ms);

/* Restores every guard, closes every connection, removes the socket. NULL: no-op. */
void fp_svc_server_close(fp_svc_server *s);

/* Requests answered so far. */
unsigned long long fp_svc_server_requests(const fp_svc_server *s);

#endif
