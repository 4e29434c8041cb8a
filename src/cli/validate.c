/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot validate: recompute each recommendation of optimize's JSON from the data and
 * put it through the checks of docs/optimize.md; exit 1 when one fails.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/cli.h"
#include "freqpilot/aie_results.h"
#include "freqpilot/atomic.h"
#include "freqpilot/optimize.h"
#include "util/json_stream.h"
#include "util/output.h"

const cli_command validate_cmd = {
    .name = "validate",
    .summary = "check optimize's recommendations against the data",
    .synopsis = "freqpilot validate INPUT... OPTIMAL.json [--warn-only] [-o FILE] [--format json]\n"
                "                   [--confidence P] [--budget-confidence P] [--margin X]\n"
                "                   [--min-runs N] [--cv-threshold X]\n",
    .description =
        "INPUT is the data optimize used (aggregated.csv or runs: the same answers either\n"
        "way). Each recommendation is recomputed from the engine's estimates (the JSON's\n"
        "numbers are not trusted) and checked (docs/method.md C.5):\n"
        "  data              enough to test: a noise estimate, at least 3 clocks, a clock\n"
        "                    whose estimate does not rest on fewer than --min-runs runs\n"
        "  budget            the slowdown's one-sided bound (--budget-confidence) is within\n"
        "                    the budget\n"
        "                    (p: one-sided, that the slowdown exceeds the budget)\n"
        "  saving            a clock change brings an energy saving (time saving for the\n"
        "                    time objective) whose interval excludes 0 (p: one-sided)\n"
        "  frontier          no other clock's estimates are as fast and as frugal (warns)\n"
        "  cv                run-to-run CV of time at the clock and the baseline (warn > X)\n"
        "  drift             aggregate's drift test against sweep position (fail)\n"
        "  counter           energy counter vs integrated power (counter_mismatch fails;\n"
        "                    window_mismatch, energy_from_power warn)\n"
        "  clock_dependence  OLS time = a + b fmax/f over the clock medians, or aggregate's\n"
        "                    not_clock_bound: time varying but not with the clock fails (the\n"
        "                    saving is not a DVFS effect); time not varying warns\n"
        "  plausibility      savings above 40 % fail\n"
        "A recommendation that keeps the baseline clock claims nothing: its failures other\n"
        "than data become warnings.\n"
        "The verdict, the same optimize prints: infeasible; insufficient data (data or\n"
        "budget fails); no significant saving (no change, or saving fails); suspect: not a\n"
        "DVFS effect (clock_dependence, drift, counter or plausibility fails); deployable.\n",
    .exit_status =
        "0 every recommendation that changes the clock is deployable (warnings allowed);\n"
        "1 one that changes the clock is not (not with --warn-only), or an error; 2 usage\n"
        "error.\n",
    .examples =
        "freqpilot optimize DATASET -o optimal.json && freqpilot validate DATASET optimal.json\n"
        "freqpilot validate measured_runs.csv optimal.json --warn-only -o validation.json\n",
};

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *validation_json(void *ctx, size_t i)
{
    const fp_validation *v = &((const fp_validation *)ctx)[i];
    const fp_opt_compare *m = &v->a.cmp;
    json_t *o = json_object(), *checks = json_object();
    json_object_set_new(o, "gpu", json_string(v->rec.gpu));
    json_object_set_new(o, "app", json_string(v->rec.app));
    json_object_set_new(o, "objective", json_string(v->rec.objective));
    json_object_set_new(o, "max_slowdown", jnum(v->rec.max_slowdown));
    json_object_set_new(o, "freq_mhz", jnum(v->rec.freq_mhz));
    json_object_set_new(o, "baseline_mhz", jnum(v->rec.baseline_mhz));
    json_object_set_new(o, "energy_saving", jnum(m->energy_saving));
    json_object_set_new(o, "energy_saving_lo", jnum(m->energy_saving_lo));
    json_object_set_new(o, "energy_saving_hi", jnum(m->energy_saving_hi));
    json_object_set_new(o, "slowdown", jnum(m->slowdown));
    json_object_set_new(o, "slowdown_lo", jnum(m->slowdown_lo));
    json_object_set_new(o, "slowdown_hi", jnum(m->slowdown_hi));
    json_object_set_new(o, "status", json_string(fp_check_status_name(v->a.worst)));
    json_object_set_new(o, "verdict", json_string(fp_verdict_name(v->a.verdict)));
    json_object_set_new(o, "verdict_reason", json_string(v->a.reason));
    for (int k = 0; k < FP_VALIDATE_NCHECKS; k++) {
        const fp_check *ck = &v->a.checks[k];
        json_t *c = json_object();
        json_object_set_new(c, "status", json_string(fp_check_status_name(ck->status)));
        json_object_set_new(c, "p_value", jnum(ck->p_value));
        json_object_set_new(c, "detail", json_string(ck->detail));
        json_object_set_new(checks, ck->name, c);
    }
    json_object_set_new(o, "checks", checks);
    return o;
}

