/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot profile: sweep SM clocks while a workload runs (docs/profile.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/clockguard.h"
#include "freqpilot/dataset.h"
#include "freqpilot/sim.h"
#include "profile/adaptive_sweep.h"
#include "profile/slurm.h"
#include "profile/sweep.h"

static const char *const help_text =
    "usage: freqpilot profile [OPTIONS] -- COMMAND [ARGS...]\n"
    "       freqpilot profile --backend sim --workload NAME|INI [OPTIONS]\n"
    "\n"
    "Runs COMMAND once per (clock, repetition) with the SM clock locked, samples the GPU on a\n"
    "dedicated thread and writes DATASET/<gpu>/<app>/<MHz>/<run>/{telemetry.csv,run.json}.\n"
    "The clocks are restored on exit, error, SIGINT, SIGTERM and SIGHUP; after a SIGKILL run\n"
    "'freqpilot restore'. Running the same command again resumes: finished runs are kept.\n"
    "\n"
    "Options:\n"
    "   --gpu INDEX|UUID        GPU to profile (0; sim: V100, A100, H100)\n"
    "   --clocks SPEC           all | 1410,1200,... | MIN:MAX[:STEP] (all); snapped to\n"
    "                           supported clocks, duplicates removed\n"
    "   --runs N                measured runs per clock (3)\n"
    "   --warmup N              discarded warm-up runs per clock (1), recorded as w1, w2...\n"
    "   --interval-ms MS        sampling interval (50)\n"
    "   --cooldown S            idle seconds after each run (0)\n"
    "   --order ORDER           random | interleaved | descending (random)\n"
    "   --baseline-every N      random order: revisit the highest clock every N runs (10;\n"
    "                           0 = never)\n"
    "   --seed N                seed of the random order and of the simulated GPU (1)\n"
    "   --app NAME              application name in the dataset (command or workload name)\n"
    "   --out DATASET           output folder (dataset)\n"
    "   --backend nvml|sim      GPU backend (nvml)\n"
    "   --workload NAME|INI     sim backend: built-in simulated workload (llama, sd, vit,\n"
    "                           whisper, lstm) or an INI file, run in simulated time\n"
    "   --sim-noise off|on|X    sim backend: off = no time, power or reading noise (runs\n"
    "                           follow the simulator's truth), X scales the noise (on)\n"
    "   --no-clock-control      sample only: never change clocks; runs are filed under the\n"
    "                           clock the GPU runs at\n"
    "   --run-timeout S         kill a run's process group after S seconds (none)\n"
    "   --on-failure continue|stop   after a failed run (continue)\n"
    "   --force                 start over an unrestored state file / a different dataset\n"
    "   --sampler nvml|dcgmi    dcgmi: also run 'dcgmi dmon' for SM/tensor/DRAM activity\n"
    "   --dcgmi PATH            dcgmi executable (dcgmi in PATH)\n"
    "   --state-dir DIR         clock state files ($FREQPILOT_STATE_DIR or the default)\n"
    "\n"
    "Cluster (docs/cluster.md):\n"
    "   --gpu all|0,1,...       one sweep per GPU in parallel into DATASET/gpu<index>, the\n"
    "                           workload with CUDA_VISIBLE_DEVICES=<that GPU's UUID>\n"
    "   --slurm                 submit the sweep as a Slurm job array (sbatch --parsable);\n"
    "                           the script is kept in DATASET/slurm/sweep.sbatch, the job ids\n"
    "                           in DATASET/slurm/jobs.json\n"
    "   --clocks-per-task K     clocks per array task (1); the order within a task is\n"
    "                           shuffled with --seed + task id\n"
    "   --partition P, --account A, --time HH:MM:SS, --gres gpu:1   sbatch options\n"
    "   --array-parallel N      at most N array tasks at once (%N)\n"
    "   --resume                with --slurm: submit only the tasks whose runs are missing\n"
    "   --dry-run               with --slurm: print the script, submit nothing\n"
    "   --sbatch PATH, --squeue PATH   Slurm commands (in PATH)\n"
    "   --sbatch-arg ARG        extra sbatch argument (repeatable)\n"
    "   --slurm-task ID         run array task ID's slice (used by the script)\n"
    "\n"
    "Adaptive sweep (docs/profile.md):\n"
    "   --strategy full|adaptive  full: every clock x --runs (full); adaptive: measure the\n"
    "                           top clock, then only the clocks that narrow the optimum of\n"
    "                           --objective under the model's uncertainty, repeating runs\n"
    "                           only where noise matters; stops when the optimum is known\n"
    "                           within --tolerance; writes DATASET/adaptive.json and\n"
    "                           DATASET/curves.json (--warmup: warm-ups per session)\n"
    "   --objective O           adaptive: energy | time | edp | ed2p | ednp:N | cost:ETA\n"
    "                           (energy)\n"
    "   --max-slowdown X        adaptive: slowdown budget against the top clock, 0.05 = 5 %\n"
    "                           (none)\n"
    "   --tolerance X           adaptive: stop when the choice is within X of the optimum at\n"
    "                           95 % confidence (0.01)\n"
    "   --max-runs N            adaptive: cap on measured runs (30)\n"
    "\n"
    "The workload can mark its inference window by printing 'FREQPILOT_MARK begin' and\n"
    "'FREQPILOT_MARK end' lines on stdout, or by writing 'begin'/'end' to the pipe named in\n"
    "$FREQPILOT_MARK_FIFO. Its stdout and stderr are kept in the run folder.\n";

enum {
    OPT_GPU = 256,
    OPT_CLOCKS,
    OPT_RUNS,
    OPT_WARMUP,
    OPT_INTERVAL,
    OPT_COOLDOWN,
    OPT_ORDER,
    OPT_BASELINE,
    OPT_SEED,
    OPT_APP,
    OPT_OUT,
    OPT_BACKEND,
    OPT_WORKLOAD,
    OPT_NO_CLOCK,
    OPT_TIMEOUT,
    OPT_ON_FAILURE,
    OPT_FORCE,
    OPT_SAMPLER,
    OPT_DCGMI,
    OPT_STATE_DIR,
    OPT_SIM_NOISE,
    OPT_SLURM,
    OPT_SLURM_TASK,
    OPT_CLOCKS_PER_TASK,
    OPT_PARTITION,
    OPT_ACCOUNT,
    OPT_TIME,
    OPT_GRES,
    OPT_ARRAY_PARALLEL,
    OPT_DRY_RUN,
    OPT_RESUME,
    OPT_SBATCH,
    OPT_SBATCH_ARG,
    OPT_SQUEUE,
    OPT_STRATEGY,
    OPT_OBJECTIVE,
    OPT_MAX_SLOWDOWN,
    OPT_TOLERANCE,
    OPT_MAX_RUNS,
};

/* Progress bar (src/cli/progress.c): runs done, elapsed, ETA, and the current clock/run. */
typedef struct progress {
    cli_progress *bar; /* NULL off a terminal */
    int started;
    size_t done_here, skipped;
} progress;

static void on_event(void *user, const fp_sweep_event *ev)
{
    progress *p = user;
    if (!p->started) {
        p->bar = cli_progress_start("profile", (double)ev->total);
        p->started = 1;
    }
    const fp_sweep_item *it = ev->item;
    if (ev->skipped) {
        p->skipped++;
        cli_debug("%u MHz %s%d: done earlier, skipped", it->clock_mhz, it->warmup ? "w" : "run ",
                  it->repetition);
        cli_progress_update(p->bar, (double)(p->done_here + p->skipped));
        return;
    }
    char what[64];
    snprintf(what, sizeof what, "%u MHz %s %d", it->clock_mhz, it->warmup ? "warm-up" : "run",
             it->repetition);
    cli_progress_set_label(p->bar, what);
    if (!ev->finished) {
        cli_progress_update(p->bar, (double)(p->done_here + p->skipped));
        return;
    }
    p->done_here++;
    if (ev->clock_not_held)
        cli_warn("%u MHz requested, %.0f MHz read back (clock_not_held)", it->clock_mhz,
                 ev->readback_mhz);
    cli_info("%u MHz %s %d: exit %d%s", it->clock_mhz, it->warmup ? "warm-up" : "run",
             it->repetition, ev->exit_status, ev->timed_out ? " (timed out)" : "");
    cli_progress_update(p->bar, (double)(p->done_here + p->skipped));
}

static void on_tick(void *user)
{
    progress *p = user;
    cli_progress_update(p->bar, (double)(p->done_here + p->skipped));
}

/* The adaptive sweep's summary: on stderr unless -q. */
static void __attribute__((format(printf, 1, 2))) summary_line(const char *fmt, ...)
{
    if (cli_verbosity < 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("adaptive: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* --strategy adaptive: the answer, its confidence and what it cost, on stderr. */
static void adaptive_summary(const fp_adaptive_sweep_result *r, const fp_adaptive_options *ao)
{
    const fp_adaptive_result *a = &r->result;
    char budget[64] = "";
    if (isfinite(ao->max_slowdown))
        snprintf(budget, sizeof budget, ", slowdown <= %.1f %%", 100 * ao->max_slowdown);
    summary_line("%s%s: %.0f MHz (%s): %s", ao->objective.name, budget, a->freq_mhz,
                 a->converged ? "converged" : "not converged", a->reason);
    if (isfinite(a->energy_lo))
        summary_line("predicted at %.0f MHz: %.4g s, %.4g J (95 %% interval %.4g..%.4g J)",
                     a->freq_mhz, a->time_s, a->energy_j, a->energy_lo, a->energy_hi);
    summary_line("%d run(s) (%zu from earlier sessions) at %d of %zu clocks, %zu warm-up(s)",
                 a->runs, r->resumed_runs, a->clocks, r->n_clocks, r->warmup_runs);
    summary_line("GPU time %.1f s (+%.1f s warm-up) vs ~%.1f s for the full sweep (%zu "
                 "runs): %.1f %%",
                 a->gpu_time_s, isfinite(r->warmup_time_s) ? r->warmup_time_s : 0.0,
                 r->full_sweep_gpu_time_s, r->full_sweep_runs, 100 * r->gpu_time_fraction);
    if (!a->clock_bound && r->have_model)
        cli_warn("adaptive: the time is not explained by the clock: no time/energy predictions");
    summary_line("wrote %s%s%s", r->adaptive_json, r->curves_json[0] ? " and " : "",
                 r->curves_json);
}

static int parse_count(const char *opt, const char *s, long lo, long hi, long *out)
{
    if (cli_parse_long(s, out) || *out < lo || *out > hi)
        return cli_usage_error("profile", "%s %s: expected an integer %ld..%ld", opt, s, lo, hi);
    return 0;
}

/* ---- cluster sweeps: Slurm job arrays and several GPUs at once (docs/cluster.md) ---- */

typedef struct cluster_opts {
    int slurm, dry_run, resume, task_id, clocks_per_task, array_parallel;
    const char *partition, *account, *time_limit, *gres, *sbatch, *squeue;
    char *sbatch_args[17];
    int n_sbatch_args;
} cluster_opts;

/* Options of the submitter only: not passed on to the tasks. */
static const char *const submit_only[] = {
    "slurm",  "partition", "account",    "time",   "gres", "array-parallel", "dry-run",
    "resume", "sbatch",    "sbatch-arg", "squeue", "out",  "slurm-task",     NULL};

static const struct option *find_longopt(const struct option *lo, const char *name, size_t len)
{
    const struct option *hit = NULL;
    for (; lo->name; lo++) {
        if (strlen(lo->name) == len && strncmp(lo->name, name, len) == 0)
            return lo;
        if (strncmp(lo->name, name, len) == 0)
            hit = hit ? hit : lo; /* an abbreviation, as getopt_long accepts */
    }
    return hit;
}

static const char *app_name(const fp_sweep_opts *o)
{
    const char *app = o->app;
    if (!app)
        app = o->sim_workload ? o->sim_workload->name : o->argv[0];
    const char *slash = strrchr(app, '/');
    return slash && !o->app ? slash + 1 : app;
}

static int cmp_desc_u(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * The sweep's clock list, high to low: the dataset's manifest when a task wrote it, else the
 * GPU here (sim, or a GPU node), else an explicit --clocks list as given.
 */
static int cluster_clocks(const fp_sweep_opts *o, unsigned *clocks, size_t *n, char *gpu,
                          size_t gpu_size)
{
    char path[4200];
    fp_error err;
    *n = 0;
    gpu[0] = 0;
    snprintf(path, sizeof path, "%s/manifest.json", o->out_dir);
    fp_dataset_manifest *m = calloc(1, sizeof *m);
    if (m && access(path, F_OK) == 0 && fp_dataset_read_manifest(path, m, &err) == FP_OK) {
        for (size_t i = 0; i < m->n_clocks && *n < FP_GPU_MAX_CLOCKS; i++)
            clocks[(*n)++] = (unsigned)lround(m->clocks_mhz[i]);
        snprintf(gpu, gpu_size, "%s", m->gpu_short);
        free(m);
        return *n ? 0 : -1;
    }
    free(m);
    fp_gpu_info *info = calloc(1, sizeof *info);
    fp_gpu *g = NULL;
    if (info && o->be->init(&err) == FP_OK) {
        if (o->be->open(o->gpu_id ? o->gpu_id : "0", &g, &err) == FP_OK &&
            o->be->info(g, info, &err) == FP_OK &&
            fp_sweep_parse_clocks(o->clocks, info, clocks, FP_GPU_MAX_CLOCKS, n, &err) == FP_OK)
            snprintf(gpu, gpu_size, "%s", info->short_name);
        else
            *n = 0;
        if (g)
            o->be->close(g);
        o->be->shutdown();
    }
    free(info);
    if (*n)
        return 0;
    /* No GPU here (a login node): an explicit list, snapped by the tasks on their GPU. */
    if (!o->clocks || !strchr("0123456789", o->clocks[0]) || strchr(o->clocks, ':')) {
        cli_error("--slurm: cannot read the GPU's clocks here (%s); give --clocks as a list "
                  "(1410,1200,...) or submit from a GPU node",
                  err.msg);
        return -1;
    }
    char *dup = strdup(o->clocks), *save = NULL;
    for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t && *n < FP_GPU_MAX_CLOCKS;
         t = strtok_r(NULL, ",", &save)) {
        double v;
        if (cli_parse_double(t, &v) || !(v > 0)) {
            free(dup);
            cli_error("--clocks %s: expected MHz values", o->clocks);
            return -1;
        }
        unsigned c = (unsigned)lround(v);
        int seen = 0;
        for (size_t i = 0; i < *n; i++)
            seen |= clocks[i] == c;
        if (!seen)
            clocks[(*n)++] = c;
    }
    free(dup);
    qsort(clocks, *n, sizeof *clocks, cmp_desc_u);
    return *n ? 0 : -1;
}

/* Every run of the task's clocks has its run.json (a failed run counts: it is not redone). */
static int task_complete(const fp_sweep_opts *o, const char *gpu, const char *app,
                         const unsigned *clocks, size_t n_clocks, int k, int task)
{
    if (!gpu[0])
        return 0;
    for (size_t c = (size_t)task * (size_t)k; c < n_clocks && c < (size_t)(task + 1) * k; c++) {
        for (int w = 0; w < 2; w++) {
            int count = w ? o->warmup : o->runs;
            for (int r = 1; r <= count; r++) {
                char path[4400];
                snprintf(path, sizeof path, "%s/%s/%s/%u/%s%d/run.json", o->out_dir, gpu, app,
                         clocks[c], w ? "w" : "", r);
                if (access(path, F_OK))
                    return 0;
            }
        }
    }
    return 1;
}

static int write_text(const char *path, const char *text, mode_t mode)
{
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int ok = f && fputs(text, f) >= 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    if (!ok || chmod(tmp, mode) || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* freqpilot profile --slurm: the job array script, then sbatch (docs/cluster.md). */
static int cluster_submit(fp_sweep_opts *o, const cluster_opts *co, int argc, char **argv,
                          int opt_end, const struct option *longopts)
{
    if (o->no_clock_control)
        return cli_usage_error("profile", "--slurm needs clock control (not --no-clock-control)");
    if (o->gpu_id && (strchr(o->gpu_id, ',') || strcasecmp(o->gpu_id, "all") == 0))
        return cli_usage_error("profile",
                               "--slurm runs one GPU per task: ask for it with "
                               "--gres gpu:1, not --gpu %s",
                               o->gpu_id);
    if (cli_mkdirs(o->out_dir)) {
        cli_error("%s: cannot create: %s", o->out_dir, strerror(errno));
        return EXIT_FAIL;
    }
    char dataset[4096], cwd[4096], exe[4096];
    if (!realpath(o->out_dir, dataset) || !getcwd(cwd, sizeof cwd)) {
        cli_error("%s: %s", o->out_dir, strerror(errno));
        return EXIT_FAIL;
    }
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0) {
        cli_error("cannot find the freqpilot executable (/proc/self/exe)");
        return EXIT_FAIL;
    }
    exe[el] = 0;
    o->out_dir = dataset;
    unsigned *clocks = calloc(FP_GPU_MAX_CLOCKS, sizeof *clocks);
    size_t n_clocks = 0;
    char gpu[64];
    if (!clocks || cluster_clocks(o, clocks, &n_clocks, gpu, sizeof gpu)) {
        free(clocks);
        return EXIT_FAIL;
    }
    int k = co->clocks_per_task, n_tasks = fp_sweep_n_tasks(n_clocks, k);
    if (n_tasks > FP_SLURM_MAX_TASKS) {
        free(clocks);
        return cli_usage_error("profile", "%d array tasks: at most %d (raise --clocks-per-task)",
                               n_tasks, FP_SLURM_MAX_TASKS);
    }
    const char *app = app_name(o);

    /* The task's command line: the same options, the absolute dataset, --slurm-task. */
    char **targv = calloc((size_t)argc + 16, sizeof *targv);
    char kbuf[32];
    int t = 0;
    targv[t++] = exe;
    targv[t++] = "profile";
    for (int i = 1; i < opt_end; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, "--", 2) == 0) {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            const struct option *lo = find_longopt(longopts, a + 2, len);
            int drop = 0;
            for (int s = 0; lo && submit_only[s]; s++)
                drop |= strcmp(lo->name, submit_only[s]) == 0;
            if (lo && strcmp(lo->name, "clocks-per-task") == 0)
                drop = 1; /* added below */
            int takes = lo && lo->has_arg == required_argument && !eq;
            if (!drop)
                targv[t++] = argv[i];
            if (takes && i + 1 < opt_end) {
                i++;
                if (!drop)
                    targv[t++] = argv[i];
            }
            continue;
        }
        targv[t++] = argv[i];
    }
    snprintf(kbuf, sizeof kbuf, "%d", k);
    targv[t++] = "--clocks-per-task";
    targv[t++] = kbuf;
    targv[t++] = "--out";
    targv[t++] = dataset;
    targv[t++] = "--slurm-task";
    targv[t++] = "@TASK@";
    if (o->argv) {
        targv[t++] = "--";
        for (char *const *a = o->argv; *a; a++)
            targv[t++] = *a;
    }
    targv[t] = NULL;

    char logs[4300], slurm_dir[4200], script_path[4300], job_name[96];
    snprintf(slurm_dir, sizeof slurm_dir, "%s/slurm", dataset);
    snprintf(logs, sizeof logs, "%s/logs", slurm_dir);
    snprintf(script_path, sizeof script_path, "%s/sweep.sbatch", slurm_dir);
    snprintf(job_name, sizeof job_name, "freqpilot-%s", app);
    fp_slurm_script_opts so = {
        .job_name = job_name,
        .partition = co->partition,
        .account = co->account,
        .time_limit = co->time_limit,
        .gres = co->gres,
        .n_tasks = n_tasks,
        .array_parallel = co->array_parallel,
        .workdir = cwd,
        .log_dir = logs,
        .argv = targv,
        .task_placeholder = "@TASK@",
    };
    char *script = NULL;
    fp_error err;
    int rc = EXIT_FAIL;
    if (fp_slurm_script(&so, &script, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    /* Which tasks: all, or (--resume) those with runs missing and not queued. */
    int *ids = calloc((size_t)n_tasks, sizeof *ids);
    size_t n_ids = 0;
    fp_slurm_jobs *jobs = calloc(1, sizeof *jobs);
    char *queued = calloc((size_t)n_tasks, 1), *q1 = calloc((size_t)n_tasks, 1);
    if (!ids || !jobs || !queued || !q1) {
        cli_error("out of memory");
        goto out2;
    }
    if (co->resume && fp_slurm_jobs_read(dataset, jobs, &err) == FP_OK && !co->dry_run) {
        for (size_t s = 0; s < jobs->n_sub; s++)
            if (fp_slurm_queue(co->squeue, jobs->sub[s].job_id, q1, n_tasks) == 0)
                for (int i = 0; i < n_tasks; i++)
                    queued[i] |= q1[i];
    }
    for (int i = 0; i < n_tasks; i++) {
        if (!co->resume)
            ids[n_ids++] = i;
        else if (queued[i])
            cli_info("task %d is queued or running: not resubmitted", i);
        else if (!task_complete(o, gpu, app, clocks, n_clocks, k, i))
            ids[n_ids++] = i;
    }
    if (co->dry_run) {
        fputs(script, stdout);
        printf("# would submit: sbatch --parsable --array=");
        char spec[1024];
        fp_slurm_array_spec(ids, n_ids, spec, sizeof spec);
        printf("%s%s%.0d %s\n", n_ids ? spec : "(none)", co->array_parallel ? "%" : "",
               co->array_parallel, script_path);
        rc = EXIT_OK;
        goto out2;
    }
    if (cli_mkdirs(logs) || write_text(script_path, script, 0755)) {
        cli_error("%s: cannot write: %s", script_path, strerror(errno));
        goto out2;
    }
    if (!n_ids) {
        cli_info("%s: every task's runs are complete or queued; nothing to submit", dataset);
        rc = EXIT_OK;
        goto out2;
    }
    char spec[1100], job_id[64];
    fp_slurm_array_spec(ids, n_ids, spec, 1024);
    if (co->array_parallel > 0)
        snprintf(spec + strlen(spec), sizeof spec - strlen(spec), "%%%d", co->array_parallel);
    if (fp_slurm_submit(co->sbatch, script_path, spec, co->sbatch_args, job_id, sizeof job_id,
                        &err)) {
        cli_error("%s", err.msg);
        goto out2;
    }
    snprintf(jobs->gpu, sizeof jobs->gpu, "%s", gpu);
    snprintf(jobs->app, sizeof jobs->app, "%s", app);
    jobs->n_clocks = 0;
    for (size_t i = 0; i < n_clocks && i < 512; i++)
        jobs->clocks_mhz[jobs->n_clocks++] = clocks[i];
    jobs->clocks_per_task = k;
    jobs->runs = o->runs;
    jobs->warmup = o->warmup;
    jobs->n_tasks = n_tasks;
    if (fp_slurm_jobs_add(dataset, jobs, job_id, ids, n_ids, &err)) {
        cli_error("submitted job %s, but %s", job_id, err.msg);
        goto out2;
    }
    fp_slurm_array_spec(ids, n_ids, spec, 1024);
    printf("%s\n", job_id);
    cli_info("submitted job array %s (tasks %s of 0-%d, %d clock(s) per task) into %s", job_id,
             spec, n_tasks - 1, k, dataset);
    rc = EXIT_OK;
out2:
    free(ids);
    free(jobs);
    free(queued);
    free(q1);
out:
    free(script);
    free(targv);
    free(clocks);
    return rc;
}

/* Value of --NAME VALUE / --NAME=VALUE in the options (before "--"), or NULL. */
static const char *find_arg(int argc, char **argv, const char *name, int *at)
{
    size_t len = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strncmp(argv[i], "--", 2) || strncmp(argv[i] + 2, name, len))
            continue;
        if (argv[i][2 + len] == '=') {
            if (at)
                *at = i;
            return argv[i] + 3 + len;
        }
        if (argv[i][2 + len] == 0 && i + 1 < argc) {
            if (at)
                *at = i + 1;
            return argv[i + 1];
        }
    }
    return NULL;
}

static int in_cluster_child;

/* --slurm-task ID: the task's state file around the sweep. */
static int cluster_task(int argc, char **argv, const char *id_s)
{
    long id;
    const char *out = find_arg(argc, argv, "out", NULL);
    if (cli_parse_long(id_s, &id) || id < 0 || id >= FP_SLURM_MAX_TASKS)
        return cli_usage_error("profile", "--slurm-task %s: expected 0..%d", id_s,
                               FP_SLURM_MAX_TASKS - 1);
    if (!out)
        return cli_usage_error("profile", "--slurm-task needs --out DATASET");
    fp_error err;
    if (fp_slurm_task_write(out, (int)id, FP_TASK_RUNNING, NULL, &err))
        cli_warn("%s", err.msg);
    const char *fail = getenv("FREQPILOT_SLURM_FAIL_TASK");
    long fid;
    if (fail && cli_parse_long(fail, &fid) == 0 && fid == id) {
        const char *msg = "failure injected for tests (FREQPILOT_SLURM_FAIL_TASK)";
        cli_error("task %ld: %s", id, msg);
        fp_slurm_task_write(out, (int)id, FP_TASK_FAILED, msg, &err);
        return EXIT_FAIL;
    }
    in_cluster_child = 1;
    int rc = cmd_profile(argc, argv);
    in_cluster_child = 0;
    if (fp_slurm_task_write(out, (int)id, rc == EXIT_OK ? FP_TASK_DONE : FP_TASK_FAILED,
                            rc == EXIT_OK ? NULL : "freqpilot profile failed (see the log)", &err))
        cli_warn("%s", err.msg);
    return rc;
}

static volatile pid_t gpu_children[64];
static volatile int n_gpu_children;

static void forward_signal(int sig)
{
    for (int i = 0; i < n_gpu_children; i++)
        if (gpu_children[i] > 0)
            kill(gpu_children[i], sig);
}

/* --gpu all | 0,1,...: one child process per GPU, each a whole single-GPU sweep. */
static int cluster_gpus(int argc, char **argv, const char *spec, int spec_at)
{
    const char *backend = find_arg(argc, argv, "backend", NULL);
    const char *out = find_arg(argc, argv, "out", NULL);
    int out_at = -1;
    find_arg(argc, argv, "out", &out_at);
    const fp_gpu_backend *be = fp_gpu_backend_by_name(backend ? backend : "nvml");
    if (!be)
        return cli_usage_error("profile", "--backend %s: expected nvml or sim", backend);
    if (find_arg(argc, argv, "slurm-task", NULL))
        return cli_usage_error("profile", "--slurm-task runs one GPU (--gpu INDEX)");
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (strcmp(argv[i], "--slurm") == 0)
            return cli_usage_error("profile",
                                   "--slurm runs one GPU per task: ask for it with "
                                   "--gres gpu:1, not --gpu %s",
                                   spec);
    char ids[64][96];
    int n = 0;
    fp_error err;
    if (strcasecmp(spec, "all") == 0) {
        unsigned count = 0;
        if (be->init(&err) || be->count(&count, &err)) {
            cli_error("--gpu all: %s", err.msg);
            return EXIT_FAIL;
        }
        be->shutdown();
        for (unsigned i = 0; i < count && n < 64; i++)
            snprintf(ids[n++], sizeof ids[0], "%u", i);
    } else {
        char *dup = strdup(spec), *save = NULL;
        for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t && n < 64;
             t = strtok_r(NULL, ",", &save))
            snprintf(ids[n++], sizeof ids[0], "%.95s", t);
        free(dup);
    }
    if (n < 1)
        return cli_usage_error("profile", "--gpu %s: no GPU", spec);
    /* The GPU's UUID for CUDA_VISIBLE_DEVICES (CUDA's order may differ from NVML's). */
    char uuids[64][96], index[64][16];
    if (be->init(&err)) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    for (int i = 0; i < n; i++) {
        fp_gpu *g;
        fp_gpu_info *info = calloc(1, sizeof *info);
        if (!info || be->open(ids[i], &g, &err) || (be->info(g, info, &err) && (be->close(g), 1))) {
            cli_error("--gpu %s: %s", ids[i], info ? err.msg : "out of memory");
            free(info);
            be->shutdown();
            return EXIT_FAIL;
        }
        snprintf(uuids[i], sizeof uuids[0], "%.95s", info->uuid[0] ? info->uuid : ids[i]);
        snprintf(index[i], sizeof index[0], "%u", info->index);
        for (int j = 0; j < i; j++)
            if (strcmp(index[j], index[i]) == 0) {
                cli_error("--gpu %s: GPU %s is listed twice", spec, index[i]);
                be->close(g);
                free(info);
                be->shutdown();
                return EXIT_USAGE;
            }
        be->close(g);
        free(info);
    }
    be->shutdown();
    const char *base = out ? out : "dataset";
    struct sigaction sa, old[3];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    fflush(NULL);
    n_gpu_children = 0;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            cli_error("fork: %s", strerror(errno));
            break;
        }
        if (pid == 0) {
            /* Child: the same command for one GPU into DATASET/gpu<index>. */
            char **cargv = calloc((size_t)argc + 3, sizeof *cargv);
            char outbuf[4200];
            snprintf(outbuf, sizeof outbuf, "%s/gpu%s", base, index[i]);
            char gpueq[128];
            snprintf(gpueq, sizeof gpueq, "--gpu=%.15s", index[i]);
            int c = 0;
            for (int a = 0; a < argc; a++) {
                if (a == spec_at)
                    cargv[c++] = strncmp(argv[a], "--gpu=", 6) == 0 ? gpueq : index[i];
                else if (a == out_at && strncmp(argv[a], "--out=", 6) == 0)
                    cargv[c++] = "--out", cargv[c++] = outbuf;
                else if (a == out_at)
                    cargv[c++] = outbuf;
                else
                    cargv[c++] = argv[a];
            }
            if (!out) {
                /* no --out: insert it right after the command name */
                memmove(cargv + 3, cargv + 1, (size_t)(c - 1) * sizeof *cargv);
                cargv[1] = "--out";
                cargv[2] = outbuf;
                c += 2;
            }
            cargv[c] = NULL;
            setenv("CUDA_VISIBLE_DEVICES", uuids[i], 1);
            in_cluster_child = 1;
            int rc = cmd_profile(c, cargv);
            fflush(NULL);
            _exit(rc);
        }
        gpu_children[n_gpu_children++] = pid;
        cli_info("GPU %s (%s): sweep in process %ld into %s/gpu%s", index[i], uuids[i], (long)pid,
                 base, index[i]);
    }
    for (int s = 0; s < 3; s++)
        sigaction(sigs[s], &sa, &old[s]);
    int rc = n_gpu_children == n ? EXIT_OK : EXIT_FAIL, sig = 0;
    for (int i = 0; i < n_gpu_children; i++) {
        int status;
        while (waitpid(gpu_children[i], &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFSIGNALED(status))
            sig = WTERMSIG(status);
        if (!WIFEXITED(status) || WEXITSTATUS(status)) {
            cli_error("GPU %s: the sweep %s %d", index[i],
                      WIFSIGNALED(status) ? "was killed by signal" : "failed with exit status",
                      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            rc = EXIT_FAIL;
        }
    }
    n_gpu_children = 0;
    for (int s = 0; s < 3; s++)
        sigaction(sigs[s], &old[s], NULL);
    if (sig)
        raise(sig);
    return rc;
}

int cmd_profile(int argc, char **argv)
{
    if (!in_cluster_child) {
        /* Several GPUs: one child per GPU; a Slurm task: its state file around the sweep. */
        int at = -1;
        const char *gs = find_arg(argc, argv, "gpu", &at);
        if (gs && (strchr(gs, ',') || strcasecmp(gs, "all") == 0))
            return cluster_gpus(argc, argv, gs, at);
        const char *task = find_arg(argc, argv, "slurm-task", NULL);
        if (task)
            return cluster_task(argc, argv, task);
    }
    static const struct option longopts[] = {
        {"gpu", required_argument, NULL, OPT_GPU},
        {"clocks", required_argument, NULL, OPT_CLOCKS},
        {"runs", required_argument, NULL, OPT_RUNS},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"interval-ms", required_argument, NULL, OPT_INTERVAL},
        {"cooldown", required_argument, NULL, OPT_COOLDOWN},
        {"order", required_argument, NULL, OPT_ORDER},
        {"baseline-every", required_argument, NULL, OPT_BASELINE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"app", required_argument, NULL, OPT_APP},
        {"out", required_argument, NULL, OPT_OUT},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"workload", required_argument, NULL, OPT_WORKLOAD},
        {"no-clock-control", no_argument, NULL, OPT_NO_CLOCK},
        {"run-timeout", required_argument, NULL, OPT_TIMEOUT},
        {"on-failure", required_argument, NULL, OPT_ON_FAILURE},
        {"force", no_argument, NULL, OPT_FORCE},
        {"sampler", required_argument, NULL, OPT_SAMPLER},
        {"dcgmi", required_argument, NULL, OPT_DCGMI},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"sim-noise", required_argument, NULL, OPT_SIM_NOISE},
        {"slurm", no_argument, NULL, OPT_SLURM},
        {"slurm-task", required_argument, NULL, OPT_SLURM_TASK},
        {"clocks-per-task", required_argument, NULL, OPT_CLOCKS_PER_TASK},
        {"partition", required_argument, NULL, OPT_PARTITION},
        {"account", required_argument, NULL, OPT_ACCOUNT},
        {"time", required_argument, NULL, OPT_TIME},
        {"gres", required_argument, NULL, OPT_GRES},
        {"array-parallel", required_argument, NULL, OPT_ARRAY_PARALLEL},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"resume", no_argument, NULL, OPT_RESUME},
        {"sbatch", required_argument, NULL, OPT_SBATCH},
        {"sbatch-arg", required_argument, NULL, OPT_SBATCH_ARG},
        {"squeue", required_argument, NULL, OPT_SQUEUE},
        {"strategy", required_argument, NULL, OPT_STRATEGY},
        {"objective", required_argument, NULL, OPT_OBJECTIVE},
        {"max-slowdown", required_argument, NULL, OPT_MAX_SLOWDOWN},
        {"tolerance", required_argument, NULL, OPT_TOLERANCE},
        {"max-runs", required_argument, NULL, OPT_MAX_RUNS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    fp_sweep_opts o;
    fp_sweep_opts_init(&o);
    fp_adaptive_options ao; /* --strategy adaptive */
    fp_adaptive_options_init(&ao);
    int adaptive = 0;
    const char *adaptive_opt = NULL;
    o.out_dir = "dataset";
    const char *backend = "nvml", *workload = NULL, *seed_s = NULL, *noise = NULL;
    long v;
    double d;
    cluster_opts co = {.task_id = -1, .clocks_per_task = 1};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_print_help(help_text);
            return EXIT_OK;
        case OPT_GPU:
            o.gpu_id = optarg;
            break;
        case OPT_CLOCKS:
            o.clocks = optarg;
            break;
        case OPT_RUNS:
            if (parse_count("--runs", optarg, 1, 1000, &v))
                return EXIT_USAGE;
            o.runs = (int)v;
            break;
        case OPT_WARMUP:
            if (parse_count("--warmup", optarg, 0, 100, &v))
                return EXIT_USAGE;
            o.warmup = (int)v;
            break;
        case OPT_INTERVAL:
            if (parse_count("--interval-ms", optarg, 1, 60000, &v))
                return EXIT_USAGE;
            o.interval_s = (double)v / 1000.0;
            break;
        case OPT_COOLDOWN:
            if (cli_parse_double(optarg, &d) || !(d >= 0) || d > 86400)
                return cli_usage_error("profile", "--cooldown %s: expected seconds >= 0", optarg);
            o.cooldown_s = d;
            break;
        case OPT_ORDER: {
            int ord = fp_sweep_order_from_name(optarg);
            if (ord < 0)
                return cli_usage_error(
                    "profile", "--order %s: expected random, interleaved or descending", optarg);
            o.order = (fp_sweep_order)ord;
            break;
        }
        case OPT_BASELINE:
            if (parse_count("--baseline-every", optarg, 0, 1000000, &v))
                return EXIT_USAGE;
            o.baseline_every = (int)v;
            break;
        case OPT_SEED: {
            char *end;
            unsigned long long s = strtoull(optarg, &end, 0);
            if (!*optarg || *end)
                return cli_usage_error("profile", "--seed %s: expected an unsigned integer",
                                       optarg);
            o.seed = s;
            seed_s = optarg;
            break;
        }
        case OPT_APP:
            o.app = optarg;
            break;
        case OPT_OUT:
            o.out_dir = optarg;
            break;
        case OPT_BACKEND:
            backend = optarg;
            break;
        case OPT_WORKLOAD:
            workload = optarg;
            break;
        case OPT_NO_CLOCK:
            o.no_clock_control = 1;
            break;
        case OPT_TIMEOUT:
            if (cli_parse_double(optarg, &d) || !(d > 0))
                return cli_usage_error("profile", "--run-timeout %s: expected seconds > 0", optarg);
            o.run_timeout_s = d;
            break;
        case OPT_ON_FAILURE:
            if (strcmp(optarg, "stop") == 0)
                o.stop_on_failure = 1;
            else if (strcmp(optarg, "continue") == 0)
                o.stop_on_failure = 0;
            else
                return cli_usage_error("profile", "--on-failure %s: expected continue or stop",
                                       optarg);
            break;
        case OPT_FORCE:
            o.force = 1;
            break;
        case OPT_SAMPLER:
            if (strcmp(optarg, "dcgmi") == 0)
                o.sampler_dcgmi = 1;
            else if (strcmp(optarg, "nvml") != 0)
                return cli_usage_error("profile", "--sampler %s: expected nvml or dcgmi", optarg);
            break;
        case OPT_DCGMI:
            o.dcgmi_path = optarg;
            break;
        case OPT_STATE_DIR:
            o.state_dir = optarg;
            break;
        case OPT_SIM_NOISE:
            if (strcasecmp(optarg, "on") && strcasecmp(optarg, "off") &&
                (cli_parse_double(optarg, &d) || !(d >= 0) || d > 100))
                return cli_usage_error("profile",
                                       "--sim-noise %s: expected off, on or a factor "
                                       "0..100",
                                       optarg);
            noise = optarg;
            break;
        case OPT_STRATEGY:
            if (strcmp(optarg, "adaptive") == 0)
                adaptive = 1;
            else if (strcmp(optarg, "full") == 0)
                adaptive = 0;
            else
                return cli_usage_error("profile", "--strategy %s: expected full or adaptive",
                                       optarg);
            break;
        case OPT_OBJECTIVE: {
            fp_error oe;
            if (fp_objective_parse(optarg, &ao.objective, &oe))
                return cli_usage_error("profile", "--objective %s: %s", optarg, oe.msg);
            adaptive_opt = "--objective";
            break;
        }
        case OPT_MAX_SLOWDOWN:
            if (strcasecmp(optarg, "none") == 0)
                ao.max_slowdown = NAN;
            else if (cli_parse_double(optarg, &d) || !(d >= 0) || d > 100)
                return cli_usage_error("profile",
                                       "--max-slowdown %s: expected a fraction >= 0 (0.05 = 5 "
                                       "%%) or none",
                                       optarg);
            else
                ao.max_slowdown = d;
            adaptive_opt = "--max-slowdown";
            break;
        case OPT_TOLERANCE:
            if (cli_parse_double(optarg, &d) || !(d > 0) || d > 1)
                return cli_usage_error("profile", "--tolerance %s: expected a fraction in (0, 1]",
                                       optarg);
            ao.tolerance = d;
            adaptive_opt = "--tolerance";
            break;
        case OPT_MAX_RUNS:
            if (parse_count("--max-runs", optarg, 5, 100000, &v))
                return EXIT_USAGE;
            ao.max_runs = (int)v;
            adaptive_opt = "--max-runs";
            break;
        case OPT_SLURM:
            co.slurm = 1;
            break;
        case OPT_SLURM_TASK:
            if (parse_count("--slurm-task", optarg, 0, FP_SLURM_MAX_TASKS - 1, &v))
                return EXIT_USAGE;
            co.task_id = (int)v;
            break;
        case OPT_CLOCKS_PER_TASK:
            if (parse_count("--clocks-per-task", optarg, 1, FP_DATASET_MAX_CLOCKS, &v))
                return EXIT_USAGE;
            co.clocks_per_task = (int)v;
            break;
        case OPT_PARTITION:
            co.partition = optarg;
            break;
        case OPT_ACCOUNT:
            co.account = optarg;
            break;
        case OPT_TIME:
            co.time_limit = optarg;
            break;
        case OPT_GRES:
            co.gres = optarg;
            break;
        case OPT_ARRAY_PARALLEL:
            if (parse_count("--array-parallel", optarg, 1, 100000, &v))
                return EXIT_USAGE;
            co.array_parallel = (int)v;
            break;
        case OPT_DRY_RUN:
            co.dry_run = 1;
            break;
        case OPT_RESUME:
            co.resume = 1;
            break;
        case OPT_SBATCH:
            co.sbatch = optarg;
            break;
        case OPT_SQUEUE:
            co.squeue = optarg;
            break;
        case OPT_SBATCH_ARG:
            if (co.n_sbatch_args >= 16)
                return cli_usage_error("profile", "--sbatch-arg: at most 16");
            co.sbatch_args[co.n_sbatch_args++] = optarg;
            break;
        default:
            return cli_usage_error("profile", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (adaptive_opt && !adaptive)
        return cli_usage_error("profile", "%s needs --strategy adaptive", adaptive_opt);
    if (adaptive && (co.slurm || co.task_id >= 0))
        return cli_usage_error("profile", "--strategy adaptive runs as one sweep (each run "
                                          "depends on the previous ones): not with --slurm");
    o.be = fp_gpu_backend_by_name(backend);
    if (!o.be)
        return cli_usage_error("profile", "--backend %s: expected nvml or sim", backend);
    int is_sim = strcasecmp(backend, "sim") == 0;
    if (optind < argc)
        o.argv = argv + optind;
    fp_sim_workload *wl = NULL;
    if (workload) {
        if (!is_sim)
            return cli_usage_error("profile", "--workload needs --backend sim");
        if (o.argv)
            return cli_usage_error("profile", "give either --workload or -- COMMAND, not both");
        wl = calloc(1, sizeof *wl);
        fp_error err;
        if (!wl || fp_sim_workload_resolve(workload, wl, &err)) {
            cli_error("%s", wl ? err.msg : "out of memory");
            free(wl);
            return EXIT_USAGE;
        }
        o.sim_workload = wl;
    }
    if (!o.argv && !wl) {
        return cli_usage_error("profile", is_sim ? "no workload: give --workload NAME or -- "
                                                   "COMMAND [ARGS...]"
                                                 : "no workload: give -- COMMAND [ARGS...]");
    }
    if (is_sim && seed_s && !getenv("FREQPILOT_SIM_SEED"))
        setenv("FREQPILOT_SIM_SEED", seed_s, 1);
    if (noise && !is_sim)
        return cli_usage_error("profile", "--sim-noise needs --backend sim");
    if (noise) /* the sim backend reads it when the GPU is opened */
        setenv("FREQPILOT_SIM_NOISE", noise, 1);
    if (o.no_clock_control && is_sim)
        cli_info("--no-clock-control on the simulated GPU: runs at its default clocks");

    /* The command line, for the manifest and the state file. */
    char cmdline[2048];
    size_t used = 0;
    cmdline[0] = 0;
    for (int i = 0; i < argc && used < sizeof cmdline; i++)
        used +=
            (size_t)snprintf(cmdline + used, sizeof cmdline - used, "%s%s", i ? " " : "", argv[i]);
    if (o.argv) {
        /* Only the workload's command line: a resume from another directory still matches. */
        used = 0;
        cmdline[0] = 0;
        for (char *const *a = o.argv; *a && used < sizeof cmdline; a++)
            used += (size_t)snprintf(cmdline + used, sizeof cmdline - used, "%s%s",
                                     a == o.argv ? "" : " ", *a);
    }
    o.command_line = cmdline;
    if ((co.resume || co.dry_run) && !co.slurm)
        return cli_usage_error("profile", "--resume and --dry-run go with --slurm (a local "
                                          "sweep resumes by running the same command again)");
    if (co.slurm) {
        int rc = cluster_submit(&o, &co, argc, argv, optind, longopts);
        free(wl);
        return rc;
    }
    o.task_id = co.task_id;
    o.clocks_per_task = co.clocks_per_task;

    cli_diag_state ds = {0};
    o.diag = cli_diag(&ds);
    progress prog = {0};
    o.event = on_event;
    o.tick = on_tick;
    o.user = &prog;

    fp_error err;
    if (fp_clockguard_catch_signals(&err)) {
        cli_error("%s", err.msg);
        free(wl);
        return EXIT_FAIL;
    }
    fp_sweep_summary sum;
    fp_adaptive_sweep_result *ares = adaptive ? calloc(1, sizeof *ares) : NULL;
    fp_status st;
    if (adaptive && !ares) {
        st = fp_error_set(&err, FP_ERR_NOMEM, "out of memory");
        memset(&sum, 0, sizeof sum);
    } else if (adaptive) {
        st = fp_adaptive_sweep_run(&o, &ao, ares, &err);
        sum = ares->sweep;
    } else {
        st = fp_sweep_run(&o, &sum, &err);
    }
    cli_progress_stop(prog.bar);
    free(wl);
    if (ares && !st && !sum.interrupted_sig)
        adaptive_summary(ares, &ao);
    free(ares);
    if (sum.interrupted_sig) {
        cli_error("interrupted by signal %d (%s): clocks restored; %zu run(s) finished, the "
                  "interrupted one will be redone when the same command runs again",
                  sum.interrupted_sig, strsignal(sum.interrupted_sig), sum.done);
        fflush(NULL);
        fp_clockguard_reraise(sum.interrupted_sig);
        return EXIT_FAIL;
    }
    fp_clockguard_release_signals();
    if (st) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    cli_info("%s: %zu run(s) done, %zu already done, %zu failed, %zu clock_not_held", sum.dataset,
             sum.done, sum.skipped, sum.failed, sum.clock_not_held);
    if (sum.failed)
        cli_warn("%zu run(s) of the workload failed; see stderr.txt in their folders", sum.failed);
    return EXIT_OK;
}
