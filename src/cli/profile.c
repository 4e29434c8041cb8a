/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot profile: sweep SM clocks while a workload runs (docs/profile.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/clockguard.h"
#include "freqpilot/dataset.h"
#include "freqpilot/sim.h"
#include "freqpilot/adaptive_sweep.h"
#include "freqpilot/slurm.h"
#include "freqpilot/sweep.h"
#include "cli/profile_cluster.h"

const cli_command profile_cmd = {
    .name = "profile",
    .summary = "sweep SM clocks while a workload runs; writes a dataset",
    .synopsis = "freqpilot profile [OPTIONS] -- COMMAND [ARGS...]\n"
                "freqpilot profile --backend sim --workload NAME|INI [OPTIONS]\n",
    .description =
        "Runs COMMAND once per (clock, repetition) with the SM clock locked, samples the GPU\n"
        "on a dedicated thread and writes DATASET/<gpu>/<app>/<MHz>/<run>/{telemetry.csv,\n"
        "run.json}. Running the same command again resumes: finished runs are kept.\n"
        "\n"
        "The workload can mark its inference window by printing 'FREQPILOT_MARK begin' and\n"
        "'FREQPILOT_MARK end' lines on stdout, or by writing 'begin NAME'/'end NAME' to the\n"
        "pipe named in $FREQPILOT_MARK_FIFO (what freqpilot.window() of the Python package\n"
        "does). The window is the first begin to the last end. The workload gets\n"
        "PYTHONUNBUFFERED=1 unless it is set. A run whose markers arrived together (its\n"
        "output was buffered) or whose window is shorter than one sample interval is a failed\n"
        "run, with the reason in its run.json (window_error); failed runs are left out of\n"
        "the results. Its stdout and stderr are kept in the run folder.\n"
        "\n"
        "Safety: profile takes the GPU's lease (one freqpilot per GPU at a time, whatever\n"
        "--state-dir: a lock per GPU UUID in $FREQPILOT_LOCK_DIR, /run/freqpilot/locks as\n"
        "root); before changing a clock it writes a state file (--state-dir); the clocks\n"
        "are restored and the file removed on exit, error, SIGINT, SIGTERM and SIGHUP; a\n"
        "second signal before that restores through 'freqpilot restore'. After a SIGKILL\n"
        "or a crash the workload dies with freqpilot; run 'freqpilot restore'. Clocks and\n"
        "power limits outside the GPU's supported range are refused. Locking clocks needs\n"
        "root (or a driver setting that allows it); --no-clock-control only samples and\n"
        "never changes a clock, which is safe on a shared or production GPU. A user who is\n"
        "not root changes clocks through freqpilotd where its socket exists (the first line\n"
        "on stderr says which way; docs/freqpilotd.md); the service restores them when the\n"
        "sweep ends, SIGKILL included.\n"
        "\n"
        "Under sudo, root keeps only the GPU and the state folder: the workload, dcgmi,\n"
        "sbatch and squeue run as the invoking user (SUDO_UID) with their HOME, USER,\n"
        "LOGNAME and PATH=/usr/local/bin:/usr/bin:/bin, and the dataset is written by a\n"
        "process acting as that user, so it is theirs (docs/profile.md, security model).\n",
    .exit_status =
        "0 the sweep finished (failed runs of the workload are warned about and recorded in\n"
        "run.json; --slurm: the array was submitted); 1 failure (GPU or driver error, clocks\n"
        "not restorable, a write error, --on-failure stop after a failed run); 2 usage\n"
        "error. On SIGINT, SIGTERM or SIGHUP the clocks are restored, then freqpilot ends by\n"
        "that signal (a shell shows 128 + its number); the same command resumes the sweep.\n",
    .examples =
        "freqpilot profile --backend sim --workload llama --clocks 1410,1005,705 --out ds\n"
        "freqpilot profile --backend sim --workload vit --strategy adaptive --out ds-adaptive\n"
        "sudo freqpilot profile --gpu 0 --runs 5 --out ds -- python3 infer.py --batch 8\n"
        "freqpilot profile --no-clock-control --runs 1 --out ds-observe -- ./bench.sh\n",
    /* what follows the options is the workload's command line */
    .flags = CLI_PARSE_STOP_AT_OPERAND,
};

/* Progress bar (src/cli/progress.c): runs done, elapsed, ETA, and the current clock/run. */
typedef struct progress {
    cli_progress *bar; /* NULL off a terminal */
    int started;
    size_t done_here, skipped;
} progress;

static void on_event(void *user, const fp_sweep_event *ev)
{
    progress *p = user;
    if (!p->started) {
        p->bar = cli_progress_start("profile", (double)ev->total);
        p->started = 1;
    }
    const fp_sweep_item *it = ev->item;
    if (ev->skipped) {
        p->skipped++;
        cli_debug("%u MHz %s%d: done earlier, skipped", it->clock_mhz, it->warmup ? "w" : "run ",
                  it->repetition);
        cli_progress_update(p->bar, (double)(p->done_here + p->skipped));
        return;
    }
    char what[64];
    snprintf(what, sizeof what, "%u MHz %s %d", it->clock_mhz, it->warmup ? "warm-up" : "run",
             it->repetition);
    cli_progress_set_label(p->bar, what);
    if (!ev->finished) {
        cli_progress_update(p->bar, (double)(p->done_here + p->skipped));
        return;
    }
    p->done_here++;
    if (ev->clock_not_held)
        cli_warn("%u MHz requested, %.0f MHz read back (clock_not_held)", it->clock_mhz,
                 ev->readback_mhz);
    cli_info("%u MHz %s %d: exit %d%s", it->clock_mhz, it->warmup ? "warm-up" : "run",
             it->repetition, ev->exit_status, ev->timed_out ? " (timed out)" : "");
    cli_progress_update(p->bar, (double)(p->done_here + p->skipped));
}

static void on_tick(void *user)
{
    progress *p = user;
    cli_progress_update(p->bar, (double)(p->done_here + p->skipped));
}

/* The adaptive sweep's summary: on stderr unless -q. */
static void __attribute__((format(printf, 1, 2))) summary_line(const char *fmt, ...)
{
    if (cli_verbosity < 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("adaptive: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* --strategy adaptive: the answer, its confidence and what it cost, on stderr. */
static void adaptive_summary(const fp_adaptive_sweep_result *r, const fp_adaptive_options *ao)
{
    const fp_adaptive_result *a = &r->result;
    char budget[64] = "";
    if (isfinite(ao->max_slowdown))
        snprintf(budget, sizeof budget, ", slowdown <= %.1f %%", 100 * ao->max_slowdown);
    summary_line("%s%s: %.0f MHz (%s): %s", ao->objective.name, budget, a->freq_mhz,
                 a->converged ? "converged" : "not converged", a->reason);
    if (isfinite(a->energy_lo))
        summary_line("predicted at %.0f MHz: %.4g s, %.4g J (95 %% interval %.4g..%.4g J)",
                     a->freq_mhz, a->time_s, a->energy_j, a->energy_lo, a->energy_hi);
    summary_line("%d run(s) (%zu from earlier sessions) at %d of %zu clocks, %zu warm-up(s)",
                 a->runs, r->resumed_runs, a->clocks, r->n_clocks, r->warmup_runs);
    summary_line("GPU time %.1f s (+%.1f s warm-up) vs ~%.1f s for the full sweep (%zu "
                 "runs): %.1f %%",
                 a->gpu_time_s, isfinite(r->warmup_time_s) ? r->warmup_time_s : 0.0,
                 r->full_sweep_gpu_time_s, r->full_sweep_runs, 100 * r->gpu_time_fraction);
    if (!a->clock_bound && r->have_model)
        cli_warn("adaptive: the time is not explained by the clock: no time/energy predictions");
    summary_line("wrote %s%s%s", r->adaptive_json, r->curves_json[0] ? " and " : "",
                 r->curves_json);
}

/* A step of cmd_profile returns GO to go on to the next, or the command's exit code. */
enum { GO = -1, MAX_OPTIONS = 64 };

/* What the command line asks for (parse_args) and what it resolves to (resolve_workload). */
typedef struct profile_args {
    fp_sweep_opts o;
    fp_adaptive_options ao; /* --strategy adaptive */
    cluster_opts co;
    int adaptive, order, interval_ms, interval_given, seed_given;
    int adaptive_given[4]; /* --objective, --max-slowdown, --tolerance, --max-runs */
    const char *backend, *workload, *noise;
    fp_sim_workload *wl; /* --workload, resolved (owned) */
    /* The command line as given (the parser reorders argv): words[1..opt_end) are the
     * options, then the workload's command; --slurm passes the options on to its tasks. */
    char **words;
    int nwords, opt_end;
    cli_option opts[MAX_OPTIONS];
    char backend_help[1024], task_range[32], clocks_range[32];
    char cmdline[2048]; /* for the manifest and the state file */
    progress prog;      /* what the sweep reports as it goes (run_sweep) */
    cli_diag_state diag;
} profile_args;

/* --seed N: strtoull's syntax (0x1f too). */
static int opt_seed(const cli_option *opt, const char *arg, char *why, size_t n)
{
    char *end;
    unsigned long long v = strtoull(arg, &end, 0);
    if (!*arg || *end) {
        snprintf(why, n, "expected an unsigned integer");
        return -1;
    }
    *(uint64_t *)opt->value = v;
    return 0;
}

/* --sim-noise off|on|X: checked here, read by cli_sim_options_from_env. */
static int opt_sim_noise_text(const cli_option *opt, const char *arg, char *why, size_t n)
{
    double scale;
    const cli_option check = {.value = &scale};
    if (cli_opt_sim_noise(&check, arg, why, n))
        return -1;
    *(const char **)opt->value = arg;
    return 0;
}

/* --max-slowdown X|none (adaptive): a fraction of at most 100, or NAN. */
static int opt_adaptive_budget(const cli_option *opt, const char *arg, char *why, size_t n)
{
    double d;
    if (strcasecmp(arg, "none") == 0)
        d = NAN;
    else if (cli_parse_double(arg, &d) || !(d >= 0) || d > 100) {
        snprintf(why, n, "expected a fraction >= 0 (0.05 = 5 %%) or none");
        return -1;
    }
    *(double *)opt->value = d;
    return 0;
}

/* The CHOICE options' names (outlive option_table: no compound literals). In fp_sweep_order's
 * order; then the values 0 and 1 of stop_on_failure, sampler_dcgmi and adaptive. */
static const char *const order_names[] = {"random", "interleaved", "descending", NULL};
static const char *const on_failure_names[] = {"continue", "stop", NULL};
static const char *const sampler_names[] = {"nvml", "dcgmi", NULL};
static const char *const strategy_names[] = {"full", "adaptive", NULL};

/* The option table into a->opts (kept for --slurm, which passes options on), pointing at the
 * values in a. */
static void option_table(profile_args *a)
{
    fp_sweep_opts *o = &a->o;
    cluster_opts *co = &a->co;
    snprintf(a->task_range, sizeof a->task_range, "0..%d", FP_SLURM_MAX_TASKS - 1);
    snprintf(a->clocks_range, sizeof a->clocks_range, "1..%d", FP_DATASET_MAX_CLOCKS);
    const cli_option opts[] = {
        CLI_STRING("gpu", &o->gpu_id, "INDEX|UUID|all|0,1,...",
                   "GPU to profile (0; sim: V100, A100, H100); all or a list: one sweep per GPU "
                   "in parallel into DATASET/gpu<index>, the workload with "
                   "CUDA_VISIBLE_DEVICES=<that GPU's UUID> (docs/cluster.md)"),
        CLI_STRING("clocks", &o->clocks, "SPEC",
                   "all | 1410,1200,... | MIN:MAX[:STEP] (all); snapped to supported clocks, "
                   "duplicates removed"),
        CLI_INT("runs", &o->runs, "N", "1..1000", "measured runs per clock, 1..1000 (3)"),
        CLI_INT("warmup", &o->warmup, "N", "0..100",
                "discarded warm-up runs per clock, 0..100 (1), recorded as w1, w2..."),
        {.type = CLI_OPT_INT,
         .long_name = "interval-ms",
         .value = &a->interval_ms,
         .argh = "MS",
         .range = "1..60000",
         .seen = &a->interval_given,
         .help = "sampling interval, 1..60000 (50)"},
        CLI_DOUBLE("cooldown", &o->cooldown_s, "S", "seconds", "[0, 86400]",
                   "idle seconds after each run, at most 86400 (0)"),
        {.type = CLI_OPT_CHOICE,
         .long_name = "order",
         .value = &a->order,
         .choices = order_names,
         .flags = CLI_OPTF_NOCASE,
         .help = "run order (random)"},
        CLI_INT("baseline-every", &o->baseline_every, "N", "0..1000000",
                "random order: revisit the highest clock every N runs (10; 0 = never)"),
        {.type = CLI_OPT_CALLBACK,
         .long_name = "seed",
         .value = &o->seed,
         .argh = "N",
         .cb = opt_seed,
         .seen = &a->seed_given,
         .help = "seed of the random order and of the simulated GPU (1)"},
        CLI_STRING("app", &o->app, "NAME",
                   "application name in the dataset (the command's name; for python3 infer.py "
                   "and other interpreters the script's: infer; the simulated workload's)"),
        CLI_STRING("out", &o->out_dir, "DATASET", "output folder (dataset)"),
        CLI_CALLBACK("backend", &a->backend, "NAME", NULL, cli_opt_backend,
                     cli_backend_help("GPU backend: ", a->backend_help, sizeof a->backend_help)),
        CLI_STRING("workload", &a->workload, "NAME|INI",
                   "sim backend: built-in simulated workload (llama, sd, vit, whisper, lstm) or "
                   "an INI file, run in simulated time (with a COMMAND instead, the simulated "
                   "GPU follows the host's clock while it runs)"),
        CLI_CALLBACK("sim-noise", &a->noise, "off|on|X", NULL, opt_sim_noise_text,
                     "sim backend: off = no time, power or reading noise (runs follow the "
                     "simulator's truth), X (0..100) scales the noise (on)"),
        CLI_FLAG("no-clock-control", &o->no_clock_control,
                 "sample only: never change clocks; runs are filed under the clock the GPU "
                 "runs at"),
        CLI_DOUBLE("run-timeout", &o->run_timeout_s, "S", "seconds", "> 0",
                   "kill a run's process group after S seconds (none)"),
        CLI_CHOICE("on-failure", &o->stop_on_failure, on_failure_names,
                   "after a failed run of the workload (continue)"),
        CLI_FLAG("force", &o->force,
                 "take over changes left by a freqpilot that is gone (their restore is "
                 "inherited) / add to a different dataset; never a GPU another freqpilot "
                 "holds, nor a state file or folder that fails the ownership checks"),
        CLI_CHOICE("sampler", &o->sampler_dcgmi, sampler_names,
                   "dcgmi: also run 'dcgmi dmon' for SM/tensor/DRAM activity (nvml)"),
        CLI_STRING("dcgmi", &o->dcgmi_path, "PATH", "dcgmi executable (dcgmi in PATH)"),
        CLI_STRING("state-dir", &o->state_dir, "DIR",
                   "clock state files ($FREQPILOT_STATE_DIR or the default, see 'freqpilot "
                   "restore --help'); refused under sudo"),

        CLI_GROUP("Cluster (docs/cluster.md)"),
        CLI_FLAG("slurm", &co->slurm,
                 "submit the sweep as a Slurm job array (sbatch --parsable); the script is "
                 "kept in DATASET/slurm/sweep.sbatch, the job ids in DATASET/slurm/jobs.json"),
        {.type = CLI_OPT_INT,
         .long_name = "clocks-per-task",
         .value = &co->clocks_per_task,
         .argh = "K",
         .range = a->clocks_range,
         .help = "clocks per array task (1); the order within a task is shuffled with --seed "
                 "+ task id"},
        CLI_STRING("partition", &co->partition, "P", "sbatch --partition"),
        CLI_STRING("account", &co->account, "A", "sbatch --account"),
        CLI_STRING("time", &co->time_limit, "HH:MM:SS", "sbatch --time"),
        CLI_STRING("gres", &co->gres, "SPEC", "sbatch --gres, e.g. gpu:1"),
        CLI_INT("array-parallel", &co->array_parallel, "N", "1..100000",
                "at most N array tasks at once (%N)"),
        CLI_FLAG("resume", &co->resume,
                 "with --slurm: submit only the tasks whose runs are missing"),
        CLI_FLAG("dry-run", &co->dry_run, "with --slurm: print the script, submit nothing"),
        CLI_STRING("sbatch", &co->sbatch, "PATH", "sbatch executable (sbatch in PATH)"),
        CLI_STRING("squeue", &co->squeue, "PATH", "squeue executable (squeue in PATH)"),
        CLI_LIST("sbatch-arg", co->sbatch_args, &co->n_sbatch_args, 16, "ARG",
                 "extra sbatch argument (repeatable, up to 16)"),
        {.type = CLI_OPT_INT,
         .long_name = "slurm-task",
         .value = &co->task_id,
         .argh = "ID",
         .range = a->task_range,
         .help = "run array task ID's slice (used by the script)"},

        CLI_GROUP("Adaptive sweep (docs/profile.md)"),
        CLI_CHOICE("strategy", &a->adaptive, strategy_names,
                   "full: every clock x --runs (full); adaptive: measure the top clock, then "
                   "only the clocks that narrow the optimum of --objective under the model's "
                   "uncertainty, repeating runs only where noise matters; stops when the "
                   "optimum is known within --tolerance; writes DATASET/adaptive.json and "
                   "DATASET/curves.json (--warmup: warm-ups per session)"),
        {.type = CLI_OPT_CALLBACK,
         .long_name = "objective",
         .value = &a->ao.objective,
         .argh = "O",
         .cb = cli_opt_objective,
         .seen = &a->adaptive_given[0],
         .help = "adaptive: energy | time | edp | ed2p | ednp:N | cost:ETA (energy)"},
        {.type = CLI_OPT_CALLBACK,
         .long_name = "max-slowdown",
         .value = &a->ao.max_slowdown,
         .argh = "X",
         .cb = opt_adaptive_budget,
         .seen = &a->adaptive_given[1],
         .help = "adaptive: slowdown budget against the top clock, 0.05 = 5 % (none)"},
        {.type = CLI_OPT_DOUBLE,
         .long_name = "tolerance",
         .value = &a->ao.tolerance,
         .argh = "X",
         .what = "a fraction",
         .range = "(0, 1]",
         .seen = &a->adaptive_given[2],
         .help = "adaptive: stop when the choice is within X of the optimum at 95 % "
                 "confidence (0.01)"},
        {.type = CLI_OPT_INT,
         .long_name = "max-runs",
         .value = &a->ao.max_runs,
         .argh = "N",
         .range = "5..100000",
         .seen = &a->adaptive_given[3],
         .help = "adaptive: cap on measured runs (30)"},
        CLI_END,
    };
    _Static_assert(sizeof opts <= sizeof a->opts, "profile_args.opts too small");
    memcpy(a->opts, opts, sizeof opts);
}

/*
 * Step 0, before the options are parsed: --gpu all or a list runs one child per GPU, and
 * --slurm-task writes the task's state file around the sweep; both call cmd_profile again
 * (in_cluster_child set). GO otherwise.
 */
static int fan_out(int argc, char **argv)
{
    int at = -1;
    const char *gs = find_arg(argc, argv, "gpu", &at);
    if (gs && (strchr(gs, ',') || strcasecmp(gs, "all") == 0))
        return cli_sim_configure_from_env() ? EXIT_FAIL : cluster_gpus(argc, argv, gs, at);
    const char *task = find_arg(argc, argv, "slurm-task", NULL);
    if (task)
        return cluster_task(argc, argv, task);
    return GO;
}

/*
 * Step 1: the options into a (a->o.argv: the workload's command, or NULL), checked as far as
 * they can be alone. argv is reordered; a->words keeps it as given.
 */
static int parse_args(profile_args *a, int argc, char **argv)
{
    fp_sweep_opts_init(&a->o);
    fp_adaptive_options_init(&a->ao);
    a->o.out_dir = "dataset";
    a->order = (int)a->o.order;
    a->backend = FP_GPU_BACKEND_DEFAULT;
    a->co.task_id = -1;
    a->co.clocks_per_task = 1;
    a->words = calloc((size_t)argc + 1, sizeof *a->words);
    if (!a->words) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    memcpy(a->words, argv, (size_t)argc * sizeof *argv);
    a->nwords = argc;
    option_table(a);
    int rc, nops = cli_parse_options(&profile_cmd, a->opts, argc, argv, &rc);
    if (nops < 0)
        return rc;
    a->opt_end = argc - nops; /* the operands were the last words */
    if (nops > 0)
        a->o.argv = argv;
    a->o.order = (fp_sweep_order)a->order;
    if (a->interval_given)
        a->o.interval_s = (double)a->interval_ms / 1000.0;
    if (a->o.state_dir && cli_check_state_dir_option("profile", a->o.state_dir))
        return EXIT_USAGE;
    static const char *const adaptive_names[] = {"--objective", "--max-slowdown", "--tolerance",
                                                 "--max-runs"};
    for (int i = 0; i < 4 && !a->adaptive; i++)
        if (a->adaptive_given[i])
            return cli_usage_error("profile", "%s needs --strategy adaptive", adaptive_names[i]);
    if (a->adaptive && (a->co.slurm || a->co.task_id >= 0))
        return cli_usage_error("profile", "--strategy adaptive runs as one sweep (each run "
                                          "depends on the previous ones): not with --slurm");
    if ((a->co.resume || a->co.dry_run) && !a->co.slurm)
        return cli_usage_error("profile", "--resume and --dry-run go with --slurm (a local "
                                          "sweep resumes by running the same command again)");
    return GO;
}

/*
 * Step 2: the backend and the workload (a command, or the simulated GPU's built-in or INI
 * workload into a->wl), and the simulated GPU's settings (seed, noise, real time) installed.
 */
static int resolve_workload(profile_args *a)
{
    fp_sweep_opts *o = &a->o;
    o->be = fp_gpu_backend_by_name(a->backend); /* cli_opt_backend checked the name */
    int is_sim = o->be->simulated;
    if (a->workload) {
        if (!is_sim)
            return cli_usage_error("profile", "--workload needs --backend sim");
        if (o->argv)
            return cli_usage_error("profile", "give either --workload or -- COMMAND, not both");
        a->wl = calloc(1, sizeof *a->wl);
        fp_error err;
        if (!a->wl || fp_sim_workload_resolve(a->workload, a->wl, &err)) {
            cli_error("%s", a->wl ? err.msg : "out of memory");
            return EXIT_USAGE;
        }
        o->sim_workload = a->wl;
    }
    if (!o->argv && !a->wl)
        return cli_usage_error("profile", is_sim ? "no workload: give --workload NAME or -- "
                                                   "COMMAND [ARGS...]"
                                                 : "no workload: give -- COMMAND [ARGS...]");
    if (a->noise && !is_sim)
        return cli_usage_error("profile", "--sim-noise needs --backend sim");
    fp_sim_backend_options sim_opts;
    int rc = cli_sim_options_from_env(&sim_opts, a->noise);
    if (rc)
        return rc;
    if (is_sim && a->seed_given && !getenv("FREQPILOT_SIM_SEED"))
        sim_opts.seed = o->seed;
    /* A real command runs in real time: the simulated GPU (its energy counter) follows the
     * host's clock instead of standing still in simulated time. */
    if (is_sim && o->argv && !getenv("FREQPILOT_SIM_REALTIME"))
        sim_opts.realtime = 1;
    fp_sim_backend_configure(&sim_opts);
    if (o->no_clock_control && is_sim)
        cli_info("--no-clock-control on the simulated GPU: runs at its default clocks");
    return GO;
}

/*
 * Step 3: the command line the manifest and the state file record: the workload's (so that
 * a resume from another folder still matches), else freqpilot's own.
 */
static void name_command_line(profile_args *a)
{
    char *const *w = a->o.argv ? a->o.argv : a->words;
    size_t used = 0;
    a->cmdline[0] = 0;
    for (char *const *p = w; *p && used < sizeof a->cmdline; p++)
        used += (size_t)snprintf(a->cmdline + used, sizeof a->cmdline - used, "%s%s",
                                 p == w ? "" : " ", *p);
    a->o.command_line = a->cmdline;
}

/* Step 4 (--slurm): the job array submitted; submitting needs no root (sbatch, squeue and the
 * script run as the user). */
static int submit_array(profile_args *a)
{
    if (cli_drop_root())
        return EXIT_FAIL;
    return cluster_submit(&a->o, &a->co, a->nwords, a->words, a->opt_end, a->opts);
}

/* What a sweep left: its status and summary (adaptive: also its result, to free). */
typedef struct sweep_outcome {
    fp_status st;
    fp_error err;
    fp_sweep_summary sum;
    fp_adaptive_sweep_result *ares;
} sweep_outcome;

/*
 * Step 4: the sweep here, plain or adaptive (a Slurm task: its slice), with the clock path
 * said, the signals caught and the progress shown. GO with *out filled, or an exit code when
 * it could not start.
 */
static int run_sweep(profile_args *a, sweep_outcome *out)
{
    fp_sweep_opts *o = &a->o;
    o->task_id = a->co.task_id;
    o->clocks_per_task = a->co.clocks_per_task;
    int rc = o->no_clock_control ? 0 : cli_clock_path("profile", o->be);
    if (rc)
        return rc;
    o->diag = cli_diag(&a->diag);
    o->event = on_event;
    o->tick = on_tick;
    o->user = &a->prog;
    if (fp_clockguard_catch_signals(&out->err)) {
        cli_error("%s", out->err.msg);
        return EXIT_FAIL;
    }
    fp_clockguard_exec_on_second_signal("/proc/self/exe");
    memset(&out->sum, 0, sizeof out->sum);
    if (!a->adaptive) {
        out->st = fp_sweep_run(o, &out->sum, &out->err);
    } else if (!(out->ares = calloc(1, sizeof *out->ares))) {
        out->st = fp_error_set(&out->err, FP_ERR_NOMEM, "out of memory");
    } else {
        out->st = fp_adaptive_sweep_run(o, &a->ao, out->ares, &out->err);
        out->sum = out->ares->sweep;
    }
    cli_progress_stop(a->prog.bar);
    return GO;
}

/*
 * Step 5: what the sweep did, on stderr (the adaptive answer; where the data went; warnings
 * for runs that failed or did not hold their clock), and the exit code. After a signal the
 * clocks are restored and freqpilot ends by that signal.
 */
static int report_outcome(const profile_args *a, sweep_outcome *out)
{
    const fp_sweep_summary *sum = &out->sum;
    if (out->ares && !out->st && !sum->interrupted_sig)
        adaptive_summary(out->ares, &a->ao);
    free(out->ares);
    out->ares = NULL;
    if (sum->interrupted_sig) {
        cli_error("interrupted by signal %d (%s): clocks restored; %zu run(s) finished, the "
                  "interrupted one will be redone when the same command runs again",
                  sum->interrupted_sig, strsignal(sum->interrupted_sig), sum->done);
        fflush(NULL);
        fp_clockguard_reraise(sum->interrupted_sig);
        return EXIT_FAIL;
    }
    fp_clockguard_release_signals();
    if (out->st) {
        cli_error("%s", out->err.msg);
        return EXIT_FAIL;
    }
    /* Say where the data went and what to do next (stderr; -q silences it). */
    if (cli_verbosity >= 1)
        fprintf(stderr,
                "freqpilot profile: %zu run(s) written to %s (%zu already there, %zu failed); "
                "next: freqpilot run %s\n",
                sum->done, sum->dataset, sum->skipped, sum->failed, sum->dataset);
    if (sum->clock_not_held)
        cli_warn("%zu run(s) did not hold the requested clock (clock_not_held in run.json)",
                 sum->clock_not_held);
    if (sum->failed)
        cli_warn("%zu run(s) failed (\"failure\" in their run.json; the workload's output in "
                 "stdout.txt and stderr.txt beside it); failed runs are left out of the results",
                 sum->failed);
    return EXIT_OK;
}

int cmd_profile(int argc, char **argv)
{
    int rc = in_cluster_child ? GO : fan_out(argc, argv);
    if (rc != GO)
        return rc;
    profile_args *a = calloc(1, sizeof *a);
    if (!a) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    rc = parse_args(a, argc, argv);
    if (rc == GO)
        rc = resolve_workload(a);
    if (rc == GO) {
        name_command_line(a);
        if (a->co.slurm) {
            rc = submit_array(a);
        } else {
            sweep_outcome out = {0};
            rc = run_sweep(a, &out);
            if (rc == GO)
                rc = report_outcome(a, &out);
        }
    }
    free(a->wl);
    free(a->words);
    free(a);
    return rc;
}
