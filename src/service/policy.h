/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_SERVICE_POLICY_H
#define FP_SERVICE_POLICY_H

/*
 * freqpilotd's configuration and access policy: one INI file (/etc/freqpilot/freqpilotd.conf,
 * contrib/freqpilotd.conf, docs/freqpilotd.md):
 *
 *   [service]   socket, socket_mode, socket_group, backend, state_dir, lock_dir,
 *               max_clients, max_clients_per_user, request_timeout_s
 *   [slurm]     squeue, scontrol, run_as, node, slurm_conf, gpus_from, timeout_s, cache_s,
 *               check_s
 *   [allow NAME] users, groups, gpus, clocks, power_limit, slurm   (any number of rules)
 *
 * Nobody but root may change anything unless a rule allows it. The first rule (in file
 * order) that names the user (or one of their groups) and the GPU decides the ranges; with
 * slurm = yes the user must also have a running job on this node that holds the GPU.
 * Unknown sections and keys, malformed values and a file that others than its owner (root or
 * the service's user) may change are refused with file:line and what was expected.
 */

#include <stddef.h>
#include <sys/types.h>

#include "freqpilot/error.h"

#define FP_SVCP_MAX_RULES 64
#define FP_SVCP_MAX_ITEMS 32
#define FP_SVC_CONFIG_DEFAULT "/etc/freqpilot/freqpilotd.conf"

typedef enum fp_svc_range_kind {
    FP_SVC_RANGE_NONE = 0, /* not allowed */
    FP_SVC_RANGE_ANY,      /* the GPU's own range */
    FP_SVC_RANGE_SPAN,     /* [lo, hi] (and the GPU's own range) */
} fp_svc_range_kind;

typedef struct fp_svc_range {
    fp_svc_range_kind kind;
    double lo, hi;
} fp_svc_range;

typedef struct fp_svc_rule {
    char name[64];
    int line; /* of its [allow NAME] header */
    int n_users, n_groups, n_gpus;
    char users[FP_SVCP_MAX_ITEMS][64]; /* names, uids, or "*" */
    char groups[FP_SVCP_MAX_ITEMS][64];
    char gpus[FP_SVCP_MAX_ITEMS][96]; /* indices, UUIDs, or "all" */
    fp_svc_range clocks, power;
    int slurm;
} fp_svc_rule;

typedef struct fp_svc_config {
    char path[4096]; /* "" = built-in defaults */
    /* [service] */
    char socket[108];
    unsigned socket_mode;
    char socket_group[64];
    char backend[16];
    char state_dir[4096];
    char lock_dir[4096]; /* "" = the GPU lease module's default */
    int max_clients, max_clients_per_user;
    double request_timeout_s; /* a request line must be complete within this */
    /* [slurm] */
    char squeue[1024], scontrol[1024];
    char run_as[64];
    char node[256]; /* "" = the short host name */
    char slurm_conf[1024];
    int gpus_from_node; /* 0: the job's GPUs (GRES IDX); 1: any job on the node holds all */
    double slurm_timeout_s, slurm_cache_s, slurm_check_s;
    size_t n_rules;
    fp_svc_rule rules[FP_SVCP_MAX_RULES];
} fp_svc_config;

/* Built-in defaults: no rules (nobody but root), the default socket, state and lock folders. */
void fp_svc_config_defaults(fp_svc_config *cfg);
/* Reads path over the defaults (checks its owner and mode first). */
fp_status fp_svc_config_load(const char *path, fp_svc_config *cfg, fp_error *err);
/* The same from text (origin names it in messages); no ownership check. */
fp_status fp_svc_config_parse(const char *text, const char *origin, fp_svc_config *cfg,
                              fp_error *err);

/* A client as the policy sees it. */
typedef struct fp_svc_who {
    uid_t uid;
    gid_t gid;
    char user[64]; /* "" when the uid has no passwd entry */
    int ngroups;
    gid_t groups[256];
} fp_svc_who;

/* Fills who from a uid and gid (passwd and group database). */
void fp_svc_who_fill(fp_svc_who *who, uid_t uid, gid_t gid);

/*
 * The rule that lets who control GPU (index, uuid): NULL when none, with why (may be NULL)
 * saying what the policy does allow them (the message for a refusal). Root: never called
 * (root may do anything the GPU allows).
 */
const fp_svc_rule *fp_svc_policy_rule(const fp_svc_config *cfg, const fp_svc_who *who,
                                      unsigned index, const char *uuid, char *why, size_t why_size);

/*
 * Whether [lo, hi] lies in range r; with why (may be NULL) naming what is allowed
 * ("900..1410 MHz") when not. unit: "MHz" or "W".
 */
int fp_svc_range_allows(const fp_svc_range *r, double lo, double hi, const char *unit, char *why,
                        size_t why_size);

#endif
