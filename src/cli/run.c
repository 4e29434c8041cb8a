/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot run [INPUT...] [-o DIR] [--config FILE]: the whole pipeline in one command.
 *
 * Each stage that has its own command (aggregate, optimize, pareto, validate, model) runs as
 * that command, `freqpilot STAGE ...`, in a child process of this same binary: the results are
 * then exactly what a user gets by typing the command lines listed under "Reproduce" in the
 * report, and each stage keeps its own options and rules. The independent stages run side by
 * side (--jobs, the number of CPUs), validate once optimize is done; meanwhile this process
 * loads the inputs for the report. The report, the PDF and the figures are then drawn by this
 * process and jobs - 1 forked children. Without input the simulated GPUs (V100, A100, H100)
 * sweep the built-in workloads first, one thread per (gpu, workload) up to --jobs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/run_config.h"
#include "freqpilot/atomic.h"
#include "freqpilot/deploy.h"
#include "freqpilot/plot.h"
#include "freqpilot/sim.h"

static const char help_text[] =
    "NAME\n"
    "    freqpilot run - the whole pipeline in one command\n"
    "\n"
    "SYNOPSIS\n"
    "    freqpilot run [INPUT...] [-o DIR] [--config FILE] [--title TEXT] [--runs N]\n"
    "                  [--constraints FILE|PRESET] [--utilisation X] [--price X]\n"
    "                  [--currency C] [--grid-intensity G] [--gpus N] [-j N]\n"
    "\n"
    "DESCRIPTION\n"
    "    aggregate -> optimize (every objective and budget of the config) -> pareto ->\n"
    "    validate -> model (when it fits) -> figures -> report.html and report.pdf, with a\n"
    "    progress bar. INPUT is anything `freqpilot aggregate` reads (a DATASET/,\n"
    "    measured_runs.csv, ...). Without INPUT: a simulated sweep of V100, A100 and H100 over\n"
    "    the built-in workloads (every supported clock, 3 runs each, seeded), written to\n"
    "    DIR/runs.csv, then the same pipeline; everything is labelled SIMULATED DATA.\n"
    "    Each stage runs as its own freqpilot command (independent ones side by side, see\n"
    "    --jobs); the report lists the exact command lines, so its recommendations are those\n"
    "    of `freqpilot optimize` on the same data. The model section and figures appear when\n"
    "    `freqpilot model fit` succeeds (its --curves output).\n"
    "    On stdout: the deploy table of the report's page one (per (gpu, app) the clock to\n"
    "    set: the lowest estimated headline_objective within the app's budget from\n"
    "    --constraints, else within headline_slowdown; optimize's verdict and, where it is\n"
    "    not deployable, why), then what the deployable choices add up to. On stderr: the\n"
    "    warnings `freqpilot optimize` gives on the same data.\n"
    "\n"
    "OUTPUT (in DIR)\n"
    "    runs.csv (simulated only), aggregated.csv, dropped.csv, optimal.json,\n"
    "    pareto.json, validation.json, model.json and model-curves.json (when fitted),\n"
    "    figures/*.png and *.svg,\n"
    "    report.html, report.pdf, commands.txt\n"
    "\n"
    "CONFIG (INI, see contrib/freqpilot-run.ini)\n"
    "    [run]       objectives = energy,edp,ed2p,time   max_slowdown = none,0.05,0.10\n"
    "                title = TEXT   headline_objective = energy   headline_slowdown = 0.05\n"
    "                constraints = FILE|PRESET (as --constraints)\n"
    "    [impact]    utilisation = 0.5   price_per_kwh = 0.15   currency = USD\n"
    "                grid_gco2_per_kwh = 400   gpus = 1 (as the options below)\n"
    "    [simulate]  gpus = V100,A100,H100   workloads = llama,stablediffusion,vit,whisper,lstm\n"
    "                runs = 3   clock_step = 1 (every Nth supported clock)   seed = N\n"
    "\n"
    "OPTIONS\n"
    "    -o, --output DIR      output folder (out/run)\n"
    "    --config FILE         settings (defaults above)\n"
    "    --title TEXT          report title\n"
    "    --runs N              runs per clock of the simulated sweep (overrides the "
    "config)\n" CLI_CONSTRAINTS_HELP
    "                          for optimize, pareto and the deploy choice; 'none' in\n"
    "                          max_slowdown is then each app's budget\n" CLI_IMPACT_HELP
    "    -j, --jobs N          stages run side by side (number of CPUs, at most 4)\n"
    "    -q, --quiet           errors only\n"
    "    -v, --verbose         more messages\n"
    "    -h, --help            show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0 the report was written (validation findings are warnings here, listed in the report\n"
    "    and in validation.json); 1 a stage failed (its error is printed); 2 usage error.\n"
    "\n"
    "EXAMPLES\n"
    "    freqpilot run -o out/demo\n"
    "    freqpilot run shared/data/ai-inference-energy/measured_runs.csv -o out/real\n"
    "    freqpilot run --constraints ai-inference-energy -o out/demo\n";

