/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The freqpilotd client library (include/freqpilot/freqpilotd.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "freqpilot/freqpilotd.h"

#define REPLY_MAX (1 << 20)

struct fp_svc_client {
    int fd;
    char path[108];
    long uid;
    char user[64];
    char *buf; /* bytes received after the last reply */
    size_t len, cap;
};

const char *fp_svc_socket_path(void)
{
    const char *env = getenv("FREQPILOT_SOCKET");
    return env && *env ? env : FP_SVC_SOCKET_DEFAULT;
}

long fp_svc_client_uid(const fp_svc_client *c)
{
    return c->uid;
}

const char *fp_svc_client_user(const fp_svc_client *c)
{
    return c->user;
}

const char *fp_svc_client_path(const fp_svc_client *c)
{
    return c->path;
}

static fp_status send_all(fp_svc_client *c, const char *text, size_t len, fp_error *err)
{
    while (len) {
        ssize_t n = send(c->fd, text, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fp_error_set(
                err, FP_ERR_IO, "freqpilotd (%s): cannot send: %s", c->path,
                n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? "timed out" : strerror(errno));
        text += n;
        len -= (size_t)n;
    }
    return FP_OK;
}

/* One line from the service (malloc'ed, newline removed). */
static fp_status recv_line(fp_svc_client *c, char **line, fp_error *err)
{
    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            char *out = malloc(n + 1);
            if (!out)
                return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
            memcpy(out, c->buf, n);
            out[n] = 0;
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            *line = out;
            return FP_OK;
        }
        if (c->len >= REPLY_MAX)
            return fp_error_set(err, FP_ERR_IO, "freqpilotd (%s): reply longer than %d bytes",
                                c->path, REPLY_MAX);
        if (c->cap - c->len < 4096) {
            size_t cap = c->cap ? c->cap * 2 : 8192;
            char *b = realloc(c->buf, cap);
            if (!b)
                return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
            c->buf = b;
            c->cap = cap;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return fp_error_set(err, FP_ERR_IO,
                                "freqpilotd (%s) closed the connection (stopped or restarted: "
                                "it restores what this connection changed)",
                                c->path);
        if (n < 0)
            return fp_error_set(err, FP_ERR_IO, "freqpilotd (%s): %s", c->path,
                                errno == EAGAIN || errno == EWOULDBLOCK ? "no reply in time"
                                                                        : strerror(errno));
        c->len += (size_t)n;
    }
}

static fp_status status_of(int code)
{
    switch (code) {
    case FP_SVC_E_UNSUPPORTED:
        return FP_ERR_UNSUPPORTED;
    case FP_SVC_E_FAILED:
    case FP_SVC_E_LIMIT:
        return FP_ERR_IO;
    default:
        return FP_ERR_INVALID;
    }
}

/* Sends req, reads its reply into *root (ok or not). */
static fp_status exchange(fp_svc_client *c, const fp_svc_request *req, json_t **root,
                          char **reply_json, int *code, fp_error *err)
{
    if (code)
        *code = -1;
    if (reply_json)
        *reply_json = NULL;
    *root = NULL;
    char *text = fp_svc_request_format(req);
    if (!text)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    fp_status st = send_all(c, text, strlen(text), err);
    free(text);
    if (st)
        return st;
    char *line = NULL;
    if ((st = recv_line(c, &line, err)))
        return st;
    json_error_t je;
    json_t *r = json_loads(line, 0, &je);
    if (!json_is_object(r)) {
        json_decref(r);
        st = fp_error_set(err, FP_ERR_PARSE, "freqpilotd (%s): not a reply: %.120s", c->path, line);
        free(line);
        return st;
    }
    if (reply_json)
        *reply_json = line;
    else
        free(line);
    if (!json_is_true(json_object_get(r, "ok"))) {
        const char *name = json_string_value(json_object_get(r, "error"));
        const char *msg = json_string_value(json_object_get(r, "message"));
        int k = fp_svc_error_from_name(name);
        if (code)
            *code = k;
        st = fp_error_set(err, status_of(k), "freqpilotd: %s",
                          msg    ? msg
                          : name ? name
                                 : "request failed");
    }
    *root = r;
    return st;
}

fp_status fp_svc_call(fp_svc_client *c, const fp_svc_request *req, char **reply_json, int *code,
                      fp_error *err)
{
    json_t *root = NULL;
    fp_status st = exchange(c, req, &root, reply_json, code, err);
    json_decref(root);
    return st;
}

fp_status fp_svc_connect(fp_svc_client **out, const char *path, double timeout_s, fp_error *err)
{
    *out = NULL;
    if (!path)
        path = fp_svc_socket_path();
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return fp_error_set(err, FP_ERR_INVALID, "%s: socket path too long", path);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    fp_svc_client *c = calloc(1, sizeof *c);
    if (!c)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    snprintf(c->path, sizeof c->path, "%s", path);
    c->uid = -1;
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fp_status st = fp_error_set(err, FP_ERR_IO, "socket: %s", strerror(errno));
        free(c);
        return st;
    }
    if (!(timeout_s > 0))
        timeout_s = 30;
    struct timeval tv = {(time_t)timeout_s, (suseconds_t)((timeout_s - (time_t)timeout_s) * 1e6)};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa)) {
        fp_status st = fp_error_set(err, FP_ERR_IO, "freqpilotd: cannot connect to %s: %s", path,
                                    strerror(errno));
        fp_svc_close(c);
        return st;
    }
    fp_svc_request req;
    fp_svc_request_init(&req, FP_SVC_HELLO);
    json_t *root = NULL;
    fp_status st = exchange(c, &req, &root, NULL, NULL, err);
    if (!st) {
        json_t *u = json_object_get(root, "uid");
        const char *name = json_string_value(json_object_get(root, "user"));
        if (json_is_integer(u))
            c->uid = (long)json_integer_value(u);
        snprintf(c->user, sizeof c->user, "%s", name ? name : "");
    }
    json_decref(root);
    if (st) {
        fp_svc_close(c);
        return st;
    }
    *out = c;
    return FP_OK;
}

