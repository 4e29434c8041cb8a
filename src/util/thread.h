/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_UTIL_THREAD_H
#define FP_UTIL_THREAD_H

/*
 * Helper threads (samplers, the metrics server) must not take the signals the clock guard
 * catches (include/freqpilot/clockguard.h): those go to the main thread, whose handler
 * forwards them and, on a second signal, execs the restore. A thread inherits the signal
 * mask of the thread that creates it, so these are blocked around the creation.
 */

#include <pthread.h>
#include <signal.h>

static inline void fp_thread_block_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static inline void fp_thread_restore_signals(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static inline int fp_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t old;
    fp_thread_block_signals(&old);
    int rc = pthread_create(t, NULL, fn, arg);
    fp_thread_restore_signals(&old);
    return rc;
}

#endif
