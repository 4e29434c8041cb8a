/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_PROFILE_DCGMI_SAMPLER_H
#define FP_PROFILE_DCGMI_SAMPLER_H

/*
 * `--sampler dcgmi`: `dcgmi dmon -i GPU -e FIELDS -d MS` runs beside the NVML sampler for the
 * profiling metrics NVML lacks (SM activity, occupancy, tensor/DRAM/FP pipes). Its rows carry
 * no timestamp, so each data row is stamped with the host monotonic time at which its line
 * arrived; the table is parsed with the dcgmi dmon reader (src/telemetry/dcgmi.c), and
 * the NVML samples' missing columns are filled from the nearest dcgmi row in time.
 */

#include "freqpilot/error.h"
#include "profile/sampler.h"

/* SMACT SMOCC TENSO DRAMA FP64A FP32A FP16A GRACT */
#define FP_DCGMI_DEFAULT_FIELDS "1002,1003,1004,1005,1006,1007,1008,1001"

typedef struct fp_dcgmi_sampler fp_dcgmi_sampler;

/* 1 when dcgmi (path, or "dcgmi" in PATH when NULL) can be executed. */
int fp_dcgmi_available(const char *path);

fp_status fp_dcgmi_start(fp_dcgmi_sampler **out, const char *path, unsigned gpu_index,
                         const char *fields, double interval_s, double t0_mono, fp_error *err);
/* Stops dcgmi (SIGINT, then SIGKILL), parses its rows into *rows (t_s from t0_mono). */
fp_status fp_dcgmi_stop(fp_dcgmi_sampler *d, fp_sample_buf *rows, fp_error *err);
/* Fills NAN cells of each sample in s from the dcgmi row nearest in time (within max_dt_s). */
void fp_dcgmi_merge(fp_sample_buf *s, const fp_sample_buf *rows, double max_dt_s);

#endif
