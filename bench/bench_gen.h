/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_BENCH_GEN_H
#define FP_BENCH_GEN_H
/*
 * What the benchmarks share: a clock, a fatal error, a generated nvidia-smi CSV of realistic
 * rows (the smi-1s capture layout with a header, 100 ms apart), a generated DATASET/ (as
 * profile writes it), pinning to CPUs and a child run measured with wait4. Include once per
 * benchmark, after defining _GNU_SOURCE (everything is static). BENCH_NAME names it in
 * messages.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/dataset.h"
#include "freqpilot/telemetry_io.h"

#ifndef BENCH_NAME
#define BENCH_NAME "bench"
#endif

/* CPU seconds of this process (user + system). */
static inline double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void die(const char *what)
{
    fprintf(stderr, BENCH_NAME ": %s: %s\n", what, strerror(errno));
    exit(1);
}

static inline void gen_smi(const char *path, double size_b)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die(path);
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    double written = fprintf(f, "timestamp, index, name, power.draw [W], power.limit [W], "
                                "temperature.gpu, utilization.gpu [%%], utilization.memory [%%], "
                                "memory.total [MiB], memory.free [MiB], memory.used [MiB], "
                                "clocks.sm [MHz], clocks.mem [MHz], clocks.gr [MHz], pstate\n");
    long t_ms = 0;
    unsigned seed = 1;
    while (written < size_b) {
        long s = 1752023856 + t_ms / 1000;
        time_t tt = (time_t)s;
        struct tm tm;
        gmtime_r(&tt, &tm);
        seed = seed * 1103515245u + 12345u;
        int util = (int)(seed >> 16) % 101;
        double p = 36.0 + util * 2.1 + ((seed >> 8) % 100) / 100.0;
        int clk = 210 + 15 * (int)((seed >> 4) % 81);
        int used = 884 + util * 300;
        written +=
            fprintf(f,
                    "%04d/%02d/%02d %02d:%02d:%02d.%03ld, 0, NVIDIA A100-PCIE-40GB, %.2f, "
                    "250.00, %d, %d, %d, 40536, %d, %d, %d, 1215, %d, P0\n",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    t_ms % 1000, p, 30 + util / 4, util, util / 3, 40536 - used, used, clk, clk);
        t_ms += 100;
    }
    if (fclose(f) != 0)
        die(path);
}

/*
 * Runs argv with stdout/stderr to /dev/null; returns the exit status, -1 if it did not run.
 * *rss_kb: the child's own peak RSS (wait4), not the maximum over every child so far.
 */
static inline int run_child_cpu(char *const argv[], double *secs, double *cpu_s, long *rss_kb);
static inline int run_child(char *const argv[], double *secs, long *rss_kb)
{
    return run_child_cpu(argv, secs, NULL, rss_kb);
}

/* run_child, and *cpu_s (when not NULL) the child's user + system seconds: on a shared
 * machine the steadier figure. */
static inline int run_child_cpu(char *const argv[], double *secs, double *cpu_s, long *rss_kb)
{
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0)
        die("wait4");
    *secs = now_s() - t0;
    if (cpu_s)
        *cpu_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                 (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    if (rss_kb)
        *rss_kb = ru.ru_maxrss;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The freqpilot to time: arg when given, else ../bin/freqpilot beside this benchmark. Exits
 * when it is not an executable. */
static inline void freqpilot_bin(const char *arg, char *bin, size_t size)
{
    if (arg) {
        snprintf(bin, size, "%s", arg);
    } else {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, BENCH_NAME ": give the freqpilot binary\n");
            exit(1);
        }
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        snprintf(bin, size, "%.4000s/../bin/freqpilot", self);
    }
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, BENCH_NAME ": %s: not an executable freqpilot\n", bin);
        exit(1);
    }
}

