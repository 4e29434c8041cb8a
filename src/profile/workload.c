/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One run of the user's workload (workload.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "freqpilot/clockguard.h"
#include "profile/sampler.h"
#include "profile/workload.h"

extern char **environ;

#define LINE_MAX_SCAN 4096
#define KILL_GRACE_S 2.0
#define MAX_GROUPS 256

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * "begin [NAME]" / "end [NAME]" in line[i..len) (trimmed): 1 begin, 2 end, 0 neither. The
 * window's name (what follows, up to FP_MARK_NAME_MAX - 1 bytes) goes to name when not NULL.
 */
static int parse_verb(const char *line, size_t i, size_t len, char *name)
{
    size_t v = 0;
    int m = 0;
    if (len - i >= 5 && memcmp(line + i, "begin", 5) == 0)
        v = 5, m = 1;
    else if (len - i >= 3 && memcmp(line + i, "end", 3) == 0)
        v = 3, m = 2;
    if (!m || (i + v < len && !is_blank(line[i + v])))
        return 0;
    i += v;
    while (i < len && is_blank(line[i]))
        i++;
    if (name) {
        size_t n = len - i < FP_MARK_NAME_MAX - 1 ? len - i : FP_MARK_NAME_MAX - 1;
        memcpy(name, line + i, n);
        name[n] = 0;
    }
    return m;
}

static int parse_mark(const char *line, size_t len, int bare_ok, char *name)
{
    size_t i = 0;
    while (i < len && is_blank(line[i]))
        i++;
    while (len > i && (is_blank(line[len - 1]) || line[len - 1] == '\r'))
        len--;
    static const char tag[] = "FREQPILOT_MARK";
    size_t tl = sizeof tag - 1;
    if (len - i >= tl + 1 && memcmp(line + i, tag, tl) == 0 && is_blank(line[i + tl])) {
        i += tl;
        while (i < len && is_blank(line[i]))
            i++;
        return parse_verb(line, i, len, name);
    }
    return bare_ok ? parse_verb(line, i, len, name) : 0;
}

int fp_workload_parse_mark(const char *line, size_t len)
{
    return parse_mark(line, len, 0, NULL);
}

typedef struct linebuf {
    char buf[LINE_MAX_SCAN];
    size_t n;
    int overlong;
} linebuf;

/*
 * The window is the first begin .. the last end. Marks nest: a begin inside an open window and
 * its end are not "ignored"; an end with nothing open, or a begin of a later window, is.
 */
static void mark(fp_workload_result *res, int m, const char *name, const char *source, double t)
{
    if (m == 1) {
        if (isnan(res->mark_begin_mono)) {
            res->mark_begin_mono = t;
            snprintf(res->mark_source, sizeof res->mark_source, "%s", source);
            snprintf(res->mark_name, sizeof res->mark_name, "%s", name);
        } else if (res->mark_depth == 0) {
            res->marks_ignored++; /* a later window: the first begin stays */
        }
        res->mark_depth++;
    } else if (m == 2) {
        if (isnan(res->mark_begin_mono)) {
            res->marks_ignored++;
            return;
        }
        if (res->mark_depth > 0)
            res->mark_depth--;
        else
            res->marks_ignored++;
        res->mark_end_mono = t; /* the last end closes the window */
    }
}

static void scan(linebuf *lb, const char *data, size_t n, int is_pipe, fp_workload_result *res)
{
    double t = fp_mono_now();
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            if (!lb->overlong) {
                char name[FP_MARK_NAME_MAX];
                int m = parse_mark(lb->buf, lb->n, is_pipe, name);
                mark(res, m, name, is_pipe ? "pipe" : "marker", t);
            }
            lb->n = 0;
            lb->overlong = 0;
        } else if (lb->n < sizeof lb->buf - 1) {
            lb->buf[lb->n++] = c;
        } else {
            lb->overlong = 1;
        }
    }
}

static char **make_env(const char *fifo)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    if (!env)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (!fifo || strncmp(environ[i], "FREQPILOT_MARK_FIFO=", 20) != 0)
            env[j++] = environ[i];
    if (fifo) {
        static char var[4200];
        snprintf(var, sizeof var, "FREQPILOT_MARK_FIFO=%s", fifo);
        env[j++] = var;
    }
    /* A Python workload writing to a pipe is block-buffered: its marker lines would all arrive
     * at exit. Unbuffered unless the user chose otherwise (set to anything, even empty). */
    if (!getenv("PYTHONUNBUFFERED"))
        env[j++] = "PYTHONUNBUFFERED=1";
    env[j] = NULL;
    return env;
}

typedef struct drop {
    int on;
    uid_t uid;
    gid_t gid;
    gid_t groups[MAX_GROUPS];
    int ngroups;
} drop;

