/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Workload predictor: from the first seconds of a run's telemetry, the workload's category
 * and the clock to start from, by k-nearest neighbours on standardised features. Small and
 * transparent on purpose: a handful of activity means and phase shares separate the
 * inference workloads well, and the neighbours can be shown to the user.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "freqpilot/govern.h"
#include "freqpilot/sim.h"
#include "govern_int.h"
#include "util/grow.h"
#include "util/input.h"
#include "util/output.h"

const char *fp_pred_category_of(const char *app)
{
    static const char *const map[][2] = {{"llama", "llm"},      {"stablediffusion", "diffusion"},
                                         {"sd", "diffusion"},   {"vit", "vision"},
                                         {"whisper", "speech"}, {"lstm", "rnn"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(app, map[i][0]) == 0)
            return map[i][1];
    return app;
}

static double nz(double v)
{
    return isnan(v) ? 0 : v;
}

/* The GPU is busy: utilisation above 5 % or SM activity above 0.03. */
static int busy(const fp_sample *s)
{
    return nz(s->v[FP_COL_GPU_UTIL_PCT]) > 5 || nz(s->v[FP_COL_SM_ACTIVE]) > 0.03;
}

fp_status fp_pred_features(const fp_sample *s, size_t n, double window_s, double power_limit_w,
                           double feat[FP_PRED_NFEAT], fp_error *err)
{
    fp_phase_detector det;
    fp_phase_init(&det, NULL);
    size_t start = n;
    for (size_t i = 0; i < n; i++) {
        if (busy(&s[i])) {
            start = i;
            break;
        }
    }
    if (start == n)
        return fp_error_set(err, FP_ERR_INVALID, "predictor: the GPU never became busy");
    double sum[5] = {0}, cnt[FP_PHASE_COUNT] = {0}, m = 0;
    double t0 = s[start].v[FP_COL_T_S];
    for (size_t i = start; i < n; i++) {
        double t = s[i].v[FP_COL_T_S];
        if (!isnan(t0) && !isnan(t) && t - t0 > window_s)
            break;
        fp_phase_update(&det, nz(t), &s[i]);
        sum[0] += nz(s[i].v[FP_COL_SM_ACTIVE]);
        sum[1] += nz(s[i].v[FP_COL_TENSOR_ACTIVE]);
        sum[2] += nz(s[i].v[FP_COL_DRAM_ACTIVE]);
        sum[3] += nz(s[i].v[FP_COL_GPU_UTIL_PCT]) / 100;
        sum[4] += power_limit_w > 0 ? nz(s[i].v[FP_COL_POWER_W]) / power_limit_w : 0;
        cnt[det.current]++;
        m++;
    }
    for (int k = 0; k < 5; k++)
        feat[k] = sum[k] / m;
    feat[5] = cnt[FP_PHASE_COMPUTE] / m;
    feat[6] = cnt[FP_PHASE_MEMORY] / m;
    feat[7] = cnt[FP_PHASE_HOST] / m;
    return FP_OK;
}

static void time_in_class(void *user, const fp_sample *s, fp_phase cls, double dt)
{
    (void)s;
    ((double *)user)[cls] += dt;
}

fp_phase fp_pred_dominant_phase(const fp_sample *s, size_t n, double win_start_s, double win_end_s)
{
    double t[FP_PHASE_COUNT] = {0};
    gv_walk_intervals(s, n, win_start_s, win_end_s, NULL, time_in_class, t);
    fp_phase best = FP_PHASE_COMPUTE;
    for (int c = FP_PHASE_COMPUTE; c < FP_PHASE_COUNT; c++)
        if (t[c] > t[best])
            best = (fp_phase)c;
    return best;
}

typedef struct collect {
    fp_sample *s;
    size_t n, cap;
} collect;

static int collect_fn(void *user, const fp_sample *s)
{
    collect *c = user;
    if (FP_GROW(c->s, c->n, c->cap, 1024))
        return 1;
    c->s[c->n++] = *s;
    return 0;
}

/* A simulated run of wl at f_max: the features of its first window_s seconds and, when dom is
 * not NULL, the dominant phase class of its inference window. */
static fp_status sim_window(const fp_sim_gpu *gpu, const fp_sim_workload *wl, double window_s,
                            uint64_t seed, double feat[FP_PRED_NFEAT], fp_phase *dom, fp_error *err)
{
    fp_sim_run_opts ro;
    fp_sim_run_opts_default(&ro);
    ro.clock_mhz = fp_sim_gpu_fmax(gpu);
    ro.interval_s = 0.1;
    ro.knobs.seed = seed;
    collect c = {0};
    fp_sim_run_result rr;
    fp_status st = fp_sim_run(gpu, wl, &ro, collect_fn, &c, &rr, err);
    if (st == FP_OK)
        st = fp_pred_features(c.s, c.n, window_s, gpu->power_limit_w, feat, err);
    if (st == FP_OK && dom)
        *dom = fp_pred_dominant_phase(c.s, c.n, rr.infer_start_s, rr.infer_end_s);
    free(c.s);
    return st;
}

fp_status fp_pred_features_sim(const fp_sim_gpu *gpu, const fp_sim_workload *wl, double window_s,
                               uint64_t seed, double feat[FP_PRED_NFEAT], fp_error *err)
{
    return sim_window(gpu, wl, window_s, seed, feat, NULL, err);
}

unsigned fp_pred_f_e_mhz(const fp_predictor *p, const double feat[FP_PRED_NFEAT],
                         unsigned f_max_mhz)
{
    char category[32];
    double frac = 1.0;
    fp_pred_predict(p, feat, NULL, category, sizeof category, &frac);
    if (!(frac > 0 && frac <= 1))
        frac = 1.0;
    return (unsigned)lround(frac * f_max_mhz);
}

fp_status fp_pred_observe(const fp_gpu_backend *be, fp_gpu *gpu, double window_s, double interval_s,
                          double max_wait_s, double feat[FP_PRED_NFEAT], fp_error *err)
{
    if (!(window_s > 0) || !(interval_s > 0) || !(max_wait_s >= 0) ||
        (window_s + max_wait_s) / interval_s > 1e7)
        return fp_error_set(err, FP_ERR_INVALID,
                            "predictor: a window of %g s sampled every %g s cannot be watched",
                            window_s, interval_s);
    fp_gpu_info info;
    fp_status st = be->info(gpu, &info, err);
    if (st != FP_OK)
        return st;
    int simulated = be->simulated && !fp_sim_backend_config()->realtime;
    collect c = {0};
    /* Until the GPU has been busy for window_s, or max_wait_s passed without it. */
    double busy_since = NAN;
    size_t n = (size_t)ceil((window_s + max_wait_s) / interval_s) + 1;
    for (size_t i = 0; i < n && st == FP_OK; i++) {
        double t = (double)i * interval_s;
        if (isnan(busy_since) && t > max_wait_s)
            break;
        if (!isnan(busy_since) && t - busy_since > window_s)
            break;
        if (i > 0 && simulated)
            st = fp_gpu_sim_advance(gpu, interval_s);
        else if (i > 0) {
            struct timespec ts = {(time_t)interval_s,
                                  (long)((interval_s - floor(interval_s)) * 1e9)};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        }
        fp_sample s;
        if (st == FP_OK)
            st = be->sample(gpu, &s, err);
        if (st == FP_OK) {
            s.v[FP_COL_T_S] = t;
            if (isnan(busy_since) && busy(&s))
                busy_since = t;
            if (collect_fn(&c, &s))
                st = fp_error_set(err, FP_ERR_NOMEM, "predictor: out of memory");
        }
    }
    if (st == FP_OK)
        st = fp_pred_features(c.s, c.n, window_s, info.power_limit_w, feat, err);
    free(c.s);
    return st;
}

fp_status fp_pred_examples_sim(fp_predictor *p, unsigned seeds, double window_s, double budget,
                               fp_error *err)
{
    p->window_s = window_s;
    for (unsigned g = 0; g < fp_sim_gpu_count(); g++) {
        const fp_sim_gpu *gpu = fp_sim_gpu_at(g);
        for (unsigned w = 0; w < fp_sim_workload_count(); w++) {
            const fp_sim_workload *wl = fp_sim_workload_at(w);
            unsigned best;
            fp_sim_optimum_result opt;
            fp_objective energy;
            fp_objective_parse("energy", &energy, NULL);
            fp_status st = fp_sim_optimum(gpu, wl, &energy, budget, &best, &opt, err);
            if (st != FP_OK)
                return st;
            for (unsigned k = 0; k < seeds; k++) {
                if (p->n >= FP_PRED_MAX_EXAMPLES)
                    return fp_error_set(err, FP_ERR_INVALID, "predictor: too many examples");
                fp_pred_example *e = &p->ex[p->n];
                fp_phase dom;
                st = sim_window(gpu, wl, window_s, FP_SIM_DEFAULT_SEED + 7919u * k + 104729u * g,
                                e->feat, &dom, err);
                if (st != FP_OK)
                    return st;
                snprintf(e->app, sizeof e->app, "%s", wl->name);
                snprintf(e->category, sizeof e->category, "%s", fp_phase_name(dom));
                snprintf(e->gpu, sizeof e->gpu, "%s", gpu->short_name);
                e->best_clock_frac = (double)best / fp_sim_gpu_fmax(gpu);
                p->n++;
            }
        }
    }
    return FP_OK;
}

/* Mean window seconds and joules of one run (sample and hold of power_w). */
static void window_te(const fp_sample *s, size_t n, double ws, double we, double *t, double *e)
{
    *t = *e = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double a = s[i].v[FP_COL_T_S], b = s[i + 1].v[FP_COL_T_S], p = s[i].v[FP_COL_POWER_W];
        if (isnan(a) || isnan(b))
            continue;
        if (!isnan(ws) && a < ws)
            a = ws;
        if (!isnan(we) && b > we)
            b = we;
        if (b > a) {
            *t += b - a;
            *e += (isnan(p) ? 0 : p) * (b - a);
        }
    }
}

