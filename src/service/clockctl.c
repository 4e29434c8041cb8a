/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The clock controller (include/freqpilot/clockctl.h): one ops table, two implementations —
 * the clock guard in this process (direct) and freqpilotd over its socket (service).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "freqpilot/clockctl.h"
#include "freqpilot/freqpilotd.h"

typedef struct clockctl_ops {
    fp_status (*lock)(fp_clockctl *c, unsigned min_mhz, unsigned max_mhz, int app_fallback,
                      double *reached_mhz, int *used_app_clocks, fp_error *err);
    fp_status (*set_power_limit)(fp_clockctl *c, double watts, fp_error *err);
    fp_status (*restore)(fp_clockctl *c, fp_error *err);
    fp_status (*detach)(fp_clockctl *c, char *where, size_t where_size, fp_error *err);
    void (*end)(fp_clockctl *c);
} clockctl_ops;

struct fp_clockctl {
    const clockctl_ops *ops;
    fp_clockctl_via via;
    fp_clockguard *guard; /* direct */
    fp_svc_client *svc;   /* service */
    char gpu_id[96];      /* service: the GPU's UUID (or index) */
    fp_gpu_clock_state changed;
};

/* ---- choosing ---- */

fp_status fp_clockctl_resolve(const fp_gpu_backend *be, const char *socket, fp_clockctl_via *via,
                              char *desc, size_t desc_size, fp_error *err)
{
    char none[8];
    if (!desc) {
        desc = none;
        desc_size = sizeof none;
    }
    desc[0] = 0;
    if (!socket)
        socket = fp_svc_socket_path();
    const char *env = getenv("FREQPILOT_CLOCK_CONTROL");
    fp_clockctl_via want = FP_CLOCKCTL_AUTO;
    if (env && *env && strcasecmp(env, "auto") != 0) {
        if (!strcasecmp(env, "direct"))
            want = FP_CLOCKCTL_DIRECT;
        else if (!strcasecmp(env, "service"))
            want = FP_CLOCKCTL_SERVICE;
        else
            return fp_error_set(err, FP_ERR_INVALID,
                                "FREQPILOT_CLOCK_CONTROL=%s: expected auto, direct or service",
                                env);
    }
    if (be->simulated) {
        if (want == FP_CLOCKCTL_SERVICE)
            return fp_error_set(err, FP_ERR_INVALID,
                                "FREQPILOT_CLOCK_CONTROL=service: the %s backend lives in this "
                                "process, freqpilotd cannot control it",
                                be->name);
        *via = FP_CLOCKCTL_DIRECT; /* in-process: nothing to say */
        return FP_OK;
    }
    if (want == FP_CLOCKCTL_DIRECT) {
        *via = FP_CLOCKCTL_DIRECT;
        snprintf(desc, desc_size,
                 "clock control directly through %s (FREQPILOT_CLOCK_CONTROL=direct)", be->name);
    } else if (want == FP_CLOCKCTL_SERVICE) {
        *via = FP_CLOCKCTL_SERVICE;
        snprintf(desc, desc_size,
                 "clock control through freqpilotd at %s (FREQPILOT_CLOCK_CONTROL=service)",
                 socket);
    } else if (geteuid() == 0) {
        *via = FP_CLOCKCTL_DIRECT;
        snprintf(desc, desc_size, "clock control directly through %s (root)", be->name);
    } else {
        struct stat st;
        if (stat(socket, &st) == 0 && S_ISSOCK(st.st_mode)) {
            *via = FP_CLOCKCTL_SERVICE;
            snprintf(desc, desc_size, "clock control through freqpilotd at %s (not root)", socket);
        } else {
            *via = FP_CLOCKCTL_DIRECT;
            snprintf(desc, desc_size,
                     "clock control directly through %s (not root, and no freqpilotd at %s)",
                     be->name, socket);
        }
    }
    return FP_OK;
}

