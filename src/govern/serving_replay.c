/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LLM serving replayed on the simulated GPU under a policy: the control loop of the daemon
 * (signals -> detector -> policy -> clock request), with the simulated server in place of the
 * engine and NVML. A request takes effect switch_latency_s later, at the next step boundary.
 * The comparison replays every static clock to find the best one that meets the same SLO.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/govern.h"
#include "util/grow.h"

void fp_serving_opts_default(fp_serving_opts *o)
{
    memset(o, 0, sizeof *o);
    o->gpu = "A100";
    o->interval_s = 0.5;
    o->switch_latency_s = 0.03;
    o->ttft_s = 2;
    o->tbt_s = 0.1;
    o->attainment = 0.99;
    o->budget = 0.05;
    o->drain_s = 900;
}

void fp_serving_result_free(fp_serving_result *r)
{
    if (!r)
        return;
    free(r->trace);
    free(r->req);
    r->trace = NULL;
    r->req = NULL;
    r->n_trace = 0;
}

static fp_status check_opts(const fp_serving_opts *o, const fp_sim_gpu **g, fp_error *err)
{
    *g = fp_sim_gpu_find(o->gpu ? o->gpu : "A100");
    if (!*g)
        return fp_error_set(err, FP_ERR_INVALID,
                            "serving replay: unknown simulated GPU '%s' (expected V100, A100 or "
                            "H100)",
                            o->gpu);
    if (!(o->interval_s >= 0.01 && o->interval_s <= 60) ||
        !(o->switch_latency_s >= 0 && o->switch_latency_s < o->interval_s))
        return fp_error_set(err, FP_ERR_INVALID,
                            "serving replay: interval %g s, switch latency %g s: expected an "
                            "interval of 0.01..60 s and a latency >= 0 below it",
                            o->interval_s, o->switch_latency_s);
    if (!(o->ttft_s > 0) || !(o->tbt_s > 0) || !(o->attainment > 0 && o->attainment <= 1))
        return fp_error_set(err, FP_ERR_INVALID,
                            "serving replay: SLO ttft %g s, tbt %g s, attainment %g: expected "
                            "times > 0 and an attainment in (0, 1]",
                            o->ttft_s, o->tbt_s, o->attainment);
    if (!(o->drain_s >= 0))
        return fp_error_set(err, FP_ERR_INVALID, "serving replay: drain %g s: expected >= 0",
                            o->drain_s);
    return FP_OK;
}

