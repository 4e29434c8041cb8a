/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot profile: sweep SM clocks while a workload runs (docs/profile.md). */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/clockguard.h"
#include "freqpilot/sim.h"
#include "profile/sweep.h"

static const char *const help_text =
    "usage: freqpilot profile [OPTIONS] -- COMMAND [ARGS...]\n"
    "       freqpilot profile --backend sim --workload NAME|INI [OPTIONS]\n"
    "\n"
    "Runs COMMAND once per (clock, repetition) with the SM clock locked, samples the GPU on a\n"
    "dedicated thread and writes DATASET/<gpu>/<app>/<MHz>/<run>/{telemetry.csv,run.json}.\n"
    "The clocks are restored on exit, error, SIGINT, SIGTERM and SIGHUP; after a SIGKILL run\n"
    "'freqpilot restore'. Running the same command again resumes: finished runs are kept.\n"
    "\n"
    "Options:\n"
    "   --gpu INDEX|UUID        GPU to profile (0; sim: V100, A100, H100)\n"
    "   --clocks SPEC           all | 1410,1200,... | MIN:MAX[:STEP] (all); snapped to\n"
    "                           supported clocks, duplicates removed\n"
    "   --runs N                measured runs per clock (3)\n"
    "   --warmup N              discarded warm-up runs per clock (1), recorded as w1, w2...\n"
    "   --interval-ms MS        sampling interval (50)\n"
    "   --cooldown S            idle seconds after each run (0)\n"
    "   --order ORDER           random | interleaved | descending (random)\n"
    "   --baseline-every N      random order: revisit the highest clock every N runs (10;\n"
    "                           0 = never)\n"
    "   --seed N                seed of the random order and of the simulated GPU (1)\n"
    "   --app NAME              application name in the dataset (command or workload name)\n"
    "   --out DATASET           output folder (dataset)\n"
    "   --backend nvml|sim      GPU backend (nvml)\n"
    "   --workload NAME|INI     sim backend: built-in simulated workload (llama, sd, vit,\n"
    "                           whisper, lstm) or an INI file, run in simulated time\n"
    "   --sim-noise off|on|X    sim backend: off = no time, power or reading noise (runs\n"
    "                           follow the simulator's truth), X scales the noise (on)\n"
    "   --no-clock-control      sample only: never change clocks; runs are filed under the\n"
    "                           clock the GPU runs at\n"
    "   --run-timeout S         kill a run's process group after S seconds (none)\n"
    "   --on-failure continue|stop   after a failed run (continue)\n"
    "   --force                 start over an unrestored state file / a different dataset\n"
    "   --sampler nvml|dcgmi    dcgmi: also run 'dcgmi dmon' for SM/tensor/DRAM activity\n"
    "   --dcgmi PATH            dcgmi executable (dcgmi in PATH)\n"
    "   --state-dir DIR         clock state files ($FREQPILOT_STATE_DIR or the default)\n"
    "\n"
    "The workload can mark its inference window by printing 'FREQPILOT_MARK begin' and\n"
    "'FREQPILOT_MARK end' lines on stdout, or by writing 'begin'/'end' to the pipe named in\n"
    "$FREQPILOT_MARK_FIFO. Its stdout and stderr are kept in the run folder.\n";

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

static int parse_count(const char *opt, const char *s, long lo, long hi, long *out)
{
    if (cli_parse_long(s, out) || *out < lo || *out > hi)
        return cli_usage_error("profile", "%s %s: expected an integer %ld..%ld", opt, s, lo, hi);
    return 0;
}

int cmd_profile(int argc, char **argv)
{
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    fp_sweep_opts o;
    fp_sweep_opts_init(&o);
    o.out_dir = "dataset";
    const char *backend = "nvml", *workload = NULL, *seed_s = NULL, *noise = NULL;
    long v;
    double d;
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
        default:
            return cli_usage_error("profile", "unknown option '%s'", argv[optind - 1]);
        }
    }
    o.be = fp_gpu_backend_by_name(backend);
    if (!o.be)
        return cli_usage_error("profile", "--backend %s: expected nvml or sim", backend);
    int is_sim = strcasecmp(backend, "sim") == 0;
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
    if (is_sim && seed_s && !getenv("FREQPILOT_SIM_SEED"))
        setenv("FREQPILOT_SIM_SEED", seed_s, 1);
    if (noise && !is_sim)
        return cli_usage_error("profile", "--sim-noise needs --backend sim");
    if (noise) /* the sim backend reads it when the GPU is opened */
        setenv("FREQPILOT_SIM_NOISE", noise, 1);
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
    fp_sweep_summary sum;
    fp_status st = fp_sweep_run(&o, &sum, &err);
    cli_progress_stop(prog.bar);
    free(wl);
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
    cli_info("%s: %zu run(s) done, %zu already done, %zu failed, %zu clock_not_held", sum.dataset,
             sum.done, sum.skipped, sum.failed, sum.clock_not_held);
    if (sum.failed)
        cli_warn("%zu run(s) of the workload failed; see stderr.txt in their folders", sum.failed);
    return EXIT_OK;
}
