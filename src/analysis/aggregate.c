/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Runs -> one row per (gpu, app, clock). The rules (failed runs, cold starts,
 * outliers, centre and interval, drift, clock dependence) are stated with
 * their numbers in docs/method.md and `freqpilot aggregate --help`; keep the
 * three in step.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/stats.h"
#include "util/grow.h"

/* Cold-start horizon: the first max(COLD_MIN_POSITIONS, COLD_FRAC · runs) sweep positions. */
#define COLD_MIN_POSITIONS 6
#define COLD_FRAC 0.05
#define COLD_MIN_REL 0.10     /* a cold start is slower than the reference by more than 10 % */
#define COLD_ROBUST_SDS 3.0   /* ... and by more than 3 robust SDs of the reference runs */
#define COLD_NEAREST_CLOCKS 3 /* reference from up to 3 nearest clocks with warm runs */
#define MAD_TO_SD 1.4826
#define DRIFT_P 0.01
#define DRIFT_MIN_CHANGE 0.03
#define NCB_MIN_CV 0.05 /* time "varies" across clocks when the CV of clock medians exceeds 5 % */
#define NCB_P 0.01
#define NCB_MIN_R2 0.5
#define SAME_CLOCK_MHZ 0.5

enum { KEEP = 0, DROP_FAILED, DROP_COLD, DROP_OUTLIER, DROP_EMPTY };

void fp_agg_options_init(fp_agg_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->center = FP_CENTER_MEDIAN;
    opt->ci = FP_CI_BOOTSTRAP;
    opt->confidence = 0.95;
    opt->bootstrap_samples = 2000;
    opt->seed = FP_STATS_DEFAULT_SEED;
    opt->drop_cold_starts = 1;
    opt->drop_outliers = 1;
    opt->outlier_mad_k = 3.5;
    opt->outlier_min_rel = 0.25;
    opt->cv_threshold = 0.10;
    opt->strict = 0;
    opt->diag = NULL;
}

void fp_agg_result_free(fp_agg_result *res)
{
    if (!res)
        return;
    free(res->rows);
    free(res->findings);
    fp_run_list_free(&res->dropped);
    memset(res, 0, sizeof *res);
}

/* Working state of one run during aggregation. */
typedef struct item {
    const fp_run *run;
    size_t orig; /* index in the input list (stable tie-break) */
    long pos;    /* 0-based sweep position among the non-failed runs of its (gpu, app), -1 */
    int drop;    /* KEEP or DROP_* */
} item;

typedef struct ctx {
    const fp_agg_options *opt;
    fp_agg_result *res;
    size_t rows_cap, findings_cap;
    fp_stats_boot *boot; /* the bootstrap of every interval (NULL with --ci t) */
    fp_error *err;
} ctx;

static int same_combo(const fp_run *a, const fp_run *b)
{
    return strcmp(a->gpu, b->gpu) == 0 && strcmp(a->app, b->app) == 0;
}

static int same_clock(double a, double b)
{
    return fabs(a - b) < SAME_CLOCK_MHZ || (isnan(a) && isnan(b));
}

/* gpu, app, clock descending, then input order. */
static int cmp_group(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    int c = strcmp(a->run->gpu, b->run->gpu);
    if (c)
        return c;
    if ((c = strcmp(a->run->app, b->run->app)))
        return c;
    double fa = a->run->freq_mhz, fb = b->run->freq_mhz;
    if (!same_clock(fa, fb)) {
        if (isnan(fa))
            return 1;
        if (isnan(fb))
            return -1;
        return fa > fb ? -1 : 1;
    }
    return a->orig < b->orig ? -1 : a->orig > b->orig;
}

/* Sweep order: run_index (arg points at 1), else start_utc. */
static int cmp_sweep(const void *pa, const void *pb, void *arg)
{
    const item *a = *(item *const *)pa, *b = *(item *const *)pb;
    int by_run_index = *(const int *)arg;
    double ka = by_run_index ? (double)a->run->run_index : a->run->start_utc;
    double kb = by_run_index ? (double)b->run->run_index : b->run->start_utc;
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return a->orig < b->orig ? -1 : a->orig > b->orig;
}

