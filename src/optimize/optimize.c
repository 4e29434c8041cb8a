/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The engine's driver: per (gpu, app) the baseline and the estimates (estimate.c), per
 * objective and budget the choice (decide.c) and its verdict (validate.c); plus the data it
 * works on (grouping rows into curves, attaching runs, loading inputs). docs/method.md part C
 * states the rules.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "freqpilot/optimize.h"
#include "freqpilot/gpu_specs.h"
#include "util/grow.h"
#include "util/keyidx.h"
#include "util/output.h"
#include "util/input.h"

static const char *const opt_flag_names[FP_OPT_FLAG_COUNT_] = {
    "baseline_fallback", "no_significant_saving", "no_feasible_clock", "no_interval",
    "power_capped",      "suspect_saving",        "no_budget",         "no_change",
};

const char *fp_opt_flag_name(unsigned bit)
{
    return bit < FP_OPT_FLAG_COUNT_ ? opt_flag_names[bit] : NULL;
}

int fp_opt_flags_format(uint32_t data_flags, uint32_t opt_flags, char *buf, int size)
{
    int len = fp_flags_format(data_flags, buf, size);
    for (unsigned b = 0; b < FP_OPT_FLAG_COUNT_; b++) {
        if (!(opt_flags & (1u << b)))
            continue;
        int w = snprintf(buf + len, (size_t)(size > len ? size - len : 0), "%s%s", len ? ";" : "",
                         opt_flag_names[b]);
        if (w < 0 || len + w >= size)
            break;
        len += w;
    }
    return len;
}

void fp_opt_options_init(fp_opt_options *o)
{
    memset(o, 0, sizeof *o);
    o->baseline = FP_BASELINE_MAX;
    o->baseline_mhz = NAN;
    o->confidence = 0.95;
    o->budget_confidence = 0.90;
    o->margin = 0.005;
    o->min_runs = 2;
    o->pmax_w = NAN;
    o->max_power_w = NAN;
    o->suspect_saving = 0.40;
    o->cv_threshold = 0.10;
}

void fp_opt_results_free(fp_opt_results *r)
{
    free(r->items);
    r->items = NULL;
    r->len = r->cap = 0;
}

/* ---- Data ---- */

int fp_opt_point_ok(const fp_opt_point *p)
{
    return p->row->runs > 0 && isfinite(p->row->time_s) && isfinite(p->row->energy_j) &&
           p->row->time_s > 0.0 && p->row->energy_j > 0.0;
}

void fp_opt_data_free(fp_opt_data *d)
{
    for (size_t i = 0; i < d->ncurves; i++) {
        for (size_t j = 0; j < d->curves[i].n; j++) {
            free(d->curves[i].pts[j].time_runs);
            free(d->curves[i].pts[j].energy_runs);
            free(d->curves[i].pts[j].run_index);
        }
        free(d->curves[i].pts);
    }
    free(d->curves);
    free(d->agg.rows);
    free(d->agg.findings);
    memset(d, 0, sizeof *d);
}

/* The row as aggregated.csv stores it (%.10g), so that a dataset and its aggregated.csv give
 * the engine bit-identical inputs and therefore the same answers. */
static void quantize_row(fp_agg_row *r)
{
    double *v[] = {&r->freq_mhz,    &r->time_s,      &r->time_s_lo, &r->time_s_hi, &r->energy_j,
                   &r->energy_j_lo, &r->energy_j_hi, &r->power_w,   &r->time_cv,   &r->energy_cv};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        *v[i] = fp_num_as_written(*v[i]);
}

static int cmp_point_desc(const void *a, const void *b)
{
    double fa = ((const fp_opt_point *)a)->row->freq_mhz;
    double fb = ((const fp_opt_point *)b)->row->freq_mhz;
    return (fa < fb) - (fa > fb);
}

/* Attaches the kept runs to their points: (gpu, app, clock) -> point through the keyed index of
 * the points, dropped runs through aggregate's index of them. Two passes: count, then fill. */
