/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilotd's socket side (src/service/server.h): connections, framing, limits, and the
 * dispatch of parsed requests to the lease table (src/service/leases.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/freqpilotd.h"
#include "profile/sampler.h"
#include "service/server_int.h"

#define OUT_MAX (256 * 1024) /* a client that does not read its replies is dropped */

void svc_log(fp_svc_server *s, int level, const char *fmt, ...)
{
    if (!s->log)
        return;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->log(s->log_user, level, msg);
}

void svc_conn_name(const svc_conn *c, char *buf, size_t size)
{
    if (c->who.user[0])
        snprintf(buf, size, "%s (uid %ld, pid %ld %s)", c->who.user, (long)c->who.uid, (long)c->pid,
                 c->comm);
    else
        snprintf(buf, size, "uid %ld (pid %ld %s)", (long)c->who.uid, (long)c->pid, c->comm);
}

/* ---- replies ---- */

static void queue(svc_conn *c, const char *text, size_t len)
{
    if (c->closing)
        return;
    if (c->out_len + len > OUT_MAX) {
        c->closing = 2; /* drop without flushing */
        return;
    }
    if (c->out_cap < c->out_len + len) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        char *b = realloc(c->out, cap);
        if (!b) {
            c->closing = 2;
            return;
        }
        c->out = b;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, text, len);
    c->out_len += len;
}

