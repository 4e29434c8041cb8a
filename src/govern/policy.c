/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Clock policies of the governor: default, static, activity (GEOPM), phase and feedback.
 * A policy turns what the detector and the workload report into one requested SM clock;
 * it never touches the GPU itself (the daemon and the replay do, through clockguard or the
 * simulated device), so each policy is a pure function of its inputs and state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "freqpilot/govern.h"
#include "freqpilot/optimize.h"
#include "util/input.h"

static const char *const policy_names[FP_POLICY_COUNT] = {"default", "static", "activity", "phase",
                                                          "feedback"};

const char *fp_policy_name(fp_policy_kind k)
{
    return (unsigned)k < FP_POLICY_COUNT ? policy_names[k] : "unknown";
}

int fp_policy_from_name(const char *name)
{
    for (int i = 0; name && i < FP_POLICY_COUNT; i++)
        if (strcasecmp(name, policy_names[i]) == 0)
            return i;
    return -1;
}

/* Nearest supported clock (ties go up); clocks are high to low. */
static unsigned snap(const fp_policy_cfg *c, double mhz)
{
    if (c->n_clocks == 0)
        return (unsigned)lround(mhz);
    unsigned best = c->clocks_mhz[0];
    double bd = fabs(best - mhz);
    for (unsigned i = 1; i < c->n_clocks; i++) {
        double d = fabs(c->clocks_mhz[i] - mhz);
        if (d < bd) {
            bd = d;
            best = c->clocks_mhz[i];
        }
    }
    return best;
}

/* Lowest supported clock >= mhz (the top one when mhz is above the table). */
static unsigned snap_up(const fp_policy_cfg *c, double mhz)
{
    unsigned best = c->n_clocks ? c->clocks_mhz[0] : (unsigned)ceil(mhz);
    for (unsigned i = 0; i < c->n_clocks; i++)
        if (c->clocks_mhz[i] + 1e-9 >= mhz)
            best = c->clocks_mhz[i];
    return best;
}

static unsigned index_of(const fp_policy_cfg *c, unsigned mhz)
{
    for (unsigned i = 0; i < c->n_clocks; i++)
        if (c->clocks_mhz[i] <= mhz)
            return i;
    return c->n_clocks ? c->n_clocks - 1 : 0;
}

void fp_policy_cfg_init(fp_policy_cfg *c, fp_policy_kind kind, const fp_gpu_info *info)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    if (info) {
        c->n_clocks = info->n_graphics_clocks;
        memcpy(c->clocks_mhz, info->graphics_clocks_mhz, c->n_clocks * sizeof c->clocks_mhz[0]);
        c->f_max_mhz =
            info->max_clock_mhz ? info->max_clock_mhz : (c->n_clocks ? c->clocks_mhz[0] : 0);
    }
    /*
     * Without a measured curve, the energy-efficient clock is taken at 64 % of f_max: the
     * voltage knee of the parts in docs/simulated-gpu.md (900/1410, 1050/1785 MHz), below
     * which the voltage stops falling and only static energy grows.
     */
    c->f_e_mhz = snap(c, 0.64 * c->f_max_mhz);
    c->f_floor_mhz = c->f_e_mhz;
    c->static_mhz = c->f_max_mhz;
    c->budget = 0.05;
    c->feedback_step_s = 0.2;
    c->feedback_probe_s = 0.3;
    /* Without learned clocks: full speed where the clock matters, f_e elsewhere. */
    for (int p = 0; p < FP_PHASE_COUNT; p++)
        c->phase_mhz[p] = p == FP_PHASE_COMPUTE ? c->f_max_mhz : c->f_e_mhz;
}

fp_status fp_policy_init(fp_policy *p, const fp_policy_cfg *cfg, fp_error *err)
{
    memset(p, 0, sizeof *p);
    if (cfg->kind >= FP_POLICY_COUNT)
        return fp_error_set(err, FP_ERR_INVALID, "policy: unknown kind %d", (int)cfg->kind);
    if (cfg->kind != FP_POLICY_DEFAULT && (cfg->n_clocks == 0 || cfg->f_max_mhz == 0))
        return fp_error_set(err, FP_ERR_INVALID, "policy %s: expected the GPU's clock table",
                            fp_policy_name(cfg->kind));
    if (cfg->kind == FP_POLICY_ACTIVITY && !(cfg->bias >= -1 && cfg->bias <= 1))
        return fp_error_set(err, FP_ERR_INVALID, "policy activity: bias %g: expected -1..1",
                            cfg->bias);
    if (cfg->kind == FP_POLICY_FEEDBACK && !(cfg->budget >= 0 && cfg->budget < 10))
        return fp_error_set(err, FP_ERR_INVALID, "policy feedback: budget %g: expected 0..10",
                            cfg->budget);
    p->cfg = *cfg;
    for (int i = 0; i < FP_PHASE_COUNT; i++)
        p->ref_rate[i] = NAN;
    p->probe_until_s = -INFINITY;
    p->last_step_s = -INFINITY;
    p->last_t_s = NAN;
    p->cur_idx = 0;
    return FP_OK;
}