static uint32_t drop_flag(int drop)
{
    return drop == DROP_COLD      ? FP_FLAG_COLD_START_DROPPED
           : drop == DROP_OUTLIER ? FP_FLAG_OUTLIER_DROPPED
           : drop == DROP_EMPTY   ? FP_FLAG_EMPTY_WINDOW
                                  : FP_FLAG_FAILED;
}

static fp_status push_row(ctx *c, const fp_agg_row *row)
{
    fp_agg_result *r = c->res;
    if (FP_GROW(r->rows, r->nrows, c->rows_cap, 16))
        return fp_error_set(c->err, FP_ERR_NOMEM, "aggregate: out of memory");
    r->rows[r->nrows++] = *row;
    return FP_OK;
}

static fp_status add_finding(ctx *c, const fp_run *combo, uint32_t flag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static fp_status add_finding(ctx *c, const fp_run *combo, uint32_t flag, const char *fmt, ...)
{
    fp_agg_result *r = c->res;
    if (FP_GROW(r->findings, r->nfindings, c->findings_cap, 8))
        return fp_error_set(c->err, FP_ERR_NOMEM, "aggregate: out of memory");
    fp_agg_finding *f = &r->findings[r->nfindings++];
    memset(f, 0, sizeof *f);
    snprintf(f->gpu, sizeof f->gpu, "%s", combo->gpu);
    snprintf(f->app, sizeof f->app, "%s", combo->app);
    f->flag = flag;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->detail, sizeof f->detail, fmt, ap);
    va_end(ap);
    return FP_OK;
}

/* A copy of a dropped run, its strings copied too (the result may outlive the runs). */
static fp_status push_dropped(ctx *c, const fp_run *run, uint32_t reason)
{
    fp_run r = *run;
    r.flags |= reason;
    return fp_run_list_push(&c->res->dropped, &r, c->err);
}

/*
 * Sweep positions of the non-failed runs of one (gpu, app): known when every
 * such run has a run_index, else when every one has a start time. Returns the
 * number of positioned runs (0 = positions unknown); sweep[] gets them in order.
 */
static size_t sweep_order(item *it, size_t n, item **sweep)
{
    size_t m = 0, with_index = 0, with_start = 0;
    for (size_t i = 0; i < n; i++) {
        if (it[i].drop)
            continue;
        m++;
        with_index += it[i].run->run_index >= 0;
        with_start += isfinite(it[i].run->start_utc) != 0;
    }
    if (m == 0 || (with_index < m && with_start < m))
        return 0;
    int by_run_index = with_index == m;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!it[i].drop)
            sweep[k++] = &it[i];
    qsort_r(sweep, m, sizeof *sweep, cmp_sweep, &by_run_index);
    for (size_t i = 0; i < m; i++)
        sweep[i]->pos = (long)i;
    return m;
}

typedef struct clockref {
    double freq_mhz;
    double dist;
} clockref;

static int cmp_clockref(const void *pa, const void *pb)
{
    const clockref *a = pa, *b = pb;
    if (a->dist != b->dist)
        return a->dist < b->dist ? -1 : 1;
    return a->freq_mhz > b->freq_mhz ? -1 : a->freq_mhz < b->freq_mhz;
}

/* What the cold-start rule compares: 0 time, 1 energy, 2 energy / (mean power x time), the
 * counter's energy against power times the timed window (NAN when energy came from power). */
static double run_value(const fp_run *r, int what)
{
    if (what == 0)
        return r->time_s;
    if (what == 1)
        return r->energy_j;
    if (r->flags & FP_FLAG_ENERGY_FROM_POWER)
        return NAN;
    double pt = r->power_w * r->time_s;
    return pt > 0.0 ? r->energy_j / pt : NAN;
}

