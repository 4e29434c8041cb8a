/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot model: fit per-curve and activity models, predict unmeasured clocks, validate
 * the predictions (errors, regret) and replay the adaptive sweep on a complete dataset.
 * The models live in src/model/ (docs/model.md).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "freqpilot/aggregate.h"
#include "freqpilot/model.h"
#include "freqpilot/run.h"
#include "freqpilot/sim.h"

const cli_command model_cmd = {
    .name = "model",
    .summary = "predict power and time at unmeasured clocks; evaluate; adaptive replay",
    .synopsis =
        "freqpilot model fit DATA... -o model.json [--curves FILE]\n"
        "freqpilot model predict model.json [--gpu G] [--app A] [--clocks F1,F2,...]\n"
        "                        [--features fp=X,dram=X,sm=X,power=W,time=S [--form F]]\n"
        "                        [--curves FILE] [--format table|json]\n"
        "freqpilot model evaluate DATA... [--objective O] [--max-slowdown X] [--sparse N]\n"
        "                        [--format table|json]\n"
        "freqpilot model replay DATA... --strategy adaptive [--objective O] [--max-slowdown X]\n"
        "                        [--tolerance X] [--max-runs N] [--format table|json]\n",
    .description =
        "DATA is anything 'freqpilot aggregate' reads (a DATASET/, measured_runs.csv, ...) or\n"
        "'sim', 'sim:GPU' or 'sim:GPU:WORKLOAD': the simulated GPU's noise-free curves over\n"
        "every supported clock, 3 runs per clock with 1 % run-to-run noise (seed 7).\n"
        "\n"
        "Per-curve model (per gpu, app), fitted by non-negative weighted least squares:\n"
        "    time  = t_fixed + t_compute * fmax/f\n"
        "    power = p_static + p_dyn*g(f) + p_act*g(f)*u(f) + p_mem*T(fmax)/T(f)\n"
        "g(f) = f/fmax * (V(f)/Vmax)^2 with V flat up to the GPU's voltage knee, u(f) the\n"
        "compute share of the time. Intervals: Student t, 95 %. When the fit leaves more than\n"
        "5 % RMS of the time unexplained, the time is not explained by the clock: predict\n"
        "prints no time or energy for it and says so.\n"
        "Activity models (per GPU, needs activity telemetry): the FGCS 2023 form refitted,\n"
        "and a physical form (ratios to the top clock); see docs/model.md.\n"
        "\n"
        "evaluate: leave-one-clock-out errors; errors of a fit on N (5) clocks spread over\n"
        "the range; leave-one-app-out of the activity models; regret = objective at the\n"
        "clock chosen from the N-clock fit / objective at the best measured clock - 1.\n"
        "JSON: a list of objects with gpu, app, power_mape, time_mape, power_max_err,\n"
        "time_max_err (leave-one-clock-out) and regret, all fractions, plus details.\n"
        "\n"
        "replay: runs the adaptive sweep (top clock twice, the voltage knee, then the clock\n"
        "that best narrows the optimum; stop when the choice is within --tolerance of the\n"
        "optimum at 95 % confidence, or after --max-runs runs), answering each 'measure\n"
        "clock f' with the next recorded run at f. JSON: per (gpu, app) regret and\n"
        "gpu_time_fraction (replayed run time / the whole sweep's run time).\n",
    .exit_status = "0 success; 1 failure; 2 usage error.\n",
    .subcommands = (const char *const[]){"fit", "predict", "evaluate", "replay", NULL},
    .examples = "freqpilot model fit measured_runs.csv -o model.json\n"
                "freqpilot model predict model.json --gpu A100 --app llama --clocks 1410,1200,900\n"
                "freqpilot model evaluate measured_runs.csv --format json\n"
                "freqpilot model replay sim --strategy adaptive --max-slowdown 0.05\n",
};

typedef struct model_args {
    const char *output, *curves, *gpu, *app, *features, *form;
    double clocks[512];
    size_t nclocks;
    int json;
    fp_objective objective;
    double max_slowdown, tolerance;
    long max_runs, sparse;
    int have_strategy;
} model_args;

