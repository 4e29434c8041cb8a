/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_FREQPILOTD_H
#define FREQPILOT_FREQPILOTD_H

/*
 * freqpilotd: the clock-control service for users who are not root (docs/freqpilotd.md).
 *
 * A root service owns NVML's privileged calls and lends GPUs to clients over a Unix socket.
 * This header is what a client needs: the protocol (one JSON object per line each way,
 * parsed strictly by fp_svc_request_parse, which the service uses and fuzz/ exercises) and
 * the client library (fp_svc_client_*), which the CLI uses through the clock controller
 * (freqpilot/clockctl.h). The service itself is src/service/server.h.
 *
 * Requests ("op"; every request may carry "id", an integer or a string of at most 64
 * characters, echoed in the reply, and "protocol": 1):
 *   hello                                   who the service thinks you are
 *   gpus                                    every GPU: index, uuid, name, holder
 *   info        gpu                         clocks, limits, what you may set, the holder
 *   status                                  every lease
 *   acquire     gpu                         take the GPU's lease (nothing changes)
 *   lock        gpu min_mhz max_mhz [app_fallback]   lock the SM clock (read back)
 *   reset       gpu                         reset the clocks this lease changed
 *   power_limit gpu watts                   set the power limit
 *   reset_power_limit gpu                   put back the limit found at the first change
 *   release     gpu                         restore what the lease changed, drop the lease
 *   detach      gpu                         keep the lease (and the changes) after the
 *                                           connection ends, until `restore`
 *   restore     [gpu | uid | all] [force]   restore and drop leases: your detached ones
 *                                           (force: yours held by another connection too);
 *                                           root: anyone's
 * Replies: {"ok": true, ...} or {"ok": false, "error": CODE, "message": "..."} with CODE one
 * of fp_svc_error_name().
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "freqpilot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP_SVC_PROTOCOL 1
#define FP_SVC_SOCKET_DEFAULT "/run/freqpilot/freqpilotd.sock"
/* A request or reply line, newline included. */
#define FP_SVC_MAX_LINE 4096
#define FP_SVC_MAX_ID 64
/* Bounds of what a request may name: clocks in MHz, power limits in W. */
#define FP_SVC_MAX_MHZ 100000u
#define FP_SVC_MAX_WATTS 100000.0

typedef enum fp_svc_op {
    FP_SVC_HELLO = 0,
    FP_SVC_GPUS,
    FP_SVC_INFO,
    FP_SVC_STATUS,
    FP_SVC_ACQUIRE,
    FP_SVC_LOCK,
    FP_SVC_RESET,
    FP_SVC_POWER_LIMIT,
    FP_SVC_RESET_POWER_LIMIT,
    FP_SVC_RELEASE,
    FP_SVC_DETACH,
    FP_SVC_RESTORE,
    FP_SVC_OP_COUNT
} fp_svc_op;

typedef enum fp_svc_errcode {
    FP_SVC_E_BAD_REQUEST = 0, /* "bad_request": not a request this protocol knows */
    FP_SVC_E_DENIED,          /* "denied": the policy does not allow it */
    FP_SVC_E_BUSY,            /* "busy": another client holds the GPU */
    FP_SVC_E_RANGE,           /* "out_of_range": outside the GPU's or the policy's range */
    FP_SVC_E_NO_GPU,          /* "unknown_gpu": no such GPU */
    FP_SVC_E_UNSUPPORTED,     /* "unsupported": the GPU cannot do it */
    FP_SVC_E_FAILED,          /* "failed": NVML or the service failed */
    FP_SVC_E_LIMIT,           /* "too_many": connection limits */
    FP_SVC_E_REVOKED,         /* "revoked": the lease was taken back (root, Slurm job end) */
    FP_SVC_E_COUNT
} fp_svc_errcode;

typedef struct fp_svc_request {
    fp_svc_op op;
    int id_kind; /* 0 none, 1 integer, 2 string */
    long long id_int;
    char id_str[FP_SVC_MAX_ID + 1];
    char gpu[96]; /* "" when absent: an index ("0") or a UUID ("GPU-...", "MIG-...") */
    unsigned min_mhz, max_mhz;
    int app_fallback; /* lock: application clocks where locking is unsupported */
    double watts;
    long uid; /* restore: -1 = not given */
    int all;  /* restore: every lease the caller may restore */
    int force;
} fp_svc_request;

