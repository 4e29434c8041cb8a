/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * An LLM server on the simulated GPU: continuous batching (vLLM-like) with a batch limit, a
 * token budget per step (decode tokens first, then chunked prefill, FIFO admission with the
 * KV cache reserved for the whole request), and steps whose time and power come from the
 * simulator's physics (fp_sim_phase_point) at the clock the step runs at.
 *
 * A step's seconds at f_max come from first principles (bytes moved over the memory
 * bandwidth, FLOPs over the tensor throughput, each at a stated efficiency); how they respond
 * to the clock (overlap exponent, the clock-bound share of a decode step) and the activities
 * that set the power come from the calibrated LLaMA workload of the same simulated GPU
 * (src/gpu/sim_workloads.c). docs/simulated-gpu.md, "LLM serving", states every equation.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "freqpilot/gpu_specs.h"
#include "freqpilot/serving.h"
#include "util/grow.h"

/* LLaMA-7B in FP16: 6.74e9 parameters, 32 layers of width 4096. */
#define LLAMA7B_PARAMS 6.74e9
#define LLAMA7B_LAYERS 32
#define LLAMA7B_WIDTH 4096

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Device-only activities of phase i of wl on gpu (the phase's averages over its host part
 * removed): sm, occupancy, tensor, dram, memory utilisation. Also its compute share. */
static void phase_profile(const fp_sim_gpu *gpu, const fp_sim_workload *wl, unsigned i,
                          double act[5], double *share, double secs[3])
{
    fp_sim_phase_secs(gpu, wl, i, secs);
    double d = fp_sim_overlap_time(secs[1], secs[2], fp_sim_overlap_k(gpu, wl));
    double t = secs[0] + d, s = fp_sim_act_scale(gpu, wl);
    double dev = d > 0 ? t / d : 1;
    const fp_sim_phase *p = &wl->phases[i];
    act[0] = clamp01(p->sm_active * s * dev);
    act[1] = clamp01(p->sm_occupancy * s * dev);
    act[2] = clamp01(p->tensor_active * s * dev);
    act[3] = clamp01(p->dram_active * s * dev);
    act[4] = clamp01(p->mem_util_pct / 100 * s * dev);
    *share = secs[1] + secs[2] > 0 ? secs[2] / (secs[1] + secs[2]) : 1;
}

fp_status fp_server_model_init(fp_server_model *m, const fp_sim_gpu *gpu, const char *model,
                               fp_error *err)
{
    memset(m, 0, sizeof *m);
    if (!gpu || gpu->slot < 0 || gpu->slot >= FP_SIM_GPU_SLOTS)
        return fp_error_set(err, FP_ERR_INVALID, "server: expected a simulated GPU");
    if (model && strcasecmp(model, "llama-7b") != 0 && strcasecmp(model, "llama") != 0)
        return fp_error_set(err, FP_ERR_INVALID, "server: unknown model '%s' (expected llama-7b)",
                            model);
    const fp_sim_workload *wl = fp_sim_workload_find("llama");
    int ip = -1, id = -1;
    for (unsigned i = 0; wl && i < wl->n_phases; i++) {
        if (strcmp(wl->phases[i].name, "prefill") == 0)
            ip = (int)i;
        if (strcmp(wl->phases[i].name, "decode") == 0)
            id = (int)i;
    }
    if (ip < 0 || id < 0)
        return fp_error_set(err, FP_ERR_INVALID, "server: the llama workload lost its phases");
    snprintf(m->model, sizeof m->model, "llama-7b");
    m->gpu = gpu;
    m->weight_bytes = 2 * LLAMA7B_PARAMS;
    m->kv_bytes_per_token = 2.0 * LLAMA7B_LAYERS * LLAMA7B_WIDTH * 2;
    m->flops_per_token = 2 * LLAMA7B_PARAMS;
    m->attn_flops_per_ctx = 4.0 * LLAMA7B_LAYERS * LLAMA7B_WIDTH;
    /* Memory bandwidth and tensor throughput: the board's datasheet (gpu_specs.h). */
    const fp_gpu_spec *spec = fp_gpu_spec_find(gpu->name);
    if (!spec || !(spec->mem_bandwidth_gbs > 0) || !(spec->fp16_tflops > 0))
        return fp_error_set(err, FP_ERR_INVALID,
                            "server: no memory bandwidth or FP16 throughput for %s in the GPU "
                            "specs",
                            gpu->name);
    m->bandwidth_bps = spec->mem_bandwidth_gbs * 1e9;
    m->peak_flops = spec->fp16_tflops * 1e12;
    m->mem_eff = 0.8;
    m->compute_eff = 0.55;
    m->host_s = 0.002;
    m->overlap_k = fp_sim_overlap_k(gpu, wl);
    double sd[3], sp[3];
    phase_profile(gpu, wl, (unsigned)id, m->act_decode, &m->share_decode, sd);
    phase_profile(gpu, wl, (unsigned)ip, m->act_prefill, &m->share_prefill, sp);
    /* The decode phase's compute seconds per its memory seconds: kernels bound by the clock
     * that a weight-streaming step cannot hide (norms, sampling, small kernels). */
    m->clock_overhead = sd[1] > 0 ? sd[2] / sd[1] : 0;
    double usable = 0.9 * gpu->fb_total_mib * 1048576.0 - m->weight_bytes;
    m->kv_capacity_tokens = usable > 0 ? (unsigned)(usable / m->kv_bytes_per_token) : 0;
    m->max_batch = 256;
    m->chunk_tokens = 512;
    return FP_OK;
}