/* Pins this process to the first n CPUs it may use; returns how many it got. */
static inline int pin_cpus(int n)
{
    cpu_set_t have, want;
    CPU_ZERO(&want);
    if (sched_getaffinity(0, sizeof have, &have) != 0)
        return 0;
    int got = 0;
    for (int c = 0; c < CPU_SETSIZE && got < n; c++)
        if (CPU_ISSET(c, &have)) {
            CPU_SET(c, &want);
            got++;
        }
    return sched_setaffinity(0, sizeof want, &want) == 0 ? got : 0;
}

/*
 * A DATASET/ (manifest.json, then A100/<app>/<MHz>/<rep>/run.json and telemetry.csv) of nclocks
 * clocks x runs runs of one app, each of rows samples 50 ms apart written through
 * fp_telemetry_writer as the NVML sampler has them: t_s from a nanosecond clock (with a
 * scheduling jitter), power in mW, the energy counter in mJ, clocks; utilisation, averaged
 * power and memory (bytes / 2^20) updated once a second, temperature every 5 s, as NVML does;
 * the window marked over the middle 80 %. Exits on an error.
 */
static inline void gen_dataset(const char *dir, const char *app, int nclocks, int runs, long rows)
{
    fp_error err;
    fp_dataset_manifest m;
    fp_dataset_manifest_init(&m);
    snprintf(m.gpu_name, sizeof m.gpu_name, "NVIDIA A100-PCIE-40GB");
    snprintf(m.gpu_short, sizeof m.gpu_short, "A100");
    snprintf(m.app, sizeof m.app, "%s", app);
    snprintf(m.order, sizeof m.order, "interleaved");
    m.runs_per_clock = runs;
    m.warmup_runs = 0;
    for (int c = 0; c < nclocks && c < FP_DATASET_MAX_CLOCKS; c++)
        m.clocks_mhz[m.n_clocks++] = 1410 - 10 * c; /* up to 120 clocks, down to 220 MHz */
    if (fp_dataset_write_manifest(dir, &m, &err) != FP_OK) {
        fprintf(stderr, BENCH_NAME ": %s\n", err.msg);
        exit(1);
    }
    unsigned seed = 3;
    long pos = 1;
    for (int rep = 1; rep <= runs; rep++)
        for (int c = 0; c < nclocks; c++) {
            fp_run_record r;
            fp_run_record_init(&r);
            snprintf(r.gpu, sizeof r.gpu, "A100");
            snprintf(r.app, sizeof r.app, "%s", app);
            r.requested_clock_mhz = r.achieved_clock_mhz = m.clocks_mhz[c % FP_DATASET_MAX_CLOCKS];
            r.repetition = rep;
            r.sweep_position = pos++;
            r.window_start_s = 0.1 * (double)rows * 0.05;
            r.window_end_s = 0.9 * (double)rows * 0.05;
            snprintf(r.window_source, sizeof r.window_source, "marker");
            char rdir[4096], path[4200];
            if (fp_dataset_run_dir(rdir, sizeof rdir, dir, &r, 1, &err) != FP_OK) {
                fprintf(stderr, BENCH_NAME ": %s\n", err.msg);
                exit(1);
            }
            fp_telemetry_writer *w;
            snprintf(path, sizeof path, "%s/telemetry.csv", rdir);
            if (fp_telemetry_writer_open(&w, path, &err) != FP_OK) {
                fprintf(stderr, BENCH_NAME ": %s\n", err.msg);
                exit(1);
            }
            uint64_t energy_mj = 313324248219ull;
            /* NVML's instantaneous power and the energy counter change every sample; its
             * utilisation, averaged power and memory figures once a second (20 samples), the
             * temperature every 5 s. */
            int util = 0, temp = 35, mem_util = 0;
            long mw_avg = 36000, fb_kib = 906240;
            for (long i = 0; i < rows; i++) {
                seed = seed * 1103515245u + 12345u;
                int active = i > rows / 10 && i < rows * 9 / 10;
                long mw =
                    active ? 150000 + (long)((seed >> 8) % 90000) : 36000 + (long)(seed % 900);
                if (i % 20 == 0) {
                    util = active ? 90 + (int)((seed >> 16) % 11) : (int)((seed >> 16) % 3);
                    mem_util = util / 3;
                    mw_avg = mw - mw % 1000;
                    fb_kib = active ? 15000000 + (long)((seed >> 3) % 64) * 4 : 906240;
                }
                if (i % 100 == 0)
                    temp = 35 + util / 4;
                energy_mj += (uint64_t)(mw / 20); /* mW x 50 ms */
                fp_sample s;
                fp_sample_clear(&s);
                int64_t ns = (int64_t)i * 50000000 + (int64_t)((seed >> 4) % 200000);
                s.v[FP_COL_T_S] = (double)ns / 1e9;
                s.v[FP_COL_POWER_W] = (double)mw / 1000.0;
                s.v[FP_COL_POWER_AVG_W] = (double)mw_avg / 1000.0;
                s.v[FP_COL_ENERGY_MJ] = (double)energy_mj;
                s.v[FP_COL_SM_CLOCK_MHZ] = r.achieved_clock_mhz;
                s.v[FP_COL_MEM_CLOCK_MHZ] = 1215;
                s.v[FP_COL_GPU_UTIL_PCT] = util;
                s.v[FP_COL_MEM_UTIL_PCT] = mem_util;
                s.v[FP_COL_TEMP_C] = temp;
                s.v[FP_COL_FB_USED_MIB] = (double)fb_kib / 1024.0; /* bytes / 2^20 */
                s.v[FP_COL_PSTATE] = 0;
                s.v[FP_COL_THROTTLE_REASONS] = 0;
                s.v[FP_COL_POWER_LIMIT_W] = 250.0;
                if (fp_telemetry_write_sample(w, &s, &err) != FP_OK) {
                    fprintf(stderr, BENCH_NAME ": %s\n", err.msg);
                    exit(1);
                }
            }
            if (fp_telemetry_writer_commit(w, &err) != FP_OK) {
                fprintf(stderr, BENCH_NAME ": %s\n", err.msg);
                exit(1);
            }
            r.wall_time_s = (double)rows * 0.05;
            snprintf(path, sizeof path, "%s/run.json", rdir);
            if (fp_dataset_write_run_json(path, &r, &err) != FP_OK) {
                fprintf(stderr, BENCH_NAME ": %s\n", err.msg);
                exit(1);
            }
        }
}

