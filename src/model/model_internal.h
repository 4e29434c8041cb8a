/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_MODEL_INTERNAL_H
#define FP_MODEL_INTERNAL_H
/* Helpers shared by the files of src/model/ (not public API). */
#include "freqpilot/model.h"

/* V(f)/V_max: flat at v_ratio up to the knee, then linear to 1 at fmax. */
double fp_model_vrel(double f, double fmax, double knee, double v_ratio);
void fp_model_time_basis(const fp_curve_model *m, double f, double *b);
void fp_model_power_basis(const fp_curve_model *m, double f, double *b);
/* Non-negative weighted (1/y²) least squares; 0 ok, -1 when no feasible subset. */
int fp_model_nnls(const double *X, const double *y, size_t n, int p, double noise2, double rep_dof,
                  double runs, fp_lsq *out);
double fp_model_lsq_eval(const fp_lsq *l, const double *b, double *se);
/* Top clock of gpu: o->fmax_mhz, else the board's (gpu_specs.h, when >= hi), else hi. */
double fp_model_gpu_fmax(const char *gpu, const fp_curve_options *o, double hi);
/* Default power limit of board gpu (gpu_specs.h); NAN when gpu is not a known board. */
double fp_model_pmax(const char *gpu);
/* Voltage-curve priors of gpu's architecture: 1 with *knee_mhz and *v_ratio set, or 0 with the
 * generic 0.64 f_max and 0.712 when the architecture is unknown. */
int fp_model_knee_prior(const char *gpu, double fmax, double *knee_mhz, double *v_ratio);
#endif
