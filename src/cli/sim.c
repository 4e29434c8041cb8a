/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot sim: the simulated GPU's ground truth and simulated runs. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "freqpilot/serving.h"
#include "freqpilot/sim.h"

static const cli_section sim_sections[] = {
    {"COMMANDS",
     "list      the simulated GPUs (clocks, memory clock, limit, idle power) and the\n"
     "          built-in workloads with their phases\n"
     "optimum   the true optimal supported SM clock for an objective: prints the clock\n"
     "          in MHz, or with --json: freq_mhz, baseline_mhz, time_s, energy_j,\n"
     "          power_w, slowdown and energy_saving (fractions against the maximum clock)\n"
     "curve     the noise-free CSV freq_mhz,time_s,energy_j,power_w,edp,ed2p over every\n"
     "          supported clock (inference window, steady temperature)\n"
     "run       one simulated run with the clock locked: telemetry.csv on stdout (or\n"
     "          -o), columns as docs/formats.md (an empty cell = not available); the\n"
     "          inference window and the true energy go to stderr with -v\n"
     "trace     a synthetic LLM request trace (docs/simulated-gpu.md, 'LLM serving'):\n"
     "          Poisson arrivals whose rate follows a day, trough at the start and peak\n"
     "          at half the period, lognormal prompt and output lengths; CSV\n"
     "          t_s,prompt_tokens,output_tokens for 'govern replay --serving'\n"},
    {NULL, NULL},
};

const cli_command sim_cmd = {
    .name = "sim",
    .summary = "simulated GPU: true optimum, curves, simulated runs, request traces",
    .synopsis =
        "freqpilot sim list\n"
        "freqpilot sim optimum --gpu GPU --workload W --objective OBJ [--max-slowdown X]\n"
        "                      [--json]\n"
        "freqpilot sim curve --gpu GPU --workload W [-o FILE]\n"
        "freqpilot sim run --gpu GPU --workload W --clock MHZ [--seed N] [--run-position N]\n"
        "                  [--interval S] [--drift X] [--cold-start X] [--no-noise]\n"
        "                  [--power-limit W] [-o telemetry.csv]\n"
        "freqpilot sim trace [--duration S] [--peak R] [--trough R] [--period S]\n"
        "                    [--prompt-mean N] [--output-mean N] [--sigma X] [--seed N]\n"
        "                    [-o trace.csv]\n",
    .description =
        "The simulated GPU (docs/simulated-gpu.md): clock tables and limits of real V100,\n"
        "A100 and H100 NVL parts, a voltage/frequency power model and workloads made of\n"
        "phases. Its ground truth is known, which is what tests and comparisons use. No real\n"
        "GPU is touched.\n",
    .sections = sim_sections,
    .exit_status =
        "0 success; 1 failure (a workload that cannot be loaded, a write error); 2 usage\n"
        "error (also no subcommand, an unknown GPU or objective).\n",
    .subcommands = (const char *const[]){"optimum", "curve", "run", "trace", "list", NULL},
    .examples =
        "freqpilot sim list\n"
        "freqpilot sim optimum --gpu H100 --workload llama --objective edp\n"
        "freqpilot sim optimum --gpu A100 --workload sd --objective energy --max-slowdown 0.05 \\\n"
        "    --json\n"
        "freqpilot sim run --gpu A100 --workload whisper --clock 1005 --seed 7 -o t.csv\n"
        "freqpilot sim trace --duration 3600 --peak 3.8 --trough 0.95 -o day.csv\n",
};

typedef struct sim_opts {
    const char *gpu, *workload, *objective, *out;
    double max_slowdown, clock, interval, drift, cold_start, power_limit;
    double duration, peak, trough, period, prompt_mean, output_mean, sigma;
    int has_peak, has_trough;
    long seed, run_position;
    int json, no_noise, has_seed;
} sim_opts;

static int need_gpu_wl(const sim_opts *o, const fp_sim_gpu **g, fp_sim_workload *wl)
{
    if (!o->gpu || !o->workload)
        return cli_usage_error("sim", "--gpu and --workload are required");
    *g = fp_sim_gpu_find(o->gpu);
    if (!*g)
        return cli_usage_error("sim", "unknown GPU '%s' (expected V100, A100 or H100)", o->gpu);
    fp_error err = {0};
    if (fp_sim_workload_resolve(o->workload, wl, &err)) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return 0;
}

