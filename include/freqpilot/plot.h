/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_PLOT_H
#define FREQPILOT_PLOT_H

/*
 * Figures and reports (docs/report.md).
 *
 * A figure is built in two steps: a builder (fp_plot_sweep, fp_plot_pareto, ...) turns data
 * (aggregated rows, recommendations, a model) into an fp_figure that holds exactly the numbers
 * drawn, then fp_figure_render draws it with cairo as PNG, SVG or PDF. Tests assert on the
 * fp_figure (the numbers behind the figure); the drawing layer (src/report/canvas.c) is shared
 * by every kind and by the HTML and PDF reports.
 */

#include <stddef.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Recommendations (optimize output, docs/formats.md) ---- */

typedef struct fp_rec {
    char gpu[64];
    char app[64];
    char objective[32];  /* energy, time, edp, ed2p, cost:0.5, ... (optimize's spelling) */
    double max_slowdown; /* NAN = unconstrained */
    double freq_mhz, baseline_mhz;
    double time_s, energy_j, power_w;
    double energy_saving, energy_saving_lo, energy_saving_hi;
    double slowdown, slowdown_lo, slowdown_hi;
    int feasible;
    char flags[256];
    char verdict[32];         /* optimize's verdict (fp_verdict_name); "" when the file has none */
    char verdict_reason[320]; /* its reason in words */
    char category[32];        /* the budget's category from --constraints ("" otherwise) */
} fp_rec;

typedef struct fp_rec_list {
    fp_rec *items;
    size_t len, cap;
    char baseline[32];
    int fallback;  /* unused (always 0): recommendations come from the optimize library */
    int simulated; /* the optimize JSON says "simulated": true (fp_opt_results.simulated) */
} fp_rec_list;

void fp_rec_init(fp_rec *r);
fp_status fp_rec_list_push(fp_rec_list *l, const fp_rec *r, fp_error *err);
void fp_rec_list_free(fp_rec_list *l);
/* Appends the "results" of an optimize JSON file (docs/formats.md). */
fp_status fp_recs_read_json(const char *path, fp_rec_list *out, fp_error *err);
/*
 * Results of the optimize library (include/freqpilot/optimize.h) as recommendations: the same
 * fields that `freqpilot optimize -o FILE.json` writes and fp_recs_read_json reads back.
 */
struct fp_opt_results;
fp_status fp_recs_from_opt(const struct fp_opt_results *res, fp_rec_list *out, fp_error *err);
/*
 * What a report or plot shows when no optimize JSON is given: `freqpilot optimize` itself
 * (fp_opt_data_load + fp_optimize with the default options) on the data inputs among paths
 * (JSON files are skipped), for objective with no budget and with max_slowdown (NAN = only
 * the unconstrained one). The results are those of
 * `freqpilot optimize DATA... --objective OBJ --max-slowdown none,X`; with constraints (may be
 * NULL) those of `... --constraints C`, where 'none' is each app's own budget.
 */
struct fp_constraints;
fp_status fp_recs_optimize(const char *const *paths, size_t n, const char *objective,
                           double max_slowdown, const struct fp_constraints *constraints,
                           const fp_diag *diag, fp_rec_list *out, fp_error *err);
/* The recommendation for (gpu, app, objective, budget); budget NAN = unconstrained. */
const fp_rec *fp_recs_find(const fp_rec_list *l, const char *gpu, const char *app,
                           const char *objective, double max_slowdown);

/* ---- Validation results (freqpilot validate -o FILE.json) ---- */

#define FP_VAL_MAX_CHECKS 16
typedef struct fp_val_check {
    char name[24];    /* data, budget, saving, ... (fp_check_name) */
    char status[8];   /* pass, warn, fail, n/a */
    char detail[320]; /* the check's finding in words */
} fp_val_check;

typedef struct fp_val {
    char gpu[64];
    char app[64];
    char objective[32];
    double max_slowdown; /* NAN = unconstrained */
    double freq_mhz, baseline_mhz;
    char verdict[32];
    char verdict_reason[320];
    char status[8];   /* worst check status: pass, warn, fail */
    char notes[1024]; /* the checks that fail or warn: "name (status): detail; ..." */
    fp_val_check checks[FP_VAL_MAX_CHECKS]; /* every check, in the file's order */
    size_t nchecks;
} fp_val;

