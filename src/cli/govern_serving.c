/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot govern replay --serving TRACE: an LLM request trace served on the simulated GPU
 * under every policy, against the best static clock that meets the same SLO and the default
 * clocks (docs/govern.md, "Serving"). The options are parsed in govern.c.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/govern_cli.h"
#include "freqpilot/atomic.h"
#include "freqpilot/govern.h"

#define MAX_ROWS 6
#define TIMELINE_POINTS 600

/* "ttft=2s,tbt=100ms[,attainment=0.99]" into o. */
static int parse_slo(const char *spec, fp_serving_opts *o)
{
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return cli_usage_error("govern", "--slo: too long");
    strcpy(buf, spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return cli_usage_error("govern", "--slo '%s': expected KEY=VALUE (ttft=2s,tbt=100ms)",
                                   tok);
        *eq = 0;
        const char *v = eq + 1;
        double x;
        if (strcasecmp(tok, "ttft") == 0 || strcasecmp(tok, "tbt") == 0) {
            if (fp_parse_duration(v, &x) != 0 || !(x > 0 && x <= 3600))
                return cli_usage_error(
                    "govern", "--slo %s='%s': expected a duration such as 2s or 100ms", tok, v);
            if (strcasecmp(tok, "ttft") == 0)
                o->ttft_s = x;
            else
                o->tbt_s = x;
        } else if (strcasecmp(tok, "attainment") == 0) {
            size_t n = strlen(v);
            char num[64];
            int pct = n > 0 && v[n - 1] == '%';
            snprintf(num, sizeof num, "%.*s", (int)(pct ? n - 1 : n), v);
            int bad = cli_parse_double(num, &x) != 0;
            if (!bad && pct)
                x /= 100;
            if (bad || !(x > 0 && x <= 1))
                return cli_usage_error("govern",
                                       "--slo attainment='%s': expected a share in (0, 1] or a "
                                       "percentage",
                                       v);
            o->attainment = x;
        } else {
            return cli_usage_error("govern",
                                   "--slo: unknown key '%s' (expected ttft, tbt, attainment)", tok);
        }
    }
    return EXIT_OK;
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static const fp_serving_result *find_row(const fp_serving_result *rows, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].policy, name) == 0)
            return &rows[i];
    return NULL;
}

static json_t *row_json(const fp_serving_result *r, const fp_serving_result *best)
{
    json_t *j = json_object();
    json_object_set_new(j, "policy", json_string(r->policy));
    if (r->static_mhz)
        json_object_set_new(j, "freq_mhz", json_integer(r->static_mhz));
    json_object_set_new(j, "energy_j", jnum(r->energy_j));
    json_object_set_new(j, "energy_per_token_j", jnum(r->energy_per_token_j));
    json_object_set_new(j, "energy_per_request_j", jnum(r->energy_per_request_j));
    json_object_set_new(j, "energy_saving", jnum(r->energy_saving));
    json_object_set_new(j, "vs_static_best_points",
                        best ? jnum(100 * (r->energy_saving - best->energy_saving)) : json_null());
    json_object_set_new(j, "ttft_p50_s", jnum(r->ttft_p50_s));
    json_object_set_new(j, "ttft_p99_s", jnum(r->ttft_p99_s));
    json_object_set_new(j, "tbt_p50_s", jnum(r->tbt_p50_s));
    json_object_set_new(j, "tbt_p99_s", jnum(r->tbt_p99_s));
    json_object_set_new(j, "attainment", jnum(r->attainment));
    json_object_set_new(j, "meets_slo", json_boolean(r->meets_slo));
    json_object_set_new(j, "clock_changes", json_integer((json_int_t)r->clock_changes));
    json_object_set_new(j, "mean_clock_mhz", jnum(r->mean_clock_mhz));
    json_object_set_new(j, "requests", json_integer((json_int_t)r->requests));
    json_object_set_new(j, "finished", json_integer((json_int_t)r->finished));
    json_object_set_new(j, "rejected", json_integer((json_int_t)r->rejected));
    json_object_set_new(j, "prompt_tokens", json_integer((json_int_t)r->prompt_tokens));
    json_object_set_new(j, "output_tokens", json_integer((json_int_t)r->output_tokens));
    json_object_set_new(j, "time_s", jnum(r->time_s));
    return j;
}

