/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Online phase detection. Inputs are smoothed with an exponential filter whose weight
 * follows the real interval between samples (so 20 ms and 100 ms loops behave alike); each
 * smoothed sample is classified with thresholds that lean towards the current class
 * (hysteresis); a new class is taken only after it held for confirm_s and the current one
 * lasted min_dwell_s (the change point needs both, so the detector does not chatter on
 * boundaries or on one noisy reading).
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "freqpilot/govern.h"

static const char *const phase_names[FP_PHASE_COUNT] = {"idle", "compute", "memory", "host"};

const char *fp_phase_name(fp_phase p)
{
    return (unsigned)p < FP_PHASE_COUNT ? phase_names[p] : "unknown";
}

int fp_phase_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < FP_PHASE_COUNT; i++) {
        size_t n = strlen(phase_names[i]);
        if (strncasecmp(name, phase_names[i], n) == 0 &&
            (name[n] == 0 || strcasecmp(name + n, "-bound") == 0))
            return i;
    }
    return -1;
}

void fp_phase_opts_default(fp_phase_opts *o)
{
    o->smooth_s = 0.1;
    o->idle_util_pct = 5;
    o->idle_act = 0.03;
    o->host_act = 0.2;
    o->host_util_pct = 60;
    o->mem_ratio = 0.8;
    o->mem_util_pct = 45;
    o->hysteresis = 0.15;
    o->confirm_s = 0.15;
    o->min_dwell_s = 0.3;
}

void fp_phase_features_from_sample(const fp_sample *s, fp_phase_features *f)
{
    f->sm_active = s->v[FP_COL_SM_ACTIVE];
    f->tensor_active = s->v[FP_COL_TENSOR_ACTIVE];
    f->dram_active = s->v[FP_COL_DRAM_ACTIVE];
    f->gpu_util_pct = s->v[FP_COL_GPU_UTIL_PCT];
    f->mem_util_pct = s->v[FP_COL_MEM_UTIL_PCT];
    f->power_w = s->v[FP_COL_POWER_W];
}

/* Threshold t moved by h (relative) so that staying in the current class is easier. */
static double lean(double t, double h, int favour_below)
{
    return favour_below ? t * (1 + h) : t * (1 - h);
}

fp_phase fp_phase_classify(const fp_phase_opts *o, const fp_phase_features *f, fp_phase current,
                           int *fallback)
{
    double h = o->hysteresis;
    int have_act = !isnan(f->sm_active) && !isnan(f->dram_active);
    if (fallback)
        *fallback = !have_act;
    if (!have_act) {
        double u = f->gpu_util_pct;
        if (isnan(u))
            return current < FP_PHASE_COUNT ? current : FP_PHASE_COMPUTE;
        if (u < lean(o->idle_util_pct, h, current == FP_PHASE_IDLE))
            return FP_PHASE_IDLE;
        if (u < lean(o->host_util_pct, h, current == FP_PHASE_HOST))
            return FP_PHASE_HOST;
        /* Busy: the memory controller's share tells memory-bound from compute-bound. */
        if (!isnan(f->mem_util_pct) &&
            f->mem_util_pct >= lean(o->mem_util_pct, h, current != FP_PHASE_MEMORY))
            return FP_PHASE_MEMORY;
        return FP_PHASE_COMPUTE;
    }
    double compute = f->sm_active;
    if (!isnan(f->tensor_active) && f->tensor_active > compute)
        compute = f->tensor_active;
    double dram = f->dram_active;
    int util_idle = isnan(f->gpu_util_pct) ||
                    f->gpu_util_pct < lean(o->idle_util_pct, h, current == FP_PHASE_IDLE);
    if (util_idle && compute < lean(o->idle_act, h, current == FP_PHASE_IDLE) &&
        dram < lean(o->idle_act, h, current == FP_PHASE_IDLE))
        return FP_PHASE_IDLE;
    double host_t = lean(o->host_act, h, current == FP_PHASE_HOST);
    if (compute < host_t && dram < host_t)
        return FP_PHASE_HOST;
    double ratio = lean(o->mem_ratio, h, current != FP_PHASE_MEMORY);
    return dram > ratio * compute ? FP_PHASE_MEMORY : FP_PHASE_COMPUTE;
}

void fp_phase_init(fp_phase_detector *d, const fp_phase_opts *o)
{
    memset(d, 0, sizeof *d);
    if (o)
        d->opts = *o;
    else
        fp_phase_opts_default(&d->opts);
    d->current = FP_PHASE_IDLE;
    d->candidate = FP_PHASE_COUNT;
    d->current_since_s = NAN;
}

static void smooth(double *acc, double x, double w)
{
    if (isnan(x))
        *acc = NAN;
    else if (isnan(*acc))
        *acc = x;
    else
        *acc += w * (x - *acc);
}

int fp_phase_update(fp_phase_detector *d, double t_s, const fp_sample *s)
{
    fp_phase_features f;
    fp_phase_features_from_sample(s, &f);
    if (!d->have_ema) {
        d->ema = f;
        d->have_ema = 1;
        d->last_t_s = t_s;
        d->current = fp_phase_classify(&d->opts, &d->ema, FP_PHASE_COUNT, &d->fallback);
        d->current_since_s = t_s;
        return 1;
    }
    double dt = t_s - d->last_t_s;
    d->last_t_s = t_s;
    double w = d->opts.smooth_s > 0 ? 1 - exp(-(dt > 0 ? dt : 0) / d->opts.smooth_s) : 1;
    smooth(&d->ema.sm_active, f.sm_active, w);
    smooth(&d->ema.tensor_active, f.tensor_active, w);
    smooth(&d->ema.dram_active, f.dram_active, w);
    smooth(&d->ema.gpu_util_pct, f.gpu_util_pct, w);
    smooth(&d->ema.mem_util_pct, f.mem_util_pct, w);
    smooth(&d->ema.power_w, f.power_w, w);

    fp_phase c = fp_phase_classify(&d->opts, &d->ema, d->current, &d->fallback);
    if (c == d->current) {
        d->candidate = FP_PHASE_COUNT;
        return 0;
    }
    if (c != d->candidate) {
        d->candidate = c;
        d->candidate_since_s = t_s;
    }
    if (t_s - d->candidate_since_s + 1e-9 >= d->opts.confirm_s &&
        t_s - d->current_since_s + 1e-9 >= d->opts.min_dwell_s) {
        d->current = c;
        d->current_since_s = t_s;
        d->candidate = FP_PHASE_COUNT;
        d->changes++;
        return 1;
    }
    return 0;
}
