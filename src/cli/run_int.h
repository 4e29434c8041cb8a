/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_CLI_RUN_INT_H
#define FREQPILOT_CLI_RUN_INT_H
/*
 * `freqpilot run`'s parts besides the command itself (run.c): the simulated sweep it makes
 * without input (run_sim.c) and the figures, report.html and report.pdf it draws side by side
 * (run_figures.c).
 */
#include <stddef.h>
#include <sys/resource.h>
#include <time.h>

#include "freqpilot/error.h"
#include "freqpilot/plot.h"
#include "freqpilot/run_config.h"

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double cpu_of(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + 1e-6 * (double)ru->ru_utime.tv_usec +
           (double)ru->ru_stime.tv_sec + 1e-6 * (double)ru->ru_stime.tv_usec;
}

/*
 * Without input: every supported clock of each [simulate] GPU and workload, cfg->runs times,
 * written to path as a per-run table (run_sim.c).
 */
fp_status run_simulate(const fp_run_config *cfg, const char *path, int jobs, fp_error *err);

/* One figure of DIR/figures (PNG and SVG). */
typedef struct fig_task {
    int kind; /* 0 savings, 1 optima, 2 heatmap, 3 sweep, 4 pareto, 5 model */
    const char *gpu, *app;
    char name[160];
} fig_task;

/* The figures of DIR/figures into t (at most cap): savings and optima, a heatmap per GPU, sweep,
 * Pareto and model, of the GPUs and pairs the report draws. Returns their count. */
size_t run_list_figures(const fp_report_input *in, fig_task *t, size_t cap);

/* Everything drawn at the end: report.pdf, report.html and every figure. */
typedef struct draw_job {
    const fp_report_input *in;
    const char *figdir, *html, *pdf;
    fig_task *figs;
    size_t nfigs;
    int pages;
    double kids_cpu_s;   /* CPU seconds of the children that drew */
    double kids_rss_mib; /* and the peak resident memory of the largest */
} draw_job;

/* Draws every output, shared between this process and jobs - 1 forked children. 0 when
 * everything was written. */
int run_draw_all(draw_job *j, int jobs);

#endif