/*
 * Reference of a quantity (run_value) for a run in the cold-start horizon: the warm runs
 * (outside the horizon) at its clock, else at the nearest clocks that have warm runs. Energy
 * itself changes with the clock (a higher clock than the reference's draws more), so it is
 * only compared at the same clock; time falls with the clock, so a faster clock never looks
 * cold, and the energy's ratio to power x time does not depend on the clock.
 */
static int cold_reference(item *const *sweep, size_t m, size_t horizon, double freq, int energy,
                          double *ref, double *robust_sd, double *buf, clockref *clocks)
{
    size_t k = 0, nclocks = 0;
    for (size_t i = horizon; i < m; i++)
        if (same_clock(sweep[i]->run->freq_mhz, freq))
            buf[k++] = run_value(sweep[i]->run, energy);
    if (fp_stats_count(buf, k) == 0 && energy == 1)
        return -1;
    if (fp_stats_count(buf, k) == 0) {
        k = 0;
        for (size_t i = horizon; i < m; i++) {
            double f = sweep[i]->run->freq_mhz;
            size_t j = 0;
            while (j < nclocks && !same_clock(clocks[j].freq_mhz, f))
                j++;
            if (j == nclocks && isfinite(f) && isfinite(run_value(sweep[i]->run, energy)))
                clocks[nclocks++] = (clockref){f, fabs(f - freq)};
        }
        qsort(clocks, nclocks, sizeof *clocks, cmp_clockref);
        if (nclocks > COLD_NEAREST_CLOCKS)
            nclocks = COLD_NEAREST_CLOCKS;
        for (size_t i = horizon; i < m; i++)
            for (size_t j = 0; j < nclocks; j++)
                if (same_clock(sweep[i]->run->freq_mhz, clocks[j].freq_mhz))
                    buf[k++] = run_value(sweep[i]->run, energy);
    }
    if (fp_stats_count(buf, k) == 0)
        return -1;
    *ref = fp_stats_median(buf, k);
    *robust_sd = MAD_TO_SD * fp_stats_mad(buf, k);
    return 0;
}

static fp_status mark_cold_starts(ctx *c, item *const *sweep, size_t m, double *buf,
                                  clockref *clocks)
{
    size_t horizon = (size_t)floor(COLD_FRAC * (double)m);
    if (horizon < COLD_MIN_POSITIONS)
        horizon = COLD_MIN_POSITIONS;
    if (horizon >= m)
        return FP_OK; /* no warm runs to compare with */
    for (size_t i = 0; i < horizon; i++) {
        const fp_run *r = sweep[i]->run;
        /*
         * Time, energy or the energy's ratio to mean power x time out of line: a run can load
         * its model inside the energy window while its timed window is normal (A100 LLaMA's
         * second run: 32.8 s, but 6580 J, 2.04 x P x T where warm runs nearby show 1.3-1.6).
         */
        double ref[3], rsd[3], margin[3];
        int out_of_line[3] = {0, 0, 0}, known = 0;
        for (int q = 0; q < 3; q++) {
            double v = run_value(r, q);
            if (!isfinite(v) || cold_reference(sweep, m, horizon, r->freq_mhz, q, &ref[q], &rsd[q],
                                               buf, clocks) < 0)
                continue;
            known = 1;
            margin[q] = fmax(COLD_MIN_REL * ref[q], COLD_ROBUST_SDS * rsd[q]);
            out_of_line[q] = v - ref[q] > margin[q];
        }
        if (!known || !(out_of_line[0] || out_of_line[1] || out_of_line[2]))
            break;
        sweep[i]->drop = DROP_COLD;
        int q = out_of_line[0] ? 0 : out_of_line[1] ? 1 : 2;
        static const char *const what[] = {
            "", " (energy out of line, time normal)",
            " (energy / (power x time) out of line: energy outside the timed window)"};
        static const char *const unit[] = {" s", " J", ""};
        fp_info(c->opt->diag,
                "%s %s %.0f MHz: sweep position %zu (%s) is a cold start: %.4g%s vs %.4g%s "
                "warm reference (margin %.3g%s)%s; dropped",
                r->gpu, r->app, r->freq_mhz, i + 1, r->source, run_value(r, q), unit[q], ref[q],
                unit[q], margin[q], unit[q], what[q]);
    }
    return FP_OK;
}