typedef struct fp_val_list {
    fp_val *items;
    size_t len, cap;
    int simulated; /* the validate JSON says "simulated": true */
} fp_val_list;

/* Appends the "validations" of a validate JSON file. */
fp_status fp_vals_read_json(const char *path, fp_val_list *out, fp_error *err);
void fp_val_list_free(fp_val_list *l);

/* ---- Model output (docs/report.md: "Model curves JSON") ---- */

typedef struct fp_model_curve {
    char gpu[64];
    char app[64];
    int clock_bound; /* 0: time not explained by the clock, time_s* are NAN (no prediction) */
    char note[256];  /* the model's explanation ("" when none) */
    size_t n;        /* predicted points */
    double *freq_mhz, *power_w, *power_w_lo, *power_w_hi, *time_s, *time_s_lo, *time_s_hi;
    size_t n_meas; /* measured points */
    double *meas_freq_mhz, *meas_power_w, *meas_time_s;
} fp_model_curve;

typedef struct fp_model_set {
    fp_model_curve *items;
    size_t len;
} fp_model_set;

/*
 * Reads the curves JSON of `freqpilot model fit|predict --curves FILE` (docs/model.md §6,
 * "format": "freqpilot-model-curves"); also the older {"models": [...]} layout of parallel
 * arrays. A model.json (the fitted parameters) is refused with a hint to --curves.
 */
fp_status fp_model_read_json(const char *path, fp_model_set *out, fp_error *err);
void fp_model_set_free(fp_model_set *m);

/* ---- Loading the inputs of plots and reports ---- */

/*
 * Everything a plot or report reads, from a list of paths classified by content: an optimize
 * JSON ("results") appends recommendations, a validate JSON ("validations") validation
 * results, a model curves JSON a model, an
 * aggregated.csv (header "gpu,app,freq_mhz,runs,...") the rows; anything else is loaded as
 * runs (fp_runs_load) and aggregated with the default options, which also gives the
 * findings and dropped runs that aggregated.csv does not carry.
 */
typedef struct fp_serving_report fp_serving_report; /* below, "LLM serving" */

typedef struct fp_report_data {
    fp_agg_result agg;
    int have_agg;
    fp_rec_list recs;
    fp_val_list vals; /* from a validate JSON ("validations") */
    /* The original project's recommendations (its optimal_frequencies.json among the inputs;
     * baseline FP_AIE_ORIGIN), shown beside freqpilot's, never mixed with them. */
    fp_rec_list original;
    /* freqpilot's own recommendations for the original's objectives, unconstrained (computed
     * on the data inputs when the original's file is given) */
    fp_rec_list original_ours;
    fp_model_set model;
    int have_model;
    fp_serving_report *serving; /* a `govern replay --serving --format json` input, or NULL */
} fp_report_data;

fp_status fp_report_data_load(fp_report_data *d, const char *const *paths, size_t n,
                              const fp_diag *diag, fp_error *err);
void fp_report_data_free(fp_report_data *d);

/* ---- Figures ---- */

/* Okabe & Ito (2008) colour-blind-safe palette. */
enum {
    FP_C_BLACK = 0,
    FP_C_ORANGE,
    FP_C_SKYBLUE,
    FP_C_GREEN,
    FP_C_YELLOW,
    FP_C_BLUE,
    FP_C_VERMILLION,
    FP_C_PURPLE,
    FP_C_GREY,
    FP_C_COUNT_
};
/* 0xRRGGBB of palette entry i. */
unsigned fp_plot_color(int i);

typedef enum fp_series_kind {
    FP_SERIES_LINE = 0,
    FP_SERIES_POINTS,
    FP_SERIES_LINEPOINTS,
    FP_SERIES_BARS,  /* bars from 0 to y at x + bar_offset, bar_width wide (x units) */
    FP_SERIES_RANGE, /* a thick grey span lo..hi at each x (ranges on a category axis) */
} fp_series_kind;

enum { FP_MK_NONE = 0, FP_MK_CIRCLE, FP_MK_SQUARE, FP_MK_TRIANGLE, FP_MK_DIAMOND, FP_MK_STAR };