/* --clocks F1,F2,...: into model_args.clocks. */
static int parse_clocks(const cli_option *o, const char *s, char *why, size_t n)
{
    model_args *a = o->value;
    (void)why, (void)n;
    char *dup = strdup(s), *save = NULL;
    if (!dup)
        return -1;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        double v;
        if (cli_parse_double(t, &v) || !(v > 0) || a->nclocks >= 512) {
            free(dup);
            return -1;
        }
        a->clocks[a->nclocks++] = v;
    }
    free(dup);
    return a->nclocks ? 0 : -1;
}

/* Loads DATA arguments into runs ("sim[:GPU[:WORKLOAD]]" makes simulated runs). */
static fp_status load_data(char **inputs, int n, fp_run_list *runs, fp_error *err)
{
    cli_diag_state ds = {0};
    fp_diag diag = cli_diag(&ds);
    for (int i = 0; i < n; i++) {
        const char *in = inputs[i];
        if (strcmp(in, "sim") == 0 || strncmp(in, "sim:", 4) == 0) {
            char gpu[64] = "", wl[64] = "";
            if (in[3] == ':')
                sscanf(in + 4, "%63[^:]:%63s", gpu, wl);
            for (unsigned g = 0; g < fp_sim_gpu_count(); g++) {
                const fp_sim_gpu *G = fp_sim_gpu_at(g);
                if (gpu[0] && fp_sim_gpu_find(gpu) != G)
                    continue;
                for (unsigned w = 0; w < fp_sim_workload_count(); w++) {
                    const fp_sim_workload *W = fp_sim_workload_at(w);
                    if (wl[0] && fp_sim_workload_find(wl) != W)
                        continue;
                    fp_status st =
                        fp_model_sim_runs(G->short_name, W->name, 3, 0, 0.01, 7, runs, err);
                    if (st)
                        return st;
                }
            }
            if (gpu[0] && !fp_sim_gpu_find(gpu))
                return fp_error_set(err, FP_ERR_INVALID, "%s: unknown simulated GPU '%s'", in, gpu);
            if (wl[0] && !fp_sim_workload_find(wl))
                return fp_error_set(err, FP_ERR_INVALID, "%s: unknown simulated workload '%s'", in,
                                    wl);
            continue;
        }
        fp_load_options lo;
        fp_load_options_init(&lo);
        lo.diag = &diag;
        lo.ts.diag = &diag;
        fp_status st = fp_runs_load(in, &lo, runs, err);
        if (st)
            return st;
    }
    if (!runs->len)
        return fp_error_set(err, FP_ERR_INVALID, "no runs found in the input");
    return FP_OK;
}

static fp_status aggregate_runs(const fp_run_list *runs, fp_agg_result *agg, fp_error *err)
{
    fp_agg_options ao;
    fp_agg_options_init(&ao);
    ao.bootstrap_samples = 200;
    return fp_aggregate(runs, &ao, agg, err);
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static int print_json(json_t *root)
{
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    fputc('\n', stdout);
    json_decref(root);
    return rc ? EXIT_FAIL : EXIT_OK;
}

static json_t *errors_json(const fp_model_errors *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)e->n));
    json_object_set_new(o, "power_mape", jnum(e->power_mape));
    json_object_set_new(o, "time_mape", jnum(e->time_mape));
    json_object_set_new(o, "power_median_ape", jnum(e->power_mdape));
    json_object_set_new(o, "time_median_ape", jnum(e->time_mdape));
    json_object_set_new(o, "power_max_err", jnum(e->power_max_err));
    json_object_set_new(o, "time_max_err", jnum(e->time_max_err));
    json_object_set_new(o, "power_max_err_w", jnum(e->power_max_err_w));
    json_object_set_new(o, "time_max_err_s", jnum(e->time_max_err_s));
    json_object_set_new(o, "power_mae_w", jnum(e->power_mae_w));
    json_object_set_new(o, "time_mae_s", jnum(e->time_mae_s));
    return o;
}

