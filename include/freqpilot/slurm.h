/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_SLURM_H
#define FREQPILOT_SLURM_H

/*
 * Sweeps as Slurm job arrays (docs/cluster.md). Files kept in the dataset:
 *
 *   DATASET/slurm/sweep.sbatch      the batch script (for the record; resubmitted by --resume)
 *   DATASET/slurm/jobs.json         {"gpu", "app", "clocks_mhz", "clocks_per_task", "runs",
 *                                    "warmup", "tasks", "submissions": [{"job_id", "array",
 *                                    "task_ids", "submitted_utc"}]}
 *   DATASET/slurm/tasks/<id>.json   written by each task: {"task", "state": running|done|failed,
 *                                    "job_id", "array_job_id", "host", "pid", "start_utc",
 *                                    "end_utc", "error"}
 *   DATASET/slurm/logs/%A_%a.out    the tasks' stdout/stderr
 */

#include <stddef.h>

#include "freqpilot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP_SLURM_MAX_TASKS 4096

typedef struct fp_slurm_script_opts {
    const char *job_name;
    const char *partition, *account, *time_limit, *gres; /* NULL = not given */
    int n_tasks;
    int array_parallel; /* 0 = no limit */
    const char *workdir;
    const char *log_dir;
    char *const *argv;            /* the task's command line (freqpilot ... --slurm-task) */
    const char *task_placeholder; /* argv element replaced by "$SLURM_ARRAY_TASK_ID" */
} fp_slurm_script_opts;

/* The sbatch script text (malloc'ed into *out). */
fp_status fp_slurm_script(const fp_slurm_script_opts *o, char **out, fp_error *err);

/* "0-3" / "1,4,7-9" for sorted task ids; buf of size >= 16. */
void fp_slurm_array_spec(const int *ids, size_t n, char *buf, size_t size);

/*
 * Runs `SBATCH --parsable [--array=SPEC] [extra] SCRIPT` (no shell); the job id (text before
 * ';') goes to job_id. sbatch NULL = "sbatch" in PATH.
 */
fp_status fp_slurm_submit(const char *sbatch, const char *script, const char *array_spec,
                          char *const *extra, char *job_id, size_t size, fp_error *err);

typedef struct fp_slurm_jobs {
    char gpu[64], app[64];
    double clocks_mhz[512];
    size_t n_clocks;
    int clocks_per_task, runs, warmup, n_tasks;
    size_t n_sub;
    struct fp_slurm_sub {
        char job_id[64];
        char array[256];
    } sub[64];                        /* the latest 64 submissions */
    int task_job[FP_SLURM_MAX_TASKS]; /* index into sub of the latest submission of task, -1 */
} fp_slurm_jobs;

/* Reads DATASET/slurm/jobs.json; FP_ERR_IO when absent. */
fp_status fp_slurm_jobs_read(const char *dataset, fp_slurm_jobs *j, fp_error *err);
/* Adds a submission (creating the file with the sweep's description j when absent). */
fp_status fp_slurm_jobs_add(const char *dataset, const fp_slurm_jobs *j, const char *job_id,
                            const int *task_ids, size_t n, fp_error *err);

typedef enum { FP_TASK_NONE = 0, FP_TASK_RUNNING, FP_TASK_DONE, FP_TASK_FAILED } fp_task_state;

/* DATASET/slurm/tasks/<id>.json, atomically; error may be NULL. */
fp_status fp_slurm_task_write(const char *dataset, int task, fp_task_state state, const char *error,
                              fp_error *err);
/* FP_TASK_NONE when absent; host/pid (may be NULL) of the writer. */
fp_task_state fp_slurm_task_read(const char *dataset, int task, char *host, size_t host_size,
                                 long *pid, char *msg, size_t msg_size);

/*
 * Which tasks of array job job_id are queued or running (squeue -h -r -j JOB -o "%i %T"):
 * queued[t] = 'R' running, 'P' pending/other, 0 not in the queue. Returns -1 when squeue
 * cannot be run (no Slurm here).
 */
int fp_slurm_queue(const char *squeue, const char *job_id, char *queued, int n_tasks);

#ifdef __cplusplus
}
#endif
#endif
