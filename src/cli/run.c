/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot run [INPUT...] [-o DIR] [--config FILE]: the whole pipeline in one command.
 *
 * The inputs are read and aggregated once, here, and optimize's data built from them. Each
 * stage that has its own command (aggregate, optimize, pareto, validate, model) then runs as
 * that command's function, with the argv of `freqpilot STAGE ...`, in a forked child that
 * inherits this memory (src/cli/preload.c): it parses its own options and applies its own rules
 * and writes its own outputs, so they are exactly what a user gets by typing the command lines
 * listed under "Reproduce" in the report, without reading and aggregating the inputs once per
 * stage. The independent stages run side by side (--jobs, the number of CPUs), validate once
 * optimize is done. The report, the PDF and the figures are then drawn by this process and
 * jobs - 1 forked children, from the aggregation in memory and the stages' outputs. Without input
 * the simulated GPUs (V100, A100, H100) sweep the built-in workloads first, one thread per (gpu,
 * workload) up to --jobs.
 */
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
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/aggregate.h"
#include "freqpilot/atomic.h"
#include "freqpilot/deploy.h"
#include "freqpilot/optimize.h"
#include "freqpilot/plot.h"
#include "freqpilot/run_config.h"
#include "freqpilot/sim.h"
#include "cli/run_int.h"

static const cli_section run_sections[] = {
    {"OUTPUT (in DIR)",
     "runs.csv (simulated only), aggregated.csv, dropped.csv, optimal.json,\n"
     "pareto.json, validation.json, model.json and model-curves.json (when fitted),\n"
     "figures/*.png and *.svg,\n"
     "report.html, report.pdf, commands.txt\n"},
    {"CONFIG (INI, see contrib/freqpilot-run.ini)",
     "[run]       objectives = energy,edp,ed2p,time   max_slowdown = none,0.05,0.10\n"
     "            title = TEXT   headline_objective = energy   headline_slowdown = 0.05\n"
     "            constraints = FILE|PRESET (as --constraints)\n"
     "[impact]    utilisation = 0.5   price_per_kwh = 0.15   currency = USD\n"
     "            grid_gco2_per_kwh = 400   gpus = 1 (as the options below)\n"
     "[simulate]  gpus = V100,A100,H100   workloads = llama,stablediffusion,vit,whisper,lstm\n"
     "            runs = 3   clock_step = 1 (every Nth supported clock)   seed = N\n"},
    {NULL, NULL},
};

const cli_command run_cmd = {
    .name = "run",
    .summary = "the whole pipeline in one command (simulated GPUs without input)",
    .synopsis = "freqpilot run [INPUT...] [-o DIR] [--config FILE] [--title TEXT] [--runs N]\n"
                "              [--constraints FILE|PRESET] [--utilisation X] [--price X]\n"
                "              [--currency C] [--grid-intensity G] [--gpus N] [-j N]\n"
                "              [--timings FILE]\n",
    .description =
        "aggregate -> optimize (every objective and budget of the config) -> pareto ->\n"
        "validate -> model (when it fits) -> figures -> report.html and report.pdf, with a\n"
        "progress bar. INPUT is anything `freqpilot aggregate` reads (a DATASET/,\n"
        "measured_runs.csv, ...). Without INPUT: a simulated sweep of V100, A100 and H100 over\n"
        "the built-in workloads (every supported clock, 3 runs each, seeded), written to\n"
        "DIR/runs.csv, then the same pipeline; everything is labelled SIMULATED DATA.\n"
        "The inputs are read and aggregated once; each stage then runs as its own freqpilot\n"
        "command (independent ones side by side, see --jobs) on that data in memory, so its\n"
        "outputs are those of the command lines the report lists (commands.txt), and its\n"
        "recommendations are those of `freqpilot optimize` on the same data. The model\n"
        "section and figures appear when `freqpilot model fit` succeeds (its --curves output).\n"
        "On stdout: the deploy table of the report's page one (per (gpu, app) the clock to\n"
        "set: the lowest estimated headline_objective within the app's budget from\n"
        "--constraints, else within headline_slowdown; optimize's verdict and, where it is\n"
        "not deployable, why), then what the deployable choices add up to. On stderr: the\n"
        "warnings `freqpilot optimize` gives on the same data.\n",
    .sections = run_sections,
    .exit_status =
        "0 the report was written (validation findings are warnings here, listed in the report\n"
        "and in validation.json); 1 a stage failed (its error is printed); 2 usage error.\n",
    .examples = "freqpilot run -o out/demo\n"
                "freqpilot run shared/data/ai-inference-energy/measured_runs.csv -o out/real\n"
                "freqpilot run --constraints ai-inference-energy -o out/demo\n",
};

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