static void flush(svc_conn *c)
{
    while (c->out_len) {
        ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            c->closing = 2;
            c->out_len = 0;
            return;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
}

/* Sends reply (stolen) with the request's id. */
void svc_reply(svc_conn *c, const fp_svc_request *req, json_t *reply)
{
    if (!reply)
        reply = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", "failed", "message", "out of memory");
    if (!reply)
        return;
    if (req && req->id_kind == 1)
        json_object_set_new(reply, "id", json_integer(req->id_int));
    else if (req && req->id_kind == 2)
        json_object_set_new(reply, "id", json_string(req->id_str));
    char *text = json_dumps(reply, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(reply);
    if (!text) {
        c->closing = 2;
        return;
    }
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps' NUL becomes the line end */
    queue(c, text, n + 1);
    free(text);
}

void svc_reply_error(svc_conn *c, const fp_svc_request *req, fp_svc_errcode code, const char *fmt,
                     ...)
{
    char msg[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    svc_reply(
        c, req,
        json_pack("{s:b,s:s,s:s}", "ok", 0, "error", fp_svc_error_name(code), "message", msg));
}

/* ---- connections ---- */

static int uid_conns(const fp_svc_server *s, uid_t uid)
{
    int n = 0;
    for (size_t i = 0; i < s->n_conns; i++)
        n += s->conns[i]->who.uid == uid;
    return n;
}

static void read_comm(pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
    buf[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0)
        n = 0;
    buf[n] = 0;
    /* Printable only: it ends up in messages to other users. */
    for (char *p = buf; *p; p++)
        if (*p == '\n')
            *p = 0;
        else if ((unsigned char)*p < 32 || (unsigned char)*p > 126 || *p == '"' || *p == '\\')
            *p = '?';
}

static void refuse_conn(int fd, const char *msg)
{
    json_t *r = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", "too_many", "message", msg);
    char *text = r ? json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(r);
    if (text) {
        size_t n = strlen(text);
        text[n] = '\n';
        if (send(fd, text, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            /* the client is gone already */
        }
        free(text);
    }
    close(fd);
}

static void accept_one(fp_svc_server *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Out of descriptors: stop accepting for a moment instead of spinning. */
            s->accept_paused_until = fp_mono_now() + 0.2;
            svc_log(s, 1, "accept: %s; pausing new connections", strerror(errno));
        }
        return;
    }
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || len != sizeof cr) {
        close(fd);
        return;
    }
    if ((int)s->n_conns >= s->cfg.max_clients) {
        refuse_conn(fd, "freqpilotd: too many connections; try again later");
        svc_log(s, 1, "refused a connection of uid %ld: %d connections", (long)cr.uid,
                s->cfg.max_clients);
        return;
    }
    if (cr.uid != 0 && uid_conns(s, cr.uid) >= s->cfg.max_clients_per_user) {
        refuse_conn(fd, "freqpilotd: too many connections of this user; close some");
        svc_log(s, 1, "refused a connection of uid %ld: %d connections of that user", (long)cr.uid,
                s->cfg.max_clients_per_user);
        return;
    }
    svc_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->pid = cr.pid;
    c->id = ++s->next_conn_id;
    fp_svc_who_fill(&c->who, cr.uid, cr.gid);
    read_comm(cr.pid, c->comm, sizeof c->comm);
    s->conns[s->n_conns++] = c;
    char name[160];
    svc_conn_name(c, name, sizeof name);
    svc_log(s, 3, "connection %llu from %s", c->id, name);
}

static void drop_conn(fp_svc_server *s, size_t i)
{
    svc_conn *c = s->conns[i];
    char name[160];
    svc_conn_name(c, name, sizeof name);
    /* What this connection changed goes back (its end is the end of its leases). */
    svc_leases_conn_closed(s, c);
    svc_log(s, 3, "connection %llu of %s closed", c->id, name);
    close(c->fd);
    free(c->out);
    free(c);
    s->conns[i] = s->conns[--s->n_conns];
}

static void handle_line(fp_svc_server *s, svc_conn *c, const char *line, size_t len)
{
    fp_svc_request req;
    fp_error err;
    s->requests++;
    if (fp_svc_request_parse(line, len, &req, &err)) {
        svc_reply_error(c, NULL, FP_SVC_E_BAD_REQUEST, "%s", err.msg);
        return;
    }
    svc_dispatch(s, c, &req);
}

static void read_conn(fp_svc_server *s, svc_conn *c)
{
    for (;;) {
        if (c->in_len == sizeof c->in) {
            svc_reply_error(c, NULL, FP_SVC_E_BAD_REQUEST,
                            "request: longer than %d bytes; closing the connection",
                            FP_SVC_MAX_LINE);
            c->closing = 1;
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            c->closing = 2; /* end of the connection: its leases are restored */
            return;
        }
        if (!c->in_len)
            c->line_started = fp_mono_now();
        c->in_len += (size_t)n;
        /* Every complete line is a request. */
        size_t start = 0;
        for (;;) {
            char *nl = memchr(c->in + start, '\n', c->in_len - start);
            if (!nl)
                break;
            size_t len = (size_t)(nl - (c->in + start)) + 1;
            handle_line(s, c, c->in + start, len);
            start += len;
            if (c->closing)
                return;
        }
        if (start) {
            memmove(c->in, c->in + start, c->in_len - start);
            c->in_len -= start;
            c->line_started = fp_mono_now();
        }
        if (c->out_len > OUT_MAX / 2)
            break; /* let it read its replies first */
    }
}

/* ---- the socket ---- */

static fp_status bind_socket(fp_svc_server *s, fp_error *err)
{
    const char *path = s->cfg.socket;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return fp_error_set(err, FP_ERR_INVALID, "%s: socket path too long", path);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    /* The folder: created when missing (0755); it must not be writable by others, or anyone
     * could put their own socket in its place. */
    char dir[sizeof sa.sun_path];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (mkdir(dir, 0755) && errno != EEXIST)
            return fp_error_set(err, FP_ERR_IO, "%s: cannot create the socket folder: %s", dir,
                                strerror(errno));
        struct stat st;
        if (stat(dir, &st) || !S_ISDIR(st.st_mode))
            return fp_error_set(err, FP_ERR_IO, "%s: not a folder", dir);
        if ((st.st_mode & 002) || (st.st_uid != geteuid() && st.st_uid != 0))
            return fp_error_set(err, FP_ERR_INVALID,
                                "%s: the socket folder is writable by others or owned by "
                                "uid %ld; use a folder only root can write (/run/freqpilot)",
                                dir, (long)st.st_uid);
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return fp_error_set(err, FP_ERR_INVALID, "%s: exists and is not a socket", path);
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (probe >= 0)
            close(probe);
        if (alive)
            return fp_error_set(err, FP_ERR_INVALID,
                                "%s: another freqpilotd is listening there; stop it first", path);
        unlink(path); /* a socket left by an instance that died */
    }
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->listen_fd < 0)
        return fp_error_set(err, FP_ERR_IO, "socket: %s", strerror(errno));
    mode_t old = umask(0177);
    int rc = bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot bind: %s", path, strerror(errno));
    s->bound = 1;
    if (s->cfg.socket_group[0]) {
        struct group gr, *res = NULL;
        char buf[8192];
        if (getgrnam_r(s->cfg.socket_group, &gr, buf, sizeof buf, &res) || !res)
            return fp_error_set(err, FP_ERR_INVALID, "socket_group: no group named %s",
                                s->cfg.socket_group);
        if (chown(path, (uid_t)-1, gr.gr_gid))
            return fp_error_set(err, FP_ERR_IO, "%s: chown to group %s: %s", path,
                                s->cfg.socket_group, strerror(errno));
    }
    if (chmod(path, s->cfg.socket_mode))
        return fp_error_set(err, FP_ERR_IO, "%s: chmod: %s", path, strerror(errno));
    if (listen(s->listen_fd, 64))
        return fp_error_set(err, FP_ERR_IO, "%s: listen: %s", path, strerror(errno));
    return FP_OK;
}

