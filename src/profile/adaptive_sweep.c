/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The adaptive sweep behind `freqpilot profile --strategy adaptive` (adaptive_sweep.h): a
 * dynamic plan for fp_sweep_run. Before each run the plan reads the previous run back from the
 * dataset (run.json + telemetry.csv -> time and energy over its window), hands it to the
 * strategy (fp_adaptive_add) and asks it for the next clock (fp_adaptive_next).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/atomic.h"
#include "freqpilot/dataset.h"
#include "freqpilot/metrics.h"
#include "freqpilot/reader.h"
#include "freqpilot/adaptive_sweep.h"
#include "util/asuser.h"
#include "util/grow.h"

/* Failed runs in a row after which the sweep stops (the strategy would ask again). */
#define MAX_FAILED_IN_A_ROW 3

typedef struct seq_entry {
    unsigned clock_mhz;
    int repetition;
    long position; /* 1-based sweep position */
    double time_s, energy_j;
    int resumed, failed;
} seq_entry;

typedef struct ad_state {
    const fp_sweep_opts *so;
    const fp_adaptive_options *ao;
    fp_adaptive *a;
    int started;
    char gpu[64], app[64];
    unsigned *clocks;
    size_t nc;
    int *reps, *warm; /* highest repetition / warm-up number per clock */
    size_t pos_base;  /* sweep positions already used in the dataset */
    int warmups_left; /* warm-ups of this session still to run */
    int have_last;
    fp_sweep_item last;
    seq_entry *seq;
    size_t nseq, capseq;
    fp_run_list runs; /* measured runs (for the measured points of curves.json) */
    size_t resumed;
    int failed_in_a_row;
    size_t nwarm;
    double warm_time;
} ad_state;

static fp_status push_seq(ad_state *s, const seq_entry *e, fp_error *err)
{
    if (FP_GROW(s->seq, s->nseq, s->capseq, 32))
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    s->seq[s->nseq++] = *e;
    return FP_OK;
}

/* Folder of (clock, repetition, warmup) in the dataset. */
static fp_status run_dir(const ad_state *s, unsigned clock, int rep, int warmup, char *buf,
                         size_t size, fp_error *err)
{
    fp_run_record rec;
    fp_run_record_init(&rec);
    snprintf(rec.gpu, sizeof rec.gpu, "%s", s->gpu);
    snprintf(rec.app, sizeof rec.app, "%s", s->app);
    rec.requested_clock_mhz = clock;
    rec.repetition = rep;
    rec.warmup = warmup;
    return fp_dataset_run_dir(buf, size, s->so->out_dir, &rec, 0, err);
}

/* A finished run read back: its record and its metrics over the window. */
static fp_status load_run_here(const char *dir, fp_run_record *rec, fp_run_buf *b, fp_error *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/run.json", dir);
    fp_status st = fp_dataset_read_run_json(path, rec, err);
    if (st)
        return st;
    fp_run_buf_init(b);
    fp_run *run = &b->run;
    snprintf(b->gpu, sizeof b->gpu, "%s", rec->gpu);
    snprintf(b->app, sizeof b->app, "%s", rec->app);
    run->freq_mhz = rec->requested_clock_mhz;
    run->run_index = rec->sweep_position;
    run->repetition = rec->repetition;
    run->start_utc = rec->start_utc_s;
    if (fp_run_record_failed(rec))
        run->flags |= FP_FLAG_FAILED;
    snprintf(path, sizeof path, "%s/%s", dir, rec->telemetry[0] ? rec->telemetry : "telemetry.csv");
    snprintf(b->source, sizeof b->source, "%.255s", path);
    fp_ts_options to;
    memset(&to, 0, sizeof to);
    to.gpu_index = -1;
    fp_ts_reader *r;
    if ((st = fp_ts_open(path, FP_FMT_TELEMETRY, &to, &r, err)))
        return st;
    fp_metrics_options m;
    fp_metrics_options_init(&m);
    m.requested_mhz = rec->requested_clock_mhz;
    m.window_start_s = rec->window_start_s;
    m.window_end_s = rec->window_end_s;
    st = fp_run_metrics(r, &m, run, NULL, err);
    fp_ts_close(r);
    return st;
}

typedef struct loaded_run {
    fp_run_record rec;
    fp_run_buf run; /* the strings inside: the struct comes back whole from the user's side */
} loaded_run;

