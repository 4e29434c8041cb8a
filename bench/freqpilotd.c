/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilotd's costs (docs/freqpilotd.md), on the fake NVML (run with LD_LIBRARY_PATH at the
 * build's fake_nvml folder; scripts/bench.sh does): the service runs in a child process on a
 * socket in $TMPDIR, this process is its clients.
 *
 *  1. Requests per second through the socket: `hello` round trips (the client library's
 *     JSON on both sides, no NVML) from 1 client and from 4 client processes at once.
 *  2. The latency of a clock change (lock, alternating 1005 and 1410 MHz), median and 99th
 *     percentile, three ways in this process: the NVML call alone (the fake library); the
 *     direct clock control the CLI uses as root (freqpilot/clockctl.h: write-ahead state
 *     file, fsync, then NVML); and through freqpilotd (the same clock guard in the service,
 *     plus the round trip). The added latency of the service is reported against both.
 * Goals: at least 10 000 requests/s from one client; the service adds less than 1 ms to a
 * clock change over direct control.
 */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "freqpilot/clockctl.h"
#include "freqpilot/freqpilotd.h"
#include "freqpilot/gpu.h"
#include "profile/sampler.h"
#include "service/policy.h"
#include "service/server.h"

#define N_HELLO 20000
#define N_LOCK 500

static volatile sig_atomic_t stop_flag;

static void on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void pct(double *v, size_t n, double *median, double *p99)
{
    qsort(v, n, sizeof *v, cmp_double);
    *median = v[n / 2];
    *p99 = v[(size_t)(n * 0.99)];
}

static int hellos(const char *sock, int n, double *secs)
{
    fp_svc_client *c;
    fp_error err;
    if (fp_svc_connect(&c, sock, 10, &err)) {
        fprintf(stderr, "bench_freqpilotd: %s\n", err.msg);
        return -1;
    }
    fp_svc_request req;
    fp_svc_request_init(&req, FP_SVC_HELLO);
    double t0 = fp_mono_now();
    for (int i = 0; i < n; i++)
        if (fp_svc_call(c, &req, NULL, NULL, &err)) {
            fprintf(stderr, "bench_freqpilotd: %s\n", err.msg);
            fp_svc_close(c);
            return -1;
        }
    *secs = fp_mono_now() - t0;
    fp_svc_close(c);
    return 0;
}

/* Median and p99 of N_LOCK clock changes through f. */
typedef int (*lock_fn)(void *ctx, unsigned mhz);

static int time_locks(lock_fn f, void *ctx, double *median, double *p99)
{
    static double t[N_LOCK];
    for (int i = 0; i < N_LOCK; i++) {
        double t0 = fp_mono_now();
        if (f(ctx, i % 2 ? 1410 : 1005))
            return -1;
        t[i] = fp_mono_now() - t0;
    }
    pct(t, N_LOCK, median, p99);
    return 0;
}

typedef struct raw_ctx {
    const fp_gpu_backend *be;
    fp_gpu *gpu;
} raw_ctx;

