/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot govern: dynamic SM clock scaling — replay on the simulated GPU, daemon, train. */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/cli.h"
#include "freqpilot/clockguard.h"
#include "freqpilot/dataset.h"
#include "freqpilot/govern.h"
#include "freqpilot/reader.h"
#include "freqpilot/sim.h"
#include "util/asuser.h"
#include "util/input.h"

static const char govern_help[] =
    "NAME\n"
    "    freqpilot govern - adapt the SM clock online: replay, daemon, predictor training\n"
    "\n"
    "SYNOPSIS\n"
    "    freqpilot govern replay [--policy P] [--gpu GPU] [--budget X] [--interval-ms N]\n"
    "                            [--switch-latency-ms N] [--bias B] [--seed N]\n"
    "                            [--format table|json] [--trace FILE]\n"
    "                            [--phase-clocks-from DATASET|MODEL [--app APP]\n"
    "                            [--sweep-gpu NAME]] [--phase-clocks SPEC] [--static-clock MHZ]\n"
    "                            [--f-e MHZ | --predictor FILE] WORKLOAD|all|TELEMETRY|DATASET\n"
    "    freqpilot govern daemon [--backend nvml|sim] [--gpu N|UUID] [--policy P]\n"
    "                            [--interval-ms N] [--listen HOST:PORT] [--budget X]\n"
    "                            [--static-clock MHZ | --optimize FILE [--app APP]]\n"
    "                            [--phase-clocks idle=M,compute=M,memory=M,host=M]\n"
    "                            [--phase-clocks-from DATASET|MODEL [--app APP]\n"
    "                            [--sweep-gpu NAME]] [--f-e MHZ | --predictor FILE] [--bias B]\n"
    "                            [--rate-file FIFO] [--duration S] [--state-dir DIR] [--force]\n"
    "    freqpilot govern train [--sim] [--dataset DIR]... [--window S] [--budget X]\n"
    "                           [-o model.json]\n"
    "\n"
    "DESCRIPTION\n"
    "    Adapts the SM clock online (docs/govern.md). A phase detector classifies the GPU's\n"
    "    state as idle, compute-, memory- or host-bound from SM, DRAM and tensor activity,\n"
    "    utilisation and power (utilisation alone when activities are absent), with\n"
    "    hysteresis and a minimum dwell; a policy turns it into a clock.\n"
    "\n"
    "    Policies (--policy; default, the driver's own clocks, is the reference):\n"
    "    static     one clock (--static-clock, or freq_mhz from an optimize JSON)\n"
    "    activity   GEOPM's law f = f_e + (f_max - f_e) * activity, activity' = a * (1 - bias)\n"
    "    phase      one clock per phase (learned from the model in replay; --phase-clocks)\n"
    "    feedback   the lowest clock keeping the slowdown measured on the workload's rate\n"
    "               (--rate-file: numbers, one per line) within --budget\n"
    "\n"
    "    --phase-clocks-from: per phase class, the clocks minimising the sweep's total energy\n"
    "    with total time within --budget (exact knapsack over classes), from a DATASET, or\n"
    "    the phase_clocks[] a 'govern train -o' model stored for the GPU and --app.\n"
    "\n"
    "    Safety: only the daemon changes clocks. It writes a clockguard state file first and\n"
    "    restores the clocks on exit and on SIGINT, SIGTERM and SIGHUP; after a SIGKILL or a\n"
    "    crash run 'freqpilot restore'. replay and train never touch a GPU.\n"
    "\n"
    "COMMANDS\n"
    "    replay   runs WORKLOAD (llama, stablediffusion, vit, whisper, lstm, an INI file, or\n"
    "             all) on the simulated GPU under default clocks, every static clock,\n"
    "             activity, phase and feedback, with the clock-switching latency; prints\n"
    "             energy, time, saving and slowdown against the default clocks and the best\n"
    "             static clock within the budget (--policy P: only P beside those two).\n"
    "             --format json: {\"results\": [{workload, gpu, policy, energy_j, time_s,\n"
    "             energy_saving, slowdown, budget, ...}]}. A telemetry file or DATASET\n"
    "             replays its recorded samples through detector and policy (phase shares,\n"
    "             clock decisions). Energy and time are only ESTIMATED, and only with a sweep\n"
    "             (the DATASET itself, or --phase-clocks-from DATASET): each sample's class\n"
    "             takes the sweep's time and power ratios between the decided and recorded\n"
    "             clock. A single-clock recording alone gives no energy (\"estimate\": null):\n"
    "             it cannot show how the workload would react to another clock.\n"
    "    daemon   the control loop (20..1000 ms) through NVML; Prometheus text on\n"
    "             http://HOST:PORT/metrics with --listen (127.0.0.1 only unless another\n"
    "             address is given); clock changes logged at info level (-v).\n"
    "    train    the workload predictor: features of the first --window seconds ->\n"
    "             category (the dominant phase class of the window) and starting clock,\n"
    "             k-NN on simulated runs (--sim) and/or DATASETs (runs at the highest swept\n"
    "             clock; target = least-energy swept clock within --budget); prints the\n"
    "             leave-one-application-out evaluation; -o also stores each dataset's phase\n"
    "             clocks (phase_clocks[]) for --phase-clocks-from.\n"
    "\n"
    "OPTIONS\n"
    "    --policy P              default, static, activity, phase or feedback (daemon:\n"
    "                            phase; replay: all of them)\n"
    "    --budget X              allowed slowdown vs default clocks, a fraction (0.05)\n"
    "    --gpu GPU               replay: V100, A100 (default) or H100; daemon: index (0) or\n"
    "                            UUID\n"
    "    --interval-ms N         control period in ms (50)\n"
    "    --switch-latency-ms N   replay: delay before a requested clock holds (30)\n"
    "    --bias B                activity policy: bias of the activity law (0)\n"
    "    --f-e MHZ               activity policy: the energy-efficient clock f_e (replay:\n"
    "                            the best static clock; daemon: 0.64 x f_max)\n"
    "    --static-clock MHZ      static policy: the clock\n"
    "    --optimize FILE         daemon, static policy: freq_mhz from optimize's JSON, a\n"
    "                            deployable recommendation or one keeping the baseline (for\n"
    "                            --app)\n"
    "    --app APP               the application in --optimize or --phase-clocks-from\n"
    "    --phase-clocks SPEC     phase policy: idle=M,compute=M,memory=M,host=M (MHz)\n"
    "    --phase-clocks-from SRC phase policy: clocks from a DATASET sweep or a train MODEL\n"
    "    --sweep-gpu NAME        the GPU of the sweep or model entry to use\n"
    "    --predictor FILE        activity policy: f_e from a 'govern train -o' model, for\n"
    "                            the features of the workload's first window (replay:\n"
    "                            each workload's first seconds at the default clocks;\n"
    "                            daemon: the GPU watched until busy and for that window\n"
    "                            (at most 10 min idle) before governing)\n"
    "    --seed N                replay: simulation seed (the simulator's default)\n"
    "    --format table|json     replay: output format (table)\n"
    "    --trace FILE            replay of one workload: write the per-sample trace as CSV\n"
    "    --backend nvml|sim      daemon: GPU backend (nvml)\n"
    "    --listen HOST:PORT      daemon: serve Prometheus metrics (off)\n"
    "    --rate-file FIFO        daemon, feedback policy: the workload's rate, one number a\n"
    "                            line\n"
    "    --duration S            daemon: stop after S seconds (0: until a signal)\n"
    "    --state-dir DIR         daemon: clock state files ($FREQPILOT_STATE_DIR or the\n"
    "                            default, see 'freqpilot restore --help'); refused\n"
    "                            under sudo\n"
    "    --force                 daemon: start over an unrestored state file\n"
    "    --sim                   train: learn from simulated runs\n"
    "    --dataset DIR           train: learn from a profile DATASET (repeatable, up to 16)\n"
    "    --window S              train: seconds of the run the features use (5)\n"
    "    -o, --output FILE       train: write the model JSON here\n"
    "    -h, --help              show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success (the daemon: --duration reached); 1 failure (NVML or driver error,\n"
    "    unreadable input, a write error); 2 usage error. On SIGINT, SIGTERM or SIGHUP the\n"
    "    daemon restores the clocks, then ends by that signal (a shell shows 128 + its\n"
    "    number).\n"
    "\n"
    "EXAMPLES\n"
    "    freqpilot govern replay all\n"
    "    freqpilot govern replay --gpu H100 --budget 0.02 --format json llama\n"
    "    freqpilot govern train --sim -o model.json\n"
    "    sudo freqpilot -v govern daemon --gpu 0 --policy phase --listen 127.0.0.1:9464\n";