typedef struct fp_series {
    char name[96]; /* legend entry; "" = not in the legend */
    fp_series_kind kind;
    int color;  /* palette index */
    int marker; /* FP_MK_* */
    int dashed;
    int band; /* lines: lo..hi as a shaded band; points and bars: whiskers */
    double bar_offset, bar_width;
    size_t n;
    double *x, *y, *lo, *hi; /* lo, hi may be NULL; NAN values are gaps */
    char **labels;           /* NULL, or n direct labels beside the points (NULL: none); one
                                that would overlap another or leave the plot is left out */
} fp_series;

typedef struct fp_vmark {
    double x;
    char label[64];
    int color;
} fp_vmark;

typedef struct fp_vspan {
    double x0, x1;
    char label[64];
} fp_vspan;

typedef struct fp_panel {
    char title[128];
    char xlabel[96];
    char ylabel[96];
    fp_series *series;
    size_t nseries;
    fp_vmark *marks; /* vertical lines with a label (chosen clocks) */
    size_t nmarks;
    fp_vspan *spans; /* shaded x ranges (inference windows) */
    size_t nspans;
    char **cats; /* category axis: cats[i] is drawn at x = i ('\n' splits lines) */
    size_t ncats;
    double ref_y;      /* dotted horizontal reference (1 = baseline); NAN = none */
    int y_percent;     /* y tick labels as percent of a fraction */
    int y_from_zero;   /* include 0 in the y range */
    double xmin, xmax; /* NAN = automatic */
    double ymin, ymax;
    /* Heatmap: rows x cols values (NAN = no data), row labels, column x values. */
    size_t hm_rows, hm_cols;
    double *hm;
    char **hm_rowlab;
    double *hm_colx;
    char hm_label[64]; /* colour bar label */
} fp_panel;

typedef struct fp_figure {
    char title[160];
    char kind[16];    /* sweep, pareto, ... */
    int simulated;    /* prints "SIMULATED DATA" on the figure */
    fp_panel *panels; /* stacked vertically, sharing the width */
    size_t npanels;
} fp_figure;

void fp_figure_init(fp_figure *f, const char *kind, const char *title);
void fp_figure_free(fp_figure *f);
fp_panel *fp_figure_add_panel(fp_figure *f, const char *title, const char *xlabel,
                              const char *ylabel);
/* Copies the arrays (lo, hi may be NULL). Returns NULL when out of memory. */
fp_series *fp_panel_add_series(fp_panel *p, const char *name, fp_series_kind kind, int color,
                               size_t n, const double *x, const double *y, const double *lo,
                               const double *hi);
/* Copies n labels (NULL entries: no label) onto s; -1 when out of memory. */
int fp_series_set_labels(fp_series *s, char *const *labels);
int fp_panel_add_mark(fp_panel *p, double x, const char *label, int color);
int fp_panel_add_span(fp_panel *p, double x0, double x1, const char *label);
int fp_panel_set_cats(fp_panel *p, char *const *cats, size_t n);
/* The first series named name in panel p (NULL when absent): what tests look at. */
const fp_series *fp_figure_series(const fp_figure *f, size_t panel, const char *name);

typedef enum fp_plot_format { FP_PLOT_PNG = 0, FP_PLOT_SVG, FP_PLOT_PDF } fp_plot_format;
/* From the file name's extension (.png, .svg, .pdf); -1 when none of them. */
int fp_plot_format_from_path(const char *path);

typedef struct fp_render_opts {
    double width_in;  /* 3.5 (one paper column) */
    double height_in; /* 0 = from the number of panels */
    double dpi;       /* PNG only: 300 */
} fp_render_opts;
void fp_render_opts_init(fp_render_opts *o);
/* Pixel size of a PNG rendered with o for figure f. */
void fp_render_png_size(const fp_figure *f, const fp_render_opts *o, int *w_px, int *h_px);

/* Writes the figure atomically. */
fp_status fp_figure_render(const fp_figure *f, const char *path, fp_plot_format fmt,
                           const fp_render_opts *o, fp_error *err);
/* SVG in memory (malloc'd, NUL-terminated), element ids prefixed with id_prefix. */
fp_status fp_figure_svg(const fp_figure *f, const fp_render_opts *o, const char *id_prefix,
                        char **svg, fp_error *err);