typedef struct devidx {
    double dev;
    size_t idx;
} devidx;

static int cmp_dev_desc(const void *pa, const void *pb)
{
    const devidx *a = pa, *b = pb;
    if (a->dev != b->dev)
        return a->dev > b->dev ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Outliers in one clock group g[0..n) (after cold starts); keeps at least 2 runs. */
static void mark_outliers(ctx *c, item *g, size_t n, double *buf, devidx *dv)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!g[i].drop && isfinite(g[i].run->time_s))
            buf[k++] = g[i].run->time_s;
    if (k < 3)
        return;
    double med = fp_stats_median(buf, k), mad = fp_stats_mad(buf, k);
    double limit = fmax(c->opt->outlier_mad_k * MAD_TO_SD * mad, c->opt->outlier_min_rel * med);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        if (!g[i].drop && isfinite(g[i].run->time_s) && fabs(g[i].run->time_s - med) > limit)
            dv[nd++] = (devidx){fabs(g[i].run->time_s - med), i};
    qsort(dv, nd, sizeof *dv, cmp_dev_desc);
    for (size_t j = 0; j < nd && k > 2; j++, k--) {
        const fp_run *r = g[dv[j].idx].run;
        g[dv[j].idx].drop = DROP_OUTLIER;
        fp_info(c->opt->diag,
                "%s %s %.0f MHz: %s is an outlier: %.4g s vs median %.4g s (limit ±%.3g s); "
                "dropped",
                r->gpu, r->app, r->freq_mhz, r->source, r->time_s, med, limit);
    }
}

static double center_of(const fp_agg_options *opt, const double *x, size_t n)
{
    return fp_stats_center(x, n, opt->center == FP_CENTER_MEAN ? FP_STAT_MEAN : FP_STAT_MEDIAN);
}

static fp_status interval(ctx *c, const double *x, size_t n, double *lo, double *hi)
{
    const fp_agg_options *o = c->opt;
    int rc;
    if (o->ci == FP_CI_T)
        rc = fp_stats_t_ci(x, n, o->confidence, lo, hi);
    else
        rc = fp_stats_boot_ci(c->boot, x, n, lo, hi);
    if (rc < 0)
        return fp_error_set(c->err, FP_ERR_NOMEM, "aggregate: out of memory in the interval");
    return FP_OK;
}

static double mean_field(const item *g, size_t n, size_t off, double *buf)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!g[i].drop)
            buf[k++] = *(const double *)((const char *)g[i].run + off);
    return fp_stats_mean(buf, k);
}