typedef struct gov_opts {
    const char *policy, *gpu, *format, *trace, *backend, *listen, *optimize, *app;
    const char *phase_clocks, *rate_file, *state_dir, *out, *phase_from, *sweep_gpu, *predictor;
    const char *datasets[16];
    int n_datasets, force, sim, has_static, has_fe;
    double budget, interval_ms, latency_ms, bias, static_mhz, duration, window, f_e;
    long seed;
    const char *positional[8];
    int npos;
} gov_opts;

static int parse(int argc, char **argv, gov_opts *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **sv = NULL;
        double *dv = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_print_help(govern_help);
            return -1;
        }
        if (strcmp(a, "--force") == 0) {
            o->force = 1;
            continue;
        }
        if (strcmp(a, "--sim") == 0) {
            o->sim = 1;
            continue;
        }
        if (a[0] != '-') {
            if (o->npos >= 8)
                return cli_usage_error("govern", "too many arguments");
            o->positional[o->npos++] = a;
            continue;
        }
        if (strcmp(a, "--policy") == 0)
            sv = &o->policy;
        else if (strcmp(a, "--gpu") == 0)
            sv = &o->gpu;
        else if (strcmp(a, "--format") == 0)
            sv = &o->format;
        else if (strcmp(a, "--trace") == 0)
            sv = &o->trace;
        else if (strcmp(a, "--backend") == 0)
            sv = &o->backend;
        else if (strcmp(a, "--listen") == 0)
            sv = &o->listen;
        else if (strcmp(a, "--optimize") == 0)
            sv = &o->optimize;
        else if (strcmp(a, "--app") == 0)
            sv = &o->app;
        else if (strcmp(a, "--phase-clocks") == 0)
            sv = &o->phase_clocks;
        else if (strcmp(a, "--phase-clocks-from") == 0)
            sv = &o->phase_from;
        else if (strcmp(a, "--sweep-gpu") == 0)
            sv = &o->sweep_gpu;
        else if (strcmp(a, "--predictor") == 0)
            sv = &o->predictor;
        else if (strcmp(a, "--rate-file") == 0)
            sv = &o->rate_file;
        else if (strcmp(a, "--state-dir") == 0)
            sv = &o->state_dir;
        else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
            sv = &o->out;
        else if (strcmp(a, "--dataset") == 0) {
            if (o->n_datasets >= 16)
                return cli_usage_error("govern", "at most 16 --dataset");
            sv = &o->datasets[o->n_datasets++];
        } else if (strcmp(a, "--budget") == 0)
            dv = &o->budget;
        else if (strcmp(a, "--interval-ms") == 0)
            dv = &o->interval_ms;
        else if (strcmp(a, "--switch-latency-ms") == 0)
            dv = &o->latency_ms;
        else if (strcmp(a, "--bias") == 0)
            dv = &o->bias;
        else if (strcmp(a, "--static-clock") == 0) {
            dv = &o->static_mhz;
            o->has_static = 1;
        } else if (strcmp(a, "--f-e") == 0) {
            dv = &o->f_e;
            o->has_fe = 1;
        } else if (strcmp(a, "--duration") == 0)
            dv = &o->duration;
        else if (strcmp(a, "--window") == 0)
            dv = &o->window;
        else if (strcmp(a, "--seed") == 0) {
            if (i + 1 >= argc || cli_parse_long(argv[i + 1], &o->seed) || o->seed < 0)
                return cli_usage_error("govern", "--seed: expected a non-negative integer");
            i++;
            continue;
        } else
            return cli_usage_error("govern", "unknown option '%s'", a);
        if (i + 1 >= argc)
            return cli_usage_error("govern", "option '%s' needs a value", a);
        const char *v = argv[++i];
        if (sv)
            *sv = v;
        else if (cli_parse_double(v, dv))
            return cli_usage_error("govern", "%s '%s': expected a number", a, v);
    }
    if ((o->has_static && !(o->static_mhz > 0 && o->static_mhz < 1e5)) ||
        (o->has_fe && !(o->f_e > 0 && o->f_e < 1e5)))
        return cli_usage_error("govern", "--static-clock / --f-e: expected a clock in MHz "
                                         "(0 < MHZ < 100000)");
    if (!(o->budget >= 0 && o->budget < 10))
        return cli_usage_error("govern", "--budget %g: expected a fraction >= 0 (0.05 = 5 %%)",
                               o->budget);
    return 0;
}

