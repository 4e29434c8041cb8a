/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot plot KIND INPUT... -o FILE.{png,svg,pdf}: one figure. The builders in
 * src/report/plots.c compute the numbers; --data prints them as CSV (what tests compare).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "freqpilot/optimize.h"
#include "freqpilot/plot.h"

static const cli_section plot_sections[] = {
    {"KINDS",
     "sweep       energy, time, power, EDP and ED2P of one (gpu, app) vs SM clock, divided by\n"
     "            their value at the highest clock; 95% bands on energy and time; the clocks\n"
     "            chosen by every recommendation given (optimize JSON) are marked on top.\n"
     "pareto      time vs energy of every clock (both relative to the highest clock), the\n"
     "            non-dominated frontier with each point's clock, its knee and optimize's\n"
     "            choice under --max-slowdown (or each app's --constraints budget).\n"
     "savings     energy saving and slowdown per (gpu, app) with 95% intervals, unconstrained\n"
     "            vs constrained (--max-slowdown), for --objective.\n"
     "optima      clock chosen per (gpu, app) and objective within the GPU's clock range.\n"
     "heatmap     app x clock of one GPU: energy / energy at that app's highest clock.\n"
     "model       predicted power and time with prediction bands vs measured points (the\n"
     "            curves JSON of `freqpilot model fit DATA -o model.json --curves FILE`;\n"
     "            no time prediction where the time is not explained by the clock).\n"
     "timeseries  telemetry column --column (power_w) vs time, one line per INPUT (raw\n"
     "            telemetry files or dataset run folders; a run's marked inference window is\n"
     "            shaded).\n"},
    {"INPUTS",
     "Classified by content: optimize JSON (\"results\"), model curves JSON\n"
     "(\"freqpilot-model-curves\"), an aggregated.csv, or anything `freqpilot aggregate`\n"
     "reads (aggregated on the fly). pareto, savings and optima without an optimize JSON\n"
     "run the optimize library on the data: the same results as `freqpilot optimize DATA\n"
     "--objective OBJ --max-slowdown none,X` (with --constraints C: also that option).\n"},
    {NULL, NULL},
};

const cli_command plot_cmd = {
    .name = "plot",
    .summary = "draw one figure (sweep, pareto, heatmap, ...) as PNG, SVG or PDF",
    .synopsis =
        "freqpilot plot KIND INPUT... -o FILE.png|FILE.svg|FILE.pdf [--gpu NAME] [--app NAME]\n"
        "               [--objective OBJ] [--max-slowdown X] [--constraints FILE|PRESET]\n"
        "               [--column COL] [--width IN]\n"
        "               [--height IN] [--dpi N] [--simulated] [--data]\n",
    .description =
        "Draws one figure a person would put in a paper: axis labels with units, a\n"
        "colour-blind-safe palette (Okabe-Ito), DejaVu fonts, 95 % interval bands, legends off\n"
        "the data. The format follows the extension of -o. --data prints the numbers behind\n"
        "the figure instead.\n",
    .sections = plot_sections,
    .exit_status =
        "0 the figure was written; 1 bad or missing input, or the file could not be written (no\n"
        "partial file is left); 2 usage error.\n",
    .examples =
        "freqpilot plot sweep aggregated.csv optimal.json --gpu A100 --app vit -o sweep.pdf\n"
        "freqpilot plot heatmap aggregated.csv --gpu H100 -o heatmap.png\n"
        "freqpilot plot timeseries DATASET/A100/vit/1410/1 DATASET/A100/vit/510/1 -o "
        "ts.svg\n",
};

static void print_num(double v)
{
    if (isfinite(v))
        printf("%.10g", v);
}

static void print_data(const fp_figure *f)
{
    printf("panel,series,x,y,lo,hi\n");
    for (size_t i = 0; i < f->npanels; i++) {
        const fp_panel *p = &f->panels[i];
        for (size_t j = 0; j < p->nseries; j++) {
            const fp_series *s = &p->series[j];
            for (size_t k = 0; k < s->n; k++) {
                printf("%zu,\"%s\",", i, s->name);
                print_num(s->x[k]);
                putchar(',');
                print_num(s->y[k]);
                putchar(',');
                print_num(s->lo ? s->lo[k] : NAN);
                putchar(',');
                print_num(s->hi ? s->hi[k] : NAN);
                putchar('\n');
            }
        }
        for (size_t k = 0; k < p->nmarks; k++)
            printf("%zu,\"mark %s\",%.10g,,,\n", i, p->marks[k].label, p->marks[k].x);
        for (size_t r = 0; r < p->hm_rows; r++)
            for (size_t c = 0; c < p->hm_cols; c++) {
                printf("%zu,\"%s\",%.10g,", i, p->hm_rowlab[r], p->hm_colx[c]);
                print_num(p->hm[r * p->hm_cols + c]);
                printf(",,\n");
            }
    }
}

