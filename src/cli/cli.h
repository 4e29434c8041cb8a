/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_CLI_H
#define FREQPILOT_CLI_H

/*
 * Shared pieces of the command-line tool. Every command lives in its own file
 * (src/cli/NAME.c) as `int cmd_NAME(int argc, char **argv)` and returns an exit
 * code: 0 ok, 1 failure, 2 usage error.
 */

#include <stdio.h>

#include "cli/parse_options.h"
#include "freqpilot/error.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* -q = 0 (errors only), default 1 (warnings), -v = 2 (info), -vv = 3 (debug). */
extern int cli_verbosity;
extern const char *cli_progname;

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error: prints "error: ..." and a hint to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A fp_diag that prints library warnings through cli_warn and counts them. */
typedef struct cli_diag_state {
    long count;
} cli_diag_state;
fp_diag cli_diag(cli_diag_state *state);
/* Says now what cli_diag's info callback counted (the "run(s) dropped" summary), once; it is
 * otherwise said when the process exits normally (not after _exit: a forked stage calls it). */
void cli_diag_summary(void);

/*
 * Checks an output path before any work is done: a folder is a usage error
 * (returns EXIT_USAGE after printing it), anything else is fine — regular files
 * are replaced atomically, links followed, devices such as /dev/null written in
 * place (include/freqpilot/atomic.h). Returns 0 when usable.
 */
int cli_check_output(const char *cmd, const char *option, const char *path);

/* mkdir -p DIR (mode 0777 before umask); 0 on success, -1 with errno set. */
int cli_mkdirs(const char *dir);

/*
 * Root through sudo: a command (or part of one) that needs no root drops to the invoking user
 * for good (util/asuser.h) before it touches any file or runs any helper. 0, or 1 after an
 * error message.
 */
int cli_drop_root(void);
/*
 * --state-dir under sudo: refused (a usage error, message printed, returns 1). The folders
 * root writes clock state into are the administrator's choice ($FREQPILOT_STATE_DIR, which
 * sudo's env_reset does not pass on, or the default), not the invoking user's.
 */
int cli_check_state_dir_option(const char *cmd, const char *dir);

/* Parses a number with a unit-free strict syntax; returns 0 on success. */
int cli_parse_double(const char *s, double *out);
int cli_parse_long(const char *s, long *out);
/* A fraction ("0.05") or a percentage ("5%") >= 0 into *out as a fraction; 0 on success. */
int cli_parse_fraction(const char *s, double *out);

/*
 * Option values several commands share, as parse_options callbacks (common_options.c). Each
 * stores into opt->value:
 *   cli_opt_objectives   cli_objectives: comma-separated objectives, appended (repeatable)
 *   cli_opt_objective    fp_objective: one objective
 *   cli_opt_budgets      cli_budgets: comma-separated fractions, percentages or 'none' (NAN)
 *   cli_opt_budget       double: one budget (NAN for 'none')
 *   cli_opt_baseline     fp_opt_options: max, default or a clock in MHz
 *   cli_opt_input_format fp_format: a name of the format registry or "auto"
 *   cli_opt_backend      const char *: a name of the GPU backend registry
 */
struct fp_objective;
typedef struct cli_objectives {
    struct fp_objective *objs;
    size_t n, max;
} cli_objectives;
typedef struct cli_budgets {
    double *v;
    size_t n, max;
} cli_budgets;
int cli_opt_objectives(const cli_option *o, const char *arg, char *why, size_t n);
int cli_opt_objective(const cli_option *o, const char *arg, char *why, size_t n);
int cli_opt_budgets(const cli_option *o, const char *arg, char *why, size_t n);
int cli_opt_budget(const cli_option *o, const char *arg, char *why, size_t n);
int cli_opt_baseline(const cli_option *o, const char *arg, char *why, size_t n);
int cli_opt_input_format(const cli_option *o, const char *arg, char *why, size_t n);
int cli_opt_backend(const cli_option *o, const char *arg, char *why, size_t n);
/* --sim-noise off|on|FACTOR (0..100) into a double noise scale. */
int cli_opt_sim_noise(const cli_option *o, const char *arg, char *why, size_t n);
int cli_parse_sim_noise(const char *s, double *scale);
/*
 * The simulated GPU's settings: the documented FREQPILOT_SIM_* variables (GPU, SEED, WORKLOAD,
 * NOISE, REALTIME; docs/simulated-gpu.md) are the user's interface to them, read here, in the
 * command line, and handed to the library as fp_sim_backend_options. 0, or EXIT_FAIL after
 * naming the malformed variable; noise, when not NULL, replaces FREQPILOT_SIM_NOISE (profile's
 * --sim-noise). _configure_from_env also installs them
 * (fp_sim_backend_configure) for the commands that open GPUs through a backend.
 */
struct fp_sim_backend_options;
int cli_sim_options_from_env(struct fp_sim_backend_options *o, const char *noise);
int cli_sim_configure_from_env(void);
/* The help of a --backend option: prefix, then each registered backend with its description
 * (the default marked); returns buf. */
const char *cli_backend_help(const char *prefix, char *buf, size_t n);
/* The help of an --input-format option, listing the registered formats; returns buf. */
const char *cli_input_format_help(char *buf, size_t n);

/*
 * What the deployable savings are worth (report, run; freqpilot/deploy.h): --utilisation,
 * --price, --currency, --grid-intensity and --gpus. In an option table CLI_IMPACT_OPTIONS(&o)
 * (o an fp_impact_opts), parsed by cli_opt_impact; CLI_IMPACT_OPTIONS_CB(p, cb) gives them
 * another callback (run's, which applies them over its config).
 */