fp_status fp_pred_examples_dataset(fp_predictor *p, const char *dataset, double window_s,
                                   double budget, const fp_diag *diag, fp_error *err)
{
    p->window_s = window_s;
    gv_run_list l;
    fp_status st = gv_dataset_runs(dataset, &l, diag, err);
    if (st != FP_OK)
        return st;
    char *done = calloc(l.n, 1);
    if (!done) {
        gv_run_list_free(&l);
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", dataset);
    }
    size_t added = 0;
    /* One (gpu, app) group at a time: its sweep gives the target clock. */
    for (size_t g = 0; g < l.n && st == FP_OK; g++) {
        if (done[g])
            continue;
        const fp_run_record *r0 = &l.items[g].rec;
        enum { MAXC = FP_SWEEP_MAX_CLOCKS };
        double clk[MAXC], tsum[MAXC], esum[MAXC];
        unsigned cnt[MAXC], nk = 0;
        double fmax = 0;
        for (size_t i = g; i < l.n; i++) {
            const gv_run *r = &l.items[i];
            if (strcmp(r->rec.gpu, r0->gpu) != 0 || strcmp(r->rec.app, r0->app) != 0)
                continue;
            done[i] = 1;
            if (!(r->rec.window_end_s > r->rec.window_start_s))
                continue;
            fp_sample *s;
            size_t n;
            fp_error e2;
            if (gv_run_samples(r, &s, &n, diag, &e2) != FP_OK) {
                fp_warn(diag, "%s", e2.msg);
                continue;
            }
            double t, e;
            window_te(s, n, r->rec.window_start_s, r->rec.window_end_s, &t, &e);
            free(s);
            unsigned k = 0;
            while (k < nk && clk[k] != r->rec.requested_clock_mhz)
                k++;
            if (k == nk) {
                if (nk == MAXC)
                    continue;
                clk[nk] = r->rec.requested_clock_mhz;
                tsum[nk] = esum[nk] = 0;
                cnt[nk++] = 0;
            }
            tsum[k] += t;
            esum[k] += e;
            cnt[k]++;
            if (clk[k] > fmax)
                fmax = clk[k];
        }
        if (nk == 0) {
            fp_warn(diag, "%s: %s on %s: no run with a marked window", dataset, r0->app, r0->gpu);
            continue;
        }
        double tmax = 0;
        for (unsigned k = 0; k < nk; k++)
            if (clk[k] == fmax)
                tmax = tsum[k] / cnt[k];
        /* The target: optimize's choice rule (objective.h) on the mean energy per clock. */
        fp_opt_cand cand[MAXC];
        size_t top = 0;
        for (unsigned k = 0; k < nk; k++) {
            cand[k] = (fp_opt_cand){clk[k], esum[k] / cnt[k], tsum[k] / cnt[k] / tmax - 1, 1};
            if (clk[k] == fmax)
                top = k;
        }
        double best_f = clk[fp_opt_decide(cand, nk, top, budget, 0.0)];
        /* Examples: the runs at the highest clock, as an ungoverned GPU shows them first. */
        for (size_t i = g; i < l.n && st == FP_OK; i++) {
            const gv_run *r = &l.items[i];
            if (strcmp(r->rec.gpu, r0->gpu) != 0 || strcmp(r->rec.app, r0->app) != 0 ||
                r->rec.requested_clock_mhz != fmax ||
                !(r->rec.window_end_s > r->rec.window_start_s))
                continue;
            if (p->n >= FP_PRED_MAX_EXAMPLES) {
                st = fp_error_set(err, FP_ERR_INVALID, "predictor: too many examples");
                break;
            }
            fp_sample *s;
            size_t n;
            fp_error e2;
            if (gv_run_samples(r, &s, &n, diag, &e2) != FP_OK) {
                fp_warn(diag, "%s", e2.msg);
                continue;
            }
            fp_pred_example *e = &p->ex[p->n];
            /* The power limit of the recording (its power_limit_w column) normalises power. */
            double lim = NAN;
            for (size_t j = 0; j < n && isnan(lim); j++)
                lim = s[j].v[FP_COL_POWER_LIMIT_W];
            if (fp_pred_features(s, n, window_s, isnan(lim) ? 0 : lim, e->feat, &e2) != FP_OK) {
                fp_warn(diag, "%s: %s", r->dir, e2.msg);
                free(s);
                continue;
            }
            fp_phase dom = fp_pred_dominant_phase(s, n, r->rec.window_start_s, r->rec.window_end_s);
            free(s);
            snprintf(e->app, sizeof e->app, "%.31s", r->rec.app);
            snprintf(e->category, sizeof e->category, "%s", fp_phase_name(dom));
            snprintf(e->gpu, sizeof e->gpu, "%.31s", r->rec.gpu);
            e->best_clock_frac = best_f / fmax;
            p->n++;
            added++;
        }
    }
    free(done);
    gv_run_list_free(&l);
    if (st == FP_OK && added == 0)
        st = fp_error_set(err, FP_ERR_INVALID,
                          "%s: no usable runs (expected measured runs with a marked inference "
                          "window at the highest clock)",
                          dataset);
    return st;
}