/*
 * One stage: `freqpilot STAGE ...` as commands.txt lists it, run as that command's function in
 * a forked child (no exec), so it inherits the inputs this process loaded (cli_preload) and
 * neither reads nor aggregates them again. dep = index of the stage it needs (its output), -1
 * none.
 */
typedef struct stage {
    char *argv[STAGE_MAX_ARGS];
    int argc;
    int (*fn)(int argc, char **argv);
    int cmd_at; /* argv[cmd_at] is the command's name */
    int quiet;
    int dep;
    pid_t pid;
    int state; /* 0 waiting, 1 running, 2 finished, 3 skipped (its dependency failed) */
    int rc;
    FILE *err_to;     /* the child's stderr (NULL: this process's) */
    const char *name; /* the command */
    double t0, wall_s, cpu_s, rss_mib;
} stage;

/* quiet: the stage runs with -q (errors only); else with its warnings. */
static void stage_init(stage *s, int (*fn)(int, char **), const char *cmd, const char *sub,
                       const char *const *inputs, size_t ninputs, int dep, int quiet)
{
    memset(s, 0, sizeof *s);
    s->fn = fn;
    s->quiet = quiet;
    s->cmd_at = quiet ? 2 : 1;
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

/* Starts the stage's command in a child process, stdout to /dev/null; -q: errors only. */
static int stage_start(stage *s)
{
    char *line = format_cmd(s->argv);
    cli_debug("running %s", line ? line : s->name);
    free(line);
    fflush(NULL);
    s->t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *devnull = freopen("/dev/null", "w", stdout);
        (void)devnull;
        if (s->err_to)
            dup2(fileno(s->err_to), STDERR_FILENO);
        cli_verbosity = s->quiet ? 0 : 1;
        int rc = s->fn(s->argc - s->cmd_at, s->argv + s->cmd_at);
        cli_diag_summary(); /* what its exit would have said */
        fflush(NULL);
        _exit(rc);
    }
    s->pid = pid;
    s->state = 1;
    return 0;
}

/*
 * Runs the stages, at most jobs at a time, each once its dependency has succeeded.
 * Returns 0, or -1 when a child could not be started or waited for.
 */
static int run_stages(stage *st, int n, int jobs, cli_progress *pr, int *step)
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
        if (running == 0)
            continue; /* only skipped stages were left */
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, 0, &ru);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (int i = 0; i < n; i++)
            if (st[i].state == 1 && st[i].pid == pid) {
                st[i].state = 2;
                st[i].rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
                st[i].wall_s = now_s() - st[i].t0;
                st[i].cpu_s = cpu_of(&ru);
                st[i].rss_mib = (double)ru.ru_maxrss / 1024.0;
                running--;
                left--;
                cli_progress_update(pr, ++*step);
            }
    }
    return 0;
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

/*
 * The inputs, loaded and aggregated once (aggregate's default options), and optimize's data
 * built from them once: the stages inherit all three (cli_preload). What loading and
 * aggregating said is kept, not printed: each stage that takes the preload says it again, as
 * it would alone. The runs are freed afterwards: what the stages and the report need of them
 * is in the aggregation and the optimize data.
 */
typedef struct loaded {
    fp_agg_result agg;
    fp_opt_data opt;
    size_t nruns;
    cli_preload_msg *msgs;
    size_t nmsgs, cap;
    int aggregating;
} loaded;