/* The policy's clock over time, averaged into at most TIMELINE_POINTS bins. */
static json_t *timeline_json(const fp_serving_result *r, const fp_serving_result *best)
{
    json_t *t = json_array(), *arr = json_array(), *req = json_array(), *clk = json_array(),
           *pw = json_array();
    size_t n = r->n_trace, per = n / TIMELINE_POINTS + 1;
    for (size_t i = 0; i < n; i += per) {
        size_t e = i + per < n ? i + per : n;
        double s[5] = {0};
        for (size_t k = i; k < e; k++) {
            const fp_serving_point *p = &r->trace[k];
            s[0] += p->t_s;
            s[1] += p->arrivals_s;
            s[2] += p->requested_mhz ? p->requested_mhz : NAN;
            s[3] += p->sm_clock_mhz;
            s[4] += p->power_w;
        }
        double m = (double)(e - i);
        json_array_append_new(t, jnum(s[0] / m));
        json_array_append_new(arr, jnum(s[1] / m));
        json_array_append_new(req, jnum(s[2] / m));
        json_array_append_new(clk, jnum(s[3] / m));
        json_array_append_new(pw, jnum(s[4] / m));
    }
    json_t *j = json_object();
    json_object_set_new(j, "policy", json_string(r->policy));
    json_object_set_new(j, "static_best_mhz", best ? json_integer(best->static_mhz) : json_null());
    json_object_set_new(j, "t_s", t);
    json_object_set_new(j, "arrivals_per_s", arr);
    json_object_set_new(j, "requested_mhz", req);
    json_object_set_new(j, "sm_clock_mhz", clk);
    json_object_set_new(j, "power_w", pw);
    return j;
}

static int write_json(const gov_opts *o, const char *trace, const fp_serving_opts *so,
                      const fp_server_model *m, size_t n_req, double span_s,
                      const fp_serving_result *rows, size_t nr, const fp_serving_result *sweep,
                      size_t ns, const fp_serving_result *timeline)
{
    const fp_serving_result *best = find_row(rows, nr, "static-best");
    json_t *root = json_object(), *res = json_array(), *sw = json_array();
    json_object_set_new(root, "format", json_string("freqpilot-serving-replay"));
    json_object_set_new(root, "trace", json_string(trace));
    json_object_set_new(root, "gpu", json_string(m->gpu->short_name));
    json_object_set_new(root, "model", json_string(m->model));
    json_object_set_new(root, "requests", json_integer((json_int_t)n_req));
    json_object_set_new(root, "duration_s", jnum(span_s));
    json_object_set_new(root, "slo",
                        json_pack("{s:f,s:f,s:f}", "ttft_s", so->ttft_s, "tbt_s", so->tbt_s,
                                  "attainment", so->attainment));
    json_object_set_new(root, "interval_s", json_real(so->interval_s));
    json_object_set_new(root, "switch_latency_s", json_real(so->switch_latency_s));
    json_object_set_new(root, "max_batch", json_integer(m->max_batch));
    json_object_set_new(root, "chunk_tokens", json_integer(m->chunk_tokens));
    json_object_set_new(root, "static_best_mhz",
                        best ? json_integer(best->static_mhz) : json_null());
    for (size_t i = 0; i < nr; i++)
        if (!o->policy || strcmp(rows[i].policy, "default") == 0 ||
            strcmp(rows[i].policy, "static-best") == 0 || strcmp(rows[i].policy, o->policy) == 0)
            json_array_append_new(res, row_json(&rows[i], best));
    for (size_t i = 0; i < ns; i++)
        json_array_append_new(
            sw, json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:b}", "freq_mhz", (int)sweep[i].static_mhz,
                          "energy_per_token_j", jnum(sweep[i].energy_per_token_j), "energy_saving",
                          jnum(sweep[i].energy_saving), "attainment", jnum(sweep[i].attainment),
                          "ttft_p99_s", jnum(sweep[i].ttft_p99_s), "tbt_p99_s",
                          jnum(sweep[i].tbt_p99_s), "meets_slo", sweep[i].meets_slo));
    json_object_set_new(root, "results", res);
    json_object_set_new(root, "static_sweep", sw);
    if (timeline)
        json_object_set_new(root, "timeline", timeline_json(timeline, best));
    fp_atomic_file f;
    fp_error err;
    int rc = EXIT_OK;
    if (fp_atomic_open(&f, o->out ? o->out : "-", &err) != FP_OK) {
        cli_error("%s", err.msg);
        rc = EXIT_FAIL;
    } else if (json_dumpf(root, f.fp, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0 ||
               fputc('\n', f.fp) == EOF) {
        fp_atomic_abort(&f);
        cli_error("%s: write failed", o->out ? o->out : "stdout");
        rc = EXIT_FAIL;
    } else if (fp_atomic_commit(&f, &err) != FP_OK) {
        cli_error("%s", err.msg);
        rc = EXIT_FAIL;
    }
    json_decref(root);
    return rc;
}

