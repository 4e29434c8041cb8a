/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot validate: recompute each recommendation of optimize's JSON from the data and
 * put it through the checks of docs/optimize.md; exit 1 when one fails.
 */
#define _GNU_SOURCE
#include <getopt.h>
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
#include "util/output.h"

static const char help_text[] =
    "NAME\n"
    "    freqpilot validate - check optimize's recommendations against the data\n"
    "\n"
    "SYNOPSIS\n"
    "    freqpilot validate INPUT... OPTIMAL.json [--warn-only] [-o FILE] [--format json]\n"
    "                       [--confidence P] [--cv-threshold X] [--alpha A]\n"
    "\n"
    "DESCRIPTION\n"
    "    INPUT is the data optimize used (aggregated.csv or runs; with runs the tests use\n"
    "    them). Each recommendation is recomputed and checked:\n"
    "      budget            the upper bound of the slowdown interval is within the budget\n"
    "                        (p: one-sided test that the slowdown stays below the budget)\n"
    "      saving            a clock change brings an energy saving whose interval excludes\n"
    "                        0 and p < alpha (Welch test with runs, log-normal otherwise)\n"
    "      frontier          the clock is on the time-energy frontier (fail when another\n"
    "                        clock's intervals lie entirely below it in time and energy)\n"
    "      cv                run-to-run CV of time at the clock and the baseline (warn > X)\n"
    "      drift             time vs sweep position (OLS over the runs; fail p < 0.01 and\n"
    "                        > 3 % change, or aggregate's drift flag)\n"
    "      counter           energy counter vs integrated power (counter_mismatch fails;\n"
    "                        window_mismatch, energy_from_power warn)\n"
    "      clock_dependence  OLS time = a + b fmax/f over the clocks: time varying but not\n"
    "                        with the clock fails (host/I-O bound, drift or noise: the saving\n"
    "                        is not a DVFS effect); time not varying warns (host-, I/O- or\n"
    "                        memory-bound)\n"
    "      plausibility      savings above 40 % warn\n"
    "    A recommendation that keeps the baseline clock cannot mislead: its failures other\n"
    "    than the budget become warnings.\n"
    "\n"
    "OPTIONS\n"
    "    --warn-only            report only: exit 0 even when a check fails\n"
    "    -o, --output FILE      also write the checks as JSON (or CSV with --format csv)\n"
    "    --format json|csv      format of -o (json)\n"
    "    --confidence P         interval level (0.95)\n"
    "    --cv-threshold X       (0.10)\n"
    "    --alpha A              significance level of the saving test (0.05)\n"
    "    -v, --verbose          more messages on stderr\n"
    "    -q, --quiet            no table\n"
    "    -h, --help             show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0 every recommendation passes (warnings allowed); 1 a check failed (not with\n"
    "    --warn-only) or an error; 2 usage error.\n"
    "\n"
    "EXAMPLES\n"
    "    freqpilot optimize DATASET -o optimal.json && freqpilot validate DATASET optimal.json\n"
    "    freqpilot validate measured_runs.csv optimal.json --warn-only -o validation.json\n";

enum { OPT_WARN_ONLY = 256, OPT_FORMAT, OPT_CONFIDENCE, OPT_CV, OPT_ALPHA };