/* Root through sudo: run the workload as the user who ran sudo. */
static fp_status plan_drop(const fp_workload_opts *o, drop *d, fp_error *err)
{
    memset(d, 0, sizeof *d);
    const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
    if (geteuid() != 0 || o->no_privilege_drop || !su || !*su)
        return FP_OK;
    char *end;
    unsigned long uid = strtoul(su, &end, 10);
    if (*end || uid == 0)
        return FP_OK;
    unsigned long gid = uid;
    if (sg && *sg)
        gid = strtoul(sg, &end, 10);
    d->on = 1;
    d->uid = (uid_t)uid;
    d->gid = (gid_t)gid;
    struct passwd pw, *ppw = NULL;
    char pwbuf[4096];
    d->ngroups = 1;
    d->groups[0] = d->gid;
    if (getpwuid_r(d->uid, &pw, pwbuf, sizeof pwbuf, &ppw) == 0 && ppw) {
        int ng = MAX_GROUPS;
        if (getgrouplist(ppw->pw_name, d->gid, d->groups, &ng) < 0)
            return fp_error_set(err, FP_ERR_IO, "%s: more than %d groups", ppw->pw_name,
                                MAX_GROUPS);
        d->ngroups = ng;
    }
    return FP_OK;
}

static void child(const fp_workload_opts *o, const drop *d, char **env, int out_fd, int err_fd,
                  int status_fd)
{
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int dn = open("/dev/null", O_RDONLY);
    if (dn >= 0) {
        dup2(dn, 0);
        close(dn);
    }
    if (out_fd >= 0)
        dup2(out_fd, 1);
    if (err_fd >= 0)
        dup2(err_fd, 2);
    int e = 0;
    if (d->on && (setgroups((size_t)d->ngroups, d->groups) || setgid(d->gid) || setuid(d->uid)))
        e = errno;
    if (!e) {
        execvpe(o->argv[0], o->argv, env);
        e = errno;
    }
    if (write(status_fd, &e, sizeof e) < 0) {
        /* nothing more to do */
    }
    _exit(127);
}

