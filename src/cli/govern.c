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
#include "cli/govern_cli.h"
#include "freqpilot/clockguard.h"
#include "freqpilot/dataset.h"
#include "freqpilot/govern.h"
#include "freqpilot/reader.h"
#include "freqpilot/sim.h"
#include "util/asuser.h"
#include "util/input.h"

static cli_section govern_sections[] = {
    {"POLICIES (--policy; default, the driver's own clocks, is the reference)", NULL},
    {"COMMANDS",
     "replay   runs WORKLOAD (llama, stablediffusion, vit, whisper, lstm, an INI file, or\n"
     "         all) on the simulated GPU under default clocks, every static clock,\n"
     "         activity, phase and feedback, with the clock-switching latency; prints\n"
     "         energy, time, saving and slowdown against the default clocks and the best\n"
     "         static clock within the budget (--policy P: only P beside those two).\n"
     "         --format json: {\"results\": [{workload, gpu, policy, energy_j, time_s,\n"
     "         energy_saving, slowdown, budget, ...}]}. A telemetry file or DATASET\n"
     "         replays its recorded samples through detector and policy (phase shares,\n"
     "         clock decisions). Energy and time are only ESTIMATED, and only with a sweep\n"
     "         (the DATASET itself, or --phase-clocks-from DATASET): each sample's class\n"
     "         takes the sweep's time and power ratios between the decided and recorded\n"
     "         clock. A single-clock recording alone gives no energy (\"estimate\": null):\n"
     "         it cannot show how the workload would react to another clock.\n"
     "         --serving TRACE (t_s,prompt_tokens,output_tokens or the Azure LLM\n"
     "         inference trace's TIMESTAMP,ContextTokens,GeneratedTokens; 'freqpilot sim\n"
     "         trace' makes one) serves the requests on a simulated LLaMA-7B server under\n"
     "         every policy and every static clock: energy per token and per request,\n"
     "         p50/p99 TTFT and TBT, SLO attainment and whether each meets the SLO, against\n"
     "         the best static clock meeting the same SLO and the default clocks.\n"
     "daemon   the control loop (20..1000 ms) through NVML; Prometheus text on\n"
     "         http://HOST:PORT/metrics with --listen (127.0.0.1 only unless another\n"
     "         address is given); clock changes logged at info level (-v). With\n"
     "         --engine-metrics the serving engine's Prometheus endpoint on this host is\n"
     "         scraped every interval for the slo policy.\n"
     "policies the registered policies, each with its settings (--set KEY=VALUE) and\n"
     "         their defaults on the simulated --gpu (A100)\n"
     "train    the workload predictor: features of the first --window seconds ->\n"
     "         category (the dominant phase class of the window) and starting clock,\n"
     "         k-NN on simulated runs (--sim) and/or DATASETs (runs at the highest swept\n"
     "         clock; target = least-energy swept clock within --budget); prints the\n"
     "         leave-one-application-out evaluation; -o also stores each dataset's phase\n"
     "         clocks (phase_clocks[]) for --phase-clocks-from.\n"},
    {NULL, NULL},
};