/* ---- Builders: the numbers behind each figure ---- */

/*
 * A report (HTML and PDF) and `run`'s figures folder draw the per-(gpu, app) figures (sweep,
 * Pareto, model) of at most FP_REPORT_PAIRS_MAX pairs and a heatmap for each of at most
 * FP_REPORT_GPUS_MAX GPUs, the first in the data's order, and say how many they left out: a
 * fleet's thousands of pairs would cost minutes and gigabytes of figures nobody reads one by
 * one. `freqpilot plot KIND DATA --gpu G --app A` draws any of them.
 */
#define FP_REPORT_PAIRS_MAX 100
#define FP_REPORT_GPUS_MAX 64
/*
 * The report's tables (the deploy table, what the savings are worth, the validation, the
 * appendix of every recommendation) and its workload cards list the first
 * FP_REPORT_LIST_PAIRS_MAX and FP_REPORT_PAIRS_MAX (gpu, app) pairs of the deploy table and
 * say how many they left out; every total and summary counts them all, and optimal.json and
 * validation.json (`freqpilot optimize --format csv`) hold every row.
 */
#define FP_REPORT_LIST_PAIRS_MAX 500

typedef struct fp_plot_opts {
    const char *gpu, *app; /* selection; NULL = first (or all for savings/optima) */
    const char *objective; /* savings, pareto: the objective shown ("energy") */
    double max_slowdown;   /* budget of the constrained choice (0.05); NAN = none */
    const struct fp_constraints *constraints; /* each app's own budget instead, where it has
                                                 one (NULL: max_slowdown for all) */
    int simulated;
} fp_plot_opts;
void fp_plot_opts_init(fp_plot_opts *o);
/* The budget of app's constrained choice: its budget in o->constraints, else o->max_slowdown;
 * *category (may be NULL) gets the constraints' category or "". */
double fp_plot_budget(const fp_plot_opts *o, const char *app, const char **category);

/*
 * sweep: energy, time, power, EDP and ED2P of one (gpu, app) vs clock, each divided by its
 * value at the baseline (highest clock with runs); energy and time carry their interval bands
 * (lo/baseline, hi/baseline). Chosen clocks of recs (may be NULL) are vertical marks.
 * Series names: "Energy", "Time", "Power", "EDP", "ED2P".
 */
fp_status fp_plot_sweep(const fp_agg_result *agg, const fp_rec_list *recs, const fp_plot_opts *o,
                        fp_figure *out, fp_error *err);
/*
 * card: a thumbnail of one (gpu, app) for the report's workload cards: energy and time vs clock,
 * each divided by its value at the baseline (as sweep), and the clock of rec (may be NULL)
 * marked "set N MHz". Series names: "Energy", "Time".
 */
fp_status fp_plot_card(const fp_agg_result *agg, const fp_rec *rec, const fp_plot_opts *o,
                       fp_figure *out, fp_error *err);
/*
 * pareto: normalized time (x) vs normalized energy (y) of every clock ("Clocks"), the
 * non-dominated frontier ("Frontier", by increasing time), the knee ("Knee": frontier point
 * farthest from the chord between its ends) and the constrained choice ("Choice": lowest
 * energy with slowdown <= max_slowdown, or the matching recommendation when given).
 */
fp_status fp_plot_pareto(const fp_agg_result *agg, const fp_rec_list *recs, const fp_plot_opts *o,
                         fp_figure *out, fp_error *err);
/*
 * savings: per (gpu, app) category, energy saving (panel 0) and slowdown (panel 1) of the
 * unconstrained and constrained recommendation of o->objective, with intervals.
 * Series names: "Unconstrained", "Constrained (<= N % slower)".
 */
fp_status fp_plot_savings(const fp_rec_list *recs, const fp_plot_opts *o, fp_figure *out,
                          fp_error *err);
/*
 * optima: chosen clock (MHz) per (gpu, app) category, one point series per (objective,
 * budget) named like "energy" or "energy <=5%", over a grey span from the lowest to the
 * highest clock measured on that GPU ("Measured clock range", lo/hi).
 */
fp_status fp_plot_optima(const fp_agg_result *agg, const fp_rec_list *recs, const fp_plot_opts *o,
                         fp_figure *out, fp_error *err);
