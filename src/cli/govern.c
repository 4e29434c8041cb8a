/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot govern: dynamic SM clock scaling — replay on the simulated GPU, daemon, train. */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/cli.h"
#include "freqpilot/clockguard.h"
#include "freqpilot/govern.h"
#include "freqpilot/reader.h"
#include "freqpilot/sim.h"

static const char govern_help[] =
    "usage: freqpilot govern replay [--policy P] [--gpu GPU] [--budget X] [--interval-ms N]\n"
    "                               [--switch-latency-ms N] [--bias B] [--seed N]\n"
    "                               [--format table|json] [--trace FILE] WORKLOAD|all|FILE\n"
    "   or: freqpilot govern daemon [--backend nvml|sim] [--gpu N|UUID] [--policy P]\n"
    "                               [--interval-ms 50] [--listen HOST:PORT] [--budget X]\n"
    "                               [--static-clock MHZ | --optimize FILE [--app APP]]\n"
    "                               [--phase-clocks idle=M,compute=M,memory=M,host=M]\n"
    "                               [--f-e MHZ] [--bias B] [--rate-file FIFO]\n"
    "                               [--duration S] [--state-dir DIR] [--force]\n"
    "   or: freqpilot govern train [--sim] [--dataset DIR]... [--window S] [--budget X]\n"
    "                              [-o model.json]\n"
    "\n"
    "Adapts the SM clock online (docs/govern.md). A phase detector classifies the GPU's\n"
    "state as idle, compute-, memory- or host-bound from SM, DRAM and tensor activity,\n"
    "utilisation and power (utilisation alone when activities are absent), with hysteresis\n"
    "and a minimum dwell; a policy turns it into a clock.\n"
    "\n"
    "Policies:\n"
    "   static     one clock (--static-clock, or freq_mhz from an optimize JSON)\n"
    "   activity   GEOPM's law f = f_e + (f_max - f_e) * activity, activity' = a * (1 - bias)\n"
    "   phase      one clock per phase (learned from the model in replay; --phase-clocks)\n"
    "   feedback   the lowest clock keeping the slowdown measured on the workload's rate\n"
    "              (--rate-file: numbers, one per line) within --budget\n"
    "\n"
    "replay   runs WORKLOAD (llama, stablediffusion, vit, whisper, lstm, an INI file, or\n"
    "         all) on the simulated GPU under default clocks, every static clock, activity,\n"
    "         phase and feedback, with the clock-switching latency; prints energy, time,\n"
    "         saving and slowdown against the default clocks and the best static clock\n"
    "         within the budget. --format json: {\"results\": [{workload, gpu, policy,\n"
    "         energy_j, time_s, energy_saving, slowdown, budget, ...}]}. A telemetry file or\n"
    "         DATASET replays its recorded samples through detector and policy (phases and\n"
    "         clock decisions; no energy, recorded runs cannot react to clocks).\n"
    "daemon   the control loop (20..1000 ms) through NVML; clocks restored on exit and on\n"
    "         SIGINT/SIGTERM/SIGHUP (clockguard state file; `freqpilot restore` after a\n"
    "         crash); Prometheus text on http://--listen/metrics (127.0.0.1 only unless\n"
    "         another address is given); clock changes logged at info level (-v).\n"
    "train    the workload predictor: features of the first --window seconds (default 5),\n"
    "         category and starting clock per run, from simulated runs (--sim) and/or\n"
    "         datasets; prints the leave-one-application-out evaluation.\n"
    "\n"
    "Options:\n"
    "   --budget X            allowed slowdown vs default clocks, a fraction (0.05)\n"
    "   --gpu GPU             replay: V100, A100 (default) or H100; daemon: index or UUID\n"
    "   --interval-ms N       control period (replay 50, daemon 50)\n"
    "   --switch-latency-ms N replay: delay before a requested clock holds (30)\n"
    "\n"
    "Examples:\n"
    "   freqpilot govern replay all\n"
    "   freqpilot govern replay --gpu H100 --budget 0.02 --format json llama\n"
    "   sudo freqpilot -v govern daemon --gpu 0 --policy phase --listen 127.0.0.1:9464\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

