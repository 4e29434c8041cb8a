/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal helpers of src/govern/ shared by sweep.c and predictor.c. */
#ifndef FREQPILOT_GOVERN_INT_H
#define FREQPILOT_GOVERN_INT_H

#include <stddef.h>

#include "freqpilot/dataset.h"
#include "freqpilot/error.h"
#include "freqpilot/govern.h"
#include "freqpilot/sample.h"

/* One measured run of a DATASET tree. */
typedef struct gv_run {
    char dir[1024];
    fp_run_record rec;
} gv_run;

typedef struct gv_run_list {
    gv_run *items;
    size_t n, cap;
} gv_run_list;

/*
 * Every run folder DATASET/<gpu>/<app>/<MHz>/<run> with a run.json (warm-ups and runs with
 * a nonzero exit status left out; unreadable run.json files skipped with a warning).
 */
fp_status gv_dataset_runs(const char *dataset, gv_run_list *out, const fp_diag *diag,
                          fp_error *err);
void gv_run_list_free(gv_run_list *l);
/* The samples of a run's telemetry file (malloc'ed into *s). */
fp_status gv_run_samples(const gv_run *r, fp_sample **s, size_t *n, const fp_diag *diag,
                         fp_error *err);
/*
 * Walks the samples of one run: the phase detector (options po, NULL: defaults) sees every
 * sample (so its smoothing and dwell are warmed up as online), and fn gets each sample interval
 * [t_i, t_{i+1}) clipped to the window [ws, we] (NaN: open), with the class detected at t_i.
 */
typedef void (*gv_interval_fn)(void *user, const fp_sample *s, fp_phase cls, double dt);
void gv_walk_intervals(const fp_sample *s, size_t n, double ws, double we, const fp_phase_opts *po,
                       gv_interval_fn fn, void *user);

/* The daemon's rate file (rate.c): bytes in, the last valid number out. */
typedef struct gv_rate_reader {
    char buf[256];
    size_t len;
    int dropping; /* inside a line longer than buf */
    double rate;  /* NAN until a valid line was read */
} gv_rate_reader;

void gv_rate_init(gv_rate_reader *r);
void gv_rate_feed(gv_rate_reader *r, const char *data, size_t n);

#endif