void fp_pred_fit(fp_predictor *p)
{
    for (int k = 0; k < FP_PRED_NFEAT; k++) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < p->n; i++)
            s += p->ex[i].feat[k];
        double mean = p->n ? s / p->n : 0;
        for (size_t i = 0; i < p->n; i++)
            s2 += (p->ex[i].feat[k] - mean) * (p->ex[i].feat[k] - mean);
        p->mean[k] = mean;
        p->sd[k] = p->n > 1 ? sqrt(s2 / (p->n - 1)) : 1;
        if (!(p->sd[k] > 1e-9))
            p->sd[k] = 1;
    }
}

static void knn(const fp_predictor *p, const double feat[FP_PRED_NFEAT], const char *exclude_app,
                size_t exclude_idx, char *category, size_t cat_size, double *clock_frac)
{
    enum { K = 3 };
    size_t idx[K];
    double dist[K];
    int have = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (i == exclude_idx || (exclude_app && strcmp(p->ex[i].app, exclude_app) == 0))
            continue;
        double d = 0;
        for (int k = 0; k < FP_PRED_NFEAT; k++) {
            double z = (feat[k] - p->ex[i].feat[k]) / p->sd[k];
            d += z * z;
        }
        int pos = have < K ? have++ : K;
        if (pos == K && d >= dist[K - 1])
            continue;
        if (pos == K)
            pos = K - 1;
        while (pos > 0 && dist[pos - 1] > d) {
            dist[pos] = dist[pos - 1];
            idx[pos] = idx[pos - 1];
            pos--;
        }
        dist[pos] = d;
        idx[pos] = i;
    }
    if (category && cat_size)
        snprintf(category, cat_size, "%s", have ? p->ex[idx[0]].category : "unknown");
    /* Category: majority of the neighbours (the nearest breaks ties). */
    for (int a = 0; a < have && category; a++) {
        int votes = 0;
        for (int b = 0; b < have; b++)
            votes += strcmp(p->ex[idx[a]].category, p->ex[idx[b]].category) == 0;
        if (votes * 2 > have) {
            snprintf(category, cat_size, "%s", p->ex[idx[a]].category);
            break;
        }
    }
    double s = 0;
    for (int a = 0; a < have; a++)
        s += p->ex[idx[a]].best_clock_frac;
    if (clock_frac)
        *clock_frac = have ? s / have : 1;
}

