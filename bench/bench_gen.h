/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_BENCH_GEN_H
#define FP_BENCH_GEN_H
/*
 * What the benchmarks share: a clock, a fatal error, a generated nvidia-smi CSV of realistic
 * rows (the smi-1s capture layout with a header, 100 ms apart) and a child run measured with
 * wait4. Include once per benchmark (everything is static). BENCH_NAME names it in messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_NAME
#define BENCH_NAME "bench"
#endif

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
static inline int run_child(char *const argv[], double *secs, long *rss_kb)
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
    if (rss_kb)
        *rss_kb = ru.ru_maxrss;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
