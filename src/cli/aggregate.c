/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot aggregate: load runs from every INPUT (fp_runs_load), reduce them
 * to one row per (gpu, app, clock) (fp_aggregate) and write aggregated.csv or
 * JSON. The statistical rules live in the library and docs/method.md; the
 * help text below states them with the same numbers.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/aggregate.h"
#include "freqpilot/atomic.h"
#include "freqpilot/run.h"
#include "util/output.h"

static const cli_section aggregate_sections[] = {
    {"RULES (docs/method.md has the reasoning)",
     "Failed runs      Runs whose workload failed, or whose marked window is unusable\n"
     "                 (window_error in run.json), are dropped (flag failed; a run killed\n"
     "                 at its time limit, exit status 124: reason timeout); so are runs\n"
     "                 with time or energy 0, which measured nothing (flag empty_window).\n"
     "Cold starts      Per (gpu, app), when sweep positions are known (run_index, else\n"
     "                 start time): walking the sweep from its first run, a run is a cold\n"
     "                 start while it lies within the first max(6, floor(5 % of the runs))\n"
     "                 positions, every earlier run was one too, and its time exceeds the\n"
     "                 reference by more than max(10 %, 3 robust SD). The reference is the\n"
     "                 median time of the warm runs (outside that horizon) at the same\n"
     "                 clock, else of the warm runs at the 3 nearest clocks that have any;\n"
     "                 robust SD = 1.4826 x MAD of those runs. Cold starts are dropped\n"
     "                 (flag cold_start_dropped). A clock left without runs keeps its row\n"
     "                 with runs=0 and empty values.\n"
     "Outliers         In a clock group of n >= 3 runs (after cold starts), a run with\n"
     "                 |time - median| > max(K x 1.4826 x MAD, 0.25 x median) is dropped,\n"
     "                 largest deviation first, keeping at least 2 runs (K = --outlier-k,\n"
     "                 3.5; flag outlier_dropped).\n"
     "Centre           Median (default) or mean of time_s and energy_j of the kept runs;\n"
     "                 power_w is the centre of the per-run mean powers; edp = E x T and\n"
     "                 ed2p = E x T^2 of the centres. Activities, SM clock and temperature\n"
     "                 are means over the kept runs.\n"
     "Intervals        P (0.95) percentile bootstrap interval of the centre, N (2000)\n"
     "                 resamples, mt19937 with a fixed seed (reproducible); or with --ci t\n"
     "                 the Student t interval of the mean. One run: empty bounds.\n"
     "Flags            The OR of the kept runs' flags (clock_not_held, throttled,\n"
     "                 counter_mismatch, window_mismatch, time_reconstructed, ...), plus\n"
     "                 cold_start_dropped / outlier_dropped / failed / empty_window when a\n"
     "                 run was dropped, and high_cv when the coefficient of variation of\n"
     "                 time or energy > X (0.10).\n"
     "Drift            Per (gpu, app) with sweep positions: OLS of each kept run's\n"
     "                 time / (its clock's median) - 1 on sweep position; flag drift when\n"
     "                 p < 0.01 and the fitted change over the sweep exceeds 3 %. The same\n"
     "                 test on the maximum clock's runs when that clock is revisited.\n"
     "Clock dependence Per (gpu, app), when the clock medians vary (CV > 5 %, >= 3 clocks):\n"
     "                 OLS time = a + b x fmax/f over the kept runs; flag not_clock_bound\n"
     "                 when b is not significantly > 0 (one-sided p >= 0.01) or R^2 < 0.5.\n"
     "                 The time differences are then not explained by the clock (drift, a\n"
     "                 host or I/O bound workload, or noise) and savings are suspect.\n"
     "--strict         Every dropped run, flagged row and finding becomes an error, and so\n"
     "                 does every input warning (a file skipped inside a folder).\n"},
    {NULL, NULL},
};