static fp_status load_run_step(void *arg, void *ret, fp_error *err)
{
    loaded_run *l = ret;
    return load_run_here(arg, &l->rec, &l->run, err);
}

/* The dataset is the user's: read as the user behind sudo (util/asuser.h). */
static fp_status load_run(const char *dir, fp_run_record *rec, fp_run_buf *run, fp_error *err)
{
    const fp_invoker *who;
    loaded_run l;
    memset(&l, 0, sizeof l);
    fp_status st = fp_invoker_get(&who, err);
    if (!st)
        st = fp_invoker_call(who, load_run_step, (void *)dir, &l, sizeof l, err);
    *rec = l.rec;
    *run = l.run;
    run->run.gpu = run->gpu; /* its strings, in its own buffers */
    run->run.gpu_name = run->gpu_name;
    run->run.app = run->app;
    run->run.source = run->source;
    return st;
}

static double run_energy(const fp_run *run)
{
    if (isfinite(run->energy_j) && run->energy_j > 0)
        return run->energy_j;
    return run->power_w * run->time_s;
}

/* A measured run (this session's or an earlier one's) handed to the strategy. */
static fp_status take_measured(ad_state *s, const fp_run_record *rec, fp_run *run, int resumed,
                               fp_error *err)
{
    seq_entry e = {
        .clock_mhz = (unsigned)lround(rec->requested_clock_mhz),
        .repetition = rec->repetition,
        .position = rec->sweep_position,
        .time_s = run->time_s,
        .energy_j = run_energy(run),
        .resumed = resumed,
    };
    e.failed = rec->exit_status != 0 || !(e.time_s > 0) || !(e.energy_j > 0);
    fp_status st = push_seq(s, &e, err);
    if (st || e.failed)
        return st;
    if ((st = fp_adaptive_add(s->a, e.clock_mhz, e.time_s, e.energy_j, err)))
        return st;
    s->resumed += resumed;
    return fp_run_list_push(&s->runs, run, err);
}

static int parse_rep(const char *name, int *warmup)
{
    *warmup = name[0] == 'w';
    const char *p = name + *warmup;
    if (!*p)
        return -1;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return -1;
    long v = strtol(p, NULL, 10);
    return v > 0 && v < 1000000 ? (int)v : -1;
}

static int cmp_seq(const void *a, const void *b)
{
    const seq_entry *x = a, *y = b;
    return x->position < y->position ? -1 : x->position > y->position;
}

/* Resume: every run already in the dataset at one of the clocks, fed to the strategy. */
static fp_status scan_existing(ad_state *s, fp_error *err)
{
    long maxpos = 0;
    for (size_t ci = 0; ci < s->nc; ci++) {
        char dir[4096];
        fp_status st = run_dir(s, s->clocks[ci], 1, 0, dir, sizeof dir, err);
        if (st)
            return st;
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            int warmup, rep = parse_rep(de->d_name, &warmup);
            if (rep < 0)
                continue;
            char rdir[4400], rj[4500];
            snprintf(rdir, sizeof rdir, "%s/%s", dir, de->d_name);
            snprintf(rj, sizeof rj, "%s/run.json", rdir);
            if (access(rj, F_OK) != 0)
                continue; /* interrupted: redone under the same name */
            int *hi = warmup ? &s->warm[ci] : &s->reps[ci];
            if (rep > *hi)
                *hi = rep;
            fp_run_record rec;
            fp_run_buf run;
            fp_error e;
            if (load_run(rdir, &rec, &run, &e)) {
                fp_warn(&s->so->diag, "adaptive sweep: ignored %s", e.msg);
                continue;
            }
            if (rec.sweep_position > maxpos)
                maxpos = rec.sweep_position;
            if (!warmup && (st = take_measured(s, &rec, &run.run, 1, err))) {
                closedir(d);
                return st;
            }
        }
        closedir(d);
    }
    s->pos_base = (size_t)maxpos;
    if (s->nseq)
        qsort(s->seq, s->nseq, sizeof *s->seq, cmp_seq);
    return FP_OK;
}

