/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One run of the user's workload (workload.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "freqpilot/clockguard.h"
#include "profile/sampler.h"
#include "profile/workload.h"
#include "util/asuser.h"

extern char **environ;

#define LINE_MAX_SCAN 4096
#define KILL_GRACE_S 2.0

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

/*
 * The workload's environment: freqpilot's own, with $FREQPILOT_MARK_FIFO for the run and,
 * under sudo, the invoking user's HOME, USER, LOGNAME, SHELL and a plain PATH in place of
 * root's (util/asuser.h). Built before fork; the strings live in static storage.
 */
static char **make_env(const char *fifo, const fp_invoker *who)
{
    static char user_env[FP_INVOKER_ENV_MAX][1100];
    int n_user = fp_invoker_env(who, user_env);
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3 + (size_t)n_user, sizeof *env);
    if (!env)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        int replaced = fifo && strncmp(environ[i], "FREQPILOT_MARK_FIFO=", 20) == 0;
        for (int k = 0; k < n_user && !replaced; k++) {
            size_t klen = (size_t)(strchr(user_env[k], '=') - user_env[k]) + 1;
            replaced = strncmp(environ[i], user_env[k], klen) == 0;
        }
        /* root's mail box is not the user's */
        if (n_user && strncmp(environ[i], "MAIL=", 5) == 0)
            replaced = 1;
        if (!replaced)
            env[j++] = environ[i];
    }
    for (int k = 0; k < n_user; k++)
        env[j++] = user_env[k];
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

static void child(const fp_workload_opts *o, const fp_invoker *who, pid_t parent, char **env,
                  int out_fd, int err_fd, int status_fd, const int go[2])
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
    int e = fp_invoker_become(who);
    /* Dies with freqpilot. Set after the drop (a change of credentials clears it). */
    if (!e && prctl(PR_SET_PDEATHSIG, SIGKILL))
        e = errno;
    if (!e && getppid() != parent)
        _exit(127);
    /* Wait until the parent has recorded our process group (the state file is fsynced then,
     * not while the workload's first markers are waiting to be timestamped). */
    close(go[1]);
    char c;
    ssize_t r;
    while ((r = read(go[0], &c, 1)) < 0 && errno == EINTR)
        ;
    if (r != 1)
        _exit(127);
    if (!e) {
        environ = env; /* execvp looks argv[0] up in this PATH */
        execvp(o->argv[0], o->argv);
        e = errno;
    }
    if (write(status_fd, &e, sizeof e) < 0) {
        /* nothing more to do */
    }
    _exit(127);
}

/*
 * Marker folders left by a freqpilot that was killed (SIGKILL, a second signal): named
 * freqpilot-mark.<pid>.XXXXXX, removed once that pid is gone. Only folders of the effective
 * user are touched, through descriptors (no path is followed).
 */
static void remove_stale_fifo_dirs(const char *base)
{
    int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int lfd = bfd >= 0 ? dup(bfd) : -1;
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (!d) {
        if (lfd >= 0)
            close(lfd);
        if (bfd >= 0)
            close(bfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        long pid;
        char *end;
        if (strncmp(de->d_name, "freqpilot-mark.", 15) != 0)
            continue;
        pid = strtol(de->d_name + 15, &end, 10);
        if (end == de->d_name + 15 || *end != '.' || pid <= 0 || kill((pid_t)pid, 0) == 0 ||
            errno != ESRCH)
            continue;
        int dfd = openat(bfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (dfd >= 0 && fstat(dfd, &st) == 0 && st.st_uid == geteuid()) {
            unlinkat(dfd, "mark", 0);
            unlinkat(bfd, de->d_name, AT_REMOVEDIR);
        }
        if (dfd >= 0)
            close(dfd);
    }
    closedir(d);
    close(bfd);
}

/* A folder of freqpilot's own for the marker FIFO, and the FIFO in it, opened both ways. */
static fp_status make_fifo(const fp_invoker *who, char *dir, size_t dsize, char *path, size_t psize,
                           int *rd, int *wr, fp_error *err)
{
    const char *base = geteuid() == 0 ? NULL : getenv("TMPDIR");
    if (!base || *base != '/')
        base = "/tmp";
    remove_stale_fifo_dirs(base);
    snprintf(dir, dsize, "%s/freqpilot-mark.%ld.XXXXXX", base, (long)getpid());
    if (!mkdtemp(dir)) {
        int e = errno;
        dir[0] = 0;
        return fp_error_set(err, FP_ERR_IO, "marker pipe folder: %s", strerror(e));
    }
    snprintf(path, psize, "%s/mark", dir);
    /* The user may pass through the folder (0711) but not list or change it. */
    if ((who->drop && chmod(dir, 0711)) || mkfifo(path, 0600))
        return fp_error_set(err, FP_ERR_IO, "%s: cannot create marker pipe: %s", path,
                            strerror(errno));
    *rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    /* Our own writer keeps the pipe from reading EOF between the workload's writes. */
    *wr = *rd >= 0 ? open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW) : -1;
    if (*rd < 0 || *wr < 0)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot open marker pipe: %s", path,
                            strerror(errno));
    if (who->drop && fchown(*rd, who->uid, who->gid))
        return fp_error_set(err, FP_ERR_IO, "%s: cannot hand the marker pipe to uid %ld: %s", path,
                            (long)who->uid, strerror(errno));
    return FP_OK;
}

