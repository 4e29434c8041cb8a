/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot run without input: the simulated sweep it reports on (run_int.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run_int.h"
#include "freqpilot/aggregate.h"
#include "freqpilot/atomic.h"
#include "freqpilot/sim.h"

/* ---- simulated sweep ---- */

static int in_list(const char *list, const char *name)
{
    if (!list[0])
        return 1;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (strcasecmp(t, name) == 0)
            return 1;
    return 0;
}

/* One (gpu, workload) of the simulated sweep, simulated into its own buffer. */
typedef struct sim_task {
    unsigned g, w;
    char *buf;
    size_t len;
    fp_status st;
    fp_error err;
} sim_task;

typedef struct sim_pool {
    const fp_run_config *cfg;
    sim_task *tasks;
    size_t ntasks;
    atomic_size_t next; /* next task to take */
    atomic_size_t done; /* runs simulated, for the progress bar */
} sim_pool;

static void sim_one(sim_pool *p, sim_task *t, cli_progress *pr)
{
    const fp_run_config *cfg = p->cfg;
    const fp_sim_gpu *gpu = fp_sim_gpu_at(t->g);
    const fp_sim_workload *wl = fp_sim_workload_at(t->w);
    FILE *m = open_memstream(&t->buf, &t->len);
    if (!m) {
        t->st = fp_error_set(&t->err, FP_ERR_NOMEM, "out of memory");
        return;
    }
    unsigned pos = 0;
    for (int rep = 1; rep <= cfg->runs && !t->st; rep++) {
        for (unsigned c = 0; c < gpu->n_clocks && !t->st; c += (unsigned)cfg->clock_step) {
            fp_sim_run_opts o;
            fp_sim_run_opts_default(&o);
            o.clock_mhz = gpu->clocks_mhz[c];
            o.interval_s = 1.0;
            o.idle_before_s = o.idle_after_s = 0;
            o.run_position = pos;
            o.knobs.seed = cfg->seed + (uint64_t)t->g * 1000003u + (uint64_t)t->w * 10007u;
            fp_sim_run_result r;
            t->st = fp_sim_run(gpu, wl, &o, NULL, NULL, &r, &t->err);
            if (t->st)
                break;
            fprintf(m, "%s,%s,%u,%u,%d,%.6g,%.6g,%.6g,%u,%s (simulated)\n", gpu->short_name,
                    wl->name, gpu->clocks_mhz[c], pos + 1, rep, r.time_s, r.energy_j / r.time_s,
                    r.energy_j, r.reached_mhz, gpu->name);
            pos++;
            size_t d = atomic_fetch_add(&p->done, 1) + 1;
            if (pr)
                cli_progress_update(pr, (double)d);
        }
    }
    if (fclose(m) != 0 && !t->st)
        t->st = fp_error_set(&t->err, FP_ERR_NOMEM, "out of memory");
}

static void *sim_worker(void *arg)
{
    sim_pool *p = arg;
    for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < p->ntasks;)
        sim_one(p, &p->tasks[i], NULL);
    return NULL;
}

/*
 * Every selected GPU x workload x clock (every clock_step-th supported one) x runs, in an
 * interleaved order (repetition-major: all clocks once, then again), noise and drift on,
 * written as a per-run table that `freqpilot aggregate` reads like measured_runs.csv.
 * The (gpu, workload) pairs are independent (each has its own seed and run positions), so
 * up to jobs threads simulate them; the file lists them in the same order either way.
 */
fp_status run_simulate(const fp_run_config *cfg, const char *path, int jobs, fp_error *err)
{
    sim_pool pool;
    memset(&pool, 0, sizeof pool);
    pool.cfg = cfg;
    size_t total = 0;
    pool.tasks = calloc(fp_sim_gpu_count() * fp_sim_workload_count() + 1, sizeof *pool.tasks);
    if (!pool.tasks)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    for (unsigned g = 0; g < fp_sim_gpu_count(); g++)
        if (in_list(cfg->gpus, fp_sim_gpu_at(g)->short_name))
            for (unsigned w = 0; w < fp_sim_workload_count(); w++)
                if (in_list(cfg->workloads, fp_sim_workload_at(w)->name)) {
                    pool.tasks[pool.ntasks].g = g;
                    pool.tasks[pool.ntasks++].w = w;
                    total += (fp_sim_gpu_at(g)->n_clocks + (unsigned)cfg->clock_step - 1) /
                             (unsigned)cfg->clock_step * (unsigned)cfg->runs;
                }
    atomic_init(&pool.next, 0);
    atomic_init(&pool.done, 0);
    cli_progress *pr = cli_progress_start("simulating", (double)total);
    pthread_t th[8];
    int nth = 0;
    for (int i = 1; i < jobs && i <= 8 && (size_t)i < pool.ntasks; i++)
        if (pthread_create(&th[nth], NULL, sim_worker, &pool) == 0)
            nth++;
    /* This thread works too, and draws the progress bar. */
    for (size_t i; (i = atomic_fetch_add(&pool.next, 1)) < pool.ntasks;)
        sim_one(&pool, &pool.tasks[i], pr);
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    cli_progress_stop(pr);
    fp_status st = FP_OK;
    for (size_t i = 0; i < pool.ntasks && !st; i++)
        if (pool.tasks[i].st) {
            st = pool.tasks[i].st;
            if (err)
                *err = pool.tasks[i].err;
        }
    fp_atomic_file af;
    if (!st)
        st = fp_atomic_open(&af, path, err);
    if (!st) {
        fprintf(af.fp, "gpu,workload,freq_mhz,run_index,repetition,time_s,avg_power_w,energy_j,"
                       "sm_clock_mhz,gpu_name\n");
        for (size_t i = 0; i < pool.ntasks; i++)
            if (pool.tasks[i].len)
                fwrite(pool.tasks[i].buf, 1, pool.tasks[i].len, af.fp);
        st = fp_atomic_commit(&af, err);
    }
    for (size_t i = 0; i < pool.ntasks; i++)
        free(pool.tasks[i].buf);
    free(pool.tasks);
    return st;
}