static fp_status attach_runs(fp_opt_data *out, const fp_agg_result *agg, const fp_run_list *runs,
                             fp_error *err)
{
    size_t npts = 0;
    for (size_t k = 0; k < out->ncurves; k++)
        npts += out->curves[k].n;
    fp_opt_point **pts = malloc((npts ? npts : 1) * sizeof *pts);
    fp_keyidx *idx = fp_keyidx_new(npts);
    fp_agg_dropped_index *dropped = NULL;
    fp_status st = fp_agg_dropped_index_new(agg, &dropped, err);
    if (!st && (!pts || !idx))
        st = fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
    /* In curve order, each curve's clocks descending: a lookup finds what a scan found first. */
    npts = 0;
    for (size_t k = 0; !st && k < out->ncurves; k++)
        for (size_t j = 0; j < out->curves[k].n && !st; j++) {
            fp_opt_curve *c = &out->curves[k];
            pts[npts] = &c->pts[j];
            if (fp_keyidx_add(idx, c->gpu, c->app, c->pts[j].row->freq_mhz, npts++) < 0)
                st = fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
        }
    for (int pass = 0; pass < 2 && !st; pass++) {
        for (size_t i = 0; i < runs->len; i++) {
            const fp_run *r = &runs->items[i];
            if (!isfinite(r->time_s) || !isfinite(r->energy_j) || fp_agg_dropped_find(dropped, r))
                continue;
            long at = fp_keyidx_get(idx, r->gpu, r->app, r->freq_mhz);
            if (at < 0)
                continue;
            fp_opt_point *p = pts[at];
            if (pass == 0) {
                p->nruns++;
                continue;
            }
            p->time_runs[p->nruns] = r->time_s;
            p->energy_runs[p->nruns] = r->energy_j;
            p->run_index[p->nruns++] = r->run_index;
        }
        for (size_t k = 0; pass == 0 && k < npts; k++) {
            fp_opt_point *p = pts[k];
            if (!p->nruns)
                continue;
            p->time_runs = malloc(p->nruns * sizeof(double));
            p->energy_runs = malloc(p->nruns * sizeof(double));
            p->run_index = malloc(p->nruns * sizeof(long));
            if (!p->time_runs || !p->energy_runs || !p->run_index)
                st = fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
            p->nruns = 0;
        }
    }
    free(pts);
    fp_keyidx_free(idx);
    fp_agg_dropped_index_free(dropped);
    return st;
}

fp_status fp_opt_data_build(const fp_agg_result *agg, const fp_run_list *runs, fp_opt_data *out,
                            fp_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = agg->nrows;
    fp_agg_groups g = {0};
    fp_status st;
    if (n) {
        out->agg.rows = malloc(n * sizeof *out->agg.rows);
        if (!out->agg.rows)
            goto nomem;
        memcpy(out->agg.rows, agg->rows, n * sizeof *agg->rows);
        out->agg.nrows = n;
        for (size_t i = 0; i < n; i++)
            quantize_row(&out->agg.rows[i]);
    }
    if (agg->nfindings) {
        out->agg.findings = malloc(agg->nfindings * sizeof *agg->findings);
        if (!out->agg.findings)
            goto nomem;
        memcpy(out->agg.findings, agg->findings, agg->nfindings * sizeof *agg->findings);
        out->agg.nfindings = agg->nfindings;
    }
    /* One curve per (gpu, app), in the order of their first rows. */
    if ((st = fp_agg_groups_build(out->agg.rows, n, 1, &g, err))) {
        fp_opt_data_free(out);
        return st;
    }
    out->curves = calloc(g.ngroups ? g.ngroups : 1, sizeof *out->curves);
    if (!out->curves)
        goto nomem;
    for (size_t k = 0; k < g.ngroups; k++) {
        fp_opt_curve *c = &out->curves[out->ncurves++];
        const fp_agg_row *r0 = &out->agg.rows[g.row[g.start[k]]];
        snprintf(c->gpu, sizeof c->gpu, "%s", r0->gpu);
        snprintf(c->app, sizeof c->app, "%s", r0->app);
        size_t np = g.start[k + 1] - g.start[k];
        if (!(c->pts = calloc(np, sizeof *c->pts)))
            goto nomem;
        c->n = np;
        for (size_t j = 0; j < c->n; j++)
            c->pts[j].row = &out->agg.rows[g.row[g.start[k] + j]];
        qsort(c->pts, c->n, sizeof *c->pts, cmp_point_desc);
    }
    fp_agg_groups_free(&g);
    if (!runs)
        return FP_OK;
    out->have_runs = 1;
    if ((st = attach_runs(out, agg, runs, err)))
        fp_opt_data_free(out);
    return st;
nomem:
    fp_agg_groups_free(&g);
    fp_opt_data_free(out);
    return fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
}

