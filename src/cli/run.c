/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot run [INPUT...] [-o DIR] [--config FILE]: the whole pipeline in one command.
 *
 * Each stage that has its own command (aggregate, optimize, pareto, validate, model) runs as
 * that command, `freqpilot STAGE ...`, in a child process of this same binary: the results are
 * then exactly what a user gets by typing the command lines listed under "Reproduce" in the
 * report, and each stage keeps its own options and rules. Plots and the report are drawn here.
 * Without input the simulated GPUs (V100, A100, H100) sweep the built-in workloads first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/atomic.h"
#include "freqpilot/plot.h"
#include "freqpilot/sim.h"

int cli_mkdirs(const char *dir); /* src/cli/report.c */

static const char help_text[] =
    "NAME\n"
    "    freqpilot run - the whole pipeline in one command\n"
    "\n"
    "SYNOPSIS\n"
    "    freqpilot run [INPUT...] [-o DIR] [--config FILE] [--title TEXT]\n"
    "\n"
    "DESCRIPTION\n"
    "    aggregate -> optimize (every objective and budget of the config) -> pareto ->\n"
    "    validate -> model (when it fits) -> figures -> report.html and report.pdf, with a\n"
    "    progress bar. INPUT is anything `freqpilot aggregate` reads (a DATASET/,\n"
    "    measured_runs.csv, ...). Without INPUT: a simulated sweep of V100, A100 and H100 over\n"
    "    the built-in workloads (every supported clock, 3 runs each, seeded), written to\n"
    "    DIR/runs.csv, then the same pipeline; everything is labelled SIMULATED DATA.\n"
    "    Each stage runs as its own freqpilot command; the report lists the exact command\n"
    "    lines, so its recommendations are those of `freqpilot optimize` on the same data.\n"
    "\n"
    "OUTPUT (in DIR)\n"
    "    runs.csv (simulated only), aggregated.csv, dropped.csv, optimal.json,\n"
    "    pareto.json, validation.json, model.json (when fitted), figures/*.png and *.svg,\n"
    "    report.html, report.pdf, commands.txt\n"
    "\n"
    "CONFIG (INI, see contrib/freqpilot-run.ini)\n"
    "    [run]       objectives = energy,edp,ed2p,time   max_slowdown = none,0.05,0.10\n"
    "                title = TEXT   headline_objective = energy   headline_slowdown = 0.05\n"
    "    [simulate]  gpus = V100,A100,H100   workloads = llama,stablediffusion,vit,whisper,lstm\n"
    "                runs = 3   clock_step = 1 (every Nth supported clock)   seed = N\n"
    "\n"
    "OPTIONS\n"
    "    -o, --output DIR   output folder (out/run)\n"
    "    --config FILE      settings (defaults above)\n"
    "    --title TEXT       report title\n"
    "    -q, --quiet        errors only; -v more messages\n"
    "    -h, --help         show this help\n"
    "\n"
    "EXAMPLES\n"
    "    freqpilot run -o out/demo\n"
    "    freqpilot run shared/data/ai-inference-energy/measured_runs.csv -o out/real\n";

typedef struct run_cfg {
    char objectives[256];
    char max_slowdown[128];
    char title[160];
    char headline_objective[32];
    double headline_slowdown;
    char gpus[128];
    char workloads[256];
    int runs;
    int clock_step;
    unsigned long long seed;
} run_cfg;

static void cfg_defaults(run_cfg *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->objectives, sizeof c->objectives, "energy,edp,ed2p,time");
    snprintf(c->max_slowdown, sizeof c->max_slowdown, "none,0.05,0.10");
    snprintf(c->headline_objective, sizeof c->headline_objective, "energy");
    c->headline_slowdown = 0.05;
    snprintf(c->gpus, sizeof c->gpus, "V100,A100,H100");
    c->workloads[0] = '\0'; /* all built-ins */
    c->runs = 3;
    c->clock_step = 1;
    c->seed = FP_SIM_DEFAULT_SEED;
}