/*
 * --phase-clocks-from: a DATASET (the sweep is read and the clocks planned for the budget)
 * or a `govern train` model JSON (its phase_clocks[] entry for the GPU and app). sw, when
 * not NULL and the source is a DATASET, receives the sweep.
 */
static int phase_clocks_from(const gov_opts *o, const char *gpu, fp_policy_cfg *cfg,
                             fp_phase_sweep *sw, int *have_sw)
{
    fp_error err;
    cli_diag_state ds = {0};
    fp_diag diag = cli_diag(&ds);
    struct stat st;
    if (have_sw)
        *have_sw = 0;
    if (stat(o->phase_from, &st) == 0 && S_ISDIR(st.st_mode)) {
        fp_phase_sweep *tmp = sw ? sw : malloc(sizeof *tmp);
        if (!tmp) {
            cli_error("out of memory");
            return EXIT_FAIL;
        }
        int rc = EXIT_OK;
        if (fp_phase_sweep_load(o->phase_from, gpu, o->app, NULL, tmp, &diag, &err) != FP_OK ||
            fp_policy_learn_phase_clocks_sweep(cfg, tmp, o->budget, &err) != FP_OK) {
            cli_error("%s", err.msg);
            rc = EXIT_FAIL;
        } else if (have_sw) {
            *have_sw = 1;
        }
        if (!sw)
            free(tmp);
        return rc;
    }
    fp_error jerr;
    json_t *root = fp_json_load_input(o->phase_from, 0, &jerr);
    if (!root) {
        cli_error("%s", jerr.msg);
        return EXIT_FAIL;
    }
    json_t *arr = json_object_get(root, "phase_clocks"), *row, *hit = NULL;
    size_t i, n = 0;
    json_array_foreach(arr, i, row)
    {
        const char *g = json_string_value(json_object_get(row, "gpu"));
        const char *a = json_string_value(json_object_get(row, "app"));
        if ((gpu && (!g || strcasecmp(g, gpu) != 0)) || (o->app && (!a || strcasecmp(a, o->app))))
            continue;
        hit = row;
        n++;
    }
    int rc = EXIT_OK;
    if (n != 1) {
        cli_error("%s: %s phase_clocks entry for gpu %s, app %s (expected exactly one; a "
                  "`govern train --dataset` model, narrowed with --sweep-gpu/--app)",
                  o->phase_from, n ? "more than one" : "no", gpu ? gpu : "(any)",
                  o->app ? o->app : "(any)");
        rc = EXIT_FAIL;
    }
    for (int p = 0; rc == EXIT_OK && p < FP_PHASE_COUNT; p++) {
        json_t *v = json_object_get(hit, fp_phase_name((fp_phase)p));
        if (json_is_number(v) && json_number_value(v) > 0) {
            char spec[64];
            snprintf(spec, sizeof spec, "%s=%.0f", fp_phase_name((fp_phase)p),
                     json_number_value(v));
            if (fp_policy_parse_phase_clocks(cfg, spec, &err) != FP_OK) {
                cli_error("%s: %s", o->phase_from, err.msg);
                rc = EXIT_FAIL;
            }
        }
    }
    json_decref(root);
    return rc;
}

/* ---- replay ---- */

static json_t *result_json(const char *wl, const char *gpu, const fp_replay_result *r)
{
    json_t *j = json_object();
    json_object_set_new(j, "workload", json_string(wl));
    json_object_set_new(j, "gpu", json_string(gpu));
    json_object_set_new(j, "policy", json_string(r->policy));
    json_object_set_new(j, "energy_j", json_real(r->energy_j));
    json_object_set_new(j, "time_s", json_real(r->time_s));
    json_object_set_new(j, "energy_saving", json_real(r->energy_saving));
    json_object_set_new(j, "slowdown", json_real(r->slowdown));
    json_object_set_new(j, "budget", isnan(r->budget) ? json_null() : json_real(r->budget));
    json_object_set_new(j, "within_budget",
                        json_boolean(isnan(r->budget) || r->slowdown <= r->budget + 1e-12));
    json_object_set_new(j, "mean_clock_mhz", json_real(r->mean_clock_mhz));
    json_object_set_new(j, "clock_changes", json_integer(r->clock_changes));
    if (r->static_mhz)
        json_object_set_new(j, "freq_mhz", json_integer(r->static_mhz));
    return j;
}

static int want_row(const gov_opts *o, const fp_replay_result *r)
{
    if (!o->policy)
        return 1;
    return strcmp(r->policy, "default") == 0 || strcmp(r->policy, "static-best") == 0 ||
           strcmp(r->policy, o->policy) == 0;
}

