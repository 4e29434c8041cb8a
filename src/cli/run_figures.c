/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot run's drawing: every figure, report.html and report.pdf, side by side (run_int.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run_int.h"
#include "freqpilot/aggregate.h"
#include "freqpilot/atomic.h"
#include "freqpilot/sim.h"

/* ---- figures ---- */

static void safe_name(char *dst, size_t n, const char *s)
{
    size_t i = 0;
    for (; *s && i + 1 < n; s++)
        dst[i++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                                  (*s >= '0' && *s <= '9') || *s == '-'
                              ? *s
                              : '_');
    dst[i] = '\0';
}

static int save_fig(const char *dir, const fig_task *t, const fp_report_input *in)
{
    fp_plot_opts po;
    fp_plot_opts_init(&po);
    po.simulated = in->simulated;
    po.objective = in->objective;
    po.max_slowdown = in->max_slowdown;
    po.gpu = t->gpu;
    po.app = t->app;
    fp_figure f;
    fp_status st;
    switch (t->kind) {
    case 0:
        st = fp_plot_savings(in->recs, &po, &f, NULL);
        break;
    case 1:
        st = fp_plot_optima(in->agg, in->recs, &po, &f, NULL);
        break;
    case 2:
        st = fp_plot_heatmap(in->agg, &po, &f, NULL);
        break;
    case 3:
        st = fp_plot_sweep(in->agg, in->recs, &po, &f, NULL);
        break;
    case 4:
        st = fp_plot_pareto(in->agg, in->recs, &po, &f, NULL);
        break;
    default:
        st = fp_plot_model(in->model, &po, &f, NULL);
        break;
    }
    if (st) /* nothing to draw (e.g. no model for this pair) */
        return 0;
    fp_render_opts ro;
    fp_render_opts_init(&ro);
    char path[4300];
    fp_error err;
    int rc = 0;
    snprintf(path, sizeof path, "%s/%s.png", dir, t->name);
    if (fp_figure_render(&f, path, FP_PLOT_PNG, &ro, &err) != FP_OK) {
        cli_error("%s", err.msg);
        rc = -1;
    }
    snprintf(path, sizeof path, "%s/%s.svg", dir, t->name);
    if (!rc && fp_figure_render(&f, path, FP_PLOT_SVG, &ro, &err) != FP_OK) {
        cli_error("%s", err.msg);
        rc = -1;
    }
    fp_figure_free(&f);
    return rc;
}

/* The figures of the report's data: overview, a heatmap per GPU, per (gpu, app) sweep,
 * Pareto and model, of the GPUs and pairs the report draws (FP_REPORT_GPUS_MAX,
 * FP_REPORT_PAIRS_MAX). Returns their count (at most cap). */
size_t run_list_figures(const fp_report_input *in, fig_task *t, size_t cap)
{
    size_t n = 0;
    if (in->recs->len && n + 2 <= cap) {
        t[n++] = (fig_task){0, NULL, NULL, "savings"};
        t[n++] = (fig_task){1, NULL, NULL, "optima"};
    }
    const fp_agg_result *a = in->agg;
    fp_agg_groups gpus;
    if (fp_agg_groups_build(a->rows, a->nrows, 0, &gpus, NULL) == FP_OK) {
        for (size_t g = 0; g < gpus.ngroups && g < FP_REPORT_GPUS_MAX && n < cap; g++) {
            const fp_agg_row *r = &a->rows[gpus.row[gpus.start[g]]];
            char name[64];
            safe_name(name, sizeof name, r->gpu);
            t[n] = (fig_task){2, r->gpu, r->app, ""};
            snprintf(t[n++].name, sizeof t->name, "heatmap-%s", name);
        }
        fp_agg_groups_free(&gpus);
    }
    size_t first[FP_REPORT_PAIRS_MAX];
    size_t np = fp_agg_pairs(a->rows, a->nrows, first, FP_REPORT_PAIRS_MAX);
    for (size_t i = 0; i < np && n + 3 <= cap; i++) {
        const fp_agg_row *r = &a->rows[first[i]];
        char g[64], ap[64];
        safe_name(g, sizeof g, r->gpu);
        safe_name(ap, sizeof ap, r->app);
        static const char *const pre[3] = {"sweep", "pareto", "model"};
        for (int k = 0; k < (in->model ? 3 : 2); k++) {
            t[n] = (fig_task){3 + k, r->gpu, r->app, ""};
            snprintf(t[n++].name, sizeof t->name, "%s-%s-%s", pre[k], g, ap);
        }
    }
    return n;
}

/* Output i (0 = the PDF, 1 = the HTML, then the figures); 0 when written. */
static int draw_one(draw_job *j, size_t i)
{
    fp_error err;
    fp_status st = FP_OK;
    if (i == 0)
        st = fp_report_write_pdf(j->in, j->pdf, &j->pages, &err);
    else if (i == 1)
        st = fp_report_write_html(j->in, j->html, &err);
    else
        return save_fig(j->figdir, &j->figs[i - 2], j->in);
    if (st)
        cli_error("%s", err.msg);
    return st ? -1 : 0;
}

/*
 * Draws every output, shared between this process and jobs - 1 forked children (each takes
 * every jobs-th output; they only write files). Returns 0 when everything was written.
 */
int run_draw_all(draw_job *j, int jobs)
{
    size_t n = j->nfigs + 2;
    if (jobs > 8)
        jobs = 8;
    pid_t kids[8];
    int nk = 0, rc = 0;
    fflush(NULL);
    for (int k = 1; k < jobs && (size_t)k < n; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            int crc = 0;
            for (size_t i = (size_t)k; i < n; i += (size_t)jobs)
                crc |= draw_one(j, i);
            fflush(NULL);
            _exit(crc ? 1 : 0);
        }
        if (pid < 0) { /* draw them here instead */
            for (size_t i = (size_t)k; i < n; i += (size_t)jobs)
                rc |= draw_one(j, i);
            continue;
        }
        kids[nk++] = pid;
    }
    for (size_t i = 0; i < n; i += (size_t)jobs)
        rc |= draw_one(j, i);
    for (int k = 0; k < nk; k++) {
        int status;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        while (wait4(kids[k], &status, 0, &ru) < 0)
            if (errno != EINTR) {
                status = 1 << 8;
                break;
            }
        j->kids_cpu_s += cpu_of(&ru);
        j->kids_rss_mib = fmax(j->kids_rss_mib, (double)ru.ru_maxrss / 1024.0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = -1;
    }
    return rc;
}