/* The config (INI): freqpilot/run_config.h reads and checks it. */
typedef fp_run_config run_cfg;

/* 1 when the comma-separated budget list (fractions, percentages, none) holds b. */
static int budget_listed(const char *list, double b)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        double v;
        if (cli_parse_fraction(t, &v) == 0 && fabs(v - b) < 1e-12)
            return 1;
    }
    return 0;
}

/* ---- child stages ---- */

typedef struct cmdlog {
    char *lines[32];
    size_t n;
} cmdlog;

/* "freqpilot ARGS..." as a user would type it (the -q the pipeline adds left out). */
static char *format_cmd(char *const *argv)
{
    char buf[8192];
    size_t off = (size_t)snprintf(buf, sizeof buf, "freqpilot");
    for (int i = 1; argv[i] && off < sizeof buf; i++) {
        if (strcmp(argv[i], "-q") == 0 && i == 1)
            continue;
        int quote = strpbrk(argv[i], " \"'$") != NULL;
        off += (size_t)snprintf(buf + off, sizeof buf - off, quote ? " '%s'" : " %s", argv[i]);
    }
    return strdup(buf);
}

#define STAGE_MAX_ARGS 300

/* One `freqpilot STAGE ...` child; dep = index of the stage it needs (its output), -1 none. */
typedef struct stage {
    char *argv[STAGE_MAX_ARGS];
    int argc;
    int dep;
    pid_t pid;
    int state; /* 0 waiting, 1 running, 2 finished, 3 skipped (its dependency failed) */
    int rc;
    FILE *err_to;     /* the child's stderr (NULL: this process's) */
    const char *name; /* the command */
} stage;

/* quiet: the stage runs with -q (errors only); else with its warnings. */
static void stage_init(stage *s, const char *cmd, const char *sub, const char *const *inputs,
                       size_t ninputs, int dep, int quiet)
{
    memset(s, 0, sizeof *s);
    s->dep = dep;
    s->name = cmd;
    s->argv[s->argc++] = "freqpilot";
    if (quiet)
        s->argv[s->argc++] = "-q";
    s->argv[s->argc++] = (char *)cmd;
    if (sub)
        s->argv[s->argc++] = (char *)sub;
    for (size_t i = 0; i < ninputs && s->argc < STAGE_MAX_ARGS - 16; i++)
        s->argv[s->argc++] = (char *)inputs[i];
}

static void stage_arg(stage *s, const char *a)
{
    if (s->argc < STAGE_MAX_ARGS - 1)
        s->argv[s->argc++] = (char *)a;
    s->argv[s->argc] = NULL;
}

/* Starts `freqpilot ARGV...` (this binary) with stdout to /dev/null. */
static int stage_start(stage *s)
{
    char *line = format_cmd(s->argv);
    cli_debug("running %s", line ? line : s->name);
    free(line);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *devnull = freopen("/dev/null", "w", stdout);
        (void)devnull;
        if (s->err_to)
            dup2(fileno(s->err_to), STDERR_FILENO);
        execv("/proc/self/exe", s->argv);
        _exit(127);
    }
    s->pid = pid;
    s->state = 1;
    return 0;
}

/*
 * Runs the stages, at most jobs at a time, each once its dependency has succeeded. idle (may
 * be NULL) runs in this process once the first stages are started, while they work.
 * Returns 0, or -1 when a child could not be started or waited for.
 */
static int run_stages(stage *st, int n, int jobs, cli_progress *pr, int *step, void (*idle)(void *),
                      void *idle_arg)
{
    int left = n, running = 0;
    while (left > 0) {
        for (int i = 0; i < n && running < jobs; i++) {
            if (st[i].state != 0)
                continue;
            int d = st[i].dep;
            if (d >= 0 && st[d].state >= 2 && (st[d].state == 3 || st[d].rc != 0)) {
                st[i].state = 3;
                st[i].rc = -1;
                left--;
                continue;
            }
            if (d >= 0 && st[d].state != 2)
                continue;
            if (stage_start(&st[i]) != 0)
                return -1;
            running++;
        }
        if (idle) {
            idle(idle_arg);
            idle = NULL;
        }
        if (running == 0)
            continue; /* only skipped stages were left */
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (int i = 0; i < n; i++)
            if (st[i].state == 1 && st[i].pid == pid) {
                st[i].state = 2;
                st[i].rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
                running--;
                left--;
                cli_progress_update(pr, ++*step);
            }
    }
    return 0;
}

/* ---- simulated sweep ---- */

static int in_list(const char *list, const char *name)
{
    if (!list[0])
        return 1;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (strcasecmp(t, name) == 0)
            return 1;
    return 0;
}