/* The previous run of this session read back. */
static fp_status take_last(ad_state *s, fp_error *err)
{
    char dir[4096];
    fp_status st =
        run_dir(s, s->last.clock_mhz, s->last.repetition, s->last.warmup, dir, sizeof dir, err);
    if (st)
        return st;
    fp_run_record rec;
    fp_run_buf run;
    if ((st = load_run(dir, &rec, &run, err)))
        return st;
    if (s->last.warmup) {
        s->nwarm++;
        if (run.run.time_s > 0)
            s->warm_time += run.run.time_s;
        return FP_OK;
    }
    size_t before = s->runs.len;
    if ((st = take_measured(s, &rec, &run.run, 0, err)))
        return st;
    if (s->runs.len > before) {
        s->failed_in_a_row = 0;
        return FP_OK;
    }
    if (++s->failed_in_a_row >= MAX_FAILED_IN_A_ROW)
        return fp_error_set(err, FP_ERR_IO,
                            "adaptive sweep: %d runs in a row failed or measured nothing (last "
                            "at %u MHz, %s); stopping",
                            s->failed_in_a_row, s->last.clock_mhz, dir);
    return FP_OK;
}

static fp_status next_item(void *user, const fp_sweep_ctx *ctx, size_t index, fp_sweep_item *item,
                           size_t *position, int *more, fp_error *err)
{
    ad_state *s = user;
    fp_status st;
    *more = 0;
    if (!s->started) {
        s->started = 1;
        snprintf(s->gpu, sizeof s->gpu, "%s", ctx->info->short_name);
        snprintf(s->app, sizeof s->app, "%s", ctx->app);
        s->nc = ctx->n_clocks;
        s->clocks = calloc(s->nc ? s->nc : 1, sizeof *s->clocks);
        s->reps = calloc(s->nc ? s->nc : 1, sizeof *s->reps);
        s->warm = calloc(s->nc ? s->nc : 1, sizeof *s->warm);
        double *f = calloc(s->nc ? s->nc : 1, sizeof *f);
        if (!s->clocks || !s->reps || !s->warm || !f) {
            free(f);
            return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < s->nc; i++) {
            s->clocks[i] = ctx->clocks[i];
            f[i] = ctx->clocks[i];
        }
        st = fp_adaptive_new(s->gpu, s->app, f, s->nc, s->ao, &s->a, err);
        free(f);
        if (st || (st = scan_existing(s, err)))
            return st;
        s->warmups_left = s->so->warmup;
    } else if (s->have_last) {
        s->have_last = 0;
        if ((st = take_last(s, err)))
            return st;
    }
    double f;
    if (!fp_adaptive_next(s->a, &f))
        return FP_OK;
    long ci = 0;
    for (size_t i = 1; i < s->nc; i++)
        if (fabs(s->clocks[i] - f) < fabs(s->clocks[ci] - f))
            ci = (long)i;
    /* Warm-ups at the start of the session, at the first clock it measures. */
    if (s->warmups_left > 0) {
        s->warmups_left--;
        *item = (fp_sweep_item){s->clocks[ci], ++s->warm[ci], 1, 0};
    } else {
        *item = (fp_sweep_item){s->clocks[ci], ++s->reps[ci], 0, 0};
    }
    *position = s->pos_base + index;
    s->last = *item;
    s->have_last = 1;
    *more = 1;
    return FP_OK;
}

static void on_event(void *user, const fp_sweep_event *ev)
{
    const ad_state *s = user;
    fp_sweep_event e = *ev;
    /* The plan's length is unknown: the run cap (plus warm-ups) bounds it. */
    size_t cap = s->ao->max_runs > 0 ? (size_t)s->ao->max_runs : 30;
    cap = cap > s->resumed ? cap - s->resumed : 1;
    cap += (size_t)(s->so->warmup > 0 ? s->so->warmup : 0);
    e.total = cap > e.index + 1 ? cap : e.index + 1;
    s->so->event(s->so->user, &e);
}