/* One row from the clock group g[0..n) whose drops are decided. */
static fp_status make_row(ctx *c, const item *g, size_t n, double *buf, double *buf2)
{
    fp_agg_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.gpu, sizeof row.gpu, "%s", g[0].run->gpu);
    snprintf(row.app, sizeof row.app, "%s", g[0].run->app);
    row.freq_mhz = g[0].run->freq_mhz;
    /* The board is known only when every run of the clock names the same one. */
    snprintf(row.gpu_name, sizeof row.gpu_name, "%s", g[0].run->gpu_name);
    for (size_t i = 1; i < n && row.gpu_name[0]; i++)
        if (strcmp(g[i].run->gpu_name, row.gpu_name) != 0)
            row.gpu_name[0] = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (g[i].drop) {
            row.runs_dropped++;
            row.flags |= drop_flag(g[i].drop);
            continue;
        }
        row.flags |= g[i].run->flags;
        k++;
    }
    row.runs = (int)k;
    /* Time and energy. */
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (!g[i].drop) {
            buf[k] = g[i].run->time_s;
            buf2[k++] = g[i].run->energy_j;
        }
    fp_status st;
    row.time_s = center_of(c->opt, buf, k);
    row.energy_j = center_of(c->opt, buf2, k);
    row.time_cv = fp_stats_cv(buf, k);
    row.energy_cv = fp_stats_cv(buf2, k);
    if ((st = interval(c, buf, k, &row.time_s_lo, &row.time_s_hi)) ||
        (st = interval(c, buf2, k, &row.energy_j_lo, &row.energy_j_hi)))
        return st;
    /* Power: centre of the per-run mean powers (energy / time where a run has none). */
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (!g[i].drop) {
            double p = g[i].run->power_w;
            if (!isfinite(p) && g[i].run->time_s > 0.0)
                p = g[i].run->energy_j / g[i].run->time_s;
            buf[k++] = p;
        }
    row.power_w = center_of(c->opt, buf, k);
    row.edp = row.energy_j * row.time_s;
    row.ed2p = row.energy_j * row.time_s * row.time_s;
    row.sm_clock_mhz = mean_field(g, n, offsetof(fp_run, sm_clock_mhz), buf);
    row.gpu_util_pct = mean_field(g, n, offsetof(fp_run, gpu_util_pct), buf);
    row.sm_active = mean_field(g, n, offsetof(fp_run, sm_active), buf);
    row.dram_active = mean_field(g, n, offsetof(fp_run, dram_active), buf);
    row.tensor_active = mean_field(g, n, offsetof(fp_run, tensor_active), buf);
    row.fp_active = mean_field(g, n, offsetof(fp_run, fp_active), buf);
    row.temp_c = mean_field(g, n, offsetof(fp_run, temp_c), buf);
    /* Energy too: runs of equal time can disagree on energy (e.g. windows of different length). */
    if ((isfinite(row.time_cv) && row.time_cv > c->opt->cv_threshold) ||
        (isfinite(row.energy_cv) && row.energy_cv > c->opt->cv_threshold))
        row.flags |= FP_FLAG_HIGH_CV;
    return push_row(c, &row);
}

/* Fitted change of a y-on-position regression over the positions spanned. */
static fp_status drift_check(ctx *c, const fp_run *combo, const double *x, const double *y,
                             size_t n, const char *what, uint32_t *combo_flags)
{
    fp_ols fit;
    if (fp_stats_ols(x, y, n, &fit) < 0)
        return fp_error_set(c->err, FP_ERR_NOMEM, "aggregate: out of memory");
    if (!isfinite(fit.slope))
        return FP_OK;
    double xmin = INFINITY, xmax = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i])) {
            xmin = fmin(xmin, x[i]);
            xmax = fmax(xmax, x[i]);
        }
    double change = fit.slope * (xmax - xmin);
    if (fit.p_two_sided < DRIFT_P && fabs(change) > DRIFT_MIN_CHANGE) {
        *combo_flags |= FP_FLAG_DRIFT;
        return add_finding(c, combo, FP_FLAG_DRIFT,
                           "%s drifts by %+.2f %% over sweep positions %.0f-%.0f (OLS slope "
                           "%.3g %%/position, p = %.3g, n = %zu)",
                           what, 100.0 * change, xmin + 1, xmax + 1, 100.0 * fit.slope,
                           fit.p_two_sided, fit.n);
    }
    return FP_OK;
}

/* Number of separate visits (blocks of consecutive sweep positions) of the max clock. */
static size_t visits(const item *const *sweep, size_t m, double f_top)
{
    size_t v = 0;
    int in = 0;
    for (size_t i = 0; i < m; i++) {
        int at = !sweep[i]->drop && same_clock(sweep[i]->run->freq_mhz, f_top);
        int other = !sweep[i]->drop && !at;
        if (at && !in)
            v++;
        if (at)
            in = 1;
        else if (other)
            in = 0;
    }
    return v;
}

