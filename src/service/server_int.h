/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_SERVICE_SERVER_INT_H
#define FP_SERVICE_SERVER_INT_H

/* Inside freqpilotd: what server.c (sockets) and leases.c (GPUs, leases, policy) share. */

#include <jansson.h>
#include <poll.h>
#include <sys/types.h>

#include "freqpilot/clockguard.h"
#include "freqpilot/freqpilotd.h"
#include "freqpilot/gpu.h"
#include "service/policy.h"
#include "service/server.h"
#include "service/slurm_jobs.h"

#define SVC_MAX_GPUS 64
#define SVC_SLURM_CACHE 64

typedef struct svc_conn {
    unsigned long long id;
    int fd;
    pid_t pid;
    fp_svc_who who;
    char comm[32];
    char in[FP_SVC_MAX_LINE];
    size_t in_len;
    double line_started;
    char *out;
    size_t out_len, out_cap;
    int closing; /* 1: after the replies are sent; 2: now */
} svc_conn;

/* A GPU and its lease. */
typedef struct svc_gpu {
    fp_gpu *gpu;
    fp_gpu_info info;
    fp_clockguard *guard; /* NULL = not leased */
    svc_conn *holder;     /* NULL with a guard: detached (held for uid) */
    uid_t uid;
    char user[64];
    long pid;
    char comm[32];
    double since_utc_s;
    int slurm; /* granted by a slurm = yes rule: checked against the jobs */
    /* A detached lease taken over by its user's new connection, which has changed nothing
     * yet: when that connection ends it is kept again, not restored (a refused apply must
     * not undo the apply before it). */
    int adopted_unchanged;
    char revoked_msg[1100]; /* the last lease taken back from holder_id: why */
    unsigned long long revoked_conn;
} svc_gpu;

typedef struct svc_slurm_entry {
    uid_t uid;
    double at;
    fp_status st;
    char msg[1100];
    fp_svc_slurm_jobs jobs;
} svc_slurm_entry;

struct fp_svc_server {
    fp_svc_config cfg;
    fp_svc_log_fn log;
    void *log_user;
    const fp_gpu_backend *be;
    int be_open;
    int instance_fd; /* the lock of its state folder */
    int listen_fd, bound;
    double accept_paused_until;
    svc_conn **conns;
    size_t n_conns;
    struct pollfd *pfds;
    unsigned long long next_conn_id, requests;
    svc_gpu gpus[SVC_MAX_GPUS];
    unsigned n_gpus;
    svc_slurm_entry slurm[SVC_SLURM_CACHE];
    double next_slurm_check;
};

void svc_log(fp_svc_server *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void svc_conn_name(const svc_conn *c, char *buf, size_t size);
/* Replies (reply is stolen; req may be NULL). */
void svc_reply(svc_conn *c, const fp_svc_request *req, json_t *reply);
void svc_reply_error(svc_conn *c, const fp_svc_request *req, fp_svc_errcode code, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

/* leases.c */
fp_status svc_leases_open(fp_svc_server *s, fp_error *err);
void svc_leases_close(fp_svc_server *s);
void svc_leases_conn_closed(fp_svc_server *s, svc_conn *c);
void svc_leases_tick(fp_svc_server *s);
void svc_dispatch(fp_svc_server *s, svc_conn *c, const fp_svc_request *req);
void svc_slurm_forget(fp_svc_server *s);

#endif
