/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The governor's Prometheus exporter: GET /metrics in the text exposition format, served by
 * libmicrohttpd's own thread. The control loop publishes a snapshot under a mutex; the HTTP
 * thread only formats the latest snapshot, so a slow scraper never delays a decision.
 * Loopback by default: the endpoint tells anyone who can reach it what runs on the GPU.
 *
 * No client can stop the governor or take its descriptors: epoll in MHD's own thread (no
 * FD_SETSIZE limit), at most FP_HTTP_MAX_CONNECTIONS connections and FP_HTTP_MAX_PER_IP per
 * address (more are closed at once), an idle timeout, a small per-connection memory limit,
 * and a hard limit on a connection's whole life (FP_HTTP_HARD_TIMEOUT_S, enforced from the
 * control loop: a client trickling one byte at a time cannot reset it), after which the
 * socket is shut down under the connection table's lock (MHD reports the close before it
 * closes the descriptor, so a number reused by another file is never touched).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "freqpilot/govern.h"
#include "util/thread.h"

#define FP_HTTP_MAX_CONNECTIONS 32
#define FP_HTTP_MAX_PER_IP 8
#define FP_HTTP_IDLE_TIMEOUT_S 3
#define FP_HTTP_HARD_TIMEOUT_S 5.0
#define FP_HTTP_MEMORY_LIMIT 16384

typedef struct http_conn {
    struct MHD_Connection *conn; /* NULL = free slot */
    int fd;
    double start_s;
    int cut;
} http_conn;

struct fp_metrics_server {
    struct MHD_Daemon *mhd;
    pthread_mutex_t lock;
    fp_govern_metrics snap;
    int have_snap;
    unsigned port;
    pthread_mutex_t conn_lock;
    http_conn conns[FP_HTTP_MAX_CONNECTIONS + 8];
    unsigned long cut_total;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* MHD's thread: a connection starts or closes (before its descriptor is closed). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    fp_metrics_server *m = cls;
    (void)socket_context;
    pthread_mutex_lock(&m->conn_lock);
    size_t n = sizeof m->conns / sizeof m->conns[0];
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        for (size_t i = 0; i < n; i++)
            if (!m->conns[i].conn) {
                m->conns[i] = (http_conn){conn, ci ? ci->connect_fd : -1, now_s(), 0};
                break;
            }
    } else {
        for (size_t i = 0; i < n; i++)
            if (m->conns[i].conn == conn)
                m->conns[i].conn = NULL;
    }
    pthread_mutex_unlock(&m->conn_lock);
}

/* The control loop's thread: connections older than the hard limit are cut. */
static void cut_old_connections(fp_metrics_server *m)
{
    double now = now_s();
    pthread_mutex_lock(&m->conn_lock);
    for (size_t i = 0; i < sizeof m->conns / sizeof m->conns[0]; i++) {
        http_conn *c = &m->conns[i];
        if (c->conn && !c->cut && c->fd >= 0 && now - c->start_s > FP_HTTP_HARD_TIMEOUT_S) {
            shutdown(c->fd, SHUT_RDWR);
            c->cut = 1;
            m->cut_total++;
        }
    }
    pthread_mutex_unlock(&m->conn_lock);
}

/* A label value in the exposition format: \ " and newline escaped. */
static void label_value(char *out, size_t size, const char *v)
{
    size_t j = 0;
    for (; *v && j + 3 < size; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            out[j++] = '\\';
            out[j++] = *v == '\n' ? 'n' : *v;
        } else {
            out[j++] = *v;
        }
    }
    out[j] = 0;
}