/* Drift, baseline revisit and clock dependence of one (gpu, app) it[0..n), rows r0.. */
static fp_status combo_checks(ctx *c, item *it, size_t n, item **sweep, size_t m, size_t r0,
                              double *x, double *y)
{
    const fp_run *combo = it[0].run;
    uint32_t combo_flags = 0;
    fp_agg_row *rows = c->res->rows + r0;
    size_t nrows = c->res->nrows - r0;
    fp_status st;
    double f_top = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (!it[i].drop && isfinite(it[i].run->freq_mhz))
            f_top = fmax(f_top, it[i].run->freq_mhz);

    if (m > 0) {
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
            if (sweep[i]->drop)
                continue;
            double med = NAN;
            for (size_t j = 0; j < nrows; j++)
                if (same_clock(rows[j].freq_mhz, sweep[i]->run->freq_mhz))
                    med = rows[j].time_s;
            x[k] = (double)sweep[i]->pos;
            y[k++] = med > 0.0 ? sweep[i]->run->time_s / med - 1.0 : NAN;
        }
        if ((st = drift_check(c, combo, x, y, k, "time relative to its clock's median",
                              &combo_flags)))
            return st;
        if (isfinite(f_top) && visits((const item *const *)sweep, m, f_top) >= 2) {
            k = 0;
            for (size_t i = 0; i < m; i++)
                if (!sweep[i]->drop && same_clock(sweep[i]->run->freq_mhz, f_top)) {
                    x[k] = (double)sweep[i]->pos;
                    y[k++] = sweep[i]->run->time_s;
                }
            double med = fp_stats_median(y, k);
            for (size_t i = 0; i < k; i++)
                y[i] = y[i] / med - 1.0;
            char what[96];
            snprintf(what, sizeof what, "time at the revisited baseline clock %.0f MHz", f_top);
            if ((st = drift_check(c, combo, x, y, k, what, &combo_flags)))
                return st;
        }
    }

    /* Clock dependence: time = a + b · fmax / f over the kept runs. */
    double *med = y;
    size_t nmed = 0;
    for (size_t j = 0; j < nrows; j++)
        if (rows[j].runs > 0 && isfinite(rows[j].time_s))
            med[nmed++] = rows[j].time_s;
    double cv = nmed >= 3 ? fp_stats_cv(med, nmed) : NAN;
    if (isfinite(cv) && cv > NCB_MIN_CV) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!it[i].drop && it[i].run->freq_mhz > 0.0) {
                x[k] = f_top / it[i].run->freq_mhz;
                y[k++] = it[i].run->time_s;
            }
        fp_ols fit;
        if (fp_stats_ols(x, y, k, &fit) < 0)
            return fp_error_set(c->err, FP_ERR_NOMEM, "aggregate: out of memory");
        if (isfinite(fit.slope) && (!(fit.p_greater < NCB_P) || !(fit.r2 >= NCB_MIN_R2))) {
            combo_flags |= FP_FLAG_NOT_CLOCK_BOUND;
            if ((st = add_finding(c, combo, FP_FLAG_NOT_CLOCK_BOUND,
                                  "time varies across clocks (CV of clock medians %.1f %%) but is "
                                  "not explained by the clock: time = %.4g + %.4g * fmax/f s, "
                                  "R^2 = %.3f, slope p = %.3g, n = %zu runs",
                                  100.0 * cv, fit.intercept, fit.slope, fit.r2, fit.p_greater,
                                  fit.n)))
                return st;
        }
    }
    for (size_t j = 0; j < nrows; j++)
        rows[j].flags |= combo_flags;
    return FP_OK;
}