/* heatmap: app x clock of one GPU, energy / energy at that app's highest clock. */
fp_status fp_plot_heatmap(const fp_agg_result *agg, const fp_plot_opts *o, fp_figure *out,
                          fp_error *err);
/*
 * model: predicted power (panel 0) and time (panel 1) with 95 % prediction bands
 * ("Predicted (95% PI)") and the measured points ("Measured"). A curve that is not
 * clock-bound gets no time prediction: panel 1 has only the measured points and says that
 * the time is not explained by the clock.
 */
fp_status fp_plot_model(const fp_model_set *m, const fp_plot_opts *o, fp_figure *out,
                        fp_error *err);

typedef struct fp_ts_plot_input {
    const char *path;  /* telemetry file (any time-series format) or a dataset run folder */
    const char *label; /* legend entry; NULL = from the path */
} fp_ts_plot_input;
/*
 * timeseries: column (a telemetry.csv name, e.g. "power_w") vs t_s, one line per input; the
 * inference window of dataset runs (run.json) is a shaded span.
 */
fp_status fp_plot_timeseries(const fp_ts_plot_input *in, size_t n, const char *column,
                             const fp_plot_opts *o, fp_figure *out, fp_error *err);

/* ---- LLM serving (src/report/report_serving.c) ---- */

/* 1 when path is a `freqpilot govern replay --serving --format json` file. */
int fp_serving_report_detect(const char *path);
fp_status fp_serving_report_load(const char *path, fp_serving_report **out, fp_error *err);
void fp_serving_report_free(fp_serving_report *s);
/*
 * serving energy: energy per token (y) against SLO attainment (x, %) of every policy (one
 * series each, named after it, " (misses)" when it misses the SLO) and of the static clocks
 * within 10 points of the target ("Static clocks"); the target is a vertical mark.
 */
fp_status fp_plot_serving_energy(const fp_serving_report *s, const fp_plot_opts *o, fp_figure *out,
                                 fp_error *err);
/* serving clock: arrivals per second (panel 0) and the governed policy's requested clock with
 * the best static clock (panel 1) over the trace, in minutes. */
fp_status fp_plot_serving_clock(const fp_serving_report *s, const fp_plot_opts *o, fp_figure *out,
                                fp_error *err);

/* ---- Reports ---- */

typedef struct fp_report_input {
    const fp_agg_result *agg;         /* required: rows, findings, dropped runs */
    const fp_rec_list *recs;          /* may be NULL */
    const fp_val_list *vals;          /* validate's results; may be NULL */
    const fp_rec_list *original;      /* the original project's recommendations; may be NULL */
    const fp_rec_list *original_ours; /* freqpilot's for the same objectives; may be NULL */
    const fp_model_set *model;        /* may be NULL */
    const char *title;
    int simulated;
    const char *const *commands; /* command lines that reproduce the report */
    size_t ncommands;
    const char *objective; /* objective of the deploy choice and the figures ("energy") */
    double max_slowdown;   /* budget of the deploy choice for apps without one of their own
                              in constraints (0.05); NAN: none */
    const struct fp_constraints *constraints; /* per-app budgets of the deploy choice (may be
                                                 NULL; freqpilot/deploy.h) */
    const struct fp_impact_opts *impact;      /* assumptions of what the savings are worth
                                                 (freqpilot/deploy.h); NULL: the defaults */
    const char *method_path;   /* docs/method.md to summarise; NULL or absent = built-in text */
    const char *generated_utc; /* shown in the header; NULL = none (reproducible output) */
    const fp_serving_report *serving; /* LLM serving section; NULL = none */
} fp_report_input;

void fp_report_input_init(fp_report_input *in);
/* report.html: one self-contained file (inline CSS and SVG, no external reference). */
fp_status fp_report_write_html(const fp_report_input *in, const char *path, fp_error *err);
/* report.pdf: multi-page. *pages (may be NULL) receives the page count. */
fp_status fp_report_write_pdf(const fp_report_input *in, const char *path, int *pages,
                              fp_error *err);
/* Number of pages fp_report_write_pdf writes for in. */
int fp_report_pdf_pages(const fp_report_input *in);

#ifdef __cplusplus
}
#endif
#endif
