/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot apply: lock a GPU's SM clock (a given clock, or optimize's choice for an app)
 * through the clock guard, which records what to restore in a state file first. The lock
 * outlives this process on purpose; `freqpilot restore` (src/cli/restore.c) undoes it.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/aie_results.h"
#include "freqpilot/clockctl.h"
#include "freqpilot/clockguard.h"
#include "freqpilot/gpu.h"
#include "freqpilot/optimize.h"
#include "util/asuser.h"

const cli_command apply_cmd = {
    .name = "apply",
    .flags = CLI_PARSE_NO_OPERANDS,
    .summary = "lock a GPU's SM clock (a clock or optimize's choice) until restore",
    .synopsis = "freqpilot apply [--backend nvml|sim] [--gpu ID] --clock MHZ\n"
                "freqpilot apply [--backend nvml|sim] [--gpu ID] --from OPTIMAL.json --app APP\n"
                "                [--objective OBJ] [--state-dir DIR] [--force]\n",
    .description =
        "Locks the SM clock of GPU ID (index, UUID, or for sim a model such as sim:A100;\n"
        "default 0) to MHZ, snapped to the nearest supported clock, or to the clock that\n"
        "freqpilot optimize chose for APP on this GPU model (the first result for APP, or\n"
        "the one of --objective), which is applied only when its verdict is deployable (or\n"
        "it keeps the baseline clock): otherwise apply says why and exits 1, unless\n"
        "--force. Before anything changes, a state file records what to\n"
        "restore (see 'freqpilot restore --help'); the lock is then read back and the clock\n"
        "reached is reported. The GPU stays locked after this command exits;\n"
        "'freqpilot restore' puts it back. Applying again to a GPU whose state file exists\n"
        "needs --force (the earlier restore is inherited).\n"
        "With --backend sim the simulated GPU lives only in this process: the state file is\n"
        "the only thing that persists (useful for tests and rehearsals).\n"
        "Run by a user who is not root where freqpilotd listens, the lock goes through the\n"
        "service, which keeps it for that user until 'freqpilot restore' (no state file);\n"
        "the first line on stderr says which way (docs/freqpilotd.md).\n",
    .exit_status =
        "0 locked; 1 failure (no backend, permissions, a clock outside the GPU's supported\n"
        "range, whether from --clock or from FILE, the GPU leased by a running freqpilot:\n"
        "then nothing stays changed); 2 usage error.\n",
    .examples = "freqpilot apply --backend sim --gpu A100 --clock 1005\n"
                "sudo freqpilot apply --gpu 0 --from optimal.json --app llama --objective energy\n"
                "sudo freqpilot restore            # put the GPU back\n",
};

/*
 * The clock optimize chose for app on a GPU named short_name; NAN with a message if none.
 * Only a deployable recommendation (or one that keeps the baseline) is taken unless force.
 */