static int raw_lock(void *p, unsigned mhz)
{
    raw_ctx *r = p;
    fp_error err;
    if (r->be->lock_clocks(r->gpu, mhz, mhz, &err)) {
        fprintf(stderr, "bench_freqpilotd: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int ctl_lock(void *p, unsigned mhz)
{
    fp_error err;
    if (fp_clockctl_lock(p, mhz, mhz, NULL, &err)) {
        fprintf(stderr, "bench_freqpilotd: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int main(void)
{
    /* No cross-process state file and no call log: both paths pay the same in-memory NVML. */
    unsetenv("FAKE_NVML_STATE");
    unsetenv("FAKE_NVML_LOG");
    unsetenv("FAKE_NVML_ROOT_ONLY");
    setenv("FAKE_NVML_GPUS", "2", 1);
    const fp_gpu_backend *be = fp_gpu_backend_by_name("nvml");
    fp_error err;
    if (be->init(&err)) {
        printf("skipped: no NVML to measure against (%s); run with LD_LIBRARY_PATH at the "
               "build's fake_nvml folder\n",
               err.msg);
        return 0;
    }
    be->shutdown(); /* the service opens its own */
    char dir[] = "/tmp/fp-bench-freqpilotd.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char sock[100], state[128], direct_state[128], locks[128];
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    snprintf(state, sizeof state, "%s/svc-state", dir);
    snprintf(direct_state, sizeof direct_state, "%s/direct-state", dir);
    snprintf(locks, sizeof locks, "%s/locks", dir);
    setenv("FREQPILOT_LOCK_DIR", locks, 1); /* GPU leases stay in the temporary folder */
    fp_svc_config *cfg = calloc(1, sizeof *cfg);
    fp_svc_config_defaults(cfg);
    snprintf(cfg->socket, sizeof cfg->socket, "%s", sock);
    snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s", state);
    int ready[2];
    if (pipe(ready))
        return 1;
    pid_t server = fork();
    if (server == 0) {
        close(ready[0]);
        signal(SIGTERM, on_term);
        fp_svc_server *s;
        if (fp_svc_server_open(&s, cfg, NULL, NULL, &err)) {
            fprintf(stderr, "bench_freqpilotd: service: %s\n", err.msg);
            _exit(1);
        }
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        fp_svc_server_run(s, &stop_flag, NULL, &err);
        fp_svc_server_close(s);
        _exit(0);
    }
    close(ready[1]);
    char c;
    if (read(ready[0], &c, 1) != 1) {
        fprintf(stderr, "bench_freqpilotd: the service did not start\n");
        return 1;
    }
    int rc = 1;

    /* 1. Requests per second. */
    double secs;
    if (hellos(sock, N_HELLO, &secs))
        goto out;
    double rps1 = N_HELLO / secs;
    enum { K = 4 };
    pid_t kids[K];
    double t0 = fp_mono_now();
    for (int k = 0; k < K; k++)
        if ((kids[k] = fork()) == 0)
            _exit(hellos(sock, N_HELLO, &secs) ? 1 : 0);
    int bad = 0;
    for (int k = 0; k < K; k++) {
        int st;
        waitpid(kids[k], &st, 0);
        bad |= !WIFEXITED(st) || WEXITSTATUS(st);
    }
    double rpsk = K * N_HELLO / (fp_mono_now() - t0);
    if (bad)
        goto out;
    printf("requests through the socket (hello round trips, JSON both ways): 1 client %.0f/s "
           "(%.1f us each), %d clients %.0f/s in all; goal >= 10000/s from one client: %s\n",
           rps1, 1e6 / rps1, K, rpsk, rps1 >= 10000 ? "met" : "NOT met");

    /* 2. A clock change three ways. */
    if (be->init(&err)) {
        fprintf(stderr, "bench_freqpilotd: %s\n", err.msg);
        goto out;
    }
    fp_gpu *g0 = NULL, *g1 = NULL;
    if (be->open("0", &g0, &err) || be->open("1", &g1, &err)) {
        fprintf(stderr, "bench_freqpilotd: %s\n", err.msg);
        goto out;
    }
    raw_ctx raw = {be, g0};
    double raw_med, raw_p99, dir_med, dir_p99, svc_med, svc_p99;
    if (time_locks(raw_lock, &raw, &raw_med, &raw_p99))
        goto out;
    be->reset_clocks(g0, &err);
    fp_clockctl *ctl = NULL;
    fp_clockctl_opts o = {.guard = {.state_dir = direct_state, .command = "bench"},
                          .via = FP_CLOCKCTL_DIRECT};
    if (fp_clockctl_begin(&ctl, be, g0, &o, &err) ||
        time_locks(ctl_lock, ctl, &dir_med, &dir_p99)) {
        fprintf(stderr, "bench_freqpilotd: direct: %s\n", err.msg);
        goto out;
    }
    fp_clockctl_end(ctl);
    o.via = FP_CLOCKCTL_SERVICE;
    o.socket = sock;
    if (fp_clockctl_begin(&ctl, be, g1, &o, &err) ||
        time_locks(ctl_lock, ctl, &svc_med, &svc_p99)) {
        fprintf(stderr, "bench_freqpilotd: service: %s\n", err.msg);
        goto out;
    }
    fp_clockctl_end(ctl);
    printf("clock change (lock, %d alternating 1005/1410 MHz), median / p99:\n", N_LOCK);
    printf("  NVML call alone (fake library)           %8.1f / %8.1f us\n", raw_med * 1e6,
           raw_p99 * 1e6);
    printf("  direct clock control (state file + NVML) %8.1f / %8.1f us\n", dir_med * 1e6,
           dir_p99 * 1e6);
    printf("  through freqpilotd                       %8.1f / %8.1f us\n", svc_med * 1e6,
           svc_p99 * 1e6);
    printf("added by the service: %+.1f us median vs direct control (x%.2f), %+.1f us vs the "
           "NVML call alone; goal < 1000 us over direct: %s\n",
           (svc_med - dir_med) * 1e6, svc_med / dir_med, (svc_med - raw_med) * 1e6,
           svc_med - dir_med < 1e-3 ? "met" : "NOT met");
    be->close(g0);
    be->close(g1);
    be->shutdown();
    rc = 0;
out:
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {
        /* a leftover temporary folder is not worth failing for */
    }
    free(cfg);
    return rc;
}
