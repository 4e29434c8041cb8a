/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Words shared by report.html and report.pdf. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

size_t fp_report_pairs(const fp_agg_result *agg, size_t *first_row, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < agg->nrows; i++) {
        int seen = 0;
        for (size_t k = 0; k < n && !seen; k++)
            seen = !strcmp(agg->rows[first_row[k]].gpu, agg->rows[i].gpu) &&
                   !strcmp(agg->rows[first_row[k]].app, agg->rows[i].app);
        if (!seen && n < cap)
            first_row[n++] = i;
    }
    return n;
}

size_t fp_report_gpus(const fp_agg_result *agg, const char **gpus, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < agg->nrows; i++) {
        int seen = 0;
        for (size_t k = 0; k < n && !seen; k++)
            seen = !strcmp(gpus[k], agg->rows[i].gpu);
        if (!seen && n < cap)
            gpus[n++] = agg->rows[i].gpu;
    }
    return n;
}

const char *fp_report_flag_text(unsigned bit)
{
    switch (1u << bit) {
    case FP_FLAG_CLOCK_NOT_HELD:
        return "the SM clock reached differs from the clock requested: the row is not a "
               "measurement at that clock";
    case FP_FLAG_THROTTLED:
        return "power or thermal throttling during the window: the clock was capped";
    case FP_FLAG_COUNTER_MISMATCH:
        return "the energy counter and the integral of power disagree beyond tolerance";
    case FP_FLAG_TIME_RECONSTRUCTED:
        return "the data has no timestamps (dcgmi): time rebuilt from the sampling interval";
    case FP_FLAG_WINDOW_DETECTED:
        return "inference window found by the active-window detector (none was marked)";
    case FP_FLAG_WINDOW_FROM_TIMING:
        return "window length taken from the run's own timing";
    case FP_FLAG_WINDOW_MISMATCH:
        return "time and energy cover different windows in the source data";
    case FP_FLAG_NO_ACTIVITY:
        return "no active stretch found: the GPU was idle for the whole run";
    case FP_FLAG_COLD_START_DROPPED:
        return "cold-start runs (model download, first load) at the start of the sweep were "
               "dropped";
    case FP_FLAG_OUTLIER_DROPPED:
        return "outlier runs were dropped by the robust rule of docs/method.md";
    case FP_FLAG_HIGH_CV:
        return "run-to-run variation of time above 10 %: more repetitions are needed";
    case FP_FLAG_DRIFT:
        return "time drifts with sweep position: the order of the sweep is confounded with the "
               "clock";
    case FP_FLAG_NOT_CLOCK_BOUND:
        return "time is not explained by the clock (host- or I/O-bound workload, drift or "
               "noise): savings are suspect";
    case FP_FLAG_FAILED:
        return "failed runs (the workload exited with an error, or its marked window was "
               "unusable: see window_error in run.json) were dropped";
    case FP_FLAG_EMPTY_WINDOW:
        return "runs whose window had no time or no energy (they measured nothing) were "
               "dropped";
    case FP_FLAG_ENERGY_FROM_POWER:
        return "energy = mean power x time (no counter, no samples)";
    case FP_FLAG_GPU_MISMATCH:
        return "the telemetry names a different GPU than the run claims";
    case FP_FLAG_TIMEOUT:
        return "the workload was killed at its time limit (exit status 124): the run was dropped";
    case FP_FLAG_COARSE_TIMING:
        return "the run's own timing is in whole seconds, more than 5 % of its length: time "
               "and energy carry that much rounding (plausible, but check short runs)";
    case FP_FLAG_TIME_GAP:
        return "samples are missing inside the window (a gap longer than 10 sampling intervals): "
               "power was bridged across it (a sampler stall, a crash or a full disk?)";
    default:
        return "data-quality finding";
    }
}

void fp_report_pct_ci(char *buf, size_t n, double v, double lo, double hi)
{
    if (!isfinite(v))
        snprintf(buf, n, "-");
    else if (isfinite(lo) && isfinite(hi))
        snprintf(buf, n, "%.1f %% [%.1f, %.1f]", v * 100, lo * 100, hi * 100);
    else
        snprintf(buf, n, "%.1f %%", v * 100);
}

void fp_report_budget(char *buf, size_t n, double max_slowdown)
{
    if (isfinite(max_slowdown))
        snprintf(buf, n, "%g %%", max_slowdown * 100);
    else
        snprintf(buf, n, "none");
}

const char *fp_report_verdict(const fp_rec *r)
{
    /* The verdict optimize computed (fp_opt_assess): the report never judges on its own. */
    return r->verdict[0] ? r->verdict : "unknown (no verdict in the optimize JSON)";
}

const char fp_report_method_text[] =
    "Windows. Time and energy cover the same window: the inference window the workload marks, "
    "else the active window found on the telemetry. Model loading is not inference.\n\n"
    "Energy. The hardware energy counter delta over the window when present, cross-checked "
    "against the trapezoid integral of power; disagreement is flagged (counter_mismatch).\n\n"
    "Clocks. The SM clock is locked, read back and compared with the request; a row whose "
    "clock was not held is flagged (clock_not_held) and never reported as that frequency.\n\n"
    "Repetition and order. Several runs per clock; cold starts at the beginning of a sweep are "
    "dropped; outliers are dropped only by a stated robust rule and always reported; drift "
    "against sweep position is tested and reported.\n\n"
    "Statistics. The centre of each clock is the median of the kept runs; 95 % percentile "
    "bootstrap intervals with a fixed seed. EDP = E x T and ED2P = E x T^2 of the centres.\n\n"
    "Baseline. The highest clock measured, warm. Energy saving = 1 - E(f) / E(baseline); "
    "slowdown = T(f) / T(baseline) - 1, from estimates that borrow strength across "
    "neighbouring clocks (time non-increasing in the clock), with 95 % intervals.\n\n"
    "Recommendations. For each objective (energy, time, EDP, ED2P) the clock with the lowest "
    "estimated objective, unconstrained and under each slowdown budget (checked on the "
    "slowdown's one-sided 90 % bound); a slower clock replaces a faster one only when better "
    "by more than 0.5 %, so no recommendation is worse than the baseline. One verdict each "
    "(deployable, no significant saving, suspect: not a DVFS effect, insufficient data), the "
    "same as 'freqpilot optimize' and 'freqpilot validate' give.\n\n"
    "Realistic ranges. 10-25 % energy saved at <= 5 % slowdown for memory-bound inference, less "
    "for compute-bound work; claims above 40 % deserve suspicion unless the GPU was mostly "
    "idle.";

void fp_report_method_headings(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return;
    char line[512];
    size_t off = 0;
    while (fgets(line, sizeof line, f) && off + 1 < n) {
        if (strncmp(line, "## ", 3) != 0)
            continue;
        int w = snprintf(buf + off, n - off, "%s", line + 3);
        if (w < 0 || (size_t)w >= n - off)
            break;
        off += (size_t)w;
    }
    fclose(f);
}
