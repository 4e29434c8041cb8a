/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot status: what a (cluster) sweep has done, per (gpu, app, clock) (docs/cluster.md). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/dataset.h"
#include "freqpilot/slurm.h"
#include "freqpilot/sweep.h"

const cli_command status_cmd = {
    .name = "status",
    .summary = "what a sweep (local, several GPUs, Slurm array) has done and lacks",
    .synopsis = "freqpilot status [--format text|json] [--squeue PATH] DATASET\n",
    .description =
        "Reports, per (gpu, app, clock) of a sweep written by 'freqpilot profile' (locally,\n"
        "on several GPUs or as a Slurm job array), whether its runs are done, running,\n"
        "failed or missing, with the Slurm job and array task behind each\n"
        "(DATASET/slurm/jobs.json). Read-only: it changes neither the dataset nor a GPU.\n"
        "\n"
        "done      every run (measured and warm-up) has its run.json, none failed\n"
        "running   its Slurm array task is queued or running (squeue), or a live local sweep\n"
        "          holds it (DATASET/.locks, pid checked on this host)\n"
        "failed    a run failed (the workload's exit status != 0, or an unusable marked\n"
        "          window: window_error in run.json), or its Slurm task failed or left the\n"
        "          queue without finishing; 'profile --slurm --resume' resubmits it\n"
        "missing   not started\n"
        "\n"
        "A folder of per-GPU datasets (profile --gpu 0,1 writes DATASET/gpu<index>) is\n"
        "reported dataset by dataset. Without squeue (no Slurm here) task states come from\n"
        "the tasks' own files (DATASET/slurm/tasks/<id>.json).\n",
    .exit_status =
        "0 every clock is done; 1 a clock is running, failed or missing, or an error (no\n"
        "dataset, unreadable files); 2 usage error.\n",
    .examples =
        "freqpilot profile --backend sim --workload vit --clocks 1410,1005 --runs 1 --out ds\n"
        "freqpilot status ds\n"
        "freqpilot status --format json ds\n",
};

enum { ST_DONE, ST_RUNNING, ST_FAILED, ST_MISSING };
static const char *const state_names[] = {"done", "running", "failed", "missing"};

typedef struct lock_info {
    long pid;
    char host[64];
    unsigned clocks[FP_DATASET_MAX_CLOCKS];
    size_t n_clocks;
} lock_info;

/* Live local sweeps: the DATASET/.locks files whose pid runs on this host (or another host). */
static size_t read_locks(const char *dataset, lock_info *locks, size_t max)
{
    char dir[4200], host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(dir, sizeof dir, "%s/%s", dataset, FP_SWEEP_LOCK_DIR);
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
            continue;
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        json_t *root = json_load_file(path, 0, NULL);
        if (!root)
            continue;
        lock_info *l = &locks[n];
        memset(l, 0, sizeof *l);
        l->pid = (long)json_integer_value(json_object_get(root, "pid"));
        const char *h = json_string_value(json_object_get(root, "host"));
        snprintf(l->host, sizeof l->host, "%s", h ? h : "");
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(root, "clocks_mhz"), i, c)
        {
            if (l->n_clocks < FP_DATASET_MAX_CLOCKS)
                l->clocks[l->n_clocks++] = (unsigned)json_integer_value(c);
        }
        json_decref(root);
        /* A dead pid on this host: a killed sweep's leftover, not running. */
        if (strcmp(l->host, host) == 0 && l->pid > 0 && kill((pid_t)l->pid, 0) && errno == ESRCH)
            continue;
        n++;
    }
    closedir(d);
    return n;
}

typedef struct ds_info {
    char gpu[64], app[64];
    unsigned clocks[FP_DATASET_MAX_CLOCKS];
    size_t n_clocks;
    int runs, warmup;
} ds_info;

