/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot profile, cluster half: Slurm job arrays and several GPUs at once (docs/cluster.md). */
#define _GNU_SOURCE
#include <errno.h>
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
#include "freqpilot/adaptive_sweep.h"
#include "freqpilot/slurm.h"
#include "freqpilot/sweep.h"
#include "cli/profile_cluster.h"
#include "util/asuser.h"

/* ---- cluster sweeps: Slurm job arrays and several GPUs at once (docs/cluster.md) ---- */

/* Options of the submitter only: not passed on to the tasks. */
static const char *const submit_only[] = {
    "slurm",  "partition", "account",    "time",   "gres", "array-parallel", "dry-run",
    "resume", "sbatch",    "sbatch-arg", "squeue", "out",  "slurm-task",     NULL};

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
int cluster_submit(fp_sweep_opts *o, const cluster_opts *co, int argc, char **argv, int opt_end,
                   const cli_option *opts)
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
    char app[64];
    fp_sweep_app_name(o->app, o->sim_workload, o->argv, app, sizeof app);

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
            const cli_option *lo = cli_find_long_option(opts, a);
            int drop = 0;
            for (int s = 0; lo && submit_only[s]; s++)
                drop |= strcmp(lo->long_name, submit_only[s]) == 0;
            if (lo && strcmp(lo->long_name, "clocks-per-task") == 0)
                drop = 1; /* added below */
            int takes = lo && cli_option_takes_value(lo) && !eq;
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
    if (fp_slurm_submit(co->sbatch, script_path, spec, (char *const *)co->sbatch_args, job_id,
                        sizeof job_id, &err)) {
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
const char *find_arg(int argc, char **argv, const char *name, int *at)
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

int in_cluster_child;

/* --slurm-task ID: the task's state file around the sweep. */
typedef struct task_file {
    const char *out, *msg;
    int id;
    fp_task_state state;
} task_file;

static fp_status task_write_step(void *arg, void *ret, fp_error *err)
{
    const task_file *t = arg;
    (void)ret;
    return fp_slurm_task_write(t->out, t->id, t->state, t->msg, err);
}

/* DATASET/slurm/tasks/<id>.json, written as the user behind sudo (util/asuser.h). */
static fp_status task_write(const char *out, int id, fp_task_state state, const char *msg,
                            fp_error *err)
{
    const fp_invoker *who;
    fp_status st = fp_invoker_get(&who, err);
    task_file t = {out, msg, id, state};
    return st ? st : fp_invoker_call(who, task_write_step, &t, NULL, 0, err);
}

int cluster_task(int argc, char **argv, const char *id_s)
{
    long id;
    const char *out = find_arg(argc, argv, "out", NULL);
    if (cli_parse_long(id_s, &id) || id < 0 || id >= FP_SLURM_MAX_TASKS)
        return cli_usage_error("profile", "--slurm-task %s: expected 0..%d", id_s,
                               FP_SLURM_MAX_TASKS - 1);
    if (!out)
        return cli_usage_error("profile", "--slurm-task needs --out DATASET");
    fp_error err;
    if (task_write(out, (int)id, FP_TASK_RUNNING, NULL, &err))
        cli_warn("%s", err.msg);
    const char *fail = getenv("FREQPILOT_SLURM_FAIL_TASK");
    long fid;
    if (fail && cli_parse_long(fail, &fid) == 0 && fid == id) {
        const char *msg = "failure injected for tests (FREQPILOT_SLURM_FAIL_TASK)";
        cli_error("task %ld: %s", id, msg);
        task_write(out, (int)id, FP_TASK_FAILED, msg, &err);
        return EXIT_FAIL;
    }
    in_cluster_child = 1;
    int rc = cmd_profile(argc, argv);
    in_cluster_child = 0;
    if (task_write(out, (int)id, rc == EXIT_OK ? FP_TASK_DONE : FP_TASK_FAILED,
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
int cluster_gpus(int argc, char **argv, const char *spec, int spec_at)
{
    const char *backend = find_arg(argc, argv, "backend", NULL);
    const char *out = find_arg(argc, argv, "out", NULL);
    int out_at = -1;
    find_arg(argc, argv, "out", &out_at);
    const fp_gpu_backend *be = fp_gpu_backend_by_name(backend ? backend : FP_GPU_BACKEND_DEFAULT);
    if (!be)
        return cli_usage_error("profile", "--backend %s: expected %s", backend,
                               fp_gpu_backend_names());
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