static double clock_from_json(const char *path, const char *short_name, const char *app,
                              const char *objective, int force)
{
    fp_opt_results res;
    fp_error err;
    if (fp_opt_read_json(path, &res, &err)) {
        cli_error("%s", err.msg);
        return NAN;
    }
    double f = NAN;
    int app_seen = 0;
    for (size_t i = 0; i < res.len && isnan(f); i++) {
        const fp_opt_result *r = &res.items[i];
        if (strcasecmp(r->app, app) != 0)
            continue;
        app_seen = 1;
        if (strcasecmp(r->gpu, short_name) != 0)
            continue;
        if (objective && strcasecmp(r->objective, objective) != 0)
            continue;
        int keeps = fabs(r->freq_mhz - r->baseline_mhz) < 0.5;
        if (r->verdict != FP_VERDICT_DEPLOYABLE && !keeps && !force) {
            cli_error("%s %s %s: not applied: the verdict is '%s': %s (--force applies it "
                      "anyway)",
                      r->gpu, r->app, r->objective, fp_verdict_name(r->verdict), r->verdict_reason);
            fp_opt_results_free(&res);
            return NAN;
        }
        if (r->verdict != FP_VERDICT_DEPLOYABLE && !keeps)
            cli_warn("%s %s %s: applying a recommendation whose verdict is '%s' (--force): %s",
                     r->gpu, r->app, r->objective, fp_verdict_name(r->verdict), r->verdict_reason);
        f = r->freq_mhz;
        if (fp_aie_results_is_original(&res))
            cli_warn("%s %s %s: %.0f MHz is the original project's recommendation "
                     "(ai-inference-energy), not freqpilot's; check it with 'freqpilot validate'",
                     r->gpu, r->app, r->objective, r->freq_mhz);
        if (!r->feasible)
            cli_warn("%s %s %s: the recommendation is infeasible (%s); applying the baseline",
                     r->gpu, r->app, r->objective, r->message);
        else if (r->data_flags & (FP_FLAG_NOT_CLOCK_BOUND | FP_FLAG_DRIFT))
            cli_warn("%s %s: the data behind this choice is flagged (not_clock_bound or drift); "
                     "run 'freqpilot validate'",
                     r->gpu, r->app);
    }
    if (isnan(f))
        cli_error("%s: no recommendation for app '%s'%s%s on a %s%s", path, app,
                  objective ? " and objective " : "", objective ? objective : "", short_name,
                  app_seen ? "" : " (the app is not in the file)");
    fp_opt_results_free(&res);
    return f;
}

typedef struct choice_args {
    const char *path, *short_name, *app, *objective;
    int force;
} choice_args;

/* clock_from_json as the user behind sudo (util/asuser.h): root reads no file a user named. */
static fp_status read_choice(void *arg, void *ret, fp_error *err)
{
    const choice_args *a = arg;
    double *f = ret;
    *f = clock_from_json(a->path, a->short_name, a->app, a->objective, a->force);
    if (isnan(*f))
        return fp_error_set(err, FP_ERR_INVALID, "(reported)");
    return FP_OK;
}