typedef struct gov_opts {
    const char *policy, *gpu, *format, *trace, *backend, *listen, *optimize, *app;
    const char *phase_clocks, *rate_file, *state_dir, *out;
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
    if (!(o->budget >= 0 && o->budget < 10))
        return cli_usage_error("govern", "--budget %g: expected a fraction >= 0 (0.05 = 5 %%)",
                               o->budget);
    return 0;
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
        fp_policy_learn_phase_clocks_sim(&cfg, g, wl, ro->budget * 0.8, NULL, &err) != FP_OK) {
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

/* A recorded telemetry file or DATASET: the detector and the policy on its samples. */
static int replay_recorded(const gov_opts *o, const char *path)
{
    fp_error err;
    cli_diag_state ds = {0};
    fp_diag diag = cli_diag(&ds);
    fp_ts_options topt = {0, -1, &diag};
    fp_ts_reader *r;
    if (fp_ts_open(path, FP_FMT_AUTO, &topt, &r, &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    const fp_sim_gpu *g = fp_sim_gpu_find(o->gpu ? o->gpu : "A100");
    fp_gpu_info info;
    fp_sim_gpu_info(g ? g : fp_sim_gpu_find("A100"), 0, &info);
    int kind = fp_policy_from_name(o->policy ? o->policy : "phase");
    fp_policy_cfg cfg;
    fp_policy_cfg_init(&cfg, (fp_policy_kind)kind, &info);
    fp_policy pol;
    fp_policy_init(&pol, &cfg, NULL);
    fp_phase_detector det;
    fp_phase_init(&det, NULL);
    double share[FP_PHASE_COUNT] = {0}, clock_sum = 0, last_t = NAN;
    long n = 0, changes = 0;
    unsigned req = 0;
    fp_sample s;
    int rc;
    while ((rc = fp_ts_next(r, &s, &err)) > 0) {
        double t = s.v[FP_COL_T_S];
        if (isnan(t))
            t = n * 0.1;
        int ch = fp_phase_update(&det, t, &s);
        fp_policy_input in = {t, det.current, ch || n == 0, &s, NAN};
        unsigned f = fp_policy_decide(&pol, &in);
        if (f != req)
            changes++;
        req = f;
        double dt = isnan(last_t) ? 0 : t - last_t;
        last_t = t;
        share[det.current] += dt;
        clock_sum += f * dt;
        n++;
    }
    fp_ts_close(r);
    if (rc < 0) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    double total = 0;
    for (int p = 0; p < FP_PHASE_COUNT; p++)
        total += share[p];
    json_t *j = json_object();
    json_object_set_new(j, "input", json_string(path));
    json_object_set_new(j, "policy", json_string(fp_policy_name(cfg.kind)));
    json_object_set_new(j, "samples", json_integer(n));
    json_object_set_new(j, "clock_changes", json_integer(changes));
    json_object_set_new(j, "mean_requested_mhz",
                        total > 0 ? json_real(clock_sum / total) : json_null());
    json_t *sh = json_object();
    for (int p = 0; p < FP_PHASE_COUNT; p++)
        json_object_set_new(sh, fp_phase_name(p), json_real(total > 0 ? share[p] / total : 0));
    json_object_set_new(j, "phase_share", sh);
    json_object_set_new(j, "energy_j", json_null());
    char *txt = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    puts(txt);
    free(txt);
    json_decref(j);
    return EXIT_OK;
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
    const fp_sim_gpu *g = fp_sim_gpu_find(ro.gpu);
    if (!g)
        return cli_usage_error("govern", "--gpu '%s': expected V100, A100 or H100", ro.gpu);
    const char *what = o->positional[0];
    struct stat stt;
    if (!fp_sim_workload_find(what) && strcmp(what, "all") != 0 && stat(what, &stt) == 0 &&
        (S_ISDIR(stt.st_mode) || !strstr(what, ".ini")))
        return replay_recorded(o, what);

    unsigned nwl = strcmp(what, "all") == 0 ? fp_sim_workload_count() : 1;
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
    return rc;
}

/* ---- daemon ---- */

static void daemon_log(void *user, int level, const char *msg)
{
    (void)user;
    if (level <= 1)
        cli_warn("%s", msg);
    else
        cli_info("%s", msg);
}

static int cmd_daemon(gov_opts *o)
{
    if (o->npos)
        return cli_usage_error("govern", "daemon takes no arguments");
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
    d.policy.kind = (fp_policy_kind)kind;
    d.policy.budget = o->budget;
    d.policy.bias = o->bias;
    if (o->has_fe)
        d.policy.f_e_mhz = (unsigned)lround(o->f_e);
    if (o->interval_ms > 0)
        d.interval_s = o->interval_ms / 1000;
    d.duration_s = o->duration;
    d.listen = o->listen;
    d.state_dir = o->state_dir;
    d.force = o->force;
    d.rate_file = o->rate_file;
    d.log = daemon_log;
    fp_error err;
    if (kind == FP_POLICY_STATIC) {
        if (o->has_static) {
            d.policy.static_mhz = (unsigned)lround(o->static_mhz);
        } else if (o->optimize) {
            unsigned f;
            if (fp_policy_static_from_json(o->optimize, NULL, o->app, NAN, &f, &err) != FP_OK) {
                cli_error("%s", err.msg);
                return EXIT_FAIL;
            }
            d.policy.static_mhz = f;
        } else {
            return cli_usage_error("govern", "--policy static needs --static-clock or "
                                             "--optimize");
        }
    }
    if (o->phase_clocks) {
        /* Parsed against a wide table; the daemon snaps to the GPU's clocks. */
        fp_policy_cfg tmp;
        memset(&tmp, 0, sizeof tmp);
        if (fp_policy_parse_phase_clocks(&tmp, o->phase_clocks, &err) != FP_OK)
            return cli_usage_error("govern", "%s", err.msg);
        memcpy(d.policy.phase_mhz, tmp.phase_mhz, sizeof tmp.phase_mhz);
    }
    int sig = 0;
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
        printf("held-out application: category accuracy %.1f %%, starting clock error %.1f %% "
               "of f_max\n",
               100 * ev.category_accuracy, 100 * ev.clock_mae_frac);
        printf("held-out run: category accuracy %.1f %% (the sim has one application per "
               "category, so a held-out application's category is never in the training set)\n",
               100 * ev.category_accuracy_run);
        if (o->out && fp_pred_save(p, o->out, &err) != FP_OK)
            rc = EXIT_FAIL;
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
    if (strcmp(argv[1], "train") == 0)
        return cmd_train(&o);
    return cli_usage_error("govern", "unknown subcommand '%s' (expected replay, daemon or train)",
                           argv[1]);
}