const cli_command govern_cmd = {
    .name = "govern",
    .summary = "adapt the SM clock online: replay, daemon, predictor training",
    .synopsis =
        "freqpilot govern replay [--policy P] [--gpu GPU] [--budget X] [--interval-ms N]\n"
        "                        [--switch-latency-ms N] [--bias B] [--seed N]\n"
        "                        [--format table|json] [--trace FILE]\n"
        "                        [--phase-clocks-from DATASET|MODEL [--app APP]\n"
        "                        [--sweep-gpu NAME]] [--phase-clocks SPEC] [--static-clock MHZ]\n"
        "                        [--f-e MHZ | --predictor FILE] WORKLOAD|all|TELEMETRY|DATASET\n"
        "freqpilot govern replay --serving TRACE [--slo ttft=2s,tbt=100ms[,attainment=0.99]]\n"
        "                        [--gpu GPU] [--policy P] [--set KEY=VALUE,...]\n"
        "                        [--interval-ms N] [--switch-latency-ms N] [--budget X]\n"
        "                        [--max-batch N] [--chunk-tokens N] [--latency-model FILE]\n"
        "                        [--save-latency-model FILE] [--format table|json] [-o FILE]\n"
        "                        [--trace FILE] [--requests FILE]\n"
        "freqpilot govern daemon [--backend nvml|sim] [--gpu N|UUID] [--policy P]\n"
        "                        [--interval-ms N] [--listen HOST:PORT] [--budget X]\n"
        "                        [--static-clock MHZ | --optimize FILE [--app APP]]\n"
        "                        [--phase-clocks idle=M,compute=M,memory=M,host=M]\n"
        "                        [--phase-clocks-from DATASET|MODEL [--app APP]\n"
        "                        [--sweep-gpu NAME]] [--f-e MHZ | --predictor FILE] [--bias B]\n"
        "                        [--rate-file FIFO] [--engine-metrics URL]\n"
        "                        [--engine-map KEY=METRIC,...] [--set KEY=VALUE,...]\n"
        "                        [--duration S] [--state-dir DIR] [--force]\n"
        "freqpilot govern train [--sim] [--dataset DIR]... [--window S] [--budget X]\n"
        "                       [-o model.json]\n"
        "freqpilot govern policies [--gpu GPU]\n",
    .description =
        "Adapts the SM clock online (docs/govern.md). A phase detector classifies the GPU's\n"
        "state as idle, compute-, memory- or host-bound from SM, DRAM and tensor activity,\n"
        "utilisation and power (utilisation alone when activities are absent), with\n"
        "hysteresis and a minimum dwell; a policy turns it into a clock.\n"
        "\n"
        "--phase-clocks-from: per phase class, the clocks minimising the sweep's total energy\n"
        "with total time within --budget (exact knapsack over classes), from a DATASET, or\n"
        "the phase_clocks[] a 'govern train -o' model stored for the GPU and --app.\n"
        "\n"
        "Safety: only the daemon changes clocks. It writes a clockguard state file first and\n"
        "restores the clocks on exit and on SIGINT, SIGTERM and SIGHUP; after a SIGKILL or a\n"
        "crash run 'freqpilot restore'. replay and train never touch a GPU. Run by a user\n"
        "who is not root where freqpilotd listens, its clock changes go through the service,\n"
        "which restores them when the daemon ends however it ends (docs/freqpilotd.md).\n",
    .sections = govern_sections,
    .exit_status =
        "0 success (the daemon: --duration reached); 1 failure (NVML or driver error,\n"
        "unreadable input, a write error); 2 usage error. On SIGINT, SIGTERM or SIGHUP the\n"
        "daemon restores the clocks, then ends by that signal (a shell shows 128 + its\n"
        "number).\n",
    .subcommands = (const char *const[]){"replay", "daemon", "train", "policies", NULL},
    .examples = "freqpilot govern replay all\n"
                "freqpilot govern replay --gpu H100 --budget 0.02 --format json llama\n"
                "freqpilot govern train --sim -o model.json\n"
                "freqpilot sim trace --duration 3600 --peak 3.8 -o day.csv\n"
                "freqpilot govern replay --serving day.csv --slo ttft=2s,tbt=100ms\n"
                "sudo freqpilot -v govern daemon --gpu 0 --policy phase --listen 127.0.0.1:9464\n",
};

/*
 * The settings the options give policy p: --f-e, --budget, --bias and --static-clock where
 * p has them, then extra (learned phase clocks), --phase-clocks (phase) and --set verbatim.
 */
static void cli_settings(const gov_opts *o, const fp_policy *p, const char *extra, char *buf,
                         size_t size)
{
    size_t n = 0;
    buf[0] = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (n < size)                                                                              \
            n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__);                                 \
    } while (0)
    if (o->has_fe)
        ADD("%sf_e=%.17g", n ? "," : "", o->f_e);
    if (fp_policy_has(p, "budget"))
        ADD("%sbudget=%.17g", n ? "," : "", o->budget);
    if (fp_policy_has(p, "bias"))
        ADD("%sbias=%.17g", n ? "," : "", o->bias);
    if (o->has_static && fp_policy_has(p, "clock"))
        ADD("%sclock=%.17g", n ? "," : "", o->static_mhz);
    if (extra && *extra)
        ADD("%s%s", n ? "," : "", extra);
    if (o->phase_clocks && fp_policy_has(p, "compute"))
        ADD("%s%s", n ? "," : "", o->phase_clocks);
    if (o->set)
        ADD("%s%s", n ? "," : "", o->set);