static fp_status server_model(const fp_serving_opts *o, const fp_sim_gpu *g, fp_server_model *m,
                              fp_error *err)
{
    fp_status st = fp_server_model_init(m, g, "llama-7b", err);
    if (st != FP_OK)
        return st;
    if (o->max_batch)
        m->max_batch = o->max_batch;
    if (o->chunk_tokens)
        m->chunk_tokens = o->chunk_tokens;
    if (m->max_batch > 4096 || m->chunk_tokens > 65536)
        return fp_error_set(err, FP_ERR_INVALID,
                            "serving replay: max batch %u, chunk %u tokens: expected at most 4096 "
                            "and 65536",
                            m->max_batch, m->chunk_tokens);
    return FP_OK;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Percentiles, attainment and energy figures from the finished simulation. */
static fp_status summarize(const fp_server_sim *sim, size_t n, const fp_serving_opts *o,
                           fp_serving_result *res, fp_error *err)
{
    fp_server_totals t;
    fp_server_sim_totals(sim, &t);
    const fp_request_result *r = fp_server_sim_results(sim);
    double *ttft = malloc((n ? n : 1) * sizeof *ttft);
    if (!ttft)
        return fp_error_set(err, FP_ERR_NOMEM, "serving replay: out of memory");
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        ttft[i] = r[i].finished ? r[i].ttft_s : INFINITY;
        if (r[i].finished && r[i].ttft_s <= o->ttft_s &&
            (isnan(r[i].tbt_mean_s) || r[i].tbt_mean_s <= o->tbt_s))
            ok++;
    }
    qsort(ttft, n, sizeof *ttft, dcmp);
    size_t k50 = (size_t)ceil(0.5 * n), k99 = (size_t)ceil(0.99 * n);
    res->ttft_p50_s = n ? ttft[k50 ? k50 - 1 : 0] : NAN;
    res->ttft_p99_s = n ? ttft[k99 ? k99 - 1 : 0] : NAN;
    free(ttft);
    res->tbt_p50_s = fp_server_sim_gap_quantile(sim, 0.5);
    res->tbt_p99_s = fp_server_sim_gap_quantile(sim, 0.99);
    res->energy_j = t.energy_j;
    res->time_s = t.time_s;
    res->busy_s = t.busy_s;
    res->requests = t.requests;
    res->finished = t.finished;
    res->rejected = t.rejected;
    res->prompt_tokens = t.prompt_tokens;
    res->output_tokens = t.output_tokens;
    res->energy_per_token_j = t.output_tokens ? t.energy_j / t.output_tokens : NAN;
    res->energy_per_request_j = n ? t.energy_j / n : NAN;
    res->attainment = n ? (double)ok / n : NAN;
    res->meets_slo = res->attainment >= o->attainment - 1e-12 && res->ttft_p99_s <= o->ttft_s &&
                     !(res->tbt_p99_s > o->tbt_s);
    res->mean_clock_mhz = t.busy_s > 0 ? t.clock_time_mhz_s / t.busy_s : NAN;
    res->energy_saving = NAN;
    if (o->keep_requests) {
        res->req = malloc((n ? n : 1) * sizeof *res->req);
        if (!res->req)
            return fp_error_set(err, FP_ERR_NOMEM, "serving replay: out of memory");
        memcpy(res->req, r, n * sizeof *r);
    }
    return FP_OK;
}

static int push_point(fp_serving_result *r, size_t *cap, const fp_serving_point *p)
{
    if (FP_GROW(r->trace, r->n_trace, *cap, 1024))
        return -1;
    r->trace[r->n_trace++] = *p;
    return 0;
}

fp_status fp_serving_run(const fp_request *req, size_t n, fp_policy *pol, const fp_serving_opts *o,
                         fp_serving_result *res, fp_error *err)
{
    memset(res, 0, sizeof *res);
    const fp_sim_gpu *g;
    fp_server_model m;
    fp_status st = check_opts(o, &g, err);
    if (st == FP_OK)
        st = server_model(o, g, &m, err);
    if (st == FP_OK)
        st = fp_policy_start(pol, err);
    if (st != FP_OK)
        return st;
    if (n == 0)
        return fp_error_set(err, FP_ERR_INVALID, "serving replay: no requests");
    snprintf(res->policy, sizeof res->policy, "%s", fp_policy_name(pol));
    fp_server_sim *sim = fp_server_sim_new(&m, req, n);
    if (!sim)
        return fp_error_set(err, FP_ERR_NOMEM, "serving replay: out of memory");
    fp_phase_detector det;
    fp_phase_init(&det, NULL);
    double t_end = req[n - 1].t_s + o->drain_s, t = 0;
    unsigned requested = 0;
    size_t cap = 0;
    int first = 1;
    while (!fp_server_sim_done(sim) && t < t_end) {
        fp_server_sim_advance(sim, t + o->interval_s);
        t = fp_server_sim_time(sim);
        fp_server_interval iv;
        fp_server_sim_interval(sim, &iv);
        fp_serving_signals sig = {1,
                                  iv.waiting,
                                  iv.running,
                                  iv.waiting_prompt_tokens,
                                  iv.prompt_tok_s,
                                  iv.gen_tok_s,
                                  iv.arrivals_s,
                                  iv.ttft_p99_s,
                                  iv.tbt_p99_s,
                                  iv.kv_tokens,
                                  NAN};
        int changed = fp_phase_update(&det, t, &iv.sample);
        fp_policy_input in = {t, det.current, changed || first, &iv.sample, iv.gen_tok_s, &sig};
        first = 0;
        unsigned want = fp_policy_decide(pol, &in);
        if (want != requested) {
            fp_server_sim_set_clock(sim, want, t + o->switch_latency_s);
            requested = want;
            res->clock_changes++;
        }
        if (o->keep_trace) {
            fp_serving_point pt = {t,
                                   requested,
                                   iv.sample.v[FP_COL_SM_CLOCK_MHZ],
                                   iv.sample.v[FP_COL_POWER_W],
                                   iv.arrivals_s,
                                   iv.waiting,
                                   iv.running,
                                   iv.ttft_p99_s,
                                   iv.tbt_p99_s};
            if (push_point(res, &cap, &pt) != 0) {
                fp_server_sim_free(sim);
                fp_serving_result_free(res);
                return fp_error_set(err, FP_ERR_NOMEM, "serving replay: out of memory");
            }
        }
    }
    st = summarize(sim, n, o, res, err);
    fp_server_sim_free(sim);
    if (st != FP_OK)
        fp_serving_result_free(res);
    return st;
}