/* Builds the strict-mode error listing every warning-level finding. */
static fp_status strict_check(const fp_agg_result *res, fp_error *err)
{
    char msg[sizeof err->msg];
    size_t len = 0, count = 0;
    msg[0] = '\0';
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (len < sizeof msg)                                                                      \
            len += (size_t)snprintf(msg + len, sizeof msg - len, __VA_ARGS__);                     \
    } while (0)
    for (size_t i = 0; i < res->dropped.len; i++, count++) {
        const fp_run *r = &res->dropped.items[i];
        APPEND("; dropped %s %s %.0f MHz (%s)", r->gpu, r->app, r->freq_mhz, r->source);
    }
    for (size_t i = 0; i < res->nrows; i++)
        if (res->rows[i].flags) {
            char f[256];
            fp_flags_format(res->rows[i].flags, f, sizeof f);
            APPEND("; %s %s %.0f MHz: %s", res->rows[i].gpu, res->rows[i].app,
                   res->rows[i].freq_mhz, f);
            count++;
        }
    for (size_t i = 0; i < res->nfindings; i++, count++)
        APPEND("; %s %s: %s", res->findings[i].gpu, res->findings[i].app, res->findings[i].detail);
#undef APPEND
    if (count == 0)
        return FP_OK;
    return fp_error_set(err, FP_ERR_QUALITY, "--strict: %zu data-quality finding%s%s", count,
                        count == 1 ? "" : "s", msg);
}

static fp_status check_options(const fp_agg_options *o, fp_error *err)
{
    if (!(o->confidence > 0.0 && o->confidence < 1.0))
        return fp_error_set(err, FP_ERR_INVALID, "aggregate: confidence must be in (0, 1), got %g",
                            o->confidence);
    if (o->ci == FP_CI_BOOTSTRAP && (o->bootstrap_samples < 100 || o->bootstrap_samples > 10000000))
        return fp_error_set(err, FP_ERR_INVALID,
                            "aggregate: bootstrap samples must be in 100..10000000, got %d",
                            o->bootstrap_samples);
    if (!(o->outlier_mad_k > 0.0) || !(o->outlier_min_rel >= 0.0))
        return fp_error_set(err, FP_ERR_INVALID, "aggregate: outlier thresholds must be positive");
    if (!(o->cv_threshold >= 0.0))
        return fp_error_set(err, FP_ERR_INVALID, "aggregate: cv threshold must be >= 0");
    if ((unsigned)o->center > FP_CENTER_MEAN || (unsigned)o->ci > FP_CI_T)
        return fp_error_set(err, FP_ERR_INVALID, "aggregate: unknown centre or interval method");
    return FP_OK;
}

/*
 * Which energy a combo's runs carry, said once: the counter's (or the table's energy_j) or
 * mean power x time, and how the counter compares with power x time (docs/method.md B.3).
 */
static void energy_source(ctx *c, const item *it, size_t n, double *buf)
{
    size_t from_power = 0, mismatch = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        const fp_run *r = it[i].run;
        from_power += (r->flags & FP_FLAG_ENERGY_FROM_POWER) != 0;
        mismatch += (r->flags & FP_FLAG_WINDOW_MISMATCH) != 0;
        double q = run_value(r, 2);
        if (isfinite(q))
            buf[k++] = q;
    }
    if (!n || (!mismatch && !from_power))
        return;
    fp_info(c->opt->diag,
            "%s %s: energy used: %s on %zu of %zu runs, mean power x time on %zu; counter / "
            "(power x time) median %.3g, %zu runs beyond 5 %% (window_mismatch: the energy and "
            "timed windows differ)",
            it[0].run->gpu, it[0].run->app, "the energy counter (energy_j)", n - from_power, n,
            from_power, k ? fp_stats_median(buf, k) : NAN, mismatch);
}

