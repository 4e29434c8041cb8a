/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Acting as the user who invoked a root freqpilot (asuser.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/asuser.h"

static fp_invoker cached;
static int have_cached;

static int parse_id(const char *s, unsigned long *v)
{
    char *end;
    errno = 0;
    *v = strtoul(s, &end, 10);
    return *s < '0' || *s > '9' || *end || errno || *v > 0x7fffffffUL ? -1 : 0;
}

fp_status fp_invoker_get(const fp_invoker **out, fp_error *err)
{
    *out = &cached;
    if (have_cached)
        return FP_OK;
    fp_invoker u;
    memset(&u, 0, sizeof u);
    u.uid = geteuid();
    u.gid = getegid();
    snprintf(u.home, sizeof u.home, "/");
    const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
    if (geteuid() == 0 && su && *su) {
        unsigned long uid, gid;
        if (parse_id(su, &uid))
            return fp_error_set(err, FP_ERR_INVALID, "SUDO_UID=%s: expected a user id", su);
        gid = uid;
        if (sg && *sg && parse_id(sg, &gid))
            return fp_error_set(err, FP_ERR_INVALID, "SUDO_GID=%s: expected a group id", sg);
        if (uid != 0) {
            u.drop = 1;
            u.uid = (uid_t)uid;
            u.gid = (gid_t)gid;
            u.ngroups = 1;
            u.groups[0] = u.gid;
            snprintf(u.shell, sizeof u.shell, "/bin/sh");
            struct passwd pw, *ppw = NULL;
            char buf[8192];
            if (getpwuid_r(u.uid, &pw, buf, sizeof buf, &ppw) == 0 && ppw) {
                snprintf(u.name, sizeof u.name, "%s", ppw->pw_name);
                if (ppw->pw_dir && *ppw->pw_dir)
                    snprintf(u.home, sizeof u.home, "%s", ppw->pw_dir);
                if (ppw->pw_shell && *ppw->pw_shell)
                    snprintf(u.shell, sizeof u.shell, "%s", ppw->pw_shell);
                int ng = FP_INVOKER_MAX_GROUPS;
                if (getgrouplist(ppw->pw_name, u.gid, u.groups, &ng) < 0)
                    return fp_error_set(err, FP_ERR_INVALID, "user %s: more than %d groups",
                                        ppw->pw_name, FP_INVOKER_MAX_GROUPS);
                u.ngroups = ng;
            }
        }
    }
    cached = u;
    have_cached = 1;
    return FP_OK;
}

int fp_invoker_become(const fp_invoker *u)
{
    if (!u || !u->drop)
        return 0;
    if (setgroups((size_t)u->ngroups, u->groups) || setgid(u->gid) || setuid(u->uid))
        return errno ? errno : EPERM;
    /* Paranoia: the way back to root must be closed. */
    if (getuid() != u->uid || geteuid() != u->uid || getegid() != u->gid || setuid(0) == 0)
        return EPERM;
    return 0;
}

/* fork(); in the child: terminal signals ignored, dropped to u, dies with the parent.
 * Returns the pid in the parent; in the child 0 with *child_errno set (0 = dropped). */
static pid_t fork_dropped(const fp_invoker *u, int *child_errno)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    static const int quiet[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++)
        signal(quiet[i], SIG_IGN);
    *child_errno = fp_invoker_become(u);
    /* Set after the drop: a change of credentials clears it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    return 0;
}

typedef struct call_msg {
    int status;
    fp_error err;
} call_msg;

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static size_t read_all(int fd, void *p, size_t n)
{
    char *c = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, c + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static int reap(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

fp_status fp_invoker_call(const fp_invoker *u, fp_invoker_fn fn, void *arg, void *ret,
                          size_t ret_size, fp_error *err)
{
    if (!u || !u->drop)
        return fn(arg, ret, err);
    int p[2];
    if (pipe2(p, O_CLOEXEC))
        return fp_error_set(err, FP_ERR_IO, "pipe: %s", strerror(errno));
    int ce = 0;
    pid_t pid = fork_dropped(u, &ce);
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return fp_error_set(err, FP_ERR_IO, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        close(p[0]);
        call_msg m;
        memset(&m, 0, sizeof m);
        if (ce)
            m.status = fp_error_set(&m.err, FP_ERR_IO, "cannot act as uid %ld: %s", (long)u->uid,
                                    strerror(ce));
        else
            m.status = fn(arg, ret, &m.err);
        int bad = write_all(p[1], &m, sizeof m) || (ret_size && write_all(p[1], ret, ret_size));
        _exit(bad ? 1 : 0);
    }
    close(p[1]);
    call_msg m;
    size_t got = read_all(p[0], &m, sizeof m);
    size_t got_ret = 0;
    if (got == sizeof m && ret_size) {
        char *tmp = malloc(ret_size);
        if (tmp) {
            got_ret = read_all(p[0], tmp, ret_size);
            if (got_ret == ret_size)
                memcpy(ret, tmp, ret_size);
            free(tmp);
        }
    }
    close(p[0]);
    int status = reap(pid);
    if (got != sizeof m || got_ret != ret_size || status < 0 || !WIFEXITED(status))
        return fp_error_set(err, FP_ERR_IO, "the process acting as uid %ld ended early (%s %d)",
                            (long)u->uid, status >= 0 && WIFSIGNALED(status) ? "signal" : "status",
                            status >= 0 && WIFSIGNALED(status) ? WTERMSIG(status) : status);
    if (m.status && err)
        *err = m.err;
    return (fp_status)m.status;
}

fp_status fp_invoker_open(const fp_invoker *u, const char *path, int flags, mode_t mode, int *fd,
                          fp_error *err)
{
    *fd = -1;
    if (!u || !u->drop) {
        int f = open(path, flags | O_CLOEXEC, mode);
        if (f < 0)
            return fp_error_set(err, FP_ERR_IO, "%s: %s", path, strerror(errno));
        *fd = f;
        return FP_OK;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return fp_error_set(err, FP_ERR_IO, "socketpair: %s", strerror(errno));
    int ce = 0;
    pid_t pid = fork_dropped(u, &ce);
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return fp_error_set(err, FP_ERR_IO, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        close(sv[0]);
        int e = ce, f = -1;
        if (!e) {
            f = open(path, flags | O_CLOEXEC, mode);
            if (f < 0)
                e = errno;
        }
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct iovec iov = {.iov_base = &e, .iov_len = sizeof e};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (f >= 0) {
            mh.msg_control = cbuf;
            mh.msg_controllen = sizeof cbuf;
            struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &f, sizeof f);
        }
        _exit(sendmsg(sv[1], &mh, 0) == (ssize_t)sizeof e ? 0 : 1);
    }
    close(sv[1]);
    int e = EIO, f = -1;
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &e, .iov_len = sizeof e};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    ssize_t r;
    while ((r = recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (r == (ssize_t)sizeof e) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                memcpy(&f, CMSG_DATA(c), sizeof f);
    } else {
        e = EIO;
    }
    close(sv[0]);
    reap(pid);
    if (f < 0 || e) {
        if (f >= 0)
            close(f);
        return fp_error_set(err, FP_ERR_IO, "%s: %s (opened as uid %ld)", path,
                            strerror(e ? e : EIO), (long)u->uid);
    }
    *fd = f;
    return FP_OK;
}

int fp_invoker_env(const fp_invoker *u, char out[FP_INVOKER_ENV_MAX][1100])
{
    if (!u || !u->drop)
        return 0;
    char uid[32];
    snprintf(uid, sizeof uid, "%ld", (long)u->uid);
    const char *name = u->name[0] ? u->name : uid;
    snprintf(out[0], sizeof out[0], "HOME=%s", u->home);
    snprintf(out[1], sizeof out[1], "USER=%s", name);
    snprintf(out[2], sizeof out[2], "LOGNAME=%s", name);
    snprintf(out[3], sizeof out[3], "SHELL=%s", u->shell[0] ? u->shell : "/bin/sh");
    snprintf(out[4], sizeof out[4], "PATH=%s", FP_INVOKER_PATH);
    return FP_INVOKER_ENV_MAX;
}