static void on_tick(void *user)
{
    const ad_state *s = user;
    s->so->tick(s->so->user);
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static fp_status dump_json(json_t *root, const char *path, fp_error *err)
{
    fp_atomic_file af;
    fp_status st = fp_atomic_open(&af, path, err);
    if (st) {
        json_decref(root);
        return st;
    }
    int bad = json_dumpf(root, af.fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
              fputc('\n', af.fp) == EOF;
    json_decref(root);
    if (bad) {
        fp_atomic_abort(&af);
        return fp_error_set(err, FP_ERR_IO, "%s: cannot write", path);
    }
    return fp_atomic_commit(&af, err);
}

static fp_status write_adaptive_json(const ad_state *s, const fp_adaptive_sweep_result *res,
                                     fp_error *err)
{
    const fp_adaptive_result *r = &res->result;
    const fp_adaptive_options *ao = s->ao;
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string("freqpilot-adaptive"));
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "gpu", json_string(s->gpu));
    json_object_set_new(root, "app", json_string(s->app));
    json_object_set_new(root, "objective", json_string(ao->objective.name));
    json_object_set_new(root, "max_slowdown", num(ao->max_slowdown));
    json_object_set_new(root, "tolerance", num(ao->tolerance));
    json_object_set_new(root, "confidence", num(ao->conf));
    json_object_set_new(root, "max_runs", json_integer(ao->max_runs));
    json_object_set_new(root, "chosen_mhz", num(r->freq_mhz));
    json_object_set_new(root, "converged", json_boolean(r->converged));
    json_object_set_new(root, "reason", json_string(r->reason));
    json_object_set_new(root, "tolerance_achieved", num(r->tolerance_achieved));
    json_object_set_new(root, "clock_bound", json_boolean(r->clock_bound));
    json_t *p = json_object();
    json_object_set_new(p, "time_s", num(r->time_s));
    json_object_set_new(p, "energy_j", num(r->energy_j));
    json_object_set_new(p, "energy_j_lo", num(r->energy_lo));
    json_object_set_new(p, "energy_j_hi", num(r->energy_hi));
    json_object_set_new(root, "predicted", p);
    json_object_set_new(root, "runs", json_integer(r->runs));
    json_object_set_new(root, "resumed_runs", json_integer((json_int_t)res->resumed_runs));
    json_object_set_new(root, "clocks_measured", json_integer(r->clocks));
    json_object_set_new(root, "clocks_total", json_integer((json_int_t)res->n_clocks));
    json_object_set_new(root, "warmup_runs", json_integer((json_int_t)res->warmup_runs));
    json_object_set_new(root, "gpu_time_s", num(r->gpu_time_s));
    json_object_set_new(root, "warmup_time_s", num(res->warmup_time_s));
    json_object_set_new(root, "full_sweep_runs", json_integer((json_int_t)res->full_sweep_runs));
    json_object_set_new(root, "full_sweep_gpu_time_s", num(res->full_sweep_gpu_time_s));
    json_object_set_new(root, "gpu_time_fraction", num(res->gpu_time_fraction));
    json_t *mc = json_array(), *seq = json_array();
    for (size_t i = 0; i < s->nc; i++)
        if (s->reps[i] > 0)
            for (size_t k = 0; k < s->nseq; k++)
                if (s->seq[k].clock_mhz == s->clocks[i] && !s->seq[k].failed) {
                    json_array_append_new(mc, json_integer(s->clocks[i]));
                    break;
                }
    for (size_t k = 0; k < s->nseq; k++) {
        const seq_entry *e = &s->seq[k];
        json_t *o = json_object();
        json_object_set_new(o, "position", json_integer(e->position));
        json_object_set_new(o, "clock_mhz", json_integer(e->clock_mhz));
        json_object_set_new(o, "repetition", json_integer(e->repetition));
        json_object_set_new(o, "time_s", num(e->time_s));
        json_object_set_new(o, "energy_j", num(e->energy_j));
        json_object_set_new(o, "resumed", json_boolean(e->resumed));
        json_object_set_new(o, "failed", json_boolean(e->failed));
        json_array_append_new(seq, o);
    }
    json_object_set_new(root, "measured_clocks_mhz", mc);
    json_object_set_new(root, "sequence", seq);
    json_object_set_new(root, "curves", res->have_model ? json_string("curves.json") : json_null());
    return dump_json(root, res->adaptive_json, err);
}

typedef struct finish_args {
    const ad_state *s;
    fp_adaptive_sweep_result *res;
    const fp_curve_model *m;
} finish_args;

static fp_status write_outputs(void *arg, void *ret, fp_error *err);