static fp_status aggregate_combo(ctx *c, item *it, size_t n, item **sweep, double *buf,
                                 double *buf2, clockref *clocks, devidx *dv)
{
    fp_status st;
    energy_source(c, it, n, buf);
    for (size_t i = 0; i < n; i++) {
        const fp_run *r = it[i].run;
        if (r->flags & FP_FLAG_FAILED) {
            it[i].drop = DROP_FAILED;
        } else if (r->time_s <= 0 || r->energy_j <= 0) {
            /* A window without time or energy measured nothing: never a row's data. */
            it[i].drop = DROP_EMPTY;
            fp_info(c->opt->diag,
                    "%s %s %.0f MHz: %s: time %.4g s, energy %.4g J: an empty window measures "
                    "nothing; dropped",
                    r->gpu, r->app, r->freq_mhz, r->source, r->time_s, r->energy_j);
        }
    }
    size_t m = sweep_order(it, n, sweep);
    if (m > 0 && c->opt->drop_cold_starts)
        if ((st = mark_cold_starts(c, sweep, m, buf, clocks)))
            return st;
    size_t r0 = c->res->nrows;
    for (size_t g0 = 0; g0 < n;) {
        size_t g1 = g0 + 1;
        while (g1 < n && same_clock(it[g1].run->freq_mhz, it[g0].run->freq_mhz))
            g1++;
        if (c->opt->drop_outliers)
            mark_outliers(c, it + g0, g1 - g0, buf, dv);
        if ((st = make_row(c, it + g0, g1 - g0, buf, buf2)))
            return st;
        g0 = g1;
    }
    if ((st = combo_checks(c, it, n, sweep, m, r0, buf, buf2)))
        return st;
    /* Dropped runs in sweep order, then those without a position (failed ones) by clock. */
    for (size_t i = 0; i < m; i++)
        if (sweep[i]->drop && (st = push_dropped(c, sweep[i]->run, drop_flag(sweep[i]->drop))))
            return st;
    for (size_t i = 0; i < n; i++)
        if (it[i].drop && it[i].pos < 0 && (st = push_dropped(c, it[i].run, drop_flag(it[i].drop))))
            return st;
    return FP_OK;
}

fp_status fp_aggregate(const fp_run_list *runs, const fp_agg_options *opt, fp_agg_result *out,
                       fp_error *err)
{
    fp_agg_options defaults;
    if (!opt) {
        fp_agg_options_init(&defaults);
        opt = &defaults;
    }
    memset(out, 0, sizeof *out);
    if (!runs)
        return fp_error_set(err, FP_ERR_INVALID, "aggregate: no run list");
    fp_status st = check_options(opt, err);
    if (st)
        return st;
    if (runs->len == 0)
        return fp_error_set(err, FP_ERR_INVALID, "aggregate: no runs to aggregate");
    size_t n = runs->len;
    item *it = calloc(n, sizeof *it);
    item **sweep = calloc(n, sizeof *sweep);
    double *buf = calloc(n, sizeof *buf), *buf2 = calloc(n, sizeof *buf2);
    clockref *clocks = calloc(n, sizeof *clocks);
    devidx *dv = calloc(n, sizeof *dv);
    ctx c = {opt, out, 0, 0, NULL, err};
    if (opt->ci == FP_CI_BOOTSTRAP)
        c.boot = fp_stats_boot_new(opt->center == FP_CENTER_MEAN ? FP_STAT_MEAN : FP_STAT_MEDIAN,
                                   opt->confidence, opt->bootstrap_samples, opt->seed);
    if (!it || !sweep || !buf || !buf2 || !clocks || !dv ||
        (opt->ci == FP_CI_BOOTSTRAP && !c.boot)) {
        st = fp_error_set(err, FP_ERR_NOMEM, "aggregate: out of memory for %zu runs", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        it[i] = (item){&runs->items[i], i, -1, KEEP};
    qsort(it, n, sizeof *it, cmp_group);
    for (size_t c0 = 0; c0 < n;) {
        size_t c1 = c0 + 1;
        while (c1 < n && same_combo(it[c1].run, it[c0].run))
            c1++;
        if ((st = aggregate_combo(&c, it + c0, c1 - c0, sweep, buf, buf2, clocks, dv)))
            goto done;
        c0 = c1;
    }
    if (opt->strict)
        st = strict_check(out, err);
done:
    fp_stats_boot_free(c.boot);
    free(it);
    free(sweep);
    free(buf);
    free(buf2);
    free(clocks);
    free(dv);
    if (st)
        fp_agg_result_free(out);
    return st;
}