/* ---- Baseline and comparisons ---- */

const char *fp_opt_curve_board(const fp_opt_curve *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->pts[i].row->gpu_name[0])
            return c->pts[i].row->gpu_name;
    return c->gpu;
}

double fp_opt_pmax(const char *gpu, const fp_opt_options *o)
{
    if (isfinite(o->pmax_w))
        return o->pmax_w;
    const fp_gpu_spec *s = fp_gpu_spec_find(gpu);
    return s ? s->power_limit_w : NAN;
}

int fp_opt_baseline(const fp_opt_curve *c, const fp_opt_options *o, int *fallback, fp_error *err)
{
    *fallback = 0;
    if (c->n == 0) {
        fp_error_set(err, FP_ERR_INVALID, "%s %s: no rows", c->gpu, c->app);
        return -1;
    }
    double target = c->pts[0].row->freq_mhz;
    if (o->baseline == FP_BASELINE_DEFAULT) {
        const char *board = fp_opt_curve_board(c);
        const fp_gpu_spec *s = fp_gpu_spec_find(board);
        if (!s || !s->default_clock_mhz) {
            fp_error_set(err, FP_ERR_INVALID,
                         "%s %s: --baseline default: the default clock of GPU '%s' is unknown "
                         "(give --baseline MHZ)",
                         c->gpu, c->app, board);
            return -1;
        }
        target = s->default_clock_mhz;
    } else if (o->baseline == FP_BASELINE_MHZ) {
        size_t j;
        for (j = 0; j < c->n; j++)
            if (fabs(c->pts[j].row->freq_mhz - o->baseline_mhz) < 0.5)
                break;
        if (j == c->n) {
            fp_error_set(err, FP_ERR_INVALID,
                         "%s %s: --baseline %.0f MHz: no such clock in the data (measured %.0f to "
                         "%.0f MHz)",
                         c->gpu, c->app, o->baseline_mhz, c->pts[c->n - 1].row->freq_mhz,
                         c->pts[0].row->freq_mhz);
            return -1;
        }
        target = o->baseline_mhz;
    }
    /*
     * A baseline of one run has no interval, and without one no other clock can be
     * compared with it; so max and default take the highest clock at or below the target
     * with at least 2 runs (any data at all when no clock has 2), a given clock as it is.
     */
    int min_runs = o->baseline == FP_BASELINE_MHZ ? 1 : 2;
    for (; min_runs >= 1; min_runs--)
        for (size_t j = 0; j < c->n; j++) {
            if (c->pts[j].row->freq_mhz > target + 0.5 || !fp_opt_point_ok(&c->pts[j]) ||
                c->pts[j].row->runs < min_runs)
                continue;
            *fallback = fabs(c->pts[j].row->freq_mhz - target) >= 0.5;
            return (int)j;
        }
    fp_error_set(err, FP_ERR_INVALID, "%s %s: no clock at or below %.0f MHz has data", c->gpu,
                 c->app, target);
    return -1;
}

static fp_status push_result(fp_opt_results *out, const fp_opt_result *r, fp_error *err)
{
    if (FP_GROW(out->items, out->len, out->cap, 16))
        return fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
    out->items[out->len++] = *r;
    return FP_OK;
}