fp_status fp_workload_run(const fp_workload_opts *o, fp_workload_result *res, fp_error *err)
{
    memset(res, 0, sizeof *res);
    res->mark_begin_mono = res->mark_end_mono = NAN;
    snprintf(res->mark_source, sizeof res->mark_source, "none");
    if (!o->argv || !o->argv[0])
        return fp_error_set(err, FP_ERR_INVALID, "no workload command");
    fp_status st = FP_OK;
    int outp[2] = {-1, -1}, stp[2] = {-1, -1}, go[2] = {-1, -1};
    int out_file = -1, err_file = -1, fifo_rd = -1, fifo_wr = -1;
    char **env = NULL;
    char fifo_dir[4200] = "", fifo_path[4300] = "";
    const fp_invoker *who;
    if ((st = fp_invoker_get(&who, err)))
        return st;
    /* The output files are the user's: opened by a process acting as the user. */
    const int wflags = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW;
    const char *outpath = o->stdout_path ? o->stdout_path : "/dev/null";
    if ((st = fp_invoker_open(who, outpath, o->stdout_path ? wflags : O_WRONLY, 0644, &out_file,
                              err)) ||
        (o->stderr_path &&
         (st = fp_invoker_open(who, o->stderr_path, wflags, 0644, &err_file, err))))
        goto out;
    if (o->marker_fifo && (st = make_fifo(who, fifo_dir, sizeof fifo_dir, fifo_path,
                                          sizeof fifo_path, &fifo_rd, &fifo_wr, err)))
        goto out;
    if (pipe2(outp, O_CLOEXEC) || pipe2(stp, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
        st = fp_error_set(err, FP_ERR_IO, "pipe: %s", strerror(errno));
        goto out;
    }
    if (!(env = make_env(fifo_path[0] ? fifo_path : NULL, who))) {
        st = fp_error_set(err, FP_ERR_NOMEM, "workload environment: out of memory");
        goto out;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        st = fp_error_set(err, FP_ERR_IO, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        child(o, who, parent, env, outp[1], err_file, stp[1], go);
    res->pid = pid;
    setpgid(pid, pid); /* also in the child: whichever runs first */
    fp_clockguard_set_child_pgid(pid);
    if (o->guard) {
        fp_error e2;
        fp_clockguard_set_workload(o->guard, pid, who->drop ? who->uid : geteuid(), &e2);
    }
    /* Our read end stays open while we write: a child that is already gone (its status
     * says why) must not turn the write into a SIGPIPE. */
    res->start_mono = fp_mono_now();
    if (write(go[1], "g", 1) != 1) {
        /* the child reads it or is gone */
    }
    close(go[0]);
    close(go[1]);
    go[0] = go[1] = -1;
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
    if (o->guard) {
        fp_error e2;
        fp_clockguard_set_workload(o->guard, 0, 0, &e2);
    }
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
    int fds[] = {outp[0], outp[1],  stp[0],   stp[1],  go[0],
                 go[1],   out_file, err_file, fifo_rd, fifo_wr};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (fifo_path[0])
        unlink(fifo_path);
    if (fifo_dir[0])
        rmdir(fifo_dir);
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