static void keep_msg(loaded *l, int info, const char *msg)
{
    if (l->nmsgs == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        cli_preload_msg *v = realloc(l->msgs, cap * sizeof *v);
        if (!v)
            return; /* out of memory: the message is lost, never the run */
        l->msgs = v;
        l->cap = cap;
    }
    char *t = strdup(msg);
    if (t)
        l->msgs[l->nmsgs++] = (cli_preload_msg){l->aggregating, info, t};
}
static void keep_warn(void *user, const char *msg)
{
    keep_msg(user, 0, msg);
}
static void keep_info(void *user, const char *msg)
{
    keep_msg(user, 1, msg);
}

static void loaded_free(loaded *l)
{
    fp_opt_data_free(&l->opt);
    fp_agg_result_free(&l->agg);
    for (size_t i = 0; i < l->nmsgs; i++)
        free(l->msgs[i].text);
    free(l->msgs);
    l->msgs = NULL;
    l->nmsgs = l->cap = 0;
}

static fp_status load_once(const char *const *inputs, size_t ninputs, loaded *l, fp_error *err)
{
    memset(l, 0, sizeof *l);
    fp_diag keep = {keep_warn, l, keep_info};
    fp_run_list runs = {0};
    fp_load_options lo;
    fp_load_options_init(&lo);
    lo.diag = &keep;
    lo.ts.diag = &keep;
    fp_status st = FP_OK;
    for (size_t i = 0; i < ninputs && !st; i++)
        st = fp_runs_load(inputs[i], &lo, &runs, err);
    if (!st && runs.len == 0)
        st = fp_error_set(err, FP_ERR_INVALID, "no runs found in the input%s",
                          ninputs > 1 ? "s" : "");
    l->aggregating = 1;
    fp_agg_options ao;
    fp_agg_options_init(&ao);
    ao.diag = &keep;
    if (!st && !(st = fp_aggregate(&runs, &ao, &l->agg, err)) &&
        (st = fp_opt_data_build(&l->agg, &runs, &l->opt, err)))
        fp_agg_result_free(&l->agg);
    l->nruns = runs.len;
    fp_run_list_free(&runs);
    return st;
}

/* --timings FILE: stage,wall_s,cpu_s,peak_rss_mib per line (CPU of every process of the stage;
 * the peak resident memory of its largest process, for load and report this process's peak
 * so far). */
typedef struct timing {
    const char *stage;
    double wall_s, cpu_s, rss_mib;
} timing;

static fp_status write_timings(const char *path, const timing *t, size_t n, fp_error *err)
{
    fp_atomic_file af;
    fp_status st = fp_atomic_open(&af, path, err);
    if (st)
        return st;
    fprintf(af.fp, "stage,wall_s,cpu_s,peak_rss_mib\n");
    for (size_t i = 0; i < n; i++)
        fprintf(af.fp, "%s,%.3f,%.3f,%.1f\n", t[i].stage, t[i].wall_s, t[i].cpu_s, t[i].rss_mib);
    return fp_atomic_commit(&af, err);
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return cpu_of(&ru);
}

static double self_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* ---- the command, in named steps ---- */

/* --utilisation, --price, ...: checked as given, applied over the config's [impact] once it
 * is read (the options win). */
typedef struct impact_later {
    fp_impact_opts probe;
    struct {
        const cli_option *opt;
        const char *arg;
    } given[16];
    size_t n;
} impact_later;

static int opt_impact_later(const cli_option *o, const char *arg, char *why, size_t n)
{
    impact_later *l = o->value;
    cli_option on_probe = *o;
    on_probe.value = &l->probe;
    int rc = cli_opt_impact(&on_probe, arg, why, n);
    if (rc == 0 && l->n < sizeof l->given / sizeof l->given[0]) {
        l->given[l->n].opt = o;
        l->given[l->n++].arg = arg;
    }
    return rc;
}

/* What the steps share. */
typedef struct run_ctx {
    /* options and settings */
    const char *out, *title, *timings_path;
    int jobs;
    run_cfg cfg;
    fp_constraints cons;
    const fp_constraints *consp;
    char figdir[4200];
    /* inputs */
    int simulated;
    char runs_csv[4200];
    const char *inputs[256];
    size_t ninputs;
    /* outputs of the stages */
    char agg_csv[4200], dropped[4200], optimal[4200], pareto[4200], valid[4200], model[4200],
        curves[4200];
    int have_model_file, have_valid, have_model;
    /* the record: commands.txt and --timings */
    cmdlog log;
    timing tm[8];
    size_t ntm;
    cli_progress *pr;
    int step;
    double t0;
    fp_error err;
} run_ctx;