/* One (gpu, workload) of the simulated sweep, simulated into its own buffer. */
typedef struct sim_task {
    unsigned g, w;
    char *buf;
    size_t len;
    fp_status st;
    fp_error err;
} sim_task;

typedef struct sim_pool {
    const run_cfg *cfg;
    sim_task *tasks;
    size_t ntasks;
    atomic_size_t next; /* next task to take */
    atomic_size_t done; /* runs simulated, for the progress bar */
} sim_pool;

static void sim_one(sim_pool *p, sim_task *t, cli_progress *pr)
{
    const run_cfg *cfg = p->cfg;
    const fp_sim_gpu *gpu = fp_sim_gpu_at(t->g);
    const fp_sim_workload *wl = fp_sim_workload_at(t->w);
    FILE *m = open_memstream(&t->buf, &t->len);
    if (!m) {
        t->st = fp_error_set(&t->err, FP_ERR_NOMEM, "out of memory");
        return;
    }
    unsigned pos = 0;
    for (int rep = 1; rep <= cfg->runs && !t->st; rep++) {
        for (unsigned c = 0; c < gpu->n_clocks && !t->st; c += (unsigned)cfg->clock_step) {
            fp_sim_run_opts o;
            fp_sim_run_opts_default(&o);
            o.clock_mhz = gpu->clocks_mhz[c];
            o.interval_s = 1.0;
            o.idle_before_s = o.idle_after_s = 0;
            o.run_position = pos;
            o.knobs.seed = cfg->seed + (uint64_t)t->g * 1000003u + (uint64_t)t->w * 10007u;
            fp_sim_run_result r;
            t->st = fp_sim_run(gpu, wl, &o, NULL, NULL, &r, &t->err);
            if (t->st)
                break;
            fprintf(m, "%s,%s,%u,%u,%d,%.6g,%.6g,%.6g,%u,%s (simulated)\n", gpu->short_name,
                    wl->name, gpu->clocks_mhz[c], pos + 1, rep, r.time_s, r.energy_j / r.time_s,
                    r.energy_j, r.reached_mhz, gpu->name);
            pos++;
            size_t d = atomic_fetch_add(&p->done, 1) + 1;
            if (pr)
                cli_progress_update(pr, (double)d);
        }
    }
    if (fclose(m) != 0 && !t->st)
        t->st = fp_error_set(&t->err, FP_ERR_NOMEM, "out of memory");
}

static void *sim_worker(void *arg)
{
    sim_pool *p = arg;
    for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < p->ntasks;)
        sim_one(p, &p->tasks[i], NULL);
    return NULL;
}

/*
 * Every selected GPU x workload x clock (every clock_step-th supported one) x runs, in an
 * interleaved order (repetition-major: all clocks once, then again), noise and drift on,
 * written as a per-run table that `freqpilot aggregate` reads like measured_runs.csv.
 * The (gpu, workload) pairs are independent (each has its own seed and run positions), so
 * up to jobs threads simulate them; the file lists them in the same order either way.
 */
static fp_status simulate(const run_cfg *cfg, const char *path, int jobs, fp_error *err)
{
    sim_pool pool;
    memset(&pool, 0, sizeof pool);
    pool.cfg = cfg;
    size_t total = 0;
    pool.tasks = calloc(fp_sim_gpu_count() * fp_sim_workload_count() + 1, sizeof *pool.tasks);
    if (!pool.tasks)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    for (unsigned g = 0; g < fp_sim_gpu_count(); g++)
        if (in_list(cfg->gpus, fp_sim_gpu_at(g)->short_name))
            for (unsigned w = 0; w < fp_sim_workload_count(); w++)
                if (in_list(cfg->workloads, fp_sim_workload_at(w)->name)) {
                    pool.tasks[pool.ntasks].g = g;
                    pool.tasks[pool.ntasks++].w = w;
                    total += (fp_sim_gpu_at(g)->n_clocks + (unsigned)cfg->clock_step - 1) /
                             (unsigned)cfg->clock_step * (unsigned)cfg->runs;
                }
    atomic_init(&pool.next, 0);
    atomic_init(&pool.done, 0);
    cli_progress *pr = cli_progress_start("simulating", (double)total);
    pthread_t th[8];
    int nth = 0;
    for (int i = 1; i < jobs && i <= 8 && (size_t)i < pool.ntasks; i++)
        if (pthread_create(&th[nth], NULL, sim_worker, &pool) == 0)
            nth++;
    /* This thread works too, and draws the progress bar. */
    for (size_t i; (i = atomic_fetch_add(&pool.next, 1)) < pool.ntasks;)
        sim_one(&pool, &pool.tasks[i], pr);
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    cli_progress_stop(pr);
    fp_status st = FP_OK;
    for (size_t i = 0; i < pool.ntasks && !st; i++)
        if (pool.tasks[i].st) {
            st = pool.tasks[i].st;
            if (err)
                *err = pool.tasks[i].err;
        }
    fp_atomic_file af;
    if (!st)
        st = fp_atomic_open(&af, path, err);
    if (!st) {
        fprintf(af.fp, "gpu,workload,freq_mhz,run_index,repetition,time_s,avg_power_w,energy_j,"
                       "sm_clock_mhz,gpu_name\n");
        for (size_t i = 0; i < pool.ntasks; i++)
            if (pool.tasks[i].len)
                fwrite(pool.tasks[i].buf, 1, pool.tasks[i].len, af.fp);
        st = fp_atomic_commit(&af, err);
    }
    for (size_t i = 0; i < pool.ntasks; i++)
        free(pool.tasks[i].buf);
    free(pool.tasks);
    return st;
}

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