static int cfg_handler(void *user, const char *section, const char *name, const char *value)
{
    run_cfg *c = user;
#define IS(s, n) (strcmp(section, s) == 0 && strcmp(name, n) == 0)
    if (IS("run", "objectives"))
        snprintf(c->objectives, sizeof c->objectives, "%s", value);
    else if (IS("run", "max_slowdown"))
        snprintf(c->max_slowdown, sizeof c->max_slowdown, "%s", value);
    else if (IS("run", "title"))
        snprintf(c->title, sizeof c->title, "%s", value);
    else if (IS("run", "headline_objective"))
        snprintf(c->headline_objective, sizeof c->headline_objective, "%s", value);
    else if (IS("run", "headline_slowdown"))
        return cli_parse_double(value, &c->headline_slowdown) == 0;
    else if (IS("simulate", "gpus"))
        snprintf(c->gpus, sizeof c->gpus, "%s", value);
    else if (IS("simulate", "workloads"))
        snprintf(c->workloads, sizeof c->workloads, "%s", value);
    else if (IS("simulate", "runs") || IS("simulate", "clock_step") || IS("simulate", "seed")) {
        long v;
        if (cli_parse_long(value, &v) || v < 0 || (v < 1 && strcmp(name, "seed")))
            return 0;
        if (strcmp(name, "runs") == 0)
            c->runs = (int)v;
        else if (strcmp(name, "clock_step") == 0)
            c->clock_step = (int)v;
        else
            c->seed = (unsigned long long)v;
    } else
        return 0;
#undef IS
    return 1;
}

/* ---- child stages ---- */

typedef struct cmdlog {
    char *lines[32];
    size_t n;
} cmdlog;

static void log_cmd(cmdlog *l, char *const *argv)
{
    char buf[8192];
    size_t off = (size_t)snprintf(buf, sizeof buf, "freqpilot");
    for (int i = 1; argv[i] && off < sizeof buf; i++) {
        if (strcmp(argv[i], "-q") == 0 && i == 1)
            continue;
        int quote = strpbrk(argv[i], " \"'$") != NULL;
        off += (size_t)snprintf(buf + off, sizeof buf - off, quote ? " '%s'" : " %s", argv[i]);
    }
    if (l->n < 32)
        l->lines[l->n++] = strdup(buf);
}

