/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The glossary of every flag, finding, verdict and check (freqpilot/glossary.h). */
#include <string.h>

#include "freqpilot/glossary.h"

static const fp_glossary_entry entries[] = {
    /* verdicts (optimize, validate, report, run; docs/method.md C.5) */
    {"deployable", "verdict",
     "the clock moves, the energy saving is significant (its 95 % interval excludes 0), the "
     "slowdown is within the budget with 90 % confidence, and no check fails: set this clock"},
    {"no significant saving", "verdict",
     "the saving's interval reaches 0, or no clock beats the baseline by more than the 0.5 % "
     "margin (no change): keep the default clocks"},
    {"suspect: not a DVFS effect", "verdict",
     "the claimed saving does not come from the clock: time not explained by the clock, drift "
     "with the sweep order, an energy counter that disagrees, or a saving above 40 %: "
     "re-measure before acting on it"},
    {"insufficient data", "verdict",
     "too little to decide: no estimate of the run-to-run noise, fewer than 3 clocks, a clock "
     "resting on too few runs, or a budget the data do not show to hold: measure more"},
    {"infeasible", "verdict", "no clock meets the power cap (--max-power): the baseline is kept"},
    /* flags optimize adds (docs/method.md C.4) */
    {"baseline_fallback", "optimize flag",
     "the baseline clock had fewer than 2 usable runs (often: the others were cold starts), so "
     "the next lower clock is the baseline"},
    {"no_significant_saving", "optimize flag",
     "the energy saving's 95 % interval reaches 0: the saving may be nothing"},
    {"no_feasible_clock", "optimize flag",
     "nothing met the power cap: the baseline is returned, feasible false"},
    {"no_interval", "optimize flag",
     "no estimate of the run-to-run noise (one run per clock and few clocks): no intervals"},
    {"power_capped", "optimize flag",
     "clocks whose estimated power exceeds --max-power were left out"},
    {"suspect_saving", "optimize flag",
     "an energy saving above 40 %: implausible for frequency scaling alone unless the GPU was "
     "mostly idle"},
    {"no_budget", "optimize flag", "no slowdown budget applied: the unconstrained choice"},
    {"no_change", "optimize flag",
     "no clock improves the objective of the baseline by more than the 0.5 % margin: the "
     "baseline is kept"},
    /* data flags of aggregated.csv (run.h) */
    {"clock_not_held", "data flag",
     "the SM clock reached differs from the clock requested (e.g. files labelled 1380 MHz that "
     "ran at 1230): the row is not a measurement at its label"},
    {"throttled", "data flag",
     "power or thermal throttling during the window: the clock was capped"},
    {"counter_mismatch", "data flag",
     "the energy counter and the integral of power disagree beyond tolerance"},
    {"time_reconstructed", "data flag",
     "the data has no timestamps (dcgmi dmon): time rebuilt from the sampling interval"},
    {"window_detected", "data flag",
     "inference window found by the active-window detector (none was marked)"},
    {"window_from_timing", "data flag", "window length taken from the run's own timing"},
    {"window_mismatch", "data flag", "time and energy cover different windows in the source data"},
    {"no_activity", "data flag", "no active stretch found: the GPU was idle for the whole run"},
    {"cold_start_dropped", "data flag",
     "cold-start runs (model download, first load) at the start of the sweep were dropped"},
    {"outlier_dropped", "data flag",
     "outlier runs were dropped by the robust rule of docs/method.md"},
    {"high_cv", "data flag",
     "run-to-run variation of time above 10 %: more repetitions are needed"},
    {"drift", "finding",
     "time drifts with the sweep position: the order of the sweep is confounded with the clock "
     "(a data flag of every row of the pair, and aggregate's finding)"},
    {"not_clock_bound", "finding",
     "time is not explained by the clock (host- or I/O-bound, drift or noise): a saving is not a "
     "DVFS effect (a data flag of every row of the pair, and aggregate's finding)"},
    {"failed", "data flag",
     "failed runs (the workload exited with an error, or its marked window was unusable: see "
     "window_error in run.json) were dropped"},
    {"energy_from_power", "data flag", "energy = mean power x time (no counter, no samples)"},
    {"gpu_mismatch", "data flag", "the telemetry names a different GPU than the run claims"},
    {"empty_window", "data flag",
     "runs whose window had no time or no energy (they measured nothing) were dropped"},
    {"timeout", "data flag",
     "the workload was killed at its time limit (exit status 124): the run was dropped"},
    {"coarse_timing", "data flag",
     "the run's own timing is in whole seconds, more than 5 % of its length: time and energy "
     "carry that much rounding (plausible, but check short runs)"},
    {"time_gap", "data flag",
     "samples are missing inside the window (a gap longer than 10 sampling intervals): power "
     "was bridged across it (a sampler stall, a crash or a full disk?)"},
    /* validate's checks (docs/method.md C.5) */
    {"data", "check",
     "enough to test: a noise estimate, at least 3 clocks, the clock resting on enough runs"},
    {"budget", "check", "the slowdown's one-sided 90 % bound is within the budget"},
    {"saving", "check", "the energy saving's 95 % interval excludes 0"},
    {"frontier", "check", "no other clock is at least as fast and as frugal (warns only)"},
    {"cv", "check",
     "run-to-run variation of time at most 10 % at the clock and the baseline "
     "(warns only)"},
    {"drift", "check", "no drift of time with the sweep position"},
    {"counter", "check", "the energy counter agrees with the integral of power"},
    {"clock_dependence", "check",
     "time depends on the clock as a + b x fmax/f explains (slope p < 0.01, R^2 >= 0.5)"},
    {"plausibility", "check", "the saving is at most 40 %"},
    /* check statuses */
    {"pass", "status", "the check holds on the data"},
    {"warn", "status", "a doubt worth reading; does not change the verdict"},
    {"fail", "status", "the check does not hold: the verdict is not deployable"},
    {"n/a", "status", "the check does not apply (e.g. no budget, the baseline kept)"},
};

const fp_glossary_entry *fp_glossary_at(size_t i)
{
    return i < sizeof entries / sizeof entries[0] ? &entries[i] : NULL;
}

const fp_glossary_entry *fp_glossary_find(const char *term, const char *kind)
{
    for (size_t i = 0; term && i < sizeof entries / sizeof entries[0]; i++)
        if (strcmp(entries[i].term, term) == 0 && (!kind || strcmp(entries[i].kind, kind) == 0))
            return &entries[i];
    return NULL;
}

const char *fp_glossary_text(const char *term)
{
    const fp_glossary_entry *e = fp_glossary_find(term, NULL);
    return e ? e->text : "";
}
