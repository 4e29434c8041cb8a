/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `--sampler dcgmi` (dcgmi_sampler.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "freqpilot/reader.h"
#include "profile/dcgmi_sampler.h"
#include "util/asuser.h"
#include "util/grow.h"
#include "util/thread.h"

struct fp_dcgmi_sampler {
    pid_t pid;
    int fd;
    pthread_t thread;
    double t0;
    unsigned gpu_index;
    char *text;
    size_t len, cap;
    double *row_t; /* arrival time of each "GPU ..." row */
    size_t n_rows, cap_rows;
    int nomem;
};

static int executable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

int fp_dcgmi_available(const char *path)
{
    if (!path || !*path)
        path = "dcgmi";
    if (strchr(path, '/'))
        return executable(path);
    const char *pathenv = getenv("PATH");
    if (!pathenv)
        pathenv = "/usr/bin:/bin";
    char *copy = strdup(pathenv);
    int found = 0;
    for (char *save = NULL, *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !found;
         d = strtok_r(NULL, ":", &save)) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", d, path);
        found = executable(full);
    }
    free(copy);
    return found;
}

static void *reader_main(void *arg)
{
    fp_dcgmi_sampler *d = arg;
    char chunk[8192];
    size_t line_start = 0;
    for (;;) {
        ssize_t n = read(d->fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        double t = fp_mono_now();
        if (d->len + (size_t)n + 1 > d->cap) {
            size_t cap = (d->cap ? d->cap * 2 : 65536) + (size_t)n;
            char *p = realloc(d->text, cap);
            if (!p) {
                d->nomem = 1;
                break;
            }
            d->text = p;
            d->cap = cap;
        }
        memcpy(d->text + d->len, chunk, (size_t)n);
        d->len += (size_t)n;
        d->text[d->len] = 0;
        /* Stamp each complete data row with the time its line arrived. */
        for (size_t i = line_start; i < d->len; i++) {
            if (d->text[i] != '\n')
                continue;
            const char *l = d->text + line_start;
            while (*l == ' ' || *l == '\t')
                l++;
            if (strncmp(l, "GPU ", 4) == 0) {
                if (FP_GROW(d->row_t, d->n_rows, d->cap_rows, 1024)) {
                    d->nomem = 1;
                    return NULL;
                }
                d->row_t[d->n_rows++] = t - d->t0;
            }
            line_start = i + 1;
        }
    }
    return NULL;
}

fp_status fp_dcgmi_start(fp_dcgmi_sampler **out, const char *path, unsigned gpu_index,
                         const char *fields, double interval_s, double t0_mono, fp_error *err)
{
    *out = NULL;
    if (!path || !*path)
        path = "dcgmi";
    if (!fields || !*fields)
        fields = FP_DCGMI_DEFAULT_FIELDS;
    char gpu[16], ms[32];
    snprintf(gpu, sizeof gpu, "%u", gpu_index);
    long ims = lround(interval_s * 1000.0);
    snprintf(ms, sizeof ms, "%ld", ims < 1 ? 1 : ims);
    char *argv[] = {(char *)path, "dmon", "-i", gpu, "-e", (char *)fields, "-d", ms, NULL};
    int p[2];
    if (pipe2(p, O_CLOEXEC))
        return fp_error_set(err, FP_ERR_IO, "pipe: %s", strerror(errno));
    fp_dcgmi_sampler *d = calloc(1, sizeof *d);
    if (!d) {
        close(p[0]);
        close(p[1]);
        return fp_error_set(err, FP_ERR_NOMEM, "dcgmi: out of memory");
    }
    d->t0 = t0_mono;
    d->gpu_index = gpu_index;
    /* dcgmi runs as the user behind sudo, never as root (util/asuser.h). */
    const fp_invoker *who;
    fp_status ist = fp_invoker_get(&who, err);
    if (ist) {
        close(p[0]);
        close(p[1]);
        free(d);
        return ist;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        free(d);
        return fp_error_set(err, FP_ERR_IO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        setpgid(0, 0); /* the terminal's Ctrl-C goes to freqpilot, which stops us */
        if (fp_invoker_become(who))
            _exit(127);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* after the drop, which clears it */
        if (getppid() != parent)
            _exit(127);
        dup2(p[1], 1);
        int dn = open("/dev/null", O_RDWR);
        if (dn >= 0) {
            dup2(dn, 0);
            dup2(dn, 2);
        }
        execvp(path, argv);
        _exit(127);
    }
    close(p[1]);
    d->pid = pid;
    d->fd = p[0];
    int rc = fp_thread_create(&d->thread, reader_main, d);
    if (rc) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(d->fd);
        free(d);
        return fp_error_set(err, FP_ERR_IO, "dcgmi reader thread: %s", strerror(rc));
    }
    *out = d;
    return FP_OK;
}

fp_status fp_dcgmi_stop(fp_dcgmi_sampler *d, fp_sample_buf *rows, fp_error *err)
{
    kill(d->pid, SIGINT);
    int status = 0;
    for (int i = 0; i < 100; i++) {
        if (waitpid(d->pid, &status, WNOHANG) == d->pid)
            goto reaped;
        usleep(10000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &status, 0);
reaped:
    pthread_join(d->thread, NULL);
    close(d->fd);
    fp_status st = FP_OK;
    if (d->nomem) {
        st = fp_error_set(err, FP_ERR_NOMEM, "dcgmi: out of memory");
    } else if (d->len == 0) {
        st = fp_error_set(err, FP_ERR_IO,
                          "dcgmi dmon printed nothing (exit status %d): is nv-hostengine "
                          "running?",
                          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    } else {
        fp_ts_options opt = {.interval_s = 1.0, .gpu_index = (int)d->gpu_index};
        fp_ts_reader *r;
        st = fp_ts_open_mem(d->text, d->len, "dcgmi dmon", FP_FMT_DCGMI, &opt, &r, err);
        if (!st) {
            fp_sample s;
            int rc;
            size_t k = 0;
            while ((rc = fp_ts_next(r, &s, err)) == 1) {
                /* Row k arrived at row_t[k]: the host time replaces the rebuilt one. */
                s.v[FP_COL_T_S] = k < d->n_rows ? d->row_t[k] : NAN;
                k++;
                if (!isnan(s.v[FP_COL_T_S]) && fp_sample_buf_push(rows, &s)) {
                    rc = fp_error_set(err, FP_ERR_NOMEM, "dcgmi: out of memory");
                    break;
                }
            }
            if (rc < 0)
                st = (fp_status)rc;
            fp_ts_close(r);
        }
    }
    free(d->text);
    free(d->row_t);
    free(d);
    return st;
}

void fp_dcgmi_merge(fp_sample_buf *s, const fp_sample_buf *rows, double max_dt_s)
{
    size_t j = 0;
    for (size_t i = 0; i < s->n && rows->n; i++) {
        double t = s->v[i].v[FP_COL_T_S];
        while (j + 1 < rows->n &&
               fabs(rows->v[j + 1].v[FP_COL_T_S] - t) <= fabs(rows->v[j].v[FP_COL_T_S] - t))
            j++;
        const fp_sample *r = &rows->v[j];
        if (fabs(r->v[FP_COL_T_S] - t) > max_dt_s)
            continue;
        for (int c = 1; c < FP_COL_COUNT; c++)
            if (isnan(s->v[i].v[c]))
                s->v[i].v[c] = r->v[c];
    }
}