/* Runs `freqpilot ARGV...` (this binary) with stdout to /dev/null; returns its exit status. */
static int run_self(cmdlog *log, char **argv)
{
    log_cmd(log, argv);
    cli_debug("running %s", log->lines[log->n - 1]);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *devnull = freopen("/dev/null", "w", stdout);
        (void)devnull;
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
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

/*
 * Every selected GPU x workload x clock (every clock_step-th supported one) x runs, in an
 * interleaved order (repetition-major: all clocks once, then again), noise and drift on,
 * written as a per-run table that `freqpilot aggregate` reads like measured_runs.csv.
 */
static fp_status simulate(const run_cfg *cfg, const char *path, fp_error *err)
{
    fp_atomic_file af;
    fp_status st = fp_atomic_open(&af, path, err);
    if (st)
        return st;
    fprintf(af.fp, "gpu,workload,freq_mhz,run_index,repetition,time_s,avg_power_w,energy_j,"
                   "sm_clock_mhz\n");
    size_t total = 0, done = 0;
    for (unsigned g = 0; g < fp_sim_gpu_count(); g++)
        if (in_list(cfg->gpus, fp_sim_gpu_at(g)->short_name))
            for (unsigned w = 0; w < fp_sim_workload_count(); w++)
                if (in_list(cfg->workloads, fp_sim_workload_at(w)->name))
                    total += (fp_sim_gpu_at(g)->n_clocks + (unsigned)cfg->clock_step - 1) /
                             (unsigned)cfg->clock_step * (unsigned)cfg->runs;
    cli_progress *pr = cli_progress_start("simulating", (double)total);
    for (unsigned g = 0; g < fp_sim_gpu_count() && !st; g++) {
        const fp_sim_gpu *gpu = fp_sim_gpu_at(g);
        if (!in_list(cfg->gpus, gpu->short_name))
            continue;
        for (unsigned w = 0; w < fp_sim_workload_count() && !st; w++) {
            const fp_sim_workload *wl = fp_sim_workload_at(w);
            if (!in_list(cfg->workloads, wl->name))
                continue;
            unsigned pos = 0;
            for (int rep = 1; rep <= cfg->runs && !st; rep++) {
                for (unsigned c = 0; c < gpu->n_clocks && !st; c += (unsigned)cfg->clock_step) {
                    fp_sim_run_opts o;
                    fp_sim_run_opts_default(&o);
                    o.clock_mhz = gpu->clocks_mhz[c];
                    o.interval_s = 1.0;
                    o.idle_before_s = o.idle_after_s = 0;
                    o.run_position = pos;
                    o.knobs.seed = cfg->seed + (uint64_t)g * 1000003u + (uint64_t)w * 10007u;
                    fp_sim_run_result r;
                    st = fp_sim_run(gpu, wl, &o, NULL, NULL, &r, err);
                    if (st)
                        break;
                    fprintf(af.fp, "%s,%s,%u,%u,%d,%.6g,%.6g,%.6g,%u\n", gpu->short_name, wl->name,
                            gpu->clocks_mhz[c], pos + 1, rep, r.time_s, r.energy_j / r.time_s,
                            r.energy_j, r.reached_mhz);
                    pos++;
                    cli_progress_update(pr, (double)++done);
                }
            }
        }
    }
    cli_progress_stop(pr);
    if (st) {
        fp_atomic_abort(&af);
        return st;
    }
    return fp_atomic_commit(&af, err);
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

static int save_fig(const char *dir, const char *name, fp_figure *f, fp_status st, int *count)
{
    if (st) {
        fp_figure_free(f);
        return 0;
    }
    fp_render_opts ro;
    fp_render_opts_init(&ro);
    char path[4300];
    fp_error err;
    int rc = 0;
    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    if (fp_figure_render(f, path, FP_PLOT_PNG, &ro, &err) != FP_OK) {
        cli_error("%s", err.msg);
        rc = -1;
    }
    snprintf(path, sizeof path, "%s/%s.svg", dir, name);
    if (!rc && fp_figure_render(f, path, FP_PLOT_SVG, &ro, &err) != FP_OK) {
        cli_error("%s", err.msg);
        rc = -1;
    }
    if (!rc)
        *count += 1;
    fp_figure_free(f);
    return rc;
}

static int figures(const char *dir, const fp_report_input *in)
{
    fp_plot_opts po;
    fp_plot_opts_init(&po);
    po.simulated = in->simulated;
    po.objective = in->objective;
    po.max_slowdown = in->max_slowdown;
    fp_figure f;
    int n = 0, rc = 0;
    if (in->recs->len) {
        rc |= save_fig(dir, "savings", &f, fp_plot_savings(in->recs, &po, &f, NULL), &n);
        rc |= save_fig(dir, "optima", &f, fp_plot_optima(in->agg, in->recs, &po, &f, NULL), &n);
    }
    const fp_agg_result *a = in->agg;
    for (size_t i = 0; i < a->nrows; i++) {
        const fp_agg_row *r = &a->rows[i];
        int first_gpu = 1, first_pair = 1;
        for (size_t k = 0; k < i; k++) {
            first_gpu &= strcmp(a->rows[k].gpu, r->gpu) != 0;
            first_pair &=
                !(strcmp(a->rows[k].gpu, r->gpu) == 0 && strcmp(a->rows[k].app, r->app) == 0);
        }
        char g[64], ap[64], name[160];
        safe_name(g, sizeof g, r->gpu);
        safe_name(ap, sizeof ap, r->app);
        po.gpu = r->gpu;
        po.app = r->app;
        if (first_gpu) {
            snprintf(name, sizeof name, "heatmap-%s", g);
            rc |= save_fig(dir, name, &f, fp_plot_heatmap(a, &po, &f, NULL), &n);
        }
        if (first_pair) {
            snprintf(name, sizeof name, "sweep-%s-%s", g, ap);
            rc |= save_fig(dir, name, &f, fp_plot_sweep(a, in->recs, &po, &f, NULL), &n);
            snprintf(name, sizeof name, "pareto-%s-%s", g, ap);
            rc |= save_fig(dir, name, &f, fp_plot_pareto(a, in->recs, &po, &f, NULL), &n);
            if (in->model) {
                snprintf(name, sizeof name, "model-%s-%s", g, ap);
                rc |= save_fig(dir, name, &f, fp_plot_model(in->model, &po, &f, NULL), &n);
            }
        }
    }
    cli_info("wrote %d figures (PNG and SVG) to %s", n, dir);
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

int cmd_run(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"title", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = "out/run", *config = NULL, *title = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 't':
            title = optarg;
            break;
        case 'h':
            cli_print_help(help_text);
            return EXIT_OK;
        default:
            return cli_usage_error("run", "unknown option");
        }
    }
    run_cfg cfg;
    cfg_defaults(&cfg);
    if (config) {
        int line = ini_parse(config, cfg_handler, &cfg);
        if (line < 0) {
            cli_error("%s: cannot read the config: %s", config, strerror(errno));
            return EXIT_FAIL;
        }
        if (line > 0) {
            cli_error("%s:%d: expected a known key of [run] or [simulate] with a valid value",
                      config, line);
            return EXIT_FAIL;
        }
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
        fp_status st = simulate(&cfg, runs_csv, &err);
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

    char agg_csv[4200], dropped[4200], optimal[4200], optcsv[4200], pareto[4200], valid[4200],
        model[4200];
    snprintf(agg_csv, sizeof agg_csv, "%s/aggregated.csv", out);
    snprintf(dropped, sizeof dropped, "%s/dropped.csv", out);
    snprintf(optimal, sizeof optimal, "%s/optimal.json", out);
    snprintf(optcsv, sizeof optcsv, "%s/optimal.csv", out);
    snprintf(pareto, sizeof pareto, "%s/pareto.json", out);
    snprintf(valid, sizeof valid, "%s/validation.json", out);
    snprintf(model, sizeof model, "%s/model.json", out);

    char *av[300];
    int n, rc;
#define ARGS_BEGIN(cmd)                                                                            \
    n = 0;                                                                                         \
    av[n++] = "freqpilot";                                                                         \
    av[n++] = "-q";                                                                                \
    av[n++] = (char *)cmd;                                                                         \
    for (size_t i_ = 0; i_ < ninputs; i_++)                                                        \
        av[n++] = (char *)inputs[i_];
    /* aggregate */
    ARGS_BEGIN("aggregate");
    av[n++] = "-o";
    av[n++] = agg_csv;
    av[n++] = "--dropped";
    av[n++] = dropped;
    av[n] = NULL;
    if ((rc = run_self(&log, av)) != 0) {
        cli_error("aggregate failed (exit %d): %s", rc, log.lines[log.n - 1]);
        return EXIT_FAIL;
    }
    cli_progress_update(pr, ++step);
    /* optimize: every objective and budget (JSON; `--format csv` gives the same rows) */
    for (int fmt = 0; fmt < 1; fmt++) {
        ARGS_BEGIN("optimize");
        av[n++] = "--objective";
        av[n++] = cfg.objectives;
        av[n++] = "--max-slowdown";
        av[n++] = cfg.max_slowdown;
        av[n++] = "-o";
        av[n++] = fmt ? optcsv : optimal;
        av[n++] = "--format";
        av[n++] = fmt ? "csv" : "json";
        av[n] = NULL;
        if ((rc = run_self(&log, av)) != 0) {
            cli_error("optimize failed (exit %d): %s", rc, log.lines[log.n - 1]);
            return EXIT_FAIL;
        }
    }
    cli_progress_update(pr, ++step);
    /* pareto */
    ARGS_BEGIN("pareto");
    av[n++] = "--format";
    av[n++] = "json";
    av[n++] = "-o";
    av[n++] = pareto;
    av[n] = NULL;
    if ((rc = run_self(&log, av)) != 0)
        cli_warn("pareto failed (exit %d); continuing", rc);
    cli_progress_update(pr, ++step);
    /* validate: findings are expected on real data, so warnings only */
    ARGS_BEGIN("validate");
    av[n++] = optimal;
    av[n++] = "--warn-only";
    av[n++] = "--format";
    av[n++] = "json";
    av[n++] = "-o";
    av[n++] = valid;
    av[n] = NULL;
    if ((rc = run_self(&log, av)) != 0)
        cli_warn("validate reported failures (exit %d); see %s", rc, valid);
    cli_progress_update(pr, ++step);
    /* model: best effort; used by the report only when it is in the model JSON of
     * docs/report.md */
    ARGS_BEGIN("model");
    av[2] = "model";
    {
        /* "freqpilot -q model fit INPUT... -o model.json" */
        for (int i = n; i > 3; i--)
            av[i] = av[i - 1];
        av[3] = "fit";
        n++;
    }
    av[n++] = "-o";
    av[n++] = model;
    av[n] = NULL;
    int have_model_file = run_self(&log, av) == 0;
    if (!have_model_file)
        log.n--, free(log.lines[log.n]);
    cli_progress_update(pr, ++step);
#undef ARGS_BEGIN

    /* Report data: the inputs (for findings and dropped runs) plus optimize's JSON. */
    cli_diag_state ds = {0};
    fp_diag quiet = {NULL, &ds};
    const char *paths[260];
    size_t np = 0;
    for (size_t i = 0; i < ninputs; i++)
        paths[np++] = inputs[i];
    paths[np++] = optimal;
    fp_report_data d;
    fp_status st = fp_report_data_load(&d, paths, np, &quiet, &err);
    if (st) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    fp_model_set mset = {0};
    int have_model = have_model_file && fp_model_read_json(model, &mset, NULL) == FP_OK;
    if (have_model_file && !have_model)
        cli_info("model.json is not in the report's model format; the model section is left out");

    {
        /* The report command equivalent to what follows (figures aside). */
        char *rl = NULL;
        if (asprintf(&rl, "freqpilot report %s%s %s -o %s", simulated ? "--simulated " : "",
                     simulated ? runs_csv : inputs[0], optimal, out) >= 0)
            log.lines[log.n++] = rl;
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
    in.simulated = simulated;
    in.agg = &d.agg;
    in.recs = &d.recs;
    in.model = have_model ? &mset : NULL;
    in.objective = cfg.headline_objective;
    in.max_slowdown = cfg.headline_slowdown;
    in.commands = (const char *const *)log.lines;
    in.ncommands = log.n;
    const char *src = getenv("FREQPILOT_SRC");
    char mp[4096];
    snprintf(mp, sizeof mp, "%s/docs/method.md", src ? src : ".");
    in.method_path = mp;

    rc = figures(figdir, &in);
    cli_progress_update(pr, ++step);
    char html[4300], pdf[4300];
    snprintf(html, sizeof html, "%s/report.html", out);
    snprintf(pdf, sizeof pdf, "%s/report.pdf", out);
    int pages = 0;
    st = fp_report_write_html(&in, html, &err);
    if (!st)
        st = fp_report_write_pdf(&in, pdf, &pages, &err);
    if (!st)
        st = write_commands(out, &log, &err);
    cli_progress_update(pr, ++step);
    cli_progress_stop(pr);
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