static const struct option long_opts[] = {
    {"warn-only", no_argument, NULL, OPT_WARN_ONLY},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"confidence", required_argument, NULL, OPT_CONFIDENCE},
    {"cv-threshold", required_argument, NULL, OPT_CV},
    {"alpha", required_argument, NULL, OPT_ALPHA},
    {"output", required_argument, NULL, 'o'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static fp_status write_json(const fp_validation *vs, size_t n, const char *path, fp_error *err)
{
    json_t *root = json_object(), *arr = json_array();
    json_object_set_new(root, "validations", arr);
    for (size_t i = 0; i < n; i++) {
        const fp_validation *v = &vs[i];
        json_t *o = json_object(), *checks = json_object();
        json_object_set_new(o, "gpu", json_string(v->rec.gpu));
        json_object_set_new(o, "app", json_string(v->rec.app));
        json_object_set_new(o, "objective", json_string(v->rec.objective));
        json_object_set_new(o, "max_slowdown", jnum(v->rec.max_slowdown));
        json_object_set_new(o, "freq_mhz", jnum(v->rec.freq_mhz));
        json_object_set_new(o, "baseline_mhz", jnum(v->rec.baseline_mhz));
        json_object_set_new(o, "energy_saving", jnum(v->cmp.energy_saving));
        json_object_set_new(o, "energy_saving_lo", jnum(v->cmp.energy_saving_lo));
        json_object_set_new(o, "energy_saving_hi", jnum(v->cmp.energy_saving_hi));
        json_object_set_new(o, "slowdown", jnum(v->cmp.slowdown));
        json_object_set_new(o, "slowdown_lo", jnum(v->cmp.slowdown_lo));
        json_object_set_new(o, "slowdown_hi", jnum(v->cmp.slowdown_hi));
        json_object_set_new(o, "verdict", json_string(fp_check_status_name(v->verdict)));
        for (int k = 0; k < FP_VALIDATE_NCHECKS; k++) {
            json_t *c = json_object();
            json_object_set_new(c, "status",
                                json_string(fp_check_status_name(v->checks[k].status)));
            json_object_set_new(c, "p_value", jnum(v->checks[k].p_value));
            json_object_set_new(c, "detail", json_string(v->checks[k].detail));
            json_object_set_new(checks, v->checks[k].name, c);
        }
        json_object_set_new(o, "checks", checks);
        json_array_append_new(arr, o);
    }
    return fp_json_write_atomic(path, root, FP_JSON_FLAGS, err);
}

static void csv_text(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

static fp_status write_csv(const fp_validation *vs, size_t n, const char *path, fp_error *err)
{
    fp_atomic_file f;
    fp_status st = fp_atomic_open(&f, path, err);
    if (st)
        return st;
    fputs("gpu,app,objective,freq_mhz,baseline_mhz,verdict,check,status,p_value,detail\n", f.fp);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < FP_VALIDATE_NCHECKS; k++) {
            const fp_validation *v = &vs[i];
            fprintf(f.fp, "%s,%s,%s,%.0f,%.0f,%s,%s,%s,", v->rec.gpu, v->rec.app, v->rec.objective,
                    v->rec.freq_mhz, v->rec.baseline_mhz, fp_check_status_name(v->verdict),
                    v->checks[k].name, fp_check_status_name(v->checks[k].status));
            if (isfinite(v->checks[k].p_value))
                fprintf(f.fp, "%.4g", v->checks[k].p_value);
            fputc(',', f.fp);
            csv_text(f.fp, v->checks[k].detail);
            fputc('\n', f.fp);
        }
    st = fp_atomic_commit(&f, err);
    fp_atomic_abort(&f);
    return st;
}

int cmd_validate(int argc, char **argv)
{
    fp_validate_options vo;
    fp_validate_options_init(&vo);
    int warn_only = 0, csv = 0;
    const char *output = NULL;
    double v;
    fp_error err;
    fp_error_clear(&err);
    cli_diag_state diag_state = {0};
    fp_diag diag = cli_diag(&diag_state);
    vo.opt.diag = &diag;
    cli_opts co = {.cmd = "validate", .help = help_text, .output = &output};

    int c;
    while ((c = cli_getopt(&co, argc, argv, long_opts)) != -1) {
        switch (c) {
        case CLI_OPT_EXIT:
            return co.exit_code;
        case OPT_WARN_ONLY:
            warn_only = 1;
            break;
        case OPT_FORMAT:
            if (cli_parse_choice(optarg, "json", "csv", &csv))
                return cli_usage_error("validate", "--format: expected json or csv, got '%s'",
                                       optarg);
            break;
        case OPT_CONFIDENCE:
            if (cli_parse_double(optarg, &v) || !(v > 0.0 && v < 1.0))
                return cli_usage_error("validate", "--confidence: expected (0, 1), got '%s'",
                                       optarg);
            vo.opt.confidence = v;
            break;
        case OPT_CV:
            if (cli_parse_double(optarg, &v) || !(v >= 0.0))
                return cli_usage_error("validate", "--cv-threshold: expected >= 0, got '%s'",
                                       optarg);
            vo.cv_threshold = v;
            break;
        case OPT_ALPHA:
            if (cli_parse_double(optarg, &v) || !(v > 0.0 && v < 1.0))
                return cli_usage_error("validate", "--alpha: expected (0, 1), got '%s'", optarg);
            vo.alpha = v;
            break;
        }
    }
    if (argc - optind < 2)
        return cli_usage_error("validate", "expected INPUT... OPTIMAL.json");
    if (cli_check_output("validate", "-o", output))
        return EXIT_USAGE;
    const char *json_path = argv[argc - 1];
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
    if (strcmp(recs.baseline, "max") == 0 || recs.baseline[0] == '\0')
        vo.opt.baseline = FP_BASELINE_MAX;
    if (fp_aie_results_is_original(&recs)) {
        /* Its own numbers came from a cold-start baseline: checked here against the data, at
         * freqpilot's baseline (the highest clock measured, warm). */
        vo.opt.baseline = FP_BASELINE_MAX;
        cli_info("%s: the original project's recommendations (ai-inference-energy), checked "
                 "against the data with freqpilot's baseline",
                 json_path);
    }
    fp_opt_data data;
    if (fp_opt_data_load((const char *const *)(argv + optind), (size_t)(argc - optind - 1), NULL,
                         &diag, &data, &err)) {
        cli_error("%s", err.msg);
        fp_opt_results_free(&recs);
        return EXIT_FAIL;
    }
    fp_validation *vs = NULL;
    int rc = EXIT_FAIL;
    if (fp_validate(&data, &recs, &vo, &vs, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    size_t nfail = 0, nwarn = 0;
    for (size_t i = 0; i < recs.len; i++) {
        const fp_validation *x = &vs[i];
        nfail += x->verdict == FP_CHECK_FAIL;
        nwarn += x->verdict == FP_CHECK_WARN;
        if (cli_verbosity < 1 || (output && strcmp(output, "-") == 0))
            continue;
        printf("%s %s %s (budget %s%.0f%s): %.0f MHz vs baseline %.0f MHz: %s\n", x->rec.gpu,
               x->rec.app, x->rec.objective, isfinite(x->rec.max_slowdown) ? "" : "none",
               isfinite(x->rec.max_slowdown) ? 100 * x->rec.max_slowdown : 0.0,
               isfinite(x->rec.max_slowdown) ? " %" : "", x->rec.freq_mhz, x->rec.baseline_mhz,
               x->verdict == FP_CHECK_FAIL   ? "FAIL"
               : x->verdict == FP_CHECK_WARN ? "WARN"
                                             : "PASS");
        for (int k = 0; k < FP_VALIDATE_NCHECKS; k++) {
            const fp_check *ck = &x->checks[k];
            char p[32] = "";
            if (isfinite(ck->p_value))
                snprintf(p, sizeof p, " (p = %.3g)", ck->p_value);
            printf("    %-4s %-17s %s%s\n", fp_check_status_name(ck->status), ck->name, ck->detail,
                   strstr(ck->detail, "p = ") ? "" : p);
        }
    }
    if (output &&
        (csv ? write_csv(vs, recs.len, output, &err) : write_json(vs, recs.len, output, &err))) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (nfail)
        cli_warn("%zu of %zu recommendations fail a check%s", nfail, recs.len,
                 warn_only ? " (--warn-only)" : "");
    else
        cli_info("%zu recommendations pass (%zu with warnings)", recs.len, nwarn);
    rc = nfail && !warn_only ? EXIT_FAIL : EXIT_OK;
out:
    free(vs);
    fp_opt_data_free(&data);
    fp_opt_results_free(&recs);
    return rc;
}