void fp_server_step_secs(const fp_server_model *m, const fp_server_step *s, double secs[3])
{
    double rd = m->mem_eff * m->bandwidth_bps;
    double tokens = (double)s->decode + s->prefill;
    secs[0] = m->host_s;
    secs[1] = (m->weight_bytes + (s->ctx_tokens + tokens) * m->kv_bytes_per_token) / rd;
    secs[2] =
        (tokens * m->flops_per_token + m->attn_flops_per_ctx * (s->ctx_tokens + s->prefill_ctx)) /
            (m->compute_eff * m->peak_flops) +
        m->clock_overhead * m->weight_bytes / rd;
}

/* The step as a one-phase workload (activities at f_max, as fp_sim_phase_point expects). */
static void step_phase(const fp_server_model *m, const fp_server_step *s, fp_sim_workload *wl)
{
    double secs[3];
    fp_server_step_secs(m, s, secs);
    wl->overlap_k = m->overlap_k;
    wl->has_gpu_secs = 0;
    wl->n_phases = 1;
    fp_sim_phase *p = &wl->phases[0];
    p->host_s = secs[0];
    p->memory_s = secs[1];
    p->compute_s = secs[2];
    p->inference = 1;
    p->idle = 0;
    double d1 = fp_sim_overlap_time(secs[1], secs[2], m->overlap_k), t1 = secs[0] + d1;
    double dev = t1 > 0 ? d1 / t1 : 0;
    double share = secs[2] / (secs[1] + secs[2]);
    double span = m->share_prefill - m->share_decode;
    double lam = span > 1e-9 ? clamp01((share - m->share_decode) / span) : 0;
    double a[5];
    for (int j = 0; j < 5; j++)
        a[j] = (m->act_decode[j] + lam * (m->act_prefill[j] - m->act_decode[j])) * dev;
    p->sm_active = a[0];
    p->sm_occupancy = a[1];
    p->tensor_active = a[2];
    p->dram_active = a[3];
    p->mem_util_pct = 100 * a[4];
    p->fp16_active = a[2];
    p->fp32_active = 0.1 * a[0];
    p->fp64_active = 0;
    p->gpu_util_pct = 100 * dev;
}

void fp_server_step_point(const fp_server_model *m, const fp_server_step *s, double f_mhz,
                          double temp_c, fp_sim_point *out)
{
    fp_sim_workload wl;
    memset(&wl, 0, sizeof wl);
    step_phase(m, s, &wl);
    fp_sim_phase_point(m->gpu, &wl, 0, f_mhz, temp_c, out);
}

/* ---- the simulation ---- */

enum { RQ_FUTURE = 0, RQ_WAITING, RQ_RUNNING, RQ_DONE, RQ_REJECTED };

typedef struct rq_state {
    unsigned prefilled, generated;
    double last_tok_s, gap_sum;
    int state;
} rq_state;

#define GAP_LO_S 1e-4
#define GAP_RATIO 1.001
#define GAP_BINS 18432 /* 1e-4 .. 1e4 s at 0.1 % */