/* One validation at a time: a fleet has hundreds of thousands (util/json_stream.h). */
static fp_status write_json(const fp_validation *vs, size_t n, int simulated, const char *path,
                            fp_error *err)
{
    json_t *root = json_object();
    if (root && simulated)
        json_object_set_new(root, "simulated", json_true());
    if (root)
        json_object_set_new(root, "validations", json_null());
    return fp_json_write_stream(path, root, "validations", n, validation_json, (void *)vs,
                                FP_JSON_FLAGS, err);
}

static fp_status write_csv(const fp_validation *vs, size_t n, const char *path, fp_error *err)
{
    fp_atomic_file f;
    fp_status st = fp_atomic_open(&f, path, err);
    if (st)
        return st;
    fputs("gpu,app,objective,max_slowdown,freq_mhz,baseline_mhz,verdict,check,status,p_value,"
          "detail\n",
          f.fp);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < FP_VALIDATE_NCHECKS; k++) {
            const fp_validation *v = &vs[i];
            const fp_check *ck = &v->a.checks[k];
            fp_csv_put_str(f.fp, v->rec.gpu);
            fputc(',', f.fp);
            fp_csv_put_str(f.fp, v->rec.app);
            fputc(',', f.fp);
            fp_csv_put_str(f.fp, v->rec.objective);
            fp_csv_put_num(f.fp, v->rec.max_slowdown);
            fp_csv_put_num(f.fp, v->rec.freq_mhz);
            fp_csv_put_num(f.fp, v->rec.baseline_mhz);
            fputc(',', f.fp);
            fp_csv_put_str(f.fp, fp_verdict_name(v->a.verdict));
            fprintf(f.fp, ",%s,%s", ck->name, fp_check_status_name(ck->status));
            fp_csv_put_num(f.fp, ck->p_value);
            fputc(',', f.fp);
            fp_csv_put_str(f.fp, ck->detail);
            fputc('\n', f.fp);
        }
    st = fp_atomic_commit(&f, err);
    fp_atomic_abort(&f);
    return st;
}