fp_status fp_svc_server_open(fp_svc_server **out, const fp_svc_config *cfg, fp_svc_log_fn log,
                             void *log_user, fp_error *err)
{
    *out = NULL;
    fp_svc_server *s = calloc(1, sizeof *s);
    if (!s)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    s->conns = calloc((size_t)cfg->max_clients, sizeof *s->conns);
    if (!s->conns) {
        free(s);
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    }
    s->cfg = *cfg;
    s->log = log;
    s->log_user = log_user;
    s->listen_fd = -1;
    s->instance_fd = -1;
    /* The socket first: it refuses to start beside a running instance, before anything
     * that instance holds is touched. */
    fp_status st = bind_socket(s, err);
    if (!st)
        st = svc_leases_open(s, err);
    if (st) {
        fp_svc_server_close(s);
        return st;
    }
    svc_log(s, 2, "listening on %s (mode %04o%s%s), %u GPU(s), %zu rule(s) from %s", cfg->socket,
            cfg->socket_mode, cfg->socket_group[0] ? ", group " : "", cfg->socket_group, s->n_gpus,
            cfg->n_rules, cfg->path[0] ? cfg->path : "no policy file (root only)");
    *out = s;
    return FP_OK;
}

void fp_svc_server_step(fp_svc_server *s, int timeout_ms)
{
    size_t n = s->n_conns;
    struct pollfd *fds = s->pfds;
    int listening = fp_mono_now() >= s->accept_paused_until;
    fds[0].fd = listening ? s->listen_fd : -1;
    fds[0].events = POLLIN;
    fds[0].revents = 0;
    double now = fp_mono_now();
    for (size_t i = 0; i < n; i++) {
        svc_conn *c = s->conns[i];
        fds[i + 1].fd = c->fd;
        fds[i + 1].events =
            (short)((c->out_len > OUT_MAX / 2 ? 0 : POLLIN) | (c->out_len ? POLLOUT : 0));
        fds[i + 1].revents = 0;
        /* A partial request line must be completed in time (slow senders hold no slot). */
        if (c->in_len) {
            double left = c->line_started + s->cfg.request_timeout_s - now;
            int ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
            if (ms < timeout_ms)
                timeout_ms = ms;
        }
    }
    if (!listening && timeout_ms > 200)
        timeout_ms = 200;
    int r = poll(fds, n + 1, timeout_ms);
    if (r < 0)
        return; /* EINTR: the caller looks at its flags */
    if (fds[0].revents & POLLIN)
        accept_one(s);
    now = fp_mono_now();
    /* Connections accepted above have no pollfd yet: only the first n are looked at. */
    for (size_t i = 0; i < n; i++) {
        svc_conn *c = s->conns[i];
        short re = fds[i + 1].revents;
        if (re & (POLLIN | POLLHUP | POLLERR))
            read_conn(s, c);
        if (!c->closing && c->in_len && now - c->line_started > s->cfg.request_timeout_s) {
            svc_reply_error(c, NULL, FP_SVC_E_BAD_REQUEST,
                            "request: incomplete line after %g s; closing the connection",
                            s->cfg.request_timeout_s);
            c->closing = 1;
        }
        if (c->closing != 2)
            flush(c);
    }
    /* Drop closed connections (from the end: drop_conn moves the last one into the hole). */
    for (size_t i = s->n_conns; i-- > 0;) {
        svc_conn *c = s->conns[i];
        if (c->closing == 2 || (c->closing == 1 && !c->out_len))
            drop_conn(s, i);
    }
    svc_leases_tick(s);
}