/* ---- direct: the clock guard ---- */

/* NVML refuses controls to users who are not root: say where the way round it is. */
static fp_status direct_hint(fp_status st, fp_error *err)
{
    if (st && err && geteuid() != 0 && strcasestr(err->msg, "permission")) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n,
                 "; users who are not root change clocks through freqpilotd "
                 "(docs/freqpilotd.md), which does not listen at %s",
                 fp_svc_socket_path());
    }
    return st;
}

static fp_status d_lock(fp_clockctl *c, unsigned lo, unsigned hi, int app, double *reached,
                        int *used_app, fp_error *err)
{
    return direct_hint(fp_clockguard_lock_ex(c->guard, lo, hi, app, reached, used_app, err), err);
}

static fp_status d_power(fp_clockctl *c, double watts, fp_error *err)
{
    return direct_hint(fp_clockguard_set_power_limit(c->guard, watts, err), err);
}

static fp_status d_restore(fp_clockctl *c, fp_error *err)
{
    return fp_clockguard_restore(c->guard, err);
}

static fp_status d_detach(fp_clockctl *c, char *where, size_t size, fp_error *err)
{
    if (where)
        snprintf(where, size, "state file %s; undo with 'freqpilot restore'",
                 fp_clockguard_path(c->guard));
    fp_clockguard_detach(c->guard);
    c->guard = NULL;
    (void)err;
    return FP_OK;
}

static void d_end(fp_clockctl *c)
{
    fp_clockguard_end(c->guard);
    c->guard = NULL;
}

static const clockctl_ops direct_ops = {d_lock, d_power, d_restore, d_detach, d_end};

/* ---- service: freqpilotd ---- */

static fp_status s_lock(fp_clockctl *c, unsigned lo, unsigned hi, int app, double *reached,
                        int *used_app, fp_error *err)
{
    return fp_svc_lock(c->svc, c->gpu_id, lo, hi, app, reached, used_app, NULL, err);
}

static fp_status s_power(fp_clockctl *c, double watts, fp_error *err)
{
    return fp_svc_power_limit(c->svc, c->gpu_id, watts, NULL, err);
}

static fp_status s_restore(fp_clockctl *c, fp_error *err)
{
    fp_status st = FP_OK;
    if (c->changed.locked || c->changed.app_clocks_set)
        st = fp_svc_reset(c->svc, c->gpu_id, NULL, err);
    if (!st && c->changed.power_limit_set)
        st = fp_svc_reset_power_limit(c->svc, c->gpu_id, NULL, err);
    return st;
}

static fp_status s_detach(fp_clockctl *c, char *where, size_t size, fp_error *err)
{
    fp_status st = fp_svc_detach(c->svc, c->gpu_id, NULL, err);
    if (!st && where)
        snprintf(where, size,
                 "freqpilotd (%s) keeps GPU %s as it is for user %s; undo with 'freqpilot restore'",
                 fp_svc_client_path(c->svc), c->gpu_id, fp_svc_client_user(c->svc));
    /* Closing: detached, the service keeps the lease; otherwise it restores. */
    fp_svc_close(c->svc);
    c->svc = NULL;
    return st;
}

static void s_end(fp_clockctl *c)
{
    /* release asks for the restore explicitly; closing alone would do it too. */
    fp_error e;
    fp_svc_release(c->svc, c->gpu_id, NULL, &e);
    fp_svc_close(c->svc);
    c->svc = NULL;
}

static const clockctl_ops service_ops = {s_lock, s_power, s_restore, s_detach, s_end};

/* ---- the interface ---- */