/* A policy by name, configured by spec (may be NULL). */
static fp_status make(const char *name, const fp_gpu_info *info, const char *spec, fp_policy **out,
                      fp_error *err)
{
    fp_status st = fp_policy_new(name, info, out, err);
    if (st == FP_OK && spec)
        st = fp_policy_configure(*out, spec, err);
    if (st != FP_OK) {
        fp_policy_free(*out);
        *out = NULL;
    }
    return st;
}

static fp_status run_named(const fp_request *req, size_t n, const char *name,
                           const fp_gpu_info *info, const char *spec, const fp_serving_opts *o,
                           fp_serving_result *res, fp_error *err)
{
    fp_policy *p;
    fp_status st = make(name, info, spec, &p, err);
    if (st == FP_OK)
        st = fp_serving_run(req, n, p, o, res, err);
    fp_policy_free(p);
    return st;
}

fp_status fp_serving_compare(const fp_request *req, size_t n, const fp_serving_opts *o,
                             fp_serving_result *rows, size_t row_cap, size_t *n_rows,
                             fp_serving_result *sweep, size_t sweep_cap, size_t *n_sweep,
                             fp_error *err)
{
    *n_rows = *n_sweep = 0;
    const fp_sim_gpu *g;
    fp_status st = check_opts(o, &g, err);
    if (st != FP_OK)
        return st;
    if (row_cap < 6 || sweep_cap < g->n_clocks)
        return fp_error_set(err, FP_ERR_INVALID,
                            "serving compare: expected room for 6 results and %u clocks",
                            g->n_clocks);
    fp_gpu_info info;
    fp_sim_gpu_info(g, 0, &info);
    fp_serving_opts quiet = *o; /* the sweep keeps no trace */
    quiet.keep_trace = 0;
    quiet.keep_requests = 0;
    size_t nr = 0;
#define FAIL(x)                                                                                    \
    do {                                                                                           \
        fp_status s_ = (x);                                                                        \
        if (s_ != FP_OK) {                                                                         \
            for (size_t i_ = 0; i_ < nr; i_++)                                                     \
                fp_serving_result_free(&rows[i_]);                                                 \
            return s_;                                                                             \
        }                                                                                          \
    } while (0)

    FAIL(run_named(req, n, "default", &info, NULL, o, &rows[nr], err));
    nr++;
    const fp_serving_result *base = &rows[0];

    /*
     * Every supported clock, static; the best one that meets the SLO by optimize's choice rule
     * (objective.h) on these exact values: eligible = meets the SLO, value = energy per token,
     * no margin, starting from the fastest clock that meets it.
     */
    int best = -1;
    char spec[FP_TUNE_STR_MAX + 512];
    fp_opt_cand *cand = calloc(g->n_clocks, sizeof *cand);
    if (!cand)
        FAIL(fp_error_set(err, FP_ERR_NOMEM, "serving compare: out of memory"));
    for (unsigned i = 0; i < g->n_clocks; i++) {
        snprintf(spec, sizeof spec, "clock=%u", g->clocks_mhz[i]);
        st = run_named(req, n, "static", &info, spec, &quiet, &sweep[i], err);
        if (st != FP_OK)
            free(cand);
        FAIL(st);
        sweep[i].static_mhz = g->clocks_mhz[i];
        *n_sweep = i + 1;
        cand[i] =
            (fp_opt_cand){g->clocks_mhz[i], sweep[i].energy_per_token_j, 0, sweep[i].meets_slo};
        if (best < 0 && sweep[i].meets_slo)
            best = (int)i;
    }
    if (best >= 0)
        best = (int)fp_opt_decide(cand, g->n_clocks, (size_t)best, NAN, 0.0);
    free(cand);
    if (best >= 0) {
        /* Run again with the trace and requests the caller asked for. */
        snprintf(spec, sizeof spec, "clock=%u", g->clocks_mhz[best]);
        FAIL(run_named(req, n, "static", &info, spec, o, &rows[nr], err));
        snprintf(rows[nr].policy, sizeof rows[nr].policy, "static-best");
        rows[nr].static_mhz = g->clocks_mhz[best];
        nr++;
    }
    unsigned f_best = best >= 0 ? g->clocks_mhz[best] : fp_sim_gpu_fmax(g);

    /* The energy-optimal clock of LLaMA inference on this GPU: the floor of feedback. */
    unsigned f_opt;
    fp_objective energy;
    FAIL(fp_objective_parse("energy", &energy, err));
    FAIL(fp_sim_optimum(g, fp_sim_workload_find("llama"), &energy, NAN, &f_opt, NULL, err));

    snprintf(spec, sizeof spec, "f_e=%u", f_best);
    FAIL(run_named(req, n, "activity", &info, spec, o, &rows[nr], err));
    nr++;

    fp_policy *p;
    FAIL(make("phase", &info, NULL, &p, err));
    st =
        fp_policy_learn_phase_clocks_sim(p, g, fp_sim_workload_find("llama"), o->budget, NULL, err);
    if (st == FP_OK)
        st = fp_serving_run(req, n, p, o, &rows[nr], err);
    fp_policy_free(p);
    FAIL(st);
    nr++;

    snprintf(spec, sizeof spec, "budget=%.17g,floor=%u", o->budget, f_opt);
    FAIL(run_named(req, n, "feedback", &info, spec, o, &rows[nr], err));
    nr++;

    int w = snprintf(spec, sizeof spec, "ttft=%.17g,tbt=%.17g", o->ttft_s, o->tbt_s);
    if (o->latency_model)
        w += snprintf(spec + w, sizeof spec - (size_t)w, ",model=%s", o->latency_model);
    else
        w += snprintf(spec + w, sizeof spec - (size_t)w, ",model=sim:%s", g->short_name);
    if (o->slo_settings && *o->slo_settings)
        w += snprintf(spec + w, sizeof spec - (size_t)w, ",%s", o->slo_settings);
    if ((size_t)w >= sizeof spec)
        FAIL(fp_error_set(err, FP_ERR_INVALID, "serving compare: slo settings too long"));
    FAIL(run_named(req, n, "slo", &info, spec, o, &rows[nr], err));
    nr++;
#undef FAIL
    for (size_t i = 0; i < nr; i++)
        rows[i].energy_saving = 1 - rows[i].energy_per_token_j / base->energy_per_token_j;
    for (size_t i = 0; i < *n_sweep; i++)
        sweep[i].energy_saving = 1 - sweep[i].energy_per_token_j / base->energy_per_token_j;
    *n_rows = nr;
    return FP_OK;
}
