/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Controller overhead per decision: detector update + policy decision, per policy. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "freqpilot/govern.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(void)
{
    const fp_sim_gpu *g = fp_sim_gpu_find("A100");
    fp_gpu_info info;
    fp_sim_gpu_info(g, 0, &info);
    enum { N = 2000000 };
    fp_sample s[4];
    for (int k = 0; k < 4; k++) {
        fp_sample_clear(&s[k]);
        s[k].v[FP_COL_SM_ACTIVE] = k < 2 ? 0.9 : 0.2;
        s[k].v[FP_COL_DRAM_ACTIVE] = k < 2 ? 0.4 : 0.8;
        s[k].v[FP_COL_GPU_UTIL_PCT] = 95;
        s[k].v[FP_COL_POWER_W] = 150;
    }
    printf("policy     ns/decision (detector + policy, %d decisions)\n", N);
    for (size_t k = 0; k < fp_policy_count(); k++) {
        const char *name = fp_policy_at(k)->name;
        if (strcmp(name, "default") == 0)
            continue;
        fp_policy *p;
        if (fp_policy_new(name, &info, &p, NULL) != FP_OK || fp_policy_start(p, NULL) != FP_OK)
            return 1;
        fp_phase_detector d;
        fp_phase_init(&d, NULL);
        volatile unsigned sink = 0;
        double t0 = now_s();
        for (int i = 0; i < N; i++) {
            double t = i * 0.05;
            const fp_sample *x = &s[(i / 200) & 3]; /* a phase change every 10 s */
            int ch = fp_phase_update(&d, t, x);
            fp_policy_input in = {t, d.current, ch, x, 1.0, NULL};
            sink += fp_policy_decide(p, &in);
        }
        double dt = now_s() - t0;
        printf("%-10s %8.1f\n", name, dt / N * 1e9);
        (void)sink;
        fp_policy_free(p);
    }
    return 0;
}
