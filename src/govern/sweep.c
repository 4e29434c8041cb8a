/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What recorded sweeps say per phase class (phase clocks learned from measurements instead
 * of the simulator's curves), and recorded runs replayed through the detector and a policy
 * with an energy/time estimate built from such a sweep.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "freqpilot/govern.h"
#include "freqpilot/reader.h"
#include "govern_int.h"
#include "util/grow.h"

void gv_run_list_free(gv_run_list *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* a/b into buf; 0 when it fits. */
static int join(char *buf, size_t size, const char *a, const char *b)
{
    int k = snprintf(buf, size, "%s/%s", a, b);
    return k < 0 || (size_t)k >= size;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sub-folders of dir (sorted, so the order does not depend on the file system). */
static char **subdirs(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[2048];
        if (join(p, sizeof p, dir, e->d_name) || !is_dir(p))
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **t = realloc(v, nc * sizeof *t);
            if (!t)
                break;
            v = t;
            cap = nc;
        }
        v[*n] = strdup(e->d_name);
        if (v[*n])
            (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, name_cmp);
    return v;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

fp_status gv_dataset_runs(const char *dataset, gv_run_list *out, const fp_diag *diag, fp_error *err)
{
    memset(out, 0, sizeof *out);
    if (!is_dir(dataset))
        return fp_error_set(err, FP_ERR_IO, "%s: expected a DATASET folder", dataset);
    size_t ng, na, nf, nr;
    char **g = subdirs(dataset, &ng);
    for (size_t a = 0; a < ng; a++) {
        char pg[2048];
        if (join(pg, sizeof pg, dataset, g[a]))
            continue;
        char **apps = subdirs(pg, &na);
        for (size_t b = 0; b < na; b++) {
            char pa[2048];
            if (join(pa, sizeof pa, pg, apps[b]))
                continue;
            char **fr = subdirs(pa, &nf);
            for (size_t c = 0; c < nf; c++) {
                char pf[2048];
                if (join(pf, sizeof pf, pa, fr[c]))
                    continue;
                char **runs = subdirs(pf, &nr);
                for (size_t d = 0; d < nr; d++) {
                    gv_run r;
                    memset(&r, 0, sizeof r);
                    char pj[1100];
                    struct stat st;
                    if (join(r.dir, sizeof r.dir, pf, runs[d]) ||
                        join(pj, sizeof pj, r.dir, "run.json") || stat(pj, &st) != 0)
                        continue; /* not finished (or not a run folder) */
                    fp_error e2;
                    fp_run_record_init(&r.rec);
                    if (fp_dataset_read_run_json(pj, &r.rec, &e2) != FP_OK) {
                        fp_warn(diag, "%s", e2.msg);
                        continue;
                    }
                    if (r.rec.warmup || r.rec.exit_status != 0)
                        continue;
                    if (FP_GROW(out->items, out->n, out->cap, 64)) {
                        free_names(runs, nr);
                        free_names(fr, nf);
                        free_names(apps, na);
                        free_names(g, ng);
                        gv_run_list_free(out);
                        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", dataset);
                    }
                    out->items[out->n++] = r;
                }
                free_names(runs, nr);
            }
            free_names(fr, nf);
        }
        free_names(apps, na);
    }
    free_names(g, ng);
    if (out->n == 0)
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s: no measured runs (expected DATASET/<gpu>/<app>/<MHz>/<run>/"
                            "run.json, as freqpilot profile writes)",
                            dataset);
    return FP_OK;
}

fp_status gv_run_samples(const gv_run *r, fp_sample **s, size_t *n, const fp_diag *diag,
                         fp_error *err)
{
    *s = NULL;
    *n = 0;
    char p[1200];
    if (join(p, sizeof p, r->dir, r->rec.telemetry[0] ? r->rec.telemetry : "telemetry.csv"))
        return fp_error_set(err, FP_ERR_INVALID, "%s: path too long", r->dir);
    fp_ts_options topt = {0, -1, diag};
    fp_ts_reader *rd;
    fp_status st = fp_ts_open(p, FP_FMT_AUTO, &topt, &rd, err);
    if (st != FP_OK)
        return st;
    size_t cap = 0;
    fp_sample x;
    int rc;
    while ((rc = fp_ts_next(rd, &x, err)) > 0) {
        if (FP_GROW(*s, *n, cap, 1024)) {
            rc = fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", p);
            break;
        }
        (*s)[(*n)++] = x;
    }
    fp_ts_close(rd);
    if (rc < 0) {
        free(*s);
        *s = NULL;
        *n = 0;
        return (fp_status)rc;
    }
    return FP_OK;
}

void gv_walk_intervals(const fp_sample *s, size_t n, double ws, double we, const fp_phase_opts *po,
                       gv_interval_fn fn, void *user)
{
    fp_phase_detector det;
    fp_phase_init(&det, po);
    for (size_t i = 0; i < n; i++) {
        double t = s[i].v[FP_COL_T_S];
        if (isnan(t))
            continue;
        fp_phase_update(&det, t, &s[i]);
        double t1 = i + 1 < n ? s[i + 1].v[FP_COL_T_S] : t;
        double a = isnan(ws) ? t : (t > ws ? t : ws);
        double b = isnan(we) ? t1 : (t1 < we ? t1 : we);
        if (!(b > a))
            continue;
        fn(user, &s[i], det.current, b - a);
    }
}

typedef struct acc_ctx {
    double t[FP_PHASE_COUNT], e[FP_PHASE_COUNT];
} acc_ctx;

static void acc_fn(void *user, const fp_sample *s, fp_phase cls, double dt)
{
    acc_ctx *a = user;
    double p = s->v[FP_COL_POWER_W];
    a->t[cls] += dt;
    a->e[cls] += isnan(p) ? 0 : p * dt;
}

static fp_status pick_name(const gv_run_list *l, int app, const char *want, char *out, size_t size,
                           const char *dataset, fp_error *err)
{
    const char *first = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const char *v = app ? l->items[i].rec.app : l->items[i].rec.gpu;
        if (want) {
            if (strcasecmp(v, want) == 0) {
                snprintf(out, size, "%s", v);
                return FP_OK;
            }
            continue;
        }
        if (!first)
            first = v;
        else if (strcmp(first, v) != 0)
            return fp_error_set(err, FP_ERR_INVALID,
                                "%s: several %s (%s, %s, ...): expected one to be named", dataset,
                                app ? "applications" : "GPUs", first, v);
    }
    if (want)
        return fp_error_set(err, FP_ERR_INVALID, "%s: no runs of %s '%s'", dataset,
                            app ? "application" : "GPU", want);
    snprintf(out, size, "%s", first ? first : "");
    return FP_OK;
}

fp_status fp_phase_sweep_load(const char *dataset, const char *gpu, const char *app,
                              const fp_phase_opts *popts, fp_phase_sweep *out, const fp_diag *diag,
                              fp_error *err)
{
    memset(out, 0, sizeof *out);
    gv_run_list l;
    fp_status st = gv_dataset_runs(dataset, &l, diag, err);
    if (st != FP_OK)
        return st;
    if ((st = pick_name(&l, 0, gpu, out->gpu, sizeof out->gpu, dataset, err)) != FP_OK ||
        (st = pick_name(&l, 1, app, out->app, sizeof out->app, dataset, err)) != FP_OK) {
        gv_run_list_free(&l);
        return st;
    }
    for (size_t i = 0; i < l.n && st == FP_OK; i++) {
        const gv_run *r = &l.items[i];
        if (strcmp(r->rec.gpu, out->gpu) != 0 || strcmp(r->rec.app, out->app) != 0)
            continue;
        if (!(r->rec.window_end_s > r->rec.window_start_s) || !(r->rec.requested_clock_mhz > 0)) {
            fp_warn(diag, "%s: no marked inference window: run skipped", r->dir);
            continue;
        }
        unsigned f = (unsigned)lround(r->rec.requested_clock_mhz);
        unsigned k = 0;
        while (k < out->n_clocks && out->clocks_mhz[k] != f)
            k++;
        if (k == out->n_clocks) {
            if (k >= FP_SWEEP_MAX_CLOCKS) {
                st = fp_error_set(err, FP_ERR_INVALID, "%s: more than %d clocks", dataset,
                                  FP_SWEEP_MAX_CLOCKS);
                break;
            }
            out->clocks_mhz[out->n_clocks++] = f;
        }
        fp_sample *s;
        size_t n;
        fp_error e2;
        if (gv_run_samples(r, &s, &n, diag, &e2) != FP_OK) {
            fp_warn(diag, "%s", e2.msg);
            continue;
        }
        acc_ctx a;
        memset(&a, 0, sizeof a);
        gv_walk_intervals(s, n, r->rec.window_start_s, r->rec.window_end_s, popts, acc_fn, &a);
        free(s);
        for (int c = 0; c < FP_PHASE_COUNT; c++) {
            out->t_s[c][k] += a.t[c];
            out->e_j[c][k] += a.e[c];
            out->time_s[k] += a.t[c];
            out->energy_j[k] += a.e[c];
        }
        out->runs[k]++;
    }
    gv_run_list_free(&l);
    if (st != FP_OK)
        return st;
    /* Means per run, clocks high to low (insertion sort: a few dozen clocks). */
    unsigned used = 0;
    for (unsigned k = 0; k < out->n_clocks; k++) {
        if (!out->runs[k])
            continue;
        double inv = 1.0 / out->runs[k];
        out->clocks_mhz[used] = out->clocks_mhz[k];
        out->runs[used] = out->runs[k];
        out->time_s[used] = out->time_s[k] * inv;
        out->energy_j[used] = out->energy_j[k] * inv;
        for (int c = 0; c < FP_PHASE_COUNT; c++) {
            out->t_s[c][used] = out->t_s[c][k] * inv;
            out->e_j[c][used] = out->e_j[c][k] * inv;
        }
        used++;
    }
    out->n_clocks = used;
    for (unsigned i = 1; i < used; i++)
        for (unsigned j = i; j > 0 && out->clocks_mhz[j] > out->clocks_mhz[j - 1]; j--) {
#define SWAP(T, a, b)                                                                              \
    do {                                                                                           \
        T tmp_ = (a);                                                                              \
        (a) = (b);                                                                                 \
        (b) = tmp_;                                                                                \
    } while (0)
            SWAP(unsigned, out->clocks_mhz[j], out->clocks_mhz[j - 1]);
            SWAP(unsigned, out->runs[j], out->runs[j - 1]);
            SWAP(double, out->time_s[j], out->time_s[j - 1]);
            SWAP(double, out->energy_j[j], out->energy_j[j - 1]);
            for (int c = 0; c < FP_PHASE_COUNT; c++) {
                SWAP(double, out->t_s[c][j], out->t_s[c][j - 1]);
                SWAP(double, out->e_j[c][j], out->e_j[c][j - 1]);
            }
#undef SWAP
        }
    if (used == 0)
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s: no usable runs of %s on %s (expected measured runs with a "
                            "marked inference window and telemetry)",
                            dataset, out->app, out->gpu);
    return FP_OK;
}

/* ---- recorded replay ---- */

static unsigned nearest_idx(const fp_phase_sweep *sw, double mhz)
{
    unsigned best = 0;
    for (unsigned k = 1; k < sw->n_clocks; k++)
        if (fabs(sw->clocks_mhz[k] - mhz) < fabs(sw->clocks_mhz[best] - mhz))
            best = k;
    return best;
}

/* Time factor and power factor of class c from clock index kr to k (see govern.h). */
static void factors(const fp_phase_sweep *sw, fp_phase c, unsigned kr, unsigned k, double *rt,
                    double *rp)
{
    double tr = sw->t_s[c][kr], t = sw->t_s[c][k];
    if (tr > 0 && t > 0) {
        *rt = t / tr;
        *rp = (sw->e_j[c][k] / t) / (sw->e_j[c][kr] / tr);
    } else {
        *rt = sw->time_s[k] / sw->time_s[kr];
        *rp = (sw->energy_j[k] / sw->time_s[k]) / (sw->energy_j[kr] / sw->time_s[kr]);
    }
    if (!isfinite(*rt) || !(*rt > 0))
        *rt = 1;
    if (!isfinite(*rp) || !(*rp > 0))
        *rp = 1;
}

/* ---- the recording read once or twice, in constant memory ---- */

/* The recording's clock: the median SM clock of the window, found by histogram passes over
 * the samples (each narrows the range; the value is exact, memory constant). */
#define CLOCK_BINS_FIRST 10001 /* 1 MHz bins over 0..10000 MHz, the readers' clock range */
#define CLOCK_BINS 4096

typedef struct clock_hist {
    double lo, scale; /* bin = floor((f - lo) * scale) */
    unsigned nb;
    uint64_t *count;
    double *min, *max;
} clock_hist;

static int in_window(double t, double f, double ws, double we)
{
    return !isnan(f) && !isnan(t) && (isnan(ws) || t >= ws) && (isnan(we) || t < we);
}

static fp_status median_clock(const fp_sample_source *src, double ws, double we, double *out,
                              fp_error *err)
{
    clock_hist h = {0, 1, CLOCK_BINS_FIRST, NULL, NULL, NULL};
    h.count = calloc(CLOCK_BINS_FIRST, sizeof *h.count);
    h.min = malloc(CLOCK_BINS_FIRST * sizeof *h.min);
    h.max = malloc(CLOCK_BINS_FIRST * sizeof *h.max);
    fp_status st = FP_OK;
    *out = NAN;
    if (!h.count || !h.min || !h.max) {
        st = fp_error_set(err, FP_ERR_NOMEM, "recorded replay: out of memory");
        goto done;
    }
    double lo = -INFINITY, hi = INFINITY; /* the values still in play */
    uint64_t rank = UINT64_MAX;           /* of the median among them, once known */
    for (int pass = 0; pass < 16; pass++) {
        if (pass > 0 && (st = src->rewind(src->ctx, err)) != FP_OK)
            goto done;
        memset(h.count, 0, h.nb * sizeof *h.count);
        uint64_t total = 0;
        fp_sample s;
        int rc;
        while ((rc = src->next(src->ctx, &s, err)) == 1) {
            double f = s.v[FP_COL_SM_CLOCK_MHZ];
            if (!in_window(s.v[FP_COL_T_S], f, ws, we) || !(f >= lo && f <= hi))
                continue;
            double x = (f - h.lo) * h.scale;
            unsigned b = x <= 0 ? 0 : x >= h.nb - 1 ? h.nb - 1 : (unsigned)x;
            if (h.count[b]++ == 0 || f < h.min[b])
                h.min[b] = f;
            if (h.count[b] == 1 || f > h.max[b])
                h.max[b] = f;
            total++;
        }
        if (rc < 0) {
            st = (fp_status)rc;
            goto done;
        }
        if (total == 0)
            goto done; /* no clock in the window */
        if (rank == UINT64_MAX)
            rank = total / 2; /* the upper median, as sorting and taking [n / 2] gives */
        unsigned b = 0;
        while (rank >= h.count[b])
            rank -= h.count[b++];
        if (h.min[b] == h.max[b]) {
            *out = h.min[b];
            goto done;
        }
        /* Narrow to that bin's values. */
        lo = h.min[b];
        hi = h.max[b];
        h.nb = CLOCK_BINS;
        h.lo = lo;
        h.scale = CLOCK_BINS / (hi - lo);
        if (!isfinite(h.scale))
            h.scale = DBL_MAX;
    }
    st = fp_error_set(err, FP_ERR_INVALID, "recorded replay: the median clock did not settle");
done:
    free(h.count);
    free(h.min);
    free(h.max);
    return st;
}

fp_status fp_replay_recorded_stream(const fp_sample_source *src, double win_start_s,
                                    double win_end_s, fp_policy *pol, const fp_phase_sweep *sw,
                                    fp_recorded_result *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    fp_status st = fp_policy_start(pol, err);
    if (st != FP_OK)
        return st;
    if (sw && sw->n_clocks == 0)
        return fp_error_set(err, FP_ERR_INVALID, "recorded replay: empty sweep");
    /* Median SM clock of the window: the clock the recording ran at. */
    if ((st = median_clock(src, win_start_s, win_end_s, &out->recorded_clock_mhz, err)) != FP_OK)
        return st;
    out->has_estimate = sw != NULL && !isnan(out->recorded_clock_mhz);
    unsigned kr = out->has_estimate ? nearest_idx(sw, out->recorded_clock_mhz) : 0;
    if ((st = src->rewind(src->ctx, err)) != FP_OK)
        return st;

    fp_phase_detector det;
    fp_phase_init(&det, NULL);
    unsigned req = 0;
    double clock_area = 0, total = 0;
    /* Each sample is handled once the next one is read: its interval ends at the next t. */
    fp_sample cur, nxt;
    int have_cur = 0, rc;
    for (;;) {
        rc = src->next(src->ctx, &nxt, err);
        if (rc < 0)
            return (fp_status)rc;
        if (!have_cur) {
            if (rc == 0)
                break;
            cur = nxt;
            have_cur = 1;
            continue;
        }
        const fp_sample *si = &cur;
        double t = si->v[FP_COL_T_S];
        if (!isnan(t)) {
            int ch = fp_phase_update(&det, t, si);
            fp_policy_input in = {t, det.current, ch || out->samples == 0, si, NAN, NULL};
            unsigned f = fp_policy_decide(pol, &in);
            if (out->samples > 0 && f != req)
                out->clock_changes++;
            req = f;
            out->samples++;
            double t1 = rc == 1 ? nxt.v[FP_COL_T_S] : t;
            double a = isnan(win_start_s) ? t : (t > win_start_s ? t : win_start_s);
            double b = isnan(win_end_s) ? t1 : (t1 < win_end_s ? t1 : win_end_s);
            if (b > a) {
                double dt = b - a, p = si->v[FP_COL_POWER_W];
                if (isnan(p))
                    p = 0;
                fp_phase c = det.current;
                out->share[c] += dt;
                unsigned fe = f ? f : pol->f_max_mhz;
                clock_area += fe * dt;
                total += dt;
                out->recorded_time_s += dt;
                out->recorded_energy_j += p * dt;
                if (out->has_estimate) {
                    double rt, rp;
                    factors(sw, c, kr, nearest_idx(sw, fe), &rt, &rp);
                    out->est_time_s += dt * rt;
                    out->est_energy_j += dt * rt * p * rp;
                    factors(sw, c, kr, 0, &rt, &rp);
                    out->est_fmax_time_s += dt * rt;
                    out->est_fmax_energy_j += dt * rt * p * rp;
                }
            }
        }
        if (rc == 0)
            break;
        cur = nxt;
    }
    for (int c = 0; c < FP_PHASE_COUNT; c++)
        out->share[c] = total > 0 ? out->share[c] / total : 0;
    out->mean_requested_mhz = total > 0 ? clock_area / total : NAN;
    if (!out->has_estimate)
        out->est_time_s = out->est_energy_j = out->est_fmax_time_s = out->est_fmax_energy_j = NAN;
    return FP_OK;
}

/* Samples in memory as a source. */
typedef struct array_src {
    const fp_sample *s;
    size_t n, i;
} array_src;

static int array_next(void *ctx, fp_sample *s, fp_error *err)
{
    array_src *a = ctx;
    (void)err;
    if (a->i >= a->n)
        return 0;
    *s = a->s[a->i++];
    return 1;
}

static fp_status array_rewind(void *ctx, fp_error *err)
{
    (void)err;
    ((array_src *)ctx)->i = 0;
    return FP_OK;
}

fp_status fp_replay_recorded(const fp_sample *s, size_t n, double win_start_s, double win_end_s,
                             fp_policy *pol, const fp_phase_sweep *sw, fp_recorded_result *out,
                             fp_error *err)
{
    array_src a = {s, n, 0};
    fp_sample_source src = {array_next, array_rewind, &a};
    return fp_replay_recorded_stream(&src, win_start_s, win_end_s, pol, sw, out, err);
}
