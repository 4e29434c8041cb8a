/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot plot KIND INPUT... -o FILE.{png,svg,pdf}: one figure. The builders in
 * src/report/plots.c compute the numbers; --data prints them as CSV (what tests compare).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "freqpilot/optimize.h"
#include "freqpilot/plot.h"

static const char help_text[] =
    "NAME\n"
    "    freqpilot plot - draw one figure as PNG, SVG or PDF\n"
    "\n"
    "SYNOPSIS\n"
    "    freqpilot plot KIND INPUT... -o FILE.png|FILE.svg|FILE.pdf [--gpu NAME] [--app NAME]\n"
    "                   [--objective OBJ] [--max-slowdown X] [--constraints FILE|PRESET]\n"
    "                   [--column COL] [--width IN]\n"
    "                   [--height IN] [--dpi N] [--simulated] [--data]\n"
    "\n"
    "DESCRIPTION\n"
    "    Draws one figure a person would put in a paper: axis labels with units, a "
    "colour-blind-safe\n"
    "    palette (Okabe-Ito), DejaVu fonts, 95 % interval bands, legends off the data. The format\n"
    "    follows the extension of -o. --data prints the numbers behind the figure instead.\n"
    "\n"
    "KINDS\n"
    "    sweep       energy, time, power, EDP and ED2P of one (gpu, app) vs SM clock, divided by\n"
    "                their value at the highest clock; 95% bands on energy and time; the clocks\n"
    "                chosen by every recommendation given (optimize JSON) are marked on top.\n"
    "    pareto      time vs energy of every clock (both relative to the highest clock), the\n"
    "                non-dominated frontier with each point's clock, its knee and optimize's\n"
    "                choice under --max-slowdown (or each app's --constraints budget).\n"
    "    savings     energy saving and slowdown per (gpu, app) with 95% intervals, unconstrained\n"
    "                vs constrained (--max-slowdown), for --objective.\n"
    "    optima      clock chosen per (gpu, app) and objective within the GPU's clock range.\n"
    "    heatmap     app x clock of one GPU: energy / energy at that app's highest clock.\n"
    "    model       predicted power and time with prediction bands vs measured points (the\n"
    "                curves JSON of `freqpilot model fit DATA -o model.json --curves FILE`;\n"
    "                no time prediction where the time is not explained by the clock).\n"
    "    timeseries  telemetry column --column (power_w) vs time, one line per INPUT (raw\n"
    "                telemetry files or dataset run folders; a run's marked inference window is\n"
    "                shaded).\n"
    "\n"
    "INPUTS\n"
    "    Classified by content: optimize JSON (\"results\"), model curves JSON\n"
    "    (\"freqpilot-model-curves\"), an aggregated.csv, or anything `freqpilot aggregate`\n"
    "    reads (aggregated on the fly). pareto, savings and optima without an optimize JSON\n"
    "    run the optimize library on the data: the same results as `freqpilot optimize DATA\n"
    "    --objective OBJ --max-slowdown none,X` (with --constraints C: also that option).\n"
    "\n"
    "OPTIONS\n"
    "    -o, --output FILE     output; the format comes from the extension\n"
    "    --gpu NAME, --app NAME  which (gpu, app) (default: the first in the data)\n"
    "    --objective OBJ       energy (default), time, edp, ed2p\n"
    "    --max-slowdown X      budget of the constrained choice, a fraction "
    "(0.05)\n" CLI_CONSTRAINTS_HELP
    "                          (the constrained choice then takes each app's own budget)\n"
    "    --column COL          timeseries column (power_w)\n"
    "    --width IN, --height IN  size in inches (3.5 wide: one paper column; 7 for many\n"
    "                          categories; height from the panels)\n"
    "    --dpi N               PNG resolution (300)\n"
    "    --simulated           label the figure SIMULATED DATA (data from the simulated GPU\n"
    "                          is labelled without it)\n"
    "    --data                print the numbers behind the figure as CSV on stdout\n"
    "                          (panel,series,x,y,lo,hi)\n"
    "    -h, --help            show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0 the figure was written; 1 bad or missing input, or the file could not be written (no\n"
    "    partial file is left); 2 usage error.\n"
    "\n"
    "EXAMPLES\n"
    "    freqpilot plot sweep aggregated.csv optimal.json --gpu A100 --app vit -o sweep.pdf\n"
    "    freqpilot plot heatmap aggregated.csv --gpu H100 -o heatmap.png\n"
    "    freqpilot plot timeseries DATASET/A100/vit/1410/1 DATASET/A100/vit/510/1 -o ts.svg\n";