static void run_ctx_free(run_ctx *x)
{
    for (size_t k = 0; k < x->log.n; k++)
        free(x->log.lines[k]);
    x->log.n = 0;
    cli_progress_stop(x->pr);
    x->pr = NULL;
}

/*
 * Step 1: the options, then the config they override, the constraints and the number of
 * jobs. Returns -1 to go on with *nin operands in argv[0..*nin), else the exit code.
 */
static int run_options(run_ctx *x, int argc, char **argv, int *nin)
{
    const char *config = NULL, *constraints_opt = NULL;
    int runs_opt = 0, jobs = 0;
    impact_later impact = {0};
    fp_impact_opts_init(&impact.probe);
    x->out = "out/run";
    const cli_option opts[] = {
        /* a folder, so not CLI_OUTPUT (which refuses one) */
        {.type = CLI_OPT_STRING,
         .short_name = 'o',
         .long_name = "output",
         .value = &x->out,
         .argh = "DIR",
         .help = "output folder (out/run)"},
        CLI_STRING("config", &config, "FILE", "settings (defaults above)"),
        CLI_STRING("title", &x->title, "TEXT", "report title"),
        CLI_INT("runs", &runs_opt, "N", "1..1000",
                "runs per clock of the simulated sweep (overrides the config)"),
        CLI_STRING("constraints", &constraints_opt, "FILE|PRESET",
                   CLI_CONSTRAINTS_TEXT "; for optimize, pareto and the deploy choice; 'none' in "
                                        "max_slowdown is then each app's budget"),
        CLI_IMPACT_OPTIONS_CB(&impact, opt_impact_later),
        {.type = CLI_OPT_INT,
         .short_name = 'j',
         .long_name = "jobs",
         .value = &jobs,
         .argh = "N",
         .range = "1..64",
         .help = "stages run side by side (number of CPUs, at most 4)"},
        CLI_OUTFILE("timings", &x->timings_path, "FILE",
                    "write each stage's wall and CPU seconds and peak memory (CSV: stage, "
                    "wall_s, cpu_s, peak_rss_mib; load = reading and aggregating the inputs, "
                    "report = the figures, report.html and report.pdf, deploy = the table on "
                    "stdout)"),
        CLI_END,
    };
    int rc = EXIT_FAIL;
    if ((*nin = cli_parse_options(&run_cmd, opts, argc, argv, &rc)) < 0)
        return rc;
    fp_run_config_init(&x->cfg);
    if (config) {
        /* Every value checked before anything is written (no runs.csv of a bad config). */
        if (fp_run_config_load(config, &x->cfg, &x->err) != FP_OK) {
            cli_error("%s", x->err.msg);
            return EXIT_FAIL;
        }
    }
    if (runs_opt)
        x->cfg.runs = runs_opt;
    for (size_t i = 0; i < impact.n; i++) { /* checked when given: cannot fail here */
        cli_option on_cfg = *impact.given[i].opt;
        on_cfg.value = &x->cfg.impact;
        char why[256];
        cli_opt_impact(&on_cfg, impact.given[i].arg, why, sizeof why);
    }
    if (constraints_opt)
        snprintf(x->cfg.constraints, sizeof x->cfg.constraints, "%s", constraints_opt);
    if (cli_open_constraints(x->cfg.constraints, &x->cons, &x->consp))
        return EXIT_FAIL;
    /* The deploy choice of an app without a budget of its own is the headline budget's: make
     * sure optimize computes it. */
    run_cfg *cfg = &x->cfg;
    if (isfinite(cfg->headline_slowdown) &&
        !budget_listed(cfg->max_slowdown, cfg->headline_slowdown)) {
        size_t l = strlen(cfg->max_slowdown);
        snprintf(cfg->max_slowdown + l, sizeof cfg->max_slowdown - l, ",%g",
                 cfg->headline_slowdown);
    }
    if (!jobs) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = ncpu < 1 ? 1 : ncpu > 4 ? 4 : (int)ncpu;
    }
    x->jobs = jobs;
    return -1;
}

