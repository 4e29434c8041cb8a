/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot sample: print telemetry.csv rows from one GPU at a fixed interval.
 * Read-only: it never changes clocks or limits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "freqpilot/atomic.h"
#include "freqpilot/gpu.h"
#include "freqpilot/sample.h"
#include "freqpilot/sim.h"

const cli_command sample_cmd = {
    .name = "sample",
    .flags = CLI_PARSE_NO_OPERANDS,
    .summary = "print telemetry.csv rows from a GPU (read-only)",
    .synopsis = "freqpilot sample [--backend nvml|sim] [--gpu N|UUID] [--interval-ms MS]\n"
                "                 [--count N | --duration S] [-o FILE]\n",
    .description =
        "Reads the telemetry of one GPU every MS milliseconds and writes telemetry.csv rows:\n"
        "a header of the column names (t_s, power_w, power_avg_w, energy_mj, sm_clock_mhz,\n"
        "...; see docs/nvml.md), then one row per sample. An empty cell is a value the GPU\n"
        "or driver does not report. t_s is seconds on the host's monotonic clock since the\n"
        "first sample. Never changes clocks or limits, so it is safe beside a running job.\n"
        "With neither --count nor --duration it samples until interrupted (Ctrl-C or\n"
        "SIGTERM end it cleanly, keeping the rows taken).\n",
    .options_note = "The sim backend runs in simulated time (no real waiting) unless\n"
                    "FREQPILOT_SIM_REALTIME=1; FREQPILOT_SIM_GPU, _WORKLOAD, _SEED and _NOISE set\n"
                    "what it simulates (docs/simulated-gpu.md).\n",
    .exit_status =
        "0 success; 1 no NVML, a driver error or a write error (rows sampled before the\n"
        "error are kept); 2 usage error.\n",
    .examples = "freqpilot sample --count 10\n"
                "freqpilot sample --gpu 0 --interval-ms 50 --duration 2 -o telemetry.csv\n"
                "freqpilot sample --backend sim --count 5\n",
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Sleeps until monotonic time t_s; returns early on a signal. */
static void sleep_until(double t_s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)t_s;
    ts.tv_nsec = (long)((t_s - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!stop_requested && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void put_value(FILE *fp, fp_col c, double v)
{
    if (isnan(v))
        return;
    if (c == FP_COL_T_S)
        fprintf(fp, "%.6f", v);
    else if (v == floor(v) && fabs(v) < 1e15)
        fprintf(fp, "%.0f", v);
    else
        fprintf(fp, "%.9g", v);
}

static void put_row(FILE *fp, const fp_sample *s)
{
    for (int c = 0; c < FP_COL_COUNT; c++) {
        if (c)
            fputc(',', fp);
        put_value(fp, (fp_col)c, s->v[c]);
    }
    fputc('\n', fp);
}

struct sample_opts {
    const char *backend, *gpu, *output;
    long interval_ms, count;
    double duration_s;
};

int cmd_sample(int argc, char **argv)
{
    struct sample_opts o = {FP_GPU_BACKEND_DEFAULT, "0", "-", 100, 0, -1.0};
    char backends[512];
    const cli_option opts[] = {
        CLI_CALLBACK("backend", &o.backend, "NAME", NULL, cli_opt_backend,
                     cli_backend_help("", backends, sizeof backends)),
        CLI_STRING("gpu", &o.gpu, "ID", "index (default 0) or UUID as listed by 'freqpilot gpus'"),
        CLI_LONG("interval-ms", &o.interval_ms, "MS", "1..3600000",
                 "time between samples, 1..3600000 (default 100); NVML energy updates every "
                 "~10-100 ms and utilization over 1/6..1 s, so shorter intervals repeat values"),
        CLI_LONG("count", &o.count, "N", ">= 1", "take N samples, then stop"),
        CLI_DOUBLE("duration", &o.duration_s, "S", "seconds", ">= 0",
                   "sample for S seconds (samples at t = 0, MS, ... <= S)"),
        CLI_OUTPUT(&o.output, "write to FILE (atomically, on exit) instead of stdout ('-')"),
        CLI_END,
    };
    int rc, n = cli_parse_options(&sample_cmd, opts, argc, argv, &rc);
    if (n < 0)
        return rc;
    if (o.count > 0 && o.duration_s >= 0)
        return cli_usage_error("sample", "--count and --duration exclude each other");
    if (cli_sim_configure_from_env())
        return EXIT_FAIL;
    const fp_gpu_backend *b = fp_gpu_backend_by_name(o.backend);
    fp_error err = {0};
    if (b->init(&err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    fp_gpu *g = NULL;
    if (b->open(o.gpu, &g, &err) != FP_OK) {
        cli_error("%s", err.msg);
        b->shutdown();
        return EXIT_FAIL;
    }
    int simulated_time = b->simulated && !fp_sim_backend_config()->realtime;
    fp_atomic_file out;
    if (fp_atomic_open(&out, o.output, &err) != FP_OK) {
        cli_error("%s", err.msg);
        b->close(g);
        b->shutdown();
        return EXIT_FAIL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: the sleep ends at once */
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    for (int c = 0; c < FP_COL_COUNT; c++)
        fprintf(out.fp, "%s%s", c ? "," : "", fp_col_name((fp_col)c));
    fputc('\n', out.fp);
    const double iv = o.interval_ms / 1000.0;
    double t0 = 0;
    rc = EXIT_OK;
    for (long i = 0; !stop_requested; i++) {
        if (o.count > 0 && i >= o.count)
            break;
        if (o.duration_s >= 0 && i * iv > o.duration_s + 1e-9)
            break;
        double t;
        if (simulated_time) {
            if (i > 0)
                fp_gpu_sim_advance(g, iv);
            t = i * iv;
        } else {
            if (i > 0)
                sleep_until(t0 + i * iv);
            if (stop_requested)
                break;
            t = mono_s();
            if (i == 0)
                t0 = t;
            t -= t0;
        }
        fp_sample s;
        if (b->sample(g, &s, &err) != FP_OK) {
            cli_error("%s", err.msg);
            rc = EXIT_FAIL;
            break;
        }
        s.v[FP_COL_T_S] = t;
        put_row(out.fp, &s);
        if (out.is_stdout)
            fflush(out.fp);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    /* Keep what was sampled even after an error or Ctrl-C: the rows are valid. */
    if (fp_atomic_commit(&out, &err) != FP_OK) {
        cli_error("%s", err.msg);
        rc = EXIT_FAIL;
    }
    b->close(g);
    b->shutdown();
    return rc;
}
