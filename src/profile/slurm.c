/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Slurm job arrays for sweeps (slurm.h, docs/cluster.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/slurm.h"
#include "util/input.h"

/* ---- script ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->oom = 1;
        return;
    }
    sb_add(b, tmp, (size_t)n);
}

/* Single-quoted for the shell. */
static void sb_quote(sbuf *b, const char *s)
{
    int plain = *s != 0;
    for (const char *p = s; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%",
                       *p) != NULL;
    if (plain) {
        sb_add(b, s, strlen(s));
        return;
    }
    sb_add(b, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            sb_add(b, "'\\''", 4);
        else
            sb_add(b, p, 1);
    }
    sb_add(b, "'", 1);
}

/* A directive value must stay on one line. */
static int one_line(const char *s)
{
    return !s || !strpbrk(s, "\n\r");
}

fp_status fp_slurm_script(const fp_slurm_script_opts *o, char **out, fp_error *err)
{
    *out = NULL;
    if (!one_line(o->job_name) || !one_line(o->partition) || !one_line(o->account) ||
        !one_line(o->time_limit) || !one_line(o->gres) || !one_line(o->workdir) ||
        !one_line(o->log_dir))
        return fp_error_set(err, FP_ERR_INVALID, "sbatch options must not contain newlines");
    if (o->n_tasks < 1 || o->n_tasks > FP_SLURM_MAX_TASKS)
        return fp_error_set(err, FP_ERR_INVALID, "%d array tasks: expected 1..%d", o->n_tasks,
                            FP_SLURM_MAX_TASKS);
    sbuf b = {0};
    sb_printf(&b, "#!/bin/bash\n");
    sb_printf(&b, "#SBATCH --job-name=%s\n", o->job_name ? o->job_name : "freqpilot");
    if (o->array_parallel > 0)
        sb_printf(&b, "#SBATCH --array=0-%d%%%d\n", o->n_tasks - 1, o->array_parallel);
    else
        sb_printf(&b, "#SBATCH --array=0-%d\n", o->n_tasks - 1);
    if (o->partition)
        sb_printf(&b, "#SBATCH --partition=%s\n", o->partition);
    if (o->account)
        sb_printf(&b, "#SBATCH --account=%s\n", o->account);
    if (o->time_limit)
        sb_printf(&b, "#SBATCH --time=%s\n", o->time_limit);
    if (o->gres)
        sb_printf(&b, "#SBATCH --gres=%s\n", o->gres);
    sb_printf(&b, "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n");
    if (o->workdir)
        sb_printf(&b, "#SBATCH --chdir=%s\n", o->workdir);
    if (o->log_dir)
        sb_printf(&b, "#SBATCH --output=%s/%%A_%%a.out\n", o->log_dir);
    sb_printf(&b, "#\n# Written by 'freqpilot profile --slurm' and kept for the record; each\n"
                  "# array task runs its slice of the clock sweep into the same dataset\n"
                  "# (docs/cluster.md). 'freqpilot profile --slurm --resume' resubmits only\n"
                  "# the tasks whose runs are not complete.\n\n");
    sb_printf(&b, "set -u\nexec");
    for (char *const *a = o->argv; *a; a++) {
        sb_add(&b, " ", 1);
        if (o->task_placeholder && strcmp(*a, o->task_placeholder) == 0)
            sb_printf(&b, "\"$SLURM_ARRAY_TASK_ID\"");
        else
            sb_quote(&b, *a);
    }
    sb_add(&b, "\n", 1);
    if (b.oom) {
        free(b.p);
        return fp_error_set(err, FP_ERR_NOMEM, "sbatch script: out of memory");
    }
    *out = b.p;
    return FP_OK;
}

void fp_slurm_array_spec(const int *ids, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && used < size;) {
        size_t j = i;
        while (j + 1 < n && ids[j + 1] == ids[j] + 1)
            j++;
        int w;
        if (j > i)
            w = snprintf(buf + used, size - used, "%s%d-%d", used ? "," : "", ids[i], ids[j]);
        else
            w = snprintf(buf + used, size - used, "%s%d", used ? "," : "", ids[i]);
        if (w < 0)
            break;
        used += (size_t)w;
        i = j + 1;
    }
}