static double clamp01(double x)
{
    return x < 0 ? 0 : (x > 1 ? 1 : x);
}

static unsigned decide_activity(const fp_policy *p, const fp_policy_input *in)
{
    const fp_policy_cfg *c = &p->cfg;
    const fp_sample *s = in->sample;
    /* GEOPM's scalability signal: how busy the SMs are (tensor cores count as SM work). */
    double a = s ? s->v[FP_COL_SM_ACTIVE] : NAN;
    if (s && !isnan(s->v[FP_COL_TENSOR_ACTIVE]) && !(s->v[FP_COL_TENSOR_ACTIVE] <= a))
        a = s->v[FP_COL_TENSOR_ACTIVE];
    if (isnan(a))
        a = s && !isnan(s->v[FP_COL_GPU_UTIL_PCT]) ? s->v[FP_COL_GPU_UTIL_PCT] / 100 : 1;
    a = clamp01(clamp01(a) * (1 - c->bias));
    double f = c->f_e_mhz + ((double)c->f_max_mhz - c->f_e_mhz) * a;
    return snap_up(c, f);
}

/*
 * Feedback: the workload's rate at f_max is learned per phase class by a short probe at
 * f_max; afterwards the clock walks down while the measured slowdown (instantaneous and
 * accumulated since start) stays under the budget, and up as soon as it does not. The clock
 * that held last in each class is remembered and resumed when the class comes back. It
 * never goes below f_floor (the energy-optimal clock): lower clocks cost time and energy.
 */
static unsigned decide_feedback(fp_policy *p, const fp_policy_input *in)
{
    const fp_policy_cfg *c = &p->cfg;
    unsigned lo_idx = index_of(c, c->f_floor_mhz ? c->f_floor_mhz : c->f_e_mhz);
    double dt = isnan(p->last_t_s) ? 0 : in->t_s - p->last_t_s;
    p->last_t_s = in->t_s;
    fp_phase ph = in->phase < FP_PHASE_COUNT ? in->phase : FP_PHASE_COMPUTE;
    if (isnan(in->rate) || in->rate < 0) /* no signal: nothing can be kept within a budget */
        return c->f_max_mhz;
    if (ph == FP_PHASE_IDLE && !(in->rate > 0)) {
        p->cur_idx = lo_idx;
        return c->clocks_mhz[lo_idx];
    }
    if (in->phase_changed) {
        if (isnan(p->ref_rate[ph])) {
            p->probe_until_s = in->t_s + c->feedback_probe_s;
            p->probe_sum = p->probe_n = 0;
            p->cur_idx = 0;
        } else {
            p->cur_idx = p->class_idx[ph];
        }
        p->last_step_s = in->t_s;
    }
    if (isnan(p->ref_rate[ph]) && !(in->t_s < p->probe_until_s)) {
        if (p->probe_until_s == -INFINITY) { /* first sample of a class never seen */
            p->probe_until_s = in->t_s + c->feedback_probe_s;
            p->probe_sum = p->probe_n = 0;
            p->cur_idx = 0;
        } else if (p->probe_n > 0) {
            p->ref_rate[ph] = p->probe_sum / p->probe_n;
            p->last_step_s = in->t_s;
        } else {
            p->probe_until_s = in->t_s + c->feedback_probe_s;
        }
    }
    if (in->t_s < p->probe_until_s) {
        /* The first half of the probe waits for the clock switch to settle. */
        if (in->t_s >= p->probe_until_s - c->feedback_probe_s / 2) {
            p->probe_sum += in->rate;
            p->probe_n++;
        }
        p->cur_idx = 0;
        return c->clocks_mhz[0];
    }
    double ref = p->ref_rate[ph];
    if (!(ref > 0))
        return c->clocks_mhz[p->cur_idx];
    double ratio = in->rate / ref;
    if (ratio > 1)
        ratio = 1;
    double inst = ratio > 0 ? 1 / ratio - 1 : INFINITY;
    p->elapsed_s += dt;
    p->lost_s += dt * (1 - ratio);
    double work = p->elapsed_s - p->lost_s;
    double acc = work > 0 ? p->lost_s / work : 0;
    double target = c->budget * 0.85;
    if (in->t_s - p->last_step_s >= c->feedback_step_s) {
        p->last_step_s = in->t_s;
        if (inst > target || acc > target) {
            unsigned up = p->cur_idx >= 4 ? 4 : p->cur_idx;
            p->cur_idx -= up;
        } else if (inst < target * 0.5 && acc < target) {
            p->cur_idx = p->cur_idx + 2 <= lo_idx ? p->cur_idx + 2 : lo_idx;
        }
    }
    p->class_idx[ph] = p->cur_idx;
    return c->clocks_mhz[p->cur_idx];
}

