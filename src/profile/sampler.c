/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The sampler thread (sampler.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profile/sampler.h"
#include "util/grow.h"
#include "util/thread.h"

double fp_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

fp_status fp_sample_buf_push(fp_sample_buf *b, const fp_sample *s)
{
    if (FP_GROW(b->v, b->n, b->cap, 256))
        return FP_ERR_NOMEM;
    b->v[b->n++] = *s;
    return FP_OK;
}

void fp_sample_buf_free(fp_sample_buf *b)
{
    free(b->v);
    memset(b, 0, sizeof *b);
}

struct fp_sampler {
    const fp_gpu_backend *be;
    fp_gpu *gpu;
    double interval_s, t0;
    pthread_t thread;
    atomic_int stop;
    fp_sample_buf buf;
    fp_sampler_stats stats;
    int nomem;
    fp_error first_err;
    /* for the interval statistics */
    double last_t, sum_d, sum_d2;
    size_t n_d;
};

static void take(fp_sampler *s)
{
    fp_sample smp;
    fp_sample_clear(&smp);
    double t = fp_mono_now();
    fp_error err;
    if (s->be->sample(s->gpu, &smp, &err) != FP_OK) {
        if (!s->stats.errors)
            s->first_err = err;
        s->stats.errors++;
    }
    smp.v[FP_COL_T_S] = t - s->t0;
    if (s->buf.n) {
        double d = t - s->last_t;
        s->sum_d += d;
        s->sum_d2 += d * d;
        s->n_d++;
    }
    s->last_t = t;
    if (fp_sample_buf_push(&s->buf, &smp))
        s->nomem = 1;
    s->stats.samples++;
}

static struct timespec to_ts(double t)
{
    struct timespec ts;
    ts.tv_sec = (time_t)floor(t);
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void *sampler_main(void *arg)
{
    fp_sampler *s = arg;
    double start = fp_mono_now();
    double late_sum = 0;
    size_t late_n = 0;
    take(s);
    for (unsigned long k = 1; !atomic_load(&s->stop) && !s->nomem; k++) {
        double deadline = start + (double)k * s->interval_s;
        struct timespec ts = to_ts(deadline);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        if (atomic_load(&s->stop))
            break;
        double late = fp_mono_now() - deadline;
        late_sum += late;
        late_n++;
        if (late > s->stats.lateness_max_s)
            s->stats.lateness_max_s = late;
        take(s);
        /* An overrun (slow driver call) skips the deadlines already past, never bunches. */
        double now = fp_mono_now();
        unsigned long behind = (unsigned long)floor((now - start) / s->interval_s);
        if (behind > k) {
            s->stats.missed += behind - k;
            k = behind;
        }
    }
    take(s); /* the end of the run */
    s->stats.lateness_mean_s = late_n ? late_sum / (double)late_n : 0;
    struct timespec cpu;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
        s->stats.cpu_s = (double)cpu.tv_sec + cpu.tv_nsec * 1e-9;
    return NULL;
}

fp_status fp_sampler_start(fp_sampler **out, const fp_gpu_backend *be, fp_gpu *gpu,
                           double interval_s, double t0_mono, fp_error *err)
{
    *out = NULL;
    if (!(interval_s > 0))
        return fp_error_set(err, FP_ERR_INVALID, "sampling interval %g s: expected > 0",
                            interval_s);
    fp_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return fp_error_set(err, FP_ERR_NOMEM, "sampler: out of memory");
    s->be = be;
    s->gpu = gpu;
    s->interval_s = interval_s;
    s->t0 = t0_mono;
    atomic_init(&s->stop, 0);
    int rc = fp_thread_create(&s->thread, sampler_main, s);
    if (rc) {
        free(s);
        return fp_error_set(err, FP_ERR_IO, "sampler thread: %s", strerror(rc));
    }
    *out = s;
    return FP_OK;
}

fp_status fp_sampler_stop(fp_sampler *s, fp_sample_buf *samples, fp_sampler_stats *stats,
                          fp_error *err)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    fp_status st = FP_OK;
    if (s->nomem)
        st = fp_error_set(err, FP_ERR_NOMEM, "sampler: out of memory after %zu samples", s->buf.n);
    else if (s->stats.errors && s->stats.errors == s->stats.samples)
        st = fp_error_set(err, s->first_err.code ? s->first_err.code : FP_ERR_IO,
                          "every GPU sample failed: %s", s->first_err.msg);
    if (s->n_d > 1) {
        double m = s->sum_d / (double)s->n_d;
        double var = s->sum_d2 / (double)s->n_d - m * m;
        s->stats.interval_sd_s = var > 0 ? sqrt(var) : 0;
    }
    if (stats)
        *stats = s->stats;
    if (samples)
        *samples = s->buf;
    else
        fp_sample_buf_free(&s->buf);
    free(s);
    return st;
}