/* Candidates of one curve for one objective: estimates, slowdown bounds, eligibility. */
static void fill_cands(const fp_opt_curve *c, const fp_opt_estimate *e, size_t b,
                       const fp_objective *obj, double pmax, const fp_opt_options *o,
                       fp_opt_cand *cand, int *capped)
{
    *capped = 0;
    for (size_t j = 0; j < c->n; j++) {
        fp_opt_cand *x = &cand[j];
        x->freq_mhz = c->pts[j].row->freq_mhz;
        x->value = fp_objective_value(obj, e->time_s[j], e->energy_j[j], pmax);
        x->eligible = isfinite(x->value) && e->eligible[j];
        x->slowdown_bound = NAN;
        if (!isfinite(e->time_s[j]))
            continue;
        fp_opt_compare m;
        fp_opt_compare_est(e, j, b, o, &m);
        /* The budget is checked on the slowdown's one-sided bound; the naive rule
         * (--point-estimate) on the slowdown itself. */
        x->slowdown_bound = o->point_estimate ? m.slowdown : m.slowdown_bound;
        if (isfinite(o->max_power_w) && e->energy_j[j] / e->time_s[j] > o->max_power_w) {
            x->eligible = 0;
            *capped = 1;
        }
    }
}

/* One (curve, objective, budget). */
static fp_status choose(const fp_opt_curve *c, const fp_opt_estimate *e, size_t b, int fallback,
                        const fp_objective *obj, double budget, const char *category,
                        const fp_opt_options *o, fp_opt_cand *cand, fp_opt_results *out,
                        fp_error *err)
{
    fp_opt_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.gpu, sizeof r.gpu, "%s", c->gpu);
    snprintf(r.app, sizeof r.app, "%s", c->app);
    snprintf(r.objective, sizeof r.objective, "%s", obj->name);
    snprintf(r.category, sizeof r.category, "%s", category ? category : "");
    r.max_slowdown = budget;
    double pmax = fp_opt_pmax(fp_opt_curve_board(c), o);
    if (obj->def->needs_pmax && !isfinite(pmax))
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s %s: objective %s needs P_max: the power limit of GPU '%s' is "
                            "unknown (not a known board; give --pmax W)",
                            c->gpu, c->app, obj->name, fp_opt_curve_board(c));
    if (isnan(budget))
        r.opt_flags |= FP_OPT_NO_BUDGET;
    if (fallback) {
        r.opt_flags |= FP_OPT_BASELINE_FALLBACK;
        snprintf(r.message, sizeof r.message,
                 "the requested baseline clock has fewer than 2 usable runs; baseline is %.0f MHz",
                 c->pts[b].row->freq_mhz);
    }
    int capped;
    fill_cands(c, e, b, obj, pmax, o, cand, &capped);
    double margin = o->point_estimate ? 0.0 : o->margin;
    size_t start = b, pick;
    int feasible = 1;
    if (capped)
        r.opt_flags |= FP_OPT_POWER_CAPPED;
    if (!cand[b].eligible && capped) {
        /* The baseline is above the power cap: start from the fastest clock under it. */
        long first = -1;
        for (size_t j = 0; j < c->n; j++)
            if (cand[j].eligible && (isnan(budget) || cand[j].slowdown_bound <= budget + 1e-9) &&
                (first < 0 || cand[j].slowdown_bound < cand[first].slowdown_bound ||
                 (cand[j].slowdown_bound == cand[first].slowdown_bound &&
                  cand[j].freq_mhz > cand[first].freq_mhz)))
                first = (long)j;
        if (first < 0)
            feasible = 0;
        else
            start = (size_t)first;
    }
    pick = feasible ? fp_opt_decide(cand, c->n, start, budget, margin) : b;
    if (!feasible) {
        r.opt_flags |= FP_OPT_NO_FEASIBLE_CLOCK;
        snprintf(r.message, sizeof r.message,
                 "no clock meets the power cap%s; returning the baseline %.0f MHz",
                 isnan(budget) ? "" : " and the slowdown budget", c->pts[b].row->freq_mhz);
    } else if (pick == b) {
        r.opt_flags |= FP_OPT_NO_CHANGE;
    }
    r.feasible = feasible;
    r.freq_mhz = c->pts[pick].row->freq_mhz;
    r.baseline_mhz = c->pts[b].row->freq_mhz;
    r.time_s = e->time_s[pick];
    r.energy_j = e->energy_j[pick];
    r.power_w = r.energy_j / r.time_s;
    r.objective_value = fp_objective_value(obj, r.time_s, r.energy_j, pmax);
    fp_opt_compare_est(e, pick, b, o, &r.cmp);
    r.data_flags = c->pts[pick].row->flags | c->pts[b].row->flags;
    r.opt_flags |= r.cmp.opt_flags;
    int time_obj = obj->def->saves_time;
    if (pick != b && !(r.cmp.opt_flags & FP_OPT_NO_INTERVAL) &&
        (time_obj ? !(r.cmp.slowdown_hi < 0.0) : !(r.cmp.energy_saving_lo > 0.0)))
        r.opt_flags |= FP_OPT_NO_SIGNIFICANT_SAVING;
    if (r.cmp.energy_saving > o->suspect_saving)
        r.opt_flags |= FP_OPT_SUSPECT_SAVING;
    fp_assessment a;
    fp_opt_assess(c, e, &r, o, &a);
    r.verdict = a.verdict;
    snprintf(r.verdict_reason, sizeof r.verdict_reason, "%s", a.reason);
    return push_result(out, &r, err);
}