#undef ADD
}

/* Policy name for info's clocks (NULL: no table yet), configured from the options. */
static int make_policy(const gov_opts *o, const char *name, const fp_gpu_info *info,
                       const char *extra, fp_policy **out)
{
    fp_error err;
    *out = NULL;
    if (fp_policy_new(name, info, out, &err) != FP_OK)
        return cli_usage_error("govern", "--policy: %s", err.msg);
    char set[2048];
    cli_settings(o, *out, extra, set, sizeof set);
    if (fp_policy_configure(*out, set, &err) != FP_OK) {
        fp_policy_free(*out);
        *out = NULL;
        return cli_usage_error("govern", "%s", err.msg);
    }
    return EXIT_OK;
}

/*
 * --phase-clocks-from: a DATASET (the sweep is read and the clocks planned for the budget)
 * or a `govern train` model JSON (its phase_clocks[] entry for the GPU and app). sw, when
 * not NULL and the source is a DATASET, receives the sweep.
 */
static int phase_clocks_from(const gov_opts *o, const char *gpu, fp_policy *pol, fp_phase_sweep *sw,
                             int *have_sw)
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
            fp_policy_learn_phase_clocks_sweep(pol, tmp, o->budget, &err) != FP_OK) {
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
            if (fp_policy_configure(pol, spec, &err) != FP_OK) {
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
    fp_policy *pol;
    int rc = make_policy(o, o->policy ? o->policy : "phase", &info, NULL, &pol);
    if (rc != EXIT_OK)
        return rc;
    fp_error err;
    if (strcmp(fp_policy_name(pol), "phase") == 0 &&
        (ro->sweep ? fp_policy_learn_phase_clocks_sweep(pol, ro->sweep, ro->budget * 0.8, &err)
                   : fp_policy_learn_phase_clocks_sim(pol, g, wl, ro->budget * 0.8, NULL, &err)) !=
            FP_OK) {
        cli_error("%s", err.msg);
        fp_policy_free(pol);
        return EXIT_FAIL;
    }
    fp_replay_opts r2 = *ro;
    r2.keep_trace = 1;
    fp_replay_result res;
    fp_status st = fp_replay_run(wl, pol, &r2, &res, &err);
    fp_policy_free(pol);
    if (st != FP_OK) {
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
    fp_policy *pol;
    if ((rc = make_policy(o, o->policy ? o->policy : "phase", &info, NULL, &pol)) != EXIT_OK) {
        fp_ts_close(ts.r);
        free(sw);
        return rc;
    }
    int is_phase = strcmp(fp_policy_name(pol), "phase") == 0;
    const char *clocks_from = "defaults (compute = f_max, other classes f_e)";
    if (is_phase && have_sw) {
        if (fp_policy_learn_phase_clocks_sweep(pol, sw, o->budget, &err) != FP_OK) {
            cli_error("%s", err.msg);
            rc = EXIT_FAIL;
        }
        clocks_from = "learned from the sweep";
    } else if (is_phase && o->phase_from) {
        rc = phase_clocks_from(o, o->sweep_gpu ? o->sweep_gpu : o->gpu, pol, NULL, NULL);
        clocks_from = "from the model file";
    }
    if (is_phase && o->phase_clocks && rc == EXIT_OK) {
        /* given clocks win over learned ones */
        if (fp_policy_configure(pol, o->phase_clocks, &err) != FP_OK) {
            cli_error("%s", err.msg);
            rc = EXIT_FAIL;
        }
        clocks_from = "--phase-clocks";
    }
    fp_recorded_result res;
    if (rc == EXIT_OK &&
        fp_replay_recorded_stream(&source, ws, we, pol, have_sw ? sw : NULL, &res, &err) != FP_OK) {
        cli_error("%s", err.msg);
        rc = EXIT_FAIL;
    }
    fp_ts_close(ts.r);
    if (rc != EXIT_OK) {
        fp_policy_free(pol);
        free(sw);
        return rc;
    }
    json_t *j = json_object();
    json_object_set_new(j, "input", json_string(path));
    json_object_set_new(j, "telemetry", json_string(trace));
    json_object_set_new(j, "policy", json_string(fp_policy_name(pol)));
    json_object_set_new(j, "budget", json_real(o->budget));
    json_object_set_new(j, "samples", json_integer((json_int_t)res.samples));
    json_object_set_new(j, "clock_changes", json_integer((json_int_t)res.clock_changes));
    json_object_set_new(j, "mean_requested_mhz", jnum(res.mean_requested_mhz));
    if (is_phase) {
        json_t *pc = json_object();
        for (int p = 0; p < FP_PHASE_COUNT; p++)
            json_object_set_new(
                pc, fp_phase_name((fp_phase)p),
                json_integer((json_int_t)fp_policy_get_num(pol, fp_phase_name((fp_phase)p))));
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
    fp_policy_free(pol);
    free(sw);
    return EXIT_OK;
}

/*
 * --predictor FILE: the predictor `govern train -o` saved (fp_pred_load), for the activity
 * policy's f_e. 0 when it can be used, else the exit code (printed).
 */
static int predictor_check(const gov_opts *o)
{
    if (!o->predictor)
        return 0;
    if (o->has_fe)
        return cli_usage_error("govern", "give --f-e or --predictor, not both");
    if (!o->policy || strcasecmp(o->policy, "activity") != 0)
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
    if (o->policy && !fp_policy_find(o->policy))
        return cli_usage_error("govern", "--policy '%s': expected %s", o->policy,
                               fp_policy_names());
    int json = o->format && strcmp(o->format, "json") == 0;
    if (o->format && !json && strcmp(o->format, "table") != 0)
        return cli_usage_error("govern", "--format '%s': expected table or json", o->format);
    int prc = predictor_check(o);
    if (prc)
        return prc;
    if (o->serving && o->predictor)
        return cli_usage_error("govern", "--predictor is for workload replays, not --serving");
    if (o->serving)
        return govern_replay_serving(o, json);
    if (o->npos != 1)
        return cli_usage_error("govern", "replay needs one WORKLOAD, 'all' or a file");
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
 * against the GPU's supported clocks when it starts (the policy's settings, src/govern). */
typedef struct daemon_input {
    const gov_opts *o;
    int which; /* 0 --optimize, 1 --phase-clocks-from */
} daemon_input;

/* What comes back from the user's side: plain numbers (0 = not given). */
typedef struct daemon_clocks {
    unsigned static_mhz;
    unsigned phase_mhz[FP_PHASE_COUNT];
} daemon_clocks;

static fp_status read_daemon_input(void *arg, void *ret, fp_error *err)
{
    const daemon_input *in = arg;
    daemon_clocks *c = ret;
    memset(c, 0, sizeof *c);
    if (in->which == 0)
        return fp_policy_static_from_json(in->o->optimize, NULL, in->o->app, NAN, &c->static_mhz,
                                          err);
    /* learned against no clock table; the daemon checks and snaps them on the GPU's */
    fp_policy *p;
    fp_status st = fp_policy_new("phase", NULL, &p, err);
    if (st != FP_OK)
        return st;
    if (phase_clocks_from(in->o, in->o->sweep_gpu, p, NULL, NULL) != EXIT_OK)
        st = fp_error_set(err, FP_ERR_INVALID, "(reported)");
    for (int k = 0; st == FP_OK && k < FP_PHASE_COUNT; k++) {
        double v = fp_policy_get_num(p, fp_phase_name((fp_phase)k));
        c->phase_mhz[k] = v > 0 ? (unsigned)lround(v) : 0;
    }
    fp_policy_free(p);
    return st;
}

static int daemon_input_as_user(const gov_opts *o, int which, daemon_clocks *c)
{
    const fp_invoker *who;
    fp_error err;
    daemon_input in = {o, which};
    if (fp_invoker_get(&who, &err) ||
        fp_invoker_call(who, read_daemon_input, &in, c, sizeof *c, &err)) {
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
 * --predictor on the daemon: the GPU is watched, at the clocks it runs, until it has been busy
 * for the predictor's window, before the loop starts; the predicted clock becomes the activity
 * policy's f_e ("f_e=MHZ" in its settings).
 */
#define PREDICT_MAX_WAIT_S 600.0
static int predict_f_e(const gov_opts *o, char *extra, size_t size)
{
    fp_predictor *p = load_predictor(o);
    if (!p)
        return EXIT_FAIL;
    fp_daemon_opts d;
    fp_daemon_opts_default(&d);
    const fp_gpu_backend *be = fp_gpu_backend_by_name(o->backend ? o->backend : d.backend);
    fp_gpu *gpu = NULL;
    fp_gpu_info info;
    double feat[FP_PRED_NFEAT];
    double interval_s = o->interval_ms > 0 ? o->interval_ms / 1000 : d.interval_s;
    fp_error err;
    int rc = EXIT_FAIL;
    if (be && be->init(&err) == FP_OK) {
        if (be->open(o->gpu ? o->gpu : d.gpu, &gpu, &err) == FP_OK &&
            be->info(gpu, &info, &err) == FP_OK &&
            fp_pred_observe(be, gpu, p->window_s, interval_s, PREDICT_MAX_WAIT_S, feat, &err) ==
                FP_OK) {
            unsigned fmax = info.max_clock_mhz ? info.max_clock_mhz : info.graphics_clocks_mhz[0];
            unsigned f_e = fp_pred_f_e_mhz(p, feat, fmax);
            size_t n = strlen(extra);
            snprintf(extra + n, size - n, "%sf_e=%u", n ? "," : "", f_e);
            cli_info("activity f_e = %u MHz from the predictor %s (GPU busy for %.1f s)", f_e,
                     o->predictor, p->window_s);
            rc = EXIT_OK;
        }
        be->close(gpu);
        be->shutdown();
    }
    if (rc != EXIT_OK)
        cli_error("%s", be ? err.msg : "no such backend");
    free(p);
    return rc;
}

static int cmd_daemon(gov_opts *o)
{
    if (o->npos)
        return cli_usage_error("govern", "daemon takes no arguments");
    if (o->state_dir && cli_check_state_dir_option("govern", o->state_dir))
        return EXIT_USAGE;
    int prc = predictor_check(o);
    if (prc)
        return prc;
    if (cli_sim_configure_from_env())
        return EXIT_FAIL;
    if (o->engine_map && !o->engine_metrics)
        return cli_usage_error("govern", "--engine-map needs --engine-metrics");
    fp_error err;
    if (o->engine_metrics) { /* checked here: a bad URL or map is a usage error */
        fp_engine_scraper *scr;
        if (fp_engine_scraper_new(o->engine_metrics, o->engine_map, &scr, &err) != FP_OK)
            return cli_usage_error("govern", "%s", err.msg);
        fp_engine_scraper_free(scr);
    }
    /*
     * The settings are checked here (usage errors) against no clock table; the daemon checks
     * the clocks against the GPU's range and snaps them when it starts, before any change.
     */
    const char *name = o->policy ? o->policy : "phase";
    fp_policy *probe;
    int rc = make_policy(o, name, NULL, NULL, &probe);
    if (rc != EXIT_OK)
        return rc;
    char extra[256] = "";
    daemon_clocks dc;
    if (strcmp(fp_policy_name(probe), "static") == 0 && !o->has_static) {
        if (!o->optimize)
            rc = cli_usage_error("govern", "--policy static needs --static-clock or --optimize");
        else if ((rc = daemon_input_as_user(o, 0, &dc)) == EXIT_OK)
            snprintf(extra, sizeof extra, "clock=%u", dc.static_mhz);
    }
    if (rc == EXIT_OK && o->phase_from && strcmp(fp_policy_name(probe), "phase") == 0 &&
        (rc = daemon_input_as_user(o, 1, &dc)) == EXIT_OK) {
        size_t n = 0;
        for (int k = 0; k < FP_PHASE_COUNT && n < sizeof extra; k++)
            if (dc.phase_mhz[k])
                n += (size_t)snprintf(extra + n, sizeof extra - n, "%s%s=%u", n ? "," : "",
                                      fp_phase_name((fp_phase)k), dc.phase_mhz[k]);
    }
    if (rc == EXIT_OK && o->predictor)
        rc = predict_f_e(o, extra, sizeof extra);
    static char settings[2048];
    if (rc == EXIT_OK) {
        cli_settings(o, probe, extra, settings, sizeof settings);
        fp_policy_free(probe);
        /* the extra settings too are checked before the GPU is opened */
        if ((rc = make_policy(o, name, NULL, extra, &probe)) != EXIT_OK)
            return rc;
    }
    fp_policy_free(probe);
    if (rc != EXIT_OK)
        return rc;
    fp_daemon_opts d;
    fp_daemon_opts_default(&d);
    if (o->backend)
        d.backend = o->backend;
    if (o->gpu)
        d.gpu = o->gpu;
    d.policy = name;
    d.settings = settings;
    if (o->interval_ms > 0)
        d.interval_s = o->interval_ms / 1000;
    d.duration_s = o->duration;
    d.listen = o->listen;
    d.state_dir = o->state_dir;
    d.force = o->force;
    d.rate_file = o->rate_file;
    d.engine_metrics = o->engine_metrics;
    d.engine_map = o->engine_map;
    d.log = daemon_log;
    const fp_gpu_backend *be =
        fp_gpu_backend_by_name(d.backend ? d.backend : FP_GPU_BACKEND_DEFAULT);
    int path_rc = be ? cli_clock_path("govern daemon", be) : 0;
    if (path_rc)
        return path_rc;
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
        fp_policy *pol;
        if (fp_policy_new("phase", &info, &pol, &err) != FP_OK ||
            fp_policy_learn_phase_clocks_sweep(pol, sw, o->budget, &err) != FP_OK) {
            cli_warn("%s: %s", o->datasets[i], err.msg);
            fp_policy_free(pol);
            continue;
        }
        unsigned mhz[FP_PHASE_COUNT];
        for (int p = 0; p < FP_PHASE_COUNT; p++)
            mhz[p] = (unsigned)fp_policy_get_num(pol, fp_phase_name((fp_phase)p));
        fp_policy_free(pol);
        json_t *e = json_pack("{s:s,s:s,s:f}", "gpu", sw->gpu, "app", sw->app, "budget", o->budget);
        for (int p = 0; p < FP_PHASE_COUNT; p++)
            json_object_set_new(e, fp_phase_name((fp_phase)p), json_integer(mhz[p]));
        json_array_append_new(arr, e);
        printf("phase clocks %s/%s (budget %.1f %%): idle %u, compute %u, memory %u, host %u "
               "MHz\n",
               sw->gpu, sw->app, o->budget * 100, mhz[FP_PHASE_IDLE], mhz[FP_PHASE_COMPUTE],
               mhz[FP_PHASE_MEMORY], mhz[FP_PHASE_HOST]);
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

/* ---- policies ---- */

static int cmd_policies(const gov_opts *o)
{
    if (o->npos)
        return cli_usage_error("govern", "policies takes no arguments");
    const fp_sim_gpu *g = fp_sim_gpu_find(o->gpu ? o->gpu : "A100");
    if (!g)
        return cli_usage_error("govern", "--gpu '%s': expected V100, A100 or H100", o->gpu);
    fp_gpu_info info;
    fp_sim_gpu_info(g, 0, &info);
    for (size_t i = 0; i < fp_policy_count(); i++) {
        const fp_policy_ops *ops = fp_policy_at(i);
        fp_policy *p;
        fp_error err;
        if (fp_policy_new(ops->name, &info, &p, &err) != FP_OK) {
            cli_error("%s", err.msg);
            return EXIT_FAIL;
        }
        if (i == 0)
            printf("Settings with their defaults on the simulated %s. Every policy also takes\n"
                   "f_e=MHZ, the energy-efficient clock its defaults derive from (here %u).\n",
                   g->short_name, p->f_e_mhz);
        printf("\n%-10s %s\n", ops->name, ops->summary);
        for (const fp_policy_tunable *t = ops->tunables; t->name; t++) {
            char v[FP_TUNE_STR_MAX + 32];
            double x = fp_policy_get_num(p, t->name);
            if (t->type == FP_TUNE_STR)
                snprintf(v, sizeof v, "%s=%s", t->name, (const char *)p + t->offset);
            else if (t->type == FP_TUNE_SECONDS)
                snprintf(v, sizeof v, "%s=%gs", t->name, x);
            else
                snprintf(v, sizeof v, "%s=%g", t->name, x);
            printf("    %-22s %s\n", v, t->help);
        }
        fp_policy_free(p);
    }
    return EXIT_OK;
}

/* The POLICIES section and --policy's help, from the policy registry (policies.def). */
static void describe_policies(char *help, size_t help_size)
{
    static char text[4096];
    size_t n = 0;
    for (size_t i = 0; i < fp_policy_count() && n < sizeof text; i++) {
        const fp_policy_ops *ops = fp_policy_at(i);
        n += (size_t)snprintf(text + n, sizeof text - n, "%-12s %s\n", ops->name, ops->summary);
    }
    if (n < sizeof text)
        snprintf(text + n, sizeof text - n,
                 "'freqpilot govern policies' lists the settings of each (--set KEY=VALUE).\n");
    govern_sections[0].body = text;
    snprintf(help, help_size,
             "a registered policy: %s ('govern policies'; daemon: phase; replay: all of them)",
             fp_policy_names());
}

int cmd_govern(int argc, char **argv)
{
    char policy_help[512], backends[512];
    describe_policies(policy_help, sizeof policy_help);
    gov_opts o;
    memset(&o, 0, sizeof o);
    o.budget = 0.05;
    o.latency_ms = -1;
    o.seed = -1;
    size_t ndatasets = 0;
    const cli_option opts[] = {
        CLI_STRING("policy", &o.policy, "P", policy_help),
        CLI_DOUBLE("budget", &o.budget, "X", "a fraction (0.05 = 5 %)", "[0, 10)",
                   "allowed slowdown vs default clocks, a fraction (0.05)"),
        CLI_STRING("gpu", &o.gpu, "GPU",
                   "replay: V100, A100 (default) or H100; daemon: index (0) or UUID"),
        {.type = CLI_OPT_DOUBLE,
         .long_name = "interval-ms",
         .value = &o.interval_ms,
         .argh = "N",
         .seen = &o.has_interval,
         .help = "control period in ms (50; replay --serving: 500)"},
        CLI_DOUBLE("switch-latency-ms", &o.latency_ms, "N", NULL, NULL,
                   "replay: delay before a requested clock holds (30)"),
        CLI_DOUBLE("bias", &o.bias, "B", NULL, NULL,
                   "activity policy: bias of the activity law (0)"),
        {.type = CLI_OPT_DOUBLE,
         .long_name = "f-e",
         .value = &o.f_e,
         .argh = "MHZ",
         .what = "a clock in MHz",
         .range = "(0, 100000)",
         .seen = &o.has_fe,
         .help = "activity policy: the energy-efficient clock f_e (replay: the best static "
                 "clock; daemon: 0.64 x f_max)"},
        CLI_STRING("predictor", &o.predictor, "FILE",
                   "activity policy: f_e from a 'govern train -o' model, for the features of "
                   "the workload's first window (replay: each workload's first seconds at the "
                   "default clocks; daemon: the GPU watched until busy and for that window, at "
                   "most 10 min idle, before governing)"),
        {.type = CLI_OPT_DOUBLE,
         .long_name = "static-clock",
         .value = &o.static_mhz,
         .argh = "MHZ",
         .what = "a clock in MHz",
         .range = "(0, 100000)",
         .seen = &o.has_static,
         .help = "static policy: the clock"},
        CLI_STRING("optimize", &o.optimize, "FILE",
                   "daemon, static policy: freq_mhz from optimize's JSON, a deployable "
                   "recommendation or one keeping the baseline (for --app)"),
        CLI_STRING("app", &o.app, "APP", "the application in --optimize or --phase-clocks-from"),
        CLI_STRING("phase-clocks", &o.phase_clocks, "SPEC",
                   "phase policy: idle=M,compute=M,memory=M,host=M (MHz)"),
        CLI_STRING("set", &o.set, "KEY=VALUE[,...]",
                   "settings of the policy (its tunables: 'freqpilot govern policies'); after "
                   "the options above, so they win"),
        CLI_STRING("phase-clocks-from", &o.phase_from, "SRC",
                   "phase policy: clocks from a DATASET sweep or a train MODEL"),
        CLI_STRING("sweep-gpu", &o.sweep_gpu, "NAME", "the GPU of the sweep or model entry to use"),
        CLI_LONG("seed", &o.seed, "N", ">= 0", "replay: simulation seed (the simulator's default)"),
        CLI_STRING("format", &o.format, "table|json", "replay: output format (table)"),
        CLI_OUTFILE("trace", &o.trace, "FILE",
                    "replay of one workload: write the per-sample trace as CSV; --serving: the "
                    "slo (or --policy) clock every interval"),
        CLI_STRING("serving", &o.serving, "TRACE",
                   "replay: serve this request trace (see replay above)"),
        CLI_STRING("slo", &o.slo, "SPEC",
                   "--serving: ttft=DURATION,tbt=DURATION[,attainment=SHARE] "
                   "(ttft=2s,tbt=100ms,attainment=0.99)"),
        CLI_OUTFILE("requests", &o.requests, "FILE",
                    "--serving: per-request CSV of the slo (or --policy) run"),
        CLI_DOUBLE("max-batch", &o.max_batch, "N", NULL, NULL,
                   "--serving: requests in a batch at most (256)"),
        CLI_DOUBLE("chunk-tokens", &o.chunk_tokens, "N", NULL, NULL,
                   "--serving: tokens per step at most (512)"),
        CLI_STRING("latency-model", &o.latency_model, "FILE",
                   "--serving: the slo policy's latency model (the simulator's)"),
        CLI_OUTFILE("save-latency-model", &o.save_latency_model, "FILE",
                    "--serving: write the simulator's latency model of --gpu (for the daemon's "
                    "--set model=FILE)"),
        CLI_CALLBACK("backend", &o.backend, "NAME", NULL, cli_opt_backend,
                     cli_backend_help("daemon: the GPU backend; ", backends, sizeof backends)),
        CLI_STRING("listen", &o.listen, "HOST:PORT", "daemon: serve Prometheus metrics (off)"),
        CLI_STRING("rate-file", &o.rate_file, "FIFO",
                   "daemon, feedback policy: the workload's rate, one number a line"),
        CLI_STRING("engine-metrics", &o.engine_metrics, "URL",
                   "daemon, slo policy: the serving engine's Prometheus endpoint, "
                   "http://127.0.0.1:PORT/metrics (this host only)"),
        CLI_STRING("engine-map", &o.engine_map, "SPEC",
                   "daemon: metric names, KEY=NAME,... (vLLM's by default; keys in "
                   "docs/govern.md, 'Daemon: serving signals')"),
        CLI_DOUBLE("duration", &o.duration, "S", "seconds", ">= 0",
                   "daemon: stop after S seconds (0: until a signal)"),
        CLI_STRING("state-dir", &o.state_dir, "DIR",
                   "daemon: clock state files ($FREQPILOT_STATE_DIR or the default, see "
                   "'freqpilot restore --help'); refused under sudo"),
        CLI_FLAG("force", &o.force, "daemon: start over an unrestored state file"),
        CLI_FLAG("sim", &o.sim, "train: learn from simulated runs"),
        CLI_LIST("dataset", o.datasets, &ndatasets, 16, "DIR",
                 "train: learn from a profile DATASET (repeatable, up to 16)"),
        CLI_DOUBLE("window", &o.window, "S", "seconds", ">= 0",
                   "train: seconds of the run the features use (5)"),
        CLI_OUTPUT(&o.out, "train: write the model JSON here; replay --serving: the table or "
                           "JSON (stdout)"),
        CLI_END,
    };
    static const char *const subs[] = {"replay", "daemon", "train", "policies"};
    const char *sub = argc > 1 ? argv[1] : "";
    int known = 0;
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        known |= strcmp(sub, subs[i]) == 0;
    if (known) {
        argc--;
        argv++;
    } else if (sub[0] != '-') {
        return argc < 2 ? cli_usage_error("govern", "expected replay, daemon, train or policies")
                        : cli_usage_error("govern",
                                          "unknown subcommand '%s' (expected replay, daemon, "
                                          "train or policies)",
                                          sub);
    }
    int rc, npos = cli_parse_options(&govern_cmd, opts, argc, argv, &rc);
    if (npos < 0)
        return rc;
    if (!known)
        return cli_usage_error("govern", "expected replay, daemon, train or policies");
    if (npos > 8)
        return cli_usage_error("govern", "too many arguments");
    o.n_datasets = (int)ndatasets;
    o.npos = npos;
    for (int i = 0; i < npos; i++)
        o.positional[i] = argv[i];
    if (strcmp(sub, "replay") == 0)
        return cmd_replay(&o);
    if (strcmp(sub, "daemon") == 0)
        return cmd_daemon(&o);
    /* replay and train never touch a GPU: under sudo they run as the user. */
    if (cli_drop_root())
        return EXIT_FAIL;
    if (strcmp(sub, "train") == 0)
        return cmd_train(&o);
    return cmd_policies(&o);
}