/* ---- running sbatch / squeue ---- */

/* Runs argv with stdout into buf (NUL-terminated); returns the exit status or -1. */
static int run_capture(char *const *argv, char *buf, size_t size)
{
    int fd[2];
    if (pipe(fd))
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t used = 0;
    for (;;) {
        char tmp[4096];
        ssize_t n = read(fd[0], tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t take = (size_t)n < size - 1 - used ? (size_t)n : size - 1 - used;
        memcpy(buf + used, tmp, take);
        used += take;
    }
    buf[used] = 0;
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fp_status fp_slurm_submit(const char *sbatch, const char *script, const char *array_spec,
                          char *const *extra, char *job_id, size_t size, fp_error *err)
{
    char *argv[64];
    char arr[1100];
    int n = 0;
    argv[n++] = (char *)(sbatch ? sbatch : "sbatch");
    argv[n++] = "--parsable";
    if (array_spec && *array_spec) {
        snprintf(arr, sizeof arr, "--array=%s", array_spec);
        argv[n++] = arr;
    }
    for (size_t i = 0; extra && extra[i] && n < 60; i++)
        argv[n++] = extra[i];
    argv[n++] = (char *)script;
    argv[n] = NULL;
    char out[4096];
    int rc = run_capture(argv, out, sizeof out);
    if (rc == 127 || rc < 0)
        return fp_error_set(err, FP_ERR_UNSUPPORTED,
                            "%s: cannot run (is Slurm installed here? --sbatch PATH)", argv[0]);
    if (rc != 0)
        return fp_error_set(err, FP_ERR_IO,
                            "%s --parsable %s: exit status %d (its message is "
                            "above)",
                            argv[0], script, rc);
    size_t k = strcspn(out, ";\n\r ");
    if (k == 0 || k >= size)
        return fp_error_set(err, FP_ERR_PARSE, "%s --parsable: no job id in its output '%s'",
                            argv[0], out);
    memcpy(job_id, out, k);
    job_id[k] = 0;
    return FP_OK;
}

int fp_slurm_queue(const char *squeue, const char *job_id, char *queued, int n_tasks)
{
    char *argv[] = {(char *)(squeue ? squeue : "squeue"),
                    "-h",
                    "-r",
                    "-j",
                    (char *)job_id,
                    "-o",
                    "%i %T",
                    NULL};
    memset(queued, 0, (size_t)n_tasks);
    char *out = malloc(1 << 20);
    if (!out)
        return -1;
    int rc = run_capture(argv, out, 1 << 20);
    if (rc < 0 || rc == 127) {
        free(out);
        return -1;
    }
    /* Lines "JOB_TASK STATE"; a finished job id is an error (rc 1) with no lines. */
    size_t jl = strlen(job_id);
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char id[128], state[64];
        if (sscanf(line, "%127s %63s", id, state) != 2)
            continue;
        if (strncmp(id, job_id, jl) != 0 || id[jl] != '_')
            continue;
        char *end;
        long t = strtol(id + jl + 1, &end, 10);
        if (*end || t < 0 || t >= n_tasks)
            continue;
        queued[t] = strcmp(state, "RUNNING") == 0 || strcmp(state, "COMPLETING") == 0 ? 'R' : 'P';
    }
    free(out);
    return 0;
}

/* ---- jobs.json ---- */

static fp_status dump_atomic(json_t *root, const char *path, fp_error *err)
{
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return fp_error_set(err, FP_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return FP_OK;
}

static int mkdir1(const char *path)
{
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

static int parse_ids(const char *spec, int *mark, int n_tasks)
{
    const char *p = spec;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p)
            return -1;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            p = end;
        }
        if (*p == '%') /* throttle */
            while (*p && *p != ',')
                p++;
        for (long t = a; t <= b; t++)
            if (t >= 0 && t < n_tasks)
                mark[t] = 1;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return 0;
}

fp_status fp_slurm_jobs_read(const char *dataset, fp_slurm_jobs *j, fp_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/slurm/jobs.json", dataset);
    memset(j, 0, sizeof *j);
    for (int t = 0; t < FP_SLURM_MAX_TASKS; t++)
        j->task_job[t] = -1;
    if (access(path, F_OK))
        return fp_error_set(err, FP_ERR_IO, "%s: %s", path, strerror(errno));
    json_t *root = fp_json_load_input(path, 0, err);
    if (!root)
        return err ? err->code : FP_ERR_PARSE;
    if (!json_is_object(root)) {
        json_decref(root);
        return fp_error_at(err, FP_ERR_PARSE, path, 1, "expected a JSON object");
    }
    json_t *v;
    if ((v = json_object_get(root, "gpu")) && json_is_string(v))
        snprintf(j->gpu, sizeof j->gpu, "%s", json_string_value(v));
    if ((v = json_object_get(root, "app")) && json_is_string(v))
        snprintf(j->app, sizeof j->app, "%s", json_string_value(v));
    j->clocks_per_task = (int)json_integer_value(json_object_get(root, "clocks_per_task"));
    j->runs = (int)json_integer_value(json_object_get(root, "runs"));
    j->warmup = (int)json_integer_value(json_object_get(root, "warmup"));
    j->n_tasks = (int)json_integer_value(json_object_get(root, "tasks"));
    json_t *c = json_object_get(root, "clocks_mhz");
    size_t i;
    json_t *x;
    json_array_foreach(c, i, x) if (j->n_clocks < 512) j->clocks_mhz[j->n_clocks++] =
        json_number_value(x);
    if (j->clocks_per_task < 1 || j->n_tasks < 1 || j->n_tasks > FP_SLURM_MAX_TASKS) {
        json_decref(root);
        return fp_error_at(err, FP_ERR_PARSE, path, 0,
                           "expected clocks_per_task >= 1 and tasks 1..%d", FP_SLURM_MAX_TASKS);
    }
    json_t *subs = json_object_get(root, "submissions");
    size_t n = json_array_size(subs), first = n > 64 ? n - 64 : 0;
    int *mark = calloc((size_t)j->n_tasks, sizeof *mark);
    for (i = first; i < n && mark; i++) {
        json_t *s = json_array_get(subs, i);
        struct fp_slurm_sub *d = &j->sub[j->n_sub];
        const char *id = json_string_value(json_object_get(s, "job_id"));
        const char *arr = json_string_value(json_object_get(s, "array"));
        if (!id || !arr)
            continue;
        snprintf(d->job_id, sizeof d->job_id, "%s", id);
        snprintf(d->array, sizeof d->array, "%s", arr);
        memset(mark, 0, (size_t)j->n_tasks * sizeof *mark);
        if (parse_ids(arr, mark, j->n_tasks) == 0)
            for (int t = 0; t < j->n_tasks; t++)
                if (mark[t])
                    j->task_job[t] = (int)j->n_sub;
        j->n_sub++;
    }
    free(mark);
    json_decref(root);
    return FP_OK;
}

static double utc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static json_t *utc_json(void)
{
    char buf[64];
    time_t t = (time_t)utc_now();
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

fp_status fp_slurm_jobs_add(const char *dataset, const fp_slurm_jobs *j, const char *job_id,
                            const int *task_ids, size_t n, fp_error *err)
{
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/slurm", dataset);
    if (mkdir1(dataset) || mkdir1(dir))
        return fp_error_set(err, FP_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/jobs.json", dir);
    json_t *root = NULL;
    if (access(path, F_OK) == 0) {
        root = fp_json_load_input(path, 0, err);
        if (!root)
            return err ? err->code : FP_ERR_PARSE;
        if (!json_is_object(root)) {
            json_decref(root);
            return fp_error_at(err, FP_ERR_PARSE, path, 1, "expected a JSON object");
        }
    } else {
        root = json_object();
        json_t *c = json_array();
        for (size_t i = 0; i < j->n_clocks; i++)
            json_array_append_new(c, json_real(j->clocks_mhz[i]));
        json_object_set_new(root, "gpu", json_string(j->gpu));
        json_object_set_new(root, "app", json_string(j->app));
        json_object_set_new(root, "clocks_mhz", c);
        json_object_set_new(root, "clocks_per_task", json_integer(j->clocks_per_task));
        json_object_set_new(root, "runs", json_integer(j->runs));
        json_object_set_new(root, "warmup", json_integer(j->warmup));
        json_object_set_new(root, "tasks", json_integer(j->n_tasks));
        json_object_set_new(root, "submissions", json_array());
    }
    json_t *subs = json_object_get(root, "submissions");
    if (!json_is_array(subs)) {
        subs = json_array();
        json_object_set_new(root, "submissions", subs);
    }
    char spec[1024];
    fp_slurm_array_spec(task_ids, n, spec, sizeof spec);
    json_t *s = json_object(), *ids = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ids, json_integer(task_ids[i]));
    json_object_set_new(s, "job_id", json_string(job_id));
    json_object_set_new(s, "array", json_string(spec));
    json_object_set_new(s, "task_ids", ids);
    json_object_set_new(s, "submitted_utc", utc_json());
    json_array_append_new(subs, s);
    fp_status st = dump_atomic(root, path, err);
    json_decref(root);
    return st;
}

/* ---- task state files ---- */

static const char *state_name(fp_task_state s)
{
    return s == FP_TASK_RUNNING ? "running" : s == FP_TASK_DONE ? "done" : "failed";
}

fp_status fp_slurm_task_write(const char *dataset, int task, fp_task_state state, const char *error,
                              fp_error *err)
{
    char dir[4200], path[4300], host[64] = "";
    snprintf(dir, sizeof dir, "%s/slurm", dataset);
    if (mkdir1(dataset) || mkdir1(dir))
        return fp_error_set(err, FP_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
    snprintf(dir, sizeof dir, "%s/slurm/tasks", dataset);
    if (mkdir1(dir))
        return fp_error_set(err, FP_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/%d.json", dir, task);
    gethostname(host, sizeof host - 1);
    json_t *root = json_object();
    json_object_set_new(root, "task", json_integer(task));
    json_object_set_new(root, "state", json_string(state_name(state)));
    const char *job = getenv("SLURM_JOB_ID"), *ajob = getenv("SLURM_ARRAY_JOB_ID");
    json_object_set_new(root, "job_id", job ? json_string(job) : json_null());
    json_object_set_new(root, "array_job_id", ajob ? json_string(ajob) : json_null());
    json_object_set_new(root, "host", json_string(host));
    json_object_set_new(root, "pid", json_integer((json_int_t)getpid()));
    json_object_set_new(root, state == FP_TASK_RUNNING ? "start_utc" : "end_utc", utc_json());
    json_object_set_new(root, "error", error ? json_string(error) : json_null());
    fp_status st = dump_atomic(root, path, err);
    json_decref(root);
    return st;
}

fp_task_state fp_slurm_task_read(const char *dataset, int task, char *host, size_t host_size,
                                 long *pid, char *msg, size_t msg_size)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/slurm/tasks/%d.json", dataset, task);
    if (host && host_size)
        host[0] = 0;
    if (msg && msg_size)
        msg[0] = 0;
    if (pid)
        *pid = 0;
    json_t *root = fp_json_load_input(path, 0, NULL);
    if (!root)
        return FP_TASK_NONE;
    const char *s = json_string_value(json_object_get(root, "state"));
    const char *h = json_string_value(json_object_get(root, "host"));
    const char *e = json_string_value(json_object_get(root, "error"));
    fp_task_state st = !s                          ? FP_TASK_NONE
                       : strcmp(s, "running") == 0 ? FP_TASK_RUNNING
                       : strcmp(s, "done") == 0    ? FP_TASK_DONE
                                                   : FP_TASK_FAILED;
    if (host && h)
        snprintf(host, host_size, "%s", h);
    if (msg && e)
        snprintf(msg, msg_size, "%s", e);
    if (pid)
        *pid = (long)json_integer_value(json_object_get(root, "pid"));
    json_decref(root);
    return st;
}