int cmd_plot(int argc, char **argv)
{
    const char *out = NULL, *column = "power_w", *constraints = NULL;
    fp_plot_opts po;
    fp_plot_opts_init(&po);
    fp_render_opts ro;
    fp_render_opts_init(&ro);
    int want_data = 0;
    const cli_option opts[] = {
        CLI_OUTPUT(&out, "output; the format comes from the extension"),
        CLI_STRING("gpu", &po.gpu, "NAME", "which GPU (default: the first in the data)"),
        CLI_STRING("app", &po.app, "NAME", "which app (default: the first in the data)"),
        CLI_STRING("objective", &po.objective, "OBJ", "energy (default), time, edp, ed2p"),
        CLI_DOUBLE("max-slowdown", &po.max_slowdown, "X", "a fraction", "[0, 10]",
                   "budget of the constrained choice, a fraction (0.05)"),
        CLI_STRING("constraints", &constraints, "FILE|PRESET",
                   CLI_CONSTRAINTS_TEXT
                   "; the constrained choice then takes each app's own budget"),
        CLI_STRING("column", &column, "COL", "timeseries column (power_w)"),
        CLI_DOUBLE("width", &ro.width_in, "IN", "inches", "[1, 40]",
                   "width in inches (3.5: one paper column; 7 for many categories)"),
        CLI_DOUBLE("height", &ro.height_in, "IN", "inches", "[1, 40]",
                   "height in inches (from the panels)"),
        CLI_DOUBLE("dpi", &ro.dpi, "N", NULL, "[30, 1200]", "PNG resolution (300)"),
        CLI_FLAG("simulated", &po.simulated,
                 "label the figure SIMULATED DATA (data from the simulated GPU is labelled "
                 "without it)"),
        CLI_FLAG("data", &want_data,
                 "print the numbers behind the figure as CSV on stdout (panel,series,x,y,lo,hi)"),
        CLI_END,
    };
    int rc, nargs = cli_parse_options(&plot_cmd, opts, argc, argv, &rc);
    if (nargs < 0)
        return rc;
    if (nargs < 1)
        return cli_usage_error("plot", "expected KIND (sweep, pareto, savings, optima, heatmap, "
                                       "model, timeseries)");
    const char *kind = argv[0];
    char **inputs = argv + 1;
    size_t ninputs = (size_t)nargs - 1;
    static const char *const kinds[] = {"sweep",   "pareto", "savings",   "optima",
                                        "heatmap", "model",  "timeseries"};
    int k = -1;
    for (int i = 0; i < 7; i++)
        if (strcmp(kind, kinds[i]) == 0)
            k = i;
    if (k < 0)
        return cli_usage_error("plot", "unknown KIND '%s'", kind);
    if (ninputs < 1)
        return cli_usage_error("plot", "expected at least one INPUT");
    if (!out && !want_data)
        return cli_usage_error("plot", "expected -o FILE.png|svg|pdf (or --data)");
    int fmt = out ? fp_plot_format_from_path(out) : FP_PLOT_PNG;
    if (fmt < 0)
        return cli_usage_error("plot", "%s: expected a .png, .svg or .pdf file name", out);

    fp_error err;
    fp_error_clear(&err);
    fp_constraints cons;
    if (cli_open_constraints(constraints, &cons, &po.constraints))
        return EXIT_FAIL;
    fp_figure fig;
    memset(&fig, 0, sizeof fig);
    fp_status st;
    fp_report_data d;
    memset(&d, 0, sizeof d);
    cli_diag_state ds = {0};
    fp_diag diag = cli_diag(&ds);
    if (k == 6) {
        size_t n = ninputs;
        fp_ts_plot_input *in = calloc(n, sizeof *in);
        if (!in) {
            cli_error("out of memory");
            return EXIT_FAIL;
        }
        for (size_t i = 0; i < n; i++)
            in[i].path = inputs[i];
        st = fp_plot_timeseries(in, n, column, &po, &fig, &err);
        free(in);
    } else {
        st = fp_report_data_load(&d, (const char *const *)inputs, ninputs, &diag, &err);
        if (!st && k != 5 && !d.have_agg && k != 2)
            st = fp_error_set(&err, FP_ERR_INVALID,
                              "%s needs aggregated data (aggregated.csv or runs)", kind);
        if (!st && (k == 1 || k == 2 || k == 3) && d.recs.len == 0) {
            if (!d.have_agg) {
                st = fp_error_set(&err, FP_ERR_INVALID, "%s needs an optimize JSON", kind);
            } else {
                cli_info("no optimize JSON given: %s uses freqpilot optimize's rules on the "
                         "data",
                         kind);
                st = fp_recs_optimize((const char *const *)inputs, ninputs, po.objective,
                                      po.max_slowdown, po.constraints, &diag, &d.recs, &err);
            }
        }
        if (!st && k == 5 && !d.have_model)
            st = fp_error_set(&err, FP_ERR_INVALID,
                              "model needs a model curves JSON (freqpilot model fit DATA -o "
                              "model.json --curves curves.json; docs/report.md)");
        /* The label follows the data: simulated data are labelled without --simulated. */
        po.simulated |= fp_agg_simulated(&d.agg) || d.recs.simulated || d.vals.simulated;
        if (!st) {
            switch (k) {
            case 0:
                st = fp_plot_sweep(&d.agg, &d.recs, &po, &fig, &err);
                break;
            case 1:
                st = fp_plot_pareto(&d.agg, &d.recs, &po, &fig, &err);
                break;
            case 2:
                st = fp_plot_savings(&d.recs, &po, &fig, &err);
                break;
            case 3:
                st = fp_plot_optima(d.have_agg ? &d.agg : NULL, &d.recs, &po, &fig, &err);
                break;
            case 4:
                st = fp_plot_heatmap(&d.agg, &po, &fig, &err);
                break;
            default:
                st = fp_plot_model(&d.model, &po, &fig, &err);
                break;
            }
        }
    }
    if (!st && want_data)
        print_data(&fig);
    if (!st && out)
        st = fp_figure_render(&fig, out, (fp_plot_format)fmt, &ro, &err);
    if (!st && out)
        cli_info("wrote %s", out);
    fp_figure_free(&fig);
    fp_report_data_free(&d);
    if (st) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
