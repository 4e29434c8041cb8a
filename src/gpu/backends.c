/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The GPU backend registry of gpu.h: every backend freqpilot can drive, in the order --help
 * lists them. A new backend is a file defining its fp_gpu_backend and one line in backends.def.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "freqpilot/gpu.h"

#define FP_BACKEND(n) const fp_gpu_backend *fp_gpu_backend_##n(void);
#include "gpu/backends.def"
#undef FP_BACKEND

static const fp_gpu_backend *(*const registry[])(void) = {
#define FP_BACKEND(n) fp_gpu_backend_##n,
#include "gpu/backends.def"
#undef FP_BACKEND
};
#define NBACKENDS (sizeof registry / sizeof registry[0])

size_t fp_gpu_backend_count(void)
{
    return NBACKENDS;
}

const fp_gpu_backend *fp_gpu_backend_at(size_t i)
{
    return i < NBACKENDS ? registry[i]() : NULL;
}

const fp_gpu_backend *fp_gpu_backend_by_name(const char *name)
{
    for (size_t i = 0; name && i < NBACKENDS; i++)
        if (strcasecmp(registry[i]()->name, name) == 0)
            return registry[i]();
    return NULL;
}

static char names[256];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void names_init(void)
{
    size_t k = 0;
    for (size_t i = 0; i < NBACKENDS && k < sizeof names; i++)
        k += (size_t)snprintf(names + k, sizeof names - k, "%s%s",
                              i == 0               ? ""
                              : i + 1 == NBACKENDS ? " or "
                                                   : ", ",
                              registry[i]()->name);
}

const char *fp_gpu_backend_names(void)
{
    pthread_once(&names_once, names_init);
    return names;
}