typedef struct fvec {
    float *v;
    size_t n, cap;
} fvec;

static void fvec_push(fvec *a, double x)
{
    if (FP_GROW(a->v, a->n, a->cap, 256))
        return; /* dropped: a percentile of fewer values (out of memory only) */
    a->v[a->n++] = (float)x;
}

struct fp_server_sim {
    fp_server_model m;
    const fp_request *req;
    size_t n;
    fp_request_result *res;
    rq_state *st;
    size_t next_arrival, next_admit;
    size_t *run, n_run;
    size_t *pf_idx; /* prefill of the step being built: request, tokens */
    unsigned *pf_tok;
    double kv_reserved, waiting_prompt;
    double t, temp_c;
    unsigned lock_mhz, pending_mhz;
    double pending_at;
    int has_pending;
    fp_sim_workload wl; /* scratch: the step as a phase */
    /* the interval since the last fp_server_sim_interval */
    double iv_t0, iv_energy, iv_sm, iv_occ, iv_tensor, iv_dram, iv_util, iv_mutil, iv_clock;
    double iv_fp16, iv_fp32;
    unsigned long iv_prompt, iv_gen, iv_arrivals, iv_finished;
    fvec iv_ttft, iv_gaps;
    fp_server_totals tot;
    unsigned *gap_hist;
    unsigned long long n_gaps;
};

fp_server_sim *fp_server_sim_new(const fp_server_model *m, const fp_request *req, size_t n)
{
    fp_server_sim *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = *m;
    s->req = req;
    s->n = n;
    s->res = calloc(n ? n : 1, sizeof *s->res);
    s->st = calloc(n ? n : 1, sizeof *s->st);
    s->run = calloc(m->max_batch + 1, sizeof *s->run);
    s->pf_idx = calloc(m->max_batch + 1, sizeof *s->pf_idx);
    s->pf_tok = calloc(m->max_batch + 1, sizeof *s->pf_tok);
    s->gap_hist = calloc(GAP_BINS, sizeof *s->gap_hist);
    if (!s->res || !s->st || !s->run || !s->pf_idx || !s->pf_tok || !s->gap_hist) {
        fp_server_sim_free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        fp_request_result *r = &s->res[i];
        r->arrival_s = req[i].t_s;
        r->prompt_tokens = req[i].prompt_tokens;
        r->output_tokens = req[i].output_tokens;
        r->ttft_s = r->e2e_s = r->tbt_mean_s = r->tbt_max_s = NAN;
    }
    s->temp_c = fp_sim_steady_temp(m->gpu, m->gpu->idle_power_w);
    s->tot.requests = n;
    return s;
}

void fp_server_sim_free(fp_server_sim *s)
{
    if (!s)
        return;
    free(s->res);
    free(s->st);
    free(s->run);
    free(s->pf_idx);
    free(s->pf_tok);
    free(s->gap_hist);
    free(s->iv_ttft.v);
    free(s->iv_gaps.v);
    free(s);
}

void fp_server_sim_set_clock(fp_server_sim *s, unsigned mhz, double at_s)
{
    s->pending_mhz = mhz;
    s->pending_at = at_s;
    s->has_pending = 1;
}

double fp_server_sim_time(const fp_server_sim *s)
{
    return s->t;
}

int fp_server_sim_done(const fp_server_sim *s)
{
    return s->next_arrival == s->n && s->next_admit == s->n && s->n_run == 0;
}

static void record_gap(fp_server_sim *s, double g)
{
    double x = g > GAP_LO_S ? log(g / GAP_LO_S) / log(GAP_RATIO) : 0;
    size_t b = x < GAP_BINS - 1 ? (size_t)x : GAP_BINS - 1;
    s->gap_hist[b]++;
    s->n_gaps++;
    fvec_push(&s->iv_gaps, g);
}