/* One figure of DIR/figures (PNG and SVG). */
typedef struct fig_task {
    int kind; /* 0 savings, 1 optima, 2 heatmap, 3 sweep, 4 pareto, 5 model */
    const char *gpu, *app;
    char name[160];
} fig_task;

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
 * Pareto and model. Returns their count (at most cap). */
static size_t list_figures(const fp_report_input *in, fig_task *t, size_t cap)
{
    size_t n = 0;
    if (in->recs->len && n + 2 <= cap) {
        t[n++] = (fig_task){0, NULL, NULL, "savings"};
        t[n++] = (fig_task){1, NULL, NULL, "optima"};
    }
    const fp_agg_result *a = in->agg;
    for (size_t i = 0; i < a->nrows && n + 4 <= cap; i++) {
        const fp_agg_row *r = &a->rows[i];
        int first_gpu = 1, first_pair = 1;
        for (size_t k = 0; k < i; k++) {
            first_gpu &= strcmp(a->rows[k].gpu, r->gpu) != 0;
            first_pair &=
                !(strcmp(a->rows[k].gpu, r->gpu) == 0 && strcmp(a->rows[k].app, r->app) == 0);
        }
        char g[64], ap[64];
        safe_name(g, sizeof g, r->gpu);
        safe_name(ap, sizeof ap, r->app);
        if (first_gpu) {
            t[n] = (fig_task){2, r->gpu, r->app, ""};
            snprintf(t[n++].name, sizeof t->name, "heatmap-%s", g);
        }
        if (first_pair) {
            static const char *const pre[3] = {"sweep", "pareto", "model"};
            for (int k = 0; k < (in->model ? 3 : 2); k++) {
                t[n] = (fig_task){3 + k, r->gpu, r->app, ""};
                snprintf(t[n++].name, sizeof t->name, "%s-%s-%s", pre[k], g, ap);
            }
        }
    }
    return n;
}

/* Everything drawn at the end: report.pdf, report.html and every figure. */
typedef struct draw_job {
    const fp_report_input *in;
    const char *figdir, *html, *pdf;
    fig_task *figs;
    size_t nfigs;
    int pages;
} draw_job;

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
static int draw_all(draw_job *j, int jobs)
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
        while (waitpid(kids[k], &status, 0) < 0)
            if (errno != EINTR) {
                status = 1 << 8;
                break;
            }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = -1;
    }
    return rc;
}

static fp_status write_commands(const char *dir, const cmdlog *log, fp_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/commands.txt", dir);
    fp_atomic_file af;
    fp_status st = fp_atomic_open(&af, path, err);
    if (st)
        return st;
    for (size_t i = 0; i < log->n; i++)
        fprintf(af.fp, "%s\n", log->lines[i]);
    return fp_atomic_commit(&af, err);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A stage's messages (its stderr, captured in f), each distinct line once, on stderr. */
static void print_stage_messages(FILE *f)
{
    if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0)
        return;
    char line[2048], *seen[512];
    size_t nseen = 0;
    while (fgets(line, sizeof line, f)) {
        int dup = 0;
        for (size_t i = 0; i < nseen && !dup; i++)
            dup = strcmp(seen[i], line) == 0;
        if (dup)
            continue;
        if (nseen < 512)
            seen[nseen++] = strdup(line);
        if (cli_verbosity >= 1)
            fputs(line, stderr);
    }
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
}

/* The report's options that differ from its defaults, as `freqpilot report` takes them. */
static void report_options(FILE *m, const run_cfg *cfg)
{
    if (strcmp(cfg->headline_objective, "energy") != 0)
        fprintf(m, " --objective %s", cfg->headline_objective);
    if (cfg->headline_slowdown != 0.05)
        fprintf(m, " --max-slowdown %g", cfg->headline_slowdown);
    if (cfg->constraints[0])
        fprintf(m, strpbrk(cfg->constraints, " \"'$") ? " --constraints '%s'" : " --constraints %s",
                cfg->constraints);
    fp_impact_opts def;
    fp_impact_opts_init(&def);
    const fp_impact_opts *o = &cfg->impact;
    if (o->utilisation != def.utilisation)
        fprintf(m, " --utilisation %g", o->utilisation);
    if (o->price_per_kwh != def.price_per_kwh)
        fprintf(m, " --price %g", o->price_per_kwh);
    if (strcmp(o->currency, def.currency) != 0)
        fprintf(m, " --currency '%s'", o->currency);
    if (o->grid_g_per_kwh != def.grid_g_per_kwh)
        fprintf(m, " --grid-intensity %g", o->grid_g_per_kwh);
    if (o->gpus != def.gpus)
        fprintf(m, " --gpus %g", o->gpus);
}

