/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot pareto: per (gpu, app) the time-energy frontier with intervals, its knee and
 * where each objective's choice (freqpilot optimize's rule) lies.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/engine_setup.h"
#include "freqpilot/atomic.h"
#include "freqpilot/optimize.h"
#include "util/json_stream.h"
#include "util/keyidx.h"

const cli_command pareto_cmd = {
    .name = "pareto",
    .summary = "time-energy Pareto frontier, knee and objective choices",
    .synopsis = "freqpilot pareto INPUT... [--objective OBJ]... [--max-slowdown X]\n"
                "                 [--constraints FILE|PRESET] [--frontier-only]\n"
                "                 [--format csv|json] [-o FILE] [optimize's statistics options]\n",
    .description =
        "INPUT as for freqpilot optimize (aggregated.csv or runs). For every (gpu, app) and\n"
        "clock with data: time and energy with their intervals, on_frontier (no other clock\n"
        "is at least as fast and as frugal and better in one), dominated_by_mhz, the knee,\n"
        "and in `choices` the objectives whose choice (optimize's rule, budget\n"
        "--max-slowdown, none by default) is this clock.\n"
        "Knee: time and energy are scaled to [0, 1] over the frontier; the knee is the\n"
        "frontier point farthest below the chord joining the fastest and the most frugal\n"
        "frontier points (knee_distance). Fewer than 3 frontier points: no knee.\n",
    .exit_status = "0 success; 1 failure; 2 usage error.\n",
    .examples = "freqpilot pareto aggregated.csv\n"
                "freqpilot pareto measured_runs.csv --format json -o pareto.json\n",
};

