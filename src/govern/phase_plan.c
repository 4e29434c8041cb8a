/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Clocks of the phase policy: the exact per-class plan (a multiple-choice knapsack) and its
 * inputs, from the simulator's model curves or from a recorded sweep.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "govern/policy_int.h"

fp_status fp_policy_set_phase_clocks(fp_policy *p, const unsigned mhz[FP_PHASE_COUNT],
                                     fp_error *err)
{
    for (int c = 0; c < FP_PHASE_COUNT; c++) {
        const char *k = fp_phase_name((fp_phase)c);
        if (!fp_policy_has(p, k))
            return fp_error_set(err, FP_ERR_INVALID,
                                "policy %s has no phase clocks (expected the phase policy)",
                                fp_policy_name(p));
        fp_status st = fp_policy_set_num(p, k, mhz[c], err);
        if (st != FP_OK)
            return st;
    }
    return FP_OK;
}

/* The phase policy's current clock of class c (its default when not learned). */
static unsigned current(const fp_policy *p, fp_phase c)
{
    double v = fp_policy_get_num(p, fp_phase_name(c));
    return isnan(v) ? 0 : (unsigned)v;
}

typedef struct plan_pt {
    double t, e;
    unsigned pick[FP_PHASE_COUNT];
} plan_pt;

static int plan_cmp(const void *a, const void *b)
{
    const plan_pt *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->e > y->e) - (x->e < y->e);
}

int fp_phase_plan(const double *T, const double *E, const int used[FP_PHASE_COUNT], unsigned n,
                  double limit_s, unsigned pick[FP_PHASE_COUNT])
{
    memset(pick, 0, FP_PHASE_COUNT * sizeof pick[0]);
    if (n == 0)
        return 0;
    /* The fallback: the fastest clock of every class. */
    unsigned fast[FP_PHASE_COUNT] = {0};
    for (int c = 0; c < FP_PHASE_COUNT; c++)
        for (unsigned k = 1; used[c] && k < n; k++)
            if (T[c * n + k] < T[c * n + fast[c]] - 1e-12)
                fast[c] = k;
    /*
     * Pareto front of (time, energy) over the classes planned so far; each class multiplies
     * it by its n options, the result is sorted by time and only points that lower the energy
     * are kept (every other point is beaten by a faster, cheaper one), and points over the
     * limit are dropped (times only add up). Exact, and small: the front stays a few hundred
     * points for tables of ~100 clocks.
     */
    size_t nf = 1, cap = 0, front_cap = 1;
    plan_pt *front = calloc(1, sizeof *front), *next = NULL;
    if (!front)
        return -1;
    for (int c = 0; c < FP_PHASE_COUNT; c++) {
        if (!used[c])
            continue;
        size_t need = nf * n;
        if (need > cap) {
            plan_pt *t = realloc(next, need * sizeof *t);
            if (!t) {
                free(front);
                free(next);
                return -1;
            }
            next = t;
            cap = need;
        }
        size_t m = 0;
        for (size_t i = 0; i < nf; i++)
            for (unsigned k = 0; k < n; k++) {
                plan_pt q = front[i];
                q.t += T[c * n + k];
                q.e += E[c * n + k];
                q.pick[c] = k;
                if (q.t <= limit_s + 1e-9)
                    next[m++] = q;
            }
        qsort(next, m, sizeof *next, plan_cmp);
        size_t kept = 0;
        for (size_t i = 0; i < m; i++)
            if (kept == 0 || next[i].e < next[kept - 1].e - 1e-12)
                next[kept++] = next[i];
        plan_pt *sw = front;
        front = next;
        next = sw;
        size_t sc = front_cap;
        front_cap = cap;
        cap = sc;
        nf = kept;
        if (nf == 0)
            break;
    }
    int ok = nf > 0;
    if (ok) { /* least energy: the last point of the front */
        memcpy(pick, front[nf - 1].pick, FP_PHASE_COUNT * sizeof pick[0]);
    } else {
        memcpy(pick, fast, sizeof fast);
    }
    free(front);
    free(next);
    return ok;
}

/* Time and energy of phase i when f is requested, at the steady temperature and default cap. */
static void phase_te(const fp_sim_gpu *g, const fp_sim_workload *wl, unsigned i, unsigned f,
                     double *t, double *e)
{
    int capped;
    unsigned fr = fp_sim_reached_clock(g, wl, i, f, 0, &capped);
    fp_sim_point pt;
    double temp = g->ambient_c;
    for (int k = 0; k < 30; k++) {
        fp_sim_phase_point(g, wl, i, fr, temp, &pt);
        double nt = fp_sim_steady_temp(g, pt.power_w);
        if (fabs(nt - temp) < 1e-6)
            break;
        temp = nt;
    }
    *t = pt.time_s;
    *e = pt.time_s * pt.power_w;
}

/* The zeroed (time, energy) tables of a plan over n clocks, after checking n and budget. */
static fp_status plan_tables(unsigned n, unsigned max, double budget, double **T, double **E,
                             fp_error *err)
{
    *T = *E = NULL;
    if (n == 0 || n > max)
        return fp_error_set(err, FP_ERR_INVALID, "learn phase clocks: no clock table (%u clocks)",
                            n);
    if (!(budget >= 0))
        return fp_error_set(err, FP_ERR_INVALID, "learn phase clocks: budget %g: expected >= 0",
                            budget);
    *T = calloc((size_t)FP_PHASE_COUNT * n, sizeof **T);
    *E = calloc((size_t)FP_PHASE_COUNT * n, sizeof **E);
    if (!*T || !*E) {
        free(*T);
        free(*E);
        return fp_error_set(err, FP_ERR_NOMEM, "learn phase clocks: out of memory");
    }
    return FP_OK;
}

