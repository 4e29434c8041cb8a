/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Sampler overhead: CPU time per sample and jitter of sample times of the profile sampler
 * thread (src/profile/sampler.c) at 10 ms and 50 ms, against the sim backend following host
 * time (realtime in fp_sim_backend_options), or NVML (--nvml; e.g. the fake one via
 * LD_LIBRARY_PATH). Targets: < 1 % of one core at 50 ms, jitter < 1 ms.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "freqpilot/gpu.h"
#include "freqpilot/sim.h"
#include "profile/sampler.h"

int main(int argc, char **argv)
{
    int nvml = argc > 1 && strcmp(argv[1], "--nvml") == 0;
    double secs = argc > 2 ? atof(argv[2]) : 3.0;
    fp_sim_backend_options so;
    fp_sim_backend_options_init(&so);
    so.realtime = 1; /* the sampler thread runs in real time */
    fp_sim_backend_configure(&so);
    const fp_gpu_backend *be = fp_gpu_backend_by_name(nvml ? "nvml" : "sim");
    fp_error err;
    fp_gpu *gpu;
    if (be->init(&err) || be->open("0", &gpu, &err)) {
        fprintf(stderr, "bench_sampler: %s\n", err.msg);
        return 1;
    }
    const double intervals[] = {0.010, 0.050};
    for (int i = 0; i < 2; i++) {
        fp_sampler *s;
        if (fp_sampler_start(&s, be, gpu, intervals[i], fp_mono_now(), &err)) {
            fprintf(stderr, "bench_sampler: %s\n", err.msg);
            return 1;
        }
        usleep((useconds_t)(secs * 1e6));
        fp_sample_buf buf = {0};
        fp_sampler_stats st;
        fp_sampler_stop(s, &buf, &st, &err);
        double cpu_per = st.cpu_s / (double)st.samples;
        printf("%s interval %2.0f ms: %zu samples, CPU %.1f us/sample, %.3f %% of one core, "
               "lateness mean %.3f ms max %.3f ms, interval SD %.3f ms, missed %zu\n",
               be->name, intervals[i] * 1e3, st.samples, cpu_per * 1e6, 100.0 * st.cpu_s / secs,
               st.lateness_mean_s * 1e3, st.lateness_max_s * 1e3, st.interval_sd_s * 1e3,
               st.missed);
        fp_sample_buf_free(&buf);
    }
    be->close(gpu);
    be->shutdown();
    return 0;
}