int cmd_validate(int argc, char **argv)
{
    fp_opt_options vo;
    fp_opt_options_init(&vo);
    int warn_only = 0, csv = 0;
    const char *output = NULL;
    fp_error err;
    fp_error_clear(&err);
    cli_diag_state diag_state = {0};
    fp_diag diag = cli_diag(&diag_state);
    vo.diag = &diag;
    int set_margin = 0, set_conf = 0, set_bconf = 0;
    const cli_option opts[] = {
        CLI_FLAG("warn-only", &warn_only, "report only: exit 0 even when a check fails"),
        CLI_OUTPUT(&output, "also write the checks as JSON (or CSV with --format csv)"),
        CLI_CHOICE("format", &csv, CLI_CHOICES("json", "csv"), "format of -o (json)"),
        {.type = CLI_OPT_DOUBLE,
         .long_name = "confidence",
         .value = &vo.confidence,
         .argh = "P",
         .range = "(0, 1)",
         .seen = &set_conf,
         .help = "interval level (the JSON's, else 0.95)"},
        {.type = CLI_OPT_DOUBLE,
         .long_name = "budget-confidence",
         .value = &vo.budget_confidence,
         .argh = "P",
         .range = "[0.5, 1)",
         .seen = &set_bconf,
         .help = "one-sided level of the budget's test (the JSON's, else 0.90)"},
        {.type = CLI_OPT_FRACTION,
         .long_name = "margin",
         .value = &vo.margin,
         .argh = "X",
         .range = "[0, 0.5)",
         .seen = &set_margin,
         .help = "practical-equivalence margin (the JSON's, else 0.5%)"},
        CLI_INT("min-runs", &vo.min_runs, "N", "1..1000",
                "runs a clock needs to win on its own data (2)"),
        CLI_DOUBLE("cv-threshold", &vo.cv_threshold, "X", NULL, ">= 0",
                   "the cv check warns above this coefficient of variation (0.10)"),
        CLI_QUIET("no table"),
        CLI_END,
    };
    int rc = EXIT_FAIL, nargs = cli_parse_options(&validate_cmd, opts, argc, argv, &rc);
    if (nargs < 0)
        return rc;
    if (nargs < 2)
        return cli_usage_error("validate", "expected INPUT... OPTIMAL.json");
    const char *json_path = argv[nargs - 1];
    fp_opt_results recs;
    if (fp_opt_read_json(json_path, &recs, &err)) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    if (recs.len == 0) {
        cli_error("%s: no recommendations", json_path);
        fp_opt_results_free(&recs);
        return EXIT_FAIL;
    }
    /* The rule's settings as optimize stated them in its JSON, unless given here. */
    if (!set_conf && recs.confidence > 0.0 && recs.confidence < 1.0)
        vo.confidence = recs.confidence;
    if (!set_margin && recs.margin >= 0.0 && recs.margin < 0.5)
        vo.margin = recs.margin;
    if (!set_bconf && recs.budget_confidence >= 0.5 && recs.budget_confidence < 1.0)
        vo.budget_confidence = recs.budget_confidence;
    if (strcmp(recs.baseline, "max") == 0 || recs.baseline[0] == '\0')
        vo.baseline = FP_BASELINE_MAX;
    if (fp_aie_results_is_original(&recs)) {
        /* Its own numbers came from a cold-start baseline: checked here against the data, at
         * freqpilot's baseline (the highest clock measured, warm). */
        vo.baseline = FP_BASELINE_MAX;
        cli_info("%s: the original project's recommendations (ai-inference-energy), checked "
                 "against the data with freqpilot's baseline",
                 json_path);
    }
    fp_opt_data data;
    int borrowed;
    if (cli_opt_data((const char *const *)argv, (size_t)(nargs - 1), &diag, &data, &borrowed,
                     &err)) {
        cli_error("%s", err.msg);
        fp_opt_results_free(&recs);
        return EXIT_FAIL;
    }
    fp_validation *vs = NULL;
    rc = EXIT_FAIL;
    if (fp_validate(&data, &recs, &vo, &vs, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    size_t nbad = 0, ndeploy = 0;
    for (size_t i = 0; i < recs.len; i++) {
        const fp_validation *x = &vs[i];
        int moved = fabs(x->rec.freq_mhz - x->rec.baseline_mhz) >= 0.5;
        nbad += moved && x->a.verdict != FP_VERDICT_DEPLOYABLE;
        ndeploy += x->a.verdict == FP_VERDICT_DEPLOYABLE;
        if (cli_verbosity < 1 || (output && strcmp(output, "-") == 0))
            continue;
        char bud[32];
        if (isfinite(x->rec.max_slowdown))
            snprintf(bud, sizeof bud, "%g %%", 100 * x->rec.max_slowdown);
        else
            snprintf(bud, sizeof bud, "none");
        printf("%s %s %s (budget %s): %.0f MHz vs baseline %.0f MHz: %s\n", x->rec.gpu, x->rec.app,
               x->rec.objective, bud, x->rec.freq_mhz, x->rec.baseline_mhz,
               fp_verdict_name(x->a.verdict));
        printf("    verdict: %s\n", x->a.reason);
        for (int k = 0; k < FP_VALIDATE_NCHECKS; k++) {
            const fp_check *ck = &x->a.checks[k];
            char p[32] = "";
            if (isfinite(ck->p_value))
                snprintf(p, sizeof p, " (p = %.3g)", ck->p_value);
            printf("    %-4s %-17s %s%s\n", fp_check_status_name(ck->status), ck->name, ck->detail,
                   strstr(ck->detail, "p = ") ? "" : p);
        }
    }
    if (output && (csv ? write_csv(vs, recs.len, output, &err)
                       : write_json(vs, recs.len, fp_agg_simulated(&data.agg), output, &err))) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (nbad)
        cli_warn("%zu of %zu recommendations change the clock without being deployable%s", nbad,
                 recs.len, warn_only ? " (--warn-only)" : "");
    else
        cli_info("%zu recommendations checked: %zu deployable, the others keep the baseline",
                 recs.len, ndeploy);
    rc = nbad && !warn_only ? EXIT_FAIL : EXIT_OK;
out:
    free(vs);
    if (!borrowed)
        fp_opt_data_free(&data);
    fp_opt_results_free(&recs);
    return rc;
}
