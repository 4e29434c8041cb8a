/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot profile: sweep SM clocks while a workload runs (docs/profile.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
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

static const char *const help_text =
    "NAME\n"
    "    freqpilot profile - sweep SM clocks while a workload runs; writes a dataset\n"
    "\n"
    "SYNOPSIS\n"
    "    freqpilot profile [OPTIONS] -- COMMAND [ARGS...]\n"
    "    freqpilot profile --backend sim --workload NAME|INI [OPTIONS]\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs COMMAND once per (clock, repetition) with the SM clock locked, samples the GPU\n"
    "    on a dedicated thread and writes DATASET/<gpu>/<app>/<MHz>/<run>/{telemetry.csv,\n"
    "    run.json}. Running the same command again resumes: finished runs are kept.\n"
    "\n"
    "    The workload can mark its inference window by printing 'FREQPILOT_MARK begin' and\n"
    "    'FREQPILOT_MARK end' lines on stdout, or by writing 'begin NAME'/'end NAME' to the\n"
    "    pipe named in $FREQPILOT_MARK_FIFO (what freqpilot.window() of the Python package\n"
    "    does). The window is the first begin to the last end. The workload gets\n"
    "    PYTHONUNBUFFERED=1 unless it is set. A run whose markers arrived together (its\n"
    "    output was buffered) or whose window is shorter than one sample interval is a failed\n"
    "    run, with the reason in its run.json (window_error); failed runs are left out of\n"
    "    the results. Its stdout and stderr are kept in the run folder.\n"
    "\n"
    "    Safety: profile takes the GPU's lease (one freqpilot per GPU at a time, whatever\n"
    "    --state-dir: a lock per GPU UUID in $FREQPILOT_LOCK_DIR, /run/freqpilot/locks as\n"
    "    root); before changing a clock it writes a state file (--state-dir); the clocks\n"
    "    are restored and the file removed on exit, error, SIGINT, SIGTERM and SIGHUP; a\n"
    "    second signal before that restores through 'freqpilot restore'. After a SIGKILL\n"
    "    or a crash the workload dies with freqpilot; run 'freqpilot restore'. Clocks and\n"
    "    power limits outside the GPU's supported range are refused. Locking clocks needs\n"
    "    root (or a driver setting that allows it); --no-clock-control only samples and\n"
    "    never changes a clock, which is safe on a shared or production GPU. A user who is\n"
    "    not root changes clocks through freqpilotd where its socket exists (the first line\n"
    "    on stderr says which way; docs/freqpilotd.md); the service restores them when the\n"
    "    sweep ends, SIGKILL included.\n"
    "\n"
    "    Under sudo, root keeps only the GPU and the state folder: the workload, dcgmi,\n"
    "    sbatch and squeue run as the invoking user (SUDO_UID) with their HOME, USER,\n"
    "    LOGNAME and PATH=/usr/local/bin:/usr/bin:/bin, and the dataset is written by a\n"
    "    process acting as that user, so it is theirs (docs/profile.md, security model).\n"
    "\n"
    "OPTIONS\n"
    "    --gpu INDEX|UUID        GPU to profile (0; sim: V100, A100, H100)\n"
    "    --clocks SPEC           all | 1410,1200,... | MIN:MAX[:STEP] (all); snapped to\n"
    "                            supported clocks, duplicates removed\n"
    "    --runs N                measured runs per clock, 1..1000 (3)\n"
    "    --warmup N              discarded warm-up runs per clock, 0..100 (1), recorded as\n"
    "                            w1, w2...\n"
    "    --interval-ms MS        sampling interval, 1..60000 (50)\n"
    "    --cooldown S            idle seconds after each run (0)\n"
    "    --order ORDER           random | interleaved | descending (random)\n"
    "    --baseline-every N      random order: revisit the highest clock every N runs (10;\n"
    "                            0 = never)\n"
    "    --seed N                seed of the random order and of the simulated GPU (1)\n"
    "    --app NAME              application name in the dataset (the command's name; for\n"
    "                            python3 infer.py and other interpreters the script's:\n"
    "                            infer; the simulated workload's)\n"
    "    --out DATASET           output folder (dataset)\n"
    "    --backend nvml|sim      GPU backend (nvml); sim with a COMMAND: the simulated GPU\n"
    "                            follows the host's clock while it runs\n"
    "    --workload NAME|INI     sim backend: built-in simulated workload (llama, sd, vit,\n"
    "                            whisper, lstm) or an INI file, run in simulated time\n"
    "    --sim-noise off|on|X    sim backend: off = no time, power or reading noise (runs\n"
    "                            follow the simulator's truth), X scales the noise (on)\n"
    "    --no-clock-control      sample only: never change clocks; runs are filed under the\n"
    "                            clock the GPU runs at\n"
    "    --run-timeout S         kill a run's process group after S seconds (none)\n"
    "    --on-failure continue|stop\n"
    "                            after a failed run of the workload (continue)\n"
    "    --force                 take over changes left by a freqpilot that is gone (their\n"
    "                            restore is inherited) / add to a different dataset; never\n"
    "                            a GPU another freqpilot holds, nor a state file or folder\n"
    "                            that fails the ownership checks\n"
    "    --sampler nvml|dcgmi    dcgmi: also run 'dcgmi dmon' for SM/tensor/DRAM activity\n"
    "                            (nvml)\n"
    "    --dcgmi PATH            dcgmi executable (dcgmi in PATH)\n"
    "    --state-dir DIR         clock state files ($FREQPILOT_STATE_DIR or the default, see\n"
    "                            'freqpilot restore --help'); refused under sudo\n"
    "    -h, --help              show this help\n"
    "\n"
    "  Cluster (docs/cluster.md)\n"
    "    --gpu all|0,1,...       one sweep per GPU in parallel into DATASET/gpu<index>, the\n"
    "                            workload with CUDA_VISIBLE_DEVICES=<that GPU's UUID>\n"
    "    --slurm                 submit the sweep as a Slurm job array (sbatch --parsable);\n"
    "                            the script is kept in DATASET/slurm/sweep.sbatch, the job\n"
    "                            ids in DATASET/slurm/jobs.json\n"
    "    --clocks-per-task K     clocks per array task (1); the order within a task is\n"
    "                            shuffled with --seed + task id\n"
    "    --partition P           sbatch --partition\n"
    "    --account A             sbatch --account\n"
    "    --time HH:MM:SS         sbatch --time\n"
    "    --gres SPEC             sbatch --gres, e.g. gpu:1\n"
    "    --array-parallel N      at most N array tasks at once (%N)\n"
    "    --resume                with --slurm: submit only the tasks whose runs are missing\n"
    "    --dry-run               with --slurm: print the script, submit nothing\n"
    "    --sbatch PATH           sbatch executable (sbatch in PATH)\n"
    "    --squeue PATH           squeue executable (squeue in PATH)\n"
    "    --sbatch-arg ARG        extra sbatch argument (repeatable, up to 16)\n"
    "    --slurm-task ID         run array task ID's slice (used by the script)\n"
    "\n"
    "  Adaptive sweep (docs/profile.md)\n"
    "    --strategy full|adaptive\n"
    "                            full: every clock x --runs (full); adaptive: measure the\n"
    "                            top clock, then only the clocks that narrow the optimum of\n"
    "                            --objective under the model's uncertainty, repeating runs\n"
    "                            only where noise matters; stops when the optimum is known\n"
    "                            within --tolerance; writes DATASET/adaptive.json and\n"
    "                            DATASET/curves.json (--warmup: warm-ups per session)\n"
    "    --objective O           adaptive: energy | time | edp | ed2p | ednp:N | cost:ETA\n"
    "                            (energy)\n"
    "    --max-slowdown X        adaptive: slowdown budget against the top clock, 0.05 = 5 %\n"
    "                            (none)\n"
    "    --tolerance X           adaptive: stop when the choice is within X of the optimum\n"
    "                            at 95 % confidence (0.01)\n"
    "    --max-runs N            adaptive: cap on measured runs (30)\n"
    "\n"
    "EXIT STATUS\n"
    "    0 the sweep finished (failed runs of the workload are warned about and recorded in\n"
    "    run.json; --slurm: the array was submitted); 1 failure (GPU or driver error, clocks\n"
    "    not restorable, a write error, --on-failure stop after a failed run); 2 usage\n"
    "    error. On SIGINT, SIGTERM or SIGHUP the clocks are restored, then freqpilot ends by\n"
    "    that signal (a shell shows 128 + its number); the same command resumes the sweep.\n"
    "\n"
    "EXAMPLES\n"
    "    freqpilot profile --backend sim --workload llama --clocks 1410,1005,705 --out ds\n"
    "    freqpilot profile --backend sim --workload vit --strategy adaptive --out ds-adaptive\n"
    "    sudo freqpilot profile --gpu 0 --runs 5 --out ds -- python3 infer.py --batch 8\n"
    "    freqpilot profile --no-clock-control --runs 1 --out ds-observe -- ./bench.sh\n";

enum {
    OPT_GPU = 256,
    OPT_CLOCKS,
    OPT_RUNS,
    OPT_WARMUP,
    OPT_INTERVAL,
    OPT_COOLDOWN,
    OPT_ORDER,
    OPT_BASELINE,
    OPT_SEED,
    OPT_APP,
    OPT_OUT,
    OPT_BACKEND,
    OPT_WORKLOAD,
    OPT_NO_CLOCK,
    OPT_TIMEOUT,
    OPT_ON_FAILURE,
    OPT_FORCE,
    OPT_SAMPLER,
    OPT_DCGMI,
    OPT_STATE_DIR,
    OPT_SIM_NOISE,
    OPT_SLURM,
    OPT_SLURM_TASK,
    OPT_CLOCKS_PER_TASK,
    OPT_PARTITION,
    OPT_ACCOUNT,
    OPT_TIME,
    OPT_GRES,
    OPT_ARRAY_PARALLEL,
    OPT_DRY_RUN,
    OPT_RESUME,
    OPT_SBATCH,
    OPT_SBATCH_ARG,
    OPT_SQUEUE,
    OPT_STRATEGY,
    OPT_OBJECTIVE,
    OPT_MAX_SLOWDOWN,
    OPT_TOLERANCE,
    OPT_MAX_RUNS,
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

static int parse_count(const char *opt, const char *s, long lo, long hi, long *out)
{
    if (cli_parse_long(s, out) || *out < lo || *out > hi)
        return cli_usage_error("profile", "%s %s: expected an integer %ld..%ld", opt, s, lo, hi);
    return 0;
}

int cmd_profile(int argc, char **argv)
{
    if (!in_cluster_child) {
        /* Several GPUs: one child per GPU; a Slurm task: its state file around the sweep. */
        int at = -1;
        const char *gs = find_arg(argc, argv, "gpu", &at);
        if (gs && (strchr(gs, ',') || strcasecmp(gs, "all") == 0))
            return cli_sim_configure_from_env() ? EXIT_FAIL : cluster_gpus(argc, argv, gs, at);
        const char *task = find_arg(argc, argv, "slurm-task", NULL);
        if (task)
            return cluster_task(argc, argv, task);
    }
    static const struct option longopts[] = {
        {"gpu", required_argument, NULL, OPT_GPU},
        {"clocks", required_argument, NULL, OPT_CLOCKS},
        {"runs", required_argument, NULL, OPT_RUNS},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"interval-ms", required_argument, NULL, OPT_INTERVAL},
        {"cooldown", required_argument, NULL, OPT_COOLDOWN},
        {"order", required_argument, NULL, OPT_ORDER},
        {"baseline-every", required_argument, NULL, OPT_BASELINE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"app", required_argument, NULL, OPT_APP},
        {"out", required_argument, NULL, OPT_OUT},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"workload", required_argument, NULL, OPT_WORKLOAD},
        {"no-clock-control", no_argument, NULL, OPT_NO_CLOCK},
        {"run-timeout", required_argument, NULL, OPT_TIMEOUT},
        {"on-failure", required_argument, NULL, OPT_ON_FAILURE},
        {"force", no_argument, NULL, OPT_FORCE},
        {"sampler", required_argument, NULL, OPT_SAMPLER},
        {"dcgmi", required_argument, NULL, OPT_DCGMI},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"sim-noise", required_argument, NULL, OPT_SIM_NOISE},
        {"slurm", no_argument, NULL, OPT_SLURM},
        {"slurm-task", required_argument, NULL, OPT_SLURM_TASK},
        {"clocks-per-task", required_argument, NULL, OPT_CLOCKS_PER_TASK},
        {"partition", required_argument, NULL, OPT_PARTITION},
        {"account", required_argument, NULL, OPT_ACCOUNT},
        {"time", required_argument, NULL, OPT_TIME},
        {"gres", required_argument, NULL, OPT_GRES},
        {"array-parallel", required_argument, NULL, OPT_ARRAY_PARALLEL},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"resume", no_argument, NULL, OPT_RESUME},
        {"sbatch", required_argument, NULL, OPT_SBATCH},
        {"sbatch-arg", required_argument, NULL, OPT_SBATCH_ARG},
        {"squeue", required_argument, NULL, OPT_SQUEUE},
        {"strategy", required_argument, NULL, OPT_STRATEGY},
        {"objective", required_argument, NULL, OPT_OBJECTIVE},
        {"max-slowdown", required_argument, NULL, OPT_MAX_SLOWDOWN},
        {"tolerance", required_argument, NULL, OPT_TOLERANCE},
        {"max-runs", required_argument, NULL, OPT_MAX_RUNS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    fp_sweep_opts o;
    fp_sweep_opts_init(&o);
    fp_adaptive_options ao; /* --strategy adaptive */
    fp_adaptive_options_init(&ao);
    int adaptive = 0;
    const char *adaptive_opt = NULL;
    o.out_dir = "dataset";
    const char *backend = FP_GPU_BACKEND_DEFAULT, *workload = NULL, *seed_s = NULL, *noise = NULL;
    long v;
    double d;
    cluster_opts co = {.task_id = -1, .clocks_per_task = 1};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_print_help(help_text);
            return EXIT_OK;
        case OPT_GPU:
            o.gpu_id = optarg;
            break;
        case OPT_CLOCKS:
            o.clocks = optarg;
            break;
        case OPT_RUNS:
            if (parse_count("--runs", optarg, 1, 1000, &v))
                return EXIT_USAGE;
            o.runs = (int)v;
            break;
        case OPT_WARMUP:
            if (parse_count("--warmup", optarg, 0, 100, &v))
                return EXIT_USAGE;
            o.warmup = (int)v;
            break;
        case OPT_INTERVAL:
            if (parse_count("--interval-ms", optarg, 1, 60000, &v))
                return EXIT_USAGE;
            o.interval_s = (double)v / 1000.0;
            break;
        case OPT_COOLDOWN:
            if (cli_parse_double(optarg, &d) || !(d >= 0) || d > 86400)
                return cli_usage_error("profile", "--cooldown %s: expected seconds >= 0", optarg);
            o.cooldown_s = d;
            break;
        case OPT_ORDER: {
            int ord = fp_sweep_order_from_name(optarg);
            if (ord < 0)
                return cli_usage_error(
                    "profile", "--order %s: expected random, interleaved or descending", optarg);
            o.order = (fp_sweep_order)ord;
            break;
        }
        case OPT_BASELINE:
            if (parse_count("--baseline-every", optarg, 0, 1000000, &v))
                return EXIT_USAGE;
            o.baseline_every = (int)v;
            break;
        case OPT_SEED: {
            char *end;
            unsigned long long s = strtoull(optarg, &end, 0);
            if (!*optarg || *end)
                return cli_usage_error("profile", "--seed %s: expected an unsigned integer",
                                       optarg);
            o.seed = s;
            seed_s = optarg;
            break;
        }
        case OPT_APP:
            o.app = optarg;
            break;
        case OPT_OUT:
            o.out_dir = optarg;
            break;
        case OPT_BACKEND:
            backend = optarg;
            break;
        case OPT_WORKLOAD:
            workload = optarg;
            break;
        case OPT_NO_CLOCK:
            o.no_clock_control = 1;
            break;
        case OPT_TIMEOUT:
            if (cli_parse_double(optarg, &d) || !(d > 0))
                return cli_usage_error("profile", "--run-timeout %s: expected seconds > 0", optarg);
            o.run_timeout_s = d;
            break;
        case OPT_ON_FAILURE:
            if (strcmp(optarg, "stop") == 0)
                o.stop_on_failure = 1;
            else if (strcmp(optarg, "continue") == 0)
                o.stop_on_failure = 0;
            else
                return cli_usage_error("profile", "--on-failure %s: expected continue or stop",
                                       optarg);
            break;
        case OPT_FORCE:
            o.force = 1;
            break;
        case OPT_SAMPLER:
            if (strcmp(optarg, "dcgmi") == 0)
                o.sampler_dcgmi = 1;
            else if (strcmp(optarg, "nvml") != 0)
                return cli_usage_error("profile", "--sampler %s: expected nvml or dcgmi", optarg);
            break;
        case OPT_DCGMI:
            o.dcgmi_path = optarg;
            break;
        case OPT_STATE_DIR:
            if (cli_check_state_dir_option("profile", optarg))
                return EXIT_USAGE;
            o.state_dir = optarg;
            break;
        case OPT_SIM_NOISE:
            if (strcasecmp(optarg, "on") && strcasecmp(optarg, "off") &&
                (cli_parse_double(optarg, &d) || !(d >= 0) || d > 100))
                return cli_usage_error("profile",
                                       "--sim-noise %s: expected off, on or a factor "
                                       "0..100",
                                       optarg);
            noise = optarg;
            break;
        case OPT_STRATEGY:
            if (strcmp(optarg, "adaptive") == 0)
                adaptive = 1;
            else if (strcmp(optarg, "full") == 0)
                adaptive = 0;
            else
                return cli_usage_error("profile", "--strategy %s: expected full or adaptive",
                                       optarg);
            break;
        case OPT_OBJECTIVE: {
            fp_error oe;
            if (fp_objective_parse(optarg, &ao.objective, &oe))
                return cli_usage_error("profile", "--objective %s: %s", optarg, oe.msg);
            adaptive_opt = "--objective";
            break;
        }
        case OPT_MAX_SLOWDOWN:
            if (strcasecmp(optarg, "none") == 0)
                ao.max_slowdown = NAN;
            else if (cli_parse_double(optarg, &d) || !(d >= 0) || d > 100)
                return cli_usage_error("profile",
                                       "--max-slowdown %s: expected a fraction >= 0 (0.05 = 5 "
                                       "%%) or none",
                                       optarg);
            else
                ao.max_slowdown = d;
            adaptive_opt = "--max-slowdown";
            break;
        case OPT_TOLERANCE:
            if (cli_parse_double(optarg, &d) || !(d > 0) || d > 1)
                return cli_usage_error("profile", "--tolerance %s: expected a fraction in (0, 1]",
                                       optarg);
            ao.tolerance = d;
            adaptive_opt = "--tolerance";
            break;
        case OPT_MAX_RUNS:
            if (parse_count("--max-runs", optarg, 5, 100000, &v))
                return EXIT_USAGE;
            ao.max_runs = (int)v;
            adaptive_opt = "--max-runs";
            break;
        case OPT_SLURM:
            co.slurm = 1;
            break;
        case OPT_SLURM_TASK:
            if (parse_count("--slurm-task", optarg, 0, FP_SLURM_MAX_TASKS - 1, &v))
                return EXIT_USAGE;
            co.task_id = (int)v;
            break;
        case OPT_CLOCKS_PER_TASK:
            if (parse_count("--clocks-per-task", optarg, 1, FP_DATASET_MAX_CLOCKS, &v))
                return EXIT_USAGE;
            co.clocks_per_task = (int)v;
            break;
        case OPT_PARTITION:
            co.partition = optarg;
            break;
        case OPT_ACCOUNT:
            co.account = optarg;
            break;
        case OPT_TIME:
            co.time_limit = optarg;
            break;
        case OPT_GRES:
            co.gres = optarg;
            break;
        case OPT_ARRAY_PARALLEL:
            if (parse_count("--array-parallel", optarg, 1, 100000, &v))
                return EXIT_USAGE;
            co.array_parallel = (int)v;
            break;
        case OPT_DRY_RUN:
            co.dry_run = 1;
            break;
        case OPT_RESUME:
            co.resume = 1;
            break;
        case OPT_SBATCH:
            co.sbatch = optarg;
            break;
        case OPT_SQUEUE:
            co.squeue = optarg;
            break;
        case OPT_SBATCH_ARG:
            if (co.n_sbatch_args >= 16)
                return cli_usage_error("profile", "--sbatch-arg: at most 16");
            co.sbatch_args[co.n_sbatch_args++] = optarg;
            break;
        default:
            return cli_usage_error("profile", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (adaptive_opt && !adaptive)
        return cli_usage_error("profile", "%s needs --strategy adaptive", adaptive_opt);
    if (adaptive && (co.slurm || co.task_id >= 0))
        return cli_usage_error("profile", "--strategy adaptive runs as one sweep (each run "
                                          "depends on the previous ones): not with --slurm");
    o.be = fp_gpu_backend_by_name(backend);
    if (!o.be)
        return cli_usage_error("profile", "--backend %s: expected %s", backend,
                               fp_gpu_backend_names());
    int is_sim = o.be->simulated;
    if (optind < argc)
        o.argv = argv + optind;
    fp_sim_workload *wl = NULL;
    if (workload) {
        if (!is_sim)
            return cli_usage_error("profile", "--workload needs --backend sim");
        if (o.argv)
            return cli_usage_error("profile", "give either --workload or -- COMMAND, not both");
        wl = calloc(1, sizeof *wl);
        fp_error err;
        if (!wl || fp_sim_workload_resolve(workload, wl, &err)) {
            cli_error("%s", wl ? err.msg : "out of memory");
            free(wl);
            return EXIT_USAGE;
        }
        o.sim_workload = wl;
    }
    if (!o.argv && !wl) {
        return cli_usage_error("profile", is_sim ? "no workload: give --workload NAME or -- "
                                                   "COMMAND [ARGS...]"
                                                 : "no workload: give -- COMMAND [ARGS...]");
    }
    if (noise && !is_sim)
        return cli_usage_error("profile", "--sim-noise needs --backend sim");
    fp_sim_backend_options sim_opts;
    int rc_env = cli_sim_options_from_env(&sim_opts, noise);
    if (rc_env)
        return rc_env;
    if (is_sim && seed_s && !getenv("FREQPILOT_SIM_SEED"))
        sim_opts.seed = o.seed;
    /* A real command runs in real time: the simulated GPU (its energy counter) follows the
     * host's clock instead of standing still in simulated time. */
    if (is_sim && o.argv && !getenv("FREQPILOT_SIM_REALTIME"))
        sim_opts.realtime = 1;
    fp_sim_backend_configure(&sim_opts);
    if (o.no_clock_control && is_sim)
        cli_info("--no-clock-control on the simulated GPU: runs at its default clocks");

    /* The command line, for the manifest and the state file. */
    char cmdline[2048];
    size_t used = 0;
    cmdline[0] = 0;
    for (int i = 0; i < argc && used < sizeof cmdline; i++)
        used +=
            (size_t)snprintf(cmdline + used, sizeof cmdline - used, "%s%s", i ? " " : "", argv[i]);
    if (o.argv) {
        /* Only the workload's command line: a resume from another directory still matches. */
        used = 0;
        cmdline[0] = 0;
        for (char *const *a = o.argv; *a && used < sizeof cmdline; a++)
            used += (size_t)snprintf(cmdline + used, sizeof cmdline - used, "%s%s",
                                     a == o.argv ? "" : " ", *a);
    }
    o.command_line = cmdline;
    if ((co.resume || co.dry_run) && !co.slurm)
        return cli_usage_error("profile", "--resume and --dry-run go with --slurm (a local "
                                          "sweep resumes by running the same command again)");
    if (co.slurm) {
        /* Submitting needs no root: sbatch, squeue and the script run as the user. */
        if (cli_drop_root()) {
            free(wl);
            return EXIT_FAIL;
        }
        int rc = cluster_submit(&o, &co, argc, argv, optind, longopts);
        free(wl);
        return rc;
    }
    o.task_id = co.task_id;
    o.clocks_per_task = co.clocks_per_task;
    int prc = o.no_clock_control ? 0 : cli_clock_path("profile", o.be);
    if (prc) {
        free(wl);
        return prc;
    }

    cli_diag_state ds = {0};
    o.diag = cli_diag(&ds);
    progress prog = {0};
    o.event = on_event;
    o.tick = on_tick;
    o.user = &prog;

    fp_error err;
    if (fp_clockguard_catch_signals(&err)) {
        cli_error("%s", err.msg);
        free(wl);
        return EXIT_FAIL;
    }
    fp_clockguard_exec_on_second_signal("/proc/self/exe");
    fp_sweep_summary sum;
    fp_adaptive_sweep_result *ares = adaptive ? calloc(1, sizeof *ares) : NULL;
    fp_status st;
    if (adaptive && !ares) {
        st = fp_error_set(&err, FP_ERR_NOMEM, "out of memory");
        memset(&sum, 0, sizeof sum);
    } else if (adaptive) {
        st = fp_adaptive_sweep_run(&o, &ao, ares, &err);
        sum = ares->sweep;
    } else {
        st = fp_sweep_run(&o, &sum, &err);
    }
    cli_progress_stop(prog.bar);
    free(wl);
    if (ares && !st && !sum.interrupted_sig)
        adaptive_summary(ares, &ao);
    free(ares);
    if (sum.interrupted_sig) {
        cli_error("interrupted by signal %d (%s): clocks restored; %zu run(s) finished, the "
                  "interrupted one will be redone when the same command runs again",
                  sum.interrupted_sig, strsignal(sum.interrupted_sig), sum.done);
        fflush(NULL);
        fp_clockguard_reraise(sum.interrupted_sig);
        return EXIT_FAIL;
    }
    fp_clockguard_release_signals();
    if (st) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    /* Say where the data went and what to do next (stderr; -q silences it). */
    if (cli_verbosity >= 1)
        fprintf(stderr,
                "freqpilot profile: %zu run(s) written to %s (%zu already there, %zu failed); "
                "next: freqpilot run %s\n",
                sum.done, sum.dataset, sum.skipped, sum.failed, sum.dataset);
    if (sum.clock_not_held)
        cli_warn("%zu run(s) did not hold the requested clock (clock_not_held in run.json)",
                 sum.clock_not_held);
    if (sum.failed)
        cli_warn("%zu run(s) failed (\"failure\" in their run.json; the workload's output in "
                 "stdout.txt and stderr.txt beside it); failed runs are left out of the results",
                 sum.failed);
    return EXIT_OK;
}