/* Step 2: DIR and DIR/figures, and the stages' output paths. 0, or the exit code. */
static int run_prepare_outputs(run_ctx *x)
{
    const char *out = x->out;
    snprintf(x->figdir, sizeof x->figdir, "%s/figures", out);
    const char *dirs[] = {out, x->figdir};
    for (size_t i = 0; i < 2; i++)
        if (cli_mkdirs(dirs[i]) != 0) {
            cli_error("%s: cannot create the folder: %s", dirs[i], strerror(errno));
            return EXIT_FAIL;
        }
    snprintf(x->runs_csv, sizeof x->runs_csv, "%s/runs.csv", out);
    snprintf(x->agg_csv, sizeof x->agg_csv, "%s/aggregated.csv", out);
    snprintf(x->dropped, sizeof x->dropped, "%s/dropped.csv", out);
    snprintf(x->optimal, sizeof x->optimal, "%s/optimal.json", out);
    snprintf(x->pareto, sizeof x->pareto, "%s/pareto.json", out);
    snprintf(x->valid, sizeof x->valid, "%s/validation.json", out);
    snprintf(x->model, sizeof x->model, "%s/model.json", out);
    snprintf(x->curves, sizeof x->curves, "%s/model-curves.json", out);
    return 0;
}

/* Step 3: the inputs: the operands, or (none) a simulated sweep written to DIR/runs.csv. */
static int run_gather_inputs(run_ctx *x, char **operands, int n)
{
    x->simulated = n == 0;
    if (x->simulated) {
        const run_cfg *cfg = &x->cfg;
        cli_info("no input: sweeping the simulated GPUs (%s)", cfg->gpus);
        if (run_simulate(cfg, x->runs_csv, x->jobs, &x->err)) {
            cli_error("%s", x->err.msg);
            return EXIT_FAIL;
        }
        char line[512];
        snprintf(line, sizeof line,
                 "# simulated sweep: gpus %s, workloads %s, runs %d, clock_step %d, seed %llu "
                 "(freqpilot run with no input)",
                 cfg->gpus, cfg->workloads[0] ? cfg->workloads : "all built-ins", cfg->runs,
                 cfg->clock_step, cfg->seed);
        x->log.lines[x->log.n++] = strdup(line);
        x->inputs[x->ninputs++] = x->runs_csv;
    } else {
        for (int i = 0; i < n && x->ninputs < 200; i++)
            x->inputs[x->ninputs++] = operands[i];
    }
    cli_progress_update(x->pr, ++x->step);
    cli_debug("%.2f s: inputs ready", now_s() - x->t0);
    return 0;
}

/* Step 4: the inputs loaded and aggregated once (ld), handed to the stages (cli_preload). */
static int run_load(run_ctx *x, loaded *ld, cli_preload *pre)
{
    double t_load = now_s(), c_load = self_cpu();
    if (load_once(x->inputs, x->ninputs, ld, &x->err)) {
        cli_progress_stop(x->pr);
        x->pr = NULL;
        for (size_t k = 0; k < ld->nmsgs; k++) /* what the load said before it failed */
            if (!ld->msgs[k].info)
                cli_warn("%s", ld->msgs[k].text);
        cli_error("%s", x->err.msg);
        loaded_free(ld);
        return EXIT_FAIL;
    }
    *pre = (cli_preload){x->inputs, x->ninputs, NULL,     ld->nruns,
                         &ld->agg,  &ld->opt,   ld->msgs, ld->nmsgs};
    cli_preload_set(pre);
    x->tm[x->ntm++] = (timing){"load", now_s() - t_load, self_cpu() - c_load, self_rss_mib()};
    cli_debug("%.2f s: %zu runs loaded and aggregated", now_s() - x->t0, ld->nruns);
    return 0;
}

/* In the order they start: the longest first. */
enum { S_OPT = 0, S_PARETO, S_AGG, S_MODEL, S_VALID, S_N };

