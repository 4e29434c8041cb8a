/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The setup optimize and pareto share (engine_setup.h): the decision engine's options, the
 * objectives, the data loaded from INPUT... (or `run`'s preload) and one run of fp_optimize over
 * it.
 */
#define _GNU_SOURCE
#include <string.h>

#include "cli/engine_setup.h"

void cli_engine_init(cli_engine *e)
{
    memset(e, 0, sizeof *e);
    fp_opt_options_init(&e->o);
    e->objectives.objs = e->objs;
    e->objectives.max = CLI_MAX_OBJECTIVES;
    e->diag = cli_diag(&e->diag_state);
    e->o.diag = &e->diag;
}

int cli_engine_load(cli_engine *e, const char *cmd, char **inputs, int ninputs,
                    const char *const *default_objectives)
{
    fp_error err;
    fp_error_clear(&err);
    if (ninputs < 1)
        return cli_usage_error(cmd, "no INPUT given (an aggregated.csv or runs)");
    if (e->objectives.n == 0)
        for (size_t i = 0; default_objectives[i] && i < CLI_MAX_OBJECTIVES; i++)
            fp_objective_parse(default_objectives[i], &e->objs[e->objectives.n++], NULL);
    int borrowed; /* `run`'s inputs, loaded once (cli_preload): not ours to free */
    if (cli_opt_data((const char *const *)inputs, (size_t)ninputs, &e->diag, &e->data, &borrowed,
                     &err)) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    e->loaded = !borrowed;
    return EXIT_OK;
}

int cli_engine_run(cli_engine *e, const double *budgets, size_t nbudgets,
                   const fp_constraints *cons, fp_opt_results *res)
{
    fp_error err;
    fp_error_clear(&err);
    if (fp_optimize(&e->data, e->objs, e->objectives.n, budgets, nbudgets, cons, &e->o, res,
                    &err)) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

void cli_engine_free(cli_engine *e)
{
    if (e->loaded)
        fp_opt_data_free(&e->data);
    e->loaded = 0;
}