/* The report's page one on stdout: the deploy table, then what the deployable choices add up
 * to and are worth. */
static void print_decision(const fp_report_input *in)
{
    fp_deploy_rule rule;
    fp_deploy_rule_init(&rule);
    rule.objective = in->objective;
    rule.default_budget = in->max_slowdown;
    rule.constraints = in->constraints;
    fp_deploy_table t;
    fp_error err;
    if (fp_deploy_build(in->agg, in->recs, &rule, &t, &err)) {
        cli_error("%s", err.msg);
        return;
    }
    if (in->simulated)
        printf("# SIMULATED DATA: measured on freqpilot's simulated GPU, not on hardware\n");
    fp_deploy_print(&t, &rule, stdout);
    fp_deploy_stats st[65];
    size_t ns = fp_deploy_summary(&t, st, 65);
    const fp_deploy_stats *all = &st[ns - 1];
    if (t.n && t.nsingle != t.n) {
        if (all->n == 0)
            printf("# across configurations: no deployable choice (%zu not deployable)\n",
                   all->nother);
        else
            printf("# across configurations (deployable only): energy saving %.1f %%%s%.1f%s "
                   "(range %.1f to %.1f %%, best %s %s, worst %s %s); %zu not deployable\n",
                   100 * all->mean, isfinite(all->sd) ? " +- " : "",
                   isfinite(all->sd) ? 100 * all->sd : 0.0, isfinite(all->sd) ? " %" : "",
                   100 * all->min, 100 * all->max, all->best->gpu, all->best->app, all->worst->gpu,
                   all->worst->app, all->nother);
        double kwh = 0, cost = 0, co2 = 0;
        fp_impact_opts io;
        if (in->impact)
            io = *in->impact;
        else
            fp_impact_opts_init(&io);
        for (size_t i = 0; i < t.n; i++) {
            fp_impact im;
            if (t.rows[i].deployable && fp_impact_of(t.rows[i].rec, &io, &im) == 0) {
                kwh += im.kwh_year;
                cost += im.cost_year;
                co2 += im.co2_kg_year;
            }
        }
        if (all->n)
            printf("# worth a year: %.0f kWh, %.2f %s, %.0f kg CO2e (at %g %% utilisation, %g "
                   "%s/kWh, %g g CO2e/kWh, %g GPU(s) per workload: assumptions, see the "
                   "report)\n",
                   kwh, cost, io.currency, co2, 100 * io.utilisation, io.price_per_kwh, io.currency,
                   io.grid_g_per_kwh, io.gpus);
    }
    fflush(stdout);
    fp_deploy_free(&t);
}

/* Loading the inputs for the report, done while the stages run. */
typedef struct load_job {
    const char *const *inputs;
    size_t ninputs;
    const fp_diag *diag;
    fp_status st;
    fp_error err;
    fp_report_data d;
} load_job;

static void load_inputs(void *arg)
{
    load_job *j = arg;
    j->st = fp_report_data_load(&j->d, j->inputs, j->ninputs, j->diag, &j->err);
}

