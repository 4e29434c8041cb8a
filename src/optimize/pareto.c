/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The time-energy Pareto frontier of one (gpu, app) and its knee: the frontier point
 * farthest from the chord between the frontier's ends, with time and energy each scaled
 * to [0, 1] over the frontier (so the units do not matter).
 */
#include <math.h>
#include <string.h>

#include "freqpilot/optimize.h"

long fp_pareto(const fp_opt_curve *c, fp_pareto_point *pts)
{
    size_t nf = 0;
    double tmin = INFINITY, tmax = -INFINITY, emin = INFINITY, emax = -INFINITY;
    for (size_t j = 0; j < c->n; j++) {
        fp_pareto_point *p = &pts[j];
        memset(p, 0, sizeof *p);
        p->idx = j;
        p->dominated_by_mhz = NAN;
        p->knee_distance = NAN;
        if (!fp_opt_point_ok(&c->pts[j]))
            continue;
        const fp_agg_row *a = c->pts[j].row;
        p->on_frontier = 1;
        for (size_t k = 0; k < c->n; k++) {
            if (k == j || !fp_opt_point_ok(&c->pts[k]))
                continue;
            const fp_agg_row *b = c->pts[k].row;
            if (b->time_s <= a->time_s && b->energy_j <= a->energy_j &&
                (b->time_s < a->time_s || b->energy_j < a->energy_j)) {
                p->on_frontier = 0;
                p->dominated_by_mhz = b->freq_mhz;
                break;
            }
        }
        if (!p->on_frontier)
            continue;
        nf++;
        tmin = fmin(tmin, a->time_s);
        tmax = fmax(tmax, a->time_s);
        emin = fmin(emin, a->energy_j);
        emax = fmax(emax, a->energy_j);
    }
    if (nf < 3 || !(tmax > tmin) || !(emax > emin))
        return -1;
    /* Ends: (0, 1) the fastest, (1, 0) the most frugal; chord t + e = 1. */
    long knee = -1;
    double best = 0.0;
    for (size_t j = 0; j < c->n; j++) {
        if (!pts[j].on_frontier)
            continue;
        const fp_agg_row *a = c->pts[j].row;
        double t = (a->time_s - tmin) / (tmax - tmin), e = (a->energy_j - emin) / (emax - emin);
        double d = (1.0 - t - e) / sqrt(2.0);
        pts[j].knee_distance = d;
        if (d > best) { /* strict: equal distances keep the higher clock */
            best = d;
            knee = (long)j;
        }
    }
    if (knee >= 0)
        pts[knee].knee = 1;
    return knee;
}

int fp_pareto_sig_dominated(const fp_opt_curve *c, size_t i, double *by_mhz)
{
    const fp_agg_row *a = c->pts[i].row;
    if (!isfinite(a->time_s_lo) || !isfinite(a->energy_j_lo))
        return 0;
    for (size_t k = 0; k < c->n; k++) {
        if (k == i || !fp_opt_point_ok(&c->pts[k]))
            continue;
        const fp_agg_row *b = c->pts[k].row;
        if (b->time_s_hi < a->time_s_lo && b->energy_j_hi < a->energy_j_lo) {
            if (by_mhz)
                *by_mhz = b->freq_mhz;
            return 1;
        }
    }
    return 0;
}
