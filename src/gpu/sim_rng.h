/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulator's random numbers: splitmix64 and the distributions built on it. */
#ifndef FREQPILOT_SIM_RNG_H
#define FREQPILOT_SIM_RNG_H

#include <math.h>
#include <stdint.h>

static inline uint64_t sim_splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static inline double sim_uniform(uint64_t *s)
{
    return ((sim_splitmix(s) >> 11) + 0.5) / 9007199254740992.0;
}

/* Standard normal (Box-Muller). */
static inline double sim_gauss(uint64_t *s)
{
    double u1 = sim_uniform(s);
    double u2 = (sim_splitmix(s) >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

#endif
