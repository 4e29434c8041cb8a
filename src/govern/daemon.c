/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The governor's control loop on a real (or fake, or simulated) GPU: every interval a sample
 * through the backend, the phase detector, the policy, and a clock change through the
 * clockguard (write-ahead state file, read back) when the request differs from the last one.
 * Signals are only recorded by the clockguard's handler; the loop sees them at the next tick,
 * restores the clocks and returns the signal so the caller can re-raise it. An absolute-time
 * schedule keeps the period exact whatever a decision costs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/clockctl.h"
#include "freqpilot/clockguard.h"
#include "freqpilot/govern.h"
#include "freqpilot/sim.h"
#include "util/asuser.h"
#include "govern/govern_int.h"

void fp_daemon_opts_default(fp_daemon_opts *o)
{
    memset(o, 0, sizeof *o);
    o->backend = FP_GPU_BACKEND_DEFAULT;
    o->gpu = "0";
    o->policy = "phase";
    o->interval_s = 0.05;
}

static void logf_(const fp_daemon_opts *o, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(const fp_daemon_opts *o, int level, const char *fmt, ...)
{
    if (!o->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o->log(o->log_user, level, msg);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The last complete number written to the rate file (a FIFO or a regular file; rate.c). */
typedef struct rate_reader {
    int fd;
    gv_rate_reader lines;
} rate_reader;

static void rate_poll(rate_reader *r)
{
    char buf[4096];
    ssize_t n;
    if (r->fd < 0)
        return;
    while ((n = read(r->fd, buf, sizeof buf)) > 0)
        gv_rate_feed(&r->lines, buf, (size_t)n);
}

/* One scrape of the serving engine (src/govern/engine_scrape.c), half an interval at most;
 * a change between answering and not is logged once. */
static void engine_poll(const fp_daemon_opts *o, fp_engine_scraper *scr, fp_serving_signals *sig,
                        int *ok)
{
    char why[256] = "";
    int now = fp_engine_scraper_poll(scr, o->interval_s / 2, sig, why, sizeof why) == 0;
    if (!now && strstr(why, "first scrape")) /* expected: rates need two scrapes */
        return;
    if (now && *ok != 1)
        logf_(o, 2, "engine metrics: signals from %s", o->engine_metrics);
    else if (!now && *ok != 0)
        logf_(o, 1, "engine metrics %s: %s (default clocks until it answers)", o->engine_metrics,
              why);
    *ok = now;
}

/*
 * A clock change that failed after the first one (the state file could not be written, the
 * driver said no): the clock in force stays, the change is tried again every second, and
 * the log says so once per streak and then every 30 s. No client or full disk ends the
 * governor; a first change the driver refuses does (wrong GPU, no permission).
 */
typedef struct change_retry {
    double next_try_s, last_log_s;
    unsigned failures;
} change_retry;

#define RETRY_S 1.0
#define RETRY_LOG_S 30.0

fp_status fp_daemon_run(const fp_daemon_opts *o, int *caught_signal, fp_error *err)
{
    if (caught_signal)
        *caught_signal = 0;
    if (!(o->interval_s >= 0.02 && o->interval_s <= 1.0))
        return fp_error_set(err, FP_ERR_INVALID,
                            "daemon: interval %g s: expected 0.02..1 s (20..1000 ms)",
                            o->interval_s);
    const fp_gpu_backend *be =
        fp_gpu_backend_by_name(o->backend ? o->backend : FP_GPU_BACKEND_DEFAULT);
    if (!be)
        return fp_error_set(err, FP_ERR_INVALID, "daemon: unknown backend '%s' (%s)", o->backend,
                            fp_gpu_backend_names());
    fp_status st = be->init(err);
    if (st != FP_OK)
        return st;
    fp_gpu *gpu = NULL;
    fp_clockctl *guard = NULL;
    fp_metrics_server *ms = NULL;
    rate_reader rr = {.fd = -1};
    gv_rate_init(&rr.lines);
    fp_policy *pol = NULL;
    fp_engine_scraper *scr = NULL;
    int engine_ok = -1;
    int sim = be->simulated;
    int realtime = !sim || fp_sim_backend_config()->realtime;
    fp_gpu_info info;
    if ((st = be->open(o->gpu ? o->gpu : "0", &gpu, err)) != FP_OK)
        goto out;
    if ((st = be->info(gpu, &info, err)) != FP_OK)
        goto out;
    /*
     * The policy for this GPU's clocks: clocks in its settings outside the GPU's supported
     * range are an error here, before anything changes; the others are snapped to them.
     */
    if ((st = fp_policy_new(o->policy ? o->policy : "phase", &info, &pol, err)) != FP_OK ||
        (st = fp_policy_configure(pol, o->settings, err)) != FP_OK ||
        (st = fp_policy_start(pol, err)) != FP_OK)
        goto out;
    if (o->engine_metrics &&
        (st = fp_engine_scraper_new(o->engine_metrics, o->engine_map, &scr, err)) != FP_OK)
        goto out;
    /* Directly or through freqpilotd (freqpilot/clockctl.h). */
    fp_clockctl_opts go = {.guard = {.state_dir = o->state_dir,
                                     .force = o->force,
                                     .no_state_file = sim,
                                     .command = "freqpilot govern daemon"}};
    if ((st = fp_clockctl_begin(&guard, be, gpu, &go, err)) != FP_OK)
        goto out;
    if ((st = fp_clockguard_catch_signals(err)) != FP_OK)
        goto out;
    if (o->listen) {
        if ((st = fp_metrics_server_start(&ms, o->listen, err)) != FP_OK)
            goto out;
        logf_(o, 2, "metrics on http://%s/metrics (port %u)", o->listen,
              fp_metrics_server_port(ms));
    }
    if (o->rate_file) {
        /* Opened as the user behind sudo: root opens no path a user named (util/asuser.h). */
        const fp_invoker *who;
        fp_error e2;
        if ((st = fp_invoker_get(&who, err)) != FP_OK ||
            (st = fp_invoker_open(who, o->rate_file, O_RDONLY | O_NONBLOCK, 0, &rr.fd, &e2)) !=
                FP_OK) {
            if (rr.fd < 0 && st == FP_ERR_IO)
                fp_error_set(err, FP_ERR_IO, "%s (the rate file or FIFO)", e2.msg);
            goto out;
        }
    }
    char desc[512];
    fp_policy_describe(pol, desc, sizeof desc);
    logf_(o, 2, "governing GPU %u (%s), policy %s, every %.0f ms", info.index, info.name,
          fp_policy_name(pol), o->interval_s * 1000);
    if (desc[0])
        logf_(o, 2, "policy %s: %s", fp_policy_name(pol), desc);

    fp_phase_detector det;
    fp_phase_init(&det, NULL);
    fp_govern_metrics gm = {0};
    snprintf(gm.gpu_index, sizeof gm.gpu_index, "%u", info.index);
    snprintf(gm.gpu_uuid, sizeof gm.gpu_uuid, "%s", info.uuid);
    snprintf(gm.gpu_name, sizeof gm.gpu_name, "%s", info.name);
    gethostname(gm.hostname, sizeof gm.hostname - 1);
    double t0 = mono_s(), next = t0, last_t = NAN, idle_w = INFINITY, e0_mj = NAN;
    double sim_t = 0;
    unsigned requested = 0;
    int first = 1;
    change_retry retry = {0, -INFINITY, 0};
    for (;;) {
        int sig = fp_clockguard_pending_signal();
        if (sig) {
            logf_(o, 2, "signal %d: restoring the clocks", sig);
            if (caught_signal)
                *caught_signal = sig;
            break;
        }
        double t = realtime ? mono_s() - t0 : sim_t;
        if (o->duration_s > 0 && t >= o->duration_s)
            break;
        fp_sample s;
        fp_sample_clear(&s);
        if ((st = be->sample(gpu, &s, err)) != FP_OK)
            break;
        s.v[FP_COL_T_S] = t;
        int changed = fp_phase_update(&det, t, &s);
        rate_poll(&rr);
        fp_serving_signals esig;
        if (scr)
            engine_poll(o, scr, &esig, &engine_ok);
        fp_policy_input in = {t,  det.current,   changed || first,
                              &s, rr.lines.rate, scr ? &esig : NULL};
        first = 0;
        unsigned want = fp_policy_decide(pol, &in);
        gm.decisions++;
        if (changed)
            logf_(o, 2, "phase %s%s", fp_phase_name(det.current),
                  det.fallback ? " (utilisation only)" : "");
        if (want != requested && t >= retry.next_try_s) {
            double reached = NAN;
            fp_error cerr;
            fp_status cst = want ? fp_clockctl_lock(guard, want, want, &reached, &cerr)
                                 : fp_clockctl_restore(guard, &cerr);
            if (cst != FP_OK && !gm.clock_changes && !fp_clockctl_state_failed(guard)) {
                st = cst;
                *err = cerr;
                break;
            }
            if (cst != FP_OK) {
                retry.failures++;
                retry.next_try_s = t + RETRY_S;
                if (retry.failures == 1 || t - retry.last_log_s >= RETRY_LOG_S) {
                    logf_(o, 1,
                          "clock %u -> %u MHz failed (%u time(s)): %s; keeping %u MHz, "
                          "retrying every %.0f s",
                          requested, want, retry.failures, cerr.msg, requested, RETRY_S);
                    retry.last_log_s = t;
                }
            } else {
                if (retry.failures)
                    logf_(o, 2, "clock change works again after %u failure(s)", retry.failures);
                retry.failures = 0;
                retry.next_try_s = 0;
                logf_(o, 2, "clock %u -> %u MHz (phase %s, reached %.0f MHz)", requested, want,
                      fp_phase_name(det.current), reached);
                requested = want;
                gm.clock_changes++;
            }
        }
        /* Energy: the counter when present, else power integrated over the interval. */
        double p = s.v[FP_COL_POWER_W];
        double dt = isnan(last_t) ? 0 : t - last_t;
        last_t = t;
        if (!isnan(s.v[FP_COL_ENERGY_MJ])) {
            if (isnan(e0_mj))
                e0_mj = s.v[FP_COL_ENERGY_MJ];
            gm.energy_j = (s.v[FP_COL_ENERGY_MJ] - e0_mj) / 1000;
        } else if (!isnan(p)) {
            gm.energy_j += p * dt;
        }
        /*
         * Estimated energy at the default clocks: the power above the lowest power seen (a
         * proxy for idle) scaled by (f_max/f)^2 — dynamic power ~ f V^2 with V rising with f,
         * time ~ 1/f when compute-bound. A rough figure for dashboards, not a measurement.
         */
        double f = s.v[FP_COL_SM_CLOCK_MHZ];
        if (!isnan(p)) {
            if (p < idle_w)
                idle_w = p;
            double scale = f > 0 && info.max_clock_mhz ? info.max_clock_mhz / f : 1;
            gm.baseline_energy_j += (idle_w + (p - idle_w) * scale * scale) * dt;
        }
        gm.t_s = t;
        gm.requested_mhz = requested;
        gm.sm_clock_mhz = isnan(f) ? 0 : (unsigned)lround(f);
        gm.power_w = p;
        gm.phase = det.current;
        if (gm.baseline_energy_j < gm.energy_j)
            gm.baseline_energy_j = gm.energy_j;
        fp_metrics_server_update(ms, &gm);

        next += o->interval_s;
        if (realtime) {
            double now = mono_s();
            if (next < now) /* fell behind (suspend, slow NVML): do not try to catch up */
                next = now;
            struct timespec ts = {(time_t)next, (long)((next - (time_t)next) * 1e9)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
                   !fp_clockguard_pending_signal())
                ;
        } else {
            fp_gpu_sim_advance(gpu, o->interval_s);
            sim_t += o->interval_s;
        }
    }
out:
    fp_engine_scraper_free(scr);
    if (rr.fd >= 0)
        close(rr.fd);
    fp_metrics_server_stop(ms);
    if (guard) {
        fp_error rerr;
        fp_status rst = fp_clockctl_restore(guard, &rerr);
        if (rst != FP_OK) {
            if (st == FP_OK) {
                st = rst;
                if (err)
                    *err = rerr;
            } else {
                logf_(o, 1, "restoring the clocks: %s", rerr.msg);
            }
        } else {
            logf_(o, 2, "clocks restored");
        }
        fp_clockctl_end(guard);
    }
    fp_clockguard_release_signals();
    if (gpu)
        be->close(gpu);
    be->shutdown();
    fp_policy_free(pol);
    return st;
}
