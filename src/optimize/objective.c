/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Objectives of optimize: parsing their names and evaluating them at (time, energy). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/optimize.h"

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
    static const struct {
        const char *name;
        fp_objective_kind kind;
        double param;
    } plain[] = {
        {"energy", FP_OBJ_ENERGY, 0.0},
        {"time", FP_OBJ_TIME, 0.0},
        {"edp", FP_OBJ_EDP, 1.0},
        {"ed2p", FP_OBJ_ED2P, 2.0},
    };
    memset(out, 0, sizeof *out);
    if (!s)
        return fp_error_set(err, FP_ERR_INVALID, "objective: missing name");
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcasecmp(s, plain[i].name) == 0) {
            out->kind = plain[i].kind;
            out->param = plain[i].param;
            snprintf(out->name, sizeof out->name, "%s", plain[i].name);
            return FP_OK;
        }
    double v;
    if (strncasecmp(s, "ednp:", 5) == 0) {
        if (parse_num(s + 5, &v) || v < 0.0 || v > 10.0)
            return fp_error_set(err, FP_ERR_INVALID,
                                "objective '%s': expected ednp:N with 0 <= N <= 10", s);
        out->kind = FP_OBJ_EDNP;
        out->param = v;
        snprintf(out->name, sizeof out->name, "ednp:%g", v);
        return FP_OK;
    }
    if (strncasecmp(s, "cost:", 5) == 0) {
        if (parse_num(s + 5, &v) || v < 0.0 || v > 1.0)
            return fp_error_set(err, FP_ERR_INVALID,
                                "objective '%s': expected cost:ETA with 0 <= ETA <= 1", s);
        out->kind = FP_OBJ_COST;
        out->param = v;
        snprintf(out->name, sizeof out->name, "cost:%g", v);
        return FP_OK;
    }
    return fp_error_set(err, FP_ERR_INVALID,
                        "unknown objective '%s' (energy, time, edp, ed2p, ednp:N, cost:ETA)", s);
}

double fp_objective_value(const fp_objective *o, double time_s, double energy_j, double pmax_w)
{
    if (!isfinite(time_s) || !isfinite(energy_j))
        return NAN;
    switch (o->kind) {
    case FP_OBJ_ENERGY:
        return energy_j;
    case FP_OBJ_TIME:
        return time_s;
    case FP_OBJ_EDP:
        return energy_j * time_s;
    case FP_OBJ_ED2P:
        return energy_j * time_s * time_s;
    case FP_OBJ_EDNP:
        return energy_j * pow(time_s, o->param);
    case FP_OBJ_COST:
        if (!isfinite(pmax_w))
            return NAN;
        return o->param * energy_j + (1.0 - o->param) * pmax_w * time_s;
    }
    return NAN;
}