unsigned fp_policy_decide(fp_policy *p, const fp_policy_input *in)
{
    const fp_policy_cfg *c = &p->cfg;
    switch (c->kind) {
    case FP_POLICY_DEFAULT:
        return 0;
    case FP_POLICY_STATIC:
        return snap(c, c->static_mhz);
    case FP_POLICY_ACTIVITY:
        return decide_activity(p, in);
    case FP_POLICY_PHASE: {
        unsigned f = in->phase < FP_PHASE_COUNT ? c->phase_mhz[in->phase] : 0;
        return f ? snap(c, f) : c->f_max_mhz;
    }
    case FP_POLICY_FEEDBACK:
        return decide_feedback(p, in);
    default:
        return 0;
    }
}

fp_status fp_policy_static_from_json(const char *path, const char *gpu, const char *app,
                                     double max_slowdown, unsigned *freq_mhz, fp_error *err)
{
    json_t *root = fp_json_load_input(path, 0, err);
    if (!root)
        return err ? err->code : FP_ERR_PARSE;
    fp_status st = FP_OK;
    json_t *results = json_object_get(root, "results");
    if (!json_is_array(results)) {
        st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                         "expected an optimize JSON with a \"results\" array");
        goto out;
    }
    size_t i;
    json_t *row;
    int found = 0;
    char skipped[400] = "";
    json_array_foreach(results, i, row)
    {
        const char *g = json_string_value(json_object_get(row, "gpu"));
        const char *a = json_string_value(json_object_get(row, "app"));
        json_t *f = json_object_get(row, "freq_mhz");
        double ms = json_number_value(json_object_get(row, "max_slowdown"));
        if (gpu && (!g || strcasecmp(g, gpu) != 0))
            continue;
        if (app && (!a || strcasecmp(a, app) != 0))
            continue;
        if (!isnan(max_slowdown) && !json_is_number(json_object_get(row, "max_slowdown")))
            continue;
        if (!isnan(max_slowdown) && fabs(ms - max_slowdown) > 1e-9)
            continue;
        if (!json_is_number(f) || !(json_number_value(f) > 0 && json_number_value(f) <= 10000)) {
            st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                             "results[%zu]: expected a clock of 1..10000 MHz in freq_mhz", i);
            goto out;
        }
        /* Only a deployable recommendation (or one that keeps the baseline) is applied. */
        const char *verdict = json_string_value(json_object_get(row, "verdict"));
        double base = json_number_value(json_object_get(row, "baseline_mhz"));
        int keeps = json_is_number(json_object_get(row, "baseline_mhz")) &&
                    fabs(base - json_number_value(f)) < 0.5;
        if (!keeps && (!verdict || strcmp(verdict, fp_verdict_name(FP_VERDICT_DEPLOYABLE)) != 0)) {
            if (!skipped[0]) {
                const char *why = json_string_value(json_object_get(row, "verdict_reason"));
                snprintf(skipped, sizeof skipped, "results[%zu] (%s %s) is %s%s%s", i, g ? g : "?",
                         a ? a : "?",
                         verdict ? verdict : "without a verdict (an older optimize JSON)",
                         why ? ": " : "", why ? why : "");
            }
            continue;
        }
        *freq_mhz = (unsigned)lround(json_number_value(f));
        found = 1;
        break;
    }
    if (!found)
        st = fp_error_at(err, FP_ERR_INVALID, path, 0,
                         "no deployable result for gpu %s, app %s%s%s%s", gpu ? gpu : "(any)",
                         app ? app : "(any)", isnan(max_slowdown) ? "" : " at that max_slowdown",
                         skipped[0] ? "; skipped " : ": expected a matching row in results[]",
                         skipped);
out:
    json_decref(root);
    return st;
}

