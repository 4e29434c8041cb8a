/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * govern replay on a long recording: generates an nvidia-smi CSV of SIZE_MB (default 1024)
 * in $TMPDIR, then replays it through the phase detector and the phase policy
 *   (a) in process: fp_ts_open + fp_replay_recorded_stream   (peak RSS of this process)
 *   (b) FREQPILOT_BIN govern replay FILE, when a binary is given (its own peak RSS, wait4)
 * and prints the time, the samples and the peak RSS against the goal (64 MB, whatever the
 * file size) and against what holding the samples in memory would take (the replay before
 * it streamed: 184 bytes a sample, doubled by realloc). The file is removed.
 *
 * usage: bench_replay [SIZE_MB] [FREQPILOT_BIN]
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define BENCH_NAME "bench_replay"
#include "bench_gen.h"
#include "freqpilot/govern.h"
#include "freqpilot/reader.h"

#define GOAL_MB 64.0

typedef struct src {
    fp_ts_reader *r;
} src;

static int src_next(void *ctx, fp_sample *s, fp_error *err)
{
    return fp_ts_next(((src *)ctx)->r, s, err);
}

static fp_status src_rewind(void *ctx, fp_error *err)
{
    return fp_ts_rewind(((src *)ctx)->r, err);
}

static long self_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    double size_mb = argc > 1 ? atof(argv[1]) : 1024;
    const char *bin = argc > 2 ? argv[2] : NULL;
    if (!(size_mb > 0)) {
        fprintf(stderr, "usage: bench_replay [SIZE_MB] [FREQPILOT_BIN]\n");
        return 2;
    }
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/fp-bench-replay.XXXXXX", tmpdir);
    if (!mkdtemp(dir))
        die(dir);
    snprintf(path, sizeof path, "%s/trace.csv", dir);
    double t0 = now_s();
    gen_smi(path, size_mb * 1e6);
    printf("generated %.0f MB nvidia-smi trace in %.1f s (%s)\n", size_mb, now_s() - t0, path);
    fflush(stdout);
    int rc = 0;

    /* (a) in process */
    fp_gpu_info info;
    fp_sim_gpu_info(fp_sim_gpu_find("A100"), 0, &info);
    fp_error err;
    fp_policy *pol = NULL;
    if (fp_policy_new("phase", &info, &pol, &err) != FP_OK) {
        fprintf(stderr, "bench_replay: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    src s = {NULL};
    long before_kb = self_rss_kb();
    t0 = now_s();
    if (fp_ts_open(path, FP_FMT_AUTO, NULL, &s.r, &err) != FP_OK) {
        fprintf(stderr, "bench_replay: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    fp_sample_source source = {src_next, src_rewind, &s};
    fp_recorded_result res;
    fp_status st = fp_replay_recorded_stream(&source, NAN, NAN, pol, NULL, &res, &err);
    fp_ts_close(s.r);
    if (st != FP_OK) {
        fprintf(stderr, "bench_replay: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    double secs = now_s() - t0;
    double rss_mb = self_rss_kb() / 1024.0;
    double held_mb = (double)res.samples * sizeof(fp_sample) / 1048576.0;
    printf("in process   %.2f s  %lu samples  %.0f MB/s  median clock %.0f MHz  peak RSS %.1f MB "
           "(%.1f MB before)\n",
           secs, res.samples, size_mb / secs, res.recorded_clock_mhz, rss_mb, before_kb / 1024.0);
    printf("             holding the samples would take %.0f MB (x%.0f this peak); goal < %.0f "
           "MB: %s\n",
           held_mb, held_mb / rss_mb, GOAL_MB, rss_mb < GOAL_MB ? "met" : "MISSED");
    if (!(rss_mb < GOAL_MB))
        rc = 1;

    /* (b) the command */
    if (bin) {
        char *args[] = {(char *)bin, "-q", "govern", "replay", path, NULL};
        long kb = 0;
        int code = run_child(args, &secs, &kb);
        printf("%s govern replay FILE   exit %d  %.2f s  peak RSS %.1f MB; goal < %.0f MB: %s\n",
               bin, code, secs, kb / 1024.0, GOAL_MB,
               code == 0 && kb / 1024.0 < GOAL_MB ? "met" : "MISSED");
        if (code != 0 || !(kb / 1024.0 < GOAL_MB))
            rc = 1;
    }
out:
    fp_policy_free(pol);
    unlink(path);
    rmdir(dir);
    return rc;
}