static int do_fit(int n, char **in, const model_args *a)
{
    fp_error err;
    fp_run_list runs = {0};
    fp_agg_result agg;
    memset(&agg, 0, sizeof agg);
    fp_model_file mf;
    memset(&mf, 0, sizeof mf);
    fp_curve_options co;
    fp_curve_options_init(&co);
    int rc = EXIT_FAIL;
    /*
     * Inputs `run` has aggregated already: the fit uses the rows' centres, never their
     * intervals, so their 2000 resamples give the same model as the 200 used here.
     */
    const cli_preload *pre = cli_preload_for((const char *const *)in, (size_t)n);
    const fp_agg_result *rows = pre ? pre->agg : &agg;
    if (pre) { /* what load_data would have said; aggregate_runs says nothing */
        cli_diag_state ds = {0};
        fp_diag diag = cli_diag(&ds);
        cli_preload_replay(pre, &diag, NULL);
    }
    if ((!pre && (load_data(in, n, &runs, &err) || aggregate_runs(&runs, &agg, &err))) ||
        fp_model_fit_all(rows, &co, &mf, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < mf.ncurves; i++)
        if (!mf.curves[i].clock_bound)
            cli_warn("%s %s: %s", mf.curves[i].gpu, mf.curves[i].app, mf.curves[i].note);
    if (fp_model_write_json(&mf, a->output ? a->output : "-", &err) ||
        (a->curves && fp_model_write_curves(&mf, rows, a->clocks, a->nclocks, a->curves, &err))) {
        cli_error("%s", err.msg);
        goto out;
    }
    cli_info("%zu curves, %zu activity models", mf.ncurves, mf.nactivity);
    rc = EXIT_OK;
out:
    fp_model_file_free(&mf);
    fp_agg_result_free(&agg);
    fp_run_list_free(&runs);
    return rc;
}

static int parse_features(const char *s, fp_activity_features *x)
{
    memset(x, 0, sizeof *x);
    x->power_w = x->time_s = NAN;
    char *dup = strdup(s), *save = NULL;
    if (!dup)
        return -1;
    int rc = 0;
    for (char *t = strtok_r(dup, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        double v;
        if (!eq || cli_parse_double(eq + 1, &v)) {
            rc = -1;
            break;
        }
        *eq = 0;
        if (!strcmp(t, "fp"))
            x->fp_active = v;
        else if (!strcmp(t, "dram"))
            x->dram_active = v;
        else if (!strcmp(t, "sm"))
            x->sm_active = v;
        else if (!strcmp(t, "tensor"))
            x->tensor_active = v;
        else if (!strcmp(t, "util"))
            x->gpu_util_pct = v;
        else if (!strcmp(t, "power"))
            x->power_w = v;
        else if (!strcmp(t, "time"))
            x->time_s = v;
        else
            rc = -1;
    }
    free(dup);
    return rc;
}

static int do_predict(const char *path, const model_args *a)
{
    fp_error err;
    fp_model_file mf;
    if (fp_model_read_file(path, &mf, &err)) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    int rc = EXIT_FAIL;
    json_t *out = json_array();
    if (a->features) {
        fp_activity_features x;
        if (parse_features(a->features, &x) || !(x.power_w > 0) || !(x.time_s > 0)) {
            json_decref(out);
            fp_model_file_free(&mf);
            return cli_usage_error("model", "--features: expected fp=X,dram=X,sm=X,power=W,"
                                            "time=S (power and time at the top clock)");
        }
        const char *form = a->form ? a->form : "physical";
        const char *gpu = a->gpu ? a->gpu : "";
        fp_activity_model m;
        int found = 0;
        if (!strcmp(form, "fgcs-paper")) {
            fp_activity_paper(gpu, 1380, &m); /* the V100 top clock of the paper */
            const fp_sim_gpu *g = fp_sim_gpu_find(gpu);
            if (g)
                m.fmax_mhz = fp_sim_gpu_fmax(g);
            found = 1;
        }
        for (size_t i = 0; !found && i < mf.nactivity; i++)
            if ((!a->gpu || !strcmp(mf.activity[i].gpu, a->gpu)) &&
                !strcmp(fp_activity_form_name(mf.activity[i].form), form)) {
                m = mf.activity[i];
                found = 1;
            }
        if (!found) {
            cli_error("%s: no %s activity model%s%s (it needs activity telemetry: fp_active, "
                      "dram_active)",
                      path, form, a->gpu ? " for " : "", a->gpu ? a->gpu : "");
            goto out;
        }
        double clocks[512];
        size_t nc = a->nclocks;
        memcpy(clocks, a->clocks, nc * sizeof *clocks);
        const fp_sim_gpu *g = fp_sim_gpu_find(m.gpu);
        if (!nc && g)
            for (unsigned i = 0; i < g->n_clocks && nc < 512; i++)
                clocks[nc++] = g->clocks_mhz[i];
        if (!a->json)
            printf("%-8s %10s %10s %10s\n", "freq_mhz", "power_w", "time_s", "energy_j");
        for (size_t i = 0; i < nc; i++) {
            double p, t;
            fp_activity_predict(&m, &x, clocks[i], &p, &t);
            if (a->json) {
                json_t *o = json_object();
                json_object_set_new(o, "gpu", json_string(m.gpu));
                json_object_set_new(o, "model", json_string(form));
                json_object_set_new(o, "freq_mhz", jnum(clocks[i]));
                json_object_set_new(o, "power_w", jnum(p));
                json_object_set_new(o, "time_s", jnum(t));
                json_object_set_new(o, "energy_j", jnum(p * t));
                json_array_append_new(out, o);
            } else {
                printf("%-8.0f %10.2f %10.3f %10.1f\n", clocks[i], p, t, p * t);
            }
        }
        rc = EXIT_OK;
        goto out;
    }
    size_t shown = 0;
    for (size_t i = 0; i < mf.ncurves; i++) {
        const fp_curve_model *c = &mf.curves[i];
        if ((a->gpu && strcmp(c->gpu, a->gpu)) || (a->app && strcmp(c->app, a->app)))
            continue;
        if (!shown++ && !a->json)
            printf("%-6s %-16s %8s %22s %22s %10s %s\n", "gpu", "app", "freq_mhz",
                   "power_w [95% PI]", "time_s [95% PI]", "energy_j", "note");
        if (!c->clock_bound)
            cli_warn("%s %s: %s", c->gpu, c->app, c->note);
        size_t nc = a->nclocks ? a->nclocks : 10;
        for (size_t k = 0; k < nc; k++) {
            double f = a->nclocks ? a->clocks[k]
                                  : c->meas_hi_mhz - (c->meas_hi_mhz - c->meas_lo_mhz) * (double)k /
                                                         (double)(nc - 1);
            fp_curve_pred p;
            fp_curve_predict(c, f, 0.95, &p);
            const char *note = p.refused        ? "time not explained by the clock"
                               : p.extrapolated ? "extrapolated"
                                                : "";
            if (a->json) {
                json_t *o = json_object();
                json_object_set_new(o, "gpu", json_string(c->gpu));
                json_object_set_new(o, "app", json_string(c->app));
                json_object_set_new(o, "freq_mhz", jnum(f));
                json_object_set_new(o, "power_w", jnum(p.power_w));
                json_object_set_new(o, "power_w_lo", jnum(p.power_lo));
                json_object_set_new(o, "power_w_hi", jnum(p.power_hi));
                json_object_set_new(o, "time_s", jnum(p.time_s));
                json_object_set_new(o, "time_s_lo", jnum(p.time_lo));
                json_object_set_new(o, "time_s_hi", jnum(p.time_hi));
                json_object_set_new(o, "energy_j", jnum(p.energy_j));
                json_object_set_new(o, "energy_j_lo", jnum(p.energy_lo));
                json_object_set_new(o, "energy_j_hi", jnum(p.energy_hi));
                json_object_set_new(o, "extrapolated", json_boolean(p.extrapolated));
                json_object_set_new(o, "clock_bound", json_boolean(c->clock_bound));
                json_array_append_new(out, o);
            } else {
                char pw[32], ts[32], en[16];
                snprintf(pw, sizeof pw, "%.1f [%.1f, %.1f]", p.power_w, p.power_lo, p.power_hi);
                if (p.refused)
                    snprintf(ts, sizeof ts, "-");
                else
                    snprintf(ts, sizeof ts, "%.2f [%.2f, %.2f]", p.time_s, p.time_lo, p.time_hi);
                if (p.refused)
                    snprintf(en, sizeof en, "-");
                else
                    snprintf(en, sizeof en, "%.0f", p.energy_j);
                printf("%-6s %-16s %8.0f %22s %22s %10s %s\n", c->gpu, c->app, f, pw, ts, en, note);
            }
        }
    }
    if (!shown) {
        cli_error("%s: no curve matches%s%s%s%s", path, a->gpu ? " --gpu " : "",
                  a->gpu ? a->gpu : "", a->app ? " --app " : "", a->app ? a->app : "");
        goto out;
    }
    if (a->curves) {
        fp_model_file sel = mf;
        if (fp_model_write_curves(&sel, NULL, a->clocks, a->nclocks, a->curves, &err)) {
            cli_error("%s", err.msg);
            goto out;
        }
    }
    rc = EXIT_OK;
out:
    if (rc == EXIT_OK && a->json)
        rc = print_json(out);
    else
        json_decref(out);
    fp_model_file_free(&mf);
    return rc;
}

static void pct(char *buf, size_t n, double v)
{
    if (isfinite(v))
        snprintf(buf, n, "%.1f", 100 * v);
    else
        snprintf(buf, n, "-");
}

static int do_evaluate(int n, char **in, const model_args *a)
{
    fp_error err;
    fp_run_list runs = {0};
    fp_agg_result agg;
    memset(&agg, 0, sizeof agg);
    fp_eval_results res = {0};
    fp_eval_options eo;
    fp_eval_options_init(&eo);
    eo.objective = a->objective;
    eo.max_slowdown = a->max_slowdown;
    if (a->sparse > 0)
        eo.sparse_clocks = (int)a->sparse;
    int rc = EXIT_FAIL;
    if (load_data(in, n, &runs, &err) || aggregate_runs(&runs, &agg, &err) ||
        fp_model_evaluate(&agg, &eo, &res, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (a->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < res.len; i++) {
            const fp_eval_result *r = &res.items[i];
            json_t *o = json_object();
            json_object_set_new(o, "gpu", json_string(r->gpu));
            json_object_set_new(o, "app", json_string(r->app));
            json_object_set_new(o, "clocks", json_integer((json_int_t)r->n_clocks));
            json_object_set_new(o, "power_mape", jnum(r->loco.power_mape));
            json_object_set_new(o, "time_mape", jnum(r->loco.time_mape));
            json_object_set_new(o, "power_max_err", jnum(r->loco.power_max_err));
            json_object_set_new(o, "time_max_err", jnum(r->loco.time_max_err));
            json_object_set_new(o, "power_max_err_w", jnum(r->loco.power_max_err_w));
            json_object_set_new(o, "time_max_err_s", jnum(r->loco.time_max_err_s));
            json_object_set_new(o, "regret", jnum(r->regret));
            json_object_set_new(o, "objective", json_string(a->objective.name));
            json_object_set_new(o, "max_slowdown", jnum(a->max_slowdown));
            json_object_set_new(o, "chosen_mhz", jnum(r->chosen_mhz));
            json_object_set_new(o, "best_mhz", jnum(r->best_mhz));
            json_t *reg = json_object();
            json_object_set_new(reg, "energy", jnum(r->regret_energy));
            json_object_set_new(reg, "energy_max_slowdown_0.05", jnum(r->regret_energy_5));
            json_object_set_new(reg, "edp", jnum(r->regret_edp));
            json_object_set_new(reg, "ed2p", jnum(r->regret_ed2p));
            json_object_set_new(o, "regrets", reg);
            json_object_set_new(o, "clock_bound", json_boolean(r->clock_bound));
            json_object_set_new(o, "note", json_string(r->note));
            json_object_set_new(o, "loco", errors_json(&r->loco));
            json_object_set_new(o, "sparse", errors_json(&r->sparse));
            json_object_set_new(o, "loao_physical", errors_json(&r->loao_phys));
            json_object_set_new(o, "loao_fgcs_refit", errors_json(&r->loao_fgcs));
            json_object_set_new(o, "fgcs_paper", errors_json(&r->fgcs_paper));
            json_array_append_new(arr, o);
        }
        rc = print_json(arr);
        goto out;
    }
    printf("Errors in %% of the measured value (median / worst over clocks) and in W / s (worst);\n"
           "loco = leave one clock out, sparse = fitted on %d clocks; regret of the sparse fit's\n"
           "choice (%s%s%s) in %%.\n\n",
           eo.sparse_clocks, a->objective.name, isfinite(a->max_slowdown) ? ", max slowdown " : "",
           isfinite(a->max_slowdown) ? "set" : "");
    printf("%-5s %-16s %4s | %-17s %-17s | %-17s %-17s | %6s %s\n", "gpu", "app", "n",
           "loco P% med/max W", "loco T% med/max s", "sparse P% med/max", "sparse T% med/max",
           "regret", "note");
    for (size_t i = 0; i < res.len; i++) {
        const fp_eval_result *r = &res.items[i];
        char b[8][16];
        pct(b[0], 16, r->loco.power_mdape);
        pct(b[1], 16, r->loco.power_max_err);
        pct(b[2], 16, r->loco.time_mdape);
        pct(b[3], 16, r->loco.time_max_err);
        pct(b[4], 16, r->sparse.power_mdape);
        pct(b[5], 16, r->sparse.power_max_err);
        pct(b[6], 16, r->sparse.time_mdape);
        pct(b[7], 16, r->sparse.time_max_err);
        char lp[40], lt[40], sp[40], st[40], rg[16];
        snprintf(lp, sizeof lp, "%s/%s %.1fW", b[0], b[1], r->loco.power_max_err_w);
        snprintf(lt, sizeof lt, "%s/%s %.2fs", b[2], b[3], r->loco.time_max_err_s);
        snprintf(sp, sizeof sp, "%s/%s", b[4], b[5]);
        snprintf(st, sizeof st, "%s/%s", b[6], b[7]);
        pct(rg, sizeof rg, r->regret);
        printf("%-5s %-16s %4zu | %-17s %-17s | %-17s %-17s | %6s %s\n", r->gpu, r->app,
               r->n_clocks, lp, lt, sp, st, rg, r->clock_bound ? "" : "not clock-bound");
    }
    rc = EXIT_OK;
out:
    fp_eval_results_free(&res);
    fp_agg_result_free(&agg);
    fp_run_list_free(&runs);
    return rc;
}

static int do_replay(int n, char **in, const model_args *a)
{
    fp_error err;
    fp_run_list runs = {0};
    fp_model_replay_results res = {0};
    fp_adaptive_options ao;
    fp_adaptive_options_init(&ao);
    ao.objective = a->objective;
    ao.max_slowdown = a->max_slowdown;
    if (isfinite(a->tolerance))
        ao.tolerance = a->tolerance;
    if (a->max_runs > 0)
        ao.max_runs = (int)a->max_runs;
    int rc = EXIT_FAIL;
    if (load_data(in, n, &runs, &err) || fp_model_replay(&runs, &ao, &res, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (a->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < res.len; i++) {
            const fp_model_replay_result *r = &res.items[i];
            json_t *o = json_object();
            json_object_set_new(o, "gpu", json_string(r->gpu));
            json_object_set_new(o, "app", json_string(r->app));
            json_object_set_new(o, "strategy", json_string("adaptive"));
            json_object_set_new(o, "objective", json_string(ao.objective.name));
            json_object_set_new(o, "max_slowdown", jnum(ao.max_slowdown));
            json_object_set_new(o, "freq_mhz", jnum(r->ad.freq_mhz));
            json_object_set_new(o, "best_mhz", jnum(r->best_mhz));
            json_object_set_new(o, "regret", jnum(r->regret));
            json_object_set_new(o, "energy_regret", jnum(r->energy_regret));
            json_object_set_new(o, "gpu_time_fraction", jnum(r->gpu_time_fraction));
            json_object_set_new(o, "gpu_time_s", jnum(r->ad.gpu_time_s));
            json_object_set_new(o, "runs", json_integer(r->ad.runs));
            json_object_set_new(o, "clocks", json_integer(r->ad.clocks));
            json_object_set_new(o, "converged", json_boolean(r->ad.converged));
            json_object_set_new(o, "tolerance_achieved", jnum(r->ad.tolerance_achieved));
            json_object_set_new(o, "feasible", json_boolean(r->feasible));
            json_object_set_new(o, "clock_bound", json_boolean(r->ad.clock_bound));
            json_object_set_new(o, "reason", json_string(r->ad.reason));
            json_array_append_new(arr, o);
        }
        rc = print_json(arr);
        goto out;
    }
    printf("%-5s %-16s %8s %8s %8s %8s %5s %6s %s\n", "gpu", "app", "chosen", "best", "regret%",
           "gpu_time", "runs", "clocks", "stop");
    for (size_t i = 0; i < res.len; i++) {
        const fp_model_replay_result *r = &res.items[i];
        char rg[16], gt[16];
        pct(rg, sizeof rg, r->regret);
        pct(gt, sizeof gt, r->gpu_time_fraction);
        printf("%-5s %-16s %8.0f %8.0f %8s %7s%% %5d %6d %s\n", r->gpu, r->app, r->ad.freq_mhz,
               r->best_mhz, rg, gt, r->ad.runs, r->ad.clocks, r->ad.reason);
    }
    rc = EXIT_OK;
out:
    fp_model_replay_results_free(&res);
    fp_run_list_free(&runs);
    return rc;
}

int cmd_model(int argc, char **argv)
{
    model_args a;
    memset(&a, 0, sizeof a);
    fp_objective_parse("energy", &a.objective, NULL);
    a.max_slowdown = NAN;
    a.tolerance = NAN;
    int form = -1, strategy = -1;
    static const char *const forms[] = {"physical", "fgcs-refit", "fgcs-paper", NULL};
    const cli_option opts[] = {
        CLI_OUTPUT(&a.output, "model.json (fit), or where to print (default stdout)"),
        CLI_OUTFILE("curves", &a.curves, "FILE",
                    "also write the predicted curves with intervals (the report's model plot "
                    "reads it)"),
        CLI_STRING("gpu", &a.gpu, "G", "predict: the GPU"),
        CLI_STRING("app", &a.app, "A", "predict: the application"),
        CLI_CALLBACK("clocks", &a, "F1,F2,...", "MHz,MHz,...", parse_clocks,
                     "predict: the clocks (default: 10 over the measured range)"),
        CLI_STRING("features", &a.features, "SPEC",
                   "predict with an activity model: fp=X,dram=X,sm=X,power=W,time=S (power "
                   "and time at the top clock)"),
        CLI_CHOICE("form", &form, forms, "the activity model's form (physical)"),
        CLI_CHOICE("format", &a.json, CLI_CHOICES("table", "json"), "output format (table)"),
        CLI_CALLBACK("objective", &a.objective, "O", NULL, cli_opt_objective,
                     "energy (default), time, edp, ed2p, ednp:N, cost:ETA"),
        CLI_DOUBLE("max-slowdown", &a.max_slowdown, "X", "a fraction", ">= 0",
                   "slowdown budget against the top clock, a fraction"),
        CLI_DOUBLE("tolerance", &a.tolerance, "X", "a fraction", "(0, 1)",
                   "adaptive stop tolerance on the objective (0.01)"),
        CLI_LONG("max-runs", &a.max_runs, "N", "4..100000", "adaptive run cap (30)"),
        CLI_LONG("sparse", &a.sparse, "N", "3..50", "clocks of evaluate's sparse design (5)"),
        CLI_CHOICE("strategy", &strategy, CLI_CHOICES("adaptive"),
                   "replay: the sweep strategy to replay (only adaptive)"),
        CLI_QUIET("no warnings"),
        CLI_END,
    };
    if (argc < 2)
        return cli_usage_error("model", "expected a subcommand: fit, predict, evaluate or replay");
    const char *sub = argv[1];
    if (!strcmp(sub, "help"))
        argv[1] = "--help";
    else if (sub[0] != '-') {
        if (strcmp(sub, "fit") && strcmp(sub, "predict") && strcmp(sub, "evaluate") &&
            strcmp(sub, "replay"))
            return cli_usage_error("model",
                                   "unknown subcommand '%s' (fit, predict, evaluate, replay)", sub);
        argc--;
        argv++;
    }
    int rc, nin = cli_parse_options(&model_cmd, opts, argc, argv, &rc);
    if (nin < 0)
        return rc;
    if (sub[0] == '-')
        return cli_usage_error("model", "expected a subcommand: fit, predict, evaluate or replay");
    if (form >= 0)
        a.form = forms[form];
    a.have_strategy = strategy >= 0;
    char **in = argv;
    if (!strcmp(sub, "fit")) {
        if (nin < 1)
            return cli_usage_error("model", "fit: expected DATA");
        if (!a.output)
            return cli_usage_error("model", "fit: expected -o model.json");
        return do_fit(nin, in, &a);
    }
    if (!strcmp(sub, "predict")) {
        if (nin != 1)
            return cli_usage_error("model", "predict: expected one model.json");
        return do_predict(in[0], &a);
    }
    if (!strcmp(sub, "evaluate")) {
        if (nin < 1)
            return cli_usage_error("model", "evaluate: expected DATA");
        return do_evaluate(nin, in, &a);
    }
    if (nin < 1)
        return cli_usage_error("model", "replay: expected DATA");
    if (!a.have_strategy)
        return cli_usage_error("model", "replay: expected --strategy adaptive");
    return do_replay(nin, in, &a);
}