static int write_table(const gov_opts *o, const char *trace, const fp_serving_opts *so,
                       const fp_server_model *m, size_t n_req, double span_s,
                       const fp_serving_result *rows, size_t nr, size_t ns)
{
    fp_atomic_file f;
    fp_error err;
    if (fp_atomic_open(&f, o->out ? o->out : "-", &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    const fp_serving_result *best = find_row(rows, nr, "static-best");
    FILE *out = f.fp;
    fprintf(out,
            "%s on %s (simulated, %s): %zu requests over %.0f s; SLO p99 TTFT <= %g s, TBT <= "
            "%g ms, attainment >= %g %%; control every %.0f ms\n",
            trace, m->gpu->short_name, m->model, n_req, span_s, so->ttft_s, so->tbt_s * 1000,
            so->attainment * 100, so->interval_s * 1000);
    fprintf(out, "  %-12s %9s %8s %9s %8s %9s %13s %14s %8s %6s %7s\n", "policy", "clock MHz",
            "J/token", "J/request", "saving %", "vs static", "TTFT p50/p99 s", "TBT p50/p99 ms",
            "attain %", "SLO", "changes");
    for (size_t i = 0; i < nr; i++) {
        const fp_serving_result *r = &rows[i];
        if (o->policy && strcmp(r->policy, "default") != 0 &&
            strcmp(r->policy, "static-best") != 0 && strcmp(r->policy, o->policy) != 0)
            continue;
        char clk[32], vs[32];
        if (r->static_mhz)
            snprintf(clk, sizeof clk, "%u", r->static_mhz);
        else
            snprintf(clk, sizeof clk, "~%.0f", r->mean_clock_mhz);
        if (best)
            snprintf(vs, sizeof vs, "%+.1f", 100 * (r->energy_saving - best->energy_saving));
        else
            snprintf(vs, sizeof vs, "n/a");
        fprintf(out, "  %-12s %9s %8.4f %9.1f %8.1f %9s %6.2f/%-6.2f %6.1f/%-7.1f %8.2f %6s %7lu\n",
                r->policy, clk, r->energy_per_token_j, r->energy_per_request_j,
                100 * r->energy_saving, vs, r->ttft_p50_s, r->ttft_p99_s, 1000 * r->tbt_p50_s,
                1000 * r->tbt_p99_s, 100 * r->attainment, r->meets_slo ? "met" : "MISSED",
                r->clock_changes);
    }
    if (best)
        fprintf(out,
                "best static clock meeting the SLO: %u MHz (every one of the %zu supported clocks "
                "replayed)\n",
                best->static_mhz, ns);
    else
        fprintf(out, "no static clock meets the SLO (%zu supported clocks replayed)\n", ns);
    if (fp_atomic_commit(&f, &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int write_timeline_csv(const char *path, const fp_serving_result *r)
{
    fp_atomic_file f;
    fp_error err;
    if (fp_atomic_open(&f, path, &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    fprintf(f.fp, "t_s,policy,requested_mhz,sm_clock_mhz,power_w,arrivals_per_s,waiting,running,"
                  "ttft_p99_s,tbt_p99_s\n");
    for (size_t i = 0; i < r->n_trace; i++) {
        const fp_serving_point *p = &r->trace[i];
        fprintf(f.fp, "%.3f,%s,%u,%.1f,%.2f,%.3f,%.0f,%.0f,", p->t_s, r->policy, p->requested_mhz,
                p->sm_clock_mhz, p->power_w, p->arrivals_s, p->waiting, p->running);
        if (isfinite(p->ttft_p99_s))
            fprintf(f.fp, "%.4f", p->ttft_p99_s);
        fputc(',', f.fp);
        if (isfinite(p->tbt_p99_s))
            fprintf(f.fp, "%.5f", p->tbt_p99_s);
        fputc('\n', f.fp);
    }
    if (fp_atomic_commit(&f, &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int write_requests_csv(const char *path, const fp_serving_result *r,
                              const fp_serving_opts *so)
{
    fp_atomic_file f;
    fp_error err;
    if (fp_atomic_open(&f, path, &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    fprintf(f.fp, "request,policy,arrival_s,prompt_tokens,output_tokens,ttft_s,tbt_mean_s,"
                  "tbt_max_s,e2e_s,energy_j,finished,meets_slo\n");
    for (size_t i = 0; i < r->requests; i++) {
        const fp_request_result *q = &r->req[i];
        int ok = q->finished && q->ttft_s <= so->ttft_s &&
                 (isnan(q->tbt_mean_s) || q->tbt_mean_s <= so->tbt_s);
        fprintf(f.fp, "%zu,%s,%.6f,%u,%u,", i, r->policy, q->arrival_s, q->prompt_tokens,
                q->output_tokens);
        double v[4] = {q->ttft_s, q->tbt_mean_s, q->tbt_max_s, q->e2e_s};
        for (int k = 0; k < 4; k++) {
            if (isfinite(v[k]))
                fprintf(f.fp, "%.6f", v[k]);
            fputc(',', f.fp);
        }
        fprintf(f.fp, "%.4f,%d,%d\n", q->energy_j, q->finished, ok);
    }
    if (fp_atomic_commit(&f, &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int govern_replay_serving(const gov_opts *o, int json)
{
    if (o->npos)
        return cli_usage_error("govern", "replay --serving TRACE takes no WORKLOAD");
    fp_serving_opts so;
    fp_serving_opts_default(&so);
    if (o->gpu)
        so.gpu = o->gpu;
    const fp_sim_gpu *g = fp_sim_gpu_find(so.gpu);
    if (!g)
        return cli_usage_error("govern", "--gpu '%s': expected V100, A100 or H100", so.gpu);
    if (o->has_interval)
        so.interval_s = o->interval_ms / 1000;
    if (o->latency_ms >= 0)
        so.switch_latency_s = o->latency_ms / 1000;
    so.budget = o->budget;
    if (o->slo && parse_slo(o->slo, &so) != EXIT_OK)
        return EXIT_USAGE;
    if (o->max_batch != 0 &&
        !(o->max_batch >= 1 && o->max_batch <= 4096 && o->max_batch == floor(o->max_batch)))
        return cli_usage_error("govern", "--max-batch %g: expected a whole number 1..4096",
                               o->max_batch);
    if (o->chunk_tokens != 0 && !(o->chunk_tokens >= 1 && o->chunk_tokens <= 65536 &&
                                  o->chunk_tokens == floor(o->chunk_tokens)))
        return cli_usage_error("govern", "--chunk-tokens %g: expected a whole number 1..65536",
                               o->chunk_tokens);
    so.max_batch = (unsigned)o->max_batch;
    so.chunk_tokens = (unsigned)o->chunk_tokens;
    so.latency_model = o->latency_model;
    so.slo_settings = o->set;
    so.keep_trace = 1;
    so.keep_requests = o->requests != NULL;
    const char *outs[] = {o->out, o->trace, o->requests, o->save_latency_model};
    const char *names[] = {"-o", "--trace", "--requests", "--save-latency-model"};
    for (int i = 0; i < 4; i++)
        if (outs[i] && cli_check_output("govern", names[i], outs[i]))
            return EXIT_USAGE;
    fp_error err;
    fp_server_model m;
    if (fp_server_model_init(&m, g, "llama-7b", &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    if (so.max_batch)
        m.max_batch = so.max_batch;
    if (so.chunk_tokens)
        m.chunk_tokens = so.chunk_tokens;
    if (o->save_latency_model) {
        fp_latency_model *lm = malloc(sizeof *lm);
        fp_status st = FP_ERR_NOMEM;
        if (lm) {
            fp_latency_model_learn_sim(&m, lm);
            st = fp_latency_model_save(lm, o->save_latency_model, &err);
        }
        free(lm);
        if (st != FP_OK) {
            cli_error("%s", lm ? err.msg : "out of memory");
            return EXIT_FAIL;
        }
    }
    fp_request_list reqs;
    if (fp_serving_trace_load(o->serving, &reqs, &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    fp_serving_result rows[MAX_ROWS];
    fp_serving_result *sweep = calloc(g->n_clocks, sizeof *sweep);
    size_t nr = 0, ns = 0;
    int rc = EXIT_OK;
    if (!sweep) {
        cli_error("out of memory");
        rc = EXIT_FAIL;
    } else if (fp_serving_compare(reqs.items, reqs.n, &so, rows, MAX_ROWS, &nr, sweep, g->n_clocks,
                                  &ns, &err) != FP_OK) {
        /* a bad --set or --latency-model is the user's, the rest a failure */
        cli_error("%s", err.msg);
        rc = err.code == FP_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
    }
    const char *focus = o->policy ? o->policy : "slo";
    const fp_serving_result *pr = rc == EXIT_OK ? find_row(rows, nr, focus) : NULL;
    if (rc == EXIT_OK && !pr)
        pr = find_row(rows, nr, "slo");
    double span = reqs.n ? reqs.items[reqs.n - 1].t_s : 0;
    if (rc == EXIT_OK)
        rc = json ? write_json(o, o->serving, &so, &m, reqs.n, span, rows, nr, sweep, ns, pr)
                  : write_table(o, o->serving, &so, &m, reqs.n, span, rows, nr, ns);
    if (rc == EXIT_OK && o->trace)
        rc = write_timeline_csv(o->trace, pr);
    if (rc == EXIT_OK && o->requests)
        rc = write_requests_csv(o->requests, pr, &so);
    for (size_t i = 0; i < nr; i++)
        fp_serving_result_free(&rows[i]);
    free(sweep);
    fp_request_list_free(&reqs);
    return rc;
}