void fp_pred_predict(const fp_predictor *p, const double feat[FP_PRED_NFEAT], const char *exclude,
                     char *category, size_t cat_size, double *clock_frac)
{
    knn(p, feat, exclude, (size_t)-1, category, cat_size, clock_frac);
}

void fp_pred_evaluate(const fp_predictor *p, fp_pred_eval *out)
{
    memset(out, 0, sizeof *out);
    double ok_app = 0, ok_run = 0, err_sum = 0;
    for (size_t i = 0; i < p->n; i++) {
        char cat[32];
        double f;
        knn(p, p->ex[i].feat, p->ex[i].app, i, cat, sizeof cat, &f);
        ok_app += strcmp(cat, p->ex[i].category) == 0;
        err_sum += fabs(f - p->ex[i].best_clock_frac);
        knn(p, p->ex[i].feat, NULL, i, cat, sizeof cat, NULL);
        ok_run += strcmp(cat, p->ex[i].category) == 0;
    }
    /* What to beat: the most common category among the other applications' examples. */
    double ok_major = 0;
    for (size_t i = 0; i < p->n; i++) {
        size_t best_votes = 0;
        const char *best = "";
        for (size_t a = 0; a < p->n; a++) {
            if (strcmp(p->ex[a].app, p->ex[i].app) == 0)
                continue;
            size_t v = 0;
            for (size_t b = 0; b < p->n; b++)
                v += strcmp(p->ex[b].app, p->ex[i].app) != 0 &&
                     strcmp(p->ex[a].category, p->ex[b].category) == 0;
            if (v > best_votes) {
                best_votes = v;
                best = p->ex[a].category;
            }
        }
        ok_major += strcmp(best, p->ex[i].category) == 0;
    }
    for (size_t i = 0; i < p->n; i++) {
        int seen_app = 0, seen_cat = 0;
        for (size_t j = 0; j < i; j++) {
            seen_app |= strcmp(p->ex[i].app, p->ex[j].app) == 0;
            seen_cat |= strcmp(p->ex[i].category, p->ex[j].category) == 0;
        }
        out->n_apps += !seen_app;
        out->n_categories += !seen_cat;
    }
    out->majority_baseline = p->n ? ok_major / p->n : 0;
    out->n = p->n;
    out->category_accuracy = p->n ? ok_app / p->n : 0;
    out->category_accuracy_run = p->n ? ok_run / p->n : 0;
    out->clock_mae_frac = p->n ? err_sum / p->n : 0;
}

