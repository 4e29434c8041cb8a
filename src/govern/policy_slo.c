/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Policy "slo": LLM serving under a latency SLO. Each decision takes the serving engine's
 * signals (queue, batch, token rates, measured latency) and a per-clock latency model of one
 * serving step, predicts the p99 time to first token (TTFT) and time between tokens (TBT) at
 * every clock, and asks for the lowest clock (not below the floor) whose predictions stay
 * under (1 - margin) x the SLO.
 *
 *  - TBT: while prompts are being prefilled, a step carries a full chunk (chunk_tokens) beside
 *    the running batch: TBT = step(chunk, kv); otherwise step(batch, kv).
 *  - TTFT: prefill capacity cap = (chunk - batch) / step(chunk, kv) tokens/s; utilisation
 *    U = prompt tokens/s / cap (at most umax); a prompt of mean length takes S = prompt / cap;
 *    TTFT = max(queued prompt tokens / cap, M/M/1 p99 wait S ln(100 U) / (1 - U)) + S + one
 *    step.
 *
 * Among the clocks that fit, the one of least predicted power (most often the lowest).
 * Going up is immediate (queue growth shows in the prediction at once); going down waits
 * until lower clocks have been enough for hold seconds, and then takes the highest clock
 * needed during that time. A measured p99 over the SLO scales the predictions by the miss for
 * hold seconds (fast step-up). Without fresh signals (the engine's endpoint is stale or gone)
 * the answer is the default clocks, never a low clock.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "govern/policy_int.h"

typedef struct slo_policy {
    fp_policy base;
    /* tunables */
    double ttft_s, tbt_s;          /* the SLO: p99 time to first token, p99 time between tokens */
    double margin;                 /* predicted TTFT must stay under (1 - margin) x its SLO */
    double tbt_margin;             /* predicted TBT under (1 - tbt_margin) x its SLO */
    double umax;                   /* prefill capacity used at most */
    double kv_z;                   /* standard deviations of KV occupancy kept below the capacity */
    double prompt_cv2, output_cv2; /* squared coefficients of variation of the lengths */
    double hold_s;                 /* least time before stepping down (and of a jump up) */
    double prompt_tokens;          /* mean prompt length when the signals cannot tell */
    double output_tokens;          /* and mean output length */
    double window_s;               /* time constant of the smoothed token and request rates */
    unsigned floor;                /* never below this clock */
    char model[FP_TUNE_STR_MAX];   /* latency model: "sim", "sim:GPU" or a JSON file */
    /* state */
    fp_latency_model *lm;
    unsigned cur; /* index into lm's clocks of the clock asked for */
    int have_cur;
    double down_since_s; /* lower clocks wanted since (NAN: not) */
    unsigned down_need;  /* the highest (lowest index) clock needed meanwhile */
    double boost_until_s;
    double k_ttft, k_tbt; /* measured / predicted while boosting (>= 1) */
    double prompt_mean;
    double slow[3], fast[3]; /* prompt tokens/s, generated tokens/s, requests/s averaged */
    double rate, gen_rate, req_rate, last_t_s; /* the rates predictions use */
    double output_mean;
} slo_policy;

static void defaults(fp_policy *p)
{
    slo_policy *s = (slo_policy *)p;
    s->ttft_s = 2;
    s->tbt_s = 0.1;
    s->margin = 0.3;
    s->tbt_margin = 0.1;
    s->umax = 0.9;
    s->kv_z = 3;
    s->prompt_cv2 = 0.9;
    s->output_cv2 = 0.9;
    s->hold_s = 5;
    s->prompt_tokens = 1000;
    s->output_tokens = 200;
    s->window_s = 20;
    s->floor = p->n_clocks ? p->clocks_mhz[p->n_clocks - 1] : 0;
    snprintf(s->model, sizeof s->model, "sim");
}

static void release(fp_policy *p)
{
    slo_policy *s = (slo_policy *)p;
    free(s->lm);
    s->lm = NULL;
}

/* The simulated GPU a model spec or, for "sim", the clock table names. */
static const fp_sim_gpu *sim_gpu_of(const fp_policy *p, const char *spec)
{
    if (strncasecmp(spec, "sim:", 4) == 0)
        return fp_sim_gpu_find(spec + 4);
    for (unsigned i = 0; i < fp_sim_gpu_count(); i++)
        if (fp_sim_gpu_fmax(fp_sim_gpu_at(i)) == p->f_max_mhz)
            return fp_sim_gpu_at(i);
    return NULL;
}

static fp_status start(fp_policy *p, fp_error *err)
{
    slo_policy *s = (slo_policy *)p;
    fp_status st = gv_need_clocks(p, err);
    if (st != FP_OK)
        return st;
    if (!(s->ttft_s > 0) || !(s->tbt_s > 0))
        return fp_error_set(err, FP_ERR_INVALID, "policy slo: expected ttft and tbt > 0");
    s->lm = malloc(sizeof *s->lm);
    if (!s->lm)
        return fp_error_set(err, FP_ERR_NOMEM, "policy slo: out of memory");
    if (strcasecmp(s->model, "sim") == 0 || strncasecmp(s->model, "sim:", 4) == 0) {
        const fp_sim_gpu *g = sim_gpu_of(p, s->model);
        fp_server_model m;
        if (!g)
            st = fp_error_set(err, FP_ERR_INVALID,
                              "policy slo: model=%s: no simulated GPU %s (expected model=FILE.json "
                              "from 'govern replay --serving --save-latency-model', or "
                              "sim:V100|A100|H100)",
                              s->model, s->model[3] ? "of that name" : "with this clock table");
        else
            st = fp_server_model_init(&m, g, "llama-7b", err);
        if (st == FP_OK)
            fp_latency_model_learn_sim(&m, s->lm);
    } else {
        st = fp_latency_model_load(s->lm, s->model, err);
    }
    if (st != FP_OK) {
        release(p);
        return st;
    }
    s->have_cur = 0;
    s->cur = 0;
    s->down_since_s = NAN;
    s->down_need = 0;
    s->boost_until_s = -INFINITY;
    s->k_ttft = s->k_tbt = 1;
    s->prompt_mean = s->prompt_tokens;
    s->rate = s->gen_rate = s->req_rate = 0;
    for (int k = 0; k < 3; k++)
        s->slow[k] = s->fast[k] = 0;
    s->output_mean = s->output_tokens;
    s->last_t_s = NAN;
    return FP_OK;
}

static double fin(double v, double dflt)
{
    return isfinite(v) && v >= 0 ? v : dflt;
}

/*
 * Predicted p99 TTFT and TBT at clock index i (seconds; INFINITY when overloaded), from the
 * sustained load (smoothed rates) and what is queued now:
 *  - steady state: the batch B that carries the generated tokens (Little's law over the step
 *    rate, mixed prefill steps taking the share U of the time) and the KV it holds;
 *  - TBT: a step with a full prefill chunk beside B (while prompts arrive), else a decode step;
 *  - TTFT: the larger of draining what is queued now at the prefill capacity and the p99 wait
 *    for prefill (M/M/1 in whole prompts, utilisation U), plus the prompt's own prefill and
 *    one step;
 *  - overload: U over umax, or the KV cache reserved (each request holds its prompt and output
 *    for its life, TTFT + output x time per token) exceeding the capacity more often than
 *    1 % of the time: mean + kv_z standard deviations of an M/G/infinity occupancy with random
 *    sizes (lognormal moments from the squared coefficients of variation prompt_cv2 and
 *    output_cv2) over the capacity. Admission then waits for the cache, which the queueing
 *    terms above do not see.
 */
static void predict(const slo_policy *s, unsigned i, const fp_serving_signals *g, double *ttft,
                    double *tbt, double *power_w)
{
    const fp_latency_model *lm = s->lm;
    double chunk = lm->chunk_tokens;
    double batch = fin(g->running, 0);
    double kv_now = isfinite(g->kv_tokens)  ? g->kv_tokens
                    : isfinite(g->kv_usage) ? g->kv_usage * lm->kv_capacity_tokens
                                            : 0;
    double lam = s->req_rate, lam_p = s->rate, pmean = s->prompt_mean, omean = s->output_mean;
    double backlog = isfinite(g->waiting_prompt_tokens) && g->waiting_prompt_tokens >= 0
                         ? g->waiting_prompt_tokens
                         : fin(g->waiting, 0) * pmean;
    double b = batch, u = 0, t_full = 0, t_dec = 0, steps_s = 1, kv = kv_now;
    for (int it = 0; it < 4; it++) {
        kv = b * (pmean + omean / 2);
        if (kv < kv_now)
            kv = kv_now;
        t_full = fp_latency_model_step(lm, i, chunk, kv);
        t_dec = fp_latency_model_step(lm, i, b > 1 ? b : 1, kv);
        double per_step = chunk - b > 1 ? chunk - b : 1;
        u = lam_p * t_full / per_step;
        if (!(u < s->umax))
            break;
        steps_s = u / t_full + (1 - u) / t_dec;
        b = lam * omean / steps_s;
    }
    *tbt = lam_p > 0 || backlog > 0 ? t_full : t_dec;
    *power_w = u * fp_latency_model_power(lm, i, chunk, kv) +
               (1 - u) * fp_latency_model_power(lm, i, b > 1 ? b : 1, kv);
    double cap = (chunk - b > 1 ? chunk - b : 1) / t_full;
    if (!(u < s->umax)) {
        *ttft = INFINITY;
        return;
    }
    double svc = pmean / cap;
    double wait = u > 0.01 ? svc * log(100 * u) / (1 - u) : 0;
    double drain = backlog / cap;
    *ttft = (drain > wait ? drain : wait) + svc + t_full;
    double tok_s = 1 / steps_s, p2 = pmean * pmean * (1 + s->prompt_cv2);
    double o2 = omean * omean * (1 + s->output_cv2);
    double o3 = omean * omean * omean * pow(1 + s->output_cv2, 3);
    double mean = lam * ((pmean + omean) * *ttft + (pmean * omean + o2) * tok_s);
    double var =
        lam * ((p2 + 2 * pmean * omean + o2) * *ttft + (p2 * omean + 2 * pmean * o2 + o3) * tok_s);
    if (lm->kv_capacity_tokens > 0 && mean + s->kv_z * sqrt(var) > lm->kv_capacity_tokens)
        *ttft = INFINITY;
}

static unsigned decide(fp_policy *p, const fp_policy_input *in)
{
    slo_policy *s = (slo_policy *)p;
    const fp_serving_signals *g = in->serving;
    if (!g || !g->valid) { /* no fresh signal: the driver's clocks, never a low one */
        s->have_cur = 0;
        s->down_since_s = NAN;
        return 0;
    }
    const fp_latency_model *lm = s->lm;
    /*
     * Rates over a few control intervals are mostly 0 or a burst: the sustained load is their
     * exponential average over window; bursts show in the queue (the backlog term) instead.
     * A rising load is followed faster: when the request rate averaged over a quarter of the
     * window is above the slow one by more than two of its Poisson standard deviations
     * (sqrt(rate / (2 tau)) for an average of time constant tau), every rate is scaled up by
     * their ratio (up fast, down slowly).
     */
    double dt = isnan(s->last_t_s) ? 0 : in->t_s - s->last_t_s;
    double a = isnan(s->last_t_s) ? 1 : (s->window_s > 0 ? 1 - exp(-dt / s->window_s) : 1);
    double a4 = isnan(s->last_t_s) ? 1 : (s->window_s > 0 ? 1 - exp(-4 * dt / s->window_s) : 1);
    s->last_t_s = in->t_s;
    double now[3] = {fin(g->prompt_tok_s, 0), fin(g->gen_tok_s, 0), fin(g->requests_s, 0)};
    for (int k = 0; k < 3; k++) {
        s->slow[k] += a * (now[k] - s->slow[k]);
        s->fast[k] += a4 * (now[k] - s->fast[k]);
    }
    double up = 1, tau_f = s->window_s / 4;
    if (tau_f > 0 && s->slow[2] > 0 && s->fast[2] > s->slow[2] + 2 * sqrt(s->slow[2] / (2 * tau_f)))
        up = s->fast[2] / s->slow[2];
    else if (!(s->slow[2] > 0) && s->fast[2] > 0)
        up = INFINITY; /* from nothing: take the fast averages themselves */
    s->rate = isfinite(up) ? s->slow[0] * up : s->fast[0];
    s->gen_rate = isfinite(up) ? s->slow[1] * up : s->fast[1];
    s->req_rate = isfinite(up) ? s->slow[2] * up : s->fast[2];
    if (s->slow[2] > 0 && s->slow[0] > 0) { /* mean prompt and output of a request */
        s->prompt_mean = s->slow[0] / s->slow[2];
        s->output_mean = s->slow[1] / s->slow[2];
    }
    double lim_ttft = (1 - s->margin) * s->ttft_s, lim_tbt = (1 - s->tbt_margin) * s->tbt_s;
    /*
     * Measured latency over the SLO (TBT) or near it (TTFT over 1 - margin / 2 of it): the
     * model is off or a burst came. For hold seconds the predictions are scaled by how far the
     * measurement is above the prediction at the clock that ran (fast step-up: a large miss
     * takes the highest clock at once).
     */
    if (s->have_cur && in->t_s >= s->boost_until_s)
        s->k_ttft = s->k_tbt = 1;
    int hot_ttft = isfinite(g->ttft_p99_s) && g->ttft_p99_s > (1 - s->margin / 2) * s->ttft_s;
    int hot_tbt = isfinite(g->tbt_p99_s) && g->tbt_p99_s > s->tbt_s;
    if (s->have_cur && (hot_ttft || hot_tbt)) {
        double ttft, tbt, w;
        predict(s, s->cur, g, &ttft, &tbt, &w);
        if (hot_ttft)
            s->k_ttft =
                fmax(s->k_ttft, ttft > 0 && isfinite(ttft) ? g->ttft_p99_s / ttft / (1 - s->margin)
                                                           : INFINITY);
        if (hot_tbt)
            s->k_tbt = fmax(s->k_tbt, tbt > 0 ? g->tbt_p99_s / tbt / (1 - s->tbt_margin) : 1e9);
        s->boost_until_s = in->t_s + s->hold_s;
    }
    unsigned lo = fp_latency_model_index(lm, s->floor);
    while (lo > 0 && lm->clocks_mhz[lo] < s->floor) /* not below the floor */
        lo--;
    /*
     * Among the clocks whose predictions meet the SLO, the one of least predicted power (the
     * token rate is the load's, whatever the clock: least power = least energy per token);
     * ties to the lower clock. The highest clock when none fits.
     */
    unsigned want = 0;
    double best_w = INFINITY;
    for (unsigned i = lo + 1; i-- > 0;) {
        double ttft, tbt, w;
        predict(s, i, g, &ttft, &tbt, &w);
        if (ttft * s->k_ttft <= lim_ttft && tbt * s->k_tbt <= lim_tbt && w < best_w - 1e-9) {
            want = i;
            best_w = w;
        }
    }
    if (!s->have_cur || want <= s->cur) { /* up (or first): at once */
        s->cur = want;
        s->have_cur = 1;
        s->down_since_s = NAN;
    } else if (isnan(s->down_since_s)) {
        s->down_since_s = in->t_s;
        s->down_need = want;
    } else {
        if (want < s->down_need)
            s->down_need = want;
        if (in->t_s - s->down_since_s >= s->hold_s) {
            s->cur = s->down_need;
            s->down_since_s = NAN;
        }
    }
    return gv_snap_up(p, lm->clocks_mhz[s->cur]);
}

static const fp_policy_tunable tunables[] = {
    GV_TUNE("ttft", slo_policy, ttft_s, FP_TUNE_SECONDS, 1e-3, 3600,
            "SLO: p99 time to first token (2s)"),
    GV_TUNE("tbt", slo_policy, tbt_s, FP_TUNE_SECONDS, 1e-4, 60,
            "SLO: p99 time between tokens (100ms)"),
    GV_TUNE("margin", slo_policy, margin, FP_TUNE_NUM, 0, 0.95,
            "predicted p99 TTFT stays under (1 - margin) x SLO (0.3)"),
    GV_TUNE("tbt_margin", slo_policy, tbt_margin, FP_TUNE_NUM, 0, 0.95,
            "predicted p99 TBT stays under (1 - tbt_margin) x SLO (0.1)"),
    GV_TUNE("umax", slo_policy, umax, FP_TUNE_NUM, 0.05, 0.999,
            "prefill capacity used at most (0.9)"),
    GV_TUNE("kv_z", slo_policy, kv_z, FP_TUNE_NUM, 0, 10,
            "KV occupancy: mean + kv_z sd within the cache (3)"),
    GV_TUNE("prompt_cv2", slo_policy, prompt_cv2, FP_TUNE_NUM, 0, 100,
            "squared coefficient of variation of prompt lengths (0.9)"),
    GV_TUNE("output_cv2", slo_policy, output_cv2, FP_TUNE_NUM, 0, 100,
            "squared coefficient of variation of output lengths (0.9)"),
    GV_TUNE("hold", slo_policy, hold_s, FP_TUNE_SECONDS, 0, 3600,
            "least time before stepping down, and of a jump up (5s)"),
    GV_TUNE("prompt", slo_policy, prompt_tokens, FP_TUNE_NUM, 1, 1e6,
            "mean prompt tokens until the signals tell (1000)"),
    GV_TUNE("output", slo_policy, output_tokens, FP_TUNE_NUM, 1, 1e6,
            "mean output tokens until the signals tell (200)"),
    GV_TUNE("window", slo_policy, window_s, FP_TUNE_SECONDS, 0, 3600,
            "time constant of the smoothed token and request rates (20s)"),
    GV_TUNE("floor", slo_policy, floor, FP_TUNE_MHZ, 0, 0,
            "never below this clock (MHz; the lowest)"),
    GV_TUNE("model", slo_policy, model, FP_TUNE_STR, 0, 0,
            "latency model: sim (the simulated GPU of this clock table), sim:GPU or a JSON "
            "file (sim)"),
    {0},
};

GV_POLICY(slo, "lowest clock whose predicted p99 TTFT and TBT meet a serving latency SLO",
          slo_policy, .defaults = defaults, .start = start, .decide = decide, .release = release);