const cli_command aggregate_cmd = {
    .name = "aggregate",
    .summary = "reduce telemetry and runs to per (gpu, app, clock) statistics",
    .synopsis =
        "freqpilot aggregate INPUT... [-o FILE] [--format csv|json|ai-inference-energy]\n"
        "                    [--center median|mean]\n"
        "                    [--ci bootstrap|t] [--confidence P] [--bootstrap N] [--seed N]\n"
        "                    [--no-drop-cold] [--no-drop-outliers] [--outlier-k K]\n"
        "                    [--cv-threshold X] [--strict] [--dropped FILE] [--runs FILE]\n"
        "                    [--input-format FMT] [--interval-ms MS] [--gpu-index N]\n"
        "                    [--gpu NAME --app NAME --freq MHZ] [--counter-tolerance X]\n"
        "                    [--clock-tolerance MHZ]\n",
    .description =
        "Loads every run found in the INPUT files and folders (a freqpilot DATASET/, the\n"
        "ai-inference-energy layouts, a per-run table such as measured_runs.csv, or one raw\n"
        "nvidia-smi / dcgmi / telemetry.csv file, which is one run) and writes one row per\n"
        "(gpu, app, clock): the centre of time and energy with a confidence interval, power,\n"
        "EDP, ED2P, mean activities and data-quality flags (the aggregated.csv columns of\n"
        "docs/formats.md, then time_cv and energy_cv). Empty cells (null in JSON) mean 'not\n"
        "available'; no number is ever made up. Rows are sorted by gpu, app, clock descending.\n"
        "Inputs are refused with FILE:LINE and what was expected when they hold a value no GPU\n"
        "can have (docs/formats.md lists the limits), and a FIFO, device or socket is never\n"
        "opened.\n"
        "Every finding is printed on stderr, with a count of dropped runs; -v explains\n"
        "each dropped run and --dropped FILE lists them.\n",
    .sections = aggregate_sections,
    .exit_status =
        "0 success; 1 failure (unreadable or malformed input, named as FILE:LINE, a write\n"
        "error, or a finding under --strict); 2 usage error. On failure no output file is\n"
        "left behind.\n",
    .examples =
        "freqpilot aggregate DATASET/ -o aggregated.csv\n"
        "freqpilot aggregate measured_runs.csv --format json --dropped dropped.csv\n"
        "freqpilot aggregate --gpu A100 --app lstm --freq 1410 GA100-baseline-LSTM-1410-0\n",
};

static const char *drop_reason(uint32_t flags)
{
    if (flags & FP_FLAG_COLD_START_DROPPED)
        return "cold_start";
    if (flags & FP_FLAG_OUTLIER_DROPPED)
        return "outlier";
    if (flags & FP_FLAG_TIMEOUT)
        return "timeout";
    if (flags & FP_FLAG_FAILED)
        return "failed";
    if (flags & FP_FLAG_EMPTY_WINDOW)
        return "empty_window";
    return "dropped";
}

/*
 * --dropped FILE: the dropped runs (columns up to source). --runs FILE (all != NULL): every
 * run loaded, in input order, reason empty for a kept run, then sm_clock_mhz and flags.
 */