static fp_status finish(ad_state *s, fp_adaptive_sweep_result *res, fp_error *err)
{
    fp_curve_model m;
    memset(&m, 0, sizeof m);
    fp_status st = fp_adaptive_result_get(s->a, &res->result, &m, err);
    if (st)
        return st;
    res->have_result = 1;
    res->have_model = m.n_clocks >= 2;
    res->resumed_runs = s->resumed;
    res->n_clocks = s->nc;
    res->warmup_runs = s->nwarm;
    res->warmup_time_s = s->warm_time;
    int runs = s->so->runs > 0 ? s->so->runs : 1;
    res->full_sweep_runs = s->nc * (size_t)runs;
    double mean = res->result.runs > 0 ? res->result.gpu_time_s / res->result.runs : NAN;
    double full = 0;
    for (size_t i = 0; i < s->nc; i++) {
        double t = NAN;
        if (res->have_model) {
            fp_curve_pred p;
            fp_curve_predict_raw(&m, s->clocks[i], 0.95, &p);
            t = p.time_s;
        }
        full += runs * (isfinite(t) && t > 0 ? t : mean);
    }
    res->full_sweep_gpu_time_s = full;
    res->gpu_time_fraction = full > 0 ? res->result.gpu_time_s / full : NAN;
    snprintf(res->adaptive_json, sizeof res->adaptive_json, "%s/adaptive.json", s->so->out_dir);
    snprintf(res->curves_json, sizeof res->curves_json, "%s/curves.json", s->so->out_dir);
    if (!res->have_model)
        res->curves_json[0] = 0;
    const fp_invoker *who;
    if ((st = fp_invoker_get(&who, err)))
        return st;
    finish_args fa = {s, res, &m};
    return fp_invoker_call(who, write_outputs, &fa, NULL, 0, err);
}

/* curves.json and adaptive.json, as the user behind sudo (util/asuser.h). */
static fp_status write_outputs(void *arg, void *ret, fp_error *err)
{
    (void)ret;
    const finish_args *a = arg;
    const ad_state *s = a->s;
    fp_adaptive_sweep_result *res = a->res;
    fp_curve_model m = *a->m;
    fp_status st;
    if (res->have_model) {
        double *clk = malloc(s->nc * sizeof *clk);
        if (!clk)
            return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < s->nc; i++)
            clk[i] = s->clocks[i];
        /* The measured points: the runs aggregated as `freqpilot aggregate` would. */
        fp_agg_options aopt;
        fp_agg_options_init(&aopt);
        aopt.bootstrap_samples = 200;
        aopt.drop_cold_starts = 0;
        fp_agg_result agg;
        memset(&agg, 0, sizeof agg);
        fp_error e;
        int have_agg = fp_aggregate(&s->runs, &aopt, &agg, &e) == FP_OK;
        fp_model_file mf;
        memset(&mf, 0, sizeof mf);
        mf.curves = &m;
        mf.ncurves = 1;
        st = fp_model_write_curves(&mf, have_agg ? &agg : NULL, clk, s->nc, res->curves_json, err);
        if (have_agg)
            fp_agg_result_free(&agg);
        free(clk);
        if (st)
            return st;
    }
    return write_adaptive_json(s, res, err);
}

fp_status fp_adaptive_sweep_run(const fp_sweep_opts *so, const fp_adaptive_options *ao,
                                fp_adaptive_sweep_result *res, fp_error *err)
{
    memset(res, 0, sizeof *res);
    res->full_sweep_gpu_time_s = res->gpu_time_fraction = res->warmup_time_s = NAN;
    if (so->no_clock_control)
        return fp_error_set(err, FP_ERR_INVALID,
                            "--strategy adaptive chooses the clocks: it cannot run with "
                            "--no-clock-control");
    if (so->task_id >= 0)
        return fp_error_set(err, FP_ERR_INVALID,
                            "--strategy adaptive runs as one task: each run depends on the "
                            "previous ones");
    if (!so->out_dir)
        return fp_error_set(err, FP_ERR_INVALID, "no output dataset (--out)");
    ad_state s;
    memset(&s, 0, sizeof s);
    s.so = so;
    s.ao = ao;
    fp_sweep_opts o = *so;
    o.next_item = next_item;
    o.order_name = "adaptive";
    o.order = FP_ORDER_DESCENDING;
    o.baseline_every = 0;
    o.user = &s;
    o.event = so->event ? on_event : NULL;
    o.tick = so->tick ? on_tick : NULL;
    fp_status st = fp_sweep_run(&o, &res->sweep, err);
    if (!st && !res->sweep.interrupted_sig && s.a)
        st = finish(&s, res, err);
    fp_adaptive_free(s.a);
    free(s.clocks);
    free(s.reps);
    free(s.warm);
    free(s.seq);
    fp_run_list_free(&s.runs);
    return st;
}