fp_status fp_workload_run(const fp_workload_opts *o, fp_workload_result *res, fp_error *err)
{
    memset(res, 0, sizeof *res);
    res->mark_begin_mono = res->mark_end_mono = NAN;
    snprintf(res->mark_source, sizeof res->mark_source, "none");
    if (!o->argv || !o->argv[0])
        return fp_error_set(err, FP_ERR_INVALID, "no workload command");
    fp_status st = FP_OK;
    int outp[2] = {-1, -1}, stp[2] = {-1, -1};
    int out_file = -1, err_file = -1, fifo_rd = -1, fifo_wr = -1;
    char **env = NULL;
    drop d;
    if ((st = plan_drop(o, &d, err)))
        return st;
    const char *outpath = o->stdout_path ? o->stdout_path : "/dev/null";
    out_file = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_file < 0) {
        st = fp_error_set(err, FP_ERR_IO, "%s: %s", outpath, strerror(errno));
        goto out;
    }
    if (o->stderr_path) {
        err_file = open(o->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (err_file < 0) {
            st = fp_error_set(err, FP_ERR_IO, "%s: %s", o->stderr_path, strerror(errno));
            goto out;
        }
    }
    if (o->fifo_path) {
        unlink(o->fifo_path);
        if (mkfifo(o->fifo_path, 0600)) {
            st = fp_error_set(err, FP_ERR_IO, "%s: cannot create marker pipe: %s", o->fifo_path,
                              strerror(errno));
            goto out;
        }
        if (d.on && chown(o->fifo_path, d.uid, d.gid)) {
            st = fp_error_set(err, FP_ERR_IO, "%s: chown: %s", o->fifo_path, strerror(errno));
            goto out;
        }
        fifo_rd = open(o->fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        /* Our own writer keeps the pipe from reading EOF between the workload's writes. */
        fifo_wr = fifo_rd >= 0 ? open(o->fifo_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC) : -1;
        if (fifo_rd < 0 || fifo_wr < 0) {
            st = fp_error_set(err, FP_ERR_IO, "%s: cannot open marker pipe: %s", o->fifo_path,
                              strerror(errno));
            goto out;
        }
    }
    if (pipe2(outp, O_CLOEXEC) || pipe2(stp, O_CLOEXEC)) {
        st = fp_error_set(err, FP_ERR_IO, "pipe: %s", strerror(errno));
        goto out;
    }
    if (!(env = make_env(o->fifo_path))) {
        st = fp_error_set(err, FP_ERR_NOMEM, "workload environment: out of memory");
        goto out;
    }
    res->start_mono = fp_mono_now();
    pid_t pid = fork();
    if (pid < 0) {
        st = fp_error_set(err, FP_ERR_IO, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        child(o, &d, env, outp[1], err_file, stp[1]);
    res->pid = pid;
    setpgid(pid, pid); /* also in the child: whichever runs first */
    fp_clockguard_set_child_pgid(pid);
    close(outp[1]);
    outp[1] = -1;
    close(stp[1]);
    stp[1] = -1;
    int e = 0;
    ssize_t r;
    while ((r = read(stp[0], &e, sizeof e)) < 0 && errno == EINTR)
        ;
    if (r == (ssize_t)sizeof e)
        res->exec_errno = e;

    linebuf lo = {0}, lp = {0};
    char chunk[65536];
    int status = 0, reaped = 0;
    double kill_at = INFINITY;
    int term_sent = 0;
    double deadline = o->timeout_s > 0 ? res->start_mono + o->timeout_s : INFINITY;
    while (!reaped) {
        struct pollfd pf[2];
        int np = 0;
        if (outp[0] >= 0)
            pf[np++] = (struct pollfd){.fd = outp[0], .events = POLLIN};
        if (fifo_rd >= 0)
            pf[np++] = (struct pollfd){.fd = fifo_rd, .events = POLLIN};
        int pr = poll(pf, (nfds_t)np, 100);
        for (int i = 0; pr > 0 && i < np; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(pf[i].fd, chunk, sizeof chunk);
            if (n > 0 && pf[i].fd == outp[0]) {
                if (write(out_file, chunk, (size_t)n) != n && !st)
                    st = fp_error_set(err, FP_ERR_IO, "%s: %s", outpath, strerror(errno));
                scan(&lo, chunk, (size_t)n, 0, res);
            } else if (n > 0) {
                scan(&lp, chunk, (size_t)n, 1, res);
            } else if (n == 0 && pf[i].fd == outp[0]) {
                close(outp[0]);
                outp[0] = -1;
            }
        }
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = 1;
            break;
        }
        double now = fp_mono_now();
        int sig = fp_clockguard_pending_signal();
        if (sig && !res->interrupted_sig) {
            res->interrupted_sig = sig;
            kill(-pid, SIGTERM);
            term_sent = 1;
            kill_at = now + KILL_GRACE_S;
        }
        if (!term_sent && now >= deadline) {
            res->timed_out = 1;
            kill(-pid, SIGTERM);
            term_sent = 1;
            kill_at = now + KILL_GRACE_S;
        }
        if (now >= kill_at) {
            kill(-pid, SIGKILL);
            kill_at = INFINITY;
        }
        if (o->tick)
            o->tick(o->tick_user);
    }
    res->end_mono = fp_mono_now();
    fp_clockguard_set_child_pgid(0);
    if (term_sent)
        kill(-pid, SIGKILL); /* what is left of the group */
    /* Drain what is already written (a background grandchild may hold stdout open). */
    for (int fd_i = 0; fd_i < 2; fd_i++) {
        int fd = fd_i == 0 ? outp[0] : fifo_rd;
        if (fd < 0)
            continue;
        int flags = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        ssize_t n;
        while ((n = read(fd, chunk, sizeof chunk)) > 0) {
            if (fd_i == 0) {
                if (write(out_file, chunk, (size_t)n) != n && !st)
                    st = fp_error_set(err, FP_ERR_IO, "%s: %s", outpath, strerror(errno));
                scan(&lo, chunk, (size_t)n, 0, res);
            } else {
                scan(&lp, chunk, (size_t)n, 1, res);
            }
        }
    }
    /* A last line without a newline still counts. */
    if (lo.n)
        scan(&lo, "\n", 1, 0, res);
    if (lp.n)
        scan(&lp, "\n", 1, 1, res);
    if (WIFEXITED(status)) {
        res->exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res->term_signal = WTERMSIG(status);
        res->exit_status = 128 + res->term_signal;
    }
    if (res->exec_errno)
        res->exit_status = 127;
out:
    free(env);
    int fds[] = {outp[0], outp[1], stp[0], stp[1], out_file, err_file, fifo_rd, fifo_wr};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (o->fifo_path)
        unlink(o->fifo_path);
    return st;
}

/* Marks read this close to the workload's end came with its exit (its last output, flushed
 * by the runtime as it ends; the reaping is seen on a 100 ms poll). */
#define AT_EXIT_S 2.0

int fp_workload_window_error(const fp_workload_result *res, double interval_s, char *why,
                             size_t size)
{
    double b = res->mark_begin_mono, e = res->mark_end_mono;
    if (!isfinite(b) || !isfinite(e))
        return 0;
    static const char advice[] = "flush after each marker (print(..., flush=True)) or use "
                                 "freqpilot.window() from the freqpilot Python package";
    if (e == b) {
        /* Both read by one read(2): they were written together. */
        double before_exit = res->end_mono - e;
        if (before_exit <= AT_EXIT_S)
            snprintf(why, size,
                     "markers arrived together at exit: the workload's output is buffered; %s",
                     advice);
        else
            snprintf(why, size,
                     "markers arrived together, %.1f s before the workload ended: its output is "
                     "buffered; %s",
                     before_exit, advice);
        return 1;
    }
    if (e - b < interval_s) {
        snprintf(why, size,
                 "the marked window (%.3g s) is shorter than one sample interval (%.3g s): "
                 "lower --interval-ms or mark a longer stretch",
                 e - b, interval_s);
        return 1;
    }
    return 0;
}
