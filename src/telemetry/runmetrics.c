/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Per-run metrics over a telemetry series (docs/method-windows.md).
 *
 * Three streaming passes at most, constant memory: (1) file extent, power
 * histogram for the idle quantile, activity-based active stretch; (2) only
 * when the file has no activity metric: the power-based active stretch,
 * which needs the idle level from pass 1; (3) reductions over the window.
 * A marked window (the run's own marks, as a dataset's run.json gives them) is
 * known before the file is read: then pass 3 runs inside pass 1 and pass 2 is
 * not needed, and the file is read once.
 *
 * Pass 1 also reduces, speculatively, the stretch from the first to the last
 * active sample (snapshotting the reductions at each active sample). When the
 * window turns out to be that detected stretch and the samples around it are
 * ordered as pass 3 would see them (checked), the snapshot is exactly what
 * pass 3 would compute (the same additions in the same order), and the file
 * is read once instead of twice.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/metrics.h"

/* Power histogram: 0.25 W bins up to 2048 W; the last bin takes everything above. */
#define HIST_BIN_W 0.25
#define HIST_BINS 8192

typedef struct src {
    int (*next)(void *ctx, fp_sample *s, fp_error *err);
    fp_status (*rewind)(void *ctx, fp_error *err);
    void *ctx;
    int time_reconstructed;
    const char *name;
} src;

void fp_metrics_options_init(fp_metrics_options *opt)
{
    opt->window_start_s = NAN;
    opt->window_end_s = NAN;
    opt->duration_s = NAN;
    opt->requested_mhz = NAN;
    opt->counter_tolerance = 0.05;
    opt->clock_tolerance_mhz = 30.0;
}

static int has_activity_value(const fp_sample *s)
{
    return !isnan(s->v[FP_COL_GPU_UTIL_PCT]) || !isnan(s->v[FP_COL_SM_ACTIVE]) ||
           !isnan(s->v[FP_COL_GR_ACTIVE]);
}

static int active_by_activity(const fp_sample *s)
{
    double u = s->v[FP_COL_GPU_UTIL_PCT], sm = s->v[FP_COL_SM_ACTIVE], gr = s->v[FP_COL_GR_ACTIVE];
    return (!isnan(u) && u >= FP_ACTIVE_UTIL_PCT) || (!isnan(sm) && sm >= FP_ACTIVE_FRACTION) ||
           (!isnan(gr) && gr >= FP_ACTIVE_FRACTION);
}

static int hist_bin(double p)
{
    if (p <= 0)
        return 0;
    double b = p / HIST_BIN_W;
    if (b >= HIST_BINS - 1)
        return HIST_BINS - 1;
    return (int)b;
}

typedef struct pass1 {
    long n;
    double t_first, t_last;
    double p_max;
    long n_power;
    int activity_metric;
    double act_first_t, act_last_t; /* NAN when no active sample */
} pass1;

/* Two doubles and two 64-bit counts (GCC/clang vector extensions: SIMD where the target has
 * it, plain code elsewhere). */
typedef double v2d __attribute__((vector_size(16)));
typedef int64_t v2l __attribute__((vector_size(16)));

/* Reductions over the window (pass 3), one sample at a time. */
typedef struct acc {
    double sum[FP_COL_COUNT];
    int64_t cnt[FP_COL_COUNT];
    double t_in_first, t_in_last;
    double prev_t, prev_p, integral;
    double p_first_t, p_first; /* first valid power in the window */
    long n_in, n_power_in, n_thr, n_thr_set;
    double e_first, e_last, e_first_t, e_last_t;
    int counter_broken;
    double t_min, t_max; /* for the one-pass check */
    double max_gap;      /* longest step between two samples in the window */
} acc;

static void acc_init(acc *a)
{
    memset(a, 0, sizeof *a);
    a->t_in_first = a->t_in_last = NAN;
    a->prev_t = a->prev_p = NAN;
    a->p_first_t = a->p_first = NAN;
    a->e_first = a->e_last = NAN;
    a->e_first_t = a->e_last_t = NAN;
    a->t_min = INFINITY;
    a->t_max = -INFINITY;
}