/* "lock", "reset_power_limit", ...; NULL for an out-of-range op. */
const char *fp_svc_op_name(fp_svc_op op);
/* "denied", "busy", ...; NULL for an out-of-range code. */
const char *fp_svc_error_name(fp_svc_errcode code);
/* The code of a name; -1 when unknown. */
int fp_svc_error_from_name(const char *name);

/*
 * Parses one request line (the newline may be included; at most FP_SVC_MAX_LINE bytes):
 * a JSON object with "op" and exactly the keys that op takes, each of its type and within
 * its bounds (gpu: 1..95 characters of [A-Za-z0-9:._-]; clocks: integers
 * 1..FP_SVC_MAX_MHZ with min <= max; watts: a number in (0, FP_SVC_MAX_WATTS]; uid:
 * 0..2^31-1). Duplicate keys, unknown keys and anything else: FP_ERR_PARSE with a message
 * that names the key. *req is filled only on success.
 */
fp_status fp_svc_request_parse(const char *line, size_t len, fp_svc_request *req, fp_error *err);

/*
 * The request as one line of JSON with a trailing newline (malloc'ed; NULL when out of
 * memory). fp_svc_request_parse of it gives back the same request.
 */
char *fp_svc_request_format(const fp_svc_request *req);

/* An empty request of op (uid -1, nothing else set). */
void fp_svc_request_init(fp_svc_request *req, fp_svc_op op);

/* ---- client ---- */

typedef struct fp_svc_client fp_svc_client;

/*
 * The socket a client uses: $FREQPILOT_SOCKET when set, else FP_SVC_SOCKET_DEFAULT.
 * Returns that path (static storage or the environment's).
 */
const char *fp_svc_socket_path(void);

/*
 * Connects to the service at path (NULL = fp_svc_socket_path()) and greets it (hello).
 * timeout_s bounds every later call (<= 0: 30 s). FP_ERR_IO when nothing listens there.
 */
fp_status fp_svc_connect(fp_svc_client **out, const char *path, double timeout_s, fp_error *err);
/* Closes the connection: the service restores what this connection's leases changed. */
void fp_svc_close(fp_svc_client *c);
/* The service's view of us from hello: uid, user name, service version. */
long fp_svc_client_uid(const fp_svc_client *c);
const char *fp_svc_client_user(const fp_svc_client *c);
const char *fp_svc_client_path(const fp_svc_client *c);

/*
 * Sends req and waits for its reply. *reply_json (may be NULL) receives the reply line
 * (malloc'ed, without the newline). A reply with "ok": false becomes an error: err holds
 * "freqpilotd: MESSAGE" and *code (may be NULL) its fp_svc_errcode (-1 for transport errors);
 * the status is FP_ERR_INVALID for denied, out_of_range, bad_request, unknown_gpu, busy and
 * revoked, FP_ERR_UNSUPPORTED for unsupported, FP_ERR_IO otherwise.
 */
fp_status fp_svc_call(fp_svc_client *c, const fp_svc_request *req, char **reply_json, int *code,
                      fp_error *err);

/* Typed calls (gpu: an index or UUID). */
fp_status fp_svc_acquire(fp_svc_client *c, const char *gpu, int *code, fp_error *err);
/* *reached_mhz: the clock read back by the service (NAN when unknown); *used_app_clocks: 1
 * when application clocks were set instead (app_fallback). Both may be NULL. */
fp_status fp_svc_lock(fp_svc_client *c, const char *gpu, unsigned min_mhz, unsigned max_mhz,
                      int app_fallback, double *reached_mhz, int *used_app_clocks, int *code,
                      fp_error *err);
fp_status fp_svc_reset(fp_svc_client *c, const char *gpu, int *code, fp_error *err);
fp_status fp_svc_power_limit(fp_svc_client *c, const char *gpu, double watts, int *code,
                             fp_error *err);
fp_status fp_svc_reset_power_limit(fp_svc_client *c, const char *gpu, int *code, fp_error *err);
fp_status fp_svc_release(fp_svc_client *c, const char *gpu, int *code, fp_error *err);
fp_status fp_svc_detach(fp_svc_client *c, const char *gpu, int *code, fp_error *err);

#ifdef __cplusplus
}
#endif
#endif