/* Time-weighted telemetry of a span of dt seconds in state pt at clock f. */
static void account(fp_server_sim *s, const fp_sim_point *pt, double f, double dt)
{
    s->iv_energy += pt->power_w * dt;
    s->iv_sm += pt->sm_active * dt;
    s->iv_occ += pt->sm_occupancy * dt;
    s->iv_tensor += pt->tensor_active * dt;
    s->iv_dram += pt->dram_active * dt;
    s->iv_util += pt->gpu_util_pct * dt;
    s->iv_mutil += pt->mem_util_pct * dt;
    s->iv_fp16 += pt->fp16_active * dt;
    s->iv_fp32 += pt->fp32_active * dt;
    s->iv_clock += f * dt;
    s->tot.energy_j += pt->power_w * dt;
    double tss = fp_sim_steady_temp(s->m.gpu, pt->power_w);
    s->temp_c += (tss - s->temp_c) * (1 - exp(-dt / s->m.gpu->tau_s));
}

static void idle(fp_server_sim *s, double dt)
{
    if (!(dt > 0))
        return;
    const fp_sim_gpu *g = s->m.gpu;
    fp_sim_workload *wl = &s->wl;
    memset(&wl->phases[0], 0, sizeof wl->phases[0]);
    wl->n_phases = 1;
    wl->has_gpu_secs = 0;
    wl->overlap_k = 1;
    wl->phases[0].host_s = 1;
    wl->phases[0].idle = 1;
    double f = s->lock_mhz ? fp_sim_clock_floor(g, s->lock_mhz) : g->idle_clock_mhz;
    fp_sim_point pt;
    fp_sim_phase_point(g, wl, 0, f, s->temp_c, &pt);
    s->tot.idle_energy_j += pt.power_w * dt;
    account(s, &pt, f, dt);
    s->t += dt;
}

/* The clock a step runs at: the lock (or f_max), lowered while its power is over the cap. */
static void step_point(fp_server_sim *s, fp_sim_point *pt, double *f_out)
{
    const fp_sim_gpu *g = s->m.gpu;
    unsigned f = s->lock_mhz ? fp_sim_clock_floor(g, s->lock_mhz) : fp_sim_gpu_fmax(g);
    unsigned i = 0;
    while (i < g->n_clocks && g->clocks_mhz[i] > f)
        i++;
    for (;; i++) {
        fp_sim_phase_point(g, &s->wl, 0, g->clocks_mhz[i], s->temp_c, pt);
        if (pt->power_w <= g->power_limit_w || i + 1 >= g->n_clocks)
            break;
    }
    *f_out = g->clocks_mhz[i];
}

static void finish(fp_server_sim *s, size_t r)
{
    rq_state *q = &s->st[r];
    fp_request_result *o = &s->res[r];
    q->state = RQ_DONE;
    o->finished = 1;
    o->e2e_s = s->t - o->arrival_s;
    o->tbt_mean_s = q->generated > 1 ? q->gap_sum / (q->generated - 1) : NAN;
    s->kv_reserved -= (double)s->req[r].prompt_tokens + s->req[r].output_tokens;
    s->tot.finished++;
    s->iv_finished++;
}