/*
 * Step 5: the stages, each its own command in a child process; the independent ones side by
 * side (--jobs), validate once optimize has written optimal.json. ld's runs and optimize data
 * are freed after; its aggregation goes on to the report (d). 0, or the exit code.
 */
static int run_stage_commands(run_ctx *x, loaded *ld, fp_report_data *d)
{
    const size_t ni = x->ninputs;
    const run_cfg *cfg = &x->cfg;
    stage stg[S_N];
    stage_init(&stg[S_AGG], cmd_aggregate, "aggregate", NULL, x->inputs, ni, -1, 1);
    stage_arg(&stg[S_AGG], "-o");
    stage_arg(&stg[S_AGG], x->agg_csv);
    stage_arg(&stg[S_AGG], "--dropped");
    stage_arg(&stg[S_AGG], x->dropped);
    /* optimize: every objective and budget (JSON; `--format csv` gives the same rows) */
    stage_init(&stg[S_OPT], cmd_optimize, "optimize", NULL, x->inputs, ni, -1, 0);
    stage_arg(&stg[S_OPT], "--objective");
    stage_arg(&stg[S_OPT], cfg->objectives);
    stage_arg(&stg[S_OPT], "--max-slowdown");
    stage_arg(&stg[S_OPT], cfg->max_slowdown);
    stage_arg(&stg[S_OPT], "-o");
    stage_arg(&stg[S_OPT], x->optimal);
    stage_arg(&stg[S_OPT], "--format");
    stage_arg(&stg[S_OPT], "json");
    if (cfg->constraints[0]) {
        stage_arg(&stg[S_OPT], "--constraints");
        stage_arg(&stg[S_OPT], cfg->constraints);
    }
    /* optimize's warnings (what `freqpilot optimize` says about the data) are shown after the
     * stages, once, whatever runs beside it */
    FILE *opt_warnings = tmpfile();
    stg[S_OPT].err_to = opt_warnings;
    stage_init(&stg[S_PARETO], cmd_pareto, "pareto", NULL, x->inputs, ni, -1, 1);
    stage_arg(&stg[S_PARETO], "--format");
    stage_arg(&stg[S_PARETO], "json");
    stage_arg(&stg[S_PARETO], "-o");
    stage_arg(&stg[S_PARETO], x->pareto);
    if (cfg->constraints[0]) {
        stage_arg(&stg[S_PARETO], "--constraints");
        stage_arg(&stg[S_PARETO], cfg->constraints);
    }
    /* validate: findings are expected on real data, so warnings only */
    stage_init(&stg[S_VALID], cmd_validate, "validate", NULL, x->inputs, ni, S_OPT, 1);
    stage_arg(&stg[S_VALID], x->optimal);
    stage_arg(&stg[S_VALID], "--warn-only");
    stage_arg(&stg[S_VALID], "--format");
    stage_arg(&stg[S_VALID], "json");
    stage_arg(&stg[S_VALID], "-o");
    stage_arg(&stg[S_VALID], x->valid);
    /* model: best effort (too few clocks is not an error of the pipeline) */
    stage_init(&stg[S_MODEL], cmd_model, "model", "fit", x->inputs, ni, -1, 1);
    stage_arg(&stg[S_MODEL], "-o");
    stage_arg(&stg[S_MODEL], x->model);
    stage_arg(&stg[S_MODEL], "--curves");
    stage_arg(&stg[S_MODEL], x->curves);
    int ran = run_stages(stg, S_N, x->jobs, x->pr, &x->step);
    cli_preload_set(NULL);
    if (ran != 0) {
        cli_error("cannot run the pipeline's stages: %s", strerror(errno));
        loaded_free(ld);
        if (opt_warnings)
            fclose(opt_warnings);
        return EXIT_FAIL;
    }
    /* the aggregation goes on, to the report; the rest is done with */
    memset(d, 0, sizeof *d);
    d->agg = ld->agg;
    d->have_agg = 1;
    memset(&ld->agg, 0, sizeof ld->agg);
    loaded_free(ld);
    cli_debug("%.2f s: stages done", now_s() - x->t0);
    if (opt_warnings) {
        print_stage_messages(opt_warnings);
        fclose(opt_warnings);
    }
    static const int log_order[S_N] = {S_AGG, S_OPT, S_PARETO, S_VALID, S_MODEL};
    for (int k = 0; k < S_N; k++)
        x->tm[x->ntm++] = (timing){stg[log_order[k]].name, stg[log_order[k]].wall_s,
                                   stg[log_order[k]].cpu_s, stg[log_order[k]].rss_mib};
    x->have_model_file = stg[S_MODEL].rc == 0;
    /* Listed in the order a user would type them. */
    for (int k = 0; k < S_N; k++)
        if ((log_order[k] != S_MODEL || x->have_model_file) && x->log.n < 32)
            x->log.lines[x->log.n++] = format_cmd(stg[log_order[k]].argv);
    for (int i = 0; i < S_N; i++) {
        if (stg[i].rc == 0)
            continue;
        if (i == S_AGG || i == S_OPT) {
            char *line = format_cmd(stg[i].argv);
            cli_error("%s failed (exit %d): %s", stg[i].name, stg[i].rc, line ? line : "");
            free(line);
            return EXIT_FAIL;
        }
        if (i == S_VALID)
            cli_warn("validate reported failures (exit %d); see %s", stg[i].rc, x->valid);
        else if (i == S_PARETO)
            cli_warn("pareto failed (exit %d); continuing", stg[i].rc);
        else
            cli_info("model fit failed (exit %d): the report has no model section", stg[i].rc);
    }
    return 0;
}