fp_status fp_svc_server_run(fp_svc_server *s, volatile sig_atomic_t *stop,
                            volatile sig_atomic_t *reload, fp_error *err)
{
    while (!*stop) {
        if (reload && *reload) {
            *reload = 0;
            fp_svc_config *cfg = malloc(sizeof *cfg);
            fp_error e2;
            if (!cfg) {
                svc_log(s, 1, "reload: out of memory; the old policy stays");
            } else if (!s->cfg.path[0]) {
                svc_log(s, 1, "reload: no policy file to read; the old policy stays");
            } else {
                fp_svc_config_defaults(cfg);
                if (fp_svc_config_load(s->cfg.path, cfg, &e2))
                    svc_log(s, 0, "reload: %s; the old policy stays", e2.msg);
                else {
                    /* Rules and Slurm settings change; where it listens and keeps state
                     * does not (that needs a restart). */
                    s->cfg.n_rules = cfg->n_rules;
                    memcpy(s->cfg.rules, cfg->rules, sizeof cfg->rules);
                    memcpy(s->cfg.squeue, cfg->squeue, sizeof cfg->squeue);
                    memcpy(s->cfg.scontrol, cfg->scontrol, sizeof cfg->scontrol);
                    memcpy(s->cfg.run_as, cfg->run_as, sizeof cfg->run_as);
                    memcpy(s->cfg.node, cfg->node, sizeof cfg->node);
                    memcpy(s->cfg.slurm_conf, cfg->slurm_conf, sizeof cfg->slurm_conf);
                    s->cfg.gpus_from_node = cfg->gpus_from_node;
                    s->cfg.slurm_timeout_s = cfg->slurm_timeout_s;
                    s->cfg.slurm_cache_s = cfg->slurm_cache_s;
                    s->cfg.slurm_check_s = cfg->slurm_check_s;
                    svc_slurm_forget(s);
                    svc_log(s, 2, "reload: %zu rule(s) from %s", cfg->n_rules, s->cfg.path);
                }
            }
            free(cfg);
        }
        fp_svc_server_step(s, 500);
    }
    (void)err;
    return FP_OK;
}

unsigned long long fp_svc_server_requests(const fp_svc_server *s)
{
    return s->requests;
}

void fp_svc_server_close(fp_svc_server *s)
{
    if (!s)
        return;
    while (s->n_conns)
        drop_conn(s, s->n_conns - 1);
    svc_leases_close(s);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->bound)
        unlink(s->cfg.socket);
    free(s->conns);
    free(s);
}
