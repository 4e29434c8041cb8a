/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Synthetic LLM request arrivals: a non-homogeneous Poisson process whose rate follows a day
 * (trough at the start, peak at half the period), drawn by thinning, with lognormal prompt and
 * output lengths. docs/simulated-gpu.md ("LLM serving") gives the defaults and why.
 */
#include <math.h>
#include <string.h>

#include "freqpilot/serving.h"
#include "gpu/sim_rng.h"

void fp_arrival_opts_default(fp_arrival_opts *o)
{
    memset(o, 0, sizeof *o);
    o->duration_s = 3600;
    o->period_s = 0; /* = duration */
    o->peak_rps = 8;
    o->trough_rps = 2;
    o->prompt_mean = 1000;
    o->output_mean = 200;
    o->sigma = 0.8;
    o->prompt_max = 4096;
    o->output_max = 2048;
    o->seed = FP_SIM_DEFAULT_SEED;
}

double fp_arrival_rate(const fp_arrival_opts *o, double t_s)
{
    double period = o->period_s > 0 ? o->period_s : o->duration_s;
    return o->trough_rps + (o->peak_rps - o->trough_rps) * (1 - cos(2 * M_PI * t_s / period)) / 2;
}

/* A lognormal count with this mean, clipped to 1..max. */
static unsigned lognormal_tokens(uint64_t *rng, double mean, double sigma, unsigned max)
{
    double mu = log(mean) - sigma * sigma / 2;
    double v = exp(mu + sigma * sim_gauss(rng));
    if (v < 1)
        v = 1;
    if (v > max)
        v = max;
    return (unsigned)lround(v);
}

fp_status fp_arrivals_generate(const fp_arrival_opts *o, fp_request_list *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    if (!(o->duration_s > 0 && o->duration_s <= 30 * 86400.0))
        return fp_error_set(err, FP_ERR_INVALID,
                            "arrivals: duration %g s: expected 0 < duration <= 30 days",
                            o->duration_s);
    if (!(o->period_s >= 0) || !(o->trough_rps >= 0) || !(o->peak_rps >= o->trough_rps) ||
        !(o->peak_rps > 0 && o->peak_rps <= 1e4))
        return fp_error_set(err, FP_ERR_INVALID,
                            "arrivals: rates %g..%g req/s, period %g s: expected 0 <= trough <= "
                            "peak <= 10000, peak > 0, period >= 0",
                            o->trough_rps, o->peak_rps, o->period_s);
    if (!(o->prompt_mean >= 1 && o->output_mean >= 1 && o->sigma >= 0 && o->sigma <= 3 &&
          o->prompt_max >= 1 && o->output_max >= 1))
        return fp_error_set(err, FP_ERR_INVALID,
                            "arrivals: token means %g/%g, sigma %g: expected means >= 1, sigma "
                            "0..3",
                            o->prompt_mean, o->output_mean, o->sigma);
    if (o->peak_rps * o->duration_s > 5e7)
        return fp_error_set(err, FP_ERR_INVALID,
                            "arrivals: %g requests expected: at most 5e7 (shorter or slower)",
                            o->peak_rps * o->duration_s);
    uint64_t rng = o->seed;
    double t = 0;
    for (;;) {
        /* Thinning (Lewis-Shedler): candidates at the peak rate, kept with rate(t) / peak. */
        t += -log(sim_uniform(&rng)) / o->peak_rps;
        if (t >= o->duration_s)
            break;
        double keep = sim_uniform(&rng);
        if (keep * o->peak_rps > fp_arrival_rate(o, t))
            continue;
        fp_request r = {t, lognormal_tokens(&rng, o->prompt_mean, o->sigma, o->prompt_max),
                        lognormal_tokens(&rng, o->output_mean, o->sigma, o->output_max)};
        fp_status st = fp_request_list_push(out, &r, err);
        if (st != FP_OK) {
            fp_request_list_free(out);
            return st;
        }
    }
    return FP_OK;
}