static json_t *status_one(const char *dataset, const char *squeue, int *complete)
{
    fp_dataset_manifest *m = calloc(1, sizeof *m);
    fp_slurm_jobs *jobs = calloc(1, sizeof *jobs);
    ds_info *di = calloc(1, sizeof *di);
    lock_info *locks = calloc(16, sizeof *locks);
    char *queued = calloc(FP_SLURM_MAX_TASKS, 1), *q1 = calloc(FP_SLURM_MAX_TASKS, 1);
    json_t *out = NULL;
    char path[4200];
    fp_error err;
    if (!m || !jobs || !di || !locks || !queued || !q1) {
        cli_error("out of memory");
        goto done;
    }
    int have_jobs = fp_slurm_jobs_read(dataset, jobs, &err) == FP_OK;
    snprintf(path, sizeof path, "%s/manifest.json", dataset);
    if (access(path, F_OK) == 0) {
        if (fp_dataset_read_manifest(path, m, &err)) {
            cli_error("%s", err.msg);
            goto done;
        }
        snprintf(di->gpu, sizeof di->gpu, "%s", m->gpu_short);
        snprintf(di->app, sizeof di->app, "%s", m->app);
        for (size_t i = 0; i < m->n_clocks; i++)
            di->clocks[di->n_clocks++] = (unsigned)lround(m->clocks_mhz[i]);
        di->runs = m->runs_per_clock;
        di->warmup = m->warmup_runs > 0 ? m->warmup_runs : 0;
    } else if (have_jobs) {
        /* Submitted, no task has started yet. */
        snprintf(di->gpu, sizeof di->gpu, "%s", jobs->gpu);
        snprintf(di->app, sizeof di->app, "%s", jobs->app);
        for (size_t i = 0; i < jobs->n_clocks; i++)
            di->clocks[di->n_clocks++] = (unsigned)lround(jobs->clocks_mhz[i]);
        di->runs = jobs->runs;
        di->warmup = jobs->warmup;
    } else {
        cli_error("%s: not a dataset (no manifest.json or slurm/jobs.json)", dataset);
        goto done;
    }
    int k = have_jobs ? jobs->clocks_per_task : 0;
    int squeue_ok = 0;
    if (have_jobs) {
        /* The latest submission of a task is the one that counts. */
        for (size_t s = 0; s < jobs->n_sub; s++) {
            if (fp_slurm_queue(squeue, jobs->sub[s].job_id, q1, jobs->n_tasks) != 0)
                continue;
            squeue_ok = 1;
            for (int t = 0; t < jobs->n_tasks; t++)
                if (jobs->task_job[t] == (int)s && q1[t])
                    queued[t] = q1[t];
        }
    }
    size_t n_locks = read_locks(dataset, locks, 16);
    char host[64] = "";
    gethostname(host, sizeof host - 1);

    json_t *clocks = json_array();
    size_t count[4] = {0, 0, 0, 0};
    long runs_done_all = 0, runs_exp_all = 0;
    for (size_t c = 0; c < di->n_clocks; c++) {
        unsigned f = di->clocks[c];
        int done = 0, failed = 0, expected = di->runs + di->warmup;
        for (int w = 0; w < 2; w++) {
            for (int r = 1; r <= (w ? di->warmup : di->runs); r++) {
                char rj[4500];
                fp_run_record rec;
                snprintf(rj, sizeof rj, "%s/%s/%s/%u/%s%d/run.json", dataset, di->gpu, di->app, f,
                         w ? "w" : "", r);
                if (!di->gpu[0] || access(rj, F_OK))
                    continue;
                if (fp_dataset_read_run_json(rj, &rec, &err) != FP_OK || fp_run_record_failed(&rec))
                    failed++;
                else
                    done++;
            }
        }
        int task = k > 0 ? (int)(c / (size_t)k) : -1;
        char job[96] = "";
        const char *task_msg = "";
        char msg[256] = "", thost[64] = "";
        long tpid = 0;
        fp_task_state ts = FP_TASK_NONE;
        if (task >= 0 && task < jobs->n_tasks && jobs->task_job[task] >= 0)
            snprintf(job, sizeof job, "%s_%d", jobs->sub[jobs->task_job[task]].job_id, task);
        if (task >= 0)
            ts = fp_slurm_task_read(dataset, task, thost, sizeof thost, &tpid, msg, sizeof msg);
        int live = task >= 0 && task < FP_SLURM_MAX_TASKS && queued[task];
        if (!live && ts == FP_TASK_RUNNING) {
            /* The task says running: believe it where the queue cannot be asked. */
            if (strcmp(thost, host) == 0 && tpid > 0)
                live = !(kill((pid_t)tpid, 0) && errno == ESRCH);
            else
                live = !squeue_ok;
        }
        for (size_t l = 0; l < n_locks && !live; l++)
            for (size_t j = 0; j < locks[l].n_clocks; j++)
                live |= locks[l].clocks[j] == f;
        int st;
        if (done == expected)
            st = ST_DONE;
        else if (live)
            st = ST_RUNNING;
        else if (failed || ts == FP_TASK_FAILED || ts == FP_TASK_RUNNING ||
                 (ts == FP_TASK_DONE && done + failed < expected)) {
            st = ST_FAILED;
            task_msg = ts == FP_TASK_FAILED && msg[0] ? msg
                       : ts == FP_TASK_RUNNING        ? "the task left the queue unfinished"
                       : failed                       ? "a run failed (see its run.json)"
                                                      : "the task ended with runs missing";
        } else
            st = ST_MISSING;
        count[st]++;
        runs_done_all += done;
        runs_exp_all += expected;
        json_t *row = json_object();
        json_object_set_new(row, "clock_mhz", json_integer(f));
        json_object_set_new(row, "state", json_string(state_names[st]));
        json_object_set_new(row, "runs_done", json_integer(done));
        json_object_set_new(row, "runs_failed", json_integer(failed));
        json_object_set_new(row, "runs_expected", json_integer(expected));
        json_object_set_new(row, "task", task >= 0 ? json_integer(task) : json_null());
        json_object_set_new(row, "job", job[0] ? json_string(job) : json_null());
        json_object_set_new(row, "queue",
                            task >= 0 && queued[task] == 'R'   ? json_string("running")
                            : task >= 0 && queued[task] == 'P' ? json_string("pending")
                                                               : json_null());
        json_object_set_new(row, "reason", task_msg[0] ? json_string(task_msg) : json_null());
        json_array_append_new(clocks, row);
    }
    json_t *sum = json_object();
    for (int s = 0; s < 4; s++)
        json_object_set_new(sum, state_names[s], json_integer((json_int_t)count[s]));
    json_object_set_new(sum, "clocks", json_integer((json_int_t)di->n_clocks));
    json_object_set_new(sum, "runs_done", json_integer(runs_done_all));
    json_object_set_new(sum, "runs_expected", json_integer(runs_exp_all));
    out = json_object();
    json_object_set_new(out, "dataset", json_string(dataset));
    json_object_set_new(out, "gpu", json_string(di->gpu));
    json_object_set_new(out, "app", json_string(di->app));
    json_object_set_new(out, "slurm", json_boolean(have_jobs));
    json_object_set_new(out, "squeue", json_boolean(squeue_ok));
    json_object_set_new(out, "clocks", clocks);
    json_object_set_new(out, "summary", sum);
    if (count[ST_DONE] != di->n_clocks || di->n_clocks == 0)
        *complete = 0;
done:
    free(m);
    free(jobs);
    free(di);
    free(locks);
    free(queued);
    free(q1);
    return out;
}

