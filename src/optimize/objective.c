/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The objective registry (include/freqpilot/objective.h): one entry per objective with its
 * value and error formula. A new objective is one more entry in `defs` below.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "freqpilot/objective.h"

static double v_energy(double n, double t, double e, double pmax)
{
    (void)n, (void)t, (void)pmax;
    return e;
}

static void s_energy(double n, double t, double e, double pmax, double *dt, double *de)
{
    (void)n, (void)t, (void)e, (void)pmax;
    *dt = 0.0;
    *de = 1.0;
}

static double v_time(double n, double t, double e, double pmax)
{
    (void)n, (void)e, (void)pmax;
    return t;
}

static void s_time(double n, double t, double e, double pmax, double *dt, double *de)
{
    (void)n, (void)t, (void)e, (void)pmax;
    *dt = 1.0;
    *de = 0.0;
}

/* E * T^n: edp (n = 1), ed2p (n = 2), ednp:N. */
static double v_ednp(double n, double t, double e, double pmax)
{
    (void)pmax;
    return n == 1.0 ? e * t : n == 2.0 ? e * t * t : e * pow(t, n);
}

static void s_ednp(double n, double t, double e, double pmax, double *dt, double *de)
{
    (void)t, (void)e, (void)pmax;
    *dt = n;
    *de = 1.0;
}

/* eta * E + (1 - eta) * P_max * T: energy priced against machine time. */
static double v_cost(double eta, double t, double e, double pmax)
{
    if (!isfinite(pmax))
        return NAN;
    return eta * e + (1.0 - eta) * pmax * t;
}

static void s_cost(double eta, double t, double e, double pmax, double *dt, double *de)
{
    double a = eta * e, b = (1.0 - eta) * pmax * t, v = a + b;
    *de = v > 0.0 ? a / v : NAN;
    *dt = v > 0.0 ? b / v : NAN;
}

static const fp_objective_def defs[] = {
    /* name, formula, parameter, min, max, fixed, needs_pmax, saves_time, value, sens */
    {"energy", "E", NULL, 0, 0, 0, 0, 0, v_energy, s_energy},
    {"time", "T", NULL, 0, 0, 0, 0, 1, v_time, s_time},
    {"edp", "E*T", NULL, 0, 0, 1.0, 0, 0, v_ednp, s_ednp},
    {"ed2p", "E*T^2", NULL, 0, 0, 2.0, 0, 0, v_ednp, s_ednp},
    {"ednp", "E*T^N", "N", 0.0, 10.0, 0, 0, 0, v_ednp, s_ednp},
    {"cost", "ETA*E + (1-ETA)*P_max*T", "ETA", 0.0, 1.0, 0, 1, 0, v_cost, s_cost},
};
#define NDEFS (sizeof defs / sizeof defs[0])

const fp_objective_def *fp_objective_def_at(size_t i)
{
    return i < NDEFS ? &defs[i] : NULL;
}

const char *fp_objective_syntax(void)
{
    static char buf[256];
    if (!buf[0]) {
        size_t off = 0;
        for (size_t i = 0; i < NDEFS && off < sizeof buf; i++)
            off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s%s%s", i ? ", " : "",
                                    defs[i].name, defs[i].param_name ? ":" : "",
                                    defs[i].param_name ? defs[i].param_name : "");
    }
    return buf;
}

static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

fp_status fp_objective_parse(const char *s, fp_objective *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return fp_error_set(err, FP_ERR_INVALID, "objective: missing name");
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    for (size_t i = 0; i < NDEFS; i++) {
        const fp_objective_def *d = &defs[i];
        if (strlen(d->name) != len || strncasecmp(s, d->name, len) != 0)
            continue;
        if (!d->param_name) {
            if (colon)
                break; /* "energy:3" */
            out->def = d;
            out->param = d->param_fixed;
            snprintf(out->name, sizeof out->name, "%s", d->name);
            return FP_OK;
        }
        double v;
        if (!colon || parse_num(colon + 1, &v) || v < d->param_min || v > d->param_max)
            return fp_error_set(err, FP_ERR_INVALID,
                                "objective '%s': expected %s:%s with %g <= %s <= %g", s, d->name,
                                d->param_name, d->param_min, d->param_name, d->param_max);
        out->def = d;
        out->param = v;
        snprintf(out->name, sizeof out->name, "%s:%g", d->name, v);
        return FP_OK;
    }
    return fp_error_set(err, FP_ERR_INVALID, "unknown objective '%s' (%s)", s,
                        fp_objective_syntax());
}

double fp_objective_value(const fp_objective *o, double time_s, double energy_j, double pmax_w)
{
    if (!o->def || !isfinite(time_s) || !isfinite(energy_j))
        return NAN;
    return o->def->value(o->param, time_s, energy_j, pmax_w);
}

void fp_objective_sens(const fp_objective *o, double time_s, double energy_j, double pmax_w,
                       double *dlog_time, double *dlog_energy)
{
    *dlog_time = *dlog_energy = NAN;
    if (o->def)
        o->def->sens(o->param, time_s, energy_j, pmax_w, dlog_time, dlog_energy);
}
