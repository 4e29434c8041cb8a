/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_SERVICE_SLURM_JOBS_H
#define FP_SERVICE_SLURM_JOBS_H

/*
 * Which GPUs of this node a user's running Slurm jobs hold, for freqpilotd's Slurm mode
 * (docs/freqpilotd.md): `squeue -h -t R -u UID -w NODE -o %A` lists the user's running jobs
 * here, `scontrol -d show job ID` gives each job's GPUs on this node (GRES=gpu...(IDX:0-1)).
 * Both run as an unprivileged user ([slurm] run_as, default nobody) with a clean
 * environment and a time limit, never as root. The GRES index is the GPU's NVML index, as it
 * is where gres.conf lists /dev/nvidia0, /dev/nvidia1, ... in order (AutoDetect=nvml does).
 */

#include <stddef.h>
#include <sys/types.h>

#include "freqpilot/error.h"
#include "service/policy.h"

#define FP_SVC_SLURM_MAX_JOBS 32
#define FP_SVC_SLURM_MAX_GPUS 64

typedef struct fp_svc_slurm_jobs {
    size_t n_jobs;
    long jobs[FP_SVC_SLURM_MAX_JOBS];
    size_t n_gpus;
    unsigned gpus[FP_SVC_SLURM_MAX_GPUS]; /* GPU indices held here (with gpus_from = gres) */
} fp_svc_slurm_jobs;

/* The node name the service asks Slurm about: cfg->node or the short host name. */
void fp_svc_slurm_node(const fp_svc_config *cfg, char *buf, size_t size);

/* Running jobs of uid on this node and the GPUs they hold (see above). */
fp_status fp_svc_slurm_query(const fp_svc_config *cfg, uid_t uid, fp_svc_slurm_jobs *out,
                             fp_error *err);

/* Whether a job of out holds GPU index (every GPU with gpus_from = node and a job). */
int fp_svc_slurm_holds(const fp_svc_config *cfg, const fp_svc_slurm_jobs *jobs, unsigned index);

/* ---- parsers (unit-tested) ---- */

/* Job ids, one per line (squeue -o %A); anything else is an error. */
fp_status fp_svc_slurm_parse_ids(const char *text, long *jobs, size_t max, size_t *n,
                                 fp_error *err);
/*
 * The GPU indices that `scontrol -d show job` text gives node (appended to gpus[*n], at most
 * max in all); *on_node = 1 when one of its Nodes= lines names node.
 */
fp_status fp_svc_slurm_parse_job(const char *text, const char *node, unsigned *gpus, size_t max,
                                 size_t *n, int *on_node, fp_error *err);
/* Whether a Slurm host list ("vm", "gpu[01-04,07],login1") names node. */
int fp_svc_hostlist_has(const char *list, const char *node);

/*
 * Runs argv[0] (an absolute path) as user run_as with environment envp, for at most
 * timeout_s; its stdout (at most out_size - 1 bytes, NUL-terminated) in out. A non-zero exit,
 * a signal or the time limit is an error quoting the first line of its stderr.
 */
fp_status fp_svc_run_helper(char *const argv[], const char *run_as, char *const envp[],
                            double timeout_s, char *out, size_t out_size, fp_error *err);

#endif
