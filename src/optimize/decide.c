/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The one rule that turns estimates into a chosen clock (include/freqpilot/objective.h,
 * docs/method.md C.3). Why this shape:
 *  - a greedy pass in the order of the budget's key (the slowdown's upper bound) makes the
 *    choice for a budget depend only on the prefix of candidates that budget admits, so a
 *    looser budget can only improve the value;
 *  - replacing the current choice only when better by more than the margin is the
 *    practical-equivalence tie-break: the faster clock stays unless a slower one is really
 *    better, and the result is never worse than the baseline it starts from.
 */
#include <math.h>

#include "freqpilot/objective.h"

/* Slack on the budget comparison: budgets and slowdowns pass through %.10g text. */
#define BUDGET_EPS 1e-9

static int in_order(const fp_opt_cand *a, const fp_opt_cand *b)
{
    if (a->slowdown_bound != b->slowdown_bound)
        return a->slowdown_bound < b->slowdown_bound;
    return a->freq_mhz > b->freq_mhz;
}

static int admitted(const fp_opt_cand *c, double budget)
{
    return c->eligible && isfinite(c->value) && !isnan(c->slowdown_bound) &&
           (isnan(budget) || c->slowdown_bound <= budget + BUDGET_EPS);
}

size_t fp_opt_decide(const fp_opt_cand *c, size_t n, size_t b, double budget, double margin)
{
    if (b >= n || !isfinite(c[b].value))
        return b;
    if (!(margin >= 0.0))
        margin = 0.0;
    /* Candidates in order, found by repeated scans: n is a clock table (a few hundred at
     * most), and no allocation means no failure path. */
    size_t cur = b;
    long last = -1;
    for (;;) {
        long next = -1;
        for (size_t j = 0; j < n; j++) {
            if (j == b || !admitted(&c[j], budget))
                continue;
            if (last >= 0 && !in_order(&c[last], &c[j]))
                continue;
            if (next < 0 || in_order(&c[j], &c[next]))
                next = (long)j;
        }
        if (next < 0)
            return cur;
        last = next;
        if (c[last].value < c[cur].value * (1.0 - margin))
            cur = (size_t)last;
    }
}