fp_status fp_policy_parse_phase_clocks(fp_policy_cfg *c, const char *spec, fp_error *err)
{
    char buf[256];
    if (!spec || strlen(spec) >= sizeof buf)
        return fp_error_set(err, FP_ERR_INVALID, "phase clocks: expected PHASE=MHZ[,...]");
    strcpy(buf, spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return fp_error_set(err, FP_ERR_INVALID, "phase clocks: '%s': expected PHASE=MHZ", tok);
        *eq = 0;
        int ph = fp_phase_from_name(tok);
        if (ph < 0)
            return fp_error_set(err, FP_ERR_INVALID,
                                "phase clocks: unknown phase '%s' (expected idle, compute, "
                                "memory or host)",
                                tok);
        char *end;
        errno = 0;
        double v = strtod(eq + 1, &end);
        if (errno || end == eq + 1 || *end || !(v > 0 && v < 1e5))
            return fp_error_set(err, FP_ERR_INVALID,
                                "phase clocks: %s='%s': expected a clock in MHz", tok, eq + 1);
        c->phase_mhz[ph] = snap(c, v);
    }
    return FP_OK;
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

fp_status fp_policy_learn_phase_clocks_sim(fp_policy_cfg *c, const fp_sim_gpu *gpu,
                                           const fp_sim_workload *wl, double budget,
                                           const fp_phase_opts *popts, fp_error *err)
{
    fp_phase_opts po;
    if (popts)
        po = *popts;
    else
        fp_phase_opts_default(&po);
    unsigned n = gpu->n_clocks;
    if (n == 0 || n > FP_GPU_MAX_CLOCKS)
        return fp_error_set(err, FP_ERR_INVALID, "learn phase clocks: no clock table");
    if (!(budget >= 0))
        return fp_error_set(err, FP_ERR_INVALID, "learn phase clocks: budget %g: expected >= 0",
                            budget);
    double *T = calloc((size_t)FP_PHASE_COUNT * n, sizeof *T);
    double *E = calloc((size_t)FP_PHASE_COUNT * n, sizeof *E);
    if (!T || !E) {
        free(T);
        free(E);
        return fp_error_set(err, FP_ERR_NOMEM, "learn phase clocks: out of memory");
    }
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
    for (int p = 0; p < FP_PHASE_COUNT; p++)
        c->phase_mhz[p] = used[p] ? gpu->clocks_mhz[pick[p]] : 0;
    /* Unused classes (seen online only by mistake or outside the window): safe defaults. */
    if (!used[FP_PHASE_IDLE])
        c->phase_mhz[FP_PHASE_IDLE] = c->f_e_mhz ? c->f_e_mhz : gpu->clocks_mhz[n - 1];
    if (!used[FP_PHASE_COMPUTE])
        c->phase_mhz[FP_PHASE_COMPUTE] = fp_sim_gpu_fmax(gpu);
    if (!used[FP_PHASE_MEMORY])
        c->phase_mhz[FP_PHASE_MEMORY] =
            used[FP_PHASE_COMPUTE] ? c->phase_mhz[FP_PHASE_COMPUTE] : fp_sim_gpu_fmax(gpu);
    if (!used[FP_PHASE_HOST])
        c->phase_mhz[FP_PHASE_HOST] = c->f_e_mhz ? c->f_e_mhz : fp_sim_gpu_fmax(gpu);
    free(T);
    free(E);
    return FP_OK;
}

fp_status fp_policy_learn_phase_clocks_sweep(fp_policy_cfg *c, const fp_phase_sweep *sw,
                                             double budget, fp_error *err)
{
    unsigned n = sw->n_clocks;
    if (n == 0 || n > FP_SWEEP_MAX_CLOCKS)
        return fp_error_set(err, FP_ERR_INVALID, "learn phase clocks: empty sweep");
    if (!(budget >= 0))
        return fp_error_set(err, FP_ERR_INVALID, "learn phase clocks: budget %g: expected >= 0",
                            budget);
    double *T = calloc((size_t)FP_PHASE_COUNT * n, sizeof *T);
    double *E = calloc((size_t)FP_PHASE_COUNT * n, sizeof *E);
    if (!T || !E) {
        free(T);
        free(E);
        return fp_error_set(err, FP_ERR_NOMEM, "learn phase clocks: out of memory");
    }
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
    for (int p = 0; p < FP_PHASE_COUNT; p++)
        if (used[p])
            c->phase_mhz[p] = snap(c, sw->clocks_mhz[pick[p]]);
    if (!used[FP_PHASE_COMPUTE])
        c->phase_mhz[FP_PHASE_COMPUTE] = c->f_max_mhz;
    if (!used[FP_PHASE_MEMORY])
        c->phase_mhz[FP_PHASE_MEMORY] = c->phase_mhz[FP_PHASE_COMPUTE];
    if (!used[FP_PHASE_IDLE])
        c->phase_mhz[FP_PHASE_IDLE] = c->f_e_mhz;
    if (!used[FP_PHASE_HOST])
        c->phase_mhz[FP_PHASE_HOST] = c->f_e_mhz;
    return FP_OK;
}
