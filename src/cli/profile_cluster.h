/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_CLI_PROFILE_CLUSTER_H
#define FP_CLI_PROFILE_CLUSTER_H

/*
 * The cluster half of `freqpilot profile` (docs/cluster.md): Slurm job-array submission and
 * tasks, and one sweep per GPU when several GPUs are named. src/cli/profile.c parses the
 * options and hands over here.
 */

#include "cli/parse_options.h"
#include "freqpilot/sweep.h"

typedef struct cluster_opts {
    int slurm, dry_run, resume, task_id, clocks_per_task, array_parallel;
    const char *partition, *account, *time_limit, *gres, *sbatch, *squeue;
    const char *sbatch_args[17]; /* NULL-terminated */
    size_t n_sbatch_args;
} cluster_opts;

/* Set in a per-GPU child or a Slurm task, so it does not fan out again. */
extern int in_cluster_child;

/* argv as given; argv[1..opt_end): the options (opts: profile's table), passed on to the tasks
 * but for the submitter's own. */
int cluster_submit(fp_sweep_opts *o, const cluster_opts *co, int argc, char **argv, int opt_end,
                   const cli_option *opts);
int cluster_gpus(int argc, char **argv, const char *spec, int spec_at);
const char *find_arg(int argc, char **argv, const char *name, int *at);
int cluster_task(int argc, char **argv, const char *id_s);

#endif