fp_status fp_policy_learn_phase_clocks_sim(fp_policy *pol, const fp_sim_gpu *gpu,
                                           const fp_sim_workload *wl, double budget,
                                           const fp_phase_opts *popts, fp_error *err)
{
    fp_phase_opts po;
    if (popts)
        po = *popts;
    else
        fp_phase_opts_default(&po);
    unsigned n = gpu->n_clocks;
    double *T, *E;
    fp_status st = plan_tables(n, FP_GPU_MAX_CLOCKS, budget, &T, &E, err);
    if (st != FP_OK)
        return st;
    int used[FP_PHASE_COUNT] = {0};
    double t_base = 0;
    /* The baseline is the untouched device: f_max (the default ceiling of the sim). */
    unsigned fdef = fp_sim_gpu_fmax(gpu);
    for (unsigned i = 0; i < wl->n_phases; i++) {
        const fp_sim_phase *ph = &wl->phases[i];
        if (!ph->inference)
            continue;
        fp_phase cls;
        if (ph->idle) {
            cls = FP_PHASE_IDLE;
        } else {
            fp_sim_point pt;
            fp_sim_phase_point(gpu, wl, i, fp_sim_gpu_fmax(gpu), gpu->ambient_c, &pt);
            fp_phase_features f = {pt.sm_active,    pt.tensor_active, pt.dram_active,
                                   pt.gpu_util_pct, pt.mem_util_pct,  pt.power_w};
            cls = fp_phase_classify(&po, &f, FP_PHASE_COUNT, NULL);
        }
        used[cls] = 1;
        double t, e;
        phase_te(gpu, wl, i, fdef, &t, &e);
        t_base += t;
        for (unsigned k = 0; k < n; k++) {
            phase_te(gpu, wl, i, gpu->clocks_mhz[k], &t, &e);
            T[cls * n + k] += t;
            E[cls * n + k] += e;
        }
    }
    /* Exact knapsack over the classes: least total energy with total time within budget. */
    double limit = t_base * (1 + budget);
    unsigned pick[FP_PHASE_COUNT] = {0};
    if (fp_phase_plan(T, E, used, n, limit, pick) < 0) {
        free(T);
        free(E);
        return fp_error_set(err, FP_ERR_NOMEM, "learn phase clocks: out of memory");
    }
    unsigned mhz[FP_PHASE_COUNT];
    for (int p = 0; p < FP_PHASE_COUNT; p++)
        mhz[p] = used[p] ? gpu->clocks_mhz[pick[p]] : current(pol, (fp_phase)p);
    /* Classes never seen (online only by mistake or outside the window): safe defaults. */
    if (!used[FP_PHASE_COMPUTE])
        mhz[FP_PHASE_COMPUTE] = fp_sim_gpu_fmax(gpu);
    if (!used[FP_PHASE_MEMORY])
        mhz[FP_PHASE_MEMORY] = mhz[FP_PHASE_COMPUTE];
    free(T);
    free(E);
    return fp_policy_set_phase_clocks(pol, mhz, err);
}

fp_status fp_policy_learn_phase_clocks_sweep(fp_policy *pol, const fp_phase_sweep *sw,
                                             double budget, fp_error *err)
{
    unsigned n = sw->n_clocks;
    double *T, *E;
    fp_status st = plan_tables(n, FP_SWEEP_MAX_CLOCKS, budget, &T, &E, err);
    if (st != FP_OK)
        return st;
    int used[FP_PHASE_COUNT] = {0};
    for (int p = 0; p < FP_PHASE_COUNT; p++) {
        for (unsigned k = 0; k < n; k++)
            if (sw->time_s[k] > 0 && sw->t_s[p][k] >= 0.01 * sw->time_s[k])
                used[p] = 1;
        for (unsigned k = 0; used[p] && k < n; k++) {
            /*
             * A class the detector did not see at this clock (its samples went to another
             * class there) cannot be planned at it: the option is ruled out rather than
             * counted as free.
             */
            int seen = sw->t_s[p][k] > 0;
            T[p * n + k] = seen ? sw->t_s[p][k] : 1e30;
            E[p * n + k] = seen ? sw->e_j[p][k] : 1e30;
        }
    }
    /* Time of the classes left out (under 1 %) at the highest clock counts as fixed. */
    double fixed = 0;
    for (int p = 0; p < FP_PHASE_COUNT; p++)
        if (!used[p])
            fixed += sw->t_s[p][0];
    unsigned pick[FP_PHASE_COUNT];
    int r = fp_phase_plan(T, E, used, n, sw->time_s[0] * (1 + budget) - fixed, pick);
    free(T);
    free(E);
    if (r < 0)
        return fp_error_set(err, FP_ERR_NOMEM, "learn phase clocks: out of memory");
    /* A policy without a clock table (checked before a GPU is opened) takes the sweep's. */
    unsigned fmax = pol->f_max_mhz ? pol->f_max_mhz : sw->clocks_mhz[0];
    unsigned fe = pol->f_e_mhz ? pol->f_e_mhz : (unsigned)lround(0.64 * sw->clocks_mhz[0]);
    unsigned mhz[FP_PHASE_COUNT];
    for (int p = 0; p < FP_PHASE_COUNT; p++)
        mhz[p] = used[p] ? sw->clocks_mhz[pick[p]] : fe;
    if (!used[FP_PHASE_COMPUTE])
        mhz[FP_PHASE_COMPUTE] = fmax;
    if (!used[FP_PHASE_MEMORY])
        mhz[FP_PHASE_MEMORY] = mhz[FP_PHASE_COMPUTE];
    return fp_policy_set_phase_clocks(pol, mhz, err);
}
