/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench_pipeline: the whole `freqpilot run`, timed, with its peak memory.
 *
 *   bench_pipeline [FREQPILOT_BINARY]   (default: ../bin/freqpilot next to this program)
 *
 * Cases: the full real dataset ($FREQPILOT_DATA_DIR/ai-inference-energy/measured_runs.csv,
 * skipped when absent) and the simulated 3-GPU x 5-app x all-clocks x 5-run sweep
 * (`freqpilot run --runs 5`, about 8600 runs). Every case runs pinned to two CPUs (the issue's
 * target machine: under 10 s for the simulated case on two cores) with `-j 2`; FP_BENCH_CPUS=N
 * changes that, FP_BENCH_REPEAT=N repeats each case and keeps the fastest.
 * Prints wall time, CPU time (user + system, all processes) and the peak resident memory of
 * the largest process (ru_maxrss of the process tree).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "bench_pipeline"
#include "bench_gen.h"

static int rm_rf(const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", dir, (char *)NULL);
        _exit(127);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid ? 0 : -1;
}

int main(int argc, char **argv)
{
    char bin[PATH_MAX];
    freqpilot_bin(argc > 1 ? argv[1] : NULL, bin, sizeof bin);
    int cpus = getenv("FP_BENCH_CPUS") ? atoi(getenv("FP_BENCH_CPUS")) : 2;
    int repeat = getenv("FP_BENCH_REPEAT") ? atoi(getenv("FP_BENCH_REPEAT")) : 1;
    if (repeat < 1)
        repeat = 1;
    char jobs[16];
    snprintf(jobs, sizeof jobs, "%d", cpus > 0 ? cpus : 2);
    char tmpl[] = "/tmp/fp-bench-pipeline-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) {
        perror("bench_pipeline: mkdtemp");
        return 1;
    }
    char out_real[64], out_sim[64], data[PATH_MAX];
    snprintf(out_real, sizeof out_real, "%s/real", dir);
    snprintf(out_sim, sizeof out_sim, "%s/sim", dir);
    const char *dd = getenv("FREQPILOT_DATA_DIR");
    snprintf(data, sizeof data, "%.4000s/ai-inference-energy/measured_runs.csv",
             dd && *dd ? dd : "../shared/data");

    struct {
        const char *name;
        char *argv[12];
        int needs_data;
        double target_s;
    } cases[] = {
        {"run measured_runs.csv (real, 12 gpu x app)",
         {bin, "-q", "run", data, "-j", jobs, "-o", out_real, NULL},
         1,
         0},
        {"run simulated 3 GPU x 5 app x all clocks x 5 runs",
         {bin, "-q", "run", "--runs", "5", "-j", jobs, "-o", out_sim, NULL},
         0,
         10.0},
    };
    printf("freqpilot run, %d CPU(s) (FP_BENCH_CPUS), -j %s, best of %d\n", cpus, jobs, repeat);
    printf("%-52s %8s %8s %10s  %s\n", "case", "wall s", "cpu s", "peak MiB", "target");
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].needs_data && access(data, R_OK) != 0) {
            printf("%-52s skipped: set FREQPILOT_DATA_DIR (measured_runs.csv not found)\n",
                   cases[i].name);
            continue;
        }
        bench_result best = {0, 0, 0, -1};
        for (int k = 0; k < repeat; k++) {
            bench_result r = bench_run(cases[i].argv, cpus, 3600, 0);
            if (r.rc != 0) {
                best = r;
                break;
            }
            if (best.rc != 0 || r.wall_s < best.wall_s)
                best = r;
        }
        if (best.rc != 0) {
            printf("%-52s FAILED (exit %d)\n", cases[i].name, best.rc);
            failed = 1;
            continue;
        }
        char target[64] = "-";
        if (cases[i].target_s > 0)
            snprintf(target, sizeof target, "< %.0f s: %s", cases[i].target_s,
                     best.wall_s < cases[i].target_s ? "met" : "MISSED");
        printf("%-52s %8.2f %8.2f %10.1f  %s\n", cases[i].name, best.wall_s, best.cpu_s,
               best.maxrss_mib, target);
        fflush(stdout);
    }
    rm_rf(dir);
    return failed;
}