static void print_text(json_t *ds)
{
    const char *gpu = json_string_value(json_object_get(ds, "gpu"));
    const char *app = json_string_value(json_object_get(ds, "app"));
    printf("%-8s %-12s %9s %-8s %7s  %-14s %s\n", "gpu", "app", "clock_mhz", "state", "runs", "job",
           "note");
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(ds, "clocks"), i, row)
    {
        char runs[32];
        const char *job = json_string_value(json_object_get(row, "job"));
        const char *q = json_string_value(json_object_get(row, "queue"));
        const char *why = json_string_value(json_object_get(row, "reason"));
        snprintf(runs, sizeof runs, "%lld/%lld",
                 (long long)json_integer_value(json_object_get(row, "runs_done")),
                 (long long)json_integer_value(json_object_get(row, "runs_expected")));
        printf("%-8s %-12s %9lld %-8s %7s  %-14s %s\n", gpu[0] ? gpu : "?", app,
               (long long)json_integer_value(json_object_get(row, "clock_mhz")),
               json_string_value(json_object_get(row, "state")), runs, job ? job : "-",
               why ? why
               : q ? q
                   : "");
    }
    json_t *s = json_object_get(ds, "summary");
    printf("%s: %lld clock(s): %lld done, %lld running, %lld failed, %lld missing; runs "
           "%lld/%lld\n",
           json_string_value(json_object_get(ds, "dataset")),
           (long long)json_integer_value(json_object_get(s, "clocks")),
           (long long)json_integer_value(json_object_get(s, "done")),
           (long long)json_integer_value(json_object_get(s, "running")),
           (long long)json_integer_value(json_object_get(s, "failed")),
           (long long)json_integer_value(json_object_get(s, "missing")),
           (long long)json_integer_value(json_object_get(s, "runs_done")),
           (long long)json_integer_value(json_object_get(s, "runs_expected")));
}