static fp_status write_runs(const fp_agg_result *res, const fp_run_list *all, const char *path,
                            fp_error *err)
{
    fp_atomic_file f;
    fp_status st = fp_atomic_open(&f, path, err);
    if (st)
        return st;
    fputs("gpu,app,freq_mhz,run_index,repetition,time_s,energy_j,power_w,reason,source", f.fp);
    fputs(all ? ",sm_clock_mhz,flags\n" : "\n", f.fp);
    const fp_run_list *list = all ? all : &res->dropped;
    fp_agg_dropped_index *idx = NULL;
    if (all && (st = fp_agg_dropped_index_new(res, &idx, err))) {
        fp_atomic_abort(&f);
        return st;
    }
    for (size_t i = 0; i < list->len; i++) {
        const fp_run *r = &list->items[i];
        const fp_run *drop = all ? fp_agg_dropped_find(idx, r) : r;
        fp_csv_put_str(f.fp, r->gpu);
        fputc(',', f.fp);
        fp_csv_put_str(f.fp, r->app);
        fp_csv_put_num(f.fp, r->freq_mhz);
        fp_csv_put_num(f.fp, r->run_index >= 0 ? (double)r->run_index : NAN);
        fp_csv_put_num(f.fp, r->repetition >= 0 ? (double)r->repetition : NAN);
        fp_csv_put_num(f.fp, r->time_s);
        fp_csv_put_num(f.fp, r->energy_j);
        fp_csv_put_num(f.fp, r->power_w);
        fprintf(f.fp, ",%s,", drop ? drop_reason(drop->flags) : "");
        fp_csv_put_str(f.fp, r->source);
        if (all) {
            char flags[512];
            fp_flags_format(drop ? drop->flags : r->flags, flags, sizeof flags);
            fp_csv_put_num(f.fp, r->sm_clock_mhz);
            fputc(',', f.fp);
            fp_csv_put_str(f.fp, flags);
        }
        fputc('\n', f.fp);
    }
    fp_agg_dropped_index_free(idx);
    st = fp_atomic_commit(&f, err);
    fp_atomic_abort(&f);
    return st;
}

static void report(size_t nruns, const fp_agg_result *res)
{
    size_t cold = 0, outl = 0, failed = 0;
    for (size_t i = 0; i < res->dropped.len; i++) {
        const fp_run *r = &res->dropped.items[i];
        uint32_t f = r->flags;
        if (f & FP_FLAG_COLD_START_DROPPED)
            cold++;
        else if (f & FP_FLAG_OUTLIER_DROPPED)
            outl++;
        else {
            failed++;
            /* Cold starts and outliers were explained by the library's warnings. */
            cli_warn("%s %s %.0f MHz: dropped the %s %s", r->gpu, r->app, r->freq_mhz,
                     f & FP_FLAG_TIMEOUT  ? "run that timed out (exit status 124)"
                     : f & FP_FLAG_FAILED ? "failed run"
                                          : "empty run (time or energy 0)",
                     r->source);
        }
    }
    for (size_t i = 0; i < res->nfindings; i++) {
        const fp_agg_finding *f = &res->findings[i];
        const char *name = fp_flag_name(f->flag);
        cli_warn("%s %s: %s: %s", f->gpu, f->app, name ? name : "finding", f->detail);
    }
    /* One line by default: a sweep with 100 dropped runs must not bury the findings. */
    if (cold + outl > 0 && cli_verbosity < 2)
        cli_warn("dropped runs: %zu cold start, %zu outlier (each one explained with -v; all "
                 "listed with --dropped FILE)",
                 cold, outl);
    cli_info("%zu runs loaded, %zu kept, %zu dropped (%zu cold starts, %zu outliers, %zu failed); "
             "%zu rows, %zu findings",
             nruns, nruns - res->dropped.len, res->dropped.len, cold, outl, failed, res->nrows,
             res->nfindings);
}

/* Per-run drop explanations from fp_aggregate: info level, summarised by report(). */
static void drop_info(void *user, const char *msg)
{
    cli_diag_state *st = user;
    st->count++;
    cli_info("%s", msg);
}

/* Every INPUT's runs, aggregated (a progress bar while loading). */
static fp_status load_and_aggregate(char **inputs, int ninputs, const fp_load_options *lopt,
                                    const fp_agg_options *aopt, const cli_diag_state *diag,
                                    fp_run_list *runs, fp_agg_result *res, fp_error *err)
{
    fp_status st = FP_OK;
    cli_progress *prog = cli_progress_start("loading", (double)ninputs);
    for (int i = 0; i < ninputs && !st; i++) {
        size_t before = runs->len;
        if (!(st = fp_runs_load(inputs[i], lopt, runs, err))) {
            cli_progress_update(prog, (double)(i + 1));
            cli_debug("%s: %zu runs", inputs[i], runs->len - before);
        }
    }
    cli_progress_stop(prog);
    if (!st && aopt->strict && diag->count > 0)
        st = fp_error_set(err, FP_ERR_QUALITY, "--strict: %ld input warning%s (above)", diag->count,
                          diag->count > 1 ? "s" : "");
    if (!st && runs->len == 0)
        st = fp_error_set(err, FP_ERR_INVALID, "no runs found in the input%s",
                          ninputs > 1 ? "s" : "");
    if (!st)
        st = fp_aggregate(runs, aopt, res, err);
    if (st)
        fp_run_list_free(runs);
    return st;
}