fp_status fp_optimize(const fp_opt_data *d, const fp_objective *objs, size_t nobjs,
                      const double *budgets, size_t nbudgets, const fp_constraints *constraints,
                      const fp_opt_options *o, fp_opt_results *out, fp_error *err)
{
    static const double none = NAN;
    if (nbudgets == 0) {
        budgets = &none;
        nbudgets = 1;
    }
    if (!(o->confidence > 0.0 && o->confidence < 1.0) ||
        !(o->budget_confidence >= 0.5 && o->budget_confidence < 1.0))
        return fp_error_set(err, FP_ERR_INVALID,
                            "optimize: confidence must lie in (0, 1), the budget's in [0.5, 1)");
    if (!(o->margin >= 0.0 && o->margin < 1.0))
        return fp_error_set(err, FP_ERR_INVALID, "optimize: the margin must lie in [0, 1)");
    for (size_t k = 0; k < nbudgets; k++)
        if (budgets[k] < 0.0)
            return fp_error_set(err, FP_ERR_INVALID, "optimize: a slowdown budget is negative");
    for (size_t k = 0; k < nobjs; k++)
        if (!objs[k].def)
            return fp_error_set(err, FP_ERR_INVALID, "optimize: objective %zu is not parsed", k);
    snprintf(out->baseline, sizeof out->baseline, "%s",
             o->baseline == FP_BASELINE_MAX       ? "max"
             : o->baseline == FP_BASELINE_DEFAULT ? "default"
                                                  : "");
    if (o->baseline == FP_BASELINE_MHZ)
        snprintf(out->baseline, sizeof out->baseline, "%.0f", o->baseline_mhz);
    out->confidence = o->confidence;
    out->budget_confidence = o->point_estimate ? NAN : o->budget_confidence;
    out->margin = o->point_estimate ? 0.0 : o->margin;
    out->simulated = fp_agg_simulated(&d->agg);
    int warned_no_interval = 0;
    for (size_t ci = 0; ci < d->ncurves; ci++) {
        const fp_opt_curve *c = &d->curves[ci];
        int fallback;
        int b = fp_opt_baseline(c, o, &fallback, err);
        if (b < 0) {
            /* A curve without any data is skipped with a warning, not fatal. */
            if (o->baseline == FP_BASELINE_MAX) {
                fp_warn(o->diag, "%s %s: no clock with runs; skipped", c->gpu, c->app);
                continue;
            }
            return err ? err->code : FP_ERR_INVALID;
        }
        if (fallback)
            fp_warn(o->diag,
                    "%s %s: the baseline clock has fewer than 2 usable runs (e.g. the "
                    "others were cold starts); using %.0f MHz",
                    c->gpu, c->app, c->pts[b].row->freq_mhz);
        fp_opt_estimate e;
        fp_status st = fp_opt_estimate_curve(c, o, &e, err);
        if (st)
            return st;
        if (!e.have_noise && !o->point_estimate && !warned_no_interval++)
            fp_warn(o->diag,
                    "%s %s: no estimate of the run-to-run noise (one run per clock and fewer "
                    "than 5 clocks): no intervals, verdict insufficient data",
                    c->gpu, c->app);
        fp_opt_cand *cand = calloc(c->n ? c->n : 1, sizeof *cand);
        if (!cand) {
            fp_opt_estimate_free(&e);
            return fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
        }
        for (size_t oi = 0; oi < nobjs && !st; oi++)
            for (size_t k = 0; k < nbudgets && !st; k++) {
                double budget = budgets[k];
                const char *category = NULL;
                if (isnan(budget) && constraints &&
                    fp_constraints_lookup(constraints, c->app, &budget, &category) < 0) {
                    budget = NAN;
                    if (oi == 0)
                        fp_warn(o->diag, "%s %s: app not in the constraints file; no budget",
                                c->gpu, c->app);
                }
                st = choose(c, &e, (size_t)b, fallback, &objs[oi], budget, category, o, cand, out,
                            err);
            }
        free(cand);
        fp_opt_estimate_free(&e);
        if (st)
            return st;
    }
    return FP_OK;
}