/* Builds and runs one step; 0 when there is nothing to run. */
static int run_step(fp_server_sim *s)
{
    const fp_server_model *m = &s->m;
    fp_server_step st = {0};
    unsigned budget = m->chunk_tokens, npf = 0;
    for (size_t k = 0; k < s->n_run; k++) {
        size_t r = s->run[k];
        if (s->st[r].prefilled == s->req[r].prompt_tokens) {
            st.decode++;
            st.ctx_tokens += (double)s->req[r].prompt_tokens + s->st[r].generated;
        }
    }
    budget = budget > st.decode ? budget - st.decode : 0;
    /* Partly prefilled requests first (admission order), then new ones, FIFO. */
    for (size_t k = 0; k < s->n_run && budget > 0; k++) {
        size_t r = s->run[k];
        unsigned left = s->req[r].prompt_tokens - s->st[r].prefilled;
        if (left == 0)
            continue;
        unsigned take = left < budget ? left : budget;
        s->pf_idx[npf] = r;
        s->pf_tok[npf++] = take;
        budget -= take;
    }
    while (budget > 0 && s->next_admit < s->next_arrival && s->n_run < m->max_batch) {
        size_t r = s->next_admit;
        double need = (double)s->req[r].prompt_tokens + s->req[r].output_tokens;
        if (need > m->kv_capacity_tokens) { /* can never fit the cache */
            s->st[r].state = RQ_REJECTED;
            s->tot.rejected++;
            s->waiting_prompt -= s->req[r].prompt_tokens;
            s->next_admit++;
            continue;
        }
        if (s->kv_reserved + need > m->kv_capacity_tokens)
            break;
        s->kv_reserved += need;
        s->waiting_prompt -= s->req[r].prompt_tokens;
        s->st[r].state = RQ_RUNNING;
        s->run[s->n_run++] = r;
        s->next_admit++;
        unsigned take = s->req[r].prompt_tokens < budget ? s->req[r].prompt_tokens : budget;
        s->pf_idx[npf] = r;
        s->pf_tok[npf++] = take;
        budget -= take;
    }
    for (unsigned k = 0; k < npf; k++) {
        double p0 = s->st[s->pf_idx[k]].prefilled, p = s->pf_tok[k];
        st.prefill += s->pf_tok[k];
        st.ctx_tokens += p0;
        st.prefill_ctx += p * p0 + p * (p + 1) / 2;
    }
    unsigned tokens = st.decode + st.prefill;
    if (tokens == 0)
        return 0;
    step_phase(m, &st, &s->wl);
    fp_sim_point pt;
    double f;
    step_point(s, &pt, &f);
    double dt = pt.time_s, e = pt.power_w * dt;
    account(s, &pt, f, dt);
    s->t += dt;
    s->tot.busy_s += dt;
    s->tot.steps++;
    s->tot.clock_time_mhz_s += f * dt;
    s->tot.prompt_tokens += st.prefill;
    s->tot.output_tokens += st.decode;
    s->iv_prompt += st.prefill;
    s->iv_gen += st.decode;
    /* Tokens of the step: each decoding request gets one, each prefill its chunk. */
    for (size_t k = 0; k < s->n_run; k++) {
        size_t r = s->run[k];
        rq_state *q = &s->st[r];
        if (q->prefilled != s->req[r].prompt_tokens || q->generated == 0)
            continue;
        double g = s->t - q->last_tok_s;
        q->generated++;
        q->gap_sum += g;
        if (isnan(s->res[r].tbt_max_s) || g > s->res[r].tbt_max_s)
            s->res[r].tbt_max_s = g;
        q->last_tok_s = s->t;
        record_gap(s, g);
        s->res[r].energy_j += e / tokens;
    }
    for (unsigned k = 0; k < npf; k++) {
        size_t r = s->pf_idx[k];
        rq_state *q = &s->st[r];
        q->prefilled += s->pf_tok[k];
        s->res[r].energy_j += e * s->pf_tok[k] / tokens;
        if (q->prefilled == s->req[r].prompt_tokens) { /* the first token */
            q->generated = 1;
            q->last_tok_s = s->t;
            s->res[r].ttft_s = s->t - s->res[r].arrival_s;
            s->tot.output_tokens++;
            s->iv_gen++;
            fvec_push(&s->iv_ttft, s->res[r].ttft_s);
        }
    }
    size_t kept = 0;
    for (size_t k = 0; k < s->n_run; k++) {
        size_t r = s->run[k];
        if (s->st[r].generated >= s->req[r].output_tokens)
            finish(s, r);
        else
            s->run[kept++] = r;
    }
    s->n_run = kept;
    return 1;
}

void fp_server_sim_advance(fp_server_sim *s, double until_s)
{
    while (s->t < until_s) {
        while (s->next_arrival < s->n && s->req[s->next_arrival].t_s <= s->t) {
            s->st[s->next_arrival].state = RQ_WAITING;
            s->waiting_prompt += s->req[s->next_arrival].prompt_tokens;
            s->next_arrival++;
            s->iv_arrivals++;
        }
        if (s->has_pending && s->t >= s->pending_at) {
            s->lock_mhz = s->pending_mhz;
            s->has_pending = 0;
        }
        if (run_step(s))
            continue;
        double next = until_s;
        if (s->next_arrival < s->n && s->req[s->next_arrival].t_s < next)
            next = s->req[s->next_arrival].t_s;
        if (s->has_pending && s->pending_at > s->t && s->pending_at < next)
            next = s->pending_at;
        if (next <= s->t) /* an arrival due now: admitted at the top of the loop */
            next = s->t + 1e-9;
        idle(s, next - s->t);
    }
}