/*
 * Step 6: what the report shows, read from the stages' own outputs: optimize's
 * recommendations, validate's checks of them (the same verdicts), the model's curves; and the
 * report command equivalent to step 7 (figures aside) for commands.txt. 0, or the exit code.
 */
static int run_read_outputs(run_ctx *x, fp_report_data *d, fp_model_set *mset)
{
    if (fp_recs_read_json(x->optimal, &d->recs, &x->err)) {
        cli_error("%s", x->err.msg);
        return EXIT_FAIL;
    }
    if (access(x->valid, R_OK) == 0) {
        fp_error verr;
        x->have_valid = fp_vals_read_json(x->valid, &d->vals, &verr) == FP_OK;
        if (!x->have_valid)
            cli_warn("%s; the report has no validation section", verr.msg);
    }
    if (x->have_model_file) {
        fp_error merr;
        x->have_model = fp_model_read_json(x->curves, mset, &merr) == FP_OK;
        if (!x->have_model)
            cli_warn("%s; the report has no model section", merr.msg);
    }
    char *buf = NULL;
    size_t sz = 0;
    FILE *m = open_memstream(&buf, &sz);
    if (m) {
        fprintf(m, "freqpilot report%s", x->simulated ? " --simulated" : "");
        for (size_t i = 0; i < x->ninputs; i++)
            fprintf(m, " %s", x->inputs[i]);
        fprintf(m, " %s%s%s%s%s -o %s", x->optimal, x->have_valid ? " " : "",
                x->have_valid ? x->valid : "", x->have_model ? " " : "",
                x->have_model ? x->curves : "", x->out);
        report_options(m, &x->cfg);
        fclose(m);
    }
    if (buf && x->log.n < 32)
        x->log.lines[x->log.n++] = buf;
    else
        free(buf);
    return 0;
}

/*
 * Step 7: figures, report.html and report.pdf, commands.txt, the deploy table on stdout and
 * --timings. 0, or the exit code.
 */