int cmd_aggregate(int argc, char **argv)
{
    fp_agg_options aopt;
    fp_load_options lopt;
    fp_agg_options_init(&aopt);
    fp_load_options_init(&lopt);
    const char *output = "-", *dropped_path = NULL, *runs_path = NULL;
    int format = 0, center = 0, ci = 0;
    long seed = -1;
    double interval_ms = NAN;
    char formats[512];
    cli_diag_state diag_state = {0};
    fp_diag diag = cli_diag(&diag_state);
    cli_diag_state drop_state = {0};
    fp_diag drop_diag = {drop_info, &drop_state, drop_info};
    aopt.diag = &drop_diag;
    lopt.diag = &diag;
    lopt.ts.diag = &diag;
    const cli_option opts[] = {
        CLI_OUTPUT(&output, "write here (atomically) instead of stdout ('-' = stdout)"),
        CLI_CHOICE("format", &format, CLI_CHOICES("csv", "json", "ai-inference-energy"),
                   "output format (csv); JSON has rows, findings and dropped; "
                   "ai-inference-energy: the original project's complete_aggregation.csv "
                   "columns (gpu, application, frequency, avg_power, execution_time, energy, "
                   "avg_gputl, avg_drama, avg_temp; rows without runs left out)"),
        CLI_CHOICE("center", &center, CLI_CHOICES("median", "mean"),
                   "centre of each clock group (median)"),
        CLI_CHOICE("ci", &ci, CLI_CHOICES("bootstrap", "t"), "interval method (bootstrap)"),
        CLI_DOUBLE("confidence", &aopt.confidence, "P", NULL, "(0, 1)",
                   "interval coverage, 0 < P < 1 (0.95)"),
        CLI_INT("bootstrap", &aopt.bootstrap_samples, "N", "100..10000000",
                "bootstrap resamples, 100..10000000 (2000)"),
        CLI_LONG("seed", &seed, "N", ">= 0", "bootstrap seed (fixed default)"),
        CLI_SET_INT("no-drop-cold", &aopt.drop_cold_starts, 0, "keep cold starts"),
        CLI_SET_INT("no-drop-outliers", &aopt.drop_outliers, 0, "keep outliers"),
        CLI_DOUBLE("outlier-k", &aopt.outlier_mad_k, "K", NULL, "> 0",
                   "robust z beyond which a run is an outlier (3.5)"),
        CLI_DOUBLE("cv-threshold", &aopt.cv_threshold, "X", NULL, ">= 0",
                   "high_cv above this CV of time or energy (0.10)"),
        CLI_FLAG("strict", &aopt.strict, "data-quality findings are errors (exit 1)"),
        CLI_OUTFILE("dropped", &dropped_path, "FILE",
                    "also write the dropped runs as CSV (gpu, app, freq_mhz, run_index, "
                    "repetition, time_s, energy_j, power_w, reason, source)"),
        CLI_OUTFILE("runs", &runs_path, "FILE",
                    "also write every run loaded, one row per run in input order: the --dropped "
                    "columns (reason empty for a kept run), then sm_clock_mhz and flags (the "
                    "run's own data-quality flags)"),
        CLI_CALLBACK("input-format", &lopt.format, "FMT", NULL, cli_opt_input_format,
                     cli_input_format_help(formats, sizeof formats)),
        CLI_DOUBLE("interval-ms", &interval_ms, "MS", "milliseconds", "> 0",
                   "dcgmi sample interval (default: inferred, flagged)"),
        CLI_INT("gpu-index", &lopt.ts.gpu_index, "N", "0..1024",
                "which GPU of a multi-GPU telemetry file (first seen)"),
        CLI_STRING("gpu", &lopt.gpu_override, "NAME",
                   "the GPU of a raw telemetry file given alone"),
        CLI_STRING("app", &lopt.app_override, "NAME",
                   "the application of a raw telemetry file given alone"),
        CLI_DOUBLE("freq", &lopt.freq_override_mhz, "MHZ", "MHz", "> 0",
                   "the clock of a raw telemetry file given alone"),
        CLI_DOUBLE("counter-tolerance", &lopt.counter_tolerance, "X", NULL, ">= 0",
                   "energy counter vs power integral tolerance (0.05)"),
        CLI_DOUBLE("clock-tolerance", &lopt.clock_tolerance_mhz, "MHZ", "MHz", ">= 0",
                   "reached vs requested clock tolerance (30)"),
        CLI_VERBOSE("print a summary (runs loaded, dropped, findings)"),
        CLI_END,
    };
    int rc = EXIT_FAIL, ninputs = cli_parse_options(&aggregate_cmd, opts, argc, argv, &rc);
    if (ninputs < 0)
        return rc;
    aopt.center = center ? FP_CENTER_MEAN : FP_CENTER_MEDIAN;
    aopt.ci = ci ? FP_CI_T : FP_CI_BOOTSTRAP;
    if (seed >= 0)
        aopt.seed = (unsigned long)seed;
    if (!isnan(interval_ms))
        lopt.ts.interval_s = interval_ms / 1000.0;
    if (ninputs < 1)
        return cli_usage_error("aggregate", "no INPUT given");
    if ((lopt.gpu_override || lopt.app_override || !isnan(lopt.freq_override_mhz)) && ninputs > 1)
        return cli_usage_error("aggregate", "--gpu/--app/--freq name a single raw telemetry file");
    {
        int to_stdout = !strcmp(output, "-") + (dropped_path && !strcmp(dropped_path, "-")) +
                        (runs_path && !strcmp(runs_path, "-"));
        if (to_stdout > 1)
            return cli_usage_error("aggregate",
                                   "only one of the output, --dropped and --runs can be stdout");
    }

    fp_run_list runs = {0};
    fp_agg_result res;
    fp_error err;
    fp_error_clear(&err);
    rc = EXIT_FAIL;
    /* Inputs `run` has loaded and aggregated already (with these default options). */
    const cli_preload *pre = cli_preload_for((const char *const *)argv, (size_t)ninputs);
    if (pre && (!cli_preload_defaults(&lopt, &aopt) || (runs_path && !pre->runs)))
        pre = NULL;
    if (pre) {
        cli_preload_replay(pre, &diag, &drop_diag);
        res = *pre->agg;
        if (pre->runs)
            runs = *pre->runs;
    } else if (load_and_aggregate(argv, ninputs, &lopt, &aopt, &diag_state, &runs, &res, &err)) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    report(pre ? pre->nruns : runs.len, &res);
    if ((format == 2   ? fp_agg_write_aie_csv(&res, output, &err)
         : format == 1 ? fp_agg_write_json(&res, output, &err)
                       : fp_agg_write_csv(&res, output, &err))) {
        cli_error("%s", err.msg);
        goto out;
    }
    if ((dropped_path && write_runs(&res, NULL, dropped_path, &err)) ||
        (runs_path && write_runs(&res, &runs, runs_path, &err))) {
        cli_error("%s", err.msg);
        if (strcmp(output, "-") != 0)
            unlink(output);
        if (dropped_path && strcmp(dropped_path, "-") != 0)
            unlink(dropped_path);
        goto out;
    }
    rc = EXIT_OK;
out:
    if (!pre) {
        fp_agg_result_free(&res);
        fp_run_list_free(&runs);
    }
    return rc;
}