enum {
    OPT_GPU = 256,
    OPT_APP,
    OPT_OBJ,
    OPT_SLOW,
    OPT_COL,
    OPT_W,
    OPT_H,
    OPT_DPI,
    OPT_SIM,
    OPT_DATA,
    OPT_CONSTRAINTS
};

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"gpu", required_argument, NULL, OPT_GPU},
    {"app", required_argument, NULL, OPT_APP},
    {"objective", required_argument, NULL, OPT_OBJ},
    {"max-slowdown", required_argument, NULL, OPT_SLOW},
    {"column", required_argument, NULL, OPT_COL},
    {"width", required_argument, NULL, OPT_W},
    {"height", required_argument, NULL, OPT_H},
    {"dpi", required_argument, NULL, OPT_DPI},
    {"simulated", no_argument, NULL, OPT_SIM},
    {"data", no_argument, NULL, OPT_DATA},
    {"constraints", required_argument, NULL, OPT_CONSTRAINTS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
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
    int want_data = 0, c;
    double v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case OPT_GPU:
            po.gpu = optarg;
            break;
        case OPT_APP:
            po.app = optarg;
            break;
        case OPT_OBJ:
            po.objective = optarg;
            break;
        case OPT_SLOW:
            if (cli_parse_double(optarg, &v) || v < 0 || v > 10)
                return cli_usage_error("plot", "--max-slowdown: expected a fraction, got '%s'",
                                       optarg);
            po.max_slowdown = v;
            break;
        case OPT_COL:
            column = optarg;
            break;
        case OPT_W:
        case OPT_H:
            if (cli_parse_double(optarg, &v) || v < 1 || v > 40)
                return cli_usage_error("plot",
                                       "--width/--height: expected inches in 1..40, got "
                                       "'%s'",
                                       optarg);
            if (c == OPT_W)
                ro.width_in = v;
            else
                ro.height_in = v;
            break;
        case OPT_DPI:
            if (cli_parse_double(optarg, &v) || v < 30 || v > 1200)
                return cli_usage_error("plot", "--dpi: expected 30..1200, got '%s'", optarg);
            ro.dpi = v;
            break;
        case OPT_SIM:
            po.simulated = 1;
            break;
        case OPT_DATA:
            want_data = 1;
            break;
        case OPT_CONSTRAINTS:
            constraints = optarg;
            break;
        case 'h':
            cli_print_help(help_text);
            return EXIT_OK;
        default:
            return cli_usage_error("plot", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("plot", "expected KIND (sweep, pareto, savings, optima, heatmap, "
                                       "model, timeseries)");
    const char *kind = argv[optind++];
    static const char *const kinds[] = {"sweep",   "pareto", "savings",   "optima",
                                        "heatmap", "model",  "timeseries"};
    int k = -1;
    for (int i = 0; i < 7; i++)
        if (strcmp(kind, kinds[i]) == 0)
            k = i;
    if (k < 0)
        return cli_usage_error("plot", "unknown KIND '%s'", kind);
    if (optind >= argc)
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
        size_t n = (size_t)(argc - optind);
        fp_ts_plot_input *in = calloc(n, sizeof *in);
        if (!in) {
            cli_error("out of memory");
            return EXIT_FAIL;
        }
        for (size_t i = 0; i < n; i++)
            in[i].path = argv[optind + (int)i];
        st = fp_plot_timeseries(in, n, column, &po, &fig, &err);
        free(in);
    } else {
        st = fp_report_data_load(&d, (const char *const *)argv + optind, (size_t)(argc - optind),
                                 &diag, &err);
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
                st = fp_recs_optimize((const char *const *)argv + optind, (size_t)(argc - optind),
                                      po.objective, po.max_slowdown, po.constraints, &diag, &d.recs,
                                      &err);
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