typedef struct bench_result {
    double wall_s, cpu_s, maxrss_mib;
    int rc; /* exit status; -2 killed at the timeout */
} bench_result;

/*
 * argv in its own process group, pinned to cpus (0: not pinned), stdout and stderr to
 * /dev/null, at most nofile open files (0: unchanged), killed with its group after timeout_s:
 * wall and CPU seconds (user + system, its children included) and the peak RSS of its largest
 * process.
 */
static inline bench_result bench_run(char *const *argv, int cpus, double timeout_s, long nofile)
{
    bench_result r = {0, 0, 0, -1};
    fflush(NULL);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return r;
    if (pid == 0) {
        setpgid(0, 0);
        if (cpus > 0)
            pin_cpus(cpus);
        if (nofile > 0) {
            struct rlimit rl = {(rlim_t)nofile, (rlim_t)nofile};
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    int status = 0, killed = 0;
    struct rusage ru;
    for (;;) {
        pid_t w = wait4(pid, &status, WNOHANG, &ru);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return r;
        if (!killed && now_s() - t0 > timeout_s) {
            kill(-pid, SIGKILL);
            killed = 1;
        }
        usleep(20000);
    }
    r.wall_s = now_s() - t0;
    r.cpu_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
              (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    r.maxrss_mib = (double)ru.ru_maxrss / 1024.0;
    r.rc = killed ? -2 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    return r;
}

#endif