/* Adds one sample whose t is not NAN. */
static inline void acc_add(acc *a, const fp_sample *s)
{
    double t = s->v[FP_COL_T_S], p = s->v[FP_COL_POWER_W], e = s->v[FP_COL_ENERGY_MJ];
    if (a->n_in == 0)
        a->t_in_first = t;
    else if (t - a->t_in_last > a->max_gap)
        a->max_gap = t - a->t_in_last;
    a->t_in_last = t;
    a->n_in++;
    if (t < a->t_min)
        a->t_min = t;
    if (t > a->t_max)
        a->t_max = t;
    /* Branch-free, two columns at a time: a NAN cell adds +0.0, which leaves the sum unchanged
     * (a sum that starts at +0.0 never becomes -0.0), and 0 to the count. Column 0 (t_s) is
     * summed too, never used. */
    int c = 0;
    for (; c + 2 <= FP_COL_COUNT; c += 2) {
        v2d v, sum;
        v2l cnt;
        memcpy(&v, &s->v[c], sizeof v);
        memcpy(&sum, &a->sum[c], sizeof sum);
        memcpy(&cnt, &a->cnt[c], sizeof cnt);
        v2l ok = (v2l)(v == v); /* all ones where v is a number */
        sum += (v2d)((v2l)v & ok);
        cnt -= ok;
        memcpy(&a->sum[c], &sum, sizeof sum);
        memcpy(&a->cnt[c], &cnt, sizeof cnt);
    }
    for (; c < FP_COL_COUNT; c++) {
        double v = s->v[c];
        int ok = !isnan(v);
        a->sum[c] += ok ? v : 0.0;
        a->cnt[c] += ok;
    }
    if (!isnan(p)) {
        if (!isnan(a->prev_p))
            a->integral += 0.5 * (p + a->prev_p) * (t - a->prev_t);
        else {
            a->p_first_t = t;
            a->p_first = p;
        }
        a->prev_t = t;
        a->prev_p = p;
        a->n_power_in++;
    }
    if (!isnan(e)) {
        if (isnan(a->e_first)) {
            a->e_first = e;
            a->e_first_t = t;
        } else if (e < a->e_last)
            a->counter_broken = 1; /* reset or wrap */
        a->e_last = e;
        a->e_last_t = t;
    }
    double thr = s->v[FP_COL_THROTTLE_REASONS];
    if (!isnan(thr) && thr >= 0 && thr < 18446744073709551616.0) {
        a->n_thr++;
        if ((uint64_t)thr & FP_THROTTLE_REASON_BITS)
            a->n_thr_set++;
    }
}

static double mean_of(const acc *a, int col)
{
    /* The energy counter and the throttle mask are not averaged. */
    if (col == FP_COL_ENERGY_MJ || col == FP_COL_THROTTLE_REASONS)
        return NAN;
    return a->cnt[col] ? a->sum[col] / (double)a->cnt[col] : NAN;
}

/*
 * The speculative reduction of pass 1: run accumulates every sample from the
 * first active one on; snap is run as it was just after the last active sample.
 */
typedef struct spec {
    acc run, snap;
    int started;     /* the first active sample was seen */
    int run_is_snap; /* run == snap (the last sample added was active) */
    double t_before; /* largest t before the first active sample */
    int have_after;  /* a sample followed the last active one */
    double t_after;  /* t of the first sample after the last active one */
} spec;

/*
 * The samples just outside a marked or timing window (docs/method-windows.md §2): the last
 * valid power and counter values before it and the first ones after it, so that energy can
 * be integrated up to the window's exact edges. NAN where there is none.
 */
typedef struct edges {
    double pb_t, pb, eb_t, eb; /* before: power, counter */
    double pa_t, pa, ea_t, ea; /* after */
} edges;

static void edges_init(edges *x)
{
    x->pb_t = x->pb = x->eb_t = x->eb = NAN;
    x->pa_t = x->pa = x->ea_t = x->ea = NAN;
}

