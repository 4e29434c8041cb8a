/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot govern daemon: the governor on a GPU, its clocks restored however it ends. */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/govern_cli.h"
#include "freqpilot/clockguard.h"
#include "freqpilot/dataset.h"
#include "freqpilot/govern.h"
#include "freqpilot/reader.h"
#include "freqpilot/sim.h"
#include "util/asuser.h"
#include "util/input.h"

/* ---- daemon ---- */

/* The daemon's inputs are read as the user behind sudo (util/asuser.h), then checked
 * against the GPU's supported clocks when it starts (the policy's settings, src/govern). */
typedef struct daemon_input {
    const gov_opts *o;
    int which; /* 0 --optimize, 1 --phase-clocks-from */
} daemon_input;

/* What comes back from the user's side: plain numbers (0 = not given). */
typedef struct daemon_clocks {
    unsigned static_mhz;
    unsigned phase_mhz[FP_PHASE_COUNT];
} daemon_clocks;

static fp_status read_daemon_input(void *arg, void *ret, fp_error *err)
{
    const daemon_input *in = arg;
    daemon_clocks *c = ret;
    memset(c, 0, sizeof *c);
    if (in->which == 0)
        return fp_policy_static_from_json(in->o->optimize, NULL, in->o->app, NAN, &c->static_mhz,
                                          err);
    /* learned against no clock table; the daemon checks and snaps them on the GPU's */
    fp_policy *p;
    fp_status st = fp_policy_new("phase", NULL, &p, err);
    if (st != FP_OK)
        return st;
    if (gov_phase_clocks_from(in->o, in->o->sweep_gpu, p, NULL, NULL) != EXIT_OK)
        st = fp_error_set(err, FP_ERR_INVALID, "(reported)");
    for (int k = 0; st == FP_OK && k < FP_PHASE_COUNT; k++) {
        double v = fp_policy_get_num(p, fp_phase_name((fp_phase)k));
        c->phase_mhz[k] = v > 0 ? (unsigned)lround(v) : 0;
    }
    fp_policy_free(p);
    return st;
}