int cli_opt_impact(const cli_option *o, const char *arg, char *why, size_t n);
#define CLI_IMPACT_OPTIONS_CB(p, cb)                                                               \
    CLI_CALLBACK("utilisation", (p), "X", NULL, (cb),                                              \
                 "fraction of the year each workload runs at the baseline clock, for what the "    \
                 "savings are worth (0.5; also 50%)"),                                             \
        CLI_CALLBACK("price", (p), "X", NULL, (cb), "electricity price per kWh (0.15)"),           \
        CLI_CALLBACK("currency", (p), "C", NULL, (cb), "its unit (USD)"),                          \
        CLI_CALLBACK("grid-intensity", (p), "G", NULL, (cb),                                       \
                     "grid carbon intensity, g CO2e per kWh (400)"),                               \
        CLI_CALLBACK("gpus", (p), "N", NULL, (cb), "GPUs running each (gpu, app) workload (1)")
#define CLI_IMPACT_OPTIONS(p) CLI_IMPACT_OPTIONS_CB(p, cli_opt_impact)
/* --constraints SPEC (a file or a preset): *out = c read from it (NULL when spec is NULL or
 * ""). Returns 0, or EXIT_FAIL after printing why it cannot be read. */
struct fp_constraints;
int cli_open_constraints(const char *spec, struct fp_constraints *c,
                         const struct fp_constraints **out);
/* --constraints of report, run and plot: documented with the same words. */
#define CLI_CONSTRAINTS_TEXT                                                                       \
    "per-app slowdown budgets (INI, see contrib/constraints.ini), or a preset by name: "           \
    "ai-inference-energy (the original project's budgets: LLaMA 15 %, Stable Diffusion 30 %, "     \
    "ViT 50 %, Whisper 40 %)"

/*
 * Progress bar with ETA on stderr, only when stderr is a terminal and not -q;
 * appears after a short delay and redraws at most 5 times a second.
 */
typedef struct cli_progress cli_progress;
cli_progress *cli_progress_start(const char *title, double total);
void cli_progress_update(cli_progress *p, double done);
void cli_progress_set_label(cli_progress *p, const char *text); /* shown after the bar */
void cli_progress_stop(cli_progress *p);

/*
 * Inputs loaded once (src/cli/preload.c): `run` loads and aggregates its inputs, then runs
 * each stage's command in a forked child; a command given the same inputs with the default
 * load and aggregate options takes them from this memory.
 */
struct fp_run_list;
struct fp_agg_result;
struct fp_opt_data;
struct fp_load_options;
struct fp_agg_options;
typedef struct cli_preload {
    const char *const *paths; /* the INPUT arguments, as given */
    size_t npaths;
    const struct fp_run_list *runs;  /* NULL when only the aggregation was kept */
    size_t nruns;                    /* runs loaded */
    const struct fp_agg_result *agg; /* fp_aggregate with fp_agg_options_init's defaults */
    const struct fp_opt_data *opt;   /* fp_opt_data_build(agg, runs) */
    /* What loading and aggregating said, in order; a command that takes the preload says it
     * again (cli_preload_replay), so its messages are those of the command run alone. */
    const struct cli_preload_msg *msgs;
    size_t nmsgs;
} cli_preload;
typedef struct cli_preload_msg {
    int aggregating; /* 0: said while loading; 1: while aggregating */
    int info;        /* 0: a warning; 1: an info-level detail (a dropped run) */
    char *text;
} cli_preload_msg;
/* Says the preload's messages again: the loader's through load, the aggregation's through agg
 * (either NULL: not said), each through its warn or info callback. */
void cli_preload_replay(const cli_preload *p, const struct fp_diag *load,
                        const struct fp_diag *agg);
void cli_preload_set(const cli_preload *p); /* NULL: none */
/* The preload when paths are its inputs (the same strings in the same order), else NULL. */
const cli_preload *cli_preload_for(const char *const *paths, size_t n);
/* 1 when the options (either may be NULL) are the defaults the preload was made with. */
int cli_preload_defaults(const struct fp_load_options *lo, const struct fp_agg_options *ao);
/* optimize, pareto and validate's data: the preload's (*borrowed = 1: not to be freed) or
 * fp_opt_data_load's. */
fp_status cli_opt_data(const char *const *paths, size_t n, const fp_diag *diag,
                       struct fp_opt_data *out, int *borrowed, fp_error *err);

/* Each command's manual page (its NAME line is also its line in `freqpilot help`). */
extern const cli_command aggregate_cmd, apply_cmd, govern_cmd, gpus_cmd, model_cmd, optimize_cmd,
    pareto_cmd, plot_cmd, profile_cmd, report_cmd, restore_cmd, run_cmd, sample_cmd, service_cmd,
    sim_cmd, status_cmd, validate_cmd;

/* Commands. */
int cmd_aggregate(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_govern(int argc, char **argv);
int cmd_gpus(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_optimize(int argc, char **argv);
int cmd_pareto(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_service(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* The binary called as freqpilotd: `freqpilot service run` (src/cli/service.c). */
int cmd_freqpilotd(int argc, char **argv);

/*
 * Prints (stderr, unless -q) how `freqpilot CMD` will change clocks on backend be: directly or
 * through freqpilotd (freqpilot/clockctl.h). Returns 0, or EXIT_USAGE after printing a bad
 * $FREQPILOT_CLOCK_CONTROL.
 */
struct fp_gpu_backend;
int cli_clock_path(const char *cmd, const struct fp_gpu_backend *be);
/* Gives back freqpilotd leases (the restore request; NULL/-1/0 for what is not given). */
int cli_service_restore(const char *socket, const char *gpu, long uid, int all, int force);
/* Prints freqpilotd's leases (`freqpilot service status`). */
int cli_service_status(const char *socket);

#endif