static void num(FILE *fp, double v)
{
    fputc(',', fp);
    if (isfinite(v))
        fprintf(fp, "%.10g", v);
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* The results by (gpu, app, chosen clock) and by (gpu, app) (clock NAN), in result order. */
static int index_results(const fp_opt_results *res, fp_keyidx **by_clock, fp_keyidx **by_curve)
{
    *by_clock = fp_keyidx_new(res->len);
    *by_curve = fp_keyidx_new(res->len);
    for (size_t i = 0; *by_clock && *by_curve && i < res->len; i++) {
        const fp_opt_result *r = &res->items[i];
        if (fp_keyidx_add(*by_clock, r->gpu, r->app, r->freq_mhz, i) < 0 ||
            fp_keyidx_add(*by_curve, r->gpu, r->app, NAN, i) < 0)
            break;
    }
    if (*by_clock && *by_curve && fp_keyidx_len(*by_curve) == res->len)
        return 0;
    fp_keyidx_free(*by_clock);
    fp_keyidx_free(*by_curve);
    *by_clock = *by_curve = NULL;
    return -1;
}

/* The objectives whose choice for curve c is clock f, ';'-separated. */
static void choices_at(const fp_opt_results *res, const fp_keyidx *by_clock, const fp_opt_curve *c,
                       double f, char *buf, size_t n)
{
    size_t len = 0, i;
    buf[0] = '\0';
    fp_keyidx_iter it;
    fp_keyidx_find(by_clock, c->gpu, c->app, f, &it);
    while (fp_keyidx_next(&it, &i)) {
        int w = snprintf(buf + len, n - len, "%s%s", len ? ";" : "", res->items[i].objective);
        if (w < 0 || len + (size_t)w >= n)
            break;
        len += (size_t)w;
    }
}

/* What the curves are written from, in either format. */
typedef struct pareto_out {
    const fp_opt_data *data;
    const fp_opt_results *res;
    const fp_keyidx *by_clock, *by_curve;
    int frontier_only;
} pareto_out;

/* The frontier of curve ci: c->n points (NULL on no memory) and the knee's index (-1: none). */
static fp_pareto_point *frontier(const fp_opt_curve *cv, long *knee)
{
    fp_pareto_point *pts = calloc(cv->n ? cv->n : 1, sizeof *pts);
    if (pts)
        *knee = fp_pareto(cv, pts);
    return pts;
}

static int shown(const pareto_out *px, const fp_opt_curve *cv, const fp_pareto_point *pts, size_t j)
{
    return fp_opt_point_ok(&cv->pts[j]) && !(px->frontier_only && !pts[j].on_frontier);
}

static json_t *curve_json(void *ctx, size_t ci)
{
    const pareto_out *px = ctx;
    const fp_opt_curve *cv = &px->data->curves[ci];
    long knee;
    fp_pareto_point *pts = frontier(cv, &knee);
    if (!pts)
        return NULL;
    json_t *jc = json_object(), *jp = json_array(), *jch = json_object();
    json_object_set_new(jc, "gpu", json_string(cv->gpu));
    json_object_set_new(jc, "app", json_string(cv->app));
    json_object_set_new(jc, "knee_mhz",
                        knee >= 0 ? json_real(cv->pts[knee].row->freq_mhz) : json_null());
    fp_keyidx_iter it;
    size_t i;
    fp_keyidx_find(px->by_curve, cv->gpu, cv->app, NAN, &it);
    while (fp_keyidx_next(&it, &i))
        json_object_set_new(jch, px->res->items[i].objective,
                            json_real(px->res->items[i].freq_mhz));
    json_object_set_new(jc, "choices", jch);
    json_object_set_new(jc, "points", jp);
    for (size_t j = 0; j < cv->n; j++) {
        if (!shown(px, cv, pts, j))
            continue;
        const fp_agg_row *r = cv->pts[j].row;
        char ch[256];
        choices_at(px->res, px->by_clock, cv, r->freq_mhz, ch, sizeof ch);
        json_t *p = json_object();
        json_object_set_new(p, "freq_mhz", json_real(r->freq_mhz));
        json_object_set_new(p, "time_s", jnum(r->time_s));
        json_object_set_new(p, "time_s_lo", jnum(r->time_s_lo));
        json_object_set_new(p, "time_s_hi", jnum(r->time_s_hi));
        json_object_set_new(p, "energy_j", jnum(r->energy_j));
        json_object_set_new(p, "energy_j_lo", jnum(r->energy_j_lo));
        json_object_set_new(p, "energy_j_hi", jnum(r->energy_j_hi));
        json_object_set_new(p, "power_w", jnum(r->power_w));
        json_object_set_new(p, "on_frontier", json_boolean(pts[j].on_frontier));
        json_object_set_new(p, "knee", json_boolean(pts[j].knee));
        json_object_set_new(p, "dominated_by_mhz", jnum(pts[j].dominated_by_mhz));
        json_object_set_new(p, "knee_distance", jnum(pts[j].knee_distance));
        json_object_set_new(p, "choices", json_string(ch));
        json_array_append_new(jp, p);
    }
    free(pts);
    return jc;
}

static int curve_csv(FILE *fp, const pareto_out *px, size_t ci)
{
    const fp_opt_curve *cv = &px->data->curves[ci];
    long knee;
    fp_pareto_point *pts = frontier(cv, &knee);
    if (!pts)
        return -1;
    for (size_t j = 0; j < cv->n; j++) {
        if (!shown(px, cv, pts, j))
            continue;
        const fp_agg_row *r = cv->pts[j].row;
        char ch[256];
        choices_at(px->res, px->by_clock, cv, r->freq_mhz, ch, sizeof ch);
        fprintf(fp, "%s,%s", cv->gpu, cv->app);
        num(fp, r->freq_mhz);
        num(fp, r->time_s);
        num(fp, r->time_s_lo);
        num(fp, r->time_s_hi);
        num(fp, r->energy_j);
        num(fp, r->energy_j_lo);
        num(fp, r->energy_j_hi);
        num(fp, r->power_w);
        fprintf(fp, ",%d,%d", pts[j].on_frontier, pts[j].knee);
        num(fp, pts[j].dominated_by_mhz);
        num(fp, pts[j].knee_distance);
        fprintf(fp, ",%s\n", ch);
    }
    free(pts);
    return 0;
}

int cmd_pareto(int argc, char **argv)
{
    cli_engine e;
    cli_engine_init(&e);
    double budget = NAN;
    int json = 0, frontier_only = 0, have_budget = 0;
    const char *output = "-", *constraints_spec = NULL;
    fp_error err;
    fp_error_clear(&err);
    const cli_option opts[] = {
        CLI_ENGINE_OBJECTIVES(&e, "objectives to place (energy,time,edp,ed2p)"),
        {.type = CLI_OPT_CALLBACK,
         .long_name = "max-slowdown",
         .value = &budget,
         .argh = "X",
         .cb = cli_opt_budget,
         .seen = &have_budget,
         .help = "budget for the choices (none)"},
        CLI_STRING("constraints", &constraints_spec, "FILE|PRESET",
                   "each app's own budget for the choices, as for freqpilot optimize (e.g. "
                   "ai-inference-energy); not with --max-slowdown"),
        CLI_ENGINE_OPTIONS(&e),
        CLI_FLAG("frontier-only", &frontier_only, "only frontier points"),
        CLI_CHOICE("format", &json, CLI_CHOICES("csv", "json"), "(csv)"),
        CLI_OUTPUT(&output, "write here ('-' = stdout, default)"),
        CLI_END,
    };
    int rc, ninputs = cli_parse_options(&pareto_cmd, opts, argc, argv, &rc);
    if (ninputs < 0)
        return rc;
    if (constraints_spec && have_budget)
        return cli_usage_error("pareto", "give either --max-slowdown or --constraints");
    fp_constraints cons;
    const fp_constraints *consp;
    if (cli_open_constraints(constraints_spec, &cons, &consp))
        return EXIT_FAIL;
    static const char *const default_objectives[] = {"energy", "time", "edp", "ed2p", NULL};
    if ((rc = cli_engine_load(&e, "pareto", argv, ninputs, default_objectives)))
        return rc;
    const fp_opt_data data = e.data;
    fp_opt_results res = {0};
    fp_atomic_file f;
    int opened = 0;
    rc = EXIT_FAIL;
    fp_keyidx *by_clock = NULL, *by_curve = NULL;
    if (cli_engine_run(&e, &budget, 1, consp, &res))
        goto out;
    if (index_results(&res, &by_clock, &by_curve)) {
        cli_error("out of memory");
        goto out;
    }
    pareto_out px = {&data, &res, by_clock, by_curve, frontier_only};
    if (json) {
        /* One curve at a time: a fleet has thousands (util/json_stream.h). */
        json_t *root = json_object();
        if (root && res.simulated)
            json_object_set_new(root, "simulated", json_true());
        if (root)
            json_object_set_new(root, "curves", json_null());
        if (fp_json_write_stream(output, root, "curves", data.ncurves, curve_json, &px,
                                 JSON_INDENT(2) | JSON_REAL_PRECISION(10), &err)) {
            cli_error("%s", err.msg);
            goto out;
        }
    } else {
        if (fp_atomic_open(&f, output, &err)) {
            cli_error("%s", err.msg);
            goto out;
        }
        opened = 1;
        fputs("gpu,app,freq_mhz,time_s,time_s_lo,time_s_hi,energy_j,energy_j_lo,energy_j_hi,"
              "power_w,on_frontier,knee,dominated_by_mhz,knee_distance,choices\n",
              f.fp);
        for (size_t ci = 0; ci < data.ncurves; ci++)
            if (curve_csv(f.fp, &px, ci)) {
                cli_error("out of memory");
                goto out;
            }
        if (fp_atomic_commit(&f, &err)) {
            cli_error("%s", err.msg);
            goto out;
        }
    }
    rc = EXIT_OK;
out:
    if (opened)
        fp_atomic_abort(&f);
    fp_keyidx_free(by_clock);
    fp_keyidx_free(by_curve);
    fp_opt_results_free(&res);
    cli_engine_free(&e);
    return rc;
}