static int daemon_input_as_user(const gov_opts *o, int which, daemon_clocks *c)
{
    const fp_invoker *who;
    fp_error err;
    daemon_input in = {o, which};
    if (fp_invoker_get(&who, &err) ||
        fp_invoker_call(who, read_daemon_input, &in, c, sizeof *c, &err)) {
        if (strcmp(err.msg, "(reported)") != 0)
            cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static void daemon_log(void *user, int level, const char *msg)
{
    (void)user;
    if (level <= 1)
        cli_warn("%s", msg);
    else
        cli_info("%s", msg);
}

/*
 * --predictor on the daemon: the GPU is watched, at the clocks it runs, until it has been busy
 * for the predictor's window, before the loop starts; the predicted clock becomes the activity
 * policy's f_e ("f_e=MHZ" in its settings).
 */
#define PREDICT_MAX_WAIT_S 600.0
static int predict_f_e(const gov_opts *o, char *extra, size_t size)
{
    fp_predictor *p = gov_load_predictor(o);
    if (!p)
        return EXIT_FAIL;
    fp_daemon_opts d;
    fp_daemon_opts_default(&d);
    const fp_gpu_backend *be = fp_gpu_backend_by_name(o->backend ? o->backend : d.backend);
    fp_gpu *gpu = NULL;
    fp_gpu_info info;
    double feat[FP_PRED_NFEAT];
    double interval_s = o->interval_ms > 0 ? o->interval_ms / 1000 : d.interval_s;
    fp_error err;
    int rc = EXIT_FAIL;
    if (be && be->init(&err) == FP_OK) {
        if (be->open(o->gpu ? o->gpu : d.gpu, &gpu, &err) == FP_OK &&
            be->info(gpu, &info, &err) == FP_OK &&
            fp_pred_observe(be, gpu, p->window_s, interval_s, PREDICT_MAX_WAIT_S, feat, &err) ==
                FP_OK) {
            unsigned fmax = info.max_clock_mhz ? info.max_clock_mhz : info.graphics_clocks_mhz[0];
            unsigned f_e = fp_pred_f_e_mhz(p, feat, fmax);
            size_t n = strlen(extra);
            snprintf(extra + n, size - n, "%sf_e=%u", n ? "," : "", f_e);
            cli_info("activity f_e = %u MHz from the predictor %s (GPU busy for %.1f s)", f_e,
                     o->predictor, p->window_s);
            rc = EXIT_OK;
        }
        be->close(gpu);
        be->shutdown();
    }
    if (rc != EXIT_OK)
        cli_error("%s", be ? err.msg : "no such backend");
    free(p);
    return rc;
}

int gov_cmd_daemon(gov_opts *o)
{
    if (o->npos)
        return cli_usage_error("govern", "daemon takes no arguments");
    if (o->state_dir && cli_check_state_dir_option("govern", o->state_dir))
        return EXIT_USAGE;
    int prc = gov_predictor_check(o);
    if (prc)
        return prc;
    if (cli_sim_configure_from_env())
        return EXIT_FAIL;
    if (o->engine_map && !o->engine_metrics)
        return cli_usage_error("govern", "--engine-map needs --engine-metrics");
    fp_error err;
    if (o->engine_metrics) { /* checked here: a bad URL or map is a usage error */
        fp_engine_scraper *scr;
        if (fp_engine_scraper_new(o->engine_metrics, o->engine_map, &scr, &err) != FP_OK)
            return cli_usage_error("govern", "%s", err.msg);
        fp_engine_scraper_free(scr);
    }
    /*
     * The settings are checked here (usage errors) against no clock table; the daemon checks
     * the clocks against the GPU's range and snaps them when it starts, before any change.
     */
    const char *name = o->policy ? o->policy : "phase";
    fp_policy *probe;
    int rc = gov_make_policy(o, name, NULL, NULL, &probe);
    if (rc != EXIT_OK)
        return rc;
    char extra[256] = "";
    daemon_clocks dc;
    if (strcmp(fp_policy_name(probe), "static") == 0 && !o->has_static) {
        if (!o->optimize)
            rc = cli_usage_error("govern", "--policy static needs --static-clock or --optimize");
        else if ((rc = daemon_input_as_user(o, 0, &dc)) == EXIT_OK)
            snprintf(extra, sizeof extra, "clock=%u", dc.static_mhz);
    }
    if (rc == EXIT_OK && o->phase_from && strcmp(fp_policy_name(probe), "phase") == 0 &&
        (rc = daemon_input_as_user(o, 1, &dc)) == EXIT_OK) {
        size_t n = 0;
        for (int k = 0; k < FP_PHASE_COUNT && n < sizeof extra; k++)
            if (dc.phase_mhz[k])
                n += (size_t)snprintf(extra + n, sizeof extra - n, "%s%s=%u", n ? "," : "",
                                      fp_phase_name((fp_phase)k), dc.phase_mhz[k]);
    }
    if (rc == EXIT_OK && o->predictor)
        rc = predict_f_e(o, extra, sizeof extra);
    static char settings[2048];
    if (rc == EXIT_OK) {
        gov_settings(o, probe, extra, settings, sizeof settings);
        fp_policy_free(probe);
        /* the extra settings too are checked before the GPU is opened */
        if ((rc = gov_make_policy(o, name, NULL, extra, &probe)) != EXIT_OK)
            return rc;
    }
    fp_policy_free(probe);
    if (rc != EXIT_OK)
        return rc;
    fp_daemon_opts d;
    fp_daemon_opts_default(&d);
    if (o->backend)
        d.backend = o->backend;
    if (o->gpu)
        d.gpu = o->gpu;
    d.policy = name;
    d.settings = settings;
    if (o->interval_ms > 0)
        d.interval_s = o->interval_ms / 1000;
    d.duration_s = o->duration;
    d.listen = o->listen;
    d.state_dir = o->state_dir;
    d.force = o->force;
    d.rate_file = o->rate_file;
    d.engine_metrics = o->engine_metrics;
    d.engine_map = o->engine_map;
    d.log = daemon_log;
    const fp_gpu_backend *be =
        fp_gpu_backend_by_name(d.backend ? d.backend : FP_GPU_BACKEND_DEFAULT);
    int path_rc = be ? cli_clock_path("govern daemon", be) : 0;
    if (path_rc)
        return path_rc;
    int sig = 0;
    fp_clockguard_exec_on_second_signal("/proc/self/exe");
    fp_status st = fp_daemon_run(&d, &sig, &err);
    if (st != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    if (sig)
        fp_clockguard_reraise(sig);
    return EXIT_OK;
}