fp_status fp_pred_save(const fp_predictor *p, const char *path, fp_error *err)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string("freqpilot-predictor"));
    json_object_set_new(root, "window_s", json_real(p->window_s > 0 ? p->window_s : 5.0));
    json_t *arr = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const fp_pred_example *e = &p->ex[i];
        json_t *f = json_array();
        for (int k = 0; k < FP_PRED_NFEAT; k++)
            json_array_append_new(f, json_real(e->feat[k]));
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o,s:f}", "app", e->app, "category",
                                             e->category, "gpu", e->gpu, "features", f,
                                             "best_clock_frac", e->best_clock_frac));
    }
    json_object_set_new(root, "examples", arr);
    /* fp_json_write_atomic consumes root */
    return fp_json_write_atomic(path, root, JSON_INDENT(1) | JSON_REAL_PRECISION(6), err);
}

fp_status fp_pred_load(fp_predictor *p, const char *path, fp_error *err)
{
    json_t *root = fp_json_load_input(path, 0, err);
    if (!root)
        return err ? err->code : FP_ERR_PARSE;
    json_t *arr = json_object_get(root, "examples");
    json_t *win = json_object_get(root, "window_s");
    fp_status st = FP_OK;
    p->n = 0;
    /* Models written before the window was stored used train's default, 5 s. */
    p->window_s = win ? json_number_value(win) : 5.0;
    if (win && !(json_is_number(win) && p->window_s > 0 && p->window_s <= 3600))
        st = fp_error_at(err, FP_ERR_PARSE, path, 0, "\"window_s\": expected seconds in (0, 3600]");
    else if (!json_is_array(arr))
        st = fp_error_at(err, FP_ERR_FORMAT, path, 0, "expected an \"examples\" array");
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (st != FP_OK || p->n >= FP_PRED_MAX_EXAMPLES)
            break;
        fp_pred_example *x = &p->ex[p->n];
        const char *app = json_string_value(json_object_get(e, "app"));
        const char *cat = json_string_value(json_object_get(e, "category"));
        const char *gpu = json_string_value(json_object_get(e, "gpu"));
        json_t *f = json_object_get(e, "features");
        if (!app || !cat || !json_is_array(f) || json_array_size(f) != FP_PRED_NFEAT) {
            st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                             "examples[%zu]: expected app, category and %d features", i,
                             FP_PRED_NFEAT);
            break;
        }
        snprintf(x->app, sizeof x->app, "%s", app);
        snprintf(x->category, sizeof x->category, "%s", cat);
        snprintf(x->gpu, sizeof x->gpu, "%s", gpu ? gpu : "");
        int bad = 0;
        for (int k = 0; k < FP_PRED_NFEAT; k++) {
            json_t *v = json_array_get(f, (size_t)k);
            bad |= !json_is_number(v);
            x->feat[k] = json_number_value(v);
        }
        json_t *bc = json_object_get(e, "best_clock_frac");
        x->best_clock_frac = json_number_value(bc);
        /* A clock fraction is a share of f_max (docs/formats.md, "Impossible values"). */
        if (bad || !json_is_number(bc) || !(x->best_clock_frac > 0 && x->best_clock_frac <= 1)) {
            st = fp_error_at(err, FP_ERR_PARSE, path, 0,
                             "examples[%zu]: expected %d numeric features and best_clock_frac "
                             "in (0, 1]",
                             i, FP_PRED_NFEAT);
            break;
        }
        p->n++;
    }
    json_decref(root);
    if (st == FP_OK)
        fp_pred_fit(p);
    return st;
}