static int run_write_report(run_ctx *x, fp_report_data *d, fp_model_set *mset)
{
    fp_report_input in;
    fp_report_input_init(&in);
    char ttl[200];
    if (x->title)
        snprintf(ttl, sizeof ttl, "%s", x->title);
    else if (x->cfg.title[0])
        snprintf(ttl, sizeof ttl, "%s", x->cfg.title);
    else
        snprintf(ttl, sizeof ttl, "%s",
                 x->simulated ? "freqpilot report (simulated GPUs)" : "freqpilot report");
    in.title = ttl;
    /* The label follows the data: a dataset recorded on the simulated GPU is labelled too. */
    x->simulated |= fp_agg_simulated(&d->agg) || d->recs.simulated;
    in.simulated = x->simulated;
    in.constraints = x->consp;
    in.impact = &x->cfg.impact;
    in.agg = &d->agg;
    in.recs = &d->recs;
    in.vals = &d->vals;
    in.model = x->have_model ? mset : NULL;
    in.objective = x->cfg.headline_objective;
    in.max_slowdown = x->cfg.headline_slowdown;
    in.commands = (const char *const *)x->log.lines;
    in.ncommands = x->log.n;
    const char *src = getenv("FREQPILOT_SRC");
    char mp[4096];
    snprintf(mp, sizeof mp, "%s/docs/method.md", src ? src : ".");
    in.method_path = mp;

    char html[4300], pdf[4300];
    snprintf(html, sizeof html, "%s/report.html", x->out);
    snprintf(pdf, sizeof pdf, "%s/report.pdf", x->out);
    size_t cap = 2 + FP_REPORT_GPUS_MAX + 3 * FP_REPORT_PAIRS_MAX;
    fig_task *figs = malloc(cap * sizeof *figs);
    draw_job dj = {&in, x->figdir, html, pdf, figs, figs ? run_list_figures(&in, figs, cap) : 0,
                   0,   0,         0};
    double t_draw = now_s(), c_draw = self_cpu();
    int rc = figs ? run_draw_all(&dj, x->jobs) : -1;
    x->tm[x->ntm++] = (timing){"report", now_s() - t_draw, self_cpu() - c_draw + dj.kids_cpu_s,
                               fmax(self_rss_mib(), dj.kids_rss_mib)};
    free(figs);
    cli_progress_update(x->pr, ++x->step);
    cli_debug("%.2f s: report.html, report.pdf and %zu figures written", now_s() - x->t0, dj.nfigs);
    cli_info("wrote the figures (PNG and SVG) to %s", x->figdir);
    fp_status st = write_commands(x->out, &x->log, &x->err);
    cli_progress_update(x->pr, ++x->step);
    cli_progress_stop(x->pr);
    x->pr = NULL;
    if (cli_verbosity >= 1 && !st && !rc) {
        double t_dec = now_s(), c_dec = self_cpu();
        print_decision(&in);
        x->tm[x->ntm++] = (timing){"deploy", now_s() - t_dec, self_cpu() - c_dec, self_rss_mib()};
    }
    if (!st && x->timings_path)
        st = write_timings(x->timings_path, x->tm, x->ntm, &x->err);
    if (st) {
        cli_error("%s", x->err.msg);
        return EXIT_FAIL;
    }
    if (rc)
        return EXIT_FAIL;
    if (cli_verbosity >= 1)
        fprintf(stderr, "freqpilot run: report in %s (%d pages PDF)%s\n", html, dj.pages,
                x->simulated ? " [SIMULATED DATA]" : "");
    return 0;
}

int cmd_run(int argc, char **argv)
{
    run_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    fp_error_clear(&x->err);
    int n, rc = run_options(x, argc, argv, &n);
    if (rc >= 0) { /* --help, or a usage or config error */
        free(x);
        return rc;
    }
    if ((rc = run_prepare_outputs(x)) == 0) {
        x->t0 = now_s();
        x->pr = cli_progress_start("freqpilot run", 8);
        rc = run_gather_inputs(x, argv, n);
    }
    loaded ld;
    cli_preload pre;
    fp_report_data d;
    memset(&d, 0, sizeof d);
    fp_model_set mset = {0};
    int loaded_ok = rc == 0 && (rc = run_load(x, &ld, &pre)) == 0;
    if (loaded_ok)
        rc = run_stage_commands(x, &ld, &d);
    if (loaded_ok && rc == 0)
        rc = run_read_outputs(x, &d, &mset);
    if (loaded_ok && rc == 0)
        rc = run_write_report(x, &d, &mset);
    fp_report_data_free(&d);
    if (x->have_model)
        fp_model_set_free(&mset);
    run_ctx_free(x);
    free(x);
    return rc;
}