static int write_trace(const gov_opts *o, const fp_sim_workload *wl, const fp_replay_opts *ro)
{
    const fp_sim_gpu *g = fp_sim_gpu_find(ro->gpu);
    fp_gpu_info info;
    fp_sim_gpu_info(g, 0, &info);
    int kind = fp_policy_from_name(o->policy ? o->policy : "phase");
    fp_policy_cfg cfg;
    fp_policy_cfg_init(&cfg, (fp_policy_kind)kind, &info);
    cfg.budget = ro->budget;
    cfg.bias = ro->bias;
    fp_error err;
    if (kind == FP_POLICY_PHASE &&
        (ro->sweep ? fp_policy_learn_phase_clocks_sweep(&cfg, ro->sweep, ro->budget * 0.8, &err)
                   : fp_policy_learn_phase_clocks_sim(&cfg, g, wl, ro->budget * 0.8, NULL, &err)) !=
            FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    fp_replay_opts r2 = *ro;
    r2.keep_trace = 1;
    fp_replay_result res;
    if (fp_replay_run(wl, &cfg, &r2, &res, &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    FILE *f = fopen(o->trace, "w");
    if (!f) {
        cli_error("%s: cannot write the trace", o->trace);
        fp_replay_result_free(&res);
        return EXIT_FAIL;
    }
    fprintf(f, "t_s,requested_mhz,sm_clock_mhz,power_w,phase\n");
    for (size_t i = 0; i < res.n_trace; i++) {
        const fp_replay_point *p = &res.trace[i];
        fprintf(f, "%.3f,%u,%u,%.2f,%s\n", p->t_s, p->requested_mhz, p->sm_clock_mhz, p->power_w,
                fp_phase_name(p->phase));
    }
    fclose(f);
    fp_replay_result_free(&res);
    return EXIT_OK;
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* A telemetry file as a sample source: read as the replay goes, never held in memory. */
typedef struct trace_src {
    fp_ts_reader *r;
    size_t i; /* samples read since the last rewind */
} trace_src;

static int trace_next(void *ctx, fp_sample *s, fp_error *err)
{
    trace_src *t = ctx;
    int rc = fp_ts_next(t->r, s, err);
    if (rc == 1 && isnan(s->v[FP_COL_T_S]))
        s->v[FP_COL_T_S] = (double)t->i * 0.1;
    t->i += rc == 1;
    return rc;
}

static fp_status trace_rewind(void *ctx, fp_error *err)
{
    trace_src *t = ctx;
    t->i = 0;
    return fp_ts_rewind(t->r, err);
}

/*
 * A recorded telemetry file or DATASET: the detector and the policy on its samples, and,
 * with a sweep (the DATASET itself, or --phase-clocks-from DATASET), an energy/time estimate.
 */
static int replay_recorded(const gov_opts *o, const char *path)
{
    struct stat st;
    int is_ds = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    fp_phase_sweep *sw = calloc(1, sizeof *sw);
    int have_sw = 0, rc = EXIT_OK;
    double ws = NAN, we = NAN;
    char trace[1200];
    snprintf(trace, sizeof trace, "%s", path);
    fp_error err;
    cli_diag_state ds = {0};
    fp_diag diag = cli_diag(&ds);
    if (!sw) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    const char *sweep_src = is_ds ? path : (o->phase_from ? o->phase_from : NULL);
    struct stat st2;
    if (sweep_src && !(stat(sweep_src, &st2) == 0 && S_ISDIR(st2.st_mode)))
        sweep_src = NULL; /* a model JSON gives clocks, not a sweep */
    if (sweep_src) {
        if (fp_phase_sweep_load(sweep_src, o->gpu, o->app, NULL, sw, &diag, &err) != FP_OK) {
            cli_error("%s", err.msg);
            free(sw);
            return EXIT_FAIL;
        }
        have_sw = 1;
    }
    if (is_ds) {
        /* The recording replayed: the first measured run at the highest swept clock. */
        char dir[1100];
        fp_run_record rec;
        fp_run_record_init(&rec);
        int found = 0;
        for (int r = 1; r < 100 && !found; r++) {
            snprintf(dir, sizeof dir, "%.400s/%.60s/%.60s/%u/%d/run.json", path, sw->gpu, sw->app,
                     sw->clocks_mhz[0], r);
            found = fp_dataset_read_run_json(dir, &rec, &err) == FP_OK;
        }
        if (!found) {
            cli_error("%s: no measured run at %u MHz of %s on %s", path, sw->clocks_mhz[0], sw->app,
                      sw->gpu);
            free(sw);
            return EXIT_FAIL;
        }
        char *slash = strrchr(dir, '/');
        *slash = 0;
        snprintf(trace, sizeof trace, "%s/%s", dir,
                 rec.telemetry[0] ? rec.telemetry : "telemetry.csv");
        ws = rec.window_start_s;
        we = rec.window_end_s;
    }
    fp_ts_options topt = {0, -1, &diag};
    trace_src ts = {NULL, 0};
    if (fp_ts_open(trace, FP_FMT_AUTO, &topt, &ts.r, &err) != FP_OK) {
        cli_error("%s", err.msg);
        free(sw);
        return EXIT_FAIL;
    }
    fp_sample_source source = {trace_next, trace_rewind, &ts};
    /* Clock table: the sweep's clocks, else the simulated GPU named by --gpu. */
    fp_gpu_info info;
    memset(&info, 0, sizeof info);
    if (have_sw) {
        info.n_graphics_clocks = sw->n_clocks;
        memcpy(info.graphics_clocks_mhz, sw->clocks_mhz, sw->n_clocks * sizeof sw->clocks_mhz[0]);
        info.max_clock_mhz = sw->clocks_mhz[0];
    } else {
        const fp_sim_gpu *g = fp_sim_gpu_find(o->gpu ? o->gpu : "A100");
        fp_sim_gpu_info(g ? g : fp_sim_gpu_find("A100"), 0, &info);
    }
    int kind = fp_policy_from_name(o->policy ? o->policy : "phase");
    fp_policy_cfg cfg;
    fp_policy_cfg_init(&cfg, (fp_policy_kind)kind, &info);
    cfg.budget = o->budget;
    cfg.bias = o->bias;
    if (o->has_static)
        cfg.static_mhz = (unsigned)lround(o->static_mhz);
    if (o->has_fe)
        cfg.f_e_mhz = (unsigned)lround(o->f_e);
    const char *clocks_from = "defaults (compute = f_max, other classes f_e)";
    if (kind == FP_POLICY_PHASE && have_sw) {
        if (fp_policy_learn_phase_clocks_sweep(&cfg, sw, o->budget, &err) != FP_OK) {
            cli_error("%s", err.msg);
            rc = EXIT_FAIL;
        }
        clocks_from = "learned from the sweep";
    } else if (kind == FP_POLICY_PHASE && o->phase_from) {
        rc = phase_clocks_from(o, o->sweep_gpu ? o->sweep_gpu : o->gpu, &cfg, NULL, NULL);
        clocks_from = "from the model file";
    }
    if (kind == FP_POLICY_PHASE && o->phase_clocks && rc == EXIT_OK) {
        if (fp_policy_parse_phase_clocks(&cfg, o->phase_clocks, &err) != FP_OK) {
            cli_error("%s", err.msg);
            rc = EXIT_FAIL;
        }
        clocks_from = "--phase-clocks";
    }
    fp_recorded_result res;
    if (rc == EXIT_OK &&
        fp_replay_recorded_stream(&source, ws, we, &cfg, have_sw ? sw : NULL, &res, &err) !=
            FP_OK) {
        cli_error("%s", err.msg);
        rc = EXIT_FAIL;
    }
    fp_ts_close(ts.r);
    if (rc != EXIT_OK) {
        free(sw);
        return rc;
    }
    json_t *j = json_object();
    json_object_set_new(j, "input", json_string(path));
    json_object_set_new(j, "telemetry", json_string(trace));
    json_object_set_new(j, "policy", json_string(fp_policy_name(cfg.kind)));
    json_object_set_new(j, "budget", json_real(o->budget));
    json_object_set_new(j, "samples", json_integer((json_int_t)res.samples));
    json_object_set_new(j, "clock_changes", json_integer((json_int_t)res.clock_changes));
    json_object_set_new(j, "mean_requested_mhz", jnum(res.mean_requested_mhz));
    if (kind == FP_POLICY_PHASE) {
        json_t *pc = json_object();
        for (int p = 0; p < FP_PHASE_COUNT; p++)
            json_object_set_new(pc, fp_phase_name((fp_phase)p), json_integer(cfg.phase_mhz[p]));
        json_object_set_new(j, "phase_clocks_mhz", pc);
        json_object_set_new(j, "phase_clocks_source", json_string(clocks_from));
    }
    json_t *sh = json_object();
    for (int p = 0; p < FP_PHASE_COUNT; p++)
        json_object_set_new(sh, fp_phase_name((fp_phase)p), json_real(res.share[p]));
    json_object_set_new(j, "phase_share", sh);
    json_object_set_new(j, "recorded",
                        json_pack("{s:o,s:o,s:o,s:s}", "time_s", jnum(res.recorded_time_s),
                                  "energy_j", jnum(res.recorded_energy_j), "clock_mhz",
                                  jnum(res.recorded_clock_mhz), "window",
                                  isnan(ws) ? "whole recording" : "marked inference window"));
    if (res.has_estimate) {
        json_t *e = json_object();
        json_object_set_new(e, "is_estimate", json_true());
        json_object_set_new(e, "model",
                            json_string("per detected class, the sweep's seconds and power at "
                                        "the decided clock relative to the recorded clock "
                                        "(nearest swept clocks); switching latency and "
                                        "detection delay ignored; docs/govern.md"));
        json_object_set_new(e, "sweep",
                            json_pack("{s:s,s:s,s:i}", "gpu", sw->gpu, "app", sw->app, "clocks",
                                      (int)sw->n_clocks));
        json_object_set_new(e, "time_s", jnum(res.est_time_s));
        json_object_set_new(e, "energy_j", jnum(res.est_energy_j));
        json_object_set_new(e, "fmax_time_s", jnum(res.est_fmax_time_s));
        json_object_set_new(e, "fmax_energy_j", jnum(res.est_fmax_energy_j));
        json_object_set_new(e, "energy_saving", jnum(1 - res.est_energy_j / res.est_fmax_energy_j));
        json_object_set_new(e, "slowdown", jnum(res.est_time_s / res.est_fmax_time_s - 1));
        json_object_set_new(j, "estimate", e);
    } else {
        json_object_set_new(j, "estimate", json_null());
        json_object_set_new(j, "estimate_note",
                            json_string("no energy or time estimate: a recording at one clock "
                                        "does not show how the workload reacts to another "
                                        "(give --phase-clocks-from DATASET with a sweep of it)"));
    }
    char *txt = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    puts(txt);
    free(txt);
    json_decref(j);
    free(sw);
    return EXIT_OK;
}

/*
 * --predictor FILE: the predictor `govern train -o` saved (fp_pred_load), for the activity
 * policy's f_e. Usage errors when it cannot be used; 0, else the exit code (printed).
 */
static int predictor_check(const gov_opts *o, int kind)
{
    if (!o->predictor)
        return 0;
    if (o->has_fe)
        return cli_usage_error("govern", "give --f-e or --predictor, not both");
    if (kind != FP_POLICY_ACTIVITY)
        return cli_usage_error("govern", "--predictor sets the activity policy's f_e: it needs "
                                         "--policy activity");
    return 0;
}

static fp_status read_predictor(void *arg, void *ret, fp_error *err)
{
    return fp_pred_load(ret, arg, err);
}

/* Loads --predictor as the user behind sudo (the daemon's inputs are the user's). */
static fp_predictor *load_predictor(const gov_opts *o)
{
    fp_predictor *p = calloc(1, sizeof *p);
    const fp_invoker *who;
    fp_error err;
    if (!p) {
        cli_error("out of memory");
        return NULL;
    }
    if (fp_invoker_get(&who, &err) ||
        fp_invoker_call(who, read_predictor, (void *)o->predictor, p, sizeof *p, &err)) {
        cli_error("%s", err.msg);
        free(p);
        return NULL;
    }
    return p;
}

static int cmd_replay(gov_opts *o)
{
    if (o->npos != 1)
        return cli_usage_error("govern", "replay needs one WORKLOAD, 'all' or a file");
    if (o->policy && fp_policy_from_name(o->policy) < 0)
        return cli_usage_error("govern",
                               "--policy '%s': expected static, activity, phase or "
                               "feedback",
                               o->policy);
    int prc = predictor_check(o, o->policy ? fp_policy_from_name(o->policy) : -1);
    if (prc)
        return prc;
    int json = o->format && strcmp(o->format, "json") == 0;
    if (o->format && !json && strcmp(o->format, "table") != 0)
        return cli_usage_error("govern", "--format '%s': expected table or json", o->format);
    fp_replay_opts ro;
    fp_replay_opts_default(&ro);
    if (o->gpu)
        ro.gpu = o->gpu;
    ro.budget = o->budget;
    ro.bias = o->bias;
    if (o->interval_ms > 0)
        ro.interval_s = o->interval_ms / 1000;
    if (o->latency_ms >= 0)
        ro.switch_latency_s = o->latency_ms / 1000;
    if (o->seed >= 0)
        ro.seed = (uint64_t)o->seed;
    if (o->has_fe)
        ro.f_e_mhz = (unsigned)lround(o->f_e);
    const fp_sim_gpu *g = fp_sim_gpu_find(ro.gpu);
    if (!g)
        return cli_usage_error("govern", "--gpu '%s': expected V100, A100 or H100", ro.gpu);
    const char *what = o->positional[0];
    struct stat stt;
    if (!fp_sim_workload_find(what) && strcmp(what, "all") != 0 && stat(what, &stt) == 0 &&
        (S_ISDIR(stt.st_mode) || !strstr(what, ".ini")))
        return replay_recorded(o, what);

    fp_phase_sweep *sweep = NULL;
    if (o->phase_from) {
        if (!(stat(o->phase_from, &stt) == 0 && S_ISDIR(stt.st_mode)))
            return cli_usage_error("govern", "replay --phase-clocks-from: expected a DATASET");
        sweep = calloc(1, sizeof *sweep);
        fp_error e1;
        cli_diag_state ds1 = {0};
        fp_diag dg1 = cli_diag(&ds1);
        if (!sweep || fp_phase_sweep_load(o->phase_from, ro.gpu, o->app ? o->app : NULL, NULL,
                                          sweep, &dg1, &e1) != FP_OK) {
            cli_error("%s", sweep ? e1.msg : "out of memory");
            free(sweep);
            return EXIT_FAIL;
        }
        ro.sweep = sweep;
    }
    unsigned nwl = strcmp(what, "all") == 0 ? fp_sim_workload_count() : 1;
    fp_predictor *pred = NULL;
    if (o->predictor && !(pred = load_predictor(o))) {
        free(sweep);
        return EXIT_FAIL;
    }
    json_t *arr = json_array();
    int rc = EXIT_OK;
    for (unsigned w = 0; w < nwl && rc == EXIT_OK; w++) {
        fp_sim_workload wl;
        fp_error err;
        if (nwl > 1)
            wl = *fp_sim_workload_at(w);
        else if (fp_sim_workload_resolve(what, &wl, &err) != FP_OK) {
            cli_error("%s", err.msg);
            rc = EXIT_FAIL;
            break;
        }
        if (pred) {
            /* What a governor that starts watching sees: the first seconds at default clocks. */
            double feat[FP_PRED_NFEAT];
            if (fp_pred_features_sim(g, &wl, pred->window_s, ro.seed, feat, &err) != FP_OK) {
                cli_error("%s", err.msg);
                rc = EXIT_FAIL;
                break;
            }
            ro.f_e_mhz = fp_pred_f_e_mhz(pred, feat, fp_sim_gpu_fmax(g));
            cli_info("%s: activity f_e = %u MHz from the predictor %s (first %.1f s)", wl.name,
                     ro.f_e_mhz, o->predictor, pred->window_s);
        }
        fp_replay_result res[5];
        size_t n;
        if (fp_replay_compare(&wl, &ro, res, 5, &n, &err) != FP_OK) {
            cli_error("%s", err.msg);
            rc = EXIT_FAIL;
            break;
        }
        if (json) {
            for (size_t i = 0; i < n; i++)
                if (want_row(o, &res[i]))
                    json_array_append_new(arr, result_json(wl.name, g->short_name, &res[i]));
        } else {
            printf("%s on %s (simulated), budget %.1f %%, control every %.0f ms, switch "
                   "latency %.0f ms\n",
                   wl.name, g->short_name, ro.budget * 100, ro.interval_s * 1000,
                   ro.switch_latency_s * 1000);
            printf("  %-12s %9s %9s %8s %9s %9s %8s\n", "policy", "clock MHz", "energy J", "time s",
                   "saving %", "slowdown %", "changes");
            for (size_t i = 0; i < n; i++) {
                if (!want_row(o, &res[i]))
                    continue;
                char clk[32];
                if (res[i].static_mhz)
                    snprintf(clk, sizeof clk, "%u", res[i].static_mhz);
                else
                    snprintf(clk, sizeof clk, "~%.0f", res[i].mean_clock_mhz);
                printf("  %-12s %9s %9.1f %8.2f %9.1f %10.2f %8u%s\n", res[i].policy, clk,
                       res[i].energy_j, res[i].time_s, 100 * res[i].energy_saving,
                       100 * res[i].slowdown, res[i].clock_changes,
                       !isnan(res[i].budget) && res[i].slowdown > res[i].budget + 1e-12
                           ? "  OVER BUDGET"
                           : "");
            }
            if (w + 1 < nwl)
                printf("\n");
        }
        if (o->trace && nwl == 1)
            rc = write_trace(o, &wl, &ro);
    }
    if (json && rc == EXIT_OK) {
        json_t *root = json_object();
        json_object_set_new(root, "gpu", json_string(g->short_name));
        json_object_set_new(root, "budget", json_real(ro.budget));
        json_object_set_new(root, "interval_s", json_real(ro.interval_s));
        json_object_set_new(root, "switch_latency_s", json_real(ro.switch_latency_s));
        json_object_set_new(root, "results", arr);
        char *txt = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        puts(txt);
        free(txt);
        json_decref(root);
    } else {
        json_decref(arr);
    }
    free(pred);
    free(sweep);
    return rc;
}

/* ---- daemon ---- */

/* The daemon's inputs are read as the user behind sudo (util/asuser.h), then checked
 * against the GPU's supported clocks when it starts (src/govern/daemon.c). */
typedef struct daemon_input {
    const gov_opts *o;
    int which; /* 0 --optimize, 1 --phase-clocks-from */
} daemon_input;

static fp_status read_daemon_input(void *arg, void *ret, fp_error *err)
{
    const daemon_input *in = arg;
    fp_policy_cfg *cfg = ret;
    if (in->which == 0)
        return fp_policy_static_from_json(in->o->optimize, NULL, in->o->app, NAN, &cfg->static_mhz,
                                          err);
    if (phase_clocks_from(in->o, in->o->sweep_gpu, cfg, NULL, NULL) != EXIT_OK)
        return fp_error_set(err, FP_ERR_INVALID, "(reported)");
    return FP_OK;
}

static int daemon_input_as_user(const gov_opts *o, int which, fp_policy_cfg *cfg)
{
    const fp_invoker *who;
    fp_error err;
    daemon_input in = {o, which};
    if (fp_invoker_get(&who, &err) ||
        fp_invoker_call(who, read_daemon_input, &in, cfg, sizeof *cfg, &err)) {
        if (strcmp(err.msg, "(reported)") != 0)
            cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static void daemon_log(void *user, int level, const char *msg)
{
    (void)user;
    if (level <= 1)
        cli_warn("%s", msg);
    else
        cli_info("%s", msg);
}

/*
 * --predictor on the daemon: the GPU is watched, at the clocks it runs, for the predictor's
 * window before the loop starts, and the predicted clock becomes the activity policy's f_e.
 */
#define PREDICT_MAX_WAIT_S 600.0
static int predict_f_e(const gov_opts *o, fp_daemon_opts *d)
{
    fp_predictor *p = load_predictor(o);
    if (!p)
        return EXIT_FAIL;
    const fp_gpu_backend *be = fp_gpu_backend_by_name(d->backend);
    fp_gpu *gpu = NULL;
    fp_gpu_info info;
    double feat[FP_PRED_NFEAT];
    fp_error err;
    int rc = EXIT_FAIL;
    if (!be) {
        cli_usage_error("govern", "--backend: expected %s", fp_gpu_backend_names());
        free(p);
        return EXIT_USAGE;
    }
    if (be->init(&err) == FP_OK) {
        if (be->open(d->gpu ? d->gpu : "0", &gpu, &err) == FP_OK &&
            be->info(gpu, &info, &err) == FP_OK &&
            fp_pred_observe(be, gpu, p->window_s, d->interval_s, PREDICT_MAX_WAIT_S, feat,
                            &err) == FP_OK) {
            unsigned fmax = info.max_clock_mhz ? info.max_clock_mhz : info.graphics_clocks_mhz[0];
            d->policy.f_e_mhz = fp_pred_f_e_mhz(p, feat, fmax);
            cli_info("activity f_e = %u MHz from the predictor %s (GPU busy for %.1f s)",
                     d->policy.f_e_mhz, o->predictor, p->window_s);
            rc = EXIT_OK;
        }
        be->close(gpu);
        be->shutdown();
    }
    if (rc != EXIT_OK)
        cli_error("%s", err.msg);
    free(p);
    return rc;
}

static int cmd_daemon(gov_opts *o)
{
    if (o->npos)
        return cli_usage_error("govern", "daemon takes no arguments");
    if (cli_sim_configure_from_env())
        return EXIT_FAIL;
    fp_daemon_opts d;
    fp_daemon_opts_default(&d);
    if (o->backend)
        d.backend = o->backend;
    if (o->gpu)
        d.gpu = o->gpu;
    int kind = fp_policy_from_name(o->policy ? o->policy : "phase");
    if (kind < 0)
        return cli_usage_error("govern",
                               "--policy '%s': expected default, static, activity, "
                               "phase or feedback",
                               o->policy);
    int prc = predictor_check(o, kind);
    if (prc)
        return prc;
    d.policy.kind = (fp_policy_kind)kind;
    d.policy.budget = o->budget;
    d.policy.bias = o->bias;
    if (o->has_fe)
        d.policy.f_e_mhz = (unsigned)lround(o->f_e);
    if (o->interval_ms > 0)
        d.interval_s = o->interval_ms / 1000;
    d.duration_s = o->duration;
    d.listen = o->listen;
    if (o->state_dir && cli_check_state_dir_option("govern", o->state_dir))
        return EXIT_USAGE;
    d.state_dir = o->state_dir;
    d.force = o->force;
    d.rate_file = o->rate_file;
    d.log = daemon_log;
    fp_error err;
    if (kind == FP_POLICY_STATIC) {
        if (o->has_static) {
            d.policy.static_mhz = (unsigned)lround(o->static_mhz);
        } else if (o->optimize) {
            fp_policy_cfg tmp;
            memset(&tmp, 0, sizeof tmp);
            if (daemon_input_as_user(o, 0, &tmp) != EXIT_OK)
                return EXIT_FAIL;
            d.policy.static_mhz = tmp.static_mhz;
        } else {
            return cli_usage_error("govern", "--policy static needs --static-clock or "
                                             "--optimize");
        }
    }
    if (o->phase_from) {
        /* Learned against a wide table; the daemon snaps to the GPU's clocks. */
        fp_policy_cfg tmp;
        memset(&tmp, 0, sizeof tmp);
        int r = daemon_input_as_user(o, 1, &tmp);
        if (r != EXIT_OK)
            return r;
        memcpy(d.policy.phase_mhz, tmp.phase_mhz, sizeof tmp.phase_mhz);
    }
    if (o->phase_clocks) {
        /* Parsed against a wide table; the daemon snaps to the GPU's clocks. */
        fp_policy_cfg tmp;
        memset(&tmp, 0, sizeof tmp);
        if (fp_policy_parse_phase_clocks(&tmp, o->phase_clocks, &err) != FP_OK)
            return cli_usage_error("govern", "%s", err.msg);
        memcpy(d.policy.phase_mhz, tmp.phase_mhz, sizeof tmp.phase_mhz);
    }
    if (o->predictor && predict_f_e(o, &d) != EXIT_OK)
        return EXIT_FAIL;
    int sig = 0;
    fp_clockguard_exec_on_second_signal("/proc/self/exe");
    fp_status st = fp_daemon_run(&d, &sig, &err);
    if (st != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    if (sig)
        fp_clockguard_reraise(sig);
    return EXIT_OK;
}

/* ---- train ---- */

/* Phase clocks of every (gpu, app) sweep in the datasets, added to the model JSON. */
static int add_phase_clocks(const gov_opts *o, const fp_diag *diag)
{
    json_error_t je;
    json_t *root = json_load_file(o->out, 0, &je);
    fp_phase_sweep *sw = malloc(sizeof *sw);
    if (!root || !sw) {
        cli_error("%s: cannot reread the model", o->out);
        json_decref(root);
        free(sw);
        return EXIT_FAIL;
    }
    json_t *arr = json_array();
    for (int i = 0; i < o->n_datasets; i++) {
        fp_error err;
        /* One dataset per (gpu, app) is the profile layout; others are skipped with a note. */
        if (fp_phase_sweep_load(o->datasets[i], NULL, NULL, NULL, sw, diag, &err) != FP_OK) {
            cli_warn("%s: no phase clocks: %s", o->datasets[i], err.msg);
            continue;
        }
        fp_gpu_info info;
        memset(&info, 0, sizeof info);
        info.n_graphics_clocks = sw->n_clocks;
        memcpy(info.graphics_clocks_mhz, sw->clocks_mhz, sw->n_clocks * sizeof sw->clocks_mhz[0]);
        info.max_clock_mhz = sw->clocks_mhz[0];
        fp_policy_cfg cfg;
        fp_policy_cfg_init(&cfg, FP_POLICY_PHASE, &info);
        if (fp_policy_learn_phase_clocks_sweep(&cfg, sw, o->budget, &err) != FP_OK) {
            cli_warn("%s: %s", o->datasets[i], err.msg);
            continue;
        }
        json_t *e = json_pack("{s:s,s:s,s:f}", "gpu", sw->gpu, "app", sw->app, "budget", o->budget);
        for (int p = 0; p < FP_PHASE_COUNT; p++)
            json_object_set_new(e, fp_phase_name((fp_phase)p), json_integer(cfg.phase_mhz[p]));
        json_array_append_new(arr, e);
        printf("phase clocks %s/%s (budget %.1f %%): idle %u, compute %u, memory %u, host %u "
               "MHz\n",
               sw->gpu, sw->app, o->budget * 100, cfg.phase_mhz[FP_PHASE_IDLE],
               cfg.phase_mhz[FP_PHASE_COMPUTE], cfg.phase_mhz[FP_PHASE_MEMORY],
               cfg.phase_mhz[FP_PHASE_HOST]);
    }
    json_object_set_new(root, "phase_clocks", arr);
    int rc = json_dump_file(root, o->out, JSON_INDENT(1) | JSON_REAL_PRECISION(6)) == 0 ? EXIT_OK
                                                                                        : EXIT_FAIL;
    if (rc != EXIT_OK)
        cli_error("%s: cannot write the model", o->out);
    json_decref(root);
    free(sw);
    return rc;
}

static int cmd_train(gov_opts *o)
{
    if (!o->sim && o->n_datasets == 0)
        return cli_usage_error("govern", "train needs --sim and/or --dataset DIR");
    fp_predictor *p = calloc(1, sizeof *p);
    if (!p) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    double window = o->window > 0 ? o->window : 5;
    fp_error err;
    cli_diag_state ds = {0};
    fp_diag diag = cli_diag(&ds);
    int rc = EXIT_OK;
    if (o->sim && fp_pred_examples_sim(p, 4, window, o->budget, &err) != FP_OK)
        rc = EXIT_FAIL;
    for (int i = 0; rc == EXIT_OK && i < o->n_datasets; i++)
        if (fp_pred_examples_dataset(p, o->datasets[i], window, o->budget, &diag, &err) != FP_OK)
            rc = EXIT_FAIL;
    if (rc == EXIT_OK && p->n == 0) {
        fp_error_set(&err, FP_ERR_INVALID, "train: no usable runs");
        rc = EXIT_FAIL;
    }
    if (rc == EXIT_OK) {
        fp_pred_fit(p);
        fp_pred_eval ev;
        fp_pred_evaluate(p, &ev);
        printf("examples %zu, window %.1f s, budget %.1f %%\n", p->n, window, o->budget * 100);
        printf("category = dominant phase class of the inference window (%zu applications, "
               "%zu categories)\n",
               ev.n_apps, ev.n_categories);
        printf("held-out application: category accuracy %.1f %% (majority-class baseline "
               "%.1f %%), starting clock error %.1f %% of f_max\n",
               100 * ev.category_accuracy, 100 * ev.majority_baseline, 100 * ev.clock_mae_frac);
        printf("held-out run: category accuracy %.1f %%\n", 100 * ev.category_accuracy_run);
        if (o->out && fp_pred_save(p, o->out, &err) != FP_OK)
            rc = EXIT_FAIL;
        if (rc == EXIT_OK && o->out && o->n_datasets)
            rc = add_phase_clocks(o, &diag);
    }
    if (rc != EXIT_OK)
        cli_error("%s", err.msg);
    free(p);
    return rc;
}

int cmd_govern(int argc, char **argv)
{
    gov_opts o;
    memset(&o, 0, sizeof o);
    o.budget = 0.05;
    o.latency_ms = -1;
    o.seed = -1;
    if (argc < 2)
        return cli_usage_error("govern", "expected replay, daemon or train");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print_help(govern_help);
        return EXIT_OK;
    }
    int r = parse(argc, argv, &o);
    if (r < 0)
        return EXIT_OK;
    if (r)
        return r;
    if (strcmp(argv[1], "replay") == 0)
        return cmd_replay(&o);
    if (strcmp(argv[1], "daemon") == 0)
        return cmd_daemon(&o);
    /* replay and train never touch a GPU: under sudo they run as the user. */
    if (cli_drop_root())
        return EXIT_FAIL;
    if (strcmp(argv[1], "train") == 0)
        return cmd_train(&o);
    return cli_usage_error("govern", "unknown subcommand '%s' (expected replay, daemon or train)",
                           argv[1]);
}