int cmd_apply(int argc, char **argv)
{
    const char *backend_name = FP_GPU_BACKEND_DEFAULT, *gpu_id = "0", *from = NULL, *app = NULL,
               *objective = NULL, *state_dir = NULL;
    double clock = NAN;
    int force = 0;
    char backends[512];
    const cli_option opts[] = {
        CLI_CALLBACK("backend", &backend_name, "NAME", NULL, cli_opt_backend,
                     cli_backend_help("", backends, sizeof backends)),
        CLI_STRING("gpu", &gpu_id, "ID", "GPU index, UUID or sim model (0)"),
        CLI_DOUBLE("clock", &clock, "MHZ", "MHz", "> 0", "clock to lock"),
        CLI_STRING("from", &from, "FILE", "optimize's JSON (with --app)"),
        CLI_STRING("app", &app, "APP", "the application in --from (case-insensitive)"),
        CLI_STRING("objective", &objective, "OBJ",
                   "which objective's choice (first result for APP)"),
        CLI_STRING("state-dir", &state_dir, "DIR",
                   "state file folder (see freqpilot restore); refused under sudo"),
        CLI_FLAG("force", &force,
                 "take over an existing state file; with --from, also apply a recommendation "
                 "that is not deployable"),
        CLI_END,
    };
    int prc, nargs = cli_parse_options(&apply_cmd, opts, argc, argv, &prc);
    if (nargs < 0)
        return prc;
    if (state_dir && cli_check_state_dir_option("apply", state_dir))
        return EXIT_USAGE;
    if (isnan(clock) == !from)
        return cli_usage_error("apply", "give either --clock MHZ or --from FILE --app APP");
    if (from && !app)
        return cli_usage_error("apply", "--from needs --app APP");
    if (cli_sim_configure_from_env())
        return EXIT_FAIL;
    const fp_gpu_backend *be = fp_gpu_backend_by_name(backend_name);

    fp_error err;
    fp_error_clear(&err);
    if (be->init(&err)) {
        cli_error("%s backend unavailable: %s", be->name, err.msg);
        return EXIT_FAIL;
    }
    fp_gpu *gpu = NULL;
    fp_clockctl *g = NULL;
    fp_gpu_info info;
    int rc = EXIT_FAIL;
    if (be->open(gpu_id, &gpu, &err) || be->info(gpu, &info, &err)) {
        cli_error("GPU %s: %s", gpu_id, err.msg);
        goto out;
    }
    if (from) {
        const fp_invoker *who;
        choice_args ca = {from, info.short_name, app, objective, force};
        if (fp_invoker_get(&who, &err)) {
            cli_error("%s", err.msg);
            goto out;
        }
        if (fp_invoker_call(who, read_choice, &ca, &clock, sizeof clock, &err)) {
            if (strcmp(err.msg, "(reported)") != 0)
                cli_error("%s", err.msg);
            goto out;
        }
    }
    /* Out of the GPU's range (-1065, 0, 1e20, 2^32 + 1410): an error, nothing changed. */
    char what[4400];
    if (from)
        snprintf(what, sizeof what, "%s: freq_mhz for app '%s'", from, app);
    else
        snprintf(what, sizeof what, "--clock");
    if (fp_gpu_check_clock(&info, clock, what, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    unsigned target = fp_gpu_snap_clock(&info, clock);
    if (target == 0) {
        cli_error("%s: no supported clock table", info.name);
        goto out;
    }
    if (fabs(target - clock) >= 0.5)
        cli_warn("%.0f MHz is not a supported clock of %s; using %u MHz", clock, info.name, target);
    char cmdline[512];
    snprintf(cmdline, sizeof cmdline, "freqpilot apply --backend %s --gpu %s --clock %u", be->name,
             gpu_id, target);
    if ((rc = cli_clock_path("apply", be)) != 0)
        goto out;
    rc = EXIT_FAIL;
    fp_clockctl_opts gopts = {
        .guard = {.state_dir = state_dir, .force = force, .command = cmdline}};
    if (fp_clockctl_begin(&g, be, gpu, &gopts, &err)) {
        cli_error("%s", err.msg);
        goto out;
    }
    double reached = NAN;
    if (fp_clockctl_lock(g, target, target, &reached, &err)) {
        cli_error("%s: locking %u MHz failed: %s", info.name, target, err.msg);
        goto out; /* fp_clockctl_end restores (and removes the state file) */
    }
    /* Directly: the state file must say what to restore before we leave the clock locked. */
    fp_clockguard *guard = fp_clockctl_guard(g);
    fp_clockguard_report rep;
    if (guard &&
        (fp_clockguard_read_state(fp_clockguard_path(guard), &rep, &err) || !rep.changed.locked)) {
        cli_error("state file %s does not record the lock (%s); restoring",
                  fp_clockguard_path(guard), err.msg[0] ? err.msg : "locked_clocks false");
        goto out;
    }
    if (isfinite(reached) && fabs(reached - target) > 30.0)
        cli_warn("%s: locked %u MHz but the GPU reports %.0f MHz (idle, power or thermal "
                 "limits); the lock stays",
                 info.name, target, reached);
    printf("locked %s (GPU %s) at %u MHz", info.name, gpu_id, target);
    if (isfinite(reached))
        printf(", reached %.0f MHz", reached);
    /* apply's whole point is a lock that outlives it: the state file stays for restore, or
     * freqpilotd keeps the lease for this user. */
    char where[600];
    fp_status dst = fp_clockctl_detach(g, where, sizeof where, &err);
    g = NULL;
    if (dst) {
        printf("\n");
        cli_error("%s; the clock was restored", err.msg);
        goto out;
    }
    printf("; %s\n", where);
    rc = EXIT_OK;
out:
    fp_clockctl_end(g);
    if (gpu)
        be->close(gpu);
    be->shutdown();
    return rc;
}
