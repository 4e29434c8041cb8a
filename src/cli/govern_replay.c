/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot govern replay: policies on the simulated GPU, or recorded telemetry through
 * detector and policy; and the --predictor the replay and the daemon read. */
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
    int rc = gov_make_policy(o, o->policy ? o->policy : "phase", &info, NULL, &pol);
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
    if ((rc = gov_make_policy(o, o->policy ? o->policy : "phase", &info, NULL, &pol)) != EXIT_OK) {
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
        rc = gov_phase_clocks_from(o, o->sweep_gpu ? o->sweep_gpu : o->gpu, pol, NULL, NULL);
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
int gov_predictor_check(const gov_opts *o)
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
fp_predictor *gov_load_predictor(const gov_opts *o)
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

int gov_cmd_replay(gov_opts *o)
{
    if (o->policy && !fp_policy_find(o->policy))
        return cli_usage_error("govern", "--policy '%s': expected %s", o->policy,
                               fp_policy_names());
    int json = o->format && strcmp(o->format, "json") == 0;
    if (o->format && !json && strcmp(o->format, "table") != 0)
        return cli_usage_error("govern", "--format '%s': expected table or json", o->format);
    int prc = gov_predictor_check(o);
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
    if (o->predictor && !(pred = gov_load_predictor(o))) {
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