/* Linear interpolation of (t0, y0)-(t1, y1) at t. */
static double lerp_at(double t0, double y0, double t1, double y1, double t)
{
    return t1 > t0 ? y0 + (y1 - y0) * (t - t0) / (t1 - t0) : y1;
}

/*
 * Trapezoid energy over [start, end] of the power series linearly interpolated: the window's
 * own trapezoid plus the pieces from each edge to the nearest sample inside, the power at the
 * edge interpolated from the neighbours across it. NAN when it cannot.
 */
static double edge_integral(const acc *a, const edges *x, double start, double end)
{
    int left = !isnan(x->pb) && !isnan(x->pb_t), right = !isnan(x->pa) && !isnan(x->pa_t);
    if (a->n_power_in == 0) {
        if (!left || !right)
            return NAN;
        double ps = lerp_at(x->pb_t, x->pb, x->pa_t, x->pa, start);
        double pe = lerp_at(x->pb_t, x->pb, x->pa_t, x->pa, end);
        return 0.5 * (ps + pe) * (end - start);
    }
    if (a->n_power_in == 1 && !(left && right))
        return NAN; /* the caller's one-sample rule */
    double e = a->integral;
    if (left && a->p_first_t > start) {
        double ps = lerp_at(x->pb_t, x->pb, a->p_first_t, a->p_first, start);
        e += 0.5 * (ps + a->p_first) * (a->p_first_t - start);
    }
    if (right && end > a->prev_t) {
        double pe = lerp_at(a->prev_t, a->prev_p, x->pa_t, x->pa, end);
        e += 0.5 * (a->prev_p + pe) * (end - a->prev_t);
    }
    return e;
}

/* The counter (mJ) interpolated at start and end (NAN when it cannot). */
static void edge_counter(const acc *a, const edges *x, double start, double end, double *e_start,
                         double *e_end)
{
    *e_start = *e_end = NAN;
    int left = !isnan(x->eb), right = !isnan(x->ea);
    if (isnan(a->e_first)) {
        if (left && right && x->ea >= x->eb) {
            *e_start = lerp_at(x->eb_t, x->eb, x->ea_t, x->ea, start);
            *e_end = lerp_at(x->eb_t, x->eb, x->ea_t, x->ea, end);
        }
        return;
    }
    *e_start = a->e_first;
    *e_end = a->e_last;
    /* A counter that went backwards across an edge (reset) is not interpolated there. */
    if (left && x->eb <= a->e_first && a->e_first_t > start)
        *e_start = lerp_at(x->eb_t, x->eb, a->e_first_t, a->e_first, start);
    if (right && x->ea >= a->e_last && end > a->e_last_t)
        *e_end = lerp_at(a->e_last_t, a->e_last, x->ea_t, x->ea, end);
}

/*
 * One sample of pass 3 (t not NAN): before the window it may be an edge sample, inside it is
 * reduced, after it the first valid power and counter are edge samples. Returns 1 when the
 * rest of the file cannot matter to the window any more.
 */
static inline int window_sample(acc *a, edges *ed, const fp_sample *s, double lo, double hi,
                                int extend)
{
    double t = s->v[FP_COL_T_S], p = s->v[FP_COL_POWER_W], e = s->v[FP_COL_ENERGY_MJ];
    if (t < lo) {
        if (!isnan(p) && !(t < ed->pb_t)) {
            ed->pb_t = t;
            ed->pb = p;
        }
        if (!isnan(e) && !(t < ed->eb_t)) {
            ed->eb_t = t;
            ed->eb = e;
        }
        return 0;
    }
    if (t > hi) {
        if (!extend)
            return 1;
        /* The first valid power and counter after the window. */
        if (!isnan(p) && isnan(ed->pa)) {
            ed->pa_t = t;
            ed->pa = p;
        }
        if (!isnan(e) && isnan(ed->ea)) {
            ed->ea_t = t;
            ed->ea = e;
        }
        return !isnan(ed->pa) && !isnan(ed->ea);
    }
    acc_add(a, s);
    return 0;
}

