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
void gov_settings(const gov_opts *o, const fp_policy *p, const char *extra, char *buf, size_t size)
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
int gov_make_policy(const gov_opts *o, const char *name, const fp_gpu_info *info, const char *extra,
                    fp_policy **out)
{
    fp_error err;
    *out = NULL;
    if (fp_policy_new(name, info, out, &err) != FP_OK)
        return cli_usage_error("govern", "--policy: %s", err.msg);
    char set[2048];
    gov_settings(o, *out, extra, set, sizeof set);
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
int gov_phase_clocks_from(const gov_opts *o, const char *gpu, fp_policy *pol, fp_phase_sweep *sw,
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
        return gov_cmd_replay(&o);
    if (strcmp(sub, "daemon") == 0)
        return gov_cmd_daemon(&o);
    /* replay and train never touch a GPU: under sudo they run as the user. */
    if (cli_drop_root())
        return EXIT_FAIL;
    if (strcmp(sub, "train") == 0)
        return cmd_train(&o);
    return cmd_policies(&o);
}