static FILE *open_out(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        cli_error("cannot write %s: %m", path);
    return f;
}

static int close_out(FILE *f, const char *path)
{
    if (f == stdout)
        return fflush(f) == 0 ? EXIT_OK : EXIT_FAIL;
    if (fclose(f) != 0) {
        cli_error("writing %s failed", path);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int sim_list(void)
{
    printf("GPUs:\n");
    for (unsigned i = 0; i < fp_sim_gpu_count(); i++) {
        const fp_sim_gpu *g = fp_sim_gpu_at(i);
        printf("  %-5s %-24s %3u clocks %u..%u MHz, memory %u MHz, limit %.0f W, idle %.0f W\n",
               g->short_name, g->name, g->n_clocks, g->clocks_mhz[g->n_clocks - 1],
               g->clocks_mhz[0], g->mem_clock_mhz, g->power_limit_w, g->idle_power_w);
    }
    printf("Workloads:\n");
    for (unsigned i = 0; i < fp_sim_workload_count(); i++) {
        const fp_sim_workload *w = fp_sim_workload_at(i);
        printf("  %-16s %s\n", w->name, w->description);
    }
    return EXIT_OK;
}

static int sim_optimum(const sim_opts *o)
{
    const fp_sim_gpu *g;
    fp_sim_workload wl;
    int rc = need_gpu_wl(o, &g, &wl);
    if (rc)
        return rc;
    if (!o->objective)
        return cli_usage_error("sim", "--objective is required (%s)", fp_objective_syntax());
    fp_objective obj;
    fp_error perr;
    if (fp_objective_parse(o->objective, &obj, &perr))
        return cli_usage_error("sim", "%s", perr.msg);
    if (!isnan(o->max_slowdown) && o->max_slowdown < 0)
        return cli_usage_error("sim", "--max-slowdown: expected a fraction >= 0");
    fp_error err = {0};
    fp_sim_optimum_result r;
    if (fp_sim_optimum(g, &wl, &obj, o->max_slowdown, NULL, &r, &err)) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    if (!o->json) {
        printf("%u\n", r.freq_mhz);
        return EXIT_OK;
    }
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:o, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "gpu", g->short_name,
        "app", wl.name, "objective", obj.name, "max_slowdown",
        isnan(o->max_slowdown) ? json_null() : json_real(o->max_slowdown), "freq_mhz",
        (int)r.freq_mhz, "baseline_mhz", (int)r.baseline_mhz, "time_s", r.time_s, "energy_j",
        r.energy_j, "power_w", r.power_w, "baseline_time_s", r.baseline_time_s, "baseline_energy_j",
        r.baseline_energy_j, "slowdown", r.slowdown, "energy_saving", r.energy_saving);
    if (!j) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    putchar('\n');
    json_decref(j);
    return EXIT_OK;
}

static int sim_curve(const sim_opts *o)
{
    const fp_sim_gpu *g;
    fp_sim_workload wl;
    int rc = need_gpu_wl(o, &g, &wl);
    if (rc)
        return rc;
    FILE *f = open_out(o->out);
    if (!f)
        return EXIT_FAIL;
    fprintf(f, "freq_mhz,time_s,energy_j,power_w,edp,ed2p\n");
    for (unsigned i = 0; i < g->n_clocks; i++) {
        double t, e, p;
        fp_error err = {0};
        if (fp_sim_expected(g, &wl, g->clocks_mhz[i], &t, &e, &p, &err)) {
            cli_error("%s", err.msg);
            if (f != stdout)
                fclose(f);
            return EXIT_FAIL;
        }
        fprintf(f, "%u,%.6f,%.6f,%.6f,%.6f,%.6f\n", g->clocks_mhz[i], t, e, p, e * t, e * t * t);
    }
    return close_out(f, o->out);
}

static int write_sample(void *user, const fp_sample *s)
{
    FILE *f = user;
    for (int c = 0; c < FP_COL_COUNT; c++) {
        if (c)
            fputc(',', f);
        if (!isnan(s->v[c]))
            fprintf(f, "%.10g", s->v[c]);
    }
    fputc('\n', f);
    return ferror(f) ? 1 : 0;
}

static int sim_run(const sim_opts *o)
{
    const fp_sim_gpu *g;
    fp_sim_workload wl;
    int rc = need_gpu_wl(o, &g, &wl);
    if (rc)
        return rc;
    if (!(o->clock > 0))
        return cli_usage_error("sim", "--clock MHZ is required (a positive number)");
    if (!(o->interval > 0) || o->interval > 60)
        return cli_usage_error("sim", "--interval: expected 0 < S <= 60");
    fp_sim_run_opts ro;
    fp_sim_run_opts_default(&ro);
    ro.clock_mhz = o->clock;
    ro.interval_s = o->interval;
    ro.run_position = (unsigned)o->run_position;
    ro.power_limit_w = o->power_limit;
    if (o->has_seed)
        ro.knobs.seed = (uint64_t)o->seed;
    ro.knobs.drift_per_run = o->drift;
    ro.knobs.cold_start = o->cold_start;
    if (o->no_noise)
        ro.knobs.time_noise = ro.knobs.power_noise = ro.knobs.sample_noise = 0;
    FILE *f = open_out(o->out);
    if (!f)
        return EXIT_FAIL;
    for (int c = 0; c < FP_COL_COUNT; c++)
        fprintf(f, "%s%s", c ? "," : "", fp_col_name(c));
    fputc('\n', f);
    fp_error err = {0};
    fp_sim_run_result r;
    if (fp_sim_run(g, &wl, &ro, write_sample, f, &r, &err)) {
        cli_error("%s", err.msg);
        if (f != stdout)
            fclose(f);
        return EXIT_FAIL;
    }
    cli_info("inference window %.3f..%.3f s (%.3f s), energy %.3f J, clock %u -> %u MHz%s",
             r.infer_start_s, r.infer_end_s, r.time_s, r.energy_j, r.requested_mhz, r.reached_mhz,
             r.throttled ? ", power capped" : "");
    return close_out(f, o->out);
}

static int sim_trace(const sim_opts *o)
{
    fp_arrival_opts ao;
    fp_arrival_opts_default(&ao);
    if (o->duration != 0)
        ao.duration_s = o->duration;
    if (o->has_peak)
        ao.peak_rps = o->peak;
    if (o->has_trough)
        ao.trough_rps = o->trough;
    else
        ao.trough_rps = ao.peak_rps / 4;
    ao.period_s = o->period;
    if (o->prompt_mean != 0)
        ao.prompt_mean = o->prompt_mean;
    if (o->output_mean != 0)
        ao.output_mean = o->output_mean;
    if (o->sigma != 0)
        ao.sigma = o->sigma;
    if (o->has_seed)
        ao.seed = (uint64_t)o->seed;
    if (o->out && cli_check_output("sim", "-o", o->out))
        return EXIT_USAGE;
    fp_request_list l;
    fp_error err;
    if (fp_arrivals_generate(&ao, &l, &err) != FP_OK)
        return cli_usage_error("sim", "%s", err.msg);
    fp_status st = fp_serving_trace_write(o->out ? o->out : "-", &l, &err);
    cli_info("%zu requests over %.0f s, %.3g..%.3g requests/s", l.n, ao.duration_s, ao.trough_rps,
             ao.peak_rps);
    fp_request_list_free(&l);
    if (st != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cmd_sim(int argc, char **argv)
{
    sim_opts o;
    memset(&o, 0, sizeof o);
    o.max_slowdown = NAN;
    o.interval = 0.05;
    const cli_option opts[] = {
        CLI_STRING("gpu", &o.gpu, "GPU",
                   "V100, A100 or H100 (also sim:A100, NVIDIA A100-PCIE-40GB)"),
        CLI_STRING("workload", &o.workload, "W",
                   "llama, stablediffusion (sd), vit, whisper, lstm or an INI file"),
        CLI_STRING("objective", &o.objective, "OBJ",
                   "energy, time, edp (energy x time), ed2p (energy x time^2), ednp:N or "
                   "cost:ETA (P_max = the GPU's power limit), as for freqpilot optimize"),
        CLI_DOUBLE("max-slowdown", &o.max_slowdown, "X", NULL, NULL,
                   "optimum: allowed slowdown against the maximum clock, a fraction (0.05 = "
                   "5 %); default none"),
        CLI_FLAG("json", &o.json, "optimum: print a JSON object"),
        CLI_DOUBLE("clock", &o.clock, "MHZ", NULL, NULL,
                   "run: requested clock (locked; the reached clock is the highest supported "
                   "clock <= MHZ, lower when the power cap bites)"),
        {.type = CLI_OPT_LONG,
         .long_name = "seed",
         .value = &o.seed,
         .argh = "N",
         .range = ">= 0",
         .seen = &o.has_seed,
         .help = "run: noise seed (default 20250709; same seed, same series)"},
        CLI_LONG("run-position", &o.run_position, "N", ">= 0",
                 "run: position in a sweep (0 = first: cold start when enabled; default 0)"),
        CLI_DOUBLE("interval", &o.interval, "S", "seconds", "(0, 60]",
                   "run: sampling interval in seconds, 0 < S <= 60 (default 0.05)"),
        CLI_DOUBLE("drift", &o.drift, "X", NULL, NULL,
                   "run: relative slowdown per sweep position (default 0)"),
        CLI_DOUBLE("cold-start", &o.cold_start, "X", NULL, NULL,
                   "run: extra time fraction of run position 0 (default 0)"),
        CLI_FLAG("no-noise", &o.no_noise, "run: no run-to-run or sample noise"),
        CLI_DOUBLE("power-limit", &o.power_limit, "W", NULL, NULL,
                   "run: power limit in watts (default the GPU's)"),
        CLI_DOUBLE("duration", &o.duration, "S", NULL, NULL, "trace: seconds of arrivals (3600)"),
        {.type = CLI_OPT_DOUBLE,
         .long_name = "peak",
         .value = &o.peak,
         .argh = "R",
         .seen = &o.has_peak,
         .help = "trace: requests per second at the peak (8)"},
        {.type = CLI_OPT_DOUBLE,
         .long_name = "trough",
         .value = &o.trough,
         .argh = "R",
         .seen = &o.has_trough,
         .help = "trace: requests per second at the trough (the peak / 4)"},
        CLI_DOUBLE("period", &o.period, "S", NULL, NULL,
                   "trace: period of the daily curve in seconds (the duration)"),
        CLI_DOUBLE("prompt-mean", &o.prompt_mean, "N", NULL, NULL,
                   "trace: mean prompt tokens (1000; at most 4096)"),
        CLI_DOUBLE("output-mean", &o.output_mean, "N", NULL, NULL,
                   "trace: mean output tokens (200; at most 2048)"),
        CLI_DOUBLE("sigma", &o.sigma, "X", NULL, NULL,
                   "trace: sigma of the lognormal lengths' logarithm (0.8)"),
        CLI_OUTPUT(&o.out, "write to FILE instead of stdout"),
        CLI_END,
    };
    static const char *const subs[] = {"list", "optimum", "curve", "run", "trace"};
    const char *sub = argc > 1 ? argv[1] : "";
    int known = 0;
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        known |= strcmp(sub, subs[i]) == 0;
    if (known) {
        argc--;
        argv++;
    } else if (sub[0] != '-') {
        if (argc < 2) {
            cli_render_help(stderr, &sim_cmd, opts);
            return EXIT_USAGE;
        }
        return cli_usage_error("sim",
                               "unknown subcommand '%s' (expected list, optimum, curve, run, "
                               "trace)",
                               sub);
    }
    int rc, nargs = cli_parse_options(&sim_cmd, opts, argc, argv, &rc);
    if (nargs < 0)
        return rc;
    if (!known)
        return cli_usage_error("sim", "expected a subcommand: list, optimum, curve, run, trace");
    if (nargs > 0)
        return cli_usage_error("sim", "unexpected argument '%s'", argv[0]);
    if (strcmp(sub, "list") == 0)
        return sim_list();
    if (strcmp(sub, "optimum") == 0)
        return sim_optimum(&o);
    if (strcmp(sub, "curve") == 0)
        return sim_curve(&o);
    if (strcmp(sub, "run") == 0)
        return sim_run(&o);
    return sim_trace(&o);
}