static fp_status metrics_core(src *in, const fp_metrics_options *opt_in, fp_run *run,
                              fp_window_info *win_out, fp_error *err)
{
    fp_metrics_options defopt;
    const fp_metrics_options *opt = opt_in;
    fp_window_info win;
    fp_sample s;
    pass1 p1;
    fp_status st;
    int rc;
    uint32_t *hist;
    spec *sp;

    if (!opt) {
        fp_metrics_options_init(&defopt);
        opt = &defopt;
    }
    memset(&win, 0, sizeof win);
    win.idle_power_w = NAN;
    win.threshold_w = NAN;
    memset(&p1, 0, sizeof p1);
    p1.t_first = p1.t_last = NAN;
    p1.p_max = -INFINITY;
    p1.act_first_t = p1.act_last_t = NAN;

    hist = calloc(HIST_BINS, sizeof *hist);
    sp = malloc(sizeof *sp);
    if (!hist || !sp) {
        free(hist);
        free(sp);
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", in->name);
    }
    /* A marked or timing window is not the detected stretch: no speculation. */
    int marked = !isnan(opt->window_start_s) && !isnan(opt->window_end_s) &&
                 opt->window_end_s >= opt->window_start_s;
    int speculate = !marked && !(!isnan(opt->duration_s) && opt->duration_s > 0);
    /* A marked window is known before the file is read: pass 3 runs inside pass 1, and the
     * file is read once (the window reductions see the samples in the same order). */
    acc a;
    edges ed;
    acc_init(&a);
    edges_init(&ed);
    int window_done = 0;
    double m_eps = marked ? 1e-9 * (fabs(opt->window_end_s) + 1.0) : 0.0;
    double m_lo = opt->window_start_s - m_eps, m_hi = opt->window_end_s + m_eps;
    acc_init(&sp->run);
    sp->started = 0;
    sp->run_is_snap = 0;
    sp->t_before = -INFINITY;
    sp->have_after = 0;
    sp->t_after = NAN;

    /* Pass 1. */
    while ((rc = in->next(in->ctx, &s, err)) == 1) {
        double t = s.v[FP_COL_T_S], p = s.v[FP_COL_POWER_W];
        if (isnan(t))
            continue;
        if (p1.n == 0)
            p1.t_first = t;
        p1.t_last = t;
        p1.n++;
        if (!isnan(p)) {
            if (hist[hist_bin(p)] < UINT32_MAX)
                hist[hist_bin(p)]++;
            p1.n_power++;
            if (p > p1.p_max)
                p1.p_max = p;
        }
        if (marked && !window_done)
            window_done = window_sample(&a, &ed, &s, m_lo, m_hi, 1);
        if (has_activity_value(&s))
            p1.activity_metric = 1;
        int active = active_by_activity(&s);
        if (active) {
            if (isnan(p1.act_first_t))
                p1.act_first_t = t;
            p1.act_last_t = t;
        }
        if (!speculate)
            continue;
        if (active) {
            sp->started = 1;
            acc_add(&sp->run, &s);
            sp->run_is_snap = 1;
            sp->have_after = 0;
        } else if (sp->started) {
            if (sp->run_is_snap) {
                sp->snap = sp->run;
                sp->run_is_snap = 0;
            }
            if (!sp->have_after) {
                sp->have_after = 1;
                sp->t_after = t;
            }
            acc_add(&sp->run, &s);
        } else if (t > sp->t_before) {
            sp->t_before = t;
        }
    }
    if (rc < 0) {
        free(hist);
        free(sp);
        return (fp_status)rc;
    }
    if (p1.n == 0) {
        free(hist);
        free(sp);
        return fp_error_set(err, FP_ERR_PARSE, "%s: no telemetry samples", in->name);
    }
    win.file_samples = p1.n;
    win.activity_metric = p1.activity_metric;
    if (p1.n_power > 0) {
        long want = (long)ceil(FP_IDLE_QUANTILE * (double)p1.n_power);
        long seen = 0;
        if (want < 1)
            want = 1;
        for (int b = 0; b < HIST_BINS; b++) {
            seen += hist[b];
            if (seen >= want) {
                win.idle_power_w = (b + 0.5) * HIST_BIN_W;
                break;
            }
        }
    }
    free(hist);

    /* Pass 2: power-based activity when the file has no utilisation/activity metric (not
     * needed to place a marked window). */
    if (!p1.activity_metric && p1.n_power > 0) {
        double margin = FP_ACTIVE_REL_MARGIN * (p1.p_max - win.idle_power_w);
        if (margin < FP_ACTIVE_MIN_MARGIN_W)
            margin = FP_ACTIVE_MIN_MARGIN_W;
        win.threshold_w = win.idle_power_w + margin;
    }
    if (!p1.activity_metric && p1.n_power > 0 && !marked) {
        if ((st = in->rewind(in->ctx, err)) != FP_OK) {
            free(sp);
            return st;
        }
        while ((rc = in->next(in->ctx, &s, err)) == 1) {
            double t = s.v[FP_COL_T_S], p = s.v[FP_COL_POWER_W];
            if (isnan(t) || isnan(p) || p <= win.threshold_w)
                continue;
            if (isnan(p1.act_first_t))
                p1.act_first_t = t;
            p1.act_last_t = t;
        }
        if (rc < 0) {
            free(sp);
            return (fp_status)rc;
        }
    }

    /* Window choice. */
    double spacing = p1.n > 1 ? (p1.t_last - p1.t_first) / (double)(p1.n - 1) : 0.0;
    if (!isnan(opt->window_start_s) && !isnan(opt->window_end_s) &&
        opt->window_end_s >= opt->window_start_s) {
        win.method = FP_WINDOW_MARKED;
        win.start_s = opt->window_start_s;
        win.end_s = opt->window_end_s;
        if (win.start_s < p1.t_first - spacing || win.end_s > p1.t_last + spacing)
            run->flags |= FP_FLAG_WINDOW_MISMATCH; /* telemetry does not cover the mark */
    } else if (!isnan(opt->duration_s) && opt->duration_s > 0) {
        win.method = FP_WINDOW_TIMING;
        run->flags |= FP_FLAG_WINDOW_FROM_TIMING;
        win.end_s = isnan(p1.act_last_t) ? p1.t_last : p1.act_last_t;
        if (isnan(p1.act_last_t))
            run->flags |= FP_FLAG_NO_ACTIVITY;
        win.start_s = win.end_s - opt->duration_s;
        if (win.start_s < p1.t_first - spacing) {
            /* The telemetry is shorter than the run: energy covers less than time. */
            win.start_s = p1.t_first;
            run->flags |= FP_FLAG_WINDOW_MISMATCH;
        }
    } else if (!isnan(p1.act_first_t)) {
        win.method = FP_WINDOW_DETECTED;
        run->flags |= FP_FLAG_WINDOW_DETECTED;
        win.start_s = p1.act_first_t;
        win.end_s = p1.act_last_t;
    } else {
        win.method = FP_WINDOW_WHOLE;
        run->flags |= FP_FLAG_NO_ACTIVITY;
        win.start_s = p1.t_first;
        win.end_s = p1.t_last;
    }

    /* Pass 3: reductions over the window, unless pass 1 already did them. */
    double eps = 1e-9 * (fabs(win.end_s) + 1.0);
    double lo = win.start_s - eps, hi = win.end_s + eps;
    const acc *done = NULL;
    /* Marked and timing windows have edges between samples: energy is extended to them. */
    int extend = win.method == FP_WINDOW_MARKED || win.method == FP_WINDOW_TIMING;
    if (speculate && win.method == FP_WINDOW_DETECTED && p1.activity_metric && sp->started) {
        /* Pass 3 skips samples below lo, stops at the first above hi: the speculative
         * stretch is its sample set when nothing before it reaches lo, everything in it
         * lies in [lo, hi] and the sample after it (if any) is above hi. */
        const acc *c = sp->run_is_snap ? &sp->run : &sp->snap;
        if (sp->t_before < lo && c->t_min >= lo && c->t_max <= hi &&
            (!sp->have_after || sp->t_after > hi))
            done = c;
    }
    if (marked) {
        /* reduced in pass 1 */
    } else if (done) {
        a = *done;
    } else {
        if ((st = in->rewind(in->ctx, err)) != FP_OK) {
            free(sp);
            return st;
        }
        acc_init(&a);
        while ((rc = in->next(in->ctx, &s, err)) == 1)
            if (!isnan(s.v[FP_COL_T_S]) && window_sample(&a, &ed, &s, lo, hi, extend))
                break;
        if (rc < 0) {
            free(sp);
            return (fp_status)rc;
        }
    }
    free(sp);
    double t_in_first = a.t_in_first, t_in_last = a.t_in_last;
    double prev_p = a.prev_p, integral = a.integral;
    long n_in = a.n_in, n_power_in = a.n_power_in, n_thr = a.n_thr, n_thr_set = a.n_thr_set;
    double e_first = a.e_first, e_last = a.e_last;
    int counter_broken = a.counter_broken;
    if (n_in == 0) {
        /* A marked or timing window between two samples: nothing to reduce. */
        run->flags |= FP_FLAG_WINDOW_MISMATCH;
    }

    double time_s;
    if (win.method == FP_WINDOW_MARKED)
        time_s = win.end_s - win.start_s;
    else if (win.method == FP_WINDOW_TIMING)
        time_s = opt->duration_s;
    else
        time_s = (n_in > 1) ? t_in_last - t_in_first : spacing;

    run->samples = n_in;
    run->time_s = time_s;
    double edge_e = extend ? edge_integral(&a, &ed, win.start_s, win.end_s) : NAN;
    if (!isnan(edge_e))
        run->energy_integral_j = edge_e;
    else if (n_power_in >= 2)
        run->energy_integral_j = integral;
    else if (n_power_in == 1 && time_s > 0)
        run->energy_integral_j = prev_p * time_s;
    else
        run->energy_integral_j = NAN;
    run->energy_counter_j = NAN;
    int counter_ext = 0;
    if (extend && !counter_broken) {
        double es, ee;
        edge_counter(&a, &ed, win.start_s, win.end_s, &es, &ee);
        if (!isnan(es) && !isnan(ee) && (es != e_first || ee != e_last)) {
            e_first = es;
            e_last = ee;
            counter_ext = 1;
        }
    }
    if (!isnan(e_first) && !counter_broken && e_last > e_first)
        run->energy_counter_j = (e_last - e_first) / 1000.0;
    else if (!isnan(e_first) && !counter_broken && e_last == e_first && (n_in > 1 || counter_ext))
        run->energy_counter_j = 0.0;
    run->energy_j = !isnan(run->energy_counter_j) ? run->energy_counter_j : run->energy_integral_j;
    if (!isnan(run->energy_counter_j) && !isnan(run->energy_integral_j) &&
        run->energy_integral_j > 0) {
        double rel = fabs(run->energy_counter_j / run->energy_integral_j - 1.0);
        if (rel > opt->counter_tolerance)
            run->flags |= FP_FLAG_COUNTER_MISMATCH;
    }
    /* Energy per time over what the energy covers: with a timing window longer
     * than the telemetry, time_s is the run's time but energy only the part seen. */
    if (win.method == FP_WINDOW_TIMING && (run->flags & FP_FLAG_WINDOW_MISMATCH) && n_in > 1)
        run->power_w = run->energy_j / (t_in_last - t_in_first);
    else
        run->power_w = time_s > 0 ? run->energy_j / time_s : mean_of(&a, FP_COL_POWER_W);

    run->sm_clock_mhz = mean_of(&a, FP_COL_SM_CLOCK_MHZ);
    if (isnan(run->sm_clock_mhz))
        run->sm_clock_mhz = mean_of(&a, FP_COL_APP_CLOCK_MHZ);
    if (!isnan(opt->requested_mhz) && !isnan(run->sm_clock_mhz) &&
        fabs(run->sm_clock_mhz - opt->requested_mhz) > opt->clock_tolerance_mhz)
        run->flags |= FP_FLAG_CLOCK_NOT_HELD;
    run->gpu_util_pct = mean_of(&a, FP_COL_GPU_UTIL_PCT);
    run->sm_active = mean_of(&a, FP_COL_SM_ACTIVE);
    run->dram_active = mean_of(&a, FP_COL_DRAM_ACTIVE);
    run->tensor_active = mean_of(&a, FP_COL_TENSOR_ACTIVE);
    run->temp_c = mean_of(&a, FP_COL_TEMP_C);
    {
        double f32 = mean_of(&a, FP_COL_FP32_ACTIVE), f64 = mean_of(&a, FP_COL_FP64_ACTIVE),
               f16 = mean_of(&a, FP_COL_FP16_ACTIVE);
        if (isnan(f32) && isnan(f64) && isnan(f16)) {
            run->fp_active = NAN;
        } else {
            run->fp_active =
                (isnan(f32) ? 0 : f32 / 2.0) + (isnan(f64) ? 0 : f64) + (isnan(f16) ? 0 : f16);
        }
    }
    /* Samples missing inside the window (a stalled sampler, a crash, a full disk): a step
     * longer than FP_GAP_SPACINGS typical steps (the others' mean) and FP_GAP_MIN_S. */
    if (n_in > 2) {
        double typical = (t_in_last - t_in_first - a.max_gap) / (double)(n_in - 2);
        if (a.max_gap > FP_GAP_MIN_S && a.max_gap > FP_GAP_SPACINGS * typical)
            run->flags |= FP_FLAG_TIME_GAP;
    }
    run->throttled_frac = n_thr ? (double)n_thr_set / (double)n_thr : NAN;
    if (n_thr && run->throttled_frac > FP_THROTTLE_MIN_FRAC)
        run->flags |= FP_FLAG_THROTTLED;
    if (in->time_reconstructed)
        run->flags |= FP_FLAG_TIME_RECONSTRUCTED;
    if (win_out)
        *win_out = win;
    return FP_OK;
}