/* ---- Loading ---- */

int fp_opt_is_aggregated_csv(const char *path)
{
    /* Regular files only (a FIFO is never opened); a byte-order mark skipped. */
    char line[256];
    int fd = fp_input_open(path, NULL);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    line[n > 0 ? n : 0] = '\0';
    const char *p = fp_has_bom(line, strlen(line)) ? line + FP_BOM_LEN : line;
    return strncmp(p, "gpu,app,freq_mhz,runs,runs_dropped,time_s", 41) == 0;
}

fp_status fp_opt_data_load(const char *const *paths, size_t npaths, const fp_agg_options *aopt,
                           const fp_diag *diag, fp_opt_data *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    if (npaths == 0)
        return fp_error_set(err, FP_ERR_INVALID, "no input given");
    size_t nagg = 0;
    for (size_t i = 0; i < npaths; i++)
        nagg += fp_opt_is_aggregated_csv(paths[i]) != 0;
    fp_agg_result agg;
    fp_status st;
    if (nagg) {
        if (npaths != 1)
            return fp_error_set(err, FP_ERR_INVALID,
                                "give one aggregated.csv, or raw inputs (runs) only");
        if ((st = fp_agg_read_csv(paths[0], &agg, err)))
            return st;
        st = fp_opt_data_build(&agg, NULL, out, err);
        fp_agg_result_free(&agg);
        return st;
    }
    fp_load_options lopt;
    fp_load_options_init(&lopt);
    lopt.diag = diag;
    lopt.ts.diag = diag;
    fp_run_list runs = {0};
    for (size_t i = 0; i < npaths; i++)
        if ((st = fp_runs_load(paths[i], &lopt, &runs, err))) {
            fp_run_list_free(&runs);
            return st;
        }
    if (runs.len == 0) {
        fp_run_list_free(&runs);
        return fp_error_set(err, FP_ERR_INVALID, "%s: no runs found", paths[0]);
    }
    fp_agg_options o;
    if (aopt)
        o = *aopt;
    else {
        fp_agg_options_init(&o);
        o.diag = diag;
    }
    if ((st = fp_aggregate(&runs, &o, &agg, err))) {
        fp_run_list_free(&runs);
        return st;
    }
    st = fp_opt_data_build(&agg, &runs, out, err);
    fp_agg_result_free(&agg);
    fp_run_list_free(&runs);
    return st;
}