static int fcmp(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank quantile (sorts v). */
static double quantile(fvec *v, double q)
{
    if (v->n == 0)
        return NAN;
    qsort(v->v, v->n, sizeof *v->v, fcmp);
    size_t k = (size_t)ceil(q * v->n);
    return v->v[k ? k - 1 : 0];
}

void fp_server_sim_interval(fp_server_sim *s, fp_server_interval *o)
{
    memset(o, 0, sizeof *o);
    const fp_sim_gpu *g = s->m.gpu;
    double dt = s->t - s->iv_t0;
    o->t0_s = s->iv_t0;
    o->t1_s = s->t;
    o->waiting = (double)(s->next_arrival - s->next_admit);
    o->running = (double)s->n_run;
    o->waiting_prompt_tokens = s->waiting_prompt;
    double kv = 0;
    for (size_t k = 0; k < s->n_run; k++) {
        size_t r = s->run[k];
        kv += s->st[r].prefilled + s->st[r].generated;
        o->waiting_prompt_tokens += s->req[r].prompt_tokens - s->st[r].prefilled;
    }
    o->kv_tokens = kv;
    double inv = dt > 0 ? 1 / dt : 0;
    o->prompt_tok_s = s->iv_prompt * inv;
    o->gen_tok_s = s->iv_gen * inv;
    o->arrivals_s = s->iv_arrivals * inv;
    o->finished_s = s->iv_finished * inv;
    o->ttft_p99_s = quantile(&s->iv_ttft, 0.99);
    o->tbt_p99_s = quantile(&s->iv_gaps, 0.99);
    fp_sample *x = &o->sample;
    fp_sample_clear(x);
    x->v[FP_COL_T_S] = s->t;
    if (dt > 0) {
        x->v[FP_COL_POWER_W] = s->iv_energy * inv;
        x->v[FP_COL_POWER_AVG_W] = s->iv_energy * inv;
        x->v[FP_COL_SM_CLOCK_MHZ] = s->iv_clock * inv;
        x->v[FP_COL_SM_ACTIVE] = s->iv_sm * inv;
        x->v[FP_COL_SM_OCCUPANCY] = s->iv_occ * inv;
        x->v[FP_COL_TENSOR_ACTIVE] = s->iv_tensor * inv;
        x->v[FP_COL_DRAM_ACTIVE] = s->iv_dram * inv;
        x->v[FP_COL_FP16_ACTIVE] = s->iv_fp16 * inv;
        x->v[FP_COL_FP32_ACTIVE] = s->iv_fp32 * inv;
        x->v[FP_COL_FP64_ACTIVE] = 0;
        x->v[FP_COL_GPU_UTIL_PCT] = s->iv_util * inv;
        x->v[FP_COL_MEM_UTIL_PCT] = s->iv_mutil * inv;
    }
    x->v[FP_COL_ENERGY_MJ] = floor(s->tot.energy_j * 1000);
    x->v[FP_COL_MEM_CLOCK_MHZ] = g->mem_clock_mhz;
    x->v[FP_COL_TEMP_C] = round(s->temp_c);
    x->v[FP_COL_POWER_LIMIT_W] = g->power_limit_w;
    x->v[FP_COL_PSTATE] = 0;
    s->iv_t0 = s->t;
    s->iv_energy = s->iv_sm = s->iv_occ = s->iv_tensor = s->iv_dram = 0;
    s->iv_util = s->iv_mutil = s->iv_clock = s->iv_fp16 = s->iv_fp32 = 0;
    s->iv_prompt = s->iv_gen = s->iv_arrivals = s->iv_finished = 0;
    s->iv_ttft.n = s->iv_gaps.n = 0;
}

void fp_server_sim_totals(const fp_server_sim *s, fp_server_totals *out)
{
    *out = s->tot;
    out->time_s = s->t;
}

const fp_request_result *fp_server_sim_results(const fp_server_sim *s)
{
    return s->res;
}

double fp_server_sim_gap_quantile(const fp_server_sim *s, double q)
{
    if (s->n_gaps == 0)
        return NAN;
    unsigned long long need = (unsigned long long)ceil(q * (double)s->n_gaps), seen = 0;
    if (need == 0)
        need = 1;
    for (size_t b = 0; b < GAP_BINS; b++) {
        seen += s->gap_hist[b];
        if (seen >= need)
            return GAP_LO_S * pow(GAP_RATIO, b + 0.5);
    }
    return GAP_LO_S * pow(GAP_RATIO, GAP_BINS);
}