/* Adapters: an fp_ts_reader, or an array. */
static int ts_next(void *ctx, fp_sample *s, fp_error *err)
{
    return fp_ts_next((fp_ts_reader *)ctx, s, err);
}

static fp_status ts_rewind(void *ctx, fp_error *err)
{
    return fp_ts_rewind((fp_ts_reader *)ctx, err);
}

fp_status fp_run_metrics(fp_ts_reader *r, const fp_metrics_options *opt, fp_run *run,
                         fp_window_info *win, fp_error *err)
{
    src in = {ts_next, ts_rewind, r, 0, fp_ts_path(r)};
    fp_status st = metrics_core(&in, opt, run, win, err);
    /* The flag is known only once the reader has seen rows (dcgmi interval inference). */
    if (st == FP_OK && fp_ts_get_info(r)->time_reconstructed)
        run->flags |= FP_FLAG_TIME_RECONSTRUCTED;
    return st;
}

typedef struct arr_ctx {
    const fp_sample *s;
    size_t n, i;
} arr_ctx;

static int arr_next(void *ctx, fp_sample *s, fp_error *err)
{
    arr_ctx *a = ctx;
    (void)err;
    if (a->i >= a->n)
        return 0;
    *s = a->s[a->i++];
    return 1;
}

static fp_status arr_rewind(void *ctx, fp_error *err)
{
    (void)err;
    ((arr_ctx *)ctx)->i = 0;
    return FP_OK;
}

fp_status fp_run_metrics_samples(const fp_sample *samples, size_t n, int time_reconstructed,
                                 const fp_metrics_options *opt, fp_run *run, fp_window_info *win,
                                 fp_error *err)
{
    arr_ctx a = {samples, n, 0};
    src in = {arr_next, arr_rewind, &a, time_reconstructed, "samples"};
    return metrics_core(&in, opt, run, win, err);
}