int cmd_run(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"title", required_argument, NULL, 't'},
        {"runs", required_argument, NULL, 'r'},
        {"jobs", required_argument, NULL, 'j'},
        {"constraints", required_argument, NULL, 'C'},
        CLI_IMPACT_LONGOPTS,
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = "out/run", *config = NULL, *title = NULL, *constraints_opt = NULL;
    long runs_opt = 0, jobs = 0;
    /* impact options, applied over the config's [impact] once it is read */
    struct {
        int c;
        const char *arg;
    } impact_opts[16];
    size_t nimpact = 0;
    fp_impact_opts probe;
    fp_impact_opts_init(&probe);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:qvh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            cli_verbosity = 0;
            break;
        case 'v':
            cli_verbosity++;
            break;
        case 'r':
            if (cli_parse_long(optarg, &runs_opt) || runs_opt < 1 || runs_opt > 1000)
                return cli_usage_error("run", "--runs: expected 1..1000, got '%s'", optarg);
            break;
        case 'j':
            if (cli_parse_long(optarg, &jobs) || jobs < 1 || jobs > 64)
                return cli_usage_error("run", "--jobs: expected 1..64, got '%s'", optarg);
            break;
        case 'o':
            out = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 't':
            title = optarg;
            break;
        case 'C':
            constraints_opt = optarg;
            break;
        case CLI_OPT_UTILISATION:
        case CLI_OPT_PRICE:
        case CLI_OPT_CURRENCY:
        case CLI_OPT_GRID:
        case CLI_OPT_GPUS: {
            int rc = cli_impact_option("run", c, optarg, &probe); /* checked now */
            if (rc)
                return rc;
            if (nimpact < 16)
                impact_opts[nimpact++] = (typeof(impact_opts[0])){c, optarg};
            break;
        }
        case 'h':
            cli_print_help(help_text);
            return EXIT_OK;
        default:
            return cli_usage_error("run", "unknown option");
        }
    }
    run_cfg cfg;
    fp_run_config_init(&cfg);
    if (config) {
        /* Every value checked before anything is written (no runs.csv of a bad config). */
        fp_error cerr;
        if (fp_run_config_load(config, &cfg, &cerr) != FP_OK) {
            cli_error("%s", cerr.msg);
            return EXIT_FAIL;
        }
    }
    if (runs_opt)
        cfg.runs = (int)runs_opt;
    for (size_t i = 0; i < nimpact; i++)
        cli_impact_option("run", impact_opts[i].c, impact_opts[i].arg, &cfg.impact);
    if (constraints_opt)
        snprintf(cfg.constraints, sizeof cfg.constraints, "%s", constraints_opt);
    fp_constraints cons;
    const fp_constraints *consp;
    if (cli_open_constraints(cfg.constraints, &cons, &consp))
        return EXIT_FAIL;
    /* The deploy choice of an app without a budget of its own is the headline budget's: make
     * sure optimize computes it. */
    if (isfinite(cfg.headline_slowdown) &&
        !budget_listed(cfg.max_slowdown, cfg.headline_slowdown)) {
        size_t l = strlen(cfg.max_slowdown);
        snprintf(cfg.max_slowdown + l, sizeof cfg.max_slowdown - l, ",%g", cfg.headline_slowdown);
    }
    if (!jobs) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = ncpu < 1 ? 1 : ncpu > 4 ? 4 : ncpu;
    }
    if (cli_mkdirs(out) != 0) {
        cli_error("%s: cannot create the folder: %s", out, strerror(errno));
        return EXIT_FAIL;
    }
    char figdir[4200];
    snprintf(figdir, sizeof figdir, "%s/figures", out);
    if (cli_mkdirs(figdir) != 0) {
        cli_error("%s: cannot create the folder: %s", figdir, strerror(errno));
        return EXIT_FAIL;
    }

    fp_error err;
    fp_error_clear(&err);
    double t0 = now_s();
    int simulated = optind >= argc;
    char runs_csv[4200];
    snprintf(runs_csv, sizeof runs_csv, "%s/runs.csv", out);
    const char *inputs[256];
    size_t ninputs = 0;
    cmdlog log = {{0}, 0};
    const int nsteps = 8;
    cli_progress *pr = cli_progress_start("freqpilot run", nsteps);
    int step = 0;
    if (simulated) {
        cli_info("no input: sweeping the simulated GPUs (%s)", cfg.gpus);
        fp_status st = simulate(&cfg, runs_csv, (int)jobs, &err);
        if (st) {
            cli_error("%s", err.msg);
            return EXIT_FAIL;
        }
        char line[512];
        snprintf(line, sizeof line,
                 "# simulated sweep: gpus %s, workloads %s, runs %d, clock_step %d, seed %llu "
                 "(freqpilot run with no input)",
                 cfg.gpus, cfg.workloads[0] ? cfg.workloads : "all built-ins", cfg.runs,
                 cfg.clock_step, cfg.seed);
        log.lines[log.n++] = strdup(line);
        inputs[ninputs++] = runs_csv;
    } else {
        for (int i = optind; i < argc && ninputs < 200; i++)
            inputs[ninputs++] = argv[i];
    }
    cli_progress_update(pr, ++step);
    cli_debug("%.2f s: inputs ready", now_s() - t0);

    char agg_csv[4200], dropped[4200], optimal[4200], pareto[4200], valid[4200], model[4200],
        curves[4200];
    snprintf(agg_csv, sizeof agg_csv, "%s/aggregated.csv", out);
    snprintf(dropped, sizeof dropped, "%s/dropped.csv", out);
    snprintf(optimal, sizeof optimal, "%s/optimal.json", out);
    snprintf(pareto, sizeof pareto, "%s/pareto.json", out);
    snprintf(valid, sizeof valid, "%s/validation.json", out);
    snprintf(model, sizeof model, "%s/model.json", out);
    snprintf(curves, sizeof curves, "%s/model-curves.json", out);

    /*
     * The stages, each its own command in a child process; the independent ones run side by
     * side (--jobs), validate once optimize has written optimal.json.
     */
    /* In the order they start: the longest first (optimize and pareto bootstrap). */
    enum { S_OPT = 0, S_PARETO, S_AGG, S_MODEL, S_VALID, S_N };
    stage stg[S_N];
    stage_init(&stg[S_AGG], "aggregate", NULL, inputs, ninputs, -1, 1);
    stage_arg(&stg[S_AGG], "-o");
    stage_arg(&stg[S_AGG], agg_csv);
    stage_arg(&stg[S_AGG], "--dropped");
    stage_arg(&stg[S_AGG], dropped);
    /* optimize: every objective and budget (JSON; `--format csv` gives the same rows) */
    stage_init(&stg[S_OPT], "optimize", NULL, inputs, ninputs, -1, 0);
    stage_arg(&stg[S_OPT], "--objective");
    stage_arg(&stg[S_OPT], cfg.objectives);
    stage_arg(&stg[S_OPT], "--max-slowdown");
    stage_arg(&stg[S_OPT], cfg.max_slowdown);
    stage_arg(&stg[S_OPT], "-o");
    stage_arg(&stg[S_OPT], optimal);
    stage_arg(&stg[S_OPT], "--format");
    stage_arg(&stg[S_OPT], "json");
    if (cfg.constraints[0]) {
        stage_arg(&stg[S_OPT], "--constraints");
        stage_arg(&stg[S_OPT], cfg.constraints);
    }
    /* optimize's warnings (what `freqpilot optimize` says about the data) are shown after the
     * stages, once, whatever runs beside it */
    FILE *opt_warnings = tmpfile();
    stg[S_OPT].err_to = opt_warnings;
    stage_init(&stg[S_PARETO], "pareto", NULL, inputs, ninputs, -1, 1);
    stage_arg(&stg[S_PARETO], "--format");
    stage_arg(&stg[S_PARETO], "json");
    stage_arg(&stg[S_PARETO], "-o");
    stage_arg(&stg[S_PARETO], pareto);
    if (cfg.constraints[0]) {
        stage_arg(&stg[S_PARETO], "--constraints");
        stage_arg(&stg[S_PARETO], cfg.constraints);
    }
    /* validate: findings are expected on real data, so warnings only */
    stage_init(&stg[S_VALID], "validate", NULL, inputs, ninputs, S_OPT, 1);
    stage_arg(&stg[S_VALID], optimal);
    stage_arg(&stg[S_VALID], "--warn-only");
    stage_arg(&stg[S_VALID], "--format");
    stage_arg(&stg[S_VALID], "json");
    stage_arg(&stg[S_VALID], "-o");
    stage_arg(&stg[S_VALID], valid);
    /* model: best effort (too few clocks is not an error of the pipeline) */
    stage_init(&stg[S_MODEL], "model", "fit", inputs, ninputs, -1, 1);
    stage_arg(&stg[S_MODEL], "-o");
    stage_arg(&stg[S_MODEL], model);
    stage_arg(&stg[S_MODEL], "--curves");
    stage_arg(&stg[S_MODEL], curves);
    /* Meanwhile this process loads the inputs for the report (findings, dropped runs). */
    cli_diag_state ds = {0};
    fp_diag quiet = {NULL, &ds, NULL};
    load_job lj;
    memset(&lj, 0, sizeof lj);
    lj.inputs = inputs;
    lj.ninputs = ninputs;
    lj.diag = &quiet;
    if (run_stages(stg, S_N, jobs, pr, &step, load_inputs, &lj) != 0) {
        cli_error("cannot run the pipeline's stages: %s", strerror(errno));
        if (lj.st == FP_OK)
            fp_report_data_free(&lj.d);
        return EXIT_FAIL;
    }
    cli_debug("%.2f s: stages done", now_s() - t0);
    if (opt_warnings) {
        print_stage_messages(opt_warnings);
        fclose(opt_warnings);
    }
    int have_model_file = stg[S_MODEL].rc == 0;
    /* Listed in the order a user would type them. */
    static const int log_order[S_N] = {S_AGG, S_OPT, S_PARETO, S_VALID, S_MODEL};
    for (int k = 0; k < S_N; k++)
        if ((log_order[k] != S_MODEL || have_model_file) && log.n < 32)
            log.lines[log.n++] = format_cmd(stg[log_order[k]].argv);
    fp_report_data d = lj.d;
    fp_status st = lj.st;
    if (st) {
        cli_error("%s", lj.err.msg);
        for (size_t k = 0; k < log.n; k++)
            free(log.lines[k]);
        return EXIT_FAIL;
    }
    for (int i = 0; i < S_N; i++) {
        if (stg[i].rc == 0)
            continue;
        if (i == S_AGG || i == S_OPT) {
            char *line = format_cmd(stg[i].argv);
            cli_error("%s failed (exit %d): %s", stg[i].name, stg[i].rc, line ? line : "");
            free(line);
            fp_report_data_free(&d);
            for (size_t k = 0; k < log.n; k++)
                free(log.lines[k]);
            return EXIT_FAIL;
        }
        if (i == S_VALID)
            cli_warn("validate reported failures (exit %d); see %s", stg[i].rc, valid);
        else if (i == S_PARETO)
            cli_warn("pareto failed (exit %d); continuing", stg[i].rc);
        else
            cli_info("model fit failed (exit %d): the report has no model section", stg[i].rc);
    }
    /* The report shows optimize's recommendations, read from its own output. */
    st = fp_recs_read_json(optimal, &d.recs, &err);
    if (st) {
        cli_error("%s", err.msg);
        fp_report_data_free(&d);
        return EXIT_FAIL;
    }
    /* ... and validate's checks of them, with the same verdicts. */
    int have_valid = 0;
    if (access(valid, R_OK) == 0) {
        fp_error verr;
        have_valid = fp_vals_read_json(valid, &d.vals, &verr) == FP_OK;
        if (!have_valid)
            cli_warn("%s; the report has no validation section", verr.msg);
    }
    fp_model_set mset = {0};
    int have_model = 0;
    if (have_model_file) {
        fp_error merr;
        have_model = fp_model_read_json(curves, &mset, &merr) == FP_OK;
        if (!have_model)
            cli_warn("%s; the report has no model section", merr.msg);
    }

    {
        /* The report command equivalent to what follows (figures aside). */
        char *buf = NULL;
        size_t sz = 0;
        FILE *m = open_memstream(&buf, &sz);
        if (m) {
            fprintf(m, "freqpilot report%s", simulated ? " --simulated" : "");
            for (size_t i = 0; i < ninputs; i++)
                fprintf(m, " %s", inputs[i]);
            fprintf(m, " %s%s%s%s%s -o %s", optimal, have_valid ? " " : "", have_valid ? valid : "",
                    have_model ? " " : "", have_model ? curves : "", out);
            report_options(m, &cfg);
            fclose(m);
        }
        if (buf && log.n < 32)
            log.lines[log.n++] = buf;
        else
            free(buf);
    }

    fp_report_input in;
    fp_report_input_init(&in);
    char ttl[200];
    if (title)
        snprintf(ttl, sizeof ttl, "%s", title);
    else if (cfg.title[0])
        snprintf(ttl, sizeof ttl, "%s", cfg.title);
    else
        snprintf(ttl, sizeof ttl, "%s",
                 simulated ? "freqpilot report (simulated GPUs)" : "freqpilot report");
    in.title = ttl;
    /* The label follows the data: a dataset recorded on the simulated GPU is labelled too. */
    simulated |= fp_agg_simulated(&d.agg) || d.recs.simulated;
    in.simulated = simulated;
    in.constraints = consp;
    in.impact = &cfg.impact;
    in.agg = &d.agg;
    in.recs = &d.recs;
    in.vals = &d.vals;
    in.model = have_model ? &mset : NULL;
    in.objective = cfg.headline_objective;
    in.max_slowdown = cfg.headline_slowdown;
    in.commands = (const char *const *)log.lines;
    in.ncommands = log.n;
    const char *src = getenv("FREQPILOT_SRC");
    char mp[4096];
    snprintf(mp, sizeof mp, "%s/docs/method.md", src ? src : ".");
    in.method_path = mp;

    char html[4300], pdf[4300];
    snprintf(html, sizeof html, "%s/report.html", out);
    snprintf(pdf, sizeof pdf, "%s/report.pdf", out);
    size_t cap = 2 + 4 * (d.agg.nrows + 1);
    fig_task *figs = malloc(cap * sizeof *figs);
    draw_job dj = {&in, figdir, html, pdf, figs, figs ? list_figures(&in, figs, cap) : 0, 0};
    int rc = figs ? draw_all(&dj, (int)jobs) : -1;
    free(figs);
    int pages = dj.pages;
    cli_progress_update(pr, ++step);
    cli_debug("%.2f s: report.html, report.pdf and %zu figures written", now_s() - t0, dj.nfigs);
    cli_info("wrote the figures (PNG and SVG) to %s", figdir);
    st = write_commands(out, &log, &err);
    cli_progress_update(pr, ++step);
    cli_progress_stop(pr);
    if (cli_verbosity >= 1 && !st && !rc)
        print_decision(&in);
    fp_report_data_free(&d);
    if (have_model)
        fp_model_set_free(&mset);
    for (size_t i = 0; i < log.n; i++)
        free(log.lines[i]);
    if (st) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    if (rc)
        return EXIT_FAIL;
    if (cli_verbosity >= 1)
        fprintf(stderr, "freqpilot run: report in %s (%d pages PDF)%s\n", html, pages,
                simulated ? " [SIMULATED DATA]" : "");
    return EXIT_OK;
}