void fp_svc_close(fp_svc_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    free(c);
}

static fp_status gpu_call(fp_svc_client *c, fp_svc_op op, const char *gpu, int *code, fp_error *err)
{
    fp_svc_request req;
    fp_svc_request_init(&req, op);
    snprintf(req.gpu, sizeof req.gpu, "%s", gpu);
    return fp_svc_call(c, &req, NULL, code, err);
}

fp_status fp_svc_acquire(fp_svc_client *c, const char *gpu, int *code, fp_error *err)
{
    return gpu_call(c, FP_SVC_ACQUIRE, gpu, code, err);
}

fp_status fp_svc_reset(fp_svc_client *c, const char *gpu, int *code, fp_error *err)
{
    return gpu_call(c, FP_SVC_RESET, gpu, code, err);
}

fp_status fp_svc_reset_power_limit(fp_svc_client *c, const char *gpu, int *code, fp_error *err)
{
    return gpu_call(c, FP_SVC_RESET_POWER_LIMIT, gpu, code, err);
}

fp_status fp_svc_release(fp_svc_client *c, const char *gpu, int *code, fp_error *err)
{
    return gpu_call(c, FP_SVC_RELEASE, gpu, code, err);
}

fp_status fp_svc_detach(fp_svc_client *c, const char *gpu, int *code, fp_error *err)
{
    return gpu_call(c, FP_SVC_DETACH, gpu, code, err);
}

fp_status fp_svc_lock(fp_svc_client *c, const char *gpu, unsigned min_mhz, unsigned max_mhz,
                      int app_fallback, double *reached_mhz, int *used_app_clocks, int *code,
                      fp_error *err)
{
    if (reached_mhz)
        *reached_mhz = NAN;
    if (used_app_clocks)
        *used_app_clocks = 0;
    fp_svc_request req;
    fp_svc_request_init(&req, FP_SVC_LOCK);
    snprintf(req.gpu, sizeof req.gpu, "%s", gpu);
    req.min_mhz = min_mhz;
    req.max_mhz = max_mhz;
    req.app_fallback = app_fallback;
    json_t *root = NULL;
    fp_status st = exchange(c, &req, &root, NULL, code, err);
    if (!st) {
        json_t *r = json_object_get(root, "reached_mhz");
        const char *method = json_string_value(json_object_get(root, "method"));
        if (reached_mhz && json_is_number(r))
            *reached_mhz = json_number_value(r);
        if (used_app_clocks)
            *used_app_clocks = method && !strcmp(method, "application_clocks");
    }
    json_decref(root);
    return st;
}

fp_status fp_svc_power_limit(fp_svc_client *c, const char *gpu, double watts, int *code,
                             fp_error *err)
{
    fp_svc_request req;
    fp_svc_request_init(&req, FP_SVC_POWER_LIMIT);
    snprintf(req.gpu, sizeof req.gpu, "%s", gpu);
    req.watts = watts;
    return fp_svc_call(c, &req, NULL, code, err);
}