static int is_dataset(const char *dir)
{
    char p[4300];
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    if (access(p, F_OK) == 0)
        return 1;
    snprintf(p, sizeof p, "%s/slurm/jobs.json", dir);
    return access(p, F_OK) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cmd_status(int argc, char **argv)
{
    int json = 0;
    const char *squeue = NULL;
    const cli_option opts[] = {
        CLI_CHOICE("format", &json, CLI_CHOICES("text", "json"),
                   "output format (text); json: {\"datasets\": [{\"dataset\", \"gpu\", \"app\", "
                   "\"clocks\": [{\"clock_mhz\", \"state\", \"runs_done\", \"runs_failed\", "
                   "\"runs_expected\", \"task\", \"job\"}], \"summary\"}], \"complete\"}"),
        CLI_STRING("squeue", &squeue, "PATH", "squeue executable (squeue in PATH)"),
        CLI_END,
    };
    int rc, nargs = cli_parse_options(&status_cmd, opts, argc, argv, &rc);
    if (nargs < 0)
        return rc;
    if (nargs != 1)
        return cli_usage_error("status", "expected one DATASET");
    const char *dir = argv[0];
    struct stat sb;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) {
        cli_error("%s: not a folder", dir);
        return EXIT_FAIL;
    }
    /* One dataset, or a folder of them (one per GPU). */
    char **names = NULL;
    size_t n = 0;
    if (is_dataset(dir)) {
        names = malloc(sizeof *names);
        names[n++] = strdup(dir);
    } else {
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            char p[4300];
            if (de->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            if (!is_dataset(p))
                continue;
            char **nn = realloc(names, (n + 1) * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            names[n++] = strdup(p);
        }
        if (d)
            closedir(d);
        qsort(names, n, sizeof *names, cmp_str);
    }
    if (!n) {
        cli_error("%s: not a dataset (no manifest.json or slurm/jobs.json, nor folders with "
                  "them)",
                  dir);
        free(names);
        return EXIT_FAIL;
    }
    int complete = 1;
    rc = EXIT_OK;
    json_t *all = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *one = status_one(names[i], squeue, &complete);
        if (!one) {
            rc = EXIT_FAIL;
            complete = 0;
        } else {
            if (!json)
                print_text(one);
            json_array_append_new(all, one);
        }
        free(names[i]);
    }
    free(names);
    if (json) {
        json_t *root = json_object();
        json_object_set_new(root, "datasets", all);
        json_object_set_new(root, "complete", json_boolean(complete));
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(root);
    } else {
        json_decref(all);
    }
    return rc == EXIT_OK && complete ? EXIT_OK : EXIT_FAIL;
}