fp_status fp_clockctl_begin(fp_clockctl **out, const fp_gpu_backend *be, fp_gpu *gpu,
                            const fp_clockctl_opts *opts, fp_error *err)
{
    *out = NULL;
    fp_clockctl_opts none = {0};
    if (!opts)
        opts = &none;
    fp_clockctl_via via = opts->via;
    fp_status st;
    if (via == FP_CLOCKCTL_AUTO && (st = fp_clockctl_resolve(be, opts->socket, &via, NULL, 0, err)))
        return st;
    fp_clockctl *c = calloc(1, sizeof *c);
    if (!c)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    c->via = via;
    c->changed.power_limit_w = NAN;
    if (via == FP_CLOCKCTL_DIRECT) {
        c->ops = &direct_ops;
        if ((st = fp_clockguard_begin(&c->guard, be, gpu, &opts->guard, err))) {
            free(c);
            return st;
        }
        *out = c;
        return FP_OK;
    }
    c->ops = &service_ops;
    fp_gpu_info info;
    if ((st = be->info(gpu, &info, err))) {
        free(c);
        return st;
    }
    if (info.uuid[0])
        snprintf(c->gpu_id, sizeof c->gpu_id, "%s", info.uuid);
    else
        snprintf(c->gpu_id, sizeof c->gpu_id, "%u", info.index);
    if ((st = fp_svc_connect(&c->svc, opts->socket, 0, err)) ||
        (st = fp_svc_acquire(c->svc, c->gpu_id, NULL, err))) {
        fp_svc_close(c->svc);
        free(c);
        return st;
    }
    *out = c;
    return FP_OK;
}

fp_status fp_clockctl_lock_ex(fp_clockctl *c, unsigned min_mhz, unsigned max_mhz,
                              int allow_app_fallback, double *reached_mhz, int *used_app_clocks,
                              fp_error *err)
{
    int app = 0;
    fp_status st = c->ops->lock(c, min_mhz, max_mhz, allow_app_fallback, reached_mhz, &app, err);
    if (used_app_clocks)
        *used_app_clocks = app;
    if (!st && app) {
        c->changed.app_clocks_set = 1;
        c->changed.app_gr_mhz = max_mhz;
    } else if (!st) {
        c->changed.locked = 1;
        c->changed.locked_min_mhz = min_mhz;
        c->changed.locked_max_mhz = max_mhz;
    }
    return st;
}

fp_status fp_clockctl_lock(fp_clockctl *c, unsigned min_mhz, unsigned max_mhz, double *reached_mhz,
                           fp_error *err)
{
    return fp_clockctl_lock_ex(c, min_mhz, max_mhz, 0, reached_mhz, NULL, err);
}

fp_status fp_clockctl_set_power_limit(fp_clockctl *c, double watts, fp_error *err)
{
    fp_status st = c->ops->set_power_limit(c, watts, err);
    if (!st) {
        c->changed.power_limit_set = 1;
        c->changed.power_limit_w = watts;
    }
    return st;
}

fp_status fp_clockctl_restore(fp_clockctl *c, fp_error *err)
{
    fp_status st = c->ops->restore(c, err);
    if (!st) {
        memset(&c->changed, 0, sizeof c->changed);
        c->changed.power_limit_w = NAN;
    }
    return st;
}

void fp_clockctl_end(fp_clockctl *c)
{
    if (!c)
        return;
    c->ops->end(c);
    free(c);
}

fp_status fp_clockctl_detach(fp_clockctl *c, char *where, size_t where_size, fp_error *err)
{
    fp_status st = c->ops->detach(c, where, where_size, err);
    free(c);
    return st;
}

int fp_clockctl_state_failed(const fp_clockctl *c)
{
    return c->guard ? fp_clockguard_state_failed(c->guard) : 0;
}

fp_clockctl_via fp_clockctl_path(const fp_clockctl *c)
{
    return c->via;
}

fp_clockguard *fp_clockctl_guard(const fp_clockctl *c)
{
    return c->guard;
}

void fp_clockctl_changes(const fp_clockctl *c, fp_gpu_clock_state *out)
{
    if (c->guard)
        fp_clockguard_changes(c->guard, out);
    else
        *out = c->changed;
}