size_t fp_govern_metrics_format(const fp_govern_metrics *g, const char *gpu, char *buf, size_t size)
{
    /* gl: the label set of every series, e.g. gpu="0",gpu_uuid="GPU-...",gpu_name="...",... */
    char idx[40], uuid[200], name[260], host[520], gl[1100];
    label_value(idx, sizeof idx, gpu ? gpu : g->gpu_index[0] ? g->gpu_index : "0");
    label_value(uuid, sizeof uuid, g->gpu_uuid);
    label_value(name, sizeof name, g->gpu_name);
    label_value(host, sizeof host, g->hostname);
    snprintf(gl, sizeof gl, "gpu=\"%s\",gpu_uuid=\"%s\",gpu_name=\"%s\",hostname=\"%s\"", idx, uuid,
             name, host);
    double saving = g->baseline_energy_j > 0 ? 1 - g->energy_j / g->baseline_energy_j : 0;
    int n = snprintf(
        buf, size,
        "# HELP freqpilot_sm_clock_mhz SM clock read back from the GPU.\n"
        "# TYPE freqpilot_sm_clock_mhz gauge\n"
        "freqpilot_sm_clock_mhz{%s} %u\n"
        "# HELP freqpilot_requested_clock_mhz SM clock the governor asked for (0 = default).\n"
        "# TYPE freqpilot_requested_clock_mhz gauge\n"
        "freqpilot_requested_clock_mhz{%s} %u\n"
        "# HELP freqpilot_power_watts Board power.\n"
        "# TYPE freqpilot_power_watts gauge\n"
        "freqpilot_power_watts{%s} %.3f\n"
        "# HELP freqpilot_energy_joules_total Energy since the governor started.\n"
        "# TYPE freqpilot_energy_joules_total counter\n"
        "freqpilot_energy_joules_total{%s} %.3f\n"
        "# HELP freqpilot_baseline_energy_joules_total Estimated energy at the default clocks.\n"
        "# TYPE freqpilot_baseline_energy_joules_total counter\n"
        "freqpilot_baseline_energy_joules_total{%s} %.3f\n"
        "# HELP freqpilot_estimated_saving_ratio 1 - energy / baseline energy (an estimate).\n"
        "# TYPE freqpilot_estimated_saving_ratio gauge\n"
        "freqpilot_estimated_saving_ratio{%s} %.5f\n"
        "# HELP freqpilot_phase Detected phase (1 for the current one).\n"
        "# TYPE freqpilot_phase gauge\n"
        "freqpilot_phase{%s,phase=\"idle\"} %d\n"
        "freqpilot_phase{%s,phase=\"compute\"} %d\n"
        "freqpilot_phase{%s,phase=\"memory\"} %d\n"
        "freqpilot_phase{%s,phase=\"host\"} %d\n"
        "# HELP freqpilot_decisions_total Control-loop decisions.\n"
        "# TYPE freqpilot_decisions_total counter\n"
        "freqpilot_decisions_total{%s} %lu\n"
        "# HELP freqpilot_clock_changes_total Clock changes requested.\n"
        "# TYPE freqpilot_clock_changes_total counter\n"
        "freqpilot_clock_changes_total{%s} %lu\n",
        gl, g->sm_clock_mhz, gl, g->requested_mhz, gl, isnan(g->power_w) ? 0 : g->power_w, gl,
        g->energy_j, gl, g->baseline_energy_j, gl, saving, gl, g->phase == FP_PHASE_IDLE, gl,
        g->phase == FP_PHASE_COMPUTE, gl, g->phase == FP_PHASE_MEMORY, gl,
        g->phase == FP_PHASE_HOST, gl, g->decisions, gl, g->clock_changes);
    return n < 0 ? 0 : (size_t)n;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    fp_metrics_server *m = cls;
    const char *text;
    char buf[16384];
    unsigned code = MHD_HTTP_OK;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        text = "method not allowed\n";
        code = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") == 0) {
        fp_govern_metrics g;
        int have;
        pthread_mutex_lock(&m->lock);
        g = m->snap;
        have = m->have_snap;
        pthread_mutex_unlock(&m->lock);
        if (!have)
            memset(&g, 0, sizeof g);
        fp_govern_metrics_format(&g, NULL, buf, sizeof buf);
        text = buf;
    } else if (strcmp(url, "/") == 0) {
        text = "freqpilot govern: metrics at /metrics\n";
    } else {
        text = "not found\n";
        code = MHD_HTTP_NOT_FOUND;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (every address). */
static fp_status parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6,
                              fp_error *err)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon[1] == 0)
        return fp_error_set(err, FP_ERR_INVALID,
                            "--listen '%s': expected HOST:PORT (127.0.0.1:9464)", listen);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return fp_error_set(err, FP_ERR_INVALID, "--listen '%s': expected a port 0..65535", listen);
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return fp_error_set(err, FP_ERR_INVALID, "--listen '%s': host too long", listen);
    memcpy(host, listen, hl);
    host[hl] = 0;
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 2 || host[n - 1] != ']')
            return fp_error_set(err, FP_ERR_INVALID, "--listen '%s': expected [ADDRESS]:PORT",
                                listen);
        host[n - 1] = 0;
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return fp_error_set(err, FP_ERR_INVALID, "--listen '%s': bad IPv6 address", listen);
        *v6 = 1;
        return FP_OK;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (host[0] == 0)
        a->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0)
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return fp_error_set(err, FP_ERR_INVALID,
                            "--listen '%s': expected a numeric IPv4 address or [IPv6]", listen);
    *v6 = 0;
    return FP_OK;
}

fp_status fp_metrics_server_start(fp_metrics_server **out, const char *listen, fp_error *err)
{
    *out = NULL;
    struct sockaddr_storage ss;
    int v6 = 0;
    fp_status st = parse_listen(listen ? listen : "127.0.0.1:9464", &ss, &v6, err);
    if (st != FP_OK)
        return st;
    fp_metrics_server *m = calloc(1, sizeof *m);
    if (!m)
        return fp_error_set(err, FP_ERR_NOMEM, "metrics server: out of memory");
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->conn_lock, NULL);
    uint16_t port = v6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | (v6 ? MHD_USE_IPv6 : 0);
    sigset_t old;
    fp_thread_block_signals(&old); /* MHD's thread inherits the mask */
    m->mhd =
        MHD_start_daemon(flags, port, NULL, NULL, handle, m, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)FP_HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                         (unsigned)FP_HTTP_MAX_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned)FP_HTTP_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                         (size_t)FP_HTTP_MEMORY_LIMIT, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)16,
                         MHD_OPTION_NOTIFY_CONNECTION, on_connection, m, MHD_OPTION_END);
    fp_thread_restore_signals(&old);
    if (!m->mhd) {
        pthread_mutex_destroy(&m->conn_lock);
        pthread_mutex_destroy(&m->lock);
        free(m);
        return fp_error_set(err, FP_ERR_IO,
                            "metrics server: cannot listen on %s (address in use or not "
                            "available?)",
                            listen);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);
    m->port = di ? di->port : port;
    *out = m;
    return FP_OK;
}

void fp_metrics_server_update(fp_metrics_server *m, const fp_govern_metrics *g)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->snap = *g;
    m->have_snap = 1;
    pthread_mutex_unlock(&m->lock);
    cut_old_connections(m);
}

unsigned fp_metrics_server_port(const fp_metrics_server *m)
{
    return m ? m->port : 0;
}

void fp_metrics_server_stop(fp_metrics_server *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->mhd);
    pthread_mutex_destroy(&m->conn_lock);
    pthread_mutex_destroy(&m->lock);
    free(m);
}
